"""Shared helpers for the default scenario's checks."""

import json
import os

import pytest
import testinfra.utils.ansible_runner


def target_hosts():
    """The OpenSSH servers under test (not the client container)."""
    return testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("targets")


@pytest.fixture
def module_result(host):
    """The result converge saved for a module on this host."""

    def read(name):
        return json.loads(host.file("/tmp/sshdoctor-results/%s.json" % name).content_string)

    return read
