# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every parser on host text: it never raises, keeps its promise, and takes time linear in its input.

Inputs are the real captured fixtures, mutated (see _fuzz.mutated), and random text,
plus the inputs issue 17 names (run every time). The time bound is a property too: on
a shape grown from a real line (a long run of one character inside it, or the line
repeated) or named by the issue, 64 KB may cost at most 8 x 64 times what 1 KB costs
(tests/unit/timing.py's growth): a linear parser costs 64 times, a quadratic one 4,096 times.

A target registered with ``raises`` (none is, today) is an expected failure until its owner
fixes it: the reason names the owner and what breaks. It runs in the deep profile only (``./dev
fuzz``), where an XPASS says the mark can go.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _sshd_config, _sshd_placement
from ansible_collections.sshdoctor.connreset.tests.unit import timing
from ansible_collections.sshdoctor.connreset.tests.unit.fuzz import _fuzz
from ansible_collections.sshdoctor.connreset.tests.unit.fuzz.targets import TARGETS


def _marks(target, known):
    """An expected failure, run only in the deep profile, while the target's owner fixes ``known``."""
    if not known:
        return ()
    return (pytest.mark.xfail(reason="owner %s: %s (issue 17)" % (target.owner, known), strict=False, run=_fuzz.DEEP),)


def _call_and_check(target, text):
    result = _fuzz.record(target.name, target.call, text)
    if target.check:
        target.check(result)


@pytest.mark.parametrize("target", [pytest.param(t, id=t.name, marks=_marks(t, t.raises)) for t in TARGETS])
@_fuzz.fuzz_settings()
@given(data=st.data())
def test_never_raises_and_keeps_its_promise(target, data):
    text = data.draw(_fuzz.inputs(target.texts()), label="input")
    if target.slow:
        text = text[:2048]  # quadratic today: 100 KB would take minutes (the time tests say so)
    _call_and_check(target, text)


@pytest.mark.parametrize("target, text", [
    pytest.param(t, entry[0] if isinstance(entry, tuple) else entry, id="%s-%d" % (t.name, index),
                 marks=_marks(t, entry[1] if isinstance(entry, tuple) else None))
    for t in TARGETS for index, entry in enumerate(t.known)])
def test_the_issues_inputs(target, text):
    """The inputs issue 17 names, every run (random mutations may or may not meet them)."""
    _call_and_check(target, text)


FILLERS = (" ", "9", "a", "[", ":", "(", "x ", "\t", "-", "\\", "*", "?", "=", "/", ".", "a?", "*a", u"\u00b2", "{")


@st.composite
def shapes(draw, texts):
    """A way to grow input from a real line: a run of one filler inside it, or the line repeated."""
    text = draw(st.sampled_from(texts))
    lines = [line for line in text.splitlines() if line.strip()] or [text or "x"]
    line = draw(st.sampled_from(lines))[:400]
    if draw(st.booleans()):
        return lambda size: _fuzz.grow("", line + "\n", "", size)
    cut = draw(st.integers(0, len(line)))
    filler = draw(st.sampled_from(FILLERS + (line[cut:cut + 1] or " ",)))
    return lambda size: _fuzz.grow(line[:cut], filler, line[cut:], size)


def _quiet(target):
    def run(text):
        try:
            target.call(text)
        except Exception:  # pylint: disable=broad-except
            pass  # raising is the other tests' business
    return run


def _assert_within_bound(target, make):
    ok, growth = _fuzz.within_bound(target.name, _quiet(target), make)
    assert ok, "%s: 64 KB cost %.0f times what 1 KB cost (linear: 64; the bound: %d)" % (target.name, growth, _fuzz.LIMIT)


@pytest.mark.parametrize("target", [pytest.param(t, id=t.name, marks=_marks(t, t.slow)) for t in TARGETS])
@settings(parent=_fuzz.fuzz_settings(_fuzz.TIME_EXAMPLES), phases=[Phase.explicit, Phase.generate])
@given(data=st.data())
def test_time_is_linear_in_the_input(target, data):
    _assert_within_bound(target, data.draw(shapes(target.texts()), label="shape"))


@pytest.mark.parametrize("target, shape", [
    pytest.param(t, shape, id="%s-%d" % (t.name, index), marks=_marks(t, t.slow))
    for t in TARGETS for index, shape in enumerate(t.shapes)])
def test_time_on_the_issues_shapes(target, shape):
    """Shapes issue 17 names (a long run of spaces inside a line, a lazy group before its end), every run."""
    prefix, filler, suffix = shape
    _assert_within_bound(target, lambda size: _fuzz.grow(prefix, filler, suffix, size))


def _dropins(count):
    """The main file and ``count`` drop-ins, each of which includes the drop-in directory again."""
    files = {"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n"}
    for index in range(count):
        files["/etc/ssh/sshd_config.d/%02d.conf" % index] = "Include /etc/ssh/sshd_config.d/*.conf\nX11Forwarding no\n"
    return files


def _plan(files):
    _sshd_placement.plan_placement("/etc/ssh/sshd_config", files, {"ClientAliveInterval": "60"})


def _walk(files):
    _sshd_config.walk_config("/etc/ssh/sshd_config", files.get,
                             lambda pattern: sorted(p for p in files if p.startswith(pattern.split("*")[0])))


@pytest.mark.parametrize("function", [
    pytest.param(_walk, id="_sshd_config.walk_config"),
    pytest.param(_plan, id="_sshd_placement.plan_placement"),
])
def test_include_loops_cost_what_the_bounded_walk_costs(function):
    """issue 17: 8 drop-ins that each Include the drop-in directory took placement planning 7.6 s.

    sshd stops at 16 levels and the walk at 256 files; 8 drop-ins may cost at most 8 x 8
    times what 1 costs, which factorial growth (8! = 40,320) cannot meet.
    """
    limit = _fuzz.FACTOR * 8
    growth = timing.growth_below(function, _dropins, limit, 1, 8)
    assert growth < limit, "8 drop-ins cost %.0f times what 1 costs: over the bound of %d" % (growth, limit)
