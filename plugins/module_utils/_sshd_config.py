# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parsers for OpenSSH's server configuration (text in, dicts out).

- ``parse_sshd_T``: the effective configuration printed by ``sshd -T``.
- ``parse_sshd_t``: the errors and warnings printed by ``sshd -t``.
- ``parse_max_startups``, ``parse_time``, ``parse_yes_no``: single values.
- ``walk_config``: read ``sshd_config`` and its ``Include`` files in the order
  sshd reads them (file access goes through two callbacks, so this module
  does no I/O of its own).
- ``provenance``: for each keyword of interest, the line whose value wins under
  that keyword's own rule, and the lines it overrides.

What sshd really does was measured on OpenSSH 8.4, 9.2 and 10.0 (see the
project's SSHD_CONFIG.md): most keywords keep the first value read,
MaxStartups keeps the last one, PerSourceMaxStartups keeps the last one before
10.0 and the first one from 10.0 on. Nothing here ever raises on odd input.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.sshdoctor.connreset.plugins.module_utils._untrusted import to_int

# sshd's compiled-in SSHDIR: relative Include paths are taken relative to it.
SSHDIR = "/etc/ssh"
DEFAULT_CONFIG = "/etc/ssh/sshd_config"
# servconf.c SERVCONF_MAX_DEPTH
MAX_INCLUDE_DEPTH = 16

# Keywords that ``sshd -T`` may print on several lines; always returned as a list.
MULTI_VALUE = frozenset(
    (
        "port",
        "listenaddress",
        "hostkey",
        "hostcertificate",
        "acceptenv",
        "subsystem",
        "allowusers",
        "denyusers",
        "allowgroups",
        "denygroups",
        "setenv",
        "include",
    )
)

# keyword (lower case) -> (CamelCase name, rule). Rules:
#   first: the first value read wins (sshd's usual "first obtained value").
#   last: every line assigns, so the last one read wins.
#   all: every line adds a value (Port, ListenAddress).
#   per_option_first: each sub-option keeps the first value read (PerSourcePenalties).
#   version: decided by ``keyword_rule`` from the OpenSSH version.
PROVENANCE_KEYWORDS = (
    ("clientaliveinterval", "ClientAliveInterval", "first"),
    ("clientalivecountmax", "ClientAliveCountMax", "first"),
    ("maxstartups", "MaxStartups", "last"),
    ("persourcemaxstartups", "PerSourceMaxStartups", "version"),
    ("persourcepenalties", "PerSourcePenalties", "per_option_first"),
    ("maxsessions", "MaxSessions", "first"),
    ("tcpkeepalive", "TCPKeepAlive", "first"),
    ("logingracetime", "LoginGraceTime", "first"),
    ("loglevel", "LogLevel", "first"),
    ("port", "Port", "all"),
    ("listenaddress", "ListenAddress", "all"),
)

# Upstream defaults of the settings above (used only when ``sshd -T`` could not run).
DEFAULTS = {
    "clientaliveinterval": "0",
    "clientalivecountmax": "3",
    "maxstartups": "10:30:100",
    "maxsessions": "10",
    "tcpkeepalive": "yes",
    "logingracetime": "120",
    "loglevel": "INFO",
    "port": ["22"],
}

# Caps on what one parse returns.
MAX_EFFECTIVE_KEYS = 1000
MAX_LIST_VALUES = 256
MAX_OVERRIDDEN = 50
MAX_FILES = 256
MAX_ERRORS = 100
MAX_ENTRIES = 20000

_KEYWORD_RE = re.compile(r"^[a-z][a-z0-9]*$")
_VERSION_RE = re.compile(r"OpenSSH_([0-9]{1,4})\.([0-9]{1,4})(p[0-9]{1,4})?")
_ERROR_RE = re.compile(r"^(?P<file>.+?):? line (?P<line>[0-9]+): (?P<message>.*)$")
_TERMINATING_RE = re.compile(r"^(?P<file>.+?): terminating, (?P<count>[0-9]+) bad configuration options?$")
_WARNING_PREFIXES = ("deprecated option", "unsupported option", "ignored unknown option")
_TIME_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TIME_PART_RE = re.compile(r"([0-9]+)([smhdwSMHDW]?)")


def _lines(text):
    for raw in (text or "").splitlines():
        yield raw.rstrip("\r")


# --------------------------------------------------------------------------- #
# sshd -T
# --------------------------------------------------------------------------- #
def parse_sshd_T(text):
    """``sshd -T`` output -> ``{keyword: value}``.

    Keywords are lower case, as sshd prints them. A keyword in ``MULTI_VALUE``,
    or one printed more than once, maps to a list of strings; every other one
    to a string. Lines that are not ``keyword value`` (error messages such as
    ``sshd: no hostkeys available -- exiting.`` or
    ``/etc/ssh/sshd_config: line 3: Bad configuration option: Foo``) are skipped:
    their first word is not a bare lower-case keyword.
    """
    result = {}
    for line in _lines(text):
        stripped = line.strip()
        if not stripped:
            continue
        keyword, _sep, value = stripped.partition(" ")
        if not _KEYWORD_RE.match(keyword):
            continue
        value = value.strip()
        if keyword in result:
            existing = result[keyword]
            if not isinstance(existing, list):
                existing = [existing]
                result[keyword] = existing
            if len(existing) < MAX_LIST_VALUES:
                existing.append(value)
        else:
            if len(result) >= MAX_EFFECTIVE_KEYS:
                continue
            result[keyword] = [value] if keyword in MULTI_VALUE else value
    return result


def first_value(effective, keyword):
    """A keyword's value as one string (the first of a list), or None."""
    value = (effective or {}).get(keyword)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def list_value(effective, keyword):
    """A keyword's values as a list of strings (empty when absent)."""
    value = (effective or {}).get(keyword)
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    return [value]


# --------------------------------------------------------------------------- #
# single values
# --------------------------------------------------------------------------- #
def parse_int(value):
    """``"10"`` -> 10; anything else -> None."""
    if value is None:
        return None
    text = str(value).strip()
    if text.startswith("+"):
        return None
    return to_int(text)


def parse_time(value):
    """sshd's time format (``convtime``): ``"120"``, ``"2m"``, ``"1h30m"`` -> seconds; else None."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    total = 0
    pos = 0
    for match in _TIME_PART_RE.finditer(text):
        number = to_int(match.group(1), signed=False)
        if match.start() != pos or number is None:
            return None
        total += number * _TIME_UNITS[match.group(2).lower()]
        pos = match.end()
    if pos != len(text):
        return None
    return total


def parse_yes_no(value):
    """``yes``/``no`` (any case) -> True/False; anything else -> None."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text == "yes":
        return True
    if text == "no":
        return False
    return None


def parse_max_startups(value, previous=None):
    """``"start:rate:full"`` -> ``{"start", "rate", "full"}`` (ints), or None.

    A single number ``N`` means start = full = N and keeps the rate already set
    (``previous``'s, else sshd's default 30): ``MaxStartups 5`` prints as
    ``maxstartups 5:30:5`` in ``sshd -T``.
    """
    if value is None:
        return None
    text = str(value).strip()
    parts = [to_int(part, signed=False) for part in text.split(":")]
    if None in parts or text != text.strip() or "+" in text:
        return None
    if len(parts) == 3:
        start, rate, full = parts
        return {"start": start, "rate": rate, "full": full}
    if len(parts) == 1:
        start = parts[0]
        rate = (previous or {}).get("rate") or 30
        return {"start": start, "rate": rate, "full": start}
    return None


def parse_per_source_max_startups(value):
    """``"none"`` -> None, ``"3"`` -> 3, anything else -> None."""
    return parse_int(value)


# --------------------------------------------------------------------------- #
# sshd -t
# --------------------------------------------------------------------------- #
def parse_sshd_t(text, rc=None):
    """``sshd -t`` output -> ``{"errors": [...], "warnings": [...], "messages": [...]}``.

    ``errors`` and ``warnings`` are ``{"file", "line", "message"}``; a line that
    names no file and line (for example ``sshd: no hostkeys available --
    exiting.``) goes to ``messages`` as it is. The summary line
    ``FILE: terminating, N bad configuration options`` is not an error of its own.
    With ``rc == 0`` every file/line message is a warning (``Deprecated option``).
    """
    errors = []
    warnings = []
    messages = []
    for line in _lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("rc="):
            continue
        if _TERMINATING_RE.match(stripped):
            continue
        candidate = stripped
        for prefix in ("sshd: ", "fatal: ", "error: "):
            if candidate.startswith(prefix) and _ERROR_RE.match(candidate[len(prefix):]):
                candidate = candidate[len(prefix):]
                break
        match = _ERROR_RE.match(candidate)
        if match and to_int(match.group("line")) is not None:
            item = {
                "file": match.group("file"),
                "line": to_int(match.group("line")),
                "message": match.group("message").strip(),
            }
            is_warning = rc == 0 or item["message"].lower().startswith(_WARNING_PREFIXES)
            target = warnings if is_warning else errors
            if len(target) < MAX_ERRORS:
                target.append(item)
        elif len(messages) < MAX_ERRORS:
            messages.append(stripped)
    return {"errors": errors, "warnings": warnings, "messages": messages}


# --------------------------------------------------------------------------- #
# versions
# --------------------------------------------------------------------------- #
def parse_openssh_version(text):
    """``"OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL ..."`` -> ``"9.2p1"`` (``"9.2"`` without pN), or None."""
    match = _VERSION_RE.search(text or "")
    if not match:
        return None
    return "%s.%s%s" % (match.group(1), match.group(2), match.group(3) or "")


def parse_package_version(text):
    """A package manager's version -> the upstream OpenSSH version.

    ``"1:9.2p1-2+deb12u10"`` (dpkg) -> ``"9.2p1"``; ``"8.7p1"`` (rpm) -> ``"8.7p1"``.
    """
    text = (text or "").strip().splitlines()[0].strip() if (text or "").strip() else ""
    match = re.match(r"^(?:[0-9]+:)?([0-9]{1,4}\.[0-9]{1,4}(?:p[0-9]{1,4})?)", text)
    return match.group(1) if match else None


def version_info(version):
    """``"9.2p1"`` -> ``[9, 2]``; None or garbage -> None."""
    match = re.match(r"^([0-9]{1,9})\.([0-9]{1,9})", version if isinstance(version, str) else "")
    if not match:
        return None
    return [int(match.group(1)), int(match.group(2))]


def keyword_rule(keyword, rule, version=None):
    """The precedence rule of ``keyword`` for an OpenSSH ``version_info`` (list or None)."""
    if rule != "version":
        return rule
    if keyword == "persourcemaxstartups":
        # measured: 9.2 keeps the last value, 10.0 the first; without a version, assume the newer.
        if version and tuple(version[:2]) < (10, 0):
            return "last"
        return "first"
    return "first"


# --------------------------------------------------------------------------- #
# reading sshd_config the way sshd does
# --------------------------------------------------------------------------- #
def split_words(text):
    """Split an argument string the way sshd's ``argv_split`` does.

    Words are separated by whitespace; double or single quotes group a word;
    a backslash escapes a quote or a backslash inside quotes; a word that
    starts with ``#`` starts a comment. Unbalanced quotes never raise: the rest
    of the line becomes the last word.
    """
    words = []
    i = 0
    text = text or ""
    n = len(text)
    while i < n:
        while i < n and text[i] in " \t\f\v":
            i += 1
        if i >= n:
            break
        if text[i] == "#":
            break
        word = []
        quote = None
        while i < n:
            ch = text[i]
            if quote:
                if ch == "\\" and i + 1 < n and text[i + 1] in ("\\", '"', "'"):
                    word.append(text[i + 1])
                    i += 2
                    continue
                if ch == quote:
                    quote = None
                    i += 1
                    continue
                word.append(ch)
                i += 1
                continue
            if ch in " \t\f\v":
                break
            if ch in ('"', "'"):
                quote = ch
                i += 1
                continue
            word.append(ch)
            i += 1
        words.append("".join(word))
    return words


def parse_config_line(line):
    """One sshd_config line -> ``(keyword, [args])``, or None for blank and comment lines.

    ``Keyword value``, ``Keyword=value`` and ``Keyword = value`` are the same.
    """
    text = (line or "").strip().rstrip("\r").strip()
    if not text or text.startswith("#"):
        return None
    match = re.match(r"^([^\s=]+)(?:\s*=\s*|\s+|$)(.*)$", text, re.DOTALL)
    if not match:
        return None
    keyword = match.group(1)
    if keyword.startswith("#"):
        return None
    return keyword, split_words(match.group(2))


def _config_lines(text):
    """``sshd_config`` text -> ``[(line_number, keyword, [args], raw_line), ...]`` (never raises)."""
    result = []
    for number, line in enumerate(_lines(text), 1):
        parsed = parse_config_line(line)
        if parsed is not None:
            result.append((number, parsed[0], parsed[1], line))
    return result


def parse_config_text(text):
    """``sshd_config`` text -> ``[(line_number, keyword, [args]), ...]`` (never raises)."""
    return [(number, keyword, args) for number, keyword, args, _raw in _config_lines(text)]


def include_path(arg, sshdir=SSHDIR):
    """sshd makes a relative Include path relative to SSHDIR (not to the including file)."""
    if arg.startswith("/") or arg.startswith("~"):
        return arg
    return "%s/%s" % (sshdir.rstrip("/"), arg)


def _match_context(args):
    """The criteria of a ``Match`` line, or None for ``Match all`` (which is global)."""
    if not args:
        return "(no criteria)"
    if len(args) == 1 and args[0].lower() == "all":
        return None
    return " ".join(args)


# What sshd says when Include nesting passes SERVCONF_MAX_DEPTH (servconf.c), word for word.
TOO_MANY_INCLUDES = "Too many recursive configuration includes"


def walk_config(path, read, glob, sshdir=SSHDIR, max_depth=MAX_INCLUDE_DEPTH, max_files=MAX_FILES):
    """Read ``path`` and every file it includes, in the order sshd reads them.

    The one walk of sshd's configuration in this collection: ``sshd_info``'s
    provenance and the hardening role's placement planner both read through it.
    ``read(path)`` returns the file's text or None; ``glob(pattern)`` returns
    the matching paths (sorted, as glob(3) sorts them). Returns::

        {"entries": [{"file", "line", "keyword", "key", "args", "value", "text", "match"}],
         "files": [each path read, once, in the order first read],
         "includes": [{"file", "line", "pattern", "matched": [paths]}],
         "problems": [str], "truncated": bool, "visits": int,
         "fatal": None or {"file", "line", "message"}}

    ``entries`` holds every directive, ``Include`` and ``Match`` lines too;
    ``match`` is the criteria of the ``Match`` block the line sits in (None
    outside one, and after ``Match all``); ``text`` is the line as written.

    The rules are sshd's own, measured with ``sshd -t`` / ``sshd -T`` on
    OpenSSH 8.4, 9.2 and 10.0 (tests/unit/fixtures/debianNN/sshd_include/):

    - ``Include`` is read where it stands, every time it stands there: the same
      glob included twice is read twice (a MaxStartups in it wins again).
    - A ``Match`` block runs to the next ``Match`` or to the end of its file;
      an included file starts in the including line's context, and the
      context is restored after it. ``Match all`` returns to the global scope.
    - There is no loop detection: a file that includes itself, directly or
      through others, nests until the depth passes 16 (the main file is depth
      0, a chain of 16 included files is accepted, 17 is not), and sshd stops
      with "Too many recursive configuration includes". The walk stops there
      too, with ``fatal`` set: what follows is never read by sshd.

    Bounded: each file is read and parsed once and each pattern globbed once (sshd
    caches both), at most
    ``max_files`` file visits and ``MAX_ENTRIES`` entries (``truncated``), so the
    cost is linear in what sshd itself would read, whatever the files say.
    """
    state = {"entries": [], "files": [], "includes": [], "problems": [], "truncated": False,
             "visits": 0, "fatal": None}
    parsed = {}
    globbed = {}  # sshd caches each Include pattern's matches too (servconf.c, the include list)

    def load(file_path):
        if file_path not in parsed:
            text = read(file_path)
            parsed[file_path] = None if text is None else _config_lines(text)
            if text is None:
                state["problems"].append("%s: could not be read" % file_path)
            else:
                state["files"].append(file_path)
        return parsed[file_path]

    def visit(file_path, depth, context):
        """False once the walk must stop (sshd's fatal error, or a cap)."""
        if state["visits"] >= max_files:
            state["truncated"] = True
            return False
        state["visits"] += 1
        lines = load(file_path)
        if lines is None:
            return True
        current = context
        for number, keyword, args, raw in lines:
            key = keyword.lower()
            if key == "match":
                current = _match_context(args)
            if len(state["entries"]) >= MAX_ENTRIES:
                state["truncated"] = True
                return False
            state["entries"].append(
                {
                    "file": file_path,
                    "line": number,
                    "keyword": keyword,
                    "key": key,
                    "args": args,
                    "value": " ".join(args),
                    "text": raw,
                    "match": current,
                }
            )
            if key != "include":
                continue
            for arg in args:
                pattern = include_path(arg, sshdir)
                # sshd runs glob(3) on every Include argument: a pattern or a
                # missing plain path that matches nothing is not an error.
                if pattern not in globbed:
                    globbed[pattern] = list(glob(pattern))
                matched = globbed[pattern]
                if len(state["includes"]) < max_files:
                    state["includes"].append(
                        {"file": file_path, "line": number, "pattern": pattern, "matched": matched[:max_files]}
                    )
                for included in matched:
                    if depth + 1 > max_depth:
                        state["fatal"] = {"file": file_path, "line": number, "message": TOO_MANY_INCLUDES}
                        state["problems"].append(
                            "%s line %d: Include nested more than %d deep (a file that includes itself?): "
                            "sshd stops with \"%s\"" % (file_path, number, max_depth, TOO_MANY_INCLUDES)
                        )
                        return False
                    if not visit(included, depth + 1, current):
                        return False
        return True

    visit(path, 0, None)
    return state


def _where(entry):
    return {"file": entry["file"], "line": entry["line"], "value": entry["value"]}


def provenance(entries, version=None, keywords=PROVENANCE_KEYWORDS, max_overridden=MAX_OVERRIDDEN):
    """For each keyword of interest, where its winning value comes from.

    ``entries`` is ``walk_config(...)["entries"]``; ``version`` the OpenSSH
    ``version_info`` (it decides PerSourceMaxStartups' rule). Returns
    ``{CamelCaseKeyword: {...}}`` with ``source`` ("config" or "default"),
    ``rule``, ``file``, ``line``, ``value`` (a list for Port and ListenAddress),
    ``overridden`` (global lines that lose to the winner, capped),
    ``match_lines`` (lines inside a Match block: they apply only to matching
    connections, so they neither win nor are overridden), and for the "all"
    rule ``values`` (every contributing line).
    """
    by_key = {}
    for entry in entries or ():
        by_key.setdefault(entry.get("key"), []).append(entry)
    result = {}
    for key, name, base_rule in keywords:
        rule = keyword_rule(key, base_rule, version)
        found = by_key.get(key, [])
        global_lines = [e for e in found if e.get("match") is None]
        match_lines = [dict(_where(e), match=e["match"]) for e in found if e.get("match") is not None]
        item = {
            "rule": rule,
            "source": "config" if global_lines else "default",
            "file": None,
            "line": None,
            "value": None,
            "overridden": [],
            "match_lines": match_lines[:max_overridden],
            "truncated": len(match_lines) > max_overridden,
        }
        if global_lines:
            if rule == "all":
                winner = global_lines[0]
                item["lines"] = [_where(e) for e in global_lines[:max_overridden]]
                item["value"] = [e["value"] for e in global_lines[:max_overridden]]
                losers = []
            elif rule == "last":
                winner = global_lines[-1]
                losers = global_lines[:-1]
            else:  # first, per_option_first
                winner = global_lines[0]
                losers = global_lines[1:]
            item["file"] = winner["file"]
            item["line"] = winner["line"]
            if rule != "all":
                item["value"] = winner["value"]
            item["overridden"] = [_where(e) for e in losers[:max_overridden]]
            item["truncated"] = item["truncated"] or len(losers) > max_overridden
            if rule == "per_option_first":
                item["lines"] = [_where(e) for e in global_lines[:max_overridden]]
        elif rule == "all":
            item["lines"] = []
        result[name] = item
    return result


def effective_from_provenance(prov, entries=None):
    """An ``sshd -T``-like dict built from the config files alone (defaults where unset).

    Used when ``sshd -T`` cannot run (not root, host keys unreadable). MaxStartups
    is replayed line by line, since a bare ``N`` keeps the rate set before it.
    """
    effective = {}
    names = dict((name, key) for key, name, _rule in PROVENANCE_KEYWORDS)
    for name, item in (prov or {}).items():
        key = names.get(name)
        if key is None:
            continue
        if item.get("source") == "config":
            effective[key] = item.get("value")
        elif key in DEFAULTS:
            effective[key] = DEFAULTS[key]
    if entries is not None and (prov or {}).get("MaxStartups", {}).get("source") == "config":
        current = parse_max_startups(DEFAULTS["maxstartups"])
        for entry in entries:
            if entry.get("key") == "maxstartups" and entry.get("match") is None:
                current = parse_max_startups(entry.get("value"), current) or current
        effective["maxstartups"] = "%d:%d:%d" % (current["start"], current["rate"], current["full"])
    return effective


def settings_from_effective(effective):
    """The handful of settings the diagnosis reads, typed, from an ``sshd -T`` dict."""
    effective = effective or {}
    log_level = first_value(effective, "loglevel")
    ports = []
    for value in list_value(effective, "port"):
        for word in str(value).split():
            number = parse_int(word)
            if number is not None:
                ports.append(number)
    listen = []
    for value in list_value(effective, "listenaddress"):
        listen.append(str(value))
    per_source_penalties = first_value(effective, "persourcepenalties")
    return {
        "client_alive_interval": parse_time(first_value(effective, "clientaliveinterval")),
        "client_alive_count_max": parse_int(first_value(effective, "clientalivecountmax")),
        "max_startups": parse_max_startups(first_value(effective, "maxstartups")),
        "max_sessions": parse_int(first_value(effective, "maxsessions")),
        "tcp_keep_alive": parse_yes_no(first_value(effective, "tcpkeepalive")),
        "login_grace_time": parse_time(first_value(effective, "logingracetime")),
        "per_source_penalties": per_source_penalties,
        "per_source_max_startups": parse_per_source_max_startups(first_value(effective, "persourcemaxstartups")),
        "log_level": log_level.upper() if log_level else None,
        "port": ports,
        "listen_address": listen,
    }
