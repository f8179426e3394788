# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which pipelining setting the diagnose play really uses, and its forks warning, through ansible-playbook.

The role asks for pipelining only where nothing configures Ansible's own setting. Each case
runs the real playbook with a real ssh connection plugin whose ``ssh`` is a stand-in script:
it writes down the remote command Ansible asked for, answers the home directory question
Ansible asks first, and exits 255 on the next command, as ssh does when it cannot connect
(the hosts are then unreachable, which the play survives). Pipelined, the
first remote command is the Python interpreter reading the module from stdin; not
pipelined, it is the ``mkdir`` of a remote temporary directory. No connection is made.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest

FAKE_SSH = """#!/bin/sh
# The last argument is the remote command; one line per call.
for last; do :; done
printf '%s\\n' "$last" >> "$SSH_LOG"
case "$last" in
  *"echo ~"*) echo /home/stand-in; exit 0 ;;
esac
echo "ssh: connect to host port 22: Connection refused (stand-in)" >&2
exit 255
"""


def run_play(tmp_path, cfg="", inventory_vars="", extra=(), env_extra=None, hosts=1, forks=None, playbook="sshdoctor.connreset.diagnose"):
    log = tmp_path / "ssh.log"
    ssh = tmp_path / "ssh"
    ssh.write_text(FAKE_SSH)
    ssh.chmod(0o755)
    lines = ["h%d ansible_host=192.0.2.%d" % (i, i + 1) for i in range(hosts)]
    (tmp_path / "hosts.ini").write_text(
        "[fleet]\n%s\n\n[fleet:vars]\nansible_connection=ssh\nansible_ssh_executable=%s\n"
        "ansible_python_interpreter=/usr/bin/python3\n%s\n" % ("\n".join(lines), ssh, inventory_vars))
    (tmp_path / "ansible.cfg").write_text("[defaults]\nhost_key_checking = False\nretry_files_enabled = False\n" + cfg)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_") or k == "ANSIBLE_COLLECTIONS_PATH")
    env.update({"ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"), "SSH_LOG": str(log), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp")})
    env.update(env_extra or {})
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), playbook,
            "-i", str(tmp_path / "hosts.ini"), "-e", "sshdoctor_report_dir=%s" % (tmp_path / "report"),
            "-e", "diagnose_probe=false"] + list(extra)
    if forks:
        argv += ["-f", str(forks)]
    proc = subprocess.run(argv, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300,
                          check=False)
    output = proc.stdout.decode("utf-8", "replace")
    assert proc.returncode == 0, output[-3000:]
    commands = log.read_text().splitlines() if log.exists() else []
    assert commands, output[-3000:]
    return commands, output


def pipelined(commands):
    # Ansible asks for the remote home directory first either way; the stand-in answers that one.
    first = [command for command in commands if "echo ~" not in command][0]
    if "mkdir" in first:
        return False
    assert "/usr/bin/python3" in first, first
    return True


@pytest.mark.parametrize("label, kwargs, expected", [
    ("nothing set: the role's default", {}, True),
    ("-e diagnose_pipelining=false", {"extra": ["-e", "diagnose_pipelining=false"]}, False),
    ("inventory ansible_pipelining=false", {"inventory_vars": "ansible_pipelining=false"}, False),
    ("inventory ansible_ssh_pipelining=false", {"inventory_vars": "ansible_ssh_pipelining=false"}, False),
    ("-e ansible_pipelining=false", {"extra": ["-e", "ansible_pipelining=false"]}, False),
    ("ansible.cfg [connection] pipelining = False", {"cfg": "\n[connection]\npipelining = False\n"}, False),
    ("ansible.cfg [ssh_connection] pipelining = False", {"cfg": "\n[ssh_connection]\npipelining = False\n"}, False),
    ("ansible.cfg [defaults] pipelining = False", {"cfg": "pipelining = False\n"}, False),
    ("ANSIBLE_PIPELINING=False", {"env_extra": {"ANSIBLE_PIPELINING": "False"}}, False),
    ("ansible.cfg pipelining = True beats -e diagnose_pipelining=false",
     {"cfg": "\n[ssh_connection]\npipelining = True\n", "extra": ["-e", "diagnose_pipelining=false"]}, True),
])
def test_the_user_s_pipelining_setting_wins_over_the_role_s_default(tmp_path, label, kwargs, expected):
    commands, output = run_play(tmp_path, **kwargs)
    assert pipelined(commands) is expected, "%s: %s" % (label, commands)


def test_more_hosts_than_forks_is_said_once_with_the_forks_to_use(tmp_path):
    commands, output = run_play(tmp_path, hosts=3, forks=2)
    assert output.count("3 hosts and forks = 2") == 1, output[-3000:]
    assert "-f 3" in output
    # Every host was still tried.
    assert len([command for command in commands if "echo ~" not in command]) == 3


def test_no_forks_warning_when_every_host_has_a_fork(tmp_path):
    commands, output = run_play(tmp_path, hosts=3, forks=3)
    assert "forks =" not in output


def test_why_the_role_default_needs_the_lookup_a_plain_variable_beats_ansible_cfg(tmp_path):
    # Any variable, a role default included, wins over ansible.cfg: a plain
    # "ansible_pipelining: true" default would have overridden the user's "pipelining = False".
    play = tmp_path / "play.yml"
    play.write_text("- hosts: all\n  gather_facts: false\n  ignore_unreachable: true\n  vars:\n    ansible_pipelining: true\n"
                    "  tasks:\n    - ansible.builtin.ping:\n")
    commands, output = run_play(tmp_path, cfg="\n[ssh_connection]\npipelining = False\n", playbook=str(play))
    assert pipelined(commands) is True
