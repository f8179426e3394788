# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Incident scoping: one verdict per host for this client, this time, this message; the rest ruled out with why.

The inputs are checked as the role checks them at the start of the play. The scoping
runs the real rules on evidence of the shapes in CONTRACTS.md (incident_evidence.py)
and then ``_incident.scope_host``, as the report does; a few reasons are also checked
on single findings whose scope is written out, where no rule of today produces them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import time

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _incident
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _rules
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import read_fixture
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.incident_evidence import (
    AT, evidence, iso, journal, signature, unit_event)
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__rules import NOW, healthy_sshd

VICTIM = "198.51.100.7"
OTHER = "203.0.113.9"


def utc_plus_one(struct):
    """A controller in UTC+01:00 (CET): what time.mktime would give there."""
    return calendar.timegm(struct) - 3600


def cet(epoch):
    return "CET (UTC+01:00)"


def incident(client=VICTIM, at=None, window=15, error=None):
    return _incident.parse_inputs(client=client, at=at if at is not None else iso(AT), window=window, client_error=error,
                                  now=NOW, local_epoch=utc_plus_one, zone_name=cet)


def answer(ev_dict, inc, clients=None, probe=None):
    ev = _rules.Evidence(ev_dict, probe, now=NOW)
    findings = _rules.diagnose(ev_dict, probe, now=NOW)["findings"]
    return _incident.scope_host(findings, ev, inc, clients=inc["client"] if clients is None else clients)


def ruled(result):
    return dict((r["cause"], r["why"]) for r in result["ruled_out"])


def wrappers(decisions, deny_line="sshd: %s" % OTHER):
    rule = {"line": 1, "text": deny_line, "clients": deny_line.split(": ", 1)[1], "options": None, "applies_to_sshd": True}
    return {"applies": True, "decisions": decisions, "notes": [],
            "files": {"/etc/hosts.deny": {"rules": [rule]}, "/etc/hosts.allow": {"rules": []}}}


def decision(client, allowed, line=1, rule="sshd: %s" % OTHER):
    return {"client": client, "allowed": allowed, "file": None if allowed else "/etc/hosts.deny",
            "line": None if allowed else line, "rule": None if allowed else rule, "action": "default" if allowed else "deny"}


def louder_and_quieter():
    """hosts.deny refuses the other client all day (loud); MaxStartups dropped the victim at the incident (quiet)."""
    refused = [AT - 7200 + 60 * i for i in range(120)]
    drops = [AT - 20, AT - 5, AT + 3]
    return evidence(
        tcp_wrappers=wrappers([decision(VICTIM, True), decision(OTHER, False)]),
        journal=journal(
            signatures={"wrapper_refused": signature("wrapper_refused", refused, {OTHER: refused}),
                        "maxstartups_drop": signature("maxstartups_drop", drops + [AT - 3000], {VICTIM: drops, OTHER: [AT - 3000]})},
            focus={VICTIM: {"maxstartups_drop": drops}}))


# --- the inputs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value,expected,zone", [
    ("2026-11-17T19:33:20Z", 1794944000, None),
    ("2026-11-17T20:33:20+01:00", 1794944000, None),
    ("2026-11-17T20:33:20+0100", 1794944000, None),
    ("2026-11-17 19:33:20 UTC", 1794944000, None),
    ("2026-11-17 20:33:20", 1794944000, "CET (UTC+01:00)"),  # no zone: the controller's, said so
    ("2026-11-17T20:33", 1794943980, "CET (UTC+01:00)"),
    ("-2h", int(NOW) - 7200, None),
    ("-30m", int(NOW) - 1800, None),
    ("-90s", int(NOW) - 90, None),
    ("-1.5 hours", int(NOW) - 5400, None),
    ("now", int(NOW), None),
])
def test_times_with_and_without_a_zone_and_relative(value, expected, zone):
    assert _incident.parse_at(value, NOW, utc_plus_one, cet) == (expected, zone)


def test_a_time_without_a_zone_uses_the_local_clock_with_its_daylight_saving():
    # The real time.mktime: whatever zone this machine is in, a naive time round-trips through it.
    epoch, zone = _incident.parse_at("2026-07-01 12:00", NOW + 86400 * 365)
    assert time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch)) == "2026-07-01 12:00"
    assert zone and "UTC" in zone


@pytest.mark.parametrize("value,message", [
    ("14:0x", "diagnose_at: '14:0x' is not a time; use ISO 8601"),
    ("yesterday at noon", "is not a time"),
    ("2026-02-30 10:00", "is not a real date and time"),
    ("2027-01-01T00:00:00Z", "is in the future"),
])
def test_a_bad_time_names_the_variable(value, message):
    with pytest.raises(_incident.IncidentInputError) as info:
        _incident.parse_at(value, NOW)
    assert str(info.value).startswith("diagnose_at: ") and message in str(info.value)


@pytest.mark.parametrize("value,expected", [(None, 15.0), ("", 15.0), (15, 15.0), ("0.5", 0.5), (2.25, 2.25)])
def test_window(value, expected):
    assert _incident.parse_window(value) == expected


@pytest.mark.parametrize("value", [0, -1, "abc", True, 10 ** 6, [1]])
def test_a_bad_window_names_the_variable(value):
    with pytest.raises(_incident.IncidentInputError, match="^diagnose_window: "):
        _incident.parse_window(value)


def test_no_input_means_no_incident_and_any_one_input_makes_one():
    assert _incident.parse_inputs(now=NOW) is None
    assert _incident.parse_inputs(client="", at="", client_error="  ", now=NOW) is None
    only_error = _incident.parse_inputs(client_error=read_fixture("debian12/client_connection_refused.txt"), now=NOW)
    assert only_error["client"] == [] and only_error["at"] is None
    assert only_error["client_error"]["known"] and only_error["client_error"]["phase"] == "connect"
    only_client = _incident.parse_inputs(client=["198.51.100.0/24"], now=NOW)
    assert only_client["client"] == ["198.51.100.0/24"] and only_client["window_minutes"] == 15.0
    assert _incident.parse_inputs(client_error=["line one", "Connection closed by 10.0.0.5 port 22"], now=NOW)[
        "client_error"]["id"] == "connection_closed_by_host"


def test_a_bad_client_names_the_variable():
    with pytest.raises(_incident.IncidentInputError, match="^diagnose_client: 'web3' is a host name"):
        _incident.parse_inputs(client="web3", now=NOW)


def test_the_incident_head_is_what_the_report_promises():
    inc = incident(at="2026-11-17 20:33:20", error=read_fixture("debian13/client_session_process_killed.txt"))
    assert inc["at"] == "2026-11-17T19:33:20Z" and inc["assumed_zone"] == "CET (UTC+01:00)"
    assert inc["client"] == [VICTIM] and inc["window_minutes"] == 15.0
    assert (inc["client_error"]["phase"], inc["client_error"]["known"]) == ("session", True)


# --- the client -------------------------------------------------------------------------------------


def test_the_quieter_fault_that_hit_the_victim_wins_over_the_louder_one():
    result = answer(louder_and_quieter(), incident())
    assert result["verdict"]["cause"] == "maxstartups_throttling"
    assert result["verdict"]["tie"] == "the client's own evidence"
    assert "maxstartups_drop of %s x3" % VICTIM in result["verdict"]["why"]
    why = ruled(result)["tcp_wrappers_denied"]
    assert why == "it spares %s (/etc/hosts.deny line 1: sshd: %s); it hits %s" % (VICTIM, OTHER, OTHER)


def test_the_louder_fault_is_the_other_clients_verdict():
    result = answer(louder_and_quieter(), incident(client=OTHER))
    assert result["verdict"]["cause"] == "tcp_wrappers_denied"
    # MaxStartups was dropping connections then, whoever sent them (not every drop is logged): it fits, less tightly.
    assert [a["cause"] for a in result["also_fits"]] == ["maxstartups_throttling"]


def test_an_address_inside_a_denied_network_is_hit_and_one_outside_is_not():
    line = "sshd: 198.51.100.0/24"
    ev = evidence(tcp_wrappers=wrappers([decision(VICTIM, False, rule=line)], deny_line=line))
    assert answer(ev, incident(at="", client=VICTIM))["verdict"]["cause"] == "tcp_wrappers_denied"
    outside = answer(ev, incident(at="", client="192.0.2.5"))
    assert outside["verdict"] is None
    assert ruled(outside)["tcp_wrappers_denied"] == (
        "/etc/hosts.deny line 1: sshd: 198.51.100.0/24 hits %s, 198.51.100.0/24, not 192.0.2.5" % VICTIM)


def test_a_client_network_overlapping_a_rule_source_is_hit():
    rule = {"source": "iptables", "family": "ipv4", "table": "filter", "chain": "INPUT", "verdict": "REJECT", "tcp_reset": True,
            "text": "-A INPUT -s 198.51.100.7/32 -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset",
            "src": "198.51.100.7/32", "affects_ssh": True, "rate_limit": [], "fail2ban": False}
    ev = evidence(firewall={"rules": [rule], "conntrack": {"tcp_timeout_established": 432000}, "notes": []})
    assert answer(ev, incident(client="198.51.100.0/24"))["verdict"]["cause"] == "firewall_reject"
    other = answer(ev, incident(client=OTHER))
    assert other["verdict"] is None
    assert "not %s" % OTHER in ruled(other)["firewall_reject"]


def test_an_allow_list_spares_the_client_it_accepts():
    rules = [
        {"source": "nft", "family": "inet", "table": "filter", "chain": "input", "verdict": "REJECT", "tcp_reset": True,
         "text": "tcp dport 22 ip saddr != 10.89.77.1 reject with tcp reset", "src": "!= 10.89.77.1", "affects_ssh": True,
         "rate_limit": [], "fail2ban": False}]
    ev = evidence(firewall={"rules": rules, "conntrack": {}, "notes": []})
    assert ruled(answer(ev, incident(client="10.89.77.1")))["firewall_reject"].startswith("it spares 10.89.77.1 (")
    assert answer(ev, incident(client="10.89.77.200"))["verdict"]["cause"] == "firewall_reject"


# --- the time ---------------------------------------------------------------------------------------


def restarted(at):
    return evidence(journal=journal(unit_events=[unit_event("main_process_killed", at), unit_event("restart_scheduled", at)]),
                    sshd=healthy_sshd(service={"n_restarts": 1}))


def test_a_restart_inside_the_window_is_the_verdict():
    result = answer(restarted(AT + 30), incident())
    assert result["verdict"]["cause"] == "sshd_restarted"
    assert result["verdict"]["tie"] == "an event in the window"


def test_a_restart_hours_before_is_ruled_out_with_how_long_before():
    result = answer(restarted(AT - 5 * 3600), incident())
    assert result["verdict"] is None
    assert ruled(result)["sshd_restarted"] == (
        "its nearest event (main_process_killed) was at %s, 5 h 0 min before (window %s ± 15 min)" % (
            iso(AT - 5 * 3600).replace("+00:00", "Z"), iso(AT).replace("+00:00", "Z")))


def test_a_fractional_window_separates_events_a_minute_apart():
    ev = restarted(AT + 60)
    assert answer(ev, incident(window=0.5))["verdict"] is None  # 30 s either side: the restart is outside
    assert answer(ev, incident(window=1.5))["verdict"]["cause"] == "sshd_restarted"


def test_the_same_instant_in_another_zone_gives_the_same_verdict():
    ev = restarted(AT + 30)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(AT))
    in_utc = answer(ev, incident(at=stamp + "Z"))
    in_cet = answer(ev, incident(at=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(AT + 3600)) + "+01:00"))
    naive = answer(ev, incident(at=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(AT + 3600))))  # read as CET
    assert in_utc["verdict"]["cause"] == in_cet["verdict"]["cause"] == naive["verdict"]["cause"] == "sshd_restarted"
    wrong_zone = answer(ev, incident(at=stamp))  # the UTC clock reading, taken as CET: an hour off
    assert wrong_zone["verdict"] is None


def test_two_events_on_one_host_each_get_their_own_verdict():
    drops = [AT - 10, AT + 5]
    later = AT + 300
    ev = evidence(journal=journal(
        signatures={"maxstartups_drop": signature("maxstartups_drop", drops, {VICTIM: drops})},
        focus={VICTIM: {"maxstartups_drop": drops}},
        unit_events=[unit_event("main_process_killed", later), unit_event("restart_scheduled", later + 1)]),
        sshd=healthy_sshd(service={"n_restarts": 1}))
    first = answer(ev, incident(window=1))
    second = answer(ev, incident(at=iso(later), window=1))
    assert first["verdict"]["cause"] == "maxstartups_throttling"
    assert "5 min after" in ruled(first)["sshd_restarted"]
    assert second["verdict"]["cause"] == "sshd_restarted"
    assert "4 min before" in ruled(second)["maxstartups_throttling"]  # the last drop was at AT + 5


def test_a_journal_read_that_begins_after_the_window_leaves_it_undecided_not_ruled_out():
    ev = restarted(AT + 7200)
    ev["journal"] = journal(unit_events=ev["journal"]["unit_events"], since_epoch=AT + 3600)
    result = answer(ev, incident())
    assert result["verdict"] is None
    assert [u["cause"] for u in result["undecided"]] == ["sshd_restarted"]
    assert "sshd_restarted" not in ruled(result)
    assert result["notes"][0].startswith("the journal read begins at")


def test_sshd_logs_every_refusal_so_a_client_it_never_named_was_not_refused():
    refused = [AT - 30, AT + 20]
    ev = evidence(tcp_wrappers={"applies": True, "decisions": [], "notes": [], "files": {}},
                  journal=journal(signatures={"wrapper_refused": signature("wrapper_refused", refused)},
                                  focus={VICTIM: {}}))
    ev["journal"]["signatures"]["wrapper_refused"]["samples"] = []
    result = answer(ev, incident())
    assert ruled(result)["tcp_wrappers_denied"].startswith(
        "sshd logs every wrapper_refused with the client's address and names %s in none" % VICTIM)


# --- the client's message ---------------------------------------------------------------------------


def idle_host():
    return evidence(sshd=healthy_sshd(settings={"client_alive_interval": 0}),
                    firewall={"rules": [], "conntrack": {"tcp_timeout_established": 300, "tcp_loose": 0}, "notes": []})


def test_a_message_that_contradicts_the_cause_rules_it_out():
    refused = read_fixture("debian12/client_connection_refused.txt")
    result = answer(idle_host(), incident(error=refused))
    assert result["verdict"] is None
    why = ruled(result)["idle_timeout"]
    assert why.startswith("the client printed 'ssh: connect to host 10.89.1.17 port 22: Connection refused' "
                          "(the connection died during connect); an idle timeout cuts an established session")


def test_the_message_that_fits_makes_a_state_the_verdict():
    broken = read_fixture("debian11/client_session_reset_by_firewall.txt")
    result = answer(idle_host(), incident(error=broken))
    assert result["verdict"]["cause"] == "idle_timeout"
    assert result["verdict"]["tie"] == "a state that holds"
    assert any(line.startswith("client: printed 'client_loop: send disconnect: Broken pipe'") for line in result["verdict"]["evidence"])


def test_a_phase_the_message_excludes_rules_the_finding_out():
    # A killed sshd-session process cuts its session; the client died before the banner.
    ev = evidence(oom={"source": "journald", "sshd_victims": 1, "notes": [], "events": [
        {"time": iso(AT), "name": "sshd-session", "pid": 4242, "is_sshd": True, "in_this_container": True,
         "anon_rss_kb": 1000, "cgroup": {"kind": "memcg", "path": "/x"}}]})
    result = answer(ev, incident(error=read_fixture("debian12/client_kex_exchange_identification_reset.txt")))
    assert ruled(result)["oom_kill"].startswith("the client's connection died during banner")
    session_cut = answer(ev, incident(error=read_fixture("debian12/client_session_process_killed.txt")))
    assert session_cut["verdict"]["cause"] == "oom_kill"


def test_an_unknown_message_rules_nothing_out():
    result = answer(restarted(AT + 30), incident(error="the screen went blank"))
    assert result["verdict"]["cause"] == "sshd_restarted"


# --- nothing fits -----------------------------------------------------------------------------------


def test_nothing_fits_says_so_and_promotes_nothing():
    ev = evidence(tcp_wrappers=wrappers([decision(VICTIM, True), decision(OTHER, False)]))
    result = answer(ev, incident())
    assert result["verdict"] is None
    assert result["summary"].startswith("Nothing in this host's evidence fits %s at " % VICTIM)
    assert set(ruled(result)) == {"tcp_wrappers_denied"}


def test_an_advisory_alone_is_not_a_verdict():
    ev = evidence(sshd=healthy_sshd(settings={"client_alive_interval": 0}))  # ClientAliveInterval 0: info
    result = answer(ev, incident())
    assert result["verdict"] is None
    assert ruled(result)["idle_timeout"].startswith("nothing ties it to %s at that time (an advisory" % VICTIM)


def test_a_healthy_host_has_nothing_to_explain():
    result = answer(evidence(), incident())
    assert result["verdict"] is None and result["ruled_out"] == []
    assert result["summary"] == "Nothing in this host's evidence explains a reset of %s." % VICTIM


# --- reasons on single findings -----------------------------------------------------------------------


def one(cause, severity="warning", **scope):
    return _rules.finding(cause, severity, 0.9, "%s summary." % cause, ["test: evidence"], "fix it", scope=_rules.make_scope(**scope))


def test_a_state_that_began_after_the_incident_is_ruled_out():
    item = one("firewall_reject", clients=[VICTIM], phase="connect", ongoing=True, since_epoch=AT + 4000,
               basis="banned by fail2ban")
    result = _incident.scope_host([item], _rules.Evidence({}), incident(), clients=[VICTIM])
    assert ruled(result)["firewall_reject"] == "it began at %s, 1 h 6 min after the incident" % iso(AT + 4000).replace("+00:00", "Z")


def test_a_ban_of_the_victim_that_held_through_the_window_is_the_verdict():
    item = one("firewall_reject", clients=[VICTIM], phase="connect", ongoing=True, since_epoch=AT - 600,
               basis="banned by fail2ban (jail sshd)")
    result = _incident.scope_host([item], _rules.Evidence({}), incident(), clients=[VICTIM])
    assert result["verdict"]["tie"] == "the client's own evidence"
    assert result["verdict"]["why"].startswith("banned by fail2ban (jail sshd): holds now, since")


def test_lines_that_name_only_other_clients_in_the_window_rule_out():
    item = one("protocol_mismatch", clients=[OTHER], phase="kex",
               events=[{"epoch": AT, "span_s": 0, "what": "kex_no_match", "kind": "mismatch", "client": OTHER, "count": 1}])
    result = _incident.scope_host([item], _rules.Evidence({}), incident(), clients=[VICTIM])
    assert ruled(result)["protocol_mismatch"] == "protocol_mismatch summary: hits %s, not %s" % (OTHER, VICTIM)


def test_without_a_client_every_client_counts_and_a_note_says_so():
    result = _incident.scope_host([], _rules.Evidence({}), _incident.parse_inputs(at=iso(AT), now=NOW), clients=[])
    assert "no client given and the controller's address on this host is not known: every client counts" in result["notes"]


def test_an_advisory_the_message_fits_only_loosely_is_not_the_verdict():
    # Some load is an advisory; a session cut fits it only as the last of its causes.
    ev = evidence(host_health={"uptime_seconds": 30 * 86400, "memory": {}, "pressure": {}, "filesystems": [], "processes": {},
                               "load": {"1": 9.0, "5": 9.0, "15": 9.0, "cpus": 2}, "notes": []})
    result = answer(ev, incident(error=read_fixture("debian11/client_session_reset_by_firewall.txt")))
    assert result["verdict"] is None
    assert ruled(result)["resource_pressure"].startswith("nothing ties it to")


def test_a_minute_bucket_that_reaches_into_the_window_does_not_count_lines_dated_outside_it():
    # The victim's drops at AT - 40 s fall in a minute bucket that ends inside a ±15 s window around AT;
    # the exact times say they were before it, and nobody else's lines are in that bucket.
    assert AT % 60 == 40  # so the minute [AT - 40, AT + 20) holds both drops and the window's start
    drops = [AT - 40, AT - 30]
    ev = evidence(journal=journal(signatures={"maxstartups_drop": signature("maxstartups_drop", drops, {VICTIM: drops})},
                                  focus={VICTIM: {"maxstartups_drop": drops}}))
    assert all(d < AT - 15 for d in drops)
    result = answer(ev, incident(window=0.25))
    assert result["verdict"] is None
    assert ruled(result)["maxstartups_throttling"].startswith("its nearest event (maxstartups_drop")
