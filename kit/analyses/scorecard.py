"""The proposed scorecard: measures, value ranges, weights and bands a client types into a CS platform,
and a card of their own for the segments that churn for different reasons.

It is fitted on the earlier renewals, judged on the later ones, exported as `scorecard.json` plus
platform-shaped tables, and back-tested exactly as exported (kit.analyses.backtest reads the file back).

Method (steps 2-8 see only the renewals dated before the cut):

1. **Time split** (kit.analyses.split): the latest `scorecard.test_share` of renewals are kept out of
   every fit. Inside the fit renewals, `scorecard.cv_folds` blocks in date order judge the choices
   below on renewals they were not made on: each block after the first is scored by what the blocks
   before it fitted (its *out-of-block* scores).
2. **Candidate measures**: the signal search's candidates (kit.analyses.search), chosen before the cut.
3. **Value ranges.** Per measure, 2 to `max_tiers` value ranges: the exact best split of its values
   (the information value of churn given the range) under a monotone churn trend, each range holding at
   least `min_tier_share` of the renewals with a value (kit.analyses.stats). The number of ranges comes
   from the likelihood cross-validated in time: of the numbers whose held-out log-likelihood is within the
   noise of the best (its standard error over the held-out renewals, and at least 2), the largest, since
   more ranges rank renewals more finely. Cuts are then moved to the shortest number that splits the fit
   renewals exactly as before, or rounded to two significant digits when that keeps the ranges in risk
   order and big enough; a measure is never lost to rounding. Ranges are (lower cut, upper cut]: a value
   equal to a cut belongs to the lower range.
4. **Range scores.** Each range's churn log-odds, estimated by empirical Bayes (`stats.range_logodds`): its
   own churn rate pulled towards a smooth curve of the measure by as much as its count leaves it uncertain,
   so ten ranges rank as steadily as a curve where the data are smooth and keep a step where they show one.
   On 0-100: the riskiest range scores 0, the healthiest 100, the others in proportion to their log-odds,
   so that adding up measures' points adds up evidence the way a logistic regression does. Renewals
   without a value score by their own churn rate when they are at least `min_tier_share` of the fit
   renewals, else by the base rate (clipped to 0-100). Scores are whole numbers. A renewal whose value is
   *unknown* (the export does not reach back over the signal's whole window: early in an export's
   history, never once it has run a year) is not a renewal without a value: it is left out of its
   measure's ranges and no-value score, and counts as the measure's average points in the weights below.
5. **Weights.** A logistic regression of churn on the measures' range scores (0 to 1) whose every
   coefficient says more points mean less churn (non-negative), penalised by `weight_penalty` (ridge): the
   penalty steadies the weights of correlated measures on a few dozen churn events, and fades as they grow
   (`stats.logistic_nonneg`). A measure whose coefficient is 0 (its effect is taken by the others) is
   dropped; then at most `max_measures` measures are kept (the heaviest), and measures below `min_weight`
   are dropped, the rest refitted each time. Weights are the coefficients normalised to whole percents
   adding up to 100 (largest remainders); a component's weight is the sum of its measures'.
6. **More measures unless clearly worse.** Steps 3-5 are repeated block by block (step 1), and the
   composite's cross-validated AUC is compared with that of each measure alone, tiered the same way, on
   the same renewals, within each block (`stats.paired_gain`: DeLong's variance per block). The card keeps
   its measures unless its best measure alone ranks churn better by more than one standard error of the
   difference: a composite within the noise of its best part ranks as well and breaks that measure's
   ties. Only then is the scorecard that measure alone, and the reports say so.
7. **Bands** (`choose_bands`). Score = sum over measures of weight x range score (0-100). The bands are
   fitted on the fit renewals of the latest `band_blocks` time blocks, the closest in time to the renewals
   they will judge, and each aim is held for a group of renewals to come as large as those, with 95%
   confidence (`stats.future_upper`, `future_lower`): a band promises what next quarter's renewals will show.
   The shares a threshold flags come from the card's scores; how much churn they hold, from the
   out-of-block scores at the same shares (a card ranks the renewals it was fitted on better than those to
   come). **Red** (score below the threshold): among the thresholds whose red share stays within
   `max_red_share` (in every block, and for renewals to come), recall minus false positive rate
   (Youden's J) is usually flat near its best; every threshold within `red_tolerance` of the best J is an
   equally good trade-off, and the highest of them is taken; if that does not catch `min_red_recall` of churn for
   renewals to come, red moves up to the lowest threshold that does, within the share allowed. **Green**
   (at or above the threshold) starts at the lowest threshold above red at or above which the churn rate
   is at most `green_churn_ratio` x the base rate and at most `max_churned_green` of churned renewals to
   come fall: the seed's red flag is 20% of churned accounts scored healthy, and the fit aims at half of
   it. Where the fit renewals cannot give every aim at once (a red that catches `min_red_recall` of churn,
   a green of at least `min_green_share` of the renewals), the criterion says which was given up and why:
   the red share and the churn in green are kept; recall and the size of green give way.
8. **A card per segment, adopted on evidence** (Gainsight's Scorecard Resolver). For each segment with at
   least `segment_min_churn_events` churned renewals before the cut, a card of its own is fitted the same
   way on the segment's renewals, from the search's candidates for that segment (searched on the renewals
   before the latest two blocks). Both cards are refitted block by block and judged on the segment's
   renewals of the blocks that search did not see: the segment's card is adopted when it ranks them better
   than the overall card by at least `segment_margin` AUC and by `SEGMENT_Z` standard errors (within
   blocks, `stats.paired_gain`). Other segments use the overall card. Every segment's decision and both
   cross-validated AUCs are recorded; each card has its own bands.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from kit.analyses import health_score, split as timesplit, stats
from kit import catalog
from kit import present, registry, status
from kit.artefacts import write_json
from kit.errors import KitError
from kit.params import Bands, Card, Component, Score, Scorecard, Tiers

FILE = registry.SCORECARD_JSON
NO_GREEN = 101  # the green threshold of a card whose scores single out no healthy group: nothing is green
SEGMENT_Z = 2.0  # a segment's own card must beat the overall card by this many standard errors (one-sided, about 97.5%)
NO_VALUE = "no value"
UNKNOWN = "unknown:"  # frame column prefix: True where the export does not hold the signal's whole window


def unknown_column(signal: str) -> str:
    return UNKNOWN + signal


def _values(frame: pl.DataFrame, signal: str) -> np.ndarray:
    return frame[signal].cast(pl.Float64).to_numpy()


def _unknown(frame: pl.DataFrame, signal: str) -> np.ndarray:
    col = unknown_column(signal)
    return frame[col].fill_null(False).to_numpy() if col in frame.columns else np.zeros(frame.height, dtype=bool)


def _events(y: np.ndarray) -> np.ndarray:
    return y >= stats.EVENT_CUT


# ---------------------------------------------------------------------------- 3-4. ranges of one measure


def tier_scores(logodds, missing: tuple[float, float], min_count: float, base_rate: float) -> tuple[list[float], float]:
    """(score of each range, score without a value): each range's churn log-odds on 0-100, riskiest 0,
    healthiest 100; no value by its own churn rate when it holds at least `min_count` renewals, else by
    the base rate (clipped to 0-100)."""
    odds = [float(o) for o in logodds]
    risky, healthy = max(odds), min(odds)

    def place(lo: float) -> float:
        return float(round(min(100.0, max(0.0, 100 * (risky - lo) / (risky - healthy))))) if risky > healthy else 50.0

    n_miss, k_miss = missing
    rate = k_miss / n_miss if n_miss >= min_count and n_miss > 0 else base_rate
    rate = min(max(rate, 1e-6), 1 - 1e-6)
    return [place(o) for o in odds], place(math.log(rate / (1 - rate)))


def fit_tiers(x_all: np.ndarray, y: np.ndarray, fold: np.ndarray, direction: int, settings: Scorecard,
              unknown: np.ndarray | None = None) -> dict | None:
    """A measure's ranges on the fit renewals (steps 3-4); None when no split ranks churn in risk order.
    `unknown`: renewals whose value the export cannot know (left out of the ranges and the no-value score)."""
    unknown = np.zeros(len(x_all), dtype=bool) if unknown is None else unknown
    m = ~np.isnan(x_all)
    x, yy, f = x_all[m], y[m], fold[m]
    if len(x) == 0:
        return None
    min_count = settings.min_tier_share * len(x)
    chosen, heldout = stats.choose_tiers(x, yy, f, direction, settings.max_tiers, settings.min_tier_share)
    path = stats.tier_path(x, yy, direction, settings.max_tiers, min_count)
    # at most the number chosen (the held-out renewals judged "at most t": an earlier part may hold fewer)
    tiers = max((t for t in path if 2 <= t <= chosen), default=None) if chosen is not None else None
    if tiers is None:  # too little data to cross-validate: the fewest tiers that fit
        tiers = min((t for t in path if t >= 2), default=None)
        heldout = {}
    if tiers is None:
        return None
    cuts = stats.readable_cuts(path[tiers].cuts, x, yy, direction, min_count)
    n, k = stats.range_counts(x, yy, cuts)
    blank = ~m & ~unknown
    n_miss, k_miss = float(blank.sum()), float(y[blank].sum())
    known = ~unknown
    logodds = stats.range_logodds(x, yy, cuts, direction)
    scores, missing = tier_scores(logodds, (n_miss, k_miss), settings.min_tier_share * known.sum(), float(y[known].mean()))
    rule = {"cuts": cuts, "scores": scores, "missing": missing, "n": n.tolist(), "k": k.tolist(),
            "n_missing": int(n_miss), "k_missing": k_miss, "heldout": {str(t): v for t, v in heldout.items()}}
    rule["neutral"] = float(_points(x_all[known], rule).mean()) if known.any() else 50.0
    return rule


def _points(x: np.ndarray, rule: dict) -> np.ndarray:
    """Range score of each value (missing: the no-value score); the numpy twin of kit.analyses.health_score.tier_score."""
    idx = np.searchsorted(np.asarray(rule["cuts"], dtype=float), np.nan_to_num(x, nan=0.0), side="left")
    out = np.asarray(rule["scores"], dtype=float)[idx]
    return np.where(np.isnan(x), rule["missing"] if "missing" in rule else rule["missing_score"], out)


def _fit_points(frame: pl.DataFrame, signal: str, rule: dict) -> np.ndarray:
    """Range scores on 0-1 for fitting: an unknown value counts as the measure's average points (neutral)."""
    return np.where(_unknown(frame, signal), rule["neutral"], _points(_values(frame, signal), rule)) / 100


# ---------------------------------------------------------------------------- 5. weights


def percents(weights: dict[str, float]) -> dict[str, int]:
    """Whole percents adding up to 100: floors, then the largest remainders get one more."""
    total = sum(weights.values())
    raw = {k: 100 * v / total for k, v in weights.items()}
    out = {k: int(math.floor(v)) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), k))[: 100 - sum(out.values())]:
        out[k] += 1
    return out


def choose_weights(X: np.ndarray, y: np.ndarray, names: list[str], s: Scorecard) -> tuple[dict[str, int], list[str]]:
    """(whole-percent weights of the kept measures, notes on the dropped ones) (method step 5)."""
    notes = []
    cols = list(range(len(names)))
    while cols:
        _, b = stats.logistic_nonneg(y, X[:, cols], s.weight_penalty)
        w = {names[i]: float(bi) for i, bi in zip(cols, b)}
        zero = [i for i in cols if w[names[i]] <= 1e-9]
        if zero and len(zero) < len(cols):
            for i in zero:
                notes.append(f"{names[i]}: dropped, its effect is taken by the other measures (more points would not mean less churn)")
                cols.remove(i)
            continue
        if len(zero) == len(cols):
            for i in zero:
                notes.append(f"{names[i]}: dropped, more points do not mean less churn in the joint model")
            return {}, notes
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


def _light_fit(frame: pl.DataFrame, names: list[str], y: np.ndarray, fold: np.ndarray, settings: Scorecard,
               ) -> tuple[dict[str, dict], dict[str, int]]:
    """Steps 3-5 on some renewals: each measure's ranges and the weights (empty when nothing fits)."""
    rules = {}
    for s in names:
        r = fit_tiers(_values(frame, s), y, fold, catalog.direction_of(s), settings, _unknown(frame, s))
        if r is not None:
            rules[s] = r
    if not rules:
        return {}, {}
    X = np.column_stack([_fit_points(frame, s, r) for s, r in rules.items()])
    weights, _ = choose_weights(X, y, list(rules), settings)
    return rules, weights


# ---------------------------------------------------------------------------- 6. the composite against its parts


def cross_validated(frame: pl.DataFrame, names: list[str], y: np.ndarray, fold: np.ndarray, settings: Scorecard,
                    first: int = 1) -> dict[str, np.ndarray]:
    """Steps 3-5 refitted on the blocks before each block from `first` on and applied to it: out-of-block points
    (0-100) of the composite and of each measure alone, NaN for renewals of the earlier blocks or of a block whose
    earlier blocks hold fewer than 2 churned renewals."""
    out = {"composite": np.full(len(y), np.nan), **{s: np.full(len(y), np.nan) for s in names}}
    for v in np.unique(fold)[max(first, 1):]:
        train, valid = fold < v, fold == v
        if _events(y[train]).sum() < 2 or train.sum() == _events(y[train]).sum():
            continue
        rules, weights = _light_fit(frame.filter(pl.Series(train)), names, y[train], fold[train], settings)
        part = frame.filter(pl.Series(valid))
        X = {s: _fit_points(part, s, r) * 100 for s, r in rules.items()}
        for s, p in X.items():
            out[s][valid] = p
        if weights:
            out["composite"][valid] = sum(weights[s] / 100 * X[s] for s in weights)
    return out


def oof_auc(points: np.ndarray, y: np.ndarray, fold: np.ndarray) -> float | None:
    """AUC of out-of-block points (higher is healthier) within the blocks they score, averaged (stats.paired_gain)."""
    a, _, _, _ = stats.paired_gain(-points, -points, _events(y), fold)
    return None if math.isnan(a) else a


def compare_to_parts(oof: dict[str, np.ndarray], y: np.ndarray, fold: np.ndarray) -> dict[str, Any]:
    """The composite's cross-validated AUC against each measure's alone, and against the best of them on the
    same renewals: the difference and its standard error (stats.paired_gain)."""
    singles = {s: oof_auc(p, y, fold) for s, p in oof.items() if s != "composite"}
    singles = {s: a for s, a in singles.items() if a is not None}
    out: dict[str, Any] = {"composite": oof_auc(oof["composite"], y, fold), "measures": singles}
    if singles and out["composite"] is not None:
        best = max(singles, key=lambda s: (singles[s], s))
        _, _, gain, se = stats.paired_gain(-oof["composite"], -oof[best], _events(y), fold)
        if not math.isnan(gain):
            out.update(best_measure=best, gain_over_best=gain, se=se)
    return out


# ---------------------------------------------------------------------------- 7. bands


def choose_bands(score: np.ndarray, churned: np.ndarray, fold: np.ndarray, s: Scorecard,
                 unseen: np.ndarray | None = None) -> tuple[Bands, str, np.ndarray]:
    """Red and green thresholds on the composite scores of the fit renewals in the latest `band_blocks` time
    blocks (method step 7). Returns the bands, the criterion in words and which renewals they were fitted on.

    Each aim is held for a future group of renewals as large as these, with 95% confidence (stats.future_upper
    and future_lower): what a band promises is what next quarter's renewals will show, not what these did. The
    shares a threshold flags come from the card's own scores; how much churn those shares hold, from `unseen`
    scores (the card refitted on the blocks before each renewal's, which had not seen it; default: the card's
    own): a card ranks the renewals it was fitted on better than those to come."""
    last = np.unique(fold)[-s.band_blocks:]
    on = np.isin(fold, last)
    score, churned, fold = score[on], churned[on].astype(bool), fold[on]
    honest = score if unseen is None else np.where(np.isnan(unseen[on]), score, unseen[on])
    n, n_c = len(score), int(churned.sum())
    n_r = n - n_c
    base = n_c / n if n else 0.0
    blocks = [fold == f for f in last]
    # churned renewals among the m riskiest (lowest) and the m healthiest (highest) by the unseen scores
    low = np.r_[0, np.cumsum(churned[np.argsort(honest, kind="stable")])]
    high = np.r_[0, np.cumsum(churned[np.argsort(-honest, kind="stable")])]

    def caught(t: int) -> int:
        return int(low[int((score < t).sum())])

    def green_churned(g: int) -> int:
        return int(high[int((score >= g).sum())])

    # red: thresholds whose red share holds (at most max_red_share in every block, and for a future group), with
    # their recall minus false positive rate (Youden's J)
    sweep = []
    for t in range(1, 101):
        red = score < t
        if max(red[b].mean() for b in blocks) > s.max_red_share or stats.future_upper(red.sum(), n) > s.max_red_share:
            break
        sweep.append((t, caught(t) / max(n_c, 1) - (red.sum() - caught(t)) / max(n_r, 1)))
    red_t, best_j, aim = 1, 0.0, "none"
    if sweep:
        best_j = max(j for _, j in sweep)
        red_t = max(t for t, j in sweep if j >= best_j - s.red_tolerance)
        reach = [t for t, _ in sweep if stats.future_lower(caught(t), n_c) >= s.min_red_recall]
        if reach and min(reach) > red_t:
            red_t, aim = min(reach), "moved"
        elif not reach:
            red_t, aim = max(t for t, _ in sweep), "short"
    red_t = min(red_t, 99)
    why = (f"red below {red_t}: of the thresholds whose red share stays within {s.max_red_share:.0%} (in each of those blocks, "
           f"and with 95% confidence for as many renewals to come), those within {s.red_tolerance:g} of the best recall minus false "
           f"positive rate ({best_j:.2f}) are equally good trade-offs, and the highest of them catches the most churn")
    if aim == "moved":
        why += (f"; red moves up to {red_t}, the lowest threshold catching, with 95% confidence, the {s.min_red_recall:.0%} of "
                "churn red aims at")
    elif aim == "short":
        why += (f"; red catches {caught(red_t) / max(n_c, 1):.0%} of churn here, and cannot promise the {s.min_red_recall:.0%} it "
                f"aims at without flagging more than {s.max_red_share:.0%} of the renewals: recall gives way to a red share that holds")

    # green: the lowest threshold above red where churn is low and few churned renewals fall, held for the future
    def green_ok(g: int, bound) -> bool:
        m, k = int((score >= g).sum()), green_churned(g)
        return m > 0 and k / m <= s.green_churn_ratio * base and bound(float(k)) <= s.max_churned_green

    green_t = next((g for g in range(red_t + 1, 101) if green_ok(g, lambda k: stats.future_upper(k, n_c))), None)
    certain = green_t is not None
    if not certain:  # too few churned renewals to promise it: the share these show
        green_t = next((g for g in range(red_t + 1, 101) if green_ok(g, lambda k: k / max(n_c, 1))), None)
    if green_t is None:
        green_t = NO_GREEN
        why += (f"; no green: at no threshold is churn at most {s.green_churn_ratio:g} x the base rate ({base:.1%}) with at most "
                f"{s.max_churned_green:.0%} of churned renewals, not even among the top scores, so the card singles out no "
                "healthy group and green is given up (a scheme with red and yellow only)")
    else:
        share = float((score >= green_t).mean())
        why += (f"; green from {green_t}: the lowest threshold at or above which churn is at most {s.green_churn_ratio:g} x the "
                f"base rate ({base:.1%}) and " + (
                    f"with 95% confidence at most {s.max_churned_green:.0%} of the churned renewals to come fall" if certain else
                    f"at most {s.max_churned_green:.0%} of these churned renewals fall ({n_c} are too few to promise it with 95% "
                    "confidence, so that margin is given up)"))
        if share < s.min_green_share:
            why += (f"; green holds {share:.0%} of the renewals, less than the {s.min_green_share:.0%} it aims at: a larger green "
                    "would hold too much churn, so its size gives way")
    where = f"the {on.sum():,} fit renewals of the latest {len(last)} of {s.cv_folds} time blocks before the cut"
    return Bands(red=red_t, green=green_t), f"fitted on {where}; " + why, on


def _share(flags: np.ndarray) -> float | None:
    return float(flags.mean()) if len(flags) else None


def colour(score: float, bands: dict) -> str:
    return status.band_of(score, bands["red"], bands["green"])


# ---------------------------------------------------------------------------- one card


def fit_card(frame: pl.DataFrame, names: list[str], y: np.ndarray, fold: np.ndarray, settings: Scorecard,
             components: dict[str, str]) -> tuple[dict[str, Any], np.ndarray | None]:
    """Steps 3-7 on the renewals of `frame`: the card (candidates, measures, components, bands, notes, excluded,
    cross-validated AUCs; `reason` when none fits) and the composite's out-of-block points (None without a card)."""
    n_events = int(_events(y).sum())
    card: dict[str, Any] = {"candidates": list(names), "measures": [], "excluded": {}, "notes": []}
    if n_events < settings.min_churn_events or len(y) - n_events < settings.min_churn_events:
        card["reason"] = (f"{n_events} churned and {len(y) - n_events} retained renewals before the cut; at least "
                          f"{settings.min_churn_events} of each are needed (scorecard.min_churn_events)")
        return card, None
    ranges: dict[str, dict[str, Any]] = {}
    for s in names:
        r = fit_tiers(_values(frame, s), y, fold, catalog.direction_of(s), settings, _unknown(frame, s))
        if r is None:
            card["excluded"][s] = "no split of its values into ranges of enough renewals ranks churn in risk order"
        else:
            ranges[s] = r
    if not ranges:
        card["reason"] = "no candidate signal can be cut into ranges in risk order before the cut (see excluded)"
        return card, None
    order = list(ranges)
    X = np.column_stack([_fit_points(frame, s, ranges[s]) for s in order])
    weights, notes = choose_weights(X, y, order, settings)
    card["notes"] = notes
    if not weights:
        card["reason"] = "no measure keeps a weight in the joint model"
        return card, None
    oof = cross_validated(frame, list(weights), y, fold, settings)
    cv = compare_to_parts(oof, y, fold)
    card["cross_validated_auc"] = {**cv, "blocks": settings.cv_folds}
    if len(weights) > 1 and cv.get("best_measure") and cv["gain_over_best"] + cv["se"] < 0:
        best = cv["best_measure"]
        card["notes"].append(
            f"the weighted composite of {len(weights)} measures ranks churn less well than {best} alone when refitted on "
            f"earlier renewals and judged on later ones before the cut (cross-validated AUC {cv['composite']:.3f} against "
            f"{cv['measures'][best]:.3f}, a difference of {cv['gain_over_best']:+.3f} beyond its standard error of "
            f"{cv['se']:.3f}), so the scorecard is that measure alone")
        card["reduced_to_best_measure"] = best
        weights = {best: 100}
        oof = {"composite": oof[best]}
    for s in order:
        if s not in weights:
            continue
        r = ranges[s]
        card["measures"].append({
            "signal": s, "component": components.get(s, catalog.component_of(s)), "weight": weights[s] / 100,
            "direction": "higher is healthier" if catalog.direction_of(s) > 0 else "lower is healthier",
            "definition": catalog.definition_of(s),
            "cuts": r["cuts"], "scores": r["scores"], "missing_score": r["missing"],
            "fit_evidence": {"renewals": r["n"], "churned": r["k"], "churn_rate": [k / n for k, n in zip(r["k"], r["n"])],
                             "without_value": {"renewals": r["n_missing"], "churned": r["k_missing"]},
                             "heldout_loglik_by_tiers": r["heldout"]},
        })
    card["measures"].sort(key=lambda m: (-m["weight"], m["signal"]))
    card["components"] = component_weights(card["measures"])
    composite = points(card, frame)
    bands, why, on = choose_bands(composite, _events(y), fold, settings, oof["composite"])
    dates = frame["renewal_date"].filter(pl.Series(on))
    red, green, gone = composite[on] < bands.red, composite[on] >= bands.green, _events(y[on])
    card["bands"] = {"red": bands.red, "green": bands.green, "criterion": why,
                     "fitted_on": {"from": dates.min(), "to": dates.max(), "renewals": int(on.sum()),
                                   "red_share": _share(red), "red_recall": _share(red[gone]),
                                   "green_share": _share(green), "churned_green_share": _share(green[gone])}}
    for m in card["measures"]:
        m["ranges"] = ranges_of(m["cuts"], m["scores"], card["bands"])
    return card, oof["composite"]


# ---------------------------------------------------------------------------- 8. segment cards


def segment_cards(frame: pl.DataFrame, y: np.ndarray, fold: np.ndarray, overall_oof: np.ndarray, candidates: dict[str, list[str]],
                  settings: Scorecard, components: dict[str, str], searched_until: date | None = None,
                  ) -> tuple[list[dict[str, Any]], dict[str, dict]]:
    """(a decision per segment, the adopted segments' cards) (method step 8). `candidates`: the search's
    candidates of each segment, searched on the renewals before `searched_until`; `overall_oof`: the overall
    card's out-of-block points on every fit renewal. The cards are judged on the blocks that begin on or after
    `searched_until` only, so the search that chose a segment's candidates has not seen them."""
    segs = frame["segment"].cast(pl.String).to_numpy() if "segment" in frame.columns else np.full(frame.height, None)
    starts = [frame["renewal_date"].filter(pl.Series(fold == v)).min() for v in range(int(fold.max()) + 1)]
    judged_from = next((v for v, d in enumerate(starts) if searched_until is None or (d is not None and d >= searched_until)),
                       len(starts))
    decisions, cards = [], {}
    for seg in sorted({s for s in segs if s is not None}):
        rows = segs == seg
        ys, fs = y[rows], fold[rows]
        d: dict[str, Any] = {"segment": seg, "renewals": int(rows.sum()), "churned": int(_events(ys).sum()),
                             "candidates": list(candidates.get(seg) or []), "adopted": False}
        decisions.append(d)
        if d["churned"] < settings.segment_min_churn_events:
            d["reason"] = (f"{d['churned']} churned renewals before the cut, fewer than the {settings.segment_min_churn_events} "
                           "a card of its own needs (scorecard.segment_min_churn_events): the overall card")
            continue
        if not d["candidates"]:
            d["reason"] = "no candidate signal for this segment alone: the overall card"
            continue
        part = frame.filter(pl.Series(rows))
        own = cross_validated(part, d["candidates"], ys, fs, settings, first=judged_from)["composite"]
        a, b, gain, se = stats.paired_gain(-own, -np.where(fs >= judged_from, overall_oof[rows], np.nan), _events(ys), fs)
        if math.isnan(gain):
            d["reason"] = "too few churned renewals in the blocks to compare the two cards: the overall card"
            continue
        d.update(cv_auc_own=a, cv_auc_overall=b, gain=gain, se=se)
        if gain < settings.segment_margin or gain < SEGMENT_Z * se:
            d["reason"] = (f"its own card ranks the segment's renewals {gain:+.3f} AUC against the overall card (standard error "
                           f"{se:.3f}), not better by at least {settings.segment_margin:g} and by {SEGMENT_Z:g} standard errors: "
                           "the overall card")
            continue
        card, _ = fit_card(part, d["candidates"], ys, fs, settings, components)
        if not card["measures"]:
            d["reason"] = f"no card could be fitted on the segment alone ({card.get('reason')}): the overall card"
            continue
        d["adopted"] = True
        d["reason"] = (f"its own card ranks the segment's renewals {gain:+.3f} AUC better than the overall card, cross-validated "
                       f"in time (standard error {se:.3f}): adopted")
        cards[seg] = card
    return decisions, cards


# ---------------------------------------------------------------------------- the fit


def fit(frame: pl.DataFrame, names: list[str], settings: Scorecard, components: dict[str, str] | None = None,
        segment_candidates: dict[str, list[str]] | None = None, searched_until: date | None = None) -> dict[str, Any]:
    """The scorecard document fitted on `frame` (the fit renewals: renewal_date, churned, segment, one column
    per signal of `names` and of `segment_candidates`, optionally `unknown:<signal>` flags).

    `components` maps a signal to its score component (default: the catalog's); `segment_candidates` the search's
    candidates of each segment, chosen on the renewals before `searched_until`. Returns the document written
    to scorecard.json without the split dates (the caller adds them): the overall card at the top level, the
    adopted segment cards under `segments` and every segment's decision under `resolver`; a document with
    `measures: []` and `reason` when no scorecard can be fitted.
    """
    components = components or {}
    y = frame["churned"].cast(pl.Float64).to_numpy()
    fold = timesplit.folds(frame["renewal_date"], settings.cv_folds)
    card, oof = fit_card(frame, names, y, fold, settings, components)
    doc: dict[str, Any] = {"method": "kit.analyses.scorecard", **card, "segments": {}}
    if oof is not None and segment_candidates is not None:
        decisions, cards = segment_cards(frame, y, fold, oof, segment_candidates, settings, components, searched_until)
        doc["segments"] = cards
        doc["resolver"] = {"column": "segment", "min_churn_events": settings.segment_min_churn_events,
                           "margin": settings.segment_margin, "decisions": decisions}
    if doc["measures"]:
        doc["band_fit"] = band_fit(doc, frame, y, fold, settings)
    return doc


def band_fit(doc: dict, frame: pl.DataFrame, y: np.ndarray, fold: np.ndarray, settings: Scorecard) -> dict[str, Any]:
    """The renewals the bands were fitted on (the latest `band_blocks` blocks before the cut), each scored by its
    segment's card on that card's bands: the shares the back-test sets beside the same shares after the cut."""
    on = np.isin(fold, np.unique(fold)[-settings.band_blocks:])
    part = frame.filter(pl.Series(on))
    scored = health_score.resolved(_scoreable(part), to_score(doc))
    red_t = scored["red"].to_numpy() if "red" in scored.columns else doc["bands"]["red"]
    green_t = scored["green"].to_numpy() if "green" in scored.columns else doc["bands"]["green"]
    score, gone = scored["score"].to_numpy(), _events(y[on])
    red, green = score < red_t, score >= green_t
    dates = part["renewal_date"]
    return {"from": dates.min(), "to": dates.max(), "renewals": part.height, "red_share": _share(red),
            "red_recall": _share(red[gone]), "green_share": _share(green), "churned_green_share": _share(green[gone])}


def method_text() -> str:
    """The method of this module's docstring, for the reports."""
    return __doc__.split("Method (", 1)[1].split(":", 1)[1]


def describe(card: dict) -> str:
    """What a card's score is, in plain words: a weighted sum of several measures' range scores, or one measure."""
    from kit.present import label

    if len(card["measures"]) == 1:
        m = card["measures"][0]
        return (f"The score is one measure, {label(m['signal']).lower()}: the score (0 to 100) of the value range its value falls "
                "in, not a weighted average of several")
    return (f"The score is the weighted sum of the scores of {len(card['measures'])} measures, each 0 to 100 by the value "
            "range its value falls in")


def describe_all(doc: dict) -> str:
    """The whole scorecard in plain words, its segment cards included."""
    own = list(doc.get("segments") or {})
    if not own:
        return describe(doc)
    many = len(own) > 1
    return (describe(doc) + f"; the {', '.join(own)} segment{'s' if many else ''} {'have' if many else 'has'} a card of "
            f"{'their' if many else 'its'} own (as Gainsight's Scorecard Resolver runs them), every other account the overall card")


def bands_text(bands: dict) -> str:
    """A card's bands in words: 'red below 40, yellow from 40 to below 70, green from 70' (or no green)."""
    red, green = bands["red"], bands["green"]
    if green > 100:
        return f"red below {red:g}, yellow from {red:g}; no green (the scores single out no healthy group)"
    return f"red below {red:g}, yellow from {red:g} to below {green:g}, green from {green:g}"


def cards(doc: dict) -> dict[str, dict]:
    """Every card of a scorecard document: the overall card (health_score.DEFAULT_CARD) first, then each segment's."""
    return {health_score.DEFAULT_CARD: doc, **(doc.get("segments") or {})} if doc.get("measures") else {}


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


def _scoreable(frame: pl.DataFrame) -> pl.DataFrame:
    for c in ("account_id", "as_of"):
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String if c == "account_id" else pl.Date).alias(c))
    return frame


def points(card: dict, frame: pl.DataFrame) -> np.ndarray:
    """The composite score of one card for every row of a signals frame, computed by kit.analyses.health_score."""
    score = to_score({**card, "segments": {}})
    return health_score.composite(health_score.components(_scoreable(frame), score), score)["score"].to_numpy()


def resolved_points(doc: dict, frame: pl.DataFrame) -> np.ndarray:
    """Every row scored by its segment's card (the overall card where its segment has none), by kit.analyses.health_score."""
    return health_score.resolved(_scoreable(frame), to_score(doc))["score"].to_numpy()


# ---------------------------------------------------------------------------- the document as a score


def _card_of(card: dict) -> Card:
    comps: dict[str, dict] = {}
    for m in card["measures"]:
        c = comps.setdefault(m["component"], {"weight": 0.0, "signals": [], "transform": "tiers", "tiers": {}, "signal_weights": {}})
        c["signals"].append(m["signal"])
        c["tiers"][m["signal"]] = Tiers(cuts=m["cuts"], scores=m["scores"], missing=m["missing_score"])
        c["signal_weights"][m["signal"]] = m["weight"]
        c["weight"] = round(c["weight"] + m["weight"], 6)
    return Card(components={k: Component(**v) for k, v in comps.items()},
                bands=Bands(red=card["bands"]["red"], green=card["bands"]["green"]) if "bands" in card else Bands())


def to_score(doc: dict, at_risk_weeks: int = 2, trend_days: int = 30) -> Score:
    """The scorecard as a kit score configuration: one `tiers` component per component group, and a card of
    their own for the adopted segments."""
    if not doc.get("measures"):
        raise KitError(f"the scorecard has no measures: {doc.get('reason', 'none fitted')}", where=FILE,
                       fix="see the back-test report for why no scorecard could be fitted")
    overall = _card_of(doc)
    return Score(components=overall.components, bands=overall.bands, at_risk_weeks=at_risk_weeks, trend_days=trend_days,
                 segments={seg: _card_of(c) for seg, c in (doc.get("segments") or {}).items()})


def write(doc: dict, folder: Path) -> Path:
    """scorecard.json, scorecard_gainsight.csv, scorecard_churnzero.csv and proposed_scorecard.yml."""
    path = write_json(folder / FILE, doc)
    if doc.get("measures"):
        gainsight(doc).write_csv(folder / registry.GAINSIGHT_CSV)
        churnzero(doc).write_csv(folder / registry.CHURNZERO_CSV)
        (folder / registry.PROPOSED_SCORECARD).write_text(yaml_block(doc), encoding="utf-8")
    return path


def read(folder: Path) -> dict:
    return json.loads((folder / FILE).read_text())


# ---------------------------------------------------------------------------- platform-shaped exports


def _num(v: float) -> str:
    return f"{v:g}"


def range_text(r: dict, signal: str | None = None) -> str:
    """A value range in words a platform rule takes: '<= 1.8', '> 1.8 and <= 2.3', '> 2.3', 'no value'. With a
    `signal` measured as a fraction (a relative change, a share), for people: '<= -0.33%' (the exports keep
    the fraction)."""
    s = catalog.signal(signal) if signal else None
    num = (lambda v: present.percent(v, None)) if s is not None and s.percent else _num  # exactly the cut
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


def applies_to(segment: str, doc: dict) -> str:
    """The resolver's criterion of a card, as a platform admin sets it."""
    if segment != health_score.DEFAULT_CARD:
        return f"segment = {segment}"
    own = list(doc.get("segments") or {})
    return "every account" if not own else "every account whose segment has no card of its own (" + ", ".join(own) + " have one)"


def _rows(m: dict) -> list[dict]:
    """A measure's ranges and its no-value row."""
    return [*m["ranges"], {"above": None, "up_to": None, "score": m["missing_score"], "colour": NO_VALUE}]


def tier_rows(card: dict, people: bool = False) -> list[dict[str, Any]]:
    """One row per measure and value range (and one for no value) of one card, lowest values first: what a
    client admin types in, with the evidence of each range before the cut (renewals, churn rate). `people`:
    ranges of fractions in percent (the exports keep the fraction)."""
    rows = []
    for m in card["measures"]:
        ev = m["fit_evidence"]
        for i, r in enumerate(_rows(m)):
            blank = r["colour"] == NO_VALUE
            n = ev["without_value"]["renewals"] if blank else ev["renewals"][i]
            k = ev["without_value"]["churned"] if blank else ev["churned"][i]
            rows.append({
                "component": m["component"], "measure": m["signal"], "weight": m["weight"],
                "range": range_text(r, m["signal"] if people else None), "above": r["above"], "up_to": r["up_to"],
                "no_value": blank, "score": int(r["score"]), "colour": colour(r["score"], card["bands"]),
                "fit_renewals": int(n), "fit_churn_rate": k / n if n else None, "definition": m["definition"],
            })
    return rows


def gainsight(doc: dict) -> pl.DataFrame:
    """One row per card, measure and value range (and one for no value): the scorecard (one per adopted segment,
    with the resolver's criterion, and the default card), component, measure, weight in percent (adding up to 100
    over a card's measures), the range as a rule and as bounds, the score (0-100) it gives and its colour."""
    rows = [{"scorecard": seg, "applies_to": applies_to(seg, doc), "component": r["component"], "measure": r["measure"],
             "weight_percent": round(100 * r["weight"]), "range": r["range"], "above": r["above"], "up_to": r["up_to"],
             "no_value": r["no_value"], "score": r["score"], "colour": r["colour"], "definition": r["definition"]}
            for seg, card in cards(doc).items() for r in tier_rows(card)]
    return pl.DataFrame(rows, schema_overrides={"above": pl.Float64, "up_to": pl.Float64})


def churnzero(doc: dict) -> pl.DataFrame:
    """One row per ChurnScore (one per adopted segment, and the default), factor and value tier: the range
    (bottom exclusive, top inclusive), the share of the factor's points it earns and the points; a ChurnScore's
    factor points add up to 100 at best."""
    rows = []
    for seg, card in cards(doc).items():
        for m in card["measures"]:
            total = round(100 * m["weight"])
            for r in _rows(m):
                rows.append({
                    "churnscore": seg, "applies_to": applies_to(seg, doc),
                    "factor": m["signal"], "factor_total_points": total,
                    "range_from_exclusive": r["above"], "range_to_inclusive": r["up_to"],
                    "no_value": r["colour"] == NO_VALUE,
                    "percent_of_points": int(r["score"]), "points": total * r["score"] / 100,
                })
    return pl.DataFrame(rows, schema_overrides={"range_from_exclusive": pl.Float64, "range_to_inclusive": pl.Float64})


def yaml_block(doc: dict) -> str:
    """A `score:` block for the parameters file: the scorecard as the client's configured score (with its
    segment cards under `segments:`)."""
    import yaml

    def card_block(card: Card) -> dict:
        comps = {}
        for name, c in card.components.items():
            comps[name] = {
                "weight": c.weight, "transform": "tiers", "signals": list(c.signals),
                "signal_weights": dict(c.signal_weights),
                "tiers": {s: {"cuts": t.cuts, "scores": t.scores, "missing": t.missing} for s, t in c.tiers.items()},
            }
        return {"components": comps, "bands": {"red": card.bands.red, "green": card.bands.green}}

    score = to_score(doc)
    block = card_block(score)
    if score.segments:
        block["segments"] = {seg: card_block(c) for seg, c in score.segments.items()}
    head = [
        "# Proposed scorecard (kit.analyses.scorecard): paste over `score:` in the parameters file once adopted,",
        f"# so the back-test's `current` and the monthly maintenance check judge it. Fitted on renewals before {doc.get('cut')}.",
    ]
    body = yaml.safe_dump({"score": block}, sort_keys=False, default_flow_style=None, width=140)
    return "\n".join(head) + "\n" + body
