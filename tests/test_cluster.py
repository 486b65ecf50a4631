"""Batches on a Dask cluster (kit.run.cluster): a scheduler and two worker processes on 127.0.0.1,
started with dask's own command line as the README shows, run small clients with `--cluster`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kit.periods import Period
from kit.run import manifest, months
from kit import registry
from kit import cli
from tests.conftest import DEMO_PERIOD, SMALL_CLIENTS, tiny_notebooks

ARTEFACTS = ("audit.json", "weights.json", "backtest.json", "maintenance.json")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1 (kit.run.cluster.local)."""
    pytest.importorskip("distributed")
    from kit.run import cluster

    with cluster.local(workers=2, logs=tmp_path_factory.mktemp("dask")) as address:
        yield address


def _manifest(folder: Path) -> dict:
    """The manifest without what differs between two runs of the same inputs: when it ran and how long
    it took (`created_at`, `seconds`, each notebook's `seconds`), and the command (the local run was
    started from Python; the cluster's records the batch command and the worker it ran on)."""
    m = json.loads((folder / "manifest.json").read_text())
    for nb in m["notebooks"].values():
        del nb["seconds"]
    return {k: v for k, v in m.items() if k not in ("created_at", "seconds", "command")}


PAIR = ("north", "south")  # two clients: one for each worker


def test_a_batch_on_the_cluster_gives_the_artefacts_of_a_local_run(scheduler, small_clients, tmp_path, capsys):
    pair = tmp_path / "parameters"
    pair.mkdir()
    for client in PAIR:
        shutil.copy(small_clients / f"{client}.yml", pair)
    local = months.run_all(pair, months.plan([Period.parse(DEMO_PERIOD)]), jobs=2, out=tmp_path / "local")
    assert [r.status for r in local] == ["ok"] * len(PAIR), [r.failure for r in local]
    capsys.readouterr()
    code = cli.main(["run", "--all", "--cluster", scheduler, "--params-dir", str(pair), "--period", DEMO_PERIOD,
                     "--out", str(tmp_path / "cluster")])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "batch summary" in out.out and "2/2" in out.out
    workers = {line.rsplit(" ", 1)[-1] for line in out.out.splitlines() if " started on tcp://127.0.0.1:" in line}
    assert len(workers) == 2  # the clients were spread over both workers
    for client in PAIR:
        a, b = tmp_path / "local" / client / DEMO_PERIOD, tmp_path / "cluster" / client / DEMO_PERIOD
        for name in ARTEFACTS:  # byte for byte: nothing in them depends on where or when the run happened
            assert (b / name).read_bytes() == (a / name).read_bytes(), (client, name)
        assert _manifest(b) == _manifest(a) and _manifest(b)["status"] == "ok"
        ran = json.loads((b / "manifest.json").read_text())["command"]  # the batch's command, and the worker
        assert ran.startswith(manifest.command_line()) and ran.removesuffix(")").rsplit(" ", 1)[-1] in workers
        assert not list(b.parent.glob(".tmp-*")) and not (b / ".cache").exists()


# Every notebook of a client listed here, on the run's first KILLS[client] starts, records its kernel's
# parent (the worker process) and waits to be killed, once two notebooks have written their outputs.
KILLS = {"north": 1, "east": 2}
WAIT = """
import os, time
if pathlib.Path(params_path).stem in {kills!r}:
    stem = pathlib.Path(params_path).stem
    done = len(list(pathlib.Path(run_dir).glob("*.out.json")))
    starts = len(list(pathlib.Path(params_path).parent.glob(stem + ".worker-*")))
    if done == 2 and starts < {kills!r}[stem]:
        pathlib.Path(params_path).with_name(f"{{stem}}.worker-{{starts + 1}}").write_text(str(os.getppid()))
        time.sleep(300)
"""


def test_a_worker_lost_mid_run_never_leaves_a_partial_period_folder(scheduler, small_clients, tmp_path, capsys):
    """north loses its worker once (run again elsewhere, complete), east twice (reported failed,
    no period folder), south none; a watcher checks the period folders all along."""
    params = shutil.copytree(small_clients, tmp_path / "parameters")
    nbs = tiny_notebooks(tmp_path / "nb", extra=WAIT.format(kills=KILLS))
    out = tmp_path / "reports"
    stop, partial, killed = threading.Event(), [], []

    def watch():
        while not stop.is_set():
            for client in SMALL_CLIENTS:
                folder = out / client / DEMO_PERIOD
                try:
                    files = {p.name for p in folder.iterdir()}
                except FileNotFoundError:
                    continue
                if not {"manifest.json", *(f"{n}.out.json" for n in registry.NAMES)} <= files:
                    partial.append((client, sorted(files)))
            for marker in params.glob("*.worker-*"):
                if marker.name not in killed:
                    killed.append(marker.name)
                    os.kill(int(marker.read_text()), signal.SIGKILL)  # the worker process, as the OOM killer would
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        code = cli.main(["run", "--all", "--cluster", scheduler, "--params-dir", str(params), "--period", DEMO_PERIOD,
                         "--out", str(out), "--notebooks", str(nbs)])
    finally:
        stop.set()
        watcher.join(10)
    text = capsys.readouterr()
    printed = text.out + text.err
    assert code == 1, printed  # east failed
    assert sorted(killed) == ["east.worker-1", "east.worker-2", "north.worker-1"]
    assert partial == []
    for client in ("north", "south"):
        folder = out / client / DEMO_PERIOD
        assert json.loads((folder / "manifest.json").read_text())["status"] == "ok"
        assert all((folder / f"{n}.out.json").exists() for n in registry.NAMES)
    assert not (out / "east" / DEMO_PERIOD).exists() and not (out / "east" / f"{DEMO_PERIOD}.failed").exists()
    # the summary says what happened: north ran again on another worker, east was lost twice
    assert "[north] worker tcp://127.0.0.1:" in printed and "running again" in printed
    assert "1 client(s) ran again after losing a worker" in printed and "- north: its worker tcp://127.0.0.1:" in printed
    assert "1 of 3 run(s) failed" in printed
    assert "east" in printed and "were lost mid-run 2 times" in printed and "[worker_lost]" in printed
    assert "not run a third time" in printed
    assert "Traceback" not in printed


def test_a_range_of_months_runs_on_the_cluster_month_by_month(scheduler, small_clients, tmp_path, capsys):
    """`run --all --cluster --period A..B`: each client's months in order on its worker, one summary row per client and month."""
    code = cli.main(["run", "--all", "--cluster", scheduler, "--params-dir", str(small_clients), "--period", "2026-08..2026-10",
                     "--only", "audit", "--out", str(tmp_path / "r"), "--notebooks", str(tiny_notebooks(tmp_path / "nb"))])
    out = capsys.readouterr().out
    assert code == 0, out
    for client in SMALL_CLIENTS:
        for m in ("2026-08", "2026-09", "2026-10"):
            assert json.loads((tmp_path / "r" / client / m / "audit.out.json").read_text())["period"] == m
            assert f"│ {client}" in out and f"│ {m}" in out
        assert f"{client} 2026-08..2026-10 (3 months): ok" in out


def test_nothing_on_the_default_path_imports_dask(small_clients, tmp_path):
    """Without --cluster, neither the runner nor the notebooks' kernels import Dask."""
    nbs = tiny_notebooks(tmp_path / "nb", extra="import sys\nassert not {'dask', 'distributed'} & set(sys.modules), 'Dask imported'")
    run = ["run", "--all", "--params-dir", str(small_clients), "--period", DEMO_PERIOD, "--out", str(tmp_path / "r"), "--notebooks", str(nbs)]
    code = (f"import sys\nfrom kit import cli\ncode = cli.main({run!r})\n"
            "print('dask modules:', sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\nsys.exit(code)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "dask modules: []" in r.stdout


def test_cluster_mistakes_get_a_clear_message(small_clients, capsys, monkeypatch):
    from kit.run import cluster

    assert cli.main(["run", str(small_clients / "north.yml"), "--cluster", "tcp://127.0.0.1:8786"]) == 2
    assert "--all" in capsys.readouterr().err
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2)
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    assert cli.main(["run", "--all", "--params-dir", str(small_clients), "--cluster", address]) == 2
    err = capsys.readouterr().err
    assert f"{address}: cannot reach the Dask scheduler" in err and "[cluster_unreachable]" in err and "dask scheduler" in err
    assert "Traceback" not in err


def test_the_progress_counts_clients_done_failed_and_running(capsys):
    from kit.run import console
    from kit.run.batch import ClientResult

    def start(client, worker, lost=()):
        return {"client": client, "worker": worker, "attempt": len(lost) + 1, "lost": list(lost), "run": len(lost) < 2}

    with console.AllProgress(3) as bar:
        assert bar.counts() == "clients: 0 done, 0 failed"  # a local batch: runs do not report their start
        bar.started(start("north", "tcp://10.0.0.1:1"))
        bar.started(start("south", "tcp://10.0.0.2:1"))
        assert bar.counts() == "clients: 0 done, 0 failed, 2 running"
        bar.done([ClientResult("north", "/p/north.yml", "2026-10", "ok", seconds=1.0)])
        bar.started(start("east", "tcp://10.0.0.3:1", ["tcp://10.0.0.1:1"]))
        bar.done([ClientResult("south", "/p/south.yml", "2026-10", "failed", error="planted")])
        assert bar.counts() == "clients: 1 done, 1 failed, 1 running"
    out = capsys.readouterr().out
    assert "[east] worker tcp://10.0.0.1:1 was lost mid-run; running again on tcp://10.0.0.3:1 (attempt 2)" in out
    assert "[2/3] south 2026-10: FAILED" in out
