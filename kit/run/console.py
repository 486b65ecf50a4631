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
    """Progress of `run --all`: a live bar on a terminal (clients done, failed, running), one line per
    finished client otherwise. `started` (from a cluster's workers) may come from another thread."""

    def __init__(self, total: int):
        import threading

        self.total = total
        self.count = 0
        self.failed = 0
        self.running: set[str] | None = None  # known only when runs report their start (a cluster)
        self.progress = None
        self.lock = threading.Lock()

    def __enter__(self):
        if sys.stdout.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self.progress = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)
            self.progress.start()
            self.task = self.progress.add_task(self.counts(), total=self.total)
        return self

    def counts(self) -> str:
        text = f"clients: {self.count - self.failed} done, {self.failed} failed"
        return text + (f", {len(self.running)} running" if self.running is not None else "")

    def started(self, event: dict) -> None:
        """A client's run started on a worker: {client, worker, attempt, lost (workers before), run (False: not run again)}."""
        with self.lock:
            self.running = (self.running or set()) | {event["client"]}
            lost = escape(f"[{event['client']}]") + f" worker {escape(event['lost'][-1])} was lost mid-run" if event.get("lost") else ""
            if lost and event.get("run", True):
                self.say(f"{lost}; [yellow]running again[/] on {escape(event['worker'])} (attempt {event['attempt']})")
            elif lost:
                self.say(f"{lost} again: [red]not run a third time[/]")
            elif not self.progress:
                self.say(escape(f"[{event['client']}]") + f" started on {escape(event['worker'])}")
            self.refresh()

    def done(self, results) -> None:
        """A client finished: its results, one per month."""
        from pathlib import Path

        with self.lock:
            self.count += 1
            bad = [r for r in results if r.status != "ok"]
            self.failed += bool(bad)
            first = results[0]
            if self.running is not None:
                self.running.discard(Path(first.params_path).stem)
            periods = first.period if len(results) == 1 else f"{first.period}..{results[-1].period} ({len(results)} months)"
            status = MARK["ok"] if not bad else MARK["failed"] + (f" ({', '.join(r.period for r in bad)})" if len(results) > 1 else "")
            self.say(escape(f"[{self.count}/{self.total}]") + f" {first.client} {periods}: {status} ({sum(r.seconds for r in results):.1f}s)")
            if self.progress:
                self.progress.advance(self.task)
            self.refresh()

    def say(self, line: str) -> None:
        (self.progress.console if self.progress else console).print(line)

    def refresh(self) -> None:
        if self.progress:
            self.progress.update(self.task, description=self.counts())

    def __exit__(self, *exc):
        if self.progress:
            self.progress.stop()


def summary(results) -> None:
    """One row per client and month: status, seconds, the notebook that failed, where the reports are
    (or why it failed); then the later months checked again because an earlier one changed."""
    t = Table(title="batch summary", show_lines=False)
    for col in ("client", "period", "status", "seconds", "failed notebook", "reports / failure"):
        t.add_column(col, overflow="fold")
    for r in results:
        where = r.folder if r.status == "ok" else r.failure
        t.add_row(r.client, r.period + (" (again)" if r.updated else ""), MARK.get(r.status, r.status), f"{r.seconds:.1f}",
                  r.failing_notebook, escape(where))
    console.print(t)
    updated = [r for r in results if r.updated]
    if updated:
        console.print(f"{len(updated)} later month(s) checked again, because an earlier month's history changed:")
        for r in updated:
            console.print(f"- {r.client} {r.period}: {escape(r.updated)}")
    retried = [r for r in results if r.retried]
    if retried:
        console.print(f"{len(retried)} client(s) ran again after losing a worker:")
        for r in retried:
            console.print(f"- {r.client}: {escape(r.retried)} ({MARK.get(r.status, r.status)})")
    failed = [r for r in results if r.status != "ok"]
    if failed:
        err.print(f"{len(failed)} of {len(results)} run(s) failed:")
        for r in failed:
            err.print(f"- {r.client} {r.period}: {escape(r.failure)}")
            if r.folder:
                err.print(f"  executed notebooks and logs: {r.folder}")


def validation(params, data) -> None:
    """The sources table, then every error, warning and decision, each naming the file, the column and the fix."""
    t = Table(title=f"{params.name} ({params.client}): sources")
    for col in ("table", "source", "rows", "status", "notes"):
        t.add_column(col, overflow="fold")
    from kit.io.load import summary as table_summary

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
