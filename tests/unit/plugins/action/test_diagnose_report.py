# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diagnose_report action's writing part: what a user finds in sshdoctor_report_dir after runs.

The case of issue 15: a fleet run, then ``--limit`` one host. Before, the second run replaced the
first one's report and deleted the other hosts' evidence; now both runs stay whole.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.sshdoctor.connreset.plugins.action import diagnose_report
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _report
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__rules import NOW, healthy, probe

ARGS = dict(formats=list(diagnose_report.FORMATS), evidence_files=True, mode="0700", keep=0, redact=False,
            redact_keywords=[], redact_domains=[], fail_on="none")


def write(dest, names, now=NOW, **args):
    inputs = dict((name, {"status": "diagnosed", "evidence": healthy(), "probe": probe("banner", host=name)})
                  for name in names)
    report = _report.build_report(inputs, now, generator=diagnose_report.GENERATOR)
    options = dict(ARGS, **args)
    return diagnose_report.ActionModule._write(None, report, inputs, str(dest), options)


def complete(run_dir):
    manifest = json.load(open(os.path.join(run_dir, ".sshdoctor-run.json")))
    return manifest["complete"] and all(os.path.isfile(os.path.join(run_dir, f)) for f in manifest["files"])


def test_a_fleet_run_then_a_limited_run_leave_both_runs_whole(tmp_path):
    first = write(tmp_path, ["web1", "web2", "web3"])
    second = write(tmp_path, ["web3"], now=NOW + 90)
    assert first["run_dir"] != second["run_dir"]
    assert complete(first["run_dir"]) and complete(second["run_dir"])
    assert sorted(os.listdir(os.path.join(first["run_dir"], "evidence"))) == ["web1.json", "web2.json", "web3.json"]
    assert os.listdir(os.path.join(second["run_dir"], "evidence")) == ["web3.json"]
    assert sorted(json.load(open(os.path.join(first["run_dir"], "report.json")))["hosts"]) == ["web1", "web2", "web3"]
    assert os.readlink(str(tmp_path / "latest")) == second["run"] == os.path.basename(second["run_dir"])
    names = ("report.json", "report.md", "report.html", "report.junit.xml")
    assert second["files"] == [os.path.join(second["run_dir"], n) for n in names]
    assert second["display"][0].startswith("Report: %s (%s, evidence/)" % (second["run_dir"], ", ".join(names)))
    assert second["display"][1] == "Latest: %s -> %s" % (tmp_path / "latest", second["run"])


def test_keep_prunes_the_oldest_and_says_so(tmp_path):
    runs = [write(tmp_path, ["web1"], now=NOW + 60 * i, keep=2) for i in range(3)]
    assert runs[2]["pruned"] == [runs[0]["run_dir"]]
    assert runs[2]["display"][-1] == "Removed 1 old run(s) beyond keep=2: %s" % runs[0]["run_dir"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["latest", runs[1]["run"], runs[2]["run"]])


def test_a_redacted_copy_in_the_run(tmp_path):
    written = write(tmp_path, ["web1", "db2"], redact=True)
    assert written["redacted_dir"] == os.path.join(written["run_dir"], "redacted")
    assert "Redacted copy to share: %s" % written["redacted_dir"] in written["display"][2]
    manifest = json.load(open(os.path.join(written["run_dir"], ".sshdoctor-run.json")))
    assert manifest["redacted"] is True and "redacted/evidence/host-1.json" in manifest["files"]
    # the JUnit file too, by token, with the threshold of diagnose_fail_on (warning when that is none)
    assert "redacted/report.junit.xml" in manifest["files"] and manifest["junit_level"] == "warning"
    junit = open(os.path.join(written["redacted_dir"], "report.junit.xml")).read()
    assert 'name="host-1"' in junit and 'name="host-2"' in junit and "web1" not in junit and "db2" not in junit


def test_a_run_whose_copy_cannot_be_redacted_is_still_complete(tmp_path):
    with pytest.raises(OSError, match="the report is complete in .* but the redacted copy was not written: cannot redact: "
                                      "the inventory name 'probe'"):
        write(tmp_path, ["probe"], redact=True)
    run_dir = os.path.join(str(tmp_path), os.readlink(str(tmp_path / "latest")))
    assert complete(run_dir) and not os.path.exists(os.path.join(run_dir, "redacted"))


@pytest.mark.parametrize("args, message", [
    ({"mode": "0750x"}, "mode \\(diagnose_report_mode\\) must be an octal mode"),
    ({"keep": -1}, "keep \\(diagnose_report_keep\\) must be 0"),
])
def test_bad_options_name_the_variable_and_write_nothing(tmp_path, args, message):
    with pytest.raises(ValueError, match=message):
        write(tmp_path / "reports", ["web1"], **args)
    assert not (tmp_path / "reports").exists()
