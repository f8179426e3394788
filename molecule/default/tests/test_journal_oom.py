"""sshd_journal_info and oom_events_info must report what prepare_journal.yml planted:
real connection faults from the client container, a killed sshd main process, and
(where the container has a memory limit) an OOM kill of an sshd process. Each check
also looks at the journal itself, so a module that invents lines would fail."""

import json

import pytest
from conftest import target_hosts

testinfra_hosts = target_hosts()


def planted(host, name):
    return json.loads(host.file("/tmp/sshdoctor-prepare/%s.json" % name).content_string)


def openssh_version(host):
    package = host.check_output("dpkg-query -W -f '${Version}' openssh-server")
    major, minor = package.split(":", 1)[-1].split("p", 1)[0].split(".")[:2]
    return int(major), int(minor)


def test_reads_the_journal_with_lines_and_boots(module_result):
    journal = module_result("sshd_journal_info")
    assert journal["source"] == "journald"
    assert journal["lines_read"] > 0
    assert len(journal["boots"]) >= 1
    assert journal["truncated"] is False
    assert journal["changed"] is False


def test_wrong_key_exchange_from_the_client_is_counted(host, module_result):
    assert planted(host, "journal")["kex"] is True
    found = module_result("sshd_journal_info")["signatures"]["kex_no_match"]
    assert found["cause"] == "protocol_mismatch"
    assert found["count"] >= 1
    assert "no matching key exchange method found" in found["samples"][-1]
    assert "diffie-hellman-group1-sha1" in host.check_output(
        "journalctl -q --no-pager -o cat -g 'no matching key exchange method'")


def test_hosts_deny_refusal_is_counted(module_result):
    found = module_result("sshd_journal_info")["signatures"]["wrapper_refused"]
    assert found["cause"] == "tcp_wrappers_denied"
    assert found["count"] >= 1
    assert "refused connect from" in found["samples"][-1]


def test_burst_past_maxstartups_is_counted(host, module_result):
    signatures = module_result("sshd_journal_info")["signatures"]
    assert signatures["maxstartups_drop"]["cause"] == "maxstartups_throttling"
    assert signatures["maxstartups_drop"]["count"] >= 1
    if openssh_version(host) < (9, 8):
        # 8.4 to 9.7 announce the throttling itself, and the client saw "Exceeded MaxStartups"
        assert signatures["maxstartups_throttling_begin"]["count"] >= 1
        assert any("Exceeded MaxStartups" in line for line in planted(host, "journal")["maxstartups"])
    else:
        assert "maxstartups_throttling_begin" not in signatures
        assert any("Not allowed at this time" in line for line in planted(host, "journal")["maxstartups"])


def test_per_source_penalty_on_openssh_98_and_later(host, module_result):
    signatures = module_result("sshd_journal_info")["signatures"]
    if openssh_version(host) < (9, 8):
        assert "penalty_drop" not in signatures
        return
    assert signatures["penalty_drop"]["cause"] == "source_penalty"
    assert signatures["penalty_drop"]["count"] >= 1
    assert "penalty: " in signatures["penalty_drop"]["samples"][-1]


def test_killed_main_process_and_scheduled_restart_are_unit_events(host, module_result):
    events = module_result("sshd_journal_info")["unit_events"]
    kinds = [event["event"] for event in events]
    assert "main_process_killed" in kinds
    assert "restart_scheduled" in kinds
    killed = events[kinds.index("main_process_killed")]
    assert killed["message_id"] == "98e322203f7a4ed290d09fe03c09fe15"
    assert killed["exit_status"] == "9"
    assert int(host.check_output("systemctl show -p NRestarts --value ssh")) >= 1


def test_counts_agree_with_the_journal(host, module_result):
    journal = module_result("sshd_journal_info")
    refused = host.check_output("journalctl -q --no-pager -o cat -t sshd -t sshd-session -g 'refused connect from'")
    # later plays may add refusals after converge read the journal, never fewer
    assert 1 <= journal["signatures"]["wrapper_refused"]["count"] <= len(refused.splitlines())


def test_oom_kill_of_an_sshd_process(host, module_result):
    oom = module_result("oom_events_info")
    assert oom["changed"] is False
    assert oom["source"] == "dmesg"  # the scenario grants CAP_SYSLOG
    assert oom["in_container"] is True
    state = planted(host, "oom")
    if not state["planted"]:
        pytest.skip("no OOM kill planted: %s" % state.get("reason", state))
    ours = [event for event in oom["events"] if event.get("in_this_container")]
    assert ours, "no OOM event in this container's cgroup"
    sshd = [event for event in ours if event["is_sshd"]]
    assert sshd and oom["sshd_victims"] >= 1
    assert sshd[-1]["oom_score_adj"] == 1000
    assert sshd[-1]["cgroup"]["kind"] == "memcg"
    assert sshd[-1]["name"] in ("sshd", "sshd-session", "sshd-auth")
