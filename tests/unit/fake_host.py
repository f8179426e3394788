# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A recorded host for collector tests: commands and files are data.

    host = FakeHost(
        commands={("sshd", "-T"): (0, read_fixture("debian12/sshd_T.txt"), "")},
        files={"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\n"},
        tools={"sshd": "/usr/sbin/sshd"},
    )

A command whose tool is not in ``tools`` is "not installed"; a command not in
``commands`` fails the test loudly, so every call a collector makes is listed.
``stream`` and ``stream_file`` hand the same recorded text over line by line (as
the real ``Host`` does); ``budget_lines=N`` makes every stream end after N lines
as if the time budget ran out. A file's value may be bytes (a real ``.gz``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import gzip
import io
import json
import os

from ansible_collections.sshdoctor.connreset.plugins.module_utils._host import CommandResult, LineStream

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def read_fixture(relative_path):
    with open(os.path.join(FIXTURES, relative_path), "rb") as handle:
        return handle.read().decode("utf-8", errors="replace")


def recorded_host(relative_dir, **changes):
    """A FakeHost that replays what tests/unit/record_host.py recorded on a real host.

    ``changes`` override parts of the recording (``root=False``, ``tools={...}``) for the
    variations a test needs; the recorded outputs themselves are never edited.
    Returns ``(host, manifest)``; commands given stdin are keyed by argv alone.
    """
    base = os.path.join(FIXTURES, relative_dir)
    with open(os.path.join(base, "manifest.json")) as handle:
        manifest = json.load(handle)

    def text(name):
        return read_fixture(os.path.join(relative_dir, name)) if name else ""

    commands = {}
    for entry in manifest["commands"]:
        commands[tuple(entry["argv"])] = (entry["rc"], text(entry["stdout"]), text(entry["stderr"]))
    databases = {}
    for path, name in manifest["databases"].items():
        databases[path] = json.loads(text(name)) if name else None
    kwargs = {
        "commands": commands,
        "files": dict((path, text(name)) for path, name in manifest["files"].items()),
        "tools": dict((k, v) for k, v in manifest["tools"].items() if v),
        "root": manifest.get("root", True),
        "unreadable": manifest["unreadable"],
        "databases": databases,
        "present": manifest["exists"],
        "globs": manifest["globs"],
    }
    kwargs.update(changes)
    return FakeHost(**kwargs), manifest


class FakeHost:
    def __init__(self, commands=None, files=None, tools=None, root=True, unreadable=(), mtimes=None, budget_lines=None,
                 databases=None, present=(), globs=None):
        self.commands = {tuple(k): v for k, v in (commands or {}).items()}
        # path -> the rows a query returns (recorded from the real database), or None for unreadable.
        self.databases = dict(databases or {})
        # Paths that exist without being readable here, and recorded glob answers.
        self.present = set(present)
        self.globs = dict(globs or {})
        self.files = dict(files or {})
        self.tools = dict(tools or {})
        self.root = root
        self.unreadable = set(unreadable)
        self.mtimes = dict(mtimes or {})
        self.budget_lines = budget_lines
        self.notes = []
        self.calls = []

    def note(self, message):
        if message not in self.notes:
            self.notes.append(message)

    def which(self, name, extra_dirs=()):
        return self.tools.get(name)

    def run(self, argv, data=None, timeout=None):
        argv = tuple(argv)
        self.calls.append(argv)
        tool = argv[0]
        if not os.path.isabs(tool) and tool not in self.tools:
            return CommandResult(None, "", "", missing=True)
        if os.path.isabs(tool) and tool not in self.tools.values() and tool not in self.files:
            return CommandResult(None, "", "", missing=True)
        if argv not in self.commands:
            raise AssertionError("unexpected command %r; recorded: %r" % (argv, sorted(self.commands)))
        rc, out, err = self.commands[argv]
        return CommandResult(rc, out, err)

    def stream(self, argv, deadline=None, clock=None):
        argv = tuple(argv)
        result = self.run(argv)
        stream = self._stream(result.stdout.encode("utf-8") if not result.missing else b"")
        stream.missing = result.missing

        def finish(s):
            s.rc, s.stderr = result.rc, result.stderr
        stream._finish = finish
        return stream

    def stream_file(self, path, deadline=None, clock=None):
        self.calls.append(("stream_file", path))
        if path in self.unreadable:
            stream = LineStream(lambda timeout: b"")
            stream.stopped, stream.error = "error", "permission denied (run with become: true)"
            self.note("cannot read %s: %s" % (path, stream.error))
            return stream
        data = self.files.get(path)
        if data is None:
            stream = LineStream(lambda timeout: b"")
            stream.missing = True
            return stream
        if isinstance(data, bytes) and data[:2] == b"\x1f\x8b":
            data = gzip.GzipFile(fileobj=io.BytesIO(data)).read()
        return self._stream(data if isinstance(data, bytes) else data.encode("utf-8"))

    def _stream(self, data):
        lines = data.splitlines(True)
        stopped = self.budget_lines is not None and len(lines) > self.budget_lines
        if stopped:
            lines = lines[:self.budget_lines]
        chunks = iter(lines + [None if stopped else b""])
        return LineStream(lambda timeout: next(chunks))

    def mtime(self, path):
        return self.mtimes.get(path)

    def read_text(self, path, max_bytes=None):
        if path in self.unreadable:
            self.note("cannot read %s: permission denied (run with become: true)" % path)
            return None
        text = self.files.get(path)
        if text is not None and max_bytes:
            return text[:max_bytes]
        return text

    def sqlite_rows(self, path, query, params=(), max_rows=1000):
        if path not in self.databases:
            return None
        rows = self.databases[path]
        if rows is None:
            self.note("cannot read %s: permission denied (run with become: true)" % path)
            return None
        return [tuple(row) for row in rows][:max_rows]

    def glob(self, pattern):
        if pattern in self.globs:
            return list(self.globs[pattern])
        return sorted(p for p in self.files if fnmatch.fnmatchcase(p, pattern))

    def exists(self, path):
        return path in self.files or path in self.tools.values() or path in self.present

    def is_root(self):
        return self.root
