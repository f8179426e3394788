# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for sshdoctor.connreset.diagnose_report: rank causes and write the fleet report.

Runs once on the controller (``run_once: true``), in the worker process: it reads
every play host's registered ``ssh_evidence`` and ``ssh_probe`` results from
hostvars, runs the rules and writes report.json, report.md and report.html.
It starts no module and contacts no host. See plugins/modules/diagnose_report.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil
import tempfile
import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _junit, _report

display = Display()

FORMATS = ("json", "md", "html", "junit")
GENERATOR = "sshdoctor.connreset diagnose_report"

ARGUMENT_SPEC = dict(
    dest=dict(type="path", default="./sshdoctor-report"),
    hosts=dict(type="list", elements="str"),
    evidence_var=dict(type="str", default="__diagnose_evidence"),
    probe_var=dict(type="str", default="__diagnose_probe"),
    formats=dict(type="list", elements="str", default=list(FORMATS), choices=list(FORMATS)),
    evidence_files=dict(type="bool", default=True),
    print_table=dict(type="bool", default=True),
    table_width=dict(type="int"),
    fail_on=dict(type="str", default="none", choices=list(_junit.FAIL_ON)),
)


def host_input(evidence_result, probe_result):
    """What the report needs of one host, from its two registered task results."""
    probe = probe_result.get("probe") if isinstance(probe_result, dict) else None
    # The ssh_evidence action reports a host it cannot connect to as skipped, with connection_failed.
    if isinstance(evidence_result, dict) and evidence_result.get("connection_failed"):
        return {"status": _report.UNREACHABLE, "probe": probe, "message": evidence_result.get("msg")}
    if not isinstance(evidence_result, dict) or evidence_result.get("skipped"):
        if probe is None:
            return {"status": _report.NOT_RUN, "message": "no ssh_evidence or ssh_probe result was registered for this host"}
        return {"status": _report.NOT_RUN, "probe": probe,
                "message": "ssh_evidence did not run on this host; the probe alone speaks"}
    if evidence_result.get("unreachable"):
        return {"status": _report.UNREACHABLE, "probe": probe, "message": evidence_result.get("msg")}
    if evidence_result.get("failed") or not isinstance(evidence_result.get("evidence"), dict):
        message = evidence_result.get("msg") or "ssh_evidence returned no evidence"
        return {"status": _report.EVIDENCE_FAILED, "probe": probe, "message": str(message)}
    return {"status": _report.DIAGNOSED, "probe": probe, "evidence": evidence_result["evidence"]}


def safe_name(name):
    """A file name for a host name: letters, digits, dot, dash, underscore."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip(".") or "host"
    return cleaned[:120]


def write_atomically(path, text):
    directory = os.path.dirname(path)
    handle, tmp_path = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        names = args["hosts"]
        if names is None:
            names = list(self._templar.template(task_vars.get("ansible_play_hosts_all") or []))
        hostvars = task_vars.get("hostvars")
        inputs = {}
        for name in names:
            raw = hostvars.raw_get(name) if hostvars is not None else {}
            raw = raw if isinstance(raw, dict) else {}
            inputs[name] = host_input(raw.get(args["evidence_var"]), raw.get(args["probe_var"]))

        now = time.time()
        report = _report.build_report(inputs, now, generator=GENERATOR)
        dest = os.path.abspath(os.path.expanduser(args["dest"]))
        try:
            files, evidence_dir = self._write(report, inputs, dest, args)
        except (IOError, OSError) as exc:
            return dict(result, failed=True, msg="cannot write the report to %s: %s" % (dest, exc))
        width = args["table_width"] or max(100, min(200, shutil.get_terminal_size((160, 24)).columns))
        table = _report.render_table(report, width=width)
        if args["print_table"]:
            display.display("\n%s\n\nReport: %s\n" % (table, " ".join(files) or dest))
        result.update(
            changed=False,
            dest=dest,
            files=files,
            evidence_dir=evidence_dir,
            version=report["version"],
            generated_at=report["generated_at"],
            summary=report["summary"],
            counts=report["counts"],
            hosts=dict((name, {
                "status": entry["status"],
                "reachable": entry["reachable"],
                "top_cause": entry["findings"][0]["cause"] if entry["findings"] else None,
                "severity": entry["findings"][0]["severity"] if entry["findings"] else None,
                "summary": entry["summary"],
            }) for name, entry in report["hosts"].items()),
            table=table.splitlines(),
            failing_hosts=[name for name, _item in _junit.failing_hosts(report, args["fail_on"])],
        )
        # After the report is written: fail the task (and so the play) for CI, with one line.
        failure = _junit.fail_message(report, args["fail_on"])
        if failure:
            return dict(failed=True, changed=False, msg=failure, dest=dest, files=files, failing_hosts=result["failing_hosts"])
        return result

    def _write(self, report, inputs, dest, args):
        if not os.path.isdir(dest):
            os.makedirs(dest)
        files = []
        renderers = {"json": ("report.json", _report.render_json), "md": ("report.md", _report.render_markdown),
                     "html": ("report.html", _report.render_html),
                     "junit": ("report.junit.xml", lambda r: _junit.render_junit(r, _junit.junit_level(args["fail_on"])))}
        for fmt in FORMATS:
            if fmt in args["formats"]:
                name, render = renderers[fmt]
                path = os.path.join(dest, name)
                write_atomically(path, render(report))
                files.append(path)
        if not args["evidence_files"]:
            return files, None
        # One file per host with everything it sent, for a ticket or a second opinion. Files a
        # previous run left for hosts not in this one are removed: the directory is one run's.
        directory = os.path.join(dest, "evidence")
        if not os.path.isdir(directory):
            os.makedirs(directory)
        written = set()
        for name, data in sorted(inputs.items()):
            base = safe_name(name)
            while base + ".json" in written:
                base += "_"
            written.add(base + ".json")
            write_atomically(os.path.join(directory, base + ".json"), json.dumps(
                {"host": name, "status": data.get("status"), "message": data.get("message"),
                 "probe": data.get("probe"), "evidence": data.get("evidence")}, indent=2, default=str) + "\n")
        for stale in os.listdir(directory):
            if stale.endswith(".json") and stale not in written:
                os.unlink(os.path.join(directory, stale))
        return files, directory
