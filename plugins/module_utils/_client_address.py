# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where this module's own SSH connection comes from: the address the host sees the controller at.

Every collector that needs "the client" when none was named (TCP wrappers, the
journal's per-client tallies, the ban lookups) gets it from ``connection_address``,
the one place that works it out:

1. ``SSH_CONNECTION`` (else ``SSH_CLIENT``) in the module's environment;
2. when that is gone (``become`` through sudo resets the environment), the TCP peer
   of the sshd process that carries this connection: walk the module's parent
   processes (``/proc/PID/stat``) to the nearest ``sshd`` / ``sshd-session``,
   look its socket up in ``/proc/PID/fd`` and that socket's inode in
   ``/proc/PID/net/tcp`` and ``tcp6``;
3. where the sockets cannot be read (a container without CAP_SYS_PTRACE: the
   kernel hides other users' and non-dumpable processes' fds even from root), the
   ``Accepted ... from ADDRESS port PORT`` line that sshd process wrote to the
   journal (``journalctl _PID=N``), confirmed by an established TCP connection
   from that address and port when the table is readable.

Parsing is pure; ``connection_address(host, environ)`` reads through the ``Host`` API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.sshdoctor.connreset.plugins.module_utils._untrusted import to_int

SSHD_COMMANDS = ("sshd", "sshd-session")  # the kernel's comm of the processes that hold an SSH connection
MAX_ANCESTORS = 32
MAX_FDS = 256
MAX_JOURNAL_LINES = 200
MAX_LINE = 1024
ESTABLISHED = "01"
# The authentication line sshd's connection process logs (auth2.c auth_log, every release): it names the
# peer. Used only to find this module's own connection, not as evidence, so it is not in _signatures.
_ACCEPTED = re.compile(r"^Accepted \S+ for .+ from (?P<address>[0-9A-Fa-f.:]+) port (?P<port>\d+)")
_HEX = re.compile(r"[0-9A-Fa-f]+\Z")
_SOCKET = re.compile(r"^socket:\[(?P<inode>\d+)\]$")


def ip_address_of(text):
    """The IP address ``text`` holds (``[...]`` and an IPv6 ``%zone`` taken off), or None for anything else."""
    value = str(text if text is not None else "").strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    try:
        return ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None


def plain_address(text):
    """An IP address as sshd prints it (IPv4-mapped IPv6 as IPv4), or None for anything else."""
    address = ip_address_of(text)
    if address is None:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped if mapped is not None else address)


def libwrap_address(text):
    """An IP address as libwrap prints it (inet_ntop keeps ``::ffff:a.b.c.d``), or None for anything else."""
    address = ip_address_of(text)
    if address is None:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return "::ffff:%s" % mapped if mapped is not None else str(address)


def host_address(text):
    """``10.89.0.4/32`` -> ``10.89.0.4`` (a network of one address is that address); anything else unchanged."""
    text = (text or "").strip()
    if text.endswith(("/32", "/128")) and ip_address_of(text.rsplit("/", 1)[0]) is not None:
        return text.rsplit("/", 1)[0]
    return text


def from_environment(environ):
    """(client, server, source) from SSH_CONNECTION or SSH_CLIENT; (None, None, None) if neither."""
    environ = environ or {}
    conn = (environ.get("SSH_CONNECTION") or "").split()
    if len(conn) >= 3 and plain_address(conn[0]) and plain_address(conn[2]):
        return plain_address(conn[0]), plain_address(conn[2]), "SSH_CONNECTION"
    client = (environ.get("SSH_CLIENT") or "").split()
    if client and plain_address(client[0]):
        return plain_address(client[0]), None, "SSH_CLIENT"
    return None, None, None


def parse_stat(text):
    """``/proc/PID/stat`` -> (pid, command, parent pid), or (None, None, None). The command may hold spaces
    and parentheses: it runs from the first ``(`` to the last ``)``."""
    text = text or ""
    start, end = text.find("("), text.rfind(")")
    if start < 0 or end < start:
        return None, None, None
    pid, fields = to_int(text[:start], signed=False), text[end + 1:].split()
    ppid = to_int(fields[1], signed=False) if len(fields) >= 2 else None
    if pid is None or ppid is None:
        return None, None, None
    return pid, text[start + 1:end], ppid


def _hex_ipv4(text):
    """/proc/net/tcp's hex IPv4 address (host byte order) -> dotted quad."""
    raw = bytes(bytearray.fromhex(text))
    return ".".join(str(b) for b in bytearray(raw[::-1]))


def _hex_ipv6(text):
    """/proc/net/tcp6's hex IPv6 address -> its text form, zeros compressed as inet_ntop does."""
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


def parse_tcp_sockets(text, ipv6=False):
    """``/proc/net/tcp`` (or ``tcp6``) -> ``[{"local", "local_port", "remote", "remote_port", "state", "inode"}]``."""
    sockets = []
    for raw in (text or "").splitlines():
        fields = raw.split()
        inode = to_int(fields[9], signed=False) if len(fields) >= 10 else None
        if inode is None or not fields[0].endswith(":"):
            continue
        try:
            local, local_port = _endpoint(fields[1], ipv6)
            remote, remote_port = _endpoint(fields[2], ipv6)
        except ValueError:
            continue
        sockets.append({"local": local, "local_port": local_port, "remote": remote, "remote_port": remote_port,
                        "state": fields[3], "inode": inode})
    return sockets


def _endpoint(field, ipv6):
    address_hex, _sep, port_hex = field.partition(":")
    if not _HEX.match(address_hex) or not _HEX.match(port_hex) or len(port_hex) > 4:
        raise ValueError(field)
    if ipv6 and len(address_hex) == 32:
        address = plain_address(_hex_ipv6(address_hex))
    elif not ipv6 and len(address_hex) == 8:
        address = _hex_ipv4(address_hex)
    else:
        raise ValueError(field)
    return address, int(port_hex, 16)


def socket_inode(link):
    """``socket:[12345]`` -> 12345; None for any other link target."""
    match = _SOCKET.match(link or "")
    return to_int(match.group("inode"), signed=False) if match else None


def accepted_peer(lines):
    """(address, port) of the last ``Accepted ... from A port P`` line of an sshd process, or None."""
    found = None
    for line in lines:
        # sshd's own line is far shorter; the cut keeps a hostile line's backtracking small
        match = _ACCEPTED.match(line.strip()[:MAX_LINE])
        port = to_int(match.group("port"), signed=False) if match else None
        if port is not None and plain_address(match.group("address")):
            found = plain_address(match.group("address")), port
    return found


def sshd_ancestors(host, start="self"):
    """The pids of the sshd / sshd-session processes above ``start`` (nearest first)."""
    found, pid = [], start
    for _depth in range(MAX_ANCESTORS):
        number, command, parent = parse_stat(host.read_text("/proc/%s/stat" % pid))
        if number is None:
            break
        if command in SSHD_COMMANDS:
            found.append(number)
        if parent in (None, 0, 1) or parent == number:
            break
        pid = parent
    return found


def _tcp_table(host, pid):
    sockets = []
    for name, ipv6 in (("tcp", False), ("tcp6", True)):
        text = host.read_text("/proc/%s/net/%s" % (pid, name))
        if text is None:
            text = host.read_text("/proc/net/%s" % name)
        sockets.extend(parse_tcp_sockets(text, ipv6=ipv6))
    return sockets


def from_processes(host, start="self"):
    """(client, server, source) from the sshd process carrying this connection; (None, None, None) if not found."""
    ancestors = sshd_ancestors(host, start)
    if not ancestors:
        return None, None, None
    table = _tcp_table(host, ancestors[0])
    established = dict((s["inode"], s) for s in table if s["state"] == ESTABLISHED)
    for pid in ancestors:
        for fd in (host.listdir("/proc/%d/fd" % pid) or [])[:MAX_FDS]:
            sock = established.get(socket_inode(host.readlink("/proc/%d/fd/%s" % (pid, fd))))
            if sock:
                return sock["remote"], sock["local"], "socket of sshd process %d" % pid
    if host.which("journalctl"):
        for pid in ancestors:
            res = host.run(["journalctl", "--no-pager", "-q", "-o", "cat", "-n", str(MAX_JOURNAL_LINES), "_PID=%d" % pid])
            peer = accepted_peer(res.stdout.splitlines()) if res.ok else None
            if not peer:
                continue
            match = [s for s in established.values() if (s["remote"], s["remote_port"]) == peer]
            if match:
                return peer[0], match[0]["local"], "journal of sshd process %d, confirmed by its TCP connection" % pid
            if not established:
                return peer[0], None, "journal of sshd process %d (the TCP table could not be read)" % pid
    return None, None, None


def connection_address(host, environ=None):
    """(client, server, source) of this module's SSH connection; (None, None, None) when it is not an SSH one."""
    found = from_environment(environ)
    if found[0]:
        return found
    return from_processes(host)


# --- client specs: what the controller asks about (CONTRACTS.md section 1) ----------------------------------
MAX_CLIENT_SPECS = 16


def normalize_client_spec(value, name="clients"):
    """An IPv4/IPv6 address or CIDR as given (``198.51.100.7``, ``203.0.113.0/24``), normalised; ValueError otherwise.

    The message names ``name`` (the option or variable) and says what was wrong: a host name, host bits
    set in a network, or text that is no address at all.
    """
    text = str(value if value is not None else "").strip()
    if text.startswith("[") and "]" in text:
        text = text[1:].replace("]", "", 1)
    if "/" in text:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError("%s: %r is not an IPv4 or IPv6 network (CIDR such as 203.0.113.0/24)" % (name, value))
        if str(network.network_address) != str(ipaddress.ip_address(text.split("/", 1)[0])):
            raise ValueError("%s: %r has host bits set; did you mean %s (the network) or %s (the address)?" % (
                name, value, network, text.split("/", 1)[0]))
        return str(network)
    address = plain_address(text)
    if address is None:
        if text and re.match(r"^[A-Za-z0-9.-]+$", text) and re.search(r"[A-Za-z]", text):
            raise ValueError("%s: %r is a host name; give the client's IP address (or a CIDR) as the server sees it"
                             % (name, value))
        raise ValueError("%s: %r is not an IPv4 or IPv6 address or CIDR" % (name, value))
    return address


def normalize_client_specs(values, name="clients", max_specs=MAX_CLIENT_SPECS):
    """A list of client specs (a string may hold several, separated by commas or spaces), normalised, deduplicated."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)):
        raise ValueError("%s: give an address or CIDR, or a list of them, not %s" % (name, type(values).__name__))
    specs = []
    for value in values:
        for part in re.split(r"[,\s]+", str(value if value is not None else "").strip()):
            if not part:
                continue
            spec = normalize_client_spec(part, name)
            if spec not in specs:
                specs.append(spec)
    if len(specs) > max_specs:
        raise ValueError("%s: at most %d addresses or CIDRs, not %d" % (name, max_specs, len(specs)))
    return specs


def first_address(spec):
    """The address a single-address question is asked for: the spec itself, or a network's first address."""
    if "/" not in spec:
        return spec
    return str(ipaddress.ip_network(spec, strict=False).network_address)


def _same_family(left, right):
    """Both specs as networks when they are of one IP version, else None."""
    try:
        a = ipaddress.ip_network(left, strict=False)
        b = ipaddress.ip_network(right, strict=False)
    except ValueError:
        return None
    return (a, b) if a.version == b.version else None


def spec_contains(spec, address):
    """True when ``address`` (an address or a CIDR) lies inside ``spec`` (an address or a CIDR); False otherwise."""
    pair = _same_family(spec, address)
    return bool(pair) and pair[1].subnet_of(pair[0])


def specs_overlap(left, right):
    """True when two address/CIDR specs share at least one address."""
    pair = _same_family(left, right)
    return bool(pair) and pair[0].overlaps(pair[1])
