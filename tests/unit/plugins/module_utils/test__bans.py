# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bans_info's readers and collector, and the set members of firewall_info.

REAL recordings (tests/unit/fixtures/debian1X/bans/<host>/): tests/unit/record-fixture ran
the collector inside containers of localhost/sshdoctor-debian12-daemons and -debian13-daemons
(fail2ban 1.0.2 / 1.1.0, sshguard 2.4.2, ufw 0.36.2, firewalld 1.3.3 / 2.3.1, ipset 7.17,
nft 1.0.6 / 1.1.3), each set up as molecule/bans/prepare.yml sets its host up, after a
client container at 10.89.0.4 made real failed logins (fail2ban, sshguard) or a burst of
connections (ufw); firewalld's rich rules, the nft sets and the ipset were added with the
tools' own commands. manifest.json lists every command, file and database query and its
real answer; *_nonroot recordings ran as user nobody. The containers' clock was
2026-12-02 (UTC), so the tests convert local times as UTC.
debian12/bans/fail2ban_banip_with_time_permanent.txt is real `get sshd banip --with-time`
output after `set sshd bantime -1`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _bans as B
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _firewall as F
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import read_fixture, recorded_host
from ansible_collections.sshdoctor.connreset.tests.unit.timing import growth_below

CLIENT = "10.89.0.4"


def utc(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S"))


def collect(recording, clients=(CLIENT,), **changes):
    host, manifest = recorded_host(recording, **changes)
    return B.collect_bans(host, clients=list(clients), now=manifest["now"], to_epoch=utc, environ={}), manifest


def recorded_output(manifest, recording, argv):
    entry = next(c for c in manifest["commands"] if c["argv"] == argv)
    return read_fixture("%s/%s" % (recording, entry["stdout"]))


# --------------------------------------------------------------------------- nft sets and ipsets
def test_real_nft_set_and_ipset_members_with_cidrs_and_timeouts():
    result, manifest = collect("debian12/bans/sets")
    host, dummy = recorded_host("debian12/bans/sets")
    firewall = F.collect_firewall(host, clients=[CLIENT])
    sets = dict(((s["source"], s["name"]), s) for s in firewall["sets"])
    blocked4 = sets[("nft", "blocked4")]
    assert (blocked4["family"], blocked4["table"], blocked4["type"]) == ("inet", "sshdoctor", "ipv4_addr")
    assert blocked4["flags"] == ["interval", "timeout"]
    assert blocked4["members_total"] == 3
    # What `nft list set` printed: 10.89.0.4/30 timeout 2h expires 1h59m..., 198.51.100.0/24 timeout 1h, 203.0.113.7.
    assert [(m["element"], m["timeout_s"]) for m in blocked4["members"]] == [
        ("10.89.0.4/30", 7200), ("198.51.100.0/24", 3600), ("203.0.113.7", None)]
    assert 0 < blocked4["members"][0]["expires_s"] <= 7200
    assert blocked4["referenced_by"] == ["tcp dport 22 ip saddr @blocked4 reject with tcp reset"]
    assert blocked4["affects_ssh"] is True
    ipset = sets[("ipset", "sshdoctor-block")]
    assert (ipset["family"], ipset["table"], ipset["type"], ipset["members_total"]) == ("ip", None, "hash:net", 3)
    # ipset shows the time a member has left (0 = no timeout), not its original timeout.
    assert [(m["element"], m["expires_s"] is not None) for m in ipset["members"]] == [
        ("10.89.0.4/30", True), ("198.51.100.77", False), ("192.0.2.0/24", True)]
    assert ipset["referenced_by"] == [
        "-A INPUT -p tcp -m tcp --dport 22 -m set --match-set sshdoctor-block src -j REJECT --reject-with tcp-reset"]
    assert ipset["affects_ssh"] is True
    assert sets[("ipset", "sshdoctor-unused")]["affects_ssh"] is False
    assert [s["name"] for s in firewall["sets"]][-1] == "sshdoctor-unused"


def test_the_client_in_a_cidr_of_a_set_is_named_with_the_rule_and_the_command():
    result, manifest = collect("debian12/bans/sets")
    entries = result["clients"][CLIENT]
    assert [(e["kind"], e["tool"], e["where"], e["element"], e["verdict"]) for e in entries] == [
        ("set_member", "ipset", "ipset sshdoctor-block", "10.89.0.4/30", "REJECT"),
        ("set_member", "nft", "set blocked4 of table inet sshdoctor", "10.89.0.4/30", "REJECT"),
    ]
    assert entries[1]["rule"] == "tcp dport 22 ip saddr @blocked4 reject with tcp reset"
    assert entries[1]["unban"] == "nft delete element inet sshdoctor blocked4 { 10.89.0.4/30 }"
    assert entries[0]["unban"] == "ipset del sshdoctor-block 10.89.0.4/30"
    # until = the recording's moment plus the time the member had left.
    host, dummy = recorded_host("debian12/bans/sets")
    blocked4 = [s for s in F.collect_firewall(host)["sets"] if s["name"] == "blocked4"][0]
    assert entries[1]["until_epoch"] == manifest["now"] + blocked4["members"][0]["expires_s"]
    assert result["banned_total"] == 7
    assert [b["address"] for b in result["banned"][:2]] == ["10.89.0.4/30", "10.89.0.4/30"]


def test_a_client_outside_every_set_matches_nothing():
    result, dummy = collect("debian12/bans/sets", clients=["10.89.0.9"])
    assert result["clients"] == {"10.89.0.9": []}


def test_set_members_matching_a_client_come_first_within_the_bound():
    text = "Name: big\nType: hash:ip\nHeader: family inet hashsize 1024 maxelem 65536\nNumber of entries: 500\nMembers:\n"
    text += "".join("198.51.100.%d\n" % (i % 250) for i in range(499)) + "203.0.113.5\n"
    parsed = F.parse_ipset_list(text, F.client_ranges_of(["203.0.113.0/24"]))
    assert parsed[0]["members_total"] == 500
    assert len(parsed[0]["members"]) == F.MAX_SET_MEMBERS
    assert parsed[0]["members"][0]["element"] == "203.0.113.5"


@pytest.mark.parametrize("text, expected", [
    ("10.0.0.5", (4, 167772165, 167772165)),
    ("10.0.0.0/30", (4, 167772160, 167772163)),
    ("10.0.0.6/30", (4, 167772164, 167772167)),
    ("10.0.0.1-10.0.0.9", (4, 167772161, 167772169)),
    ("10.0.0.5,tcp:22", (4, 167772165, 167772165)),
    ("2001:db8::/32", (6, 0x20010db8 << 96, (0x20010db8 << 96) | ((1 << 96) - 1))),
    ("ssh", None),
    ("", None),
    (None, None),
])
def test_address_ranges(text, expected):
    assert F.address_range(text) == expected


@pytest.mark.parametrize("values, expected", [
    (["198.51.100.7", "203.0.113.0/24", "2001:db8::/32"], ["198.51.100.7", "203.0.113.0/24", "2001:db8::/32"]),
    ([" 198.51.100.7 ", "198.51.100.7"], ["198.51.100.7"]),
    (None, []),
])
def test_client_specs(values, expected):
    assert B.parse_client_specs(values) == expected


@pytest.mark.parametrize("values", [["ci.example.com"], ["10.0.0.1-10.0.0.9"], ["10.0.0.0/33"],
                                    ["10.0.0.%d" % i for i in range(17)]])
def test_bad_client_specs_name_the_option(values):
    with pytest.raises(ValueError, match="^clients: "):
        B.parse_client_specs(values)


# --------------------------------------------------------------------------- fail2ban
def test_real_fail2ban_iptables_bans_with_times_and_what_triggered_them():
    result, manifest = collect("debian12/bans/fail2ban_iptables")
    f2b = result["tools"]["fail2ban"]
    assert (f2b["running"], f2b["source"], f2b["version"]) == (True, "fail2ban-client", "1.0.2")
    assert [j["name"] for j in f2b["jails"]] == ["sshd", "sshd-tcpreset"]
    sshd = f2b["jails"][0]
    assert (sshd["covers_sshd"], sshd["maxretry"], sshd["findtime"], sshd["bantime"]) == (True, 3, 600, 3600)
    assert sshd["ignoreip"] == ["127.0.0.0/8", "192.0.2.0/24", "::1"]
    assert sshd["actions"] == ["iptables-multiport"]
    ban = sshd["banned"][0]
    # fail2ban-client printed: "10.89.0.4 	2026-12-02 10:04:10 + 3600 = 2026-12-02 11:04:10"
    assert (ban["address"], ban["since"], ban["until"]) == (
        CLIENT, "2026-12-02T10:04:10+00:00", "2026-12-02T11:04:10+00:00")
    assert ban["enforced"] is True
    assert ban["failures"] == 3
    assert all("Invalid user nosuchuser from 10.89.0.4" in line for line in ban["matches"])


def test_a_jail_whose_ban_action_fails_lists_the_address_but_does_not_enforce_it():
    """The trap of ENVIRONMENT.md: blocktype tcp-reset without -p tcp; iptables refuses every ban."""
    result, manifest = collect("debian12/bans/fail2ban_iptables")
    by_where = dict((b["where"], b) for b in result["banned"])
    assert by_where["jail sshd"]["enforced"] is True
    assert by_where["jail sshd-tcpreset"]["enforced"] is False
    failed = result["tools"]["fail2ban"]["failed_bans"]
    assert [(f["jail"], f["action"], f["address"]) for f in failed] == [("sshd-tcpreset", "iptables-multiport", CLIENT)]
    assert "RULE_INSERT failed (Invalid argument)" in failed[0]["error"]
    assert any(n.startswith("fail2ban jail sshd-tcpreset lists 10.89.0.4 as banned, but no rule or set") and
               "RULE_INSERT failed" in n for n in result["notes"])
    kinds = [(e["kind"], e["where"], e["verdict"]) for e in result["clients"][CLIENT]]
    assert kinds == [("ban", "jail sshd", "enforced"), ("ban", "jail sshd-tcpreset", "not enforced"),
                     ("rule", "chain f2b-sshd of table ip filter", "REJECT")]
    assert result["clients"][CLIENT][0]["unban"] == "fail2ban-client set sshd unbanip 10.89.0.4"


def test_real_fail2ban_nftables_ban_is_enforced_by_its_set():
    result, manifest = collect("debian13/bans/fail2ban_nftables")
    f2b = result["tools"]["fail2ban"]
    assert f2b["version"] == "1.1.0"
    assert f2b["jails"][0]["actions"] == ["nftables"]
    assert result["banned"] == [{
        "tool": "fail2ban", "where": "jail sshd", "address": CLIENT,
        "since": "2026-12-02T09:45:41+00:00", "until": "2026-12-02T10:48:03+00:00",
        "since_epoch": utc("2026-12-02 09:45:41"), "until_epoch": utc("2026-12-02 10:48:03"),
        "enforced": True, "unban": "fail2ban-client set sshd unbanip 10.89.0.4"}]
    member = result["clients"][CLIENT][1]
    assert (member["kind"], member["where"], member["rule"]) == (
        "set_member", "set addr-set-sshd of table inet f2b-table",
        "tcp dport 22 ip saddr @addr-set-sshd reject with icmp port-unreachable")
    # fail2ban restored the ban from its database when it started again; its log says so.
    counts = f2b["log"]["addresses"][CLIENT]["jails"]["sshd"]
    assert counts["restored_bans"] == 1 and counts["found"] >= 3


def test_without_root_fail2ban_says_so_and_reports_no_bans():
    result, manifest = collect("debian12/bans/fail2ban_iptables_nonroot")
    assert result["banned"] == [] and result["clients"] == {CLIENT: []}
    assert "fail2ban-client: permission denied (run with become: true): bans not read from fail2ban" in result["notes"]
    assert "cannot read /var/lib/fail2ban/fail2ban.sqlite3: permission denied (run with become: true)" in result["notes"]


def test_a_running_fail2ban_whose_client_fails_is_read_from_its_database():
    """The recorded root run, with fail2ban-client answering as it does to a user without the socket."""
    host, manifest = recorded_host("debian12/bans/fail2ban_iptables")
    nonroot, dummy = recorded_host("debian12/bans/fail2ban_iptables_nonroot")
    host.commands[("fail2ban-client", "status")] = nonroot.commands[("fail2ban-client", "status")]
    result = B.collect_bans(host, clients=[CLIENT], now=manifest["now"], to_epoch=utc, environ={})
    f2b = result["tools"]["fail2ban"]
    assert f2b["source"] == "database"
    assert sorted((b["where"], b["enforced"]) for b in result["banned"]) == [
        ("jail sshd", True), ("jail sshd-tcpreset", False)]
    assert result["banned"][0]["until_epoch"] - result["banned"][0]["since_epoch"] == 3600


def test_real_permanent_ban_has_no_end():
    bans = B.parse_f2b_banip_with_time(read_fixture("debian12/bans/fail2ban_banip_with_time_permanent.txt"), utc)
    assert [(b["address"], b["bantime"], b["until_epoch"]) for b in bans] == [
        (CLIENT, -1, None), ("198.51.100.9", -1, None)]


def test_database_bans_that_ran_out_are_left_out():
    host, manifest = recorded_host("debian12/bans/fail2ban_iptables")
    rows = host.databases["/var/lib/fail2ban/fail2ban.sqlite3"]
    assert len(B.parse_f2b_db_rows(rows, manifest["now"])) == 2
    assert B.parse_f2b_db_rows(rows, manifest["now"] + 3601) == {}


def test_fail2ban_batch_answers_are_split_in_order():
    host, manifest = recorded_host("debian12/bans/fail2ban_iptables")
    text = host.commands[("fail2ban-client", "-i")][1]
    answers = B.split_f2b_batch(text, 3 + 2 * 7)
    assert answers[0] == "1.0.2"
    assert B.parse_f2b_value_list(answers[1]) == ["/var/log/fail2ban.log"]
    assert B.split_f2b_batch(text, 40) is None


def test_a_long_ignoreip_item_costs_linear_time():
    # found by ./dev fuzz: a lazy item before "\s*$" made a 64 KB line of spaces cost seconds (quadratic)
    assert B.parse_f2b_value_list("|- 127.0.0.1/8 \n`-   \n") == ["127.0.0.1/8"]
    assert growth_below(B.parse_f2b_value_list, lambda n: "|- 10.0.0.1" + " " * n + "x", 8 * 64) < 8 * 64


# --------------------------------------------------------------------------- sshguard
def test_real_sshguard_block_with_start_end_whitelist_and_command():
    result, manifest = collect("debian12/bans/sshguard")
    sg = result["tools"]["sshguard"]
    assert (sg["running"], sg["backend"], sg["threshold"], sg["block_time"]) == (True, "sshg-fw-nft-sets", 30, 3600)
    assert sg["whitelist"] == ["127.0.0.0/8", "::1/128", "192.0.2.0/24"]
    block = sg["blocked"][0]
    # journal: 'Blocking "10.89.0.4/32" for 3600 secs (5 attacks in 1 secs, after 1 abuses over 1 secs.)'
    assert block["until_epoch"] - block["since_epoch"] == 3600
    assert block["attacks"] == 5
    assert result["banned"][0]["where"] == "set attackers of table ip sshguard"
    assert result["banned"][0]["unban"] == "nft delete element ip sshguard attackers { 10.89.0.4 }"
    assert result["clients"][CLIENT][0]["verdict"] == "enforced"


# --------------------------------------------------------------------------- ufw
def test_real_ufw_limit_and_deny_rules_from_its_own_files():
    result, manifest = collect("debian12/bans/ufw")
    ufw = result["tools"]["ufw"]
    assert (ufw["enabled"], ufw["active"], ufw["default_input_policy"]) == (True, True, "DROP")
    assert [(r["action"], r["dport"], r["src"], r["ipv6"]) for r in ufw["rules"]] == [
        ("limit", "22", "0.0.0.0/0", False), ("deny", "22", "198.51.100.7", False), ("limit", "22", "::/0", True)]
    assert [(l["hitcount"], l["seconds"], l["command"]) for l in ufw["limits"]] == [
        (6, 30, "limit 22/tcp"), (6, 30, "limit 22/tcp")]
    assert result["banned"] == [{
        "tool": "ufw", "where": "rule deny from 198.51.100.7 to any port 22 proto tcp", "address": "198.51.100.7",
        "since": None, "until": None, "since_epoch": None, "until_epoch": None, "enforced": True,
        "unban": "ufw delete deny from 198.51.100.7 to any port 22 proto tcp"}]


def test_a_client_in_ufws_limit_list_is_rate_limited_with_the_command():
    result, manifest = collect("debian12/bans/ufw")
    assert result["clients"][CLIENT] == [{
        "kind": "rate_limit", "tool": "ufw", "where": "ufw limit 22/tcp (list DEFAULT)",
        "element": "10.89.0.4: 10 of its last 15 new-connection packets (SYNs) refused",
        "rule": "at most 5 new connections per 30 s per source", "verdict": "REJECT",
        "since_epoch": None, "until_epoch": None, "unban": "ufw delete limit 22/tcp && ufw allow 22/tcp"}]
    # The stopped fail2ban's database still holds old bans; they are not reported as bans.
    assert result["tools"]["fail2ban"]["database_bans"] == 2
    assert not [b for b in result["banned"] if b["tool"] == "fail2ban"]


def test_ufws_list_after_its_ring_wrapped():
    """/proc/net/xt_recent/DEFAULT of the molecule bans scenario's ufw container (Debian 12) after five
    bursts of 8-10 connections: 32 times, the ring's oldest at slot 14. The newest burst was eight
    connections, five let through and three refused (each refused SYN stamped twice, each refused
    connection sent its SYN twice)."""
    entries = B.parse_xt_recent(read_fixture("debian12/bans/ufw_xt_recent_DEFAULT_wrapped.txt"))
    assert entries == [
        {"address": "10.89.0.1", "packets": 2, "refused": 0, "last_seen_jiffies": 4298761993},
        {"address": "10.89.0.15", "packets": 20, "refused": 12, "last_seen_jiffies": 4298917968}]


# --------------------------------------------------------------------------- firewalld
@pytest.mark.parametrize("recording", ["debian12/bans/firewalld", "debian13/bans/firewalld"])
def test_real_firewalld_rich_rule_rejecting_the_client(recording):
    result, manifest = collect(recording)
    fwd = result["tools"]["firewalld"]
    assert (fwd["running"], fwd["source"], fwd["default_zone"], fwd["backend"]) == (
        True, "firewall-cmd", "public", "nftables")
    public = next(z for z in fwd["zones"] if z["name"] == "public")
    assert public["ssh_allowed"] is True
    assert sorted((r["source"], r["action"], r["limit"]) for r in public["rich_rules"]) == [
        ("10.89.0.4", "reject", None), ("198.51.100.0/24", "drop", None), ("203.0.113.0/24", "accept", "3/m")]
    internal = next(z for z in fwd["zones"] if z["name"] == "internal")
    assert internal["sources"] == ["192.0.2.0/24"]
    ban = next(b for b in result["banned"] if b["address"] == CLIENT)
    assert (ban["tool"], ban["where"], ban["enforced"]) == ("firewalld", "zone public", True)
    assert ban["unban"] == ("firewall-cmd --zone=public --remove-rich-rule='rule family=\"ipv4\" source "
                            "address=\"10.89.0.4\" reject' && firewall-cmd --permanent --zone=public "
                            "--remove-rich-rule='rule family=\"ipv4\" source address=\"10.89.0.4\" reject'")
    rule = [e for e in result["clients"][CLIENT] if e["kind"] == "rule"][0]
    assert rule["where"] == "zone public (chain filter_IN_public_deny)"
    assert rule["rule"].startswith("ip saddr 10.89.0.4 reject")


def test_firewalld_limit_rule_and_source_zone_for_other_clients():
    result, dummy = collect("debian13/bans/firewalld", clients=["203.0.113.5", "192.0.2.7"])
    limited = result["clients"]["203.0.113.5"]
    # Zone public allows ssh, and firewalld puts `tcp dport 22 accept` before the limited accept in
    # filter_IN_public_allow: past 3/m the client's packets are accepted anyway. The limit only counts.
    assert [(e["kind"], e["verdict"]) for e in limited] == [("rate_limit", "counted")]
    # 192.0.2.7 is handled by zone internal (its sources), which allows ssh: nothing applies.
    assert result["clients"]["192.0.2.7"] == []


def test_firewalld_without_root_reads_its_zone_files():
    result, dummy = collect("debian13/bans/firewalld_nonroot")
    fwd = result["tools"]["firewalld"]
    assert fwd["source"] == "files"
    assert any(n.startswith("firewall-cmd: authorization failed (run with become: true)") for n in result["notes"])


def test_zone_xml_and_rich_rule_text_agree():
    """/etc/firewalld/zones/public.xml of the Debian 13 host, read back as firewall-cmd prints its rules."""
    xml = ('<?xml version="1.0" encoding="utf-8"?>\n<zone>\n  <service name="ssh"/>\n  <rule family="ipv4">\n'
           '    <source address="10.89.0.4"/>\n    <reject/>\n  </rule>\n  <rule family="ipv4">\n'
           '    <source address="203.0.113.0/24"/>\n    <service name="ssh"/>\n    <accept>\n'
           '      <limit value="3/m" burst="0"/>\n    </accept>\n  </rule>\n</zone>\n')
    zone = B.parse_zone_xml(xml, "public")
    assert [r["text"] for r in zone["rich_rules"]] == [
        'rule family="ipv4" source address="10.89.0.4" reject',
        'rule family="ipv4" source address="203.0.113.0/24" service name="ssh" accept limit value="3/m"']
    assert zone["ssh_allowed"] is True


# --------------------------------------------------------------------------- nothing installed, odd input
def test_a_host_without_any_tool():
    """The recorded sets host with the ban tools' programs and files taken away."""
    tools = ("/etc/sshguard", "/etc/ufw", "/etc/default/ufw", "/etc/firewalld", "/usr/lib/firewalld", "/var/log/f")
    host, manifest = recorded_host("debian12/bans/sets")
    kept = ("nft", "iptables-save", "iptables-nft-save", "ipset")
    host, manifest = recorded_host(
        "debian12/bans/sets", tools=dict((k, v) for k, v in host.tools.items() if k in kept),
        files=dict((k, v) for k, v in host.files.items() if not k.startswith(tools)),
        present=[p for p in host.present if not p.startswith(tools)])
    result = B.collect_bans(host, clients=None, now=manifest["now"], environ={"SSH_CONNECTION": "10.89.0.4 5555 10.89.0.7 22"})
    assert result["clients_source"] == "ssh_connection"
    assert "none of fail2ban, sshguard, ufw or firewalld is installed" in result["notes"]
    assert [e["where"] for e in result["clients"][CLIENT]] == ["ipset sshdoctor-block", "set blocked4 of table inet sshdoctor"]


@given(st.text(max_size=400))
@settings(max_examples=200, deadline=None)
def test_arbitrary_text_never_breaks_the_parsers(text):
    B.parse_f2b_status(text)
    B.parse_f2b_jail_status(text)
    B.parse_f2b_banip_with_time(text, utc)
    B.parse_f2b_value_list(text)
    B.parse_f2b_actions(text)
    B.split_f2b_batch(text, 3)
    B.parse_tool_log(text.splitlines(), utc)
    B.parse_ufw_user_rules(text)
    B.parse_xt_recent(text)
    B.parse_firewall_cmd_zones(text)
    B.parse_rich_rule(text)
    B.parse_zone_xml(text, "x")
    B.parse_shell_vars(text)
    F.parse_ipset_list(text, F.client_ranges_of(["10.0.0.0/8"]))
    F.address_range(text)


@given(st.lists(st.tuples(st.text(max_size=20), st.text(max_size=20), st.integers(), st.integers(),
                          st.integers(), st.text(max_size=60)), max_size=5))
@settings(max_examples=100, deadline=None)
def test_arbitrary_database_rows_never_break_the_reader(rows):
    B.parse_f2b_db_rows(rows, 0)
