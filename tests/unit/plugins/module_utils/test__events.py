# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dated events from evidence of the CONTRACTS.md shapes: journal histograms, tallies, focus, unit events, bans."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _events
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _rules
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.incident_evidence import (
    AT, ban, bans_section, evidence, iso, journal, signature, unit_event)
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__rules import NOW

VICTIM = "198.51.100.7"


def ev(**sections):
    return _rules.Evidence(evidence(**sections), now=NOW)


@pytest.mark.parametrize("stamp,epoch", [
    ("2026-11-25T08:00:49+00:00", 1795593649),
    ("2026-11-25T08:00:49.5Z", 1795593649.5),
    ("2026-11-25T09:00:49.123456789+0100", 1795593649.123456),
    ("2026-11-25 08:00:49", 1795593649),
    ("Nov 25 08:00:49", None),
    (None, None),
])
def test_epoch_of(stamp, epoch):
    assert _events.epoch_of(stamp) == epoch


def test_histogram_buckets_are_events_of_every_client_and_focus_gives_the_requested_clients_times():
    drops = [AT - 70, AT - 65, AT + 3]
    host = ev(journal=journal(signatures={"maxstartups_drop": signature("maxstartups_drop", drops + [AT - 3000],
                                                                        {VICTIM: drops, "203.0.113.9": [AT - 3000]})},
                              focus={VICTIM: {"maxstartups_drop": drops}}))
    found = _events.signature_events(host, ["maxstartups_drop"])
    generic = [(e["epoch"], e["count"], e["span_s"]) for e in found if e["client"] is None]
    assert AT % 60 == 40
    # minute buckets, every line once; the first and the last narrowed to the signature's first and last line
    assert generic == [(AT - 3000, 1, 20), (AT - 100, 2, 60), (AT - 40, 1, 43)]
    own = [e["epoch"] for e in found if e["client"] == VICTIM]
    assert own == drops  # exact, from focus; its tally is not counted again
    other = [e for e in found if e["client"] == "203.0.113.9"]
    assert [(e["epoch"], e["count"], e["span_s"]) for e in other] == [(AT - 3000, 1, 0)]
    assert all(e["kind"] == "maxstartups" for e in found)


def test_a_single_line_in_its_minutes_bucket_is_dated_to_its_second():
    """The molecule incident run: one 'beginning MaxStartups throttling' line at :12 of its minute counted as
    inside a window that began at :30 of that minute, and won over the restart the window was about."""
    host = ev(journal=journal(signatures={"maxstartups_throttling_begin": signature("maxstartups_throttling_begin", [AT - 28])}))
    assert [(e["epoch"], e["span_s"]) for e in _events.signature_events(host, ["maxstartups_throttling_begin"])] == [(AT - 28, 0)]


def test_without_a_histogram_the_first_and_last_line_bound_the_event():
    host = ev(journal={"source": "journald", "notes": [], "signatures": {"connection_reset": {
        "cause": "firewall_reject", "count": 4, "first_seen": iso(AT - 100), "last_seen": iso(AT + 100), "samples": []}}})
    assert _events.signature_events(host, ["connection_reset"]) == [
        {"epoch": AT - 100, "span_s": 200, "what": "connection_reset", "kind": "reset", "client": None, "count": 4}]


def test_unit_events_boots_ooms_and_bans_are_dated_events():
    host = ev(journal=journal(unit_events=[unit_event("main_process_killed", AT), unit_event("failed_result", AT + 1, result="oom-kill")],
                              boots=[{"index": 0, "boot_id": "x", "first_entry": iso(AT - 86400), "last_entry": iso(NOW)}]),
              oom={"source": "journald", "sshd_victims": 1, "notes": [], "events": [
                  {"time": iso(AT + 1), "name": "sshd-session", "is_sshd": True, "in_this_container": True},
                  {"time": iso(AT + 2), "name": "other-container", "is_sshd": False, "in_this_container": False}]},
              bans=bans_section([ban(VICTIM, AT - 60, AT + 540), ban("192.0.2.1", AT, enforced=False)]))
    kinds = [(e["kind"], e["what"], e["epoch"]) for e in _events.host_events(host)]
    assert kinds == [("boot", "boot", AT - 86400), ("ban", "banned by fail2ban", AT - 60), ("restart", "main_process_killed", AT),
                     ("oom", "OOM killed sshd-session", AT + 1), ("oom", "failed_result", AT + 1)]
    banned = [e for e in _events.host_events(host) if e["kind"] == "ban"][0]
    assert (banned["client"], banned["span_s"]) == (VICTIM, 600)


def test_in_window_counts_an_events_span():
    item = _events.event(100, "x", "other", span_s=60)
    assert _events.in_window(item, 150, 200) and _events.in_window(item, 0, 100)
    assert not _events.in_window(item, 161, 300) and not _events.in_window(item, 0, 99)


def test_coarsen_keeps_every_kind_and_client_and_all_counts():
    many = [_events.event(i * 60, "maxstartups_drop", "maxstartups", None, 1, 60) for i in range(300)]
    many += [_events.event(5000 + i, "maxstartups_drop", "maxstartups", VICTIM, 1) for i in range(10)]
    many += [_events.event(9000, "boot", "boot")]
    small = _events.coarsen(many, 50)
    assert len(small) <= 50
    assert sum(e["count"] for e in small) == 311
    assert {(e["kind"], e["client"]) for e in small} == {("maxstartups", None), ("maxstartups", VICTIM), ("boot", None)}
    generic = [e for e in small if e["client"] is None and e["kind"] == "maxstartups"]
    assert generic[0]["epoch"] == 0 and generic[-1]["epoch"] + generic[-1]["span_s"] == 300 * 60


def test_the_boot_from_proc_is_the_host_s_btime_whatever_the_report_s_time():
    # Two reports of one evidence, seconds or minutes apart (the hostile-fleet integration test makes two),
    # must place the boot at the same moment: /proc/stat's btime, not the report's time less the uptime.
    health = {"uptime_seconds": 2290, "boot_time": "2026-12-02T09:24:38+00:00"}
    for now in (NOW, NOW + 1, NOW + 600):
        host = _rules.Evidence(evidence(host_health=health), now=now)
        assert [(e["epoch"], e["what"]) for e in _events.boot_events(host)] == [(1796203478, _events.UPTIME_BOOT)]
        assert _rules.rule_host_rebooted(host)["scope"]["since_epoch"] == 1796203478
    # evidence without btime (an older collection): the report's time less the uptime, as before
    host = _rules.Evidence(evidence(host_health={"uptime_seconds": 2290}), now=NOW)
    assert [e["epoch"] for e in _events.boot_events(host)] == [NOW - 2290]
    assert _events.boot_events(_rules.Evidence(evidence(host_health={"uptime_seconds": 2290}))) == []
