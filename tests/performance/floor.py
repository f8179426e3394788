# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Variant C of the benchmark, the floor: what `ssh host python3 -` costs.

The benchmark pipes this file to `ssh root@HOST python3 -` for every host at
once. It runs the naive playbook's commands (naive.yml) in one Python process,
in the C locale, and prints one JSON object with each command's rc, stdout and
stderr: the same raw evidence, with no Ansible on either side.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

COMMANDS = (
    ["systemctl", "status", "ssh", "--no-pager"],
    ["journalctl", "-u", "ssh", "--no-pager"],
    ["dmesg"],
    ["iptables", "-L", "-n"],
    ["cat", "/etc/hosts.allow", "/etc/hosts.deny"],
    ["uptime"],
    ["free"],
    ["df"],
    ["sshd", "-T"],
    ["ss", "-ltn"],
)


def main():
    env = dict(os.environ, LC_ALL="C", LANG="C", LANGUAGE="C", PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    results = []
    for argv in COMMANDS:
        try:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            out, err = proc.communicate()
            results.append({"cmd": argv, "rc": proc.returncode,
                            "stdout": out.decode("utf-8", "replace"), "stderr": err.decode("utf-8", "replace")})
        except OSError as exc:
            results.append({"cmd": argv, "rc": None, "stdout": "", "stderr": str(exc)})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
