# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_untrusted: numbers in host text, safe strings, and the controller's check of a host's evidence.

The honest evidence here is real: ``ssh_evidence`` run on this project's Debian 12
container (captured for test__rules / test__report); the hostile shapes are the
ones issue 17 lists, which no honest host sends (they stand for a compromised one).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _report, _rules, _untrusted as U


@pytest.mark.parametrize("text, signed, expected", [
    ("42", True, 42), (" 42\n", True, 42), ("-1", True, -1), ("+7", True, 7), ("-1", False, None),
    ("\u00b2", True, None),              # passes str.isdigit(), fails int()
    ("\u0661\u0662", True, None),        # Arabic-Indic digits: int() takes them, no tool prints them
    ("9" * 32, True, int("9" * 32)), ("9" * 33, True, None), ("9" * 5000, True, None),
    ("1_000", True, None), ("", True, None), ("0x10", True, None), (None, True, None), (12, True, None),
])
def test_to_int(text, signed, expected):
    assert U.to_int(text, signed=signed) == expected


@pytest.mark.parametrize("text, expected", [
    ("plain text\twith tab\nand newline", "plain text\twith tab\nand newline"),
    ("\x1b[2J\x1b[Hgone", "\\x1b[2J\\x1b[Hgone"),          # clear screen, cursor home
    ("over\rwrite", "over\\x0dwrite"),                      # carriage return rewrites the line
    ("\x9b31m", "\\x9b31m"),                                 # C1 CSI
    ("a\ud800b", "a\ufffdb"),                                # a lone surrogate no encoder writes
    ("evil\u202egnp.exe", "evil\\u202egnp.exe"),             # right-to-left override
    ("caf\u00e9 \u4e2d\u6587", "caf\u00e9 \u4e2d\u6587"),     # ordinary Unicode stays
    (None, ""), (3, "3"), (b"\xff\x1b", "\ufffd\\x1b"),
])
def test_safe_text(text, expected):
    assert U.safe_text(text) == expected
    U.safe_text(text).encode("utf-8")


def test_clean_keeps_json_and_reports_each_change():
    value = {"a": [1, 2.5, True, None, "x"], 3: "int key", "nan": float("nan"), "big": 10 ** 40,
             "set": {2, 1}, "obj": object(), "long": "y" * (U.MAX_STRING + 10)}
    cleaned, problems = U.clean(value, "evidence")
    assert cleaned["a"] == [1, 2.5, True, None, "x"]
    assert cleaned["3"] == "int key"
    assert cleaned["nan"] is None and cleaned["big"] is None and cleaned["obj"] is None
    assert cleaned["set"] == [1, 2]
    assert cleaned["long"].startswith("y" * (U.MAX_STRING - 40)) and cleaned["long"].endswith("[cut: 50 more characters]")
    assert len(cleaned["long"]) <= U.MAX_STRING
    where = dict(problems)
    assert set(where) == {"evidence.nan", "evidence.big", "evidence.obj", "evidence.long"}
    json.dumps(cleaned, allow_nan=False)


def test_clean_cuts_nesting_without_recursion():
    deep = leaf = []
    for dummy in range(100000):
        leaf.append([])
        leaf = leaf[0]
    cleaned, problems = U.clean({"journal": deep}, "evidence")
    depth, item = 0, cleaned
    while isinstance(item, (dict, list)) and item:
        item = item["journal"] if isinstance(item, dict) else item[0]
        depth += 1
    assert depth == U.MAX_DEPTH
    assert len(problems) == 1 and "nested deeper than %d" % U.MAX_DEPTH in problems[0][1]


def test_clean_is_idempotent():
    cleaned, dummy = U.clean({"s": "\x1b]0;title\x07", "l": "z" * (U.MAX_STRING * 2)})
    again, problems = U.clean(cleaned)
    assert again == cleaned and problems == []


def test_clean_bounds_a_huge_structure():
    cleaned, problems = U.clean({"x": list(range(U.MAX_ITEMS + 5))})
    assert len(cleaned["x"]) == U.MAX_ITEMS
    assert "more than %d" % U.MAX_ITEMS in problems[0][1]


@pytest.mark.parametrize("evidence, rejected", [
    ({"firewall": {"notes": 1.5}}, ["firewall"]),
    ({"sshd": {"settings": {"port": ["22"]}}}, ["sshd"]),
    ({"journal": {"signatures": {"x": [1]}}}, ["journal"]),
    ({"journal": {"signatures": {"x": {"samples": "one string"}}}}, ["journal"]),
    ({"host_health": {"memory": {"total_kb": "lots"}}, "oom": {"events": 5}}, ["oom", "host_health"]),
    ({"tcp_wrappers": {"applies": [True]}}, ["tcp_wrappers"]),
    ({"firewall": 7}, ["firewall"]),
    ({"firewall": {"rules": [{"verdict": 1}]}, "sshd": {"unit": "ssh"}}, ["firewall"]),
])
def test_a_section_of_the_wrong_shape_is_set_aside(evidence, rejected):
    checked = U.check_evidence(evidence)
    assert [name for name, dummy in checked["rejected"]] == rejected
    for name in rejected:
        section = checked["evidence"][name]
        assert section["error"].startswith("evidence rejected by the controller: evidence.%s" % name)
        assert section["rejected"] == (evidence[name] if not isinstance(evidence[name], dict) else section["rejected"])
    assert checked["failed"] is None


def test_nulls_and_unknown_keys_pass():
    evidence = {"sshd": {"version": None, "settings": {"port": [], "max_startups": None}, "new_key": {"any": ["thing"]}},
                "bans": {"banned": [{"address": "192.0.2.1"}]}}
    checked = U.check_evidence(evidence)
    assert checked["rejected"] == [] and checked["repaired"] == [] and checked["evidence"] == evidence


@pytest.mark.parametrize("probe", [
    {"outcome": "banner", "outcomes": [{}]},
    {"outcome": "banner", "outcomes": {"banner": "3"}},
    {"outcome": "banner", "connect_ms": {"avg": None}},
    {"outcome": "banner", "messages": "Exceeded MaxStartups"},
    {"outcome": ["banner"]},
])
def test_a_probe_of_the_wrong_shape_is_dropped(probe):
    checked = U.check_evidence(None, probe)
    assert checked["probe"] is None and checked["rejected"][0][0] == "probe"


@pytest.mark.parametrize("evidence, why", [
    ([1, 2], "the evidence is a list, not an object"),
    ("{}", "the evidence is a string, not an object"),
])
def test_evidence_that_is_not_an_object_fails(evidence, why):
    assert U.check_evidence(evidence)["failed"] == why


def test_the_status_names_are_the_reports():
    assert (U._DIAGNOSED, U._EVIDENCE_FAILED, U._NOT_RUN) == (_report.DIAGNOSED, _report.EVIDENCE_FAILED, _report.NOT_RUN)


def test_check_hosts_replaces_each_host_in_place():
    hosts = {"good": {"status": "diagnosed", "evidence": {"sshd": {"unit": "ssh"}}},
             "bad": {"status": "diagnosed", "evidence": {"firewall": {"notes": 1.5}, "sshd": {"unit": "ssh"}}},
             "list": {"status": "diagnosed", "evidence": []},
             "junk": 42}
    found = U.check_hosts(hosts)
    assert sorted(found) == ["bad", "junk", "list"]
    assert hosts["good"]["evidence"] == {"sshd": {"unit": "ssh"}}
    assert hosts["bad"]["evidence"]["firewall"]["rejected"] == {"notes": 1.5}
    assert hosts["bad"]["status"] == "diagnosed"
    assert hosts["list"]["status"] == "evidence_failed" and hosts["list"]["evidence"] is None
    assert hosts["junk"]["status"] == "not_run"


def test_every_section_rejected_fails_the_host():
    hosts = {"h": {"evidence": {"sshd": {"installed": "yes"}, "oom": {"events": {}}}}}
    found = U.check_hosts(hosts)
    assert hosts["h"]["status"] == "evidence_failed"
    assert hosts["h"]["message"].startswith("its result was rejected by the controller: every section was set aside")
    assert U.note_for(found["h"]) is None


def test_diagnose_survives_the_issues_shapes():
    result = _rules.diagnose({"firewall": {"notes": 1.5}})
    assert any(n.startswith("firewall: the collector failed: evidence rejected by the controller") for n in result["notes"])
    assert not any("could not read the evidence" in n for n in result["notes"])


def test_load_json():
    assert U.load_json('{"a": [1]}') == ({"a": [1]}, None)
    assert U.load_json("[" * 5000 + "]" * 5000)[1] in ("nested too deep to read", "nested deeper than 64 levels")
    assert U.load_json("[" * 70 + "]" * 70) == (None, "nested deeper than 64 levels")
    assert U.load_json("9" * 5000)[1].startswith("not JSON")
    assert U.load_json(None) == (None, "not text")


def test_skipped_says_where():
    skipped = U.Skipped()
    for number in range(1, 9):
        skipped.add(number, "x", "odd")
    skipped.add(9, "   ", "blank lines do not count")
    assert skipped.count == 8
    assert skipped.note("df -P -k") == ("df -P -k: 8 line(s) not understood and skipped "
                                        "(line 1: odd, line 2: odd, line 3: odd, line 4: odd, line 5: odd, ...)")
    assert U.Skipped().note("x") is None
