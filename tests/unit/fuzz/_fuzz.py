# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fuzzing suite's machinery: profiles, hostile inputs built from the real fixtures, and timing.

Two profiles, chosen by ``SSHDOCTOR_FUZZ``:

* ``units`` (the default, what ``./dev units`` runs): a few examples per target,
  derandomized, so that the suite takes seconds and a failure is reproducible.
* ``deep`` (``./dev fuzz``): ``SSHDOCTOR_FUZZ_EXAMPLES`` (default 10,000) random examples
  per target and ``SSHDOCTOR_FUZZ_TIME_EXAMPLES`` (default 200) shapes per time bound;
  the figures (calls, slowest call, exceptions) go to ``SSHDOCTOR_FUZZ_REPORT``.

Inputs are mutations of the real captured output in tests/unit/fixtures (the text a
parser really meets, with hostile pieces put in, cut out, repeated or swapped) and
random text. Every call of a target goes through ``record`` so the slowest call of
each is known.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import time

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.tests.unit import timing
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import FIXTURES

PROFILE = os.environ.get("SSHDOCTOR_FUZZ", "units")
DEEP = PROFILE == "deep"
EXAMPLES = int(os.environ.get("SSHDOCTOR_FUZZ_EXAMPLES", "10000")) if DEEP else 12
TIME_EXAMPLES = int(os.environ.get("SSHDOCTOR_FUZZ_TIME_EXAMPLES", "200")) if DEEP else 2
CONTROLLER_EXAMPLES = EXAMPLES if DEEP else 15

# What no real host prints and a hostile one can: digits that pass str.isdigit() and fail int(),
# numbers past Python's 4,300-digit limit, lone surrogates, terminal controls, bidirectional
# overrides, long runs of the characters parsers split on, and JSON-ish words.
HOSTILE = (
    u"\u00b2", u"\u0661\u0662", u"\u0663", "9" * 5000, "-" + "9" * 40, "18446744073709551616", "0x" + "f" * 40,
    u"\ud800", u"\udfff", "\x1b[2J\x1b[H", "\x1b]0;owned\x07", "\r", "\x00", u"\x9b", u"\u202e", u"\ufeff",
    "\n", "\t", " " * 300, "[" * 300, "{" * 300, ":" * 200, "(" * 100, "/" * 100, "=" * 50, "*" * 50, "?" * 50,
    "\\\n", "#", "'", '"', "NaN", "Infinity", "1e999", "-1", "0", "", u"\u2014", "(Stream)", "LISTEN",
    " line 7: ", "Inodes", "Filesystem", "btime ", "@x", "EXCEPT", "ALL", "[::1]/", "/255.255.255.255",
    '"nftables": [', "users:((", ",pid=", "[listener]", "SSH-2.0-", "Their offer: ",
)


def fuzz_settings(examples=None):
    """Hypothesis settings of the current profile (no deadline: time is a property of its own)."""
    return settings(
        max_examples=examples or EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not DEEP,
        suppress_health_check=list(HealthCheck),
        print_blob=DEEP,
    )


# --------------------------------------------------------------------------- seeds: the real fixtures
_SEED_CACHE = {}


def seeds(*patterns):
    """The texts of the fixtures matching ``patterns`` (globs under tests/unit/fixtures)."""
    key = tuple(patterns)
    if key not in _SEED_CACHE:
        texts = []
        for pattern in patterns:
            for path in sorted(glob.glob(os.path.join(FIXTURES, pattern), recursive=True)):
                if os.path.isfile(path):
                    with open(path, "rb") as handle:
                        texts.append(handle.read().decode("utf-8", errors="replace"))
        if not texts:
            raise AssertionError("no fixture matches %r" % (patterns,))
        _SEED_CACHE[key] = texts
    return _SEED_CACHE[key]


def seed_json(pattern):
    return [json.loads(text) for text in seeds(pattern)]


pieces = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=30),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7f), max_size=30),
)


@st.composite
def mutated(draw, texts):
    """One of ``texts`` changed one to six times: a hostile piece put in, a slice cut out,
    repeated or replaced, digits swapped for Unicode digits or huge numbers, lines shuffled."""
    text = draw(st.sampled_from(texts))
    for dummy in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(("insert", "insert", "delete", "replace", "repeat", "digits", "lines", "truncate")))
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 300)))
        if op == "insert":
            text = text[:start] + draw(pieces) + text[start:]
        elif op == "delete":
            text = text[:start] + text[end:]
        elif op == "replace":
            text = text[:start] + draw(pieces) + text[end:]
        elif op == "repeat":
            text = text[:end] + text[start:end] * draw(st.integers(2, 20)) + text[end:]
        elif op == "digits":
            digit = draw(st.sampled_from((u"\u00b2", u"\u0661", "9" * 5000, "99999999999999999999999")))
            text = text[:start] + "".join(digit if c.isdigit() else c for c in text[start:end]) + text[end:]
        elif op == "lines":
            lines = text.split("\n")
            text = "\n".join(draw(st.permutations(lines))) if len(lines) < 200 else text
        else:
            text = text[:start]
    return text[:200000]


def inputs(texts):
    """What a parser of ``texts``' kind is fed: mostly mutations of them, some random text, some as they are."""
    return st.one_of(mutated(texts), mutated(texts), st.text(max_size=2000), st.sampled_from(texts))


# --------------------------------------------------------------------------- figures per target
STATS = {}


def record(name, function, *args, **kwargs):
    """Call ``function`` for target ``name``, keeping its call count and slowest call."""
    entry = STATS.setdefault(name, {"calls": 0, "slowest_s": 0.0, "slowest_input_chars": 0, "exceptions": 0})
    size = sum(len(a) for a in args if isinstance(a, (str, bytes)))
    started = time.perf_counter()
    try:
        return function(*args, **kwargs)
    except Exception:
        entry["exceptions"] += 1
        raise
    finally:
        elapsed = time.perf_counter() - started
        entry["calls"] += 1
        if elapsed > entry["slowest_s"]:
            entry["slowest_s"] = elapsed
            entry["slowest_input_chars"] = size


# --------------------------------------------------------------------------- time bounds
SMALL = 1024
LARGE = 64 * 1024
# A linear function costs 64 times as much on 64 KB as on 1 KB; the bound allows eight times that
# (caches: a 64 KB parse allocates past the CPU caches), which a quadratic one (4,096 times) cannot
# meet. tests/unit/timing.py measures the growth (least of several rounds, measured again when a
# busy moment inflated it), so the bound holds on a loaded machine too.
FACTOR = 8
LIMIT = FACTOR * (LARGE // SMALL)


def grow(prefix, filler, suffix, size):
    """``prefix + filler * n + suffix`` of about ``size`` characters."""
    room = max(0, size - len(prefix) - len(suffix))
    count = max(1, room // max(1, len(filler)))
    return prefix + filler * count + suffix


def within_bound(name, function, make, small=SMALL, large=LARGE, limit=LIMIT):
    """How many times ``function`` costs more on ``make(large)`` than on ``make(small)``: (ok, growth)."""
    growth = timing.growth_below(function, make, limit, small, large)
    entry = STATS.setdefault(name, {"calls": 0, "slowest_s": 0.0, "slowest_input_chars": 0, "exceptions": 0})
    entry["time_checks"] = entry.get("time_checks", 0) + 1
    entry["worst_growth"] = max(entry.get("worst_growth", 0.0), growth)
    entry["growth_limit"] = limit
    return growth < limit, growth
