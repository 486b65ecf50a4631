"""What the command line prints: progress, the batch summary, validation results."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

MARK = {"ok": "[green]ok[/]", "failed": "[red]FAILED[/]", "skipped": "[yellow]skipped[/]"}


def print_progress(client: str, notebook: str, event: str) -> None:
    who = escape(f"[{client}]")
    if event == "inputs":
        console.print(f"{who} reading inputs ...")
    elif event == "start":
        console.print(f"{who} {notebook} ...")
    else:
        console.print(f"{who} {notebook} {MARK.get(event, event)}")


class AllProgress:
    """Progress of `run --all`: a live bar on a terminal, one line per finished client otherwise."""

    def __init__(self, total: int):
        self.total = total
        self.count = 0
        self.progress = None

    def __enter__(self):
        if sys.stdout.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self.progress = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)
            self.progress.start()
            self.task = self.progress.add_task("clients", total=self.total)
        return self

    def done(self, result) -> None:
        self.count += 1
        line = escape(f"[{self.count}/{self.total}]") + f" {result.client} {result.period}: {MARK.get(result.status, result.status)} ({result.seconds:.1f}s)"
        if self.progress:
            self.progress.console.print(line)
            self.progress.advance(self.task)
        else:
            console.print(line)

    def __exit__(self, *exc):
        if self.progress:
            self.progress.stop()


def summary(results) -> None:
    t = Table(title="batch summary", show_lines=False)
    for col in ("client", "period", "status", "seconds", "reports / failure"):
        t.add_column(col, overflow="fold")
    for r in results:
        where = r.folder if r.status == "ok" else r.failure
        t.add_row(r.client, r.period, MARK.get(r.status, r.status), f"{r.seconds:.1f}", escape(where))
    console.print(t)
    failed = [r for r in results if r.status != "ok"]
    if failed:
        err.print(f"{len(failed)} of {len(results)} client(s) failed:")
        for r in failed:
            err.print(f"- {r.client}: {escape(r.failure)}")
            if r.folder:
                err.print(f"  executed notebooks and logs: {r.folder}")


def validation(params, data) -> None:
    """The sources table, then every error, warning and decision, each naming the file, the column and the fix."""
    t = Table(title=f"{params.name} ({params.client}): sources")
    for col in ("table", "source", "rows", "status", "notes"):
        t.add_column(col, overflow="fold")
    from kit.load import summary as table_summary

    loads = data.loads
    for row in table_summary(data).iter_rows(named=True):
        if row["status"] == "unavailable" and row["notes"].startswith("not configured"):
            continue
        said = row["notes"] or ""
        if row["table"] in loads:
            tl = loads[row["table"]]
            warnings = len(tl.problems) + sum(n.ambiguous for n in tl.notes)
            decided = sum(not n.ambiguous for n in tl.notes)
            said = ", ".join(x for x in (f"{warnings} warning(s)" if warnings else "", f"{decided} note(s)" if decided else "") if x)
        t.add_row(row["table"], row["source"] or "", "" if row["rows"] is None else f"{row['rows']:,}", row["status"], escape(said))
    console.print(t)
    for e in data.errors:
        err.print(f"[red]error[/] {escape(str(e))}")
    for p in data.problems:
        err.print(f"[yellow]warning[/] {escape(f'{p.message} [{p.code}]')}\n  fix: {escape(p.fix)}")
    for n in data.notes:
        kind = "[yellow]warning[/]" if n.ambiguous else "note"
        err.print(f"{kind} {escape(f'{n.message} [{n.code}]')}" + (f"\n  fix: {escape(n.fix)}" if n.fix else ""))
    if not data.errors:
        warned = data.problems or any(n.ambiguous for n in data.notes)
        console.print("parameters and sources are usable" + (" (with warnings above; the audit reports them)" if warned else ""))
