# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report version 2: the incident, the fleet, healthy hosts with advisories, the timeline."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _incident
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _report
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import read_fixture
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.incident_evidence import (
    AT, evidence, iso, journal, signature, unit_event)
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__report import assert_self_contained, parse
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__rules import NOW, healthy_sshd

VICTIM = "198.51.100.7"
OTHER = "203.0.113.9"


def restart(at):
    return journal(unit_events=[unit_event("stopped", at, "Stopped ssh.service"), unit_event("started", at + 1, "Started ssh.service")])


def fleet_hosts():
    drops = [AT - 20, AT + 4]
    web3 = evidence(
        journal=journal(signatures={"maxstartups_drop": signature("maxstartups_drop", drops, {VICTIM: drops})},
                        focus={VICTIM: {"maxstartups_drop": drops}},
                        unit_events=restart(AT + 900)["unit_events"]),
        tcp_wrappers={"applies": True, "notes": [], "files": {}, "decisions": [
            {"client": VICTIM, "allowed": True}, {"client": OTHER, "allowed": False, "file": "/etc/hosts.deny", "line": 3,
                                                  "rule": "sshd: %s" % OTHER}]})
    return {
        "web3": {"evidence": web3},
        "web4": {"evidence": evidence(journal=restart(AT + 920))},
        "web5": {"evidence": evidence(journal=restart(AT + 940), sshd=healthy_sshd(settings={"client_alive_interval": 0}))},
        "db1": {"evidence": evidence()},
    }


@pytest.fixture
def report():
    inc = _incident.parse_inputs(client=VICTIM, at=iso(AT), window=5,
                                 client_error=read_fixture("debian12/client_exceeded_maxstartups_v.txt"), now=NOW)
    return _report.build_report(fleet_hosts(), NOW, incident=inc)


def test_report_json_carries_the_incident_in_the_documented_shape(report):
    data = json.loads(_report.render_json(report))
    assert data["version"] == 2
    incident = data["incident"]
    assert {"client", "at", "window_minutes", "assumed_zone", "client_error", "hosts", "fleet"} <= set(incident)
    assert incident["client"] == [VICTIM] and incident["at"] == iso(AT).replace("+00:00", "Z")
    assert incident["window_minutes"] == 5 and incident["assumed_zone"] is None
    assert {"text", "phase", "known"} <= set(incident["client_error"])
    assert (incident["client_error"]["phase"], incident["client_error"]["known"]) == ("banner", True)
    web3 = incident["hosts"]["web3"]
    assert {"cause", "confidence", "summary", "evidence", "fix", "automated_fix"} <= set(web3["verdict"])
    assert web3["verdict"]["cause"] == "maxstartups_throttling"
    assert {r["cause"] for r in web3["ruled_out"]} == {"tcp_wrappers_denied", "sshd_restarted"}
    assert all(set(r) == {"cause", "why"} for r in web3["ruled_out"])
    assert incident["hosts"]["db1"]["verdict"] is None
    assert incident["fleet"] == []  # the restarts were 15 minutes later: outside the window


def test_the_fleet_stands_with_or_without_an_incident(report):
    for data in (report, _report.build_report(fleet_hosts(), NOW)):
        assert [(f["cause"], f["hosts"]) for f in data["fleet"]] == [("sshd_restarted", ["web3", "web4", "web5"])]
        assert {"cause", "hosts", "summary", "evidence"} <= set(data["fleet"][0])
    assert "incident" not in _report.build_report(fleet_hosts(), NOW)


def test_healthy_hosts_and_hosts_with_only_advisories_count_as_healthy(report):
    hosts = report["hosts"]
    assert hosts["db1"]["health"] == "healthy"
    assert (hosts["web5"]["health"], hosts["web5"]["advisories"]) == ("healthy_with_advisories", ["sshd_restarted", "idle_timeout"])
    assert hosts["web3"]["health"] == "unhealthy"
    assert report["counts"]["healthy"] == 3 and report["counts"]["healthy_with_advisories"] == 2
    row = _report.top_row("web5", hosts["web5"])
    assert row == ("web5", "-", "ok", "healthy (advisories: sshd_restarted, idle_timeout)")


def test_the_terminal_output_starts_with_the_incidents_answer(report):
    lines = _report.render_table(report, width=150).splitlines()
    head = " ".join(line.strip() for line in lines[:2])
    assert head == ("INCIDENT: %s at %s ± 5 min; the client printed 'kex_exchange_identification: banner line 0: "
                    "Exceeded MaxStartups' (exceeded_maxstartups, died during banner)" % (VICTIM, iso(AT).replace("+00:00", "Z")))
    lines = lines[1:]  # the head wraps onto a second line at this width
    assert lines[1].split() == ["HOST", "VERDICT", "CONFIDENCE", "FIX"]
    assert lines[2].split()[:2] == ["web3", "maxstartups_throttling"]
    assert "Raise MaxStartups" in lines[2]
    assert lines[3].split()[:3] == ["db1", "nothing", "fits"]
    table = lines.index(next(line for line in lines if line.startswith("HOST  ") and "TOP CAUSE" in line))
    assert table > 5
    assert any(line.startswith("  web3: evidence: maxstartups_drop of %s" % VICTIM) for line in lines[:table])
    assert all(len(line) <= 150 for line in lines)


def test_markdown_carries_the_verdicts_table(report):
    text = _report.render_markdown(report)
    assert "## The incident" in text
    assert "| Host | Verdict | Confidence | Why | Fix | Ruled out |" in text
    row = [line for line in text.splitlines() if line.startswith("| web3 | maxstartups\\_throttling |")][0]
    assert "tcp\\_wrappers\\_denied: it spares %s" % VICTIM in row
    assert text.index("## The incident") < text.index("| Host | Reachable |")


def test_html_shows_the_incident_first_and_a_timeline(report):
    page_text = _report.render_html(report)
    page = parse(page_text)
    assert_self_contained(page)
    assert page_text.index('id="incident"') < page_text.index('id="timeline"') < page_text.index('id="overview"')
    verdicts = [t for t in page.tables if t["class"] == "verdicts"][0]["rows"]
    assert verdicts[1][:2] == ["web3", "maxstartups_throttling"]
    assert ("svg", "id", "timeline-incident") in page.attrs and ("svg", "id", "timeline-whole") in page.attrs
    marks = [v for t, k, v in page.attrs if k == "data-kind"]
    assert {"maxstartups", "restart"} <= set(marks)
    assert ("rect", "class", "window") in page.attrs and ("line", "class", "incident") in page.attrs
    assert ("g", "class", "row fleet-strip") in page.attrs
    assert ("rect", "class", "fleet-ev ev-restart") in page.attrs
    overview = dict((r[0], r[1:]) for r in [t for t in page.tables if t["class"] == "overview"][0]["rows"][1:])
    assert overview["db1"][-1] == "healthy" and overview["web5"][-1] == "healthy (advisories: sshd_restarted, idle_timeout)"


def test_marks_on_the_timeline_stand_where_their_time_is(report):
    svg = _report.timeline_svg(report, ["web3", "web4"], AT - 600, AT + 1200, "t")
    page = parse(svg)
    xs = {}
    current = {}
    for tag, name, value in page.attrs:
        current[name] = value
        if name in ("cx", "x") and current.get("data-epoch"):
            xs.setdefault(int(current["data-epoch"]), float(value))
            current = {}
    epochs = sorted(xs)
    assert [xs[e] for e in epochs] == sorted(xs[e] for e in epochs)
    assert _report.TIMELINE_LABEL <= min(xs.values()) and max(xs.values()) <= _report.TIMELINE_WIDTH


def test_without_a_client_the_hosts_own_connection_address_is_the_client():
    hosts = fleet_hosts()
    hosts["web3"]["clients_used"] = [VICTIM]
    inc = _incident.parse_inputs(at=iso(AT), window=5, now=NOW)
    report = _report.build_report(hosts, NOW, incident=inc)
    assert report["incident"]["client"] == []
    assert report["incident"]["hosts"]["web3"]["client"] == [VICTIM]
    assert report["incident"]["hosts"]["web3"]["verdict"]["cause"] == "maxstartups_throttling"
