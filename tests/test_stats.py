"""kit.analyses.stats, the one home of the statistics: each figure recomputed by a second library (scipy,
statsmodels, optbinning) or by brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from kit.analyses import stats


# ---------------------------------------------------------------------------- ranking


def test_auc_matches_mann_whitney_with_ties():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, 400).astype(float)  # many ties
    y = rng.random(400) < 0.3
    u = sps.mannwhitneyu(x[y], x[~y]).statistic
    assert stats.auc(x, y) == pytest.approx(u / (y.sum() * (~y).sum()), abs=1e-12)
    assert stats.auc(np.r_[x, np.nan], np.r_[y, True]) == pytest.approx(stats.auc(x, y))  # no value: left out
    assert math.isnan(stats.auc(x, np.zeros(400, bool))) and stats.auc_or_none(x, np.ones(400, bool)) is None


def test_rank_p_value_is_scipys_one_sided_test():
    rng = np.random.default_rng(2)
    x = rng.normal(size=300)
    y = rng.random(300) < 1 / (1 + np.exp(1.5 - 0.6 * x))
    assert stats.rank_p_value(x, y) == pytest.approx(sps.mannwhitneyu(x[y], x[~y], alternative="greater").pvalue, rel=1e-9)
    assert stats.rank_p_value(x, y) < 0.05 < stats.rank_p_value(-x, y)  # one-sided: the wrong way is not significant


def test_delong_matches_its_definition_and_a_paired_bootstrap():
    """The variance of the AUC difference: DeLong's placement values computed by double loops, and a paired
    bootstrap over cases."""
    rng = np.random.default_rng(7)
    n = 240
    y = rng.random(n) < 0.3
    a = y * 0.8 + rng.normal(size=n)
    b = y * 0.5 + rng.normal(size=n) + 0.3 * a
    auc_a, auc_b, se = stats.delong(a, b, y)
    assert auc_a == pytest.approx(stats.auc(a, y)) and auc_b == pytest.approx(stats.auc(b, y))

    def placements(r):
        pos, neg = r[y], r[~y]
        psi = lambda p, q: 1.0 if p > q else 0.5 if p == q else 0.0  # noqa: E731
        v10 = np.array([np.mean([psi(p, q) for q in neg]) for p in pos])
        v01 = np.array([np.mean([psi(p, q) for p in pos]) for q in neg])
        return v10, v01

    (a10, a01), (b10, b01) = placements(a), placements(b)
    var = (np.var(a10 - b10, ddof=1) / len(a10)) + (np.var(a01 - b01, ddof=1) / len(a01))
    assert se == pytest.approx(math.sqrt(var), rel=1e-9)
    diffs = []
    for _ in range(400):
        i = rng.integers(0, n, n)
        if y[i].all() or not y[i].any():
            continue
        diffs.append(stats.auc(a[i], y[i]) - stats.auc(b[i], y[i]))
    assert se == pytest.approx(np.std(diffs, ddof=1), rel=0.2)
    assert stats.delong(a, a, y)[2] == 0


# ---------------------------------------------------------------------------- proportions and regression


def test_wilson_bound_matches_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    for k, n in ((0, 50), (3, 40), (12, 100), (99, 100)):
        assert stats.wilson_upper(k, n) == pytest.approx(proportion_confint(k, n, alpha=0.10, method="wilson")[1])
    assert stats.wilson_upper(0, 0) == 1.0


def test_future_bounds_are_wilson_on_half_the_evidence():
    """The share a future group of n will show: the estimate's and the new group's sampling variances add up, which
    Wilson's bound on n/2 (statsmodels here) approximates; a simulation checks it holds about 95% of the time."""
    from statsmodels.stats.proportion import proportion_confint

    for k, n in ((3, 40), (12, 100), (30, 300)):
        assert stats.future_upper(k, n) == pytest.approx(proportion_confint(k / 2, n / 2, alpha=0.10, method="wilson")[1])
        assert stats.future_lower(k, n) == pytest.approx(proportion_confint(k / 2, n / 2, alpha=0.10, method="wilson")[0])
        assert stats.future_upper(k, n) > stats.wilson_upper(k, n)  # wider than the bound on the share itself
    rng = np.random.default_rng(4)
    now, later = rng.binomial(200, 0.1, 20000), rng.binomial(200, 0.1, 20000)
    held = np.mean([later[i] / 200 <= stats.future_upper(now[i], 200) for i in range(20000)])
    assert 0.93 <= held <= 0.985, held


def test_paired_gain_is_delong_within_blocks_weighted_by_their_renewals():
    """Per block: DeLong's AUCs and the variance of their difference; across blocks: means weighted by the blocks'
    renewals, variances by the squared weights; rows without a score and blocks of one class are left out."""
    rng = np.random.default_rng(8)
    n = 900
    y = rng.random(n) < 0.2
    a = y * 1.0 + rng.normal(size=n)
    b = y * 0.6 + rng.normal(size=n)
    block = np.repeat([0, 1, 2], 300)
    a[block == 0] = np.nan  # the first block is never scored by a cross-validation
    y2 = y.copy()
    got = stats.paired_gain(-a, -b, y, block)
    rows = [(stats.delong(-a[block == v], -b[block == v], y[block == v]), (block == v).sum()) for v in (1, 2)]
    w = np.array([m for _, m in rows], dtype=float) / sum(m for _, m in rows)
    expected_a = sum(wi * r[0] for wi, (r, _) in zip(w, rows))
    expected_b = sum(wi * r[1] for wi, (r, _) in zip(w, rows))
    se = math.sqrt(sum((wi * r[2]) ** 2 for wi, (r, _) in zip(w, rows)))
    assert got == pytest.approx((expected_a, expected_b, expected_a - expected_b, se))
    y2[block == 2] = False  # a block without churn counts for nothing
    assert stats.paired_gain(-a, -b, y2, block)[0] == pytest.approx(stats.delong(-a[block == 1], -b[block == 1], y[block == 1])[0])
    assert all(math.isnan(v) for v in stats.paired_gain(-a, -b, np.zeros(n, bool), block))


def test_non_negative_penalised_logistic_meets_its_optimality_conditions():
    """b >= 0, the gradient of the penalised objective zero where b > 0 and pointing outward (non-negative) where b = 0:
    a column whose points go with more churn gets no weight, the others their penalised fit."""
    rng = np.random.default_rng(6)
    X = rng.random((2000, 3))
    y = (rng.random(2000) < 1 / (1 + np.exp(-(-1.0 - 2.0 * X[:, 0] - 0.7 * X[:, 1] + 1.2 * X[:, 2])))).astype(float)
    for penalty in (0.0, 3.0):
        a, b = stats.logistic_nonneg(y, X, penalty)
        z = a - X @ b
        r = 1 / (1 + np.exp(-z)) - y
        grad_b = -(X.T @ r) + penalty * b
        assert abs(r.sum()) < 1e-4 and b[2] == 0.0 and b[0] > b[1] > 0
        assert np.all(np.abs(grad_b[b > 0]) < 1e-4) and grad_b[2] >= -1e-6


def test_point_biserial_matches_scipy():
    rng = np.random.default_rng(3)
    x = rng.normal(size=500)
    y = (rng.random(500) < 0.2).astype(float)
    assert stats.point_biserial(x, y) == pytest.approx(sps.pointbiserialr(y.astype(bool), x)[0], abs=1e-12)


def test_univariate_odds_ratio_of_a_two_by_two_table_by_hand():
    # x 0/1, churn: 10/40 when x = 0, 4/46 when x = 1: OR = (4/46) / (10/40) per unit
    x = np.r_[np.zeros(50), np.ones(50)]
    y = np.r_[np.ones(10), np.zeros(40), np.ones(4), np.zeros(46)]
    out = stats.univariate(x, y, +1)
    per_unit = (4 / 46) / (10 / 40)
    assert out["odds_ratio"] == pytest.approx(per_unit ** x.std(ddof=1), rel=1e-6)  # per standard deviation
    se = math.sqrt(1 / 10 + 1 / 40 + 1 / 4 + 1 / 46) * x.std(ddof=1)
    assert out["odds_ratio_ci"][0] == pytest.approx(math.exp(math.log(out["odds_ratio"]) - stats.Z95 * se), rel=1e-6)


# ---------------------------------------------------------------------------- binning


def test_log_likelihood_matches_scipy():
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.2).astype(float)
    x = rng.normal(size=300)
    n, k = stats.range_counts(x, y, [-0.5, 0.7])
    idx = np.searchsorted([-0.5, 0.7], x, side="left")
    expected = sum(sps.bernoulli.logpmf(y[idx == r], y[idx == r].mean()).sum() for r in range(3))
    assert stats.loglik(k, n) == pytest.approx(expected)


def _iv(groups, events, non_events):
    """Information value of a split, by hand: sum of (share of retained - share of churned) x log of their ratio,
    each count smoothed by half a renewal."""
    total = 0.0
    for g in groups:
        good, bad = (len(g) - g.sum() + 0.5) / (non_events + 0.5), (g.sum() + 0.5) / (events + 0.5)
        total += (good - bad) * math.log(good / bad)
    return total


def _brute(x, y, direction, tiers, min_count, candidates, objective="loglik"):
    """Every choice of tiers - 1 candidate cuts, scored by hand (scipy for the likelihood): the best admissible
    one's objective (or None)."""
    best = None
    for cuts in itertools.combinations(candidates, tiers - 1):
        idx = np.searchsorted(cuts, x, side="left")
        groups = [y[idx == r] for r in range(tiers)]
        if min(len(g) for g in groups) < min_count:
            continue
        rates = [g.mean() for g in groups]
        ordered = all(a > b for a, b in zip(rates, rates[1:])) if direction > 0 else all(a < b for a, b in zip(rates, rates[1:]))
        if not ordered:
            continue
        ll = sum(sps.bernoulli.logpmf(g, g.mean()).sum() for g in groups) if objective == "loglik" else _iv(groups, y.sum(), len(y) - y.sum())
        if best is None or ll > best + 1e-9:
            best = ll
    return best


def test_tier_optimum_equals_brute_force_on_small_cases():
    """The dynamic programme against every admissible partition of the same candidate cuts: 150 random cases,
    both directions, ties, sizes, 1 to 10 tiers, for both objectives (information value, the scorecard's, and
    log-likelihood)."""
    rng = np.random.default_rng(11)
    checked = deep = 0
    for case in range(150):
        objective = "iv" if case % 2 else "loglik"
        n = int(rng.integers(25, 260))
        x = np.round(rng.normal(size=n) * rng.choice([1, 4]), int(rng.integers(0, 2)))
        d = int(rng.choice([-1, 1]))
        y = (rng.random(n) < 1 / (1 + np.exp(d * x * rng.uniform(0, 3.0) + 1))).astype(float)
        cand = stats.prebin_cuts(x, 12)
        min_count = int(rng.integers(1, 12))
        path = stats.tier_path(x, y, d, 10, min_count, cand, objective)
        for t in range(1, 11):
            expected = _brute(x, y, d, t, min_count, cand, objective)
            if expected is None:
                assert t not in path
            else:
                got = path[t].loglik if objective == "loglik" else path[t].iv
                assert got == pytest.approx(expected, abs=1e-7)
                n_t, k_t = stats.range_counts(x, y, path[t].cuts)  # the cuts it returns give that figure
                again = stats.loglik(k_t, n_t) if objective == "loglik" else stats.information_value(k_t, n_t, y.sum(), len(y) - y.sum()).sum()
                assert again == pytest.approx(expected, abs=1e-7) and n_t.min() >= min_count
                assert stats.in_risk_order(k_t / n_t, d)
                checked += 1
                deep += t > 5
    assert checked > 500 and deep > 30  # tiers 6 to 10 were reached, and checked, in many cases


def test_three_obvious_groups_by_hand():
    # values 1, 2, 3 with churn 50%, 20%, 5%: the best three tiers are the three values
    x = np.repeat([1.0, 2.0, 3.0], 100)
    y = np.concatenate([np.r_[np.ones(50), np.zeros(50)], np.r_[np.ones(20), np.zeros(80)], np.r_[np.ones(5), np.zeros(95)]])
    fit = stats.best_tiers(x, y, +1, 3, 15)
    assert fit.cuts == [1.0, 2.0] and fit.n == [100, 100, 100] and fit.k == [50, 20, 5]
    assert stats.best_tiers(x, y, +1, 3, 15, objective="loglik").cuts == [1.0, 2.0]
    assert stats.best_tiers(x, y, -1, 2, 15) is None  # lower is healthier: no split is in risk order


@pytest.mark.parametrize("case", range(4))
def test_tiers_match_or_beat_optbinning(case):
    """optbinning's OptimalBinning (constraint programming over its prebins, maximising information value) with the
    same monotone trend, minimum bin size and number of bins: the kit's tiers reach at least its information value
    (both computed by hand here), over candidate cuts that include where optbinning's prebinning tree splits."""
    optbinning = pytest.importorskip("optbinning", reason="optbinning is a test-only dependency (pip install optbinning)")
    rng = np.random.default_rng(100 + case)
    n = 3000
    x = [rng.normal(size=n), rng.gamma(2.0, 1.0, n), rng.poisson(3, n).astype(float), rng.uniform(-1, 1, n) ** 3][case]
    logit = -2.0 - 1.1 * (x - x.mean()) / x.std() + (0.4 * np.sin(3 * x) if case == 3 else 0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    for max_bins in (3, 5, 10):
        ob = optbinning.OptimalBinning(dtype="numerical", solver="cp", monotonic_trend="descending", min_bin_size=0.05,
                                       max_n_bins=max_bins)
        ob.fit(x, y)
        idx = np.searchsorted(ob.splits, x, side="right")  # optbinning's bins are [left, right)
        groups = [y[idx == b] for b in range(len(ob.splits) + 1)]
        groups = [g for g in groups if len(g)]
        assert all(a > b for a, b in zip([g.mean() for g in groups], [g.mean() for g in groups][1:]))
        theirs = _iv(groups, y.sum(), n - y.sum())
        path = stats.tier_path(x, y.astype(float), +1, max_bins, 0.05 * n)
        fit = max((f for t, f in path.items() if t <= len(groups)), key=lambda f: f.iv)
        idx = np.searchsorted(fit.cuts, x, side="left")
        ours = _iv([y[idx == b] for b in range(len(fit.cuts) + 1)], y.sum(), n - y.sum())
        assert ours == pytest.approx(fit.iv) and ours >= theirs - 1e-9, (case, max_bins, ours, theirs)


def test_number_of_tiers_by_likelihood_cross_validated_in_time():
    """Recomputed: each later fold scored (scipy's log-likelihood) by brute-force tiers fitted on the folds before it,
    each tier at its empirical-Bayes churn rate (stats.range_logodds, checked on its own in test_scorecard); the kit
    takes the finest number of tiers whose held-out log-likelihood is within the noise of the best: the standard
    error of the paired difference over the held-out renewals, and at least 2."""
    rng = np.random.default_rng(5)
    n = 1600
    x = rng.integers(0, 12, n).astype(float)  # 12 values: every one is a candidate cut, so brute force can check
    rate = np.select([x < 3, x < 7], [0.35, 0.15], 0.04)  # three planted steps
    y = (rng.random(n) < rate).astype(float)
    fold = np.repeat(np.arange(4), n // 4)
    tiers, held = stats.choose_tiers(x, y, fold, +1, 4, 0.05)
    per = {}
    for t in range(2, 5):
        parts = []
        for v in (1, 2, 3):
            tr, va = fold < v, fold == v
            cand = np.unique(x[tr])[:-1]
            best, best_cuts = None, None
            for cuts in itertools.combinations(cand, t - 1):
                idx = np.searchsorted(cuts, x[tr], side="left")
                groups = [y[tr][idx == r] for r in range(t)]
                rates = [g.mean() if len(g) else np.nan for g in groups]
                if min(len(g) for g in groups) < 0.05 * tr.sum() or not all(a > b for a, b in zip(rates, rates[1:])):
                    continue
                ll = _iv(groups, y[tr].sum(), tr.sum() - y[tr].sum())  # the tiers maximise information value
                if best is None or ll > best + 1e-9:
                    best, best_cuts = ll, cuts
            logodds = stats.range_logodds(x[tr], y[tr], list(best_cuts), +1)
            p = 1 / (1 + np.exp(-logodds))
            parts.append(sps.bernoulli.logpmf(y[va], p[np.searchsorted(best_cuts, x[va], side="left")]))
        per[t] = np.concatenate(parts)
    expected = {t: float(v.sum()) for t, v in per.items()}
    assert held == pytest.approx(expected, abs=1e-6)
    top = max(expected, key=expected.get)
    noise = {t: max(2.0, math.sqrt(len(per[t])) * np.std(per[top] - per[t], ddof=1)) for t in per}
    assert tiers == max(t for t in per if expected[t] >= expected[top] - noise[t])
    assert tiers >= 3  # the planted steps are found


def test_readable_cuts_keep_the_split_and_never_lose_a_measure():
    rng = np.random.default_rng(9)
    x = np.round(rng.normal(2.0, 0.4, 2000), 6)
    y = (rng.random(2000) < 1 / (1 + np.exp(2 + 2 * (x - 2)))).astype(float)
    fit = stats.best_tiers(x, y, +1, 4, 100)
    cuts = stats.readable_cuts(fit.cuts, x, y, +1, 100)
    assert all(stats.significant_digits(c) <= 3 for c in cuts)
    n, k = stats.range_counts(x, y, cuts)
    assert n.min() >= 100 and stats.in_risk_order(k / n, +1)  # still ranked, still big enough: nothing dropped
    # counts: a cut moves to the shortest number before the next value, which splits the data the same way
    counts = np.repeat([0.0, 1, 2, 3, 7, 12, 40], 50)
    assert stats.readable_cuts([3.0, 12.0], counts, np.zeros(len(counts)), +1, 1) == [3.0, 20.0]
    assert stats.shortest_between(0.4625, 0.47) == 0.463 and stats.shortest_between(-0.0045, -0.0031) == -0.004
    assert stats.shortest_between(137, 250) == 200 and stats.shortest_between(-3, 2) == 0


def test_two_ranges_no_readable_cut_keeps_apart_are_joined():
    """A cut at 2.3743 parting two ranges whose churn differs by a few renewals (6.0% and 5.0%), with the churn of the
    lower one at its top edge and renewals without churn packed just above the cut: every readable cut within five
    steps either side turns their order round (2.37 moves the churn up, 2.38 the packed renewals down), so the two
    become one range; the other cut stays."""
    lower = np.r_[np.linspace(2.2502, 2.3700, 235), np.linspace(2.3701, 2.3743, 15)]
    upper = np.r_[np.linspace(2.3745, 2.3790, 200), np.linspace(2.45, 3.0, 200)]
    x = np.round(np.r_[np.linspace(1.0, 2.25, 600), lower, upper], 4)
    y = np.r_[np.tile([1.0, 0, 0, 0], 150), np.zeros(235), np.ones(15), np.zeros(200), np.tile([1.0] + [0.0] * 9, 20)]
    n, k = stats.range_counts(x, y, [2.25, 2.3743])
    assert list(n) == [600, 250, 400] and list(k) == [150, 15, 20]  # 25%, 6%, 5%: in risk order as fitted
    got = stats.readable_cuts([2.25, 2.3743], x, y, +1, 50)
    assert got == [2.25]
    n, k = stats.range_counts(x, y, got)
    assert list(n) == [600, 650] and stats.in_risk_order(k / n, +1)
