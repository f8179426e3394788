# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_health_info's parsers and collector.

debian11|12|13/proc_*.txt, df_P_k.txt / df_P_i.txt (for / /var/log /run /tmp),
sys_cpu_online.txt, systemctl_show_ssh_health.txt, journalctl_list_boots*.txt and
last_x_reboot*.txt are REAL, captured in the containers (LC_ALL=C). The /proc
figures are the host kernel's (a 2-CPU VM). Debian 12's wtmp has two reboots
(the container was restarted); its journal has one boot, since a container
shares the host's boot id. Debian 13 has no `last`. transcribed/ multi-boot
journal lists are TRANSCRIBED (no machine here has several boots in its journal),
in systemd 247's format (em dash, no header) and 252's (IDX header).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _host_health as H
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import FakeHost, read_fixture

RELEASES = ["debian11", "debian12", "debian13"]
DF_PATHS = ["/", "/var/log", "/run", "/tmp"]
BOOT_ID = "db3b1a7c99eb4821a3cb7e0f190ccfc8"


UPTIME = {"debian11": 1409, "debian12": 1416, "debian13": 1422}


@pytest.mark.parametrize("release, uptime", sorted(UPTIME.items()))
def test_real_uptime(release, uptime):
    assert int(H.parse_uptime(read_fixture(release + "/proc_uptime.txt"))) == uptime


@pytest.mark.parametrize("release", RELEASES)
def test_real_loadavg_and_cpus(release):
    load = H.parse_loadavg(read_fixture(release + "/proc_loadavg.txt"))
    assert set(load) == {"1", "5", "15", "runnable", "threads"}
    assert all(isinstance(load[k], float) for k in ("1", "5", "15"))
    assert load["threads"] > 100 and load["runnable"] >= 1
    assert H.parse_cpu_list(read_fixture(release + "/sys_cpu_online.txt")) == 2


@pytest.mark.parametrize("release", RELEASES)
def test_real_meminfo(release):
    memory = H.memory_summary(H.parse_meminfo(read_fixture(release + "/proc_meminfo.txt")))
    assert memory["total_kb"] == 24684084
    assert 0 < memory["available_kb"] < memory["total_kb"]
    assert memory["available_estimated"] is False
    assert 0 <= memory["used_pct"] <= 100
    assert memory["swap_total_kb"] == 0 and memory["swap_used_pct"] is None


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("resource, has_full", [("cpu", True), ("memory", True), ("io", True)])
def test_real_pressure(release, resource, has_full):
    pressure = H.parse_pressure(read_fixture("%s/proc_pressure_%s.txt" % (release, resource)))
    assert set(pressure["some"]) == {"avg10", "avg60", "avg300", "total"}
    assert (pressure["full"] is not None) is has_full
    assert isinstance(pressure["some"]["total"], int)


def test_real_btime():
    assert H.parse_btime(read_fixture("debian12/proc_stat.txt")) == 1795593289
    assert H.iso_from_epoch(1795593289) == "2026-11-25T07:54:49+00:00"


@pytest.mark.parametrize("release", RELEASES)
def test_real_df(release):
    space = H.parse_df(read_fixture(release + "/df_P_k.txt"), DF_PATHS)
    assert [(r["path"], r["mount"], r["filesystem"]) for r in space] == [
        ("/", "/", "overlay"), ("/var/log", "/", "overlay"), ("/run", "/run", "tmpfs"), ("/tmp", "/tmp", "tmpfs")]
    assert all(r["size_kb"] >= r["used_kb"] >= 0 and 0 <= r["used_pct"] <= 100 for r in space)
    inodes = H.parse_df(read_fixture(release + "/df_P_i.txt"), DF_PATHS)
    merged = H.merge_filesystems(space, inodes)
    assert [(m["mount"], m["paths"]) for m in merged] == [("/", ["/", "/var/log"]), ("/run", ["/run"]), ("/tmp", ["/tmp"])]
    assert merged[0]["inodes"] == 16777216 and merged[0]["inodes_used_pct"] == 4


def test_df_mount_with_spaces_and_missing_rows():
    text = ("Filesystem 1024-blocks Used Available Capacity Mounted on\n"
            "/dev/sdb1 1000 900 100 90% /mnt/my disk\n")
    rows = H.parse_df(text, ["/mnt/my disk", "/gone"])
    assert rows == [{"filesystem": "/dev/sdb1", "size_kb": 1000, "used_kb": 900, "available_kb": 100,
                     "used_pct": 90, "mount": "/mnt/my disk"}]  # 1 row for 2 paths: no path guessed


@pytest.mark.parametrize("release", RELEASES)
def test_real_systemctl_show(release):
    values = H.parse_systemctl_show(read_fixture(release + "/systemctl_show_ssh_health.txt"))
    assert values["Id"] == "ssh.service" and values["LoadState"] == "loaded"
    assert H.systemd_number(values["TasksMax"]) == 28909
    assert H.systemd_number(values["TasksCurrent"]) is None  # "[not set]" in a container
    assert H.systemd_number(values["MemoryMax"]) is None     # "infinity"
    assert H.systemd_number("18446744073709551615") is None


@pytest.mark.parametrize("fixture, expected", [
    ("debian11/journalctl_list_boots.txt",
     [{"index": 0, "boot_id": BOOT_ID, "first_entry": "2026-11-25T08:00:50+00:00", "last_entry": "2026-11-25T08:28:41+00:00"}]),
    ("debian11/journalctl_list_boots_json.txt",  # systemd 247 ignores -o json
     [{"index": 0, "boot_id": BOOT_ID, "first_entry": "2026-11-25T08:00:50+00:00", "last_entry": "2026-11-25T08:28:41+00:00"}]),
    ("debian12/journalctl_list_boots.txt",
     [{"index": 0, "boot_id": BOOT_ID, "first_entry": "2026-11-25T08:18:02+00:00", "last_entry": "2026-11-25T08:25:44+00:00"}]),
    ("debian12/journalctl_list_boots_json.txt",
     [{"index": 0, "boot_id": BOOT_ID, "first_entry": "2026-11-25T08:18:02+00:00", "last_entry": "2026-11-25T08:25:44+00:00"}]),
    ("debian13/journalctl_list_boots_json.txt",
     [{"index": 0, "boot_id": BOOT_ID, "first_entry": "2026-11-25T08:00:50+00:00", "last_entry": "2026-11-25T08:16:20+00:00"}]),
])
def test_real_list_boots(fixture, expected):
    assert H.parse_list_boots(read_fixture(fixture)) == expected


@pytest.mark.parametrize("fixture, boots", [
    ("transcribed/journalctl_list_boots_systemd247.txt", 3),
    ("transcribed/journalctl_list_boots_systemd252.txt", 4),
])
def test_transcribed_multi_boot_lists(fixture, boots):
    parsed = H.parse_list_boots(read_fixture(fixture))
    assert len(parsed) == boots
    assert [b["index"] for b in parsed] == list(range(1 - boots, 1))
    assert all(len(b["boot_id"]) == 32 for b in parsed)
    assert parsed[0]["first_entry"].endswith("+00:00") or " CET" in parsed[0]["first_entry"]


@pytest.mark.parametrize("fixture, expected", [
    ("debian12/last_x_reboot_iso.txt", [
        {"index": None, "boot_id": None, "first_entry": "2026-11-25T08:18:02+00:00", "last_entry": None,
         "kernel": "6.18.44-fc-v669"},
        {"index": None, "boot_id": None, "first_entry": "2026-11-25T08:00:50+00:00",
         "last_entry": "2026-11-25T08:18:01+00:00", "kernel": "6.18.44-fc-v669"}]),
    ("debian12/last_x_reboot.txt", [
        {"index": None, "boot_id": None, "first_entry": "Wed Nov 25 08:18", "last_entry": None, "kernel": "6.18.44-fc-v669"},
        {"index": None, "boot_id": None, "first_entry": "Wed Nov 25 08:00", "last_entry": "08:18", "kernel": "6.18.44-fc-v669"}]),
    ("debian11/last_x_reboot_iso.txt", [
        {"index": None, "boot_id": None, "first_entry": "2026-11-25T08:00:50+00:00", "last_entry": None,
         "kernel": "6.18.44-fc-v669"}]),
])
def test_real_last_reboots(fixture, expected):
    assert H.parse_last_reboots(read_fixture(fixture)) == expected


def _host(release, boots_json=True, last=None, extra=None):
    files = {
        "/proc/uptime": read_fixture(release + "/proc_uptime.txt"),
        "/proc/stat": read_fixture(release + "/proc_stat.txt"),
        "/proc/loadavg": read_fixture(release + "/proc_loadavg.txt"),
        "/proc/meminfo": read_fixture(release + "/proc_meminfo.txt"),
        "/sys/devices/system/cpu/online": read_fixture(release + "/sys_cpu_online.txt"),
        "/proc/sys/kernel/pid_max": read_fixture(release + "/proc_sys_kernel_pid_max.txt"),
        "/proc/sys/kernel/threads-max": read_fixture(release + "/proc_sys_kernel_threads_max.txt"),
        "/run/.containerenv": "",
    }
    for resource in ("cpu", "memory", "io"):
        files["/proc/pressure/" + resource] = read_fixture("%s/proc_pressure_%s.txt" % (release, resource))
    for pid in (1, 57, 99, 120):
        files["/proc/%d" % pid] = ""
    for path in DF_PATHS:
        files[path] = ""
    files.update(extra or {})
    commands = {
        ("df", "-P", "-k", "--") + tuple(DF_PATHS): (0, read_fixture(release + "/df_P_k.txt"), ""),
        ("df", "-P", "-i", "--") + tuple(DF_PATHS): (0, read_fixture(release + "/df_P_i.txt"), ""),
        ("systemctl", "show", "-p", "Id,LoadState,TasksCurrent,TasksMax,MemoryCurrent,MemoryMax", "ssh.service"):
            (0, read_fixture(release + "/systemctl_show_ssh_health.txt"), ""),
        ("journalctl", "--list-boots", "--no-pager", "-o", "json"):
            (0, read_fixture(release + "/journalctl_list_boots_json.txt"), "") if boots_json else (1, "", "No journal files were found.\n"),
    }
    tools = {"df": "/bin/df", "systemctl": "/bin/systemctl", "journalctl": "/bin/journalctl"}
    if last is not None:
        tools["last"] = "/usr/bin/last"
        commands[("last", "-x", "--time-format", "iso", "reboot")] = (0, read_fixture(last), "")
    return FakeHost(commands=commands, files=files, tools=tools)


@pytest.mark.parametrize("release", RELEASES)
def test_collector_on_real_files(release):
    result = H.collect_host_health(_host(release), paths=DF_PATHS)
    assert result["uptime_seconds"] == UPTIME[release]
    assert result["boot_time"] == "2026-11-25T07:54:49+00:00"
    assert result["load"]["cpus"] == 2
    assert result["load"]["per_cpu_1"] == round(result["load"]["1"] / 2, 2)
    assert result["memory"]["total_kb"] == 24684084
    assert set(result["pressure"]) == {"cpu", "memory", "io"}
    assert result["pressure"]["cpu"]["some"]["avg10"] >= 0
    assert [f["mount"] for f in result["filesystems"]] == ["/", "/run", "/tmp"]
    assert result["processes"]["count"] == 4
    assert result["processes"]["pid_max"] == 4194304
    assert result["sshd_tasks"] == {"unit": "ssh.service", "current": None, "max": 28909, "max_text": "28909"}
    assert result["sshd_memory"]["max_bytes"] is None and result["sshd_memory"]["max_text"] == "infinity"
    assert result["recent_boots_source"] == "journalctl"
    assert result["recent_boots"][0]["boot_id"] == BOOT_ID
    assert "this is a container: uptime, load, memory and pressure are the host kernel's" in result["notes"]
    assert any("TasksCurrent is not set" in n for n in result["notes"])


def test_collector_falls_back_to_wtmp():
    result = H.collect_host_health(_host("debian12", boots_json=False, last="debian12/last_x_reboot_iso.txt"),
                                   paths=DF_PATHS)
    assert result["recent_boots_source"] == "wtmp"
    assert [b["first_entry"] for b in result["recent_boots"]] == ["2026-11-25T08:00:50+00:00", "2026-11-25T08:18:02+00:00"]


def test_collector_caps_boots():
    host = _host("debian12", boots_json=False)
    host.commands[("journalctl", "--list-boots", "--no-pager", "-o", "json")] = (
        0, read_fixture("transcribed/journalctl_list_boots_systemd252.txt"), "")
    result = H.collect_host_health(host, paths=DF_PATHS, max_boots=2)
    assert result["truncated"] is True
    assert [b["index"] for b in result["recent_boots"]] == [-1, 0]


def test_collector_on_a_bare_host():
    """No /proc files, no tools: every figure is None and the notes say why."""
    result = H.collect_host_health(FakeHost())
    assert result["uptime_seconds"] is None and result["load"]["cpus"] is None
    assert result["pressure"] == {"cpu": None, "memory": None, "io": None}
    assert result["filesystems"] == [] and result["recent_boots"] == []
    notes = "\n".join(result["notes"])
    assert "no pressure stall information for cpu, memory, io" in notes
    assert "cannot read /proc/meminfo" in notes
    assert "systemctl is not installed" in notes
    assert "neither journalctl nor last is installed" in notes


def test_collector_unit_given_and_not_found():
    host = FakeHost(commands={("systemctl", "show", "-p", "Id,LoadState,TasksCurrent,TasksMax,MemoryCurrent,MemoryMax",
                               "sshd.service"): (0, "Id=sshd.service\nLoadState=not-found\n", "")},
                    tools={"systemctl": "/bin/systemctl"})
    result = H.collect_host_health(host, unit="sshd")
    assert result["sshd_tasks"] == {}
    assert any("no loaded sshd unit among sshd.service" in n for n in result["notes"])


def test_old_kernel_without_memavailable():
    memory = H.memory_summary(H.parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n"))
    assert (memory["available_kb"], memory["available_estimated"], memory["used_pct"]) == (400, True, 60.0)


@pytest.mark.parametrize("text, count", [("0-1", 2), ("0,2-3", 3), ("0", 1), ("", None), ("3-1", None), ("x", None)])
def test_cpu_list(text, count):
    assert H.parse_cpu_list(text) == count


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text):
    H.parse_uptime(text)
    H.parse_loadavg(text)
    H.memory_summary(H.parse_meminfo(text))
    H.parse_pressure(text)
    H.parse_btime(text)
    H.parse_cpu_list(text)
    H.parse_cpuinfo_count(text)
    H.merge_filesystems(H.parse_df(text, ["/"]), H.parse_df(text))
    H.parse_df("Filesystem 1024-blocks Used Available Capacity Mounted on\n" + text)
    H.parse_systemctl_show(text)
    H.systemd_number(text)
    H.parse_list_boots(text)
    H.parse_list_boots("[" + text)
    H.parse_last_reboots(text)
    H.parse_last_reboots("reboot   system boot  " + text)
