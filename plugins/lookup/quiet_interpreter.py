# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: quiet_interpreter
short_description: The configured Python interpreter setting, with interpreter discovery made silent
version_added: 0.1.0
description:
  - Returns the controller's C(interpreter_python) setting as configured (C(ansible.cfg), C(ANSIBLE_PYTHON_INTERPRETER),
    or Ansible's default), without looking at variables. When that setting is a discovery mode (V(auto),
    V(auto_legacy)), it returns the mode's silent form (V(auto_silent), V(auto_legacy_silent)), which discovers the
    same interpreter without the per-host warning; any other setting (an interpreter path, a silent mode) is
    returned unchanged.
  - The P(sshdoctor.connreset.diagnose#role) role uses it as its default of C(ansible_python_interpreter), a role
    default, so an C(ansible_python_interpreter) from the inventory, a play or the command line still wins.
  - Reading the setting with the P(ansible.builtin.config#lookup) lookup instead would consult the variable this
    value is assigned to, which loops.
author:
  - sshdoctor.connreset contributors (@sshdoctor)
options: {}
"""

EXAMPLES = r"""
- name: Diagnose a fleet without one interpreter discovery warning per host
  hosts: all
  vars:
    ansible_python_interpreter: "{{ lookup('sshdoctor.connreset.quiet_interpreter') }}"
  tasks:
    - name: Evidence
      sshdoctor.connreset.ssh_evidence:
"""

RETURN = r"""
_raw:
  description: The interpreter setting, in a one-element list (for example V(auto_silent) or V(/usr/bin/python3)).
  type: list
  elements: str
"""

from ansible import constants as C
from ansible.plugins.lookup import LookupBase

SILENT = {"auto": "auto_silent", "auto_legacy": "auto_legacy_silent"}


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        configured = C.config.get_config_value("INTERPRETER_PYTHON")
        return [SILENT.get(configured, configured)]
