"""The churn correlation report's pieces: charts, tables and the search in words (kit.analyses.weights computes)."""

from __future__ import annotations

import polars as pl

from kit import catalog, present
from kit.analyses.weights import Result


# ---------------------------------------------------------------------------- charts (small frames, Altair)


def _blue_grey(a, field: str, blue: str, grey: str):
    """Colour by `field`: the value `blue` in blue (retained, proposed), `grey` in grey."""
    from kit.charts import PALETTE

    return a.Color(f"{field}:N", scale=a.Scale(domain=[blue, grey], range=[PALETTE["blue"], PALETTE["grey"]]), title=None)


def _labelled(column: str) -> pl.Expr:
    """Signal or component names as the client reads them (kit.present.LABELS)."""
    return pl.col(column).map_elements(present.label, return_dtype=pl.String)


def chart_deciles(result: Result, columns: int = 3):
    from kit.charts import alt

    a = alt()
    if result.deciles.height == 0:
        return None
    names = [present.label(s.name) for s in result.signals]
    kept = {s.name: ("retained" if s.retained else "excluded") for s in result.signals}
    df = result.deciles.with_columns(pl.col("signal").replace_strict(kept, default="excluded").alias("status"),
                                     _labelled("signal")).to_pandas()
    base_rate = result.events / result.n if result.n else 0
    bars = a.Chart(df).mark_bar().encode(
        x=a.X("decile:O", title="decile (1 = lowest)"),
        y=a.Y("churn_rate:Q", title="churn rate", axis=a.Axis(format="%")),
        color=_blue_grey(a, "status", "retained", "excluded"),
        tooltip=["signal", "decile", "low", "high", "n", a.Tooltip("churn_rate:Q", format=".1%")],
    ).properties(width=170, height=110)
    rule = a.Chart(df).mark_rule(strokeDash=[4, 3], color="black").encode(y=a.datum(base_rate))
    return a.layer(bars, rule).facet(facet=a.Facet("signal:N", sort=names, title=None), columns=columns).resolve_scale(y="shared")


def chart_odds(result: Result):
    from kit.charts import alt

    a = alt()
    rows = [
        {"signal": present.label(s.name), "odds_ratio": s.odds_ratio, "low": s.odds_ratio_ci[0], "high": s.odds_ratio_ci[1],
         "status": "retained" if s.retained else "excluded", "reason": s.reason}
        for s in result.signals if s.odds_ratio is not None and s.odds_ratio_ci is not None
    ]
    if not rows:
        return None
    df = pl.DataFrame(rows).to_pandas()
    order = [r["signal"] for r in rows]
    color = _blue_grey(a, "status", "retained", "excluded")
    y = a.Y("signal:N", sort=order, title=None)
    x_scale = a.Scale(type="log")
    bars = a.Chart(df).mark_rule(strokeWidth=2).encode(x=a.X("low:Q", scale=x_scale, title="odds ratio of churn per standard deviation (log scale)"), x2="high:Q", y=y, color=color)
    dots = a.Chart(df).mark_point(filled=True, size=60).encode(x=a.X("odds_ratio:Q", scale=x_scale), y=y, color=color, tooltip=["signal", "odds_ratio", "low", "high", "reason"])
    one = a.Chart(df).mark_rule(strokeDash=[4, 3], color="black").encode(x=a.datum(1))
    return a.layer(bars, dots, one).properties(width=420, height=18 * len(rows))


def chart_correlation(result: Result):
    from kit.charts import alt

    a = alt()
    if result.correlation.height == 0:
        return None
    df = result.correlation.with_columns(pl.col("r").round(2), _labelled("a"), _labelled("b")).to_pandas()
    order = [present.label(n) for n in dict.fromkeys(result.correlation["a"].to_list())]
    base = a.Chart(df).encode(x=a.X("a:N", sort=order, title=None), y=a.Y("b:N", sort=order, title=None))
    rect = base.mark_rect().encode(color=a.Color("r:Q", scale=a.Scale(scheme="redblue", domain=[-1, 1], reverse=True), title="r"))
    text = base.mark_text(fontSize=8).encode(text="r:Q", color=a.condition("abs(datum.r) > 0.6", a.value("white"), a.value("black")))
    return (rect + text).properties(width=26 * len(order), height=26 * len(order))


def chart_weights(result: Result):
    from kit.charts import alt

    a = alt()
    rows = []
    for c, v in result.proposed.items():
        rows.append({"component": present.label(c), "which": "proposed", "weight": v["weight"], "low": v.get("ci_low"), "high": v.get("ci_high")})
        if c in result.current:
            rows.append({"component": present.label(c), "which": "current", "weight": result.current[c], "low": None, "high": None})
    df = pl.DataFrame(rows, schema={"component": pl.String, "which": pl.String, "weight": pl.Float64, "low": pl.Float64, "high": pl.Float64}).to_pandas()
    order = [present.label(c) for c in result.proposed]
    color = _blue_grey(a, "which", "proposed", "current")
    bars = a.Chart(df).mark_bar().encode(
        x=a.X("weight:Q", axis=a.Axis(format="%"), title="weight"), y=a.Y("which:N", title=None), color=color,
        tooltip=["component", "which", a.Tooltip("weight:Q", format=".1%"), a.Tooltip("low:Q", format=".1%"), a.Tooltip("high:Q", format=".1%")],
    )
    err = a.Chart(df).mark_rule(color="black").encode(x="low:Q", x2="high:Q", y="which:N")
    return a.layer(bars, err).properties(width=360, height=40).facet(row=a.Row("component:N", sort=order, title=None, header=a.Header(labelAngle=0, labelAlign="left")))


def signals_table(result: Result):
    """Every candidate signal and its verdict, as the client reads it (kit.present): the odds ratio with
    its interval in one column, retained signals as a badge, the reason why not otherwise (components
    are in the signal definitions at the end of the report)."""
    rows = []
    for s in result.signals:
        lo, hi = s.odds_ratio_ci or (None, None)
        ratio = present.fmt(s.odds_ratio, "ratio")
        if lo is not None and hi is not None:
            ratio += f" ({present.fmt(lo, 'ratio')}–{present.fmt(hi, 'ratio')})"
        rows.append({"name": s.name, "missing_share": s.missing_share, "point_biserial": s.point_biserial,
                     "odds_ratio": ratio, "p_value": s.p_value, "auc": s.auc,
                     "reason": present.badge("retained") if s.retained and s.reason.startswith("retained (") else present.prose(s.reason)})
    frame = pl.DataFrame(rows, schema={"name": pl.String, "missing_share": pl.Float64,
                                       "point_biserial": pl.Float64, "odds_ratio": pl.String, "p_value": pl.Float64,
                                       "auc": pl.Float64, "reason": pl.String})
    return present.table(frame, kinds={"odds_ratio": "figure", "reason": "html"}, labels={"odds_ratio": "Odds ratio per SD (95% interval)"},
                         wide=("reason",))


def comparison(result: Result) -> pl.DataFrame:
    """Proposed vs current weight per component, with the interval and whether the current weight lies in it."""
    rows = []
    for c in dict.fromkeys([*result.proposed, *result.current]):
        p = result.proposed.get(c, {"weight": 0.0, "ci_low": None, "ci_high": None})
        cur = result.current.get(c)
        lo, hi = p.get("ci_low"), p.get("ci_high")
        inside = None if lo is None or cur is None else bool(lo - 1e-9 <= cur <= hi + 1e-9)
        rows.append({"component": c, "proposed": round(p["weight"], 3), "ci_low": None if lo is None else round(lo, 3),
                     "ci_high": None if hi is None else round(hi, 3), "current": cur, "current_within_interval": inside})
    return pl.DataFrame(rows, schema={"component": pl.String, "proposed": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
                                      "current": pl.Float64, "current_within_interval": pl.Boolean})


def segment_table(result: Result) -> pl.DataFrame:
    """Per-segment weights, one row per component and one column per segment (empty without segments)."""
    rows = [{"segment": s, "component": c, "weight": round(v["weight"], 3)} for s, ws in result.segments.items() for c, v in ws.items()]
    if not rows:
        return pl.DataFrame(schema={"component": pl.String})
    return pl.DataFrame(rows).pivot(on="segment", index="component", values="weight")


# ---------------------------------------------------------------------------- the signal search, as the client reads it


def search_text(result: Result) -> str:
    """How the candidates were found, in words (Markdown)."""
    f = result.search
    if f is None:
        return "The candidate signals were given, not searched."
    if not f.fitted_on:
        return "No renewal before the time cut could be measured, so no signal was searched."
    return (f"**{f.tried:,} candidate signals** were built from {f.measures} measures of the client's data (every "
            f"aggregation at windows of {', '.join(str(w) for w in f.settings.get('windows', []))} days) at the "
            f"**{f.fitted_on:,} renewals before {f.cut:%d %B %Y}** ({f.churned:,} churned), and **{len(f.chosen)} chosen** as "
            "candidates: per measure the strongest of each kind (level, presence, trend), near-duplicates folded into the "
            "strongest, at most `search.max_candidates`. The later renewals are kept out of the search, as they are out "
            "of every fit in the back-test: selecting among many signals flatters the figures of what was chosen on the "
            "renewals it was chosen on, so the figures that judge the choice are the back-test's after the cut.")


def search_table(result: Result, chosen: bool = True, rows: int = 40):
    """The chosen candidates (or the strongest of the others, with the reason) as the client reads them."""
    f = result.search
    picked = [r for r in (f.rows if f else []) if r.chosen == chosen and (chosen or r.gain is not None)][:rows]
    frame = pl.DataFrame([{"signal": r.signal, "signal_kind": r.kind, "share_with_value": r.coverage, "gain": r.gain, "auc": r.auc,
                           "verdict": r.verdict if not chosen else catalog.definition_of(r.signal)} for r in picked],
                         schema={"signal": pl.String, "signal_kind": pl.String, "share_with_value": pl.Float64, "gain": pl.Float64,
                                 "auc": pl.Float64, "verdict": pl.String})
    labels = {"verdict": "Definition"} if chosen else {"verdict": "Why it is not a candidate"}
    return present.table(frame, kinds={"verdict": "prose"}, labels=labels, wide=("verdict",))


# ---------------------------------------------------------------------------- the report's text


def summary_text(result: Result, lead_time_days: int, as_of) -> str:
    """The report's opening figures, then the analysis's messages as quotes (Markdown)."""
    if result.status == "not_available":
        head = "**" + result.messages[0] + "** The current weights stay in place."
    else:
        retained = [s for s in result.signals if s.retained]
        rate = result.events / result.n if result.n else 0
        head = (f"**{result.n:,} renewals** up to {as_of:%d %B %Y}, of which **{result.events} churned** ({rate:.1%}). "
                f"Signals measured {lead_time_days} days before each renewal. "
                f"**{len(retained)} of {len(result.signals)} candidate signals** passed the checks.")
    return "\n\n".join([head, *(f"> {present.md_prose(m)}" for m in result.messages)])


def groups_text(result: Result, threshold: float) -> str:
    """The groups of candidates correlated above the threshold, in words."""
    if result.groups:
        return "\n".join(f"- correlated above {threshold:g}: {', '.join(map(present.label, g))}" for g in result.groups)
    return f"No pair of signals is correlated above {threshold:g}."


def model_text(result: Result, vif_threshold: float) -> tuple[str, pl.DataFrame | None, str]:
    """(the joint model in words, its coefficients, the signals its VIF flags in words)."""
    m = result.model
    if not m.get("fitted"):
        return "No joint model was fitted (see the messages above).", None, ""
    flagged = (f"VIF above {vif_threshold:g}: {', '.join(map(present.label, m['vif_flagged']))}; their split of the effect is "
               "uncertain." if m["vif_flagged"] else "")
    return f"Method: {m['method']} on {m['n']:,} renewals ({m['events']} churned). {m.get('note') or ''}", pl.DataFrame(m["coefficients"]), flagged


def definitions_table(result: Result):
    """Every candidate's component, healthy direction and definition."""
    frame = pl.DataFrame([{"signal": s.name, "component": s.component, "healthy when": "higher" if s.direction > 0 else "lower",
                           "definition": s.definition} for s in result.signals])
    return present.table(frame, max_rows=100, kinds={"definition": "prose"}, wide=("definition",))
