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


@pytest.mark.parametrize("client", ["demo", second_client.CLIENT])
def test_every_page_reads_clean_in_a_browser(client, sites, chromium):
    folder = sites[client]
    pages = browser.pages(folder)
    assert {"index.html", "methodology.html", "reports/audit.html", "reports/weights.html", "reports/backtest.html",
            "maintenance/index.html", "maintenance/trends.html", f"maintenance/{DEMO_PERIOD}.html", "accounts/index.html",
            f"accounts/{DEMO_PERIOD}.html"} <= set(pages)
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


def _cells(html: str, first: str) -> list[str]:
    """The cells of the table row whose first cell reads `first`, as text."""
    row = re.search(r"<tr[^>]*>\s*<td[^>]*>\s*" + re.escape(first) + r"\s*</td>(.*?)</tr>", html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_the_accounts_page_shows_the_month_and_links_every_account(sites, demo_data):
    """Recomputed from the run's accounts.parquet and the demo's renewals export: the at-risk count and ARR, the
    at-risk accounts by ARR, every account in the linked CSV with the owners' names replaced, and each earlier
    forecast whose renewals have happened set against how many of them churned."""
    import json

    import polars as pl

    folder, reports = sites["demo"], sites["reports"]["demo"]
    page = (folder / "accounts" / f"{DEMO_PERIOD}.html").read_text()
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    truth = pl.read_parquet(reports / DEMO_PERIOD / "accounts.parquet")
    risky = truth.filter(pl.col("at_risk")).sort(["arr", "account_id"], descending=[True, False])
    assert f"{risky.height:,} are at risk, red for 2 weeks or more ({risky['arr'].sum():,.0f} ARR)" in text
    at_risk = page[page.index('id="at-risk-by-arr"'):page.index('id="the-months-biggest-drops"')]
    shown = [n.strip() for n in re.findall(r"<tr[^>]*>\s*<td[^>]*>([^<]+)</td>", at_risk)]
    assert shown == risky["account_name"].head(25).to_list()
    # every account, in the CSV the page links; owners replaced by pseudonyms
    assert f'href="{DEMO_PERIOD}.csv"' in page
    csv = pl.read_csv(folder / "accounts" / f"{DEMO_PERIOD}.csv", schema_overrides={"account_id": pl.String})
    assert csv["account_id"].to_list() == truth["account_id"].to_list()
    assert csv["score"].to_list() == pytest.approx(truth["score"].to_list(), nan_ok=True)
    owners = set(truth["csm_owner"].drop_nulls())
    assert owners and not owners & set(csv["csm_owner"].drop_nulls()) and not any(o in page for o in owners)
    # the forecasts of the months after go-live whose renewals are behind us, against what happened
    renewals = demo_data.table("renewals").select("account_id", "renewal_date", "outcome")
    end = Period.parse(DEMO_PERIOD).end.isoformat()
    checked = 0
    for month in sorted(p.name for p in reports.glob("20*") if p.name < DEMO_PERIOD):
        f = json.loads((reports / month / "portfolio.json").read_text())["forecast"]
        if not f["available"] or f["to"] > end:
            continue
        due = pl.DataFrame(f["due"]).with_columns(pl.col("renewal_date").str.to_date()).join(renewals, on=["account_id", "renewal_date"])
        assert due.height == len(f["due"])  # every renewal it counted happened
        churned = due.filter(pl.col("outcome") == "churned").height
        assert _cells(page, month)[:3] == [f"{len(f['due']):,}", f"{f['expected_accounts']:.1f}", f"{churned:,}"], month
        checked += 1
    assert checked >= 2


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
        "<table style='width:40px'><tr><td>2026-10-31</td><td>x</td></tr></table>"
        "<a href='missing.html'>gone</a><a href='#nowhere'>anchor</a>"
        "<script>console.error('boom')</script></body></html>"
    )
    findings = "\n".join(browser.read_site(chromium, tmp_path))
    for expected in ("request leaving the site: https://cdn.example.invalid/x.js", "internal id 'accuracy_audit'",
                     "Python dict", "Python None", "Python long float", "console error: boom",
                     "broken link", "missing.html", "#nowhere", "div spans", "markup escaped twice '&#39;'",
                     "table cut off (900 px in 500 px): Segment", "date broken over lines: 2026-10-31"):
        assert expected in findings, expected
    assert "renewal_date" not in findings  # code is exempt
    assert findings.count("spans") == 1  # the held one scrolls inside its container
