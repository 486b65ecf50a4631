"""Peak memory of the data audit on a large usage table (issue 3: must stay under 2 GiB).

    .venv/bin/python benchmarks/audit_memory.py                 # 10 million usage rows
    .venv/bin/python benchmarks/audit_memory.py --rows 2000000  # a quicker run

Writes a synthetic client (accounts CSV + daily usage Parquet) into a temporary folder, then
runs the audit in a fresh process that reports its own peak resident memory (ru_maxrss: imports,
loading and every check), so the generator's memory does not count. Prints the figure; exits 1 above the limit.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

LIMIT_GIB = 2.0
AS_OF = date(2026, 10, 31)


def generate(folder: Path, rows: int, days: int = 500) -> None:
    """accounts.csv and usage.parquet: rows / days accounts with `days` daily rows each (streamed to disk)."""
    import polars as pl

    n = max(1, rows // days)
    first = AS_OF - timedelta(days=days - 1)
    accounts = pl.DataFrame({"i": range(n)}).select(
        pl.format("ACC{}", pl.col("i").cast(pl.String).str.zfill(8)).alias("account_id"),
        pl.lit("Acme").alias("account_name"),
        pl.lit("Ann").alias("csm_owner"),
        (pl.col("i") % 50 * 1000 + 10000).cast(pl.Float64).alias("arr"),
        pl.lit(first - timedelta(days=30)).alias("created_at"),
        pl.lit(AS_OF + timedelta(days=200)).alias("renewal_date"),
    )
    accounts.write_csv(folder / "accounts.csv")
    dates = pl.LazyFrame({"date": pl.date_range(first, AS_OF, "1d", eager=True)})
    usage = (
        accounts.lazy().select("account_id").join(dates, how="cross")
        .with_columns(h=pl.struct("account_id", "date").hash(7))
        .select("account_id", "date", (pl.col("h") % 40).cast(pl.Int32).alias("active_users"),
                (pl.col("h") // 40 % 90).cast(pl.Int32).alias("logins"), (pl.col("h") // 3600 % 500).cast(pl.Int32).alias("api_calls"))
    )
    usage.sink_parquet(folder / "usage.parquet", row_group_size=250_000)
    params = {
        "client": "bench", "name": "Benchmark",
        "sources": {
            "accounts": {"path": "accounts.csv"},
            "usage": {"path": "usage.parquet", "columns": {"account_id": "account_id", "date": "date", "active_users": "active_users",
                                                           "logins": "logins", "api_calls": "api_calls"}},
        },
    }
    (folder / "params.json").write_text(json.dumps(params))


def run_audit(folder: Path) -> None:
    """In the measured child process: load the client and run every audit check."""
    from kit.analyses import audit
    from kit import params
    from kit.io.load import ClientData

    raw = json.loads((folder / "params.json").read_text())
    p = params.from_dict(raw, base_dir=folder)
    start = time.time()
    data = ClientData(p)
    result = audit.run(data, AS_OF, period="2026-10")
    usage_rows = data.loads["usage"].rows
    print(json.dumps({
        "seconds": round(time.time() - start, 1), "usage_rows": usage_rows, "score": round(result.score, 2),
        "findings": [(c.check, c.table, c.failing) for c in result.findings], "not_checked": result.notes,
        "usage_collected": "usage" in data._frames,
        "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,  # this process only (Linux: KiB)
    }))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="usage rows (default 10 million)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--generate", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        run_audit(Path(args.child))
        return 0
    if args.generate:
        generate(Path(args.generate), args.rows)
        return 0
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
        t = time.time()
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--generate", tmp], check=True)
        size = (Path(tmp) / "usage.parquet").stat().st_size / 2**20
        print(f"generated {args.rows:,} usage rows ({size:.0f} MiB Parquet) in {time.time() - t:.0f} s")
        out = subprocess.run([sys.executable, __file__, "--child", tmp], check=True, capture_output=True, text=True)
        report = json.loads(out.stdout.strip().splitlines()[-1])
    peak_gib = report["peak_kib"] / 2**20
    print(f"audit of {report['usage_rows']:,} usage rows: {report['seconds']} s, peak memory {peak_gib:.2f} GiB "
          f"(limit {LIMIT_GIB:.0f} GiB); usage collected whole: {report['usage_collected']}")
    print(f"score {report['score']}, findings {report['findings']}, not checked {report['not_checked']}")
    return 0 if peak_gib < LIMIT_GIB else 1


if __name__ == "__main__":
    sys.exit(main())
