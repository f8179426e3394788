# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sshd's log in a time window, summarised by the signature catalogue, as it streams by.

``Summary`` counts lines per signature as they come (exact counts; bounded samples,
per-minute histograms, per-client tallies and, for requested clients, their own
times and samples), so that a journal of any size is read in bounded memory.
Pure functions parse the boot list and the sshd unit's systemd events;
``collect_journal(host, ...)`` runs the commands through the ``Host`` API, every
line of the window within one time budget:

* ``journalctl --list-boots -o json`` (text on systemd < 251): the boots, the
  default window (the first entry of the previous boot, else of this one) and the
  oldest entry journald holds;
* ``journalctl -o short-iso-precise --reverse --since S`` on sshd's own lines,
  streamed newest first (when the budget ends the read, the oldest are the ones
  left): ``_SYSTEMD_UNIT=ssh.service``/``sshd.service`` (or the ``unit`` asked for)
  OR ``SYSLOG_IDENTIFIER=sshd``/``sshd-session``/``sshd-auth``. The identifier
  half catches what the unit half misses: from OpenSSH 9.8 per-connection lines
  come from ``sshd-session``, and after login pam_systemd moves that process into
  a ``session-N.scope``, out of the unit;
* ``journalctl -o json --output-fields=...`` on PID 1's few messages about the
  unit (``_PID=1 UNIT=ssh.service ...``), matched by MESSAGE_ID;
* ``/var/log/auth.log`` or ``/var/log/secure`` and their rotations (``.1``,
  ``.2.gz``, ``-20261201``), newest first, for the part of the window journald
  does not hold: all of it without journald (or with ``Storage=none``), the time
  before its oldest entry otherwise; a line is never counted from both.

``coverage`` says which source covered which period, ``period`` what of the
requested window was read and what the budget (or an unreadable file) left out,
``availability`` tells "no journal" from "a journal without sshd lines".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import heapq
import ipaddress
import math
import re
import time
from collections import deque

from ansible_collections.sshdoctor.connreset.plugins.module_utils._signatures import (
    LINE_CAP,
    search as _signatures_search,
    signature_of as _signature_of,
    unit_event,
)
from ansible_collections.sshdoctor.connreset.plugins.module_utils._untrusted import MAX_EPOCH, load_json, to_int

# Seconds the whole read (journal and files) may take; what is left unread is said in `period`.
DEFAULT_TIME_BUDGET = 30
DEFAULT_MAX_SAMPLES = 5
DEFAULT_MAX_EVENTS = 50
DEFAULT_MAX_BOOTS = 10
MAX_SAMPLE_CHARS = 512

SSHD_IDENTIFIERS = ("sshd", "sshd-session", "sshd-auth")
DEFAULT_UNITS = ("ssh.service", "sshd.service")
LOG_FILES = ("/var/log/auth.log", "/var/log/secure")
EVENT_FIELDS = "MESSAGE,MESSAGE_ID,UNIT,UNIT_RESULT,EXIT_CODE,EXIT_STATUS,N_RESTARTS"

# --- the `since` parameter ---------------------------------------------------------------------
_UNITS = {
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "min", "min": "min", "mins": "min", "minute": "min", "minutes": "min",
    "h": "h", "hr": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
    "w": "w", "week": "w", "weeks": "w",
}
_UNIT_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 604800}
# Matched against the stripped value (at most MAX_SINCE_CHARS): anchored, every repetition bounded.
MAX_SINCE_CHARS = 64
_RELATIVE = re.compile(r"^-?[ \t]{0,4}(?P<n>\d{1,9})[ \t]{0,4}(?P<unit>[a-z]{1,8})(?P<ago>[ \t]{1,4}ago)?$")
_ABSOLUTE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[ T](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?"
    r"[ \t]{0,4}(?P<tz>Z|UTC|[+-]\d{2}:?\d{2})?$"
)
_EPOCH = re.compile(r"^@(?P<epoch>\d{1,12}(?:\.\d{1,9})?)$")
SINCE_HELP = (
    "YYYY-MM-DD, 'YYYY-MM-DD HH:MM[:SS]' (local time, or with T, Z, UTC or +HH:MM), "
    "@EPOCH, today, yesterday, or a relative time such as -2h, 30min, '3 days ago'"
)


def validate_since(since):
    """Check ``since`` and return it in a form every journalctl since 219 accepts.

    Raises ValueError with a readable message when the value is not understood.
    """
    if since is None:
        return None
    text = str(since).strip()
    if len(text) > MAX_SINCE_CHARS:
        raise ValueError("since: %r... is too long to be a time; use %s" % (text[:MAX_SINCE_CHARS], SINCE_HELP))
    if text in ("today", "yesterday", "now"):
        return text
    m = _EPOCH.match(text)
    if m:
        return "@%d" % int(float(m.group("epoch")))
    m = _RELATIVE.match(text.lower())
    if m and m.group("unit") in _UNITS:
        return "-%s%s" % (int(m.group("n")), _UNITS[m.group("unit")])
    m = _ABSOLUTE.match(text)
    if m:
        clock = m.group("time") or "00:00:00"
        if len(clock) == 5:
            clock += ":00"
        try:
            parsed = time.strptime(m.group("date") + " " + clock[:8], "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise ValueError("since: %r is not a real date/time" % since)
        tz = m.group("tz")
        if not tz:
            return "%s %s" % (m.group("date"), clock[:8])  # local time, as journalctl reads it
        epoch = calendar.timegm(parsed) - _offset_seconds(tz)
        return "@%d" % epoch
    raise ValueError("since: %r is not a time journalctl understands; use %s" % (since, SINCE_HELP))


def _offset_seconds(tz):
    if tz in ("Z", "UTC"):
        return 0
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)


def since_to_epoch(since, now=None):
    """Seconds since the epoch for a value ``validate_since`` returned; None for None or what it cannot place."""
    try:
        return _since_to_epoch(since, now)
    except (ValueError, OverflowError, KeyError):
        return None


def _since_to_epoch(since, now):
    if since is None:
        return None
    now = time.time() if now is None else now
    if since == "now":
        return now
    if since in ("today", "yesterday"):
        lt = time.localtime(now)
        midnight = time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, 0, 0, 0, 0, 0, -1))
        return midnight - (86400 if since == "yesterday" else 0)
    if since.startswith("@"):
        return float(since[1:])
    m = re.match(r"^-(\d+)([a-z]+)$", since)
    if m:
        return now - int(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    return time.mktime(time.strptime(since, "%Y-%m-%d %H:%M:%S"))


# --- lines -------------------------------------------------------------------------------------
_ISO_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)([+-]\d{2}):?(\d{2})$"
                       r"|^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)Z$")
_SYSLOG_TIME = re.compile(r"^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}:\d{2}:\d{2})")
_MONTH = dict((name, i + 1) for i, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")))
# A timestamp is at most this long (ISO with nanoseconds and an offset): a first token longer than that is none.
_MAX_STAMP = 40


def line_time(line):
    """The timestamp at the start of a journal/syslog line, as printed but ISO 8601 where it can be.

    ``2026-11-25T08:01:23.176307+0000`` (systemd < 257) becomes ``...+00:00``, ``...Z``
    becomes ``...+00:00``; a traditional syslog stamp (``Nov 25 08:01:23``) is returned
    as it is. None when the line starts with neither.
    """
    if not line:
        return None
    if line[:1].isdigit():
        end = line.find(" ", 0, _MAX_STAMP + 1)
        token = line[:end] if end >= 0 else line[:_MAX_STAMP + 1]
        m = _ISO_TIME.match(token)
        if m is None:
            return None
        if m.group(1):
            return "%s%s:%s" % (m.group(1), m.group(2), m.group(3))
        return m.group(4) + "+00:00"
    m = _SYSLOG_TIME.match(line)
    if m:
        return m.group(0)
    return None


def iso_utc(epoch):
    """``2026-11-25T08:01:23+00:00`` (microseconds when the epoch has a fraction); None when it is out of range."""
    if epoch is None:
        return None
    try:
        seconds = int(epoch)
        micro = int(round((epoch - seconds) * 1000000))
        if micro >= 1000000:
            seconds, micro = seconds + 1, micro - 1000000
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    except (ValueError, OverflowError, OSError, TypeError):
        return None
    return text + (".%06d" % micro if micro else "") + "+00:00"


class Stamps:
    """Epoch seconds of line timestamps, cached per minute (a journal has few distinct minutes).

    ``now`` places syslog stamps without a year: the year that puts them in the last
    twelve months. Impossible dates (month 13, 30 February, hour 25) give None, never
    an exception.
    """

    def __init__(self, now=None):
        self.now = time.time() if now is None else now
        self._minutes = {}

    def epoch(self, stamp):
        """Epoch of a stamp ``line_time`` returned (or None)."""
        if not stamp:
            return None
        if stamp[:1].isdigit():
            key = stamp[:16] + stamp[-6:]
            seconds = stamp[17:-6]
        else:
            key = stamp[:12]
            seconds = stamp[13:15]
        base = self._minutes.get(key)
        if base is None:
            if len(self._minutes) > 100000:
                self._minutes.clear()
            base = self._minutes[key] = self._minute(stamp)
        if base is False:
            return None
        try:
            value = float(seconds)
        except ValueError:
            return None
        if not 0 <= value < 61:
            return None
        return base + value

    def _minute(self, stamp):
        try:
            if stamp[:1].isdigit():
                year, month, day = int(stamp[0:4]), int(stamp[5:7]), int(stamp[8:10])
                hour, minute = int(stamp[11:13]), int(stamp[14:16])
                zone = stamp[-6:]
                offset = (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60) * (-1 if zone[0] == "-" else 1)
                if not _valid_date(year, month, day, hour, minute):
                    return False
                return calendar.timegm((year, month, day, hour, minute, 0, 0, 0, 0)) - offset
            m = _SYSLOG_TIME.match(stamp)
            month = _MONTH.get(m.group(1)) if m else None
            if month is None:
                return False
            day = int(m.group(2))
            hour, minute = int(m.group(3)[0:2]), int(m.group(3)[3:5])
            year = time.localtime(self.now).tm_year
            for candidate in (year, year - 1):
                if not _valid_date(candidate, month, day, hour, minute):
                    continue  # 29 February of a year without one
                epoch = time.mktime((candidate, month, day, hour, minute, 0, 0, 0, -1))
                if epoch <= self.now + 86400:
                    return epoch
            return False
        except (ValueError, OverflowError, TypeError, IndexError):
            return False


def _valid_date(year, month, day, hour, minute):
    return (1970 <= year <= 9999 and 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]
            and 0 <= hour < 24 and 0 <= minute < 60)


def line_epoch(line, now=None):
    """Seconds since the epoch of a line's timestamp, or None (never raises, whatever the line says).
    Syslog stamps without a year get the year that puts them in the last twelve months."""
    return Stamps(now).epoch(line_time(line))


def line_identifier(line):
    """``sshd-session`` in ``... host sshd-session[92]: message`` (None when there is no ``[pid]: ``)."""
    colon = line.find("]: ", 0, 256)
    if colon < 0:
        return None
    end = line.rfind("[", 0, colon)
    if end < 0:
        return None
    start = line.rfind(" ", 0, end)
    return line[start + 1:end]


def is_sshd_syslog_line(line):
    """True for a syslog line written by sshd, sshd-session or sshd-auth."""
    return line_identifier(line) in SSHD_IDENTIFIERS


# --- the streaming summary ---------------------------------------------------------------------
HISTOGRAM_RESOLUTIONS = (60, 300, 900, 3600, 21600, 86400)
MAX_BUCKETS = 720
MAX_CLIENTS = 20
MAX_CLIENTS_TRACKED = 4096
MAX_FOCUS_CLIENTS_TRACKED = 256  # addresses in a requested client, tracked past MAX_CLIENTS_TRACKED
MAX_FOCUS_SPECS = 16
MAX_FOCUS_TIMES = 200
MAX_FOCUS_SAMPLES = 3
MAX_COVERAGE = 16
_SKETCH_BITS = 1 << 16  # linear counting of the addresses past MAX_CLIENTS_TRACKED (8 KiB per signature)


def parse_client_spec(spec):
    """An ``ipaddress`` network for an address or CIDR (``198.51.100.7``, ``2001:db8::/32``), or None."""
    try:
        return ipaddress.ip_network(_text(spec).strip().split("%", 1)[0], strict=False)
    except ValueError:
        return None


def _text(value):
    return value if isinstance(value, type(u"")) else str(value)


def _network_of(address):
    """The network an address (or a CIDR, as penalty lines print) from a log line is, or None (a host name)."""
    try:
        return ipaddress.ip_network(address.split("%", 1)[0], strict=False)
    except ValueError:
        return None


class _Newest:
    """The ``n`` newest items by key (epoch), whatever the order they come in; ascending at the end."""

    __slots__ = ("n", "heap", "seq")

    def __init__(self, n):
        self.n = n
        self.heap = []
        self.seq = 0

    def add(self, key, item):
        self.seq += 1
        if len(self.heap) < self.n:
            heapq.heappush(self.heap, (key, self.seq, item))
        elif self.n and key >= self.heap[0][0]:
            heapq.heapreplace(self.heap, (key, self.seq, item))

    def items(self):
        return [item for dummy, dummy2, item in sorted(self.heap)]


class _Span:
    """Count, first and last time of a set of lines (any order). Stamps are ISO 8601 where the line had a time."""

    __slots__ = ("count", "first", "first_stamp", "last", "last_stamp")

    def __init__(self):
        self.count = 0
        self.first = self.last = None
        self.first_stamp = self.last_stamp = None

    def add(self, epoch, stamp):
        self.count += 1
        if epoch is None:
            if self.first_stamp is None:
                self.first_stamp = self.last_stamp = stamp
            return
        if self.first is None or epoch < self.first:
            self.first, self.first_stamp = epoch, stamp
        if self.last is None or epoch >= self.last:
            self.last, self.last_stamp = epoch, stamp

    def out(self):
        return {"count": self.count, "first_seen": self.first_stamp, "last_seen": self.last_stamp}


class _Signature:
    """What the summary keeps of one signature: exact counts, bounded detail."""

    def __init__(self, sig, max_samples):
        self.sig = sig
        self.span = _Span()
        self.samples = _Newest(max_samples)
        self.resolution = HISTOGRAM_RESOLUTIONS[0]
        self.buckets = {}
        self.clients = {}
        self.focus_extra = 0
        self.clients_other = 0
        self.sketch = None
        self.sources = {}

    def bucket(self, epoch):
        start = int(epoch) // self.resolution * self.resolution
        self.buckets[start] = self.buckets.get(start, 0) + 1
        while len(self.buckets) > MAX_BUCKETS and self.resolution < HISTOGRAM_RESOLUTIONS[-1]:
            self.resolution = HISTOGRAM_RESOLUTIONS[HISTOGRAM_RESOLUTIONS.index(self.resolution) + 1]
            merged = {}
            for begin, n in self.buckets.items():
                key = begin // self.resolution * self.resolution
                merged[key] = merged.get(key, 0) + n
            self.buckets = merged

    def client(self, address, epoch, stamp, in_focus):
        span = self.clients.get(address)
        if span is None:
            if len(self.clients) - self.focus_extra >= MAX_CLIENTS_TRACKED:
                if not in_focus or self.focus_extra >= MAX_FOCUS_CLIENTS_TRACKED:
                    self.clients_other += 1
                    if self.sketch is None:
                        self.sketch = bytearray(_SKETCH_BITS // 8)
                    h = hash(address) & (_SKETCH_BITS - 1)
                    self.sketch[h >> 3] |= 1 << (h & 7)
                    return
                self.focus_extra += 1
            span = self.clients[address] = _Span()
        span.add(epoch, stamp)

    def distinct(self):
        """(distinct addresses, exact?)."""
        if self.sketch is None:
            return len(self.clients), True
        zeros = sum(8 - bin(byte).count("1") for byte in self.sketch)
        if zeros == 0:
            estimate = int(_SKETCH_BITS * math.log(_SKETCH_BITS))  # saturated: at least this many
        else:
            estimate = int(round(-_SKETCH_BITS * math.log(float(zeros) / _SKETCH_BITS)))
        return len(self.clients) + estimate, False

    def out(self, focus_addresses):
        info = self.span.out()
        info["cause"] = self.sig.cause
        info["samples"] = self.samples.items()
        info["histogram"] = {"resolution_s": self.resolution, "buckets": [[k, self.buckets[k]] for k in sorted(self.buckets)]}
        chosen = sorted((a for a in self.clients if a in focus_addresses), key=lambda a: (-self.clients[a].count, a))
        rest = sorted((a for a in self.clients if a not in focus_addresses), key=lambda a: (-self.clients[a].count, a))
        info["clients"] = dict((a, self.clients[a].out()) for a in (chosen + rest)[:MAX_CLIENTS])
        info["clients_other"] = self.clients_other
        info["clients_distinct"], info["clients_distinct_exact"] = self.distinct()
        info["sources"] = dict(self.sources)
        return info


class _Focus:
    """One requested client spec: per signature, what its addresses did."""

    def __init__(self, spec, network):
        self.spec = spec
        self.network = network
        self.signatures = {}

    def add(self, sig_id, epoch, stamp, line):
        entry = self.signatures.get(sig_id)
        if entry is None:
            entry = self.signatures[sig_id] = (_Span(), [], _Newest(MAX_FOCUS_SAMPLES))
        span, times, samples = entry
        span.add(epoch, stamp)
        if epoch is not None:
            times.append(int(epoch))
            if len(times) > 2 * MAX_FOCUS_TIMES:
                times.sort()
                del times[:-MAX_FOCUS_TIMES]
        samples.add(epoch if epoch is not None else 0.0, line[:MAX_SAMPLE_CHARS])

    def out(self):
        result = {}
        for sig_id, (span, times, samples) in self.signatures.items():
            info = span.out()
            info["times"] = sorted(times)[-MAX_FOCUS_TIMES:]
            info["samples"] = samples.items()
            result[sig_id] = info
        return result


class Summary:
    """sshd's lines counted per signature as they stream by: exact counts, bounded memory.

    ``feed(source, lines)`` takes one source's lines in any order (journalctl
    ``--reverse`` gives them newest first); ``result()`` gives the journal section's
    ``lines_read``, ``long_lines``, ``signatures``, ``causes`` and, when ``clients``
    were given, ``focus``. Lines longer than LINE_CAP are classified on their start
    and counted in ``long_lines``.
    """

    def __init__(self, max_samples=DEFAULT_MAX_SAMPLES, clients=None, now=None):
        self.max_samples = max(int(max_samples), 0)
        self.stamps = Stamps(now)
        self.lines_read = 0
        self.long_lines = 0
        self.signatures = {}
        self.focus = []
        self.notes = []
        for spec in list(clients or [])[:MAX_FOCUS_SPECS]:
            spec = _text(spec).strip()
            if not spec or any(f.spec == spec for f in self.focus):
                continue
            network = parse_client_spec(spec)
            if network is None:
                self.notes.append("client %r is not an address or a CIDR: it matches only lines naming it exactly" % spec[:64])
            self.focus.append(_Focus(spec, network))
        if clients and len(clients) > MAX_FOCUS_SPECS:
            self.notes.append("more than %d clients given: only the first %d are followed" % (MAX_FOCUS_SPECS, MAX_FOCUS_SPECS))
        self._focus_of = {}
        self._focus_addresses = set()

    def stamp(self, line):
        """(ISO stamp, epoch) of a line: ISO as printed when it is ISO, else made from the epoch."""
        stamp = line_time(line)
        epoch = self.stamps.epoch(stamp)
        if stamp and not stamp[:1].isdigit():
            stamp = iso_utc(epoch) or stamp
        return stamp, epoch

    def feed(self, source, lines):
        """Count ``lines`` (an iterable, journalctl's output) from ``source``.

        Returns (sshd lines counted, the first line, the last line): journalctl
        ``--reverse`` prints the newest first, so these say which period was read.
        """
        search = _signatures_search
        cap = LINE_CAP
        read = 0
        first = last = None
        for line in lines:
            if not line or line.startswith("-- "):
                continue  # journalctl's markers: -- Boot ... --, -- No entries --
            read += 1
            last = line
            if len(line) > cap:
                self.long_lines += 1
            m = search(line)
            if m is not None:
                self._record(m, line, source, None)
            if first is None:
                first = line
        self.lines_read += read
        return read, first, last

    def add(self, source, line, when=None):
        """Count one line (a syslog file's, already picked); ``when`` is its (stamp, epoch) when known."""
        self.lines_read += 1
        if len(line) > LINE_CAP:
            self.long_lines += 1
        m = _signatures_search(line)
        if m is not None:
            self._record(m, line, source, when)

    def _record(self, m, line, source, when):
        sig = _signature_of(m)
        entry = self.signatures.get(sig.id)
        if entry is None:
            entry = self.signatures[sig.id] = _Signature(sig, self.max_samples)
        stamp, epoch = when if when is not None else self.stamp(line)
        entry.span.add(epoch, stamp)
        entry.sources[source] = entry.sources.get(source, 0) + 1
        if epoch is not None:
            entry.bucket(epoch)
        if self.max_samples:
            entry.samples.add(epoch if epoch is not None else 0.0, line[:MAX_SAMPLE_CHARS])
        address = sig.client(m) if sig.client_groups else None
        if address is None:
            entry.clients_other += 1
            return
        focus = self._focus_for(address) if self.focus else ()
        entry.client(address, epoch, stamp, bool(focus))
        for spec in focus:
            spec.add(sig.id, epoch, stamp, line)

    def _focus_for(self, address):
        found = self._focus_of.get(address)
        if found is None:
            if len(self._focus_of) > 65536:
                self._focus_of.clear()
            network = _network_of(address)
            found = tuple(f for f in self.focus if f.spec == address or (
                network is not None and f.network is not None and f.network.version == network.version
                and f.network.overlaps(network)))
            self._focus_of[address] = found
            if found:
                self._focus_addresses.add(address)
        return found

    def result(self):
        signatures = dict((sig_id, entry.out(self._focus_addresses)) for sig_id, entry in self.signatures.items())
        causes = {}
        for info in signatures.values():
            causes[info["cause"]] = causes.get(info["cause"], 0) + info["count"]
        result = {"lines_read": self.lines_read, "long_lines": self.long_lines, "signatures": signatures, "causes": causes}
        if self.focus:
            result["focus"] = dict((f.spec, f.out()) for f in self.focus)
        return result


def summarise_lines(lines, max_samples=DEFAULT_MAX_SAMPLES, keep=None, clients=None, source="lines", now=None):
    """Count the signatures in ``lines`` (an iterable of journal/syslog lines, any order).

    ``keep(line)``, when given, picks the lines that count (the sshd filter for a syslog file).
    Marker lines of journalctl (``-- Boot ... --``, ``-- No entries --``) are skipped.
    Returns ``{"lines_read", "long_lines", "signatures", "causes"}`` (and ``focus`` with ``clients``).
    """
    summary = Summary(max_samples=max_samples, clients=clients, now=now)
    summary.feed(source, (line for line in lines if keep(line)) if keep is not None else lines)
    result = summary.result()
    if summary.notes:
        result["notes"] = summary.notes
    return result


# --- boots -------------------------------------------------------------------------------------
# "  0 db3b...c8 Wed 2026-11-25 08:00:50 UTC Wed 2026-11-25 08:10:05 UTC" (the two times are joined by an
# em dash on systemd 247). Both times have a fixed shape, so the pattern is linear (no lazy group before a run
# of spaces).
_LISTED_TIME = r"[A-Z][a-z]{2} \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?: [A-Za-z][A-Za-z0-9+/_:-]{0,63})?"
_BOOT_TEXT = re.compile(
    r"^ {0,8}(?P<index>-?\d{1,9}) {1,8}(?P<boot_id>[0-9a-f]{32}) {1,8}(?P<first>" + _LISTED_TIME + r")"
    r" {0,8}(?:\u2014| ) {0,8}(?P<last>" + _LISTED_TIME + r") {0,8}$"
)


MAX_USEC = MAX_EPOCH * 1000000


def _usec(value):
    """journalctl's microseconds since the epoch (a number in ``--list-boots -o json``, a string in ``-o json``),
    or None for anything else (a 23-digit number from a hostile host among them)."""
    usec = value if isinstance(value, int) and not isinstance(value, bool) else to_int(value) if isinstance(value, str) else None
    return usec if usec is not None and 0 <= usec <= MAX_USEC else None


def _iso_from_usec(value):
    usec = _usec(value)
    if usec is None:
        return None
    seconds, micro = divmod(usec, 1000000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%06d+00:00" % micro


def _iso_from_listing(text):
    # "Wed 2026-11-25 08:00:49 UTC" -> "2026-11-25T08:00:49+00:00"; other zones stay as printed.
    m = re.match(r"^(?:[A-Z][a-z]{2} )?(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?: (\S+))?$", text.strip())
    if not m:
        return text.strip() or None
    if m.group(3) in (None, "UTC", "GMT"):
        return "%sT%s+00:00" % (m.group(1), m.group(2))
    return text.strip()


def parse_list_boots(text):
    """Boots from ``journalctl --list-boots`` (``-o json`` or the text table), oldest first.

    Each is ``{index, boot_id, first_entry, last_entry, first_entry_usec}``
    (``first_entry_usec`` only from JSON). Unparsable lines are skipped.
    """
    text = (text or "").strip()
    boots = []
    if text.startswith("["):
        data, dummy = load_json(text)  # never raises: a thousand "[" are refused, not a RecursionError
        if isinstance(data, list):
            for item in data:
                if not isinstance(item, dict) or not item.get("boot_id"):
                    continue
                boots.append({
                    "index": item.get("index"),
                    "boot_id": str(item.get("boot_id")),
                    "first_entry": _iso_from_usec(item.get("first_entry")),
                    "last_entry": _iso_from_usec(item.get("last_entry")),
                    "first_entry_usec": _usec(item.get("first_entry")),
                })
            return boots
    for line in text.splitlines():
        m = _BOOT_TEXT.match(line[:256])
        if not m:
            continue
        boots.append({
            "index": int(m.group("index")),
            "boot_id": m.group("boot_id"),
            "first_entry": _iso_from_listing(m.group("first").rstrip("\u2014 ")),
            "last_entry": _iso_from_listing(m.group("last")),
            "first_entry_listed": m.group("first").rstrip("\u2014 "),
        })
    return boots


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- systemd unit events -----------------------------------------------------------------------
def parse_unit_events(text, max_events=DEFAULT_MAX_EVENTS):
    """Unit events from ``journalctl -o json`` output (one JSON object a line), oldest first.

    Keeps the last ``max_events``; returns ``(events, matched)`` where ``matched``
    counts every recognised event before the cap.
    """
    events = deque(maxlen=max(int(max_events), 0))
    matched = 0
    for line in (text or "").splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        record, dummy = load_json(line)
        if not isinstance(record, dict):
            continue
        message = _field_text(record.get("MESSAGE"))
        message_id = _field_text(record.get("MESSAGE_ID"))
        event, fields = unit_event(message, message_id)
        if event is None:
            continue
        matched += 1
        item = {
            "time": _iso_from_usec(record.get("__REALTIME_TIMESTAMP")),
            "event": event,
            "message": (message or "")[:MAX_SAMPLE_CHARS],
            "message_id": message_id,
            "unit": _field_text(record.get("UNIT")),
        }
        result = _field_text(record.get("UNIT_RESULT")) or fields.get("result")
        if result:
            item["result"] = result
        n_restarts = _int_or_none(_field_text(record.get("N_RESTARTS")) or fields.get("n_restarts"))
        if n_restarts is not None:
            item["n_restarts"] = n_restarts
        code = _field_text(record.get("EXIT_CODE")) or fields.get("code")
        if code:
            item["exit_code"] = code
        status = _field_text(record.get("EXIT_STATUS")) or fields.get("status")
        if status:
            item["exit_status"] = status
        events.append(item)
    return list(events), matched


def parse_unit_event_lines(lines, max_events=DEFAULT_MAX_EVENTS):
    """Unit events from text lines (``... systemd[1]: ssh.service: Failed with result ...``)."""
    events = deque(maxlen=max(int(max_events), 0))
    matched = 0
    for line in lines:
        i = line.find("]: ")
        if i < 0:
            continue
        event, fields = unit_event(line[i + 3:])
        if event is None:
            continue
        matched += 1
        item = {"time": line_time(line), "event": event, "message": line[i + 3:][:MAX_SAMPLE_CHARS], "message_id": None}
        for key, name in (("result", "result"), ("n_restarts", "n_restarts"), ("code", "exit_code"), ("status", "exit_status")):
            if fields.get(key):
                item[name] = int(fields[key]) if key == "n_restarts" else fields[key]
        events.append(item)
    return list(events), matched


def _field_text(value):
    # journald JSON gives binary fields as a list of byte values.
    if value is None:
        return None
    if isinstance(value, list):
        if value and all(isinstance(v, int) for v in value):
            return bytes(bytearray(v & 0xFF for v in value)).decode("utf-8", "replace")
        return _field_text(value[0]) if value else None
    return str(value)


# --- the collector -----------------------------------------------------------------------------
def _unit_names(unit):
    if not unit:
        return DEFAULT_UNITS
    names = []
    for name in unit if isinstance(unit, (list, tuple)) else [unit]:
        name = str(name).strip()
        if name and "." not in name:
            name += ".service"
        if name:
            names.append(name)
    return tuple(names) or DEFAULT_UNITS


def journal_command(since, units):
    """sshd's lines in the window, newest first: when the time budget ends the read, what is left is the oldest."""
    argv = ["journalctl", "--no-pager", "-q", "-o", "short-iso-precise", "--reverse"]
    if since:
        argv += ["--since", since]
    argv += ["_SYSTEMD_UNIT=%s" % u for u in units]
    argv += ["+"] + ["SYSLOG_IDENTIFIER=%s" % i for i in SSHD_IDENTIFIERS]
    return argv


def events_command(since, units, max_events):
    argv = ["journalctl", "--no-pager", "-q", "-o", "json", "--output-fields=" + EVENT_FIELDS,
            "-n", str(max(max_events, 1) * 20)]
    if since:
        argv += ["--since", since]
    argv += ["_PID=1"] + ["UNIT=%s" % u for u in units]
    socket_units = _socket_units(units)
    argv += ["UNIT=%s" % u for u in socket_units]
    return argv


def _socket_units(units):
    return [u[:-len(".service")] + ".socket" for u in units if u.endswith(".service")]


def _journal_problem(result):
    err = (result.stderr or "").strip()
    lowered = err.lower()
    if "insufficient permissions" in lowered or "permission denied" in lowered or "not seeing messages" in lowered:
        return "journalctl cannot read the whole journal as this user (%s); run with become: true" % err.splitlines()[0]
    return None


_ROTATED = re.compile(r"^\.(?P<n>\d{1,6})(?P<gz>\.gz)?$|^-(?P<date>\d{8,10})(?P<gz2>\.gz)?$")


def rotated_files(base, paths):
    """``base`` and its rotations among ``paths``, newest first: ``auth.log``, ``auth.log.1``,
    ``auth.log.2.gz``, ... (logrotate's numbers) or ``secure-20261201[.gz]`` (dateext), newest date first."""
    numbered, dated = [], []
    for path in paths:
        if not path.startswith(base) or path == base:
            continue
        m = _ROTATED.match(path[len(base):])
        if not m:
            continue
        if m.group("n") is not None:
            numbered.append((int(m.group("n")), path))
        else:
            dated.append((m.group("date"), path))
    return [base] + [p for dummy, p in sorted(numbered)] + [p for dummy, p in sorted(dated, reverse=True)]


def collect_journal(host, since=None, unit=None, max_samples=DEFAULT_MAX_SAMPLES, time_budget=DEFAULT_TIME_BUDGET,
                    max_events=DEFAULT_MAX_EVENTS, max_boots=DEFAULT_MAX_BOOTS, clients=None, now=None,
                    clock=time.monotonic):
    """sshd's journal (and auth.log/secure where the journal does not reach) in a window, summarised.

    Every line of the window is read and counted, within ``time_budget`` seconds; see the module's RETURN.
    """
    return _Collection(host, since, unit, max_samples, time_budget, max_events, max_boots, clients, now, clock).run()


class _Collection:
    """One run of the journal collector: the sources read, in order, into one Summary."""

    def __init__(self, host, since, unit, max_samples, time_budget, max_events, max_boots, clients, now, clock):
        self.host = host
        self.since = validate_since(since)
        self.units = _unit_names(unit)
        self.max_events = max(int(max_events), 0)
        self.max_boots = max(int(max_boots), 0)
        self.time_budget = float(time_budget)
        if self.time_budget <= 0 or self.time_budget != self.time_budget:
            raise ValueError("time_budget must be more than 0 seconds")
        self.clock = clock
        self.deadline = clock() + self.time_budget
        self.now = time.time() if now is None else now
        self.summary = Summary(max_samples=max_samples, clients=clients, now=self.now)
        self.since_epoch = since_to_epoch(self.since, self.now)
        self.coverage = []
        self.not_covered = []
        self.stopped_by = None
        self.unreadable = False
        self.journal_exists = False
        self.journal_start = None  # epoch of the oldest entry journald holds
        self.files_seen = False
        self.result = {
            "source": None,
            "since": self.since,
            "units": list(self.units),
            "lines_read": 0,
            "long_lines": 0,
            "signatures": {},
            "causes": {},
            "boots": [],
            "unit_events": [],
            "limits": {"time_budget_s": self.time_budget, "max_samples": int(max_samples), "max_events": self.max_events,
                       "max_boots": self.max_boots, "max_sample_chars": MAX_SAMPLE_CHARS, "line_cap": LINE_CAP,
                       "max_clients": MAX_CLIENTS, "max_clients_tracked": MAX_CLIENTS_TRACKED,
                       "max_buckets": MAX_BUCKETS},
            "truncated": False,
            "notes": list(self.summary.notes),
        }
        self.notes = self.result["notes"]

    # --- the run ---
    def run(self):
        journald_lines = None
        if self.host.which("journalctl"):
            journald_lines = self._journald()
        else:
            self.notes.append("journalctl is not installed: no journald; reading the syslog files instead")
        if self.stopped_by != "time_budget":
            if journald_lines:
                # the files add only what the journal does not hold: the window before its oldest entry
                if self.journal_start is not None and (self.since_epoch is None or self.journal_start > self.since_epoch + 1):
                    self._files(self.since_epoch, self.journal_start, quiet=True)
            else:
                if journald_lines == 0 and self.journal_exists:
                    self.notes.append("the journal has no sshd lines in the window; reading the syslog files too")
                self._files(self.since_epoch, None, quiet=False)
        return self._finish()

    def _stop(self, why, oldest=None, newest=None):
        if self.stopped_by is None:
            self.stopped_by = why
        self.not_covered.append([self.since_epoch, oldest] if newest is None else [oldest, newest])

    # --- journald ---
    def _journald(self):
        """Read the journal; the number of sshd lines it gave, or None when journald is not usable."""
        host, notes = self.host, self.notes
        if not host.is_root():
            # with -q journalctl no longer hints that it is hiding other users' and the system's entries
            notes.append("not running as root: journalctl shows only the entries this user may read "
                         "(root or the systemd-journal/adm group reads sshd's); run with become: true")
        listing = host.run(["journalctl", "--no-pager", "--list-boots", "-o", "json"])
        boots = parse_list_boots(listing.stdout) if listing.rc == 0 else []
        if listing.rc != 0:
            problem = _journal_problem(listing)
            if problem:
                self.unreadable = True
            notes.append(problem or "journalctl --list-boots failed (rc=%s): %s" % (listing.rc, (listing.stderr or "").strip()[:200]))
        self.journal_exists = bool(boots)
        if boots:
            self.journal_start = _boot_epoch(boots[0], self.summary.stamps)
        if self.since is None and boots:
            start = boots[-2] if len(boots) >= 2 else boots[-1]
            if start.get("first_entry_usec") is not None:
                self.since = "@%d" % (start["first_entry_usec"] // 1000000)
            elif start.get("first_entry_listed"):
                self.since = start["first_entry_listed"]
            self.since_epoch = _boot_epoch(start, self.summary.stamps)
            self.result["since"] = self.since
            self.result["window"] = "previous and current boot" if len(boots) >= 2 else "current boot"
        elif self.since is None:
            self.result["window"] = "whole journal (the boot list was not readable)" if listing.rc != 0 else "whole journal"
        else:
            self.result["window"] = "since"
        if len(boots) == 1:
            notes.append("the journal holds one boot only (a container, or no persistent journal): reboots cannot show")
        self.result["boots"] = [dict((k, b[k]) for k in ("index", "boot_id", "first_entry", "last_entry"))
                                for b in boots[-self.max_boots:]] if self.max_boots else []
        if len(boots) > self.max_boots:
            self.result["truncated"] = True

        stream = host.stream(journal_command(self.since, self.units), deadline=self.deadline, clock=self.clock)
        try:
            read, newest, oldest = self.summary.feed("journald", stream)
        finally:
            stream.close()
        if stream.missing:
            notes.append("journalctl could not be run")
            return None
        problem = _journal_problem(stream)
        if problem:
            notes.append(problem)
            self.unreadable = True
        if read or newest:
            self.journal_exists = True
        oldest_epoch = self.summary.stamp(oldest)[1] if oldest else None
        if stream.stopped == "time_budget":
            self._stop("time_budget", oldest_epoch)
            self.result["truncated"] = True
            notes.append("the time budget (%g s) ended the journal read: sshd lines from %s back to %s were read; "
                         "older ones were not" % (self.time_budget, iso_utc(self.summary.stamp(newest)[1]) or "?",
                                                  iso_utc(oldest_epoch) or "?"))
        elif stream.rc != 0:
            notes.append("journalctl failed (rc=%s): %s" % (stream.rc, (stream.stderr or "").strip()[:200]))
            if not read:
                return None
            self._stop("journalctl exited with rc %s" % stream.rc, oldest_epoch)
        if not self.journal_exists:
            notes.append("journald holds no entries at all (no journal files: Storage=none, or nothing logged yet)")
        else:
            start = self.since_epoch if self.stopped_by is None else oldest_epoch
            if self.journal_start is not None and (start is None or self.journal_start > start):
                start = self.journal_start
            self.coverage.append({"source": "journald", "from": start, "to": self.now, "lines": read})
        if read:
            self.result["source"] = "journald"
        self._events()
        return read

    def _events(self):
        events = self.host.run(events_command(self.since, self.units, self.max_events))
        if events.rc == 0:
            self.result["unit_events"], matched = parse_unit_events(events.stdout, self.max_events)
            if matched > self.max_events:
                self.result["truncated"] = True
        else:
            self.notes.append("journalctl could not list the unit's systemd events (rc=%s): %s"
                              % (events.rc, (events.stderr or "").strip()[:200]))

    # --- syslog files ---
    def _files(self, low, high, quiet):
        """Count the sshd lines of auth.log/secure and their rotations that fall in [low, high) (None: open)."""
        host, notes = self.host, self.notes
        base = next((path for path in LOG_FILES if host.exists(path)), None)
        if base is None:
            if not quiet:
                notes.append("no sshd log file: neither %s exists" % " nor ".join(LOG_FILES))
            return
        self.files_seen = True
        paths = rotated_files(base, host.glob(base + ".*") + host.glob(base + "-*"))
        want_events = not self.result["unit_events"]
        event_units = tuple(self.units) + tuple(_socket_units(self.units))
        events = _Newest(max(self.max_events, 1) * 4)
        newer_from = None  # where the file read before (the next newer one) begins
        for path in paths:
            mtime = host.mtime(path)
            if low is not None and mtime is not None and mtime < low:
                break  # this file, and every older one, ends before the window
            stream = host.stream_file(path, deadline=self.deadline, clock=self.clock)
            counted, first, last = 0, None, None
            stamps = self.summary.stamp
            add = self.summary.add
            try:
                for line in stream:
                    if not line:
                        continue
                    if first is None:
                        first = line
                    last = line
                    ident = line_identifier(line)
                    if ident in SSHD_IDENTIFIERS:
                        when = stamps(line)
                        epoch = when[1]
                        if epoch is None:
                            if high is not None:
                                continue  # cannot tell whether the journal holds it
                        elif (low is not None and epoch < low) or (high is not None and epoch >= high):
                            continue
                        add(path, line, when)
                        counted += 1
                    elif want_events and ident == "systemd" and any(u in line for u in event_units):
                        epoch = self.summary.stamp(line)[1]
                        if (low is None or (epoch or low) >= low) and (high is None or (epoch or 0) < high):
                            events.add(epoch or 0.0, line)
            finally:
                stream.close()
            if stream.missing or (first is None and not stream.error):
                continue  # absent or empty
            first_epoch = self.summary.stamp(first)[1] if first else None
            last_epoch = self.summary.stamp(last)[1] if last else None
            live = path == base
            if stream.error:
                self.unreadable = self.unreadable or not counted
                notes.append("%s could not be read%s: %s" % (path, " to its end" if first else "", stream.error))
                self._stop("unreadable %s" % path, first_epoch if first else None,
                           newer_from if newer_from is not None else (self.now if live else None))
                if not first:
                    continue
            if counted and self.result["source"] is None:
                self.result["source"] = base
            begin = first_epoch if low is None or (first_epoch is not None and first_epoch > low) else low
            end = self.now if live and not stream.stopped else last_epoch
            if high is not None and end is not None and end > high:
                end = high
            self.coverage.append({"source": path, "from": begin, "to": end, "lines": counted})
            if stream.stopped == "time_budget":
                self.result["truncated"] = True
                self._stop("time_budget", first_epoch, None)
                self.not_covered.append([last_epoch, newer_from if newer_from is not None else self.now])
                notes.append("the time budget (%g s) ended the read of %s; older files were not read" % (self.time_budget, path))
                break
            newer_from = first_epoch
        if want_events and events.heap:
            self.result["unit_events"], matched = parse_unit_event_lines(events.items(), self.max_events)
        if not self.journal_exists and self.result["source"] in LOG_FILES:
            notes.append("no journald: boots are not available from %s" % base)

    # --- the result ---
    def _finish(self):
        result = self.result
        result.update(self.summary.result())
        result["window"] = result.get("window") or ("since" if self.since else "whole file")
        coverage = sorted(self.coverage, key=lambda c: (c["from"] is None, c["from"] or 0))
        if len(coverage) > MAX_COVERAGE:
            result["truncated"] = True
            coverage = coverage[-MAX_COVERAGE:]
        result["coverage"] = [{"source": c["source"], "from": iso_utc(c["from"]), "to": iso_utc(c["to"]), "lines": c["lines"]}
                              for c in coverage]
        covered_from = min([c["from"] for c in coverage if c["from"] is not None] or [None]) if coverage else None
        gaps = [gap for gap in self.not_covered if gap[1] is None or gap[0] is None or gap[1] > gap[0]]
        if (self.stopped_by is None and self.since_epoch is not None and covered_from is not None
                and covered_from > self.since_epoch + 1):
            gaps.append([self.since_epoch, covered_from])
            self.notes.append("no source reaches back to the start of the window: nothing was read from %s to %s"
                              % (iso_utc(self.since_epoch), iso_utc(covered_from)))
        result["period"] = {
            "requested_from": iso_utc(self.since_epoch),
            "from": iso_utc(covered_from if covered_from is not None else self.since_epoch),
            "to": iso_utc(self.now),
            "complete": self.stopped_by is None,
            "stopped_by": self.stopped_by,
            "not_covered": [[iso_utc(a), iso_utc(b)] for a, b in sorted(gaps, key=lambda g: g[0] or 0)][:MAX_COVERAGE],
        }
        if result["lines_read"]:
            result["availability"] = "ok"
        elif self.unreadable:
            result["availability"] = "unreadable"
        elif self.journal_exists or self.files_seen:
            result["availability"] = "journal_without_sshd_lines"
        else:
            result["availability"] = "no_journal"
        if result["source"] is None and self.journal_exists:
            result["source"] = "journald"
        if result["long_lines"]:
            self.notes.append("%d sshd line(s) longer than %d characters were classified on their first %d characters"
                              % (result["long_lines"], LINE_CAP, LINE_CAP))
        if not result["lines_read"]:
            self.notes.append({
                "no_journal": "no sshd log at all: no journal entries and no %s" % " or ".join(LOG_FILES),
                "unreadable": "sshd's log could not be read (permissions): nothing is known about its lines",
                "journal_without_sshd_lines": "the log holds no sshd line in the window",
            }[result["availability"]])
        for note in getattr(self.host, "notes", []):
            if note not in self.notes:
                self.notes.append(note)
        return result


def _boot_epoch(boot, stamps):
    """Epoch of a boot's first entry (from the JSON list's microseconds, else its ISO time)."""
    if boot.get("first_entry_usec") is not None:
        return boot["first_entry_usec"] / 1000000.0
    first = boot.get("first_entry")
    return stamps.epoch(first) if first and first[:1].isdigit() else None
