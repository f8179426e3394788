# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Incident mode: what one client, at one time, with one error message, makes of each host's findings.

The admin asks "why was MY connection from 198.51.100.7 to web3 reset at 14:03, my
ssh printed X". ``parse_inputs`` checks and normalises the four inputs
(``diagnose_client``, ``diagnose_at``, ``diagnose_window``,
``diagnose_client_error``); ``scope_host`` takes one host's findings (each with its
``scope``, CONTRACTS.md section 4) and returns one **verdict** for the incident and
the causes **ruled out**, each with its reason:

* the client: a finding that hits only other clients, or spares this one, is ruled
  out (``hosts.deny line 3 denies 203.0.113.0/24, not 198.51.100.7``);
* the time: a finding whose dated events all lie outside the window, and whose state
  does not hold through it, is ruled out (``the restart was 5 h before``);
* the client's message: a cause that ends connections otherwise than the message
  says is ruled out (an idle timeout does not print ``Connection refused``);
  ``_client_errors`` is the catalogue.

What survives is ranked by how tightly its evidence ties it to this client and this
time: the client's own address in a dated line inside the window beats a dated event
that hits every client, which beats a state that merely holds now. A finding with no
tie at all never becomes the verdict: "nothing fits" is an answer.

Pure: no I/O, no Ansible imports. Runs on the controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import re
import time

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _client_errors
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _events
from ansible_collections.sshdoctor.connreset.plugins.module_utils._client_address import (
    normalize_client_specs,
    spec_contains,
    specs_overlap,
)

DEFAULT_WINDOW_MINUTES = 15
MAX_WINDOW_MINUTES = 7 * 24 * 60
# diagnose_at may be a little ahead of the controller's clock (another machine's clock), not more.
FUTURE_SLACK_SECONDS = 300
MAX_CLIENT_ERROR = _client_errors.MAX_TEXT
MAX_TIE_LINES = 4

# How tightly a finding is tied to the incident.
TIE_NONE, TIE_STATE, TIE_EVENT, TIE_CLIENT = 0, 1, 2, 3
TIE_WORDS = {TIE_STATE: "a state that holds", TIE_EVENT: "an event in the window", TIE_CLIENT: "the client's own evidence"}
# Journal signatures sshd writes for every client it hits, each naming the client: when the journal
# was asked about a client (focus) and has none of these for it in the window, it was not hit this way.
# (MaxStartups and penalty drops are rate-limited from 9.8 on and periodic before: not every drop is logged.)
CLIENT_COMPLETE_SIGNATURES = frozenset((
    "wrapper_refused", "kex_no_match", "hostkey_no_match", "cipher_no_match", "mac_no_match",
    "compression_no_match", "connection_reset", "read_error_reset", "client_alive_timeout",
))

_RELATIVE = re.compile(r"^-\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hours?|d|days?)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ABSOLUTE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[ T](?P<clock>\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?\s*"
    r"(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$", re.IGNORECASE)
AT_HELP = ("ISO 8601 with or without a zone (2026-12-02T14:03:00Z, '2026-12-02 14:03', 2026-12-02T14:03+01:00; "
           "without a zone the controller's local time is assumed) or a relative time (-2h, -30m, -90s)")


class IncidentInputError(ValueError):
    """A bad incident input; the message starts with the variable's name."""


# --- inputs -----------------------------------------------------------------------------------------


def local_zone(epoch):
    """The controller's zone at ``epoch``, as the report names it: ``CET (UTC+01:00)``."""
    moment = time.localtime(epoch)
    offset = calendar.timegm(moment) - int(epoch)
    sign = "+" if offset >= 0 else "-"
    return "%s (UTC%s%02d:%02d)" % (time.strftime("%Z", moment) or "local", sign, abs(offset) // 3600,
                                    abs(offset) % 3600 // 60)


def parse_at(value, now, local_epoch=time.mktime, zone_name=local_zone):
    """``diagnose_at`` -> (epoch seconds, assumed zone or None); (None, None) when not given.

    ``local_epoch(struct_time)`` turns a zone-less time into epoch seconds in the controller's zone
    (``time.mktime``, which knows its daylight saving); ``zone_name(epoch)`` names that zone.
    """
    if value is None:
        return None, None
    text = str(value).strip()
    if not text:
        return None, None
    if text.lower() == "now":
        return int(now), None
    match = _RELATIVE.match(text.lower())
    if match:
        return int(now - float(match.group("n")) * _UNIT_SECONDS[match.group("unit")[0]]), None
    match = _ABSOLUTE.match(text)
    if not match:
        raise IncidentInputError("diagnose_at: %r is not a time; use %s" % (value, AT_HELP))
    clock = match.group("clock") or "00:00"
    whole, _dot, fraction = clock.partition(".")
    if whole.count(":") == 1:
        whole += ":00"
    try:
        parsed = time.strptime("%s %s" % (match.group("date"), whole), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise IncidentInputError("diagnose_at: %r is not a real date and time; use %s" % (value, AT_HELP))
    extra = float("0." + fraction) if fraction else 0.0
    tz = (match.group("tz") or "").upper()
    if tz:
        epoch = calendar.timegm(parsed) - _offset(tz) + extra
        zone = None
    else:
        epoch = local_epoch(parsed) + extra
        zone = zone_name(epoch)
    if epoch > now + FUTURE_SLACK_SECONDS:
        raise IncidentInputError("diagnose_at: %r is in the future (the controller's clock says %s)" % (
            value, _events.iso(now)))
    return int(epoch), zone


def _offset(tz):
    if tz in ("Z", "UTC", "GMT"):
        return 0
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)


def parse_window(value):
    """``diagnose_window``: minutes either side of the incident time (a fraction is fine), default 15."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return float(DEFAULT_WINDOW_MINUTES)
    if isinstance(value, bool):
        raise IncidentInputError("diagnose_window: %r is not a number of minutes" % (value,))
    try:
        minutes = float(value)
    except (TypeError, ValueError):
        raise IncidentInputError("diagnose_window: %r is not a number of minutes (15, or 0.5 for 30 seconds)" % (value,))
    if not 0 < minutes <= MAX_WINDOW_MINUTES:
        raise IncidentInputError("diagnose_window: %r must be above 0 and at most %d minutes (a week)" % (
            value, MAX_WINDOW_MINUTES))
    return minutes


def parse_client_error(value):
    """``diagnose_client_error``: the client's output (a string, or a list of lines), classified; None when empty."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = "\n".join(str(v) for v in value)
    if not isinstance(value, str):
        raise IncidentInputError("diagnose_client_error: give the client's output as text, not %s" % type(value).__name__)
    if not value.strip():
        return None
    if len(value) > MAX_CLIENT_ERROR:
        value = value[-MAX_CLIENT_ERROR:]  # the end of an ssh -v run is where it failed
    return _client_errors.classify(value)


def parse_inputs(client=None, at=None, window=None, client_error=None, now=None, local_epoch=time.mktime,
                 zone_name=local_zone):
    """Check and normalise the incident inputs; None when none was given (then there is no incident).

    Raises IncidentInputError naming the variable. The result is the report's ``incident`` head:
    ``{"client", "at", "at_epoch", "window_minutes", "assumed_zone", "client_error"}``.
    """
    now = time.time() if now is None else now
    try:
        clients = normalize_client_specs(client if client not in ("", None) else None, name="diagnose_client")
    except ValueError as exc:
        raise IncidentInputError(str(exc))
    epoch, zone = parse_at(at, now, local_epoch, zone_name)
    minutes = parse_window(window)
    classified = parse_client_error(client_error)
    if not clients and epoch is None and classified is None:
        return None
    return {
        "client": clients,
        "at": _events.iso(epoch) if epoch is not None else None,
        "at_epoch": epoch,
        "window_minutes": minutes,
        "assumed_zone": zone,
        "client_error": classified,
    }


def from_checked(value, now=None):
    """The incident again from what ``parse_inputs`` returned (as ``diagnose_report`` gets it), checked once more.

    ``at`` is absolute by then (UTC), so a relative time keeps the moment it was first read; the zone that
    was assumed then is kept. None for None or an empty dict.
    """
    if not value:
        return None
    if not isinstance(value, dict):
        raise IncidentInputError("incident: expected what diagnose_incident returned, not %s" % type(value).__name__)
    error = value.get("client_error")
    text = error.get("text") if isinstance(error, dict) else error
    checked = parse_inputs(client=value.get("client"), at=value.get("at"), window=value.get("window_minutes"),
                           client_error=text, now=now)
    if checked is not None and value.get("assumed_zone"):
        checked["assumed_zone"] = str(value["assumed_zone"])
    return checked


# --- scoping one host -------------------------------------------------------------------------------


def window_of(incident):
    """(start, end) epoch seconds of the incident's window, or None without a time."""
    if not incident or incident.get("at_epoch") is None:
        return None
    half = float(incident.get("window_minutes") or DEFAULT_WINDOW_MINUTES) * 60
    return incident["at_epoch"] - half, incident["at_epoch"] + half


def _few(addresses):
    """``a, b, c, d, e and 3 more``: the first five of a list of addresses."""
    return ", ".join(addresses[:5]) + (" and %d more" % (len(addresses) - 5) if len(addresses) > 5 else "")


def ago(delta):
    """``5 h 2 min before`` / ``40 s after`` for a signed number of seconds (event minus incident)."""
    word = "before" if delta < 0 else "after"
    seconds = abs(int(delta))
    if seconds < 120:
        text = "%d s" % seconds
    elif seconds < 3600:
        text = "%d min" % (seconds // 60)
    elif seconds < 2 * 86400:
        text = "%d h %d min" % (seconds // 3600, seconds % 3600 // 60)
    else:
        text = "%d days" % (seconds // 86400)
    return "%s %s" % (text, word)


def _clock(epoch):
    return _events.iso(epoch)[11:19] + "Z" if epoch is not None else "?"


def _matches_client(event_client, specs):
    return event_client is not None and any(specs_overlap(event_client, spec) for spec in specs)


class Context:
    """What every finding of one host is checked against."""

    def __init__(self, incident, ev, clients):
        self.incident = incident or {}
        self.ev = ev
        self.clients = list(clients or [])
        self.window = window_of(incident)
        self.at = self.incident.get("at_epoch")
        self.error = self.incident.get("client_error")
        if self.error is not None and not self.error.get("known"):
            self.error = None
        self.covered_from = journal_start(ev)
        self.focus = ev.get("journal", "focus") if isinstance(ev.get("journal", "focus"), dict) else {}

    @property
    def who(self):
        return ", ".join(self.clients) or "the client"

    def journal_covers_window(self):
        if not self.window:
            return True
        if self.covered_from is None:
            return self.ev.has("journal")
        return self.covered_from <= self.window[0]

    def focused(self):
        """The journal's focus entries for the incident's client(s), or None when it was not asked about them."""
        entries = [self.focus[spec] for spec in self.focus if any(specs_overlap(spec, c) for c in self.clients)]
        return entries or None


def journal_start(ev):
    """Epoch seconds from which the journal was read, when the evidence says (period, then since)."""
    period = ev.get("journal", "period")
    if isinstance(period, dict):
        start = _events.epoch_of(period.get("from"))
        if start is not None:
            return start
    since = ev.get("journal", "since")
    if isinstance(since, str) and since.startswith("@"):
        try:
            return float(since[1:])
        except ValueError:
            return None
    return None


def assess(item, ctx):
    """One finding against the incident: ``{"cause", "fits", "why", "tie", "ties", "finding", "undecided"}``.

    The client is checked first, then the time, then the client's message: the first that rules the
    finding out gives the reason (the most concrete one: a rule's source, an event's time, then words).
    """
    result = _client_and_time(item, ctx)
    if ctx.error and (result["fits"] or result["undecided"]):
        scope = item.get("scope") if isinstance(item.get("scope"), dict) else {}
        reason = _client_errors.contradiction(ctx.error, item["cause"])
        if not reason and not _client_errors.phase_fits(ctx.error, scope.get("phase")):
            reason = ("the client's connection died during %s (it printed %r); this finding cuts connections during %s: %s" % (
                " / ".join(_phases_of(ctx.error)), ctx.error.get("line"), scope.get("phase"), item["summary"]))
        if reason:
            result.update(fits=False, why=reason, undecided=False, tie=TIE_NONE, ties=[])
    return result


def _client_and_time(item, ctx):
    scope = item.get("scope") if isinstance(item.get("scope"), dict) else {}
    result = {"cause": item["cause"], "fits": True, "why": None, "tie": TIE_NONE, "ties": [], "finding": item,
              "undecided": False}

    def rule_out(why, undecided=False):
        result.update(fits=False, why=why, undecided=undecided)
        return result

    # the client
    named = False
    if ctx.clients:
        spared = [n for n in scope.get("not_clients") or [] if any(spec_contains(n, c) for c in ctx.clients)]
        hits = scope.get("clients")
        if spared:
            return rule_out("it spares %s (%s)%s" % (ctx.who, scope.get("basis") or "exempted: %s" % ", ".join(spared),
                                                     "; it hits %s" % _few(hits) if isinstance(hits, list) and hits else ""))
        if isinstance(hits, list):
            if not any(specs_overlap(h, c) for h in hits for c in ctx.clients):
                return rule_out("%s%s hits %s, not %s" % (
                    scope.get("basis") or item["summary"].rstrip("."), "" if scope.get("basis") else ":", _few(hits), ctx.who))
            named = True
    # the time
    events = [e for e in scope.get("events") or [] if isinstance(e, dict) and isinstance(e.get("epoch"), (int, float))]
    own = [e for e in events if _matches_client(e.get("client"), ctx.clients)] if ctx.clients else []
    anyone = [e for e in events if e.get("client") is None]
    others = [e for e in events if e.get("client") is not None and e not in own]
    if ctx.window:
        start, end = ctx.window
        own_in = [e for e in own if _events.in_window(e, start, end)]
        # a coarse bucket that reaches into the window counts only for lines the client's exact times do not explain
        anyone_in = [e for e in anyone if _events.in_window(e, start, end) and _unexplained(e, own)]
        others_in = [e for e in others if _events.in_window(e, start, end)]
        if own_in:
            result["tie"] = TIE_CLIENT
            result["ties"] = [_event_line(own_in, "of %s" % ctx.who, ctx)]
            return result
        if anyone_in and ctx.clients and _client_complete(item, anyone_in) and ctx.focused() is not None \
                and ctx.journal_covers_window():
            # sshd names every client it does this to, and names this one in no such line in the window
            return rule_out("sshd logs every %s with the client's address and names %s in none of those in the window "
                            "(%s)" % (" / ".join(sorted(set(e["what"] for e in anyone_in))), ctx.who,
                                      _event_line(anyone_in, "of every client", ctx)))
        if anyone_in and (named or scope.get("clients") is None):
            result["tie"] = TIE_CLIENT if named else TIE_EVENT
            result["ties"] = [_event_line(anyone_in, "of every client" if not named else "", ctx)]
            if others_in:
                result["ties"].append(_event_line(others_in, "naming other clients", ctx))
            return result
        if others_in and not anyone_in and scope.get("clients") is not None and not named:
            return rule_out("in the window its lines name %s, not %s" % (
                ", ".join(sorted(set(str(e["client"]) for e in others_in))[:5]), ctx.who))
        if scope.get("ongoing"):
            since = scope.get("since_epoch")
            if since is not None and since > end:
                return rule_out("it began at %s, %s the incident" % (_events.iso(since), ago(since - ctx.at)))
            result["tie"] = TIE_CLIENT if named else TIE_STATE
            result["ties"] = ["%s: holds now%s" % (
                scope.get("basis") or item["summary"].rstrip("."),
                (", since %s (%s the incident)" % (_events.iso(since), ago(since - ctx.at))) if since is not None
                else ", since before the evidence begins")]
            return result
        if not ctx.journal_covers_window() and (events or not scope.get("ongoing")):
            return rule_out("the journal read begins at %s, after the window opens: whether it fits cannot be told"
                            % _events.iso(ctx.covered_from), undecided=True)
        if events:
            nearest = min(events, key=lambda e: abs(e["epoch"] - ctx.at))
            return rule_out("its nearest event (%s%s) was at %s, %s (window %s)" % (
                nearest["what"], (" of %s" % nearest["client"]) if nearest.get("client") else "",
                _events.iso(nearest["epoch"]), ago(nearest["epoch"] - ctx.at), _window_words(ctx)))
        return rule_out("nothing in its evidence is dated in the window, and the state it describes does not hold now")
    # No time given: the client and the message decide.
    if own:
        result["tie"] = TIE_CLIENT
        result["ties"] = [_event_line(own, "of %s" % ctx.who, ctx)]
    elif named:
        result["tie"] = TIE_CLIENT
        result["ties"] = ["%s: names %s" % (scope.get("basis") or item["summary"].rstrip("."), ctx.who)]
    elif anyone:
        result["tie"] = TIE_EVENT
        result["ties"] = [_event_line(anyone, "of every client", ctx)]
    elif scope.get("ongoing"):
        result["tie"] = TIE_STATE
        result["ties"] = ["%s: holds now" % (scope.get("basis") or item["summary"].rstrip("."))]
    return result


def _unexplained(bucket, own):
    """True when a bucket of every client's lines holds more than the client's own exactly dated ones."""
    mine = sum(int(o.get("count") or 1) for o in own if o["what"] == bucket["what"] and o.get("span_s", 0) == 0
               and bucket["epoch"] <= o["epoch"] <= bucket["epoch"] + int(bucket.get("span_s") or 0))
    return int(bucket.get("count") or 1) > mine


def _phases_of(error):
    if error.get("progress") in (error.get("phases") or []) or len(error.get("phases") or []) <= 1:
        return [error.get("phase")]
    return error.get("phases") or [error.get("phase")]


def _window_words(ctx):
    minutes = float(ctx.incident.get("window_minutes") or DEFAULT_WINDOW_MINUTES)
    return "%s ± %s" % (_events.iso(ctx.at), ("%g min" % minutes) if minutes >= 1 else "%g s" % (minutes * 60))


def _client_complete(item, events):
    return all(e["what"] in CLIENT_COMPLETE_SIGNATURES for e in events)


def _event_line(events, whose, ctx):
    """``journal: maxstartups_drop of 198.51.100.7 x2 at 14:03:12Z .. 14:03:14Z (inside the window)``."""
    count = sum(int(e.get("count") or 1) for e in events)
    first = min(e["epoch"] for e in events)
    last = max(e["epoch"] + int(e.get("span_s") or 0) for e in events)
    whats = ", ".join(sorted(set(str(e["what"]) for e in events)))
    when = "at %s" % _events.iso(first) if first == last else "%s .. %s" % (_events.iso(first), _clock(last))
    near = (", %s" % ago(first - ctx.at)) if ctx.at is not None and first == last else ""
    return "evidence: %s%s x%d %s%s" % (whats, (" " + whose) if whose else "", count, when, near)


def scope_host(findings, ev, incident, clients=None, status="diagnosed"):
    """One host's answer to the incident: ``{"client", "verdict", "ruled_out", "undecided", "summary", "notes"}``.

    ``findings``: the host's findings (with ``scope``); ``ev``: its ``_rules.Evidence``; ``clients``: the
    client specs for this host (the incident's, else the address its evidence says Ansible came from).
    """
    ctx = Context(incident, ev, clients)
    notes = []
    if status != "diagnosed":
        notes.append("no evidence from the host (%s): only the controller's probe speaks" % status)
    if ctx.window and ev.has("journal") and not ctx.journal_covers_window():
        notes.append("the journal read begins at %s, after the window opens (set diagnose_since to read further back)"
                     % _events.iso(ctx.covered_from))
    if ctx.window and not ev.has("journal") and status == "diagnosed":
        notes.append("no journal from this host: nothing can be dated")
    if not ctx.clients and incident and not incident.get("client"):
        notes.append("no client given and the controller's address on this host is not known: every client counts")
    assessed = [assess(item, ctx) for item in findings]
    fitting = [a for a in assessed if a["fits"] and a["tie"] > TIE_NONE]
    # An advisory (info) that merely holds now answers only when it is what the client's message points to first.
    fitting = [a for a in fitting if a["tie"] > TIE_STATE or a["finding"]["severity"] != "info"
               or (ctx.error and (ctx.error.get("causes") or [None])[0] == a["cause"])]
    fitting.sort(key=lambda a: (-a["tie"], -_error_rank(a["cause"], ctx.error),
                                ("critical", "warning", "info").index(a["finding"]["severity"]),
                                -a["finding"]["confidence"]))
    verdict = _verdict(fitting[0], ctx) if fitting else None
    ruled_out = [{"cause": a["cause"], "why": a["why"]} for a in assessed if not a["fits"] and not a["undecided"]]
    undecided = [{"cause": a["cause"], "why": a["why"]} for a in assessed if a["undecided"]]
    others = [{"cause": a["cause"], "why": "fits too, less tightly (%s)" % TIE_WORDS.get(a["tie"], "no tie")}
              for a in fitting[1:]]
    unplaced = [a for a in assessed if a["fits"] and a not in fitting]
    for a in unplaced:
        ruled_out.append({"cause": a["cause"], "why": "nothing ties it to %s at that time (%s)" % (
            ctx.who, "an advisory: it holds on this host whoever connects" if a["finding"]["severity"] == "info"
            else "no dated event, no named client")})
    if verdict:
        summary = verdict["summary"]
    elif findings:
        summary = "Nothing in this host's evidence fits %s%s: every finding is ruled out or unrelated." % (
            ctx.who, (" at %s" % _events.iso(ctx.at)) if ctx.at is not None else "")
    else:
        summary = "Nothing in this host's evidence explains a reset%s." % (
            (" of %s" % ctx.who) if ctx.clients else "")
    return {"client": ctx.clients, "verdict": verdict, "ruled_out": ruled_out, "undecided": undecided,
            "also_fits": others, "summary": summary, "notes": notes}


def _error_rank(cause, error):
    """How well the client's message points to ``cause``: its first listed cause scores highest."""
    if not error:
        return 0
    causes = error.get("causes") or []
    return (len(causes) - causes.index(cause)) if cause in causes else 0


def _verdict(assessed, ctx):
    item = assessed["finding"]
    confidence = item["confidence"] * {TIE_CLIENT: 1.0, TIE_EVENT: 0.9, TIE_STATE: 0.7}.get(assessed["tie"], 0.5)
    if ctx.error and item["cause"] in (ctx.error.get("causes") or []):
        confidence += 0.05
    lines = assessed["ties"][:MAX_TIE_LINES]
    if ctx.error:
        lines.append("client: printed %r, which fits %s" % (ctx.error.get("line"), item["cause"]))
    tie = assessed["ties"][0] if assessed["ties"] else ""
    return {
        "cause": item["cause"],
        "severity": item["severity"],
        "confidence": round(max(0.05, min(0.99, confidence)), 2),
        "summary": item["summary"],
        "tie": TIE_WORDS.get(assessed["tie"]),
        "why": tie,
        "evidence": lines + list(item.get("evidence") or []),
        "fix": item["fix"],
        "automated_fix": item.get("automated_fix"),
    }
