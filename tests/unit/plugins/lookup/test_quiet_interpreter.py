# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diagnose role's default interpreter: the configured one, with discovery made silent."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.sshdoctor.connreset.plugins.lookup import quiet_interpreter


@pytest.mark.parametrize("configured, expected", [
    (None, "auto_silent"),                      # nothing configured: Ansible's default, auto
    ("auto", "auto_silent"),
    ("auto_legacy", "auto_legacy_silent"),
    ("auto_silent", "auto_silent"),
    ("/usr/bin/python3.11", "/usr/bin/python3.11"),   # a configured interpreter is kept as it is
])
def test_the_configured_setting_with_discovery_made_silent(monkeypatch, configured, expected):
    monkeypatch.delenv("ANSIBLE_PYTHON_INTERPRETER", raising=False)
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    if configured is not None:
        monkeypatch.setenv("ANSIBLE_PYTHON_INTERPRETER", configured)
    assert quiet_interpreter.LookupModule().run([], variables={}) == [expected]


def test_variables_are_not_consulted(monkeypatch):
    """The role assigns the result to ansible_python_interpreter: reading that variable back would loop."""
    monkeypatch.delenv("ANSIBLE_PYTHON_INTERPRETER", raising=False)
    variables = {"ansible_python_interpreter": "{{ lookup('sshdoctor.connreset.quiet_interpreter') }}"}
    assert quiet_interpreter.LookupModule().run([], variables=variables) == ["auto_silent"]
