# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The performance benchmark of sshdoctor.connreset (issue 7). It reports; it never gates CI.

Run it as ``./dev bench [options]`` (tests/performance/run). Three parts, each optional:

fleet    K healthy Debian 12 containers (<prefix>-f01..), reached over SSH with a key of
         the benchmark's own. Per repetition, in rotating order, it runs:
           A   naive.yml: 10 command tasks with registered output, facts on, Ansible defaults
           A'  the same, facts off, pipelining on, ControlPersist on, forks = K
           B   ansible-playbook sshdoctor.connreset.diagnose, Ansible defaults
           B'  the same with A''s settings (forks = K, pipelining)
           E   empty.yml: a play with no tasks and the same inventory (ansible-playbook start-up)
           C   floor_driver.py: one `ssh host python3 -` per host at once, running floor.py
           Cev `ssh host python3 inproc.py run ssh_evidence` per host at once: the same
               collectors as B with no Ansible around them (library pre-staged on the hosts)
           B+pipe, B-probe  what-ifs: B with -e ansible_pipelining=true, B with -e diagnose_probe=false
         and records wall time, controller CPU, the hosts' CPU (the containers' cgroups) and
         bytes on the wire (see measure() and Wire).
parse    classify() of the signature catalogue over 1,000,000 seeded synthetic sshd lines
         (synth.py), CPU seconds, next to `grep -c -F -f <the catalogue's literals>`.
journal  a container whose journal holds about a million entries; sshd_journal_info run
         in-process there (inproc.py) against the journalctl commands it ran, replayed to
         /dev/null.

Every figure is the median over --reps repetitions (default 5) after one unmeasured
warm-up round; ratios are ratios of medians. --profile PART profiles that part instead.

Container names start with $SSHDOCTOR_BENCH_PREFIX (default ``bench``): two benchmarks with
different prefixes can run side by side, and each one removes only its own containers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import ctypes
import datetime
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import synth  # noqa: E402  pylint: disable=wrong-import-position

IMAGE = "localhost/sshdoctor-debian12:latest"
TAG = os.environ.get("SSHDOCTOR_BENCH_PREFIX") or "bench"
if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$", TAG):
    sys.exit("SSHDOCTOR_BENCH_PREFIX must be letters, digits, '.', '_' or '-' (a podman name prefix), not %r" % TAG)
CACHE = os.path.join(os.environ.get("SSHDOCTOR_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "sshdoctor"), "bench")
REMOTE_LIB = "/opt/bench/lib"
REMOTE_DIR = "/opt/bench"
JOURNAL_CONTAINER = "%s-journal" % TAG
PR_SET_CHILD_SUBREAPER = 36

ALL_VARIANTS = ("A", "A'", "B", "B'", "Bpipe", "Bnoprobe", "E", "C", "Cev")
TARGETS = {
    "speedup_vs_A": 6.0,
    "speedup_vs_A_tuned": 4.0,
    "B_over_C_after_startup": 1.5,
    "parse_cpu_per_million": 0.5,
    "journal_over_journalctl": 1.3,
}


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def sh(argv, check=True, capture=True, stdin=None, timeout=None):
    """Run a helper command (not measured)."""
    proc = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None, check=False, timeout=timeout)
    if check and proc.returncode != 0:
        err = (proc.stderr or b"").decode("utf-8", "replace")[-2000:]
        raise RuntimeError("%s failed (rc=%s): %s" % (" ".join(argv), proc.returncode, err))
    return proc


def median(values):
    return statistics.median(values) if values else float("nan")


# --- controller accounting -------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


def set_subreaper(on):
    """While on, processes that outlive their parent (ssh ControlPersist masters) become ours."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0)


def _orphans():
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                stat = handle.read()
        except (IOError, OSError):
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == me:
            found.append((int(entry), comm))
    return found


def reap_orphans():
    """End and reap the processes a variant left behind, so their CPU lands in RUSAGE_CHILDREN."""
    left = _orphans()
    for pid, dummy in left:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    for pid, dummy in left:
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass
    return [comm for dummy, comm in left]


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Wire:
    """Bytes between the controller and the fleet, from the host side of each container's veth.

    tx_bytes of the host-side veth = frames the controller sent into the container, rx_bytes =
    frames it received from it: Ethernet + IP + TCP headers included, all traffic of that
    container (the benchmark is its only peer; ARP and IPv6 chatter add a few hundred bytes).
    """

    def __init__(self, names):
        self.paths = []
        for name in names:
            iflink = sh(["podman", "exec", name, "cat", "/sys/class/net/eth0/iflink"]).stdout.decode().strip()
            for dev in os.listdir("/sys/class/net"):
                with open("/sys/class/net/%s/ifindex" % dev) as handle:
                    if handle.read().strip() == iflink:
                        self.paths.append("/sys/class/net/%s/statistics/" % dev)
                        break
            else:
                raise RuntimeError("no host-side interface for %s (iflink %s)" % (name, iflink))

        # CPU the containers themselves spent (sshd, the modules, the commands), from their cgroups.
        self.cpu_paths = []
        for name in names:
            cid = sh(["podman", "inspect", "-f", "{{.Id}}", name]).stdout.decode().strip()
            for path in ("/sys/fs/cgroup/cpuacct/libpod_parent/libpod-%s/cpuacct.usage" % cid,
                         "/sys/fs/cgroup/libpod_parent/libpod-%s/cpu.stat" % cid):
                if os.path.exists(path):
                    self.cpu_paths.append(path)
                    break

    def hosts_cpu(self):
        """Seconds of CPU used by the fleet's containers so far (None where the cgroup is not found)."""
        if len(self.cpu_paths) != len(self.paths):
            return None
        total = 0.0
        for path in self.cpu_paths:
            with open(path) as handle:
                text = handle.read()
            if path.endswith("cpuacct.usage"):
                total += int(text) / 1e9
            else:
                fields = dict(line.split() for line in text.splitlines() if line.strip())
                total += int(fields.get("usage_usec", 0)) / 1e6
        return total

    def read(self):
        sent = received = 0
        for path in self.paths:
            with open(path + "tx_bytes") as handle:
                sent += int(handle.read())
            with open(path + "rx_bytes") as handle:
                received += int(handle.read())
        return sent, received


def measure(argv, env, cwd, logpath, wire):
    """Run one variant; return wall s, controller CPU s (user+sys of every descendant), bytes."""
    set_subreaper(True)
    try:
        cpu0, (tx0, rx0), hosts0 = children_cpu(), wire.read(), wire.hosts_cpu()
        wall0 = time.perf_counter()
        with open(logpath, "wb") as out:
            rc = subprocess.call(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - wall0
        (tx1, rx1), hosts1 = wire.read(), wire.hosts_cpu()
        leftovers = reap_orphans()
        cpu = children_cpu() - cpu0
    finally:
        set_subreaper(False)
    hosts = hosts1 - hosts0 if hosts0 is not None and hosts1 is not None else float("nan")
    return {"rc": rc, "wall": wall, "cpu": cpu, "hosts_cpu": hosts, "sent": tx1 - tx0, "received": rx1 - rx0, "leftovers": leftovers}


# --- containers ------------------------------------------------------------------------------

def container_state(name):
    proc = sh(["podman", "inspect", "-f", "{{.State.Running}}", name], check=False)
    if proc.returncode != 0:
        return None
    return proc.stdout.decode().strip() == "true"


def start_container(name, extra=()):
    # ./dev (scripts/podman-env) has already made room for many systemd containers' inotify instances.
    state = container_state(name)
    if state is False:
        sh(["podman", "rm", "-f", name])
    if not state:
        sh(["podman", "run", "-d", "--name", name, "--hostname", name, "--systemd=always",
            "--cap-add", "NET_ADMIN,NET_RAW,SYSLOG"] + list(extra) + [IMAGE, "/sbin/init"])
    for dummy in range(240):
        proc = sh(["podman", "exec", name, "systemctl", "is-system-running"], check=False)
        if proc.stdout.decode().strip() in ("running", "degraded"):
            break
        time.sleep(0.5)
    else:
        raise RuntimeError("systemd in %s did not finish booting; see `podman exec %s journalctl -b`" % (name, name))
    return sh(["podman", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name]).stdout.decode().strip()


def ensure_key():
    key = os.path.join(CACHE, "id_ed25519")
    if not os.path.exists(key):
        os.makedirs(CACHE, exist_ok=True)
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sshdoctor-bench", "-f", key])
    return key


def install_key(name, key):
    with open(key + ".pub", "rb") as handle:
        pub = handle.read()
    sh(["podman", "exec", "-i", name, "sh", "-c",
        "mkdir -p /root/.ssh && chmod 700 /root/.ssh && cat > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys"],
       stdin=pub)


def ssh_argv(key, address):
    return ["ssh", "-i", key, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "root@%s" % address]


def wait_ssh(key, address):
    for dummy in range(60):
        if sh(ssh_argv(key, address) + ["true"], check=False).returncode == 0:
            return
        time.sleep(1)
    raise RuntimeError("no SSH to %s" % address)


def stage_library(name):
    """Copy ansible's module_utils and the collection's plugins to REMOTE_LIB on a container."""
    import ansible

    staging = tempfile.mkdtemp(prefix="bench-lib-")
    try:
        lib = os.path.join(staging, "lib")
        os.makedirs(os.path.join(lib, "ansible"))
        with open(os.path.join(lib, "ansible", "__init__.py"), "w"):
            pass
        shutil.copytree(os.path.join(os.path.dirname(ansible.__file__), "module_utils"),
                        os.path.join(lib, "ansible", "module_utils"), ignore=shutil.ignore_patterns("__pycache__"))
        coll = os.path.join(lib, "ansible_collections", "sshdoctor", "connreset")
        os.makedirs(coll)
        shutil.copytree(os.path.join(ROOT, "plugins"), os.path.join(coll, "plugins"), ignore=shutil.ignore_patterns("__pycache__"))
        for path in ("synth.py", "journal_fill.py", "inproc.py"):
            shutil.copy(os.path.join(HERE, path), staging)
        sh(["podman", "exec", name, "rm", "-rf", REMOTE_DIR])
        sh(["podman", "cp", staging, "%s:%s" % (name, REMOTE_DIR)])
    finally:
        shutil.rmtree(staging)


def remove_containers(names):
    for name in names:
        sh(["podman", "rm", "-f", "-t", "2", name], check=False)


def bench_containers():
    proc = sh(["podman", "ps", "-a", "--format", "{{.Names}}"])
    return [n for n in proc.stdout.decode().split() if n.startswith(TAG + "-")]


# --- fleet -----------------------------------------------------------------------------------

def write_cfg(path, inventory, extra_defaults=(), extra_ssh=()):
    with open(path, "w") as handle:
        handle.write("[defaults]\ninventory = %s\nhost_key_checking = False\nretry_files_enabled = False\n" % inventory)
        handle.write("nocolor = True\n")
        for line in extra_defaults:
            handle.write(line + "\n")
        handle.write("\n[ssh_connection]\n")
        for line in extra_ssh:
            handle.write(line + "\n")


def fleet_setup(k, workdir):
    key = ensure_key()
    names = ["%s-f%02d" % (TAG, i) for i in range(1, k + 1)]
    hosts = {}
    for name in names:
        log("container %s" % name)
        hosts[name] = start_container(name)
        install_key(name, key)
    for name, address in hosts.items():
        wait_ssh(key, address)
        stage_library(name)
    inventory = os.path.join(workdir, "inventory.ini")
    with open(inventory, "w") as handle:
        handle.write("[fleet]\n")
        for name, address in hosts.items():
            handle.write("%s ansible_host=%s\n" % (name, address))
        handle.write("\n[fleet:vars]\nansible_user=root\nansible_ssh_private_key_file=%s\n" % key)
        handle.write("ansible_ssh_common_args=-o UserKnownHostsFile=/dev/null\n")
    with open(os.path.join(workdir, "hosts.json"), "w") as handle:
        json.dump({"key": key, "hosts": hosts}, handle)
    return names, hosts, key, inventory


def fleet_variants(k, workdir, inventory, hosts, key, have_diagnose):
    """name -> (argv builder taking a run directory, config file)."""
    plain = os.path.join(workdir, "defaults.cfg")
    write_cfg(plain, inventory)
    tuned = os.path.join(workdir, "tuned.cfg")
    write_cfg(tuned, inventory, ["forks = %d" % k, "gathering = explicit"],
              ["pipelining = True", "ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s"])
    playbook = shutil.which("ansible-playbook")
    python = sys.executable
    variants = {
        "A": (lambda run: [playbook, os.path.join(HERE, "naive.yml")], plain),
        "A'": (lambda run: [playbook, os.path.join(HERE, "naive.yml")], tuned),
        "E": (lambda run: [playbook, os.path.join(HERE, "empty.yml")], plain),
        "C": (lambda run: [python, os.path.join(HERE, "floor_driver.py"), os.path.join(workdir, "hosts.json"),
                           os.path.join(HERE, "floor.py")], plain),
        "Cev": (lambda run: [python, os.path.join(HERE, "floor_driver.py"), os.path.join(workdir, "hosts.json"),
                             os.path.join(workdir, "cev.py")], plain),
    }
    with open(os.path.join(workdir, "cev.py"), "w") as handle:
        # The floor for B's own work: ssh_evidence's main() on the host, its library already there.
        handle.write("import subprocess, sys\nsys.exit(subprocess.call([sys.executable, %r, '--lib', %r, 'run', 'ssh_evidence', '--full']))\n"
                     % (REMOTE_DIR + "/inproc.py", REMOTE_LIB))
    if have_diagnose:
        def diagnose(run):
            return [playbook, "sshdoctor.connreset.diagnose", "-e", "sshdoctor_report_dir=%s" % os.path.join(run, "report")]
        variants["B"] = (diagnose, plain)
        variants["B'"] = (diagnose, tuned)
        # What-ifs for the diagnose path: one setting changed from B each.
        variants["Bpipe"] = (lambda run: diagnose(run) + ["-e", "ansible_pipelining=true"], plain)
        variants["Bnoprobe"] = (lambda run: diagnose(run) + ["-e", "diagnose_probe=false"], plain)
    return variants


def variant_env(cfg, run):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_") or k == "ANSIBLE_COLLECTIONS_PATH")
    env.update({
        "ANSIBLE_CONFIG": cfg,
        "ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(run, "cp"),  # every run starts without a master connection
        "ANSIBLE_LOCAL_TEMP": os.path.join(run, "tmp"),
    })
    return env


def run_fleet(opts, results):
    workdir = os.path.join(CACHE, "%s-fleet-k%d" % (TAG, opts.k))
    os.makedirs(workdir, exist_ok=True)
    names, hosts, key, inventory = fleet_setup(opts.k, workdir)
    wire = Wire(names)
    have_diagnose = os.path.exists(os.path.join(ROOT, "playbooks", "diagnose.yml"))
    variants = fleet_variants(opts.k, workdir, inventory, hosts, key, have_diagnose)
    if not os.path.exists(os.path.join(ROOT, "plugins", "modules", "ssh_evidence.py")):
        variants.pop("Cev")
    order = [v for v in ALL_VARIANTS if v in variants]
    if opts.variants:
        order = [v for v in order if v in opts.variants.split(",")]
    logs = os.path.join(workdir, "logs")
    shutil.rmtree(logs, ignore_errors=True)
    os.makedirs(logs)
    samples = dict((v, []) for v in order)
    counter = [0]

    def one(variant, rep):
        counter[0] += 1
        run = tempfile.mkdtemp(prefix="r%d-" % counter[0], dir=workdir)
        builder, cfg = variants[variant]
        logpath = os.path.join(logs, "%s-%s.log" % (variant.replace("'", "t"), rep))
        res = measure(builder(run), variant_env(cfg, run), run, logpath, wire)
        shutil.rmtree(run, ignore_errors=True)
        status = "ok" if res["rc"] == 0 else "rc=%s, see %s" % (res["rc"], logpath)
        log("%-4s rep %-6s wall %6.2f s  cpu %6.2f s  hosts cpu %6.2f s  sent %8d B  %s"
            % (variant, rep, res["wall"], res["cpu"], res["hosts_cpu"], res["sent"], status))
        return res

    log("warm-up round (not counted)")
    for variant in order:
        one(variant, "warmup")
    for rep in range(opts.reps):
        shift = rep % len(order)
        for variant in order[shift:] + order[:shift]:
            samples[variant].append(one(variant, rep + 1))
    summary = {}
    for variant, runs in samples.items():
        summary[variant] = {
            "wall": median([r["wall"] for r in runs]),
            "wall_min": min(r["wall"] for r in runs),
            "wall_max": max(r["wall"] for r in runs),
            "cpu": median([r["cpu"] for r in runs]),
            "hosts_cpu": median([r["hosts_cpu"] for r in runs]),
            "sent": median([r["sent"] for r in runs]),
            "received": median([r["received"] for r in runs]),
            "failed_runs": sum(1 for r in runs if r["rc"] != 0),
            "runs": runs,
        }
    results["fleet"] = {"k": opts.k, "reps": opts.reps, "variants": summary, "hosts": hosts}
    if not opts.keep:
        remove_containers(names)


# --- parse -----------------------------------------------------------------------------------

def synthetic_file(lines, seed=7):
    path = os.path.join(CACHE, "sshd-%d-seed%d.log" % (lines, seed))
    if not os.path.exists(path):
        os.makedirs(CACHE, exist_ok=True)
        log("writing %d synthetic lines to %s" % (lines, path))
        tmp = path + ".tmp"
        with open(tmp, "w") as handle:
            for line in synth.syslog_lines(lines, seed):
                handle.write(line + "\n")
        os.rename(tmp, path)
    return path


def run_parse(opts, results):
    path = synthetic_file(opts.lines)
    literals = os.path.join(CACHE, "literals.txt")
    cmd = [sys.executable, os.path.join(HERE, "parse_bench.py"), path, "--reps", "1", "--literals-out", literals]
    py, grep = [], []
    counts = None
    for rep in range(opts.reps + 1):
        proc = sh(cmd)
        data = json.loads(proc.stdout.decode())
        counts = data["counts"]
        cpu0, wall0 = children_cpu(), time.perf_counter()
        out = sh(["grep", "-c", "-F", "-f", literals, path], check=False)
        g = {"cpu": children_cpu() - cpu0, "wall": time.perf_counter() - wall0, "count": int(out.stdout.decode().strip() or 0)}
        if rep == 0:
            continue  # warm-up
        py.extend(data["reps"])
        grep.append(g)
        log("parse rep %d: split %.2f s, loop %.2f s, classify %.2f s CPU; grep -c %.2f s CPU (%d lines)"
            % (rep, data["reps"][0]["split"], data["reps"][0]["loop"], data["reps"][0]["classify"], g["cpu"], g["count"]))
    scale = 1e6 / counts["lines"]
    results["parse"] = {
        "lines": counts["lines"],
        "hits": counts["hits"],
        "by_signature": counts["by_signature"],
        "split": median([r["split"] for r in py]) * scale,
        "loop": median([r["loop"] for r in py]) * scale,
        "classify": median([r["classify"] for r in py]) * scale,
        "prefilter": median([r["prefilter"] for r in py]) * scale,
        "prefilter_hits": py[-1]["prefilter_hits"],
        "grep_cpu": median([g["cpu"] for g in grep]) * scale,
        "grep_wall": median([g["wall"] for g in grep]) * scale,
        "grep_count": grep[-1]["count"],
        "reps": opts.reps,
    }


def profile_parse(opts):
    path = synthetic_file(opts.lines)
    print(sh([sys.executable, os.path.join(HERE, "parse_bench.py"), path, "--profile", "30"]).stdout.decode())


# --- journal ---------------------------------------------------------------------------------

def journal_setup(opts):
    name = JOURNAL_CONTAINER
    start_container(name)
    stage_library(name)
    marker = "%s/filled-%d" % ("/var/lib/bench", opts.journal_entries)
    if sh(["podman", "exec", name, "test", "-e", marker], check=False).returncode != 0:
        log("configuring journald (no rate limit, persistent, 4G) and filling %d entries" % opts.journal_entries)
        conf = "[Journal]\nStorage=persistent\nRateLimitIntervalSec=0\nRateLimitBurst=0\nSystemMaxUse=4G\n"
        sh(["podman", "exec", "-i", name, "sh", "-c",
            "mkdir -p /etc/systemd/journald.conf.d /var/lib/bench && cat > /etc/systemd/journald.conf.d/bench.conf"
            " && systemctl restart systemd-journald"], stdin=conf.encode())
        sshd_share = int(opts.journal_entries * opts.journal_sshd_share)
        t0 = time.time()
        log(sh(["podman", "exec", name, "python3", REMOTE_DIR + "/journal_fill.py", "--count", str(sshd_share)]).stdout.decode().strip())
        log(sh(["podman", "exec", name, "python3", REMOTE_DIR + "/journal_fill.py", "--noise", "--count",
                str(opts.journal_entries - sshd_share)]).stdout.decode().strip())
        sh(["podman", "exec", name, "journalctl", "--sync"], check=False)
        log("filled in %.0f s" % (time.time() - t0))
        sh(["podman", "exec", name, "touch", marker])
    total = sh(["podman", "exec", name, "sh", "-c", "journalctl -q -o cat | wc -l"]).stdout.decode().strip()
    unit = sh(["podman", "exec", name, "sh", "-c", "journalctl -q -u ssh -o cat | wc -l"]).stdout.decode().strip()
    usage = sh(["podman", "exec", name, "journalctl", "--disk-usage"]).stdout.decode().strip()
    return name, {"entries_total": int(total), "entries_ssh_unit": int(unit), "disk_usage": usage}


def summarise_journal_result(result):
    keep = dict((k, result[k]) for k in ("source", "since", "lines_read", "truncated", "limits", "notes") if k in result)
    if isinstance(result.get("signatures"), dict):
        keep["signature_counts"] = dict((k, v.get("count")) for k, v in result["signatures"].items() if isinstance(v, dict))
    return keep


def run_journal(opts, results):
    name, facts = journal_setup(opts)
    log("journal: %s" % facts)
    proc = sh(["podman", "exec", name, "python3", REMOTE_DIR + "/inproc.py", "--lib", REMOTE_LIB, "time-journal",
               "--reps", str(opts.reps), "--args", opts.journal_args])
    data = json.loads(proc.stdout.decode())
    rounds = data["rounds"]
    module_wall = [r["module"]["wall"] for r in rounds]
    module_cpu = [r["module"]["cpu"] + r["module"]["children_cpu"] for r in rounds]
    # The main read: the journalctl command that took longest inside the module.
    main_idx = [max(range(len(r["journalctl"])), key=lambda i: r["journalctl"][i]["wall"]) if r["journalctl"] else None
                for r in rounds]
    main_wall = [r["journalctl"][i]["wall"] for r, i in zip(rounds, main_idx) if i is not None]
    main_cpu = [r["journalctl"][i]["cpu"] for r, i in zip(rounds, main_idx) if i is not None]
    all_wall = [sum(j["wall"] for j in r["journalctl"]) for r in rounds]
    process_wall = [r["module"]["process_wall"] for r in rounds]
    results["journal"] = dict(facts, **{
        "module_process_wall": median(process_wall),
        "module_process_cpu": median([r["module"]["process_cpu"] for r in rounds]),
        "module_wall": median(module_wall),
        "module_cpu": median(module_cpu),
        "journalctl_main_wall": median(main_wall),
        "journalctl_main_cpu": median(main_cpu),
        "journalctl_all_wall": median(all_wall),
        "main_argv": rounds[-1]["journalctl"][main_idx[-1]]["argv"] if main_idx[-1] is not None else None,
        "commands": [(c["argv"], round(c["wall"], 3)) for c in rounds[-1]["module"]["commands"]],
        "result": summarise_journal_result(data["result"]),
        "reps": opts.reps,
    })
    if not opts.keep:
        remove_containers([name])


def profile_journal(opts):
    name, facts = journal_setup(opts)
    log("journal: %s" % facts)
    proc = sh(["podman", "exec", name, "python3", REMOTE_DIR + "/inproc.py", "--lib", REMOTE_LIB, "run",
               "sshd_journal_info", "--args", opts.journal_args, "--profile", "30"])
    data = json.loads(proc.stdout.decode())
    print("wall %.2f s, cpu %.2f s, children cpu %.2f s" % (data["wall"], data["cpu"], data["children_cpu"]))
    for cmd in data["commands"]:
        print("  %.2f s  %s" % (cmd["wall"], " ".join(cmd["argv"])))
    print(data["profile"])
    if not opts.keep:
        remove_containers([name])


def ssh_operations(builder, cfg, workdir):
    """Run a variant once with -vvv and count, per host address, the ssh commands and transfers."""
    run = tempfile.mkdtemp(dir=workdir)
    set_subreaper(True)
    try:
        proc = subprocess.run(builder(run) + ["-vvv"], env=variant_env(cfg, run), cwd=run,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        reap_orphans()
    finally:
        set_subreaper(False)
    shutil.rmtree(run, ignore_errors=True)
    found = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if not line.startswith("<") or "> " not in line:
            continue
        host, rest = line[1:].split("> ", 1)
        entry = found.setdefault(host, {"exec": 0, "put": 0, "lines": []})
        if rest.startswith("SSH: EXEC"):
            entry["exec"] += 1
            entry["lines"].append("exec: ..." + rest[-110:])
        elif rest.startswith("PUT "):
            entry["put"] += 1
            entry["lines"].append(rest[:150])
    return found


def profile_fleet(opts):
    """Where B's time goes: per-task timing, the controller's Python profile, and the remote module."""
    workdir = os.path.join(CACHE, "%s-fleet-k%d" % (TAG, opts.k))
    os.makedirs(workdir, exist_ok=True)
    names, hosts, key, inventory = fleet_setup(opts.k, workdir)
    variants = fleet_variants(opts.k, workdir, inventory, hosts, key, True)
    builder, cfg = variants["B"]
    run = tempfile.mkdtemp(dir=workdir)
    env = variant_env(cfg, run)
    env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks"
    prof = os.path.join(workdir, "ansible-playbook.prof")
    argv = builder(run)
    t0 = time.perf_counter()
    set_subreaper(True)
    try:
        proc = subprocess.run([sys.executable, "-m", "cProfile", "-o", prof] + argv, env=env, cwd=run,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        reap_orphans()
    finally:
        set_subreaper(False)
    print("B under cProfile: %.2f s wall, rc %s" % (time.perf_counter() - t0, proc.returncode))
    text = proc.stdout.decode("utf-8", "replace")
    print(text[text.find("PLAY RECAP"):] if "PLAY RECAP" in text else text[-4000:])
    import pstats

    stats = pstats.Stats(prof)
    stats.sort_stats("cumulative").print_stats(25)
    for label, config in (("B", cfg), ("B' (pipelining, forks=K)", variants["B'"][1])):
        print("SSH operations per host in one run of %s (from -vvv):" % label)
        for host, ops in ssh_operations(builder, config, workdir).items():
            print("  %s: %d ssh executions, %d file transfers" % (host, ops["exec"], ops["put"]))
            for line in ops["lines"]:
                print("      " + line)
    print("ssh_evidence in-process on %s (the remote part of B):" % names[0])
    out = sh(["podman", "exec", names[0], "python3", REMOTE_DIR + "/inproc.py", "--lib", REMOTE_LIB, "run", "ssh_evidence",
              "--profile", "25"]).stdout.decode()
    data = json.loads(out)
    print("wall %.2f s, cpu %.2f s, children cpu %.2f s" % (data["wall"], data["cpu"], data["children_cpu"]))
    for cmd in data["commands"]:
        print("  %.3f s  %s" % (cmd["wall"], " ".join(cmd["argv"])))
    print(data["profile"])
    if not opts.keep:
        remove_containers(names)


# --- report ----------------------------------------------------------------------------------

def machine():
    mem = ""
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1024.0 / 1024.0)
    others = sh(["podman", "ps", "--format", "{{.Names}}"], check=False).stdout.decode().split()
    ansible_version = sh(["ansible-playbook", "--version"], check=False).stdout.decode().splitlines()[0:1]
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ansible": ansible_version[0] if ansible_version else "?",
        "load_at_start": "%.2f %.2f %.2f" % os.getloadavg(),
        "other_containers_running": len([n for n in others if not n.startswith(TAG + "-")]),
    }


def verdict(value, target, higher_is_better):
    """'met' or 'MISSED by X' for one figure."""
    if math.isnan(value):
        return "not measured"
    if higher_is_better:
        if value >= target:
            return "met"
        return "MISSED: %.1f%% below (target/value %.3f)" % (100.0 * (target - value) / target, target / value)
    if value <= target:
        return "met"
    return "MISSED: %.1f%% above (value/target %.3f)" % (100.0 * (value - target) / target, value / target)


def target_rows(results):
    rows = []
    fleet = results.get("fleet", {}).get("variants", {})
    k = results.get("fleet", {}).get("k")
    if "B" in fleet:
        b, e, c = fleet["B"], fleet.get("E"), fleet.get("C")
        if "A" in fleet:
            value = fleet["A"]["wall"] / b["wall"]
            rows.append(("B faster than A (wall A/B), K=%s" % k, "%.1fx" % value, ">= 6x", verdict(value, TARGETS["speedup_vs_A"], True)))
        if "A'" in fleet:
            value = fleet["A'"]["wall"] / b["wall"]
            rows.append(("B faster than A' (wall A'/B), K=%s" % k, "%.1fx" % value, ">= 4x", verdict(value, TARGETS["speedup_vs_A_tuned"], True)))
        if e and c:
            value = (b["wall"] - e["wall"]) / c["wall"]
            rows.append(("B within 1.5x of C after start-up ((B-E)/C)", "%.2fx" % value, "<= 1.5x",
                         verdict(value, TARGETS["B_over_C_after_startup"], False)))
    elif "fleet" in results:
        rows.append(("B (diagnose playbook)", "-", "", "not measured: playbooks/diagnose.yml missing"))
    parse = results.get("parse")
    if parse:
        value = parse["classify"]
        rows.append(("parsing: classify() on 1M lines, CPU s", "%.3f s" % value, "<= 0.5 s",
                     verdict(value, TARGETS["parse_cpu_per_million"], False)))
        value = parse["split"] + parse["classify"]
        rows.append(("  the same with splitlines() of the text", "%.3f s" % value, "<= 0.5 s",
                     verdict(value, TARGETS["parse_cpu_per_million"], False)))
    journal = results.get("journal")
    if journal:
        value = journal["module_wall"] / journal["journalctl_main_wall"]
        rows.append(("journal query / journalctl alone (wall)", "%.2fx" % value, "<= 1.3x",
                     verdict(value, TARGETS["journal_over_journalctl"], False)))
        value = journal["module_cpu"] / journal["journalctl_main_cpu"]
        rows.append(("  the same in CPU (module + its children / journalctl)", "%.2fx" % value, "(none)", "for reading: steadier under load"))
    return rows


def fmt_bytes(n):
    return "%.0f KiB" % (n / 1024.0) if n < 10 * 1024 * 1024 else "%.1f MiB" % (n / 1048576.0)


def render(results, markdown=False):
    out = []

    def table(header, rows):
        if markdown:
            out.append("| " + " | ".join(header) + " |")
            out.append("|" + "|".join("---" for dummy in header) + "|")
            for row in rows:
                out.append("| " + " | ".join(str(c) for c in row) + " |")
        else:
            widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
            out.append("  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
            out.append("  ".join("-" * w for w in widths))
            for row in rows:
                out.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
        out.append("")

    out.append("Targets" if not markdown else "### Targets")
    out.append("")
    table(("measure", "value", "target", "result"), target_rows(results))

    fleet = results.get("fleet")
    if fleet:
        v = fleet["variants"]
        out.append(("Fleet, K=%d hosts, median of %d repetitions (variants interleaved)" if not markdown else
                    "### Fleet, K=%d hosts, median of %d repetitions (variants interleaved)") % (fleet["k"], fleet["reps"]))
        out.append("")
        labels = {
            "A": "A   naive.yml, 10 command tasks, facts on, defaults",
            "A'": "A'  naive.yml, facts off, pipelining, ControlPersist, forks=K",
            "B": "B   ansible-playbook sshdoctor.connreset.diagnose, defaults",
            "B'": "B'  diagnose with A''s settings (forks=K, pipelining)",
            "Bpipe": "B+pipe   what-if: B with -e ansible_pipelining=true",
            "Bnoprobe": "B-probe  what-if: B with -e diagnose_probe=false",
            "E": "E   empty play, same inventory (start-up)",
            "C": "C   ssh host python3 - (floor.py), all hosts at once",
            "Cev": "Cev ssh host python3 inproc.py run ssh_evidence (B's collectors, no Ansible)",
        }
        rows = []
        for name in ALL_VARIANTS:
            if name in v:
                s = v[name]
                rows.append((labels[name], "%.2f s (%.2f-%.2f)" % (s["wall"], s["wall_min"], s["wall_max"]), "%.2f s" % s["cpu"],
                             "%.2f s" % s.get("hosts_cpu", float("nan")), fmt_bytes(s["sent"]), fmt_bytes(s["received"]),
                             "%d/%d" % (s["failed_runs"], len(s["runs"]))))
        table(("variant", "wall median (min-max)", "controller CPU", "hosts' CPU", "bytes sent", "bytes received", "failed runs"), rows)
        if "B" in v:
            def ratio(label, num, den, minus=None):
                cells = [label]
                for key in ("wall", "cpu", "hosts_cpu", "sent"):
                    top = num[key] - (minus[key] if minus and key != "sent" else 0)
                    cells.append("%.3f" % (top / den[key]) if den[key] else "-")
                return tuple(cells)

            rows = [ratio("B/%s" % other, v["B"], v[other]) for other in ("A", "A'", "C") if other in v]
            if "E" in v and "C" in v:
                rows.append(ratio("(B-E)/C", v["B"], v["C"], v["E"]))
            if "B'" in v:
                rows.extend(ratio("B'/%s" % other, v["B'"], v[other]) for other in ("A'", "C") if other in v)
            if "Cev" in v and "E" in v:
                rows.append(ratio("(B-E)/Cev", v["B"], v["Cev"], v["E"]))
                if "C" in v:
                    rows.append(ratio("Cev/C", v["Cev"], v["C"]))
            table(("ratio (E subtracted where named; not from bytes)", "wall", "controller CPU", "hosts' CPU", "bytes sent"), rows)

    parse = results.get("parse")
    if parse:
        out.append(("Parsing %d synthetic sshd lines (seeded; %d matched a signature), CPU s per 1M lines, median of %d"
                    if not markdown else "### Parsing %d synthetic sshd lines (seeded; %d matched a signature), CPU s per 1M lines, median of %d")
                   % (parse["lines"], parse["hits"], parse["reps"]))
        out.append("")
        table(("step", "CPU s / 1M lines"), [
            ("text.splitlines()", "%.3f" % parse["split"]),
            ("empty Python loop over the lines", "%.3f" % parse["loop"]),
            ("_signatures.classify() on every line (loop included)", "%.3f" % parse["classify"]),
            ("what-if: one regex over the text for candidate lines, classify() on those (%d hits%s)"
             % (parse["prefilter_hits"], "" if parse["prefilter_hits"] == parse["hits"] else ", DIFFERENT from classify()"),
             "%.3f" % parse["prefilter"]),
            ("grep -c -F -f <catalogue literals> (%d lines), floor" % parse["grep_count"], "%.3f (wall %.3f)" % (parse["grep_cpu"], parse["grep_wall"])),
        ])

    journal = results.get("journal")
    if journal:
        out.append(("Journal query: %d entries in the journal, %d of them in ssh.service (%s), median of %d"
                    if not markdown else "### Journal query: %d entries in the journal, %d of them in ssh.service (%s), median of %d")
                   % (journal["entries_total"], journal["entries_ssh_unit"], journal["disk_usage"], journal["reps"]))
        out.append("")
        table(("what", "wall", "CPU"), [
            ("sshd_journal_info main(), timed inside a new Python process (args %s)" % json.dumps(results.get("journal_args", {})),
             "%.2f s" % journal["module_wall"], "%.2f s" % journal["module_cpu"]),
            ("  the whole process: interpreter, imports, main(), JSON out",
             "%.2f s" % journal["module_process_wall"], "%.2f s" % journal["module_process_cpu"]),
            ("its main read (the journalctl below) replayed to /dev/null",
             "%.2f s" % journal["journalctl_main_wall"], "%.2f s" % journal["journalctl_main_cpu"]),
            ("all its journalctl commands replayed to /dev/null", "%.2f s" % journal["journalctl_all_wall"], ""),
        ])
        out.append("main read: %s" % " ".join(journal["main_argv"] or []))
        out.append("")
        out.append("module result: %s" % json.dumps(journal["result"])[:600])
        out.append("")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--only", default="fleet,parse,journal", help="comma-separated parts: fleet,parse,journal")
    parser.add_argument("--k", type=int, default=8, help="fleet size (8; 32 where the machine holds it)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--variants", help="comma-separated subset of " + ",".join(ALL_VARIANTS))
    parser.add_argument("--lines", type=int, default=1000000)
    parser.add_argument("--journal-entries", type=int, default=1000000)
    parser.add_argument("--journal-sshd-share", type=float, default=0.6,
                        help="fraction of the journal's entries written into ssh.service (the rest: other daemons)")
    parser.add_argument("--journal-args", default="{}", help="sshd_journal_info arguments as JSON")
    parser.add_argument("--keep", action="store_true", help="leave the containers running (reused by the next run)")
    parser.add_argument("--down", action="store_true", help="remove every $SSHDOCTOR_BENCH_PREFIX-* container (default bench-*) and exit")
    parser.add_argument("--profile", choices=("fleet", "parse", "journal"), help="profile one part instead of benchmarking")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--markdown", help="also write the tables as Markdown to this file")
    parser.add_argument("--render", metavar="JSON", help="print the tables of a run saved with --json, and exit")
    parser.add_argument("--markdown-stdout", action="store_true", help="with --render: as Markdown")
    opts = parser.parse_args()

    if opts.render:
        with open(opts.render) as handle:
            results = json.load(handle)
        print(render(results, markdown=opts.markdown_stdout))
        return 0
    if opts.down:
        remove_containers(bench_containers())
        return 0
    if opts.profile:
        {"fleet": profile_fleet, "parse": profile_parse, "journal": profile_journal}[opts.profile](opts)
        return 0

    results = {"machine": machine(), "journal_args": json.loads(opts.journal_args)}
    parts = opts.only.split(",")
    try:
        if "parse" in parts:
            run_parse(opts, results)
        if "journal" in parts:
            run_journal(opts, results)
        if "fleet" in parts:
            run_fleet(opts, results)
    finally:
        results["machine"]["load_at_end"] = "%.2f %.2f %.2f" % os.getloadavg()
        if opts.json:
            with open(opts.json, "w") as handle:
                json.dump(results, handle, indent=1, default=str)
    text = render(results)
    print()
    print("Machine: %s" % ", ".join("%s %s" % kv for kv in results["machine"].items()))
    print()
    print(text)
    if opts.markdown:
        with open(opts.markdown, "w") as handle:
            handle.write("Command: `./dev bench %s`\n\n" % " ".join(sys.argv[1:]))
            handle.write("Machine: %s\n\n" % ", ".join("%s %s" % kv for kv in results["machine"].items()))
            handle.write(render(results, markdown=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
