# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a client sees when it opens a TCP connection to an SSH port.

Runs on the controller (the ``ssh_probe`` action plugin), never on a managed
host. One *sample* is: resolve the name, TCP connect, read what the server
sends first, send our own identification line, close. The sample is
classified as one of ``OUTCOMES``; several samples give the connect latency
and the loss.

The classification is pure (``classify``) so it can be tested on bytes; the
socket code (``probe_once``) only gathers those bytes and the way the
connection ended.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import math
import re
import socket
import time

from ansible_collections.sshdoctor.connreset.plugins.module_utils._untrusted import load_json

# Every outcome a sample can have, the one word the report and the rules use.
BANNER = "banner"  # the server sent its SSH identification line
REFUSED = "refused"  # connect() got a RST: nothing listens, or a firewall REJECTs with tcp-reset
RESET_BEFORE_BANNER = "reset_before_banner"  # connected, then reset before any identification line
CLOSED_BEFORE_BANNER = "closed_before_banner"  # connected, then an orderly close with nothing sent
CLOSED_WITH_MESSAGE = "closed_with_message"  # the server wrote a line (not SSH-) and closed
TIMEOUT = "timeout"  # no answer to the SYN (stage "connect") or no banner in time (stage "banner")
NO_ROUTE = "no_route"  # ICMP host/network unreachable
NAME_RESOLUTION_FAILED = "name_resolution_failed"
NOT_SSH = "not_ssh"  # the server sent something that is not SSH and kept the connection open
ERROR = "error"  # any other socket error (message kept)

OUTCOMES = (
    BANNER,
    REFUSED,
    RESET_BEFORE_BANNER,
    CLOSED_BEFORE_BANNER,
    CLOSED_WITH_MESSAGE,
    TIMEOUT,
    NO_ROUTE,
    NAME_RESOLUTION_FAILED,
    NOT_SSH,
    ERROR,
)

# Lines sshd writes to a client it turns away before the banner (sshd.c).
# Up to 9.7 MaxStartups says the first; from 9.8 MaxStartups and PerSourcePenalties
# both say the second.
SSHD_MESSAGES = {
    "Exceeded MaxStartups": "maxstartups",
    "Not allowed at this time": "maxstartups_or_penalty",
}

# The identification line we send back once we have the server's, so that sshd
# logs an ordinary "Connection closed by ... [preauth]" rather than a banner error.
CLIENT_IDENT = b"SSH-2.0-sshdoctor_probe\r\n"

# RFC 4253 4.2: lines before the identification line are allowed; we read at most this much.
MAX_PRE_BANNER_BYTES = 8192
MAX_MESSAGE_CHARS = 200

_IDENT_RE = re.compile(r"^SSH-(?P<proto>[0-9.]+)-(?P<software>[^ \r\n]+)(?: (?P<comment>[^\r\n]*))?$")
_OPENSSH_RE = re.compile(r"OpenSSH_(?P<version>[0-9]+\.[0-9]+(?:p[0-9]+)?)")


def parse_identification(line):
    """Split an ``SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`` line into its parts; None if it is not one."""
    if line is None:
        return None
    match = _IDENT_RE.match(line.rstrip("\r\n"))
    if not match:
        return None
    software = match.group("software")
    openssh = _OPENSSH_RE.search(software)
    return {
        "protocol": match.group("proto"),
        "software": software,
        "comment": match.group("comment"),
        "openssh_version": openssh.group("version") if openssh else None,
    }


def _decode(data):
    return data.decode("utf-8", errors="replace")


def classify(data, ended, error=None):
    """Classify one sample from what it read and how reading stopped.

    ``data``: the bytes the server sent before we stopped reading.
    ``ended``: how reading stopped: ``"banner"`` (we found a line starting with
    ``SSH-``), ``"eof"`` (orderly close), ``"reset"`` (ECONNRESET / EPIPE),
    ``"timeout"`` (nothing more in time) or ``"limit"`` (too much without a banner).
    Returns ``{outcome, banner, identification, message, sshd_message}``.
    """
    text = _decode(data or b"")
    lines = text.replace("\r\n", "\n").split("\n")
    banner = None
    for line in lines:
        if line.startswith("SSH-"):
            banner = line.rstrip("\r")
            break
    result = {"outcome": None, "banner": banner, "identification": None, "message": None, "sshd_message": None}
    if banner is not None:
        result["outcome"] = BANNER
        result["identification"] = parse_identification(banner)
        return result
    message = " ".join(line.strip() for line in lines if line.strip())[:MAX_MESSAGE_CHARS] or None
    result["message"] = message
    for literal, kind in SSHD_MESSAGES.items():
        if message and literal in message:
            result["sshd_message"] = kind
            break
    if message and ended in ("eof", "reset"):
        result["outcome"] = CLOSED_WITH_MESSAGE
    elif ended == "eof":
        result["outcome"] = CLOSED_BEFORE_BANNER
    elif ended == "reset":
        result["outcome"] = RESET_BEFORE_BANNER
    elif message:
        result["outcome"] = NOT_SSH
    elif ended == "timeout":
        result["outcome"] = TIMEOUT
    else:
        result["outcome"] = ERROR
        if error:
            result["message"] = error
    return result


def classify_connect_error(exc):
    """The outcome of a connect() that raised ``exc``."""
    if isinstance(exc, socket.timeout):
        return TIMEOUT
    code = getattr(exc, "errno", None)
    if code == errno.ECONNREFUSED:
        return REFUSED
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN):
        return NO_ROUTE
    if code in (errno.ETIMEDOUT,):
        return TIMEOUT
    if code in (errno.ECONNRESET,):
        return RESET_BEFORE_BANNER
    return ERROR


def _read_until_banner(sock, deadline):
    """Read until a ``SSH-`` line, EOF, reset, timeout or the size limit; return (data, ended, error)."""
    data = b""
    line_start = 0  # where the first line not yet looked at begins: each byte is looked at once
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return data, "timeout", None
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(1024)
        except socket.timeout:
            return data, "timeout", None
        except (IOError, OSError) as exc:
            if getattr(exc, "errno", None) in (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED):
                return data, "reset", None
            return data, "error", str(exc)
        if not chunk:
            return data, "eof", None
        data += chunk
        while True:
            end = data.find(b"\n", line_start)
            if end < 0:
                break
            if data.startswith(b"SSH-", line_start):
                return data, "banner", None
            line_start = end + 1
        if len(data) >= MAX_PRE_BANNER_BYTES:
            return data, "limit", None


def resolve(host, port, family=socket.AF_UNSPEC):
    """The addresses ``host`` resolves to, as getaddrinfo gives them (may raise socket.gaierror)."""
    return socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)


def probe_once(host, port, timeout=3.0, banner_timeout=None, resolver=resolve):
    """One sample: resolve, connect, read the banner, send our identification, close.

    Returns ``{outcome, stage, address, connect_ms, banner_ms, banner, identification, message,
    sshd_message, error}``; never raises for network trouble.
    """
    banner_timeout = timeout if banner_timeout is None else banner_timeout
    sample = {
        "outcome": None,
        "stage": "resolve",
        "address": None,
        "connect_ms": None,
        "banner_ms": None,
        "banner": None,
        "identification": None,
        "message": None,
        "sshd_message": None,
        "error": None,
    }
    try:
        infos = resolver(host, port)
    except (socket.gaierror, socket.herror, UnicodeError) as exc:
        sample.update(outcome=NAME_RESOLUTION_FAILED, error=str(exc))
        return sample
    if not infos:
        sample.update(outcome=NAME_RESOLUTION_FAILED, error="no address")
        return sample
    family, socktype, proto, dummy, sockaddr = infos[0]
    sample["address"] = sockaddr[0]
    sample["stage"] = "connect"
    sock = socket.socket(family, socktype, proto)
    try:
        sock.settimeout(timeout)
        started = time.monotonic()
        try:
            sock.connect(sockaddr)
        except (socket.timeout, IOError, OSError) as exc:
            sample["outcome"] = classify_connect_error(exc)
            sample["error"] = "timed out after %.1f s" % timeout if sample["outcome"] == TIMEOUT else str(exc)
            return sample
        connected = time.monotonic()
        sample["connect_ms"] = round((connected - started) * 1000.0, 2)
        sample["stage"] = "banner"
        data, ended, error = _read_until_banner(sock, connected + banner_timeout)
        sample.update(classify(data, ended, error))
        if sample["outcome"] == BANNER:
            sample["banner_ms"] = round((time.monotonic() - connected) * 1000.0, 2)
            try:
                sock.sendall(CLIENT_IDENT)
            except (IOError, OSError):
                pass
        elif sample["outcome"] == TIMEOUT:
            sample["error"] = "no banner within %.1f s" % banner_timeout
        elif error and not sample["error"]:
            sample["error"] = error
        return sample
    finally:
        sock.close()


def summarize(samples):
    """Fold samples into ``{outcome, outcomes, samples_total, connected, banners, loss_pct, connect_ms, ...}``.

    ``outcome`` is the most frequent outcome; on a tie the one that is not a banner
    wins, since a fault that shows up in half the samples is the news.
    ``loss_pct`` is the share of samples whose TCP connect got no answer at all
    (timeout / no route); ``failed_pct`` the share that did not reach a banner.
    """
    counts = {}
    for sample in samples:
        counts[sample["outcome"]] = counts.get(sample["outcome"], 0) + 1
    total = len(samples)
    outcome = None
    if counts:
        outcome = sorted(counts, key=lambda name: (-counts[name], name == BANNER, OUTCOMES.index(name) if name in OUTCOMES else 99))[0]
    connects = [s["connect_ms"] for s in samples if s.get("connect_ms") is not None]
    lost = sum(1 for s in samples if s["outcome"] in (TIMEOUT, NO_ROUTE) and s.get("stage") == "connect")
    banners = [s for s in samples if s["outcome"] == BANNER]
    messages = sorted(set(s["message"] for s in samples if s.get("message") and s["outcome"] == CLOSED_WITH_MESSAGE))
    errors = sorted(set(s["error"] for s in samples if s.get("error")))
    first_banner = banners[0] if banners else None
    return {
        "outcome": outcome,
        # connect or banner: where the samples with that outcome stopped (a timeout at "connect" got no SYN-ACK).
        "stage": next((s.get("stage") for s in samples if s["outcome"] == outcome), None),
        "outcomes": counts,
        "samples_total": total,
        "connected": len(connects),
        "banners": len(banners),
        "loss_pct": round(100.0 * lost / total, 1) if total else None,
        "failed_pct": round(100.0 * (total - len(banners)) / total, 1) if total else None,
        "connect_ms": _stats(connects),
        "banner": first_banner["banner"] if first_banner else None,
        "identification": first_banner["identification"] if first_banner else None,
        "messages": messages,
        "sshd_messages": sorted(set(s["sshd_message"] for s in samples if s.get("sshd_message"))),
        "errors": errors[:5],
        "address": next((s["address"] for s in samples if s.get("address")), None),
    }


def _stats(values):
    if not values:
        return None
    return {
        "min": round(min(values), 2),
        "avg": round(sum(values) / len(values), 2),
        "max": round(max(values), 2),
    }


def probe(host, port=22, samples=3, timeout=3.0, banner_timeout=None, interval=0.2, resolver=resolve, sleep=time.sleep):
    """Take ``samples`` samples of ``host:port`` and summarise them (see ``summarize``).

    A name that does not resolve is tried once, not ``samples`` times.
    """
    taken = []
    for index in range(max(1, int(samples))):
        if index and interval:
            sleep(interval)
        sample = probe_once(host, port, timeout=timeout, banner_timeout=banner_timeout, resolver=resolver)
        taken.append(sample)
        if sample["outcome"] == NAME_RESOLUTION_FAILED:
            break
    result = summarize(taken)
    result.update(host=host, port=int(port), samples=taken, timeout=timeout,
                  banner_timeout=timeout if banner_timeout is None else banner_timeout)
    return result


# --- mtr ---------------------------------------------------------------------------


def mtr_argv(mtr_path, host, cycles=5):
    """The command line for ``mtr --report --json`` (numeric, no DNS lookups of hops)."""
    return [mtr_path, "--report", "--json", "--no-dns", "-c", str(int(cycles)), host]


def parse_mtr_json(text):
    """Hops from ``mtr --report --json`` output: ``[{hop, host, loss_pct, sent, last, avg, best, worst, stdev}]``.

    mtr's key names differ slightly between versions (``Loss%``, ``Snt``, ``Avg`` ...);
    unknown or unparsable output gives ``None``.
    """
    data, dummy = load_json(text)
    if not isinstance(data, dict):
        return None
    report = data.get("report")
    hubs = report.get("hubs") if isinstance(report, dict) else None
    if not isinstance(hubs, list):
        return None
    hops = []
    for hub in hubs:
        if not isinstance(hub, dict):
            continue
        hops.append(
            {
                "hop": hub.get("count"),
                "host": hub.get("host"),
                "loss_pct": _number(hub.get("Loss%")),
                "sent": _number(hub.get("Snt")),
                "last": _number(hub.get("Last")),
                "avg": _number(hub.get("Avg")),
                "best": _number(hub.get("Best")),
                "worst": _number(hub.get("Wrst")),
                "stdev": _number(hub.get("StDev")),
            }
        )
    return hops


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 1 << 63 else None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return None if math.isinf(number) or math.isnan(number) else number
