"""The proposed scorecard: every step recomputed independently (by hand, scipy, statsmodels' twin, a second
scorer reading the exported CSVs), planted drivers recovered, and a time split that nothing after the cut crosses."""

from __future__ import annotations

import csv
import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from scipy import optimize, stats

from kit import params
from kit.analyses import scorecard, scoring, split as timesplit, stats as kstats
from kit.params import Bands, Scorecard

SETTINGS = Scorecard()


# ---------------------------------------------------------------------------- a planted client


def planted(n: int = 4000, seed: int = 3) -> pl.DataFrame:
    """Renewals whose churn depends on logins (strongly and smoothly, more is healthier) and tickets (less
    strongly, more is riskier); api calls are noise. Renewal dates spread over two years."""
    rng = np.random.default_rng(seed)
    logins = rng.gamma(4, 0.6, n)
    tickets = rng.poisson(1.5, n).astype(float)
    api = rng.normal(50, 10, n)
    logit = -2.0 - 1.2 * (logins - logins.mean()) / logins.std() + 0.6 * (tickets - tickets.mean()) / tickets.std()
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    tickets[rng.random(n) < 0.1] = np.nan  # some renewals have no value
    start = date(2024, 1, 1)
    return pl.DataFrame({
        "account_id": [f"A{i:05d}" for i in range(n)],
        "renewal_date": [start + timedelta(days=int(d)) for d in rng.integers(0, 730, n)],
        "churned": churned,
        "logins_per_active_user": logins, "tickets_90d": tickets, "feature_api_calls": api,
    })


NAMES = ["logins_per_active_user", "tickets_90d", "feature_api_calls"]


def split_of(frame: pl.DataFrame, share: float = 1 / 3) -> timesplit.Split:
    return timesplit.split(frame, timesplit.cut_date(frame["renewal_date"], share))


@pytest.fixture(scope="module")
def fitted():
    frame = planted()
    split = split_of(frame)
    return frame, split, scorecard.fit(split.fit, NAMES, SETTINGS)


# ---------------------------------------------------------------------------- scoring rules


def test_tier_score_by_hand():
    rule = params.Tiers(cuts=[1, 3], scores=[0, 40, 100], missing=50)
    x = pl.DataFrame({"x": [0.5, 1.0, 1.0001, 3.0, 3.5, None]}, schema={"x": pl.Float64})
    got = x.select(scoring.tier_score(pl.col("x"), rule).alias("x"))["x"].to_list()
    assert got == [0, 0, 40, 40, 100, 50]  # a value on a cut belongs to the lower range; no value scores `missing`
    no_missing = params.Tiers(cuts=[1, 3], scores=[0, 40, 100])
    assert x.select(scoring.tier_score(pl.col("x"), no_missing).alias("x"))["x"][-1] is None
    nan = pl.DataFrame({"x": [float("nan")]})
    assert nan.select(scoring.tier_score(pl.col("x"), rule).alias("x"))["x"][0] == 50  # NaN is no value either


def test_signal_weights_inside_a_component_by_hand():
    comp = params.Component(weight=1.0, signals=["a_s", "b_s"], transform="tiers",
                            tiers={"a_s": {"cuts": [0], "scores": [0, 100]}, "b_s": {"cuts": [0], "scores": [0, 100], "missing": 20}},
                            signal_weights={"a_s": 0.75, "b_s": 0.25})
    cfg = params.Score.model_construct(components={"usage": comp}, bands=Bands(), at_risk_weeks=2, trend_days=30)
    sig = pl.DataFrame({"account_id": ["x", "y", "z"], "as_of": [date(2026, 1, 1)] * 3,
                        "a_s": [1.0, -1.0, None], "b_s": [-1.0, None, 1.0]})
    out = scoring.composite(scoring.components(sig, cfg), cfg)["score"].to_list()
    # x: 0.75*100 + 0.25*0 = 75; y: 0.75*0 + 0.25*20 = 5; z: a missing (no missing score) -> only b: 100
    assert out == pytest.approx([75.0, 5.0, 100.0])


def test_tiers_and_signal_weights_are_validated():
    with pytest.raises(ValueError, match="not strictly ascending"):
        params.Tiers(cuts=[3, 1], scores=[0, 50, 100])
    with pytest.raises(ValueError, match="one score per range"):
        params.Tiers(cuts=[1, 3], scores=[0, 100])
    with pytest.raises(ValueError, match="0-100"):
        params.Tiers(cuts=[1], scores=[0, 120])
    with pytest.raises(ValueError, match="add up to 0"):
        params.Component(weight=0.5, signals=["tickets_90d"], signal_weights={"tickets_90d": 0.0})
    with pytest.raises(ValueError, match="each of"):
        params.Component(weight=0.5, signals=["tickets_90d"], signal_weights={"latest_nps": 0.5})
    with pytest.raises(ValueError, match="transform is 'tiers'"):
        params.Component(weight=0.5, signals=["tickets_90d"], transform="tiers")


# ---------------------------------------------------------------------------- the fit, step by step


def test_percents_by_largest_remainder():
    assert scorecard.percents({"a": 1, "b": 1, "c": 1}) == {"a": 34, "b": 33, "c": 33}
    assert scorecard.percents({"a": 0.456, "b": 0.321, "c": 0.223}) == {"a": 46, "b": 32, "c": 22}
    assert sum(scorecard.percents({f"m{i}": w for i, w in enumerate([0.17, 0.29, 0.05, 0.49])}).values()) == 100


def test_weights_match_an_independent_maximum_likelihood():
    """Weights = minus the logistic coefficients, normalised: recomputed with scipy's optimiser on the likelihood."""
    rng = np.random.default_rng(5)
    X = rng.integers(0, 3, (3000, 3)) / 2.0
    y = (rng.random(3000) < 1 / (1 + np.exp(-(-0.5 - 1.5 * X[:, 0] - 0.7 * X[:, 1] - 0.3 * X[:, 2])))).astype(float)

    def nll(beta):
        z = beta[0] + X @ beta[1:]
        return float(np.sum(np.logaddexp(0, z) - y * z))

    beta = optimize.minimize(nll, np.zeros(4), method="BFGS", options={"gtol": 1e-8}).x[1:]
    expected = scorecard.percents({f"m{i}": -b for i, b in enumerate(beta)})
    got, notes = scorecard.choose_weights(X, y, ["m0", "m1", "m2"], Scorecard(min_weight=0))
    assert got == expected and not notes


def test_a_measure_going_the_wrong_way_jointly_is_dropped():
    rng = np.random.default_rng(9)
    X = rng.integers(0, 3, (3000, 2)) / 2.0
    y = (rng.random(3000) < 1 / (1 + np.exp(-(-1 - 1.5 * X[:, 0] + 1.0 * X[:, 1])))).astype(float)  # m1: points raise churn
    got, notes = scorecard.choose_weights(X, y, ["m0", "m1"], Scorecard())
    assert got == {"m0": 100} and "m1: dropped" in notes[0]


def test_range_scores_are_log_odds_on_0_to_100_by_hand():
    # churn 40%, 20%, 10%, 5% in four ranges; no value: 30% among 200 renewals (enough to score by its own rate)
    n, k = [100, 100, 100, 100], [40, 20, 10, 5]
    scores, missing = scorecard.tier_scores(n, k, (200, 60), 20, 0.2)
    lo = [math.log(r / (1 - r)) for r in (0.4, 0.2, 0.1, 0.05)]
    expected = [round(100 * (lo[0] - v) / (lo[0] - lo[-1])) for v in lo]
    assert scores == expected and scores[0] == 0 and scores[-1] == 100
    assert missing == round(100 * (lo[0] - math.log(0.3 / 0.7)) / (lo[0] - lo[-1]))
    # too few without a value: they score like the base rate; a rate beyond the riskiest range clips at 0
    assert scorecard.tier_scores(n, k, (5, 4), 20, 0.2)[1] == round(100 * (lo[0] - math.log(0.2 / 0.8)) / (lo[0] - lo[-1]))
    assert scorecard.tier_scores(n, k, (200, 180), 20, 0.2)[1] == 0


def test_bands_by_hand():
    # 100 renewals scored 0..99 in the latest two of five time blocks (the earlier blocks are not used);
    # churn in the lowest scores: 10 churned with scores 0..9 and 2 churned at 60, 80
    score = np.r_[np.full(100, 50.0), np.arange(100, dtype=float)]
    churned = np.zeros(200, bool)
    churned[100:110] = True
    churned[[160, 180]] = True
    fold = np.r_[np.repeat([0, 1, 2], [34, 33, 33]), np.repeat([3, 4], 50)]
    fold[100:] = np.where(np.arange(100) % 2 == 0, 3, 4)  # both blocks hold low and high scores
    s = Scorecard(max_red_share=0.35, red_tolerance=0.0, green_churn_ratio=0.5, max_churned_green=0.5)
    bands, why, on = scorecard.choose_bands(score, churned, fold, s)
    assert on.sum() == 100 and not on[:100].any()
    # J(t) = recall - FPR: t=10 catches 10 of 12 with 0 false alarms, J = 0.833; higher t only adds false alarms
    assert bands.red == 10
    # green: churn at or above g <= 0.5 x 12% and the 95% upper bound of churned-green share <= 50%:
    # g = 11 holds 2 churned of 89 (2.2%) and 2 of 12 churned (Wilson upper 0.39)
    assert bands.green == 11
    assert "red below 10" in why
    # a tolerance makes the higher, equally good thresholds eligible: the one catching the most churn wins,
    # among those flagging at most 35% of each block
    wide = scorecard.choose_bands(score, churned, fold, s.model_copy(update={"red_tolerance": 0.2}))[0]
    sc, ch, fo = score[100:], churned[100:], fold[100:]
    j = lambda t: (ch & (sc < t)).sum() / 12 - (~ch & (sc < t)).sum() / 88  # noqa: E731
    cap = [t for t in range(1, 101) if all((sc[fo == b] < t).mean() <= 0.35 for b in (3, 4))]
    assert wide.red == max(t for t in cap if j(t) >= max(j(u) for u in cap) - 0.2)


# ---------------------------------------------------------------------------- the fitted document


def test_planted_drivers_become_measures_and_noise_does_not(fitted):
    _, _, doc = fitted
    by = {m["signal"]: m for m in doc["measures"]}
    assert set(by) == {"logins_per_active_user", "tickets_90d"}
    assert "feature_api_calls" in doc["excluded"] or any(n.startswith("feature_api_calls") for n in doc["notes"])
    assert by["logins_per_active_user"]["weight"] > by["tickets_90d"]["weight"]
    assert sum(m["weight"] for m in doc["measures"]) == pytest.approx(1.0)
    logins = by["logins_per_active_user"]
    assert len(logins["ranges"]) >= 4  # a smooth, dominant driver keeps its resolution: more than red/yellow/green
    assert logins["scores"] == sorted(logins["scores"]) and logins["scores"][0] == 0 and logins["scores"][-1] == 100
    tickets = by["tickets_90d"]["scores"]
    assert tickets == sorted(tickets, reverse=True)  # more tickets are riskier
    assert doc["components"] == {"usage": logins["weight"], "support": by["tickets_90d"]["weight"]}
    for m in doc["measures"]:  # each range's colour is the band its score falls in
        assert all(r["colour"] == scorecard.colour(r["score"], doc["bands"]) for r in m["ranges"])


def test_fit_evidence_recomputed_from_the_frame(fitted):
    _, split, doc = fitted
    for m in doc["measures"]:
        x = split.fit[m["signal"]].to_numpy()
        y = split.fit["churned"].to_numpy()
        lo = np.r_[-np.inf, m["cuts"]]
        hi = np.r_[m["cuts"], np.inf]
        for i in range(len(m["cuts"]) + 1):
            inside = (x > lo[i]) & (x <= hi[i])
            assert m["fit_evidence"]["renewals"][i] == inside.sum()
            assert m["fit_evidence"]["churn_rate"][i] == pytest.approx(y[inside].mean())
        rates = m["fit_evidence"]["churn_rate"]
        assert kstats.in_risk_order(rates, +1 if m["direction"] == "higher is healthier" else -1)
        assert min(m["fit_evidence"]["renewals"]) >= SETTINGS.min_tier_share * (~np.isnan(x)).sum()


def test_composite_is_the_weighted_sum_of_range_scores(fitted):
    frame, split, doc = fitted
    got = scorecard.points(doc, split.test)
    expected = np.zeros(split.test.height)
    for m in doc["measures"]:
        x = split.test[m["signal"]].to_numpy()
        s = np.array([_independent_range_score(v, m["cuts"], m["scores"], m["missing_score"]) for v in x])
        expected += m["weight"] * s
    assert got == pytest.approx(expected)


def _independent_range_score(v, cuts, scores, missing):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return missing
    for c, s in zip(cuts, scores):
        if v <= c:
            return s
    return scores[-1]


def test_out_of_time_auc_holds_against_the_yardsticks(fitted):
    from kit.analyses import yardsticks

    _, split, doc = fitted
    y = split.test["churned"].to_numpy()
    risk = -scorecard.points(doc, split.test)
    u = stats.mannwhitneyu(risk[y], risk[~y]).statistic
    auc = kstats.auc(risk, y)
    assert auc == pytest.approx(u / (y.sum() * (~y).sum()))
    ref = yardsticks.logistic(split.fit, split.test, doc["candidates"])
    best = max(yardsticks.single_signals(split.fit, split.test, doc["candidates"]), key=lambda r: r["auc_in_sample"])
    # churn here is smooth in logins (the logistic's own form): tiers trail it a little, and beat each signal alone
    assert auc > 0.7 and auc >= ref["auc_out_of_time"] - 0.03 and auc >= best["auc_out_of_time"]


def test_a_composite_that_loses_to_its_best_measure_becomes_that_measure():
    """A second measure whose effect turns round within the fit period: in-sample it earns weight, but refitted
    on earlier renewals and judged on later ones the composite ranks worse than the first measure alone."""
    rng = np.random.default_rng(4)
    n = 6000
    logins = rng.gamma(4, 0.6, n)
    days = np.sort(rng.integers(0, 730, n))
    tickets = rng.poisson(2, n).astype(float)
    flip = np.where(days < 300, 1.5, -1.5)  # tickets predict churn early on, and renewal later
    logit = -2.0 - 1.0 * (logins - logins.mean()) / logins.std() + flip * (tickets - 2) / 1.4
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pl.DataFrame({"renewal_date": [date(2024, 1, 1) + timedelta(days=int(d)) for d in days], "churned": churned,
                          "logins_per_active_user": logins, "tickets_90d": tickets})
    doc = scorecard.fit(frame, ["logins_per_active_user", "tickets_90d"], SETTINGS)
    cv = doc["cross_validated_auc"]
    assert cv["composite"] < cv["measures"]["logins_per_active_user"]
    assert doc["reduced_to_best_measure"] == "logins_per_active_user"
    assert [m["signal"] for m in doc["measures"]] == ["logins_per_active_user"] and doc["measures"][0]["weight"] == 1.0
    assert any(note.startswith("the weighted composite") for note in doc["notes"])


# ---------------------------------------------------------------------------- the exports, re-read and re-scored


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _gainsight_score(rows: list[dict], measure: str, v) -> float:
    """Score one value from a measure's Gainsight rows (one per range), as an admin would type the rules."""
    mine = [r for r in rows if r["measure"] == measure]
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return float(next(r for r in mine if r["no_value"] == "true")["score"])
    for row in mine:
        if row["no_value"] == "true":
            continue
        ok = True
        for part in row["range"].split(" and "):
            op, num = part.split(" ")
            ok &= {"<=": v <= float(num), ">": v > float(num)}[op]
        if ok:
            return float(row["score"])
    raise AssertionError(f"{v} falls in no range of {measure}")


def _churnzero_points(rows: list[dict], factor: str, v) -> float:
    """Points a value earns on ChurnZero's grid: bottom exclusive, top inclusive."""
    missing = v is None or (isinstance(v, float) and math.isnan(v))
    for r in (r for r in rows if r["factor"] == factor):
        if r["no_value"] == "true":
            if missing:
                return float(r["points"])
            continue
        if missing:
            continue
        lo = float(r["range_from_exclusive"]) if r["range_from_exclusive"] else -math.inf
        hi = float(r["range_to_inclusive"]) if r["range_to_inclusive"] else math.inf
        if lo < v <= hi:
            return float(r["points"])
    raise AssertionError(f"{v} earns nothing for {factor}")


def test_exported_tables_rescore_exactly_like_the_kit(fitted, tmp_path):
    frame, _, doc = fitted
    doc = {**doc, "cut": "2025-05-01"}
    scorecard.write(doc, tmp_path)
    read = scorecard.read(tmp_path)
    rows = _read_csv(tmp_path / "scorecard_gainsight.csv")
    gs = {r["measure"]: r for r in rows}
    assert len(rows) == sum(len(m["ranges"]) + 1 for m in read["measures"])  # one row per measure and range, and no value
    cz = _read_csv(tmp_path / "scorecard_churnzero.csv")
    assert sum(int(r["weight_percent"]) for r in gs.values()) == 100
    assert sum(max(float(r["points"]) for r in cz if r["factor"] == f) for f in gs) == pytest.approx(100)
    # values on every cut, just around them, and without a value
    probe = frame.head(500)
    for m in read["measures"]:
        extra = [c + d for c in m["cuts"] for d in (-1e-9, 0.0, 1e-9)] + [None]
        probe = pl.concat([probe, pl.DataFrame({m["signal"]: extra}, schema={m["signal"]: pl.Float64})], how="diagonal_relaxed")
    kit_scores = scorecard.points(read, probe)
    for i, row in enumerate(probe.iter_rows(named=True)):
        gainsight = sum(int(gs[s]["weight_percent"]) / 100 * _gainsight_score(rows, s, row[s]) for s in gs)
        churnzero = sum(_churnzero_points(cz, s, row[s]) for s in gs)
        assert kit_scores[i] == pytest.approx(gainsight) == pytest.approx(churnzero)


def test_the_parameters_block_scores_like_the_document(fitted, tmp_path):
    import yaml

    frame, _, doc = fitted
    block = yaml.safe_load(scorecard.yaml_block({**doc, "cut": "2025-05-01"}))
    p = params.from_dict({"client": "acme", "name": "Acme", "sources": {"accounts": {"path": "a.csv"}}, **block})
    sig = frame.head(300).with_columns(pl.lit(date(2025, 1, 1)).alias("as_of"))
    from_params = scoring.composite(scoring.components(sig, p.score), p.score)["score"].to_numpy()
    assert from_params == pytest.approx(scorecard.points(doc, sig))
    assert (p.score.bands.red, p.score.bands.green) == (doc["bands"]["red"], doc["bands"]["green"])


# ---------------------------------------------------------------------------- the time split


def test_split_keeps_the_latest_third_out():
    frame = planted(900, seed=2)
    s = split_of(frame)
    assert s.fit["renewal_date"].max() < s.cut <= s.test["renewal_date"].min()
    assert s.fit.height + s.test.height == frame.height
    assert s.test.height == pytest.approx(frame.height / 3, abs=frame.filter(pl.col("renewal_date") == s.cut).height + 1)
    fold = timesplit.folds(s.fit["renewal_date"], 5)  # time blocks inside the fit: in date order, about equal
    assert (np.diff(fold[np.argsort(s.fit["renewal_date"].to_numpy(), kind="stable")]) >= 0).all()
    assert np.bincount(fold).min() >= s.fit.height // 5 - 10


def test_nothing_after_the_cut_changes_the_fit():
    """Scramble every renewal on or after the cut (outcomes and signals): the scorecard fitted before it is identical,
    while the figures after the cut do change (so the scrambling reached what it should)."""
    frame = planted()
    split = split_of(frame)
    rng = np.random.default_rng(1)
    after = pl.col("renewal_date") >= split.cut
    scrambled = frame.with_columns(
        pl.when(after).then(~pl.col("churned")).otherwise(pl.col("churned")).alias("churned"),
        *[pl.when(after).then(pl.Series(rng.permutation(frame[c].to_numpy()))).otherwise(pl.col(c)).alias(c) for c in NAMES],
    )
    split2 = split_of(scrambled)
    assert split2.cut == split.cut
    a = scorecard.fit(split.fit, NAMES, SETTINGS)
    b = scorecard.fit(split2.fit, NAMES, SETTINGS)
    assert a == b
    ya, yb = split.test["churned"].to_numpy(), split2.test["churned"].to_numpy()
    assert kstats.auc(-scorecard.points(a, split.test), ya) != kstats.auc(-scorecard.points(b, split2.test), yb)


def test_the_methodology_page_shows_each_measures_share_of_the_whole_score(demo_params):
    """signal_weights are relative inside a component: {1, 3} in a component weighing 40% are 10% and 30% of
    the score (the page once printed them raw, as 100% and 300%)."""
    from kit.publish import methodology

    tiers = {"cuts": [1.0, 2.0], "scores": [0, 50, 100]}
    usage = params.Component(weight=0.4, signals=["logins_per_active_user", "active_users_per_seat"], transform="tiers",
                             tiers={"logins_per_active_user": tiers, "active_users_per_seat": tiers},
                             signal_weights={"logins_per_active_user": 1, "active_users_per_seat": 3})
    support = params.Component(weight=0.6, signals=["tickets_90d"])
    p = demo_params.model_copy(update={"score": demo_params.score.model_copy(update={"components": {"usage": usage, "support": support}})})
    page = methodology._components(p)
    section = page[page.index("### Usage"):page.index("### Support")]
    assert "10%" in section and "30%" in section and "100%" not in section and "300%" not in section
