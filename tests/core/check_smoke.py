"""Check one `./dev core VERSION` diagnose run: DIR holds output.txt (the playbook's output) and report/latest/.

The run is `ansible-playbook sshdoctor.connreset.diagnose` with no inventory, as `./dev diagnose`
runs it: on the implicit localhost, over a local connection. It must print no warning,
deprecation or error, and write a report in which localhost was diagnosed (its evidence
module ran), with report.json and report.junit.xml readable.
"""

import json
import os
import sys
import xml.etree.ElementTree as ET


def main(directory):
    problems = []
    with open(os.path.join(directory, "output.txt")) as handle:
        output = handle.read()
    noisy = [line for line in output.splitlines() if line.lstrip().startswith(("[WARNING]", "[DEPRECATION WARNING]", "[ERROR]"))]
    if noisy:
        problems.append("the run printed: %s" % " | ".join(noisy[:5]))
    report_dir = os.path.join(directory, "report", "latest")  # the run's own directory (issue 15)
    try:
        with open(os.path.join(report_dir, "report.json")) as handle:
            report = json.load(handle)
        entry = report["hosts"]["localhost"]
        if entry["status"] != "diagnosed":
            problems.append("localhost was not diagnosed: %s (%s)" % (entry["status"], entry.get("message")))
        suite = ET.parse(os.path.join(report_dir, "report.junit.xml")).getroot().find("testsuite")
        if suite is None or [case.get("name") for case in suite.findall("testcase")] != ["localhost"]:
            problems.append("report.junit.xml has no testcase for localhost")
    except (OSError, ValueError, KeyError, ET.ParseError) as exc:
        problems.append("the report is missing or unreadable: %s" % exc)
    if problems:
        print("\n".join(["diagnose smoke FAILED:"] + problems + ["", output[-3000:]]))
        return 1
    top = entry["findings"][0] if entry["findings"] else None
    print("diagnose smoke passed: localhost diagnosed, %s, no warning printed" % (
        "top finding %s (%s)" % (top["cause"], top["severity"]) if top else "nothing found"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
