# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run directories: their names, their modes under any umask, refused links, latest, pruning."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import errno
import json
import os
import re
import stat
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _junit
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _redact
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _report
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _report_files
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__report import HOSTS as REPORT_HOSTS
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__rules import healthy, probe

EPOCH = 1795000000  # 2026-11-18T11:06:40Z
FORMATS = ["json", "md", "html", "junit"]


@pytest.fixture
def umask():
    """Set a umask for one test (``umask(0o000)``), restored afterwards."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield os.umask
    os.umask(saved)


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def tree_modes(root):
    """``{relative path: mode}`` of everything under ``root`` (links not followed)."""
    found = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            found[os.path.relpath(path, root)] = mode(path)
    return found


def make_run(reports, epoch=EPOCH, hosts=("web1",), redact=False, junit_level="warning"):
    inputs = dict((name, {"evidence": healthy(), "probe": probe("banner", host=name, address="192.0.2.%d" % (10 + i))})
                  for i, name in enumerate(hosts))
    report = _report.build_report(inputs, epoch, generator="test")
    run = reports.new_run(epoch)
    try:
        documents = _report_files.evidence_documents(inputs)
        _report_files.write_report(run, report, documents, FORMATS, junit_level)
        if redact:
            _report_files.write_redacted(run, report, documents, FORMATS, junit_level=junit_level)
        run.finish(report["generated_at"], "test", junit_level=junit_level)
    finally:
        run.close()
    return run


# --- names ---------------------------------------------------------------------------------------


def test_run_names_are_utc_time_sortable_and_without_colons():
    assert _report_files.run_name(EPOCH) == "2026-11-18T110640Z"
    assert _report_files.run_name(EPOCH, 3) == "2026-11-18T110640Z-03"
    names = [_report_files.run_name(EPOCH + 1, 0)] + [_report_files.run_name(EPOCH, n) for n in (12, 0, 2, 10, 1)]
    assert sorted(names, key=_report_files.run_sort_key) == sorted(names) == [
        "2026-11-18T110640Z", "2026-11-18T110640Z-01", "2026-11-18T110640Z-02", "2026-11-18T110640Z-10",
        "2026-11-18T110640Z-12", "2026-11-18T110641Z"]
    assert all(":" not in name and _report_files.RUN_NAME.match(name) for name in names)
    assert _report_files.epoch_of("2026-11-18T11:06:40Z") == EPOCH


def test_two_runs_in_the_same_second_get_two_directories(tmp_path):
    with _report_files.ReportDir(str(tmp_path)) as reports:
        first, second = make_run(reports), make_run(reports)
        assert (first.name, second.name) == ("2026-11-18T110640Z", "2026-11-18T110640Z-01")
        assert reports.runs() == [first.name, second.name]
    assert json.loads((tmp_path / first.name / "report.json").read_text())["hosts"]


def test_evidence_file_names_are_safe_and_unique():
    names = [n for n, _doc in _report_files.evidence_documents({"a/b": {}, "a_b": {}, "..x": {}, "web1": {}})]
    assert names == ["x.json", "a_b.json", "a_b_.json", "web1.json"]  # in sorted order of the host names


# --- modes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    (None, (0o700, 0o600)),
    ("0700", (0o700, 0o600)),
    ("700", (0o700, 0o600)),
    ("0750", (0o750, 0o640)),
    ("0640", (0o750, 0o640)),
    ("0o770", (0o770, 0o660)),
    ("0755", (0o755, 0o644)),
])
def test_modes(value, expected):
    assert _report_files.parse_mode(value) == expected


@pytest.mark.parametrize("value, message", [
    ("750x", "must be an octal mode"),
    ("4750", "must be an octal mode"),
    ("0400", "must give the owner read and write"),
    (488, "must be an octal mode"),  # YAML's unquoted 0750 arrives as 488
])
def test_bad_modes_name_the_variable(value, message):
    with pytest.raises(ValueError, match="diagnose_report_mode .*%s|diagnose_report_mode must" % message):
        _report_files.parse_mode(value)


def test_everything_is_private_under_a_permissive_umask(tmp_path, umask):
    umask(0o000)
    dest = tmp_path / "new" / "reports"
    with _report_files.ReportDir(str(dest)) as reports:
        run = make_run(reports, redact=True)
        reports.set_latest(run.name)
    assert mode(str(tmp_path / "new")) == 0o700 and mode(str(dest)) == 0o700
    modes = tree_modes(str(dest))
    assert modes.pop("latest") == 0o777  # a symbolic link's own bits mean nothing on Linux
    expected_dirs = {run.name, run.name + "/evidence", run.name + "/redacted", run.name + "/redacted/evidence"}
    assert dict((p, m) for p, m in modes.items() if p in expected_dirs) == dict.fromkeys(expected_dirs, 0o700)
    files = dict((p, m) for p, m in modes.items() if p not in expected_dirs)
    assert run.name + "/report.json" in files and run.name + "/redaction-map.json" in files
    assert run.name + "/redacted/evidence/host-1.json" in files and run.name + "/.sshdoctor-run.json" in files
    assert set(files.values()) == {0o600}


def test_a_group_mode_is_exact_under_a_strict_umask_and_the_map_stays_private(tmp_path, umask):
    umask(0o077)
    with _report_files.ReportDir(str(tmp_path / "reports"), 0o750, 0o640) as reports:
        run = make_run(reports, redact=True)
    modes = tree_modes(str(tmp_path / "reports"))
    assert mode(str(tmp_path / "reports")) == 0o750
    assert modes[run.name] == modes[run.name + "/evidence"] == modes[run.name + "/redacted"] == 0o750
    assert modes[run.name + "/report.html"] == modes[run.name + "/evidence/web1.json"] == 0o640
    assert modes[run.name + "/redacted/report.md"] == 0o640
    assert modes[run.name + "/redaction-map.json"] == 0o600


def test_an_existing_report_directory_keeps_its_mode(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    with _report_files.ReportDir(str(tmp_path)) as reports:
        run = make_run(reports)
    assert mode(str(tmp_path)) == 0o755 and mode(run.path) == 0o700


def test_a_world_writable_report_directory_is_noted(tmp_path):
    os.chmod(str(tmp_path), 0o777)
    with _report_files.ReportDir(str(tmp_path)) as reports:
        assert "writable by every user" in reports.notes[0]


# --- links ---------------------------------------------------------------------------------------


def test_a_symbolic_link_at_the_run_path_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    reports_dir = tmp_path / "reports"
    reports_dir.mkdir()
    os.symlink(str(elsewhere), str(reports_dir / _report_files.run_name(EPOCH)))
    with _report_files.ReportDir(str(reports_dir)) as reports:
        with pytest.raises(_report_files.ReportFilesError) as caught:
            make_run(reports)
    message = str(caught.value)
    assert "refusing to write the run" in message and "is a symbolic link (to %s)" % elsewhere in message
    assert list(elsewhere.iterdir()) == []


def test_files_are_never_written_through_a_link_or_over_a_file(tmp_path):
    target = tmp_path / "target"
    target.write_text("keep me")
    os.symlink(str(target), str(tmp_path / "report.json"))
    fd = os.open(str(tmp_path), os.O_RDONLY)
    try:
        for name in ("report.json", "target"):
            with pytest.raises(OSError) as caught:
                _report_files._write_new(fd, name, "x", 0o600)
            assert caught.value.errno in (errno.EEXIST, errno.ELOOP)
    finally:
        os.close(fd)
    assert target.read_text() == "keep me"


# --- latest --------------------------------------------------------------------------------------


def test_latest_names_the_newest_run(tmp_path):
    with _report_files.ReportDir(str(tmp_path)) as reports:
        first = make_run(reports)
        assert reports.set_latest(first.name) == str(tmp_path / "latest")
        second = make_run(reports, EPOCH + 60)
        reports.set_latest(second.name)
        assert reports.latest() == second.name
    assert os.readlink(str(tmp_path / "latest")) == second.name
    assert json.loads((tmp_path / "latest" / "report.json").read_text())["generated_at"] == "2026-11-18T11:07:40Z"
    assert not (tmp_path / "latest.txt").exists()


def test_latest_txt_where_links_cannot_be_made(tmp_path, monkeypatch):
    def no_links(*_args, **_kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "symlink", no_links)
    with _report_files.ReportDir(str(tmp_path)) as reports:
        run = make_run(reports)
        assert reports.set_latest(run.name) == str(tmp_path / "latest.txt")
        assert reports.latest() == run.name
        assert "latest.txt names the latest run" in reports.notes[-1]
    assert (tmp_path / "latest.txt").read_text() == run.name + "\n"
    assert mode(str(tmp_path / "latest.txt")) == 0o600


def test_a_latest_that_is_not_a_link_is_left_alone(tmp_path):
    (tmp_path / "latest").mkdir()
    (tmp_path / "latest" / "mine.txt").write_text("someone's")
    with _report_files.ReportDir(str(tmp_path)) as reports:
        run = make_run(reports)
        assert reports.set_latest(run.name) == str(tmp_path / "latest.txt")
    assert (tmp_path / "latest" / "mine.txt").read_text() == "someone's"
    assert (tmp_path / "latest.txt").read_text() == run.name + "\n"


# --- pruning -------------------------------------------------------------------------------------


def test_pruning_removes_only_the_oldest_runs_of_this_collection(tmp_path):
    with _report_files.ReportDir(str(tmp_path)) as reports:
        runs = [make_run(reports, EPOCH + 60 * i) for i in range(4)]
        # things that look like runs but are not this collection's, and things that do not look like runs
        (tmp_path / "2020-01-01T000000Z").mkdir()  # the name, no marker
        (tmp_path / "2020-01-01T000000Z" / "notes.txt").write_text("mine")
        os.symlink(runs[0].path, str(tmp_path / "2019-01-01T000000Z"))  # a link with a run's name
        (tmp_path / "old-reports").mkdir()
        (tmp_path / "report.json").write_text("{}")
        (tmp_path / runs[1].name / "ticket-notes.md").write_text("added by a person")  # a run holding a foreign file
        removed, notes = reports.prune(2, protect=(runs[3].name,))
        assert removed == [runs[0].path]
        assert notes == ["%s was not removed: it holds files this collection did not write (ticket-notes.md)" % runs[1].path]
        assert reports.runs() == [runs[1].name, runs[2].name, runs[3].name]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([
        "2019-01-01T000000Z", "2020-01-01T000000Z", "old-reports", "report.json", runs[1].name, runs[2].name, runs[3].name])
    assert (tmp_path / "2020-01-01T000000Z" / "notes.txt").read_text() == "mine"
    assert (tmp_path / runs[1].name / "report.json").exists()


def test_keep_zero_keeps_every_run(tmp_path):
    with _report_files.ReportDir(str(tmp_path)) as reports:
        names = [make_run(reports, EPOCH + i).name for i in range(3)]
        assert reports.prune(0) == ([], [])
        assert reports.runs() == names


def test_pruning_never_removes_another_users_run(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to give a directory to another user")
    with _report_files.ReportDir(str(tmp_path)) as reports:
        old, new = make_run(reports, EPOCH), make_run(reports, EPOCH + 60)
        os.chown(old.path, 1, 1)
        assert reports.runs() == [new.name]
        assert reports.prune(1) == ([], [])
    assert os.path.isdir(old.path)


def test_a_pruned_run_goes_with_its_redacted_copy(tmp_path):
    with _report_files.ReportDir(str(tmp_path)) as reports:
        old = make_run(reports, EPOCH, redact=True)
        new = make_run(reports, EPOCH + 60)
        assert reports.prune(1) == ([old.path], [])
    assert sorted(p.name for p in tmp_path.iterdir()) == [new.name]


# --- a redacted copy of an earlier run -------------------------------------------------------------


def test_an_earlier_run_can_be_redacted_once(tmp_path):
    with _report_files.ReportDir(str(tmp_path)) as reports:
        made = make_run(reports, hosts=("web1", "db2"))
        reports.set_latest(made.name)
    with _report_files.ReportDir(str(tmp_path), create=False) as reports:
        run = reports.open_run("latest")
        report, documents, formats, junit_level = _report_files.read_run(run)
        assert formats == FORMATS and [n for n, _d in documents] == ["db2.json", "web1.json"] and junit_level == "warning"
        written = _report_files.write_redacted(run, report, documents, formats, junit_level=junit_level)
        run.finish(report["generated_at"], "test", redacted=True)
        run.close()
        assert written["redacted_dir"] == os.path.join(made.path, "redacted")
        manifest = json.loads((tmp_path / made.name / ".sshdoctor-run.json").read_text())
        assert "redacted/report.html" in manifest["files"] and "redaction-map.json" in manifest["files"]
        assert "redacted/report.junit.xml" in manifest["files"] and manifest["junit_level"] == "warning"
        again = reports.open_run(made.name)
        with pytest.raises(_report_files.AlreadyRedacted):
            _report_files.write_redacted(again, *_report_files.read_run(again)[:3])
        again.close()
    clean = json.loads((tmp_path / made.name / "redacted" / "report.json").read_text())
    mapping = json.loads((tmp_path / made.name / "redaction-map.json").read_text())["mapping"]
    assert sorted(clean["hosts"]) == ["host-1", "host-2"] and mapping["hosts"] == {"db2": "host-1", "web1": "host-2"}
    for path in (tmp_path / made.name / "redacted").rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "web1" not in text and "db2" not in text and "192.0.2." not in text


def test_an_earlier_runs_junit_file_is_redacted_with_the_runs_own_threshold(tmp_path):
    """diagnose_fail_on=critical: report.junit.xml fails only the critical hosts, and so does its redacted copy
    made later by the redact playbook (the threshold is in the run's marker, kept when the marker is rewritten)."""
    report = _report.build_report(copy.deepcopy(REPORT_HOSTS), EPOCH, generator="test")
    critical = [name for name, _f in _junit.failing_hosts(report, "critical")]
    assert critical and critical != [name for name, _f in _junit.failing_hosts(report, "warning")]
    with _report_files.ReportDir(str(tmp_path)) as reports:
        run = reports.new_run(EPOCH)
        _report_files.write_report(run, report, None, FORMATS, "critical")
        run.finish(report["generated_at"], "test", junit_level="critical")
        run.close()
        run = reports.open_run(run.name)
        report_back, documents, formats, junit_level = _report_files.read_run(run)
        assert (documents, formats, junit_level) == (None, FORMATS, "critical")
        _report_files.write_redacted(run, report_back, documents, formats, junit_level=junit_level)
        run.finish(report_back["generated_at"], "test", redacted=True)
        run.close()
    run_dir = tmp_path / run.name
    assert json.loads((run_dir / ".sshdoctor-run.json").read_text())["junit_level"] == "critical"
    mapping = json.loads((run_dir / "redaction-map.json").read_text())["mapping"]["hosts"]
    for path, names in ((run_dir / "report.junit.xml", critical),
                        (run_dir / "redacted" / "report.junit.xml", [mapping[name] for name in critical])):
        suite = ET.parse(str(path)).getroot().find("testsuite")
        assert [(p.get("name"), p.get("value")) for p in suite.iter("property")][-1] == ("fail_on", "critical")
        assert sorted(case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None) == sorted(names)
    redacted_text = (run_dir / "redacted" / "report.junit.xml").read_text()
    assert not [name for name in REPORT_HOSTS if re.search(r"\b%s\b" % name, redacted_text)]


def test_a_leaking_copy_is_not_written(tmp_path, monkeypatch):
    monkeypatch.setattr(_redact.Redactor, "scrub", lambda self, text: text + "\nleft: 198.51.100.99\n")
    with _report_files.ReportDir(str(tmp_path)) as reports:
        with pytest.raises(_redact.RedactionError, match="would still hold"):
            make_run(reports, redact=True)
    run_dir = tmp_path / _report_files.run_name(EPOCH)
    assert not (run_dir / "redacted").exists() and not (run_dir / "redaction-map.json").exists()


def test_open_run_refuses_what_is_not_a_run(tmp_path):
    (tmp_path / "notes").mkdir()
    with _report_files.ReportDir(str(tmp_path)) as reports:
        with pytest.raises(_report_files.ReportFilesError, match="no latest run"):
            reports.open_run("latest")
        with pytest.raises(_report_files.ReportFilesError, match="is not the name of a run"):
            reports.open_run("notes")
        reports.new_run(EPOCH).close()  # begun, never finished
        with pytest.raises(_report_files.ReportFilesError, match="is not a complete run"):
            reports.open_run(_report_files.run_name(EPOCH))
