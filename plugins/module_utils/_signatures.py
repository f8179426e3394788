# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one catalogue of log lines that explain a "Connection reset by peer".

Every module and every rule recognises log lines through this file and nowhere
else. A signature has an ``id`` (what the line says), the ``cause`` id it is
evidence for (the fixed list in ``CAUSES``), a literal substring that every
matching line contains (the cheap prefilter), a compiled regular expression that
confirms the match and names the interesting fields, and ``starts``: the first
word(s) the *message* can begin with (after ``host ident[pid]: `` and after an
``error: ``/``fatal: `` level prefix). The versions that print each line are in
the comment above it; "verified" means the line was produced for real in the
Debian 11/12/13 containers (OpenSSH 8.4p1, 9.2p1, 10.0p2) and is in
tests/unit/fixtures.

``classify(line)`` returns a signature id or None. It is built for volume (a
journal of a million lines): for a line with a ``name[pid]: `` prefix, or a bare
message, it looks only at the message's first word and the character after it
(``"Connection r"``) and rejects most lines with one dict lookup; only lines whose
start can begin a signature pay for a prefix test, a substring test and a regex. Lines of other shapes (kernel lines, continuation
lines, lines with a path first) take a slower path that tries every signature.
``classify_slow(line)`` is that exhaustive path on its own; the unit tests check
that both agree on real output.

The catalogue also holds the systemd unit events (by MESSAGE_ID, with the text
as a fallback for syslog files) and the kernel OOM-killer line formats, so that
``_journal`` and ``_oom`` recognise nothing on their own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# The fixed cause ids (see the diagnose issue); every signature points to one.
CAUSES = (
    "idle_timeout",
    "maxstartups_throttling",
    "source_penalty",
    "oom_kill",
    "resource_pressure",
    "sshd_not_running",
    "sshd_config_invalid",
    "sshd_restarted",
    "protocol_mismatch",
    "packet_corruption",
    "host_rebooted",
    "host_unreachable",
    "tcp_wrappers_denied",
    "firewall_reject",
)

# Syslog level prefixes sshd puts before error and fatal messages (no signature starts with them).
_LEVEL_WORDS = frozenset(("error:", "fatal:"))

# Linear time on any line (a local user can put anything into sshd's journal with
# `logger -t sshd`): every pattern is searched from the message start and begins with a
# literal or a one-character class; every repetition is bounded ({1,255} and the like) and
# followed by a literal that ends it, so that a failed attempt costs at most a few hundred
# steps; nothing scans to the end of the line (no lazy ".+?...$" tails); the sshd_config
# patterns start only at the beginning of a whitespace-delimited token. And a line longer
# than LINE_CAP characters is classified on its first LINE_CAP characters (every message
# recognised here is shorter; the journal keeps lines up to 48 KiB, syslog files longer).
LINE_CAP = 4096
# An address as sshd prints it: bare, or in brackets before ":port".
_ADDR = r"\[?(?P<client>[0-9A-Za-z.:%_-]{1,255}?)\]?"
_CLIENT = r"(?P<client>[^\s\[\]]{1,255})"
_PORT = r"(?P<port>\d{1,5})"
_PATH = r"(?<!\S)(?P<file>/\S{0,4095}?):?"


class Signature:
    """One recognisable log line.

    ``prefixes``: how the message can begin (after ``ident[pid]: `` and a level word);
    ``"/"`` stands for any path (sshd_config errors start with the file name).
    """

    __slots__ = ("id", "cause", "literal", "regex", "prefixes", "summary", "source", "client_groups")

    def __init__(self, sig_id, cause, literal, regex, prefixes, summary, source="sshd"):
        if cause not in CAUSES:
            raise ValueError("unknown cause %r for %s" % (cause, sig_id))
        self.id = sig_id
        self.cause = cause
        self.literal = literal
        self.regex = re.compile(regex)
        self.prefixes = tuple(prefixes)
        self.summary = summary
        self.source = source
        # The groups that can hold the client's address (two spellings in one pattern: client_b).
        self.client_groups = tuple(g for g in ("client", "client_b") if g in self.regex.groupindex)

    def matches(self, line):
        line = line[:LINE_CAP]
        return self.literal in line and self.regex.search(line) is not None

    def client(self, m):
        """The client address a match of this signature names (brackets and a /32 or /128 removed), or None."""
        for group in self.client_groups:
            value = m.group(group)
            if value:
                return normalise_address(value)
        return None

    def __repr__(self):
        return "Signature(%r)" % self.id


S = Signature

SIGNATURES = (
    # --- MaxStartups -------------------------------------------------------------
    # 8.4 to 9.7 "error: beginning MaxStartups throttling" (sshd.c); verified 9.2 (Debian 12),
    # also 8.4. Gone in 10.0 (verified: Debian 13 prints only the drop lines).
    S("maxstartups_throttling_begin", "maxstartups_throttling", "beginning MaxStartups throttling",
      r"beginning MaxStartups throttling", ("beginning MaxStartups throttling",),
      "sshd started refusing unauthenticated connections past MaxStartups start:rate"),
    # 8.4 to 9.7, periodic while throttling (sshd.c).
    S("maxstartups_throttling_ongoing", "maxstartups_throttling", "in MaxStartups throttling for",
      r"in MaxStartups throttling for (?P<duration>[^,]{1,64}), (?P<dropped>\d{1,19}) connections dropped", ("in MaxStartups throttling for ",),
      "sshd still throttling past MaxStartups"),
    # 8.4 to 9.7 (sshd.c); verified 9.2: "exited MaxStartups throttling after 00:01:11, 8 connections dropped".
    S("maxstartups_throttling_end", "maxstartups_throttling", "exited MaxStartups throttling",
      r"exited MaxStartups throttling after (?P<duration>[^,]{1,64}), (?P<dropped>\d{1,19}) connections dropped", ("exited MaxStartups throttling",),
      "sshd stopped throttling; says how many connections it dropped"),
    # "drop connection #N from [IP]:P on [IP]:P past MaxStartups" 8.2-9.7 (INFO from 8.4, VERBOSE in 8.2/8.3);
    # "... past Maxstartups" 9.8; "... Maxstartups" 10.0+. Verified 9.2 and 10.0.
    S("maxstartups_drop", "maxstartups_throttling", "drop connection #",
      r"drop connection #(?P<slot>\d{1,9}) from " + _ADDR + r":" + _PORT + r" on \S{1,300} (?:past )?Max[Ss]tartups",
      ("drop connection #",), "sshd refused a connection because MaxStartups was reached"),
    # 10.0+: the drop lines above are rate-limited and summarised (srclimit.c / sshd.c): "Maxstartups logging
    # rate-limited: ..." (10.0, transcribed); "MaxStartups logging rate-limited: additional 5 connections dropped"
    # (verified 10.6p1, Debian sid, whose drop lines end in "MaxStartups" too).
    S("maxstartups_log_ratelimited", "maxstartups_throttling", "tartups logging rate-limited",
      r"Max[Ss]tartups logging rate-limited: additional (?P<dropped>\d{1,19}) connections dropped",
      ("Maxstartups logging rate-limited", "MaxStartups logging rate-limited"),
      "sshd dropped more connections past MaxStartups than it logged"),
    # --- PerSourcePenalties (9.8+, on by default) ----------------------------------------
    # Verified 10.0: "drop connection #0 from [10.88.0.8]:52766 on [10.88.0.6]:22 penalty: connections
    # without attempting authentication".
    S("penalty_drop", "source_penalty", "penalty: ",
      r"drop connection #(?P<slot>\d{1,9}) from " + _ADDR + r":" + _PORT + r" on \S{1,300} penalty: "
      r"(?P<reason>[^\[\]]{0,200}[^\s\[\]])",
      ("drop connection #",), "sshd refused a connection because its source address is penalised (PerSourcePenalties)"),
    # 9.8 at VERBOSE (whole seconds), later at INFO (srclimit.c). Not printed at LogLevel INFO by 10.0p2 (checked).
    # 10.6p1 (verified, Debian sid, LogLevel INFO): "srclimit_penalise: 10.88.0.57/32: activating ipv4 penalty of
    # 15.082 seconds for penalty: connections without attempting authentication" (also "... attempted
    # authentication by invalid user"): the address first, fractional seconds.
    S("penalty_activated", "source_penalty", "srclimit_penalise",
      r"srclimit_penalise: (?:(?P<family>ipv[46]): (?:new|activating) (?P<client>\S{1,255}) "
      r"|(?P<client_b>[0-9A-Fa-f.:/%]{1,255}?): (?:new|activating) (?P<family_b>ipv[46]) )[^\n]{0,64}?penalty",
      ("srclimit_penalise: ",),
      "PerSourcePenalties started penalising an address"),
    # --- resets and closes seen by sshd ----------------------------------------------------
    # packet.c, all versions: "Connection reset by [authenticating user U |invalid user U ]IP port P [preauth]".
    # Verified 9.2 and 10.0 (client reset after the banner exchange).
    S("connection_reset_preauth", "firewall_reject", "Connection reset by",
      r"Connection reset by (?:authenticating user \S{1,255} |invalid user \S{1,255} )?" + _CLIENT + r" port " + _PORT
      + r" \[preauth\]",
      ("Connection reset by ",), "the client side (or a middlebox) reset the TCP connection before authentication"),
    # packet.c without the [preauth] tag: after login ("Connection reset by [user U ]IP port P"), and, verified
    # on 9.2 and 10.0, a reset before the banner exchange ends (after "kex_exchange_identification: read: ...").
    S("connection_reset", "firewall_reject", "Connection reset by",
      r"Connection reset by (?:user \S{1,255} )?" + _CLIENT + r" port " + _PORT + r"(?: \[postauth\])?\s{0,16}$",
      ("Connection reset by ",), "the client side (or a middlebox) reset the connection (before the banner or after login)"),
    # serverloop.c, older releases: "Read error from remote host IP port P: Connection reset by peer".
    S("read_error_reset", "firewall_reject", "Read error from remote host",
      r"Read error from remote host " + _CLIENT + r" port " + _PORT + r": Connection reset by peer", ("Read error from remote host ",),
      "a session's socket read failed with a TCP reset"),
    # kex.c: "kex_exchange_identification: read: Connection reset by peer" (8.0+), before 8.0 "ssh_exchange_...".
    S("kex_ident_reset", "firewall_reject", "_exchange_identification: read: Connection reset",
      r"(?:kex|ssh)_exchange_identification: read: Connection reset by peer",
      ("kex_exchange_identification: ", "ssh_exchange_identification: "),
      "the peer reset the connection during the version banner (probe, load balancer, scanner)"),
    # kex.c: error level up to 9.4, VERBOSE from 9.5. Verified 9.2 for connections that closed silently.
    S("kex_ident_closed", "firewall_reject", "_exchange_identification: Connection closed by remote host",
      r"(?:kex|ssh)_exchange_identification: Connection closed by remote host",
      ("kex_exchange_identification: ", "ssh_exchange_identification: "),
      "the peer closed the connection during the version banner"),
    # sshd.c before 8.0.
    S("no_ident_string", "firewall_reject", "Did not receive identification string",
      r"Did not receive identification string from " + _CLIENT, ("Did not receive identification string",),
      "the peer sent nothing before closing (older sshd)"),
    # kex.c 8.x+: "banner exchange: Connection from IP port P: invalid format". Verified 9.2 and 10.0.
    S("banner_invalid", "protocol_mismatch", "banner exchange: Connection from",
      r"banner exchange: Connection from " + _CLIENT + r" port " + _PORT + r": invalid format", ("banner exchange: ",),
      "the peer did not speak SSH"),
    # "Connection timed out during banner exchange" (ssherr.c text; client side verified with the 9.2 client).
    S("banner_timeout", "host_unreachable", "timed out during banner exchange",
      r"(?:banner exchange: Connection from " + _CLIENT + r" port \d{1,5}: )?Connection timed out during banner exchange",
      ("Connection timed out during banner exchange", "banner exchange: "), "the banner exchange timed out"),
    # --- algorithm negotiation (packet.c / ssherr.c), all versions; verified 9.2 and 10.0 -----
    S("kex_no_match", "protocol_mismatch", "no matching key exchange method",
      r"Unable to negotiate with " + _CLIENT + r" port " + _PORT + r": no matching key exchange method found",
      ("Unable to negotiate with ",), "client and server share no key exchange algorithm"),
    S("hostkey_no_match", "protocol_mismatch", "no matching host key type",
      r"Unable to negotiate with " + _CLIENT + r" port " + _PORT + r": no matching host key type found",
      ("Unable to negotiate with ",), "client and server share no host key algorithm"),
    S("cipher_no_match", "protocol_mismatch", "no matching cipher",
      r"Unable to negotiate with " + _CLIENT + r" port " + _PORT + r": no matching cipher found",
      ("Unable to negotiate with ",), "client and server share no cipher"),
    S("mac_no_match", "protocol_mismatch", "no matching MAC",
      r"Unable to negotiate with " + _CLIENT + r" port " + _PORT + r": no matching MAC found",
      ("Unable to negotiate with ",), "client and server share no MAC"),
    S("compression_no_match", "protocol_mismatch", "no matching compression method",
      r"Unable to negotiate with " + _CLIENT + r" port " + _PORT + r": no matching compression method found",
      ("Unable to negotiate with ",), "client and server share no compression method"),
    # --- corruption in transit (packet.c), all versions; not reproducible here -------------
    S("bad_packet_length", "packet_corruption", "Bad packet length",
      r"Bad packet length (?P<length>\d{1,19})", ("Bad packet length", "ssh_dispatch_run_fatal: ", "Disconnecting: "),
      "a packet's length field was garbage (MTU, offload or middlebox likely; not proven)"),
    S("corrupted_mac", "packet_corruption", "Corrupted MAC on input",
      r"Corrupted MAC on input", ("Corrupted MAC on input", "ssh_dispatch_run_fatal: ", "Disconnecting: "),
      "a packet failed its integrity check"),
    # ssherr.c SSH_ERR_MAC_INVALID via "ssh_dispatch_run_fatal: Connection from ... : message authentication ...".
    S("mac_incorrect", "packet_corruption", "message authentication code incorrect",
      r"message authentication code incorrect", ("ssh_dispatch_run_fatal: ", "Disconnecting: "),
      "a packet failed its integrity check"),
    # --- timers -----------------------------------------------------------------------------
    # serverloop.c: "Timeout, client not responding from user U IP port P" (8.x+; verified 9.2 and 10.0,
    # from sshd-session on 10.0); older "...responding."
    S("client_alive_timeout", "idle_timeout", "Timeout, client not responding",
      r"Timeout, client not responding(?: from (?:user (?P<user>\S{1,255}) )?" + _CLIENT + r" port " + _PORT + r")?",
      ("Timeout, client not responding",), "ClientAliveCountMax probes went unanswered; sshd closed the session"),
    # sshd.c: "Timeout before authentication for IP port P" (<=9.7), "... for connection from ..., pid = N" (9.8+;
    # verified 10.6p1: "Timeout before authentication for connection from 10.88.0.55 to 10.88.0.50, pid = 69",
    # logged by the listener).
    S("login_grace_timeout", "idle_timeout", "Timeout before authentication",
      r"Timeout before authentication for (?:connection from )?(?P<client>[^\s,\[\]]{1,255})", ("Timeout before authentication",),
      "LoginGraceTime ran out before the client authenticated"),
    # --- per-connection process died (9.8+, sshd.c) -------------------------------------------
    S("session_killed_signal", "oom_kill", "killed by signal",
      r"[Ss]ession process (?P<pid>\d{1,10}) for (?P<what>.{1,300}?) killed by signal (?P<signal>\d{1,3})", ("session process ", "Session process "),
      "a per-connection sshd-session process was killed (signal 9 is what the OOM killer sends)"),
    S("session_terminated_abnormally", "resource_pressure", "terminated abnormally",
      r"[Ss]ession process (?P<pid>\d{1,10}) for (?P<what>.{1,300}?) terminated abnormally", ("session process ", "Session process "),
      "a per-connection sshd-session process exited abnormally"),
    S("session_unpriv_crash", "resource_pressure", "unpriv child crash",
      r"[Ss]ession process (?P<pid>\d{1,10}) unpriv child crash", ("session process ", "Session process "),
      "the unprivileged child of a connection crashed"),
    # --- TCP wrappers (Debian's libwrap patch; daemon name sshd); verified 9.2 and 10.0 -------
    S("wrapper_refused", "tcp_wrappers_denied", "refused connect from",
      r"refused connect from " + _CLIENT, ("refused connect from ",),
      "hosts.allow/hosts.deny refused the client; sshd closed the connection at once"),
    # --- broken configuration (servconf.c, sshd.c); sshd -t output and ExecStartPre ------------
    S("config_bad_option", "sshd_config_invalid", "Bad configuration option",
      _PATH + r" line (?P<line>\d{1,9}): Bad configuration option: (?P<option>\S{1,255})", ("/",),
      "sshd_config has an unknown keyword"),
    S("config_terminating", "sshd_config_invalid", "bad configuration options",
      _PATH + r" terminating, (?P<count>\d{1,9}) bad configuration options", ("/",),
      "sshd refused to start because of bad options"),
    S("config_missing_argument", "sshd_config_invalid", "missing argument",
      _PATH + r" line (?P<line>\d{1,9}): missing argument", ("/",),
      "a keyword in sshd_config has no value"),
    S("config_deprecated_option", "sshd_config_invalid", "Deprecated option",
      _PATH + r" line (?P<line>\d{1,9}): Deprecated option (?P<option>\S{1,255})", ("/",),
      "sshd_config uses a deprecated keyword (ignored)"),
    S("config_unsupported_option", "sshd_config_invalid", "Unsupported option",
      _PATH + r" line (?P<line>\d{1,9}): Unsupported option (?P<option>\S{1,255})", ("/",),
      "sshd_config uses a keyword this build does not support (ignored)"),
    S("privsep_dir_missing", "sshd_config_invalid", "Missing privilege separation directory",
      r"Missing privilege separation directory: (?P<path>\S{1,4096})", ("Missing privilege separation directory",),
      "sshd cannot start: /run/sshd (or the configured directory) is missing"),
    S("no_hostkeys", "sshd_config_invalid", "no hostkeys available",
      r"no hostkeys available", ("sshd: no hostkeys available",), "sshd cannot start: no host key loads"),
    S("hostkey_load_failed", "sshd_config_invalid", "Unable to load host key",
      r"Unable to load host key", ("Unable to load host key",), "a configured host key cannot be loaded"),
    # --- sshd not listening / restarted ---------------------------------------------------------
    S("bind_failed", "sshd_not_running", "Bind to port",
      r"Bind to port (?P<port>\d{1,5}) on (?P<address>\S{1,255}) failed", ("Bind to port ",),
      "sshd could not bind its port (in use or address missing)"),
    S("cannot_bind_any", "sshd_not_running", "Cannot bind any address",
      r"Cannot bind any address", ("Cannot bind any address",), "sshd exited: it could bind no listen address"),
    # sshd.c all versions: the listener got SIGTERM/SIGHUP-less stop.
    S("sshd_terminated_signal", "sshd_restarted", "Received signal",
      r"Received signal (?P<signal>\d{1,3}); terminating", ("Received signal ",),
      "the sshd listener was told to stop (established sessions survive, new ones are refused until it is back)"),
    # --- resources -------------------------------------------------------------------------------
    S("fork_failed", "resource_pressure", "fork: ",
      r"(?<![\w-])fork: (?P<error>[^\[\]]{0,200}[^\s\[\]])", ("fork: ",),
      "sshd could not fork a process for a new connection"),
    S("out_of_memory", "resource_pressure", "out of memory",
      r"xmalloc: out of memory|[Oo]ut of memory \(allocating", ("xmalloc: out of memory", "Out of memory (allocating"),
      "an sshd process ran out of memory"),
    # --- what the client prints (ssh's stderr / the raw banner), for the probe -------------------
    # sshd.c 8.2-9.7 sends "Exceeded MaxStartups\r\n" before closing; verified 9.2.
    S("client_exceeded_maxstartups", "maxstartups_throttling", "Exceeded MaxStartups",
      r"Exceeded MaxStartups", ("Exceeded MaxStartups",), "the server refused the connection past MaxStartups", source="client"),
    # 9.8+ sends "Not allowed at this time\r\n" for MaxStartups drops AND PerSourcePenalties drops (verified 10.0).
    S("client_not_allowed", "source_penalty", "Not allowed at this time",
      r"Not allowed at this time", ("Not allowed at this time",),
      "the server refused the connection (PerSourcePenalties or, on 9.8+, MaxStartups: check the server log)",
      source="client"),
    # --- kernel OOM killer (mm/oom_kill.c) ------------------------------------------------------
    S("oom_killed_process", "oom_kill", "illed process",
      r"Killed process (?P<pid>\d{1,10}),? (?:UID \d{1,10}, )?\((?P<name>[^)]{0,64})\)",
      ("Out of memory", "Memory cgroup out of memory", "Killed process "),
      "the kernel OOM killer killed a process", source="kernel"),
    S("oom_kill_process_old", "oom_kill", "or sacrifice child",
      r"Kill process (?P<pid>\d{1,10}) \((?P<name>[^)]{0,64})\) score \d{1,10} or sacrifice child",
      ("Out of memory", "Memory cgroup out of memory", "Kill process "),
      "the kernel OOM killer chose a victim (older kernels)", source="kernel"),
)

BY_ID = dict((sig.id, sig) for sig in SIGNATURES)
# A match knows its compiled pattern: that is how a match is traced back to its signature.
_BY_REGEX = dict((sig.regex, sig) for sig in SIGNATURES)
if len(BY_ID) != len(SIGNATURES) or len(_BY_REGEX) != len(SIGNATURES):  # pragma: no cover - caught by the tests
    raise ValueError("duplicate signature id or pattern")


# Prefixes whose second word varies (or that are a level word or a path): dispatched on the first
# word alone, after a miss on the two-part key below.
_LOOSE_PREFIXES = ("/", "error: ", "fatal: ", "kex_exchange_identification: ", "ssh_exchange_identification: ",
                   "ssh_dispatch_run_fatal: ", "Disconnecting: ", "fork: ", "srclimit_penalise: ")


def _key(prefix):
    """The dispatch key of a prefix: its first word, a space and the next character ("Connection r")."""
    word, sep, rest = prefix.partition(" ")
    if not sep or not rest or prefix.startswith(_LOOSE_PREFIXES):
        return None
    return word + " " + rest[0]


def _build_dispatch(signatures):
    """(key -> entries, first word -> entries, path entries); an entry is (prefix, literal or None, sig)."""
    keyed, loose, paths = {}, {}, []
    for sig in signatures:
        for prefix in sig.prefixes:
            entry = (prefix, None if sig.literal in prefix else sig.literal, sig)
            if prefix == "/":
                paths.append((sig.literal, sig))
                continue
            key = _key(prefix)
            if key is None:
                loose.setdefault(prefix.split(" ", 1)[0], []).append(entry)
            else:
                keyed.setdefault(key, []).append(entry)
    return (dict((k, tuple(v)) for k, v in keyed.items()), dict((k, tuple(v)) for k, v in loose.items()),
            tuple(paths))


_KEYED, _LOOSE, _PATH_ENTRIES = _build_dispatch(SIGNATURES)
# A loose word followed by any ASCII character dispatches to _loose(). (Followed by a non-ASCII
# character, it is not looked at: no signature continues that way.)
_LOOSE_MARK = ()
for _word in list(_LOOSE) + list(_LEVEL_WORDS):
    for _code in range(0, 128):
        _KEYED.setdefault(_word + " " + chr(_code), _LOOSE_MARK)
_MONTHS = frozenset(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"))


def _search_slow(line):
    for sig in SIGNATURES:
        if sig.literal in line:
            m = sig.regex.search(line)
            if m is not None:
                return m
    return None


def classify_slow(line):
    """Try every signature in catalogue order: the reference ``classify`` must agree with."""
    m = _search_slow(line[:LINE_CAP])
    return _BY_REGEX[m.re].id if m is not None else None


def _by_entries(entries, line, start):
    for prefix, literal, sig in entries:
        if line.startswith(prefix, start) and (literal is None or literal in line):
            m = sig.regex.search(line, start)
            if m is not None:
                return m
    return None


def _by_path(line):
    for literal, sig in _PATH_ENTRIES:
        if literal in line:
            m = sig.regex.search(line)
            if m is not None:
                return m
    return None


def _loose(line, start):
    """The message at ``start`` begins with a path, a level word or a prefix whose second word varies."""
    if line.startswith("/", start):
        return _by_path(line)
    end = line.find(" ", start)
    word = line[start:end] if end >= 0 else line[start:]
    if word in _LEVEL_WORDS:
        # "error: X ..." / "fatal: X ...": classify the rest.
        if end < 0:
            return None
        return _search_at(line, end + 1)
    entries = _LOOSE.get(word)
    return _by_entries(entries, line, start) if entries else None


def _search_at(line, start, _find=str.find, _get=_KEYED.get):
    end = _find(line, " ", start)
    if end >= 0:
        entries = _get(line[start:end + 2])
        if entries is _LOOSE_MARK:
            return _loose(line, start)
        if entries is not None:
            return _by_entries(entries, line, start)
    if line.startswith(_LOOSE_PREFIXES, start):
        return _loose(line, start)
    return None


def search(line, _find=str.find, _get=_KEYED.get, _cap=LINE_CAP):
    """The regex match of the signature ``line`` shows (``m.re`` identifies it, see ``signature_of``), or None.

    ``line`` may be a journal or syslog line (``... ident[pid]: message``) or a bare
    message; only its first LINE_CAP characters are looked at. Fast path: one dict
    lookup on the message's first word and the next character; only lines whose
    start can begin a signature are compared further.
    """
    if len(line) > _cap:
        line = line[:_cap]
    i = _find(line, "]: ")
    if i >= 0:
        start = i + 3
    elif line[:1].isalpha() and line[:3] not in _MONTHS:
        start = 0  # a bare message
    else:
        # A kernel line, a path, a syslog prefix without [pid], a continuation: try everything.
        return _search_slow(line)
    end = _find(line, " ", start)
    if end >= 0:
        entries = _get(line[start:end + 2])
        if entries is None:
            if line[start] == "/":  # start < end: a character is there
                return _by_path(line)
            return None
        if entries is _LOOSE_MARK:
            return _loose(line, start)
        for prefix, literal, sig in entries:
            if line.startswith(prefix, start) and (literal is None or literal in line):
                m = sig.regex.search(line, start)
                if m is not None:
                    return m
        return None
    if line.startswith(_LOOSE_PREFIXES, start):
        return _loose(line, start)
    return None


def classify(line):
    """The id of the signature ``line`` shows, or None (see ``search``)."""
    m = search(line)
    return _BY_REGEX[m.re].id if m is not None else None


def signature_of(m):
    """The Signature a match returned by ``search`` belongs to."""
    return _BY_REGEX[m.re]


def match(line):
    """(signature, regex match) for ``line``, or (None, None). For rules that want the fields."""
    m = search(line)
    if m is None:
        return None, None
    return _BY_REGEX[m.re], m


def normalise_address(value):
    """``[2001:db8::1]`` -> ``2001:db8::1``; ``192.0.2.7/32`` -> ``192.0.2.7`` (a one-address CIDR is the address)."""
    value = value.strip("[]")
    if value.endswith("/32") and ":" not in value:
        return value[:-3]
    if value.endswith("/128"):
        return value[:-4]
    return value


def cause_of(sig_id):
    sig = BY_ID.get(sig_id)
    return sig.cause if sig is not None else None


# --- systemd unit events ----------------------------------------------------------------------
# (event, MESSAGE_ID or None, literal, regex). MESSAGE_IDs from systemd's sd-messages.h, each seen
# in the Debian 12/13 journals here except oom_killed (cgroup v1 in our containers: transcribed).
UNIT_EVENTS = (
    # "ssh.service: Main process exited, code=killed, status=9/KILL" (verified 252 and 257; code also
    # exited / dumped). MESSAGE_ID from systemd 248 on (SD_MESSAGE_UNIT_PROCESS_EXIT).
    ("main_process_exited", "98e322203f7a4ed290d09fe03c09fe15", "Main process exited",
     re.compile(r"Main process exited, code=(?P<code>\w+), status=(?P<status>[^\s]+)")),
    # "Failed with result 'signal'." (verified); result also oom-kill, exit-code, core-dump, timeout,
    # start-limit-hit, watchdog.
    ("failed_result", "d9b373ed55a64feb8242e02dbe79a49c", "Failed with result",
     re.compile(r"Failed with result '(?P<result>[^']+)'")),
    # "A process of this unit has been killed by the OOM killer." (SD_MESSAGE_UNIT_OUT_OF_MEMORY, cgroup v2).
    ("oom_killed", "fe6faa94e7774663a0da52717891d8ef", "killed by the OOM killer",
     re.compile(r"killed by the OOM killer")),
    # "Scheduled restart job, restart counter is at 1." (verified; field N_RESTARTS).
    ("restart_scheduled", "5eb03494b6584870a536b337290809b3", "Scheduled restart job",
     re.compile(r"Scheduled restart job, restart counter is at (?P<n_restarts>\d+)")),
    # "Start request repeated too quickly." (no MESSAGE_ID of its own; followed by failed_result
    # 'start-limit-hit').
    ("start_limit_hit", None, "Start request repeated too quickly",
     re.compile(r"Start request repeated too quickly")),
    ("stopped", "9d1aaa27d60140bd96365438aad20286", "Stopped ",
     re.compile(r"^Stopped ")),
    ("started", "39f53479d3a045ac8e11786248231fbf", "Started ",
     re.compile(r"^Started ")),
)
UNIT_EVENT_BY_MESSAGE_ID = dict((mid, (event, rx)) for event, mid, _lit, rx in UNIT_EVENTS if mid)


def unit_event(message, message_id=None):
    """(event, fields) for one systemd message about the sshd unit, or (None, None).

    ``message`` is the bare MESSAGE (``ssh.service: `` may be in front). A known
    MESSAGE_ID decides the event; otherwise the text does (syslog files, old systemd).
    ``main_process_exited`` with ``code=killed``/``dumped`` is reported as
    ``main_process_killed``.
    """
    message = message or ""
    found = None
    if message_id and message_id in UNIT_EVENT_BY_MESSAGE_ID:
        event, rx = UNIT_EVENT_BY_MESSAGE_ID[message_id]
        found = event, rx.search(_strip_unit(message))
    else:
        text = _strip_unit(message)
        for event, _mid, literal, rx in UNIT_EVENTS:
            if literal in text:
                m = rx.search(text)
                if m is not None:
                    found = event, m
                    break
    if found is None:
        return None, None
    event, m = found
    fields = dict((k, v) for k, v in (m.groupdict() if m else {}).items() if v is not None)
    if event == "main_process_exited" and fields.get("code") in ("killed", "dumped"):
        event = "main_process_killed"
    if event == "failed_result" and fields.get("result") == "start-limit-hit":
        event = "start_limit_hit"
    return event, fields


def _strip_unit(message):
    # "ssh.service: Failed with ..." -> "Failed with ..."
    head, sep, tail = message.partition(": ")
    if sep and head.endswith((".service", ".socket")) and " " not in head:
        return tail
    return message


# --- kernel OOM killer lines (mm/oom_kill.c) ----------------------------------------------------
# "X invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0" (verified, 6.x): found
# with str.find, the name is what comes before it (a regex with a lazy name group was quadratic).
OOM_INVOKED = " invoked oom-killer: "
# "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=...,mems_allowed=0,oom_memcg=/...,
#  task_memcg=/...,task=sshd-session,pid=8158,uid=0" (verified 6.x; field order varies by kernel)
OOM_SUMMARY = re.compile(r"oom-kill:(?P<fields>\S{1,4096})")
# "Memory cgroup out of memory: Killed process 8158 (sshd-session) total-vm:18652kB, anon-rss:1664kB,
#  file-rss:8164kB, shmem-rss:0kB, UID:0 pgtables:80kB oom_score_adj:1000" (verified 6.x); prefixes
# "Out of memory:", "Out of memory (oom_kill_allocating_task):"; 4.x has no UID/pgtables/adj;
# very old: "Killed process N, UID U, (NAME) total-vm:..." (transcribed).
OOM_KILLED = re.compile(
    r"(?:(?P<prefix>Memory cgroup out of memory|Out of memory(?: \(oom_kill_allocating_task\))?): )?"
    r"Killed process (?P<pid>\d{1,10}),? (?:UID (?P<uid_old>\d{1,10}), )?\((?P<name>[^)]{0,64})\)(?P<rest>.{0,1024})"
)
# older kernels (< 4.19ish): "Out of memory: Kill process 1234 (sshd) score 900 or sacrifice child",
# "Memory cgroup out of memory: Kill process 1234 (sshd) score 900 or sacrifice child" (transcribed)
OOM_KILL_OLD = re.compile(
    r"(?:(?P<prefix>Memory cgroup out of memory|Out of memory): )?Kill process (?P<pid>\d{1,10}) \((?P<name>[^)]{0,64})\) "
    r"score (?P<score>\d{1,10}) or sacrifice child"
)
# older memcg kills: "Task in /a killed as a result of limit of /b" (transcribed, < 4.19)
OOM_TASK_IN = re.compile(r"Task in (?P<task_memcg>\S{1,4096}) killed as a result of limit of (?P<oom_memcg>\S{1,4096})")
# "memory: usage 262144kB, limit 262144kB, failcnt 123" (memcg header)
OOM_FIGURE = re.compile(r"(?P<key>[A-Za-z][A-Za-z_-]{0,31}):(?P<value>-?\d{1,19})(?:kB)?")
OOM_REAPED = re.compile(r"oom_reaper: reaped process (?P<pid>\d{1,10}) \((?P<name>[^)]{0,64})\)")
OOM_NOTHING_KILLABLE = "Out of memory and no killable processes"
OOM_DEADLOCKED = "System is deadlocked on memory"
# cheap prefilter for a kernel log: every OOM line of interest contains one of these.
OOM_LITERALS = ("oom-kill", "illed process", "Kill process", "Task in ", "oom_reaper", "Out of memory",
                "deadlocked on memory")
# One pass over the line for all of them ("invoked oom-killer" holds "oom-kill"): seven `in` scans
# of a line of spaces each compare at every position, and a line without any cost seven times one with.
OOM_PREFILTER = re.compile("|".join(re.escape(literal) for literal in OOM_LITERALS))

# Process names that are sshd's (the OOM victim flag). Kernel comm is truncated to 15 chars.
SSHD_PROCESS_NAMES = frozenset(("sshd", "sshd-session", "sshd-auth"))
