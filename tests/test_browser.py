"""Client sites rendered with the real Quarto and read page by page in headless Chromium.

Two clients: the demo, and a second client built from the demo data with every export column
renamed and its own parameters (tests/support/second_client.py), run with `python -m kit run ... --publish`.
Each site is rendered once per session and shared by the checks; every page must read clean (see
tests/support/browser.py for what a finding is). Set KIT_SCREENSHOTS=<folder> to keep a full-page
screenshot of every page. Skips, saying why, where Quarto, Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kit.periods import Period
from tests.support import browser, second_client
from tests.conftest import DEMO_PERIOD

pytestmark = [pytest.mark.browser, pytest.mark.skipif(browser.unavailable() is not None, reason=str(browser.unavailable()))]


@pytest.fixture(scope="session")
def chromium():
    with browser.chromium() as b:
        yield b


@pytest.mark.parametrize("client", ["demo", second_client.CLIENT])
def test_every_page_reads_clean_in_a_browser(client, sites, chromium):
    folder = sites[client]
    pages = browser.pages(folder)
    assert {"index.html", "methodology.html", "reports/audit.html", "reports/weights.html", "reports/backtest.html",
            "maintenance/index.html", "maintenance/trends.html", f"maintenance/{DEMO_PERIOD}.html"} <= set(pages)
    shots = os.environ.get("KIT_SCREENSHOTS")
    findings = browser.read_site(chromium, folder, Path(shots) / client if shots else None)
    assert findings == [], "\n".join(findings)


def test_the_demo_site_shows_an_engagement(sites):
    """Six months of checks: six points per trend, the refinement trigger fired on the planted false
    positives, and when the quarterly recalibration last ran and is due next."""
    folder = sites["demo"]
    latest = Period.parse(DEMO_PERIOD)
    shown = [p.label for p in latest.previous(5).until(latest)]
    assert sorted(p.stem for p in (folder / "maintenance").glob("20*.html")) == shown
    trends = (folder / "maintenance" / "trends.html").read_text()
    table = trends[trends.index("Status by month"):]
    assert all(m in table for m in shown)
    row = re.search(r"Refinement trigger\s*</td>(.*?)</tr>", table, re.S).group(1)
    badges = re.findall(r"kit-badge-([a-z-]+)", row)
    assert len(badges) == len(shown) and badges[-1] == "red" and badges.count("red") >= 2, badges
    svg = (folder / "maintenance" / "trends.svg").read_text()
    assert all(f"{Period.parse(m).start:%b} {m[2:4]}" in svg for m in shown)  # every month on the axes
    quarterly = "The quarterly recalibration check last ran for 2026-09: "
    assert quarterly in trends and "Next due: 2026-12." in trends
    assert quarterly in (folder / "methodology.html").read_text()
    report = (folder / "maintenance" / f"{DEMO_PERIOD}.html").read_text()
    assert re.search(r"false positives \d+ of \d+ renewing accounts scored red \((2[6-9]|[3-9]\d)(\.\d)?%\)", report)


def test_the_second_client_is_shown_in_its_own_words(sites):
    text = (sites[second_client.CLIENT] / "methodology.html").read_text()
    assert second_client.NAME in text and "NW Renewal Date [Ren]" in text  # its own column names
    assert "below 50" in text and "70 or more" in text  # its own bands
    assert "Demo Co" not in "".join(p.read_text() for p in sites[second_client.CLIENT].rglob("*.html"))


def test_the_reader_finds_what_a_client_must_not_meet(tmp_path, chromium):
    """Each kind of finding on a page planted with it: the check can fail."""
    (tmp_path / "index.html").write_text(
        "<html><head><script src='https://cdn.example.invalid/x.js'></script></head><body>"
        "<p>Status of accuracy_audit: {'amber': 0.15} with None and 0.7132684</p>"
        "<p><code>renewal_date</code> is a column to type; the integration&amp;#39;s log</p>"
        "<div style='width:2000px'>wide</div><div style='overflow-x:auto;width:500px'><div style='width:2000px'>held</div></div>"
        "<div class='kit-table' style='overflow-x:auto;width:500px'><table style='width:900px'><tr><td>Segment</td></tr></table></div>"
        "<a href='missing.html'>gone</a><a href='#nowhere'>anchor</a>"
        "<script>console.error('boom')</script></body></html>"
    )
    findings = "\n".join(browser.read_site(chromium, tmp_path))
    for expected in ("request leaving the site: https://cdn.example.invalid/x.js", "internal id 'accuracy_audit'",
                     "Python dict", "Python None", "Python long float", "console error: boom",
                     "broken link", "missing.html", "#nowhere", "div spans", "markup escaped twice '&#39;'",
                     "table cut off (900 px in 500 px): Segment"):
        assert expected in findings, expected
    assert "renewal_date" not in findings  # code is exempt
    assert findings.count("spans") == 1  # the held one scrolls inside its container
