#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ssh_probe
short_description: Probe a host's SSH port from the controller, as a client sees it
version_added: 0.1.0
description:
  - Opens TCP connections from the B(controller) to the host's SSH port, reads what the server sends first,
    answers with its own identification line and closes. It never logs in and never runs anything on the host.
  - Each sample is classified as V(banner) (with the server's version), V(refused), V(reset_before_banner),
    V(closed_before_banner), V(closed_with_message) (sshd's C(Exceeded MaxStartups) or C(Not allowed at this time)),
    V(timeout), V(no_route), V(name_resolution_failed), V(not_ssh) or V(error). Several samples give the connect
    latency and the loss.
  - An action plugin does the work in the controller's worker process, so it costs no module round trip and
    works for hosts Ansible cannot log in to.
  - M(sshdoctor.connreset.ssh_evidence) with C(probe=true) runs the same probe while its module runs on the host, in
    one task; the P(sshdoctor.connreset.diagnose#role) role does that. This module is the probe on its own.
  - Where C(mtr) is installed on the controller, O(mtr=true) adds its C(--report --json) path report.
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
    support: none
  bypass_host_loop:
    support: none
  platform:
    platforms: posix
notes:
  - Each sample is one unauthenticated connection. OpenSSH 9.8 and later penalise addresses that open many of them
    (PerSourcePenalties, C(noauth) one second each by default); three samples stay far below that.
  - A REJECT with C(tcp-reset) on the SYN looks the same as a closed port (V(refused)); the evidence of the host
    tells them apart.
options:
  host:
    description:
      - Name or address to probe.
      - Defaults to C(ansible_host), else C(inventory_hostname). Set it (the diagnose role uses C(sshdoctor_probe_host))
        when Ansible reaches the host some other way, for example through a container connection.
    type: str
  port:
    description:
      - TCP port to probe.
      - Defaults to C(ansible_port) for SSH connections, else the first port in O(sshd_ports), else 22.
    type: int
  sshd_ports:
    description: The ports sshd listens on (from M(sshdoctor.connreset.ssh_evidence)), used when O(port) is not set.
    type: list
    elements: int
    default: []
  samples:
    description: How many connections to make (1 to 20). A name that does not resolve is tried once.
    type: int
    default: 3
  timeout:
    description: Seconds to wait for the TCP connection.
    type: float
    default: 3.0
  banner_timeout:
    description:
      - Seconds to wait, once connected, for the banner (or for the server to close).
      - sshd can take seconds before it answers or turns a client away, for example while libwrap (hosts.allow /
        hosts.deny) looks up the client's name; a shorter wait reports those as V(timeout).
    type: float
    default: 6.0
  interval:
    description: Seconds between samples.
    type: float
    default: 0.2
  mtr:
    description: Add C(mtr --report --json --no-dns) output when C(mtr) is installed on the controller.
    type: bool
    default: false
  mtr_cycles:
    description: Pings per hop for O(mtr).
    type: int
    default: 5
seealso:
  - module: sshdoctor.connreset.ssh_evidence
  - module: sshdoctor.connreset.diagnose_report
"""

EXAMPLES = r"""
- name: Probe every host's SSH port from the controller
  sshdoctor.connreset.ssh_probe:
  register: probe

- name: Probe a container by address
  sshdoctor.connreset.ssh_probe:
    host: 10.88.0.5
    port: 22
    samples: 5
    timeout: 2

- name: Show what the server said
  ansible.builtin.debug:
    msg: "{{ probe.probe.outcome }}: {{ probe.probe.banner | default(probe.probe.messages) }}"
"""

RETURN = r"""
probe:
  description: What the samples saw.
  returned: always
  type: dict
  contains:
    host:
      description: The name or address probed.
      type: str
      sample: web1.example.com
    port:
      description: The TCP port probed.
      type: int
      sample: 22
    port_from:
      description: Where the port came from (V(port), V(ansible_port), V(sshd_ports) or V(default)).
      type: str
      sample: ansible_port
    address:
      description: The address the name resolved to (first of C(getaddrinfo)).
      type: str
      sample: 10.88.0.5
    outcome:
      description:
        - The most frequent outcome of the samples; on a tie, the one that is not V(banner).
      type: str
      sample: closed_with_message
    outcomes:
      description: Outcome to number of samples.
      type: dict
      sample: {"banner": 2, "closed_with_message": 1}
    samples_total:
      description: Samples taken.
      type: int
      sample: 3
    connected:
      description: Samples whose TCP connection was established.
      type: int
      sample: 3
    banners:
      description: Samples that received an SSH identification line.
      type: int
      sample: 2
    loss_pct:
      description: Percentage of samples whose TCP connect got no answer at all (timeout or no route).
      type: float
      sample: 0.0
    failed_pct:
      description: Percentage of samples that did not reach a banner.
      type: float
      sample: 33.3
    connect_ms:
      description: TCP connect time in milliseconds over the connected samples (C(min), C(avg), C(max)); null when none connected.
      type: dict
      sample: {"min": 0.21, "avg": 0.3, "max": 0.41}
    banner:
      description: The server's identification line, from the first sample that got one.
      type: str
      sample: SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3
    identification:
      description: The banner split into C(protocol), C(software), C(comment) and C(openssh_version).
      type: dict
      sample: {"protocol": "2.0", "software": "OpenSSH_9.2p1", "comment": "Debian-2+deb12u3", "openssh_version": "9.2p1"}
    messages:
      description: Text the server wrote before closing without a banner.
      type: list
      elements: str
      sample: ["Exceeded MaxStartups"]
    sshd_messages:
      description: Which of sshd's refusals the messages were (V(maxstartups), V(maxstartups_or_penalty)).
      type: list
      elements: str
      sample: ["maxstartups"]
    errors:
      description: Distinct error texts (at most 5).
      type: list
      elements: str
      sample: ["[Errno 111] Connection refused"]
    samples:
      description:
        - Each sample with C(outcome), C(stage) (V(resolve), V(connect) or V(banner)), C(address), C(connect_ms),
          C(banner_ms), C(banner), C(identification), C(message), C(sshd_message) and C(error).
      type: list
      elements: dict
    timeout:
      description: The connect timeout used, in seconds.
      type: float
      sample: 3.0
    banner_timeout:
      description: The banner timeout used, in seconds.
      type: float
      sample: 6.0
    mtr:
      description: Hops from C(mtr) (C(hop), C(host), C(loss_pct), C(sent), C(last), C(avg), C(best), C(worst), C(stdev)).
      returned: when O(mtr=true) and mtr ran
      type: list
      elements: dict
    notes:
      description: Why the mtr report is missing.
      returned: when O(mtr=true) and mtr did not run
      type: list
      elements: str
"""
