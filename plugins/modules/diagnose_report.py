#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: diagnose_report
short_description: Rank the likely causes of SSH connection resets per host and write the fleet report
version_added: 0.1.0
description:
  - Reads, for every host of the play, the registered results of M(sshdoctor.connreset.ssh_evidence) and
    M(sshdoctor.connreset.ssh_probe) from C(hostvars), runs the rules, and writes C(report.json), C(report.md),
    C(report.html) and C(report.junit.xml) into a new directory of its own under O(dest) on the controller; then prints
    a short table (host, top cause, severity, one-line fix) and the run's directory, and fails when O(fail_on) says so.
  - Each run has its own directory, named for its UTC time (C(2026-12-02T140307Z); C(-01), C(-02) ... for more runs in
    the same second), and O(dest)/C(latest) points at the newest (O(dest)/C(latest.txt) names it where links cannot be
    made). A run never changes or deletes another run's files; O(keep) removes the oldest runs.
  - Everything is private by default (O(mode)) and created with its mode, whatever the umask; nothing is written through
    a symbolic link, and a link planted where the run's directory goes is refused.
  - With O(redact), C(redacted/) in the run holds the same report (every format, C(report.junit.xml) too) and evidence
    with addresses, host names, user names and MAC addresses replaced by tokens, to share; the mapping is in the run's
    private C(redaction-map.json). M(sshdoctor.connreset.diagnose_redact) makes the same copy of an earlier run.
  - An action plugin does all of it in the controller's worker process. Run it once (C(run_once=true)); it starts no
    module and contacts no host.
  - Cause ids are fixed; C(idle_timeout), C(maxstartups_throttling), C(source_penalty), C(oom_kill),
    C(resource_pressure), C(sshd_not_running), C(sshd_config_invalid), C(sshd_restarted), C(protocol_mismatch),
    C(packet_corruption), C(host_rebooted), C(host_unreachable), C(tcp_wrappers_denied), C(firewall_reject).
  - A host Ansible could not reach (its evidence task result has C(unreachable), or C(connection_failed) from the
    M(sshdoctor.connreset.ssh_evidence) action) is diagnosed from its probe alone.
  - With O(incident) (what M(sshdoctor.connreset.diagnose_incident) returned), each host also gets one verdict for that
    client, time and client message, and the causes ruled out with the reason; the printed output starts with that
    answer. Fleet correlation (the same kind of event on several hosts within minutes) runs with or without it.
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
      - The report is written in check mode too. It is output on the controller, not a change to a managed host.
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
    description: It reports no change; the files it writes are the run's output and carry the run's time.
options:
  dest:
    description:
      - Directory on the controller for the runs (created with O(mode) when missing). This run writes into
        O(dest)/C(<UTC time>)/ and points O(dest)/C(latest) at it.
      - A relative path is relative to the directory C(ansible-playbook) runs in.
    type: path
    default: ./sshdoctor-report
  mode:
    description:
      - Mode of the run's directories (and of O(dest) when it is created); files get the same without execute.
        C(0700) (files C(0600)) lets only you read the evidence; C(0750) or C(0640) lets your group read it too.
      - An octal string. C(redaction-map.json) is always C(0600).
    type: str
    default: "0700"
  keep:
    description:
      - After writing, remove the oldest runs beyond this many and name them in the output. Only directories that are
        runs of this collection (the name, a real directory of this user, its C(.sshdoctor-run.json)) are removed, and
        only when they hold nothing but the files that run wrote.
      - V(0) keeps every run.
    type: int
    default: 0
  redact:
    description:
      - Also write C(redacted/) in the run (C(report.json), C(report.md), C(report.html), C(evidence/)) with IP
        addresses and networks, host names, user names, MAC addresses and SSH key fingerprints replaced by tokens
        (C(host-3), C(client-12), C(net-2/24), C(user-5)), the same value by the same token within the run, and the
        mapping in the run's C(redaction-map.json) (mode C(0600), never inside C(redacted/)).
      - The copy is not written when anything the mapping holds, or any address, can still be found in it; the task
        then fails after the run itself is complete.
    type: bool
    default: false
  redact_keywords:
    description: With O(redact), more words to hide (company, project or site names), replaced wherever they occur, in any case.
    type: list
    elements: str
    default: []
  redact_domains:
    description: With O(redact), DNS domains whose names are hidden whatever their top-level domain.
    type: list
    elements: str
    default: []
  hosts:
    description: The hosts to report on. Defaults to C(ansible_play_hosts_all) (every host of the play, unreachable ones too).
    type: list
    elements: str
  evidence_var:
    description: Name of the variable the M(sshdoctor.connreset.ssh_evidence) result was registered as.
    type: str
    default: __diagnose_evidence
  probe_var:
    description:
      - Name of the variable the M(sshdoctor.connreset.ssh_probe) result was registered as.
      - The same name as O(evidence_var) when M(sshdoctor.connreset.ssh_evidence) ran with C(probe=true) (its result
        holds the probe); the P(sshdoctor.connreset.diagnose#role) role does that.
    type: str
    default: __diagnose_evidence
  formats:
    description:
      - Which files to write. V(junit) is C(report.junit.xml), for CI test reports (GitLab, Jenkins, GitHub). It has
        one testsuite, one testcase per host, and a C(failure) with the top finding's cause, summary and fix for each
        host whose top finding is at or above O(fail_on) (at or above V(warning) when O(fail_on=none)).
    type: list
    elements: str
    choices: [json, md, html, junit]
    default: [json, md, html, junit]
  evidence_files:
    description: Also write each host's raw evidence and probe to C(evidence/<host>.json) under O(dest).
    type: bool
    default: true
  print_table:
    description: Print the table at the end of the task (to the Ansible output, as a plain display line).
    type: bool
    default: true
  fail_on:
    description:
      - Fail the task, after the report is written, when any host has a finding of this severity or a more severe one;
        the message names those hosts in one line. For CI.
      - V(warning) does not fail on hosts that have only V(info) findings (advisories).
      - V(none) never fails.
    type: str
    choices: [none, warning, critical]
    default: none
  table_width:
    description:
      - Width of the printed table; the fix column is cut to fit.
      - By default the terminal's width (100 to 200 columns), or 160 when the output is not a terminal.
    type: int
  incident:
    description:
      - The incident to scope each host's findings to, as M(sshdoctor.connreset.diagnose_incident) returns it in
        C(incident) (C(client), C(at), C(window_minutes), C(assumed_zone), C(client_error)). It is checked again here.
      - Omitted or null, the report has no C(incident) part.
    type: dict
seealso:
  - module: sshdoctor.connreset.ssh_evidence
  - module: sshdoctor.connreset.ssh_probe
  - module: sshdoctor.connreset.diagnose_redact
"""

EXAMPLES = r"""
- name: Collect, probe, report
  hosts: all
  gather_facts: false
  ignore_unreachable: true
  tasks:
    - name: Evidence, one module run per host
      sshdoctor.connreset.ssh_evidence:
      register: evidence
      failed_when: false

    - name: Probe from the controller
      sshdoctor.connreset.ssh_probe:
      register: probe

    - name: Write the report
      sshdoctor.connreset.diagnose_report:
        dest: /var/tmp/sshdoctor
        evidence_var: evidence
        probe_var: probe
        keep: 20
        redact: true
      run_once: true
      register: report

    # keep: 1 leaves only this job's run, so the CI's test report can be named sshdoctor-report/2*/report.junit.xml
    # (GitLab does not follow the latest link in artifact paths).
    - name: In CI, the same report, failing when a host has a critical finding (report.junit.xml for the test view)
      sshdoctor.connreset.diagnose_report:
        dest: "{{ lookup('ansible.builtin.env', 'CI_PROJECT_DIR') }}/sshdoctor-report"
        evidence_var: evidence
        probe_var: probe
        fail_on: critical
        keep: 1
      run_once: true

    - name: Hosts with a critical finding
      ansible.builtin.debug:
        msg: "{{ report.hosts | dict2items | selectattr('value.severity', 'equalto', 'critical') | map(attribute='key') }}"
      run_once: true

- name: The same with the probe inside the evidence task (one task per host)
  hosts: all
  gather_facts: false
  ignore_unreachable: true
  tasks:
    - name: Evidence on the host, probe from the controller, at once
      sshdoctor.connreset.ssh_evidence:
        probe: true
      register: evidence
      failed_when: false

    - name: Write the report
      sshdoctor.connreset.diagnose_report:
        dest: /var/tmp/sshdoctor
        evidence_var: evidence
        probe_var: evidence
      run_once: true
"""

RETURN = r"""
dest:
  description: The absolute report directory (O(dest)).
  returned: success
  type: str
  sample: /home/me/sshdoctor-report
run:
  description: The name of this run's directory in RV(dest).
  returned: success
  type: str
  sample: 2026-12-02T140307Z
run_dir:
  description: This run's directory.
  returned: success
  type: str
  sample: /home/me/sshdoctor-report/2026-12-02T140307Z
latest:
  description: The C(latest) link now pointing at RV(run_dir), or the C(latest.txt) naming it where links cannot be made.
  returned: success
  type: str
  sample: /home/me/sshdoctor-report/latest
pruned:
  description: The run directories O(keep) removed.
  returned: success
  type: list
  elements: str
  sample: ["/home/me/sshdoctor-report/2026-11-30T091500Z"]
report_notes:
  description: What to know about the report directory (writable by others, no symbolic links there, a run not pruned and why).
  returned: success
  type: list
  elements: str
files:
  description: The report files written.
  returned: success
  type: list
  elements: str
  sample: ["/home/me/sshdoctor-report/2026-12-02T140307Z/report.json", "/home/me/sshdoctor-report/2026-12-02T140307Z/report.md",
           "/home/me/sshdoctor-report/2026-12-02T140307Z/report.html",
           "/home/me/sshdoctor-report/2026-12-02T140307Z/report.junit.xml"]
evidence_dir:
  description: Where each host's raw evidence went (null when O(evidence_files=false)).
  returned: success
  type: str
  sample: /home/me/sshdoctor-report/2026-12-02T140307Z/evidence
redacted_dir:
  description: The redacted copy (null without O(redact)).
  returned: success
  type: str
  sample: /home/me/sshdoctor-report/2026-12-02T140307Z/redacted
redacted_files:
  description: The files of the redacted copy.
  returned: when O(redact=true)
  type: list
  elements: str
redaction_map:
  description: The private mapping from originals to tokens (null without O(redact)).
  returned: success
  type: str
  sample: /home/me/sshdoctor-report/2026-12-02T140307Z/redaction-map.json
redaction_counts:
  description: How many values of each kind were replaced (C(hosts), C(domains), C(addresses), C(networks), C(users), C(macs), C(fingerprints), C(keywords)).
  returned: when O(redact=true)
  type: dict
  sample: {"hosts": 6, "domains": 1, "addresses": 9, "networks": 2, "users": 1, "macs": 0, "fingerprints": 0, "keywords": 0}
version:
  description: The version of the C(report.json) format (see below).
  returned: success
  type: int
  sample: 2
generated_at:
  description: When the report was made (UTC, ISO 8601).
  returned: success
  type: str
  sample: "2026-11-25T08:30:00Z"
summary:
  description: Cause id to the hosts with a finding of that cause (any severity).
  returned: success
  type: dict
  sample: {"idle_timeout": ["web1", "web2"], "firewall_reject": ["db1"]}
counts:
  description: C(hosts), C(unreachable), C(nothing_found), and C(top_severity) (severity to hosts whose top finding has it).
  returned: success
  type: dict
  sample: {"hosts": 3, "unreachable": 0, "nothing_found": 1, "top_severity": {"critical": 1, "warning": 1, "info": 0}}
hosts:
  description:
    - Per host, C(status), C(reachable), C(top_cause), C(severity), the one-line C(summary) and C(health)
      (V(healthy), V(healthy_with_advisories) when every finding is an info-level advisory, V(unhealthy), or V(unknown)
      for hosts that were not diagnosed).
  returned: success
  type: dict
  sample: {"db1": {"status": "diagnosed", "reachable": true, "top_cause": "firewall_reject", "severity": "critical",
           "summary": "A firewall rule resets new SSH connections (-A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset)."}}
table:
  description: The printed table, one line per element (with an incident, its answer comes first).
  returned: success
  type: list
  elements: str
incident:
  description: Per host, the incident's C(verdict) (a cause id or null), its C(confidence), the C(summary) and the causes
    C(ruled_out). Only with O(incident).
  returned: when O(incident) was given
  type: dict
  sample: {"web3": {"verdict": "maxstartups_throttling", "confidence": 0.9, "ruled_out": ["tcp_wrappers_denied"],
                    "summary": "sshd dropped 3 unauthenticated connection(s) from 198.51.100.7 past MaxStartups 10:30:100."}}
fleet:
  description: The fleet findings (C(cause), C(kind), C(hosts), C(summary)); see C(report.json)'s C(fleet).
  returned: success
  type: list
  elements: dict
failing_hosts:
  description:
    - The hosts whose top finding is at or above O(fail_on), by name (empty with O(fail_on=none)).
    - When there are any, the task fails with C(msg) naming them and returns only C(msg), RV(dest), RV(files) and this.
  returned: always
  type: list
  elements: str
  sample: ["db1", "web2"]
report_json:
  description:
    - Not returned; this documents the contract of C(report.json), version 2 (version 1 plus the keys below; a consumer
      of version 1 keeps working).
    - C(version) (int), C(generated_at) (str), C(generator) (str), C(hosts), C(summary) (as RV(summary)), C(counts) (as RV(counts)).
    - C(hosts) maps each inventory_hostname to C(status) (V(diagnosed), V(unreachable), V(evidence_failed) or V(not_run)),
      C(reachable) (bool), C(probe) (the M(sshdoctor.connreset.ssh_probe) result, or null), C(findings) (list, most severe first),
      C(summary) (one line; says when nothing was found), C(notes) (what could not be read), C(facts) (list of
      [label, value] pairs digesting the evidence) and C(message) (Ansible's error for unreachable or failed hosts, else null).
    - A finding is C(cause) (a cause id), C(severity) (V(critical), V(warning) or V(info)), C(confidence) (0 to 1),
      C(summary) (one line), C(evidence) (list of strings, each naming its source before a colon), C(fix) (its first line
      is the one-line fix; the next lines are the exact configuration lines or commands) and C(automated_fix)
      (a dict with C(role), this collection's role that applies the fix, and C(vars), its variables; or null).
    - Findings are sorted by severity, then confidence (highest first).
    - Version 2 added, per finding, C(scope) (C(clients), C(not_clients), C(phase), C(ongoing), C(since_epoch),
      C(events), C(basis)); per host, C(health), C(advisories) and C(timeline) (C(from), C(to), C(events)); in
      C(counts), C(healthy) and C(healthy_with_advisories); at the top, C(fleet) (a list of C(cause), C(kind), C(hosts),
      C(summary), C(evidence), C(from_epoch), C(to_epoch), C(times) (the member events' [from, to] epochs, at most 50, else the
      whole span as one pair), C(client)) and, with O(incident), C(incident) (C(client),
      C(at), C(window_minutes), C(assumed_zone), C(client_error) with C(text), C(phase) and C(known), C(hosts) mapping
      each host to C(verdict) and C(ruled_out), and C(fleet), the fleet findings that bear on the incident). The role's
      README has an example.
    - Keys may be added without a version change; renaming, removing or retyping one bumps C(version).
  returned: never
  type: dict
"""
