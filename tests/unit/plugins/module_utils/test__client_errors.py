# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client error catalogue on what the Debian 11/12/13 clients really printed.

Every ``tests/unit/fixtures/debianNN/client_<fault>.txt`` (and ``_v.txt``, the same
fault with ``ssh -v``) was captured by ``tests/lab/lab capture-client-errors``
against the fault named in ``tests/unit/fixtures/client_errors_captured.md``. Where
the same fault made different clients print different words (a MaxStartups close
races the client's own banner line: some get a reset, some a close), the table
says what each printed; the phase and the cause that fits must be right either way.
Corrupted packets cannot be made on this kernel (no netem, pedit or csum): those
lines are transcribed from openssh-portable's packet.c and say so.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _client_errors as ce
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _signatures
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import FIXTURES, read_fixture

RELEASES = ("debian11", "debian12", "debian13")

# fault -> (ids a plain run may print, phase, a cause that must fit, a cause the message must rule out)
CAPTURED = {
    "connection_refused": ({"connection_refused"}, "connect", "sshd_not_running", "idle_timeout"),
    "connect_timed_out": ({"connect_timed_out"}, "connect", "host_unreachable", "tcp_wrappers_denied"),
    "no_route_to_host": ({"no_route"}, "connect", "firewall_reject", "maxstartups_throttling"),
    "kex_exchange_identification_reset": ({"kex_ident_reset"}, "banner", "tcp_wrappers_denied", "sshd_not_running"),
    "exceeded_maxstartups": ({"kex_ident_closed", "kex_ident_reset", "connection_closed_by_host", "connection_reset_by_host"},
                             "banner", "maxstartups_throttling", "protocol_mismatch"),
    "not_allowed_at_this_time_maxstartups": (
        {"kex_ident_closed", "kex_ident_reset", "connection_closed_by_host", "connection_reset_by_host"},
        "banner", "maxstartups_throttling", "idle_timeout"),
    "not_allowed_at_this_time_penalty": (
        {"kex_ident_closed", "kex_ident_reset", "connection_closed_by_host", "connection_reset_by_host"},
        "banner", "source_penalty", "sshd_not_running"),
    "connection_closed_login_grace_time": ({"connection_closed_by_host"}, "banner", "idle_timeout", "packet_corruption"),
    "connection_reset_in_kex": ({"connection_reset_by_host"}, "banner", "firewall_reject", "idle_timeout"),
    "session_reset_by_firewall": ({"send_disconnect_broken_pipe", "send_disconnect_reset", "read_reset"}, "session",
                                  "firewall_reject", "tcp_wrappers_denied"),
    "session_idle_conntrack_reset": ({"send_disconnect_broken_pipe", "send_disconnect_reset", "read_reset"}, "session",
                                     "idle_timeout", "sshd_not_running"),
    "session_process_killed": ({"closed_by_remote_host"}, "session", "oom_kill", "tcp_wrappers_denied"),
    "server_not_responding": ({"server_not_responding"}, "session", "idle_timeout", "maxstartups_throttling"),
    "no_matching_key_exchange": ({"no_matching_algorithm"}, "kex", "protocol_mismatch", "oom_kill"),
    "no_matching_cipher": ({"no_matching_algorithm"}, "kex", "protocol_mismatch", "idle_timeout"),
    "banner_exchange_timed_out": ({"banner_timeout"}, "banner", "resource_pressure", "sshd_not_running"),
    "permission_denied": ({"permission_denied"}, "auth", None, "idle_timeout"),
    "bad_owner_or_permissions": ({"bad_permissions"}, "client", None, "firewall_reject"),
    "could_not_resolve_hostname": ({"name_not_resolved"}, "client", None, "host_unreachable"),
}
# With -v the debug lines settle what the plain message leaves open.
VERBOSE = {
    "exceeded_maxstartups": ("exceeded_maxstartups", "banner"),
    "not_allowed_at_this_time_maxstartups": ("not_allowed_at_this_time", "banner"),
    "not_allowed_at_this_time_penalty": ("not_allowed_at_this_time", "banner"),
    "connection_closed_login_grace_time": ("connection_closed_by_host", "auth"),
    "connection_reset_in_kex": ("connection_reset_by_host", "kex"),
}

CASES = [(release, fault) for fault in sorted(CAPTURED) for release in RELEASES]


def fixture(release, fault, verbose=False):
    return read_fixture("%s/client_%s%s.txt" % (release, fault, "_v" if verbose else ""))


def test_every_captured_fault_has_a_fixture_per_client_release_and_is_in_the_table():
    names = set()
    for release in RELEASES:
        for name in os.listdir(os.path.join(FIXTURES, release)):
            if name.startswith("client_") and name.endswith(".txt"):
                names.add(name[len("client_"):-len(".txt")].rsplit("_v", 1)[0] if name.endswith("_v.txt") else
                          name[len("client_"):-len(".txt")])
    assert names == set(CAPTURED)
    index = read_fixture("client_errors_captured.md")
    for fault in CAPTURED:
        assert "`%s`" % fault in index


@pytest.mark.parametrize("release,fault", CASES)
def test_a_captured_plain_message_is_known_with_its_phase(release, fault):
    ids, phase, fits, contradicted = CAPTURED[fault]
    result = ce.classify(fixture(release, fault))
    assert result["known"], fixture(release, fault)
    assert result["id"] in ids, (result["id"], fixture(release, fault))
    assert result["phase"] == phase
    if fits:
        assert fits in result["causes"]
        assert ce.contradiction(result, fits) is None
    reason = ce.contradiction(result, contradicted)
    assert reason and result["line"] in reason


@pytest.mark.parametrize("release,fault", CASES)
def test_the_verbose_run_says_the_same_or_more(release, fault):
    plain = ce.classify(fixture(release, fault))
    verbose = ce.classify(fixture(release, fault, verbose=True))
    assert verbose["known"]
    if fault in VERBOSE:
        assert (verbose["id"], verbose["phase"]) == VERBOSE[fault]
    else:
        assert verbose["phase"] == plain["phase"]
        assert verbose["id"] in CAPTURED[fault][0]
    # What the plain message fits, the -v run may narrow but never widen.
    assert set(verbose["causes"]) <= set(plain["causes"]) or not plain["causes"]


def test_the_versions_differ_where_openssh_changed_the_level():
    # kex.c logs "Connection closed by remote host" at error level up to 9.4 and at verbose from 9.5:
    # a 10.0 client turned away before the banner prints only the generic close (with -v both).
    closes = [f for f in CAPTURED if fixture("debian13", f).strip().startswith("Connection closed by ")
              and CAPTURED[f][1] == "banner"]
    assert closes
    for fault in CAPTURED:
        assert "kex_exchange_identification: Connection closed" not in fixture("debian13", fault)
    assert any("kex_exchange_identification: Connection closed" in fixture(r, f)
               for r in ("debian11", "debian12") for f in CAPTURED)
    assert "banner line 0: Exceeded MaxStartups" in fixture("debian13", "exceeded_maxstartups", verbose=True)


@pytest.mark.parametrize("text,err_id,phase", [
    # transcribed: packet.c / ssherr.c; corrupted packets cannot be made on this kernel
    ("ssh_dispatch_run_fatal: Connection to 10.0.0.5 port 22: message authentication code incorrect",
     "mac_incorrect", "session"),
    ("Corrupted MAC on input.\nssh_dispatch_run_fatal: Connection to 10.0.0.5 port 22: message authentication code incorrect",
     "mac_incorrect", "session"),
    ("Bad packet length 3964153664.\nssh_dispatch_run_fatal: Connection to 10.0.0.5 port 22: Connection corrupted",
     "bad_packet_length", "session"),
    ("Corrupted MAC on input.", "corrupted_mac", "session"),
    ("ssh: connect to host 2001:db8::5 port 22: Network is unreachable", "network_unreachable", "connect"),
    ("Host key verification failed.", "host_key_verification_failed", "client"),
])
def test_transcribed_messages(text, err_id, phase):
    result = ce.classify(text)
    assert (result["id"], result["phase"], result["known"]) == (err_id, phase, True)


def test_the_server_notice_wins_over_the_close_that_follows_it():
    text = ("debug1: kex_exchange_identification: banner line 0: Not allowed at this time\n"
            "kex_exchange_identification: Connection closed by remote host\n"
            "Connection closed by 10.88.0.5 port 22\n")
    result = ce.classify(text)
    assert result["id"] == "not_allowed_at_this_time"
    assert result["matched"] == ["not_allowed_at_this_time", "kex_ident_closed", "connection_closed_by_host"]
    assert result["causes"] == ["source_penalty", "maxstartups_throttling"]


def test_an_unknown_message_is_unknown_and_rules_nothing_out():
    result = ce.classify("my terminal froze and then the window closed")
    assert result["known"] is False
    assert result["phase"] == "unknown" and result["causes"] == [] and result["id"] is None
    for cause in _signatures.CAUSES:
        assert ce.contradiction(result, cause) is None
        assert ce.phase_fits(result, "connect")


def test_a_generic_close_without_progress_fits_every_phase_before_login():
    result = ce.classify("Connection closed by 10.88.0.5 port 22")
    assert result["phases"] == ["banner", "kex", "auth"]
    assert ce.phase_fits(result, "banner") and ce.phase_fits(result, "auth")
    assert not ce.phase_fits(result, "session") and not ce.phase_fits(result, "connect")
    assert ce.phase_fits(result, "any")


def test_verbose_progress_narrows_the_phase():
    result = ce.classify(fixture("debian13", "connection_reset_in_kex", verbose=True))
    assert result["progress"] == "kex" and result["phase"] == "kex"
    assert not ce.phase_fits(result, "banner")  # TCP wrappers act before the banner: not this
    assert ce.phase_fits(result, "kex")


def test_a_message_that_is_not_a_reset_says_so():
    result = ce.classify(fixture("debian12", "bad_owner_or_permissions"))
    assert result["reset"] is False
    reason = ce.contradiction(result, "sshd_restarted")
    assert "no server-side cause applies" in reason


def test_debug_lines_count_only_for_the_notices_that_come_as_banner_lines():
    # An -v line that merely mentions a word must not decide: only pre-banner notices do.
    assert ce.match_line("debug1: Remote: Connection refused somewhere") is None
    assert ce.match_line("debug1: kex_exchange_identification: banner line 0: Exceeded MaxStartups").id == "exceeded_maxstartups"


def test_every_cause_named_exists_and_has_a_client_view():
    for entry in ce.CATALOGUE:
        assert set(entry.causes) <= set(_signatures.CAUSES), entry
        assert set(entry.phases) <= set(ce.PHASES), entry
        assert entry.seen.startswith(("real", "transcribed")), entry
    assert set(ce.CAUSE_CLIENT_VIEW) == set(_signatures.CAUSES)


def test_every_real_entry_is_backed_by_a_fixture():
    texts = [fixture(r, f, v) for r in RELEASES for f in CAPTURED for v in (False, True)]
    for entry in ce.CATALOGUE:
        if entry.seen.startswith("real"):
            assert any(ce.match_line(line) is entry for text in texts for line in text.splitlines()), entry.id


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_never_breaks_the_catalogue(text):
    result = ce.classify(text)
    assert result["phase"] in ce.PHASES + (ce.UNKNOWN,)
    assert len(result["text"]) <= ce.MAX_TEXT
