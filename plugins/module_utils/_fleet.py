# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet correlation: the same kind of event on several hosts within minutes is one story, not many.

Each host's dated events come from ``_events.host_events`` (boots, sshd restarts and
kills, OOM kills, MaxStartups and penalty drops, resets of established sessions,
bans). ``correlate`` lines them up across hosts: where enough hosts had the same kind
of event within ``SPAN_SECONDS`` of each other, it makes one fleet finding that names
the hosts and the explanation such a pattern usually has (a reboot wave, a
configuration push, a network device on the common path). A ban of one address on
several hosts is one finding whatever the times (one client banned everywhere).

A fleet finding::

    {"cause": "sshd_restarted", "kind": "restart", "hosts": ["web1", "web2", "web3"],
     "summary": "...", "evidence": ["web1: main_process_killed at 2026-12-02T14:01:10Z", ...],
     "from_epoch": ..., "to_epoch": ..., "client": null}

Pure: no I/O, no Ansible imports. Runs on the controller, with or without an incident.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _events
from ansible_collections.sshdoctor.connreset.plugins.module_utils._client_address import specs_overlap

# "Within a few minutes": the events of one cluster lie at most this far apart.
SPAN_SECONDS = 180
# At least this many hosts make a pattern (fewer in a smaller fleet, but never one).
MIN_HOSTS = 3
MAX_FINDINGS = 20
MAX_EVIDENCE = 12
MAX_TIMES = 50

# kind -> (cause id, what it looks like, the usual explanation)
PATTERNS = {
    "boot": ("host_rebooted", "rebooted", "a reboot wave (a maintenance window, a hypervisor or power event)"),
    "restart": ("sshd_restarted", "had sshd stopped, killed or restarted",
                "a configuration push or package upgrade that restarted sshd everywhere"),
    "oom": ("oom_kill", "had processes killed by the OOM killer",
            "a fleet-wide memory surge (a deployment, a job started everywhere at once)"),
    "reset": ("firewall_reject", "had established SSH sessions reset",
              "a network device on the common path (a firewall or NAT that lost its state, a failover)"),
    "maxstartups": ("maxstartups_throttling", "dropped connections past MaxStartups",
                    "one source opening many connections to every host (a scanner, automation with many forks)"),
    "penalty": ("source_penalty", "penalised client addresses",
                "one source failing against every host (a scanner, or automation that never logs in)"),
}


# Drawn on the timeline, never lined up: /proc/uptime's boot is the machine's in a container (containers sharing
# one would look like a reboot wave), and sshd's start alone is its boot's start or the second half of a restart
# whose stop, kill or exit is counted (hosts booted together would look like a configuration push).
NOT_A_PATTERN = frozenset((_events.UPTIME_BOOT, "started"))


def min_hosts(fleet_size):
    return max(2, min(MIN_HOSTS, fleet_size))


def correlate(host_events, fleet_size=None):
    """Fleet findings from ``{host: [events]}`` (each list as ``_events.host_events`` gives it)."""
    hosts = sorted(host_events)
    needed = min_hosts(fleet_size if fleet_size is not None else len(hosts))
    findings = []
    for kind in sorted(PATTERNS):
        timeline = sorted(((e["epoch"], host, e) for host in hosts for e in host_events[host] or []
                           if isinstance(e, dict) and e.get("kind") == kind and e.get("what") not in NOT_A_PATTERN),
                          key=lambda t: (t[0], t[1]))
        findings.extend(_clusters(kind, timeline, needed))
    findings.extend(_bans(host_events, hosts))
    findings.sort(key=lambda f: (-len(f["hosts"]), f["from_epoch"] or 0, f["kind"]))
    return findings[:MAX_FINDINGS]


def _clusters(kind, timeline, needed):
    found, start = [], 0
    while start < len(timeline):
        end = start
        while end + 1 < len(timeline) and timeline[end + 1][0] - timeline[start][0] <= SPAN_SECONDS:
            end += 1
        members = timeline[start:end + 1]
        names = sorted(set(host for dummy, host, dummy2 in members))
        if len(names) >= needed:
            found.append(_finding(kind, members, names))
            start = end + 1
        else:
            start += 1
    return found


def _finding(kind, members, names):
    cause, did, explanation = PATTERNS[kind]
    first, last = members[0][0], max(e["epoch"] + int(e.get("span_s") or 0) for dummy, dummy2, e in members)
    per_host = {}
    for epoch, host, item in members:
        per_host.setdefault(host, []).append(item)
    evidence = []
    for host in names:
        items = per_host[host]
        evidence.append("%s: %s at %s%s" % (
            host, ", ".join(sorted(set(str(i["what"]) for i in items))), _events.iso(items[0]["epoch"]),
            (" (x%d)" % sum(int(i.get("count") or 1) for i in items)) if sum(int(i.get("count") or 1) for i in items) > 1 else ""))
    return {
        "cause": cause,
        "kind": kind,
        "hosts": names,
        "summary": "%d hosts %s within %s (%s .. %s): most likely %s." % (
            len(names), did, _span_words(last - first), _events.iso(first), _events.iso(last)[11:], explanation),
        "evidence": evidence[:MAX_EVIDENCE] + (["... and %d more hosts" % (len(evidence) - MAX_EVIDENCE)]
                                               if len(evidence) > MAX_EVIDENCE else []),
        "from_epoch": int(first),
        "to_epoch": int(last),
        # when the member events were, [from, to] each, at most MAX_TIMES (else the whole span): a cluster can
        # span minutes with nothing in between
        "times": ([[int(e["epoch"]), int(e["epoch"] + int(e.get("span_s") or 0))] for dummy, dummy2, e in members]
                  if len(members) <= MAX_TIMES else [[int(first), int(last)]]),
        "client": None,
    }


def _span_words(seconds):
    seconds = int(seconds)
    return "%d s" % seconds if seconds < 120 else "%d min" % (seconds // 60)


def _bans(host_events, hosts):
    """One finding per address banned on at least two hosts."""
    by_address = {}
    for host in hosts:
        for item in host_events[host] or []:
            if isinstance(item, dict) and item.get("kind") == "ban" and item.get("client"):
                by_address.setdefault(item["client"], {}).setdefault(host, item)
    found = []
    for address in sorted(by_address):
        banned = by_address[address]
        if len(banned) < 2:
            continue
        names = sorted(banned)
        first = min(i["epoch"] for i in banned.values())
        last = max(i["epoch"] + int(i.get("span_s") or 0) for i in banned.values())
        found.append({
            "cause": "firewall_reject",
            "kind": "ban",
            "hosts": names,
            "summary": "%s is banned on %d hosts: one client banned everywhere (its failures on one host, or a shared "
                       "ban list); unban it where it is legitimate." % (address, len(names)),
            "evidence": ["%s: %s since %s" % (h, banned[h]["what"], _events.iso(banned[h]["epoch"])) for h in names][:MAX_EVIDENCE],
            "from_epoch": int(first),
            "to_epoch": int(last),
            "client": address,
        })
    return found


def bearing_on(findings, incident, window=None):
    """The fleet findings that bear on the incident: one of their events lies in its window, or they ban its client."""
    if not incident:
        return []
    clients = incident.get("client") or []
    out = []
    for item in findings:
        if item.get("client") and clients and any(specs_overlap(item["client"], c) for c in clients):
            out.append(item)
        elif window and any(low <= window[1] and high >= window[0]
                            for low, high in item.get("times") or [[item["from_epoch"], item["to_epoch"]]]):
            out.append(item)
        elif not window and not clients:
            out.append(item)
    return out
