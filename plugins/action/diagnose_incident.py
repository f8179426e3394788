# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for sshdoctor.connreset.diagnose_incident: check the incident inputs before anything is collected.

Runs in the controller's worker process (no module, no connection). A bad value
fails the task with a message that names the variable; the diagnose role runs it
first, once, so that nothing is collected from any host with a bad question.
See plugins/modules/diagnose_incident.py for the documentation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.plugins.action import ActionBase
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _incident

ARGUMENT_SPEC = dict(
    client=dict(type="raw"),
    at=dict(type="str"),
    window=dict(type="raw", default=_incident.DEFAULT_WINDOW_MINUTES),
    client_error=dict(type="raw"),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars or {})
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            incident = _incident.parse_inputs(client=args["client"], at=args["at"], window=args["window"],
                                              client_error=args["client_error"], now=time.time())
        except _incident.IncidentInputError as exc:
            return dict(result, failed=True, changed=False, msg=str(exc))
        result.update(changed=False, incident=incident)
        return result
