"""The back-test report's pieces: the verdict in words, small tables and Altair charts (kit.analyses.backtest computes)."""

from __future__ import annotations

import polars as pl

from kit import status
from kit.analyses import health_score
from kit.analyses.backtest import CURRENT, EQUAL, PLATFORM, PROPOSED, SCORECARD, Result
from kit.present import fmt, label, percent


SEED_GREEN_SHARE = 0.20  # seed red flag: more than 20% of churned accounts were scored healthy


def fitted_on(res: Result, name: str) -> str:
    """Which renewals a candidate was fitted on, in words (so in-sample and out-of-time figures read right)."""
    cut = res.doc["split"]["cut"]
    return {PLATFORM: "not fitted by the kit", CURRENT: "not fitted (set by hand)", EQUAL: "not fitted",
            PROPOSED: "every renewal (later ones included)", SCORECARD: f"renewals before {cut}"}.get(name, "")


def comparison(res: Result) -> pl.DataFrame:
    """One row per candidate: AUC before and after the cut, and the bands' figures after it (out of time)."""
    rows = []
    for name, m in res.doc["configs"].items():
        o = m.get("out_of_time") or m
        rows.append({
            "candidate": name, "fitted_on": fitted_on(res, name),
            "auc_in_sample": m.get("auc_in_sample"), "auc_out_of_time": m.get("auc_out_of_time"),
            "renewals_out_of_time": o["renewals"], "red_share": o["red_share"], "red_recall": o["red_recall"],
            "red_precision": o["red_precision"], "churned_green_share": o["churned_green_share"],
            f"flagged {res.doc['lead_time_days']}+ days ahead": o["flagged_90d_share"],  # the goal is lead_time_days
        })
    return pl.DataFrame(rows, infer_schema_length=None)


def weights_table(res: Result) -> pl.DataFrame:
    """Component weights of every candidate that has them (the platform score has none the kit knows)."""
    configs = {k: v for k, v in res.doc["configs"].items() if v.get("weights")}
    comps = list(dict.fromkeys(c for m in configs.values() for c in m["weights"]))
    return pl.DataFrame([{"component": c, **{n: m["weights"].get(c) for n, m in configs.items()}} for c in comps],
                        infer_schema_length=None)


def cards(res: Result) -> list[tuple[str, dict]]:
    """Each card of the proposed scorecard with its heading: the overall card, then each segment's own."""
    from kit.analyses import scorecard

    doc = res.scorecard or {}
    out = []
    for seg, card in scorecard.cards(doc).items():
        if seg == health_score.DEFAULT_CARD:
            out.append(("The overall card" + (f" (every account of {_others(doc)})" if doc.get("segments") else ""), card))
        else:
            out.append((f"The card of the {seg} segment", card))
    return out


def _others(doc: dict) -> str:
    """The accounts the overall card scores when some segments have a card of their own, in words."""
    own = list(doc.get("segments") or {})
    return "every segment but " + ", ".join(own)


def segment_cards_table(res: Result) -> pl.DataFrame:
    """Every segment: its churn before the cut, its own card against the overall card cross-validated in time before
    the cut (what decided) and after the cut (the check)."""
    rows = [{"segment": d["segment"], "churned": d["churned"], "cv_auc_overall": d.get("cv_auc_overall"),
             "cv_auc_own": d.get("cv_auc_own"), "own_card": "adopted" if d["adopted"] else "not adopted",
             "auc_overall_out_of_time": d.get("auc_overall_out_of_time"), "auc_own_out_of_time": d.get("auc_own_out_of_time")}
            for d in res.doc.get("segment_cards") or []]
    schema = {"segment": pl.String, "churned": pl.Int64, "cv_auc_overall": pl.Float64, "cv_auc_own": pl.Float64,
              "own_card": pl.String, "auc_overall_out_of_time": pl.Float64, "auc_own_out_of_time": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def segment_cards_text(res: Result) -> str:
    """The resolver's decisions in words, segment by segment (Markdown)."""
    decisions = res.doc.get("segment_cards") or []
    rule = (res.scorecard or {}).get("resolver") or {}
    if not decisions:
        return ("No segment has a card of its own to try: the accounts table has no segment, or no segment had "
                f"{rule.get('min_churn_events', 'enough')} churned renewals before the cut.")
    adopted = [d["segment"] for d in decisions if d["adopted"]]
    head = (f"Segments with at least {rule.get('min_churn_events')} churned renewals before the cut were tried; a segment's "
            f"card is adopted when it ranks the segment's renewals better by at least {rule.get('margin', 0):g} AUC and by two "
            "standard errors, on the time blocks the search for its measures had not seen. "
            + (f"**Adopted: {', '.join(adopted)}**: these segments churn for reasons of their own, and every other account is "
               "scored by the overall card." if adopted else
               "**No segment card was adopted**: no segment's own card ranked its renewals reliably better, so one card serves "
               "them all."))
    lines = [head, ""]
    for d in decisions:
        after = ""
        if d.get("difference_out_of_time") is not None:
            after = (f" After the cut: {d['difference_out_of_time']:+.2f} AUC (95% interval {d['ci_low']:+.2f} to "
                     f"{d['ci_high']:+.2f}).")
        lines.append(f"- **{d['segment']}**: {d.get('reason', '')}.{after}")
    return "\n".join(lines)


def scorecard_table(card: dict) -> pl.DataFrame:
    """The scorecard as a client admin types it: one row per measure and value range (and one for no value),
    with the measure's weight, the range's score and colour, and its evidence before the cut."""
    from kit.analyses import scorecard

    rows, last = [], None
    for r in scorecard.tier_rows(card, people=True):
        first = r["measure"] != last  # a measure's name and weight on its first row only: the rows below are its ranges
        last = r["measure"]
        rows.append({"measure": label(r["measure"]) if first else "", "weight": fmt(r["weight"], "percent") if first else "",
                     "range": r["range"], "range_score": r["score"], "band": r["colour"], "fit_renewals": r["fit_renewals"],
                     "fit_churn_rate": r["fit_churn_rate"]})
    return pl.DataFrame(rows, schema={"measure": pl.String, "weight": pl.String, "range": pl.String, "range_score": pl.Int64,
                                      "band": pl.String, "fit_renewals": pl.Int64, "fit_churn_rate": pl.Float64})


def measures_table(card: dict) -> pl.DataFrame:
    """What each measure means, how many ranges it has and why (held-out log-likelihood per number of ranges)."""
    rows = []
    for m in card.get("measures", []):
        held = m["fit_evidence"].get("heldout_loglik_by_tiers") or {}
        rows.append({"measure": label(m["signal"]), "component": m["component"], "definition": m["definition"],
                     "ranges": len(m["cuts"]) + 1,
                     "heldout": ", ".join(f"{t}: {v:,.1f}" for t, v in held.items()) if held else "not cross-validated"})
    return pl.DataFrame(rows, schema={"measure": pl.String, "component": pl.String, "definition": pl.String, "ranges": pl.Int64,
                                      "heldout": pl.String})


def excluded_table(card: dict) -> pl.DataFrame:
    """Candidates that did not become measures, and why."""
    why = {**card.get("excluded", {}), **{n.split(":")[0]: n.split(": ", 1)[1] for n in card.get("notes", []) if ": " in n}}
    why = {k: v for k, v in why.items() if k in card.get("candidates", why)}
    return pl.DataFrame({"signal": [label(k) for k in why], "why_not": list(why.values())}, schema={"signal": pl.String, "why_not": pl.String})


def yardsticks(res: Result) -> pl.DataFrame:
    """What fitted models and the best single signal reach on the same renewals, next to the scorecard."""
    ref = res.doc["reference"]
    rows = []
    sc = res.doc["configs"].get(SCORECARD)
    if sc:
        rows.append({"model": "the proposed scorecard (value ranges and weights a client can read)",
                     "auc_in_sample": sc["auc_in_sample"], "auc_out_of_time": sc["auc_out_of_time"]})
    lg = ref.get("logistic") or {}
    if lg.get("signals"):
        rows.append({"model": f"a logistic regression on the same {len(lg['signals'])} candidate signals (a fitted model)",
                     "auc_in_sample": lg["auc_in_sample"], "auc_out_of_time": lg["auc_out_of_time"]})
    gb = ref.get("gradient_boosting") or {}
    if gb.get("auc_out_of_time") is not None:
        rows.append({"model": f"gradient-boosted trees on the same {len(gb['signals'])} candidate signals (a black box)",
                     "auc_in_sample": gb["auc_in_sample"], "auc_out_of_time": gb["auc_out_of_time"]})
    b = ref.get("best_single_signal")
    if b:
        rows.append({"model": f"the best single signal before the cut: {label(b['signal'])}",
                     "auc_in_sample": b["auc_in_sample"], "auc_out_of_time": b["auc_out_of_time"]})
    return pl.DataFrame(rows, schema={"model": pl.String, "auc_in_sample": pl.Float64, "auc_out_of_time": pl.Float64})


def bands_frame(res: Result, part: str = "out_of_time") -> pl.DataFrame:
    """Renewals and churn per band of each candidate, after the cut by default (`part`: out_of_time, in_sample or all)."""
    rows = [{"candidate": label(name), "band": b, **v} for name, m in res.doc["configs"].items()
            for b, v in (m if part == "all" else m.get(part) or m)["bands"].items()]
    return pl.DataFrame(rows, infer_schema_length=None)


def band_order_ok(m: dict) -> bool:
    """Red churns more than yellow, and yellow more than green (bands without renewals are skipped)."""
    rates = [m["bands"][b]["churn_rate"] for b in status.BANDS if m["bands"][b]["churn_rate"] is not None]
    return all(a > b for a, b in zip(rates, rates[1:]))


def calibration_chart(res: Result):
    """Churn rate by band after the cut, one panel per candidate (labels: renewals in the band)."""
    from kit import charts

    alt = charts.alt()
    df = bands_frame(res).with_columns((pl.col("churn_rate") * 100).alias("churn rate %")).to_pandas()
    color = alt.Scale(domain=list(status.BANDS), range=[charts.PALETTE[b] for b in status.BANDS])
    base = alt.Chart(df).encode(
        x=alt.X("band:N", sort=list(status.BANDS), title=None),
        y=alt.Y("churn rate %:Q", title="churn rate at renewal (%)"),
    )
    bars = base.mark_bar().encode(color=alt.Color("band:N", scale=color, legend=None),
                                  tooltip=["candidate", "band", "accounts", "churned", "churn rate %"])
    text = base.mark_text(dy=-6).encode(text=alt.Text("accounts:Q", format=","))
    return (bars + text).properties(width=120, height=200).facet(
        column=alt.Column("candidate:N", sort=[label(n) for n in res.doc["configs"]], title=None))


def lead_times(res: Result) -> pl.DataFrame:
    """Churned renewals with a whole window (it opens inside the scored history) and their first flag."""
    frames = [t.filter(pl.col("churned") & pl.col("lead_score").is_not_null() & pl.col("full_window")).select(
        pl.lit(label(name)).alias("candidate"), "account_id", "renewal_date", "flag_lead_days") for name, t in res.tables.items()]
    return pl.concat(frames) if frames else pl.DataFrame()


def lead_time_chart(res: Result):
    from kit import charts

    alt = charts.alt()
    goal = res.doc["lead_time_days"]
    step = max(14, res.doc["score_every_days"])
    df = (lead_times(res).filter(pl.col("flag_lead_days").is_not_null())
          .with_columns((pl.col("flag_lead_days") // step * step).alias("days ahead"))
          .group_by("candidate", "days ahead").len("churned renewals").sort("candidate", "days ahead").to_pandas())
    bars = alt.Chart().mark_bar(color=charts.PALETTE["red"]).encode(
        x=alt.X("days ahead:Q", bin=alt.Bin(step=step), title="days flagged ahead", axis=alt.Axis(values=[0, 90, 180, 270, 360])),
        y=alt.Y("sum(churned renewals):Q", title="churned renewals"), tooltip=["candidate", "days ahead", "churned renewals"])
    rule = alt.Chart().mark_rule(strokeDash=[4, 4]).encode(x=alt.datum(goal))
    return alt.layer(bars, rule, data=df).properties(width=150, height=160).facet(
        column=alt.Column("candidate:N", sort=[label(n) for n in res.doc["configs"]], title=None))


def sweep_chart(res: Result):
    """Recall, precision, false positive rate and early flags as the red threshold moves; dashed: the threshold in force."""
    from kit import charts

    alt = charts.alt()
    metrics_ = {"red_recall": "recall (churn caught)", "red_precision": "precision (red that churned)",
                "false_positive_rate": "false positive rate", "flagged_90d_share": f"flagged {res.doc['lead_time_days']}+ days ahead"}
    red = {label(n): m["bands_used"]["red"] for n, m in res.doc["configs"].items()}
    df = (res.sweeps.unpivot(index=["config", "red_threshold"], on=list(metrics_), variable_name="metric", value_name="value")
          .with_columns(pl.col("metric").replace(metrics_), pl.col("config").map_elements(label, return_dtype=pl.String).alias("candidate"))
          .with_columns(pl.col("candidate").replace_strict(red, default=None, return_dtype=pl.Float64).alias("in force"))
          .to_pandas())
    lines = alt.Chart().mark_line(point=True).encode(
        x=alt.X("red_threshold:Q", title="red threshold", scale=alt.Scale(zero=False)),
        y=alt.Y("value:Q", axis=alt.Axis(format="%"), title=None, scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("metric:N", title=None), tooltip=["candidate", "red_threshold", "metric", alt.Tooltip("value:Q", format=".1%")])
    rule = alt.Chart().mark_rule(strokeDash=[4, 4], color="grey").encode(x="mean(in force):Q")
    return alt.layer(lines, rule, data=df).properties(width=150, height=180).facet(
        column=alt.Column("candidate:N", sort=[label(n) for n in res.doc["configs"]], title=None))


def segment_table(res: Result) -> pl.DataFrame:
    """Per segment and candidate (in the candidates' order): renewals, churn per band, AUC, recall, churned green,
    and a note where a figure is not defined (the column is left out when no row has one)."""
    if res.segments is None:
        return pl.DataFrame()
    order = {n: i for i, n in enumerate(res.doc["configs"])}
    t = (res.segments.with_columns(pl.col("config").replace_strict(order, default=99).alias("_order"))
         .sort("segment", "_order")
         .select("segment", pl.col("config").alias("candidate"), "renewals", "churned", "red_churn_rate", "yellow_churn_rate",
                 "green_churn_rate", "auc", "red_recall", "churned_green_share", "note"))
    return t if (t["note"].fill_null("") != "").any() else t.drop("note")


def edge_table(res: Result) -> pl.DataFrame:
    ec = res.doc["edge_cases"]
    rows = [{"case": k.replace("_", " "), "count": v["count"], "examples": ", ".join(map(str, v["examples"])), "meaning": v["note"]}
            for k, v in ec.items() if isinstance(v, dict)]
    segs = ec.get("segments_without_churn") or []
    rows.append({"case": "segments without churn", "count": len(segs), "examples": ", ".join(segs),
                 "meaning": "no churned renewal with a lead-time score: AUC and recall are not defined there"})
    return pl.DataFrame(rows)


def _bands_line(m: dict, name: str) -> str:
    from kit.analyses import scorecard

    b = m["bands_used"]
    own = "; ".join(f"{seg}: {scorecard.bands_text(x)}" for seg, x in (b.get("segments") or {}).items())
    bands = scorecard.bands_text(b) + (f"; segments with a card of their own, {own}" if own else "")
    return (f"{label(name)} ({bands}): red flags {percent(m['red_share'])} of renewals "
            f"and catches {percent(m['red_recall'])} of churn; {percent(m['churned_green_share'])} of churned accounts were green")


def summary_text(res: Result) -> str:
    """The verdict in plain words: the scorecard against what the client runs today, bands, cost of transparency, lead time.

    Every figure is out of time (renewals after the cut) unless it says otherwise. Markdown with a
    blank line before the list, so nbconvert and Quarto (pandoc) render the same list.
    """
    d = res.doc
    best = d["best"]
    if best is None:
        return f"No candidate could be ranked: {d['best_reason']}."
    split = d["split"]
    ev, fit = split["evaluated_on"], split["fitted_on"]
    configs = d["configs"]
    ranked = sorted((n for n in configs if n != PROPOSED and configs[n].get("auc_out_of_time") is not None),
                    key=lambda n: -configs[n]["auc_out_of_time"])
    others = ", ".join(f"{label(n).lower()} {fmt(configs[n]['auc_out_of_time'], 'auc')}" for n in ranked if n != best)
    head = (f"**Best out of time: {label(best)}**, AUC {fmt(configs[best]['auc_out_of_time'], 'auc')} after the cut"
            + (f" ({others})" if others else "") + f". Out of time means the {ev['renewals']:,} renewals "
            f"from {ev['from']} to {ev['to']} ({ev['churned']:,} churned), which no fitted candidate has seen: the scorecard "
            f"was fitted on the {fit['renewals']:,} renewals before {split['cut']}.")
    lines = [head, ""]
    sc = configs.get(SCORECARD)
    today = PLATFORM if PLATFORM in configs else CURRENT
    h2h = d.get("comparison")
    if PLATFORM not in configs:
        why = d["not_available"].get(PLATFORM, "").removeprefix("not available: ")
        lines.append(f"- Your platform's score could not be back-tested ({why}), so the scorecard is compared with the "
                     "current weights instead.")
    if sc is None:
        lines.append(f"- No scorecard could be proposed: {d['scorecard'].get('reason') or d['not_available'].get(SCORECARD, '')}.")
    elif h2h and h2h.get("difference") is not None:
        diff, lo, hi = h2h["difference"], h2h["ci_low"], h2h["ci_high"]
        other = label(h2h["b"]).lower()
        verdict = (f"the scorecard ranks churn better" if lo > 0 else f"{other} ranks churn better" if hi < 0
                   else "neither ranks churn reliably better than the other")
        lines.append(f"- **The proposed scorecard against {other}**, on the same {h2h['renewals']:,} renewals "
                     f"({h2h['churned']:,} churned): AUC {fmt(h2h['auc_a'], 'auc')} against {fmt(h2h['auc_b'], 'auc')}, a difference of "
                     f"{diff:+.2f} (95% interval {lo:+.2f} to {hi:+.2f}): {verdict}.")
    for name in (SCORECARD, today):
        if name in configs:
            m = configs[name]["out_of_time"]
            lines.append(f"- Bands: {_bands_line(m | {'bands_used': configs[name]['bands_used']}, name)}"
                         + (" (**above the seed's 20% red flag**)" if (m["churned_green_share"] or 0) > SEED_GREEN_SHARE else "")
                         + ". Churn rate by band: " + ", ".join(f"{k} {percent(v['churn_rate'])} of {v['accounts']:,}" for k, v in m["bands"].items())
                         + (", in risk order." if band_order_ok(m) else ": **not in risk order**."))
    ref = d.get("reference") or {}
    lg, gb, single = ref.get("logistic") or {}, ref.get("gradient_boosting") or {}, ref.get("best_single_signal")
    if sc is not None and lg.get("auc_out_of_time") is not None:
        cost = lg["auc_out_of_time"] - sc["auc_out_of_time"]
        lines.append(f"- What transparency costs: a logistic regression on the same candidate signals reaches AUC "
                     f"{fmt(lg['auc_out_of_time'], 'auc')}, the scorecard {fmt(sc['auc_out_of_time'], 'auc')} "
                     + (f"({cost:.2f} less)" if cost >= 0.005 else "(no less)")
                     + (f"; gradient-boosted trees, a black box, reach {fmt(gb['auc_out_of_time'], 'auc')}" if gb.get("auc_out_of_time") is not None else "")
                     + (f"; the best single signal before the cut, {label(single['signal']).lower()}, reaches {fmt(single['auc_out_of_time'], 'auc')}." if single else "."))
    card = res.scorecard or {}
    fitted = card.get("band_fit")
    if sc is not None and fitted:
        lines.append(f"- Red share held out of time: {percent(sc['in_sample']['red_share'])} of the renewals before the cut were red "
                     f"({percent(fitted['red_share'])} of the latest {fitted['renewals']:,}, from {fitted['from']} to {fitted['to']}, "
                     f"which the bands were fitted on), {percent(sc['out_of_time']['red_share'])} of the renewals after it.")
    if card.get("measures"):
        from kit.analyses import scorecard

        lines.append(f"- {scorecard.describe_all(card)}"
                     + (": " + next(n for n in card["notes"] if n.startswith("the weighted composite")) if card.get("reduced_to_best_measure")
                        else "") + ".")
    found = d.get("search") or {}
    if found.get("tried"):
        lines.append(f"- Signals searched: {found['tried']:,} candidate signals of {found['measures']} measures were tried on the "
                     f"renewals before the cut, and {len(found['chosen'])} chosen (the churn correlation notebook shows the search); "
                     "figures before the cut are optimistic for what was chosen there, the figures after it are not.")
    if sc is not None:
        m = sc
        med = m["lead_time_days_median"]
        lines.append(f"- Lead time: {percent(m['flagged_90d_share'])} of churned accounts were at risk on the scorecard at least "
                     f"{m['flag_goal_days']} days before renewal; in whole years before renewal, half of those flagged were flagged "
                     f"{fmt(med, 'days')} days or more ahead ({percent(m['at_risk_at_window_open_share'])} already when "
                     f"the year opened). All renewals, before and after the cut.")
    if PROPOSED in configs:
        lines.append("- The proposed weights of the churn correlation notebook were fitted on every renewal, the later ones included: their "
                     "figures after the cut are not out of sample, so they are shown but not ranked.")
    return "\n".join(lines)


def history_text(res: Result) -> str:
    """What was scored and how the renewals are split in time, in words (Markdown)."""
    h, split = res.doc["history"], res.doc["split"]
    return (
        f"Every account was scored every {res.doc['score_every_days']} days from {h['start']:%d %B %Y} to {h['end']:%d %B %Y} "
        f"({h['scoring_dates']} scoring dates, {h['accounts_scored']:,} accounts), each score using only records dated "
        f"before its scoring date. Each of the {h['renewals']:,} past renewals is then judged by the score its account had "
        f"**{res.doc['lead_time_days']} days before the renewal**: the time a CSM needs to act.\n\n"
        f"Renewals are split in time at **{split['cut']:%d %B %Y}**: what is fitted (the scorecard's measures, ranges, "
        f"weights and bands) is fitted on the {split['fitted_on']['renewals']:,} renewals before the cut and judged on the "
        f"{split['evaluated_on']['renewals']:,} renewals from the cut on (*out of time*)."
    )


def scorecard_texts(card: dict) -> list[str]:
    """A card's bands, component weights and, when it is a single measure, why (Markdown paragraphs)."""
    from kit.analyses import scorecard

    out = [f"**Bands:** {scorecard.bands_text(card['bands'])}. How they were chosen: {card['bands']['criterion']}."]
    if len(card["measures"]) > 1:
        out.append("**Component weights** (the sum of their measures' weights): "
                   + ", ".join(f"{label(c).lower()} {w:.0%}" for c, w in card["components"].items()) + ".")
    return out + [f"**{scorecard.describe(card)}**"] + [f"Why a single measure: {n}." for n in card.get("notes", [])
                                                           if n.startswith("the weighted composite")]
