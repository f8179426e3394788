# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parsers for ``systemctl show`` output (text in, dicts out, no I/O).

``systemctl show -p A,B unit1 unit2`` prints one ``Key=Value`` block per unit,
in the order the units were named, blocks separated by an empty line. The
properties inside a block come in systemd's own order, not the order asked for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _untrusted

# Properties whose value is a number; "[not set]", "" or garbage becomes None.
INT_PROPERTIES = frozenset(
    (
        "NRestarts",
        "ExecMainStatus",
        "ExecMainCode",
        "ExecMainPID",
        "MainPID",
        "ControlPID",
        "TasksCurrent",
        "TasksMax",
        "NAccepted",
        "NConnections",
    )
)

# systemd prints these for "no value".
_EMPTY = ("", "n/a", "[not set]", "infinity")

# ExecMainCode is a CLD_* code from waitid(2).
EXEC_MAIN_CODES = {1: "exited", 2: "killed", 3: "dumped", 4: "trapped", 5: "stopped", 6: "continued"}


def parse_show_blocks(text):
    """Split ``systemctl show`` output into a list of ``{Property: raw string}`` dicts.

    Lines without ``=`` are ignored (never raised on); a repeated property keeps
    its last value, as systemctl itself prints only one.
    """
    blocks = []
    current = {}
    for raw in (text or "").splitlines():
        line = raw.rstrip("\r")
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key or " " in key:
            continue
        current[key] = value
    if current:
        blocks.append(current)
    return blocks


def parse_show(text):
    """The first block of ``systemctl show`` output, for one unit (``{}`` when none)."""
    blocks = parse_show_blocks(text)
    return blocks[0] if blocks else {}


def to_int(value):
    """``"42"`` -> 42; empty, ``[not set]``, ``infinity`` or garbage -> None."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in _EMPTY:
        return None
    return _untrusted.to_int(text)


def to_str(value):
    """A property's string value, or None when systemd printed it empty / n/a."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in ("", "n/a", "[not set]"):
        return None
    return text


def typed(block):
    """A block with numbers as int and empty values as None (keys unchanged)."""
    result = {}
    for key, value in (block or {}).items():
        if key in INT_PROPERTIES:
            result[key] = to_int(value)
        else:
            result[key] = to_str(value)
    return result


def is_loaded(block):
    """True when the unit file exists (``LoadState=loaded``)."""
    return (block or {}).get("LoadState", "").strip() == "loaded"


def unit_base_name(unit_id):
    """``"ssh.service"`` -> ``"ssh"``; None stays None."""
    if not unit_id:
        return None
    for suffix in (".service", ".socket", ".timer", ".target", ".mount", ".path", ".slice", ".scope"):
        if unit_id.endswith(suffix):
            return unit_id[: -len(suffix)]
    return unit_id


def find_block(blocks, unit_id):
    """The first block whose ``Id`` or ``Names`` is ``unit_id`` (None when absent)."""
    for block in blocks or ():
        names = (block.get("Names") or "").split()
        if block.get("Id") == unit_id or unit_id in names:
            return block
    return None
