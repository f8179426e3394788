# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where to put sshd settings so that sshd really uses them.

sshd keeps the FIRST value it reads for most keywords but the LAST one for
MaxStartups (measured on OpenSSH 8.4, 9.2 and 10.0, see SSHD_CONFIG.md), reads
``Include`` globs where they stand in lexical order, and confines a ``Match``
block to the file it appears in (a ``Match`` in a drop-in does not leak into
the next drop-in or back into the main file; measured on the same versions).

The pure part works on configuration TEXT: :func:`expand` turns the main file
plus the files it includes into the ordered list of directives sshd reads (through
``_sshd_config.walk_config``, the one walk sshd_info uses too, with sshd's own
depth rule and bounds),
:func:`plan_placement` decides which files to write so that every managed
keyword ends up with the requested value, and reports the lines that would
still win (or comments them out when allowed).  :func:`apply_placement` is the
only function with side effects: it reads the host through ``Host``, writes
through a writer object (backups first), validates the WHOLE resulting
configuration with ``sshd -t`` and ``sshd -T``, and puts the previous files
back when either says no.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import ipaddress
import os
import re
import time

from ansible_collections.sshdoctor.connreset.plugins.module_utils._sshd_config import (
    MAX_ENTRIES,
    MAX_FILES,
    include_path,
    parse_config_line,
    parse_max_startups as read_max_startups,
    parse_openssh_version,
    parse_sshd_T,
    parse_sshd_t,
    parse_time,
    version_info,
    walk_config,
)
from ansible_collections.sshdoctor.connreset.plugins.module_utils._sshd import _processes as sshd_processes
from ansible_collections.sshdoctor.connreset.plugins.module_utils._sshd import is_listener
from ansible_collections.sshdoctor.connreset.plugins.module_utils._sshd_environment import (
    NOT_RUNNING_MESSAGE,
    LocalSystem,
    SshdCheck,
    service_manager,
    sshd_started,
)
from ansible_collections.sshdoctor.connreset.plugins.module_utils._systemd import parse_show_blocks as parse_systemctl_show
from ansible_collections.sshdoctor.connreset.plugins.module_utils._untrusted import to_int

# --- what we know about each keyword -----------------------------------------------
# wins: which value sshd keeps when a keyword appears twice in the same scope.
# in_match: whether sshd -t accepts it inside a Match block (measured).
# kind: how values are compared and written.
# min_version: first OpenSSH version that knows the keyword.
KEYWORDS = (
    {"name": "ClientAliveInterval", "wins": "first", "in_match": True, "kind": "time", "min_version": None},
    {"name": "ClientAliveCountMax", "wins": "first", "in_match": True, "kind": "int", "min_version": None},
    {"name": "MaxSessions", "wins": "first", "in_match": True, "kind": "int", "min_version": None},
    {"name": "MaxStartups", "wins": "last", "in_match": False, "kind": "maxstartups", "min_version": None},
    {"name": "PerSourcePenaltyExemptList", "wins": "first", "in_match": False, "kind": "addresses", "min_version": (9, 8)},
)
KEYWORD_BY_LOWER = dict((k["name"].lower(), k) for k in KEYWORDS)
KEYWORD_ORDER = [k["name"] for k in KEYWORDS]

# sshd's default MaxStartups rate; "MaxStartups N" keeps whatever rate was read before.
DEFAULT_MAX_STARTUPS_RATE = 30

BLOCK_BEGIN = "# BEGIN sshdoctor.connreset sshd_hardening (managed block, do not edit)"
BLOCK_END = "# END sshdoctor.connreset sshd_hardening"
DROPIN_HEADER = (
    "# Managed by sshdoctor.connreset (role sshd_hardening). Local changes are overwritten.\n"
    "# sshd keeps the first value it reads for these keywords, except MaxStartups (the last one).\n"
)
DROPIN_SIGNATURE = "# Managed by sshdoctor.connreset (role sshd_hardening)."
COMMENT_MARKER = "# [sshdoctor.connreset] disabled, overridden by %s: "

# --- parsing ------------------------------------------------------------------------
# sshd_config lines, times, `sshd -V` and `sshd -T` are read exactly as sshd_info reads
# them (_sshd_config), and `systemctl show` as _systemd does: one reader for each.
tokenize = parse_config_line


def parse_version(text):
    """``("9.2p1", [9, 2])`` from any text holding ``OpenSSH_9.2p1``; (None, None) otherwise."""
    version = parse_openssh_version(text)
    return version, version_info(version)


def parse_max_startups(value):
    """``(start, rate, full)`` from ``N`` or ``start:rate:full``, read as sshd_info reads it; rate is None for
    ``N`` (which keeps the rate of an earlier MaxStartups line), and None for anything else."""
    parsed = read_max_startups(value)
    if parsed is None:
        return None
    return parsed["start"], parsed["rate"] if ":" in str(value) else None, parsed["full"]


def parse_sshd_t_errors(text, limit=20):
    """``sshd -t`` complaints as [{file, line, message}] (file/line None when not given),
    read by sshd_info's parser (the ``terminating, N bad configuration options`` summary
    is not a complaint of its own)."""
    parsed = parse_sshd_t(text)
    errors = parsed["errors"] + [{"file": None, "line": None, "message": m} for m in parsed["messages"]]
    return errors[:limit]


# --- which lines sshd reads, in order ----------------------------------------------
def glob_match(pattern, path):
    """glob(3) semantics on one path: per path component, ``*`` never crosses ``/``
    and does not match a leading dot."""
    pattern_parts = pattern.split("/")
    path_parts = path.split("/")
    if len(pattern_parts) != len(path_parts):
        return False
    for pat, part in zip(pattern_parts, path_parts):
        if pat == part:
            continue
        if part.startswith(".") and not pat.startswith("."):
            return False
        if not fnmatch.fnmatchcase(part, pat):
            return False
    return True


def walk_files(main_path, files, sshd_dir="/etc/ssh"):
    """``walk_config`` (the one Include/Match walk, shared with sshd_info) over ``files``.

    ``files`` maps path -> text (None = exists but unreadable); glob(3) is
    played on its keys.
    """
    paths = sorted(files)

    def glob(pattern):
        return [p for p in paths if glob_match(pattern, p)]

    return walk_config(main_path, files.get, glob, sshdir=sshd_dir)


def expand(main_path, files, sshd_dir="/etc/ssh"):
    """The directives sshd reads, in order, as a list of dicts, and the walk's notes.

    Each directive has file, line (1-based), keyword (as written), key (lowercase),
    args, value, text, and match (None in the global scope, else the Match criteria
    that govern it). Returns ``(directives, notes)``.
    """
    walk = walk_files(main_path, files, sshd_dir)
    return walk["entries"], walk_notes(walk)


def walk_notes(walk):
    notes = list(walk["problems"])
    if walk["truncated"]:
        notes.append("the configuration reads more than %d files or %d lines; the rest was not planned"
                     % (MAX_FILES, MAX_ENTRIES))
    return notes


def winner(directives, keyword):
    """The global directive that sets ``keyword``, by that keyword's own rule; or None."""
    key = keyword.lower()
    spec = KEYWORD_BY_LOWER.get(key, {"wins": "first"})
    candidates = [d for d in directives if d["key"] == key and d["match"] is None]
    if not candidates:
        return None
    return candidates[-1] if spec["wins"] == "last" else candidates[0]


def match_overrides(directives, keywords):
    """Lines inside Match blocks that change a managed keyword for some connections."""
    wanted = set(k.lower() for k in keywords)
    return [
        {"file": d["file"], "line": d["line"], "keyword": d["keyword"], "value": d["value"], "match": d["match"]}
        for d in directives
        if d["key"] in wanted and d["match"] is not None and d["key"] != "match"
    ]


# --- values --------------------------------------------------------------------------
def render_value(keyword, value):
    """The value as it is written to the file (already validated)."""
    kind = KEYWORD_BY_LOWER[keyword.lower()]["kind"]
    if kind == "maxstartups":
        start, rate, full = parse_max_startups(value)
        # "MaxStartups N" keeps the rate of any earlier MaxStartups line (measured:
        # 10:50:100 then 7 gives 7:50:7), so always write the full triple.
        return "%d:%d:%d" % (start, DEFAULT_MAX_STARTUPS_RATE if rate is None else rate, full)
    if kind == "addresses":
        items = value if isinstance(value, (list, tuple)) else str(value).split(",")
        return ",".join(str(item).strip() for item in items if str(item).strip())
    return str(int(value))


def normalize_value(keyword, value):
    """A comparable form of a configured or ``sshd -T`` value; None if it does not parse."""
    spec = KEYWORD_BY_LOWER.get(keyword.lower())
    if spec is None:
        return value
    text = value if not isinstance(value, (list, tuple)) else ",".join(str(v) for v in value)
    text = str(text).strip()
    if spec["kind"] == "time":
        return parse_time(text)
    if spec["kind"] == "int":
        try:
            return int(text)
        except ValueError:
            return None
    if spec["kind"] == "maxstartups":
        parsed = parse_max_startups(text)
        if parsed is None:
            return None
        start, rate, full = parsed
        return (start, DEFAULT_MAX_STARTUPS_RATE if rate is None else rate, full)
    return ",".join(part.strip().lower() for part in text.split(",") if part.strip())


def values_equal(keyword, configured, wanted):
    left = normalize_value(keyword, configured)
    right = normalize_value(keyword, wanted)
    return left is not None and left == right


def validate_settings(settings, version_info=None):
    """Check the requested values. Returns ``(rendered, errors, skipped)``.

    ``settings`` maps CamelCase keyword -> value; None (or an empty list) leaves the
    keyword unmanaged. ``rendered`` holds the managed ones as they will be written.
    ``skipped`` lists keywords this sshd is too old to know.
    """
    rendered = {}
    errors = []
    skipped = []
    settings = settings or {}
    unknown = sorted(k for k in settings if k.lower() not in KEYWORD_BY_LOWER)
    for keyword in unknown:
        errors.append("%s is not a keyword this module manages (known: %s)" % (keyword, ", ".join(KEYWORD_ORDER)))
    values = {}
    for keyword, value in settings.items():
        spec = KEYWORD_BY_LOWER.get(keyword.lower())
        if spec is None or value is None or (isinstance(value, (list, tuple)) and not value):
            continue
        values[spec["name"]] = value

    for name in KEYWORD_ORDER:
        if name not in values:
            continue
        value = values[name]
        spec = KEYWORD_BY_LOWER[name.lower()]
        if spec["min_version"] and version_info and tuple(version_info[:2]) < spec["min_version"]:
            skipped.append({"keyword": name, "reason": "needs OpenSSH %d.%d or later" % spec["min_version"]})
            continue
        error = _check_value(name, spec, value)
        if error:
            errors.append(error)
            continue
        rendered[name] = render_value(name, value)

    interval = rendered.get("ClientAliveInterval")
    count = rendered.get("ClientAliveCountMax")
    if interval is not None and count is not None and int(interval) > 0 and int(count) < 1:
        errors.append(
            "ClientAliveCountMax must be at least 1 when ClientAliveInterval is above 0 "
            "(0 silently disables the timeout)"
        )
    return rendered, errors, skipped


def _as_int(value):
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _check_value(name, spec, value):
    kind = spec["kind"]
    if kind in ("int", "time"):
        number = _as_int(value)
        if number is None:
            return "%s must be a whole number, got %r" % (name, value)
        minimum = 0 if name in ("ClientAliveInterval", "ClientAliveCountMax") else 1
        if number < minimum:
            return "%s must be at least %d, got %d" % (name, minimum, number)
        return None
    if kind == "maxstartups":
        parsed = parse_max_startups(value)
        if parsed is None:
            return "MaxStartups must be N or start:rate:full (for example 10:30:100), got %r" % (value,)
        start, rate, full = parsed
        if start < 1:
            return "MaxStartups start must be at least 1 (0 would refuse every new connection), got %r" % (value,)
        if start > full:
            return "MaxStartups start (%d) must not exceed full (%d)" % (start, full)
        if rate is not None and not 1 <= rate <= 100:
            return "MaxStartups rate must be between 1 and 100, got %d" % rate
        return None
    if kind == "addresses":
        items = value if isinstance(value, (list, tuple)) else str(value).split(",")
        for item in items:
            text = str(item).strip()
            try:
                ipaddress.ip_network(text, strict=False)
            except ValueError:
                return "%s: %r is not an address or address/prefix" % (name, text)
        return None
    return None


# --- placement -------------------------------------------------------------------------
def render_dropin(rendered):
    lines = [DROPIN_HEADER.rstrip("\n")]
    for name in KEYWORD_ORDER:
        if name in rendered:
            lines.append("%s %s" % (name, rendered[name]))
    return "\n".join(lines) + "\n"


def render_block(rendered):
    lines = [BLOCK_BEGIN]
    for name in KEYWORD_ORDER:
        if name in rendered:
            lines.append("%s %s" % (name, rendered[name]))
    lines.append(BLOCK_END)
    return lines


def find_block(lines):
    """(begin, end) indexes (0-based, inclusive) of our managed block, or None."""
    begin = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped == BLOCK_BEGIN and begin is None:
            begin = index
        elif stripped == BLOCK_END and begin is not None:
            return begin, index
    return None


def _first_match_index(lines):
    for index, line in enumerate(lines):
        token = tokenize(line)
        if token and token[0].lower() == "match":
            return index
    return None


def place_block(text, rendered):
    """The main file's text with our block above its first Match (or at its end).

    An existing block above the first Match is replaced where it stands; one that
    sits inside a Match block is moved. Comment lines directly above the Match line
    stay with it. With nothing to manage the block is removed.
    """
    lines = (text or "").splitlines()
    block = find_block(lines)
    if block is not None:
        begin, end = block
        outside = lines[:begin] + lines[end + 1:]
        first_match = _first_match_index(outside)
        if rendered and (first_match is None or begin <= first_match):
            lines = lines[:begin] + render_block(rendered) + lines[end + 1:]
            return "\n".join(lines) + "\n"
        lines = outside
    if not rendered:
        return "\n".join(lines) + ("\n" if lines else "")
    first_match = _first_match_index(lines)
    if first_match is None:
        lines = lines + render_block(rendered)
    else:
        position = first_match
        while position > 0 and lines[position - 1].lstrip().startswith("#"):
            position -= 1
        lines = lines[:position] + render_block(rendered) + lines[position:]
    return "\n".join(lines) + "\n"


def remove_block(text):
    lines = (text or "").splitlines()
    block = find_block(lines)
    if block is None:
        return text
    begin, end = block
    lines = lines[:begin] + lines[end + 1:]
    return "\n".join(lines) + ("\n" if lines else "")


def comment_out(text, line_number, target):
    """``text`` with line ``line_number`` (1-based) commented out, with our marker."""
    lines = (text or "").splitlines(True)
    index = line_number - 1
    original = lines[index]
    ending = "\n" if original.endswith("\n") else ""
    body = original.rstrip("\r\n")
    indent = body[: len(body) - len(body.lstrip())]
    lines[index] = indent + (COMMENT_MARKER % target) + body.lstrip() + ending
    return "".join(lines)


def is_ours(directive, mode, target, block_range):
    if directive["file"] != target:
        return False
    if mode == "dropin":
        return True
    return block_range is not None and block_range[0] < directive["line"] <= block_range[1] + 1


def plan_placement(main_path, files, rendered, dropin_dir="/etc/ssh/sshd_config.d",
                   dropin_name="00-sshdoctor-connreset.conf", placement="auto",
                   comment_out_conflicts=False, sshd_dir="/etc/ssh"):
    """Decide the new text of each file so that sshd uses ``rendered``.

    ``files`` maps path -> current text for the main file, everything it includes
    and our drop-in if it exists. Returns a dict:
    mode ("dropin" | "main_file"), target (the file holding our lines),
    new_files {path: text or None to delete} (only files that change),
    conflicts [{file, line, keyword, value, wanted}] still winning,
    commented_out [{file, line, keyword, value, text}], shadowed (lines that win
    with the requested value already), match_overrides, winners, errors, notes.
    """
    result = {
        "mode": None,
        "target": None,
        "new_files": {},
        "conflicts": [],
        "commented_out": [],
        "shadowed": [],
        "match_overrides": [],
        "winners": {},
        "errors": [],
        "notes": [],
    }
    if files.get(main_path) is None:
        result["errors"].append("cannot read %s" % main_path)
        return result
    # sshd itself would stop on this configuration, or it is too large to see whole:
    # nothing can be placed with certainty.
    walk = walk_files(main_path, files, sshd_dir)
    if walk["fatal"] or walk["truncated"]:
        result["errors"].extend(walk_notes(walk))
        return result
    dropin_path = dropin_dir.rstrip("/") + "/" + dropin_name
    if not dropin_name.endswith(".conf") and placement != "main_file":
        result["notes"].append("%s does not end in .conf; Debian's Include glob would not read it" % dropin_name)

    # Would sshd read our drop-in, and in the global scope?
    probe = dict(files)
    probe[dropin_path] = render_dropin(rendered) if rendered else DROPIN_HEADER
    probe[main_path] = remove_block(files[main_path])
    probe_directives, _probe_notes = expand(main_path, probe, sshd_dir)
    included_globally = any(
        d["file"] == dropin_path and d["match"] is None for d in probe_directives
    ) or _file_read_globally(probe_directives, dropin_path, sshd_dir)

    if placement == "main_file":
        mode = "main_file"
    elif placement == "dropin":
        if not included_globally:
            result["errors"].append(
                "%s would not be read by sshd: no Include outside a Match block in %s covers it "
                "(use placement auto or main_file)" % (dropin_path, main_path)
            )
            return result
        mode = "dropin"
    else:
        mode = "dropin" if included_globally else "main_file"
    result["mode"] = mode
    target = dropin_path if mode == "dropin" else main_path
    result["target"] = target

    new = dict(files)
    if mode == "dropin":
        new[main_path] = remove_block(files[main_path])
        new[dropin_path] = render_dropin(rendered) if rendered else None
    else:
        new[main_path] = place_block(files[main_path], rendered)
        existing = files.get(dropin_path)
        if existing is not None and existing.startswith(DROPIN_SIGNATURE):
            new[dropin_path] = None  # ours, from an earlier drop-in placement

    # Lines that still win: comment them out (when allowed) until ours win.
    for _round in range(200):
        readable = dict((p, t) for p, t in new.items() if t is not None)
        directives, notes = expand(main_path, readable, sshd_dir)
        block_range = find_block(readable.get(main_path, "").splitlines()) if mode == "main_file" else None
        conflicts = []
        shadowed = []
        winners = {}
        for name in KEYWORD_ORDER:
            if name not in rendered:
                continue
            won = winner(directives, name)
            if won is None:
                result["errors"].append("%s: no line sets it after placement (internal error)" % name)
                continue
            winners[name] = {"file": won["file"], "line": won["line"], "value": won["value"]}
            if is_ours(won, mode, target, block_range):
                continue
            entry = {"file": won["file"], "line": won["line"], "keyword": won["keyword"],
                     "value": won["value"], "wanted": rendered[name], "text": won["text"].strip()}
            if values_equal(name, won["value"], rendered[name]):
                shadowed.append(entry)
            else:
                conflicts.append(entry)
        if conflicts and comment_out_conflicts:
            first = conflicts[0]
            new[first["file"]] = comment_out(new[first["file"]], first["line"], target)
            result["commented_out"].append(dict(first))
            continue
        result["conflicts"] = conflicts
        result["shadowed"] = shadowed
        result["winners"] = winners
        result["notes"].extend(n for n in notes if n not in result["notes"])
        result["match_overrides"] = match_overrides(directives, list(rendered))
        break
    else:
        result["errors"].append("gave up commenting out conflicting lines after 200 rounds")

    result["new_files"] = dict(
        (path, text) for path, text in new.items() if text != files.get(path) and not (text is None and path not in files)
    )
    return result


def _file_read_globally(directives, path, sshd_dir):
    for d in directives:
        if d["key"] != "include" or d["match"] is not None:
            continue
        for arg in d["args"]:
            if glob_match(include_path(arg, sshd_dir), path):
                return True
    return False


def expected_effective(rendered):
    """{sshd -T keyword: comparable value} for every managed keyword."""
    return dict((name.lower(), normalize_value(name, value)) for name, value in rendered.items())


def effective_mismatches(rendered, effective):
    """[{keyword, wanted, effective}] where ``sshd -T`` disagrees with ``rendered``."""
    mismatches = []
    for name in KEYWORD_ORDER:
        if name not in rendered:
            continue
        got = effective.get(name.lower())
        if not values_equal(name, got if got is not None else "", rendered[name]):
            mismatches.append({"keyword": name, "wanted": rendered[name], "effective": got})
    return mismatches


def verify_endpoint(effective):
    """Where a check on the host itself can reach sshd: {address, port}."""
    listen = effective.get("listenaddress") or []
    if not isinstance(listen, list):
        listen = [listen]
    ports = effective.get("port") or ["22"]
    if not isinstance(ports, list):
        ports = [ports]
    candidates = []
    for item in listen:
        match = re.match(r"^\[?([^\]]*?)\]?:(\d+)(?:\s.*)?$", str(item).strip())
        port = _tcp_port(match.group(2)) if match else None
        if port is None:
            continue
        address = match.group(1)
        if address in ("0.0.0.0", ""):
            address = "127.0.0.1"
        elif address == "::":
            address = "::1"
        candidates.append((":" in address, address, port))
    if candidates:
        candidates.sort(key=lambda c: c[0])  # IPv4 first
        return {"address": candidates[0][1], "port": candidates[0][2]}
    # sshd -T always prints a port; without a usable one, sshd's own default
    port = _tcp_port(str(ports[0]))
    return {"address": "127.0.0.1", "port": port if port is not None else 22}


def _tcp_port(text):
    """A TCP port (1 to 65535) from host text, or None."""
    port = to_int(text, signed=False)
    return port if port is not None and 0 < port < 65536 else None


def keyscan_type(effective, exists=None):
    """The one host key type ``ssh-keyscan -t`` should ask for: a type sshd really has.

    Without ``-t`` ssh-keyscan also offers types the server lacks (sk-ssh-ed25519 on
    OpenSSH 10), and sshd logs each as "Unable to negotiate", which reads like an
    algorithm mismatch in the journal. Prefers ed25519, then ecdsa, then rsa.
    """
    keys = effective.get("hostkey") or []
    if not isinstance(keys, list):
        keys = [keys]
    found = {}
    for path in keys:
        match = re.search(r"ssh_host_(ed25519|ecdsa|rsa)_key$", path.strip())
        if match and (exists is None or exists(path.strip())):
            found.setdefault(match.group(1), path.strip())
    for key_type in ("ed25519", "ecdsa", "rsa"):
        if key_type in found:
            return key_type
    return None


def listeners(effective):
    listen = effective.get("listenaddress") or []
    if not isinstance(listen, list):
        listen = [listen]
    ports = effective.get("port") or []
    if not isinstance(ports, list):
        ports = [ports]
    return sorted(set(listen)) + ["port %s" % p for p in sorted(set(ports))]


def service_state(units, manager="systemd", why=None, listeners=None):
    """Which unit runs sshd, whether a socket starts it, and whether the role may restart it.

    ``units`` from parse_systemctl_show() (with UnitFileState), ``manager`` and ``why``
    from ``_sshd_environment.service_manager``, ``listeners`` the pids of sshd listener
    processes (read where systemd is not the manager). ``restart`` is true only when sshd
    runs now under a service manager: a stopped or disabled sshd is never started, and
    one running without a service manager (a container whose command is sshd) is never
    touched, since restarting it could end the container.
    """
    by_id = {}
    for unit in units:
        if unit.get("LoadState") == "loaded" and unit.get("Id"):
            by_id.setdefault(unit["Id"], unit)
    service = None
    for name in ("ssh.service", "sshd.service"):
        if name in by_id:
            service = name
            break
    socket = None
    for name in ("ssh.socket", "sshd.socket"):
        unit = by_id.get(name)
        if unit and unit.get("ActiveState") in ("active", "listening", "running"):
            socket = unit
            break
    service_active = bool(service and by_id[service].get("ActiveState") == "active")
    enabled = by_id[service].get("UnitFileState") or None if service else None
    listeners = list(listeners or [])
    if manager == "systemd":
        running = service_active or socket is not None
    else:
        running = bool(listeners)
    restart = running and manager != "none"
    if restart:
        message = None
    elif running:
        message = ("sshd runs (pid %s) but no service manager runs it: the new settings apply when it is "
                   "restarted; nothing was restarted" % ", ".join(str(p) for p in listeners[:3]))
    else:
        if manager == "systemd" and service:
            detail = "%s is %s and %s" % (service, enabled or "of unknown enablement", by_id[service].get("ActiveState") or "inactive")
        elif manager == "systemd":
            detail = "no ssh.service or sshd.service unit is loaded"
        else:
            detail = why or "no service manager"
        message = "%s (%s); nothing was started" % (NOT_RUNNING_MESSAGE, detail)
    return {
        "unit": service[: -len(".service")] if service else None,
        "service_active": service_active,
        "socket_activated": socket is not None,
        "socket_unit": socket["Id"] if socket else None,
        "socket_accept": bool(socket and socket.get("Accept") == "yes"),
        "manager": manager,
        "enabled": enabled,
        "running": running,
        "restart": restart,
        "message": message,
    }


def unified_diff_entry(path, before, after):
    return {
        "before_header": path if before is not None else "%s (absent)" % path,
        "after_header": path if after is not None else "%s (removed)" % path,
        "before": before or "",
        "after": after or "",
    }


# --- the side-effecting part -----------------------------------------------------------
def gather_config_files(host, main_path, sshd_dir="/etc/ssh", extra_paths=(), max_files=MAX_FILES):
    """Read the main file and every file sshd reads through it (the shared walk), and
    ``extra_paths`` that exist. Unreadable files map to None."""
    files = {}

    def read(path):
        if path not in files:
            files[path] = host.read_text(path)
        return files[path]

    walk_config(main_path, read, host.glob, sshdir=sshd_dir, max_files=max_files)
    for path in extra_paths:
        if path not in files and host.exists(path):
            files[path] = host.read_text(path)
    return files


def read_service_state(host, system, pidfile="/run/sshd.pid"):
    """service_state() of this host: systemctl where systemd runs, elsewhere the sshd listener
    whose pid is in this system's own PidFile. A chroot's /proc, when mounted (Packer's chroot
    builders mount it), shows the outer system's processes: their sshd writes its pid file into
    the outer /run, so it is not taken for this system's."""
    facts = system.facts()
    manager, why = service_manager(facts)
    units = []
    if manager == "systemd":
        result = host.run(
            ["systemctl", "show", "-p", "Id", "-p", "LoadState", "-p", "ActiveState", "-p", "Accept",
             "-p", "UnitFileState", "ssh.service", "sshd.service", "ssh.socket", "sshd.socket"]
        )
        if result.missing or result.rc != 0:
            host.note("systemd runs here but systemctl show failed (rc=%s): sshd's state is unknown" % result.rc)
        else:
            units = parse_systemctl_show(result.stdout)
    listeners = []
    if manager != "systemd" and not facts.get("chroot"):
        ours = sshd_started(host, pidfile)
        if ours is not None:
            listeners = [p["pid"] for p in (sshd_processes(host) or []) if is_listener(p) and p["pid"] == ours]
    return service_state(units, manager, why, listeners)


def _config_error_text(errors):
    return "; ".join(e["message"] if not e["file"] else "%s line %s: %s" % (e["file"], e["line"], e["message"])
                     for e in errors)


def _cannot_check(what, classification):
    return (
        "%s cannot check the configuration here (%s); that is not a configuration error, and what it "
        "lacks could not be provided for the check (see notes)"
        % (what, "; ".join(e["message"] for e in classification["environment"]) or "rc unknown")
    )


def drift_report(rendered, effective, directives):
    """One line per managed keyword: wanted, effective (sshd -T), and the line that supplies it.

    ``[{"keyword", "wanted", "effective", "ok", "file", "line", "line_text"}]``; file and line
    are None where sshd uses its default.
    """
    report = []
    for name in KEYWORD_ORDER:
        if name not in rendered:
            continue
        got = effective.get(name.lower())
        got_text = ",".join(got) if isinstance(got, list) else got
        won = winner(directives, name)
        ok = values_equal(name, got_text if got_text is not None else "", rendered[name])
        where = "%s line %d" % (won["file"], won["line"]) if won else "sshd's default (no line sets it)"
        report.append({
            "keyword": name, "wanted": rendered[name], "effective": got_text, "ok": ok,
            "file": won["file"] if won else None, "line": won["line"] if won else None,
            "line_text": "%s: %s, wanted %s, effective %s, from %s" % (
                name, "ok" if ok else "DRIFT", rendered[name], got_text if got_text is not None else "(not shown by sshd -T)", where),
        })
    return report


def apply_placement(host, writer, settings, main_path="/etc/ssh/sshd_config",
                    dropin_dir="/etc/ssh/sshd_config.d", dropin_name="00-sshdoctor-connreset.conf",
                    placement="auto", comment_out_conflicts=False, sshd_binary=None,
                    check_mode=False, sshd_dir=None, check_only=False, system=None):
    """Plan, back up, write, validate with sshd -t and sshd -T, restore on failure.

    Returns ``(result, failure)``: failure is None or a message; result is JSON-safe.
    Nothing is restarted here: the caller (a handler) does that when ``changed`` and
    ``service.restart``. Where sshd -t cannot run as the system is (no /run/sshd, no
    host keys), what it lacks is provided for the check and removed again
    (``validation``). With ``check_only`` nothing is planned or written: ``drift`` says,
    per managed keyword, whether ``sshd -T`` shows the wanted value and which line
    supplies it.
    """
    sshd_dir = sshd_dir or os.path.dirname(main_path) or "/etc/ssh"
    result = {
        "changed": False, "mode": None, "target": None, "version": None, "version_info": None,
        "config_valid_before": None, "config_errors": [], "files": [], "backups": [],
        "conflicts": [], "commented_out": [], "shadowed": [], "match_overrides": [],
        "unsupported": [], "settings": {}, "effective_before": {}, "effective_after": {},
        "listeners_changed": False, "verify": None, "service": {}, "diff": [], "notes": [],
        "validation": {"environment": []}, "drift": [], "check_only": bool(check_only),
    }

    def finish(message=None):
        notes = list(result["notes"]) + [n for n in getattr(host, "notes", []) if n not in result["notes"]]
        result["notes"] = notes
        return result, message

    if not host.is_root():
        return finish("sshd_config_placement must run as root (become: true): sshd -T and the files need it")
    sshd = sshd_binary or host.which("sshd")
    if not sshd:
        return finish("sshd is not installed (no sshd binary found)")
    check = SshdCheck(host, writer, sshd)
    try:
        failure = _apply(host, writer, check, result, settings, main_path, dropin_dir, dropin_name, placement,
                         comment_out_conflicts, check_mode, sshd_dir, check_only, system or LocalSystem())
    finally:
        check.cleanup()
        result["validation"]["environment"] = check.provided
        for item in check.provided:
            note = "sshd -t could not run here as it is (%s): %s" % (item["message"], item["handled"])
            if note not in result["notes"]:
                result["notes"].append(note)
    return finish(failure)


def _apply(host, writer, check, result, settings, main_path, dropin_dir, dropin_name, placement,
           comment_out_conflicts, check_mode, sshd_dir, check_only, system):
    """The body of apply_placement: returns None or the failure message."""
    sshd = check.sshd
    version_run = host.run([sshd, "-V"])
    result["version"], result["version_info"] = parse_version(version_run.stdout + "\n" + version_run.stderr)

    rendered, errors, skipped = validate_settings(settings, result["version_info"])
    result["unsupported"] = skipped
    result["settings"] = rendered
    if errors:
        return "invalid settings: " + "; ".join(errors)

    test, verdict = check.run(["-t", "-f", main_path])
    result["config_valid_before"] = verdict["valid"]
    if verdict["valid"] is None:
        return _cannot_check("sshd -t", verdict)
    if not verdict["valid"]:
        result["config_errors"] = parse_sshd_t_errors(test.stderr + "\n" + test.stdout)
        return (
            "the current sshd configuration is already invalid (sshd -t -f %s failed: %s); "
            "refusing to change it: fix it first, a restart would fail as it is"
            % (main_path, _config_error_text(result["config_errors"]) or "rc %s" % test.rc)
        )
    before_T, _verdict = check.run(["-T", "-f", main_path])
    effective_before = parse_sshd_T(before_T.stdout) if before_T.rc == 0 else {}
    result["effective_before"] = dict((n.lower(), effective_before.get(n.lower())) for n in KEYWORD_ORDER)
    check.pidfile = effective_before.get("pidfile") or check.pidfile

    def real_key(path):
        return host.exists(path) and not check.is_scratch(path)

    result["verify"] = verify_endpoint(effective_before)
    result["verify"]["key_type"] = keyscan_type(effective_before, real_key)
    result["service"] = read_service_state(host, system, check.pidfile)

    dropin_path = dropin_dir.rstrip("/") + "/" + dropin_name
    files = gather_config_files(host, main_path, sshd_dir, extra_paths=[dropin_path])
    if check_only:
        if not effective_before:
            return "sshd -T -f %s failed (rc=%s): the effective values cannot be checked" % (main_path, before_T.rc)
        directives, notes = expand(main_path, dict((p, t) for p, t in files.items() if t is not None), sshd_dir)
        result["notes"].extend(notes)
        result["drift"] = drift_report(rendered, effective_before, directives)
        result["match_overrides"] = match_overrides(directives, list(rendered))
        return None

    plan = plan_placement(main_path, files, rendered, dropin_dir, dropin_name, placement,
                          comment_out_conflicts, sshd_dir)
    for key in ("mode", "target", "conflicts", "commented_out", "shadowed", "match_overrides"):
        result[key] = plan[key]
    result["notes"].extend(plan["notes"])
    if plan["errors"]:
        return "; ".join(plan["errors"])
    if plan["conflicts"]:
        return (
            "other lines still win over %s: %s. Remove them, or set comment_out_conflicts "
            "(sshd_hardening_comment_out_conflicts) to comment them out with a backup"
            % (plan["target"], "; ".join(
                "%s line %d (%s, wanted %s)" % (c["file"], c["line"], c["text"], c["wanted"]) for c in plan["conflicts"]))
        )

    changes = sorted(plan["new_files"].items())
    for path, text in changes:
        before = files.get(path)
        action = "create" if before is None else ("delete" if text is None else "update")
        result["files"].append({"path": path, "action": action})
        result["diff"].append(unified_diff_entry(path, before, text))
    result["changed"] = bool(changes)
    if not changes or check_mode:
        if not changes:
            result["effective_after"] = dict((n.lower(), effective_before.get(n.lower())) for n in KEYWORD_ORDER)
        return None

    # Back up everything we touch, then write.
    stamp = "%s-%d" % (time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), os.getpid())
    backups = []
    for path, _text in changes:
        if files.get(path) is not None:
            backups.append({"path": path, "backup": writer.backup(path, stamp)})
        else:
            backups.append({"path": path, "backup": None})
    result["backups"] = backups
    try:
        for path, text in changes:
            if text is None:
                writer.remove(path)
            else:
                writer.write(path, text, template=main_path)
    except Exception as exc:  # pylint: disable=broad-except
        _restore(writer, backups)
        result["changed"] = False
        return "writing the configuration failed (%s); previous files restored" % exc

    after_test, after_verdict = check.run(["-t", "-f", main_path])
    if not after_verdict["valid"]:
        result["config_errors"] = parse_sshd_t_errors(after_test.stderr + "\n" + after_test.stdout)
        _restore(writer, backups)
        result["changed"] = False
        if after_verdict["valid"] is None:
            return _cannot_check("sshd -t", after_verdict) + "; the previous files are back in place"
        return (
            "sshd -t rejected the new configuration (%s); the previous files are back in place"
            % "; ".join(e["message"] for e in result["config_errors"])
        )
    after_T, _verdict = check.run(["-T", "-f", main_path])
    effective_after = parse_sshd_T(after_T.stdout) if after_T.rc == 0 else {}
    result["effective_after"] = dict((n.lower(), effective_after.get(n.lower())) for n in KEYWORD_ORDER)
    mismatches = effective_mismatches(rendered, effective_after)
    if mismatches:
        _restore(writer, backups)
        result["changed"] = False
        return (
            "sshd -T does not show the requested values after writing (%s); the previous files are back in place"
            % "; ".join("%s wanted %s, effective %s" % (m["keyword"], m["wanted"], m["effective"]) for m in mismatches)
        )
    result["listeners_changed"] = listeners(effective_before) != listeners(effective_after)
    result["verify"] = verify_endpoint(effective_after)
    result["verify"]["key_type"] = keyscan_type(effective_after, real_key)
    return None


def _restore(writer, backups):
    for item in backups:
        try:
            if item["backup"] is None:
                writer.remove(item["path"])
            else:
                writer.restore(item["backup"], item["path"])
        except Exception:  # pylint: disable=broad-except
            pass


class ModuleWriter:
    """Writes through an AnsibleModule: atomic moves, backups under ``backup_dir``."""

    def __init__(self, module, backup_dir):
        self.module = module
        self.backup_dir = backup_dir

    def backup(self, path, stamp):
        import shutil

        directory = os.path.join(self.backup_dir, stamp)
        target = os.path.join(directory, path.lstrip("/"))
        parent = os.path.dirname(target)
        if not os.path.isdir(parent):
            os.makedirs(parent, 0o700)
        os.chmod(self.backup_dir, 0o700)
        shutil.copy2(path, target)
        return target

    def restore(self, backup, path):
        import shutil
        import tempfile

        handle, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".sshdoctor-restore-")
        os.close(handle)
        shutil.copy2(backup, tmp)
        self.module.atomic_move(tmp, path)

    def remove(self, path):
        if os.path.lexists(path):
            os.remove(path)

    # For sshd -t where sshd is not running (_sshd_environment.SshdCheck).
    def make_dir(self, path, mode):
        os.mkdir(path, mode)
        os.chmod(path, mode)

    def remove_dir(self, path):
        os.rmdir(path)

    def scratch_dir(self):
        import tempfile

        return tempfile.mkdtemp(prefix="sshdoctor-validate-")

    def remove_tree(self, path):
        import shutil

        shutil.rmtree(path)

    def write(self, path, text, template=None):
        import tempfile

        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        existed = os.path.exists(path)
        handle, tmp = tempfile.mkstemp(dir=directory, prefix=".sshdoctor-")
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
        if not existed:
            mode = 0o644
            if template and os.path.exists(template):
                mode = os.stat(template).st_mode & 0o644
            os.chmod(tmp, mode)
        self.module.atomic_move(tmp, path)
