#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: host_health_info
short_description: Read the host's load, memory, pressure, disk space, process count and recent boots
version_added: 0.1.0
description:
  - Uptime and boot time (C(/proc/uptime), C(/proc/stat)), recent boots (C(journalctl --list-boots), else
    C(last -x reboot) from wtmp), load against the CPU count (C(/proc/loadavg), C(/sys/devices/system/cpu/online)),
    memory and swap (C(/proc/meminfo)), pressure stall information (C(/proc/pressure/cpu), C(memory), C(io)) where
    the kernel has it, space and inodes of C(/), C(/var), C(/var/log), C(/run) and C(/tmp) (C(df -P)), the
    process and thread count against C(pid_max), and the sshd unit's C(TasksMax) and C(MemoryMax).
  - These are the host-side reasons a new ssh connection can be reset (no memory or pids to fork, a full
    filesystem, a reboot) rather than the network's.
author:
  - sshdoctor.connreset contributors (@sshdoctor)
extends_documentation_fragment:
  - sshdoctor.connreset.attributes
  - sshdoctor.connreset.attributes.info_module
  - sshdoctor.connreset.attributes.collector_notes
options:
  unit:
    description: The sshd systemd unit. By default the first loaded of C(ssh.service) and C(sshd.service).
    type: str
  paths:
    description: Paths whose filesystems are reported (those that exist). Each filesystem is listed once.
    type: list
    elements: path
    default: [/, /var, /var/log, /run, /tmp]
  max_boots:
    description: At most this many recent boots are returned (the newest).
    type: int
    default: 10
notes:
  - Inside a container, uptime, load, memory and pressure are the host kernel's; RV(notes) says so.
seealso:
  - module: sshdoctor.connreset.oom_events_info
"""

EXAMPLES = r"""
- name: Host health
  sshdoctor.connreset.host_health_info:
  register: health

- name: Warn about a nearly full root filesystem
  ansible.builtin.debug:
    msg: "{{ item.mount }} is {{ item.used_pct }}% full"
  loop: "{{ health.filesystems | selectattr('used_pct', 'ge', 90) | list }}"
"""

RETURN = r"""
uptime_seconds:
  description: Seconds since the kernel booted.
  returned: always
  type: int
  sample: 1409
boot_time:
  description: When the kernel booted (UTC ISO 8601, from C(btime) in C(/proc/stat)).
  returned: always
  type: str
  sample: "2026-11-25T07:54:49+00:00"
recent_boots:
  description:
    - Recent boots, oldest first, at most O(max_boots). From journald C(index) (0 is the current boot) and
      C(boot_id); C(first_entry) and C(last_entry) are the first and last journal entries (ISO 8601 when journald
      gave UTC times or JSON, else as printed). From wtmp, C(first_entry) is the boot time, C(last_entry) the
      shutdown (null while still running), and C(kernel) the kernel release.
  returned: always
  type: list
  elements: dict
  sample: [{"index": 0, "boot_id": "db3b1a7c99eb4821a3cb7e0f190ccfc8", "first_entry": "2026-11-25T08:00:50+00:00",
            "last_entry": "2026-11-25T08:28:41+00:00"}]
recent_boots_source:
  description: C(journalctl) or C(wtmp); null when neither gave a list.
  returned: always
  type: str
  sample: journalctl
load:
  description: Load averages C(1), C(5) and C(15), C(cpus) (online CPUs), C(per_cpu_1) and C(per_cpu_5) (load per
    CPU), C(runnable) and C(threads) (kernel scheduling entities, from C(/proc/loadavg)).
  returned: always
  type: dict
  sample: {"1": 6.44, "5": 4.81, "15": 2.49, "cpus": 2, "per_cpu_1": 3.22, "per_cpu_5": 2.4, "runnable": 21,
           "threads": 517}
memory:
  description: C(total_kb), C(available_kb) (C(MemAvailable), or free+buffers+cached on kernels before 3.14 with
    C(available_estimated) true), C(used_pct), C(swap_total_kb), C(swap_free_kb), C(swap_used_pct) (null without
    swap), C(commit_limit_kb), C(committed_as_kb).
  returned: always
  type: dict
  sample: {"total_kb": 24684084, "available_kb": 22386520, "available_estimated": false, "used_pct": 9.3,
           "swap_total_kb": 0, "swap_free_kb": 0, "swap_used_pct": null, "commit_limit_kb": 12342040,
           "committed_as_kb": 3000000}
pressure:
  description: Per resource (C(cpu), C(memory), C(io)) C(some) and C(full), each with C(avg10), C(avg60), C(avg300)
    (percent of time stalled) and C(total) (microseconds); a resource is null where the kernel has no PSI.
  returned: always
  type: dict
  sample: {"cpu": {"some": {"avg10": 71.3, "avg60": 61.42, "avg300": 44.34, "total": 305681268},
                   "full": {"avg10": 0.0, "avg60": 0.0, "avg300": 0.0, "total": 0}},
           "memory": null, "io": null}
filesystems:
  description: One entry per filesystem holding one of O(paths).
  returned: always
  type: list
  elements: dict
  sample: [{"filesystem": "overlay", "mount": "/", "paths": ["/", "/var/log"], "size_kb": 264212084,
            "used_kb": 25530512, "available_kb": 80860400, "used_pct": 24, "inodes": 16777216, "inodes_used": 553799,
            "inodes_free": 16223417, "inodes_used_pct": 4}]
  contains:
    mount:
      description: The mount point.
      type: str
    paths:
      description: Which of O(paths) live on it.
      type: list
      elements: str
    size_kb:
      description: Size in KiB.
      type: int
    used_kb:
      description: Used KiB.
      type: int
    available_kb:
      description: KiB available to unprivileged users.
      type: int
    used_pct:
      description: df's capacity percentage.
      type: int
    inodes_used_pct:
      description: Inode use percentage (null where df cannot tell).
      type: int
processes:
  description: C(count) (processes in C(/proc)), C(threads) (from C(/proc/loadavg)), C(pid_max), C(threads_max),
    C(threads_pct_of_pid_max).
  returned: always
  type: dict
  sample: {"count": 8, "threads": 517, "pid_max": 4194304, "threads_max": 192826, "threads_pct_of_pid_max": 0.01}
sshd_tasks:
  description: The sshd unit's C(unit), C(current) and C(max) task counts (null where systemd does not count them or
    there is no limit) and C(max_text) as systemd printed it; empty when no sshd unit is loaded.
  returned: always
  type: dict
  sample: {"unit": "ssh.service", "current": 3, "max": 28909, "max_text": "28909"}
sshd_memory:
  description: The sshd unit's C(current_bytes), C(max_bytes) (null for C(infinity)) and C(max_text).
  returned: always
  type: dict
  sample: {"current_bytes": 4194304, "max_bytes": null, "max_text": "infinity"}
limits:
  description: The caps in force.
  returned: always
  type: dict
  sample: {"max_boots": 10}
truncated:
  description: True when there were more boots than O(max_boots).
  returned: always
  type: bool
notes:
  description: What could not be read, and why.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sshdoctor.connreset.plugins.module_utils._host import Host
from ansible_collections.sshdoctor.connreset.plugins.module_utils._host_health import DEFAULT_PATHS, collect_host_health


def main():
    module = AnsibleModule(
        argument_spec=dict(
            unit=dict(type="str"),
            paths=dict(type="list", elements="path", default=list(DEFAULT_PATHS)),
            max_boots=dict(type="int", default=10),
        ),
        supports_check_mode=True,
    )
    if module.params["max_boots"] < 0:
        module.fail_json(msg="max_boots must be 0 or more")
    if any(not p.startswith("/") for p in module.params["paths"]):
        module.fail_json(msg="paths must be absolute")
    result = collect_host_health(Host(module), unit=module.params["unit"], paths=module.params["paths"],
                                 max_boots=module.params["max_boots"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
