# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report: its JSON contract and its three renderings.

The HTML is checked here for structure (parsed, not rendered); tests/integration/
test_report_html.py renders it in Chromium and checks what a person sees.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from html.parser import HTMLParser

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _report
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__rules import (
    NOW, fw_rule, healthy, healthy_sshd, journal, probe)

HOSTS = {
    "web1": {"evidence": healthy(firewall={"rules": [fw_rule("-A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset", "REJECT",
                                                             tcp_reset=True)], "conntrack": {"tcp_timeout_established": 432000}}),
             "probe": probe("refused")},
    "web2": {"evidence": healthy(journal=journal(("maxstartups_drop", 9))), "probe": probe("banner", banner="SSH-2.0-OpenSSH_9.2p1")},
    "db1": {"evidence": healthy(), "probe": probe("banner", banner="SSH-2.0-OpenSSH_9.2p1")},
    "gone": {"status": "unreachable", "message": "Failed to connect to the host via ssh: Connection timed out",
             "probe": probe("timeout", stage="connect")},
    "odd": {"status": "evidence_failed", "message": "MODULE FAILURE: /usr/bin/python3: not found", "probe": probe("banner")},
}


@pytest.fixture
def report():
    return _report.build_report(HOSTS, NOW, generator="sshdoctor.connreset 0.1.0")


def test_report_json_is_the_documented_contract(report):
    data = json.loads(_report.render_json(report))
    assert data["version"] == _report.REPORT_VERSION == 2
    assert data["generated_at"] == "2026-11-18T11:06:40Z"
    assert set(data["hosts"]) == set(HOSTS)
    for entry in data["hosts"].values():
        assert {"reachable", "probe", "findings"} <= set(entry)
        assert isinstance(entry["reachable"], bool)
    assert data["hosts"]["web1"]["findings"][0]["cause"] == "firewall_reject"
    assert data["hosts"]["web1"]["probe"]["outcome"] == "refused"
    assert data["hosts"]["gone"]["reachable"] is False
    assert data["hosts"]["gone"]["findings"][0]["cause"] == "host_unreachable"
    assert data["hosts"]["db1"]["findings"] == []
    assert data["hosts"]["db1"]["summary"] == "No cause of connection resets found in the evidence."
    assert data["summary"] == {"firewall_reject": ["web1"], "host_unreachable": ["gone"], "maxstartups_throttling": ["web2"]}
    assert data["counts"]["unreachable"] == 1
    assert data["counts"]["nothing_found"] == 1


def test_a_host_whose_evidence_failed_says_so(report):
    entry = report["hosts"]["odd"]
    assert entry["status"] == "evidence_failed"
    assert entry["reachable"] is True
    assert entry["findings"] == []
    assert entry["summary"].startswith("No diagnosis: the evidence module failed")
    assert entry["notes"][0] == "the evidence module failed: MODULE FAILURE: /usr/bin/python3: not found"


def test_the_terminal_table_puts_the_worst_first():
    report = _report.build_report(HOSTS, NOW)
    lines = _report.render_table(report, width=140).splitlines()
    assert lines[0].split() == ["HOST", "TOP", "CAUSE", "SEVERITY", "FIX"]
    rows = [line.split()[:3] for line in lines[1:6]]
    assert rows == [["gone", "host_unreachable", "critical"], ["web1", "firewall_reject", "critical"],
                    ["web2", "maxstartups_throttling", "warning"], ["odd", "-", "evidence_failed"], ["db1", "-", "ok"]]
    assert "iptables -D INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset" in lines[2]
    assert "No diagnosis: the evidence module failed" in lines[4]
    assert lines[5].split()[3:] == ["healthy"]
    assert all(len(line) <= 140 for line in lines)
    assert lines[-1] == "5 host(s): 2 critical, 1 warning, 1 healthy, 1 not diagnosed"


def test_markdown_has_the_overview_and_a_section_per_host(report):
    text = _report.render_markdown(report)
    assert "| Host | Reachable | Probe | Top cause | Severity | Fix |" in text
    assert "| web1 | yes | refused | firewall\\_reject | critical | Delete the rule: iptables -D INPUT" in text
    for name in HOSTS:
        assert "\n## %s\n" % name in text
    assert "```\nDelete the rule:" in text


def test_markdown_escapes_what_would_break_a_table():
    hosts = {"a|b": {"evidence": healthy(sshd=healthy_sshd(config_valid=False, config_errors=[
        {"file": "/etc/ssh/x.conf", "line": 1, "message": "Bad option `x` | <script>"}]))}}
    text = _report.render_markdown(_report.build_report(hosts, NOW))
    assert "| a\\|b |" in text
    assert "<script>" not in text.replace("```", "").split("Fix:", maxsplit=1)[0]
    assert "\\<script\\>" in text


class Page(HTMLParser):
    """A page as lists: tags, (tag, attribute, value), text pieces, the title, and tables as rows of cell texts."""

    def __init__(self):
        HTMLParser.__init__(self)
        self.tags = []
        self.attrs = []
        self.text = []
        self.title = ""
        self.tables = []
        self._cell = None
        self._row = None
        self._in_title = False
        self._svg = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, k, v) for k, v in attrs)
        if tag == "table":
            self.tables.append({"class": dict(attrs).get("class"), "rows": []})
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "title" and not self._svg:  # an SVG's <title> is a tooltip, not the page's title
            self._in_title = True
        if tag == "svg":
            self._svg += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            self.tables[-1]["rows"].append(self._row)
            self._row = None
        elif tag == "title":
            self._in_title = False
        elif tag == "svg" and self._svg:
            self._svg -= 1

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._in_title:
            self.title += data


def parse(page):
    parser = Page()
    parser.feed(page)
    return parser


def assert_self_contained(page):
    """No element that loads anything, no handler, only in-page links, and a CSP that forbids the rest."""
    assert not set(page.tags) & {"script", "link", "img", "iframe", "object", "embed", "audio", "video", "source"}
    for tag, name, value in page.attrs:
        assert name not in ("src", "srcset", "action", "background") and not name.startswith("on"), (tag, name, value)
        if name == "href":
            assert value.startswith("#"), value
    assert ("meta", "http-equiv", "Content-Security-Policy") in page.attrs


def test_html_is_self_contained(report):
    page = parse(_report.render_html(report))
    assert_self_contained(page)
    assert page.tags.count("section") == len(HOSTS)


def test_html_escapes_hostile_evidence():
    hosts = {"<b>evil</b>": {"evidence": healthy(journal=journal(("kex_no_match", 1)))}}
    hosts["<b>evil</b>"]["evidence"]["journal"]["signatures"]["kex_no_match"]["samples"] = [
        "Unable to negotiate with <script>alert(1)</script> port 1: no matching key exchange method found"]
    page_text = _report.render_html(_report.build_report(hosts, NOW))
    page = parse(page_text)
    assert "script" not in page.tags and "b" not in page.tags
    text = "".join(page.text)
    assert "<b>evil</b>" in text
    assert "<script>alert(1)</script>" in text


def test_html_overview_rows_link_to_host_sections(report):
    page = parse(_report.render_html(report))
    links = [v[1:] for t, k, v in page.attrs if t == "a" and k == "href" and v.startswith("#host-")]
    ids = [v for t, k, v in page.attrs if t == "section" and k == "id"]
    assert set(links) == set(ids) and len(ids) == len(HOSTS)


def test_facts_summarise_the_evidence():
    facts = dict(_report.host_facts(healthy(), probe("banner", banner="SSH-2.0-OpenSSH_9.2p1", connect_ms={"min": 1, "avg": 2, "max": 3})))
    assert facts["sshd"] == "OpenSSH 9.2p1, unit ssh: active/running"
    assert facts["Keepalive"] == "ClientAliveInterval 60, ClientAliveCountMax 3, TCPKeepAlive yes"
    assert facts["Firewall"] == "0 rule(s) touch SSH; conntrack established timeout 432000 s"
    assert facts["Probe 192.0.2.10:22"] == "banner 3/3; connect 2.0 ms avg (1.0..3.0)"


def test_a_host_with_nothing_recorded_is_not_run():
    report = _report.build_report({"later": {"status": "not_run"}}, NOW)
    entry = report["hosts"]["later"]
    assert entry["status"] == "not_run" and entry["findings"] == []
    assert entry["summary"].startswith("Not diagnosed")


@pytest.mark.parametrize("section, expected", [
    ({"availability": "no_journal", "source": None, "lines_read": 0, "signatures": {}},
     "no sshd log at all: no journal entries, no auth.log or secure"),
    ({"availability": "journal_without_sshd_lines", "source": "journald", "lines_read": 0, "signatures": {},
      "coverage": [{"source": "journald", "from": "2026-11-25T08:00:00+00:00", "to": "2026-11-25T09:00:00+00:00", "lines": 0}],
      "period": {"requested_from": "2026-11-25T08:00:00+00:00", "complete": True}},
     "journald, 0 sshd lines read since 2026-11-25T08:00:00+00:00 (a journal without sshd lines in the window); no known signature"),
    ({"availability": "ok", "source": "journald", "lines_read": 3, "signatures": {"kex_no_match": {"count": 1}},
      "coverage": [{"source": "/var/log/auth.log.1", "lines": 1}, {"source": "journald", "lines": 2}],
      "period": {"requested_from": "2026-11-25T08:00:00+00:00", "complete": True}},
     "/var/log/auth.log.1 + journald, 3 sshd lines read since 2026-11-25T08:00:00+00:00; kex_no_match x1"),
    ({"availability": "unreadable", "source": "journald", "lines_read": 0, "signatures": {}},
     "journald: not readable (permissions; run with become)"),
])
def test_facts_tell_no_journal_from_a_journal_without_sshd_lines(section, expected):
    assert dict(_report.host_facts(healthy(journal=dict(section, notes=[])), None))["Journal"] == expected


def test_facts_say_when_the_journal_read_was_incomplete():
    section = {"availability": "ok", "source": "journald", "lines_read": 3, "signatures": {}, "notes": [],
               "period": {"from": "2026-11-25T07:00:00+00:00", "complete": False, "stopped_by": "time_budget",
                          "not_covered": [["2026-11-24T00:00:00+00:00", "2026-11-25T07:00:00+00:00"]]}}
    facts = dict(_report.host_facts(healthy(journal=section), None))
    assert facts["Journal coverage"] == ("incomplete (time_budget): read from 2026-11-25T07:00:00+00:00; "
                                         "not read: 2026-11-24T00:00:00+00:00 .. 2026-11-25T07:00:00+00:00")
