# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record what a collector reads on a real host, as fixtures for tests/unit.

Run INSIDE a test container (root, the collection's module_utils on PYTHONPATH):

    python3 record_host.py OUTDIR bans '{"clients": ["10.89.0.4"]}'

It runs the collector with the real Host, and writes every command's stdout/stderr/rc,
every file read, every glob, every existence check and every database query result
into OUTDIR (``manifest.json`` plus one file per output). ``fake_host.recorded_host``
replays a recording, so a test sees exactly what the collector saw on that host.
Nothing is edited by hand; re-record when the collector asks for something new.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil
import sys
import time

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _host


class _Module:
    """What Host needs of an AnsibleModule: get_bin_path."""

    def get_bin_path(self, name, required=False, opt_dirs=None):
        path = shutil.which(name, path=os.pathsep.join(list(opt_dirs or []) + [os.environ.get("PATH", "")]))
        return path


class RecordingHost(_host.Host):
    def __init__(self, outdir):
        _host.Host.__init__(self, _Module())
        self.outdir = outdir
        self.manifest = {"commands": [], "files": {}, "unreadable": [], "exists": [], "globs": {}, "tools": {},
                         "databases": {}, "root": os.geteuid() == 0}
        self.count = 0

    def _save(self, stem, text):
        self.count += 1
        name = "%02d-%s.txt" % (self.count, re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("_")[:60])
        with open(os.path.join(self.outdir, name), "w") as handle:
            handle.write(text)
        return name

    def which(self, name, extra_dirs=("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/lib/openssh")):
        path = _host.Host.which(self, name, extra_dirs)
        self.manifest["tools"][name] = path
        return path

    def run(self, argv, data=None, timeout=_host.DEFAULT_TIMEOUT):
        res = _host.Host.run(self, argv, data=data, timeout=timeout)
        stem = " ".join(str(a) for a in argv)
        entry = {"argv": [str(a) for a in argv], "rc": res.rc, "missing": res.missing,
                 "stdout": self._save(stem + " stdout", res.stdout) if res.stdout else "",
                 "stderr": self._save(stem + " stderr", res.stderr) if res.stderr else ""}
        if data is not None:
            entry["stdin"] = data
        self.manifest["commands"].append(entry)
        return res

    def read_text(self, path, max_bytes=None):
        text = _host.Host.read_text(self, path, max_bytes=max_bytes)
        if text is None:
            if os.path.exists(path):
                self.manifest["unreadable"].append(path)
        else:
            self.manifest["files"][path] = self._save(path, text)
        return text

    def glob(self, pattern):
        paths = _host.Host.glob(self, pattern)
        self.manifest["globs"][pattern] = paths
        return paths

    def exists(self, path):
        present = _host.Host.exists(self, path)
        if present and path not in self.manifest["exists"]:
            self.manifest["exists"].append(path)
        return present

    def sqlite_rows(self, path, query, params=(), max_rows=1000):
        rows = _host.Host.sqlite_rows(self, path, query, params, max_rows)
        if rows is not None or os.path.exists(path):
            self.manifest["databases"][path] = self._save(path + " rows", json.dumps(rows, indent=1)) \
                if rows is not None else None
        return rows


def main():
    outdir, collector = sys.argv[1], sys.argv[2]
    kwargs = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    os.makedirs(outdir)
    host = RecordingHost(outdir)
    if collector == "bans":
        from ansible_collections.sshdoctor.connreset.plugins.module_utils._bans import collect_bans as collect
    elif collector == "firewall":
        from ansible_collections.sshdoctor.connreset.plugins.module_utils._firewall import collect_firewall as collect
    else:
        raise SystemExit("unknown collector %s" % collector)
    if collector == "bans":
        # The moment of the recording, so that a replay judges expiry the same way.
        kwargs.setdefault("now", int(time.time()))
        host.manifest["now"] = kwargs["now"]
    collect(host, **kwargs)
    with open(os.path.join(outdir, "manifest.json"), "w") as handle:
        json.dump(host.manifest, handle, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
