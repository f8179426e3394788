# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sshd collector on recorded hosts, and its ss / /proc / ps / ldd parsers.

Every command output under fixtures/debian11|12|13 was captured from the
project's OpenSSH 8.4p1 / 9.2p1 / 10.0p2 containers (see test__sshd_config.py
for the planted configuration). ``ps_sshd.txt`` was taken while two clients
waited at the password prompt (bob and a user that does not exist), one TCP
connection stayed silent, one sent only its banner, and bob was logged in with
a key: sshd's listener title said "4 of 20-80 startups" at that moment.
Where a test needs a state it could not capture (no systemd, ps missing, a
RHEL host), it says so; the rhel9 files are TRANSCRIBED, not captured.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _sshd
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import FIXTURES, FakeHost, read_fixture

SSHD = "/usr/sbin/sshd"
SESSION = "/usr/lib/openssh/sshd-session"
PS = ("ps", "-e", "-ww", "-o", "pid=,ppid=,args=")
SYSTEMCTL = ("systemctl", "show", "-p", ",".join(_sshd.SYSTEMCTL_PROPERTIES)) + _sshd.UNITS
DPKG = ("dpkg-query", "-W", "-f", "${Version}", "openssh-server")
RPM = ("rpm", "-q", "--qf", "%{VERSION}-%{RELEASE}", "openssh-server")
TOOLS = {
    "ps": "/usr/bin/ps",
    "systemctl": "/usr/bin/systemctl",
    "dpkg-query": "/usr/bin/dpkg-query",
    "ssh": "/usr/bin/ssh",
    "ldd": "/usr/bin/ldd",
    "ss": "/usr/bin/ss",
    "sshd": SSHD,
}
VERSIONS = {"debian11": "8.4p1", "debian12": "9.2p1", "debian13": "10.0p2"}


def config_files(release):
    base = os.path.join(FIXTURES, release)
    files = {}
    for root, _dirs, names in os.walk(os.path.join(base, "etc")):
        for name in names:
            full = os.path.join(root, name)
            files["/" + os.path.relpath(full, base)] = read_fixture(os.path.relpath(full, FIXTURES))
    return files


def fx(release, name):
    return read_fixture("%s/%s" % (release, name))


def debian_host(release, root=True, drop_tools=(), commands=None, files=None, systemd=True):
    """A recorded Debian host: every command the collector runs there, captured from the container."""
    cmds = {
        PS: (0, fx(release, "ps_sshd.txt"), ""),
        SYSTEMCTL: (0, fx(release, "systemctl_show_ssh.txt"), ""),
        (SSHD, "-V"): (1 if release == "debian11" else 0, "", fx(release, "sshd_V.txt")),
        DPKG: (0, fx(release, "dpkg_query_openssh_server.txt"), ""),
        ("ssh", "-V"): (0, "", fx(release, "ssh_V.txt")),
        (SSHD, "-t"): (0, "", ""),
        (SSHD, "-T"): (0, fx(release, "sshd_T.txt"), ""),
        ("ldd", SSHD): (0, fx(release, "ldd_sshd.txt"), ""),
        ("ss", "-Hltnp"): (0, fx(release, "ss_listen.txt"), ""),
    }
    if release == "debian13":
        cmds[("ldd", SESSION)] = (0, fx(release, "ldd_sshd_session.txt"), "")
    if not root:
        nonroot_t = fx(release, "sshd_t_nonroot.txt")
        cmds[(SSHD, "-t")] = (1, "", nonroot_t)
        cmds[(SSHD, "-T")] = (1, "", fx(release, "sshd_T_nonroot.txt"))
        cmds[("ss", "-Hltnp")] = (0, fx(release, "ss_listen_nonroot.txt"), "")
    cmds.update(commands or {})
    all_files = config_files(release)
    if systemd:
        all_files["/run/systemd/system"] = ""
    if release == "debian13":
        all_files[SESSION] = "\x7fELF binary"
    all_files.update(files or {})
    tools = dict((k, v) for k, v in TOOLS.items() if k not in drop_tools)
    return FakeHost(commands=cmds, files=all_files, tools=tools, root=root)


# --------------------------------------------------------------------------- #
# the full picture on the three real releases
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("release", sorted(VERSIONS))
def test_collect_on_real_debian_output(release):
    result = _sshd.collect_sshd(debian_host(release))
    assert result["installed"] is True
    assert result["version"] == VERSIONS[release]
    assert result["version_info"] == [int(x) for x in VERSIONS[release].split("p")[0].split(".")]
    assert result["unit"] == "ssh"
    assert result["socket_activated"] is False
    service = result["service"]
    assert (service["source"], service["active_state"], service["sub_state"], service["result"]) == (
        "systemd", "active", "running", "success")
    assert (service["n_restarts"], service["exec_main_status"]) == (0, 0)
    assert service["main_pid"] == result["listeners"][0]["pid"]
    assert service["active_enter_timestamp"].startswith("Wed 2026-11-25")
    assert result["config_valid"] is True and result["config_errors"] == []
    assert result["effective_source"] == "sshd -T"
    assert result["settings"]["client_alive_interval"] == 0
    assert result["settings"]["max_startups"] == {"start": 20, "rate": 40, "full": 80}
    assert result["provenance"]["ClientAliveInterval"]["file"] == "/etc/ssh/sshd_config.d/00-test.conf"
    assert result["provenance"]["MaxStartups"]["file"] == "/etc/ssh/sshd_config"
    assert result["tcp_wrappers"]["honoured"] is True
    assert sorted((x["address"], x["port"], x["process"]) for x in result["listeners"]) == [
        ("0.0.0.0", 22, "sshd"), ("::", 22, "sshd")]
    assert result["preauth_processes"] == 4
    assert result["startups"] == {"current": 4, "start": 20, "full": 80}
    assert result["notes"] == []


@pytest.mark.parametrize(
    "release, source",
    [("debian11", "sshd -V"), ("debian12", "ssh -V"), ("debian13", "sshd -V")],
)
def test_version_source(release, source):
    # 9.2's sshd -V prints "OpenSSH_9.2" only; the client of the same release completes it
    result = _sshd.collect_sshd(debian_host(release))
    assert result["version_source"] == source
    assert result["package_version"] == fx(release, "dpkg_query_openssh_server.txt")


def test_version_from_package_when_ssh_client_missing():
    result = _sshd.collect_sshd(debian_host("debian12", drop_tools=("ssh",)))
    assert (result["version"], result["version_source"]) == ("9.2p1", "package")


def test_libwrap_in_sshd_session_from_10_0():
    result = _sshd.collect_sshd(debian_host("debian13"))
    assert result["tcp_wrappers"] == {
        "honoured": True, "binary": SESSION, "linked": {SSHD: False, SESSION: True}, "method": "ldd"}


def test_libwrap_from_elf_strings_without_ldd():
    # the binary text stands for the ELF's dynamic string table, as read_text returns it: the real
    # sshd of Debian 11/12 and sshd-session of 13 name libwrap.so.0 and import hosts_access (grep -c on each)
    host = debian_host("debian12", drop_tools=("ldd",),
                       files={SSHD: "\x7fELF\ufffd\x00libwrap.so.0\x00libpam.so.0\x00hosts_access\x00"})
    result = _sshd.collect_sshd(host)
    assert result["tcp_wrappers"]["honoured"] is True
    assert result["tcp_wrappers"]["method"] == "elf_strings"


def test_libwrap_from_readelf_when_binutils_is_installed():
    """readelf -d of Debian 13's own binaries (captured after installing binutils in the container)."""
    host = debian_host("debian13", commands={
        ("readelf", "-d", SSHD): (0, fx("debian13", "readelf_d_sshd.txt"), ""),
        ("readelf", "-d", SESSION): (0, fx("debian13", "readelf_d_sshd_session.txt"), "")})
    host.tools["readelf"] = "/usr/bin/readelf"
    result = _sshd.collect_sshd(host)
    assert result["tcp_wrappers"] == {
        "honoured": True, "binary": SESSION, "linked": {SSHD: False, SESSION: True}, "method": "readelf"}
    assert not any(call[0] == "ldd" for call in host.calls)


def test_no_libwrap():
    ldd = "".join(l + "\n" for l in fx("debian12", "ldd_sshd.txt").splitlines() if "libwrap" not in l)
    result = _sshd.collect_sshd(debian_host("debian12", commands={("ldd", SSHD): (0, ldd, "")}))
    assert result["tcp_wrappers"]["honoured"] is False


# --------------------------------------------------------------------------- #
# the awkward cases
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("release", sorted(VERSIONS))
def test_not_root_reads_the_files_and_says_so(release):
    result = _sshd.collect_sshd(debian_host(release, root=False))
    assert result["config_valid"] is None
    assert result["effective_source"] == "config_files"
    assert result["settings"]["client_alive_interval"] == 0
    assert result["settings"]["max_startups"] == {"start": 20, "rate": 40, "full": 80}
    assert result["provenance"]["ClientAliveInterval"]["file"] == "/etc/ssh/sshd_config.d/00-test.conf"
    notes = " ".join(result["notes"])
    assert "not running as root" in notes
    assert "sshd -t could not finish without root" in notes
    assert "sshd -T failed (sshd: no hostkeys available -- exiting.)" in notes
    # ss shows no process without root: the listeners are matched by port
    assert [(x["port"], x["process"]) for x in result["listeners"]] == [(22, None), (22, None)]
    assert "matched by port" in notes


@pytest.mark.parametrize("release", sorted(VERSIONS))
def test_syntax_errors_give_parsed_errors_not_a_traceback(release):
    errors = fx(release, "sshd_t_errors.txt")
    host = debian_host(release, commands={(SSHD, "-t"): (255, "", errors), (SSHD, "-T"): (255, "", errors)})
    result = _sshd.collect_sshd(host)
    assert result["config_valid"] is False
    assert [(e["file"], e["line"]) for e in result["config_errors"]] == [
        ("/etc/ssh/sshd_config.d/10-bad.conf", 1), ("/etc/ssh/sshd_config.d/10-bad.conf", 2)]
    assert result["config_errors"][0]["message"] == "Bad configuration option: Bogus"
    assert result["effective_source"] == "config_files"


def test_missing_privsep_dir_is_not_a_config_error():
    text = fx("debian13", "sshd_t_no_privsep_dir.txt")
    host = debian_host("debian13", commands={(SSHD, "-t"): (255, "", text), (SSHD, "-T"): (255, "", text)})
    result = _sshd.collect_sshd(host)
    assert result["config_valid"] is None
    assert any("Missing privilege separation directory" in n for n in result["notes"])


def test_a_stopped_disabled_sshd_is_diagnosed_as_not_running_not_as_an_invalid_config():
    """Issue 16 keeps this: a booted Debian 12 after `systemctl disable --now ssh.service`
    (systemctl, ps and sshd -t captured there; /run/sshd is gone with the service) and a
    refused port. The hardening role provides /run/sshd for its own check; the diagnosis
    must still call this sshd_not_running."""
    from ansible_collections.sshdoctor.connreset.plugins.module_utils import _rules

    text = fx("debian12", "sshd_placement/sshd_t_no_privsep_dir.txt")
    host = debian_host("debian12", commands={
        PS: (0, fx("debian12", "ps_ssh_stopped.txt"), ""),
        SYSTEMCTL: (0, fx("debian12", "systemctl_show_ssh_stopped_disabled.txt"), ""),
        (SSHD, "-t"): (255, "", text), (SSHD, "-T"): (255, "", text)})
    result = _sshd.collect_sshd(host)
    assert result["config_valid"] is None and result["config_errors"] == []
    assert result["service"]["active_state"] == "inactive"
    probe = {"host": "web1", "port": 22, "address": "192.0.2.10", "outcome": "refused", "outcomes": {"refused": 3},
             "samples_total": 3, "messages": [], "sshd_messages": [], "errors": [], "banner": None}
    findings = _rules.diagnose({"sshd": result}, probe)["findings"]
    assert "inactive" in findings[0]["summary"] or "not running" in findings[0]["summary"]
    causes = [f["cause"] for f in findings]
    assert causes[0] == "sshd_not_running"
    assert "sshd_config_invalid" not in causes


def test_root_without_host_keys_is_invalid_with_message():
    text = fx("debian12", "sshd_t_nonroot.txt")  # the same message as root on a host without keys
    host = debian_host("debian12", commands={(SSHD, "-t"): (1, "", text)})
    result = _sshd.collect_sshd(host)
    assert result["config_valid"] is False
    assert result["config_errors"] == [{"file": None, "line": None, "message": "sshd: no hostkeys available -- exiting."}]


def test_non_utf8_bytes_in_config_and_errors():
    # Host.read_text decodes with errors="replace": undecodable bytes arrive as U+FFFD
    bad = fx("debian12", "sshd_t_nonutf8.txt")
    files = {"/etc/ssh/sshd_config.d/10-bad.conf": "Bogus\ufffd\ufffd yes\nClientAliveInterval\ufffd 5\n"}
    host = debian_host("debian12", commands={(SSHD, "-t"): (255, "", bad), (SSHD, "-T"): (255, "", bad)}, files=files)
    result = _sshd.collect_sshd(host)
    assert result["config_valid"] is False
    assert result["config_errors"][0]["message"] == "Bad configuration option: Bogus\\377\\376"
    assert result["provenance"]["ClientAliveInterval"]["value"] == "0"


@pytest.mark.parametrize(
    "dpkg_answer",
    [
        (0, "", ""),  # after dpkg --purge openssh-server (captured, debian11/dpkg_query_not_installed.txt)
        (1, "", fx("debian12", "dpkg_query_not_installed.txt")),  # a package dpkg never knew (captured)
    ],
)
def test_openssh_not_installed(dpkg_answer):
    # captured on Debian 11 after dpkg --purge openssh-server: no sshd, no ssh.service, nothing listening
    host = FakeHost(
        commands={
            PS: (0, fx("debian11", "ps_not_installed.txt"), ""),
            SYSTEMCTL: (0, fx("debian11", "systemctl_show_not_installed.txt"), ""),
            DPKG: dpkg_answer,
            ("ss", "-Hltnp"): (0, fx("debian11", "ss_listen_not_installed.txt"), ""),
        },
        files={"/run/systemd/system": ""},
        tools=dict((k, v) for k, v in TOOLS.items() if k != "sshd"),
    )
    result = _sshd.collect_sshd(host)
    assert result["installed"] is False
    assert result["version"] is None and result["package_version"] is None
    assert result["config_valid"] is None and result["provenance"] == {}
    assert result["unit"] is None
    assert result["service"]["source"] == "process_table"
    assert result["service"]["active_state"] == "inactive"
    assert result["listeners"] == []
    assert result["preauth_processes"] == 0
    assert result["tcp_wrappers"]["honoured"] is None
    assert result["notes"] == [
        "no ssh.service or sshd.service unit is loaded: the service state comes from the process table",
        "OpenSSH server is not installed (no sshd binary in /usr/sbin, /sbin or PATH)",
    ]


def test_sshd_path_that_does_not_exist():
    result = _sshd.collect_sshd(debian_host("debian12"), sshd_path="/opt/ssh/sbin/sshd")
    assert result["installed"] is False
    assert any("/opt/ssh/sbin/sshd" in n for n in result["notes"])


def test_without_systemd_the_process_table_tells():
    # captured from a Debian 12 container started without systemd (sshd run by hand, no /run/systemd/system)
    host = debian_host("debian12", systemd=False, commands={PS: (0, fx("debian12", "ps_no_systemd.txt"), "")})
    result = _sshd.collect_sshd(host)
    assert SYSTEMCTL not in host.calls
    assert result["unit"] is None
    assert result["service"]["source"] == "process_table"
    assert (result["service"]["active_state"], result["service"]["sub_state"], result["service"]["main_pid"]) == (
        "active", "running", 9)
    assert result["startups"] == {"current": 0, "start": 10, "full": 100}
    assert any("systemd is not running" in n for n in result["notes"])


def test_without_systemd_and_no_sshd_process():
    ps = "".join(l + "\n" for l in fx("debian12", "ps_no_systemd.txt").splitlines() if "sshd" not in l)
    result = _sshd.collect_sshd(debian_host("debian12", systemd=False, commands={PS: (0, ps, "")}))
    assert (result["service"]["active_state"], result["service"]["main_pid"]) == ("inactive", None)


def test_socket_activated_debian13():
    host = debian_host("debian13", commands={
        SYSTEMCTL: (0, fx("debian13", "systemctl_show_socket_activated.txt"), ""),
        ("ss", "-Hltnp"): (0, fx("debian13", "ss_listen_socket_activated.txt"), ""),
        PS: (0, fx("debian13", "ps_idle.txt"), ""),
    })
    result = _sshd.collect_sshd(host)
    assert result["socket_activated"] is True
    assert result["socket"]["unit_id"] == "ssh.socket"
    assert result["service"]["active_state"] == "inactive"
    assert result["listeners"] == [{"address": "*", "port": 22, "process": "systemd", "pid": 1}]


def test_failed_unit_after_bind_failure_debian13():
    # captured: ssh.service failed (status 255) while an orphaned listener kept port 22
    host = debian_host("debian13", commands={SYSTEMCTL: (0, fx("debian13", "systemctl_show_failed.txt"), "")})
    service = _sshd.collect_sshd(host)["service"]
    assert (service["active_state"], service["result"], service["exec_main_status"], service["exec_main_code"]) == (
        "failed", "exit-code", 255, "exited")
    assert service["main_pid"] is None


def test_rhel_layout_unit_sshd_failed_and_not_root():
    # TRANSCRIBED rhel9 files (see fixtures/rhel9/README.md); sshd's non-root message is the real Debian one
    files = config_files("rhel9")
    files["/run/systemd/system"] = ""
    nonroot = fx("debian12", "sshd_t_nonroot.txt")
    host = FakeHost(
        commands={
            PS: (0, "", ""),
            SYSTEMCTL: (0, fx("rhel9", "systemctl_show_sshd.txt"), ""),
            (SSHD, "-V"): (1, "", fx("rhel9", "sshd_V.txt")),
            RPM: (0, fx("rhel9", "rpm_q_openssh_server.txt"), ""),
            (SSHD, "-t"): (1, "", nonroot),
            (SSHD, "-T"): (1, "", nonroot),
            ("ldd", SSHD): (0, "\tlibc.so.6 => /lib64/libc.so.6 (0x00007f0000000000)\n", ""),
            ("ss", "-Hltnp"): (0, "", ""),
        },
        files=files,
        tools={"ps": "/usr/bin/ps", "systemctl": "/usr/bin/systemctl", "rpm": "/usr/bin/rpm", "ldd": "/usr/bin/ldd",
               "ss": "/usr/sbin/ss", "sshd": SSHD},
        root=False,
    )
    result = _sshd.collect_sshd(host)
    assert (result["version"], result["version_source"], result["package_version"]) == ("8.7p1", "sshd -V", "8.7p1-38.el9")
    assert result["unit"] == "sshd"
    assert (result["service"]["active_state"], result["service"]["n_restarts"]) == ("failed", 5)
    assert result["socket_activated"] is False and result["socket"]["unit_id"] == "sshd.socket"
    assert result["config_files"][-1] == "/etc/crypto-policies/back-ends/opensshserver.config"
    assert result["settings"]["client_alive_interval"] == 300
    assert result["settings"]["max_startups"] == {"start": 10, "rate": 30, "full": 100}
    assert result["provenance"]["MaxStartups"]["overridden"] == [
        {"file": "/etc/ssh/sshd_config.d/40-keepalive.conf", "line": 4, "value": "30:30:120"}]
    assert result["tcp_wrappers"]["honoured"] is False  # RHEL dropped libwrap
    assert result["listeners"] == [] and result["preauth_processes"] == 0


def test_ss_missing_falls_back_to_proc_net_tcp():
    host = debian_host("debian12", drop_tools=("ss",), files={
        "/proc/net/tcp": fx("debian12", "proc_net_tcp.txt"),
        "/proc/net/tcp6": fx("debian12", "proc_net_tcp6.txt"),
    })
    result = _sshd.collect_sshd(host)
    assert result["listeners_source"] == "/proc/net/tcp"
    assert sorted((x["address"], x["port"]) for x in result["listeners"]) == [("0.0.0.0", 22), ("::", 22)]


def test_ps_missing_falls_back_to_proc():
    # /proc/PID/cmdline and stat derived from the captured ps_sshd.txt (title in argv[0], NUL-terminated)
    files = {}
    for line in fx("debian12", "ps_sshd.txt").splitlines():
        pid, ppid, args = line.split(None, 2)
        files["/proc/%s/cmdline" % pid] = args + "\x00"
        files["/proc/%s/stat" % pid] = "%s (%s) S %s 1 1 0 -1" % (pid, args.split()[0][:15], ppid)
    result = _sshd.collect_sshd(debian_host("debian12", drop_tools=("ps",), files=files))
    assert result["preauth_processes"] == 4
    assert result["startups"] == {"current": 4, "start": 20, "full": 80}


def test_match_criteria_are_passed_to_sshd_T_C():
    spec = "user=bob,host=client.example,addr=10.88.0.99"
    host = debian_host("debian12", commands={(SSHD, "-T", "-C", spec): (0, fx("debian12", "sshd_T_match_bob.txt"), "")})
    result = _sshd.collect_sshd(host, match={"user": "bob", "host": "client.example", "addr": "10.88.0.99", "lport": None})
    assert result["match"]["criteria"] == spec
    assert result["match"]["settings"]["client_alive_interval"] == 7
    assert result["settings"]["client_alive_interval"] == 0


def test_config_path_is_passed_as_f():
    host = debian_host("debian12", commands={
        (SSHD, "-t", "-f", "/etc/ssh/alt_config"): (0, "", ""),
        (SSHD, "-T", "-f", "/etc/ssh/alt_config"): (0, fx("debian12", "sshd_T.txt"), ""),
    }, files={"/etc/ssh/alt_config": "ClientAliveInterval 45\n"})
    result = _sshd.collect_sshd(host, config_path="/etc/ssh/alt_config")
    assert result["config_path"] == "/etc/ssh/alt_config"
    assert result["config_files"] == ["/etc/ssh/alt_config"]
    assert result["provenance"]["ClientAliveInterval"]["value"] == "45"


# --------------------------------------------------------------------------- #
# option checks
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"config_path": "sshd_config"}, "config_path must be an absolute path"),
        ({"sshd_path": "sbin/sshd"}, "sshd_path must be an absolute path"),
        ({"match": {"user": None}}, "match needs at least one of"),
        ({"match": {"user": "a,b"}}, "match.user must not contain"),
        ({"match": {"host": "a b"}}, "match.host must not contain"),
        ({"match": {"addr": "not-an-ip"}}, "match.addr must be an IP address"),
        ({"match": {"lport": 70000}}, "match.lport must be a port number"),
    ],
)
def test_validate_options_errors(kwargs, fragment):
    errors = _sshd.validate_options(**kwargs)
    assert len(errors) == 1 and fragment in errors[0]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"config_path": "/etc/ssh/sshd_config"}, {"match": {"user": "bob", "addr": "10.0.0.1", "lport": 22}},
     {"match": {"addr": "2001:db8::1"}}],
)
def test_validate_options_accepts(kwargs):
    assert _sshd.validate_options(**kwargs) == []


# --------------------------------------------------------------------------- #
# parsers
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "text, expected",
    [
        (fx("debian12", "ss_listen.txt"), [("0.0.0.0", 22, "sshd", 96), ("::", 22, "sshd", 96)]),
        (fx("debian13", "ss_listen_nonroot.txt"), [("0.0.0.0", 22, None, None), ("::", 22, None, None)]),
        (fx("debian13", "ss_listen_socket_activated.txt"), [("*", 22, "systemd", 1)]),
        ('LISTEN 0 128 127.0.0.1%lo:2222 0.0.0.0:* users:(("sshd",pid=5,fd=3))\n', [("127.0.0.1", 2222, "sshd", 5)]),
        ("State Recv-Q Send-Q Local Address:Port Peer Address:Port\n", []),
        ("garbage\n", []),
    ],
)
def test_parse_ss_listeners(text, expected):
    assert [(x["address"], x["port"], x["process"], x["pid"]) for x in _sshd.parse_ss_listeners(text)] == expected


@pytest.mark.parametrize(
    "fixture, ipv6, expected",
    [
        ("debian12/proc_net_tcp.txt", False, [("0.0.0.0", 22)]),
        ("debian12/proc_net_tcp6.txt", True, [("::", 22)]),
    ],
)
def test_parse_proc_net_tcp(fixture, ipv6, expected):
    assert [(x["address"], x["port"]) for x in _sshd.parse_proc_net_tcp(read_fixture(fixture), ipv6)] == expected


def test_parse_proc_net_tcp_addresses():
    v4 = "  0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n"
    v6 = "  0: 00000000000000000000000001000000:08AE 00000000000000000000000000000000:0000 0A 0\n"
    assert _sshd.parse_proc_net_tcp(v4)[0]["address"] == "127.0.0.1"
    assert _sshd.parse_proc_net_tcp(v6, ipv6=True)[0] == {"address": "::1", "port": 2222, "process": None, "pid": None}


@pytest.mark.parametrize(
    "fixture, expected",
    [
        ("debian11/ps_sshd.txt", 4),
        ("debian12/ps_sshd.txt", 4),
        ("debian13/ps_sshd.txt", 4),
        ("debian12/ps_idle.txt", 0),
        ("debian13/ps_socket_activated.txt", 2),
    ],
)
def test_count_preauth_matches_sshd_own_count(fixture, expected):
    processes = _sshd.parse_ps(read_fixture(fixture))
    assert _sshd.count_preauth(processes) == expected
    titles = [_sshd.parse_listener_title(p["args"]) for p in processes if _sshd.is_listener(p)]
    assert titles[0]["current"] == expected


@pytest.mark.parametrize(
    "ps_text, expected",
    [
        # OpenSSH before 8.2: no listener title, "[preauth]" child of a "[priv]" monitor (RHEL 7 style, written by hand)
        ("1 0 /sbin/init\n900 1 /usr/sbin/sshd -D\n901 900 sshd: root [priv]\n902 901 sshd: root [preauth]\n", 1),
        ("900 1 /usr/sbin/sshd -D\n901 900 sshd: bob [priv]\n902 901 sshd: bob@pts/0\n", 0),
        ("900 1 /usr/sbin/sshd -D\n903 900 sshd: bob [priv]\n904 903 sshd: bob@internal-sftp\n", 0),
        ("", 0),
    ],
)
def test_count_preauth_old_titles(ps_text, expected):
    assert _sshd.count_preauth(_sshd.parse_ps(ps_text)) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("[::]:22 (Stream)", [22]), ("0.0.0.0:22 (Stream) [::]:2222 (Stream)", [22, 2222]), ("22 (Stream)", [22]), ("", []), (None, [])],
)
def test_parse_socket_listen(text, expected):
    assert _sshd.parse_socket_listen(text) == expected


TEXT = st.text(max_size=400)


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_parsers_never_raise(text):
    _sshd.parse_ss_listeners(text)
    _sshd.parse_proc_net_tcp(text)
    _sshd.parse_proc_net_tcp(text, ipv6=True)
    processes = _sshd.parse_ps(text)
    _sshd.count_preauth(processes)
    _sshd.parse_listener_title(text)
    _sshd.parse_proc_stat_ppid(text)
    _sshd.parse_socket_listen(text)
    _sshd.split_host_port(text)


@settings(max_examples=60, deadline=None)
@given(TEXT, TEXT, TEXT, st.integers(0, 255))
def test_collector_never_raises_on_arbitrary_output(sshd_T, sshd_t, ps_text, rc):
    host = debian_host("debian12", commands={
        (SSHD, "-T"): (rc, sshd_T, sshd_t),
        (SSHD, "-t"): (rc, "", sshd_t),
        PS: (0, ps_text, ""),
        SYSTEMCTL: (rc, sshd_T, ""),
        ("ss", "-Hltnp"): (0, ps_text, ""),
    }, files={"/etc/ssh/sshd_config.d/50-cloud-init.conf": sshd_T})
    result = _sshd.collect_sshd(host)
    assert isinstance(result["notes"], list)
