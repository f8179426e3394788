# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet correlation: the same kind of event on several hosts within minutes becomes one fleet finding.

Per-host events come from the real path (evidence of the CONTRACTS.md shapes, then
``_events.host_events``), as the report builds them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _events
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _fleet
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _incident
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _rules
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.incident_evidence import (
    AT, ban, bans_section, evidence, iso, journal, signature, unit_event)
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__rules import NOW


def events_of(ev_dict):
    return _events.host_events(_rules.Evidence(ev_dict, now=NOW))


def restart(at):
    return evidence(journal=journal(unit_events=[unit_event("stopped", at, "Stopped ssh.service"),
                                                 unit_event("started", at + 1, "Started ssh.service")]))


def test_three_hosts_restarting_sshd_within_a_minute_are_one_fleet_finding():
    hosts = {"web1": events_of(restart(AT)), "web2": events_of(restart(AT + 25)), "web3": events_of(restart(AT + 50)),
             "db1": events_of(evidence())}
    found = _fleet.correlate(hosts)
    assert len(found) == 1
    item = found[0]
    assert (item["cause"], item["kind"], item["hosts"]) == ("sshd_restarted", "restart", ["web1", "web2", "web3"])
    assert item["summary"].startswith("3 hosts had sshd stopped, killed or restarted within 50 s")
    assert "configuration push" in item["summary"]
    # the stops are counted; each one's start a second later is its second half, not another restart
    assert item["evidence"][0] == "web1: stopped at %s" % iso(AT).replace("+00:00", "Z")
    assert (item["from_epoch"], item["to_epoch"]) == (AT, AT + 50)


def test_sshd_started_at_each_host_s_boot_is_a_reboot_wave_not_a_restart_wave():
    # The accuracy lab's hosts, booted within seconds: each journal has its boot and sshd's first start, no stop.
    def booted(at):
        return evidence(journal=journal(boots=[{"boot_id": "%032x" % at, "first_entry": iso(at)}],
                                        unit_events=[unit_event("started", at + 2, "Started ssh.service")]))
    found = _fleet.correlate(dict(("web%d" % i, events_of(booted(AT + i))) for i in range(4)))
    assert [(f["cause"], f["hosts"]) for f in found] == [("host_rebooted", ["web0", "web1", "web2", "web3"])]


def test_restarts_far_apart_are_not_a_pattern():
    hosts = {"web1": events_of(restart(AT)), "web2": events_of(restart(AT + 1800)), "web3": events_of(restart(AT + 3600))}
    assert _fleet.correlate(hosts) == []


def test_two_hosts_are_a_pattern_only_in_a_fleet_of_two():
    two = {"web1": events_of(restart(AT)), "web2": events_of(restart(AT + 10))}
    assert [f["hosts"] for f in _fleet.correlate(two)] == [["web1", "web2"]]
    assert _fleet.correlate(dict(two, web3=events_of(evidence()), web4=events_of(evidence()))) == []


def test_resets_of_established_sessions_on_many_hosts_point_at_the_path():
    def resets(at):
        return evidence(journal=journal(signatures={"connection_reset": signature("connection_reset", [at, at + 2])}))
    found = _fleet.correlate({"a": events_of(resets(AT)), "b": events_of(resets(AT + 30)), "c": events_of(resets(AT + 70))})
    assert [(f["cause"], f["kind"]) for f in found] == [("firewall_reject", "reset")]
    assert "network device on the common path" in found[0]["summary"]


def test_boots_and_oom_kills_line_up_too():
    def booted(at):
        return evidence(journal=journal(boots=[{"index": 0, "boot_id": "b%d" % at, "first_entry": iso(at), "last_entry": iso(NOW)}]))
    found = _fleet.correlate({"a": events_of(booted(AT)), "b": events_of(booted(AT + 40)), "c": events_of(booted(AT + 90))})
    assert [f["cause"] for f in found] == ["host_rebooted"]

    def oom(at):
        return evidence(oom={"source": "journald", "sshd_victims": 0, "notes": [], "events": [
            {"time": iso(at), "name": "java", "pid": 7, "is_sshd": False, "in_this_container": True}]})
    found = _fleet.correlate({"a": events_of(oom(AT)), "b": events_of(oom(AT + 5)), "c": events_of(oom(AT + 9))})
    assert [f["cause"] for f in found] == ["oom_kill"]


def test_one_address_banned_on_several_hosts_is_one_finding_and_bears_on_its_incident():
    victim = "198.51.100.7"
    hosts = {"a": events_of(evidence(bans=bans_section([ban(victim, AT - 600)]))),
             "b": events_of(evidence(bans=bans_section([ban(victim, AT - 7200), ban("203.0.113.4", AT)]))),
             "c": events_of(evidence())}
    found = _fleet.correlate(hosts)
    assert [(f["kind"], f["client"], f["hosts"]) for f in found] == [("ban", victim, ["a", "b"])]
    incident = _incident.parse_inputs(client=victim, now=NOW)
    assert _fleet.bearing_on(found, incident) == found
    assert _fleet.bearing_on(found, _incident.parse_inputs(client="192.0.2.1", now=NOW)) == []


def test_a_fleet_finding_bears_on_an_incident_whose_window_it_overlaps():
    hosts = dict(("web%d" % i, events_of(restart(AT + 20 * i))) for i in range(3))
    found = _fleet.correlate(hosts)
    inside = _incident.parse_inputs(at=iso(AT + 30), window=1, now=NOW)
    outside = _incident.parse_inputs(at=iso(AT + 3600), window=1, now=NOW)
    assert _fleet.bearing_on(found, inside, _incident.window_of(inside)) == found
    assert _fleet.bearing_on(found, outside, _incident.window_of(outside)) == []
    assert _fleet.bearing_on(found, None) == []


def test_a_cluster_spanning_minutes_bears_only_on_a_window_that_holds_one_of_its_events():
    """Restarts 150 s apart on each host are one cluster; an incident between them, with no restart in its
    15 s window, is not about it (the molecule incident run had such a cluster, of sshd's starts at boot and
    the kill, until starts alone stopped counting)."""
    hosts = dict(("web%d" % i, events_of(restart(AT + i)) + events_of(restart(AT + 150 + i))) for i in range(3))
    found = _fleet.correlate(hosts)
    assert [(f["cause"], f["from_epoch"] - AT, f["to_epoch"] - AT) for f in found] == [("sshd_restarted", 0, 152)]
    between = _incident.parse_inputs(at=iso(AT + 75), window=0.25, now=NOW)
    at_the_kill = _incident.parse_inputs(at=iso(AT + 150), window=0.25, now=NOW)
    assert _fleet.bearing_on(found, between, _incident.window_of(between)) == []
    assert _fleet.bearing_on(found, at_the_kill, _incident.window_of(at_the_kill)) == found


def test_the_uptime_every_container_shares_is_drawn_but_not_a_reboot_wave():
    # Containers on one machine read the machine's /proc/uptime: same "boot" everywhere, no wave.
    hosts = dict(("c%d" % i, events_of(evidence())) for i in range(4))
    assert all(e["what"] == _events.UPTIME_BOOT for e in hosts["c0"])
    assert _fleet.correlate(hosts) == []
