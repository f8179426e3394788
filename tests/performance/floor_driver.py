# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Variant C's controller side: `ssh root@HOST python3 - < SCRIPT` for every host at once.

    python3 floor_driver.py HOSTS.json SCRIPT

HOSTS.json is ``{"key": PATH, "hosts": {NAME: ADDRESS}}``. One ssh process per
host, all started together, no connection sharing, no compression; the driver
waits for all, checks that each printed a JSON object, and exits non-zero if any
host failed. It is a child process of the benchmark like ansible-playbook is, so
its own Python start-up and JSON decoding count in the controller CPU as
Ansible's do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import subprocess
import sys
import tempfile
import threading


def main():
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    with open(sys.argv[2], "rb") as handle:
        script = handle.read()
    procs = {}
    for name, address in sorted(spec["hosts"].items()):
        argv = ["ssh", "-i", spec["key"], "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "ControlMaster=no", "-o", "LogLevel=ERROR",
                "root@%s" % address, "python3", "-"]
        stdin = tempfile.TemporaryFile()
        stdin.write(script)
        stdin.seek(0)
        procs[name] = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    outputs = {}

    def collect(name, proc):
        outputs[name] = proc.communicate()

    # Read every host's output at once (a thread each), so that no ssh blocks on a full pipe.
    threads = [threading.Thread(target=collect, args=item) for item in procs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failed = []
    for name, proc in procs.items():
        out, err = outputs[name]
        try:
            json.loads(out.decode("utf-8", "replace"))
        except ValueError:
            failed.append(name)
            sys.stderr.write("%s: rc=%s %s\n" % (name, proc.returncode, err.decode("utf-8", "replace")[-500:]))
    print("floor: %d hosts, %d failed" % (len(procs), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
