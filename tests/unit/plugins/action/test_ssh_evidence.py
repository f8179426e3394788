# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ssh_evidence action plugin: the module on the host and the controller's probe in one task.

The action runs for real (its option handling, Ansible's ``normal`` action around the
module, the probe thread, the real probe against real sockets on 127.0.0.1, a connection
failure turned into a skip); only the remote side is replaced: the module run
(``_execute_module``, which would go over SSH and raises what the ssh connection raises)
and the clean-up of the remote temporary directory. tests/integration/test_ansible_runner.py
runs the real thing against a closed port. The stand-in module run checks, while it "runs", whether the probe's
connections have already reached the server: that is what makes the probe concurrent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest
from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.template import Templar

from ansible_collections.sshdoctor.connreset.plugins.action import ssh_evidence, ssh_probe
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _journal
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import read_fixture
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__probe import Server, closed_port, send_banner_and_read


def wait_for(server, count, timeout=10.0):
    """True once ``server`` has answered ``count`` connections (False after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(server.received) >= count:
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def server():
    srv = Server(send_banner_and_read)
    yield srv
    srv.close()


class FakeTask:
    def __init__(self, args):
        self.args = args
        self.action = "sshdoctor.connreset.ssh_evidence"
        self.async_val = 0
        self.check_mode = False
        self.delegate_to = None


class FakeShell:
    tmpdir = None


class FakeConnection:
    has_native_async = False
    has_pipelining = False

    def __init__(self):
        self._shell = FakeShell()


def make_action(args, module_run, connection=None):
    """The real ActionModule; ``module_run(module_args)`` stands in for the module's run on the host."""
    loader = DataLoader()
    action = ssh_evidence.ActionModule(FakeTask(args), connection or FakeConnection(), PlayContext(), loader,
                                       Templar(loader=loader), None)
    calls = []

    def execute_module(module_name=None, module_args=None, task_vars=None, wrap_async=False, **kwargs):
        # ActionBase._execute_module takes the task's args when it is given none.
        module_args = dict(action._task.args) if module_args is None else module_args
        calls.append(module_args)
        return module_run(module_args)

    action._execute_module = execute_module
    action._remove_tmp_path = lambda path, force=False: None
    return action, calls


def healthy_evidence(ports=(22,)):
    return {"changed": False, "evidence": {"sshd": {"settings": {"port": list(ports)}}}, "timings_ms": {"sshd": 1}}


def task_vars(port=None, host="127.0.0.1", **extra):
    tvars = {"inventory_hostname": "web1", "ansible_host": host}
    if port is not None:
        tvars["ansible_port"] = port
    tvars.update(extra)
    return tvars


def test_the_probe_runs_while_the_module_runs_and_both_are_returned(server):
    seen_during_module = []

    def module_run(module_args):
        # The module is still "running": the probe's three connections must arrive now.
        seen_during_module.append(wait_for(server, 3))
        return healthy_evidence()

    action, calls = make_action({"probe": True, "probe_options": {"samples": 3}, "since": "-1d"}, module_run)
    result = action.run(task_vars=task_vars(server.port))
    assert seen_during_module == [True]
    assert result["evidence"]["sshd"]["settings"]["port"] == [22]
    probe = result["probe"]
    assert probe["outcome"] == "banner" and probe["banners"] == 3 and probe["port"] == server.port
    assert probe["port_from"] == "ansible_port"
    # The module got its own options only.
    assert calls == [{"since": "-1d"}]
    assert not result.get("failed") and not result.get("unreachable")


def test_a_host_ansible_cannot_connect_to_is_skipped_with_its_message_and_still_probed():
    port = closed_port()
    message = "Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port %d: Connection refused" % port

    def module_run(module_args):
        raise AnsibleConnectionFailure(message)

    action, dummy = make_action({"probe": True}, module_run)
    result = action.run(task_vars=task_vars(port))
    assert result["skipped"] is True and result["connection_failed"] is True
    assert result["msg"] == message and result["changed"] is False
    assert "unreachable" not in result and "failed" not in result
    assert result["probe"]["outcome"] == "refused" and result["probe"]["port"] == port
    assert "evidence" not in result


def test_without_the_probe_a_connection_failure_is_a_skip_too():
    message = "Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused"

    def module_run(module_args):
        raise AnsibleConnectionFailure(message)

    action, dummy = make_action({}, module_run)
    result = action.run(task_vars=task_vars(closed_port()))
    assert result["skipped"] is True and result["connection_failed"] is True and result["msg"] == message
    assert "probe" not in result


def test_the_module_s_own_result_passes_through():
    module_result = {"changed": False, "evidence": {"sshd": {"installed": True}}, "timings_ms": {}}
    action, dummy = make_action({}, lambda module_args: dict(module_result))
    assert action.run(task_vars=task_vars(closed_port())) == module_result


def test_other_errors_still_fail():
    def module_run(module_args):
        raise AnsibleError("MODULE FAILURE")

    action, dummy = make_action({"probe": True}, module_run)
    with pytest.raises(AnsibleError, match="MODULE FAILURE"):
        action.run(task_vars=task_vars(closed_port()))


def test_a_failed_module_keeps_its_failure_and_the_probe(server):
    failure = {"failed": True, "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error",
               "module_stderr": "sudo: sorry, you must have a tty to run sudo\n", "rc": 1}
    action, dummy = make_action({"probe": True}, lambda module_args: dict(failure))
    result = action.run(task_vars=task_vars(server.port))
    assert result["failed"] is True and "tty" in result["module_stderr"]
    assert result["probe"]["outcome"] == "banner"
    # What the report shows for the host says what to do, not only Ansible's parse error.
    assert result["msg"].startswith("sudo on this host needs a terminal (sudoers: Defaults requiretty)")
    assert "diagnose_pipelining=false" in result["msg"] and "MODULE FAILURE" in result["msg"]


def test_without_probe_the_result_is_the_module_s_alone(server):
    action, calls = make_action({"sections": ["sshd"], "probe": False}, lambda module_args: healthy_evidence())
    result = action.run(task_vars=task_vars(server.port))
    assert "probe" not in result
    assert calls == [{"sections": ["sshd"]}]
    assert server.received == []


def test_with_no_port_named_the_probe_moves_to_the_port_sshd_listens_on(server):
    # No ansible_port, no probe_options.port: 22 first, then sshd's own port from the evidence.
    action, dummy = make_action({"probe": True, "probe_options": {"samples": 1}},
                                lambda module_args: healthy_evidence(ports=(server.port,)))
    result = action.run(task_vars=task_vars())
    assert result["probe"]["port"] == server.port
    assert result["probe"]["port_from"] == "sshd_ports"
    assert result["probe"]["outcome"] == "banner"


def test_a_named_port_is_kept_even_when_sshd_listens_elsewhere(server):
    action, dummy = make_action({"probe": True, "probe_options": {"port": server.port, "samples": 1}},
                                lambda module_args: healthy_evidence(ports=(2222,)))
    result = action.run(task_vars=task_vars())
    assert result["probe"]["port"] == server.port and result["probe"]["port_from"] == "port"


@pytest.mark.parametrize("options, words", [
    ({"samples": 0}, "samples must be between 1 and 20"),
    ({"timeout": -1}, "timeout and banner_timeout must be positive"),
    ({"sampels": 3}, "sampels"),
])
def test_bad_probe_options_fail_naming_the_option(options, words):
    action, calls = make_action({"probe": True, "probe_options": options}, lambda module_args: healthy_evidence())
    result = action.run(task_vars=task_vars(closed_port()))
    assert result["failed"] is True
    assert words in result["msg"]
    assert calls == []


def test_the_first_host_of_a_batch_larger_than_forks_says_which_forks_to_use():
    batch = ["h%02d" % i for i in range(12)]
    hint = ssh_evidence.forks_hint({"ansible_play_batch": batch, "ansible_forks": 5, "inventory_hostname": "h00"})
    assert "12 hosts and forks = 5" in hint and "-f 12" in hint and "3 rounds" in hint
    assert ssh_evidence.forks_hint({"ansible_play_batch": batch, "ansible_forks": 5, "inventory_hostname": "h01"}) is None
    assert ssh_evidence.forks_hint({"ansible_play_batch": batch, "ansible_forks": 12, "inventory_hostname": "h00"}) is None
    assert ssh_evidence.forks_hint({"inventory_hostname": "h00"}) is None


def test_ssh_probe_alone_still_probes_from_the_controller(server):
    loader = DataLoader()
    task = FakeTask({"samples": 2})
    task.action = "sshdoctor.connreset.ssh_probe"
    action = ssh_probe.ActionModule(task, FakeConnection(), PlayContext(), loader, Templar(loader=loader), None)
    result = action.run(task_vars=task_vars(server.port))
    assert result["changed"] is False
    assert result["probe"]["outcome"] == "banner" and result["probe"]["samples_total"] == 2


@pytest.mark.parametrize("release", ["debian11", "debian12", "debian13"])
def test_the_probe_s_own_connections_leave_no_signature_in_the_journal(release):
    # Captured from sshd's journal in the Debian 11 (OpenSSH 8.4), 12 (9.2) and 13 (10.0)
    # containers right after three probe samples from the controller (10.88.0.1): the probe now
    # runs while the module reads that journal, so its lines may be among those read.
    lines = read_fixture(release + "/journal_ssh_probe_connections.txt").splitlines()
    assert len(lines) == 3 and all("Connection closed by 10.88.0.1 port" in line for line in lines)
    summary = _journal.summarise_lines(lines)
    assert summary["lines_read"] == 3
    assert summary["signatures"] == {} and summary["causes"] == {}
