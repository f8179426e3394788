# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 17's cases, one row each: what used to raise (or take quadratic time) and what it gives now.

The inputs are the issue's own (hostile by construction: no real host prints a
5,000-digit boot time). Cases in files other helpers own are the suite's expected
failures (test_fuzz_parsers.py); these are the ones in this helper's files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils import (
    _firewall, _host_health, _journal, _junit, _oom, _probe, _report, _rules, _sshd, _sshd_config, _sshd_placement, _systemd,
    _tcp_wrappers, _untrusted)
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import read_fixture

HUGE = "9" * 5000
DEEP_LIST = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


@pytest.mark.parametrize("function, text, expected", [
    # Unicode digits pass str.isdigit() and then fail int()
    (_sshd.split_host_port, u"0.0.0.0:\u00b2", None),
    (_sshd.parse_ps, u"\u00b2 1 /usr/sbin/sshd -D\n1 \u00b2 sshd: [accepted]\n", []),
    (_sshd.parse_proc_stat_ppid, u"1 (sshd) S \u00b2 1", None),
    (_sshd.parse_socket_listen, u"0.0.0.0:\u00b2 (Stream) \u00b2 (Stream) [::]:22 (Stream)", [22]),
    # numbers over 4,300 digits
    (_sshd.split_host_port, "0.0.0.0:" + HUGE, None),
    (_sshd.parse_listener_title, "sshd: /usr/sbin/sshd -D [listener] %s of 10-100 startups" % HUGE, None),
    (_sshd.parse_ss_listeners, 'LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=%s,fd=3))' % HUGE,
     [{"address": "0.0.0.0", "port": 22, "process": "sshd", "pid": None}]),
    (_host_health.parse_btime, "btime %s\n" % HUGE, None),
    (_host_health.parse_cpu_list, "0-" + HUGE, None),
    (_sshd_config.parse_time, HUGE + "s", None),
    (_sshd_config.parse_max_startups, HUGE + ":30:100", None),
    (_sshd_placement.parse_max_startups, HUGE, None),
    (_oom.parse_btime, "btime %s\n" % HUGE, None),
    # a kernel stamp past 1e300 s is infinity as a float: no time, no monotonic seconds (JSON has no Infinity)
    (lambda line: _oom.split_stamp(line, boot_time=1764669600), "[%s.0] x" % ("9" * 400), (None, None, "x")),
    # sshd -T's port as no sshd prints it: sshd's default port, not a ValueError
    (_sshd_placement.verify_endpoint, {"port": ["x"]}, {"address": "127.0.0.1", "port": 22}),
    (_sshd_placement.verify_endpoint, {"listenaddress": ["0.0.0.0:" + HUGE], "port": ["22"]}, {"address": "127.0.0.1", "port": 22}),
    (_sshd_config.parse_int, HUGE, None),
    (_systemd.to_int, HUGE, None),
    (_systemd.to_int, u"\u0661", None),
    # JSON nested about 1,000 deep
    (_host_health.parse_list_boots, DEEP_LIST, []),
    (_journal.parse_list_boots, DEEP_LIST, []),
    (_journal.parse_unit_events, '{"MESSAGE": %s}' % DEEP_LIST, ([], 0)),
    (_probe.parse_mtr_json, DEEP_OBJECT, None),
    # values no tool prints
    (_host_health.parse_uptime, "nan 1.0", None),
    (_host_health.parse_uptime, "1e999 1.0", None),
])
def test_host_text_that_used_to_raise(function, text, expected):
    assert function(text) == expected


def test_sshd_t_with_a_5000_digit_line_number_is_a_message():
    text = "/etc/ssh/sshd_config line %s: Bad configuration option: x" % HUGE
    assert _sshd_config.parse_sshd_t(text, 255) == {"errors": [], "warnings": [], "messages": [text]}


def test_nft_json_nested_1000_deep_is_an_error_not_a_traceback():
    rule = '{"nftables": [{"rule": {"family": "inet", "table": "t", "chain": "c", "expr": %s}}]}'
    # which of the two refusals depends on how much C stack json.loads gets on this interpreter
    assert _firewall.parse_nft_json(rule % DEEP_LIST)["error"] in (
        "output of nft -j is nested too deep to read", "output of nft -j is nested deeper than 64 levels")
    # json.loads reads 100 levels, the recursive walk of the rules would then break
    assert _firewall.parse_nft_json(rule % ("[" * 100 + "]" * 100))["error"] == "output of nft -j is nested deeper than 64 levels"
    assert _firewall.parse_nft_json('{"nftables": [')["error"] == "output of nft -j is not JSON"


def test_merge_filesystems_when_df_i_has_no_inodes_header():
    """issue 17: KeyError 'inodes'. A df -i whose header lacks "Inodes" is read as space figures."""
    space = _host_health.parse_df(read_fixture("debian12/df_P_k.txt"))
    header_without_inodes = read_fixture("debian12/df_P_i.txt").replace("Inodes", "Blocks", 1)
    merged = _host_health.merge_filesystems(space, _host_health.parse_df(header_without_inodes))
    assert merged and all(entry["inodes"] is None for entry in merged)


@pytest.mark.parametrize("mask", [u"\u00b2", u"2\u00b2", HUGE, "+24", " 24"])
def test_hosts_deny_masks_that_are_not_ascii_numbers_never_match(mask):
    rules = _tcp_wrappers.parse_hosts_file("sshd: 10.0.0.0/%s\nsshd: [::]/%s\n" % (mask, mask), "/etc/hosts.deny")["rules"]
    for client in ("10.0.0.1", "::1"):
        assert _tcp_wrappers.evaluate(client, [], rules)["allowed"] is True


def test_dotted_masks_read_as_inet_addr_does():
    assert _tcp_wrappers.dot_quad(u"\u0661.2.3.4") is None
    assert _tcp_wrappers.dot_quad("0x0a.0.0.010") == (10 << 24) | 8


def test_report_survives_the_issues_shapes():
    """Each host below once aborted the whole fleet's report; now each costs only itself."""
    deep = {}
    node = deep
    for dummy in range(1000):
        node["a"] = {}
        node = node["a"]
    honest = json.loads(read_fixture("debian12/ssh_evidence_result_planted.json"))["evidence"]
    hosts = {
        "honest": {"evidence": honest},
        "wrong-probe": {"evidence": honest, "probe": {"outcome": "banner", "outcomes": [{}]}},
        "notes-float": {"evidence": {"firewall": {"notes": 1.5}}},
        "deep": {"evidence": {"journal": deep}},
        "surrogate": {"evidence": dict(honest, sshd=dict(honest["sshd"], unit=u"ssh\ud800\x1b[2J"))},
    }
    report = _report.build_report(hosts, 1764669600)
    assert [f["cause"] for f in report["hosts"]["honest"]["findings"]][:2] == ["firewall_reject", "tcp_wrappers_denied"]
    assert report["hosts"]["honest"]["evidence_error"] is None
    for name in ("wrong-probe", "notes-float", "deep", "surrogate"):
        assert report["hosts"][name]["status"] in ("diagnosed", "evidence_failed")
    assert report["hosts"]["wrong-probe"]["evidence_error"].startswith("probe rejected by the controller: probe.outcomes")
    assert report["hosts"]["wrong-probe"]["findings"] == report["hosts"]["honest"]["findings"]
    assert "firewall: evidence rejected" in report["hosts"]["notes-float"]["evidence_error"]
    assert "nested deeper than 24 levels" in report["hosts"]["deep"]["evidence_error"]
    assert any(u"unit ssh\ufffd\\x1b[2J:" in value for label, value in report["hosts"]["surrogate"]["facts"])
    for render in (_report.render_json, _report.render_markdown, _report.render_html, _report.render_table, _junit.render_junit):
        render(report).encode("utf-8")


def test_junit_escapes_what_the_other_outputs_escape():
    """A bidirectional override or a C1 CSI is legal XML, and reorders or drives the CI page or terminal that shows it:
    the JUnit file escapes them as the Markdown, HTML and table outputs do (it used to pass them through)."""
    name = u"web1\u202e\x9b2J"
    report = _report.build_report({name: {"evidence": {"sshd": {"unit": u"ssh\u2066x\x1b[2J"}}}}, 1764669600)
    junit = _junit.render_junit(report, "warning")
    assert u"\u202e" not in junit and u"\x9b" not in junit and u"\u2066" not in junit and u"\x1b" not in junit
    assert 'name="web1\\u202e\\x9b2J"' in junit
    for render in (_report.render_markdown, _report.render_html, _report.render_table):
        assert u"\u202e" not in render(report) and u"\x9b" not in render(report)


def test_diagnose_on_the_issues_shape_no_longer_raises():
    """issue 17: diagnose({'firewall': {'notes': 1.5}}) raised outside the per-rule guard."""
    result = _rules.diagnose({"firewall": {"notes": 1.5}})
    assert result["findings"] == []
    assert _untrusted.check_evidence({"firewall": {"notes": 1.5}})["rejected"][0][0] == "firewall"


def test_journal_times_no_clock_shows_are_no_time():
    # found by ./dev fuzz: a 38-digit first_entry made time.gmtime raise OverflowError
    boots = _journal.parse_list_boots('[{"index": 0, "boot_id": "%s", "first_entry": %s, "last_entry": 1795595144222182}]'
                                      % ("a" * 32, "9" * 38))
    assert [(b["first_entry"], b["first_entry_usec"], b["last_entry"]) for b in boots] == [
        (None, None, "2026-11-25T08:25:44.222182+00:00")]
    events, matched = _journal.parse_unit_events(
        '{"MESSAGE": "Stopped ssh.service - OpenBSD Secure Shell server.", "__REALTIME_TIMESTAMP": "%s"}' % ("9" * 30))
    assert matched == 1 and events[0]["time"] is None
