# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sshd's log in a time window, summarised by the signature catalogue.

Pure functions turn journalctl's (or a syslog file's) text into counts per
signature, the list of boots and the sshd unit's systemd events;
``collect_journal(host, ...)`` runs the commands through the ``Host`` API:

* ``journalctl --list-boots -o json`` (text on systemd < 251): the boots, and the
  default window (the first entry of the previous boot, else of this one);
* ``journalctl -o short-iso-precise -n MAX+1 --since S`` on sshd's own lines:
  ``_SYSTEMD_UNIT=ssh.service``/``sshd.service`` (or the ``unit`` asked for)
  OR ``SYSLOG_IDENTIFIER=sshd``/``sshd-session``/``sshd-auth``. The identifier
  half catches what the unit half misses: from OpenSSH 9.8 per-connection lines
  come from ``sshd-session``, and after login pam_systemd moves that process into
  a ``session-N.scope``, out of the unit;
* ``journalctl -o json --output-fields=...`` on PID 1's few messages about the
  unit (``_PID=1 UNIT=ssh.service ...``), matched by MESSAGE_ID;
* without journald: the last lines of /var/log/auth.log or /var/log/secure.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import json
import re
import time
from collections import deque

from ansible_collections.sshdoctor.connreset.plugins.module_utils._signatures import (
    BY_ID,
    classify,
    unit_event,
)

DEFAULT_MAX_LINES = 50000
DEFAULT_MAX_SAMPLES = 5
DEFAULT_MAX_EVENTS = 50
DEFAULT_MAX_BOOTS = 10
MAX_SAMPLE_CHARS = 512

SSHD_IDENTIFIERS = ("sshd", "sshd-session", "sshd-auth")
DEFAULT_UNITS = ("ssh.service", "sshd.service")
LOG_FILES = ("/var/log/auth.log", "/var/log/secure")
EVENT_FIELDS = "MESSAGE,MESSAGE_ID,UNIT,UNIT_RESULT,EXIT_CODE,EXIT_STATUS,N_RESTARTS"

# --- the `since` parameter ---------------------------------------------------------------------
_UNITS = {
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "min", "min": "min", "mins": "min", "minute": "min", "minutes": "min",
    "h": "h", "hr": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
    "w": "w", "week": "w", "weeks": "w",
}
_UNIT_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_RELATIVE = re.compile(r"^\s*-?\s*(?P<n>\d+)\s*(?P<unit>[a-z]+)(?P<ago>\s+ago)?\s*$")
_ABSOLUTE = re.compile(
    r"^\s*(?P<date>\d{4}-\d{2}-\d{2})(?:[ T](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?"
    r"\s*(?P<tz>Z|UTC|[+-]\d{2}:?\d{2})?\s*$"
)
_EPOCH = re.compile(r"^\s*@(?P<epoch>\d+(?:\.\d+)?)\s*$")
SINCE_HELP = (
    "YYYY-MM-DD, 'YYYY-MM-DD HH:MM[:SS]' (local time, or with T, Z, UTC or +HH:MM), "
    "@EPOCH, today, yesterday, or a relative time such as -2h, 30min, '3 days ago'"
)


def validate_since(since):
    """Check ``since`` and return it in a form every journalctl since 219 accepts.

    Raises ValueError with a readable message when the value is not understood.
    """
    if since is None:
        return None
    text = str(since).strip()
    if text in ("today", "yesterday", "now"):
        return text
    m = _EPOCH.match(text)
    if m:
        return "@%d" % int(float(m.group("epoch")))
    m = _RELATIVE.match(text.lower())
    if m and m.group("unit") in _UNITS:
        return "-%s%s" % (int(m.group("n")), _UNITS[m.group("unit")])
    m = _ABSOLUTE.match(text)
    if m:
        clock = m.group("time") or "00:00:00"
        if len(clock) == 5:
            clock += ":00"
        try:
            parsed = time.strptime(m.group("date") + " " + clock[:8], "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise ValueError("since: %r is not a real date/time" % since)
        tz = m.group("tz")
        if not tz:
            return "%s %s" % (m.group("date"), clock[:8])  # local time, as journalctl reads it
        epoch = calendar.timegm(parsed) - _offset_seconds(tz)
        return "@%d" % epoch
    raise ValueError("since: %r is not a time journalctl understands; use %s" % (since, SINCE_HELP))


def _offset_seconds(tz):
    if tz in ("Z", "UTC"):
        return 0
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)


def since_to_epoch(since, now=None):
    """Seconds since the epoch for a value ``validate_since`` returned (None for None)."""
    if since is None:
        return None
    now = time.time() if now is None else now
    if since == "now":
        return now
    if since in ("today", "yesterday"):
        lt = time.localtime(now)
        midnight = time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, 0, 0, 0, 0, 0, -1))
        return midnight - (86400 if since == "yesterday" else 0)
    if since.startswith("@"):
        return float(since[1:])
    m = re.match(r"^-(\d+)([a-z]+)$", since)
    if m:
        return now - int(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    return time.mktime(time.strptime(since, "%Y-%m-%d %H:%M:%S"))


# --- lines -------------------------------------------------------------------------------------
_ISO_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2}):?(\d{2})$|^(\d{4}-\d{2}-\d{2}T[\d:.]+)Z$")
_SYSLOG_TIME = re.compile(r"^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}:\d{2}:\d{2})")
_MONTH = dict((name, i + 1) for i, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")))


def line_time(line):
    """The timestamp at the start of a journal/syslog line, as printed but ISO 8601 where it can be.

    ``2026-11-25T08:01:23.176307+0000`` (systemd < 257) becomes ``...+00:00``;
    a traditional syslog stamp (``Nov 25 08:01:23``) is returned as it is.
    """
    if not line:
        return None
    if line[:1].isdigit():
        token = line.split(" ", 1)[0]
        m = _ISO_TIME.match(token)
        if m is None:
            return token or None
        if m.group(1):
            return "%s%s:%s" % (m.group(1), m.group(2), m.group(3))
        return m.group(4) + "+00:00"
    m = _SYSLOG_TIME.match(line)
    if m:
        return m.group(0)
    return None


def line_epoch(line, now=None):
    """Seconds since the epoch of a line's timestamp, or None. Syslog stamps without a year get
    the year that puts them in the last twelve months."""
    stamp = line_time(line)
    if not stamp:
        return None
    if stamp[:1].isdigit():
        m = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?([+-]\d{2}):(\d{2})$", stamp)
        if not m:
            return None
        base = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
        offset = int(m.group(3)) * 3600 + (int(m.group(4)) * 60 if m.group(3)[0] != "-" else -int(m.group(4)) * 60)
        return base + float(m.group(2) or 0) - offset
    m = _SYSLOG_TIME.match(stamp)
    if not m:
        return None
    now = time.time() if now is None else now
    year = time.localtime(now).tm_year
    try:
        clock = time.strptime("%d %02d %s %s" % (year, _MONTH[m.group(1)], m.group(2), m.group(3)), "%Y %m %d %H:%M:%S")
    except (KeyError, ValueError):
        return None
    epoch = time.mktime(clock)
    if epoch > now + 86400:
        epoch = time.mktime(clock[:0] + (year - 1,) + tuple(clock[1:]))
    return epoch


def line_identifier(line):
    """``sshd-session`` in ``... host sshd-session[92]: message`` (None when there is no ``[pid]: ``)."""
    end = line.find("[")
    colon = line.find("]: ")
    if end < 0 or colon < end:
        return None
    start = line.rfind(" ", 0, end)
    return line[start + 1:end]


def summarise_lines(lines, max_samples=DEFAULT_MAX_SAMPLES, keep=None):
    """Count the signatures in ``lines`` (an iterable of journal/syslog lines, oldest first).

    ``keep(line)``, when given, picks the lines that count (the sshd filter for a syslog file).
    Marker lines of journalctl (``-- Boot ... --``, ``-- No entries --``) are skipped.
    Returns ``{"lines_read", "signatures", "causes"}``.
    """
    found = {}
    samples = {}
    read = 0
    for line in lines:
        if not line or line.startswith("-- "):
            continue
        if keep is not None and not keep(line):
            continue
        read += 1
        sig_id = classify(line)
        if sig_id is None:
            continue
        entry = found.get(sig_id)
        stamp = line_time(line)
        if entry is None:
            entry = found[sig_id] = {
                "cause": BY_ID[sig_id].cause,
                "count": 0,
                "first_seen": stamp,
                "last_seen": stamp,
            }
            samples[sig_id] = deque(maxlen=max(int(max_samples), 0))
        entry["count"] += 1
        entry["last_seen"] = stamp
        if max_samples > 0:
            samples[sig_id].append(line[:MAX_SAMPLE_CHARS])
    causes = {}
    for sig_id, entry in found.items():
        entry["samples"] = list(samples[sig_id])
        causes[entry["cause"]] = causes.get(entry["cause"], 0) + entry["count"]
    return {"lines_read": read, "signatures": found, "causes": causes}


def is_sshd_syslog_line(line):
    """True for a syslog line written by sshd, sshd-session or sshd-auth."""
    return line_identifier(line) in SSHD_IDENTIFIERS


# --- boots -------------------------------------------------------------------------------------
_BOOT_TEXT = re.compile(
    r"^\s*(?P<index>-?\d+)\s+(?P<boot_id>[0-9a-f]{32})\s+(?P<first>.+?)\s*(?:\u2014|\s)\s*"
    r"(?P<last>[A-Z][a-z]{2} \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?: \S+)?)\s*$"
)


def _iso_from_usec(value):
    try:
        usec = int(value)
    except (TypeError, ValueError):
        return None
    seconds, micro = divmod(usec, 1000000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%06d+00:00" % micro


def _iso_from_listing(text):
    # "Wed 2026-11-25 08:00:49 UTC" -> "2026-11-25T08:00:49+00:00"; other zones stay as printed.
    m = re.match(r"^(?:[A-Z][a-z]{2} )?(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?: (\S+))?$", text.strip())
    if not m:
        return text.strip() or None
    if m.group(3) in (None, "UTC", "GMT"):
        return "%sT%s+00:00" % (m.group(1), m.group(2))
    return text.strip()


def parse_list_boots(text):
    """Boots from ``journalctl --list-boots`` (``-o json`` or the text table), oldest first.

    Each is ``{index, boot_id, first_entry, last_entry, first_entry_usec}``
    (``first_entry_usec`` only from JSON). Unparsable lines are skipped.
    """
    text = (text or "").strip()
    boots = []
    if text.startswith("["):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, list):
            for item in data:
                if not isinstance(item, dict) or not item.get("boot_id"):
                    continue
                boots.append({
                    "index": item.get("index"),
                    "boot_id": str(item.get("boot_id")),
                    "first_entry": _iso_from_usec(item.get("first_entry")),
                    "last_entry": _iso_from_usec(item.get("last_entry")),
                    "first_entry_usec": _int_or_none(item.get("first_entry")),
                })
            return boots
    for line in text.splitlines():
        m = _BOOT_TEXT.match(line)
        if not m:
            continue
        boots.append({
            "index": int(m.group("index")),
            "boot_id": m.group("boot_id"),
            "first_entry": _iso_from_listing(m.group("first").rstrip("\u2014 ")),
            "last_entry": _iso_from_listing(m.group("last")),
            "first_entry_listed": m.group("first").rstrip("\u2014 "),
        })
    return boots


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- systemd unit events -----------------------------------------------------------------------
def parse_unit_events(text, max_events=DEFAULT_MAX_EVENTS):
    """Unit events from ``journalctl -o json`` output (one JSON object a line), oldest first.

    Keeps the last ``max_events``; returns ``(events, matched)`` where ``matched``
    counts every recognised event before the cap.
    """
    events = deque(maxlen=max(int(max_events), 0))
    matched = 0
    for line in (text or "").splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        message = _field_text(record.get("MESSAGE"))
        message_id = _field_text(record.get("MESSAGE_ID"))
        event, fields = unit_event(message, message_id)
        if event is None:
            continue
        matched += 1
        item = {
            "time": _iso_from_usec(record.get("__REALTIME_TIMESTAMP")),
            "event": event,
            "message": (message or "")[:MAX_SAMPLE_CHARS],
            "message_id": message_id,
            "unit": _field_text(record.get("UNIT")),
        }
        result = _field_text(record.get("UNIT_RESULT")) or fields.get("result")
        if result:
            item["result"] = result
        n_restarts = _int_or_none(_field_text(record.get("N_RESTARTS")) or fields.get("n_restarts"))
        if n_restarts is not None:
            item["n_restarts"] = n_restarts
        code = _field_text(record.get("EXIT_CODE")) or fields.get("code")
        if code:
            item["exit_code"] = code
        status = _field_text(record.get("EXIT_STATUS")) or fields.get("status")
        if status:
            item["exit_status"] = status
        events.append(item)
    return list(events), matched


def parse_unit_event_lines(lines, max_events=DEFAULT_MAX_EVENTS):
    """Unit events from text lines (``... systemd[1]: ssh.service: Failed with result ...``)."""
    events = deque(maxlen=max(int(max_events), 0))
    matched = 0
    for line in lines:
        i = line.find("]: ")
        if i < 0:
            continue
        event, fields = unit_event(line[i + 3:])
        if event is None:
            continue
        matched += 1
        item = {"time": line_time(line), "event": event, "message": line[i + 3:][:MAX_SAMPLE_CHARS], "message_id": None}
        for key, name in (("result", "result"), ("n_restarts", "n_restarts"), ("code", "exit_code"), ("status", "exit_status")):
            if fields.get(key):
                item[name] = int(fields[key]) if key == "n_restarts" else fields[key]
        events.append(item)
    return list(events), matched


def _field_text(value):
    # journald JSON gives binary fields as a list of byte values.
    if value is None:
        return None
    if isinstance(value, list):
        if value and all(isinstance(v, int) for v in value):
            return bytes(bytearray(v & 0xFF for v in value)).decode("utf-8", "replace")
        return _field_text(value[0]) if value else None
    return str(value)


# --- the collector -----------------------------------------------------------------------------
def _unit_names(unit):
    if not unit:
        return DEFAULT_UNITS
    names = []
    for name in unit if isinstance(unit, (list, tuple)) else [unit]:
        name = str(name).strip()
        if name and "." not in name:
            name += ".service"
        if name:
            names.append(name)
    return tuple(names) or DEFAULT_UNITS


def journal_command(since, units, max_lines):
    # --reverse: newest first, so that a byte cap on the output cuts the oldest lines, not the newest.
    argv = ["journalctl", "--no-pager", "-q", "-o", "short-iso-precise", "--reverse", "-n", str(max_lines + 1)]
    if since:
        argv += ["--since", since]
    argv += ["_SYSTEMD_UNIT=%s" % u for u in units]
    argv += ["+"] + ["SYSLOG_IDENTIFIER=%s" % i for i in SSHD_IDENTIFIERS]
    return argv


def events_command(since, units, max_events):
    argv = ["journalctl", "--no-pager", "-q", "-o", "json", "--output-fields=" + EVENT_FIELDS,
            "-n", str(max(max_events, 1) * 20)]
    if since:
        argv += ["--since", since]
    argv += ["_PID=1"] + ["UNIT=%s" % u for u in units]
    socket_units = [u[:-len(".service")] + ".socket" for u in units if u.endswith(".service")]
    argv += ["UNIT=%s" % u for u in socket_units]
    return argv


def _journal_problem(result):
    err = (result.stderr or "").strip()
    lowered = err.lower()
    if "insufficient permissions" in lowered or "permission denied" in lowered or "not seeing messages" in lowered:
        return "journalctl cannot read the whole journal as this user (%s); run with become: true" % err.splitlines()[0]
    return None


def collect_journal(host, since=None, unit=None, max_samples=DEFAULT_MAX_SAMPLES, max_lines=DEFAULT_MAX_LINES,
                    max_events=DEFAULT_MAX_EVENTS, max_boots=DEFAULT_MAX_BOOTS):
    """sshd's journal (or auth.log/secure) in a window, summarised. See the module's RETURN."""
    since = validate_since(since)
    units = _unit_names(unit)
    max_lines = max(int(max_lines), 1)
    result = {
        "source": None,
        "since": since,
        "units": list(units),
        "lines_read": 0,
        "signatures": {},
        "causes": {},
        "boots": [],
        "unit_events": [],
        "limits": {"max_lines": max_lines, "max_samples": int(max_samples), "max_events": int(max_events),
                   "max_boots": int(max_boots), "max_sample_chars": MAX_SAMPLE_CHARS},
        "truncated": False,
        "notes": [],
    }
    notes = result["notes"]
    if host.which("journalctl"):
        if _collect_journald(host, result, since, units, max_lines, int(max_samples), int(max_events), int(max_boots)):
            return _finish(host, result)
    else:
        notes.append("journalctl is not installed: no journald; reading a syslog file instead")
    _collect_file(host, result, max_lines, int(max_samples), int(max_events))
    return _finish(host, result)


def _finish(host, result):
    for note in getattr(host, "notes", []):
        if note not in result["notes"]:
            result["notes"].append(note)
    return result


def _collect_journald(host, result, since, units, max_lines, max_samples, max_events, max_boots):
    notes = result["notes"]
    if not host.is_root():
        # with -q journalctl no longer hints that it is hiding other users' and the system's entries
        notes.append("not running as root: journalctl shows only the entries this user may read "
                     "(root or the systemd-journal/adm group reads sshd's); run with become: true")
    listing = host.run(["journalctl", "--no-pager", "--list-boots", "-o", "json"])
    boots = parse_list_boots(listing.stdout) if listing.rc == 0 else []
    if listing.rc != 0:
        problem = _journal_problem(listing)
        notes.append(problem or "journalctl --list-boots failed (rc=%s): %s" % (listing.rc, (listing.stderr or "").strip()[:200]))
    if since is None and boots:
        start = boots[-2] if len(boots) >= 2 else boots[-1]
        if start.get("first_entry_usec") is not None:
            since = "@%d" % (start["first_entry_usec"] // 1000000)
        elif start.get("first_entry_listed"):
            since = start["first_entry_listed"]
        result["since"] = since
        result["window"] = "previous and current boot" if len(boots) >= 2 else "current boot"
    elif since is None:
        result["window"] = "whole journal (the boot list was not readable)"
    else:
        result["window"] = "since"
    if len(boots) == 1:
        notes.append("the journal holds one boot only (a container, or no persistent journal): reboots cannot show")
    result["boots"] = [dict((k, b[k]) for k in ("index", "boot_id", "first_entry", "last_entry")) for b in boots[-max_boots:]]
    if len(boots) > max_boots:
        result["truncated"] = True

    main = host.run(journal_command(since, units, max_lines))
    if main.rc != 0:
        notes.append("journalctl failed (rc=%s): %s" % (main.rc, (main.stderr or "").strip()[:200]))
        return False
    problem = _journal_problem(main)
    if problem:
        notes.append(problem)
    lines = main.stdout.splitlines()
    cap = getattr(host, "max_bytes", None)
    if cap and len(main.stdout) >= cap:
        lines = lines[:-1]  # cut mid-line
        result["truncated"] = True
        notes.append("journalctl printed more than %d bytes: only the newest %d sshd lines were read"
                     % (cap, len(lines)))
    elif len(lines) > max_lines:
        result["truncated"] = True
        notes.append("more than %d sshd lines in the window: only the newest %d were read" % (max_lines, max_lines))
    lines = lines[:max_lines]
    lines.reverse()  # oldest first again
    summary = summarise_lines(lines, max_samples=max_samples)
    if summary["lines_read"] == 0 and _has_log_file(host):
        notes.append("the journal has no sshd lines in the window; reading the syslog file instead")
        return False
    result["source"] = "journald"
    result.update(summary)

    events = host.run(events_command(since, units, max_events))
    if events.rc == 0:
        result["unit_events"], matched = parse_unit_events(events.stdout, max_events)
        if matched > max_events:
            result["truncated"] = True
    else:
        notes.append("journalctl could not list the unit's systemd events (rc=%s): %s"
                     % (events.rc, (events.stderr or "").strip()[:200]))
    return True


def _has_log_file(host):
    return any(host.exists(path) for path in LOG_FILES)


def _collect_file(host, result, max_lines, max_samples, max_events):
    notes = result["notes"]
    for path in LOG_FILES:
        if not host.exists(path):
            continue
        # the newest bytes: as much as one command may return (a longer file's oldest lines are not read)
        nbytes = (getattr(host, "max_bytes", None) or 8 * 1024 * 1024) - 1
        tail = host.run(["tail", "-c", str(nbytes), path])
        if tail.ok:
            text = tail.stdout
            if len(text.encode("utf-8", "replace")) >= nbytes:
                text = text.split("\n", 1)[-1]  # the first line is cut
                result["truncated"] = True
                notes.append("%s is longer than %d bytes: only its last %d bytes were read" % (path, nbytes, nbytes))
        else:
            if tail.rc not in (None, 0):
                notes.append("tail %s failed (rc=%s): %s" % (path, tail.rc, (tail.stderr or "").strip()[:200]))
            text = host.read_text(path)
            if text is None:
                continue
        since_epoch = since_to_epoch(result["since"]) if result["since"] else None
        lines = [line for line in text.splitlines() if is_sshd_syslog_line(line)]
        if since_epoch is not None:
            lines = [line for line in lines if (line_epoch(line) or since_epoch) >= since_epoch]
        if len(lines) > max_lines:
            lines = lines[-max_lines:]
            result["truncated"] = True
            notes.append("more than %d sshd lines in %s: only the newest %d were read" % (max_lines, path, max_lines))
        result["source"] = path
        result.update(summarise_lines(lines, max_samples=max_samples))
        result["window"] = "since" if result["since"] else "whole file"
        notes.append("no journald: systemd unit events and boots are not available from %s" % path)
        return
    notes.append("no sshd log found: neither journald nor %s" % " nor ".join(LOG_FILES))
