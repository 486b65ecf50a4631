"""A batch on a Dask cluster: `python -m kit run --all --cluster tcp://HOST:PORT`.

One task per client goes to an existing Dask distributed scheduler (`dask scheduler` and `dask
worker`, or any deployment: Kubernetes, YARN, HPC through dask-jobqueue). Each task runs
`kit.run.months.run_months` on a worker (the client's months in order), so every client keeps the runner's guarantees there: the period
folder replaced whole, a failed run kept in `<period>.failed/`, the history updated under the
per-client lock, the client's data read once. Workers need the kit installed and the same paths
for the parameters, the data and the reports (a shared file system); database credentials come
from the workers' environment.

A worker lost mid-run (killed, out of memory, its machine gone) leaves no half-written period
folder: a run writes into a temporary folder that only a finished run renames into place, and the
next run of the client removes what is left. The scheduler hands the task to another worker, where
it runs again from the start, once: a client that loses its second worker too is reported failed
with both workers' addresses (so is one the scheduler itself gives up on, `KilledWorker`).

Dask is imported in this module only, and only when a batch goes to a cluster.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from kit import REPORTS
from kit.run import batch, manifest
from kit.run.batch import ClientResult
from kit.run.months import Month, run_months
from kit.errors import RunError, first_line

CONNECT_SECONDS = 10  # to reach the scheduler
WORKER_SECONDS = 60  # for a first worker to join it
RUNS = 2  # a client's run starts at most this often: the first, and once again after its worker was lost
LOST_FIX = "see the lost workers' logs (killed? out of memory? machine gone?), then rerun the client"


def run_all(
    address: str,
    params_dir: str | Path,
    months: list[Month],
    *,
    jobs: int = 1,
    out: str | Path = REPORTS,
    notebooks_dir: str | Path = batch.NOTEBOOK_DIR,
    on_start: Callable[[dict], None] | None = None,
    on_done: Callable[[list[ClientResult]], None] | None = None,
    accept_missing: bool = False,
) -> list[ClientResult]:
    """Every client in `params_dir` as a task on the cluster at `address`, each over the `months` in
    order (kit.run.months); `jobs` notebooks of a client run side by side on its worker. `on_start`
    gets {client, worker, attempt, lost} when a client's run starts on a worker (and `run`: False
    when it is not run again); `on_done` each client's results (one per month) as they arrive."""
    distributed = _dask()
    files = batch.parameter_files(params_dir)
    client = connect(address)
    batch_id = uuid.uuid4().hex[:12]
    topic = f"healthkit-{batch_id}"
    results: list[ClientResult] = []
    with client:
        if on_start is not None:
            client.subscribe_topic(topic, lambda event: on_start(event[1]))
        settings = dict(jobs=jobs, out=str(Path(out).resolve()), notebooks_dir=str(Path(notebooks_dir).resolve()),
                        topic=topic, command=manifest.command_line(), accept_missing=accept_missing)
        futures = {
            client.submit(run_on_worker, str(f.resolve()), months, **settings, key=f"healthkit-{f.stem}-{batch_id}", pure=False): f
            for f in files
        }
        try:
            for future in distributed.as_completed(futures, loop=client.loop):
                rs = _result(future, futures[future], months, distributed)
                results += rs
                on_done and on_done(rs)
        except KeyboardInterrupt:
            client.cancel(list(futures))
            from kit.run.console import err

            err.print("clients not started yet are cancelled; runs already on a worker finish there (each commits whole or is kept as failed)")
            raise
    return sorted(results, key=lambda r: (r.params_path, r.period))


def connect(address: str):
    """A client of the scheduler at `address`, once at least one worker has joined it."""
    from distributed import Client

    fix = ("check the address (tcp://HOST:PORT, as `dask scheduler` prints it) and that the scheduler runs; "
           "on one machine: `dask scheduler` and `dask worker tcp://127.0.0.1:8786`")
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise RunError(f"cannot reach the Dask scheduler ({first_line(e)})", where=address, code="cluster_unreachable", fix=fix) from None
    try:
        client.wait_for_workers(1, timeout=WORKER_SECONDS)
    except TimeoutError:
        client.close()
        raise RunError(f"no worker joined the Dask scheduler within {WORKER_SECONDS} s", where=address, code="cluster_unreachable",
                       fix=f"start workers: `dask worker {address}` on machines that have the kit installed and the same paths") from None
    return client


def run_on_worker(params_path: str, months: list[Month], *, jobs: int, out: str, notebooks_dir: str, topic: str,
                  command: str, accept_missing: bool = False) -> list[ClientResult]:
    """One client's run over the months, on a worker (its manifests record the batch's `command` and the worker). The
    workers that started it before are kept in a Dask Variable named after the task: a task that
    starts a third time has lost two workers and is not run again."""
    from distributed import Variable, get_worker

    worker = get_worker()
    started = Variable(f"{worker.get_current_task()}-workers")
    try:
        before = list(started.get(timeout=0))
    except TimeoutError:
        before = []
    again = len(before) < RUNS
    worker.log_event(topic, {"client": Path(params_path).stem, "worker": worker.address, "attempt": len(before) + 1, "lost": before, "run": again})
    if not again:
        started.delete()
        return _failed(params_path, months, RunError(
            f"the workers running it were lost mid-run {len(before)} times ({', '.join(before)}); it is not run again",
            where=params_path, code="worker_lost", fix=LOST_FIX))
    started.set([*before, worker.address])
    results = run_months(params_path, months, jobs=jobs, out=out, notebooks_dir=notebooks_dir,
                         command=f"{command} (on worker {worker.address})", accept_missing=accept_missing)
    started.delete()
    for r in results if before else []:
        r.retried = f"its worker {before[-1]} was lost mid-run; run again from the start on {worker.address}"
    return results


def _result(future, params_file: Path, months: list[Month], distributed) -> list[ClientResult]:
    try:
        return future.result()
    except distributed.KilledWorker as e:  # the scheduler's own limit (distributed.scheduler.allowed-failures)
        return _failed(str(params_file), months, RunError(
            f"the scheduler gave up on it after losing the workers running it ({first_line(e)})", where=str(params_file),
            code="worker_lost", fix=LOST_FIX))
    except Exception as e:  # the task itself failed on its worker: the kit missing there, a bug
        hint = "install the kit on every worker (pip install -e '.[cluster]')" if isinstance(e, ImportError) else "see the worker's log"
        return _failed(str(params_file), months, RunError(
            f"the run failed on its worker: {type(e).__name__}: {first_line(e)}", where=str(params_file), code="worker_error", fix=hint))


def _failed(params_path: str, months: list[Month], error: RunError) -> list[ClientResult]:
    return [ClientResult(Path(params_path).stem, params_path, m.period.label, "failed", error=str(error)) for m in months]


def _dask():
    try:
        import distributed
    except ImportError:
        raise RunError("Dask distributed is not installed", where="--cluster", code="cluster_unreachable",
                       fix="pip install -e '.[cluster]' (make setup installs it)") from None
    return distributed


@contextmanager
def local(workers: int = 2, logs: Path | None = None) -> Iterator[str]:
    """A scheduler and `workers` worker processes (one thread each, under a nanny that restarts a
    killed worker) on 127.0.0.1 and a free port, started with dask's command line as the README shows;
    yields the scheduler's address once every worker has joined, stops them afterwards. For the tests
    and the benchmark; `logs` keeps their output."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).with_name("dask"))

    def start(name: str, *args: str) -> subprocess.Popen:
        log = (logs / f"{name}.log").open("w") if logs else subprocess.DEVNULL
        return subprocess.Popen([dask, *args, "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=log)

    procs = [start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port))]
    procs += [start(f"worker{i}", "worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--name", f"w{i}") for i in range(workers)]
    try:
        from distributed import Client

        with Client(address, timeout=60, set_as_default=False) as c:
            c.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
