"""The health score: signals -> component scores (0-100) -> weighted composite -> band.

One function, `score`, serves the back-test, the monthly maintenance check and any current
scoring, so the score a client sees is the score that was tested.

The rules (also shown in the reports):

* **Signals to 0-100.** `percentile` (default): the signal's mid-rank percentile among the accounts
  of the same segment scored on the same date, `100 * (rank - 0.5) / n` with tied values sharing
  their average rank, oriented by the catalog direction so that 100 is always healthiest (a lone
  account in its segment scores 50). `thresholds`: a straight line through the configured
  `[value scoring 0, value scoring 100]`, clipped to 0-100 (give the pair reversed for signals where
  lower is healthier). `tiers` (the scorecard's form): the value falls in one of the ranges set by
  the measure's cuts, (lower cut, upper cut], and scores that range's fixed 0-100; a measure with
  no value scores its `missing` score when one is set. Otherwise missing signal values stay missing.
* **Component** = mean of its signals' 0-100 values that are present (missing when none is),
  weighted by `signal_weights` when they are given (equal otherwise); for
  `percentile` components that mean is ranked again the same way, so a usage score of 80 reads
  "healthier usage than 80% of the segment's accounts on that date".
* **Composite** = weighted mean of the present components. When a component with a positive
  weight is missing, the composite is re-weighted over the present ones (weights rescaled to add
  up to 1) and the row is flagged `reweighted`; with no component present there is no score.
* **Band**: red below `bands.red`, green at or above `bands.green`, yellow between (a green of 101: no
  score is green).
* **Segment cards**: a segment listed under `score.segments` has a card of its own (components and
  bands); its accounts are scored and banded by it, every other account by the components and bands
  above (Gainsight's Scorecard Resolver).
* **At risk**: the score was below `bands.red` on `at_risk_weeks` consecutive scoring dates (a
  missing score breaks the run).
* **Trend**: the score minus the account's latest score at least `trend_days` earlier.
"""

from __future__ import annotations

from typing import Mapping

import polars as pl

from kit import catalog, status
from kit.errors import KitError
from kit.params import Component, Score, Tiers

KEYS = ("account_id", "as_of")
RESERVED = {"account_id", "as_of", "date", "segment", "arr", "score", "band", "reweighted", "components_present",
            "at_risk", "below_red", "run_max", "trend", "config"}
NO_SEGMENT = "(no segment)"
DEFAULT_CARD = "default"  # the card of the accounts whose segment has none of its own
GROUP = "_group"


def weights_of(config: Score, override: Mapping[str, float] | None = None) -> dict[str, float]:
    """Component weights, from the override when given (missing components weigh 0), summing to 1."""
    raw = {c: float(comp.weight) for c, comp in config.components.items()}
    if override is not None:
        unknown = sorted(set(override) - set(config.components))
        if unknown:
            raise KitError(
                f"weights given for unknown component(s) {unknown}",
                where="score weights", fix=f"use components of the score: {', '.join(config.components)}",
            )
        raw = {c: float(override.get(c, 0.0)) for c in config.components}
    total = sum(raw.values())
    if total <= 0:
        raise KitError("component weights add up to 0", where="score weights", fix="give at least one component a positive weight")
    return {c: w / total for c, w in raw.items()}


# ---------------------------------------------------------------------------- transforms


def _signal_expr(signal: str, comp: Component, present: set[str]) -> pl.Expr:
    x = pl.col(signal).cast(pl.Float64) if signal in present else pl.lit(None, dtype=pl.Float64)
    if comp.transform == "tiers":
        return tier_score(x, comp.tiers[signal])
    if signal not in present:
        return pl.lit(None, dtype=pl.Float64)
    if comp.transform == "thresholds":
        lo, hi = comp.thresholds[signal]
        if hi == lo:
            raise KitError(f"thresholds of {signal} are equal ({lo:g})", where="score.components",
                           fix="give two different values: [value scoring 0, value scoring 100]")
        return (100 * (x - lo) / (hi - lo)).clip(0, 100)
    return _percentile(x * catalog.direction_of(signal))


def tier_score(x: pl.Expr, tiers: Tiers) -> pl.Expr:
    """The score of the value range x falls in: ranges are (lower cut, upper cut]; no value (null or NaN) scores `missing`."""
    expr = pl.when(x.is_null() | x.is_nan()).then(pl.lit(tiers.missing, dtype=pl.Float64))
    for cut, sc in zip(tiers.cuts, tiers.scores):
        expr = expr.when(x <= cut).then(pl.lit(float(sc)))
    return expr.otherwise(pl.lit(float(tiers.scores[-1]))).cast(pl.Float64)


def _percentile(x: pl.Expr) -> pl.Expr:
    """Mid-rank percentile within segment and scoring date: 100 * (average rank - 0.5) / n."""
    return 100 * (x.rank("average").over(GROUP) - 0.5) / x.count().over(GROUP)


def components(signals: pl.DataFrame, config: Score) -> pl.DataFrame:
    """account_id, as_of, segment, arr and one 0-100 column per component (missing when no signal is present)."""
    clash = sorted(set(config.components) & RESERVED)
    if clash:
        raise KitError(f"component name(s) {clash} are reserved", where="score.components",
                       fix="rename the component (e.g. usage, support, billing)")
    for col in KEYS:
        if col not in signals.columns:
            raise KitError(f"the signals frame has no {col!r} column", where="scoring input",
                           fix="build it with kit.analyses.signals.build(data, points)")
    present = set(signals.columns)
    seg = pl.col("segment").cast(pl.String) if "segment" in present else pl.lit(None, dtype=pl.String)
    df = signals
    if any(c.transform == "percentile" for c in config.components.values()):
        # one integer group per (segment, scoring date): the percentile window is cheap to evaluate
        df = df.with_columns(pl.struct(seg.fill_null(NO_SEGMENT), pl.col("as_of")).rank("dense").alias(GROUP))
    # each signal once on 0-100, then components, then (percentile components) ranked again
    def key(sname: str, comp: Component) -> tuple:
        rule = comp.tiers[sname].model_dump_json() if comp.transform == "tiers" else tuple(comp.thresholds.get(sname, ()))
        return sname, comp.transform, rule

    sig_cols: dict[tuple, tuple[str, Component]] = {}
    for comp in config.components.values():
        for sname in comp.signals:
            sig_cols.setdefault(key(sname, comp), (f"_s{len(sig_cols)}", comp))
    df = df.with_columns(_signal_expr(k[0], comp, present).alias(col) for k, (col, comp) in sig_cols.items())
    means = []
    for name, comp in config.components.items():
        parts = [pl.col(sig_cols[key(s, comp)][0]) for s in comp.signals]
        share = comp.signal_weights or {s: 1.0 for s in comp.signals}
        # weighted mean of the present parts: sum of weighted values / sum of the present parts' weights
        wsum = pl.sum_horizontal([pl.when(p.is_not_null()).then(pl.lit(float(share[s]))).otherwise(0.0)
                                  for s, p in zip(comp.signals, parts)])
        total = pl.sum_horizontal([p * float(share[s]) for s, p in zip(comp.signals, parts)])
        means.append(pl.when(wsum > 0).then(total / wsum).otherwise(None).cast(pl.Float64).alias(name))
    df = df.with_columns(means)
    ranked = [_percentile(pl.col(n)).alias(n) for n, c in config.components.items() if c.transform == "percentile"]
    if ranked:
        df = df.with_columns(ranked)  # the component itself is a percentile among its segment's peers
    keep = [c for c in ("account_id", "as_of", "segment", "arr") if c in present]
    return df.select(*keep, *config.components)


def composite(comps: pl.DataFrame, config: Score, weights: Mapping[str, float] | None = None) -> pl.DataFrame:
    """Add score, band, reweighted, components_present to a frame of component columns."""
    w = weights_of(config, weights)
    names = list(config.components)
    weighted = [pl.col(c) * w[c] for c in names if w[c] > 0]
    present_w = [pl.when(pl.col(c).is_not_null()).then(pl.lit(w[c])).otherwise(0.0) for c in names if w[c] > 0]
    wsum = pl.sum_horizontal(present_w)
    score = pl.when(wsum > 0).then(pl.sum_horizontal(weighted) / wsum).otherwise(None)
    return comps.with_columns(
        score.cast(pl.Float64).alias("score"),
        ((wsum > 0) & (wsum < 1 - 1e-9)).alias("reweighted"),
        pl.sum_horizontal([pl.col(c).is_not_null().cast(pl.Int32) for c in names]).alias("components_present"),
    ).with_columns(status.band(pl.col("score"), config.bands.red, config.bands.green).alias("band"))


def card(config: Score, segment: str | None = None) -> Score:
    """The configuration the accounts of a segment are scored by: the segment's own card, or the overall one."""
    own = config.segments.get(segment) if segment is not None else None
    if own is None:
        return config if not config.segments else config.model_copy(update={"segments": {}})
    return Score(components=own.components, bands=own.bands, at_risk_weeks=config.at_risk_weeks, trend_days=config.trend_days)


def resolved(signals: pl.DataFrame, config: Score) -> pl.DataFrame:
    """components() and composite() of every row by its segment's card (a score with segment cards, as
    Gainsight's Scorecard Resolver runs it; the overall card where a segment has none). With segment cards,
    each row also carries the bands of the card that scored it (`red`, `green`) and the card (`card`: the
    segment, or DEFAULT); the rows keep their order."""
    if not config.segments:
        return composite(components(signals, config), config)
    seg = pl.col("segment").cast(pl.String) if "segment" in signals.columns else pl.lit(None, pl.String)
    frame = signals.with_row_index("_row")
    parts = []
    for name, rows in [(DEFAULT_CARD, ~seg.is_in(list(config.segments)).fill_null(False)),
                       *((s, seg == s) for s in config.segments)]:
        cfg = card(config, None if name == DEFAULT_CARD else name)
        part = frame.filter(rows)
        scored_part = composite(components(part, cfg), cfg)
        parts.append(scored_part.with_columns(part["_row"], pl.lit(float(cfg.bands.red)).alias("red"),
                                              pl.lit(float(cfg.bands.green)).alias("green"), pl.lit(name).alias("card")))
    return pl.concat(parts, how="diagonal_relaxed").sort("_row").drop("_row")


def points(signals: pl.DataFrame, config: Score, *, weighted: bool = True) -> pl.DataFrame:
    """What each measure adds to each row's score, by the row's card: one column per signal (a component ranked as
    a percentile: one column per component), null where the measure has no value. The columns of a row add up to
    its score exactly (a score is a weighted mean: a measure adds its weight share of the present measures times
    its range's points). `weighted=False`: each measure's own 0-100 points (its range's, or the percentile), before
    its weight. Rows keep their order; also account_id, as_of."""
    seg = pl.col("segment").cast(pl.String) if "segment" in signals.columns else pl.lit(None, pl.String)
    frame = signals.with_row_index("_row")
    cards = [(DEFAULT_CARD, ~seg.is_in(list(config.segments)).fill_null(False)), *((s, seg == s) for s in config.segments)]
    parts = []
    for name, rows in cards:
        cfg = card(config, None if name == DEFAULT_CARD else name)
        part = frame.filter(rows)
        present = set(part.columns)
        comps = components(part, cfg).select(pl.col(list(cfg.components)).name.prefix("_c_"))
        part = part.hstack(comps)
        w = weights_of(cfg)
        wsum = pl.sum_horizontal([pl.when(pl.col(f"_c_{c}").is_not_null()).then(pl.lit(w[c])).otherwise(0.0)
                                  for c in cfg.components if w[c] > 0])
        cols = []
        for c, comp in cfg.components.items():
            if w[c] <= 0:
                continue
            share_c = pl.lit(w[c]) / wsum if weighted else pl.lit(1.0)
            if comp.transform == "percentile":
                cols.append((share_c * pl.col(f"_c_{c}")).alias(c))
                continue
            share = comp.signal_weights or {s: 1.0 for s in comp.signals}
            scored = {s: _signal_expr(s, comp, present) for s in comp.signals}
            asum = pl.sum_horizontal([pl.when(e.is_not_null()).then(pl.lit(float(share[s]))).otherwise(0.0) for s, e in scored.items()])
            cols += [(share_c * pl.lit(float(share[s])) / asum * e if weighted else e).alias(s) for s, e in scored.items()]
        parts.append(part.select("_row", *[k for k in ("account_id", "as_of") if k in present], *cols))
    return pl.concat(parts, how="diagonal_relaxed").sort("_row").drop("_row")


def at_risk(scored: pl.DataFrame, red: float | pl.Expr, weeks: int, *, date: str = "as_of") -> pl.DataFrame:
    """Add `below_red`, `run_max` and `at_risk` (below red on `weeks` consecutive scoring dates of the account;
    `red` a threshold, or a column of each row's card's threshold).

    `run_max` is the highest score of the account's last `weeks` scoring dates (missing when one of
    them has no score), so `at_risk` is `run_max < red` for any red threshold.
    """
    return (
        scored.sort("account_id", date)
        .with_columns(
            (pl.col("score").is_not_null() & (pl.col("score") < red)).alias("below_red"),
            pl.col("score").rolling_max(window_size=weeks, min_samples=weeks).over("account_id").alias("run_max"),
        )
        .with_columns((pl.col("run_max") < red).fill_null(False).alias("at_risk"))
    )


def trend(scored: pl.DataFrame, days: int, *, date: str = "as_of") -> pl.DataFrame:
    """Add `trend`: score minus the account's latest score dated at least `days` earlier."""
    past = (
        scored.select("account_id", pl.col(date).alias("_past_date"), pl.col("score").alias("_past"))
        .filter(pl.col("_past").is_not_null())
        .sort("_past_date")
    )
    lookup = scored.with_columns((pl.col(date) - pl.duration(days=days)).alias("_look")).sort("_look")
    out = lookup.join_asof(past, left_on="_look", right_on="_past_date", by="account_id", strategy="backward",
                          check_sortedness=False)  # sorted by the key overall, hence within each account
    return out.with_columns((pl.col("score") - pl.col("_past")).alias("trend")).drop("_look", "_past_date", "_past")


def score(signals: pl.DataFrame, config: Score, weights: Mapping[str, float] | None = None) -> pl.DataFrame:
    """The health score of every account and date in a signals frame (kit.analyses.signals.build output).

    Returns account_id, as_of, segment, arr, one 0-100 column per component, score, band,
    reweighted (the composite was re-weighted over present components), components_present,
    below_red, at_risk and trend, sorted by account and date. `weights` overrides the
    configuration's component weights (same components; rescaled to sum to 1).
    """
    out = composite(components(signals, config), config, weights) if weights is not None or not config.segments else resolved(signals, config)
    out = at_risk(out, pl.col("red") if config.segments else config.bands.red, config.at_risk_weeks)
    return trend(out, config.trend_days).sort("account_id", "as_of")


def summary(scored: pl.DataFrame) -> dict:
    """Counts a report quotes: rows, scored rows, re-weighted rows and rows per band."""
    n = scored.height
    return {
        "rows": n,
        "scored": int(scored["score"].is_not_null().sum()),
        "unscored": int(scored["score"].is_null().sum()),
        "reweighted": int(scored["reweighted"].sum()),
        "reweighted_share": (int(scored["reweighted"].sum()) / n) if n else None,
        "bands": {b: int((scored["band"] == b).sum()) for b in status.BANDS},
    }
