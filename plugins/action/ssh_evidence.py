# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for sshdoctor.connreset.ssh_evidence: the module on the host, the probe beside it.

Runs the ``ssh_evidence`` module on the host as Ansible's own ``normal`` action does and,
with ``probe: true``, probes the host's SSH port from the controller in a thread of this
worker process while the module runs (the code of the ``ssh_probe`` action), so that the
diagnosis costs one task per host. An unreachable host is still probed: the result then
says ``unreachable`` and holds the probe. See plugins/modules/ssh_evidence.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash
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


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp

        module_args = dict(self._task.args)
        own_args = dict((name, module_args.pop(name)) for name in list(OWN_SPEC) if name in module_args)
        checked = ArgumentSpecValidator(OWN_SPEC).validate(own_args)
        if checked.error_messages:
            return dict(result, failed=True, msg="ssh_evidence: %s" % "; ".join(checked.error_messages))
        own = checked.validated_parameters
        probe_args = own["probe_options"]
        error = ssh_probe.check_args(probe_args)
        if own["probe"] and error:
            return dict(result, failed=True, msg="probe_options: %s" % error)

        wrap_async = self._task.async_val and not self._connection.has_native_async
        if own["probe"] and wrap_async:
            return dict(result, failed=True, msg="probe=true cannot run with async: run ssh_probe as a task of its own")

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
            module_result = self._execute_module(module_args=module_args, task_vars=task_vars, wrap_async=wrap_async)
        except AnsibleConnectionFailure as exc:
            if prober is None:
                raise
            # What Ansible itself says of an unreachable host, plus what the controller saw of its SSH port.
            return dict(result, unreachable=True, changed=False, msg=to_text(exc), probe=prober.wait())

        result = merge_hash(result, module_result)
        if result.get("failed") and REQUIRETTY in "%s %s" % (result.get("module_stderr") or "", result.get("module_stdout") or ""):
            result["msg"] = REQUIRETTY_HINT + " (Ansible: %s)" % result.get("msg")
        if prober is not None:
            probe = prober.wait()
            host, port, chosen = prober.call[:3]
            ports = sshd_ports(module_result)
            if chosen == "default" and ports and port not in ports:
                # Nothing named the port and sshd does not listen on 22: probe the port it listens on.
                probe = ssh_probe.run_probe(host, ports[0], "sshd_ports", probe_args)
            result["probe"] = probe
        elif own["probe"]:
            result["probe"] = {"notes": ["no host to probe: set probe_options.host"]}

        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
