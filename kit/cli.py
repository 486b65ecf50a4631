"""Command line: python -m kit (or `healthkit`) run | validate | demo."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from kit import REPO, REPORTS, SITE, registry
from kit.errors import KitError, Stopped

DEMO_PARAMS = REPO / "parameters" / "demo.yml"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    previous = stop_on_sigterm()
    try:
        return args.func(args)
    except KitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        how = "stopped (SIGTERM)" if isinstance(e, Stopped) else "interrupted"
        print(f"{how}: the run's temporary files are removed; earlier reports are untouched [interrupted]", file=sys.stderr)
        return 143 if isinstance(e, Stopped) else 130
    except Exception as e:  # a bug, not bad input: one line here, the traceback in a log file
        log = _crash_log(e)
        print(f"error: unexpected {type(e).__name__}: {e}\n  this is a bug in the kit; the details are in {log}", file=sys.stderr)
        return 3
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _raise_stopped(signum, frame):
    raise Stopped()


def stop_on_sigterm():
    """Make SIGTERM raise `Stopped` in the main thread; returns the previous handler (None off the main thread)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_stopped)


def _crash_log(e: Exception) -> Path:
    import tempfile
    import traceback

    fd, name = tempfile.mkstemp(prefix="healthkit-crash-", suffix=".log")
    with os.fdopen(fd, "w") as f:
        f.write(f"python -m kit {' '.join(sys.argv[1:])}\n\n")
        traceback.print_exception(e, file=f)
    return Path(name)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m kit", description="Customer-health consulting kit.")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute a client's notebooks (or every client's with --all)")
    run.add_argument("params", nargs="?", help="parameters file, e.g. parameters/acme.yml")
    run.add_argument("--all", action="store_true", help="run every parameters file in --params-dir")
    run.add_argument("--cluster", metavar="tcp://HOST:PORT",
                     help="with --all: one task per client on this Dask scheduler (workers share the paths); --jobs is then notebooks per client")
    run.add_argument("--since", type=int, metavar="N", help="the last N complete months, in order (instead of --period)")
    _common_run_options(run)
    run.set_defaults(func=cmd_run)

    val = sub.add_parser("validate", help="check a parameters file and its data sources without running anything")
    val.add_argument("params")
    val.add_argument("--strict", action="store_true", help="also fail on unparseable values and unknown labels")
    val.add_argument("--period", help="YYYY-MM: the month whose exports to check, where a path names the month "
                     "({period}; default: the last complete month)")
    val.set_defaults(func=cmd_validate)

    init = sub.add_parser("init", help="draft a new client's parameters file from a folder of exports")
    init.add_argument("folder", help="the folder of the client's exports (CSV, TXT, Excel, Parquet; subfolders too)")
    init.add_argument("--client", required=True, help="the client's slug: lowercase letters, digits, - and _")
    init.add_argument("--name", help="the client's name in reports (default: the slug)")
    init.add_argument("--out", help="the parameters file to write (default: parameters/<client>.yml)")
    init.add_argument("--force", action="store_true", help="replace the file if it exists")
    init.add_argument("--interactive", action="store_true", help="ask about each field the draft could not decide")
    init.set_defaults(func=cmd_init)

    pub = sub.add_parser("publish", help="build a client's documentation site with Quarto into _site/<client>/")
    pub.add_argument("params", help="parameters file, e.g. parameters/acme.yml")
    pub.add_argument("--period", help="YYYY-MM (default: the latest completed run)")
    pub.add_argument("--out", default=str(REPORTS), help="reports root (default: reports/)")
    pub.add_argument("--site", default=str(SITE), help="sites root (default: _site/)")
    pub.add_argument("--documents", action="store_true", help=DOCUMENTS_HELP)
    pub.set_defaults(func=cmd_publish)

    demo = sub.add_parser("demo", help="write the demo client's data and run its batch")
    demo.add_argument("--data-only", action="store_true", help="write the data, do not run the notebooks")
    demo.add_argument("--params", default=str(DEMO_PARAMS), help=argparse.SUPPRESS)
    _common_run_options(demo, params_dir=False)
    demo.set_defaults(func=cmd_demo)
    return p


DOCUMENTS_HELP = ("also write the Health Score Design Document and the month's maintenance report as PDF and Word "
                  "next to the site (Quarto's typst and docx formats; publish.paper sets A4 or letter)")


def _common_run_options(p: argparse.ArgumentParser, params_dir: bool = True) -> None:
    p.add_argument("--period", help="YYYY-MM, or a range FIRST..LAST run month by month, e.g. 2025-11..2026-10 "
                   "(default: the last complete month)" if params_dir else "YYYY-MM: the demo's latest month (default: the last complete month)")
    p.add_argument("--only", nargs="+", choices=registry.NAMES, metavar="NAME", help=f"only these notebooks: {', '.join(registry.NAMES)}")
    p.add_argument("--jobs", type=int, default=1, help="parallel workers (clients with --all, else notebooks)")
    p.add_argument("--out", default=str(REPORTS), help="reports root (default: reports/)")
    if params_dir:
        p.add_argument("--params-dir", default=str(REPO / "parameters"), help="folder of parameters files for --all")
    p.add_argument("--notebooks", default=str(REPO / "notebooks"), help=argparse.SUPPRESS)
    p.add_argument("--accept-missing", action="store_true",
                   help="replace a period folder even where the new run has less (an input became empty or unusable)")
    p.add_argument("--publish", action="store_true", help="then build each successful client's site (see `publish`)")
    p.add_argument("--site", default=str(SITE), help="sites root for --publish (default: _site/)")
    p.add_argument("--documents", action="store_true", help="with --publish: " + DOCUMENTS_HELP)


# ---------------------------------------------------------------------------- run


def cmd_run(args) -> int:
    from kit.periods import months as months_of
    from kit.run import months

    if args.all == bool(args.params):
        raise KitError("give a parameters file or --all (not both)", where="run", fix="python -m kit run parameters/demo.yml")
    cluster_address = args.cluster
    if cluster_address and not args.all:
        raise KitError("a cluster runs every client of --params-dir", where="--cluster", fix=f"add --all: python -m kit run --all --cluster {cluster_address}")
    return run_plan(args, months.plan(months_of(args.period, getattr(args, "since", None)), args.only))


def run_plan(args, plan) -> int:
    """Run the months of `plan` (kit.run.months.Month) for the client or clients `args` names; publish when asked."""
    from kit.run import batch, console, months

    if args.jobs < 1:
        raise KitError("must be at least 1", where="--jobs", fix="e.g. --jobs 2")
    if getattr(args, "documents", False) and not getattr(args, "publish", False):
        raise KitError("the documents are published with the site", where="--documents", fix="add --publish: python -m kit run PARAMS --publish --documents")
    cluster_address = getattr(args, "cluster", None)  # `demo` has no --cluster
    how = dict(jobs=args.jobs, out=args.out, notebooks_dir=args.notebooks, accept_missing=args.accept_missing)
    if args.all:
        files = batch.parameter_files(args.params_dir)
        if not files:
            raise KitError("no parameters files", where=args.params_dir, fix="add parameters/<client>.yml")
        with console.AllProgress(len(files)) as bar:
            if cluster_address:
                from kit.run import cluster

                results = cluster.run_all(cluster_address, args.params_dir, plan, **how, on_start=bar.started, on_done=bar.done)
            else:
                results = months.run_all(args.params_dir, plan, **how, on_done=bar.done)
    else:
        results = months.run_months(args.params, plan, **how, progress=console.print_progress)
    console.summary(results)
    code = 0 if all(r.status == "ok" for r in results) else 1
    if getattr(args, "publish", False):
        code = max(code, publish_results(results, args))
    return code


# ---------------------------------------------------------------------------- publish


def cmd_publish(args) -> int:
    from kit.publish import site

    result = site.publish(args.params, args.period, out=args.out, site=args.site, with_documents=args.documents)
    print(f"site of {result.client} ({result.period}): {result.output}")
    for f in result.document_files:
        print(f"  document: {f}")
    for note in result.notes:
        print(f"  note: {note}")
    return 0


def publish_results(results, args) -> int:
    """After the runs: publish each successful client, one Quarto render at a time."""
    from kit.publish import site

    code = 0
    clients = {}
    for r in results:  # a client's months in order: the site shows the latest that succeeded
        clients.setdefault(r.params_path, []).append(r)
    for runs in clients.values():
        ok = [r for r in runs if r.status == "ok"]
        r = max(ok, key=lambda r: r.period) if ok else runs[-1]
        if not ok:
            print(f"[{r.client}] not published: its run failed", file=sys.stderr)
            code = 1
            continue
        try:
            res = site.publish(r.params_path, r.period, out=args.out, site=args.site, with_documents=getattr(args, "documents", False))
            print(f"[{r.client}] site: {res.output}")
            for f in res.document_files:
                print(f"[{r.client}] document: {f}")
        except KitError as e:
            print(f"[{r.client}] not published: {e}", file=sys.stderr)
            code = 2
    return code


# ---------------------------------------------------------------------------- validate


def cmd_validate(args) -> int:
    from kit.io import load
    from kit import params
    from kit.run import console

    from kit.periods import Period

    p = params.load(args.params).for_period(Period.parse(args.period).label)
    data = load.ClientData(p)
    console.validation(p, data)
    if data.errors:
        return 2
    if args.strict and (data.problems or any(n.ambiguous for n in data.notes)):
        return 1
    return 0


# ---------------------------------------------------------------------------- init


def cmd_init(args) -> int:
    """Draft parameters/<client>.yml from a folder of exports, then validate it."""
    from kit import params
    from kit.io.draft import infer, writer

    folder = Path(args.folder)
    if not folder.is_dir():
        raise KitError("not a folder", where=str(folder), fix="give the folder that holds the client's exports")
    if not params.SLUG.match(args.client):
        raise KitError(f"{args.client!r} is not a safe folder name", where="--client", fix="lowercase letters, digits, '-' and '_', e.g. acme-corp")
    out = Path(args.out) if args.out else REPO / "parameters" / f"{args.client}.yml"
    if out.exists() and not args.force:
        raise KitError("the parameters file exists already", where=str(out), fix="choose another --out, or add --force to replace it")
    draft = infer.draft(folder)
    if not draft.exports:
        raise KitError("no export found (CSV, TSV, TXT, Excel or Parquet)", where=str(folder), fix="point init at the folder of exports")
    if args.interactive:
        from kit.io.draft import ask

        ask.ask(draft)
    command = f"python -m kit init {args.folder} --client {args.client}"
    text = writer.render(draft, client=args.client, name=args.name or args.client, out=out, command=command)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    todo = sum(len(p.todos) for p in draft.placed.values())
    print(f"drafted {out}: {len(draft.placed)} table(s) from {draft.exports} export(s), "
          f"{sum(len(p.columns) for p in draft.placed.values())} column(s) mapped, {todo} to decide (# TODO), "
          f"{len(draft.unplaced)} export(s) not placed")
    print(f"validating {out} ...")
    return cmd_validate(argparse.Namespace(params=str(out), strict=False, period=None))


# ---------------------------------------------------------------------------- demo


def cmd_demo(args) -> int:
    from kit import demo, params
    from kit.periods import Period

    p = params.load(args.params)
    per = Period.parse(args.period)
    folder = demo.data_dir(p)
    print(f"writing the demo client's data for {per.label} into {folder} ...", flush=True)
    demo.generate(folder, per.end)
    if args.data_only:
        return 0
    return run_plan(argparse.Namespace(**{**vars(args), "all": False, "params_dir": None}), demo.engagement(per, args.only))
