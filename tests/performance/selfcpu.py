# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a Python program (ansible-playbook) in this process and write its own CPU seconds at exit.

    python3 selfcpu.py OUT PROGRAM [ARGS...]

OUT gets "user+sys" of this process alone (RUSAGE_SELF, every thread) when it exits: for
ansible-playbook that is the main process, the part of the controller's work that runs on
one core (the strategy loop, the results thread, callbacks). Its workers leave through
os._exit and run no exit handler; their CPU and their ssh processes' stay in the benchmark's
RUSAGE_CHILDREN figure.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import atexit
import os
import resource
import runpy
import sys


def main():
    out, program = sys.argv[1], sys.argv[2]
    me = os.getpid()

    def dump():
        if os.getpid() != me:
            return
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with open(out, "w") as handle:
            handle.write("%.6f\n" % (usage.ru_utime + usage.ru_stime))

    atexit.register(dump)
    sys.argv = [program] + sys.argv[3:]
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main()
