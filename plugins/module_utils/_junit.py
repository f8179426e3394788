# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report for CI: which hosts fail a severity threshold, and ``report.junit.xml``.

``failing_hosts`` decides, for ``diagnose_fail_on`` and for the JUnit file alike, which
hosts have a finding at or above a severity. ``render_junit`` presents a report (the
dict ``_report.build_report`` returns) as JUnit XML: one testsuite, one testcase per
host; a host whose top finding is at or above the threshold gets a ``failure`` element
(its ``type`` the cause id, its ``message`` the severity, cause and summary, its text the
summary, the fix and the evidence). Info findings (advisories) never fail a host.

The shape is the common subset of what Jenkins (the xunit plugin's junit-10 schema),
GitLab's test reports and GitHub's JUnit reporters read: ``testsuites > testsuite >
testcase > failure | error | skipped | system-out``, counts as attributes. Every string
is made XML-safe: markup characters escaped, characters XML 1.0 forbids replaced, and what
the other outputs escape (terminal controls, bidirectional overrides) escaped the same way.

Pure: no I/O, no Ansible imports. Runs on the controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _rules, _untrusted

# diagnose_fail_on's values, from the most lenient; "none" never fails a host.
FAIL_ON = ("none", "warning", "critical")
SUITE = "sshdoctor.connreset diagnose"
CLASSNAME = "sshdoctor.connreset.diagnose"
MAX_NAMED = 20  # hosts named in the one-line message; the rest are counted

# Characters XML 1.0 does not allow, even escaped (C0 controls but tab/LF/CR, surrogates, U+FFFE/F).
_NOT_XML = re.compile(u"[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def at_or_above(severity, level):
    """Whether ``severity`` (critical, warning, info) reaches ``level`` (one of FAIL_ON)."""
    if level not in FAIL_ON:
        raise ValueError("fail_on must be one of %s, not %r" % (", ".join(FAIL_ON), level))
    if level == "none" or severity not in _rules.SEVERITIES:
        return False
    return _rules.SEVERITIES.index(severity) <= _rules.SEVERITIES.index(level)


def junit_level(fail_on):
    """The threshold of report.junit.xml: ``fail_on``, or warning when ``fail_on`` is none (the file's
    failures then show what ``diagnose_fail_on=warning`` would fail on, without failing the play)."""
    return "warning" if fail_on == "none" else fail_on


def failing_hosts(report, level):
    """``[(host, top finding)]`` of the hosts whose most severe finding reaches ``level``, by name."""
    failing = []
    for name in sorted(report.get("hosts") or {}):
        findings = report["hosts"][name].get("findings") or []
        if findings and at_or_above(findings[0].get("severity"), level):
            failing.append((name, findings[0]))
    return failing


def fail_message(report, level):
    """The one-line message of a failed ``diagnose_fail_on``, or None when no host reaches ``level``."""
    failing = failing_hosts(report, level)
    if not failing:
        return None
    named = ", ".join("%s (%s %s)" % (name, item.get("severity"), item.get("cause")) for name, item in failing[:MAX_NAMED])
    if len(failing) > MAX_NAMED:
        named += " and %d more" % (len(failing) - MAX_NAMED)
    what = "a critical finding" if level == "critical" else "a warning or critical finding"
    return "diagnose_fail_on=%s: %d of %d host(s) have %s: %s" % (level, len(failing), len(report.get("hosts") or {}), what, named)


def _text(value):
    return u"%s" % ("" if value is None else value)


def _one_line(value):
    return " ".join(_text(value).split())


def _visible(match):
    code = ord(match.group(0))
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code


def xml_text(value):
    """Text safe as XML character data and on the terminal or CI page that shows it: what the other
    outputs escape (``_untrusted.safe_text``: controls shown as \\xNN, bidirectional overrides as
    \\uNNNN, a lone surrogate as U+FFFD), the non-characters XML forbids as \\uNNNN, & < > escaped."""
    text = _NOT_XML.sub(_visible, _untrusted.safe_text(_text(value)))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_attr(value):
    """Text safe inside a double-quoted attribute, on one line (whitespace runs become one space)."""
    return xml_text(_one_line(value)).replace('"', "&quot;")


def _failure_text(item):
    lines = [item.get("summary") or "", "", "Fix:", item.get("fix") or ""]
    evidence = item.get("evidence") or []
    if evidence:
        lines += ["", "Evidence:"] + ["- %s" % line for line in evidence]
    return "\n".join(lines)


def _testcase(name, entry, level):
    findings = entry.get("findings") or []
    out = ['    <testcase classname="%s" name="%s" time="0">' % (CLASSNAME, xml_attr(name))]
    kind = "passed"
    if findings and at_or_above(findings[0].get("severity"), level):
        item = findings[0]
        kind = "failure"
        out.append('      <failure type="%s" message="%s">%s</failure>' % (
            xml_attr(item.get("cause")),
            xml_attr("%s %s: %s" % (item.get("severity"), item.get("cause"), _one_line(item.get("summary")))),
            xml_text(_failure_text(item))))
    elif not findings and entry.get("status") == "not_run":
        kind = "skipped"
        out.append('      <skipped message="%s"/>' % xml_attr(_one_line(entry.get("summary"))))
    elif not findings and entry.get("status") == "evidence_failed":
        kind = "error"
        out.append('      <error type="evidence_failed" message="%s">%s</error>' % (
            xml_attr(_one_line(entry.get("summary"))), xml_text(entry.get("message") or "")))
    # Besides: every finding in a line (advisories of a passing host too), or the summary when none.
    lines = ["%s %s: %s" % (f.get("severity"), f.get("cause"), _one_line(f.get("summary"))) for f in findings]
    lines = lines or [_one_line(entry.get("summary"))]
    out.append("      <system-out>%s</system-out>" % xml_text("\n".join(lines)))
    out.append("    </testcase>")
    return kind, out


def render_junit(report, level="warning"):
    """``report.junit.xml``: one testsuite, one testcase per host; hosts at or above ``level`` fail.

    ``level`` is one of FAIL_ON; with "none" no host fails (the file then only lists the hosts).
    """
    counts = {"passed": 0, "failure": 0, "skipped": 0, "error": 0}
    cases = []
    hosts = report.get("hosts") or {}
    for name in sorted(hosts):
        kind, lines = _testcase(name, hosts[name], level)
        counts[kind] += 1
        cases += lines
    stamp = str(report.get("generated_at") or "").rstrip("Z")
    totals = 'tests="%d" failures="%d" errors="%d"' % (len(hosts), counts["failure"], counts["error"])
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        # testsuites has no skipped count in the junit-10 schema; testsuite has.
        '<testsuites name="%s" %s time="0">' % (SUITE, totals),
        '  <testsuite name="%s" %s skipped="%d" time="0" timestamp="%s">' % (SUITE, totals, counts["skipped"], xml_attr(stamp)),
        '    <properties>',
        '      <property name="report_version" value="%s"/>' % xml_attr(report.get("version")),
        '      <property name="fail_on" value="%s"/>' % xml_attr(level),
        '    </properties>',
    ]
    return "\n".join(head + cases + ["  </testsuite>", "</testsuites>"]) + "\n"
