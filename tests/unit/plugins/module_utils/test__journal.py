# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sshd_journal_info's parsing and collector.

Fixtures under debian11/12/13 are REAL: captured in the containers after planting the
faults (wrong KEX and cipher from a second container, a burst past MaxStartups
2:100:3, a PerSourcePenalties penalty on Debian 13, hosts.deny ``sshd: ALL``,
``systemctl kill -s KILL ssh``, a frozen client past ClientAliveCountMax, resets
during the banner). rhel9/secure.txt, rhel9/journal_*.{txt,json} (a multi-boot list,
an oom-kill result) and ubuntu2204/auth.log are TRANSCRIBED: we have no such hosts, and
containers cannot reboot or see systemd's cgroup-v2 OOM events here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import gzip
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _journal as J
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import FakeHost, read_fixture
from ansible_collections.sshdoctor.connreset.tests.unit.timing import growth_below

RELEASES = ("debian11", "debian12", "debian13")


# --- since -------------------------------------------------------------------------------------
@pytest.mark.parametrize("given_value, expected", [
    (None, None),
    ("today", "today"),
    ("yesterday", "yesterday"),
    ("-2h", "-2h"),
    ("30min", "-30min"),
    ("3 days ago", "-3d"),
    ("1 week ago", "-1w"),
    ("-45 seconds", "-45s"),
    ("@1795593650", "@1795593650"),
    ("@1795593650.75", "@1795593650"),
    ("2026-11-25", "2026-11-25 00:00:00"),
    ("2026-11-25 08:00", "2026-11-25 08:00:00"),
    ("2026-11-25 08:00:49", "2026-11-25 08:00:49"),
    ("2026-11-25T08:00:49Z", "@%d" % calendar.timegm((2026, 11, 25, 8, 0, 49, 0, 0, 0))),
    ("2026-11-25 08:00:49 UTC", "@%d" % calendar.timegm((2026, 11, 25, 8, 0, 49, 0, 0, 0))),
    ("2026-11-25T10:00:49+02:00", "@%d" % calendar.timegm((2026, 11, 25, 8, 0, 49, 0, 0, 0))),
    ("2026-11-25T03:00:49.123-0500", "@%d" % calendar.timegm((2026, 11, 25, 8, 0, 49, 0, 0, 0))),
])
def test_validate_since_accepts(given_value, expected):
    assert J.validate_since(given_value) == expected
    # what it returns is accepted again unchanged (the module validates, then the collector)
    assert J.validate_since(expected) == expected


@pytest.mark.parametrize("bad", ["yesteday", "2026-13-01", "2026-02-30 10:00", "-2 fortnights", "12:00", "; rm -rf /",
                                 "--help", "2026-11-25 25:00", ""])
def test_validate_since_rejects_with_a_readable_message(bad):
    with pytest.raises(ValueError) as exc:
        J.validate_since(bad)
    assert "since" in str(exc.value)


@pytest.mark.parametrize("since, expected", [
    ("@1000", 1000.0),
    ("-2h", 100000 - 7200),
    ("-3d", 100000 - 3 * 86400),
    ("now", 100000),
])
def test_since_to_epoch(since, expected):
    assert J.since_to_epoch(since, now=100000) == expected


# --- lines -------------------------------------------------------------------------------------
@pytest.mark.parametrize("line, expected", [
    ("2026-11-25T08:01:23.176307+00:00 h2-d13 sshd[88]: x", "2026-11-25T08:01:23.176307+00:00"),  # systemd 257
    ("2026-11-25T08:01:26.060983+0000 h2-d12 sshd[63]: x", "2026-11-25T08:01:26.060983+00:00"),  # systemd 252
    ("2026-11-25T03:01:26.060983-0500 h sshd[63]: x", "2026-11-25T03:01:26.060983-05:00"),
    ("2026-11-25T08:01:26Z h sshd[63]: x", "2026-11-25T08:01:26+00:00"),
    ("Nov 25 08:01:23 rhel9 sshd[2290]: x", "Nov 25 08:01:23"),
    ("Nov  5 08:01:23 rhel9 sshd[2290]: x", "Nov  5 08:01:23"),
    ("-- Boot 0123 --", None),
    ("", None),
])
def test_line_time(line, expected):
    assert J.line_time(line) == expected


def test_line_epoch():
    assert J.line_epoch("2026-11-25T10:00:49.5+02:00 h sshd[1]: x") == calendar.timegm(
        (2026, 11, 25, 8, 0, 49, 0, 0, 0)) + 0.5
    assert J.line_epoch("garbage") is None


@pytest.mark.parametrize("line, expected", [
    ("Nov 25 08:01:23 rhel9 sshd[2290]: x", "sshd"),
    ("2026-11-25T08:01:23.176307+00:00 h2-d13 sshd-session[92]: x", "sshd-session"),
    ("Nov 25 08:05:00 rhel9 CROND[2400]: (root) CMD", "CROND"),
    ("Nov 25 08:03:00 jammy sudo:    alice : TTY=pts/0", None),
])
def test_line_identifier(line, expected):
    assert J.line_identifier(line) == expected


# --- real journals ----------------------------------------------------------------------------
@pytest.mark.parametrize("release, lines_read, expected", [
    ("debian11", 42, {"maxstartups_drop": 1, "maxstartups_throttling_begin": 1, "maxstartups_throttling_end": 1,
                      "kex_no_match": 1, "cipher_no_match": 1, "wrapper_refused": 1, "client_alive_timeout": 1,
                      "connection_reset_preauth": 1, "connection_reset": 1, "kex_ident_reset": 1,
                      "kex_ident_closed": 2, "banner_invalid": 1, "sshd_terminated_signal": 1}),
    ("debian12", 58, {"maxstartups_drop": 1, "maxstartups_throttling_begin": 1, "maxstartups_throttling_end": 1,
                      "kex_no_match": 1, "cipher_no_match": 1, "wrapper_refused": 1, "client_alive_timeout": 1,
                      "connection_reset_preauth": 1, "connection_reset": 1, "kex_ident_reset": 1,
                      "kex_ident_closed": 2, "banner_invalid": 1, "sshd_terminated_signal": 1}),
    # OpenSSH 10.0: no "throttling" lines, drops are "... Maxstartups", the penalty refuses the source
    ("debian13", 78, {"maxstartups_drop": 3, "penalty_drop": 6, "kex_no_match": 1, "cipher_no_match": 1,
                      "wrapper_refused": 1, "client_alive_timeout": 1, "connection_reset_preauth": 1,
                      "connection_reset": 1, "kex_ident_reset": 1, "banner_invalid": 1,
                      "sshd_terminated_signal": 1}),
])
def test_summarise_real_journal(release, lines_read, expected):
    summary = J.summarise_lines(read_fixture(release + "/journal_sshd.txt").splitlines(), max_samples=2)
    assert summary["lines_read"] == lines_read
    assert dict((k, v["count"]) for k, v in summary["signatures"].items()) == expected
    for entry in summary["signatures"].values():
        assert 1 <= len(entry["samples"]) <= 2
        assert entry["first_seen"] <= entry["last_seen"]
        assert entry["last_seen"].endswith("+00:00")
    assert summary["causes"]["protocol_mismatch"] == 3  # kex, cipher, banner


def test_samples_are_the_newest_and_first_last_seen_span_them():
    summary = J.summarise_lines(read_fixture("debian13/journal_sshd.txt").splitlines(), max_samples=1)
    penalty = summary["signatures"]["penalty_drop"]
    assert penalty["cause"] == "source_penalty"
    assert penalty["first_seen"] == "2026-11-25T08:01:35.653660+00:00"
    assert penalty["last_seen"] == "2026-11-25T08:01:36.657046+00:00"
    assert penalty["samples"] == [
        "2026-11-25T08:01:36.657046+00:00 h2-d13 sshd[88]: drop connection #0 from [10.88.0.8]:52798 on "
        "[10.88.0.6]:22 penalty: connections without attempting authentication"]


def test_zero_samples_and_marker_lines():
    lines = ["-- Boot 0123456789abcdef0123456789abcdef --", "-- No entries --",
             "Nov 25 08:01:30 jammy sshd[1303]: refused connect from 198.51.100.9 (198.51.100.9)"]
    summary = J.summarise_lines(lines, max_samples=0)
    assert summary["lines_read"] == 1
    assert summary["signatures"]["wrapper_refused"]["samples"] == []


@pytest.mark.parametrize("release", RELEASES)
def test_list_boots_real(release):
    text = read_fixture(release + "/journal_list_boots.json")
    boots = J.parse_list_boots(text)
    assert len(boots) == 1
    assert boots[0]["boot_id"] == "db3b1a7c99eb4821a3cb7e0f190ccfc8"
    assert boots[0]["index"] == 0
    assert boots[0]["first_entry"].startswith("2026-11-25T08:")
    # the text table (systemd 247 prints it for -o json too; 252/257 print a header)
    listed = J.parse_list_boots(read_fixture(release + "/journal_list_boots.txt"))
    assert [b["boot_id"] for b in listed] == ["db3b1a7c99eb4821a3cb7e0f190ccfc8"]
    assert listed[0]["first_entry"][:16] == boots[0]["first_entry"][:16]


def test_list_boots_text_with_previous_boots_transcribed():
    boots = J.parse_list_boots(read_fixture("rhel9/journal_list_boots.txt"))
    assert [b["index"] for b in boots] == [-2, -1, 0]
    assert boots[1] == {
        "index": -1, "boot_id": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "first_entry": "2026-11-23T21:16:40+00:00", "last_entry": "2026-11-24T03:02:11+00:00",
        "first_entry_listed": "Mon 2026-11-23 21:16:40 UTC",
    }


@pytest.mark.parametrize("release, matched, events", [
    ("debian11", 8, ["started", "stopped", "started", "main_process_killed", "failed_result", "restart_scheduled",
                     "stopped", "started"]),
    ("debian12", 8, ["started", "stopped", "started", "main_process_killed", "failed_result", "restart_scheduled",
                     "stopped", "started"]),
])
def test_unit_events_real(release, matched, events):
    found, count = J.parse_unit_events(read_fixture(release + "/journal_unit_events.json"))
    assert count == matched
    assert [e["event"] for e in found] == events
    killed = found[3]
    assert killed["exit_code"] == "killed" and killed["exit_status"] == "9"
    assert killed["message_id"] == "98e322203f7a4ed290d09fe03c09fe15"
    assert found[4]["result"] == "signal"
    assert found[5]["n_restarts"] == 1


def test_unit_events_debian13_start_limit_and_cap():
    found, count = J.parse_unit_events(read_fixture("debian13/journal_unit_events.json"), max_events=4)
    assert count == 33
    assert [e["event"] for e in found] == ["restart_scheduled", "start_limit_hit", "failed_result", "started"]
    assert found[0]["n_restarts"] == 7


def test_unit_events_oom_kill_transcribed():
    found, count = J.parse_unit_events(read_fixture("rhel9/journal_unit_events.json"))
    assert [e["event"] for e in found] == ["oom_killed", "main_process_killed", "failed_result", "restart_scheduled",
                                           "started", "start_limit_hit", "start_limit_hit"]
    assert found[2]["result"] == "oom-kill"
    assert found[5]["result"] == "start-limit-hit"
    assert found[6]["message"] == "sshd.service: Start request repeated too quickly."  # a byte-array MESSAGE
    assert found[0]["time"] == "2026-11-25T08:01:40.000000+00:00"


def test_unit_event_lines_from_text():
    lines = ["2026-11-25T08:02:42.629097+00:00 h2-d13 systemd[1]: ssh.service: Main process exited, code=killed, "
             "status=9/KILL",
             "2026-11-25T08:02:42.767470+00:00 h2-d13 systemd[1]: ssh.service: Scheduled restart job, restart counter "
             "is at 1.",
             "no prefix here"]
    found, count = J.parse_unit_event_lines(lines)
    assert count == 2
    assert found[0]["event"] == "main_process_killed" and found[0]["exit_status"] == "9/KILL"
    assert found[1]["n_restarts"] == 1


# --- the summary's per-time and per-client detail (CONTRACTS.md section 2) ---------------------
def _reset(epoch, address, port=4000):
    return "%s h sshd[1]: Connection reset by %s port %d [preauth]" % (J.iso_utc(epoch), address, port)


def test_histogram_is_sparse_ascending_and_sums_to_the_count():
    t0 = 1795593600  # a whole minute
    lines = [_reset(t0 + 5, "192.0.2.1"), _reset(t0 + 59, "192.0.2.1"), _reset(t0 + 3600, "192.0.2.2")]
    info = J.summarise_lines(reversed(lines))["signatures"]["connection_reset_preauth"]
    assert info["histogram"] == {"resolution_s": 60, "buckets": [[t0, 2], [t0 + 3600, 1]]}


def test_histogram_is_coarsened_past_720_buckets():
    t0 = 1795593600 - 1795593600 % 86400
    lines = [_reset(t0 + i * 300, "192.0.2.1") for i in range(3 * 288)]  # three days, one line every five minutes
    info = J.summarise_lines(lines)["signatures"]["connection_reset_preauth"]
    histogram = info["histogram"]
    # 864 five-minute buckets are too many; 900 s buckets hold three lines each
    assert histogram["resolution_s"] == 900
    assert len(histogram["buckets"]) == 288 <= J.MAX_BUCKETS
    assert sum(n for dummy, n in histogram["buckets"]) == info["count"] == 864
    assert [b for b, dummy in histogram["buckets"]] == sorted(b for b, dummy in histogram["buckets"])
    assert all(b % 900 == 0 for b, dummy in histogram["buckets"])


def test_clients_are_the_most_frequent_plus_every_requested_one():
    t0 = 1795593600
    lines = []
    for i in range(30):
        lines += [_reset(t0 + i + k, "198.51.100.%d" % i, 4000 + k) for k in range(i + 2)]  # address i: i + 2 lines
    lines.append(_reset(t0 + 100, "203.0.113.9"))  # once only, but asked about
    lines.append("%s h sshd[1]: error: kex_exchange_identification: read: Connection reset by peer" % J.iso_utc(t0))
    result = J.summarise_lines(lines, clients=["203.0.113.0/24"])
    info = result["signatures"]["connection_reset_preauth"]
    assert len(info["clients"]) == J.MAX_CLIENTS
    assert "203.0.113.9" in info["clients"]
    assert info["clients"]["203.0.113.9"] == {"count": 1, "first_seen": J.iso_utc(t0 + 100), "last_seen": J.iso_utc(t0 + 100)}
    assert info["clients"]["198.51.100.29"]["count"] == 31  # the most frequent
    assert "198.51.100.0" not in info["clients"]  # the rarest of the rest
    assert info["clients_distinct"] == 31 and info["clients_distinct_exact"] is True
    assert info["clients_other"] == 0
    # a signature whose line names no address counts it in clients_other
    kex = result["signatures"]["kex_ident_reset"]
    assert kex["clients"] == {} and kex["clients_other"] == 1


def test_distinct_clients_past_the_tracking_limit_are_estimated():
    t0 = 1795593600
    n = J.MAX_CLIENTS_TRACKED + 6000
    lines = (_reset(t0, "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)) for i in range(n))
    info = J.summarise_lines(lines, max_samples=1)["signatures"]["connection_reset_preauth"]
    assert info["count"] == n
    assert info["clients_other"] == 6000  # lines of the untracked addresses
    assert info["clients_distinct_exact"] is False
    assert abs(info["clients_distinct"] - n) < 0.03 * n
    assert sum(c["count"] for c in info["clients"].values()) <= info["count"] - info["clients_other"]


def test_focus_follows_each_requested_client():
    t0 = 1795593600
    lines = [_reset(t0 + i, "192.0.2.7", 5000 + i) for i in range(250)]
    lines += [_reset(t0 + 1000, "192.0.2.8"), _reset(t0 + 1001, "2001:db8::5")]
    lines.append("%s h sshd[1]: srclimit_penalise: 192.0.2.0/24: activating ipv4 penalty of 15.464 seconds for penalty: "
                 "connections without attempting authentication" % J.iso_utc(t0 + 2000))
    result = J.summarise_lines(reversed(lines), clients=["192.0.2.7", "192.0.2.0/28", "2001:db8::/32", "198.51.100.1"])
    focus = result["focus"]
    assert list(focus) == ["192.0.2.7", "192.0.2.0/28", "2001:db8::/32", "198.51.100.1"]
    one = focus["192.0.2.7"]["connection_reset_preauth"]
    assert one["count"] == 250
    assert one["times"] == list(range(t0 + 50, t0 + 250))  # the newest 200, ascending
    assert one["samples"] == lines[247:250]  # the newest 3
    assert one["first_seen"] == J.iso_utc(t0) and one["last_seen"] == J.iso_utc(t0 + 249)
    assert focus["192.0.2.0/28"]["connection_reset_preauth"]["count"] == 251
    assert focus["192.0.2.0/28"]["penalty_activated"]["count"] == 1  # the penalised /24 holds the /28
    assert focus["2001:db8::/32"]["connection_reset_preauth"]["count"] == 1
    assert focus["198.51.100.1"] == {}
    assert "192.0.2.7" not in focus["2001:db8::/32"]


def test_too_many_or_odd_client_specs_are_bounded_and_noted():
    specs = ["192.0.2.%d" % i for i in range(20)] + ["not-an-address"]
    summary = J.Summary(clients=["host.example"] + specs)
    assert len(summary.focus) == J.MAX_FOCUS_SPECS
    assert any("not an address" in note for note in summary.notes)
    assert any("only the first 16" in note for note in summary.notes)
    summary.feed("journald", ["2026-11-25T08:00:00+00:00 h sshd[1]: refused connect from host.example (192.0.2.1)"])
    assert summary.result()["focus"]["host.example"]["wrapper_refused"]["count"] == 1


@pytest.mark.parametrize("line, expected", [
    ("2026-11-25T08:01:23.176307+00:00 h sshd[1]: x", calendar.timegm((2026, 11, 25, 8, 1, 23, 0, 0, 0)) + 0.176307),
    ("2026-13-01T00:00:00+00:00 h sshd[1]: x", None),  # month 13 in a syslog file
    ("2026-02-30T00:00:00+00:00 h sshd[1]: x", None),
    ("2026-11-25T25:00:00+00:00 h sshd[1]: x", None),
    ("2026-11-25T08:61:00+00:00 h sshd[1]: x", None),
    ("2026-11-25T08:00:99+00:00 h sshd[1]: x", None),
    ("9999999-11-25T08:00:00+00:00 h sshd[1]: x", None),
    ("Feb 30 08:00:00 h sshd[1]: x", None),
    ("Foo 12 08:00:00 h sshd[1]: x", None),
    ("Nov 25 26:00:00 h sshd[1]: x", None),
])
def test_line_epoch_never_raises_on_impossible_dates(line, expected):
    got = J.line_epoch(line, now=NOW)
    assert got == pytest.approx(expected) if expected is not None else got is None


def test_an_impossible_date_in_a_syslog_file_costs_only_that_line():
    text = ("2026-13-01T00:00:00+00:00 h sshd[1]: refused connect from 192.0.2.1 (192.0.2.1)\n"
            "2026-11-25T09:00:00.000000+00:00 h sshd[2]: refused connect from 192.0.2.2 (192.0.2.2)\n")
    result = J.collect_journal(FakeHost(files={"/var/log/auth.log": text}), now=NOW)
    assert result["signatures"]["wrapper_refused"]["count"] == 2
    assert result["signatures"]["wrapper_refused"]["histogram"]["buckets"] == [[1795597200, 1]]  # the timed one


# --- the collector -----------------------------------------------------------------------------
def reversed_journal(release):
    """What ``journalctl --reverse`` prints: the captured lines, newest first (they hold no boot markers)."""
    return "\n".join(reversed(read_fixture(release + "/journal_sshd.txt").splitlines())) + "\n"


LIST_BOOTS = ("journalctl", "--no-pager", "--list-boots", "-o", "json")
NOW = 1795600000  # 2026-11-25T09:46:40Z, after every captured line


def _journald_host(release, since, max_events=J.DEFAULT_MAX_EVENTS, extra=None, **kwargs):
    commands = {
        LIST_BOOTS: (0, read_fixture(release + "/journal_list_boots.json"), ""),
        tuple(J.journal_command(since, J.DEFAULT_UNITS)): (0, reversed_journal(release), ""),
        tuple(J.events_command(since, J.DEFAULT_UNITS, max_events)): (0, read_fixture(release + "/journal_unit_events.json"), ""),
    }
    commands.update(extra or {})
    return FakeHost(commands=commands, tools={"journalctl": "/usr/bin/journalctl"}, **kwargs)


@pytest.mark.parametrize("release", RELEASES)
def test_collect_from_real_journald(release):
    since = read_fixture(release + "/journal_since.txt").strip()
    host = _journald_host(release, since)
    result = J.collect_journal(host, now=NOW)
    assert result["source"] == "journald"
    assert result["availability"] == "ok"
    assert result["since"] == since
    assert result["window"] == "current boot"
    assert result["signatures"]["kex_no_match"]["count"] == 1
    assert result["signatures"]["wrapper_refused"]["cause"] == "tcp_wrappers_denied"
    assert "maxstartups_drop" in result["signatures"]
    assert [b["boot_id"] for b in result["boots"]] == ["db3b1a7c99eb4821a3cb7e0f190ccfc8"]
    assert "main_process_killed" in [e["event"] for e in result["unit_events"]]
    assert result["truncated"] is False
    assert result["period"]["complete"] is True and result["period"]["not_covered"] == []
    assert [c["source"] for c in result["coverage"]] == ["journald"]
    assert result["coverage"][0]["lines"] == result["lines_read"]
    assert any("one boot only" in note for note in result["notes"])
    json.dumps(result)
    # the journal call reads the unit OR sshd's identifiers, newest first, with no line cap
    main = host.calls[1]
    assert "--reverse" in main and "-n" not in main
    assert main[main.index("+") - 2:main.index("+") + 4] == (
        "_SYSTEMD_UNIT=ssh.service", "_SYSTEMD_UNIT=sshd.service", "+", "SYSLOG_IDENTIFIER=sshd",
        "SYSLOG_IDENTIFIER=sshd-session", "SYSLOG_IDENTIFIER=sshd-auth")


def test_debian11_boot_list_is_text_and_since_is_taken_as_listed():
    assert read_fixture("debian11/journal_since.txt").strip() == "Wed 2026-11-25 08:11:49 UTC"
    result = J.collect_journal(_journald_host("debian11", "Wed 2026-11-25 08:11:49 UTC"), now=NOW)
    assert result["source"] == "journald"
    assert result["signatures"]["client_alive_timeout"]["cause"] == "idle_timeout"
    assert result["period"]["requested_from"] == "2026-11-25T08:11:49+00:00"


def test_default_window_starts_at_the_previous_boot_and_every_line_counts():
    boots = json.dumps([
        {"index": -2, "boot_id": "a" * 32, "first_entry": 1795000000000000, "last_entry": 1795100000000000},
        {"index": -1, "boot_id": "b" * 32, "first_entry": 1795200000123456, "last_entry": 1795300000000000},
        {"index": 0, "boot_id": "c" * 32, "first_entry": 1795400000000000, "last_entry": 1795500000000000},
    ])
    since = "@1795200000"
    host = FakeHost(commands={
        LIST_BOOTS: (0, boots, ""),
        tuple(J.journal_command(since, J.DEFAULT_UNITS)): (0, reversed_journal("debian12"), ""),
        tuple(J.events_command(since, J.DEFAULT_UNITS, 3)): (0, "", ""),
    }, tools={"journalctl": "/usr/bin/journalctl"})
    result = J.collect_journal(host, max_events=3, max_boots=2, now=NOW)
    assert result["since"] == since
    assert result["window"] == "previous and current boot"
    assert [b["boot_id"] for b in result["boots"]] == ["b" * 32, "c" * 32]
    assert result["truncated"] is True  # 3 boots > 2
    assert result["lines_read"] == 58
    assert result["signatures"] == J.summarise_lines(read_fixture("debian12/journal_sshd.txt").splitlines(),
                                                     source="journald")["signatures"]
    assert result["period"]["requested_from"] == J.iso_utc(1795200000.123456) == "2026-11-20T18:40:00.123456+00:00"


def test_time_budget_ends_the_read_and_says_what_was_not_covered():
    """The budget is simulated (the fake stream stops after 10 lines, as the real one stops at its
    deadline): newest first, so the 10 newest lines are the ones counted."""
    since = "@1795593650"
    host = _journald_host("debian12", since, budget_lines=10)
    result = J.collect_journal(host, now=NOW)
    newest = read_fixture("debian12/journal_sshd.txt").splitlines()[-10:]
    assert result["lines_read"] == 10
    assert result["signatures"] == J.summarise_lines(newest, source="journald")["signatures"]
    assert result["truncated"] is True
    period = result["period"]
    assert period["complete"] is False and period["stopped_by"] == "time_budget"
    oldest_read = J.line_time(newest[0])
    assert period["from"] == result["coverage"][0]["from"] == oldest_read
    assert period["not_covered"] == [[period["requested_from"], oldest_read]]
    assert any("time budget" in note for note in result["notes"])
    assert ("stream_file", "/var/log/auth.log") not in host.calls  # the budget is spent: no files


def test_bad_time_budget_is_refused():
    with pytest.raises(ValueError):
        J.collect_journal(FakeHost(), time_budget=0)


def test_given_since_and_unit_are_used():
    since = "-2h"
    units = ("sshd@x.service",)
    host = FakeHost(commands={
        LIST_BOOTS: (0, read_fixture("debian12/journal_list_boots.json"), ""),
        tuple(J.journal_command(since, units)): (0, reversed_journal("debian12"), ""),
        tuple(J.events_command(since, units, 5)): (1, "", "Failed to add match"),
    }, tools={"journalctl": "/usr/bin/journalctl"})
    result = J.collect_journal(host, since="2 hours ago", unit=["sshd@x"], max_events=5, now=NOW)
    assert result["since"] == "-2h" and result["window"] == "since"
    assert result["units"] == ["sshd@x.service"]
    assert result["unit_events"] == []
    assert result["period"]["requested_from"] == J.iso_utc(NOW - 7200)
    assert any("could not list the unit's systemd events" in note for note in result["notes"])


def test_bad_since_raises_for_the_module_to_report():
    with pytest.raises(ValueError):
        J.collect_journal(FakeHost(), since="last tuesday")


def test_journal_not_readable_as_user_is_noted():
    stderr = ("Hint: You are currently not seeing messages from other users and the system.\n"
              "      Users in groups 'adm', 'systemd-journal' can see all messages.")
    since = "@1795593650"
    host = _journald_host("debian12", since, extra={
        tuple(J.journal_command(since, J.DEFAULT_UNITS)): (0, "", stderr)})
    result = J.collect_journal(host, now=NOW)
    assert result["source"] == "journald"
    assert result["lines_read"] == 0
    assert result["availability"] == "unreadable"
    assert any("become: true" in note for note in result["notes"])


def test_not_root_is_noted():
    since = "@1795593650"
    host = _journald_host("debian12", since)
    host.root = False
    result = J.collect_journal(host, now=NOW)
    assert result["source"] == "journald"
    assert any(note.startswith("not running as root") for note in result["notes"])


@pytest.fixture
def utc(monkeypatch):
    """Syslog stamps without a zone are the host's local time: the tests pin it to UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_journalctl_failing_falls_back_to_auth_log(utc):
    host = FakeHost(commands={
        LIST_BOOTS: (1, "", "No journal files were found."),
        tuple(J.journal_command(None, J.DEFAULT_UNITS)): (1, "", "No journal files were found."),
    }, tools={"journalctl": "/usr/bin/journalctl"},
        files={"/var/log/auth.log": read_fixture("ubuntu2204/auth.log")})
    result = J.collect_journal(host, now=NOW)
    assert result["source"] == "/var/log/auth.log"
    assert result["availability"] == "ok"
    assert result["lines_read"] == 7  # CRON and sudo lines are not sshd's
    assert dict((k, v["count"]) for k, v in result["signatures"].items()) == {
        "connection_reset_preauth": 2, "kex_ident_reset": 1, "connection_reset": 1, "wrapper_refused": 1,
        "bind_failed": 1, "cannot_bind_any": 1}
    # the syslog stamp (no year, local time) becomes ISO 8601 in the year that puts it in the last 12 months
    assert result["signatures"]["wrapper_refused"]["first_seen"] == "2026-11-25T08:01:30+00:00"
    assert result["signatures"]["wrapper_refused"]["sources"] == {"/var/log/auth.log": 1}
    assert [c["source"] for c in result["coverage"]] == ["/var/log/auth.log"]
    assert any("No journal files" in note for note in result["notes"])


def test_no_journald_reads_secure(utc):
    host = FakeHost(files={"/var/log/secure": read_fixture("rhel9/secure.txt")})
    result = J.collect_journal(host, now=NOW)
    assert result["source"] == "/var/log/secure"
    assert result["boots"] == [] and result["unit_events"] == []
    assert dict((k, v["count"]) for k, v in result["signatures"].items()) == {
        "kex_no_match": 1, "maxstartups_throttling_begin": 1, "maxstartups_drop": 1, "client_alive_timeout": 1,
        "maxstartups_throttling_end": 1, "bad_packet_length": 1, "mac_incorrect": 1, "corrupted_mac": 1,
        "login_grace_timeout": 1}
    assert result["causes"]["packet_corruption"] == 3
    assert any("journalctl is not installed" in note for note in result["notes"])


def test_since_filters_a_syslog_file_with_iso_stamps():
    text = ("2026-11-25T08:00:00.000000+00:00 h sshd[1]: refused connect from 192.0.2.1 (192.0.2.1)\n"
            "2026-11-25T09:00:00.000000+00:00 h sshd[2]: refused connect from 192.0.2.2 (192.0.2.2)\n")
    host = FakeHost(files={"/var/log/auth.log": text})
    result = J.collect_journal(host, since="2026-11-25T08:30:00Z", now=NOW)
    assert result["signatures"]["wrapper_refused"]["count"] == 1
    assert result["signatures"]["wrapper_refused"]["first_seen"] == "2026-11-25T09:00:00.000000+00:00"
    assert result["coverage"] == [{"source": "/var/log/auth.log", "from": "2026-11-25T08:30:00+00:00",
                                   "to": J.iso_utc(NOW), "lines": 1}]


def _iso_line(epoch, ident, message, host="h"):
    return "%s %s %s[%d]: %s" % (J.iso_utc(epoch).replace("+00:00", ".000000+00:00"), host, ident, 100 + epoch % 97, message)


def test_rotated_and_compressed_files_are_read_newest_first_and_named():
    """auth.log, auth.log.1 and auth.log.2.gz (a real gzip stream) cover the window between them; the fault in
    the compressed one is found and its file named in the signature's sources."""
    t0 = 1795500000
    old = "\n".join([_iso_line(t0, "sshd", "Unable to negotiate with 192.0.2.5 port 4000: no matching cipher found. "
                               "Their offer: 3des-cbc [preauth]"),
                     _iso_line(t0 + 1, "CRON", "(root) CMD (true)")]) + "\n"
    middle = _iso_line(t0 + 3600, "sshd-session", "Connection reset by 192.0.2.6 port 4001 [preauth]") + "\n"
    live = "\n".join([_iso_line(t0 + 7200, "sshd-auth", "Connection reset by 192.0.2.7 port 4002 [preauth]"),
                      _iso_line(t0 + 7201, "sshd", "Connection reset by 192.0.2.7 port 4003 [preauth]")]) + "\n"
    files = {"/var/log/auth.log": live, "/var/log/auth.log.1": middle, "/var/log/auth.log.2.gz": gzip.compress(old.encode()),
             "/var/log/auth.log.10.gz": b"", "/var/log/auth.log.bak": "not a rotation\n"}
    host = FakeHost(files=files)
    result = J.collect_journal(host, now=NOW)
    assert [c for c in host.calls if c[0] == "stream_file"] == [
        ("stream_file", "/var/log/auth.log"), ("stream_file", "/var/log/auth.log.1"),
        ("stream_file", "/var/log/auth.log.2.gz"), ("stream_file", "/var/log/auth.log.10.gz")]
    assert result["lines_read"] == 4
    cipher = result["signatures"]["cipher_no_match"]
    assert cipher["sources"] == {"/var/log/auth.log.2.gz": 1}
    assert cipher["clients"] == {"192.0.2.5": {"count": 1, "first_seen": cipher["first_seen"], "last_seen": cipher["first_seen"]}}
    resets = result["signatures"]["connection_reset_preauth"]
    assert resets["count"] == 3 and resets["sources"] == {"/var/log/auth.log": 2, "/var/log/auth.log.1": 1}
    assert [c["source"] for c in result["coverage"]] == ["/var/log/auth.log.2.gz", "/var/log/auth.log.1", "/var/log/auth.log"]
    assert result["coverage"][0]["from"] == J.iso_utc(t0)


def test_files_older_than_the_window_are_not_opened():
    text = _iso_line(1795590000, "sshd", "refused connect from 192.0.2.1 (192.0.2.1)") + "\n"
    host = FakeHost(files={"/var/log/auth.log": text, "/var/log/auth.log.1": text, "/var/log/auth.log.2.gz": b""},
                    mtimes={"/var/log/auth.log": 1795590000, "/var/log/auth.log.1": 1795000000})
    J.collect_journal(host, since="@1795500000", now=NOW)
    assert [c[1] for c in host.calls if c[0] == "stream_file"] == ["/var/log/auth.log"]


def test_journal_and_files_never_count_a_line_twice():
    """A volatile journal that starts at T (journald restarted) beside auth.log: the file counts only what came
    before T; the same minutes in both are the journal's."""
    t_start = 1795590000
    boots = json.dumps([{"index": 0, "boot_id": "c" * 32, "first_entry": t_start * 1000000, "last_entry": NOW * 1000000}])
    since = "@1795500000"
    before = _iso_line(t_start - 600, "sshd", "Unable to negotiate with 192.0.2.5 port 4000: no matching cipher found. "
                                              "Their offer: 3des-cbc [preauth]")
    after = _iso_line(t_start + 60, "sshd", "Connection reset by 192.0.2.7 port 4002 [preauth]")
    host = FakeHost(commands={
        LIST_BOOTS: (0, boots, ""),
        tuple(J.journal_command(since, J.DEFAULT_UNITS)): (0, after + "\n", ""),
        tuple(J.events_command(since, J.DEFAULT_UNITS, J.DEFAULT_MAX_EVENTS)): (0, "", ""),
    }, tools={"journalctl": "/usr/bin/journalctl"}, files={"/var/log/auth.log": before + "\n" + after + "\n"})
    result = J.collect_journal(host, since="@1795500000", now=NOW)
    assert dict((k, v["count"]) for k, v in result["signatures"].items()) == {"cipher_no_match": 1, "connection_reset_preauth": 1}
    assert result["signatures"]["connection_reset_preauth"]["sources"] == {"journald": 1}
    assert result["signatures"]["cipher_no_match"]["sources"] == {"/var/log/auth.log": 1}
    assert result["lines_read"] == 2
    assert [(c["source"], c["from"], c["to"]) for c in result["coverage"]] == [
        ("/var/log/auth.log", J.iso_utc(t_start - 600), J.iso_utc(t_start)),
        ("journald", J.iso_utc(t_start), J.iso_utc(NOW))]
    # auth.log begins after the window does: that start is not covered, and the read is still complete
    assert result["period"]["complete"] is True
    assert result["period"]["not_covered"] == [[J.iso_utc(1795500000), J.iso_utc(t_start - 600)]]


def test_storage_none_journal_reads_the_files_and_says_so():
    """What Debian 12's journalctl prints with Storage=none (checked in a container): an empty boot list, rc 0,
    and no lines."""
    line = _iso_line(1795590000, "sshd", "Unable to negotiate with 10.88.0.9 port 4000: no matching key exchange method "
                                         "found. Their offer: diffie-hellman-group1-sha1 [preauth]")
    host = FakeHost(commands={
        LIST_BOOTS: (0, "", ""),
        tuple(J.journal_command(None, J.DEFAULT_UNITS)): (0, "", ""),
        tuple(J.events_command(None, J.DEFAULT_UNITS, J.DEFAULT_MAX_EVENTS)): (0, "", ""),
    }, tools={"journalctl": "/usr/bin/journalctl"}, files={"/var/log/auth.log": line + "\n"})
    result = J.collect_journal(host, now=NOW)
    assert result["source"] == "/var/log/auth.log"
    assert result["availability"] == "ok"
    assert result["signatures"]["kex_no_match"]["sources"] == {"/var/log/auth.log": 1}
    assert [c["source"] for c in result["coverage"]] == ["/var/log/auth.log"]
    assert any("journald holds no entries" in note for note in result["notes"])


@pytest.mark.parametrize("case, availability, note", [
    ("nothing", "no_journal", "no sshd log at all"),
    ("empty_journal_no_files", "no_journal", "no sshd log at all"),
    ("journal_without_sshd", "journal_without_sshd_lines", "no sshd line in the window"),
    ("file_without_sshd", "journal_without_sshd_lines", "no sshd line in the window"),
    ("unreadable_file", "unreadable", "could not be read"),
])
def test_no_journal_and_a_journal_without_sshd_lines_are_told_apart(case, availability, note):
    boots = read_fixture("debian12/journal_list_boots.json")
    since = "@1795593650"
    if case == "nothing":
        host = FakeHost()
    elif case == "empty_journal_no_files":
        host = FakeHost(commands={LIST_BOOTS: (0, "", ""), tuple(J.journal_command(None, J.DEFAULT_UNITS)): (0, "", ""),
                                  tuple(J.events_command(None, J.DEFAULT_UNITS, J.DEFAULT_MAX_EVENTS)): (0, "", "")},
                        tools={"journalctl": "/usr/bin/journalctl"})
    elif case == "journal_without_sshd":
        host = FakeHost(commands={LIST_BOOTS: (0, boots, ""), tuple(J.journal_command(since, J.DEFAULT_UNITS)): (0, "", ""),
                                  tuple(J.events_command(since, J.DEFAULT_UNITS, J.DEFAULT_MAX_EVENTS)): (0, "", "")},
                        tools={"journalctl": "/usr/bin/journalctl"})
    elif case == "file_without_sshd":
        host = FakeHost(files={"/var/log/auth.log": "Nov 25 08:00:01 jammy CRON[990]: (root) CMD (true)\n"})
    else:
        host = FakeHost(files={"/var/log/auth.log": "x"}, unreadable={"/var/log/auth.log"})
    result = J.collect_journal(host, now=NOW)
    assert result["availability"] == availability
    assert result["lines_read"] == 0
    assert any(note in n for n in result["notes"]), result["notes"]
    if availability == "no_journal":
        assert result["source"] is None and result["coverage"] == []


def test_unreadable_rotation_makes_the_period_incomplete():
    live = _iso_line(1795590000, "sshd", "refused connect from 192.0.2.1 (192.0.2.1)") + "\n"
    host = FakeHost(files={"/var/log/auth.log": live, "/var/log/auth.log.1": "x"}, unreadable={"/var/log/auth.log.1"})
    result = J.collect_journal(host, now=NOW)
    assert result["availability"] == "ok"
    assert result["period"]["complete"] is False
    assert result["period"]["stopped_by"] == "unreadable /var/log/auth.log.1"
    assert result["period"]["not_covered"] == [[None, J.iso_utc(1795590000)]]


def test_unit_events_from_a_syslog_file():
    lines = ["2026-11-25T08:02:42.629097+00:00 h systemd[1]: ssh.service: Main process exited, code=killed, status=9/KILL",
             "2026-11-25T08:02:42.767470+00:00 h systemd[1]: ssh.service: Scheduled restart job, restart counter is at 1.",
             "2026-11-25T08:02:43.000000+00:00 h systemd[1]: cron.service: Scheduled restart job, restart counter is at 1."]
    host = FakeHost(files={"/var/log/auth.log": "\n".join(lines) + "\n"})
    result = J.collect_journal(host, now=NOW)
    assert [e["event"] for e in result["unit_events"]] == ["main_process_killed", "restart_scheduled"]


def test_a_real_openssh_10_6_auth_log_read_as_a_syslog_only_host():
    """REAL: the Debian sid (OpenSSH 10.6p1) auth.log, read where there is no journald."""
    text = read_fixture("debian_sid/openssh10.6_auth_log.txt")
    result = J.collect_journal(FakeHost(files={"/var/log/auth.log": text}), now=1796300000)
    assert result["source"] == "/var/log/auth.log" and result["availability"] == "ok"
    assert result["lines_read"] == 87
    assert result["causes"]["source_penalty"] == 9 and result["causes"]["protocol_mismatch"] == 5
    penalty = result["signatures"]["penalty_activated"]
    assert sorted(penalty["clients"]) == ["10.88.0.57", "10.88.0.58"]
    assert result["signatures"]["penalty_drop"]["clients"]["10.88.0.57"]["count"] == 7
    assert result["signatures"]["login_grace_timeout"]["clients"] == {
        "10.88.0.55": {"count": 1, "first_seen": "2026-12-02T10:24:49.414870+00:00", "last_seen": "2026-12-02T10:24:49.414870+00:00"}}


# --- linear time (issue 17) ------------------------------------------------------------------------
def _since_or_error(text):
    try:
        J.validate_since(text)
    except ValueError:
        pass


@pytest.mark.parametrize("func, make, limit", [
    # validate_since looks at MAX_SINCE_CHARS at most: a long value is refused at once
    (_since_or_error, lambda n: "1" + " " * n + "x", 10),
    (_since_or_error, lambda n: "2026-11-25" + " " * n, 10),
    # one line's stamp and identifier: bounded looks at its start
    (J.line_epoch, lambda n: "2026-11-25T08:00:00+00:00" + "1" * n, 10),
    (J.line_epoch, lambda n: "Nov 25 08:00:00" + " " * n, 10),
    (J.line_identifier, lambda n: "x" * n + "sshd[1]: y", 10),
    # the boot list: a long odd line is cut before it is matched (what remains is reading the text once)
    (J.parse_list_boots, lambda n: " 0 " + "a" * 32 + " Wed" + " " * n + "x", 128),
])
def test_long_input_costs_at_most_linear_time(func, make, limit):
    assert growth_below(func, make, limit) < limit


def test_a_64k_line_in_the_summary_costs_a_small_multiple_of_a_1k_line():
    """Ten 64 KB lines a local user logs with `logger -t sshd` cost the summary what ten 1 KB lines do, give or take
    a small factor: each is classified on its first 4096 characters and counted in long_lines."""
    def make(n):
        return ["2026-11-25T08:00:00.000000+00:00 h sshd[4242]: fork: a" + " " * n + "b"] * 10
    assert growth_below(J.summarise_lines, make, 10) < 10
    result = J.summarise_lines(make(65536))
    assert result["long_lines"] == 10 and result["lines_read"] == 10


# --- properties --------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parsers_never_raise_on_arbitrary_text(text):
    J.summarise_lines(text.splitlines())
    J.parse_list_boots(text)
    J.parse_unit_events(text)
    J.parse_unit_event_lines(text.splitlines())
    J.line_time(text)
    J.line_epoch(text)
    J.line_identifier(text)
    try:
        J.validate_since(text)
    except ValueError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["MESSAGE", "MESSAGE_ID", "UNIT", "__REALTIME_TIMESTAMP",
                                                 "N_RESTARTS", "UNIT_RESULT", "EXIT_STATUS"]),
                                st.one_of(st.text(), st.integers(), st.lists(st.integers(0, 300)), st.none()))))
def test_unit_events_never_raise_on_odd_json(records):
    text = "\n".join(json.dumps(r) for r in records)
    J.parse_unit_events(text)
    J.parse_list_boots(json.dumps(records))


@settings(max_examples=100, deadline=None)
@given(st.binary())
def test_parsers_never_raise_on_arbitrary_bytes(data):
    text = data.decode("utf-8", "replace")
    J.summarise_lines(text.splitlines(), max_samples=1)
    J.parse_list_boots(text)
    J.parse_unit_events(text)
