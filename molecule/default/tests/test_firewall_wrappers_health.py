"""firewall_info, tcp_wrappers_info and host_health_info must report what
prepare_firewall.yml planted and what the container really has: every check compares
the result converge saved (/tmp/sshdoctor-results/<module>.json) with iptables-save,
nft, the hosts files, /proc, df and systemctl run in the same container, and the TCP
wrapper verdict with what the real libwrap does to a connection from the client
container."""

import json
import os
import re

import pytest
import testinfra
import testinfra.utils.ansible_runner
from conftest import target_hosts

testinfra_hosts = target_hosts()

INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")


def planted(host):
    return json.loads(host.file("/tmp/sshdoctor-prepare/firewall.json").content_string)


def client_host():
    """The client container, through `podman exec` like the targets (see conftest.target_hosts)."""
    name = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts("clients")[0]
    return testinfra.get_host("podman://%s" % name)


def rule_texts(firewall, source="iptables", backend="nf_tables"):
    return [r["text"] for r in firewall["rules"] if r["source"] == source and r["backend"] == backend]


# ------------------------------------------------------------------------------------------- firewall
def test_firewall_read_every_source(module_result):
    firewall = module_result("firewall_info")
    assert firewall["changed"] is False
    assert firewall["ssh_ports"] == [22]
    assert "nf_tables" in firewall["sources"]["iptables"]["read"]
    assert "nf_tables" in firewall["sources"]["ip6tables"]["read"]
    assert firewall["sources"]["nft"]["read"] is True
    assert firewall["truncated"] is False


def test_firewall_reports_only_rules_that_exist(host, module_result):
    """Nothing invented: every iptables rule text reported is a line of the real iptables-save."""
    real = set(line.strip() for line in host.check_output("iptables-nft-save").splitlines() if line.startswith("-A "))
    reported = rule_texts(module_result("firewall_info"))
    assert reported and set(reported) <= real


@pytest.mark.parametrize("fragment, verdict, rate_limit, tcp_reset, fail2ban, sshguard", [
    ("--dports 22 -j f2b-sshd", "JUMP", [], False, True, False),
    ("--dport 22 -j REJECT --reject-with tcp-reset", "REJECT", [], True, False, False),
    ("-m recent --set", "NONE", ["recent"], False, False, False),
    ("-m recent --update", "DROP", ["recent"], False, False, False),
    ("-m hashlimit", "DROP", ["hashlimit"], False, False, False),
    ("-m connlimit", "REJECT", ["connlimit"], True, False, False),
    ("-A INPUT -p tcp -j SSH-GUARD", "JUMP", [], False, False, False),
    ("-A SSH-GUARD -s 203.0.113.0/24 -j DROP", "DROP", [], False, False, False),
    ("--dport 22 -j sshguard", "JUMP", [], False, False, True),
    ("-A sshguard -s 192.0.2.99/32 -j DROP", "DROP", [], False, False, True),
    ("-A f2b-sshd -s 192.0.2.10/32 -j REJECT --reject-with icmp-port-unreachable", "REJECT", [], False, True, False),
])
def test_firewall_reports_each_planted_ssh_rule(host, module_result, fragment, verdict, rate_limit, tcp_reset,
                                                fail2ban, sshguard):
    assert fragment in host.check_output("iptables-nft-save")
    found = [r for r in module_result("firewall_info")["rules"] if r["source"] == "iptables" and fragment in r["text"]]
    assert len(found) == 1, fragment
    rule = found[0]
    assert (rule["verdict"], rule["rate_limit"], rule["tcp_reset"], rule["fail2ban"], rule["sshguard"]) == (
        verdict, rate_limit, tcp_reset, fail2ban, sshguard)
    assert rule["affects_ssh"] is True
    assert rule["table"] == "filter"


@pytest.mark.parametrize("fragment", ["--dport 2222", "--dport 443 -j WEB", "-A WEB ", "-p udp", "! --dport 22"])
def test_firewall_leaves_out_rules_that_cannot_touch_ssh(host, module_result, fragment):
    assert fragment in host.check_output("iptables-nft-save")
    assert not any(fragment in text for text in rule_texts(module_result("firewall_info")))


def test_firewall_reports_the_ip6tables_rule(module_result):
    rules = [r for r in module_result("firewall_info")["rules"] if r["source"] == "ip6tables"]
    assert [(r["family"], r["src"], r["reject_with"], r["tcp_reset"]) for r in rules] == [
        ("ip6", "2001:db8::/32", "tcp-reset", True)]


def test_firewall_forward_policy_matches_the_kernel(host, module_result):
    real = host.check_output("iptables -S FORWARD").splitlines()[0]
    assert real == "-P FORWARD DROP"
    policy = [p for p in module_result("firewall_info")["policies"]
              if p["source"] == "iptables" and p["backend"] == "nf_tables" and p["chain"] == "FORWARD"]
    assert [(p["policy"], p["affects_ssh"]) for p in policy] == [("DROP", False)]


def test_firewall_reports_the_planted_nft_rules(host, module_result):
    firewall = module_result("firewall_info")
    real = json.loads(host.check_output("nft -j list table inet sshdoctor_test"))["nftables"]
    real_rules = [item["rule"] for item in real if "rule" in item]
    reported = [r for r in firewall["rules"] if r["source"] == "nft" and r["table"] == "sshdoctor_test"]
    # the four input rules and the guard chain's two, except tcp dport 8080
    assert len(real_rules) == 6 and len(reported) == 5
    assert not any("8080" in r["text"] for r in reported)
    reset = [r for r in reported if r["tcp_reset"]]
    assert [r["text"] for r in reset] == ["ip saddr 192.0.2.0/24 tcp dport 22 reject with tcp reset"]
    assert ["limit"] in [r["rate_limit"] for r in reported]
    assert ["connlimit"] in [r["rate_limit"] for r in reported]
    assert "nft inet sshdoctor_test/guard" in firewall["summary"]["drop_policies"]
    fail2ban = [r for r in firewall["rules"] if r["source"] == "nft" and r["table"] == "f2b-table"]
    assert len(fail2ban) == 1 and fail2ban[0]["fail2ban"] is True and fail2ban[0]["verdict"] == "REJECT"


def test_firewall_reports_iptables_nft_tables_once(host, module_result):
    firewall = module_result("firewall_info")
    real = json.loads(host.check_output("nft -j list ruleset"))["nftables"]
    in_iptables_tables = [i for i in real if "rule" in i and i["rule"]["table"] == "filter"
                          and i["rule"]["family"] in ("ip", "ip6")]
    assert firewall["counts"]["deduplicated_nft_rules"] == len(in_iptables_tables) > 0
    assert not any(r["source"] == "nft" and r["table"] == "filter" for r in firewall["rules"])


def test_firewall_conntrack_matches_proc(host, module_result):
    conntrack = module_result("firewall_info")["conntrack"]
    base = "/proc/sys/net/netfilter/"
    assert conntrack["tcp_timeout_established"] == int(host.file(base + "nf_conntrack_tcp_timeout_established").content_string)
    assert conntrack["max"] == int(host.file(base + "nf_conntrack_max").content_string)
    assert conntrack["count"] >= 0


# --------------------------------------------------------------------------------------- tcp wrappers
def test_wrappers_apply_because_the_checking_binary_links_libwrap(host, module_result):
    wrappers = module_result("tcp_wrappers_info")
    session = "/usr/lib/openssh/sshd-session"
    expected = session if host.file(session).exists else "/usr/sbin/sshd"
    assert wrappers["checked_binary"] == expected
    assert "libwrap.so" in host.check_output("ldd %s" % expected)
    assert wrappers["applies"] is True


def test_wrappers_rules_name_their_real_lines(host, module_result):
    wrappers = module_result("tcp_wrappers_info")
    for path in ("/etc/hosts.allow", "/etc/hosts.deny"):
        lines = host.file(path).content_string.splitlines()
        reported = wrappers["files"][path]["rules"]
        assert reported
        for rule in reported:
            assert lines[rule["line"] - 1].strip() == rule["text"]


def test_wrappers_decision_for_the_client(host, module_result):
    client = planted(host)["client_address"]
    decisions = module_result("tcp_wrappers_info")["decisions"]
    assert [(d["client"], d["allowed"], d["action"], d["file"], d["uncertain"]) for d in decisions] == [
        (client, True, "default", None, False)]
    deny = host.file("/etc/hosts.deny").content_string
    assert "sshd: %s/255.255.255.255" % client in deny  # libwrap never matches this mask


def test_real_libwrap_lets_the_client_through(host):
    """The client container connects: libwrap must not refuse it (the /255.255.255.255 quirk)."""
    client = planted(host)["client_address"]
    address = host.check_output("hostname -I").split()[0]
    cursor = host.check_output("journalctl -n0 --show-cursor --no-pager").split("cursor: ")[-1].strip()
    attempt = client_host().run(
        "ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 "
        "-o PreferredAuthentications=publickey nobody@%s true" % address)
    if "Not allowed at this time" in attempt.stderr:
        pytest.skip("OpenSSH 10 penalises the client's address (PerSourcePenalties from prepare_journal.yml); "
                    "libwrap was never asked")
    assert "Permission denied" in attempt.stderr, attempt.stderr
    log = host.check_output("journalctl --after-cursor '%s' --no-pager -o cat" % cursor)
    assert "refused connect from %s" % client not in log


def test_wrappers_denials_name_file_and_line(host, ansible_host):
    """The module run again for documentation addresses the planted entries refuse (and one they except)."""
    result = ansible_host.ansible("sshdoctor.connreset.tcp_wrappers_info",
                                  "client_addresses=192.0.2.9,192.0.2.1,203.0.113.5", check=False)
    decisions = dict((d["client"], d) for d in result["decisions"])
    deny_lines = host.file("/etc/hosts.deny").content_string.splitlines()
    allow_lines = host.file("/etc/hosts.allow").content_string.splitlines()
    deny_line = [i for i, line in enumerate(deny_lines, 1) if line.startswith("sshd: 192.0.2.0/24 EXCEPT")][0]
    allow_line = [i for i, line in enumerate(allow_lines, 1) if line.startswith("sshd: 203.0.113.5 : deny")][0]
    assert (decisions["192.0.2.9"]["allowed"], decisions["192.0.2.9"]["file"], decisions["192.0.2.9"]["line"]) == (
        False, "/etc/hosts.deny", deny_line)
    assert (decisions["203.0.113.5"]["allowed"], decisions["203.0.113.5"]["action"],
            decisions["203.0.113.5"]["file"], decisions["203.0.113.5"]["line"]) == (
        False, "deny", "/etc/hosts.allow", allow_line)
    assert decisions["192.0.2.1"]["allowed"] is True


# ---------------------------------------------------------------------------------------- host health
def test_health_uptime_and_boot_time(host, module_result):
    health = module_result("host_health_info")
    assert health["changed"] is False
    now = float(host.file("/proc/uptime").content_string.split()[0])
    assert 0 < health["uptime_seconds"] <= now
    btime = int(re.search(r"^btime (\d+)$", host.file("/proc/stat").content_string, re.M).group(1))
    stamp = host.check_output("date -u -d @%d +%%Y-%%m-%%dT%%H:%%M:%%S+00:00" % btime)
    assert health["boot_time"] == stamp


def test_health_load_memory_processes(host, module_result):
    health = module_result("host_health_info")
    assert health["load"]["cpus"] == int(host.check_output("nproc --all"))
    assert health["memory"]["total_kb"] == int(
        re.search(r"^MemTotal:\s+(\d+) kB$", host.file("/proc/meminfo").content_string, re.M).group(1))
    assert health["processes"]["pid_max"] == int(host.file("/proc/sys/kernel/pid_max").content_string)
    assert health["processes"]["count"] > 0


def test_health_root_filesystem_matches_df(host, module_result):
    root = [f for f in module_result("host_health_info")["filesystems"] if f["mount"] == "/"][0]
    size, used, available, capacity = host.check_output("df -P -k / | tail -1").split()[1:5]
    assert root["size_kb"] == int(size)
    assert abs(root["used_pct"] - int(capacity.rstrip("%"))) <= 2
    assert "/" in root["paths"]


def test_health_sshd_task_limit_matches_systemd(host, module_result):
    tasks = module_result("host_health_info")["sshd_tasks"]
    assert tasks["unit"] == "ssh.service"
    assert tasks["max_text"] == host.check_output("systemctl show -p TasksMax --value ssh.service")


def test_health_recent_boot_is_this_boot(host, module_result):
    health = module_result("host_health_info")
    assert health["recent_boots_source"] == "journalctl"
    boot_id = host.file("/proc/sys/kernel/random/boot_id").content_string.strip().replace("-", "")
    assert health["recent_boots"][-1]["boot_id"] == boot_id
