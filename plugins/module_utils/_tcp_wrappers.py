# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TCP wrappers evidence: would libwrap let a client reach sshd?

A pure evaluator of hosts_access(5) / hosts_options(5) for daemon ``sshd``,
written to agree with Debian's libwrap (tcp-wrappers 7.6.q) as measured with a
real client against sshd 8.4, 9.2 and 10.0 (sshd-session): see
tests/unit/plugins/module_utils/test__tcp_wrappers.py for every measured case.
What it reproduces, beyond the manual:

* ``#`` starts a comment only in column 0; elsewhere it is an ordinary pattern.
* ``\\`` at the end of a line joins the next line, before the comment check.
* a last line without a newline is still applied (libwrap warns).
* ``:`` splits the fields except inside ``[...]``, so a bare ``::1`` cannot be
  written; IPv6 must be bracketed.
* keywords (ALL, EXCEPT, KNOWN, ...) and names compare case-insensitively.
* IPv4 ``net/mask``: the net must have no host bits; the mask is a dotted quad
  (any value except ``255.255.255.255``, which libwrap's parser cannot tell from
  an error) or a prefix length 1-32 (``/0`` never matches; ``0.0.0.0/0.0.0.0`` does).
* IPv6 ``[net]/len``: len 0-128, host bits in ``net`` are ignored.
* ``*`` and ``?`` wildcards work on addresses and names.
* the daemon name is ``sshd`` for sshd and for 10.0's sshd-session alike.
* hosts.allow is read first (first match grants), then hosts.deny (first match
  denies), else access is granted; ``: allow`` / ``: deny`` / ``: twist`` in the
  options field override the file's verdict.

Host names are not known to a pure function: the evaluator asks for them lazily
(like libwrap) and the collector resolves them with ``getent`` (the same NSS path
libwrap uses). Where a verdict depended on something it could not know (ident
user name, NIS netgroup, an unreadable pattern file), the decision says
``uncertain`` and why.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

from ansible_collections.sshdoctor.connreset.plugins.module_utils._client_address import connection_address, libwrap_address
from ansible_collections.sshdoctor.connreset.plugins.module_utils._untrusted import to_int

HOSTS_ALLOW = "/etc/hosts.allow"
HOSTS_DENY = "/etc/hosts.deny"
DAEMON = "sshd"
UNKNOWN = "unknown"
PARANOID = "paranoid"

MAX_RULES_PER_FILE = 100
MAX_CLIENTS = 32
MAX_PATTERN_FILES = 8
MAX_TEXT = 300
# tcpd.h: host names and addresses are char[STRING_LENGTH]
STRING_LENGTH = 128

SSHD_BINARIES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")
# From OpenSSH 9.8 the per-connection work, and with it Debian's libwrap call, is in sshd-session.
SESSION_BINARIES = (
    "/usr/lib/openssh/sshd-session",
    "/usr/libexec/openssh/sshd-session",
    "/usr/libexec/sshd-session",
    "/usr/local/libexec/sshd-session",
)

_SEP = re.compile(r"[, \t\r\n]+")
_KNOWN_OPTIONS = ("allow", "deny", "spawn", "twist", "severity", "setenv", "umask", "user", "group",
                  "nice", "keepalive", "linger", "rfc931", "banners")
_NEED_VALUE = ("spawn", "twist", "severity", "setenv", "umask", "user", "group", "linger", "banners")
_NO_VALUE = ("allow", "deny", "keepalive")


# --------------------------------------------------------------------------- addresses
def normalize_address(text):
    """An IP address as libwrap prints it (``inet_ntop``). Raises ValueError for anything else."""
    address = libwrap_address(text)
    if address is None:
        raise ValueError("invalid client address %r: give IPv4 or IPv6 addresses, not names" % (text,))
    return address


def normalize_client_addresses(values):
    """Validate the ``client_addresses`` argument (raises ValueError)."""
    result = []
    for value in values or []:
        addr = normalize_address(value)
        if addr not in result:
            result.append(addr)
    if len(result) > MAX_CLIENTS:
        raise ValueError("at most %d client addresses can be evaluated in one run" % MAX_CLIENTS)
    return result


# --------------------------------------------------------------------------- files
def logical_lines(text):
    """Physical lines joined at a trailing backslash, as libwrap's xgets() does.

    Yields dicts ``{line, last_line, text, newline}`` (line numbers 1-based).
    """
    if not text:
        return []
    physical = text.split("\n")
    ends_with_newline = text.endswith("\n")
    if ends_with_newline:
        physical = physical[:-1]
    result = []
    buffer, first = [], None
    for number, line in enumerate(physical, 1):
        has_newline = ends_with_newline or number < len(physical)
        if first is None:
            first = number
        if has_newline and line.endswith("\\"):
            buffer.append(line[:-1])
            continue
        buffer.append(line)
        result.append({"line": first, "last_line": number, "text": "".join(buffer), "newline": has_newline})
        buffer, first = [], None
    if first is not None:
        result.append({"line": first, "last_line": len(physical), "text": "".join(buffer), "newline": False})
    return result


def split_at(text, delimiter, start=0):
    """libwrap's split_at(): the first ``delimiter`` outside ``[...]`` at or after ``start``."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == delimiter and depth == 0:
            return text[:index], text[index + 1:]
    return text, None


def tokens(text):
    return [t for t in _SEP.split(text or "") if t]


def parse_hosts_file(text, path):
    """Parse one hosts_access(5) file. Never raises.

    Returns ``{rules: [{file, line, last_line, text, daemons, clients, options,
    daemon_tokens, client_tokens}], warnings: [{line, message}], lines: int}``.
    """
    result = {"rules": [], "warnings": [], "lines": 0}
    if text is None:
        return result
    text = str(text)
    result["lines"] = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    for logical in logical_lines(text):
        line = logical["text"]
        if line.startswith("#") or not line.strip(" \t\r\n"):
            continue
        if not logical["newline"]:
            result["warnings"].append({
                "line": logical["line"],
                "message": "missing newline at end of file (libwrap warns, and still applies this rule)",
            })
        daemons, rest = split_at(line, ":")
        if rest is None:
            result["warnings"].append({"line": logical["line"], "message": 'missing ":" separator: line ignored'})
            continue
        clients, options = split_at(rest, ":")
        result["rules"].append({
            "file": path,
            "line": logical["line"],
            "last_line": logical["last_line"],
            "text": line.strip()[:MAX_TEXT],
            "daemons": daemons.strip(),
            "clients": clients.strip(),
            "options": options.strip() if options is not None else None,
            "daemon_tokens": tokens(daemons),
            "client_tokens": tokens(clients),
        })
    return result


def parse_options(text):
    """hosts_options(5): ``[(name, value), ...]`` in order; names lower-cased."""
    if not text:
        return []
    parts, current, index = [], "", 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current += text[index + 1]
            index += 2
            continue
        if char == ":":
            parts.append(current)
            current = ""
        else:
            current += char
        index += 1
    parts.append(current)
    result = []
    for part in parts:
        part = part.strip()
        if not part:
            continue
        match = re.match(r"([A-Za-z0-9_]+)\s*=?\s*(.*)$", part, re.S)
        if match:
            result.append((match.group(1).lower(), match.group(2).strip()))
        else:
            result.append((part.lower(), ""))
    return result


def options_outcome(options_text):
    """What the options field does to the verdict: "allow", "deny", "twist", "error" or None.

    An option libwrap rejects (unknown name, a value missing or not allowed, or
    allow/deny/twist anywhere but last: measured ``: allow : deny`` gives
    "option "allow" must be at end") makes it jump out with an error, and
    hosts_access() then refuses the client.
    """
    options = parse_options(options_text)
    for index, (name, value) in enumerate(options):
        last = index == len(options) - 1
        if name not in _KNOWN_OPTIONS:
            return "error"
        if name in _NEED_VALUE and not value:
            return "error"
        if name in _NO_VALUE and value:
            return "error"
        if name in ("allow", "deny", "twist"):
            return name if last else "error"
    return None


# --------------------------------------------------------------------------- matching
class _Endpoint:
    def __init__(self, addr, name, context, role):
        # libwrap keeps a host's name and address in char[STRING_LENGTH] (128): 127 characters at most
        self.addr = (addr or UNKNOWN)[:STRING_LENGTH - 1]
        self._name = name[:STRING_LENGTH - 1] if isinstance(name, str) else name
        self._context = context
        self._role = role

    def hostname(self):
        if self._name is None:
            self._context.need_hostname(self)
            return UNKNOWN
        return self._name


class _Context:
    def __init__(self, pattern_files):
        self.pattern_files = pattern_files or {}
        self.uncertain = []
        self.hostname_needed = []

    def doubt(self, reason):
        if reason not in self.uncertain:
            self.uncertain.append(reason)

    def need_hostname(self, endpoint):
        if endpoint.addr not in self.hostname_needed:
            self.hostname_needed.append(endpoint.addr)
        self.doubt("the %s's host name (%s) was not looked up; libwrap would ask the resolver"
                   % (endpoint._role, endpoint.addr))


def _segment_at(segment, string, start):
    """Does ``segment`` (literal text with ``?`` for any one character) match ``string`` at ``start``?"""
    if start + len(segment) > len(string):
        return False
    return all(c == "?" or c == string[start + i] for i, c in enumerate(segment))


def _find_segment(segment, string, start, end):
    """The first index >= ``start`` where ``segment`` matches inside ``string[:end]``, or -1.

    The longest run without ``?`` is looked up with str.find (C speed), and the candidate checked
    around it; a segment without ``?`` is one str.find.
    """
    if "?" not in segment:
        return string.find(segment, start, end)
    literal = max(segment.split("?"), key=len)
    if not literal:
        return start if start + len(segment) <= end else -1
    offset = _literal_offset(segment, literal)
    position = start + offset
    # the literal must end where the rest of the segment still fits before ``end``
    limit = end - (len(segment) - offset - len(literal))
    while position + len(literal) <= limit:
        found = string.find(literal, position, limit)
        if found < 0:
            return -1
        candidate = found - offset
        if _segment_at(segment, string, candidate):
            return candidate
        position = found + 1
    return -1


def _literal_offset(segment, literal):
    index = 0
    for part in segment.split("?"):
        if part == literal:
            return index
        index += len(part) + 1
    return 0


def _wild_match(pattern, string):
    """``*`` and ``?`` glob, case-insensitive, in time linear in the two lengths for ``*`` patterns.

    The pattern is split at ``*`` into segments: the first must match at the start, the last at
    the end, and each one between at its leftmost place after the previous one (taking the
    leftmost place never loses a match). No backtracking: every segment is looked for once.
    """
    pattern, string = pattern.lower(), string.lower()
    segments = pattern.split("*")
    if len(segments) == 1:
        return len(pattern) == len(string) and _segment_at(pattern, string, 0)
    head, tail, middle = segments[0], segments[-1], segments[1:-1]
    if len(head) + len(tail) > len(string):
        return False
    if not _segment_at(head, string, 0) or not _segment_at(tail, string, len(string) - len(tail)):
        return False
    position, end = len(head), len(string) - len(tail)
    for segment in middle:
        if not segment:
            continue
        found = _find_segment(segment, string, position, end)
        if found < 0:
            return False
        position = found + len(segment)
    return True


def string_match(tok, string):
    """libwrap's string_match() (case-insensitive)."""
    string = string or UNKNOWN
    upper = tok.upper()
    if tok.startswith("."):
        return len(string) > len(tok) and string.lower().endswith(tok.lower())
    if upper == "ALL":
        return True
    if upper == "KNOWN":
        return string.lower() not in (UNKNOWN, PARANOID)
    if "*" in tok or "?" in tok:
        return _wild_match(tok, string)
    if tok.endswith("."):
        return string.lower().startswith(tok.lower())
    if tok.startswith("["):
        if not tok.endswith("]"):
            return False
        try:
            return ipaddress.IPv6Address(tok[1:-1].split("%")[0]) == ipaddress.IPv6Address(string)
        except ValueError:
            return False
    return tok.lower() == string.lower()


def _not_inaddr(tok):
    """libwrap's NOT_INADDR(): the token has a character that cannot be in a dotted address."""
    return any(c not in "0123456789./" for c in tok)


_INET_PART = re.compile(r"(?:0[xX][0-9A-Fa-f]{1,8}|[0-9]{1,12})\Z")


def _inet_aton_part(text):
    """One part of a dotted address as inet_addr() reads it: hex, octal or decimal ASCII. Raises ValueError."""
    if not _INET_PART.match(text):
        raise ValueError("not a number inet_addr() reads: %r" % text)
    if text.lower().startswith("0x"):
        return int(text[2:], 16)
    if len(text) > 1 and text.startswith("0"):
        return int(text, 8)
    return int(text, 10)


def dot_quad(text):
    """libwrap's dot_quad_addr(): four dotted parts through inet_addr(); None where libwrap gets INADDR_NONE."""
    parts = text.split(".")
    if len(parts) != 4 or any(p == "" for p in parts):
        return None
    value = 0
    try:
        for part in parts:
            number = _inet_aton_part(part)
            if number < 0 or number > 255:
                return None
            value = (value << 8) | number
    except ValueError:
        return None
    if value == 0xFFFFFFFF:
        return None  # INADDR_NONE: 255.255.255.255 is indistinguishable from an error
    return value


def masked_match(net_tok, mask_tok, addr_string):
    """``net/mask`` as Debian's libwrap evaluates it (measured, see module docstring)."""
    try:
        addr = ipaddress.ip_address(addr_string)
    except ValueError:
        return False
    if addr.version == 4:
        net = dot_quad(net_tok)
        if net is None:
            return False
        mask = dot_quad(mask_tok)
        if mask is None:
            prefix = to_int(mask_tok, signed=False) if mask_tok.strip() == mask_tok else None
            if prefix is None or not 1 <= prefix <= 32:
                return False
            mask = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
        return (int(addr) & mask) == net
    if not (net_tok.startswith("[") and net_tok.endswith("]")):
        return False
    try:
        net6 = ipaddress.IPv6Address(net_tok[1:-1].split("%")[0])
    except ValueError:
        return False
    prefix = to_int(mask_tok, signed=False) if mask_tok.strip() == mask_tok else None
    if prefix is None or prefix > 128:
        return False
    mask = ((1 << 128) - 1) ^ ((1 << (128 - prefix)) - 1)
    return (int(addr) & mask) == (int(net6) & mask)


def host_match(tok, endpoint, context, depth=0):
    if tok.startswith("@"):
        context.doubt("NIS netgroup %s was not evaluated (treated as no match)" % tok)
        return False
    if tok.startswith("/"):
        text = context.pattern_files.get(tok)
        if text is None:
            context.doubt("pattern file %s could not be read (treated as no match)" % tok)
            return False
        if depth > 2:
            return False
        return any(host_match(t, endpoint, context, depth + 1) for t in text.split())
    upper = tok.upper()
    if upper == "ALL":
        return True
    if upper == "KNOWN":
        name = endpoint.hostname()
        return endpoint.addr != UNKNOWN and name.lower() not in (UNKNOWN, PARANOID)
    if upper == "LOCAL":
        name = endpoint.hostname()
        return "." not in name and name.lower() not in (UNKNOWN, PARANOID)
    net, mask = split_at(tok, "/")
    if mask is not None:
        return masked_match(net, mask, endpoint.addr)
    if string_match(tok, endpoint.addr):
        return True
    return _not_inaddr(tok) and string_match(tok, endpoint.hostname())


def list_match(items, match_fn):
    """libwrap's list_match(): first match, then EXCEPT lists recursively."""
    for index, tok in enumerate(items):
        if tok.upper() == "EXCEPT":
            return False
        if match_fn(tok):
            rest = items[index + 1:]
            for position, other in enumerate(rest):
                if other.upper() == "EXCEPT":
                    return not list_match(rest[position + 1:], match_fn)
            return True
    return False


def daemon_matches(rule, server, context, daemon=DAEMON):
    def server_match(tok):
        name, host = split_at(tok, "@", 1)
        if host is None:
            return string_match(tok, daemon)
        if not string_match(name, daemon):
            return False
        if server is None:
            context.doubt("%s names the server address; it is unknown here (treated as a match)" % tok)
            return True
        return host_match(host, server, context)

    return list_match(rule["daemon_tokens"], server_match)


def client_matches(rule, client, context):
    def client_match(tok):
        user, host = split_at(tok, "@", 1)
        if host is None:
            return host_match(tok, client, context)
        if not host_match(host, client, context):
            return False
        if user.upper() != "ALL":
            context.doubt("%s needs the client's ident (RFC 931) user name; taken as unknown" % tok)
        return string_match(user, UNKNOWN)

    return list_match(rule["client_tokens"], client_match)


def evaluate(client_addr, allow_rules, deny_rules, hostnames=None, server_addr=None, pattern_files=None,
             daemon=DAEMON):
    """hosts_access(3) for one client of ``daemon``.

    ``hostnames``: {address: name | "unknown" | "paranoid"} for addresses already
    resolved; an address missing from it is treated as nameless and, if a rule
    needed its name, the decision lists the address in ``hostname_needed``.
    Returns ``{client, allowed, action, file, line, rule, options, reason,
    uncertain, uncertain_reasons, hostname_needed}``.
    """
    hostnames = hostnames or {}
    context = _Context(pattern_files)
    client = _Endpoint(client_addr, hostnames.get(client_addr), context, "client")
    server = _Endpoint(server_addr, hostnames.get(server_addr), context, "server") if server_addr else None
    decision = {
        "client": client_addr, "allowed": True, "action": "default", "file": None, "line": None,
        "rule": None, "options": None,
        "reason": "no rule in hosts.allow or hosts.deny matches: access granted",
    }
    for path, rules, granted in ((HOSTS_ALLOW, allow_rules, True), (HOSTS_DENY, deny_rules, False)):
        for rule in rules or []:
            if not (daemon_matches(rule, server, context, daemon) and client_matches(rule, client, context)):
                continue
            outcome = options_outcome(rule.get("options"))
            allowed = granted
            action = "allow" if granted else "deny"
            if outcome in ("deny", "twist", "error"):
                allowed, action = False, outcome
            elif outcome == "allow":
                allowed, action = True, "allow"
            where = "%s line %s" % (rule.get("file") or path, rule["line"])
            reasons = {
                "allow": "matched %s: access granted" % where,
                "deny": "matched %s: access denied" % where,
                "twist": "matched %s: twist replaces sshd with a shell command; the client never reaches sshd" % where,
                "error": "matched %s: its options field has an unknown option, and libwrap refuses the client" % where,
            }
            decision.update({
                "allowed": allowed, "action": action, "file": rule.get("file") or path, "line": rule["line"],
                "rule": rule["text"], "options": rule.get("options"), "reason": reasons[action],
            })
            return _finish(decision, context)
    return _finish(decision, context)


def _finish(decision, context):
    decision["uncertain"] = bool(context.uncertain)
    decision["uncertain_reasons"] = list(context.uncertain)
    decision["hostname_needed"] = list(context.hostname_needed)
    return decision


def rule_applies_to_daemon(rule, daemon=DAEMON):
    """True when the daemon list can select ``daemon`` (a ``daemon@host`` form counts)."""
    context = _Context({})
    return daemon_matches(rule, None, context, daemon)


# --------------------------------------------------------------------------- libwrap linkage
def parse_ldd(text):
    """``ldd`` output -> the shared object names it lists."""
    names = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or "=>" not in line and not line.startswith("/") and ".so" not in line:
            continue
        name = line.split("=>", 1)[0].strip().split(" (", 1)[0].strip()
        if name:
            names.append(os.path.basename(name))
    return names


def parse_readelf_needed(text):
    """``readelf -d`` output -> DT_NEEDED names."""
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", text or "")


def links_libwrap(names):
    return any(n.startswith("libwrap.so") for n in names or [])


def binary_text_mentions_libwrap(text):
    """Fallback: the binary's dynamic string table names libwrap and imports hosts_access."""
    return bool(text) and "libwrap.so" in text and "hosts_access" in text


def binary_links_libwrap(host, path):
    """Does the binary ``path`` link libwrap? ``{"linked": True | False | None, "method": ...}``.

    The one check behind sshd_info's ``tcp_wrappers`` and tcp_wrappers_info's ``libwrap``.
    ``method`` says which way answered: ``readelf`` (``readelf -d``: the DT_NEEDED entries, read
    without running anything), ``ldd``, or ``elf_strings`` (the file's dynamic string table names
    ``libwrap.so`` and imports ``hosts_access``); ``linked`` and ``method`` are None when none could.
    """
    res = host.run(["readelf", "-d", path])
    if res.ok and "NEEDED" in res.stdout:
        return {"linked": links_libwrap(parse_readelf_needed(res.stdout)), "method": "readelf"}
    res = host.run(["ldd", path])
    if res.ok:
        return {"linked": links_libwrap(parse_ldd(res.stdout)), "method": "ldd"}
    if not res.missing and "not a dynamic executable" in (res.stdout or "") + (res.stderr or ""):
        return {"linked": False, "method": "ldd"}
    text = host.read_text(path)
    if text is not None:
        return {"linked": binary_text_mentions_libwrap(text), "method": "elf_strings"}
    return {"linked": None, "method": None}


# --------------------------------------------------------------------------- collector
def collect_tcp_wrappers(host, client_addresses=None, environ=None, resolve_hostnames=True, clients=None,
                         connection=None):
    """Parse hosts.allow / hosts.deny, evaluate them for each client, and say whether they apply.

    ``client_addresses`` defaults to the address this module's SSH connection
    comes from (``_client_address.connection_address``: SSH_CONNECTION / SSH_CLIENT
    of ``environ``, by default the module process's own environment, else the
    sshd process above the module). ``clients`` is the same argument under the
    name ssh_evidence's collector plumbing uses; ``connection`` is a
    ``(client, server, source)`` that plumbing already worked out.
    """
    if not client_addresses and clients:
        client_addresses = clients
    notes = []
    result = {
        "applies": None,
        "daemon": DAEMON,
        "libwrap": {},
        "checked_binary": None,
        "files": {},
        "decisions": [],
        "client_source": None,
        "server_address": None,
        "limits": {"max_rules_per_file": MAX_RULES_PER_FILE, "max_clients": MAX_CLIENTS},
        "truncated": False,
        "notes": notes,
    }
    if environ is None:
        environ = dict(os.environ)
    env_client, env_server, env_source = connection or connection_address(host, environ)
    if env_client:
        env_client = normalize_address(env_client)
    if env_server:
        env_server = normalize_address(env_server)
    result["server_address"] = env_server
    if client_addresses:
        clients = normalize_client_addresses(client_addresses)
        result["client_source"] = "parameter"
    elif env_client:
        clients = [env_client]
        result["client_source"] = env_source
    else:
        clients = []
        notes.append("no client address to evaluate: SSH_CONNECTION and SSH_CLIENT are not set in the module's "
                     "environment and no sshd process above it carries its connection (a local or container "
                     "connection); pass client_addresses to evaluate particular clients")

    _detect_libwrap(host, result, notes)

    parsed = {}
    for path in (HOSTS_ALLOW, HOSTS_DENY):
        text = host.read_text(path)
        exists = text is not None or host.exists(path)
        info = {"exists": exists, "readable": text is not None, "lines": 0, "rules": [],
                "rule_count": 0, "sshd_rule_count": 0, "warnings": [], "truncated": False}
        parsed_file = parse_hosts_file(text, path)
        parsed[path] = parsed_file["rules"]
        info["lines"] = parsed_file["lines"]
        info["warnings"] = parsed_file["warnings"][:20]
        info["rule_count"] = len(parsed_file["rules"])
        public = []
        for rule in parsed_file["rules"]:
            applies = rule_applies_to_daemon(rule)
            if applies:
                info["sshd_rule_count"] += 1
            public.append({"line": rule["line"], "last_line": rule["last_line"], "text": rule["text"],
                           "daemons": rule["daemons"], "clients": rule["clients"], "options": rule["options"],
                           "applies_to_sshd": applies})
        if len(public) > MAX_RULES_PER_FILE:
            info["truncated"] = result["truncated"] = True
            public = public[:MAX_RULES_PER_FILE]
        info["rules"] = public
        if exists and text is None:
            notes.append("%s exists but could not be read: decisions for it are uncertain" % path)
        result["files"][path] = info

    pattern_files = {}
    for path in _pattern_file_paths(parsed):
        content = host.read_text(path)
        if content is not None:
            pattern_files[path] = content[:65536]

    hostnames = {}
    for client in clients:
        decision = evaluate(client, parsed[HOSTS_ALLOW], parsed[HOSTS_DENY], hostnames, env_server, pattern_files)
        if decision["hostname_needed"] and resolve_hostnames:
            for addr in decision["hostname_needed"]:
                if addr not in hostnames:
                    hostnames[addr] = resolve_hostname(host, addr, notes)
            decision = evaluate(client, parsed[HOSTS_ALLOW], parsed[HOSTS_DENY], hostnames, env_server,
                                pattern_files)
        if decision["hostname_needed"] and not resolve_hostnames:
            decision["uncertain_reasons"].append("host name lookups are turned off (resolve_hostnames=false)")
        decision["hostname"] = hostnames.get(client)
        for path in (HOSTS_ALLOW, HOSTS_DENY):
            if result["files"][path]["exists"] and not result["files"][path]["readable"]:
                decision["uncertain"] = True
                decision["uncertain_reasons"].append("%s could not be read" % path)
        decision["enforced"] = result["applies"]
        result["decisions"].append(decision)

    for note in getattr(host, "notes", []):
        if note not in notes:
            notes.append(note)
    return result


def _pattern_file_paths(parsed):
    paths = []
    for rules in parsed.values():
        for rule in rules:
            for tok in rule["client_tokens"]:
                host = split_at(tok, "@", 1)[1] or tok
                if host.startswith("/") and host not in paths and len(paths) < MAX_PATTERN_FILES:
                    paths.append(host)
    return paths


def resolve_hostname(host, addr, notes):
    """libwrap's view of a client's name: reverse lookup, then the forward check (else "paranoid")."""
    res = host.run(["getent", "hosts", addr])
    if res.missing:
        notes.append("getent is not installed: host names not looked up")
        return UNKNOWN
    fields = res.stdout.split() if res.ok else []
    if len(fields) < 2:
        return UNKNOWN
    name = fields[1]
    forward = host.run(["getent", "ahosts", name])
    addresses = set()
    for line in forward.stdout.splitlines() if forward.ok else []:
        parts = line.split()
        if parts:
            try:
                addresses.add(normalize_address(parts[0]))
            except ValueError:
                continue
    if addr not in addresses:
        return PARANOID
    return name


def _detect_libwrap(host, result, notes):
    sshd = next((p for p in SSHD_BINARIES if host.exists(p)), None) or host.which("sshd")
    session = next((p for p in SESSION_BINARIES if host.exists(p)), None)
    if sshd is None and session is None:
        notes.append("sshd is not installed here: TCP wrappers cannot apply to it")
        result["applies"] = False
        return
    for path in [p for p in (sshd, session) if p]:
        result["libwrap"][path] = binary_links_libwrap(host, path)
    checked = session or sshd
    result["checked_binary"] = checked
    entry = result["libwrap"][checked]
    result["applies"] = entry["linked"]
    if entry["linked"] is None:
        notes.append("could not tell whether %s links libwrap" % checked)
