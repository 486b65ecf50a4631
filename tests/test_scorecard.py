"""The proposed scorecard: every step recomputed independently (by hand, scipy, statsmodels' twin, a second
scorer reading the exported CSVs), planted drivers recovered, and a time split that nothing after the cut crosses."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from scipy import optimize, stats

from kit import params
from kit.analyses import scorecard, health_score, split as timesplit, stats as kstats
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
    got = x.select(health_score.tier_score(pl.col("x"), rule).alias("x"))["x"].to_list()
    assert got == [0, 0, 40, 40, 100, 50]  # a value on a cut belongs to the lower range; no value scores `missing`
    no_missing = params.Tiers(cuts=[1, 3], scores=[0, 40, 100])
    assert x.select(health_score.tier_score(pl.col("x"), no_missing).alias("x"))["x"][-1] is None
    nan = pl.DataFrame({"x": [float("nan")]})
    assert nan.select(health_score.tier_score(pl.col("x"), rule).alias("x"))["x"][0] == 50  # NaN is no value either


def test_signal_weights_inside_a_component_by_hand():
    comp = params.Component(weight=1.0, signals=["a_s", "b_s"], transform="tiers",
                            tiers={"a_s": {"cuts": [0], "scores": [0, 100]}, "b_s": {"cuts": [0], "scores": [0, 100], "missing": 20}},
                            signal_weights={"a_s": 0.75, "b_s": 0.25})
    cfg = params.Score.model_construct(components={"usage": comp}, bands=Bands(), at_risk_weeks=2, trend_days=30)
    sig = pl.DataFrame({"account_id": ["x", "y", "z"], "as_of": [date(2026, 1, 1)] * 3,
                        "a_s": [1.0, -1.0, None], "b_s": [-1.0, None, 1.0]})
    out = health_score.composite(health_score.components(sig, cfg), cfg)["score"].to_list()
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


def test_weights_match_an_independent_penalised_maximum_likelihood():
    """Weights = the coefficients of churn on the range scores, penalised by weight_penalty / 2 x |b|^2, normalised:
    recomputed with scipy's BFGS on the penalised likelihood written out here (the optimum is interior: every effect
    points the healthy way), and without a penalty equal to plain maximum likelihood."""
    rng = np.random.default_rng(5)
    X = rng.integers(0, 3, (3000, 3)) / 2.0
    y = (rng.random(3000) < 1 / (1 + np.exp(-(-0.5 - 1.5 * X[:, 0] - 0.7 * X[:, 1] - 0.3 * X[:, 2])))).astype(float)

    def coefficients(penalty):
        def objective(beta):
            z = beta[0] + X @ beta[1:]
            return float(np.sum(np.logaddexp(0, z) - y * z) + penalty / 2 * beta[1:] @ beta[1:])

        return optimize.minimize(objective, np.zeros(4), method="BFGS", options={"gtol": 1e-8}).x[1:]

    for penalty in (0.0, 1.0, 50.0):
        expected = scorecard.percents({f"m{i}": -b for i, b in enumerate(coefficients(penalty))})
        got, notes = scorecard.choose_weights(X, y, ["m0", "m1", "m2"], Scorecard(min_weight=0, weight_penalty=penalty))
        assert got == expected and not notes, penalty
    # the penalty pulls the coefficients towards 0, the weakest furthest in proportion: the weights even out
    assert -coefficients(50.0)[2] / -coefficients(50.0)[0] > -coefficients(0.0)[2] / -coefficients(0.0)[0]


def test_a_measure_going_the_wrong_way_jointly_is_dropped():
    rng = np.random.default_rng(9)
    X = rng.integers(0, 3, (3000, 2)) / 2.0
    y = (rng.random(3000) < 1 / (1 + np.exp(-(-1 - 1.5 * X[:, 0] + 1.0 * X[:, 1])))).astype(float)  # m1: points raise churn
    got, notes = scorecard.choose_weights(X, y, ["m0", "m1"], Scorecard())
    assert got == {"m0": 100} and "m1: dropped" in notes[0]


def test_range_scores_are_log_odds_on_0_to_100_by_hand():
    lo = [math.log(r / (1 - r)) for r in (0.4, 0.2, 0.1, 0.05)]  # four ranges' churn log-odds
    scores, missing = scorecard.tier_scores(lo, (200, 60), 20, 0.2)  # no value: 30% among 200 (enough for its own rate)
    expected = [round(100 * (lo[0] - v) / (lo[0] - lo[-1])) for v in lo]
    assert scores == expected and scores[0] == 0 and scores[-1] == 100
    assert missing == round(100 * (lo[0] - math.log(0.3 / 0.7)) / (lo[0] - lo[-1]))
    # too few without a value: they score like the base rate; a rate beyond the riskiest range clips at 0
    assert scorecard.tier_scores(lo, (5, 4), 20, 0.2)[1] == round(100 * (lo[0] - math.log(0.2 / 0.8)) / (lo[0] - lo[-1]))
    assert scorecard.tier_scores(lo, (200, 180), 20, 0.2)[1] == 0


def test_range_log_odds_by_empirical_bayes_recomputed():
    """Each range's own log-odds pulled towards the curve of a logistic regression on normal scores (statsmodels here,
    a bounded L-BFGS in the kit), by the weight the method of moments gives: recomputed step by step."""
    import statsmodels.api as sm
    from scipy.stats import norm

    rng = np.random.default_rng(8)
    x = rng.gamma(3, 1, 3000)
    y = (rng.random(3000) < 1 / (1 + np.exp(1.0 + 0.6 * (x - 3) + 0.8 * (x > 5)))).astype(float)  # a step at 5
    cuts = [1.5, 2.5, 3.5, 5.0, 6.5]
    got = kstats.range_logodds(x, y, cuts, +1)
    idx = np.searchsorted(cuts, x, side="left")
    n = np.bincount(idx).astype(float)
    k = np.bincount(idx, weights=y)
    p = (k + 0.5) / (n + 1)
    own, var = np.log(p / (1 - p)), 1 / (n * p * (1 - p))
    z = norm.ppf((stats.rankdata(x) - 0.5) / len(x))
    fit = sm.Logit(y, sm.add_constant(z)).fit(disp=0)
    assert fit.params[1] < 0  # churn falls as values rise: the healthy way, so the bound is not active
    curve = np.array([(fit.params[0] + fit.params[1] * z[idx == i]).mean() for i in range(len(n))])
    tau2 = max(0.0, np.mean((own - curve) ** 2) - np.mean(var))
    w = tau2 / (tau2 + var)
    expected = w * own + (1 - w) * curve
    assert np.all(np.diff(expected) < 0)  # already monotone here: no pooling to redo
    assert got == pytest.approx(expected, abs=2e-5)
    assert 0 < w.min() and w.max() < 1  # between the two: the step makes the ranges spread beyond their noise


def test_range_log_odds_follow_the_curve_when_the_ranges_only_add_noise_and_the_data_when_they_step():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, 4000)
    cuts = list(np.quantile(x, np.linspace(0.1, 0.9, 9)))
    smooth = (rng.random(4000) < 1 / (1 + np.exp(2 + 0.8 * x))).astype(float)
    step = (rng.random(4000) < np.where(x > 0.5, 0.03, 0.3)).astype(float)
    idx = np.searchsorted(cuts, x, side="left")

    def own(y):
        n, k = np.bincount(idx).astype(float), np.bincount(idx, weights=y)
        return np.log((k + 0.5) / (n - k + 0.5))

    truth = np.array([np.mean(-2 - 0.8 * x[idx == i]) for i in range(10)])
    eb = kstats.range_logodds(x, smooth, cuts, +1)
    assert np.abs(eb - truth).mean() < np.abs(own(smooth) - truth).mean()  # steadier than each range on its own
    stepped = kstats.range_logodds(x, step, cuts, +1)
    jump = stepped[np.searchsorted(cuts, 0.5)] - stepped[np.searchsorted(cuts, 0.5) + 1]
    assert jump > 1.5  # log(0.3/0.7) - log(0.03/0.97) = 2.6: the step survives, the curve alone would spread it out


def test_isotonic_by_hand():
    assert kstats.isotonic(np.array([3.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0]), decreasing=False) == pytest.approx([2.0, 2.0, 2.0])
    assert kstats.isotonic(np.array([1.0, 3.0, 2.0, 4.0]), np.array([1.0, 1.0, 3.0, 1.0]), decreasing=False) == pytest.approx(
        [1.0, 2.25, 2.25, 4.0])
    assert kstats.isotonic(np.array([1.0, 3.0, 2.0]), np.array([1.0, 1.0, 1.0]), decreasing=True) == pytest.approx([2.0, 2.0, 2.0])


def _wilson_upper(k, n, z=1.6448536269514722):
    """Wilson's one-sided upper bound, written out from the formula."""
    p = k / n
    return min(1.0, (p + z * z / (2 * n) + z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n))


def _bands_by_rule(score, churned, block, s, unseen=None):
    """The band rule (method step 7) written out plainly: shares from `score`, churn held from `unseen` at equal shares,
    every aim for a group to come as large as these (Wilson on half the evidence)."""
    unseen = score if unseen is None else unseen
    n, n_c = len(score), int(churned.sum())
    future_up = lambda k, m: _wilson_upper(k / 2, m / 2)  # noqa: E731
    future_lo = lambda k, m: 1 - _wilson_upper((m - k) / 2, m / 2)  # noqa: E731
    riskiest = churned[np.argsort(unseen, kind="stable")]
    healthiest = churned[np.argsort(-unseen, kind="stable")]
    caught = lambda t: int(riskiest[: int((score < t).sum())].sum())  # noqa: E731
    sweep = []
    for t in range(1, 101):
        if any((score[block == b] < t).mean() > s.max_red_share for b in np.unique(block)) or future_up((score < t).sum(), n) > s.max_red_share:
            break
        sweep.append((t, caught(t) / n_c - ((score < t).sum() - caught(t)) / (n - n_c)))
    best = max(j for _, j in sweep)
    red = max(t for t, j in sweep if j >= best - s.red_tolerance)
    reach = [t for t, _ in sweep if future_lo(caught(t), n_c) >= s.min_red_recall]
    red = max(red, min(reach)) if reach else max(t for t, _ in sweep)
    for g in range(red + 1, 101):
        m = int((score >= g).sum())
        k = int(healthiest[:m].sum())
        if m and k / m <= s.green_churn_ratio * n_c / n and future_up(k, n_c) <= s.max_churned_green:
            return red, g
    return red, None


def _planted_band_case(seed=11, n=1200):
    rng = np.random.default_rng(seed)
    score = np.round(rng.uniform(0, 100, n), 1)
    churned = rng.random(n) < 1 / (1 + np.exp(-(-0.5 - 0.05 * (score - 30))))  # churn falls as the score rises
    block = np.sort(rng.integers(0, 5, n))
    return score, churned, block


def test_bands_follow_the_rule_written_out():
    """Red and green on the latest blocks, recomputed by a plain implementation of the rule (and one with the churn
    taken from other, noisier scores at the same shares); the renewals of earlier blocks are not used."""
    score, churned, block = _planted_band_case()
    s = Scorecard(band_blocks=2)
    latest = block >= 3
    bands, why, on = scorecard.choose_bands(score, churned, block, s)
    assert (on == latest).all()
    assert (bands.red, bands.green) == _bands_by_rule(score[latest], churned[latest], block[latest], s)
    noisy = score + np.random.default_rng(3).normal(0, 25, len(score))  # what a card gives renewals it has not seen
    honest = scorecard.choose_bands(score, churned, block, s, unseen=noisy)[0]
    assert (honest.red, honest.green) == _bands_by_rule(score[latest], churned[latest], block[latest], s, noisy[latest])
    assert honest.green > bands.green  # churn is held less tightly by noisier scores: green starts higher
    assert f"red below {bands.red:g}" in why and f"green from {bands.green:g}" in why


def test_red_moves_up_to_catch_the_churn_it_aims_at_and_says_when_it_cannot():
    """Churn steep at the lowest scores: the best trade-off (Youden's J) flags few, so red moves up until, for renewals
    to come, it catches the recall it aims at; asked for more than the red share allows, it says recall gives way."""
    rng = np.random.default_rng(11)
    score = np.round(rng.uniform(0, 100, 1200), 1)
    churned = rng.random(1200) < 1 / (1 + np.exp(-(2.0 - 0.2 * score)))
    block = np.sort(rng.integers(0, 5, 1200))
    latest = block >= 3
    relaxed = scorecard.choose_bands(score, churned, block, Scorecard(band_blocks=2, min_red_recall=0.0))[0]
    aimed = scorecard.choose_bands(score, churned, block, Scorecard(band_blocks=2, min_red_recall=0.9))
    assert aimed[0].red > relaxed.red and "moves up" in aimed[1]
    n_c = churned[latest].sum()
    caught = lambda t: (churned[latest] & (score[latest] < t)).sum()  # noqa: E731
    future_recall = lambda t: 1 - _wilson_upper((n_c - caught(t)) / 2, n_c / 2)  # noqa: E731
    assert future_recall(aimed[0].red) >= 0.9 > future_recall(aimed[0].red - 1)  # the lowest that does
    short = scorecard.choose_bands(score, churned, block, Scorecard(band_blocks=2, min_red_recall=0.99, max_red_share=0.1))
    assert (score[latest] < short[0].red).mean() <= 0.1 and "recall gives way" in short[1]


def test_a_card_whose_top_score_holds_too_much_churn_has_no_green():
    """Half the renewals at 100 (the healthiest range of every measure) and a fifth of the churn among them: no threshold
    keeps churned renewals in green to 10%, not even the top score, so green is given up (101: nothing is green)."""
    rng = np.random.default_rng(2)
    score = np.where(rng.random(2000) < 0.5, 100.0, np.round(rng.uniform(0, 99, 2000)))
    churned = np.where(score == 100, rng.random(2000) < 0.05, rng.random(2000) < 0.2)
    bands, why, _ = scorecard.choose_bands(score, churned, np.repeat([3, 4], 1000), Scorecard(band_blocks=2))
    assert bands.green == scorecard.NO_GREEN and "no green" in why
    assert scorecard.colour(100, {"red": bands.red, "green": bands.green}) == "yellow"
    assert scorecard.bands_text({"red": bands.red, "green": bands.green}).endswith("no green (the scores single out no healthy group)")


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


def test_exported_tables_rescore_exactly_like_the_kit(fitted, tmp_path):
    from tests.support import platform_scorer

    frame, _, doc = fitted
    doc = {**doc, "cut": "2025-05-01"}
    scorecard.write(doc, tmp_path)
    read = scorecard.read(tmp_path)
    rows = platform_scorer.read(tmp_path / "scorecard_gainsight.csv")
    gs = {r["measure"]: r for r in rows}
    assert len(rows) == sum(len(m["ranges"]) + 1 for m in read["measures"])  # one row per measure and range, and no value
    cz = platform_scorer.read(tmp_path / "scorecard_churnzero.csv")
    assert sum(int(r["weight_percent"]) for r in gs.values()) == 100
    assert sum(max(float(r["points"]) for r in cz if r["factor"] == f) for f in gs) == pytest.approx(100)
    assert {r["applies_to"] for r in rows} == {"every account"}  # no segment card: one scorecard for all
    # values on every cut, just around them, and without a value
    probe = frame.head(500)
    for m in read["measures"]:
        extra = [c + d for c in m["cuts"] for d in (-1e-9, 0.0, 1e-9)] + [None]
        probe = pl.concat([probe, pl.DataFrame({m["signal"]: extra}, schema={m["signal"]: pl.Float64})], how="diagonal_relaxed")
    kit_scores = scorecard.points(read, probe)
    for i, row in enumerate(probe.iter_rows(named=True)):
        assert kit_scores[i] == pytest.approx(platform_scorer.gainsight_score(rows, row)) == pytest.approx(
            platform_scorer.churnzero_score(cz, row))


def test_the_parameters_block_scores_like_the_document(fitted, tmp_path):
    import yaml

    frame, _, doc = fitted
    block = yaml.safe_load(scorecard.yaml_block({**doc, "cut": "2025-05-01"}))
    p = params.from_dict({"client": "acme", "name": "Acme", "sources": {"accounts": {"path": "a.csv"}}, **block})
    sig = frame.head(300).with_columns(pl.lit(date(2025, 1, 1)).alias("as_of"))
    from_params = health_score.composite(health_score.components(sig, p.score), p.score)["score"].to_numpy()
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


# ---------------------------------------------------------------------------- segment cards


def _card(red, green, cuts, scores, signal="logins_per_active_user"):
    return params.Card(components={"usage": params.Component(weight=1.0, signals=[signal], transform="tiers",
                                                             tiers={signal: {"cuts": cuts, "scores": scores, "missing": 50}})},
                       bands=Bands(red=red, green=green))


def test_every_account_is_scored_by_its_segments_card_by_hand():
    """The resolver: SMB accounts by the SMB card (with its bands), the others by the overall card; rows keep their
    order, and each carries the bands of the card that scored it."""
    overall = _card(40, 70, [1.0], [0, 100])
    smb = _card(30, 60, [2.0, 3.0], [0, 50, 100])
    cfg = params.Score(components=overall.components, bands=overall.bands, segments={"SMB": smb})
    sig = pl.DataFrame({"account_id": list("abcde"), "as_of": [date(2026, 1, 1)] * 5, "segment": ["SMB", "ENT", "SMB", None, "SMB"],
                        "logins_per_active_user": [2.5, 2.5, 0.5, 0.5, None]})
    out = health_score.resolved(sig, cfg)
    assert out["account_id"].to_list() == list("abcde")
    assert out["score"].to_list() == [50, 100, 0, 0, 50]  # a: SMB range (2, 3]; b: overall > 1; c: SMB <= 2; d: overall <= 1
    assert out["card"].to_list() == ["SMB", "default", "SMB", "default", "SMB"]
    assert out["red"].to_list() == [30, 40, 30, 40, 30] and out["green"].to_list() == [60, 70, 60, 70, 60]
    assert out["band"].to_list() == ["yellow", "green", "red", "red", "yellow"]
    plain = health_score.resolved(sig, params.Score(components=overall.components, bands=overall.bands))
    assert "card" not in plain.columns and plain["score"].to_list() == [100, 100, 0, 0, 50]


def test_the_back_test_judges_each_score_on_its_own_cards_bands():
    """Two accounts with the same lead-time score 50, one on a card whose red is 60, one whose red is 40: the first is
    red (and at risk from its second week below 60), the second yellow."""
    from kit.analyses import backtest

    r = date(2026, 6, 1)
    rows = [(a, r - timedelta(days=7 * k), 50.0, red, 80.0) for a, red in (("x", 60.0), ("y", 40.0)) for k in range(0, 8)]
    scores = pl.DataFrame(rows, schema={"account_id": pl.String, "date": pl.Date, "score": pl.Float64, "red": pl.Float64,
                                        "green": pl.Float64}, orient="row")
    renewals = pl.DataFrame({"account_id": ["x", "y"], "renewal_date": [r, r], "churned": [True, False], "arr_before": [1.0, 1.0]})
    s = backtest.Settings(red=45, green=75, at_risk_weeks=2, lead_time_days=14, window_start_days=49, window_end_days=0, by_row=True)
    t = {row["account_id"]: row for row in backtest.renewal_table(scores, renewals, s).to_dicts()}
    assert t["x"]["lead_band"] == "red" and t["y"]["lead_band"] == "yellow"
    assert t["x"]["first_flag"] == r - timedelta(days=42) and t["y"]["first_flag"] is None  # x below 60 from week 7 on
    flat = backtest.renewal_table(scores.drop("red", "green"), renewals, backtest.Settings(red=45, green=75, at_risk_weeks=2,
                                                                                        lead_time_days=14, window_start_days=49, window_end_days=0))
    assert flat["lead_band"].to_list() == ["yellow", "yellow"]  # one red threshold (45) for both
