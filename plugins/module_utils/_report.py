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

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _rules, _untrusted

# Bump on any change a consumer of report.json could notice (a key renamed, removed, retyped).
# Adding a key is not a change of version.
REPORT_VERSION = 1

# Host status: what happened when the host was diagnosed.
DIAGNOSED = "diagnosed"  # the evidence module ran
UNREACHABLE = "unreachable"  # Ansible could not connect; the probe alone speaks
EVIDENCE_FAILED = "evidence_failed"  # connected, but the evidence module failed
NOT_RUN = "not_run"  # no result at all for this host (skipped, or not in this batch)

SEVERITY_MARK = {"critical": "CRIT", "warning": "WARN", "info": "info"}


def utc_iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def host_entry(evidence=None, probe=None, status=DIAGNOSED, message=None, now=None):
    """One host's part of the report: ``{status, reachable, probe, findings, summary, notes, facts, message}``."""
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
    return {
        "status": status,
        "reachable": reachable,
        "probe": probe,
        "findings": diagnosis["findings"],
        "summary": summary,
        "notes": notes,
        "facts": host_facts(evidence if status == DIAGNOSED else None, probe),
        "message": message,
    }


def build_report(hosts, now, generator=None):
    """The report for ``hosts``: ``{name: {"evidence", "probe", "status", "message"}}`` (all optional).

    ``now``: seconds since the epoch (the report's ``generated_at``, and what ages are measured against).
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
        },
    }
    if generator:
        report["generator"] = generator
    return report


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


def top_row(name, entry):
    """``(host, top cause, severity, one-line fix)`` for the terminal table and the overview."""
    if entry["findings"]:
        item = entry["findings"][0]
        return name, item["cause"], item["severity"], first_line(item["fix"])
    if entry["status"] == DIAGNOSED:
        return name, "-", "ok", "nothing found"
    return name, "-", entry["status"], _one_line(entry["summary"], 200)


def render_table(report, width=160):
    """The short table printed at the end of the play: host, top cause, severity, one-line fix."""
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
    counts = report.get("counts") or {}
    lines.append("")
    lines.append("%d host(s): %s" % (
        counts.get("hosts", len(rows)),
        ", ".join("%d %s" % (n, s) for s, n in (counts.get("top_severity") or {}).items() if n) or "nothing found"))
    return "\n".join(lines)


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
"""


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
            h(report["generated_at"]), counts.get("hosts", len(hosts)),
            h(", ".join("%d %s" % (n, s) for s, n in (counts.get("top_severity") or {}).items() if n) or "nothing found"),
            h(report["version"])),
        '<h2 id="overview">Fleet overview</h2>',
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
