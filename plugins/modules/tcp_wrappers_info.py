#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tcp_wrappers_info
short_description: Say whether TCP wrappers (hosts.allow, hosts.deny) let a client reach sshd
version_added: 0.1.0
description:
  - Says whether TCP wrappers apply at all (RV(applies)) by checking whether libwrap is linked into the binary that
    makes the check, C(sshd-session) from OpenSSH 9.8 (Debian 13), else C(sshd) (C(readelf -d), else C(ldd), else a
    scan of the binary's dynamic strings). Debian and Ubuntu patch libwrap in; upstream, Fedora and RHEL 8+ do not.
  - Parses C(/etc/hosts.allow) and C(/etc/hosts.deny) (daemon lists, C(ALL), C(LOCAL), C(KNOWN), C(UNKNOWN),
    C(PARANOID), C(.domain), C(prefix.), C(net/mask), CIDR, C([ipv6]/len), wildcards, C(EXCEPT) nested,
    C(user@host), C(daemon@host), C(/file) patterns, the hosts_options C(allow), C(deny) and C(twist) options,
    continuation lines, comments).
  - Evaluates hosts_access(5)'s order for daemon C(sshd) and each client address. The first matching rule of
    hosts.allow grants, then the first of hosts.deny denies, else access is granted. Each decision names the file,
    line and rule that made it.
  - The evaluator follows Debian's libwrap as measured against real sshd 8.4, 9.2 and 10.0, including its quirks
    (a C(/255.255.255.255) mask and C(/0) never match; C(#) is a comment only in column 0; a last line without a
    newline still applies; the daemon name is C(sshd) for sshd-session too).
author:
  - sshdoctor.connreset contributors (@sshdoctor)
extends_documentation_fragment:
  - sshdoctor.connreset.attributes
  - sshdoctor.connreset.attributes.info_module
  - sshdoctor.connreset.attributes.collector_notes
options:
  client_addresses:
    description:
      - IPv4 or IPv6 addresses of clients to evaluate (at most 32).
      - By default, the address this module's own SSH connection comes from (C(SSH_CONNECTION), else C(SSH_CLIENT)
        in the module's environment). C(become) with C(sudo) usually clears those variables, and local or container
        connections have none; then no decision is made unless addresses are given, and RV(notes) says so.
    type: list
    elements: str
  resolve_hostnames:
    description:
      - Look up a client's host name (C(getent hosts), then C(getent ahosts) to check it maps back, as libwrap's
        C(PARANOID) check does) when, and only when, a rule needs it (C(.domain), C(KNOWN), C(LOCAL), host names).
      - With C(false), such rules are evaluated as if the client had no name, and the decision is marked
        RV(decisions[].uncertain).
    type: bool
    default: true
notes:
  - Denied clients see the connection closed or reset during the banner exchange (OpenSSH clients print
    C(kex_exchange_identification) errors, after a few seconds' wait), and sshd logs C(refused connect from ADDR).
seealso:
  - module: sshdoctor.connreset.sshd_journal_info
  - module: sshdoctor.connreset.firewall_info
"""

EXAMPLES = r"""
- name: Would TCP wrappers refuse these clients?
  sshdoctor.connreset.tcp_wrappers_info:
    client_addresses:
      - 10.88.0.9
      - 2001:db8::7
  register: wrappers

- name: Say which rule refuses a client
  ansible.builtin.debug:
    msg: "{{ item.client }} is refused by {{ item.file }} line {{ item.line }}: {{ item.rule }}"
  loop: "{{ wrappers.decisions | rejectattr('allowed') | list }}"
  when: wrappers.applies
"""

RETURN = r"""
applies:
  description: True when sshd (or sshd-session) links libwrap, so hosts.allow and hosts.deny are honoured; false when
    it does not (or sshd is not installed); null when it could not be told.
  returned: always
  type: bool
  sample: true
daemon:
  description: The daemon name libwrap matches against (always C(sshd), also for sshd-session).
  returned: always
  type: str
  sample: sshd
checked_binary:
  description: The binary whose linkage decides RV(applies).
  returned: always
  type: str
  sample: /usr/lib/openssh/sshd-session
libwrap:
  description:
    - Per binary looked at, C(linked) (bool or null) and C(method), which is V(readelf) (C(readelf -d), when binutils is
      installed), else V(ldd), else V(elf_strings) (the file's dynamic string table names C(libwrap.so) and imports
      C(hosts_access)); null when none worked. The same check as P(sshdoctor.connreset.sshd_info#module)'s
      RV(sshdoctor.connreset.sshd_info#module:tcp_wrappers).
  returned: always
  type: dict
  sample: {"/usr/sbin/sshd": {"linked": false, "method": "ldd"},
           "/usr/lib/openssh/sshd-session": {"linked": true, "method": "ldd"}}
files:
  description:
    - Per file (C(/etc/hosts.allow), C(/etc/hosts.deny)) C(exists), C(readable), C(lines) (physical lines),
      C(rule_count), C(sshd_rule_count) (rules whose daemon list selects sshd), C(warnings) (C(line) and C(message)
      of lines libwrap ignores or warns about), C(truncated), and C(rules) (at most 100 per file).
    - Each rule has C(line) and C(last_line) (continuation lines), C(text), C(daemons), C(clients), C(options) (the
      third field or null) and C(applies_to_sshd).
  returned: always
  type: dict
  sample:
    /etc/hosts.allow: {"exists": true, "readable": true, "lines": 10, "rules": [], "rule_count": 0,
                       "sshd_rule_count": 0, "warnings": [], "truncated": false}
    /etc/hosts.deny: {"exists": true, "readable": true, "lines": 18, "rule_count": 1, "sshd_rule_count": 1,
                      "warnings": [], "truncated": false,
                      "rules": [{"line": 18, "last_line": 18, "text": "sshd: 10.88.0.0/16", "daemons": "sshd",
                                 "clients": "10.88.0.0/16", "options": null, "applies_to_sshd": true}]}
decisions:
  description: One decision per client address, in the order given.
  returned: always
  type: list
  elements: dict
  sample:
    - client: 10.88.0.9
      allowed: false
      action: deny
      file: /etc/hosts.deny
      line: 18
      rule: "sshd: 10.88.0.0/16"
      options: null
      reason: "matched /etc/hosts.deny line 18: access denied"
      uncertain: false
      uncertain_reasons: []
      hostname_needed: []
      hostname: null
      enforced: true
  contains:
    client:
      description: The client address as libwrap sees it.
      type: str
    allowed:
      description: libwrap's verdict. It only matters when RV(applies) is true; see RV(decisions[].enforced).
      type: bool
    action:
      description: C(allow) or C(deny) (the matching file's verdict, or its C(allow) / C(deny) option), C(twist)
        (the rule hands the connection to a shell command, so the client never reaches sshd), C(error) (an options field
        libwrap rejects, which refuses the client), or C(default) (no rule matched).
      type: str
    file:
      description: The file of the matching rule; null when none matched.
      type: str
    line:
      description: The line the matching rule starts on.
      type: int
    rule:
      description: The matching rule (continuation lines joined).
      type: str
    options:
      description: The matching rule's options field.
      type: str
    reason:
      description: One sentence saying why.
      type: str
    uncertain:
      description: True when the verdict depended on something not known here (an ident user name, a NIS netgroup,
        an unreadable file, a host name not looked up, the server address in a C(daemon@host) pattern).
      type: bool
    uncertain_reasons:
      description: What was not known.
      type: list
      elements: str
    hostname_needed:
      description: Addresses whose host name a rule needed.
      type: list
      elements: str
    hostname:
      description: The client's name as looked up (C(unknown), C(paranoid) when it does not map back), or null when
        no rule needed it.
      type: str
    enforced:
      description: Copy of RV(applies).
      type: bool
client_source:
  description: Where the client addresses came from, C(parameter), C(SSH_CONNECTION) or C(SSH_CLIENT); null when
    none were known.
  returned: always
  type: str
  sample: SSH_CONNECTION
server_address:
  description: This host's address from C(SSH_CONNECTION), used for C(daemon@host) patterns; null if unknown.
  returned: always
  type: str
limits:
  description: The caps in force.
  returned: always
  type: dict
  sample: {"max_rules_per_file": 100, "max_clients": 32}
truncated:
  description: True when a file had more rules than are returned.
  returned: always
  type: bool
notes:
  description: What could not be read or known, and why.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sshdoctor.connreset.plugins.module_utils._host import Host
from ansible_collections.sshdoctor.connreset.plugins.module_utils._tcp_wrappers import (
    collect_tcp_wrappers, normalize_client_addresses)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            client_addresses=dict(type="list", elements="str"),
            resolve_hostnames=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    try:
        clients = normalize_client_addresses(module.params["client_addresses"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    result = collect_tcp_wrappers(Host(module), client_addresses=clients,
                                  resolve_hostnames=module.params["resolve_hostnames"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
