"""The health score on hand-built signal frames: every value computed by hand here."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from kit.analyses import health_score
from kit.errors import KitError
from kit.params import Bands, Component, Score

D1 = date(2026, 1, 5)
D2 = D1 + timedelta(days=7)
D3 = D1 + timedelta(days=14)


def config(**kw) -> Score:
    comps = kw.pop("components", None) or {
        "usage": Component(weight=0.6, signals=["active_users_per_seat"]),
        "support": Component(weight=0.4, signals=["tickets_90d", "mean_csat_90d"]),
    }
    return Score(components=comps, **kw)


def frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"account_id": pl.String, "as_of": pl.Date, "segment": pl.String, "arr": pl.Float64,
                "active_users_per_seat": pl.Float64, "tickets_90d": pl.Float64, "mean_csat_90d": pl.Float64},
        orient="row",
    )


def test_percentile_within_segment_and_date_oriented_by_direction():
    sig = frame([
        ("a", D1, "SMB", 1.0, 0.1, 3.0, None),
        ("b", D1, "SMB", 1.0, 0.5, 1.0, 4.0),
        ("c", D1, "SMB", 1.0, 0.5, 1.0, 2.0),
        ("d", D1, "ENT", 1.0, 0.9, 9.0, 5.0),  # alone in its segment: 50 on every signal
        ("a", D2, "SMB", 1.0, 0.9, 0.0, 1.0),  # another date: ranked among D2's accounts only
    ])
    out = health_score.score(sig, config()).sort("account_id", "as_of")
    got = {(r["account_id"], r["as_of"]): r for r in out.to_dicts()}
    # usage, D1 SMB: values .1 .5 .5 -> ranks 1, 2.5, 2.5 of n=3 -> 100*(r-.5)/3
    assert got[("a", D1)]["usage"] == pytest.approx(100 * 0.5 / 3)
    assert got[("b", D1)]["usage"] == pytest.approx(100 * 2 / 3)
    # tickets (higher = worse): a=3 worst -> rank 1; b=c=1 -> 2.5. csat: b 4 -> rank 2 of 2, c 2 -> rank 1, a missing.
    # signal means: a 100*.5/3 (csat missing: tickets alone), b (100*2/3 + 100*1.5/2)/2 = 70.8,
    # c (100*2/3 + 100*.5/2)/2 = 45.8; the component ranks those means again: a 1, c 2, b 3 of 3
    assert got[("a", D1)]["support"] == pytest.approx(100 * 0.5 / 3)
    assert got[("c", D1)]["support"] == pytest.approx(100 * 1.5 / 3)
    assert got[("b", D1)]["support"] == pytest.approx(100 * 2.5 / 3)
    assert got[("d", D1)]["usage"] == 50 and got[("d", D1)]["support"] == 50
    assert got[("a", D2)]["usage"] == 50
    b = got[("b", D1)]
    assert b["score"] == pytest.approx(0.6 * b["usage"] + 0.4 * b["support"])
    assert not out["reweighted"].any()


def test_missing_component_reweights_and_is_counted():
    sig = frame([
        ("a", D1, "SMB", 1.0, 0.2, None, None),  # support missing -> usage alone
        ("b", D1, "SMB", 1.0, 0.4, 1.0, None),
        ("c", D1, "SMB", 1.0, None, None, None),  # nothing -> no score, no band
    ])
    out = health_score.score(sig, config()).sort("account_id")
    a, b, c = out.to_dicts()
    assert a["support"] is None and a["score"] == pytest.approx(a["usage"]) == pytest.approx(25.0)
    assert a["reweighted"] and a["components_present"] == 1
    assert b["score"] == pytest.approx(0.6 * 75 + 0.4 * 50) and not b["reweighted"]
    assert c["score"] is None and c["band"] is None and not c["reweighted"] and c["components_present"] == 0
    s = health_score.summary(out)
    assert (s["reweighted"], s["unscored"], s["scored"]) == (1, 1, 2)
    assert s["bands"] == {"red": 1, "yellow": 1, "green": 0}  # 25 red, 65 yellow


def test_signal_absent_from_frame_counts_as_missing():
    sig = frame([("a", D1, "SMB", 1.0, 0.2, 1.0, 3.0)]).drop("active_users_per_seat")
    out = health_score.score(sig, config())
    assert out["usage"].to_list() == [None] and out["reweighted"].to_list() == [True]
    assert out["score"].to_list() == [50.0]


def test_thresholds_transform_linear_and_clipped():
    comps = {"support": Component(weight=1, signals=["tickets_90d"], transform="thresholds",
                                  thresholds={"tickets_90d": (10, 0)})}  # 10 tickets scores 0, none scores 100
    sig = frame([("a", D1, None, 1.0, None, 2.5, None), ("b", D1, None, 1.0, None, 25.0, None),
                 ("c", D1, None, 1.0, None, -1.0, None)])
    out = health_score.score(sig, config(components=comps)).sort("account_id")
    assert out["support"].to_list() == [75.0, 0.0, 100.0]
    assert out["band"].to_list() == ["green", "red", "green"]


def test_band_edges():
    comps = {"support": Component(weight=1, signals=["tickets_90d"], transform="thresholds",
                                  thresholds={"tickets_90d": (0, 100)})}
    vals = [59.999, 60, 74.999, 75]
    sig = frame([(f"a{i}", D1, "S", 1.0, None, v, None) for i, v in enumerate(vals)])
    out = health_score.score(sig, config(components=comps, bands=Bands(red=60, green=75))).sort("account_id")
    assert out["band"].to_list() == ["red", "yellow", "yellow", "green"]


def test_weights_override_rescaled_and_checked():
    sig = frame([("a", D1, "S", 1.0, 0.2, 1.0, None), ("b", D1, "S", 1.0, 0.4, 3.0, None)])
    out = health_score.score(sig, config(), weights={"usage": 2, "support": 2}).sort("account_id")
    a = out.row(0, named=True)
    assert a["score"] == pytest.approx(0.5 * a["usage"] + 0.5 * a["support"])
    with pytest.raises(KitError, match="unknown component"):
        health_score.score(sig, config(), weights={"nps": 1})


def test_at_risk_needs_consecutive_weeks_and_trend_looks_back():
    comps = {"support": Component(weight=1, signals=["tickets_90d"], transform="thresholds",
                                  thresholds={"tickets_90d": (0, 100)})}
    days = [D1 + timedelta(days=7 * k) for k in range(7)]
    values = [50, 70, 50, 55, None, 40, 45]  # runs below 60: [0], [2,3], [5,6] (the missing week breaks it)
    sig = frame([("a", d, "S", 1.0, None, v, None) for d, v in zip(days, values)])
    out = health_score.score(sig, config(components=comps, at_risk_weeks=2, trend_days=14)).sort("as_of")
    assert out["at_risk"].to_list() == [False, False, False, True, False, False, True]
    # trend: score minus the latest score dated 14+ days earlier (week k-2); none for the first two
    # weeks; week 4 has no score; week 6 looks back at week 4 (no score) -> the one before, week 3
    assert out["trend"].to_list() == [None, None, 0.0, -15.0, None, -15.0, 45 - 55]


def test_reserved_component_name_rejected():
    comps = {"score": Component(weight=1, signals=["tickets_90d"])}
    with pytest.raises(KitError, match="reserved"):
        health_score.score(frame([("a", D1, "S", 1.0, 0.1, 1.0, 1.0)]), config(components=comps))
