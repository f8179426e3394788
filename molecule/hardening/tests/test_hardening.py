"""The hardening role must leave the EFFECTIVE configuration (`sshd -T`) with the requested
values on every platform, whatever it started from, and keep sshd serving new connections."""

import json
import os

import pytest
import testinfra.utils.ansible_runner
from conftest import effective

# podman exec straight into the instances: the ansible backend costs seconds per command.
testinfra_hosts = [
    "podman://" + name
    for name in testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("targets")
]

DROPIN = "/etc/ssh/sshd_config.d/00-sshdoctor-connreset.conf"
BEGIN = "# BEGIN sshdoctor.connreset sshd_hardening (managed block, do not edit)"
MARKER = "# [sshdoctor.connreset] disabled, overridden by %s: " % DROPIN


def name(host):
    return host.backend.get_hostname()


def test_effective_values_are_the_requested_ones(host):
    assert effective(host, "clientaliveinterval") == ("3" if name(host).endswith("-d12") else "60")
    assert effective(host, "clientalivecountmax") == "3"
    assert effective(host, "maxstartups") == "10:30:100"
    assert effective(host, "maxsessions") == "10"


def test_penalty_exemption_only_where_sshd_knows_it(host, role_result):
    if name(host).endswith("-d13"):
        assert effective(host, "persourcepenaltyexemptlist") == "127.0.0.1"
        assert role_result["unsupported"] == []
    else:
        # OpenSSH 8.4 and 9.2 do not know the keyword: it is left out, with a warning.
        assert role_result["unsupported"] == ["PerSourcePenaltyExemptList"]
        assert "persourcepenaltyexemptlist" not in host.check_output("sshd -T")


def test_sshd_runs_validates_and_answers(host, role_result):
    assert host.service("ssh").is_running
    assert host.run("sshd -t").rc == 0
    banner = host.run("timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/22; head -c 8 <&3'")
    assert banner.stdout == "SSH-2.0-"
    assert role_result["changed"] is True
    assert role_result["service_action"] == "restarted"
    assert role_result["verified"] is True


def test_no_include_means_a_block_at_the_end_of_the_main_file(host, role_result):
    if not name(host).endswith("-d11"):
        pytest.skip("platform without an Include line")
    lines = host.file("/etc/ssh/sshd_config").content_string.splitlines()
    assert lines[-6] == BEGIN
    assert lines[-5:-1] == ["ClientAliveInterval 60", "ClientAliveCountMax 3", "MaxSessions 10", "MaxStartups 10:30:100"]
    assert not host.file(DROPIN).exists
    assert role_result["mode"] == "main_file"


def test_trailing_match_keeps_the_block_above_it(host, role_result):
    if not name(host).endswith("-d13"):
        pytest.skip("platform with a trailing Match block")
    lines = host.file("/etc/ssh/sshd_config").content_string.splitlines()
    assert lines.index(BEGIN) < lines.index("Match User deploy")
    assert role_result["mode"] == "main_file"
    # The Match block's own value is left alone (the role warns about it).
    assert effective(host, "clientaliveinterval", "user=deploy,host=x,addr=192.0.2.1") == "0"
    assert effective(host, "clientaliveinterval", "user=root,host=x,addr=192.0.2.1") == "60"


def test_conflicting_dropins_are_commented_out_with_marker_and_backup(host, role_result):
    if not name(host).endswith("-d12"):
        pytest.skip("platform with conflicting drop-ins")
    assert role_result["mode"] == "dropin"
    dropin = host.file(DROPIN)
    assert dropin.exists and dropin.mode == 0o644 and dropin.user == "root"
    assert host.file("/etc/ssh/sshd_config.d/00-conflict.conf").content_string.splitlines() == [
        MARKER + "ClientAliveInterval 0"]
    assert host.file("/etc/ssh/sshd_config.d/50-cloud-init.conf").content_string.splitlines() == [
        "PasswordAuthentication no", MARKER + "MaxStartups 20:30:60"]
    backups = host.check_output("find /var/lib/sshdoctor-connreset/backups -type f -name 00-conflict.conf")
    assert backups
    assert host.file(backups.splitlines()[0]).content_string.splitlines() == ["ClientAliveInterval 0"]
    assert effective(host, "passwordauthentication") == "no"


def test_idle_session_is_reset_before_and_survives_after(host):
    """The fix, proven against the failure itself: the -d12 platform forgets idle connections
    after 8 s and resets their next packet. Before the role an idle `sleep 11` session died
    (prepare recorded it); now ClientAliveInterval 3 keeps the connection alive."""
    if not name(host).endswith("-d11"):
        pytest.skip("the client container")
    before = json.loads(host.file("/root/idle-before.json").content_string)
    assert before["rc"] == 255
    target = host.file("/root/idle-target").content_string.strip()
    after = host.run(
        "ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
        "-o ServerAliveInterval=0 -o LogLevel=ERROR root@%s 'sleep 11; echo survived'" % target
    )
    assert after.rc == 0, after.stderr
    assert "survived" in after.stdout


def client_option(host, option, user=None):
    command = ("runuser -u %s -- " % user if user else "") + "ssh -G sshdoctor-check.example"
    for line in host.check_output(command).splitlines():
        key, dummy, value = line.partition(" ")
        if key == option:
            return value
    raise AssertionError("%s printed no %s" % (command, option))


@pytest.mark.parametrize("user", [None, "tester"])
def test_client_keepalive_is_in_effect(host, user):
    assert client_option(host, "serveraliveinterval", user) == "60"
    assert client_option(host, "serveralivecountmax", user) == "3"


def test_client_keepalive_placement(host):
    dropin = host.file("/etc/ssh/ssh_config.d/00-sshdoctor-keepalive.conf")
    main = host.file("/etc/ssh/ssh_config").content_string.splitlines()
    if name(host).endswith("-d11"):
        # No Include: a block at the very top, before the distribution's Host * section.
        assert main[0] == "# BEGIN sshdoctor.connreset ssh_client_keepalive (managed block)"
        assert not dropin.exists
    else:
        assert dropin.exists and dropin.mode == 0o644
        assert "sshdoctor.connreset" not in "\n".join(main)
    user_config = host.file("/home/tester/.ssh/config")
    assert user_config.user == "tester" and user_config.mode == 0o600
    assert user_config.content_string.splitlines()[1:4] == ["Host *", "    ServerAliveInterval 60", "    ServerAliveCountMax 3"]
