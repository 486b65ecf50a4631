"""The maintenance report's pieces: the status table, trend charts and each check's section in words
(kit.analyses.maintenance computes the checks)."""

from __future__ import annotations

import polars as pl

from kit import present
from kit.analyses.maintenance import CheckResult
from kit.status import AMBER, GREEN, NOT_CHECKED, RED
from kit.checks import CHECKS
from kit.periods import Period


# ---------------------------------------------------------------------------- presentation


def format_value(value: float | None, unit: str) -> str:
    """A check's value as the client reads it (kit.present, by the check's unit)."""

    return present.fmt(value, present.UNITS.get(unit, present.NUMBER).kind)


def format_threshold(threshold: dict | None, unit: str) -> str:

    return present.threshold_text(threshold, present.UNITS.get(unit, present.NUMBER).kind)


def status_frame(checks: list) -> pl.DataFrame:
    """One row per check (a CheckResult or its maintenance.json record): title, status, value and
    threshold in words, detail, and the action when the check needs one."""

    recs = [c.to_dict() if isinstance(c, CheckResult) else c for c in checks if isinstance(c, (CheckResult, dict))]
    unit = [r.get("unit") or (CHECKS[r["name"]].unit if r.get("name") in CHECKS else "") for r in recs]
    bad = [r.get("status") in (AMBER, RED) for r in recs]
    return pl.DataFrame({
        "check": [present.text(r.get("title") or present.label(r.get("name", ""))) for r in recs],
        "status": [r.get("status") for r in recs],
        "value": [format_value(r.get("value"), u) for r, u in zip(recs, unit)],
        "threshold": [format_threshold(r.get("threshold"), u) for r, u in zip(recs, unit)],
        "detail": [present.prose(r.get("detail") or "") for r in recs],
        "action": [present.prose(r.get("action") or "") if b else "" for r, b in zip(recs, bad)],
    }, schema={k: pl.String for k in ("check", "status", "value", "threshold", "detail", "action")})


def status_table(checks: list, columns=("check", "status", "value", "threshold", "detail")):
    """The red/amber/green table (kit.present: badges, formatted values). The report shows each
    check's detail (its sections give the actions); the site's home page shows the actions."""

    kinds = {"check": "html", "value": "figure", "threshold": "html", "detail": "html", "action": "html"}
    return present.table(status_frame(checks), kinds=kinds, columns=columns, wide=("detail", "action"))


def trend_points(history: pl.DataFrame, name: str | None = None) -> pl.DataFrame:
    """Each check's value and thresholds by period as a chart shows them: in its unit's scale (kit.present.UNITS:
    shares in %, a weight drift in points). The notebook's trend charts and the site's trends page both draw these."""
    h = history if name is None else history.filter(pl.col("name") == name)
    cols = {c: (pl.col(c).cast(pl.Float64, strict=False) if c in h.columns else pl.lit(None, pl.Float64)) for c in ("value", "amber", "red")}
    scale = pl.col("name").replace_strict({n: present.UNITS.get(c.unit, present.NUMBER).scale for n, c in CHECKS.items()},
                                          default=1.0, return_dtype=pl.Float64)
    return h.select(pl.col("period").cast(pl.String), pl.col("name").cast(pl.String),
                    *[(e * scale).alias(c) for c, e in cols.items()],
                    (pl.col("status") if "status" in h.columns else pl.lit(None, pl.String)).alias("status")).sort("period")


def trend_chart(trend: pl.DataFrame, name: str, unit: str):
    """Value by period with its amber and red thresholds (Altair, static SVG)."""
    from kit.charts import PALETTE, alt, period_axis, status_scale

    a = alt()
    t = trend_points(trend, name)
    if t.height == 0 or t["value"].is_null().all():
        return None
    long = pl.concat([
        t.select("period", pl.lit("value").alias("series"), pl.col("value").alias("y"), "status"),
        t.select("period", pl.lit("amber threshold").alias("series"), pl.col("amber").alias("y"), "status"),
        t.select("period", pl.lit("red threshold").alias("series"), pl.col("red").alias("y"), "status"),
    ]).drop_nulls("y").to_pandas()
    y_title = present.UNITS.get(unit, present.NUMBER).axis or unit
    series = a.Scale(domain=["value", "amber threshold", "red threshold"],
                     range=[PALETTE["blue"], PALETTE["amber"], PALETTE["red"]])
    base = a.Chart(long).encode(x=a.X("period:O", title="period", axis=period_axis()), y=a.Y("y:Q", title=y_title))
    lines = base.mark_line().encode(
        color=a.Color("series:N", scale=series, title=None),
        strokeDash=a.condition(a.datum.series == "value", a.value([1, 0]), a.value([4, 3])),
    )
    points = base.transform_filter(a.datum.series == "value").mark_point(filled=True, size=80).encode(
        color=a.Color("status:N", scale=status_scale(), title="status")
    )
    return (lines + points).resolve_scale(color="independent").properties(width=420, height=180, title=present.label(name))


def summary_text(checks: list[CheckResult], period: Period) -> str:
    """One paragraph for the top of the report: how many checks are red, amber, green."""
    by = {s: [c.title for c in checks if c.status == s] for s in (RED, AMBER, GREEN, NOT_CHECKED)}
    if by[RED]:
        head = f"**{len(by[RED])} check(s) need action this month:** {', '.join(by[RED])}."
    elif by[AMBER]:
        head = "**No red flags this month**; watch the amber check(s)."
    else:
        head = "**All checked items are green this month.**"
    parts = [head]
    if by[AMBER]:
        parts.append(f"Amber (warning): {', '.join(by[AMBER])}.")
    parts.append(f"Green: {len(by[GREEN])}; not checked: {len(by[NOT_CHECKED])} (reasons in the table).")
    return f"Period {period.label}. " + " ".join(parts)


def show(check: CheckResult, trend: pl.DataFrame, rows: int = 25) -> None:
    """A check's section: status, what it measures, trend chart, and what is behind a failure."""

    what = CHECKS[check.name].measures
    lines = [f"{present.badge(check.status)} {what[:1].upper() + what[1:]}: **{format_value(check.value, check.unit)}** "
             f"(threshold: {format_threshold(check.threshold, check.unit)}).", "", present.md_text(check.detail) + "."]
    if check.status in (AMBER, RED, NOT_CHECKED):
        lines += ["", f"**Recommended action:** {present.md_text(check.action)}"]
    present.show("\n".join(lines))
    past = trend.filter(pl.col("name") == check.name, pl.col("value").is_not_null())
    if past.height >= 2:
        present.show(trend_chart(trend, check.name, check.unit))
    elif check.status != NOT_CHECKED:
        present.show("_Trend: the history has no earlier month with a value yet; the chart appears from the "
                     "second monthly run._")
    if check.behind is not None and check.behind.height and check.status in (AMBER, RED):
        n = check.behind.height
        present.show(f"Behind this result ({n:,} row{'s' if n != 1 else ''}):",
                     present.table(check.behind, max_rows=rows))
