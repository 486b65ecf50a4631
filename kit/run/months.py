"""A client's run over several months: `run --period 2025-11..2026-10`, `--since 12`.

Each month runs as a run of its own would (kit.run.batch.run_client: its own atomic period folder,
`<period>.failed/` on failure, the history updated under the client lock after the commit), in
order, so that each month's maintenance check reads the months before it. A failed month does
not stop the later ones: their checks that read the history say the month is missing.

Read once. The months share one store of the client's sources (kit.io.cache.write): each source is
read and mapped by the first month that needs it and linked into the later months' caches, so a
SQL source is queried once per range; a file whose path names the month (`{period}`) is read once
per month. Each month filters the records as of its own last day, as a run of that month alone does.

A history that stays true. The history (kit.io.history) stores each month's own results, and a
month's maintenance check derives some values from the months before it: the refinement trigger's
count of red months in a row, the note that an earlier month is missing, the trend charts of its
page. Those derived values are written into the month's maintenance.json, its page and its history
records. A month's forecast of the next quarter's churn is kept in its portfolio.json, and each later
month sets the forecasts whose renewals have happened against what happened. When a run changes a
month's records or its forecast (a corrected export, a fixed mapping, a month that was missing),
every later month already in the history is checked again (`--only maintenance`, in order), so its
page, its maintenance.json, its portfolio.json and its records say what a fresh run of the whole
range would say. This is the simpler of the two designs: deriving the values when they are read
would still leave each month's executed notebook (its page) and maintenance.json stale, so it
would need the same reruns, plus a second place where the trigger is computed.
"""

from __future__ import annotations

import shutil
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

import polars as pl

from kit import REPORTS, registry
from kit import params as params_mod
from kit.errors import KitError
from kit.io import history, locks
from kit.periods import Period
from kit.run import batch, engine
from kit.run.batch import ClientResult, Progress


@dataclass(frozen=True)
class Month:
    """One month of a range and the notebooks it runs (None: all)."""

    period: Period
    only: tuple[str, ...] | None = None


def plan(periods: list[Period], only: list[str] | None = None) -> list[Month]:
    return [Month(p, tuple(only) if only else None) for p in periods]


def run_months(
    params_path: str | Path,
    months: list[Month],
    *,
    jobs: int = 1,
    out: str | Path = REPORTS,
    notebooks_dir: str | Path = batch.NOTEBOOK_DIR,
    progress: Progress | None = None,
    command: str | None = None,
    accept_missing: bool = False,
) -> list[ClientResult]:
    """Run the months in order, then check again the later months whose history changed. Never raises
    for bad input: one result per month (and per later month checked again) says how it went."""
    try:
        client = params_mod.load(params_path).client
    except KitError as e:
        return [ClientResult(Path(params_path).stem, str(params_path), m.period.label, "failed", error=str(e)) for m in months]
    client_root = Path(out).resolve() / client
    store = client_root / f".tmp-inputs-{uuid.uuid4().hex[:8]}"  # removed by the next run if this one is killed
    try:
        store.mkdir(parents=True)
    except OSError as e:  # the reports folder: not writable, a file in the way
        error = batch.not_writable(e, client_root)
        return [batch.failed_result(params_path, m.period.label, error, time.time()) for m in months]
    claim = locks.claim(store)
    before = history.read(client_root)
    forecasts = {m.period.label: forecast(client_root / m.period.label) for m in months}
    pool = engine.KernelPool()  # each notebook's kernel is kept for the next month (kit.run.engine)
    how = dict(jobs=jobs, out=out, notebooks_dir=notebooks_dir, command=command, store=store, pool=pool)
    try:
        results = []
        for m in months:
            label = m.period.label
            say = None if progress is None else (lambda c, n, ev, label=label: progress(f"{c} {label}", n, ev))
            results.append(batch.run_client(params_path, label, only=_only(m), progress=say, accept_missing=accept_missing, **how))
        return results + _recheck_later(params_path, client_root, before, forecasts, [m.period for m in months], progress, how)
    finally:
        pool.close()
        locks.release(claim)
        shutil.rmtree(store, ignore_errors=True)


def _only(m: Month) -> list[str] | None:
    return list(m.only) if m.only else None


def _recheck_later(params_path, client_root: Path, before: pl.DataFrame, forecasts: dict[str, dict | None], ran: list[Period],
                   progress, how: dict) -> list[ClientResult]:
    """The maintenance check again for every month recorded after the range, once a month of the range
    changed its history records or its forecast (see the module docstring)."""
    after = history.read(client_root)
    changed = [p.label for p in ran
               if facts(before, p.label) != facts(after, p.label) or forecasts[p.label] != forecast(client_root / p.label)]
    last = max(ran).label
    later = sorted(p for p in set(after["period"].to_list()) if p > last)
    if not changed or not later:
        return []
    results = []
    for label in later:
        old, old_checked = _maintenance(client_root / label), _portfolio(client_root / label).get("forecasts_checked")
        say = None if progress is None else (lambda c, n, ev, label=label: progress(f"{c} {label}", n, ev))
        r = batch.run_client(params_path, label, only=[registry.MAINTENANCE.name], progress=say, **how)
        if r.status == "ok":
            what = differences(old, _maintenance(client_root / label))
            if _portfolio(client_root / label).get("forecasts_checked") != old_checked:
                what.append("earlier forecasts against what happened re-stated")
            r.updated = (f"checked again after {', '.join(changed)} changed: "
                         + (", ".join(what) if what else "nothing changed"))
        else:
            r.updated = f"checked again after {', '.join(changed)} changed, and failed: its page still reads the old history"
        results.append(r)
    return results


def facts(h: pl.DataFrame, period: str) -> list[tuple]:
    """A month's history records as comparable rows (when they were recorded left out)."""
    return sorted(h.filter(pl.col("period") == period).drop("recorded_at").rows())


def differences(old: dict, new: dict) -> list[str]:
    """The checks of two maintenance.json documents that differ: `title status -> status` (or `title detail`)."""
    was = {c["name"]: c for c in old.get("checks") or []}
    out = []
    for c in new.get("checks") or []:
        o = was.get(c["name"], {})
        if o.get("status") != c.get("status"):
            out.append(f"{c.get('title', c['name'])} {o.get('status', 'absent')} -> {c['status']}")
        elif (o.get("value"), o.get("detail")) != (c.get("value"), c.get("detail")):
            out.append(f"{c.get('title', c['name'])} ({c.get('detail') or c.get('value')})")
    return out


def _read(kind, folder: Path) -> dict:
    """A month's result of `kind` (kit.artefacts.Document: its maintenance.json, its portfolio.json) as written; none
    when it cannot be read (every check then reads as changed)."""
    try:
        found = kind.read(folder)
    except (KitError, OSError):
        return {}
    return found.doc if found else {}


def _maintenance(folder: Path) -> dict:
    from kit.analyses.maintenance import MaintenanceDocument

    return _read(MaintenanceDocument, folder)


def _portfolio(folder: Path) -> dict:
    from kit.analyses.accounts import PortfolioDocument

    return _read(PortfolioDocument, folder)


def forecast(folder: Path) -> dict | None:
    """A month's forecast of the next quarter's churn as written, to tell whether a run changed it."""
    return _portfolio(folder).get("forecast")


def run_all(
    params_dir: str | Path,
    months: list[Month],
    *,
    jobs: int = 1,
    out: str | Path = REPORTS,
    notebooks_dir: str | Path = batch.NOTEBOOK_DIR,
    on_done: Callable[[list[ClientResult]], None] | None = None,
    accept_missing: bool = False,
) -> list[ClientResult]:
    """Every client in `params_dir` over the months, `jobs` clients at a time; one client's failure does
    not stop the others. `on_done` gets each client's results (one per month) as the client finishes."""
    files = batch.parameter_files(params_dir)
    how = dict(out=out, notebooks_dir=notebooks_dir, accept_missing=accept_missing)
    results: list[ClientResult] = []
    if jobs <= 1:
        for f in files:
            rs = run_months(f, months, **how)
            results += rs
            on_done and on_done(rs)
        return results
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=batch.worker_init)
    try:
        futures = {pool.submit(run_months, f, months, **how): f for f in files}
        for fut in as_completed(futures):
            try:
                rs = fut.result()
            except Exception as e:  # a worker crash is a failure of that client only
                f = futures[fut]
                rs = [ClientResult(f.stem, str(f), m.period.label, "failed", error=f"runner crashed: {e}") for m in months]
            results += rs
            on_done and on_done(rs)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: each worker cleans up its own run, then the batch stops
        for proc in list((pool._processes or {}).values()):
            if proc.is_alive():
                proc.terminate()  # SIGTERM: the worker's run_client removes its temporary folder
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return sorted(results, key=lambda r: (r.params_path, r.period))
