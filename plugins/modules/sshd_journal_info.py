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
  - Reads sshd's lines in a time window from journald (C(journalctl)) and, for the part of the window the journal
    does not hold (all of it without journald or with C(Storage=none); the time before its oldest entry otherwise),
    from C(/var/log/auth.log) or C(/var/log/secure) and their rotations (C(.1), C(.2.gz), C(-20261201)), and
    classifies every line with the collection's one signature catalogue. A line is never counted from both.
  - Returns per signature the exact count, first and last time seen, a few sample lines, a per-minute histogram
    and per-client tallies; for each address or CIDR in O(clients), what that client's lines say (RV(focus)).
  - The journal is read for the units C(ssh.service) and C(sshd.service) (or O(unit)) OR the syslog identifiers
    C(sshd), C(sshd-session) and C(sshd-auth); from OpenSSH 9.8 the per-connection lines come from
    C(sshd-session), which after login runs outside the unit.
  - Also lists the boots in the journal (reboots show as more than one) and PID 1's events about the unit
    (main process killed or exited, failed results such as C(oom-kill), scheduled restarts, start limit hit),
    matched by MESSAGE_ID.
  - The output is streamed and classified line by line (never held whole), newest first, so memory stays bounded
    whatever the journal's size and every line of the window is counted. O(time_budget) bounds the read; when it
    ends the read, RV(period) says which part of the window was covered and which was not.
  - A line longer than 4096 characters (a local user can log anything with C(logger -t sshd)) is classified on its
    first 4096 characters and counted in RV(long_lines); classification takes time linear in a line's length.
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
  time_budget:
    description:
      - Seconds the whole read (journal and syslog files) may take. When it runs out, the lines read so far (the
        newest) are summarised and RV(period) says which part of the window was not covered.
      - Replaces the line cap of earlier versions; a million-entry journal takes a few seconds.
    type: float
    default: 30
  clients:
    description:
      - Client addresses or CIDRs to follow, such as C(198.51.100.7), C(203.0.113.0/24) or C(2001:db8::/32). Their
        addresses are always among a signature's RV(signatures.clients), and RV(focus) holds, per client and
        signature, the count, times and the newest lines. At most 16 are followed.
    type: list
    elements: str
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

- name: What did 203.0.113.0/24 run into? At most 10 seconds of reading
  sshdoctor.connreset.sshd_journal_info:
    clients: [203.0.113.0/24]
    time_budget: 10
  become: true
  register: journal

- name: Its resets, minute by minute
  ansible.builtin.debug:
    msg: "{{ journal.focus['203.0.113.0/24'].connection_reset_preauth.times | default([]) }}"
"""

RETURN = r"""
source:
  description:
    - Where the lines came from (C(journald) when it gave any, else the syslog file); null when no sshd log was
      found. RV(coverage) lists every source read.
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
  description: sshd lines read in the window, every one of them (unless RV(period.complete) is false).
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
      description: Time of the first such line (ISO 8601; a syslog stamp without a year or zone is placed in the
        host's local time and the last twelve months, and given in UTC).
      type: str
    last_seen:
      description: Time of the last such line.
      type: str
    samples:
      description: The newest lines (at most O(max_samples), each cut to 512 characters).
      type: list
      elements: str
    histogram:
      description:
        - Lines per time bucket, sparse and ascending, as C([bucket start (epoch s), lines]); C(resolution_s) is
          60 unless more than 720 buckets would be needed (then 300, 900, 3600, 21600 or 86400). The sum is the
          number of lines that had a time.
      type: dict
    clients:
      description:
        - The client address each line names, at most 20 (every address in O(clients) first, then the most
          frequent), each with C(count), C(first_seen), C(last_seen). Counts are exact for up to 4096 distinct
          addresses per signature.
      type: dict
    clients_other:
      description: Lines that name no address, or an address past the 4096 tracked.
      type: int
    clients_distinct:
      description: Distinct addresses (estimated past 4096, then C(clients_distinct_exact) is false).
      type: int
    clients_distinct_exact:
      description: Whether RV(signatures.clients_distinct) is exact.
      type: bool
    sources:
      description: Lines per source (C(journald) or a file's path).
      type: dict
focus:
  description:
    - Only when O(clients) were given. Per client spec as given, per signature whose lines name an address in it,
      the count, first and last seen, the newest 200 times (epoch seconds, ascending) and the newest 3 lines.
  returned: when clients were given
  type: dict
  sample:
    10.88.0.0/24:
      kex_no_match:
        count: 1
        first_seen: "2026-11-25T08:01:22.909882+00:00"
        last_seen: "2026-11-25T08:01:22.909882+00:00"
        times: [1795593682]
        samples: ["2026-11-25T08:01:22.909882+00:00 h2-d13 sshd-session[101]: Unable to negotiate with 10.88.0.8 port 38576: ..."]
availability:
  description:
    - C(ok) when sshd lines were read; C(no_journal) when there is no log at all (no journal entries, no auth.log
      or secure); C(journal_without_sshd_lines) when a log exists and holds no sshd line in the window;
      C(unreadable) when the log could not be read (permissions).
  returned: always
  type: str
  choices: [ok, no_journal, journal_without_sshd_lines, unreadable]
coverage:
  description:
    - Which source covered which period, oldest first (at most 16). A file covers from its first line to its last
      (the live file up to now), journald from the window's start (or its oldest entry) to now.
  returned: always
  type: list
  elements: dict
  sample: [{"source": "/var/log/auth.log.2.gz", "from": "2026-11-20T06:25:01+00:00", "to": "2026-11-23T06:25:01+00:00",
            "lines": 1200}, {"source": "journald", "from": "2026-11-23T21:16:40+00:00", "to": "2026-11-25T09:00:00+00:00",
            "lines": 300000}]
  contains:
    source:
      description: C(journald) or the file's path.
      type: str
    from:
      description: Start of the period it covered (UTC ISO 8601).
      type: str
    to:
      description: End of that period.
      type: str
    lines:
      description: sshd lines counted from it.
      type: int
period:
  description: What of the requested window was read.
  returned: always
  type: dict
  sample: {"requested_from": "2026-11-23T21:16:40+00:00", "from": "2026-11-23T21:16:40+00:00",
           "to": "2026-11-25T09:00:00+00:00", "complete": true, "stopped_by": null, "not_covered": []}
  contains:
    requested_from:
      description: The window's start (null when there was none).
      type: str
    from:
      description: The oldest time covered.
      type: str
    to:
      description: The time of the read.
      type: str
    complete:
      description: False when the time budget, a failing journalctl or an unreadable file stopped the read.
      type: bool
    stopped_by:
      description: Null, C(time_budget), or what else stopped it (C(unreadable /var/log/auth.log.2.gz)).
      type: str
    not_covered:
      description: Periods of the window no source covered, as C([from, to]) pairs (a null end is unknown).
      type: list
      elements: list
long_lines:
  description: sshd lines longer than 4096 characters (classified on their first 4096).
  returned: always
  type: int
  sample: 0
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
  sample: {"time_budget_s": 30.0, "max_samples": 5, "max_events": 50, "max_boots": 10, "max_sample_chars": 512,
           "line_cap": 4096, "max_clients": 20, "max_clients_tracked": 4096, "max_buckets": 720}
truncated:
  description: True when the time budget ended the read or a cap cut something off (more events or boots than kept).
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
            time_budget=dict(type="float", default=30),
            clients=dict(type="list", elements="str"),
            max_samples=dict(type="int", default=5),
            max_events=dict(type="int", default=50),
            max_boots=dict(type="int", default=10),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for name in ("max_samples", "max_events", "max_boots"):
        if params[name] < 0:
            module.fail_json(msg="%s must be 0 or more" % name)
    if not params["time_budget"] > 0:
        module.fail_json(msg="time_budget must be more than 0 seconds")
    try:
        since = validate_since(params["since"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    result = collect_journal(
        Host(module),
        since=since,
        unit=params["unit"],
        max_samples=params["max_samples"],
        time_budget=params["time_budget"],
        clients=params["clients"],
        max_events=params["max_events"],
        max_boots=params["max_boots"],
    )
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
