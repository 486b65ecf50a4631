"""The audit report's charts and narrative (Altair, static SVG), built from an `AuditResult`.

Every chart takes small aggregated frames: counts per check, per column or per source. The only
per-record chart (CRM ARR vs billing) shows every mismatch and at most `ARR_POINTS` others.
"""

from __future__ import annotations

import math

import polars as pl

from kit import charts
from kit import present
from kit.analyses.audit import DIMENSION_TEXT, DIMENSION_WEIGHTS, SCORE_BANDS, AuditResult, band, formula_text
from kit.analyses.audit_checks import SEVERITIES

ARR_POINTS = 1500
SEVERITY_COLOURS = {"critical": charts.PALETTE["red"], "error": charts.PALETTE["amber"], "warning": charts.PALETTE["yellow"]}
BAND_COLOURS = {"good": charts.PALETTE["green"], "fair": charts.PALETTE["amber"], "poor": charts.PALETTE["red"]}
TITLES = {d: d.capitalize() for d in DIMENSION_WEIGHTS}


def shown(score: float) -> str:
    """A score for display, rounded down: only a perfect score shows as 100.0."""
    return f"{math.floor(score * 10 + 1e-9) / 10:.1f}"


def _severity_scale():
    alt = charts.alt()
    return alt.Scale(domain=list(SEVERITIES), range=[SEVERITY_COLOURS[s] for s in SEVERITIES])


def _band_scale():
    alt = charts.alt()
    return alt.Scale(domain=list(BAND_COLOURS), range=list(BAND_COLOURS.values()))


# ---------------------------------------------------------------------------- overview


def overview_text(r: AuditResult) -> str:
    findings, blockers = r.findings, r.blockers
    n_checks = sum(1 for c in r.checks if c.scored and c.total)
    status = (
        f"**{len(blockers)} blocker(s)** must be fixed before the health score is built."
        if blockers else "No blockers: nothing stops the build phase."
    )
    records = sum(c.failing for c in findings if c.records is not None and c.dimension not in ("freshness",))
    return (
        f"Data quality score: **{shown(r.score)} / 100** ({'blocked' if blockers else band(r.score)}). "
        f"{n_checks} checks ran on {sum(1 for t in r.tables.values() if t['status'] == 'loaded')} tables; "
        f"{len(findings)} found problems affecting {records:,} records in total. {status}"
    )


def score_chart(r: AuditResult):
    """The score as a bar over its bands (poor / fair / good)."""
    alt = charts.alt()
    bounds = sorted(low for low, _ in SCORE_BANDS) + [100.0]
    labels = [label for _, label in sorted(SCORE_BANDS)]
    bands = pl.DataFrame({"from": bounds[:-1], "to": bounds[1:], "band": labels})
    base = alt.Chart(bands).mark_rect(opacity=0.25).encode(
        x=alt.X("from:Q", scale=alt.Scale(domain=[0, 100]), title="data quality score"), x2="to:Q",
        color=alt.Color("band:N", scale=_band_scale(), legend=alt.Legend(title=None, orient="bottom")),
    )
    value = pl.DataFrame({"score": [r.score], "label": [shown(r.score)]})
    bar = alt.Chart(value).mark_bar(color="#333", height=14).encode(x="score:Q")
    text = alt.Chart(value).mark_text(align="left", dx=4, fontWeight="bold").encode(x="score:Q", text="label:N")
    return (base + bar + text).properties(width=520, height=40, title="Overall score")


def dimension_frame(r: AuditResult) -> pl.DataFrame:
    dims = r.dimensions
    rows = []
    for d, w in DIMENSION_WEIGHTS.items():
        checks = [c for c in r.checks if c.dimension == d and c.scored and c.total]
        if d not in dims:
            continue
        rows.append({
            "dimension": d, "score": dims[d], "band": band(dims[d]), "weight": w,
            "checks": len(checks), "failing checks": sum(c.failed for c in checks),
        })
    return pl.DataFrame(rows, schema={"dimension": pl.String, "score": pl.Float64, "band": pl.String, "weight": pl.Float64,
                                      "checks": pl.Int64, "failing checks": pl.Int64})


def dimension_chart(r: AuditResult):
    alt = charts.alt()
    df = dimension_frame(r)
    df = df.with_columns(pl.Series("label", [shown(x) for x in df["score"]], dtype=pl.String))
    base = alt.Chart(df).encode(y=alt.Y("dimension:N", sort=list(DIMENSION_WEIGHTS), title=None))
    bars = base.mark_bar().encode(
        x=alt.X("score:Q", scale=alt.Scale(domain=[0, 100]), title="score (0-100)"),
        color=alt.Color("band:N", scale=_band_scale(), legend=None),
        tooltip=["dimension", "score", "checks", "failing checks"],
    )
    text = base.mark_text(align="left", dx=3).encode(x="score:Q", text="label:N")
    return (bars + text).properties(width=480, height=24 * max(len(df), 1), title="Score per dimension")


def field(r: AuditResult, table: str, column: str | None) -> str:
    """A field as the client knows it: the table in words and the export's own column name (HTML)."""
    where = present.text(present.label(table))
    if not column:
        return where
    return f"{where}: <code>{present.text(r.source_column(table, column) or column)}</code>"


def findings_frame(r: AuditResult, limit: int = 10) -> pl.DataFrame:
    rows = [
        {"severity": c.severity, "check": c.check, "field": field(r, c.table, c.column), "failing": c.failing,
         "of": c.total, "share": c.failing / c.total if c.total else None, "examples": ", ".join(c.examples[:2])}
        for c in r.findings[:limit]
    ]
    schema = {"severity": pl.String, "check": pl.String, "field": pl.String, "failing": pl.Int64, "of": pl.Int64,
              "share": pl.Float64, "examples": pl.String}
    return pl.DataFrame(rows, schema=schema)


def findings_table(r: AuditResult, limit: int = 10):
    """The most urgent findings as a client-ready table (kit.present)."""
    return present.table(findings_frame(r, limit), kinds={"severity": "status", "field": "html"}, wide=("check",))


def names_as_code(r: AuditResult, c, text: str) -> str:
    """A check's message as Markdown, with the canonical names in it (`tickets.resolved_at`,
    `renewal_date`) written as the export's own column names in code (what the client's admin looks
    for) and other names the kit writes (settings such as sources.tickets.date_format) in code too."""
    import re

    cols = sorted({k for k in ((r.tables.get(c.table) or {}).get("columns") or {})} | ({c.column} if c.column else set()),
                  key=len, reverse=True)
    if cols:
        pattern = re.compile(r"(?<![\w.`])(?:(" + "|".join(map(re.escape, r.tables)) + r")\.)?(" + "|".join(map(re.escape, cols)) + r")(?![\w`])")
        text = pattern.sub(lambda m: f"`{r.source_column(m.group(1) or c.table, m.group(2)) or m.group(2)}`", text)
    return present.md_prose(text)


def blockers_text(r: AuditResult) -> str:
    if not r.blockers:
        return "No critical check failed: **nothing blocks the build phase**."
    lines = [f"- **{present.md_text(present.label(c.table))}**: {names_as_code(r, c, c.message)}. "
             f"{names_as_code(r, c, c.fix[:1].upper() + c.fix[1:])}." for c in r.blockers]
    return "**Blockers for the build phase** (critical checks that failed; fix these first):\n\n" + "\n".join(lines)


def notes_text(r: AuditResult) -> str:
    """The checks that could not run, and why (Markdown)."""
    return "\n".join(f"- not checked: {n}" for n in r.notes) or "Every check could run."


def fix_first(r: AuditResult, limit: int | None = None) -> list[str]:
    """Plain-language fix list (Markdown), ranked by severity and records affected: the field as the
    client's export names it, what is wrong, the fix, examples, and the check in audit_failures.csv."""
    out = []
    for c in r.findings[:limit]:
        lead = {"critical": "**Blocker**", "error": "**Fix**", "warning": "Check"}[c.severity]
        ex = f" Examples: {present.md_text(', '.join(c.examples[:3]))}." if c.examples and not c.examples[0].startswith("(table") else ""
        fix = names_as_code(r, c, c.fix[:1].upper() + c.fix[1:]) + "." if c.fix else ""
        out.append(f"{lead} ({field_md(r, c.table, c.column)}): {names_as_code(r, c, c.message)}. {fix}{ex} "
                   f"(check `{c.check}` in `audit_failures.csv`)")
    return out


def fix_first_text(r: AuditResult, limit: int = 15) -> str:
    items = fix_first(r, limit)
    if not items:
        return "Nothing to fix: every check passed."
    more = len(r.findings) - len(items)
    tail = f"\n\n... and {more} smaller item(s), listed in `audit.json` and `audit_failures.csv`." if more > 0 else ""
    return "\n".join(f"{i}. {text}" for i, text in enumerate(items, 1)) + tail


# ---------------------------------------------------------------------------- per dimension


def field_text(r: AuditResult, table: str, column: str | None) -> str:
    """A field in plain text (chart labels): the table in words and the export's own column name."""
    return present.label(table) + (f" › {r.source_column(table, column) or column}" if column else "")


def field_md(r: AuditResult, table: str, column: str | None) -> str:
    where = present.md_text(present.label(table))
    return where + (f" `{r.source_column(table, column) or column}`" if column else "")


def dimension_text(r: AuditResult, dimension: str) -> str:
    checks = [c for c in r.checks if c.dimension == dimension]
    failing = [c for c in r.findings if c.dimension == dimension]
    score = r.dimensions.get(dimension)
    head = f"**{TITLES[dimension]}**: {DIMENSION_TEXT[dimension]}."
    if score is None:
        return head + " No check of this dimension could run on the tables provided."
    head += f" Score **{shown(score)}**; {len(checks)} checks, {len(failing)} with problems."
    if not failing:
        return head + " Every check passed."
    lines = [f"- {present.badge(c.severity)} {field_md(r, c.table, c.column)}: {names_as_code(r, c, c.message)}." for c in failing]
    return head + "\n\n" + "\n".join(lines)


def checks_chart(r: AuditResult, dimension: str):
    """Failing records per failing check of one dimension, coloured by severity (None if all passed)."""
    alt = charts.alt()
    failing = [c for c in r.findings if c.dimension == dimension]
    if not failing:
        return None
    df = pl.DataFrame([
        {"check": f"{field_text(r, c.table, c.column)}: {present.label(c.check).lower()}", "failing": c.failing, "total": c.total,
         "share": c.failing / c.total if c.total else 0.0, "severity": c.severity}
        for c in failing
    ])
    return alt.Chart(df).mark_bar().encode(
        x=alt.X("failing:Q", title="failing records", axis=charts.whole_axis(df["failing"].max())),
        y=alt.Y("check:N", sort="-x", title=None),
        color=alt.Color("severity:N", scale=_severity_scale()),
        tooltip=["check", "failing", "total", alt.Tooltip("share:Q", format=".2%"), "severity"],
    ).properties(width=420, height=24 * len(df), title=f"{TITLES[dimension]}: failing records per check")


def completeness_chart(r: AuditResult):
    """Blank rate of every column that has blanks, by what is expected of the column."""
    alt = charts.alt()
    df = r.details.get("completeness")
    if df is None:
        return None
    df = df.filter(pl.col("blank") > 0)
    df = df.with_columns(pl.Series("field", [field_text(r, t, c) for t, c in zip(df["table"], df["column"])], dtype=pl.String))
    if df.is_empty():
        return None
    scale = alt.Scale(domain=["critical", "required", "optional", "often blank"],
                      range=[charts.PALETTE["red"], charts.PALETTE["amber"], charts.PALETTE["yellow"], charts.PALETTE["grey"]])
    return alt.Chart(df).mark_bar().encode(
        x=alt.X("rate:Q", axis=alt.Axis(format="%"), title="blank"),
        y=alt.Y("field:N", sort="-x", title=None),
        color=alt.Color("expectation:N", scale=scale, title="column is"),
        tooltip=["field", "blank", "total", alt.Tooltip("rate:Q", format=".2%"), "expectation"],
    ).properties(width=420, height=22 * df.height, title="Blank values per column (grey: blank by nature, not scored)")


def arr_chart(r: AuditResult):
    """CRM ARR against billing, one point per account (log scales); mismatches in red."""
    alt = charts.alt()
    df = r.details.get("arr")
    if df is None or df.is_empty():
        return None
    check = r.find("arr_billing_mismatch")
    bad_ids = check.records["account_id"] if check is not None and check.records is not None else pl.Series([], dtype=pl.String)
    df = df.filter(pl.col("billed_arr") > 0).with_columns(pl.col("account_id").is_in(bad_ids.implode()).alias("_bad"))
    bad, good = df.filter(pl.col("_bad")), df.filter(~pl.col("_bad"))
    if good.height > ARR_POINTS:
        good = good.sample(ARR_POINTS, seed=1)
    df = pl.concat([good, bad]).select(
        "account_id", "arr", "billed_arr", (pl.col("gap") * 100).round(1).alias("gap %"),
        pl.when(pl.col("_bad")).then(pl.lit("mismatch")).otherwise(pl.lit("agrees")).alias("status"),
    )
    return alt.Chart(df).mark_circle(size=22, opacity=0.7).encode(
        x=alt.X("billed_arr:Q", scale=alt.Scale(type="log"), title="billing ARR"),
        y=alt.Y("arr:Q", scale=alt.Scale(type="log"), title="CRM ARR"),
        color=alt.Color("status:N", scale=alt.Scale(domain=["agrees", "mismatch"], range=[charts.PALETTE["grey"], charts.PALETTE["red"]])),
        tooltip=["account_id", "arr", "billed_arr", "gap %"],
    ).properties(width=380, height=300, title="CRM ARR vs billing (each point an account)")


def coverage_chart(r: AuditResult):
    alt = charts.alt()
    df = r.details.get("coverage")
    if df is None or df.is_empty():
        return None
    df = df.with_columns(
        pl.when(pl.col("expected")).then(pl.lit("expected for every account")).otherwise(pl.lit("information only")).alias("kind"),
        (pl.col("source").map_elements(present.label, return_dtype=pl.String) + " (" + pl.col("window") + ")").alias("label"),
    )
    return alt.Chart(df).mark_bar().encode(
        x=alt.X("share:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]), title="share of active accounts present"),
        y=alt.Y("label:N", sort="-x", title=None),
        color=alt.Color("kind:N", scale=alt.Scale(domain=["expected for every account", "information only"],
                                                  range=[charts.PALETTE["blue"], charts.PALETTE["grey"]]), title=None),
        tooltip=["source", "window", "covered", "accounts", alt.Tooltip("share:Q", format=".1%")],
    ).properties(width=420, height=26 * df.height, title="Coverage: active accounts present in each source")


def freshness_chart(r: AuditResult):
    alt = charts.alt()
    df = r.details.get("freshness")
    if df is None or df.is_empty():
        return None
    df = df.with_columns(
        pl.col("table").map_elements(present.label, return_dtype=pl.String),
        pl.col("age_hours").fill_null(pl.col("allowed_hours") * 2),
        pl.when(pl.col("stale")).then(pl.lit("stale")).otherwise(pl.lit("fresh")).alias("status"),
    )
    base = alt.Chart(df).encode(y=alt.Y("table:N", sort="-x", title=None))
    bars = base.mark_bar().encode(
        x=alt.X("age_hours:Q", title="hours from the latest record to the period end"),
        color=alt.Color("status:N", scale=alt.Scale(domain=["fresh", "stale"], range=[charts.PALETTE["green"], charts.PALETTE["red"]])),
        tooltip=["table", "column", "latest", "age_hours", "allowed_hours", "usual_gap_days"],
    )
    ticks = base.mark_tick(color="black", thickness=2, size=18).encode(x="allowed_hours:Q")
    return (bars + ticks).properties(width=420, height=26 * df.height, title="Freshness: age of the latest record (tick: allowed)")


def volume_chart(r: AuditResult):
    alt = charts.alt()
    df = r.details.get("volume")
    if df is None or df.is_empty():
        return None
    df = df.with_columns(pl.col("table").map_elements(present.label, return_dtype=pl.String))
    return alt.Chart(df).mark_bar().encode(
        x=alt.X("change:Q", axis=alt.Axis(format="+%"), title="row count change vs last period"),
        y=alt.Y("table:N", title=None),
        color=alt.Color("flagged:N", scale=alt.Scale(domain=[False, True], range=[charts.PALETTE["grey"], charts.PALETTE["red"]]), title="flagged"),
        tooltip=["table", "previous", "rows", alt.Tooltip("change:Q", format="+.1%")],
    ).properties(width=420, height=24 * df.height, title="Volume against last period")


SECTION_CHARTS = {
    "completeness": [completeness_chart],
    "uniqueness": [],
    "integrity": [],
    "validity": [],
    "consistency": [arr_chart, volume_chart],
    "coverage": [coverage_chart],
    "freshness": [freshness_chart],
}


def section(r: AuditResult, dimension: str) -> list:
    """Narrative and charts of one dimension, displayed in the notebook; returns the charts drawn."""
    present.show(dimension_text(r, dimension))
    drawn = [c for c in [checks_chart(r, dimension)] + [f(r) for f in SECTION_CHARTS[dimension]] if c is not None]
    present.show(*drawn)
    return drawn


def overview(r: AuditResult) -> list:
    present.show(overview_text(r))
    drawn = [score_chart(r), dimension_chart(r)]
    present.show(*drawn)
    return drawn


def formula(r: AuditResult):
    """The formula text and the table a client can recompute the overall score from."""
    present.show(formula_text())
    df = dimension_frame(r)
    total = df["weight"].sum() if df.height else 1.0
    frame = df.with_columns(
        (pl.col("weight") / total).alias("rescaled weight"),
        (pl.col("score") * pl.col("weight") / total).alias("points"),
    )
    return present.table(frame, kinds={"band": "status", "weight": "percent"})
