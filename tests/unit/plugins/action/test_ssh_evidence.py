# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ssh_evidence action: a connection failure is a skip with connection_failed, nothing else changes.

Ansible's own module execution (the ``normal`` action) is replaced here by a stand-in that
raises what the ssh connection raises; tests/integration/test_ansible_runner.py runs the
real thing against a closed port.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest
from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.plugins.action.normal import ActionModule as NormalAction

from ansible_collections.sshdoctor.connreset.plugins.action.ssh_evidence import ActionModule


def run_with(outcome):
    action = object.__new__(ActionModule)
    with mock.patch.object(NormalAction, "run", side_effect=outcome if isinstance(outcome, Exception) else None,
                           return_value=outcome):
        return action.run(task_vars={})


def test_a_connection_failure_skips_the_host_with_ansibles_message():
    message = "Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused"
    result = run_with(AnsibleConnectionFailure(message))
    assert result["skipped"] is True and result["connection_failed"] is True
    assert result["msg"] == message
    assert result["changed"] is False
    assert "unreachable" not in result and "failed" not in result


def test_the_modules_own_result_passes_through():
    module_result = {"changed": False, "evidence": {"sshd": {"installed": True}}, "timings_ms": {}}
    assert run_with(module_result) == module_result


def test_other_errors_still_fail():
    with pytest.raises(AnsibleError, match="MODULE FAILURE"):
        run_with(AnsibleError("MODULE FAILURE"))
