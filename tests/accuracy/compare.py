# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planted against found: the fault lab's state file against the diagnose report.

    python3 compare.py LAB_JSON REPORT_JSON

A faulted host passes when its TOP finding (the first in the report, which the
report sorts by severity, then confidence) is the planted cause. The healthy
host passes when it has no warning or critical finding. A host missing from
the report, or whose fault the lab could not plant, fails. Prints a table, the findings of every failing host, and a
last line ``N passed, M failed``; exits 1 when anything failed.
"""

import json
import sys

ALARMING = ("critical", "warning")


def judge(planted, entry, really_planted=True):
    """(passed, found, why) for one host: planted cause id or "healthy", its report entry or None."""
    if not really_planted:
        return False, describe(entry["findings"][0]) if entry and entry.get("findings") else "-", "the lab could not plant it"
    if entry is None:
        return False, "-", "missing from the report"
    findings = entry.get("findings") or []
    if planted == "healthy":
        alarming = [f for f in findings if f.get("severity") in ALARMING]
        if alarming:
            return False, describe(alarming[0]), "healthy host has a %s finding" % alarming[0].get("severity")
        return True, describe(findings[0]) if findings else "(nothing)", ""
    if not findings:
        return False, "(nothing)", "no finding"
    top = findings[0]
    if top.get("cause") != planted:
        return False, describe(top), "top finding is not the planted cause"
    return True, describe(top), ""


def describe(finding):
    confidence = finding.get("confidence")
    return "%s (%s%s)" % (finding.get("cause"), finding.get("severity"),
                          ", %.2f" % confidence if isinstance(confidence, (int, float)) else "")


def table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(lab_json, report_json):
    with open(lab_json) as handle:
        lab = json.load(handle)
    try:
        with open(report_json) as handle:
            report = json.load(handle)
    except (OSError, ValueError) as exc:
        print("accuracy: no readable report at %s: %s" % (report_json, exc))
        print("0 passed, %d failed" % len(lab["hosts"]))
        return 1
    hosts = report.get("hosts") or {}
    rows = [("host", "release", "SSH", "planted", "found (top finding)", "result")]
    failures = []
    for host in lab["hosts"]:
        entry = hosts.get(host["name"])
        passed, found, why = judge(host["cause"], entry, host.get("planted", True))
        reachable = entry.get("reachable") if entry else None
        rows.append((host["name"], host["release"], {True: "yes", False: "no"}.get(reachable, "?"),
                     host["cause"], found, "ok" if passed else "FAIL: " + why))
        if not passed:
            failures.append((host, entry))
    print(table(rows))
    for host, entry in failures:
        print()
        print("%s (planted %s: %s)" % (host["name"], host["cause"], host["how"]))
        if not host.get("planted", True):
            print("  not planted: %s" % host.get("error"))
        for finding in (entry or {}).get("findings") or []:
            print("  - %s: %s" % (describe(finding), finding.get("summary")))
            for line in (finding.get("evidence") or [])[:4]:
                print("      %s" % line)
        if entry is not None and not entry.get("findings"):
            print("  (no findings; probe: %s)" % json.dumps(entry.get("probe"))[:300])
    passed = len(lab["hosts"]) - len(failures)
    print()
    print("%d passed, %d failed" % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
