# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Minimal evidence of exactly the shapes in /work/coord/CONTRACTS.md, for the incident and fleet tests.

Section 2 (journal: per-signature ``histogram``, per-client tallies, ``focus``) and
section 3 (``firewall.sets``, ``bans``) are produced by other collectors; these
builders write only what those sections promise, so that a test here fails when
the scoping reads something the contract does not give.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _events
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _signatures
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__rules import NOW, healthy

AT = int(NOW) - 3600  # the incident: an hour before the report


def iso(epoch):
    return _events.iso(epoch).replace("Z", "+00:00")


def signature(sig_id, times, clients=None, resolution=60):
    """A section 2 signature: exact count, first/last seen, a sparse histogram, per-client tallies.

    ``times``: epoch seconds of each line; ``clients``: {address: [epochs]} (lines naming that address).
    """
    times = sorted(times)
    buckets = {}
    for moment in times:
        start = int(moment) // resolution * resolution
        buckets[start] = buckets.get(start, 0) + 1
    tallies = {}
    for address, seen in sorted((clients or {}).items()):
        seen = sorted(seen)
        tallies[address] = {"count": len(seen), "first_seen": iso(seen[0]), "last_seen": iso(seen[-1])}
    return {
        "cause": _signatures.cause_of(sig_id),
        "count": len(times),
        "first_seen": iso(times[0]) if times else None,
        "last_seen": iso(times[-1]) if times else None,
        "samples": ["%s sample line" % sig_id],
        "histogram": {"resolution_s": resolution, "buckets": [[b, n] for b, n in sorted(buckets.items())]},
        "clients": tallies,
        "clients_other": len(times) - sum(len(v) for v in (clients or {}).values()),
        "clients_distinct": len(tallies),
        "clients_distinct_exact": True,
    }


def journal(signatures=None, focus=None, unit_events=None, boots=None, since_epoch=None):
    """A section 2 journal. ``focus``: {spec: {sig_id: [epochs]}} (the requested clients' exact times)."""
    section = {
        "source": "journald",
        "since": "@%d" % (since_epoch if since_epoch is not None else AT - 86400),
        "units": ["ssh.service"],
        "lines_read": 1000,
        "signatures": signatures or {},
        "causes": {},
        "boots": boots or [],
        "unit_events": unit_events or [],
        "limits": {},
        "truncated": False,
        "notes": [],
        "window": "since",
        "availability": "ok",
        "coverage": [{"source": "journald", "from": iso(since_epoch if since_epoch is not None else AT - 86400),
                      "to": iso(NOW), "lines": 1000}],
        "period": {"requested_from": None, "from": iso(since_epoch if since_epoch is not None else AT - 86400),
                   "to": iso(NOW), "complete": True, "stopped_by": None, "not_covered": []},
    }
    if focus is not None:
        section["focus"] = {}
        for spec, per_sig in focus.items():
            section["focus"][spec] = {}
            for sig_id, seen in per_sig.items():
                seen = sorted(seen)
                section["focus"][spec][sig_id] = {"count": len(seen), "first_seen": iso(seen[0]), "last_seen": iso(seen[-1]),
                                                  "times": seen[-200:], "samples": ["%s line of %s" % (sig_id, spec)]}
    return section


def unit_event(event, epoch, message=None, **extra):
    item = {"time": iso(epoch), "event": event, "message": message or "ssh.service: %s" % event, "message_id": None,
            "unit": "ssh.service"}
    item.update(extra)
    return item


def ban(address, since, until=None, tool="fail2ban", where="jail sshd", enforced=True):
    """One entry of the section 3 ``bans.banned`` list."""
    return {"tool": tool, "where": where, "address": address, "since": iso(since), "until": iso(until) if until else None,
            "since_epoch": int(since), "until_epoch": int(until) if until else None, "enforced": enforced,
            "unban": "fail2ban-client set sshd unbanip %s" % address}


def bans_section(banned, clients=None):
    return {"tools": {"fail2ban": {"installed": True, "running": True}}, "banned": banned, "banned_total": len(banned),
            "clients": clients or {}, "notes": []}


def evidence(**sections):
    return healthy(**sections)
