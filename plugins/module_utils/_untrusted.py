# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a host sends is untrusted: numbers in its text, and its evidence as a whole.

A host's logs are partly written by whoever can reach it (user names of scanners,
anything a local user sends with ``logger -t sshd``), and a compromised host can
return any JSON it likes as its evidence. Two halves, both pure (no I/O):

On the host, parsers read numbers with ``to_int``: ASCII digits only (``"²"``
passes ``str.isdigit()`` and then fails ``int()``), and at most ``MAX_DIGITS`` of
them (Python refuses to convert more than 4,300, and no tool prints more than 20).

On the controller, ``check_evidence`` (called by ``_rules.diagnose``) and
``check_hosts`` (called by ``_report.build_report``) make each host's evidence
and probe safe before anything reads them:

* a JSON-safe, bounded copy (``clean``): only dict / list / str / int / float /
  bool / None; nesting at most ``MAX_DEPTH`` deep, at most ``MAX_ITEMS`` items per
  list or dict, ``MAX_NODES`` values and ``MAX_CHARS`` characters per host,
  strings cut at ``MAX_STRING`` characters; no lone surrogates, no control
  characters (``safe_text``); non-finite floats and integers wider than 128 bits
  become null. Everything changed is listed with the path where it was.
* a shape check (``SCHEMA``): the keys the rules and the report read must have
  the type they expect. A section that fails becomes ``{"error": ..., "rejected":
  <its cleaned copy>}``, which the rules skip; a probe that fails is dropped.
  Keys the schema does not name are only cleaned.

What is done is reported per host, so the report can say it (``evidence_error``
and a note) while the rest of the fleet is diagnosed as usual. Both steps are
idempotent: checked evidence passes unchanged.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import re

# --------------------------------------------------------------------------- numbers in host text
MAX_DIGITS = 32
# The last second an ISO 8601 year can show (9999-12-31T23:59:59Z): a host's time past it is no time
# (time.gmtime and datetime raise on it, and a stamp of 400 digits is infinity as a float).
MAX_EPOCH = 253402300799

_DECIMAL = re.compile(r"[+-]?[0-9]+\Z")


def to_int(text, signed=True, max_digits=MAX_DIGITS):
    """``"42"`` -> 42 for ASCII decimal digits (surrounding whitespace, and with ``signed`` one
    leading ``+`` or ``-``, allowed); anything else -> None.

    Never raises: not a string, Unicode digits (``"²"``, ``"١"``), or more than ``max_digits``
    digits give None.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if len(text) > max_digits + 1 or not _DECIMAL.match(text):
        return None
    digits = text.lstrip("+-")
    if len(digits) > max_digits or (digits != text and not signed):
        return None
    return int(text)


class Skipped:
    """Where a parser skipped lines it could not use: the count, and the first few line numbers and why.

    Parsers take an optional ``skipped`` argument; a collector passes one and turns
    it into a note (``note``), so that unrecognisable output is said, not hidden.
    """

    KEEP = 5

    def __init__(self):
        self.count = 0
        self.lines = []

    def add(self, number, line, why):
        """Count line ``number`` (1-based) as skipped, unless it is blank."""
        if not line.strip():
            return
        self.count += 1
        if len(self.lines) < self.KEEP:
            self.lines.append((number, why))

    def __bool__(self):
        return self.count > 0

    __nonzero__ = __bool__

    def note(self, source):
        """``"df -P -k: 2 line(s) not understood and skipped (line 3: fewer than 6 fields, ...)"``, or None."""
        if not self.count:
            return None
        shown = ", ".join("line %d: %s" % item for item in self.lines)
        return "%s: %d line(s) not understood and skipped (%s%s)" % (
            source, self.count, shown, ", ..." if self.count > len(self.lines) else "")


def skip(skipped, number, line, why):
    """``skipped.add(...)`` when the caller asked for it (``skipped`` may be None)."""
    if skipped is not None:
        skipped.add(number, line, why)


def nested_deeper_than(value, limit):
    """True when lists / dicts in ``value`` nest more than ``limit`` levels (checked without recursion).

    Parsers of a tool's JSON call it before walking what json.loads returned with recursive code:
    JSON a thousand levels deep loads, and then breaks any recursive walk.
    """
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def load_json(text, max_depth=64):
    """``(data, None)`` for JSON text, or ``(None, why)``: never raises (a thousand ``[`` raise RecursionError
    in json.loads, a 5,000-digit number ValueError), and data nested deeper than ``max_depth`` is refused."""
    if not isinstance(text, str):
        return None, "not text"
    try:
        data = json.loads(text)
    except RecursionError:
        return None, "nested too deep to read"
    except ValueError as exc:
        return None, "not JSON (%s)" % str(exc)[:80]
    if nested_deeper_than(data, max_depth):
        return None, "nested deeper than %d levels" % max_depth
    return data, None


# --------------------------------------------------------------------------- safe strings
# C0 controls but tab and newline, DEL, C1 controls (a terminal takes 0x9b as CSI), the
# Unicode bidirectional overrides and isolates (they reorder what is shown), and lone surrogates
# (which no encoder writes).
_UNSAFE = re.compile(u"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match):
    code = ord(match.group(0))
    if 0xD800 <= code <= 0xDFFF:
        return u"\ufffd"
    if code < 0x100:
        return u"\\x%02x" % code
    return u"\\u%04x" % code


def safe_text(value):
    """``value`` as text that is safe in JSON, Markdown, HTML and on a terminal.

    Control characters that move the cursor, clear the screen or start an escape sequence
    are shown as ``\\xNN`` (``\\x1b[2J`` stays visible as text), bidirectional overrides as
    ``\\uNNNN``, and lone surrogates become U+FFFD. Tab and newline are kept.
    """
    if value is None:
        return u""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif not isinstance(value, str):
        value = str(value)
    if _UNSAFE.search(value) is None:
        return str(value)
    return _UNSAFE.sub(_escape, value)


def is_safe_text(value):
    return isinstance(value, str) and _UNSAFE.search(value) is None


# --------------------------------------------------------------------------- clean: JSON-safe and bounded
MAX_DEPTH = 24
MAX_ITEMS = 5000
MAX_NODES = 250000
MAX_STRING = 16384
MAX_KEY = 512
MAX_CHARS = 16 * 1024 * 1024
MAX_INT_BITS = 128
MAX_PROBLEMS = 20

# A problem that cost the host its whole evidence (the copy is incomplete in arbitrary places).
OVER_BUDGET = "over_budget"


def _path_text(path):
    parts = []
    while path is not None:
        path, key = path
        parts.append(key)
    text = ""
    for key in reversed(parts):
        if isinstance(key, int):
            text += "[%d]" % key
        else:
            text += ("." if text else "") + safe_text(key)[:80]
    return text or "(top)"


class _Budget:
    def __init__(self, nodes, chars):
        self.nodes = nodes
        self.chars = chars
        self.exceeded = False


def clean(value, where=None, problems=None, budget=None, max_depth=MAX_DEPTH):
    """A JSON-safe, bounded copy of ``value``.

    ``where``: a path prefix for the problems (a string). ``problems``: a list the
    changes are appended to, as ``(path, what)``; a new one when None. Returns
    ``(copy, problems)``. Iterative, so a structure nested a million deep costs
    its first ``MAX_DEPTH`` levels and no recursion.
    """
    if problems is None:
        problems = []
    if budget is None:
        budget = _Budget(MAX_NODES, MAX_CHARS)
    root = [None]
    top = None if where is None else (None, where)
    stack = [(value, root, 0, 0, top)]
    while stack:
        item, parent, key, depth, path = stack.pop()
        budget.nodes -= 1
        if budget.nodes < 0 or budget.chars < 0:
            if not budget.exceeded:
                budget.exceeded = True
                problems.append((_path_text(path), "%s: more than %d values or %d characters; the rest was dropped"
                                 % (OVER_BUDGET, MAX_NODES, MAX_CHARS)))
            parent[key] = None
            continue
        if item is None or isinstance(item, bool):
            parent[key] = item
        elif isinstance(item, str):
            parent[key] = _clean_string(item, path, problems, budget)
        elif isinstance(item, int):
            if item.bit_length() > MAX_INT_BITS:
                problems.append((_path_text(path), "an integer wider than %d bits was dropped" % MAX_INT_BITS))
                parent[key] = None
            else:
                parent[key] = int(item)
        elif isinstance(item, float):
            if math.isnan(item) or math.isinf(item):
                problems.append((_path_text(path), "a non-finite number (%r) was dropped" % item))
                parent[key] = None
            else:
                parent[key] = float(item)
        elif isinstance(item, dict) or isinstance(item, (list, tuple)):
            if depth >= max_depth:
                problems.append((_path_text(path), "nested deeper than %d levels: the rest was dropped" % MAX_DEPTH))
                parent[key] = None
                continue
            if isinstance(item, dict):
                parent[key] = _open_dict(item, path, depth, stack, problems, budget)
            else:
                parent[key] = _open_list(item, path, depth, stack, problems)
        elif isinstance(item, bytes):
            parent[key] = _clean_string(item.decode("utf-8", "replace"), path, problems, budget)
        elif isinstance(item, (set, frozenset)):
            stack.append((sorted(item, key=repr), parent, key, depth, path))
            budget.nodes += 1
        else:
            problems.append((_path_text(path), "a %s where JSON holds only text, numbers, lists and objects: dropped"
                             % type(item).__name__))
            parent[key] = None
    return root[0], problems


def _clean_string(text, path, problems, budget):
    if len(text) > MAX_STRING:
        # the mark fits inside the bound, so that a checked string passes the check again unchanged
        keep = MAX_STRING - 40
        problems.append((_path_text(path), "a string of %d characters was cut to %d" % (len(text), keep)))
        text = text[:keep] + u" [cut: %d more characters]" % (len(text) - keep)
    budget.chars -= len(text)
    return safe_text(text)


def _open_dict(item, path, depth, stack, problems, budget):
    copy = {}
    try:
        pairs = list(item.items())
    except Exception as exc:  # pylint: disable=broad-except
        problems.append((_path_text(path), "an object that cannot be read (%s): dropped" % type(exc).__name__))
        return None
    if len(pairs) > MAX_ITEMS:
        problems.append((_path_text(path), "%d keys, more than %d: the rest were dropped" % (len(pairs), MAX_ITEMS)))
        pairs = pairs[:MAX_ITEMS]
    pending = []
    for raw_key, child in pairs:
        if isinstance(raw_key, str):
            name = raw_key
        elif isinstance(raw_key, (int, float, bool)) or raw_key is None:
            name = str(raw_key) if raw_key is not None else "null"
        else:
            problems.append((_path_text(path), "a key of type %s: dropped" % type(raw_key).__name__))
            continue
        if len(name) > MAX_KEY:
            problems.append((_path_text(path), "a key of %d characters was cut to %d" % (len(name), MAX_KEY)))
            name = name[:MAX_KEY]
        name = safe_text(name)
        budget.chars -= len(name)
        if name in copy:
            problems.append((_path_text((path, name)), "a repeated key: the later value was dropped"))
            continue
        copy[name] = None
        pending.append((child, copy, name, depth + 1, (path, name)))
    stack.extend(reversed(pending))
    return copy


def _open_list(item, path, depth, stack, problems):
    items = list(item)
    if len(items) > MAX_ITEMS:
        problems.append((_path_text(path), "%d items, more than %d: the rest were dropped" % (len(items), MAX_ITEMS)))
        items = items[:MAX_ITEMS]
    copy = [None] * len(items)
    stack.extend((child, copy, index, depth + 1, (path, index)) for index, child in reversed(list(enumerate(items))))
    return copy


# --------------------------------------------------------------------------- the shape the rules and the report read
# A spec is a type name ("str", "int", "num", "bool", "any"; "!" at the end: null not allowed),
# a list of one spec (a list whose items all have it), or a dict (an object whose named keys,
# when present, have their spec; "*" gives the spec of every value). Null is allowed for every
# value unless the name ends in "!": collectors say "unknown" with null, and a missing key reads
# the same. Only keys that are read are named; the others are only cleaned.
NOTES = ["str!"]
_STR_LIST = ["str!"]

SCHEMA = {
    "sshd": {
        "installed": "bool", "version": "str", "version_info": ["int!"], "unit": "str", "socket_activated": "bool",
        "socket": {"unit_id": "str", "active_state": "str", "sub_state": "str", "listen": "str"},
        "service": {"source": "str", "unit_id": "str", "active_state": "str", "sub_state": "str", "result": "str",
                    "n_restarts": "int", "main_pid": "int"},
        "config_valid": "bool",
        "config_errors": [{"file": "str", "line": "int", "message": "str"}],
        "settings": {"client_alive_interval": "int", "client_alive_count_max": "int",
                     "max_startups": {"start": "int", "rate": "int", "full": "int"},
                     "max_sessions": "int", "tcp_keep_alive": "bool", "login_grace_time": "int",
                     "per_source_penalties": "str", "per_source_max_startups": "int", "log_level": "str",
                     "port": ["int!"], "listen_address": _STR_LIST},
        "provenance": {"*": {"file": "str", "line": "int"}},
        "listeners": [{"address": "str", "port": "int", "process": "str", "pid": "int"}],
        "startups": {"current": "int", "start": "int", "full": "int"},
        "preauth_processes": "int",
        "tcp_wrappers": {"honoured": "bool", "binary": "str", "method": "str"},
        "notes": NOTES,
    },
    "journal": {
        "source": "str", "since": "str", "lines_read": "int",
        "signatures": {"*": {"cause": "str", "count": "int", "first_seen": "str", "last_seen": "str", "samples": _STR_LIST}},
        "unit_events": [{"event": "str", "time": "str", "message": "str", "result": "str"}],
        "boots": [{"first_entry": "str", "last_entry": "str"}],
        "notes": NOTES,
    },
    "oom": {
        "source": "str", "in_container": "bool", "sshd_victims": "int",
        "events": [{"time": "str", "name": "str", "pid": "int", "anon_rss_kb": "int", "is_sshd": "bool",
                    "in_this_container": "bool", "cgroup": {"kind": "str", "path": "str"}}],
        "notes": NOTES,
    },
    "firewall": {
        "rules": [{"source": "str", "family": "str", "table": "str", "chain": "str", "text": "str", "verdict": "str",
                   "affects_ssh": "bool", "fail2ban": "bool", "tcp_reset": "bool", "rate_limit": _STR_LIST, "src": "str",
                   "src_sets": _STR_LIST}],
        "conntrack": {"tcp_timeout_established": "int", "tcp_loose": "int", "usage_pct": "num", "count": "int", "max": "int"},
        "notes": NOTES,
    },
    "bans": {
        "tools": {"fail2ban": {"jails": [{"name": "str", "maxretry": "int", "findtime": "int",
                                          "banned": [{"address": "str", "failures": "int", "matches": _STR_LIST}]}]},
                  "sshguard": {"blocked": [{"address": "str", "attacks": "int"}]}},
        "banned": [{"tool": "str", "where": "str", "address": "str", "since_epoch": "int", "until_epoch": "int",
                    "enforced": "bool", "unban": "str"}],
        "banned_total": "int",
        "clients": {"*": [{"kind": "str", "tool": "str", "where": "str", "element": "str", "rule": "str",
                           "verdict": "str", "since_epoch": "int", "until_epoch": "int", "unban": "str"}]},
        "notes": NOTES,
    },
    "tcp_wrappers": {
        "applies": "bool",
        "decisions": [{"client": "str", "allowed": "bool", "file": "str", "line": "int", "rule": "str"}],
        "files": {"*": {"rules": [{"line": "int", "text": "str", "clients": "str", "options": "str",
                                   "applies_to_sshd": "bool"}]}},
        "notes": NOTES,
    },
    "host_health": {
        "uptime_seconds": "num",
        "recent_boots": [{"first_entry": "str", "last_entry": "str"}],
        "load": {"1": "num", "5": "num", "cpus": "int"},
        "memory": {"total_kb": "int", "available_kb": "int", "swap_total_kb": "int", "swap_free_kb": "int"},
        "pressure": {"*": {"some": {"avg10": "num"}, "full": {"avg10": "num"}}},
        "filesystems": [{"mount": "str", "paths": _STR_LIST, "used_pct": "int", "inodes_used_pct": "int"}],
        "processes": {"threads": "int", "pid_max": "int", "threads_pct_of_pid_max": "num"},
        "sshd_tasks": {"current": "int", "max": "int"},
        "sshd_memory": {"current_bytes": "int", "max_bytes": "int"},
        "notes": NOTES,
    },
}

PROBE_SCHEMA = {
    "outcome": "str", "stage": "str", "host": "str", "address": "str", "port": "int",
    "outcomes": {"*": "int!"}, "samples_total": "int",
    "connect_ms": {"min": "num!", "avg": "num!", "max": "num!"},
    "banner": "str", "messages": _STR_LIST, "sshd_messages": _STR_LIST, "errors": _STR_LIST,
    "mtr": [{"host": "str"}],
}

_SCALARS = {
    "str": (str,),
    "int": (int,),
    "num": (int, float),
    "bool": (bool,),
}


_KINDS = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"), (list, "a list"),
          (dict, "an object"))


def _kind(value):
    if value is None:
        return "null"
    for types, name in _KINDS:
        if isinstance(value, types):
            return name
    return type(value).__name__


_WANTED = {"str": "a string", "int": "an integer", "num": "a number", "bool": "true or false"}


def shape_problems(value, spec, where):
    """``[(path, what)]``: where ``value`` (cleaned) does not have the shape ``spec`` (see SCHEMA)."""
    problems = []
    stack = [(value, spec, (None, where))]
    while stack and len(problems) < MAX_PROBLEMS:
        item, wanted, path = stack.pop()
        if isinstance(wanted, str):
            name, nullable = wanted.rstrip("!"), not wanted.endswith("!")
            if item is None:
                if not nullable:
                    problems.append((_path_text(path), "null where %s belongs" % _WANTED.get(name, "a value")))
                continue
            if name == "any":
                continue
            types = _SCALARS[name]
            if not isinstance(item, types) or (name != "bool" and isinstance(item, bool)):
                problems.append((_path_text(path), "%s where %s belongs" % (_kind(item), _WANTED[name])))
        elif isinstance(wanted, list):
            if item is None:
                continue
            if not isinstance(item, list):
                problems.append((_path_text(path), "%s where a list belongs" % _kind(item)))
                continue
            for index, child in enumerate(item):
                stack.append((child, wanted[0], (path, index)))
        else:
            if item is None:
                continue
            if not isinstance(item, dict):
                problems.append((_path_text(path), "%s where an object belongs" % _kind(item)))
                continue
            every = wanted.get("*")
            for key, child in item.items():
                child_spec = wanted.get(key, every)
                if child_spec is not None:
                    stack.append((child, child_spec, (path, key)))
    return problems


# --------------------------------------------------------------------------- one host
def _describe(problems, limit=3):
    shown = ["%s: %s" % (path, what) for path, what in problems[:limit]]
    if len(problems) > limit:
        shown.append("and %d more" % (len(problems) - limit))
    return "; ".join(shown)


def check_evidence(evidence, probe=None, budget=None):
    """Make one host's evidence and probe safe for the rules and the report.

    Returns ``{"evidence", "probe", "rejected", "repaired", "failed"}``: the
    checked copies (evidence None when it was not an object), the sections
    (and ``probe``) that were set aside for their shape, with why, as
    ``[(name, text)]``, the repairs of the cleaning step as ``[(path, what)]``,
    and ``failed`` (None, or why nothing of the evidence can be used).
    """
    budget = budget or _Budget(MAX_NODES, MAX_CHARS)
    result = {"evidence": None, "probe": None, "rejected": [], "repaired": [], "failed": None}
    repaired = result["repaired"]
    if evidence is not None:
        if not isinstance(evidence, dict):
            result["failed"] = "the evidence is %s, not an object" % _kind(evidence)
        else:
            cleaned, dummy = clean(evidence, "evidence", repaired, budget)
            if budget.exceeded:
                result["failed"] = "the evidence is larger than the controller accepts (%d values, %d characters)" % (
                    MAX_NODES, MAX_CHARS)
            else:
                for name, spec in SCHEMA.items():
                    section = cleaned.get(name)
                    if section is None:
                        continue
                    wrong = shape_problems(section, spec, "evidence.%s" % name)
                    if wrong:
                        why = "evidence rejected by the controller: %s" % _describe(wrong)
                        # kept for the evidence file, one level deeper than it was: cut to fit the same bound
                        kept, dummy = clean(section, "evidence.%s" % name, repaired, max_depth=MAX_DEPTH - 2)
                        cleaned[name] = {"error": why, "notes": [], "rejected": kept}
                        result["rejected"].append((name, why))
                result["evidence"] = cleaned
    if probe is not None:
        cleaned_probe, dummy = clean(probe, "probe", repaired, budget)
        wrong = shape_problems(cleaned_probe, PROBE_SCHEMA, "probe")
        if budget.exceeded:
            result["rejected"].append(("probe", "the probe result is larger than the controller accepts"))
        elif wrong:
            result["rejected"].append(("probe", "probe rejected by the controller: %s" % _describe(wrong)))
        else:
            result["probe"] = cleaned_probe
    return result


def summary_of(checked):
    """One line for the report (``evidence_error``), or None when nothing was set aside or repaired."""
    parts = []
    if checked["failed"]:
        parts.append(checked["failed"])
    parts.extend(why if why.startswith(name) else "%s: %s" % (name, why) for name, why in checked["rejected"])
    if checked["repaired"]:
        parts.append("repaired: %s" % _describe(checked["repaired"], 2))
    return "; ".join(parts) or None


# The status names of _report (which imports this module); test__untrusted checks they agree.
_DIAGNOSED, _EVIDENCE_FAILED, _NOT_RUN = "diagnosed", "evidence_failed", "not_run"


def check_hosts(hosts):
    """Check every host's input to the report, in place; return ``{name: checked}`` for hosts with problems.

    ``hosts``: ``{name: {"evidence", "probe", "status", "message", ...}}`` as the
    diagnose_report action gathers it. Each host's dict is replaced (in the same
    mapping) by a checked copy, so that what the caller writes afterwards (the
    evidence files) is the checked copy too. A host whose evidence cannot be used
    at all (not an object, too large, or every section set aside) gets status
    ``evidence_failed`` and a message saying why; its probe still counts.
    """
    found = {}
    for name in list(hosts):
        data = hosts[name]
        if data is None:
            data = {}
        if not isinstance(data, dict):
            failed = "the controller got %s for this host, not an object" % _kind(data)
            hosts[name] = {"status": _NOT_RUN, "message": failed}
            found[name] = {"evidence": None, "probe": None, "rejected": [], "repaired": [], "failed": failed}
            continue
        budget = _Budget(MAX_NODES, MAX_CHARS)
        checked = check_evidence(data.get("evidence"), data.get("probe"), budget)
        rest = dict((k, v) for k, v in data.items() if k not in ("evidence", "probe"))
        copy, dummy = clean(rest, None, checked["repaired"], budget)
        copy = copy or {}
        if not isinstance(copy.get("status"), (str, type(None))):
            checked["repaired"].append(("status", "%s where a string belongs: dropped" % _kind(copy.get("status"))))
            copy["status"] = None
        evidence = checked["evidence"]
        if evidence is not None and checked["rejected"] and all(
                _is_rejected(section) for section in evidence.values() if isinstance(section, dict)):
            checked["failed"] = "every section was set aside (%s)" % _describe(
                [item for item in checked["rejected"] if item[0] != "probe"], 2)
        copy["evidence"], copy["probe"] = evidence, checked["probe"]
        if checked["failed"] and (copy.get("status") or _DIAGNOSED) == _DIAGNOSED:
            copy["status"] = _EVIDENCE_FAILED
            copy["message"] = "its result was rejected by the controller: %s" % checked["failed"]
        hosts[name] = copy
        if checked["failed"] or checked["rejected"] or checked["repaired"]:
            found[name] = checked
    return found


def _is_rejected(section):
    return bool(section.get("error")) and "rejected" in section


def note_for(checked):
    """The note the report puts first for a host whose evidence was changed on the controller (None: no note).

    A host whose evidence could not be used at all needs none: its status and message say it.
    """
    if checked["failed"]:
        return None
    text = summary_of(checked)
    if not text:
        return None
    if checked["rejected"]:
        return "the controller set part of this host's input aside (%s); the rest was diagnosed as usual" % text
    return "the controller repaired this host's evidence before reading it (%s)" % text


def mark_entry(entry, checked):
    """Add what the check found to a host's report entry: ``evidence_error`` (null when nothing) and a first note."""
    entry["evidence_error"] = summary_of(checked) if checked else None
    note = note_for(checked) if checked else None
    if note:
        entry["notes"].insert(0, note)


def diagnose_notes(checked):
    """The first notes of ``_rules.diagnose``: what the check changed (a set-aside section's own note says why)."""
    notes = []
    if checked["failed"]:
        notes.append("evidence: %s" % checked["failed"])
    notes.extend(why for name, why in checked["rejected"] if name == "probe")
    if checked["repaired"]:
        notes.append("evidence repaired by the controller: %s" % _describe(checked["repaired"], 2))
    return notes
