# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp_wrappers_info's hosts_access(5) evaluator, checked against the REAL libwrap.

Every row of MEASURED was run for real: one hosts.allow / hosts.deny pair written
into a Debian 12 container (sshd 9.2, libwrap 7.6.q), then `ssh` from a second
container; "denied" means sshd logged `refused connect from ...` (or, for twist,
`twist ... to ...`) and the client never got a shell. The rows marked (all) were
also run against Debian 11 (sshd 8.4) and Debian 13 (sshd-session 10.0) with the
same outcome. CLIENT is the client's address (10.88.0.9), SERVER the server's.
The loopback rows were run inside one container (client 127.0.0.1 or ::1), where
/etc/hosts names 127.0.0.1 `localhost` and ::1 has no name. The hostname rows
added `10.88.0.9 h3client.example.com h3client` to the server's /etc/hosts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _tcp_wrappers as W
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import FakeHost, read_fixture

CLIENT = "10.88.0.9"
SERVER = "10.88.0.10"
PATTERN_FILE = {"/etc/h3clients": "10.88.0.9\n"}

# (case, hosts.allow, hosts.deny, client, hostnames, expected: True = allowed)
MEASURED = [
    # SSHD_CONFIG.md's table and more, (all) = same result on Debian 11, 12 and 13
    ("baseline_empty (all)", "", "", CLIENT, None, True),
    ("exact (all)", "", "sshd: CLIENT\n", CLIENT, None, False),
    ("exact_slash32 (all)", "", "sshd: CLIENT/32\n", CLIENT, None, False),
    ("mask_all_ones_never_matches (all)", "", "sshd: CLIENT/255.255.255.255\n", CLIENT, None, True),
    ("cidr16 (all)", "", "sshd: 10.88.0.0/16\n", CLIENT, None, False),
    ("cidr16_with_host_bits (all)", "", "sshd: CLIENT/16\n", CLIENT, None, True),
    ("netmask16", "", "sshd: 10.88.0.0/255.255.0.0\n", CLIENT, None, False),
    ("cidr0_never_matches (all)", "", "sshd: 0.0.0.0/0\n", CLIENT, None, True),
    ("mask_zero_matches (all)", "", "sshd: 0.0.0.0/0.0.0.0\n", CLIENT, None, False),
    ("cidr1", "", "sshd: 0.0.0.0/1\n", CLIENT, None, False),
    ("cidr8", "", "sshd: 10.0.0.0/8\n", CLIENT, None, False),
    ("cidr31_other_net", "", "sshd: 10.88.1.0/31\n", CLIENT, None, True),
    ("cidr31_pair", "", "sshd: 10.88.0.8/31\n", CLIENT, None, False),
    ("mask254_pair", "", "sshd: 10.88.0.8/255.255.255.254\n", CLIENT, None, False),
    ("noncontiguous_mask (all)", "", "sshd: 10.0.0.9/255.0.0.255\n", CLIENT, None, False),
    ("octal_net", "", "sshd: 012.0130.0.0/16\n", CLIENT, None, False),
    ("octal_net_invalid_digit", "", "sshd: 012.088.0.0/16\n", CLIENT, None, True),
    ("hex_net", "", "sshd: 0x0a.88.0.0/16\n", CLIENT, None, False),
    ("bad_mask_then_match", "", "sshd: 10.88.0.0/33, CLIENT\n", CLIENT, None, False),
    ("prefix_with_dot (all)", "", "sshd: 10.88.\n", CLIENT, None, False),
    ("prefix_without_dot", "", "sshd: 10.88\n", CLIENT, None, True),
    ("brackets_are_ipv6_only (all)", "", "sshd: [CLIENT]\n", CLIENT, None, True),
    ("all_except_client (all)", "", "sshd: ALL EXCEPT CLIENT\n", CLIENT, None, True),
    ("nested_except (all)", "", "sshd: ALL EXCEPT 10.88.0.0/16 EXCEPT CLIENT\n", CLIENT, None, False),
    ("except_lower_case (all)", "", "sshd: ALL except CLIENT\n", CLIENT, None, True),
    ("except_first", "", "sshd: EXCEPT CLIENT\n", CLIENT, None, True),
    ("ALL_ALL", "", "ALL: ALL\n", CLIENT, None, False),
    ("daemon_upper_case (all)", "", "SSHD: CLIENT\n", CLIENT, None, False),
    ("daemon_is_sshd_not_sshd_session (all)", "", "sshd-session: CLIENT\n", CLIENT, None, True),
    ("all_except_sshd_session", "", "ALL EXCEPT sshd-session: CLIENT\n", CLIENT, None, False),
    ("all_except_sshd", "", "ALL EXCEPT sshd: CLIENT\n", CLIENT, None, True),
    ("double_except_daemon", "", "ALL EXCEPT sshd EXCEPT sshd: CLIENT\n", CLIENT, None, False),
    ("daemon_list", "", "vsftpd, sshd: CLIENT\n", CLIENT, None, False),
    ("daemon_prefix_pattern", "", "ssh.: CLIENT\n", CLIENT, None, True),
    ("daemon_wildcard", "", "ssh*: CLIENT\n", CLIENT, None, False),
    ("allow_grants_before_deny", "sshd: CLIENT\n", "ALL: ALL\n", CLIENT, None, True),
    ("allow_except_then_deny", "sshd: ALL EXCEPT CLIENT\n", "sshd: CLIENT\n", CLIENT, None, False),
    ("deny_option_in_allow (all)", "sshd: CLIENT : deny\n", "", CLIENT, None, False),
    ("allow_option_in_deny (all)", "", "sshd: CLIENT : allow\n", CLIENT, None, True),
    ("deny_option_upper_case", "sshd: CLIENT : DENY\n", "", CLIENT, None, False),
    ("first_match_wins_allow_option", "", "sshd: CLIENT : allow\nsshd: ALL\n", CLIENT, None, True),
    ("setenv_then_allow", "sshd: CLIENT : setenv FOO bar : allow\n", "ALL: ALL\n", CLIENT, None, True),
    ("spawn_in_allow", "sshd: CLIENT : spawn /bin/true\n", "ALL: ALL\n", CLIENT, None, True),
    ("spawn_in_deny", "", "sshd: CLIENT : spawn /bin/true\n", CLIENT, None, False),
    ("twist_refuses (all)", "", "sshd: CLIENT : twist /bin/echo hi\n", CLIENT, None, False),
    ("bad_option_refuses", "sshd: CLIENT : bogus\n", "", CLIENT, None, False),
    ("allow_not_last_refuses", "sshd: CLIENT : allow : deny\n", "", CLIENT, None, False),
    ("continuation_line (all)", "", "sshd: 192.0.2.1, \\\n   CLIENT\n", CLIENT, None, False),
    ("continuation_of_a_comment (all)", "", "# comment \\\nsshd: CLIENT\n", CLIENT, None, True),
    ("no_trailing_newline_still_applies (all)", "", "sshd: CLIENT", CLIENT, None, False),
    ("hash_mid_line_is_a_pattern (all)", "", "sshd: 192.0.2.1 # CLIENT\n", CLIENT, None, False),
    ("indented_hash_is_not_a_comment (all)", "", "   # sshd: CLIENT\n", CLIENT, None, False),
    ("missing_colon_ignored (all)", "", "sshd CLIENT\n", CLIENT, None, True),
    ("escaped_colon_in_daemon", "", "sshd\\: x: CLIENT\n", CLIENT, None, True),
    ("empty_client_list", "", "sshd: \n", CLIENT, None, True),
    ("comma_list", "", "sshd: 192.0.2.1,CLIENT\n", CLIENT, None, False),
    ("leading_spaces", "", "  sshd  :  CLIENT  \n", CLIENT, None, False),
    ("tab_separator", "", "sshd:\tCLIENT\n", CLIENT, None, False),
    ("crlf_line (all)", "", "sshd: CLIENT\r\n", CLIENT, None, False),
    ("wildcard_star (all)", "", "sshd: 10.88.0.*\n", CLIENT, None, False),
    ("wildcard_question", "", "sshd: 10.88.0.?\n", CLIENT, None, False),
    ("ipv6_net_does_not_match_ipv4", "", "sshd: [2001:db8::]/32\n", CLIENT, None, True),
    ("daemon_at_server_address (all)", "", "sshd@SERVER: CLIENT\n", CLIENT, None, False),
    ("user_ALL_at_client", "", "sshd: ALL@CLIENT\n", CLIENT, None, False),
    ("user_KNOWN_at_client", "", "sshd: KNOWN@CLIENT\n", CLIENT, None, True),
    ("pattern_file (all)", "", "sshd: /etc/h3clients\n", CLIENT, None, False),
    # no name for 10.88.0.9 in the container's resolver
    ("KNOWN_without_name", "", "sshd: KNOWN\n", CLIENT, {CLIENT: "unknown"}, True),
    ("LOCAL_without_name", "", "sshd: LOCAL\n", CLIENT, {CLIENT: "unknown"}, True),
    ("PARANOID_without_name", "", "sshd: PARANOID\n", CLIENT, {CLIENT: "unknown"}, True),
    ("UNKNOWN_without_name (all)", "", "sshd: UNKNOWN\n", CLIENT, {CLIENT: "unknown"}, False),
    ("domain_without_name", "", "sshd: .dns.podman\n", CLIENT, {CLIENT: "unknown"}, True),
    # 10.88.0.9 h3client.example.com h3client in /etc/hosts
    ("domain_suffix", "", "sshd: .example.com\n", CLIENT, {CLIENT: "h3client.example.com"}, False),
    ("fqdn", "", "sshd: h3client.example.com\n", CLIENT, {CLIENT: "h3client.example.com"}, False),
    ("alias_is_not_the_name", "", "sshd: h3client\n", CLIENT, {CLIENT: "h3client.example.com"}, True),
    ("KNOWN_with_name", "", "sshd: KNOWN\n", CLIENT, {CLIENT: "h3client.example.com"}, False),
    ("LOCAL_name_has_dots", "", "sshd: LOCAL\n", CLIENT, {CLIENT: "h3client.example.com"}, True),
    ("PARANOID_name_verified", "", "sshd: PARANOID\n", CLIENT, {CLIENT: "h3client.example.com"}, True),
    ("wildcard_name", "", "sshd: *.example.com\n", CLIENT, {CLIENT: "h3client.example.com"}, False),
    # loopback, 127.0.0.1 is "localhost"
    ("lo_exact", "", "sshd: 127.0.0.1\n", "127.0.0.1", {"127.0.0.1": "localhost"}, False),
    ("lo_LOCAL", "", "sshd: LOCAL\n", "127.0.0.1", {"127.0.0.1": "localhost"}, False),
    ("lo_KNOWN", "", "sshd: KNOWN\n", "127.0.0.1", {"127.0.0.1": "localhost"}, False),
    ("lo_PARANOID", "", "sshd: PARANOID\n", "127.0.0.1", {"127.0.0.1": "localhost"}, True),
    ("lo_UNKNOWN", "", "sshd: UNKNOWN\n", "127.0.0.1", {"127.0.0.1": "localhost"}, True),
    ("lo_name", "", "sshd: localhost\n", "127.0.0.1", {"127.0.0.1": "localhost"}, False),
    ("lo_name_upper_case", "", "sshd: LOCALHOST\n", "127.0.0.1", {"127.0.0.1": "localhost"}, False),
    ("lo_name_wildcard", "", "sshd: local*\n", "127.0.0.1", {"127.0.0.1": "localhost"}, False),
    ("lo_v4_mapped_brackets", "", "sshd: [::ffff:127.0.0.1]\n", "127.0.0.1", {"127.0.0.1": "localhost"}, True),
    # loopback over IPv6, ::1 has no name
    ("v6_brackets", "", "sshd: [::1]\n", "::1", {"::1": "unknown"}, False),
    ("v6_bare_is_split_at_colons", "", "sshd: ::1\n", "::1", {"::1": "unknown"}, True),
    ("v6_cidr128", "", "sshd: [::1]/128\n", "::1", {"::1": "unknown"}, False),
    ("v6_cidr127", "", "sshd: [::]/127\n", "::1", {"::1": "unknown"}, False),
    ("v6_cidr0_matches", "", "sshd: [::]/0\n", "::1", {"::1": "unknown"}, False),
    ("v6_cidr1", "", "sshd: [::]/1\n", "::1", {"::1": "unknown"}, False),
    ("v6_long_form", "", "sshd: [0:0:0:0:0:0:0:1]\n", "::1", {"::1": "unknown"}, False),
    ("v6_host_bits_ignored", "", "sshd: [::1]/64\n", "::1", {"::1": "unknown"}, False),
    ("v6_KNOWN", "", "sshd: KNOWN\n", "::1", {"::1": "unknown"}, True),
    ("v6_UNKNOWN", "", "sshd: UNKNOWN\n", "::1", {"::1": "unknown"}, False),
    ("v6_all_except", "", "sshd: ALL EXCEPT [::1]\n", "::1", {"::1": "unknown"}, True),
    ("v6_client_ipv4_net", "", "sshd: 0.0.0.0/1\n", "::1", {"::1": "unknown"}, True),
]


def _fill(text):
    return text.replace("CLIENT", CLIENT).replace("SERVER", SERVER)


def _evaluate(allow, deny, client, hostnames):
    allow_rules = W.parse_hosts_file(_fill(allow), W.HOSTS_ALLOW)["rules"]
    deny_rules = W.parse_hosts_file(_fill(deny), W.HOSTS_DENY)["rules"]
    return W.evaluate(client, allow_rules, deny_rules, hostnames=hostnames, server_addr=SERVER,
                      pattern_files=PATTERN_FILE)


@pytest.mark.parametrize("case, allow, deny, client, hostnames, allowed", MEASURED, ids=[m[0] for m in MEASURED])
def test_agrees_with_real_libwrap(case, allow, deny, client, hostnames, allowed):
    decision = _evaluate(allow, deny, client, hostnames)
    assert decision["allowed"] is allowed, decision


def test_the_sshd_config_md_table():
    """The table in SSHD_CONFIG.md (measured with a client at 10.88.0.125)."""
    client = "10.88.0.125"
    table = [("10.88.0.125", False), ("10.88.0.", False), ("10.88.0.0/16", False), ("10.88.0.124/31", False),
             ("10.88.0.124/255.255.255.254", False), ("10.88.0.125/255.255.255.255", True),
             ("[10.88.0.125]", True), ("ALL EXCEPT 10.88.0.125", True)]
    for pattern, allowed in table:
        deny = W.parse_hosts_file("sshd: %s\n" % pattern, W.HOSTS_DENY)["rules"]
        assert W.evaluate(client, [], deny)["allowed"] is allowed, pattern


def test_decision_names_file_line_and_rule():
    allow = W.parse_hosts_file("# local admins\nsshd: 192.0.2.1\n", W.HOSTS_ALLOW)["rules"]
    deny = W.parse_hosts_file("# a comment\n\nsshd: 10.88.0.0/16 \\\n  EXCEPT 10.88.0.1\nALL: ALL\n", W.HOSTS_DENY)["rules"]
    decision = W.evaluate(CLIENT, allow, deny)
    assert decision["allowed"] is False
    assert decision["action"] == "deny"
    assert (decision["file"], decision["line"]) == ("/etc/hosts.deny", 3)
    assert decision["rule"] == "sshd: 10.88.0.0/16   EXCEPT 10.88.0.1"
    assert decision["uncertain"] is False
    assert "hosts.deny line 3" in decision["reason"]
    # the excepted address falls through to ALL: ALL on line 5
    assert W.evaluate("10.88.0.1", allow, deny)["line"] == 5
    granted = W.evaluate("192.0.2.1", allow, deny)
    assert (granted["allowed"], granted["file"], granted["line"], granted["action"]) == (True, "/etc/hosts.allow", 2, "allow")


def test_no_match_is_granted_with_no_file():
    decision = W.evaluate(CLIENT, [], [])
    assert decision == {
        "client": CLIENT, "allowed": True, "action": "default", "file": None, "line": None, "rule": None,
        "options": None, "reason": "no rule in hosts.allow or hosts.deny matches: access granted",
        "uncertain": False, "uncertain_reasons": [], "hostname_needed": [],
    }


def test_hostname_patterns_ask_for_the_name_lazily():
    deny = W.parse_hosts_file("sshd: 192.0.2.7 .example.com 10.88.0.9\n", W.HOSTS_DENY)["rules"]
    decision = W.evaluate(CLIENT, [], deny)
    # .example.com was tried before the address matched: the name was needed, the verdict still stands
    assert decision["hostname_needed"] == [CLIENT]
    assert decision["uncertain"] is True
    assert decision["allowed"] is False
    address_only = W.parse_hosts_file("sshd: 10.88.0.9 .example.com\n", W.HOSTS_DENY)["rules"]
    assert W.evaluate(CLIENT, [], address_only)["hostname_needed"] == []


@pytest.mark.parametrize("pattern, reason", [
    ("@trusted", "NIS netgroup"),
    ("alice@10.88.0.9", "ident"),
    ("/etc/missing-list", "could not be read"),
])
def test_what_cannot_be_known_is_uncertain(pattern, reason):
    deny = W.parse_hosts_file("sshd: %s\n" % pattern, W.HOSTS_DENY)["rules"]
    decision = W.evaluate(CLIENT, [], deny)
    assert decision["uncertain"] is True
    assert any(reason in r for r in decision["uncertain_reasons"])


def test_daemon_at_host_without_server_address_is_uncertain():
    deny = W.parse_hosts_file("sshd@10.88.0.10: ALL\n", W.HOSTS_DENY)["rules"]
    decision = W.evaluate(CLIENT, [], deny, server_addr=None)
    assert decision["allowed"] is False and decision["uncertain"] is True
    assert W.evaluate(CLIENT, [], deny, server_addr="10.88.0.11")["allowed"] is True


@pytest.mark.parametrize("text, warnings, rules", [
    ("sshd: 10.0.0.1", ["missing newline at end of file (libwrap warns, and still applies this rule)"], 1),
    ("sshd 10.0.0.1\n", ['missing ":" separator: line ignored'], 0),
    ("#sshd: ALL\n\n   \n", [], 0),
    ("a: b: c: d\n", [], 1),
    ("", [], 0),
])
def test_file_warnings(text, warnings, rules):
    parsed = W.parse_hosts_file(text, W.HOSTS_DENY)
    assert [w["message"] for w in parsed["warnings"]] == warnings
    assert len(parsed["rules"]) == rules


def test_continuation_line_numbers():
    parsed = W.parse_hosts_file("sshd: a, \\\n b, \\\n c\nsshd: d\n", W.HOSTS_DENY)
    assert [(r["line"], r["last_line"], r["client_tokens"]) for r in parsed["rules"]] == [
        (1, 3, ["a", "b", "c"]), (4, 4, ["d"])]


def test_fields_split_outside_brackets():
    rule = W.parse_hosts_file("sshd: [2001:db8::1], [::1]/128 : spawn echo %a : deny\n", W.HOSTS_DENY)["rules"][0]
    assert rule["client_tokens"] == ["[2001:db8::1]", "[::1]/128"]
    assert rule["options"] == "spawn echo %a : deny"
    assert W.options_outcome(rule["options"]) == "deny"


@pytest.mark.parametrize("options, outcome", [
    (None, None), ("allow", "allow"), ("DENY", "deny"), ("severity auth.info : allow", "allow"),
    ("twist /bin/echo no", "twist"), ("spawn", "error"), ("allow : spawn x", "error"), ("deny now", "error"),
    ("bogus", "error"), ("keepalive", None), ("setenv A=b", None), ("spawn a\\:b : deny", "deny"),
])
def test_options_outcome(options, outcome):
    assert W.options_outcome(options) == outcome


@pytest.mark.parametrize("value, normal", [
    ("10.0.0.1", "10.0.0.1"), (" [2001:DB8::1] ", "2001:db8::1"), ("fe80::1%eth0", "fe80::1"),
    ("::ffff:10.0.0.1", "::ffff:10.0.0.1"), ("0:0:0:0:0:0:0:1", "::1"),
])
def test_normalize_address(value, normal):
    assert W.normalize_address(value) == normal


@pytest.mark.parametrize("value", ["host.example.com", "10.0.0", "300.1.1.1", "", "10.0.0.0/8"])
def test_invalid_client_address_is_an_error(value):
    with pytest.raises(ValueError, match="invalid client address"):
        W.normalize_client_addresses([value])


def test_too_many_clients_is_an_error():
    with pytest.raises(ValueError, match="at most"):
        W.normalize_client_addresses(["10.0.0.%d" % i for i in range(W.MAX_CLIENTS + 1)])


@pytest.mark.parametrize("environ, expected", [
    ({"SSH_CONNECTION": "10.88.0.1 51514 10.88.0.5 22"}, ("10.88.0.1", "10.88.0.5", "SSH_CONNECTION")),
    ({"SSH_CLIENT": "2001:db8::7 40000 22"}, ("2001:db8::7", None, "SSH_CLIENT")),
    ({"SSH_CONNECTION": "garbage", "SSH_CLIENT": "192.0.2.3 1 22"}, ("192.0.2.3", None, "SSH_CLIENT")),
    ({}, (None, None, None)),
])
def test_clients_from_environment(environ, expected):
    assert W.clients_from_environment(environ) == expected


@pytest.mark.parametrize("release, binary, linked", [
    ("debian11", "sshd", True), ("debian12", "sshd", True), ("debian13", "sshd", False),
    ("debian13", "sshd_session", True),
])
def test_real_ldd_output(release, binary, linked):
    """ldd of the containers' binaries: Debian 13's sshd no longer links libwrap, its sshd-session does."""
    names = W.parse_ldd(read_fixture("%s/tcp_wrappers_ldd_%s.txt" % (release, binary)))
    assert "libc.so.6" in names
    assert W.links_libwrap(names) is linked


def test_readelf_needed():
    text = (" 0x0000000000000001 (NEEDED)             Shared library: [libwrap.so.0]\n"
            " 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]\n")
    assert W.parse_readelf_needed(text) == ["libwrap.so.0", "libc.so.6"]


def _host(release, files=None, environ_tools=True):
    tools = {"ldd": "/usr/bin/ldd", "getent": "/usr/bin/getent"}
    commands = {("ldd", "/usr/sbin/sshd"): (0, read_fixture(release + "/tcp_wrappers_ldd_sshd.txt"), "")}
    base = {"/usr/sbin/sshd": "ELF"}
    if release == "debian13":
        base["/usr/lib/openssh/sshd-session"] = "ELF"
        commands[("ldd", "/usr/lib/openssh/sshd-session")] = (
            0, read_fixture("debian13/tcp_wrappers_ldd_sshd_session.txt"), "")
    base["/etc/hosts.allow"] = read_fixture(release + "/hosts_allow_default.txt")
    base["/etc/hosts.deny"] = read_fixture(release + "/hosts_deny_default.txt")
    base.update(files or {})
    return FakeHost(commands=commands, files=base, tools=tools)


@pytest.mark.parametrize("release, checked", [
    ("debian11", "/usr/sbin/sshd"), ("debian12", "/usr/sbin/sshd"), ("debian13", "/usr/lib/openssh/sshd-session"),
])
def test_collector_on_the_real_default_files(release, checked):
    host = _host(release)
    result = W.collect_tcp_wrappers(host, environ={"SSH_CONNECTION": "10.88.0.1 40000 10.88.0.5 22"})
    assert result["applies"] is True
    assert result["checked_binary"] == checked
    assert result["libwrap"][checked] == {"linked": True, "method": "ldd"}
    assert result["client_source"] == "SSH_CONNECTION"
    assert result["server_address"] == "10.88.0.5"
    for path in (W.HOSTS_ALLOW, W.HOSTS_DENY):
        assert result["files"][path]["exists"] is True
        assert result["files"][path]["rule_count"] == 0  # Debian ships comments only
    assert [(d["client"], d["allowed"], d["action"]) for d in result["decisions"]] == [("10.88.0.1", True, "default")]
    assert result["notes"] == []


def test_collector_planted_deny_and_explicit_clients():
    host = _host("debian12", files={"/etc/hosts.deny": "sshd: 10.88.0.0/16\n"})
    result = W.collect_tcp_wrappers(host, client_addresses=["10.88.0.9", "192.0.2.1"], environ={})
    assert result["client_source"] == "parameter"
    assert [(d["client"], d["allowed"], d["file"], d["line"], d["rule"]) for d in result["decisions"]] == [
        ("10.88.0.9", False, "/etc/hosts.deny", 1, "sshd: 10.88.0.0/16"),
        ("192.0.2.1", True, None, None, None)]
    assert result["files"]["/etc/hosts.deny"]["rules"] == [{
        "line": 1, "last_line": 1, "text": "sshd: 10.88.0.0/16", "daemons": "sshd", "clients": "10.88.0.0/16",
        "options": None, "applies_to_sshd": True}]
    assert result["files"]["/etc/hosts.deny"]["sshd_rule_count"] == 1
    assert all(d["enforced"] is True for d in result["decisions"])


def test_collector_accepts_the_evidence_collectors_clients_keyword():
    host = _host("debian12", files={"/etc/hosts.deny": "ALL: 192.0.2.1\n"})
    result = W.collect_tcp_wrappers(host, clients=["192.0.2.1"], environ={})
    assert result["decisions"][0]["allowed"] is False


def test_collector_without_client_says_so():
    result = W.collect_tcp_wrappers(_host("debian11"), environ={})
    assert result["decisions"] == []
    assert "SSH_CONNECTION and SSH_CLIENT are not set" in result["notes"][0]


def test_collector_resolves_names_only_when_a_rule_needs_them():
    host = _host("debian12", files={"/etc/hosts.deny": "sshd: .example.com\n"})
    host.commands[("getent", "hosts", "10.88.0.9")] = (0, "10.88.0.9       h3client.example.com h3client\n", "")
    host.commands[("getent", "ahosts", "h3client.example.com")] = (
        0, "10.88.0.9       STREAM h3client.example.com\n10.88.0.9       DGRAM  \n", "")
    result = W.collect_tcp_wrappers(host, client_addresses=["10.88.0.9"], environ={})
    decision = result["decisions"][0]
    assert (decision["allowed"], decision["hostname"], decision["uncertain"]) == (False, "h3client.example.com", False)
    assert ("getent", "hosts", "10.88.0.9") in host.calls
    plain = _host("debian12", files={"/etc/hosts.deny": "sshd: 10.88.0.9\n"})
    W.collect_tcp_wrappers(plain, client_addresses=["10.88.0.9"], environ={})
    assert not any(call[0] == "getent" for call in plain.calls)


def test_collector_paranoid_name():
    host = _host("debian12", files={"/etc/hosts.deny": "sshd: PARANOID\n"})
    host.commands[("getent", "hosts", "10.88.0.9")] = (0, "10.88.0.9 liar.example.com\n", "")
    host.commands[("getent", "ahosts", "liar.example.com")] = (0, "192.0.2.1 STREAM liar.example.com\n", "")
    decision = W.collect_tcp_wrappers(host, client_addresses=["10.88.0.9"], environ={})["decisions"][0]
    assert (decision["allowed"], decision["hostname"]) == (False, "paranoid")


def test_collector_name_lookup_off_keeps_the_doubt():
    host = _host("debian12", files={"/etc/hosts.deny": "sshd: KNOWN\n"})
    decision = W.collect_tcp_wrappers(host, client_addresses=["10.88.0.9"], environ={},
                                      resolve_hostnames=False)["decisions"][0]
    assert decision["allowed"] is True and decision["uncertain"] is True
    assert not any(call[0] == "getent" for call in host.calls)


def test_collector_reads_pattern_files():
    host = _host("debian12", files={"/etc/hosts.deny": "sshd: /etc/ssh-banned\n", "/etc/ssh-banned": "192.0.2.5\n10.88.0.9\n"})
    decision = W.collect_tcp_wrappers(host, client_addresses=["10.88.0.9"], environ={})["decisions"][0]
    assert decision["allowed"] is False and decision["uncertain"] is False


def test_collector_unreadable_file_makes_decisions_uncertain():
    host = _host("debian12")
    host.unreadable.add("/etc/hosts.deny")
    result = W.collect_tcp_wrappers(host, client_addresses=["10.88.0.9"], environ={})
    assert result["files"]["/etc/hosts.deny"]["readable"] is False
    assert result["decisions"][0]["uncertain"] is True
    assert any("could not be read" in n for n in result["notes"])
    assert any("permission denied" in n for n in result["notes"])


def test_collector_binary_without_libwrap():
    """A Fedora-like sshd (no libwrap): wrappers do not apply, decisions are still shown."""
    host = FakeHost(commands={("ldd", "/usr/sbin/sshd"): (0, "\tlibc.so.6 => /lib64/libc.so.6 (0x1)\n", "")},
                    files={"/usr/sbin/sshd": "ELF", "/etc/hosts.deny": "ALL: ALL\n"}, tools={"ldd": "/usr/bin/ldd"})
    result = W.collect_tcp_wrappers(host, client_addresses=["192.0.2.1"], environ={})
    assert result["applies"] is False
    assert result["decisions"][0]["allowed"] is False and result["decisions"][0]["enforced"] is False


def test_collector_falls_back_to_the_binary_text():
    host = FakeHost(files={"/usr/sbin/sshd": "\x7fELF...libwrap.so.0\x00hosts_access\x00"}, tools={})
    result = W.collect_tcp_wrappers(host, environ={})
    assert result["applies"] is True
    assert result["libwrap"]["/usr/sbin/sshd"]["method"] == "elf_strings"


def test_collector_prefers_readelf():
    """readelf -d of Debian 13's sshd and sshd-session, captured after installing binutils in the container."""
    host = _host("debian13")
    host.tools["readelf"] = "/usr/bin/readelf"
    host.commands[("readelf", "-d", "/usr/sbin/sshd")] = (0, read_fixture("debian13/readelf_d_sshd.txt"), "")
    host.commands[("readelf", "-d", "/usr/lib/openssh/sshd-session")] = (
        0, read_fixture("debian13/readelf_d_sshd_session.txt"), "")
    result = W.collect_tcp_wrappers(host, environ={})
    assert result["libwrap"] == {"/usr/sbin/sshd": {"linked": False, "method": "readelf"},
                                 "/usr/lib/openssh/sshd-session": {"linked": True, "method": "readelf"}}
    assert result["applies"] is True


def test_a_binary_that_only_names_libwrap_in_a_string_does_not_count():
    """The fallback needs both the library name and the hosts_access import, as a linked binary has."""
    host = FakeHost(files={"/usr/sbin/sshd": "\x7fELF...see libwrap.so(3) for details\x00"}, tools={})
    assert W.binary_links_libwrap(host, "/usr/sbin/sshd") == {"linked": False, "method": "elf_strings"}


@pytest.mark.parametrize("ldd, linked", [
    # Debian 12's ldd on a static binary (/sbin/ldconfig): rc 0
    ((0, "\tstatically linked\n", ""), False),
    # ... and on a file that is no ELF at all (/etc/passwd): rc 1, the message on stdout
    ((1, "\tnot a dynamic executable\n", ""), False),
])
def test_ldd_of_a_binary_without_dynamic_libraries(ldd, linked):
    host = FakeHost(commands={("ldd", "/usr/sbin/sshd"): ldd}, files={"/usr/sbin/sshd": "ELF"}, tools={"ldd": "/usr/bin/ldd"})
    assert W.binary_links_libwrap(host, "/usr/sbin/sshd") == {"linked": linked, "method": "ldd"}


def test_collector_without_sshd():
    result = W.collect_tcp_wrappers(FakeHost(), environ={})
    assert result["applies"] is False
    assert any("sshd is not installed" in n for n in result["notes"])


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(), st.sampled_from(["10.88.0.9", "::1", "127.0.0.1", "2001:db8::1"]))
def test_arbitrary_files_never_raise(allow, deny, client):
    allow_rules = W.parse_hosts_file(allow, W.HOSTS_ALLOW)["rules"]
    deny_rules = W.parse_hosts_file(deny, W.HOSTS_DENY)["rules"]
    decision = W.evaluate(client, allow_rules, deny_rules, pattern_files={"/x": allow})
    assert decision["allowed"] in (True, False)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["sshd", "ALL", "EXCEPT", "KNOWN", "LOCAL", "PARANOID", "10.88.", "10.88.0.0/16",
                                 "[::1]/64", ":", ",", " ", "\\\n", "\n", "#", "@x", "a@b", "/f", ".example.com",
                                 "*", "allow", "deny", "0.0.0.0/0", "255.255.255.255/1"]), max_size=30))
def test_token_soup_never_raises(parts):
    text = "".join(parts)
    rules = W.parse_hosts_file(text, W.HOSTS_DENY)["rules"]
    for client in ("10.88.0.9", "::1"):
        W.evaluate(client, rules, rules, hostnames={client: "h.example.com"}, server_addr="10.88.0.1")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_arbitrary_ldd_and_options_never_raise(text):
    W.parse_ldd(text)
    W.parse_readelf_needed(text)
    W.options_outcome(text)
    W.binary_text_mentions_libwrap(text)


@pytest.mark.parametrize("pattern, string, matches", [
    ("10.88.0.*", "10.88.0.9", True), ("10.88.0.?", "10.88.0.9", True), ("10.88.0.?", "10.88.0.10", False),
    ("*.EXAMPLE.com", "h3client.example.com", True), ("local*", "localhost", True), ("*", "", True),
    ("a*b*c", "aXXbYYc", True), ("a*b*c", "aXXbYY", False), ("*a*a*a*a*a*b", "a" * 200, False),
])
def test_wildcards(pattern, string, matches):
    assert W._wild_match(pattern, string) is matches


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab*?.", max_size=12), st.text(alphabet="ab.", max_size=12))
def test_wildcards_agree_with_fnmatch(pattern, string):
    translated = fnmatch.translate(pattern)
    assert W._wild_match(pattern, string) is bool(re.match(translated, string, re.S))
