"""Shared helpers for the bans scenario's checks."""

import functools
import json
import os

import pytest
import testinfra
import testinfra.utils.ansible_runner

INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")


def pytest_configure(config):
    config.addinivalue_line("markers", "on_groups(*groups): run the check only on the containers of these molecule groups")


def pytest_collection_modifyitems(config, items):
    """Checks marked ``on_groups`` run only on the containers of those groups (testinfra itself
    parametrizes every check over every host of ``testinfra_hosts``)."""
    kept, dropped = [], []
    for item in items:
        marker = item.get_closest_marker("on_groups")
        host = getattr(item, "callspec", None) and item.callspec.params.get("_testinfra_host")
        if marker is None or host is None:
            kept.append(item)
            continue
        names = set(n for g in marker.args for n in hosts_of(g))
        (kept if host.backend.get_pytest_id().split("://")[-1] in names else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@functools.lru_cache(maxsize=None)
def hosts_of(group):
    # Once per group: each new runner calls ansible-inventory, about a second on a busy machine.
    return tuple(testinfra.utils.ansible_runner.AnsibleRunner.get_runner(INVENTORY).get_hosts(group))


def target_hosts():
    """The containers with a ban tool, reached with `podman exec` (testinfra's podman backend)."""
    return ["podman://%s" % name for name in hosts_of("targets")]


def groups_of(name):
    return [g for g in ("fail2ban_nftables", "fail2ban_iptables", "sshguard", "ufw", "firewalld", "sets")
            if name in hosts_of(g)]


@pytest.fixture
def bans(host):
    """What bans_info returned on this host in converge (kept on the controller)."""
    path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "bans_info", "%s.json" % host.backend.name)
    with open(path) as handle:
        return json.load(handle)


@pytest.fixture(scope="session")
def client():
    name = hosts_of("clients")[0]
    return testinfra.get_host("podman://%s" % name)


@pytest.fixture(scope="session")
def client_address(client):
    return client.check_output("hostname -I").split()[0]


def latest_run():
    """The diagnose role's newest run directory (each run has its own, `latest` points at it)."""
    return os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "report", "latest")


@pytest.fixture(scope="session")
def report():
    path = os.path.join(latest_run(), "report.json")
    with open(path) as handle:
        return json.load(handle)


@pytest.fixture
def address(host):
    return host.check_output("hostname -I").split()[0]
