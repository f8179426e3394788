# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every rule on the smallest evidence that should make it fire, and on evidence that should not.

The evidence dicts follow the contract in the modules' RETURN (ssh_evidence ->
sshd_info, sshd_journal_info, oom_events_info, firewall_info, tcp_wrappers_info,
host_health_info); each case holds only the keys the rule reads.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _rules
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _signatures

NOW = 1795000000.0  # 2026-11-17T...; every timestamp below is relative to it


def iso(seconds_ago):
    import datetime

    return datetime.datetime.fromtimestamp(NOW - seconds_ago, datetime.timezone.utc).isoformat()


def healthy_sshd(**overrides):
    sshd = {
        "installed": True,
        "version": "9.2p1",
        "version_info": [9, 2],
        "unit": "ssh",
        "socket_activated": False,
        "service": {"active_state": "active", "sub_state": "running", "result": "success", "n_restarts": 0,
                    "source": "systemd"},
        "config_valid": True,
        "config_errors": [],
        "settings": {"client_alive_interval": 60, "client_alive_count_max": 3,
                     "max_startups": {"start": 10, "rate": 30, "full": 100}, "tcp_keep_alive": True,
                     "per_source_penalties": None, "port": [22]},
        "provenance": {},
        "listeners": [{"address": "0.0.0.0", "port": 22}],
        "preauth_processes": 0,
        "notes": [],
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(sshd.get(key), dict):
            sshd[key] = dict(sshd[key], **value)
        else:
            sshd[key] = value
    return sshd


def healthy(**sections):
    """A host on which nothing is wrong; ``sections`` replace or extend parts of it."""
    evidence = {
        "sshd": healthy_sshd(),
        "journal": {"source": "journald", "signatures": {}, "boots": [], "unit_events": [], "notes": []},
        "oom": {"source": "journald", "events": [], "sshd_victims": 0, "notes": []},
        "firewall": {"rules": [], "policies": [], "conntrack": {"tcp_timeout_established": 432000}, "notes": []},
        "bans": {"tools": {}, "banned": [], "banned_total": 0, "clients": {}, "notes": []},
        "tcp_wrappers": {"applies": True, "decisions": [], "notes": []},
        "host_health": {"uptime_seconds": 30 * 86400,
                        "memory": {"total_kb": 4000000, "available_kb": 3000000, "swap_total_kb": 0, "swap_free_kb": 0},
                        "load": {"1": 0.2, "5": 0.2, "15": 0.2, "cpus": 2}, "pressure": {}, "filesystems": [],
                        "processes": {"count": 100, "pid_max": 4194304}, "sshd_tasks": {"current": 1, "max": 4915},
                        "notes": []},
    }
    for name, value in sections.items():
        evidence[name] = value
    return evidence


def journal(*hits, **extra):
    """A journal section with ``(signature_id, count)`` hits; the cause comes from the catalogue."""
    signatures = {}
    for sig_id, count in hits:
        signatures[sig_id] = {"cause": _signatures.cause_of(sig_id), "count": count, "first_seen": iso(600),
                              "last_seen": iso(60), "samples": ["sample line for %s" % sig_id]}
    section = {"source": "journald", "signatures": signatures, "boots": [], "unit_events": [], "notes": []}
    section.update(extra)
    return section


def probe(outcome, n=3, **extra):
    result = {"host": "web1", "port": 22, "address": "192.0.2.10", "outcome": outcome, "outcomes": {outcome: n},
              "samples_total": n, "messages": [], "sshd_messages": [], "errors": [], "banner": None}
    result.update(extra)
    return result


def fw_rule(text, verdict, **extra):
    rule = {"source": "iptables", "family": "ipv4", "table": "filter", "chain": "INPUT", "text": text, "verdict": verdict,
            "reject_with": None, "tcp_reset": False, "rate_limit": [], "fail2ban": False, "affects_ssh": True}
    rule.update(extra)
    return rule


def causes(result):
    return [f["cause"] for f in result["findings"]]


def top(result):
    return result["findings"][0] if result["findings"] else None


def diagnose(evidence=None, probe_result=None, reachable=True, unreachable_msg=None):
    return _rules.diagnose(evidence, probe_result, reachable=reachable, unreachable_msg=unreachable_msg, now=NOW)


# --- the contract itself ---------------------------------------------------------------


def test_rules_cover_exactly_the_fixed_cause_ids():
    assert set(_rules.RULES) == set(_rules.CAUSES) == set(_signatures.CAUSES)
    assert len(_rules.CAUSES) == 14


def test_signature_ids_named_by_the_rules_exist_in_the_catalogue():
    named = set(_rules.BACKGROUND_SIGNATURES) | set(_rules.POSTAUTH_RESET_SIGNATURES) | set(_rules.FATAL_CONFIG_SIGNATURES)
    assert named - set(_signatures.BY_ID) == set()


def test_a_healthy_host_says_nothing_was_found():
    result = diagnose(healthy(), probe("banner", banner="SSH-2.0-OpenSSH_9.2p1"))
    assert result["findings"] == []
    assert result["summary"] == _rules.NOTHING_FOUND
    assert result["notes"] == []


def test_every_finding_has_the_documented_shape():
    evidence = healthy(sshd=healthy_sshd(service={"active_state": "failed"}, config_valid=False,
                                         config_errors=[{"file": "/etc/ssh/sshd_config.d/50-x.conf", "line": 1,
                                                         "message": "Bad configuration option: Nope"}],
                                         settings={"client_alive_interval": 0}),
                       journal=journal(("maxstartups_drop", 3), ("penalty_drop", 2), ("kex_no_match", 1),
                                       ("corrupted_mac", 1), ("wrapper_refused", 1)))
    result = diagnose(evidence, probe("refused"))
    assert len(result["findings"]) >= 7
    for item in result["findings"]:
        assert set(item) == {"cause", "severity", "confidence", "summary", "evidence", "fix", "automated_fix"}
        assert item["cause"] in _rules.CAUSES
        assert item["severity"] in _rules.SEVERITIES
        assert 0 <= item["confidence"] <= 1
        assert item["summary"] and "\n" not in item["summary"]
        assert item["evidence"] and all(isinstance(line, str) and ": " in line for line in item["evidence"])
        assert item["fix"]
        assert item["automated_fix"] is None or set(item["automated_fix"]) == {"role", "vars"}
    json.dumps(result)  # the report writes it as JSON


def test_findings_are_sorted_by_severity_then_confidence():
    findings = [
        _rules.finding("host_rebooted", "info", 0.9, "s", ["a: b"], "f"),
        _rules.finding("idle_timeout", "warning", 0.5, "s", ["a: b"], "f"),
        _rules.finding("oom_kill", "warning", 0.9, "s", ["a: b"], "f"),
        _rules.finding("sshd_restarted", "critical", 0.3, "s", ["a: b"], "f"),
    ]
    assert [f["cause"] for f in _rules.sort_findings(findings)] == ["sshd_restarted", "oom_kill", "idle_timeout", "host_rebooted"]


def test_ties_break_in_cause_order_so_reports_are_stable():
    findings = [_rules.finding("packet_corruption", "warning", 0.6, "s", ["a: b"], "f"),
                _rules.finding("protocol_mismatch", "warning", 0.6, "s", ["a: b"], "f")]
    assert [f["cause"] for f in _rules.sort_findings(findings)] == ["protocol_mismatch", "packet_corruption"]


def test_a_diagnosis_of_planted_faults_is_ranked_as_a_person_would():
    # An invalid drop-in that already kept sshd from starting: the config is the root cause,
    # the stopped service its consequence; keepalives off is a footnote.
    evidence = healthy(sshd=healthy_sshd(service={"active_state": "failed", "result": "exit-code"}, config_valid=False,
                                         config_errors=[{"file": "/etc/ssh/sshd_config.d/50-x.conf", "line": 1,
                                                         "message": "Bad configuration option: Nope"}],
                                         settings={"client_alive_interval": 0}))
    assert causes(diagnose(evidence, probe("refused"))) == ["sshd_config_invalid", "sshd_not_running", "idle_timeout"]


# --- one test per rule -----------------------------------------------------------------

CASES = [
    # (case id, evidence, probe, expected cause, severity)
    ("sshd stopped", healthy(sshd=healthy_sshd(service={"active_state": "inactive", "sub_state": "dead"}, listeners=[])),
     probe("refused"), "sshd_not_running", "critical"),
    ("sshd failed, process table only", healthy(sshd=healthy_sshd(service={"active_state": "inactive", "source": "process_table"})),
     None, "sshd_not_running", "critical"),
    ("socket unit failed", healthy(sshd=healthy_sshd(socket_activated=True, service={"active_state": "inactive"},
                                                     socket={"unit_id": "ssh.socket", "active_state": "failed"})),
     probe("refused"), "sshd_not_running", "critical"),
    ("socket activated, nothing listens", healthy(sshd=healthy_sshd(socket_activated=True, service={"active_state": "inactive"},
                                                                    listeners=[])),
     probe("refused"), "sshd_not_running", "critical"),
    ("sshd not installed", healthy(sshd={"installed": False, "notes": []}), probe("refused"), "sshd_not_running", "info"),
    ("invalid drop-in", healthy(sshd=healthy_sshd(config_valid=False, config_errors=[
        {"file": "/etc/ssh/sshd_config.d/50-broken.conf", "line": 1, "message": "Bad configuration option: NoSuchOption"}])),
     probe("banner"), "sshd_config_invalid", "critical"),
    ("config failed earlier", healthy(journal=journal(("config_bad_option", 2), ("config_terminating", 1))),
     None, "sshd_config_invalid", "info"),
    ("REJECT tcp-reset", healthy(firewall={"rules": [fw_rule("-A INPUT -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset",
                                                             "REJECT", reject_with="tcp-reset", tcp_reset=True)],
                                           "conntrack": {"tcp_timeout_established": 432000}}),
     probe("refused"), "firewall_reject", "critical"),
    ("DROP", healthy(firewall={"rules": [fw_rule("-A INPUT -p tcp --dport 22 -j DROP", "DROP")]}),
     probe("timeout"), "firewall_reject", "critical"),
    ("rate limit", healthy(firewall={"rules": [fw_rule("-A INPUT -p tcp --dport 22 -m recent --update --seconds 60 --hitcount 4 -j DROP",
                                                       "DROP", rate_limit=["recent"])]}),
     None, "firewall_reject", "warning"),
    ("fail2ban", healthy(firewall={"rules": [fw_rule("-A f2b-sshd -s 198.51.100.7/32 -j REJECT --reject-with icmp-port-unreachable",
                                                     "REJECT", chain="f2b-sshd", fail2ban=True)]}),
     None, "firewall_reject", "warning"),
    ("sessions reset from afar", healthy(journal=journal(("connection_reset", 4))), None, "firewall_reject", "info"),
    ("hosts.deny", healthy(tcp_wrappers={"applies": True, "decisions": [
        {"client": "10.88.0.1", "allowed": False, "file": "/etc/hosts.deny", "line": 1, "rule": "sshd: ALL"}], "notes": []}),
     probe("closed_before_banner"), "tcp_wrappers_denied", "critical"),
    ("hosts.deny ALL, no client evaluated", healthy(tcp_wrappers={"applies": True, "decisions": [], "notes": [], "files": {
        "/etc/hosts.allow": {"rules": []},
        "/etc/hosts.deny": {"rules": [{"line": 20, "text": "sshd: ALL", "daemons": "sshd", "clients": "ALL", "options": None,
                                       "applies_to_sshd": True}]}}}),
     None, "tcp_wrappers_denied", "critical"),
    ("wrapper refusals in the journal", healthy(journal=journal(("wrapper_refused", 5))), None, "tcp_wrappers_denied", "critical"),
    ("unreachable, no answer", None, probe("timeout", stage="connect"), "host_unreachable", "critical"),
    ("unreachable, no route", None, probe("no_route", stage="connect"), "host_unreachable", "critical"),
    ("unreachable, port refused", None, probe("refused"), "sshd_not_running", "critical"),
    ("unreachable, closed without a banner", None, probe("closed_before_banner"), "tcp_wrappers_denied", "critical"),
    ("unreachable, not allowed at this time", None,
     probe("closed_with_message", messages=["Not allowed at this time"], sshd_messages=["maxstartups_or_penalty"]),
     "source_penalty", "critical"),
    ("maxstartups drops", healthy(journal=journal(("maxstartups_drop", 12), ("maxstartups_throttling_begin", 1))),
     probe("banner"), "maxstartups_throttling", "warning"),
    ("maxstartups now", healthy(), probe("closed_with_message", messages=["Exceeded MaxStartups"], sshd_messages=["maxstartups"]),
     "maxstartups_throttling", "critical"),
    ("preauth slots full", healthy(sshd=healthy_sshd(preauth_processes=10)), None, "maxstartups_throttling", "warning"),
    ("penalties", healthy(sshd=healthy_sshd(version_info=[10, 0], settings={"per_source_penalties": "crash:90 authfail:5"}),
                          journal=journal(("penalty_drop", 30))),
     None, "source_penalty", "warning"),
    ("sshd OOM-killed", healthy(oom={"source": "journald", "sshd_victims": 1, "events": [
        {"time": iso(100), "pid": 812, "name": "sshd-session", "anon_rss_kb": 1664, "is_sshd": True,
         "cgroup": {"kind": "memcg", "path": "/system.slice/ssh.service"}}]}),
     None, "oom_kill", "warning"),
    ("sshd OOM-killed, maybe another container's", healthy(oom={"source": "dmesg", "in_container": True, "sshd_victims": 1, "events": [
        {"time": iso(100), "pid": 812, "name": "sshd", "is_sshd": True, "in_this_container": None}]}),
     None, "oom_kill", "info"),
    ("unit failed by the OOM killer", healthy(journal=journal(unit_events=[
        {"time": iso(100), "event": "oom_killed", "message": "A process of this unit has been killed by the OOM killer."},
        {"time": iso(100), "event": "failed_result", "result": "oom-kill", "message": "ssh.service: Failed with result 'oom-kill'."}])),
     None, "oom_kill", "critical"),
    ("a process of the unit OOM-killed", healthy(journal=journal(unit_events=[
        {"time": iso(100), "event": "oom_killed", "message": "A process of this unit has been killed by the OOM killer."}])),
     None, "oom_kill", "warning"),
    ("memory exhausted", healthy(host_health={"memory": {"total_kb": 4000000, "available_kb": 100000}}),
     None, "resource_pressure", "warning"),
    ("disk full", healthy(host_health={"filesystems": [{"mount": "/var/log", "size_kb": 1000, "used_kb": 995, "used_pct": 99}]}),
     None, "resource_pressure", "warning"),
    ("conntrack table full", healthy(firewall={"rules": [], "conntrack": {
        "tcp_timeout_established": 432000, "count": 65000, "max": 65536, "usage_pct": 99.2}}),
     None, "resource_pressure", "warning"),
    ("inodes exhausted", healthy(host_health={"filesystems": [{"mount": "/srv", "paths": ["/var/log/journal"], "used_pct": 40,
                                                               "inodes_used_pct": 100}]}),
     None, "resource_pressure", "warning"),
    ("threads near pid_max", healthy(host_health={"processes": {"count": 900, "threads": 32000, "pid_max": 32768,
                                                                "threads_pct_of_pid_max": 97.66}}),
     None, "resource_pressure", "warning"),
    ("sshd unit near MemoryMax", healthy(host_health={"sshd_memory": {"current_bytes": 200 * 1048576, "max_bytes": 201 * 1048576}}),
     None, "resource_pressure", "warning"),
    ("TasksMax reached", healthy(host_health={"sshd_tasks": {"current": 100, "max": 100}}), None, "resource_pressure", "warning"),
    ("short conntrack, no keepalive", healthy(sshd=healthy_sshd(settings={"client_alive_interval": 0}),
                                              firewall={"rules": [], "conntrack": {"tcp_timeout_established": 8}}),
     None, "idle_timeout", "warning"),
    ("keepalive slower than conntrack", healthy(sshd=healthy_sshd(settings={"client_alive_interval": 600}),
                                                firewall={"rules": [], "conntrack": {"tcp_timeout_established": 300}}),
     None, "idle_timeout", "warning"),
    ("INVALID reject, timeout unreadable", healthy(sshd=healthy_sshd(settings={"client_alive_interval": 0}), firewall={"rules": [
        fw_rule("-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate INVALID -j REJECT --reject-with tcp-reset", "REJECT",
                tcp_reset=True)], "conntrack": {"tcp_timeout_established": None}}),
     None, "idle_timeout", "warning"),
    ("keepalive off only", healthy(sshd=healthy_sshd(settings={"client_alive_interval": 0})), None, "idle_timeout", "info"),
    ("client alive timeouts", healthy(journal=journal(("client_alive_timeout", 3))), None, "idle_timeout", "warning"),
    ("listener crashed", healthy(journal=journal(unit_events=[
        {"time": iso(300), "event": "main_process_killed", "message": "ssh.service: Main process exited, code=killed, status=9/KILL"},
        {"time": iso(299), "event": "restart_scheduled", "message": "ssh.service: Scheduled restart job, restart counter is at 1."}])),
     None, "sshd_restarted", "warning"),
    ("admin restart", healthy(journal=journal(unit_events=[{"time": iso(300), "event": "stopped", "message": "Stopped ssh.service"}])),
     None, "sshd_restarted", "info"),
    ("kex mismatch", healthy(journal=journal(("kex_no_match", 2))), None, "protocol_mismatch", "warning"),
    ("corrupted packets", healthy(journal=journal(("corrupted_mac", 1), ("bad_packet_length", 2))), None, "packet_corruption", "warning"),
    ("booted minutes ago", healthy(journal=journal(boots=[{"boot_id": "a" * 32, "first_entry": iso(40 * 86400)},
                                                          {"boot_id": "b" * 32, "first_entry": iso(600)}])),
     None, "host_rebooted", "info"),
    ("wtmp boots only", healthy(journal={"signatures": {}, "notes": []}, host_health={"recent_boots": [
        {"first_entry": iso(90 * 86400)}, {"first_entry": iso(7200)}]}),
     None, "host_rebooted", "info"),
    ("uptime only", healthy(journal={"signatures": {}, "notes": []}, host_health={"uptime_seconds": 1200}),
     None, "host_rebooted", "info"),
]


@pytest.mark.parametrize("evidence, probe_result, cause, severity", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_names_its_cause_first(evidence, probe_result, cause, severity):
    result = diagnose(copy.deepcopy(evidence), probe_result, reachable=evidence is not None, unreachable_msg="timed out")
    assert top(result)["cause"] == cause, result["findings"]
    assert top(result)["severity"] == severity
    assert result["summary"] == top(result)["summary"]


@pytest.mark.parametrize("evidence, probe_result, cause, severity", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_first_line_of_every_fix_stands_alone(evidence, probe_result, cause, severity):
    # The table and the overview show only the first line: it must be a whole instruction.
    for item in diagnose(copy.deepcopy(evidence), probe_result, reachable=evidence is not None)["findings"]:
        first = item["fix"].splitlines()[0].rstrip()
        assert len(first) > 20 and not first.endswith(":"), first


def test_every_cause_has_a_case():
    assert set(c[3] for c in CASES) == set(_rules.CAUSES)


# --- what each rule says -----------------------------------------------------------------


def test_idle_timeout_fix_fits_inside_the_conntrack_timeout():
    evidence = healthy(sshd=healthy_sshd(settings={"client_alive_interval": 0},
                                         provenance={"ClientAliveInterval": {"file": "/etc/ssh/sshd_config", "line": 40, "value": "0"}}),
                       firewall={"rules": [fw_rule("-A INPUT -p tcp -m conntrack --ctstate INVALID -j REJECT --reject-with tcp-reset",
                                                   "REJECT", tcp_reset=True)],
                                 "conntrack": {"tcp_timeout_established": 8}})
    item = top(diagnose(evidence))
    assert item["cause"] == "idle_timeout"
    assert item["confidence"] == 0.9
    assert "8 s" in item["summary"]
    assert "ClientAliveInterval 4\n" in item["fix"]
    assert "/etc/ssh/sshd_config line 40" in item["fix"]
    # Only the keepalive keywords are managed: the role leaves null / [] keywords alone.
    assert item["automated_fix"] == {"role": "sshdoctor.connreset.sshd_hardening", "vars": {
        "sshd_hardening_client_alive_interval": 4, "sshd_hardening_client_alive_count_max": 3,
        "sshd_hardening_max_startups": None, "sshd_hardening_max_sessions": None,
        "sshd_hardening_per_source_penalty_exempt_list": []}}
    assert any("conntrack: net.netfilter.nf_conntrack_tcp_timeout_established = 8 s" == line for line in item["evidence"])


def test_oom_kills_of_other_containers_are_not_this_hosts():
    evidence = healthy(oom={"source": "dmesg", "in_container": True, "sshd_victims": 0, "events": [
        {"time": iso(100), "pid": 812, "name": "sshd-session", "is_sshd": True, "in_this_container": False}]})
    assert "oom_kill" not in causes(diagnose(evidence))


def test_socket_activation_with_an_idle_service_is_fine():
    evidence = healthy(sshd=healthy_sshd(socket_activated=True, service={"active_state": "inactive", "sub_state": "dead"},
                                         socket={"unit_id": "ssh.socket", "active_state": "active"}))
    assert diagnose(evidence, probe("banner"))["findings"] == []


def test_an_invalid_reject_with_a_long_conntrack_timeout_is_only_a_note():
    evidence = healthy(sshd=healthy_sshd(settings={"client_alive_interval": 0}), firewall={"rules": [
        fw_rule("-A INPUT -m conntrack --ctstate INVALID -j DROP", "DROP")], "conntrack": {"tcp_timeout_established": 432000}})
    assert [(f["cause"], f["severity"]) for f in diagnose(evidence)["findings"]] == [("idle_timeout", "info")]


def test_a_reject_of_invalid_packets_is_not_a_firewall_reject():
    # The conntrack INVALID rule only ends flows conntrack has forgotten: that is the idle timeout.
    evidence = healthy(firewall={"rules": [fw_rule("-A INPUT -m conntrack --ctstate INVALID -j REJECT --reject-with tcp-reset",
                                                   "REJECT", tcp_reset=True)], "conntrack": {"tcp_timeout_established": 432000}})
    assert "firewall_reject" not in causes(diagnose(evidence, probe("banner")))


def test_hosts_deny_all_with_an_allow_for_sshd_is_not_a_denial_of_everyone():
    section = {"applies": True, "decisions": [], "notes": [], "files": {
        "/etc/hosts.allow": {"rules": [{"line": 1, "text": "sshd: 10.0.0.0/8", "clients": "10.0.0.0/8", "applies_to_sshd": True}]},
        "/etc/hosts.deny": {"rules": [{"line": 1, "text": "sshd: ALL", "clients": "ALL", "applies_to_sshd": True}]}}}
    assert "tcp_wrappers_denied" not in causes(diagnose(healthy(tcp_wrappers=section)))


def test_hosts_deny_all_except_some_clients_is_not_a_denial_of_everyone():
    section = {"applies": True, "decisions": [], "notes": [], "files": {
        "/etc/hosts.allow": {"rules": []},
        "/etc/hosts.deny": {"rules": [{"line": 3, "text": "sshd: ALL EXCEPT 10.0.0.0/8", "clients": "ALL EXCEPT 10.0.0.0/8",
                                       "applies_to_sshd": True}]}}}
    assert "tcp_wrappers_denied" not in causes(diagnose(healthy(tcp_wrappers=section)))


def test_hosts_deny_all_with_no_client_evaluated_is_a_denial_of_everyone():
    section = {"applies": True, "decisions": [], "notes": [], "files": {
        "/etc/hosts.allow": {"rules": []},
        "/etc/hosts.deny": {"rules": [{"line": 3, "text": "sshd: ALL", "clients": "ALL", "applies_to_sshd": True}]}}}
    finding = top(diagnose(healthy(tcp_wrappers=section)))
    assert finding["cause"] == "tcp_wrappers_denied"
    assert "/etc/hosts.deny line 3: sshd: ALL" in finding["evidence"][0]


def test_a_reject_for_one_source_says_which():
    evidence = healthy(firewall={"rules": [fw_rule("-A INPUT -s 10.89.77.200/32 -p tcp --dport 22 -j REJECT --reject-with tcp-reset",
                                                   "REJECT", tcp_reset=True, src="10.89.77.200/32")]})
    assert "new SSH connections from 10.89.77.200/32" in top(diagnose(evidence))["summary"]


def test_a_reject_after_an_accept_only_warns():
    evidence = healthy(firewall={"rules": [
        fw_rule("-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT", "ACCEPT"),
        fw_rule("-A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset", "REJECT", tcp_reset=True)]})
    item = top(diagnose(evidence))
    assert (item["cause"], item["severity"]) == ("firewall_reject", "warning")


def test_an_established_accept_first_does_not_soften_a_reject():
    evidence = healthy(firewall={"rules": [
        fw_rule("-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", "ACCEPT"),
        fw_rule("-A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset", "REJECT", tcp_reset=True)]})
    assert (top(diagnose(evidence))["cause"], top(diagnose(evidence))["severity"]) == ("firewall_reject", "critical")


def test_firewall_fix_is_the_delete_command_for_the_rule():
    evidence = healthy(firewall={"rules": [fw_rule("-A INPUT -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset",
                                                   "REJECT", tcp_reset=True)]})
    item = top(diagnose(evidence, probe("refused")))
    assert item["fix"].splitlines()[0] == "Delete the rule: iptables -D INPUT -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset"
    assert item["confidence"] == 0.98
    assert "iptables filter/INPUT: -A INPUT -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset" in item["evidence"]


def test_nft_fix_names_the_chain():
    evidence = healthy(firewall={"rules": [fw_rule("tcp dport 22 reject with tcp reset", "REJECT", source="nft", family="inet",
                                                   table="filter", chain="input", tcp_reset=True)]})
    assert "nft -a list chain inet filter input" in top(diagnose(evidence))["fix"]


def test_config_invalid_lists_file_and_line():
    evidence = healthy(sshd=healthy_sshd(config_valid=False, config_errors=[
        {"file": "/etc/ssh/sshd_config.d/50-broken.conf", "line": 3, "message": "Bad configuration option: Nope"}]))
    item = top(diagnose(evidence))
    assert item["evidence"] == ["sshd -t: /etc/ssh/sshd_config.d/50-broken.conf line 3: Bad configuration option: Nope"]
    assert item["fix"] == ("Correct or remove /etc/ssh/sshd_config.d/50-broken.conf line 3: Bad configuration option: Nope, "
                           "then check before any restart: sshd -t && systemctl reload ssh")
    assert "next restart" in item["summary"]
    assert "sshd -t && systemctl reload ssh" in item["fix"]


def test_a_failed_reload_is_not_a_crash_of_sshd():
    # Captured on Debian 11: the reload's sshd -t failed; the listener went on running.
    evidence = healthy(journal=journal(unit_events=[
        {"time": iso(300), "event": "main_process_exited", "message": "ssh.service: Control process exited, code=exited, status=255/EXCEPTION",
         "message_id": "98e322203f7a4ed290d09fe03c09fe15", "exit_code": "exited", "exit_status": "255"}]))
    assert "sshd_restarted" not in causes(diagnose(evidence))


def test_maxstartups_advice_respects_last_value_wins():
    evidence = healthy(sshd=healthy_sshd(settings={"max_startups": {"start": 3, "rate": 50, "full": 6}},
                                         provenance={"MaxStartups": {"file": "/etc/ssh/sshd_config.d/10-ms.conf", "line": 1}}),
                       journal=journal(("maxstartups_drop", 12)))
    item = top(diagnose(evidence))
    assert "MaxStartups 3:50:6" in item["summary"]
    assert "MaxStartups 100:50:200\n" in item["fix"]
    assert "LAST value" in item["fix"] and "/etc/ssh/sshd_config.d/10-ms.conf line 1" in item["fix"]
    assert item["automated_fix"]["vars"]["sshd_hardening_max_startups"] == "100:50:200"
    assert item["automated_fix"]["vars"]["sshd_hardening_client_alive_interval"] is None
    assert item["evidence"][0].startswith("journald: maxstartups_drop x12 (")


def test_not_allowed_with_penalty_lines_is_a_penalty_not_maxstartups():
    evidence = healthy(sshd=healthy_sshd(version_info=[10, 0]), journal=journal(("penalty_drop", 20)))
    result = diagnose(evidence, probe("closed_with_message", messages=["Not allowed at this time"],
                                      sshd_messages=["maxstartups_or_penalty"]))
    assert top(result)["cause"] == "source_penalty"
    assert "maxstartups_throttling" not in causes(result)


def test_not_allowed_without_journal_lines_is_called_a_likely_penalty():
    result = diagnose(healthy(sshd=healthy_sshd(version_info=[10, 0])),
                      probe("closed_with_message", messages=["Not allowed at this time"], sshd_messages=["maxstartups_or_penalty"]))
    assert "source_penalty" in causes(result)


# Lines as the Debian containers logged them (the fault lab's clients at 10.89.77.200).
REAL_SAMPLES = {
    "maxstartups_drop": "2026-11-25T08:14:37.545827+0000 lab-maxstartups sshd[36]: drop connection #4 from "
                        "[10.89.77.200]:39126 on [10.89.77.12]:22 past MaxStartups",
    "maxstartups_throttling_end": "2026-11-25T08:14:50.151361+0000 lab-maxstartups sshd[36]: exited MaxStartups throttling "
                                  "after 00:00:12, 14 connections dropped",
    "penalty_drop": "2026-11-25T08:14:36.828597+00:00 lab-penalty sshd[57]: drop connection #0 from [10.89.77.200]:37238 on "
                    "[10.89.77.13]:22 penalty: connections without attempting authentication",
    "kex_no_match": "2026-11-25T08:15:05.591922+0000 lab-kex-mismatch sshd[97]: Unable to negotiate with 10.89.77.200 port 46948: "
                    "no matching key exchange method found. Their offer: diffie-hellman-group1-sha1,ext-info-c,"
                    "kex-strict-c-v00@openssh.com [preauth]",
    "cipher_no_match": "2026-11-25T08:14:40.121846+0000 lab-kex-mismatch sshd[53]: Unable to negotiate with 10.89.77.200 port 40200: "
                       "no matching cipher found. Their offer: 3des-cbc [preauth]",
}


def real_journal(*hits):
    section = journal(*hits)
    for sig_id, info in section["signatures"].items():
        info["samples"] = [REAL_SAMPLES[sig_id]]
    return section


def test_maxstartups_counts_what_sshd_says_it_dropped_and_names_the_source():
    item = top(diagnose(healthy(journal=real_journal(("maxstartups_drop", 1), ("maxstartups_throttling_end", 1)))))
    assert item["summary"] == "sshd dropped 14 unauthenticated connection(s) from 10.89.77.200 past MaxStartups 10:30:100."


def test_penalty_names_the_address_and_the_reason():
    item = top(diagnose(healthy(journal=real_journal(("penalty_drop", 7)))))
    assert item["summary"] == ("PerSourcePenalties refused 7 connection(s) from 10.89.77.200 "
                               "(connections without attempting authentication).")
    # A private address is most likely the operator's own automation: exempting it can be automated.
    assert "PerSourcePenaltyExemptList 10.89.77.200\n" in item["fix"]
    assert item["automated_fix"]["vars"]["sshd_hardening_per_source_penalty_exempt_list"] == ["10.89.77.200"]


def test_public_penalised_addresses_are_never_exempted_automatically():
    section = real_journal(("penalty_drop", 7))
    section["signatures"]["penalty_drop"]["samples"] = [REAL_SAMPLES["penalty_drop"].replace("10.89.77.200", "203.0.113.9")]
    item = top(diagnose(healthy(journal=section)))
    assert item["automated_fix"] is None
    assert "203.0.113.9" not in item["fix"]


def test_protocol_mismatch_widens_each_list_with_what_the_client_offers():
    item = top(diagnose(healthy(journal=real_journal(("kex_no_match", 13), ("cipher_no_match", 1)))))
    assert "Clients (10.89.77.200) and sshd" in item["summary"]
    assert "KexAlgorithms +diffie-hellman-group1-sha1\nCiphers +3des-cbc\n" in item["fix"]


def test_protocol_mismatch_suggests_the_offered_algorithm():
    evidence = healthy(journal=journal(("kex_no_match", 1)))
    evidence["journal"]["signatures"]["kex_no_match"]["samples"] = [
        "Unable to negotiate with 10.88.0.9 port 4242: no matching key exchange method found. "
        "Their offer: diffie-hellman-group1-sha1,diffie-hellman-group14-sha1 [preauth]"]
    assert "KexAlgorithms +diffie-hellman-group1-sha1\n" in top(diagnose(evidence))["fix"]


def test_background_lines_alone_make_no_finding():
    # Scanners, load balancers and boots leave these on every host.
    evidence = healthy(journal=journal(("kex_ident_closed", 40), ("connection_reset_preauth", 7),
                                       ("banner_invalid", 3), ("login_grace_timeout", 5)))
    assert diagnose(evidence)["findings"] == []


def test_unreachable_host_is_diagnosed_from_the_probe_alone():
    result = diagnose(None, probe("timeout", stage="connect", errors=["timed out after 3.0 s"]), reachable=False,
                      unreachable_msg="Failed to connect to the host via ssh: Connection timed out")
    item = top(result)
    assert causes(result) == ["host_unreachable"]
    assert "nothing answers on 192.0.2.10:22" in item["summary"]
    assert "ansible: Failed to connect to the host via ssh: Connection timed out" in item["evidence"]
    assert result["notes"] == []


def test_unreachable_host_turned_away_by_maxstartups_names_both():
    result = diagnose(None, probe("closed_with_message", messages=["Exceeded MaxStartups"], sshd_messages=["maxstartups"]),
                      reachable=False, unreachable_msg="kex_exchange_identification: Connection closed by remote host")
    assert causes(result) == ["maxstartups_throttling", "host_unreachable"]


def test_unreachable_and_refused_names_the_likely_cause_before_the_symptom():
    result = diagnose(None, probe("refused"), reachable=False, unreachable_msg="Connection refused")
    # A ban of the controller's own address looks the same from here; it is named, after the likelier cause.
    assert causes(result) == ["sshd_not_running", "host_unreachable", "firewall_reject"]
    assert top(result)["confidence"] < 0.9  # the probe alone cannot tell a closed port from a tcp-reset REJECT
    assert "Ansible could not" not in top(result)["summary"]


def test_a_reachable_host_behind_a_silent_port_is_a_warning():
    # Ansible got in another way (a container connection, a jump host), but the controller's SYNs go unanswered.
    result = diagnose(healthy(), probe("timeout", stage="connect"))
    assert (top(result)["cause"], top(result)["severity"]) == ("host_unreachable", "warning")
    assert diagnose(healthy(), probe("timeout", stage="banner"))["findings"][0]["confidence"] == 0.5


def test_unreachable_with_a_silent_sshd_says_tcp_connects():
    result = diagnose(None, probe("timeout", stage="banner"), reachable=False, unreachable_msg="Connection timed out during banner exchange")
    assert "TCP connects to 192.0.2.10:22, but no SSH banner arrives in time" in top(result)["summary"]


def test_unreachable_without_probe_still_reports():
    result = diagnose(None, None, reachable=False, unreachable_msg="boom")
    assert causes(result) == ["host_unreachable"]


def test_missing_and_failed_sections_are_noted_not_fatal():
    evidence = {"sshd": healthy_sshd(service={"active_state": "inactive"}), "firewall": {"error": "iptables exploded", "notes": []}}
    result = diagnose(evidence, probe("refused"))
    assert top(result)["cause"] == "sshd_not_running"
    assert "firewall: the collector failed: iptables exploded" in result["notes"]
    assert "oom: no evidence (section missing)" in result["notes"]


def test_collector_notes_are_passed_on():
    evidence = healthy(firewall={"rules": [], "conntrack": {}, "notes": ["iptables: permission denied (run with become: true)"]})
    assert diagnose(evidence)["notes"] == ["firewall: iptables: permission denied (run with become: true)"]


def test_a_rule_that_trips_on_odd_evidence_costs_only_itself():
    evidence = healthy(sshd=healthy_sshd(service={"active_state": "inactive"}), oom={"events": "not a list", "sshd_victims": "x"})
    evidence["firewall"]["rules"] = [fw_rule(None, None)]
    result = diagnose(evidence, probe("refused"))
    assert top(result)["cause"] == "sshd_not_running"


def test_evidence_lines_are_capped():
    evidence = healthy(firewall={"rules": [fw_rule("-A INPUT -p tcp --dport 22 -s 10.0.0.%d -j DROP" % i, "DROP") for i in range(20)]})
    item = top(diagnose(evidence))
    assert len(item["evidence"]) == _rules.MAX_EVIDENCE_LINES + 1
    assert item["evidence"][-1].startswith("... and ")


@settings(max_examples=150, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10 ** 6) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["sshd", "journal", "oom", "firewall", "tcp_wrappers", "host_health", "service", "settings",
                         "signatures", "rules", "events", "decisions", "memory", "count", "cause", "outcome", "outcomes",
                         "active_state", "config_valid", "boots", "unit_events", "max_startups", "conntrack", "error"]),
        children, max_size=6),
    max_leaves=30))
def test_arbitrary_evidence_never_raises(evidence):
    result = _rules.diagnose(evidence if isinstance(evidence, dict) else None,
                             evidence.get("probe") if isinstance(evidence, dict) else None, now=NOW)
    json.dumps(result)


# --- the journal's sources and coverage in the evidence ---------------------------------------


def test_evidence_names_the_file_a_signature_came_from():
    section = journal(("cipher_no_match", 1))
    section["signatures"]["cipher_no_match"]["sources"] = {"/var/log/auth.log.2.gz": 1}
    section["source"] = "/var/log/auth.log"
    finding = [f for f in diagnose(healthy(journal=section))["findings"] if f["cause"] == "protocol_mismatch"][0]
    assert any(line.startswith("/var/log/auth.log.2.gz: cipher_no_match x1") for line in finding["evidence"])


def test_evidence_says_when_the_journal_read_was_incomplete():
    section = journal(("cipher_no_match", 1), period={
        "requested_from": "2026-11-24T00:00:00+00:00", "from": "2026-11-25T07:00:00+00:00", "to": "2026-11-25T09:00:00+00:00",
        "complete": False, "stopped_by": "time_budget",
        "not_covered": [["2026-11-24T00:00:00+00:00", "2026-11-25T07:00:00+00:00"]]})
    finding = [f for f in diagnose(healthy(journal=section))["findings"] if f["cause"] == "protocol_mismatch"][0]
    assert ("journal: the read was incomplete (time_budget); not read: 2026-11-24T00:00:00+00:00 .. "
            "2026-11-25T07:00:00+00:00") in finding["evidence"]


def _oom_section(dmesg_text, btime, files=None):
    from ansible_collections.sshdoctor.connreset.plugins.module_utils import _oom
    from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import FakeHost, read_fixture
    grep = ("journalctl", "--no-pager", "-q", "-k", "-b", "-1", "-o", "short-iso-precise", "-n", str(_oom.MAX_KERNEL_LINES),
            "-g", _oom.KERNEL_GREP)
    host = FakeHost(commands={("dmesg",): (0, dmesg_text, ""),
                              grep: (1, "", read_fixture("debian12/journal_no_previous_boot.txt"))},
                    files=dict({"/proc/stat": "btime %d\n" % btime}, **(files or {})),
                    tools={"dmesg": "/usr/bin/dmesg", "journalctl": "/usr/bin/journalctl"})
    return _oom.collect_oom(host)


def test_recorded_container_kills_make_no_oom_finding_and_a_kill_in_sshds_unit_does():
    """REAL kernel output both: sshd processes killed in podman containers' cgroups, read on a host that runs them
    (no finding: not this host's sshd), and sshd's per-connection process killed in ssh.service's memory cgroup
    (read inside that container: a warning)."""
    from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import read_fixture
    containers = _oom_section(read_fixture("debian11/dmesg_oom_memcg_hostkernel.txt")
                              + read_fixture("debian13/dmesg_oom_memcg_hostkernel.txt"), 1795593289)
    assert "oom_kill" not in causes(diagnose(healthy(oom=containers)))
    own = "/libpod_parent/libpod-444ccd67b54543dac2db649db08f4ea312e562a9541441b5fbd9e52f2ecf5314"
    unit = _oom_section(read_fixture("debian12/dmesg_oom_memcg_ssh_service_hostkernel.txt"), 1796203478,
                        files={"/run/.containerenv": "", "/proc/1/cgroup": "4:memory:%s\n" % own})
    found = [f for f in diagnose(healthy(oom=unit))["findings"] if f["cause"] == "oom_kill"]
    assert len(found) == 1 and found[0]["severity"] == "warning"
    assert found[0]["summary"].startswith("The OOM killer killed 1 sshd process(es)")
