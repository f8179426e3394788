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
import gzip
import os
import select
import subprocess
import tempfile
import time
import zlib

# Commands run in the C locale so that their output parses the same everywhere.
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}

# A read never returns more than this many bytes of one file or one command.
DEFAULT_MAX_BYTES = 8 * 1024 * 1024

# No single command may take longer than this (seconds).
DEFAULT_TIMEOUT = 120

# A streamed line longer than this is cut there (the rest of it is skipped, not held).
MAX_LINE_BYTES = 64 * 1024
_CHUNK = 1024 * 1024


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


class LineStream:
    """Lines of a command's output or of a file as they come, never the whole text in memory.

        stream = host.stream(["journalctl", ...], deadline=time.monotonic() + 30)
        for line in stream:
            ...
        stream.close()      # after the loop (or to stop early): rc, stderr, stopped are then set

    ``read_chunk(timeout)`` returns the next bytes, ``b""`` at the end, or None when
    nothing came within ``timeout`` seconds. The stream ends early, with
    ``stopped = "time_budget"``, when ``deadline`` (on ``clock``) passes; with
    ``stopped = "error"`` and ``error`` set when the source fails half-way (a
    corrupt compressed file). Lines are decoded as UTF-8 with bad bytes replaced;
    a line longer than ``max_line`` bytes is cut there (``lines_cut`` counts them).
    """

    def __init__(self, read_chunk, deadline=None, clock=time.monotonic, max_line=MAX_LINE_BYTES, finish=None):
        self._read_chunk = read_chunk
        self._deadline = deadline
        self._clock = clock
        self._max_line = max_line
        self._finish = finish
        self._closed = False
        self.rc = None
        self.stderr = ""
        self.stopped = None
        self.error = None
        self.missing = False
        self.bytes_read = 0
        self.lines_cut = 0
        self.at_end = False  # the source said end-of-file (rather than the reader stopping early)

    def __iter__(self):
        carry = b""
        skipping = False  # inside an over-long line, until its newline
        while True:
            timeout = None
            if self._deadline is not None:
                timeout = self._deadline - self._clock()
                if timeout <= 0:
                    self.stopped = "time_budget"
                    break
            try:
                chunk = self._read_chunk(timeout)
            except (IOError, OSError, EOFError, zlib.error) as exc:
                self.stopped, self.error = "error", str(exc) or type(exc).__name__
                break
            if chunk is None:
                self.stopped = "time_budget"
                break
            if not chunk:
                self.at_end = True
                break
            self.bytes_read += len(chunk)
            if skipping:
                newline = chunk.find(b"\n")
                if newline < 0:
                    continue
                chunk = chunk[newline:]
                skipping = False
            data = carry + chunk if carry else chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                if len(data) > self._max_line:
                    data = data[:self._max_line]
                    self.lines_cut += 1
                    skipping = True
                carry = data
                continue
            text = data[:cut].decode("utf-8", "replace")
            carry = data[cut + 1:]
            if len(carry) > self._max_line:
                carry = carry[:self._max_line]
                self.lines_cut += 1
                skipping = True
            yield from text.split("\n")
        if carry and self.stopped is None:
            yield carry.decode("utf-8", "replace")
        self.close()

    def close(self):
        """Stop reading (the command is killed if it still runs) and collect rc and stderr."""
        if not self._closed:
            self._closed = True
            if self._finish is not None:
                self._finish(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False


def _pipe_reader(fd):
    def read_chunk(timeout):
        if timeout is not None:
            ready = select.select([fd], [], [], max(timeout, 0))[0]
            if not ready:
                return None
        return os.read(fd, _CHUNK)
    return read_chunk


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
            process = subprocess.Popen(  # pylint: disable=ansible-bad-function  # a stream, bounded: run_command cannot
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

    def stream(self, argv, deadline=None, clock=time.monotonic):
        """Run ``argv`` like ``run`` but hand its stdout over line by line (a ``LineStream``).

        Nothing of the output is held beyond the line being read. The command is
        killed when ``deadline`` passes (``stopped = "time_budget"``) or when the
        caller closes the stream early; stderr goes to a temporary file (read,
        bounded, at the end) so that a chatty stderr cannot block the pipe.
        """
        tool = argv[0]
        path = tool if os.path.isabs(tool) else self.which(tool)
        if not path or not os.path.exists(path):
            stream = LineStream(lambda timeout: b"")
            stream.missing = True
            return stream
        command = [path] + [str(arg) for arg in argv[1:]]
        env = dict(os.environ)
        env.update(C_LOCALE)
        errors = tempfile.TemporaryFile()
        try:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors,  # pylint: disable=ansible-bad-function
                                       env=env, close_fds=True, bufsize=0)
        except (IOError, OSError) as exc:
            errors.close()
            self.note("cannot run %s: %s" % (tool, exc.strerror or exc))
            stream = LineStream(lambda timeout: b"")
            stream.missing = exc.errno == errno.ENOENT
            return stream
        limit = self.max_bytes

        def finish(stream):
            if process.poll() is None:
                if stream.at_end:  # the output ended: the command is about to exit
                    try:
                        process.wait(timeout=max(1.0, (deadline - clock()) if deadline is not None else DEFAULT_TIMEOUT))
                    except subprocess.TimeoutExpired:
                        stream.stopped = "time_budget"
                if process.poll() is None:
                    process.kill()
                    process.wait()
            process.stdout.close()
            stream.rc = process.returncode
            errors.seek(0)
            stream.stderr = _decode(errors.read(limit), limit)
            errors.close()

        return LineStream(_pipe_reader(process.stdout.fileno()), deadline=deadline, clock=clock, finish=finish)

    def stream_file(self, path, deadline=None, clock=time.monotonic):
        """A file's lines as a ``LineStream``; a ``.gz`` file (by name or by its magic bytes) is decompressed.

        A missing file gives an empty stream with ``missing`` set; an unreadable one
        an empty stream with ``error`` set and a note.
        """
        try:
            handle = open(path, "rb")
        except (IOError, OSError) as exc:
            stream = LineStream(lambda timeout: b"")
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                stream.missing = True
            else:
                stream.stopped = "error"
                stream.error = ("permission denied (run with become: true)" if exc.errno in (errno.EACCES, errno.EPERM)
                                else exc.strerror or str(exc))
                self.note("cannot read %s: %s" % (path, stream.error))
            return stream
        source = handle
        if path.endswith(".gz") or handle.read(2) == b"\x1f\x8b":
            handle.seek(0)
            source = gzip.GzipFile(fileobj=handle, mode="rb")
        else:
            handle.seek(0)

        def finish(stream):
            if source is not handle:
                source.close()
            handle.close()

        return LineStream(lambda timeout: source.read(_CHUNK), deadline=deadline, clock=clock, finish=finish)

    def mtime(self, path):
        """The file's modification time (epoch seconds), or None."""
        try:
            return os.stat(path).st_mtime
        except (IOError, OSError):
            return None

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
