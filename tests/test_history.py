"""The per-client maintenance history: records per check per period, idempotent reruns, atomic writes."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from kit.io import history
from kit.analyses import maintenance as mt
from kit.periods import Period


def report(period: str, **statuses_values) -> dict:
    checks = [
        mt.CheckResult(name, status, value, {"amber": 0.2, "red": 0.25, "worse": "higher"}, "act", f"{name} in {period}")
        for name, (status, value) in statuses_values.items()
    ]
    return mt.report(Period.parse(period), checks)


def write(folder: Path, doc: dict) -> dict:
    """The report written into its period folder and read back, as the runner records it."""
    folder.mkdir(parents=True, exist_ok=True)
    mt.MaintenanceDocument(doc).write(folder)
    return mt.MaintenanceDocument.read(folder).doc


def test_record_appends_one_row_per_check_per_period(tmp_path):
    root = tmp_path / "demo"
    history.record(root, write(root / "2026-08", report("2026-08", false_rate=("red", 0.3), sync_failures=("green", 0))))
    history.record(root, write(root / "2026-09", report("2026-09", false_rate=("amber", 0.22), sync_failures=("red", 3))))
    h = history.read(root)
    assert h.height == 4
    assert h.select("period", "name", "status", "value").rows() == [
        ("2026-08", "false_rate", "red", 0.3), ("2026-08", "sync_failures", "green", 0.0),
        ("2026-09", "false_rate", "amber", 0.22), ("2026-09", "sync_failures", "red", 3.0),
    ]
    assert h["red"].to_list() == [0.25] * 4 and h["worse"].unique().to_list() == ["higher"]
    assert history.read(root, before="2026-09")["period"].unique().to_list() == ["2026-08"]


def test_rerun_of_a_period_replaces_its_records(tmp_path):
    root = tmp_path / "demo"
    history.record(root, write(root / "2026-08", report("2026-08", false_rate=("red", 0.3))))
    first = write(root / "2026-09", report("2026-09", false_rate=("red", 0.4), sync_failures=("red", 2)))
    history.record(root, first)
    history.record(root, first)  # the same run recorded twice: no duplicates
    once = history.read(root).drop("recorded_at")
    assert once.height == 3
    rerun = write(root / "2026-09", report("2026-09", false_rate=("green", 0.1)))  # fixed data, fewer checks
    history.record(root, rerun)
    h = history.read(root)
    assert h.select("period", "name", "status").rows() == [("2026-08", "false_rate", "red"), ("2026-09", "false_rate", "green")]
    assert h.filter(pl.col("period") == "2026-08").drop("recorded_at").equals(once.filter(pl.col("period") == "2026-08"))


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path, monkeypatch):
    root = tmp_path / "demo"
    history.record(root, write(root / "2026-08", report("2026-08", false_rate=("red", 0.3))))
    before = history.path(root).read_bytes()

    def boom(self, *a, **k):
        Path(a[0] if a else k["file"]).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", boom)
    with pytest.raises(OSError):
        history.record(root, write(root / "2026-09", report("2026-09", false_rate=("red", 0.4))))
    assert history.path(root).read_bytes() == before  # the earlier history is intact
    assert sorted(p.name for p in root.iterdir()) == [".client.lock", "2026-08", "2026-09", "history.parquet"]


def test_read_without_history_is_empty(tmp_path):
    h = history.read(tmp_path / "new-client")
    assert h.height == 0 and h.schema == pl.Schema(history.SCHEMA)


def test_trend_adds_the_current_report_to_earlier_periods():
    past = history.rows(report("2026-09", false_rate=("red", 0.3)))
    stale = history.rows(report("2026-10", false_rate=("green", 0.0)))  # an earlier run of this period
    t = history.trend(history.upsert(past, stale), report("2026-10", false_rate=("amber", 0.21)))
    assert t.select("period", "status").rows() == [("2026-09", "red"), ("2026-10", "amber")]
    many = pl.concat([history.rows(report(Period(2025, 1).previous(-i).label, cta_completion=("green", 1.0))) for i in range(15)])
    assert history.trend(many, report("2026-04", cta_completion=("green", 1.0)), months=12)["period"].to_list()[0] == "2025-05"


def test_consecutive_rule_reads_the_recorded_history(tmp_path):
    root = tmp_path / "demo"
    for period, status in [("2026-07", "red"), ("2026-08", "amber"), ("2026-09", "red")]:
        history.record(root, write(root / period, report(period, false_rate=(status, 0.3))))
    past = history.read(root, before="2026-10")
    fc = mt.CheckResult("false_rate", "red", 0.3)
    c = mt.refinement_trigger(fc, past, Period(2026, 10), _m())
    assert (c.value, c.status) == (2, "red")
    c = mt.refinement_trigger(fc, history.read(root, before="2026-09"), Period(2026, 9), _m())
    assert (c.value, c.status) == (1, "amber")  # August was amber


def _m():
    from kit import params

    return params.from_dict({"client": "t", "name": "T", "sources": {"accounts": {"path": "a.csv"}}}).maintenance


def test_client_root_of_batch_and_lab_runs(tmp_path):
    assert history.client_root(tmp_path / "demo" / ".tmp-2026-10-abcd") == (tmp_path / "demo").resolve()
    assert history.client_root(tmp_path / "demo" / "_lab" / "2026-10") == (tmp_path / "demo").resolve()


def _record_after(barrier, root: str, report: dict) -> None:
    barrier.wait()
    for _ in range(5):  # each process rewrites the history several times, as reruns would
        history.record(root, report)


def test_runs_finishing_together_all_land_in_the_history(tmp_path):
    import multiprocessing

    root = tmp_path / "acme"
    periods = [f"2026-{m:02d}" for m in range(1, 7)]
    paths = [write(root / p, report(p, false_rate=("red", 0.3), sync_failures=("green", 0))) for p in periods]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Manager().Barrier(len(paths))
    procs = [ctx.Process(target=_record_after, args=(barrier, str(root), p)) for p in paths]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * len(procs)
    h = history.read(root)
    assert sorted(h["period"].unique().to_list()) == periods  # without the lock, read-update-write races lose periods
    assert h.height == 2 * len(periods)
