"""The pages as a person sees them: headless Chromium (Debian's ``chromium`` package).

Opens the index and a site page of a generated audit whose two large sites have hostile names;
fails on any console error or any request other than the page itself; checks that the names
render as text, that no table is wider than its page at 1280, 1400 and 1920 px and when printed
(A4 and Letter, landscape), that every text has a contrast of at least 4.5:1; saves screenshots
and PDFs under the test's tmp folder, and recomputes the funnel limits of three sites with
scipy.stats.

Without Chromium the test FAILS with a message saying how to install it; set
``SPINE_AUDIT_SKIP_BROWSER=1`` to skip it on purpose.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import pytest
from scipy import stats

from tests.browser import SKIP_ENV, Browser, find_chromium
from tests.helpers import cli

pytestmark = pytest.mark.e2e

WIDTH = 1400
# printable width of A4 and Letter in landscape with the pages' 12 mm margins, in CSS px
PRINT_WIDTHS = {"A4": round((297 - 24) / 25.4 * 96), "Letter": round((279.4 - 24) / 25.4 * 96)}
PAPER = {"A4": (8.27, 11.69), "Letter": (8.5, 11.0)}
HOSTILE = re.compile(r"<script>|\"|<img|&")


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"no Chromium, and {SKIP_ENV}=1 asks to skip the browser test")
        pytest.fail(
            "the browser test needs Chromium: install Debian's packages "
            "(apt-get install chromium; make test does it when run as root), or set "
            f"CHROMIUM to its path; {SKIP_ENV}=1 skips this test on purpose",
            pytrace=False,
        )
    return binary


@pytest.fixture(scope="module")
def audit(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    data = root / "data"
    done = cli("generate", data, "--patients", "8000", "--sites", "12", "--hostile-names", "-q")
    assert done.returncode == 0, done.stderr
    done = cli("run", data, "--out", root / "out", "-q")
    assert done.returncode == 0, done.stderr
    return root / "out" / "shareable"


@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory):
    b = Browser(chromium, tmp_path_factory.mktemp("profile"))
    yield b
    b.close()


OVERFLOW_JS = """(() => {
  const width = document.documentElement.clientWidth;
  const bad = [];
  if (document.documentElement.scrollWidth > width + 1)
    bad.push('page ' + document.documentElement.scrollWidth + ' > ' + width);
  document.querySelectorAll('table').forEach((t, i) => {
    const r = t.getBoundingClientRect();
    const box = t.parentElement.getBoundingClientRect();
    if (r.right > width + 1 || r.width > box.width + 1)
      bad.push('table ' + i + ' (' + (t.caption ? t.caption.textContent.slice(0, 40) : '') +
               ') ' + Math.round(r.width) + ' px in ' + Math.round(box.width));
  });
  document.querySelectorAll('.scroll').forEach((s, i) => {
    if (s.scrollWidth > s.clientWidth + 1) bad.push('scroll box ' + i + ' scrolls');
  });
  return bad;
})()"""


# every piece of text against the background it is drawn on: WCAG AA needs 4.5:1
CONTRAST_JS = """(() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = c => {
    const v = c.slice(0, 3).map(x => {
      x /= 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  const bad = new Set();
  document.querySelectorAll('body *').forEach(el => {
    if (['title', 'desc', 'style'].includes(el.tagName.toLowerCase())) return;  // not drawn
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) return;
    const style = getComputedStyle(el);
    const fg = rgb(el instanceof SVGElement ? style.fill : style.color);
    const r = ratio(fg, background(el));
    if (r < 4.5)
      bad.add(el.tagName + '.' + (el.getAttribute('class') || '') + ' ' + r.toFixed(2) +
              ': ' + el.textContent.trim().slice(0, 30));
  });
  return [...bad];
})()"""


# every chart is a figure captioned above ("Figure N."), followed by its data table; every table
# has a caption and every header cell a scope (a screen reader names the cells by them)
STRUCTURE_JS = """(() => {
  const bad = [];
  document.querySelectorAll('svg').forEach((svg, i) => {
    const name = 'chart ' + i + ' (' + (svg.getAttribute('aria-label') || '').slice(0, 50) + ')';
    if (!svg.querySelector(':scope > title') || !svg.querySelector(':scope > desc'))
      bad.push(name + ': no SVG title and desc');
    const fig = svg.closest('figure');
    if (!fig) { bad.push(name + ': not in a figure'); return; }
    const cap = fig.querySelector(':scope > figcaption');
    if (!cap || !(cap.compareDocumentPosition(svg) & Node.DOCUMENT_POSITION_FOLLOWING))
      bad.push(name + ': no caption above it');
    else if (!/^Figure \\d+\\./.test(cap.textContent.trim()))
      bad.push(name + ': caption not numbered: ' + cap.textContent.trim().slice(0, 30));
    const next = fig.nextElementSibling;
    const table = next && (next.tagName === 'TABLE' ? next : next.querySelector('table'));
    if (!table) bad.push(name + ': no data table after it');
    else if (!table.querySelector('tbody tr')) bad.push(name + ': its data table is empty');
  });
  const numbers = [...document.querySelectorAll('figure > figcaption')]
    .map(c => (c.textContent.trim().match(/^Figure (\\d+)\\./) || [])[1]).filter(Boolean);
  if (numbers.join() !== numbers.map((_, i) => i + 1).join())
    bad.push('figures not numbered 1, 2, ... in order: ' + numbers.join());
  document.querySelectorAll('table').forEach((t, i) => {
    const cap = t.caption ? t.caption.textContent.trim() : '';
    const name = 'table ' + i + ' (' + (cap || t.textContent.trim()).slice(0, 40) + ')';
    if (!cap) bad.push(name + ': no caption');
    t.querySelectorAll('th').forEach(th => {
      if (!['col', 'row', 'colgroup', 'rowgroup'].includes(th.getAttribute('scope')))
        bad.push(name + ': header without scope: ' + th.textContent.trim().slice(0, 30));
    });
    if (!t.querySelector('thead th, tbody th')) bad.push(name + ': no header cells');
  });
  return bad;
})()"""


def site_with_hostile_name(folder: Path) -> str:
    """The name of a hostile-named site, from site_summary.csv as a reader finds it."""
    with (folder / "site_summary.csv").open(encoding="utf-8", newline="") as fh:
        names = {r["site_id"]: r["site_name"] for r in csv.DictReader(fh)}
    hostile = sorted((sid, n) for sid, n in names.items() if HOSTILE.search(n))
    assert hostile, "generate --hostile-names gave no hostile site name"
    return hostile[0][1]


def open_page(browser: Browser, url: str, width: int = WIDTH):
    page = browser.open(width)
    page.goto(url)
    return page


def assert_clean(page, url: str) -> None:
    assert page.console_errors() == [], page.console_errors()
    others = [u for u in page.requests() if u != url and not u.startswith("data:")]
    assert others == [], f"requests beyond the page itself: {others}"


def test_index_as_a_person_sees_it(browser, audit, tmp_path):
    url = (audit / "index.html").as_uri()
    page = open_page(browser, url)
    page.screenshot(tmp_path / "index-1400.png")
    assert_clean(page, url)
    assert page.evaluate(OVERFLOW_JS) == []
    assert page.evaluate("document.querySelectorAll('script, img, iframe, object').length") == 0
    hostile = site_with_hostile_name(audit)
    text = page.evaluate("document.body.innerText")
    assert hostile in text  # the name, markup and all, is text on the page
    links = page.evaluate("[...document.querySelectorAll('a')].map(a => a.textContent)")
    assert hostile in links
    assert page.evaluate(CONTRAST_JS) == []
    assert page.evaluate(STRUCTURE_JS) == []
    assert page.evaluate("document.querySelectorAll('svg').length") >= 1  # the funnel at least
    for width in (1280, 1920):
        page.resize(width)
        assert page.evaluate(OVERFLOW_JS) == [], width
    assert (tmp_path / "index-1400.png").stat().st_size > 10_000


def test_site_page_as_a_person_sees_it(browser, audit, tmp_path):
    hostile = site_with_hostile_name(audit)
    index = open_page(browser, (audit / "index.html").as_uri())
    href = index.evaluate(
        "[...document.querySelectorAll('a')].find(a => a.textContent === "
        + json.dumps(hostile)
        + ").getAttribute('href')"
    )
    url = (audit / href).as_uri()
    page = open_page(browser, url)
    page.screenshot(tmp_path / "site-1400.png")
    assert_clean(page, url)
    assert page.evaluate(OVERFLOW_JS) == []
    assert page.evaluate(CONTRAST_JS) == []
    assert page.evaluate(STRUCTURE_JS) == []
    assert page.evaluate("document.querySelectorAll('svg').length") >= 3  # trends, attrition
    assert page.evaluate("document.querySelector('h1').textContent") == hostile
    assert page.evaluate("document.title").startswith(hostile)
    assert page.evaluate("document.querySelectorAll('script, img, iframe, object').length") == 0
    for width in (1280, 1920):
        page.resize(width)
        assert page.evaluate(OVERFLOW_JS) == [], width


@pytest.mark.parametrize("paper", sorted(PRINT_WIDTHS))
def test_pages_print_without_clipping(browser, audit, tmp_path, paper):
    """At the printable width of the paper in landscape (the pages' @page rule), with print
    styles, no table is wider than the page; the PDF is written for a person to look at."""
    for name in ("index.html", sorted(p.name for p in (audit / "sites").iterdir())[0]):
        path = audit / name if name == "index.html" else audit / "sites" / name
        page = open_page(browser, path.as_uri(), PRINT_WIDTHS[paper])
        page.send("Emulation.setEmulatedMedia", {"media": "print"})
        assert page.evaluate(OVERFLOW_JS) == [], (paper, name)
        page.print_pdf(tmp_path / f"{Path(name).stem}-{paper}.pdf", PAPER[paper])
        assert (tmp_path / f"{Path(name).stem}-{paper}.pdf").read_bytes().startswith(b"%PDF")


def pct(text: str) -> float:
    return float(text.strip().rstrip("%")) / 100


def test_funnel_limits_match_an_independent_calculation(browser, audit):
    """Three plotted sites: their printed limits are Spiegelhalter's exact binomial limits
    (scipy.stats.binom, interpolated) around the published network rate."""
    page = open_page(browser, (audit / "index.html").as_uri())
    rows = page.evaluate(
        "[...document.querySelectorAll('table.funnel tbody tr')].map(tr =>"
        " [...tr.children].map(c => c.textContent.trim()))"
    )
    foot = page.evaluate(
        "[...document.querySelectorAll('table.sites tfoot tr > *')].map(c => c.textContent)"
    )
    manifest = json.loads((audit / "manifest.json").read_text())
    network = manifest["published"]["network"]
    n_net, d_net = network["in_population_patients"], network["discordant_patients"]
    assert f"{n_net:,}" in foot and f"{d_net:,}" in foot
    target = 1 - d_net / n_net
    assert manifest["published"]["funnel"]["limits_drawn_by"] == "none"
    assert len(rows) >= 3, "too few plotted sites to check"
    for row in (rows[0], rows[len(rows) // 2], rows[-1]):
        n, d = int(row[2].replace(",", "")), int(row[3].replace(",", ""))
        rate = pct(row[4])
        assert rate == pytest.approx(1 - d / n, abs=0.0005)
        shown = {}
        for text, level, (lo, hi) in ((row[5], "95%", (0.025, 0.975)),
                                      (row[6], "99.8%", (0.001, 0.999))):  # fmt: skip
            shown[level] = [pct(x) for x in text.split("\u2013")]
            expected = [exact_limit(q, n, target) for q in (lo, hi)]
            assert shown[level] == pytest.approx(expected, abs=0.0005), (row[0], text, expected)
        outside = {k: rate < v[0] or rate > v[1] for k, v in shown.items()}
        assert row[1].startswith("Alarm") == outside["99.8%"], row
        assert row[1].startswith("Alert") == (outside["95%"] and not outside["99.8%"]), row


def exact_limit(q: float, n: int, target: float) -> float:
    """Spiegelhalter's interpolated exact binomial limit, from scipy.stats.binom."""
    r = int(stats.binom.ppf(q, n, target))
    up, down = stats.binom.cdf(r, n, target), stats.binom.cdf(r - 1, n, target)
    return min(max((r - (up - q) / (up - down)) / n, 0.0), 1.0)
