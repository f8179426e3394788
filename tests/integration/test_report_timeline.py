# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.html's incident timeline as Chromium lays it out and paints it (Debian's chromium package).

The report is built from planted events (the incident tests' fleet: two MaxStartups drops of
the victim around the incident's time on web3, then sshd restarts on web3, web4 and web5 about
15 minutes later). Chromium renders the page twice:
- the page as written (its CSP forbids scripts), as a screenshot: the marks' colours are painted;
- a copy with the CSP line taken out and a short script appended that writes the layout boxes
  of the marks into the page, read back with --dump-dom: each mark has a box inside its SVG,
  and the boxes stand left to right in the order of the events' times.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import subprocess

import pytest

from ansible_collections.sshdoctor.connreset.plugins.module_utils import _incident
from ansible_collections.sshdoctor.connreset.plugins.module_utils import _report
from ansible_collections.sshdoctor.connreset.tests.integration import png
from ansible_collections.sshdoctor.connreset.tests.integration.test_report_html import CHROMIUM_FLAGS, chromium
from ansible_collections.sshdoctor.connreset.tests.unit.fake_host import read_fixture
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.incident_evidence import AT, iso
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__report_incident import VICTIM, fleet_hosts
from ansible_collections.sshdoctor.connreset.tests.unit.plugins.module_utils.test__rules import NOW

MEASURE = """<script>
var out = [];
document.querySelectorAll("svg.timeline").forEach(function (svg) {
  var s = svg.getBoundingClientRect();
  svg.querySelectorAll(".ev, .fleet-ev, line.incident, rect.window").forEach(function (el) {
    var b = el.getBoundingClientRect();
    var row = el.closest("g.row");
    out.push({svg: svg.id, cls: el.getAttribute("class"), kind: el.getAttribute("data-kind"),
              epoch: el.getAttribute("data-epoch"), host: row ? row.getAttribute("data-host") : null,
              left: b.left, right: b.right, top: b.top, bottom: b.bottom, width: b.width, height: b.height,
              svg_left: s.left, svg_right: s.right, svg_top: s.top, svg_bottom: s.bottom});
  });
});
var pre = document.createElement("pre");
pre.id = "boxes";
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>"""


def _run(args):
    return subprocess.run([chromium()] + CHROMIUM_FLAGS + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120, check=True).stdout.decode("utf-8")


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    directory = tmp_path_factory.mktemp("timeline")
    incident = _incident.parse_inputs(client=VICTIM, at=iso(AT), window=5,
                                      client_error=read_fixture("debian12/client_exceeded_maxstartups_v.txt"), now=NOW)
    text = _report.render_html(_report.build_report(fleet_hosts(), NOW, incident=incident))
    page = directory / "report.html"
    page.write_text(text, encoding="utf-8")
    csp = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')
    assert len(csp.findall(text)) == 1
    measured = directory / "measured.html"
    measured.write_text(csp.sub("", text).replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = _run(["--user-data-dir=%s" % (directory / "p1"), "--window-size=1280,3000", "--dump-dom", measured.as_uri()])
    found = re.search(r'<pre id="boxes">(.*?)</pre>', dom, re.S)
    assert found, "the measuring script did not run"
    boxes = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    shot = directory / "shot.png"
    _run(["--user-data-dir=%s" % (directory / "p2"), "--window-size=1280,3000", "--screenshot=%s" % shot, page.as_uri()])
    return {"boxes": boxes, "shot": shot}


def _marks(drawn, svg, host=None, cls="ev"):
    return [b for b in drawn["boxes"] if b["svg"] == svg and b["cls"].split()[0] == cls and (host is None or b["host"] == host)]


@pytest.mark.parametrize("svg", ["timeline-incident", "timeline-whole"])
def test_every_mark_is_laid_out_inside_its_timeline(drawn, svg):
    marks = [b for b in drawn["boxes"] if b["svg"] == svg]
    assert marks
    for box in marks:
        # a vertical line's box has no width (the box leaves the stroke out)
        assert box["height"] > 0 and (box["width"] > 0 or box["cls"] == "incident"), box
        assert box["svg_left"] <= box["left"] and box["right"] <= box["svg_right"] + 1, box
        assert box["svg_top"] <= box["top"] and box["bottom"] <= box["svg_bottom"] + 1, box


def test_the_planted_events_stand_in_the_order_of_their_times(drawn):
    web3 = sorted(_marks(drawn, "timeline-whole", "web3"), key=lambda b: int(b["epoch"]))
    # the two drops (AT-20, AT+4) share their minute's bucket, narrowed to them; the boot (from /proc/uptime,
    # a month before) stands first
    assert [(int(b["epoch"]) - AT, b["kind"]) for b in web3 if b["kind"] != "boot"] == [
        (-20, "maxstartups"), (900, "restart"), (901, "restart")]
    lefts = [b["left"] for b in web3]
    assert lefts == sorted(lefts) and lefts[0] < lefts[-1]
    fleet = _marks(drawn, "timeline-whole", cls="fleet-ev")
    assert [b["kind"] for b in fleet] == ["restart"]
    whole = [min((b["left"] + b["right"]) / 2.0 for b in _marks(drawn, "timeline-whole", host) if b["kind"] == "restart")
             for host in ("web3", "web4", "web5")]
    assert whole == sorted(whole)
    assert fleet[0]["left"] <= whole[0] and whole[2] <= fleet[0]["right"]
    # the fleet strip is the last row, below every host's row
    assert fleet[0]["top"] > max(b["bottom"] for b in _marks(drawn, "timeline-whole"))


def test_the_incident_line_stands_in_the_drops_minute_and_in_its_window(drawn):
    drops = [b for b in _marks(drawn, "timeline-incident", "web3") if b["kind"] == "maxstartups"]
    line = _marks(drawn, "timeline-incident", cls="incident")
    window = _marks(drawn, "timeline-incident", cls="window")
    assert len(drops) == 1 and len(line) == 1 and len(window) == 1
    assert drops[0]["left"] < line[0]["left"] < drops[0]["right"]
    assert window[0]["left"] <= drops[0]["left"] and drops[0]["right"] <= window[0]["right"]
    # the restarts came 15 minutes later: right of the incident's window
    assert all(b["left"] > window[0]["right"] for b in _marks(drawn, "timeline-incident") if b["kind"] == "restart")


def _rgb(colour):
    colour = colour.lstrip("#")
    return tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))


def test_the_page_as_written_paints_each_mark_where_it_is_laid_out(drawn):
    _width, height, rows = png.read(str(drawn["shot"]))
    painted = 0
    marks = [b for b in drawn["boxes"] if b["cls"].split()[0] == "ev"]
    for index, box in enumerate(marks):
        # a mark that a later one is drawn over (the whole window is a month wide here) cannot show its colour
        covered = any(o["left"] < box["right"] and box["left"] < o["right"] and o["top"] < box["bottom"] and
                      box["top"] < o["bottom"] for o in marks[index + 1:] if o["kind"] != box["kind"])
        if covered or box["kind"] not in ("maxstartups", "restart"):
            continue
        x, y = int((box["left"] + box["right"]) / 2), int((box["top"] + box["bottom"]) / 2)
        assert y < height, box
        pixel = tuple(rows[y][3 * x:3 * x + 3])
        colour = _rgb(_report.KIND_COLOURS[box["kind"]])
        # a wide mark is a rect at 75 % opacity over the page (white) or the incident window (#fff8c5)
        expected = [colour] + [tuple(int(round(0.75 * c + 0.25 * b)) for c, b in zip(colour, bg))
                               for bg in ((255, 255, 255), (255, 248, 197))]
        assert any(all(abs(p - e) <= 12 for p, e in zip(pixel, want)) for want in expected), (box, pixel)
        painted += 1
    assert painted >= 4
