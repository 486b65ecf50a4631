"""The statistics every analysis uses, defined once: the churn correlation notebook, the back-test and
the scorecard all call these.

* **AUC**: probability that a random churn event has a higher risk than a random non-event, ties
  counted half (the Mann-Whitney U statistic / (n1 n0)); DeLong's paired test of two AUCs.
* **Wilson**: one-sided upper confidence bound of a proportion.
* **Logistic regression** (statsmodels): the joint fit with its ridge fallback, and the univariate
  fit (odds ratio per standard deviation, Wald interval, p-value) with the point-biserial
  correlation and the AUC.
* **VIF** and **correlated groups** of signals.
* **Binning** (the scorecard's value tiers): the binomial log-likelihood of churn per range, the
  exact best monotone tiers, the number of tiers by likelihood cross-validated in time, and cuts
  rounded to readable values that keep the tiers in risk order.

Binning, in detail. A measure's values (renewals without a value are set aside: they get their own
score) are first cut into *prebins* at up to `PREBINS` quantiles and where a classification tree
would split them (optbinning's prebinning), each cut a data value, so a value equal to a cut belongs
to the lower range. Tiers are runs of consecutive prebins. Among all ways of
choosing `t` tiers that each hold at least `min_count` renewals and whose churn rates fall strictly
from the riskiest tier to the healthiest (monotone in the measure's healthy direction), the one with
the highest binomial log-likelihood of churn given the tier is exact: a dynamic programme over
(end of a tier, start of that tier, number of tiers) whose transitions keep the rates ordered, so
every admissible partition of the prebins is considered (`brute force` in the tests agrees).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054
Z95_ONE_SIDED = 1.6448536269514722
RIDGE_ALPHA = 0.01
PREBINS = 100  # quantile cut candidates for the tiers (optbinning uses 20)
CV_TOLERANCE = 2.0  # held-out log-likelihood units within which numbers of tiers are equally supported
EVENT_CUT = 0.5  # a renewal is a churn event when its churn weight is at least this


# ---------------------------------------------------------------------------- ranking


def auc(risk, event) -> float:
    """Probability that a random churn event has a higher risk than a random non-event (ties count half);
    NaN risks are left out; NaN when either class is empty."""
    risk = np.asarray(risk, dtype=float)
    event = np.asarray(event).astype(bool)
    keep = ~np.isnan(risk)
    risk, event = risk[keep], event[keep]
    n1, n0 = int(event.sum()), int((~event).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = midranks(risk)
    return float((ranks[event].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def auc_or_none(risk, event) -> float | None:
    v = auc(risk, event)
    return None if math.isnan(v) else v


def midranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing their average rank."""
    order = np.argsort(x, kind="mergesort")
    r = x[order]
    starts = np.r_[0, np.flatnonzero(r[1:] != r[:-1]) + 1]
    ends = np.r_[starts[1:], len(r)]
    ranks = np.empty(len(r))
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def rank_p_value(risk, event) -> float:
    """One-sided p-value that churn events rank higher on `risk` than non-events (Mann-Whitney U, normal
    approximation with the tie correction): the test a signal with a known healthy direction must pass."""
    from scipy.stats import mannwhitneyu

    event = np.asarray(event, dtype=bool)
    risk = np.asarray(risk, dtype=float)
    if event.all() or not event.any():
        return 1.0
    return float(mannwhitneyu(risk[event], risk[~event], alternative="greater", method="asymptotic").pvalue)


def delong(risk_a, risk_b, event) -> tuple[float, float, float]:
    """(AUC of a, AUC of b, standard error of their difference) on the same cases, by DeLong's method.

    DeLong, DeLong & Clarke-Pearson (1988), in the mid-rank form of Sun & Xu (2014): each churned
    case's and each retained case's placement value comes from ranks, and the two AUCs' covariance
    from the covariances of those placements. Ties count half, as in the AUC itself.
    """
    event = np.asarray(event, dtype=bool)
    m, n = int(event.sum()), int((~event).sum())
    aucs, v10, v01 = [], [], []
    for r in (np.asarray(risk_a, dtype=float), np.asarray(risk_b, dtype=float)):
        all_ranks = midranks(r)
        tx, ty = midranks(r[event]), midranks(r[~event])
        v10.append((all_ranks[event] - tx) / n)  # per churned case: share of retained cases it outranks
        v01.append(1 - (all_ranks[~event] - ty) / m)  # per retained case: share of churned cases that outrank it
        aucs.append(float(v10[-1].mean()))
    s10, s01 = np.cov(np.vstack(v10)), np.cov(np.vstack(v01))
    cov = s10 / m + s01 / n
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    return aucs[0], aucs[1], math.sqrt(max(var, 0.0))


# ---------------------------------------------------------------------------- proportions


def wilson_upper(k: float, n: float, z: float = Z95_ONE_SIDED) -> float:
    """One-sided upper confidence bound (95% by default) of a proportion k / n (Wilson score interval)."""
    if n <= 0:
        return 1.0
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + half) / (1 + z * z / n))


# ---------------------------------------------------------------------------- regression


def standardise(x: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(x - mean) / sample SD (ddof=1)."""
    mean = float(np.mean(x))
    sd = float(np.std(x, ddof=1)) if len(x) > 1 else 0.0
    return (x - mean) / (sd if sd > 0 else 1.0), mean, sd


def point_biserial(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of a signal with the (0/1 or weighted) churn outcome."""
    xc, yc = x - x.mean(), y - y.mean()
    den = math.sqrt(float(xc @ xc) * float(yc @ yc))
    return float(xc @ yc / den) if den > 0 else float("nan")


@dataclass
class Fit:
    """A logistic regression fit: coefficients (log-odds per unit of each column), how it was obtained."""

    names: list[str]
    coef: np.ndarray
    se: np.ndarray | None
    pvalues: np.ndarray | None
    method: str  # "maximum likelihood" | "ridge-penalised (fallback)"
    converged: bool
    note: str = ""
    intercept: float = 0.0


def logistic(y: np.ndarray, X: np.ndarray, names: list[str], *, ridge_fallback: bool = True) -> Fit:
    """Logistic regression of y (0..1) on X (a constant is added): statsmodels Logit, Newton's method.

    Falls back to a ridge-penalised fit when maximum likelihood does not converge (e.g. perfect
    separation); the Fit says so in `method` and `note`.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError, PerfectSeparationWarning

    Xc = sm.add_constant(X, has_constant="add")
    problem = ""
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=ConvergenceWarning)
        warnings.simplefilter("error", category=PerfectSeparationWarning)
        warnings.simplefilter("ignore", category=RuntimeWarning)
        try:
            res = sm.Logit(y, Xc).fit(method="newton", maxiter=100, disp=0)
            ok = bool(res.mle_retvals.get("converged", False)) and np.all(np.isfinite(res.params)) and np.all(np.isfinite(res.bse))
            if ok and np.max(np.abs(res.params[1:])) > 20:
                ok, problem = False, "coefficients diverge (near-perfect separation)"
            if ok:
                return Fit(names, np.asarray(res.params[1:]), np.asarray(res.bse[1:]), np.asarray(res.pvalues[1:]),
                           "maximum likelihood", True, intercept=float(res.params[0]))
            problem = problem or "the fit did not converge"
        except (PerfectSeparationError, PerfectSeparationWarning) as e:
            problem = f"perfect separation ({e.__class__.__name__})"
        except ConvergenceWarning as e:
            problem = f"the fit did not converge ({str(e).splitlines()[0]})"
        except (np.linalg.LinAlgError, ValueError) as e:
            problem = f"the fit failed ({e})"
    if not ridge_fallback:
        return Fit(names, np.full(len(names), np.nan), None, None, "failed", False, problem)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.GLM(y, Xc, family=sm.families.Binomial()).fit_regularized(alpha=RIDGE_ALPHA, L1_wt=0.0, maxiter=500)
    note = (
        f"Maximum likelihood failed: {problem}. Fell back to a ridge-penalised fit (alpha {RIDGE_ALPHA}): "
        "coefficients are shrunk towards 0 and have no standard errors or p-values."
    )
    return Fit(names, np.asarray(res.params[1:]), None, None, "ridge-penalised (fallback)", False, note, float(res.params[0]))


def univariate(x: np.ndarray, y: np.ndarray, direction: int) -> dict:
    """Point-biserial r, odds ratio per SD with 95% CI and p-value, AUC (risk oriented by direction)."""
    z, _, _ = standardise(x)
    out = {"point_biserial": point_biserial(x, y), "auc": auc(-direction * x, y >= EVENT_CUT)}
    fit = logistic(y, z[:, None], ["x"], ridge_fallback=False)
    if fit.converged:
        b, se = float(fit.coef[0]), float(fit.se[0])
        out.update(odds_ratio=math.exp(b), odds_ratio_ci=[math.exp(b - Z95 * se), math.exp(b + Z95 * se)], p_value=float(fit.pvalues[0]))
    else:
        out.update(odds_ratio=None, odds_ratio_ci=None, p_value=None, note=fit.note)
    return out


def vif(X: np.ndarray) -> np.ndarray:
    """Variance inflation factor of each column (with a constant in the design)."""
    import statsmodels.api as sm
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    if X.shape[1] < 2:
        return np.ones(X.shape[1])
    Xc = sm.add_constant(X, has_constant="add")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.array([variance_inflation_factor(Xc, i + 1) for i in range(X.shape[1])])


def correlated_groups(corr: np.ndarray, names: list[str], threshold: float) -> list[list[str]]:
    """Connected groups of signals whose absolute correlation exceeds the threshold (2 or more signals)."""
    parent = list(range(len(names)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if abs(corr[i, j]) > threshold:
                parent[find(i)] = find(j)
    groups: dict[int, list[str]] = {}
    for i, n in enumerate(names):
        groups.setdefault(find(i), []).append(n)
    return [g for g in groups.values() if len(g) > 1]


# ---------------------------------------------------------------------------- binning


def loglik(k, n) -> np.ndarray:
    """Binomial log-likelihood of k churned among n in each range (last axis), at each range's own churn
    rate: one figure per row of ranges."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    p = np.divide(k, n, out=np.zeros(k.shape), where=n > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(k > 0, k * np.log(np.where(p > 0, p, 1)), 0.0) + np.where(n - k > 0, (n - k) * np.log1p(-np.where(p < 1, p, 0)), 0.0)
    return t.sum(axis=-1)


def range_counts(x: np.ndarray, y: np.ndarray, cuts) -> tuple[np.ndarray, np.ndarray]:
    """(renewals, churned) per range (lower cut, upper cut], lowest values first, of the values given."""
    idx = np.searchsorted(np.asarray(cuts, dtype=float), x, side="left")  # x <= cuts[0] -> 0
    n = np.bincount(idx, minlength=len(cuts) + 1)
    k = np.bincount(idx, weights=y, minlength=len(cuts) + 1)
    return n, k


def in_risk_order(rates, direction: int) -> bool:
    """Churn falls strictly from the riskiest range to the healthiest (ranges listed lowest values first)."""
    r = np.asarray(rates, dtype=float)
    r = r if direction < 0 else r[::-1]  # riskiest last
    return bool(np.all(np.diff(r) > 0))


def prebin_cuts(x: np.ndarray, prebins: int = PREBINS, y: np.ndarray | None = None) -> np.ndarray:
    """Candidate cuts: every distinct value but the largest when there are few, else data values at
    `prebins` quantiles and, with the churn `y`, where a classification tree would split (optbinning's
    prebinning: at most 20 leaves of at least 5% of the values), so the exact optimum over them is at
    least as good as optbinning's. A value equal to a cut belongs to the lower range."""
    u = np.unique(x)
    if u.size <= prebins + 1:
        return u[:-1]
    q = np.quantile(x, np.arange(1, prebins) / prebins, method="lower")
    if y is not None:
        from sklearn.tree import DecisionTreeClassifier

        tree = DecisionTreeClassifier(min_samples_leaf=int(np.ceil(0.05 * len(x))), max_leaf_nodes=20, random_state=0)
        tree.fit(x.reshape(-1, 1), (np.asarray(y) >= EVENT_CUT).astype(int))
        thresholds = tree.tree_.threshold[tree.tree_.feature >= 0]
        # a tree sends x <= threshold left: the largest value at or below it gives the same split
        q = np.r_[q, u[np.searchsorted(u, thresholds, side="right") - 1]]
    q = np.unique(q)
    return q[q < u[-1]]


@dataclass(frozen=True)
class TierFit:
    """The best tiers of a measure: cuts (ascending), renewals and churned per tier, the binomial
    log-likelihood of churn given the tier and the information value of the split."""

    cuts: list[float]
    n: list[float]
    k: list[float]
    loglik: float
    iv: float


def best_tiers(x: np.ndarray, y: np.ndarray, direction: int, tiers: int, min_count: float,
               candidates: np.ndarray | None = None, objective: str = "iv") -> TierFit | None:
    """The exact best `tiers` tiers over the candidate cuts (default: prebin_cuts): each holding at least
    `min_count` renewals, churn strictly falling towards the healthy end; None when no partition qualifies."""
    fits = tier_path(x, y, direction, tiers, min_count, candidates, objective)
    return fits.get(tiers)


def information_value(k, n, events: float, non_events: float) -> np.ndarray:
    """Information value of each range (last axis summed): (share of retained - share of churned) x their
    log ratio, the counts smoothed by half a renewal so a range without churn stays finite."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        good = (n - k + 0.5) / (non_events + 0.5)
        bad = (k + 0.5) / (events + 0.5)
        return np.where(n > 0, (good - bad) * np.log(good / bad), 0.0)


def tier_path(x: np.ndarray, y: np.ndarray, direction: int, max_tiers: int, min_count: float,
              candidates: np.ndarray | None = None, objective: str = "iv") -> dict[int, TierFit]:
    """The exact best tiers for every number of tiers from 1 to `max_tiers` (those that exist), by
    information value (`objective="iv"`, the scorecard's) or by log-likelihood ("loglik").

    Dynamic programme over the P prebins: best[t][i, j] is the highest objective of prebins [0, j)
    cut into t tiers whose last tier is prebins [i, j), with the rates in risk order so far. A next
    tier [j, l) may follow when its churn rate is strictly on the healthy side of [i, j)'s. Both
    objectives add up over tiers, so the optimum is exact.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    cand = prebin_cuts(x, y=y) if candidates is None else np.asarray(candidates, dtype=float)
    n_pre, k_pre = range_counts(x, y, cand)
    P = len(n_pre)
    cn, ck = np.r_[0.0, np.cumsum(n_pre)], np.r_[0.0, np.cumsum(k_pre)]
    N = cn[None, :] - cn[:, None]  # tier [i, j): renewals
    K = ck[None, :] - ck[:, None]  # ... and churned
    valid = np.triu(np.ones((P + 1, P + 1), dtype=bool), k=1) & (N >= min_count)
    rate = np.divide(K, N, out=np.full(N.shape, np.nan), where=N > 0)
    LL = _ll_matrix(K, N)
    IV = information_value(K, N, ck[-1], cn[-1] - ck[-1])
    L = np.where(valid, IV if objective == "iv" else LL, -np.inf)
    healthy = 1.0 if direction > 0 else -1.0  # +1: churn falls as values rise, so the next tier's rate is lower
    best = np.full((P + 1, P + 1), -np.inf)
    best[0, :] = L[0, :]
    layers, back = {1: best}, {}
    for t in range(2, max_tiers + 1):
        prev, cur = layers[t - 1], np.full((P + 1, P + 1), -np.inf)
        arg = np.full((P + 1, P + 1), -1, dtype=np.int64)
        for j in range(1, P):
            before = np.isfinite(prev[: j + 1, j])  # tiers [i, j) that end a feasible prefix
            if not before.any() or not valid[j].any():
                continue
            ordered = healthy * (rate[: j + 1, j][:, None] - rate[j][None, :]) > 0  # (i, l)
            value = np.where(before[:, None] & ordered & valid[j][None, :], prev[: j + 1, j][:, None], -np.inf)
            i_best = np.argmax(value, axis=0)
            v = value[i_best, np.arange(P + 1)]
            ok = np.isfinite(v)
            cur[j, ok] = v[ok] + L[j, ok]
            arg[j, ok] = i_best[ok]
        layers[t], back[t] = cur, arg
    out: dict[int, TierFit] = {}
    for t, layer in layers.items():
        end = layer[:, P]
        if not np.isfinite(end).any():
            continue
        bounds = [P, int(np.argmax(end))]  # the first of equals: the lowest cuts
        for tt in range(t, 1, -1):
            bounds.append(int(back[tt][bounds[-1], bounds[-2]]))
        bounds = bounds[::-1]  # 0 = b0 < b1 < ... < bt = P
        pairs = list(zip(bounds[:-1], bounds[1:]))
        out[t] = TierFit([float(cand[b - 1]) for b in bounds[1:-1]], [float(N[a, b]) for a, b in pairs],
                         [float(K[a, b]) for a, b in pairs], float(sum(LL[a, b] for a, b in pairs)),
                         float(sum(IV[a, b] for a, b in pairs)))
    return out


def _ll_matrix(K: np.ndarray, N: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        p = np.where(N > 0, K / np.where(N > 0, N, 1), 0.0)
        a = np.where(K > 0, K * np.log(np.where(p > 0, p, 1)), 0.0)
        b = np.where(N - K > 0, (N - K) * np.log1p(-np.where(p < 1, p, 0)), 0.0)
    return a + b


def heldout_loglik(fit: TierFit, x: np.ndarray, y: np.ndarray, prior: float) -> float:
    """Log-likelihood of held-out renewals (values present) under a fit's tier churn rates, each rate shrunk
    towards `prior` by one pseudo-renewal so that a tier without churn does not score minus infinity."""
    n, k = np.asarray(fit.n), np.asarray(fit.k)
    p = np.clip((k + prior) / (n + 1), 1e-9, 1 - 1e-9)
    idx = np.searchsorted(np.asarray(fit.cuts, dtype=float), x, side="left")
    return float(np.sum(y * np.log(p[idx]) + (1 - y) * np.log1p(-p[idx])))


def choose_tiers(x: np.ndarray, y: np.ndarray, fold: np.ndarray, direction: int, max_tiers: int, min_share: float,
                 min_tiers: int = 2) -> tuple[int | None, dict[int, float]]:
    """The number of tiers (min_tiers..max_tiers) by likelihood cross-validated in time: each fold after the
    first is scored by tiers fitted on the folds before it, and the held-out log-likelihoods are summed.
    Numbers of tiers within `CV_TOLERANCE` of the best are equally supported by the held-out renewals (as an
    information criterion reads a difference below 2); the finest of them is taken, since more tiers rank
    renewals more finely. Returns (tiers, {tiers: held-out log-likelihood}); None when no number of tiers
    can be fitted on every training part."""
    totals = {t: 0.0 for t in range(min_tiers, max_tiers + 1)}
    for v in np.unique(fold)[1:]:
        train, valid = fold < v, fold == v
        if not valid.any() or train.sum() < 2:
            continue
        path = tier_path(x[train], y[train], direction, max_tiers, min_share * train.sum())
        prior = float(y[train].mean())
        for t in list(totals):
            if t in path:
                totals[t] += heldout_loglik(path[t], x[valid], y[valid], prior)
            else:
                totals.pop(t)
    if not totals:
        return None, {}
    best = max(totals.values())
    return max(t for t, v in totals.items() if v >= best - CV_TOLERANCE), totals


def readable_cuts(cuts: list[float], x: np.ndarray, y: np.ndarray, direction: int, min_count: float) -> list[float]:
    """Cuts as numbers a person types: each moved to the shortest decimal that splits the fitted renewals
    exactly as before (any number from a cut up to the next value above it does); where that still needs
    more than 3 significant digits, rounded to 2 (then 3) when the tiers keep their risk order and size.
    A measure is never lost to rounding: the exact split is always a fallback."""
    values = np.unique(x)
    out: list[float] = []
    for i, c in enumerate(cuts):
        above = values[values > c]
        hi = float(above[0]) if above.size else math.inf
        exact = shortest_between(c, hi)  # the previous cut is below c: it is below the first value above it
        choice = exact
        if significant_digits(exact) > 3:
            for digits in (2, 3):  # the nearest readable numbers either side, the closer first
                step = 10.0 ** (math.floor(math.log10(abs(c))) - digits + 1) if c else 1.0
                near = sorted({_round_significant(c, digits), _round_significant(math.floor(c / step) * step, digits),
                               _round_significant(math.ceil(c / step) * step, digits)}, key=lambda r: abs(r - c))
                r = next((r for r in near if _keeps_order([*out, r, *cuts[i + 1:]], x, y, direction, min_count)), None)
                if r is not None:
                    choice = r
                    break
        out.append(choice)
    return out


def _keeps_order(cuts: list[float], x: np.ndarray, y: np.ndarray, direction: int, min_count: float) -> bool:
    """The cuts ascend, every range holds at least min_count values and churn falls in risk order."""
    if any(b <= a for a, b in zip(cuts, cuts[1:])):
        return False
    n, k = range_counts(x, y, cuts)
    return bool(n.min() >= min_count) and in_risk_order(k / n, direction)


def shortest_between(lo: float, hi: float) -> float:
    """The number with the fewest significant digits in [lo, hi) (lo itself when none is shorter)."""
    if lo <= 0 < hi:
        return 0.0
    if not math.isfinite(hi):
        hi = lo + max(abs(lo), 1.0)
    top = max(abs(lo), abs(hi))
    mag = math.floor(math.log10(top)) if top > 0 else 0
    for d in range(1, 16):
        exp = mag - d + 1
        q = math.ceil(round(lo / 10.0**exp, 9))
        r = float(f"{q}e{exp}")
        if lo <= r < hi:
            return r
    return lo


def significant_digits(v: float) -> int:
    if v == 0 or not math.isfinite(v):
        return 1
    return len(f"{abs(v):.15g}".replace(".", "").lstrip("0").rstrip("0")) or 1


def _round_significant(v: float, digits: int) -> float:
    if v == 0 or not math.isfinite(v):
        return v
    return float(f"{v:.{digits}g}")
