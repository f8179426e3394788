# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validating sshd's configuration where sshd is not running, and finding out what runs it.

Where sshd is not running (an image being built, a container without systemd, a VM
template whose ssh.service is disabled) ``sshd -t`` can fail although the
configuration is fine, because two things it checks come from the running system,
not from the configuration (measured with OpenSSH 8.4, 9.2 and 10.0 on Debian 11,
12 and 13; fixtures debianNN/sshd_placement/sshd_t_no_*.txt):

- the privilege separation directory ``/run/sshd``, which ssh.service creates when
  it starts (``RuntimeDirectory=sshd``, mode 0755) and removes when it stops:
  ``Missing privilege separation directory: /run/sshd`` (rc 255);
- at least one host key, which an image that generates them on first boot does not
  have: ``sshd: no hostkeys available -- exiting.`` (rc 1).

Configuration errors are reported before either (a syntax error with /run/sshd
missing prints only the syntax error), so a real error is never hidden by them.
:class:`SshdCheck` tells the two outcomes apart, provides what is missing for the
duration of the check (the directory as the unit would make it; a temporary host
key passed with ``-h``, never written to /etc/ssh, since keys baked into an image
would be shared by every machine made from it), and removes it again.

:func:`service_manager` and :class:`LocalSystem` tell whether a service
manager runs this system's services at all (systemd, another init, none in a
container started with ``sleep infinity``, none in a chroot), so that the role
never starts a daemon that was not running.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

# (kind, pattern) for what sshd -t says when the running system, not the configuration, lacks something.
ENVIRONMENT_PROBLEMS = (
    ("privsep_dir", re.compile(r"^(?:fatal: )?Missing privilege separation directory: (?P<path>/[^\s]+)$")),
    ("host_keys", re.compile(r"^(?:sshd: )?no hostkeys available -- exiting\.?$")),
)
_TERMINATING = re.compile(r": terminating, \d+ bad configuration options?$")
_SAFE_DIR = re.compile(r"^/(?:[A-Za-z0-9._-]+/)*[A-Za-z0-9._-]+$")

# PID 1 names that are service managers (they start and stop daemons); any other PID 1
# (sleep, bash, tini, catatonit, dumb-init, an application) runs no services.
SERVICE_MANAGERS = ("systemd", "init", "openrc-init", "runit", "runit-init", "s6-svscan", "busybox")

NOT_RUNNING_MESSAGE = "sshd is not running: the new settings apply when it starts"


def classify_sshd_t(rc, text):
    """What an ``sshd -t`` (or ``-T``) run means.

    Returns ``{"valid": True | False | None, "environment": [{"kind", "path", "message"}],
    "messages": [the other lines]}``: True when sshd accepted the configuration, False when
    it names anything else (an error with file and line, an include loop, an unknown
    complaint: all treated as a configuration error, as before), None when every complaint
    is about the running system (see ENVIRONMENT_PROBLEMS).
    """
    environment = []
    messages = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or _TERMINATING.search(line):
            continue
        for kind, pattern in ENVIRONMENT_PROBLEMS:
            match = pattern.match(line)
            if match:
                environment.append({"kind": kind, "path": match.groupdict().get("path"), "message": line})
                break
        else:
            if len(messages) < 50:
                messages.append(line)
    if rc == 0:
        valid = True
    elif messages or not environment:
        valid = False
    else:
        valid = None
    return {"valid": valid, "environment": environment, "messages": messages}


class SshdCheck:
    """Runs ``sshd -t`` / ``sshd -T`` and, where they cannot run as the system is, provides
    what the service would provide, for the duration of the check only.

    ``files`` does the few file operations (``make_dir``, ``remove_dir``, ``scratch_dir``,
    ``remove_tree``); ``host`` runs commands. Call :meth:`cleanup` when done (always).
    """

    def __init__(self, host, files, sshd):
        self.host = host
        self.files = files
        self.sshd = sshd
        self.extra = []
        self.provided = []
        self._dirs = []
        self._scratch = []
        # sshd's PidFile (from sshd -T once known): an sshd that started meanwhile keeps its directory.
        self.pidfile = "/run/sshd.pid"

    def run(self, args, attempts=3):
        """``(CommandResult, classify_sshd_t(...))`` for ``sshd ARGS``, after providing what it missed."""
        res = classification = None
        for _attempt in range(attempts):
            res = self.host.run([self.sshd] + list(args) + self.extra)
            classification = classify_sshd_t(res.rc, (res.stdout or "") + "\n" + (res.stderr or ""))
            if classification["valid"] is not None:
                break
            # every problem is provided before the next try, not only the first one that can be
            provided = [self._provide(problem) for problem in classification["environment"]]
            if not any(provided):
                break
        return res, classification

    def is_scratch(self, path):
        """True for a path inside a scratch directory of this check (a temporary host key)."""
        return any(path.startswith(scratch.rstrip("/") + "/") for scratch in self._scratch)

    def _provide(self, problem):
        kinds = [p["kind"] for p in self.provided]
        if problem["kind"] in kinds:
            return False
        if problem["kind"] == "privsep_dir":
            path = problem["path"] or ""
            if not _SAFE_DIR.match(path) or "/../" in path + "/" or self.host.exists(path):
                return False
            try:
                self.files.make_dir(path, 0o755)
            except (IOError, OSError) as exc:
                self.host.note("could not create %s for sshd -t: %s" % (path, exc))
                return False
            self._dirs.append(path)
            self.provided.append({
                "kind": "privsep_dir", "missing": path, "message": problem["message"],
                "handled": "created %s (mode 0755) for sshd -t and sshd -T, as ssh.service's RuntimeDirectory= "
                           "does when sshd starts, and removed it again" % path,
            })
            return True
        if problem["kind"] == "host_keys":
            keygen = self.host.which("ssh-keygen")
            if not keygen:
                self.host.note("no host keys and no ssh-keygen: sshd -t cannot check the configuration here")
                return False
            try:
                scratch = self.files.scratch_dir()
            except (IOError, OSError) as exc:
                self.host.note("could not make a scratch directory for a temporary host key: %s" % exc)
                return False
            self._scratch.append(scratch)
            key = scratch.rstrip("/") + "/hostkey"
            made = self.host.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", "sshdoctor-validation", "-f", key])
            if made.rc != 0:
                self.host.note("ssh-keygen could not make a temporary host key (rc=%s)" % made.rc)
                return False
            self.extra += ["-h", key]
            self.provided.append({
                "kind": "host_keys", "missing": "host keys (none of the HostKey files exists)", "message": problem["message"],
                "handled": "checked with a temporary host key (sshd -h), deleted afterwards; no host key was "
                           "written (sshd or the first boot generates the real ones)",
            })
            return True
        return False

    def cleanup(self):
        """Remove what :meth:`run` provided. A directory is kept (and said so) when an sshd
        started meanwhile: the running service needs it."""
        for scratch in self._scratch:
            try:
                self.files.remove_tree(scratch)
            except (IOError, OSError) as exc:
                self.host.note("could not remove the scratch directory %s: %s" % (scratch, exc))
        self._scratch = []
        started = sshd_started(self.host, self.pidfile) if self._dirs else None
        for path in self._dirs:
            item = [p for p in self.provided if p.get("missing") == path][0]
            if started:
                item["handled"] = "created %s for sshd -t; kept, since an sshd (pid %s) started meanwhile" % (path, started)
                continue
            try:
                self.files.remove_dir(path)
            except (IOError, OSError) as exc:
                item["handled"] = "created %s for sshd -t; removing it again failed: %s" % (path, exc)
        self._dirs = []


def sshd_started(host, pidfile):
    """The pid in sshd's pid file when that process exists, else None."""
    text = host.read_text(pidfile, max_bytes=64) if pidfile else None
    pid = (text or "").strip()
    if re.match(r"^[0-9]{1,9}$", pid) and host.exists("/proc/%s" % pid):
        return int(pid)
    return None


def service_manager(facts):
    """``(manager, why)`` from :func:`read_service_facts`: manager is ``systemd``, ``none``
    or PID 1's name for another init."""
    if facts.get("chroot"):
        return "none", "this is a chroot: the service manager outside it does not run its services"
    comm = (facts.get("pid1") or "").strip()
    if not comm:
        return "none", "there is no process 1 to ask, /proc is not mounted: nothing runs services here"
    if facts.get("systemd_booted"):
        return "systemd", "systemd runs the services (/run/systemd/system exists)"
    if comm == "systemd":
        # systemd always makes /run/systemd/system in its own root: this is another root
        return "none", "process 1 is a systemd whose /run/systemd/system is not here: this is a chroot"
    if comm in SERVICE_MANAGERS:
        return comm, "process 1 is %s" % comm
    return "none", "process 1 is %s, not a service manager; a container started without an init" % comm


class LocalSystem:
    """The facts :func:`service_manager` needs, read on the managed host."""

    @staticmethod
    def facts():
        try:
            chroot = not os.path.samefile("/proc/1/root", "/")
        except (IOError, OSError):
            chroot = None  # /proc not mounted, or not allowed to look
        try:
            with open("/proc/1/comm", "rb") as handle:
                pid1 = handle.read(64).decode("utf-8", "replace").strip()
        except (IOError, OSError):
            pid1 = None
        return {"chroot": chroot, "pid1": pid1, "systemd_booted": os.path.isdir("/run/systemd/system")}
