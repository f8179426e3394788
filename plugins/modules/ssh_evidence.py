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
    M(sshdoctor.connreset.oom_events_info), M(sshdoctor.connreset.firewall_info), M(sshdoctor.connreset.bans_info),
    M(sshdoctor.connreset.tcp_wrappers_info) and M(sshdoctor.connreset.host_health_info) in one process,
    so that a host costs one module round trip.
  - Each section of RV(evidence) is what the matching module returns (without Ansible's own keys); see those
    modules' RETURN. What one collector learns is passed to the next ones (sshd's unit to the journal reader,
    sshd's ports to the firewall reader, the packet filter the firewall reader read to the bans reader, sshd's unit
    to the host health reader for its task limit).
  - A collector that fails does not fail the module; its section then holds only C(error) (the exception) and
    C(notes).
  - The P(sshdoctor.connreset.diagnose#role) role runs it and turns its result into findings on the controller.
  - When Ansible cannot connect to the host (or cannot become root there), the task is skipped for that host with
    RV(connection_failed) and Ansible's message in C(msg), instead of an unreachable result; the diagnosis goes on
    from the controller's probe, and no error block per host is printed. Failures of the module itself still fail.
  - An action plugin runs the module. With O(probe=true) it also probes the host's SSH port from the controller, with
    the code of M(sshdoctor.connreset.ssh_probe), in a thread of the controller's worker process while the module runs on
    the host, so that the evidence and the probe cost one task. A host Ansible cannot connect to is still probed; its
    result (skipped, with RV(connection_failed)) holds RV(probe).
  - When the play's batch has more hosts than C(forks), the task of its first host warns once, with the C(-f) to use.
    It never changes C(forks).
author:
  - sshdoctor.connreset contributors (@sshdoctor)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - sshdoctor.connreset.attributes
  - sshdoctor.connreset.attributes.info_module
attributes:
  action:
    support: full
  async:
    support: partial
    details:
      - Not with O(probe=true).
  bypass_host_loop:
    support: none
  platform:
    platforms: posix
notes:
  - Commands run with C(LC_ALL=C) and argument lists, never through a shell.
  - A missing tool or a lack of privilege does not fail the module; each section's C(notes) says what could not be
    read. Run it with C(become=true) for the full picture.
options:
  sections:
    description: Which sections to collect.
    type: list
    elements: str
    choices: [sshd, journal, oom, firewall, bans, tcp_wrappers, host_health]
    default: [sshd, journal, oom, firewall, bans, tcp_wrappers, host_health]
  since:
    description:
      - How far back to read sshd's journal, as C(journalctl --since) takes it (C(-2d), C(2026-11-01 00:00:00), C(today)).
      - By default the previous and the current boot.
    type: str
  clients:
    description:
      - Client addresses or networks (C(198.51.100.7), C(203.0.113.0/24)) to evaluate hosts.allow / hosts.deny, the
        set members and the bans for (at most 16).
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
  probe:
    description:
      - Also probe the host's SSH port from the controller while the module runs; the result is in RV(probe).
      - The probe's few connections may show in the journal the module reads, as ordinary closes before
        authentication (C(Connection closed by ... [preauth])), which no signature counts.
    type: bool
    default: false
  probe_options:
    description:
      - The probe's options, as M(sshdoctor.connreset.ssh_probe) takes them (see there), except C(sshd_ports).
      - When neither C(port) nor C(ansible_port) names the port, the probe tries 22 and, if the evidence shows sshd
        listening on other ports only, probes the first of those after the module has returned.
    type: dict
    default: {}
    suboptions:
      host:
        description: Name or address to probe; by default C(ansible_host), else C(inventory_hostname).
        type: str
      port:
        description: TCP port to probe; by default C(ansible_port) for SSH connections, else 22 (see above).
        type: int
      samples:
        description: How many connections to make (1 to 20).
        type: int
        default: 3
      timeout:
        description: Seconds to wait for the TCP connection.
        type: float
        default: 3.0
      banner_timeout:
        description: Seconds to wait, once connected, for the banner (or for the server to close).
        type: float
        default: 6.0
      interval:
        description: Seconds between samples.
        type: float
        default: 0.2
      mtr:
        description: Add C(mtr --report --json) output, when mtr is installed on the controller.
        type: bool
        default: false
      mtr_cycles:
        description: Pings per hop for C(mtr).
        type: int
        default: 5
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
    bans:
      description: What M(sshdoctor.connreset.bans_info) returns.
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
probe:
  description: What M(sshdoctor.connreset.ssh_probe) returns as its C(probe), for the same host.
  returned: when O(probe=true), also when Ansible could not connect
  type: dict
  sample: {"host": "10.88.0.5", "port": 22, "port_from": "default", "outcome": "banner", "samples_total": 3, "banners": 3}
timings_ms:
  description: Milliseconds each collector took.
  returned: success
  type: dict
  sample: {"sshd": 95, "journal": 140, "oom": 30, "firewall": 25, "bans": 180, "tcp_wrappers": 3, "host_health": 6}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sshdoctor.connreset.plugins.module_utils._bans import collect_bans, parse_client_specs
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
    "bans": collect_bans,
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
            # Taken by the action plugin on the controller (its options are checked there) and never sent to the host.
            probe=dict(type="bool", default=False),
            probe_options=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not params["journal_time_budget"] > 0:
        module.fail_json(msg="journal_time_budget must be more than 0 seconds")
    try:
        since = validate_since(params["since"])
        parse_client_specs(params["clients"])
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
