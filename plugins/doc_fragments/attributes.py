# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Standard attributes of every module in this collection.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
"""

    # Read-only evidence collectors: they change nothing, so check mode is the same run.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This module only reads; it runs the same in check mode and never reports a change.
  diff_mode:
    support: N/A
    details:
      - This module changes nothing, so there is no diff.
  idempotent:
    support: full
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
"""

    # What every collector says about missing tools and privileges.
    COLLECTOR_NOTES = r"""
options: {}
notes:
  - Commands run with C(LC_ALL=C) and argument lists, never through a shell.
  - >-
    A missing tool or a lack of privilege does not fail the module; the result's RV(notes) says what could not be read.
    Run it with C(become: true) for the full picture.
"""
