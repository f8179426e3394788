#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sshd_config_placement
short_description: Set sshd keywords where sshd really reads them, validated as a whole
version_added: 0.1.0
description:
  - Sets C(ClientAliveInterval), C(ClientAliveCountMax), C(MaxSessions), C(MaxStartups) and
    C(PerSourcePenaltyExemptList) so that the B(effective) configuration (C(sshd -T)) has the requested values.
  - sshd keeps the first value it reads for most keywords but the last one for C(MaxStartups), and reads
    C(Include) globs where they stand. When the main file includes the drop-in directory outside any
    C(Match) block, the module writes one drop-in; otherwise it edits the main file in a marked block
    above the first C(Match) block.
  - Lines elsewhere that would still win (an earlier drop-in, a line above the C(Include), a later
    C(MaxStartups)) make the module fail and name them, unless O(comment_out_conflicts) is set.
  - Refuses to touch a configuration that C(sshd -t) already rejects. After writing, the whole
    configuration must pass C(sshd -t) and C(sshd -T) must show the requested values; otherwise the
    previous files are put back and the module fails.
  - Where sshd is not running, C(sshd -t) can fail although the configuration is fine. The privilege
    separation directory C(/run/sshd) is made by the service when sshd starts, and an image that generates its
    host keys on first boot has none. The module tells this apart from an invalid configuration, provides what
    is missing for the duration of the check only (the directory, as the unit makes it; a temporary host key
    passed with C(sshd -h), never written to C(/etc/ssh)), removes it again, and says so in RV(validation). A
    configuration error is still refused (sshd reports those before either).
  - It never restarts sshd. Restart it when the task reports a change and C(restart) in RV(service) is true (the
    C(sshdoctor.connreset.sshd_hardening) role does that in a handler, then checks a new connection and rolls
    back on failure). C(restart) in RV(service) is false where sshd is not running (a disabled or stopped unit, a
    container without a service manager, a chroot), where nothing should be started.
  - With O(check_only), nothing is planned or written; RV(drift) says for every managed keyword whether
    C(sshd -T) shows the wanted value, and which file and line supplies it.
author:
  - sshdoctor.connreset contributors (@sshdoctor)
extends_documentation_fragment:
  - sshdoctor.connreset.attributes
attributes:
  check_mode:
    support: full
    details:
      - In check mode nothing is written; RV(files) and the diff show what would change.
  diff_mode:
    support: full
  idempotent:
    support: full
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
options:
  settings:
    description:
      - Keyword to value. A null value leaves the keyword unmanaged.
      - C(MaxStartups) is C(N) or C(start:rate:full) and is written as the full triple (C(N) as C(N:30:N), which is
        what sshd reads C(N) as unless an earlier line set another rate).
      - C(PerSourcePenaltyExemptList) is a list of addresses or networks; it is skipped (see RV(unsupported)) on OpenSSH
        older than 9.8.
    type: dict
    required: true
  config_file:
    description: The main sshd configuration file.
    type: path
    default: /etc/ssh/sshd_config
  dropin_dir:
    description: The directory the main file includes.
    type: path
    default: /etc/ssh/sshd_config.d
  dropin_name:
    description:
      - File name of the drop-in. sshd reads drop-ins in lexical order and keeps the first value of most
        keywords, so a name that sorts early wins more often; conflicts are reported either way.
    type: str
    default: 00-sshdoctor-connreset.conf
  placement:
    description:
      - V(auto) writes the drop-in when sshd would read it outside a Match block, else edits the main file.
      - V(dropin) fails when sshd would not read the drop-in; V(main_file) always edits the main file.
    type: str
    choices: [auto, dropin, main_file]
    default: auto
  comment_out_conflicts:
    description:
      - Comment out other lines that would still win, with a marker naming our file. The files are backed up
        under O(backup_dir) first.
    type: bool
    default: false
  backup_dir:
    description: Where copies of every changed file go before it is written (one subdirectory per run).
    type: path
    default: /var/lib/sshdoctor-connreset/backups
  sshd_binary:
    description: Path of sshd; found on the usual paths when omitted.
    type: path
  check_only:
    description:
      - Change nothing and report, in RV(drift), whether each managed keyword is effective as wanted (a drift
        check for CI). The module does not fail on drift; the role does.
    type: bool
    default: false
notes:
  - Needs root (C(become=true)).
  - Works over any connection (SSH, C(containers.podman.podman), C(community.docker.docker), C(ansible.builtin.local),
    C(community.general.chroot)); nothing in it looks at how Ansible reached the host.
  - In a chroot (detected as systemd does, by comparing C(/proc/1/root) with C(/)) or without a service manager,
    C(restart) in RV(service) is false and no process table of the outer system is consulted.
  - Commands run with C(LC_ALL=C) and argument lists, never through a shell.
seealso:
  - name: The sshd_hardening role
    description: Runs this module, restarts sshd in a handler, checks a new connection and rolls back on failure.
    link: https://example.invalid/sshdoctor/connreset/README.md
"""

EXAMPLES = r"""
- name: Keepalive and MaxStartups where sshd reads them
  sshdoctor.connreset.sshd_config_placement:
    settings:
      ClientAliveInterval: 60
      ClientAliveCountMax: 3
      MaxStartups: "10:30:100"
      MaxSessions: null  # unmanaged
  become: true
  register: placement

- name: Restart sshd when something changed
  ansible.builtin.service:
    name: "{{ placement.service.unit | default('ssh', true) }}"
    state: restarted
  when: placement is changed
"""

RETURN = r"""
mode:
  description: Where the settings went.
  returned: when the configuration could be read
  type: str
  sample: dropin
target:
  description: The file holding the managed lines.
  returned: when the configuration could be read
  type: str
  sample: /etc/ssh/sshd_config.d/00-sshdoctor-connreset.conf
version:
  description: The OpenSSH version of sshd.
  returned: always
  type: str
  sample: 9.2p1
version_info:
  description: Major and minor version.
  returned: always
  type: list
  elements: int
  sample: [9, 2]
settings:
  description: The managed keywords as written.
  returned: always
  type: dict
  sample: {"ClientAliveInterval": "60", "MaxStartups": "10:30:100"}
unsupported:
  description: Keywords left out because this sshd does not know them.
  returned: always
  type: list
  elements: dict
  sample: [{"keyword": "PerSourcePenaltyExemptList", "reason": "needs OpenSSH 9.8 or later"}]
config_valid_before:
  description:
    - Whether C(sshd -t) accepted the configuration before any change; null when it could not check it here
      (see RV(validation)).
  returned: always
  type: bool
config_errors:
  description: What C(sshd -t) complained about, as file, line and message.
  returned: always
  type: list
  elements: dict
files:
  description: Files changed (or that would change in check mode), with action create, update or delete.
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/etc/ssh/sshd_config.d/00-sshdoctor-connreset.conf", "action": "create"}]
backups:
  description: For each changed file, its backup copy (null for a file that did not exist). Used to roll back.
  returned: always
  type: list
  elements: dict
  sample:
    - path: /etc/ssh/sshd_config.d/00-conflict.conf
      backup: /var/lib/sshdoctor-connreset/backups/20250101T000000Z-4242/etc/ssh/sshd_config.d/00-conflict.conf
conflicts:
  description: Lines elsewhere that still win with another value (file, line, keyword, value, wanted, text).
  returned: always
  type: list
  elements: dict
commented_out:
  description: Lines commented out because they would have won (same fields as RV(conflicts)).
  returned: always
  type: list
  elements: dict
shadowed:
  description: Lines elsewhere that are read instead of ours but already carry the requested value.
  returned: always
  type: list
  elements: dict
match_overrides:
  description: Lines inside C(Match) blocks that change a managed keyword for some connections (file, line, keyword, value, match).
  returned: always
  type: list
  elements: dict
effective_before:
  description: The managed keywords as C(sshd -T) showed them before (lowercase keys).
  returned: always
  type: dict
effective_after:
  description: The same after writing (empty in check mode when something would change).
  returned: always
  type: dict
listeners_changed:
  description: Whether the listening addresses or ports in C(sshd -T) changed (a socket unit then needs a restart).
  returned: always
  type: bool
verify:
  description:
    - Address and port where a check on the host itself reaches sshd, and the one host key type it has
      (for C(ssh-keyscan -t); null when none of ed25519, ecdsa, rsa is found).
  returned: when the configuration could be read
  type: dict
  sample: {"address": "127.0.0.1", "port": 22, "key_type": "ed25519"}
service:
  description:
    - The unit running sshd (V(ssh) or V(sshd), null without systemd), whether it is active, whether a socket
      unit starts it and whether that socket spawns one sshd per connection (C(Accept=yes)).
    - C(manager) is V(systemd), V(none) (a container without an init, a chroot) or the name of another init;
      C(enabled) the unit's UnitFileState; C(running) whether sshd runs now; C(restart) whether a change should
      be applied by restarting it (only when it runs under a service manager); C(message) says why not
      ("sshd is not running, the new settings apply when it starts ...").
  returned: when the configuration could be checked
  type: dict
  sample:
    unit: ssh
    service_active: false
    socket_activated: false
    socket_unit: null
    socket_accept: false
    manager: systemd
    enabled: disabled
    running: false
    restart: false
    message: "sshd is not running: the new settings apply when it starts (ssh.service is disabled and inactive); nothing was started"
validation:
  description:
    - What C(sshd -t) lacked on this system (not in the configuration) and how the check was made anyway.
      C(environment) lists C(kind) (V(privsep_dir) or V(host_keys)), C(missing), sshd's C(message) and C(handled).
  returned: always
  type: dict
  sample:
    environment:
      - kind: privsep_dir
        missing: /run/sshd
        message: "Missing privilege separation directory: /run/sshd"
        handled: >-
          created /run/sshd (mode 0755) for sshd -t and sshd -T, as ssh.service's RuntimeDirectory= does when
          sshd starts, and removed it again
check_only:
  description: Whether this was a drift check (O(check_only)).
  returned: always
  type: bool
drift:
  description:
    - With O(check_only), one entry per managed keyword, in a fixed order; C(ok) is false where C(sshd -T) does
      not show the wanted value. C(file) and C(line) are null where sshd uses its default. C(line_text) is the
      line the role prints.
  returned: always (empty unless O(check_only))
  type: list
  elements: dict
  sample:
    - keyword: ClientAliveInterval
      wanted: "60"
      effective: "0"
      ok: false
      file: /etc/ssh/sshd_config.d/50-image.conf
      line: 1
      line_text: "ClientAliveInterval: DRIFT, wanted 60, effective 0, from /etc/ssh/sshd_config.d/50-image.conf line 1"
notes:
  description: What could not be read or decided.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sshdoctor.connreset.plugins.module_utils._host import Host
from ansible_collections.sshdoctor.connreset.plugins.module_utils._sshd_placement import (
    ModuleWriter,
    apply_placement,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type="dict", required=True),
            config_file=dict(type="path", default="/etc/ssh/sshd_config"),
            dropin_dir=dict(type="path", default="/etc/ssh/sshd_config.d"),
            dropin_name=dict(type="str", default="00-sshdoctor-connreset.conf"),
            placement=dict(type="str", default="auto", choices=["auto", "dropin", "main_file"]),
            comment_out_conflicts=dict(type="bool", default=False),
            backup_dir=dict(type="path", default="/var/lib/sshdoctor-connreset/backups"),
            sshd_binary=dict(type="path"),
            check_only=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if "/" in params["dropin_name"]:
        module.fail_json(msg="dropin_name must be a file name, not a path")
    host = Host(module)
    result, failure = apply_placement(
        host,
        ModuleWriter(module, params["backup_dir"]),
        params["settings"],
        main_path=params["config_file"],
        dropin_dir=params["dropin_dir"],
        dropin_name=params["dropin_name"],
        placement=params["placement"],
        comment_out_conflicts=params["comment_out_conflicts"],
        sshd_binary=params["sshd_binary"],
        check_mode=module.check_mode,
        check_only=params["check_only"],
    )
    for item in result["match_overrides"]:
        module.warn(
            "%s line %d sets %s %s inside 'Match %s': connections matching it do not get the managed value"
            % (item["file"], item["line"], item["keyword"], item["value"], item["match"])
        )
    for item in result["unsupported"]:
        module.warn("%s left unmanaged: %s (this sshd is %s)" % (item["keyword"], item["reason"], result["version"]))
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
