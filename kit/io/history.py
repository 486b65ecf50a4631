"""The per-client maintenance history: one record per check per period.

`reports/<client>/history.parquet` accumulates the monthly maintenance results so that trends
and "two months in a row" rules work. Recording a period replaces that period's records (a rerun
is idempotent). The maintenance notebook only reads it; the batch runner records a run's
maintenance.json after the run has been committed, so a failed run never changes the history.
Writes go to a temporary file that replaces the history atomically, under a lock per client.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from kit import registry
from kit.io import locks

SCHEMA = {
    "period": pl.String,
    "name": pl.String,
    "title": pl.String,
    "status": pl.String,
    "value": pl.Float64,
    "amber": pl.Float64,
    "red": pl.Float64,
    "worse": pl.String,
    "action": pl.String,
    "detail": pl.String,
    "recorded_at": pl.Datetime("us", "UTC"),
}


def path(client_root: str | Path) -> Path:
    return Path(client_root) / registry.HISTORY


def client_root(run_dir: str | Path) -> Path:
    """The client's report folder for a run folder: reports/<client>/<period or .tmp-...>, or
    reports/<client>/_lab/<period> for interactive runs (which read the batch history)."""
    parent = Path(run_dir).resolve().parent
    return parent.parent if parent.name == "_lab" else parent


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def read(client_root: str | Path, before: str | None = None) -> pl.DataFrame:
    """The client's history (empty if none yet); `before="2026-10"` keeps earlier periods only."""
    p = path(client_root)
    h = pl.read_parquet(p) if p.exists() else empty()
    # a history written by an older kit may lack a column: it reads as empty
    h = h.with_columns(pl.lit(None, t).alias(c) for c, t in SCHEMA.items() if c not in h.columns).select(list(SCHEMA)).cast(SCHEMA)
    if before is not None:
        h = h.filter(pl.col("period") < before)
    return h.sort("period", "name")


def rows(report: dict, recorded_at: datetime | None = None) -> pl.DataFrame:
    """maintenance.json -> one history record per check."""
    at = recorded_at or datetime.now(timezone.utc)
    recs = []
    for c in report["checks"]:
        t = c.get("threshold") or {}
        recs.append({
            "period": report["period"], "name": c["name"], "title": c.get("title", c["name"]), "status": c["status"],
            "value": None if c.get("value") is None else float(c["value"]),
            "amber": t.get("amber"), "red": t.get("red"), "worse": t.get("worse"),
            "action": c.get("action", ""), "detail": c.get("detail", ""), "recorded_at": at,
        })
    return pl.DataFrame(recs, schema=SCHEMA)


def upsert(history: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """`history` with the periods in `new` replaced by `new`'s records."""
    periods = new["period"].unique().implode()
    return pl.concat([history.filter(~pl.col("period").is_in(periods)), new.cast(SCHEMA)]).sort("period", "name")


def write(client_root: str | Path, history: pl.DataFrame) -> Path:
    """Replace the history file atomically (temp file in the same folder + os.replace)."""
    p = path(client_root)
    tmp = p.with_name(f".{p.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        history.write_parquet(tmp)
        os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)
    return p


def record(client_root: str | Path, report: dict) -> Path:
    """Record a committed run's maintenance report (its maintenance.json, read by the runner) into the client's
    history, replacing its period. Read, update and write happen under a lock, so two runs of one client finishing
    together both land (neither overwrites the other's period)."""
    with locks.client(client_root):
        return write(client_root, upsert(read(client_root), rows(report)))


def trend(history: pl.DataFrame, report: dict, months: int = 12) -> pl.DataFrame:
    """Earlier periods from the history plus the current report, the last `months` periods."""
    h = upsert(history, rows(report))
    keep = sorted(h["period"].unique().to_list())[-months:]
    return h.filter(pl.col("period").is_in(keep))
