"""The batch runner: executes a client's notebooks with papermill into reports/<client>/<period>/.

A run writes into a hidden temporary folder next to the period folder and replaces the period
folder only when every notebook succeeded. A failed run is kept in `<period>.failed/` with the
executed notebooks (errors included) and logs, and never touches the last good period folder.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

from kit import REPO, charts, notebooks
from kit import params as params_mod
from kit.io import cache, history, locks
from kit.run import export, manifest
from kit.errors import KitError, ParametersError, RunError, Stopped
from kit.io.load import ClientData, earliest
from kit.periods import Period

NOTEBOOK_DIR = REPO / "notebooks"
REPORTS = REPO / "reports"
# What each notebook reads from others in the same run (weights.json feeds the back-test and the
# quarterly recalibration check).

Progress = Callable[[str, str, str], None]  # (client, notebook, event)


@dataclass
class NotebookResult:
    name: str
    status: str  # ok | failed | skipped
    seconds: float = 0.0
    notebook: str = ""
    html: str = ""
    log: str = ""
    error: dict | None = None


@dataclass
class ClientResult:
    client: str
    params_path: str
    period: str
    status: str  # ok | failed
    folder: str = ""  # where the reports (or the failed run) are
    seconds: float = 0.0
    error: str = ""
    notebooks: list[NotebookResult] = field(default_factory=list)
    retried: str = ""  # why the run started again (on a cluster: its worker was lost mid-run)

    @property
    def failure(self) -> str:
        if self.error:
            return self.error
        bad = [n for n in self.notebooks if n.status != "ok"]
        if not bad:
            return ""
        n = bad[0]
        if n.error:
            return f"{n.name}: {n.error.get('summary', '')} (log: {n.log})"
        return f"{n.name}: {n.status}"


def order(only: list[str] | None) -> list[str]:
    """Notebook names to run, in dependency order."""
    names = list(only or notebooks.NAMES)
    unknown = [n for n in names if n not in notebooks.NAMES]
    if unknown:
        raise ParametersError(f"unknown notebook(s) {unknown}", where="--only", fix=f"choose from {', '.join(notebooks.NAMES)}")
    return [n for n in notebooks.NAMES if n in names]


def run_client(
    params_path: str | Path,
    period: str | None = None,
    *,
    only: list[str] | None = None,
    jobs: int = 1,
    out: str | Path = REPORTS,
    notebooks_dir: str | Path = NOTEBOOK_DIR,
    progress: Progress | None = None,
    command: str | None = None,
) -> ClientResult:
    """Run one client's notebooks for one period. Never raises for bad input: the result says what failed.
    `command` is what the manifest records as the command that ran it (default: this process's)."""
    started = time.time()
    progress = progress or (lambda *a: None)
    try:
        params = params_mod.load(params_path)
        per = Period.parse(period)
        names = order(only)
    except KitError as e:
        return ClientResult(Path(params_path).stem, str(params_path), period or "", "failed", error=str(e), seconds=time.time() - started)

    def failed(e: KitError) -> ClientResult:
        return ClientResult(params.client, str(params_path), per.label, "failed", error=str(e), seconds=time.time() - started)

    global _RUNNING
    client_root = Path(out).resolve() / params.client
    final = client_root / per.label
    tmp: Path | None = None
    claim: int | None = None
    committed = False
    _RUNNING += 1
    try:
        tmp, claim = _start(client_root, final, per, partial=set(names) != set(notebooks.NAMES))
        warm = _warm_up(names, Path(notebooks_dir), tmp, jobs, {})  # the first kernels import while the data is read
        try:
            progress(params.client, "", "inputs")
            # the client's data, read once for the whole run: every notebook reads this cache (kit.io.cache);
            # an unusable accounts table stops the run here, with its reason
            data = cache.write(ClientData(params), tmp)
            check_period(data, per)
        except BaseException:
            for k in warm.values():
                k.cancel()
            raise
        parameters = {"params_path": str(Path(params_path).resolve()), "period": per.label, "run_dir": str(tmp)}
        results = _execute_all(names, Path(notebooks_dir), tmp, parameters, jobs, lambda n, ev: progress(params.client, n, ev), warm)
        previous = (manifest.read(tmp / "manifest.json") or {}).get("notebooks", {})
        ran = {**previous, **{r.name: _relative(asdict(r), tmp) for r in results}}
        m = manifest.build(params, per.label, data.inputs, ran, started, time.time(), command)
        manifest.write(tmp / "manifest.json", m)
        cache.remove(tmp)  # the reports are what is kept, not the run's copy of the data
        ok = m["status"] == "ok"
        with locks.client(client_root):  # one commit at a time per client: the period folder is replaced whole
            folder = _commit(tmp, final) if ok else _keep_failed(tmp, client_root / f"{per.label}.failed")
        committed = True
        error = ""
        if ok and "maintenance" in names and (folder / "maintenance.json").exists():
            error = _record_history(client_root, folder / "maintenance.json")  # only committed runs enter it
        return ClientResult(
            params.client, str(params_path), per.label, "ok" if ok and not error else "failed", str(folder),
            time.time() - started, error=error, notebooks=[_relocate(r, tmp, folder) for r in results],
        )
    except KitError as e:
        return failed(e)
    except OSError as e:  # the reports folder: not writable, full disk, a file in the way
        return failed(RunError(
            f"cannot write the reports ({e.strerror or type(e).__name__}{f': {e.filename}' if e.filename else ''})",
            where=str(client_root), code="reports_not_writable",
            fix="make the folder writable for the user running the batch (and check free disk space), or choose another with --out",
        ))
    finally:
        _RUNNING -= 1
        if claim is not None:
            locks.release(claim)
        if tmp is not None and not committed:
            shutil.rmtree(tmp, ignore_errors=True)


def check_period(data: ClientData, per: Period) -> None:
    """The period does not end before every record of the client's data."""
    first = earliest(data)
    if first and min(first.values()) > per.end:
        start = min(first.values())
        shown = ", ".join(f"{t} from {d:%Y-%m-%d}" for t, d in sorted(first.items(), key=lambda x: x[1])[:4])
        raise RunError(
            f"period {per.label} ends ({per.end:%Y-%m-%d}) before any of the client's data ({shown})", where="--period",
            code="period_before_data", fix=f"choose a period from {Period.containing(start).label} on, e.g. --period {Period.last_complete().label}",
        )


def _start(client_root: Path, final: Path, per: Period, *, partial: bool) -> tuple[Path, int]:
    """The run's temporary folder next to the period folder, claimed for this process.

    Under the client lock: folders left by runs that were killed are removed first, a read-only
    period folder stops the run (it is kept as it is), and a partial rerun starts from a copy of
    the period folder, taken while no other run can be replacing it."""
    client_root.mkdir(parents=True, exist_ok=True)
    with locks.client(client_root):
        clean_stale(client_root)
        if final.exists() and not _writable(final):
            raise RunError(
                "the period folder is read-only, so it is kept as it is and not replaced", where=str(final),
                code="period_protected", fix=f"to rerun the period, make it writable first (chmod -R u+w {final}); or run another period",
            )
        tmp = client_root / f".tmp-{per.label}-{uuid.uuid4().hex[:8]}"
        if final.exists() and partial:
            shutil.copytree(final, tmp)  # a partial rerun keeps the other notebooks' outputs
        else:
            tmp.mkdir()
        claim = locks.claim(tmp)
    (tmp / "logs").mkdir(exist_ok=True)
    return tmp, claim


def _writable(folder: Path) -> bool:
    """Writable by this user, and not marked read-only (no owner write bit: protected even from root)."""
    return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & stat.S_IWUSR)


def clean_stale(client_root: Path) -> list[Path]:
    """Remove what runs that were killed left behind (call under the client lock): temporary folders
    no live process claims, and old period folders a commit did not get to delete (or put back, if
    the commit was killed before the new one took its place)."""
    gone = []
    for p in client_root.glob(".tmp-*"):
        if p.is_dir() and not locks.claimed(p):
            shutil.rmtree(p, ignore_errors=True)
            gone.append(p)
    for p in client_root.glob(".old-*"):
        period = client_root / p.name.removeprefix(".old-").rsplit("-", 1)[0]
        if period.exists():
            shutil.rmtree(p, ignore_errors=True)
        else:  # killed between the commit's two renames: the previous version is the one to keep
            p.rename(period)
        gone.append(p)
    return gone


def _record_history(client_root: Path, report: Path) -> str:
    """Add the period's maintenance checks to the client's history; a failure is reported, not raised."""
    try:
        history.record(client_root, report)
        return ""
    except Exception as e:  # the period's reports are committed; say plainly what is missing
        return (f"reports committed, but the maintenance history was not updated: {type(e).__name__}: {e}; "
                f"rerun with --only maintenance once fixed")


def _relative(d: dict, root: Path) -> dict:
    for k in ("notebook", "html", "log"):
        if d.get(k):
            d[k] = str(Path(d[k]).relative_to(root))
    return d


def _relocate(r: NotebookResult, tmp: Path, folder: Path) -> NotebookResult:
    for k in ("notebook", "html", "log"):
        v = getattr(r, k)
        if v:
            setattr(r, k, str(folder / Path(v).relative_to(tmp)))
    return r


def _commit(tmp: Path, final: Path) -> Path:
    """Replace the period folder with the finished run. The old folder is moved aside first and
    removed last, so at every moment one complete version exists on disk. Called under the
    client lock (two runs of one period commit one after the other, the later one wins whole)."""
    old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
    if final.exists() and not _writable(final):
        raise RunError(
            "the period folder was made read-only during the run, so it is kept as it is and the run's results are discarded",
            where=str(final), code="period_protected", fix=f"make it writable (chmod -R u+w {final}) and rerun the period",
        )
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    failed = final.with_name(f"{final.name}.failed")
    shutil.rmtree(failed, ignore_errors=True)  # a stale failure is no longer news
    return final


def _keep_failed(tmp: Path, failed: Path) -> Path:
    shutil.rmtree(failed, ignore_errors=True)
    tmp.rename(failed)
    return failed


# ---------------------------------------------------------------------------- executing notebooks


def _warm_up(pending: list[str], notebooks_dir: Path, run_dir: Path, jobs: int, warm: dict) -> dict:
    """Start the kernels of the next notebooks to run (kit.run.engine.WarmKernel), up to 2 x `jobs`
    kernels alive (`warm` holds those started already, running ones included)."""
    from kit.run import engine

    for n in [n for n in pending if n not in warm and (notebooks_dir / notebooks.NOTEBOOKS[n].file).exists()][: max(0, 2 * max(1, jobs) - len(warm))]:
        warm[n] = engine.WarmKernel(notebooks_dir / notebooks.NOTEBOOKS[n].file, run_dir)
    return warm


def _execute_all(names, notebooks_dir: Path, run_dir: Path, parameters: dict, jobs: int, progress, warm: dict | None = None) -> list[NotebookResult]:
    """Run notebooks after those they need (kit.notebooks), up to `jobs` at a time, each in a fresh kernel.

    Each notebook's kernel is started ahead (kit.run.engine.WarmKernel: imports done, nothing else)
    while earlier notebooks run (the first ones while the runner reads the data: `warm`), at most
    2 x `jobs` kernels alive at once; a notebook whose dependency failed is skipped and its kernel
    shut down unused. Notebooks run in threads of this process: the work happens in the kernels, so
    the runner pays its own imports once.
    """
    import queue

    from kit.run import engine

    results: dict[str, NotebookResult] = {}
    pending = list(names)  # not started yet, in dependency order
    warm = dict(warm or {})
    running: set[str] = set()
    finished: queue.Queue = queue.Queue()
    jobs = max(1, jobs)

    def blocked(n):
        return [d for d in notebooks.NOTEBOOKS[n].needs if d in results and results[d].status != "ok"]

    def ready(n):
        return all(d in results or d not in names for d in notebooks.NOTEBOOKS[n].needs)

    def skip(n):
        results[n] = NotebookResult(n, "skipped", error={"summary": f"skipped: {', '.join(blocked(n))} failed"})
        pending.remove(n)
        if n in warm:
            warm.pop(n).cancel()

    def source(n):
        return notebooks_dir / notebooks.NOTEBOOKS[n].file

    try:
        while pending or running:
            for n in [n for n in pending if blocked(n)]:
                skip(n)
            for n in [n for n in pending if ready(n)]:
                if len(running) >= jobs:
                    break
                pending.remove(n)
                running.add(n)
                progress(n, "start")
                k = warm.pop(n, None) or engine.WarmKernel(source(n), run_dir)
                args = (n, str(source(n)), str(run_dir / notebooks.NOTEBOOKS[n].file), parameters, str(run_dir / "logs" / f"{n}.log"))
                k.on_done = lambda k, n=n: finished.put(n)
                k.go(lambda km, args=args: execute(*args, km=km))
                warm[n] = k
            _warm_up(pending, notebooks_dir, run_dir, jobs, warm)  # kernels for the next notebooks start while these run
            if not running:
                continue
            n = finished.get()
            running.discard(n)
            k = warm.pop(n)
            try:
                results[n] = k.result()
            except Exception as e:  # noqa: BLE001 - execute never raises; a crash of the thread is a failure
                results[n] = NotebookResult(n, "failed", error={"summary": f"{type(e).__name__}: {_first_line(str(e))}"})
            progress(n, results[n].status)
    finally:
        for k in warm.values():
            k.cancel()
    return [results[n] for n in names]


def execute(name: str, source: str, target: str, parameters: dict, log_path: str, km=None) -> NotebookResult:
    """Execute one notebook with papermill (in `km`, a started kernel manager, if given), then write
    its HTML. Returns, never raises."""
    import threading

    charts.skip_iri_grammar()  # nbformat's schema validator imports jsonschema
    import papermill as pm

    started = time.time()
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    me = threading.get_ident()
    handler.addFilter(lambda record: record.thread == me)  # notebooks run concurrently: only this one's lines
    logger = logging.getLogger("papermill")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    error = None
    try:
        if not Path(source).exists():
            raise FileNotFoundError(f"notebook {source} not found")
        # The kernel runs in run_dir (a warm one was started there; a cold one is started there by nbclient
        # from resources). Never papermill's `cwd`: it changes the whole process's working directory, and
        # notebooks running side by side (or clients on one Dask worker) restored each other's, leaving
        # the process in a temporary run folder that was then renamed.
        pm.execute_notebook(
            source, target, parameters=parameters, kernel_name="python3", log_output=True,
            progress_bar=False, start_timeout=180, resources={"metadata": {"path": parameters["run_dir"]}},
            **({"km": km} if km is not None else {}),
        )
    except pm.PapermillExecutionError as e:
        error = {
            "cell": e.exec_count,
            "cell_index": e.cell_index,
            "ename": e.ename,
            "evalue": e.evalue,
            "summary": f"cell {e.exec_count} raised {e.ename}: {_first_line(e.evalue)}",
        }
    except Exception as e:  # kernel died, notebook missing, ...
        error = {"summary": f"{type(e).__name__}: {_first_line(str(e))}"}
    finally:
        logger.removeHandler(handler)
        handler.close()
    html = ""
    if Path(target).exists():
        try:
            html = str(export.to_html(Path(target), Path(target).with_suffix(".html")))
        except Exception as e:  # an unexportable notebook must not hide the run's result
            error = error or {"summary": f"HTML export failed: {_first_line(str(e))}"}
    if error:
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(f"\nFAILED: {error['summary']}\n")
    return NotebookResult(
        name, "failed" if error else "ok", round(time.time() - started, 2),
        target if Path(target).exists() else "", html, log_path, error,
    )


def _first_line(text: str) -> str:
    lines = [x for x in str(text).strip().splitlines() if x.strip()]
    return lines[0][:300] if lines else ""


# ---------------------------------------------------------------------------- all clients


def parameter_files(params_dir: str | Path) -> list[Path]:
    d = Path(params_dir)
    return sorted([*d.glob("*.yml"), *d.glob("*.yaml")])


def run_all(
    params_dir: str | Path,
    period: str | None = None,
    *,
    only: list[str] | None = None,
    jobs: int = 1,
    out: str | Path = REPORTS,
    notebooks_dir: str | Path = NOTEBOOK_DIR,
    on_done: Callable[[ClientResult], None] | None = None,
) -> list[ClientResult]:
    """Every client in `params_dir`, `jobs` at a time; one client's failure does not stop the others."""
    files = parameter_files(params_dir)
    results: list[ClientResult] = []
    if jobs <= 1:
        for f in files:
            r = run_client(f, period, only=only, out=out, notebooks_dir=notebooks_dir)
            results.append(r)
            on_done and on_done(r)
        return results
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_worker_init)
    try:
        futures = {pool.submit(run_client, f, period, only=only, out=out, notebooks_dir=notebooks_dir): f for f in files}
        for fut in as_completed(futures):
            try:
                r = fut.result()
            except Exception as e:  # a worker crash is a failure of that client only
                f = futures[fut]
                r = ClientResult(f.stem, str(f), period or "", "failed", error=f"runner crashed: {e}")
            results.append(r)
            on_done and on_done(r)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: each worker cleans up its own run, then the batch stops
        for proc in list((pool._processes or {}).values()):
            if proc.is_alive():
                proc.terminate()  # SIGTERM: the worker's run_client removes its temporary folder
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return sorted(results, key=lambda r: r.params_path)


_RUNNING = 0  # run_client calls in progress in this process (a worker stops quietly when idle)


def _worker_init() -> None:
    """In each --all worker: Ctrl-C is left to the parent, which stops the workers with SIGTERM; SIGTERM stops
    the client's run the way Ctrl-C would (its temporary folder is removed), or ends an idle worker quietly."""
    import signal

    def on_term(signum, frame):
        if _RUNNING:
            raise Stopped()
        os._exit(143)

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, on_term)

