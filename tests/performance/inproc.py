# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one of the collection's modules in-process on a benchmark container, timed.

Runs INSIDE a container (Python 3.9+). The benchmark copies a library tree to
``--lib``: ``ansible/module_utils`` from the controller's ansible-core (with an
empty ``ansible/__init__.py``, as AnsiballZ does) and the collection's
``plugins`` under ``ansible_collections/sshdoctor/connreset``. The module's own
``main()`` runs unchanged: AnsibleModule parses the arguments, the real ``Host``
runs the real commands (``Host.run``), and ``exit_json``
encodes the result (captured here instead of printed). What is left out is only
the AnsiballZ unpacking and the interpreter start-up, which the fleet benchmark
measures as part of a whole playbook run.

    python3 inproc.py --lib DIR time-journal --reps N [--args JSON]
        sshd_journal_info (each run in a new process, main() timed inside it) against the
        journalctl commands it ran, replayed to /dev/null, interleaved, N times; prints JSON.
    python3 inproc.py --lib DIR run MODULE [--args JSON] [--profile N]
        one run (optionally under cProfile, printing the N costliest functions); prints JSON.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import importlib
import io
import json
import os
import resource
import subprocess
import sys
import time

COLLECTION = "ansible_collections.sshdoctor.connreset"
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Recorder:
    """Wraps the collection's Host.run and Host.stream, the two doors its collectors use for
    commands, to note each command's argv (and, for run, its wall time; a stream is read after
    the call returns, so its time is the replay's)."""

    def __init__(self, host_class):
        self.calls = []
        original_run, original_stream = host_class.run, host_class.stream
        recorder = self

        def run(host, argv, *a, **kw):
            started = time.perf_counter()
            try:
                return original_run(host, argv, *a, **kw)
            finally:
                recorder.calls.append({"argv": [str(x) for x in argv], "wall": time.perf_counter() - started})

        def stream(host, argv, *a, **kw):
            recorder.calls.append({"argv": [str(x) for x in argv], "wall": None, "streamed": True})
            return original_stream(host, argv, *a, **kw)

        host_class.run = run
        host_class.stream = stream


def run_module(name, args, profiler=None):
    """Run MODULE's main() once; return timings, the commands it ran and its result."""
    from ansible.module_utils import basic  # pylint: disable=import-error

    host_module = importlib.import_module("%s.plugins.module_utils._host" % COLLECTION)

    module = importlib.import_module("%s.plugins.modules.%s" % (COLLECTION, name))
    recorder = getattr(host_module, "_bench_recorder", None)
    if recorder is None:
        recorder = host_module._bench_recorder = Recorder(host_module.Host)
    recorder.calls = []
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
    basic._ANSIBLE_PROFILE = "legacy"
    out = io.StringIO()
    real_stdout = sys.stdout
    cpu0, child0, wall0 = time.process_time(), _children_cpu(), time.perf_counter()
    sys.stdout = out
    try:
        if profiler is not None:
            profiler.enable()
        module.main()
    except SystemExit:
        pass
    finally:
        if profiler is not None:
            profiler.disable()
        sys.stdout = real_stdout
    wall = time.perf_counter() - wall0
    cpu, child = time.process_time() - cpu0, _children_cpu() - child0
    text = out.getvalue()
    try:
        result = json.loads(text[text.index("{"):])
    except ValueError:
        result = {"failed": True, "msg": "no JSON in module output: %r" % text[:500]}
    return {"wall": wall, "cpu": cpu, "children_cpu": child, "commands": recorder.calls, "result": result}


def replay(argv):
    """Run one recorded command with its output to /dev/null; return wall and CPU."""
    env = dict(os.environ, **C_LOCALE)
    child0, wall0 = _children_cpu(), time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        subprocess.call(argv, stdout=devnull, stderr=devnull, env=env)
    return {"wall": time.perf_counter() - wall0, "cpu": _children_cpu() - child0}


def count_lines(argv):
    """How many lines ``argv`` prints (the benchmark's check that the module counted every one)."""
    env = dict(os.environ, **C_LOCALE)
    lines = 0
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):
        lines += chunk.count(b"\n")
    proc.wait()
    return lines


def summarise(result):
    """The few result fields worth printing next to the timings."""
    keep = {}
    for key in ("source", "since", "lines_read", "truncated", "limits", "notes", "failed", "msg"):
        if key in result:
            keep[key] = result[key]
    if isinstance(result.get("signatures"), dict):
        keep["signature_counts"] = dict((k, v.get("count")) for k, v in result["signatures"].items() if isinstance(v, dict))
    if isinstance(result.get("unit_events"), list):
        keep["unit_events"] = len(result["unit_events"])
    return keep


def fresh_run(lib, module, args):
    """One module run in a new Python process, as AnsiballZ would start it.

    A long-lived process would flatter the module: after the first run, glibc's malloc keeps
    the big buffers around, and the second run's large allocations no longer fault pages in.
    Returns the run's report (main() timed inside) plus the whole process's wall and CPU."""
    argv = [sys.executable, os.path.abspath(__file__), "--lib", lib, "run", module, "--args", json.dumps(args)]
    child0, wall0 = _children_cpu(), time.perf_counter()
    out = subprocess.check_output(argv)
    report = json.loads(out.decode("utf-8"))
    report["process_wall"] = time.perf_counter() - wall0
    report["process_cpu"] = _children_cpu() - child0
    return report


def cmd_time_journal(opts):
    args = json.loads(opts.args)
    first = fresh_run(opts.lib, "sshd_journal_info", args)  # warm-up: page cache, .pyc files
    rounds = []
    keys = ("wall", "cpu", "children_cpu", "process_wall", "process_cpu", "max_rss_kb", "children_max_rss_kb")
    for index in range(opts.reps):
        # The two measurements in a rotating order, so that neither always runs first.
        order = ["module", "journalctl"]
        order = order[index % 2:] + order[:index % 2]
        taken = {}
        for what in order:
            if what == "module":
                taken["module"] = fresh_run(opts.lib, "sshd_journal_info", args)
            else:
                # The commands the module ran last time (the same argv every time, --since included).
                previous = rounds[-1]["module"]["commands"] if rounds else first["commands"]
                journal_cmds = [c["argv"] for c in previous if os.path.basename(c["argv"][0]) == "journalctl"]
                taken["journalctl"] = [dict(replay(argv), argv=argv) for argv in journal_cmds]
        mod = taken["module"]
        module = dict((k, mod[k]) for k in keys)
        module["commands"] = mod["commands"]
        rounds.append({"order": order, "module": module, "journalctl": taken["journalctl"]})
    # Each journalctl command's own line count, to compare with the lines the module says it read.
    counts = [{"argv": c["argv"], "lines": count_lines(c["argv"])} for c in mod["commands"]
              if os.path.basename(c["argv"][0]) == "journalctl"]
    print(json.dumps({"rounds": rounds, "result": mod["result"], "journalctl_lines": counts}))


def cmd_run(opts):
    args = json.loads(opts.args)
    profiler = None
    if opts.profile:
        import cProfile

        profiler = cProfile.Profile()
    mod = run_module(opts.module, args, profiler)
    report = {k: mod[k] for k in ("wall", "cpu", "children_cpu", "commands")}
    # Peak resident set of this process (the module; KiB on Linux) and of its largest child (journalctl).
    report["max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report["children_max_rss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report["result"] = mod["result"] if opts.full else summarise(mod["result"])
    if profiler is not None:
        import pstats

        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("cumulative").print_stats(opts.profile)
        stats.sort_stats("tottime").print_stats(opts.profile)
        report["profile"] = text.getvalue()
    print(json.dumps(report))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", required=True)
    sub = parser.add_subparsers(dest="cmd")
    tj = sub.add_parser("time-journal")
    tj.add_argument("--reps", type=int, default=5)
    tj.add_argument("--args", default="{}")
    run = sub.add_parser("run")
    run.add_argument("module")
    run.add_argument("--args", default="{}")
    run.add_argument("--profile", type=int, default=0)
    run.add_argument("--full", action="store_true", help="print the module's whole result, as Ansible would receive it")
    opts = parser.parse_args()
    sys.path.insert(0, opts.lib)
    if opts.cmd == "time-journal":
        cmd_time_journal(opts)
    elif opts.cmd == "run":
        cmd_run(opts)
    else:
        parser.error("a command is required")


if __name__ == "__main__":
    main()
