# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each rule's ``scope`` (CONTRACTS.md section 4): whom it hits, in which phase, whether it holds now, when.

Minimal evidence of the shapes the collectors return (and, for the journal and the
firewall sets, of the shapes CONTRACTS.md promises).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _rules
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.incident_evidence import (
    AT, evidence, iso, journal, signature, unit_event)
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__rules import (
    NOW, fw_rule, healthy_sshd, probe)


def scope_of(cause, ev_dict, probe_result=None, reachable=True):
    result = _rules.diagnose(ev_dict, probe_result, reachable=reachable, now=NOW)
    found = [f for f in result["findings"] if f["cause"] == cause]
    assert found, result["findings"]
    return found[0]["scope"]


@pytest.mark.parametrize("src,clients,not_clients", [
    (None, None, []),
    ("10.89.77.200/32", ["10.89.77.200/32"], []),
    ("! 10.0.0.0/8", None, ["10.0.0.0/8"]),
    ("!= 10.89.77.1", None, ["10.89.77.1"]),
    ("{ 192.0.2.1, 192.0.2.2 }", ["192.0.2.1", "192.0.2.2"], []),
    ("@blocked", ["198.51.100.0/24"], []),
    ("@unknown", None, []),
])
def test_a_firewall_rule_hits_its_sources(src, clients, not_clients):
    rule = fw_rule("-A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset", "REJECT", tcp_reset=True, src=src)
    sets = [{"source": "nft", "family": "inet", "table": "filter", "name": "blocked", "type": "ipv4_addr", "flags": ["interval"],
             "members_total": 1, "members": [{"element": "198.51.100.0/24", "expires_s": None, "timeout_s": None}],
             "referenced_by": [], "affects_ssh": True}]
    scope = scope_of("firewall_reject", evidence(firewall={"rules": [rule], "sets": sets, "conntrack": {}, "notes": []}))
    assert (scope["clients"], scope["not_clients"], scope["phase"], scope["ongoing"]) == (clients, not_clients, "connect", True)


def test_an_accept_before_the_reject_spares_its_source():
    rules = [fw_rule("-A INPUT -s 10.0.0.5/32 -p tcp --dport 22 -j ACCEPT", "ACCEPT", src="10.0.0.5/32"),
             fw_rule("-A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset", "REJECT", tcp_reset=True)]
    scope = scope_of("firewall_reject", evidence(firewall={"rules": rules, "conntrack": {}, "notes": []}))
    assert scope["clients"] is None and scope["not_clients"] == ["10.0.0.5/32"]


def test_tcp_wrappers_hit_the_denied_and_spare_the_allowed():
    section = {"applies": True, "notes": [], "files": {}, "decisions": [
        {"client": "203.0.113.9", "allowed": False, "file": "/etc/hosts.deny", "line": 3, "rule": "sshd: 203.0.113.0/24"},
        {"client": "198.51.100.7", "allowed": True, "file": None, "line": None, "rule": None}]}
    refused = [AT, AT + 60]
    ev = evidence(tcp_wrappers=section,
                  journal=journal(signatures={"wrapper_refused": signature("wrapper_refused", refused, {"203.0.113.9": refused})}))
    scope = scope_of("tcp_wrappers_denied", ev)
    assert scope["clients"] == ["203.0.113.9", "203.0.113.0/24"]
    assert scope["not_clients"] == ["198.51.100.7"]
    assert (scope["phase"], scope["ongoing"], scope["basis"]) == ("banner", True, "/etc/hosts.deny line 3: sshd: 203.0.113.0/24")
    assert {(e["client"], e["what"]) for e in scope["events"]} == {(None, "wrapper_refused"), ("203.0.113.9", "wrapper_refused")}


def test_a_deny_everything_line_hits_every_client():
    section = {"applies": True, "notes": [], "decisions": [], "files": {
        "/etc/hosts.deny": {"rules": [{"line": 1, "text": "sshd: ALL", "clients": "ALL", "options": None, "applies_to_sshd": True}]},
        "/etc/hosts.allow": {"rules": []}}}
    assert scope_of("tcp_wrappers_denied", evidence(tcp_wrappers=section))["clients"] is None


def test_maxstartups_hits_everyone_before_the_banner_with_its_drops_dated():
    drops = [AT, AT + 1, AT + 2]
    ev = evidence(journal=journal(signatures={"maxstartups_drop": signature("maxstartups_drop", drops, {"10.0.0.9": drops})}))
    scope = scope_of("maxstartups_throttling", ev)
    assert (scope["clients"], scope["phase"], scope["ongoing"]) == (None, "banner", False)
    assert sum(e["count"] for e in scope["events"] if e["client"] is None) == 3


def test_a_penalty_hits_the_penalised_addresses():
    lines = [AT, AT + 5]
    sig = signature("penalty_drop", lines, {"10.88.0.8": lines})
    sig["samples"] = ["drop connection #0 from [10.88.0.8]:52766 on [10.88.0.6]:22 penalty: connections without attempting authentication"]
    scope = scope_of("source_penalty", evidence(journal=journal(signatures={"penalty_drop": sig})))
    assert (scope["clients"], scope["phase"]) == (["10.88.0.8"], "banner")


def test_a_stopped_sshd_refuses_everyone_since_it_stopped():
    ev = evidence(sshd=healthy_sshd(service={"active_state": "inactive", "sub_state": "dead"}),
                  journal=journal(unit_events=[unit_event("stopped", AT - 600, "Stopped ssh.service")]))
    scope = scope_of("sshd_not_running", ev, probe("refused"))
    assert (scope["clients"], scope["phase"], scope["ongoing"], scope["since_epoch"]) == (None, "connect", True, AT - 600)


def test_an_idle_timeout_cuts_sessions_and_holds_while_keepalives_are_off():
    ev = evidence(sshd=healthy_sshd(settings={"client_alive_interval": 0}),
                  firewall={"rules": [fw_rule("-A INPUT -s 10.89.77.200/32 -p tcp --dport 22 -m conntrack --ctstate INVALID -j REJECT",
                                              "REJECT", src="10.89.77.200/32")],
                            "conntrack": {"tcp_timeout_established": 8, "tcp_loose": 0}, "notes": []})
    scope = scope_of("idle_timeout", ev)
    assert (scope["clients"], scope["phase"], scope["ongoing"]) == (["10.89.77.200/32"], "session", True)


def test_restarts_boots_and_oom_kills_are_dated():
    ev = evidence(journal=journal(unit_events=[unit_event("main_process_killed", AT)]),
                  sshd=healthy_sshd(service={"n_restarts": 1}),
                  oom={"source": "journald", "sshd_victims": 1, "notes": [], "events": [
                      {"time": iso(AT + 5), "name": "sshd-session", "pid": 9, "is_sshd": True, "in_this_container": True}]})
    restarted = scope_of("sshd_restarted", ev)
    assert [(e["what"], e["epoch"]) for e in restarted["events"]] == [("main_process_killed", AT)]
    killed = scope_of("oom_kill", ev)
    assert (killed["phase"], [e["epoch"] for e in killed["events"]]) == ("session", [AT + 5])
    booted = evidence(journal=journal(boots=[{"index": 0, "boot_id": "b", "first_entry": iso(NOW - 600), "last_entry": iso(NOW)}]))
    scope = scope_of("host_rebooted", booted)
    assert (scope["since_epoch"], [e["kind"] for e in scope["events"]]) == (int(NOW) - 600, ["boot"])


def test_the_probe_speaks_for_now_and_the_controller_only():
    scope = scope_of("host_unreachable", evidence(), probe("timeout", stage="connect"), reachable=False)
    assert (scope["ongoing"], scope["basis"], scope["since_epoch"]) == (True, "the controller's probe, now", None)


def test_a_phase_outside_the_list_is_a_bug():
    with pytest.raises(ValueError):
        _rules.make_scope(phase="handshake")
