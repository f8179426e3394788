# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet of the fault lab: one host per fault, one function per fault.

Each ``plant_*`` function makes its fault real on a running container and
returns a one-line proof read back from the host (a journal line, a firewall
rule, a kernel message), or raises ``PlantError`` when the fault did not take.
Anything that needs a misbehaving *client* (bursts, penalties, bad algorithms,
idle sessions) comes from the ``lab-client`` container, never from the
controller: OpenSSH 10 penalises the source address, and the controller must
stay able to log in to diagnose.

``lab`` is the ``Lab`` object from lab.py: ``lab.sh(host, script)``,
``lab.python(host, code, *args)``, ``lab.client_ssh(host, cmd)``,
``lab.client_connect(host, n, hold)``, ``lab.journal(host)``, addresses.
"""

import dataclasses
import re
import socket
import time
from typing import Callable, Dict, List, Optional

RELEASES = ("debian11", "debian12", "debian13")
BASE_CAPS = ["NET_ADMIN", "NET_RAW"]


class PlantError(Exception):
    """A fault could not be made real (or its proof was not found)."""


@dataclasses.dataclass(eq=False)
class Host:
    name: str  # container name and inventory hostname
    release: str
    cause: str  # the planted cause id, or "healthy"
    offset: int  # address: this offset in the lab subnet
    how: str  # one line: how the fault is made real
    plant: Optional[Callable]  # None for the client, which is not diagnosed
    reachable: bool = True  # can the controller still log in over SSH once the fault is planted?
    run_args: List[str] = dataclasses.field(default_factory=list)  # extra `podman create` arguments
    caps: List[str] = dataclasses.field(default_factory=lambda: list(BASE_CAPS))
    files: Dict[str, str] = dataclasses.field(default_factory=dict)  # copied in before boot


# Run by python3 in the client: `count` TCP connections that never authenticate.
# hold > 0: open them all, keep them open `hold` seconds (a burst); hold == 0: one after the other.
# Prints {what the server sent first (banner / its message / EOF / error): how many}.
CONNECT_SCRIPT = r"""
import json, socket, sys, time
host, count, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
seen = {}
def note(key):
    seen[key] = seen.get(key, 0) + 1
def first(sock):
    sock.settimeout(3)
    try:
        data = sock.recv(128).decode("ascii", "replace").strip()
    except OSError as exc:
        return type(exc).__name__
    return "banner" if data.startswith("SSH-") else (data or "EOF")
socks = []
for _ in range(count):
    try:
        sock = socket.create_connection((host, 22), timeout=5)
    except OSError as exc:
        note(type(exc).__name__)
        continue
    if hold > 0:
        socks.append(sock)
    else:
        note(first(sock))
        sock.close()
time.sleep(hold)
for sock in socks:
    note(first(sock))
    sock.close()
print(json.dumps(seen))
"""

# Run by python3 on the OOM host: allocate memory until the kernel's OOM killer has
# killed once (cgroup v1 memory.oom_control or v2 memory.events), or the victim is gone.
OOM_HOG_SCRIPT = r"""
import sys, time
victim = int(sys.argv[1])
def kills():
    for path in ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"):
        try:
            with open(path) as handle:
                for line in handle:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except OSError:
            pass
    return None
def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False
before, hog = kills(), []
while alive(victim) and kills() == before:
    hog.append(b"\x01" * (64 << 10))  # small steps: an allocation in flight at the kill needs little
for _ in range(50):  # the kill is counted before the victim has exited
    if not alive(victim):
        break
    time.sleep(0.1)
print("allocated %d MiB, victim %s" % (len(hog) // 16, "alive" if alive(victim) else "killed"))
"""


def wait_for(check, timeout, interval=0.3):
    """Poll check() until it returns something true; return it, or None after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def journal_line(lab, host, pattern, unit="ssh", timeout=10):
    """The last journal line of unit matching pattern (a regex), waiting up to timeout for it."""
    regex = re.compile(pattern)

    def find():
        lines = [line for line in lab.journal(host, unit).splitlines() if regex.search(line)]
        return lines[-1] if lines else None

    line = wait_for(find, timeout, interval=0.5)
    if not line:
        raise PlantError("no journal line of %s matches %r" % (unit, pattern))
    return line


# --- the faults -----------------------------------------------------------------------------

def plant_healthy(lab, host):
    state = lab.sh(host, "systemctl is-active ssh").stdout.strip()
    return "nothing planted; ssh.service %s" % state


def plant_idle_timeout(lab, host):
    # The conntrack timeout (8 s) and nf_conntrack_tcp_loose=0 come from `podman create --sysctl`.
    # A mid-stream packet of a forgotten connection is INVALID; answer it with a reset, as stateful
    # middleboxes do. Scoped to the client's address so the controller's own module run, which can
    # sit idle on its connection for longer than 8 s, is not cut (see README).
    lab.sh(host, "iptables -A INPUT -p tcp --dport 22 -s %s -m conntrack --ctstate INVALID "
                 "-j REJECT --reject-with tcp-reset" % lab.client_ip)
    started = time.monotonic()
    result = lab.client_ssh(host, "sleep 12", timeout=60)
    if result.returncode != 255:
        raise PlantError("an idle 12 s session survived the 8 s conntrack timeout (exit %d)" % result.returncode)
    error = (result.stderr.strip().splitlines() or ["?"])[-1]
    return "client's idle session cut after %.0fs: %s" % (time.monotonic() - started, error)


def plant_maxstartups(lab, host):
    # MaxStartups 3:50:6 is in a drop-in from before boot; 20 silent connections at once.
    seen = lab.client_connect(host, 20, hold=2)
    if not seen.get("Exceeded MaxStartups") and not seen.get("Not allowed at this time"):
        raise PlantError("burst was not throttled: %s" % seen)
    line = journal_line(lab, host, r"past Max[Ss]tartups")
    return "burst of 20 from the client: %s; journal: %s" % (seen, line)


def plant_source_penalty(lab, host):
    # PerSourcePenalties is on by default in OpenSSH 10: 25 quick connections that never
    # authenticate (noauth: 1 s each, enforced from 15 s) get the client's address penalised.
    # The penalty accrues faster than it expires only while the connections come quickly; on a
    # slow machine one round may not be enough, so go again (the penalty keeps what it has).
    for rounds in range(1, 4):
        seen = lab.client_connect(host, 25, hold=0)
        if seen.get("Not allowed at this time"):
            break
    else:
        raise PlantError("the client was not penalised after %d rounds: %s" % (rounds, seen))
    line = journal_line(lab, host, r"penalty: ")
    return "%d x 25 quick connections from the client, last round: %s; journal: %s" % (rounds, seen, line)


def plant_oom_kill(lab, host):
    # The container has --memory=192m. An ordinary session from the client; its sshd process is
    # made the OOM killer's choice with oom_score_adj=1000, then a memory hog fills the cgroup.
    lab.client_ssh(host, "sleep 600", detach=True)

    def session_pid():
        return lab.sh(host, "pgrep -n -f '^sshd(-session)?: root@notty'", check=False).stdout.strip()

    pid = wait_for(session_pid, 15)
    if not pid:
        raise PlantError("the client's session process did not appear")
    lab.sh(host, "echo 1000 > /proc/%s/oom_score_adj" % pid)
    # If the hog's allocation in flight at the kill still does not fit, the kernel kills the hog
    # next (exit 137): the sshd process was still the first victim, which the kernel log shows.
    result = lab.python(host, OOM_HOG_SCRIPT, pid, timeout=120, check=False)
    if result.returncode not in (0, 137):
        raise PlantError("memory hog exited %d: %s" % (result.returncode, result.stderr.strip()[-300:]))
    hog = result.stdout.strip() or "the hog was killed after the session process"
    cid = lab.container_id(host)
    kernel = lab.sh(host, "dmesg").stdout.splitlines()
    kills = [line for line in kernel if "oom-kill:" in line and cid in line and "task=sshd" in line]
    if not kills:
        raise PlantError("no OOM kill of an sshd process in this container's cgroup (%s)" % hog)
    task = re.search(r"task=([^,]+),pid=(\d+)", kills[-1])
    return "%s; kernel: oom-kill of %s (host pid %s) in this container's memory cgroup" % (
        hog, task.group(1), task.group(2))


def plant_sshd_not_running(lab, host):
    lab.sh(host, "systemctl stop ssh")
    state = lab.sh(host, "systemctl is-active ssh", check=False).stdout.strip()
    if state == "active":
        raise PlantError("ssh.service is still active")
    return "systemctl stop ssh: ssh.service %s" % state


def plant_sshd_config_invalid(lab, host):
    # A drop-in with a typo. The running sshd keeps its old configuration (new connections get
    # it from the listener, not from the file), so the controller still logs in; the reload that
    # would apply it fails in ExecReload's `sshd -t`, and the next restart would not come back.
    lab.sh(host, "printf '# keepalives for the load balancer\\nClientAliveIntervall 30\\n' "
                 "> /etc/ssh/sshd_config.d/50-keepalive.conf")
    reload = lab.sh(host, "systemctl reload ssh", check=False)
    if reload.returncode == 0:
        raise PlantError("systemctl reload ssh accepted the broken drop-in")
    test = lab.sh(host, "sshd -t", check=False)
    if test.returncode == 0:
        raise PlantError("sshd -t accepts the broken drop-in")
    return "reload failed; sshd -t: %s" % test.stderr.strip().splitlines()[0]


def plant_sshd_restarted(lab, host):
    # SIGKILL to the listener; Restart=on-failure brings it back and counts the restart.
    lab.sh(host, "kill -9 $(systemctl show -p MainPID --value ssh)")
    restarts = wait_for(lambda: lab.sh(host, "systemctl show -p NRestarts --value ssh").stdout.strip() not in ("", "0")
                        and lab.sh(host, "systemctl is-active ssh", check=False).stdout.strip() == "active", 15)
    if not restarts:
        raise PlantError("systemd did not restart the killed sshd")
    line = journal_line(lab, host, r"Scheduled restart job")
    return "kill -9 of the listener; journal: %s" % line


def plant_protocol_mismatch(lab, host):
    # Clients that offer only what the server refuses: an old kex (eight times), a host key type,
    # a cipher. The server logs "Unable to negotiate" when it has read the client's offer before
    # the client (which sees the mismatch too) hangs up; under load some attempts leave no line.
    offers = ["KexAlgorithms=diffie-hellman-group1-sha1"] * 8 + ["HostKeyAlgorithms=ssh-dss", "Ciphers=3des-cbc"]
    for option in offers:
        result = lab.client_ssh(host, "true", options=["-o", option])
        if result.returncode != 255:
            raise PlantError("client with %s got in (exit %d)" % (option, result.returncode))
    pattern = r"Unable to negotiate with %s .*no matching" % re.escape(lab.client_ip)
    line = journal_line(lab, host, pattern)
    count = len(re.findall(pattern, lab.journal(host)))
    return "%d clients with refused algorithms, %d journal lines like: %s" % (len(offers), count, line)


def plant_tcp_wrappers_denied(lab, host):
    # Debian's sshd links libwrap: deny the controller's address. One attempt from the controller
    # proves it: TCP connects, then libwrap logs, sleeps 5 s and closes without a banner.
    lab.sh(host, "echo 'sshd: %s' >> /etc/hosts.deny" % lab.controller_ip)
    started = time.monotonic()
    try:
        with socket.create_connection((lab.address(host), 22), timeout=5) as sock:
            sock.settimeout(15)
            data = sock.recv(64)
    except OSError as exc:
        data = type(exc).__name__.encode()
    if data.startswith(b"SSH-"):
        raise PlantError("the controller still gets a banner")
    line = journal_line(lab, host, r"refused connect from %s" % re.escape(lab.controller_ip))
    return "controller got %r after %.1fs; journal: %s" % (data, time.monotonic() - started, line)


def plant_firewall_reject_iptables(lab, host):
    # REJECT with tcp-reset on the SSH port for the client's address, with iptables.
    lab.sh(host, "iptables -I INPUT -p tcp --dport 22 -s %s -j REJECT --reject-with tcp-reset" % lab.client_ip)
    seen = lab.client_connect(host, 3)
    if seen != {"ConnectionRefusedError": 3}:
        raise PlantError("client connections were not reset: %s" % seen)
    rule = lab.sh(host, "iptables -S INPUT | grep -- '--reject-with tcp-reset'").stdout.strip()
    return "client's connects reset %s; rule: %s" % (seen, rule)


def plant_firewall_reject_nft(lab, host):
    # The same with nft, written as an allow-list: everyone but the controller gets a reset.
    lab.sh(host, "nft -f - <<'EOF'\n"
                 "table inet filter {\n"
                 "  chain input {\n"
                 "    type filter hook input priority 0; policy accept;\n"
                 "    tcp dport 22 ip saddr != %s reject with tcp reset\n"
                 "  }\n"
                 "}\n"
                 "EOF" % lab.controller_ip)
    seen = lab.client_connect(host, 3)
    if seen != {"ConnectionRefusedError": 3}:
        raise PlantError("client connections were not reset: %s" % seen)
    rule = lab.sh(host, "nft list chain inet filter input | grep 'reject with tcp reset'").stdout.strip()
    return "client's connects reset %s; rule: %s" % (seen, rule)


def plant_host_unreachable(lab, host):
    # A host that was up (it booted and took the key) and then went away: its address stays
    # in the inventory, nothing answers it.
    lab.podman("stop", "-t", "10", host.name)
    state = lab.podman("inspect", "-f", "{{.State.Status}}", host.name).stdout.strip()
    if state == "running":
        raise PlantError("container still running")
    return "container stopped (%s); its address stays in the inventory" % state


# --- the fleet ------------------------------------------------------------------------------

FLEET = [
    Host("lab-healthy", "debian13", "healthy", 10, "a stock Debian 13 host, nothing changed", plant_healthy),
    Host("lab-idle-timeout", "debian12", "idle_timeout", 11,
         "conntrack established timeout 8 s, tcp_loose 0, INVALID answered with tcp-reset; ClientAliveInterval 0 "
         "(the default); the client's idle session is cut",
         plant_idle_timeout,
         run_args=["--sysctl", "net.netfilter.nf_conntrack_tcp_timeout_established=8",
                   "--sysctl", "net.netfilter.nf_conntrack_tcp_loose=0"]),
    Host("lab-maxstartups", "debian11", "maxstartups_throttling", 12,
         "MaxStartups 3:50:6 and a burst of 20 unauthenticated connections from the client",
         plant_maxstartups,
         files={"/etc/ssh/sshd_config.d/50-lab.conf": "MaxStartups 3:50:6\n"}),
    Host("lab-penalty", "debian13", "source_penalty", 13,
         "PerSourcePenalties (default on in OpenSSH 10): 25 quick unauthenticated connections from the client",
         plant_source_penalty),
    Host("lab-oom", "debian13", "oom_kill", 14,
         "--memory=192m; the client's session process gets oom_score_adj 1000 and a memory hog "
         "makes the kernel kill it",
         plant_oom_kill,
         run_args=["--memory=192m", "--memory-swap=192m"], caps=BASE_CAPS + ["SYSLOG"]),
    Host("lab-sshd-stopped", "debian11", "sshd_not_running", 15, "systemctl stop ssh",
         plant_sshd_not_running, reachable=False),
    Host("lab-config-invalid", "debian11", "sshd_config_invalid", 16,
         "a drop-in with a misspelt keyword; the reload fails, the running sshd goes on",
         plant_sshd_config_invalid),
    Host("lab-sshd-restarted", "debian12", "sshd_restarted", 17,
         "kill -9 of the sshd listener; systemd restarts it", plant_sshd_restarted),
    Host("lab-kex-mismatch", "debian11", "protocol_mismatch", 18,
         "the client offers only a refused kex, host key type or cipher", plant_protocol_mismatch),
    Host("lab-tcp-wrappers", "debian12", "tcp_wrappers_denied", 19,
         "hosts.deny: sshd: <controller address>", plant_tcp_wrappers_denied, reachable=False),
    Host("lab-fw-iptables", "debian12", "firewall_reject", 20,
         "iptables REJECT --reject-with tcp-reset on port 22 for the client's address",
         plant_firewall_reject_iptables),
    Host("lab-fw-nft", "debian13", "firewall_reject", 21,
         "nft: tcp dport 22 ip saddr != <controller> reject with tcp reset",
         plant_firewall_reject_nft),
    Host("lab-down", "debian12", "host_unreachable", 22, "the container is stopped",
         plant_host_unreachable, reachable=False),
]

CLIENT = Host("lab-client", "debian12", "client", 200, "produces the misbehaving clients' traffic", None)
