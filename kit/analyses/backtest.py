"""The health score back-test: would the score have flagged past churn, early enough?

Every account is scored every `backtest.score_every_days` (weekly) over the history, each score
built only from records dated before its scoring date (kit.analyses.signals.build). Each past renewal is
then judged by the scores before it, per candidate: the client's platform score (`health_scores`),
the current weights, the proposed weights of the churn correlation run, equal weights, and the
proposed scorecard (kit.analyses.scorecard), fitted here on the earlier renewals and read back from its file.

Definitions (shown in the report):

* **Lead-time score**: the renewal's latest score dated on or before `renewal_date -
  lead_time_days` and no earlier than `renewal_date - window_start_days`. Every point metric uses
  it; renewals without one are left out of them and reported.
* **Churned**: the renewal's outcome is churned (also contracted when `weighting.contraction_as_churn`
  is 0.5 or more), the same labels as the churn correlation notebook.
* **Time split**: renewals are sorted by date and the latest `scorecard.test_share` of them are kept
  out of every fit; figures on the renewals before the cut are *in sample* for a candidate fitted
  there, figures on the renewals from the cut on are *out of time*. Each candidate is judged on its
  own bands: the platform score on `backtest.platform_bands` (default `score.bands`), the scorecard
  on its fitted bands, the others on `score.bands`.
* **Bands**: churn rate per band of the lead-time score; `accounts` counts renewals (an account
  that renewed twice in the history counts twice).
* **Flagged** means red (or red + yellow for the `red_yellow_*` metrics). Precision = churned
  flagged / flagged; recall = churned flagged / churned; false positive rate = retained flagged /
  retained; false negative rate = churned not flagged / churned.
* **AUC**: probability that a retained renewal's lead-time score is above a churned one's (ties
  count half); 0.5 is chance. Two candidates on the same renewals are compared by DeLong's test.
* **ARR-weighted** versions weigh each renewal by its ARR before renewal: `arr_flagged_share` is the
  share of churned ARR that was red.
* **Lead time**: for churned renewals, days from the first at-risk flag (below red on
  `score.at_risk_weeks` consecutive scores) dated from `renewal - window_start_days` to
  `renewal - window_end_days` (by default the year before the renewal) to the renewal date.
  The median and quartiles come from renewals whose window opens inside the candidate's scored
  history (a window cut short by the start of the history would pile flags at its edge);
  `flagged_90d_share` = share of all churned renewals flagged at least `lead_time_days`
  (default 90 days) ahead.
* **Suggested red threshold**: the swept threshold with the largest recall minus false positive
  rate (Youden's J), a starting point for the consultant, not applied automatically.
* **Best**: the highest out-of-time AUC among the candidates not fitted on the later renewals;
  ties go to the lower share of churned renewals scored green, then to the name. AUC judges the
  ranking itself, independent of where band thresholds sit (the threshold sweep shows those
  trade-offs separately).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import polars as pl

from kit.analyses import scorecard, health_score, search, signals, split, stats, yardsticks
from kit import catalog, registry, status
from kit.analyses.weights import WeightsDocument
from kit.artefacts import Document
from kit.errors import KitError
from kit.params import Component, Parameters, Score

CURRENT, PROPOSED, EQUAL = "current", "proposed", "equal"
PLATFORM, SCORECARD = "platform", "scorecard"
ORDER = (PLATFORM, CURRENT, PROPOSED, EQUAL, SCORECARD)  # how candidates are listed
EXAMPLES = 5


@dataclass(frozen=True)
class Settings:
    """What the back-test judges a score by; `Settings.of(params)` reads it from the parameters (whose fields hold the defaults)."""

    red: float
    green: float
    at_risk_weeks: int
    lead_time_days: int
    window_start_days: int
    window_end_days: int
    history_start: date | None = None  # first scoring date: windows opening before it are cut short
    by_row: bool = False  # each score carries its card's bands (columns red, green): a score with segment cards

    @classmethod
    def of(cls, params: Parameters, score: Score | None = None) -> "Settings":
        sc = score or params.score
        bt = params.backtest
        if params.lead_time_days > bt.window_start_days:
            raise KitError(
                f"lead_time_days ({params.lead_time_days}) is beyond backtest.window_start_days ({bt.window_start_days})",
                where="parameters", fix="make the back-test window start at least lead_time_days before renewal",
            )
        return cls(sc.bands.red, sc.bands.green, sc.at_risk_weeks, params.lead_time_days, bt.window_start_days, bt.window_end_days,
                   by_row=bool(sc.segments))

    @property
    def red_in_force(self) -> float | pl.Expr:
        """The red threshold each score is judged on: s.red, or the row's own card's."""
        return pl.col("red") if self.by_row else self.red

    def from_history(self, start: date) -> "Settings":
        return replace(self, history_start=start)

    def with_bands(self, red: float, green: float) -> "Settings":
        return replace(self, red=red, green=green)


# ---------------------------------------------------------------------------- per renewal


def _window_scores(scores: pl.DataFrame, renewals: pl.DataFrame, s: Settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(renewals with a row id, each renewal's scores dated in [renewal - window_start, renewal] with run_max)."""
    bands = ["red", "green"] if s.by_row else []
    flagged = health_score.at_risk(scores.select("account_id", "date", "score", *bands), s.red_in_force, s.at_risk_weeks, date="date")
    r = renewals.with_row_index("_renewal")
    rd = pl.col("renewal_date")
    joined = (
        r.select("_renewal", "account_id", "renewal_date")
        .join(flagged.select("account_id", "date", "score", "run_max", *bands), on="account_id", how="inner")
        .filter(pl.col("date") >= rd - pl.duration(days=s.window_start_days), pl.col("date") <= rd)
        .sort("_renewal", "date")
    )
    return r, joined


def _per_renewal(r: pl.DataFrame, joined: pl.DataFrame, s: Settings, reds: tuple[float | pl.Expr, ...] = ()) -> pl.DataFrame:
    """One row per renewal: its window's facts, with the first flag below each red threshold of `reds`
    (default: the one in force) in columns _flag0, _flag1, ... (one pass for a whole threshold sweep);
    with bands by row, the lead-time score's own bands (_lead_red, _lead_green)."""
    rd = pl.col("renewal_date")
    in_window = pl.col("date") <= rd - pl.duration(days=s.window_end_days)
    is_lead = (pl.col("date") <= rd - pl.duration(days=s.lead_time_days)) & pl.col("score").is_not_null()
    agg = joined.group_by("_renewal").agg(
        (in_window & pl.col("score").is_not_null()).sum().cast(pl.Int64).alias("scores_in_window"),
        pl.col("date").filter(is_lead).max().alias("lead_date"),
        pl.col("score").filter(is_lead).last().alias("lead_score"),
        pl.col("date").filter(in_window & pl.col("score").is_not_null()).min().alias("_opened"),
        *[pl.col("date").filter(in_window & (pl.col("run_max") < red)).min().alias(f"_flag{i}") for i, red in enumerate(reds or (s.red_in_force,))],
        *([pl.col(b).filter(is_lead).last().alias(f"_lead_{b}") for b in ("red", "green")] if s.by_row else []),
    )
    return r.join(agg, on="_renewal", how="left").sort("_renewal").drop("_renewal")


def _at_threshold(raw: pl.DataFrame, s: Settings, i: int = 0) -> pl.DataFrame:
    """The renewal table at red threshold s.red (each lead-time score's own card's, with bands by row), whose
    first flags are in column _flag{i}."""
    rd = pl.col("renewal_date")
    opens = rd - pl.duration(days=s.window_start_days)
    full = pl.lit(True) if s.history_start is None else opens >= pl.lit(s.history_start, pl.Date)
    red, green = (pl.col("_lead_red"), pl.col("_lead_green")) if s.by_row else (s.red, s.green)
    return raw.with_columns(
        pl.col("scores_in_window").fill_null(0),
        status.band(pl.col("lead_score"), red, green).alias("lead_band"),
        pl.col(f"_flag{i}").alias("first_flag"),
        (rd - pl.col(f"_flag{i}")).dt.total_days().alias("flag_lead_days"),
        full.alias("full_window"),
        (pl.col(f"_flag{i}") == pl.col("_opened")).fill_null(False).alias("flagged_at_open"),
        pl.col("churned").cast(pl.Boolean),
        pl.col("arr_before").cast(pl.Float64).fill_null(0.0),
    ).drop("_opened", *[c for c in raw.columns if c.startswith(("_flag", "_lead_"))])


def renewal_table(scores: pl.DataFrame, renewals: pl.DataFrame, s: Settings) -> pl.DataFrame:
    """One row per renewal with its lead-time score and band, first at-risk flag and lead time.

    scores: account_id, date, score (one configuration). renewals: account_id, renewal_date,
    churned, arr_before (segment optional). Adds: scores_in_window, lead_date, lead_score,
    lead_band, first_flag, flag_lead_days, full_window (the window opens inside the scored history),
    flagged_at_open (the first flag is the first score of the window: at risk before it opened).
    """
    return _at_threshold(_per_renewal(*_window_scores(scores, renewals, s), s), s)


# ---------------------------------------------------------------------------- metrics


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def metrics(table: pl.DataFrame, s: Settings) -> dict[str, Any]:
    """Every point metric, band table and lead-time figure of one configuration (see module doc)."""
    t = table.filter(pl.col("lead_score").is_not_null())
    churned = t["churned"]
    arr = t["arr_before"]
    bands = t["lead_band"]
    n, n_c = t.height, int(churned.sum())
    n_r = n - n_c
    arr_c = float(arr.filter(churned).sum())
    arr_r = float(arr.filter(~churned).sum())
    out: dict[str, Any] = {"renewals": n, "churned": n_c, "retained": n_r, "churned_arr": arr_c, "retained_arr": arr_r}

    band_rows = {}
    for b in status.BANDS:
        m = bands == b
        k, kc = int(m.sum()), int((m & churned).sum())
        a, ac = float(arr.filter(m).sum()), float(arr.filter(m & churned).sum())
        band_rows[b] = {"accounts": k, "churned": kc, "churn_rate": _ratio(kc, k), "arr": a, "churned_arr": ac,
                        "arr_churn_rate": _ratio(ac, a)}
    out["bands"] = band_rows

    green = bands == "green"
    out["churned_green_share"] = _ratio(int((green & churned).sum()), n_c)
    out["arr_churned_green_share"] = _ratio(float(arr.filter(green & churned).sum()), arr_c)
    for prefix, flag in (("red", bands == "red"), ("red_yellow", bands.is_in(["red", "yellow"]))):
        tp, fp = int((flag & churned).sum()), int((flag & ~churned).sum())
        atp, afp = float(arr.filter(flag & churned).sum()), float(arr.filter(flag & ~churned).sum())
        key = "" if prefix == "red" else "red_yellow_"
        out[f"{prefix}_precision"] = _ratio(tp, tp + fp)
        out[f"{prefix}_recall"] = _ratio(tp, n_c)
        out[f"{key}false_positive_rate"] = _ratio(fp, n_r)
        out[f"{key}false_negative_rate"] = _ratio(n_c - tp, n_c)
        out[f"{prefix}_share"] = _ratio(tp + fp, n)
        out[f"arr_{prefix}_precision"] = _ratio(atp, atp + afp)
        out[f"arr_{key}flagged_share" if prefix == "red" else "arr_red_yellow_flagged_share"] = _ratio(atp, arr_c)
        out[f"arr_{key}false_positive_rate"] = _ratio(afp, arr_r)
    out["auc"] = stats.auc_or_none(-t["lead_score"].to_numpy(), churned.to_numpy())

    gone = t.filter(pl.col("churned"))
    flagged = gone["flag_lead_days"].drop_nulls()
    out["at_risk_flagged_share"] = _ratio(flagged.len(), n_c)
    # lead times from whole windows only: a window cut short by the history start would pile flags at its edge
    whole = gone.filter(pl.col("full_window"))
    out["lead_time_window"] = "whole" if whole.height else "cut short by the history start"
    timed = (whole if whole.height else gone).filter(pl.col("flag_lead_days").is_not_null())
    lead = timed["flag_lead_days"]
    out["lead_time_renewals"] = timed.height
    out["lead_time_days_median"] = float(lead.median()) if lead.len() else None
    out["lead_time_days_quartiles"] = [float(lead.quantile(q, "linear")) for q in (0.25, 0.75)] if lead.len() else None
    out["at_risk_at_window_open_share"] = _ratio(int(timed["flagged_at_open"].sum()), timed.height)
    out["flag_goal_days"] = s.lead_time_days
    out["flagged_90d_share"] = _ratio(int((flagged >= s.lead_time_days).sum()), n_c)
    return out


def thresholds(start: float, stop: float, step: float) -> list[float]:
    out: list[float] = []
    while start + len(out) * step <= stop + 1e-9:
        out.append(start + len(out) * step)
    return out


def _sweep_rows(raw: pl.DataFrame, s: Settings, reds: list[float], first: int) -> pl.DataFrame:
    """Sweep figures from a _per_renewal frame whose flag columns from `first` on belong to `reds`."""
    rows = []
    for i, red in enumerate(reds):
        at = replace(s, red=red, by_row=False)  # one threshold for every card: the sweep's question
        m = metrics(_at_threshold(raw, at, first + i), at)
        rows.append({
            "red_threshold": red,
            "red_precision": m["red_precision"], "red_recall": m["red_recall"],
            "false_positive_rate": m["false_positive_rate"], "false_negative_rate": m["false_negative_rate"],
            "red_share": m["red_share"], "arr_flagged_share": m["arr_flagged_share"],
            "flagged_90d_share": m["flagged_90d_share"], "lead_time_days_median": m["lead_time_days_median"],
        })
    return pl.DataFrame(rows, schema_overrides={c: pl.Float64 for c in rows[0] if c != "red_threshold"} if rows else None)


def sweep(scores: pl.DataFrame, renewals: pl.DataFrame, s: Settings, start: float, stop: float, step: float) -> pl.DataFrame:
    """The red threshold moved from `start` to `stop`: what it catches and what it costs."""
    reds = thresholds(start, stop, step)
    return _sweep_rows(_per_renewal(*_window_scores(scores, renewals, s), s, tuple(reds)), s, reds, 0)


def suggest_threshold(sw: pl.DataFrame) -> float | None:
    """The swept red threshold with the best recall minus false positive rate (Youden's J); ties: the lower."""
    ok = sw.filter(pl.col("red_recall").is_not_null() & pl.col("false_positive_rate").is_not_null())
    if not ok.height:
        return None
    return float(ok.with_columns((pl.col("red_recall") - pl.col("false_positive_rate")).alias("j"))
                 .sort(["j", "red_threshold"], descending=[True, False])["red_threshold"][0])


def segments(table: pl.DataFrame, s: Settings) -> pl.DataFrame:
    """Per segment: renewals, churned, churn rate per band, AUC, red recall/precision, churned green share."""
    if "segment" not in table.columns:
        return pl.DataFrame()
    rows = []
    t = table.with_columns(pl.col("segment").fill_null(health_score.NO_SEGMENT))
    for seg in sorted(t["segment"].unique().to_list()):
        m = metrics(t.filter(pl.col("segment") == seg), s)
        rows.append({
            "segment": seg, "renewals": m["renewals"], "churned": m["churned"],
            **{f"{b}_churn_rate": m["bands"][b]["churn_rate"] for b in status.BANDS},
            **{f"{b}_renewals": m["bands"][b]["accounts"] for b in status.BANDS},
            "auc": m["auc"], "red_recall": m["red_recall"], "red_precision": m["red_precision"],
            "churned_green_share": m["churned_green_share"],
            "note": "no churn in this segment: AUC and recall not defined" if m["renewals"] and not m["churned"]
            else ("no renewal with a lead-time score" if not m["renewals"] else ""),
        })
    return pl.DataFrame(rows, infer_schema_length=None)


def choose_best(configs: dict[str, dict], metric: str = "auc") -> tuple[str | None, str]:
    """Highest `metric` (AUC, or the out-of-time AUC); ties to the lower churned green share, then the name."""
    scored = {k: v for k, v in configs.items() if v.get(metric) is not None}
    if not scored:
        return None, "no configuration has an AUC (no churned or no retained renewal with a lead-time score)"

    def key(k):
        g = scored[k].get("churned_green_share")
        return (-scored[k][metric], g if g is not None else math.inf, k)

    ranked = sorted(scored, key=key)
    best = ranked[0]
    others = ", ".join(f"{k} {scored[k][metric]:.3f}" for k in ranked[1:])
    what = "out-of-time AUC (renewals after the cut)" if metric == "auc_out_of_time" else "AUC at the lead time"
    why = f"highest {what}: {scored[best][metric]:.3f}" + (f" (vs {others})" if others else "")
    return best, why


# ---------------------------------------------------------------------------- candidates


def _with_weights(base: Score, weights: dict[str, float], extra: dict[str, Component] | None = None) -> Score:
    comps = {**base.components, **(extra or {})}
    total = sum(weights.get(c, 0.0) for c in comps)
    new = {c: comp.model_copy(update={"weight": weights.get(c, 0.0) / total}) for c, comp in comps.items()}
    return Score(components={c: Component(**v.model_dump()) for c, v in new.items()}, bands=base.bands,
                 at_risk_weeks=base.at_risk_weeks, trend_days=base.trend_days)


def candidates(params: Parameters, weights_doc: dict | None) -> tuple[dict[str, Score], dict[str, str]]:
    """(configurations by name, {name: why it is not available or how it was built})."""
    base = params.score
    out = {CURRENT: base}
    notes: dict[str, str] = {}
    proposed = (weights_doc or {}).get("proposed_weights")
    if weights_doc is None:
        notes[PROPOSED] = "not available: weights.json not found (run the churn correlation notebook for this period first)"
    elif not proposed:
        reason = weights_doc.get("reason") or weights_doc.get("not_available") or "weights.json has no proposed_weights"
        notes[PROPOSED] = f"not available: {reason}"
    else:
        w = {c: float(v["weight"] if isinstance(v, dict) else v) for c, v in proposed.items() if v is not None}
        w = {c: x for c, x in w.items() if x is not None and math.isfinite(x) and x >= 0}
        defaults = catalog.default_components()
        extra = {c: Component(weight=0.0, signals=defaults[c]) for c in w if c not in base.components and defaults.get(c)}
        ignored = sorted(c for c in w if c not in base.components and c not in extra)
        if sum(w.get(c, 0.0) for c in [*base.components, *extra]) <= 0:
            notes[PROPOSED] = "not available: the proposed weights are all zero"
        else:
            out[PROPOSED] = _with_weights(base, w, extra)
            note = "weights from weights.json, rescaled to sum to 1"
            if ignored:
                note += f"; component(s) {ignored} ignored (not components of the score)"
            notes[PROPOSED] = note
    out[EQUAL] = _with_weights(base, {c: 1.0 for c in base.components})
    notes[CURRENT] = "the weights in the parameters file (score.components)"
    notes[EQUAL] = "every component of the current score weighted equally"
    return out, notes


# ---------------------------------------------------------------------------- the run


def _dedupe_accounts(data) -> pl.DataFrame:
    acc = data.table("accounts")
    cols = [c for c in ("account_id", "segment", "created_at") if c in acc.columns]
    return acc.select(cols).filter(pl.col("account_id").is_not_null()).unique("account_id", keep="first", maintain_order=True)


def history_start(data, renewals: pl.DataFrame, s: Settings) -> date | None:
    """First scoring date: the window of the first renewal, but not before every event source has begun."""
    starts = [d for d in (signals.exports_begin(data),) if d is not None]
    if renewals.height:
        starts.append(renewals["renewal_date"].min() - timedelta(days=s.window_start_days))
    return max(starts) if starts else None


def scoring_points(accounts: pl.DataFrame, renewals: pl.DataFrame, start: date, end: date, every: int) -> pl.DataFrame:
    """account_id, as_of: every `every` days back from `end` to `start`, accounts created by then and not churned before."""
    n = (end - start).days // every
    dates = pl.DataFrame({"as_of": [end - timedelta(days=every * k) for k in range(n + 1)]}, schema={"as_of": pl.Date})
    churn = (
        renewals.filter(pl.col("outcome") == "churned").group_by("account_id").agg(pl.col("renewal_date").min().alias("_gone"))
        if "outcome" in renewals.columns else pl.DataFrame(schema={"account_id": pl.String, "_gone": pl.Date})
    )
    acc = accounts.join(churn, on="account_id", how="left")
    pts = acc.join(dates, how="cross")
    keep = pl.lit(True)
    if "created_at" in acc.columns:
        keep = keep & (pl.col("created_at").is_null() | (pl.col("created_at").cast(pl.Date) <= pl.col("as_of")))
    keep = keep & (pl.col("_gone").is_null() | (pl.col("as_of") <= pl.col("_gone")))
    return pts.filter(keep).select("account_id", "as_of").sort("account_id", "as_of")


@dataclass
class Result:
    available: bool
    reason: str = ""
    doc: dict = field(default_factory=dict)
    scores: pl.DataFrame | None = None  # config, account_id, date, score, band, components...
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)  # config -> renewal table
    sweeps: pl.DataFrame | None = None  # config, red_threshold, ...
    segments: pl.DataFrame | None = None  # config, segment, ...
    scorecard: dict = field(default_factory=dict)  # scorecard.json as read back


def evaluate(scores: dict[str, pl.DataFrame], renewals: pl.DataFrame, s: Settings | dict[str, Settings],
             sweep_range: tuple[float, float, float], cut: date | None = None, eligible: set[str] | None = None) -> dict:
    """Metrics per configuration from each configuration's scores (account_id, date, score).

    `s` is one Settings for all or one per configuration (each candidate is judged on its own
    bands). With a `cut`, every configuration also gets its figures on the renewals dated before
    the cut (`in_sample`) and on or after it (`out_of_time`), and `best` is chosen by the
    out-of-time AUC among the `eligible` configurations (default: all).
    """
    configs, tables, sweeps, segs = {}, {}, [], []
    for name, sc in scores.items():
        st = s[name] if isinstance(s, dict) else s
        reds = thresholds(*sweep_range)
        raw = _per_renewal(*_window_scores(sc, renewals, st), st, (st.red_in_force, *reds))  # the table and the sweep in one pass
        t = _at_threshold(raw, st, 0)
        tables[name] = t
        configs[name] = metrics(t, st)
        configs[name]["bands_used"] = {"red": st.red, "green": st.green}
        if cut is not None:
            for key, part in (("in_sample", t.filter(pl.col("renewal_date") < cut)), ("out_of_time", t.filter(pl.col("renewal_date") >= cut))):
                configs[name][key] = metrics(part, st)
                configs[name][f"auc_{key}"] = configs[name][key]["auc"]
        sw = _sweep_rows(raw, st, reds, 1)
        configs[name]["sweep"] = sw.to_dicts()
        configs[name]["suggested_red_threshold"] = suggest_threshold(sw)
        sweeps.append(sw.with_columns(pl.lit(name).alias("config")))
        sg = segments(t, st)
        if sg.height:
            configs[name]["segments"] = {r["segment"]: r for r in sg.to_dicts()}
            segs.append(sg.with_columns(pl.lit(name).alias("config")))
    pool = {k: v for k, v in configs.items() if eligible is None or k in eligible}
    best, why = choose_best(pool, "auc_out_of_time" if cut is not None else "auc")
    return {"configs": configs, "best": best, "best_reason": why, "tables": tables,
            "sweeps": pl.concat(sweeps, how="diagonal_relaxed") if sweeps else None,
            "segments": pl.concat(segs, how="diagonal_relaxed") if segs else None}


def edge_cases(table: pl.DataFrame, scored_accounts: pl.Series, renewals: pl.DataFrame, segs: pl.DataFrame | None) -> dict:
    none = table.filter(pl.col("scores_in_window") == 0)
    no_lead = table.filter((pl.col("scores_in_window") > 0) & pl.col("lead_score").is_null())
    without = scored_accounts.filter(~scored_accounts.is_in(renewals["account_id"].unique().implode()))
    ex = lambda f: [f"{r['account_id']} ({r['renewal_date']})" for r in f.head(EXAMPLES).to_dicts()]  # noqa: E731
    return {
        "accounts_without_renewal": {"count": without.len(), "examples": without.sort().head(EXAMPLES).to_list(),
                                     "note": "scored but no renewal in the history: not part of the evaluation"},
        "renewals_without_scores": {"count": none.height, "examples": ex(none),
                                    "note": "no score in the window before the renewal (renewal too early in the history or account too new)"},
        "renewals_without_lead_score": {"count": no_lead.height, "examples": ex(no_lead),
                                        "note": "scores in the window, but none at or before the lead time"},
        "segments_without_churn": sorted(segs.filter(pl.col("churned") == 0)["segment"].to_list()) if segs is not None and segs.height else [],
    }


def signal_frame(data, points: pl.DataFrame, configs: dict[str, Score], extra: list[str] = ()) -> pl.DataFrame:
    """Signals at every point (account_id, as_of), from records dated before each point: those the
    configurations use (signals that cannot be built stay missing and their components are
    re-weighted), and the `extra` ones (the search's candidates, for the scorecard)."""
    used = dict.fromkeys(x for c in configs.values() for comp in c.components.values() for x in comp.signals)
    wanted = [x for x, why in signals.requirements(data, list(dict.fromkeys([*used, *extra]))).items() if why is None]
    return signals.build(data, points, wanted)


def score_configs(sig: pl.DataFrame, configs: dict[str, Score]) -> dict[str, pl.DataFrame]:
    """Each configuration's scores from a signals frame; component scores once per distinct component definition."""
    cache: dict[str, pl.DataFrame] = {}
    out = {}
    for name, cfg in configs.items():
        if cfg.segments:  # each account by its segment's card, with that card's bands
            out[name] = health_score.at_risk(health_score.resolved(sig, cfg), pl.col("red"), cfg.at_risk_weeks).rename({"as_of": "date"})
            continue
        key = repr({c: v.model_dump(exclude={"weight"}) for c, v in cfg.components.items()})
        if key not in cache:
            cache[key] = health_score.components(sig, cfg)
        out[name] = health_score.at_risk(health_score.composite(cache[key], cfg), cfg.bands.red, cfg.at_risk_weeks).rename({"as_of": "date"})
    return out


def score_history(data, points: pl.DataFrame, configs: dict[str, Score]) -> dict[str, pl.DataFrame]:
    """Each configuration's scores at every point (account_id, as_of), from records dated before each point.

    Returns {name: frame with account_id, date, segment, components, score, band, reweighted, at_risk, ...}.
    """
    return score_configs(signal_frame(data, points, configs), configs)


def lead_points(points: pl.DataFrame, renewals: pl.DataFrame, s: Settings) -> pl.DataFrame:
    """Each renewal's lead-time point: its account's latest scoring date on or before renewal - lead_time_days
    and not before renewal - window_start_days (the date every candidate's lead-time score is taken).
    Renewals without one are left out. Columns: account_id, renewal_date, churned, as_of."""
    rd = pl.col("renewal_date")
    return (
        renewals.select("account_id", "renewal_date", "churned")
        .join(points.select("account_id", "as_of"), on="account_id", how="inner")
        .filter(pl.col("as_of") <= rd - pl.duration(days=s.lead_time_days), pl.col("as_of") >= rd - pl.duration(days=s.window_start_days))
        .group_by("account_id", "renewal_date", "churned").agg(pl.col("as_of").max())
        .sort("renewal_date", "account_id")
    )


def platform_scores(data, as_of: date) -> tuple[pl.DataFrame | None, str]:
    """The client's recorded platform score (health_scores) up to the period end: account_id, date, score
    (several records of one account and day: their mean), or None and why not."""
    if not data.has("health_scores"):
        return None, f"not available: no platform score history: {data.unavailable.get('health_scores', 'not configured')}"
    t = data.table("health_scores")
    out = (t.select("account_id", pl.col("date").cast(pl.Date), pl.col("score").cast(pl.Float64))
           .filter(pl.col("account_id").is_not_null(), pl.col("date").is_not_null(), pl.col("score").is_not_null(),
                   pl.col("score").is_finite(), pl.col("date") <= as_of)
           .group_by("account_id", "date").agg(pl.col("score").mean()).sort("account_id", "date"))
    if out.height == 0:
        return None, "not available: the platform's score history has no score dated up to the period end"
    return out, "the client's recorded platform score (health_scores), judged on its own bands"


def propose_scorecard(ctx, cut_split: split.Split, found: search.Result) -> tuple[Score | None, dict, str]:
    """Fit the scorecard (and the segments' own cards) on the renewals before the cut, write its files, and read
    it back from disk.

    Returns (the scorecard as read back, its document, a note for the candidates table).
    """
    from kit import __version__
    from kit.analyses import weights

    params = ctx.params
    doc = scorecard.fit(cut_split.fit, found.chosen, params.scorecard, weights.components_from_params(params), found.segments,
                        found.segments_until)
    doc = {"kit_version": __version__, "client": params.client, "period": ctx.period.label, "scale": "0-100",
           "lead_time_days": params.lead_time_days, **cut_split.describe(), **doc}
    scorecard.write(doc, ctx.run_dir)
    if not doc["measures"]:
        return None, doc, f"not available: {doc['reason']}"
    read_back = scorecard.read(ctx.run_dir)
    cfg = scorecard.to_score(read_back, params.score.at_risk_weeks, params.score.trend_days)
    return cfg, read_back, f"fitted on the {doc['fitted_on']['renewals']:,} renewals before {cut_split.cut} (scorecard.json)"


def lead_signals(data, lead: pl.DataFrame, sig: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Each renewal's lead-time point (lead_points) with its signals: those of the weekly frame `sig`, the
    `names` it lacks (the segments' own candidates) built at those points, and for every name whether the
    export could not know it there (scorecard.unknown_column: the window reaches back before the export)."""
    frame = lead.join(sig, on=["account_id", "as_of"], how="left")
    extra = [n for n in names if n not in frame.columns]
    if extra:
        built = signals.build(data, lead.select("account_id", "as_of"), extra).select(extra)
        frame = pl.concat([frame, built], how="horizontal")
    flags = signals.unknown(data, lead.select("account_id", "as_of"), names)
    return pl.concat([frame, flags.rename({n: scorecard.unknown_column(n) for n in flags.columns})], how="horizontal")


def card_signals(data, sig: pl.DataFrame, cfg: Score) -> pl.DataFrame:
    """The weekly signals frame with the signals the segment cards use and it lacks, built at the points of
    those segments' accounts only (null at the others', which their cards do not read)."""
    extra = list(dict.fromkeys(s for card in cfg.segments.values() for c in card.components.values() for s in c.signals
                               if s not in sig.columns))
    if not extra:
        return sig
    pts = sig.filter(pl.col("segment").is_in(list(cfg.segments))).select("account_id", "as_of")
    built = signals.build(data, pts, extra).select("account_id", "as_of", *extra)
    return sig.join(built, on=["account_id", "as_of"], how="left", maintain_order="left")


def _weights_doc(ctx) -> dict | None:
    """This period's weights.json, as the churn correlation notebook wrote it (None before it has run)."""
    found = WeightsDocument.read(ctx.run_dir)
    return found.doc if found else None


class BacktestDocument(Document):
    """backtest.json: every candidate's metrics, the reference models, the comparison and the segment cards; read
    by reruns and the site."""

    FILE = registry.BACKTEST_JSON
    REQUIRED = ("available", "configs", "best", "as_of", "bands")

    @property
    def available(self) -> bool:
        return bool(self.doc["available"])

    @property
    def configs(self) -> dict[str, dict]:
        return self.doc["configs"] or {}


def searched(ctx, renewals: pl.DataFrame, cut: date) -> search.Result:
    """The signal search of this period: the churn correlation notebook's (weights.json) when it was run with
    the same settings and cut, else run here on the same renewals."""
    stored = (_weights_doc(ctx) or {}).get("search")
    if stored and stored.get("settings") == search.settings_of(ctx.params, cut):
        return search.Result.from_json(stored)
    points = signals.renewal_points(ctx.data, ctx.params.lead_time_days, ctx.params.weighting.contraction_as_churn, until=ctx.as_of)
    return search.run(ctx.data, ctx.params, points, cut)


def _renewals(data, params: Parameters, as_of: date, accounts: pl.DataFrame) -> pl.DataFrame:
    """Renewals up to the period end with a boolean churn label (contraction counts as churn when
    weighting.contraction_as_churn is 0.5 or more) and the account's segment."""
    renewals = signals.renewal_points(data, params.lead_time_days, params.weighting.contraction_as_churn, until=as_of)
    renewals = renewals.with_columns((pl.col("churned").cast(pl.Float64) >= 0.5).alias("churned"))
    if "segment" in accounts.columns and "segment" not in renewals.columns:
        renewals = renewals.join(accounts.select("account_id", "segment"), on="account_id", how="left")
    return renewals


def _explain_candidates(notes: dict[str, str], configs: dict[str, Score]) -> None:
    notes[CURRENT] += " (not fitted)"
    notes[EQUAL] += " (not fitted)"
    if PROPOSED in configs:
        notes[PROPOSED] += ("; fitted on every renewal up to the period end, the later ones included, so its "
                            "out-of-time figures are not out of sample and it is not a candidate for best")


def _annotate(ev: dict, judged, configs: dict[str, Score], per_config: dict[str, pl.DataFrame], notes: dict[str, str]) -> None:
    """Each candidate's source, weights and re-weighting counts next to its metrics."""
    for name in judged:
        m = ev["configs"][name]
        m["source"] = notes[name]
        if name in configs:
            sm = health_score.summary(per_config[name])
            m.update(weights=health_score.weights_of(configs[name]), reweighted_rows=sm["reweighted"],
                     reweighted_share=sm["reweighted_share"], unscored_rows=sm["unscored"])
        else:
            m.update(weights={}, reweighted_rows=0, reweighted_share=None, unscored_rows=0)


def _scores_table(per_config: dict[str, pl.DataFrame], configs: dict[str, Score], plat: pl.DataFrame | None,
                  params: Parameters) -> pl.DataFrame:
    """scores.parquet: every candidate's scores (the platform's as recorded, banded on its own bands); a score
    with segment cards names the card that scored each row (`card`)."""
    def columns(cfg: Score, sc: pl.DataFrame) -> list[str]:
        comps = dict.fromkeys([*cfg.components, *(c for card in cfg.segments.values() for c in card.components)])
        return [*comps, *(["card"] if "card" in sc.columns else [])]

    frames = [sc.select("account_id", "date", "segment", "score", "band", "at_risk", "reweighted", *columns(configs[name], sc))
              .with_columns(pl.lit(name).alias("config")) for name, sc in per_config.items()]
    if plat is not None:
        pb = params.platform_bands
        frames.append(plat.with_columns(status.band(pl.col("score"), pb.red, pb.green).alias("band"), pl.lit(PLATFORM).alias("config")))
    return pl.concat(frames, how="diagonal_relaxed").select("config", pl.exclude("config"))


def run_for(ctx) -> Result:
    """The back-test of a notebook context: writes backtest.json, scores.parquet and the scorecard files."""
    params, data = ctx.params, ctx.data
    s = Settings.of(params)
    base = {"as_of": ctx.as_of, "lead_time_days": s.lead_time_days, "window_start_days": s.window_start_days,
            "window_end_days": s.window_end_days, "score_every_days": params.backtest.score_every_days,
            "bands": {"red": s.red, "green": s.green}, "at_risk_weeks": s.at_risk_weeks}

    def unavailable(reason: str) -> Result:
        BacktestDocument({**base, "available": False, "reason": reason, "configs": {}, "best": None}).write(ctx.run_dir)
        return Result(False, reason)

    if not data.has("renewals"):
        return unavailable(f"renewal outcomes are needed: {data.unavailable.get('renewals', 'renewals table not available')}")
    accounts = _dedupe_accounts(data)
    renewals = _renewals(data, params, ctx.as_of, accounts)
    if renewals.height == 0:
        return unavailable("no renewal with a known outcome up to the period end")
    start = history_start(data, renewals, s)
    if start is None or start > ctx.as_of:
        return unavailable("no dated activity before the period end to score from")
    points = scoring_points(accounts, data.table("renewals").select("account_id", "renewal_date", "outcome"),
                            start, ctx.as_of, params.backtest.score_every_days)
    s = s.from_history(min(points["as_of"]))
    lead = lead_points(points, renewals, s)
    if lead.height == 0:
        return unavailable(f"no renewal has a scoring date {s.lead_time_days} days before it inside the history")

    # the signal search, on the renewals before the cut
    cut = split.cut_date(renewals["renewal_date"], params.scorecard.test_share)
    found = searched(ctx, renewals, cut)
    # every candidate scored at the same weekly points from the same signals
    configs, notes = candidates(params, _weights_doc(ctx))
    sig = signal_frame(data, points, configs, found.chosen)
    per_config = score_configs(sig, configs)
    # the scorecard: fitted before the cut, read back from disk, scored like every other candidate
    cut_split = split.split(lead_signals(data, lead, sig, found.all_chosen()), cut)
    sc_cfg, sc_doc, notes[SCORECARD] = propose_scorecard(ctx, cut_split, found)
    if sc_cfg is not None:
        configs[SCORECARD] = sc_cfg
        per_config[SCORECARD] = score_configs(card_signals(data, sig, sc_cfg), {SCORECARD: sc_cfg})[SCORECARD]
    settings = {name: Settings.of(params, cfg).from_history(s.history_start) for name, cfg in configs.items()}
    judged = {k: v.select("account_id", "date", "score", *(["red", "green"] if settings[k].by_row else []))
              for k, v in per_config.items()}
    plat, notes[PLATFORM] = platform_scores(data, ctx.as_of)
    if plat is not None:  # the client's own score, on its own bands
        judged[PLATFORM] = plat
        settings[PLATFORM] = s.with_bands(params.platform_bands.red, params.platform_bands.green).from_history(min(plat["date"]))
    judged = {k: judged[k] for k in sorted(judged, key=ORDER.index)}
    _explain_candidates(notes, configs)

    sweep_range = (params.backtest.sweep.start, params.backtest.sweep.stop, params.backtest.sweep.step)
    ev = evaluate(judged, renewals, settings, sweep_range, cut=cut_split.cut, eligible=set(judged) - {PROPOSED})
    _annotate(ev, judged, configs, per_config, notes)
    for name, cfg in configs.items():
        if cfg.segments:
            ev["configs"][name]["bands_used"]["segments"] = {seg: {"red": c.bands.red, "green": c.bands.green}
                                                             for seg, c in cfg.segments.items()}
    seg_current = ev["segments"].filter(pl.col("config") == CURRENT) if ev["segments"] is not None else None
    doc = {
        **base, "available": True,
        "history": {"start": min(points["as_of"]), "end": ctx.as_of, "scoring_dates": points["as_of"].n_unique(),
                    "accounts_scored": points["account_id"].n_unique(), "renewals": renewals.height},
        "split": {**cut_split.describe(), "test_share": params.scorecard.test_share,
                  "rule": "the latest renewals by date are kept out of every fit; figures after the cut are out of time"},
        "configs": ev["configs"], "best": ev["best"], "best_reason": ev["best_reason"],
        "not_available": {k: v for k, v in notes.items() if v.startswith("not available")},
        "scorecard": {"file": scorecard.FILE, "measures": len(sc_doc["measures"]), "bands": sc_doc.get("bands"),
                      "components": sc_doc.get("components"), "reason": sc_doc.get("reason"),
                      "segments": {seg: {"measures": len(c["measures"]), "bands": c["bands"], "components": c["components"]}
                                   for seg, c in (sc_doc.get("segments") or {}).items()}},
        "segment_cards": segment_comparison(sc_doc, cut_split.test),
        "search": {"tried": found.tried, "measures": found.measures, "chosen": found.chosen, "cut": found.cut,
                   "segments": found.segments},
        "reference": yardsticks.all_of(cut_split.fit, cut_split.test, found.chosen, 1 - params.weighting.max_missing_share),
        "comparison": head_to_head(ev["tables"], cut_split.cut, SCORECARD, PLATFORM if PLATFORM in judged else CURRENT),
        "edge_cases": edge_cases(ev["tables"][CURRENT], points["account_id"].unique(), renewals, seg_current),
    }
    scores = _scores_table(per_config, configs, plat, params)
    BacktestDocument(doc).write(ctx.run_dir)
    scores.write_parquet(ctx.path(registry.SCORES), compression="lz4")
    return Result(True, "", doc, scores, ev["tables"], ev["sweeps"], ev["segments"], sc_doc)


def segment_comparison(doc: dict, test: pl.DataFrame) -> list[dict[str, Any]]:
    """Per segment, after the cut: the overall card's AUC on the segment's renewals and, where the segment has a
    card of its own, that card's, with a 95% interval of the difference (DeLong); next to the cross-validated
    figures the adoption was decided on (scorecard.json `resolver`)."""
    if not doc.get("measures"):
        return []
    out = []
    segs = test["segment"].cast(pl.String) if "segment" in test.columns else pl.Series([None] * test.height, dtype=pl.String)
    for d in (doc.get("resolver") or {}).get("decisions", []):
        part = test.filter(segs == d["segment"])
        y = part["churned"].cast(pl.Float64).to_numpy() >= stats.EVENT_CUT
        row = {**d, "renewals_out_of_time": part.height, "churned_out_of_time": int(y.sum())}
        if part.height and 0 < y.sum() < len(y):
            overall = scorecard.points(doc, part)
            row["auc_overall_out_of_time"] = stats.auc(-overall, y)
            own = (doc.get("segments") or {}).get(d["segment"])
            if own is not None:
                a, b, se = stats.delong(-scorecard.points(own, part), -overall, y)
                row.update(auc_own_out_of_time=a, difference_out_of_time=a - b,
                           ci_low=a - b - stats.Z95 * se, ci_high=a - b + stats.Z95 * se)
        out.append(row)
    return out


def head_to_head(tables: dict[str, pl.DataFrame], cut: date, a: str = SCORECARD, b: str = PLATFORM) -> dict | None:
    """AUC of two candidates on the same renewals after the cut, with a 95% interval of the difference (DeLong)."""
    if a not in tables or b not in tables:
        return None
    key = ["account_id", "renewal_date"]
    j = (tables[a].filter(pl.col("renewal_date") >= cut, pl.col("lead_score").is_not_null()).select(*key, "churned", pl.col("lead_score").alias("a"))
         .join(tables[b].filter(pl.col("lead_score").is_not_null()).select(*key, pl.col("lead_score").alias("b")), on=key, how="inner"))
    y = j["churned"].to_numpy().astype(bool)
    out = {"a": a, "b": b, "renewals": j.height, "churned": int(y.sum())}
    if y.sum() < 2 or (~y).sum() < 2:
        return {**out, "note": "too few churned or retained renewals scored by both after the cut"}
    auc_a, auc_b, se = stats.delong(-j["a"].to_numpy(), -j["b"].to_numpy(), y)  # risk = minus health
    diff = auc_a - auc_b
    return {**out, "auc_a": auc_a, "auc_b": auc_b, "difference": diff, "se": se,
            "ci_low": diff - stats.Z95 * se, "ci_high": diff + stats.Z95 * se, "method": "DeLong's paired test"}
