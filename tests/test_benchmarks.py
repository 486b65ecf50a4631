"""The benchmark script cannot rot: each section's smallest case (`python -m benchmarks.run --smoke --only SECTION`)
runs once, in a process of its own, and its figures are checked, not only that it ran.

The smoke sizes are a 60-account demo client, a 300-account large client (200,000 raw events), 2 clients and a
range of 2 months. The tests share one worker (one xdist group per file, tests/conftest.py): the large client's
data is generated once, on first use, into benchmarks/results/data/.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import run as bench

REPO = Path(__file__).resolve().parent.parent

def smoke(section: str, tmp_path: Path) -> dict:
    out = tmp_path / f"{section}.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--smoke", "--only", section, "--json", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    res = json.loads(out.read_text())
    assert res["reps"] == 1 and section in res
    assert section in done.stdout or res[section].get("skipped")  # the table names it
    return res[section]


def seconds(d: dict) -> float:
    s = d["seconds"]
    assert isinstance(s, float) and 0 < s < 600 and math.isfinite(s), d
    return s


@pytest.mark.parametrize("section", bench.SECTIONS)
def test_each_section_runs_its_smallest_case(section, tmp_path):
    r = smoke(section, tmp_path)
    if section == "overhead":
        assert seconds(r["python_pass"]) < seconds(r["kit_runner"]) and seconds(r["papermill_cli_loop"]) > 0
    elif section == "demo":
        assert {"papermill_cli_loop", "kit_jobs1", "kit_jobs2"} <= set(r) and all(seconds(v) for v in r.values())
        assert r["kit_jobs1"]["peak_rss"] > 50 * 2**20  # a real run's memory, read from os.wait4
    elif section == "large":
        assert r["accounts"] == 300 and r["event_rows"] >= 200_000
        agree = r["agreement"]
        assert agree["rows"] > 0  # the kit's signals and the straightforward pandas ones, signal by signal, where both
        for name, d in agree.items():  # have a value (the kit leaves a count unknown before its table's records begin)
            if name != "rows":
                assert d["max_abs_diff"] is not None and d["max_abs_diff"] < 1e-6, (name, d)
    elif section == "large_run":
        nbs = r["kit"]["notebooks"]  # each notebook's own seconds, from the run's manifest: their sum is within the run
        assert set(nbs) == {"audit", "weights", "backtest", "maintenance"} and 0 < sum(nbs.values()) <= seconds(r["kit"])
    elif section == "backtest":
        seconds(r["kit"])
    elif section == "large_analyses":
        assert 0 <= r["kit"]["weights_seconds"] <= r["kit"]["seconds"] and r["kit"]["peak_rss"] > 0
    elif section == "clients":
        assert r["clients"] == 2 and r["kit"]["clients_per_minute"] == pytest.approx(2 / seconds(r["kit"]) * 60)
        seconds(r["kit_cluster"])
    elif section == "site":
        if "skipped" in r:
            assert "Quarto" in r["skipped"]
        else:
            assert r["pages"] >= 5 and seconds(r["source_only"]) < seconds(r["publish"])
    elif section in ("months", "large_months"):
        assert seconds(r["one_month"]) > 0 and seconds(r["twelve_months"]) > 0  # a 2-month range: both months ok
    elif section == "init":
        assert r["events"] >= 200_000 and seconds(r["draft"]) <= seconds(r["init_and_validate"])
    else:
        pytest.fail(f"section {section} has no check here: add one")


def test_months_in_counts_a_range():
    assert bench.months_in("2025-11..2026-10") == 12 and bench.months_in("2026-09..2026-10") == 2
