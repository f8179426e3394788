#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: oom_events_info
short_description: List the kernel's OOM kills, and say which victims were sshd
version_added: 0.1.0
description:
  - Reads the kernel ring buffer with C(dmesg) (raw, with times from C(/proc/stat)'s boot time) or, where dmesg is
    not permitted or missing, C(journalctl -k -b 0); and the previous boot's kernel log with C(journalctl -k -b -1),
    since the ring buffer does not survive a reboot and holds only the last few hundred KiB.
  - One event per victim, with time, pid, name, uid, memory figures, C(oom_score_adj), the constraint and the
    cgroup (global or memory cgroup). Kernel formats old and new parse (C(Killed process), C(Kill process ... score
    ... or sacrifice child), C(oom-kill:) key=value in any order, C(Memory cgroup out of memory), C(Task in ...
    killed as a result of limit of ...)).
  - Victims named C(sshd), C(sshd-session) or C(sshd-auth) are flagged; a killed per-connection process is a
    connection reset for its client.
  - Each victim's cgroup says where it ran (C(owner) in RV(events[].cgroup)). Victims inside container cgroups (podman,
    docker, containerd, CRI-O, Kubernetes pods, LXC, systemd-nspawn) are the containers' own; they are reported
    apart (RV(container_victims), RV(containers)) and never counted as this host's sshd's, even when named sshd.
    An sshd victim counts in RV(sshd_victims) only when it ran in sshd's unit or a login session's scope (or its
    cgroup is not known).
  - The kernel-log read is bounded (C(journalctl -k) at most 20000 lines per boot, C(dmesg) by the ring buffer and
    the 8 MiB output cap) and each line is parsed on its first 4096 characters, in time linear in its length.
author:
  - sshdoctor.connreset contributors (@sshdoctor)
extends_documentation_fragment:
  - sshdoctor.connreset.attributes
  - sshdoctor.connreset.attributes.info_module
  - sshdoctor.connreset.attributes.collector_notes
options:
  previous_boot:
    description: Also read the previous boot's kernel log from journald.
    type: bool
    default: true
  max_events:
    description: At most this many events are returned (the newest ones).
    type: int
    default: 50
notes:
  - C(dmesg) needs root or C(CAP_SYSLOG) when C(kernel.dmesg_restrict=1); the journal needs root or the
    C(systemd-journal)/C(adm) group.
  - Inside a container, C(dmesg) shows the host kernel's ring buffer with the host's pids, and the container's
    journald gets no kernel messages. RV(events[].in_this_container) tells the container's own events apart when
    the cgroup paths allow it.
  - Times from raw C(dmesg) are boot time plus the kernel's timestamp, which does not count time spent suspended.
seealso:
  - module: sshdoctor.connreset.sshd_journal_info
"""

EXAMPLES = r"""
- name: OOM kills of this and the previous boot
  sshdoctor.connreset.oom_events_info:
  become: true
  register: oom

- name: Say when the OOM killer took an sshd process
  ansible.builtin.debug:
    msg: "{{ oom.sshd_victims }} sshd processes were OOM-killed"
  when: oom.sshd_victims > 0
"""

RETURN = r"""
source:
  description: Where the current boot's kernel log came from; null when none could be read.
  returned: always
  type: str
  sample: dmesg
  choices: [dmesg, journald]
sources:
  description: Every log read, per boot offset (0 current, -1 previous).
  returned: always
  type: list
  elements: dict
  sample: [{"boot": 0, "source": "dmesg"}, {"boot": -1, "source": "journald"}]
events:
  description: One entry per OOM kill, oldest first (at most O(max_events), the newest).
  returned: always
  type: list
  elements: dict
  sample:
    - time: "2026-11-25T08:09:48.914018+00:00"
      monotonic: 499.914018
      boot: 0
      pid: 8158
      name: sshd-session
      uid: 0
      total_vm_kb: 18652
      anon_rss_kb: 1664
      file_rss_kb: 8164
      shmem_rss_kb: 0
      pgtables_kb: 80
      oom_score_adj: 1000
      score: null
      constraint: CONSTRAINT_MEMCG
      cgroup: {"kind": "memcg", "path": "/libpod_parent/libpod-cf8b", "task_memcg": "/libpod_parent/libpod-cf8b",
               "owner": null}
      container: null
      counts_for_sshd: true
      invoked_by: python3
      is_sshd: true
      source: dmesg
      in_this_container: true
      line: "[  499.914018] Memory cgroup out of memory: Killed process 8158 (sshd-session) total-vm:18652kB, ..."
  contains:
    time:
      description: When (UTC ISO 8601); null for raw dmesg when the boot time is unknown.
      type: str
    monotonic:
      description: Seconds since boot as dmesg printed them (null from journald).
      type: float
    boot:
      description: Boot offset (0 current, -1 previous).
      type: int
    pid:
      description: The victim's pid (the host's pid when read inside a container).
      type: int
    name:
      description: The victim's command name (at most 15 characters).
      type: str
    uid:
      description: The victim's uid (null on kernels that do not print it).
      type: int
    total_vm_kb:
      description: Virtual memory size in KiB.
      type: int
    anon_rss_kb:
      description: Anonymous resident memory in KiB.
      type: int
    file_rss_kb:
      description: File-backed resident memory in KiB.
      type: int
    shmem_rss_kb:
      description: Shared-memory resident memory in KiB.
      type: int
    pgtables_kb:
      description: Page tables in KiB (newer kernels).
      type: int
    oom_score_adj:
      description: The victim's oom_score_adj (newer kernels).
      type: int
    score:
      description: The badness score older kernels print in C(Kill process ... score S).
      type: int
    constraint:
      description: C(CONSTRAINT_NONE) (system-wide), C(CONSTRAINT_MEMCG), C(CONSTRAINT_CPUSET) or
        C(CONSTRAINT_MEMORY_POLICY); null when the kernel did not say.
      type: str
    cgroup:
      description: The cgroup the kernel names for the kill.
      type: dict
      contains:
        kind:
          description: C(memcg) when a memory cgroup limit was hit, else C(global).
          type: str
        path:
          description: The limiting cgroup (memcg) or the victim's cgroup (global); null when the kernel did not say.
          type: str
        task_memcg:
          description: The victim's cgroup; null when the kernel did not say.
          type: str
        owner:
          description: Where the victim ran, from its cgroup; C(sshd) (sshd's unit), C(session) (a login session's
            scope), C(container) (a container runtime's cgroup), C(other), or null when unknown (or this
            container's own cgroup, with nothing finer).
          type: str
    container:
      description: For a victim in a container's cgroup, C(runtime) (C(podman), C(docker), C(containerd), C(crio),
        C(kubernetes), C(lxc), C(nspawn)), C(id) and C(cgroup); else null.
      type: dict
    counts_for_sshd:
      description: True when the victim is one of this host's sshd processes (an sshd name, in sshd's unit, a session
        scope or an unknown cgroup; never in a container's cgroup).
      type: bool
    invoked_by:
      description: The process whose allocation started the OOM killer.
      type: str
    is_sshd:
      description: True when the victim is C(sshd), C(sshd-session) or C(sshd-auth).
      type: bool
    source:
      description: C(dmesg) or C(journald).
      type: str
    in_this_container:
      description: Only inside a container; true when the victim's cgroup is this container's, null when the
        paths cannot tell.
      type: bool
    line:
      description: The kernel's C(Killed process) line (cut to 512 characters).
      type: str
sshd_victims:
  description: How many of RV(events) are this host's sshd processes (RV(events[].counts_for_sshd)), not counting
    events in containers' cgroups or known to be another container's (RV(events[].in_this_container) false).
  returned: always
  type: int
  sample: 1
container_victims:
  description: How many of RV(events) ran inside another container's cgroup (reported apart, per container, in
    RV(containers)).
  returned: always
  type: int
  sample: 0
containers:
  description: Containers whose processes were killed, most kills first (at most 20).
  returned: always
  type: list
  elements: dict
  sample: [{"runtime": "podman", "id": "cf8b2044a4bb42527eb2e62578acd73397e8fd3b6d54c5304f5cdc6a8b468b85",
            "cgroup": "/libpod_parent/libpod-cf8b2044a4bb42527eb2e62578acd73397e8fd3b6d54c5304f5cdc6a8b468b85",
            "kills": 2, "sshd_kills": 1, "names": ["sshd-session", "python3"]}]
in_container:
  description: True when the module ran inside a container.
  returned: always
  type: bool
limits:
  description: The caps in force.
  returned: always
  type: dict
  sample: {"max_events": 50, "max_line_chars": 512}
truncated:
  description: True when more events were found than O(max_events).
  returned: always
  type: bool
notes:
  description: What could not be read, and why (dmesg not permitted, no previous boot, container).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sshdoctor.connreset.plugins.module_utils._host import Host
from ansible_collections.sshdoctor.connreset.plugins.module_utils._oom import collect_oom


def main():
    module = AnsibleModule(
        argument_spec=dict(
            previous_boot=dict(type="bool", default=True),
            max_events=dict(type="int", default=50),
        ),
        supports_check_mode=True,
    )
    if module.params["max_events"] < 0:
        module.fail_json(msg="max_events must be 0 or more")
    result = collect_oom(Host(module), max_events=module.params["max_events"],
                         previous_boot=module.params["previous_boot"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
