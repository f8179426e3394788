# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet run where one host's evidence is hostile JSON (issue 17), end to end with ansible-playbook.

Three hosts over local connections: the real ssh_evidence and ssh_probe run for each
(the probe goes to 127.0.0.1). Before the report step, set_fact replaces the evidence
of host ``bad`` with JSON no honest host sends: a note that is a number, a section
nested 100 levels deep (Ansible's own templating stops near 600), terminal escapes and
a bidirectional override in sshd's unit name and in a note. No lone surrogate:
ansible-core 2.19's own JSON decoding refuses one, in from_json as in module results;
the unit tests give the report one directly. A real compromised host cannot be had here; the set_fact stands for one.
The other hosts must be reported exactly as in the run without it, and ``bad`` with an
evidence error, a note, and text that is safe in every output.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess
import sys
from xml.etree import ElementTree

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils._events import epoch_of

HERE = os.path.dirname(os.path.abspath(__file__))
UNSAFE = re.compile(u"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def hostile_result():
    deep = "x"
    for dummy in range(100):
        deep = {"a": deep}
    return {
        "changed": False,
        "evidence": {
            "sshd": {"installed": True, "unit": u"ssh\x1b[2J\x1b[H\x9b31m\u202e", "service": {"active_state": "active"},
                     "notes": [u"\x1b]0;owned\x07 look here"]},
            "firewall": {"notes": 1.5},
            "journal": {"source": "journald", "signatures": {}, "extra": deep},
        },
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile-fleet")
    hostile = base / "hostile.json"
    hostile.write_text(json.dumps(hostile_result()))
    inventory = base / "inventory.ini"
    inventory.write_text("[fleet]\n" + "".join(
        "%s ansible_connection=local ansible_host=127.0.0.1 ansible_python_interpreter=%s\n" % (name, sys.executable)
        for name in ("web-a", "web-b", "bad")))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false")
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), os.path.join(HERE, "hostile_fleet.yml"),
         "-e", "report_dir=%s" % base, "-e", "hostile_file=%s" % hostile],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=600, check=False)
    output = proc.stdout.decode("utf-8", "replace")
    assert proc.returncode == 0, output[-4000:]

    def report(which):
        return json.loads((base / which / "latest" / "report.json").read_text(encoding="utf-8"))

    return {"base": base, "output": output, "honest": report("honest"), "fleet": report("fleet")}


def test_the_other_hosts_are_reported_as_usual(run):
    for name in ("web-a", "web-b"):
        entry, honest = run["fleet"]["hosts"][name], run["honest"]["hosts"][name]
        # each timeline ends when its own report was made, a second or so apart: that and nothing else differs
        for report, host in ((run["fleet"], entry), (run["honest"], honest)):
            assert host["timeline"]["to"] == int(epoch_of(report["generated_at"])), (host["timeline"], report["generated_at"])
        assert dict(entry, timeline=dict(entry["timeline"], to=None)) == dict(honest, timeline=dict(honest["timeline"], to=None))
        assert entry["status"] == "diagnosed" and entry["evidence_error"] is None


def test_the_hostile_host_has_an_evidence_error_and_a_note(run):
    entry = run["fleet"]["hosts"]["bad"]
    assert entry["status"] == "diagnosed"
    error = entry["evidence_error"]
    assert "firewall: evidence rejected by the controller: evidence.firewall.notes: a number where a list belongs" in error
    assert "nested deeper than 24 levels" in error
    assert entry["notes"][0].startswith("the controller set part of this host's input aside (")
    assert any(note.startswith("firewall: the collector failed: evidence rejected") for note in entry["notes"])
    # what it said is shown, defused: the escapes as text
    assert any(u"unit ssh\\x1b[2J\\x1b[H\\x9b31m\\u202e" in value for label, value in entry["facts"])
    assert u"sshd: \\x1b]0;owned\\x07 look here" in entry["notes"]
    # the honest run of the same host had no error
    assert run["honest"]["hosts"]["bad"]["evidence_error"] is None


def test_every_output_is_safe(run):
    fleet = run["base"] / "fleet" / "latest"
    for name in ("report.json", "report.md", "report.html", "report.junit.xml"):
        text = (fleet / name).read_bytes().decode("utf-8")  # strict: a lone surrogate would not decode
        assert not UNSAFE.search(text.replace("\n", "").replace("\t", "")), name
    junit = ElementTree.parse(str(fleet / "report.junit.xml")).getroot()
    assert sorted(case.get("name") for case in junit.iter("testcase")) == ["bad", "web-a", "web-b"]
    assert not UNSAFE.search(run["output"].replace("\n", "").replace("\t", ""))
    evidence = json.loads((fleet / "evidence" / "bad.json").read_text(encoding="utf-8"))
    assert evidence["evidence"]["firewall"]["rejected"] == {"notes": 1.5}
    assert "bad " in run["output"] and "web-a " in run["output"]
