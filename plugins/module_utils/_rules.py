# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""From one host's evidence to its ranked findings. Runs on the controller.

Pure: a dict in (what ``ssh_evidence`` returned, plus what ``ssh_probe`` saw from
the controller), a list of findings out. No I/O, no Ansible imports.

There is one small function per cause id (``RULES``). Each looks at the evidence
sections it needs and returns a finding or ``None``; a section that is missing
or that failed to collect is simply not looked at (the host's ``notes`` say so).

A finding::

    {"cause": "idle_timeout", "severity": "warning", "confidence": 0.85,
     "summary": "one line",
     "evidence": ["<source>: <what it showed>", ...],
     "fix": "one-line action\\nthen the exact lines / commands",
     "automated_fix": {"role": "sshdoctor.connreset.sshd_hardening", "vars": {...}} or None,
     "scope": {"clients", "not_clients", "phase", "ongoing", "since_epoch", "events", "basis"}}

``scope`` (CONTRACTS.md section 4) says whom the finding hits, in which phase of a
connection, whether the state holds now and since when, and its dated events
(``_events``): what ``_incident`` checks against an incident's client and time, and
``_fleet`` lines up across hosts.

Findings are sorted by severity (critical, warning, info), then by confidence.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import ipaddress
import re

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _events
from ansible_collections.sshdoctor.connreset.plugins.module_utils._client_address import normalize_client_spec
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _untrusted
from ansible_collections.sshdoctor.connreset.plugins.module_utils._evidence import SECTIONS

SEVERITIES = ("critical", "warning", "info")

# The fixed cause ids, in the order used to break ties.
CAUSES = (
    "sshd_not_running",
    "sshd_config_invalid",
    "firewall_reject",
    "tcp_wrappers_denied",
    "host_unreachable",
    "maxstartups_throttling",
    "source_penalty",
    "oom_kill",
    "idle_timeout",
    "sshd_restarted",
    "protocol_mismatch",
    "packet_corruption",
    "resource_pressure",
    "host_rebooted",
)

HARDENING_ROLE = "sshdoctor.connreset.sshd_hardening"
CLIENT_ROLE = "sshdoctor.connreset.ssh_client_keepalive"

NOTHING_FOUND = "No cause of connection resets found in the evidence."

# Client addresses in sshd's lines: "from [10.0.0.5]:4242", "with 10.0.0.5 port 4242", "from 10.0.0.5 (10.0.0.5)".
_FROM_ADDRESS = r"(?:from|with) \[?([0-9A-Fa-f.:]+?)\]?(?::\d+| port \d+| \()"

# A conntrack / NAT table that forgets an idle TCP flow sooner than this cannot be
# bridged by the kernel's TCP keepalive (first probe after 7200 s by default).
SHORT_CONNTRACK_SECONDS = 7200
# Where a full disk stops sshd from logging people in (logs, lastlog/wtmp, /run/sshd, homes).
KEY_MOUNTS = ("/", "/var", "/var/log", "/tmp", "/run", "/home")
# A boot younger than this is worth a mention: sessions open before it were cut.
REBOOT_WINDOW_SECONDS = 7 * 86400
MAX_EVIDENCE_LINES = 8
MAX_SAMPLE_CHARS = 240

# Journal signatures (ids of _signatures.py) that a healthy host logs too: port scanners,
# load-balancer checks, clients that give up at the password prompt, boots. They support a
# finding another piece of evidence makes; on their own they make none.
BACKGROUND_SIGNATURES = frozenset((
    "kex_ident_closed",
    "kex_ident_reset",
    "no_ident_string",
    "connection_reset_preauth",
    "banner_invalid",
    "banner_timeout",
    "login_grace_timeout",
    "config_deprecated_option",
    "config_unsupported_option",
    "hostkey_load_failed",
))
# Established sessions reset from the far side: what an idle timeout on the path looks like.
POSTAUTH_RESET_SIGNATURES = ("connection_reset", "read_error_reset")
# sshd -t / ExecStartPre lines that mean sshd could not start at all.
FATAL_CONFIG_SIGNATURES = frozenset((
    "config_bad_option", "config_terminating", "config_missing_argument", "privsep_dir_missing", "no_hostkeys"))


class Evidence:
    """Safe access to one host's evidence: a missing or failed section reads as empty."""

    def __init__(self, evidence=None, probe=None, reachable=True, unreachable_msg=None, now=None):
        self.raw = evidence if isinstance(evidence, dict) else {}
        self.probe = probe if isinstance(probe, dict) and probe.get("outcome") else None
        self.reachable = bool(reachable)
        self.unreachable_msg = unreachable_msg
        self.now = now

    def has(self, name):
        section = self.raw.get(name)
        return isinstance(section, dict) and not section.get("error")

    def section(self, name):
        return self.raw[name] if self.has(name) else {}

    def get(self, name, *path):
        value = self.section(name)
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    # --- sshd ----------------------------------------------------------------------
    @property
    def unit(self):
        return self.get("sshd", "unit") or "ssh"

    def setting(self, name):
        settings = self.get("sshd", "settings")
        return settings.get(name) if isinstance(settings, dict) else None

    def provenance(self, keyword):
        """``"FILE line N"`` for the line that supplies ``keyword``, or None (compiled-in default)."""
        prov = self.get("sshd", "provenance")
        entry = prov.get(keyword) if isinstance(prov, dict) else None
        if isinstance(entry, dict) and entry.get("file"):
            return "%s line %s" % (entry["file"], entry.get("line", "?"))
        return None

    def version_at_least(self, major, minor):
        info = self.get("sshd", "version_info")
        if isinstance(info, (list, tuple)) and len(info) >= 2:
            try:
                return (int(info[0]), int(info[1])) >= (major, minor)
            except (TypeError, ValueError):
                return None
        return None

    # --- journal -------------------------------------------------------------------
    def journal_hits(self, cause=None, ids=None, background=True):
        """``[(signature_id, info)]`` of journal signatures, most frequent first.

        ``cause``: only those pointing to that cause id; ``ids``: only those ids;
        ``background=False`` leaves out ``BACKGROUND_SIGNATURES``.
        """
        signatures = self.get("journal", "signatures")
        if not isinstance(signatures, dict):
            return []
        hits = [
            (sig_id, info)
            for sig_id, info in signatures.items()
            if isinstance(info, dict) and as_int(info.get("count")) > 0
            and (cause is None or info.get("cause") == cause)
            and (ids is None or sig_id in ids)
            and (background or sig_id not in BACKGROUND_SIGNATURES)
        ]
        return sorted(hits, key=lambda item: (-as_int(item[1].get("count")), item[0]))

    def journal_lines(self, hits):
        """One evidence line per signature: ``SOURCE: ID xN (first .. last): newest sample``.

        SOURCE is the file(s) or journald the signature's lines came from. When the read
        did not cover the whole window (time budget, unreadable file), a last line says so.
        """
        source = self.get("journal", "source") or "journal"
        lines = []
        for sig_id, info in hits:
            count = as_int(info.get("count"))
            when = ""
            if count > 1 and (info.get("first_seen") or info.get("last_seen")):
                when = " (%s .. %s)" % (info.get("first_seen") or "?", info.get("last_seen") or "?")
            samples = info.get("samples") or []
            sample = (": %s" % _clip(samples[-1])) if samples else ""
            sources = info.get("sources") if isinstance(info.get("sources"), dict) else {}
            named = ", ".join(str(k) for k in sorted(sources, key=lambda k: -as_int(sources[k]))[:3]) or source
            lines.append("%s: %s x%d%s%s" % (named, sig_id, count, when, sample))
        period = self.get("journal", "period")
        if lines and isinstance(period, dict) and period.get("complete") is False:
            gaps = ["%s .. %s" % (g[0] or "?", g[1] or "?") for g in period.get("not_covered") or []
                    if isinstance(g, (list, tuple)) and len(g) == 2]
            lines.append("journal: the read was incomplete (%s)%s" % (
                period.get("stopped_by") or "?", "; not read: " + ", ".join(gaps[:3]) if gaps else ""))
        return lines

    def sample_values(self, hits, pattern):
        """Distinct first groups of ``pattern`` in the hits' samples, in the order seen."""
        values = []
        for dummy, info in hits:
            for sample in info.get("samples") or []:
                match = re.search(pattern, str(sample))
                if match and match.group(1) not in values:
                    values.append(match.group(1))
        return values

    def unit_events(self, *kinds):
        events = self.get("journal", "unit_events")
        if not isinstance(events, list):
            return []
        return [e for e in events if isinstance(e, dict) and (not kinds or e.get("event") in kinds)]

    # --- probe ---------------------------------------------------------------------
    def probe_line(self):
        p = self.probe
        if not p:
            return None
        counts = p.get("outcomes") or {}
        total = p.get("samples_total") or sum(counts.values()) or 1
        parts = ["%s %d/%d" % (name, n, total) for name, n in sorted(counts.items(), key=lambda kv: -kv[1])]
        text = "probe from the controller to %s:%s: %s" % (p.get("address") or p.get("host"), p.get("port"), ", ".join(parts))
        if p.get("messages"):
            text += " (%s)" % "; ".join(repr(m) for m in p["messages"])
        elif p.get("banner") and p.get("outcome") == "banner":
            text += " (%s)" % p["banner"]
        if p.get("errors") and p.get("outcome") != "banner":
            text += " [%s]" % "; ".join(p["errors"][:2])
        return text

    def probe_share(self, *outcomes):
        """The share (0..1) of probe samples with one of ``outcomes``."""
        p = self.probe
        if not p:
            return 0.0
        counts = p.get("outcomes") or {}
        total = p.get("samples_total") or sum(counts.values())
        if not total:
            return 0.0
        return sum(counts.get(o, 0) for o in outcomes) / float(total)


def as_int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _count(hits):
    return sum(as_int(info.get("count")) for dummy, info in hits)


_epoch = _events.epoch_of


def _clip(text, limit=MAX_SAMPLE_CHARS):
    text = str(text).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def finding(cause, severity, confidence, summary, evidence, fix, automated_fix=None, scope=None):
    if cause not in CAUSES or severity not in SEVERITIES:
        raise ValueError("unknown cause %r or severity %r" % (cause, severity))
    lines = [line for line in evidence if line]
    if len(lines) > MAX_EVIDENCE_LINES:
        lines = lines[:MAX_EVIDENCE_LINES] + ["... and %d more" % (len(lines) - MAX_EVIDENCE_LINES)]
    return {
        "cause": cause,
        "severity": severity,
        "confidence": round(max(0.0, min(1.0, confidence)), 2),
        "summary": summary,
        "evidence": lines,
        "fix": fix,
        "automated_fix": automated_fix,
        "scope": scope if scope is not None else make_scope(),
    }


MAX_SCOPE_CLIENTS = 50
PHASES = ("connect", "banner", "kex", "auth", "session", "any")


def make_scope(clients=None, not_clients=(), phase="any", ongoing=False, since_epoch=None, events=(), basis=None):
    """A finding's ``scope`` (CONTRACTS.md section 4).

    ``clients``: None when the cause hits every client, else the addresses / CIDRs it hits;
    ``not_clients``: those it spares; ``phase``: where a connection it hits dies; ``ongoing``: the
    state holds now; ``since_epoch``: when it began, if known; ``events``: dated ``_events``
    (at most 50, merged when more); ``basis``: what limits the clients, in words (a rule, a file line).
    """
    if phase not in PHASES:
        raise ValueError("unknown phase %r" % phase)
    return {
        "clients": None if clients is None else _unique(clients)[:MAX_SCOPE_CLIENTS],
        "not_clients": _unique(not_clients)[:MAX_SCOPE_CLIENTS],
        "phase": phase,
        "ongoing": bool(ongoing),
        "since_epoch": int(since_epoch) if isinstance(since_epoch, (int, float)) else None,
        "events": _events.coarsen(list(events), _events.MAX_EVENTS),
        "basis": basis,
    }


def _unique(values):
    out = []
    for value in values or []:
        if value is not None and str(value) not in out:
            out.append(str(value))
    return out


def _addresses_of(text):
    """The client specs named in an address match (``10.0.0.0/8``, ``{ a, b }``); names and junk are skipped."""
    specs = []
    for token in re.split(r"[\s,{}]+", str(text or "")):
        try:
            specs.append(normalize_client_spec(token))
        except ValueError:
            continue
    return specs


def rule_sources(ev, rule):
    """(clients, not_clients, basis) of a firewall rule's source match (``src``).

    No match: every client. ``! X`` / ``!= X``: everyone but X. ``@set``: the set's members where the
    firewall section lists them (CONTRACTS.md section 3), else every client (the members are unknown).
    """
    src = str(rule.get("src") or "").strip()
    if not src:
        return None, [], None
    negated = src.startswith("!")
    body = src.lstrip("!=").strip()
    if body.startswith("@"):
        name = body[1:].strip()
        sets = [s for s in (ev.get("firewall", "sets") or []) if isinstance(s, dict) and s.get("name") == name]
        members = [m.get("element") for s in sets for m in s.get("members") or [] if isinstance(m, dict)]
        specs = _addresses_of(" ".join(str(m) for m in members if m))
        if not sets or not specs:
            return None, [], "members of set %s not known" % name
        complete = all(len(s.get("members") or []) >= (s.get("members_total") or 0) for s in sets)
        if negated:
            return None, specs, "every source except the members of set %s" % name
        return (specs if complete else None), [], "the members of set %s%s" % (name, "" if complete else " (not all listed)")
    specs = _addresses_of(body)
    if not specs:
        return None, [], None
    if negated:
        return None, specs, "every source except %s" % ", ".join(specs)
    return specs, [], "source %s" % ", ".join(specs)


def hardening_fix(**settings):
    """The sshd_hardening role with only ``settings`` managed (the role leaves null / [] keywords alone)."""
    variables = {
        "sshd_hardening_client_alive_interval": None,
        "sshd_hardening_client_alive_count_max": None,
        "sshd_hardening_max_startups": None,
        "sshd_hardening_max_sessions": None,
        "sshd_hardening_per_source_penalty_exempt_list": [],
    }
    for name, value in settings.items():
        variables["sshd_hardening_" + name] = value
    return {"role": HARDENING_ROLE, "vars": variables}


# Networks an operator's own automation lives in: RFC 1918, shared address space, IPv6 ULA.
_PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"))


def _private(address):
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in _PRIVATE_NETWORKS)


def _reload(ev):
    return "sshd -t && systemctl reload %s" % ev.unit


def _rule_text(rule):
    return "%s %s/%s: %s" % (rule.get("source") or "firewall", rule.get("table") or "?", rule.get("chain") or "?", rule.get("text") or "?")


def _is_invalid_state_rule(rule):
    """A rule that drops/rejects conntrack-INVALID packets: how a stateful firewall ends idle flows."""
    text = (rule.get("text") or "").upper()
    return "INVALID" in text and ("STATE" in text or "CT " in text or "CTSTATE" in text)


# --- the rules, one per cause -------------------------------------------------------


def rule_sshd_not_running(ev):
    if not ev.reachable:
        # Only the probe speaks. A RST to the SYN: most often nothing listens; a firewall that
        # REJECTs with tcp-reset looks the same from here.
        if ev.probe_share("refused") > 0.5:
            port = ev.probe.get("port") or 22
            return finding(
                "sshd_not_running", "critical", 0.7,
                "Nothing accepts connections on port %s: sshd is most likely not running "
                "(a firewall rejecting with tcp-reset looks the same from outside)." % port,
                [ev.probe_line(), "ansible: %s" % _clip(ev.unreachable_msg or "unreachable")],
                "On the host's console: systemctl enable --now ssh (sshd on RHEL); then ss -ltnp | grep ':%s '\n"
                "If sshd runs, look for a REJECT rule: iptables -S | grep -- '--dport %s'; nft list ruleset | grep 'dport %s'"
                % (port, port, port),
                scope=make_scope(phase="connect", ongoing=True, basis="the controller's probe, now"),
            )
        return None
    if not ev.has("sshd"):
        return None
    sshd = ev.section("sshd")
    if sshd.get("installed") is False:
        return finding(
            "sshd_not_running",
            "info",
            0.9,
            "No SSH server is installed here, so nothing on this host can reset an SSH connection.",
            ["sshd_info: no sshd binary found", ev.probe_line()],
            "Diagnose the servers you connect to instead: ansible-playbook sshdoctor.connreset.diagnose -i <inventory>\n"
            "If this host should accept SSH: apt-get install openssh-server (dnf install openssh-server)",
            scope=make_scope(phase="connect", ongoing=True),
        )
    service = sshd.get("service") if isinstance(sshd.get("service"), dict) else {}
    state = service.get("active_state")
    listeners = sshd.get("listeners")
    refused = ev.probe_share("refused")
    if sshd.get("socket_activated"):
        # systemd owns the listening socket and starts sshd on demand: an idle ssh.service is normal,
        # a socket unit that is not listening is not.
        socket = sshd.get("socket") if isinstance(sshd.get("socket"), dict) else {}
        if socket.get("active_state") not in (None, "active"):
            state = "socket unit %s is %s" % (socket.get("unit_id") or "ssh.socket", socket.get("active_state"))
        elif listeners == [] and refused > 0.5:
            state = "socket activated, but nothing listens"
        else:
            return None
    elif state in (None, "active", "reloading"):
        return None
    evidence = [
        "systemd: %s.service ActiveState=%s SubState=%s Result=%s%s"
        % (ev.unit, service.get("active_state"), service.get("sub_state"), service.get("result"),
           " (from the process table)" if service.get("source") == "process_table" else ""),
    ]
    if listeners == []:
        evidence.append("ss: no socket listens for sshd")
    evidence.append(ev.probe_line())
    for event in ev.unit_events("stopped", "failed_result", "start_limit_hit", "main_process_exited", "main_process_killed")[-3:]:
        evidence.append("journal: %s %s" % (event.get("time") or "", _clip(event.get("message") or event.get("event"))))
    evidence += ev.journal_lines(ev.journal_hits("sshd_not_running"))
    confidence = 0.95 if (refused > 0.5 or listeners == []) else 0.85
    summary = "sshd is not running (%s): new SSH connections are refused." % state
    if sshd.get("config_valid") is False:
        confidence = 0.8
        summary = "sshd is not running (%s), most likely because its configuration is invalid." % state
    fix = "Start sshd and keep it enabled: systemctl enable --now %s\n" % ev.unit
    if service.get("result") == "start-limit-hit" or ev.unit_events("start_limit_hit"):
        fix += "It hit systemd's start limit; clear it first: systemctl reset-failed %s\n" % ev.unit
    fix += "See why it stopped: journalctl -u %s -n 50 --no-pager" % ev.unit
    downs = _events.unit_event_list(ev, ("stopped", "failed_result", "start_limit_hit", "main_process_exited",
                                         "main_process_killed"))
    return finding("sshd_not_running", "critical", confidence, summary, evidence, fix,
                   scope=make_scope(phase="connect", ongoing=True, since_epoch=downs[-1]["epoch"] if downs else None,
                                    events=downs))


def rule_sshd_config_invalid(ev):
    if not ev.has("sshd"):
        return None
    sshd = ev.section("sshd")
    errors = [e for e in (sshd.get("config_errors") or []) if isinstance(e, dict)]
    located = ["%s line %s: %s" % (e.get("file") or "?", e.get("line") if e.get("line") is not None else "?", e.get("message") or "")
               for e in errors]
    if sshd.get("config_valid") is False:
        running = (sshd.get("service") or {}).get("active_state") == "active"
        summary = "sshd -t rejects the configuration%s" % (
            ": the running sshd keeps its old settings, but the next restart or reboot leaves the host without SSH."
            if running else "; sshd cannot start with it."
        )
        if len(located) == 1:
            fix = "Correct or remove %s, then check before any restart: %s" % (located[0], _reload(ev))
        else:
            fix = "Correct or remove the lines sshd -t names, then check before any restart: %s\n" % _reload(ev)
            fix += "\n".join("  %s" % line for line in located[:5]) or "  run: sshd -t   (it prints the file and line)"
        # A running sshd keeps its parsed configuration: the file bites when sshd starts (refused until fixed).
        return finding(
            "sshd_config_invalid", "critical", 0.98, summary,
            ["sshd -t: %s" % line for line in located] or ["sshd -t: the configuration does not load"],
            fix,
            scope=make_scope(phase="connect", ongoing=not running,
                             events=_events.signature_events(ev, sorted(FATAL_CONFIG_SIGNATURES), clients=False)),
        )
    hits = ev.journal_hits(ids=FATAL_CONFIG_SIGNATURES)
    if hits and sshd.get("config_valid") is True:
        return finding(
            "sshd_config_invalid", "info", 0.4,
            "sshd refused a configuration earlier in the journal window; the current one is valid.",
            ev.journal_lines(hits),
            "Nothing to change now. Always check with `sshd -t` before restarting sshd.",
            scope=make_scope(phase="connect", events=_events.signature_events(ev, [h[0] for h in hits], clients=False)),
        )
    return None


def rule_firewall_reject(ev):
    if not ev.reachable:
        return _probe_says_banned(ev)
    client_ban = _client_ban_finding(ev)
    if client_ban:
        return client_ban
    rules = [r for r in (ev.get("firewall", "rules") or []) if isinstance(r, dict)]
    blocking, limited, banned = [], [], []
    accepted_chains = {}  # chain -> the ACCEPT rules of new connections in it (an allow-list)
    for rule in rules:
        if not rule.get("affects_ssh"):
            continue
        chain = (rule.get("source"), rule.get("family"), rule.get("table"), rule.get("chain"))
        verdict = (rule.get("verdict") or "").upper()
        if verdict == "ACCEPT":
            # Only an ACCEPT of new connections (an allow-list) makes a later reject partial; the usual
            # "ESTABLISHED,RELATED -j ACCEPT" at the top of a chain does not.
            if not re.search(r"ESTABLISHED|RELATED", (rule.get("text") or "").upper()):
                accepted_chains.setdefault(chain, []).append(rule)
            continue
        if _is_invalid_state_rule(rule):
            continue  # that is the idle-timeout mechanism, see rule_idle_timeout
        if rule.get("fail2ban") or _matches_a_set(rule):
            # Only the members of a set (a ban list) are hit; the bans section names them.
            if verdict in ("REJECT", "DROP"):
                banned.append(rule)
            continue
        if rule.get("rate_limit") or verdict == "LIMIT":
            limited.append(rule)
            continue
        if verdict in ("REJECT", "DROP"):
            blocking.append((rule, chain in accepted_chains))
    hits = ev.journal_hits("firewall_reject")
    refused = ev.probe_share("refused", "reset_before_banner")
    timed_out = ev.probe_share("timeout")
    if blocking:
        rule, after_accept = blocking[0]
        verdict = (rule.get("verdict") or "").upper()
        if verdict == "REJECT":
            how = "resets" if rule.get("tcp_reset") else "rejects"
            confidence = 0.95 if rule.get("tcp_reset") else 0.9
            seen = refused
        else:
            how, confidence, seen = "silently drops", 0.85, timed_out
        severity = "critical"
        summary = "A firewall rule %s new SSH connections%s (%s)." % (
            how, (" from %s" % rule["src"]) if rule.get("src") else "", _clip(rule.get("text") or verdict, 90))
        if after_accept:
            severity, confidence = "warning", confidence - 0.25
            summary = "A firewall rule %s SSH connections not accepted by an earlier rule (%s)." % (how, _clip(rule.get("text") or verdict, 90))
        if seen > 0.5:
            confidence += 0.03
        evidence = [_rule_text(r) for r, dummy in blocking] + [ev.probe_line()] + ev.journal_lines(hits)
        return finding("firewall_reject", severity, confidence, summary, evidence, _firewall_fix(blocking[0][0], "Delete the rule"),
                       scope=_rules_scope(ev, [r for r, dummy in blocking], accepted_chains))
    if limited:
        rule = limited[0]
        kinds = ", ".join(rule.get("rate_limit") or ["limit"])
        return finding(
            "firewall_reject", "warning", 0.7,
            "A firewall rule rate-limits new SSH connections (%s): bursts such as Ansible forks or CI jobs are cut off." % kinds,
            [_rule_text(r) for r in limited] + [ev.probe_line()] + ev.journal_lines(hits),
            _firewall_fix(rule, "Raise the limit, or exempt your automation's addresses with an ACCEPT before the rule"),
            scope=_rules_scope(ev, limited, accepted_chains),
        )
    listed = _banned_list_finding(ev)
    if listed:
        return listed
    if banned and all(r.get("fail2ban") for r in banned):
        return finding(
            "firewall_reject", "warning", 0.6,
            "fail2ban has banned %d address(es) from SSH." % len(banned),
            [_rule_text(r) for r in banned],
            "Unban an address: fail2ban-client set sshd unbanip <ADDRESS>\n"
            "Keep automation out of bans: ignoreip = <your networks> in /etc/fail2ban/jail.local",
            scope=_rules_scope(ev, banned, {}),
        )
    if banned:
        return finding(
            "firewall_reject", "warning", 0.55,
            "%d rule(s) block SSH from the members of a set (a ban list); run with become: true to see who is in it."
            % len(banned),
            [_rule_text(r) for r in banned],
            "List the members: nft list set <family> <table> <set>; ipset list <set>\n"
            "Remove one: nft delete element <family> <table> <set> { <ADDRESS> }; ipset del <set> <ADDRESS>",
            scope=_rules_scope(ev, banned, {}),
        )
    postauth = ev.journal_hits(ids=POSTAUTH_RESET_SIGNATURES)
    if postauth:
        # No rule here explains them: the reset came from the client's side or a device in between.
        return finding(
            "firewall_reject", "info", 0.4,
            "%d established session(s) were reset from the far side (the client, or a firewall or NAT in between)." % _count(postauth),
            ev.journal_lines(postauth) + [ev.probe_line()],
            "Find the device that resets SSH: compare `tcpdump -ni any 'tcp port 22 and tcp[tcpflags] & tcp-rst != 0'` "
            "on the client and on this host.",
            scope=make_scope(phase="session", events=_events.signature_events(ev, [h[0] for h in postauth])),
        )
    return None


def _rules_scope(ev, rules, accepted_chains):
    """Whom firewall ``rules`` hit (the union of their sources) and spare (sources an earlier ACCEPT lets in)."""
    clients, spared, bases = [], [], []
    for rule in rules:
        hits, misses, basis = rule_sources(ev, rule)
        if hits is None:
            clients = None
        elif clients is not None:
            clients.extend(hits)
        spared.extend(misses)
        chain = (rule.get("source"), rule.get("family"), rule.get("table"), rule.get("chain"))
        for accept in accepted_chains.get(chain, []):
            allowed, dummy, dummy2 = rule_sources(ev, accept)
            spared.extend(allowed or [])
        bases.append("%s (%s)" % (_clip(rule.get("text") or "?", 120), basis or "every source"))
    return make_scope(clients=clients, not_clients=spared, phase="connect", ongoing=True, basis="; ".join(bases[:3]))


# --- bans and rate limits (evidence.bans) ---------------------------------------------
# What each kind of entry in bans.clients is worth: an enforced ban or a member of a blocking set
# cuts the client off; a rate limit cuts off its bursts.
_BAN_RANK = {"ban": 0, "set_member": 1, "rule": 2, "rate_limit": 3}
MAX_LISTED_BANS = 10
RECURRENCE_ADVICE = (
    "Ansible with many forks behind one address looks like an attack: use fewer forks, or reuse connections "
    "(ssh_args = -o ControlMaster=auto -o ControlPersist=60s, pipelining = True in ansible.cfg).")


def _blocks(entry):
    """Does this bans.clients entry cut the client off (or its bursts) now?"""
    kind, verdict = entry.get("kind"), str(entry.get("verdict") or "")
    if kind == "ban":
        return verdict == "enforced"
    if kind in ("set_member", "rule"):
        return verdict.upper() in ("REJECT", "DROP")
    if kind == "rate_limit":
        return verdict == "REJECT" or verdict.startswith("limit ")
    return False


def _when(epoch):
    if not isinstance(epoch, (int, float)):
        return None
    return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _period(entry):
    since, until = _when(entry.get("since_epoch")), _when(entry.get("until_epoch"))
    if since and until:
        return "since %s, until %s" % (since, until)
    if since:
        return "since %s, without an end" % since
    if until:
        return "until %s" % until
    return None


def _how(entries):
    """How the packet filter answers the client: refused, reset, or dropped (from the rules that apply)."""
    texts = " ".join(str(e.get("rule") or "") + " " + str(e.get("verdict") or "") for e in entries).lower()
    if "tcp reset" in texts or "tcp-reset" in texts:
        return "reset"  # the client sees "Connection reset by peer"
    if "drop" in texts:
        return "dropped"  # the client waits and times out
    return "refused"


def _jail(ev, name):
    for jail in ev.get("bans", "tools", "fail2ban", "jails") or []:
        if isinstance(jail, dict) and jail.get("name") == name:
            return jail
    return {}


def _trigger_lines(ev, spec, entry):
    """What made the ban: the tool's own record of it, else the client's lines in sshd's journal."""
    lines = []
    where = str(entry.get("where") or "")
    address = entry.get("element")
    if entry.get("tool") == "fail2ban" and where.startswith("jail "):
        jail = _jail(ev, where[5:])
        ban = next((b for b in jail.get("banned") or [] if isinstance(b, dict) and b.get("address") == address), {})
        if ban.get("failures") or ban.get("matches"):
            lines.append("fail2ban: jail %s banned %s after %s failure(s) (maxretry %s within findtime %s s)" % (
                jail.get("name"), address, ban.get("failures") or len(ban.get("matches") or []),
                jail.get("maxretry"), jail.get("findtime")))
            lines += ["fail2ban database: %s" % _clip(m) for m in (ban.get("matches") or [])[-2:]]
        elif jail:
            lines.append("fail2ban: jail %s bans after %s failure(s) within %s s" % (
                jail.get("name"), jail.get("maxretry"), jail.get("findtime")))
    if entry.get("tool") == "sshguard":
        for block in ev.get("bans", "tools", "sshguard", "blocked") or []:
            if isinstance(block, dict) and block.get("address") == address and block.get("attacks"):
                lines.append("sshguard: %s attack(s) from %s in its log before the block" % (block["attacks"], address))
    if entry.get("kind") == "rate_limit" and entry.get("element"):
        lines.append("%s: %s" % (entry.get("tool"), entry["element"]))
    lines += _journal_focus_lines(ev, spec, entry)
    return lines


def _journal_focus_lines(ev, spec, entry):
    """sshd's lines for this client just before the ban (journal.focus), when the journal section has them."""
    focus = ev.get("journal", "focus")
    per_sig = focus.get(spec) if isinstance(focus, dict) else None
    if not isinstance(per_sig, dict):
        return []
    since = entry.get("since_epoch")
    window = None
    if entry.get("tool") == "fail2ban" and str(entry.get("where") or "").startswith("jail "):
        window = _jail(ev, str(entry["where"])[5:]).get("findtime")
    lines = []
    for sig_id, info in sorted(per_sig.items()):
        if not isinstance(info, dict):
            continue
        times = [t for t in info.get("times") or [] if isinstance(t, (int, float))]
        if isinstance(since, (int, float)):
            low = since - (window if isinstance(window, int) and window > 0 else 3600)
            count = sum(1 for t in times if low <= t <= since + 5)
            if not count:
                continue
            text = "journal: %s x%d from %s in the %s s before the ban" % (sig_id, count, spec, since - low)
        else:
            count = as_int(info.get("count"))
            if not count:
                continue
            text = "journal: %s x%d from %s" % (sig_id, count, spec)
        samples = info.get("samples") or []
        lines.append(text + ((": " + _clip(samples[-1])) if samples else ""))
    return lines[:3]


def _prevention(tool, address, entry):
    if tool == "fail2ban":
        return ("Keep it from recurring: add the automation's address or network to ignoreip (e.g. "
                "ignoreip = 127.0.0.1/8 ::1 %s in the [DEFAULT] or jail section of /etc/fail2ban/jail.local, then "
                "fail2ban-client reload), and fix what fails (the user or key in the lines above). %s"
                % (address, RECURRENCE_ADVICE))
    if tool == "sshguard":
        return ("Keep it from recurring: whitelist it, then restart sshguard (which lifts its other blocks too): "
                "echo '%s' >> /etc/sshguard/whitelist && systemctl restart sshguard. %s" % (address, RECURRENCE_ADVICE))
    if tool == "ufw" and entry.get("kind") == "rate_limit":
        return ("Or keep the limit and exempt the automation: ufw insert 1 allow from %s to any port 22 proto tcp. %s"
                % (address, RECURRENCE_ADVICE))
    if tool == "firewalld":
        return "Make sure the zone that handles it allows ssh: firewall-cmd --zone=<zone> --list-all."
    return ("Find what put it there (a script, a blocklist, an intrusion prevention tool) before it adds it again. %s"
            % RECURRENCE_ADVICE)


def _client_ban_finding(ev):
    """A requested client (diagnose_clients) is banned, blocked by a set or rule, or over a rate limit."""
    clients = ev.get("bans", "clients")
    if not isinstance(clients, dict):
        return None
    picks = []
    for spec, entries in clients.items():
        entries = [e for e in entries or [] if isinstance(e, dict)]
        for entry in entries:
            if _blocks(entry):
                picks.append((_BAN_RANK.get(entry.get("kind"), 9), str(spec), entry, entries))
    if not picks:
        return None
    picks.sort(key=lambda p: (p[0], p[1]))
    rank, spec, entry, entries = picks[0]
    tool, where = entry.get("tool") or "the firewall", entry.get("where") or "?"
    hit = [p for p in picks if p[1] == spec]
    how = _how([p[2] for p in hit])
    period = _period(entry)
    element = entry.get("element") or spec
    if entry.get("kind") == "rate_limit":
        severity, confidence = "warning", 0.85
        # The limit refuses bursts, not the client: whether its next connection passes depends on its last 30 s.
        summary = "%s rate-limits new SSH connections and has cut off bursts from %s (%s; %s): connections past the " \
                  "limit are %s." % (tool, spec, where, entry.get("rule") or "limit", how)
    else:
        severity, confidence = "critical", 0.95
        what = {"ban": "%s has banned %s from SSH (%s%s)" % (tool, spec, where, (", %s" % period) if period else ""),
                "set_member": "%s is in %s%s%s, matched by the rule `%s`" % (
                    spec, where, (" as %s" % element) if element != spec else "",
                    (" (%s)" % period) if period else "", _clip(entry.get("rule") or "?", 120)),
                "rule": "A %s rule blocks %s (%s: `%s`)" % (tool, spec, where, _clip(entry.get("rule") or "?", 120))}[
            entry.get("kind")]
        summary = "%s: its SSH connections are %s." % (what, how)
    evidence = []
    for dummy, dummy2, item, dummy3 in hit:
        line = "bans: %s %s %s: %s%s" % (item.get("kind"), item.get("tool"), item.get("where"), item.get("element"),
                                         (" (%s)" % _period(item)) if _period(item) else "")
        if item.get("rule"):
            line += " <- %s" % _clip(item["rule"], 160)
        evidence.append(line)
    evidence = evidence[:4] + _trigger_lines(ev, spec, entry) + evidence[4:]
    evidence.append(ev.probe_line())
    unban = entry.get("unban") or "see the evidence"
    others = []
    for item in (p[2] for p in hit):
        if item.get("unban") and item["unban"] != unban and item["unban"] not in others:
            others.append(item["unban"])
    fix = "Lift it for %s: %s" % (spec, unban)
    if others:
        fix += "\nAlso (the same ban as the packet filter holds it, or the other rules): " + "; ".join(others[:3])
    fix += "\n" + _prevention(tool, spec, entry)
    result = finding("firewall_reject", severity, confidence, summary, evidence, fix)
    since = [p[2].get("since_epoch") for p in hit if isinstance(p[2].get("since_epoch"), int)]
    result["scope"] = {
        "clients": sorted(set(p[1] for p in picks)),
        "not_clients": [],
        "phase": "connect",
        "ongoing": True,
        "since_epoch": min(since) if since else None,
        "events": [{"epoch": p[2]["since_epoch"], "what": "%s %s" % (p[2].get("tool"), p[2].get("where")),
                    "client": p[1], "count": 1}
                   for p in picks if isinstance(p[2].get("since_epoch"), int)][:50],
    }
    return result


def _banned_list_finding(ev):
    """No requested client is banned, but the tools hold bans: say how many, and list them (bounded)."""
    listed = [b for b in (ev.get("bans", "banned") or []) if isinstance(b, dict)]
    banned = [b for b in listed if b.get("enforced") is not False]
    if not banned:
        return None
    # Bans a tool lists but nothing enforces (a failing ban action) do not keep anyone out.
    total = max(as_int(ev.get("bans", "banned_total")) - (len(listed) - len(banned)), len(banned))
    by_tool = {}
    for ban in banned:
        by_tool.setdefault("%s %s" % (ban.get("tool"), ban.get("where")), []).append(ban)
    parts = ["%s: %s" % (where, ", ".join(str(b.get("address")) for b in bans[:5]) + (" ..." if len(bans) > 5 else ""))
             for where, bans in sorted(by_tool.items())]
    evidence = ["bans: %s %s: %s%s" % (b.get("tool"), b.get("where"), b.get("address"),
                                       (" (%s)" % _period(b)) if _period(b) else "") for b in banned[:MAX_LISTED_BANS]]
    first = banned[0]
    fix = ("If one of them is yours, lift its ban: %s\n"
           "Run the diagnosis with diagnose_clients: [<your address>] to see whether a given client is banned.\n%s"
           % (first.get("unban") or "see the evidence", _prevention(first.get("tool"), "<your networks>", first)))
    result = finding("firewall_reject", "warning", 0.6,
                     "%d address(es) are banned from SSH (%s)." % (total, "; ".join(parts[:3])), evidence, fix)
    since = [b.get("since_epoch") for b in banned if isinstance(b.get("since_epoch"), int)]
    result["scope"] = {
        "clients": [str(b.get("address")) for b in banned][:50],
        "not_clients": [],
        "phase": "connect",
        "ongoing": True,
        "since_epoch": min(since) if since else None,
        "events": [{"epoch": b["since_epoch"], "what": "%s %s" % (b.get("tool"), b.get("where")),
                    "client": str(b.get("address")), "count": 1}
                   for b in banned if isinstance(b.get("since_epoch"), int)][:50],
    }
    return result


def _probe_says_banned(ev):
    """The host could not be reached: refused, reset or silence is what a ban of the controller looks like too."""
    # (A ban that drops makes the probe time out; that looks like a host that is down, see host_unreachable.)
    if ev.probe_share("refused", "reset_before_banner") <= 0.5:
        return None
    port = (ev.probe or {}).get("port") or 22
    result = finding(
        "firewall_reject", "warning", 0.45,
        "Connections from the controller are refused or reset: a ban or rate limit of the controller's own address "
        "(fail2ban, sshguard, ufw limit, firewalld, an nft set or ipset) does exactly this; check from another address.",
        [ev.probe_line(), "ansible: %s" % _clip(ev.unreachable_msg or "unreachable")],
        "From another address or the console, see whether this controller is banned: fail2ban-client banned; "
        "nft list ruleset | grep -n '<controller address>'; ipset list | grep '<controller address>'; "
        "ufw status; firewall-cmd --list-all\n"
        "Lift it: fail2ban-client set sshd unbanip <controller address> (or the command for the tool that holds it), "
        "then keep it from recurring: ignoreip / whitelist the controller, and use fewer forks or ControlPersist "
        "(port %s)." % port,
    )
    result["scope"] = {"clients": None, "not_clients": [], "phase": "connect", "ongoing": True, "since_epoch": None,
                       "events": []}
    return result


def _matches_a_set(rule):
    """A rule that matches the source against a named set (nft ``@set``, iptables ``--match-set``)."""
    return bool(rule.get("src_sets")) or str(rule.get("src") or "").startswith("@") or \
        "--match-set" in str(rule.get("text") or "")


def _firewall_fix(rule, action):
    text = (rule.get("text") or "").strip()
    source = rule.get("source") or ""
    if source in ("iptables", "ip6tables") and text.startswith("-A "):
        table = rule.get("table") or "filter"
        table_arg = "" if table == "filter" else "-t %s " % table
        return "%s: %s %s-D %s\nMake it permanent in your firewall's saved rules (e.g. /etc/iptables/rules.v4)." % (
            action, source, table_arg, text[3:])
    if source == "nft":
        return ("%s: find its handle with `nft -a list chain %s %s %s` and run "
                "`nft delete rule %s %s %s handle <N>`; then update /etc/nftables.conf." % (
                    action, rule.get("family") or "inet", rule.get("table") or "filter", rule.get("chain") or "input",
                    rule.get("family") or "inet", rule.get("table") or "filter", rule.get("chain") or "input"))
    return "%s: %s" % (action, text or "see the rule above")


def rule_tcp_wrappers_denied(ev):
    if not ev.reachable:
        # Accepted, then closed or reset without a banner and without sshd's MaxStartups notice:
        # what libwrap does to a denied client (after its name lookups).
        cut = ev.probe_share("closed_before_banner", "reset_before_banner")
        if cut <= 0.5:
            return None
        return finding(
            "tcp_wrappers_denied", "critical", 0.6,
            "Connections are accepted and then closed without a banner: the mark of TCP wrappers (hosts.deny) denying "
            "the controller; an IPS or a load balancer without a backend does the same.",
            [ev.probe_line(), "ansible: %s" % _clip(ev.unreachable_msg or "unreachable")],
            "On the host's console, remove or narrow the hosts.deny line that denies sshd to your clients "
            "(grep -v '^#' /etc/hosts.deny /etc/hosts.allow), or allow them first in /etc/hosts.allow.\n"
            "  sshd: <your networks, e.g. 10.0.0.0/8>",
            scope=make_scope(phase="banner", ongoing=True, basis="the controller's probe, now"),
        )
    section = ev.section("tcp_wrappers")
    honoured = ev.get("sshd", "tcp_wrappers", "honoured")
    applies = section.get("applies") if section else None
    if applies is None:
        applies = honoured
    denied = [d for d in (section.get("decisions") or []) if isinstance(d, dict) and d.get("allowed") is False]
    hits = ev.journal_hits("tcp_wrappers_denied")
    if applies is False and not hits:
        return None
    if not denied and not section.get("decisions"):
        # No client was evaluated (no address known): a deny-everything line speaks for itself.
        denied = [dict(rule, client="every client") for rule in _deny_all_rules(section)]
    if not denied and not hits:
        return None
    evidence = ["%s line %s: %s (denies %s)" % (d.get("file") or "hosts.deny", d.get("line") or "?", d.get("rule") or "?", d.get("client") or "?")
                for d in denied]
    evidence += ev.journal_lines(hits)
    cut = ev.probe_share("reset_before_banner", "closed_before_banner")
    evidence.append(ev.probe_line())
    confidence = 0.95 if (denied and hits) else 0.9 if denied else 0.85
    if cut > 0.5:
        confidence += 0.03
    clients = sorted(set(str(d.get("client")) for d in denied if d.get("client")))
    summary = "TCP wrappers (hosts.allow / hosts.deny) deny sshd to %s: the connection is cut before the banner." % (
        ", ".join(clients) if clients else "some clients")
    first = denied[0] if denied else {}
    fix = "Remove or narrow the deny line%s, or allow your clients first in /etc/hosts.allow.\n  sshd: <your networks, e.g. 10.0.0.0/8>" % (
        " (%s line %s: %s)" % (first.get("file"), first.get("line"), first.get("rule")) if first else "")
    return finding("tcp_wrappers_denied", "critical", confidence, summary, evidence, fix,
                   scope=_wrappers_scope(ev, section, denied, hits))


def _wrappers_scope(ev, section, denied, hits):
    """Denied: the clients evaluated as denied, the addresses the deny lines name and those the journal saw
    refused; spared: the clients evaluated as allowed. A deny-everything line hits every client."""
    if any(d.get("client") == "every client" for d in denied):
        clients = None
    else:
        clients = [d.get("client") for d in denied if d.get("client")]
        for d in denied:
            clients.extend(_addresses_of(str(d.get("rule") or "").split(":", 1)[-1].split(":", 1)[0]))
        clients.extend(ev.sample_values(hits, r"refused connect from (\S+)"))
        for dummy, info in hits:
            clients.extend(sorted((info.get("clients") or {}) if isinstance(info.get("clients"), dict) else {}))
    allowed = [d.get("client") for d in (section.get("decisions") or []) if isinstance(d, dict) and d.get("allowed") is True]
    basis = "; ".join("%s line %s: %s" % (d.get("file") or "hosts.deny", d.get("line") or "?", d.get("rule") or "?")
                      for d in denied[:3]) or None
    return make_scope(clients=clients or None, not_clients=allowed, phase="banner", ongoing=bool(denied), basis=basis,
                      events=_events.signature_events(ev, [h[0] for h in hits]))


def _deny_all_rules(section):
    """hosts.deny lines that deny sshd to ALL clients when hosts.allow allows sshd to nobody."""
    files = section.get("files") if isinstance(section.get("files"), dict) else {}
    allow = files.get("/etc/hosts.allow") if isinstance(files.get("/etc/hosts.allow"), dict) else {}
    deny = files.get("/etc/hosts.deny") if isinstance(files.get("/etc/hosts.deny"), dict) else {}
    if any(isinstance(r, dict) and r.get("applies_to_sshd") for r in allow.get("rules") or []):
        return []
    return [{"file": "/etc/hosts.deny", "line": r.get("line"), "rule": r.get("text")}
            for r in deny.get("rules") or []
            if isinstance(r, dict) and r.get("applies_to_sshd") and _names_every_client(r.get("clients"))
            and not r.get("options")]


def _names_every_client(clients):
    """True for a client list of plain ALL; `ALL EXCEPT 10.0.0.0/8` spares someone."""
    return str(clients or "").replace(",", " ").split() == ["ALL"]


def rule_host_unreachable(ev):
    p = ev.probe
    outcome = p.get("outcome") if p else None
    if outcome == "timeout" and p.get("stage") == "banner":
        outcome = "banner_timeout"
    # What the probe shows holds now, for the controller's path; whether it held for another client is not known.
    now = make_scope(phase="banner" if outcome in ("banner_timeout", "banner") else "connect", ongoing=True,
                     basis="the controller's probe, now")
    target = "%s:%s" % ((p or {}).get("address") or (p or {}).get("host") or "the host", (p or {}).get("port") or 22)
    what = {
        "banner_timeout": "TCP connects to %s, but no SSH banner arrives in time" % target,
        "banner": "sshd answers on %s, but Ansible could not log in" % target,
        "refused": "%s refuses connections: sshd is not listening, or a firewall rejects with tcp-reset" % target,
        "timeout": "nothing answers on %s: the host is down, or a firewall drops SSH" % target,
        "no_route": "there is no route to %s" % target,
        "name_resolution_failed": "the name %s does not resolve" % ((p or {}).get("host") or ""),
        "reset_before_banner": "connections to %s are reset before the banner (TCP wrappers, MaxStartups, a firewall or IPS)" % target,
        "closed_before_banner": "connections to %s are closed before the banner (TCP wrappers or MaxStartups)" % target,
        "closed_with_message": "sshd on %s turns connections away" % target,
    }
    if not ev.reachable:
        summary = "Unreachable from Ansible"
        if outcome in what:
            summary += ": " + what[outcome]
        summary += "."
        evidence = ["ansible: %s" % _clip(ev.unreachable_msg or "unreachable"), ev.probe_line()]
        fix = {
            "timeout": "Check that the host is up and that port %s is open on every firewall between here and the host." % ((p or {}).get("port") or 22),
            "no_route": "Check routing and the host's address (ansible_host).",
            "name_resolution_failed": "Fix DNS or set ansible_host to its address in the inventory.",
            "refused": "On the host's console: systemctl status ssh; iptables -S | grep -- '--dport 22'.",
            "banner": "Check the login: ansible -m ping <host> -vvvv (user, key, become, host key).",
        }.get(outcome, "On the host's console: systemctl status ssh; journalctl -u ssh -n 50; cat /etc/hosts.deny.")
        # Where the probe points at a more precise cause (nothing listening, a silent close, sshd's notice),
        # that cause's finding ranks first and this one says only that Ansible could not get in.
        confidence = {"banner": 0.9, "refused": 0.5, "closed_before_banner": 0.5, "reset_before_banner": 0.5,
                      "closed_with_message": 0.5}.get(outcome, 0.95)
        return finding("host_unreachable", "critical", confidence, summary, evidence, fix, scope=now)
    if outcome in ("timeout", "no_route"):
        return finding(
            "host_unreachable", "warning", 0.6,
            "Ansible reached the host, but %s." % what[outcome],
            [ev.probe_line()],
            "Open port %s from your clients to this host on every firewall in between." % p.get("port", 22),
            scope=now,
        )
    if outcome == "banner_timeout":
        return finding(
            "host_unreachable", "warning", 0.5,
            "TCP connects to %s, but no SSH banner arrives in time: sshd is overloaded or something in between holds the connection." % target,
            [ev.probe_line()],
            "Look at load and at `journalctl -u %s -n 50`; check for a proxy or IPS on the path." % ev.unit,
            scope=now,
        )
    if outcome == "name_resolution_failed":
        return finding(
            "host_unreachable", "info", 0.3,
            "The controller could not resolve %s to probe its SSH port." % p.get("host"),
            [ev.probe_line()],
            "Set sshdoctor_probe_host (or ansible_host) for this host to an address the controller can reach.",
            scope=now,
        )
    return None


def rule_maxstartups_throttling(ev):
    hits = ev.journal_hits("maxstartups_throttling")
    ms = ev.setting("max_startups") if isinstance(ev.setting("max_startups"), dict) else {}
    start, rate, full = as_int(ms.get("start"), 10), as_int(ms.get("rate"), 30), as_int(ms.get("full"), 100)
    # Unauthenticated connections now: sshd's own count in the listener's title, else the process count.
    startups = ev.get("sshd", "startups") if isinstance(ev.get("sshd", "startups"), dict) else {}
    preauth = startups.get("current") if isinstance(startups.get("current"), int) else ev.get("sshd", "preauth_processes")
    penalty_hits = ev.journal_hits("source_penalty")
    turned_away = ev.probe_share("closed_with_message") if ev.probe else 0.0
    probe_maxstartups = "maxstartups" in ((ev.probe or {}).get("sshd_messages") or [])
    # "Not allowed at this time" (9.8+) is MaxStartups or PerSourcePenalties; without the journal
    # (an unreachable host) source_penalty takes it, and this rule only mentions the possibility.
    probe_ambiguous = "maxstartups_or_penalty" in ((ev.probe or {}).get("sshd_messages") or [])
    now = turned_away > 0 and (probe_maxstartups or (probe_ambiguous and ev.reachable and not penalty_hits))
    maybe = turned_away > 0 and probe_ambiguous and not ev.reachable
    busy = isinstance(preauth, int) and start and preauth >= start
    if not hits and not now and not busy and not maybe:
        return None
    setting = "MaxStartups %s:%s:%s" % (start, rate, full) if ev.has("sshd") else "MaxStartups"
    where = ev.provenance("MaxStartups")
    evidence = ev.journal_lines(hits)
    if ev.has("sshd"):
        evidence.append("sshd -T: maxstartups %s:%s:%s (%s)" % (start, rate, full, ("from " + where) if where else "compiled-in default"))
    if isinstance(preauth, int) and (busy or hits or now):
        evidence.append("ps: %d unauthenticated sshd connection(s) right now" % preauth)
    if ev.probe:
        evidence.append(ev.probe_line())
    # sshd counts what it did not log: "exited MaxStartups throttling after 00:00:12, 14 connections dropped".
    reported = [as_int(n) for n in ev.sample_values(hits, r"(\d+) connections dropped")]
    dropped = max([_count(ev.journal_hits(ids=("maxstartups_drop",)))] + reported)
    sources = ev.sample_values(ev.journal_hits(ids=("maxstartups_drop",)), _FROM_ADDRESS)
    if now and turned_away >= 0.5:
        severity, confidence = "critical", 0.95
        summary = "sshd is turning new connections away right now (%s reached)." % setting
    elif hits:
        severity, confidence = "warning", 0.9 if not now else 0.95
        summary = "sshd dropped %s unauthenticated connection(s)%s past %s." % (
            dropped or "some", (" from " + ", ".join(sources[:3])) if sources else "", setting)
    elif now:
        severity, confidence = "warning", 0.75
        summary = "sshd turned some of the controller's connections away (%s)." % setting
    elif maybe:
        severity, confidence = "warning", 0.4
        summary = "sshd says 'Not allowed at this time', which can also mean MaxStartups is full."
    else:
        severity, confidence = "warning", 0.6
        summary = "%d unauthenticated connections are open: sshd starts dropping new ones at %d (%s)." % (preauth, start, setting)
    new = "%d:%d:%d" % (max(2 * start, 100), rate, max(2 * full, 200))
    fix = (
        "Raise MaxStartups to %s (in a drop-in that sorts last) and find who opens so many unauthenticated connections.\n"
        "MaxStartups %s\n"
        "MaxStartups is one of the keywords where the LAST value sshd reads wins: put the line in a drop-in that sorts last "
        "(e.g. /etc/ssh/sshd_config.d/99-maxstartups.conf) or after the Include in /etc/ssh/sshd_config%s; then %s\n"
        "A shorter LoginGraceTime (e.g. LoginGraceTime 30) frees the slots sooner."
        % (new, new, (" (it is set now in %s)" % where) if where else "", _reload(ev))
    )
    # MaxStartups drops unauthenticated connections at random, whoever sends them: every client.
    return finding("maxstartups_throttling", severity, confidence, summary, evidence, fix, hardening_fix(max_startups=new),
                   scope=make_scope(phase="banner", ongoing=bool(now or busy),
                                    events=_events.signature_events(ev, [h[0] for h in hits])))


def rule_source_penalty(ev):
    hits = ev.journal_hits("source_penalty")
    probe_ambiguous = "maxstartups_or_penalty" in ((ev.probe or {}).get("sshd_messages") or [])
    maxstartups_hits = ev.journal_hits("maxstartups_throttling")
    if not hits and not (probe_ambiguous and not maxstartups_hits and ev.version_at_least(9, 8) is not False):
        return None
    policy = ev.setting("per_source_penalties")
    evidence = ev.journal_lines(hits)
    if policy is not None:
        evidence.append("sshd -T: persourcepenalties %s" % policy)
    if ev.probe:
        evidence.append(ev.probe_line())
    severity = "warning"
    addresses = []
    if hits:
        addresses = ev.sample_values(hits, _FROM_ADDRESS) + ev.sample_values(hits, r"(?:new|activating) (\S+?)/\d+ ")
        reasons = ev.sample_values(hits, r"penalty: (.+?)(?: \[|$)")
        summary = "PerSourcePenalties refused %d connection(s)%s%s." % (
            _count(ev.journal_hits(ids=("penalty_drop",))) or _count(hits),
            (" from " + ", ".join(addresses[:3])) if addresses else "",
            (" (%s)" % "; ".join(reasons[:2])) if reasons else "")
        confidence = 0.9
    else:
        summary = "sshd answers the controller 'Not allowed at this time': its address is probably penalised (PerSourcePenalties)."
        confidence = 0.55
        if not ev.reachable and ev.probe_share("closed_with_message") > 0.5:
            severity, confidence = "critical", 0.6
    fix = (
        "Exempt your automation's and monitoring's addresses (they open many connections that never log in) from the penalties.\n"
        "PerSourcePenaltyExemptList 10.0.0.0/8,192.168.0.0/16\n"
        "(or, to turn the feature off: PerSourcePenalties no) in /etc/ssh/sshd_config.d/, then %s" % _reload(ev)
    )
    # Penalised addresses on private networks are most likely your own automation; public ones may be
    # attackers the penalty is right to slow down, so they are never exempted automatically.
    exempt = [a for a in addresses if _private(a)]
    if exempt:
        fix = fix.replace("PerSourcePenaltyExemptList 10.0.0.0/8,192.168.0.0/16", "PerSourcePenaltyExemptList " + ",".join(exempt), 1)
    # A penalty is against a source address (its PerSourceNetBlockSize block): those named in the journal.
    penalised = ev.sample_values(hits, _FROM_ADDRESS) + ev.sample_values(hits, r"(?:new|activating) (\S+/\d+) ")
    for dummy, info in hits:
        penalised.extend(sorted(info.get("clients") or {}) if isinstance(info.get("clients"), dict) else [])
    return finding("source_penalty", severity, confidence, summary, evidence, fix,
                   hardening_fix(per_source_penalty_exempt_list=exempt) if exempt else None,
                   scope=make_scope(clients=_addresses_of(" ".join(penalised)) or None, phase="banner",
                                    ongoing=not hits, basis="addresses the journal names as penalised" if penalised else
                                    "the controller's probe, now",
                                    events=_events.signature_events(ev, [h[0] for h in hits])))


def rule_oom_kill(ev):
    # In a container the kernel log is the machine's: events known to be another container's are not
    # this host's; those the collector could not place (in_this_container null) are only possible.
    # Victims inside container cgroups (podman, docker, containerd, kubepods) are the containers' own, never this
    # host's sshd's; an sshd process counts only when it ran in sshd's unit or a session (counts_for_sshd).
    events = [e for e in (ev.get("oom", "events") or []) if isinstance(e, dict) and e.get("in_this_container") is not False
              and not (isinstance(e.get("cgroup"), dict) and e["cgroup"].get("owner") == "container"
                       and e.get("in_this_container") is not True)]
    placed = [e for e in events if not (ev.get("oom", "in_container") and e.get("in_this_container") is None)]
    sshd_victims = sum(1 for e in placed if e.get("counts_for_sshd", e.get("is_sshd")))
    unplaced_sshd = sum(1 for e in events if e.get("counts_for_sshd", e.get("is_sshd"))) - sshd_victims
    unit_failed = [e for e in ev.unit_events("failed_result") if e.get("result") == "oom-kill"]
    unit_oom = ev.unit_events("oom_killed") + unit_failed
    hits = ev.journal_hits("oom_kill")
    if not events and not unit_oom and not hits:
        return None
    source = ev.get("oom", "source") or "kernel log"
    evidence = []
    for event in [e for e in events if e.get("is_sshd")][:4] + [e for e in events if not e.get("is_sshd")][:3]:
        cgroup = event.get("cgroup") if isinstance(event.get("cgroup"), dict) else {}
        evidence.append("%s: %s killed %s (pid %s, anon-rss %s kB, %s%s)" % (
            source, event.get("time") or "?", event.get("name") or "?", event.get("pid") or "?",
            event.get("anon_rss_kb") if event.get("anon_rss_kb") is not None else "?",
            cgroup.get("kind") or "global",
            (" " + cgroup["path"]) if cgroup.get("path") else ""))
    for event in unit_oom[:2]:
        evidence.append("journal: %s %s" % (event.get("time") or "", _clip(event.get("message") or event.get("event"))))
    evidence += ev.journal_lines(hits)
    memcg = any((e.get("cgroup") or {}).get("kind") == "memcg" for e in events if isinstance(e.get("cgroup"), dict))
    fix = ("Find what uses the memory (journalctl -k -g 'Out of memory' shows the victims and their RSS) and give it a limit "
           "(systemd: MemoryMax= in its unit) or give the host more memory or swap.")
    if memcg:
        fix += "\nThe kills were inside a memory cgroup: raise that cgroup's limit (memory.max) or the service's MemoryMax=."
    dated = (_events.unit_event_list(ev, ("oom_killed", "failed_result")) if unit_oom else []) + \
        _events.signature_events(ev, [h[0] for h in hits])
    # A killed session process cuts the sessions it carried; a killed service refuses new connections.
    session = make_scope(phase="session", events=_events.oom_event_list(ev, sshd_only=True) + dated)
    if unit_failed:
        return finding("oom_kill", "critical", 0.95,
                       "The OOM killer took down sshd's service: new connections failed until it was restarted.",
                       evidence, fix, scope=make_scope(phase="connect", events=_events.oom_event_list(ev) + dated))
    if unit_oom:
        return finding("oom_kill", "warning", 0.9,
                       "The OOM killer killed a process of sshd's service: the sessions it carried were cut.",
                       evidence, fix, scope=session)
    if sshd_victims:
        return finding("oom_kill", "warning", 0.9,
                       "The OOM killer killed %d sshd process(es): every session they carried was cut." % sshd_victims,
                       evidence, fix, scope=session)
    if unplaced_sshd:
        return finding("oom_kill", "info", 0.4,
                       "The kernel log, which this container shares with its host, shows %d sshd process(es) killed by the OOM "
                       "killer; whether they were this container's could not be told." % unplaced_sshd,
                       evidence, fix, scope=session)
    if hits:
        return finding("oom_kill", "warning", 0.5,
                       "sshd session processes were killed by a signal (%d); the kernel log shows no OOM kill to confirm who sent it." % _count(hits),
                       evidence, fix, scope=session)
    names = sorted(set(str(e.get("name")) for e in events if e.get("name")))
    return finding("oom_kill", "info", 0.4,
                   "The OOM killer killed %d other process(es) (%s); sshd was not among them." % (len(events), ", ".join(names[:4])),
                   evidence, fix, scope=make_scope(phase="any", events=_events.oom_event_list(ev)))


def rule_resource_pressure(ev):
    health = ev.section("host_health")
    if not health and not ev.journal_hits("resource_pressure"):
        return None
    strong, weak = [], []
    memory = health.get("memory") if isinstance(health.get("memory"), dict) else {}
    total, available = as_int(memory.get("total_kb")), memory.get("available_kb")
    if total and isinstance(available, int):
        pct = 100.0 * available / total
        line = "/proc/meminfo: %.1f%% of memory available (%d of %d MiB)" % (pct, available // 1024, total // 1024)
        if pct < 5:
            strong.append(line)
        elif pct < 10:
            weak.append(line)
    swap_total, swap_free = as_int(memory.get("swap_total_kb")), memory.get("swap_free_kb")
    if swap_total and isinstance(swap_free, int) and swap_free < 0.1 * swap_total:
        weak.append("/proc/meminfo: swap %.0f%% used" % (100.0 - 100.0 * swap_free / swap_total))
    pressure = health.get("pressure") if isinstance(health.get("pressure"), dict) else {}
    for resource, full_limit, some_limit in (("memory", 10, 30), ("io", 30, 60)):
        values = pressure.get(resource) if isinstance(pressure.get(resource), dict) else {}
        full = _avg10(values.get("full"))
        some = _avg10(values.get("some"))
        if full is not None and full >= full_limit:
            strong.append("/proc/pressure/%s: full avg10=%.1f" % (resource, full))
        elif some is not None and some >= some_limit:
            weak.append("/proc/pressure/%s: some avg10=%.1f" % (resource, some))
    for fs in health.get("filesystems") or []:
        # The mounts sshd writes to (logs, lastlog, /run/sshd, home directories), or those the collector was asked about.
        if not isinstance(fs, dict) or not (fs.get("mount") in KEY_MOUNTS or fs.get("paths")):
            continue
        if as_int(fs.get("used_pct")) >= 98:
            strong.append("df: %s is %s%% full" % (fs.get("mount"), fs.get("used_pct")))
        if as_int(fs.get("inodes_used_pct")) >= 98:
            strong.append("df -i: %s has used %s%% of its inodes" % (fs.get("mount"), fs.get("inodes_used_pct")))
    processes = health.get("processes") if isinstance(health.get("processes"), dict) else {}
    threads_pct = processes.get("threads_pct_of_pid_max")
    if isinstance(threads_pct, (int, float)) and threads_pct >= 90:
        strong.append("/proc: %s threads, %.0f%% of pid_max %s (fork fails at the limit)" % (
            processes.get("threads"), threads_pct, processes.get("pid_max")))
    elif as_int(processes.get("pid_max")) and as_int(processes.get("count")) >= 0.9 * as_int(processes.get("pid_max")):
        strong.append("/proc: %s processes of pid_max %s" % (processes.get("count"), processes.get("pid_max")))
    sshd_memory = health.get("sshd_memory") if isinstance(health.get("sshd_memory"), dict) else {}
    if isinstance(sshd_memory.get("max_bytes"), int) and sshd_memory["max_bytes"] > 0 \
            and as_int(sshd_memory.get("current_bytes")) >= 0.9 * sshd_memory["max_bytes"]:
        strong.append("systemd: sshd's unit uses %d of MemoryMax=%d MiB" % (
            as_int(sshd_memory.get("current_bytes")) // 1048576, sshd_memory["max_bytes"] // 1048576))
    tasks = health.get("sshd_tasks") if isinstance(health.get("sshd_tasks"), dict) else {}
    if isinstance(tasks.get("max"), int) and tasks["max"] > 0 and as_int(tasks.get("current")) >= 0.9 * tasks["max"]:
        strong.append("systemd: sshd's unit runs %s tasks of TasksMax=%s (forks fail at the limit)" % (tasks.get("current"), tasks["max"]))
    usage = ev.get("firewall", "conntrack", "usage_pct")
    if isinstance(usage, (int, float)) and usage >= 90:
        strong.append("conntrack: the table is %.0f%% full (%s of %s): new connections are dropped when it fills" % (
            usage, ev.get("firewall", "conntrack", "count"), ev.get("firewall", "conntrack", "max")))
    for sig_id, info in ev.journal_hits("resource_pressure"):
        (strong if sig_id in ("fork_failed", "out_of_memory") else weak).extend(ev.journal_lines([(sig_id, info)]))
    load = health.get("load") if isinstance(health.get("load"), dict) else {}
    cpus = as_int(load.get("cpus"))
    load1 = load.get("1")
    if cpus and isinstance(load1, (int, float)) and load1 > 4 * cpus:
        weak.append("/proc/loadavg: load %.1f on %d CPUs" % (load1, cpus))
    if not strong and not weak:
        return None
    fix = ("Relieve the resource named in the evidence: free disk space (journalctl --vacuum-size=500M; apt-get clean), "
           "stop or limit the process that eats memory or CPU, or raise TasksMax= for the ssh unit.")
    # Measured now; the journal's fork / memory failures say when it bit.
    now = make_scope(phase="any", ongoing=bool(strong or weak), events=_events.signature_events(
        ev, [h[0] for h in ev.journal_hits("resource_pressure")], clients=False))
    if strong:
        return finding("resource_pressure", "warning", min(0.8, 0.5 + 0.1 * len(strong)),
                       "The host is short of a resource sshd needs to accept and keep connections.", strong + weak, fix,
                       scope=now)
    return finding("resource_pressure", "info", 0.3,
                   "The host is under some load; on its own that rarely resets connections.", weak, fix, scope=now)


def _avg10(value):
    if isinstance(value, dict):
        value = value.get("avg10")
    return float(value) if isinstance(value, (int, float)) else None


def rule_idle_timeout(ev):
    interval = ev.setting("client_alive_interval")
    count_max = ev.setting("client_alive_count_max")
    conntrack = ev.get("firewall", "conntrack", "tcp_timeout_established")
    conntrack = conntrack if isinstance(conntrack, int) else None
    invalid_rules = [r for r in (ev.get("firewall", "rules") or [])
                     if isinstance(r, dict) and _is_invalid_state_rule(r) and (r.get("verdict") or "").upper() in ("REJECT", "DROP")]
    hits = ev.journal_hits("idle_timeout", background=False)
    if not isinstance(interval, int) and not hits:
        return None
    keepalive_off = interval == 0
    short = conntrack is not None and conntrack < SHORT_CONNTRACK_SECONDS
    too_slow = isinstance(interval, int) and interval > 0 and conntrack is not None and interval >= conntrack
    where = ev.provenance("ClientAliveInterval")
    evidence = []
    if isinstance(interval, int):
        evidence.append("sshd -T: clientaliveinterval %d, clientalivecountmax %s (%s)" % (
            interval, count_max, ("from " + where) if where else "compiled-in default"))
    if conntrack is not None:
        evidence.append("conntrack: net.netfilter.nf_conntrack_tcp_timeout_established = %d s" % conntrack)
        if ev.get("firewall", "conntrack", "tcp_loose") == 0:
            evidence.append("conntrack: net.netfilter.nf_conntrack_tcp_loose = 0 (a forgotten flow is not picked up again)")
    evidence += [_rule_text(r) for r in invalid_rules]
    evidence += ev.journal_lines(hits)
    if keepalive_off:
        evidence += ev.journal_lines(ev.journal_hits(ids=POSTAUTH_RESET_SIGNATURES))
    if ev.setting("tcp_keep_alive") is False:
        evidence.append("sshd -T: tcpkeepalive no")
    new_interval = 60
    if short:
        new_interval = max(1, min(60, conntrack // 2))
    if (keepalive_off or too_slow) and short:
        severity, confidence = "warning", 0.85 + (0.05 if invalid_rules else 0) + (0.05 if hits else 0)
        summary = "Idle SSH sessions are dropped: this host's conntrack forgets an idle connection after %d s and %s." % (
            conntrack, "sshd sends no keepalives (ClientAliveInterval 0)" if keepalive_off else
            "sshd's keepalive (ClientAliveInterval %d) comes too late" % interval)
    elif keepalive_off and invalid_rules and conntrack is None:
        # The firewall ends flows conntrack has forgotten, and how soon it forgets could not be read.
        severity, confidence = "warning", 0.6
        summary = ("A stateful firewall here resets packets of flows conntrack has forgotten, and sshd sends no keepalives "
                   "(ClientAliveInterval 0): idle sessions are cut once conntrack times them out.")
    elif hits:
        severity, confidence = "warning", 0.7
        summary = "Sessions ended the way idle timeouts end them (%s)%s." % (
            ", ".join(sig for sig, dummy in hits[:3]), "; sshd sends no keepalives" if keepalive_off else "")
    elif keepalive_off:
        severity, confidence = "info", 0.3
        summary = ("sshd sends no keepalives (ClientAliveInterval 0): a NAT gateway, load balancer or firewall "
                   "with an idle timeout between clients and this host will drop idle sessions.")
    else:
        return None
    fix = (
        "Set ClientAliveInterval %d in sshd, shorter than the shortest idle timeout on the path.\n"
        "ClientAliveInterval %d\nClientAliveCountMax 3\n"
        "ClientAliveInterval is first-value-wins: %s; then %s\n"
        "Clients can do the same from their side: ServerAliveInterval %d in ~/.ssh/config "
        "(role %s with ssh_client_keepalive_server_alive_interval: %d)."
        % (new_interval, new_interval,
           ("change the line in %s" % where) if where else
           "put it in a drop-in that sorts first, e.g. /etc/ssh/sshd_config.d/00-keepalive.conf",
           _reload(ev), new_interval, CLIENT_ROLE, new_interval)
    )
    if short:
        fix += ("\nOr give idle flows longer in conntrack: "
                "sysctl -w net.netfilter.nf_conntrack_tcp_timeout_established=432000 (persist it in /etc/sysctl.d/).")
    # The configuration holds now; a stateful rule limited to sources limits whom it hits.
    sources = [rule_sources(ev, r) for r in invalid_rules]
    hit = None if not sources or any(c is None for c, dummy, dummy2 in sources) else [a for c, d, b in sources for a in c]
    dated = [h[0] for h in hits] + (list(POSTAUTH_RESET_SIGNATURES) if keepalive_off else [])
    return finding("idle_timeout", severity, confidence, summary, evidence, fix,
                   hardening_fix(client_alive_interval=new_interval, client_alive_count_max=3),
                   scope=make_scope(clients=hit, phase="session", ongoing=bool(keepalive_off or too_slow),
                                    basis="; ".join(b for c, d, b in sources if b) or None,
                                    events=_events.signature_events(ev, dated)))


def rule_sshd_restarted(ev):
    # systemd logs "Control process exited" (ExecStartPre, ExecReload: a failed sshd -t) with the same
    # MESSAGE_ID as "Main process exited"; only the main process is the listener.
    crashes = ev.unit_events("main_process_killed", "restart_scheduled", "start_limit_hit") + [
        e for e in ev.unit_events("main_process_exited", "failed_result")
        if e.get("result") != "oom-kill" and "Control process" not in (e.get("message") or "")]
    stops = ev.unit_events("stopped")
    restarts = as_int(ev.get("sshd", "service", "n_restarts"))
    hits = ev.journal_hits("sshd_restarted", background=False)
    if not crashes and not stops and not restarts and not hits:
        return None
    evidence = ["journal: %s %s" % (e.get("time") or "", _clip(e.get("message") or e.get("event"))) for e in (crashes + stops)[-5:]]
    if restarts:
        evidence.append("systemd: %s.service NRestarts=%d" % (ev.unit, restarts))
    evidence += ev.journal_lines(hits)
    fix = ("Find out why: journalctl -u %s -n 100 --no-pager; coredumpctl list sshd\n"
           "Debian's unit uses KillMode=process, so a restart keeps open sessions but resets connections that are being set up."
           % ev.unit)
    # Connections being set up die, in whatever phase they were; the client's message says which.
    dated = make_scope(phase="any", events=_events.unit_event_list(
        ev, ("main_process_killed", "main_process_exited", "restart_scheduled", "start_limit_hit", "failed_result", "stopped"))
        + _events.signature_events(ev, [h[0] for h in hits], clients=False))
    if crashes or restarts:
        return finding("sshd_restarted", "warning", 0.75,
                       "sshd's main process died and was restarted (%d event(s)): connections being set up at that moment were reset."
                       % max(len(crashes), restarts), evidence, fix, scope=dated)
    return finding("sshd_restarted", "info", 0.35,
                   "sshd was stopped or restarted %d time(s) in the journal window (an administrator, a package upgrade, or a reboot)."
                   % max(len(stops), _count(hits)), evidence, fix, scope=dated)


# The sshd_config keyword that widens what each kind of mismatch is about.
_MISMATCH_KEYWORD = {"kex_no_match": "KexAlgorithms", "hostkey_no_match": "HostKeyAlgorithms", "cipher_no_match": "Ciphers",
                     "mac_no_match": "MACs", "compression_no_match": "Compression"}


def _offered(sample):
    """The first real algorithm of "Their offer: a,b,c" (not the ext-info / kex-strict markers), or None."""
    if "Their offer:" not in sample:
        return None
    for name in sample.split("Their offer:", 1)[1].strip().split(" ")[0].split(","):
        if name and not name.startswith(("ext-info-", "kex-strict-")):
            return name
    return None


def rule_protocol_mismatch(ev):
    hits = ev.journal_hits("protocol_mismatch", background=False)
    if not hits:
        return None
    clients = ev.sample_values(hits, _FROM_ADDRESS)
    lines = []
    for sig_id, info in hits:
        keyword = _MISMATCH_KEYWORD.get(sig_id)
        offer = next((o for o in (_offered(str(x)) for x in info.get("samples") or []) if o), None)
        if keyword and keyword != "Compression":
            lines.append("%s +%s" % (keyword, offer or "<algorithm from 'Their offer'>"))
    hits += ev.journal_hits(ids=("banner_invalid",))
    fix = ("Upgrade the clients named in the evidence: they offer only algorithms this sshd no longer accepts.\n"
           "If one cannot be upgraded, add what it offers to sshd for everyone (weaker), in /etc/ssh/sshd_config.d/:\n"
           "%s\nthen %s" % ("\n".join(lines) or "KexAlgorithms +<algorithm from 'Their offer'>", _reload(ev)))
    offered = list(clients)
    for dummy, info in hits:
        offered.extend(sorted(info.get("clients") or {}) if isinstance(info.get("clients"), dict) else [])
    return finding("protocol_mismatch", "warning", 0.85,
                   "Clients%s and sshd share no algorithm, so sshd closes their connections during key exchange." % (
                       (" (%s)" % ", ".join(clients[:3])) if clients else ""),
                   ev.journal_lines(hits), fix,
                   scope=make_scope(clients=_addresses_of(" ".join(offered)) or None, phase="kex",
                                    basis="the clients whose offers the journal shows",
                                    events=_events.signature_events(ev, [h[0] for h in hits])))


def rule_packet_corruption(ev):
    hits = ev.journal_hits("packet_corruption")
    if not hits:
        return None
    return finding(
        "packet_corruption", "warning", 0.6,
        "sshd received corrupted packets (%s): the data changed in transit." % ", ".join(sig for sig, dummy in hits[:3]),
        ev.journal_lines(hits),
        "Check the path MTU and NIC offloads: ip link show; tracepath -n <client>; ethtool -k <interface>\n"
        "Try turning offloads off: ethtool -K <interface> tso off gso off gro off; look for a middlebox rewriting TCP.",
        scope=make_scope(phase="any", events=_events.signature_events(ev, [h[0] for h in hits])),
    )


def rule_host_rebooted(ev):
    """A boot inside the window. Ages come from the journal's boot list (a container's own) and,
    failing that, /proc/uptime (which in a container is the machine's, not the container's)."""
    boots = [b for b in (ev.get("journal", "boots") or []) if isinstance(b, dict)] or [
        b for b in (ev.get("host_health", "recent_boots") or []) if isinstance(b, dict)]
    uptime = ev.get("host_health", "uptime_seconds")
    age = None
    if boots and ev.now is not None and _epoch(boots[-1].get("first_entry")) is not None:
        age = ev.now - _epoch(boots[-1].get("first_entry"))
        source = "journal: the current boot began %s" % boots[-1].get("first_entry")
        if len(boots) > 1:
            source += " (%d boots in the journal)" % len(boots)
    elif isinstance(uptime, (int, float)):
        age = uptime
        source = "/proc/uptime"
    if age is None or age < 0 or age > REBOOT_WINDOW_SECONDS:
        return None
    evidence = ["%s: up %s" % (source, duration(age)) if source == "/proc/uptime" else "%s, %s ago" % (source, duration(age))]
    confidence = 0.5 if age < 3600 else 0.4 if age < 86400 else 0.3
    return finding(
        "host_rebooted", "info", confidence,
        "The host rebooted recently: every SSH session open at that moment was cut.",
        evidence,
        "See why: journalctl --list-boots; journalctl -b -1 -e; last -x reboot | head\n"
        "Announce planned reboots; clients with ServerAliveInterval notice a dead session quickly.",
        scope=make_scope(phase="any", since_epoch=_events.proc_boot_epoch(ev) if source == "/proc/uptime" else (
            ev.now - age), events=_events.boot_events(ev)),
    )


def duration(seconds):
    seconds = int(seconds)
    if seconds < 3600:
        return "%d min" % (seconds // 60)
    if seconds < 2 * 86400:
        return "%d h %d min" % (seconds // 3600, (seconds % 3600) // 60)
    return "%d days" % (seconds // 86400)


RULES = {
    "sshd_not_running": rule_sshd_not_running,
    "sshd_config_invalid": rule_sshd_config_invalid,
    "firewall_reject": rule_firewall_reject,
    "tcp_wrappers_denied": rule_tcp_wrappers_denied,
    "host_unreachable": rule_host_unreachable,
    "maxstartups_throttling": rule_maxstartups_throttling,
    "source_penalty": rule_source_penalty,
    "oom_kill": rule_oom_kill,
    "idle_timeout": rule_idle_timeout,
    "sshd_restarted": rule_sshd_restarted,
    "protocol_mismatch": rule_protocol_mismatch,
    "packet_corruption": rule_packet_corruption,
    "resource_pressure": rule_resource_pressure,
    "host_rebooted": rule_host_rebooted,
}


def sort_findings(findings):
    return sorted(findings, key=lambda f: (SEVERITIES.index(f["severity"]), -f["confidence"], CAUSES.index(f["cause"])))


def diagnose(evidence=None, probe=None, reachable=True, unreachable_msg=None, now=None):
    """Run every rule on one host; return ``{findings, summary, notes}``.

    ``evidence``: the ``evidence`` dict of ``ssh_evidence`` (may be partial or None).
    ``probe``: the result of ``ssh_probe`` (may be None).
    ``reachable``: False when Ansible could not run the module (then only the probe counts).
    ``now``: seconds since the epoch the ages of boots are measured against (None: not judged).
    """
    # Evidence of any shape (a host can send anything): checked first, a bad section set aside with a note.
    checked = _untrusted.check_evidence(evidence, probe)
    ev = Evidence(checked["evidence"], checked["probe"], reachable, unreachable_msg, now)
    findings, notes = [], _untrusted.diagnose_notes(checked)
    if reachable:
        for name in SECTIONS:
            section = ev.raw.get(name)
            if not isinstance(section, dict):
                notes.append("%s: no evidence (section missing)" % name)
            elif section.get("error"):
                notes.append("%s: the collector failed: %s" % (name, _clip(section["error"])))
        for name in SECTIONS:
            if ev.has(name):
                for note in ev.section(name).get("notes") or []:
                    notes.append("%s: %s" % (name, _clip(note)))
    for cause in CAUSES:
        try:
            result = RULES[cause](ev)
        except Exception as exc:  # pylint: disable=broad-except
            # Evidence of an unexpected shape must not cost the other rules.
            notes.append("rule %s could not read the evidence: %s: %s" % (cause, type(exc).__name__, _clip(exc)))
            continue
        if result:
            findings.append(result)
    findings = sort_findings(findings)
    summary = findings[0]["summary"] if findings else NOTHING_FOUND
    return {"findings": findings, "summary": summary, "notes": notes}
