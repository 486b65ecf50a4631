"""The signal search: which signals of the family (kit.catalog) become candidates, chosen on
the renewals before the cut only (kit.analyses.split).

Method (each step is reported):

1. **The family.** For every measure the client's tables hold (usage columns and extra usage
   features, tickets, CSAT, resolution times, priorities, late invoices, days late, NPS, contacts'
   activity), every aggregation at every window of `search.windows` (30 to 365 days): totals, means
   over all days and over the days with a record, highest and lowest values, the share of days with
   a record, days since the last record, the change against the window before, per seat and per
   active user. Signals matching `search.forbid` are left out.
2. **Measured before the cut.** Each is built at every renewal dated before the cut, `lead_time_days`
   before it, from records dated before that moment (kit.analyses.signals); renewals whose moment
   precedes the start of an event export are left out, as in the back-test.
3. **Strength.** Per signal, on those renewals: the gain in binomial log-likelihood of churn when the
   renewals are split by the signal's best value tiers (the exact monotone optimum of up to 5 tiers over
   cuts at 30 quantiles, each holding at least `scorecard.min_tier_share` of the renewals with a value,
   kit.analyses.stats: a screening, three times faster than the 100 cuts the scorecard's ranges take)
   plus one group for the renewals without a value, over no split at all: the churn information a
   scorecard measure can draw from it. A signal is not a candidate when it has a value for fewer than
   1 - `weighting.max_missing_share` of the renewals, or when churned renewals do not rank riskier on
   it in its healthy direction at `weighting.significance` divided by the number of signals tried on
   its measure (a one-sided Mann-Whitney test: selection among many would otherwise find noise).
4. **One per measure and kind.** Of each measure's signals, the strongest of each kind: level (how
   much), presence (how often, how recently), trend (which way).
5. **Near-duplicates folded.** Those whose rank correlation exceeds `search.duplicate_correlation`
   form groups (kit.analyses.stats.correlated_groups, as in the churn correlation notebook); each group
   keeps its strongest.
6. **A cap.** At most `search.max_candidates`, the strongest. Signals in `search.pin` are always
   candidates, whatever steps 3-6 say.
7. **Per segment.** For each segment with at least `scorecard.segment_min_churn_events` churned renewals
   before the cut, steps 3-6 again on the segment's renewals alone, those before the latest two of the
   `scorecard.cv_folds` time blocks of the renewals before the cut: the candidates of a card of its own.
   kit.analyses.scorecard adopts it only where, judged on those two blocks, it ranks the segment better than
   the overall card: renewals its candidates were not chosen on.

Selecting among many signals makes figures measured on the same renewals optimistic; the figures
that count are those after the cut, on renewals the search never saw.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from kit.analyses import signals, stats
from kit import catalog
from kit.params import Parameters

MAX_TIERS = 5
PREBINS = 30  # quantile cuts the strength is screened over (the scorecard's own ranges take 100 and a tree's splits)
JUDGED_BLOCKS = 2  # the latest time blocks before the cut that the segment searches leave for judging their cards
KIND_ORDER = ("level", "presence", "trend")


@dataclass
class Row:
    """One signal of the family and what the search made of it."""

    signal: str
    measure: str
    kind: str
    coverage: float
    gain: float | None = None  # log-likelihood gain of its best tiers (with a no-value group) over none
    p_value: float | None = None  # one-sided rank test in its healthy direction, before the correction
    auc: float | None = None  # as a risk score, over the renewals with a value
    verdict: str = ""
    chosen: bool = False


@dataclass
class Result:
    cut: date
    fitted_on: int  # renewals before the cut
    churned: int
    tried: int  # signals of the family built and judged
    measures: int
    chosen: list[str]
    rows: list[Row] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    segments: dict[str, list[str]] = field(default_factory=dict)  # segment -> its own candidates (step 7)
    segments_until: date | None = None  # ... searched on the renewals dated before this day

    def table(self) -> pl.DataFrame:
        return pl.DataFrame([r.__dict__ for r in self.rows], infer_schema_length=None)

    def to_json(self) -> dict[str, Any]:
        return {"cut": self.cut, "fitted_on": self.fitted_on, "churned": self.churned, "tried": self.tried,
                "measures": self.measures, "chosen": self.chosen, "settings": self.settings,
                "segments": self.segments, "segments_until": self.segments_until, "signals": [r.__dict__ for r in self.rows]}

    @classmethod
    def from_json(cls, doc: dict) -> "Result":
        day = lambda v: v if v is None or isinstance(v, date) else date.fromisoformat(v)  # noqa: E731
        return cls(day(doc["cut"]), doc["fitted_on"], doc["churned"], doc["tried"], doc["measures"], list(doc["chosen"]),
                   [Row(**r) for r in doc.get("signals", [])], doc.get("settings", {}), dict(doc.get("segments") or {}),
                   day(doc.get("segments_until")))

    def all_chosen(self) -> list[str]:
        """The overall candidates, then each segment's that are not among them."""
        return list(dict.fromkeys([*self.chosen, *(s for names in self.segments.values() for s in names)]))


def settings_of(params: Parameters, cut: date) -> dict[str, Any]:
    """What the search depends on besides the data: a stored search is reused only when these agree."""
    return {"cut": cut.isoformat(), "lead_time_days": params.lead_time_days, **params.search.model_dump(),
            "min_tier_share": params.scorecard.min_tier_share, "max_missing_share": params.weighting.max_missing_share,
            "segment_min_churn_events": params.scorecard.segment_min_churn_events, "cv_folds": params.scorecard.cv_folds,
            "significance": params.weighting.significance, "contraction_as_churn": params.weighting.contraction_as_churn}


def candidates(data, params: Parameters) -> list[str]:
    """The family the search tries for this client (step 1): forbidden signals left out, pinned ones added."""
    forbid = params.search.forbid
    out = [s for s in signals.family(data, tuple(params.search.windows)) if not any(fnmatch.fnmatchcase(s, p) for p in forbid)]
    return list(dict.fromkeys([*out, *params.search.pin]))


def run(data, params: Parameters, renewals: pl.DataFrame, cut: date) -> Result:
    """The search on the renewals before the cut whose as-of date every event export reaches (`renewals`:
    account_id, as_of, renewal_date, churned; kit.analyses.signals.renewal_points)."""
    begin = signals.exports_begin(data)
    fit = renewals.filter(pl.col("renewal_date") < cut, pl.col("as_of") >= begin if begin is not None else pl.lit(True))
    names = candidates(data, params)
    frame = signals.build(data, fit.select("account_id", "as_of"), names) if fit.height else None
    y = fit["churned"].cast(pl.Float64).to_numpy()
    result = choose(frame, y, names, params, cut)
    if frame is not None:
        result.segments_until, result.segments = by_segment(frame, y, fit["renewal_date"], names, params, cut)
    return result


def by_segment(frame: pl.DataFrame, y: np.ndarray, dates: pl.Series, names: list[str], params: Parameters, cut: date,
               ) -> tuple[date, dict[str, list[str]]]:
    """Step 7: (the first day not searched, {segment: its candidates}) for the segments with enough churn."""
    from kit.analyses import split

    blocks = params.scorecard.cv_folds
    fold = split.folds(dates, blocks)
    until = dates.filter(pl.Series(fold >= blocks - JUDGED_BLOCKS)).min()
    early = (dates < until).to_numpy()
    segs = frame["segment"].cast(pl.String).to_numpy()
    out = {}
    for seg in sorted({s for s in segs if s is not None}):
        rows = segs == seg
        if (y[rows] >= stats.EVENT_CUT).sum() >= params.scorecard.segment_min_churn_events:
            part = rows & early
            out[seg] = choose(frame.filter(pl.Series(part)), y[part], names, params, cut).chosen
    return until, out


def choose(frame: pl.DataFrame | None, y: np.ndarray, names: list[str], params: Parameters, cut: date) -> Result:
    """Steps 3-6 on a frame holding one column per signal of `names` (the renewals before the cut)."""
    s, sc, w = params.search, params.scorecard, params.weighting
    n = len(y)
    result = Result(cut, n, int((y >= stats.EVENT_CUT).sum()), len(names), 0, [], settings=settings_of(params, cut))
    if frame is None or n == 0 or y.min() == y.max():
        result.chosen = list(s.pin)
        return result
    by_measure: dict[str, list[Row]] = {}
    values: dict[str, np.ndarray] = {}
    for name in names:
        spec = signals.resolve(name)
        measure = spec.measure or name
        x = frame[name].cast(pl.Float64).to_numpy()
        values[name] = x
        m = ~np.isnan(x)
        row = Row(name, measure, catalog.AGGREGATIONS.get(spec.aggregation, "level"), float(m.mean()))
        by_measure.setdefault(measure, []).append(row)
        if row.coverage < 1 - w.max_missing_share:
            row.verdict = f"has a value for {row.coverage:.0%} of the renewals before the cut (needs {1 - w.max_missing_share:.0%})"
            continue
        if np.unique(x[m]).size < 2:
            row.verdict = "constant before the cut"
            continue
        row.auc = stats.auc_or_none(-catalog.direction_of(name) * x[m], y[m] >= stats.EVENT_CUT)
        row.gain = _gain(x, y, catalog.direction_of(name), sc.min_tier_share)
        if row.gain is None:
            row.verdict = "no split of its values ranks churn in its healthy direction"
            continue
        row.p_value = stats.rank_p_value(-catalog.direction_of(name) * x[m], y[m] >= stats.EVENT_CUT)
    result.measures = len(by_measure)
    # step 3: significant after the selection among a measure's signals; step 4: the strongest per kind
    best: list[Row] = []
    for measure, rows in by_measure.items():
        alpha = w.significance / len(rows)
        for r in rows:
            if r.gain is not None and r.p_value >= alpha:
                r.verdict = (f"not significant once {len(rows)} signals of its measure are tried (p = {r.p_value:.2g}; "
                             f"it must be below {w.significance:g} / {len(rows)})")
        for kind in KIND_ORDER:
            ok = [r for r in rows if r.kind == kind and r.gain is not None and not r.verdict]
            if not ok:
                continue
            top = max(ok, key=lambda r: (r.gain, -len(r.signal), r.signal))
            best.append(top)
            for r in ok:
                if r is not top:
                    r.verdict = f"weaker than {_named(top.signal)}, the strongest {kind} signal of its measure"
    # step 5: near-duplicates folded into the strongest of their group
    best.sort(key=lambda r: -r.gain)
    kept = _fold(best, values, s.duplicate_correlation)
    # step 6: the cap, then the pinned
    for r in kept[s.max_candidates:]:
        r.verdict = f"beyond the {s.max_candidates} strongest candidates (search.max_candidates)"
    chosen = [r.signal for r in kept[: s.max_candidates]]
    for name in s.pin:
        if name not in chosen:
            chosen.append(name)
    rows = {r.signal: r for rs in by_measure.values() for r in rs}
    for name in chosen:
        if name in rows:
            rows[name].chosen = True
            rows[name].verdict = "pinned (search.pin)" if name in s.pin and rows[name].verdict else "candidate"
    result.chosen = chosen
    result.rows = sorted(rows.values(), key=lambda r: (not r.chosen, -(r.gain or -math.inf), r.signal))
    return result


def _named(signal: str) -> str:
    """A signal as the report names it (its label; the name itself when it has none)."""
    return catalog.label_of(signal) or signal


def _gain(x: np.ndarray, y: np.ndarray, direction: int, min_share: float) -> float | None:
    """Log-likelihood gain of the best tiers plus a no-value group over no split (None: no tiers in risk order)."""
    m = ~np.isnan(x)
    path = stats.tier_path(x[m], y[m], direction, MAX_TIERS, min_share * m.sum(), stats.prebin_cuts(x[m], PREBINS))
    if not any(t >= 2 for t in path):
        return None
    missing = int((~m).sum())
    ll = path[max(path)].loglik + (float(stats.loglik([y[~m].sum()], [missing])) if missing else 0.0)
    return ll - float(stats.loglik([y.sum()], [len(y)]))


def _fold(rows: list[Row], values: dict[str, np.ndarray], threshold: float) -> list[Row]:
    """Rows (strongest first) without the near-duplicates: each correlated group keeps its strongest."""
    if len(rows) < 2:
        return rows
    ranks = np.column_stack([_ranks(values[r.signal]) for r in rows])
    corr = np.corrcoef(ranks, rowvar=False)
    names = [r.signal for r in rows]
    drop = set()
    for group in stats.correlated_groups(np.nan_to_num(corr), names, threshold):
        top = min(group, key=names.index)  # rows are strongest first
        for g in group:
            if g != top:
                drop.add(g)
                next(r for r in rows if r.signal == g).verdict = f"folded into {_named(top)} (rank correlation above {threshold:g})"
    return [r for r in rows if r.signal not in drop]


def _ranks(x: np.ndarray) -> np.ndarray:
    """Mid-ranks of the values present; renewals without a value at the middle rank."""
    out = np.full(len(x), np.nan)
    m = ~np.isnan(x)
    if m.any():
        out[m] = stats.midranks(x[m])
        out[~m] = np.nanmedian(out)
    return out
