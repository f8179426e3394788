# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one door between collectors and the managed host.

Collectors never call subprocess or open() themselves: they get a ``Host`` and
ask it to run a command, read a file or list a glob. The real ``Host`` wraps
an ``AnsibleModule`` (``LC_ALL=C``, argument lists, bounded reads, notes instead
of tracebacks); the unit tests hand collectors a fake with recorded output.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import glob
import os
import subprocess

# Commands run in the C locale so that their output parses the same everywhere.
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}

# A read never returns more than this many bytes of one file or one command.
DEFAULT_MAX_BYTES = 8 * 1024 * 1024

# No single command may take longer than this (seconds).
DEFAULT_TIMEOUT = 120


class CommandResult:
    """What one command gave back. ``missing`` is True when the tool is not installed."""

    def __init__(self, rc, stdout, stderr, missing=False):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.missing = missing

    @property
    def ok(self):
        return not self.missing and self.rc == 0

    def __repr__(self):
        return "CommandResult(rc=%r, missing=%r)" % (self.rc, self.missing)


def looks_like_permission_problem(text):
    """True when a command's error output says it lacked privileges."""
    lowered = (text or "").lower()
    return any(
        marker in lowered
        for marker in (
            "permission denied",
            "operation not permitted",
            "you must be root",
            "must be run as root",
            "insufficient permissions",
            "not permitted",
            "can't initialize iptables",
            "access denied",
        )
    )


class Host:
    """The real host, seen through an AnsibleModule."""

    def __init__(self, module, max_bytes=DEFAULT_MAX_BYTES):
        self.module = module
        self.max_bytes = max_bytes
        self.notes = []
        self._which_cache = {}

    # --- notes: what could not be read, said once and plainly -------------------
    def note(self, message):
        if message not in self.notes:
            self.notes.append(message)

    # --- commands ---------------------------------------------------------------
    def which(self, name, extra_dirs=("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/lib/openssh")):
        if name not in self._which_cache:
            self._which_cache[name] = self.module.get_bin_path(name, required=False, opt_dirs=list(extra_dirs))
        return self._which_cache[name]

    def run(self, argv, data=None, timeout=DEFAULT_TIMEOUT):
        """Run ``argv`` (a list, never a shell string) in the C locale.

        The first element may be a bare tool name; a tool that is not installed
        gives ``CommandResult(missing=True)`` rather than an exception. A command
        that outlives ``timeout`` seconds is killed and reported with rc None and
        a note, so one hung tool cannot hold up the whole collection run.

        ``communicate()`` rather than AnsibleModule.run_command: the latter grows
        its output buffer by concatenation (quadratic on a large journal) and can
        sleep a full second when the child exits between its two polls; both were
        measured by the benchmark (tests/performance/RESULTS.md).
        """
        tool = argv[0]
        path = tool if os.path.isabs(tool) else self.which(tool)
        if not path or not os.path.exists(path):
            return CommandResult(None, "", "", missing=True)
        command = [path] + [str(arg) for arg in argv[1:]]
        env = dict(os.environ)
        env.update(C_LOCALE)
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                close_fds=True,
            )
        except (IOError, OSError) as exc:
            self.note("cannot run %s: %s" % (tool, exc.strerror or exc))
            return CommandResult(None, "", "", missing=exc.errno == errno.ENOENT)
        try:
            out, err = process.communicate(_to_bytes(data), timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            self.note("%s did not finish within %s seconds and was stopped" % (" ".join(command[:3]), timeout))
            return CommandResult(None, _decode(out, self.max_bytes), _decode(err, self.max_bytes))
        return CommandResult(process.returncode, _decode(out, self.max_bytes), _decode(err, self.max_bytes))

    # --- files ------------------------------------------------------------------
    def read_text(self, path, max_bytes=None):
        """Return the file's text (undecodable bytes replaced), or None.

        A missing file is None with no note; an unreadable one is None with a note.
        """
        limit = max_bytes or self.max_bytes
        try:
            with open(path, "rb") as handle:
                data = _read_bounded(handle, limit)
        except (IOError, OSError) as exc:
            if exc.errno in (errno.EACCES, errno.EPERM):
                self.note("cannot read %s: permission denied (run with become: true)" % path)
            elif exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                self.note("cannot read %s: %s" % (path, exc.strerror))
            return None
        return data.decode("utf-8", errors="replace")

    def sqlite_rows(self, path, query, params=(), max_rows=1000):
        """Rows of a read-only query on an SQLite database file (bytes decoded), or None.

        The file is opened read-only (``mode=ro``), so nothing is created or locked for
        writing. A missing file is None with no note; an unreadable one is None with a note.
        """
        if not os.path.exists(path):
            return None
        if not os.access(path, os.R_OK):
            self.note("cannot read %s: permission denied (run with become: true)" % path)
            return None
        try:
            import sqlite3
        except ImportError:
            self.note("cannot read %s: this Python has no sqlite3 module" % path)
            return None
        try:
            connection = sqlite3.connect("file:%s?mode=ro" % path.replace("?", "%3f").replace("#", "%23"),
                                         uri=True, timeout=2)
            try:
                rows = connection.execute(query, params).fetchmany(max_rows)
            finally:
                connection.close()
        except sqlite3.Error as exc:
            self.note("cannot read %s: %s" % (path, exc))
            return None
        return [tuple(_decode(v, self.max_bytes) if isinstance(v, bytes) else v for v in row) for row in rows]

    def glob(self, pattern):
        """Paths matching ``pattern``, in the lexical order sshd and glob(3) use."""
        return sorted(glob.glob(pattern))

    def exists(self, path):
        return os.path.exists(path)

    def is_root(self):
        return os.geteuid() == 0


def _read_bounded(handle, limit, chunk=65536):
    """Read at most ``limit`` bytes in modest chunks.

    One large read() of a /proc/sys file makes the kernel allocate a buffer that
    size, which fails with ENOMEM; chunks keep such reads working.
    """
    parts = []
    remaining = limit
    while remaining > 0:
        part = handle.read(min(chunk, remaining))
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _to_bytes(data):
    if data is None or isinstance(data, bytes):
        return data
    return data.encode("utf-8")


def _decode(raw, limit):
    """Command output as text: capped, undecodable bytes replaced."""
    if not raw:
        return ""
    return raw[:limit].decode("utf-8", errors="replace")
