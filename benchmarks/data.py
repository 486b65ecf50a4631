"""Benchmark data: a large demo client (kit.demo at scale) and a raw product event log, cached.

`python -m benchmarks.data [--quick]` writes them under benchmarks/results/data/ once; later runs
reuse them. The event log is written in chunks (never held in memory whole) from the daily usage:
each active user-day becomes a few events (one of them a login), so the aggregated log agrees with
the daily export.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "results" / "data"
END = date(2026, 10, 31)
SIZES = {"full": {"accounts": 20000, "events": 50_000_000}, "quick": {"accounts": 4000, "events": 5_000_000},
         "smoke": {"accounts": 300, "events": 200_000, "demo_accounts": 60}}  # smoke: the smallest case, for tests
EVENT_NAMES = np.array(["login", "view", "export", "search", "api"])


def large_client(size: str = "full") -> Path:
    """The demo generator at scale (n_accounts), plus events.parquet; returns the data folder."""
    spec = SIZES[size]
    folder = DATA / f"large-{size}"
    done = folder / "done.json"
    if done.exists():
        return folder
    from kit import demo

    t = time.time()
    demo.generate(folder, END, n_accounts=spec["accounts"])
    gen = time.time() - t
    t = time.time()
    rows = write_events(folder / "product" / "daily_usage.parquet", folder / "product" / "events.parquet", spec["events"])
    done.write_text(json.dumps({"accounts": spec["accounts"], "event_rows": rows, "generate_s": gen, "events_s": time.time() - t}))
    return folder


def write_events(daily: Path, out: Path, target: int, seed: int = 7) -> int:
    """Expand daily usage into raw events, in chunks of daily rows, until at least `target` events."""
    rng = np.random.default_rng(seed)
    pf = pq.ParquetFile(daily)
    total_days = pf.metadata.num_rows
    active = pl.scan_parquet(daily).select(pl.col("dau").sum()).collect().item()
    rate = target / max(active, 1) * 1.02  # events per active user-day (a little over, to reach the target)
    schema = pa.schema([("acct_id", pa.string()), ("user", pa.int32()), ("ts", pa.timestamp("us")), ("event_name", pa.string())])
    written = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as w:
        for batch in pf.iter_batches(batch_size=500_000, columns=["acct_id", "day", "dau"]):
            df = pl.from_arrow(batch).filter(pl.col("dau") > 0)
            dau = df["dau"].to_numpy().astype(np.int64)
            # users active that day: ids 0..dau-1; each does Poisson(rate) events, the first a login
            row_of_user = np.repeat(np.arange(len(dau)), dau)
            user = np.arange(len(row_of_user)) - np.repeat(np.cumsum(dau) - dau, dau)
            n = rng.poisson(rate, len(row_of_user))
            keep = n > 0
            row_of_user, user, n = row_of_user[keep], user[keep], n[keep]
            row = np.repeat(row_of_user, n)
            owner = np.repeat(np.arange(len(n)), n)
            first = np.r_[True, owner[1:] != owner[:-1]] if len(owner) else np.zeros(0, bool)
            ev = np.where(first, 0, rng.integers(1, len(EVENT_NAMES), len(row)))
            day = df["day"].to_numpy().astype("datetime64[us]")[row]
            ts = day + rng.integers(0, 86_400_000_000, len(row)).astype("timedelta64[us]")
            chunk = pa.table(
                {
                    "acct_id": pa.array(df["acct_id"].to_numpy()[row]),
                    "user": pa.array(np.repeat(user, n).astype(np.int32)),
                    "ts": pa.array(ts),
                    "event_name": pa.array(EVENT_NAMES[ev]),
                },
                schema=schema,
            )
            w.write_table(chunk, row_group_size=1_000_000)
            written += len(row)
    del total_days
    return written


if __name__ == "__main__":
    size = "quick" if "--quick" in sys.argv else "full"
    print(large_client(size), json.loads((large_client(size) / "done.json").read_text()))
