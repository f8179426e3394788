# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fill a container's journal fast, through journald's own native socket.

Runs INSIDE a benchmark container (copied there with synth.py), as root:

    python3 journal_fill.py --count N [--unit ssh.service] [--identifier sshd] [--noise]

Each entry is one datagram in journald's native protocol ("FIELD=value" lines)
sent to /run/systemd/journal/socket: the same path sd_journal_send(3) takes, with
no process per entry (which is what makes `logger`/`systemd-cat` in a loop slow).
journald itself stamps the trusted fields (_PID, _SYSTEMD_UNIT, _BOOT_ID, the
receive time); to have the entries belong to ``--unit`` as sshd's own would, the
process first moves itself into that unit's cgroup (systemd's name=systemd
hierarchy), so `journalctl -u ssh` finds them exactly as it finds sshd's lines.
``--noise`` writes other daemons' lines instead (a cron/kernel-like mix), which
stay outside the unit, to make the journal's total bigger than the unit's share.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import os
import random
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import synth  # noqa: E402  pylint: disable=wrong-import-position

SOCKET = "/run/systemd/journal/socket"


def join_unit_cgroup(unit):
    """Move this process into ``unit``'s cgroup; return the cgroup.procs path used."""
    group = subprocess.check_output(["systemctl", "show", "-p", "ControlGroup", "--value", unit]).decode().strip()
    for base in ("/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        target = base + group + "/cgroup.procs"
        if group and os.path.exists(target):
            with open(target, "w") as handle:
                handle.write(str(os.getpid()))
            return target
    raise SystemExit("cannot find the cgroup of %s (ControlGroup=%r)" % (unit, group))


def noise_messages(count, seed):
    rng = random.Random(seed)
    for dummy in range(count):
        roll = rng.random()
        if roll < 0.4:
            yield "CRON", "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"
        elif roll < 0.7:
            yield "kernel", "IPv4: martian source 10.88.0.%d from 192.0.2.%d, on dev eth0" % (rng.randint(1, 254), rng.randint(1, 254))
        else:
            yield "systemd", "Started session-%d.scope - Session %d of User backup." % (rng.randint(1, 99999), rng.randint(1, 99999))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--unit", default="ssh.service")
    parser.add_argument("--identifier", default="sshd")
    parser.add_argument("--noise", action="store_true")
    args = parser.parse_args()

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 * 1024 * 1024)
    sock.connect(SOCKET)
    started = time.time()
    if args.noise:
        source = noise_messages(args.count, args.seed)
    else:
        join_unit_cgroup(args.unit)
        source = ((args.identifier, message) for message in synth.messages(args.count, args.seed))
    rng = random.Random(args.seed + 2)
    pid = 1000
    sent = 0
    for ident, message in source:
        if rng.random() < 0.3:
            pid += rng.randint(1, 40)
        priority = "3" if message.startswith(("error:", "fatal:")) else "6"
        datagram = "MESSAGE=%s\nSYSLOG_IDENTIFIER=%s\nSYSLOG_PID=%d\nPRIORITY=%s\nSYSLOG_FACILITY=4\n" % (
            message, ident, pid, priority)
        sock.send(datagram.encode("utf-8", "replace"))
        sent += 1
    elapsed = time.time() - started
    print("sent %d entries in %.1f s (%.0f/s)" % (sent, elapsed, sent / max(elapsed, 1e-9)))


if __name__ == "__main__":
    main()
