"""Shared helpers for the default scenario's checks."""

import json
import os

import pytest
import testinfra
import testinfra.utils.ansible_runner


def target_hosts():
    """The OpenSSH servers under test (not the client container).

    Commands reach them with `podman exec` (testinfra's podman backend): one
    ansible process per command would make the checks take minutes. Molecule's
    podman driver names each container after its platform.
    """
    names = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("targets")
    return ["podman://%s" % name for name in names]


@pytest.fixture
def ansible_host(host):
    """The same container through Ansible, for running the collection's modules."""
    return testinfra.get_host(
        "ansible://%s" % host.backend.name,
        ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"],
    )


@pytest.fixture
def module_result(host):
    """The result converge saved for a module on this host."""

    def read(name):
        return json.loads(host.file("/tmp/sshdoctor-results/%s.json" % name).content_string)

    return read
