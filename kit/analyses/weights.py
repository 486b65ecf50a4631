"""Which signals predicted churn before past renewals, and the component weights they justify.

Method (each step is reported):

1. Points and outcomes: one point per renewal, `lead_time_days` before it (signals.renewal_points);
   churned = 1, renewed/expanded = 0, contracted = `weighting.contraction_as_churn`. A renewal is a
   churn *event* (for event counts, AUC) when its churn weight is at least 0.5.
2. Per signal, on the renewals where it exists (complete cases): share missing, churn rate by
   decile, point-biserial correlation (Pearson r of signal and churn weight), a univariate logistic
   regression of churn on the standardised signal (odds ratio per standard deviation, Wald 95%
   interval, p-value; statsmodels GLM binomial), AUC of the signal as a risk score (oriented by its
   catalog direction: 0.5 = no information, 1 = perfect).
3. Retention, first reason wins: missing for more than `max_missing_share` of renewals; constant;
   wrong sign (the odds ratio says the opposite of the catalog direction, significant or not);
   not significant (p >= `significance`). Retained signals are kept, the rest shown with the reason.
4. Together: missing values of retained signals are replaced by the signal's median (a neutral
   value, so no renewal is dropped for one missing source), signals are standardised (mean 0, SD 1),
   and a multivariate logistic regression (statsmodels) is fitted. Variance inflation factors and
   groups of signals correlated above `correlation_threshold` are reported; because the model's
   coefficients are partial effects, a behaviour measured by two correlated signals is counted once.
   If the fit does not converge, a ridge-penalised fit is used instead, and the report says so.
5. Weights: each retained signal contributes max(0, -direction x coefficient) (its standardised
   effect on churn in the healthy direction; a coefficient that flips sign in the joint model
   contributes 0); contributions are summed per component and normalised to sum to 1. Intervals:
   percentile 95% intervals over `bootstrap` resamples of accounts (seeded; an account's renewals
   stay together). Per segment when every segment has `min_segment_churn_events` churn events.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl

from kit import catalog, registry
from kit.artefacts import Document
from kit.analyses import search, signals as sig, split
from kit.analyses.stats import EVENT_CUT, Z95, Fit, correlated_groups, logistic, point_biserial, univariate, vif
from kit.params import Parameters, Weighting

MIN_CLASS = 2  # a model needs at least this many events and non-events
NO_COMPONENT = "account"  # tenure and ARR: candidates and controls, not part of any score component
DECILES = {"signal": pl.String, "decile": pl.Int64, "low": pl.Float64, "high": pl.Float64, "n": pl.Int64, "churn_rate": pl.Float64}
CORRELATION = {"a": pl.String, "b": pl.String, "r": pl.Float64}  # long form: one row per pair of signals


@dataclass
class SignalResult:
    name: str
    component: str
    direction: int
    definition: str
    n: int
    missing_share: float
    point_biserial: float | None = None
    odds_ratio: float | None = None
    odds_ratio_ci: list[float] | None = None
    p_value: float | None = None
    auc: float | None = None
    retained: bool = False
    reason: str = ""
    coefficient: float | None = None  # multivariate, standardised (log-odds of churn per SD)
    coefficient_ci: list[float] | None = None
    vif: float | None = None
    contribution: float = 0.0  # share of the total weight carried by this signal
    rank: int = 0


@dataclass
class Result:
    status: str  # "ok" | "insufficient_data"
    n: int
    events: int
    messages: list[str]
    signals: list[SignalResult]
    deciles: pl.DataFrame
    correlation: pl.DataFrame  # long: a, b, r
    groups: list[list[str]]
    model: dict
    proposed: dict[str, dict[str, float]]
    current: dict[str, float]
    segments: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    segment_note: str = ""
    bootstrap: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    search: search.Result | None = None  # how the candidates were chosen (None: given, not searched)

    @property
    def retained(self) -> list[str]:
        return [s.name for s in self.signals if s.retained]

    def signal(self, name: str) -> SignalResult:
        return next(s for s in self.signals if s.name == name)

    def table(self) -> pl.DataFrame:
        rows = []
        for s in self.signals:
            d = asdict(s)
            lo, hi = (s.odds_ratio_ci or [None, None])
            d.update(or_low=lo, or_high=hi)
            d.pop("odds_ratio_ci")
            d.pop("coefficient_ci")
            rows.append(d)
        return pl.DataFrame(rows, infer_schema_length=None)

    def to_json(self) -> dict:
        """weights.json: `proposed_weights` is empty when no weights could be derived, and `reason` says why
        (the back-test and the maintenance check then report "not available" instead of comparing)."""
        ok = self.status == "ok"
        return {
            "status": self.status,
            "reason": None if ok else (self.messages[0] if self.messages else self.status),
            "renewals": self.n,
            "churn_events": self.events,
            "messages": self.messages,
            "settings": self.settings,
            "signals": [asdict(s) for s in self.signals],
            "correlated_groups": self.groups,
            "model": self.model,
            "proposed_weights": self.proposed if ok else {},
            "current_weights": self.current,
            "segment_weights": self.segments,
            "segment_note": self.segment_note,
            "bootstrap": self.bootstrap,
            "search": self.search.to_json() if self.search else None,
        }


# ---------------------------------------------------------------------------- statistics


def deciles(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """Churn rate by decile of a signal (complete cases); tied values keep deciles together."""
    d = frame.select(pl.col(name).alias("x"), "churned").drop_nulls("x")
    if d.height == 0 or d["x"].n_unique() < 2:
        return pl.DataFrame(schema=DECILES)
    ranks = d["x"].rank("min").to_numpy()  # equal values share a bin
    bins = np.minimum((ranks - 1) * 10 // d.height, 9).astype(np.int64)
    return (
        d.with_columns(pl.Series("bin", bins))
        .group_by("bin")
        .agg(pl.col("x").min().alias("low"), pl.col("x").max().alias("high"), pl.len().cast(pl.Int64).alias("n"), pl.col("churned").mean().alias("churn_rate"))
        .sort("bin")
        .with_columns(pl.lit(name).alias("signal"), (pl.int_range(pl.len()) + 1).cast(pl.Int64).alias("decile"))
        .select("signal", "decile", "low", "high", "n", "churn_rate")
    )


# ---------------------------------------------------------------------------- weights


def component_weights(coef: dict[str, float], components: dict[str, str], directions: dict[str, int]) -> dict[str, float]:
    """max(0, -direction x coefficient) summed per component, normalised to 1 (all 0 when nothing contributes)."""
    totals: dict[str, float] = {}
    for s, b in coef.items():
        comp = components[s]
        if comp == NO_COMPONENT:
            continue
        totals[comp] = totals.get(comp, 0.0) + max(0.0, -directions[s] * b)
    total = sum(totals.values())
    return {c: (v / total if total > 0 else 0.0) for c, v in totals.items()}


def _design(frame: pl.DataFrame, names: list[str], medians: dict[str, float], means: dict[str, float], sds: dict[str, float]) -> np.ndarray:
    cols = []
    for s in names:
        x = frame[s].fill_null(medians[s]).to_numpy().astype(np.float64)
        cols.append((x - means[s]) / (sds[s] or 1.0))
    return np.column_stack(cols) if cols else np.zeros((frame.height, 0))


def _bootstrap(frame, names, medians, means, sds, components, directions, n_boot: int, seed: int,
               start: np.ndarray | None = None) -> tuple[dict, int]:
    """Percentile 95% intervals of component weights over resamples of accounts (each fit starting from `start`,
    the full fit's intercept and coefficients)."""
    if n_boot <= 0 or not names:
        return {}, 0
    rng = np.random.default_rng(seed)
    accounts = frame["account_id"].to_numpy()
    uniq, inverse = np.unique(accounts, return_inverse=True)
    # each account's renewals, in row order: rows order[first[a]:first[a] + count[a]]
    order = np.argsort(inverse, kind="stable")
    count = np.bincount(inverse, minlength=len(uniq))
    first = np.r_[0, np.cumsum(count)[:-1]]
    X = _design(frame, names, medians, means, sds)
    y = frame["churned"].to_numpy()
    draws: list[dict[str, float]] = []
    failed = 0
    for _ in range(n_boot):
        pick = rng.integers(0, len(uniq), len(uniq))
        lens = count[pick]
        idx = order[np.repeat(first[pick], lens) + np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)]
        yb = y[idx]
        if (yb >= EVENT_CUT).sum() < MIN_CLASS or (yb < EVENT_CUT).sum() < MIN_CLASS:
            failed += 1
            continue
        fit = logistic(yb, X[idx], names, ridge_fallback=False, start=start)
        if not fit.converged:
            failed += 1
            continue
        draws.append(component_weights(dict(zip(names, fit.coef)), components, directions))
    comps = sorted({c for d in draws for c in d})
    out = {}
    for c in comps:
        v = np.array([d.get(c, 0.0) for d in draws])
        out[c] = (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
    return out, failed


def _weights_with_ci(fit: Fit, names, frame, medians, means, sds, components, directions, settings: Weighting, seed_offset: int = 0):
    point = component_weights(dict(zip(names, fit.coef)), components, directions)
    start = np.r_[fit.intercept, fit.coef] if fit.converged else None
    ci, failed = _bootstrap(frame, names, medians, means, sds, components, directions, settings.bootstrap, settings.seed + seed_offset, start)
    out = {}
    for c in dict.fromkeys([*catalog.COMPONENTS, *point]):
        w = point.get(c, 0.0)
        lo, hi = ci.get(c, (None, None)) if ci else (None, None)
        out[c] = {"weight": w, "ci_low": lo, "ci_high": hi}
    return out, failed


# ---------------------------------------------------------------------------- the analysis


def analyse(data, params: Parameters, *, until=None, frame: pl.DataFrame | None = None) -> Result:
    """Run the whole analysis for a client: the signal search on the renewals before the cut, then every
    figure of its candidates over all renewals. `frame` (points + signals + churned) may be given directly,
    and then its signal columns are the candidates (no search)."""
    w = params.weighting
    current = {c: comp.weight for c, comp in params.score.components.items()}
    comp_of = components_from_params(params)
    found = None
    if frame is None:
        points = sig.renewal_points(data, params.lead_time_days, w.contraction_as_churn, until=until)
        if points.height:
            cut = split.cut_date(points["renewal_date"], params.scorecard.test_share)
            found = search.run(data, params, points, cut)
        names = found.chosen if found else []
        built = sig.build(data, points.select("account_id", "as_of"), names)
        frame = pl.concat([points.select("renewal_date", "outcome", "churned"), built], how="horizontal")
    else:
        names = [c for c in frame.columns if c not in ("account_id", "as_of", "segment", "renewal_date", "outcome", "churned", "arr_before")]
    result = analyse_frame(frame, names, w, current, comp_of)
    result.search = found
    return result


def components_from_params(params: Parameters) -> dict[str, str]:
    """Signal -> component: the client's score configuration first, catalog defaults otherwise."""
    out = {}
    for comp, c in params.score.components.items():
        for s in c.signals:
            out.setdefault(s, comp)
    return out


def analyse_frame(frame: pl.DataFrame, names: list[str], w: Weighting, current: dict[str, float], comp_of: dict[str, str] | None = None) -> Result:
    """The analysis on a ready frame: churned, account_id, segment and one column per signal in `names`."""
    from threadpoolctl import threadpool_limits

    # hundreds of small fits: multi-threaded BLAS only adds overhead (20x slower on a busy machine)
    with threadpool_limits(limits=1, user_api="blas"):
        return _analyse_frame(frame, names, w, current, comp_of)


def _analyse_frame(frame, names, w, current, comp_of) -> Result:
    comp_of = comp_of or {}
    components = {s: comp_of.get(s, catalog.component_of(s)) for s in names}
    directions = {s: catalog.direction_of(s) for s in names}
    y_all = frame["churned"].cast(pl.Float64).to_numpy()
    n = frame.height
    events = int((y_all >= EVENT_CUT).sum())
    messages: list[str] = []
    settings = w.model_dump()
    results: list[SignalResult] = []
    enough = events >= w.min_churn_events and (n - events) >= MIN_CLASS
    if not enough:
        messages.append(
            f"Too few churn events to fit a model: {events} churned renewal(s) among {n}; at least "
            f"{w.min_churn_events} are needed (weighting.min_churn_events). No signal is retained and the current "
            "weights stay in place; rerun when more renewal history is available."
        )
    dec_frames = []
    for s in names:
        x_full = frame[s].cast(pl.Float64)
        mask = x_full.is_not_null().to_numpy()
        x = x_full.to_numpy()[mask]
        y = y_all[mask]
        r = SignalResult(s, components[s], directions[s], catalog.definition_of(s), int(mask.sum()), float(1 - mask.mean()) if n else 1.0)
        results.append(r)
        dec_frames.append(deciles(frame.with_columns(x_full.alias(s)), s))
        if r.n == 0:
            r.reason = "no data: missing for every renewal"
            continue
        if np.unique(x).size < 2:
            r.reason = f"constant: every renewal has the value {x[0]:g}, so it cannot tell churn from renewal"
            messages.append(f"Signal {s} is constant ({x[0]:g} for every renewal with data) and is excluded.")
            continue
        ne = int((y >= EVENT_CUT).sum())
        if ne >= MIN_CLASS and len(y) - ne >= MIN_CLASS:
            u = univariate(x, y, directions[s])
            r.point_biserial, r.auc = u["point_biserial"], u["auc"]
            r.odds_ratio, r.odds_ratio_ci, r.p_value = u["odds_ratio"], u["odds_ratio_ci"], u["p_value"]
            if u.get("note"):
                messages.append(f"Signal {s}: univariate model did not converge ({u['note']}); no odds ratio.")
        else:
            r.point_biserial = point_biserial(x, y)
        if not enough:
            r.reason = f"not assessed: too few churn events ({events} < {w.min_churn_events})"
        elif r.missing_share > w.max_missing_share:
            r.reason = f"missing for {r.missing_share:.0%} of renewals (more than weighting.max_missing_share = {w.max_missing_share:.0%})"
        elif r.odds_ratio is None:
            r.reason = "the univariate model did not converge"
        elif (math.log(r.odds_ratio) * -directions[s]) < 0:
            healthy = "higher" if directions[s] > 0 else "lower"
            r.reason = (
                f"wrong sign: {healthy} values should mean less churn, but here they go with more churn "
                f"(odds ratio {r.odds_ratio:.2f} per SD, p = {r.p_value:.3g})"
            )
        elif r.p_value >= w.significance:
            r.reason = f"not significant (p = {r.p_value:.3g}, not below {w.significance:g})"
        else:
            r.retained = True
            r.reason = f"retained (p = {r.p_value:.3g})"
    kept = [d for d in dec_frames if d.height]
    dec = pl.concat(kept, how="vertical") if kept else pl.DataFrame(schema=DECILES)

    # correlation among every non-constant signal (median-imputed)
    usable = [r.name for r in results if r.n > 0 and not r.reason.startswith("constant") and r.reason != "no data: missing for every renewal"]
    medians = {s: float(frame[s].median()) for s in usable}
    means, sds = {}, {}
    for s in usable:
        x = frame[s].fill_null(medians[s]).to_numpy().astype(np.float64)
        means[s], sds[s] = float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else 0.0
    corr_long = pl.DataFrame(schema=CORRELATION)
    groups: list[list[str]] = []
    if len(usable) >= 2:
        Z = _design(frame, usable, medians, means, sds)
        C = np.corrcoef(Z, rowvar=False)
        corr_long = pl.DataFrame(
            {"a": [a for a in usable for _ in usable], "b": [b for _ in usable for b in usable], "r": C.ravel()}
        )
        groups = correlated_groups(C, usable, w.correlation_threshold)

    model: dict = {"fitted": False}
    proposed = {c: {"weight": current[c], "ci_low": None, "ci_high": None} for c in current}
    segments: dict = {}
    segment_note = ""
    boot_info: dict = {}
    status = "insufficient_data" if not enough else "ok"
    kept = [r.name for r in results if r.retained]
    if enough and kept:
        X = _design(frame, kept, medians, means, sds)
        fit = logistic(y_all, X, kept)
        if fit.note:
            messages.append(fit.note)
        vifs = vif(X)
        for i, s in enumerate(kept):
            r = next(r for r in results if r.name == s)
            r.coefficient = float(fit.coef[i])
            if fit.se is not None:
                r.coefficient_ci = [float(fit.coef[i] - Z95 * fit.se[i]), float(fit.coef[i] + Z95 * fit.se[i])]
            r.vif = float(vifs[i])
            if -directions[s] * fit.coef[i] <= 0:
                r.reason = "retained, but in the joint model its effect is taken by correlated signals (coefficient flips sign): weight 0"
        proposed, failed = _weights_with_ci(fit, kept, frame, medians, means, sds, components, directions, w)
        boot_info = {"resamples": w.bootstrap, "failed": failed, "seed": w.seed, "unit": "account"}
        if failed:
            messages.append(f"{failed} of {w.bootstrap} bootstrap resamples could not be fitted and were skipped.")
        contrib = {s: max(0.0, -directions[s] * float(fit.coef[i])) for i, s in enumerate(kept) if components[s] != NO_COMPONENT}
        total = sum(contrib.values())
        for r in results:
            r.contribution = contrib.get(r.name, 0.0) / total if total > 0 else 0.0
        model = {
            "fitted": True,
            "method": fit.method,
            "converged": fit.converged,
            "note": fit.note,
            "n": n,
            "events": events,
            "imputation": "median of each signal over the renewals; then standardised (mean 0, SD 1)",
            "coefficients": [
                {"signal": s, "coefficient": float(fit.coef[i]),
                 "se": float(fit.se[i]) if fit.se is not None else None,
                 "p_value": float(fit.pvalues[i]) if fit.pvalues is not None else None,
                 "vif": float(vifs[i])}
                for i, s in enumerate(kept)
            ],
            "vif_flagged": [s for i, s in enumerate(kept) if vifs[i] > w.vif_threshold],
        }
        segments, segment_note = _segment_weights(frame, kept, medians, means, sds, components, directions, w, messages)
    elif enough:
        messages.append("No signal passed the checks, so no weights can be derived; the current weights stay in place.")
        status = "no_signal"
    # rank: retained by contribution, then the rest by strength of univariate evidence
    def strength(r: SignalResult) -> float:
        return abs(math.log(r.odds_ratio)) if r.odds_ratio else 0.0

    order = sorted(results, key=lambda r: (not r.retained, -r.contribution, -strength(r)))
    for i, r in enumerate(order, 1):
        r.rank = i
    results.sort(key=lambda r: r.rank)
    return Result(status, n, events, messages, results, dec, corr_long, groups, model, proposed, current, segments, segment_note, boot_info, settings)


def _segment_weights(frame, kept, medians, means, sds, components, directions, w: Weighting, messages) -> tuple[dict, str]:
    if "segment" not in frame.columns or frame["segment"].null_count() == frame.height:
        return {}, "No segment column: the overall weights apply to every account."
    counts = (
        frame.filter(pl.col("segment").is_not_null())
        .group_by("segment")
        .agg((pl.col("churned") >= EVENT_CUT).sum().alias("events"), pl.len().alias("n"))
        .sort("segment")
    )
    short = counts.filter(pl.col("events") < w.min_segment_churn_events)
    if short.height:
        detail = ", ".join(f"{s} has {e}" for s, e in short.select("segment", "events").iter_rows())
        return {}, (
            f"Per-segment weights need at least {w.min_segment_churn_events} churn events in every segment "
            f"(weighting.min_segment_churn_events); {detail}. The overall weights apply to every segment."
        )
    out = {}
    for k, (seg, ev, nn) in enumerate(counts.iter_rows()):
        sub = frame.filter(pl.col("segment") == seg)
        fit = logistic(sub["churned"].to_numpy(), _design(sub, kept, medians, means, sds), kept)
        if fit.note:
            messages.append(f"Segment {seg}: {fit.note}")
        weights, failed = _weights_with_ci(fit, kept, sub, medians, means, sds, components, directions, w, seed_offset=k + 1)
        out[seg] = weights
    return out, f"Every segment has at least {w.min_segment_churn_events} churn events: weights are also derived per segment."


# ---------------------------------------------------------------------------- outputs


def rounded(weights: dict[str, float], digits: int = 3) -> dict[str, float]:
    """Weights rounded so they still sum to exactly 1 (the largest absorbs the rounding)."""
    r = {c: round(float(v), digits) for c, v in weights.items()}
    if r and sum(r.values()) > 0:
        top = max(r, key=lambda c: r[c])
        r[top] = round(r[top] + 1 - sum(r.values()), digits)
    return r


def yaml_fragment(result: Result, params: Parameters) -> str:
    """A `score: components:` fragment in the parameters-file format, to paste over the current one."""
    import yaml

    weights = rounded({c: v["weight"] for c, v in result.proposed.items()})
    comps = {}
    for c in dict.fromkeys([*params.score.components, *result.proposed]):
        cur = params.score.components.get(c)
        chosen = [s.name for s in result.signals if s.retained and s.component == c]
        if not chosen:
            if cur is None:
                continue
            chosen = list(cur.signals)  # no retained signal: keep the component at weight 0
        comps[c] = {"weight": float(weights.get(c, 0.0)), "signals": chosen}
    if result.status != "ok":
        comps = {c: {"weight": comp.weight, "signals": list(comp.signals)} for c, comp in params.score.components.items()}
    head = [
        f"# Proposed health-score weights for {params.name}, from {result.n} renewals ({result.events} churned).",
        "# Paste over `score: components:` in the parameters file (bands and other settings are unchanged).",
    ]
    if result.status != "ok":
        head.append(f"# No new weights ({result.status}): these are the current weights. " + " ".join(result.messages[:1]))
    for c, v in result.proposed.items():
        if v.get("ci_low") is not None:
            head.append(f"# {c}: {v['weight']:.3f} (95% bootstrap interval {v['ci_low']:.3f} to {v['ci_high']:.3f})")
    for seg, ws in result.segments.items():
        head.append(f"# segment {seg}: " + ", ".join(f"{c} {x['weight']:.3f}" for c, x in ws.items()))
    body = yaml.safe_dump({"score": {"components": comps}}, sort_keys=False, default_flow_style=None, width=120)
    return "\n".join(head) + "\n" + body


def unavailable(params: Parameters, reason: str) -> Result:
    """The result when the analysis cannot run at all (e.g. no renewals table): current weights stay."""
    current = {c: comp.weight for c, comp in params.score.components.items()}
    return Result(
        "not_available", 0, 0, [f"Not available: {reason}"], [],
        pl.DataFrame(schema=DECILES),
        pl.DataFrame(schema=CORRELATION), [], {"fitted": False},
        {c: {"weight": w, "ci_low": None, "ci_high": None} for c, w in current.items()}, current,
        settings=params.weighting.model_dump(),
    )


class WeightsDocument(Document):
    """weights.json: `Result.to_json()` with the run's client, period, as-of day and lead time; read by the back-test,
    the maintenance check, reruns and the site."""

    FILE = registry.WEIGHTS_JSON
    REQUIRED = ("status", "reason", "proposed_weights", "current_weights", "signals", "search", "period")

    @property
    def ok(self) -> bool:
        return self.doc["status"] == "ok"

    @property
    def reason(self) -> str | None:
        return self.doc["reason"]


def run_for(ctx) -> Result:
    """The notebook's one call: analyse the client's renewals up to the period end, write the artefacts.

    Writes weights.json (read by the back-test and the maintenance check) and proposed_weights.yml.
    """
    from kit.errors import KitError

    try:
        result = analyse(ctx.data, ctx.params, until=ctx.as_of)
    except KitError as e:
        result = unavailable(ctx.params, e.message)
    out = result.to_json()
    out.update(client=ctx.params.client, period=ctx.period.label, as_of=ctx.as_of.isoformat(), lead_time_days=ctx.params.lead_time_days)
    WeightsDocument(out).write(ctx.run_dir)
    (ctx.run_dir / registry.PROPOSED_WEIGHTS).write_text(yaml_fragment(result, ctx.params), encoding="utf-8")
    return result
