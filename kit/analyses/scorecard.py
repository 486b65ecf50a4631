"""The proposed scorecard: measures, value tiers, weights and bands a client types into a CS platform.

It is fitted on the earlier renewals, judged on the later ones, exported as `scorecard.json` plus
platform-shaped tables, and back-tested exactly as exported (kit.analyses.backtest reads the file back).

Method (steps 2-7 see only the renewals dated before the cut):

1. **Time split** (kit.analyses.split): the latest `scorecard.test_share` of renewals are kept out of
   every fit. Inside the fit renewals, `scorecard.cv_folds` blocks in date order judge the choices
   below on renewals they were not made on: each block after the first is scored by what the blocks
   before it fitted.
2. **Candidate measures**: the signal search's candidates (kit.analyses.search), chosen before the cut.
3. **Value tiers.** Per measure, 2 to 5 value ranges: the exact best split of its values (highest
   binomial log-likelihood of churn given the range) under a monotone churn trend, each range holding at
   least `min_tier_share` of the renewals with a value (kit.analyses.stats). The number of ranges comes
   from the likelihood cross-validated in time: of the numbers whose held-out log-likelihood is within 2
   of the best (equally supported), the largest, since more ranges rank renewals more finely. Cuts are then moved to
   the shortest number that splits the fit renewals exactly as before, or rounded to two significant
   digits when that keeps the ranges in risk order and big enough; a measure is never lost to
   rounding. Ranges are (lower cut, upper cut]: a value equal to a cut belongs to the lower range.
4. **Range scores.** Each range's churn log-odds placed on 0-100: the riskiest range scores 0, the
   healthiest 100, the others in proportion to their log-odds, so that adding up measures' points
   adds up evidence the way a logistic regression does. Renewals without a value score by their own
   churn rate when they are at least `min_tier_share` of the fit renewals, else by the base rate
   (clipped to 0-100). Scores are whole numbers.
5. **Weights.** A logistic regression of churn on the measures' range scores (statsmodels); a
   measure's weight is the size of its coefficient (how much the churn odds fall per point),
   normalised to add up to 1. A measure whose coefficient says more points mean more churn is
   dropped and the rest refitted; then at most `max_measures` measures are kept (the heaviest),
   and measures below `min_weight` are dropped and the rest refitted. Weights are rounded to
   whole percents adding up to 100 (largest remainders); a component's weight is the sum of its
   measures' weights.
6. **The composite never loses to its best part.** Steps 3-5 are repeated inside the fit renewals,
   block by block (step 1), and the composite's cross-validated AUC is compared with that of each
   measure alone, tiered the same way. When the composite's is lower than its best measure's, the
   scorecard is that measure alone.
7. **Bands.** Score = sum over measures of weight x range score (0-100). The bands are fitted on the
   fit renewals of the latest `band_blocks` time blocks, the closest in time to the renewals they will
   judge (exports that begin inside a window make the earliest renewals' scores read differently).
   **Red** (score below the threshold): among the thresholds that flag at most `max_red_share` of
   every one of those blocks (so the share holds as time moves on, not only on average), recall
   minus false positive rate (Youden's J) is usually flat near its best; every
   threshold within `red_tolerance` of the best J is an equally good trade-off, and the highest of
   them, which catches the most churn, is taken. **Green** (at or above the threshold) starts at the
   lowest threshold above red at or above which the churn rate is at most `green_churn_ratio` x the
   base rate and the share of churned renewals is, with 95% confidence (one-sided Wilson bound), at
   most `max_churned_green`: the seed's red flag is
   20% of churned accounts scored healthy, and the fit aims at half of it with a margin for the
   renewals it has not seen. Yellow is between. A range's colour is the band its score falls in.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from kit.analyses import split as timesplit, stats
from kit import catalog
from kit.artefacts import write_json
from kit.errors import KitError
from kit.params import Bands, Component, Score, Scorecard, Tiers

FILE = "scorecard.json"
MAX_TIERS = 5
NO_VALUE = "no value"


# ---------------------------------------------------------------------------- 3-4. tiers of one measure


def tier_scores(n, k, missing: tuple[float, float], min_count: float, base_rate: float) -> tuple[list[float], float]:
    """(score of each range, score without a value): each range's churn log-odds on 0-100, riskiest 0,
    healthiest 100; no value by its own churn rate when it holds at least `min_count` renewals, else by
    the base rate (clipped to 0-100)."""
    n, k = np.asarray(n, dtype=float), np.asarray(k, dtype=float)
    eps = 0.5 / max(float(n.sum()), 1.0)

    def logodds(rate: float) -> float:
        r = min(max(rate, eps), 1 - eps)
        return math.log(r / (1 - r))

    odds = [logodds(kk / nn) for kk, nn in zip(k, n)]
    risky, healthy = max(odds), min(odds)

    def place(lo: float) -> float:
        return float(round(min(100.0, max(0.0, 100 * (risky - lo) / (risky - healthy)))))

    n_miss, k_miss = missing
    rate_missing = k_miss / n_miss if n_miss >= min_count and n_miss > 0 else base_rate
    return [place(o) for o in odds], place(logodds(rate_missing))


def fit_tiers(x_all: np.ndarray, y: np.ndarray, fold: np.ndarray, direction: int, settings: Scorecard) -> dict | None:
    """A measure's ranges on the fit renewals (steps 3-4); None when no split ranks churn in risk order."""
    m = ~np.isnan(x_all)
    x, yy, f = x_all[m], y[m], fold[m]
    min_count = settings.min_tier_share * len(x)
    tiers, heldout = stats.choose_tiers(x, yy, f, direction, MAX_TIERS, settings.min_tier_share)
    path = stats.tier_path(x, yy, direction, MAX_TIERS, min_count)
    if tiers is None or tiers not in path:  # too little data to cross-validate: the fewest tiers that fit
        tiers = min((t for t in path if t >= 2), default=None)
        heldout = {}
    if tiers is None:
        return None
    cuts = stats.readable_cuts(path[tiers].cuts, x, yy, direction, min_count)
    n, k = stats.range_counts(x, yy, cuts)
    n_miss, k_miss = float((~m).sum()), float(y[~m].sum())
    scores, missing = tier_scores(n, k, (n_miss, k_miss), settings.min_tier_share * len(y), float(y.mean()))
    return {"cuts": cuts, "scores": scores, "missing": missing, "n": n.tolist(), "k": k.tolist(),
            "n_missing": int(n_miss), "k_missing": k_miss, "heldout": {str(t): v for t, v in heldout.items()}}


def _points(x: np.ndarray, rule: dict) -> np.ndarray:
    """Range score of each value (missing: the no-value score); the numpy twin of kit.analyses.scoring.tier_score."""
    idx = np.searchsorted(np.asarray(rule["cuts"], dtype=float), np.nan_to_num(x, nan=0.0), side="left")
    out = np.asarray(rule["scores"], dtype=float)[idx]
    return np.where(np.isnan(x), rule["missing"] if "missing" in rule else rule["missing_score"], out)


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
    fit = stats.logistic(y, X, names)
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


def _composite(X: np.ndarray, names: list[str], weights: dict[str, int]) -> np.ndarray:
    return sum(weights[s] / 100 * X[:, i] for i, s in enumerate(names) if s in weights)


# ---------------------------------------------------------------------------- 6. the composite against its parts


def cross_validated(frame: pl.DataFrame, names: list[str], y: np.ndarray, fold: np.ndarray, settings: Scorecard) -> dict[str, Any]:
    """Steps 3-5 refitted on the blocks before each block and judged on it: the composite's AUC and each
    measure's alone, averaged over the blocks (weighted by their renewals)."""
    parts: dict[str, list[tuple[float, float]]] = {"composite": [], **{s: [] for s in names}}
    for v in np.unique(fold)[1:]:
        train, valid = fold < v, fold == v
        yt, yv = y[train], y[valid] >= stats.EVENT_CUT
        if yv.all() or not yv.any() or (yt >= stats.EVENT_CUT).sum() < 2:
            continue
        rules, Xt, Xv = {}, [], []
        for s in names:
            x = frame[s].cast(pl.Float64).to_numpy()
            r = fit_tiers(x[train], yt, fold[train], catalog.direction_of(s), settings)
            if r is None:
                continue
            rules[s] = r
            Xt.append(_points(x[train], r))
            Xv.append(_points(x[valid], r))
            parts[s].append((stats.auc(-Xv[-1], yv), float(valid.sum())))
        if not rules:
            continue
        kept = list(rules)
        weights, _ = choose_weights(np.column_stack(Xt) / 100, yt, kept, settings)
        if weights:
            parts["composite"].append((stats.auc(-_composite(np.column_stack(Xv), kept, weights), yv), float(valid.sum())))
    out = {}
    for k, vals in parts.items():
        good = [(a, w) for a, w in vals if not math.isnan(a)]
        out[k] = sum(a * w for a, w in good) / sum(w for _, w in good) if good else None
    return out


# ---------------------------------------------------------------------------- 7. bands


def choose_bands(score: np.ndarray, churned: np.ndarray, fold: np.ndarray, s: Scorecard) -> tuple[Bands, str, np.ndarray]:
    """Red and green thresholds on the composite scores of the fit renewals in the latest `band_blocks` time
    blocks (method step 7). Returns the bands, the criterion in words and which renewals they were fitted on."""
    last = np.unique(fold)[-s.band_blocks:]
    on = np.isin(fold, last)
    score, churned, fold = score[on], churned[on].astype(bool), fold[on]
    n_c = int(churned.sum())
    n_r = len(score) - n_c
    base = n_c / len(score) if len(score) else 0.0
    blocks = [fold == f for f in last]
    sweep = []  # (threshold, recall - false positive rate) for thresholds flagging at most max_red_share in every block
    for t in range(1, 101):
        red = score < t
        if max(red[b].mean() for b in blocks) > s.max_red_share:
            break
        sweep.append((t, (red & churned).sum() / max(n_c, 1) - (red & ~churned).sum() / max(n_r, 1)))
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
        if churned[up].mean() <= s.green_churn_ratio * base and stats.wilson_upper((up & churned).sum(), n_c) <= s.max_churned_green:
            green_t = g
            break
    where = f"the {on.sum():,} fit renewals of the latest {len(last)} of {s.cv_folds} time blocks before the cut"
    why = (f"red below {red_t}: of the thresholds flagging at most {s.max_red_share:.0%} of each of those blocks, those within "
           f"{s.red_tolerance:g} of the best recall minus false positive rate ({best_j:.2f}) are equally good trade-offs, and "
           f"{red_t} is the one among them that catches the most churn; ")
    if green_t is None:
        green_t = min(100, max(red_t + 1, int(np.max(score)) + 1))
        why += (f"green: no threshold keeps churn at most {s.green_churn_ratio:g} x the base rate with at most "
                f"{s.max_churned_green:.0%} of churned renewals, so green starts above every score ({green_t})")
    else:
        why += (f"green from {green_t}: the lowest threshold at or above which churn is at most {s.green_churn_ratio:g} x the "
                f"base rate ({base:.1%}) and, with 95% confidence, at most {s.max_churned_green:.0%} of churned renewals fall")
    return Bands(red=red_t, green=green_t), f"fitted on {where}; " + why, on


def colour(score: float, bands: dict) -> str:
    return "red" if score < bands["red"] else "green" if score >= bands["green"] else "yellow"


# ---------------------------------------------------------------------------- the fit


def fit(frame: pl.DataFrame, names: list[str], settings: Scorecard, components: dict[str, str] | None = None) -> dict[str, Any]:
    """The scorecard document fitted on `frame` (the fit renewals: renewal_date, churned and one column per
    signal of `names`, the search's candidates).

    `components` maps a signal to its score component (default: the catalog's). Returns the
    document written to scorecard.json without the split dates (the caller adds them), or a
    document with `measures: []` and `reason` when no scorecard can be fitted.
    """
    components = components or {}
    y = frame["churned"].cast(pl.Float64).to_numpy()
    n_events = int((y >= stats.EVENT_CUT).sum())
    doc: dict[str, Any] = {"method": "kit.analyses.scorecard", "candidates": list(names), "measures": [], "excluded": {}, "notes": []}
    if n_events < settings.min_churn_events or frame.height - n_events < settings.min_churn_events:
        doc["reason"] = (f"{n_events} churned and {frame.height - n_events} retained renewals before the cut; at least "
                         f"{settings.min_churn_events} of each are needed (scorecard.min_churn_events)")
        return doc
    fold = timesplit.folds(frame["renewal_date"], settings.cv_folds)
    ranges: dict[str, dict[str, Any]] = {}
    for s in names:
        r = fit_tiers(frame[s].cast(pl.Float64).to_numpy(), y, fold, catalog.direction_of(s), settings)
        if r is None:
            doc["excluded"][s] = "no split of its values into ranges of enough renewals ranks churn in risk order"
        else:
            ranges[s] = r
    if not ranges:
        doc["reason"] = "no candidate signal can be cut into ranges in risk order before the cut (see excluded)"
        return doc
    order = list(ranges)
    X = np.column_stack([_points(frame[s].cast(pl.Float64).to_numpy(), ranges[s]) / 100 for s in order])
    weights, notes = choose_weights(X, y, order, settings)
    doc["notes"] = notes
    if not weights:
        doc["reason"] = "no measure keeps a weight in the joint model"
        return doc
    cv = cross_validated(frame, list(weights), y, fold, settings)
    singles = {s: a for s, a in cv.items() if s != "composite" and a is not None}
    best = max(singles, key=lambda s: (singles[s], s)) if singles else None
    doc["cross_validated_auc"] = {"composite": cv["composite"], "measures": singles, "blocks": settings.cv_folds}
    if len(weights) > 1 and best is not None and cv["composite"] is not None and cv["composite"] < singles[best]:
        doc["notes"].append(
            f"the weighted composite of {len(weights)} measures ranks churn less well than {best} alone when refitted on "
            f"earlier renewals and judged on later ones before the cut (cross-validated AUC {cv['composite']:.3f} against "
            f"{singles[best]:.3f}), so the scorecard is that measure alone")
        doc["reduced_to_best_measure"] = best
        weights = {best: 100}
    for s in order:
        if s not in weights:
            continue
        r = ranges[s]
        doc["measures"].append({
            "signal": s, "component": components.get(s, catalog.component_of(s)), "weight": weights[s] / 100,
            "direction": "higher is healthier" if catalog.direction_of(s) > 0 else "lower is healthier",
            "definition": catalog.definition_of(s),
            "cuts": r["cuts"], "scores": r["scores"], "missing_score": r["missing"],
            "fit_evidence": {"renewals": r["n"], "churned": r["k"], "churn_rate": [k / n for k, n in zip(r["k"], r["n"])],
                             "without_value": {"renewals": r["n_missing"], "churned": r["k_missing"]},
                             "heldout_loglik_by_tiers": r["heldout"]},
        })
    doc["measures"].sort(key=lambda m: (-m["weight"], m["signal"]))
    doc["components"] = component_weights(doc["measures"])
    composite = points(doc, frame)
    bands, why, on = choose_bands(composite, y >= stats.EVENT_CUT, fold, settings)
    dates = frame["renewal_date"].filter(pl.Series(on))
    doc["bands"] = {"red": bands.red, "green": bands.green, "criterion": why,
                    "fitted_on": {"from": dates.min(), "to": dates.max(), "renewals": int(on.sum()),
                                  "red_share": float((composite[on] < bands.red).mean())}}
    for m in doc["measures"]:
        m["ranges"] = ranges_of(m["cuts"], m["scores"], doc["bands"])
    return doc


def ranges_of(cuts: list[float], scores: list[float], bands: dict) -> list[dict[str, Any]]:
    """The value ranges of a measure, lowest values first: above (exclusive), up to (inclusive), score, colour."""
    bounds = [None, *cuts, None]
    return [{"above": bounds[i], "up_to": bounds[i + 1], "score": scores[i], "colour": colour(scores[i], bands)}
            for i in range(len(scores))]


def component_weights(measures: list[dict]) -> dict[str, float]:
    out: dict[str, float] = {}
    for m in measures:
        out[m["component"]] = round(out.get(m["component"], 0.0) + m["weight"], 6)
    return out


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
    path = write_json(folder / FILE, doc)
    if doc.get("measures"):
        gainsight(doc).write_csv(folder / "scorecard_gainsight.csv")
        churnzero(doc).write_csv(folder / "scorecard_churnzero.csv")
        (folder / "proposed_scorecard.yml").write_text(yaml_block(doc), encoding="utf-8")
    return path


def read(folder: Path) -> dict:
    return json.loads((folder / FILE).read_text())


# ---------------------------------------------------------------------------- platform-shaped exports


def _num(v: float) -> str:
    return f"{v:g}"


def _percent(v: float) -> str:
    return f"{100 * v:.3g}%"


def range_text(r: dict, signal: str | None = None) -> str:
    """A value range in words a platform rule takes: '<= 1.8', '> 1.8 and <= 2.3', '> 2.3', 'no value'. With a
    `signal` measured as a fraction (a relative change, a share), for people: '<= -0.33%' (the exports keep
    the fraction)."""
    s = catalog.signal(signal) if signal else None
    num = _percent if s is not None and s.percent else _num
    lo, hi = r["above"], r["up_to"]
    if r.get("colour") == NO_VALUE:
        return NO_VALUE
    if lo is None and hi is None:
        return "any value"
    if lo is None:
        return f"<= {num(hi)}"
    if hi is None:
        return f"> {num(lo)}"
    return f"> {num(lo)} and <= {num(hi)}"


def _rows(m: dict) -> list[dict]:
    """A measure's ranges and its no-value row."""
    return [*m["ranges"], {"above": None, "up_to": None, "score": m["missing_score"], "colour": NO_VALUE}]


def tier_rows(doc: dict, people: bool = False) -> list[dict[str, Any]]:
    """One row per measure and value range (and one for no value), lowest values first: what a client admin
    types in, with the evidence of each range before the cut (renewals, churn rate). `people`: ranges of
    fractions in percent (the exports keep the fraction)."""
    rows = []
    for m in doc["measures"]:
        ev = m["fit_evidence"]
        for i, r in enumerate(_rows(m)):
            blank = r["colour"] == NO_VALUE
            n = ev["without_value"]["renewals"] if blank else ev["renewals"][i]
            k = ev["without_value"]["churned"] if blank else ev["churned"][i]
            rows.append({
                "component": m["component"], "measure": m["signal"], "weight": m["weight"],
                "range": range_text(r, m["signal"] if people else None), "above": r["above"], "up_to": r["up_to"],
                "no_value": blank, "score": int(r["score"]), "colour": colour(r["score"], doc["bands"]),
                "fit_renewals": int(n), "fit_churn_rate": k / n if n else None, "definition": m["definition"],
            })
    return rows


def gainsight(doc: dict) -> pl.DataFrame:
    """One row per measure and value range (and one for no value): component, measure, weight in percent
    (adding up to 100 over the measures), the range as a rule and as bounds, the score (0-100) it gives
    and its colour."""
    rows = [{"component": r["component"], "measure": r["measure"], "weight_percent": round(100 * r["weight"]), "range": r["range"],
             "above": r["above"], "up_to": r["up_to"], "no_value": r["no_value"], "score": r["score"], "colour": r["colour"],
             "definition": r["definition"]} for r in tier_rows(doc)]
    return pl.DataFrame(rows, schema_overrides={"above": pl.Float64, "up_to": pl.Float64})


def churnzero(doc: dict) -> pl.DataFrame:
    """One row per factor and value tier: the range (bottom exclusive, top inclusive), the share of the
    factor's points it earns and the points; factor points add up to 100 at best."""
    rows = []
    for m in doc["measures"]:
        total = round(100 * m["weight"])
        for r in _rows(m):
            rows.append({
                "factor": m["signal"], "factor_total_points": total,
                "range_from_exclusive": r["above"], "range_to_inclusive": r["up_to"],
                "no_value": r["colour"] == NO_VALUE,
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
