# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module's own work: argument checks, one collector call, changed=False."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.sshdoctor.connreset.plugins.modules import sshd_info

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    patch_module_args = None

pytestmark = pytest.mark.skipif(patch_module_args is None, reason="needs ansible.module_utils.testing (ansible-core 2.19+)")


def run_module(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            sshd_info.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({"config_path": "etc/ssh/sshd_config"}, "config_path must be an absolute path"),
        ({"match": {"addr": "10.0.0.999"}}, "match.addr must be an IP address"),
        ({"match": {"user": "bob,alice"}}, "match.user must not contain"),
        ({"bogus": 1}, "Unsupported parameters"),
    ],
)
def test_invalid_arguments_fail_clearly(args, fragment, capsys, monkeypatch):
    monkeypatch.setattr(sshd_info, "collect_sshd", lambda *a, **k: pytest.fail("collector must not run"))
    result = run_module(args, capsys)
    assert result["failed"] is True
    assert fragment in result["msg"]


def test_passes_options_to_the_collector_and_never_changes(capsys, monkeypatch):
    seen = {}

    def fake_collect(host, **kwargs):
        seen.update(kwargs)
        return {"installed": True, "notes": []}

    monkeypatch.setattr(sshd_info, "collect_sshd", fake_collect)
    result = run_module({"config_path": "/etc/ssh/alt", "match": {"user": "bob", "addr": "10.0.0.5"},
                         "_ansible_check_mode": True}, capsys)
    assert result["changed"] is False
    assert result["installed"] is True
    assert seen["config_path"] == "/etc/ssh/alt"
    assert seen["match"]["user"] == "bob" and seen["match"]["addr"] == "10.0.0.5"
    assert seen["sshd_path"] is None
