# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the module's SSH connection comes from, with and without SSH_CONNECTION.

The two walks are replayed from real recordings (tests/lab/lab capture-client-errors,
``connection_walk``): every /proc file, fd link and ``journalctl _PID=N`` the walk
reads, made over a real SSH connection to a Debian 12 container as root with the
environment wiped (``env -i``), and to a Debian 13 container as a user through
``sudo`` (which resets the environment, and where the kernel hides the sshd
processes' fds even from root, since the container lacks CAP_SYS_PTRACE).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _client_address as C
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import FakeHost, read_fixture


def replay(name):
    recorded = json.loads(read_fixture(name))
    links = dict(recorded["links"])
    links.update((path, None) for path in recorded["unreadable"] if "/fd/" in path)
    commands = dict((("journalctl", "--no-pager", "-q", "-o", "cat", "-n", "200", "_PID=%s" % pid), (0, out, ""))
                    for pid, out in recorded["journal"].items())
    host = FakeHost(files=recorded["files"], links=links, commands=commands, tools={"journalctl": "/usr/bin/journalctl"})
    return host, recorded["SSH_CONNECTION_before_reset"].split()


@pytest.mark.parametrize("environ,expected", [
    ({"SSH_CONNECTION": "10.88.0.1 51514 10.88.0.5 22"}, ("10.88.0.1", "10.88.0.5", "SSH_CONNECTION")),
    ({"SSH_CLIENT": "2001:db8::7 40000 22"}, ("2001:db8::7", None, "SSH_CLIENT")),
    ({"SSH_CONNECTION": "garbage", "SSH_CLIENT": "192.0.2.3 1 22"}, ("192.0.2.3", None, "SSH_CLIENT")),
    ({"SSH_CONNECTION": "::ffff:192.0.2.9 4000 ::ffff:192.0.2.1 22"}, ("192.0.2.9", "192.0.2.1", "SSH_CONNECTION")),
    ({}, (None, None, None)),
])
def test_from_environment(environ, expected):
    assert C.from_environment(environ) == expected


def test_root_without_environment_finds_the_socket_of_its_sshd_process():
    host, (client, _cport, server, _sport) = replay("debian12/connection_walk_root.json")
    assert C.connection_address(host, environ={}) == (client, server, "socket of sshd process 54")
    assert host.calls == []  # the socket sufficed: no journal query


def test_through_sudo_in_a_container_the_journal_names_the_peer_and_the_tcp_table_confirms_it():
    host, (client, cport, server, _sport) = replay("debian13/connection_walk_sudo.json")
    found = C.connection_address(host, environ={"SUDO_USER": "alice"})
    assert found == (client, server, "journal of sshd process 85, confirmed by its TCP connection")
    assert ("journalctl", "--no-pager", "-q", "-o", "cat", "-n", "200", "_PID=85") in host.calls
    assert C.accepted_peer(json.loads(read_fixture("debian13/connection_walk_sudo.json"))["journal"]["85"].splitlines()) \
        == (client, int(cport))


def test_an_accepted_line_whose_connection_is_gone_is_not_taken():
    host, _conn = replay("debian13/connection_walk_sudo.json")
    host.commands[("journalctl", "--no-pager", "-q", "-o", "cat", "-n", "200", "_PID=85")] = (
        0, "Accepted publickey for alice from 10.89.1.99 port 4000 ssh2: ED25519 SHA256:x\n", "")
    assert C.connection_address(host, environ={}) == (None, None, None)


def test_a_module_not_under_sshd_has_no_connection_address():
    # a local or container connection: the parents are a shell and PID 1
    host = FakeHost(files={"/proc/self/stat": "700 (python3) S 650 700 1 0 -1 0\n",
                           "/proc/650/stat": "650 (bash) S 1 650 1 0 -1 0\n"})
    assert C.connection_address(host, environ={}) == (None, None, None)


@pytest.mark.parametrize("text,expected", [
    ("54 (sshd) S 33 54 54 0 -1 4194560 0", (54, "sshd", 33)),
    ("92 (sshd-session) S 85 85 85 0 -1 4194560", (92, "sshd-session", 85)),
    ("7 (a) b (c)) S 3 7 7", (7, "a) b (c)", 3)),
    ("", (None, None, None)),
    ("garbage", (None, None, None)),
])
def test_parse_stat(text, expected):
    assert C.parse_stat(text) == expected


def test_parse_tcp_sockets_real():
    recorded = json.loads(read_fixture("debian13/connection_walk_sudo.json"))
    sockets = C.parse_tcp_sockets(recorded["files"]["/proc/92/net/tcp"])
    assert [(s["local"], s["local_port"], s["state"]) for s in sockets] == [("0.0.0.0", 22, "0A"), ("10.89.1.23", 22, "01")]
    assert sockets[1]["remote"] == "10.89.1.25" and sockets[1]["inode"] == 881327
    six = C.parse_tcp_sockets(recorded["files"]["/proc/92/net/tcp6"], ipv6=True)
    assert six[0]["local"] == "::" and six[0]["state"] == "0A"


def test_ipv4_mapped_peers_read_as_ipv4():
    line = ("   0: 0000000000000000FFFF00000100580A:0016 0000000000000000FFFF00000500580A:C350 01 00000000:00000000 "
            "00:00000000 00000000     0        0 4242 1 0 20 4 30 10 -1")
    assert C.parse_tcp_sockets(line, ipv6=True)[0]["remote"] == "10.88.0.5"


@pytest.mark.parametrize("text, sshd, libwrap", [
    ("10.0.0.1", "10.0.0.1", "10.0.0.1"),
    (" [2001:DB8::1] ", "2001:db8::1", "2001:db8::1"),
    ("fe80::1%eth0", "fe80::1", "fe80::1"),
    # sshd prints an IPv4 client on a dual-stack socket as IPv4; libwrap's inet_ntop keeps the mapped form
    ("::ffff:10.0.0.1", "10.0.0.1", "::ffff:10.0.0.1"),
    ("host.example.com", None, None), ("10.0.0.0/8", None, None), ("", None, None), (None, None, None),
])
def test_one_address_parse_in_the_two_forms_sshd_and_libwrap_print(text, sshd, libwrap):
    assert C.plain_address(text) == sshd
    assert C.libwrap_address(text) == libwrap


@pytest.mark.parametrize("text, expected", [
    ("10.89.0.4/32", "10.89.0.4"), ("2001:db8::4/128", "2001:db8::4"), (" 10.89.0.0/24 ", "10.89.0.0/24"),
    ("10.89.0.4", "10.89.0.4"), ("bogus/32", "bogus/32"), (None, ""),
])
def test_a_network_of_one_address_is_that_address(text, expected):
    assert C.host_address(text) == expected


@pytest.mark.parametrize("value,expected", [
    ("198.51.100.7", ["198.51.100.7"]),
    (" 203.0.113.0/24 ", ["203.0.113.0/24"]),
    (["2001:DB8::/32", "198.51.100.7"], ["2001:db8::/32", "198.51.100.7"]),
    ("198.51.100.7, 198.51.100.8 198.51.100.7", ["198.51.100.7", "198.51.100.8"]),
    ("[2001:db8::5]", ["2001:db8::5"]),
    ("::ffff:192.0.2.1", ["192.0.2.1"]),
    (None, []),
    ([], []),
])
def test_client_specs_are_normalised(value, expected):
    assert C.normalize_client_specs(value) == expected


@pytest.mark.parametrize("value,message", [
    ("web3.example.com", "diagnose_client: 'web3.example.com' is a host name"),
    ("198.51.100.7/24", "has host bits set; did you mean 198.51.100.0/24"),
    ("300.1.2.3", "is not an IPv4 or IPv6 address"),
    ("10.0.0.0/33", "is not an IPv4 or IPv6 network"),
    (["10.0.0.%d" % i for i in range(17)], "at most 16"),
    ({"a": 1}, "give an address or CIDR"),
])
def test_bad_client_specs_name_the_variable(value, message):
    with pytest.raises(ValueError, match="^diagnose_client: ") as info:
        C.normalize_client_specs(value, name="diagnose_client")
    assert message in str(info.value)


@pytest.mark.parametrize("spec,address,inside", [
    ("203.0.113.0/24", "203.0.113.9", True),
    ("203.0.113.0/24", "198.51.100.7", False),
    ("198.51.100.7", "198.51.100.7", True),
    ("198.51.100.7", "198.51.100.0/24", False),
    ("2001:db8::/32", "2001:db8:1::5", True),
    ("10.0.0.0/8", "2001:db8::5", False),
    ("10.0.0.0/8", "not an address", False),
])
def test_spec_contains(spec, address, inside):
    assert C.spec_contains(spec, address) is inside


def test_specs_overlap_and_first_address():
    assert C.specs_overlap("198.51.100.0/24", "198.51.100.7")
    assert not C.specs_overlap("198.51.100.0/25", "198.51.100.128/25")
    assert C.first_address("203.0.113.0/24") == "203.0.113.0"
    assert C.first_address("198.51.100.7") == "198.51.100.7"
