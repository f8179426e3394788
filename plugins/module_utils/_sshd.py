# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the OpenSSH server on this host is, how it runs, and what it is configured to do.

``collect_sshd(host, ...)`` is the collector behind ``sshd_info`` and the
``sshd`` part of ``ssh_evidence``. It talks to the host only through the
``Host`` API (``run``, ``read_text``, ``glob``, ``exists``, ``which``,
``is_root``, ``note``). The parsers it needs for ``ss``, ``/proc/net/tcp``,
``ps`` and ``ldd`` output are the pure functions at the top of this file; the
sshd configuration parsers live in ``_sshd_config`` and the ``systemctl show``
parser in ``_systemd``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _sshd_config as cfg
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _systemd
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _tcp_wrappers as wrappers
from ansible_collections.sshdoctor.connreset.plugins.module_utils._untrusted import Skipped, skip, to_int

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd")
# OpenSSH 9.8 and later split the per-connection work into sshd-session.
SESSION_CANDIDATES = (
    "/usr/lib/openssh/sshd-session",
    "/usr/libexec/openssh/sshd-session",
    "/usr/libexec/sshd-session",
    "/usr/local/libexec/sshd-session",
)
SYSTEMCTL_PROPERTIES = (
    "Id",
    "Names",
    "LoadState",
    "ActiveState",
    "SubState",
    "Result",
    "NRestarts",
    "ExecMainStatus",
    "ExecMainCode",
    "ExecMainPID",
    "MainPID",
    "ActiveEnterTimestamp",
    "InactiveEnterTimestamp",
    "ExecMainStartTimestamp",
    "ExecMainExitTimestamp",
    "StateChangeTimestamp",
    "UnitFileState",
    "FragmentPath",
    "Restart",
    "RestartPreventExitStatus",
    "TriggeredBy",
    "Listen",
    "Accept",
    "Triggers",
)
# Asked in one ``systemctl show``; blocks come back in this order.
UNITS = ("ssh.service", "sshd.service", "ssh.socket", "sshd.socket")

# sshd -t / -T messages about the machine rather than the configuration.
ENVIRONMENT_MESSAGES = ("Missing privilege separation directory",)

MAX_LISTENERS = 256
MAX_PROCESSES = 20000

LIMITS = {
    "max_listeners": MAX_LISTENERS,
    "max_processes_scanned": MAX_PROCESSES,
    "max_effective_keys": cfg.MAX_EFFECTIVE_KEYS,
    "max_list_values": cfg.MAX_LIST_VALUES,
    "max_overridden": cfg.MAX_OVERRIDDEN,
    "max_config_files": cfg.MAX_FILES,
    "max_config_errors": cfg.MAX_ERRORS,
}

_LISTENER_RE = re.compile(r"\[listener\]\s+([0-9]+)\s+of\s+([0-9]+)-([0-9]+)\s+startups")
_SSHD_TITLE_RE = re.compile(r"^(?:sshd|sshd-session|sshd-auth):\s")
_MONITOR_RE = re.compile(r"^(?:sshd|sshd-session):\s+(?:\S+\s+)?\[(accepted|priv)\]\s*$")
_USERS_RE = re.compile(r'\("([^"]*)",pid=([0-9]+)')


# --------------------------------------------------------------------------- #
# pure parsers
# --------------------------------------------------------------------------- #
def split_host_port(text):
    """``"0.0.0.0:22"`` -> ``("0.0.0.0", 22)``; ``"[::]:22"`` -> ``("::", 22)``; ``"*:22"`` -> ``("*", 22)``."""
    text = (text or "").strip()
    address, sep, port = text.rpartition(":")
    number = to_int(port, signed=False) if sep else None
    if number is None or number > 65535:
        return None
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    # an interface scope: 0.0.0.0%eth0 or fe80::1%eth0
    address = address.split("%", 1)[0]
    return address or "*", number


def parse_ss_listeners(text, skipped=None):
    """``ss -Hltnp`` output -> ``[{"address", "port", "process", "pid"}]``.

    ``process``/``pid`` are None when ss could not tell (another user's process
    and we are not root). Anything unparsable is skipped, and counted in
    ``skipped`` (an ``_untrusted.Skipped``) when one is given.
    """
    result = []
    for number, raw in enumerate((text or "").splitlines(), 1):
        fields = raw.split()
        if len(fields) < 5 or fields[0] != "LISTEN":
            skip(skipped, number, raw, "not a LISTEN line of at least 5 fields")
            continue
        where = split_host_port(fields[3])
        if where is None:
            skip(skipped, number, raw, "no address:port in the fourth field")
            continue
        rest = " ".join(fields[5:])
        processes = _USERS_RE.findall(rest)
        process, pid = (processes[0][0], to_int(processes[0][1])) if processes else (None, None)
        result.append({"address": where[0], "port": where[1], "process": process, "pid": pid})
        if len(result) >= MAX_LISTENERS:
            break
    return result


def _hex_ipv4(text):
    raw = bytes(bytearray.fromhex(text))
    return ".".join(str(b) for b in bytearray(raw[::-1]))


def _hex_ipv6(text):
    raw = bytearray.fromhex(text)
    # four 32-bit words, each in host (little-endian) byte order
    words = [raw[i:i + 4][::-1] for i in range(0, 16, 4)]
    data = bytearray().join(words)
    groups = ["%x" % ((data[i] << 8) | data[i + 1]) for i in range(0, 16, 2)]
    full = ":".join(groups)
    # compress the longest run of zero groups, as inet_ntop does
    best_start, best_len, start, length = -1, 0, -1, 0
    for index, group in enumerate(groups + ["x"]):
        if group == "0":
            if start < 0:
                start, length = index, 0
            length += 1
        else:
            if length > best_len and length > 1:
                best_start, best_len = start, length
            start, length = -1, 0
    if best_start < 0:
        return full
    left = ":".join(groups[:best_start])
    right = ":".join(groups[best_start + best_len:])
    return left + "::" + right


_HEX_PORT = re.compile(r"[0-9A-Fa-f]{1,4}\Z")


def parse_proc_net_tcp(text, ipv6=False, skipped=None):
    """``/proc/net/tcp`` (or ``tcp6``) -> listening sockets ``[{"address", "port", "process": None, "pid": None}]``.

    The header and sockets in other states are passed over; rows that cannot be read
    are counted in ``skipped`` when one is given.
    """
    result = []
    for number, raw in enumerate((text or "").splitlines(), 1):
        fields = raw.split()
        if number == 1 and fields[:1] == ["sl"]:
            continue
        if len(fields) < 4 or not fields[0].endswith(":"):
            skip(skipped, number, raw, "not a socket row")
            continue
        if fields[3] != "0A":
            continue
        address_hex, _sep, port_hex = fields[1].partition(":")
        try:
            if not _HEX_PORT.match(port_hex):
                raise ValueError("port")
            port = int(port_hex, 16)
            if ipv6 and len(address_hex) == 32:
                address = _hex_ipv6(address_hex)
            elif not ipv6 and len(address_hex) == 8:
                address = _hex_ipv4(address_hex)
            else:
                raise ValueError("address")
        except ValueError:
            skip(skipped, number, raw, "unreadable local address")
            continue
        result.append({"address": address, "port": port, "process": None, "pid": None})
        if len(result) >= MAX_LISTENERS:
            break
    return result


def parse_ps(text, skipped=None):
    """``ps -e -ww -o pid=,ppid=,args=`` -> ``[{"pid", "ppid", "args"}]`` for sshd processes only.

    Lines that are not ``PID PPID ARGS`` are counted in ``skipped`` when one is given.
    """
    result = []
    for number, raw in enumerate((text or "").splitlines(), 1):
        parts = raw.strip().split(None, 2)
        pid, ppid = (to_int(parts[0], signed=False), to_int(parts[1], signed=False)) if len(parts) >= 2 else (None, None)
        if pid is None or ppid is None:
            skip(skipped, number, raw, "not PID PPID ARGS")
            continue
        args = parts[2].strip() if len(parts) > 2 else ""
        if "sshd" not in args:
            continue
        result.append({"pid": pid, "ppid": ppid, "args": args})
        if len(result) >= MAX_PROCESSES:
            break
    return result


def parse_proc_stat_ppid(text):
    """The parent pid from ``/proc/PID/stat`` (the field after the parenthesised name), or None."""
    text = text or ""
    end = text.rfind(")")
    if end < 0:
        return None
    fields = text[end + 1:].split()
    return to_int(fields[1], signed=False) if len(fields) >= 2 else None


def parse_listener_title(args):
    """``"sshd: /usr/sbin/sshd -D [listener] 4 of 20-80 startups"`` -> ``{"current": 4, "start": 20, "full": 80}``."""
    match = _LISTENER_RE.search(args or "")
    numbers = [to_int(group) for group in match.groups()] if match else [None]
    if None in numbers:
        return None
    return {"current": numbers[0], "start": numbers[1], "full": numbers[2]}


def is_listener(process):
    args = process.get("args") or ""
    if "[listener]" in args:
        return True
    # before OpenSSH 8.2 the listener kept its command line: /usr/sbin/sshd -D
    return bool(re.match(r"^\S*/sshd(\s|$)", args)) and " -i" not in args and " -t" not in args and " -T" not in args


def count_preauth(processes):
    """How many connections are now before authentication, from the process titles.

    Each connection has one monitor process, a child of the listener, titled
    ``sshd: [accepted]`` (8.4/9.2; ``sshd-session: [accepted]`` on 10.0) until the
    client names a user, then ``sshd: USER [priv]`` (``unknown`` for a user that
    does not exist). After authentication the monitor keeps ``USER [priv]`` but
    gets a child titled ``sshd: USER@pts/0`` / ``USER@notty``, so a ``[priv]``
    monitor counts as pre-auth only while no child has an ``@`` title. Older
    OpenSSH titles the unprivileged child ``sshd: USER [preauth]``: such a
    process counts when its parent is not already counted.
    """
    processes = list(processes or ())
    listeners = set(p["pid"] for p in processes if is_listener(p))
    children = {}
    for proc in processes:
        children.setdefault(proc["ppid"], []).append(proc)
    counted = set()
    for proc in processes:
        match = _MONITOR_RE.match(proc["args"])
        if not match:
            continue
        if listeners and proc["ppid"] not in listeners:
            continue
        if match.group(1) == "priv":
            kids = children.get(proc["pid"], [])
            if any("@" in kid["args"] for kid in kids if _SSHD_TITLE_RE.match(kid["args"])):
                continue
        counted.add(proc["pid"])
    extra = 0
    for proc in processes:
        if proc["args"].rstrip().endswith("[preauth]") and proc["ppid"] not in counted and proc["pid"] not in counted:
            extra += 1
    return len(counted) + extra


def parse_socket_listen(text):
    """A socket unit's ``Listen=`` (``"[::]:22 (Stream) 0.0.0.0:2222 (Stream)"``) -> ports ``[22, 2222]``.

    Read word by word (a pattern ``\\S+\\s+\\(Stream\\)`` retries every word's tail: quadratic on one long word).
    """
    ports = []
    words = (text or "").split()
    index = 0
    while index + 1 < len(words):
        if not words[index + 1].startswith("(Stream)"):
            index += 1
            continue
        item = words[index]
        index += 2
        number = to_int(item, signed=False)
        if number is not None:
            if number <= 65535:
                ports.append(number)
            continue
        where = split_host_port(item)
        if where:
            ports.append(where[1])
    return ports


# --------------------------------------------------------------------------- #
# the collector
# --------------------------------------------------------------------------- #
def _empty_result(config_path):
    return {
        "installed": False,
        "sshd_path": None,
        "version": None,
        "version_info": None,
        "version_source": None,
        "package_version": None,
        "unit": None,
        "socket_activated": False,
        "socket": None,
        "service": {
            "source": None,
            "unit_id": None,
            "load_state": None,
            "active_state": None,
            "sub_state": None,
            "result": None,
            "n_restarts": None,
            "exec_main_status": None,
            "exec_main_code": None,
            "exec_main_pid": None,
            "main_pid": None,
            "active_enter_timestamp": None,
            "inactive_enter_timestamp": None,
            "state_change_timestamp": None,
            "unit_file_state": None,
            "restart": None,
            "fragment_path": None,
            "triggered_by": None,
        },
        "config_path": config_path,
        "config_valid": None,
        "config_errors": [],
        "config_warnings": [],
        "config_messages": [],
        "effective": {},
        "effective_source": None,
        "settings": cfg.settings_from_effective({}),
        "provenance": {},
        "config_files": [],
        "includes": [],
        "tcp_wrappers": {"honoured": None, "binary": None, "linked": {}, "method": None},
        "listeners": [],
        "preauth_processes": None,
        "startups": None,
        "limits": dict(LIMITS),
        "truncated": False,
        "notes": [],
    }


def find_sshd(host, sshd_path=None):
    if sshd_path:
        return sshd_path if host.exists(sshd_path) else None
    for candidate in SSHD_CANDIDATES:
        if host.exists(candidate):
            return candidate
    return host.which("sshd")


def _package_version(host):
    """(version string as the package manager prints it, upstream version) or (None, None)."""
    if host.which("dpkg-query"):
        res = host.run(["dpkg-query", "-W", "-f", "${Version}", "openssh-server"])
        if res.ok and res.stdout.strip():
            return res.stdout.strip(), cfg.parse_package_version(res.stdout)
    if host.which("rpm"):
        res = host.run(["rpm", "-q", "--qf", "%{VERSION}-%{RELEASE}", "openssh-server"])
        if res.ok and res.stdout.strip() and "not installed" not in res.stdout:
            return res.stdout.strip(), cfg.parse_package_version(res.stdout)
    return None, None


def _same_release(a, b):
    return cfg.version_info(a) is not None and cfg.version_info(a) == cfg.version_info(b)


def _version(host, sshd, result):
    """sshd's own version: ``sshd -V`` (usage text before 9.x), then ``ssh -V``, then the package."""
    res = host.run([sshd, "-V"])
    from_sshd = cfg.parse_openssh_version((res.stdout or "") + "\n" + (res.stderr or ""))
    package_raw, from_package = _package_version(host)
    result["package_version"] = package_raw
    version, source = from_sshd, "sshd -V"
    if from_sshd is None or "p" not in from_sshd:
        # OpenSSH 9.2's ``sshd -V`` prints "OpenSSH_9.2" without the portable suffix.
        ssh = host.run(["ssh", "-V"])
        from_ssh = cfg.parse_openssh_version((ssh.stdout or "") + "\n" + (ssh.stderr or ""))
        if from_ssh and "p" in from_ssh and (from_sshd is None or _same_release(from_ssh, from_sshd)):
            version, source = from_ssh, "ssh -V"
        elif from_package and (from_sshd is None or _same_release(from_package, from_sshd)):
            version, source = from_package, "package"
    if version is None:
        source = None
        host.note("could not tell the OpenSSH version (sshd -V, ssh -V and the package manager said nothing usable)")
    result["version"] = version
    result["version_info"] = cfg.version_info(version)
    result["version_source"] = source


def _exec_main_code(value):
    code = _systemd.to_int(value)
    if not code:
        return None
    return _systemd.EXEC_MAIN_CODES.get(code, str(code))


def _service_from_block(block):
    t = _systemd.typed(block)
    return {
        "source": "systemd",
        "unit_id": t.get("Id"),
        "load_state": t.get("LoadState"),
        "active_state": t.get("ActiveState"),
        "sub_state": t.get("SubState"),
        "result": t.get("Result"),
        "n_restarts": t.get("NRestarts"),
        "exec_main_status": t.get("ExecMainStatus"),
        "exec_main_code": _exec_main_code(block.get("ExecMainCode")),
        "exec_main_pid": t.get("ExecMainPID") or None,
        "main_pid": t.get("MainPID") or None,
        "active_enter_timestamp": t.get("ActiveEnterTimestamp"),
        "inactive_enter_timestamp": t.get("InactiveEnterTimestamp"),
        "state_change_timestamp": t.get("StateChangeTimestamp"),
        "unit_file_state": t.get("UnitFileState"),
        "restart": t.get("Restart"),
        "fragment_path": t.get("FragmentPath"),
        "triggered_by": (t.get("TriggeredBy") or "").split() or None,
    }


def _systemd_state(host, result):
    """Fill unit, service and socket from ``systemctl show``. False when systemd cannot tell."""
    if not host.exists("/run/systemd/system"):
        host.note("systemd is not running: the service state comes from the process table")
        return False
    res = host.run(["systemctl", "show", "-p", ",".join(SYSTEMCTL_PROPERTIES)] + list(UNITS))
    if res.missing:
        host.note("systemctl not found: the service state comes from the process table")
        return False
    blocks = _systemd.parse_show_blocks(res.stdout)
    if res.rc != 0 or not blocks:
        host.note("systemctl show failed (rc=%s): %s" % (res.rc, (res.stderr or "").strip()[:200]))
        return False
    if len(blocks) == len(UNITS):
        named = dict(zip(UNITS, blocks))
    else:
        named = dict((unit, _systemd.find_block(blocks, unit)) for unit in UNITS)
    service = None
    for unit in ("ssh.service", "sshd.service"):
        block = named.get(unit)
        if block and _systemd.is_loaded(block):
            service = block
            break
    for unit in ("ssh.socket", "sshd.socket"):
        block = named.get(unit)
        if block and _systemd.is_loaded(block):
            t = _systemd.typed(block)
            result["socket"] = {
                "unit_id": t.get("Id"),
                "active_state": t.get("ActiveState"),
                "sub_state": t.get("SubState"),
                "unit_file_state": t.get("UnitFileState"),
                "listen": t.get("Listen"),
                "accept": _systemd.to_str(block.get("Accept")),
            }
            result["socket_activated"] = bool(
                t.get("ActiveState") in ("active", "activating", "reloading")
                or t.get("UnitFileState") in ("enabled", "enabled-runtime")
            )
            break
    if service is None:
        if result["socket"] is None:
            host.note("no ssh.service or sshd.service unit is loaded: the service state comes from the process table")
            return False
        # socket activation with Accept=yes runs ssh@.service per connection: no long-running service
        socket = result["socket"]
        result["unit"] = _systemd.unit_base_name(socket["unit_id"])
        result["service"] = dict(
            result["service"],
            source="systemd",
            unit_id=socket["unit_id"],
            active_state=socket["active_state"],
            sub_state=socket["sub_state"],
            unit_file_state=socket["unit_file_state"],
        )
        host.note("only the socket unit %s is loaded: sshd starts per connection" % socket["unit_id"])
        return True
    result["unit"] = _systemd.unit_base_name(_systemd.to_str(service.get("Id")))
    result["service"] = _service_from_block(service)
    return True


def _processes(host):
    """sshd processes ``[{"pid", "ppid", "args"}]`` from ps, else from /proc; None when neither works."""
    res = host.run(["ps", "-e", "-ww", "-o", "pid=,ppid=,args="])
    if res.ok:
        skipped = Skipped()
        processes = parse_ps(res.stdout, skipped)
        if skipped:
            host.note(skipped.note("ps -e -o pid=,ppid=,args="))
        return processes
    processes = []
    pids = host.glob("/proc/[0-9]*/cmdline")
    if not pids:
        host.note("cannot list processes: ps failed or is missing, and /proc is not readable")
        return None
    for path in pids[:MAX_PROCESSES]:
        cmdline = host.read_text(path, max_bytes=4096)
        if not cmdline or "sshd" not in cmdline:
            continue
        args = cmdline.replace("\x00", " ").strip()
        base = path[: -len("/cmdline")]
        pid = to_int(base.rsplit("/", 1)[-1], signed=False)
        ppid = parse_proc_stat_ppid(host.read_text(base + "/stat", max_bytes=4096))
        if ppid is None or pid is None:
            continue
        processes.append({"pid": pid, "ppid": ppid, "args": args})
    if len(pids) > MAX_PROCESSES:
        host.note("process scan stopped after %d processes" % MAX_PROCESSES)
    return processes


def _service_from_processes(result, processes):
    listeners = [p for p in (processes or ()) if is_listener(p)]
    service = dict(result["service"])
    service["source"] = "process_table"
    if processes is None:
        service["active_state"] = None
        service["sub_state"] = None
    elif listeners:
        service["active_state"] = "active"
        service["sub_state"] = "running"
        service["main_pid"] = listeners[0]["pid"]
        service["exec_main_pid"] = listeners[0]["pid"]
    else:
        service["active_state"] = "inactive"
        service["sub_state"] = "dead"
    result["service"] = service


def _config_args(config_path):
    return ["-f", config_path] if config_path else []


def _sshd_test(host, sshd, config_path, result, is_root):
    res = host.run([sshd, "-t"] + _config_args(config_path))
    parsed = cfg.parse_sshd_t((res.stdout or "") + "\n" + (res.stderr or ""), res.rc)
    result["config_errors"] = parsed["errors"]
    result["config_warnings"] = parsed["warnings"]
    result["config_messages"] = parsed["messages"]
    environmental = [m for m in parsed["messages"] if m.startswith(ENVIRONMENT_MESSAGES)]
    if res.rc == 0:
        result["config_valid"] = True
    elif parsed["errors"]:
        result["config_valid"] = False
    elif environmental:
        # not a configuration problem: /run/sshd is made by the service when it starts
        result["config_valid"] = None
        host.note(
            "sshd -t could not check the configuration: %s (the service creates it when it starts;"
            " sshd is probably not running)" % environmental[0]
        )
    elif not is_root:
        result["config_valid"] = None
        host.note(
            "sshd -t could not finish without root (%s): the configuration was not validated; run with become: true"
            % ("; ".join(parsed["messages"])[:200] or "rc=%s" % res.rc)
        )
    else:
        result["config_valid"] = False
        result["config_errors"] = [
            {"file": None, "line": None, "message": message} for message in parsed["messages"][: cfg.MAX_ERRORS]
        ] or [{"file": None, "line": None, "message": "sshd -t failed with rc=%s" % res.rc}]


def _match_spec(match):
    parts = []
    for key in ("user", "host", "addr", "laddr", "lport", "rdomain"):
        value = (match or {}).get(key)
        if value not in (None, ""):
            parts.append("%s=%s" % (key, value))
    return ",".join(parts)


def _sshd_dump(host, sshd, config_path, spec=None):
    argv = [sshd, "-T"] + _config_args(config_path)
    if spec:
        argv += ["-C", spec]
    res = host.run(argv)
    effective = cfg.parse_sshd_T(res.stdout) if res.rc == 0 else {}
    return res, effective


def _tcp_wrappers(host, sshd, effective, result):
    session = cfg.first_value(effective, "sshdsessionpath")
    if session and not host.exists(session):
        session = None
    if not session:
        for candidate in SESSION_CANDIDATES:
            if host.exists(candidate):
                session = candidate
                break
    checks = dict((binary, wrappers.binary_links_libwrap(host, binary)) for binary in [sshd] + ([session] if session else []))
    linked = dict((binary, check["linked"]) for binary, check in checks.items())
    decisive = session or sshd
    honoured = linked.get(decisive)
    if honoured is None:
        host.note("could not tell whether %s links libwrap (readelf and ldd failed and the file is unreadable)" % decisive)
    result["tcp_wrappers"] = {
        "honoured": honoured,
        "binary": decisive,
        "linked": linked,
        "method": checks[decisive]["method"],
    }


def _listeners(host, result, processes):
    res = host.run(["ss", "-Hltnp"])
    skipped = Skipped()
    if res.ok:
        sockets = parse_ss_listeners(res.stdout, skipped)
        source = "ss"
        if skipped:
            host.note(skipped.note("ss -Hltnp"))
    else:
        sockets = []
        for path, ipv6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
            skipped = Skipped()
            sockets.extend(parse_proc_net_tcp(host.read_text(path), ipv6=ipv6, skipped=skipped))
            if skipped:
                host.note(skipped.note(path))
        source = "/proc/net/tcp"
        if not res.missing:
            host.note("ss -Hltnp failed (rc=%s): listeners read from /proc/net/tcp" % res.rc)
    sshd_pids = set(p["pid"] for p in (processes or ()) if is_listener(p))
    main_pid = result["service"].get("main_pid")
    if main_pid:
        sshd_pids.add(main_pid)
    ports = set(result["settings"].get("port") or [22])
    socket_unit = result.get("socket") or {}
    if result.get("socket_activated"):
        ports.update(parse_socket_listen(socket_unit.get("listen")))
    chosen = []
    by_port = False
    for sock in sockets:
        if sock["process"] is not None:
            if sock["process"] in ("sshd", "sshd-session") or sock["pid"] in sshd_pids:
                chosen.append(sock)
            elif sock["process"] == "systemd" and result.get("socket_activated") and sock["port"] in ports:
                chosen.append(sock)
        elif sock["port"] in ports:
            by_port = True
            chosen.append(sock)
    if by_port:
        why = "/proc/net/tcp does not name processes" if source != "ss" else "ss names other users' processes only to root"
        host.note("listeners matched by port %s only (%s)" % (sorted(ports), why))
    result["listeners"] = [
        {"address": s["address"], "port": s["port"], "process": s["process"], "pid": s["pid"]} for s in chosen
    ]
    result["listeners_source"] = source


MATCH_KEYS = ("user", "host", "addr", "laddr", "lport", "rdomain")


def _is_ip(text):
    try:
        import ipaddress
    except ImportError:  # pragma: no cover - Python 2 without the backport
        return bool(re.match(r"^[0-9A-Fa-f:.]+$", text))
    try:
        ipaddress.ip_address(u"%s" % text)
        return True
    except ValueError:
        return False


def validate_options(config_path=None, sshd_path=None, match=None):
    """The module's own checks on its options: a list of clear error messages (empty when fine)."""
    errors = []
    for name, value in (("config_path", config_path), ("sshd_path", sshd_path)):
        if value is not None and not str(value).startswith("/"):
            errors.append("%s must be an absolute path (sshd resolves a relative one against its own"
                          " working directory, not yours); got %r" % (name, value))
        if value is not None and "\x00" in str(value):
            errors.append("%s must not contain a NUL byte" % name)
    if match is not None:
        given = dict((k, v) for k, v in match.items() if v not in (None, ""))
        if not given:
            errors.append("match needs at least one of %s" % ", ".join(MATCH_KEYS))
        for key, value in sorted(given.items()):
            text = str(value)
            if re.search(r"[\s,=]", text):
                errors.append("match.%s must not contain spaces, commas or '=' (sshd -C splits on them); got %r"
                              % (key, text))
            elif key in ("addr", "laddr") and not _is_ip(text):
                errors.append("match.%s must be an IP address; got %r" % (key, text))
            elif key == "lport" and not 0 < (to_int(text, signed=False) or 0) < 65536:
                errors.append("match.lport must be a port number between 1 and 65535; got %r" % text)
    return errors


def collect_sshd(host, config_path=None, sshd_path=None, match=None):
    """Everything ``sshd_info`` reports, as a plain JSON-safe dict (never raises on odd input).

    ``config_path``: the file sshd reads (passed as ``-f``); None for sshd's default.
    ``sshd_path``: the sshd binary; None to look in the usual places.
    ``match``: ``{"user", "host", "addr", ...}`` for ``sshd -T -C``; its result goes to ``match``.
    """
    walk_path = config_path or cfg.DEFAULT_CONFIG
    result = _empty_result(walk_path)
    is_root = host.is_root()
    if not is_root:
        host.note(
            "not running as root: sshd -t / sshd -T need the host keys, and ss cannot name other users' processes;"
            " run with become: true for the full picture"
        )

    sshd = find_sshd(host, sshd_path)
    result["sshd_path"] = sshd
    result["installed"] = bool(sshd)

    processes = _processes(host)
    if not _systemd_state(host, result):
        _service_from_processes(result, processes)

    if sshd:
        _version(host, sshd, result)
    else:
        package_raw, from_package = _package_version(host)
        result["package_version"] = package_raw
        if sshd_path:
            host.note("sshd not found at %s: OpenSSH server checks skipped" % sshd_path)
        elif package_raw:
            host.note("package openssh-server %s is installed but no sshd binary was found" % package_raw)
        else:
            host.note("OpenSSH server is not installed (no sshd binary in /usr/sbin, /sbin or PATH)")

    # provenance: read the files ourselves, following Include the way sshd does
    if sshd or host.exists(walk_path):
        walk = cfg.walk_config(walk_path, host.read_text, host.glob)
    else:
        walk = {"entries": [], "files": [], "includes": [], "problems": [], "truncated": False}
    for problem in walk["problems"]:
        host.note("sshd configuration: %s" % problem)
    result["config_files"] = walk["files"]
    result["includes"] = walk["includes"]
    result["truncated"] = bool(walk["truncated"])
    result["provenance"] = cfg.provenance(walk["entries"], result["version_info"]) if walk["files"] else {}

    effective = {}
    if sshd:
        _sshd_test(host, sshd, config_path, result, is_root)
        res, effective = _sshd_dump(host, sshd, config_path)
        if effective:
            result["effective_source"] = "sshd -T"
        else:
            failed = cfg.parse_sshd_t(res.stderr, res.rc)
            detail = "; ".join(failed["messages"])[:200]
            if failed["errors"]:
                detail = "rc=%s, %d configuration error(s), see config_errors" % (res.rc, len(failed["errors"]))
            detail = detail or "rc=%s" % res.rc
            host.note(
                "sshd -T failed (%s)%s" % (detail, "" if is_root else ": it needs root to read the host keys")
            )
        if match:
            spec = _match_spec(match)
            mres, meffective = _sshd_dump(host, sshd, config_path, spec)
            if not meffective:
                host.note("sshd -T -C %s failed (rc=%s)" % (spec, mres.rc))
            result["match"] = {
                "criteria": spec,
                "effective": meffective,
                "settings": cfg.settings_from_effective(meffective) if meffective else None,
            }
    if not effective and walk["files"]:
        effective = cfg.effective_from_provenance(result["provenance"], walk["entries"])
        result["effective_source"] = "config_files"
        host.note(
            "effective settings were read from the configuration files (and upstream defaults),"
            " not from sshd -T: only the keywords in provenance are known"
        )
    result["effective"] = effective
    result["settings"] = cfg.settings_from_effective(effective)

    if sshd:
        _tcp_wrappers(host, sshd, effective, result)

    _listeners(host, result, processes)
    if processes is not None:
        result["preauth_processes"] = count_preauth(processes)
        titles = [parse_listener_title(p["args"]) for p in processes if is_listener(p)]
        titles = [t for t in titles if t]
        result["startups"] = titles[0] if titles else None

    result["notes"] = list(host.notes)
    return result
