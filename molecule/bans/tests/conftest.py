"""Shared helpers for the bans scenario's checks."""

import json
import os

import pytest
import testinfra
import testinfra.utils.ansible_runner

INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")


def hosts_of(group):
    return testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts(group)


def target_hosts():
    """The containers with a ban tool, reached with `podman exec` (testinfra's podman backend)."""
    return ["podman://%s" % name for name in hosts_of("targets")]


def groups_of(name):
    return [g for g in ("fail2ban_nftables", "fail2ban_iptables", "sshguard", "ufw", "firewalld", "sets")
            if name in hosts_of(g)]


@pytest.fixture
def kind(host):
    """Which ban tool this container runs (its molecule group)."""
    return groups_of(host.backend.name)[0]


@pytest.fixture
def bans(host):
    """What bans_info returned on this host in converge."""
    return json.loads(host.file("/tmp/sshdoctor-results/bans_info.json").content_string)


@pytest.fixture(scope="session")
def client():
    name = hosts_of("clients")[0]
    return testinfra.get_host("podman://%s" % name)


@pytest.fixture(scope="session")
def client_address(client):
    return client.check_output("hostname -I").split()[0]


@pytest.fixture(scope="session")
def report():
    path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "report", "report.json")
    with open(path) as handle:
        return json.load(handle)


@pytest.fixture
def address(host):
    return host.check_output("hostname -I").split()[0]
