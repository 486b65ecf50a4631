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
READABLE_STEPS = 5  # a cut moves at most this many steps of its last readable digit to read as a short number


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


def auc_se(risk, event) -> tuple[float, float]:
    """(AUC, its standard error) by DeLong's placements: var = var(churned placements) / churned + var(retained
    placements) / retained."""
    event = np.asarray(event, dtype=bool)
    r = np.asarray(risk, dtype=float)
    m, n = int(event.sum()), int((~event).sum())
    ranks = midranks(r)
    v10 = (ranks[event] - midranks(r[event])) / n
    v01 = 1 - (ranks[~event] - midranks(r[~event])) / m
    var = (np.var(v10, ddof=1) / m if m > 1 else 0.0) + (np.var(v01, ddof=1) / n if n > 1 else 0.0)
    return float(v10.mean()), math.sqrt(max(float(var), 0.0))


# ---------------------------------------------------------------------------- proportions


def wilson_upper(k: float, n: float, z: float = Z95_ONE_SIDED) -> float:
    """One-sided upper confidence bound (95% by default) of a proportion k / n (Wilson score interval)."""
    if n <= 0:
        return 1.0
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + half) / (1 + z * z / n))


def future_upper(k: float, n: float) -> float:
    """One-sided 95% upper bound of the share a *future* group of n renewals will show, given k of n now: the
    estimate's uncertainty and the new group's sampling add up (twice the variance), so Wilson's bound on half
    the evidence. What a band promises a client is the share next quarter's renewals will show."""
    return wilson_upper(k / 2, n / 2)


def future_lower(k: float, n: float) -> float:
    """One-sided 95% lower bound of the share a future group of n renewals will show (future_upper mirrored)."""
    return 1.0 - future_upper(n - k, n)


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


def logistic(y: np.ndarray, X: np.ndarray, names: list[str], *, ridge_fallback: bool = True, start: np.ndarray | None = None) -> Fit:
    """Logistic regression of y (0..1) on X (a constant is added): statsmodels Logit, Newton's method, from
    `start` (intercept, coefficients) when given (a bootstrap resample starts from the full fit: the same
    optimum, fewer steps).

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
            res = sm.Logit(y, Xc).fit(method="newton", maxiter=100, disp=0, start_params=start)
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


def logistic_nonneg(y: np.ndarray, X: np.ndarray, penalty: float) -> tuple[float, np.ndarray]:
    """(intercept, b): the logistic regression of churn y (0..1) on columns X whose every coefficient says
    *more means less churn* (log-odds = intercept - X @ b, b >= 0), penalised by penalty/2 x |b|^2.

    The constraint keeps each column's effect in its direction (a column whose effect the others take gets
    b = 0 rather than a negative weight), and the ridge penalty, which matters on a few dozen churn events
    and fades as they grow, keeps the coefficients of correlated columns stable on small samples. Solved
    exactly (the objective is convex) by L-BFGS-B with the analytic gradient.
    """
    from scipy.optimize import minimize

    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    k = X.shape[1]
    p0 = min(max(float(y.mean()), 1e-6), 1 - 1e-6)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = theta[0], theta[1:]
        z = a - X @ b
        r = 1.0 / (1.0 + np.exp(-z)) - y
        value = float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * penalty * b @ b)
        return value, np.r_[r.sum(), -(X.T @ r) + penalty * b]

    res = minimize(objective, np.r_[math.log(p0 / (1 - p0)), np.zeros(k)], jac=True, method="L-BFGS-B",
                   bounds=[(None, None)] + [(0.0, None)] * k, options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9})
    return float(res.x[0]), np.maximum(res.x[1:], 0.0)


def paired_gain(risk_a: np.ndarray, risk_b: np.ndarray, event: np.ndarray, block: np.ndarray) -> tuple[float, float, float, float]:
    """(AUC of a, AUC of b, their difference, its standard error) within time blocks: AUCs and DeLong's variance
    of the difference per block (rows where either risk is NaN are left out), averaged with the blocks' renewals
    as weights; the blocks are independent, so the variances add up with the squared weights. Blocks with fewer
    than two of either class are skipped; NaN throughout when none counts.

    Within blocks, because the out-of-block scores of a time-ordered cross-validation come from a card refitted
    for each block: pooled across blocks, the shifts between those fits would blur the ranking."""
    event = np.asarray(event, dtype=bool)
    risk_a, risk_b = np.asarray(risk_a, dtype=float), np.asarray(risk_b, dtype=float)
    rows = []
    for v in np.unique(block):
        m = (block == v) & ~np.isnan(risk_a) & ~np.isnan(risk_b)
        if event[m].sum() < 2 or (~event[m]).sum() < 2:
            continue
        a, b, se = delong(risk_a[m], risk_b[m], event[m])
        rows.append((a, b, se, float(m.sum())))
    if not rows:
        return (math.nan,) * 4
    w = np.array([r[3] for r in rows]) / sum(r[3] for r in rows)
    a = float(sum(wi * r[0] for wi, r in zip(w, rows)))
    b = float(sum(wi * r[1] for wi, r in zip(w, rows)))
    return a, b, a - b, float(math.sqrt(sum((wi * r[2]) ** 2 for wi, r in zip(w, rows))))


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
    """Candidate cuts: every distinct value but the largest when there are few, else the values at `prebins`
    quantiles and, with the churn `y`, where a classification tree would split (optbinning's prebinning: at
    most 20 leaves of at least 5% of the values), so the exact optimum over them is at least as good as
    optbinning's. The quantiles are taken as numbers a person types (`readable`: three significant digits), so
    ten ranges of close values still read "> 0.33 and <= 0.365"; a tree's split that wins is made readable
    afterwards where it can be (readable_cuts). A value equal to a cut belongs to the lower range."""
    u = np.unique(x)
    if u.size <= prebins + 1:
        return u[:-1]
    q = np.unique([readable(v) for v in np.quantile(x, np.arange(1, prebins) / prebins, method="lower")])
    if y is not None:
        from sklearn.tree import DecisionTreeClassifier

        tree = DecisionTreeClassifier(min_samples_leaf=int(np.ceil(0.05 * len(x))), max_leaf_nodes=20, random_state=0)
        tree.fit(x.reshape(-1, 1), (np.asarray(y) >= EVENT_CUT).astype(int))
        thresholds = tree.tree_.threshold[tree.tree_.feature >= 0]
        # a tree sends x <= threshold left: the largest value at or below it gives the same split
        q = np.r_[q, u[np.searchsorted(u, thresholds, side="right") - 1]]
    q = np.unique(q)
    return q[(q >= u[0]) & (q < u[-1])]


def readable(v: float) -> float:
    """A number a person types near v: three significant digits, or two where three need more than three decimals."""
    r = _round_significant(float(v), 3)
    return r if _decimals(r) <= 3 else _round_significant(float(v), 2)


def _decimals(v: float) -> int:
    text = f"{v:.15g}"
    if "e" in text:
        return 15
    return len(text.split(".")[1]) if "." in text else 0


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


def normal_scores(x: np.ndarray) -> np.ndarray:
    """Each value's mid-rank percentile as a standard normal quantile (ties share it)."""
    from scipy.stats import norm

    return norm.ppf((midranks(x) - 0.5) / len(x))


def smooth_logodds(x: np.ndarray, y: np.ndarray, direction: int) -> np.ndarray:
    """The churn log-odds of each value on a smooth curve: a logistic regression of churn on the values' normal
    scores whose slope may only point the healthy way (flat otherwise)."""
    z = direction * normal_scores(np.asarray(x, dtype=float))  # higher is healthier
    a, b = logistic_nonneg(np.asarray(y, dtype=float), z[:, None], 0.0)
    return a - b[0] * z


def range_logodds(x: np.ndarray, y: np.ndarray, cuts, direction: int, eta: np.ndarray | None = None) -> np.ndarray:
    """Each range's churn log-odds (ranges (lower cut, upper cut], lowest values first), estimated by empirical
    Bayes: the range's own log-odds pulled towards a smooth curve of the measure by as much as its own count
    leaves it uncertain, so ten ranges of a hundred renewals rank as steadily as a curve and as sharply as
    ranges where the data show a step.

    * own: log((k + 1/2) / (n - k + 1/2)), variance 1 / (n p (1 - p)) (p = (k + 1/2) / (n + 1));
    * the curve: smooth_logodds (a logistic regression of churn on the values' normal scores whose slope may
      only point the healthy way), averaged over each range's values (`eta`: the curve's values, when known);
    * the spread of the ranges around the curve beyond their own noise, tau^2 = max(0, mean((own - curve)^2)
      - mean(variance)) (method of moments);
    * each range: w x own + (1 - w) x curve, w = tau^2 / (tau^2 + variance); then made monotone in the
      healthy direction (pool-adjacent-violators, weighted by the counts), as the ranges were chosen.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    eta = smooth_logodds(x, y, direction) if eta is None else eta
    idx = np.searchsorted(np.asarray(cuts, dtype=float), x, side="left")
    R = len(cuts) + 1
    n = np.bincount(idx, minlength=R).astype(float)
    k = np.bincount(idx, weights=y, minlength=R)
    p = (k + 0.5) / (n + 1.0)
    own = np.log(p / (1 - p))
    var = 1.0 / (n * p * (1 - p))
    curve = np.bincount(idx, weights=eta, minlength=R) / n
    tau2 = max(0.0, float(np.mean((own - curve) ** 2) - np.mean(var)))
    w = tau2 / (tau2 + var)
    post = w * own + (1 - w) * curve
    return isotonic(post, n, decreasing=direction > 0)


def isotonic(v: np.ndarray, weight: np.ndarray, decreasing: bool) -> np.ndarray:
    """The closest sequence (weighted least squares) that never rises (decreasing) or never falls: pool adjacent violators."""
    vals = list(-np.asarray(v, dtype=float) if decreasing else np.asarray(v, dtype=float))
    blocks: list[list[float]] = []  # [value, weight, length]
    for x, w in zip(vals, np.asarray(weight, dtype=float)):
        blocks.append([x, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (x2, w2, n2), (x1, w1, n1) = blocks.pop(), blocks.pop()
            blocks.append([(x1 * w1 + x2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    out = np.repeat([b[0] for b in blocks], [b[2] for b in blocks])
    return -out if decreasing else out


def heldout_loglik(cuts, logodds: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Log-likelihood of each held-out renewal (values present) under the churn log-odds of the range it falls in."""
    p = np.clip(1.0 / (1.0 + np.exp(-np.asarray(logodds, dtype=float))), 1e-9, 1 - 1e-9)
    idx = np.searchsorted(np.asarray(cuts, dtype=float), x, side="left")
    return y * np.log(p[idx]) + (1 - y) * np.log1p(-p[idx])


def choose_tiers(x: np.ndarray, y: np.ndarray, fold: np.ndarray, direction: int, max_tiers: int, min_share: float,
                 min_tiers: int = 2) -> tuple[int | None, dict[int, float]]:
    """The number of tiers (min_tiers..max_tiers) by likelihood cross-validated in time: each fold after the
    first is scored by tiers fitted on the folds before it, with their churn log-odds as the scorecard takes
    them (range_logodds), and the held-out log-likelihoods are summed. Numbers of tiers whose held-out
    log-likelihood is within the noise of the best (its standard error over the held-out renewals, paired, and
    at least `CV_TOLERANCE`, as an information criterion reads a difference below 2) are equally supported; the
    finest of them is taken, since more tiers rank renewals more finely. Returns (tiers, {tiers: held-out
    log-likelihood}); None when no number of tiers can be fitted on every training part."""
    per: dict[int, list[np.ndarray]] = {t: [] for t in range(min_tiers, max_tiers + 1)}
    for v in np.unique(fold)[1:]:
        train, valid = fold < v, fold == v
        if not valid.any() or train.sum() < 2:
            continue
        path = tier_path(x[train], y[train], direction, max_tiers, min_share * train.sum())
        eta = smooth_logodds(x[train], y[train], direction)
        scored: dict[int, np.ndarray] = {}
        for t in list(per):
            # "at most t tiers": a training part too small for t tiers predicts with the finest it holds, so an
            # early, thin block does not rule a number of tiers out for every block after it
            fit = max((u for u in path if min_tiers <= u <= t), default=None)
            if fit is None:
                per.pop(t)
                continue
            if fit not in scored:
                lo = range_logodds(x[train], y[train], path[fit].cuts, direction, eta)
                scored[fit] = heldout_loglik(path[fit].cuts, lo, x[valid], y[valid])
            per[t].append(scored[fit])
    per = {t: np.concatenate(v) for t, v in per.items() if v}
    if not per:
        return None, {}
    totals = {t: float(v.sum()) for t, v in per.items()}
    best = max(totals, key=lambda t: (totals[t], -t))

    def noise(t: int) -> float:
        d = per[best] - per[t]
        return max(CV_TOLERANCE, math.sqrt(len(d)) * float(np.std(d, ddof=1)) if len(d) > 1 else 0.0)

    return max(t for t in totals if totals[t] >= totals[best] - noise(t)), totals


def readable_cuts(cuts: list[float], x: np.ndarray, y: np.ndarray, direction: int, min_count: float) -> list[float]:
    """Cuts as numbers a person types: each moved to the shortest decimal that splits the fitted renewals
    exactly as before (any number from a cut up to the next value above it does); where that still needs
    more than 3 significant digits or 3 decimals, to the nearest number of 2 (then 3) significant digits, up to
    `READABLE_STEPS` steps of that precision away, with which the tiers keep their risk order and size. Where
    none does, the two ranges it parts churn alike within a few renewals, and they are joined when the others
    keep their order. A measure is never lost to rounding: the exact split is always a fallback."""
    values = np.unique(x)
    out: list[float] = []
    for i, c in enumerate(cuts):
        above = values[values > c]
        hi = float(above[0]) if above.size else math.inf
        exact = shortest_between(c, hi)  # the previous cut is below c: it is below the first value above it
        choice = exact
        if significant_digits(exact) > 3 or _decimals(exact) > 3:
            for digits in (2, 3):  # readable numbers ever further from c, either side, the closer first
                step = 10.0 ** (math.floor(math.log10(abs(c))) - digits + 1) if c else 1.0
                base = math.floor(c / step)
                near = sorted({r for k in range(-READABLE_STEPS, READABLE_STEPS + 2)
                               if _decimals(r := _round_significant((base + k) * step, digits)) <= 3}, key=lambda r: abs(r - c))
                r = next((r for r in near if _keeps_order([*out, r, *cuts[i + 1:]], x, y, direction, min_count)), None)
                if r is not None:
                    choice = r
                    break
            else:  # no readable cut keeps the two ranges apart: they are as one in the data, so they become one
                if len(cuts) > 1 and _keeps_order([*out, *cuts[i + 1:]], x, y, direction, min_count):
                    continue
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


PSI_BINS = tuple(range(10, 100, 10))  # a 0-100 score's population is compared in ten bands of ten points
PSI_MIN_COUNT = 5  # fewer expected accounts in a band than this and the PSI is too noisy to judge


def psi(reference: np.ndarray, current: np.ndarray, cuts=PSI_BINS) -> dict:
    """Population stability of `current` against `reference` (credit scoring's PSI): the sum over bins of
    (current share - reference share) * ln(current share / reference share). Bins are (-inf, c1), [c1, c2), ...,
    [ck, inf); an empty bin's share is taken as half an account, so the sum stays finite. Returns the PSI, each bin's
    counts and shares, and `judged`: False when either side has fewer than PSI_MIN_COUNT accounts per occupied bin."""
    ref = np.asarray(reference, float)
    cur = np.asarray(current, float)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    edges = np.asarray(cuts, float)
    a = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1).astype(float)
    b = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1).astype(float)
    if not len(ref) or not len(cur):
        return {"psi": None, "judged": False, "bins": [], "reference": int(len(ref)), "current": int(len(cur))}
    p = np.maximum(a, 0.5) / max(len(ref), 1)
    q = np.maximum(b, 0.5) / max(len(cur), 1)
    value = float(np.sum((q - p) * np.log(q / p)))
    lows = [None, *edges.tolist()]
    highs = [*edges.tolist(), None]
    bins = [{"from": lo, "below": hi, "reference": int(x), "current": int(y), "reference_share": float(x / len(ref)),
             "current_share": float(y / len(cur)), "part": float((qq - pp) * np.log(qq / pp))}
            for lo, hi, x, y, pp, qq in zip(lows, highs, a, b, p, q)]
    occupied = int(((a > 0) | (b > 0)).sum())
    judged = min(len(ref), len(cur)) >= PSI_MIN_COUNT * occupied  # on average PSI_MIN_COUNT accounts a band on each side
    return {"psi": value, "judged": judged, "bins": bins, "reference": int(len(ref)), "current": int(len(cur))}


def psi_cuts(reference: np.ndarray, most: int = 10) -> list[float]:
    """Bins for a measure: between its distinct values when it has at most `most` (a card's range points), else at
    the reference's deciles (a tie, such as every account without a late invoice, stays whole in one bin)."""
    ref = np.asarray(reference, float)
    values = np.unique(ref[np.isfinite(ref)])
    if len(values) <= most:
        return ((values[:-1] + values[1:]) / 2).tolist()
    return np.unique(np.quantile(ref[np.isfinite(ref)], np.arange(1, 10) / 10)).tolist()
