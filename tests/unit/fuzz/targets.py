# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every fuzzed function of plugins/module_utils, with what it is fed and what it promises.

A target is one call on host text (``call(text)``), the fixtures its inputs are grown
from, the check of its promise (beyond "never raises"), and the shapes its time bound
is measured on. Targets in files other helpers own are registered too, without
editing those files: ``owner`` names who must make them pass, and until then
``raises`` and ``slow`` say what is known to break, which marks the target as an
expected failure of the never-raise and the time test (see test_fuzz_parsers.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.sshdoctor.connreset.plugins.module_utils import (
    _bans, _client_address, _client_errors, _firewall, _host_health, _journal, _oom, _probe, _signatures, _sshd,
    _sshd_config, _sshd_environment, _sshd_placement, _systemd, _tcp_wrappers)
from ansible_collections.sshdoctor.connreset.plugins.module_utils._untrusted import load_json
from ansible_collections.sshdoctor.connreset.tests.unit.fuzz._fuzz import seeds


class Target:
    def __init__(self, name, call, fixtures, check=None, owner=None, raises=None, slow=None, known=(), shapes=()):
        self.name = name
        self.call = call
        self.fixtures = fixtures
        self.check = check
        self.owner = owner
        self.raises = raises
        self.slow = slow
        # issue 17's own inputs, run every time: known = texts, or (text, why it still fails) for
        # those the owner has not fixed yet; shapes = (prefix, filler, suffix) for the time test
        self.known = known
        self.shapes = shapes

    def texts(self):
        return seeds(*self.fixtures)

    def __repr__(self):
        return self.name


def json_safe(value):
    """What a module returns must serialise as strict JSON (no NaN, no 4,300-digit integer)."""
    json.dumps(value, allow_nan=False)
    return value


def is_list_of_dicts(value):
    assert isinstance(value, list) and all(isinstance(item, dict) for item in value), value
    json_safe(value)


def is_dict(value):
    assert isinstance(value, dict), value
    json_safe(value)


def is_int_or_none(value):
    assert value is None or (isinstance(value, int) and not isinstance(value, bool)), value


def is_number_or_none(value):
    assert value is None or isinstance(value, (int, float)) and not isinstance(value, bool), value
    json_safe(value)


def _hosts_file_and_evaluate(text):
    rules = _tcp_wrappers.parse_hosts_file(text, _tcp_wrappers.HOSTS_DENY)
    decisions = [_tcp_wrappers.evaluate(client, rules["rules"], rules["rules"], hostnames={client: name},
                                        server_addr="10.88.0.1", pattern_files={"/etc/banned": text})
                 for client, name in (("10.88.0.9", "h3client.example.com"), ("2001:db8::1", "unknown"))]
    assert all(d["allowed"] in (True, False) for d in decisions)
    return rules


def _wild(text):
    # the pattern from the text, matched against a name and an address (libwrap's 127 characters at most)
    pattern = text.replace("\n", "")
    return [_tcp_wrappers._wild_match(pattern, name) for name in ("h3client.example.com", "10.88.0.9", text[:127])]


def _masked(text):
    net, dummy, mask = text.strip().partition("/")
    return [_tcp_wrappers.masked_match(net, mask, addr) for addr in ("10.88.0.9", "2001:db8::1")]


def _ps_and_preauth(text):
    processes = _sshd.parse_ps(text)
    count = _sshd.count_preauth(processes)
    assert isinstance(count, int)
    return processes


def _sshd_T_settings(text):
    effective = _sshd_config.parse_sshd_T(text)
    return json_safe(_sshd_config.settings_from_effective(effective))


def _config_walk(text):
    files = {"/etc/ssh/sshd_config": text, "/etc/ssh/sshd_config.d/a.conf": text}
    walk = _sshd_config.walk_config("/etc/ssh/sshd_config", files.get,
                                    lambda pattern: sorted(p for p in files if p.startswith(pattern.split("*")[0])))
    prov = _sshd_config.provenance(walk["entries"], [9, 2])
    json_safe(_sshd_config.effective_from_provenance(prov, walk["entries"]))
    return json_safe(walk)


def _version(text):
    version = _sshd_config.parse_openssh_version(text)
    info = _sshd_config.version_info(version)
    assert info is None or all(isinstance(n, int) for n in info)
    return _sshd_config.parse_package_version(text)


def _systemd_blocks(text):
    blocks = _systemd.parse_show_blocks(text)
    for block in blocks:
        json_safe(_systemd.typed(block))
    _systemd.find_block(blocks, "ssh.service")
    return blocks


def _iptables(text):
    parsed = _firewall.parse_iptables_save(text, "iptables", "nf_tables")
    roots = set((r["source"], r["backend"], r["family"], r["table"], r["chain"]) for r in parsed["rules"])
    rules = _firewall.classify_rules(parsed["rules"], roots, [22])
    json_safe([_firewall.public_rule(r) for r in rules])
    return json_safe(_firewall.summarize(rules, parsed["policies"]))


def _nft(text):
    parsed = _firewall.parse_nft_json(text)
    roots = set(("nft", "nf_tables", k[0], k[1], k[2]) for k, v in parsed["chains"].items() if v.get("hook"))
    rules = _firewall.classify_rules(parsed["rules"], roots, [22])
    return json_safe([_firewall.public_rule(r) for r in rules])


def _utc(text):
    return 0  # the tools' local times, read without the host's zone


def _f2b_client(text):
    _bans.parse_f2b_status(text)
    _bans.parse_f2b_jail_status(text)
    _bans.parse_f2b_value_list(text)
    _bans.parse_f2b_actions(text)
    _bans.split_f2b_batch(text, 3)
    return json_safe(_bans.parse_f2b_banip_with_time(text, _utc))


def _f2b_rows(text):
    # The recorded database rows are JSON; each mutated text is also tried as the data column.
    data, dummy = load_json(text)
    rows = data if isinstance(data, list) else []
    rows = [r for r in rows if isinstance(r, list)][:50] + [["sshd", "192.0.2.1", 1, 600, 1, text]]
    return json_safe(list(_bans.parse_f2b_db_rows(rows, 0).values()))


def _tool_log(text):
    return json_safe(_bans.parse_tool_log(text.splitlines(), _utc))


def _ufw(text):
    json_safe(_bans.parse_xt_recent(text))
    json_safe(_bans.parse_shell_vars(text))
    return json_safe(_bans.parse_ufw_user_rules(text))


def _firewalld(text):
    json_safe(_bans.parse_zone_xml(text, "public"))
    json_safe([_bans.parse_rich_rule(line) for line in text.splitlines()[:200]])
    return json_safe(_bans.parse_firewall_cmd_zones(text))


def _ipset(text):
    return json_safe(_firewall.parse_ipset_list(text, _firewall.client_ranges_of(["10.0.0.0/8"])))


def _small_firewall_files(text):
    _firewall.parse_iptables_version(text)
    _firewall.parse_port_spec(text)
    is_int_or_none(_firewall.parse_int_file(text))
    _firewall.parse_proc_modules(text)
    return _firewall.parse_table_names(text)


def _probe_classify(text):
    data = text.encode("utf-8", "surrogatepass")
    samples = [dict(_probe.classify(data, ended), stage="banner", connect_ms=1.0, address="10.88.0.9")
               for ended in ("banner", "eof", "reset", "timeout", "limit", "error")]
    return json_safe(_probe.summarize(samples))


def _mtr(text):
    hops = _probe.parse_mtr_json(text)
    assert hops is None or isinstance(hops, list)
    return json_safe(hops)


def _journal_lines(text):
    lines = text.splitlines()
    for line in lines[:50]:
        _journal.line_time(line)
        epoch = _journal.line_epoch(line, now=1764669600)
        assert epoch is None or isinstance(epoch, (int, float))
    return json_safe(_journal.summarise_lines(lines))


def _oom_log(text):
    _oom.parse_btime(text)
    return json_safe(_oom.parse_kernel_log(text, boot_time=1764669600))


def _unit_events(text):
    events, matched = _journal.parse_unit_events(text)
    assert isinstance(matched, int) and all(isinstance(e, dict) for e in events)
    return json_safe(list(events))


def _classify_line(text):
    return _signatures.classify(text)


def _journal_clients(text):
    # the streaming summary's per-client tallies and focus (CONTRACTS.md section 2), clients partly from the text
    words = text.split()[:3]
    result = _journal.summarise_lines(text.splitlines(), clients=["10.88.0.9", "2001:db8::/32"] + words, now=1764669600)
    assert isinstance(result.get("focus"), dict)
    return json_safe(result)


def _journal_small(text):
    for line in text.splitlines()[:50]:
        _journal.is_sshd_syslog_line(line)
        _journal.parse_client_spec(line)
    paths = ["/var/log/auth.log" + line.strip() for line in text.splitlines()[:50]]
    assert _journal.rotated_files("/var/log/auth.log", paths)[0] == "/var/log/auth.log"
    events, matched = _journal.parse_unit_event_lines(text.splitlines())
    assert isinstance(matched, int)
    return json_safe(list(events))


def _since(text):
    # the user's argument, not host text: ValueError with a readable message is validate_since's promise
    try:
        since = _journal.validate_since(text)
    except ValueError as error:
        assert str(error).startswith("since: "), error
        return None
    epoch = _journal.since_to_epoch(since, now=1764669600)
    assert epoch is None or isinstance(epoch, (int, float))
    return since


def _catalogue_small(text):
    for line in text.splitlines()[:50]:
        event, fields = _signatures.unit_event(line.partition("]: ")[2] or line)
        assert event is None or isinstance(fields, dict)
        address = _signatures.normalise_address(line.split(" ")[-1])
        assert address is None or isinstance(address, str)
    return _signatures.match(text)


def _oom_small(text):
    lines = text.splitlines()
    for line in lines[:50]:
        stamp, mono, message = _oom.split_stamp(line, boot_time=1764669600)
        assert isinstance(message, str)
        _oom.cgroup_owner(line.partition("task_memcg=")[2].split(",")[0] or line, own="/machine.slice")
    return json_safe(_oom.container_cgroup(text))


def _placement_blocks(text):
    rendered = {"ClientAliveInterval": "60", "MaxStartups": "10:30:100"}
    placed = _sshd_placement.place_block(text, rendered)
    assert _sshd_placement.place_block(placed, rendered) == placed  # idempotent
    _sshd_placement.remove_block(placed)
    lines = text.splitlines()
    if lines:
        _sshd_placement.comment_out(text, len(lines), "/etc/ssh/sshd_config")
    return placed


def _placement_effective(text):
    # what the role does with sshd -T's output (host text): the drift report, where to verify, which key to scan
    effective = _sshd_config.parse_sshd_T(text)
    rendered = {"ClientAliveInterval": "60", "MaxStartups": "10:30:100"}
    json_safe(_sshd_placement.effective_mismatches(rendered, effective))
    json_safe(_sshd_placement.drift_report(rendered, effective, []))
    _sshd_placement.keyscan_type(effective)
    _sshd_placement.listeners(effective)
    endpoint = _sshd_placement.verify_endpoint(effective)
    assert isinstance(endpoint["port"], int)
    return json_safe(endpoint)


def _sshd_t_environment(text):
    result = _sshd_environment.classify_sshd_t(255, text)
    assert result["valid"] in (False, None)
    assert _sshd_environment.classify_sshd_t(0, text)["valid"] is True
    return json_safe(result)


def _glob(text):
    pattern = text.replace("\n", "")[:512]
    return [_sshd_placement.glob_match(pattern, path) for path in ("/etc/ssh/sshd_config.d/50-cloud-init.conf", pattern[:255])]


def _placement(text):
    files = {"/etc/ssh/sshd_config": text, "/etc/ssh/sshd_config.d/a.conf": text}
    plan = _sshd_placement.plan_placement("/etc/ssh/sshd_config", files, {"ClientAliveInterval": "60", "MaxStartups": "10:30:100"})
    _sshd_placement.parse_sshd_t_errors(text)
    _sshd_placement.parse_max_startups(text)
    return json_safe(plan)


HUGE = "9" * 5000
DEEP_LIST = "[" * 1000 + "]" * 1000
BOOT_ID = "0123456789abcdef0123456789abcdef"
JOURNAL = ["debian*/journal_*.txt", "rhel9/secure.txt", "ubuntu2204/auth.log", "debian_sid/openssh10.6_auth_log.txt",
           "transcribed/*.txt", "kernel5/*.txt"]
KERNEL = ["debian*/dmesg_*.txt", "kernel*/*.txt"]
STAMP_OVERFLOW = "[%s.0] Out of memory: Killed process 1 (sshd) total-vm:1kB" % ("9" * 400)

TARGETS = [
    # --- _host_health (hostile owns) ---
    Target("_host_health.parse_uptime", _host_health.parse_uptime, ["debian*/proc_uptime.txt"], is_number_or_none),
    Target("_host_health.parse_loadavg", _host_health.parse_loadavg, ["debian*/proc_loadavg.txt"], is_dict),
    Target("_host_health.parse_meminfo+memory_summary",
           lambda t: _host_health.memory_summary(_host_health.parse_meminfo(t)), ["debian*/proc_meminfo.txt"], is_dict),
    Target("_host_health.parse_pressure", _host_health.parse_pressure, ["debian*/proc_pressure_*.txt"], is_dict),
    Target("_host_health.parse_btime", _host_health.parse_btime, ["debian*/proc_stat.txt"], is_int_or_none),
    Target("_host_health.parse_cpu_list", _host_health.parse_cpu_list, ["debian*/sys_cpu_online.txt"], is_int_or_none),
    Target("_host_health.parse_btime+df -i without Inodes",
           lambda t: (_host_health.parse_btime(t), _host_health.merge_filesystems(
               _host_health.parse_df(t), _host_health.parse_df(t.replace("Inodes", "Blocks")))),
           ["debian*/df_P_i.txt", "debian*/proc_stat.txt"], known=("btime " + HUGE,)),
    Target("_host_health.parse_df+merge_filesystems",
           lambda t: _host_health.merge_filesystems(_host_health.parse_df(t, ["/", "/var"]), _host_health.parse_df(t)),
           ["debian*/df_P_*.txt"], is_list_of_dicts),
    Target("_host_health.parse_list_boots", _host_health.parse_list_boots,
           ["debian*/journalctl_list_boots*.txt", "debian*/journal_list_boots.*", "transcribed/journalctl_list_boots_*.txt"],
           is_list_of_dicts, known=(DEEP_LIST, " %s %s Wed 2026-11-25 08:00:50 UTC Wed 2026-11-25 09:00:00 UTC" % (HUGE, BOOT_ID)),
           shapes=((" 0 %s Wed 2026-11-25 08:00:50 UTC x" % BOOT_ID, " ", "y"),
                   (" 0 %s Wed 2026-11-25 08:00:50 UTC \u2014 x" % BOOT_ID, " ", "y"))),
    Target("_host_health.parse_last_reboots", _host_health.parse_last_reboots, ["debian*/last_x_reboot*.txt"], is_list_of_dicts,
           shapes=(("reboot   system boot  6.1.0 Wed Nov 25 08:00 - x", " ", "y"), ("reboot   system boot  6.1.0 x", " ", "("))),
    Target("_host_health.parse_systemctl_show", _host_health.parse_systemctl_show, ["debian*/systemctl_show_ssh_health.txt"], is_dict),
    # --- _tcp_wrappers ---
    Target("_tcp_wrappers.parse_hosts_file+evaluate", _hosts_file_and_evaluate,
           ["debian*/hosts_*.txt", "debian12/etc/ssh/sshd_config"], is_dict),
    Target("_tcp_wrappers._wild_match", _wild, ["debian*/hosts_deny_default.txt"],
           shapes=(("", "*a", "b"), ("*", "a", "b"), ("*", "a?", "b*"), ("", "?", "*"))),
    Target("_tcp_wrappers.masked_match", _masked, ["debian*/hosts_deny_default.txt"], known=(u"10.0.0.0/\u00b2", "[::]/" + HUGE)),
    Target("_tcp_wrappers.parse_options+options_outcome", _tcp_wrappers.options_outcome, ["debian*/hosts_allow_default.txt"]),
    Target("_tcp_wrappers.parse_ldd", _tcp_wrappers.parse_ldd, ["debian*/ldd_*.txt", "debian*/tcp_wrappers_ldd_*.txt"]),
    Target("_tcp_wrappers.parse_readelf_needed", _tcp_wrappers.parse_readelf_needed, ["debian13/readelf_d_*.txt"]),
    # --- _client_address (the controller's address as the host sees it), _client_errors (what ssh printed) ---
    Target("_client_address.from_environment",
           lambda t: _client_address.from_environment({"SSH_CONNECTION": t, "SSH_CLIENT": t}), ["debian*/ss_listen.txt"],
           owner="incident"),
    Target("_client_address.parse_tcp_sockets",
           lambda t: _client_address.parse_tcp_sockets(t) + _client_address.parse_tcp_sockets(t, ipv6=True),
           ["debian*/proc_net_tcp*.txt"], is_list_of_dicts, owner="incident"),
    Target("_client_address.parse_stat", _client_address.parse_stat, ["debian*/proc_stat.txt"], owner="incident"),
    Target("_client_address.accepted_peer", lambda t: _client_address.accepted_peer(t.splitlines()),
           ["debian*/journal_*.txt"], owner="incident"),
    Target("_client_errors.classify", _client_errors.classify, ["debian*/client_*.txt"], is_dict, owner="incident"),
    # --- _sshd ---
    Target("_sshd.parse_ss_listeners", _sshd.parse_ss_listeners, ["debian*/ss_listen*.txt"], is_list_of_dicts,
           known=('LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=%s,fd=3))' % HUGE,),
           shapes=(('LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("', "(\"", ""),)),
    Target("_sshd.parse_proc_net_tcp", lambda t: _sshd.parse_proc_net_tcp(t) + _sshd.parse_proc_net_tcp(t, ipv6=True),
           ["debian*/proc_net_tcp*.txt"], is_list_of_dicts),
    Target("_sshd.parse_ps+count_preauth", _ps_and_preauth, ["debian*/ps_*.txt"], is_list_of_dicts,
           known=(u"\u00b2 1 sshd: [accepted]",), shapes=(("1 1 sshd: ", " ", "[accepted]"), ("1 1 /usr/sbin/sshd", "x", " -D"))),
    Target("_sshd.parse_proc_stat_ppid", _sshd.parse_proc_stat_ppid, ["debian*/proc_stat.txt"], is_int_or_none),
    Target("_sshd.parse_listener_title", _sshd.parse_listener_title, ["debian*/ps_sshd.txt"],
           known=("[listener] %s of 10-100 startups" % HUGE,), shapes=(("[listener] ", "1", " of 10-100 startups"),)),
    Target("_sshd.parse_socket_listen", _sshd.parse_socket_listen, ["debian13/systemctl_show_socket_activated.txt"],
           known=(u"0.0.0.0:\u00b2 (Stream)",), shapes=(("Listen=", "x", " (Stream)"), ("Listen=", "a ", "(Stream)"))),
    Target("_sshd.split_host_port", _sshd.split_host_port, ["debian*/ss_listen.txt"], known=(u"0.0.0.0:\u00b2", "*:" + HUGE)),
    # --- _sshd_config ---
    Target("_sshd_config.parse_sshd_T+settings", _sshd_T_settings, ["debian*/sshd_T*.txt"], is_dict),
    Target("_sshd_config.parse_sshd_t", lambda t: _sshd_config.parse_sshd_t(t, 255), ["debian*/sshd_t_*.txt"], is_dict,
           known=("/etc/ssh/sshd_config line %s: Bad configuration option: x" % HUGE,),
           shapes=(("/etc/ssh/sshd_config", " line 1", ": x"), ("/etc/ssh/sshd_config line ", "1", "x"))),
    Target("_sshd_config.parse_time+max_startups",
           lambda t: (_sshd_config.parse_time(t), _sshd_config.parse_max_startups(t), _sshd_config.parse_int(t)),
           ["debian*/sshd_T.txt"], known=(HUGE, HUGE + "s", HUGE + ":30:100")),
    Target("_sshd_config.versions", _version, ["debian*/sshd_V.txt", "debian*/ssh_V.txt", "debian*/dpkg_query_*.txt"]),
    Target("_sshd_config.walk_config+provenance", _config_walk, ["debian*/etc/ssh/**/*"], is_dict),
    # --- _systemd ---
    Target("_systemd.parse_show_blocks+typed", _systemd_blocks, ["debian*/systemctl_show_*.txt", "rhel9/systemctl_show_sshd.txt"],
           is_list_of_dicts),
    # --- _firewall (bans owns the features; these check only that nothing raises) ---
    Target("_firewall.parse_iptables_save+classify", _iptables,
           ["debian*/iptables_save_*.txt", "debian*/ip6tables_save_*.txt", "rhel7/*.txt"], is_dict),
    Target("_firewall.parse_nft_json+classify", _nft, ["debian*/nft_ruleset_*.json"], is_list_of_dicts,
           known=('{"nftables": [{"rule": {"expr": %s}}]}' % DEEP_LIST, '{"nftables": [{"rule": {"expr": %s}}]}' % (
               "[" * 100 + "]" * 100))),
    Target("_firewall.small files", _small_firewall_files, ["debian*/proc_nf_*.txt", "debian*/proc_net_ip_tables_names_legacy.txt"]),
    # --- _bans (bans) ---
    Target("_bans.fail2ban-client", _f2b_client, ["debian*/bans/*/*fail2ban-client*", "debian12/bans/fail2ban_banip_*"],
           is_list_of_dicts),
    Target("_bans.parse_f2b_db_rows", _f2b_rows, ["debian*/bans/*/*fail2ban.sqlite3_rows.txt"], is_list_of_dicts),
    Target("_bans.parse_tool_log", _tool_log, ["debian*/bans/*/*fail2ban.log*", "debian*/bans/*/*journalctl_-u_*"],
           is_dict, shapes=(("[sshd] Ban ", "[", "1"), ("Failed to execute ban jail 'a' action 'b' ", "x", "'ip': '1'"))),
    Target("_bans.ufw files and xt_recent", _ufw, ["debian*/bans/*/*etc_ufw_*", "debian*/bans/*/*xt_recent*",
                                                   "debian12/bans/ufw_xt_recent_*"], is_list_of_dicts),
    Target("_bans.firewalld zones and rich rules", _firewalld, ["debian*/bans/*/*firewall-cmd*", "debian*/bans/*/*zones_*"],
           is_list_of_dicts),
    Target("_firewall.parse_ipset_list", _ipset, ["debian*/bans/*/*ipset_list*"], is_list_of_dicts),
    # --- _probe ---
    Target("_probe.classify+summarize", _probe_classify, ["debian*/ssh_V.txt", "debian*/sshd_V.txt"], is_dict),
    Target("_probe.parse_mtr_json", _mtr, ["debian12/mtr_report_json.txt"], known=('{"a":' * 1000 + "1" + "}" * 1000,)),
    # --- files other helpers own: registered here, fixed there ---
    # (main at 9ba4179+: JSON nested 1,000 deep, 5,000-digit btime, MaxStartups and ports, and kernel stamps past
    # 1e300 s no longer raise; no target is an expected failure any more)
    # (main at 09d2853: the impossible date, the 5,000-digit boot index and the quadratic patterns are fixed)
    Target("_journal.line_epoch+summarise_lines", _journal_lines, JOURNAL, is_dict, owner="journal",
           known=("2026-13-01T00:00:00+00:00 h sshd[1]: x",), shapes=(("x sshd[1]: fork: a", " ", "b"),)),
    Target("_journal.parse_list_boots", _journal.parse_list_boots,
           ["debian*/journalctl_list_boots*.txt", "debian*/journal_list_boots.*"], is_list_of_dicts, owner="journal",
           known=(DEEP_LIST,
                  " %s %s Wed 2026-11-25 08:00:50 UTC Wed 2026-11-25 09:00:00 UTC" % (HUGE, BOOT_ID))),
    Target("_journal.parse_unit_events", _unit_events, ["debian*/journal_unit_events.json"], owner="journal",
           known=('{"MESSAGE": ' + DEEP_LIST + "}",)),
    Target("_journal.summarise_lines with clients", _journal_clients, JOURNAL, is_dict, owner="journal",
           shapes=(("2026-11-25T08:01:23+00:00 h sshd[1]: Connection reset by 10.88.0.9 port 1", " ", " [preauth]"),)),
    Target("_journal.unit event lines+rotated_files+client specs", _journal_small, JOURNAL, owner="journal",
           known=("x systemd[1]: ssh.service: Main process exited, code=exited, status=%s/FAILURE" % HUGE, "." + HUGE)),
    Target("_journal.validate_since+since_to_epoch", _since, ["debian*/journal_since.txt"], owner="journal",
           known=("-" + "9" * 60 + "d", "9" * 30, "2026-13-01 00:00:00"), shapes=(("2026-11-25 ", "0", ""), ("-", "9", "d"))),
    Target("_signatures.classify", _classify_line, JOURNAL, owner="journal", shapes=(("x sshd[1]: fork: a", " ", "b"),)),
    Target("_signatures.unit_event+normalise_address+match", _catalogue_small, JOURNAL, owner="journal"),
    Target("_oom.parse_kernel_log+parse_btime", _oom_log, KERNEL, is_list_of_dicts, owner="journal",
           known=("btime " + HUGE, STAMP_OVERFLOW),
           shapes=(("", "a", " invoked oom-killer"),)),
    Target("_oom.split_stamp+cgroup_owner+container_cgroup", _oom_small, KERNEL, owner="journal",
           known=(STAMP_OVERFLOW,
                  "0::/" + "a/" * 10000, "/machine.slice/libpod-" + "a" * 5000 + ".scope"),
           shapes=(("0::/", "a/", "init.scope"), ("[", "9", ".0] x"))),
    # (main at 1aadac6: harden's bounded Include walk made plan_placement linear; sshd -t line numbers read safely)
    Target("_sshd_placement.plan_placement", _placement, ["debian*/sshd_placement/etc_ssh_sshd_config.txt"], is_dict,
           owner="harden",
           known=(HUGE,
                  "/etc/ssh/sshd_config line %s: x" % HUGE)),
    Target("_sshd_placement.place_block+remove_block", _placement_blocks,
           ["debian*/sshd_placement/etc_ssh_sshd_config.txt", "debian*/etc/ssh/sshd_config"], owner="harden",
           shapes=(("Match User bob\n", "# x\n", "PasswordAuthentication no\n"),)),
    Target("_sshd_placement.drift_report+verify_endpoint", _placement_effective, ["debian*/sshd_placement/sshd_T*.txt", "debian*/sshd_T*.txt"],
           is_dict, owner="harden", known=("listenaddress 0.0.0.0:" + HUGE, "port x")),
    Target("_sshd_placement.glob_match", _glob, ["debian*/etc/ssh/sshd_config"], owner="harden",
           shapes=(("/etc/ssh/", "*a", "b"), ("/etc/ssh/", "[a", "]"))),
    Target("_sshd_environment.classify_sshd_t", _sshd_t_environment, ["debian*/sshd_placement/sshd_t_*.txt", "debian*/sshd_t_*.txt"],
           is_dict, owner="harden", shapes=(("Missing privilege separation directory: /run/", "a", ""),)),
]
