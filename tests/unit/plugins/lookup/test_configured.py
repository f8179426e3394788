# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The configured lookup: a plugin option from ansible.cfg or the environment, never from variables.

ansible.cfg itself is read once per process, so these cases set the environment; the
integration test (tests/integration/test_pipelining_and_forks.py) runs ansible-playbook with
real ansible.cfg files, inventory variables and extra variables, through the lookup in the
diagnose role's defaults.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.sshdoctor.connreset.plugins.lookup.configured import configured


@pytest.fixture(autouse=True)
def no_pipelining_env(monkeypatch):
    monkeypatch.delenv("ANSIBLE_PIPELINING", raising=False)
    monkeypatch.delenv("ANSIBLE_SSH_PIPELINING", raising=False)
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)


def test_nothing_configured_gives_your_default():
    assert configured("pipelining", "connection", "ssh", True) == (True, None)


@pytest.mark.parametrize("name", ["ANSIBLE_PIPELINING", "ANSIBLE_SSH_PIPELINING"])
def test_the_environment_wins_over_your_default(monkeypatch, name):
    monkeypatch.setenv(name, "False")
    value, origin = configured("pipelining", "connection", "ssh", True)
    assert value is False and name in origin


def test_smart_is_ssh_and_unknown_plugins_give_your_default(monkeypatch):
    monkeypatch.setenv("ANSIBLE_SSH_PIPELINING", "False")
    assert configured("pipelining", "connection", "smart", True)[0] is False
    assert configured("pipelining", "connection", "no.such.plugin", True) == (True, None)
    assert configured("no_such_option", "connection", "ssh", "x") == ("x", None)
