"""The health score methodology document, generated from the configuration in force.

`page(params, weights=..., weights_period=...)` returns the Markdown of the site's Methodology
page: data sources and how their columns map, components with their signals and transforms,
the weights and where they came from (with the churn-correlation evidence and intervals when the
churn correlation notebook's `weights.json` exists), bands and the at-risk rule, how to read
green/yellow/red and when to act, and the recalibration guide with the thresholds of
`params.maintenance`. Nothing here is hand-written per client: rerun `publish` after changing
the parameters and the document follows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from kit import catalog, contract, present
from kit.analyses import maintenance
from kit.checks import CHECKS, HIGHER, MONTHLY, QUARTERLY
from kit.params import Parameters

# ---------------------------------------------------------------------------- text and tables (kit.present)

esc = present.md_text  # text from data or parameters, safe inside Markdown prose
Raw = present.HTML  # a cell formatted already


def table(headers: Iterable[str], rows: Iterable[Iterable[Any]], *, wide: Iterable[int] = ()) -> str:
    """A client-ready table (kit.present.rows_table): cells are escaped text unless `Raw` (HTML);
    `wide` names the positions of columns holding sentences."""
    return present.rows_table(list(headers), rows, wide=wide).html


def pct(value: Any, digits: int = 0) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return present.MISSING
    return present.fmt(value, f"percent{digits or ''}")


# ---------------------------------------------------------------------------- thresholds

def limit_text(params: Parameters, name: str) -> tuple[str, str]:
    """(amber, red) thresholds of a maintenance check (kit.checks), in words."""
    check = CHECKS[name]
    kind = present.UNITS.get(check.unit, present.NUMBER).kind
    op = ">" if check.worse == HIGHER else "<"
    if name == "discrimination":  # red by a rule of its own: a significant drop
        return (f"drop {op} {present.fmt(params.maintenance.discrimination_drop, kind)}",
                "a drop beyond the recent AUC's 95% interval")
    lim = maintenance.limit_of(name, params.maintenance)
    amber = f"{op} {present.fmt(lim.amber, kind)}" if lim.amber != lim.red else "n/a"
    red = f"{op} {present.fmt(lim.red, kind)}"
    return amber, red


# ---------------------------------------------------------------------------- the page


def page(params: Parameters, *, weights: dict | None = None, weights_period: str | None = None,
         card: dict | None = None, card_period: str | None = None, schedule: maintenance.Schedule | None = None) -> str:
    parts = sections(params, weights=weights, weights_period=weights_period, card=card, card_period=card_period, schedule=schedule)
    return "\n\n".join([_front(params), *(p for p in parts.values() if p)]) + "\n"


def sections(params: Parameters, *, weights: dict | None = None, weights_period: str | None = None,
             card: dict | None = None, card_period: str | None = None,
             schedule: maintenance.Schedule | None = None) -> dict[str, str]:
    """The page's sections by name, in order: the site page and the signed documents
    (kit.publish.documents) are built from these same pieces. A section without data is empty."""
    return {
        "intro": _intro(params, card),
        "sources": _sources(params),
        "components": _components(params),
        "weights": _weights(params, weights, weights_period),
        "search": _search(weights, weights_period),
        "scorecard": _scorecard(card, card_period, params.scorecard.max_tiers),
        "bands": _bands(params),
        "reading": _reading(params),
        "accounts": _accounts(params),
        "recalibration": _recalibration(params, schedule),
    }


def _front(params: Parameters) -> str:
    import yaml

    meta = {
        "title": "Health score methodology",
        "subtitle": params.name,
        "description": "How the health score is built from the data, weighted, banded and kept accurate.",
    }
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---"


def _intro(params: Parameters, card: dict | None = None) -> str:
    from kit.analyses import scorecard

    text = (f"The health score of **{esc(params.name)}** is a number from 0 to 100 for every account, {esc(_in_force(params))}. "
            "This document is generated from the configuration in force; it changes only when that configuration changes.")
    if card and card.get("measures"):
        text += f" The proposed scorecard of the back-test (below) is a rule of its own. {esc(scorecard.describe_all(card))}."
    return text


def _in_force(params: Parameters) -> str:
    """What the configured score is, in plain words: one measure, a weighted average of signals, or of components."""
    comps = params.score.components
    signals = [s for c in comps.values() for s in c.signals]
    if len(signals) == 1:
        text = f"from one measure, {present.label(signals[0]).lower()}"
    elif len(comps) == 1:
        text = f"the weighted average of its {len(signals)} signals"
    else:
        text = f"the weighted average of {len(comps)} component scores"
    own = list(params.score.segments)
    if own:
        text += f"; the {', '.join(own)} segment{'s have cards' if len(own) > 1 else ' has a card'} of their own"
    return text


def _sources(params: Parameters) -> str:
    out = ["## Data sources and how they map"]
    out.append(
        "Each export is read as it comes from the client's systems; its columns are mapped onto the kit's "
        "canonical tables. Columns not listed are not used."
    )
    for name, src in params.sources.items():
        t = contract.TABLES[name]
        where = Path(src.path).name if src.path else "database query"
        out.append(f"### {esc(present.label(name))}\n\n{esc(t.description)} Source: `{where.replace('`', '')}`.")
        if src.columns:
            rows = []
            for client_col, canonical in src.columns.items():
                col = t.column(canonical)
                kind = col.type if col else "numeric usage feature"
                rows.append([Raw(present.fmt(client_col, "code")), present.label(canonical), kind])
            out.append(table(["Client column", "Used as", "Type"], rows))
        for col, mapping in src.values.items():
            out.append(
                f"Values of *{esc(present.label(col).lower())}*: "
                + "; ".join(f"{esc(k)} → {esc(v)}" for k, v in mapping.items())
                + "."
            )
    return "\n\n".join(out)


def _signal_text(name: str) -> tuple[str, str]:
    sig = catalog.signal(name)
    if sig:
        return sig.description, "higher is healthier" if sig.direction > 0 else "higher is riskier"
    return name, ""


def _components(params: Parameters) -> str:
    out = ["## Components, signals and transforms"]
    rows = []
    for cname, comp in params.score.components.items():
        rows.append([present.label(cname), pct(comp.weight), len(comp.signals), comp.transform])
    out.append(table(["Component", "Weight", "Signals", "Transform"], rows))
    out.append(
        "**Percentile** transform: each signal becomes its percentile among the accounts of the same segment "
        "scored on the same date (100 = healthiest, risk signals turned around; a lone account in its segment "
        "scores 50); the component is the mean of its signals' percentiles, ranked again the same way, so a "
        "usage score of 80 reads \"healthier usage than 80% of the segment's accounts\". **Thresholds** "
        "transform: each signal is mapped on a straight line from the value scoring 0 to the value scoring "
        "100, clipped to 0-100. **Tiers** transform (a scorecard's form): each signal's value falls in one of its "
        "ranges, each scoring a fixed 0-100, and a signal without a value scores its stated no-value score; signals "
        "are weighted by their own share of the score. Missing signals are left out of their component; when a "
        "whole component is missing, the composite is re-weighted over the components present."
    )
    for cname, comp in params.score.components.items():
        rows = []
        # signal_weights are relative inside the component: each signal's share of the whole score
        within = sum(comp.signal_weights.values()) if comp.signal_weights else 0.0
        for s in comp.signals:
            desc, direction = _signal_text(s)
            rule = []
            if comp.transform == "thresholds":
                th = comp.thresholds.get(s)
                rule = [f"{th[0]:g} → 0, {th[1]:g} → 100" if th else ""]
            elif comp.transform == "tiers":
                rule = [_tiers_text(s, comp.tiers[s]), pct(comp.weight * comp.signal_weights.get(s, 0.0) / within) if within else ""]
            rows.append([present.label(s), desc, direction] + rule)
        headers = ["Signal", "What it measures", "Direction"] + {"thresholds": ["Thresholds"], "tiers": ["Ranges and scores", "Share of the score"]}.get(comp.transform, [])
        out.append(f"### {esc(present.label(cname))} ({pct(comp.weight)})\n\n" + table(headers, rows, wide=(1,)))
    return "\n\n".join(out)


def _tiers_text(signal: str, tiers) -> str:
    """A tiers rule in words: each range and its score, then the no-value score."""
    from kit.analyses import scorecard

    bounds = [None, *tiers.cuts, None]
    parts = [f"{scorecard.range_text({'above': bounds[i], 'up_to': bounds[i + 1]}, signal)}: {sc:g}" for i, sc in enumerate(tiers.scores)]
    if tiers.missing is not None:
        parts.append(f"no value: {tiers.missing:g}")
    return "; ".join(parts)


def _signal_rows(signals: Any) -> tuple[list[str], list[list[Any]]]:
    """weights.json `signals` (a list of records, or a {name: {...}} mapping) as table rows: the
    evidence a client reads (correlation, odds ratio with its interval, p-value, AUC, verdict)."""
    if isinstance(signals, dict):
        records = [{"name": k, **v} for k, v in signals.items() if isinstance(v, dict)]
    elif isinstance(signals, list):
        records = [r for r in signals if isinstance(r, dict)]
    else:
        return [], []
    if not records:
        return [], []
    headers = ["Signal", "Component", "Correlation r", "Odds ratio per SD (95% interval)", "p-value", "AUC", "Retained"]
    rows = []
    for r in records:
        ratio = present.fmt(r.get("odds_ratio"), "ratio")
        ci = r.get("odds_ratio_ci")
        if isinstance(ci, list) and len(ci) == 2 and None not in ci:
            ratio += f" ({present.fmt(ci[0], 'ratio')}–{present.fmt(ci[1], 'ratio')})"
        rows.append([
            present.label(r.get("name") or r.get("signal") or ""), present.label(r.get("component") or ""),
            Raw(present.fmt(r.get("point_biserial"), "ratio")), Raw(ratio), Raw(present.fmt(r.get("p_value"), "pvalue")),
            Raw(present.fmt(r.get("auc"), "auc")), "yes" if r.get("retained") else "no" if "retained" in r else present.MISSING,
        ])
    return headers, rows


def _weights(params: Parameters, weights: dict | None, period: str | None) -> str:
    out = ["## Weights and where they came from"]
    current = {c: comp.weight for c, comp in params.score.components.items()}
    proposed = (weights or {}).get("proposed_weights") or {}
    if not weights or not proposed:
        out.append(
            "The weights in force are set in the client's parameters file. The churn correlation evidence "
            "(churn correlation notebook) is **not available yet**: once it has run, this section shows the weights "
            "the churn history supports, with their intervals."
        )
        out.append(table(["Component", "Weight in force"], [[present.label(c), pct(w)] for c, w in current.items()]))
        return "\n\n".join(out)
    out.append(
        f"Each component's weight is derived from how strongly its signals relate to churn in the client's "
        f"renewal history (churn correlation and weights of {esc(period or 'the latest run')}): a multivariate logistic "
        "regression on standardised signals, with bootstrap intervals. The table compares the proposal with "
        "the weights in force."
    )
    rows = []
    drift = 0.0
    for c in sorted(set(current) | set(proposed), key=lambda c: list(current).index(c) if c in current else 99):
        p = proposed.get(c) or {}
        w = p.get("weight") if isinstance(p, dict) else p
        lo = p.get("ci_low") if isinstance(p, dict) else None
        hi = p.get("ci_high") if isinstance(p, dict) else None
        if isinstance(w, (int, float)) and c in current:
            drift = max(drift, abs(w - current[c]))
        interval = f"{pct(lo, 1)} – {pct(hi, 1)}" if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) else present.MISSING
        rows.append([present.label(c), pct(current.get(c)) if c in current else "not in use", pct(w, 1), interval])
    out.append(table(["Component", "Weight in force", "Proposed weight", "95% interval"], rows))
    same = drift <= 0.005
    out.append(
        "The weights in force are the proposed weights."
        if same
        else f"The weights in force differ from the proposal by up to {drift * 100:.0f} points: they were set "
        "in the parameters file (for example rounded, or kept from the platform's previous configuration)."
    )
    headers, srows = _signal_rows(weights.get("signals"))
    if srows:
        out.append("### Correlation evidence per signal")
        out.append(
            "Point-biserial correlation with churn, odds ratio of a one standard deviation change with its "
            "95% confidence interval and p-value, and AUC of the signal alone, where computed; retained signals "
            "carry the weights above."
        )
        out.append(table(headers, srows))
    return "\n\n".join(out)


def _search(weights: dict | None, period: str | None) -> str:
    """How the candidate signals were found (weights.json `search`): what was tried, what was chosen, how to steer it."""
    found = (weights or {}).get("search")
    if not isinstance(found, dict) or not found.get("tried"):
        return ""
    rows = [[present.label(s), esc(catalog.definition_of(s))] for s in found.get("chosen", [])]
    windows = ", ".join(str(w) for w in (found.get("settings") or {}).get("windows", []))
    return "\n\n".join([
        "## How the candidate signals were found",
        f"The signals are searched from the data, not taken from a fixed list (churn correlation and weights of {esc(period or 'the latest run')}). "
        f"For each of the **{found['measures']} activities** the data records (each usage column, tickets, CSAT, days to resolve, "
        "late invoices, NPS, contacts' activity) the kit builds a family of signals: totals, means over all days and over the "
        "days with a record, highest and lowest values, the share of days with a record, days since the last record, the change "
        f"against the window before, per seat and per active user, over windows of {esc(windows)} days. "
        f"**{found['tried']:,} signals were tried** on the {found['fitted_on']:,} renewals before {esc(found['cut'])} only (the later "
        "ones judge the result): per activity the strongest of each kind (how much, how often or how recently, which way), a "
        "signal counted only when churned renewals rank riskier on it even after allowing for the many signals tried on its "
        "activity, near-duplicates folded into the strongest. "
        f"**{len(found.get('chosen', []))} became candidates**:",
        table(["Candidate signal", "Definition"], rows, wide=(1,)),
        "To steer the search, the parameters file takes `search: {pin: [...], forbid: [...]}`: a pinned signal is always a "
        "candidate, a forbidden one (a name, or a pattern such as `feature_api_calls_*` or `*_days_since`) is never tried; "
        "`search.windows` sets the windows and `search.max_candidates` the number of candidates.",
    ])


def _scorecard(card: dict | None, period: str | None, max_tiers: int = 10) -> str:
    """The proposed scorecard as a client admin types it into the CS platform (from scorecard.json): each card, how
    it was chosen, and which segments have a card of their own."""
    from kit.analyses import scorecard

    if not card or not card.get("measures"):
        return ""
    fit, ev = card["fitted_on"], card["evaluated_on"]
    out = [
        "## The proposed scorecard",
        f"A scorecard the CS platform can run as it is (back-test of {esc(period or 'the latest run')}): each measure's "
        f"value falls in one of its ranges (up to {max_tiers}, as many as the evidence supports), which earns a score from "
        "0 to 100, and a measure without a value earns its *no value* score. A value equal to a range's upper bound "
        f"belongs to that range. {esc(scorecard.describe_all(card))}. "
        f"It was fitted on {fit['renewals']:,} renewals from {esc(fit['from'])} to {esc(fit['to'])} and judged on "
        f"{ev['renewals']:,} later renewals ({esc(ev['from'])} to {esc(ev['to'])}) that it had not seen; the back-test "
        "report shows how it did.",
        "How it was chosen, on the renewals before the cut only: **the ranges** of each measure are the exact best monotone "
        "split of its values, as many as renewals held out in time support; each range scores its churn risk, estimated from "
        "its own renewals and steadied towards a smooth curve where they are few. **The weights** come from a penalised "
        "regression of churn on the range scores, in which more points never mean more churn; a single measure replaces them "
        "only when it ranks churn clearly better alone. **The bands**: red catches as much churn as a red share of at most "
        "the set limit allows, green starts where few churned renewals fall, both set so they hold for the renewals to come, "
        "not only for those they were fitted on. **A segment's own card** is adopted only where it ranks that segment's "
        "renewals reliably better than the overall card on renewals it was not fitted on.",
    ]
    for seg, c in scorecard.cards(card).items():
        rows, last = [], None
        for r in scorecard.tier_rows(c, people=True):
            first = r["measure"] != last  # a measure's name and weight on its first row only: the rows below are its ranges
            last = r["measure"]
            rows.append([present.label(r["measure"]) if first else "", pct(r["weight"]) if first else "", r["range"],
                         f"{r['score']:g}", Raw(present.badge(r["colour"]))])
        if card.get("segments"):
            words = scorecard.applies_to(seg, card)
            out.append(f"### {esc(words[:1].upper() + words[1:])}")
        out.append(table(["Measure", "Weight", "Value range", "Score", "Band"], rows, wide=(2,)))
        out.append(f"Bands: {esc(scorecard.bands_text(c['bands']))}. How they were chosen: {esc(c['bands']['criterion'])}.")
    decided = (card.get("resolver") or {}).get("decisions") or []
    if decided:
        out.append("Segments with a card of their own to try: " + "; ".join(
            f"{esc(d['segment'])}, {'adopted' if d['adopted'] else 'not adopted'}" for d in decided) + ".")
    out.append(
        "To adopt it: in Gainsight, one scorecard per group of rows of `scorecard_gainsight.csv` (its `applies_to` is the "
        "Scorecard Resolver's criterion), one measure per group of rows with its weight and a rule per range; in ChurnZero, "
        "one ChurnScore per `churnscore` of `scorecard_churnzero.csv`, one factor per measure with its point grid; in the "
        "kit, paste `proposed_scorecard.yml` over `score:` in the parameters file, so the back-test and the monthly "
        "maintenance check judge the adopted scorecard.")
    return "\n\n".join(out)


def _bands(params: Parameters) -> str:
    from kit.analyses import scorecard

    b = params.score.bands
    green = [[Raw(present.badge("green")), f"{b.green:g} or more", "healthy"]] if b.green <= 100 else []
    own = "; ".join(f"{esc(seg)}: {scorecard.bands_text(c.bands.model_dump())}" for seg, c in params.score.segments.items())
    return "\n\n".join([
        "## Bands and the at-risk rule",
        table(
            ["Band", "Score", "Meaning"],
            [
                *green,
                [Raw(present.badge("yellow")), f"{b.red:g} or more" if b.green > 100 else f"{b.red:g} to below {b.green:g}", "watch"],
                [Raw(present.badge("red")), f"below {b.red:g}", "critical"],
            ],
        ),
        *([f"Segments scored by a card of their own have its bands: {own}."] if own else []),
        f"An account is **at risk** when its weekly score stays below {b.red:g} for "
        f"{params.score.at_risk_weeks} consecutive weeks. The trend indicator is the change in score over the "
        f"last {params.score.trend_days} days. Signals and back-test scores are taken "
        f"{params.lead_time_days} days before each renewal, so the score is judged on warning early enough to act.",
    ])


def _reading(params: Parameters) -> str:
    b = params.score.bands
    return "\n\n".join([
        "## How to read green, yellow and red, and when to act",
        table(
            ["Band", "What it tells the CSM", "What to do"],
            [
                [Raw(present.badge("green")), "usage, support, billing, sentiment and relationship look healthy together",
                 "keep the normal cadence; look for expansion"],
                [Raw(present.badge("yellow")), f"one or more components are weak (score {b.red:g}–{b.green:g})",
                 "open the component breakdown, find the weak signal, address it at the next touchpoint"],
                [Raw(present.badge("red")), f"the account scores below {b.red:g}",
                 "contact the account this week; if it stays red for "
                 f"{params.score.at_risk_weeks} weeks it is at risk and the at-risk playbook starts"],
            ],
        ),
        "A falling trend matters even in green: a drop of 10 points or more in "
        f"{params.score.trend_days} days deserves a look before the band changes. The score is a prompt to "
        "talk to the customer, not a verdict.",
    ])


NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _accounts(params: Parameters) -> str:
    """How the monthly report scores every account, names what moved it, forecasts the renewals ahead and judges the
    score itself: in words, with the figures the code uses (kit.analyses.accounts, kit.analyses.stats)."""
    from kit.analyses import accounts, stats

    m, b = params.maintenance, params.score.bands
    days, later = accounts.EARLIER
    stable, shifted = m.score_stability.amber, m.score_stability.red
    return "\n\n".join([
        "## Each account, every month",
        "Every month the maintenance report scores each active account (created by the month's last day and not churned) "
        "as at that day, by the scorecard in force: the one the latest back-test recommended, a segment's own card where "
        "one was adopted, else the score described above. The full list goes to the CS team as a spreadsheet; the "
        "Accounts page shows the portfolio, the accounts at risk and the month's biggest drops.",
        "**Points.** A score is a weighted mean: each measure scores 0 to 100 (its range's score, or its percentile) and "
        "adds that score times its share of the weights of the measures with a value. These *points* add up to the "
        "account's score exactly. A measure without a value earns its range card's *no value* score; without one, it adds "
        "nothing and its weight goes to the others.",
        f"**What moved the score.** The change is the score at the month's last day minus the score {days} days earlier "
        f"(the score {later} days earlier is shown too). Because a score is a sum of points, the change is exactly the "
        f"sum of each measure's change in points: the {NUMBER_WORDS.get(accounts.REASONS, accounts.REASONS)} measures whose points changed most, up or down, "
        "are named as its reasons, each with its change in points and its value then and now.",
        f"**At risk, and what is at stake.** An account is at risk when each of its last {params.score.at_risk_weeks} "
        f"weekly scores is below red ({b.red:g}, or its segment card's red). The ARR at risk is the ARR of those accounts; "
        "accounts and ARR are counted by band and by segment, and the renewals ahead within "
        f"{', '.join(str(d) for d in accounts.RENEWAL_WINDOWS[:-1])} and {accounts.RENEWAL_WINDOWS[-1]} days, by band.",
        f"**A forecast that is checked.** The renewals due in the next {accounts.HORIZON} days each churn at their band's "
        "churn rate among the renewals after the latest back-test's cut, renewals the card had not been fitted on. The "
        "expected churned accounts and ARR are the sums of those rates (times the ARR); the 95% interval counts both the "
        "chance in each renewal and the error of the rates themselves, estimated from a limited number of renewals. The "
        "forecast keeps the renewals it counted, and once all of them have happened, each later month's report sets it "
        "against how many of those very accounts churned and their ARR.",
        "**Is the score still the score?** Credit scoring asks this every month, and so does the report. *Score "
        "stability* compares the month's scores with the scores of the accounts active when the card was fitted (a year "
        f"earlier before there is a back-test), in ten bands of ten points, by the population stability index (PSI): the "
        "sum over bands of the change in the band's share times the logarithm of the ratio of the shares. Below "
        f"{stable:.2f} the population is stable, above {shifted:.2f} it has shifted; in between, investigate. With fewer than "
        f"{stats.PSI_MIN_COUNT} accounts a band on average on either side the index is too noisy, and the report says so "
        "rather than raise an alarm. The same index for each measure names the one that moved most. *Score "
        f"discrimination* scores the renewals of the last {NUMBER_WORDS.get(accounts.DISCRIMINATION_MONTHS, accounts.DISCRIMINATION_MONTHS)} months as the back-test does "
        f"({params.lead_time_days} days before each) and compares how well the score ranks churned above renewed accounts "
        "(the AUC) with the back-test's, with a 95% interval (DeLong's method): red when the back-test's AUC lies above "
        "that interval.",
        "**Is the platform running the card that was designed?** Once the client adopts a scorecard, the report "
        "recomputes every account's score from the exports by that card, as at the date of the platform's latest score, "
        f"and lists the accounts whose platform score differs by more than {m.score_tolerance:g} "
        f"point{'' if m.score_tolerance == 1 else 's'}, each with the "
        "measure that explains the gap where one does: a range typed wrong, or a measure that stopped syncing.",
    ])


def _recalibration(params: Parameters, schedule: maintenance.Schedule | None = None) -> str:
    def rows(cadence):
        return [[f"{c.title}: {c.measures}", *limit_text(params, c.name), c.action] for c in CHECKS.values() if c.cadence == cadence]

    return "\n\n".join([
        "## Recalibration guide",
        "Every month the maintenance notebook checks the score and its inputs against these thresholds and "
        "publishes a report (see *Maintenance*). Amber warns; red needs the action shown.",
        "### Monthly checks",
        table(["Check", "Amber", "Red", "Action when red"], rows(MONTHLY), wide=(0, 3)),
        "### Quarterly checks",
        "Run when the month closes a quarter, in addition to the monthly checks."
        + (f" {esc(schedule.text)}" if schedule else ""),
        table(["Check", "Amber", "Red", "Action when red"], rows(QUARTERLY), wide=(0, 3)),
        "### Every 6 to 12 months",
        "Recalibrate the whole model on the latest churn and renewal history: rerun the weighting and "
        "back-test notebooks, compare the proposed weights with those in force, and adopt them when the "
        "back-test improves.",
    ])
