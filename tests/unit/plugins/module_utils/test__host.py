# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils._host import Host


class _Module:
    """Just enough of AnsibleModule for file reads."""

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return None


def test_reads_a_proc_sys_file_with_the_default_cap():
    # A single 8 MiB read() of /proc/sys fails with ENOMEM; the host must still read it.
    path = "/proc/sys/kernel/pid_max"
    if not os.path.exists(path):
        pytest.skip("no /proc/sys here")
    host = Host(_Module())
    text = host.read_text(path)
    assert text is not None and text.strip().isdigit()
    assert host.notes == []


def test_read_stops_at_the_cap_and_replaces_bad_bytes(tmp_path):
    target = tmp_path / "sshd_config"
    target.write_bytes(b"Port 22\n# caf\xe9\n" + b"x" * 200000)
    text = Host(_Module()).read_text(str(target), max_bytes=100000)
    assert len(text.encode("utf-8")) >= 100000 - 10
    assert text.startswith("Port 22\n# caf\ufffd\n")
    assert len(text) <= 100000


def test_missing_file_is_none_without_a_note(tmp_path):
    host = Host(_Module())
    assert host.read_text(str(tmp_path / "absent")) is None
    assert host.notes == []


def test_unreadable_file_is_none_with_a_note(tmp_path):
    target = tmp_path / "hosts.deny"
    target.write_text("sshd: ALL\n")
    target.chmod(0)
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    host = Host(_Module())
    assert host.read_text(str(target)) is None
    assert "permission denied" in host.notes[0]


def test_a_tool_that_is_not_installed_is_missing_not_an_error():
    result = Host(_Module()).run(["no-such-tool-sshdoctor", "--version"])
    assert result.missing is True
    assert result.ok is False


def test_commands_run_in_the_c_locale(monkeypatch):
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    monkeypatch.setenv("LANGUAGE", "de")
    result = Host(_Module()).run(["/usr/bin/env"])
    assert result.rc == 0
    lines = result.stdout.splitlines()
    assert "LC_ALL=C" in lines and "LANGUAGE=C" in lines and "LANG=C" in lines


def test_arguments_are_passed_as_a_list_not_through_a_shell():
    result = Host(_Module()).run(["/bin/echo", "a; echo injected", "$(id)"])
    assert result.stdout == "a; echo injected $(id)\n"


def test_data_reaches_the_command_on_stdin():
    assert Host(_Module()).run(["/bin/cat"], data="sshd: ALL\n").stdout == "sshd: ALL\n"


def test_undecodable_output_is_replaced_and_capped():
    host = Host(_Module(), max_bytes=4)
    result = host.run(["/usr/bin/printf", "ab\\377cdef"])
    assert result.rc == 0
    assert result.stdout == "ab\ufffdc"


def test_a_hung_command_is_stopped_with_a_note():
    host = Host(_Module())
    result = host.run(["/bin/sleep", "30"], timeout=0.5)
    assert result.rc is None and result.missing is False
    assert "did not finish within 0.5 seconds" in host.notes[0]
