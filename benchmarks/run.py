"""Batch speed benchmark (not a test): `python -m benchmarks.run [--quick | --smoke] [--only SECTION ...] [--json FILE]`.

`make bench` runs every section at full size (about 75 minutes on 2 cores); `--smoke` runs each section's smallest
case once (about 3 minutes; tests/test_benchmarks.py does, so the script cannot rot).

Sections, each against a naive baseline or an older commit measured in the same run:

1. overhead: fixed cost per notebook (kernel start, kit imports, an empty analysis: the standard
   first cells only), four such notebooks run by the kit runner, vs `python -c pass` and vs a
   plain `papermill` CLI loop over the same notebooks;
2. demo: the demo client's full batch (`python -m kit run`, --jobs 1 and 2): wall time and peak
   memory, vs a plain `papermill` CLI loop over the four notebooks (and vs `--before`);
3. large: a large client from the demo generator (20,000 accounts, 2 years of daily usage) and a
   raw event log (>= 50 million rows, Parquet): wall time and peak memory of loading, the audit,
   signal building + scoring, the event log's aggregation (streaming), and signal building by
   kit.analyses.signals vs a straightforward pandas implementation (benchmarks/pandas_signals.py);
   large_run: the large client's whole batch (`python -m kit run --jobs 1`), wall time, each notebook's seconds and peak
   memory (vs `--before`); large_analyses: that client's churn correlation and back-test work on
   loaded data (weights.run with the signal search, then backtest.run), seconds of each and peak
   memory (vs `--before`);
4. clients: twenty demo-sized clients, `run --all --jobs 2` and `run --all --cluster` on a local
   Dask cluster of two one-thread workers (kit.run.cluster.local): clients per minute (and `--before`,
   local, one run);
5. backtest: the demo client's back-test (kit.analyses.backtest.run on loaded data), and with `--before`
   the same stage run by that commit's kit package;
6. site: rendering one client's site (`python -m kit publish`, the demo's reports: writing the
   Quarto source, then `quarto render`), vs writing the source alone and vs `quarto render` of a
   one-page website (Quarto's own fixed cost). Needs Quarto.
7. months: the demo's monthly backfill, `--only maintenance` over twelve months (RANGE; --smoke: two) in one command
   (`--period 2025-11..2026-10`) vs one month alone and vs one month run after the eleven before it;
   large_months: the large client's whole batch over those twelve months vs one month alone.

Every measurement is a separate process (wall time and peak RSS from os.wait4: the largest single
process among the runner and the kernels it started); figures are medians of --reps runs (3;
--quick: 1 run, smaller sizes). `--before COMMIT` also measures the kit and the notebooks of that
commit (extracted with git archive, first on the runner's and the kernels' path) in sections 1, 2,
large_run, large_analyses, 4 and 5, each of its runs interleaved with one of the current tree (in alternating
order), so a busy spell of the machine hits both alike. Prints a table and writes
benchmarks/results/bench-<time>.json with the load average before and after. Large data is
generated once into benchmarks/results/data/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kit.periods import Period

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
RESULTS = ROOT / "results"
PY = sys.executable
PAPERMILL = str(Path(PY).with_name("papermill"))
DEMO_PARAMS = REPO / "parameters" / "demo.yml"
DEMO_DATA = REPO / "data" / "demo"
PERIOD = "2026-10"
GIB = 1024**3
LARGE = "full"  # the large client's size (benchmarks.data.SIZES): full, quick or smoke
CLIENTS = 20  # clients in the clients section
SECTIONS = ["overhead", "demo", "large", "large_run", "large_analyses", "clients", "backtest", "site", "months", "large_months", "init"]
RANGE = "2025-11..2026-10"  # twelve months ending with PERIOD


# ---------------------------------------------------------------------------- measuring


def measure(cmd: list[str], cwd: Path = REPO, env: dict | None = None) -> dict:
    """Run cmd; wall seconds, its stdout, and peak RSS in bytes (os.wait4: the largest of the process
    and the descendants it waited for, on Linux)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:  # files, not pipes: no pipe-full deadlock
        t = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n{err.read().decode()[-3000:]}")
        return {"seconds": wall, "peak_rss": usage.ru_maxrss * 1024, "stdout": out.read().decode()}


def median(runs: list[dict], key: str = "seconds") -> float:
    return statistics.median(r[key] for r in runs)


def repeat(fn, reps: int) -> list[dict]:
    return [fn() for _ in range(reps)]


# ---------------------------------------------------------------------------- fixtures


def empty_notebooks(folder: Path) -> Path:
    """Four 'empty analysis' notebooks: title, parameters, setup; nothing else."""
    import nbformat

    from kit import registry

    folder.mkdir(parents=True, exist_ok=True)
    for file in (n.file for n in registry.NOTEBOOKS.values()):
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}, "title": "empty"})
        p = nbformat.v4.new_code_cell('params_path = "../parameters/demo.yml"\nperiod = None\nrun_dir = None')
        p.metadata["tags"] = ["parameters"]
        setup = ('import kit.notebook as nb\n\nctx = nb.setup(params_path, period, run_dir)\n'
                 'nb.md(f"**{ctx.params.name}**, period **{ctx.period}** (data as at {ctx.as_of:%d %B %Y}).")')
        nb.cells = [nbformat.v4.new_markdown_cell("# Empty analysis"), p, nbformat.v4.new_code_cell(setup)]
        nbformat.write(nb, folder / file)
    return folder


def papermill_loop(notebooks: Path, params: Path, out: Path) -> list[str]:
    """Shell commands of the naive baseline: one `papermill` CLI process per notebook, in order."""
    from kit import registry

    run_dir = out / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    cmds = []
    for file in (n.file for n in registry.NOTEBOOKS.values()):
        cmds.append(
            f"{PAPERMILL} -k python3 --cwd {run_dir} {notebooks / file} {run_dir / file} "
            f"-p params_path {params.resolve()} -p period {PERIOD} -p run_dir {run_dir} >/dev/null 2>&1"
        )
    return cmds


def before_tree(commit: str, folder: Path) -> Path:
    """The kit package and the notebooks as of `commit`, extracted into `folder`: run with `kit_run(..., tree=folder)`
    (or put `folder` first on sys.path) to measure that commit."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", commit, "kit", "notebooks"], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def kit_run(args: list, *, tree: Path = REPO, notebooks: Path | None = None, period: str = PERIOD) -> dict:
    """`python -m kit run ARGS` of `tree` (this repository, or a before_tree) as a fresh process, measured.
    The runner starts in `tree` and the kernels inherit PYTHONPATH=tree, so both import that tree's kit."""
    cmd = [PY, "-m", "kit", "run", *map(str, args), "--period", period, "--notebooks", str(notebooks or tree / "notebooks")]
    return measure(cmd, cwd=tree, env={"PYTHONPATH": str(tree)})


def interleaved(runs: dict, reps: int) -> dict[str, list[dict]]:
    """Each of `runs` (name -> function measuring once) `reps` times, round by round, the order
    reversed every other round; a name mapped to None is skipped."""
    runs = {k: f for k, f in runs.items() if f is not None}
    out: dict[str, list[dict]] = {k: [] for k in runs}
    for i in range(reps):
        for k in (list(runs) if i % 2 == 0 else list(reversed(runs))):
            out[k].append(runs[k]())
    return out


def figures(runs: list[dict]) -> dict:
    return {"seconds": median(runs), "peak_rss": median(runs, "peak_rss"), "runs": [r["seconds"] for r in runs]}


def section_backtest(reps: int, tmp: Path, before: Path | None, commit: str | None) -> dict:
    def stage(kit_dir: Path | None = None) -> dict:
        code = ("import json, sys; " + (f"sys.path.insert(0, {str(kit_dir)!r}); " if kit_dir else "")
                + f"from benchmarks import stages; print(json.dumps(stages.main('backtest', {str(DEMO_PARAMS)!r}, {PERIOD!r}), default=str))")
        r = measure([PY, "-c", code], env={"PYTHONPATH": str(REPO)})
        return {**json.loads(r["stdout"].strip().splitlines()[-1]), "peak_rss": r["peak_rss"]}

    runs = interleaved({"kit": stage, "kit_before": (lambda: stage(before)) if before else None}, reps)
    res = {"kit": {"seconds": median(runs["kit"])}}
    if before is not None:
        res["kit_before"] = {"seconds": median(runs["kit_before"]), "commit": commit}
    return res


def section_large_analyses(reps: int, tmp: Path, quick: bool, before: Path | None, commit: str | None) -> dict:
    """The large client's churn correlation and back-test work (the signal search included) on loaded data, each
    run in a fresh process: seconds of each and the process's peak memory, against `--before` interleaved."""
    from benchmarks import data as bdata

    params = write_params(tmp / "large" / "large.yml", bdata.large_client(LARGE), "large")

    def stage(kit_dir: Path | None = None) -> dict:
        code = ("import json, sys; " + (f"sys.path.insert(0, {str(kit_dir)!r}); " if kit_dir else "")
                + f"from benchmarks import stages; print(json.dumps(stages.main('analyses', {str(params)!r}, {PERIOD!r}), default=str))")
        r = measure([PY, "-c", code], env={"PYTHONPATH": str(REPO)})
        return {**json.loads(r["stdout"].strip().splitlines()[-1]), "peak_rss": r["peak_rss"]}

    runs = interleaved({"kit": stage, "kit_before": (lambda: stage(before)) if before else None}, reps)
    out = {}
    for k, v in runs.items():
        out[k] = {key: median(v, key) for key in ("weights_seconds", "backtest_seconds", "seconds", "peak_rss")}
        out[k]["runs"] = [r["seconds"] for r in v]
    if before is not None:
        out["kit_before"]["commit"] = commit
    return out


def check_ok(out: Path, clients: int = 1) -> None:
    manifests = list(out.glob(f"*/{PERIOD}/manifest.json"))
    bad = [m for m in manifests if json.loads(m.read_text())["status"] != "ok"]
    if len(manifests) < clients or bad:
        raise RuntimeError(f"runs failed or missing under {out}: {bad or 'no manifest'}")


def write_params(path: Path, data_dir: Path, client: str, *, events: Path | None = None) -> Path:
    """A copy of demo.yml for another client / data folder (events: usage from a raw event log)."""
    text = DEMO_PARAMS.read_text().replace("../data/demo/", f"{data_dir.resolve()}/").replace("client: demo", f"client: {client}")
    if events is not None:
        start = text.index("  usage:")
        end = text.index("\n\n", start)
        text = text[:start] + (
            f"  usage:\n    path: {events.resolve()}\n    kind: events\n    login_events: [login]\n"
            "    columns:\n      acct_id: account_id\n      user: user_id\n      ts: timestamp\n      event_name: event"
        ) + text[end:]
        text = text.replace(", feature_api_calls]", "]")  # raw events carry no feature counts
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------- sections


def section_overhead(reps: int, tmp: Path, before: Path | None) -> dict:
    nbs = empty_notebooks(tmp / "empty")
    n = 4
    bare = repeat(lambda: measure([PY, "-c", "pass"]), max(reps, 5))

    def run(tree=REPO):
        out = Path(tempfile.mkdtemp(dir=tmp))
        r = kit_run([DEMO_PARAMS, "--out", out], tree=tree, notebooks=nbs)
        check_ok(out)
        return r

    def loop():
        out = Path(tempfile.mkdtemp(dir=tmp))
        return measure(["bash", "-c", " && ".join(papermill_loop(nbs, DEMO_PARAMS, out))])

    runs = interleaved({"kit_runner": run, "kit_runner_before": (lambda: run(before)) if before else None}, reps)
    res = {"python_pass": {"seconds": median(bare)}, "papermill_cli_loop": {"seconds": median(repeat(loop, reps)) / n}}
    res.update({k: {"seconds": median(v) / n} for k, v in runs.items()})
    return res


def section_demo(reps: int, tmp: Path, before: Path | None) -> dict:
    def run(jobs, tree=REPO):
        out = Path(tempfile.mkdtemp(dir=tmp))
        r = kit_run([DEMO_PARAMS, "--jobs", jobs, "--out", out], tree=tree)
        check_ok(out)
        return r

    def loop():
        out = Path(tempfile.mkdtemp(dir=tmp))
        return measure(["bash", "-c", " && ".join(papermill_loop(REPO / "notebooks", DEMO_PARAMS, out))])

    res = {"papermill_cli_loop": {"seconds": median(repeat(loop, reps))}}
    for jobs in (1, 2):
        runs = interleaved({f"kit_jobs{jobs}": lambda: run(jobs),
                            f"kit_jobs{jobs}_before": (lambda: run(jobs, before)) if before else None}, reps)
        res.update({k: figures(v) for k, v in runs.items()})
    return res


def section_large_run(reps: int, tmp: Path, quick: bool, before: Path | None) -> dict:
    """The large client's whole batch, one notebook at a time: what a run costs in time and memory."""
    from benchmarks import data as bdata

    params = write_params(tmp / "large" / "large.yml", bdata.large_client(LARGE), "large")

    def run(tree=REPO):
        out = Path(tempfile.mkdtemp(dir=tmp))
        r = kit_run([params, "--jobs", 1, "--out", out], tree=tree)
        check_ok(out)
        manifest = json.loads(next(out.glob(f"*/{PERIOD}/manifest.json")).read_text())
        r["notebooks"] = {name: nb["seconds"] for name, nb in manifest["notebooks"].items()}
        shutil.rmtree(out, ignore_errors=True)
        return r

    runs = interleaved({"kit": run, "kit_before": (lambda: run(before)) if before else None}, reps)
    # each notebook's own seconds (the manifest's), median per notebook: what one step adds, apart from the others' noise
    return {k: {**figures(v), "notebooks": {n: statistics.median(r["notebooks"][n] for r in v) for n in v[0]["notebooks"]}}
            for k, v in runs.items()}


def section_large(reps: int, tmp: Path, quick: bool) -> dict:
    from benchmarks import data as bdata

    folder = bdata.large_client(LARGE)
    info = json.loads((folder / "done.json").read_text())
    params = write_params(tmp / "large" / "large.yml", folder, "large")
    ev_params = write_params(tmp / "large" / "large_events.yml", folder, "large_events", events=folder / "product" / "events.parquet")
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(folder / "product" / "events.parquet").metadata
    in_memory = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))

    def stage(name, p=params, extra=()):
        r = measure([PY, "-m", "benchmarks.stages", name, str(p), PERIOD, *extra])
        doc = json.loads(r["stdout"].strip().splitlines()[-1])
        return {**doc, "wall": r["seconds"], "peak_rss": r["peak_rss"]}

    def med(runs):
        keys = [k for k, v in runs[0].items() if isinstance(v, (int, float))]
        return {k: statistics.median(r[k] for r in runs) for k in keys}

    res = {"accounts": info["accounts"], "event_rows": info["event_rows"], "event_log_bytes_uncompressed": in_memory,
           "event_log_file_bytes": (folder / "product" / "events.parquet").stat().st_size}
    for name in ("load", "audit", "signals", "events"):
        res[name] = med(repeat(lambda: stage(name, ev_params if name == "events" else params), reps))
    kit_file, pd_file = tmp / "large" / "kit.parquet", tmp / "large" / "pandas.parquet"
    res["kit_subset"] = med(repeat(lambda: stage("kit_subset", extra=(str(kit_file),)), reps))
    res["pandas_subset"] = med(repeat(lambda: stage("pandas_subset", extra=(str(pd_file),)), reps))
    res["agreement"] = compare(kit_file, pd_file)
    return res


def compare(kit_file: Path, pd_file: Path) -> dict:
    """Kit vs pandas values, signal by signal: rows compared and the largest absolute difference."""
    import polars as pl

    from benchmarks.pandas_signals import SIGNALS

    a = pl.read_parquet(kit_file).with_columns(pl.col("as_of").cast(pl.Date))
    b = pl.read_parquet(pd_file).with_columns(pl.col("as_of").cast(pl.Date))
    j = a.join(b, on=["account_id", "as_of"], suffix="_pd")
    out = {"rows": j.height}
    for s in SIGNALS:
        both_null = (j[s].is_null() & j[s + "_pd"].is_null()).sum()
        diff = (j[s] - j[s + "_pd"]).abs().max()
        out[s] = {"max_abs_diff": diff, "null_mismatch": int(j.height - both_null - (j[s].is_not_null() & j[s + "_pd"].is_not_null()).sum())}
    return out


def section_clients(reps: int, tmp: Path, quick: bool, before: Path | None) -> dict:
    """Clients per minute: `run --all --jobs 2` on this machine, and `run --all --cluster` on a local
    Dask cluster of two one-thread workers (started once for the section, not timed)."""
    from kit.run import cluster

    n = CLIENTS
    pdir = tmp / "clients"
    for i in range(n):
        write_params(pdir / f"client{i:02d}.yml", DEMO_DATA, f"client{i:02d}")

    def run(how: list, tree=REPO):
        out = Path(tempfile.mkdtemp(dir=tmp))
        r = kit_run(["--all", "--params-dir", pdir, *how, "--out", out], tree=tree)
        check_ok(out, n)
        shutil.rmtree(out, ignore_errors=True)
        return r

    with cluster.local(workers=2) as address:
        runs = interleaved({"kit": lambda: run(["--jobs", 2]), "kit_cluster": lambda: run(["--cluster", address])}, reps)
    if before is not None:
        runs["kit_before"] = repeat(lambda: run(["--jobs", 2], before), max(1, reps - 2))
    res = {"clients": n}
    for k, v in runs.items():
        s = median(v)
        res[k] = {"seconds": s, "clients_per_minute": n / s * 60, "runs": [r["seconds"] for r in v]}
    return res


def months_in(span: str) -> int:
    """How many months a range such as 2025-11..2026-10 holds."""
    first, _, last = span.partition("..")
    a, b = Period.parse(first), Period.parse(last)
    return (b.year - a.year) * 12 + b.month - a.month + 1


def _months_ok(out: Path, client: str, periods: int) -> None:
    found = [json.loads(m.read_text())["status"] for m in out.glob(f"{client}/20*/manifest.json")]
    if len(found) != periods or set(found) != {"ok"}:
        raise RuntimeError(f"{periods} ok months expected under {out / client}, found {found}")


def section_months(reps: int, tmp: Path) -> dict:
    """The demo's monthly backfill: `--only maintenance` over twelve months (RANGE) in one command, vs
    one month alone (PERIOD, nothing before it), and vs that month run on its own after the eleven
    before it (what each monthly run costs once the history exists: its trend charts have points)."""
    earlier = Path(tempfile.mkdtemp(dir=tmp))
    first, _, _ = RANGE.partition("..")
    kit_run([DEMO_PARAMS, "--only", "maintenance", "--out", earlier], period=f"{first}..{Period.parse(PERIOD).previous().label}")

    def alone():
        out = Path(tempfile.mkdtemp(dir=tmp))
        r = kit_run([DEMO_PARAMS, "--only", "maintenance", "--out", out])
        _months_ok(out, "demo", 1)
        return r

    def after_history():
        out = Path(tempfile.mkdtemp(dir=tmp))
        shutil.copytree(earlier, out, dirs_exist_ok=True)
        r = kit_run([DEMO_PARAMS, "--only", "maintenance", "--out", out])
        _months_ok(out, "demo", months_in(RANGE))
        return r

    def twelve():
        out = Path(tempfile.mkdtemp(dir=tmp))
        r = kit_run([DEMO_PARAMS, "--only", "maintenance", "--out", out], period=RANGE)
        _months_ok(out, "demo", months_in(RANGE))
        return r

    runs = interleaved({"one_month": alone, "one_month_after_history": after_history, "twelve_months": twelve}, reps)
    return {k: figures(v) for k, v in runs.items()}


def section_large_months(reps: int, tmp: Path, quick: bool) -> dict:
    """The 20,000-account client's whole batch over twelve months (RANGE, one command, --jobs 1) vs one month alone."""
    from benchmarks import data as bdata

    params = write_params(tmp / "large" / "large.yml", bdata.large_client(LARGE), "large")

    def run(period: str, months: int):
        out = Path(tempfile.mkdtemp(dir=tmp))
        r = kit_run([params, "--jobs", 1, "--out", out], period=period)
        _months_ok(out, "large", months)
        shutil.rmtree(out, ignore_errors=True)
        return r

    runs = interleaved({"one_month": lambda: run(PERIOD, 1), "twelve_months": lambda: run(RANGE, months_in(RANGE))}, reps)
    return {k: figures(v) for k, v in runs.items()}


def section_site(reps: int, tmp: Path) -> dict:
    from kit.publish import site

    quarto = site.find_quarto()
    if quarto is None:
        return {"skipped": "Quarto is not installed"}
    out = tmp / "site-reports"
    kit_run([DEMO_PARAMS, "--jobs", 2, "--out", out])
    check_ok(out)
    bare = tmp / "bare-site"
    bare.mkdir()
    (bare / "_quarto.yml").write_text("project:\n  type: website\nwebsite:\n  title: bare\n")
    (bare / "index.qmd").write_text("---\ntitle: Bare\n---\n\nOne page.\n")

    def publish(render: bool, documents: bool = False):
        code = (f"from kit.publish import site; site.publish({str(DEMO_PARAMS)!r}, {PERIOD!r}, out={str(out)!r}, "
                f"site={str(tmp / 'sites')!r}, render={render}, with_documents={documents})")
        return measure([PY, "-c", code])

    runs = interleaved({"publish": lambda: publish(True), "publish_documents": lambda: publish(True, True)}, reps)
    return {
        "quarto_bare_site": {"seconds": median(repeat(lambda: measure([quarto, "render", str(bare)]), reps))},
        "source_only": {"seconds": median(repeat(lambda: publish(False), reps))},
        **{k: {"seconds": median(v)} for k, v in runs.items()},
        "pages": len(list((tmp / "sites" / "demo").rglob("*.html"))),
    }


def section_init(reps: int, tmp: Path, quick: bool) -> dict:
    """`kit init` on the 20,000-account client's exports with its raw event log (50 million events) as the
    usage export: the draft alone, and the whole command (the draft, then `validate` reading every source in full)."""
    import polars as pl
    import yaml

    from benchmarks import data as bdata

    source = bdata.large_client(LARGE)
    folder = tmp / "init-exports"
    shutil.copytree(source, folder, copy_function=os.link, ignore=shutil.ignore_patterns("daily_usage.parquet", "done.json"))
    events = pl.scan_parquet(folder / "product" / "events.parquet").select(pl.len()).collect().item()
    out = tmp / "init-draft.yml"
    code = ("from pathlib import Path; from kit.io.draft import infer, writer; "
            f"d = infer.draft(Path({str(folder)!r})); "
            f"Path({str(out)!r}).write_text(writer.render(d, client='large', name='Large', out=Path({str(out)!r}), command='bench'))")
    draft = repeat(lambda: measure([PY, "-c", code]), reps)
    usage = yaml.safe_load(out.read_text())["sources"].get("usage", {})
    if usage.get("kind") != "events":
        raise RuntimeError(f"the draft did not place the event log as usage events: {usage}")
    whole = repeat(lambda: measure([PY, "-m", "kit", "init", str(folder), "--client", "large", "--out", str(out), "--force"]), reps)
    return {"events": events, "draft": figures(draft), "init_and_validate": figures(whole)}


def sizes(tmp: Path, *, quick: bool, smoke: bool) -> None:
    """Set the sizes of this run: full (default), quick (fewer clients, a 4,000-account large client) or smoke (the
    smallest case of every section: its own 60-account demo client, a 300-account large client, 2 clients, 2 months)."""
    global DEMO_PARAMS, DEMO_DATA, RANGE, LARGE, CLIENTS
    LARGE, CLIENTS = ("smoke", 2) if smoke else ("quick", 4) if quick else ("full", 20)
    if smoke:
        from benchmarks import data as bdata
        from kit import demo
        from kit.periods import Period

        DEMO_DATA = tmp / "smoke-demo"
        demo.generate(DEMO_DATA, Period.parse(PERIOD).end, n_accounts=bdata.SIZES["smoke"]["demo_accounts"])
        DEMO_PARAMS = write_params(tmp / "smoke" / "demo.yml", DEMO_DATA, "demo")
        RANGE = f"{Period.parse(PERIOD).previous().label}..{PERIOD}"
    elif not (DEMO_DATA / "crm" / "accounts.csv").exists():
        subprocess.run([PY, "-m", "kit", "demo", "--data-only"], cwd=REPO, check=True)


# ---------------------------------------------------------------------------- report


def table(res: dict) -> str:
    rows = []

    def add(section, what, value, unit, ratio=""):
        rows.append((section, what, f"{value:,.2f} {unit}", ratio))

    if "overhead" in res:
        o = res["overhead"]
        k = o["kit_runner"]["seconds"]
        add("1 overhead", "python -c pass", o["python_pass"]["seconds"], "s")
        add("1 overhead", "papermill CLI loop, per notebook", o["papermill_cli_loop"]["seconds"], "s")
        if "kit_runner_before" in o:
            add("1 overhead", "kit runner before, per notebook", o["kit_runner_before"]["seconds"], "s",
                f"{o['papermill_cli_loop']['seconds'] / o['kit_runner_before']['seconds']:.2f}x vs loop")
        add("1 overhead", "kit runner, per notebook", k, "s", f"{o['papermill_cli_loop']['seconds'] / k:.2f}x vs loop")
    if "demo" in res:
        d = res["demo"]
        base = d["papermill_cli_loop"]["seconds"]
        add("2 demo", "papermill CLI loop (4 notebooks)", base, "s")
        for key in ("kit_jobs1_before", "kit_jobs1", "kit_jobs2_before", "kit_jobs2"):
            if key in d:
                vs = f", {d[key]['seconds'] / d[key + '_before']['seconds']:.2f}x before" if key + "_before" in d else ""
                add("2 demo", key.replace("kit_jobs", "kit --jobs ").replace("_before", " (before)"), d[key]["seconds"], "s",
                    f"{base / d[key]['seconds']:.2f}x vs loop{vs}, peak {d[key]['peak_rss'] / GIB:.2f} GiB")
    if "large" in res:
        g = res["large"]
        for name in ("load", "audit", "signals", "events", "kit_subset", "pandas_subset"):
            s = g[name]
            secs = s.get("seconds", s.get("signals_seconds", 0.0))
            add("3 large", f"{name} (wall {s['wall']:.1f} s)", secs, "s", f"peak {s['peak_rss'] / GIB:.2f} GiB")
        if "scoring_seconds" in g["signals"]:
            add("3 large", "scoring", g["signals"]["scoring_seconds"], "s", f"{g['signals'].get('points', 0):,.0f} points")
        add("3 large", "signal building kit vs pandas", g["pandas_subset"]["seconds"] / g["kit_subset"]["seconds"], "x faster", "")
    if "large_run" in res:
        g = res["large_run"]
        for key in ("kit_before", "kit"):
            if key in g:
                vs = f"{g['kit']['seconds'] / g['kit_before']['seconds']:.2f}x before, " if key == "kit" and "kit_before" in g else ""
                add("3 large_run", f"whole batch, --jobs 1{' (before)' if key == 'kit_before' else ''}", g[key]["seconds"], "s",
                    f"{vs}peak {g[key]['peak_rss'] / GIB:.2f} GiB")
        for name, secs in g["kit"].get("notebooks", {}).items():
            was = g.get("kit_before", {}).get("notebooks", {}).get(name)
            add("3 large_run", f"  its {name} notebook", secs, "s", "" if was is None else
                f"before {was:.1f} s: {secs - was:+.1f} s, {(secs - was) / g['kit_before']['seconds']:+.1%} of the run before")
    if "large_analyses" in res:
        g = res["large_analyses"]
        for key in ("kit_before", "kit"):
            if key in g:
                tag = " (before)" if key == "kit_before" else ""
                vs = (f"{g['kit']['seconds'] / g['kit_before']['seconds']:.2f}x before, memory "
                      f"{g['kit']['peak_rss'] / g['kit_before']['peak_rss']:.2f}x, " if key == "kit" and "kit_before" in g else "")
                add("3 large_analyses", f"weights + back-test{tag}", g[key]["seconds"], "s",
                    f"{vs}weights {g[key]['weights_seconds']:.0f} s, back-test {g[key]['backtest_seconds']:.0f} s, "
                    f"peak {g[key]['peak_rss'] / GIB:.2f} GiB")
    if "backtest" in res:
        b = res["backtest"]
        if "kit_before" in b:
            add("5 backtest", f"demo back-test ({b['kit_before']['commit']})", b["kit_before"]["seconds"], "s")
        add("5 backtest", "demo back-test", b["kit"]["seconds"], "s",
            f"{b['kit']['seconds'] / b['kit_before']['seconds']:.2f}x before" if "kit_before" in b else "")
    if "clients" in res:
        c = res["clients"]
        how = {"kit_before": "--all --jobs 2 (before)", "kit": "--all --jobs 2", "kit_cluster": "--all --cluster, 2 local workers"}
        for key, what in how.items():
            if key in c:
                add("4 clients", f"{c['clients']} clients, {what}", c[key]["clients_per_minute"], "clients/min", f"{c[key]['seconds']:.1f} s")
    if "site" in res:
        t = res["site"]
        if "skipped" in t:
            rows.append(("6 site", "skipped", t["skipped"], ""))
        else:
            base = t["quarto_bare_site"]["seconds"]
            add("6 site", "quarto render, a one-page website", base, "s")
            add("6 site", "site source only (no render)", t["source_only"]["seconds"], "s")
            add("6 site", f"publish the demo site ({t['pages']} pages)", t["publish"]["seconds"], "s",
                f"{t['publish']['seconds'] / base:.2f}x the one-page render")
            if "publish_documents" in t:
                render = t["publish"]["seconds"] - t["source_only"]["seconds"]
                extra = t["publish_documents"]["seconds"] - t["publish"]["seconds"]
                add("6 site", "publish with --documents (design + maintenance, PDF + Word)", t["publish_documents"]["seconds"], "s",
                    f"+{extra:.1f} s = {extra / render:.2f}x the site's render ({render:.1f} s)")
    if "init" in res:
        t = res["init"]
        add("8 init", f"draft from the large client's exports ({t['events']:,} raw events)", t["draft"]["seconds"], "s",
            f"peak {t['draft']['peak_rss'] / GIB:.2f} GiB")
        add("8 init", "python -m kit init (the draft, then validate reads every source in full)", t["init_and_validate"]["seconds"], "s",
            f"peak {t['init_and_validate']['peak_rss'] / GIB:.2f} GiB")
    for key, name in (("months", "7 months"), ("large_months", "7 large_months")):
        if key in res:
            m = res[key]
            one = m["one_month"]["seconds"]
            add(name, "one month alone", one, "s", f"peak {m['one_month']['peak_rss'] / GIB:.2f} GiB")
            if "one_month_after_history" in m:
                add(name, "one month after the months before it", m["one_month_after_history"]["seconds"], "s")
            t = m["twelve_months"]["seconds"]
            vs = (f", {t / m['one_month_after_history']['seconds']:.2f}x the month after its history"
                  if "one_month_after_history" in m else "")
            add(name, f"{months_in(RANGE)} months in one command ({RANGE})", t, "s",
                f"{t / one:.2f}x one month alone{vs}, peak {m['twelve_months']['peak_rss'] / GIB:.2f} GiB")
    w = [max(len(r[i]) for r in rows) for i in range(4)] if rows else [0] * 4
    return "\n".join("  ".join(x.ljust(w[i]) for i, x in enumerate(r)) for r in rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 run each, smaller sizes (development)")
    ap.add_argument("--reps", type=int, help="runs per figure (default 3, --quick 1)")
    ap.add_argument("--only", nargs="+", choices=SECTIONS)
    ap.add_argument("--json", type=Path, help="write the results here (default: benchmarks/results/bench-<time>.json)")
    ap.add_argument("--smoke", action="store_true", help="each section's smallest case once: a 60-account demo client, a "
                    "300-account large client, 2 clients, 2 months (tests/test_benchmarks.py: the script cannot rot)")
    ap.add_argument("--before", metavar="COMMIT", help="also measure the kit and notebooks of this commit (sections overhead, demo, large_run, large_analyses, clients, backtest)")
    args = ap.parse_args(argv)
    reps = args.reps or (1 if args.quick or args.smoke else 3)
    sections = args.only or SECTIONS
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-", dir=RESULTS))
    sizes(tmp, quick=args.quick, smoke=args.smoke)
    res: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "reps": reps, "quick": args.quick, "load_before": os.getloadavg(),
                 "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()}
    before = before_tree(args.before, tmp / "before") if args.before else None
    res["before_commit"] = args.before
    try:
        for s in sections:
            t = time.time()
            if s == "overhead":
                res[s] = section_overhead(reps, tmp, before)
            elif s == "demo":
                res[s] = section_demo(reps, tmp, before)
            elif s == "large":
                res[s] = section_large(reps, tmp, args.quick)
            elif s == "large_run":
                res[s] = section_large_run(reps, tmp, args.quick, before)
            elif s == "large_analyses":
                res[s] = section_large_analyses(reps, tmp, args.quick, before, args.before)
            elif s == "clients":
                res[s] = section_clients(reps, tmp, args.quick, before)
            elif s == "backtest":
                res[s] = section_backtest(reps, tmp, before, args.before)
            elif s == "site":
                res[s] = section_site(reps, tmp)
            elif s == "months":
                res[s] = section_months(reps, tmp)
            elif s == "large_months":
                res[s] = section_large_months(reps, tmp, args.quick)
            elif s == "init":
                res[s] = section_init(reps, tmp, args.quick)
            print(f"[{s}: {time.time() - t:.0f} s]", file=sys.stderr, flush=True)
    finally:
        res["load_after"] = os.getloadavg()
        path = args.json or RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(json.dumps(res, indent=2, default=str))
        shutil.rmtree(tmp, ignore_errors=True)
    print(table(res))
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
