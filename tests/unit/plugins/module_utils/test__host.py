# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import os
import time
import tracemalloc

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils._host import MAX_LINE_BYTES, Host


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


# --- streaming: line by line, bounded, within a deadline ---------------------------------------


def test_stream_hands_over_every_line_and_the_exit_status():
    host = Host(_Module())
    stream = host.stream(["/bin/sh", "-c", "seq 1 200000; echo oops >&2; exit 3"])
    count = 0
    last = None
    for line in stream:
        count += 1
        last = line
    stream.close()
    assert count == 200000 and last == "200000"
    assert stream.rc == 3 and stream.stderr == "oops\n" and stream.stopped is None


def test_stream_runs_in_the_c_locale_with_an_argument_list():
    stream = Host(_Module()).stream(["/usr/bin/env"])
    lines = list(stream)
    stream.close()
    assert "LC_ALL=C" in lines and stream.rc == 0


def test_stream_ends_at_the_deadline_and_stops_the_command():
    """A command that keeps printing (a journal bigger than the budget) is stopped at the deadline."""
    host = Host(_Module())
    stream = host.stream(["/bin/sh", "-c", "while :; do echo line; sleep 0.01; done"], deadline=time.monotonic() + 0.5)
    started = time.monotonic()
    lines = list(stream)
    stream.close()
    assert time.monotonic() - started < 10
    assert lines and set(lines) == {"line"}
    assert stream.stopped == "time_budget"
    assert stream.rc is not None and stream.rc != 0  # killed


def test_stream_of_a_silent_command_ends_at_the_deadline_too():
    stream = Host(_Module()).stream(["/bin/sleep", "30"], deadline=time.monotonic() + 0.3)
    assert list(stream) == []
    stream.close()
    assert stream.stopped == "time_budget"


def test_closing_a_stream_early_stops_the_command():
    stream = Host(_Module()).stream(["/usr/bin/yes"])
    for line in stream:
        assert line == "y"
        break
    stream.close()
    assert stream.rc is not None


def test_an_over_long_line_is_cut_and_what_follows_it_is_intact(tmp_path):
    target = tmp_path / "auth.log"
    target.write_bytes(b"first\n" + b"x" * (3 * 1024 * 1024) + b"\nlast \xff\n")
    stream = Host(_Module()).stream_file(str(target))
    lines = list(stream)
    assert [len(line) for line in lines] == [5, MAX_LINE_BYTES, 6]
    assert lines[2] == "last \ufffd"
    assert stream.lines_cut == 1


def test_stream_file_reads_gzip_by_name_and_by_magic(tmp_path):
    text = "".join("2026-11-25T08:00:%02d+00:00 h sshd[1]: line %d\n" % (i % 60, i) for i in range(50000))
    (tmp_path / "auth.log.2.gz").write_bytes(gzip.compress(text.encode()))
    (tmp_path / "auth.log.1").write_bytes(gzip.compress(text.encode()))  # compressed without the suffix
    for name in ("auth.log.2.gz", "auth.log.1"):
        stream = Host(_Module()).stream_file(str(tmp_path / name))
        assert "\n".join(stream) + "\n" == text
        assert stream.error is None and stream.at_end


def test_a_corrupt_gzip_ends_the_stream_with_an_error(tmp_path):
    data = gzip.compress(b"line\n" * 100000)
    (tmp_path / "auth.log.3.gz").write_bytes(data[:len(data) // 2])
    stream = Host(_Module()).stream_file(str(tmp_path / "auth.log.3.gz"))
    list(stream)
    assert stream.stopped == "error" and stream.error


def test_stream_file_of_a_missing_file_is_empty_without_a_note(tmp_path):
    host = Host(_Module())
    stream = host.stream_file(str(tmp_path / "absent"))
    assert list(stream) == [] and stream.missing and host.notes == []


def _peak_streaming(nbytes):
    tracemalloc.start()
    try:
        stream = Host(_Module()).stream(["/bin/sh", "-c", "yes 0123456789012345678901234567890123456789 | head -c %d" % nbytes])
        total = 0
        for dummy in stream:
            total += 1
        stream.close()
        return total, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_streaming_holds_a_chunk_at_a_time_whatever_the_output_size():
    """Peak memory of the reader (tracemalloc sees the bytes and strings it allocates) does not grow with the output:
    12 MB through the pipe peaks no higher than 1.5 MB does (give or take a chunk)."""
    small_lines, small_peak = _peak_streaming(1500000)
    big_lines, big_peak = _peak_streaming(12000000)
    assert (small_lines, big_lines) == (1500000 // 41 + 1, 12000000 // 41 + 1)
    assert big_peak < small_peak + 2 * 1024 * 1024, (small_peak, big_peak)
