"""What a notebook calls first: parameters, period, output folder and data, in one object.

Notebooks stay thin: `ctx = kit.notebook.setup(params_path, period, run_dir)` and then calls
into the analysis modules. In a batch run `ctx.data` is the run's copy of the client's tables
(kit.io.cache, read once by the runner); interactive runs (JupyterLab) read the sources and write
artefacts under reports/<client>/_lab/<period>/ so they never touch a published period.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.artefacts import write_json
from kit.io import cache
from kit import REPORTS
from kit import params as params_mod
from kit.io.load import ClientData
from kit.periods import Period



@dataclass
class Context:
    params: params_mod.Parameters
    period: Period
    run_dir: Path
    _data: ClientData | None = field(default=None, repr=False)

    @property
    def data(self) -> ClientData:
        """The client's tables (loaded on first use, lenient: problems are recorded, not raised): in a
        batch run, the copy the runner read for the whole run (kit.io.cache); otherwise from the sources."""
        if self._data is None:
            self._data = cache.read(self.run_dir, self.params) or ClientData(self.params)
        return self._data

    @property
    def as_of(self):
        """Analyses see the world as at the end of the period."""
        return self.period.end

    def path(self, name: str) -> Path:
        return self.run_dir / name

    def write_json(self, name: str, obj: Any) -> Path:
        return write_json(self.path(name), obj)

    def read_json(self, name: str) -> Any | None:
        path = self.path(name)
        return json.loads(path.read_text()) if path.exists() else None


def setup(params_path: str, period: str | None = None, run_dir: str | None = None) -> Context:
    per = Period.parse(period)
    params = params_mod.load(params_path).for_period(per.label)
    out = Path(run_dir) if run_dir else REPORTS / params.client / "_lab" / per.label
    out.mkdir(parents=True, exist_ok=True)
    return Context(params, per, out)


def heading(ctx: Context) -> None:
    """The line under every report's title: the client, the period and the day the data is seen as at."""
    md(f"**{ctx.params.name}**, period **{ctx.period}** (data as at {ctx.as_of:%d %B %Y}).")


def show(df, rows: int = 20, **how):
    """Display a polars frame as a client-ready table (kit.present.table: labels, numbers by kind,
    no index); `how` passes kinds, labels, columns, transpose, note, wide on to it. A table built
    already (kit.present.Table) is shown as it is."""
    from kit import present

    present.show(df if isinstance(df, present.Table) else present.table(df, max_rows=rows, **how))


def md(text: str):
    """Narrative computed from results, rendered as Markdown in the report (kit.present.md)."""
    from kit import present

    present.show(text)


def sources_table(data):
    """The data a report reads: each canonical table, its file (name only), rows and what loading
    noticed, in words (kit.io.load.summary holds the same with codes and full paths)."""
    import polars as pl

    from kit import present
    from kit.io.load import summary

    notes = {}
    for name, t in data.loads.items():
        notes[name] = "; ".join(
            f"{present.label(p.code)} in <code>{present.text(t.mapping.get(p.column, p.column))}</code>: {p.count:,}"
            if p.count and p.column else present.text(p.fix) for p in t.problems
        )
    frame = summary(data).with_columns(
        pl.col("source").map_elements(lambda s: Path(s).name if s and "://" not in s else s, return_dtype=pl.String),
        pl.col("table").map_elements(lambda n: notes.get(n), return_dtype=pl.String).fill_null(
            pl.col("notes").map_elements(present.text, return_dtype=pl.String)).alias("notes"),
    )
    return present.table(frame, kinds={"table": "label", "source": "code", "notes": "html"}, wide=("notes",))
