# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seeded synthetic sshd log messages with a realistic mix, for the benchmark.

The mix is that of an internet-facing host with a few real faults: most lines
are routine (scanners guessing users, failed passwords, ordinary logins and
their PAM session lines), and a minority are the messages the signature
catalogue exists for (MaxStartups drops, resets before the banner, algorithm
mismatches, keepalive timeouts, corrupted packets, refused wrappers, config
errors). Message texts follow ../../shared/SIGNATURES.md and what Debian 12's
OpenSSH 9.2 prints; addresses come from the documentation ranges (RFC 5737).

This file has no dependencies and also runs inside the containers (Python 3.9+),
where journal_fill.py imports it to fill a journal with the same mix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random

USERS = ("root", "admin", "ubuntu", "test", "oracle", "postgres", "git", "user", "deploy", "pi", "ftp", "guest")
REAL_USERS = ("alice", "bob", "deploy", "backup")
KEX_OFFERS = (
    "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1",
    "diffie-hellman-group-exchange-sha1,diffie-hellman-group1-sha1",
)


def _addr(rng):
    return "%s.%d" % (rng.choice(("192.0.2", "198.51.100", "203.0.113")), rng.randint(1, 254))


def _port(rng):
    return rng.randint(1024, 65535)


def _user(rng):
    return rng.choice(USERS)


def _m_invalid_user(rng):
    return "Invalid user %s from %s port %d" % (_user(rng), _addr(rng), _port(rng))


def _m_closed_invalid(rng):
    return "Connection closed by invalid user %s %s port %d [preauth]" % (_user(rng), _addr(rng), _port(rng))


def _m_received_disconnect_preauth(rng):
    return "Received disconnect from %s port %d:11: Bye Bye [preauth]" % (_addr(rng), _port(rng))


def _m_disconnected_invalid(rng):
    return "Disconnected from invalid user %s %s port %d [preauth]" % (_user(rng), _addr(rng), _port(rng))


def _m_failed_password(rng):
    if rng.random() < 0.5:
        return "Failed password for invalid user %s from %s port %d ssh2" % (_user(rng), _addr(rng), _port(rng))
    return "Failed password for root from %s port %d ssh2" % (_addr(rng), _port(rng))


def _m_pam_auth_failure(rng):
    return "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=%s  user=root" % _addr(rng)


def _m_accepted(rng):
    return "Accepted publickey for %s from %s port %d ssh2: ED25519 SHA256:%s" % (
        rng.choice(REAL_USERS), _addr(rng), _port(rng), "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEF0123456789+/") for dummy in range(43)))


def _m_session_opened(rng):
    return "pam_unix(sshd:session): session opened for user %s(uid=1000) by (uid=0)" % rng.choice(REAL_USERS)


def _m_session_closed(rng):
    return "pam_unix(sshd:session): session closed for user %s" % rng.choice(REAL_USERS)


def _m_received_disconnect(rng):
    return "Received disconnect from %s port %d:11: disconnected by user" % (_addr(rng), _port(rng))


def _m_disconnected_user(rng):
    return "Disconnected from user %s %s port %d" % (rng.choice(REAL_USERS), _addr(rng), _port(rng))


def _m_closed_preauth(rng):
    if rng.random() < 0.3:
        return "Connection closed by authenticating user root %s port %d [preauth]" % (_addr(rng), _port(rng))
    return "Connection closed by %s port %d [preauth]" % (_addr(rng), _port(rng))


def _m_reset_preauth(rng):
    if rng.random() < 0.3:
        return "Connection reset by authenticating user root %s port %d [preauth]" % (_addr(rng), _port(rng))
    return "Connection reset by %s port %d [preauth]" % (_addr(rng), _port(rng))


def _m_read_error(rng):
    return "Read error from remote host %s port %d: Connection reset by peer" % (_addr(rng), _port(rng))


def _m_kex_ident(rng):
    return rng.choice((
        "error: kex_exchange_identification: read: Connection reset by peer",
        "error: kex_exchange_identification: Connection closed by remote host",
        "error: kex_exchange_identification: client sent invalid protocol identifier \"GET / HTTP/1.1\"",
    ))


def _m_banner(rng):
    if rng.random() < 0.5:
        return "banner exchange: Connection from %s port %d: invalid format" % (_addr(rng), _port(rng))
    return "error: Connection timed out during banner exchange"


def _m_maxstartups(rng):
    roll = rng.random()
    if roll < 0.8:
        return "drop connection #%d from [%s]:%d on [10.88.0.5]:22 past MaxStartups" % (rng.randint(10, 99), _addr(rng), _port(rng))
    if roll < 0.9:
        return "error: beginning MaxStartups throttling"
    if roll < 0.95:
        return "error: in MaxStartups throttling for %d seconds, %d connections dropped" % (rng.randint(1, 600), rng.randint(1, 5000))
    return "exited MaxStartups throttling after %d seconds, %d connections dropped" % (rng.randint(1, 600), rng.randint(1, 5000))


def _m_negotiate(rng):
    what = rng.choice(("key exchange method", "host key type", "cipher", "MAC"))
    return "Unable to negotiate with %s port %d: no matching %s found. Their offer: %s [preauth]" % (
        _addr(rng), _port(rng), what, rng.choice(KEX_OFFERS))


def _m_client_alive(rng):
    return "Timeout, client not responding from user %s %s port %d" % (rng.choice(REAL_USERS), _addr(rng), _port(rng))


def _m_login_grace(rng):
    return "fatal: Timeout before authentication for %s port %d" % (_addr(rng), _port(rng))


def _m_corrupt(rng):
    if rng.random() < 0.5:
        return "Bad packet length %d. [preauth]" % rng.randint(100000, 4000000000)
    return "Corrupted MAC on input. [preauth]"


def _m_wrapper(rng):
    return "refused connect from %s (%s)" % (_addr(rng), _addr(rng))


def _m_lifecycle(rng):
    return rng.choice((
        "Server listening on 0.0.0.0 port 22.",
        "Server listening on :: port 22.",
        "Received signal 15; terminating.",
        "/etc/ssh/sshd_config.d/50-cloud-init.conf: line 3: Bad configuration option: ClientAliveIntervall",
        "/etc/ssh/sshd_config.d/50-cloud-init.conf: terminating, 1 bad configuration options",
    ))


# (weight, generator): weights are per mille and add up to 1000.
MIX = (
    (140, _m_invalid_user),
    (110, _m_closed_invalid),
    (60, _m_received_disconnect_preauth),
    (40, _m_disconnected_invalid),
    (120, _m_failed_password),
    (40, _m_pam_auth_failure),
    (50, _m_accepted),
    (50, _m_session_opened),
    (50, _m_session_closed),
    (40, _m_received_disconnect),
    (40, _m_disconnected_user),
    (80, _m_closed_preauth),
    (40, _m_reset_preauth),
    (10, _m_read_error),
    (50, _m_kex_ident),
    (10, _m_banner),
    (30, _m_maxstartups),
    (15, _m_negotiate),
    (8, _m_client_alive),
    (7, _m_login_grace),
    (4, _m_corrupt),
    (4, _m_wrapper),
    (2, _m_lifecycle),
)


def messages(count, seed=7):
    """Yield ``count`` sshd messages (the MESSAGE field, no syslog prefix), reproducibly."""
    rng = random.Random(seed)
    generators = [gen for dummy, gen in MIX]
    weights = [weight for weight, dummy in MIX]
    for dummy in range(count):
        yield rng.choices(generators, weights)[0](rng)


def syslog_lines(count, seed=7, host="bench", start=1735689600):
    """Yield ``count`` lines as ``journalctl -o short-iso`` prints sshd's entries."""
    import time

    rng = random.Random(seed + 1)
    stamp = start
    pid = 1000
    for message in messages(count, seed):
        stamp += rng.random() * 0.5
        if rng.random() < 0.3:
            pid += rng.randint(1, 40)
        iso = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(stamp))
        yield "%s %s sshd[%d]: %s" % (iso, host, pid, message)
