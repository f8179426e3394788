# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The signature catalogue's throughput, in CPU seconds (time.process_time).

    python3 parse_bench.py FILE [--reps N] [--profile N] [--literals-out PATH]

Runs in a fresh process started by bench.py, with the collection importable
(ANSIBLE_COLLECTIONS_PATH). FILE holds synthetic sshd lines as `journalctl -o
short-iso` prints them (synth.py). The file is read and decoded once, outside
the timings, since a collector gets journalctl's output as one string; then per
repetition it times, in CPU seconds of this process:

- split: ``text.splitlines()``;
- loop: iterating the lines doing nothing (the Python floor for any per-line work);
- classify: ``_signatures.classify(line)`` on every line, counting the hits;
- prefilter: a what-if (prefilter_scan): one regex over the whole text finds the candidate
  lines, classify() runs on those only.

``--literals-out`` writes the catalogue's literal substrings, one a line, for
`grep -c -F -f` (the floor bench.py runs next to this). Prints one JSON object.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import collections
import io
import json
import os
import sys
import time

SIGNATURES_MODULE = "ansible_collections.sshdoctor.connreset.plugins.module_utils._signatures"


def import_catalogue():
    for path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep):
        if path and os.path.isdir(os.path.join(path, "ansible_collections", "sshdoctor", "connreset")):
            sys.path.insert(0, path)
            break
    import importlib

    return importlib.import_module(SIGNATURES_MODULE)


def prefilter_scan(catalogue):
    """What-if for the catalogue: find candidate lines in the whole text with one compiled regex
    (the message prefixes the catalogue dispatches on, right after ``ident[pid]: ``), then call
    classify() on those lines only, instead of splitting the text and classifying every line.
    Lines without an ``ident[pid]: `` prefix would still need the per-line path; the benchmark
    checks that the hit count equals classify()'s on every line."""
    import re

    prefixes = set()
    for sig in catalogue.SIGNATURES:
        prefixes.update(p for p in sig.prefixes if p != "/")
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    pattern = re.compile(r"\]: (?:error: |fatal: )?(?:%s|/)" % alternatives)
    classify = catalogue.classify

    def scan(text):
        hits = 0
        rfind, find = text.rfind, text.find
        for found in pattern.finditer(text):
            start = rfind("\n", 0, found.start()) + 1
            end = find("\n", found.end())
            if classify(text[start:end if end >= 0 else len(text)]) is not None:
                hits += 1
        return hits

    return scan


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions of one classify pass")
    parser.add_argument("--literals-out")
    opts = parser.parse_args()

    catalogue = import_catalogue()
    classify = catalogue.classify
    if opts.literals_out:
        with open(opts.literals_out, "w") as handle:
            for literal in sorted(set(sig.literal for sig in catalogue.SIGNATURES)):
                handle.write(literal + "\n")

    with io.open(opts.file, encoding="utf-8", errors="replace") as handle:
        text = handle.read()

    if opts.profile:
        import cProfile
        import pstats

        lines = text.splitlines()
        profiler = cProfile.Profile()
        profiler.enable()
        for line in lines:
            classify(line)
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(opts.profile)
        return

    scan = prefilter_scan(catalogue)
    reps = []
    counts = None
    for dummy in range(opts.reps):
        t0 = time.process_time()
        lines = text.splitlines()
        t1 = time.process_time()
        for line in lines:
            pass
        t2 = time.process_time()
        hits = 0
        found = collections.Counter()
        for line in lines:
            sig = classify(line)
            if sig is not None:
                hits += 1
                found[sig] += 1
        t3 = time.process_time()
        prefiltered = scan(text)
        t4 = time.process_time()
        reps.append({"split": t1 - t0, "loop": t2 - t1, "classify": t3 - t2, "prefilter": t4 - t3, "prefilter_hits": prefiltered})
        counts = {"lines": len(lines), "hits": hits, "by_signature": dict(found.most_common())}
        del lines
    print(json.dumps({"reps": reps, "counts": counts}))


if __name__ == "__main__":
    main()
