#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: bans_info
short_description: Who is banned or rate-limited from SSH here, by which tool, since and until when
version_added: 0.1.0
description:
  - Reads the ban tools and rate limits that cut off SSH clients and joins them with the packet filter, so that a
    banned client's address, the tool, the jail, zone or set, the ban's start and end and the command that lifts it
    can be named.
  - B(fail2ban) - whether it runs; its jails (name, whether they cover sshd, C(maxretry), C(findtime), C(bantime),
    C(ignoreip), actions, failure and ban counts); each jail's banned addresses with start and end
    (C(fail2ban-client get JAIL banip --with-time), all questions asked in one C(fail2ban-client -i) run), and, from
    its database, the log lines that made each ban. When the client is not usable while fail2ban runs, the bans come
    from the database alone. Its log (C(/var/log/fail2ban.log) or the journal) gives C(Found) / C(Ban) / C(Unban)
    counts per address and every C(Failed to execute ban) with the error the ban command printed.
  - B(sshguard) - whether it runs, its configuration (backend, threshold, block time), its whitelist, its blocks as the
    packet filter holds them (its nft sets C(attackers), its iptables chain or ipsets) with start and end from its
    C(Blocking "A/32" for N secs) lines in the journal.
  - B(ufw) - whether it is enabled, the default incoming policy, the rules it keeps in C(/etc/ufw/user.rules) and
    C(user6.rules) (C(limit) rules with their C(--hitcount) and C(--seconds), deny and reject rules), whether its chains
    are in the packet filter, and the per-source lists of its limit rules (C(/proc/net/xt_recent)). C(ufw status) is
    not called.
  - B(firewalld) - whether it runs, the default zone, the zones in use with their interfaces, sources, services,
    ports and rich rules, and whether ssh is allowed in each; from C(firewall-cmd --list-all-zones) when firewalld runs,
    from C(/etc/firewalld/zones) (and the shipped zones) otherwise.
  - The packet filter comes from the same reader as M(sshdoctor.connreset.firewall_info) (rules, nft sets, ipsets);
    a ban counts as RV(banned[].enforced) only when a rule that touches SSH really applies it.
  - For each of O(clients), RV(clients) lists what applies to it - its bans, the set members and rules that block it,
    the rate limits that count it - each with the exact command for that address.
author:
  - sshdoctor.connreset contributors (@sshdoctor)
extends_documentation_fragment:
  - sshdoctor.connreset.attributes
  - sshdoctor.connreset.attributes.info_module
  - sshdoctor.connreset.attributes.collector_notes
options:
  clients:
    description:
      - Client addresses or networks to evaluate (C(198.51.100.7), C(203.0.113.0/24), C(2001:db8::/32)); at most 16.
      - By default the address this module's own SSH connection comes from (C(SSH_CONNECTION)), when it is visible.
    type: list
    elements: str
  ports:
    description: The TCP ports sshd listens on. M(sshdoctor.connreset.ssh_evidence) passes the ports C(sshd -T) reports.
    type: list
    elements: int
    default: [22]
notes:
  - Reading bans needs root (become); without it fail2ban's socket, its database, the packet filter and ufw's rule
    files are closed, and RV(notes) says so.
  - Times the tools print in the host's local time are converted with this host's time zone; every time returned is
    UTC (ISO 8601 with an offset, and seconds since the epoch).
  - Whether a client is over a ufw limit B(now) cannot be told from C(/proc/net/xt_recent) alone (its times are
    kernel ticks); RV(clients) says how many of the client's new-connection packets the list holds and how many the
    limit refused (ufw stamps a refused packet twice), and a C(rate_limit) entry is C(REJECT) only when some were.
seealso:
  - module: sshdoctor.connreset.firewall_info
  - module: sshdoctor.connreset.ssh_evidence
"""

EXAMPLES = r"""
- name: Is the CI runner banned anywhere?
  sshdoctor.connreset.bans_info:
    clients: [198.51.100.7]
  become: true
  register: bans

- name: How to lift it
  ansible.builtin.debug:
    msg: "{{ bans.clients['198.51.100.7'] | map(attribute='unban') | select | list }}"

- name: Every address fail2ban holds, with the end of its ban
  ansible.builtin.debug:
    msg: "{{ bans.banned | selectattr('tool', 'equalto', 'fail2ban') | map(attribute='until') | list }}"
"""

RETURN = r"""
tools:
  description: What each tool is and says. Every tool has C(installed) and C(service) (its systemd unit's C(unit),
    C(loaded), C(active_state), C(sub_state), C(unit_file_state), C(main_pid)).
  returned: always
  type: dict
  contains:
    fail2ban:
      description:
        - C(running), C(source) (C(fail2ban-client) or C(database)), C(version), C(logtarget), C(dbfile),
          C(database_bans) (bans in the database that have not run out), C(jails_total) and C(jails) (at most 20).
        - Each jail has C(name), C(covers_sshd), C(maxretry), C(findtime), C(bantime) (seconds), C(ignoreip),
          C(actions), C(journal_matches) or C(files), C(currently_failed), C(total_failed), C(currently_banned),
          C(total_banned) and C(banned) (at most 20, plus those matching a client), each with C(address), C(since),
          C(until), C(since_epoch), C(until_epoch), C(bantime), C(enforced), C(failures) and C(matches) (the newest
          log lines that made the ban, from the database).
        - C(log) summarises its log (C(source), C(lines), C(counts) per line kind, C(addresses) - per address and
          jail the C(found), C(bans), C(unbans), C(failed_bans) counts and times); C(failed_bans) lists the newest
          ten failed bans with the error the ban command printed.
      type: dict
      sample:
        installed: true
        running: true
        source: fail2ban-client
        version: 1.0.2
        jails:
          - name: sshd
            covers_sshd: true
            maxretry: 3
            findtime: 600
            bantime: 3600
            ignoreip: ["127.0.0.0/8", "::1"]
            actions: [iptables-multiport]
            banned:
              - {"address": "198.51.100.7", "since": "2026-12-02T10:04:10+00:00", "until": "2026-12-02T11:04:10+00:00",
                 "enforced": true, "failures": 3,
                 "matches": ["2026-12-02T10:04:10.280667+00:00 web1 sshd[97]: Invalid user ci from 198.51.100.7 port 37690"]}
    sshguard:
      description: C(running), C(backend), C(threshold), C(block_time), C(detection_time), C(whitelist_file),
        C(whitelist) (at most 50 entries), C(blocked) (C(address), C(where), C(since), C(until), C(attacks),
        C(enforced), C(unban)) and C(log) (as for fail2ban, from the journal).
      type: dict
    ufw:
      description: C(enabled) (C(ENABLED) in C(/etc/ufw/ufw.conf)), C(active) (its chains are in the packet filter),
        C(default_input_policy), C(rules) (at most 50; C(action), C(proto), C(dport), C(src), C(dst), C(direction),
        C(ipv6), C(tuple), C(hitcount), C(seconds), C(affects_ssh), C(command) - the ufw arguments of the rule),
        C(rules_total), C(limits) (the C(limit) rules on the ssh port) and C(recent) (per list name, C(total) and
        C(entries) - C(address), C(packets) (how many of its newest new-connection packets the list holds),
        C(refused) (how many of them the limit refused), C(last_seen_jiffies)).
      type: dict
    firewalld:
      description: C(running), C(source) (C(firewall-cmd) or C(files)), C(backend), C(default_zone), C(zones_total)
        and C(zones) (those active, the default one and those with sources; at most 20) with C(name), C(default),
        C(active), C(target), C(interfaces), C(sources), C(services), C(ports), C(ssh_allowed) and C(rich_rules)
        (C(text), C(family), C(source), C(source_negated), C(service), C(port), C(protocol), C(action), C(limit),
        C(affects_ssh)).
      type: dict
banned:
  description:
    - Every ban found (at most 20, the newest first, plus every one that matches a client, which come first).
    - fail2ban bans, sshguard blocks, ufw deny/reject rules with a source, firewalld rich rules that reject or drop a
      source and sources of a DROP/REJECT zone, and the members of any other set a rule matches the source against to
      reject or drop SSH.
  returned: always
  type: list
  elements: dict
  sample:
    - {"tool": "fail2ban", "where": "jail sshd", "address": "198.51.100.7", "since": "2026-12-02T10:04:10+00:00",
       "until": "2026-12-02T11:04:10+00:00", "since_epoch": 1796205850, "until_epoch": 1796209450, "enforced": true,
       "unban": "fail2ban-client set sshd unbanip 198.51.100.7"}
    - {"tool": "nft", "where": "set blocked4 of table inet filter", "address": "203.0.113.0/24", "since": null,
       "until": "2026-12-02T11:56:30+00:00", "since_epoch": null, "until_epoch": 1796212590, "enforced": true,
       "unban": "nft delete element inet filter blocked4 { 203.0.113.0/24 }"}
  contains:
    tool:
      description: C(fail2ban), C(sshguard), C(ufw), C(firewalld), C(nft) or C(ipset).
      type: str
    where:
      description: The jail, set, zone or rule (C(jail sshd), C(set addr-set-sshd of table inet f2b-table),
        C(zone public), C(ipset blocklist)).
      type: str
    address:
      description: The banned address or network.
      type: str
    since:
      description: When the ban began (UTC), when known.
      type: str
    until:
      description: When it ends (UTC); null for a ban without an end or where the end is unknown.
      type: str
    since_epoch:
      description: RV(banned[].since) in seconds since the epoch.
      type: int
    until_epoch:
      description: RV(banned[].until) in seconds since the epoch.
      type: int
    enforced:
      description: True when a rule that touches SSH applies the ban; false when the tool lists it but nothing in the
        packet filter blocks it (a failing ban action, a stopped tool); null when the packet filter could not be read.
      type: bool
    unban:
      description: The exact command that lifts this ban.
      type: str
banned_total:
  description: How many bans were found (RV(banned) may hold fewer).
  returned: always
  type: int
  sample: 3
clients:
  description:
    - Per client spec, everything that applies to it (at most 50 entries) - C(kind) C(ban) (an entry of
      RV(banned)), C(set_member) (a member of a set that a REJECT/DROP rule touching SSH matches the source against),
      C(rule) (a REJECT/DROP rule touching SSH whose source covers the client, or a firewalld zone that handles the
      client and does not allow ssh) or C(rate_limit) (a ufw limit rule whose list holds the client - C(verdict)
      C(REJECT) when the list shows refused packets, else C(counted) -, a firewalld rich rule that limits it -
      C(limit 3/m), or C(counted) when the zone allows ssh anyway and the limit refuses nothing).
    - Each entry has C(kind), C(tool), C(where), C(element), C(rule), C(verdict), C(since_epoch), C(until_epoch) and
      C(unban) (the command for this client, or null).
  returned: always
  type: dict
  sample:
    "198.51.100.7":
      - {"kind": "ban", "tool": "fail2ban", "where": "jail sshd", "element": "198.51.100.7", "rule": null,
         "verdict": "enforced", "since_epoch": 1796205850, "until_epoch": 1796209450,
         "unban": "fail2ban-client set sshd unbanip 198.51.100.7"}
      - {"kind": "rule", "tool": "fail2ban", "where": "chain f2b-sshd of table ip filter", "element": "198.51.100.7/32",
         "rule": "-A f2b-sshd -s 198.51.100.7/32 -j REJECT --reject-with icmp-port-unreachable", "verdict": "REJECT",
         "since_epoch": null, "until_epoch": null,
         "unban": "iptables -D f2b-sshd -s 198.51.100.7/32 -j REJECT --reject-with icmp-port-unreachable"}
clients_source:
  description: Where the client specs came from, C(parameter) or C(ssh_connection); null when there were none.
  returned: always
  type: str
  sample: parameter
limits:
  description: The caps in force.
  returned: always
  type: dict
  sample: {"max_banned": 20, "max_jails": 20, "max_client_entries": 50, "max_clients": 16}
truncated:
  description: True when more bans were found than RV(banned) holds.
  returned: always
  type: bool
notes:
  description: What could not be read and why, and what is worth knowing (a ban action that fails, a jail listing an
    address nothing blocks, a tool enabled but not running, a zone that does not allow ssh).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sshdoctor.connreset.plugins.module_utils._bans import collect_bans, parse_client_specs
from ansible_collections.sshdoctor.connreset.plugins.module_utils._firewall import normalize_ports
from ansible_collections.sshdoctor.connreset.plugins.module_utils._host import Host


def main():
    module = AnsibleModule(
        argument_spec=dict(
            clients=dict(type="list", elements="str"),
            ports=dict(type="list", elements="int", default=[22]),
        ),
        supports_check_mode=True,
    )
    try:
        clients = parse_client_specs(module.params["clients"])
        ports = normalize_ports(module.params["ports"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **collect_bans(Host(module), clients=clients, ports=ports))


if __name__ == "__main__":
    main()
