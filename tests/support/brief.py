"""The brief a scorecard a client signs must meet out of time (issue 28), checked on every client the tests build."""

from __future__ import annotations

MARGIN = 0.005  # the card's AUC may trail its best single signal and the logistic regression by at most this


def check_brief(doc: dict, card: dict) -> None:
    """The brief a card a client signs must meet out of time (issue 28): bands in risk order, at least 15% of renewals
    green, at most 10% of churn green, red catching 60%+ of churn while flagging at most 35% of renewals, a red share
    within 5 points of the renewals the bands were fitted on; lead times from whole windows; the AUC at least its best
    single signal's and a logistic regression's on the same candidates, minus MARGIN."""
    assert {"scorecard", "current", "equal"} <= set(doc["configs"])
    sc = doc["configs"]["scorecard"]
    o = sc["out_of_time"]
    rates = [o["bands"][b]["churn_rate"] for b in ("red", "yellow", "green")]
    assert rates[0] > rates[1] > rates[2], rates
    assert o["bands"]["green"]["accounts"] >= 0.15 * o["renewals"], o["bands"]
    assert o["red_share"] <= 0.35 and o["churned_green_share"] <= 0.10 and o["red_recall"] >= 0.60, o
    assert abs(card["band_fit"]["red_share"] - o["red_share"]) <= 0.05, (card["band_fit"], o["red_share"])
    # lead times from whole windows only (a window cut short by the start of the history would pile flags at its edge)
    assert sc["lead_time_window"] == "whole" and 0 < sc["lead_time_days_median"] <= doc["window_start_days"]
    ref = doc["reference"]
    auc = sc["auc_out_of_time"]
    assert auc >= ref["best_single_signal"]["auc_out_of_time"] - MARGIN, (auc, ref["best_single_signal"])
    assert auc >= ref["logistic"]["auc_out_of_time"] - MARGIN, (auc, ref["logistic"]["auc_out_of_time"])
    assert auc >= ref["gradient_boosting"]["auc_out_of_time"] - 0.02, (auc, ref["gradient_boosting"]["auc_out_of_time"])
