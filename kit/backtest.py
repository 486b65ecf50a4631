"""The health score back-test: would the score have flagged past churn, early enough?

Every account is scored every `backtest.score_every_days` (weekly) over the history, each score
built only from records dated before its scoring date (kit.signals.build). Each past renewal is
then judged by the scores before it, per candidate configuration (the client's current weights,
the proposed weights of the churn correlation run, equal weights).

Definitions (shown in the report):

* **Lead-time score**: the renewal's latest weekly score dated on or before `renewal_date -
  lead_time_days` and no earlier than `renewal_date - window_start_days`. Every point metric uses
  it; renewals without one are left out of them and reported.
* **Churned**: the renewal's outcome is churned (also contracted when `weighting.contraction_as_churn`
  is 0.5 or more), the same labels as the churn correlation notebook.
* **Bands**: churn rate per band of the lead-time score; `accounts` counts renewals (an account
  that renewed twice in the history counts twice).
* **Flagged** means red (or red + yellow for the `red_yellow_*` metrics). Precision = churned
  flagged / flagged; recall = churned flagged / churned; false positive rate = retained flagged /
  retained; false negative rate = churned not flagged / churned.
* **AUC**: probability that a retained renewal's lead-time score is above a churned one's (ties
  count half); 0.5 is chance.
* **ARR-weighted** versions weigh each renewal by its ARR before renewal: `arr_flagged_share` is the
  share of churned ARR that was red.
* **Lead time**: for churned renewals, days from the first at-risk flag (below red on
  `score.at_risk_weeks` consecutive weekly scores) dated inside the window
  [`renewal - window_start_days`, `renewal - window_end_days`] to the renewal date.
  `flagged_90d_share` = share of churned renewals flagged at least `lead_time_days` (default 90)
  ahead.
* **Suggested red threshold**: the swept threshold with the largest recall minus false positive
  rate (Youden's J), a starting point for the consultant, not applied automatically.
* **Best configuration**: the highest AUC; ties go to the lower share of churned renewals scored
  green, then to the name. AUC judges the ranking itself, independent of where band thresholds sit
  (the threshold sweep shows those trade-offs separately).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import polars as pl

from kit import catalog, scoring
from kit.errors import KitError
from kit.params import Component, Parameters, Score

CURRENT, PROPOSED, EQUAL = "current", "proposed", "equal"
EVENT_TABLES = ("usage", "tickets", "invoices", "surveys")  # whose first record starts the history
EXAMPLES = 5


@dataclass(frozen=True)
class Settings:
    red: float = 60
    green: float = 75
    at_risk_weeks: int = 2
    lead_time_days: int = 90
    window_start_days: int = 180
    window_end_days: int = 0

    @classmethod
    def of(cls, params: Parameters, score: Score | None = None) -> "Settings":
        sc = score or params.score
        bt = params.backtest
        if params.lead_time_days > bt.window_start_days:
            raise KitError(
                f"lead_time_days ({params.lead_time_days}) is beyond backtest.window_start_days ({bt.window_start_days})",
                where="parameters", fix="make the back-test window start at least lead_time_days before renewal",
            )
        return cls(sc.bands.red, sc.bands.green, sc.at_risk_weeks, params.lead_time_days, bt.window_start_days, bt.window_end_days)


# ---------------------------------------------------------------------------- per renewal


def _window_scores(scores: pl.DataFrame, renewals: pl.DataFrame, s: Settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(renewals with a row id, each renewal's scores dated in [renewal - window_start, renewal] with run_max)."""
    flagged = scoring.at_risk(scores.select("account_id", "date", "score"), s.red, s.at_risk_weeks, date="date")
    r = renewals.with_row_index("_renewal")
    rd = pl.col("renewal_date")
    joined = (
        r.select("_renewal", "account_id", "renewal_date")
        .join(flagged.select("account_id", "date", "score", "run_max"), on="account_id", how="inner")
        .filter(pl.col("date") >= rd - pl.duration(days=s.window_start_days), pl.col("date") <= rd)
        .sort("_renewal", "date")
    )
    return r, joined


def _per_renewal(r: pl.DataFrame, joined: pl.DataFrame, s: Settings) -> pl.DataFrame:
    rd = pl.col("renewal_date")
    in_window = pl.col("date") <= rd - pl.duration(days=s.window_end_days)
    is_lead = (pl.col("date") <= rd - pl.duration(days=s.lead_time_days)) & pl.col("score").is_not_null()
    agg = joined.group_by("_renewal").agg(
        (in_window & pl.col("score").is_not_null()).sum().cast(pl.Int64).alias("scores_in_window"),
        pl.col("date").filter(is_lead).max().alias("lead_date"),
        pl.col("score").filter(is_lead).last().alias("lead_score"),
        pl.col("date").filter(in_window & (pl.col("run_max") < s.red)).min().alias("first_flag"),
    )
    out = r.join(agg, on="_renewal", how="left").sort("_renewal").drop("_renewal")
    return out.with_columns(
        pl.col("scores_in_window").fill_null(0),
        scoring.band(pl.col("lead_score"), s.red, s.green).alias("lead_band"),
        (rd - pl.col("first_flag")).dt.total_days().alias("flag_lead_days"),
        pl.col("churned").cast(pl.Boolean),
        pl.col("arr_before").cast(pl.Float64).fill_null(0.0),
    )


def renewal_table(scores: pl.DataFrame, renewals: pl.DataFrame, s: Settings) -> pl.DataFrame:
    """One row per renewal with its lead-time score and band, first at-risk flag and lead time.

    scores: account_id, date, score (one configuration). renewals: account_id, renewal_date,
    churned, arr_before (segment optional). Adds: scores_in_window, lead_date, lead_score,
    lead_band, first_flag, flag_lead_days.
    """
    return _per_renewal(*_window_scores(scores, renewals, s), s)


# ---------------------------------------------------------------------------- metrics


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def auc(score: pl.Series, churned: pl.Series) -> float | None:
    """P(retained score > churned score) + half the ties: the Mann-Whitney U statistic / (n1 n2)."""
    df = pl.DataFrame({"s": score, "c": churned}).drop_nulls()
    n_c = int(df["c"].sum())
    n_r = df.height - n_c
    if not n_c or not n_r:
        return None
    ranks = df["s"].rank("average")
    r_retained = float(ranks.filter(~df["c"]).sum())
    return (r_retained - n_r * (n_r + 1) / 2) / (n_r * n_c)


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
    for b in scoring.BANDS:
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
    out["auc"] = auc(t["lead_score"], churned)

    lead = t.filter(pl.col("churned"))["flag_lead_days"]
    flagged = lead.drop_nulls()
    out["at_risk_flagged_share"] = _ratio(flagged.len(), n_c)
    out["lead_time_days_median"] = float(flagged.median()) if flagged.len() else None
    out["lead_time_days_quartiles"] = (
        [float(flagged.quantile(q, "linear")) for q in (0.25, 0.75)] if flagged.len() else None
    )
    out["flag_goal_days"] = s.lead_time_days
    out["flagged_90d_share"] = _ratio(int((flagged >= s.lead_time_days).sum()), n_c)
    return out


def sweep(scores: pl.DataFrame, renewals: pl.DataFrame, s: Settings, start: float, stop: float, step: float) -> pl.DataFrame:
    """The red threshold moved from `start` to `stop`: what it catches and what it costs."""
    rows = []
    r, joined = _window_scores(scores, renewals, s)  # run_max does not depend on the threshold
    k = 0
    while start + k * step <= stop + 1e-9:
        red = start + k * step
        m = metrics(_per_renewal(r, joined, replace(s, red=red)), replace(s, red=red))
        rows.append({
            "red_threshold": red,
            "red_precision": m["red_precision"], "red_recall": m["red_recall"],
            "false_positive_rate": m["false_positive_rate"], "false_negative_rate": m["false_negative_rate"],
            "red_share": m["red_share"], "arr_flagged_share": m["arr_flagged_share"],
            "flagged_90d_share": m["flagged_90d_share"], "lead_time_days_median": m["lead_time_days_median"],
        })
        k += 1
    return pl.DataFrame(rows, schema_overrides={c: pl.Float64 for c in rows[0] if c != "red_threshold"} if rows else None)


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
    t = table.with_columns(pl.col("segment").fill_null(scoring.NO_SEGMENT))
    for seg in sorted(t["segment"].unique().to_list()):
        m = metrics(t.filter(pl.col("segment") == seg), s)
        rows.append({
            "segment": seg, "renewals": m["renewals"], "churned": m["churned"],
            **{f"{b}_churn_rate": m["bands"][b]["churn_rate"] for b in scoring.BANDS},
            **{f"{b}_renewals": m["bands"][b]["accounts"] for b in scoring.BANDS},
            "auc": m["auc"], "red_recall": m["red_recall"], "red_precision": m["red_precision"],
            "churned_green_share": m["churned_green_share"],
            "note": "no churn in this segment: AUC and recall not defined" if m["renewals"] and not m["churned"]
            else ("no renewal with a lead-time score" if not m["renewals"] else ""),
        })
    return pl.DataFrame(rows, infer_schema_length=None)


def choose_best(configs: dict[str, dict]) -> tuple[str | None, str]:
    """Highest AUC; ties to the lower churned green share, then the name (see module doc)."""
    scored = {k: v for k, v in configs.items() if v.get("auc") is not None}
    if not scored:
        return None, "no configuration has an AUC (no churned or no retained renewal with a lead-time score)"

    def key(k):
        g = scored[k].get("churned_green_share")
        return (-scored[k]["auc"], g if g is not None else math.inf, k)

    ranked = sorted(scored, key=key)
    best = ranked[0]
    others = ", ".join(f"{k} {scored[k]['auc']:.3f}" for k in ranked[1:])
    why = f"highest AUC at the lead time: {scored[best]['auc']:.3f}" + (f" (vs {others})" if others else "")
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
    firsts = []
    from kit import schema

    for t in EVENT_TABLES:
        col = schema.TABLES[t].date_column
        if data.has(t) and col and col in data.lazy(t).collect_schema().names():
            v = data.lazy(t).select(pl.col(col).min()).collect().item()
            if v is not None:
                firsts.append(v.date() if hasattr(v, "date") and callable(v.date) else v)
    first_renewal = renewals["renewal_date"].min() if renewals.height else None
    candidates_ = [d for d in [*firsts] if d is not None]
    window = first_renewal - timedelta(days=s.window_start_days) if first_renewal else None
    if window is None and not candidates_:
        return None
    return max([d for d in [window, *candidates_] if d is not None])


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


def evaluate(scores: dict[str, pl.DataFrame], renewals: pl.DataFrame, s: Settings, sweep_range: tuple[float, float, float]) -> dict:
    """Metrics per configuration from each configuration's weekly scores (account_id, date, score)."""
    configs, tables, sweeps, segs = {}, {}, [], []
    for name, sc in scores.items():
        t = renewal_table(sc, renewals, s)
        tables[name] = t
        configs[name] = metrics(t, s)
        sw = sweep(sc, renewals, s, *sweep_range)
        configs[name]["sweep"] = sw.to_dicts()
        configs[name]["suggested_red_threshold"] = suggest_threshold(sw)
        sweeps.append(sw.with_columns(pl.lit(name).alias("config")))
        sg = segments(t, s)
        if sg.height:
            configs[name]["segments"] = {r["segment"]: r for r in sg.to_dicts()}
            segs.append(sg.with_columns(pl.lit(name).alias("config")))
    best, why = choose_best(configs)
    return {"configs": configs, "best": best, "best_reason": why, "tables": tables,
            "sweeps": pl.concat(sweeps, how="diagonal_relaxed") if sweeps else None,
            "segments": pl.concat(segs, how="diagonal_relaxed") if segs else None}


def edge_cases(table: pl.DataFrame, scored_accounts: pl.Series, renewals: pl.DataFrame, segs: pl.DataFrame | None) -> dict:
    none = table.filter(pl.col("scores_in_window") == 0)
    no_lead = table.filter((pl.col("scores_in_window") > 0) & pl.col("lead_score").is_null())
    without = scored_accounts.filter(~scored_accounts.is_in(renewals["account_id"].unique().implode()))
    ex = lambda f: [f"{r['account_id']} ({r['renewal_date']})" for r in f.head(EXAMPLES).to_dicts()]  # noqa: E731
    return {
        "accounts_without_renewal": {"count": without.len(), "examples": without.head(EXAMPLES).to_list(),
                                     "note": "scored but no renewal in the history: not part of the evaluation"},
        "renewals_without_scores": {"count": none.height, "examples": ex(none),
                                    "note": "no score in the window before the renewal (renewal too early in the history or account too new)"},
        "renewals_without_lead_score": {"count": no_lead.height, "examples": ex(no_lead),
                                        "note": "scores in the window, but none at or before the lead time"},
        "segments_without_churn": sorted(segs.filter(pl.col("churned") == 0)["segment"].to_list()) if segs is not None and segs.height else [],
    }


def score_history(data, points: pl.DataFrame, configs: dict[str, Score]) -> dict[str, pl.DataFrame]:
    """Each configuration's scores at every point (account_id, as_of), from records dated before each point.

    Returns {name: frame with account_id, date, segment, components, score, band, reweighted, at_risk, ...}.
    Signals are built once; component scores once per distinct set of component definitions.
    """
    from kit import signals

    buildable = set(signals.available(data))
    wanted = [x for x in dict.fromkeys(x for c in configs.values() for comp in c.components.values() for x in comp.signals)
              if x in buildable]  # signals that cannot be built are missing: their components are re-weighted
    sig = signals.build(data, points, wanted)
    cache: dict[str, pl.DataFrame] = {}
    out = {}
    for name, cfg in configs.items():
        key = repr({c: (v.signals, v.transform, v.thresholds) for c, v in cfg.components.items()})
        if key not in cache:
            cache[key] = scoring.components(sig, cfg)
        out[name] = scoring.at_risk(scoring.composite(cache[key], cfg), cfg.bands.red, cfg.at_risk_weeks).rename({"as_of": "date"})
    return out


def run(ctx) -> Result:
    """The back-test of a notebook context: writes backtest.json and scores.parquet into ctx.run_dir."""
    from kit import signals

    params, data = ctx.params, ctx.data
    s = Settings.of(params)
    base = {"as_of": ctx.as_of, "lead_time_days": s.lead_time_days, "window_start_days": s.window_start_days,
            "window_end_days": s.window_end_days, "score_every_days": params.backtest.score_every_days,
            "bands": {"red": s.red, "green": s.green}, "at_risk_weeks": s.at_risk_weeks}

    def unavailable(reason: str) -> Result:
        ctx.write_json("backtest.json", {**base, "available": False, "reason": reason, "configs": {}, "best": None})
        return Result(False, reason)

    if not data.has("renewals"):
        return unavailable(f"renewal outcomes are needed: {data.unavailable.get('renewals', 'renewals table not available')}")
    renewals = signals.renewal_points(data, params.lead_time_days, params.weighting.contraction_as_churn, until=ctx.as_of)
    # a contraction counts as churn when weighting.contraction_as_churn is 0.5 or more
    renewals = renewals.with_columns((pl.col("churned").cast(pl.Float64) >= 0.5).alias("churned"))
    accounts = _dedupe_accounts(data)
    if "segment" in accounts.columns and "segment" not in renewals.columns:
        renewals = renewals.join(accounts.select("account_id", "segment"), on="account_id", how="left")
    if renewals.height == 0:
        return unavailable("no renewal with a known outcome up to the period end")
    start = history_start(data, renewals, s)
    if start is None or start > ctx.as_of:
        return unavailable("no dated activity before the period end to score from")
    points = scoring_points(accounts, data.table("renewals").select("account_id", "renewal_date", "outcome"),
                            start, ctx.as_of, params.backtest.score_every_days)
    configs, notes = candidates(params, ctx.read_json("weights.json"))
    per_config = score_history(data, points, configs)
    frames = [sc.select("account_id", "date", "segment", "score", "band", "at_risk", "reweighted", *configs[name].components)
              .with_columns(pl.lit(name).alias("config")) for name, sc in per_config.items()]
    scores = pl.concat(frames, how="diagonal_relaxed").select("config", pl.exclude("config"))
    ev = evaluate({k: v.select("account_id", "date", "score") for k, v in per_config.items()}, renewals, s,
                  (params.backtest.sweep.start, params.backtest.sweep.stop, params.backtest.sweep.step))
    for name, cfg in configs.items():
        sm = scoring.summary(per_config[name])
        ev["configs"][name].update(
            weights=scoring.weights_of(cfg), source=notes[name],
            reweighted_rows=sm["reweighted"], reweighted_share=sm["reweighted_share"], unscored_rows=sm["unscored"],
        )
    cur = ev["tables"][CURRENT]
    seg_current = ev["segments"].filter(pl.col("config") == CURRENT) if ev["segments"] is not None else None
    doc = {
        **base, "available": True,
        "history": {"start": min(points["as_of"]), "end": ctx.as_of, "scoring_dates": points["as_of"].n_unique(),
                    "accounts_scored": points["account_id"].n_unique(), "renewals": renewals.height},
        "configs": ev["configs"], "best": ev["best"], "best_reason": ev["best_reason"],
        "not_available": {k: v for k, v in notes.items() if v.startswith("not available")},
        "edge_cases": edge_cases(cur, points["account_id"].unique(), renewals, seg_current),
    }
    ctx.write_json("backtest.json", doc)
    scores.write_parquet(ctx.path("scores.parquet"))
    return Result(True, "", doc, scores, ev["tables"], ev["sweeps"], ev["segments"])


# ---------------------------------------------------------------------------- report pieces (small frames and charts)

LABELS = {CURRENT: "current weights", PROPOSED: "proposed weights", EQUAL: "equal weights"}
SEED_GREEN_SHARE = 0.20  # seed red flag: more than 20% of churned accounts were scored healthy


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def comparison(res: Result) -> pl.DataFrame:
    """One row per configuration: the headline metrics a client compares."""
    rows = []
    for name, m in res.doc["configs"].items():
        rows.append({
            "configuration": name, "AUC": m["auc"], "churned scored green": m["churned_green_share"],
            "red precision": m["red_precision"], "red recall": m["red_recall"],
            "false positive rate": m["false_positive_rate"], "false negative rate": m["false_negative_rate"],
            "churned ARR flagged red": m["arr_flagged_share"], "median days flagged ahead": m["lead_time_days_median"],
            f"flagged {m['flag_goal_days']}+ days ahead": m["flagged_90d_share"],
            "renewals": m["renewals"], "churned": m["churned"], "re-weighted scores": m["reweighted_share"],
        })
    return pl.DataFrame(rows, infer_schema_length=None)


def weights_table(res: Result) -> pl.DataFrame:
    rows = [{"component": c, **{name: m["weights"].get(c) for name, m in res.doc["configs"].items()}}
            for c in next(iter(res.doc["configs"].values()))["weights"]]
    for m in res.doc["configs"].values():
        for c in m["weights"]:
            if c not in {r["component"] for r in rows}:
                rows.append({"component": c, **{n: x["weights"].get(c) for n, x in res.doc["configs"].items()}})
    return pl.DataFrame(rows, infer_schema_length=None)


def bands_frame(res: Result) -> pl.DataFrame:
    rows = [{"configuration": name, "band": b, **v} for name, m in res.doc["configs"].items() for b, v in m["bands"].items()]
    return pl.DataFrame(rows, infer_schema_length=None)


def band_order_ok(m: dict) -> bool:
    """Red churns more than yellow, and yellow more than green (bands without renewals are skipped)."""
    rates = [m["bands"][b]["churn_rate"] for b in scoring.BANDS if m["bands"][b]["churn_rate"] is not None]
    return all(a > b for a, b in zip(rates, rates[1:]))


def calibration_chart(res: Result):
    from kit import charts

    alt = charts.alt()
    df = bands_frame(res).with_columns((pl.col("churn_rate") * 100).alias("churn rate %")).to_pandas()
    color = alt.Scale(domain=list(scoring.BANDS), range=[charts.PALETTE[b] for b in scoring.BANDS])
    base = alt.Chart(df).encode(
        x=alt.X("band:N", sort=list(scoring.BANDS), title=None),
        y=alt.Y("churn rate %:Q", title="churn rate at renewal (%)"),
    )
    bars = base.mark_bar().encode(color=alt.Color("band:N", scale=color, legend=None),
                                  tooltip=["configuration", "band", "accounts", "churned", "churn rate %"])
    text = base.mark_text(dy=-6).encode(text=alt.Text("accounts:Q", format=","))
    return (bars + text).properties(width=160, height=200).facet(
        column=alt.Column("configuration:N", title="churn rate by band of the lead-time score (labels: renewals)"))


def lead_times(res: Result) -> pl.DataFrame:
    frames = [t.filter(pl.col("churned") & pl.col("lead_score").is_not_null()).select(
        pl.lit(name).alias("configuration"), "account_id", "renewal_date", "flag_lead_days") for name, t in res.tables.items()]
    return pl.concat(frames) if frames else pl.DataFrame()


def lead_time_chart(res: Result):
    from kit import charts

    alt = charts.alt()
    goal = res.doc["lead_time_days"]
    step = max(7, res.doc["score_every_days"])
    df = (lead_times(res).filter(pl.col("flag_lead_days").is_not_null())
          .with_columns((pl.col("flag_lead_days") // step * step).alias("days ahead"))
          .group_by("configuration", "days ahead").len("churned renewals").to_pandas())
    bars = alt.Chart().mark_bar(color=charts.PALETTE["red"]).encode(
        x=alt.X("days ahead:Q", bin=alt.Bin(step=step), title="days from first at-risk flag to renewal"),
        y=alt.Y("sum(churned renewals):Q", title="churned renewals"), tooltip=["configuration", "days ahead", "churned renewals"])
    rule = alt.Chart().mark_rule(strokeDash=[4, 4]).encode(x=alt.datum(goal))
    return alt.layer(bars, rule, data=df).properties(width=220, height=180).facet(column=alt.Column("configuration:N", title=None))


def sweep_chart(res: Result):
    from kit import charts

    alt = charts.alt()
    metrics_ = {"red_recall": "recall (churn caught)", "red_precision": "precision (red that churned)",
                "false_positive_rate": "false positive rate", "flagged_90d_share": f"flagged {res.doc['lead_time_days']}+ days ahead"}
    df = (res.sweeps.unpivot(index=["config", "red_threshold"], on=list(metrics_), variable_name="metric", value_name="value")
          .with_columns(pl.col("metric").replace(metrics_)).to_pandas())
    current = res.doc["bands"]["red"]
    lines = alt.Chart().mark_line(point=True).encode(
        x=alt.X("red_threshold:Q", title="red threshold (score below it is red)", scale=alt.Scale(zero=False)),
        y=alt.Y("value:Q", axis=alt.Axis(format="%"), title=None, scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("metric:N", title=None), tooltip=["config", "red_threshold", "metric", alt.Tooltip("value:Q", format=".1%")])
    rule = alt.Chart().mark_rule(strokeDash=[4, 4], color="grey").encode(x=alt.datum(current))
    return alt.layer(lines, rule, data=df).properties(width=220, height=200).facet(column=alt.Column("config:N", title=None))


def segment_table(res: Result) -> pl.DataFrame:
    if res.segments is None:
        return pl.DataFrame()
    return res.segments.select(
        "config", "segment", "renewals", "churned", "red_churn_rate", "yellow_churn_rate", "green_churn_rate",
        "auc", "red_recall", "churned_green_share", "note").sort("segment", "config")


def edge_table(res: Result) -> pl.DataFrame:
    ec = res.doc["edge_cases"]
    rows = [{"case": k.replace("_", " "), "count": v["count"], "examples": ", ".join(map(str, v["examples"])), "meaning": v["note"]}
            for k, v in ec.items() if isinstance(v, dict)]
    segs = ec.get("segments_without_churn") or []
    rows.append({"case": "segments without churn", "count": len(segs), "examples": ", ".join(segs),
                 "meaning": "no churned renewal with a lead-time score: AUC and recall are not defined there"})
    return pl.DataFrame(rows)


def summary_text(res: Result) -> str:
    """The verdict in plain words: best configuration, calibration, seed red flag, lead time."""
    d = res.doc
    best = d["best"]
    if best is None:
        return f"No configuration could be ranked: {d['best_reason']}."
    m = d["configs"][best]
    b = m["bands"]
    lines = [
        f"**Best configuration: {LABELS.get(best, best)}** ({d['best_reason']}).",
        f"- Of {m['renewals']:,} past renewals with a score {d['lead_time_days']} days before them, {m['churned']:,} churned.",
        "- Churn rate by band at that time: " + ", ".join(
            f"{k} {_pct(v['churn_rate'])} of {v['accounts']:,}" for k, v in b.items())
        + (" - red is riskier than yellow, and yellow than green." if band_order_ok(m)
           else " - **the bands are not in risk order**: revisit the thresholds (see the sweep)."),
        f"- Churned accounts that were green {d['lead_time_days']} days before renewal: {_pct(m['churned_green_share'])}"
        + (" - **above the 20% red flag**." if (m["churned_green_share"] or 0) > SEED_GREEN_SHARE else " (red flag above 20%)."),
        f"- Red caught {_pct(m['red_recall'])} of churn ({_pct(m['arr_flagged_share'])} of churned ARR); "
        f"{_pct(m['red_precision'])} of red renewals churned; {_pct(m['false_positive_rate'])} of renewing accounts were red.",
        f"- {_pct(m['flagged_90d_share'])} of churned accounts were at risk at least {m['flag_goal_days']} days before renewal "
        f"(median {m['lead_time_days_median'] if m['lead_time_days_median'] is not None else 'n/a'} days).",
    ]
    t = m.get("suggested_red_threshold")
    if t is not None and t != d["bands"]["red"]:
        row = next(r for r in m["sweep"] if r["red_threshold"] == t)
        lines.append(f"- The sweep's best trade-off (recall minus false positive rate) is a red threshold of **{t:g}**: "
                     f"it catches {_pct(row['red_recall'])} of churn with {_pct(row['false_positive_rate'])} of renewing "
                     f"accounts flagged (at {d['bands']['red']:g}: {_pct(m['red_recall'])} and {_pct(m['false_positive_rate'])}).")
    share_red = (b["red"]["accounts"] / m["renewals"]) if m["renewals"] else None
    if share_red is not None and share_red > 0.5:
        lines.append(f"- {_pct(share_red)} of renewals were red at the lead time: with percentile scores the composite "
                     "centres on 50, so a red threshold of " f"{d['bands']['red']:g} flags most accounts. The sweep below "
                     "shows what a lower threshold catches and what it saves in false alarms.")
    return "\n".join(lines)
