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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from kit import REPO, REPORTS, charts, registry
from kit import params as params_mod
from kit.io import cache, history, locks, personal
from kit.run import export, losses, manifest
from kit.errors import KitError, ParametersError, RunError, Stopped, first_line
from kit.io.load import ClientData, earliest
from kit.periods import Period

NOTEBOOK_DIR = REPO / "notebooks"
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
    updated: str = ""  # a later month rerun because an earlier one changed the history: what changed (kit.run.months)

    @property
    def failing_notebook(self) -> str:
        return next((n.name for n in self.notebooks if n.status == "failed"), "")

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
    names = list(only or registry.NAMES)
    unknown = [n for n in names if n not in registry.NAMES]
    if unknown:
        raise ParametersError(f"unknown notebook(s) {unknown}", where="--only", fix=f"choose from {', '.join(registry.NAMES)}")
    return [n for n in registry.NAMES if n in names]


@dataclass
class _Started:
    """A month's run before its data is read: its temporary folder, claimed, and its first kernels starting."""

    params_path: str
    params: params_mod.Parameters
    period: Period
    names: list[str]
    client_root: Path
    tmp: Path
    claim: int
    warm: dict

    @property
    def final(self) -> Path:
        return self.client_root / self.period.label


def _begin(params_path: str | Path, period: str | None, *, only: list[str] | None, jobs: int, out: str | Path,
           notebooks_dir: str | Path, pool) -> _Started:
    """Claim a month's temporary folder and start its first kernels (they import while the data is read)."""
    per = Period.parse(period)
    params = params_mod.load(params_path).for_period(per.label)
    names = order(only)
    client_root = Path(out).resolve() / params.client
    try:
        tmp, claim = _start(client_root, client_root / per.label, per, names)
    except OSError as e:
        raise not_writable(e, client_root) from None
    try:
        warm = _warm_up(names, Path(notebooks_dir), tmp, jobs, {}, pool)
    except BaseException:
        locks.release(claim)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return _Started(str(params_path), params, per, names, client_root, tmp, claim, warm)


def failed_result(params_path: str | Path, period: str | None, e: KitError, started: float) -> ClientResult:
    """A run that failed before it had a folder: the client (if its parameters load) and the reason."""
    try:
        client = params_mod.load(params_path).client
    except KitError:
        client = Path(params_path).stem
    return ClientResult(client, str(params_path), period or "", "failed", error=str(e), seconds=time.time() - started)


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
    store: Path | None = None,
    accept_missing: bool = False,
    pool=None,
) -> ClientResult:
    """Run one client's notebooks for one period. Never raises for bad input: the result says what failed.
    `command` is what the manifest records as the command that ran it (default: this process's);
    `store`: the sources read for a whole range of months (kit.io.cache.write, kit.run.months);
    `accept_missing`: replace the period folder even where the new run has less (kit.run.losses);
    `pool`: kernels kept from the client's previous month (kit.run.engine.KernelPool), and given back."""
    global _RUNNING
    started = time.time()
    progress = progress or (lambda *a: None)
    _RUNNING += 1
    run, committed = None, False
    try:
        run = _begin(params_path, period, only=only, jobs=jobs, out=out, notebooks_dir=notebooks_dir, pool=pool)
        params, per, names, client_root, final, tmp = run.params, run.period, run.names, run.client_root, run.final, run.tmp
        try:
            progress(params.client, "", "inputs")
            # the client's data, read once for the whole run: every notebook reads this cache (kit.io.cache);
            # an unusable accounts table stops the run here, with its reason
            data = cache.write(ClientData.deferred(params), tmp, store)
            check_period(data, per)
            personal.of(data).write(tmp)  # what publishing replaces, so it never reads a source again
        except BaseException:
            for k in run.warm.values():
                k.cancel()
            raise
        parameters = {"params_path": str(Path(params_path).resolve()), "period": per.label, "run_dir": str(tmp)}
        results = _execute_all(names, Path(notebooks_dir), tmp, parameters, jobs, lambda n, ev: progress(params.client, n, ev), run.warm, pool)
        previous = (manifest.read(tmp / registry.MANIFEST) or {}).get("notebooks", {})
        ran = {**previous, **{r.name: _relative(asdict(r), tmp) for r in results}}
        m = manifest.build(params, per.label, data.inputs, ran, started, time.time(), command)
        manifest.write(tmp / registry.MANIFEST, m)
        cache.remove(tmp)  # the reports are what is kept, not the run's copy of the data
        ok = m["status"] == "ok"
        error = ""
        with locks.client(client_root):  # one commit at a time per client: the period folder is replaced whole
            lost = losses.find(final, tmp) if ok and final.exists() and not accept_missing else None
            if lost:
                ok, error = False, str(_would_lose(lost, final))
                manifest.write(tmp / registry.MANIFEST, {**m, "status": "failed", "stopped": error})
            folder = _commit(tmp, final) if ok else _keep_failed(tmp, client_root / f"{per.label}.failed")
        committed = True
        if ok and "maintenance" in names and (folder / registry.MAINTENANCE_JSON).exists():
            error = _record_history(client_root, folder)  # only committed runs enter it
        return ClientResult(
            params.client, str(params_path), per.label, "ok" if ok and not error else "failed", str(folder),
            time.time() - started, error=error, notebooks=[_relocate(r, tmp, folder) for r in results],
        )
    except KitError as e:
        return failed_result(params_path, run.period.label if run else period, e, started)
    except OSError as e:  # the reports folder: not writable, full disk, a file in the way
        return failed_result(params_path, run.period.label if run else period,
                             not_writable(e, run.client_root if run else Path(out).resolve()), started)
    finally:
        _RUNNING -= 1
        if run is not None:
            locks.release(run.claim)
            if not committed:
                shutil.rmtree(run.tmp, ignore_errors=True)


def not_writable(e: OSError, where: Path) -> RunError:
    return RunError(
        f"cannot write the reports ({e.strerror or type(e).__name__}{f': {e.filename}' if e.filename else ''})",
        where=str(where), code="reports_not_writable",
        fix="make the folder writable for the user running the batch (and check free disk space), or choose another with --out",
    )


def _would_lose(lost: losses.Losses, final: Path) -> RunError:
    return RunError(
        f"not committed: the rerun {lost.describe()}. The period folder is kept as it was; the new run is in {final.name}.failed/",
        where=str(final), code="would_lose_results",
        fix="fix the input named above (export it again, check the mapping) and rerun the period; to replace the folder "
            "with the new run on purpose, rerun with --accept-missing",
    )


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


def _start(client_root: Path, final: Path, per: Period, names: list[str]) -> tuple[Path, int]:
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
        if final.exists() and set(names) != set(registry.NAMES):
            shutil.copytree(final, tmp)  # a partial rerun keeps the other notebooks' outputs, and only theirs
            for name in names:
                for f in registry.NOTEBOOKS[name].files:
                    (tmp / f).unlink(missing_ok=True)
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


def _record_history(client_root: Path, folder: Path) -> str:
    """Add the period's maintenance checks (its maintenance.json) to the client's history; a failure is reported,
    not raised."""
    from kit.analyses.maintenance import MaintenanceDocument

    try:
        history.record(client_root, MaintenanceDocument.read(folder).doc)
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


def _warm_up(pending: list[str], notebooks_dir: Path, run_dir: Path, jobs: int, warm: dict, pool=None) -> dict:
    """Start the kernels of the next notebooks to run (kit.run.engine.WarmKernel), up to 2 x `jobs`
    kernels alive (`warm` holds those started already, running ones included); from `pool` first."""
    for n in [n for n in pending if n not in warm and (notebooks_dir / registry.NOTEBOOKS[n].file).exists()][: max(0, 2 * max(1, jobs) - len(warm))]:
        warm[n] = _kernel(notebooks_dir / registry.NOTEBOOKS[n].file, run_dir, pool)
    return warm


def _kernel(notebook: Path, run_dir: Path, pool=None):
    """A kernel for `notebook` in `run_dir`: kept from the previous month (`pool`), else a new one
    (kept for the next month when there is a pool)."""
    from kit.run import engine

    return (pool and pool.take(notebook, run_dir)) or engine.WarmKernel(notebook, run_dir, kept=pool is not None)


def _execute_all(names, notebooks_dir: Path, run_dir: Path, parameters: dict, jobs: int, progress, warm: dict | None = None,
                 pool=None) -> list[NotebookResult]:
    """Run notebooks after those they need (kit.registry), up to `jobs` at a time, each in a fresh kernel.

    Each notebook's kernel is started ahead (kit.run.engine.WarmKernel: imports done, nothing else)
    while earlier notebooks run (the first ones while the runner reads the data: `warm`), at most
    2 x `jobs` kernels alive at once; a notebook whose dependency failed is skipped and its kernel
    shut down unused. Notebooks run in threads of this process: the work happens in the kernels, so
    the runner pays its own imports once.
    """
    import queue


    results: dict[str, NotebookResult] = {}
    pending = list(names)  # not started yet, in dependency order
    warm = dict(warm or {})
    running: set[str] = set()
    finished: queue.Queue = queue.Queue()
    jobs = max(1, jobs)

    def blocked(n):
        return [d for d in registry.NOTEBOOKS[n].needs if d in results and results[d].status != "ok"]

    def ready(n):
        return all(d in results or d not in names for d in registry.NOTEBOOKS[n].needs)

    def skip(n):
        results[n] = NotebookResult(n, "skipped", error={"summary": f"skipped: {', '.join(blocked(n))} failed"})
        pending.remove(n)
        if n in warm:
            _done_with(warm.pop(n), pool, used=False)

    def source(n):
        return notebooks_dir / registry.NOTEBOOKS[n].file

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
                k = warm.pop(n, None) or _kernel(source(n), run_dir, pool)
                args = (n, str(source(n)), str(run_dir / registry.NOTEBOOKS[n].file), parameters, str(run_dir / "logs" / f"{n}.log"))
                k.on_done = lambda k, n=n: finished.put(n)
                k.go(lambda km, args=args: execute(*args, km=km))
                warm[n] = k
            _warm_up(pending, notebooks_dir, run_dir, jobs, warm, pool)  # kernels for the next notebooks start while these run
            if not running:
                continue
            n = finished.get()
            running.discard(n)
            k = warm.pop(n)
            try:
                results[n] = k.result()
            except Exception as e:  # noqa: BLE001 - execute never raises; a crash of the thread is a failure
                results[n] = NotebookResult(n, "failed", error={"summary": f"{type(e).__name__}: {first_line(str(e))}"})
            if k.kept:
                _done_with(k, pool, used=results[n].status == "ok")
            progress(n, results[n].status)
    finally:
        for k in warm.values():
            _done_with(k, pool, used=False)
    return [results[n] for n in names]


def _done_with(k, pool, *, used: bool) -> None:
    """A kernel this run no longer needs: kept for the next month when its notebook succeeded (or it
    never ran one), else shut down."""
    if pool is not None and k.kept and k.alive and (used or not k.runs):
        pool.give(k)
    else:
        k.cancel()


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
            "summary": f"cell {e.exec_count} raised {e.ename}: {first_line(e.evalue)}",
        }
    except Exception as e:  # kernel died, notebook missing, ...
        error = {"summary": f"{type(e).__name__}: {first_line(str(e))}"}
    finally:
        logger.removeHandler(handler)
        handler.close()
    html = ""
    if Path(target).exists():
        try:
            html = str(export.to_html(Path(target), Path(target).with_suffix(".html")))
        except Exception as e:  # an unexportable notebook must not hide the run's result
            error = error or {"summary": f"HTML export failed: {first_line(str(e))}"}
    if error:
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(f"\nFAILED: {error['summary']}\n")
    return NotebookResult(
        name, "failed" if error else "ok", round(time.time() - started, 2),
        target if Path(target).exists() else "", html, log_path, error,
    )



# ---------------------------------------------------------------------------- all clients


def parameter_files(params_dir: str | Path) -> list[Path]:
    d = Path(params_dir)
    return sorted([*d.glob("*.yml"), *d.glob("*.yaml")])


_RUNNING = 0  # run_client calls in progress in this process (a worker stops quietly when idle)


def worker_init() -> None:
    """In each --all worker: Ctrl-C is left to the parent, which stops the workers with SIGTERM; SIGTERM stops
    the client's run the way Ctrl-C would (its temporary folder is removed), or ends an idle worker quietly."""
    import signal

    def on_term(signum, frame):
        if _RUNNING:
            raise Stopped()
        os._exit(143)

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, on_term)

