#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sshd_info
short_description: Report how the OpenSSH server on a host is installed, run and configured
version_added: 0.1.0
description:
  - Reports whether the OpenSSH server is installed and which version, the name of its service unit
    (V(ssh) on Debian and Ubuntu, V(sshd) on the RHEL family) and whether it is socket-activated.
  - Reports the unit's state from C(systemctl show) (ActiveState, SubState, Result, NRestarts, ExecMainStatus,
    ActiveEnterTimestamp, MainPID); without systemd, what the process table says.
  - Runs C(sshd -t) and parses each error into file, line and message.
  - Runs C(sshd -T) for the effective value of every keyword, and makes the values that matter for dropped
    connections easy to reach under RV(settings) (ClientAliveInterval, ClientAliveCountMax, MaxStartups split into
    start, rate and full, MaxSessions, TCPKeepAlive, LoginGraceTime, PerSourcePenalties, LogLevel, Port, ListenAddress).
  - Reads C(sshd_config) and every file it includes, in the order sshd reads them, and tells for those keywords
    which file and line supplies the winning value and which lines it overrides (RV(provenance)). Each keyword
    follows sshd's own rule, measured on OpenSSH 8.4, 9.2 and 10.0, most keep the first value read, but
    C(MaxStartups) keeps the last one, and C(PerSourceMaxStartups) the last one before 10.0 and the first one from
    10.0 on. Lines inside a C(Match) block only apply to matching connections; they are listed apart.
  - Tells whether sshd honours TCP wrappers at all (libwrap linked into C(sshd), or into C(sshd-session) on
    OpenSSH 9.8 and later), which sockets sshd listens on, and how many connections are now before
    authentication, next to MaxStartups' start value.
  - Changes nothing on the host.
author:
  - sshdoctor.connreset contributors (@sshdoctor)
extends_documentation_fragment:
  - sshdoctor.connreset.attributes
  - sshdoctor.connreset.attributes.info_module
  - sshdoctor.connreset.attributes.collector_notes
options:
  config_path:
    description:
      - The sshd configuration file to read and to hand to sshd as C(sshd -f).
      - When not set, sshd's compiled-in default is used for C(sshd -t) and C(sshd -T), and
        C(/etc/ssh/sshd_config) is read for RV(provenance).
      - Must be an absolute path.
    type: path
  sshd_path:
    description:
      - The sshd binary.
      - When not set, C(/usr/sbin/sshd), C(/usr/local/sbin/sshd), C(/sbin/sshd) and then the E(PATH) are tried.
      - Must be an absolute path.
    type: path
  match:
    description:
      - Connection criteria for C(sshd -T -C), to see what a connection matching them gets
        (C(Match) blocks applied). The result goes to RV(match); RV(effective) and RV(settings) stay global.
      - Values must not contain spaces, commas or C(=).
    type: dict
    suboptions:
      user:
        description: The user name the client logs in as.
        type: str
      host:
        description: The client's host name.
        type: str
      addr:
        description: The client's IP address.
        type: str
      laddr:
        description: The local IP address the client connected to.
        type: str
      lport:
        description: The local port the client connected to.
        type: int
      rdomain:
        description: The routing domain the connection arrived in.
        type: str
notes:
  - C(sshd -t) and C(sshd -T) need root to read the host keys. Without root, RV(config_valid) is V(null) unless
    errors with a file and line were found, and RV(effective) and RV(settings) come from reading the
    configuration files themselves (RV(effective_source) is V(config_files)); RV(notes) says so.
  - The version is sshd's own (C(sshd -V)); OpenSSH 9.2's C(sshd -V) omits the portable suffix, so C(ssh -V) or
    the package version completes it when the release matches. RV(version_source) says which one was used.
seealso:
  - name: sshd_config(5)
    description: The OpenSSH server configuration manual.
    link: https://man.openbsd.org/sshd_config
"""

EXAMPLES = r"""
- name: Report the OpenSSH server
  sshdoctor.connreset.sshd_info:
  become: true
  register: sshd

- name: Show where ClientAliveInterval comes from
  ansible.builtin.debug:
    msg: >-
      ClientAliveInterval {{ sshd.settings.client_alive_interval }} from
      {{ sshd.provenance.ClientAliveInterval.file }}:{{ sshd.provenance.ClientAliveInterval.line }}

- name: Fail when MaxStartups is nearly exhausted
  ansible.builtin.assert:
    that: sshd.preauth_processes < sshd.settings.max_startups.start
    fail_msg: "{{ sshd.preauth_processes }} connections before authentication, MaxStartups starts at
      {{ sshd.settings.max_startups.start }}"

- name: What does user bob get from 10.0.0.5 (Match blocks applied)
  sshdoctor.connreset.sshd_info:
    match:
      user: bob
      host: client.example.com
      addr: 10.0.0.5
  become: true
  register: sshd_bob

- name: Check an alternative configuration file
  sshdoctor.connreset.sshd_info:
    config_path: /etc/ssh/sshd_config.new
  become: true
"""

RETURN = r"""
installed:
  description: Whether the OpenSSH server binary (sshd) was found.
  returned: always
  type: bool
  sample: true
sshd_path:
  description: The sshd binary that was examined.
  returned: always
  type: str
  sample: /usr/sbin/sshd
version:
  description: OpenSSH's version, as sshd (or the client or package of the same release) reports it.
  returned: always
  type: str
  sample: 9.2p1
version_info:
  description: The version's major and minor numbers, or V(null).
  returned: always
  type: list
  elements: int
  sample: [9, 2]
version_source:
  description: Where RV(version) came from, V(sshd -V), V(ssh -V) or V(package), or V(null).
  returned: always
  type: str
  sample: ssh -V
package_version:
  description: The openssh-server package version as dpkg or rpm prints it, or V(null).
  returned: always
  type: str
  sample: "1:9.2p1-2+deb12u10"
unit:
  description: The service unit's name without C(.service), V(ssh) or V(sshd); V(null) without systemd or unit.
  returned: always
  type: str
  sample: ssh
socket_activated:
  description: Whether C(ssh.socket) (or C(sshd.socket)) is active or enabled, so that systemd owns the listening socket.
  returned: always
  type: bool
  sample: false
socket:
  description: The socket unit's state, or V(null) when there is no such unit.
  returned: always
  type: dict
  contains:
    unit_id:
      description: The socket unit.
      type: str
      sample: ssh.socket
    active_state:
      description: Its ActiveState.
      type: str
      sample: inactive
    sub_state:
      description: Its SubState.
      type: str
      sample: dead
    unit_file_state:
      description: Its UnitFileState.
      type: str
      sample: disabled
    listen:
      description: Its Listen property.
      type: str
      sample: "[::]:22 (Stream)"
    accept:
      description: Its Accept property (V(yes) starts one sshd per connection).
      type: str
      sample: "no"
service:
  description:
    - The service's state. With systemd, from C(systemctl show); otherwise from the process table, where only
      RV(service.active_state), RV(service.sub_state) and RV(service.main_pid) are known.
    - Properties systemd prints empty (a timestamp that never happened, MainPID 0) are V(null).
  returned: always
  type: dict
  contains:
    source:
      description: V(systemd) or V(process_table).
      type: str
      sample: systemd
    unit_id:
      description: The unit's Id.
      type: str
      sample: ssh.service
    load_state:
      description: LoadState.
      type: str
      sample: loaded
    active_state:
      description: ActiveState (V(active), V(inactive), V(failed), ...).
      type: str
      sample: active
    sub_state:
      description: SubState (V(running), V(dead), V(auto-restart), ...).
      type: str
      sample: running
    result:
      description: Result (V(success), V(exit-code), V(signal), V(oom-kill), V(start-limit-hit), ...).
      type: str
      sample: success
    n_restarts:
      description: NRestarts, how many times systemd restarted the service automatically.
      type: int
      sample: 0
    exec_main_status:
      description: ExecMainStatus, the main process's exit status or the signal that killed it.
      type: int
      sample: 0
    exec_main_code:
      description: How the main process ended (V(exited), V(killed), V(dumped)), V(null) while it runs.
      type: str
      sample: null
    exec_main_pid:
      description: ExecMainPID.
      type: int
      sample: 96
    main_pid:
      description: MainPID, the listener's pid; V(null) when not running.
      type: int
      sample: 96
    active_enter_timestamp:
      description: ActiveEnterTimestamp, when the unit last became active.
      type: str
      sample: Wed 2026-11-25 08:01:46 UTC
    inactive_enter_timestamp:
      description: InactiveEnterTimestamp.
      type: str
      sample: Wed 2026-11-25 08:01:46 UTC
    state_change_timestamp:
      description: StateChangeTimestamp.
      type: str
      sample: Wed 2026-11-25 08:02:24 UTC
    unit_file_state:
      description: UnitFileState (V(enabled), V(disabled), ...).
      type: str
      sample: enabled
    restart:
      description: The Restart= policy.
      type: str
      sample: on-failure
    fragment_path:
      description: The unit file.
      type: str
      sample: /lib/systemd/system/ssh.service
    triggered_by:
      description: Units that trigger this one (a socket unit), or V(null).
      type: list
      elements: str
      sample: null
config_path:
  description: The configuration file read for RV(provenance).
  returned: always
  type: str
  sample: /etc/ssh/sshd_config
config_valid:
  description:
    - V(true) when C(sshd -t) passed, V(false) when it failed, V(null) when it could not tell (not root, or
      sshd not installed).
  returned: always
  type: bool
  sample: true
config_errors:
  description:
    - The errors C(sshd -t) printed. As root, an error without a file and line (for example missing host keys)
      is listed with RV(config_errors[].file) and RV(config_errors[].line) V(null).
  returned: always
  type: list
  elements: dict
  contains:
    file:
      description: The file the error is in.
      type: str
      sample: /etc/ssh/sshd_config.d/10-bad.conf
    line:
      description: The line number.
      type: int
      sample: 2
    message:
      description: sshd's message.
      type: str
      sample: Directive 'MaxStartups' is not allowed within a Match block
config_warnings:
  description: Messages with a file and line that do not make C(sshd -t) fail (C(Deprecated option ...)).
  returned: always
  type: list
  elements: dict
  sample: [{"file": "/etc/ssh/sshd_config", "line": 3, "message": "Deprecated option UsePrivilegeSeparation"}]
config_messages:
  description: Other lines C(sshd -t) printed, as they are.
  returned: always
  type: list
  elements: str
  sample: ["sshd: no hostkeys available -- exiting."]
effective:
  description:
    - Every keyword C(sshd -T) printed, lower case, with its value as a string; keywords that can repeat (port,
      listenaddress, hostkey, acceptenv, subsystem, allowusers, ...) or were printed more than once are lists.
    - Without C(sshd -T) (not root), only the keywords of RV(provenance), from the files or upstream defaults.
  returned: always
  type: dict
  sample: {"port": ["22"], "clientaliveinterval": "0", "maxstartups": "10:30:100", "loglevel": "INFO"}
effective_source:
  description: V(sshd -T), V(config_files), or V(null) when neither could be read.
  returned: always
  type: str
  sample: sshd -T
settings:
  description: The settings the diagnosis reads, typed. A value that could not be read is V(null).
  returned: always
  type: dict
  contains:
    client_alive_interval:
      description: ClientAliveInterval in seconds (V(0) means off).
      type: int
      sample: 0
    client_alive_count_max:
      description: ClientAliveCountMax.
      type: int
      sample: 3
    max_startups:
      description: MaxStartups split into its three numbers; V(null) when unknown.
      type: dict
      sample: {"start": 10, "rate": 30, "full": 100}
      contains:
        start:
          description: Unauthenticated connections before sshd starts dropping new ones.
          type: int
          sample: 10
        rate:
          description: The percentage of new connections dropped once RV(settings.max_startups.start) is reached.
          type: int
          sample: 30
        full:
          description: Unauthenticated connections at which every new one is dropped.
          type: int
          sample: 100
    max_sessions:
      description: MaxSessions.
      type: int
      sample: 10
    tcp_keep_alive:
      description: TCPKeepAlive.
      type: bool
      sample: true
    login_grace_time:
      description: LoginGraceTime in seconds.
      type: int
      sample: 120
    per_source_penalties:
      description: PerSourcePenalties as sshd prints it; V(null) before OpenSSH 9.8, which lacks it.
      type: str
      sample: "crash:90 authfail:5 noauth:1 grace-exceeded:10 max:600 min:15"
    per_source_max_startups:
      description: PerSourceMaxStartups; V(null) when V(none) or unsupported (before 9.0).
      type: int
      sample: null
    log_level:
      description: LogLevel, upper case.
      type: str
      sample: INFO
    port:
      description: The ports sshd listens on.
      type: list
      elements: int
      sample: [22]
    listen_address:
      description: ListenAddress values as sshd prints them.
      type: list
      elements: str
      sample: ["[::]:22", "0.0.0.0:22"]
provenance:
  description:
    - For ClientAliveInterval, ClientAliveCountMax, MaxStartups, PerSourceMaxStartups, PerSourcePenalties,
      MaxSessions, TCPKeepAlive, LoginGraceTime, LogLevel, Port and ListenAddress (the keys, in this spelling),
      where the winning value comes from. Empty when the configuration could not be read.
  returned: always
  type: dict
  contains:
    rule:
      description:
        - V(first) (the first value read wins), V(last) (the last one wins, MaxStartups), V(all) (every line adds a
          value, Port and ListenAddress) or V(per_option_first) (PerSourcePenalties, each sub-option keeps its
          first value).
      type: str
      sample: first
    source:
      description: V(config) when a line outside Match blocks sets it, V(default) when none does.
      type: str
      sample: config
    file:
      description: The file of the winning line (the first line for V(all)); V(null) for V(default).
      type: str
      sample: /etc/ssh/sshd_config.d/00-test.conf
    line:
      description: Its line number.
      type: int
      sample: 1
    value:
      description: The winning value as written (a list of every value for V(all)).
      type: raw
      sample: "0"
    overridden:
      description: Lines outside Match blocks whose value loses to the winner.
      type: list
      elements: dict
      sample: [{"file": "/etc/ssh/sshd_config.d/50-cloud-init.conf", "line": 2, "value": "120"}]
    match_lines:
      description: Lines inside a Match block (with its criteria in C(match)); they apply only to matching connections.
      type: list
      elements: dict
      sample: [{"file": "/etc/ssh/sshd_config", "line": 125, "value": "7", "match": "User bob"}]
    lines:
      description: For V(all) and V(per_option_first), every contributing line.
      type: list
      elements: dict
      sample: [{"file": "/etc/ssh/sshd_config", "line": 14, "value": "22"}]
    truncated:
      description: Whether RV(provenance.overridden) or RV(provenance.match_lines) were cut at the cap given in RV(limits).
      type: bool
      sample: false
  sample:
    ClientAliveInterval:
      rule: first
      source: config
      file: /etc/ssh/sshd_config.d/00-test.conf
      line: 1
      value: "0"
      overridden: [{"file": "/etc/ssh/sshd_config.d/50-cloud-init.conf", "line": 2, "value": "120"}]
      match_lines: [{"file": "/etc/ssh/sshd_config", "line": 125, "value": "7", "match": "User bob"}]
      truncated: false
config_files:
  description: The configuration files read, in the order sshd reads them.
  returned: always
  type: list
  elements: str
  sample: ["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/00-test.conf"]
includes:
  description: Every Include argument, with the pattern as sshd resolves it and the files it matched (lexical order).
  returned: always
  type: list
  elements: dict
  sample: [{"file": "/etc/ssh/sshd_config", "line": 12, "pattern": "/etc/ssh/sshd_config.d/*.conf",
            "matched": ["/etc/ssh/sshd_config.d/00-test.conf"]}]
match:
  description: What a connection matching the O(match) criteria gets from C(sshd -T -C).
  returned: when O(match) is set
  type: dict
  contains:
    criteria:
      description: The C(-C) argument used.
      type: str
      sample: user=bob,host=client.example.com,addr=10.0.0.5
    effective:
      description: Like RV(effective), for that connection (empty when C(sshd -T -C) failed).
      type: dict
    settings:
      description: Like RV(settings), for that connection; V(null) when C(sshd -T -C) failed.
      type: dict
tcp_wrappers:
  description: Whether sshd applies /etc/hosts.allow and /etc/hosts.deny (libwrap linked in).
  returned: always
  type: dict
  contains:
    honoured:
      description:
        - V(true) when libwrap is linked into the binary that handles connections (C(sshd-session) when it exists,
          OpenSSH 9.8 and later, else C(sshd)), V(false) when not, V(null) when it could not be checked.
      type: bool
      sample: true
    binary:
      description: The binary RV(tcp_wrappers.honoured) is about.
      type: str
      sample: /usr/lib/openssh/sshd-session
    linked:
      description: For each binary checked, whether it links libwrap.
      type: dict
      sample: {"/usr/sbin/sshd": false, "/usr/lib/openssh/sshd-session": true}
    method:
      description:
        - How RV(tcp_wrappers.binary) was checked, the same check as P(sshdoctor.connreset.tcp_wrappers_info#module)'s
          RV(sshdoctor.connreset.tcp_wrappers_info#module:libwrap) uses. V(readelf) (C(readelf -d), the DT_NEEDED
          entries, when binutils is installed), else V(ldd), else V(elf_strings) (the file's dynamic string table
          names C(libwrap.so) and imports C(hosts_access)); V(null) when none worked.
      type: str
      sample: ldd
listeners:
  description:
    - The TCP sockets sshd (or, when socket-activated, systemd) listens on. Without root, sockets are matched by
      port only and RV(listeners[].process) is V(null).
  returned: always
  type: list
  elements: dict
  contains:
    address:
      description: The local address (V(0.0.0.0), V(::), V(*), ...).
      type: str
      sample: 0.0.0.0
    port:
      description: The port.
      type: int
      sample: 22
    process:
      description: The owning process's name, or V(null) when not known.
      type: str
      sample: sshd
    pid:
      description: The owning process's pid, or V(null).
      type: int
      sample: 96
listeners_source:
  description: V(ss) or V(/proc/net/tcp).
  returned: always
  type: str
  sample: ss
preauth_processes:
  description:
    - "How many connections are now before authentication, counted from sshd's process titles (one monitor per
      connection, C(sshd: [accepted]) or C(sshd-session: [accepted]), or C(USER [priv]) without a logged-in child).
      Compare it with RV(settings.max_startups.start). V(null) when processes could not be listed."
  returned: always
  type: int
  sample: 0
startups:
  description:
    - "sshd's own count from the listener's title (C(sshd: /usr/sbin/sshd -D [listener] 4 of 20-80 startups)),
      OpenSSH 8.2 and later; V(null) when there is no such title."
  returned: always
  type: dict
  sample: {"current": 4, "start": 20, "full": 80}
limits:
  description: The caps applied to lists in this result.
  returned: always
  type: dict
  sample: {"max_listeners": 256, "max_overridden": 50}
truncated:
  description: Whether the configuration walk stopped at a cap (too many files or lines).
  returned: always
  type: bool
  sample: false
notes:
  description: What could not be read or checked, and why.
  returned: always
  type: list
  elements: str
  sample: ["not running as root: sshd -t / sshd -T need the host keys ..."]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sshdoctor.connreset.plugins.module_utils._host import Host
from ansible_collections.sshdoctor.connreset.plugins.module_utils._sshd import collect_sshd, validate_options


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config_path=dict(type="path"),
            sshd_path=dict(type="path"),
            match=dict(
                type="dict",
                options=dict(
                    user=dict(type="str"),
                    host=dict(type="str"),
                    addr=dict(type="str"),
                    laddr=dict(type="str"),
                    lport=dict(type="int"),
                    rdomain=dict(type="str"),
                ),
            ),
        ),
        supports_check_mode=True,
    )
    params = module.params
    errors = validate_options(params["config_path"], params["sshd_path"], params["match"])
    if errors:
        module.fail_json(msg="; ".join(errors))
    result = collect_sshd(
        Host(module),
        config_path=params["config_path"],
        sshd_path=params["sshd_path"],
        match=params["match"],
    )
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
