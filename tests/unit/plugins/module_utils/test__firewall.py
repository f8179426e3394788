# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""firewall_info's parsers, classifier and collector.

REAL fixtures (tests/unit/fixtures/debian11|12|13/): captured inside the containers
(iptables 1.8.7 / 1.8.9 / 1.8.11, nft 0.9.8 / 1.0.6 / 1.1.3) after planting the
same rules in each (molecule/default/prepare_firewall.yml plants them the same way):
an f2b-sshd chain (fail2ban's iptables-multiport layout), REJECT --reject-with
tcp-reset, recent / hashlimit / connlimit / limit rules, a custom SSH-GUARD chain,
an sshguard chain, a FORWARD DROP policy, one legacy-backend rule, one ip6tables
rule, an nft table h3test (reject with tcp reset, limit over, ct count, a base
chain with a DROP policy) and fail2ban's nftables layout (f2b-table,
addr-set-sshd). *_nonroot.txt are the real error output as user nobody.
debian13/nft_ruleset_firewalld_shaped.json and nft_ruleset_sshguard_shaped.json are
REAL nft JSON of rulesets loaded by hand in firewalld's and sshguard's shape
(neither tool is installable in the offline containers).
rhel7/iptables_save_firewalld_fail2ban_transcribed.txt is TRANSCRIBED, not
captured: iptables 1.4.21 with firewalld's chains and fail2ban (chain and ipset).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _firewall as F
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import FakeHost, read_fixture

RELEASES = ["debian11", "debian12", "debian13"]

# (chain, position, verdict, jump_target, reject_with, rate_limit, fail2ban, sshguard, affects_ssh) for port 22
PLANTED_IPTABLES = [
    ("INPUT", 1, "JUMP", "f2b-sshd", None, [], True, False, True),
    ("INPUT", 2, "REJECT", None, "tcp-reset", [], False, False, True),
    ("INPUT", 3, "NONE", None, None, ["recent"], False, False, True),
    ("INPUT", 4, "DROP", None, None, ["recent"], False, False, True),
    ("INPUT", 5, "DROP", None, None, ["hashlimit"], False, False, True),
    ("INPUT", 6, "REJECT", None, "tcp-reset", ["connlimit"], False, False, True),
    ("INPUT", 7, "ACCEPT", None, None, ["limit"], False, False, False),   # --dport 2222
    ("INPUT", 8, "ACCEPT", None, None, [], False, False, False),          # --dport 80
    ("INPUT", 9, "DROP", None, None, [], False, False, False),            # udp 22
    ("INPUT", 10, "DROP", None, None, [], False, False, False),           # ! --dport 22
    ("INPUT", 11, "JUMP", "SSH-GUARD", None, [], False, False, True),
    ("INPUT", 12, "JUMP", "WEB", None, [], False, False, False),          # --dport 443
    ("INPUT", 13, "JUMP", "sshguard", None, [], False, True, True),
    ("SSH-GUARD", 1, "DROP", None, None, [], False, False, True),
    ("WEB", 1, "DROP", None, None, [], False, False, False),              # only reached for 443
    ("f2b-sshd", 1, "REJECT", None, "icmp-port-unreachable", [], True, False, True),
    ("f2b-sshd", 2, "RETURN", None, None, [], True, False, True),
    ("sshguard", 1, "DROP", None, None, [], False, True, True),
]


def _roots(parsed, source="iptables"):
    family = "ip6" if source == "ip6tables" else "ip"
    return set((source, p["backend"], family, p["table"], p["chain"]) for p in parsed["policies"]
               if p["hook"] in F.LOCAL_HOOKS)


def _classified_iptables(text, ports=(22,), source="iptables", backend="nf_tables"):
    parsed = F.parse_iptables_save(text, source=source, backend=backend)
    F.classify_rules(parsed["rules"], _roots(parsed, source), ports)
    return parsed


@pytest.mark.parametrize("release", RELEASES)
def test_real_planted_iptables_rules(release):
    parsed = _classified_iptables(read_fixture(release + "/iptables_save_nft_planted.txt"))
    got = [(r["chain"], r["position"], r["verdict"], r["jump_target"], r["reject_with"], r["rate_limit"],
            r["fail2ban"], r["sshguard"], r["affects_ssh"]) for r in parsed["rules"]]
    assert got == PLANTED_IPTABLES
    assert [r["tcp_reset"] for r in parsed["rules"]][:6] == [False, True, False, False, False, True]
    assert parsed["unparsed"] == 0
    assert parsed["warnings"] == ["# Warning: iptables-legacy tables present, use iptables-legacy-save to see them"]
    assert [(p["chain"], p["policy"]) for p in parsed["policies"]] == [
        ("INPUT", "ACCEPT"), ("FORWARD", "DROP"), ("OUTPUT", "ACCEPT")]
    assert parsed["tables"]["filter"]["chains"]["f2b-sshd"] is None


@pytest.mark.parametrize("release", RELEASES)
def test_real_planted_rule_details(release):
    rule = F.public_rule(_classified_iptables(read_fixture(release + "/iptables_save_nft_planted.txt"))["rules"][1])
    assert rule == {
        "source": "iptables", "backend": "nf_tables", "family": "ip", "table": "filter", "chain": "INPUT",
        "position": 2, "text": "-A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset",
        "verdict": "REJECT", "jump_target": None, "reject_with": "tcp-reset", "tcp_reset": True, "rate_limit": [],
        "fail2ban": False, "sshguard": False, "affects_ssh": True, "proto": "tcp", "dport": "22", "sport": None,
        "src": "198.51.100.0/24", "dst": None,
    }
    negated = F.public_rule(_classified_iptables(read_fixture(release + "/iptables_save_nft_planted.txt"))["rules"][9])
    assert negated["dport"] == "!22" and negated["affects_ssh"] is False


@pytest.mark.parametrize("release", RELEASES)
def test_other_ports_change_what_affects_ssh(release):
    parsed = _classified_iptables(read_fixture(release + "/iptables_save_nft_planted.txt"), ports=[2222])
    affects = dict(((r["chain"], r["position"]), r["affects_ssh"]) for r in parsed["rules"])
    assert affects[("INPUT", 7)] is True    # --dport 2222 -m limit
    assert affects[("INPUT", 10)] is True   # ! --dport 22 matches 2222
    assert affects[("INPUT", 2)] is False
    # nothing that can match port 2222 jumps into f2b-sshd, so its rules do not count
    assert affects[("f2b-sshd", 1)] is False
    assert affects[("SSH-GUARD", 1)] is True


@pytest.mark.parametrize("release", RELEASES)
def test_real_legacy_and_ip6_rules(release):
    legacy = _classified_iptables(read_fixture(release + "/iptables_save_legacy_planted.txt"), backend="legacy")
    assert [(r["backend"], r["verdict"], r["src"], r["affects_ssh"]) for r in legacy["rules"]] == [
        ("legacy", "DROP", "192.0.2.77/32", True)]
    ip6 = _classified_iptables(read_fixture(release + "/ip6tables_save_nft_planted.txt"), source="ip6tables")
    assert [(r["family"], r["verdict"], r["reject_with"], r["tcp_reset"], r["affects_ssh"]) for r in ip6["rules"]] == [
        ("ip6", "REJECT", "tcp-reset", True, True)]


def test_transcribed_rhel7_firewalld_and_fail2ban():
    parsed = _classified_iptables(read_fixture("rhel7/iptables_save_firewalld_fail2ban_transcribed.txt"), backend="legacy")
    ssh = [(r["table"], r["chain"], r["verdict"], r["jump_target"], r["fail2ban"])
           for r in parsed["rules"] if r["affects_ssh"]]
    assert ("filter", "INPUT", "REJECT", None, True) in ssh          # -m set --match-set f2b-sshd-ipset
    assert ("filter", "INPUT", "REJECT", None, False) in ssh         # the final icmp-host-prohibited
    assert ("filter", "INPUT_ZONES", "GOTO", "IN_public", False) in ssh
    assert ("filter", "IN_public_allow", "ACCEPT", None, False) in ssh
    assert ("filter", "f2b-sshd", "REJECT", None, True) in ssh
    assert not any(r[1] == "FORWARD" for r in ssh)
    port_9090 = [r for r in parsed["rules"] if "9090" in r["text"]][0]
    assert port_9090["affects_ssh"] is False
    assert parsed["tables"].keys() == {"nat", "filter"}
    assert F.parse_iptables_version("iptables-save v1.4.21") == ("1.4.21", "legacy")


@pytest.mark.parametrize("release, version", [("debian11", "1.8.7"), ("debian12", "1.8.9"), ("debian13", "1.8.11")])
def test_real_version_line(release, version):
    assert F.parse_iptables_version(read_fixture(release + "/iptables_save_version.txt")) == (version, "nf_tables")


# (table, chain, position, verdict, reject_with, tcp_reset, rate_limit, fail2ban, affects_ssh)
PLANTED_NFT = [
    ("h3test", "input", 1, "REJECT", "tcp reset", True, [], False, True),
    ("h3test", "input", 2, "DROP", None, False, ["limit"], False, True),
    ("h3test", "input", 3, "REJECT", "icmp port-unreachable", False, ["connlimit"], False, True),
    ("h3test", "input", 4, "DROP", None, False, [], False, False),   # tcp dport 8080
    ("h3test", "guard", 1, "ACCEPT", None, False, [], False, True),
    ("h3test", "guard", 2, "ACCEPT", None, False, [], False, True),
    ("f2b-table", "f2b-chain", 1, "REJECT", "icmp port-unreachable", False, [], True, True),
]


@pytest.mark.parametrize("release", RELEASES)
def test_real_planted_nft_rules(release):
    parsed = F.parse_nft_json(read_fixture(release + "/nft_ruleset_planted.json"))
    assert parsed["error"] is None
    own = [r for r in parsed["rules"] if r["table"] in ("h3test", "f2b-table")]
    roots = set(("nft", "nf_tables", p["family"], p["table"], p["chain"]) for p in parsed["policies"] if p["affects_ssh"])
    F.classify_rules(own, roots, [22])
    got = [(r["table"], r["chain"], r["position"], r["verdict"], r["reject_with"], r["tcp_reset"], r["rate_limit"],
            r["fail2ban"], r["affects_ssh"]) for r in own]
    if release == "debian11":
        # nft 0.9.8 prints a bare `reject` where 1.0 says `reject with icmp port-unreachable`
        got = [g[:4] + (("icmp port-unreachable",) if g[4] == "icmpx port-unreachable" else g[4:5]) + g[5:] for g in got]
    assert got == PLANTED_NFT
    policies = [(p["table"], p["chain"], p["hook"], p["policy"]) for p in parsed["policies"] if p["table"] != "filter"]
    assert policies == [("h3test", "input", "input", "ACCEPT"), ("h3test", "guard", "input", "DROP"),
                        ("f2b-table", "f2b-chain", "input", "ACCEPT")]
    texts = [r["text"] for r in own]
    assert texts[0] == "ip saddr 192.0.2.0/24 tcp dport 22 reject with tcp reset"
    assert texts[1].startswith("ip saddr 192.0.2.0/24 tcp dport { 22, 2222 } ct state new limit rate over 10/minute")
    assert texts[6].startswith("tcp dport ") and texts[6].endswith("ip saddr @addr-set-sshd reject" + (
        "" if release == "debian11" else " with icmp port-unreachable"))
    # iptables-nft's own tables are in the nft listing too; the collector reports them once
    assert set((t["family"], t["name"]) for t in parsed["tables"]) == {
        ("ip", "filter"), ("ip6", "filter"), ("inet", "h3test"), ("inet", "f2b-table")}


def test_real_nft_098_describes_xt_matches_as_null():
    parsed = F.parse_nft_json(read_fixture("debian11/nft_ruleset_planted.json"))
    recent = [r for r in parsed["rules"] if r["table"] == "filter" and r["chain"] == "INPUT"][2]
    assert recent["unknown_matches"] is True
    assert "xt ?" in recent["text"]


def test_real_nft_112_names_xt_matches():
    parsed = F.parse_nft_json(read_fixture("debian13/nft_ruleset_planted.json"))
    rules = [r for r in parsed["rules"] if r["table"] == "filter" and r["chain"] == "INPUT"]
    assert rules[3]["rate_limit"] == ["recent"] and rules[3]["verdict"] == "DROP"
    assert rules[1]["verdict"] == "REJECT" and rules[1]["reject_with"] is None  # xt target: details unknown


def test_firewalld_shaped_ruleset():
    parsed = F.parse_nft_json(read_fixture("debian13/nft_ruleset_firewalld_shaped.json"))
    roots = set(("nft", "nf_tables", p["family"], p["table"], p["chain"]) for p in parsed["policies"] if p["affects_ssh"])
    F.classify_rules(parsed["rules"], roots, [22])
    by_text = dict((r["text"], r) for r in parsed["rules"])
    assert by_text["tcp dport 22 ct state { new, untracked } accept"]["affects_ssh"] is True
    assert by_text["tcp dport 9090 ct state { new, untracked } accept"]["affects_ssh"] is False
    assert by_text['iifname "lo" accept']["verdict"] == "ACCEPT"
    final = [r for r in parsed["rules"] if r["chain"] == "filter_INPUT"][-1]
    assert (final["verdict"], final["reject_with"], final["affects_ssh"]) == ("REJECT", "icmpx admin-prohibited", True)
    deny = [r for r in parsed["rules"] if r["chain"] == "filter_IN_public_deny"][0]
    assert deny["affects_ssh"] is True  # reached through jump -> goto -> jump
    forward = [r for r in parsed["rules"] if r["chain"] == "filter_FORWARD"]
    assert not any(r["affects_ssh"] for r in forward)


def test_sshguard_shaped_ruleset():
    parsed = F.parse_nft_json(read_fixture("debian13/nft_ruleset_sshguard_shaped.json"))
    rule = parsed["rules"][0]
    assert (rule["verdict"], rule["sshguard"], rule["text"]) == ("DROP", True, "ip saddr @attackers drop")


@pytest.mark.parametrize("release", ["debian11", "debian13"])
def test_real_empty_rulesets(release):
    assert F.parse_iptables_save(read_fixture(release + "/iptables_save_empty.txt"))["rules"] == []
    parsed = F.parse_nft_json(read_fixture(release + "/nft_ruleset_empty.json"))
    assert (parsed["rules"], parsed["error"]) == ([], None)
    assert parsed["version"] in ("0.9.8", "1.1.3")


@pytest.mark.parametrize("spec, ports, negated, expected", [
    ("22", [22], False, True), ("22", [22], True, False), ("20:30", [22], False, True),
    ("22,80,1000:2000", [1500], False, True), ("ssh", [22], False, True), (":1024", [22], False, True),
    ("1024:", [22], False, False), ("80", [22, 2222], True, True), ("22,2222", [22, 2222], True, False),
    ("bogus", [22], False, True),  # cannot read it: it may match
])
def test_port_specs(spec, ports, negated, expected):
    assert F._spec_matches_any(F.parse_port_spec(spec), ports, negated) is expected


@pytest.mark.parametrize("line, proto, affects", [
    ("-A INPUT -j DROP", None, True),
    ("-A INPUT -p all -j DROP", "all", True),
    ("-A INPUT -p 6 --dport 22 -j DROP", "6", True),
    ("-A INPUT ! -p udp -j DROP", "udp", True),
    ("-A INPUT ! -p tcp -j DROP", "tcp", False),
    ("-A INPUT -p icmp -j DROP", "icmp", False),
    ("-A INPUT -p tcp --dport ! 22 -j DROP", "tcp", False),
    ("-A OUTPUT -p tcp --sport 22 -j DROP", "tcp", True),
    ("-A OUTPUT -p tcp --dport 80 --sport 22 -j DROP", "tcp", True),
    ("-A INPUT -p tcp -m multiport --ports 21,22 -j REJECT", "tcp", True),
    ('-A INPUT -p tcp -m comment --comment "-j ACCEPT --dport 80" --dport 22 -j DROP', "tcp", True),
])
def test_own_match_classification(line, proto, affects):
    parsed = _classified_iptables("*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n%s\nCOMMIT\n" % line)
    rule = parsed["rules"][0]
    assert rule["proto"] == proto
    assert rule["affects_ssh"] is affects
    assert rule["verdict"] in ("DROP", "REJECT")


def test_counters_and_odd_lines_are_tolerated():
    text = "*filter\n:INPUT DROP [5:300]\n[3:180] -A INPUT -p tcp --dport 22 -j ACCEPT\nnonsense\n-X\nCOMMIT\nstray\n"
    parsed = F.parse_iptables_save(text)
    assert [(r["verdict"], r["position"]) for r in parsed["rules"]] == [("ACCEPT", 1)]
    assert parsed["unparsed"] == 3
    assert parsed["policies"][0]["policy"] == "DROP"


def test_incompatible_table_warning():
    text = "# Table `filter' is incompatible, use 'nft' tool.\n"
    parsed = F.parse_iptables_save(text)
    assert parsed["incompatible_tables"] == ["filter"]


@pytest.mark.parametrize("expr, verdict, rate, reject", [
    ([{"vmap": {"key": {"payload": {"protocol": "tcp", "field": "dport"}},
                "data": {"set": [[22, {"jump": {"target": "ssh_in"}}]]}}}], "VMAP", [], None),
    ([{"meter": {"name": "m", "key": {"payload": {"protocol": "ip", "field": "saddr"}},
                 "stmt": {"limit": {"rate": 3, "per": "minute"}}}}, {"drop": None}], "DROP", ["hashlimit"], None),
    ([{"reject": {"type": "icmpx", "expr": "admin-prohibited"}}], "REJECT", [], "icmpx admin-prohibited"),
    ([{"reject": None}], "REJECT", [], "icmpx port-unreachable"),
    ([{"counter": None}, {"log": {"prefix": "ssh "}}], "NONE", [], None),
    ([{"goto": {"target": "x"}}], "GOTO", [], None),
])
def test_nft_statements(expr, verdict, rate, reject):
    doc = {"nftables": [{"chain": {"family": "inet", "table": "t", "name": "c", "hook": "input", "policy": "accept"}},
                        {"rule": {"family": "inet", "table": "t", "chain": "c", "expr": expr}}]}
    rule = F.parse_nft_json(json.dumps(doc))["rules"][0]
    assert (rule["verdict"], rule["rate_limit"], rule["reject_with"]) == (verdict, rate, reject)


def test_nft_vmap_jump_makes_the_chain_reachable():
    doc = {"nftables": [
        {"chain": {"family": "inet", "table": "t", "name": "in", "hook": "input", "policy": "accept"}},
        {"chain": {"family": "inet", "table": "t", "name": "ssh_in"}},
        {"rule": {"family": "inet", "table": "t", "chain": "in", "expr": [{"vmap": {
            "key": {"payload": {"protocol": "tcp", "field": "dport"}},
            "data": {"set": [[22, {"jump": {"target": "ssh_in"}}]]}}}]}},
        {"rule": {"family": "inet", "table": "t", "chain": "ssh_in", "expr": [{"drop": None}]}},
    ]}
    parsed = F.parse_nft_json(json.dumps(doc))
    F.classify_rules(parsed["rules"], {("nft", "nf_tables", "inet", "t", "in")}, [22])
    assert [r["affects_ssh"] for r in parsed["rules"]] == [True, True]


def test_nft_named_port_set_is_resolved():
    doc = {"nftables": [
        {"set": {"family": "inet", "table": "t", "name": "ports", "type": "inet_service", "elem": [80, {"range": [8000, 8100]}]}},
        {"chain": {"family": "inet", "table": "t", "name": "in", "hook": "input", "policy": "accept"}},
        {"rule": {"family": "inet", "table": "t", "chain": "in", "expr": [
            {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": "@ports"}},
            {"drop": None}]}},
    ]}
    parsed = F.parse_nft_json(json.dumps(doc))
    F.classify_rules(parsed["rules"], {("nft", "nf_tables", "inet", "t", "in")}, [22])
    assert parsed["rules"][0]["affects_ssh"] is False
    F.classify_rules(parsed["rules"], {("nft", "nf_tables", "inet", "t", "in")}, [8022])
    assert parsed["rules"][0]["affects_ssh"] is True


@pytest.mark.parametrize("text, error", [
    ("", "output of nft -j is not JSON"), ("{", "output of nft -j is not JSON"),
    ("[]", "no 'nftables' list in nft -j output"), ('{"nftables": 3}', "no 'nftables' list in nft -j output"),
])
def test_nft_bad_output(text, error):
    assert F.parse_nft_json(text)["error"] == error


# ---------------------------------------------------------------- kernel modules: never load one
@pytest.mark.parametrize("modules, modprobe, disabled, in_sys, run_nft, state", [
    ("nf_tables 1 0 - Live 0x0\nip_tables 1 0 - Live\n", True, False, False, True, "loaded"),
    ("ip_tables 1 0 - Live 0x0\n", True, False, False, False, "not loaded"),
    ("ip_tables 1 0 - Live 0x0\n", True, False, True, True, "built-in"),
    ("ip_tables 1 0 - Live 0x0\n", True, True, False, True, "not loaded"),  # modules_disabled=1: nothing can load
    (None, False, False, False, True, "built-in or absent (kernel cannot load modules)"),  # this machine
    (None, True, False, False, False, "unknown"),
])
def test_kernel_read_plan(modules, modprobe, disabled, in_sys, run_nft, state):
    plan = F.kernel_read_plan(F.parse_proc_modules(modules), modprobe, disabled, in_sys, None, None)
    assert plan["run_nft"] is run_nft
    assert plan["nf_tables"] == state
    if not run_nft:
        assert "would load it" in plan["nft_reason"] or "could load it" in plan["nft_reason"]


TOOLS = dict((t, "/usr/sbin/" + t) for t in (
    "iptables-save", "iptables-nft-save", "iptables-legacy-save", "ip6tables-save", "ip6tables-nft-save",
    "ip6tables-legacy-save", "nft"))


def _conntrack_files(release):
    base = "/proc/sys/net/netfilter/"
    return dict((base + name, read_fixture("%s/proc_%s.txt" % (release, name))) for name in (
        "nf_conntrack_tcp_timeout_established", "nf_conntrack_count", "nf_conntrack_max", "nf_conntrack_tcp_loose"))


def _host(release, legacy=True, modules=None, extra_files=None):
    version = read_fixture(release + "/iptables_save_version.txt")
    commands = {
        ("iptables-save", "-V"): (0, version, ""),
        ("ip6tables-save", "-V"): (0, version.replace("iptables", "ip6tables"), ""),
        ("iptables-nft-save",): (0, read_fixture(release + "/iptables_save_nft_planted.txt"), ""),
        ("ip6tables-nft-save",): (0, read_fixture(release + "/ip6tables_save_nft_planted.txt"), ""),
        ("nft", "-j", "list", "ruleset"): (0, read_fixture(release + "/nft_ruleset_planted.json"), ""),
    }
    files = _conntrack_files(release)
    files["/proc/net/ip6_tables_names"] = ""
    if legacy:
        commands[("iptables-legacy-save",)] = (0, read_fixture(release + "/iptables_save_legacy_planted.txt"), "")
        files["/proc/net/ip_tables_names"] = read_fixture(release + "/proc_net_ip_tables_names_legacy.txt")
    if modules is not None:
        files["/proc/modules"] = modules
        files["/proc/sys/kernel/modprobe"] = "/sbin/modprobe\n"
    files.update(extra_files or {})
    return FakeHost(commands=commands, files=files, tools=dict(TOOLS))


@pytest.mark.parametrize("release", RELEASES)
def test_collector_on_real_planted_state(release):
    host = _host(release)
    result = F.collect_firewall(host)
    assert result["ssh_ports"] == [22]
    assert result["sources"]["iptables"]["read"] == ["nf_tables", "legacy"]
    assert result["sources"]["iptables"]["backend"] == "nf_tables"
    assert result["sources"]["ip6tables"]["read"] == ["nf_tables"]
    assert result["sources"]["nft"]["read"] is True
    # iptables-save itself is not run a second time: its -V names the back end, the two tools read both
    assert ("iptables-save",) not in host.calls
    keys = [(r["source"], r["backend"], r["table"], r["chain"], r["position"]) for r in result["rules"]]
    assert len(keys) == len(set(keys))
    # the ip filter / ip6 filter tables nft also lists are iptables-nft's: reported once
    assert not any(r["source"] == "nft" and r["table"] == "filter" for r in result["rules"])
    assert result["counts"]["deduplicated_nft_rules"] == 19
    legacy = [r for r in result["rules"] if r["backend"] == "legacy"]
    assert [r["text"] for r in legacy] == ["-A INPUT -s 192.0.2.77/32 -p tcp -m tcp --dport 22 -j DROP"]
    assert result["summary"]["fail2ban"] is True and result["summary"]["sshguard"] is True
    assert result["summary"]["tcp_reset_rules"] == 4   # 2 iptables, 1 ip6tables, 1 nft
    assert result["summary"]["drop_policies"] == ["nft inet h3test/guard"]
    assert {"source": "iptables", "backend": "nf_tables", "family": "ip", "table": "filter", "chain": "FORWARD",
            "policy": "DROP", "hook": "forward", "affects_ssh": False} in result["policies"]
    assert result["conntrack"] == {"available": True, "tcp_timeout_established": 432000, "tcp_loose": 1,
                                   "count": 0, "max": 262144, "usage_pct": 0.0}
    assert result["tool_warnings"] == ["# Warning: iptables-legacy tables present, use iptables-legacy-save to see them"]
    assert all(r["affects_ssh"] or r["fail2ban"] or r["sshguard"] for r in result["rules"])
    assert result["truncated"] is False
    json.dumps(result)


def test_collector_does_not_run_legacy_without_legacy_tables():
    host = _host("debian12", legacy=False)
    result = F.collect_firewall(host)
    assert ("iptables-legacy-save",) not in host.calls
    assert "ip_tables module is not loaded" in result["sources"]["iptables"]["skipped"]["legacy"]


def test_collector_does_not_load_nf_tables():
    """/proc/modules without nf_tables: neither nft nor iptables-nft-save may run (FakeHost fails on them)."""
    host = _host("debian12", legacy=False, modules="ip_tables 32768 0 - Live 0x0\nx_tables 1 1 ip_tables, Live 0x0\n")
    del host.commands[("nft", "-j", "list", "ruleset")]
    del host.commands[("iptables-nft-save",)]
    del host.commands[("ip6tables-nft-save",)]
    result = F.collect_firewall(host)
    assert not any(call[0] in ("nft", "iptables-nft-save", "ip6tables-nft-save") for call in host.calls)
    assert result["sources"]["nft"]["read"] is False
    assert any("nf_tables is not loaded" in n for n in result["notes"])
    assert result["rules"] == []


def test_collector_not_root():
    host = _host("debian12", legacy=False, extra_files={"/proc/net/ip_tables_names": "filter\n"})
    host.unreadable.add("/proc/net/ip_tables_names")
    host.commands[("iptables-nft-save",)] = (4, "", read_fixture("debian12/iptables_nft_save_nonroot.txt"))
    host.commands[("ip6tables-nft-save",)] = (4, "", read_fixture("debian12/iptables_nft_save_nonroot.txt"))
    host.commands[("nft", "-j", "list", "ruleset")] = (1, "", read_fixture("debian12/nft_ruleset_nonroot.txt"))
    result = F.collect_firewall(host)
    notes = "\n".join(result["notes"])
    assert "iptables-nft-save: permission denied (run with become: true)" in notes
    assert "nft -j list ruleset: permission denied (run with become: true)" in notes
    assert "/proc/net/ip_tables_names is not readable" in notes
    assert ("iptables-legacy-save",) not in host.calls
    assert result["rules"] == []


def test_collector_without_tools_or_conntrack():
    result = F.collect_firewall(FakeHost())
    assert result["rules"] == [] and result["policies"] == []
    assert "iptables-save is not installed: iptables rules not read" in result["notes"]
    assert "nft is not installed: nftables rules not read" in result["notes"]
    assert result["conntrack"]["available"] is False
    assert any("connection tracking is not loaded" in n for n in result["notes"])


def test_collector_caps_rules():
    result = F.collect_firewall(_host("debian13"), max_rules=3)
    assert result["truncated"] is True
    assert result["counts"]["rules_returned"] == 3
    assert result["counts"]["rules_affecting_ssh"] > 3
    assert any("only the first 3" in n for n in result["notes"])


@pytest.mark.parametrize("ports, expected", [(None, [22]), ([22, "2222", 22], [22, 2222]), (2200, [2200])])
def test_normalize_ports(ports, expected):
    assert F.normalize_ports(ports) == expected


@pytest.mark.parametrize("ports", [[0], [65536], ["ssh"], [-1], [], ["22x"]])
def test_invalid_ports_are_an_error(ports):
    with pytest.raises(ValueError):
        F.normalize_ports(ports)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_iptables_text_never_raises(text):
    parsed = F.parse_iptables_save(text)
    F.classify_rules(parsed["rules"], set(), [22])
    F.parse_iptables_version(text)
    F.parse_proc_modules(text)
    F.parse_table_names(text)
    F.parse_int_file(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["-A", "INPUT", "-p", "tcp", "!", "--dport", "22", "-j", "DROP", "-m", "recent",
                                 "--reject-with", "-g", "X", "*filter", ":INPUT", "ACCEPT", "COMMIT", "\n", "'", '"',
                                 "--sport", "1:", "--match-set", "f2b-x"]), max_size=40))
def test_iptables_token_soup_never_raises(parts):
    parsed = F.parse_iptables_save(" ".join(parts))
    F.classify_rules(parsed["rules"], {("iptables", None, "ip", "filter", "INPUT")}, [22])
    [F.public_rule(r) for r in parsed["rules"]]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["match", "left", "right", "op", "payload", "protocol", "field", "set", "range", "prefix",
                         "reject", "type", "expr", "jump", "target", "limit", "xt", "name", "meta", "key", "vmap",
                         "data", "elem", "val", "drop", "ct count", "meter", "stmt"]), children, max_size=4),
    max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_arbitrary_nft_json_never_raises(expr):
    doc = {"nftables": [{"chain": {"family": "inet", "table": "t", "name": "c", "hook": "input"}},
                        {"rule": {"family": "inet", "table": "t", "chain": "c", "expr": expr}},
                        {"rule": {"family": "inet", "table": "t", "chain": "c", "expr": [expr]}},
                        {"set": {"family": "inet", "table": "t", "name": "s", "elem": expr}}, expr]}
    parsed = F.parse_nft_json(json.dumps(doc))
    F.classify_rules(parsed["rules"], {("nft", "nf_tables", "inet", "t", "c")}, [22])
    [F.public_rule(r) for r in parsed["rules"]]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_arbitrary_nft_text_never_raises(text):
    F.parse_nft_json(text)
