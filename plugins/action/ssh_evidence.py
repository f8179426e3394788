# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for sshdoctor.connreset.ssh_evidence: run the module; a host Ansible cannot reach is skipped.

The module does the work on the host (see plugins/modules/ssh_evidence.py). This plugin
only changes what a connection failure looks like: instead of an UNREACHABLE result,
which every callback prints as a red error block per host (and which takes the host out
of the play), the task is skipped for that host with ``connection_failed: true`` and
Ansible's message in ``msg``. The diagnosis goes on from the controller's probe and the
report says what happened; real failures of the module are still failures.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.action.normal import ActionModule as NormalAction


class ActionModule(NormalAction):
    """Ansible's own ``normal`` action (which runs any module), with connection failures turned into a skip."""

    def run(self, tmp=None, task_vars=None):
        try:
            return super(ActionModule, self).run(tmp, task_vars)
        except AnsibleConnectionFailure as exc:
            return dict(changed=False, skipped=True, connection_failed=True, msg=exc.message,
                        skip_reason="Ansible cannot connect to this host; the probe and the report say why")
