# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The redacted copy: what it hides, that it hides it the same way every time, and what it keeps.

Real captured text where it exists: sshd's journal with real logins
(``debian12/journal_sshd_users.txt``), ``ip addr show`` (``debian12/ip_addr_show.txt``) and a whole
``ssh_evidence`` result of a Debian 12 container with planted hosts.allow/deny lines, firewall rules
naming hosts, and logins (``debian12/ssh_evidence_planted_names.json``). The completeness checks
search the redacted text for every original the mapping holds with their own regular expression,
not with the redactor's ``leaks``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import html
import json
import re

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _junit
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _redact
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _report
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _report_files
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import read_fixture
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__rules import (
    NOW, fw_rule, healthy, journal, probe)


def redacted(data, hosts=(), **options):
    redactor = _redact.Redactor(hosts=hosts, **options)
    redactor.learn(data)
    return redactor, redactor.redact(data)


def strings(data):
    """Every string and dict key of JSON-shaped data, joined by newlines."""
    out = []
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            out.extend(k for k in value if isinstance(k, str))
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            out.append(value)
    return "\n".join(out)


def originals_left(text, mapping):
    """Each original of the mapping still standing as a whole word in ``text`` (our own search)."""
    left = []
    for section, values in mapping.items():
        for original in values:
            flags = 0 if section == "users" else re.I
            if section == "keywords":
                hit = original.lower() in text.lower()
            else:
                hit = re.search(r"(?<![A-Za-z0-9])%s(?![A-Za-z0-9])" % re.escape(original), text, flags)
            if hit:
                left.append((section, original))
    return left


IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")


def addresses_left(text):
    return [a for a in IPV4.findall(text) if not a.startswith(("127.", "0.", "255."))]


# --- addresses ------------------------------------------------------------------------------------


def test_one_address_in_every_spelling_is_one_token():
    _r, out = redacted(["from 2001:db8::7 port 1", "2001:DB8:0:0::7 again", "[2001:0db8:0000::7]:22",
                        "2001:db8::7/128 rule", "v4 203.0.113.5", "mapped ::ffff:203.0.113.5 port 2"])
    token = out[0].split()[1]
    assert re.match(r"^client-\d+$", token)
    assert out == ["from %s port 1" % token, "%s again" % token, "[%s]:22" % token, "%s/128 rule" % token,
                   "v4 client-2", "mapped ::ffff:client-2 port 2"]


def test_the_same_address_gets_the_same_token_across_hosts_and_files():
    redactor = _redact.Redactor(hosts=["a1", "b2"])
    first = {"a1": {"evidence": ["Connection reset by 198.51.100.7 port 4242 [preauth]"]}}
    second = {"b2": {"rule": "-A INPUT -s 198.51.100.7/32 -j REJECT"}}
    redactor.learn(first).learn(second)
    one, two = redactor.redact(first), redactor.redact(second)
    token = redactor.mapping()["addresses"]["198.51.100.7"]
    assert one == {"host-1": {"evidence": ["Connection reset by %s port 4242 [preauth]" % token]}}
    assert two == {"host-2": {"rule": "-A INPUT -s %s/32 -j REJECT" % token}}


@pytest.mark.parametrize("text, expected", [
    # a network keeps its prefix length, in every notation
    ("-A INPUT -s 203.0.113.0/24 -j DROP", "-A INPUT -s net-1/24 -j DROP"),
    ("sshd: 10.0.0.0/255.255.255.0", "sshd: net-1/255.255.255.0"),
    ("ip6tables -s 2001:db8::/32 -j DROP", "ip6tables -s net-1/32 -j DROP"),
    # an address written with a prefix keeps it too
    ("-A POSTROUTING -s 10.89.0.2/32 -j CNI-x", "-A POSTROUTING -s client-1/32 -j CNI-x"),
    ("inet 10.88.0.31/16 brd 10.88.255.255", "inet client-1/16 brd client-2"),
    # hosts.allow's prefixes: 10.1.2. is 10.1.2.0/24, 192.168. is 192.168.0.0/16 (in hosts.allow's own text)
    ("/etc/hosts.deny line 3: sshd: 192.168. 10.1.2. : deny", "/etc/hosts.deny line 3: sshd: net-1/16 net-2/24 : deny"),
    ("sshd: 172.16.", "sshd: net-1/16"),
    ("sshd: [2001:db8::]/32 : allow", "sshd: [net-1]/32 : allow"),
])
def test_networks_keep_their_prefix_length(text, expected):
    assert redacted([text])[1] == [expected]


@pytest.mark.parametrize("text", [
    "listening on 0.0.0.0 port 22 and :: port 22, loopback 127.0.0.1 and ::1",
    "-A INPUT -s 0.0.0.0/0 -j ACCEPT; mask 255.255.255.0",
    "2026-12-02T10:05:07.511850+00:00 at 14:03:07",
    "OpenSSH_9.2p1 Debian-2+deb12u10, iptables v1.8.9, nft 1.0.6, kernel 6.1.0-18-amd64",
    "load 1.25 on 2 CPUs; confidence 0.95.",
    "report.json, sshd_config.d/50-keepalive.conf, ansible.builtin.copy, auth.log.2.gz, ssh.service",
    "load 1.25. then 3.5.",  # prose numbers before a full stop are not hosts.allow prefixes
    "link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
    # SSH's algorithm names (sshd -T of Debian 12; a Debian 12 journal line): their domains name software
    "kexalgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256",
    "no matching key exchange method found. Their offer: diffie-hellman-group1-sha1,ext-info-c,kex-strict-c-v00@openssh.com",
])
def test_what_names_no_one_stays(text):
    redactor, out = redacted([text])
    assert out == [text]
    assert redactor.mapping() == dict((section, {}) for _k, _p, section in _redact.KINDS)


def test_ip_addr_show_real_output():
    text = read_fixture("debian12/ip_addr_show.txt")
    redactor, out = redacted(text.splitlines())
    joined = "\n".join(out)
    mapping = redactor.mapping()
    assert mapping["addresses"] == {"10.88.0.31": "client-1", "10.88.255.255": "client-2", "fe80::fc47:6aff:feec:633e": "client-3"}
    assert mapping["macs"] == {"fe:47:6a:ec:63:3e": "mac-1"}
    assert "link/ether mac-1 brd ff:ff:ff:ff:ff:ff" in joined
    assert "inet6 client-3/64 scope link" in joined
    assert "inet 127.0.0.1/8 scope host lo" in joined and "inet6 ::1/128 scope host" in joined
    assert not originals_left(joined, mapping)


# --- host names -----------------------------------------------------------------------------------


def test_inventory_names_are_numbered_in_sorted_order_and_hidden_in_sentences_and_rules():
    hosts = ["web3", "db1.corp.example.com", "jump-a"]
    _r, out = redacted({
        "summary": "web3 refuses connections; db1 and db1.corp.example.com do not",
        "rule": '-A INPUT -s 203.0.113.0/24 -m comment --comment "block web3 (ask jump-a)" -j REJECT',
        "unit": "sshdoctor-burst-web3.service",
        "file": "evidence/web3.json",
        "not": "web30 and xweb3 are other words",
    }, hosts=hosts)
    # db1.corp.example.com -> host-1, jump-a -> host-2, web3 -> host-3; db1 alone is the same host
    assert out == {
        "summary": "host-3 refuses connections; host-1 and host-1 do not",
        "rule": '-A INPUT -s net-1/24 -m comment --comment "block host-3 (ask host-2)" -j REJECT',
        "unit": "sshdoctor-burst-host-3.service",
        "file": "evidence/host-3.json",
        "not": "web30 and xweb3 are other words",
    }


def test_dns_names_in_text_become_host_and_domain_tokens():
    redactor, out = redacted([
        "/etc/hosts.deny line 1: sshd: .corp.example.com jump1.corp.example.com EXCEPT bastion.corp.example.com",
        "the controller could not resolve mail.example.org",
        "relay example.org and web1.lan, then jump1 again",
    ])
    mapping = redactor.mapping()
    corp, org = mapping["domains"]["corp.example.com"], mapping["domains"]["example.org"]
    jump1, bastion = mapping["hosts"]["jump1"], mapping["hosts"]["bastion"]
    assert out[0] == "/etc/hosts.deny line 1: sshd: .%s %s.%s EXCEPT %s.%s" % (corp, jump1, corp, bastion, corp)
    assert out[1] == "the controller could not resolve %s.%s" % (mapping["hosts"]["mail.example.org"], org)
    assert out[2] == "relay %s and %s.lan, then %s again" % (org, mapping["hosts"]["web1"], jump1)
    assert not originals_left("\n".join(out), mapping)


def test_a_domain_given_hides_names_whatever_their_top_level_domain():
    _r, out = redacted(["resolv search corp.acme and build7.corp.acme"], domains=["corp.acme"])
    assert out == ["resolv search domain-1 and host-1.domain-1"]


def test_the_host_name_in_a_journal_line_prefix_is_hidden():
    line = "2026-12-02T10:05:07.511850+0000 6af039a3448c sshd[188]: Timeout, client not responding from user alice 10.88.0.32 port 54832"
    redactor, out = redacted([line, "Dec  2 10:05:07 web9 sshd[7]: Connection reset by 10.0.0.1 port 2 [preauth]"])
    mapping = redactor.mapping()
    assert set(mapping["hosts"]) == {"6af039a3448c", "web9"}
    assert out[0] == ("2026-12-02T10:05:07.511850+0000 %s sshd[188]: Timeout, client not responding from user user-1 client-1 "
                      "port 54832" % mapping["hosts"]["6af039a3448c"])
    assert not originals_left("\n".join(out), mapping)


def test_an_inventory_name_that_is_a_word_of_the_report_is_refused():
    redactor = _redact.Redactor(hosts=["probe", "web1"])
    with pytest.raises(_redact.RedactionError, match="inventory name 'probe' is also a word of the report"):
        redactor.redact({"probe": {}})


def test_a_first_label_that_is_a_report_word_is_hidden_only_inside_its_name():
    _r, out = redacted(["firewall.corp.example.com says: firewall rules", "idle_timeout"])
    assert out == ["host-1.domain-1 says: firewall rules", "idle_timeout"]


def test_no_token_reads_as_an_original():
    """A host really called host-1 is not confused with the first token."""
    redactor, out = redacted(["host-1 talks to web2"], hosts=["host-1", "web2"])
    mapping = redactor.mapping()
    assert mapping["hosts"] == {"host-1": "host-2", "web2": "host-3"}
    assert out == ["host-2 talks to host-3"]


# --- user names -----------------------------------------------------------------------------------


def test_user_names_from_real_journal_lines():
    lines = read_fixture("debian12/journal_sshd_users.txt").splitlines()
    redactor, out = redacted(lines)
    mapping = redactor.mapping()
    assert mapping["users"] == {"alice": "user-1", "mallory": "user-2"} or mapping["users"] == {"alice": "user-2", "mallory": "user-1"}
    alice, mallory = mapping["users"]["alice"], mapping["users"]["mallory"]
    by_original = dict(zip(lines, out))
    assert by_original["Invalid user mallory from 10.88.0.31 port 59586"] == "Invalid user %s from client-1 port 59586" % mallory
    assert by_original["Connection closed by authenticating user alice 10.88.0.31 port 59596 [preauth]"] == (
        "Connection closed by authenticating user %s client-1 port 59596 [preauth]" % alice)
    assert by_original["pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)"] == (
        "pam_unix(sshd:session): session opened for user %s(uid=1000) by (uid=0)" % alice)
    assert ("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=client-1  user=%s" % alice) in out
    assert not originals_left("\n".join(out), mapping)
    assert not addresses_left("\n".join(out))


@pytest.mark.parametrize("line, kept", [
    ("pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)", "root"),  # a system account
    ("Connection closed by invalid user info 10.0.0.9 port 22 [preauth]", "info"),  # a word of the report (a severity)
    ("Invalid user pi from 10.0.0.9 port 22", "pi"),  # shorter than three characters
    ("Invalid user 1234 from 10.0.0.9 port 22", "1234"),  # no letter
])
def test_user_names_that_identify_no_one_stay(line, kept):
    redactor, out = redacted([line, "severity info, counts 1234, pi"])
    assert redactor.mapping()["users"] == {}
    assert kept in out[0] and out[1] == "severity info, counts 1234, pi"


def test_user_names_from_config_and_paths():
    redactor, out = redacted({"settings": {"allowusers": "carol dave@198.51.100.0/24"},
                              "notes": ["AuthorizedKeysFile /home/erin/.ssh/authorized_keys", "Match User frank,grace"]})
    assert sorted(redactor.mapping()["users"]) == ["carol", "dave", "erin", "frank", "grace"]
    assert not originals_left(strings(out), redactor.mapping())


def test_user_names_are_case_sensitive():
    redactor, out = redacted(["Accepted publickey for alice from 10.0.0.1 port 1 ssh2", "Alice in Wonderland"])
    assert out == ["Accepted publickey for user-1 from client-1 port 1 ssh2", "Alice in Wonderland"]


# --- other things ---------------------------------------------------------------------------------


def test_fingerprints_macs_and_keywords():
    fingerprint = "SHA256:" + "A" * 43
    _r, out = redacted(["Accepted publickey for alice from 10.0.0.1 port 1 ssh2: ED25519 %s" % fingerprint,
                        "ether 52:54:00:12:34:56 and 52-54-00-12-34-56", "the ACME-prod site (Acme)"], keywords=["acme"])
    assert out == ["Accepted publickey for user-1 from client-1 port 1 ssh2: ED25519 key-1",
                   "ether mac-1 and mac-1", "the word-1-prod site (word-1)"]


def test_new_keys_and_values_are_redacted_generically():
    """Keys no renderer knows yet (an incident section, report version 2) are walked like the rest."""
    data = {"incident": {"client": "198.51.100.7", "clients": {"198.51.100.7": {"count": 3}},
                         "verdicts": {"web1": {"why": "hosts.deny line 2 names 198.51.100.0/24"}},
                         "times": [1795000000, True, None, 2.5]}}
    redactor, out = redacted(data, hosts=["web1"])
    assert out == {"incident": {"client": "client-1", "clients": {"client-1": {"count": 3}},
                                "verdicts": {"host-1": {"why": "hosts.deny line 2 names net-1/24"}},
                                "times": [1795000000, True, None, 2.5]}}
    assert _redact.leaks_in(redactor, out) == []


def test_scrub_leaves_tokens_and_the_renderers_markup_alone():
    redactor, out = redacted(["host web1 at 10.0.0.5"], hosts=["web1"])
    html_text = '<style>.finding.info{color:red}</style><li class="x">%s</li><a href="#host-1">10.0.0.5</a>' % out[0]
    assert redactor.scrub(html_text) == ('<style>.finding.info{color:red}</style><li class="x">host host-1 at client-1</li>'
                                         '<a href="#host-1">client-1</a>')


def test_leaks_are_found_through_the_renderers_escaping():
    redactor, _out = redacted(["web_1 and o'neil"], hosts=["web_1", "o'neil"])
    assert ("host", "web_1") in redactor.leaks("web\\_1", fmt="md")
    assert ("host", "o'neil") in redactor.leaks("o&#x27;neil", fmt="html")
    assert ("host", "o'neil") in redactor.leaks('<testcase name="o&#x27;neil"/>', fmt="junit")
    assert ("host", "web_1") in redactor.leaks("<system-out>web_1 &amp; more</system-out>", fmt="junit")
    assert ("v4", "10.1.2.3") in redactor.leaks("unknown 10.1.2.3")


# --- a whole report -----------------------------------------------------------------------------


def planted_report():
    """Two hosts with real evidence of a Debian 12 container (planted names), plus recorded-shape ones."""
    fixture = json.loads(read_fixture("debian12/ssh_evidence_planted_names.json"))
    hosts = {
        "web3.corp.example.com": {"evidence": fixture["evidence"], "probe": fixture["probe"]},
        "db-bravo": {"evidence": healthy(
            firewall={"rules": [fw_rule('-A INPUT -s 198.51.100.0/24 -m comment --comment "web3.corp.example.com" '
                                        '-p tcp --dport 22 -j REJECT --reject-with tcp-reset', "REJECT", tcp_reset=True)],
                      "conntrack": {"tcp_timeout_established": 432000}},
            journal=journal(("connection_reset_preauth", 2))), "probe": probe("refused", host="db-bravo", address="192.0.2.44")},
        "gone": {"status": "unreachable",
                 "message": "Failed to connect to the host via ssh: ssh: connect to host gone.corp.example.com port 22: "
                            "Connection timed out",
                 "probe": probe("timeout", stage="connect", host="gone.corp.example.com", address="192.0.2.45")},
    }
    hosts["db-bravo"]["evidence"]["journal"]["signatures"]["connection_reset_preauth"]["samples"] = [
        "Connection reset by authenticating user alice 203.0.113.77 port 50140 [preauth]"]
    return hosts


def test_a_report_redacted_and_rendered_holds_no_original_and_the_same_findings():
    inputs = planted_report()
    report = _report.build_report(inputs, NOW, generator="test")
    documents = _report_files.evidence_documents(inputs)
    redactor = _redact.Redactor(hosts=sorted(report["hosts"]))
    redactor.learn_report(report)
    for _name, document in documents:
        redactor.learn_evidence(document)
    clean = redactor.redact(report)
    mapping = redactor.mapping()
    # what must be hidden was found
    assert {"web3.corp.example.com", "db-bravo", "gone", "web3", "6af039a3448c", "gone.corp.example.com"} <= set(mapping["hosts"])
    assert {"corp.example.com"} <= set(mapping["domains"])
    assert {"10.88.0.32", "192.0.2.44", "203.0.113.77"} <= set(mapping["addresses"])
    assert {"203.0.113.0/24", "198.51.100.0/24", "192.168.0.0/16", "10.1.2.0/24", "2001:db8::/32"} <= set(mapping["networks"])
    assert "2001:db8:0:12::7" in mapping["addresses"]
    assert set(mapping["users"]) == {"alice"}
    assert not {"openssh.com", "libssh.org"} & set(mapping["domains"])
    assert mapping["addresses"]["192.0.2.44"] == mapping["hosts"]["db-bravo"] + "-addr"
    # nothing of it is left, in the data or in any rendering, nor in the evidence documents
    texts = [strings(clean), _report.render_json(clean), _report.render_markdown(clean).replace("\\", ""),
             _report.render_html(clean).replace("&#x27;", "'"), html.unescape(_junit.render_junit(clean, "warning"))]
    texts += [strings(redactor.redact(document)) for _name, document in documents]
    for text in texts:
        assert originals_left(text, mapping) == []
        assert addresses_left(text) == []
    # the verdicts and findings are the same, host by host
    assert len(clean["hosts"]) == len(report["hosts"])
    for name, entry in report["hosts"].items():
        other = clean["hosts"][mapping["hosts"][name]]
        assert [(f["cause"], f["severity"], f["confidence"], len(f["evidence"])) for f in entry["findings"]] == [
            (f["cause"], f["severity"], f["confidence"], len(f["evidence"])) for f in other["findings"]]
        assert (other["status"], other["reachable"]) == (entry["status"], entry["reachable"])
    assert clean["summary"] == dict((cause, [mapping["hosts"][h] for h in hosts]) for cause, hosts in report["summary"].items())
    assert clean["counts"] == report["counts"]
    # report.junit.xml of the copy fails the same hosts, by token
    assert _junit.failing_hosts(report, "warning")
    assert [name for name, _f in _junit.failing_hosts(clean, "warning")] == sorted(
        mapping["hosts"][name] for name, _f in _junit.failing_hosts(report, "warning"))


def test_redaction_is_the_same_when_done_again():
    report = _report.build_report(planted_report(), NOW)
    first = _redact.Redactor(hosts=report["hosts"]).learn_report(copy.deepcopy(report))
    second = _redact.Redactor(hosts=report["hosts"]).learn_report(copy.deepcopy(report))
    assert first.redact(report) == second.redact(report)
    assert first.mapping() == second.mapping()
