# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report: built from every host's evidence and probe, rendered four ways.

``build_report`` runs the rules for each host and returns the report dict, the
contract written as ``report.json`` (see ``REPORT_VERSION`` and the
``diagnose_report`` module's RETURN). ``render_markdown``, ``render_html`` and
``render_table`` only present that dict: everything they show is in it.

Pure: no I/O, no Ansible imports. Runs on the controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import html
import json
import re
import textwrap

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _events
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _fleet
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _incident
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _rules, _untrusted

# Bump on any change a consumer of report.json could notice (a key renamed, removed, retyped).
# Adding a key is not a change of version.
# 2: the top-level "incident" (when incident inputs were given) and "fleet"; per host "health",
#    "advisories" and "timeline"; "counts.healthy" / "counts.healthy_with_advisories"; a finding's "scope".
#    Only keys were added: a consumer of version 1 keeps working.
REPORT_VERSION = 2
MAX_TIMELINE_EVENTS = 200

# Host health (CONTRACTS.md section 5): info-level findings are advisories, not causes.
HEALTHY = "healthy"
HEALTHY_WITH_ADVISORIES = "healthy_with_advisories"
UNHEALTHY = "unhealthy"
UNKNOWN = "unknown"

# Host status: what happened when the host was diagnosed.
DIAGNOSED = "diagnosed"  # the evidence module ran
UNREACHABLE = "unreachable"  # Ansible could not connect; the probe alone speaks
EVIDENCE_FAILED = "evidence_failed"  # connected, but the evidence module failed
NOT_RUN = "not_run"  # no result at all for this host (skipped, or not in this batch)

SEVERITY_MARK = {"critical": "CRIT", "warning": "WARN", "info": "info"}


def utc_iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def host_entry(evidence=None, probe=None, status=DIAGNOSED, message=None, now=None):
    """One host's part of the report: ``{status, reachable, probe, findings, summary, notes, facts, message,
    health, advisories, timeline}``."""
    reachable = status not in (UNREACHABLE, NOT_RUN)
    diagnosis = _rules.diagnose(
        evidence if status == DIAGNOSED else None,
        probe,
        reachable=status != UNREACHABLE,
        unreachable_msg=message,
        now=now,
    )
    notes = list(diagnosis["notes"])
    summary = diagnosis["summary"]
    if status == EVIDENCE_FAILED:
        notes.insert(0, "the evidence module failed: %s" % (message or "no message"))
        if not diagnosis["findings"]:
            summary = "No diagnosis: the evidence module failed on this host (%s)." % _one_line(message or "no message", 120)
    elif status == NOT_RUN:
        notes.insert(0, message or "no evidence or probe result was recorded for this host")
        if not diagnosis["findings"]:
            summary = "Not diagnosed: %s" % (message or "no evidence or probe result was recorded for this host")
    health, advisories = health_of(status, diagnosis["findings"])
    if health == HEALTHY_WITH_ADVISORIES:
        summary = "Healthy, with advisories (%s): %s" % (", ".join(advisories), summary)
    ev = _rules.Evidence(evidence if status == DIAGNOSED else None, probe, now=now)
    journal_from = _incident.journal_start(ev)
    return {
        "status": status,
        "reachable": reachable,
        "probe": probe,
        "findings": diagnosis["findings"],
        "summary": summary,
        "notes": notes,
        "facts": host_facts(evidence if status == DIAGNOSED else None, probe),
        "message": message,
        "health": health,
        "advisories": advisories,
        "timeline": {"from": int(journal_from) if journal_from is not None else None,
                     "to": int(now) if now is not None else None,
                     "events": _events.coarsen(_events.host_events(ev), MAX_TIMELINE_EVENTS)},
    }


def health_of(status, findings):
    """(health, advisories): CONTRACTS.md section 5. Advisories are the causes of the info-level findings."""
    if status != DIAGNOSED:
        return UNKNOWN, []
    if not findings:
        return HEALTHY, []
    advisories = [f["cause"] for f in findings if f["severity"] == "info"]
    if len(advisories) == len(findings):
        return HEALTHY_WITH_ADVISORIES, advisories
    return UNHEALTHY, advisories


def build_report(hosts, now, generator=None, incident=None):
    """The report for ``hosts``: ``{name: {"evidence", "probe", "status", "message", "clients_used"}}`` (all optional).

    ``now``: seconds since the epoch (the report's ``generated_at``, and what ages are measured against).
    ``incident``: what ``_incident.parse_inputs`` made of the incident inputs, or None.
    """
    # Each host's input is checked (and replaced by the checked copy) first: one bad host costs only itself.
    checked = _untrusted.check_hosts(hosts)
    entries = {}
    for name in hosts:
        data = hosts[name] or {}
        entries[str(name)] = host_entry(
            evidence=data.get("evidence"),
            probe=data.get("probe"),
            status=data.get("status") or DIAGNOSED,
            message=data.get("message"),
            now=now,
        )
        _untrusted.mark_entry(entries[str(name)], checked.get(name))
    summary = {}
    for name, entry in entries.items():
        for item in entry["findings"]:
            hosts_with = summary.setdefault(item["cause"], [])
            if name not in hosts_with:
                hosts_with.append(name)
    ordered = dict((cause, sorted(summary[cause])) for cause in _rules.CAUSES if cause in summary)
    counts = dict((severity, 0) for severity in _rules.SEVERITIES)
    for entry in entries.values():
        if entry["findings"]:
            counts[entry["findings"][0]["severity"]] += 1
    diagnosed = [name for name in sorted(entries) if entries[name]["status"] == DIAGNOSED]
    fleet = _fleet.correlate(dict((name, entries[name]["timeline"]["events"]) for name in diagnosed),
                             fleet_size=len(diagnosed))
    report = {
        "version": REPORT_VERSION,
        "generated_at": utc_iso(now),
        "hosts": entries,
        "summary": ordered,
        "counts": {
            "hosts": len(entries),
            "unreachable": sum(1 for e in entries.values() if e["status"] == UNREACHABLE),
            "nothing_found": sum(1 for e in entries.values() if not e["findings"] and e["status"] == DIAGNOSED),
            "top_severity": counts,
            "healthy": sum(1 for e in entries.values() if e["health"] in (HEALTHY, HEALTHY_WITH_ADVISORIES)),
            "healthy_with_advisories": sum(1 for e in entries.values() if e["health"] == HEALTHY_WITH_ADVISORIES),
        },
        "fleet": fleet,
    }
    if incident:
        report["incident"] = incident_part(hosts, entries, incident, fleet, now)
    if generator:
        report["generator"] = generator
    return report


def incident_part(hosts, entries, incident, fleet, now):
    """The report's ``incident``: the inputs as understood, one verdict per host, the fleet findings that bear on it."""
    part = dict((k, incident.get(k)) for k in ("client", "at", "at_epoch", "window_minutes", "assumed_zone"))
    error = incident.get("client_error")
    part["client_error"] = None if error is None else dict(
        (k, error.get(k)) for k in ("text", "phase", "known", "id", "line", "phases", "causes", "progress", "summary"))
    part["hosts"] = {}
    for name in sorted(entries):
        entry, data = entries[name], hosts.get(name) or {}
        clients = incident.get("client") or [c for c in data.get("clients_used") or [] if isinstance(c, str)]
        ev = _rules.Evidence(data.get("evidence") if entry["status"] == DIAGNOSED else None, entry["probe"], now=now)
        part["hosts"][name] = _incident.scope_host(entry["findings"], ev, incident, clients=clients, status=entry["status"])
    part["fleet"] = _fleet.bearing_on(fleet, incident, _incident.window_of(incident))
    return part


# --- facts: a short, readable digest of the evidence per host -------------------------------------


def host_facts(evidence, probe):
    """``[[label, value], ...]``: what the evidence says about the host, for people."""
    ev = _rules.Evidence(evidence, probe)
    facts = []
    if probe:
        counts = probe.get("outcomes") or {}
        line = ", ".join("%s %s/%s" % (k, v, probe.get("samples_total") or "?") for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
        latency = probe.get("connect_ms") or {}
        if latency:
            line += "; connect %.1f ms avg (%.1f..%.1f)" % (latency.get("avg", 0), latency.get("min", 0), latency.get("max", 0))
        facts.append(["Probe %s:%s" % (probe.get("address") or probe.get("host"), probe.get("port")), line])
        if probe.get("banner"):
            facts.append(["Banner", probe["banner"]])
        if probe.get("messages"):
            facts.append(["Server said", "; ".join(probe["messages"])])
        if probe.get("mtr"):
            facts.append(["Path (mtr)", " > ".join("%s (%s%% loss)" % (h.get("host"), h.get("loss_pct")) for h in probe["mtr"] if isinstance(h, dict))])
    if ev.has("sshd"):
        sshd = ev.section("sshd")
        service = sshd.get("service") if isinstance(sshd.get("service"), dict) else {}
        if sshd.get("installed") is False:
            facts.append(["sshd", "not installed"])
        else:
            facts.append(["sshd", "OpenSSH %s, unit %s%s: %s/%s" % (
                sshd.get("version") or "?", sshd.get("unit") or "?", " (socket activated)" if sshd.get("socket_activated") else "",
                service.get("active_state") or "?", service.get("sub_state") or "?")])
            facts.append(["Configuration", {True: "valid (sshd -t)", False: "INVALID (sshd -t fails)"}.get(sshd.get("config_valid"), "not checked")])
            settings = sshd.get("settings") if isinstance(sshd.get("settings"), dict) else {}
            ms = settings.get("max_startups") if isinstance(settings.get("max_startups"), dict) else {}
            facts.append(["Keepalive", "ClientAliveInterval %s, ClientAliveCountMax %s, TCPKeepAlive %s" % (
                settings.get("client_alive_interval"), settings.get("client_alive_count_max"),
                {True: "yes", False: "no"}.get(settings.get("tcp_keep_alive"), "?"))])
            facts.append(["Limits", "MaxStartups %s:%s:%s, LoginGraceTime %s, PerSourcePenalties %s" % (
                ms.get("start", "?"), ms.get("rate", "?"), ms.get("full", "?"), settings.get("login_grace_time", "?"),
                settings.get("per_source_penalties") if settings.get("per_source_penalties") is not None else "n/a")])
            listeners = sshd.get("listeners")
            if isinstance(listeners, list):
                sockets = ["%s:%s" % (item.get("address"), item.get("port")) for item in listeners if isinstance(item, dict)]
                facts.append(["Listening", ", ".join(sockets) or "nothing"])
    if ev.has("journal"):
        journal = ev.section("journal")
        signatures = journal.get("signatures") if isinstance(journal.get("signatures"), dict) else {}
        seen = ", ".join("%s x%s" % (k, v.get("count")) for k, v in sorted(signatures.items(), key=lambda kv: -_rules.as_int(kv[1].get("count")))
                         if isinstance(v, dict))
        availability = journal.get("availability")
        period = journal.get("period") if isinstance(journal.get("period"), dict) else {}
        if availability == "no_journal":
            facts.append(["Journal", "no sshd log at all: no journal entries, no auth.log or secure"])
        elif availability == "unreadable":
            facts.append(["Journal", "%s: not readable (permissions; run with become)" % (journal.get("source") or "the log")])
        else:
            sources = [c.get("source") for c in journal.get("coverage") or [] if isinstance(c, dict) and c.get("lines")]
            facts.append(["Journal", "%s, %s sshd lines read since %s%s%s" % (
                " + ".join(str(x) for x in sources) or journal.get("source") or "no source", journal.get("lines_read", "?"),
                period.get("requested_from") or journal.get("since") or "the start",
                " (a journal without sshd lines in the window)" if availability == "journal_without_sshd_lines" else "",
                ("; " + seen) if seen else "; no known signature")])
        if period.get("complete") is False:
            facts.append(["Journal coverage", "incomplete (%s): read from %s; not read: %s" % (
                period.get("stopped_by") or "?", period.get("from") or "?",
                ", ".join("%s .. %s" % (g[0] or "?", g[1] or "?") for g in period.get("not_covered") or []
                          if isinstance(g, (list, tuple)) and len(g) == 2) or "?")])
    if ev.has("oom"):
        oom = ev.section("oom")
        facts.append(["OOM kills", "%d (sshd: %s)" % (len(oom.get("events") or []), oom.get("sshd_victims", 0))])
    if ev.has("firewall"):
        firewall = ev.section("firewall")
        rules = [r for r in firewall.get("rules") or [] if isinstance(r, dict) and r.get("affects_ssh")]
        conntrack = firewall.get("conntrack") if isinstance(firewall.get("conntrack"), dict) else {}
        facts.append(["Firewall", "%d rule(s) touch SSH; conntrack established timeout %s s" % (
            len(rules), conntrack.get("tcp_timeout_established", "?"))])
    if ev.has("tcp_wrappers"):
        wrappers = ev.section("tcp_wrappers")
        denied = [d for d in wrappers.get("decisions") or [] if isinstance(d, dict) and d.get("allowed") is False]
        facts.append(["TCP wrappers", "%s; %d client(s) denied" % (
            {True: "apply to sshd", False: "do not apply (sshd not linked with libwrap)"}.get(wrappers.get("applies"), "unknown"), len(denied))])
    if ev.has("host_health"):
        health = ev.section("host_health")
        load = health.get("load") if isinstance(health.get("load"), dict) else {}
        memory = health.get("memory") if isinstance(health.get("memory"), dict) else {}
        parts = []
        if isinstance(health.get("uptime_seconds"), (int, float)):
            parts.append("up %s" % _rules.duration(health["uptime_seconds"]))
        if load.get("1") is not None:
            parts.append("load %s on %s CPUs" % (load.get("1"), load.get("cpus", "?")))
        if memory.get("total_kb") and memory.get("available_kb") is not None:
            parts.append("%d%% memory available" % (100 * memory["available_kb"] // max(1, memory["total_kb"])))
        facts.append(["Host", ", ".join(parts) or "?"])
    return facts


# --- plain text ------------------------------------------------------------------------------------


def _one_line(text, limit):
    text = " ".join(_untrusted.safe_text(text or "").split())
    return text if len(text) <= limit else text[: max(0, limit - 3)] + "..."


def first_line(text):
    return (str(text or "").strip().splitlines() or [""])[0]


def health_label(entry):
    """``healthy`` or ``healthy (advisories: a, b)`` for a healthy host, else None."""
    if entry.get("health") == HEALTHY:
        return "healthy"
    if entry.get("health") == HEALTHY_WITH_ADVISORIES:
        return "healthy (advisories: %s)" % ", ".join(entry.get("advisories") or [])
    return None


def top_row(name, entry):
    """``(host, top cause, severity, one-line fix)`` for the terminal table and the overview.

    A host whose findings are all advisories has no top cause: it shows as healthy, naming them.
    """
    label = health_label(entry)
    if label:
        return name, "-", "ok", label
    if entry["findings"]:
        item = entry["findings"][0]
        return name, item["cause"], item["severity"], first_line(item["fix"])
    if entry["status"] == DIAGNOSED:
        return name, "-", "ok", "nothing found"
    return name, "-", entry["status"], _one_line(entry["summary"], 200)


def render_table(report, width=160):
    """What the play prints at the end: the incident's answer first (when there is one), then the table
    (host, top cause, severity, one-line fix), then the fleet findings."""
    lines = render_incident_lines(report, width)
    lines += _host_table(report, width)
    if report.get("fleet") and not report.get("incident"):
        lines += [""] + _fleet_lines(report["fleet"], width)
    return "\n".join(lines)


def _host_table(report, width):
    rows = [top_row(name, report["hosts"][name]) for name in sorted(report["hosts"])]
    rows.sort(key=lambda r: (_severity_rank(r[2]), r[0]))
    header = ("HOST", "TOP CAUSE", "SEVERITY", "FIX")
    host_w = min(max([len(header[0])] + [len(r[0]) for r in rows]), 40)
    cause_w = max([len(header[1])] + [len(r[1]) for r in rows])
    sev_w = max([len(header[2])] + [len(r[2]) for r in rows])
    fix_w = max(20, width - host_w - cause_w - sev_w - 6)
    lines = []
    for row in [header] + rows:
        lines.append("%s  %s  %s  %s" % (
            _one_line(row[0], host_w).ljust(host_w), row[1].ljust(cause_w), row[2].ljust(sev_w), _one_line(row[3], fix_w)))
    lines.append("")
    lines.append(counts_line(report))
    return lines


def counts_line(report):
    """``5 host(s): 2 critical, 1 warning, 2 healthy (1 with advisories)``."""
    counts = report.get("counts") or {}
    hosts = report.get("hosts") or {}
    top = counts.get("top_severity") or {}
    parts = ["%d %s" % (top[s], s) for s in ("critical", "warning") if top.get(s)]
    unhealthy_info = sum(1 for e in hosts.values() if e.get("health") == UNHEALTHY and e["findings"]
                         and e["findings"][0]["severity"] == "info")
    if unhealthy_info:
        parts.append("%d info" % unhealthy_info)
    if counts.get("healthy"):
        advisories = counts.get("healthy_with_advisories")
        parts.append("%d healthy%s" % (counts["healthy"], (" (%d with advisories)" % advisories) if advisories else ""))
    unknown = sum(1 for e in hosts.values() if e.get("health") == UNKNOWN and not e["findings"])
    if unknown:
        parts.append("%d not diagnosed" % unknown)
    return "%d host(s): %s" % (counts.get("hosts", len(hosts)), ", ".join(parts) or "nothing found")


def incident_head(incident):
    """One line: who, when, what the client printed."""
    who = ", ".join(incident.get("client") or []) or "any client (the controller's address where known)"
    if incident.get("at"):
        who += " at %s %s" % (incident["at"], _window_text(incident))
        if incident.get("assumed_zone"):
            who += " (no zone given: read as %s)" % incident["assumed_zone"]
    parts = [who]
    error = incident.get("client_error")
    if error:
        if error.get("known"):
            parts.append("the client printed %r (%s, died during %s)" % (
                error.get("line"), error.get("id"), " / ".join(_incident._phases_of(error))))
        else:
            parts.append("the client's message is not in the catalogue (unknown: nothing is inferred from it)")
    return "; ".join(parts)


def _window_text(incident):
    minutes = float(incident.get("window_minutes") or 15)
    return "± %s" % (("%g min" % minutes) if minutes >= 1 else ("%g s" % (minutes * 60)))


def verdict_row(name, answer):
    """``(host, verdict cause or 'nothing fits', confidence, one-line fix or what was ruled out)``."""
    verdict = answer.get("verdict")
    if verdict:
        return name, verdict["cause"], "%.2f" % verdict["confidence"], first_line(verdict["fix"])
    ruled = ", ".join(sorted(set(r["cause"] for r in answer.get("ruled_out") or [])))
    return name, "nothing fits", "-", ("ruled out: %s" % ruled) if ruled else _one_line(answer.get("summary"), 200)


def render_incident_lines(report, width=160):
    """The incident's answer: its head, a row per host (verdict, confidence, fix), the fleet findings that bear on it."""
    incident = report.get("incident")
    if not incident:
        return []
    lines = textwrap.wrap("INCIDENT: %s" % " ".join(incident_head(incident).split()), max(40, width),
                          subsequent_indent="  ", break_on_hyphens=False)
    rows = [verdict_row(name, incident["hosts"][name]) for name in sorted(incident["hosts"])]
    rows.sort(key=lambda r: (r[1] == "nothing fits", r[0]))
    header = ("HOST", "VERDICT", "CONFIDENCE", "FIX")
    host_w = min(max([len(header[0])] + [len(r[0]) for r in rows]), 40)
    cause_w = max([len(header[1])] + [len(r[1]) for r in rows])
    conf_w = len(header[2])
    fix_w = max(20, width - host_w - cause_w - conf_w - 6)
    for row in [header] + rows:
        lines.append("%s  %s  %s  %s" % (_one_line(row[0], host_w).ljust(host_w), row[1].ljust(cause_w),
                                         row[2].ljust(conf_w), _one_line(row[3], fix_w)))
    for name in sorted(incident["hosts"]):
        verdict = incident["hosts"][name].get("verdict")
        if verdict and verdict.get("why"):
            lines.append("  %s: %s" % (_one_line(name, 40), _one_line(verdict["why"], max(20, width - len(name) - 4))))
    if incident.get("fleet"):
        lines += _fleet_lines(incident["fleet"], width)
    lines.append("")
    return lines


def _fleet_lines(fleet, width):
    return ["FLEET: %s (%s)" % (_one_line(item["summary"], max(40, width - 30)),
                                ", ".join(_one_line(name, 40) for name in item["hosts"][:6]))
            for item in fleet]


def _severity_rank(severity):
    order = list(_rules.SEVERITIES) + [UNREACHABLE, EVIDENCE_FAILED, NOT_RUN, "ok"]
    return order.index(severity) if severity in order else len(order)


def render_json(report):
    return json.dumps(report, indent=2, sort_keys=False, default=str) + "\n"


# --- Markdown ----------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>#])")


def md_text(text):
    """Text safe inside Markdown prose and table cells: specials escaped, one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(_untrusted.safe_text(text).split()))


def md_code_block(text, lang=""):
    text = _untrusted.safe_text(text)
    fence = "```"
    while fence in text:
        fence += "`"
    return "%s%s\n%s\n%s" % (fence, lang, text.rstrip("\n"), fence)


def render_markdown(report):
    out = ["# SSH connection reset diagnosis", ""]
    counts = report.get("counts") or {}
    out.append("Generated %s for %d host(s). Report format version %s." % (
        report["generated_at"], counts.get("hosts", len(report["hosts"])), report["version"]))
    out.append("")
    out += _markdown_incident(report)
    if report.get("fleet"):
        out += ["## Across the fleet", ""]
        for item in report["fleet"]:
            out.append("- **%s** on %s: %s" % (md_text(item["cause"]), ", ".join(md_text(h) for h in item["hosts"]),
                                               md_text(item["summary"])))
        out.append("")
    out.append(md_text(counts_line(report)))
    out.append("")
    out += ["| Host | Reachable | Probe | Top cause | Severity | Fix |", "|---|---|---|---|---|---|"]
    for name in _ordered_hosts(report):
        entry = report["hosts"][name]
        host, cause, severity, fix = top_row(name, entry)
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            md_text(host), "yes" if entry["reachable"] else "**no**", md_text((entry.get("probe") or {}).get("outcome") or "-"),
            md_text(cause), md_text(severity), md_text(fix)))
    out.append("")
    if report["summary"]:
        out += ["## Causes across the fleet", ""]
        for cause, hosts in report["summary"].items():
            out.append("- **%s**: %s" % (md_text(cause), ", ".join(md_text(h) for h in hosts)))
        out.append("")
    for name in _ordered_hosts(report):
        entry = report["hosts"][name]
        out += ["## %s" % md_text(name), "", md_text(entry["summary"]), ""]
        for index, item in enumerate(entry["findings"], 1):
            out.append("### %d. %s (%s, confidence %.2f)" % (index, md_text(item["cause"]), item["severity"], item["confidence"]))
            out += ["", md_text(item["summary"]), "", "Evidence:", ""]
            out += ["- %s" % md_text(line) for line in item["evidence"]]
            out += ["", "Fix:", "", md_code_block(item["fix"]), ""]
            if item.get("automated_fix"):
                out += ["Automated fix:", "", md_code_block(json.dumps(item["automated_fix"], indent=2), "json"), ""]
        if entry["facts"]:
            out += ["| Evidence | |", "|---|---|"]
            out += ["| %s | %s |" % (md_text(label), md_text(value)) for label, value in entry["facts"]]
            out.append("")
        if entry["notes"]:
            out += ["Notes:", ""] + ["- %s" % md_text(note) for note in entry["notes"]] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def _markdown_incident(report):
    incident = report.get("incident")
    if not incident:
        return []
    out = ["## The incident", "", md_text(incident_head(incident)), "",
           "| Host | Verdict | Confidence | Why | Fix | Ruled out |", "|---|---|---|---|---|---|"]
    for name in sorted(incident["hosts"]):
        answer = incident["hosts"][name]
        host, cause, confidence, fix = verdict_row(name, answer)
        verdict = answer.get("verdict") or {}
        ruled = "; ".join("%s: %s" % (r["cause"], r["why"]) for r in answer.get("ruled_out") or [])
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            md_text(host), md_text(cause), md_text(confidence), md_text(verdict.get("why") or answer.get("summary")),
            md_text(fix if verdict else "-"), md_text(ruled or "-")))
    out.append("")
    for item in incident.get("fleet") or []:
        out.append("- Fleet: **%s** on %s: %s" % (md_text(item["cause"]), ", ".join(md_text(h) for h in item["hosts"]),
                                                  md_text(item["summary"])))
    if incident.get("fleet"):
        out.append("")
    return out


def _ordered_hosts(report):
    def key(name):
        row = top_row(name, report["hosts"][name])
        entry = report["hosts"][name]
        confidence = entry["findings"][0]["confidence"] if entry["findings"] else 0
        return (_severity_rank(row[2]), -confidence, name)

    return sorted(report["hosts"], key=key)


# --- HTML ----------------------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24;background:#fff}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
h3{font-size:1.05rem;margin:1.2rem 0 .3rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.fix{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}
.sev{display:inline-block;border-radius:.6rem;padding:0 .55rem;font-size:.8rem;font-weight:600;color:#fff}
.sev-critical{background:#cf222e}.sev-warning{background:#bf8700}.sev-info{background:#0969da}
.sev-ok{background:#1a7f37}.sev-unreachable,.sev-evidence_failed,.sev-not_run{background:#6e7781}
.finding{border-left:4px solid #d0d7de;padding:.1rem 0 .1rem .9rem;margin:1rem 0}
.finding.critical{border-color:#cf222e}.finding.warning{border-color:#bf8700}.finding.info{border-color:#0969da}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}
ul.evidence li{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;word-break:break-word}
.muted{color:#57606a}.summary{font-size:1.05rem}
.incident{border:2px solid #1f2328;border-radius:.4rem;padding:.2rem 1rem 1rem;margin:1rem 0}
.incident h2{margin-top:.8rem}.verdict{font-weight:600}.nothing{color:#57606a}
ul.ruled{margin:.2rem 0;padding-left:1.1rem;font-size:.85rem}
svg.timeline{display:block;margin:.6rem 0;max-width:100%;height:auto;font:11px system-ui,sans-serif}
svg.timeline text{fill:#1f2328}svg.timeline .lane{stroke:#d0d7de}svg.timeline .tick{stroke:#eaeef2}
"""

# One colour per kind of event on the timeline (and nowhere else on the page).
KIND_COLOURS = {
    "boot": "#6639ba", "restart": "#bf3989", "oom": "#a40e26", "maxstartups": "#fb8f44", "penalty": "#7d4e00",
    "ban": "#116329", "reset": "#218bff", "refused": "#6e7781", "mismatch": "#c297ff", "timeout": "#1b7c83",
    "other": "#afb8c1",
}
TIMELINE_WIDTH = 960
TIMELINE_LABEL = 170
TIMELINE_ROW = 22
TIMELINE_TOP = 30
MAX_TIMELINE_ROWS = 200


def h(text):
    return html.escape(_untrusted.safe_text(text), quote=True)


def _anchor(index):
    return "host-%d" % index


def _badge(severity):
    return '<span class="sev sev-%s">%s</span>' % (h(re.sub(r"[^a-z_]", "", str(severity))), h(severity))


def render_html(report):
    """One self-contained page (inline CSS, no script, no external resource); all content escaped."""
    hosts = _ordered_hosts(report)
    anchors = dict((name, _anchor(i)) for i, name in enumerate(hosts, 1))
    counts = report.get("counts") or {}
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # No script, no fetch: the page can be mailed, attached to a ticket or opened offline.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>SSH connection reset diagnosis</title>",
        "<style>%s</style></head><body>" % _CSS,
        "<h1>SSH connection reset diagnosis</h1>",
        '<p class="muted">Generated %s for %d host(s) &middot; %s &middot; report format version %s</p>' % (
            h(report["generated_at"]), counts.get("hosts", len(hosts)), h(counts_line(report).split(": ", 1)[-1]),
            h(report["version"])),
    ]
    out += _html_incident(report, anchors)
    out += _html_fleet(report, anchors)
    out += _html_timelines(report, hosts)
    out += [
        '<h2 id="overview">Fleet overview</h2>',
        '<p class="muted">%s</p>' % h(counts_line(report)),
        '<table class="overview"><thead><tr><th>Host</th><th>Reachable</th><th>Probe</th><th>Top cause</th>'
        "<th>Severity</th><th>Fix</th></tr></thead><tbody>",
    ]
    for name in hosts:
        entry = report["hosts"][name]
        host, cause, severity, fix = top_row(name, entry)
        out.append('<tr><td><a href="#%s">%s</a></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class="fix">%s</td></tr>' % (
            anchors[name], h(host), "yes" if entry["reachable"] else "<strong>no</strong>",
            h((entry.get("probe") or {}).get("outcome") or "-"), h(cause), _badge(severity), h(fix)))
    out.append("</tbody></table>")
    if report["summary"]:
        out.append('<h2 id="causes">Causes across the fleet</h2><table class="causes"><thead><tr><th>Cause</th><th>Hosts</th></tr></thead><tbody>')
        for cause, names in report["summary"].items():
            out.append("<tr><td>%s</td><td>%s</td></tr>" % (
                h(cause), ", ".join('<a href="#%s">%s</a>' % (anchors[n], h(n)) for n in names if n in anchors)))
        out.append("</tbody></table>")
    for name in hosts:
        entry = report["hosts"][name]
        out.append('<section class="host" id="%s"><h2>%s</h2>' % (anchors[name], h(name)))
        out.append('<p class="summary">%s</p>' % h(entry["summary"]))
        for item in entry["findings"]:
            out.append('<div class="finding %s"><h3>%s %s <span class="muted">confidence %.2f</span></h3>' % (
                h(item["severity"]), _badge(item["severity"]), h(item["cause"]), item["confidence"]))
            out.append("<p>%s</p>" % h(item["summary"]))
            out.append('<p class="muted">Evidence</p><ul class="evidence">%s</ul>' % "".join("<li>%s</li>" % h(line) for line in item["evidence"]))
            out.append('<p class="muted">Fix</p><pre class="fix">%s</pre>' % h(item["fix"]))
            if item.get("automated_fix"):
                out.append('<p class="muted">Automated fix</p><pre class="automated">%s</pre>' % h(json.dumps(item["automated_fix"], indent=2)))
            out.append("</div>")
        if entry["facts"]:
            out.append('<h3>Evidence collected</h3><table class="facts"><tbody>%s</tbody></table>' % "".join(
                "<tr><th>%s</th><td>%s</td></tr>" % (h(label), h(value)) for label, value in entry["facts"]))
        if entry["notes"]:
            out.append('<h3>Notes</h3><ul class="notes">%s</ul>' % "".join("<li>%s</li>" % h(note) for note in entry["notes"]))
        out.append('<p><a href="#overview">back to the overview</a></p></section>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _html_incident(report, anchors):
    incident = report.get("incident")
    if not incident:
        return []
    out = ['<section class="incident" id="incident"><h2>The incident</h2>', '<p class="summary">%s</p>' % h(incident_head(incident))]
    out.append('<table class="verdicts"><thead><tr><th>Host</th><th>Verdict</th><th>Confidence</th><th>Why</th><th>Fix</th>'
               '<th>Ruled out</th></tr></thead><tbody>')
    rows = sorted(incident["hosts"], key=lambda n: (incident["hosts"][n].get("verdict") is None, n))
    for name in rows:
        answer = incident["hosts"][name]
        host, cause, confidence, fix = verdict_row(name, answer)
        verdict = answer.get("verdict") or {}
        ruled = "".join("<li><strong>%s</strong>: %s</li>" % (h(r["cause"]), h(r["why"])) for r in answer.get("ruled_out") or [])
        out.append('<tr><td><a href="#%s">%s</a></td><td class="%s">%s</td><td>%s</td><td>%s</td><td class="fix">%s</td>'
                   '<td><ul class="ruled">%s</ul></td></tr>' % (
                       anchors.get(name, ""), h(host), "verdict" if verdict else "nothing", h(cause), h(confidence),
                       h(verdict.get("why") or answer.get("summary")), h(fix if verdict else "-"), ruled))
    out.append("</tbody></table>")
    for item in incident.get("fleet") or []:
        out.append('<p class="fleet-note">Across the fleet: <strong>%s</strong> on %s: %s</p>' % (
            h(item["cause"]), h(", ".join(item["hosts"])), h(item["summary"])))
    out.append("</section>")
    return out


def _html_fleet(report, anchors):
    if not report.get("fleet"):
        return []
    out = ['<h2 id="fleet">Across the fleet</h2><table class="fleet"><thead><tr><th>Cause</th><th>Hosts</th>'
           '<th>What happened</th><th>Evidence</th></tr></thead><tbody>']
    for item in report["fleet"]:
        out.append("<tr><td>%s</td><td>%s</td><td>%s</td><td><ul class=\"evidence\">%s</ul></td></tr>" % (
            h(item["cause"]), ", ".join('<a href="#%s">%s</a>' % (anchors[n], h(n)) if n in anchors else h(n) for n in item["hosts"]),
            h(item["summary"]), "".join("<li>%s</li>" % h(line) for line in item["evidence"])))
    out.append("</tbody></table>")
    return out


def timeline_range(report, names):
    """(start, end) epoch seconds the whole timeline covers: the journals' windows, every event, the incident."""
    end = _events.epoch_of(report.get("generated_at"))
    starts, ends = [], [end] if end is not None else []
    for name in names:
        line = report["hosts"][name].get("timeline") or {}
        if line.get("from") is not None:
            starts.append(line["from"])
        for item in line.get("events") or []:
            starts.append(item["epoch"])
            ends.append(item["epoch"] + int(item.get("span_s") or 0))
    window = _incident.window_of(report.get("incident"))
    if window:
        starts.append(window[0])
        ends.append(window[1])
    if not starts or not ends:
        return None
    start, end = min(starts), max(ends)
    if end - start < 600:  # at least ten minutes, so that a lone event is not a smear
        middle = (start + end) / 2.0
        start, end = middle - 300, middle + 300
    return start, end


def _html_timelines(report, names):
    """A timeline of every host over the journal window, and one around the incident's time when there is one."""
    names = [n for n in names if (report["hosts"][n].get("timeline") or {}).get("events") or report.get("incident")][:MAX_TIMELINE_ROWS]
    whole = timeline_range(report, names)
    if not names or not whole:
        return []
    out = ['<h2 id="timeline">Timeline</h2>',
           '<p class="muted">Each row is a host; marks are boots, sshd restarts and kills, OOM kills, MaxStartups and penalty '
           'drops, bans, and resets of established sessions. The last row lines up what several hosts had at once. '
           'Hover a mark for its details.</p>']
    window = _incident.window_of(report.get("incident"))
    if window:
        margin = max(3 * (window[1] - window[0]) / 2.0, 300)
        centre = (window[0] + window[1]) / 2.0
        out.append("<h3>Around the incident</h3>")
        out.append(timeline_svg(report, names, centre - margin, centre + margin, "timeline-incident"))
        out.append("<h3>The whole journal window</h3>")
    out.append(timeline_svg(report, names, whole[0], whole[1], "timeline-whole"))
    return out


def timeline_svg(report, names, start, end, ident):
    """One inline SVG (no script): a row per host, a fleet strip, the incident's time and window, a legend."""
    width, label, row_h, top = TIMELINE_WIDTH, TIMELINE_LABEL, TIMELINE_ROW, TIMELINE_TOP
    plot = width - label - 20
    rows = list(names)
    fleet = [f for f in report.get("fleet") or [] if f["to_epoch"] >= start and f["from_epoch"] <= end]
    height = top + row_h * (len(rows) + 1) + 34
    span = float(max(1, end - start))

    def x(moment):
        return label + max(0.0, min(1.0, (moment - start) / span)) * plot

    out = ['<svg xmlns="http://www.w3.org/2000/svg" class="timeline" id="%s" width="%d" height="%d" viewBox="0 0 %d %d" '
           'role="img" aria-label="%s" data-start="%d" data-end="%d">' % (
               ident, width, height, width, height, h("timeline from %s to %s" % (_events.iso(start), _events.iso(end))),
               int(start), int(end))]
    out.append("<title>%s</title>" % h("Timeline %s .. %s" % (_events.iso(start), _events.iso(end))))
    for index in range(5):
        moment = start + span * index / 4.0
        out.append('<line class="tick" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>' % (x(moment), top - 6, x(moment), height - 34))
        anchor = "start" if index == 0 else "end" if index == 4 else "middle"
        out.append('<text x="%.1f" y="%d" text-anchor="%s">%s</text>' % (
            x(moment), top - 12, anchor, h(_events.iso(moment)[5:16].replace("T", " ") + "Z")))
    window = _incident.window_of(report.get("incident"))
    if window and window[1] >= start and window[0] <= end:
        out.append('<rect class="window" x="%.1f" y="%d" width="%.1f" height="%d" fill="#fff8c5" stroke="#d4a72c">'
                   '<title>%s</title></rect>' % (
                       x(window[0]), top - 6, max(2.0, x(window[1]) - x(window[0])), row_h * (len(rows) + 1) + 6,
                       h("incident window %s .. %s" % (_events.iso(window[0]), _events.iso(window[1])))))
    for index, name in enumerate(rows):
        y = top + row_h * index + row_h / 2.0
        out.append('<g class="row" data-host="%s">' % h(name))
        out.append('<text x="4" y="%.1f" dominant-baseline="middle">%s</text>' % (y, h(_one_line(name, 26))))
        out.append('<line class="lane" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>' % (label, y, label + plot, y))
        for item in (report["hosts"][name].get("timeline") or {}).get("events") or []:
            if item["epoch"] > end or item["epoch"] + int(item.get("span_s") or 0) < start:
                continue
            out.append(_mark(item, x, y, "%s: %s" % (name, _event_title(item))))
        out.append("</g>")
    y = top + row_h * len(rows) + row_h / 2.0
    out.append('<g class="row fleet-strip"><text x="4" y="%.1f" dominant-baseline="middle" font-weight="600">fleet</text>'
               '<line class="lane" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>' % (y, label, y, label + plot, y))
    for item in fleet:
        left, right = x(item["from_epoch"]), x(item["to_epoch"])
        out.append('<rect class="fleet-ev ev-%s" data-kind="%s" data-epoch="%d" x="%.1f" y="%.1f" width="%.1f" height="12" '
                   'fill="%s" stroke="#1f2328"><title>%s</title></rect>' % (
                       h(item["kind"]), h(item["kind"]), item["from_epoch"], left - 3, y - 6, max(6.0, right - left + 6),
                       KIND_COLOURS.get(item["kind"], KIND_COLOURS["other"]),
                       h("%s on %s: %s" % (item["cause"], ", ".join(item["hosts"]), item["summary"]))))
    out.append("</g>")
    if report.get("incident") and report["incident"].get("at_epoch") is not None and start <= report["incident"]["at_epoch"] <= end:
        at = x(report["incident"]["at_epoch"])
        out.append('<line class="incident" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#1f2328" stroke-width="2" '
                   'stroke-dasharray="4 3"><title>%s</title></line>' % (
                       at, top - 8, at, top + row_h * (len(rows) + 1), h("incident at %s" % report["incident"]["at"])))
    legend_y, lx = height - 14, label
    for kind in (k for k in _events.KINDS if k != "other"):
        out.append('<circle cx="%d" cy="%d" r="5" fill="%s"/><text x="%d" y="%d" dominant-baseline="middle">%s</text>' % (
            lx, legend_y, KIND_COLOURS[kind], lx + 8, legend_y, h(kind)))
        lx += 22 + 7 * len(kind)
    out.append("</svg>")
    return "".join(out)


def _event_title(item):
    text = "%s%s at %s" % (item["what"], (" x%d" % item["count"]) if item.get("count", 1) > 1 else "", _events.iso(item["epoch"]))
    if item.get("span_s"):
        text += " .. %s" % _events.iso(item["epoch"] + item["span_s"])
    if item.get("client"):
        text += " (%s)" % item["client"]
    return text


def _mark(item, x, y, title):
    colour = KIND_COLOURS.get(item.get("kind"), KIND_COLOURS["other"])
    left = x(item["epoch"])
    right = x(item["epoch"] + int(item.get("span_s") or 0))
    data = 'class="ev ev-%s" data-kind="%s" data-epoch="%d" data-what="%s"' % (
        h(item["kind"]), h(item["kind"]), item["epoch"], h(item["what"]))
    if right - left >= 4:
        return '<rect %s x="%.1f" y="%.1f" width="%.1f" height="10" fill="%s" fill-opacity="0.75"><title>%s</title></rect>' % (
            data, left, y - 5, right - left, colour, h(title))
    return '<circle %s cx="%.1f" cy="%.1f" r="5" fill="%s"><title>%s</title></circle>' % (data, left, y, colour, h(title))
