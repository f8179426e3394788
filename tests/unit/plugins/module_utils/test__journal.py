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
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _journal as J
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import FakeHost, read_fixture

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


# --- the collector -----------------------------------------------------------------------------
def reversed_journal(release):
    """What ``journalctl --reverse`` prints: the captured lines, newest first (they hold no boot markers)."""
    return "\n".join(reversed(read_fixture(release + "/journal_sshd.txt").splitlines())) + "\n"


def _journald_host(release, since, max_lines=J.DEFAULT_MAX_LINES, max_events=J.DEFAULT_MAX_EVENTS, extra=None):
    commands = {
        ("journalctl", "--no-pager", "--list-boots", "-o", "json"): (0, read_fixture(release + "/journal_list_boots.json"), ""),
        tuple(J.journal_command(since, J.DEFAULT_UNITS, max_lines)): (0, reversed_journal(release), ""),
        tuple(J.events_command(since, J.DEFAULT_UNITS, max_events)): (0, read_fixture(release + "/journal_unit_events.json"), ""),
    }
    commands.update(extra or {})
    return FakeHost(commands=commands, tools={"journalctl": "/usr/bin/journalctl"})


@pytest.mark.parametrize("release", RELEASES)
def test_collect_from_real_journald(release):
    since = read_fixture(release + "/journal_since.txt").strip()
    host = _journald_host(release, since)
    result = J.collect_journal(host)
    assert result["source"] == "journald"
    assert result["since"] == since
    assert result["window"] == "current boot"
    assert result["signatures"]["kex_no_match"]["count"] == 1
    assert result["signatures"]["wrapper_refused"]["cause"] == "tcp_wrappers_denied"
    assert "maxstartups_drop" in result["signatures"]
    assert [b["boot_id"] for b in result["boots"]] == ["db3b1a7c99eb4821a3cb7e0f190ccfc8"]
    assert "main_process_killed" in [e["event"] for e in result["unit_events"]]
    assert result["truncated"] is False
    assert any("one boot only" in note for note in result["notes"])
    json.dumps(result)
    # the journal call reads the unit OR sshd's identifiers
    main = host.calls[1]
    assert main[main.index("+") - 2:main.index("+") + 4] == (
        "_SYSTEMD_UNIT=ssh.service", "_SYSTEMD_UNIT=sshd.service", "+", "SYSLOG_IDENTIFIER=sshd",
        "SYSLOG_IDENTIFIER=sshd-session", "SYSLOG_IDENTIFIER=sshd-auth")


def test_debian11_boot_list_is_text_and_since_is_taken_as_listed():
    assert read_fixture("debian11/journal_since.txt").strip() == "Wed 2026-11-25 08:11:49 UTC"
    result = J.collect_journal(_journald_host("debian11", "Wed 2026-11-25 08:11:49 UTC"))
    assert result["source"] == "journald"
    assert result["signatures"]["client_alive_timeout"]["cause"] == "idle_timeout"


def test_default_window_starts_at_the_previous_boot():
    boots = json.dumps([
        {"index": -2, "boot_id": "a" * 32, "first_entry": 1795000000000000, "last_entry": 1795100000000000},
        {"index": -1, "boot_id": "b" * 32, "first_entry": 1795200000123456, "last_entry": 1795300000000000},
        {"index": 0, "boot_id": "c" * 32, "first_entry": 1795400000000000, "last_entry": 1795500000000000},
    ])
    since = "@1795200000"
    host = FakeHost(commands={
        ("journalctl", "--no-pager", "--list-boots", "-o", "json"): (0, boots, ""),
        tuple(J.journal_command(since, J.DEFAULT_UNITS, 10)): (0, reversed_journal("debian12"), ""),
        tuple(J.events_command(since, J.DEFAULT_UNITS, 3)): (0, "", ""),
    }, tools={"journalctl": "/usr/bin/journalctl"})
    result = J.collect_journal(host, max_lines=10, max_events=3, max_boots=2)
    assert result["since"] == since
    assert result["window"] == "previous and current boot"
    assert [b["boot_id"] for b in result["boots"]] == ["b" * 32, "c" * 32]
    assert result["truncated"] is True  # 58 lines > 10, and 3 boots > 2
    assert result["lines_read"] == 10
    assert any("only the newest 10" in note for note in result["notes"])
    newest = read_fixture("debian12/journal_sshd.txt").splitlines()[-10:]
    assert result["signatures"] == J.summarise_lines(newest)["signatures"]
    assert list(result["signatures"]) == ["client_alive_timeout"]  # the newest ten lines hold it


def test_output_cut_at_the_byte_cap_keeps_the_newest_whole_lines():
    since = "@1795593650"
    text = reversed_journal("debian12")
    host = _journald_host("debian12", since, extra={
        tuple(J.journal_command(since, J.DEFAULT_UNITS, J.DEFAULT_MAX_LINES)): (0, text[:1000], "")})
    host.max_bytes = 1000  # as the real Host cuts a command's output
    result = J.collect_journal(host)
    kept = text[:1000].splitlines()[:-1]
    assert result["truncated"] is True
    assert result["lines_read"] == len(kept)
    assert any("more than 1000 bytes" in note for note in result["notes"])


def test_long_syslog_file_is_read_from_its_end():
    text = "cut line\n" + read_fixture("ubuntu2204/auth.log")
    host = FakeHost(commands={("tail", "-c", "%d" % (len(text) - 1), "/var/log/auth.log"): (0, text, "")},
                    tools={"tail": "/usr/bin/tail"}, files={"/var/log/auth.log": ""})
    host.max_bytes = len(text)
    result = J.collect_journal(host)
    assert result["truncated"] is True
    assert result["lines_read"] == 7


def test_given_since_and_unit_are_used():
    since = "-2h"
    units = ("sshd@x.service",)
    host = FakeHost(commands={
        ("journalctl", "--no-pager", "--list-boots", "-o", "json"): (0, read_fixture("debian12/journal_list_boots.json"), ""),
        tuple(J.journal_command(since, units, 100)): (0, reversed_journal("debian12"), ""),
        tuple(J.events_command(since, units, 5)): (1, "", "Failed to add match"),
    }, tools={"journalctl": "/usr/bin/journalctl"})
    result = J.collect_journal(host, since="2 hours ago", unit=["sshd@x"], max_lines=100, max_events=5)
    assert result["since"] == "-2h" and result["window"] == "since"
    assert result["units"] == ["sshd@x.service"]
    assert result["unit_events"] == []
    assert any("could not list the unit's systemd events" in note for note in result["notes"])


def test_bad_since_raises_for_the_module_to_report():
    with pytest.raises(ValueError):
        J.collect_journal(FakeHost(), since="last tuesday")


def test_journal_not_readable_as_user_is_noted():
    stderr = ("Hint: You are currently not seeing messages from other users and the system.\n"
              "      Users in groups 'adm', 'systemd-journal' can see all messages.")
    since = "@1795593650"
    host = _journald_host("debian12", since, extra={
        tuple(J.journal_command(since, J.DEFAULT_UNITS, J.DEFAULT_MAX_LINES)): (0, "", stderr)})
    result = J.collect_journal(host)
    assert result["source"] == "journald"
    assert result["lines_read"] == 0
    assert any("become: true" in note for note in result["notes"])


def test_not_root_is_noted():
    since = "@1795593650"
    host = _journald_host("debian12", since)
    host.root = False
    result = J.collect_journal(host)
    assert result["source"] == "journald"
    assert any(note.startswith("not running as root") for note in result["notes"])


def test_journalctl_failing_falls_back_to_auth_log():
    host = FakeHost(commands={
        ("journalctl", "--no-pager", "--list-boots", "-o", "json"): (1, "", "No journal files were found."),
        tuple(J.journal_command(None, J.DEFAULT_UNITS, 50)): (1, "", "No journal files were found."),
        ("tail", "-c", str(8 * 1024 * 1024 - 1), "/var/log/auth.log"): (0, read_fixture("ubuntu2204/auth.log"), ""),
    }, tools={"journalctl": "/usr/bin/journalctl", "tail": "/usr/bin/tail"},
        files={"/var/log/auth.log": "unused: tail reads it"})
    result = J.collect_journal(host, max_lines=50)
    assert result["source"] == "/var/log/auth.log"
    assert result["lines_read"] == 7  # CRON and sudo lines are not sshd's
    assert dict((k, v["count"]) for k, v in result["signatures"].items()) == {
        "connection_reset_preauth": 2, "kex_ident_reset": 1, "connection_reset": 1, "wrapper_refused": 1,
        "bind_failed": 1, "cannot_bind_any": 1}
    assert result["signatures"]["wrapper_refused"]["first_seen"] == "Nov 25 08:01:30"
    assert any("No journal files" in note for note in result["notes"])


def test_no_journald_reads_secure_without_tail():
    host = FakeHost(files={"/var/log/secure": read_fixture("rhel9/secure.txt")})
    result = J.collect_journal(host)
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
    result = J.collect_journal(host, since="2026-11-25T08:30:00Z")
    assert result["signatures"]["wrapper_refused"]["count"] == 1
    assert result["signatures"]["wrapper_refused"]["first_seen"] == "2026-11-25T09:00:00.000000+00:00"


def test_nothing_to_read_at_all():
    result = J.collect_journal(FakeHost())
    assert result["source"] is None
    assert result["lines_read"] == 0
    assert any("no sshd log found" in note for note in result["notes"])


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
