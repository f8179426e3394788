# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for sshd -T, sshd -t, single values, and the Include / Match walk.

The debian11/12/13 fixtures are real output captured from OpenSSH 8.4p1, 9.2p1
and 10.0p2 containers with this planted configuration:
``sshd_config.d/00-test.conf`` (ClientAliveInterval 0, MaxStartups 10:30:60),
``sshd_config.d/50-cloud-init.conf`` (ClientAliveInterval 120) and, appended to
``sshd_config`` after its Include, ``maxstartups 20:40:80`` and a
``Match User bob`` block with ``ClientAliveInterval 7``. Their ``sshd_T.txt``
is what sshd itself says wins, so the provenance tests check the walk against sshd.
The rhel9 fixtures are TRANSCRIBED by hand (see fixtures/rhel9/README.md), not captured.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _sshd_config as cfg
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import FIXTURES, read_fixture

RELEASES = ("debian11", "debian12", "debian13")


def fixture_tree(release):
    """``{absolute path on the host: text}`` for every file under fixtures/<release>/etc."""
    base = os.path.join(FIXTURES, release)
    files = {}
    for root, _dirs, names in os.walk(os.path.join(base, "etc")):
        for name in names:
            full = os.path.join(root, name)
            files["/" + os.path.relpath(full, base)] = read_fixture(os.path.relpath(full, FIXTURES))
    return files


def walk_files(files, path="/etc/ssh/sshd_config"):
    import fnmatch

    return cfg.walk_config(
        path,
        files.get,
        lambda pattern: sorted(p for p in files if fnmatch.fnmatchcase(p, pattern)),
    )


def provenance_of(files, version=None):
    return cfg.provenance(walk_files(files)["entries"], version)


# --------------------------------------------------------------------------- #
# sshd -T
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "release, keyword, expected",
    [
        ("debian11", "clientaliveinterval", "0"),
        ("debian11", "maxstartups", "20:40:80"),
        ("debian11", "port", ["22"]),
        ("debian11", "listenaddress", ["[::]:22", "0.0.0.0:22"]),
        ("debian11", "persourcemaxstartups", None),
        ("debian12", "maxstartups", "20:40:80"),
        ("debian12", "persourcemaxstartups", "none"),
        ("debian12", "persourcepenalties", None),
        ("debian12", "subsystem", ["sftp /usr/lib/openssh/sftp-server"]),
        ("debian12", "acceptenv", ["LANG", "LC_*"]),
        ("debian13", "persourcepenalties",
         "crash:90 authfail:5 noauth:1 grace-exceeded:10 refuseconnection:10 max:600 min:15 "
         "max-sources4:65536 max-sources6:65536 overflow:permissive overflow6:permissive"),
        ("debian13", "sshdsessionpath", "/usr/lib/openssh/sshd-session"),
        ("debian13", "loglevel", "INFO"),
        ("debian13", "hostkey", ["/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key", "/etc/ssh/ssh_host_ed25519_key"]),
    ],
)
def test_parse_sshd_T_real_output(release, keyword, expected):
    effective = cfg.parse_sshd_T(read_fixture("%s/sshd_T.txt" % release))
    assert effective.get(keyword) == expected


@pytest.mark.parametrize("release, count", [("debian11", 85), ("debian12", 89), ("debian13", 97)])
def test_parse_sshd_T_keeps_every_keyword(release, count):
    text = read_fixture("%s/sshd_T.txt" % release)
    distinct = set(line.split(" ", 1)[0] for line in text.splitlines() if line.strip())
    assert len(distinct) == count
    assert set(cfg.parse_sshd_T(text)) == distinct


@pytest.mark.parametrize(
    "text",
    [
        "sshd: no hostkeys available -- exiting.\r\n",
        "/etc/ssh/sshd_config: line 3: Bad configuration option: Foo\n",
        "Missing privilege separation directory: /run/sshd\n",
        "/etc/ssh/sshd_config.d/10-bad.conf line 2: Directive 'MaxStartups' is not allowed within a Match block\n",
        "rc=1\n",
    ],
)
def test_parse_sshd_T_error_lines_are_not_keywords(text):
    assert cfg.parse_sshd_T(text) == {}


def test_parse_sshd_T_match_connection_gets_match_value():
    glob_value = cfg.parse_sshd_T(read_fixture("debian12/sshd_T.txt"))["clientaliveinterval"]
    bob_value = cfg.parse_sshd_T(read_fixture("debian12/sshd_T_match_bob.txt"))["clientaliveinterval"]
    assert (glob_value, bob_value) == ("0", "7")


# --------------------------------------------------------------------------- #
# sshd -t
# --------------------------------------------------------------------------- #
ERRORS_FILE = "/etc/ssh/sshd_config.d/10-bad.conf"


@pytest.mark.parametrize(
    "fixture, rc, errors",
    [
        ("debian11/sshd_t_errors.txt", 255, [
            (ERRORS_FILE, 1, "Bad configuration option: Bogus"),
            (ERRORS_FILE, 2, "missing time value.")]),
        ("debian12/sshd_t_errors.txt", 255, [
            (ERRORS_FILE, 1, "Bad configuration option: Bogus"),
            (ERRORS_FILE, 2, 'no argument after keyword "ClientAliveInterval"')]),
        ("debian13/sshd_t_errors.txt", 255, [
            (ERRORS_FILE, 1, "Bad configuration option: Bogus"),
            (ERRORS_FILE, 2, 'no argument after keyword "ClientAliveInterval"')]),
        ("debian11/sshd_t_match.txt", 255, [
            (ERRORS_FILE, 2, "Directive 'MaxStartups' is not allowed within a Match block")]),
        ("debian13/sshd_t_match.txt", 255, [
            (ERRORS_FILE, 2, "Directive 'MaxStartups' is not allowed within a Match block")]),
        ("debian11/sshd_t_maxstartups.txt", 255, [(ERRORS_FILE, 1, "Illegal MaxStartups spec.")]),
        ("debian12/sshd_t_maxstartups.txt", 255, [(ERRORS_FILE, 1, "Invalid MaxStartups spec.")]),
        ("debian13/sshd_t_nonutf8.txt", 255, [(ERRORS_FILE, 1, "Bad configuration option: Bogus\\377\\376")]),
        ("debian12/sshd_t_ok.txt", 0, []),
        ("debian12/sshd_t_deprecated.txt", 0, []),
        ("debian12/sshd_t_nonroot.txt", 1, []),
    ],
)
def test_parse_sshd_t_real_errors(fixture, rc, errors):
    parsed = cfg.parse_sshd_t(read_fixture(fixture), rc)
    assert [(e["file"], e["line"], e["message"]) for e in parsed["errors"]] == errors


def test_parse_sshd_t_summary_line_is_not_an_error():
    parsed = cfg.parse_sshd_t(read_fixture("debian12/sshd_t_errors.txt"), 255)
    assert not any("terminating" in e["message"] for e in parsed["errors"])
    assert parsed["messages"] == []


def test_parse_sshd_t_deprecated_options_are_warnings():
    parsed = cfg.parse_sshd_t(read_fixture("debian13/sshd_t_deprecated.txt"), 0)
    assert [(w["line"], w["message"]) for w in parsed["warnings"]] == [
        (1, "Deprecated option UsePrivilegeSeparation"),
        (2, "Deprecated option RSAAuthentication"),
    ]


def test_parse_sshd_t_message_without_file_is_kept_as_is():
    parsed = cfg.parse_sshd_t(read_fixture("debian13/sshd_t_nonroot.txt"), 1)
    assert parsed["errors"] == []
    assert parsed["messages"] == ["sshd: no hostkeys available -- exiting."]


@pytest.mark.parametrize(
    "line, expected",
    [
        ("/etc/ssh/my config: line 4: Bad configuration option: X", ("/etc/ssh/my config", 4, "Bad configuration option: X")),
        ("sshd: /etc/ssh/sshd_config line 9: Invalid MaxStartups spec.", ("/etc/ssh/sshd_config", 9, "Invalid MaxStartups spec.")),
        ("reprocess config line 12: Unsupported Match attribute foo", ("reprocess config", 12, "Unsupported Match attribute foo")),
    ],
)
def test_parse_sshd_t_error_formats(line, expected):
    errors = cfg.parse_sshd_t(line, 255)["errors"]
    assert [(e["file"], e["line"], e["message"]) for e in errors] == [expected]


# --------------------------------------------------------------------------- #
# single values
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "value, previous, expected",
    [
        ("10:30:100", None, {"start": 10, "rate": 30, "full": 100}),
        ("20:40:80", None, {"start": 20, "rate": 40, "full": 80}),
        ("5", None, {"start": 5, "rate": 30, "full": 5}),  # sshd -T prints 5:30:5 (measured on 9.2)
        ("5", {"start": 10, "rate": 50, "full": 60}, {"start": 5, "rate": 50, "full": 5}),
        (" 7:50:9 ", None, {"start": 7, "rate": 50, "full": 9}),
        ("10:30", None, None),
        ("a:b:c", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_parse_max_startups(value, previous, expected):
    assert cfg.parse_max_startups(value, previous) == expected


@pytest.mark.parametrize(
    "value, expected",
    [("0", 0), ("120", 120), ("2m", 120), ("1h30m", 5400), ("1W", 604800), ("10s", 10),
     ("", None), ("1x", None), ("m", None), ("-5", None), (None, None), ("3 m", None)],
)
def test_parse_time(value, expected):
    assert cfg.parse_time(value) == expected


@pytest.mark.parametrize("value, expected", [("yes", True), ("No", False), ("maybe", None), (None, None)])
def test_parse_yes_no(value, expected):
    assert cfg.parse_yes_no(value) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.20 7 Apr 2026", "9.2p1"),
        ("OpenSSH_9.2, OpenSSL 3.0.20 7 Apr 2026", "9.2"),
        (read_fixture("debian11/sshd_V.txt"), "8.4p1"),
        (read_fixture("debian12/sshd_V.txt"), "9.2"),
        (read_fixture("debian13/sshd_V.txt"), "10.0p2"),
        ("sshd: command not found", None),
    ],
)
def test_parse_openssh_version(text, expected):
    assert cfg.parse_openssh_version(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("1:9.2p1-2+deb12u10", "9.2p1"), ("1:10.0p1-7+deb13u4", "10.0p1"), ("8.7p1-38.el9", "8.7p1"), ("", None), ("junk", None)],
)
def test_parse_package_version(text, expected):
    assert cfg.parse_package_version(text) == expected


@pytest.mark.parametrize(
    "version, expected", [("9.2p1", [9, 2]), ("10.0p2", [10, 0]), ("8.4", [8, 4]), (None, None), ("x", None)]
)
def test_version_info(version, expected):
    assert cfg.version_info(version) == expected


# --------------------------------------------------------------------------- #
# line splitting
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "line, expected",
    [
        ("ClientAliveInterval 30", ("ClientAliveInterval", ["30"])),
        ("  clientaliveinterval\t30  ", ("clientaliveinterval", ["30"])),
        ("ClientAliveInterval=30", ("ClientAliveInterval", ["30"])),
        ("ClientAliveInterval = 30", ("ClientAliveInterval", ["30"])),
        ('ClientAliveInterval "30"', ("ClientAliveInterval", ["30"])),
        ("MaxSessions 4 # comment", ("MaxSessions", ["4"])),
        ("AcceptEnv LANG LC_*", ("AcceptEnv", ["LANG", "LC_*"])),
        ('Banner "/etc/my banner"', ("Banner", ["/etc/my banner"])),
        ("Subsystem\tsftp\t/usr/lib/openssh/sftp-server", ("Subsystem", ["sftp", "/usr/lib/openssh/sftp-server"])),
        ("ClientAliveInterval", ("ClientAliveInterval", [])),
        ('Banner "unterminated', ("Banner", ["unterminated"])),
        ("# ClientAliveInterval 30", None),
        ("   ", None),
        ("", None),
    ],
)
def test_parse_config_line(line, expected):
    assert cfg.parse_config_line(line) == expected


# --------------------------------------------------------------------------- #
# the walk and provenance, against what sshd -T said on the real hosts
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("release", RELEASES)
def test_walk_reads_dropins_in_lexical_order_where_the_include_stands(release):
    walk = walk_files(fixture_tree(release))
    assert walk["files"] == [
        "/etc/ssh/sshd_config",
        "/etc/ssh/sshd_config.d/00-test.conf",
        "/etc/ssh/sshd_config.d/50-cloud-init.conf",
    ]
    assert walk["includes"][0]["pattern"] == "/etc/ssh/sshd_config.d/*.conf"
    assert walk["problems"] == []


@pytest.mark.parametrize("release", RELEASES)
def test_first_value_wins_over_later_dropin(release):
    prov = provenance_of(fixture_tree(release))["ClientAliveInterval"]
    effective = cfg.parse_sshd_T(read_fixture("%s/sshd_T.txt" % release))
    assert prov["value"] == effective["clientaliveinterval"] == "0"
    assert (prov["file"], prov["line"], prov["rule"]) == ("/etc/ssh/sshd_config.d/00-test.conf", 1, "first")
    assert prov["overridden"] == [{"file": "/etc/ssh/sshd_config.d/50-cloud-init.conf", "line": 2, "value": "120"}]


@pytest.mark.parametrize("release", RELEASES)
def test_match_block_line_is_listed_apart_not_as_winner_or_overridden(release):
    files = fixture_tree(release)
    prov = provenance_of(files)["ClientAliveInterval"]
    lines = files["/etc/ssh/sshd_config"].splitlines()
    bob_line = [i for i, text in enumerate(lines, 1) if text.strip() == "ClientAliveInterval 7"][0]
    assert prov["match_lines"] == [{"file": "/etc/ssh/sshd_config", "line": bob_line, "value": "7", "match": "User bob"}]
    assert all(o["value"] != "7" for o in prov["overridden"])


@pytest.mark.parametrize("release", RELEASES)
def test_maxstartups_last_value_wins_even_from_main_file_after_include(release):
    files = fixture_tree(release)
    prov = provenance_of(files)["MaxStartups"]
    effective = cfg.parse_sshd_T(read_fixture("%s/sshd_T.txt" % release))
    lines = files["/etc/ssh/sshd_config"].splitlines()
    main_line = [i for i, text in enumerate(lines, 1) if text.strip() == "maxstartups 20:40:80"][0]
    assert prov["value"] == effective["maxstartups"] == "20:40:80"
    assert (prov["file"], prov["line"], prov["rule"]) == ("/etc/ssh/sshd_config", main_line, "last")
    assert prov["overridden"] == [{"file": "/etc/ssh/sshd_config.d/00-test.conf", "line": 2, "value": "10:30:60"}]


@pytest.mark.parametrize("release", RELEASES)
def test_unset_keyword_is_default(release):
    prov = provenance_of(fixture_tree(release))["LoginGraceTime"]
    assert (prov["source"], prov["file"], prov["value"]) == ("default", None, None)


def test_rhel_crypto_policy_include_is_followed_and_first_dropin_wins():
    # transcribed RHEL 9 layout, not captured (see fixtures/rhel9/README.md)
    files = fixture_tree("rhel9")
    walk = walk_files(files)
    assert walk["files"] == [
        "/etc/ssh/sshd_config",
        "/etc/ssh/sshd_config.d/40-keepalive.conf",
        "/etc/ssh/sshd_config.d/50-cloud-init.conf",
        "/etc/ssh/sshd_config.d/50-redhat.conf",
        "/etc/crypto-policies/back-ends/opensshserver.config",
    ]
    prov = cfg.provenance(walk["entries"], [8, 7])
    assert (prov["ClientAliveInterval"]["file"], prov["ClientAliveInterval"]["value"]) == (
        "/etc/ssh/sshd_config.d/40-keepalive.conf", "300")
    assert prov["ClientAliveInterval"]["overridden"] == [
        {"file": "/etc/ssh/sshd_config.d/50-cloud-init.conf", "line": 2, "value": "120"}]
    # MaxStartups: the later drop-in wins
    assert (prov["MaxStartups"]["file"], prov["MaxStartups"]["value"]) == (
        "/etc/ssh/sshd_config.d/50-cloud-init.conf", "10:30:100")
    ciphers = [e for e in walk["entries"] if e["key"] == "ciphers"]
    assert ciphers[0]["file"] == "/etc/crypto-policies/back-ends/opensshserver.config"


@pytest.mark.parametrize(
    "version, expected_rule, expected_value",
    [([9, 2], "last", "5"), ([10, 0], "first", "3"), (None, "first", "3")],
)
def test_persourcemaxstartups_rule_follows_version(version, expected_rule, expected_value):
    files = {
        "/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\n",
        "/etc/ssh/sshd_config.d/00-a.conf": "PerSourceMaxStartups 3\n",
        "/etc/ssh/sshd_config.d/50-b.conf": "PerSourceMaxStartups 5\n",
    }
    prov = provenance_of(files, version)["PerSourceMaxStartups"]
    assert (prov["rule"], prov["value"]) == (expected_rule, expected_value)


def test_keywords_are_case_insensitive():
    files = {"/etc/ssh/sshd_config": "CLIENTALIVEINTERVAL 15\nclientaliveinterval 20\nMAXSTARTUPS 1:2:3\nmaxStartups 4:5:6\n"}
    prov = provenance_of(files)
    assert (prov["ClientAliveInterval"]["value"], prov["MaxStartups"]["value"]) == ("15", "4:5:6")


def test_relative_include_is_relative_to_etc_ssh_not_the_including_file():
    files = {
        "/srv/alt/sshd_config": "Include extra.conf\n",
        "/etc/ssh/extra.conf": "ClientAliveInterval 9\n",
        "/srv/alt/extra.conf": "ClientAliveInterval 1\n",
    }
    walk = walk_files(files, "/srv/alt/sshd_config")
    assert walk["files"] == ["/srv/alt/sshd_config", "/etc/ssh/extra.conf"]
    assert cfg.provenance(walk["entries"])["ClientAliveInterval"]["value"] == "9"


def test_match_in_dropin_ends_with_that_file():
    files = {
        "/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nClientAliveInterval 30\n",
        "/etc/ssh/sshd_config.d/00-a.conf": "Match User x\nClientAliveInterval 5\n",
        "/etc/ssh/sshd_config.d/10-b.conf": "ClientAliveInterval 10\n",
    }
    prov = provenance_of(files)["ClientAliveInterval"]
    assert (prov["file"], prov["value"]) == ("/etc/ssh/sshd_config.d/10-b.conf", "10")
    assert prov["overridden"] == [{"file": "/etc/ssh/sshd_config", "line": 2, "value": "30"}]
    assert [m["value"] for m in prov["match_lines"]] == ["5"]


def test_include_inside_match_block_is_conditional_and_match_all_is_global():
    files = {
        "/etc/ssh/sshd_config": "Match Address 10.0.0.0/8\nInclude /etc/ssh/inc.conf\nMatch all\nClientAliveInterval 40\n",
        "/etc/ssh/inc.conf": "ClientAliveInterval 5\n",
    }
    prov = provenance_of(files)["ClientAliveInterval"]
    assert (prov["file"], prov["value"]) == ("/etc/ssh/sshd_config", "40")
    assert prov["match_lines"] == [{"file": "/etc/ssh/inc.conf", "line": 1, "value": "5", "match": "Address 10.0.0.0/8"}]


def test_port_and_listenaddress_accumulate():
    files = {"/etc/ssh/sshd_config": "Port 22\nport 2222\nListenAddress 10.0.0.1\n"}
    prov = provenance_of(files)
    assert prov["Port"]["value"] == ["22", "2222"]
    assert prov["Port"]["overridden"] == []
    assert [v["line"] for v in prov["Port"]["lines"]] == [1, 2]
    assert prov["ListenAddress"]["value"] == ["10.0.0.1"]


def include_cases():
    for release in RELEASES:
        captured = json.loads(read_fixture("%s/sshd_include.json" % release))
        for name in sorted(captured["cases"]):
            yield pytest.param(release, name, captured["cases"][name], id="%s-%s" % (release, name))


@pytest.mark.parametrize("release, name, case", list(include_cases()))
def test_walk_follows_includes_as_the_real_sshd_did(release, name, case):
    """Recursive, repeated and Match-scoped Includes, replayed against what sshd -t / -T said
    about the same files on OpenSSH 8.4, 9.2 and 10.0 (fixtures/debianNN/sshd_include.json)."""
    walk = walk_files(case["files"], case["main"])
    if case["sshd_t"]["rc"] != 0:
        assert cfg.TOO_MANY_INCLUDES in case["sshd_t"]["output"]
        assert walk["fatal"]["message"] == cfg.TOO_MANY_INCLUDES
        assert any(cfg.TOO_MANY_INCLUDES in p for p in walk["problems"])
        return
    assert walk["fatal"] is None and walk["problems"] == [] and not walk["truncated"]
    effective = cfg.parse_sshd_T(case["sshd_T"]["output"])
    prov = cfg.provenance(walk["entries"])
    ours = cfg.effective_from_provenance(prov, walk["entries"])
    for key in ("clientaliveinterval", "maxstartups", "maxsessions"):
        assert ours[key] == effective[key], key


def test_a_chain_of_16_includes_is_read_and_17_is_fatal():
    # measured: sshd accepts main -> f1 -> ... -> f16 and refuses one more (sshd_include.json)
    for length, fatal in ((16, False), (17, True)):
        files = {"/etc/ssh/sshd_config": "Include /etc/ssh/f1\n"}
        for i in range(1, length + 1):
            files["/etc/ssh/f%d" % i] = "Include /etc/ssh/f%d\n" % (i + 1) if i < length else "ClientAliveInterval 11\n"
        walk = walk_files(files)
        assert (walk["fatal"] is not None) is fatal
        assert walk["visits"] == (cfg.MAX_INCLUDE_DEPTH + 1 if fatal else length + 1)


def test_include_loop_stops_at_sshd_depth_limit_and_nothing_after_it_is_read():
    files = {"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config\nClientAliveInterval 1\n"}
    walk = walk_files(files)
    assert walk["fatal"] == {"file": "/etc/ssh/sshd_config", "line": 1, "message": cfg.TOO_MANY_INCLUDES}
    assert walk["files"] == ["/etc/ssh/sshd_config"]
    assert walk["visits"] == cfg.MAX_INCLUDE_DEPTH + 1
    # sshd stops at the fatal Include: the line after it is never read
    assert [e for e in walk["entries"] if e["key"] == "clientaliveinterval"] == []


def test_same_glob_included_twice_is_read_twice():
    files = {
        "/etc/ssh/sshd_config": "Include /etc/ssh/d/*.conf\nMaxStartups 5:30:50\nInclude /etc/ssh/d/*.conf\n",
        "/etc/ssh/d/a.conf": "MaxStartups 7:30:70\n",
    }
    walk = walk_files(files)
    assert walk["files"] == ["/etc/ssh/sshd_config", "/etc/ssh/d/a.conf"]
    assert walk["visits"] == 3
    prov = cfg.provenance(walk["entries"])["MaxStartups"]
    assert (prov["file"], prov["line"], prov["value"]) == ("/etc/ssh/d/a.conf", 1, "7:30:70")


def test_a_wide_valid_include_tree_is_cut_at_the_visit_cap():
    # each level includes the next twice: 2**16 file reads for sshd, a capped walk here
    files = {"/etc/ssh/sshd_config": "Include /etc/ssh/f1 /etc/ssh/f1\n"}
    for i in range(1, 16):
        files["/etc/ssh/f%d" % i] = "Include /etc/ssh/f%d /etc/ssh/f%d\n" % (i + 1, i + 1)
    files["/etc/ssh/f16"] = "MaxSessions 3\n"
    walk = walk_files(files)
    assert walk["truncated"] is True and walk["fatal"] is None
    assert walk["visits"] == cfg.MAX_FILES


def test_missing_include_and_unreadable_main_file():
    walk = walk_files({"/etc/ssh/sshd_config": "Include /etc/ssh/nothing/*.conf\nInclude /etc/ssh/absent.conf\n"})
    assert [i["matched"] for i in walk["includes"]] == [[], []]
    assert walk["problems"] == []
    walk = walk_files({})
    assert walk["files"] == [] and walk["problems"] == ["/etc/ssh/sshd_config: could not be read"]


def test_overridden_list_is_capped():
    files = {"/etc/ssh/sshd_config": "ClientAliveInterval 1\n" * (cfg.MAX_OVERRIDDEN + 20)}
    prov = provenance_of(files)["ClientAliveInterval"]
    assert len(prov["overridden"]) == cfg.MAX_OVERRIDDEN
    assert prov["truncated"] is True


# --------------------------------------------------------------------------- #
# settings
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("release", RELEASES)
def test_settings_from_real_sshd_T(release):
    settings_ = cfg.settings_from_effective(cfg.parse_sshd_T(read_fixture("%s/sshd_T.txt" % release)))
    assert settings_["client_alive_interval"] == 0
    assert settings_["client_alive_count_max"] == 3
    assert settings_["max_startups"] == {"start": 20, "rate": 40, "full": 80}
    assert settings_["max_sessions"] == 10
    assert settings_["tcp_keep_alive"] is True
    assert settings_["login_grace_time"] == 120
    assert settings_["log_level"] == "INFO"
    assert settings_["port"] == [22]
    assert settings_["listen_address"] == ["[::]:22", "0.0.0.0:22"]
    assert (settings_["per_source_penalties"] is not None) == (release == "debian13")


def test_effective_from_config_files_replays_bare_maxstartups():
    files = {"/etc/ssh/sshd_config": "MaxStartups 10:50:60\nMaxStartups 5\nLoginGraceTime 2m\nTCPKeepAlive No\n"}
    walk = walk_files(files)
    effective = cfg.effective_from_provenance(cfg.provenance(walk["entries"]), walk["entries"])
    settings_ = cfg.settings_from_effective(effective)
    assert settings_["max_startups"] == {"start": 5, "rate": 50, "full": 5}
    assert settings_["login_grace_time"] == 120
    assert settings_["tcp_keep_alive"] is False
    assert settings_["client_alive_interval"] == 0  # upstream default
    assert settings_["port"] == [22]


@pytest.mark.parametrize("release", RELEASES)
def test_effective_from_config_files_agrees_with_sshd_T(release):
    walk = walk_files(fixture_tree(release))
    from_files = cfg.settings_from_effective(cfg.effective_from_provenance(cfg.provenance(walk["entries"]), walk["entries"]))
    from_sshd = cfg.settings_from_effective(cfg.parse_sshd_T(read_fixture("%s/sshd_T.txt" % release)))
    for key in ("client_alive_interval", "client_alive_count_max", "max_startups", "max_sessions",
                "tcp_keep_alive", "login_grace_time", "log_level", "port"):
        assert from_files[key] == from_sshd[key], key


# --------------------------------------------------------------------------- #
# arbitrary text never raises
# --------------------------------------------------------------------------- #
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400)
CONFIGISH = st.lists(
    st.sampled_from(["Include ", "Match ", "ClientAliveInterval ", "MaxStartups ", "Port ", "#", '"', "'", "=",
                     "*", "a", "/etc/ssh/x", "\n", " ", "\t", "all", "\\", "\r", "\xff", "1:2:3"]),
    max_size=60,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_parse_sshd_T_never_raises(text):
    assert isinstance(cfg.parse_sshd_T(text), dict)


@settings(max_examples=200, deadline=None)
@given(TEXT, st.one_of(st.none(), st.integers(-1, 255)))
def test_parse_sshd_t_never_raises(text, rc):
    parsed = cfg.parse_sshd_t(text, rc)
    assert set(parsed) == {"errors", "warnings", "messages"}


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_single_value_parsers_never_raise(text):
    cfg.parse_max_startups(text)
    cfg.parse_time(text)
    cfg.parse_yes_no(text)
    cfg.parse_int(text)
    cfg.parse_openssh_version(text)
    cfg.parse_package_version(text)
    cfg.version_info(text)
    cfg.split_words(text)
    cfg.parse_config_line(text)


@settings(max_examples=200, deadline=None)
@given(st.one_of(TEXT, CONFIGISH), st.one_of(TEXT, CONFIGISH))
def test_walk_and_provenance_never_raise(main, dropin):
    files = {"/etc/ssh/sshd_config": main, "/etc/ssh/sshd_config.d/a.conf": dropin}
    walk = walk_files(files)
    prov = cfg.provenance(walk["entries"], [9, 2])
    effective = cfg.effective_from_provenance(prov, walk["entries"])
    assert isinstance(cfg.settings_from_effective(effective), dict)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["clientaliveinterval", "maxstartups", "port", "tcpkeepalive", "loglevel",
                                        "listenaddress", "persourcemaxstartups"]),
                       st.one_of(TEXT, st.lists(TEXT, max_size=3))))
def test_settings_from_any_effective_never_raise(effective):
    assert isinstance(cfg.settings_from_effective(effective), dict)
