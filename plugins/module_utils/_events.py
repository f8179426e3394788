# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dated events from one host's evidence: the one place that turns evidence into "what happened when".

The rules put these events in each finding's ``scope`` (CONTRACTS.md section 4),
``_incident`` checks them against the incident's time and client, ``_fleet``
lines them up across hosts, and the report draws them on the timeline. An event::

    {"epoch": 1795000000, "span_s": 60, "what": "maxstartups_drop", "kind": "maxstartups",
     "client": "198.51.100.7" or None, "count": 3}

``epoch`` is integer seconds (UTC); ``span_s`` how long after ``epoch`` the event may
lie (a histogram bucket's resolution, the range between a client's first and last
line; 0 for an instant); ``client`` the address or client spec the event is about,
or None when it is about every client (a restart, a boot) or not known.

The functions read through ``_rules.Evidence`` (passed in as ``ev``), so a missing
or failed section reads as empty. Pure: no I/O, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.sshdoctor.connreset.plugins.module_utils._client_address import spec_contains

# Kinds, in the order the timeline's legend lists them.
KINDS = ("boot", "restart", "oom", "maxstartups", "penalty", "ban", "reset", "refused", "mismatch", "timeout", "other")
# Journal signatures by the cause they point to -> the event's kind.
KIND_OF_CAUSE = {
    "maxstartups_throttling": "maxstartups",
    "source_penalty": "penalty",
    "sshd_restarted": "restart",
    "oom_kill": "oom",
    "tcp_wrappers_denied": "refused",
    "protocol_mismatch": "mismatch",
    "idle_timeout": "timeout",
}
# Established sessions reset from the far side (the kind "reset"); the preauth resets and banner
# probes are the background of every host and are not drawn.
RESET_SIGNATURES = ("connection_reset", "read_error_reset")
# systemd's events about sshd's unit -> kind (see _signatures.UNIT_EVENTS)
KIND_OF_UNIT_EVENT = {
    "main_process_killed": "restart",
    "main_process_exited": "restart",
    "restart_scheduled": "restart",
    "start_limit_hit": "restart",
    "failed_result": "restart",
    "stopped": "restart",
    "started": "restart",
    "oom_killed": "oom",
}
MAX_EVENTS = 50
# A boot known only from /proc/uptime: in a container that is the machine's, shared by every container on it.
UPTIME_BOOT = "boot (from /proc/uptime)"
MAX_HOST_EVENTS = 400


def epoch_of(stamp):
    """Seconds since the epoch of an ISO 8601 time (``2026-11-25T08:00:49.123+00:00``, ``...Z``), or None.

    A time without a zone is read as UTC (the collectors write UTC or give the offset).
    """
    if not isinstance(stamp, str) or not stamp:
        return None
    text = stamp.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]  # +0000 -> +00:00
    head, dot, rest = text.partition(".")
    if dot:  # fromisoformat before 3.11 wants 3 or 6 digits of fraction
        digits = rest[:len(rest) - len(rest.lstrip("0123456789"))]
        text = head + "." + (digits + "000000")[:6] + rest[len(digits):]
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def iso(epoch):
    """``2026-12-02T14:03:07Z`` for integer/float epoch seconds."""
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def event(epoch, what, kind, client=None, count=1, span_s=0):
    return {"epoch": int(epoch), "span_s": max(0, int(span_s)), "what": what, "kind": kind if kind in KINDS else "other",
            "client": client, "count": max(1, int(count))}


def kind_of_signature(sig_id, cause):
    if sig_id in RESET_SIGNATURES:
        return "reset"
    return KIND_OF_CAUSE.get(cause, "other")


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _clipped(start, resolution, first, last, sig_id, kind, count):
    """A histogram bucket's event, narrowed to the signature's exact first and last line where they fall in it
    (a single line at 15:53:12 is not "somewhere in 15:53:00 .. 15:54:00")."""
    end = start + resolution
    low = max(start, int(first)) if first is not None else start
    high = min(end, int(last) + (0 if last == int(last) else 1)) if last is not None else end
    if low > high:  # first/last disagree with the bucket: keep the bucket
        low, high = start, end
    return event(low, sig_id, kind, None, count, high - low)


def signature_events(ev, sig_ids, clients=True):
    """Events of journal signatures ``sig_ids``.

    From each signature's ``histogram`` (every client, one event per bucket), else its first and last
    line (one event spanning them); with ``clients``, also per client: the journal's ``focus`` times
    for the requested clients (exact), and the per-address tallies (first to last line).
    """
    signatures = ev.get("journal", "signatures")
    signatures = signatures if isinstance(signatures, dict) else {}
    focus = ev.get("journal", "focus") if isinstance(ev.get("journal", "focus"), dict) else {}
    out = []
    for sig_id in sig_ids:
        info = signatures.get(sig_id)
        if not isinstance(info, dict) or _as_int(info.get("count")) <= 0:
            continue
        kind = kind_of_signature(sig_id, info.get("cause"))
        histogram = info.get("histogram") if isinstance(info.get("histogram"), dict) else {}
        buckets = histogram.get("buckets") if isinstance(histogram.get("buckets"), list) else None
        if buckets:
            resolution = _as_int(histogram.get("resolution_s")) or 60
            first, last = epoch_of(info.get("first_seen")), epoch_of(info.get("last_seen"))
            for bucket in buckets:
                if isinstance(bucket, (list, tuple)) and len(bucket) == 2 and _as_int(bucket[1]) > 0:
                    out.append(_clipped(_as_int(bucket[0]), resolution, first, last, sig_id, kind, _as_int(bucket[1])))
        else:
            first, last = epoch_of(info.get("first_seen")), epoch_of(info.get("last_seen"))
            if first is not None or last is not None:
                first = first if first is not None else last
                last = last if last is not None else first
                out.append(event(first, sig_id, kind, None, _as_int(info.get("count")), last - first))
        if not clients:
            continue
        tallies = info.get("clients") if isinstance(info.get("clients"), dict) else {}
        # a requested client's lines come with exact times in focus: its tally would count them twice
        exact = [spec for spec in focus if isinstance(focus[spec], dict) and isinstance(focus[spec].get(sig_id), dict)]
        for address, tally in sorted(tallies.items()):
            if not isinstance(tally, dict) or any(spec_contains(spec, address) for spec in exact):
                continue
            first, last = epoch_of(tally.get("first_seen")), epoch_of(tally.get("last_seen"))
            if first is None:
                continue
            out.append(event(first, sig_id, kind, address, _as_int(tally.get("count")) or 1,
                             (last if last is not None else first) - first))
    if clients:
        out.extend(focus_events(ev, sig_ids))
    return out


def focus_events(ev, sig_ids):
    """The journal's exact times per requested client spec (CONTRACTS.md section 2 ``focus``)."""
    focus = ev.get("journal", "focus")
    focus = focus if isinstance(focus, dict) else {}
    signatures = ev.get("journal", "signatures")
    signatures = signatures if isinstance(signatures, dict) else {}
    out = []
    for spec in sorted(focus):
        per_sig = focus[spec] if isinstance(focus[spec], dict) else {}
        for sig_id in sig_ids:
            info = per_sig.get(sig_id)
            if not isinstance(info, dict):
                continue
            cause = (signatures.get(sig_id) or {}).get("cause") if isinstance(signatures.get(sig_id), dict) else None
            kind = kind_of_signature(sig_id, cause)
            times = [t for t in info.get("times") or [] if isinstance(t, (int, float))]
            for moment in times:
                out.append(event(moment, sig_id, kind, spec, 1, 0))
            if not times and epoch_of(info.get("first_seen")) is not None:
                first = epoch_of(info.get("first_seen"))
                last = epoch_of(info.get("last_seen"))
                out.append(event(first, sig_id, kind, spec, _as_int(info.get("count")) or 1,
                                 (last if last is not None else first) - first))
    return out


def unit_event_list(ev, kinds=None):
    """systemd's events about sshd's unit, dated; ``kinds``: only those event names."""
    out = []
    for item in ev.unit_events(*(kinds or ())):
        moment = epoch_of(item.get("time"))
        if moment is None:
            continue
        name = item.get("event") or "unit_event"
        kind = KIND_OF_UNIT_EVENT.get(name, "restart")
        if name == "failed_result" and item.get("result") == "oom-kill":
            kind = "oom"
        out.append(event(moment, name, kind))
    return out


def boot_events(ev):
    """One event per boot the journal (or wtmp) lists; else the one /proc/uptime implies (in a container,
    the machine's)."""
    boots = [b for b in (ev.get("journal", "boots") or []) if isinstance(b, dict)] or [
        b for b in (ev.get("host_health", "recent_boots") or []) if isinstance(b, dict)]
    out = []
    for boot in boots:
        moment = epoch_of(boot.get("first_entry") or boot.get("time"))
        if moment is not None:
            out.append(event(moment, "boot", "boot"))
    moment = proc_boot_epoch(ev)
    if not out and moment is not None:
        out.append(event(moment, UPTIME_BOOT, "boot"))
    return out


def proc_boot_epoch(ev):
    """When the kernel booted, from the host's /proc (in a container, the machine's kernel), or None.

    /proc/stat's btime is a moment of the host's own clock, the same in every report made of this evidence;
    the report's time less /proc/uptime moves with the report (a second between two reports, minutes when
    a fleet is slow), so it is only the fallback for evidence without btime.
    """
    moment = epoch_of(ev.get("host_health", "boot_time"))
    if moment is not None:
        return moment
    uptime = ev.get("host_health", "uptime_seconds")
    if isinstance(uptime, (int, float)) and not isinstance(uptime, bool) and ev.now is not None:
        return ev.now - uptime
    return None


def oom_event_list(ev, sshd_only=False):
    """Kernel OOM kills placed in this host (not another container's), dated."""
    out = []
    for item in ev.get("oom", "events") or []:
        if not isinstance(item, dict) or item.get("in_this_container") is False:
            continue
        if sshd_only and not item.get("is_sshd"):
            continue
        moment = epoch_of(item.get("time"))
        if moment is not None:
            out.append(event(moment, "OOM killed %s" % (item.get("name") or "a process"), "oom"))
    return out


def ban_events(ev):
    """Bans (CONTRACTS.md section 3) with their start, as periods until they end (or now)."""
    out = []
    bans = ev.get("bans", "banned")
    for item in bans if isinstance(bans, list) else []:
        if not isinstance(item, dict) or item.get("enforced") is False:
            continue
        since = item.get("since_epoch")
        if not isinstance(since, (int, float)):
            since = epoch_of(item.get("since"))
        if since is None:
            continue
        until = item.get("until_epoch")
        until = until if isinstance(until, (int, float)) else (ev.now if ev.now is not None else since)
        out.append(event(since, "banned by %s" % (item.get("tool") or "?"), "ban", item.get("address"), 1,
                         max(0, until - since)))
    return out


def host_events(ev):
    """Everything the timeline draws and the fleet lines up, oldest first, at most MAX_HOST_EVENTS.

    Journal events are per bucket (every client); per-client copies are left out, so nothing counts twice.
    """
    signatures = ev.get("journal", "signatures")
    ids = [sig_id for sig_id, info in sorted((signatures or {}).items()) if isinstance(info, dict)
           and (sig_id in RESET_SIGNATURES or info.get("cause") in KIND_OF_CAUSE)]
    out = boot_events(ev) + unit_event_list(ev) + oom_event_list(ev) + ban_events(ev) + signature_events(ev, ids, clients=False)
    out.sort(key=lambda e: (e["epoch"], e["kind"], e["what"]))
    return coarsen(out, MAX_HOST_EVENTS)


def in_window(item, start, end):
    """True when an event (with its span) overlaps [start, end]."""
    return item["epoch"] <= end and item["epoch"] + item.get("span_s", 0) >= start


def coarsen(events, limit=MAX_EVENTS):
    """At most ``limit`` events, oldest first: while there are more, each run of events of the same kind, what and
    client is halved by merging neighbours (counts add, spans widen), so every kind and client keeps its place."""
    events = sorted(events, key=_order)
    while len(events) > limit:
        groups = {}
        for item in events:
            groups.setdefault((item["kind"], item["what"], item["client"] or ""), []).append(item)
        if all(len(group) == 1 for group in groups.values()):
            return events[-limit:]  # nothing left to merge: keep the newest
        merged = []
        for group in groups.values():
            for index in range(0, len(group), 2):
                current = dict(group[index])
                if index + 1 < len(group):
                    nxt = group[index + 1]
                    current["count"] += nxt["count"]
                    current["span_s"] = max(current["epoch"] + current["span_s"], nxt["epoch"] + nxt["span_s"]) - current["epoch"]
                merged.append(current)
        events = sorted(merged, key=_order)
    return events


def _order(item):
    return (item["epoch"], item["kind"], item["what"], item["client"] or "")
