# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for sshdoctor.connreset.ssh_evidence: the module on the host, the probe beside it.

Runs the ``ssh_evidence`` module on the host with Ansible's own ``normal`` action and,
with ``probe: true``, probes the host's SSH port from the controller in a thread of this
worker process while the module runs (the code of the ``ssh_probe`` action), so that the
diagnosis costs one task per host. A connection failure is not an UNREACHABLE result,
which every callback prints as a red error block per host: the task is skipped for that
host with ``connection_failed: true`` and Ansible's message in ``msg`` (and the probe,
which still ran). Real failures of the module are still failures.
See plugins/modules/ssh_evidence.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display
from ansible_collections.sshdoctor.connreset.plugins.action import ssh_probe

display = Display()

# The options this action takes for itself; every other option goes to the module.
# sshd_ports is not a probe option here: it comes from the evidence itself.
PROBE_OPTIONS = dict((name, spec) for name, spec in ssh_probe.ARGUMENT_SPEC.items() if name != "sshd_ports")
OWN_SPEC = dict(
    probe=dict(type="bool", default=False),
    probe_options=dict(type="dict", default={}, options=PROBE_OPTIONS),
)


# sudo's answer to a pipelined become on a host whose sudoers say "Defaults requiretty":
# pipelining runs sudo without a terminal (without it, Ansible's ssh asks for one with -tt).
REQUIRETTY = "sorry, you must have a tty to run sudo"
REQUIRETTY_HINT = ("sudo on this host needs a terminal (sudoers: Defaults requiretty), which pipelining does not give it: "
                   "run with -e diagnose_pipelining=false, or set ansible_pipelining=false for this host, "
                   "or let sudo run without one (Defaults !requiretty)")


def forks_hint(task_vars):
    """The warning for a play whose batch has more hosts than forks (said by its first host), or None."""
    batch = list(task_vars.get("ansible_play_batch") or [])
    forks = task_vars.get("ansible_forks")
    if not batch or not isinstance(forks, int) or forks < 1 or len(batch) <= forks:
        return None
    if task_vars.get("inventory_hostname") != batch[0]:
        return None
    rounds = -(-len(batch) // forks)
    return ("%d hosts and forks = %d: Ansible runs this task on %d hosts at a time, in %d rounds. "
            "Run with -f %d (or forks = %d in ansible.cfg) to diagnose every host at once; "
            "each fork is one process on the controller." % (len(batch), forks, forks, rounds, len(batch), len(batch)))


def sshd_ports(module_result):
    """The ports sshd listens on, from the module's evidence (empty when unknown)."""
    try:
        ports = module_result["evidence"]["sshd"]["settings"]["port"]
    except (KeyError, TypeError):
        return []
    if not isinstance(ports, list):
        return []
    found = []
    for port in ports:
        try:
            found.append(int(port))
        except (TypeError, ValueError):
            continue
    return found


class _Probe(threading.Thread):
    """The controller-side probe of one host, while the module runs there."""

    def __init__(self, host, port, chosen, args):
        super(_Probe, self).__init__(name="sshdoctor-probe")
        self.daemon = True
        self.call = (host, port, chosen, args)
        self.result = None

    def run(self):
        try:
            self.result = ssh_probe.run_probe(*self.call)
        except Exception as exc:  # pylint: disable=broad-except
            # A probe that cannot run must not cost the host its evidence.
            self.result = {"host": self.call[0], "port": self.call[1], "port_from": self.call[2],
                           "notes": ["the probe failed on the controller: %s: %s" % (type(exc).__name__, exc)]}

    def wait(self):
        self.join()
        return self.result


class ActionModule(NormalAction):
    """Ansible's own ``normal`` action (which runs any module), plus the probe and connection failures as a skip."""

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        module_args = dict(self._task.args)
        own_args = dict((name, module_args.pop(name)) for name in list(OWN_SPEC) if name in module_args)
        checked = ArgumentSpecValidator(OWN_SPEC).validate(own_args)
        if checked.error_messages:
            return dict(failed=True, msg="ssh_evidence: %s" % "; ".join(checked.error_messages))
        own = checked.validated_parameters
        probe_args = own["probe_options"]
        error = ssh_probe.check_args(probe_args)
        if own["probe"] and error:
            return dict(failed=True, msg="probe_options: %s" % error)
        if own["probe"] and self._task.async_val:
            return dict(failed=True, msg="probe=true cannot run with async: run ssh_probe as a task of its own")
        # The module gets its own options only (the task object is this worker's copy).
        self._task.args = module_args

        hint = forks_hint(task_vars)
        if hint:
            display.warning(hint)

        prober = None
        if own["probe"]:
            host, port, chosen = ssh_probe.probe_target(probe_args, task_vars, self._templar)
            if host:
                prober = _Probe(host, port, chosen, probe_args)
                prober.start()

        try:
            result = super(ActionModule, self).run(tmp, task_vars)
        except AnsibleConnectionFailure as exc:
            result = dict(changed=False, skipped=True, connection_failed=True, msg=exc.message,
                          skip_reason="Ansible cannot connect to this host; the probe and the report say why")
            if prober is not None:
                result["probe"] = prober.wait()
            return result

        if result.get("failed") and REQUIRETTY in "%s %s" % (result.get("module_stderr") or "", result.get("module_stdout") or ""):
            result["msg"] = REQUIRETTY_HINT + " (Ansible: %s)" % result.get("msg")
        if prober is not None:
            probe = prober.wait()
            host, port, chosen = prober.call[:3]
            ports = sshd_ports(result)
            if chosen == "default" and ports and port not in ports:
                # Nothing named the port and sshd does not listen on 22: probe the port it listens on.
                probe = ssh_probe.run_probe(host, ports[0], "sshd_ports", probe_args)
            result["probe"] = probe
        elif own["probe"]:
            result["probe"] = {"notes": ["no host to probe: set probe_options.host"]}
        return result
