#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sshd_journal_info
short_description: Summarise sshd's log by the signatures that explain "Connection reset by peer"
version_added: 0.1.0
description:
  - Reads sshd's lines in a time window from journald (C(journalctl)), or from C(/var/log/auth.log) or
    C(/var/log/secure) where there is no journal, and classifies every line with the collection's one signature
    catalogue. Returns per signature the count, first and last time seen and a few sample lines.
  - The journal is read for the units C(ssh.service) and C(sshd.service) (or O(unit)) OR the syslog identifiers
    C(sshd), C(sshd-session) and C(sshd-auth); from OpenSSH 9.8 the per-connection lines come from
    C(sshd-session), which after login runs outside the unit.
  - Also lists the boots in the journal (reboots show as more than one) and PID 1's events about the unit
    (main process killed or exited, failed results such as C(oom-kill), scheduled restarts, start limit hit),
    matched by MESSAGE_ID.
  - Reading a big journal is bounded by O(max_lines) (the newest lines are kept); RV(truncated) says when a cap
    was reached.
author:
  - sshdoctor.connreset contributors (@sshdoctor)
extends_documentation_fragment:
  - sshdoctor.connreset.attributes
  - sshdoctor.connreset.attributes.info_module
  - sshdoctor.connreset.attributes.collector_notes
options:
  since:
    description:
      - Start of the window. By default the first entry of the previous boot (so the current and the previous
        boot), or of the current boot when the journal holds only one.
      - C(YYYY-MM-DD), C(YYYY-MM-DD HH:MM[:SS]) in local time, the same with C(T) and C(Z), C(UTC) or C(+HH:MM),
        C(@EPOCH), C(today), C(yesterday), or a relative time such as C(-2h), C(30min), C(3 days ago).
    type: str
  unit:
    description:
      - systemd unit(s) whose lines to read, besides the sshd syslog identifiers. A name without a suffix gets
        C(.service). By default C(ssh.service) and C(sshd.service) (Debian's unit and its alias, RHEL's unit).
    type: list
    elements: str
  max_lines:
    description:
      - At most this many sshd lines are read (the newest ones). journalctl's output is also capped at 8 MiB
        (about 50000 lines); RV(truncated) and RV(notes) say when either cap was reached.
    type: int
    default: 50000
  max_samples:
    description: Sample lines kept per signature (the newest ones).
    type: int
    default: 5
  max_events:
    description: systemd unit events kept (the newest ones).
    type: int
    default: 50
  max_boots:
    description: Boots listed (the newest ones).
    type: int
    default: 10
notes:
  - Reading the whole journal needs root or the C(systemd-journal)/C(adm) group; without it the result
    says so in RV(notes).
seealso:
  - module: sshdoctor.connreset.oom_events_info
"""

EXAMPLES = r"""
- name: What sshd logged since the previous boot
  sshdoctor.connreset.sshd_journal_info:
  become: true
  register: journal

- name: Show how often MaxStartups dropped connections
  ansible.builtin.debug:
    msg: "{{ journal.signatures.maxstartups_drop.count | default(0) }} drops"

- name: The last two hours only, fewer samples
  sshdoctor.connreset.sshd_journal_info:
    since: -2h
    max_samples: 2
  become: true
"""

RETURN = r"""
source:
  description: Where the lines came from; null when no sshd log was found.
  returned: always
  type: str
  sample: journald
  choices: [journald, /var/log/auth.log, /var/log/secure]
since:
  description:
    - The window's start as given to C(journalctl --since) (C(@EPOCH) when computed from the boot list or given
      with a time zone); null when there was no limit.
  returned: always
  type: str
  sample: "@1795593649"
window:
  description: How the window was chosen.
  returned: when a log source was found
  type: str
  sample: previous and current boot
units:
  description: The systemd units read.
  returned: always
  type: list
  elements: str
  sample: [ssh.service, sshd.service]
lines_read:
  description: sshd lines read in the window (after the cap).
  returned: always
  type: int
  sample: 1234
signatures:
  description:
    - Signature id to what was found. Only signatures seen at least once are present. Ids and the cause each
      points to are those of the catalogue (C(plugins/module_utils/_signatures.py)), for example
      C(maxstartups_drop), C(penalty_drop), C(kex_no_match), C(wrapper_refused), C(client_alive_timeout).
  returned: always
  type: dict
  sample:
    maxstartups_drop:
      cause: maxstartups_throttling
      count: 3
      first_seen: "2026-11-25T08:01:23.176307+00:00"
      last_seen: "2026-11-25T08:01:23.180538+00:00"
      samples:
        - "2026-11-25T08:01:23.176307+00:00 h2-d13 sshd[88]: drop connection #2 from [10.88.0.8]:38610 on [10.88.0.6]:22 Maxstartups"
  contains:
    cause:
      description: The cause id this signature is evidence for.
      type: str
    count:
      description: Lines with this signature.
      type: int
    first_seen:
      description: Time of the first such line (ISO 8601 from the journal; as printed in a syslog file).
      type: str
    last_seen:
      description: Time of the last such line.
      type: str
    samples:
      description: The newest lines (at most O(max_samples), each cut to 512 characters).
      type: list
      elements: str
causes:
  description: Cause id to the number of lines pointing to it (the sum over RV(signatures)).
  returned: always
  type: dict
  sample: {"maxstartups_throttling": 4, "protocol_mismatch": 1}
boots:
  description: Boots in the journal, oldest first (at most O(max_boots)); empty without journald.
  returned: always
  type: list
  elements: dict
  sample: [{"index": 0, "boot_id": "db3b1a7c99eb4821a3cb7e0f190ccfc8",
            "first_entry": "2026-11-25T08:00:49.782629+00:00", "last_entry": "2026-11-25T08:03:01.655414+00:00"}]
  contains:
    index:
      description: journalctl's boot offset (0 the current boot, -1 the previous one).
      type: int
    boot_id:
      description: The boot id.
      type: str
    first_entry:
      description: Time of the boot's first journal entry (UTC ISO 8601).
      type: str
    last_entry:
      description: Time of its last entry.
      type: str
unit_events:
  description: PID 1's messages about the sshd unit in the window, oldest first (at most O(max_events)).
  returned: always
  type: list
  elements: dict
  sample: [{"time": "2026-11-25T08:02:42.629097+00:00", "event": "main_process_killed",
            "message": "ssh.service: Main process exited, code=killed, status=9/KILL",
            "message_id": "98e322203f7a4ed290d09fe03c09fe15", "unit": "ssh.service",
            "exit_code": "killed", "exit_status": "9"}]
  contains:
    time:
      description: When (UTC ISO 8601; as printed for syslog files).
      type: str
    event:
      description: What happened.
      type: str
      choices: [main_process_killed, main_process_exited, failed_result, oom_killed, restart_scheduled,
                start_limit_hit, stopped, started]
    message:
      description: The message text.
      type: str
    message_id:
      description: journald's MESSAGE_ID, when the message has one.
      type: str
    unit:
      description: The unit the message is about.
      type: str
    result:
      description: For C(failed_result) (and C(start_limit_hit)), the unit's result such as C(oom-kill), C(signal).
      type: str
    n_restarts:
      description: For C(restart_scheduled), systemd's restart counter.
      type: int
    exit_code:
      description: For C(main_process_*), how it ended (C(killed), C(exited), C(dumped)).
      type: str
    exit_status:
      description: For C(main_process_*), the status or signal (C(9) is SIGKILL).
      type: str
limits:
  description: The caps in force.
  returned: always
  type: dict
  sample: {"max_lines": 50000, "max_samples": 5, "max_events": 50, "max_boots": 10, "max_sample_chars": 512}
truncated:
  description: True when a cap cut something off (more lines, events or boots than kept).
  returned: always
  type: bool
notes:
  description: What could not be read, and why (no journald, no permission, one boot only).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sshdoctor.connreset.plugins.module_utils._host import Host
from ansible_collections.sshdoctor.connreset.plugins.module_utils._journal import collect_journal, validate_since


def main():
    module = AnsibleModule(
        argument_spec=dict(
            since=dict(type="str"),
            unit=dict(type="list", elements="str"),
            max_lines=dict(type="int", default=50000),
            max_samples=dict(type="int", default=5),
            max_events=dict(type="int", default=50),
            max_boots=dict(type="int", default=10),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for name in ("max_lines", "max_samples", "max_events", "max_boots"):
        if params[name] < (1 if name == "max_lines" else 0):
            module.fail_json(msg="%s must be %s" % (name, "at least 1" if name == "max_lines" else "0 or more"))
    try:
        since = validate_since(params["since"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    result = collect_journal(
        Host(module),
        since=since,
        unit=params["unit"],
        max_samples=params["max_samples"],
        max_lines=params["max_lines"],
        max_events=params["max_events"],
        max_boots=params["max_boots"],
    )
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
