# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller on evidence no honest host sends: rules, report and renderers (JSON, Markdown,
HTML, the terminal table and the JUnit XML).

The honest evidence is real: ssh_evidence and ssh_probe run against the project's
Debian 11/12/13 containers (tests/unit/fixtures/debianNN/ssh_evidence_result*.json,
ssh_probe_result.json; the _planted one with an iptables REJECT, a hosts.deny line and
a refused key exchange). A compromised host is simulated by changing that evidence at
random places: values of any JSON type (huge integers, NaN, lone surrogates, terminal
escapes), keys removed, sections replaced by scalars, nesting thousands of levels deep.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re
from html.parser import HTMLParser
from xml.etree import ElementTree

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _junit, _report, _rules, _untrusted
from ansible_collections.sshdoctor.connreset.tests.unit.fuzz import _fuzz

NOW = 1764669600  # 2025-12-02T10:00:00Z, after the fixtures were captured
EVIDENCE = [item["evidence"] for item in _fuzz.seed_json("debian*/ssh_evidence_result*.json")]
PROBES = [item["probe"] for item in _fuzz.seed_json("debian*/ssh_probe_result.json")]
KEYS = sorted(set(_untrusted.SCHEMA) | set(k for spec in _untrusted.SCHEMA.values() for k in spec) | set(_untrusted.PROBE_SCHEMA))

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from((40, 70, 4400)).map(lambda digits: -(10 ** digits)),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40), st.sampled_from(_fuzz.HOSTILE))
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8) | st.sampled_from(KEYS), children, max_size=4),
    max_leaves=12)


def nested(depth, leaf=None):
    """A list ``depth`` levels deep, built without recursion."""
    value = leaf
    for dummy in range(depth):
        value = [value]
    return value


def places(value, limit=5000):
    """Every (container, key) in ``value``, breadth first, without recursion."""
    found, queue = [], [value]
    while queue and len(found) < limit:
        item = queue.pop(0)
        pairs = item.items() if isinstance(item, dict) else enumerate(item) if isinstance(item, list) else ()
        for key, child in list(pairs):
            found.append((item, key))
            queue.append(child)
    return found


@st.composite
def hostile(draw, bases):
    """Real evidence (or a probe) changed one to five times at random places."""
    value = copy.deepcopy(draw(st.sampled_from(bases)))
    for dummy in range(draw(st.integers(1, 5))):
        spots = places(value)
        if not spots:
            break
        parent, key = draw(st.sampled_from(spots))
        op = draw(st.sampled_from(("replace", "replace", "delete", "deep", "string", "bump")))
        if op == "replace":
            parent[key] = draw(json_values)
        elif op == "delete":
            del parent[key]
        elif op == "deep":
            parent[key] = nested(draw(st.integers(10, 3000)), draw(scalars))
        elif op == "string":
            old = parent[key] if isinstance(parent[key], (str, float)) or (
                isinstance(parent[key], int) and parent[key].bit_length() < 64) else ""
            parent[key] = draw(st.sampled_from(_fuzz.HOSTILE)) + str(old)[:60]
        else:
            parent[key] = {"count": 10 ** 50, "samples": [u"\ud800" * 3]} if isinstance(parent, dict) else float("inf")
    return value


evidence_inputs = st.one_of(hostile(EVIDENCE), hostile(EVIDENCE), json_values, st.builds(nested, st.integers(900, 5000)))
probe_inputs = st.one_of(st.none(), st.sampled_from(PROBES), hostile(PROBES), json_values)

# What must never reach a file or a terminal: C0 controls but tab and newline, DEL, C1, bidi overrides, surrogates.
UNSAFE = re.compile(u"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _check_findings(result):
    assert set(result) >= {"findings", "summary", "notes"}
    for item in result["findings"]:
        assert item["cause"] in _rules.CAUSES and item["severity"] in _rules.SEVERITIES
        assert all(isinstance(line, str) for line in item["evidence"])
    # the check in front of the rules leaves them nothing they cannot read
    assert not [n for n in result["notes"] if "could not read the evidence" in n], result["notes"]
    json.dumps(result, allow_nan=False)


@_fuzz.fuzz_settings(_fuzz.CONTROLLER_EXAMPLES)
@given(evidence_inputs, probe_inputs, st.booleans())
def test_diagnose_never_raises_and_every_rule_can_read_what_passed(evidence, probe, reachable):
    result = _fuzz.record("_rules.diagnose", _rules.diagnose, evidence, probe, reachable=reachable, now=NOW)
    _check_findings(result)


class _Tags(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.tags = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)


def _outputs_are_safe(report):
    text = _report.render_json(report)
    assert not UNSAFE.search(text)
    for value in _strings(json.loads(text)):
        value.encode("utf-8")  # a lone surrogate escaped as \udXXX would fail here
    for render in (_report.render_markdown, _report.render_html, _report.render_table):
        out = render(report)
        out.encode("utf-8")
        assert not UNSAFE.search(out.replace("\n", "").replace("\t", ""))
    junit = _junit.render_junit(report, "warning")
    assert not UNSAFE.search(junit.replace("\n", ""))
    root = ElementTree.fromstring(junit.encode("utf-8"))  # well-formed, whatever the hosts sent
    assert len(root.findall("testsuite/testcase")) == len(report["hosts"])
    parser = _Tags()
    parser.feed(_report.render_html(report))
    # the renderer's own elements, the inline SVG of the timelines included: nothing a host sent becomes a tag
    assert parser.tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "table", "thead",
                           "tbody", "tr", "th", "td", "a", "span", "section", "div", "ul", "li", "pre", "strong",
                           "svg", "g", "rect", "line", "circle", "text"}


def _strings(value):
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


@_fuzz.fuzz_settings(_fuzz.CONTROLLER_EXAMPLES)
@given(evidence_inputs, probe_inputs, st.sampled_from(("diagnosed", "evidence_failed", "unreachable", None)),
       st.sampled_from(("bad", u"bad\x1b[2J\u202e", "<script>x</script>")))
def test_one_bad_host_costs_only_itself(evidence, probe, status, name):
    honest = {"deb12": {"evidence": EVIDENCE[1], "probe": PROBES[1]},
              "deb12-planted": {"evidence": EVIDENCE[2], "probe": PROBES[1]}}
    alone = _report.build_report(copy.deepcopy(honest), NOW)
    hosts = copy.deepcopy(honest)
    hosts[name] = {"evidence": evidence, "probe": probe, "status": status, "message": u"msg \ud800\x1b[31m"}
    report = _fuzz.record("_report.build_report", _report.build_report, hosts, NOW)
    for host in honest:
        assert report["hosts"][host] == alone["hosts"][host]
    entry = report["hosts"][name]
    assert entry["status"] in ("diagnosed", "evidence_failed", "unreachable")
    _check_findings(entry)
    _outputs_are_safe(report)
    # what the action then writes as evidence/<host>.json: the checked copy, which serialises
    json.dumps(hosts[name], indent=2, allow_nan=False).encode("utf-8")


@_fuzz.fuzz_settings(_fuzz.CONTROLLER_EXAMPLES)
@given(evidence_inputs, probe_inputs)
def test_the_check_is_idempotent(evidence, probe):
    first = _fuzz.record("_untrusted.check_evidence", _untrusted.check_evidence, evidence, probe)
    again = _untrusted.check_evidence(first["evidence"], first["probe"])
    assert (again["evidence"], again["probe"]) == (first["evidence"], first["probe"])
    assert again["rejected"] == [] and again["repaired"] == []
