"""Every account this month (kit.analyses.accounts): points that add up to the score, what moved it, the portfolio.

Figures are derived independently: the points against a hand computation and against the composite score; ARR by
band and the renewals ahead by plain sums over the rows; a planted drop (usage cut to a fifth in the last month
for 20 named accounts of a small client) found among the biggest drops with usage as its first reason.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np

import polars as pl
import pytest

from kit import params as params_mod
from kit.analyses import accounts, health_score
from kit.io.load import ClientData
from kit.params import Score
from kit.periods import Period

from .conftest import DEMO_END, DEMO_PERIOD, write_params

PLANTED = 20


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A 200-account demo client whose 20 accounts with the most active users per seat lost four fifths of their usage
    in the last month."""
    from kit import demo

    folder = tmp_path_factory.mktemp("accounts-client")
    demo.generate(folder / "data", DEMO_END, seed=5, n_accounts=200)
    from kit.analyses import signals

    month = Period.parse(DEMO_PERIOD)
    p = params_mod.load(write_params(folder, folder / "data"))
    acc = accounts.active_accounts(ClientData(p), month.end)
    per_seat = signals.build(ClientData(p), acc.select("account_id", pl.lit(month.start).alias("as_of")), ["active_users_per_seat"])
    chosen = per_seat.sort(["active_users_per_seat", "account_id"], descending=[True, False], nulls_last=True).head(PLANTED)["account_id"].to_list()
    usage_file = folder / "data" / "product" / "daily_usage.parquet"
    usage = pl.read_parquet(usage_file)
    cut = (pl.col("acct_id").is_in(chosen)) & (pl.col("day") >= month.start)
    usage.with_columns([pl.when(cut).then((pl.col(c) // 5).cast(pl.Int32)).otherwise(pl.col(c)).alias(c)
                        for c in ("dau", "sessions", "api_calls", "reports_exported")]).write_parquet(usage_file)
    p = params_mod.load(write_params(folder, folder / "data"))
    data = ClientData(p)
    card = accounts.Card(p.score, "the parameters' score")
    return p, data, card, accounts.of_month(data, p, month, card), chosen


def test_points_add_up_to_the_score_by_hand():
    """Two tiered measures, weights 0.75 and 0.25; a row without the second measure is scored on the first alone."""
    card = Score.model_validate({"components": {
        "a": {"weight": 0.75, "signals": ["x"], "transform": "tiers", "tiers": {"x": {"cuts": [10], "scores": [20, 100]}}},
        "b": {"weight": 0.25, "signals": ["y"], "transform": "tiers", "tiers": {"y": {"cuts": [5], "scores": [0, 80]}}},
    }, "bands": {"red": 40, "green": 70}})
    sig = pl.DataFrame({"account_id": ["p", "q"], "as_of": [date(2026, 10, 31)] * 2, "segment": ["S", "S"], "arr": [1.0, 1.0],
                        "x": [3.0, 30.0], "y": [9.0, None]})
    pts = health_score.points(sig, card)
    assert pts["x"].to_list() == pytest.approx([0.75 * 20, 100.0]) and pts["y"].to_list()[0] == pytest.approx(0.25 * 80)
    assert pts["y"].to_list()[1] is None
    scores = health_score.resolved(sig, card)["score"].to_list()
    assert scores == pytest.approx([15 + 20, 100.0])


def test_points_add_up_to_the_score_for_every_account(planted):
    _, _, _, frame, _ = planted
    pts = [c for c in frame.columns if c.startswith("points_")]
    assert len(pts) == 5  # the parameters' five components (each a percentile: its points whole)
    gap = frame.filter(pl.col("score").is_not_null()).select((pl.sum_horizontal(pts) - pl.col("score")).abs().max()).item()
    assert gap < 1e-9


def tiered_card(data, month: Period) -> accounts.Card:
    """A scorecard as the back-test proposes one: usage, support and sentiment measures in three ranges each, cut
    at the thirds of the values at the end of the month before."""
    from kit.analyses import signals

    measures = {"usage": "active_users_per_seat", "support": "tickets_90d", "sentiment": "latest_nps"}
    acc = accounts.active_accounts(data, month.previous().end)
    sig = signals.build(data, acc.select("account_id", pl.lit(month.previous().end).alias("as_of")), list(measures.values()))
    comps = {}
    for comp, m in measures.items():
        lo, hi = sig[m].drop_nulls().quantile(1 / 3), sig[m].drop_nulls().quantile(2 / 3)
        scores = [100, 50, 0] if m == "tickets_90d" else [0, 50, 100]  # more tickets: riskier
        comps[comp] = {"weight": 1 / 3, "signals": [m], "transform": "tiers", "tiers": {m: {"cuts": [lo, hi], "scores": scores}}}
    return accounts.Card(Score.model_validate({"components": comps, "bands": {"red": 40, "green": 70}}), "a planted scorecard")


def test_the_planted_drop_is_among_the_biggest_drops_with_usage_first(planted):
    p, data, _, _, chosen = planted
    month = Period.parse(DEMO_PERIOD)
    card = tiered_card(data, month)
    frame = accounts.of_month(data, p, month, card)
    doc = accounts.portfolio(frame, month, card)
    drops = [r["account_id"] for r in doc["biggest_drops"]]
    planted_rows = frame.filter(pl.col("account_id").is_in(chosen))
    assert planted_rows.height == PLANTED
    fell = planted_rows.filter(pl.col("change_30d") < 0)
    assert fell.height == PLANTED
    assert fell["reason_1"].to_list() == ["active_users_per_seat"] * fell.height
    assert (fell["reason_1_points"] < 0).all() and (fell["reason_1_now"] < fell["reason_1_then"]).all()  # its value fell too
    # among the biggest drops: every one in the steepest third of the month's changes, three in four listed in
    # portfolio.json's top 25 (the others' score fell less: another measure rose; the demo's own accounts decline too)
    ranked = frame.sort(["change_30d", "account_id"], nulls_last=True).with_row_index("rank")
    ranks = ranked.filter(pl.col("account_id").is_in(chosen))["rank"]
    assert ranks.max() < frame.height / 3, ranks.to_list()
    assert len(set(chosen) & set(drops)) >= 0.75 * PLANTED


def test_the_change_is_the_sum_of_each_measures_change(planted):
    """Exact for a sum of points: the score now minus 30 days earlier is every measure's change in points, and the
    first reason is the measure whose points changed most."""
    p, data, card, frame, _ = planted
    end = Period.parse(DEMO_PERIOD).end
    both = accounts._scored(data, frame.select("account_id"), card.score, [end - timedelta(days=30), end])
    pts = [c for c in both.columns if c.startswith("points_")]
    now, then = both.filter(pl.col("as_of") == end), both.filter(pl.col("as_of") < end)
    j = frame.select("account_id", "change_30d", "reason_1", "reason_1_points").join(
        now.join(then, on="account_id", suffix="_then"), on="account_id").drop_nulls("change_30d")
    total = pl.sum_horizontal([pl.col(c).fill_null(0) - pl.col(c + "_then").fill_null(0) for c in pts])
    assert j.select((total - pl.col("change_30d")).abs().max()).item() < 1e-9
    for row in j.filter(pl.col("reason_1").is_not_null()).head(50).iter_rows(named=True):
        changes = {c.removeprefix("points_"): (row[c] or 0) - (row[c + "_then"] or 0) for c in pts}
        assert abs(changes[row["reason_1"]]) == pytest.approx(max(abs(v) for v in changes.values()))
        assert row["reason_1_points"] == pytest.approx(changes[row["reason_1"]])


def test_portfolio_sums_are_plain_sums_over_the_rows(planted):
    _, _, card, frame, _ = planted
    end = Period.parse(DEMO_PERIOD).end
    doc = accounts.portfolio(frame, Period.parse(DEMO_PERIOD), card)
    rows = frame.to_dicts()
    assert doc["accounts"] == len(rows) and doc["arr"] == pytest.approx(sum(r["arr"] or 0 for r in rows))
    for band, v in doc["by_band"].items():
        mine = [r for r in rows if (r["band"] or "no score") == band]
        assert v["accounts"] == len(mine) and v["arr"] == pytest.approx(sum(r["arr"] or 0 for r in mine))
    for days, bands in doc["renewals"].items():
        due = [r for r in rows if r["renewal_date"] and end < r["renewal_date"] <= end + timedelta(days=int(days))]
        assert sum(v["accounts"] for v in bands.values()) == len(due)
    risk = [r for r in rows if r["at_risk"]]
    assert doc["at_risk_accounts"] == len(risk) and doc["at_risk_arr"] == pytest.approx(sum(r["arr"] or 0 for r in risk))
    arrs = [r["arr"] for r in doc["at_risk"]]
    assert arrs == sorted(arrs, reverse=True)


def test_at_risk_means_red_in_each_of_the_last_weekly_scores(planted):
    p, data, card, frame, _ = planted
    end = Period.parse(DEMO_PERIOD).end
    pts = frame.select("account_id").join(pl.DataFrame({"as_of": [end, end - timedelta(days=7)]}), how="cross")
    from kit.analyses import signals

    weekly = health_score.resolved(signals.build(data, pts, accounts.measures_of(card.score)), card.score)
    red = weekly.group_by("account_id").agg((pl.col("score") < p.score.bands.red).fill_null(False).all().alias("expected"))
    j = frame.join(red, on="account_id")
    assert j.filter(pl.col("at_risk") != pl.col("expected")).height == 0 and j["at_risk"].sum() > 0


def test_active_accounts_leave_out_the_churned_and_the_not_yet_created(planted):
    _, data, _, frame, _ = planted
    end = Period.parse(DEMO_PERIOD).end
    churned = (data.table("renewals").filter(pl.col("renewal_date") <= end).sort("renewal_date")
               .group_by("account_id").agg(pl.col("outcome").last()).filter(pl.col("outcome") == "churned")["account_id"])
    late = data.table("accounts").filter(pl.col("created_at") > end)["account_id"]
    ids = set(frame["account_id"])
    assert not ids & set(churned) and not ids & set(late)
    assert len(ids) == data.table("accounts")["account_id"].n_unique() - len(set(churned) | set(late))



# ---------------------------------------------------------------------------- is the score still the score?


def test_psi_matches_a_hand_computation():
    from kit.analyses import stats

    r = stats.psi([5, 15, 15, 25], [15, 25, 25, 25], cuts=[10, 20])
    # reference shares 1/4, 1/2, 1/4; current 0 (taken as half an account: 1/8), 1/4, 3/4
    hand = sum((q - p) * math.log(q / p) for p, q in ((0.25, 0.125), (0.5, 0.25), (0.25, 0.75)))
    assert r["psi"] == pytest.approx(hand) and [b["current"] for b in r["bins"]] == [0, 1, 3]
    assert not r["judged"]  # four accounts a side cannot judge three bands
    same = stats.psi(np.arange(1000) % 100, np.arange(1000) % 100)
    assert same["psi"] == pytest.approx(0.0) and same["judged"]


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    """The same 200-account client twice: as generated, and with every account's usage cut to a fifth in the last month."""
    from kit import demo

    out = {}
    for name in ("plain", "shifted"):
        folder = tmp_path_factory.mktemp(f"stability-{name}")
        demo.generate(folder / "data", DEMO_END, seed=5, n_accounts=200)
        if name == "shifted":
            f = folder / "data" / "product" / "daily_usage.parquet"
            start = Period.parse(DEMO_PERIOD).start
            u = pl.read_parquet(f)
            u.with_columns([pl.when(pl.col("day") >= start).then((pl.col(c) // 5).cast(pl.Int32)).otherwise(pl.col(c)).alias(c)
                            for c in ("dau", "sessions", "api_calls", "reports_exported")]).write_parquet(f)
        p = params_mod.load(write_params(folder, folder / "data"))
        out[name] = (p, ClientData(p))
    return out


def _stability(world):
    p, data = world
    month = Period.parse(DEMO_PERIOD)
    card = tiered_card(data, month)
    card.cut = month.end - timedelta(days=30)  # judged against the population a month before
    frame = accounts.of_month(data, p, month, card)
    return accounts.stability(data, card, month, frame)


def test_an_unchanged_month_stays_green_and_a_shifted_one_does_not(worlds):
    plain, shifted = _stability(worlds["plain"]), _stability(worlds["shifted"])
    assert plain["score"]["status"] == "green" and plain["score"]["psi"] < accounts.STABLE
    assert shifted["score"]["status"] in ("amber", "red") and shifted["score"]["psi"] > plain["score"]["psi"]
    assert shifted["moved_most"] == "active_users_per_seat" and shifted["measures"]["active_users_per_seat"]["status"] == "red"
    bins = shifted["score"]["bins"]
    assert sum(b["reference"] for b in bins) == shifted["score"]["reference"] and sum(b["current"] for b in bins) == shifted["score"]["current"]


def test_too_few_accounts_are_not_judged(worlds):
    p, data = worlds["plain"]
    month = Period.parse(DEMO_PERIOD)
    card = tiered_card(data, month)
    frame = accounts.of_month(data, p, month, card).head(12)
    r = accounts.stability(data, card, month, frame)
    assert r["score"]["status"] == "not checked" and r["score"]["psi"] is not None


# ---------------------------------------------------------------------------- a forecast that is checked

RATES = {"red": {"renewals": 40, "churned": 12}, "yellow": {"renewals": 50, "churned": 5}, "green": {"renewals": 30, "churned": 1}}


def test_the_forecast_is_the_band_rates_times_the_renewals(planted):
    p, data, card, frame, _ = planted
    month = Period.parse(DEMO_PERIOD)
    f = accounts.forecast(frame, accounts.Card(card.score, "x", rates=RATES, rates_from="2026-09"), month)
    start, end = month.end + timedelta(days=1), month.end + timedelta(days=accounts.HORIZON)
    due = [r for r in frame.to_dicts() if r["renewal_date"] and start <= r["renewal_date"] <= end and r["band"]]
    rate = {b: v["churned"] / v["renewals"] for b, v in RATES.items()}
    assert f["renewals"] == len(due) > 0
    assert f["expected_accounts"] == pytest.approx(sum(rate[r["band"]] for r in due))
    assert f["expected_arr"] == pytest.approx(sum(rate[r["band"]] * (r["arr"] or 0) for r in due))
    # the interval: Bernoulli renewals plus the rates' binomial error, by hand
    var = sum(rate[r["band"]] * (1 - rate[r["band"]]) for r in due) + sum(
        sum(1 for r in due if r["band"] == b) ** 2 * rate[b] * (1 - rate[b]) / v["renewals"] for b, v in RATES.items())
    lo, hi = f["accounts_interval"]
    assert hi - f["expected_accounts"] == pytest.approx(1.959964 * math.sqrt(var)) and lo == pytest.approx(max(0, f["expected_accounts"] - 1.959964 * math.sqrt(var)))
    assert not accounts.forecast(frame, card, month)["available"]  # no back-test: no rates, said


def test_an_earlier_forecast_is_set_against_what_happened(planted, tmp_path):
    """A forecast written three months ago for renewals that have all happened: its renewals' actual outcomes."""
    p, data, card, _, _ = planted
    month = Period.parse(DEMO_PERIOD)
    earlier = month.previous().previous().previous()
    frame = accounts.of_month(data, p, earlier, card)
    f = accounts.forecast(frame, accounts.Card(card.score, "x", rates=RATES, rates_from="2026-06"), earlier)
    assert date.fromisoformat(f["to"]) <= month.end and f["renewals"] > 0
    accounts.PortfolioDocument({**accounts.portfolio(frame, earlier, card), "forecast": f}).write(
        (tmp_path / earlier.label).mkdir(parents=True) or tmp_path / earlier.label)
    (checked,) = accounts.checked_forecasts(data, tmp_path, month)
    ren = data.table("renewals")
    due = pl.DataFrame(f["due"]).with_columns(pl.col("renewal_date").str.to_date())
    outcome = due.join(ren.select("account_id", "renewal_date", "outcome"), on=["account_id", "renewal_date"], how="left")
    assert checked["period"] == earlier.label and checked["renewals"] == due.height
    assert checked["actual_accounts"] == outcome.filter(pl.col("outcome") == "churned").height
    assert checked["actual_arr"] == pytest.approx(outcome.filter(pl.col("outcome") == "churned")["arr"].sum())
    assert checked["expected_accounts"] == pytest.approx(f["expected_accounts"])
    assert accounts.checked_forecasts(data, tmp_path, month.previous().previous()) == []  # its renewals still ahead then


def test_an_earlier_month_counts_the_renewals_it_had_ahead_not_the_exports_next_ones(planted):
    """The accounts export holds today's next renewal: a month three months back must count the renewals the renewals
    table records in its quarter ahead (renewed ones included), each on its own date, not the export's dates."""
    p, data, card, _, _ = planted
    earlier = Period.parse(DEMO_PERIOD).previous(3)
    frame = accounts.of_month(data, p, earlier, card)
    f = accounts.forecast(frame, accounts.Card(card.score, "x", rates=RATES, rates_from="2026-06"), earlier)
    start, end = earlier.end + timedelta(days=1), earlier.end + timedelta(days=accounts.HORIZON)
    ahead = (data.table("renewals").filter(pl.col("renewal_date").is_between(start, end),
                                           pl.col("account_id").is_in(frame.filter(pl.col("band").is_not_null())["account_id"].implode()))
             .group_by("account_id").agg(pl.col("renewal_date").min()))
    due = {(r["account_id"], r["renewal_date"]) for r in f["due"]}
    assert due == {(a, d.isoformat()) for a, d in ahead.iter_rows()}
    outcomes = data.table("renewals").join(ahead, on=["account_id", "renewal_date"])["outcome"].to_list()
    assert "churned" in outcomes and outcomes.count("churned") < len(outcomes) / 2  # most of them renewed


# ---------------------------------------------------------------------------- is the platform running the card?


def test_a_range_typed_wrong_in_the_platform_lists_exactly_its_accounts(planted, tmp_path):
    """The client's platform runs the adopted scorecard with one range typed wrong (active users per seat cut at ten
    times its lower cut) for 60 accounts; every platform score of the others is the card's. Listed: exactly the
    accounts the wrong range scores differently, each explained by that measure."""
    from kit.analyses import parity

    from .support import misconfigured

    p, data, _, _, _ = planted
    month = Period.parse(DEMO_PERIOD)
    card = tiered_card(data, month).score
    doc = {"measures": [{"component": c, "signal": s, "cuts": comp.tiers[s].cuts, "scores": comp.tiers[s].scores,
                         "missing_score": comp.tiers[s].missing, "weight": comp.weight}
                        for c, comp in card.components.items() for s in comp.signals],
           "bands": {"red": card.bands.red, "green": card.bands.green}}
    plant = misconfigured.platform(p, data, doc, month, tmp_path, write_params, signal="active_users_per_seat")
    p2 = plant.params
    got_card, label = parity.adopted(p2, tmp_path / "reports")
    assert label == misconfigured.ADOPTED and got_card == plant.right
    r = parity.check(ClientData(p2), got_card, month, p2.maintenance.score_tolerance)
    expected = plant.expected
    assert len(expected) >= 5  # the planted error shows on enough accounts to be a test
    assert {row["account_id"] for row in r["accounts"]} == expected and r["off"] == len(expected)
    assert {row["measure"] for row in r["accounts"]} == {"active_users_per_seat"}
    assert r["compared"] == plant.scored
    # and as the monthly check: red, the count of those accounts, the measure named
    from kit.analyses import maintenance as mt

    c = mt.platform_parity({"adopted": "2026-09", **r}, p2.maintenance)
    assert (c.status, c.value) == ("red", len(expected)) and "active users per seat" in c.detail.lower()
    assert c.behind.height == len(expected)
    clean = {"adopted": "2026-09", **r, "off": 0, "accounts": []}
    assert mt.platform_parity(clean, p2.maintenance).status == "green"
    assert mt.platform_parity(None, p2.maintenance).status == "not checked"


def test_no_adopted_scorecard_no_check_and_a_missing_one_is_named(planted, tmp_path):
    from kit.analyses import parity
    from kit.errors import KitError

    p, _, _, _, _ = planted
    assert parity.adopted(p, tmp_path) is None
    named = p.model_copy(update={"maintenance": p.maintenance.model_copy(update={"adopted_scorecard": "2026-08"})})
    with pytest.raises(KitError, match="adopted scorecard of 2026-08"):
        parity.adopted(named, tmp_path)


def test_score_stability_is_a_check_of_the_registry_rated_by_its_limits(worlds):
    from kit.analyses import maintenance as mt
    from kit.checks import CHECKS

    p, _ = worlds["plain"]
    m = p.maintenance
    assert CHECKS["score_stability"].limit == "score_stability" and (m.score_stability.amber, m.score_stability.red) == (0.10, 0.25)
    plain, shifted = _stability(worlds["plain"]), _stability(worlds["shifted"])
    c = mt.score_stability(plain, m)
    assert (c.status, c.value) == ("green", pytest.approx(plain["score"]["psi"]))
    s = mt.score_stability(shifted, m)
    expected = "red" if shifted["score"]["psi"] > 0.25 else "amber"
    assert s.status == expected and "active users per seat" in s.detail.lower() and s.action == CHECKS["score_stability"].action
    few = dict(plain, score={**plain["score"], "judged": False})
    assert mt.score_stability(few, m).status == "not checked" and mt.score_stability(None, m).status == "not checked"


def test_auc_standard_error_by_hand():
    """DeLong's placements on three churned and three retained accounts, computed by hand."""
    from kit.analyses import stats

    risk = [0.9, 0.4, 0.7, 0.2, 0.5, 0.1]
    event = [1, 1, 1, 0, 0, 0]
    v10 = [1.0, 2 / 3, 1.0]  # per churned (0.9, 0.4, 0.7): share of the retained it outranks
    v01 = [1.0, 2 / 3, 1.0]  # per retained (0.2, 0.5, 0.1): share of the churned that outrank it
    auc, se = stats.auc_se(risk, event)
    var = np.var(v10, ddof=1) / 3 + np.var(v01, ddof=1) / 3
    assert auc == pytest.approx(np.mean(v10)) == pytest.approx(stats.auc(risk, event))
    assert se == pytest.approx(math.sqrt(var))


def test_discrimination_is_judged_against_the_back_test_auc(planted):
    from kit.analyses import maintenance as mt

    p, data, _, _, _ = planted
    month = Period.parse(DEMO_PERIOD)
    card = tiered_card(data, month)
    d = accounts.discrimination(data, p, accounts.Card(card.score, "x", auc=0.70, rates_from="2026-09"), month)
    assert d["renewals"] > 0 and d["churned"] >= 2 and d["interval"][0] < d["auc"] < d["interval"][1]
    # the same renewals scored independently: their AUC
    from kit.analyses import signals, stats

    pts = signals.renewal_points(data, p.lead_time_days, p.weighting.contraction_as_churn, until=month.end).filter(
        pl.col("renewal_date") >= month.previous(5).start)
    sig = signals.build(data, pts.select("account_id", "as_of"), accounts.measures_of(card.score))
    s = pts.with_columns(health_score.resolved(sig, card.score)["score"]).drop_nulls("score")
    assert d["auc"] == pytest.approx(stats.auc(-s["score"].to_numpy(), s["churned"].to_numpy() >= 0.5))
    m = p.maintenance
    low, high = d["interval"]
    assert mt.discrimination({**d, "backtest_auc": high + 0.01}, m).status == "red"  # beyond the interval
    assert mt.discrimination({**d, "backtest_auc": d["auc"] + min(0.06, (high - d["auc"]) * 0.99)}, m).status == (
        "amber" if min(0.06, (high - d["auc"]) * 0.99) > m.discrimination_drop else "green")
    assert mt.discrimination({**d, "backtest_auc": d["auc"]}, m).status == "green"
    assert mt.discrimination({**d, "backtest_auc": None}, m).status == "not checked"


def test_listed_accounts_read_as_a_frame_when_the_first_explain_nothing():
    from kit.analyses import parity

    rows = [{"account_id": f"a{i}", "as_of": date(2026, 10, 30), "platform_score": 50.0, "card_score": 20.0, "gap": 30.0,
             "measure": None, "value": None} for i in range(150)]
    rows.append({**rows[0], "account_id": "z", "measure": "logins_per_user_90d", "value": 2.5})
    f = parity.frame(rows)
    assert f.height == 151 and f["measure"].drop_nulls().to_list() == ["logins_per_user_90d"]


def test_the_month_built_at_once_is_the_month_built_piece_by_piece(planted):
    """run_for builds the month's points, the reference population's and the recent renewals' in one pass over the
    event tables (accounts.Measured); every figure must be what each step computes alone, and a point not built
    up front is built when asked for."""
    p, data, card, frame, _ = planted
    month = Period.parse(DEMO_PERIOD)
    measured = accounts._measured(data, p, month, card)
    assert measured.built.height > frame.height * len(accounts.month_dates(month, card.score))  # the reference and renewals too
    assert accounts.of_month(data, p, month, card, measured).equals(frame)
    assert accounts.stability(data, card, month, frame, measured) == accounts.stability(data, card, month, frame)
    assert accounts.discrimination(data, p, card, month, measured) == accounts.discrimination(data, p, card, month)
    later = frame.select("account_id").head(5).with_columns(pl.lit(month.end + timedelta(days=3)).alias("as_of"))
    alone = accounts.Measured(data, card.score).at(later)
    assert measured.at(later).equals(alone) and alone.height == 5
