# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time as a property, not a threshold: how a call's cost grows with its input.

``growth(func, make, small, big)`` is the cost of ``func(make(big))`` over the cost
of ``func(make(small))``, each the least of several rounds long enough to measure
(the least is the run the machine disturbed least). Cost is this process's CPU time
(``time.process_time``), not the wall clock: on a machine shared with other work a
long call is preempted more often than a short one, which inflates wall-clock ratios
(66x measured for a 20x input at a load average of 20) but not CPU time. A test then says, for example,
that a 64 KB line costs at most ten times a 1 KB line: true of a parser that caps
what it looks at, false by orders of magnitude of a quadratic one, and independent
of how fast or loaded the machine is (``growth_below`` measures again when a busy
moment inflated one measure).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time


def cost(func, arg, round_seconds=0.002, rounds=5, clock=time.process_time):
    """CPU seconds per call of ``func(arg)``: the least of ``rounds`` rounds of at least ``round_seconds``."""
    calls = 1
    while True:
        started = clock()
        for dummy in range(calls):
            func(arg)
        elapsed = clock() - started
        if elapsed >= round_seconds or calls >= 1 << 20:
            break
        calls *= 4
    best = elapsed / calls
    for dummy in range(rounds - 1):
        started = clock()
        for dummy in range(calls):
            func(arg)
        best = min(best, (clock() - started) / calls)
    return best


def growth(func, make, small=1024, big=65536):
    """How many times ``func`` costs more on ``make(big)`` than on ``make(small)``."""
    return cost(func, make(big)) / max(cost(func, make(small)), 1e-9)


def growth_below(func, make, limit, small=1024, big=65536, tries=3):
    """The growth of ``func`` from ``small`` to ``big``, measured again (up to ``tries`` times) while it is not below
    ``limit``: a disturbance of the machine only ever inflates one measure, a quadratic cost inflates all of them."""
    best = None
    for dummy in range(tries):
        value = growth(func, make, small, big)
        best = value if best is None else min(best, value)
        if best < limit:
            break
    return best
