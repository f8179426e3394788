# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fuzzing suite's figures: per target the calls made, the slowest call, exceptions, the time checks.

With ``SSHDOCTOR_FUZZ_REPORT=FILE`` each pytest process (the xdist workers too) writes its
figures to ``FILE.<pid>.part``; the main process merges them into FILE (JSON) and prints the
table that tests/performance/RESULTS.md keeps.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import time

from ansible_collections.sshdoctor.connreset.tests.unit.fuzz import _fuzz

_OUTCOMES = {}
_STARTED = time.time()


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.skipped):
        outcome = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfail" if report.skipped else "xpass"
        _OUTCOMES[report.nodeid] = outcome


def _merge(parts):
    stats, outcomes = {}, {}
    for part in parts:
        outcomes.update(part["outcomes"])
        for name, entry in part["stats"].items():
            total = stats.setdefault(name, {"calls": 0, "slowest_s": 0.0, "slowest_input_chars": 0, "exceptions": 0})
            total["calls"] += entry["calls"]
            total["exceptions"] += entry["exceptions"]
            if entry["slowest_s"] > total["slowest_s"]:
                total["slowest_s"], total["slowest_input_chars"] = entry["slowest_s"], entry["slowest_input_chars"]
            for key in ("time_checks",):
                if key in entry:
                    total[key] = total.get(key, 0) + entry[key]
            for key in ("worst_growth", "growth_limit"):
                if key in entry:
                    total[key] = max(total.get(key, 0), entry[key])
    return stats, outcomes


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("SSHDOCTOR_FUZZ_REPORT")
    if not path:
        return
    with open("%s.%d.part" % (path, os.getpid()), "w") as handle:
        json.dump({"stats": _fuzz.STATS, "outcomes": _OUTCOMES}, handle)
    if hasattr(session.config, "workerinput"):
        return
    parts = []
    for name in sorted(glob.glob(path + ".*.part")):
        with open(name) as handle:
            parts.append(json.load(handle))
        os.unlink(name)
    stats, outcomes = _merge(parts)
    with open(path, "w") as handle:
        json.dump({"profile": _fuzz.PROFILE, "examples_per_target": _fuzz.EXAMPLES,
                   "time_shapes_per_target": _fuzz.TIME_EXAMPLES, "seconds": round(time.time() - _STARTED),
                   "stats": stats, "outcomes": outcomes}, handle, indent=1, sort_keys=True)


def pytest_terminal_summary(terminalreporter):
    path = os.environ.get("SSHDOCTOR_FUZZ_REPORT")
    if not path or not os.path.exists(path) or hasattr(terminalreporter.config, "workerinput"):
        return
    with open(path) as handle:
        data = json.load(handle)
    write = terminalreporter.write_line
    write("")
    write("fuzz figures (%s profile, %s examples per target, %s time shapes): %s" % (
        data["profile"], data["examples_per_target"], data["time_shapes_per_target"], path))
    columns = ("target", "calls", "exceptions", "slowest (s)", "chars", "time checks", "64 KB / 1 KB (bound)")
    write("%-42s %9s %10s %12s %10s %12s %s" % columns)
    for name in sorted(data["stats"]):
        entry = data["stats"][name]
        write("%-42s %9d %10d %12.4f %10d %12s %s" % (
            name, entry["calls"], entry["exceptions"], entry["slowest_s"], entry["slowest_input_chars"],
            entry.get("time_checks", "-"),
            "%.1f (%d)" % (entry["worst_growth"], entry["growth_limit"]) if "worst_growth" in entry else "-"))
