# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe against real sockets on 127.0.0.1, and its pure classification.

Each server below behaves the way sshd (or the kernel in front of it) does in one
of the failure modes; the probe must name the mode from the client side only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import struct
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _probe
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import read_fixture

OPENSSH_BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"


class Server:
    """A listener on 127.0.0.1 that runs ``handler(conn)`` for every connection it accepts."""

    def __init__(self, handler, backlog=16, accept=True):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.received = []
        self.stopping = False
        self.thread = None
        if accept:
            self.thread = threading.Thread(target=self._serve)
            self.thread.daemon = True
            self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                conn, dummy = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self.handler(self, conn)
            finally:
                conn.close()

    def close(self):
        self.stopping = True
        if self.thread:
            self.thread.join(2)
        self.sock.close()


@pytest.fixture
def serve():
    servers = []

    def start(handler, **kwargs):
        server = Server(handler, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def send_banner_and_read(server, conn):
    conn.sendall(OPENSSH_BANNER)
    conn.settimeout(2)
    try:
        server.received.append(conn.recv(100))
    except socket.timeout:
        server.received.append(None)


def maxstartups_close(server, conn):
    # sshd.c, OpenSSH 8.2-9.7: write the notice and close, before any banner.
    conn.sendall(b"Exceeded MaxStartups\r\n")


def not_allowed_close(server, conn):
    # sshd.c, OpenSSH 9.8+: MaxStartups or PerSourcePenalties.
    conn.sendall(b"Not allowed at this time\r\n")


def reset_at_once(server, conn):
    # SO_LINGER with a zero timeout makes close() send a RST instead of a FIN.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def close_at_once(server, conn):
    pass


def stay_silent(server, conn):
    conn.settimeout(2)
    try:
        conn.recv(100)
    except socket.timeout:
        pass


def closed_port():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_a_listening_sshd_gives_its_banner_and_version(serve):
    server = serve(send_banner_and_read)
    result = _probe.probe("127.0.0.1", server.port, samples=3, timeout=2, interval=0)
    assert result["outcome"] == "banner"
    assert result["outcomes"] == {"banner": 3}
    assert result["banner"] == "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"
    assert result["identification"]["openssh_version"] == "9.2p1"
    assert result["loss_pct"] == 0.0
    assert result["failed_pct"] == 0.0
    assert result["connect_ms"]["min"] <= result["connect_ms"]["avg"] <= result["connect_ms"]["max"]
    assert result["address"] == "127.0.0.1"
    # The probe answers with its own identification line, so sshd logs an ordinary close.
    assert server.received[0] == _probe.CLIENT_IDENT


def test_exceeded_maxstartups_is_a_close_with_sshd_message(serve):
    server = serve(maxstartups_close)
    result = _probe.probe("127.0.0.1", server.port, samples=2, timeout=2, interval=0)
    assert result["outcome"] == "closed_with_message"
    assert result["messages"] == ["Exceeded MaxStartups"]
    assert result["sshd_messages"] == ["maxstartups"]
    assert result["banners"] == 0
    assert result["failed_pct"] == 100.0
    assert result["loss_pct"] == 0.0


def test_not_allowed_at_this_time_is_maxstartups_or_penalty(serve):
    server = serve(not_allowed_close)
    sample = _probe.probe_once("127.0.0.1", server.port, timeout=2)
    assert sample["outcome"] == "closed_with_message"
    assert sample["sshd_message"] == "maxstartups_or_penalty"


def test_a_reset_after_accept_is_reset_before_banner(serve):
    server = serve(reset_at_once)
    sample = _probe.probe_once("127.0.0.1", server.port, timeout=2)
    # On loopback the RST can land before connect() has returned; either way the
    # connection was accepted and reset before any banner.
    assert sample["outcome"] == "reset_before_banner"
    assert sample["address"] == "127.0.0.1"


def test_an_orderly_close_without_a_word_is_closed_before_banner(serve):
    server = serve(close_at_once)
    sample = _probe.probe_once("127.0.0.1", server.port, timeout=2)
    assert sample["outcome"] == "closed_before_banner"


def test_a_closed_port_is_refused():
    result = _probe.probe("127.0.0.1", closed_port(), samples=2, timeout=2, interval=0)
    assert result["outcome"] == "refused"
    assert result["outcomes"] == {"refused": 2}
    assert result["connected"] == 0
    assert result["connect_ms"] is None
    # A RST is an answer: refused connections are not lost ones.
    assert result["loss_pct"] == 0.0


def test_a_silent_server_times_out_at_the_banner_stage(serve):
    server = serve(stay_silent)
    sample = _probe.probe_once("127.0.0.1", server.port, timeout=2, banner_timeout=0.3)
    assert sample["outcome"] == "timeout"
    assert sample["stage"] == "banner"
    assert "no banner" in sample["error"]


def test_a_full_accept_queue_times_out_at_the_connect_stage(serve):
    # Linux drops SYNs while a listener's accept queue is full: the client sees no answer at all,
    # as it would behind a firewall that DROPs.
    server = serve(close_at_once, backlog=0, accept=False)
    held = []
    try:
        for dummy in range(4):  # fill the queue: the kernel decides how many a backlog of 0 holds
            client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(client)
            client.settimeout(0.5)
            try:
                client.connect(("127.0.0.1", server.port))
            except socket.timeout:
                break
        else:
            pytest.fail("the accept queue never filled")
        result = _probe.probe("127.0.0.1", server.port, samples=1, timeout=0.5, interval=0)
    finally:
        for client in held:
            client.close()
    assert result["outcome"] == "timeout"
    assert result["stage"] == "connect"
    assert result["loss_pct"] == 100.0


def test_a_name_that_does_not_resolve_is_tried_once():
    calls = []

    def resolver(host, port):
        calls.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    result = _probe.probe("no-such-host.invalid", 22, samples=3, resolver=resolver)
    assert result["outcome"] == "name_resolution_failed"
    assert calls == ["no-such-host.invalid"]
    assert result["errors"] == ["[Errno -2] Name or service not known"]


def test_lines_before_the_identification_are_skipped(serve):
    def pre_banner(server, conn):
        conn.sendall(b"Welcome\r\n")
        conn.sendall(OPENSSH_BANNER)

    server = serve(pre_banner)
    sample = _probe.probe_once("127.0.0.1", server.port, timeout=2)
    assert sample["outcome"] == "banner"
    assert sample["banner"].startswith("SSH-2.0-OpenSSH_9.2p1")


@pytest.mark.parametrize(
    "data, ended, outcome, sshd_message",
    [
        (b"SSH-2.0-OpenSSH_10.0p2 Debian-7\r\n", "banner", "banner", None),
        (b"Exceeded MaxStartups\r\n", "eof", "closed_with_message", "maxstartups"),
        (b"Exceeded MaxStartups\r\n", "reset", "closed_with_message", "maxstartups"),
        (b"Not allowed at this time\r\n", "eof", "closed_with_message", "maxstartups_or_penalty"),
        (b"", "eof", "closed_before_banner", None),
        (b"", "reset", "reset_before_banner", None),
        (b"", "timeout", "timeout", None),
        (b"HTTP/1.1 400 Bad Request\r\n", "timeout", "not_ssh", None),
        (b"\x00\xff" * 10, "limit", "not_ssh", None),
        (b"", "error", "error", None),
    ],
)
def test_classify(data, ended, outcome, sshd_message):
    result = _probe.classify(data, ended)
    assert result["outcome"] == outcome
    assert result["sshd_message"] == sshd_message


@pytest.mark.parametrize(
    "line, expected",
    [
        ("SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3", ("2.0", "OpenSSH_8.4p1", "Debian-5+deb11u3", "8.4p1")),
        ("SSH-2.0-OpenSSH_10.0p2 Debian-7\r", ("2.0", "OpenSSH_10.0p2", "Debian-7", "10.0p2")),
        ("SSH-2.0-dropbear_2022.83", ("2.0", "dropbear_2022.83", None, None)),
        ("SSH-1.99-OpenSSH_3.9p1", ("1.99", "OpenSSH_3.9p1", None, "3.9p1")),
    ],
)
def test_parse_identification(line, expected):
    parsed = _probe.parse_identification(line)
    assert (parsed["protocol"], parsed["software"], parsed["comment"], parsed["openssh_version"]) == expected


@pytest.mark.parametrize("line", ["", "HTTP/1.1 200 OK", "SSH-", None])
def test_parse_identification_rejects_other_lines(line):
    assert _probe.parse_identification(line) is None


def sample(outcome, stage="banner", connect_ms=1.0):
    return {"outcome": outcome, "stage": stage, "connect_ms": connect_ms, "address": "192.0.2.1",
            "banner": None, "identification": None, "message": None, "sshd_message": None, "error": None}


def test_summary_prefers_the_fault_on_a_tie():
    summary = _probe.summarize([sample("banner"), sample("closed_with_message")])
    assert summary["outcome"] == "closed_with_message"
    assert summary["outcomes"] == {"banner": 1, "closed_with_message": 1}
    assert summary["failed_pct"] == 50.0


def test_summary_takes_the_majority():
    summary = _probe.summarize([sample("banner"), sample("banner"), sample("timeout", stage="connect", connect_ms=None)])
    assert summary["outcome"] == "banner"
    assert summary["loss_pct"] == pytest.approx(33.3)
    assert summary["connected"] == 2


def test_parse_mtr_json():
    # Captured: mtr 0.95 (Debian 12's mtr-tiny) from the controller to a test container.
    assert _probe.parse_mtr_json(read_fixture("debian12/mtr_report_json.txt")) == [
        {"hop": 1, "host": "10.88.0.82", "loss_pct": 0.0, "sent": 3, "last": 0.07, "avg": 0.209, "best": 0.07,
         "worst": 0.489, "stdev": 0.241}
    ]


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"report": {}}', '{"report": {"hubs": "x"}}'])
def test_parse_mtr_json_gives_none_for_other_output(text):
    assert _probe.parse_mtr_json(text) is None


def test_mtr_argv_is_numeric_and_bounded():
    assert _probe.mtr_argv("/usr/bin/mtr", "10.88.0.5", cycles=3) == [
        "/usr/bin/mtr", "--report", "--json", "--no-dns", "-c", "3", "10.88.0.5"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["banner", "eof", "reset", "timeout", "limit", "error"]))
def test_classify_never_raises(data, ended):
    assert _probe.classify(data, ended)["outcome"] in _probe.OUTCOMES


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_parse_mtr_json_never_raises(text):
    _probe.parse_mtr_json(text)
