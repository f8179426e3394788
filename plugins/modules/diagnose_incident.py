#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: diagnose_incident
short_description: Check and normalise the incident a diagnosis is about (client, time, window, the client's error)
version_added: 0.1.0
description:
  - The question an admin asks in an incident is sharper than "what is wrong with these hosts"; it is "my connection
    from 198.51.100.7 to web3 was reset at 14:03 and my ssh printed X, why?". This action checks those inputs and puts them
    in the form M(sshdoctor.connreset.diagnose_report) scopes each host's findings with.
  - A bad value fails the task with a message that names the option's variable in the
    P(sshdoctor.connreset.diagnose#role) role (C(diagnose_client), C(diagnose_at), C(diagnose_window),
    C(diagnose_client_error)); the role runs this first, so nothing is collected for a question that cannot be asked.
  - An action plugin does it in the controller's worker process; it starts no module and contacts no host.
  - The client's message is matched against the client error catalogue (OpenSSH 8.4 to 10.x); a message it does not
    know is reported as unknown, and nothing is inferred from it.
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
options:
  client:
    description:
      - The client's address or CIDR (V(198.51.100.7), V(203.0.113.0/24), V(2001:db8::/32)), or a list of them (at most 16).
      - Not a host name, but the address as the server sees it.
    type: raw
  at:
    description:
      - When the connection was reset. ISO 8601 with or without a zone (V(2026-12-02T14:03:00Z),
        V(2026-12-02 14:03), V(2026-12-02T14:03+01:00)), or relative to now (V(-2h), V(-30m), V(-90s)).
      - A time without a zone is the controller's local time; RV(incident.assumed_zone) says which zone that was.
    type: str
  window:
    description: Minutes either side of O(at) (a fraction is fine, V(0.5) for 30 seconds); above 0, at most a week.
    type: raw
    default: 15
  client_error:
    description: What the client printed, pasted as it printed it; one or more lines, C(ssh -v) output is welcome.
    type: raw
seealso:
  - module: sshdoctor.connreset.diagnose_report
"""

EXAMPLES = r"""
- name: Check the incident before collecting anything
  sshdoctor.connreset.diagnose_incident:
    client: 198.51.100.7
    at: "2026-12-02 14:03"
    window: 10
    client_error: "client_loop: send disconnect: Connection reset by peer"
  run_once: true
  register: incident
"""

RETURN = r"""
incident:
  description: The incident as understood, or null when none of the inputs was given.
  returned: success
  type: dict
  contains:
    client:
      description: The client specs, normalised (empty when not given).
      type: list
      elements: str
    at:
      description: The incident's time in UTC, ISO 8601, or null.
      type: str
    at_epoch:
      description: The same as seconds since the epoch.
      type: int
    window_minutes:
      description: Minutes either side of RV(incident.at).
      type: float
    assumed_zone:
      description: The zone a time without one was read in (the controller's), else null.
      type: str
    client_error:
      description:
        - What the catalogue makes of the client's message, or null. C(text), C(known), C(id), C(line) (the deciding
          line), C(phase) (V(connect), V(banner), V(kex), V(auth), V(session), V(client) or V(unknown)), C(phases)
          (where a message of that kind can end a connection), C(causes) (the cause ids that fit), C(progress) (how far
          C(ssh -v) says the connection got), C(reset) (false for messages that are no reset at all), C(summary).
      type: dict
  sample:
    client: ["198.51.100.7"]
    at: "2026-12-02T13:03:00Z"
    at_epoch: 1796216580
    window_minutes: 15.0
    assumed_zone: "CET (UTC+01:00)"
    client_error: {"text": "client_loop: send disconnect: Connection reset by peer", "known": true, "phase": "session",
                   "id": "send_disconnect_reset", "causes": ["idle_timeout", "firewall_reject", "host_rebooted", "oom_kill",
                   "resource_pressure"]}
"""
