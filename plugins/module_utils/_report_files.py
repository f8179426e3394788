# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a diagnose run's files go: one directory per run, private by default, no link followed.

The report directory (``sshdoctor_report_dir``) holds one directory per run, named for the
run's UTC time, and ``latest``::

    sshdoctor-report/                   0700 when this collection creates it
      2026-12-02T140307Z/               a run: 0700, its files 0600 (``diagnose_report_mode``)
        report.json  report.md  report.html  report.junit.xml
        evidence/<host>.json
        redaction-map.json              with a redacted copy: original -> token, always 0600
        redacted/report.json ...  redacted/evidence/host-1.json
        .sshdoctor-run.json             written last: the run is complete; lists every file of it
      2026-12-02T140307Z-01/            a second run in the same second
      latest -> 2026-12-02T140307Z-01   (``latest.txt`` naming it where links cannot be made)

A run never changes or deletes another run's files. Pruning (``keep``) removes only
directories that are recognisably runs of this collection (the name, a real directory owned
by this user, a readable ``.sshdoctor-run.json``) and in them only the files that file lists;
a run holding anything else is left and said so.

Everything is created with its mode (``os.mkdir`` / ``os.open`` with the mode, ``O_EXCL``,
``O_NOFOLLOW``, relative to an open directory descriptor), so nothing is readable by others at
any moment, whatever the umask; where the umask took bits the mode asks for (a group mode under
umask 077) they are given back with ``fchmod`` on the open descriptor, never more than the mode.
A symbolic link at a run's path is refused.

Runs on the controller. No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import errno
import json
import os
import re
import stat
import time

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _junit
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _redact
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _report

MARKER = ".sshdoctor-run.json"
LATEST = "latest"
LATEST_TXT = "latest.txt"
EVIDENCE = "evidence"
REDACTED = "redacted"
REDACTION_MAP = "redaction-map.json"
MARKER_FORMAT = 1
DEFAULT_MODE = "0700"
RUN_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{6}Z)(?:-(\d{2}))?$")
MAX_SEQUENCE = 99
MAX_READ = 256 * 1024 * 1024  # bytes of one file read back for redaction
_SAFE_PART = re.compile(r"^[A-Za-z0-9._-]{1,200}$")

# Format -> (file name, renderer). The one table of report files (the redacted copy uses it too).
RENDERERS = {
    "json": ("report.json", _report.render_json),
    "md": ("report.md", _report.render_markdown),
    "html": ("report.html", _report.render_html),
    "junit": ("report.junit.xml", _junit.render_junit),  # and the threshold: see render()
}

_MARKER_KEYS = ("format", "generator", "run", "generated_at", "complete", "files", "dirs")
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class ReportFilesError(OSError):
    """The report cannot be written (or read back) safely; the message says why and what to do."""

    def __init__(self, code, message):
        OSError.__init__(self, message)
        self.errno = code


def render(fmt, report, junit_level="warning"):
    """``(file name, text)`` of ``report`` in ``fmt``; the JUnit file fails the hosts at or above ``junit_level``."""
    name, renderer = RENDERERS[fmt]
    return name, renderer(report, junit_level) if fmt == "junit" else renderer(report)


def parse_mode(value, option="diagnose_report_mode"):
    """``(directory mode, file mode)`` from an octal string: ``0700`` (the default), ``0750``, ``0640``...

    Directories get execute where they get read; files never get execute. The owner needs read and
    write. Raises ``ValueError`` naming ``option``.
    """
    text = DEFAULT_MODE if value is None else str(value).strip()
    if text.lower().startswith("0o"):
        text = text[2:]
    if not re.match(r"^0?[0-7]{3}$", text):
        raise ValueError("%s must be an octal mode such as '0700' or '0750' (quoted), not %r" % (option, value))
    bits = int(text, 8)
    if bits & 0o600 != 0o600:
        raise ValueError("%s %r must give the owner read and write (0600)" % (option, value))
    file_mode = bits & 0o666
    dir_mode = file_mode | ((file_mode & 0o444) >> 2)
    return dir_mode, file_mode


def run_name(epoch, sequence=0):
    """``2026-12-02T140307Z`` (``-01`` ... ``-99`` for more runs in the same second): sortable, no colon."""
    name = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime(int(epoch)))
    return name if not sequence else "%s-%02d" % (name, sequence)


def run_sort_key(name):
    match = RUN_NAME.match(name)
    return (match.group(1), int(match.group(2) or 0)) if match else (name, 0)


def epoch_of(generated_at):
    """Seconds since the epoch of a report's ``generated_at`` (``2026-12-02T14:03:07Z``); None if unreadable."""
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})", str(generated_at or ""))
    if not match:
        return None
    return calendar.timegm(tuple(int(g) for g in match.groups()) + (0, 0, 0))


def safe_name(name):
    """A file name for a host name: letters, digits, dot, dash, underscore."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip(".") or "host"
    return cleaned[:120]


def evidence_documents(inputs):
    """``[(file name, document)]``: one per host, everything it sent (names made unique)."""
    documents = []
    written = set()
    for name, data in sorted(inputs.items()):
        base = safe_name(name)
        while base + ".json" in written:
            base += "_"
        written.add(base + ".json")
        documents.append((base + ".json", {"host": name, "status": data.get("status"), "message": data.get("message"),
                                           "probe": data.get("probe"), "evidence": data.get("evidence")}))
    return documents


class AlreadyRedacted(_redact.RedactionError):
    """The run has its redacted copy already."""


def _json_text(data):
    return json.dumps(data, indent=2, default=str) + "\n"


def _fix_mode(fd, mode):
    """Give back bits the umask took (never more than ``mode``)."""
    if stat.S_IMODE(os.fstat(fd).st_mode) != mode:
        os.fchmod(fd, mode)


def _open_dir(name, dir_fd, what):
    try:
        return os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            raise ReportFilesError(exc.errno, "refusing %s %s: it is a symbolic link or not a directory" % (what, name))
        raise


def _check_parts(relative):
    parts = relative.split("/")
    if not parts or len(parts) > 3 or any(not _SAFE_PART.match(p) or p in (".", "..") for p in parts):
        raise ReportFilesError(errno.EINVAL, "unsafe path in a run: %r" % relative)
    return parts


class ReportDir(object):
    """The report directory, open by descriptor: makes runs, points ``latest``, prunes."""

    def __init__(self, path, dir_mode=0o700, file_mode=0o600, create=True):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.dir_mode, self.file_mode = dir_mode, file_mode
        self.notes = []
        if create and not os.path.lexists(self.path):
            self._create(self.path)
        if not os.path.isdir(self.path):
            raise ReportFilesError(errno.ENOTDIR, "%s %s" % (
                self.path, "is not a directory" if os.path.lexists(self.path) else "does not exist"))
        # The report directory is the user's choice: a link there is followed. Runs inside are not.
        self.fd = os.open(self.path, _DIR_FLAGS)
        info = os.fstat(self.fd)
        if info.st_mode & 0o002 and not info.st_mode & stat.S_ISVTX:
            self.notes.append("the report directory %s is writable by every user; the runs in it are still private "
                              "(%04o), but choose a directory of your own" % (self.path, self.dir_mode))

    def _create(self, path):
        missing = []
        while not os.path.lexists(path):
            missing.append(path)
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
        for directory in reversed(missing):
            try:
                os.mkdir(directory, self.dir_mode)
            except OSError as exc:
                if exc.errno != errno.EEXIST:
                    raise
                continue
            fd = _open_dir(directory, None, "the report directory")
            try:
                _fix_mode(fd, self.dir_mode)
            finally:
                os.close(fd)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- runs ------------------------------------------------------------------------------------

    def new_run(self, epoch):
        """A new, empty run directory for ``epoch`` (the next free ``-NN`` when that second is taken)."""
        for sequence in range(MAX_SEQUENCE + 1):
            name = run_name(epoch, sequence)
            try:
                os.mkdir(name, self.dir_mode, dir_fd=self.fd)
            except OSError as exc:
                if exc.errno != errno.EEXIST:
                    raise
                info = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode):
                    try:
                        target = os.readlink(name, dir_fd=self.fd)
                    except OSError:
                        target = "?"
                    raise ReportFilesError(errno.EEXIST, (
                        "refusing to write the run: %s is a symbolic link (to %s), not a run directory. Someone or "
                        "something put it there; nothing was written through it. Remove it, or choose another "
                        "sshdoctor_report_dir." % (os.path.join(self.path, name), target)))
                continue  # a run of the same second: the next number
            return Run(self, name, _open_dir(name, self.fd, "the run directory"), new=True)
        raise ReportFilesError(errno.EEXIST, "more than %d runs in the second %s under %s" % (
            MAX_SEQUENCE + 1, run_name(epoch), self.path))

    def open_run(self, name):
        """An existing run, by name, by ``latest``, or by its path under this directory."""
        name = str(name or LATEST).rstrip("/")
        if name in (LATEST, LATEST_TXT):
            found = self.latest()
            if found is None:
                raise ReportFilesError(errno.ENOENT, "%s has no latest run (no %s link or %s)" % (self.path, LATEST, LATEST_TXT))
            name = found
        elif os.sep in name:
            if os.path.dirname(os.path.abspath(name)) != self.path:
                raise ReportFilesError(errno.EINVAL, "%s is not a run directly under %s" % (name, self.path))
            name = os.path.basename(name)
        if not RUN_NAME.match(name):
            raise ReportFilesError(errno.EINVAL, "%r is not the name of a run (such as 2026-12-02T140307Z)" % name)
        run = Run(self, name, _open_dir(name, self.fd, "the run directory"), new=False)
        if run.manifest() is None:
            run.close()
            raise ReportFilesError(errno.ENOENT, "%s is not a complete run (no %s)" % (run.path, MARKER))
        return run

    def runs(self):
        """The names of the runs here, oldest first: real directories owned by this user with a readable marker."""
        names = []
        for name in os.listdir(self.fd):
            if not RUN_NAME.match(name):
                continue
            try:
                info = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
                continue
            try:
                run = Run(self, name, _open_dir(name, self.fd, "the run directory"), new=False)
            except OSError:
                continue
            try:
                if run.manifest() is not None:
                    names.append(name)
            finally:
                run.close()
        return sorted(names, key=run_sort_key)

    # --- latest ----------------------------------------------------------------------------------

    def latest(self):
        """The run ``latest`` (or ``latest.txt``) names, or None."""
        try:
            target = os.readlink(LATEST, dir_fd=self.fd)
        except OSError:
            target = None
        if target is None or not RUN_NAME.match(target):
            try:
                fd = os.open(LATEST_TXT, os.O_RDONLY | _NOFOLLOW, dir_fd=self.fd)
                with os.fdopen(fd, "r") as handle:
                    target = handle.read(200).strip()
            except (IOError, OSError):
                return None
        return target if RUN_NAME.match(target or "") else None

    def set_latest(self, name):
        """Point ``latest`` at run ``name``: a relative symbolic link, replaced atomically; where links
        cannot be made, or ``latest`` is something else, ``latest.txt``. Returns the path written."""
        path = None
        temp = ".latest.%d.%s" % (os.getpid(), os.urandom(4).hex())
        try:
            os.symlink(name, temp, dir_fd=self.fd)
        except OSError as exc:
            self.notes.append("no symbolic link here (%s): %s names the latest run" % (exc.strerror, LATEST_TXT))
        else:
            try:
                info = os.stat(LATEST, dir_fd=self.fd, follow_symlinks=False)
            except OSError:
                info = None
            if info is not None and not stat.S_ISLNK(info.st_mode):
                os.unlink(temp, dir_fd=self.fd)
                self.notes.append("%s is not a link this collection made: left alone; %s names the latest run" % (
                    os.path.join(self.path, LATEST), LATEST_TXT))
            else:
                os.replace(temp, LATEST, src_dir_fd=self.fd, dst_dir_fd=self.fd)
                path = os.path.join(self.path, LATEST)
        if path is None or os.path.lexists(os.path.join(self.path, LATEST_TXT)):
            text_path = self._replace_file(LATEST_TXT, name + "\n")
            path = path or text_path
        return path

    def _replace_file(self, target, text):
        temp = ".%s.%d.%s" % (target, os.getpid(), os.urandom(4).hex())
        _write_new(self.fd, temp, text, self.file_mode)
        os.replace(temp, target, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        return os.path.join(self.path, target)

    # --- pruning ---------------------------------------------------------------------------------

    def prune(self, keep, protect=()):
        """Remove the oldest runs beyond ``keep`` (0: keep all). Returns ``(removed paths, notes)``."""
        if not keep:
            return [], []
        runs = self.runs()
        removed, notes = [], []
        for name in runs[:max(0, len(runs) - keep)]:
            if name in protect:
                continue
            note = self._remove_run(name)
            if note:
                notes.append(note)
            else:
                removed.append(os.path.join(self.path, name))
        return removed, notes

    def _remove_run(self, name):
        run = Run(self, name, _open_dir(name, self.fd, "the run directory"), new=False)
        try:
            manifest = run.manifest()
            if manifest is None:
                return "%s was not removed: it has no readable %s" % (run.path, MARKER)
            files = [f for f in manifest.get("files") or [] if isinstance(f, str)]
            dirs = [d for d in manifest.get("dirs") or [] if isinstance(d, str)]
            for relative in files + dirs:
                _check_parts(relative)
            known = set(files) | set(dirs) | {MARKER}
            foreign = [p for p in run.walk() if p not in known]
            if foreign:
                return "%s was not removed: it holds files this collection did not write (%s)" % (
                    run.path, ", ".join(sorted(foreign)[:5]))
            for relative in files:
                run.unlink(relative)
            for relative in sorted(dirs, key=lambda d: -d.count("/")):
                run.rmdir(relative)
            run.unlink(MARKER)
        finally:
            run.close()
        os.rmdir(name, dir_fd=self.fd)
        return None


def _write_new(dir_fd, name, text, mode):
    """Create ``name`` (never an existing file, never through a link) with ``mode`` and write ``text``."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0), mode, dir_fd=dir_fd)
    try:
        _fix_mode(fd, mode)
        data = text.encode("utf-8") if not isinstance(text, bytes) else text
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


class Run(object):
    """One run directory, open by descriptor. Paths are relative to it (``evidence/web1.json``)."""

    def __init__(self, parent, name, fd, new):
        self.parent, self.name, self.fd = parent, name, fd
        self.path = os.path.join(parent.path, name)
        info = os.fstat(fd)
        if info.st_uid != os.geteuid():
            os.close(fd)
            raise ReportFilesError(errno.EPERM, "%s belongs to another user" % self.path)
        if new:
            _fix_mode(fd, parent.dir_mode)
            self.dir_mode, self.file_mode = parent.dir_mode, parent.file_mode
        else:
            # an existing run keeps its own mode for what is added to it
            self.dir_mode = stat.S_IMODE(info.st_mode)
            self.file_mode = self.dir_mode & 0o666
        self.files, self.dirs = [], []
        self._subdirs = {}
        self._extra = {}
        if not new:
            manifest = self.manifest() or {}
            self.files = [f for f in manifest.get("files") or [] if isinstance(f, str)]
            self.dirs = [d for d in manifest.get("dirs") or [] if isinstance(d, str)]
            # what the writer recorded besides (junit_level, redacted) stays when the marker is written again
            self._extra = dict((k, v) for k, v in manifest.items() if k not in _MARKER_KEYS)

    def close(self):
        for fd in self._subdirs.values():
            os.close(fd)
        self._subdirs = {}
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def _dir_fd(self, parts, create=False):
        fd = self.fd
        for index in range(len(parts)):
            relative = "/".join(parts[:index + 1])
            if relative not in self._subdirs:
                if create:
                    try:
                        os.mkdir(parts[index], self.dir_mode, dir_fd=fd)
                    except OSError as exc:
                        if exc.errno != errno.EEXIST:
                            raise
                    else:
                        self.dirs.append(relative)
                self._subdirs[relative] = _open_dir(parts[index], fd, "the directory")
                if create:
                    _fix_mode(self._subdirs[relative], self.dir_mode)
            fd = self._subdirs[relative]
        return fd

    def abspath(self, relative):
        return os.path.join(self.path, *relative.split("/"))

    def exists(self, relative):
        parts = _check_parts(relative)
        try:
            os.stat(parts[-1], dir_fd=self._dir_fd(parts[:-1]), follow_symlinks=False)
        except OSError:
            return False
        return True

    def write(self, relative, text, mode=None):
        """A new file of this run (its directories made as needed); returns its absolute path."""
        parts = _check_parts(relative)
        _write_new(self._dir_fd(parts[:-1], create=True), parts[-1], text, self.file_mode if mode is None else mode)
        self.files.append(relative)
        return self.abspath(relative)

    def read(self, relative):
        parts = _check_parts(relative)
        fd = os.open(parts[-1], os.O_RDONLY | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=self._dir_fd(parts[:-1]))
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_READ + 1)
        if len(data) > MAX_READ:
            raise ReportFilesError(errno.EFBIG, "%s is larger than %d bytes" % (self.abspath(relative), MAX_READ))
        return data.decode("utf-8", "replace")

    def listdir(self, relative):
        try:
            return sorted(os.listdir(self._dir_fd(_check_parts(relative))))
        except OSError:
            return []

    def walk(self):
        """Every entry under the run, as relative paths (links not followed)."""
        found = []
        stack = [[]]
        while stack:
            parts = stack.pop()
            fd = self._dir_fd(parts) if parts else self.fd
            for entry in os.listdir(fd):
                relative = "/".join(parts + [entry])
                found.append(relative)
                info = os.stat(entry, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode) and len(parts) < 3 and _SAFE_PART.match(entry):
                    stack.append(parts + [entry])
        return found

    def unlink(self, relative):
        parts = _check_parts(relative)
        try:
            os.unlink(parts[-1], dir_fd=self._dir_fd(parts[:-1]))
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise

    def rmdir(self, relative):
        parts = _check_parts(relative)
        fd = self._subdirs.pop(relative, None)
        if fd is not None:
            os.close(fd)
        os.rmdir(parts[-1], dir_fd=self._dir_fd(parts[:-1]))

    def manifest(self):
        try:
            data = json.loads(self.read(MARKER))
        except (IOError, OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("complete") is True else None

    def finish(self, generated_at, generator, **extra):
        """Write (or replace) the marker: the run is complete, and these are its files."""
        manifest = {"format": MARKER_FORMAT, "generator": generator, "run": self.name, "generated_at": generated_at,
                    "complete": True, "files": sorted(set(self.files)), "dirs": sorted(set(self.dirs))}
        manifest.update(self._extra)
        manifest.update(extra)
        temp = ".%s.%d.%s" % (MARKER, os.getpid(), os.urandom(4).hex())
        _write_new(self.fd, temp, _json_text(manifest), self.file_mode)
        os.replace(temp, MARKER, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        return manifest


# --- what a run holds ----------------------------------------------------------------------------------


def write_report(run, report, documents, formats, junit_level="warning"):
    """report.<format> for each of ``formats`` (in RENDERERS' order) and ``evidence/<host>.json`` for
    each of ``documents`` (None: no evidence files). Returns ``(files, evidence directory or None)``."""
    files = []
    for fmt in RENDERERS:
        if fmt in formats:
            files.append(run.write(*render(fmt, report, junit_level)))
    if documents is None:
        return files, None
    for name, document in documents:
        run.write("%s/%s" % (EVIDENCE, name), _json_text(document))
    if not documents:
        run._dir_fd([EVIDENCE], create=True)
    return files, run.abspath(EVIDENCE)


def write_redacted(run, report, documents, formats, keywords=(), domains=(), junit_level="warning"):
    """``redacted/``: the report re-rendered from redacted data, the evidence documents redacted, and the
    private ``redaction-map.json`` beside it (0600). Refuses (``RedactionError``) to write a copy in
    which anything of the mapping, or any address, can still be found.

    Returns ``{"redacted_dir", "redacted_files", "redaction_map", "redaction_counts"}``.
    """
    if run.exists(REDACTED) or run.exists(REDACTION_MAP):
        raise AlreadyRedacted("%s already has a redacted copy (%s); remove it and %s to make a new one" % (
            run.path, run.abspath(REDACTED), run.abspath(REDACTION_MAP)))
    redactor = _redact.Redactor(hosts=sorted((report.get("hosts") or {}).keys()), domains=domains, keywords=keywords)
    redactor.learn_report(report)
    for _name, document in documents or []:
        redactor.learn_evidence(document)
    redactor.freeze()
    clean_report = redactor.redact(report)
    outputs = []
    for fmt in RENDERERS:
        if fmt in formats:
            name, text = render(fmt, clean_report, junit_level)
            outputs.append(("%s/%s" % (REDACTED, name), fmt, redactor.scrub(text)))
    for _name, document in documents or []:
        clean = redactor.redact(document)
        host = clean.get("host") if isinstance(clean, dict) and isinstance(clean.get("host"), str) else _name
        outputs.append(("%s/%s/%s" % (REDACTED, EVIDENCE, safe_name(host) + ".json"), "json", _json_text(clean)))
    problems = _redact.leaks_in(redactor, clean_report)
    for relative, fmt, text in outputs:
        problems += [(relative,) + leak for leak in redactor.leaks(text, fmt=fmt)]
    if problems:
        raise _redact.RedactionError("the redacted copy would still hold %d original value(s) (first: %s); it was "
                                     "not written" % (len(problems), ", ".join(str(p[-2]) for p in problems[:3])))
    written = []
    seen = set()
    for relative, _fmt, text in outputs:
        while relative in seen:
            relative = relative[:-len(".json")] + "_.json"
        seen.add(relative)
        written.append(run.write(relative, text))
    mapping = redactor.mapping()
    map_path = run.write(REDACTION_MAP, _json_text({
        "run": run.name, "generated_at": report.get("generated_at"),
        "private": "original -> token for %s; keep this file to yourself: it undoes the redaction" % run.abspath(REDACTED),
        "mapping": mapping}), mode=0o600)
    return {"redacted_dir": run.abspath(REDACTED), "redacted_files": written, "redaction_map": map_path,
            "redaction_counts": dict((section, len(values)) for section, values in mapping.items())}


def read_run(run):
    """``(report, documents, formats, junit_level)`` of a complete run, for a redacted copy made later."""
    try:
        report = json.loads(run.read(RENDERERS["json"][0]))
    except (IOError, OSError, ValueError) as exc:
        raise ReportFilesError(errno.ENOENT, "%s has no readable %s: %s" % (run.path, RENDERERS["json"][0], exc))
    formats = [fmt for fmt in RENDERERS if run.exists(RENDERERS[fmt][0])]
    documents = None
    if run.exists(EVIDENCE):
        documents = []
        for name in run.listdir(EVIDENCE):
            if name.endswith(".json") and _SAFE_PART.match(name):
                try:
                    documents.append((name, json.loads(run.read("%s/%s" % (EVIDENCE, name)))))
                except ValueError as exc:
                    raise ReportFilesError(errno.EINVAL, "%s is not JSON: %s" % (run.abspath("%s/%s" % (EVIDENCE, name)), exc))
    junit_level = (run.manifest() or {}).get("junit_level")
    return report, documents, formats, junit_level if junit_level in _junit.FAIL_ON else "warning"
