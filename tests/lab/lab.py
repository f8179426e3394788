# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault lab: systemd containers of Debian 11, 12 and 13, one real fault each.

Run through ``tests/lab/lab`` (or ``./dev lab``). ``up`` starts the fleet on its
own podman bridge, installs a generated key, plants the faults (faults.py, one
function per fault, each returning proof that the fault is really there),
checks which hosts the controller can still log in to, writes an Ansible
inventory and runs ``ansible-playbook sshdoctor.connreset.diagnose`` over SSH.
The fleet stays up until ``down``.
"""

import argparse
import concurrent.futures
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import faults

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.environ.get("SSHDOCTOR_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sshdoctor")
STATE = os.path.join(CACHE, "lab")
NETWORK = os.environ.get("SSHDOCTOR_LAB_NETWORK", "sshdoctor-lab")
SUBNET = ipaddress.ip_network(os.environ.get("SSHDOCTOR_LAB_SUBNET", "10.89.77.0/24"))
LABEL = "sshdoctor.lab"
IMAGE = "localhost/sshdoctor-{release}:latest"
BOOT_TIMEOUT = 60
# Units that only make sense on a console. In a container they cost an inotify instance each, and
# when many systemd containers boot at once on one host they fail with "Too many open files" and
# can leave the boot hanging: skip them.
CONTAINER_DROPIN = "[Unit]\nConditionVirtualization=!container\n"
SKIPPED_UNITS = ("systemd-ask-password-console.path", "systemd-ask-password-wall.path")
SSH_OPTIONS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
               "-o", "BatchMode=yes", "-o", "ConnectTimeout=8", "-o", "IdentitiesOnly=yes"]

START = time.monotonic()


def log(message):
    print("[%5.1fs] %s" % (time.monotonic() - START, message), flush=True)


def run(argv, check=True, timeout=120, input_text=None):
    """Run a command on the controller; return CompletedProcess with text output."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input_text, check=False)
    if check and result.returncode != 0:
        raise faults.PlantError("%s exited %d: %s" % (" ".join(argv[:4]), result.returncode,
                                                      (result.stderr or result.stdout).strip()[-500:]))
    return result


def podman(*args, **kwargs):
    return run(["podman"] + list(args), **kwargs)


class Lab:
    """What a fault function may use: the hosts' addresses, podman exec, the client, the controller."""

    def __init__(self):
        self.key = os.path.join(STATE, "id_ed25519")
        self.inventory = os.path.join(STATE, "inventory.yml")
        self.statefile = os.path.join(STATE, "lab.json")
        self.report_dir = os.path.join(STATE, "report")
        self.controller_ip = str(SUBNET[1])  # the bridge's gateway: where the controller's connections come from
        self.client_ip = str(SUBNET[faults.CLIENT.offset])

    podman = staticmethod(podman)

    def address(self, host):
        return str(SUBNET[host.offset])

    def run_in(self, host, *argv, check=True, timeout=120, detach=False):
        """Run a command inside a lab container (podman exec, not SSH)."""
        name = host if isinstance(host, str) else host.name
        return podman("exec", *(["-d"] if detach else []), name, *argv, check=check, timeout=timeout)

    def sh(self, host, script, check=True, timeout=120):
        return self.run_in(host, "sh", "-c", script, check=check, timeout=timeout)

    def python(self, host, code, *args, timeout=120, check=True):
        return self.run_in(host, "python3", "-c", code, *[str(a) for a in args], timeout=timeout, check=check)

    def client_ssh(self, host, command, options=(), check=False, timeout=60, detach=False):
        """ssh from the lab client (its own address) to a host, as root with the lab key."""
        argv = ["ssh", "-i", "/root/.ssh/id_ed25519"] + SSH_OPTIONS + list(options) + ["root@" + self.address(host), command]
        return self.run_in(faults.CLIENT.name, *argv, check=check, timeout=timeout, detach=detach)

    def client_connect(self, host, count, hold=0.0):
        """TCP connections from the client that never authenticate; {what each got first: how many}."""
        out = self.python(faults.CLIENT.name, faults.CONNECT_SCRIPT, self.address(host), count, hold).stdout
        return json.loads(out)

    def controller_ssh(self, host, command="true", timeout=30):
        return run(["ssh", "-i", self.key] + SSH_OPTIONS + ["root@" + self.address(host), command],
                   check=False, timeout=timeout)

    def journal(self, host, unit="ssh"):
        return self.sh(host, "journalctl -u %s -o cat --no-pager" % unit).stdout

    def container_id(self, host):
        return podman("inspect", "-f", "{{.Id}}", host.name).stdout.strip()


def parallel(function, items):
    """function(item) for every item at once; {item: (ok, value or error)}."""
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(items))) as pool:
        futures = {pool.submit(function, item): item for item in items}
        for future in concurrent.futures.as_completed(futures):
            item = futures[future]
            try:
                results[item] = (True, future.result())
            except Exception as exc:  # pylint: disable=broad-except
                results[item] = (False, "%s: %s" % (type(exc).__name__, exc))
    return results


def lab_containers():
    out = podman("ps", "-a", "--filter", "label=" + LABEL, "--format", "{{.Names}}", check=False).stdout
    return [name for name in out.split() if name]


def down(_args=None):
    names = lab_containers()
    if names:
        log("removing %d lab containers" % len(names))
        podman("rm", "-f", "-t", "0", *names, timeout=300)
    if podman("network", "exists", NETWORK, check=False).returncode == 0:
        podman("network", "rm", "-f", NETWORK)
    lab = Lab()
    for path in (lab.inventory, lab.statefile):  # they describe a fleet that is gone
        if os.path.exists(path):
            os.remove(path)
    log("lab is down")
    return 0


def ensure_images():
    missing = [r for r in faults.RELEASES
               if podman("image", "exists", IMAGE.format(release=r), check=False).returncode != 0]
    if missing:
        log("building images: %s" % " ".join(missing))
        subprocess.run([os.path.join(ROOT, "scripts", "build-images")] + missing, check=True)


def ensure_key(lab):
    os.makedirs(STATE, exist_ok=True)
    if not os.path.exists(lab.key):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sshdoctor-lab", "-f", lab.key])


def create(lab, host):
    """podman create, then copy the key and the host's pre-boot files in, so boot already sees them."""
    argv = ["create", "--name", host.name, "--hostname", host.name, "--label", LABEL + "=1",
            "--label", "sshdoctor.lab.cause=" + host.cause,
            "--network", NETWORK, "--ip", lab.address(host), "--systemd=always",
            "--cap-add", ",".join(host.caps)] + host.run_args + [IMAGE.format(release=host.release), "/sbin/init"]
    podman(*argv)
    files = dict(host.files)
    for unit in SKIPPED_UNITS:
        files["/etc/systemd/system/%s.d/lab-container.conf" % unit] = CONTAINER_DROPIN
    with open(lab.key + ".pub") as handle:
        files["/root/.ssh/authorized_keys"] = handle.read()
    if host is faults.CLIENT:
        with open(lab.key) as handle:
            files["/root/.ssh/id_ed25519"] = handle.read()
    # One copy of a staged tree: podman cp creates no parent directories for single files.
    with tempfile.TemporaryDirectory() as tmp:
        for path, content in files.items():
            local = os.path.join(tmp, path.lstrip("/"))
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, "w") as handle:
                handle.write(content)
            os.chmod(local, 0o600 if path.startswith("/root/") else 0o644)
        for directory, _subdirs, _files in os.walk(tmp):
            private = os.path.relpath(directory, tmp).split(os.sep, 1)[0] == "root"
            os.chmod(directory, 0o700 if private else 0o755)
        podman("cp", tmp + "/.", host.name + ":/")


def wait_for_systemd(host):
    """The state `systemctl is-system-running --wait` ends in. Right after start, PID 1 may not
    answer on its bus yet (empty output, "Failed to connect to bus"): ask again until it does."""
    deadline = time.monotonic() + BOOT_TIMEOUT
    while True:
        remaining = max(1, deadline - time.monotonic())
        result = podman("exec", host.name, "systemctl", "is-system-running", "--wait", check=False,
                        timeout=remaining)
        state = result.stdout.strip()
        if state not in ("", "offline", "unknown"):
            return state
        if time.monotonic() > deadline:
            return state or "no answer from systemd: %s" % result.stderr.strip()[-200:]
        time.sleep(0.5)


def boot(lab, host, attempts=2):
    """Create, start and wait for systemd; a container whose boot hangs is replaced once."""
    for attempt in range(1, attempts + 1):
        try:
            create(lab, host)
            podman("start", host.name)
            state = wait_for_systemd(host)
        except subprocess.TimeoutExpired:
            state = "still booting after %ds" % BOOT_TIMEOUT
        except faults.PlantError as exc:
            state = str(exc)
        if state in ("running", "degraded"):
            return state
        log("%s did not boot (%s), attempt %d of %d" % (host.name, state, attempt, attempts))
        podman("rm", "-f", "-t", "0", host.name, check=False)
    raise faults.PlantError("%s did not boot" % host.name)


def write_inventory(lab, proofs, reachable, failed):
    """An inventory a user could have written for this fleet; lab_* variables say what was planted."""
    lines = [
        "---",
        "# Written by tests/lab/lab up: the fault lab's fleet, reached over SSH on the lab bridge.",
        "all:",
        "  vars:",
        "    ansible_user: root",
        "    ansible_ssh_private_key_file: %s" % json.dumps(lab.key),
        "    ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes",
        "    ansible_python_interpreter: /usr/bin/python3",
        "  children:",
    ]
    for release in faults.RELEASES:
        lines += ["    %s:" % release, "      hosts:"]
        for host in faults.FLEET:
            if host.release != release:
                continue
            lines += [
                "        %s:" % host.name,
                "          ansible_host: %s" % lab.address(host),
                "          lab_planted_cause: %s" % host.cause,
                "          lab_reachable_by_ssh: %s" % ("true" if reachable.get(host.name) else "false"),
            ]
    with open(lab.inventory, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    state = {
        "network": NETWORK,
        "subnet": str(SUBNET),
        "controller": lab.controller_ip,
        "client": {"name": faults.CLIENT.name, "address": lab.client_ip},
        "inventory": lab.inventory,
        "hosts": [
            {"name": h.name, "release": h.release, "address": lab.address(h), "cause": h.cause,
             "how": h.how, "reachable_by_ssh": reachable.get(h.name), "proof": proofs.get(h.name),
             "planted": h.name not in failed, "error": failed.get(h.name)}
            for h in faults.FLEET
        ],
    }
    with open(lab.statefile, "w") as handle:
        json.dump(state, handle, indent=2)
    return state


def fleet_table(state):
    rows = [("host", "release", "address", "planted cause", "SSH from controller", "proof")]
    for h in state["hosts"]:
        rows.append((h["name"], h["release"], h["address"], h["cause"],
                     {True: "yes", False: "no", None: "?"}[h["reachable_by_ssh"]],
                     (h["proof"] if h.get("planted", True) else "NOT PLANTED: %s" % h.get("error"))[:90]))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    out = []
    for index, row in enumerate(rows):
        out.append("  ".join(row[i].ljust(widths[i]) for i in range(5)) + "  " + row[5])
        if index == 0:
            out.append("  ".join("-" * w for w in widths) + "  " + "-" * 5)
    return "\n".join(out)


def up(args):
    lab = Lab()
    ensure_images()
    down()
    ensure_key(lab)
    podman("network", "create", "--subnet", str(SUBNET), "--gateway", lab.controller_ip, NETWORK)
    everyone = faults.FLEET + [faults.CLIENT]

    log("starting %d containers on %s (%s)" % (len(everyone), NETWORK, SUBNET))
    failed = {h.name: r for h, (ok, r) in parallel(lambda h: boot(lab, h), everyone).items() if not ok}
    if failed:
        raise faults.PlantError("boot failed: %s" % failed)
    log("all containers booted")

    # Before any fault: every host must take the controller's key over SSH.
    results = parallel(lab.controller_ssh, faults.FLEET)
    broken = {h.name: r for h, (ok, r) in results.items() if not ok or r.returncode != 0}
    if broken:
        raise faults.PlantError("SSH from the controller does not work before planting: %s" % broken)
    log("SSH from the controller works on every host; planting faults")

    def plant(host):
        t0 = time.monotonic()
        proof = host.plant(lab, host)
        log("%-20s %-24s planted in %4.1fs: %s" % (host.name, host.cause, time.monotonic() - t0, proof))
        return proof

    results = parallel(plant, faults.FLEET)
    failed = {h.name: r for h, (ok, r) in results.items() if not ok}
    proofs = {h.name: r for h, (ok, r) in results.items() if ok}

    # Which hosts can the controller still log in to? Compare with what each fault should leave.
    reach = parallel(lambda h: lab.controller_ssh(h).returncode == 0, faults.FLEET)
    reachable = {h.name: ok and r for h, (ok, r) in reach.items()}
    for host in faults.FLEET:
        if reachable[host.name] != host.reachable:
            failed.setdefault(host.name, "SSH from the controller %s, expected %s" % (
                "works" if reachable[host.name] else "fails", "to work" if host.reachable else "to fail"))
    state = write_inventory(lab, proofs, reachable, failed)
    print()
    print(fleet_table(state))
    print()
    log("inventory: %s" % lab.inventory)
    if failed:
        for name, error in sorted(failed.items()):
            log("FAULT NOT PLANTED on %s: %s" % (name, error))
        return 1
    if args.no_diagnose:
        return 0
    return diagnose(args)


def diagnose(_args=None):
    lab = Lab()
    if not os.path.exists(lab.inventory):
        log("no lab inventory at %s: run `lab up` first" % lab.inventory)
        return 1
    shutil.rmtree(lab.report_dir, ignore_errors=True)
    argv = ["ansible-playbook", "sshdoctor.connreset.diagnose", "-i", lab.inventory, "-f", str(len(faults.FLEET)),
            "-e", "sshdoctor_report_dir=" + lab.report_dir]
    log("running: %s" % " ".join(argv))
    rc = subprocess.run(argv, cwd=ROOT, check=False).returncode
    report = os.path.join(lab.report_dir, "latest", "report.json")
    if os.path.exists(report):
        print()
        print("Planted against found (tests/accuracy/compare.py):", flush=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "accuracy", "compare.py"), lab.statefile, report],
                       check=False)
        print()
    for name in ("report.json", "report.md", "report.html"):
        path = os.path.join(lab.report_dir, "latest", name)
        if os.path.exists(path):
            log("report: %s" % path)
    log("the fleet stays up; `./dev lab down` removes it")
    return rc


def status(_args=None):
    lab = Lab()
    states = {}
    out = podman("ps", "-a", "--filter", "label=" + LABEL, "--format", "{{.Names}} {{.State}}", check=False).stdout
    for line in out.splitlines():
        name, state = (line.split(" ", 1) + [""])[:2]
        states[name] = state
    if not states:
        print("the lab is down")
        return 0
    if os.path.exists(lab.statefile):
        with open(lab.statefile) as handle:
            print(fleet_table(json.load(handle)))
        print()
    for name in sorted(states):
        print("%-22s %s" % (name, states[name]))
    print("inventory: %s" % lab.inventory)
    return 0


def main(argv):
    parser = argparse.ArgumentParser(prog="tests/lab/lab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start the fleet, plant the faults, diagnose it")
    p_up.add_argument("--no-diagnose", action="store_true", help="stop after planting (the accuracy test diagnoses)")
    sub.add_parser("diagnose", help="run the diagnose playbook against the running fleet")
    sub.add_parser("status", help="show the fleet")
    sub.add_parser("down", help="remove the fleet")
    args = parser.parse_args(argv)
    try:
        return {"up": up, "down": down, "status": status, "diagnose": diagnose}[args.command](args)
    except (faults.PlantError, subprocess.TimeoutExpired) as exc:
        log("lab %s failed: %s" % (args.command, exc))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
