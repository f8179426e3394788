"""bans_info and the diagnosis against real ban tools: every check compares what converge
saved (bans_info's result per host, the report and its evidence files, in the scenario's
ephemeral directory) with what fail2ban-client, nft, ipset, iptables-save, firewall-cmd and
ufw's own files say in the same container, and with what really happens to a connection
from the client container."""

import json
import os
import re

import pytest
from conftest import groups_of, latest_run, target_hosts

testinfra_hosts = target_hosts()


def on(*groups):
    """Run a check only on the containers of these molecule groups (see conftest.py)."""
    return pytest.mark.on_groups(*groups)


def evidence_of(host):
    path = os.path.join(latest_run(), "evidence", "%s.json" % host.backend.name)
    with open(path) as handle:
        return json.load(handle)


def utc_stamp(iso):
    """``2026-12-02T10:04:10+00:00`` -> ``2026-12-02 10:04:10`` (the containers run in UTC, see the check below)."""
    assert iso.endswith("+00:00")
    return iso[:19].replace("T", " ")


def nft_elements(host, family, table, name):
    """The members of an nft set as `nft -j list set` prints them, as plain text."""
    data = json.loads(host.check_output("nft -j list set %s %s %s" % (family, table, name)))
    found = []
    for item in data["nftables"]:
        for elem in (item.get("set") or {}).get("elem") or []:
            value = elem["elem"]["val"] if isinstance(elem, dict) and "elem" in elem else elem
            if isinstance(value, dict) and "prefix" in value:
                value = "%s/%s" % (value["prefix"]["addr"], value["prefix"]["len"])
            found.append(value)
    return found


def connects(client, address, port=22):
    """Does a new TCP connection from the client get sshd's banner?"""
    out = client.run("timeout 6 bash -c 'exec 3<>/dev/tcp/%s/%d && head -c 8 <&3'" % (address, port))
    return out.rc == 0 and out.stdout.startswith("SSH-")


# ------------------------------------------------------------------------------------- every host
def test_the_module_only_reads_and_evaluates_the_client(bans, client_address):
    assert bans["changed"] is False
    assert bans["clients_source"] == "parameter"
    assert list(bans["clients"]) == [client_address]
    assert bans["clients"][client_address], bans["notes"]


def test_the_containers_clock_is_utc(host):
    # fail2ban prints local time; the comparisons below read it as UTC.
    assert host.check_output("date +%z") == "+0000"


@on("fail2ban_nftables", "fail2ban_iptables", "sshguard", "firewalld", "sets")
def test_the_client_really_cannot_connect(client, address):
    assert not connects(client, address)


@on("ufw")
def test_a_new_burst_from_the_client_is_refused_by_ufw(client, address):
    results = [connects(client, address) for dummy in range(8)]
    assert results[0] is True or results.count(True) <= 5
    assert False in results


# What the finding names for each tool, and the command that lifts the client's ban.
TOOL = {"fail2ban_nftables": "fail2ban", "fail2ban_iptables": "fail2ban", "sshguard": "sshguard", "ufw": "ufw",
        "firewalld": "firewalld", "sets": "ipset sshdoctor-block"}


def unban_command(kind, client_address):
    return {
        "fail2ban_nftables": "fail2ban-client set sshd unbanip %s" % client_address,
        "fail2ban_iptables": "fail2ban-client set sshd unbanip %s" % client_address,
        "sshguard": "nft delete element ip sshguard attackers { %s }" % client_address,
        "ufw": "ufw delete limit 22/tcp && ufw allow 22/tcp",
        "firewalld": "firewall-cmd --zone=public --remove-rich-rule='rule family=\"ipv4\" source address=\"%s\" reject'"
                     % client_address,
        "sets": "ipset del sshdoctor-block ",
    }[kind]


def test_the_top_finding_names_the_tool_the_client_and_the_command(host, report, client_address):
    findings = report["hosts"][host.backend.name]["findings"]
    top = findings[0]
    assert top["cause"] == "firewall_reject"
    assert client_address in top["summary"]
    assert top["scope"]["clients"] == [client_address]
    # A host with two tools that block the client: the finding leads with one, and its fix lifts both.
    kinds = groups_of(host.backend.name)
    named = [k for k in kinds if TOOL[k] in top["summary"]]
    assert named, top["summary"]
    assert unban_command(named[0], client_address) in top["fix"].splitlines()[0]
    for kind in kinds:
        assert unban_command(kind, client_address) in top["fix"], kind


def test_the_incident_verdict_for_the_client_is_the_ban(host, report, client_address):
    """Asked why this client cannot get in (diagnose_client), each host answers with its ban or limit."""
    incident = report["incident"]
    assert incident["client"] == [client_address]
    verdict = incident["hosts"][host.backend.name]["verdict"]
    assert verdict["cause"] == "firewall_reject", incident["hosts"][host.backend.name]
    assert client_address in verdict["summary"]


# ------------------------------------------------------------------------------------- fail2ban
@on("fail2ban_nftables", "fail2ban_iptables")
def test_fail2ban_bans_and_times_are_those_fail2ban_client_prints(host, bans):
    jails = dict((j["name"], j) for j in bans["tools"]["fail2ban"]["jails"])
    for name, jail in jails.items():
        printed = host.check_output("fail2ban-client get %s banip --with-time" % name).splitlines()
        expected = []
        for line in printed:
            match = re.match(r"^(\S+)\s+(\S+ \S+) \+ (-?\d+) = (\S+ \S+)", line.strip())
            expected.append((match.group(1), match.group(2), match.group(4)))
        got = [(b["address"], utc_stamp(b["since"]), utc_stamp(b["until"])) for b in jail["banned"]]
        assert sorted(got) == sorted(expected)
        for setting in ("maxretry", "findtime", "bantime"):
            assert jail[setting] == int(host.check_output("fail2ban-client get %s %s" % (name, setting)))


@on("fail2ban_nftables")
def test_fail2ban_nftables_ban_is_the_member_of_its_set(host, bans, client_address):
    assert nft_elements(host, "inet", "f2b-table", "addr-set-sshd") == [client_address]
    assert [b["enforced"] for b in bans["banned"] if b["where"] == "jail sshd"] == [True]
    member = [e for e in bans["clients"][client_address] if e["kind"] == "set_member" and e["tool"] == "fail2ban"]
    assert [(m["where"], m["element"]) for m in member] == [("set addr-set-sshd of table inet f2b-table", client_address)]


@on("fail2ban_iptables")
def test_a_jail_whose_ban_action_fails_is_not_enforced(host, bans, client_address):
    # fail2ban itself lists the client as banned in both jails ...
    assert client_address in host.check_output("fail2ban-client get sshd-tcpreset banip")
    # ... but only the working jail's chain holds a rule for it.
    rules = host.check_output("iptables-save")
    assert re.search(r"-A f2b-sshd -s %s/32 -j REJECT" % re.escape(client_address), rules)
    assert not re.search(r"-A f2b-sshd-tcpreset -s %s" % re.escape(client_address), rules)
    enforced = dict((b["where"], b["enforced"]) for b in bans["banned"] if b["tool"] == "fail2ban")
    assert enforced == {"jail sshd": True, "jail sshd-tcpreset": False}
    failed = bans["tools"]["fail2ban"]["failed_bans"]
    assert failed and failed[-1]["jail"] == "sshd-tcpreset" and "RULE_INSERT failed" in failed[-1]["error"]
    assert "Failed to execute ban jail 'sshd-tcpreset'" in host.file("/var/log/fail2ban.log").content_string


# ------------------------------------------------------------------------------------- sshguard
@on("sshguard")
def test_sshguard_blocks_are_the_members_of_its_set(host, bans, client_address):
    sshguard = bans["tools"]["sshguard"]
    assert [b["address"] for b in sshguard["blocked"]] == nft_elements(host, "ip", "sshguard", "attackers")
    block = sshguard["blocked"][0]
    assert block["until_epoch"] - block["since_epoch"] == 3600
    assert 'Blocking "%s/32" for 3600 secs' % client_address in host.check_output("journalctl -u sshguard -o cat")
    whitelist = [l.strip() for l in host.file("/etc/sshguard/whitelist").content_string.splitlines()
                 if l.strip() and not l.startswith("#")]
    assert sshguard["whitelist"] == whitelist


# ------------------------------------------------------------------------------------- ufw
@on("ufw")
def test_ufw_rules_are_those_of_its_own_files(host, bans, client_address):
    ufw = bans["tools"]["ufw"]
    tuples = []
    for path in ("/etc/ufw/user.rules", "/etc/ufw/user6.rules"):
        tuples += [l.split("### tuple ###")[1].strip() for l in host.file(path).content_string.splitlines()
                   if l.startswith("### tuple ###")]
    assert [r["tuple"] for r in ufw["rules"]] == tuples
    assert (ufw["enabled"], ufw["active"], ufw["default_input_policy"]) == (True, True, "DROP")
    saved = host.check_output("iptables-save")
    assert re.search(r"-A ufw-user-input .*--dport 22 .*-m recent --update --seconds 30 --hitcount 6 .*-j ufw-user-limit$",
                     saved, re.M)
    assert [(l["hitcount"], l["seconds"]) for l in ufw["limits"]][0] == (6, 30)
    recent = host.file("/proc/net/xt_recent/DEFAULT").content_string
    assert "src=%s " % client_address in recent
    entry = [e for e in ufw["recent"]["DEFAULT"]["entries"] if e["address"] == client_address][0]
    # The refused SYNs the list still shows are some of those the limit chain's REJECT has counted.
    counted = re.search(r"^\s*(\d+)\s+\d+\s+REJECT\b", host.check_output("iptables -L ufw-user-limit -v -x -n"), re.M)
    assert 0 < entry["refused"] <= int(counted.group(1))


# ------------------------------------------------------------------------------------- firewalld
@on("firewalld")
def test_firewalld_zones_are_those_firewall_cmd_lists(host, bans, client_address):
    firewalld = bans["tools"]["firewalld"]
    assert firewalld["running"] and firewalld["source"] == "firewall-cmd"
    assert firewalld["default_zone"] == host.check_output("firewall-cmd --get-default-zone")
    zones = dict((z["name"], z) for z in firewalld["zones"])
    rich = set(host.check_output("firewall-cmd --zone=public --list-rich-rules").splitlines())
    assert set(r["text"] for r in zones["public"]["rich_rules"]) == rich
    assert sorted(zones["public"]["services"]) == sorted(host.check_output("firewall-cmd --zone=public --list-services").split())
    assert zones["internal"]["sources"] == host.check_output("firewall-cmd --zone=internal --list-sources").split()
    # (the host's sshguard blocks the client too: checked above)
    ban = [b for b in bans["banned"] if b["address"] == client_address and b["tool"] == "firewalld"]
    assert [(b["where"], b["enforced"]) for b in ban] == [("zone public", True)]


# ------------------------------------------------------------------------------------- nft set and ipset
@on("sets")
def test_set_members_are_those_nft_and_ipset_print(host, client_address):
    sets = dict(((s["source"], s["name"]), s) for s in evidence_of(host)["evidence"]["firewall"]["sets"])
    assert [m["element"] for m in sets[("nft", "blocked4")]["members"]] == nft_elements(host, "inet", "sshdoctor", "blocked4")
    # "Members:" then one member a line: "10.89.0.14/31 timeout 7004"
    members = host.check_output("ipset list sshdoctor-block").split("Members:")[1].strip().splitlines()
    listed = [m.split()[0] for m in members if m.strip()]
    assert sorted(m["element"] for m in sets[("ipset", "sshdoctor-block")]["members"]) == sorted(listed)
    own = [m for m in sets[("nft", "blocked4")]["members"] if m["timeout_s"] == 7200][0]
    assert own["element"].endswith("/31") and 0 < own["expires_s"] <= 7200


@on("sets")
def test_the_client_is_matched_through_the_cidr_of_both_sets(bans, client_address):
    # (the host's fail2ban bans the client too: its entries are checked above)
    entries = [e for e in bans["clients"][client_address] if e["tool"] != "fail2ban"]
    assert sorted((e["kind"], e["where"]) for e in entries) == [
        ("set_member", "ipset sshdoctor-block"), ("set_member", "set blocked4 of table inet sshdoctor")]
    assert all(e["element"].endswith("/31") and e["verdict"] == "REJECT" for e in entries)
