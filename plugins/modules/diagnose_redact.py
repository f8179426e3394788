#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: diagnose_redact
short_description: Write a redacted copy of an earlier diagnose run, to share
version_added: 0.1.0
description:
  - Reads a run that M(sshdoctor.connreset.diagnose_report) wrote (C(report.json) and C(evidence/*.json)) and writes
    C(redacted/) beside its files, the same report files the run has (C(report.json), C(report.md), C(report.html),
    C(report.junit.xml) with the run's own O(sshdoctor.connreset.diagnose_report#module:fail_on) threshold) and
    C(evidence/) with IP addresses and networks, host names, user names, MAC addresses and SSH key fingerprints replaced
    by tokens (C(host-3), C(client-12), C(net-2/24) keeping the prefix length, C(user-5), C(mac-1), C(key-1)). The same
    value becomes the same token everywhere in the run, so the findings still read.
  - The mapping from originals to tokens goes to the run's C(redaction-map.json) (mode C(0600)), never into C(redacted/).
  - The report is redacted as data and rendered again by the same renderers; the rendered text is then searched for
    every value the mapping holds, and for any address; if one is found, nothing is written and the task fails.
  - What is found and replaced, and what is kept (loopback addresses, C(root) and other system accounts, words of the
    report itself), is in the README of the P(sshdoctor.connreset.diagnose#role) role.
  - An action plugin does it on the controller; it contacts no host. A run that has its redacted copy already is left
    as it is (C(changed=false)).
author:
  - sshdoctor.connreset contributors (@sshdoctor)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - sshdoctor.connreset.attributes
attributes:
  check_mode:
    support: full
    details:
      - In check mode nothing is written.
  diff_mode:
    support: none
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  platform:
    platforms: posix
  idempotent:
    support: full
    description: A run that has its redacted copy already is left as it is.
options:
  dest:
    description: The report directory (C(sshdoctor_report_dir)) that holds the run.
    type: path
    default: ./sshdoctor-report
  run:
    description: The run to redact, by name (C(2026-12-02T140307Z)), as its path under O(dest), or V(latest).
    type: str
    default: latest
  keywords:
    description: More words to hide (company, project or site names), replaced wherever they occur, in any case.
    type: list
    elements: str
    default: []
  domains:
    description: DNS domains whose names are hidden whatever their top-level domain.
    type: list
    elements: str
    default: []
seealso:
  - module: sshdoctor.connreset.diagnose_report
"""

EXAMPLES = r"""
- name: Redact the latest run for a vendor ticket
  sshdoctor.connreset.diagnose_redact:
    dest: /var/tmp/sshdoctor
    keywords: [acme]
  run_once: true

# Or from the command line:
#   ansible-playbook sshdoctor.connreset.redact -e sshdoctor_report_dir=/var/tmp/sshdoctor -e sshdoctor_run=2026-12-02T140307Z
"""

RETURN = r"""
dest:
  description: The report directory.
  returned: always
  type: str
  sample: /home/me/sshdoctor-report
run:
  description: The run's name.
  returned: success
  type: str
  sample: 2026-12-02T140307Z
run_dir:
  description: The run's directory.
  returned: success
  type: str
  sample: /home/me/sshdoctor-report/2026-12-02T140307Z
redacted_dir:
  description: The redacted copy.
  returned: success
  type: str
  sample: /home/me/sshdoctor-report/2026-12-02T140307Z/redacted
redacted_files:
  description: Its files.
  returned: when the copy was written
  type: list
  elements: str
redaction_map:
  description: The private mapping from originals to tokens.
  returned: success
  type: str
  sample: /home/me/sshdoctor-report/2026-12-02T140307Z/redaction-map.json
redaction_counts:
  description: How many values of each kind were replaced.
  returned: when the copy was written
  type: dict
  sample: {"hosts": 6, "domains": 1, "addresses": 9, "networks": 2, "users": 1, "macs": 0, "fingerprints": 0, "keywords": 0}
"""
