# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""oom_events_info's kernel-log parser and collector.

debian11/12/13 dmesg_oom_memcg_hostkernel.txt are REAL: raw ``dmesg`` run inside each
container (with CAP_SYSLOG), after a memory hog hit the container's 256 MiB limit
with the victim chosen by raising its oom_score_adj (sshd-session on Debian 13, the
per-connection sshd on Debian 11 and 12). The ring buffer is not namespaced: this is
the HOST's kernel (6.18) log, with the host's pids. kernel4/ (4.x "Kill process ...
or sacrifice child", RHEL 6's "Killed process N, UID U, (name)") and kernel5/ (a
journalctl -k capture, key=value fields in another order) are TRANSCRIBED: no such
kernels here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _oom as O
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import FakeHost, read_fixture
from ansible_collections.sshdoctor.connreset.tests.unit.timing import growth_below

BTIME = 1795593289  # /proc/stat btime of the machine the real fixtures come from
D13_CGROUP = "/libpod_parent/libpod-cf8b2044a4bb42527eb2e62578acd73397e8fd3b6d54c5304f5cdc6a8b468b85"
D11_CGROUP = "/libpod_parent/libpod-d34d68219189ab3630e3379fc27752c008bfb8e6d29af738407c32b92da7903c"


@pytest.mark.parametrize("release, victims", [
    ("debian11", [(24288, "sshd", True, 1000), (27687, "python3", False, 0)]),
    ("debian12", [(8231, "sshd", True, 1000), (8784, "python3", False, 0)]),
    ("debian13", [(8158, "sshd-session", True, 1000), (8749, "python3", False, 0),
                  (8231, "sshd", True, 1000), (8784, "python3", False, 0)]),
])
def test_real_memcg_kills(release, victims):
    events = O.parse_kernel_log(read_fixture(release + "/dmesg_oom_memcg_hostkernel.txt"), boot_time=BTIME)
    assert [(e["pid"], e["name"], e["is_sshd"], e["oom_score_adj"]) for e in events] == victims
    for event in events:
        assert event["constraint"] == "CONSTRAINT_MEMCG"
        assert event["cgroup"]["kind"] == "memcg"
        assert event["cgroup"]["path"].startswith("/libpod_parent/libpod-")
        assert event["uid"] == 0
        assert event["invoked_by"] == "python3"
        assert event["boot"] == 0 and event["source"] == "dmesg"
        assert "Killed process %d" % event["pid"] in event["line"]


def test_real_sshd_session_victim_in_detail():
    event = O.parse_kernel_log(read_fixture("debian13/dmesg_oom_memcg_hostkernel.txt"), boot_time=BTIME)[0]
    assert event == {
        "time": "2026-11-25T08:03:08.914018+00:00",
        "monotonic": 499.914018,
        "boot": 0,
        "pid": 8158,
        "name": "sshd-session",
        "uid": 0,
        "total_vm_kb": 18652,
        "anon_rss_kb": 1664,
        "file_rss_kb": 8164,
        "shmem_rss_kb": 0,
        "pgtables_kb": 80,
        "oom_score_adj": 1000,
        "score": None,
        "constraint": "CONSTRAINT_MEMCG",
        "cgroup": {"kind": "memcg", "path": D13_CGROUP, "task_memcg": D13_CGROUP},
        "invoked_by": "python3",
        "is_sshd": True,
        "source": "dmesg",
        "line": "[  499.914018] Memory cgroup out of memory: Killed process 8158 (sshd-session) total-vm:18652kB, "
                "anon-rss:1664kB, file-rss:8164kB, shmem-rss:0kB, UID:0 pgtables:80kB oom_score_adj:1000",
    }


def test_without_boot_time_only_the_monotonic_stamp_is_known():
    event = O.parse_kernel_log(read_fixture("debian12/dmesg_oom_memcg_hostkernel.txt"))[0]
    assert event["time"] is None and event["monotonic"] == 500.137954


def test_old_kernel_global_and_memcg_transcribed():
    events = O.parse_kernel_log(read_fixture("kernel4/dmesg_oom_global.txt"), boot_time=0)
    first, second = events
    assert (first["pid"], first["name"], first["is_sshd"], first["score"]) == (1234, "sshd", True, 901)
    assert first["constraint"] is None and first["cgroup"]["kind"] == "global"
    assert (first["total_vm_kb"], first["anon_rss_kb"], first["file_rss_kb"]) == (98765, 54321, 12)
    assert first["uid"] is None and first["oom_score_adj"] is None
    assert first["invoked_by"] == "sshd"
    assert (second["pid"], second["name"], second["score"]) == (4321, "java", 1000)
    assert second["constraint"] == "CONSTRAINT_MEMCG"
    assert second["cgroup"] == {"kind": "memcg", "path": "/system.slice/app.service",
                                "task_memcg": "/system.slice/app.service"}


def test_rhel6_killed_process_with_uid_first_transcribed():
    (event,) = O.parse_kernel_log(read_fixture("kernel4/dmesg_oom_rhel6.txt"))
    assert (event["pid"], event["name"], event["uid"], event["score"], event["total_vm_kb"]) == (
        2222, "sshd", 0, 850, 66000)


def test_journalctl_k_with_key_values_in_any_order_transcribed():
    events = O.parse_kernel_log(read_fixture("kernel5/journal_k_oom_global.txt"), boot=-1, source="journald")
    sshd, hog = events
    assert sshd["time"] == "2026-11-25T08:01:40.100400+00:00" and sshd["monotonic"] is None
    assert sshd["constraint"] == "CONSTRAINT_NONE"
    assert sshd["cgroup"] == {"kind": "global", "path": "/system.slice/sshd.service",
                              "task_memcg": "/system.slice/sshd.service"}
    assert sshd["is_sshd"] and sshd["boot"] == -1 and sshd["source"] == "journald"
    assert hog["constraint"] == "CONSTRAINT_MEMCG" and hog["uid"] == 1000 and hog["oom_score_adj"] == 500
    assert hog["cgroup"] == {"kind": "memcg", "path": "/user.slice/user-1000.slice",
                             "task_memcg": "/user.slice/user-1000.slice/session-3.scope"}


@pytest.mark.parametrize("line, expected", [
    ("[Wed Nov 25 08:03:08 2026] Out of memory: Killed process 5 (sshd-auth) total-vm:1kB, anon-rss:1kB, "
     "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:0", ("Wed Nov 25 08:03:08 2026", "sshd-auth")),
    ("Nov 25 08:03:08 host kernel: Out of memory (oom_kill_allocating_task): Killed process 6 (sshd) "
     "total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB", ("Nov 25 08:03:08", "sshd")),
])
def test_other_time_formats(line, expected):
    (event,) = O.parse_kernel_log(line)
    assert (event["time"], event["name"]) == expected
    assert event["is_sshd"]


def test_a_summary_for_another_pid_is_not_attached():
    text = ("[1.0] oom-kill:constraint=CONSTRAINT_MEMCG,task=other,pid=1,uid=0,oom_memcg=/x\n"
            "[1.1] Out of memory: Killed process 2 (sshd) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB\n")
    (event,) = O.parse_kernel_log(text)
    assert event["constraint"] is None and event["cgroup"] == {"kind": "global", "path": None, "task_memcg": None}


@pytest.mark.parametrize("text, expected", [
    ("cpu  1 2 3\nbtime 1795593289\nprocesses 9\n", 1795593289),
    ("no such line", None),
    (None, None),
])
def test_parse_btime(text, expected):
    assert O.parse_btime(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("4:memory:%s\n0::%s/init.scope\n" % (D11_CGROUP, D11_CGROUP), D11_CGROUP),  # cgroup v1 (real, Debian 11)
    ("0::/\n", None),  # cgroup v2 with a cgroup namespace
    ("0::/machine.slice/libpod-abc.scope/init.scope\n", "/machine.slice/libpod-abc.scope"),
    ("", None),
])
def test_container_cgroup(text, expected):
    assert O.container_cgroup(text) == expected


# --- the collector -----------------------------------------------------------------------------
JOURNAL_K = ("journalctl", "--no-pager", "-q", "-k", "-b")
TAIL = ("-o", "short-iso-precise", "-n", str(O.MAX_KERNEL_LINES), "-g", O.KERNEL_GREP)
NO_PREVIOUS = (1, "", read_fixture("debian12/journal_no_previous_boot.txt"))


def test_collect_in_debian11_container_flags_its_own_sshd_victim():
    host = FakeHost(
        commands={
            ("dmesg",): (0, read_fixture("debian13/dmesg_oom_memcg_hostkernel.txt")
                         + read_fixture("debian11/dmesg_oom_memcg_hostkernel.txt"), ""),
            JOURNAL_K + ("-1",) + TAIL: NO_PREVIOUS,
        },
        files={"/proc/stat": "btime %d\n" % BTIME, "/run/systemd/container": "podman\n",
               "/proc/1/cgroup": "4:memory:%s\n" % D11_CGROUP},
        tools={"dmesg": "/usr/bin/dmesg", "journalctl": "/usr/bin/journalctl"},
    )
    result = O.collect_oom(host)
    assert result["source"] == "dmesg" and result["in_container"] is True
    assert [e["in_this_container"] for e in result["events"]] == [False, False, False, False, True, True]
    assert result["sshd_victims"] == 1  # the other containers' sshd victims do not count
    assert any("host kernel's ring buffer" in note for note in result["notes"])
    assert any("no previous boot" in note for note in result["notes"])
    json.dumps(result)


def test_dmesg_not_permitted_falls_back_to_journalctl_k():
    host = FakeHost(
        commands={
            ("dmesg",): (1, "", read_fixture("debian12/dmesg_not_permitted_stderr.txt")),
            JOURNAL_K + ("0",) + TAIL: (0, read_fixture("kernel5/journal_k_oom_global.txt"), ""),
            JOURNAL_K + ("-1",) + TAIL: (1, "", ""),  # grep matched nothing in the previous boot
        },
        tools={"dmesg": "/usr/bin/dmesg", "journalctl": "/usr/bin/journalctl"},
    )
    result = O.collect_oom(host)
    assert result["source"] == "journald"
    assert result["sources"] == [{"boot": 0, "source": "journald"}, {"boot": -1, "source": "journald"}]
    assert [e["name"] for e in result["events"]] == ["sshd", "python3"]
    assert result["sshd_victims"] == 1
    assert result["in_container"] is False
    assert any("not permitted" in note for note in result["notes"])


def test_previous_boot_events_come_first_and_the_cap_keeps_the_newest():
    host = FakeHost(
        commands={
            ("dmesg",): (0, read_fixture("debian12/dmesg_oom_memcg_hostkernel.txt"), ""),
            JOURNAL_K + ("-1",) + TAIL: (0, read_fixture("kernel5/journal_k_oom_global.txt"), ""),
        },
        files={"/proc/stat": "btime %d\n" % BTIME},
        tools={"dmesg": "/usr/bin/dmesg", "journalctl": "/usr/bin/journalctl"},
    )
    full = O.collect_oom(host)
    expected = [(-1, "sshd"), (-1, "python3"), (0, "sshd"), (0, "python3")]
    assert [(e["boot"], e["name"]) for e in full["events"]] == expected
    # the current boot's kills were in a podman container's cgroup (this host is not that container): apart
    assert full["sshd_victims"] == 1 and full["container_victims"] == 2 and full["truncated"] is False
    capped = O.collect_oom(host, max_events=1)
    assert [(e["boot"], e["name"]) for e in capped["events"]] == [(0, "python3")]
    assert capped["truncated"] is True and capped["sshd_victims"] == 0


def test_journalctl_without_grep_support_reads_bounded_lines():
    host = FakeHost(
        commands={
            JOURNAL_K + ("0",) + TAIL: (1, "", "Compiled without pattern matching support"),
            JOURNAL_K + ("0", "-o", "short-iso-precise", "-n", str(O.MAX_KERNEL_LINES)): (
                0, read_fixture("kernel5/journal_k_oom_global.txt"), ""),
        },
        tools={"journalctl": "/usr/bin/journalctl"},
    )
    result = O.collect_oom(host, previous_boot=False)
    assert len(result["events"]) == 2
    assert any("dmesg is not installed" in note for note in result["notes"])


def test_nothing_readable():
    result = O.collect_oom(FakeHost())
    assert result["source"] is None and result["events"] == [] and result["sshd_victims"] == 0
    assert any("journalctl is not installed" in note for note in result["notes"])


def test_journal_permission_problem_is_noted():
    host = FakeHost(
        commands={
            ("dmesg",): (1, "", "dmesg: read kernel buffer failed: Operation not permitted"),
            JOURNAL_K + ("0",) + TAIL: (1, "", "No journal files were opened due to insufficient permissions."),
            JOURNAL_K + ("0", "-o", "short-iso-precise", "-n", str(O.MAX_KERNEL_LINES)): (
                1, "", "No journal files were opened due to insufficient permissions."),
        },
        tools={"dmesg": "/usr/bin/dmesg", "journalctl": "/usr/bin/journalctl"},
    )
    result = O.collect_oom(host, previous_boot=False)
    assert result["source"] is None
    assert any("become: true" in note for note in result["notes"])


# --- victims in other cgroups: containers, sshd's unit, sessions ----------------------------------
def test_a_host_that_runs_containers_reports_their_kills_apart():
    """REAL: three containers' kills (the debian11 and debian13 captures: podman cgroups in the host kernel's ring
    buffer), read on a host that is not a container: six victims, three of them named sshd, none this host's."""
    text = read_fixture("debian11/dmesg_oom_memcg_hostkernel.txt") + read_fixture("debian13/dmesg_oom_memcg_hostkernel.txt")
    host = FakeHost(commands={("dmesg",): (0, text, ""), JOURNAL_K + ("-1",) + TAIL: NO_PREVIOUS},
                    files={"/proc/stat": "btime %d\n" % BTIME},
                    tools={"dmesg": "/usr/bin/dmesg", "journalctl": "/usr/bin/journalctl"})
    result = O.collect_oom(host)
    assert result["in_container"] is False
    assert len(result["events"]) == 6 and sum(e["is_sshd"] for e in result["events"]) == 3
    assert result["sshd_victims"] == 0
    assert result["container_victims"] == 6
    assert sorted((c["runtime"], c["id"][:8], c["kills"], c["sshd_kills"]) for c in result["containers"]) == [
        ("podman", "c8ae1e69", 2, 1), ("podman", "cf8b2044", 2, 1), ("podman", "d34d6821", 2, 1)]
    assert result["containers"][0]["cgroup"].startswith("/libpod_parent/libpod-")
    assert all(e["cgroup"]["owner"] == "container" and not e["counts_for_sshd"] for e in result["events"])
    assert any("inside container cgroups (podman)" in note for note in result["notes"])


def test_a_kill_in_sshds_own_unit_counts_for_sshd():
    """REAL: sshd's per-connection process killed in a memory cgroup named for ssh.service (made by hand on the host
    under the container's cgroup: systemd in the container cannot create memory cgroups on v1; the kill and its
    lines are the kernel's own)."""
    text = read_fixture("debian12/dmesg_oom_memcg_ssh_service_hostkernel.txt")
    events = O.place_events(O.parse_kernel_log(text, boot_time=1796203478))
    assert [(e["name"], e["cgroup"]["owner"], e["counts_for_sshd"]) for e in events] == [
        ("sshd", "container", False), ("python3", "container", False)]
    own = "/libpod_parent/libpod-444ccd67b54543dac2db649db08f4ea312e562a9541441b5fbd9e52f2ecf5314"
    host = FakeHost(commands={("dmesg",): (0, text, ""), JOURNAL_K + ("-1",) + TAIL: NO_PREVIOUS},
                    files={"/proc/stat": "btime 1796203478\n", "/run/.containerenv": "",
                           "/proc/1/cgroup": "4:memory:%s\n" % own},
                    tools={"dmesg": "/usr/bin/dmesg", "journalctl": "/usr/bin/journalctl"})
    result = O.collect_oom(host)
    sshd = result["events"][0]
    assert sshd["name"] == "sshd" and sshd["oom_score_adj"] == 1000
    assert sshd["cgroup"]["owner"] == "sshd" and sshd["in_this_container"] is True
    assert result["sshd_victims"] == 1 and result["container_victims"] == 0


@pytest.mark.parametrize("path, owner, runtime", [
    # real (this machine, podman's cgroupfs driver)
    ("/libpod_parent/libpod-cf8b2044a4bb42527eb2e62578acd73397e8fd3b6d54c5304f5cdc6a8b468b85", "container", "podman"),
    # transcribed: the runtimes' documented cgroup names (no docker, containerd or kubelet here)
    ("/machine.slice/libpod-0123456789abcdef0123456789abcdef.scope", "container", "podman"),
    ("/machine.slice/libpod-0123456789abcdef0123456789abcdef.scope/container", "container", "podman"),
    ("/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope", "container", "docker"),
    ("/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "container", "docker"),
    ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/"
     "cri-containerd-0123456789abcdef0123456789abcdef.scope", "container", "kubernetes"),
    ("/kubepods/burstable/pod1234-5678/0123456789abcdef", "container", "kubernetes"),
    ("/system.slice/containerd.service/kubepods-besteffort-pod1.slice:cri-containerd:0123456789abcdef", "container",
     "kubernetes"),
    ("/containerd/default/0123456789abcdef", "container", "containerd"),
    ("/system.slice/crio-0123456789abcdef0123456789abcdef.scope", "container", "crio"),
    ("/lxc.payload.web1", "container", "lxc"),
    ("/machine.slice/machine-web1.scope", "container", "nspawn"),
    ("/system.slice/ssh.service", "sshd", None),
    ("/system.slice/sshd.service", "sshd", None),
    ("/system.slice/system-ssh.slice/ssh@0-10.0.0.1:22-10.0.0.5:40000.service", "sshd", None),
    ("/user.slice/user-1000.slice/session-3.scope", "session", None),
    ("/system.slice/cron.service", "other", None),
    ("/", None, None),
    (None, None, None),
])
def test_cgroup_owner(path, owner, runtime):
    found, container = O.cgroup_owner(path)
    assert found == owner
    assert (container or {}).get("runtime") == runtime


def test_an_sshd_in_another_service_is_not_this_hosts_sshd():
    events = O.place_events([{"is_sshd": True, "cgroup": {"task_memcg": "/system.slice/backup-tunnel.service"}},
                             {"is_sshd": True, "cgroup": {"task_memcg": None}}])
    assert [e["counts_for_sshd"] for e in events] == [False, True]  # an unknown cgroup keeps the name's word


# --- linear time (issue 17) ------------------------------------------------------------------------
# The name group of "(?P<name>\\S.*?) invoked oom-killer: " was searched on every line with an OOM keyword: a
# real 389-character line cost 0.7 ms, 20,000 of them 5.5 s, one 32 KB line 4.6 s.
OOM_HOSTILE = [
    ("invoked_long_name", lambda n: "[    1.0] " + "x" * n + " invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0"),
    ("invoked_spaces", lambda n: "[    1.0] a" + " " * n + "invoked oom-killer: "),
    # the case: a line with an OOM keyword and a long rest without " invoked oom-killer: "
    ("oom_keyword_then_words", lambda n: "[    1.0] Out of memory: " + "x " * (n // 2)),
    ("oom_keyword_then_spaces", lambda n: "[    1.0] Memory cgroup out of memory:" + " " * n + "x"),
    ("long_name_without_the_colon", lambda n: "[    1.0] Out of memory " + "x" * n + " invoked oom-killer"),
    ("killed_repeated", lambda n: "[    1.0] " + "Killed process 1 (" * (n // 18)),
    ("task_in_token", lambda n: "[    1.0] Task in " + "a" * n),
    ("summary_repeated", lambda n: "[    1.0] oom-kill:" * (n // 16)),
    ("out_of_memory_repeated", lambda n: "[    1.0] " + "Out of memory: " * (n // 15)),
    ("figures", lambda n: "[    1.0] Out of memory: Killed process 1 (sshd) " + "total-vm:1kB, " * (n // 14)),
]


@pytest.mark.parametrize("name, make", OOM_HOSTILE, ids=[n for n, m in OOM_HOSTILE])
def test_the_kernel_line_patterns_are_linear_below_the_cap(name, make):
    """Below the 4096-character cap, 4 times the line costs about 4 times as much (a quadratic pattern: 16)."""
    assert growth_below(O.parse_kernel_log, make, 10, small=1024, big=4096) < 10


@pytest.mark.parametrize("name, make", OOM_HOSTILE, ids=[n for n, m in OOM_HOSTILE])
def test_a_64k_kernel_line_costs_a_small_multiple_of_a_1k_line(name, make):
    """Each line is parsed on its first 4096 characters: a 64 KB line costs at most 20 times a 1 KB one."""
    assert growth_below(O.parse_kernel_log, make, 20) < 20


def test_real_oom_lines_cost_the_same_each_however_many():
    """20,000 real kernel lines of an OOM kill (the debian12 capture, repeated) cost per line what 1,000 do."""
    real = read_fixture("debian12/dmesg_oom_memcg_hostkernel.txt").splitlines()

    def make(n):
        return "\n".join((real * (n // len(real) + 1))[:n])
    assert growth_below(O.parse_kernel_log, make, 40, small=1000, big=20000) < 40  # 20 times the lines


# --- properties --------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.text(), st.one_of(st.none(), st.integers(0, 2 ** 33)))
def test_parser_never_raises_on_arbitrary_text(text, boot_time):
    O.parse_kernel_log(text, boot_time=boot_time)
    O.split_stamp(text, boot_time)
    O.parse_btime(text)
    O.container_cgroup(text)


KERNEL_WORDS = st.sampled_from([
    "Killed process ", "Kill process ", "oom-kill:", "invoked oom-killer: ", "Task in /a killed as a result of limit of ",
    "Memory cgroup out of memory: ", "Out of memory: ", "(", ")", " score ", " or sacrifice child", ",", "=", "kB",
    "total-vm:", "UID:", "pid=", "12", "-1", "[ 1.5] ", "\n", " ",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(KERNEL_WORDS, max_size=30), st.one_of(st.none(), st.integers(0, 2 ** 33)))
def test_parser_never_raises_on_shuffled_kernel_fragments(words, boot_time):
    for event in O.parse_kernel_log("".join(words), boot_time=boot_time):
        assert event["cgroup"]["kind"] in ("memcg", "global")
        assert isinstance(event["is_sshd"], bool)


@settings(max_examples=100, deadline=None)
@given(st.binary())
def test_parser_never_raises_on_arbitrary_bytes(data):
    O.parse_kernel_log(data.decode("utf-8", "replace"), boot_time=0)
