#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ssh_evidence
short_description: Everything the diagnosis needs from one host, in one module run
version_added: 0.1.0
description:
  - Runs the collectors of M(sshdoctor.connreset.sshd_info), M(sshdoctor.connreset.sshd_journal_info),
    M(sshdoctor.connreset.oom_events_info), M(sshdoctor.connreset.firewall_info),
    M(sshdoctor.connreset.tcp_wrappers_info) and M(sshdoctor.connreset.host_health_info) in one process,
    so that a host costs one module round trip.
  - Each section of RV(evidence) is what the matching module returns (without Ansible's own keys); see those
    modules' RETURN. What one collector learns is passed to the next ones (sshd's unit to the journal reader,
    sshd's ports to the firewall reader, sshd's unit to the host health reader for its task limit).
  - A collector that fails does not fail the module; its section then holds only C(error) (the exception) and
    C(notes).
  - The P(sshdoctor.connreset.diagnose#role) role runs it and turns its result into findings on the controller.
  - When Ansible cannot connect to the host (or cannot become root there), the task is skipped for that host with
    RV(connection_failed) and Ansible's message in C(msg), instead of an unreachable result; the diagnosis goes on
    from the controller's probe, and no error block per host is printed. Failures of the module itself still fail.
author:
  - sshdoctor.connreset contributors (@sshdoctor)
extends_documentation_fragment:
  - sshdoctor.connreset.attributes
  - sshdoctor.connreset.attributes.info_module
notes:
  - Commands run with C(LC_ALL=C) and argument lists, never through a shell.
  - A missing tool or a lack of privilege does not fail the module; each section's C(notes) says what could not be
    read. Run it with C(become=true) for the full picture.
options:
  sections:
    description: Which sections to collect.
    type: list
    elements: str
    choices: [sshd, journal, oom, firewall, tcp_wrappers, host_health]
    default: [sshd, journal, oom, firewall, tcp_wrappers, host_health]
  since:
    description:
      - How far back to read sshd's journal, as C(journalctl --since) takes it (C(-2d), C(2026-11-01 00:00:00), C(today)).
      - By default the previous and the current boot.
    type: str
  clients:
    description:
      - Client addresses to evaluate hosts.allow / hosts.deny for.
      - The journal section also follows each address or CIDR given here (its C(focus) and per-signature
        C(clients)); without it, the journal has no C(focus).
      - By default the address of the SSH connection the module came in on (C(SSH_CONNECTION)), when it is visible
        (it is not through C(become) with sudo's default C(env_reset)).
    type: list
    elements: str
  journal_time_budget:
    description:
      - Seconds the journal section may spend reading sshd's journal and syslog files (every line of the window is
        counted within it; when it runs out, the section's C(period) says what was not read).
      - Replaces the line cap (C(max_lines)) of earlier versions.
    type: float
    default: 30
seealso:
  - module: sshdoctor.connreset.ssh_probe
  - module: sshdoctor.connreset.diagnose_report
"""

EXAMPLES = r"""
- name: All the evidence, one round trip per host
  sshdoctor.connreset.ssh_evidence:
  become: true
  register: evidence

- name: Only sshd and its journal of the last two days
  sshdoctor.connreset.ssh_evidence:
    sections: [sshd, journal]
    since: -2d
  become: true
  register: evidence

- name: Is sshd throttling right now?
  ansible.builtin.debug:
    msg: "{{ evidence.evidence.sshd.preauth_processes }} of {{ evidence.evidence.sshd.settings.max_startups.start }}"
"""

RETURN = r"""
evidence:
  description: One key per collected section.
  returned: success
  type: dict
  contains:
    sshd:
      description: What M(sshdoctor.connreset.sshd_info) returns.
      returned: when collected
      type: dict
    journal:
      description: What M(sshdoctor.connreset.sshd_journal_info) returns.
      returned: when collected
      type: dict
    oom:
      description: What M(sshdoctor.connreset.oom_events_info) returns.
      returned: when collected
      type: dict
    firewall:
      description: What M(sshdoctor.connreset.firewall_info) returns.
      returned: when collected
      type: dict
    tcp_wrappers:
      description: What M(sshdoctor.connreset.tcp_wrappers_info) returns.
      returned: when collected
      type: dict
    host_health:
      description: What M(sshdoctor.connreset.host_health_info) returns.
      returned: when collected
      type: dict
  sample:
    sshd: {"installed": true, "version": "9.2p1", "config_valid": true, "notes": []}
    firewall: {"error": "OSError: [Errno 12] Cannot allocate memory", "notes": []}
connection_failed:
  description: True when Ansible could not connect to the host (the task is then skipped for it, and C(msg) says why).
  returned: when Ansible could not connect
  type: bool
  sample: true
timings_ms:
  description: Milliseconds each collector took.
  returned: success
  type: dict
  sample: {"sshd": 95, "journal": 140, "oom": 30, "firewall": 25, "tcp_wrappers": 3, "host_health": 6}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sshdoctor.connreset.plugins.module_utils._evidence import SECTIONS, collect_evidence
from ansible_collections.sshdoctor.connreset.plugins.module_utils._firewall import collect_firewall
from ansible_collections.sshdoctor.connreset.plugins.module_utils._host import Host
from ansible_collections.sshdoctor.connreset.plugins.module_utils._host_health import collect_host_health
from ansible_collections.sshdoctor.connreset.plugins.module_utils._journal import collect_journal, validate_since
from ansible_collections.sshdoctor.connreset.plugins.module_utils._oom import collect_oom
from ansible_collections.sshdoctor.connreset.plugins.module_utils._sshd import collect_sshd
from ansible_collections.sshdoctor.connreset.plugins.module_utils._tcp_wrappers import collect_tcp_wrappers

COLLECTORS = {
    "sshd": collect_sshd,
    "journal": collect_journal,
    "oom": collect_oom,
    "firewall": collect_firewall,
    "tcp_wrappers": collect_tcp_wrappers,
    "host_health": collect_host_health,
}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sections=dict(type="list", elements="str", choices=list(SECTIONS), default=list(SECTIONS)),
            since=dict(type="str"),
            clients=dict(type="list", elements="str"),
            journal_time_budget=dict(type="float", default=30),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not params["journal_time_budget"] > 0:
        module.fail_json(msg="journal_time_budget must be more than 0 seconds")
    try:
        since = validate_since(params["since"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    result = collect_evidence(
        lambda: Host(module),
        COLLECTORS,
        sections=params["sections"],
        since=since,
        clients=params["clients"],
        journal_time_budget=params["journal_time_budget"],
    )
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
