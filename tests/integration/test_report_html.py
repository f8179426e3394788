# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.html as a person sees it: rendered by headless Chromium (Debian's chromium package).

The DOM Chromium builds is read back with --dump-dom; a screenshot checks that the
page paints. Hostile text in host names and evidence must show as text and run nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import struct
import subprocess

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _report
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__report import assert_self_contained, parse
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__rules import (
    NOW, fw_rule, healthy, healthy_sshd, journal, probe)

HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'

HOSTS = {
    "web1.example.com": {"evidence": healthy(firewall={"rules": [fw_rule(
        "-A INPUT -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset", "REJECT", tcp_reset=True)],
        "conntrack": {"tcp_timeout_established": 432000}}), "probe": probe("refused")},
    "db1.example.com": {"evidence": healthy(sshd=healthy_sshd(settings={"client_alive_interval": 0}),
                                            firewall={"rules": [], "conntrack": {"tcp_timeout_established": 8}})},
    "ok1.example.com": {"evidence": healthy(), "probe": probe("banner", banner="SSH-2.0-OpenSSH_9.2p1")},
    "gone.example.com": {"status": "unreachable", "message": "Failed to connect to the host via ssh: timed out",
                         "probe": probe("timeout", stage="connect")},
    "evil" + HOSTILE: {"evidence": healthy(journal=journal(("kex_no_match", 1)))},
}
HOSTS["evil" + HOSTILE]["evidence"]["journal"]["signatures"]["kex_no_match"]["samples"] = [
    "Unable to negotiate with <script>document.title='pwned'</script> port 1: no matching key exchange method found"]

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Debian's chromium package is needed: apt-get install -y chromium (./dev integration installs it)")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    directory = tmp_path_factory.mktemp("report")
    report = _report.build_report(HOSTS, NOW)
    path = directory / "report.html"
    path.write_text(_report.render_html(report), encoding="utf-8")
    profile = directory / "profile"
    dom = subprocess.run([chromium()] + CHROMIUM_FLAGS + ["--user-data-dir=%s" % profile, "--dump-dom", path.as_uri()],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=True).stdout.decode("utf-8")
    shot = directory / "shot.png"
    subprocess.run([chromium()] + CHROMIUM_FLAGS + ["--user-data-dir=%s" % (directory / "profile2"), "--window-size=1280,2000",
                                                    "--screenshot=%s" % shot, path.as_uri()],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=True)
    return {"dom": dom, "shot": shot, "report": report}


def rendered(page):
    return parse(page["dom"])


def test_the_overview_shows_each_host_its_top_cause_and_fix(page):
    dom = rendered(page)
    overview = [t for t in dom.tables if t["class"] == "overview"][0]["rows"]
    assert overview[0] == ["Host", "Reachable", "Probe", "Top cause", "Severity", "Fix"]
    rows = dict((row[0], row[1:]) for row in overview[1:])
    assert rows["web1.example.com"] == ["yes", "refused", "firewall_reject", "critical",
                                        "Delete the rule: iptables -D INPUT -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset"]
    assert rows["gone.example.com"][:4] == ["no", "timeout", "host_unreachable", "critical"]
    assert rows["db1.example.com"][2:4] == ["idle_timeout", "warning"]
    assert rows["db1.example.com"][4].startswith("Set ClientAliveInterval 4 in sshd")
    assert rows["ok1.example.com"] == ["yes", "banner", "-", "ok", "healthy"]
    # Worst first: severity, then confidence.
    assert [row[0] for row in overview[1:]][:3] == ["web1.example.com", "gone.example.com", "db1.example.com"]


def test_each_host_has_a_section_with_its_evidence(page):
    text = " ".join(" ".join(rendered(page).text).split())
    assert "iptables filter/INPUT: -A INPUT -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset" in text
    assert "conntrack: net.netfilter.nf_conntrack_tcp_timeout_established = 8 s" in text
    assert "ansible: Failed to connect to the host via ssh: timed out" in text
    assert "No cause of connection resets found in the evidence." in text
    assert text.count("back to the overview") == len(HOSTS)


def test_hostile_text_is_shown_not_run(page):
    dom = rendered(page)
    assert dom.title == "SSH connection reset diagnosis"
    assert "img" not in dom.tags and "script" not in dom.tags
    text = "".join(dom.text)
    assert HOSTILE in text
    assert "<script>document.title='pwned'</script>" in text


def test_the_page_has_no_external_resource(page):
    assert_self_contained(rendered(page))


def test_the_page_paints(page):
    data = page["shot"].read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2000)
    # A blank page compresses to almost nothing; tables and text do not.
    assert os.path.getsize(str(page["shot"])) > 40000
