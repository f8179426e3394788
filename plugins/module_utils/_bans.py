# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ban tools and rate limits: who is banned from SSH here, by what, since and until when.

Reads fail2ban (``fail2ban-client``, its database, its log), sshguard (its
configuration, whitelist and log; its blocks are the members of its sets in the
packet filter), ufw (the rules it wrote: ``/etc/ufw/user*.rules`` and the chains in
the packet filter, and the per-source list of its ``limit`` rules in
``/proc/net/xt_recent``) and firewalld (``firewall-cmd`` when it runs, its zone
files otherwise), and joins them with the packet filter (``_firewall``: rules and
the members of nft sets and ipsets) to say, per banned address, whether a rule that
touches SSH really applies the ban, and which command lifts it.

Pure parsers (text in, dicts out) plus ``collect_bans(host, ...)``, which reads the
host only through the Host API. The log messages of these tools are recognised by
the one catalogue of them below (``TOOL_LOG_PATTERNS``); sshd's own lines stay in
``_signatures.py``.

The section (``evidence.bans``)::

    {"tools": {"fail2ban": {...}, "sshguard": {...}, "ufw": {...}, "firewalld": {...}},
     "banned": [{tool, where, address, since, until, since_epoch, until_epoch, enforced, unban}],
     "banned_total": N,
     "clients": {"<spec>": [{kind, tool, where, element, rule, verdict, since_epoch, until_epoch, unban}]},
     "limits": {...}, "truncated": bool, "notes": [...]}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _firewall
from ansible_collections.sshdoctor.connreset.plugins.module_utils._firewall import int_or_none
from ansible_collections.sshdoctor.connreset.plugins.module_utils._host_health import iso_from_epoch as iso
from ansible_collections.sshdoctor.connreset.plugins.module_utils._journal import line_epoch
from ansible_collections.sshdoctor.connreset.plugins.module_utils._systemd import find_block, parse_show_blocks, to_int
from ansible_collections.sshdoctor.connreset.plugins.module_utils._client_address import from_environment, host_address
from ansible_collections.sshdoctor.connreset.plugins.module_utils._untrusted import load_json

MAX_BANNED = 20
MAX_JAILS = 20
MAX_JAIL_BANS = 20
MAX_CLIENT_ENTRIES = 50
MAX_LOG_ADDRESSES = 50
MAX_SAMPLES = 3
MAX_ZONES = 20
MAX_RULES = 50
MAX_WHITELIST = 50
MAX_TEXT = 400
LOG_TAIL_BYTES = 1024 * 1024
JOURNAL_LINES = 5000
COMMAND_TIMEOUT = 30

UNITS = ("fail2ban.service", "sshguard.service", "ufw.service", "firewalld.service")
F2B_DEFAULT_LOG = "/var/log/fail2ban.log"
F2B_DEFAULT_DB = "/var/lib/fail2ban/fail2ban.sqlite3"
F2B_PROMPT = "fail2ban> "
SSHGUARD_CONF = "/etc/sshguard/sshguard.conf"
UFW_CONF = "/etc/ufw/ufw.conf"
UFW_DEFAULT = "/etc/default/ufw"
UFW_USER_RULES = ("/etc/ufw/user.rules", "/etc/ufw/user6.rules")
XT_RECENT_DIR = "/proc/net/xt_recent"
FIREWALLD_CONF = "/etc/firewalld/firewalld.conf"
FIREWALLD_ZONE_DIRS = ("/etc/firewalld/zones", "/usr/lib/firewalld/zones")

# --------------------------------------------------------------------------- the tools' log lines
# One catalogue for the log lines of the ban tools (sshd's own lines live in _signatures.py).
# Each: id -> (tool, compiled pattern); groups name what the line says.
# Repetitions are bounded (a jail name, an address) so that each pattern is linear in the line,
# and parse_tool_log reads at most MAX_LINE characters of a line.
TOOL_LOG_PATTERNS = (
    ("f2b_ban", "fail2ban", re.compile(r"\[(?P<jail>[^\]]{1,64})\] (?P<restore>Restore )?Ban (?P<address>[0-9A-Fa-f.:/]{2,64})")),
    ("f2b_unban", "fail2ban", re.compile(r"\[(?P<jail>[^\]]{1,64})\] Unban (?P<address>[0-9A-Fa-f.:/]{2,64})")),
    ("f2b_found", "fail2ban", re.compile(r"\[(?P<jail>[^\]]{1,64})\] Found (?P<address>[0-9A-Fa-f.:/]{2,64})")),
    ("f2b_already_banned", "fail2ban",
     re.compile(r"\[(?P<jail>[^\]]{1,64})\] (?P<address>[0-9A-Fa-f.:/]{2,64}) already banned")),
    ("f2b_ban_failed", "fail2ban", re.compile(
        r"Failed to execute ban jail '(?P<jail>[^']{1,64})' action '(?P<action>[^']{1,128})'.*?'ip': '(?P<address>[^']{1,64})'")),
    ("f2b_action_stderr", "fail2ban", re.compile(r" -- stderr: '(?P<error>.*)'\s*$")),
    ("sshguard_attack", "sshguard", re.compile(
        r'Attack from "(?P<address>[^"]{1,64})" on service (?P<service>\S{1,32}) with danger (?P<danger>\d{1,6})')),
    ("sshguard_block", "sshguard", re.compile(
        r'Blocking "(?P<address>[^"]{1,64})" (?:for (?P<seconds>\d{1,12}) secs|(?P<forever>forever))')),
    ("sshguard_release", "sshguard", re.compile(r'(?:Releasing|Unblocking) "?(?P<address>[0-9A-Fa-f.:/]{2,64})"?')),
)
MAX_LINE = 4096

# fail2ban's file log: "2026-12-02 09:46:58,368 fail2ban.actions [123]: NOTICE [sshd] Ban 10.89.0.4" (local time).
_F2B_FILE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:,(\d+))?")
# "10.89.0.4 \t2026-12-02 09:46:57 + 3600 = 2026-12-02 10:46:57"
_F2B_BANIP_TIME = re.compile(
    r"^(?P<address>\S+)\s+(?P<start>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) \+ (?P<seconds>-?\d+) = (?P<end>\S+ \S+)")


def match_tool_line(line):
    """``(pattern id, tool, groupdict)`` of the first catalogue entry that matches ``line``, or None."""
    for pattern_id, tool, pattern in TOOL_LOG_PATTERNS:
        found = pattern.search(line)
        if found:
            return pattern_id, tool, found.groupdict()
    return None


# --------------------------------------------------------------------------- times
def local_to_epoch(text):
    """A ``YYYY-MM-DD HH:MM:SS`` time in this host's local time zone -> seconds since the epoch."""
    try:
        return int(time.mktime(time.strptime(text, "%Y-%m-%d %H:%M:%S")))
    except (ValueError, OverflowError):
        return None


# --------------------------------------------------------------------------- clients
parse_client_specs = _firewall.parse_client_specs
MAX_CLIENTS = _firewall.MAX_CLIENTS


# --------------------------------------------------------------------------- small readers
def parse_shell_vars(text):
    """``KEY=VALUE`` lines of a shell-style configuration file (quotes removed, comments skipped)."""
    result = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, dummy, value = line.partition("=")
        key = key.strip()
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        result[key] = value
    return result


def _clip(text, limit=MAX_TEXT):
    text = str(text).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _unit_state(blocks, unit):
    block = find_block(blocks, unit) or {}
    if not block:
        return {"unit": unit, "loaded": None, "active_state": None, "sub_state": None, "unit_file_state": None}
    return {
        "unit": unit,
        "loaded": block.get("LoadState") == "loaded",
        "active_state": block.get("ActiveState") or None,
        "sub_state": block.get("SubState") or None,
        "unit_file_state": block.get("UnitFileState") or None,
        "main_pid": to_int(block.get("MainPID")),
    }


# --------------------------------------------------------------------------- fail2ban: client output
def split_f2b_batch(text, count):
    """The answers of ``fail2ban-client -i`` to ``count`` commands read from stdin, in order.

    Its output is a banner, then ``fail2ban> `` before each answer (and one more at the end of
    input). Returns None when fewer answers than commands came back (an older client, a crash).
    """
    parts = (text or "").split(F2B_PROMPT)
    answers = [p.rstrip("\n") for p in parts[1:]]
    if len(answers) < count:
        return None
    return answers[:count]


def parse_f2b_status(text):
    """``fail2ban-client status`` -> list of jail names (None when the text is not that)."""
    match = re.search(r"Jail list:\s*(.*)$", text or "", re.M)
    if not match:
        return None
    return [j.strip() for j in match.group(1).split(",") if j.strip()]


def parse_f2b_jail_status(text):
    """``status JAIL``: failure and ban counts, what the filter reads, the banned list."""
    result = {"currently_failed": None, "total_failed": None, "currently_banned": None, "total_banned": None,
              "journal_matches": None, "files": None, "banned": []}
    keys = {"Currently failed": "currently_failed", "Total failed": "total_failed",
            "Currently banned": "currently_banned", "Total banned": "total_banned"}
    for raw in (text or "").splitlines():
        line = re.sub(r"^[\s|`\-]*", "", raw)
        name, sep, value = line.partition(":")
        if not sep:
            continue
        name, value = name.strip(), value.strip()
        if name in keys:
            result[keys[name]] = int_or_none(value)
        elif name == "Journal matches":
            result["journal_matches"] = value
        elif name == "File list":
            result["files"] = value.split()
        elif name == "Banned IP list":
            result["banned"] = value.split()
    return result


def parse_f2b_banip_with_time(text, to_epoch=local_to_epoch):
    """``get JAIL banip --with-time`` -> ``[{address, since_epoch, until_epoch, bantime}]``.

    fail2ban prints its server's local time; a negative ban time is a permanent ban.
    """
    bans = []
    for raw in (text or "").splitlines():
        match = _F2B_BANIP_TIME.match(raw.strip())
        if not match:
            continue
        seconds = int_or_none(match.group("seconds"))
        since = to_epoch(match.group("start"))
        until = None
        if seconds is not None and seconds >= 0 and since is not None:
            until = since + seconds
        bans.append({"address": match.group("address"), "since_epoch": since, "until_epoch": until,
                     "bantime": seconds})
    return bans


def parse_f2b_value_list(text):
    """``get JAIL ignoreip`` / ``get logtarget``: the ``|-`` / ``\\`-`` items, or [] for "No ... is ignored"."""
    items = []
    for raw in (text or "").splitlines():
        # the item stripped afterwards: a lazy group before "\s*$" would retry the rest at every space (quadratic)
        match = re.match(r"\s*[|`]-(.*)", raw)
        item = match.group(1).strip() if match else ""
        if item:
            items.append(item)
    return items


def parse_f2b_actions(text):
    """``get JAIL actions`` -> action names."""
    lines = [l.strip() for l in (text or "").splitlines() if l.strip()]
    if lines and lines[0].startswith("The jail"):
        lines = lines[1:]
    names = []
    for line in lines:
        names.extend(n.strip() for n in line.split(",") if n.strip())
    return names


def parse_f2b_db_rows(rows, now):
    """Rows of ``bips`` (jail, ip, timeofban, bantime, bancount, data) -> ``{(jail, ip): ban}``.

    ``data`` is fail2ban's JSON: ``matches`` (the log lines that made the ban) and ``failures``.
    Bans whose time has run out by ``now`` are left out.
    """
    bans = {}
    for row in rows or []:
        if len(row) < 6:
            continue
        jail, address, since, bantime, bancount, data = row[:6]
        since, bantime = int_or_none(since), int_or_none(bantime)
        if since is None or bantime is None:
            continue
        until = None if bantime < 0 else since + bantime
        if until is not None and now is not None and until <= now:
            continue
        matches, failures = [], None
        info = load_json(data)[0] if isinstance(data, str) and data else {}
        if isinstance(info, dict):
            failures = int_or_none(info.get("failures"))
            listed = info.get("matches")
            for item in (listed[-MAX_SAMPLES:] if isinstance(listed, list) else []):
                # A match is a line, or a list of its pieces (prefix, time, message).
                text = "".join(str(p) for p in item[:8]) if isinstance(item, list) else str(item)
                matches.append(_clip(text.strip(), 240))
        bans[(str(jail), str(address))] = {
            "address": str(address), "since_epoch": since, "until_epoch": until, "bantime": bantime,
            "bancount": int_or_none(bancount), "failures": failures, "matches": matches,
        }
    return bans


def _f2b_covers_sshd(name, status):
    text = " ".join([name or "", status.get("journal_matches") or "", " ".join(status.get("files") or [])]).lower()
    return "ssh" in text or "auth.log" in text or "/secure" in text or name in ("recidive",)


# --------------------------------------------------------------------------- fail2ban and sshguard logs
def parse_tool_log(lines, to_epoch=local_to_epoch, tool=None, keep=()):
    """Summarise fail2ban's or sshguard's log lines.

    Returns ``{lines, counts: {id: n}, addresses: {address: {...}}, failed_bans: [...]}``:
    per address (at most MAX_LOG_ADDRESSES: those in ``keep``, then the most recent) the
    counts of Found/Ban/Unban (fail2ban) or attacks/blocks (sshguard) per jail, the first
    and last time, the newest block's end. ``lines`` is any iterable of text lines,
    journal (``short-iso``) or fail2ban's own file.
    """
    summary = {"lines": 0, "counts": {}, "addresses": {}, "failed_bans": [], "first_seen": None, "last_seen": None}
    last_error = None
    keep = set(keep or ())
    for raw in lines:
        line = raw.rstrip("\n")[:MAX_LINE]
        if not line:
            continue
        summary["lines"] += 1
        hit = match_tool_line(line)
        if hit is None:
            continue
        pattern_id, line_tool, groups = hit
        if tool is not None and line_tool != tool:
            continue
        epoch = _log_epoch(line, to_epoch)
        if epoch is not None:
            summary["first_seen"] = epoch if summary["first_seen"] is None else min(summary["first_seen"], epoch)
            summary["last_seen"] = epoch if summary["last_seen"] is None else max(summary["last_seen"], epoch)
        if pattern_id == "f2b_action_stderr":
            last_error = groups.get("error")
            continue
        summary["counts"][pattern_id] = summary["counts"].get(pattern_id, 0) + 1
        address = host_address(groups.get("address"))
        if pattern_id == "f2b_ban_failed":
            # The newest ten, each with the error its action's command printed just before.
            summary["failed_bans"].append({"jail": groups.get("jail"), "action": groups.get("action"),
                                           "address": address, "epoch": epoch,
                                           "error": _clip(last_error, 240) if last_error else None})
            del summary["failed_bans"][:-10]
        entry = summary["addresses"].get(address)
        if entry is None:
            entry = {"jails": {}, "first_seen": epoch, "last_seen": epoch}
            summary["addresses"][address] = entry
        entry["last_seen"] = epoch if epoch is not None else entry["last_seen"]
        if entry["first_seen"] is None:
            entry["first_seen"] = epoch
        jail = groups.get("jail") or line_tool
        counts = entry["jails"].setdefault(jail, {})
        key = {"f2b_ban": "restored_bans" if groups.get("restore") else "bans", "f2b_unban": "unbans",
               "f2b_found": "found", "f2b_already_banned": "already_banned", "f2b_ban_failed": "failed_bans",
               "sshguard_attack": "attacks", "sshguard_block": "blocks", "sshguard_release": "releases"}[pattern_id]
        counts[key] = counts.get(key, 0) + 1
        if pattern_id in ("f2b_ban", "sshguard_block"):
            counts["last_ban_epoch"] = epoch
            if pattern_id == "sshguard_block":
                seconds = int_or_none(groups.get("seconds"))
                counts["block_until_epoch"] = (epoch + seconds) if (epoch is not None and seconds is not None) else None
                counts["block_forever"] = bool(groups.get("forever"))
        if pattern_id in ("f2b_unban", "sshguard_release"):
            counts["last_unban_epoch"] = epoch
        if len(summary["addresses"]) > 4 * MAX_LOG_ADDRESSES:
            _trim_addresses(summary["addresses"], keep, 2 * MAX_LOG_ADDRESSES)
    _trim_addresses(summary["addresses"], keep, MAX_LOG_ADDRESSES)
    return summary


def _trim_addresses(addresses, keep, limit):
    if len(addresses) <= limit:
        return
    ranked = sorted(addresses, key=lambda a: (a not in keep, -(addresses[a].get("last_seen") or 0)))
    for address in ranked[limit:]:
        del addresses[address]


def _log_epoch(line, to_epoch):
    match = _F2B_FILE_TIME.match(line)
    if match:
        return to_epoch(match.group(1))
    epoch = line_epoch(line)
    return int(epoch) if epoch is not None else None


# --------------------------------------------------------------------------- ufw
def parse_ufw_user_rules(text, ipv6=False):
    """``/etc/ufw/user.rules``: one dict per ``### tuple ###`` (ufw's own record of each rule).

    ``### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in`` is action, protocol, port,
    destination, source port, source, direction (``_v6`` variants carry ``in_v6`` / more fields).
    The ``-A`` lines under a tuple are its iptables rules; ``--hitcount``/``--seconds`` of a
    ``limit`` come from them.
    """
    rules = []
    current = None
    for raw in (text or "").splitlines():
        line = raw.strip()
        if line.startswith("### tuple ###"):
            fields = line[len("### tuple ###"):].split()
            if len(fields) < 7:
                current = None
                continue
            action, proto, dport, dst, sport, src, direction = fields[:7]
            current = {"action": action.split("_")[0], "proto": proto, "dport": dport, "dst": dst,
                       "sport": sport, "src": src, "direction": direction.split("_")[0], "ipv6": ipv6,
                       "tuple": _clip(" ".join(fields)), "hitcount": None, "seconds": None, "lines": []}
            rules.append(current)
            continue
        if current is None or not line.startswith("-A "):
            if line.startswith("### END RULES"):
                current = None
            continue
        if len(current["lines"]) < 5:
            current["lines"].append(_clip(line))
        hit = re.search(r"--hitcount (\d+)", line)
        if hit:
            current["hitcount"] = int(hit.group(1))
        secs = re.search(r"--seconds (\d+)", line)
        if secs:
            current["seconds"] = int(secs.group(1))
    return rules


def ufw_rule_command(rule):
    """The ``ufw`` arguments that name this rule again (for ``ufw delete``)."""
    parts = [rule["action"]]
    if rule.get("direction") == "out":
        parts.append("out")
    src = rule.get("src") or "any"
    dst = rule.get("dst") or "any"
    src = "any" if src in ("0.0.0.0/0", "::/0") else src
    dst = "any" if dst in ("0.0.0.0/0", "::/0") else dst
    if src == "any" and dst == "any" and rule.get("sport") in (None, "any") and rule.get("proto") != "any":
        parts.append("%s/%s" % (rule.get("dport"), rule.get("proto")) if rule.get("dport") not in (None, "any")
                     else "proto %s" % rule.get("proto"))
        return " ".join(parts)
    parts += ["from", src, "to", dst]
    if rule.get("dport") not in (None, "any"):
        parts += ["port", rule["dport"]]
    if rule.get("proto") not in (None, "any"):
        parts += ["proto", rule["proto"]]
    return " ".join(parts)


def _port_in(spec, ports):
    if spec in (None, "any"):
        return True
    ranges = _firewall.parse_port_spec(spec)
    return bool(ranges) and any(lo <= p <= hi for lo, hi in ranges for p in ports)


def parse_xt_recent(text):
    """A ``/proc/net/xt_recent/NAME`` list: ``[{address, packets, refused, last_seen_jiffies}]``.

    Each line is ``src=A ttl: T last_seen: J oldest_pkt: I J1, J2, ...``: the kernel ticks of the
    source's newest packets (at most 20 by default, a ring whose next slot is ``I``). ufw's
    ``limit`` stamps every new connection (``--set``), and stamps it once more when its
    ``--update --hitcount`` rule matches it, that is when the packet is refused: two equal times
    next to each other are a refused SYN (a refused connection is usually two, with the client's
    retransmission). ``packets`` is how many new-connection packets the list holds, ``refused``
    how many of them were refused (the pairs).
    """
    entries = []
    for raw in (text or "").splitlines():
        match = re.match(r"^src=(\S+) ttl: \d+ last_seen: (\d{1,20}) oldest_pkt: (\d{1,6})((?:[ ,]+\d{1,20})*)\s*$",
                         raw.strip())
        if not match:
            continue
        stamps = [int(t) for t in re.findall(r"\d+", match.group(4))[:256]]
        index = int(match.group(3))
        if 0 < index < len(stamps):
            stamps = stamps[index:] + stamps[:index]  # the ring has wrapped: oldest first
        refused, i = 0, 0
        while i + 1 < len(stamps):
            if stamps[i] == stamps[i + 1]:
                refused += 1
                i += 2
            else:
                i += 1
        entries.append({"address": match.group(1), "packets": len(stamps) - refused, "refused": refused,
                        "last_seen_jiffies": int(match.group(2))})
    return entries


# --------------------------------------------------------------------------- firewalld
_RICH_ACTION = re.compile(r"\b(accept|reject|drop|mark)\b")


def parse_rich_rule(text):
    """What a firewalld rich rule says, for the questions asked here.

    ``rule family="ipv4" source address="10.89.0.4" reject`` ->
    ``{text, family, source, source_negated, service, port, action, limit}``.
    """
    def attr(pattern):
        match = re.search(pattern, text)
        return match.group(1) if match else None

    source_part = re.search(r'source (NOT )?(?:address|ipset|mac)="([^"]+)"', text)
    port = attr(r'(?<!source-)port port="([^"]+)"')
    tail = re.sub(r'"[^"]*"', '""', text)
    actions = _RICH_ACTION.findall(tail)
    return {
        "text": _clip(text),
        "family": attr(r'family="([^"]+)"'),
        "source": source_part.group(2) if source_part else None,
        "source_negated": bool(source_part and source_part.group(1)),
        "service": attr(r'service name="([^"]+)"'),
        "port": port,
        "protocol": attr(r'protocol="([^"]+)"'),
        "action": actions[-1] if actions else None,
        "limit": attr(r'limit value="([^"]+)"'),
    }


def rich_rule_affects_ssh(rule, ports):
    """Could this rich rule act on a new TCP connection to sshd? (No service, no port: every port.)"""
    if rule.get("service"):
        return rule["service"] == "ssh"
    if rule.get("port"):
        return (rule.get("protocol") in (None, "tcp")) and _port_in(rule["port"].replace("-", ":"), ports)
    return True


def parse_firewall_cmd_zones(text, ports=(22,)):
    """``firewall-cmd --list-all-zones`` -> ``[{name, default, active, target, interfaces, sources,
    services, ports, rich_rules, ssh_allowed}]``."""
    zones = []
    current = None
    in_rich = False
    for raw in (text or "").splitlines():
        if not raw.strip():
            in_rich = False
            continue
        if not raw[:1].isspace():
            match = re.match(r"^(\S+)(?:\s+\(([^)]*)\))?\s*$", raw)
            if not match:
                current = None
                continue
            flags = [f.strip() for f in (match.group(2) or "").split(",")]
            current = {"name": match.group(1), "default": "default" in flags, "active": "active" in flags,
                       "target": None, "interfaces": [], "sources": [], "services": [], "ports": [],
                       "rich_rules": []}
            zones.append(current)
            in_rich = False
            continue
        if current is None:
            continue
        if in_rich and raw.startswith("\t"):
            current["rich_rules"].append(parse_rich_rule(raw.strip()))
            continue
        key, sep, value = raw.strip().partition(":")
        if not sep:
            continue
        value = value.strip()
        if key in ("interfaces", "sources", "services", "ports"):
            current[key] = value.split()
        elif key == "target":
            current["target"] = value
        elif key == "rich rules":
            in_rich = True
    for zone in zones:
        _zone_ssh(zone, ports)
    return zones


def parse_zone_xml(text, name, ports=(22,)):
    """A zone file of ``/etc/firewalld/zones`` (or the shipped ``/usr/lib/firewalld/zones``)."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(text)
    except (ElementTree.ParseError, ValueError):
        return None
    if root.tag != "zone":
        return None
    zone = {"name": name, "default": False, "active": False, "target": root.get("target") or "default",
            "interfaces": [e.get("name") for e in root.findall("interface") if e.get("name")],
            "sources": [e.get("address") or e.get("ipset") for e in root.findall("source")
                        if e.get("address") or e.get("ipset")],
            "services": [e.get("name") for e in root.findall("service") if e.get("name")],
            "ports": ["%s/%s" % (e.get("port"), e.get("protocol")) for e in root.findall("port") if e.get("port")],
            "rich_rules": []}
    for rule in root.findall("rule"):
        zone["rich_rules"].append(parse_rich_rule(_rich_text_from_xml(rule)))
    _zone_ssh(zone, ports)
    return zone


def _rich_text_from_xml(rule):
    parts = ["rule"]
    if rule.get("family"):
        parts.append('family="%s"' % rule.get("family"))
    for child in list(rule):
        if child.tag == "source":
            value = child.get("address") or child.get("ipset") or child.get("mac")
            kind = "address" if child.get("address") else "ipset" if child.get("ipset") else "mac"
            parts.append('source %s%s="%s"' % ("NOT " if child.get("invert") in ("true", "yes") else "", kind, value))
        elif child.tag == "service":
            parts.append('service name="%s"' % child.get("name"))
        elif child.tag == "port":
            parts.append('port port="%s" protocol="%s"' % (child.get("port"), child.get("protocol")))
        elif child.tag in ("accept", "reject", "drop", "mark"):
            parts.append(child.tag)
            limit = child.find("limit")
            if limit is not None and limit.get("value"):
                parts.append('limit value="%s"' % limit.get("value"))
    return " ".join(parts)


def _zone_ssh(zone, ports):
    """``ssh_allowed``: the zone accepts new SSH connections (service ssh, the port, or target ACCEPT)."""
    allowed = zone.get("target") in ("ACCEPT",) or "ssh" in zone["services"]
    for spec in zone["ports"]:
        port, dummy, proto = spec.partition("/")
        if proto in ("tcp", "") and _port_in(port.replace("-", ":"), ports):
            allowed = True
    zone["ssh_allowed"] = allowed
    for rule in zone["rich_rules"]:
        rule["affects_ssh"] = rich_rule_affects_ssh(rule, ports)


def zone_for(address, zones, default_zone):
    """The zone that handles a client: a zone whose sources hold it, else the default zone.

    (A zone bound to the interface the client comes in on would apply before the default one;
    which interface that is cannot be told from here.)
    """
    rng = _firewall.address_range(address)
    for zone in zones:
        if any(_firewall.ranges_overlap(rng, _firewall.address_range(s)) for s in zone.get("sources") or []):
            return zone, "source"
    for zone in zones:
        if zone["name"] == default_zone:
            return zone, "default"
    return None, None


# --------------------------------------------------------------------------- unban commands
def f2b_unban(jail, address):
    return "fail2ban-client set %s unbanip %s" % (jail, address)


def nft_unban(family, table, name, element):
    return "nft delete element %s %s %s { %s }" % (family, table, name, element)


def ipset_unban(name, element):
    return "ipset del %s %s" % (name, element)


def firewalld_remove_rich(zone, text):
    return ("firewall-cmd --zone=%s --remove-rich-rule='%s' && firewall-cmd --permanent --zone=%s "
            "--remove-rich-rule='%s'" % (zone, text, zone, text))


def firewalld_remove_source(zone, source):
    return ("firewall-cmd --zone=%s --remove-source=%s && firewall-cmd --permanent --zone=%s --remove-source=%s"
            % (zone, source, zone, source))


# --------------------------------------------------------------------------- the collector
def collect_bans(host, clients=None, firewall=None, ports=None, environ=None, now=None, to_epoch=None):
    """Read the ban tools, join them with the packet filter, evaluate ``clients``.

    ``firewall`` is the firewall section already collected (``ssh_evidence`` passes it); without
    it ``collect_firewall`` runs first. ``clients`` default to the address of this module's SSH
    connection. ``to_epoch`` turns the tools' local times into epochs (default: this host's zone).
    """
    to_epoch = to_epoch or local_to_epoch
    now = int(time.time()) if now is None else int(now)
    notes = []
    specs = parse_client_specs(clients)
    clients_source = "parameter" if specs else None
    if not specs:
        env_client = from_environment(dict(os.environ) if environ is None else environ)[0]
        if env_client:
            specs, clients_source = [env_client], "ssh_connection"
    ssh_ports = _firewall.normalize_ports(ports)
    if firewall is None:
        firewall = _firewall.collect_firewall(host, ssh_ports, clients=specs)
        for note in firewall.get("notes") or []:
            notes.append("firewall: %s" % note)
    elif isinstance(firewall.get("ssh_ports"), list) and ports is None:
        ssh_ports = [p for p in firewall["ssh_ports"] if isinstance(p, int)] or ssh_ports
    firewall_read = _firewall_read(firewall)
    client_ranges = _firewall.client_ranges_of(specs)

    res = host.run(["systemctl", "show", "-p", "Id", "-p", "LoadState", "-p", "ActiveState", "-p", "SubState",
                    "-p", "UnitFileState", "-p", "MainPID"] + list(UNITS))
    blocks = parse_show_blocks(res.stdout) if res.ok else []
    if not res.ok and not res.missing:
        notes.append("systemctl show failed: %s" % _first_line(res))

    context = {"host": host, "notes": notes, "now": now, "to_epoch": to_epoch, "ports": ssh_ports,
               "firewall": firewall or {}, "firewall_read": firewall_read, "blocks": blocks,
               "client_ranges": client_ranges, "specs": specs}
    tools = {
        "fail2ban": _collect_fail2ban(context),
        "sshguard": _collect_sshguard(context),
        "ufw": _collect_ufw(context),
        "firewalld": _collect_firewalld(context),
    }
    if not any(t.get("installed") for t in tools.values()):
        notes.append("none of fail2ban, sshguard, ufw or firewalld is installed")
    banned = _banned_entries(tools, context)
    result = {
        "tools": tools,
        "banned": [],
        "banned_total": len(banned),
        "clients": {},
        "clients_source": clients_source,
        "limits": {"max_banned": MAX_BANNED, "max_jails": MAX_JAILS, "max_client_entries": MAX_CLIENT_ENTRIES,
                   "max_clients": MAX_CLIENTS},
        "truncated": False,
        "notes": notes,
    }
    for spec, crange in client_ranges:
        result["clients"][spec] = _client_entries(spec, crange, banned, tools, context)
    matching = [b for b in banned if any(_firewall.ranges_overlap(_firewall.address_range(b["address"]), r)
                                         for dummy, r in client_ranges)]
    others = [b for b in banned if b not in matching]
    others.sort(key=lambda b: -(b.get("since_epoch") or 0))
    result["banned"] = matching + others[:MAX_BANNED]
    if len(others) > MAX_BANNED:
        result["truncated"] = True
    seen = set((firewall or {}).get("notes") or [])
    for note in getattr(host, "notes", []):
        if note not in notes and note not in seen:
            notes.append(note)
    return result


def _firewall_read(firewall):
    """Were the packet filter's rules really read (so that 'no rule applies it' means something)?"""
    sources = (firewall or {}).get("sources") or {}
    read = [bool((sources.get(name) or {}).get("read")) for name in ("iptables", "ip6tables", "nft")]
    return any(read)


def _first_line(res):
    lines = (res.stderr or res.stdout or "").strip().splitlines()
    return lines[0][:200] if lines else "exit status %s" % res.rc


def _permission_problem(res):
    text = (res.stderr or "") + (res.stdout or "")
    lowered = text.lower()
    return "permission denied" in lowered or "must be root" in lowered or "not permitted" in lowered \
        or "authorization failed" in lowered


def _read_tail(host, path, max_bytes=LOG_TAIL_BYTES):
    """The last ``max_bytes`` of a log file (``tail -c``), or None."""
    res = host.run(["tail", "-c", str(max_bytes), path])
    if res.ok:
        return res.stdout
    if res.missing:
        return host.read_text(path, max_bytes=max_bytes)
    if _permission_problem(res):
        host.note("cannot read %s: permission denied (run with become: true)" % path)
    return None


def _journal_lines(host, unit):
    res = host.run(["journalctl", "-u", unit, "-o", "short-iso", "--no-pager", "-q", "-n", str(JOURNAL_LINES)])
    if res.ok:
        return res.stdout.splitlines(), None
    if res.missing:
        return None, "journalctl is not installed"
    return None, "journalctl -u %s: %s" % (unit, _first_line(res))


# ---- fail2ban
def _collect_fail2ban(context):
    host, notes = context["host"], context["notes"]
    info = {"installed": bool(host.which("fail2ban-client")), "service": _unit_state(context["blocks"], "fail2ban.service"),
            "running": False, "source": None, "version": None, "jails": [], "jails_total": 0,
            "logtarget": None, "dbfile": None, "log": None, "failed_bans": []}
    if not info["installed"]:
        return info
    info["running"] = info["service"]["active_state"] == "active"
    jails = None
    if info["running"]:
        res = host.run(["fail2ban-client", "status"], timeout=COMMAND_TIMEOUT)
        if res.ok:
            jails = parse_f2b_status(res.stdout)
        if jails is None:
            if _permission_problem(res):
                notes.append("fail2ban-client: permission denied (run with become: true): bans not read from fail2ban")
            else:
                notes.append("fail2ban-client status failed: %s" % _first_line(res))
    elif info["service"]["unit_file_state"] == "enabled":
        notes.append("fail2ban is enabled but not running (%s): it bans no one now"
                     % (info["service"]["active_state"] or "state unknown"))
    if jails is not None:
        info["source"] = "fail2ban-client"
        info["jails_total"] = len(jails)
        _f2b_jails_from_client(context, info, jails[:MAX_JAILS])
        if len(jails) > MAX_JAILS:
            notes.append("fail2ban has %d jails; only the first %d were read" % (len(jails), MAX_JAILS))
    db_bans = _f2b_database(context, info)
    info["database_bans"] = len(db_bans)
    if jails is None and db_bans and info["running"]:
        info["source"] = "database"
        _f2b_jails_from_database(info, db_bans, context)
    elif db_bans and not info["running"] and info["service"]["unit_file_state"] == "enabled":
        notes.append("fail2ban's database holds %d ban(s) that have not run out; fail2ban restores them when it "
                     "starts" % len(db_bans))
    elif db_bans:
        for jail in info["jails"]:
            for ban in jail["banned"]:
                recorded = db_bans.get((jail["name"], ban["address"]))
                if recorded:
                    ban["failures"] = recorded["failures"]
                    ban["matches"] = recorded["matches"]
    if info["running"]:
        _f2b_log(context, info)
    for jail in info["jails"]:
        for ban in jail["banned"]:
            ban["enforced"] = _f2b_enforced(context, jail, ban["address"])
            ban["since"], ban["until"] = iso(ban.get("since_epoch")), iso(ban.get("until_epoch"))
        unenforced = [b["address"] for b in jail["banned"] if b["enforced"] is False]
        if unenforced:
            failed = [f for f in info["failed_bans"] if f.get("jail") == jail["name"]]
            notes.append(
                "fail2ban jail %s lists %s as banned, but no rule or set of the packet filter blocks %s%s"
                % (jail["name"], ", ".join(unenforced[:5]), "it" if len(unenforced) == 1 else "them",
                   (": its ban action fails (%s)" % (failed[-1].get("error") or "Failed to execute ban")) if failed
                   else " (its ban action did not take effect)"))
    return info


def _f2b_jails_from_client(context, info, jails):
    host, notes = context["host"], context["notes"]
    per_jail = ("status %s", "get %s banip --with-time", "get %s maxretry", "get %s findtime", "get %s bantime",
                "get %s ignoreip", "get %s actions")
    commands = ["version", "get logtarget", "get dbfile"]
    for name in jails:
        commands += [c % name for c in per_jail]
    res = host.run(["fail2ban-client", "-i"], data="\n".join(commands) + "\n", timeout=COMMAND_TIMEOUT)
    answers = split_f2b_batch(res.stdout, len(commands))
    if answers is None:
        notes.append("fail2ban-client -i gave fewer answers than it was asked for: jail details not read")
        info["jails"] = [{"name": n, "covers_sshd": None, "banned": []} for n in jails]
        return
    info["version"] = answers[0].strip() if re.match(r"^\d+(\.\d+)+\S*$", answers[0].strip()) else None
    info["logtarget"] = (parse_f2b_value_list(answers[1]) or [None])[0]
    info["dbfile"] = (parse_f2b_value_list(answers[2]) or [None])[0]
    for index, name in enumerate(jails):
        chunk = answers[3 + index * len(per_jail): 3 + (index + 1) * len(per_jail)]
        status = parse_f2b_jail_status(chunk[0])
        bans = parse_f2b_banip_with_time(chunk[1], context["to_epoch"])
        listed = set(status["banned"])
        timed = set(b["address"] for b in bans)
        # Every address the status lists, with its times where --with-time gave them.
        bans += [{"address": a, "since_epoch": None, "until_epoch": None, "bantime": None}
                 for a in status["banned"] if a not in timed]
        if not listed and not bans:
            bans = []
        jail = {
            "name": name,
            "covers_sshd": _f2b_covers_sshd(name, status),
            "maxretry": int_or_none(chunk[2]), "findtime": int_or_none(chunk[3]), "bantime": int_or_none(chunk[4]),
            "ignoreip": parse_f2b_value_list(chunk[5])[:MAX_WHITELIST],
            "actions": parse_f2b_actions(chunk[6]),
            "journal_matches": status["journal_matches"], "files": status["files"],
            "currently_failed": status["currently_failed"], "total_failed": status["total_failed"],
            "currently_banned": status["currently_banned"] if status["currently_banned"] is not None else len(bans),
            "total_banned": status["total_banned"],
            "banned": _bounded_bans(bans, context["client_ranges"]),
        }
        info["jails"].append(jail)


def _bounded_bans(bans, client_ranges):
    matched = [b for b in bans if _firewall.matching_specs(b["address"], client_ranges)]
    others = [b for b in bans if b not in matched]
    others.sort(key=lambda b: -(b.get("since_epoch") or 0))
    return [dict(b, failures=None, matches=[]) for b in matched + others[:MAX_JAIL_BANS]]


def _f2b_database(context, info):
    host = context["host"]
    path = info.get("dbfile") or F2B_DEFAULT_DB
    if path in (None, "", ":memory:", "None"):
        return {}
    rows = host.sqlite_rows(path, "SELECT jail, ip, timeofban, bantime, bancount, data FROM bips "
                                  "ORDER BY timeofban DESC LIMIT 2000")
    if rows is None:
        return {}
    info["dbfile"] = path
    return parse_f2b_db_rows(rows, context["now"])


def _f2b_jails_from_database(info, db_bans, context):
    """No usable client: the bans fail2ban recorded (restored when it starts), without jail settings."""
    by_jail = {}
    for (jail, dummy), ban in db_bans.items():
        by_jail.setdefault(jail, []).append(ban)
    info["jails_total"] = len(by_jail)
    for name in sorted(by_jail)[:MAX_JAILS]:
        bans = _bounded_bans(by_jail[name], context["client_ranges"])
        for ban in bans:
            recorded = db_bans[(name, ban["address"])]
            ban["failures"], ban["matches"] = recorded["failures"], recorded["matches"]
        info["jails"].append({"name": name, "covers_sshd": None, "maxretry": None, "findtime": None,
                              "bantime": None, "ignoreip": [], "actions": [], "journal_matches": None,
                              "files": None, "currently_failed": None, "total_failed": None,
                              "currently_banned": len(by_jail[name]), "total_banned": None, "banned": bans})
    context["notes"].append("fail2ban bans read from its database %s (fail2ban-client was not usable)" % info["dbfile"])


def _f2b_log(context, info):
    host, notes = context["host"], context["notes"]
    target = info.get("logtarget")
    lines, source = None, None
    if target in ("SYSTEMD-JOURNAL", "SYSLOG"):
        lines, problem = _journal_lines(host, "fail2ban.service")
        source = "journal"
        if problem:
            notes.append("fail2ban's log: %s" % problem)
    elif target in ("STDOUT", "STDERR"):
        lines, problem = _journal_lines(host, "fail2ban.service")
        source = "journal"
    else:
        path = target if target and target.startswith("/") else F2B_DEFAULT_LOG
        text = _read_tail(host, path) if host.exists(path) or target else None
        if text is not None:
            lines, source = text.splitlines(), path
            if len(text) >= LOG_TAIL_BYTES:
                lines = lines[1:]
    if lines is None:
        return
    keep = [b["address"] for j in info["jails"] for b in j["banned"]]
    summary = parse_tool_log(lines, context["to_epoch"], tool="fail2ban", keep=keep)
    summary["source"] = source
    info["failed_bans"] = summary.pop("failed_bans")
    info["log"] = summary
    if info["failed_bans"] and info["running"]:
        last = info["failed_bans"][-1]
        notes.append("fail2ban could not ban %s in jail %s with action %s (%d failed ban(s) in %s)%s" % (
            last["address"], last["jail"], last["action"], summary["counts"].get("f2b_ban_failed", 0), source,
            (": %s" % last["error"]) if last.get("error") else ""))


def _f2b_enforced(context, jail, address):
    """Does a rule touching SSH apply this ban? True / False / None (the packet filter was not read)."""
    if not context["firewall_read"]:
        return None
    name = jail["name"]
    own = {"f2b-%s" % name, "addr-set-%s" % name, "addr6-set-%s" % name, "f2b-%s6" % name}
    blockers = _blocking_elements(context, address)
    named = [b for b in blockers if b["name"] in own]
    if named:
        return True
    if _has_named_element(context, own):
        # The jail's own chain or set exists, and it does not hold the address.
        return False
    return any(b["fail2ban"] for b in blockers) or False


def _has_named_element(context, names):
    firewall = context["firewall"]
    for rule in firewall.get("rules") or []:
        if isinstance(rule, dict) and rule.get("chain") in names:
            return True
    return any(isinstance(s, dict) and s.get("name") in names for s in firewall.get("sets") or [])


def _blocking_elements(context, address):
    """Every element of the packet filter that blocks SSH from ``address``.

    ``[{kind: "rule"|"set_member", name (chain or set), source, family, table, text, verdict,
    element, expires_s, fail2ban, sshguard}]``: a REJECT/DROP rule touching SSH whose source
    covers the address, or a member of a set such a rule matches the source against.
    """
    firewall = context["firewall"]
    rng = _firewall.address_range(address)
    found = []
    rules = [r for r in firewall.get("rules") or [] if isinstance(r, dict)]
    for rule in rules:
        verdict = (rule.get("verdict") or "").upper()
        if not rule.get("affects_ssh") or verdict not in ("REJECT", "DROP"):
            continue
        if rule.get("table") == "firewalld" and not (rule.get("chain") or "").endswith("_deny"):
            # firewalld's zone dispatch ("ip saddr S jump filter_IN_zone; ip saddr S reject") rejects only
            # what the zone did not accept; its zones are judged from firewalld itself.
            continue
        src = rule.get("src")
        if src and not src.startswith("!") and not src.startswith("@"):
            if _firewall.ranges_overlap(rng, _firewall.address_range(src)):
                found.append({"kind": "rule", "name": rule.get("chain"), "source": rule.get("source"),
                              "family": rule.get("family"), "table": rule.get("table"), "text": rule.get("text"),
                              "verdict": verdict, "element": src, "expires_s": None,
                              "fail2ban": bool(rule.get("fail2ban")), "sshguard": bool(rule.get("sshguard"))})
    for nset in firewall.get("sets") or []:
        if not isinstance(nset, dict):
            continue
        blocking = _set_blocking_rule(nset, rules)
        if blocking is None:
            continue
        for member in nset.get("members") or []:
            if _firewall.ranges_overlap(rng, _firewall.address_range(member.get("element"))):
                found.append({"kind": "set_member", "name": nset.get("name"), "source": nset.get("source"),
                              "family": nset.get("family"), "table": nset.get("table"),
                              "text": blocking.get("text"), "verdict": (blocking.get("verdict") or "").upper(),
                              "element": member.get("element"), "expires_s": member.get("expires_s"),
                              "fail2ban": bool(blocking.get("fail2ban")), "sshguard": bool(blocking.get("sshguard"))})
    return found


def _set_blocking_rule(nset, rules):
    """The first REJECT/DROP rule touching SSH that matches the source against this set, or None."""
    for rule in rules:
        if nset.get("name") not in (rule.get("src_sets") or []):
            continue
        if nset.get("source") == "nft" and (rule.get("source") != "nft" or rule.get("table") != nset.get("table")
                                            or rule.get("family") != nset.get("family")):
            continue
        if nset.get("source") == "ipset" and rule.get("source") not in ("iptables", "ip6tables"):
            continue
        if rule.get("affects_ssh") and (rule.get("verdict") or "").upper() in ("REJECT", "DROP"):
            return rule
    return None


# ---- sshguard
def _collect_sshguard(context):
    host, notes = context["host"], context["notes"]
    info = {"installed": bool(host.which("sshguard")) or host.exists(SSHGUARD_CONF),
            "service": _unit_state(context["blocks"], "sshguard.service"), "running": False,
            "backend": None, "threshold": None, "block_time": None, "detection_time": None,
            "whitelist_file": None, "whitelist": [], "blocked": [], "log": None}
    if not info["installed"]:
        return info
    info["running"] = info["service"]["active_state"] == "active"
    conf = parse_shell_vars(host.read_text(SSHGUARD_CONF, max_bytes=65536))
    info["backend"] = os.path.basename(conf.get("BACKEND") or "") or None
    info["threshold"], info["block_time"] = int_or_none(conf.get("THRESHOLD")), int_or_none(conf.get("BLOCK_TIME"))
    info["detection_time"] = int_or_none(conf.get("DETECTION_TIME"))
    info["whitelist_file"] = conf.get("WHITELIST_FILE") or None
    if info["whitelist_file"]:
        text = host.read_text(info["whitelist_file"], max_bytes=65536)
        entries = [l.split("#", 1)[0].strip() for l in (text or "").splitlines()]
        info["whitelist"] = [e for e in entries if e][:MAX_WHITELIST]
    log = None
    if info["running"]:
        lines, problem = _journal_lines(host, "sshguard.service")
        if problem:
            notes.append("sshguard's log: %s" % problem)
        if lines is not None:
            log = parse_tool_log(lines, context["to_epoch"], tool="sshguard")
            log["source"] = "journal"
            del log["failed_bans"]
    elif info["service"]["unit_file_state"] == "enabled":
        notes.append("sshguard is enabled but not running (%s): it blocks no one now"
                     % (info["service"]["active_state"] or "state unknown"))
    info["log"] = log
    for element in _sshguard_elements(context):
        address = host_address(element["element"])
        entry = ((log or {}).get("addresses") or {}).get(address) or {}
        counts = (entry.get("jails") or {}).get("sshguard") or {}
        since = counts.get("last_ban_epoch")
        until = counts.get("block_until_epoch")
        info["blocked"].append({"address": address, "where": element["where"], "since_epoch": since,
                                "until_epoch": until, "since": iso(since), "until": iso(until),
                                "attacks": counts.get("attacks"), "enforced": element["enforced"],
                                "unban": element["unban"]})
    info["blocked"] = info["blocked"][:MAX_BANNED + MAX_CLIENT_ENTRIES]
    return info


def _sshguard_elements(context):
    """sshguard's blocks as the packet filter holds them: members of its nft sets / ipsets, rules of its chain."""
    firewall = context["firewall"]
    rules = [r for r in firewall.get("rules") or [] if isinstance(r, dict)]
    found = []
    for nset in firewall.get("sets") or []:
        if not isinstance(nset, dict):
            continue
        owned = (nset.get("source") == "nft" and (nset.get("table") or "").startswith("sshguard")) or \
            (nset.get("source") == "ipset" and (nset.get("name") or "").startswith("sshguard"))
        if not owned:
            continue
        enforced = _set_blocking_rule(nset, rules) is not None
        for member in nset.get("members") or []:
            if nset["source"] == "nft":
                where = "set %s of table %s %s" % (nset["name"], nset["family"], nset["table"])
                unban = nft_unban(nset["family"], nset["table"], nset["name"], member["element"])
            else:
                where = "ipset %s" % nset["name"]
                unban = ipset_unban(nset["name"], member["element"])
            found.append({"element": member["element"], "where": where, "enforced": enforced, "unban": unban})
    for rule in rules:
        if rule.get("sshguard") and rule.get("src") and (rule.get("verdict") or "").upper() in ("DROP", "REJECT") \
                and rule.get("source") in ("iptables", "ip6tables"):
            found.append({"element": rule["src"], "where": "chain %s (%s)" % (rule.get("chain"), rule.get("source")),
                          "enforced": True,
                          "unban": "%s -D %s" % (rule["source"], (rule.get("text") or "")[3:])})
    return found


# ---- ufw
def _collect_ufw(context):
    host, notes = context["host"], context["notes"]
    info = {"installed": bool(host.which("ufw")) or host.exists(UFW_CONF),
            "service": _unit_state(context["blocks"], "ufw.service"), "enabled": None, "active": None,
            "default_input_policy": None, "rules": [], "rules_total": 0, "limits": [], "recent": {}}
    if not info["installed"]:
        return info
    conf = parse_shell_vars(host.read_text(UFW_CONF, max_bytes=65536))
    info["enabled"] = (conf.get("ENABLED") or "").lower() == "yes" if conf else None
    defaults = parse_shell_vars(host.read_text(UFW_DEFAULT, max_bytes=65536))
    policy = defaults.get("DEFAULT_INPUT_POLICY")
    info["default_input_policy"] = policy.upper() if policy else None
    firewall_rules = [r for r in context["firewall"].get("rules") or [] if isinstance(r, dict)]
    ufw_rules = [r for r in firewall_rules if (r.get("chain") or "").startswith("ufw-")]
    if context["firewall_read"]:
        info["active"] = bool(ufw_rules)
    if not info["enabled"] and not ufw_rules:
        return info
    for ipv6, path in zip((False, True), UFW_USER_RULES):
        text = host.read_text(path, max_bytes=1024 * 1024)
        for rule in parse_ufw_user_rules(text, ipv6=ipv6):
            info["rules_total"] += 1
            rule["affects_ssh"] = rule["direction"] == "in" and rule["proto"] in ("tcp", "any") and \
                _port_in(rule["dport"], context["ports"])
            rule["command"] = ufw_rule_command(rule)
            if len(info["rules"]) < MAX_RULES:
                info["rules"].append(rule)
    if info["enabled"] and not ufw_rules and context["firewall_read"]:
        notes.append("ufw is enabled in %s, but none of its chains is in the packet filter (ufw was not started)"
                     % UFW_CONF)
    for rule in info["rules"]:
        if rule["action"] == "limit" and rule["affects_ssh"]:
            info["limits"].append({"port": rule["dport"], "proto": rule["proto"], "src": rule["src"],
                                   "hitcount": rule["hitcount"], "seconds": rule["seconds"], "ipv6": rule["ipv6"],
                                   "command": rule["command"]})
    if info["limits"] or any("recent" in (r.get("rate_limit") or []) for r in ufw_rules):
        for path in host.glob(XT_RECENT_DIR + "/*"):
            entries = parse_xt_recent(host.read_text(path, max_bytes=1024 * 1024))
            matched = [e for e in entries if _firewall.matching_specs(e["address"], context["client_ranges"])]
            others = [e for e in entries if e not in matched]
            info["recent"][os.path.basename(path)] = {"total": len(entries), "entries": (matched + others)[:MAX_BANNED]}
    return info


# ---- firewalld
def _collect_firewalld(context):
    host, notes = context["host"], context["notes"]
    info = {"installed": bool(host.which("firewall-cmd")) or host.exists(FIREWALLD_CONF),
            "service": _unit_state(context["blocks"], "firewalld.service"), "running": False, "source": None,
            "default_zone": None, "backend": None, "zones": [], "zones_total": 0}
    if not info["installed"]:
        return info
    conf = parse_shell_vars(host.read_text(FIREWALLD_CONF, max_bytes=65536))
    info["backend"] = conf.get("FirewallBackend") or None
    info["default_zone"] = conf.get("DefaultZone") or None
    info["running"] = info["service"]["active_state"] == "active"
    zones = None
    if info["running"]:
        res = host.run(["firewall-cmd", "--list-all-zones"], timeout=COMMAND_TIMEOUT)
        if res.ok:
            zones = parse_firewall_cmd_zones(res.stdout, context["ports"])
            info["source"] = "firewall-cmd"
        elif _permission_problem(res):
            notes.append("firewall-cmd: authorization failed (run with become: true); zones read from %s"
                         % FIREWALLD_ZONE_DIRS[0])
        else:
            notes.append("firewall-cmd --list-all-zones failed: %s" % _first_line(res))
    if zones is None:
        zones = _zones_from_files(host, context["ports"], info["default_zone"])
        info["source"] = "files" if zones else None
        if not info["running"] and info["service"]["unit_file_state"] == "enabled":
            notes.append("firewalld is enabled but not running (%s): its zones are not applied"
                         % (info["service"]["active_state"] or "state unknown"))
    for zone in zones:
        if zone.get("default"):
            info["default_zone"] = zone["name"]
    if not any(z.get("default") for z in zones):
        for zone in zones:
            zone["default"] = zone["name"] == info["default_zone"]
            if info["source"] == "files":
                zone["active"] = zone["default"] or bool(zone["interfaces"] or zone["sources"])
    info["zones_total"] = len(zones)
    relevant = [z for z in zones if z.get("active") or z.get("default") or z.get("sources")]
    info["zones"] = relevant[:MAX_ZONES]
    for zone in info["zones"]:
        if (zone.get("active") or zone.get("default")) and not zone["ssh_allowed"] and info["running"]:
            notes.append("firewalld zone %s does not allow ssh (services: %s)"
                         % (zone["name"], " ".join(zone["services"]) or "none"))
    return info


def _zones_from_files(host, ports, default_zone):
    zones = {}
    for directory in reversed(FIREWALLD_ZONE_DIRS):
        for path in host.glob(directory + "/*.xml"):
            name = os.path.basename(path)[:-4]
            if default_zone and directory != FIREWALLD_ZONE_DIRS[0] and name != default_zone:
                # Shipped zones matter only as the default; /etc holds the ones changed or used.
                continue
            zone = parse_zone_xml(host.read_text(path, max_bytes=65536) or "", name, ports)
            if zone is not None:
                zones[name] = zone
    return [zones[n] for n in sorted(zones)]


# --------------------------------------------------------------------------- banned, clients
def _banned_entries(tools, context):
    """Every ban the tools and the packet filter hold, as ``banned`` entries (unbounded here)."""
    banned = []
    f2b = tools["fail2ban"]
    for jail in f2b.get("jails") or []:
        for ban in jail.get("banned") or []:
            banned.append({"tool": "fail2ban", "where": "jail %s" % jail["name"], "address": ban["address"],
                           "since": ban.get("since"), "until": ban.get("until"),
                           "since_epoch": ban.get("since_epoch"), "until_epoch": ban.get("until_epoch"),
                           "enforced": ban.get("enforced"), "unban": f2b_unban(jail["name"], ban["address"])})
    for block in tools["sshguard"].get("blocked") or []:
        banned.append({"tool": "sshguard", "where": block["where"], "address": block["address"],
                       "since": block["since"], "until": block["until"], "since_epoch": block["since_epoch"],
                       "until_epoch": block["until_epoch"], "enforced": block["enforced"], "unban": block["unban"]})
    ufw = tools["ufw"]
    for rule in ufw.get("rules") or []:
        if rule["action"] in ("deny", "reject") and rule["affects_ssh"] and rule["src"] not in ("0.0.0.0/0", "::/0", "any"):
            banned.append({"tool": "ufw", "where": "rule %s" % rule["command"], "address": rule["src"],
                           "since": None, "until": None, "since_epoch": None, "until_epoch": None,
                           "enforced": bool(ufw.get("active")) if ufw.get("active") is not None else None,
                           "unban": "ufw delete %s" % rule["command"]})
    fwd = tools["firewalld"]
    for zone in fwd.get("zones") or []:
        for rule in zone.get("rich_rules") or []:
            if rule.get("action") in ("reject", "drop") and rule.get("source") and not rule.get("source_negated") \
                    and rule.get("affects_ssh"):
                banned.append({"tool": "firewalld", "where": "zone %s" % zone["name"], "address": rule["source"],
                               "since": None, "until": None, "since_epoch": None, "until_epoch": None,
                               "enforced": _firewalld_enforced(context, rule["source"], fwd),
                               "unban": firewalld_remove_rich(zone["name"], rule["text"])})
        if zone.get("target") in ("DROP", "%%REJECT%%", "REJECT"):
            for source in zone.get("sources") or []:
                banned.append({"tool": "firewalld", "where": "zone %s" % zone["name"], "address": source,
                               "since": None, "until": None, "since_epoch": None, "until_epoch": None,
                               "enforced": fwd.get("running") or None,
                               "unban": firewalld_remove_source(zone["name"], source)})
    banned += _set_bans(context)
    return banned


def _firewalld_enforced(context, address, fwd):
    if not fwd.get("running"):
        return False
    if not context["firewall_read"]:
        return None
    return any(b["table"] == "firewalld" for b in _blocking_elements(context, address))


def _set_bans(context):
    """Members of other blocking sets (not those of fail2ban, sshguard or firewalld, reported above)."""
    firewall = context["firewall"]
    rules = [r for r in firewall.get("rules") or [] if isinstance(r, dict)]
    banned = []
    for nset in firewall.get("sets") or []:
        if not isinstance(nset, dict) or _set_owner(nset) is not None:
            continue
        blocking = _set_blocking_rule(nset, rules)
        if blocking is None:
            continue
        for member in nset.get("members") or []:
            banned.append(_set_ban(nset, member, context["now"]))
    return banned


def _set_owner(nset):
    name, table = (nset.get("name") or ""), (nset.get("table") or "")
    if table == "f2b-table" or name.startswith("f2b-") or name.startswith("addr-set-") or name.startswith("addr6-set-"):
        return "fail2ban"
    if table.startswith("sshguard") or (nset.get("source") == "ipset" and name.startswith("sshguard")):
        return "sshguard"
    if table == "firewalld":
        return "firewalld"
    return None


def _set_where(nset):
    if nset.get("source") == "nft":
        return "set %s of table %s %s" % (nset.get("name"), nset.get("family"), nset.get("table"))
    return "ipset %s" % nset.get("name")


def _set_unban(nset, element):
    if nset.get("source") == "nft":
        return nft_unban(nset.get("family"), nset.get("table"), nset.get("name"), element)
    return ipset_unban(nset.get("name"), element)


def _set_ban(nset, member, now):
    expires = member.get("expires_s")
    return {"tool": nset.get("source"), "where": _set_where(nset), "address": member.get("element"),
            "since": None, "until": iso(now + expires) if expires else None, "since_epoch": None,
            "until_epoch": (now + expires) if expires else None, "enforced": True,
            "unban": _set_unban(nset, member.get("element"))}


def _client_entries(spec, crange, banned, tools, context):
    """What applies to one client spec: its bans, the set members and rules that block it, rate limits."""
    entries = []
    for ban in banned:
        # Plain nft sets and ipsets are listed once, below, as set members with their rule.
        if ban["tool"] in ("nft", "ipset"):
            continue
        if _firewall.ranges_overlap(crange, _firewall.address_range(ban["address"])):
            entries.append({"kind": "ban", "tool": ban["tool"], "where": ban["where"], "element": ban["address"],
                            "rule": None, "verdict": "enforced" if ban["enforced"] else
                            ("not enforced" if ban["enforced"] is False else "unknown"),
                            "since_epoch": ban["since_epoch"], "until_epoch": ban["until_epoch"],
                            "unban": ban["unban"]})
    for element in _blocking_elements(context, spec):
        if element["kind"] == "set_member":
            nset = {"source": element["source"], "family": element["family"], "table": element["table"],
                    "name": element["name"]}
            expires = element.get("expires_s")
            entries.append({"kind": "set_member", "tool": _set_owner(nset) or element["source"],
                            "where": _set_where(nset), "element": element["element"], "rule": element["text"],
                            "verdict": element["verdict"], "since_epoch": None,
                            "until_epoch": (context["now"] + expires) if expires else None,
                            "unban": _set_unban(nset, element["element"])})
        else:
            entries.append({"kind": "rule", "tool": _rule_tool(element), "where": _rule_where(element),
                            "element": element["element"], "rule": element["text"], "verdict": element["verdict"],
                            "since_epoch": None, "until_epoch": None, "unban": _rule_unban(element, tools)})
    entries += _rate_limit_entries(spec, crange, tools, context)
    entries += _firewalld_zone_entries(spec, crange, tools)
    return entries[:MAX_CLIENT_ENTRIES]


def _firewalld_zone_entries(spec, crange, tools):
    """firewalld: the zone that handles the client does not allow ssh, or a rich rule limits it."""
    fwd = tools["firewalld"]
    if not fwd.get("running"):
        return []
    entries = []
    zone, why = zone_for(spec, fwd.get("zones") or [], fwd.get("default_zone"))
    if zone is None:
        return []
    where = "zone %s (%s)" % (zone["name"], "its sources hold the client" if why == "source" else "the default zone")
    if not zone["ssh_allowed"]:
        entries.append({"kind": "rule", "tool": "firewalld", "where": where, "element": spec,
                        "rule": "services: %s" % (" ".join(zone["services"]) or "none"),
                        "verdict": "DROP" if zone.get("target") == "DROP" else "REJECT",
                        "since_epoch": None, "until_epoch": None,
                        "unban": "firewall-cmd --zone=%s --add-service=ssh && firewall-cmd --permanent --zone=%s "
                                 "--add-service=ssh" % (zone["name"], zone["name"])})
    for rule in zone.get("rich_rules") or []:
        if rule.get("limit") and rule.get("affects_ssh") and rule.get("source") and not rule.get("source_negated") \
                and _firewall.ranges_overlap(crange, _firewall.address_range(rule["source"])):
            # An accept with a limit only accepts early: past the limit the packet goes on to the zone's other
            # rules, and where those allow ssh (service ssh comes first in filter_IN_<zone>_allow) nothing is refused.
            verdict = "counted" if zone["ssh_allowed"] else "limit %s" % rule["limit"]
            entries.append({"kind": "rate_limit", "tool": "firewalld", "where": "zone %s" % zone["name"],
                            "element": rule["source"], "rule": rule["text"], "verdict": verdict,
                            "since_epoch": None, "until_epoch": None,
                            "unban": firewalld_remove_rich(zone["name"], rule["text"])})
    return entries


def _rule_tool(element):
    chain, table = element.get("name") or "", element.get("table") or ""
    if table == "firewalld":
        return "firewalld"
    if chain.startswith("ufw-"):
        return "ufw"
    if element.get("fail2ban"):
        return "fail2ban"
    if element.get("sshguard"):
        return "sshguard"
    return element.get("source")


def _rule_where(element):
    chain = element.get("name") or ""
    zone = re.match(r"^filter_IN_(.+?)_(?:deny|allow|pre|post|log)$", chain)
    if element.get("table") == "firewalld" and zone:
        return "zone %s (chain %s)" % (zone.group(1), chain)
    return "chain %s of table %s %s" % (chain, element.get("family"), element.get("table"))


def _rule_unban(element, tools):
    if element.get("table") == "firewalld":
        return None
    text = element.get("text") or ""
    if element.get("source") in ("iptables", "ip6tables") and text.startswith("-A "):
        table = element.get("table") or "filter"
        return "%s %s-D %s" % (element["source"], "" if table == "filter" else "-t %s " % table, text[3:])
    if element.get("source") == "nft":
        return "nft -a list chain %s %s %s   (then: nft delete rule %s %s %s handle <N>)" % (
            element.get("family"), element.get("table"), element.get("name"),
            element.get("family"), element.get("table"), element.get("name"))
    return None


def _rate_limit_entries(spec, crange, tools, context):
    """ufw's ``limit`` rules: the client is in the per-source list they count new connections in."""
    entries = []
    ufw = tools["ufw"]
    if not ufw.get("limits"):
        return entries
    for name, recent in (ufw.get("recent") or {}).items():
        for entry in recent.get("entries") or []:
            if not _firewall.ranges_overlap(crange, _firewall.address_range(entry["address"])):
                continue
            version = (_firewall.address_range(entry["address"]) or (4,))[0]
            for limit in ufw["limits"]:
                if limit.get("ipv6") != (version == 6):
                    continue
                entries.append({
                    "kind": "rate_limit", "tool": "ufw", "where": "ufw %s (list %s)" % (limit["command"], name),
                    "element": "%s: %d of its last %d new-connection packets (SYNs) refused" % (
                        entry["address"], entry["refused"], entry["packets"]),
                    "rule": "at most %s new connections per %s s per source" % (
                        (limit["hitcount"] - 1) if limit.get("hitcount") else "?", limit.get("seconds") or "?"),
                    "verdict": "REJECT" if entry["refused"] else "counted",
                    "since_epoch": None, "until_epoch": None,
                    "unban": "ufw delete %s && ufw allow %s/%s" % (limit["command"], limit["port"], limit["proto"]),
                })
    return entries
