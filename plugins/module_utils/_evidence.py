# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every collector in one process: what ssh_evidence returns.

``collect_evidence`` runs the collectors one after the other, each with a fresh
``Host`` (so each section's ``notes`` are its own), hands what one learned to the
next (sshd's unit to the journal reader, sshd's ports to the firewall reader),
and keeps going when one of them fails: that section becomes
``{"error": ..., "notes": [...]}`` and the rules skip it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

# In the order they run: sshd first, since the others use what it found.
SECTIONS = ("sshd", "journal", "oom", "firewall", "bans", "tcp_wrappers", "host_health")


def collector_arguments(name, sshd, since=None, clients=None, journal_time_budget=None, firewall=None):
    """Keyword arguments for collector ``name``, given the sshd (and firewall) section collected before it."""
    sshd = sshd if isinstance(sshd, dict) else {}
    settings = sshd.get("settings") if isinstance(sshd.get("settings"), dict) else {}
    if name == "journal":
        kwargs = {"since": since}
        if sshd.get("unit"):
            kwargs["unit"] = [sshd["unit"]]
        if journal_time_budget:
            kwargs["time_budget"] = journal_time_budget
        if clients:
            kwargs["clients"] = list(clients)  # per-client tallies and a focus section per client
        return kwargs
    if name == "firewall":
        ports = [p for p in (settings.get("port") or []) if isinstance(p, int)]
        kwargs = {"ports": ports} if ports else {}
        if clients:
            kwargs["clients"] = list(clients)
        return kwargs
    if name == "bans":
        # The packet filter as the firewall collector read it (None: bans reads it itself).
        kwargs = {"firewall": firewall if isinstance(firewall, dict) and not firewall.get("error") else None}
        ports = [p for p in (settings.get("port") or []) if isinstance(p, int)]
        if ports:
            kwargs["ports"] = ports
        if clients:
            kwargs["clients"] = list(clients)
        return kwargs
    if name == "host_health":
        return {"unit": sshd["unit"]} if sshd.get("unit") else {}
    if name == "tcp_wrappers":
        # Without addresses the collector takes the one this SSH connection comes from.
        return {"client_addresses": list(clients)} if clients else {}
    return {}


def collect_evidence(make_host, collectors, sections=SECTIONS, since=None, clients=None, journal_time_budget=None,
                     clock=time.monotonic):
    """Run ``collectors`` (section name -> ``collect_*`` function) for ``sections``.

    ``make_host()`` returns a new Host for each collector. Returns
    ``{"evidence": {section: result}, "timings_ms": {section: int}}``.
    """
    evidence = {}
    timings = {}
    sshd = {}
    firewall = None
    for name in SECTIONS:
        if name not in sections or name not in collectors:
            continue
        host = make_host()
        started = clock()
        try:
            kwargs = collector_arguments(name, sshd, since=since, clients=clients,
                                         journal_time_budget=journal_time_budget, firewall=firewall)
            result = collectors[name](host, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            # One collector tripping over an odd host must not cost the others.
            result = {"error": "%s: %s" % (type(exc).__name__, exc), "notes": list(getattr(host, "notes", []))}
        timings[name] = int(round((clock() - started) * 1000))
        if not isinstance(result, dict):
            result = {"error": "collector returned %s, not a dict" % type(result).__name__, "notes": []}
        evidence[name] = result
        if name == "sshd" and not result.get("error"):
            sshd = result
        if name == "firewall":
            firewall = result
    return {"evidence": evidence, "timings_ms": timings}
