"""One stage of the large-client benchmark, in its own process (so its peak memory is its own).

`python -m benchmarks.stages STAGE PARAMS PERIOD` prints one JSON line of timings (seconds).
Stages: load, audit, signals (every signal the current score uses, then scoring), analyses (the churn
correlation and back-test notebooks' work on loaded data: weights.run then backtest.run), kit_subset and
pandas_subset (the same signals by kit.analyses.signals.build and by the pandas baseline), events (the raw
event log aggregated to daily usage by the kit's lazy path), backtest (kit.analyses.backtest.run on loaded
data, into a throw-away folder, after importing what the runner's warm kernel imports for the
back-test notebook: whichever `kit` package is first on sys.path, so an older commit's kit can be
measured the same way).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import polars as pl

from benchmarks import pandas_signals


def _kit(path: str):
    """A kit module by its path in the regrouped package (`analyses.backtest`), or by its old flat name
    (`backtest`) when an older commit's kit is first on sys.path (the back-test stage's --before)."""
    import importlib

    try:
        return importlib.import_module(f"kit.{path}")
    except ModuleNotFoundError:
        return importlib.import_module("kit." + path.rsplit(".", 1)[-1])


def _entry(module):
    """A notebook's one call into an analysis: run_for(ctx), or run(ctx) in an older kit."""
    return getattr(module, "run_for", None) or module.run


def _data(params_path: str):
    from kit import params as params_mod

    params = params_mod.load(params_path)
    return params, _kit("io.load").ClientData(params)


def points(data, params, as_of) -> pl.DataFrame:
    """The back-test's scoring points: every account every score_every_days days over the history."""
    from kit.analyses import backtest, signals

    s = backtest.Settings.of(params)
    renewals = signals.renewal_points(data, params.lead_time_days, params.weighting.contraction_as_churn, until=as_of)
    start = backtest.history_start(data, renewals, s)
    accounts = backtest._dedupe_accounts(data)
    return backtest.scoring_points(accounts, data.table("renewals").select("account_id", "renewal_date", "outcome"),
                                   start, as_of, params.backtest.score_every_days).select("account_id", "as_of")


def main(stage: str, params_path: str, period: str) -> dict:
    from kit.periods import Period

    as_of = Period.parse(period).end
    out: dict = {"stage": stage}
    t = time.perf_counter()
    params, data = _data(params_path)
    if stage == "load":
        for name in params.sources:
            if data.has(name):
                out[f"rows_{name}"] = data.table(name).height
        out["seconds"] = time.perf_counter() - t
    elif stage == "audit":
        from kit.analyses import audit

        res = getattr(audit, "evaluate", None) or audit.run  # an older kit named it run
        res = res(data, as_of, period=period)
        out["seconds"] = time.perf_counter() - t
        out["score"] = res.to_json().get("score")
    elif stage == "events":
        usage = data.table("usage")  # kit.io.load.aggregate_events, collected with the streaming engine
        out["seconds"] = time.perf_counter() - t
        out["daily_rows"] = usage.height
        out["events"] = int(usage["events"].sum())
    elif stage == "backtest":
        import tempfile

        import kit.notebook as nb

        backtest, engine = _kit("analyses.backtest"), _kit("run.engine")

        # as in a batch run: the runner's warm kernel has imported what the notebook and its kit modules import
        engine.warm(engine.preload(Path(__file__).resolve().parent.parent / "notebooks" / "03_backtest.ipynb"))
        ctx = nb.setup(params_path, period, tempfile.mkdtemp(prefix="bench-backtest-"))
        ctx._data = data
        for name in params.sources:  # read the tables first: the stage times the back-test, not the loading
            if data.has(name):
                data.table(name)
        t = time.perf_counter()
        res = _entry(backtest)(ctx)
        out["seconds"] = time.perf_counter() - t
        out["candidates"] = sorted(res.doc.get("configs", {}))
    elif stage == "analyses":
        import tempfile

        import kit.notebook as nb

        weights, backtest, engine = _kit("analyses.weights"), _kit("analyses.backtest"), _kit("run.engine")
        notebooks = Path(__file__).resolve().parent.parent / "notebooks"
        for book in ("02_weights.ipynb", "03_backtest.ipynb"):  # what the runner's warm kernels import
            engine.warm(engine.preload(notebooks / book))
        ctx = nb.setup(params_path, period, tempfile.mkdtemp(prefix="bench-analyses-"))
        ctx._data = data
        for name in params.sources:  # read the tables first: the stage times the analyses, not the loading
            if data.has(name):
                data.table(name)
        t = time.perf_counter()
        _entry(weights)(ctx)  # the churn correlation notebook's work: the signal search included
        out["weights_seconds"] = time.perf_counter() - t
        t = time.perf_counter()
        res = _entry(backtest)(ctx)  # reads weights.json, as in a batch run
        out["backtest_seconds"] = time.perf_counter() - t
        out["seconds"] = out["weights_seconds"] + out["backtest_seconds"]
        out["scorecard_measures"] = len(res.scorecard.get("measures", []))
    elif stage in ("signals", "kit_subset", "pandas_subset"):
        pts = points(data, params, as_of)
        out["points"] = pts.height
        out["setup_seconds"] = time.perf_counter() - t
        if stage == "signals":
            from kit.analyses import health_score, signals

            buildable = set(signals.available(data))
            wanted = [x for comp in params.score.components.values() for x in comp.signals if x in buildable]
            t = time.perf_counter()
            sig = signals.build(data, pts, wanted)
            out["signals_seconds"] = time.perf_counter() - t
            t = time.perf_counter()
            scored = health_score.score(sig, params.score)
            out["scoring_seconds"] = time.perf_counter() - t
            out["signals"] = len(wanted)
            out["scored_rows"] = scored.height
        elif stage == "kit_subset":
            from kit.analyses import signals

            t = time.perf_counter()
            sig = signals.build(data, pts, pandas_signals.SIGNALS)
            out["seconds"] = time.perf_counter() - t
            sig.select("account_id", "as_of", *pandas_signals.SIGNALS).write_parquet(sys.argv[4]) if len(sys.argv) > 4 else None
        else:
            tables = pandas_signals.inputs(data)  # canonical tables as pandas frames (not timed: the kit reads its own)
            t = time.perf_counter()
            sig = pandas_signals.build(tables, pts.to_pandas(), params.audit.csat_scale)
            out["seconds"] = time.perf_counter() - t
            pl.from_pandas(sig).write_parquet(sys.argv[4]) if len(sys.argv) > 4 else None
    else:
        raise SystemExit(f"unknown stage {stage}")
    return out


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4]), default=str))
