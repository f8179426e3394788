# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The signature catalogue: every signature recognised, nothing routine misread, fast.

Lines marked "real" are copied from tests/unit/fixtures/debian1*/journal_sshd.txt,
captured in the Debian 11/12/13 containers (OpenSSH 8.4p1, 9.2p1, 10.0p2). Lines
marked "transcribed" are formats we cannot produce here (other versions, corrupted
packets, kernel formats of old kernels): typed from SIGNATURES.md and the sources.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _signatures as sig
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import read_fixture
from ansible_collections.sshdoctor.connreset.tests.unit.timing import growth_below

# (message as sshd logs it, expected signature id, origin)
MESSAGES = [
    ("error: beginning MaxStartups throttling", "maxstartups_throttling_begin", "real 9.2"),
    ("error: in MaxStartups throttling for 00:00:30, 5 connections dropped", "maxstartups_throttling_ongoing",
     "transcribed 8.4-9.7"),
    ("exited MaxStartups throttling after 00:01:11, 8 connections dropped", "maxstartups_throttling_end", "real 9.2"),
    ("drop connection #2 from [10.88.0.8]:47430 on [10.88.0.7]:22 past MaxStartups", "maxstartups_drop", "real 9.2"),
    ("drop connection #2 from [10.88.0.8]:38610 on [10.88.0.6]:22 Maxstartups", "maxstartups_drop", "real 10.0"),
    ("drop connection #4 from [2001:db8::5]:40022 on [2001:db8::1]:22 past Maxstartups", "maxstartups_drop",
     "transcribed 9.8"),
    ("Maxstartups logging rate-limited: additional 42 connections dropped", "maxstartups_log_ratelimited",
     "transcribed 10.0"),
    ("MaxStartups logging rate-limited: additional 5 connections dropped", "maxstartups_log_ratelimited",
     "real 10.6"),
    ("srclimit_penalise: 10.88.0.57/32: activating ipv4 penalty of 15.082 seconds for penalty: connections without "
     "attempting authentication", "penalty_activated", "real 10.6"),
    ("Timeout before authentication for connection from 10.88.0.55 to 10.88.0.50, pid = 69", "login_grace_timeout",
     "real 10.6"),
    ("drop connection #0 from [10.88.0.8]:52766 on [10.88.0.6]:22 penalty: connections without attempting "
     "authentication", "penalty_drop", "real 10.0"),
    ("drop connection #0 from [192.0.2.7]:4022 on [192.0.2.1]:22 penalty: failed authentication", "penalty_drop",
     "transcribed 9.8"),
    ("srclimit_penalise: ipv4: new 192.0.2.7/32 active penalty of 30.000 seconds for penalty: failed authentication",
     "penalty_activated", "transcribed 9.9"),
    ("Connection reset by 10.88.0.8 port 57004 [preauth]", "connection_reset_preauth", "real 10.0"),
    ("Connection reset by authenticating user root 192.0.2.5 port 5022 [preauth]", "connection_reset_preauth",
     "transcribed"),
    ("Connection reset by 10.88.0.8 port 36470", "connection_reset", "real 10.0"),
    ("Read error from remote host 192.0.2.5 port 5022: Connection reset by peer", "read_error_reset", "transcribed"),
    ("error: kex_exchange_identification: read: Connection reset by peer", "kex_ident_reset", "real 9.2/10.0"),
    ("error: kex_exchange_identification: Connection closed by remote host", "kex_ident_closed", "real 9.2"),
    ("ssh_exchange_identification: read: Connection reset by peer", "kex_ident_reset", "transcribed 7.x"),
    ("Did not receive identification string from 192.0.2.5 port 5022", "no_ident_string", "transcribed 7.x"),
    ("banner exchange: Connection from 10.88.0.8 port 36478: invalid format", "banner_invalid", "real 10.0"),
    ("Connection timed out during banner exchange", "banner_timeout", "real client 9.2"),
    ("Unable to negotiate with 10.88.0.8 port 38576: no matching key exchange method found. Their offer: "
     "diffie-hellman-group1-sha1,ext-info-c,kex-strict-c-v00@openssh.com [preauth]", "kex_no_match", "real 10.0"),
    ("Unable to negotiate with 10.88.0.8 port 38582: no matching cipher found. Their offer: 3des-cbc [preauth]",
     "cipher_no_match", "real 10.0"),
    ("Unable to negotiate with 192.0.2.5 port 5022: no matching host key type found. Their offer: ssh-dss [preauth]",
     "hostkey_no_match", "transcribed"),
    ("Unable to negotiate with 192.0.2.5 port 5022: no matching MAC found. Their offer: hmac-md5 [preauth]",
     "mac_no_match", "transcribed"),
    ("Unable to negotiate with 192.0.2.5 port 5022: no matching compression method found. Their offer: zlib "
     "[preauth]", "compression_no_match", "transcribed"),
    ("Bad packet length 3149241741. [preauth]", "bad_packet_length", "transcribed"),
    ("Corrupted MAC on input. [preauth]", "corrupted_mac", "transcribed"),
    ("ssh_dispatch_run_fatal: Connection from 192.0.2.5 port 5022: message authentication code incorrect [preauth]",
     "mac_incorrect", "transcribed"),
    ("Timeout, client not responding from user root 10.88.0.8 port 60606", "client_alive_timeout", "real 8.4"),
    ("Timeout, client not responding.", "client_alive_timeout", "transcribed 7.x"),
    ("fatal: Timeout before authentication for 192.0.2.5 port 5022", "login_grace_timeout", "transcribed 9.2"),
    ("Timeout before authentication for connection from 192.0.2.5 to 192.0.2.1, pid = 4242", "login_grace_timeout",
     "transcribed 9.8"),
    ("session process 4242 for 192.0.2.5 port 5022 killed by signal 9", "session_killed_signal", "transcribed 9.8"),
    ("Session process 4242 for 192.0.2.5 port 5022 terminated abnormally, status=0x86", "session_terminated_abnormally",
     "transcribed 9.8"),
    ("Session process 4242 unpriv child crash for 192.0.2.5 port 5022", "session_unpriv_crash", "transcribed 9.8"),
    ("refused connect from 10.88.0.8 (10.88.0.8)", "wrapper_refused", "real 8.4/9.2/10.0"),
    ("/etc/ssh/sshd_config.d/bad.conf: line 3: Bad configuration option: NoSuchOption", "config_bad_option",
     "transcribed"),
    ("/etc/ssh/sshd_config.d/bad.conf: terminating, 1 bad configuration options", "config_terminating",
     "transcribed"),
    ("/etc/ssh/sshd_config line 12: missing argument.", "config_missing_argument", "transcribed"),
    ("/etc/ssh/sshd_config line 14: Deprecated option UsePrivilegeSeparation", "config_deprecated_option",
     "transcribed"),
    ("/etc/ssh/sshd_config line 15: Unsupported option GSSAPIAuthentication", "config_unsupported_option",
     "transcribed"),
    ("Missing privilege separation directory: /run/sshd", "privsep_dir_missing", "transcribed"),
    ("sshd: no hostkeys available -- exiting.", "no_hostkeys", "transcribed"),
    ("Unable to load host key \"/etc/ssh/ssh_host_rsa_key\": invalid format", "hostkey_load_failed", "transcribed"),
    ("error: Bind to port 22 on 0.0.0.0 failed: Address already in use.", "bind_failed", "transcribed"),
    ("fatal: Cannot bind any address.", "cannot_bind_any", "transcribed"),
    ("Received signal 15; terminating.", "sshd_terminated_signal", "real 8.4/9.2/10.0"),
    ("error: fork: Resource temporarily unavailable", "fork_failed", "transcribed"),
    ("fatal: xmalloc: out of memory (allocating 65536 bytes)", "out_of_memory", "transcribed"),
    ("Exceeded MaxStartups", "client_exceeded_maxstartups", "real banner 9.2"),
    ("Not allowed at this time", "client_not_allowed", "real banner 10.0"),
    ("Memory cgroup out of memory: Killed process 8158 (sshd-session) total-vm:18652kB, anon-rss:1664kB, "
     "file-rss:8164kB, shmem-rss:0kB, UID:0 pgtables:80kB oom_score_adj:1000", "oom_killed_process", "real 6.18"),
    ("Out of memory: Kill process 1234 (sshd) score 901 or sacrifice child", "oom_kill_process_old",
     "transcribed 4.x"),
]

# Routine lines that must classify as None (real, from the fixtures, and typical internet noise).
ROUTINE = [
    "Accepted publickey for root from 10.88.0.8 port 44772 ssh2: ED25519 SHA256:1DC6CIVqhv+1aCdAe1+fjQx7q2Eygdzn2AZE8QN+iyQ",
    "pam_unix(sshd:session): session opened for user root(uid=0) by root(uid=0)",
    "pam_unix(sshd:session): session closed for user root",
    "Received disconnect from 10.88.0.8 port 44874:11: disconnected by user",
    "Disconnected from user root 10.88.0.8 port 44874",
    "Connection closed by 10.88.0.8 port 52682",
    "Connection closed by invalid user admin 192.0.2.9 port 4022 [preauth]",
    "Invalid user admin from 192.0.2.9 port 4022",
    "Failed password for invalid user admin from 192.0.2.9 port 4022 ssh2",
    "Server listening on 0.0.0.0 port 22.",
    "Received SIGHUP; restarting.",
    "error: PAM: Authentication failure for root from 192.0.2.9",
    "pam_env(sshd:session): Unable to open env file: /etc/default/locale: No such file or directory",
    "",
]

PREFIXES = [
    "2026-11-25T08:01:23.176307+00:00 h2-d13 sshd[88]: ",  # journalctl -o short-iso-precise, systemd 257
    "2026-11-25T08:01:26.060983+0000 h2-d12 sshd-session[63]: ",  # systemd 252
    "Nov 25 08:01:23 rhel9 sshd[2290]: ",  # traditional syslog
    "",  # a bare message
]


def _ids():
    return sorted(s.id for s in sig.SIGNATURES)


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("message, expected, origin", MESSAGES)
def test_each_message_is_recognised_with_any_prefix(prefix, message, expected, origin):
    assert sig.classify(prefix + message) == expected
    assert sig.classify_slow(prefix + message) == expected


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("message", ROUTINE)
def test_routine_lines_are_not_signatures(prefix, message):
    assert sig.classify(prefix + message) is None
    assert sig.classify_slow(prefix + message) is None


def test_every_signature_has_an_example_here():
    assert sorted(set(expected for _m, expected, _o in MESSAGES)) == _ids()


@pytest.mark.parametrize("signature", sig.SIGNATURES, ids=lambda s: s.id)
def test_signature_is_well_formed(signature):
    assert signature.cause in sig.CAUSES
    assert signature.literal and signature.prefixes
    assert signature.id == signature.id.lower() and " " not in signature.id


@pytest.mark.parametrize("message, expected, origin", MESSAGES)
def test_example_contains_the_literal_prefilter(message, expected, origin):
    assert sig.BY_ID[expected].literal in message


@pytest.mark.parametrize("release", ["debian11", "debian12", "debian13"])
def test_fast_path_agrees_with_exhaustive_path_on_real_journal(release):
    lines = read_fixture(release + "/journal_sshd.txt").splitlines()
    assert lines
    for line in lines:
        assert sig.classify(line) == sig.classify_slow(line), line


@pytest.mark.parametrize("release, expected", [
    ("debian11", {"maxstartups_drop", "maxstartups_throttling_begin", "maxstartups_throttling_end", "kex_no_match",
                  "cipher_no_match", "wrapper_refused", "client_alive_timeout", "connection_reset_preauth",
                  "kex_ident_reset", "banner_invalid"}),
    ("debian12", {"maxstartups_drop", "maxstartups_throttling_begin", "maxstartups_throttling_end", "kex_no_match",
                  "wrapper_refused", "client_alive_timeout", "kex_ident_closed"}),
    ("debian13", {"maxstartups_drop", "penalty_drop", "kex_no_match", "wrapper_refused", "client_alive_timeout",
                  "connection_reset_preauth", "connection_reset"}),
])
def test_planted_faults_are_found_in_real_journal(release, expected):
    found = set(filter(None, (sig.classify(line) for line in read_fixture(release + "/journal_sshd.txt").splitlines())))
    assert expected <= found


def test_debian13_maxstartups_drops_are_not_taken_for_penalties():
    lines = read_fixture("debian13/journal_sshd.txt").splitlines()
    drops = [line for line in lines if "drop connection #" in line]
    kinds = [sig.classify(line) for line in drops]
    assert kinds.count("maxstartups_drop") == 3
    assert kinds.count("penalty_drop") == 6


@pytest.mark.parametrize("line, expected", [
    # kernel lines take the exhaustive path
    ("[  499.914018] Memory cgroup out of memory: Killed process 8158 (sshd-session) total-vm:18652kB",
     "oom_killed_process"),
    ("2026-11-25T08:01:40.100400+0000 rhel9 kernel: Out of memory: Killed process 812 (sshd) total-vm:15200kB",
     "oom_killed_process"),
    ("Nov 25 08:01:40 rhel9 kernel: Out of memory: Kill process 1234 (sshd) score 901 or sacrifice child",
     "oom_kill_process_old"),
    # sshd -t on stderr (no prefix, a path first)
    ("/etc/ssh/sshd_config: line 3: Bad configuration option: Foo", "config_bad_option"),
    # an error: line whose word is not a signature's
    ("Nov 25 08:01:23 host sshd[1]: error: PAM: Authentication failure", None),
    ("Nov 25 08:01:23 host sshd[1]: error:", None),
    ("Nov 25 08:01:23 host sshd[1]: fatal: /etc/ssh/sshd_config line 3: missing argument.", "config_missing_argument"),
    ("  continuation line with Connection reset by 1.2.3.4 port 5", "connection_reset"),
])
def test_other_line_shapes(line, expected):
    assert sig.classify(line) == expected


def test_match_returns_the_named_fields():
    signature, m = sig.match("Nov 25 08:01:23 h sshd[1]: drop connection #0 from [10.88.0.8]:52766 on [10.88.0.6]:22 "
                             "penalty: failed authentication")
    assert signature.id == "penalty_drop"
    assert m.group("client") == "10.88.0.8"
    assert m.group("reason") == "failed authentication"
    assert sig.match("nothing here") == (None, None)
    assert sig.cause_of("penalty_drop") == "source_penalty"
    assert sig.cause_of("no_such_id") is None


@pytest.mark.parametrize("message, message_id, event, fields", [
    ("ssh.service: Main process exited, code=killed, status=9/KILL", "98e322203f7a4ed290d09fe03c09fe15",
     "main_process_killed", {"code": "killed", "status": "9/KILL"}),
    ("ssh.service: Main process exited, code=exited, status=255/EXCEPTION", None, "main_process_exited",
     {"code": "exited", "status": "255/EXCEPTION"}),
    ("ssh.service: Failed with result 'oom-kill'.", "d9b373ed55a64feb8242e02dbe79a49c", "failed_result",
     {"result": "oom-kill"}),
    ("ssh.service: Failed with result 'start-limit-hit'.", None, "start_limit_hit", {"result": "start-limit-hit"}),
    ("sshd.service: A process of this unit has been killed by the OOM killer.", "fe6faa94e7774663a0da52717891d8ef",
     "oom_killed", {}),
    ("ssh.service: Scheduled restart job, restart counter is at 7.", "5eb03494b6584870a536b337290809b3",
     "restart_scheduled", {"n_restarts": "7"}),
    ("ssh.service: Start request repeated too quickly.", None, "start_limit_hit", {}),
    ("Stopped ssh.service - OpenBSD Secure Shell server.", "9d1aaa27d60140bd96365438aad20286", "stopped", {}),
    ("Started OpenBSD Secure Shell server.", None, "started", {}),
    ("ssh.service: Deactivated successfully.", "7ad2d189f7e94e70a38c781354912448", None, None),
    ("Reloading OpenBSD Secure Shell server.", None, None, None),
])
def test_unit_events(message, message_id, event, fields):
    assert sig.unit_event(message, message_id) == (event, fields)


def test_classify_is_fast_enough_for_a_big_journal():
    """The benchmark target is 0.5 CPU s per million lines; this allows 4x for a loaded test machine."""
    lines = read_fixture("debian13/journal_sshd.txt").splitlines() + [p + m for p in PREFIXES[:3] for m in ROUTINE]
    lines = (lines * (50000 // len(lines) + 1))[:50000]
    start = time.process_time()
    for line in lines:
        sig.classify(line)
    elapsed = time.process_time() - start
    assert elapsed < 0.1, "%.3f s for 50k lines" % elapsed


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text):
    found = sig.classify(text)
    assert found is None or found in sig.BY_ID
    assert sig.classify_slow(text) is None or sig.classify_slow(text) in sig.BY_ID
    sig.unit_event(text, None)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PREFIXES), st.sampled_from(MESSAGES), st.sampled_from(["", " [preauth]", "  "]))
def test_fast_and_exhaustive_agree_on_composed_lines(prefix, example, tail):
    line = prefix + example[0] + tail
    assert sig.classify(line) == sig.classify_slow(line)


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_arbitrary_bytes_never_raise(data):
    text = data.decode("utf-8", "replace")
    sig.classify(text)
    sig.unit_event(text, text[:32])


# --- OpenSSH 10.6p1 (Debian sid): sshd -D without systemd, faults from a second container -----------
# openssh10.6_auth_log.txt is REAL: /var/log/auth.log of a Debian sid container (rsyslog, ISO stamps) whose sshd
# (MaxStartups 2:100:3, LoginGraceTime 5, PerSourcePenalties on by default) was hit from Debian 12 client
# containers: algorithm mismatches (kex, cipher, host key, MAC), a burst of silent connections, resets during the
# banner and the key exchange, an HTTP request, a banner then nothing, 40 quick connections without
# authentication, six invalid-user logins, a burst of 60. openssh10.6_sshd_D_e_stderr.txt is the same sshd with
# -D -e (messages on stderr, no syslog prefix, no "error: " level).
SID_EXPECTED = {
    "openssh10.6_auth_log.txt": {
        "kex_no_match": 1, "cipher_no_match": 1, "hostkey_no_match": 1, "mac_no_match": 1, "maxstartups_drop": 6,
        "maxstartups_log_ratelimited": 1, "kex_ident_reset": 1, "connection_reset_preauth": 3, "banner_invalid": 1,
        "login_grace_timeout": 1, "penalty_activated": 2, "penalty_drop": 7},
    "openssh10.6_sshd_D_e_stderr.txt": {
        "kex_no_match": 1, "kex_ident_reset": 1, "connection_reset_preauth": 1, "maxstartups_drop": 3,
        "penalty_activated": 1, "penalty_drop": 7},
}


@pytest.mark.parametrize("name", sorted(SID_EXPECTED))
def test_openssh_10_6_lines_are_recognised(name):
    lines = read_fixture("debian_sid/" + name).splitlines()
    found = {}
    for line in lines:
        assert sig.classify(line) == sig.classify_slow(line), line
        sig_id = sig.classify(line)
        if sig_id:
            found[sig_id] = found.get(sig_id, 0) + 1
    assert found == SID_EXPECTED[name]
    # what is left is routine: listening, closes, invalid users
    for line in lines:
        if sig.classify(line) is None:
            message = line.split("]: ", 1)[-1]
            assert message.startswith(("Server listening on", "Connection closed by", "Invalid user ")), line


def test_openssh_10_6_penalty_names_the_penalised_address():
    line = next(l for l in read_fixture("debian_sid/openssh10.6_auth_log.txt").splitlines() if "srclimit_penalise" in l)
    signature, m = sig.match(line)
    assert signature.id == "penalty_activated" and signature.client(m) == "10.88.0.57"
    assert signature.cause == "source_penalty"


# --- linear time (issue 17): what a local user can put into sshd's journal with `logger -t sshd` ----
# (name, line of about n characters). The first cases are the issue's: lazy ".+?...$" tails and unanchored
# config patterns made these quadratic (2.5 s for the 32 KB fork line). The rest hit each signature's literal
# followed by what makes a pattern backtrack: runs of spaces, of token characters, repeated literals.
def _after_literal(literal):
    """A line of about n characters: the literal, then token characters and brackets."""
    return lambda n: "x sshd[1]: " + literal + " " + ("a1:/ [" * (n // 6))


HOSTILE_LINES = [
    ("fork_spaces", lambda n: "x sshd[1]: fork: a" + " " * n + "b"),
    ("penalty_spaces", lambda n: "x sshd[1]: drop connection #0 from [192.0.2.1]:5 on [192.0.2.2]:22 penalty: a" + " " * n + "b"),
    ("config_token_run", lambda n: "x sshd[1]: /" + "a" * n + " Bad configuration option: x"),
    ("config_slashes_bare", lambda n: "/" * n + " line 1: Bad configuration option: x"),
    ("config_no_path", lambda n: "a" * n + ": line 1: Bad configuration option: x"),
    ("drop_repeated", lambda n: "x sshd[1]: " + "drop connection #1 from " * (n // 24)),
    ("reset_repeated_slow_path", lambda n: "  Connection reset by " * (n // 20)),
    ("session_words", lambda n: "x sshd[1]: session process 1 for " + "a " * (n // 2)),
    ("srclimit_digits", lambda n: "x sshd[1]: srclimit_penalise: " + "1" * n),
    ("negotiate_long_client", lambda n: "x sshd[1]: Unable to negotiate with " + "1" * n + " port 2: no matching cipher found"),
    ("every_literal", lambda n: "[1.0] " + "".join(s.literal + " " for s in sig.SIGNATURES) * (n // 1000 + 1)),
] + [("literal_%s" % s.id, _after_literal(s.literal)) for s in sig.SIGNATURES]


@pytest.mark.parametrize("name, make", HOSTILE_LINES, ids=[n for n, m in HOSTILE_LINES])
def test_a_64k_line_costs_a_small_multiple_of_a_1k_line(name, make):
    """The catalogue looks at a line's first LINE_CAP characters only, with patterns linear in those: a 64 KB line
    costs at most ten times a 1 KB one (a quadratic pattern made it thousands of times)."""
    assert len(make(65536)) >= 60000
    assert growth_below(sig.classify, make, 10) < 10


def test_a_long_line_is_judged_on_its_start():
    line = "2026-11-25T08:01:23+00:00 h sshd[1]: Connection reset by 192.0.2.7 port 4000 [preauth]"
    assert sig.classify(line + " " + "x" * 70000) == "connection_reset_preauth"  # the message is in the first part
    assert sig.classify(line[:sig.LINE_CAP]) == "connection_reset_preauth"
    padded = line.replace(": Connection", ": " + "x" * sig.LINE_CAP + " Connection")
    assert sig.classify(padded) is None  # what comes after the first LINE_CAP characters is not looked at
