# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one catalogue of what the OpenSSH *client* prints when a connection fails.

The admin pastes what ssh printed (one line, or a whole ``ssh -v`` run);
``classify(text)`` says which known message it is, the **phase** the connection
died in and the **causes** that fit that phase. ``_incident`` uses it to rule
out what the message contradicts (an idle timeout does not print ``Connection
refused``). A message this catalogue does not know is ``unknown``: nothing is
guessed from it.

Phases, in the order a connection goes through them:

* ``connect``: the TCP handshake (refused, timed out, no route);
* ``banner``: the version lines (TCP wrappers, MaxStartups, PerSourcePenalties
  turn a client away here);
* ``kex``: key exchange (algorithm mismatch);
* ``auth``: authentication;
* ``session``: an established session;
* ``client``: the client gave up before connecting (its own files, DNS): not a
  reset, nothing on the server to find.

Each entry names the releases it was seen in. "real" means the text was produced
by the Debian 11/12/13 clients (OpenSSH 8.4p1, 9.2p1, 10.0p2) against a real fault
in a container and is in ``tests/unit/fixtures/debianNN/client_*.txt``;
"transcribed" means it cannot be produced here and was taken from
openssh-portable's source (file named). With ``ssh -v`` the debug lines also say
how far the connection got (``PROGRESS``), which settles the phase of the
messages that can end several phases (``Connection reset by HOST port 22``).

Pure: no I/O, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

PHASES = ("connect", "banner", "kex", "auth", "session", "client")
# The phases in which the server side decides (the phase of a finding's scope may also be "any").
SERVER_PHASES = ("connect", "banner", "kex", "auth", "session")
UNKNOWN = "unknown"
MAX_TEXT = 16384
MAX_LINE = 300

# What a client sees when each cause hits it: the reason a message that says otherwise rules it out.
CAUSE_CLIENT_VIEW = {
    "idle_timeout": "an idle timeout cuts an established session (client_loop: send disconnect: Broken pipe, "
                    "Connection reset by peer, or Timeout, server not responding)",
    "maxstartups_throttling": "MaxStartups turns a new connection away before the banner (Exceeded MaxStartups or "
                              "Not allowed at this time, then kex_exchange_identification: Connection closed)",
    "source_penalty": "a penalty turns a new connection away before the banner (Not allowed at this time, "
                      "then the connection closes)",
    "oom_kill": "an OOM kill of sshd's process cuts the session it carried (Connection to HOST closed by remote host) "
                "or, if the listener died, refuses new connections",
    "resource_pressure": "a host short of memory, processes or disk fails to accept or to start a connection "
                         "(closed or reset before login, or timed out)",
    "sshd_not_running": "a stopped sshd refuses the TCP connection (ssh: connect to host HOST port 22: Connection refused)",
    "sshd_config_invalid": "an invalid configuration keeps sshd from starting, so the TCP connection is refused",
    "sshd_restarted": "a restart of sshd cuts connections being set up (closed or reset before login)",
    "protocol_mismatch": "an algorithm mismatch ends the key exchange (Unable to negotiate with HOST: no matching ...)",
    "packet_corruption": "corrupted packets end an encrypted connection (Corrupted MAC on input, "
                         "message authentication code incorrect, Bad packet length)",
    "host_rebooted": "a reboot cuts every session (closed by remote host, reset, or the server stops responding) "
                     "and refuses or times out new connections while the host is down",
    "host_unreachable": "an unreachable host times out (Connection timed out, No route to host)",
    "tcp_wrappers_denied": "TCP wrappers accept the TCP connection and close it before the banner "
                           "(kex_exchange_identification: read: Connection reset by peer, or Connection closed)",
    "firewall_reject": "a packet filter refuses or drops new connections (Connection refused, Connection timed out, "
                       "No route to host) or resets a flow it has forgotten",
}

# ssh -v lines that say how far the connection got, and the phase it was in after each (8.4 to 10.x, sshconnect.c,
# kex.c, sshconnect2.c; real in every -v fixture). Matched after any "debugN: " prefix: 8.4 and 9.2 print
# "Authenticated to HOST ([HOST]:22)." without one.
PROGRESS = (
    ("Connecting to ", "connect"),
    ("Connection established.", "banner"),
    ("Local version string", "banner"),
    ("Remote protocol version", "kex"),
    ("SSH2_MSG_KEXINIT sent", "kex"),
    ("SSH2_MSG_NEWKEYS received", "auth"),
    ("SSH2_MSG_SERVICE_ACCEPT received", "auth"),
    ("Authentications that can continue", "auth"),
    ("Authentication succeeded", "session"),
    ("Authenticated to ", "session"),
    ("Entering interactive session", "session"),
)
_DEBUG_PREFIX = re.compile(r"^debug\d: ")

_HOST = r"(?P<host>\S+?)"


class ClientError:
    """One message the client prints.

    ``phases``: where a connection can die with this message, the most usual first;
    ``causes``: the cause ids that fit, most likely first; ``rank``: when a paste holds
    several known lines, the highest rank decides (a server's own notice beats the
    generic close that follows it); ``reset``: False for messages that are not a cut
    connection at all; ``debug``: the text can also stand in an ``ssh -v`` debug line.
    """

    __slots__ = ("id", "phases", "causes", "literal", "regex", "rank", "reset", "debug", "summary", "seen")

    def __init__(self, err_id, phases, causes, literal, regex, rank, summary, seen, reset=True, debug=False):
        self.id = err_id
        self.phases = tuple(phases)
        self.causes = tuple(causes)
        self.literal = literal
        self.regex = re.compile(regex)
        self.rank = rank
        self.summary = summary
        self.seen = seen
        self.reset = reset
        self.debug = debug

    @property
    def phase(self):
        return self.phases[0]

    def __repr__(self):
        return "ClientError(%r)" % self.id


E = ClientError
_SESSION_CUT = ("idle_timeout", "firewall_reject", "host_rebooted", "oom_kill", "resource_pressure")
_TURNED_AWAY = ("maxstartups_throttling", "source_penalty", "tcp_wrappers_denied", "sshd_restarted", "oom_kill",
                "resource_pressure")

CATALOGUE = (
    # --- the client itself ---------------------------------------------------------------------
    # readconf.c, all versions: the client refuses a config file others may write. Real 8.4, 9.2, 10.0.
    E("bad_permissions", ("client",), (), "Bad owner or permissions on",
      r"Bad owner or permissions on (?P<file>\S+)", 95,
      "the client refused its own configuration file (its owner or mode): nothing reached the server",
      "real 8.4 9.2 10.0", reset=False),
    # ssh.c, all versions. Real 8.4, 9.2, 10.0 (a name the client's NSS does not know).
    E("name_not_resolved", ("client",), (), "Could not resolve hostname",
      r"Could not resolve hostname (?P<host>\S+):", 90,
      "the client could not resolve the server's name: nothing reached the server", "real 8.4 9.2 10.0", reset=False),
    # --- connect (sshconnect.c "ssh: connect to host %s port %s: %s"), all versions ------------------
    E("connection_refused", ("connect",),
      ("sshd_not_running", "firewall_reject", "sshd_config_invalid", "oom_kill", "host_rebooted"),
      "Connection refused", r"connect to host " + _HOST + r" port (?P<port>\d+): Connection refused", 60,
      "the TCP connection was refused: nothing listened on the port, or a firewall answered with a reset",
      "real 8.4 9.2 10.0"),
    E("connect_timed_out", ("connect",), ("host_unreachable", "firewall_reject", "resource_pressure", "host_rebooted"),
      "Connection timed out", r"connect to host " + _HOST + r" port (?P<port>\d+): Connection timed out", 60,
      "the TCP connection got no answer: the host is down or a firewall drops the SYN", "real 8.4 9.2 10.0"),
    E("no_route", ("connect",), ("host_unreachable", "firewall_reject", "host_rebooted"),
      "No route to host", r"connect to host " + _HOST + r" port (?P<port>\d+): No route to host", 60,
      "there is no route to the host, or a firewall answered with ICMP host-unreachable / host-prohibited",
      "real 8.4 9.2 10.0"),
    E("network_unreachable", ("connect",), ("host_unreachable",),
      "Network is unreachable", r"connect to host " + _HOST + r" port (?P<port>\d+): Network is unreachable", 60,
      "the client has no route to the server's network", "transcribed sshconnect.c (strerror ENETUNREACH)"),
    # --- banner ----------------------------------------------------------------------------------
    # sshd.c sends "Exceeded MaxStartups\r\n" (8.2-9.7) before closing; the client prints it at -v as a
    # pre-banner line ("kex_exchange_identification: banner line 0: Exceeded MaxStartups"). Real 9.2 server.
    E("exceeded_maxstartups", ("banner",), ("maxstartups_throttling",), "Exceeded MaxStartups",
      r"Exceeded MaxStartups", 92,
      "sshd refused the connection because MaxStartups unauthenticated connections were open",
      "real (9.2 server; 8.4 9.2 10.0 clients)", debug=True),
    # 9.8+ sends "Not allowed at this time\r\n" for a MaxStartups drop and for a penalised source. Real 10.0 server.
    E("not_allowed_at_this_time", ("banner",), ("source_penalty", "maxstartups_throttling"), "Not allowed at this time",
      r"Not allowed at this time", 91,
      "sshd refused the connection: the client's address is penalised (PerSourcePenalties) or MaxStartups is full",
      "real (10.0 server; 8.4 9.2 10.0 clients)", debug=True),
    # kex.c, 8.0+: error level in every release.
    E("kex_ident_reset", ("banner",), _TURNED_AWAY,
      "kex_exchange_identification: read: Connection reset by peer",
      r"kex_exchange_identification: read: Connection reset by peer", 70,
      "the server side reset the connection before the version banner: TCP wrappers, MaxStartups, a penalty, "
      "or sshd dying while the connection was set up", "real 8.4 9.2 10.0"),
    # kex.c: error level up to 9.4, verbose from 9.5 (so a 10.0 client prints only "Connection closed by ...").
    E("kex_ident_closed", ("banner",), _TURNED_AWAY,
      "kex_exchange_identification: Connection closed by remote host",
      r"kex_exchange_identification: Connection closed by remote host", 70,
      "the server side closed the connection before the version banner: MaxStartups, a penalty, TCP wrappers, "
      "or sshd dying while the connection was set up", "real 8.4 9.2 (10.0 prints it with -v only)", debug=True),
    # kex.c "Connection timed out during banner exchange" (ConnectTimeout runs out waiting for the banner).
    E("banner_timeout", ("banner",), ("resource_pressure", "tcp_wrappers_denied", "host_unreachable", "firewall_reject"),
      "timed out during banner exchange", r"Connection timed out during banner exchange", 72,
      "TCP connected but no SSH banner came in time: sshd overloaded, a slow TCP-wrappers name lookup, "
      "or a device holding the connection", "real 8.4 9.2 10.0"),
    # --- kex -------------------------------------------------------------------------------------------
    # packet.c sshpkt_vfatal, all versions: "Unable to negotiate with HOST port P: no matching X found. Their offer: ..."
    E("no_matching_algorithm", ("kex",), ("protocol_mismatch",), "Unable to negotiate with",
      r"Unable to negotiate with " + _HOST + r" port (?P<port>\d+): no matching (?P<what>key exchange method|host key type|"
      r"cipher|MAC|compression method) found", 85,
      "client and server share no algorithm of one kind: the key exchange ended", "real 8.4 9.2 10.0"),
    # --- corruption (packet.c), not reproducible here: no netem/pedit in this kernel ------------------
    # sshpkt_vfatal's default case with SSH_ERR_MAC_INVALID: "ssh_dispatch_run_fatal: Connection to HOST port P:
    # message authentication code incorrect".
    E("mac_incorrect", ("session", "auth", "kex"), ("packet_corruption",), "message authentication code incorrect",
      r"message authentication code incorrect", 82,
      "a packet failed its integrity check: the data changed in transit", "transcribed packet.c, ssherr.c"),
    E("corrupted_mac", ("session", "auth", "kex"), ("packet_corruption",), "Corrupted MAC on input",
      r"Corrupted MAC on input", 81, "a packet failed its integrity check: the data changed in transit",
      "transcribed packet.c"),
    E("bad_packet_length", ("session", "auth", "kex"), ("packet_corruption",), "Bad packet length",
      r"Bad packet length (?P<length>\d+)", 81, "a packet's length field was garbage: the data changed in transit",
      "transcribed packet.c"),
    E("connection_corrupted", ("session", "auth", "kex"), ("packet_corruption",), "Connection corrupted",
      r"Connection to " + _HOST + r" port (?P<port>\d+): Connection corrupted", 80,
      "the connection's data was corrupted in transit", "transcribed packet.c, ssherr.c (SSH_ERR_CONN_CORRUPT)"),
    # --- auth: not resets, but often pasted -----------------------------------------------------------
    E("permission_denied", ("auth",), (), "Permission denied (",
      r"Permission denied \((?P<methods>[^)]*)\)", 45,
      "authentication failed: the connection was not cut, the server refused the credentials",
      "real 8.4 9.2 10.0", reset=False),
    E("host_key_verification_failed", ("client",), (), "Host key verification failed",
      r"Host key verification failed", 88,
      "the client refused the server's host key (known_hosts): the client ended the connection", "transcribed sshconnect.c",
      reset=False),
    # --- generic closes and resets before login (packet.c sshpkt_vfatal) ------------------------------------
    E("connection_reset_by_host", ("banner", "kex", "auth"),
      _TURNED_AWAY + ("firewall_reject",),
      "Connection reset by ", r"^(?:\S+: )?Connection reset by " + _HOST + r" port (?P<port>\d+)\s*$", 50,
      "the server side reset the connection before login", "real 8.4 9.2 10.0"),
    E("connection_closed_by_host", ("banner", "kex", "auth"),
      _TURNED_AWAY + ("idle_timeout", "protocol_mismatch"),
      "Connection closed by ", r"^(?:\S+: )?Connection closed by " + _HOST + r" port (?P<port>\d+)\s*$", 50,
      "the server side closed the connection before login (MaxStartups, a penalty, LoginGraceTime, sshd dying)",
      "real 8.4 9.2 10.0"),
    E("connection_timed_out_to_host", ("banner", "kex", "auth"),
      ("resource_pressure", "host_unreachable", "firewall_reject"),
      " timed out", r"^(?:\S+: )?Connection to " + _HOST + r" port (?P<port>\d+) timed out\s*$", 50,
      "the connection stalled before login", "real 8.4 9.2 10.0 (after Connection timed out during banner exchange)"),
    # --- session (clientloop.c), all versions ----------------------------------------------------------------
    E("read_reset", ("session",), _SESSION_CUT, "Read from remote host",
      r"Read from remote host " + _HOST + r": Connection reset by peer", 60,
      "an established session was reset while the client was reading", "real 8.4 9.2 10.0"),
    E("send_disconnect_reset", ("session",), _SESSION_CUT, "send disconnect: Connection reset by peer",
      r"client_loop: send disconnect: Connection reset by peer", 60,
      "an established session was reset; the client's goodbye found the connection gone",
      "real 8.4 9.2 (a session reset after conntrack forgot it)"),
    E("send_disconnect_broken_pipe", ("session",), _SESSION_CUT, "send disconnect: Broken pipe",
      r"client_loop: send disconnect: Broken pipe", 60,
      "an established session was cut (reset by the far side); the client's goodbye found the connection gone",
      "real 8.4 9.2 10.0"),
    E("closed_by_remote_host", ("session",),
      ("oom_kill", "sshd_restarted", "host_rebooted", "resource_pressure", "idle_timeout"),
      "closed by remote host", r"Connection to " + _HOST + r" closed by remote host", 60,
      "sshd's process for the session ended (killed, restarted with its sessions, the host shutting down, "
      "or sshd's own ClientAlive timeout)", "real 8.4 9.2 10.0"),
    E("server_not_responding", ("session",),
      ("idle_timeout", "host_unreachable", "host_rebooted", "resource_pressure", "firewall_reject"),
      "not responding", r"Timeout, server " + _HOST + r" not responding", 60,
      "the client's keepalives (ServerAliveInterval) went unanswered: the path or the host went silent",
      "real 8.4 9.2 10.0"),
)

BY_ID = dict((entry.id, entry) for entry in CATALOGUE)
if len(BY_ID) != len(CATALOGUE):  # pragma: no cover - a catalogue bug, caught by the unit tests
    raise ValueError("duplicate client error id")


def _clip(text, limit=MAX_LINE):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def match_line(line):
    """The entry ``line`` shows, or None. Debug lines (``debug1: ...``) count only for entries marked ``debug``."""
    debug = line.lstrip().startswith("debug")
    for entry in CATALOGUE:
        if debug and not entry.debug:
            continue
        if entry.literal in line and entry.regex.search(line.strip()):
            return entry
    return None


def progress(lines):
    """The phase the connection was in after the last ``ssh -v`` progress line, or None."""
    reached = None
    for line in lines:
        stripped = _DEBUG_PREFIX.sub("", line.strip())
        for marker, phase in PROGRESS:
            if stripped.startswith(marker):
                reached = phase
    return reached


def classify(text):
    """What the client's output says: ``{text, known, id, line, phase, phases, causes, reset, summary, progress, matched}``.

    ``text``: the pasted output, one or more lines (``ssh -v`` output welcome). The decisive
    line is the known line with the highest rank (the last of equals). ``phase`` is where
    the connection died: the ``-v`` progress when the message can end several phases and
    the progress is one of them, else the message's usual phase. Unknown text gives
    ``known: False``, ``phase: "unknown"`` and no causes.
    """
    raw = str(text if text is not None else "")[:MAX_TEXT]
    lines = [line for line in raw.replace("\r", "\n").split("\n") if line.strip()]
    best, best_line, matched = None, None, []
    for line in lines:
        entry = match_line(line)
        if entry is None:
            continue
        if entry.id not in matched:
            matched.append(entry.id)
        if best is None or entry.rank >= best.rank:
            best, best_line = entry, line
    reached = progress(lines)
    result = {
        "text": raw.strip(),
        "known": best is not None,
        "id": best.id if best else None,
        "line": _clip(_DEBUG_PREFIX.sub("", best_line.strip())) if best_line else None,
        "phase": UNKNOWN,
        "phases": [],
        "causes": [],
        "reset": None,
        "summary": None,
        "progress": reached,
        "matched": matched,
    }
    if best is None:
        return result
    phase = best.phase
    if reached in best.phases:
        phase = reached
    result.update(phase=phase, phases=list(best.phases), causes=list(best.causes), reset=best.reset, summary=best.summary)
    return result


def contradiction(classified, cause):
    """Why the client's message rules ``cause`` out, or None when it fits (or says nothing)."""
    if not classified or not classified.get("known"):
        return None
    if cause in (classified.get("causes") or []):
        return None
    said = classified.get("line") or classified.get("id")
    if not classified.get("reset"):
        return "the client printed %r: %s, so no server-side cause applies" % (said, classified.get("summary"))
    return "the client printed %r (the connection died during %s); %s" % (
        said, classified.get("phase"), CAUSE_CLIENT_VIEW.get(cause, "that cause ends connections differently"))


def phase_fits(classified, finding_phase):
    """False when a finding's phase (its scope) cannot be where the client's connection died."""
    if not classified or not classified.get("known") or finding_phase in (None, "any"):
        return True
    phases = classified.get("phases") or []
    if classified.get("phase") in SERVER_PHASES and classified.get("phase") != finding_phase:
        # A message that can end several phases fits each of them unless -v progress narrowed it.
        if classified.get("progress") in phases or finding_phase not in phases:
            return False
    return True
