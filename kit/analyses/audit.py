"""The data audit: every check on the client's data, a 0-100 data quality score, the fix list.

    result = audit.run_for(ctx)        # runs the checks, writes audit.json and audit_failures.csv

The checks themselves are in `kit.analyses.audit_checks`; charts and narrative in `kit.analyses.audit_report`.

How the score is computed (the notebook prints the same text, so a client can recompute it from
the `checks` list in audit.json):

1. Each check counts `failing` records out of `total` records it looked at. Its pass fraction is
   1 - failing / total (a check that looked at nothing is left out).
2. A dimension's score is 100 x the weighted mean of its checks' pass fractions, weighted by
   severity: critical 3, error 2, warning 1.
3. The overall score is the weighted mean of the dimension scores with `DIMENSION_WEIGHTS`
   (dimensions without checks are left out and the other weights rescaled).
4. Any failing critical check is a blocker for the build phase, whatever the score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from kit import contract, registry
from kit.artefacts import Document
from kit.errors import KitError
from kit.analyses.audit_checks import RECORD_COLUMNS, SEVERITIES, Auditor, AuditCheck
from kit.io.load import ClientData

SEVERITY_WEIGHTS = {"critical": 3.0, "error": 2.0, "warning": 1.0}
DIMENSION_WEIGHTS = {
    "completeness": 0.20,
    "uniqueness": 0.15,
    "integrity": 0.15,
    "validity": 0.15,
    "consistency": 0.15,
    "coverage": 0.10,
    "freshness": 0.10,
}
DIMENSION_TEXT = {
    "completeness": "fields that should be filled in are filled in; every configured table could be read",
    "uniqueness": "each record appears once (no duplicate ids, no repeated rows)",
    "integrity": "records point at accounts that exist; the account hierarchy has no broken or circular links",
    "validity": "values parse as their type and lie in their valid range; dates are plausible",
    "consistency": "sources agree with each other (CRM ARR vs billing, renewal dates) and with last period's volumes",
    "coverage": "every active account appears in the sources a health score needs, and has an owner",
    "freshness": "each source reaches the period end (allowing for its usual rhythm: weekly, business days)",
}
FORMULA = """\
**How the score is computed.** Each check counts the records that fail it out of the records it
looked at; its *pass fraction* is `1 - failing / total`. A dimension's score is `100 x` the mean
of its checks' pass fractions, weighted by severity (critical 3, error 2, warning 1). The overall
score is the mean of the dimension scores weighted {weights} (a dimension with no checks is left
out and the other weights are rescaled). Every check, with its counts, is listed in `audit.json`
under `checks`, so the score can be recomputed by hand. Any failing **critical** check is a
*blocker*: it must be fixed before the health score is built, whatever the overall score."""
SCORE_BANDS = ((90.0, "good"), (75.0, "fair"), (0.0, "poor"))


def score_checks(checks: list[AuditCheck]) -> tuple[float, dict[str, float]]:
    """The overall 0-100 score and the score of each dimension (the formula in the module docstring)."""
    num: dict[str, float] = {}
    den: dict[str, float] = {}
    for c in checks:
        if not c.scored or c.total <= 0:
            continue
        w = SEVERITY_WEIGHTS[c.severity]
        num[c.dimension] = num.get(c.dimension, 0.0) + w * c.pass_fraction
        den[c.dimension] = den.get(c.dimension, 0.0) + w
    dims = {d: 100.0 * num[d] / den[d] for d in DIMENSION_WEIGHTS if den.get(d)}
    if not dims:
        return 100.0, {}
    total_w = sum(DIMENSION_WEIGHTS[d] for d in dims)
    overall = sum(DIMENSION_WEIGHTS[d] * s for d, s in dims.items()) / total_w
    return overall, dims


def band(score: float) -> str:
    return next(label for low, label in SCORE_BANDS if score >= low)


@dataclass
class AuditResult:
    checks: list[AuditCheck]
    as_of: date
    period: str = ""
    tables: dict[str, dict] = field(default_factory=dict)
    details: dict[str, pl.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    previous_period: str | None = None

    @property
    def score(self) -> float:
        return score_checks(self.checks)[0]

    @property
    def dimensions(self) -> dict[str, float]:
        return score_checks(self.checks)[1]

    @property
    def findings(self) -> list[AuditCheck]:
        """Failing checks, most urgent first: by severity, then by records affected."""
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        return sorted((c for c in self.checks if c.failed), key=lambda c: (rank[c.severity], -c.failing, c.table, c.check))

    @property
    def blockers(self) -> list[AuditCheck]:
        return [c for c in self.findings if c.severity == "critical"]

    def find(self, check: str, table: str | None = None, column: str | None = None) -> AuditCheck | None:
        for c in self.checks:
            if c.check == check and (table is None or c.table == table) and (column is None or c.column == column):
                return c
        return None

    def source_column(self, table: str, column: str | None) -> str | None:
        """The client's own name for a canonical column (as mapped in the parameters)."""
        return ((self.tables.get(table) or {}).get("columns") or {}).get(column) if column else None

    def failures(self) -> pl.DataFrame:
        """One row per failing record: table, record_id, account_id, row, check, column, source_column, severity, value.

        `row` is the record's number in the export (1 = first data row); `source_column` the client's column name.
        """
        parts = []
        for c in self.findings:
            if c.records is None or c.records.is_empty():
                continue
            parts.append(c.records.with_columns(
                pl.lit(c.table).alias("table"), pl.lit(c.check).alias("check"), pl.lit(c.column, pl.String).alias("column"),
                pl.lit(c.severity).alias("severity"), pl.lit(self.source_column(c.table, c.column), pl.String).alias("source_column"),
            ))
        cols = ["table", "record_id", "account_id", "row", "check", "column", "source_column", "severity", "value"]
        if not parts:
            return pl.DataFrame(schema={c: RECORD_COLUMNS.get(c, pl.String) for c in cols})
        return pl.concat(parts, how="vertical_relaxed").select(cols)

    def finding_dict(self, c: AuditCheck) -> dict:
        return {
            "check": c.check, "dimension": c.dimension, "table": c.table, "column": c.column, "severity": c.severity,
            "failing": c.failing, "total": c.total, "pass_fraction": c.pass_fraction, "examples": c.examples,
            "message": c.message, "fix": c.fix,
        }

    def to_json(self) -> dict:
        overall, dims = score_checks(self.checks)
        details = {k: v.to_dicts() for k, v in self.details.items() if k in ("coverage", "freshness", "volume")}
        return {
            "score": round(overall, 2),
            "band": "blocked" if self.blockers else band(overall),
            "dimensions": {d: round(s, 2) for d, s in dims.items()},
            "findings": [self.finding_dict(c) for c in self.findings],
            "blockers": [self.finding_dict(c) for c in self.blockers],
            "checks": [
                {"check": c.check, "dimension": c.dimension, "table": c.table, "column": c.column, "severity": c.severity,
                 "failing": c.failing, "total": c.total, "pass_fraction": c.pass_fraction, "scored": c.scored}
                for c in self.checks
            ],
            "weights": {"severity": SEVERITY_WEIGHTS, "dimensions": DIMENSION_WEIGHTS},
            "tables": self.tables,
            "not_checked": self.notes,
            "period": self.period,
            "as_of": self.as_of.isoformat(),
            "previous_period": self.previous_period,
            **details,
        }


def table_status(data: ClientData) -> dict[str, dict]:
    out = {}
    for name in contract.TABLES:
        if name in data.loads:
            t = data.loads[name]
            out[name] = {"status": "loaded", "location": t.location, "rows": t.rows, "columns": dict(t.mapping),
                         "notes": [f"{n.column + ': ' if n.column else ''}{n.text}" for n in t.notes]}
        else:
            reason = data.unavailable.get(name, "")
            configured = name in data.params.sources
            out[name] = {"status": "unavailable" if configured else "not configured", "reason": reason, "rows": None}
    return out


def evaluate(data: ClientData, as_of: date, *, period: str = "", previous: dict | None = None) -> AuditResult:
    """Run every check the client's tables allow. The required accounts table must load (else KitError)."""
    auditor = Auditor(data, as_of, data.params.audit, previous)
    checks = auditor.run()
    return AuditResult(
        checks, as_of, period, table_status(data), auditor.details, auditor.notes,
        (previous or {}).get("period") if previous else None,
    )


class AuditDocument(Document):
    """audit.json: `AuditResult.to_json()`, read by the next period's audit, reruns and the site."""

    FILE = registry.AUDIT_JSON
    REQUIRED = ("period", "tables")  # what the next audit and a rerun compare; the site reads the rest where present

    @property
    def tables(self) -> dict[str, dict]:
        return self.doc["tables"]


def previous_audit(run_dir: Path, period) -> dict | None:
    """The previous period's audit.json next to this run (batch layout: <client>/<period>/audit.json); one that
    cannot be read counts as none (the audit then has nothing to compare with)."""
    try:
        found = AuditDocument.read(Path(run_dir).parent / period.previous().label)
    except KitError:
        return None
    return found.doc if found else None


def write(result: AuditResult, ctx) -> dict[str, Path]:
    """audit.json and audit_failures.csv in the run folder."""
    paths = {"json": AuditDocument(result.to_json()).write(ctx.run_dir)}
    csv = ctx.path(registry.AUDIT_FAILURES)
    result.failures().write_csv(csv)
    paths["csv"] = csv
    return paths


def run_for(ctx) -> AuditResult:
    """The notebook's one call: run the audit for ctx's period and write its artefacts."""
    result = evaluate(ctx.data, ctx.as_of, period=ctx.period.label, previous=previous_audit(ctx.run_dir, ctx.period))
    write(result, ctx)
    return result


def formula_text() -> str:
    weights = ", ".join(f"{d} {w:.0%}" for d, w in DIMENSION_WEIGHTS.items())
    return FORMULA.format(weights=weights)
