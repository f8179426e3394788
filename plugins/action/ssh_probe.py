# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for sshdoctor.connreset.ssh_probe: probe a host's SSH port from the controller.

Runs in the controller's worker process; it never connects to the managed
host through Ansible and never starts a module process. See
plugins/modules/ssh_probe.py for the documentation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil
import subprocess

from ansible.plugins.action import ActionBase
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _probe

# Connection plugins whose ansible_port is sshd's port on the host.
SSH_CONNECTIONS = frozenset((
    "ssh", "smart", "paramiko", "paramiko_ssh",
    "ansible.builtin.ssh", "ansible.legacy.ssh", "ansible.builtin.paramiko_ssh", "ansible.legacy.paramiko_ssh",
))

ARGUMENT_SPEC = dict(
    host=dict(type="str"),
    port=dict(type="int"),
    sshd_ports=dict(type="list", elements="int", default=[]),
    samples=dict(type="int", default=3),
    timeout=dict(type="float", default=3.0),
    banner_timeout=dict(type="float", default=6.0),
    interval=dict(type="float", default=0.2),
    mtr=dict(type="bool", default=False),
    mtr_cycles=dict(type="int", default=5),
)


def _var(templar, task_vars, *names):
    for name in names:
        if name in task_vars and task_vars[name] is not None:
            return templar.template(task_vars[name])
    return None


def check_args(args):
    """The error message for out-of-range probe options, or None."""
    if args["samples"] < 1 or args["samples"] > 20:
        return "samples must be between 1 and 20"
    if args["timeout"] <= 0 or args["banner_timeout"] <= 0:
        return "timeout and banner_timeout must be positive"
    return None


def probe_target(args, task_vars, templar):
    """(host, port, how the port was chosen) for the probe options ``args`` of a task."""
    host = args["host"] or _var(templar, task_vars, "ansible_host", "ansible_ssh_host") or task_vars.get("inventory_hostname")
    if args["port"]:
        return host, args["port"], "port"
    connection = _var(templar, task_vars, "ansible_connection") or "ssh"
    port = _var(templar, task_vars, "ansible_port", "ansible_ssh_port")
    if connection in SSH_CONNECTIONS and port:
        return host, int(port), "ansible_port"
    if args.get("sshd_ports"):
        return host, int(args["sshd_ports"][0]), "sshd_ports"
    return host, 22, "default"


def run_probe(host, port, chosen, args):
    """The ``probe`` result: the samples, how the port was chosen and, with ``mtr``, the path."""
    probe = _probe.probe(host, port, samples=args["samples"], timeout=args["timeout"],
                         banner_timeout=args["banner_timeout"], interval=args["interval"])
    probe["port_from"] = chosen
    if args["mtr"]:
        probe["mtr"], note = run_mtr(host, args["mtr_cycles"], timeout=max(30.0, args["mtr_cycles"] * 3.0))
        if note:
            probe.setdefault("notes", []).append(note)
    return probe


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        error = check_args(args)
        if error:
            return dict(result, failed=True, msg=error)
        host, port, chosen = probe_target(args, task_vars, self._templar)
        if not host:
            return dict(result, failed=True, msg="no host to probe: set host")
        result.update(changed=False, probe=run_probe(host, port, chosen, args))
        return result


def run_mtr(host, cycles, timeout):
    """(hops or None, note or None) from ``mtr --report --json`` on the controller, if mtr is installed."""
    path = shutil.which("mtr")
    if not path:
        return None, "mtr is not installed on the controller; no path report"
    try:
        proc = subprocess.run(_probe.mtr_argv(path, host, cycles), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout, check=False, env={"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, "mtr did not finish: %s" % exc
    if proc.returncode != 0:
        return None, "mtr failed (rc=%d): %s" % (proc.returncode, proc.stderr.decode("utf-8", "replace").strip()[:200])
    hops = _probe.parse_mtr_json(proc.stdout.decode("utf-8", "replace"))
    if hops is None:
        return None, "mtr printed no JSON report this collection understands"
    return hops, None
