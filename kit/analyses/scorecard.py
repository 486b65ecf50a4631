"""The proposed scorecard: measures, value ranges, weights and bands a client types into a CS platform.

It is fitted on the earlier renewals, judged on the later ones, exported as `scorecard.json` plus
platform-shaped tables, and back-tested exactly as exported (kit.analyses.backtest reads the file back).

Method (steps 2-6 see only the renewals dated before the cut):

1. **Time split.** Past renewals are sorted by date; the latest `scorecard.test_share` of them
   (default: a third) are kept out of the fit. The cut is the first renewal date of that share:
   the scorecard is fitted on renewals dated before the cut and judged out of time on renewals
   dated on or after it. Signals are measured `lead_time_days` before each renewal from records
   dated before that moment, and outcomes of renewals before the cut are known before it, so
   nothing dated on or after the cut reaches the fit.
2. **Candidate measures.** Every signal of a score component (usage, support, billing, sentiment,
   relationship) that has a value for at least 1 - `weighting.max_missing_share` of the fit
   renewals and whose univariate odds ratio points in its healthy direction (kit.analyses.catalog) with
   p < `weighting.significance`, the same evidence as the churn correlation notebook.
3. **Value ranges.** Two cuts split a measure's values into a red, a yellow and a green range.
   Among cut pairs taken from the 5th to the 95th percentile (steps of 5), the pair with the
   highest binomial log-likelihood of churn given the range wins (the most informative split),
   provided every range holds at least `min_tier_share` of the renewals with a value and the
   churn rates fall from red to yellow to green. Cuts are rounded to two significant digits
   (integers stay integers) so they can be typed, and every later step uses the rounded cuts.
   Ranges are (lower cut, upper cut]: a value equal to a cut belongs to the lower range.
4. **Range scores.** Red scores 0, green 100, yellow where its churn rate sits between the two:
   100 x (red rate - yellow rate) / (red rate - green rate). Renewals without a value score by
   the same rule from their own churn rate (clipped to 0-100) when they are at least
   `min_tier_share` of the fit renewals, else like yellow. Scores are whole numbers.
5. **Weights.** A logistic regression of churn on the measures' range scores (statsmodels); a
   measure's weight is the size of its coefficient (how much the churn odds fall per point),
   normalised to add up to 1. A measure whose coefficient says more points mean more churn is
   dropped and the rest refitted; then at most `max_measures` measures are kept (the heaviest),
   and measures below `min_weight` are dropped and the rest refitted. Weights are rounded to
   whole percents adding up to 100 (largest remainders); a component's weight is the sum of its
   measures' weights.
6. **Composite and bands.** Score = sum over measures of weight x range score (0-100), in whole
   points. On the fit renewals, **red** (score below the threshold) is chosen among the
   thresholds that flag at most `max_red_share` of renewals: recall minus false positive rate
   (Youden's J) is usually flat near its best, so every threshold within `red_tolerance` of the
   best J is an equally good trade-off, and the highest of them, which catches the most churn,
   is taken. **Green** (at or above the threshold) starts at the lowest threshold above red at or
   above which the churn rate is at most `green_churn_ratio` x the base rate and the share of
   churned renewals is, with 95% confidence (one-sided Wilson bound), at most
   `max_churned_green`: the seed's red flag is 20% of churned accounts scored healthy, and the fit
   aims at half of it with a margin for the renewals it has not seen. Yellow is between.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from kit.analyses import signals as sig
from kit.errors import KitError
from kit.params import Bands, Component, Score, Scorecard, Tiers, Weighting

FILE = "scorecard.json"
QUANTILES = np.round(np.arange(0.05, 0.951, 0.05), 2)
COMPONENT_GROUPS = ("usage", "support", "billing", "sentiment", "relationship")
COLOURS = ("red", "yellow", "green")


# ---------------------------------------------------------------------------- 1. time split


@dataclass(frozen=True)
class Split:
    cut: date
    fit: pl.DataFrame  # renewals dated before the cut
    test: pl.DataFrame  # renewals dated on or after it

    def describe(self) -> dict[str, Any]:
        def part(f: pl.DataFrame) -> dict[str, Any]:
            return {"from": f["renewal_date"].min(), "to": f["renewal_date"].max(), "renewals": f.height,
                    "churned": int(f["churned"].cast(pl.Int64).sum())}
        return {"cut": self.cut, "fitted_on": part(self.fit), "evaluated_on": part(self.test)}


def split(frame: pl.DataFrame, test_share: float) -> Split:
    """Keep the latest `test_share` of renewals (by date) out of the fit; renewals of one date stay together."""
    if frame.height == 0:
        raise KitError("no renewal to split", where="scorecard", fix="the back-test needs past renewals with a lead-time score")
    dates = frame["renewal_date"].sort()
    cut = dates[min(frame.height - 1, int(math.floor(frame.height * (1 - test_share))))]
    fit = frame.filter(pl.col("renewal_date") < cut)
    return Split(cut, fit, frame.filter(pl.col("renewal_date") >= cut))


# ---------------------------------------------------------------------------- 2. candidates


def candidates(fit: pl.DataFrame, names: list[str], weighting: Weighting) -> tuple[list[str], dict[str, str]]:
    """(signals that may become measures, {signal: why not}) on the fit renewals (method step 2)."""
    from kit.analyses import weighting as wmod

    y = fit["churned"].cast(pl.Float64).to_numpy()
    keep, why = [], {}
    for s in names:
        if sig.component_of(s) not in COMPONENT_GROUPS:
            why[s] = "an account attribute, not a health measure"
            continue
        x = fit[s].cast(pl.Float64).to_numpy()
        m = ~np.isnan(x)
        if not len(m) or m.mean() < 1 - weighting.max_missing_share:
            why[s] = f"has a value for {m.mean():.0%} of the fit renewals (needs {1 - weighting.max_missing_share:.0%})"
            continue
        if np.unique(x[m]).size < 2 or y[m].min() == y[m].max():
            why[s] = "constant, or no churn among the renewals with a value"
            continue
        u = wmod.univariate(x[m], y[m], sig.direction_of(s))
        if u["odds_ratio"] is None:
            why[s] = "the univariate model did not converge"
        elif math.log(u["odds_ratio"]) * -sig.direction_of(s) <= 0:
            why[s] = f"goes the wrong way before the cut (odds ratio {u['odds_ratio']:.2f} per SD)"
        elif u["p_value"] >= weighting.significance:
            why[s] = f"not significant before the cut (p = {u['p_value']:.2g})"
        else:
            keep.append(s)
    return keep, why


# ---------------------------------------------------------------------------- 3. value ranges


def _loglik(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Binomial log-likelihood of k churned among n in each range (last axis), at each range's own churn
    rate: one figure per row of ranges."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    p = np.divide(k, n, out=np.zeros(k.shape), where=n > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(k > 0, k * np.log(np.where(p > 0, p, 1)), 0.0) + np.where(n - k > 0, (n - k) * np.log1p(-np.where(p < 1, p, 0)), 0.0)
    return t.sum(axis=-1)


def range_counts(x: np.ndarray, y: np.ndarray, cuts: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """(renewals, churned) per range (lower cut, upper cut], lowest values first, of the values present."""
    idx = np.searchsorted(np.asarray(cuts, dtype=float), x, side="left")  # x <= cuts[0] -> 0
    n = np.bincount(idx, minlength=len(cuts) + 1)
    k = np.bincount(idx, weights=y, minlength=len(cuts) + 1)
    return n, k


def _in_risk_order(rates: np.ndarray, direction: int) -> bool:
    """Churn falls strictly from the riskiest range to the healthiest."""
    r = rates if direction < 0 else rates[::-1]  # riskiest last
    return bool(np.all(np.diff(r) > 0))


def best_cuts(x: np.ndarray, y: np.ndarray, direction: int, min_share: float) -> list[float] | None:
    """The two cuts with the highest log-likelihood, ranges big enough and in risk order (method step 3).

    Every pair of grid values at once: renewals and churn per range from cumulative counts."""
    grid = np.unique(np.quantile(x, QUANTILES, method="lower"))
    if grid.size < 2:
        return None
    order = np.argsort(x, kind="stable")
    below = np.searchsorted(x[order], grid, side="right")  # renewals with a value <= each grid value
    churn = np.r_[0.0, np.cumsum(y[order])][below]
    i, j = np.triu_indices(grid.size, k=1)
    n = np.stack([below[i], below[j] - below[i], len(x) - below[j]], axis=1).astype(float)
    k = np.stack([churn[i], churn[j] - churn[i], y.sum() - churn[j]], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = k / n
    falling = rates[:, 0] > rates[:, 1]  # churn falls as values rise (healthy direction +1) ...
    ordered = (falling & (rates[:, 1] > rates[:, 2])) if direction > 0 else ((rates[:, 0] < rates[:, 1]) & (rates[:, 1] < rates[:, 2]))
    ok = (n.min(axis=1) >= min_share * len(x)) & ordered
    if not ok.any():
        return None
    total = np.where(ok, _loglik(k, n), -np.inf)
    best = int(np.argmax(total))  # the first of equals: the lowest cuts
    return [float(grid[i[best]]), float(grid[j[best]])]


def readable(cuts: list[float], integers: bool) -> list[float]:
    """Cuts rounded to two significant digits (three, ... when rounding would merge them); integers stay integers."""
    if integers:
        out = [float(math.floor(c)) for c in cuts]
        return out if len(set(out)) == len(out) else cuts
    for digits in (2, 3, 4):
        out = [_significant(c, digits) for c in cuts]
        if all(b > a for a, b in zip(out, out[1:])):
            return out
    return cuts


def _significant(v: float, digits: int) -> float:
    if v == 0 or not math.isfinite(v):
        return v
    return round(v, digits - 1 - int(math.floor(math.log10(abs(v)))))


# ---------------------------------------------------------------------------- 4. range scores


def range_scores(n: np.ndarray, k: np.ndarray, direction: int, missing: tuple[int, float], min_count: float) -> tuple[list[float], float]:
    """(score of each range, score without a value): red 0, green 100, the rest placed by churn rate."""
    rates = k / n
    red, green = (rates[0], rates[-1]) if direction > 0 else (rates[-1], rates[0])

    def place(rate: float) -> float:
        return float(round(min(100.0, max(0.0, 100 * (red - rate) / (red - green)))))

    scores = [place(r) for r in rates]
    scores[0 if direction > 0 else -1], scores[-1 if direction > 0 else 0] = 0.0, 100.0
    n_miss, k_miss = missing
    yellow = scores[1]
    return scores, (place(k_miss / n_miss) if n_miss >= min_count and n_miss > 0 else yellow)


# ---------------------------------------------------------------------------- 5. weights


def percents(weights: dict[str, float]) -> dict[str, int]:
    """Whole percents adding up to 100: floors, then the largest remainders get one more."""
    total = sum(weights.values())
    raw = {k: 100 * v / total for k, v in weights.items()}
    out = {k: int(math.floor(v)) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), k))[: 100 - sum(out.values())]:
        out[k] += 1
    return out


def _logit_weights(X: np.ndarray, y: np.ndarray, names: list[str]) -> dict[str, float]:
    """Minus each coefficient of churn on the range scores (0-1): points that lower churn weigh more."""
    from kit.analyses import weighting as wmod

    fit = wmod.logistic(y, X, names)
    return {s: -float(b) for s, b in zip(names, fit.coef)}


def choose_weights(X: np.ndarray, y: np.ndarray, names: list[str], s: Scorecard) -> tuple[dict[str, int], list[str]]:
    """(whole-percent weights of the kept measures, notes on the dropped ones) (method step 5)."""
    notes = []
    cols = list(range(len(names)))
    while cols:
        w = _logit_weights(X[:, cols], y, [names[i] for i in cols])
        wrong = [i for i in cols if w[names[i]] <= 0]
        if wrong:
            worst = min(wrong, key=lambda i: w[names[i]])
            notes.append(f"{names[worst]}: dropped, its effect is taken by the other measures (more points would mean more churn)")
            cols.remove(worst)
            continue
        total = sum(w.values())
        ranked = sorted(cols, key=lambda i: -w[names[i]])
        light = [i for i in ranked if w[names[i]] / total < s.min_weight]
        extra = ranked[s.max_measures:]
        drop = extra if extra else light[-1:]  # over the limit: the lightest go; else the lightest below min_weight
        if not drop:
            return percents({names[i]: w[names[i]] for i in cols}), notes
        for i in drop:
            why = f"beyond the {s.max_measures} heaviest measures" if extra else f"weighs {w[names[i]] / total:.1%}, below {s.min_weight:.0%}"
            notes.append(f"{names[i]}: dropped, {why}")
            cols.remove(i)
    return {}, notes


# ---------------------------------------------------------------------------- 6. bands


def wilson_upper(k: float, n: float, z: float = 1.6448536269514722) -> float:
    """One-sided upper confidence bound (95% by default) of a proportion k / n (Wilson score interval)."""
    if n <= 0:
        return 1.0
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + half) / (1 + z * z / n))


def choose_bands(score: np.ndarray, churned: np.ndarray, s: Scorecard) -> tuple[Bands, str]:
    """Red and green thresholds on the fit renewals' composite scores (method step 6)."""
    churned = churned.astype(bool)
    n_c = int(churned.sum())
    n_r = len(score) - n_c
    base = n_c / len(score)
    sweep = []  # (threshold, recall - false positive rate) for thresholds flagging at most max_red_share
    for t in range(1, 101):
        red = score < t
        if red.mean() > s.max_red_share:
            break
        sweep.append((t, (red & churned).sum() / n_c - (red & ~churned).sum() / n_r))
    if sweep:
        best_j = max(j for _, j in sweep)
        red_t = max(t for t, j in sweep if j >= best_j - s.red_tolerance)
    else:
        red_t, best_j = 1, 0.0
    red_t = min(red_t, 99)
    green_t = None
    for g in range(red_t + 1, 101):
        up = score >= g
        if not up.any():
            break
        if churned[up].mean() <= s.green_churn_ratio * base and wilson_upper((up & churned).sum(), n_c) <= s.max_churned_green:
            green_t = g
            break
    why = (f"red below {red_t}: of the thresholds flagging at most {s.max_red_share:.0%} of the fit renewals, those within "
           f"{s.red_tolerance:g} of the best recall minus false positive rate ({best_j:.2f}) are equally good trade-offs, and "
           f"{red_t} is the one among them that catches the most churn; ")
    if green_t is None:
        green_t = min(100, max(red_t + 1, int(np.max(score)) + 1))
        why += (f"green: no threshold keeps churn at most {s.green_churn_ratio:g} x the base rate with at most "
                f"{s.max_churned_green:.0%} of churned renewals, so green starts above every fit score ({green_t})")
    else:
        why += (f"green from {green_t}: the lowest threshold at or above which churn is at most {s.green_churn_ratio:g} x the "
                f"base rate ({base:.1%}) and, with 95% confidence, at most {s.max_churned_green:.0%} of churned renewals fall")
    return Bands(red=red_t, green=green_t), why


# ---------------------------------------------------------------------------- the fit


def fit(frame: pl.DataFrame, names: list[str], settings: Scorecard, weighting: Weighting,
        components: dict[str, str] | None = None) -> dict[str, Any]:
    """The scorecard document fitted on `frame` (the fit renewals: churned + one column per signal).

    `components` maps a signal to its score component (default: the catalog's). Returns the
    document written to scorecard.json without the split dates (the caller adds them), or a
    document with `measures: []` and `reason` when no scorecard can be fitted.
    """
    components = components or {}
    y = frame["churned"].cast(pl.Float64).to_numpy()
    n_events = int((y >= 0.5).sum())
    doc: dict[str, Any] = {"method": "kit.analyses.scorecard", "measures": [], "excluded": {}, "notes": []}
    if n_events < settings.min_churn_events or frame.height - n_events < settings.min_churn_events:
        doc["reason"] = (f"{n_events} churned and {frame.height - n_events} retained renewals before the cut; at least "
                         f"{settings.min_churn_events} of each are needed (scorecard.min_churn_events)")
        return doc
    keep, why = candidates(frame, names, weighting)
    doc["candidates"] = keep
    doc["excluded"] = dict(why)
    ranges: dict[str, dict[str, Any]] = {}
    for s in keep:
        x_all = frame[s].cast(pl.Float64).to_numpy()
        m = ~np.isnan(x_all)
        x, yy, d = x_all[m], y[m], sig.direction_of(s)
        cuts = best_cuts(x, yy, d, settings.min_tier_share)
        if cuts is None:
            doc["excluded"][s] = "no two cuts split it into three ranges of enough renewals with churn in risk order"
            continue
        cuts = readable(cuts, bool(np.all(x == np.round(x))))
        n, k = range_counts(x, yy, cuts)
        if n.min() == 0 or not _in_risk_order(k / n, d):
            doc["excluded"][s] = "its rounded cuts no longer split churn in risk order"
            continue
        scores, missing = range_scores(n, k, d, (int((~m).sum()), float(y[~m].sum())), settings.min_tier_share * frame.height)
        ranges[s] = {"cuts": cuts, "scores": scores, "missing": missing, "n": n.tolist(), "k": k.tolist(),
                     "n_missing": int((~m).sum()), "k_missing": float(y[~m].sum())}
    if not ranges:
        doc["reason"] = "no signal qualifies as a measure before the cut (see excluded)"
        return doc
    order = list(ranges)
    X = np.column_stack([_points(frame[s].cast(pl.Float64).to_numpy(), ranges[s]) / 100 for s in order])
    weights, notes = choose_weights(X, y, order, settings)
    doc["notes"] = notes
    if not weights:
        doc["reason"] = "no measure keeps a weight in the joint model"
        return doc
    for s in order:
        if s not in weights:
            continue
        r = ranges[s]
        d = sig.direction_of(s)
        doc["measures"].append({
            "signal": s, "component": components.get(s, sig.component_of(s)), "weight": weights[s] / 100,
            "direction": "higher is healthier" if d > 0 else "lower is healthier",
            "definition": sig.definition_of(s),
            "cuts": r["cuts"], "scores": r["scores"], "missing_score": r["missing"],
            "ranges": ranges_of(r["cuts"], r["scores"]),
            "fit_evidence": {"renewals": r["n"], "churned": r["k"], "churn_rate": [k / n for k, n in zip(r["k"], r["n"])],
                             "without_value": {"renewals": r["n_missing"], "churned": r["k_missing"]}},
        })
    doc["measures"].sort(key=lambda m: (-m["weight"], m["signal"]))
    doc["components"] = component_weights(doc["measures"])
    composite = points(doc, frame)
    bands, why = choose_bands(composite, y >= 0.5, settings)
    doc["bands"] = {"red": bands.red, "green": bands.green, "criterion": why}
    return doc


def ranges_of(cuts: list[float], scores: list[float]) -> list[dict[str, Any]]:
    """The value ranges of a measure, lowest values first: above (exclusive), up to (inclusive), score, colour."""
    bounds = [None, *cuts, None]
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    colour = {order[0]: "red", order[-1]: "green"}
    return [{"above": bounds[i], "up_to": bounds[i + 1], "score": scores[i], "colour": colour.get(i, "yellow")}
            for i in range(len(scores))]


def component_weights(measures: list[dict]) -> dict[str, float]:
    out: dict[str, float] = {}
    for m in measures:
        out[m["component"]] = round(out.get(m["component"], 0.0) + m["weight"], 6)
    return out


def _points(x: np.ndarray, rule: dict) -> np.ndarray:
    """Range score of each value (missing: the no-value score); the numpy twin of kit.analyses.scoring.tier_score."""
    idx = np.searchsorted(np.asarray(rule["cuts"], dtype=float), np.nan_to_num(x, nan=0.0), side="left")
    out = np.asarray(rule["scores"], dtype=float)[idx]
    return np.where(np.isnan(x), rule["missing"] if "missing" in rule else rule["missing_score"], out)


def points(doc: dict, frame: pl.DataFrame) -> np.ndarray:
    """The composite score of every row of a signals frame, computed by kit.analyses.scoring from the document."""
    from kit.analyses import scoring

    score = to_score(doc)
    f = frame
    for c in ("account_id", "as_of"):
        if c not in f.columns:
            f = f.with_columns(pl.lit(None, pl.String if c == "account_id" else pl.Date).alias(c))
    return scoring.composite(scoring.components(f, score), score)["score"].to_numpy()


# ---------------------------------------------------------------------------- the document as a score


def to_score(doc: dict, at_risk_weeks: int = 2, trend_days: int = 30) -> Score:
    """The scorecard as a kit score configuration: one `tiers` component per component group."""
    if not doc.get("measures"):
        raise KitError(f"the scorecard has no measures: {doc.get('reason', 'none fitted')}", where=FILE,
                       fix="see the back-test report for why no scorecard could be fitted")
    comps: dict[str, dict] = {}
    for m in doc["measures"]:
        c = comps.setdefault(m["component"], {"weight": 0.0, "signals": [], "transform": "tiers", "tiers": {}, "signal_weights": {}})
        c["signals"].append(m["signal"])
        c["tiers"][m["signal"]] = Tiers(cuts=m["cuts"], scores=m["scores"], missing=m["missing_score"])
        c["signal_weights"][m["signal"]] = m["weight"]
        c["weight"] = round(c["weight"] + m["weight"], 6)
    return Score(components={k: Component(**v) for k, v in comps.items()},
                 bands=Bands(red=doc["bands"]["red"], green=doc["bands"]["green"]) if "bands" in doc else Bands(),
                 at_risk_weeks=at_risk_weeks, trend_days=trend_days)


def write(doc: dict, folder: Path) -> Path:
    """scorecard.json, scorecard_gainsight.csv, scorecard_churnzero.csv and proposed_scorecard.yml."""
    from kit.notebook import write_json

    path = write_json(folder / FILE, doc)
    if doc.get("measures"):
        gainsight(doc).write_csv(folder / "scorecard_gainsight.csv")
        churnzero(doc).write_csv(folder / "scorecard_churnzero.csv")
        (folder / "proposed_scorecard.yml").write_text(yaml_block(doc), encoding="utf-8")
    return path


def read(folder: Path) -> dict:
    import json

    return json.loads((folder / FILE).read_text())


# ---------------------------------------------------------------------------- platform-shaped exports


def _num(v: float) -> str:
    return f"{v:g}"


def _percent(v: float) -> str:
    return f"{100 * v:.3g}%"


def range_text(r: dict, signal: str | None = None) -> str:
    """A value range in words a platform rule takes: '<= 1.8', '> 1.8 and <= 2.3', '> 2.3'. With a `signal`
    measured as a fraction (a relative change), for people: '<= -0.33%' (the exports keep the fraction)."""
    from kit.analyses import catalog

    num = _percent if signal in catalog.SIGNALS and catalog.SIGNALS[signal].percent else _num
    lo, hi = r["above"], r["up_to"]
    if lo is None:
        return f"<= {num(hi)}"
    if hi is None:
        return f"> {num(lo)}"
    return f"> {num(lo)} and <= {num(hi)}"


def gainsight(doc: dict) -> pl.DataFrame:
    """One row per measure: component, measure, weight in percent (adding up to 100), red / yellow / green
    value ranges with the score each gives, and the score when the measure has no value."""
    rows = []
    for m in doc["measures"]:
        by_colour = {r["colour"]: r for r in m["ranges"]}
        rows.append({
            "component": m["component"], "measure": m["signal"], "weight_percent": round(100 * m["weight"]),
            **{f"{c}_range": range_text(by_colour[c]) for c in COLOURS},
            **{f"{c}_score": int(by_colour[c]["score"]) for c in COLOURS},
            "no_value_score": int(m["missing_score"]),
            "definition": m["definition"],
        })
    return pl.DataFrame(rows)


def churnzero(doc: dict) -> pl.DataFrame:
    """One row per factor and value range: the range (bottom exclusive, top inclusive), the share of the
    factor's points it earns and the points; factor points add up to 100 at best."""
    rows = []
    for m in doc["measures"]:
        total = round(100 * m["weight"])
        for r in [*m["ranges"], {"above": None, "up_to": None, "score": m["missing_score"], "colour": "no value"}]:
            rows.append({
                "factor": m["signal"], "factor_total_points": total,
                "range_from_exclusive": r["above"], "range_to_inclusive": r["up_to"],
                "no_value": r["colour"] == "no value",
                "percent_of_points": int(r["score"]), "points": total * r["score"] / 100,
            })
    return pl.DataFrame(rows, schema_overrides={"range_from_exclusive": pl.Float64, "range_to_inclusive": pl.Float64})


def yaml_block(doc: dict) -> str:
    """A `score:` block for the parameters file: the scorecard as the client's configured score."""
    import yaml

    score = to_score(doc)
    comps = {}
    for name, c in score.components.items():
        comps[name] = {
            "weight": c.weight, "transform": "tiers", "signals": list(c.signals),
            "signal_weights": dict(c.signal_weights),
            "tiers": {s: {"cuts": t.cuts, "scores": t.scores, "missing": t.missing} for s, t in c.tiers.items()},
        }
    head = [
        "# Proposed scorecard (kit.analyses.scorecard): paste over `score:` in the parameters file once adopted,",
        f"# so the back-test's `current` and the monthly maintenance check judge it. Fitted on renewals before {doc.get('cut')}.",
    ]
    body = yaml.safe_dump({"score": {"components": comps, "bands": {"red": score.bands.red, "green": score.bands.green}}},
                          sort_keys=False, default_flow_style=None, width=140)
    return "\n".join(head) + "\n" + body


# ---------------------------------------------------------------------------- what transparency costs


def auc_of(risk: np.ndarray, churned: np.ndarray) -> float | None:
    from kit.analyses import weighting as wmod

    m = ~np.isnan(risk)
    v = wmod.auc(risk[m], churned[m].astype(bool))
    return None if math.isnan(v) else v


def reference(fit_frame: pl.DataFrame, test: pl.DataFrame, names: list[str]) -> dict[str, Any]:
    """A logistic regression on the same candidate signals (median-imputed, standardised on the fit renewals):
    AUC before the cut (in sample) and after it (out of time). A yardstick, not a candidate."""
    from kit.analyses import weighting as wmod

    if not names:
        return {"signals": [], "auc_in_sample": None, "auc_out_of_time": None, "note": "no candidate signal"}
    med = {s: float(fit_frame[s].median()) for s in names}

    def design(f: pl.DataFrame) -> np.ndarray:
        return np.column_stack([f[s].cast(pl.Float64).fill_null(med[s]).fill_nan(med[s]).to_numpy() for s in names])

    Xf = design(fit_frame)
    mu, sd = Xf.mean(0), Xf.std(0, ddof=1)
    sd[~(sd > 0)] = 1.0
    yf = fit_frame["churned"].cast(pl.Float64).to_numpy()
    model = wmod.logistic(yf, (Xf - mu) / sd, names)
    yt = test["churned"].cast(pl.Float64).to_numpy()
    return {
        "signals": names, "method": model.method,
        "auc_in_sample": auc_of((Xf - mu) / sd @ model.coef, yf >= 0.5),
        "auc_out_of_time": auc_of((design(test) - mu) / sd @ model.coef, yt >= 0.5) if test.height else None,
    }


def single_signals(fit_frame: pl.DataFrame, test: pl.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    """Each signal alone as a risk score (oriented by its healthy direction): AUC before and after the cut,
    over the renewals with a value."""
    rows = []
    for s in names:
        d = sig.direction_of(s)
        row = {"signal": s, "component": sig.component_of(s)}
        for key, f in (("in_sample", fit_frame), ("out_of_time", test)):
            x = f[s].cast(pl.Float64).to_numpy()
            row[f"auc_{key}"] = auc_of(-d * x, f["churned"].cast(pl.Float64).to_numpy() >= 0.5) if f.height else None
            row[f"with_value_{key}"] = float((~np.isnan(x)).mean()) if f.height else None
        rows.append(row)
    return sorted(rows, key=lambda r: -(r["auc_in_sample"] or 0))
