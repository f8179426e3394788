# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 15 as a user meets it: the diagnose playbook run twice, a fleet and then ``--limit`` one host.

The fleet is three inventory hosts with ``ansible_connection=local``: every one of them is this
machine, so the evidence is real (this controller's sshd, journal, firewall) and the three run
in parallel as a fleet does; only the network between them is missing, which the run directories
do not care about. Each ``ansible-playbook`` runs under umask 000, the most permissive, to show
that nothing it writes is readable by others anyway.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import stat
import subprocess
import sys

import pytest

HOSTS = ["web-alpha", "db-bravo.corp.example.com", "cache-charlie"]
REPORT_FILES = ["report.json", "report.md", "report.html", "report.junit.xml"]


def playbook(workdir, *args):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0")
    process = subprocess.run(["ansible-playbook"] + list(args), cwd=str(workdir), env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True, timeout=600, check=False,
                             preexec_fn=lambda: os.umask(0o000))
    assert process.returncode == 0, process.stdout[-4000:]
    return process.stdout


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("runs")
    (work / "inventory.ini").write_text("[fleet]\n%s\n[fleet:vars]\nansible_connection=local\nansible_python_interpreter=%s\n" % (
        "\n".join(HOSTS), sys.executable))
    report_dir = work / "reports"
    common = ["sshdoctor.connreset.diagnose", "-i", "inventory.ini", "-e", "sshdoctor_report_dir=%s" % report_dir,
              "-e", "diagnose_probe_samples=1"]
    fleet = playbook(work, *(common + ["-e", "diagnose_redact=true"]))
    limited = playbook(work, *(common + ["--limit", "cache-charlie"]))
    return {"work": work, "dir": report_dir, "common": common, "out": [fleet, limited]}


def run_dirs(report_dir):
    return sorted(p.name for p in report_dir.iterdir() if re.match(r"^\d{4}-\d{2}-\d{2}T\d{6}Z(-\d\d)?$", p.name))


def test_two_runs_leave_two_complete_run_directories_and_latest_names_the_second(runs):
    names = run_dirs(runs["dir"])
    assert len(names) == 2
    for name, hosts in zip(names, [HOSTS, ["cache-charlie"]]):
        run = runs["dir"] / name
        manifest = json.loads((run / ".sshdoctor-run.json").read_text())
        assert manifest["complete"] is True and manifest["run"] == name
        assert all((run / f).is_file() for f in manifest["files"])
        assert set(REPORT_FILES) <= set(manifest["files"])
        report = json.loads((run / "report.json").read_text())
        assert sorted(report["hosts"]) == sorted(hosts)
        assert all(report["hosts"][h]["status"] == "diagnosed" for h in hosts)
        assert sorted(os.listdir(str(run / "evidence"))) == sorted(h + ".json" for h in hosts)
    assert os.readlink(str(runs["dir"] / "latest")) == names[1]


def test_the_output_names_each_run_directory(runs):
    for name, out in zip(run_dirs(runs["dir"]), runs["out"]):
        assert "Report: %s (%s, evidence/)" % (runs["dir"] / name, ", ".join(REPORT_FILES)) in out
        assert "Latest: %s -> %s" % (runs["dir"] / "latest", name) in out


def test_everything_is_private_under_umask_000(runs):
    assert mode(str(runs["dir"])) == 0o700
    for directory, dirs, files in os.walk(str(runs["dir"])):
        for name in dirs:
            if os.path.islink(os.path.join(directory, name)):
                assert name == "latest"  # a link's own bits mean nothing; what it points to is checked here too
                continue
            assert mode(os.path.join(directory, name)) == 0o700, os.path.join(directory, name)
        for name in files:
            assert mode(os.path.join(directory, name)) == 0o600, os.path.join(directory, name)


def test_the_fleet_runs_redacted_copy_holds_no_inventory_name(runs):
    first = runs["dir"] / run_dirs(runs["dir"])[0]
    mapping = json.loads((first / "redaction-map.json").read_text())["mapping"]
    assert set(HOSTS) <= set(mapping["hosts"])
    assert "corp.example.com" in mapping["domains"]
    assert sorted(os.listdir(str(first / "redacted" / "evidence"))) == ["host-1.json", "host-2.json", "host-3.json"]
    assert sorted(os.listdir(str(first / "redacted"))) == sorted(REPORT_FILES + ["evidence"])
    junit = (first / "redacted" / "report.junit.xml").read_text()
    assert re.findall(r'<testcase classname="[^"]*" name="([^"]*)"', junit) == ["host-1", "host-2", "host-3"]
    report = json.loads((first / "redacted" / "report.json").read_text())
    assert sorted(report["hosts"]) == ["host-1", "host-2", "host-3"]
    for path in (first / "redacted").rglob("*"):
        if path.is_file():
            text = path.read_text()
            for section, values in mapping.items():
                for original in values:
                    assert not re.search(r"(?<![A-Za-z0-9])%s(?![A-Za-z0-9])" % re.escape(original), text,
                                         0 if section == "users" else re.I), (path, original)
    assert "redaction-map.json" not in os.listdir(str(first / "redacted"))


def test_the_redact_playbook_redacts_an_earlier_run_once(runs):
    second = run_dirs(runs["dir"])[1]
    args = ["sshdoctor.connreset.redact", "-e", "sshdoctor_report_dir=%s" % runs["dir"], "-e", "sshdoctor_run=%s" % second]
    out = playbook(runs["work"], *args)
    assert "Redacted copy to share: %s" % (runs["dir"] / second / "redacted") in out
    assert re.search(r"localhost\s*: ok=1\s+changed=1", out)
    report = json.loads((runs["dir"] / second / "redacted" / "report.json").read_text())
    assert list(report["hosts"]) == ["host-1"]
    again = playbook(runs["work"], *args)
    assert "already has a redacted copy" in again and re.search(r"localhost\s*: ok=1\s+changed=0", again)


def test_keep_removes_the_oldest_run_and_says_so(runs):
    before = run_dirs(runs["dir"])
    out = playbook(runs["work"], *(runs["common"] + ["--limit", "web-alpha", "-e", "diagnose_report_keep=2"]))
    after = run_dirs(runs["dir"])
    assert after[:1] == before[1:] and len(after) == 2
    assert "Removed 1 old run(s) beyond keep=2: %s" % (runs["dir"] / before[0]) in out
    assert os.readlink(str(runs["dir"] / "latest")) == after[1]
