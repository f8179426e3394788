# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for sshdoctor.connreset.diagnose_redact: a redacted copy of an existing diagnose run.

Runs on the controller, in the worker process; contacts no host. The substance is in
module_utils/_report_files.py (the run's files) and _redact.py (the redaction).
See plugins/modules/diagnose_redact.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _redact
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _report_files

display = Display()

ARGUMENT_SPEC = dict(
    dest=dict(type="path", default="./sshdoctor-report"),
    run=dict(type="str", default=_report_files.LATEST),
    keywords=dict(type="list", elements="str", default=[], no_log=False),
    domains=dict(type="list", elements="str", default=[]),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars or {})
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        dest = os.path.abspath(os.path.expanduser(args["dest"]))
        if self._play_context.check_mode:
            return dict(result, changed=False, dest=dest, msg="check mode: no redacted copy written")
        try:
            with _report_files.ReportDir(dest, create=False) as reports:
                run = reports.open_run(args["run"])
                try:
                    report, documents, formats, junit_level = _report_files.read_run(run)
                    written = _report_files.write_redacted(run, report, documents, formats, args["keywords"], args["domains"],
                                                           junit_level)
                    run.finish(report.get("generated_at"), (run.manifest() or {}).get("generator"), redacted=True)
                finally:
                    run.close()
        except _report_files.AlreadyRedacted as exc:
            display.display(str(exc))
            return dict(result, changed=False, dest=dest, run=run.name, run_dir=run.path, msg=str(exc),
                        redacted_dir=os.path.join(run.path, _report_files.REDACTED),
                        redaction_map=os.path.join(run.path, _report_files.REDACTION_MAP))
        except (IOError, OSError, ValueError, _redact.RedactionError) as exc:
            return dict(result, failed=True, dest=dest, msg="cannot redact the run: %s" % exc)
        display.display("Redacted copy to share: %s (the mapping %s stays private)" % (
            written["redacted_dir"], written["redaction_map"]))
        result.update(written, changed=True, dest=dest, run=run.name, run_dir=run.path)
        return result
