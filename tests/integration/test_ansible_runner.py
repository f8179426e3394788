# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diagnose playbook through ansible-runner, the engine AWX and Automation Controller run jobs with.

No inventory: the playbook must fall back to localhost over a local connection,
as it does for `ansible-playbook sshdoctor.connreset.diagnose` on a fresh machine.
The checks read runner's job events (what AWX shows and stores) and the report.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import socket
import sys

import pytest

ansible_runner = pytest.importorskip("ansible_runner")


def run_diagnose(private, inventory=None, extravars=None):
    report_dir = private / "report"
    (private / "project").mkdir()
    if inventory:
        (private / "inventory").mkdir()
        (private / "inventory" / "hosts").write_text(inventory)
    env = dict((k, v) for k, v in os.environ.items() if k.startswith(("ANSIBLE_", "PATH", "HOME", "CONTAINERS_CONF")))
    env["ANSIBLE_NOCOLOR"] = "1"
    result = ansible_runner.run(
        private_data_dir=str(private),
        playbook="sshdoctor.connreset.diagnose",
        extravars=dict({"sshdoctor_report_dir": str(report_dir)}, **(extravars or {})),
        envvars=env,
        quiet=True,
        timeout=300,
    )
    events = list(result.events)
    return {"result": result, "events": events, "report_dir": report_dir, "stdout": result.stdout.read()}


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    return run_diagnose(tmp_path_factory.mktemp("runner"))


def closed_port():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture(scope="module")
def fleet_job(tmp_path_factory):
    """localhost plus a host whose SSH port is closed: Ansible cannot reach it."""
    inventory = ("localhost ansible_connection=local ansible_python_interpreter=%s\n"
                 "down ansible_host=127.0.0.1 ansible_port=%d ansible_connection=ssh\n" % (sys.executable, closed_port()))
    return run_diagnose(tmp_path_factory.mktemp("runner-fleet"), inventory)


@pytest.fixture(scope="module")
def ci_job(tmp_path_factory):
    """The same fleet with diagnose_fail_on=critical: the closed port is a critical finding."""
    inventory = ("localhost ansible_connection=local ansible_python_interpreter=%s\n"
                 "down ansible_host=127.0.0.1 ansible_port=%d ansible_connection=ssh\n" % (sys.executable, closed_port()))
    return run_diagnose(tmp_path_factory.mktemp("runner-ci"), inventory, {"diagnose_fail_on": "critical"})


def task_events(job, event, action=None):
    found = []
    for item in job["events"]:
        data = item.get("event_data") or {}
        if item.get("event") == event and (action is None or data.get("resolved_action") == action or data.get("task_action") == action):
            found.append(data)
    return found


def test_the_job_succeeds_on_the_implicit_localhost(job):
    assert job["result"].status == "successful", job["stdout"][-3000:]
    assert job["result"].rc == 0
    plays = task_events(job, "playbook_on_play_start")
    assert [p["play"] for p in plays] == ["Diagnose SSH connection resets"]
    stats = task_events(job, "playbook_on_stats")[0]
    assert set(stats["ok"]) == {"localhost"}
    assert not stats["failures"] and not stats["dark"] and not stats["changed"]


def test_one_task_per_host_then_the_report(job):
    ran = [(e["task"], e["resolved_action"]) for e in task_events(job, "runner_on_ok")]
    actions = [action for task, action in ran]
    assert actions == [
        "ansible.builtin.validate_argument_spec",
        "sshdoctor.connreset.ssh_evidence",
        "sshdoctor.connreset.diagnose_report",
    ]
    evidence = task_events(job, "runner_on_ok", "sshdoctor.connreset.ssh_evidence")[0]
    assert evidence["host"] == "localhost"
    assert set(evidence["res"]["evidence"]) == {"sshd", "journal", "oom", "firewall", "bans", "tcp_wrappers", "host_health"}
    # The controller's probe came back in the same task.
    assert evidence["res"]["probe"]["samples_total"] == 3


def test_the_report_event_and_files_agree(job):
    res = task_events(job, "runner_on_ok", "sshdoctor.connreset.diagnose_report")[0]["res"]
    assert res["changed"] is False
    assert res["dest"] == str(job["report_dir"])
    assert res["run_dir"] == str(job["report_dir"] / res["run"])
    assert sorted(os.path.basename(f) for f in res["files"]) == ["report.html", "report.json", "report.junit.xml", "report.md"]
    assert all(os.path.dirname(f) == res["run_dir"] for f in res["files"])
    report = json.loads((job["report_dir"] / "latest" / "report.json").read_text())
    assert report["version"] == 1
    assert list(report["hosts"]) == ["localhost"]
    entry = report["hosts"]["localhost"]
    assert entry["status"] == "diagnosed" and entry["reachable"] is True
    # The controller probed itself: its own sshd's port (or 22 without sshd), on a loopback name.
    assert entry["probe"]["host"] in ("localhost", "127.0.0.1")
    assert entry["probe"]["samples_total"] == 3
    top = entry["findings"][0]["cause"] if entry["findings"] else None
    assert res["hosts"]["localhost"]["top_cause"] == top
    assert (job["report_dir"] / "latest" / "evidence" / "localhost.json").exists()


def test_the_table_is_in_the_job_output(job):
    lines = job["stdout"].splitlines()
    header = [i for i, line in enumerate(lines) if line.split()[:5] == ["HOST", "TOP", "CAUSE", "SEVERITY", "FIX"]]
    assert header, job["stdout"][-3000:]
    assert lines[header[0] + 1].startswith("localhost ")


def test_an_unreachable_host_stays_in_the_play_and_in_the_report(fleet_job):
    assert fleet_job["result"].status == "successful", fleet_job["stdout"][-3000:]
    # No unreachable event (which every callback prints as an error block): the evidence task is
    # skipped for the host, with Ansible's message, and the report says what happened.
    assert task_events(fleet_job, "runner_on_unreachable") == []
    skipped = task_events(fleet_job, "runner_on_skipped")
    assert [(e["host"], e["resolved_action"]) for e in skipped] == [("down", "sshdoctor.connreset.ssh_evidence")]
    assert "ERROR" not in fleet_job["stdout"] and "UNREACHABLE" not in fleet_job["stdout"], fleet_job["stdout"][-3000:]
    # Both hosts were probed in their evidence task, the one Ansible could not reach too.
    ok = task_events(fleet_job, "runner_on_ok", "sshdoctor.connreset.ssh_evidence")
    assert [e["host"] for e in ok] == ["localhost"] and ok[0]["res"]["probe"]["samples_total"] == 3
    res = task_events(fleet_job, "runner_on_ok", "sshdoctor.connreset.diagnose_report")[0]["res"]
    assert res["hosts"]["down"]["status"] == "unreachable" and res["hosts"]["down"]["reachable"] is False
    report = json.loads((fleet_job["report_dir"] / "latest" / "report.json").read_text())
    down = report["hosts"]["down"]
    assert down["probe"]["outcome"] == "refused"
    # From the probe alone: a refused port points at sshd first, the symptom comes after, and a ban or
    # reject rule of the controller's own address last (a REJECT refuses too), to be checked from elsewhere.
    assert [f["cause"] for f in down["findings"]] == ["sshd_not_running", "host_unreachable", "firewall_reject"]
    assert "check from another address" in down["findings"][2]["summary"]
    assert report["counts"]["unreachable"] == 1
    assert "Connection refused" in down["message"]


def test_fail_on_critical_fails_the_job_after_writing_the_report(ci_job):
    assert ci_job["result"].status == "failed" and ci_job["result"].rc != 0
    failed = task_events(ci_job, "runner_on_failed")
    assert [e["resolved_action"] for e in failed] == ["sshdoctor.connreset.diagnose_report"]
    msg = failed[0]["res"]["msg"]
    # Written before the failure: report.json and the JUnit file for the CI's test view.
    report = json.loads((ci_job["report_dir"] / "latest" / "report.json").read_text())
    assert report["hosts"]["down"]["findings"][0]["severity"] == "critical"
    # This controller itself fails only if it has a critical finding of its own.
    expected = sorted(name for name, entry in report["hosts"].items()
                      if entry["findings"] and entry["findings"][0]["severity"] == "critical")
    assert "down" in expected and failed[0]["res"]["failing_hosts"] == expected
    assert msg.startswith("diagnose_fail_on=critical: %d of 2 host(s) have a critical finding: " % len(expected))
    assert "down (critical " in msg and "\n" not in msg
    assert failed[0]["res"]["run_dir"] == os.path.realpath(str(ci_job["report_dir"] / "latest"))
    junit = (ci_job["report_dir"] / "latest" / "report.junit.xml").read_text()
    assert '<testcase classname="sshdoctor.connreset.diagnose" name="down"' in junit
    assert 'failures="%d"' % len(expected) in junit
