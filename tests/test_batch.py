"""The batch runner end to end: outputs, manifest, failure handling and the command line."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import nbformat
import pytest

from kit import cli, registry
from kit.run import batch

from .conftest import DEMO_PERIOD, tiny_notebooks, tree_digest, write_params


# ---------------------------------------------------------------------------- the demo batch


def test_a_run_leaves_the_working_directory_alone(demo_run):
    """Notebooks run side by side (jobs=2) must not leave the process in a run folder: the demo's
    temporary folder is renamed when the run commits, and a later run or publish then failed."""
    cwd = os.getcwd()  # raises FileNotFoundError when the process was left in a renamed folder
    assert Path(demo_run.folder).parent.resolve() not in Path(cwd).resolve().parents


def test_a_cold_kernel_runs_in_the_run_folder_without_moving_the_process(tmp_path):
    """Without a warm kernel (warm-up failed), the notebook still runs in run_dir, and the runner's
    working directory never changes meanwhile: other notebooks and other clients share the process."""
    import threading
    import time

    nbs = tiny_notebooks(tmp_path / "nb", extra="import os\npathlib.Path(run_dir, 'cwd.txt').write_text(os.getcwd())")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    before, seen, done = os.getcwd(), set(), threading.Event()

    def watch():
        while not done.is_set():
            seen.add(os.getcwd())
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        r = batch.execute("audit", str(nbs / registry.NOTEBOOKS["audit"].file), str(run_dir / "out.ipynb"),
                          {"params_path": "x.yml", "period": DEMO_PERIOD, "run_dir": str(run_dir)}, str(tmp_path / "audit.log"))
    finally:
        done.set()
        watcher.join()
    assert r.status == "ok", r.error
    assert Path((run_dir / "cwd.txt").read_text()).resolve() == run_dir.resolve()
    assert seen == {before}


def test_demo_batch_outputs_and_manifest(demo_run, demo_params_file, demo_dir):
    folder = Path(demo_run.folder)
    assert folder.name == DEMO_PERIOD and folder.parent.name == "demo"
    assert [n.name for n in demo_run.notebooks] == list(registry.NAMES)
    for file in (n.file for n in registry.NOTEBOOKS.values()):
        assert (folder / file).exists()
        html = (folder / file).with_suffix(".html").read_text()
        assert "<html" in html
        assert 'src="http' not in html and "cdn.jsdelivr" not in html  # works offline
        assert "params_path" not in html  # input cells hidden
    m = json.loads((folder / "manifest.json").read_text())
    assert m["client"] == "demo" and m["period"] == DEMO_PERIOD and m["status"] == "ok"
    assert m["kit_version"] and m["packages"]["polars"] and m["packages"]["papermill"]
    assert m["parameters"]["client"] == "demo" and m["parameters"]["lead_time_days"] == 90
    assert set(m["inputs"]) == set(m["parameters"]["sources"])
    accounts = m["inputs"]["accounts"]
    path = demo_dir / "crm" / "accounts.csv"
    assert accounts["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert accounts["rows"] == len(path.read_text().splitlines()) - 1
    for name, entry in m["notebooks"].items():
        assert entry["status"] == "ok" and entry["seconds"] > 0
        assert (folder / entry["log"]).exists() and (folder / entry["html"]).exists()
    # the executed notebook carries the injected parameters
    nb = nbformat.read(folder / "01_audit.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and f'period = "{DEMO_PERIOD}"' in injected[0].source
    # no temporary folders left behind
    assert not [p for p in folder.parent.iterdir() if p.name.startswith((".tmp-", ".old-"))]


# ---------------------------------------------------------------------------- failures


@pytest.fixture()
def client(tmp_path, demo_dir):
    return write_params(tmp_path / "parameters", demo_dir, "acme.yml", client="acme")


def test_the_demos_planted_drop_is_among_the_months_biggest_drops(demo_run, demo_truth):
    """kit.demo cuts the usage of 20 named accounts to a fifth in the last month: each of them fell with usage as what
    moved it most, every one in the steepest eighth of the month's changes and most in the page's list of the biggest
    drops (the demo's other accounts move too: a drop can be offset by another measure's rise)."""
    import polars as pl

    from kit import demo
    from kit.analyses.accounts import PortfolioDocument

    folder = Path(demo_run.folder)
    planted = demo_truth["defect_ids"]["usage_drop"]
    assert len(planted) == demo.PLANTED_MAINTENANCE["usage_drop"]["accounts"]
    frame = pl.read_parquet(folder / registry.ACCOUNTS_PARQUET)
    rows = frame.filter(pl.col("account_id").is_in(planted))
    assert rows.height == len(planted)
    usage = {"usage", *demo.DRIVER_SIGNALS["usage"], "feature_api_calls"}  # the usage component, or a usage measure of a card
    assert (rows["change_30d"] < 0).all() and set(rows["reason_1"]) <= usage, rows.select("account_id", "change_30d", "reason_1")
    assert (rows["reason_1_points"] < 0).all()
    ranked = frame.drop_nulls("change_30d").sort(["change_30d", "account_id"])["account_id"].to_list()
    assert max(ranked.index(a) for a in planted) < len(ranked) / 8
    drops = [r["account_id"] for r in PortfolioDocument.read(folder).doc["biggest_drops"]]
    assert len(set(planted) & set(drops)) >= len(planted) / 2


def test_the_demos_month_is_stable_and_a_platform_range_typed_wrong_is_caught(demo_run, demo_params_file, tmp_path):
    """The demo's month, unchanged but for 20 accounts, keeps score stability green; its platform running the card the
    run designed (scorecard.json) with one range typed wrong for 60 accounts lists exactly the accounts it scores
    differently, each explained by that measure."""
    from kit import params as params_mod
    from kit.analyses import parity, scorecard
    from kit.analyses.accounts import PortfolioDocument
    from kit.io.load import ClientData
    from kit.periods import Period

    from .support import misconfigured

    folder = Path(demo_run.folder)
    assert PortfolioDocument.read(folder).doc["stability"]["score"]["status"] == "green"
    p = params_mod.load(demo_params_file)
    month = Period.parse(DEMO_PERIOD)
    plant = misconfigured.platform(p, ClientData(p), scorecard.read(folder), month, tmp_path, write_params)
    card, _ = parity.adopted(plant.params, tmp_path / "reports")
    r = parity.check(ClientData(plant.params), card, month, plant.params.maintenance.score_tolerance)
    assert len(plant.expected) >= 5
    assert {row["account_id"] for row in r["accounts"]} == plant.expected
    assert {row["measure"] for row in r["accounts"]} == {plant.signal}


def test_a_population_shift_in_the_demo_turns_its_cards_score_stability_red(demo_run, demo_dir, tmp_path):
    """The card the demo's run designed (scorecard.json, judged against the accounts at its cut), whose heaviest measure
    is logins per active user: the month as it is stays green; the same month with every login of the last quarter
    counted half as often (a tracking change in the product) reads red, with that measure the one that moved most."""
    import shutil
    from datetime import date, timedelta

    import polars as pl

    from kit import params as params_mod
    from kit.analyses import accounts, scorecard
    from kit.io.load import ClientData
    from kit.periods import Period

    doc = scorecard.read(Path(demo_run.folder))
    heaviest = max(doc["measures"], key=lambda m: m["weight"])["signal"]
    assert heaviest.startswith("logins_per_user")  # the demo's card: what the planted shift is aimed at
    card = accounts.Card(scorecard.to_score(doc), "the demo's scorecard", cut=date.fromisoformat(doc["cut"]))
    month = Period.parse(DEMO_PERIOD)
    shifted = tmp_path / "data"
    shutil.copytree(demo_dir, shifted)
    usage = shifted / "product" / "daily_usage.parquet"
    pl.read_parquet(usage).with_columns(pl.when(pl.col("day") > month.end - timedelta(days=90)).then(pl.col("sessions") // 2)
                                        .otherwise(pl.col("sessions")).cast(pl.Int32).alias("sessions")).write_parquet(usage)
    out = {}
    for name, folder in (("as is", demo_dir), ("shifted", shifted)):
        p = params_mod.load(write_params(tmp_path / name, folder))
        data = ClientData(p)
        out[name] = accounts.stability(data, card, month, accounts.of_month(data, p, month, card))
    assert out["as is"]["score"]["status"] == "green", out["as is"]["score"]["psi"]
    assert out["shifted"]["score"]["status"] == "red" and out["shifted"]["score"]["psi"] > accounts.SHIFTED
    assert out["shifted"]["moved_most"] == heaviest


def test_the_registry_names_every_file_a_run_writes(demo_run):
    """kit.registry lists each notebook's files (a partial rerun removes them first): a full run writes those, the
    manifest and the personal values publishing replaces, and nothing else."""
    folder = Path(demo_run.folder)
    written = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    named = {f for nb in registry.NOTEBOOKS.values() for f in nb.files}
    assert written == named | {registry.MANIFEST, registry.PERSONAL}


def test_failed_run_leaves_the_previous_reports_intact(tmp_path, client):
    out = tmp_path / "reports"
    good = batch.run_client(client, "2026-09", out=out, notebooks_dir=tiny_notebooks(tmp_path / "ok"))
    assert good.status == "ok"
    period = out / "acme" / "2026-09"
    before = tree_digest(period)
    assert json.loads((period / "audit.out.json").read_text()) == {"period": "2026-09", "params": str(client.resolve())}

    bad = batch.run_client(client, "2026-09", out=out, notebooks_dir=tiny_notebooks(tmp_path / "bad", fail="backtest"))
    assert bad.status == "failed"
    assert tree_digest(period) == before  # not a byte changed
    failed = out / "acme" / "2026-09.failed"
    assert Path(bad.folder) == failed
    statuses = {n.name: n.status for n in bad.notebooks}
    assert statuses == {"audit": "ok", "weights": "ok", "backtest": "failed", "maintenance": "ok"}
    b = next(n for n in bad.notebooks if n.name == "backtest")
    assert b.error["ename"] == "ValueError" and "planted failure in 2026-09" in b.error["evalue"]
    assert b.error["cell"] is not None and "cell" in bad.failure and "log:" in bad.failure
    executed = nbformat.read(failed / "03_backtest.ipynb", as_version=4)
    assert any(o.get("ename") == "ValueError" for c in executed.cells for o in c.get("outputs", []))
    assert "planted failure" in (failed / "logs" / "backtest.log").read_text()
    assert json.loads((failed / "manifest.json").read_text())["status"] == "failed"

    # a later successful run replaces the period and clears the stale failure
    again = batch.run_client(client, "2026-09", out=out, notebooks_dir=tiny_notebooks(tmp_path / "ok"))
    assert again.status == "ok" and not failed.exists()


def test_a_history_that_cannot_be_updated_fails_the_client_but_keeps_its_reports(tmp_path, client):
    nbs = tiny_notebooks(tmp_path / "nb")
    nb = nbformat.read(nbs / registry.NOTEBOOKS["maintenance"].file, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("pathlib.Path(run_dir, 'maintenance.json').write_text('{\"period\": \"x\"}')"))
    nbformat.write(nb, nbs / registry.NOTEBOOKS["maintenance"].file)
    r = batch.run_client(client, "2026-09", out=tmp_path / "r", notebooks_dir=nbs)
    assert r.status == "failed" and "maintenance history was not updated" in r.error
    assert (tmp_path / "r" / "acme" / "2026-09" / "maintenance.json").exists()


def test_dependents_of_a_failed_notebook_are_skipped(tmp_path, client):
    r = batch.run_client(client, "2026-09", out=tmp_path / "r", notebooks_dir=tiny_notebooks(tmp_path / "nb", fail="weights"), jobs=2)
    assert {n.name: n.status for n in r.notebooks} == {"audit": "ok", "weights": "failed", "backtest": "skipped", "maintenance": "skipped"}


def test_partial_rerun_keeps_other_outputs(tmp_path, client):
    out = tmp_path / "reports"
    nbs = tiny_notebooks(tmp_path / "nb")
    batch.run_client(client, "2026-09", out=out, notebooks_dir=nbs)
    period = out / "acme" / "2026-09"
    audit_before = (period / "01_audit.ipynb").read_bytes()
    r = batch.run_client(client, "2026-09", out=out, notebooks_dir=nbs, only=["backtest"])
    assert r.status == "ok" and [n.name for n in r.notebooks] == ["backtest"]
    assert (period / "01_audit.ipynb").read_bytes() == audit_before
    m = json.loads((period / "manifest.json").read_text())
    assert set(m["notebooks"]) == set(registry.NAMES)


def test_bad_parameters_fail_the_client_with_the_message(tmp_path):
    f = tmp_path / "broken.yml"
    f.write_text("client: ../evil\nname: X\nsources: {accounts: {path: a.csv}}\n")
    r = batch.run_client(f, "2026-09", out=tmp_path / "r")
    assert r.status == "failed" and "not a safe folder name" in r.error
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_missing_required_source_fails_before_running(tmp_path):
    f = tmp_path / "nofile.yml"
    f.write_text("client: nofile\nname: X\nsources: {accounts: {path: missing.csv}}\n")
    r = batch.run_client(f, "2026-09", out=tmp_path / "r")
    assert r.status == "failed" and "missing.csv" in r.error and "file not found" in r.error
    assert not (tmp_path / "r" / "nofile" / "2026-09").exists()


def test_run_all_goes_on_after_a_failure(tmp_path, demo_dir, capsys):
    pdir = tmp_path / "parameters"
    write_params(pdir, demo_dir, "alpha.yml", client="alpha")
    write_params(pdir, demo_dir, "gamma.yml", client="gamma")
    (pdir / "beta.yml").write_text("client: beta\nname: Beta\nsources: {accounts: {path: nowhere.csv}}\n")
    nbs = tiny_notebooks(tmp_path / "nb")
    code = cli.main(["run", "--all", "--params-dir", str(pdir), "--period", "2026-09", "--jobs", "2",
                     "--out", str(tmp_path / "r"), "--notebooks", str(nbs), "--only", "audit"])
    assert code == 1
    captured = capsys.readouterr()
    assert "1 of 3 run(s) failed" in captured.err and "beta" in captured.err and "nowhere.csv" in captured.err
    assert (tmp_path / "r" / "alpha" / "2026-09" / "audit.out.json").exists()
    assert (tmp_path / "r" / "gamma" / "2026-09" / "audit.out.json").exists()


# ---------------------------------------------------------------------------- command line


def test_validate_command(demo_params_file, tmp_path, capsys):
    assert cli.main(["validate", str(demo_params_file)]) == 0
    out = capsys.readouterr()
    assert "accounts" in out.out and "created_at" in out.err  # the planted unparseable dates are a warning
    assert cli.main(["validate", "--strict", str(demo_params_file)]) == 1
    bad = tmp_path / "bad.yml"
    bad.write_text("client: x\nname: X\nsources: {accounts: {path: a.csv}, tickets: {path: t.csv}}\n")
    (tmp_path / "a.csv").write_text("account_id\nA1\n")
    assert cli.main(["validate", str(bad)]) == 2
    assert "t.csv" in capsys.readouterr().err


def test_cli_rejects_bad_arguments(capsys, demo_params_file):
    assert cli.main(["run", str(demo_params_file), "--period", "2026-13"]) == 2  # a wrong argument: nothing runs
    assert "is not a month" in capsys.readouterr().err
    assert cli.main(["run", str(demo_params_file), "--jobs", "0"]) == 2
    assert cli.main(["run"]) == 2
    with pytest.raises(SystemExit):
        cli.main(["run", str(demo_params_file), "--only", "nonsense"])


def test_last_complete_month_is_the_default():
    from datetime import date

    from kit.periods import Period

    assert Period.last_complete(date(2026, 1, 15)).label == "2025-12"
    assert Period.last_complete(date(2026, 3, 1)).label == "2026-02"
    assert Period.parse(None) == Period.last_complete()
    assert Period(2026, 3).closes_quarter and not Period(2026, 2).closes_quarter
    assert Period(2026, 1).previous().label == "2025-12"


def test_a_commit_killed_between_its_two_renames_gets_the_previous_version_back(tmp_path):
    """The commit moves the period folder aside, then renames the run into place: killed in between
    (a lost worker), the next run puts the previous version back instead of deleting it."""
    root = tmp_path / "client"
    aside = root / ".old-2026-09-cafe0000"
    (aside / "logs").mkdir(parents=True)
    (aside / "manifest.json").write_text('{"status": "ok"}')
    (root / ".old-2026-08-beef0000").mkdir()
    (root / "2026-08").mkdir()  # the commit got through: the old version only waited to be deleted
    batch.clean_stale(root)
    assert (root / "2026-09" / "manifest.json").read_text() == '{"status": "ok"}' and not aside.exists()
    assert (root / "2026-08").exists() and not (root / ".old-2026-08-beef0000").exists()
