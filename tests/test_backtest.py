"""The back-test: a hand-built case where every metric is worked out by hand, then the demo client."""

from __future__ import annotations

import json
from datetime import date, timedelta

import polars as pl
import pytest
from scipy import stats

from kit import backtest, params, scoring
from kit.backtest import Settings

R = date(2026, 3, 1)  # every renewal of the hand case is on this date
S = Settings(red=60, green=75, at_risk_weeks=2, lead_time_days=14, window_start_days=42, window_end_days=0)


def weeks_before(*pairs) -> list[tuple[date, float | None]]:
    return [(R - timedelta(days=7 * k), v) for k, v in pairs]


# account -> [(weeks before renewal, score)]; the lead-time score is the one 2 weeks before (14 days)
SCORES = {
    "A": weeks_before((7, 50), (6, 50), (5, 70), (4, 50), (3, 45), (2, 40), (1, 30), (0, 20)),  # churned, red
    "B": weeks_before((4, 80), (3, 72), (2, 65), (1, 55), (0, 50)),  # churned, yellow, flagged on renewal day
    "C": weeks_before((3, 80), (2, 80)),  # churned, green, never flagged
    "D": weeks_before((3, 70), (2, 55), (1, 70)),  # retained, red, never flagged
    "E": weeks_before((2, 65)),  # retained, yellow (tied with B)
    "F": weeks_before((2, 90)),  # retained, green
    "G": weeks_before((2, 80)),  # retained, green (tied with C)
    "H": weeks_before((9, 40), (8, 40)),  # retained, scores only before the window
    "I": weeks_before((1, 30), (0, 30)),  # churned, scores only after the lead time
    "J": weeks_before((2, 10)),  # no renewal at all
}
RENEWALS = pl.DataFrame(
    [
        ("A", R, True, 100.0, "SMB"), ("B", R, True, 200.0, "SMB"), ("C", R, True, 300.0, "SMB"),
        ("D", R, False, 400.0, "SMB"), ("E", R, False, 500.0, "ENT"), ("F", R, False, 600.0, "ENT"),
        ("G", R, False, 700.0, "ENT"), ("H", R, False, 50.0, "ENT"), ("I", R, True, 80.0, "SMB"),
    ],
    schema={"account_id": pl.String, "renewal_date": pl.Date, "churned": pl.Boolean, "arr_before": pl.Float64,
            "segment": pl.String},
    orient="row",
)


def score_frame() -> pl.DataFrame:
    rows = [(a, d, v) for a, pts in SCORES.items() for d, v in pts]
    return pl.DataFrame(rows, schema={"account_id": pl.String, "date": pl.Date, "score": pl.Float64}, orient="row")


@pytest.fixture(scope="module")
def hand():
    table = backtest.renewal_table(score_frame(), RENEWALS, S)
    return table, backtest.metrics(table, S)


def test_renewal_table_by_hand(hand):
    table, _ = hand
    t = {r["account_id"]: r for r in table.to_dicts()}
    assert {k: t[k]["lead_score"] for k in t} == {
        "A": 40, "B": 65, "C": 80, "D": 55, "E": 65, "F": 90, "G": 80, "H": None, "I": None}
    assert {k: t[k]["lead_band"] for k in "ABCDEFG"} == {
        "A": "red", "B": "yellow", "C": "green", "D": "red", "E": "yellow", "F": "green", "G": "green"}
    assert t["A"]["lead_date"] == R - timedelta(days=14)
    # A: below red at weeks 7 and 6 -> at risk from week 6 (42 days, the window start; the run began before it)
    # B: below red at weeks 1 and 0 -> flagged on the renewal day (0 days); D: one week below only
    assert {k: t[k]["flag_lead_days"] for k in "ABCD"} == {"A": 42, "B": 0, "C": None, "D": None}
    assert (t["H"]["scores_in_window"], t["I"]["scores_in_window"], t["A"]["scores_in_window"]) == (0, 2, 7)


def test_every_metric_by_hand(hand):
    _, m = hand
    # evaluated: A B C churned (ARR 600), D E F G retained (ARR 2200); H (no scores) and I (no lead score) left out
    assert (m["renewals"], m["churned"], m["retained"]) == (7, 3, 4)
    assert m["bands"]["red"] | {} == {"accounts": 2, "churned": 1, "churn_rate": 0.5, "arr": 500.0, "churned_arr": 100.0,
                                      "arr_churn_rate": 0.2}
    assert (m["bands"]["yellow"]["accounts"], m["bands"]["yellow"]["churned"], m["bands"]["yellow"]["churn_rate"]) == (2, 1, 0.5)
    assert (m["bands"]["green"]["accounts"], m["bands"]["green"]["churned"]) == (3, 1)
    assert m["bands"]["green"]["churn_rate"] == pytest.approx(1 / 3)
    assert m["churned_green_share"] == pytest.approx(1 / 3)
    assert m["red_precision"] == 0.5  # A churned, D renewed
    assert m["red_recall"] == pytest.approx(1 / 3)
    assert m["false_positive_rate"] == 0.25  # D of 4 retained
    assert m["false_negative_rate"] == pytest.approx(2 / 3)
    assert m["red_yellow_precision"] == 0.5 and m["red_yellow_recall"] == pytest.approx(2 / 3)
    assert m["red_yellow_false_positive_rate"] == 0.5 and m["red_yellow_false_negative_rate"] == pytest.approx(1 / 3)
    assert m["red_share"] == pytest.approx(2 / 7)
    # AUC by pairs (retained above churned, ties half): D 1, E 1.5, F 3, G 2.5 -> 8 of 12
    assert m["auc"] == pytest.approx(8 / 12)
    u = stats.mannwhitneyu([55, 65, 90, 80], [40, 65, 80]).statistic
    assert m["auc"] == pytest.approx(u / 12)
    assert m["arr_flagged_share"] == pytest.approx(100 / 600)
    assert m["arr_churned_green_share"] == pytest.approx(300 / 600)
    assert m["arr_red_precision"] == pytest.approx(100 / 500)
    assert m["arr_false_positive_rate"] == pytest.approx(400 / 2200)
    assert m["arr_red_yellow_flagged_share"] == pytest.approx(300 / 600)
    # lead time: A 42 days, B 0 days, C never flagged -> 2 of 3 flagged, median 21, 1 of 3 at least 14 days ahead
    assert m["at_risk_flagged_share"] == pytest.approx(2 / 3)
    assert m["lead_time_days_median"] == 21
    assert m["flagged_90d_share"] == pytest.approx(1 / 3)


def test_window_end_and_lead_time_move_the_flag():
    # window ending 7 days before renewal: B's flag (on the renewal day) no longer counts
    m = backtest.metrics(backtest.renewal_table(score_frame(), RENEWALS, S.__class__(**{**S.__dict__, "window_end_days": 7})), S)
    assert m["at_risk_flagged_share"] == pytest.approx(1 / 3) and m["lead_time_days_median"] == 42


def test_threshold_sweep_by_hand():
    sw = {r["red_threshold"]: r for r in backtest.sweep(score_frame(), RENEWALS, S, 40, 70, 10).to_dicts()}
    assert sorted(sw) == [40, 50, 60, 70]
    assert sw[40]["red_precision"] is None and sw[40]["red_recall"] == 0  # nothing below 40
    assert sw[50]["red_precision"] == 1 and sw[50]["red_recall"] == pytest.approx(1 / 3)  # A only
    assert sw[60]["false_positive_rate"] == 0.25
    # below 70: A, B (churned), D, E (retained)
    assert (sw[70]["red_precision"], sw[70]["red_recall"], sw[70]["false_positive_rate"]) == (0.5, pytest.approx(2 / 3), 0.5)
    # at 70, C stays above; B now below from week 2 on -> at risk from week 1 (7 days); A from week 6 (42)
    assert sw[70]["lead_time_days_median"] == pytest.approx((42 + 7) / 2)
    # recall - FPR: 40: 0-0, 50: 1/3-0, 60: 1/3-1/4, 70: 2/3-1/2 -> 50
    assert backtest.suggest_threshold(backtest.sweep(score_frame(), RENEWALS, S, 40, 70, 10)) == 50


def test_segments_and_edge_cases(hand):
    table, _ = hand
    seg = {r["segment"]: r for r in backtest.segments(table, S).to_dicts()}
    assert (seg["SMB"]["renewals"], seg["SMB"]["churned"], seg["SMB"]["red_churn_rate"]) == (4, 3, 0.5)
    assert seg["SMB"]["auc"] == pytest.approx(1 / 3)  # D 55 above A 40 only, below B 65 and C 80
    assert seg["ENT"]["churned"] == 0 and seg["ENT"]["auc"] is None and "no churn" in seg["ENT"]["note"]
    ec = backtest.edge_cases(table, score_frame()["account_id"].unique(), RENEWALS, backtest.segments(table, S))
    assert ec["accounts_without_renewal"]["count"] == 1 and ec["accounts_without_renewal"]["examples"] == ["J"]
    assert ec["renewals_without_scores"]["count"] == 1 and ec["renewals_without_scores"]["examples"][0].startswith("H")
    assert ec["renewals_without_lead_score"]["count"] == 1
    assert ec["segments_without_churn"] == ["ENT"]


def test_best_configuration_criterion():
    best, why = backtest.choose_best({"a": {"auc": 0.7, "churned_green_share": 0.3}, "b": {"auc": 0.7, "churned_green_share": 0.1},
                                      "c": {"auc": 0.6}, "d": {"auc": None}})
    assert best == "b" and "0.700" in why
    assert backtest.choose_best({"a": {"auc": None}})[0] is None


def test_candidates_from_weights_json(demo_params):
    cfgs, notes = backtest.candidates(demo_params, None)
    assert set(cfgs) == {"current", "equal"} and notes["proposed"].startswith("not available")
    doc = {"proposed_weights": {"usage": {"weight": 0.5, "ci_low": 0.4, "ci_high": 0.6},
                                "support": {"weight": 0.3, "ci_low": 0.2, "ci_high": 0.4},
                                "billing": {"weight": 0.2, "ci_low": 0.1, "ci_high": 0.3}}}
    cfgs, notes = backtest.candidates(demo_params, doc)
    w = scoring.weights_of(cfgs["proposed"])
    assert w == pytest.approx({"usage": 0.5, "support": 0.3, "billing": 0.2, "sentiment": 0, "relationship": 0})
    assert scoring.weights_of(cfgs["equal"]) == pytest.approx({c: 0.2 for c in w})
    assert cfgs["current"] is demo_params.score
