# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rule_firewall_reject on real bans: what the diagnosis says about a banned or limited client.

The firewall and bans sections are what the collectors make of the REAL recordings in
tests/unit/fixtures/debian1X/bans/ (see test__bans.py for where they come from); the other
sections are the healthy host of test__rules.py. The client is 10.89.0.4, as in the
containers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _bans
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _firewall
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import recorded_host
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__bans import utc
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__rules import (
    causes, diagnose, healthy, journal, probe, top)

CLIENT = "10.89.0.4"


def evidence_of(recording, clients=(CLIENT,), **sections):
    host, manifest = recorded_host(recording)
    firewall = _firewall.collect_firewall(host, clients=list(clients))
    host, manifest = recorded_host(recording)
    bans = _bans.collect_bans(host, clients=list(clients), firewall=firewall, now=manifest["now"], to_epoch=utc,
                              environ={})
    return healthy(firewall=firewall, bans=bans, **sections)


def the_finding(result):
    return next(f for f in result["findings"] if f["cause"] == "firewall_reject")


# (recording, tool and where named in the summary, the command that must be in the fix)
CASES = [
    ("debian12/bans/fail2ban_iptables", "fail2ban has banned 10.89.0.4 from SSH (jail sshd, since 2026-12-02 10:04:10 UTC",
     "fail2ban-client set sshd unbanip 10.89.0.4"),
    ("debian13/bans/fail2ban_nftables", "fail2ban has banned 10.89.0.4 from SSH (jail sshd, since 2026-12-02 09:45:41 UTC",
     "fail2ban-client set sshd unbanip 10.89.0.4"),
    ("debian12/bans/sshguard", "sshguard has banned 10.89.0.4 from SSH (set attackers of table ip sshguard",
     "nft delete element ip sshguard attackers { 10.89.0.4 }"),
    ("debian13/bans/firewalld", "firewalld has banned 10.89.0.4 from SSH (zone public",
     "firewall-cmd --zone=public --remove-rich-rule='rule family=\"ipv4\" source address=\"10.89.0.4\" reject'"),
    ("debian12/bans/sets", "10.89.0.4 is in ipset sshdoctor-block as 10.89.0.4/30",
     "ipset del sshdoctor-block 10.89.0.4/30"),
    ("debian12/bans/ufw", "ufw rate-limits new SSH connections and has cut off bursts from 10.89.0.4 (ufw limit 22/tcp (list DEFAULT); "
     "at most 5 new connections per 30 s per source): connections past the limit are refused.",
     "ufw delete limit 22/tcp && ufw allow 22/tcp"),
]


@pytest.mark.parametrize("recording, summary, command", CASES)
def test_the_top_finding_names_the_tool_the_client_and_the_command(recording, summary, command):
    result = diagnose(evidence_of(recording), probe("banner", banner="SSH-2.0-OpenSSH_9.2p1"))
    item = top(result)
    assert item["cause"] == "firewall_reject"
    assert item["summary"].startswith(summary), item["summary"]
    assert command in item["fix"].splitlines()[0]
    assert item["scope"]["clients"] == [CLIENT]
    assert item["scope"]["ongoing"] is True and item["scope"]["phase"] == "connect"


def test_a_fail2ban_ban_says_what_triggered_it_and_how_to_keep_it_from_recurring():
    item = top(diagnose(evidence_of("debian12/bans/fail2ban_iptables")))
    assert (item["severity"], item["confidence"]) == ("critical", 0.95)
    assert "until 2026-12-02 11:04:10 UTC" in item["summary"] and item["summary"].endswith("are refused.")
    assert "fail2ban: jail sshd banned 10.89.0.4 after 3 failure(s) (maxretry 3 within findtime 600 s)" in item["evidence"]
    assert any("Invalid user nosuchuser from 10.89.0.4" in line for line in item["evidence"])
    assert "ignoreip = 127.0.0.1/8 ::1 10.89.0.4" in item["fix"] and "ControlPersist" in item["fix"]
    assert item["scope"]["since_epoch"] == utc("2026-12-02 10:04:10")
    assert item["scope"]["events"][0]["what"] == "fail2ban jail sshd"


def test_the_jail_whose_ban_fails_is_not_what_the_finding_names():
    item = top(diagnose(evidence_of("debian12/bans/fail2ban_iptables")))
    assert "sshd-tcpreset" not in item["summary"]
    assert "fail2ban-client set sshd-tcpreset unbanip" not in item["fix"].splitlines()[0]


def test_an_nft_set_member_names_the_set_the_cidr_and_the_rule():
    result = diagnose(evidence_of("debian12/bans/sets"))
    item = top(result)
    assert "matched by the rule `-A INPUT -p tcp -m tcp --dport 22 -m set --match-set sshdoctor-block src" in item["summary"]
    assert item["summary"].endswith("its SSH connections are reset.")
    assert "nft delete element inet sshdoctor blocked4 { 10.89.0.4/30 }" in item["fix"]


def test_the_journal_focus_supplies_the_trigger_when_the_tool_does_not():
    """journal.focus as the journal helper's contract (CONTRACTS.md section 2) shapes it."""
    since = utc("2026-12-02 10:04:12")
    focus = {CLIENT: {"invalid_user": {"count": 5, "first_seen": None, "last_seen": None,
                                       "times": [since - 2, since - 1, since - 1, since, since + 1000],
                                       "samples": ["sshd[99]: Invalid user nosuchuser from 10.89.0.4 port 37704"]}}}
    item = top(diagnose(evidence_of("debian12/bans/sshguard", journal=journal(focus=focus))))
    assert "sshguard: 5 attack(s) from 10.89.0.4 in its log before the block" in item["evidence"]
    assert any(line.startswith("journal: invalid_user x4 from 10.89.0.4 in the 3600 s before the ban")
               for line in item["evidence"])


def test_without_a_client_address_the_bans_are_counted_and_listed():
    result = diagnose(evidence_of("debian12/bans/sets", clients=()))
    item = the_finding(result)
    assert item["summary"].startswith("7 address(es) are banned from SSH (")
    assert "bans: nft set blocked4 of table inet sshdoctor: 10.89.0.4/30" in " ".join(item["evidence"])
    assert len(item["scope"]["clients"]) == 7


def test_a_client_nobody_bans_gets_the_count_not_a_ban():
    result = diagnose(evidence_of("debian12/bans/fail2ban_iptables", clients=("10.89.0.200",)))
    item = the_finding(result)
    assert (item["severity"], item["summary"]) == ("warning", "1 address(es) are banned from SSH (fail2ban jail sshd: 10.89.0.4).")


def test_the_controller_refused_while_unreachable_suggests_a_ban_of_its_own_address():
    result = diagnose(None, probe("refused"), reachable=False, unreachable_msg="Connection refused")
    item = the_finding(result)
    assert "check from another address" in item["summary"]
    assert "fail2ban-client set sshd unbanip <controller address>" in item["fix"]
    assert causes(result)[-1] == "firewall_reject"


def test_a_controller_that_times_out_is_not_called_banned():
    result = diagnose(None, probe("timeout", stage="connect"), reachable=False, unreachable_msg="timed out")
    assert "firewall_reject" not in causes(result)


@pytest.mark.parametrize("bans", [
    {"clients": {CLIENT: [{"kind": "ban", "tool": "fail2ban", "where": "jail sshd", "element": CLIENT,
                           "verdict": "enforced", "unban": 7}]}},
    {"clients": {CLIENT: "banned"}},
    {"banned": [{"address": ["10.89.0.4"], "enforced": True}], "banned_total": 1},
    {"tools": {"fail2ban": {"jails": [{"name": "sshd", "banned": [{"address": CLIENT, "matches": "a line"}]}]}}},
])
def test_a_bans_section_of_the_wrong_shape_is_set_aside_and_the_rest_diagnosed(bans):
    """What a compromised host could send instead of its bans: the controller sets the section aside."""
    evidence = evidence_of("debian12/bans/fail2ban_iptables")
    evidence["bans"] = bans
    result = diagnose(evidence)
    assert any(n.startswith("bans: the collector failed: evidence rejected by the controller") for n in result["notes"])
    assert "firewall_reject" in causes(result)  # the firewall section alone still shows fail2ban's chain
