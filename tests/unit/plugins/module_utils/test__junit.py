# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report for CI: diagnose_fail_on's threshold and report.junit.xml.

The JUnit file is parsed back with the standard library and checked against the shape of
the junit-10 schema that Jenkins' xunit plugin validates with (elements, their allowed
children and attributes, the required ones), which is also what GitLab's test reports and
GitHub's JUnit reporters read: testsuites > testsuite > testcase > failure | error |
skipped | system-out. The schema itself is not copied here; its rules are, as a table.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _junit, _report
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__report import HOSTS
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__rules import NOW

# element: (allowed attributes, required attributes, allowed children); None: text only.
SHAPE = {
    "testsuites": ({"name", "time", "tests", "failures", "disabled", "errors"}, set(), {"testsuite"}),
    "testsuite": ({"name", "tests", "failures", "errors", "time", "disabled", "skipped", "skips", "timestamp", "hostname",
                   "id", "package", "assertions", "file", "skip", "log", "url"}, {"tests"},
                  {"testsuite", "properties", "testcase", "system-out", "system-err"}),
    "properties": (set(), set(), {"property"}),
    "property": ({"name", "value"}, {"name", "value"}, set()),
    "testcase": ({"name", "assertions", "time", "timestamp", "classname", "status", "class", "file", "line", "log", "group",
                  "url"}, {"name"}, {"skipped", "error", "failure", "system-out", "system-err"}),
    "failure": ({"type", "message"}, set(), None),
    "error": ({"type", "message"}, set(), None),
    "skipped": ({"type", "message"}, set(), None),
    "system-out": (set(), set(), None),
    "system-err": (set(), set(), None),
}


def check_shape(element):
    allowed, required, children = SHAPE[element.tag]
    assert set(element.attrib) <= allowed, (element.tag, set(element.attrib) - allowed)
    assert required <= set(element.attrib), (element.tag, required - set(element.attrib))
    for child in element:
        assert children is not None and child.tag in children, (element.tag, child.tag)
        check_shape(child)


def parse(text):
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    check_shape(root)
    return root


def finding(cause, severity, summary="s", fix="f", evidence=("e",)):
    return {"cause": cause, "severity": severity, "confidence": 0.9, "summary": summary, "fix": fix, "evidence": list(evidence)}


def minimal_report(**hosts):
    return {"version": 1, "generated_at": "2026-11-18T11:06:40Z",
            "hosts": dict((name, dict({"status": "diagnosed", "summary": "x", "findings": [], "message": None}, **entry))
                          for name, entry in hosts.items())}


@pytest.fixture
def report():
    return _report.build_report(HOSTS, NOW)


def test_one_testsuite_one_testcase_per_host_and_the_counts_add_up(report):
    root = parse(_junit.render_junit(report, "warning"))
    suites = root.findall("testsuite")
    assert len(suites) == 1
    cases = dict((case.get("name"), case) for case in suites[0].findall("testcase"))
    assert sorted(cases) == sorted(HOSTS)
    failed = sorted(name for name, case in cases.items() if case.find("failure") is not None)
    errors = sorted(name for name, case in cases.items() if case.find("error") is not None)
    # gone and web1 are critical, web2 a warning; odd's evidence module failed; db1 is healthy.
    assert failed == ["gone", "web1", "web2"]
    assert errors == ["odd"]
    assert cases["db1"].find("failure") is None and cases["db1"].find("error") is None
    for element in (root, suites[0]):
        assert (element.get("tests"), element.get("failures"), element.get("errors")) == ("5", "3", "1")
    assert suites[0].get("skipped") == "0"
    assert suites[0].get("timestamp") == "2026-11-18T11:06:40"


def test_the_failure_carries_the_top_findings_cause_summary_and_fix(report):
    root = parse(_junit.render_junit(report, "warning"))
    case = [c for c in root.iter("testcase") if c.get("name") == "web1"][0]
    top = report["hosts"]["web1"]["findings"][0]
    failure = case.find("failure")
    assert failure.get("type") == top["cause"] == "firewall_reject"
    assert failure.get("message") == "critical firewall_reject: " + " ".join(top["summary"].split())
    assert top["summary"] in failure.text
    assert top["fix"] in failure.text
    assert "iptables -D INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset" in failure.text
    assert all(("- " + line) in failure.text for line in top["evidence"])


def test_the_threshold_decides_which_hosts_fail(report):
    root = parse(_junit.render_junit(report, "critical"))
    failed = sorted(c.get("name") for c in root.iter("testcase") if c.find("failure") is not None)
    assert failed == ["gone", "web1"]
    assert [name for name, _finding in _junit.failing_hosts(report, "critical")] == ["gone", "web1"]
    assert [name for name, _finding in _junit.failing_hosts(report, "warning")] == ["gone", "web1", "web2"]
    assert _junit.failing_hosts(report, "none") == []
    assert _junit.fail_message(report, "none") is None


@pytest.mark.parametrize("level, expected", [
    ("none", []),
    ("warning", ["crit", "warn"]),
    ("critical", ["crit"]),
])
def test_hosts_with_only_advisories_never_fail(level, expected):
    """Info findings are advisories (healthy with advisories): neither fail_on nor the JUnit file fails them."""
    report = minimal_report(
        advised={"findings": [finding("idle_timeout", "info"), finding("host_rebooted", "info")]},
        warn={"findings": [finding("idle_timeout", "warning"), finding("host_rebooted", "info")]},
        crit={"findings": [finding("firewall_reject", "critical")]},
        fine={})
    assert [name for name, _finding in _junit.failing_hosts(report, level)] == expected
    root = parse(_junit.render_junit(report, _junit.junit_level(level)))
    advised = [c for c in root.iter("testcase") if c.get("name") == "advised"][0]
    assert advised.find("failure") is None
    assert "info idle_timeout: s" in advised.find("system-out").text


def test_the_fail_message_is_one_line_naming_the_hosts():
    report = minimal_report(b={"findings": [finding("idle_timeout", "warning")]},
                            a={"findings": [finding("firewall_reject", "critical")]}, c={})
    assert _junit.fail_message(report, "warning") == (
        "diagnose_fail_on=warning: 2 of 3 host(s) have a warning or critical finding: "
        "a (critical firewall_reject), b (warning idle_timeout)")
    assert _junit.fail_message(report, "critical") == (
        "diagnose_fail_on=critical: 1 of 3 host(s) have a critical finding: a (critical firewall_reject)")


def test_the_fail_message_stays_bounded_on_a_large_fleet():
    report = minimal_report(**dict(("web%03d" % i, {"findings": [finding("idle_timeout", "warning")]}) for i in range(300)))
    message = _junit.fail_message(report, "warning")
    assert message.count("(warning idle_timeout)") == _junit.MAX_NAMED
    assert message.endswith("and 280 more")
    assert "\n" not in message


def test_an_unknown_level_is_an_error_naming_the_choices():
    with pytest.raises(ValueError, match="fail_on must be one of none, warning, critical"):
        _junit.failing_hosts(minimal_report(a={"findings": [finding("idle_timeout", "warning")]}), "error")


def test_a_host_not_diagnosed_is_skipped_not_passed():
    report = minimal_report(late={"status": "not_run", "summary": "Not diagnosed: not in this batch"})
    case = list(parse(_junit.render_junit(report, "warning")).iter("testcase"))[0]
    assert case.find("skipped").get("message") == "Not diagnosed: not in this batch"


@pytest.mark.parametrize("hostile", [
    "<script>&amp;\"quoted\" 'single'</script>",
    "control \x00\x01\x08\x0b\x0c\x1b[31m characters",
    "not characters \ufffe\uffff and a lone surrogate \ud800",
    "]]> ends a CDATA section",
    "tab\tnew\nline\rreturn",
])
def test_any_text_from_a_host_stays_well_formed_xml(hostile):
    """Host names, summaries, fixes and evidence come from hosts; none of them may break the file."""
    report = minimal_report(**{hostile: {"status": "evidence_failed", "message": hostile},
                               "h" + hostile: {"findings": [finding(hostile, "critical", hostile, hostile, [hostile])]}})
    root = parse(_junit.render_junit(report, "warning"))
    names = sorted(c.get("name") for c in root.iter("testcase"))
    assert len(names) == 2
    for case in root.iter("testcase"):
        for element in case.iter():
            for value in list(element.attrib.values()) + [element.text or ""]:
                assert "\x00" not in value and "\x1b" not in value and "\ufffe" not in value
    if "<script>" in hostile:
        assert hostile in names
        failure = [c for c in root.iter("testcase") if c.find("failure") is not None][0].find("failure")
        assert hostile in failure.text and failure.get("type") == hostile
    if "\x1b" in hostile:
        # Forbidden characters are shown, not dropped; in attributes, whitespace runs (\v \f) are one space.
        assert "control \\x00\\x01\\x08 \\x1b[31m characters" in names
