# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel OOM kills, current and previous boot, with sshd's own victims flagged.

``parse_kernel_log(text, ...)`` turns kernel log text into one event per victim.
It takes raw ``dmesg`` (``[  499.914018] msg``), ``dmesg -T`` and
``journalctl -k -o short-iso-precise`` (``2026-... host kernel: msg``) lines, and
the kernel formats of the last decade (the line formats live in ``_signatures``):

* 4.19+: ``oom-kill:constraint=...,task=NAME,pid=N,uid=N`` (key=value, any order) then
  ``Out of memory: Killed process N (NAME) total-vm:..kB, anon-rss:..kB, file-rss:..kB,
  shmem-rss:..kB, UID:N pgtables:..kB oom_score_adj:N`` (``Memory cgroup out of memory:``
  for a cgroup limit);
* older: ``Out of memory: Kill process N (NAME) score S or sacrifice child`` then
  ``Killed process N (NAME) total-vm:...``; memcg kills preceded by
  ``Task in /a killed as a result of limit of /b``.

``collect_oom(host, ...)`` reads ``dmesg`` (raw; times from /proc/stat's btime), or
``journalctl -k -b 0`` when dmesg is not permitted, and ``journalctl -k -b -1`` for
the previous boot (the ring buffer is small and does not survive a reboot).
Inside a container ``dmesg`` shows the HOST's kernel log (with the host's pids),
so events may belong to other containers; ``in_this_container`` says which are ours
when the cgroup paths tell.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible_collections.sshdoctor.connreset.plugins.module_utils._host_health import parse_btime
from ansible_collections.sshdoctor.connreset.plugins.module_utils._untrusted import MAX_EPOCH
from ansible_collections.sshdoctor.connreset.plugins.module_utils._signatures import (
    OOM_FIGURE,
    OOM_INVOKED,
    OOM_KILL_OLD,
    OOM_KILLED,
    OOM_PREFILTER,
    OOM_SUMMARY,
    OOM_TASK_IN,
    LINE_CAP,
    SSHD_PROCESS_NAMES,
)

DEFAULT_MAX_EVENTS = 50
MAX_LINE_CHARS = 512
MAX_CONTAINERS = 20
# journalctl -k prints at most this many matching lines per boot (the newest): the kernel-log read is bounded.
MAX_KERNEL_LINES = 20000
KERNEL_GREP = "Killed process|Kill process|oom-kill:|invoked oom-killer|killed as a result of limit"

# A victim's cgroup path, segment by segment: where it ran. Container runtimes name their cgroups
# (cgroupfs and systemd drivers): podman "libpod-ID" (".scope" under machine.slice with systemd),
# docker "docker-ID.scope" or "/docker/ID", containerd "cri-containerd-ID.scope" or "/containerd/...",
# CRI-O "crio-ID.scope", Kubernetes "kubepods...", LXC "lxc.payload.NAME" or "/lxc/NAME", systemd-nspawn
# "machine-NAME.scope". Real here: podman (cgroupfs); the others transcribed from the runtimes' docs.
_CONTAINER_SEGMENT = re.compile(
    r"^(?:(?P<podman>libpod-(?:conmon-)?)(?P<podman_id>[0-9a-f]{12,64})(?:\.scope)?"
    r"|(?P<docker>docker-)(?P<docker_id>[0-9a-f]{12,64})\.scope"
    r"|(?P<containerd>cri-containerd-)(?P<containerd_id>[0-9a-f]{12,64})\.scope"
    r"|(?P<crio>crio-(?:conmon-)?)(?P<crio_id>[0-9a-f]{12,64})\.scope"
    r"|(?P<nspawn>machine-)(?P<nspawn_id>[^/]{1,128})\.scope"
    r"|(?P<lxc>lxc\.payload\.)(?P<lxc_id>[^/]{1,128}))$"
)
_RUNTIME_DIRS = {"docker": "docker", "containerd": "containerd", "lxc": "lxc", "kubepods": "kubernetes"}
_SSHD_UNIT = re.compile(r"^(?:ssh|sshd)(?:@[^/]{0,200})?\.(?:service|socket)$")
_SESSION_SCOPE = re.compile(r"^session-[0-9a-zA-Z]{1,32}\.scope$")

_RAW_STAMP = re.compile(r"^\[\s*(?P<mono>\d+\.\d+)\]\s?")
_HUMAN_STAMP = re.compile(r"^\[(?P<human>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})\]\s?")
_JOURNAL_STAMP = re.compile(r"^(?P<iso>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:?\d{2}|Z)?) \S+ kernel: ")
_SYSLOG_STAMP = re.compile(r"^(?P<syslog>[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}) \S+ kernel: ")
_FIGURE_KEYS = {
    "total-vm": "total_vm_kb",
    "anon-rss": "anon_rss_kb",
    "file-rss": "file_rss_kb",
    "shmem-rss": "shmem_rss_kb",
    "pgtables": "pgtables_kb",
    "UID": "uid",
    "oom_score_adj": "oom_score_adj",
}


def _iso_utc(epoch):
    """ISO 8601 in UTC, or None for a moment no clock shows (a hostile stamp)."""
    if not 0 <= epoch <= MAX_EPOCH:  # also False for NaN and infinity
        return None
    seconds = int(epoch)
    micro = int(round((epoch - seconds) * 1000000))
    if micro >= 1000000:
        seconds, micro = seconds + 1, micro - 1000000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%06d+00:00" % micro


def split_stamp(line, boot_time=None):
    """(time, monotonic seconds, message) of one kernel log line; time is ISO 8601 or as printed."""
    m = _RAW_STAMP.match(line)
    if m:
        mono = float(m.group("mono"))
        if mono > MAX_EPOCH:  # 400 digits are infinity: no uptime, and no valid JSON either
            mono = None
        dated = boot_time is not None and mono is not None and abs(boot_time) <= MAX_EPOCH
        stamp = _iso_utc(boot_time + mono) if dated else None
        return stamp, mono, line[m.end():]
    m = _JOURNAL_STAMP.match(line)
    if m:
        iso = m.group("iso")
        if re.search(r"[+-]\d{4}$", iso):
            iso = iso[:-2] + ":" + iso[-2:]
        return iso, None, line[m.end():]
    m = _HUMAN_STAMP.match(line) or _SYSLOG_STAMP.match(line)
    if m:
        return m.group(1), None, line[m.end():]
    return None, None, line


def _key_values(text):
    fields = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def is_sshd_name(name):
    """True for sshd's own processes (the kernel's comm: sshd, sshd-session, sshd-auth)."""
    return (name or "") in SSHD_PROCESS_NAMES


def parse_kernel_log(text, boot_time=None, boot=0, source="dmesg"):
    """OOM-kill events in kernel log ``text``, oldest first. Never raises on odd input.

    ``boot_time``: epoch seconds of the boot (for raw dmesg stamps); ``boot``: the
    journalctl boot offset the text is from (0 current, -1 previous).
    """
    events = []
    summary = {}
    task_in = None
    invoker = None
    old_kill = None
    lines = text.splitlines() if isinstance(text, str) else (text or ())
    for raw in lines:
        if len(raw) > LINE_CAP:
            raw = raw[:LINE_CAP]  # every OOM line is shorter; a longer one is judged on its start
        if not OOM_PREFILTER.search(raw):
            continue
        stamp, mono, msg = split_stamp(raw, boot_time)
        at = msg.find(OOM_INVOKED)
        if at > 0 and msg[:at].strip():
            invoker = msg[:at].strip()[-64:]
            summary, task_in, old_kill = {}, None, None
            continue
        m = OOM_SUMMARY.search(msg)
        if m:
            summary = _key_values(m.group("fields"))
            continue
        m = OOM_TASK_IN.search(msg)
        if m:
            task_in = m.groupdict()
            continue
        m = OOM_KILL_OLD.search(msg)
        if m:
            old_kill = m.groupdict()
            continue
        m = OOM_KILLED.search(msg)
        if not m:
            continue
        pid = _int(m.group("pid"))
        name = m.group("name")
        figures = {}
        for fm in OOM_FIGURE.finditer(m.group("rest") or ""):
            key = _FIGURE_KEYS.get(fm.group("key"))
            if key:
                figures[key] = _int(fm.group("value"))
        prefix = m.group("prefix") or (old_kill or {}).get("prefix")
        if summary and _int(summary.get("pid")) not in (None, pid):
            summary = {}
        constraint = summary.get("constraint")
        if constraint is None and prefix == "Memory cgroup out of memory":
            constraint = "CONSTRAINT_MEMCG"
        if constraint is None and task_in is not None:
            constraint = "CONSTRAINT_MEMCG"
        memcg = constraint == "CONSTRAINT_MEMCG" or prefix == "Memory cgroup out of memory"
        task_memcg = summary.get("task_memcg") or (task_in or {}).get("task_memcg")
        oom_memcg = summary.get("oom_memcg") or (task_in or {}).get("oom_memcg")
        uid = figures.get("uid")
        if uid is None:
            uid = _int(m.group("uid_old"))
        if uid is None:
            uid = _int(summary.get("uid"))
        event = {
            "time": stamp,
            "monotonic": mono,
            "boot": boot,
            "pid": pid,
            "name": name,
            "uid": uid,
            "total_vm_kb": figures.get("total_vm_kb"),
            "anon_rss_kb": figures.get("anon_rss_kb"),
            "file_rss_kb": figures.get("file_rss_kb"),
            "shmem_rss_kb": figures.get("shmem_rss_kb"),
            "pgtables_kb": figures.get("pgtables_kb"),
            "oom_score_adj": figures.get("oom_score_adj"),
            "score": _int((old_kill or {}).get("score")) if old_kill and _int(old_kill.get("pid")) == pid else None,
            "constraint": constraint,
            "cgroup": {
                "kind": "memcg" if memcg else "global",
                "path": (oom_memcg if memcg else task_memcg) or task_memcg,
                "task_memcg": task_memcg,
            },
            "invoked_by": invoker,
            "is_sshd": is_sshd_name(name),
            "source": source,
            "line": raw[:MAX_LINE_CHARS],
        }
        events.append(event)
        summary, task_in, old_kill, invoker = {}, None, None, None
    return events


def cgroup_owner(path, own=None):
    """Where a victim ran, from its cgroup path: ``(owner, container)``.

    ``owner`` is ``sshd`` (sshd's unit: ``ssh.service``, ``sshd.service``, ``ssh@...service``),
    ``session`` (a login session's scope, where sshd's sessions run after login), ``container``
    (a container runtime's cgroup: podman, docker, containerd, CRI-O, Kubernetes, LXC, nspawn),
    ``other`` (any other cgroup), or None when the path is unknown or ``/``. ``container`` is
    ``{"runtime", "id", "cgroup"}`` for container victims. ``own`` is this host's own container
    cgroup when the collector runs in one: a path inside it is judged by what follows it.
    """
    if not path or path == "/":
        return None, None
    path = str(path)[:4096]
    if own and (path == own or path.startswith(own + "/")):
        path = path[len(own):]
        if not path:
            return None, None  # this container, no finer cgroup (systemd inside cannot make memory cgroups on v1)
    segments = [seg for seg in path.split("/") if seg]
    for index, seg in enumerate(segments):
        m = _CONTAINER_SEGMENT.match(seg)
        if m:
            runtime = next(k for k in ("podman", "docker", "containerd", "crio", "nspawn", "lxc") if m.group(k))
            return "container", {"runtime": runtime, "id": m.group(runtime + "_id"),
                                 "cgroup": "/" + "/".join(segments[:index + 1])}
        runtime = _RUNTIME_DIRS.get(seg) or ("kubernetes" if seg.startswith("kubepods") else None)
        if runtime:
            rest = segments[index + 1:]
            ident = rest[-1] if runtime != "kubernetes" and rest else ("/".join(rest) or seg)
            return "container", {"runtime": runtime, "id": ident[:128], "cgroup": "/" + "/".join(segments)}
    for seg in segments:
        if _SSHD_UNIT.match(seg):
            return "sshd", None
    if any(_SESSION_SCOPE.match(seg) for seg in segments):
        return "session", None
    return "other", None


def place_events(events, own=None):
    """Set each event's ``cgroup.owner``, ``container`` and ``counts_for_sshd`` (a victim of this host's sshd:
    an sshd process that ran in sshd's unit or a session scope, or whose cgroup is not known)."""
    for event in events:
        cgroup = event.get("cgroup") or {}
        owner, container = cgroup_owner(cgroup.get("task_memcg") or cgroup.get("path"), own)
        cgroup["owner"] = owner
        event["container"] = container
        event["counts_for_sshd"] = bool(event.get("is_sshd")) and owner in ("sshd", "session", None)
    return events


def container_summary(events):
    """Containers whose processes the OOM killer killed, most kills first (at most MAX_CONTAINERS)."""
    found = {}
    for event in events:
        container = event.get("container")
        if not container:
            continue
        key = (container["runtime"], container["id"])
        entry = found.setdefault(key, dict(container, kills=0, sshd_kills=0, names=[]))
        entry["kills"] += 1
        entry["sshd_kills"] += 1 if event.get("is_sshd") else 0
        if event.get("name") and event["name"] not in entry["names"] and len(entry["names"]) < 5:
            entry["names"].append(event["name"])
    return sorted(found.values(), key=lambda c: (-c["kills"], c["runtime"], c["id"]))[:MAX_CONTAINERS]


def container_cgroup(proc1_cgroup):
    """The cgroup path of PID 1 (memory controller on v1, the unified one on v2); None for ``/``."""
    path = None
    for line in (proc1_cgroup or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if "memory" in parts[1].split(",") or (parts[0] == "0" and parts[1] == "" and path is None):
            path = parts[2].strip()
            if "memory" in parts[1].split(","):
                break
    if path and path.endswith("/init.scope"):
        path = path[: -len("/init.scope")]
    return path if path and path != "/" else None


def _permission_problem(result):
    err = (result.stderr or "").lower()
    return "operation not permitted" in err or "permission denied" in err or "insufficient permissions" in err


def collect_oom(host, max_events=DEFAULT_MAX_EVENTS, previous_boot=True):
    """OOM kills of the current (and previous) boot. See the module's RETURN."""
    max_events = max(int(max_events), 0)
    result = {
        "source": None,
        "sources": [],
        "events": [],
        "sshd_victims": 0,
        "container_victims": 0,
        "containers": [],
        "in_container": False,
        "limits": {"max_events": max_events, "max_line_chars": MAX_LINE_CHARS},
        "truncated": False,
        "notes": [],
    }
    notes = result["notes"]
    container = None
    marker = host.read_text("/run/systemd/container")
    if marker or host.exists("/run/.containerenv") or host.exists("/.dockerenv"):
        result["in_container"] = True
        container = (marker or "").strip() or "container"
    events = []

    dmesg = host.run(["dmesg"])
    if dmesg.missing:
        notes.append("dmesg is not installed; reading the kernel log from journald")
    elif dmesg.rc != 0:
        if _permission_problem(dmesg):
            notes.append("dmesg is not permitted (kernel.dmesg_restrict=1 needs root or CAP_SYSLOG); "
                         "reading the kernel log from journald")
        else:
            notes.append("dmesg failed (rc=%s): %s" % (dmesg.rc, (dmesg.stderr or "").strip()[:200]))
    else:
        boot_time = parse_btime(host.read_text("/proc/stat"))
        if boot_time is None:
            notes.append("no btime in /proc/stat: dmesg times are given as seconds since boot only")
        events.extend(parse_kernel_log(dmesg.stdout, boot_time=boot_time, boot=0, source="dmesg"))
        result["source"] = "dmesg"
        result["sources"].append({"boot": 0, "source": "dmesg"})
        if container:
            notes.append("running in a container (%s): dmesg shows the host kernel's ring buffer, so events can "
                         "belong to the host or other containers and pids are the host's" % container)

    journal_boots = [-1] if previous_boot else []
    if result["source"] is None:
        journal_boots.insert(0, 0)
    if journal_boots and not host.which("journalctl"):
        notes.append("journalctl is not installed: %s" % (
            "no kernel log of the previous boot" if result["source"] else "no kernel log could be read"))
        journal_boots = []
    for boot in journal_boots:
        found = _journal_kernel(host, boot, notes)
        if found is None:
            continue
        if not found and boot == 0 and container:
            notes.append("journald in a container does not receive the kernel log")
        events.extend(found)
        result["sources"].append({"boot": boot, "source": "journald"})
        if boot == 0:
            result["source"] = "journald"

    ours = None
    if container and events:
        ours = container_cgroup(host.read_text("/proc/1/cgroup"))
        for event in events:
            paths = [p for p in (event["cgroup"].get("path"), event["cgroup"].get("task_memcg")) if p]
            event["in_this_container"] = (any(p == ours or p.startswith(ours + "/") for p in paths)
                                          if ours and paths else None)
    place_events(events, own=ours)
    if container and ours is None:
        # in a container whose own cgroup is unknown every other container's path looks foreign: say so
        for event in events:
            if event["cgroup"].get("owner") == "container":
                event["counts_for_sshd"] = False
    events.sort(key=lambda e: (e["boot"], e["monotonic"] if e["monotonic"] is not None else -1, e["time"] or ""))
    if len(events) > max_events:
        result["truncated"] = True
        notes.append("%d OOM kills found: only the newest %d are listed" % (len(events), max_events))
        events = events[-max_events:] if max_events else []
    result["events"] = events
    # Another container's victims (seen through the shared ring buffer, or on a host that runs containers) are
    # not this host's sshd's: they are counted apart, per container.
    foreign = [e for e in events if e["cgroup"].get("owner") == "container" and e.get("in_this_container") is not True]
    result["container_victims"] = len(foreign)
    result["containers"] = container_summary(foreign)
    if foreign:
        notes.append("%d OOM kill(s) were inside container cgroups (%s): counted apart, not as this host's sshd's"
                     % (len(foreign), ", ".join(sorted(set(e["container"]["runtime"] for e in foreign)))))
    foreign_ids = set(id(e) for e in foreign)
    result["sshd_victims"] = sum(1 for e in events if e["counts_for_sshd"] and e.get("in_this_container") is not False
                                 and id(e) not in foreign_ids)
    for note in getattr(host, "notes", []):
        if note not in notes:
            notes.append(note)
    return result


def _journal_kernel(host, boot, notes):
    """Events from ``journalctl -k -b BOOT`` (grep'd in journalctl when it can), or None on failure."""
    base = ["journalctl", "--no-pager", "-q", "-k", "-b", str(boot), "-o", "short-iso-precise", "-n", str(MAX_KERNEL_LINES)]
    res = host.run(base + ["-g", KERNEL_GREP])
    if res.rc not in (0, 1) or "pattern matching" in (res.stderr or "").lower():
        # journalctl built without PCRE2 (no --grep): read the boot's newest kernel lines, bounded.
        res = host.run(base)
    err = (res.stderr or "").strip()
    lowered = err.lower()
    if res.rc != 0 and ("no journal boot entry" in lowered or "specified boot" in lowered or "no such boot" in lowered):
        if boot == -1:
            notes.append("no previous boot in the journal: OOM kills before this boot are not known")
        else:
            notes.append("journalctl knows no current boot: %s" % err[:200])
        return None
    # rc 1 with --grep and no error text: nothing matched.
    if res.rc not in (0, 1) or (res.rc == 1 and err and not res.stdout.strip()):
        if _permission_problem(res):
            notes.append("journalctl cannot read the kernel log as this user; run with become: true")
        else:
            notes.append("journalctl -k -b %s failed (rc=%s): %s" % (boot, res.rc, err[:200]))
        return None
    if _permission_problem(res):
        notes.append("journalctl cannot read the whole journal as this user; run with become: true")
    return parse_kernel_log(res.stdout, boot=boot, source="journald")
