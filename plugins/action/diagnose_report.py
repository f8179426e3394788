# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for sshdoctor.connreset.diagnose_report: rank causes and write the fleet report.

Runs once on the controller (``run_once: true``), in the worker process: it reads
every play host's registered ``ssh_evidence`` and ``ssh_probe`` results from
hostvars, runs the rules and writes report.json, report.md, report.html and report.junit.xml
into a run directory of its own (see _report_files).
It starts no module and contacts no host. See plugins/modules/diagnose_report.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _incident
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _junit
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _redact
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _report
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _report_files

display = Display()

FORMATS = tuple(_report_files.RENDERERS)  # json, md, html, junit
GENERATOR = "sshdoctor.connreset diagnose_report"

ARGUMENT_SPEC = dict(
    dest=dict(type="path", default="./sshdoctor-report"),
    hosts=dict(type="list", elements="str"),
    evidence_var=dict(type="str", default="__diagnose_evidence"),
    probe_var=dict(type="str", default="__diagnose_evidence"),
    formats=dict(type="list", elements="str", default=list(FORMATS), choices=list(FORMATS)),
    evidence_files=dict(type="bool", default=True),
    print_table=dict(type="bool", default=True),
    table_width=dict(type="int"),
    incident=dict(type="dict"),
    fail_on=dict(type="str", default="none", choices=list(_junit.FAIL_ON)),
    mode=dict(type="str", default=_report_files.DEFAULT_MODE),
    keep=dict(type="int", default=0),
    redact=dict(type="bool", default=False),
    redact_keywords=dict(type="list", elements="str", default=[], no_log=False),
    redact_domains=dict(type="list", elements="str", default=[]),
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
    return {"status": _report.DIAGNOSED, "probe": probe, "evidence": evidence_result["evidence"],
            "clients_used": evidence_result.get("clients_used") or []}


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
        try:
            incident = _incident.from_checked(args["incident"], now)
        except _incident.IncidentInputError as exc:
            return dict(result, failed=True, msg=str(exc))
        report = _report.build_report(inputs, now, generator=GENERATOR, incident=incident)
        dest = os.path.abspath(os.path.expanduser(args["dest"]))
        try:
            written = self._write(report, inputs, dest, args)
        except (IOError, OSError, ValueError) as exc:
            return dict(result, failed=True, msg="cannot write the report to %s: %s" % (dest, exc))
        width = args["table_width"] or max(100, min(200, shutil.get_terminal_size((160, 24)).columns))
        table = _report.render_table(report, width=width)
        if args["print_table"]:
            display.display("\n%s\n\n%s\n" % (table, "\n".join(written.pop("display"))))
        else:
            display.display("\n".join(written.pop("display")))
        result.update(written)
        result.update(
            changed=False,
            dest=dest,
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
                "health": entry["health"],
            }) for name, entry in report["hosts"].items()),
            table=table.splitlines(),
            fleet=[dict((k, f[k]) for k in ("cause", "kind", "hosts", "summary")) for f in report["fleet"]],
            failing_hosts=[name for name, _item in _junit.failing_hosts(report, args["fail_on"])],
        )
        if report.get("incident"):
            result["incident"] = dict((name, {
                "verdict": answer["verdict"]["cause"] if answer["verdict"] else None,
                "confidence": answer["verdict"]["confidence"] if answer["verdict"] else None,
                "summary": answer["summary"],
                "ruled_out": [r["cause"] for r in answer["ruled_out"]],
            }) for name, answer in report["incident"]["hosts"].items())
        # After the report is written: fail the task (and so the play) for CI, with one line.
        failure = _junit.fail_message(report, args["fail_on"])
        if failure:
            return dict(failed=True, changed=False, msg=failure, dest=dest, files=result["files"], run_dir=result["run_dir"],
                        latest=result["latest"], redacted_dir=result["redacted_dir"], failing_hosts=result["failing_hosts"])
        return result

    def _write(self, report, inputs, dest, args):
        """The run's own directory under ``dest``, then ``latest``, then pruning; see _report_files."""
        dir_mode, file_mode = _report_files.parse_mode(args["mode"], "mode (diagnose_report_mode)")
        if args["keep"] < 0:
            raise ValueError("keep (diagnose_report_keep) must be 0 (keep every run) or a positive count, not %d" % args["keep"])
        documents = _report_files.evidence_documents(inputs) if args["evidence_files"] else None
        written = {}
        with _report_files.ReportDir(dest, dir_mode, file_mode) as reports:
            run = reports.new_run(_report_files.epoch_of(report["generated_at"]) or time.time())
            try:
                junit_level = _junit.junit_level(args["fail_on"])
                files, evidence_dir = _report_files.write_report(run, report, documents, args["formats"], junit_level)
                redaction_error = None
                if args["redact"]:
                    try:
                        written.update(_report_files.write_redacted(
                            run, report, documents, args["formats"], args["redact_keywords"], args["redact_domains"],
                            junit_level))
                    except _redact.RedactionError as exc:
                        redaction_error = str(exc)
                run.finish(report["generated_at"], GENERATOR, redacted=bool(written), junit_level=junit_level)
            finally:
                run.close()
            latest = reports.set_latest(run.name)
            pruned, prune_notes = reports.prune(args["keep"], protect=(run.name,))
            notes = reports.notes + prune_notes
        if redaction_error:
            raise _report_files.ReportFilesError(
                0, "the report is complete in %s, but the redacted copy was not written: %s" % (run.path, redaction_error))
        names = [os.path.basename(f) for f in files] + (["evidence/"] if evidence_dir else [])
        lines = ["Report: %s (%s)" % (run.path, ", ".join(names) or "no files"), "Latest: %s -> %s" % (latest, run.name)]
        if written:
            lines.append("Redacted copy to share: %s (the mapping %s stays private)" % (
                written["redacted_dir"], written["redaction_map"]))
        if pruned:
            lines.append("Removed %d old run(s) beyond keep=%d: %s" % (len(pruned), args["keep"], ", ".join(pruned)))
        lines += ["Note: %s" % note for note in notes]
        written.update(files=files, evidence_dir=evidence_dir, run=run.name, run_dir=run.path, latest=latest,
                       pruned=pruned, report_notes=notes, display=lines)
        written.setdefault("redacted_dir", None)
        written.setdefault("redaction_map", None)
        return written
