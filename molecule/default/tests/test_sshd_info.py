"""sshd_info must report what the container really has: the checks compare its
result with dpkg, systemctl and `sshd -T` run in the same container."""

import re

from conftest import target_hosts

testinfra_hosts = target_hosts()


def effective(host, keyword):
    """One keyword's value as `sshd -T` prints it (the ground truth)."""
    for line in host.check_output("sshd -T").splitlines():
        key, dummy, value = line.partition(" ")
        if key == keyword:
            return value
    raise AssertionError("sshd -T printed no %s" % keyword)


def test_reports_the_installed_openssh_version(host, module_result):
    info = module_result("sshd_info")
    # `ssh -V` names the portable release (OpenSSH_9.2p1 ...); on Debian 12 `sshd -V`
    # says only "OpenSSH_9.2", and on Debian 13 the package says 10.0p1 for a 10.0p2 binary.
    client = host.run("ssh -V").stderr  # OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL ...
    release = client.split()[0].split("_", 1)[1].rstrip(",")
    assert info["installed"] is True
    assert info["version"] == release
    assert info["unit"] == "ssh"


def test_reports_the_real_unit_state(host, module_result):
    info = module_result("sshd_info")
    shown = dict(
        line.split("=", 1)
        for line in host.check_output("systemctl show ssh -p ActiveState,SubState,MainPID,NRestarts").splitlines()
    )
    assert info["service"]["active_state"] == shown["ActiveState"] == "active"
    assert info["service"]["sub_state"] == shown["SubState"]
    assert info["service"]["main_pid"] == int(shown["MainPID"])
    assert info["service"]["n_restarts"] == int(shown["NRestarts"])


def test_effective_client_alive_interval_matches_sshd_T(host, module_result):
    info = module_result("sshd_info")
    assert info["config_valid"] is True
    assert info["settings"]["client_alive_interval"] == int(effective(host, "clientaliveinterval")) == 0


def test_first_dropin_supplies_client_alive_interval_and_overrides_cloud_init(host, module_result):
    winner = module_result("sshd_info")["provenance"]["ClientAliveInterval"]
    assert winner["file"] == "/etc/ssh/sshd_config.d/00-test.conf"
    assert winner["line"] == 1
    overridden = [(o["file"], o["line"]) for o in winner["overridden"]]
    assert ("/etc/ssh/sshd_config.d/50-cloud-init.conf", 1) in overridden


def test_last_maxstartups_line_wins_and_matches_sshd_T(host, module_result):
    info = module_result("sshd_info")
    start, rate, full = (int(n) for n in effective(host, "maxstartups").split(":"))
    assert info["settings"]["max_startups"] == {"start": start, "rate": rate, "full": full} == {"start": 7, "rate": 40, "full": 30}
    line_number = int(host.check_output("grep -n '^MaxStartups 7:40:30' /etc/ssh/sshd_config").split(":", 1)[0])
    winner = info["provenance"]["MaxStartups"]
    assert (winner["file"], winner["line"]) == ("/etc/ssh/sshd_config", line_number)
    assert ("/etc/ssh/sshd_config.d/50-cloud-init.conf", 2) in [(o["file"], o["line"]) for o in winner["overridden"]]


def test_tcp_wrappers_are_honoured_by_debian_builds(host, module_result):
    # Debian links libwrap into sshd (8.4, 9.2) or sshd-session (10.0).
    binary = "/usr/lib/openssh/sshd-session" if host.file("/usr/lib/openssh/sshd-session").exists else "/usr/sbin/sshd"
    assert "libwrap" in host.check_output("ldd %s" % binary)
    assert module_result("sshd_info")["tcp_wrappers"]["honoured"] is True


def test_listeners_are_the_sockets_sshd_listens_on(host, module_result):
    listening = set()
    for line in host.check_output("ss -Hltnp").splitlines():
        if '"sshd"' in line:
            local = line.split()[3]
            listening.add(int(re.sub(r".*:", "", local)))
    reported = {entry["port"] for entry in module_result("sshd_info")["listeners"]}
    assert reported == listening == {22}


def test_check_mode_run_reports_no_change(ansible_host):
    result = ansible_host.ansible("sshdoctor.connreset.sshd_info", check=True)
    assert result["changed"] is False
    assert result["installed"] is True
