# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firewall evidence: the packet filter rules that can touch TCP traffic to sshd.

Pure parsers (text in, dicts out) for ``iptables-save`` / ``ip6tables-save``
output (nf_tables and legacy back ends alike) and for ``nft -j list ruleset``
JSON, a classifier that says what each rule does to a TCP connection to the
ssh port(s), and ``collect_firewall(host, ports)`` that reads a host through
the Host API without loading any kernel module (see ``kernel_read_plan``).

Rule dicts share one shape whatever their source::

    {source: "iptables"|"ip6tables"|"nft", backend: "nf_tables"|"legacy"|None,
     family: "ip"|"ip6"|"inet"|"arp"|"bridge"|"netdev", table, chain, position,
     text, verdict, jump_target, reject_with, tcp_reset, rate_limit[],
     fail2ban, sshguard, affects_ssh, proto, dport, sport, src, dst}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import re
import shlex

from ansible_collections.sshdoctor.connreset.plugins.module_utils._client_address import MAX_CLIENT_SPECS, normalize_client_specs
from ansible_collections.sshdoctor.connreset.plugins.module_utils._untrusted import load_json

DEFAULT_SSH_PORTS = (22,)
# Bounds on what one run returns.
MAX_RULES = 200
MAX_TEXT = 400
MAX_WARNINGS = 20

RATE_LIMIT_MATCHES = ("recent", "hashlimit", "limit", "connlimit")
# Hooks a packet to or from the local sshd passes. FORWARD (routed traffic) is not one of them.
LOCAL_HOOKS = ("input", "output", "prerouting", "postrouting", "ingress", "egress")
# iptables targets that end a packet's walk; everything else upper-case is an extension target.
_SERVICE_PORTS = {"ssh": 22, "http": 80, "https": 443}
_NFT_VERDICTS = ("accept", "drop", "reject", "return", "continue", "queue", "jump", "goto")


# --------------------------------------------------------------------------- ports
def normalize_ports(ports):
    """Validate the ``ports`` argument: a list of TCP ports (1-65535). Raises ValueError."""
    if ports is None:
        return list(DEFAULT_SSH_PORTS)
    if isinstance(ports, (int, str)):
        ports = [ports]
    result = []
    for value in ports:
        try:
            port = int(str(value).strip())
        except (TypeError, ValueError):
            raise ValueError("invalid port %r: ports are integers from 1 to 65535" % (value,))
        if port < 1 or port > 65535:
            raise ValueError("invalid port %r: ports are integers from 1 to 65535" % (value,))
        if port not in result:
            result.append(port)
    if not result:
        raise ValueError("ports must name at least one TCP port")
    return result


def parse_port_spec(text):
    """``22`` / ``22:30`` / ``22,80,1000:2000`` / ``ssh`` -> [(lo, hi), ...]; None if it does not parse."""
    if text is None:
        return None
    ranges = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        bounds = part.split(":") if ":" in part else part.split("-")
        try:
            values = [_port_value(b) for b in bounds]
        except ValueError:
            return None
        if len(values) == 1:
            ranges.append((values[0], values[0]))
        elif len(values) == 2:
            low = values[0] if bounds[0] != "" else 0
            high = values[1] if bounds[1] != "" else 65535
            ranges.append((min(low, high), max(low, high)))
        else:
            return None
    return ranges or None


def _port_value(text):
    text = text.strip()
    if text == "":
        return 0
    if text.lower() in _SERVICE_PORTS:
        return _SERVICE_PORTS[text.lower()]
    return int(text)


def _spec_matches_any(ranges, ports, negated=False):
    """Could a packet to one of ``ports`` match this port condition? None ranges = unknown = maybe."""
    if ranges is None:
        return True
    inside = [any(lo <= p <= hi for lo, hi in ranges) for p in ports]
    if negated:
        return not all(inside)
    return any(inside)


# --------------------------------------------------------------------------- iptables-save
_TABLE_INCOMPATIBLE = re.compile(r"^# Table `([^']+)' is incompatible")
_COUNTERS = re.compile(r"^\[\d+:\d+\]\s+")


def parse_iptables_version(text):
    """``iptables-save v1.8.9 (nf_tables)`` -> ("1.8.9", "nf_tables"); before 1.8 the back end is legacy."""
    match = re.search(r"v(\d+(?:\.\d+)*)\s*(?:\(([^)]+)\))?", text or "")
    if not match:
        return None, None
    version, backend = match.group(1), match.group(2)
    if backend is None:
        backend = "legacy"
    return version, backend


def parse_iptables_save(text, source="iptables", backend=None):
    """Parse ``iptables-save`` / ``ip6tables-save`` output.

    Returns ``{tables: {name: {chains: {chain: policy or None}}}, rules: [...],
    policies: [...], warnings: [...], incompatible_tables: [...], unparsed: int}``.
    Rules carry their own-match classification; ``affects_ssh`` is filled in by
    ``classify_rules`` (it needs the chain graph and the ports).
    """
    family = "ip6" if source == "ip6tables" else "ip"
    result = {"tables": {}, "rules": [], "policies": [], "warnings": [], "incompatible_tables": [], "unparsed": 0}
    table = None
    positions = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            incompatible = _TABLE_INCOMPATIBLE.match(line)
            if incompatible:
                result["incompatible_tables"].append(incompatible.group(1))
            if line.startswith("# Warning") or incompatible:
                if len(result["warnings"]) < MAX_WARNINGS and line not in result["warnings"]:
                    result["warnings"].append(line[:MAX_TEXT])
            continue
        if line.startswith("*"):
            table = line[1:].strip() or None
            if table is not None:
                result["tables"].setdefault(table, {"chains": {}})
            continue
        if line == "COMMIT":
            table = None
            continue
        if table is None:
            result["unparsed"] += 1
            continue
        if line.startswith(":"):
            parts = line[1:].split()
            if not parts:
                result["unparsed"] += 1
                continue
            chain = parts[0]
            policy = parts[1] if len(parts) > 1 and parts[1] != "-" else None
            result["tables"][table]["chains"][chain] = policy
            if policy is not None:
                result["policies"].append({
                    "source": source, "backend": backend, "family": family,
                    "table": table, "chain": chain, "policy": policy.upper(), "hook": chain.lower(),
                    "affects_ssh": chain.lower() in LOCAL_HOOKS,
                })
            continue
        line = _COUNTERS.sub("", line)
        if not line.startswith("-A ") and not line.startswith("--append "):
            result["unparsed"] += 1
            continue
        tokens = _split_rule(line)
        if len(tokens) < 2:
            result["unparsed"] += 1
            continue
        chain = tokens[1]
        positions[(table, chain)] = positions.get((table, chain), 0) + 1
        rule = _classify_iptables_tokens(tokens[2:], family)
        rule.update({
            "source": source, "backend": backend, "family": family, "table": table,
            "chain": chain, "position": positions[(table, chain)], "text": line[:MAX_TEXT],
        })
        result["rules"].append(rule)
    # Chains named in rules of a table are user chains; a target that is one is a jump.
    for rule in result["rules"]:
        chains = result["tables"].get(rule["table"], {}).get("chains", {})
        target = rule.pop("_target")
        goto = rule.pop("_goto")
        _set_iptables_verdict(rule, target, goto, chains, family)
    return result


def _split_rule(line):
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


def _classify_iptables_tokens(tokens, family):
    rule = {
        "proto": None, "proto_negated": False, "dport": None, "dport_negated": False,
        "sport": None, "sport_negated": False, "src": None, "dst": None,
        "matches": [], "rate_limit": [], "reject_with": None, "_target": None, "_goto": False,
        "unknown_matches": False, "_set_refs": [], "_set_names": [], "_src_sets": [],
    }
    recognised = (
        "-p", "--protocol", "-s", "--source", "--src", "-d", "--destination", "--dst", "-m", "--match",
        "--dport", "--destination-port", "--dports", "--destination-ports", "--sport", "--source-port",
        "--sports", "--source-ports", "--ports", "-j", "--jump", "-g", "--goto", "--reject-with", "--match-set",
    )
    negate = False
    index = 0
    count = len(tokens)
    while index < count:
        token = tokens[index]
        if token == "!":
            negate = True
            index += 1
            continue
        if token not in recognised:
            # An option we do not interpret (state, interface, comment, ...) or its value.
            negate = False
            index += 1
            continue
        index += 1
        # Old iptables wrote the "!" after the option: "--dport ! 22".
        if index < count and tokens[index] == "!":
            negate = True
            index += 1
        value = tokens[index] if index < count else None
        index += 1
        neg, negate = negate, False
        if token in ("-p", "--protocol"):
            rule["proto"] = (value or "").lower()
            rule["proto_negated"] = neg
        elif token in ("-s", "--source", "--src"):
            rule["src"] = ("! " if neg else "") + (value or "")
        elif token in ("-d", "--destination", "--dst"):
            rule["dst"] = ("! " if neg else "") + (value or "")
        elif token in ("-m", "--match"):
            name = (value or "").lower()
            rule["matches"].append(name)
            if name in RATE_LIMIT_MATCHES and name not in rule["rate_limit"]:
                rule["rate_limit"].append(name)
        elif token in ("--dport", "--destination-port", "--dports", "--destination-ports", "--ports"):
            # multiport --ports matches source or destination; for sshd that is the destination.
            rule["dport"], rule["dport_negated"] = value, neg
        elif token in ("--sport", "--source-port", "--sports", "--source-ports"):
            rule["sport"], rule["sport_negated"] = value, neg
        elif token in ("-j", "--jump"):
            rule["_target"] = value
        elif token in ("-g", "--goto"):
            rule["_target"] = value
            rule["_goto"] = True
        elif token == "--reject-with":
            rule["reject_with"] = value
        elif token == "--match-set" and value:
            rule["_set_refs"].append(value.lower())
            rule["_set_names"].append(value)
            # "--match-set NAME src" (or "src,dst"): the set is matched against the source address.
            flags = tokens[index] if index < count else ""
            if flags and not flags.startswith("-") and flags != "!":
                index += 1
                if flags.split(",")[0] == "src" and not neg:
                    rule["_src_sets"].append(value)
    return rule


def _set_iptables_verdict(rule, target, goto, chains, family):
    rule["jump_target"] = None
    if target is None:
        rule["verdict"] = "NONE"
    elif target in chains and chains.get(target) is None:
        rule["verdict"] = "GOTO" if goto else "JUMP"
        rule["jump_target"] = target
    else:
        rule["verdict"] = target.upper()
    if rule["verdict"] == "REJECT" and not rule["reject_with"]:
        rule["reject_with"] = "icmp6-port-unreachable" if family == "ip6" else "icmp-port-unreachable"
    if rule["verdict"] != "REJECT":
        rule["reject_with"] = None
    rule["tcp_reset"] = bool(rule["reject_with"] and "tcp-reset" in rule["reject_with"].replace(" ", "-"))
    _mark_blockers(rule)


def _mark_blockers(rule):
    names = [rule.get("chain") or "", rule.get("jump_target") or "", rule.get("table") or ""]
    lowered = [n.lower() for n in names]
    rule["fail2ban"] = any(n.startswith("f2b-") or n.startswith("fail2ban") for n in lowered) or \
        bool(rule.get("_set_refs") and any(s.startswith("addr-set-") or s.startswith("f2b-") for s in rule["_set_refs"]))
    rule["sshguard"] = any(n.startswith("sshguard") for n in lowered)


def _iptables_own_affects(rule, ports):
    """Could this rule's own matches hold for a packet of a TCP connection to ``ports``?"""
    proto = rule.get("proto")
    if proto not in (None, "", "all", "0"):
        is_tcp = proto in ("tcp", "6")
        if is_tcp == bool(rule.get("proto_negated")):
            return False
    inbound = True
    if rule.get("dport") is not None:
        inbound = _spec_matches_any(parse_port_spec(rule["dport"]), ports, rule.get("dport_negated"))
    reply = False
    if rule.get("sport") is not None:
        reply = _spec_matches_any(parse_port_spec(rule["sport"]), ports, rule.get("sport_negated"))
    return inbound or reply


# --------------------------------------------------------------------------- nft -j list ruleset
def parse_nft_json(text):
    """Parse ``nft -j list ruleset``.

    Returns ``{version, tables: [{family, name}], chains: {...}, rules: [...],
    policies: [...], error: None|str}``. Never raises: unparsable text gives ``error``.
    """
    result = {"version": None, "tables": [], "chains": {}, "rules": [], "policies": [], "error": None, "sets": {},
              "set_info": {}}
    data, why = load_json(text or "")
    if why is not None:
        # nft's own JSON nests about ten levels; deeper would break the recursive walk below
        result["error"] = "output of nft -j is not JSON" if why.startswith("not JSON") else "output of nft -j is %s" % why
        return result
    items = data.get("nftables") if isinstance(data, dict) else None
    if not isinstance(items, list):
        result["error"] = "no 'nftables' list in nft -j output"
        return result
    positions = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("metainfo"), dict):
            result["version"] = _str_or_none(item["metainfo"].get("version"))
        elif isinstance(item.get("table"), dict):
            table = item["table"]
            result["tables"].append({"family": _str_or_none(table.get("family")), "name": _str_or_none(table.get("name"))})
        elif isinstance(item.get("chain"), dict):
            chain = item["chain"]
            key = (_str_or_none(chain.get("family")), _str_or_none(chain.get("table")), _str_or_none(chain.get("name")))
            result["chains"][key] = {"hook": chain.get("hook"), "policy": chain.get("policy"),
                                     "type": chain.get("type"), "prio": chain.get("prio")}
            if chain.get("hook") is not None:
                result["policies"].append({
                    "source": "nft", "backend": "nf_tables", "family": key[0], "table": key[1], "chain": key[2],
                    "policy": str(chain.get("policy") or "accept").upper(), "hook": _str_or_none(chain.get("hook")),
                    "priority": chain.get("prio") if isinstance(chain.get("prio"), (int, str)) else None,
                    "affects_ssh": key[0] != "arp" and _str_or_none(chain.get("hook")) in LOCAL_HOOKS,
                })
        elif isinstance(item.get("set"), dict):
            nset = item["set"]
            key = (_str_or_none(nset.get("family")), _str_or_none(nset.get("table")), _str_or_none(nset.get("name")))
            result["sets"][key] = nset.get("elem") if isinstance(nset.get("elem"), list) else []
            flags = nset.get("flags")
            result["set_info"][key] = {
                "type": _set_type(nset.get("type")),
                "flags": [str(f) for f in flags] if isinstance(flags, list) else ([str(flags)] if flags else []),
                "timeout_s": int_or_none(nset.get("timeout")),
            }
        elif isinstance(item.get("rule"), dict):
            raw = item["rule"]
            family, table, chain = (_str_or_none(raw.get("family")), _str_or_none(raw.get("table")),
                                    _str_or_none(raw.get("chain")))
            positions[(family, table, chain)] = positions.get((family, table, chain), 0) + 1
            exprs = raw.get("expr") if isinstance(raw.get("expr"), list) else []
            rule = _classify_nft_exprs(exprs, family)
            rule.update({
                "source": "nft", "backend": "nf_tables", "family": family, "table": table, "chain": chain,
                "position": positions[(family, table, chain)], "handle": raw.get("handle"),
                "text": render_nft_exprs(exprs)[:MAX_TEXT],
            })
            if isinstance(raw.get("comment"), str):
                rule["text"] = (rule["text"] + ' comment "%s"' % raw["comment"])[:MAX_TEXT]
            _mark_blockers(rule)
            result["rules"].append(rule)
    # Named sets are resolved once all of them are known.
    for rule in result["rules"]:
        for field in ("dport", "sport"):
            ref = rule.get("_%s_setref" % field)
            if ref:
                elems = result["sets"].get((rule["family"], rule["table"], ref))
                rule["_%s_ranges" % field] = _ranges_from_nft(elems) if elems is not None else None
    return result


def _str_or_none(value):
    return value if isinstance(value, str) else (None if value is None else str(value))


def _classify_nft_exprs(exprs, family):
    rule = {
        "proto": None, "proto_negated": False, "dport": None, "dport_negated": False,
        "sport": None, "sport_negated": False, "src": None, "dst": None, "matches": [],
        "rate_limit": [], "reject_with": None, "verdict": "NONE", "jump_target": None,
        "jump_targets": [], "unknown_matches": False, "_set_refs": [], "_set_names": [], "_src_sets": [],
        "_dport_ranges": None, "_sport_ranges": None, "_dport_setref": None, "_sport_setref": None,
    }
    for expr in exprs:
        if not isinstance(expr, dict) or not expr:
            continue
        kind = next(iter(expr))
        body = expr[kind]
        if kind == "match" and isinstance(body, dict):
            _nft_match(rule, body)
        elif kind in ("accept", "drop", "return", "continue"):
            rule["verdict"] = kind.upper()
        elif kind in ("queue",):
            rule["verdict"] = "QUEUE"
        elif kind in ("jump", "goto") and isinstance(body, dict):
            rule["verdict"] = kind.upper()
            rule["jump_target"] = _str_or_none(body.get("target"))
            if rule["jump_target"]:
                rule["jump_targets"].append(rule["jump_target"])
        elif kind == "reject":
            rule["verdict"] = "REJECT"
            rule["reject_with"] = _nft_reject_with(body, family)
        elif kind == "limit":
            _add_rate(rule, "limit")
        elif kind == "ct count":
            _add_rate(rule, "connlimit")
        elif kind in ("meter", "set", "dynset"):
            inner = json.dumps(body, sort_keys=True)
            if '"limit"' in inner:
                _add_rate(rule, "hashlimit")
            if '"ct count"' in inner:
                _add_rate(rule, "connlimit")
        elif kind == "vmap" and isinstance(body, dict):
            rule["verdict"] = "VMAP"
            targets = re.findall(r'"(?:jump|goto)": \{"target": "([^"]+)"\}', json.dumps(body))
            rule["jump_targets"].extend(targets)
        elif kind == "xt":
            name = _str_or_none(body.get("name")) if isinstance(body, dict) else None
            xt_type = body.get("type") if isinstance(body, dict) else None
            if xt_type == "target" and name:
                rule["verdict"] = name.upper()
                if name.upper() == "REJECT":
                    rule["reject_with"] = None
            else:
                # An iptables-nft match nft cannot describe: we cannot rule it out.
                rule["unknown_matches"] = True
                rule["matches"].append(name.lower() if name else "xt")
                if name and name.lower() in RATE_LIMIT_MATCHES:
                    _add_rate(rule, name.lower())
        elif kind in ("dnat", "snat", "masquerade", "redirect", "notrack", "synproxy", "tproxy"):
            rule["verdict"] = kind.upper()
    rule["tcp_reset"] = bool(rule["reject_with"] and "tcp" in rule["reject_with"] and "reset" in rule["reject_with"])
    return rule


def _add_rate(rule, name):
    if name not in rule["rate_limit"]:
        rule["rate_limit"].append(name)


def _nft_reject_with(body, family):
    if isinstance(body, dict) and body.get("type"):
        kind = str(body.get("type"))
        if body.get("expr") is not None:
            return "%s %s" % (kind, body.get("expr"))
        return kind
    if family == "inet":
        return "icmpx port-unreachable"
    if family == "ip6":
        return "icmpv6 port-unreachable"
    return "icmp port-unreachable"


def _nft_match(rule, body):
    left, right, op = body.get("left"), body.get("right"), body.get("op", "==")
    negated = op == "!="
    if not isinstance(left, dict):
        return
    if "payload" in left and isinstance(left["payload"], dict):
        proto = left["payload"].get("protocol")
        field = left["payload"].get("field")
        if proto in ("tcp", "udp", "udplite", "sctp", "dccp", "icmp", "icmpv6"):
            if rule["proto"] is None:
                rule["proto"] = proto
        if proto in ("tcp", "udp", "udplite", "sctp", "dccp", "th") and field in ("dport", "sport"):
            rule[field] = _render_value(right)
            rule["%s_negated" % field] = negated
            if isinstance(right, str) and right.startswith("@"):
                rule["_%s_setref" % field] = right[1:]
            elif op in ("==", "!=", "in"):
                rule["_%s_ranges" % field] = _ranges_from_nft(right)
            else:
                rule["_%s_ranges" % field] = None  # < > comparisons: unknown, may match
        elif proto in ("ip", "ip6") and field in ("saddr", "daddr"):
            key = "src" if field == "saddr" else "dst"
            rule[key] = ("!= " if negated else "") + _render_value(right)
            if field == "saddr" and not negated and isinstance(right, str) and right.startswith("@"):
                rule["_src_sets"].append(right[1:])
        elif proto in ("ip", "ip6") and field in ("protocol", "nexthdr"):
            rule["proto"], rule["proto_negated"] = _proto_name(right), negated
    elif "meta" in left and isinstance(left["meta"], dict) and left["meta"].get("key") in ("l4proto", "protocol"):
        if left["meta"].get("key") == "l4proto":
            rule["proto"], rule["proto_negated"] = _proto_name(right), negated
    if isinstance(right, str) and right.startswith("@"):
        rule["_set_refs"].append(right[1:].lower())
        rule["_set_names"].append(right[1:])


def _proto_name(value):
    if isinstance(value, dict) and isinstance(value.get("set"), list):
        names = [_proto_name(v) for v in value["set"]]
        return "tcp" if "tcp" in names else ",".join(n or "?" for n in names)
    if value in (6, "6"):
        return "tcp"
    return str(value).lower() if value is not None else None


def _ranges_from_nft(value):
    """nft JSON port value(s) -> [(lo, hi)]; None when it is not something we can read."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return [(value, value)]
    if isinstance(value, str):
        if value.startswith("@"):
            return None
        try:
            port = _port_value(value)
        except ValueError:
            return None
        return [(port, port)]
    if isinstance(value, dict):
        if isinstance(value.get("set"), list):
            return _ranges_from_nft(value["set"])
        if isinstance(value.get("range"), list) and len(value["range"]) == 2:
            low, high = _ranges_from_nft(value["range"][0]), _ranges_from_nft(value["range"][1])
            if low and high:
                return [(low[0][0], high[0][1])]
            return None
        if "elem" in value and isinstance(value["elem"], dict):
            return _ranges_from_nft(value["elem"].get("val"))
        return None
    if isinstance(value, list):
        ranges = []
        for element in value:
            part = _ranges_from_nft(element)
            if part is None:
                return None
            ranges.extend(part)
        return ranges
    return None


def _nft_own_affects(rule, ports):
    if rule.get("family") == "arp":
        return False
    proto = rule.get("proto")
    if proto not in (None, "", "th"):
        names = proto.split(",")
        is_tcp = "tcp" in names
        if is_tcp == bool(rule.get("proto_negated")):
            return False
    inbound = True
    if rule.get("dport") is not None:
        inbound = _spec_matches_any(rule.get("_dport_ranges"), ports, rule.get("dport_negated"))
    reply = False
    if rule.get("sport") is not None:
        reply = _spec_matches_any(rule.get("_sport_ranges"), ports, rule.get("sport_negated"))
    return inbound or reply


# ---- a compact nft-like rendering of a rule (counters left out, so the text is stable)
def render_nft_exprs(exprs):
    parts = []
    for expr in exprs or []:
        if not isinstance(expr, dict) or not expr:
            continue
        kind = next(iter(expr))
        body = expr[kind]
        try:
            text = _render_stmt(kind, body)
        except Exception:  # pylint: disable=broad-except
            text = "%s %s" % (kind, json.dumps(body, sort_keys=True)[:80])
        if text:
            parts.append(text)
    return " ".join(parts)


def _render_stmt(kind, body):
    if kind == "counter":
        return ""
    if kind == "match" and isinstance(body, dict):
        op = body.get("op", "==")
        sym = "" if op in ("==", "in") else op + " "
        left = _render_value(body.get("left"))
        right = _render_value(body.get("right"))
        if left in ("iifname", "oifname") and isinstance(body.get("right"), str):
            right = '"%s"' % right
        return "%s %s%s" % (left, sym, right)
    if kind in ("accept", "drop", "return", "continue"):
        return kind
    if kind in ("jump", "goto") and isinstance(body, dict):
        return "%s %s" % (kind, body.get("target"))
    if kind == "reject":
        if isinstance(body, dict) and body.get("type"):
            return "reject with %s%s" % (body["type"], (" " + str(body["expr"])) if body.get("expr") is not None else "")
        return "reject"
    if kind == "limit" and isinstance(body, dict):
        over = "over " if body.get("inv") else ""
        text = "limit rate %s%s/%s" % (over, body.get("rate"), body.get("per"))
        if body.get("rate_unit") and body.get("rate_unit") != "packets":
            text = "limit rate %s%s %s/%s" % (over, body.get("rate"), body.get("rate_unit"), body.get("per"))
        if body.get("burst"):
            text += " burst %s packets" % body.get("burst")
        return text
    if kind == "ct count" and isinstance(body, dict):
        return "ct count %s%s" % ("over " if body.get("inv") else "", body.get("val"))
    if kind == "log":
        if isinstance(body, dict) and body.get("prefix"):
            return 'log prefix "%s"' % body["prefix"]
        return "log"
    if kind == "xt":
        if isinstance(body, dict):
            return "xt %s %s" % (body.get("type", "match"), body.get("name"))
        return "xt ?"
    if kind in ("masquerade", "notrack"):
        return kind
    if kind in ("dnat", "snat", "redirect") and isinstance(body, dict):
        return "%s to %s" % (kind, ":".join(str(_render_value(body.get(k))) for k in ("addr", "port") if body.get(k) is not None))
    if kind == "vmap" and isinstance(body, dict):
        return "%s vmap %s" % (_render_value(body.get("key")), _render_value(body.get("data")))
    return "%s %s" % (kind, json.dumps(body, sort_keys=True)[:120])


def _render_value(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(_render_value(v) for v in value)
    if isinstance(value, dict):
        if "payload" in value and isinstance(value["payload"], dict):
            return "%s %s" % (value["payload"].get("protocol"), value["payload"].get("field"))
        if "meta" in value and isinstance(value["meta"], dict):
            key = value["meta"].get("key")
            return key if key in ("iifname", "oifname", "iif", "oif", "mark", "skuid", "skgid") else "meta %s" % key
        if "ct" in value and isinstance(value["ct"], dict):
            return "ct %s" % value["ct"].get("key")
        if "set" in value:
            return "{ %s }" % _render_value(value["set"])
        if "range" in value and isinstance(value["range"], list):
            return "-".join(_render_value(v) for v in value["range"])
        if "prefix" in value and isinstance(value["prefix"], dict):
            return "%s/%s" % (value["prefix"].get("addr"), value["prefix"].get("len"))
        if "&" in value and isinstance(value["&"], list) and len(value["&"]) == 2:
            return "%s & %s" % (_render_value(value["&"][0]), _render_value(value["&"][1]))
        if "concat" in value:
            return " . ".join(_render_value(v) for v in value["concat"])
        if len(value) == 1:
            key = next(iter(value))
            if key in ("jump", "goto") and isinstance(value[key], dict):
                return "%s %s" % (key, value[key].get("target"))
            if value[key] is None:
                return key
        return json.dumps(value, sort_keys=True)[:80]
    return str(value)


# --------------------------------------------------------------------------- classification
def classify_rules(rules, roots, ports):
    """Fill ``affects_ssh`` on every rule (in place) and return them.

    ``roots``: the set of ``(source, backend, family, table, chain)`` that packets enter
    (built-in chains, nft base chains). A user chain counts only when a rule that
    can match ssh traffic jumps into it, so a chain reached only for port 443
    does not report its DROPs as ssh evidence.
    """
    ports = list(ports)
    by_chain = {}
    for rule in rules:
        key = (rule["source"], rule.get("backend"), rule["family"], rule["table"], rule["chain"])
        by_chain.setdefault(key, []).append(rule)
        if rule["source"] == "nft":
            rule["_own"] = _nft_own_affects(rule, ports)
        else:
            rule["_own"] = _iptables_own_affects(rule, ports)
    reachable = set(roots)
    changed = True
    while changed:
        changed = False
        for key in list(reachable):
            for rule in by_chain.get(key, []):
                if not rule["_own"]:
                    continue
                targets = list(rule.get("jump_targets") or [])
                if rule.get("jump_target") and rule["jump_target"] not in targets:
                    targets.append(rule["jump_target"])
                for target in targets:
                    tkey = (key[0], key[1], key[2], key[3], target)
                    if tkey not in reachable:
                        reachable.add(tkey)
                        changed = True
    for key, chain_rules in by_chain.items():
        for rule in chain_rules:
            rule["affects_ssh"] = bool(rule["_own"] and key in reachable)
    return rules


def public_rule(rule):
    """The JSON-safe rule as returned: private helper keys dropped, fields in a fixed set."""
    keys = ("source", "backend", "family", "table", "chain", "position", "text", "verdict", "jump_target",
            "reject_with", "tcp_reset", "rate_limit", "fail2ban", "sshguard", "affects_ssh", "proto",
            "dport", "sport", "src", "dst")
    out = dict((k, rule.get(k)) for k in keys)
    out["rate_limit"] = list(rule.get("rate_limit") or [])
    out["tcp_reset"] = bool(rule.get("tcp_reset"))
    out["fail2ban"] = bool(rule.get("fail2ban"))
    out["sshguard"] = bool(rule.get("sshguard"))
    out["affects_ssh"] = bool(rule.get("affects_ssh"))
    if rule.get("dport_negated") and out["dport"] is not None:
        out["dport"] = "!" + str(out["dport"])
    if rule.get("sport_negated") and out["sport"] is not None:
        out["sport"] = "!" + str(out["sport"])
    if rule.get("unknown_matches"):
        out["unknown_matches"] = True
    if rule.get("_src_sets"):
        # Named sets (nft sets, ipsets) this rule matches the source address against.
        out["src_sets"] = list(rule["_src_sets"])
    return out


def summarize(rules, policies):
    ssh = [r for r in rules if r.get("affects_ssh")]
    return {
        "drop_rules": sum(1 for r in ssh if r["verdict"] == "DROP"),
        "reject_rules": sum(1 for r in ssh if r["verdict"] == "REJECT"),
        "tcp_reset_rules": sum(1 for r in ssh if r.get("tcp_reset")),
        "rate_limited_rules": sum(1 for r in ssh if r.get("rate_limit")),
        "fail2ban": any(r.get("fail2ban") for r in rules),
        "sshguard": any(r.get("sshguard") for r in rules),
        "drop_policies": sorted(set(
            "%s %s %s/%s" % (p["source"], p["family"], p["table"], p["chain"])
            for p in policies if p.get("policy") in ("DROP", "REJECT") and p.get("affects_ssh"))),
    }


# --------------------------------------------------------------------------- addresses
MAX_CLIENTS = MAX_CLIENT_SPECS


def address_range(text):
    """``(version, first, last)`` integers of an address, a CIDR or an ``a-b`` range; None otherwise.

    ``10.0.0.5``, ``10.0.0.0/24``, ``2001:db8::/32``, ``10.0.0.1-10.0.0.9``; an ipset element
    such as ``10.0.0.5,tcp:22`` is taken for its address part. Host bits of a CIDR are ignored.
    """
    if not isinstance(text, str):
        return None
    text = text.strip().split(",", 1)[0].split(" ", 1)[0]
    if not text:
        return None
    try:
        if "-" in text and "/" not in text:
            low, high = text.split("-", 1)
            first, last = ipaddress.ip_address(low.strip()), ipaddress.ip_address(high.strip())
            if first.version != last.version:
                return None
            return (first.version, min(int(first), int(last)), max(int(first), int(last)))
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return (network.version, int(network.network_address), int(network.broadcast_address))


def ranges_overlap(one, other):
    """Do two ``address_range`` results share an address?"""
    return bool(one and other and one[0] == other[0] and one[1] <= other[2] and other[1] <= one[2])


def matching_specs(element, client_ranges):
    """The client specs (``[(spec, range)]``) whose addresses overlap ``element``."""
    rng = address_range(element)
    if rng is None:
        return []
    return [spec for spec, crange in client_ranges if ranges_overlap(rng, crange)]


def parse_client_specs(values):
    """Validate ``clients``: addresses or CIDRs (``198.51.100.7``, ``203.0.113.0/24``). Raises ValueError naming it.

    The one client-spec check of the collection (ssh_evidence's and the incident's too)."""
    return normalize_client_specs(values, name="clients", max_specs=MAX_CLIENTS)


def client_ranges_of(clients):
    """``[(spec, range)]`` for the client specs that are addresses or CIDRs (others are left out)."""
    result = []
    for spec in clients or []:
        rng = address_range(str(spec))
        if rng is not None and "-" not in str(spec):
            result.append((str(spec), rng))
    return result


# --------------------------------------------------------------------------- sets (nft sets, ipset)
MAX_SETS = 50
MAX_SET_MEMBERS = 20
MAX_SET_REFS = 3


def _set_type(value):
    if isinstance(value, list):
        return " . ".join(str(v) for v in value)
    return _str_or_none(value)


def int_or_none(value):
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def nft_element(value):
    """``(element, timeout_s, expires_s)`` of one element of an nft set in JSON.

    ``"10.0.0.1"``, ``{"prefix": {...}}``, ``{"range": [...]}``, ``{"elem": {"val": ..., "timeout": 7200,
    "expires": 7194}}`` (an element with its own timeout), and ``[key, value]`` pairs of maps.
    """
    timeout = expires = None
    if isinstance(value, list) and len(value) == 2:
        value = value[0]
    if isinstance(value, dict) and isinstance(value.get("elem"), dict):
        inner = value["elem"]
        timeout, expires = int_or_none(inner.get("timeout")), int_or_none(inner.get("expires"))
        value = inner.get("val")
    if isinstance(value, dict) and "concat" in value and isinstance(value["concat"], list):
        text = " . ".join(nft_element(v)[0] for v in value["concat"])
    else:
        text = _render_value(value).replace(" ", "") if isinstance(value, dict) else _render_value(value)
    return text[:MAX_TEXT], timeout, expires


def parse_ipset_list(text, client_ranges=(), max_members=MAX_SET_MEMBERS):
    """Parse ``ipset list``: one dict per set, members bounded.

    Each set: ``{name, type, family ("ip"/"ip6"), flags, default_timeout_s, references,
    members_total, members: [{element, expires_s, timeout_s}]}``. At most ``max_members``
    members: those that overlap a client spec first, then the first others. ``timeout N`` in a
    member line is the time the member has left (0: no timeout); its original timeout is not shown.
    """
    sets = []
    current = None
    in_members = False
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            in_members = False
            continue
        if line.startswith("Name:"):
            current = {"name": line[5:].strip(), "type": None, "family": None, "flags": [],
                       "default_timeout_s": None, "references": None, "members_total": 0,
                       "members": [], "_matched": [], "_others": [], "_entries": None}
            sets.append(current)
            in_members = False
            continue
        if current is None:
            continue
        if in_members:
            current["members_total"] += 1
            _keep_member(current, _ipset_member(line), client_ranges, max_members)
            continue
        key, dummy, value = line.partition(":")
        value = value.strip()
        if key == "Type":
            current["type"] = value
        elif key == "Header":
            tokens = value.split()
            for pos, token in enumerate(tokens):
                nxt = tokens[pos + 1] if pos + 1 < len(tokens) else None
                if token == "family" and nxt:
                    current["family"] = {"inet": "ip", "inet6": "ip6"}.get(nxt, nxt)
                elif token == "timeout" and nxt:
                    current["default_timeout_s"] = int_or_none(nxt)
                    current["flags"].append("timeout")
                elif token in ("counters", "comment", "skbinfo", "forceadd"):
                    current["flags"].append(token)
        elif key == "References":
            current["references"] = int_or_none(value)
        elif key == "Number of entries":
            current["_entries"] = int_or_none(value)
        elif key == "Members":
            in_members = True
    for entry in sets:
        # The kernel's own count, when given, also covers members the output cut off.
        if entry["_entries"] is not None and entry["_entries"] > entry["members_total"]:
            entry["members_total"] = entry["_entries"]
        del entry["_entries"]
        _finish_members(entry, max_members)
    return sets


def _ipset_member(line):
    tokens = line.split()
    expires = None
    for pos, token in enumerate(tokens[1:], 1):
        if token == "timeout" and pos + 1 < len(tokens):
            left = int_or_none(tokens[pos + 1])
            expires = left if left else None
    return {"element": tokens[0][:MAX_TEXT], "expires_s": expires, "timeout_s": None}


def _keep_member(entry, member, client_ranges, max_members):
    """Keep at most ``max_members``: those overlapping a client spec first, then the first others."""
    matched = bool(client_ranges) and bool(matching_specs(member["element"], client_ranges))
    bucket = entry["_matched"] if matched else entry["_others"]
    if len(bucket) < max_members:
        bucket.append(member)


def _finish_members(entry, max_members):
    entry["members"] = (entry.pop("_matched") + entry.pop("_others"))[:max_members]


def nft_sets(set_info, set_elems, client_ranges=(), max_members=MAX_SET_MEMBERS):
    """The nft sets of ``parse_nft_json`` in the shape of ``parse_ipset_list`` (plus table)."""
    result = []
    for key in sorted(set_info, key=lambda k: tuple(str(x) for x in k)):
        info = set_info[key]
        entry = {"family": key[0], "table": key[1], "name": key[2], "type": info.get("type"),
                 "flags": list(info.get("flags") or []), "default_timeout_s": info.get("timeout_s"),
                 "members_total": 0, "members": [], "_matched": [], "_others": []}
        for value in set_elems.get(key) or []:
            element, timeout, expires = nft_element(value)
            entry["members_total"] += 1
            _keep_member(entry, {"element": element, "expires_s": expires, "timeout_s": timeout},
                         client_ranges, max_members)
        _finish_members(entry, max_members)
        result.append(entry)
    return result


def build_sets(nft, ipsets, rules, max_sets=MAX_SETS, max_members=MAX_SET_MEMBERS):
    """``firewall.sets``: every nft set and ipset, with the rules that use it.

    ``rules`` are the classified rules (``affects_ssh`` filled in). A set is referenced by an nft
    rule of its own table naming ``@set``, or by an iptables rule ``-m set --match-set NAME``
    of its family. Sets a rule touching ssh uses come first, then the rest, at most ``max_sets``.
    Returns ``(sets, truncated)``.
    """
    entries = []
    for source, items in (("nft", nft), ("ipset", ipsets)):
        for item in items:
            refs = []
            for rule in rules:
                if item["name"] not in (rule.get("_set_names") or []):
                    continue
                if source == "nft" and (rule.get("source") != "nft" or rule.get("family") != item["family"]
                                        or rule.get("table") != item["table"]):
                    continue
                if source == "ipset" and (rule.get("source") not in ("iptables", "ip6tables")
                                          or (item["family"] and rule.get("family") != item["family"])):
                    continue
                refs.append(rule)
            entry = {
                "source": source, "family": item["family"], "table": item.get("table"), "name": item["name"],
                "type": item["type"], "flags": item["flags"], "members_total": item["members_total"],
                "members": [dict((k, m[k]) for k in ("element", "expires_s", "timeout_s")) for m in item["members"]],
                "referenced_by": [r.get("text") for r in refs[:MAX_SET_REFS]],
                "affects_ssh": any(r.get("affects_ssh") for r in refs),
            }
            entries.append(entry)
    entries.sort(key=lambda e: (not e["affects_ssh"], e["source"], str(e["table"]), e["name"]))
    truncated = len(entries) > max_sets
    return entries[:max_sets], truncated


def ipset_plan(proc_modules, sys_ip_set, cannot_load):
    """Run ``ipset list`` only when it cannot make the kernel load ip_set (see ``kernel_read_plan``)."""
    if proc_modules is not None and "ip_set" in proc_modules:
        return True, None
    if sys_ip_set or cannot_load:
        return True, None
    if proc_modules is None:
        return False, ("cannot tell whether ip_set is loaded (/proc/modules unreadable); ipset was not run "
                       "because it could load it")
    return False, None


# --------------------------------------------------------------------------- conntrack
def parse_int_file(text):
    """The integer in a one-number /proc file, or None."""
    try:
        return int((text or "").strip().split()[0])
    except (ValueError, IndexError):
        return None


# --------------------------------------------------------------------------- kernel modules
def parse_proc_modules(text):
    """/proc/modules -> set of loaded module names (None when the text is None)."""
    if text is None:
        return None
    names = set()
    for line in text.splitlines():
        fields = line.split()
        if fields:
            names.add(fields[0])
    return names


def parse_table_names(text):
    """/proc/net/ip_tables_names -> list of legacy tables in use (None when the file is absent)."""
    if text is None:
        return None
    return [line.strip() for line in text.splitlines() if line.strip()]


def kernel_read_plan(proc_modules, modprobe_present, modules_disabled, nf_tables_in_sys, ip_tables_names, ip6_tables_names):
    """Decide which readers can run without making the kernel load a module.

    Why this matters: listing rules is not free of side effects. ``nft`` opens a
    NETLINK_NETFILTER socket and asks the nf_tables subsystem, and the kernel
    answers an absent subsystem with request_module() (``nfnetlink-subsys-10``),
    so ``nft list ruleset`` and ``iptables-nft-save`` load nf_tables. The legacy
    ``iptables-legacy-save`` calls iptc_init(), which modprobes ``ip_tables`` when
    the socket option is unknown and makes the kernel request ``iptable_<name>``
    for a table it asks about. So:

    * legacy: run only when ``/proc/net/ip_tables_names`` (ip6_tables_names) exists
      and lists tables; then ``iptables-legacy-save`` walks exactly those names.
      No file means ip_tables is not loaded, so there are no legacy rules to find.
    * nf_tables: run only when /proc/modules lists ``nf_tables``, or it is built in
      (``/sys/module/nf_tables``), or the kernel cannot load modules at all
      (no /proc/modules and no /proc/sys/kernel/modprobe, or modules_disabled=1).
      Not loaded means there are no nftables rules, so nothing is missed.
    """
    plan = {"modules": "unknown", "nf_tables": "unknown", "run_nft": False, "nft_reason": None,
            "legacy_ip": [], "legacy_ip6": [], "ip_tables_loaded": ip_tables_names is not None,
            "ip6_tables_loaded": ip6_tables_names is not None}
    cannot_load = modules_disabled or (proc_modules is None and not modprobe_present)
    if proc_modules is not None:
        plan["modules"] = "loadable" if not modules_disabled else "disabled"
    elif cannot_load:
        plan["modules"] = "none"
    if proc_modules is not None and "nf_tables" in proc_modules:
        plan["nf_tables"] = "loaded"
    elif nf_tables_in_sys:
        plan["nf_tables"] = "built-in"
    elif proc_modules is not None:
        plan["nf_tables"] = "not loaded"
    if plan["nf_tables"] in ("loaded", "built-in") or cannot_load:
        plan["run_nft"] = True
        if plan["nf_tables"] == "unknown":
            plan["nf_tables"] = "built-in or absent (kernel cannot load modules)"
    elif plan["nf_tables"] == "not loaded":
        plan["nft_reason"] = ("nf_tables is not loaded, so there are no nftables or iptables-nft rules; "
                              "nft and iptables-nft-save were not run because they would load it")
    else:
        plan["nft_reason"] = ("cannot tell whether nf_tables is loaded (/proc/modules unreadable); nft and "
                              "iptables-nft-save were not run because they could load it")
    for key, names in (("ip", ip_tables_names), ("ip6", ip6_tables_names)):
        if names == "unreadable":
            plan["legacy_%s_unreadable" % key] = True
            names = None
        plan["legacy_" + key] = list(names or [])
    plan["ip_tables_loaded"] = ip_tables_names is not None
    plan["ip6_tables_loaded"] = ip6_tables_names is not None
    return plan


# --------------------------------------------------------------------------- collector
_PROC = "/proc/sys/net/netfilter/"
UNREADABLE = "unreadable"
# Reads of /proc and /sys ask for at most this much: /proc/sys handlers allocate the
# whole request up front and answer ENOMEM past the kernel's kmalloc limit (4 MiB on
# x86-64), which Host.read_text's 8 MiB default exceeds.
PROC_READ_MAX = 1 << 20


def collect_firewall(host, ports=None, max_rules=MAX_RULES, clients=None):
    """Read the host's packet filter and conntrack state. Only the Host API is used.

    ``clients`` (addresses or CIDRs) decide which set members are listed first.
    """
    ports = normalize_ports(ports)
    client_ranges = client_ranges_of(clients)
    result = {
        "ssh_ports": ports,
        "sources": {},
        "rules": [],
        "policies": [],
        "sets": [],
        "conntrack": {},
        "summary": {},
        "counts": {"rules_total": 0, "rules_affecting_ssh": 0, "rules_returned": 0, "deduplicated_nft_rules": 0},
        "limits": {"max_rules": max_rules, "max_text": MAX_TEXT, "max_sets": MAX_SETS,
                   "max_set_members": MAX_SET_MEMBERS},
        "truncated": False,
        "tool_warnings": [],
        "notes": [],
    }
    notes = result["notes"]
    nft_set_entries, ipset_entries = [], []
    legacy_names = {}
    for family, path in (("ip", "/proc/net/ip_tables_names"), ("ip6", "/proc/net/ip6_tables_names")):
        text = host.read_text(path, max_bytes=PROC_READ_MAX)
        # The file is root-only (0440): unreadable is not the same as absent.
        legacy_names[family] = UNREADABLE if text is None and host.exists(path) else parse_table_names(text)
    proc_modules = parse_proc_modules(host.read_text("/proc/modules", max_bytes=PROC_READ_MAX))
    modprobe_present = host.exists("/proc/sys/kernel/modprobe")
    modules_disabled = parse_int_file(host.read_text("/proc/sys/kernel/modules_disabled", max_bytes=PROC_READ_MAX)) == 1
    plan = kernel_read_plan(
        proc_modules,
        modprobe_present,
        modules_disabled,
        host.exists("/sys/module/nf_tables"),
        legacy_names["ip"],
        legacy_names["ip6"],
    )
    result["sources"]["kernel"] = {
        "modules": plan["modules"], "nf_tables": plan["nf_tables"],
        "legacy_tables": {"ip": plan["legacy_ip"], "ip6": plan["legacy_ip6"]},
    }
    all_rules, all_policies, roots = [], [], set()
    iptables_nft_tables = set()

    for source, prefix, legacy_tables in (("iptables", "iptables", plan["legacy_ip"]),
                                          ("ip6tables", "ip6tables", plan["legacy_ip6"])):
        info = _read_iptables_family(host, source, prefix, plan, legacy_tables, notes)
        result["sources"][source] = info["source"]
        for parsed in info["parsed"]:
            all_rules.extend(parsed["rules"])
            all_policies.extend(parsed["policies"])
            for warning in parsed["warnings"]:
                if warning not in result["tool_warnings"] and len(result["tool_warnings"]) < MAX_WARNINGS:
                    result["tool_warnings"].append(warning)
            family = "ip6" if source == "ip6tables" else "ip"
            for table, tinfo in parsed["tables"].items():
                for chain, policy in tinfo["chains"].items():
                    if policy is not None and chain.lower() in LOCAL_HOOKS:
                        roots.add((source, parsed["backend"], family, table, chain))
                if parsed["backend"] == "nf_tables" and table not in parsed["incompatible_tables"]:
                    iptables_nft_tables.add((family, table))

    nft_info = {"available": bool(host.which("nft")), "read": False, "version": None}
    result["sources"]["nft"] = nft_info
    if nft_info["available"] and plan["run_nft"]:
        res = host.run(["nft", "-j", "list", "ruleset"])
        if res.ok:
            parsed = parse_nft_json(res.stdout)
            if parsed["error"]:
                notes.append("nft -j list ruleset: %s" % parsed["error"])
            else:
                nft_info["read"] = True
                nft_info["version"] = parsed["version"]
                nft_set_entries = nft_sets(parsed["set_info"], parsed["sets"], client_ranges)
                for rule in parsed["rules"]:
                    if (rule["family"], rule["table"]) in iptables_nft_tables:
                        result["counts"]["deduplicated_nft_rules"] += 1
                        continue
                    all_rules.append(rule)
                for policy in parsed["policies"]:
                    if (policy["family"], policy["table"]) in iptables_nft_tables:
                        continue
                    all_policies.append(policy)
                    if policy["affects_ssh"]:
                        roots.add(("nft", "nf_tables", policy["family"], policy["table"], policy["chain"]))
                if result["counts"]["deduplicated_nft_rules"]:
                    notes.append(
                        "%d nft rules in tables managed by iptables-nft (%s) are reported once, from iptables-nft-save"
                        % (result["counts"]["deduplicated_nft_rules"],
                           ", ".join("%s %s" % t for t in sorted(iptables_nft_tables))))
        else:
            notes.append(_command_note("nft -j list ruleset", res))
    elif nft_info["available"]:
        notes.append(plan["nft_reason"])
    else:
        notes.append("nft is not installed: nftables rules not read")

    ipset_entries = _read_ipsets(host, result, notes, client_ranges, ipset_plan(
        proc_modules, host.exists("/sys/module/ip_set"),
        modules_disabled or (proc_modules is None and not modprobe_present)))

    classify_rules(all_rules, roots, ports)
    sets, sets_truncated = build_sets(nft_set_entries, ipset_entries, all_rules)
    result["sets"] = sets
    if sets_truncated:
        result["truncated"] = True
        notes.append("only %d of %d sets are returned (those rules touching ssh use first)"
                     % (len(sets), len(nft_set_entries) + len(ipset_entries)))
    result["counts"]["rules_total"] = len(all_rules)
    relevant = [r for r in all_rules if r.get("affects_ssh") or r.get("fail2ban") or r.get("sshguard")]
    result["counts"]["rules_affecting_ssh"] = sum(1 for r in all_rules if r.get("affects_ssh"))
    result["summary"] = summarize(all_rules, all_policies)
    if len(relevant) > max_rules:
        result["truncated"] = True
        notes.append("only the first %d of %d relevant rules are returned" % (max_rules, len(relevant)))
        relevant = relevant[:max_rules]
    result["rules"] = [public_rule(r) for r in relevant]
    result["counts"]["rules_returned"] = len(result["rules"])
    result["policies"] = all_policies
    result["conntrack"] = _read_conntrack(host, notes)
    for note in getattr(host, "notes", []):
        if note not in notes:
            notes.append(note)
    return result


def _read_iptables_family(host, source, prefix, plan, legacy_tables, notes):
    """Run at most one reader per back end (nf_tables, legacy) for iptables or ip6tables.

    ``iptables-save`` is itself one of ``iptables-nft-save`` / ``iptables-legacy-save``
    (Debian's alternatives); its ``-V`` says which. Reading each back end once
    through its own tool covers what ``iptables-save`` shows and the other back end
    too, without listing the same rules twice.
    """
    info = {"available": False, "backend": None, "version": None, "read": [], "tools": {}}
    parsed_list = []
    default_tool = "%s-save" % prefix
    explicit = {"nf_tables": "%s-nft-save" % prefix, "legacy": "%s-legacy-save" % prefix}
    if host.which(default_tool):
        info["available"] = True
        res = host.run([default_tool, "-V"])
        if res.ok or res.stdout:
            info["version"], info["backend"] = parse_iptables_version(res.stdout + res.stderr)
    for backend in ("nf_tables", "legacy"):
        tool = explicit[backend] if host.which(explicit[backend]) else None
        if tool is None and info["backend"] == backend:
            tool = default_tool
        if tool is None:
            continue
        info["available"] = True
        info["tools"][backend] = tool
        if backend == "nf_tables" and not plan["run_nft"]:
            continue
        if backend == "legacy" and not legacy_tables:
            continue
        res = host.run([tool])
        if res.missing:
            continue
        if res.rc != 0 and not res.stdout.strip():
            notes.append(_command_note(tool, res))
            continue
        parsed = parse_iptables_save(res.stdout, source=source, backend=backend)
        parsed["backend"] = backend
        parsed_list.append(parsed)
        info["read"].append(backend)
        if parsed["unparsed"]:
            notes.append("%s: %d lines not understood" % (tool, parsed["unparsed"]))
    if not info["available"]:
        notes.append("%s is not installed: %s rules not read" % (default_tool, source))
    elif "legacy" in info["tools"] and not legacy_tables:
        key = "ip6" if source == "ip6tables" else "ip"
        if plan.get("legacy_%s_unreadable" % key):
            reason = ("/proc/net/%s_tables_names is not readable (run with become: true); legacy %s rules not read"
                      % (key, source))
            notes.append(reason)
        elif plan["%s_tables_loaded" % key]:
            reason = "no legacy %s tables are in use (/proc/net/%s_tables_names is empty)" % (source, key)
        else:
            reason = ("no legacy %s tables can exist: the %s_tables module is not loaded (not running %s, "
                      "which would load it)" % (source, key, info["tools"]["legacy"]))
        info.setdefault("skipped", {})["legacy"] = reason
    if "nf_tables" in info["tools"] and not plan["run_nft"]:
        info.setdefault("skipped", {})["nf_tables"] = plan["nft_reason"]
    return {"source": info, "parsed": parsed_list}


def _read_ipsets(host, result, notes, client_ranges, plan):
    """``ipset list``, when ipset is installed and running it cannot load ip_set."""
    info = {"available": bool(host.which("ipset")), "read": False}
    result["sources"]["ipset"] = info
    run, reason = plan
    if not info["available"]:
        return []
    if not run:
        if reason:
            info["skipped"] = reason
            notes.append(reason)
        else:
            info["skipped"] = "ip_set is not loaded, so there are no ipsets; ipset was not run because it would load it"
        return []
    res = host.run(["ipset", "list"])
    if not res.ok:
        notes.append(_command_note("ipset list", res))
        return []
    info["read"] = True
    return parse_ipset_list(res.stdout, client_ranges)


def _command_note(command, res):
    from_err = (res.stderr or res.stdout or "").strip().splitlines()
    detail = from_err[0][:200] if from_err else "exit status %s" % res.rc
    lowered = detail.lower()
    if "permission denied" in lowered or "not permitted" in lowered or "must be root" in lowered:
        return "%s: permission denied (run with become: true): %s" % (command, detail)
    return "%s failed: %s" % (command, detail)


def _read_conntrack(host, notes):
    def number(path):
        return parse_int_file(host.read_text(path, max_bytes=PROC_READ_MAX))

    timeout = number(_PROC + "nf_conntrack_tcp_timeout_established")
    count = number(_PROC + "nf_conntrack_count")
    maximum = number(_PROC + "nf_conntrack_max")
    if maximum is None:
        maximum = number("/proc/sys/net/nf_conntrack_max")
    loose = number(_PROC + "nf_conntrack_tcp_loose")
    conntrack = {
        "available": timeout is not None or count is not None,
        "tcp_timeout_established": timeout,
        "tcp_loose": loose,
        "count": count,
        "max": maximum,
        "usage_pct": round(100.0 * count / maximum, 1) if count is not None and maximum else None,
    }
    if not conntrack["available"]:
        notes.append("connection tracking is not loaded (no %s): no conntrack timeouts apply" % (_PROC + "nf_conntrack_count"))
    return conntrack
