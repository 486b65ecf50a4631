"""The signal search (kit.analyses.search): the family it tries, planted effects found, nothing after the cut
used, the choices a consultant can pin or forbid."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from kit.analyses import search, signals, split
from kit import catalog
from tests.conftest import DEMO_END
from tests.support.frames import FrameData


def _renewals(data, params):
    points = signals.renewal_points(data, params.lead_time_days, params.weighting.contraction_as_churn, until=DEMO_END)
    return points, split.cut_date(points["renewal_date"], params.scorecard.test_share)


@pytest.fixture(scope="module")
def planted_search(planted_data, planted_params):
    points, cut = _renewals(planted_data, planted_params)
    return search.run(planted_data, planted_params, points, cut)


@pytest.fixture(scope="module")
def demo_search(demo_data, demo_params):
    points, cut = _renewals(demo_data, demo_params)
    return search.run(demo_data, demo_params, points, cut)


def test_the_family_is_every_aggregation_and_window_of_every_measure(demo_data, demo_params, demo_search):
    names = search.candidates(demo_data, demo_params)
    assert demo_search.tried == len(names) and len(demo_search.rows) == len(names)
    measures = {m.name for m in signals.measures(demo_data)}
    assert measures == {"active_users", "logins", "feature_api_calls", "feature_reports_exported", "tickets",
                        "high_priority_tickets", "csat", "resolution_days", "late_invoices", "days_late", "nps", "contact_activity"}
    for m in ("active_users", "feature_api_calls"):
        for agg in ("sum", "mean", "mean_active", "max", "share_active", "change", "per_seat"):
            assert {catalog.name_of(m, agg, w) for w in catalog.WINDOWS} <= set(names), (m, agg)
        assert catalog.name_of(m, "days_since") in names
    assert "feature_api_calls_per_user_90d" in names and "active_users_per_user_90d" not in names


def test_planted_effects_are_found(planted_search):
    """Lakeside's planted truths (tests/support/planted_client.py): a dominant continuous driver (active users per seat),
    sparse graded activity whose signal is a mean over the days with a record over months, and a recency effect."""
    chosen = planted_search.chosen
    assert any(s.startswith("active_users_per_seat_") for s in chosen), chosen
    grade = [s for s in chosen if s.startswith("feature_avg_grade_mean_active_")]
    assert grade and catalog.parse(grade[0]).window >= 60, chosen
    assert any(catalog.parse(s).measure in ("active_users", "logins", "feature_videos_watched", "feature_assessments")
               and catalog.parse(s).aggregation in ("days_since", "share_active") for s in chosen), chosen
    # the old catalogue's reading of the sparse column (a 30-day mean counting days without a submission as zero)
    # is tried and loses to the mean over the days with a record
    rows = {r.signal: r for r in planted_search.rows}
    assert rows["feature_avg_grade_mean_30d"].gain < rows[grade[0]].gain and not rows["feature_avg_grade_mean_30d"].chosen


def test_the_report_says_how_many_were_tried_and_why_each_was_left(demo_search):
    assert demo_search.tried > 150 and 1 <= len(demo_search.chosen) <= 12
    verdicts = [r.verdict for r in demo_search.rows if not r.chosen]
    assert all(verdicts) and any(v.startswith("weaker than") for v in verdicts)
    assert any(v.startswith("not significant once") for v in verdicts) and any(v.startswith("has a value for") for v in verdicts)
    again = search.Result.from_json(__import__("json").loads(__import__("json").dumps(demo_search.to_json(), default=str)))
    assert again.chosen == demo_search.chosen and again.cut == demo_search.cut


def test_nothing_after_the_cut_changes_the_search(demo_data, demo_params, demo_search):
    """Renewals on or after the cut get the opposite outcome, and every usage and ticket record dated after it is
    dropped: the search, fitted before the cut, is identical."""
    points, cut = _renewals(demo_data, demo_params)
    tables = {n: demo_data.table(n) for n in ["accounts", "usage", "tickets", "invoices", "surveys", "contacts", "renewals"]}
    flip = {"churned": "renewed", "renewed": "churned", "expanded": "churned", "contracted": "churned"}
    tables["renewals"] = tables["renewals"].with_columns(
        pl.when(pl.col("renewal_date") >= cut).then(pl.col("outcome").replace(flip)).otherwise(pl.col("outcome")).alias("outcome"))
    tables["usage"] = tables["usage"].filter(pl.col("date") < cut)
    tables["tickets"] = tables["tickets"].filter(pl.col("created_at").dt.date() < cut)
    changed = FrameData(tables, demo_params)
    points2 = signals.renewal_points(changed, demo_params.lead_time_days, until=DEMO_END)
    assert (points2["churned"] != points["churned"]).sum() > 100  # the scrambling reached the later renewals
    assert split.cut_date(points2["renewal_date"], demo_params.scorecard.test_share) == cut
    again = search.run(changed, demo_params, points2, cut)
    assert again.chosen == demo_search.chosen
    assert [(r.signal, r.gain, r.p_value, r.verdict) for r in again.rows] == [(r.signal, r.gain, r.p_value, r.verdict) for r in demo_search.rows]


def test_pin_and_forbid(demo_data, demo_params, demo_search):
    points, cut = _renewals(demo_data, demo_params)
    p = demo_params.model_copy(deep=True)
    p.search.pin = ["feature_api_calls_mean_90d"]
    p.search.forbid = ["logins_*", "*_days_since"]
    r = search.run(demo_data, p, points, cut)
    assert "feature_api_calls_mean_90d" in r.chosen
    assert not any(s.startswith("logins_") or s.endswith("_days_since") for s in [x.signal for x in r.rows])
    assert r.tried == demo_search.tried - sum(1 for x in demo_search.rows if x.signal.startswith("logins_") or x.signal.endswith("_days_since"))


def test_noise_is_not_chosen_once_the_selection_is_accounted_for():
    """Five pure-noise measures with their whole families: the correction for the many signals tried per measure
    keeps every one of them out, while a real effect of modest size gets through."""
    from datetime import date, timedelta

    from kit import params

    rng = np.random.default_rng(3)
    n = 3000
    frame = {"renewal_date": [date(2024, 1, 1) + timedelta(days=int(d)) for d in np.sort(rng.integers(0, 600, n))]}
    names = []
    for k in range(5):
        base = rng.gamma(2, 1, n)
        for agg in ("sum", "mean", "max", "mean_active"):
            for w in catalog.WINDOWS:
                name = catalog.name_of(f"feature_noise{k}", agg, w)
                frame[name] = base * rng.lognormal(0, 0.3, n)
                names.append(name)
    real = rng.normal(size=n)
    frame["feature_real_mean_90d"] = real
    names.append("feature_real_mean_90d")
    y = (rng.random(n) < 1 / (1 + np.exp(2.2 + 0.35 * real))).astype(float)
    p = params.from_dict({"client": "x", "name": "X", "sources": {"accounts": {"path": "a.csv"}}})
    r = search.choose(pl.DataFrame(frame), y, names, p, date(2025, 9, 1))
    assert r.chosen == ["feature_real_mean_90d"]


def test_each_segment_searched_on_the_renewals_its_card_is_not_judged_on():
    """Per segment with enough churn: the search again on its renewals before the latest two time blocks (the blocks
    its card is judged on); a segment's own driver is found there; outcomes from `until` on change nothing."""
    from datetime import date, timedelta

    from kit import params

    rng = np.random.default_rng(5)
    n = 4000
    seg = rng.choice(["A", "B", "C"], n, p=[0.47, 0.47, 0.06])
    dates = pl.Series("renewal_date", [date(2024, 1, 1) + timedelta(days=int(d)) for d in np.sort(rng.integers(0, 700, n))])
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    frame = pl.DataFrame({"segment": seg, "feature_one_mean_90d": x1, "feature_two_mean_90d": x2})
    # A churns on feature one, B on feature two, C (few renewals) on both
    logit = -2.0 + np.where(seg == "A", -1.2 * x1, np.where(seg == "B", -1.2 * x2, -0.6 * (x1 + x2)))
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    p = params.from_dict({"client": "x", "name": "X", "sources": {"accounts": {"path": "a.csv"}},
                          "scorecard": {"segment_min_churn_events": 60}})
    names = ["feature_one_mean_90d", "feature_two_mean_90d"]
    until, chosen = search.by_segment(frame, y, dates, names, p, date(2026, 1, 1))
    fold = split.folds(dates, p.scorecard.cv_folds)
    assert until == dates.filter(pl.Series(fold == p.scorecard.cv_folds - 2)).min()
    assert (y[seg == "C"] >= 0.5).sum() < 60 and "C" not in chosen  # too little churn for a card of its own
    assert chosen["A"] == ["feature_one_mean_90d"] and chosen["B"] == ["feature_two_mean_90d"]
    later = (dates >= until).to_numpy()
    shuffled = y.copy()
    for s_ in ("A", "B", "C"):  # outcomes from `until` on shuffled within each segment (its churn count, which decides
        rows = np.flatnonzero(later & (seg == s_))  # whether it gets a card at all, stays)
        shuffled[rows] = rng.permutation(y[rows])
    assert (shuffled != y).sum() > 100
    assert search.by_segment(frame, shuffled, dates, names, p, date(2026, 1, 1)) == (until, chosen)
