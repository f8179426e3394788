# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``systemctl show`` parsing.

debian11/12/13 ``systemctl_show_ssh.txt`` are captured from the containers
(``systemctl show -p ... ssh.service sshd.service ssh.socket sshd.socket``);
rhel9 ``systemctl_show_sshd.txt`` is TRANSCRIBED by hand in the same format
(unit sshd.service, no ssh.service), not captured.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _systemd
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import read_fixture


@pytest.mark.parametrize(
    "fixture, ids, load_states",
    [
        ("debian11/systemctl_show_ssh.txt", ["ssh.service", "ssh.service", "ssh.socket", "sshd.socket"],
         ["loaded", "loaded", "loaded", "not-found"]),
        ("debian12/systemctl_show_ssh.txt", ["ssh.service", "ssh.service", "ssh.socket", "sshd.socket"],
         ["loaded", "loaded", "loaded", "not-found"]),
        ("debian13/systemctl_show_ssh.txt", ["ssh.service", "ssh.service", "ssh.socket", "sshd.socket"],
         ["loaded", "loaded", "loaded", "not-found"]),
        ("rhel9/systemctl_show_sshd.txt", ["ssh.service", "sshd.service", "ssh.socket", "sshd.socket"],
         ["not-found", "loaded", "not-found", "loaded"]),
    ],
)
def test_one_block_per_unit_in_argument_order(fixture, ids, load_states):
    blocks = _systemd.parse_show_blocks(read_fixture(fixture))
    assert [b["Id"] for b in blocks] == ids
    assert [b["LoadState"] for b in blocks] == load_states


@pytest.mark.parametrize(
    "fixture, expected",
    [
        ("debian12/systemctl_show_ssh.txt", {
            "Id": "ssh.service", "ActiveState": "active", "SubState": "running", "Result": "success",
            "NRestarts": 0, "ExecMainStatus": 0, "MainPID": 96,
            "ActiveEnterTimestamp": "Wed 2026-11-25 08:01:46 UTC", "ExecMainExitTimestamp": None,
            "Names": "ssh.service sshd.service", "TriggeredBy": None}),
        ("debian13/systemctl_show_ssh.txt", {"MainPID": 124, "FragmentPath": "/usr/lib/systemd/system/ssh.service"}),
    ],
)
def test_typed_service_block(fixture, expected):
    block = _systemd.typed(_systemd.parse_show(read_fixture(fixture)))
    for key, value in expected.items():
        assert block[key] == value, key


def test_failed_rhel_unit_is_typed():
    # transcribed, not captured
    blocks = _systemd.parse_show_blocks(read_fixture("rhel9/systemctl_show_sshd.txt"))
    sshd = _systemd.typed(_systemd.find_block(blocks, "sshd.service"))
    assert (sshd["ActiveState"], sshd["Result"], sshd["NRestarts"], sshd["ExecMainStatus"], sshd["MainPID"]) == (
        "failed", "exit-code", 5, 255, 0)
    assert _systemd.EXEC_MAIN_CODES[sshd["ExecMainCode"]] == "exited"


@pytest.mark.parametrize(
    "value, expected",
    [("0", 0), ("42", 42), (" 7 ", 7), ("", None), ("[not set]", None), ("infinity", None), ("n/a", None), ("x", None), (None, None)],
)
def test_to_int(value, expected):
    assert _systemd.to_int(value) == expected


@pytest.mark.parametrize("value, expected", [("ssh.service", "ssh"), ("sshd.socket", "sshd"), ("foo", "foo"), (None, None), ("", None)])
def test_unit_base_name(value, expected):
    assert _systemd.unit_base_name(value) == expected


def test_find_block_by_alias_name():
    blocks = _systemd.parse_show_blocks(read_fixture("debian12/systemctl_show_ssh.txt"))
    assert _systemd.find_block(blocks, "sshd.service")["Id"] == "ssh.service"
    assert _systemd.find_block(blocks, "nothing.service") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", []),
        ("\n\n\n", []),
        ("garbage without equals\nId=a\n", [{"Id": "a"}]),
        ("Id=a\r\nX=1=2\n\nId=b\n", [{"Id": "a", "X": "1=2"}, {"Id": "b"}]),
        ("System has not been booted with systemd as init system (PID 1). Can't operate.\n", []),
    ],
)
def test_parse_show_blocks_tolerates_odd_text(text, expected):
    assert _systemd.parse_show_blocks(text) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=500))
def test_arbitrary_text_never_raises(text):
    for block in _systemd.parse_show_blocks(text):
        typed = _systemd.typed(block)
        assert set(typed) == set(block)
        _systemd.is_loaded(block)
        _systemd.unit_base_name(block.get("Id"))
