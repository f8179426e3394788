# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host health evidence: is the machine itself too loaded, too full or freshly rebooted?

Pure parsers for /proc/uptime, /proc/loadavg, /proc/meminfo, /proc/pressure/*,
/proc/stat (btime), ``df -P -k`` / ``df -P -i``, /sys/devices/system/cpu/online,
``systemctl show`` and ``journalctl --list-boots`` / ``last -x reboot``, plus
``collect_host_health(host)``. In a container, /proc/uptime, /proc/loadavg,
/proc/meminfo and PSI are the host kernel's: that is what the notes say when the
figures describe more than the container.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import math
import re

from ansible_collections.sshdoctor.connreset.plugins.module_utils._untrusted import Skipped, load_json, skip, to_int

DEFAULT_PATHS = ("/", "/var", "/var/log", "/run", "/tmp")
MAX_BOOTS = 10
PRESSURE_RESOURCES = ("cpu", "memory", "io")
UNIT_CANDIDATES = ("ssh.service", "sshd.service")
_UINT64_MAX = 18446744073709551615
# Reads of /proc and /sys ask for at most this much: /proc/sys handlers allocate the
# whole request up front and answer ENOMEM past the kernel's kmalloc limit (4 MiB on
# x86-64), which Host.read_text's 8 MiB default exceeds.
PROC_READ_MAX = 1 << 20


_FLOAT = re.compile(r"[+-]?[0-9]{1,32}(?:\.[0-9]{1,32})?\Z")


def _float(text):
    """ASCII ``12``, ``0.52`` -> float; anything else (``nan``, ``1e999``, Unicode digits) -> None."""
    if not isinstance(text, str) or not _FLOAT.match(text.strip()):
        return None
    value = float(text)
    return value if not (math.isinf(value) or math.isnan(value)) else None


def _int(text):
    return to_int(text)


def iso_from_epoch(seconds):
    if seconds is None:
        return None
    try:
        stamp = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds)
    except (OverflowError, ValueError, TypeError):
        return None
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + "+00:00"


# --------------------------------------------------------------------------- /proc
def parse_uptime(text):
    """/proc/uptime -> seconds since boot (float) or None."""
    fields = (text or "").split()
    return _float(fields[0]) if fields else None


def parse_loadavg(text):
    """/proc/loadavg -> {"1", "5", "15", runnable, threads} (None where missing)."""
    fields = (text or "").split()
    result = {"1": None, "5": None, "15": None, "runnable": None, "threads": None}
    for key, index in (("1", 0), ("5", 1), ("15", 2)):
        if len(fields) > index:
            result[key] = _float(fields[index])
    if len(fields) > 3 and "/" in fields[3]:
        running, total = fields[3].split("/", 1)
        result["runnable"], result["threads"] = _int(running), _int(total)
    return result


def parse_meminfo(text, skipped=None):
    """/proc/meminfo -> {Key: kB int}. ``skipped``: a list that gets ``(line number, why)`` of lines not understood."""
    values = {}
    for number_of_line, line in enumerate((text or "").splitlines(), 1):
        key, sep, rest = line.partition(":")
        number = _int((rest.split() or [""])[0]) if sep else None
        if number is None:
            skip(skipped, number_of_line, line, "not 'Key: number kB'")
            continue
        values[key.strip()] = number
    return values


def memory_summary(meminfo):
    total = meminfo.get("MemTotal")
    available = meminfo.get("MemAvailable")
    estimated = False
    if available is None and total is not None:
        # kernels before 3.14 have no MemAvailable
        available = sum(meminfo.get(k, 0) for k in ("MemFree", "Buffers", "Cached"))
        estimated = True
    swap_total, swap_free = meminfo.get("SwapTotal"), meminfo.get("SwapFree")
    return {
        "total_kb": total,
        "available_kb": available,
        "available_estimated": estimated,
        "used_pct": round(100.0 * (total - available) / total, 1) if total and available is not None else None,
        "swap_total_kb": swap_total,
        "swap_free_kb": swap_free,
        "swap_used_pct": round(100.0 * (swap_total - swap_free) / swap_total, 1)
        if swap_total and swap_free is not None else None,
        "commit_limit_kb": meminfo.get("CommitLimit"),
        "committed_as_kb": meminfo.get("Committed_AS"),
    }


def parse_pressure(text):
    """/proc/pressure/<resource> -> {"some": {avg10, avg60, avg300, total}, "full": {...} or None}."""
    result = {"some": None, "full": None}
    for line in (text or "").splitlines():
        fields = line.split()
        if not fields or fields[0] not in ("some", "full"):
            continue
        entry = {}
        for field in fields[1:]:
            key, sep, value = field.partition("=")
            if sep and key in ("avg10", "avg60", "avg300"):
                entry[key] = _float(value)
            elif sep and key == "total":
                entry[key] = _int(value)
        result[fields[0]] = entry
    return result


def parse_btime(text):
    """/proc/stat -> boot time (epoch seconds) or None."""
    match = re.search(r"^btime[ \t]+([0-9]+)[ \t]*$", text or "", re.M)
    return to_int(match.group(1)) if match else None


def parse_cpu_list(text):
    """/sys/devices/system/cpu/online ("0-3,6") -> number of CPUs, or None."""
    count = 0
    for part in (text or "").strip().split(","):
        part = part.strip()
        if not part:
            continue
        low, sep, high = part.partition("-")
        low_n, high_n = _int(low), _int(high) if sep else _int(low)
        if low_n is None or high_n is None or high_n < low_n:
            return None
        count += high_n - low_n + 1
    return count or None


def parse_cpuinfo_count(text):
    return len(re.findall(r"^processor\s*:", text or "", re.M)) or None


# --------------------------------------------------------------------------- df
def parse_df(text, paths=None, skipped=None):
    """``df -P -k`` or ``df -P -i`` output -> rows. With ``paths`` (the arguments,
    in order) each row also says which path asked for it, when df printed one row
    per path. ``skipped`` gets ``(line number, why)`` of the lines not understood."""
    lines = [(number, line) for number, line in enumerate((text or "").splitlines(), 1) if line.strip()]
    if not lines or not lines[0][1].startswith("Filesystem"):
        if lines:
            skip(skipped, lines[0][0], lines[0][1], "no 'Filesystem' header: nothing read")
        return []
    inodes = "Inodes" in lines[0][1]
    rows = []
    for number, line in lines[1:]:
        fields = line.split()
        if len(fields) < 6:
            skip(skipped, number, line, "fewer than 6 fields")
            continue
        # the mount point is everything from the sixth field on (it may hold spaces)
        mount = " ".join(fields[5:])
        size, used, free = _int(fields[1]), _int(fields[2]), _int(fields[3])
        pct = _int(fields[4].rstrip("%"))
        if inodes:
            rows.append({"filesystem": fields[0], "inodes": size, "inodes_used": used, "inodes_free": free,
                         "inodes_used_pct": pct, "mount": mount})
        else:
            rows.append({"filesystem": fields[0], "size_kb": size, "used_kb": used, "available_kb": free,
                         "used_pct": pct, "mount": mount})
    if paths is not None and len(rows) == len(paths):
        for row, path in zip(rows, paths):
            row["path"] = path
    return rows


def merge_filesystems(space_rows, inode_rows):
    """One entry per mount point: space figures with inode figures added, asked-for paths listed."""
    merged = []
    by_mount = {}
    for row in space_rows:
        mount = row["mount"]
        if mount not in by_mount:
            entry = dict((k, v) for k, v in row.items() if k != "path")
            entry["paths"] = []
            entry.update({"inodes": None, "inodes_used": None, "inodes_free": None, "inodes_used_pct": None})
            by_mount[mount] = entry
            merged.append(entry)
        if row.get("path") and row["path"] not in by_mount[mount]["paths"]:
            by_mount[mount]["paths"].append(row["path"])
    for row in inode_rows:
        entry = by_mount.get(row.get("mount"))
        # rows of a df -i whose header lacked "Inodes" were read as space figures: they have no inode keys
        if entry is not None and "inodes" in row:
            for key in ("inodes", "inodes_used", "inodes_free", "inodes_used_pct"):
                entry[key] = row.get(key)
    return merged


# --------------------------------------------------------------------------- systemd, boots
def _small_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and -(1 << 63) <= value < (1 << 64)


def _iso_from_usec(value):
    """Microseconds since the epoch (journalctl's JSON) -> ISO 8601, or None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        return None
    if not _small_int(value) and not isinstance(value, float):
        return None
    return iso_from_epoch(value / 1e6)


def parse_systemctl_show(text):
    values = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


def systemd_number(value):
    """A systemctl show number: int, or None for "[not set]", "infinity" and UINT64_MAX."""
    number = _int(value)
    if number is None or number == _UINT64_MAX:
        return None
    return number


_WEEKDAY_TIME = re.compile(r"^[A-Z][a-z]{2} (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) (\S+)$")


def _journal_time(text):
    """'Wed 2026-11-25 08:00:50 UTC' -> ISO 8601 when the zone is UTC, else the text as printed."""
    match = _WEEKDAY_TIME.match(text or "")
    if match and match.group(3) in ("UTC", "GMT"):
        return "%sT%s+00:00" % (match.group(1), match.group(2))
    return text


_BOOT_DASH = re.compile(r"\s*(-?[0-9]+)\s+([0-9a-f]{32})\s+([^\u2014]+)\u2014(.+)\Z")
_BOOT_SPACES = re.compile(r"\s*(-?[0-9]+)\s+([0-9a-f]{32})\s+([A-Z][a-z]{2} \S+ \S+ \S+)\s+(.+)\Z")


def parse_list_boots(text):
    """``journalctl --list-boots [-o json]`` -> [{index, boot_id, first_entry, last_entry}], oldest first.

    JSON (systemd 252+) gives exact times; older systemd ignores ``-o json`` and
    prints text, with or without the IDX header, the two times joined by an em
    dash (247) or spaces (252+).
    """
    text = text or ""
    stripped = text.strip()
    if stripped.startswith("["):
        data, dummy = load_json(stripped)
        if isinstance(data, list):
            boots = []
            for item in data:
                if not isinstance(item, dict):
                    continue
                first, last = item.get("first_entry"), item.get("last_entry")
                boots.append({
                    "index": item.get("index") if _small_int(item.get("index")) else None,
                    "boot_id": item.get("boot_id") if isinstance(item.get("boot_id"), str) else None,
                    "first_entry": _iso_from_usec(first),
                    "last_entry": _iso_from_usec(last),
                })
            return boots
    boots = []
    for line in text.splitlines():
        # stripped first: a lazy group before "\s*$" would retry the whole tail at every character
        line = line.rstrip()
        if "\u2014" in line:
            match = _BOOT_DASH.match(line)
        else:
            match = _BOOT_SPACES.match(line)
        if not match or to_int(match.group(1)) is None:
            continue
        boots.append({"index": to_int(match.group(1)), "boot_id": match.group(2),
                      "first_entry": _journal_time(match.group(3).strip()),
                      "last_entry": _journal_time(match.group(4).strip())})
    return boots


_LAST_REBOOT = re.compile(r"reboot\s+system boot\s+(\S+)\s+(.*)\Z")


def _without_duration(text):
    """``"2026-11-25 08:00 (00:12)"`` -> ``"2026-11-25 08:00"``: the parenthesised duration last prints, if any."""
    text = text.rstrip()
    start = text.rfind("(")
    if text.endswith(")") and start > 0 and text[start - 1].isspace() and ")" not in text[start:-1]:
        return text[:start].strip()
    return text.strip()


def parse_last_reboots(text):
    """``last -x [--time-format iso] reboot`` -> [{first_entry, last_entry, kernel}], newest first as printed."""
    boots = []
    for line in (text or "").splitlines():
        match = _LAST_REBOOT.match(line.rstrip())
        if not match:
            continue
        rest = match.group(2)
        start, end = rest, None
        if "still running" in rest:
            start = rest.split("still running")[0].strip()
        elif " - " in rest:
            start, end = rest.split(" - ", 1)
            end = _without_duration(end)
        else:
            start = _without_duration(rest)
        boots.append({"index": None, "boot_id": None, "first_entry": start.strip(), "last_entry": end,
                      "kernel": match.group(1)})
    return boots


# --------------------------------------------------------------------------- collector
def collect_host_health(host, unit=None, paths=None, max_boots=MAX_BOOTS):
    """Read the host's load, memory, pressure, disk space, processes, sshd's task limit and recent boots."""
    notes = []
    result = {
        "uptime_seconds": None, "boot_time": None, "recent_boots": [], "recent_boots_source": None,
        "load": {}, "memory": {}, "pressure": {}, "filesystems": [], "processes": {},
        "sshd_tasks": {}, "sshd_memory": {},
        "limits": {"max_boots": max_boots}, "truncated": False, "notes": notes,
    }
    uptime = parse_uptime(host.read_text("/proc/uptime", max_bytes=PROC_READ_MAX))
    result["uptime_seconds"] = int(uptime) if uptime is not None else None
    btime = parse_btime(host.read_text("/proc/stat", max_bytes=PROC_READ_MAX))
    result["boot_time"] = iso_from_epoch(btime)

    load = parse_loadavg(host.read_text("/proc/loadavg", max_bytes=PROC_READ_MAX))
    cpus = parse_cpu_list(host.read_text("/sys/devices/system/cpu/online", max_bytes=PROC_READ_MAX))
    if cpus is None:
        cpus = parse_cpuinfo_count(host.read_text("/proc/cpuinfo", max_bytes=PROC_READ_MAX))
    if cpus is None:
        res = host.run(["nproc", "--all"])
        cpus = _int(res.stdout) if res.ok else None
    load["cpus"] = cpus
    load["per_cpu_1"] = round(load["1"] / cpus, 2) if load.get("1") is not None and cpus else None
    load["per_cpu_5"] = round(load["5"] / cpus, 2) if load.get("5") is not None and cpus else None
    result["load"] = load

    skipped = Skipped()
    meminfo = parse_meminfo(host.read_text("/proc/meminfo", max_bytes=PROC_READ_MAX), skipped)
    _note_skipped(notes, "/proc/meminfo", skipped)
    result["memory"] = memory_summary(meminfo)
    if not meminfo:
        notes.append("cannot read /proc/meminfo: memory figures unknown")

    missing = []
    for resource in PRESSURE_RESOURCES:
        text = host.read_text("/proc/pressure/" + resource, max_bytes=PROC_READ_MAX)
        result["pressure"][resource] = parse_pressure(text) if text else None
        if not text:
            missing.append(resource)
    if missing:
        notes.append("no pressure stall information for %s (kernel older than 4.20, or booted with psi=0)"
                     % ", ".join(missing))

    _filesystems(host, result, paths, notes)

    procs = host.glob("/proc/[0-9]*")
    result["processes"] = {
        "count": len(procs) if procs else None,
        "threads": load.get("threads"),
        "pid_max": _int(host.read_text("/proc/sys/kernel/pid_max", max_bytes=PROC_READ_MAX)),
        "threads_max": _int(host.read_text("/proc/sys/kernel/threads-max", max_bytes=PROC_READ_MAX)),
    }
    proc = result["processes"]
    proc["threads_pct_of_pid_max"] = (round(100.0 * proc["threads"] / proc["pid_max"], 2)
                                      if proc["threads"] is not None and proc["pid_max"] else None)

    _sshd_unit(host, result, unit, notes)
    _boots(host, result, max_boots, notes)

    if host.exists("/run/.containerenv") or host.exists("/.dockerenv"):
        notes.append("this is a container: uptime, load, memory and pressure are the host kernel's")
    for note in getattr(host, "notes", []):
        if note not in notes:
            notes.append(note)
    return result


def _filesystems(host, result, paths, notes):
    wanted = [p for p in (paths or DEFAULT_PATHS) if host.exists(p)]
    if not wanted:
        notes.append("none of %s exists" % ", ".join(paths or DEFAULT_PATHS))
        return
    space = host.run(["df", "-P", "-k", "--"] + wanted)
    if space.missing:
        notes.append("df is not installed: filesystem use unknown")
        return
    skipped = Skipped()
    rows = parse_df(space.stdout, wanted, skipped)
    _note_skipped(notes, "df -P -k", skipped)
    if not rows:
        notes.append("df -P -k gave nothing usable: %s" % (space.stderr.strip().splitlines() or ["no output"])[0][:200])
        return
    inodes = host.run(["df", "-P", "-i", "--"] + wanted)
    skipped = Skipped()
    inode_rows = parse_df(inodes.stdout, wanted, skipped) if inodes.ok or inodes.stdout else []
    _note_skipped(notes, "df -P -i", skipped)
    if inode_rows and "inodes" not in inode_rows[0]:
        notes.append("df -P -i printed no Inodes column: inode figures unknown")
    result["filesystems"] = merge_filesystems(rows, inode_rows)


def _note_skipped(notes, source, skipped):
    note = skipped.note(source)
    if note:
        notes.append(note)


def _sshd_unit(host, result, unit, notes):
    candidates = [unit if unit.endswith(".service") or "." in unit else unit + ".service"] if unit else list(UNIT_CANDIDATES)
    for name in candidates:
        res = host.run(["systemctl", "show", "-p", "Id,LoadState,TasksCurrent,TasksMax,MemoryCurrent,MemoryMax", name])
        if res.missing:
            notes.append("systemctl is not installed: sshd's task limit unknown")
            return
        values = parse_systemctl_show(res.stdout)
        if values.get("LoadState") == "loaded":
            result["sshd_tasks"] = {
                "unit": values.get("Id") or name,
                "current": systemd_number(values.get("TasksCurrent")),
                "max": systemd_number(values.get("TasksMax")),
                "max_text": values.get("TasksMax"),
            }
            result["sshd_memory"] = {
                "current_bytes": systemd_number(values.get("MemoryCurrent")),
                "max_bytes": systemd_number(values.get("MemoryMax")),
                "max_text": values.get("MemoryMax"),
            }
            if result["sshd_tasks"]["current"] is None:
                notes.append("systemd does not count %s's tasks (no pids controller for it): TasksCurrent is not set"
                             % result["sshd_tasks"]["unit"])
            return
    notes.append("no loaded sshd unit among %s: sshd's task limit unknown" % ", ".join(candidates))


def _boots(host, result, max_boots, notes):
    res = host.run(["journalctl", "--list-boots", "--no-pager", "-o", "json"])
    boots = parse_list_boots(res.stdout) if res.ok else []
    if boots:
        result["recent_boots_source"] = "journalctl"
    else:
        res_last = host.run(["last", "-x", "--time-format", "iso", "reboot"])
        if not res_last.ok and not res_last.missing:
            res_last = host.run(["last", "-x", "reboot"])
        boots = list(reversed(parse_last_reboots(res_last.stdout))) if res_last.ok else []
        if boots:
            result["recent_boots_source"] = "wtmp"
        elif res.missing and res_last.missing:
            notes.append("neither journalctl nor last is installed: recent boots unknown")
        else:
            notes.append("no boot list from journalctl --list-boots or last -x reboot")
    if len(boots) > max_boots:
        result["truncated"] = True
        boots = boots[-max_boots:] if max_boots > 0 else []
    result["recent_boots"] = boots
