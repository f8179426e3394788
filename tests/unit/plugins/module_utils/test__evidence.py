# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ssh_evidence's orchestration: order, hand-over between collectors, failure isolation.

The collectors themselves are tested in their own files; here they are stand-ins
that record how they were called.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _evidence
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import FakeHost


class Recorder:
    def __init__(self):
        self.calls = []

    def collector(self, name, result=None, error=None):
        def collect(host, **kwargs):
            self.calls.append((name, kwargs))
            host.note("%s looked" % name)
            if error:
                raise error
            return dict(result or {}, notes=list(host.notes))

        return collect


def ticking_clock():
    ticks = iter(range(0, 1000))
    return lambda: next(ticks) / 100.0


def all_collectors(recorder, **overrides):
    collectors = dict((name, recorder.collector(name)) for name in _evidence.SECTIONS)
    collectors["sshd"] = recorder.collector("sshd", {"unit": "ssh", "settings": {"port": [22, 2222]}})
    collectors.update(overrides)
    return collectors


def test_sshd_runs_first_and_hands_its_unit_and_ports_on():
    recorder = Recorder()
    result = _evidence.collect_evidence(FakeHost, all_collectors(recorder), since="-2d", clients=["10.0.0.5"],
                                        clock=ticking_clock())
    assert [name for name, kwargs in recorder.calls] == list(_evidence.SECTIONS)
    calls = dict(recorder.calls)
    assert calls["journal"] == {"since": "-2d", "unit": ["ssh"], "clients": ["10.0.0.5"]}
    assert calls["firewall"] == {"ports": [22, 2222], "clients": ["10.0.0.5"]}
    # The bans reader gets the packet filter the firewall reader read, instead of reading it again.
    assert calls["bans"] == {"firewall": {"notes": ["firewall looked"]}, "ports": [22, 2222], "clients": ["10.0.0.5"]}
    assert calls["tcp_wrappers"] == {"client_addresses": ["10.0.0.5"]}
    assert calls["host_health"] == {"unit": "ssh"}
    assert calls["oom"] == {}
    assert set(result["evidence"]) == set(_evidence.SECTIONS)
    assert result["timings_ms"]["sshd"] == 10


def test_each_section_gets_its_own_notes():
    recorder = Recorder()
    result = _evidence.collect_evidence(FakeHost, all_collectors(recorder))
    assert result["evidence"]["oom"]["notes"] == ["oom looked"]
    assert result["evidence"]["firewall"]["notes"] == ["firewall looked"]


def test_a_failing_collector_costs_only_its_section():
    recorder = Recorder()
    collectors = all_collectors(recorder, firewall=recorder.collector("firewall", error=OSError(12, "Cannot allocate memory")))
    result = _evidence.collect_evidence(FakeHost, collectors)
    assert result["evidence"]["firewall"] == {"error": "OSError: [Errno 12] Cannot allocate memory", "notes": ["firewall looked"]}
    assert "rules" not in result["evidence"]["firewall"]
    assert result["evidence"]["host_health"]["notes"] == ["host_health looked"]
    # Without a packet filter to hand on, the bans reader reads it itself.
    assert dict(recorder.calls)["bans"] == {"firewall": None, "ports": [22, 2222]}


def test_a_failed_sshd_section_hands_nothing_on():
    recorder = Recorder()
    collectors = all_collectors(recorder, sshd=recorder.collector("sshd", error=ValueError("odd")))
    _evidence.collect_evidence(FakeHost, collectors, since=None)
    assert dict(recorder.calls)["journal"] == {"since": None}
    assert dict(recorder.calls)["firewall"] == {}
    assert dict(recorder.calls)["bans"] == {"firewall": {"notes": ["firewall looked"]}}


def test_only_the_requested_sections_run():
    recorder = Recorder()
    result = _evidence.collect_evidence(FakeHost, all_collectors(recorder), sections=["journal", "sshd"])
    assert [name for name, kwargs in recorder.calls] == ["sshd", "journal"]
    assert set(result["evidence"]) == {"sshd", "journal"}


def test_the_journal_gets_its_time_budget_and_no_clients_when_none_were_asked_about():
    recorder = Recorder()
    _evidence.collect_evidence(FakeHost, all_collectors(recorder), sections=["journal"], journal_time_budget=12.5)
    assert dict(recorder.calls)["journal"] == {"since": None, "time_budget": 12.5}
