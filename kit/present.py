"""What the client reads: labels, number formats, tables, status badges and report text.

Every notebook and every generated page of the site goes through this module, so a number,
a label or a status looks the same wherever it appears (the nbconvert HTML report, the Quarto
site, JupyterLab):

* `LABELS` is the one table of human labels for checks, metrics, columns, signals, components
  and configurations; `label(key)` looks a key up (unknown keys are turned into words).
* `KINDS` gives the kind of number behind a key; `fmt(value, kind)` formats one value and
  `fmt_values(values, kind)` a column: percent, AUC (2 decimals), money (thousands separators),
  counts, days, hours, p-values (scientific notation), ... with great_tables' formatters.
* `table(frame, kinds=..., labels=..., badges=...)` turns a polars frame into a table (great_tables
  builds the HTML; no index column, labels from `LABELS`, numbers by kind, status as badges).
* `badge(status)` is a status as a CSS-styled badge (red, amber, yellow, green, not checked).
* `md(text)` is Markdown that pandoc (Quarto) reads as CommonMark (nbconvert) does.

Why tables are Markdown outputs and not HTML outputs: Quarto treats any notebook output with a
`text/html` (or `application/javascript`) representation as a possible JavaScript widget and adds
require.js and jQuery from a CDN to the page (quarto-cli src/core/jupyter/widgets.ts). A `Table`
therefore displays as `text/markdown` holding one line of HTML: nbconvert passes it through as
an HTML block, pandoc as raw HTML; its text is escaped for both (HTML entities for the characters
Markdown would read as emphasis, math, code or links). The look comes from `present.css`, which
the site links and the nbconvert reports inline.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from kit import catalog, checks, status

CSS_FILE = Path(__file__).with_name("present.css")
# the site's icon: a green/amber/red health mark, drawn inline (no file to fetch from anywhere)
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#2e7d32"/>'
    '<path d="M8 1a7 7 0 0 1 6.06 10.5L8 8z" fill="#b45309"/><path d="M14.06 11.5A7 7 0 0 1 8 15V8z" fill="#c62828"/></svg>\n'
)
MISSING = "–"

# ---------------------------------------------------------------------------- the table of labels

LABELS: dict[str, str] = {
    # maintenance checks: their titles are kit.checks' (added below); their thresholds (params.maintenance)
    "churned_healthy_share": "Churned accounts scored healthy",
    "sync_staleness_hours": "Hours since last successful sync",
    "recalibration_drift": "Weight drift",
    # statuses and bands
    **{w: w for w in status.WORDS},
    "status": "Status", "band": "Band", "worse": "Worse when",
    # back-test metrics (backtest.json) and candidate configurations
    "auc": "AUC",
    "churned_green_share": "Churned scored green",
    "red_precision": "Red precision",
    "red_recall": "Red recall",
    "false_positive_rate": "False positive rate",
    "false_negative_rate": "False negative rate",
    "arr_flagged_share": "Churned ARR flagged red",
    "lead_time_days_median": "Median days flagged ahead",
    "reweighted_share": "Re-weighted scores",
    "renewals": "Renewals",
    "churned": "Churned",
    "accounts": "Accounts",
    "churn_rate": "Churn rate",
    "churned_arr": "Churned ARR",
    "red_threshold": "Red threshold", "red_share": "Scored red",
    "red_churn_rate": "Churn rate, red",
    "yellow_churn_rate": "Churn rate, yellow",
    "green_churn_rate": "Churn rate, green",
    "configuration": "Weights", "config": "Weights",
    "current": "Current weights", "proposed": "Proposed weights", "equal": "Equal weights",
    "platform": "Your platform score", "scorecard": "Proposed scorecard",
    # the back-test's time split and the proposed scorecard (kit.analyses.backtest_report, kit.analyses.scorecard)
    "candidate": "Candidate", "fitted_on": "Fitted on", "auc_in_sample": "AUC before the cut",
    "auc_out_of_time": "AUC after the cut", "renewals_out_of_time": "Renewals after the cut", "model": "Model",
    "red_range": "Red (scores 0)", "yellow_range": "Yellow", "green_range": "Green (scores 100)",
    "no_value_score": "No value scores", "why_not": "Why it is not a measure",
    "red_renewals": "Renewals, red", "yellow_renewals": "Renewals, yellow", "green_renewals": "Renewals, green",
    "measure": "Measure", "range": "Value range", "fit_renewals": "Renewals before the cut",
    "fit_churn_rate": "Churn before the cut", "ranges": "Ranges", "heldout": "Held-out log-likelihood by number of ranges",
    "signal_kind": "Kind", "share_with_value": "With a value", "gain": "Churn information (log-likelihood gain)",
    "verdict": "Verdict", "range_score": "Score",
    "case": "Case", "count": "Count", "examples": "Examples", "meaning": "Meaning", "note": "Note",
    # weighting (weights.json, kit.analyses.weights)
    "rank": "Rank", "name": "Signal", "signal": "Signal", "component": "Component", "n": "Renewals",
    "missing_share": "Missing",
    "point_biserial": "Correlation r",
    "odds_ratio": "Odds ratio per SD",
    "or_low": "Odds ratio, low", "or_high": "Odds ratio, high",
    "p_value": "p-value",
    "retained": "Retained", "reason": "Verdict",
    "coefficient": "Coefficient", "se": "Std. error", "vif": "VIF",
    "ci_low": "95% interval, low", "ci_high": "95% interval, high",
    "current_within_interval": "Current within interval",
    "weight": "Weight", "definition": "Definition", "healthy when": "Healthy when",
    # components and signals (kit.catalog)
    "usage": "Usage", "support": "Support", "billing": "Billing", "sentiment": "Sentiment",
    "relationship": "Relationship", "account": "Account",
    "active_users_per_seat": "Active users per seat",
    "logins_per_active_user": "Logins per active user",
    "active_users_change_30d": "Change in active users (30 days)",
    "tickets_90d": "Tickets (90 days)",
    "open_high_priority_tickets": "Open high-priority tickets",
    "mean_csat_90d": "Mean CSAT (90 days)",
    "days_to_resolve_90d": "Days to resolve (90 days)",
    "late_invoices_365d": "Late invoices (365 days)",
    "mean_days_late_365d": "Mean days late (365 days)",
    "latest_nps": "Latest NPS",
    "nps_change": "NPS change",
    "contacts": "Contacts",
    "champion_present": "Champion present",
    "days_since_contact_activity": "Days since contact activity",
    "tenure_days": "Tenure (days)",
    "arr": "ARR",
    # data audit (kit.analyses.audit_checks, kit.analyses.audit_report, kit.io.load.summary)
    "severity": "Severity", "dimension": "Dimension", "table": "Table", "column": "Column", "field": "Field",
    "check": "Check", "failing": "Failing", "of": "Of", "share": "Share", "score": "Score", "checks": "Checks",
    "failing checks": "Failing checks", "rescaled weight": "Share of the score", "points": "Points",
    "source": "Source", "rows": "Rows", "notes": "Notes",
    "missing_values": "Blank values",
    "empty_table": "Empty table",
    "table_unavailable": "Table not available",
    "encoding": "File encoding",
    "duplicate_key": "Duplicate ids",
    "duplicate_rows": "Duplicate rows",
    "orphans": "Records of unknown accounts",
    "unknown_parent": "Unknown parent account",
    "hierarchy_cycle": "Circular account hierarchy",
    "unparseable_date": "Unreadable dates",
    "unparseable_datetime": "Unreadable dates/times",
    "unparseable_number": "Unreadable numbers",
    "unparseable_integer": "Unreadable whole numbers",
    "unparseable_bool": "Unreadable yes/no values",
    "unknown_label": "Unknown labels",
    "ambiguous_date_format": "Ambiguous date format",
    "negative_value": "Negative values",
    "out_of_range": "Values out of range",
    "future_date": "Dates after the period end",
    "before_account_created": "Dated before the account was created",
    "resolved_before_created": "Resolved before created",
    "renewal_before_contract_start": "Renewal before contract start",
    "due_before_issued": "Due before issued",
    "paid_before_issued": "Paid before issued",
    "closed_before_created": "Closed before created",
    "finished_before_started": "Finished before started",
    "arr_billing_mismatch": "CRM ARR differs from billing",
    "renewal_outcome_missing": "Renewal without outcome",
    "renewal_date_behind": "Renewal date behind the renewals table",
    "volume_change": "Row count change",
    "coverage": "Coverage",
    "no_owner": "Accounts without a CSM owner",
    "stale_source": "Stale source",
    "completeness": "Completeness", "uniqueness": "Uniqueness", "integrity": "Integrity", "validity": "Validity",
    "consistency": "Consistency", "freshness": "Freshness",
    # canonical tables and columns (kit.contract)
    "health_scores": "Health scores", "ctas": "CTAs", "sync_log": "Sync log", "platform_logins": "Platform logins",
    "team": "Team", "tickets": "Tickets", "invoices": "Invoices", "surveys": "Surveys",
    "account_name": "Account name", "parent_account_id": "Parent account", "csm_owner": "CSM owner", "seats": "Seats",
    "contract_start": "Contract start", "industry": "Industry", "contact_id": "Contact", "email": "E-mail",
    "role": "Role", "last_activity_at": "Last activity", "active_users": "Active users", "ticket_id": "Ticket",
    "resolved_at": "Resolved", "priority": "Priority", "csat": "CSAT", "invoice_id": "Invoice", "issued_at": "Issued",
    "paid_at": "Paid", "amount": "Amount", "responded_at": "Responded", "nps": "NPS", "arr_before": "ARR before",
    "arr_after": "ARR after", "started_at": "Started", "finished_at": "Finished", "records": "Records", "error": "Error",
    "active": "Active",
    # records behind a maintenance check
    "account_id": "Account", "renewal_date": "Renewal date", "outcome": "Outcome", "score_date": "Score date",
    "kind": "Kind", "last_success": "Last successful sync", "hours": "Hours", "user": "User", "owner": "Owner",
    "logins": "Logins", "active_days": "Days active", "business_days": "Business days", "days_active_share": "Share of days active",
    "cta_id": "CTA", "due_at": "Due", "closed_at": "Closed", "type": "Type", "segment": "Segment",
    "created_at": "Created", "last_score_date": "Last score", "failures": "Failures", "date": "Date", "period": "Period",
    "value": "Value", "threshold": "Threshold", "detail": "Detail", "action": "Recommended action", "title": "Check",
    # a card per segment (the back-test's resolver table)
    "cv_auc_overall": "AUC of the overall card, before the cut", "cv_auc_own": "AUC of its own card, before the cut",
    "own_card": "Its own card", "auc_overall_out_of_time": "AUC of the overall card, after the cut",
    "auc_own_out_of_time": "AUC of its own card, after the cut",
}
LABELS.update({c.name: c.title for c in checks.CHECKS.values()})

# The kind of number behind a key (see `fmt`). Keys not listed are formatted by their type.
KINDS: dict[str, str] = {
    "auc": "auc", "churned_green_share": "percent", "red_precision": "percent", "red_recall": "percent",
    "false_positive_rate": "percent", "false_negative_rate": "percent", "arr_flagged_share": "percent",
    "reweighted_share": "percent", "lead_time_days_median": "days",
    "renewals": "count", "churned": "count", "accounts": "count", "churn_rate": "percent", "arr": "money",
    "churned_arr": "money", "red_threshold": "score", "red_churn_rate": "percent", "yellow_churn_rate": "percent",
    "green_churn_rate": "percent", "count": "count", "n": "count", "rank": "count", "missing_share": "percent",
    "point_biserial": "ratio", "odds_ratio": "ratio", "or_low": "ratio", "or_high": "ratio", "p_value": "pvalue",
    "retained": "bool", "coefficient": "ratio", "se": "ratio", "vif": "ratio", "ci_low": "percent", "ci_high": "percent",
    "proposed": "percent", "current": "percent", "equal": "percent", "weight": "percent",
    "current_within_interval": "bool", "failing": "count", "of": "count", "share": "percent1", "score": "score",
    "checks": "count", "failing checks": "count", "rescaled weight": "percent", "points": "score", "rows": "count",
    "status": "status", "band": "status", "hours": "hours", "logins": "count", "active_days": "count",
    "business_days": "count", "days_active_share": "percent", "failures": "count", "renewal_date": "date",
    "score_date": "date", "last_score_date": "date", "due_at": "date", "closed_at": "date", "created_at": "date",
    "date": "date", "last_success": "datetime",
    "red_share": "percent", "scorecard": "percent", "auc_in_sample": "auc", "auc_out_of_time": "auc",
    "renewals_out_of_time": "count", "no_value_score": "count", "red_renewals": "count", "yellow_renewals": "count",
    "green_renewals": "count", "candidate": "label", "fit_renewals": "count", "fit_churn_rate": "percent",
    "ranges": "count", "share_with_value": "percent", "gain": "ratio", "measure": "label", "range_score": "count",
    "configuration": "label", "config": "label", "component": "label", "name": "label", "signal": "label",
    "dimension": "label", "check": "label", "severity": "label",
    "cv_auc_overall": "auc", "cv_auc_own": "auc", "auc_overall_out_of_time": "auc", "auc_own_out_of_time": "auc",
}

@dataclass(frozen=True)
class Unit:
    """How a value of a unit reads: its number kind (`fmt`), and on a chart axis, the factor and the title."""

    kind: str
    scale: float
    axis: str


# the units of the maintenance checks (kit.checks): a share reads as a percentage, a weight drift in points
UNITS = {"share": Unit("percent", 100, "%"), "count": Unit("count", 1, "count"), "hours": Unit("hours", 1, "hours"),
         "months": Unit("months", 1, "months"), "weight": Unit("points", 100, "points"), "index": Unit("ratio", 1, "index")}
NUMBER = Unit("number", 1, "")

BADGE_STATUSES = status.WORDS
# other statuses shown as badges, and the colour they take
BADGE_COLOURS = {"good": "green", "fair": "amber", "poor": "red", "blocked": "red",
                 "critical": "red", "error": "amber", "warning": "yellow", "retained": "green",
                 "loaded": "green", "unavailable": "not checked"}


def key_of(name: str) -> str:
    return str(name).strip().lower()


def label(key: Any) -> str:
    """The human label of a key: from `LABELS`, else the key in words (underscores to spaces, capitalised)."""
    k = key_of(key)
    if k in LABELS:
        return LABELS[k]
    generated = catalog.label_of(k)
    if generated:
        return generated
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def kind_of(key: Any) -> str | None:
    k = key_of(key)
    if k.startswith("flagged ") and k.endswith(" days ahead"):  # "flagged 120+ days ahead": the goal is lead_time_days
        return "percent"
    return KINDS.get(k)


# ---------------------------------------------------------------------------- text


_ESCAPE = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
           **{c: f"&#{ord(c)};" for c in "\\`*_{}[]#|$~^"}}


def text(value: Any) -> str:
    """Plain text for an HTML block inside Markdown: HTML-escaped, and the characters Markdown reads
    as emphasis, code, links or math written as entities (pandoc parses text inside HTML blocks)."""
    return "".join(_ESCAPE.get(ch, ch) for ch in ("" if value is None else str(value)))


def md_text(value: Any) -> str:
    """Text from data or parameters, safe inside Markdown prose (no emphasis, links, math, citations)."""
    s = "" if value is None else str(value)
    s = s.replace("\r", " ").replace("\n", " ")
    return "".join("\\" + ch if ch in "\\`*_{}[]<>#|$@~^" else ch for ch in s)


# names the kit writes into messages (parameter paths, column names): shown as code, not prose
_IDENT = re.compile(
    r"(?<![\w.@/-])((?:sources|score|weighting|backtest|maintenance|audit|publish)(?:\.[A-Za-z0-9_]+)+"
    r"|[a-z][a-z0-9]*(?:\.[a-z0-9_]+)*_[a-z0-9_.]*[a-z0-9])(?![\w@/-])"
)


_P_VALUE = re.compile(r"\bp = (\d+(?:\.\d+)?(?:e[-+]?\d+)?)")


def _message(value: Any, code, plain) -> str:
    """A message written by the kit with p-values in scientific notation and the names in it written
    by `code`, the rest by `plain`."""
    out = []
    for i, part in enumerate(_P_VALUE.split("" if value is None else str(value))):
        if i % 2:
            out.append("p = " + fmt(float(part), "pvalue"))
        else:
            out += [code(p) if j % 2 else plain(p) for j, p in enumerate(_IDENT.split(part))]
    return "".join(out)


def prose(value: Any) -> str:
    """A message written by the kit, as HTML: escaped (`text`), p-values in scientific notation,
    parameter and column names (`weighting.max_missing_share`, `renewal_date`) in <code>."""
    return _message(value, lambda p: f"<code>{text(p)}</code>", text)


def md_prose(value: Any) -> str:
    """The same for Markdown: names in backticks (code spans already there are kept), the rest escaped
    (`md_text`)."""
    chunks = re.split(r"(`[^`]*`)", "" if value is None else str(value))
    return "".join(c if i % 2 else _message(c, lambda p: f"`{p}`", md_text) for i, c in enumerate(chunks))


_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+\S")
_BLOCK_START = re.compile(r"^\s{0,3}(?:#{1,6}\s|>)")


def md(source: str) -> str:
    """Markdown that pandoc reads as CommonMark does: a list, a quote or a heading right after a
    paragraph line gets the blank line pandoc needs (CommonMark needs none, so nbconvert and
    JupyterLab showed such lists while Quarto ran them into the paragraph)."""
    out: list[str] = []
    in_list = False
    fence = False
    for line in source.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        item = not fence and bool(_LIST_ITEM.match(line))
        block = not fence and bool(_BLOCK_START.match(line))
        prev = out[-1] if out else ""
        if (item and not in_list or block) and prev.strip():
            out.append("")
        if item:
            in_list = True
        elif not line.strip():
            in_list = False
        elif in_list and not line.startswith((" ", "\t")):
            in_list = False  # a lazy continuation ends at the next block anyway
        out.append(line)
    return "\n".join(out)


# ---------------------------------------------------------------------------- numbers


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and not math.isfinite(v))


def percent(x: float | None, decimals: int | None = 0) -> str:
    """A share (0.25) as a percent in running text ('25%'), with `decimals` places; None: exactly the share, to 10
    places (a cut of 0.5945 reads 59.45%, never a rounded 59.5%); a missing value: MISSING. Tables use `fmt`."""
    if _missing(x):
        return MISSING
    return f"{round(100 * x, 10):g}%" if decimals is None else f"{100 * x:.{decimals}f}%"


def percent_short(x: float | None) -> str:
    """A share as a percent, whole when it is whole ('25%'), else with one decimal ('12.5%')."""
    return percent(x, 0 if x is not None and x * 100 == round(x * 100) else 1)


def fmt_values(values: Sequence[Any], kind: str | None) -> list[str]:
    """Format a column of values by kind; missing values show as an en dash. The result is safe
    in HTML and in Markdown (p-values carry a <sup> exponent)."""
    from great_tables import vals

    values = list(values)
    present = [i for i, v in enumerate(values) if not _missing(v)]
    out = [MISSING] * len(values)
    if not present:
        return out
    kind = kind or _kind_by_type(values[present[0]])
    xs = [values[i] for i in present]
    if kind in ("status", "badge"):
        done = [badge(x) for x in xs]
    elif kind == "bool":
        done = ["yes" if x else "no" for x in xs]
    elif kind in ("html", "figure"):  # formatted already: text (e.g. a threshold in words) or a number
        done = [str(x) for x in xs]
    elif kind == "prose":
        done = [prose(x) for x in xs]
    elif kind == "label":
        done = [text(label(x)) for x in xs]
    elif kind == "code":
        done = [f"<code>{text(x)}</code>" for x in xs]
    elif kind == "date":
        done = [x.isoformat()[:10] if isinstance(x, (date, datetime)) else text(x) for x in xs]
    elif kind == "datetime":
        done = [x.strftime("%Y-%m-%d %H:%M") if isinstance(x, datetime) else text(x) for x in xs]
    elif kind in ("text", "list") or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs):
        done = [text(", ".join(map(str, x)) if isinstance(x, (list, tuple)) else x) for x in xs]
    elif kind.startswith("percent"):
        done = vals.fmt_percent(xs, decimals=int(kind[7:] or 0))
    elif kind == "change":
        done = vals.fmt_percent(xs, decimals=0, force_sign=True)
    elif kind in ("auc", "ratio", "number"):
        done = vals.fmt_number(xs, decimals=2)
    elif kind == "score":
        done = vals.fmt_number(xs, decimals=1)
    elif kind in ("money", "count", "days", "hours", "months", "integer"):
        done = vals.fmt_integer(xs)
        if kind in ("hours", "months"):
            unit = "h" if kind == "hours" else "month"
            done = [f"{d} {unit}" + ("s" if kind == "months" and d != "1" else "") for d in done]
    elif kind == "points":
        done = [f"{d} points" for d in vals.fmt_number([x * 100 for x in xs], decimals=0)]
    elif kind == "pvalue":
        done = vals.fmt_scientific(xs, decimals=1)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    for i, d in zip(present, done):
        out[i] = d
    return out


def fmt(value: Any, kind: str | None = None) -> str:
    """One value formatted by kind (see `fmt_values`)."""
    return fmt_values([value], kind)[0]


def _kind_by_type(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "count"
    if isinstance(v, float):
        return "number"
    if isinstance(v, datetime):
        return "datetime"
    if isinstance(v, date):
        return "date"
    return "text"


def threshold_text(threshold: Mapping | None, kind: str) -> str:
    """A maintenance threshold {amber, red, worse} in words: 'red > 20%, amber > 15%'."""
    if not isinstance(threshold, Mapping):
        return MISSING
    op = "&gt;" if threshold.get("worse", "higher") == "higher" else "&lt;"
    if threshold.get("red") is None:  # red by a rule of its own (a significant drop), amber by a limit
        rule, amber = threshold.get("rule"), threshold.get("amber")
        return f"red {text(rule)}, amber {op} {fmt(amber, kind)}" if rule and amber is not None else MISSING
    red = f"red {op} {fmt(threshold['red'], kind)}"
    amber = threshold.get("amber")
    if amber is None or amber == threshold["red"]:
        return red
    return f"{red}, amber {op} {fmt(amber, kind)}"


# ---------------------------------------------------------------------------- badges


def badge(status: Any) -> str:
    """A status as a CSS-styled badge (classes `kit-badge kit-badge-<status>`, see present.css)."""
    s = "" if status is None else str(status).strip().lower()
    colour = BADGE_COLOURS.get(s, s)
    cls = colour.replace(" ", "-") if colour in BADGE_STATUSES else "other"
    return f'<span class="kit-badge kit-badge-{cls}">{text(s or MISSING)}</span>'


# ---------------------------------------------------------------------------- tables


@dataclass
class Table:
    """A formatted table; displays as Markdown holding one line of HTML (see the module docstring)."""

    html: str
    plain: str

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/markdown": self.html, "text/plain": self.plain}

    def __str__(self) -> str:
        return self.html


def table(
    frame,
    *,
    kinds: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    columns: Iterable[str] | None = None,
    transpose: str | None = None,
    note: str | None = None,
    max_rows: int | None = None,
    wide: Iterable[str] = (),
) -> Table:
    """A polars frame (or a list of row dicts) as a client-ready table.

    kinds: column -> kind (`fmt`), defaulting to `KINDS` and then the column's type; labels: column
    -> header, defaulting to `LABELS`; columns: which columns, in order (default all);
    transpose: the name of a column whose values become the headers (each other column becomes a
    row: for a few candidates compared on many metrics); note: a line under the table; max_rows:
    show the first rows and say how many there are; wide: text columns holding sentences, given
    room (a minimum width) so they do not squeeze into a tall narrow column.
    """
    import polars as pl

    if not isinstance(frame, pl.DataFrame):
        frame = pl.DataFrame(list(frame), infer_schema_length=None)
    kinds = dict(kinds or {})
    labels = dict(labels or {})
    cols = list(columns) if columns is not None else list(frame.columns)
    frame = frame.select(cols)
    total = frame.height
    if max_rows is not None and total > max_rows:
        frame = frame.head(max_rows)
        note = f"First {max_rows:,} of {total:,} rows." + (f" {note}" if note else "")

    def head(c: str) -> str:
        return text(labels.get(c) or label(c))

    def kind(c: str) -> str | None:
        return kinds.get(c) or kind_of(c) or _dtype_kind(frame.schema[c])

    if transpose:  # one row per metric, one column per value of `transpose`
        names = [str(v) for v in frame.get_column(transpose).to_list()]
        rows = [c for c in cols if c != transpose]
        # each metric formatted once, by its kind; a text metric may wrap in the right-aligned (numeric) columns
        shown = {c: fmt_values(frame.get_column(c).to_list(), kind(c)) for c in rows}
        shown = {c: [f'<span class="kit-wrap">{v}</span>' for v in vs] if kind(c) in TEXT_KINDS else vs for c, vs in shown.items()}
        columns_ = [[head(c) for c in rows]]
        columns_ += [[shown[c][i] for c in rows] for i in range(len(names))]
        heads = [""] + [text(labels.get(n) or label(n)) for n in names]
        right = [False] + [True] * len(names)
        wide_ = [False] * (len(names) + 1)
    else:
        columns_ = [_kept_whole(fmt_values(frame.get_column(c).to_list(), kind(c)), kind(c)) for c in cols]
        heads = [head(c) for c in cols]
        right = [kind(c) not in TEXT_KINDS for c in cols]
        wide_ = [c in set(wide) for c in cols]
    return _render(columns_, heads, right, wide_, note)


def _kept_whole(cells: list[str], kind: str | None) -> list[str]:
    """Dates on one line: a narrow column would break them at their hyphens (present.css, kit-nowrap)."""
    if kind not in ("date", "datetime"):
        return cells
    return [c if c == MISSING else f'<span class="kit-nowrap">{c}</span>' for c in cells]


class HTML(str):
    """A cell formatted already (HTML): `rows_table` passes it through instead of escaping it."""


_NUMERIC = re.compile(r"^(?:[<>] )?[−+-]?[\d,.]+(?: × 10[−+-]?\d+)?(?:\s?(?:%|h|points?|days?|months?))?$|^–$")


def rows_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, wide: Iterable[int] = ()) -> Table:
    """A table of rows built by hand (pages written from parameters): cells are text (escaped) or
    `HTML`; a column whose cells all read as numbers is right-aligned; `wide`: column positions
    holding sentences."""
    rows = [list(r) for r in rows]
    columns = [[c if isinstance(c, HTML) else text(c) for c in col] for col in zip(*rows)] if rows else [[] for _ in headers]
    right = [bool(col) and all(_NUMERIC.match(html.unescape(re.sub(r"<[^>]+>", "", c)).strip()) for c in col) for col in columns]
    wide = set(wide)
    return _render(columns, [text(h) for h in headers], right, [i in wide for i in range(len(headers))], None)


TEXT_KINDS = ("text", "html", "prose", "label", "code", "list", "status", "badge", "bool", "date", "datetime")


def _render(columns: list[list[str]], heads: list[str], right: list[bool], wide: list[bool], note: str | None) -> Table:
    """great_tables lays the formatted cells out (they are escaped already, so GT passes them through)."""
    import polars as pl
    from great_tables import GT
    from great_tables import html as gt_html

    names = [f"c{i}" for i in range(len(columns))]
    shown = pl.DataFrame({n: col for n, col in zip(names, columns)}, schema={n: pl.String for n in names})
    g = GT(shown).fmt(columns=names, fns=lambda s: s).cols_label(**{n: gt_html(h) for n, h in zip(names, heads)})
    if any(right):
        g = g.cols_align("right", columns=[n for n, r in zip(names, right) if r])
    if not all(right):
        g = g.cols_align("left", columns=[n for n, r in zip(names, right) if not r])
    body = g.tab_options(quarto_disable_processing=True).as_raw_html(make_page=False)
    for n, w in zip(names, wide):
        if w:
            body = body.replace(f'headers="{n}" class="gt_row gt_left"', f'headers="{n}" class="gt_row gt_left kit-wide"')
    foot = f'<p class="kit-table-note">{text(note)}</p>' if note else ""
    return Table(f'<div class="kit-table">{_table_html(body)}{foot}</div>', _plain(columns, heads, note))


def _dtype_kind(dtype) -> str | None:
    import polars as pl

    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_integer():
        return "count"
    if dtype.is_float():
        return "number"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    return "text"


def _table_html(gt_html: str) -> str:
    """The <table> of great_tables' output on one line: without its <style> block (present.css
    styles every table the same way and does not leak onto the page's other tables), without
    newlines (so pandoc reads it as one HTML block) and without GT's header ids (column names)."""
    start = gt_html.index("<table")
    end = gt_html.rindex("</table>") + len("</table>")
    t = gt_html[start:end]
    t = re.sub(r'\s(?:id|headers)="[^"]*"', "", t)
    t = re.sub(r">\s+<", "><", t)
    t = re.sub(r"\s*\n\s*", " ", t)
    return t.replace('class="gt_table"', 'class="gt_table kit"')


def _plain(columns: list[list[str]], heads: list[str], note: str | None) -> str:
    """A text rendering for consoles (papermill logs): tags and entities removed."""
    def clean(s: str) -> str:
        return html.unescape(re.sub(r"<[^>]+>", "", s))

    lines = [" | ".join(clean(h) for h in heads)]
    lines += [" | ".join(clean(v) for v in row) for row in zip(*columns)]
    return "\n".join(lines + ([note] if note else []))


# ---------------------------------------------------------------------------- in a notebook


class Markdown:
    """Report text, normalised by `md`; displays as text/markdown only."""

    def __init__(self, source: str):
        self.source = md(source)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/markdown": self.source, "text/plain": self.source}


def show(*items) -> None:
    """Display tables, report text (str) or charts in a notebook."""
    from IPython.display import display

    for item in items:
        display(Markdown(item) if isinstance(item, str) else item)


def css() -> str:
    return CSS_FILE.read_text(encoding="utf-8")
