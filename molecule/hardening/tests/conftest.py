"""Helpers for the hardening scenario's checks."""

import json

import pytest


def effective(host, keyword, spec=None):
    """One keyword's value as `sshd -T` prints it (the ground truth)."""
    command = "sshd -T" + (" -C %s" % spec if spec else "")
    for line in host.check_output(command).splitlines():
        key, dummy, value = line.partition(" ")
        if key == keyword:
            return value
    raise AssertionError("%s printed no %s" % (command, keyword))


@pytest.fixture
def role_result(host):
    """What the role recorded on this host during converge."""
    return json.loads(host.file("/root/sshd_hardening_result.json").content_string)
