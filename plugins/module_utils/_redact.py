# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A redacted copy of a diagnose run: addresses, host names, user names and MAC addresses become tokens.

The same value always becomes the same token within one ``Redactor`` (one run), so the
story still reads: ``host-3`` refuses ``client-12``, ``user-5`` failed from ``net-2/24``.

- IPv4 and IPv6 addresses, in any spelling (``2001:DB8:0::1`` is ``2001:db8::1``, ``::ffff:a.b.c.d``
  is ``a.b.c.d``): ``client-N``; a host's own address (its probe address): ``host-N-addr``.
  A network keeps its prefix length (``net-N/24``, ``net-N/255.255.255.0``; hosts.allow's
  ``10.0.0.`` is ``net-N/24``); an address written with a prefix keeps it (``client-N/32``).
  Loopback, unspecified (``0.0.0.0``, ``::``) and netmasks (``255.x.x.x``) stay: they name no one.
- Host names: the inventory names (``host-1`` ... in sorted order), names under keys such as
  ``host`` or ``hostname``, and DNS names in any text. ``web1.corp.example.com`` is
  ``host-N.domain-M`` (its first label is then hidden where it stands alone too),
  ``.corp.example.com`` (a hosts.allow domain) ``.domain-M``, ``example.com`` ``domain-M``,
  ``web1.lan`` ``host-N.lan``. A dotted word is a DNS name when its last label is a top-level
  domain (``TLDS``) or it ends in a known domain (those of the inventory names and the
  ``domains`` given): ``report.json`` and ``sshd_config.d`` are not names. The public domains of
  SSH's algorithm and extension names (``curve25519-sha256@libssh.org``, ``*@openssh.com``,
  ``KEEP_DOMAINS``) stay: they name software, not anyone's machines.
- User names in sshd's and PAM's lines ("Invalid user U from", "Accepted publickey for U from",
  "Connection reset by authenticating user U", "session opened for user U(uid=...)", "user=U"),
  ``/home/U``, ``AllowUsers`` / ``DenyUsers`` / ``Match User`` and keys such as ``user``:
  ``user-N``. Kept: system accounts (``root``, ``nobody``, ``sshd``...), names shorter than three
  characters or without a letter, and names that are words of the report itself (``info``,
  ``timeout``): they identify no one, and replacing them would garble the report.
- MAC addresses ``mac-N``; SSH key fingerprints (``SHA256:...``, ``MD5:...``) ``key-N``; the
  ``keywords`` given (case-insensitive substrings) ``word-N``.

A host name, user name or keyword once found is replaced wherever it stands as a whole word
(no letter or digit on either side): in sentences, firewall rules and their comments, file
names, dict keys. Inside a snake_case identifier (``ssh_ports``, ``idle_timeout``) only a whole
match counts, so keys and cause ids stay. An inventory name that is itself a word of the
report's structure (``probe``, ``firewall``, ``info``) cannot be hidden without garbling it:
``RedactionError`` says so.

How: ``learn`` walks JSON-shaped data (dicts, lists, strings, keys too) and records what it
finds; ``redact`` returns a copy with every string and key redacted; ``scrub`` redacts rendered
text once more (tokens stay as they are); ``leaks`` lists what of the mapping, and which
addresses, MACs and fingerprints, are still in a text. ``mapping`` is the private
original-to-token table (``redaction-map.json``).

Learnt from sos' ``clean`` (sos/cleaner/mappings: addresses mapped per network with their prefix
length, host names by counter with the domain apart and top-level domains kept, user names
discovered first and then replaced everywhere, skip lists for loopback and system accounts) and
from insights-client's ``spec_cleaner`` (host names and addresses obfuscated, keywords replaced).
Own code. Tokens, not fake addresses: no token can be mistaken for somebody's real address.

Pure: no I/O, no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html
import ipaddress
import re

KINDS = (
    # (kind, token prefix, section of the mapping)
    ("host", "host", "hosts"),
    ("domain", "domain", "domains"),
    ("addr", "client", "addresses"),
    ("net", "net", "networks"),
    ("user", "user", "users"),
    ("mac", "mac", "macs"),
    ("key", "key", "fingerprints"),
    ("word", "word", "keywords"),
)
_PREFIX = dict((kind, prefix) for kind, prefix, _section in KINDS)

_TOKEN_BODY = r"(?:host|client|net|user|mac|domain|word|key)-\d+(?:-addr\d*)?"
TOKEN = re.compile(r"(?<![A-Za-z0-9])%s(?![A-Za-z0-9])" % _TOKEN_BODY)
_WHOLE_TOKEN = re.compile(r"^%s$" % _TOKEN_BODY, re.I)
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")

# Top-level domains that make a dotted word a DNS name. Country codes that are also file
# extensions (sh, py, pl, md, rs, so, ps, js, ts, rb, cc, cs, in, am, mk) are left out on purpose.
TLDS = frozenset("""
com net org edu gov mil int info biz name pro mobi aero coop museum arpa
io co me us uk de fr nl be ch at se no dk fi es it pt cz sk hu ro bg gr ie lu li is ee lv lt si hr ba
ua ru by kz cn jp kr tw hk sg my th vn id ph au nz ca mx br ar cl pe uy za eg ng ke il tr ae sa ir pk bd eu
cloud dev app tech online site xyz top club shop store blog systems network services global zone host
internal local lan home corp intranet private localdomain example test invalid
""".split())
# Internal pseudo-domains: "web1.lan" is a host in a one-label domain.
INTERNAL_TLDS = frozenset("internal local lan home corp intranet private localdomain".split())
# First labels too generic to hide wherever they stand alone: hidden inside their names only.
GENERIC_LABELS = frozenset("www api mail smtp imap pop pop3 ns ns1 ns2 ns3 dns ftp vpn proxy gw gateway router "
                           "host server login auth db web app".split())
KEEP_HOSTS = frozenset(["localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "localdomain"])
# Domains in the names of SSH algorithms and extensions (RFC 4251 name@domain): sshd -T's ciphers, macs,
# kexalgorithms, hostkeyalgorithms, "hostkeys-00@openssh.com" in the journal. They name software.
KEEP_DOMAINS = frozenset(["openssh.com", "libssh.org", "ssh.com"])
# System accounts, and words sshd writes where a user name goes.
KEEP_USERS = frozenset("""
root nobody sshd daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc gnats
messagebus _apt polkitd syslog systemd-network systemd-resolve systemd-timesync systemd-journal
unknown invalid user from for by port none UNKNOWN (unknown) authenticating
""".split())
# The report's own words: its keys, severities, statuses, outcomes, phases, sections and cause ids.
# An inventory name among them cannot be replaced without garbling the report; a user name
# among them is kept. Lower case.
REPORT_WORDS = frozenset("""
version generated_at generator hosts summary counts status reachable probe findings notes facts message
cause severity confidence evidence fix automated_fix role vars nothing_found top_severity unreachable
critical warning info ok diagnosed evidence_failed not_run healthy unhealthy healthy_with_advisories unknown
health scope clients not_clients phase ongoing since_epoch events epoch what client count incident fleet
timeline verdict verdicts ruled_out
connect banner kex auth session any
outcome outcomes stage samples samples_total connected banners loss_pct failed_pct connect_ms identification
errors error address host port timeout banner_timeout port_from mtr messages refused reset_before_banner
closed_before_banner closed_with_message no_route name_resolution_failed not_ssh
sshd journal oom firewall tcp_wrappers host_health bans settings service listeners signatures rules
policies conntrack sources limits truncated boots units window source since
idle_timeout maxstartups_throttling source_penalty oom_kill resource_pressure sshd_not_running
sshd_config_invalid sshd_restarted protocol_mismatch packet_corruption host_rebooted host_unreachable
tcp_wrappers_denied firewall_reject
""".split())
# Function words of the report's sentences: kept as user names ("for", "a").
_ENGLISH = frozenset("""
the and not are was were has have had can cannot will would should could its into than then this that
these those with without from since until after before over under via per all any none yes one two
""".split())

HOST_KEYS = frozenset(["host", "hostname", "host_name", "fqdn", "nodename", "inventory_hostname", "ansible_host",
                       "jump_host"])
USER_KEYS = frozenset(["user", "users", "username", "user_name", "logname", "ruser", "allow_users", "deny_users",
                       "allowusers", "denyusers"])

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4 = r"%s(?:\.%s){3}" % (_OCTET, _OCTET)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"

# One scan finds everything, left to right, so that nothing is replaced twice. At a position the
# first alternative that matches wins: fingerprints and MACs (colon-separated hex) before IPv6,
# IPv6 before IPv4 (::ffff:a.b.c.d), known names before the general DNS-name pattern.
_FP = ("fp", r"(?<![A-Za-z0-9])(?:SHA256:[A-Za-z0-9+/]{43}|MD5:(?:[0-9a-fA-F]{2}:){15}[0-9a-fA-F]{2})(?![A-Za-z0-9+/:])")
_MAC = ("mac", r"(?<![0-9A-Za-z:.-])[0-9A-Fa-f]{2}(?P<msep>[:-])[0-9A-Fa-f]{2}(?:(?P=msep)[0-9A-Fa-f]{2}){4}"
               r"(?![0-9A-Za-z:-]|\.[0-9])")
_V6 = ("v6", r"(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:%s|[0-9A-Fa-f]{1,4})?(?:%%[0-9A-Za-z_.-]+)?"
             r"(?:\]?/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?(?![0-9A-Za-z:]|\.[0-9])" % _V4)
_V4A = ("v4", r"(?<![0-9A-Za-z.])%s(?:/(?:%s|3[0-2]|[12]?[0-9]))?(?![0-9A-Za-z]|\.[0-9])" % (_V4, _V4))
# hosts.allow's network prefixes: "10.0.0." anywhere; "10." and "192.168." only in hosts.allow's own text.
_V4P = ("v4p", r"(?<![0-9A-Za-z.])%s(?:\.%s){2}\.(?![0-9A-Za-z.])" % (_OCTET, _OCTET))
_V4PS = ("v4ps", r"(?<![0-9A-Za-z.])%s(?:\.%s)?\.(?![0-9A-Za-z.])" % (_OCTET, _OCTET))
_NAME = ("name", r"(?<![A-Za-z0-9_.-])\.?%s(?:\.%s)+(?![A-Za-z0-9_-]|\.[A-Za-z0-9])" % (_LABEL, _LABEL))
_FIXED = [_FP, _MAC, _V6, _V4A, _V4P]
_TCPD_CONTEXT = re.compile(r"hosts\.(?:allow|deny)|^\s*(?:ALL|sshd)(?:[\s,]+(?!-)[\w.@][\w.@-]*)*\s*:(?!\S)"
                           r"|^(?:\d{1,3}\.){1,3}$")


def _alternatives(parts):
    return re.compile("|".join("(?P<%s>%s)" % (name, body) for name, body in parts), re.I)


_LEARN = {False: _alternatives(_FIXED + [_NAME]), True: _alternatives(_FIXED + [_V4PS, _NAME])}
_DETECT = dict((name, re.compile(body, re.I)) for name, body in _FIXED + [_V4PS])

_USER_PATTERNS = [re.compile(p) for p in (
    r"\b[Ii]nvalid user (\S+) from ",
    r"\b(?:[Aa]uthenticating|[Ii]nvalid) user (\S+) \S+ port \d",
    r"\b(?:[Ff]ailed|Accepted|Postponed|Partial) \S+ for (?:invalid user )?(\S+) from ",
    r"\b(?:from|by) (?:invalid |authenticating )?user (\S+) ",
    r"\bfor (?:invalid )?user ([^\s(]+)",
    r"\b[Uu]ser (\S+) from \S+ not allowed\b",
    r"\b[Uu]ser (\S+) not allowed because\b",
    r"\b(?:r?user|logname)=([^\s;,]+)",
    r"\bexceeded for (?:invalid user )?(\S+) from ",
    r"\bStarting session: .* for (\S+) from ",
    r"\b[Ss]ession process \d+ for ([A-Za-z_][A-Za-z0-9_.-]*)",
    r"\bsshd(?:-session)?(?:\[\d+\])?: ([A-Za-z_][A-Za-z0-9_.-]*) \[(?:priv|net|accepted)\]",
    r"\bsshd(?:-session)?: ([A-Za-z_][A-Za-z0-9_.-]*)@(?:pts|notty)",
    r"/home/([^/\s'\"]+)",
)]
# The host name in a journal or syslog line's prefix ("2026-12-02T10:05:07.511850+0000 web3 sshd[188]: ",
# "Dec  2 10:05:07 web3 sshd[188]: "): the machine's own name, which the inventory may not know.
_LINE_HOST = re.compile(r"(?:^|(?<=\s))(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:?\d{2}|Z)?"
                        r"|[A-Z][a-z]{2} [ 0-9]\d \d{2}:\d{2}:\d{2}) ([A-Za-z0-9][A-Za-z0-9._-]*) [A-Za-z0-9_./-]+(?:\[\d+\])?: ")
_USER_LISTS = re.compile(r"(?i)\b(?:allowusers|denyusers|match\s+user)\s+([^\n]+)")
_TRAILING = ".,;:)]'\""


class RedactionError(Exception):
    """The run cannot be redacted safely; the message says why."""


def is_token(text):
    return bool(_WHOLE_TOKEN.match(text))


def _address(text):
    """``(ipaddress object, prefix text or None, zone)`` for an address as written, or None."""
    body, _sep, prefix = text.partition("/")
    body, _sep, zone = body.partition("%")
    try:
        addr = ipaddress.ip_address(u"%s" % body)
    except ValueError:
        return None
    return addr, (prefix or None), zone


def _plain(addr):
    return addr.ipv4_mapped if addr.version == 6 and addr.ipv4_mapped is not None else addr


def keep_address(addr):
    """Loopback, unspecified and netmask-like addresses stay: they name no one."""
    addr = _plain(addr)
    return addr.is_loopback or addr.is_unspecified or (addr.version == 4 and str(addr).startswith("255."))


def _words(text):
    return set(re.split(r"[^a-z0-9]+", text.lower())) - {""}


class Redactor(object):
    """One run's redaction: ``learn`` everything first, then ``redact`` / ``text`` / ``scrub``."""

    def __init__(self, hosts=(), domains=(), keywords=()):
        self._tokens = dict((kind, {}) for kind, _prefix, _section in KINDS)
        self._counters = dict((kind, 0) for kind, _prefix, _section in KINDS)
        self._inventory = sorted(set(h for h in (self._host_key(n) for n in hosts) if h))
        self._host_addr = {}  # address key -> host key: a host's own address
        self._alias = {}  # an inventory FQDN's first label -> the FQDN: one host, one token
        self._standalone = set()  # host keys replaced wherever they stand as a word
        self._domains = set()
        self._seen_keys = set()  # words of the data's dict keys: kept as user names
        self._frozen = False
        self._cache = {}
        for name in self._inventory:
            self.add_host(name)
        for domain in domains or ():
            self.add_domain(domain)
        for word in keywords or ():
            if str(word).strip():
                self._add("word", str(word).strip().lower())

    # --- what is known ---------------------------------------------------------------------------

    def _add(self, kind, key):
        if key not in self._tokens[kind]:
            self._tokens[kind][key] = None  # numbered on first use (see _token)
            if kind in ("host", "domain", "user", "word"):
                self._cache = {}
        return key

    def _originals_lower(self):
        return set(key.lower() for kind in self._tokens for key in self._tokens[kind])

    def _token(self, kind, key):
        if kind == "host" and key in self._alias:
            self._add(kind, key)
            token = self._tokens[kind][key] = self._token(kind, self._alias[key])
            return token
        self._add(kind, key)
        token = self._tokens[kind][key]
        if token is None:
            if kind == "addr" and key in self._host_addr:
                base = self._token("host", self._host_addr[key]) + "-addr"
                taken = set(self._tokens["addr"].values())
                token, number = base, 1
                while token in taken:
                    number += 1
                    token = "%s%d" % (base, number)
            else:
                originals = self._originals_lower()
                while True:
                    self._counters[kind] += 1
                    token = "%s-%d" % (_PREFIX[kind], self._counters[kind])
                    if token not in originals:  # no token may read as somebody's real name
                        break
            self._tokens[kind][key] = token
        return token

    @staticmethod
    def _host_key(name):
        name = str(name or "").strip().rstrip(".")
        low = name.lower()
        if not name or low in KEEP_HOSTS or _address(name) is not None:
            return None
        return low

    def add_host(self, name, standalone=True):
        """A host name (an inventory name, a name under a ``host`` key); returns its key or None."""
        low = self._host_key(name)
        if low is None:
            return None
        self._add("host", low)
        labels = low.split(".")
        if len(labels) > 1 and labels[0] in self._inventory and low not in self._inventory:
            self._alias.setdefault(low, labels[0])  # gone.corp.example.com is the inventory's gone
        if standalone and low not in self._standalone:
            self._standalone.add(low)
            self._cache = {}
        if len(labels) > 2:
            self.add_domain(".".join(labels[1:]))
        if len(labels) > 2 or (len(labels) == 2 and labels[1] in INTERNAL_TLDS):
            if self._add_label(labels[0]) and low in self._inventory:
                self._alias.setdefault(labels[0], low)
        return low

    def add_inventory(self, name):
        """An inventory name: numbered first, and it must not be a word of the report (see ``freeze``)."""
        low = self._host_key(name)
        if low is not None and low not in self._inventory:
            self._inventory.append(low)
            self._inventory.sort()
        return self.add_host(name)

    def _add_label(self, label):
        """A name's first label, hidden where it stands alone, unless it is too generic to tell."""
        if label in GENERIC_LABELS or len(label) < 2 or label.isdigit() or label in REPORT_WORDS:
            return False
        self._add("host", label)
        if label not in self._standalone:
            self._standalone.add(label)
            self._cache = {}
        return True

    def add_domain(self, domain):
        low = str(domain).strip().strip(".").lower()
        if low and "." in low and low not in KEEP_HOSTS and low not in self._domains:
            self._domains.add(low)
            self._add("domain", low)

    def add_user(self, name):
        name = str(name).strip().strip(_TRAILING)
        if name.startswith("!"):
            name = name[1:]
        name = name.split("@", 1)[0]
        if (len(name) < 3 or len(name) > 128 or name in KEEP_USERS or not re.search(r"[A-Za-z]", name)
                or any(c in name for c in "*?") or _address(name) is not None):
            return
        self._add("user", name)

    def add_host_address(self, address, host):
        """``address`` is ``host``'s own address: its token says so (``host-3-addr``)."""
        found = _address(str(address or ""))
        low = self.add_host(host)
        if found is None or low is None or keep_address(found[0]):
            return
        key = _plain(found[0]).compressed
        if key not in self._host_addr:
            self._host_addr[key] = low
            self._add("addr", key)

    # --- learning --------------------------------------------------------------------------------

    def learn(self, data):
        """Record every address, name and user in JSON-shaped ``data``."""
        stack = [(None, data)]
        while stack:
            key, value = stack.pop()
            if isinstance(value, dict):
                for item_key, item in value.items():
                    if isinstance(item_key, str):
                        self._seen_keys.update(_words(item_key))
                        self._learn_text(item_key)
                    stack.append((str(item_key).lower(), item))
            elif isinstance(value, (list, tuple)):
                stack.extend((key, item) for item in value)
            elif isinstance(value, str):
                if key in HOST_KEYS:
                    self.add_host(value)
                elif key in USER_KEYS:
                    for name in re.split(r"[\s,]+", value):
                        self.add_user(name)
                self._learn_text(value)
        return self

    def learn_report(self, report):
        """A report (``report.json``): its host names, each host's probe address, then everything."""
        hosts = report.get("hosts") if isinstance(report, dict) else None
        if isinstance(hosts, dict):
            for name in sorted(hosts):
                self.add_inventory(name)
            for name in sorted(hosts):
                self._learn_probe(name, hosts[name])
        return self.learn(report)

    def learn_evidence(self, document):
        """An ``evidence/<host>.json`` document: ``{"host", "probe", "evidence", ...}``."""
        if isinstance(document, dict) and isinstance(document.get("host"), str):
            self.add_host(document["host"])
            self._learn_probe(document["host"], document)
        return self.learn(document)

    def _learn_probe(self, name, entry):
        probe = entry.get("probe") if isinstance(entry, dict) else None
        if isinstance(probe, dict):
            for field in ("address", "host"):
                value = probe.get(field)
                if isinstance(value, str):
                    if _address(value) is not None:
                        self.add_host_address(value, name)
                    elif field == "host":
                        self.add_host(value)

    def _learn_text(self, text):
        if not text:
            return
        for pattern in _USER_PATTERNS:
            for match in pattern.finditer(text):
                self.add_user(match.group(1))
        for line_host in _LINE_HOST.finditer(text):
            self.add_host(line_host.group(1))
        for match in _USER_LISTS.finditer(text):
            for name in re.split(r"[\s,]+", match.group(1)):
                self.add_user(name)
        regex = _LEARN[bool(_TCPD_CONTEXT.search(text))]
        for match in regex.finditer(text):
            getattr(self, "_on_" + match.lastgroup)(match.group(match.lastgroup), True)

    def freeze(self):
        """End of learning: check the inventory names, number them first (in sorted order)."""
        if self._frozen:
            return self
        for name in self._inventory:
            if name in REPORT_WORDS:
                raise RedactionError(
                    "cannot redact: the inventory name %r is also a word of the report itself (a key, a severity, "
                    "a status or a cause id); replacing it would garble the report and keeping it would not hide it. "
                    "Give that host another inventory name (with ansible_host) for a run you want to share." % name)
        users = self._tokens["user"]
        for name in list(users):
            if name.lower() in REPORT_WORDS or name.lower() in self._seen_keys or name.lower() in _ENGLISH:
                del users[name]  # a word of the report, not somebody's name
        self._cache = {}
        self._frozen = True
        for name in self._inventory:
            self._token("host", name)
        return self

    # --- the scan --------------------------------------------------------------------------------

    def _literal_parts(self):
        parts = []
        names = sorted(set(k for k in self._tokens["host"] if k in self._standalone) | self._domains, key=len, reverse=True)
        if names:
            parts.append(("lit", r"(?<![A-Za-z0-9])(?:%s)(?![A-Za-z0-9])" % "|".join(re.escape(n) for n in names)))
        users = sorted(self._tokens["user"], key=len, reverse=True)
        if users:
            # Unix user names are case-sensitive: a scoped flag turns case-insensitivity off for them.
            parts.append(("usr", r"(?<![A-Za-z0-9])(?-i:%s)(?![A-Za-z0-9])" % "|".join(re.escape(u) for u in users)))
        words = sorted(self._tokens["word"], key=len, reverse=True)
        if words:
            parts.append(("kw", "|".join(re.escape(w) for w in words)))
        return parts

    def _regex(self, kind):
        if kind not in self._cache:
            if kind == "literals":
                parts = self._literal_parts()
                self._cache[kind] = _alternatives(parts) if parts else None
            else:
                tcpd, scrub = kind
                parts = ([("tok", TOKEN.pattern)] if scrub else []) + _FIXED + ([_V4PS] if tcpd else [])
                # Rendered text is not searched for new DNS names: what is not in the (redacted) data
                # there is the renderers' own text, such as CSS (".finding.info").
                self._cache[kind] = _alternatives(parts + self._literal_parts() + ([] if scrub else [_NAME]))
        return self._cache[kind]

    def _replace(self, regex, text):
        def one(match):
            found = match.group(match.lastgroup)
            result = getattr(self, "_on_" + match.lastgroup)(found, False)
            return found if result is None else result
        return regex.sub(one, text)

    def _literals(self, text):
        """Known names and keywords inside a stretch the scan did not take as a whole."""
        regex = self._regex("literals")
        return self._replace(regex, text) if regex is not None else text

    def text(self, text, scrub=False):
        """``text`` with every known name and user, and every address, MAC and DNS name, replaced."""
        if not text:
            return text
        self.freeze()
        if _SNAKE.match(text):
            # an identifier (a key, a cause id): only a whole match is a name
            low = text.lower()
            if low in self._standalone or low in self._domains:
                return self._on_lit(text, False)
            if text in self._tokens["user"]:
                return self._token("user", text)
            return self._literals(text) if self._tokens["word"] else text
        return self._replace(self._regex((bool(_TCPD_CONTEXT.search(text)), scrub)), text)

    def _on_tok(self, found, learn):
        return None

    def _on_fp(self, found, learn):
        if learn:
            self._add("key", found)
            return None
        return self._token("key", found)

    def _on_mac(self, found, learn):
        key = found.lower().replace("-", ":")
        if key in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"):
            return None  # no address and broadcast: nobody's
        if learn:
            self._add("mac", key)
            return None
        return self._token("mac", key)

    def _on_v6(self, found, learn):
        return self._on_v4(found, learn)

    def _on_v4(self, found, learn):
        if "]/" in found:
            # hosts.allow's [2001:db8::]/32: the network, its bracket kept
            result = self._on_v4(found.replace("]/", "/"), learn)
            return None if result is None else result.replace("/", "]/", 1)
        parsed = _address(found)
        if parsed is None:
            # not an address after all (a time such as 14:03:07); known words inside it still go
            return None if learn else self._literals(found)
        addr, prefix, zone = parsed
        if prefix is not None:
            try:
                network = ipaddress.ip_network(u"%s/%s" % (addr, prefix), strict=False)
            except ValueError:
                network = None
            if network is not None and network.prefixlen < network.max_prefixlen and network.network_address == addr:
                if network.prefixlen == 0 or keep_address(addr):
                    return None
                if learn:
                    self._add("net", network.compressed)
                    return None
                return "%s/%s" % (self._token("net", network.compressed), prefix)
        if keep_address(addr):
            return None
        key = _plain(addr).compressed
        if learn:
            self._add("addr", key)
            return None
        token = self._token("addr", key)
        if addr.version == 6 and addr.ipv4_mapped is not None:
            token = "::ffff:" + token
        if zone:
            token += "%" + zone
        return token + ("/" + prefix if prefix else "")

    def _on_v4p(self, found, learn):
        """hosts.allow's ``10.0.0.``: the network 10.0.0.0/24."""
        octets = found.rstrip(".").split(".")
        length = 8 * len(octets)
        network = ipaddress.ip_network(u"%s/%d" % (".".join(octets + ["0"] * (4 - len(octets))), length))
        if network.network_address.is_loopback or octets[0] in ("0", "255"):
            return None
        if learn:
            self._add("net", network.compressed)
            return None
        return "%s/%d" % (self._token("net", network.compressed), length)

    _on_v4ps = _on_v4p

    def _on_lit(self, found, learn):
        if learn:
            return None
        low = found.lower()
        if low in self._standalone and low in self._tokens["host"]:
            return self._token("host", low)
        return self._token("domain", low)

    def _on_usr(self, found, learn):
        return None if learn else self._token("user", found)

    def _on_kw(self, found, learn):
        return None if learn else self._token("word", found.lower())

    def _on_name(self, found, learn):
        dot = found.startswith(".")
        low = found.lstrip(".").lower()
        labels = low.split(".")
        tld = labels[-1]
        known = self._domain_of(low) or (not dot and low in self._tokens["host"])
        public = not known and any(low == keep or low.endswith("." + keep) for keep in KEEP_DOMAINS)
        if (not known and tld not in TLDS) or not re.search(r"[a-z]", tld) or low in KEEP_HOSTS or public:
            return None if learn else self._literals(found)
        if dot or low in self._domains:
            if learn:
                self.add_domain(low)
                return None
            return ("." if dot else "") + self._token("domain", low)
        if low in self._tokens["host"] and low in self._standalone:
            return None if learn else self._token("host", low)
        if len(labels) == 2 and tld not in INTERNAL_TLDS:
            if learn:
                self.add_domain(low)
                return None
            return self._token("domain", low)
        first, rest = labels[0], ".".join(labels[1:])
        if learn:
            if not self._add_label(first):
                self._add("host", low)
            if "." in rest:
                self.add_domain(rest)
            return None
        host_key = first if first in self._standalone else low
        host = self._token("host", host_key)
        if "." not in rest:
            return "%s.%s" % (host, rest)  # a one-label internal domain (web1.lan) stays
        return "%s.%s" % (host, self._token("domain", rest))

    def _domain_of(self, low):
        for domain in self._domains:
            if low == domain or low.endswith("." + domain):
                return domain
        return None

    # --- the results -----------------------------------------------------------------------------

    def redact(self, data):
        """A redacted copy of JSON-shaped ``data``: every string and dict key; other scalars as they are."""
        if isinstance(data, dict):
            result = {}
            for key, value in data.items():
                new_key = self.text(key) if isinstance(key, str) else key
                while new_key in result:
                    new_key = "%s~" % new_key
                result[new_key] = self.redact(value)
            return result
        if isinstance(data, (list, tuple)):
            return [self.redact(item) for item in data]
        if isinstance(data, str):
            return self.text(data)
        return data

    def scrub(self, text):
        """Rendered text, redacted once more, line by line and between HTML tags (the renderers' own
        markup holds no data); the tokens already in it stay as they are."""
        if not text:
            return text
        lines = []
        for line in text.split("\n"):
            parts = re.split(r"(<[^<>]*>)", line)
            lines.append("".join(part if part.startswith("<") else self.text(part, scrub=True) for part in parts))
        return "\n".join(lines)

    def mapping(self):
        """The private table ``{"hosts": {original: token}, "addresses": {...}, ...}``."""
        self.freeze()
        return dict((section, dict((key, self._token(kind, key)) for key in sorted(self._tokens[kind])))
                    for kind, _prefix, section in KINDS)

    def originals(self):
        """``(kind, original)`` for everything the mapping holds."""
        return [(kind, key) for kind, _prefix, _section in KINDS for key in sorted(self._tokens[kind])]

    def leaks(self, text, fmt="text"):
        """What of the mapping, and which addresses, MACs and fingerprints, are still in ``text``: ``[]`` when none.

        ``fmt`` ``html``, ``junit`` (XML) or ``md`` undoes the renderer's escaping first (``web&#x27;1``, ``web\\_1``).
        """
        if fmt in ("html", "junit"):
            text = html.unescape(text)
        elif fmt == "md":
            text = re.sub(r"\\(.)", r"\1", text)
        found = set()
        for kind, key in self.originals():
            if kind in ("addr", "net"):
                continue  # found below, in every spelling
            if kind == "word":
                hit = key in text.lower()
            else:
                flags = 0 if kind == "user" else re.I
                hit = re.search(r"(?<![A-Za-z0-9])%s(?![A-Za-z0-9])" % re.escape(key), text, flags) is not None
            if hit:
                found.add((kind, key))
        for line in TOKEN.sub(" ", text).split("\n"):
            for name, regex in _DETECT.items():
                if name == "v4ps" and not _TCPD_CONTEXT.search(line):
                    continue
                for match in regex.finditer(line):
                    value = match.group(0)
                    if name in ("v4", "v6"):
                        parsed = _address(value)
                        if parsed is None or keep_address(parsed[0]) or (parsed[1] is not None and parsed[1] in ("0",)):
                            continue
                    elif name in ("v4p", "v4ps") and value.split(".")[0] in ("0", "127", "255"):
                        continue
                    elif name == "mac" and value.lower().replace("-", ":") in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"):
                        continue
                    found.add((name, value))
        return sorted(found)


def leaks_in(redactor, data):
    """``Redactor.leaks`` over every string and dict key of JSON-shaped ``data``."""
    found = set()
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, str):
            found.update(redactor.leaks(value))
    return sorted(found)
