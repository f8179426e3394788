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
