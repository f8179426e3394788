#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: firewall_info
short_description: List the packet filter rules that can touch TCP connections to sshd
version_added: 0.1.0
description:
  - Reads the iptables and ip6tables rules of both back ends (C(iptables-nft-save) and C(iptables-legacy-save), or
    C(iptables-save) where only it exists, its back end read from C(iptables-save -V)) and the nftables ruleset
    (C(nft -j list ruleset)). Tables that C(iptables-nft) manages appear in both listings; their rules are reported
    once, from C(iptables-nft-save).
  - Returns the rules that can match TCP traffic to or from the ssh port(s) (protocol, destination or source port,
    and whether a chain is reached from a built-in or base chain through such rules), and every rule of a fail2ban
    (C(f2b-*), C(fail2ban-*), nft C(f2b-table)) or sshguard chain. Each rule has its table, chain, position, text
    and verdict, the C(--reject-with) / C(reject with) type (C(tcp-reset) flagged), and the rate limits it uses
    (C(recent), C(hashlimit), C(limit), C(connlimit); nft C(limit), C(ct count), meters).
  - Also the default policies of built-in and base chains, and conntrack's TCP established timeout and how full its
    table is.
  - Lists every nft set and ipset (C(ipset list)) with its members (intervals, CIDRs, per-element timeouts and the
    time each has left) and the rules that use it, so that a ban kept in a set (fail2ban's C(addr-set-sshd), sshguard's
    C(attackers), an ipset) can be named. M(sshdoctor.connreset.bans_info) says which of them block a given client.
  - Reading never loads a kernel module. C(nft) and C(iptables-nft-save) run only when C(nf_tables) is loaded (or
    built in, or the kernel cannot load modules); C(iptables-legacy-save) only when C(/proc/net/ip_tables_names)
    lists tables, and C(ipset) only when C(ip_set) is loaded or built in. Otherwise there are no such rules or sets
    to find, and RV(sources) says why a reader was skipped.
author:
  - sshdoctor.connreset contributors (@sshdoctor)
extends_documentation_fragment:
  - sshdoctor.connreset.attributes
  - sshdoctor.connreset.attributes.info_module
  - sshdoctor.connreset.attributes.collector_notes
options:
  ports:
    description:
      - The TCP ports sshd listens on. M(sshdoctor.connreset.ssh_evidence) passes the ports C(sshd -T) reports.
    type: list
    elements: int
    default: [22]
  max_rules:
    description: At most this many rules are returned (in the order the readers listed them).
    type: int
    default: 200
  clients:
    description:
      - Client addresses or networks (C(198.51.100.7), C(203.0.113.0/24), C(2001:db8::/32)) whose set memberships
        matter. Members that overlap one of them are listed first in RV(sets[].members).
    type: list
    elements: str
notes:
  - Listing rules needs root (become); without it the readers fail and RV(notes) says so.
  - Whether a rule affects ssh is decided from its own matches (protocol, ports) and from the chains that lead to
    it; addresses, interfaces and connection states are shown in RV(rules[].text) but not evaluated. Rules in
    FORWARD chains (routed traffic) do not count as affecting the local sshd.
  - A rule nft cannot describe (an iptables-nft match printed as C(xt)) is taken to possibly match.
seealso:
  - module: sshdoctor.connreset.ssh_evidence
  - module: sshdoctor.connreset.tcp_wrappers_info
"""

EXAMPLES = r"""
- name: Rules that can reset or drop ssh connections
  sshdoctor.connreset.firewall_info:
    ports: [22, 2222]
  become: true
  register: fw

- name: Show the rules that answer ssh with a TCP reset
  ansible.builtin.debug:
    msg: "{{ fw.rules | selectattr('tcp_reset') | map(attribute='text') | list }}"
"""

RETURN = r"""
ssh_ports:
  description: The ports the rules were checked against.
  returned: always
  type: list
  elements: int
  sample: [22]
sources:
  description:
    - What was read. C(iptables) and C(ip6tables) have C(available) (a save tool is installed), C(backend)
      (C(nf_tables) or C(legacy), what plain C(iptables-save) uses), C(version), C(read) (the back ends whose rules
      were read), C(tools) (the reader per back end) and C(skipped) (back end -> why it was not read).
    - C(nft) has C(available), C(read) and C(version); C(ipset) has C(available), C(read) and C(skipped) (why
      C(ipset list) was not run).
    - C(kernel) has C(modules) (C(loadable), C(none), C(disabled) or C(unknown)), C(nf_tables) (C(loaded),
      C(not loaded), C(built-in) ...) and C(legacy_tables) (C(ip) and C(ip6), the legacy tables in use).
  returned: always
  type: dict
  sample:
    iptables: {"available": true, "backend": "nf_tables", "version": "1.8.9", "read": ["nf_tables", "legacy"],
               "tools": {"nf_tables": "iptables-nft-save", "legacy": "iptables-legacy-save"}}
    ip6tables: {"available": true, "backend": "nf_tables", "version": "1.8.9", "read": ["nf_tables"],
                "tools": {"nf_tables": "ip6tables-nft-save", "legacy": "ip6tables-legacy-save"},
                "skipped": {"legacy": "no legacy ip6tables tables are in use (/proc/net/ip6_tables_names is empty)"}}
    nft: {"available": true, "read": true, "version": "1.0.6"}
    kernel: {"modules": "loadable", "nf_tables": "loaded", "legacy_tables": {"ip": ["filter"], "ip6": []}}
rules:
  description:
    - The rules that can touch TCP traffic to the ssh ports (RV(rules[].affects_ssh)), plus every fail2ban or
      sshguard rule even when nothing leads to it. At most O(max_rules).
  returned: always
  type: list
  elements: dict
  sample:
    - source: iptables
      backend: nf_tables
      family: ip
      table: filter
      chain: INPUT
      position: 2
      text: "-A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset"
      verdict: REJECT
      jump_target: null
      reject_with: tcp-reset
      tcp_reset: true
      rate_limit: []
      fail2ban: false
      sshguard: false
      affects_ssh: true
      proto: tcp
      dport: "22"
      sport: null
      src: 198.51.100.0/24
      dst: null
  contains:
    source:
      description: C(iptables), C(ip6tables) or C(nft).
      type: str
    backend:
      description: C(nf_tables) or C(legacy) (nft rules are always C(nf_tables)).
      type: str
    family:
      description: C(ip), C(ip6) (iptables, ip6tables) or the nft family (C(ip), C(ip6), C(inet), C(arp), C(bridge),
        C(netdev)).
      type: str
    table:
      description: The table.
      type: str
    chain:
      description: The chain.
      type: str
    position:
      description: 1-based position of the rule in its chain.
      type: int
    text:
      description: The rule as C(iptables-save) printed it, or an nft-syntax rendering of the nft JSON (counters left
        out); at most 400 characters.
      type: str
    verdict:
      description:
        - What the rule does when it matches. The target or statement upper-cased (C(ACCEPT), C(DROP), C(REJECT),
          C(RETURN), C(LOG), C(QUEUE), C(DNAT), C(TARPIT) ...), C(JUMP) or C(GOTO) into a user chain (see
          RV(rules[].jump_target)), C(VMAP) (nft verdict map), or C(NONE) for a rule with no target (for example
          C(-m recent --set)).
        - Rate limits are not a verdict; see RV(rules[].rate_limit). A C(DROP) with a rate limit drops what is over
          (or under) the limit.
      type: str
    jump_target:
      description: The chain a C(JUMP) or C(GOTO) enters.
      type: str
    reject_with:
      description: For C(REJECT), how (C(tcp-reset), C(icmp-port-unreachable), nft C(tcp reset), C(icmpx
        admin-prohibited) ...), the default where the rule does not say; null otherwise, and for an iptables-nft
        C(xt) REJECT nft cannot describe.
      type: str
    tcp_reset:
      description: True when the rule rejects with a TCP reset (the client sees "Connection reset by peer").
      type: bool
    rate_limit:
      description: The rate-limiting matches the rule uses, from C(recent), C(hashlimit), C(limit), C(connlimit).
      type: list
      elements: str
    fail2ban:
      description: True for a rule in or jumping to a fail2ban chain (C(f2b-*), C(fail2ban-*)), in nft table
        C(f2b-table), or matching a fail2ban set.
      type: bool
    sshguard:
      description: True for a rule in or jumping to an sshguard chain or table.
      type: bool
    affects_ssh:
      description: True when the rule can match a packet of a TCP connection to the ssh ports and a packet can reach
        its chain that way.
      type: bool
    proto:
      description: The protocol match (C(tcp), C(udp), C(6) ...) or null for any.
      type: str
    dport:
      description: The destination port match as written (C(22), C(20:30), C({ 22, 2222 })), prefixed C(!) when
        negated; null for any.
      type: str
    sport:
      description: The source port match, like RV(rules[].dport).
      type: str
    src:
      description: The source address match, if any.
      type: str
    dst:
      description: The destination address match, if any.
      type: str
    unknown_matches:
      description: Present and true when the rule has matches nft could not describe (iptables-nft C(xt)).
      type: bool
    src_sets:
      description: Present when the rule matches the source address against named sets (nft C(ip saddr @NAME),
        iptables C(-m set --match-set NAME src)); their names.
      type: list
      elements: str
sets:
  description:
    - Every nft set and ipset, those a rule touching ssh uses first; at most 50.
  returned: always
  type: list
  elements: dict
  sample:
    - source: nft
      family: inet
      table: f2b-table
      name: addr-set-sshd
      type: ipv4_addr
      flags: []
      members_total: 1
      members: [{"element": "198.51.100.7", "expires_s": null, "timeout_s": null}]
      referenced_by: ["tcp dport 22 ip saddr @addr-set-sshd reject with icmp port-unreachable"]
      affects_ssh: true
    - source: ipset
      family: ip
      table: null
      name: blocklist
      type: "hash:net"
      flags: [timeout]
      members_total: 2
      members: [{"element": "203.0.113.0/24", "expires_s": 7199, "timeout_s": null}]
      referenced_by: ["-A INPUT -p tcp -m tcp --dport 22 -m set --match-set blocklist src -j REJECT --reject-with tcp-reset"]
      affects_ssh: true
  contains:
    source:
      description: C(nft) or C(ipset).
      type: str
    family:
      description: The nft family, or C(ip) / C(ip6) for an ipset of family C(inet) / C(inet6).
      type: str
    table:
      description: The nft table; null for an ipset.
      type: str
    name:
      description: The set's name.
      type: str
    type:
      description: The element type (nft C(ipv4_addr), C(ipv4_addr . inet_service) ...; ipset C(hash:net) ...).
      type: str
    flags:
      description: The set's flags (nft C(interval), C(timeout) ...; ipset C(timeout), C(counters), C(comment)).
      type: list
      elements: str
    members_total:
      description: How many members the set has (exact, also where RV(sets[].members) is cut).
      type: int
    members:
      description:
        - At most 20 members; those that overlap a requested client (O(clients)) first.
        - C(element) is an address, a CIDR (C(10.0.0.0/24)), a range (C(10.0.0.1-10.0.0.9)) or a concatenation
          (C(10.0.0.1 . 22)); C(expires_s) the seconds it has left (null without a timeout); C(timeout_s) its own
          timeout (nft only; ipset does not show it).
      type: list
      elements: dict
    referenced_by:
      description: The text of up to three rules that use the set (nft C(@NAME) in its table, iptables
        C(--match-set NAME)).
      type: list
      elements: str
    affects_ssh:
      description: True when a rule that uses the set can touch TCP connections to the ssh ports.
      type: bool
policies:
  description: The default policy of every built-in iptables chain and nft base chain.
  returned: always
  type: list
  elements: dict
  sample:
    - {"source": "iptables", "backend": "nf_tables", "family": "ip", "table": "filter", "chain": "FORWARD",
       "policy": "DROP", "hook": "forward", "affects_ssh": false}
    - {"source": "nft", "backend": "nf_tables", "family": "inet", "table": "h3test", "chain": "guard",
       "policy": "DROP", "hook": "input", "priority": 10, "affects_ssh": true}
  contains:
    source:
      description: C(iptables), C(ip6tables) or C(nft).
      type: str
    policy:
      description: C(ACCEPT) or C(DROP).
      type: str
    hook:
      description: The netfilter hook (for iptables, the built-in chain's name in lower case).
      type: str
    affects_ssh:
      description: True for hooks that traffic to or from the local sshd passes (input, output, prerouting,
        postrouting, ingress, egress).
      type: bool
conntrack:
  description: Connection tracking figures from C(/proc/sys/net/netfilter); nulls when conntrack is not loaded.
  returned: always
  type: dict
  sample: {"available": true, "tcp_timeout_established": 432000, "tcp_loose": 1, "count": 12, "max": 262144,
           "usage_pct": 0.0}
  contains:
    tcp_timeout_established:
      description: Seconds an idle established TCP connection stays tracked; past it, the next packet is INVALID.
      type: int
    tcp_loose:
      description: C(nf_conntrack_tcp_loose); with 0, packets of connections conntrack lost are INVALID.
      type: int
    count:
      description: Connections tracked now.
      type: int
    max:
      description: The table size; when full, new connections are dropped.
      type: int
    usage_pct:
      description: RV(conntrack.count) as a percentage of RV(conntrack.max).
      type: float
summary:
  description: Counts over the rules that affect ssh, and the DROP policies on hooks ssh traffic passes.
  returned: always
  type: dict
  sample: {"drop_rules": 6, "reject_rules": 7, "tcp_reset_rules": 4, "rate_limited_rules": 6, "fail2ban": true,
           "sshguard": false, "drop_policies": ["nft inet h3test/guard"]}
counts:
  description: C(rules_total) (all rules read, after deduplication), C(rules_affecting_ssh), C(rules_returned) and
    C(deduplicated_nft_rules) (nft rules left out because iptables-nft-save reported them).
  returned: always
  type: dict
  sample: {"rules_total": 25, "rules_affecting_ssh": 18, "rules_returned": 18, "deduplicated_nft_rules": 19}
tool_warnings:
  description: Warnings the save tools printed as comments (for example that legacy tables are present too). Not
    Ansible warnings.
  returned: always
  type: list
  elements: str
limits:
  description: The caps in force.
  returned: always
  type: dict
  sample: {"max_rules": 200, "max_text": 400, "max_sets": 50, "max_set_members": 20}
truncated:
  description: True when more than O(max_rules) rules were relevant, or more than 50 sets exist.
  returned: always
  type: bool
notes:
  description: What could not be read and why (tool missing, not root, module not loaded), and deduplication.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sshdoctor.connreset.plugins.module_utils._firewall import (
    collect_firewall, normalize_ports, parse_client_specs)
from ansible_collections.sshdoctor.connreset.plugins.module_utils._host import Host


def main():
    module = AnsibleModule(
        argument_spec=dict(
            ports=dict(type="list", elements="int", default=[22]),
            max_rules=dict(type="int", default=200),
            clients=dict(type="list", elements="str"),
        ),
        supports_check_mode=True,
    )
    try:
        ports = normalize_ports(module.params["ports"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if module.params["max_rules"] < 0:
        module.fail_json(msg="max_rules must be 0 or more")
    try:
        clients = parse_client_specs(module.params["clients"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    result = collect_firewall(Host(module), ports=ports, max_rules=module.params["max_rules"], clients=clients)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
