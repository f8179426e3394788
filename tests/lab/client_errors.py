# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capture what the OpenSSH *clients* of Debian 11, 12 and 13 print against real faults.

    tests/lab/lab capture-client-errors [--keep]

Starts two servers (Debian 12 with a conntrack that forgets idle flows after 8 s,
Debian 13) and three clients (Debian 11, 12, 13: OpenSSH 8.4p1, 9.2p1, 10.0p2) on
their own podman network, makes each fault of ``FAULTS`` real on a server, runs
``ssh`` and ``ssh -v`` from every client at once, and writes what each printed on
stderr to ``tests/unit/fixtures/debianNN/client_<fault>.txt`` and
``client_<fault>_v.txt``, plus ``tests/unit/fixtures/client_errors_captured.md``
(each fault, how it was made, which server). The unit tests of
``_client_errors.py`` read those files. Takes about two minutes; the containers
(named ``${SSHDOCTOR_INCIDENT_PREFIX:-incident}-cap-*``) are removed at the end.

What cannot be made here (this kernel has no netem, pedit or csum tc actions, so no
packet can be corrupted with a valid TCP checksum) is transcribed from
openssh-portable's source in ``_client_errors.py`` instead.
"""

import concurrent.futures
import os
import shlex
import subprocess
import sys
import threading
import time

import lab as lablib

PREFIX = os.environ.get("SSHDOCTOR_INCIDENT_PREFIX", "incident") + "-cap"
NETWORK = PREFIX + "-net"
FIXTURES = os.path.join(lablib.ROOT, "tests", "unit", "fixtures")
CLIENT_RELEASES = ("debian11", "debian12", "debian13")
SSH = ["ssh"]
# After a fault's own options: ssh keeps the first value it reads for each option.
DEFAULTS = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=4"]
ASKPASS = "#!/bin/sh\nsleep 6\necho not-the-password\n"


def podman(*args, **kwargs):
    return lablib.podman(*args, **kwargs)


class Capture:
    def __init__(self):
        self.servers = {"s12": "debian12", "s13": "debian13"}
        self.clients = dict(("c" + r[-2:], r) for r in CLIENT_RELEASES)
        self.ip = {}
        self.outputs = []  # (fault, release, verbose, stderr, rc)
        self.notes = {}

    # --- containers -------------------------------------------------------------------------
    def name(self, short):
        return "%s-%s" % (PREFIX, short)

    def start(self):
        self.remove()
        podman("network", "create", NETWORK)
        jobs = []
        for short, release in list(self.servers.items()) + list(self.clients.items()):
            argv = ["run", "-d", "--name", self.name(short), "--hostname", short, "--network", NETWORK,
                    "--systemd=always", "--cap-add", "NET_ADMIN,NET_RAW"]
            if short == "s12":
                # conntrack forgets an idle established flow after 8 s and does not pick it up again
                argv += ["--sysctl", "net.netfilter.nf_conntrack_tcp_timeout_established=8",
                         "--sysctl", "net.netfilter.nf_conntrack_tcp_loose=0"]
            jobs.append(argv + [lablib.IMAGE.format(release=release), "/sbin/init"])
        for argv in jobs:
            podman(*argv)
        for short in list(self.servers) + list(self.clients):
            state = podman("exec", self.name(short), "systemctl", "is-system-running", "--wait", check=False,
                           timeout=120).stdout.strip()
            if state not in ("running", "degraded"):
                raise RuntimeError("%s did not boot: %s" % (short, state))
            self.ip[short] = podman("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                                    self.name(short)).stdout.strip()
        keys = []
        for short in self.clients:
            # hosts: files, so that an unknown name fails here and no lookup leaves the container
            self.sh(short, "mkdir -p /root/.ssh && ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519 && "
                           "sed -i 's/^hosts:.*/hosts: files/' /etc/nsswitch.conf")
            keys.append(self.sh(short, "cat /root/.ssh/id_ed25519.pub").stdout.strip())
            self.sh(short, "printf '%s' > /usr/local/bin/slow-askpass && chmod 755 /usr/local/bin/slow-askpass"
                    % ASKPASS.replace("\n", "\\n"))
        for short in self.servers:
            self.sh(short, "mkdir -p /root/.ssh && printf '%%s\\n' %s > /root/.ssh/authorized_keys && "
                           "chmod 600 /root/.ssh/authorized_keys" % " ".join(shlex.quote(k) for k in keys))
        for short in self.clients:
            self.sh(short, "ssh-keyscan -t ed25519 %s > /root/.ssh/known_hosts 2>/dev/null"
                    % " ".join(self.ip[s] for s in self.servers))

    def remove(self):
        names = [self.name(s) for s in list(self.servers) + list(self.clients)]
        podman("rm", "-f", "-t", "0", *names, check=False, timeout=300)
        if podman("network", "exists", NETWORK, check=False).returncode == 0:
            podman("network", "rm", "-f", NETWORK, check=False)

    def sh(self, short, script, check=True, timeout=120):
        return podman("exec", self.name(short), "sh", "-c", script, check=check, timeout=timeout)

    # --- one fault ---------------------------------------------------------------------------------
    def ssh(self, client, server, verbose, command="true", options=(), env=None, timeout=60):
        argv = SSH + (["-v"] if verbose else []) + list(options) + DEFAULTS + ["root@" + self.ip[server], command]
        prefix = ["env"] + ["%s=%s" % kv for kv in (env or {}).items()] if env else []
        result = podman("exec", self.name(client), *(prefix + argv), check=False, timeout=timeout)
        return result.returncode, result.stderr

    def clients_at_once(self, fault, server, during=None, **ssh_args):
        """ssh and ssh -v from every client at once; ``during(elapsed)`` runs on the side after 2 s."""
        work = [(c, v) for c in self.clients for v in (False, True)]
        side = None
        if during:
            side = threading.Timer(2.0, during)
            side.start()
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(work)) as pool:
            futures = dict((pool.submit(self.ssh, c, server, v, **ssh_args), (c, v)) for c, v in work)
            for future in concurrent.futures.as_completed(futures):
                client, verbose = futures[future]
                rc, err = future.result()
                self.outputs.append((fault, self.clients[client], verbose, err, rc))
        if side:
            side.join()


def faults(cap):
    """(fault name, server, how it was made, run(cap)) for every fault, in the order they run."""
    s13 = cap.ip["s13"]
    each_client = [cap.ip[c] for c in cap.clients]

    def on_clients(script):
        for c in cap.clients:
            cap.sh(c, script)

    def iptables_each(server, template):
        for ip in each_client:
            cap.sh(server, template % ip)

    def refused(_server):
        cap.sh("s12", "systemctl stop ssh")
        cap.clients_at_once("connection_refused", "s12")
        cap.sh("s12", "systemctl start ssh")

    def timed_out(_server):
        cap.sh("s12", "iptables -I INPUT -p tcp --dport 22 -j DROP")
        cap.clients_at_once("connect_timed_out", "s12")
        cap.sh("s12", "iptables -D INPUT -p tcp --dport 22 -j DROP")

    def no_route(_server):
        rule = "INPUT -p tcp --dport 22 -j REJECT --reject-with icmp-host-unreachable"
        cap.sh("s12", "iptables -I " + rule)
        cap.clients_at_once("no_route_to_host", "s12")
        cap.sh("s12", "iptables -D " + rule)

    def wrappers(_server):
        cap.sh("s12", "echo 'sshd: %s' >> /etc/hosts.deny" % ", ".join(each_client))
        # libwrap holds a denied connection about 5 s before it closes it: wait longer than that
        cap.clients_at_once("kex_exchange_identification_reset", "s12", options=["-o", "ConnectTimeout=15"])
        cap.sh("s12", "sed -i '/^sshd: /d' /etc/hosts.deny")

    def hold_and_try(fault, server, holder):
        cap.sh(server, "printf 'MaxStartups 1:100:1\\n' > /etc/ssh/sshd_config.d/99-capture.conf && systemctl reload ssh")
        time.sleep(1)
        code = ("import socket,time; s=socket.create_connection(('%s',22)); s.recv(64); time.sleep(40)" % cap.ip[server])
        podman("exec", "-d", cap.name(holder), "python3", "-c", code)
        time.sleep(1.5)
        cap.clients_at_once(fault, server)
        cap.sh(holder, "pkill -f '^python3 -c import socket' || true")
        cap.sh(server, "rm -f /etc/ssh/sshd_config.d/99-capture.conf && systemctl reload ssh")

    def maxstartups_92(_server):
        hold_and_try("exceeded_maxstartups", "s12", "s13")

    def maxstartups_100(_server):
        hold_and_try("not_allowed_at_this_time_maxstartups", "s13", "s12")

    def penalty(_server):
        cap.sh("s13", "printf 'PerSourcePenalties noauth:60s min:1s\\n' > /etc/ssh/sshd_config.d/99-capture.conf "
                      "&& systemctl restart ssh")
        time.sleep(1)
        # one connection that never authenticates earns each client a 60 s penalty
        on_clients("python3 -c \"import socket; s=socket.create_connection(('%s',22)); s.recv(64); s.close()\"" % s13)
        time.sleep(2)
        cap.clients_at_once("not_allowed_at_this_time_penalty", "s13")
        cap.sh("s13", "rm -f /etc/ssh/sshd_config.d/99-capture.conf && systemctl restart ssh")

    def grace(_server):
        cap.sh("s12", "printf 'LoginGraceTime 2\\n' > /etc/ssh/sshd_config.d/99-capture.conf && systemctl reload ssh")
        time.sleep(1)
        cap.clients_at_once("connection_closed_login_grace_time", "s12",
                            options=["-o", "BatchMode=no", "-o", "PreferredAuthentications=password",
                                     "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1"],
                            env={"SSH_ASKPASS": "/usr/local/bin/slow-askpass", "SSH_ASKPASS_REQUIRE": "force",
                                 "DISPLAY": "none"})
        cap.sh("s12", "rm -f /etc/ssh/sshd_config.d/99-capture.conf && systemctl reload ssh")

    def reset_in_kex(_server):
        # The client's KEXINIT (over 500 bytes) is answered with a TCP reset; its banner line is not.
        template = "iptables -I INPUT -p tcp --dport 22 -s %s -m length --length 500:65535 -j REJECT --reject-with tcp-reset"
        iptables_each("s12", template)
        cap.clients_at_once("connection_reset_in_kex", "s12")
        iptables_each("s12", template.replace("-I INPUT", "-D INPUT"))

    def reset_session(_server):
        template = "iptables -I INPUT -p tcp --dport 22 -s %s -j REJECT --reject-with tcp-reset"
        cap.clients_at_once("session_reset_by_firewall", "s12", command="sleep 8",
                            options=["-o", "ServerAliveInterval=1"],
                            during=lambda: iptables_each("s12", template))
        iptables_each("s12", template.replace("-I INPUT", "-D INPUT"))

    def idle_conntrack(_server):
        rule = "INPUT -p tcp --dport 22 -m conntrack --ctstate INVALID -j REJECT --reject-with tcp-reset"
        cap.sh("s12", "iptables -A " + rule)
        cap.clients_at_once("session_idle_conntrack_reset", "s12", command="sleep 12")
        cap.sh("s12", "iptables -D " + rule)

    def killed(_server):
        cap.clients_at_once("session_process_killed", "s12", command="sleep 20",
                            during=lambda: cap.sh("s12", "sleep 1; pkill -9 -f '^sshd: root@notty' || true"))

    def silent(_server):
        template = "iptables -I INPUT -p tcp --dport 22 -s %s -j DROP"
        cap.clients_at_once("server_not_responding", "s12", command="sleep 20",
                            options=["-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2"],
                            during=lambda: iptables_each("s12", template))
        iptables_each("s12", template.replace("-I INPUT", "-D INPUT"))

    def kex_mismatch(_server):
        cap.clients_at_once("no_matching_key_exchange", "s12", options=["-o", "KexAlgorithms=diffie-hellman-group1-sha1"])

    def cipher_mismatch(_server):
        cap.clients_at_once("no_matching_cipher", "s12", options=["-o", "Ciphers=3des-cbc"])

    def banner_timeout(_server):
        rule = "OUTPUT -p tcp --sport 22 --tcp-flags SYN NONE -j DROP"
        cap.sh("s12", "iptables -I " + rule)
        cap.clients_at_once("banner_exchange_timed_out", "s12", options=["-o", "ConnectTimeout=3"])
        cap.sh("s12", "iptables -D " + rule)

    def denied(_server):
        cap.clients_at_once("permission_denied", "s12", options=["-o", "PubkeyAuthentication=no"])

    def bad_owner(_server):
        on_clients("touch /root/.ssh/config && chmod 666 /root/.ssh/config")
        cap.clients_at_once("bad_owner_or_permissions", "s12")
        on_clients("rm -f /root/.ssh/config")

    def unresolved(_server):
        for client in cap.clients:
            for verbose in (False, True):
                argv = SSH + (["-v"] if verbose else []) + DEFAULTS + ["root@no-such-host.invalid", "true"]
                result = podman("exec", cap.name(client), *argv, check=False)
                cap.outputs.append(("could_not_resolve_hostname", cap.clients[client], verbose, result.stderr,
                                    result.returncode))

    return [
        ("connection_refused", "debian12", "systemctl stop ssh", refused),
        ("connect_timed_out", "debian12", "iptables -I INPUT -p tcp --dport 22 -j DROP; ConnectTimeout=4", timed_out),
        ("no_route_to_host", "debian12", "iptables REJECT --reject-with icmp-host-unreachable on port 22", no_route),
        ("kex_exchange_identification_reset", "debian12", "/etc/hosts.deny: sshd: <the clients>", wrappers),
        ("exceeded_maxstartups", "debian12", "MaxStartups 1:100:1 and one silent connection held from another container",
         maxstartups_92),
        ("not_allowed_at_this_time_maxstartups", "debian13",
         "MaxStartups 1:100:1 and one silent connection held from another container", maxstartups_100),
        ("not_allowed_at_this_time_penalty", "debian13",
         "PerSourcePenalties noauth:60s min:1s; each client first made one connection that never authenticated",
         penalty),
        ("connection_closed_login_grace_time", "debian12",
         "LoginGraceTime 2; the client waits 6 s in SSH_ASKPASS for a password", grace),
        ("connection_reset_in_kex", "debian12",
         "iptables: packets of 500 bytes or more from the client (its KEXINIT) answered with a TCP reset", reset_in_kex),
        ("session_reset_by_firewall", "debian12",
         "session `sleep 8` with ServerAliveInterval=1; after 2 s iptables REJECT --reject-with tcp-reset for the client",
         reset_session),
        ("session_idle_conntrack_reset", "debian12",
         "conntrack established timeout 8 s, tcp_loose 0, INVALID answered with tcp-reset; an idle `sleep 12` session",
         idle_conntrack),
        ("session_process_killed", "debian12", "session `sleep 20`; after 3 s kill -9 of its sshd process", killed),
        ("server_not_responding", "debian12",
         "session `sleep 20` with ServerAliveInterval=1, ServerAliveCountMax=2; after 2 s iptables DROP for the client",
         silent),
        ("no_matching_key_exchange", "debian12", "the client offers only diffie-hellman-group1-sha1", kex_mismatch),
        ("no_matching_cipher", "debian12", "the client offers only 3des-cbc", cipher_mismatch),
        ("banner_exchange_timed_out", "debian12",
         "iptables OUTPUT: the server's packets without SYN dropped (the handshake completes, the banner never arrives); "
         "ConnectTimeout=3", banner_timeout),
        ("permission_denied", "debian12", "BatchMode=yes and PubkeyAuthentication=no (nothing to authenticate with)",
         denied),
        ("bad_owner_or_permissions", "debian12", "the client's ~/.ssh/config is mode 666", bad_owner),
        ("could_not_resolve_hostname", "-", "a name the client's NSS (hosts: files) does not know", unresolved),
    ]


# Run on a server over a real SSH connection: records every file, link and journal query the connection-address
# walk of plugins/module_utils/_client_address.py makes, for its unit tests (a FakeHost replays them).
WALK_SCRIPT = r"""
import json, os, subprocess, sys
out = {"SSH_CONNECTION_before_reset": sys.argv[1], "files": {}, "links": {}, "unreadable": [], "journal": {}}
def read(path, key=None):
    try:
        with open(path) as handle:
            out["files"][key or path] = handle.read()
        return out["files"][key or path]
    except OSError:
        out["unreadable"].append(key or path)
pid, first = "self", None
for _ in range(32):
    text = read("/proc/%s/stat" % pid)
    if not text:
        break
    number, comm, parent = int(text.split()[0]), text[text.find("(") + 1:text.rfind(")")], int(text[text.rfind(")") + 1:].split()[1])
    if comm in ("sshd", "sshd-session"):
        first = first or number
        try:
            for fd in sorted(os.listdir("/proc/%d/fd" % number)):
                try:
                    out["links"]["/proc/%d/fd/%s" % (number, fd)] = os.readlink("/proc/%d/fd/%s" % (number, fd))
                except OSError:
                    out["unreadable"].append("/proc/%d/fd/%s" % (number, fd))
        except OSError:
            out["unreadable"].append("/proc/%d/fd" % number)
        out["journal"][str(number)] = subprocess.run(
            ["journalctl", "--no-pager", "-q", "-o", "cat", "-n", "200", "_PID=%d" % number],
            stdout=subprocess.PIPE, universal_newlines=True).stdout
    if parent in (0, 1):
        break
    pid = parent
for name in ("tcp", "tcp6"):
    if first:
        read("/proc/%d/net/%s" % (first, name))
print(json.dumps(out, indent=1, sort_keys=True))
"""


def capture_connection_walks(cap):
    """The walk as root (Debian 12 server, root login) and through sudo (Debian 13 server, user alice)."""
    user_key = cap.sh("c12", "cat /root/.ssh/id_ed25519.pub").stdout.strip()
    cap.sh("s13", "id alice >/dev/null 2>&1 || useradd -m alice; mkdir -p /home/alice/.ssh && "
                  "printf '%%s\\n' %s > /home/alice/.ssh/authorized_keys && chown -R alice /home/alice/.ssh && "
                  "echo 'alice ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/alice" % shlex.quote(user_key))
    for server, client, user, wrap, name in (("s12", "c13", "root", "env -i", "debian12/connection_walk_root.json"),
                                             ("s13", "c12", "alice", "sudo", "debian13/connection_walk_sudo.json")):
        remote = "%s python3 -c %s \"$SSH_CONNECTION\"" % (wrap, shlex.quote(WALK_SCRIPT))
        result = podman("exec", cap.name(client), *(SSH + DEFAULTS + ["%s@%s" % (user, cap.ip[server]), remote]))
        with open(os.path.join(FIXTURES, name), "w") as handle:
            handle.write(result.stdout)


WALK_NOTE = ["", "Also `debian12/connection_walk_root.json` and `debian13/connection_walk_sudo.json`: every /proc file, fd link and",
             "`journalctl _PID=N` the connection-address walk (plugins/module_utils/_client_address.py) reads, over a real SSH",
             "connection as root with `env -i`, and as user alice through `sudo`."]


def write_outputs(cap):
    for fault, release, verbose, err, _rc in cap.outputs:
        directory = os.path.join(FIXTURES, release)
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, "client_%s%s.txt" % (fault, "_v" if verbose else ""))
        with open(path, "w") as handle:
            handle.write(err)


def write(cap, table):
    lines = [
        "# Client error texts captured by tests/lab/client_errors.py",
        "",
        "Written by `tests/lab/lab capture-client-errors` on %s: what `ssh` and `ssh -v` of Debian 11, 12 and 13"
        % time.strftime("%Y-%m-%d", time.gmtime()),
        "(OpenSSH 8.4p1, 9.2p1, 10.0p2) printed on stderr against each fault, made real in a container. The files are",
        "`debianNN/client_<fault>.txt` and `client_<fault>_v.txt` (NN is the client's release). Servers: Debian 12 "
        "(OpenSSH 9.2p1, %s) and Debian 13 (10.0p2, %s); clients %s." % (
            cap.ip["s12"], cap.ip["s13"], ", ".join("%s %s" % (cap.clients[c], cap.ip[c]) for c in cap.clients)),
        "",
        "| fault | server | how it was made | exit codes (11/12/13) |",
        "|---|---|---|---|",
    ]
    for fault, server, how, _run in table:
        codes = []
        for release in CLIENT_RELEASES:
            rc = [o[4] for o in cap.outputs if o[0] == fault and o[1] == release and not o[2]]
            codes.append(str(rc[0]) if rc else "-")
        lines.append("| `%s` | %s | %s | %s |" % (fault, server, how, "/".join(codes)))
    lines += WALK_NOTE
    lines += ["", "Not made here: corrupted packets (`Corrupted MAC on input`, `message authentication code incorrect`,",
              "`Bad packet length`): this kernel has no netem, pedit or csum tc actions; those texts are transcribed from",
              "openssh-portable's packet.c and ssherr.c in plugins/module_utils/_client_errors.py."]
    with open(os.path.join(FIXTURES, "client_errors_captured.md"), "w") as handle:
        handle.write("\n".join(lines) + "\n")


def main(argv):
    keep = "--keep" in argv
    only = [a for a in argv if not a.startswith("-")]
    cap = Capture()
    started = time.monotonic()
    try:
        lablib.log("starting %s-* (2 servers, 3 clients)" % PREFIX)
        cap.start()
        table = faults(cap)
        for fault, _server, _how, make in table:
            if only and fault not in only:
                continue
            t0 = time.monotonic()
            make(cap)
            lablib.log("%-40s %4.1fs" % (fault, time.monotonic() - t0))
        if not only or "connection_walk" in only:
            capture_connection_walks(cap)
        write_outputs(cap)
        if not only:  # the index describes a whole run
            write(cap, table)
        lablib.log("wrote %d fixtures in %.0fs" % (len(cap.outputs), time.monotonic() - started))
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, RuntimeError, lablib.faults.PlantError) as exc:
        lablib.log("capture failed: %s" % exc)
        return 1
    finally:
        if not keep:
            cap.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
