# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The performance benchmark of sshdoctor.connreset (issue 7). It reports; it never gates CI.

Run it as ``./dev bench [options]`` (tests/performance/run). Three parts, each optional:

fleet    K healthy Debian 12 containers (<prefix>-f01..), reached over SSH with a key of
         the benchmark's own. Per repetition, in rotating order, it runs:
           A   naive.yml: 10 command tasks with registered output, facts on, Ansible defaults
           A'  the same, facts off, pipelining on, ControlPersist on, forks = K
           B   ansible-playbook sshdoctor.connreset.diagnose -f K, nothing else set (the
               role turns pipelining on where nothing configures it)
           Bf5 the same with Ansible's default forks (5)
           B-nopipe, B-probe  what-ifs: B with -e diagnose_pipelining=false, with -e diagnose_probe=false
           Bmitogen  B under Mitogen for Ansible's mitogen_linear strategy (installed with pip
               into the benchmark's cache)
           P   ping.yml: one ansible.builtin.ping task, forks = K, pipelining (Ansible's own floor)
           E   empty.yml: a play with no tasks and the same inventory (ansible-playbook start-up)
           C   floor_driver.py: one `ssh host python3 -` per host at once, running floor.py
           Cev `ssh host python3 inproc.py run ssh_evidence` per host at once: the same
               collectors as B with no Ansible around them (library pre-staged on the hosts)
         and records wall time, controller CPU (all of it, and ansible-playbook's main process
         alone), the hosts' CPU (the containers' cgroups), bytes on the wire (see measure() and
         Wire) and, for the playbooks, each task's time (ansible.posix.profile_tasks).
         --k 8,24 runs the whole fleet part at each size in turn (the containers of the largest
         size are started once) and adds what one more host costs.
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

ALL_VARIANTS = ("A", "A'", "B", "Bf5", "Bnopipe", "Bnoprobe", "Bmitogen", "P", "E", "C", "Cev")
PLAYBOOK_VARIANTS = ("A", "A'", "B", "Bf5", "Bnopipe", "Bnoprobe", "Bmitogen", "P", "E")
DIAGNOSE_VARIANTS = ("B", "Bf5", "Bnopipe", "Bnoprobe", "Bmitogen")
MITOGEN = "mitogen==0.3.54"
TARGETS = {
    "speedup_vs_A": 6.0,  # issue 7
    "speedup_vs_A_tuned": 5.0,  # issue 13 (issue 7: 4x)
    "B_over_C_after_startup": 1.5,  # issue 7
    "B_over_ping": 1.3,  # issue 13, at every K
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


TASK_TIME_RE = re.compile(r"^(?P<task>\S.*?) -{2,} (?P<seconds>\d+\.\d+)s\s*$")
# Short names for the tables.
TASK_NAMES = (
    ("Validating arguments against arg spec", "argument validation"),
    ("Collect the evidence on each host", "evidence+probe"),
    ("Collect the evidence", "evidence"),
    ("Probe each host", "probe"),
    ("Rank the causes", "report"),
    ("Ping", "ping"),
)


def short_task(name):
    for prefix, short in TASK_NAMES:
        if name.startswith(prefix):
            return short
    return name[:40]


def task_times(log_text):
    """{task name: seconds} from ansible.posix.profile_tasks' summary at the end of a run's output."""
    found = {}
    for line in log_text.splitlines():
        match = TASK_TIME_RE.match(line.strip())
        if match:
            found[short_task(match.group("task").split(" : ", 1)[-1])] = float(match.group("seconds"))
    return found


def report_check(run):
    """What the diagnose play's report.json says of the fleet: statuses and top causes, or None."""
    # The report's run directory, through its latest link (older reports wrote report/report.json).
    for path in (os.path.join(run, "report", "latest", "report.json"), os.path.join(run, "report", "report.json")):
        if os.path.exists(path):
            break
    else:
        return None
    with open(path) as handle:
        report = json.load(handle)
    statuses, causes, probes = {}, {}, {}
    for entry in report.get("hosts", {}).values():
        statuses[entry.get("status")] = statuses.get(entry.get("status"), 0) + 1
        top = entry["findings"][0]["cause"] if entry.get("findings") else None
        causes[str(top)] = causes.get(str(top), 0) + 1
        outcome = (entry.get("probe") or {}).get("outcome")
        probes[str(outcome)] = probes.get(str(outcome), 0) + 1
    return {"statuses": statuses, "top_causes": causes, "probe_outcomes": probes}


def measure(argv, env, cwd, logpath, wire, selfcpu=None):
    """Run one variant; return wall s, controller CPU s (user+sys of every descendant), bytes.

    With ``selfcpu`` (a file that selfcpu.py writes), also the CPU of ansible-playbook's main
    process alone; for playbooks, the task times profile_tasks printed.
    """
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
    res = {"rc": rc, "wall": wall, "cpu": cpu, "hosts_cpu": hosts, "sent": tx1 - tx0, "received": rx1 - rx0, "leftovers": leftovers}
    if selfcpu:
        try:
            with open(selfcpu) as handle:
                res["main_cpu"] = float(handle.read())
        except (IOError, OSError, ValueError):
            res["main_cpu"] = float("nan")
        with open(logpath, "rb") as handle:
            res["tasks"] = task_times(handle.read().decode("utf-8", "replace"))
        res["report"] = report_check(cwd)
    return res


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
        # A container that is being stopped as rm asks can refuse once ("could not be stopped"): ask again.
        for dummy in range(3):
            if sh(["podman", "rm", "-f", "-t", "2", name], check=False).returncode == 0 or container_state(name) is None:
                break
            time.sleep(1)


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


def start_fleet(k):
    """The first k fleet containers, started where they are not running yet: names and addresses."""
    key = ensure_key()
    names = ["%s-f%02d" % (TAG, i) for i in range(1, k + 1)]
    hosts = {}
    for name in names:
        if name in _STAGED:
            hosts[name] = _STAGED[name]
            continue
        log("container %s" % name)
        hosts[name] = start_container(name)
        install_key(name, key)
        wait_ssh(key, hosts[name])
        stage_library(name)
        _STAGED[name] = hosts[name]
    return names, hosts, key


_STAGED = {}  # containers this run has started (or found) and staged, with their addresses


def fleet_files(workdir, hosts, key):
    """The inventory and hosts.json of these hosts in workdir; the inventory's path."""
    inventory = os.path.join(workdir, "inventory.ini")
    with open(inventory, "w") as handle:
        handle.write("[fleet]\n")
        for name, address in hosts.items():
            handle.write("%s ansible_host=%s\n" % (name, address))
        handle.write("\n[fleet:vars]\nansible_user=root\nansible_ssh_private_key_file=%s\n" % key)
        handle.write("ansible_ssh_common_args=-o UserKnownHostsFile=/dev/null\n")
    with open(os.path.join(workdir, "hosts.json"), "w") as handle:
        json.dump({"key": key, "hosts": hosts}, handle)
    return inventory


def fleet_setup(k, workdir):
    names, hosts, key = start_fleet(k)
    return names, hosts, key, fleet_files(workdir, hosts, key)


def ensure_mitogen():
    """The strategy plugin directory of Mitogen for Ansible (pip-installed into the cache), or (None, why)."""
    target = os.path.join(CACHE, MITOGEN.replace("==", "-"))
    strategy = os.path.join(target, "ansible_mitogen", "plugins", "strategy")
    if not os.path.isdir(strategy):
        log("installing %s into %s" % (MITOGEN, target))
        proc = sh([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target, MITOGEN], check=False)
        if proc.returncode != 0:
            return None, "pip install %s failed: %s" % (MITOGEN, proc.stderr.decode("utf-8", "replace")[-300:])
    return strategy, None


def fleet_variants(k, workdir, inventory, hosts, key, have_diagnose):
    """name -> (argv builder taking a run directory, config file, extra environment)."""
    plain = os.path.join(workdir, "defaults.cfg")
    write_cfg(plain, inventory)
    tuned = os.path.join(workdir, "tuned.cfg")
    write_cfg(tuned, inventory, ["forks = %d" % k, "gathering = explicit"],
              ["pipelining = True", "ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s"])
    playbook = shutil.which("ansible-playbook")
    python = sys.executable
    variants = {
        "A": (lambda run: [playbook, os.path.join(HERE, "naive.yml")], plain, {}),
        "A'": (lambda run: [playbook, os.path.join(HERE, "naive.yml")], tuned, {}),
        "P": (lambda run: [playbook, os.path.join(HERE, "ping.yml")], tuned, {}),
        "E": (lambda run: [playbook, os.path.join(HERE, "empty.yml")], plain, {}),
        "C": (lambda run: [python, os.path.join(HERE, "floor_driver.py"), os.path.join(workdir, "hosts.json"),
                           os.path.join(HERE, "floor.py")], plain, {}),
        "Cev": (lambda run: [python, os.path.join(HERE, "floor_driver.py"), os.path.join(workdir, "hosts.json"),
                             os.path.join(workdir, "cev.py")], plain, {}),
    }
    with open(os.path.join(workdir, "cev.py"), "w") as handle:
        # The floor for B's own work: ssh_evidence's main() on the host, its library already there.
        handle.write("import subprocess, sys\nsys.exit(subprocess.call([sys.executable, %r, '--lib', %r, 'run', 'ssh_evidence', '--full']))\n"
                     % (REMOTE_DIR + "/inproc.py", REMOTE_LIB))
    if have_diagnose:
        def diagnose(run, forks=k):
            return [playbook, "sshdoctor.connreset.diagnose", "-f", str(forks), "-e", "sshdoctor_report_dir=%s" % os.path.join(run, "report")]
        variants["B"] = (diagnose, plain, {})
        variants["Bf5"] = (lambda run: diagnose(run, 5), plain, {})
        # What-ifs for the diagnose path: one setting changed from B each.
        variants["Bnopipe"] = (lambda run: diagnose(run) + ["-e", "diagnose_pipelining=false"], plain, {})
        variants["Bnoprobe"] = (lambda run: diagnose(run) + ["-e", "diagnose_probe=false"], plain, {})
        variants["Bmitogen"] = (diagnose, plain, {"ANSIBLE_STRATEGY": "mitogen_linear"})
    return variants


def variant_env(cfg, run, extra=None):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_") or k == "ANSIBLE_COLLECTIONS_PATH")
    env.update({
        "ANSIBLE_CONFIG": cfg,
        "ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(run, "cp"),  # every run starts without a master connection
        "ANSIBLE_LOCAL_TEMP": os.path.join(run, "tmp"),
    })
    env.update(extra or {})
    return env


def fleet_sizes(opts):
    sizes = sorted(set(int(part) for part in str(opts.k).split(",") if part.strip()))
    if not sizes or sizes[0] < 1:
        raise SystemExit("--k takes sizes such as 8 or 8,24")
    return sizes


def variants_at(opts):
    """{K: "V1,V2"} from --variants-at ("24:B,P,E;32:B,P"): the variants of those sizes, instead of --variants."""
    found = {}
    for part in (opts.variants_at or "").split(";"):
        if part.strip():
            size, sep, names = part.partition(":")
            if not sep or not size.strip().isdigit() or not names.strip():
                raise SystemExit("--variants-at takes K:V1,V2[;K:V1,...], such as 24:B,P,E")
            found[int(size)] = names.strip()
    return found


def summarise_runs(runs):
    summary = {
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
    if all("main_cpu" in r for r in runs):
        summary["main_cpu"] = median([r["main_cpu"] for r in runs])
        names = set()
        for r in runs:
            names.update(r.get("tasks") or {})
        summary["tasks"] = dict((name, median([r["tasks"][name] for r in runs if name in (r.get("tasks") or {})]))
                                for name in sorted(names))
        reports = [r["report"] for r in runs if r.get("report")]
        if reports:
            summary["report"] = reports[-1]
            summary["reports_alike"] = all(r == reports[-1] for r in reports)
    return summary


def run_fleet(opts, results):
    sizes = fleet_sizes(opts)
    results["fleets"] = {}
    names = []
    try:
        for k in sizes:
            names, hosts, key = start_fleet(k)
            results["fleets"][str(k)] = run_fleet_size(opts, k, hosts, key)
        results["fleet"] = results["fleets"][str(sizes[0])]
    finally:
        if not opts.keep:
            remove_containers(names)


def run_fleet_size(opts, k, hosts, key):
    workdir = os.path.join(CACHE, "%s-fleet-k%d" % (TAG, k))
    os.makedirs(workdir, exist_ok=True)
    inventory = fleet_files(workdir, hosts, key)
    wire = Wire(list(hosts))
    have_diagnose = os.path.exists(os.path.join(ROOT, "playbooks", "diagnose.yml"))
    variants = fleet_variants(k, workdir, inventory, hosts, key, have_diagnose)
    notes = []
    if not os.path.exists(os.path.join(ROOT, "plugins", "modules", "ssh_evidence.py")):
        variants.pop("Cev")
    order = [v for v in ALL_VARIANTS if v in variants]
    chosen = variants_at(opts).get(k, opts.variants)
    if chosen:
        order = [v for v in order if v in chosen.split(",")]
    if "Bmitogen" in order:
        strategy, why = ensure_mitogen()
        if strategy:
            variants["Bmitogen"][2]["ANSIBLE_STRATEGY_PLUGINS"] = strategy
        else:
            order.remove("Bmitogen")
            notes.append("Bmitogen not run: %s" % why)
    logs = os.path.join(workdir, "logs")
    shutil.rmtree(logs, ignore_errors=True)
    os.makedirs(logs)
    samples = dict((v, []) for v in order)
    counter = [0]

    def one(variant, rep):
        counter[0] += 1
        run = tempfile.mkdtemp(prefix="r%d-" % counter[0], dir=workdir)
        builder, cfg, extra = variants[variant]
        logpath = os.path.join(logs, "%s-%s.log" % (variant.replace("'", "t"), rep))
        argv, selfcpu, env = builder(run), None, variant_env(cfg, run, extra)
        if variant in PLAYBOOK_VARIANTS:
            selfcpu = os.path.join(run, "main-cpu")
            argv = [sys.executable, os.path.join(HERE, "selfcpu.py"), selfcpu] + argv
            env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks"
        res = measure(argv, env, run, logpath, wire, selfcpu)
        shutil.rmtree(run, ignore_errors=True)
        status = "ok" if res["rc"] == 0 else "rc=%s, see %s" % (res["rc"], logpath)
        log("K=%-3d %-8s rep %-6s wall %6.2f s  cpu %6.2f s  main %5.2f s  hosts cpu %6.2f s  sent %8d B  %s"
            % (k, variant, rep, res["wall"], res["cpu"], res.get("main_cpu", float("nan")), res["hosts_cpu"], res["sent"], status))
        return res

    log("K=%d: warm-up round (not counted)" % k)
    for variant in order:
        one(variant, "warmup")
    for rep in range(opts.reps):
        shift = rep % len(order)
        for variant in order[shift:] + order[:shift]:
            samples[variant].append(one(variant, rep + 1))
    summary = dict((variant, summarise_runs(runs)) for variant, runs in samples.items())
    return {"k": k, "reps": opts.reps, "variants": summary, "hosts": hosts, "notes": notes}


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
    main_argv = rounds[-1]["journalctl"][main_idx[-1]]["argv"] if main_idx[-1] is not None else None
    main_lines = [c["lines"] for c in data.get("journalctl_lines", []) if c["argv"] == main_argv]
    results["journal"] = dict(facts, **{
        "module_process_wall": median(process_wall),
        "module_process_cpu": median([r["module"]["process_cpu"] for r in rounds]),
        "module_wall": median(module_wall),
        "module_cpu": median(module_cpu),
        "journalctl_main_wall": median(main_wall),
        "journalctl_main_cpu": median(main_cpu),
        "journalctl_all_wall": median(all_wall),
        "main_argv": main_argv,
        # every line counted: the module's lines_read against the main read's own line count
        "journalctl_main_lines": main_lines[0] if main_lines else None,
        "module_max_rss_kb": max(r["module"].get("max_rss_kb") or 0 for r in rounds),
        "journalctl_max_rss_kb": max(r["module"].get("children_max_rss_kb") or 0 for r in rounds),
        "commands": [(c["argv"], round(c["wall"], 3) if c["wall"] is not None else "streamed") for c in rounds[-1]["module"]["commands"]],
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
        print("  %s  %s" % ("%.2f s" % cmd["wall"] if cmd["wall"] is not None else "streamed", " ".join(cmd["argv"])))
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
    opts.k = fleet_sizes(opts)[-1]
    workdir = os.path.join(CACHE, "%s-fleet-k%d" % (TAG, opts.k))
    os.makedirs(workdir, exist_ok=True)
    names, hosts, key, inventory = fleet_setup(opts.k, workdir)
    variants = fleet_variants(opts.k, workdir, inventory, hosts, key, True)
    builder, cfg, extra = variants["B"]
    run = tempfile.mkdtemp(dir=workdir)
    env = variant_env(cfg, run, extra)
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
    for label in ("B", "Bnopipe"):
        print("SSH operations per host in one run of %s (from -vvv):" % label)
        for host, ops in ssh_operations(variants[label][0], variants[label][1], workdir).items():
            print("  %s: %d ssh executions, %d file transfers" % (host, ops["exec"], ops["put"]))
            for line in ops["lines"]:
                print("      " + line)
    print("ssh_evidence in-process on %s (the remote part of B):" % names[0])
    out = sh(["podman", "exec", names[0], "python3", REMOTE_DIR + "/inproc.py", "--lib", REMOTE_LIB, "run", "ssh_evidence",
              "--profile", "25"]).stdout.decode()
    data = json.loads(out)
    print("wall %.2f s, cpu %.2f s, children cpu %.2f s" % (data["wall"], data["cpu"], data["children_cpu"]))
    for cmd in data["commands"]:
        print("  %s  %s" % ("%.3f s" % cmd["wall"] if cmd["wall"] is not None else "streamed", " ".join(cmd["argv"])))
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


def fleets_of(results):
    """[(k, fleet)] ascending; a run saved before --k took several sizes has one, under "fleet"."""
    if results.get("fleets"):
        return sorted(((int(k), f) for k, f in results["fleets"].items()), key=lambda item: item[0])
    if results.get("fleet"):
        return [(results["fleet"]["k"], results["fleet"])]
    return []


def per_extra_host(small, large, key):
    """What one more host costs in ``key`` between two fleet sizes: (k1, fleet1), (k2, fleet2) -> {variant: s}."""
    (k1, f1), (k2, f2) = small, large
    found = {}
    for name, v1 in f1["variants"].items():
        v2 = f2["variants"].get(name)
        if v2 is not None and key in v1 and key in v2:
            found[name] = (v2[key] - v1[key]) / float(k2 - k1)
    return found


def target_rows(results):
    rows = []
    fleets = fleets_of(results)
    for k, fleet in fleets:
        v = fleet["variants"]
        if "B" not in v:
            rows.append(("B (diagnose playbook), K=%s" % k, "-", "", "not measured"))
            continue
        b, e, c = v["B"], v.get("E"), v.get("C")
        if "P" in v:
            value = b["wall"] / v["P"]["wall"]
            rows.append(("B within 1.3x of the ping play (wall B/P), K=%s" % k, "%.2fx" % value, "<= 1.3x",
                         verdict(value, TARGETS["B_over_ping"], False)))
        if "A'" in v:
            value = v["A'"]["wall"] / b["wall"]
            rows.append(("B faster than A' (wall A'/B), K=%s" % k, "%.1fx" % value, ">= 5x", verdict(value, TARGETS["speedup_vs_A_tuned"], True)))
        if "A" in v:
            value = v["A"]["wall"] / b["wall"]
            rows.append(("  (issue 7) B faster than A (wall A/B), K=%s" % k, "%.1fx" % value, ">= 6x",
                         verdict(value, TARGETS["speedup_vs_A"], True)))
        if e and c:
            value = (b["wall"] - e["wall"]) / c["wall"]
            rows.append(("  (issue 7) B within 1.5x of C after start-up ((B-E)/C), K=%s" % k, "%.2fx" % value, "<= 1.5x",
                         verdict(value, TARGETS["B_over_C_after_startup"], False)))
    if len(fleets) > 1:
        cpu = per_extra_host(fleets[0], fleets[-1], "cpu")
        if "B" in cpu and "P" in cpu:
            rows.append(("controller CPU per extra host, B against P (K=%d to %d)" % (fleets[0][0], fleets[-1][0]),
                         "%.3f s vs %.3f s" % (cpu["B"], cpu["P"]), "B <= P",
                         "met" if cpu["B"] <= cpu["P"]
                         else "MISSED: %.1f%% above (B/P %.3f)" % (100.0 * (cpu["B"] - cpu["P"]) / cpu["P"], cpu["B"] / cpu["P"])))
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


VARIANT_LABELS = {
    "A": "A   naive.yml, 10 command tasks, facts on, defaults",
    "A'": "A'  naive.yml, facts off, pipelining, ControlPersist, forks=K",
    "B": "B   ansible-playbook sshdoctor.connreset.diagnose -f K",
    "Bf5": "Bf5 the same with Ansible's default forks (5)",
    "Bnopipe": "B-nopipe what-if: B with -e diagnose_pipelining=false",
    "Bnoprobe": "B-probe  what-if: B with -e diagnose_probe=false",
    "Bmitogen": "Bmitogen B under Mitogen's mitogen_linear strategy (%s)" % MITOGEN,
    "P": "P   ping.yml, one ansible.builtin.ping task, forks=K, pipelining",
    "E": "E   empty play, same inventory (start-up)",
    "C": "C   ssh host python3 - (floor.py), all hosts at once",
    "Cev": "Cev ssh host python3 inproc.py run ssh_evidence (B's collectors, no Ansible)",
    # Variants of runs saved before issue 13 (--render of an old JSON).
    "B'": "B'  (before issue 13) diagnose with A''s settings (forks=K, pipelining)",
    "Bpipe": "B+pipe   (before issue 13) what-if: B with -e ansible_pipelining=true",
}
LEGACY_VARIANTS = ("B'", "Bpipe")


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

    heading = "%s" if not markdown else "### %s"
    fleets = fleets_of(results)
    for k, fleet in fleets:
        v = fleet["variants"]
        out.append(heading % ("Fleet, K=%d hosts, median of %d repetitions (variants interleaved)" % (k, fleet["reps"])))
        out.append("")
        rows = []
        for name in ALL_VARIANTS + LEGACY_VARIANTS:
            if name in v:
                s = v[name]
                rows.append((VARIANT_LABELS[name], "%.2f s (%.2f-%.2f)" % (s["wall"], s["wall_min"], s["wall_max"]), "%.2f s" % s["cpu"],
                             "%.2f s" % s["main_cpu"] if "main_cpu" in s else "-",
                             "%.2f s" % s.get("hosts_cpu", float("nan")), fmt_bytes(s["sent"]), fmt_bytes(s["received"]),
                             "%d/%d" % (s["failed_runs"], len(s["runs"]))))
        table(("variant", "wall median (min-max)", "controller CPU", "of it ansible-playbook's main process", "hosts' CPU",
               "bytes sent", "bytes received", "failed runs"), rows)
        for note in fleet.get("notes") or []:
            out.append(note)
            out.append("")
        if "B" in v:
            def ratio(label, num, den, minus=None):
                cells = [label]
                for key in ("wall", "cpu", "hosts_cpu", "sent"):
                    top = num[key] - (minus[key] if minus and key != "sent" else 0)
                    cells.append("%.3f" % (top / den[key]) if den[key] else "-")
                return tuple(cells)

            rows = [ratio("B/%s" % other, v["B"], v[other]) for other in ("P", "A", "A'", "C") if other in v]
            if "E" in v and "C" in v:
                rows.append(ratio("(B-E)/C", v["B"], v["C"], v["E"]))
            if "E" in v and "P" in v:
                ping_less_start = dict((key, v["P"][key] - (v["E"][key] if key != "sent" else 0))
                                       for key in ("wall", "cpu", "hosts_cpu", "sent"))
                rows.append(ratio("(B-E)/(P-E)", v["B"], ping_less_start, v["E"]))
            for other in ("Bf5", "Bnopipe", "Bnoprobe", "Bmitogen"):
                if other in v:
                    rows.append(ratio("%s/B" % other, v[other], v["B"]))
            if "Cev" in v and "E" in v:
                rows.append(ratio("(B-E)/Cev", v["B"], v["Cev"], v["E"]))
                if "C" in v:
                    rows.append(ratio("Cev/C", v["Cev"], v["C"]))
            table(("ratio (E subtracted where named; not from bytes)", "wall", "controller CPU", "hosts' CPU", "bytes sent"), rows)
        rows = []
        for name in ALL_VARIANTS:
            tasks = (v.get(name) or {}).get("tasks")
            if tasks:
                rows.append((name, "; ".join("%s %.2f s" % (task, secs) for task, secs in tasks.items())))
        if rows:
            out.append(heading % ("Task times, K=%d (ansible.posix.profile_tasks, medians)" % k))
            out.append("")
            table(("variant", "tasks"), rows)
        rows = []
        for name in DIAGNOSE_VARIANTS:
            if (v.get(name) or {}).get("report"):
                rep = v[name]["report"]
                rows.append((name, json.dumps(rep["statuses"], sort_keys=True), json.dumps(rep["top_causes"], sort_keys=True),
                             json.dumps(rep["probe_outcomes"], sort_keys=True), "yes" if v[name].get("reports_alike") else "NO"))
        if rows:
            out.append(heading % ("What the diagnose runs reported, K=%d (report.json of the last run)" % k))
            out.append("")
            table(("variant", "statuses", "top causes", "probe outcomes", "same in every run"), rows)
    if len(fleets) > 1:
        small, large = fleets[0], fleets[-1]
        out.append(heading % ("What one more host costs, K=%d to K=%d ((value at %d - value at %d) / %d)"
                              % (small[0], large[0], large[0], small[0], large[0] - small[0])))
        out.append("")
        per = dict((key, per_extra_host(small, large, key)) for key in ("wall", "cpu", "main_cpu", "hosts_cpu", "sent"))
        rows = []
        for name in ALL_VARIANTS:
            if name in per["wall"]:
                rows.append((name, "%.3f s" % per["wall"][name], "%.3f s" % per["cpu"][name],
                             "%.3f s" % per["main_cpu"][name] if name in per["main_cpu"] else "-",
                             "%.3f s" % per["hosts_cpu"][name], fmt_bytes(per["sent"][name])))
        table(("variant", "wall", "controller CPU", "main process CPU", "hosts' CPU", "bytes sent"), rows)

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
        if journal.get("journalctl_main_lines") is not None:
            read = journal["result"].get("lines_read")
            out.append("lines: the module read %s, the main read prints %d (%s); peak RSS: module %.1f MiB,"
                       " journalctl %.1f MiB" % (read, journal["journalctl_main_lines"],
                                                 "every line counted" if read == journal["journalctl_main_lines"]
                                                 else "DIFFERENT", journal["module_max_rss_kb"] / 1024.0,
                                                 journal["journalctl_max_rss_kb"] / 1024.0))
        out.append("")
        out.append("module result: %s" % json.dumps(journal["result"])[:600])
        out.append("")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--only", default="fleet,parse,journal", help="comma-separated parts: fleet,parse,journal")
    parser.add_argument("--k", default="8", help="fleet size, or sizes: 8,24 runs the fleet part at each (8)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--variants", help="comma-separated subset of " + ",".join(ALL_VARIANTS))
    parser.add_argument("--variants-at", help="the variants of some fleet sizes, instead of --variants: 24:B,P,E[;K:...]")
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
