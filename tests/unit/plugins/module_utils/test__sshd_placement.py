# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Placement of sshd settings, decided on configuration text.

The stock main files are captured from the Debian 11/12/13 containers
(tests/unit/fixtures/debianNN/sshd_placement/etc_ssh_sshd_config.txt); the drop-ins
are the small files each case names. Precedence facts behind the expectations
(first value wins, MaxStartups last, Match confined to its file) were measured with
sshd -T on OpenSSH 8.4, 9.2 and 10.0.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gc
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _sshd_placement as sp
from ansible_collections.sshdoctor.connreset.plugins.module_utils._host import CommandResult
from ansible_collections.sshdoctor.connreset.plugins.module_utils._sshd_config import MAX_INCLUDE_DEPTH
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import FakeHost, read_fixture

MAIN = "/etc/ssh/sshd_config"
DIR = "/etc/ssh/sshd_config.d"
OURS = DIR + "/00-sshdoctor-connreset.conf"
DEB11 = read_fixture("debian11/sshd_placement/etc_ssh_sshd_config.txt")
DEB12 = read_fixture("debian12/sshd_placement/etc_ssh_sshd_config.txt")
DEB13 = read_fixture("debian13/sshd_placement/etc_ssh_sshd_config.txt")
DEB12_NO_INCLUDE = DEB12.replace("Include /etc/ssh/sshd_config.d/*.conf\n", "")
TRAILING_MATCH = "\n# Per-user overrides\nMatch User deploy\n\tX11Forwarding no\n"

FULL = {"ClientAliveInterval": "60", "ClientAliveCountMax": "3", "MaxSessions": "10", "MaxStartups": "10:30:100"}


def plan(files, rendered=None, **kwargs):
    return sp.plan_placement(MAIN, files, FULL if rendered is None else rendered, **kwargs)


def line_of(text, needle):
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() == needle:
            return number
    raise AssertionError("%r not in text" % needle)


# --- tokenizer and values ------------------------------------------------------------
@pytest.mark.parametrize(
    "line, expected",
    [
        ("ClientAliveInterval 60", ("ClientAliveInterval", ["60"])),
        ("  clientaliveinterval\t60  ", ("clientaliveinterval", ["60"])),
        ("ClientAliveInterval=60", ("ClientAliveInterval", ["60"])),
        ("ClientAliveInterval = 60", ("ClientAliveInterval", ["60"])),
        ('ClientAliveInterval "12"', ("ClientAliveInterval", ["12"])),
        ("Include /etc/ssh/sshd_config.d/*.conf extra.conf", ("Include", ["/etc/ssh/sshd_config.d/*.conf", "extra.conf"])),
        ("MaxStartups 10:30:100 # trailing comment", ("MaxStartups", ["10:30:100"])),
        ('Banner "/etc/my banner"', ("Banner", ["/etc/my banner"])),
        ("#ClientAliveInterval 0", None),
        ("   # indented comment", None),
        ("", None),
        ("   ", None),
    ],
)
def test_tokenize(line, expected):
    assert sp.tokenize(line) == expected


@pytest.mark.parametrize(
    "text, seconds",
    [("60", 60), ("1m", 60), ("1h30m", 5400), ("2W", 1209600), ("", None), ("abc", None), ("5x", None), ("1m 2", None)],
)
def test_parse_time(text, seconds):
    assert sp.parse_time(text) == seconds


@pytest.mark.parametrize(
    "fixture, version, info",
    [
        ("debian11/sshd_placement/sshd_V.txt", "8.4p1", [8, 4]),
        ("debian12/sshd_placement/sshd_V.txt", "9.2", [9, 2]),
        ("debian13/sshd_placement/sshd_V.txt", "10.0p2", [10, 0]),
    ],
)
def test_parse_version_from_captured_sshd_V(fixture, version, info):
    assert sp.parse_version(read_fixture(fixture)) == (version, info)


@pytest.mark.parametrize(
    "keyword, configured, wanted, equal",
    [
        ("ClientAliveInterval", "1m", "60", True),
        ("ClientAliveInterval", "0", "60", False),
        ("MaxStartups", "10", "10:30:10", True),
        ("MaxStartups", "10:30:100", "10:30:100", True),
        ("MaxStartups", "10:30:60", "10:30:100", False),
        ("MaxSessions", "ten", "10", False),
        ("PerSourcePenaltyExemptList", "10.0.0.0/8, 192.0.2.1", "10.0.0.0/8,192.0.2.1", True),
    ],
)
def test_values_equal(keyword, configured, wanted, equal):
    assert sp.values_equal(keyword, configured, wanted) is equal


# --- settings validation ---------------------------------------------------------------
@pytest.mark.parametrize(
    "settings_in, version, rendered, error",
    [
        ({"ClientAliveInterval": 60, "ClientAliveCountMax": 3, "MaxStartups": "10:30:100", "MaxSessions": 10},
         [9, 2], FULL, None),
        ({"MaxStartups": "10"}, [9, 2], {"MaxStartups": "10:30:10"}, None),
        ({"MaxStartups": 10}, [9, 2], {"MaxStartups": "10:30:10"}, None),
        ({"MaxStartups": "100:30:10"}, [9, 2], {}, "must not exceed full"),
        ({"MaxStartups": "10:0:100"}, [9, 2], {}, "between 1 and 100"),
        ({"MaxStartups": "10:101:100"}, [9, 2], {}, "between 1 and 100"),
        ({"MaxStartups": "0"}, [9, 2], {}, "at least 1"),
        ({"MaxStartups": "10:30"}, [9, 2], {}, "N or start:rate:full"),
        ({"ClientAliveInterval": 60, "ClientAliveCountMax": 0}, [9, 2], {}, "at least 1 when ClientAliveInterval"),
        ({"ClientAliveInterval": 0, "ClientAliveCountMax": 0}, [9, 2], {"ClientAliveInterval": "0", "ClientAliveCountMax": "0"}, None),
        ({"ClientAliveInterval": -1}, [9, 2], {}, "at least 0"),
        ({"ClientAliveInterval": "1m"}, [9, 2], {}, "whole number"),
        ({"MaxSessions": 0}, [9, 2], {}, "at least 1"),
        ({"MaxSessions": True}, [9, 2], {}, "whole number"),
        ({"ClientAliveInterval": None, "MaxSessions": None}, [9, 2], {}, None),
        ({"PerSourcePenaltyExemptList": ["192.0.2.10", "10.0.0.0/8"]}, [10, 0],
         {"PerSourcePenaltyExemptList": "192.0.2.10,10.0.0.0/8"}, None),
        ({"PerSourcePenaltyExemptList": []}, [10, 0], {}, None),
        ({"PerSourcePenaltyExemptList": ["not-an-address"]}, [10, 0], {}, "not an address"),
        ({"Port": 2222}, [9, 2], {}, "not a keyword this module manages"),
    ],
)
def test_validate_settings(settings_in, version, rendered, error):
    got, errors, _skipped = sp.validate_settings(settings_in, version)
    if error is None:
        assert errors == []
        assert got == rendered
    else:
        assert any(error in e for e in errors), errors


def test_exempt_list_is_skipped_before_openssh_9_8():
    rendered, errors, skipped = sp.validate_settings({"PerSourcePenaltyExemptList": ["192.0.2.10"], "MaxSessions": 5}, [9, 2])
    assert errors == []
    assert rendered == {"MaxSessions": "5"}
    assert skipped == [{"keyword": "PerSourcePenaltyExemptList", "reason": "needs OpenSSH 9.8 or later"}]


# --- reading order -------------------------------------------------------------------------
def test_expand_reads_dropins_where_the_include_stands_in_lexical_order():
    files = {MAIN: DEB12, DIR + "/50-b.conf": "MaxSessions 5\n", DIR + "/10-a.conf": "MaxSessions 4\n",
             DIR + "/.hidden.conf": "MaxSessions 3\n", DIR + "/20-c.conf.bak": "MaxSessions 2\n"}
    directives, _notes = sp.expand(MAIN, files)
    sessions = [(d["file"], d["value"]) for d in directives if d["key"] == "maxsessions"]
    assert sessions == [(DIR + "/10-a.conf", "4"), (DIR + "/50-b.conf", "5")]
    include_index = [i for i, d in enumerate(directives) if d["key"] == "include"][0]
    first_main_after = [d for d in directives[include_index + 1:] if d["file"] == MAIN][0]
    assert directives.index(first_main_after) > include_index + 2


def test_match_in_a_dropin_does_not_leak_into_the_next_file():
    files = {MAIN: DEB12, DIR + "/10-a.conf": "Match User bob\n  MaxSessions 3\n", DIR + "/20-b.conf": "ClientAliveInterval 9\n"}
    directives, _notes = sp.expand(MAIN, files)
    assert sp.winner(directives, "ClientAliveInterval")["file"] == DIR + "/20-b.conf"
    assert sp.winner(directives, "MaxSessions") is None


@pytest.mark.parametrize(
    "keyword, lines, winning_value",
    [
        ("ClientAliveInterval", ["ClientAliveInterval 0", "ClientAliveInterval 60"], "0"),
        ("MaxStartups", ["MaxStartups 10:30:60", "MaxStartups 10:30:100"], "10:30:100"),
        ("PerSourcePenaltyExemptList", ["PerSourcePenaltyExemptList 10.1.0.0/16", "PerSourcePenaltyExemptList 10.2.0.0/16"], "10.1.0.0/16"),
    ],
)
def test_winner_follows_each_keywords_own_rule(keyword, lines, winning_value):
    files = {MAIN: "\n".join(lines) + "\n"}
    directives, _notes = sp.expand(MAIN, files)
    assert sp.winner(directives, keyword)["value"] == winning_value


# --- placement ---------------------------------------------------------------------------
def test_stock_debian12_gets_one_dropin_and_no_conflicts():
    result = plan({MAIN: DEB12})
    assert result["mode"] == "dropin"
    assert result["errors"] == [] and result["conflicts"] == []
    assert list(result["new_files"]) == [OURS]
    assert result["new_files"][OURS].splitlines()[-4:] == [
        "ClientAliveInterval 60", "ClientAliveCountMax 3", "MaxSessions 10", "MaxStartups 10:30:100"]
    assert all(w["file"] == OURS for w in result["winners"].values())


@pytest.mark.parametrize(
    "extra_files, main_text, expected_conflicts",
    [
        # an earlier drop-in wins a first-value keyword
        ({DIR + "/00-conflict.conf": "ClientAliveInterval 0\n"}, DEB12,
         [(DIR + "/00-conflict.conf", 1, "ClientAliveInterval")]),
        # a later drop-in wins MaxStartups, which keeps the last value
        ({DIR + "/50-cloud-init.conf": "PasswordAuthentication no\nMaxStartups 20:30:60\n"}, DEB12,
         [(DIR + "/50-cloud-init.conf", 2, "MaxStartups")]),
        # a later drop-in does NOT win a first-value keyword
        ({DIR + "/50-cloud-init.conf": "ClientAliveInterval 0\n"}, DEB12, []),
        # a later drop-in with the requested MaxStartups is read instead of ours, harmlessly
        ({DIR + "/50-cloud-init.conf": "MaxStartups 10:30:100\n"}, DEB12, []),
        # the main file above the Include wins a first-value keyword
        ({}, "ClientAliveCountMax 0\n" + DEB12, [(MAIN, 1, "ClientAliveCountMax")]),
        # the main file after the Include wins MaxStartups
        ({}, DEB12 + "MaxStartups 5\n", [(MAIN, len(DEB12.splitlines()) + 1, "MaxStartups")]),
        # a line inside a Match block is not a global conflict
        ({DIR + "/00-a.conf": "Match User bob\n  ClientAliveInterval 0\n"}, DEB12, []),
    ],
)
def test_lines_that_still_win_are_reported_with_file_and_line(extra_files, main_text, expected_conflicts):
    files = {MAIN: main_text}
    files.update(extra_files)
    result = plan(files)
    assert result["errors"] == []
    assert [(c["file"], c["line"], c["keyword"]) for c in result["conflicts"]] == expected_conflicts


def test_comment_out_conflicts_marks_each_winning_line_and_ours_win():
    files = {
        MAIN: DEB12 + "MaxStartups 5\n",
        DIR + "/00-conflict.conf": "ClientAliveInterval 0\nClientAliveInterval 1\n",
        DIR + "/50-cloud-init.conf": "PasswordAuthentication no\nMaxStartups 20:30:60\n",
    }
    result = plan(files, comment_out_conflicts=True)
    assert result["conflicts"] == []
    assert sorted((c["file"], c["line"]) for c in result["commented_out"]) == sorted([
        (DIR + "/00-conflict.conf", 1), (DIR + "/00-conflict.conf", 2),
        (DIR + "/50-cloud-init.conf", 2), (MAIN, len(DEB12.splitlines()) + 1)])
    conflict = result["new_files"][DIR + "/00-conflict.conf"].splitlines()
    assert conflict[0] == "# [sshdoctor.connreset] disabled, overridden by %s: ClientAliveInterval 0" % OURS
    assert result["new_files"][DIR + "/50-cloud-init.conf"].splitlines()[0] == "PasswordAuthentication no"
    assert all(w["file"] == OURS for w in result["winners"].values())
    # the result is stable: planning again on the new files changes nothing
    after = dict(files)
    after.update(result["new_files"])
    again = plan(after, comment_out_conflicts=True)
    assert again["new_files"] == {} and again["conflicts"] == [] and again["commented_out"] == []


def test_no_include_appends_a_block_at_the_end_of_the_main_file():
    result = plan({MAIN: DEB12_NO_INCLUDE})
    assert result["mode"] == "main_file"
    assert list(result["new_files"]) == [MAIN]
    lines = result["new_files"][MAIN].splitlines()
    assert lines[-6:] == [sp.BLOCK_BEGIN, "ClientAliveInterval 60", "ClientAliveCountMax 3",
                          "MaxSessions 10", "MaxStartups 10:30:100", sp.BLOCK_END]
    assert lines[:-6] == DEB12_NO_INCLUDE.splitlines()


@pytest.mark.parametrize("stock", [DEB11, DEB13], ids=["debian11", "debian13"])
def test_no_include_and_a_trailing_match_puts_the_block_above_the_match_and_its_comment(stock):
    main = stock.replace("Include /etc/ssh/sshd_config.d/*.conf\n", "") + TRAILING_MATCH
    result = plan({MAIN: main})
    assert result["mode"] == "main_file" and result["conflicts"] == []
    lines = result["new_files"][MAIN].splitlines()
    begin = lines.index(sp.BLOCK_BEGIN)
    assert lines[begin + 5] == sp.BLOCK_END
    assert lines[begin + 6:] == ["# Per-user overrides", "Match User deploy", "\tX11Forwarding no"]
    directives, _notes = sp.expand(MAIN, result["new_files"])
    assert sp.winner(directives, "MaxStartups")["value"] == "10:30:100"


def test_a_block_that_ended_up_inside_a_match_is_moved_above_it():
    main = DEB12_NO_INCLUDE + TRAILING_MATCH + "\n".join(sp.render_block(FULL)) + "\n"
    result = plan({MAIN: main})
    lines = result["new_files"][MAIN].splitlines()
    assert lines.count(sp.BLOCK_BEGIN) == 1
    assert lines.index(sp.BLOCK_BEGIN) < lines.index("Match User deploy")


def test_main_file_conflict_above_the_block_is_found_and_can_be_commented_out():
    main = DEB12_NO_INCLUDE.replace("#ClientAliveInterval 0", "ClientAliveInterval 0")
    number = line_of(main, "ClientAliveInterval 0")
    result = plan({MAIN: main})
    assert [(c["file"], c["line"]) for c in result["conflicts"]] == [(MAIN, number)]
    fixed = plan({MAIN: main}, comment_out_conflicts=True)
    assert fixed["conflicts"] == []
    new_main = fixed["new_files"][MAIN].splitlines()
    assert new_main[number - 1].startswith("# [sshdoctor.connreset] disabled, overridden by /etc/ssh/sshd_config:")


def test_include_only_inside_match_means_main_file_and_forced_dropin_fails():
    main = DEB12_NO_INCLUDE + "Match User deploy\n  Include /etc/ssh/sshd_config.d/*.conf\n"
    assert plan({MAIN: main})["mode"] == "main_file"
    forced = plan({MAIN: main}, placement="dropin")
    assert forced["mode"] is None
    assert "would not be read by sshd" in forced["errors"][0]


def test_forced_main_file_mode_with_an_include_still_edits_the_main_file():
    result = plan({MAIN: DEB13 + TRAILING_MATCH}, placement="main_file")
    assert result["mode"] == "main_file" and list(result["new_files"]) == [MAIN]


def test_relative_include_is_under_etc_ssh():
    main = DEB12_NO_INCLUDE + "Include sshd_config.d/*.conf\n"
    assert plan({MAIN: main})["mode"] == "dropin"


def test_dropin_name_not_matching_the_glob_falls_back_to_the_main_file():
    result = plan({MAIN: DEB12}, dropin_name="sshdoctor.cfg")
    assert result["mode"] == "main_file"
    assert any("does not end in .conf" in n for n in result["notes"])


def test_switching_to_dropin_removes_our_old_block_from_the_main_file():
    main = DEB12 + "\n".join(sp.render_block(FULL)) + "\n"
    result = plan({MAIN: main})
    assert result["mode"] == "dropin"
    assert sp.BLOCK_BEGIN not in result["new_files"][MAIN]
    assert result["new_files"][MAIN] == DEB12


def test_switching_to_main_file_removes_our_old_dropin():
    result = plan({MAIN: DEB12, OURS: sp.render_dropin(FULL)}, placement="main_file")
    assert result["new_files"][OURS] is None


def test_nothing_managed_removes_our_dropin():
    result = plan({MAIN: DEB12, OURS: sp.render_dropin(FULL)}, rendered={})
    assert result["new_files"] == {OURS: None}


def test_match_overrides_are_reported():
    files = {MAIN: DEB12 + TRAILING_MATCH + "\tClientAliveInterval 0\n"}
    result = plan(files)
    assert [(o["keyword"], o["value"], o["match"]) for o in result["match_overrides"]] == [
        ("ClientAliveInterval", "0", "User deploy")]


@pytest.mark.parametrize(
    "files",
    [
        {MAIN: DEB12},
        {MAIN: DEB12_NO_INCLUDE},
        {MAIN: DEB11.replace("Include /etc/ssh/sshd_config.d/*.conf\n", "") + TRAILING_MATCH},
        {MAIN: DEB13, DIR + "/00-conflict.conf": "ClientAliveInterval 0\n"},
    ],
)
def test_second_plan_changes_nothing(files):
    first = plan(files, comment_out_conflicts=True)
    after = dict(files)
    after.update(first["new_files"])
    after = dict((p, t) for p, t in after.items() if t is not None)
    assert plan(after, comment_out_conflicts=True)["new_files"] == {}


# --- Include loops and size: the walk sshd_info uses, with sshd's depth rule ---------------
def self_including(count, main=DEB12):
    """``count`` drop-ins that each include the whole directory again (issue 17's case)."""
    files = {MAIN: main}
    for i in range(count):
        files["%s/%02d-loop.conf" % (DIR, i)] = "Include /etc/ssh/sshd_config.d/*.conf\nMaxSessions %d\n" % i
    return files


def sharing_one_file(count):
    """``count`` drop-ins that each include one common file: valid, and read once per drop-in."""
    files = {MAIN: DEB12, "/etc/ssh/common.conf": "PasswordAuthentication no\n"}
    for i in range(count):
        files["%s/%02d-share.conf" % (DIR, i)] = "Include /etc/ssh/common.conf\nX11Forwarding no\n"
    return files


@pytest.mark.parametrize("count", [8, 9, 10, 11, 12])
def test_self_including_dropins_are_refused_as_sshd_refuses_them(count):
    # sshd 8.4, 9.2 and 10.0 stop on such a directory with "Too many recursive configuration
    # includes" (captured: debianNN/sshd_include.json, eight_self_including_dropins); planning
    # used to try every order of the files (8 of them: 7.6 s, 9: over 30 s).
    result = plan(self_including(count))
    assert result["new_files"] == {} and result["mode"] is None
    assert any("Too many recursive configuration includes" in e and "00-loop.conf line 1" in e
               for e in result["errors"]), result["errors"]


def test_a_file_shared_by_many_dropins_is_read_for_each_and_placement_succeeds():
    result = plan(sharing_one_file(40))
    assert result["errors"] == [] and result["mode"] == "dropin" and list(result["new_files"]) == [OURS]


def _planning_seconds(files, repeat=7):
    """Best of ``repeat`` runs, with the garbage collector held: its full collections cost
    time in proportion to everything else the test process holds, not to this work."""
    best = None
    gc.collect()
    gc.disable()
    try:
        for dummy in range(repeat):
            started = time.perf_counter()
            plan(files)
            elapsed = time.perf_counter() - started
            best = elapsed if best is None else min(best, elapsed)
    finally:
        gc.enable()
    return best


@pytest.mark.parametrize("layout", [self_including, sharing_one_file], ids=["self_including", "sharing_one_file"])
def test_planning_time_grows_at_most_linearly_with_the_number_of_dropins(layout):
    """The property: planning N drop-ins costs at most a linear multiple of planning 8.

    Stated against the machine's own small case (best of 7 runs each), never as
    seconds; the slack of 3 absorbs noise on a shared machine. Factorial growth
    (the old planner) exceeded this bound by orders of magnitude already at 8 -> 16.
    """
    small = 8
    base = _planning_seconds(layout(small))
    for count in (16, 32, 64):
        assert _planning_seconds(layout(count)) <= 3 * (count / small) * base + 0.002, count


def test_the_walk_of_self_including_dropins_stops_after_sshd_depth_whatever_their_number():
    for count in (8, 64):
        walk = sp.walk_files(MAIN, self_including(count))
        assert walk["fatal"] is not None and walk["visits"] == MAX_INCLUDE_DEPTH + 1


@pytest.mark.parametrize("count", [8, 64])
def test_the_walk_reads_each_file_once_and_globs_each_pattern_once(count):
    # the deterministic side of the property above: work per drop-in is constant
    from ansible_collections.sshdoctor.connreset.plugins.module_utils import _sshd_config as cfg

    files = sharing_one_file(count)
    reads, globs = [], []

    def read(path):
        reads.append(path)
        return files.get(path)

    def glob(pattern):
        globs.append(pattern)
        return sorted(p for p in files if sp.glob_match(pattern, p))

    walk = cfg.walk_config(MAIN, read, glob)
    assert walk["visits"] == 2 * count + 1 and not walk["truncated"]
    assert sorted(reads) == sorted(set(reads)) and len(reads) == count + 2
    assert sorted(globs) == ["/etc/ssh/common.conf", "/etc/ssh/sshd_config.d/*.conf"]


def test_placement_and_sshd_info_read_the_same_directives():
    # one walk for both: what the planner sees is what sshd_info's provenance sees
    from ansible_collections.sshdoctor.connreset.plugins.module_utils import _sshd_config as cfg

    files = {MAIN: DEB12 + TRAILING_MATCH, DIR + "/10-a.conf": "Match all\nMaxStartups 4:30:40\n",
             DIR + "/20-b.conf": "ClientAliveInterval 9\n"}
    directives, _notes = sp.expand(MAIN, files)
    walk = cfg.walk_config(MAIN, files.get, lambda pattern: sorted(p for p in files if sp.glob_match(pattern, p)))
    assert directives == walk["entries"]
    # measured (sshd_include.json, match_all_returns_to_global): after "Match all" a line is global again
    assert sp.winner(directives, "MaxStartups")["file"] == DIR + "/10-a.conf"
    assert cfg.provenance(walk["entries"])["MaxStartups"]["file"] == DIR + "/10-a.conf"


# --- sshd -T, systemd ---------------------------------------------------------------------
@pytest.mark.parametrize("release", ["debian11", "debian12", "debian13"])
def test_verify_endpoint_from_captured_sshd_T(release):
    effective = sp.parse_sshd_T(read_fixture(release + "/sshd_placement/sshd_T.txt"))
    assert sp.verify_endpoint(effective) == {"address": "127.0.0.1", "port": 22}
    assert sp.effective_mismatches({"MaxStartups": "10:30:100", "MaxSessions": "10"}, effective) == []
    assert sp.effective_mismatches({"ClientAliveInterval": "60"}, effective) == [
        {"keyword": "ClientAliveInterval", "wanted": "60", "effective": "0"}]


@pytest.mark.parametrize(
    "existing, key_type",
    [
        (None, "ed25519"),
        ({"/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key"}, "ecdsa"),
        ({"/etc/ssh/ssh_host_rsa_key"}, "rsa"),
        (set(), None),
    ],
)
def test_keyscan_asks_only_for_a_key_type_sshd_has(existing, key_type):
    effective = sp.parse_sshd_T(read_fixture("debian13/sshd_placement/sshd_T.txt"))
    exists = None if existing is None else existing.__contains__
    assert sp.keyscan_type(effective, exists) == key_type


@pytest.mark.parametrize(
    "listen, endpoint",
    [
        (["[::]:2222"], {"address": "::1", "port": 2222}),
        (["192.0.2.5:22", "[::1]:22"], {"address": "192.0.2.5", "port": 22}),
        ([], {"address": "127.0.0.1", "port": 22}),
    ],
)
def test_verify_endpoint_prefers_ipv4_and_loopback_for_wildcards(listen, endpoint):
    assert sp.verify_endpoint({"listenaddress": listen, "port": "22"}) == endpoint


@pytest.mark.parametrize("release", ["debian11", "debian12", "debian13"])
def test_service_state_from_captured_systemctl_show(release):
    units = sp.parse_systemctl_show(read_fixture(release + "/sshd_placement/systemctl_show_units.txt"))
    assert sp.service_state(units) == {
        "unit": "ssh", "service_active": True, "socket_activated": False, "socket_unit": None, "socket_accept": False,
        "manager": "systemd", "enabled": "enabled", "running": True, "restart": True, "message": None}


@pytest.mark.parametrize("release", ["debian11", "debian12", "debian13"])
def test_a_disabled_and_stopped_ssh_service_is_not_restarted(release):
    # captured after `systemctl disable --now ssh.service` on a booted container
    units = sp.parse_systemctl_show(read_fixture(release + "/sshd_placement/systemctl_show_units_disabled_stopped.txt"))
    state = sp.service_state(units)
    assert (state["unit"], state["enabled"], state["running"], state["restart"]) == ("ssh", "disabled", False, False)
    assert state["message"] == ("sshd is not running: the new settings apply when it starts "
                                "(ssh.service is disabled and inactive); nothing was started")


@pytest.mark.parametrize("release", ["debian12", "debian13"])
def test_a_socket_activated_sshd_counts_as_running(release):
    # captured after `systemctl disable --now ssh.service; systemctl enable --now ssh.socket` (Accept=no)
    units = sp.parse_systemctl_show(read_fixture(release + "/sshd_placement/systemctl_show_units_socket.txt"))
    state = sp.service_state(units)
    assert state["socket_activated"] and not state["socket_accept"] and not state["service_active"]
    assert state["running"] and state["restart"]


def test_service_state_with_an_active_per_connection_socket():
    # Transcribed, not captured: what systemctl shows for an ssh.socket with Accept=yes.
    text = ("Id=ssh.service\nLoadState=loaded\nActiveState=inactive\n\n"
            "Accept=yes\nId=ssh.socket\nLoadState=loaded\nActiveState=active\n")
    state = sp.service_state(sp.parse_systemctl_show(text))
    assert state["socket_activated"] and state["socket_accept"] and state["socket_unit"] == "ssh.socket"


@pytest.mark.parametrize(
    "facts, manager",
    [
        # podman run IMAGE sleep infinity: /proc/1/comm says "sleep" (captured), no /run/systemd/system
        ({"chroot": False, "pid1": "sleep", "systemd_booted": False}, "none"),
        ({"chroot": False, "pid1": "catatonit", "systemd_booted": False}, "none"),
        # a booted container: /proc/1/comm is "systemd" (captured)
        ({"chroot": False, "pid1": "systemd", "systemd_booted": True}, "systemd"),
        # a chroot with the outer /proc mounted (Packer's chroot builders mount it): PID 1 is the outer systemd
        ({"chroot": True, "pid1": "systemd", "systemd_booted": False}, "none"),
        ({"chroot": True, "pid1": "systemd", "systemd_booted": True}, "none"),
        # a chroot without /proc
        ({"chroot": None, "pid1": None, "systemd_booted": False}, "none"),
        # SysV init on a VM
        ({"chroot": False, "pid1": "init", "systemd_booted": False}, "init"),
    ],
)
def test_service_manager_is_found_from_process_1_and_chroot(facts, manager):
    assert sp.service_manager(facts)[0] == manager


@pytest.mark.parametrize(
    "manager, listeners, running, restart, message",
    [
        ("none", [], False, False, "sshd is not running: the new settings apply when it starts"),
        ("none", [42], True, False, "sshd runs (pid 42) but no service manager runs it"),
        ("init", [42], True, True, None),
        ("init", [], False, False, "sshd is not running"),
    ],
)
def test_without_systemd_only_a_running_sshd_under_a_service_manager_is_restarted(manager, listeners, running, restart, message):
    state = sp.service_state([], manager, "why", listeners)
    assert (state["running"], state["restart"]) == (running, restart)
    assert (state["message"] is None) if message is None else state["message"].startswith(message)


def test_sshd_t_errors_from_captured_output():
    errors = sp.parse_sshd_t_errors(read_fixture("debian12/sshd_placement/sshd_t_maxstartups_in_match.txt"))
    assert errors == [{"file": "/etc/ssh/sshd_config.d/10-x.conf", "line": 2,
                       "message": "Directive 'MaxStartups' is not allowed within a Match block"}]


# --- apply_placement with a recorded host ---------------------------------------------------
class FakeSystem:
    """What LocalSystem.facts() reads, as data."""

    def __init__(self, pid1="systemd", systemd_booted=True, chroot=False):
        self.values = {"pid1": pid1, "systemd_booted": systemd_booted, "chroot": chroot}

    def facts(self):
        return dict(self.values)


BOOTED = FakeSystem()
NO_INIT = FakeSystem(pid1="sleep", systemd_booted=False)


class SshdHost(FakeHost):
    """A FakeHost whose sshd -t / -T answers are listed per call."""

    systemctl_fixture = "debian12/sshd_placement/systemctl_show_units.txt"

    def __init__(self, files, test_results, T_outputs, **kwargs):
        FakeHost.__init__(self, files=files, tools={"sshd": "/usr/sbin/sshd", "systemctl": "/usr/bin/systemctl",
                                                    "ssh-keygen": "/usr/bin/ssh-keygen", "ps": "/usr/bin/ps"}, **kwargs)
        self.test_results = list(test_results)
        self.T_outputs = list(T_outputs)
        self.dirs = set()
        self.processes = ""

    def exists(self, path):
        return path in self.dirs or FakeHost.exists(self, path)

    def sshd_test(self, argv):
        return self.test_results.pop(0)

    def sshd_dump(self, argv):
        return 0, self.T_outputs.pop(0), ""

    def run(self, argv, data=None):
        argv = tuple(argv)
        self.calls.append(argv)
        if argv == ("/usr/sbin/sshd", "-V"):
            return CommandResult(0, read_fixture("debian12/sshd_placement/sshd_V.txt"), "")
        if argv[:2] == ("/usr/sbin/sshd", "-t"):
            return CommandResult(*self.sshd_test(argv))
        if argv[:2] == ("/usr/sbin/sshd", "-T"):
            return CommandResult(*self.sshd_dump(argv))
        if argv[0] == "systemctl":
            return CommandResult(0, read_fixture(self.systemctl_fixture), "")
        if argv[0] == "/usr/bin/ssh-keygen":
            self.files[argv[argv.index("-f") + 1]] = "PRIVATE KEY"
            return CommandResult(0, "", "")
        if argv[0] == "ps":
            return CommandResult(0, self.processes, "")
        raise AssertionError("unexpected command %r" % (argv,))


class ImageHost(SshdHost):
    """sshd as measured where it is not running (OpenSSH 8.4, 9.2, 10.0; fixtures
    debianNN/sshd_placement/sshd_t_*.txt): configuration errors first, then missing host
    keys (rc 1), then a missing /run/sshd (rc 255). Which one applies follows the fake's
    files and directories, so what the module provides (and removes) changes the answer."""

    def __init__(self, files, release="debian12", privsep=False, host_keys=True, **kwargs):
        SshdHost.__init__(self, files, [], [], **kwargs)
        self.release = release
        if privsep:
            self.dirs.add("/run/sshd")
        if host_keys:
            self.files["/etc/ssh/ssh_host_ed25519_key"] = "PRIVATE KEY"
        self.ever_dirs = set(self.dirs)

    def _complaint(self, argv):
        if any("NoSuchOption" in (text or "") for text in self.files.values()):
            return 255, "", read_fixture(self.release + "/sshd_placement/sshd_t_syntax_error_no_privsep_dir.txt")
        key_given = "-h" in argv and argv[argv.index("-h") + 1] in self.files
        if "/etc/ssh/ssh_host_ed25519_key" not in self.files and not key_given:
            return 1, "", read_fixture(self.release + "/sshd_placement/sshd_t_no_hostkeys.txt")
        if "/run/sshd" not in self.dirs:
            return 255, "", read_fixture(self.release + "/sshd_placement/sshd_t_no_privsep_dir.txt")
        return None

    def sshd_test(self, argv):
        return self._complaint(argv) or (0, "", "")

    def sshd_dump(self, argv):
        complaint = self._complaint(argv)
        if complaint:
            return complaint
        text = read_fixture(self.release + "/sshd_placement/sshd_T.txt")
        for path, body in sorted(self.files.items()):
            if path.startswith(DIR + "/00-sshdoctor"):
                for line in body.splitlines():
                    if line.startswith("ClientAliveInterval "):
                        text = text.replace("clientaliveinterval 0", "clientaliveinterval " + line.split()[1])
        return 0, text, ""


class FakeWriter:
    def __init__(self, host):
        self.host = host
        self.backups = {}
        self.made = []

    def backup(self, path, stamp):
        target = "/backup/%s%s" % (stamp, path)
        self.backups[target] = self.host.files[path]
        return target

    def restore(self, backup, path):
        self.host.files[path] = self.backups[backup]

    def remove(self, path):
        self.host.files.pop(path, None)

    def write(self, path, text, template=None):
        self.host.files[path] = text

    def make_dir(self, path, mode):
        assert mode == 0o755
        self.made.append(path)
        self.host.dirs.add(path)
        self.host.ever_dirs = getattr(self.host, "ever_dirs", set()) | {path}

    def remove_dir(self, path):
        self.host.dirs.discard(path)

    def scratch_dir(self):
        self.made.append("/tmp/sshdoctor-validate-x")
        self.host.dirs.add("/tmp/sshdoctor-validate-x")
        return "/tmp/sshdoctor-validate-x"

    def remove_tree(self, path):
        self.host.dirs.discard(path)
        for name in [p for p in self.host.files if p.startswith(path + "/")]:
            del self.host.files[name]


def apply(host, settings, system=BOOTED, **kwargs):
    return sp.apply_placement(host, FakeWriter(host), settings, system=system, **kwargs)


STOCK_T = read_fixture("debian12/sshd_placement/sshd_T.txt")
FIXED_T = (STOCK_T.replace("clientaliveinterval 0", "clientaliveinterval 60"))


def test_apply_writes_the_dropin_after_backups_and_validates_the_whole_config():
    host = SshdHost({MAIN: DEB12}, [(0, "", ""), (0, "", "")], [STOCK_T, FIXED_T])
    result, failure = apply(host, {"ClientAliveInterval": 60, "MaxStartups": "10:30:100"})
    assert failure is None
    assert result["changed"] and result["mode"] == "dropin"
    assert result["files"] == [{"path": OURS, "action": "create"}]
    assert result["backups"] == [{"path": OURS, "backup": None}]
    assert host.files[OURS].endswith("ClientAliveInterval 60\nMaxStartups 10:30:100\n")
    assert ("/usr/sbin/sshd", "-t", "-f", MAIN) in host.calls
    assert result["service"]["unit"] == "ssh" and result["listeners_changed"] is False
    assert result["service"]["restart"] is True
    assert result["effective_after"]["clientaliveinterval"] == "60"
    assert result["validation"] == {"environment": []}


def test_apply_in_check_mode_writes_nothing_and_shows_the_diff():
    host = SshdHost({MAIN: DEB12}, [(0, "", "")], [STOCK_T])
    result, failure = apply(host, {"ClientAliveInterval": 60}, check_mode=True)
    assert failure is None and result["changed"]
    assert OURS not in host.files
    assert result["diff"][0]["after_header"] == OURS and "ClientAliveInterval 60" in result["diff"][0]["after"]


def test_apply_refuses_an_already_invalid_configuration():
    error = read_fixture("debian12/sshd_placement/sshd_t_maxstartups_in_match.txt")
    host = SshdHost({MAIN: DEB12}, [(255, "", error)], [])
    result, failure = apply(host, {"ClientAliveInterval": 60})
    assert "already invalid" in failure and "10-x.conf line 2" in failure
    assert result["config_valid_before"] is False and result["changed"] is False
    assert OURS not in host.files


def test_apply_restores_the_previous_files_when_sshd_t_rejects_the_result():
    conflict = DIR + "/00-conflict.conf"
    host = SshdHost({MAIN: DEB12, conflict: "ClientAliveInterval 0\n"},
                    [(0, "", ""), (255, "", "/etc/ssh/sshd_config line 3: Bad configuration option: x\n")], [STOCK_T])
    result, failure = apply(host, {"ClientAliveInterval": 60}, comment_out_conflicts=True)
    assert "sshd -t rejected" in failure
    assert host.files == {MAIN: DEB12, conflict: "ClientAliveInterval 0\n"}
    assert result["changed"] is False


def test_apply_restores_when_sshd_T_does_not_show_the_requested_value():
    host = SshdHost({MAIN: DEB12}, [(0, "", ""), (0, "", "")], [STOCK_T, STOCK_T])
    _result, failure = apply(host, {"ClientAliveInterval": 60})
    assert "does not show the requested values" in failure
    assert OURS not in host.files


def test_apply_fails_naming_the_winning_line():
    conflict = DIR + "/00-conflict.conf"
    host = SshdHost({MAIN: DEB12, conflict: "ClientAliveInterval 0\n"}, [(0, "", "")], [STOCK_T])
    result, failure = apply(host, {"ClientAliveInterval": 60})
    assert "%s line 1 (ClientAliveInterval 0, wanted 60)" % conflict in failure
    assert result["conflicts"][0]["file"] == conflict
    assert OURS not in host.files


def test_apply_needs_root():
    host = SshdHost({MAIN: DEB12}, [], [], root=False)
    _result, failure = apply(host, {"ClientAliveInterval": 60})
    assert "must run as root" in failure


def test_apply_twice_changes_nothing_the_second_time():
    host = SshdHost({MAIN: DEB12}, [(0, "", ""), (0, "", ""), (0, "", "")], [STOCK_T, FIXED_T, FIXED_T])
    apply(host, {"ClientAliveInterval": 60})
    result, failure = apply(host, {"ClientAliveInterval": 60})
    assert failure is None and result["changed"] is False and result["files"] == []


# --- where sshd is not running (issue 16) ---------------------------------------------------
@pytest.mark.parametrize("release", ["debian11", "debian12", "debian13"])
@pytest.mark.parametrize("check_mode", [False, True])
def test_a_missing_privsep_dir_is_provided_for_the_check_and_removed_again(release, check_mode):
    host = ImageHost({MAIN: DEB12}, release=release, privsep=False)
    result, failure = apply(host, {"ClientAliveInterval": 60}, system=NO_INIT, check_mode=check_mode)
    assert failure is None and result["changed"] and result["config_valid_before"] is True
    assert "/run/sshd" in host.ever_dirs and "/run/sshd" not in host.dirs  # made for the check, gone after
    assert [(e["kind"], e["missing"]) for e in result["validation"]["environment"]] == [("privsep_dir", "/run/sshd")]
    assert "removed it again" in result["validation"]["environment"][0]["handled"]
    assert any("sshd -t could not run here as it is (Missing privilege separation directory: /run/sshd)" in n
               for n in result["notes"])
    assert (OURS in host.files) is not check_mode
    if not check_mode:
        assert result["effective_after"]["clientaliveinterval"] == "60"  # sshd -T on the candidate
    assert result["service"]["manager"] == "none" and result["service"]["restart"] is False
    assert result["service"]["message"].startswith("sshd is not running: the new settings apply when it starts")
    assert not any(c[0] == "systemctl" for c in host.calls)


def test_missing_host_keys_are_replaced_by_a_temporary_key_that_is_deleted_and_never_written():
    host = ImageHost({MAIN: DEB12}, release="debian13", privsep=False, host_keys=False)
    result, failure = apply(host, {"ClientAliveInterval": 60}, system=NO_INIT)
    assert failure is None and result["changed"]
    kinds = [e["kind"] for e in result["validation"]["environment"]]
    assert kinds == ["host_keys", "privsep_dir"]  # sshd names the keys first, then the directory
    assert ("/usr/sbin/sshd", "-t", "-f", MAIN, "-h", "/tmp/sshdoctor-validate-x/hostkey") in host.calls
    assert not [p for p in host.files if p.startswith("/etc/ssh/ssh_host_") or p.startswith("/tmp/")]
    assert host.dirs == set()


@pytest.mark.parametrize("release", ["debian11", "debian12", "debian13"])
def test_a_real_syntax_error_still_stops_the_role_where_sshd_is_not_running(release):
    main = "NoSuchOption yes\n" + DEB12
    host = ImageHost({MAIN: main}, release=release, privsep=False)
    result, failure = apply(host, {"ClientAliveInterval": 60}, system=NO_INIT)
    assert "already invalid" in failure and "Bad configuration option: NoSuchOption" in failure
    assert result["config_valid_before"] is False and result["validation"]["environment"] == []
    assert host.files == {MAIN: main, "/etc/ssh/ssh_host_ed25519_key": "PRIVATE KEY"} and host.dirs == set()


def test_what_cannot_be_provided_is_not_called_invalid():
    host = ImageHost({MAIN: DEB12}, privsep=False, host_keys=False)
    del host.tools["ssh-keygen"]
    result, failure = apply(host, {"ClientAliveInterval": 60}, system=NO_INIT)
    assert "cannot check the configuration here" in failure and "not a configuration error" in failure
    assert result["config_valid_before"] is None and OURS not in host.files


def test_the_directory_stays_when_sshd_started_meanwhile():
    class Starting(ImageHost):
        def sshd_dump(self, argv):
            self.files["/run/sshd.pid"] = "4242\n"
            self.dirs.add("/proc/4242")
            return ImageHost.sshd_dump(self, argv)

    host = Starting({MAIN: DEB12}, privsep=False)
    result, _failure = apply(host, {"ClientAliveInterval": 60}, system=NO_INIT)
    assert "/run/sshd" in host.dirs
    assert "kept, since an sshd (pid 4242) started meanwhile" in result["validation"]["environment"][0]["handled"]


def test_a_stopped_and_disabled_ssh_service_is_written_validated_and_left_alone():
    host = ImageHost({MAIN: DEB12}, privsep=False)
    host.systemctl_fixture = "debian12/sshd_placement/systemctl_show_units_disabled_stopped.txt"
    result, failure = apply(host, {"ClientAliveInterval": 60})
    assert failure is None and result["changed"] and OURS in host.files
    service = result["service"]
    assert (service["manager"], service["enabled"], service["running"], service["restart"]) == ("systemd", "disabled", False, False)
    assert "ssh.service is disabled and inactive" in service["message"]


OUTER_LISTENER = " 77     1 sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups\n"


@pytest.mark.parametrize(
    "system",
    [
        FakeSystem(chroot=True),
        # this machine's own case: /proc mounted in the chroot, /proc/1/root not readable
        # (EACCES), process 1 some other program, the outer sshd listening as pid 77
        FakeSystem(chroot=None, pid1="process_api", systemd_booted=False),
        FakeSystem(chroot=None, pid1="systemd", systemd_booted=False),
        FakeSystem(chroot=None, pid1="init", systemd_booted=False),
    ],
    ids=["chroot", "chroot_undetectable", "outer_systemd", "outer_sysv_init"],
)
def test_in_a_chroot_the_outer_sshd_is_not_mistaken_for_this_systems(system):
    host = ImageHost({MAIN: DEB12}, privsep=False)
    host.processes = "  1     0 /sbin/init\n" + OUTER_LISTENER
    host.dirs.add("/proc/77")
    result, _failure = apply(host, {"ClientAliveInterval": 60}, system=system)
    assert result["service"]["running"] is False and result["service"]["restart"] is False
    assert not any(c[0] == "systemctl" for c in host.calls)


def test_an_sshd_started_by_a_container_entrypoint_is_seen_and_not_restarted():
    host = ImageHost({MAIN: DEB12, "/run/sshd.pid": "77\n"}, privsep=True)
    host.processes = "  1     0 sleep infinity\n" + OUTER_LISTENER
    host.dirs.add("/proc/77")
    result, _failure = apply(host, {"ClientAliveInterval": 60}, system=NO_INIT)
    assert result["service"]["running"] is True and result["service"]["restart"] is False
    assert "sshd runs (pid 77) but no service manager runs it" in result["service"]["message"]


# --- drift check (check_only) ---------------------------------------------------------------
def test_drift_check_names_wanted_effective_and_the_supplying_line_and_changes_nothing():
    conflict = DIR + "/50-image.conf"
    files = {MAIN: DEB12, conflict: "ClientAliveInterval 0\n"}
    host = ImageHost(dict(files), privsep=False)
    result, failure = apply(host, FULL, system=NO_INIT, check_only=True)
    assert failure is None and result["changed"] is False and result["files"] == [] and result["backups"] == []
    assert OURS not in host.files and host.dirs == set()
    lines = dict((d["keyword"], d) for d in result["drift"])
    assert lines["ClientAliveInterval"]["ok"] is False
    assert lines["ClientAliveInterval"]["line_text"] == (
        "ClientAliveInterval: DRIFT, wanted 60, effective 0, from %s line 1" % conflict)
    assert lines["MaxStartups"]["ok"] is True
    assert lines["MaxStartups"]["line_text"] == (
        "MaxStartups: ok, wanted 10:30:100, effective 10:30:100, from sshd's default (no line sets it)")


def test_drift_check_passes_after_the_role_and_fails_on_an_invalid_configuration():
    host = ImageHost({MAIN: DEB12, OURS: sp.render_dropin({"ClientAliveInterval": "60"})}, privsep=True)
    result, failure = apply(host, {"ClientAliveInterval": 60}, system=NO_INIT, check_only=True)
    assert failure is None and [d["ok"] for d in result["drift"]] == [True]
    assert result["drift"][0]["file"] == OURS
    host = ImageHost({MAIN: "NoSuchOption yes\n" + DEB12}, privsep=True)
    _result, failure = apply(host, {"ClientAliveInterval": 60}, system=NO_INIT, check_only=True)
    assert "already invalid" in failure


# --- arbitrary text ------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(main=st.text(max_size=400), dropin=st.text(max_size=200), comment=st.booleans())
def test_arbitrary_text_never_raises(main, dropin, comment):
    files = {MAIN: "Include /etc/ssh/sshd_config.d/*.conf\n" + main, DIR + "/10-x.conf": dropin}
    sp.tokenize(main)
    sp.parse_sshd_T(main)
    sp.parse_sshd_t_errors(main)
    sp.parse_systemctl_show(main)
    result = plan(files, comment_out_conflicts=comment)
    assert isinstance(result["new_files"], dict)


def test_result_keys_avoid_names_ansible_reserves():
    # A 'skipped' key once made Ansible ignore changed_when on this module's task.
    host = SshdHost({MAIN: DEB12}, [(0, "", "")], [STOCK_T])
    result, _failure = apply(host, {"ClientAliveInterval": 60}, check_mode=True)
    assert not set(result) & {"skipped", "failed", "msg", "results", "invocation", "ansible_facts", "warnings"}
