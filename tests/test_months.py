"""Runs over several months (kit.run.months): a range equals its months run one by one, a rerun of an
earlier month leaves the later months as a fresh range would, a failed month does not stop the
others, a rerun that would lose what a period has stops, and the demo plants a refinement trigger."""

from __future__ import annotations

import json
import random
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from kit import cli, demo
from kit.analyses import maintenance as mt
from kit.io import history
from kit.periods import MAX_MONTHS, Period, months
from kit.publish import site
from kit.run import batch, months as ranges

from .conftest import DEMO_END, tiny_notebooks, tree_digest, write_params
from tests.support.folders import differences

SEP, OCT = Period(2026, 9), Period(2026, 10)


# ---------------------------------------------------------------------------- the months a run covers


def test_a_range_covers_each_month_from_first_to_last():
    assert [p.label for p in months("2025-11..2026-02")] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months("2026-05") == [Period(2026, 5)]
    assert len(months("2025-11..2026-10")) == 12


def test_since_is_the_last_complete_months():
    got = months(since=12, today=date(2026, 12, 1))
    assert got[0].label == "2025-12" and got[-1].label == "2026-11" and len(got) == 12
    assert months(since=1, today=date(2026, 3, 15)) == [Period(2026, 2)]


@pytest.mark.parametrize("period, since, words", [
    ("2026-10..2026-05", None, "ends before it starts"),
    ("2026-10..", None, "needs a first and a last month"),
    ("2026-13..2027-01", None, "is not a month"),
    ("2026-01", 3, "not both"),
    (None, 0, "from 1 to"),
    (f"2000-01..{2000 + MAX_MONTHS // 12}-02", None, "at most"),
])
def test_a_wrong_range_says_what_to_write(period, since, words):
    from kit.errors import ParametersError

    with pytest.raises(ParametersError, match=words) as e:
        months(period, since)
    assert e.value.fix


# ---------------------------------------------------------------------------- a range equals its months one by one


SMALL = "north"  # a small client of tests/conftest.py (SMALL_CLIENTS): the runner is under test, not the data


@pytest.fixture(scope="module")
def small_range(small_clients, tmp_path_factory):
    """A small client's September and October: in one range run, and as two runs one after the other."""
    out = tmp_path_factory.mktemp("range")
    pf = small_clients / f"{SMALL}.yml"
    together = ranges.run_months(pf, ranges.plan([SEP, OCT]), jobs=2, out=out / "range")
    apart = [batch.run_client(pf, p.label, jobs=2, out=out / "apart") for p in (SEP, OCT)]
    return out, together, apart


def test_a_range_run_equals_the_months_run_one_by_one(small_range):
    out, together, apart = small_range
    assert [r.status for r in together + apart] == ["ok"] * 4, [r.failure for r in together + apart]
    for p in (SEP, OCT):
        a, b = out / "range" / SMALL / p.label, out / "apart" / SMALL / p.label
        assert (a / "scores.parquet").exists() and (a / "maintenance.json").exists()
        assert differences(a, b) == [], p
    facts = [ranges.facts(history.read(out / r / SMALL), p.label) for r in ("range", "apart") for p in (SEP, OCT)]
    assert facts[:2] == facts[2:] and all(facts)
    # October read September's history and audit in both: the months were run in order
    oct_ = json.loads((out / "range" / SMALL / OCT.label / "audit.json").read_text())
    assert oct_["previous_period"] == SEP.label


def test_a_range_leaves_no_temporary_folder(small_range):
    out, _, _ = small_range
    assert sorted(p.name for p in (out / "range" / SMALL).iterdir() if p.name.startswith(".tmp")) == []


# ---------------------------------------------------------------------------- a rerun of an earlier month


MAINT = ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]


def _maintenance_months(params_file: Path, out: Path, labels: list[str]):
    return ranges.run_months(params_file, ranges.plan([Period.parse(m) for m in labels], ["maintenance"]), out=out)


def _correct_august(data: Path) -> None:
    """A corrected renewals export: August's lost renewals were in fact renewed."""
    path = data / "crm" / "renewal_opportunities.csv"
    raw = pl.read_csv(path, infer_schema=False)
    august = pl.col("Close Date").str.starts_with("2026-08")
    fixed = raw.with_columns(pl.when(august & (pl.col("Stage") == "Closed Lost")).then(pl.lit("Closed Won - Renewal"))
                             .otherwise(pl.col("Stage")).alias("Stage"))
    assert fixed["Stage"].to_list() != raw["Stage"].to_list()
    fixed.write_csv(path)


@pytest.fixture(scope="module")
def rerun(demo_dir, tmp_path_factory):
    """Five months checked; then August rerun after its renewals were corrected; and a fresh range on the corrected data."""
    root = tmp_path_factory.mktemp("rerun")
    data = root / "data"
    shutil.copytree(demo_dir, data)
    params_file = write_params(root / "parameters", data)
    first = _maintenance_months(params_file, root / "reports", MAINT)
    before = {m: json.loads((root / "reports" / "demo" / m / "maintenance.json").read_text()) for m in MAINT}
    _correct_august(data)
    again = _maintenance_months(params_file, root / "reports", ["2026-08"])
    fresh = _maintenance_months(params_file, root / "fresh", MAINT)
    return root, first, before, again, fresh


def test_a_rerun_month_updates_every_later_month_as_a_fresh_range_would(rerun):
    root, first, before, again, fresh = rerun
    assert [r.status for r in first + again + fresh] == ["ok"] * len(first + again + fresh), [r.failure for r in first + again + fresh]
    assert [(r.period, bool(r.updated)) for r in again] == [("2026-08", False), ("2026-09", True), ("2026-10", True)]
    for m in MAINT:
        a, b = root / "reports" / "demo" / m, root / "fresh" / "demo" / m
        assert (a / "maintenance.json").read_bytes() == (b / "maintenance.json").read_bytes(), m
        # the months run again equal the fresh range in full (June and July's manifests name the export they read, before the correction)
        assert differences(a, b) == ([] if m >= "2026-08" else ["manifest.json"]), m
    assert history.read(root / "reports" / "demo").drop("recorded_at").equals(history.read(root / "fresh" / "demo").drop("recorded_at"))


def test_the_change_reached_the_later_months_trigger(rerun):
    root, _, before, again, _ = rerun

    def trigger(doc):
        return next(c for c in doc["checks"] if c["name"] == "refinement_trigger")

    now = {m: json.loads((root / "reports" / "demo" / m / "maintenance.json").read_text()) for m in MAINT}
    assert next(c for c in now["2026-08"]["checks"] if c["name"] == "false_rate")["status"] != "red"  # August is no longer red
    # so September and October count their red months from September, not from June
    assert [trigger(before[m])["value"] for m in ("2026-09", "2026-10")] == [4, 5]
    assert [trigger(now[m])["value"] for m in ("2026-09", "2026-10")] == [1, 2]
    assert "Refinement trigger red -> amber" in again[1].updated and "2026-08 changed" in again[1].updated


def test_the_site_status_by_month_agrees_after_the_rerun(rerun, demo_params, tmp_path):
    root, *_ = rerun
    params_file = root / "parameters" / "demo.yml"
    from kit import params

    p = params.load(params_file)
    pages = [site.build_source(p, out=root / tree, site=tmp_path / tree).source / "maintenance" / "trends.qmd" for tree in ("reports", "fresh")]
    assert pages[0].read_text() == pages[1].read_text()
    assert "Status by month" in pages[0].read_text()


def test_the_summary_names_the_later_months_that_changed(rerun, capsys):
    from kit.run import console

    _, _, _, again, _ = rerun
    console.summary(again)
    out = capsys.readouterr().out
    assert "2 later month(s) checked again" in out
    assert "demo 2026-09: checked again after 2026-08 changed: Refinement trigger red -> amber" in out


# ---------------------------------------------------------------------------- a rerun re-states the forecasts

GO_LIVE, FORECAST_MONTHS = "2026-05", ["2026-06", "2026-07", "2026-08", "2026-09"]


def _double_arr_renewing(data: Path, start: str, end: str) -> list[str]:
    """A corrected accounts export: the ARR of the accounts renewing from `start` to `end` was half what it is."""
    renewals = pl.read_csv(data / "crm" / "renewal_opportunities.csv", infer_schema=False)
    due = renewals.with_columns(pl.col("Close Date").str.to_date("%Y-%m-%d", strict=False).alias("day")).filter(
        pl.col("day").is_between(date.fromisoformat(start), date.fromisoformat(end)))["Account ID"].unique().to_list()
    path = data / "crm" / "accounts.csv"
    raw = pl.read_csv(path, infer_schema=False)
    doubled = pl.col("ARR").str.replace_all(r"[$,]", "").cast(pl.Float64) * 2
    raw.with_columns(pl.when(pl.col("Account ID").is_in(due)).then(doubled.map_elements(lambda x: f"${x:,.2f}", pl.String))
                     .otherwise(pl.col("ARR")).alias("ARR")).write_csv(path)
    return due


@pytest.fixture(scope="module")
def restated(small_clients, tmp_path_factory):
    """A small client signed its card in May (the back-test's band churn rates); June to September checked; then
    June's ARR corrected for the accounts renewing in its forecast's quarter and June run again; and a fresh range
    on the corrected data (after the same May)."""
    root = tmp_path_factory.mktemp("restated")
    data = root / "data"
    shutil.copytree(small_clients.parent / "data" / SMALL, data)
    params_file = write_params(root / "parameters", data, client=SMALL)
    go_live = ranges.run_months(params_file, ranges.plan([Period.parse(GO_LIVE)], ["backtest"]), out=root / "reports")
    shutil.copytree(root / "reports" / SMALL / GO_LIVE, root / "fresh" / SMALL / GO_LIVE)
    first = _maintenance_months(params_file, root / "reports", FORECAST_MONTHS)
    june = json.loads((root / "reports" / SMALL / "2026-06" / "portfolio.json").read_text())["forecast"]
    due = _double_arr_renewing(data, june["from"], june["to"])
    again = _maintenance_months(params_file, root / "reports", ["2026-06"])
    fresh = _maintenance_months(params_file, root / "fresh", FORECAST_MONTHS)
    return root, go_live + first + again + fresh, june, due, again


def test_a_rerun_month_restates_the_later_months_forecasts_as_a_fresh_range_would(restated):
    root, results, june, due, again = restated
    assert [r.status for r in results] == ["ok"] * len(results), [r.failure for r in results]
    now = json.loads((root / "reports" / SMALL / "2026-06" / "portfolio.json").read_text())["forecast"]
    assert june["available"] and due and now["expected_arr"] > june["expected_arr"] * 1.5  # the correction reached the forecast
    # June's checks did not change (ARR is in none of them): the forecast alone sends the later months to be checked again
    assert [(r.period, bool(r.updated)) for r in again] == [("2026-06", False), ("2026-07", True), ("2026-08", True), ("2026-09", True)]
    assert "earlier forecasts against what happened re-stated" in again[-1].updated
    september = json.loads((root / "reports" / SMALL / "2026-09" / "portfolio.json").read_text())["forecasts_checked"]
    assert [c["period"] for c in september] == ["2026-06"] and september[0]["expected_arr"] == pytest.approx(now["expected_arr"])
    for m in FORECAST_MONTHS:
        assert differences(root / "reports" / SMALL / m, root / "fresh" / SMALL / m) == [], m


# ---------------------------------------------------------------------------- a failed month


def test_a_month_whose_export_is_unreadable_fails_alone(demo_dir, tmp_path, capsys):
    """Accounts exported each month ({period} in the path): September's file is corrupt."""
    data = tmp_path / "data"
    for m in ("2026-08", "2026-09", "2026-10"):
        (data / m).mkdir(parents=True)
        shutil.copy(demo_dir / "crm" / "accounts.csv", data / m / "accounts.csv")
    (data / "2026-09" / "accounts.csv").write_bytes(random.Random(7).randbytes(4000))
    pf = write_params(tmp_path / "parameters", demo_dir)
    pf.write_text(pf.read_text().replace(f"{demo_dir}/crm/accounts.csv", f"{data}/{{period}}/accounts.csv"))
    nbs = tiny_notebooks(tmp_path / "nb")
    code = cli.main(["run", str(pf), "--period", "2026-08..2026-10", "--only", "audit", "--out", str(tmp_path / "r"),
                     "--notebooks", str(nbs)])
    printed = capsys.readouterr()
    assert code == 1
    root = tmp_path / "r" / "demo"
    assert (root / "2026-08" / "audit.out.json").exists() and (root / "2026-10" / "audit.out.json").exists()
    assert not (root / "2026-09").exists()
    assert "1 of 3 run(s) failed" in printed.err and "demo 2026-09:" in printed.err
    assert "2026-09/accounts.csv" in printed.err and "[malformed_csv]" in printed.err and "Traceback" not in printed.err + printed.out


def test_a_later_month_says_an_earlier_month_is_missing():
    h = pl.DataFrame({"period": ["2026-07"], "name": ["false_rate"], "status": ["red"]})
    red = mt.CheckResult("false_rate", "red", 0.4)
    trig = mt.refinement_trigger(red, h, Period(2026, 9), mt.Maintenance(consecutive_months=3))
    assert trig.value == 1 and "no record for 2026-08" in trig.detail
    assert "no record" not in mt.refinement_trigger(red, None, Period(2026, 9), mt.Maintenance()).detail  # a first month: nothing missing


# ---------------------------------------------------------------------------- a rerun that would lose results


def test_a_rerun_with_a_header_only_renewals_export_keeps_the_period(small_range, small_clients, tmp_path):
    out, _, _ = small_range
    reports = tmp_path / "reports"
    shutil.copytree(out / "range", reports)
    data = tmp_path / "data"
    shutil.copytree(small_clients.parent / "data" / SMALL, data)
    renewals = data / "crm" / "renewal_opportunities.csv"
    renewals.write_text(renewals.read_text().splitlines()[0] + "\n")  # the header, no rows
    pf = write_params(tmp_path / "parameters", data, f"{SMALL}.yml", client=SMALL)
    folder = reports / SMALL / OCT.label
    kept = tree_digest(folder)
    r = batch.run_client(pf, OCT.label, jobs=2, out=reports)
    assert r.status == "failed" and "[would_lose_results]" in r.error
    assert "scores.parquet (file)" in r.error and "the back-test (now not available" in r.error
    assert "renewals table: " in r.error and "records before, now 0" in r.error and "--accept-missing" in r.error
    assert tree_digest(folder) == kept  # the period folder is as it was
    failed = reports / SMALL / f"{OCT.label}.failed"
    assert json.loads((failed / "manifest.json").read_text())["status"] == "failed"
    assert not (failed / "scores.parquet").exists()
    # on purpose: the folder is replaced by the run that has less (here the back-test alone, rerun:
    # its files of the last run are removed first, so no score of the old renewals stays behind)
    r = batch.run_client(pf, OCT.label, only=["backtest"], out=reports, accept_missing=True)
    assert r.status == "ok", r.failure
    assert not (folder / "scores.parquet").exists() and not failed.exists()
    assert json.loads((folder / "backtest.json").read_text())["available"] is False
    assert (folder / "weights.json").read_bytes() == (out / "range" / SMALL / OCT.label / "weights.json").read_bytes()


# ---------------------------------------------------------------------------- the quarterly check's schedule


def _recalibrations(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame({"period": [p for p, _ in rows], "name": ["recalibration"] * len(rows), "status": [s for _, s in rows],
                         "detail": ["largest drift"] * len(rows), "value": [0.1] * len(rows)})


def test_the_recalibration_schedule_names_the_last_run_and_the_next_due_month():
    h = _recalibrations([("2026-06", "red"), ("2026-07", "not checked"), ("2026-09", "green"), ("2026-10", "not checked")])
    s = mt.recalibration_schedule(h, Period(2026, 11))
    assert s.last["period"] == "2026-09" and s.next_due == Period(2026, 12) and s.missed == []
    assert "last ran for 2026-09: green" in s.text and "Next due: 2026-12" in s.text
    late = mt.recalibration_schedule(_recalibrations([("2026-03", "amber"), ("2026-06", "not checked")]), Period(2026, 11))
    assert late.last["period"] == "2026-03" and late.missed == ["2026-06", "2026-09"] and late.next_due == Period(2026, 12)
    never = mt.recalibration_schedule(_recalibrations([("2026-08", "not checked"), ("2026-09", "not checked")]), Period(2026, 9))
    assert never.last is None and never.missed == ["2026-09"] and never.next_due == Period(2026, 12)
    assert mt.recalibration_schedule(None, Period(2026, 11)).text.startswith("The quarterly recalibration check has not run yet")


# ---------------------------------------------------------------------------- the demo's engagement


def test_the_demo_runs_five_months_of_checks_before_its_latest_month():
    """The first is the go-live design: its back-test's card and band churn rates serve the months after it."""
    plan = demo.engagement(Period(2026, 11))
    assert [m.period.label for m in plan] == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    assert [m.only for m in plan[:-1]] == [("weights", "backtest", "maintenance"), ("maintenance",), ("maintenance",),
                                           ("weights", "maintenance"), ("maintenance",)]
    assert plan[-1].only is None


def test_the_demo_plants_false_positives_above_the_line_in_its_last_two_months(demo_params, demo_data, demo_truth):
    """Recomputed from the exports: renewing accounts scored red 90 days before their renewal."""
    planted = demo_truth["planted_maintenance"]["false_positive_months"]
    shares = {}
    for per in Period.containing(DEMO_END).previous(3).until(Period.containing(DEMO_END)):
        scored = mt.scored_renewals(demo_data.table("health_scores"), demo_data.table("renewals"), per, demo_params)
        renewing = scored.filter(~pl.col("churned"), pl.col("score").is_not_null())
        shares[per.label] = renewing.filter(pl.col("band") == "red").height / renewing.height
    limit = demo_params.maintenance.false_rate.red
    assert planted["months"] == 2
    assert [shares[m] > limit for m in ("2026-07", "2026-08", "2026-09", "2026-10")] == [False, False, True, True], shares


def test_demo_plans_its_months_without_changing_its_arguments(monkeypatch, tmp_path):
    """`demo` hands its plan (kit.demo.engagement) to the runner; the parsed arguments stay as parsed."""
    import copy

    from kit import demo as demo_mod

    seen = {}
    monkeypatch.setattr(demo_mod, "generate", lambda folder, end: None)
    monkeypatch.setattr(cli, "run_plan", lambda args, plan: seen.update(args=args, plan=plan) or 0)
    args = cli._parser().parse_args(["demo", "--period", "2026-11", "--out", str(tmp_path)])
    before = copy.deepcopy(vars(args))
    assert args.func(args) == 0
    assert vars(args) == before
    assert seen["plan"] == demo.engagement(Period(2026, 11)) and seen["args"].all is False and seen["args"].out == str(tmp_path)
