"""What a rerun would lose: the period folder a finished run would replace, against the new run.

A rerun succeeds when every notebook runs, and a notebook runs when an input is empty or unusable:
it says "not available" where the period used to show a result. Replacing the folder then would
quietly lose what the period had. Before a commit the runner compares the two folders
(`find`). When an input the current folder was made from is now empty, unusable or gone, the
commit stops (kit.run.batch): the current folder stays, the new run is kept as
`<period>.failed/`, and the message names the input and what would be lost with it.
`run --accept-missing` replaces the folder on purpose. A result that changes while every input
is still there (a corrected export with no churned renewal in a month: that month's accuracy
audit is then "not checked") is what the data says, and is committed.

What counts as lost, each read from the artefacts the notebooks write:

* a file the current folder has and the new one lacks (scores.parquet, a scorecard export, a page);
* the back-test: available before and not now, or a configuration it compared (the platform's
  score, the proposed weights) missing now;
* the weights: evidence before (status ok), none now;
* a maintenance check with a value before and "not checked" now;
* a table the audit checked before and not now;
* an input: a table read with records before, and empty, unusable or no longer configured now.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kit import registry
from kit.artefacts import D
from kit.errors import KitError, first_line
from kit.run import manifest
from kit.status import NOT_CHECKED

SKIPPED_FOLDERS = ("logs", ".cache")


@dataclass
class Losses:
    results: list[str]  # artefacts and sections the current folder has and the new run lacks
    inputs: list[str]  # the inputs behind them: tables with records before, empty or unusable now

    def __bool__(self) -> bool:
        """Stop the commit: an input became empty or unusable (what the new run lacks is then its doing)."""
        return bool(self.inputs)

    def describe(self) -> str:
        lost = "; ".join(self.results) if self.results else "nothing else"
        return f"has an input that became empty or unusable: the {'; the '.join(self.inputs)}. It would lose {lost}"


def find(old: Path, new: Path) -> Losses:
    """What `old` (the current period folder) has and `new` (the finished run) would drop, in plain words."""
    return Losses(results(old, new), inputs_lost(old, new))


def results(old: Path, new: Path) -> list[str]:
    from kit.analyses.audit import AuditDocument
    from kit.analyses.backtest import BacktestDocument
    from kit.analyses.maintenance import MaintenanceDocument
    from kit.analyses.weights import WeightsDocument

    lost = [f"{name} (file)" for name in sorted(_files(old) - _files(new))]
    a, b = _read(BacktestDocument, old), _read(BacktestDocument, new)
    if a and a.available and not (b and b.available):
        lost.append(f"the back-test (now not available: {(b and b.get('reason')) or 'no reason given'})")
    elif a and a.available:
        gone = sorted(set(a.configs) - set(b.configs))
        lost += [f"the back-test's {name!r} configuration ({(b.get('not_available') or {}).get(name, 'now missing')})" for name in gone]
    a, b = _read(WeightsDocument, old), _read(WeightsDocument, new)
    if a and a.ok and b and not b.ok:
        lost.append(f"the churn correlation and weights (now {b.get('status')}: {b.reason or 'no reason given'})")
    a, b = _read(MaintenanceDocument, old), _read(MaintenanceDocument, new)
    before = {c["name"]: c for c in (a.checks if a else [])}
    for c in b.checks if b else []:
        was = before.get(c["name"])
        if was and was["status"] != NOT_CHECKED and c["status"] == NOT_CHECKED:
            lost.append(f"the maintenance check {c.get('title', c['name'])!r} (was {was['status']}, now not checked: {c.get('detail', '')})")
    a, b = _read(AuditDocument, old), _read(AuditDocument, new)
    if a and b:
        lost += [f"the audit of the {name} table" for name in sorted(set(a.tables) - set(b.tables))]
    return lost


def inputs_lost(old: Path, new: Path) -> list[str]:
    """Inputs read with records for the current folder and empty, unusable or gone for the new run."""
    a, b = _inputs(old), _inputs(new)
    out = []
    for name, was in a.items():
        if not was.get("rows") or was.get("error"):
            continue
        now = b.get(name)
        if now is None:
            out.append(f"{name} table: {was['rows']:,} records before, no longer in the parameters")
        elif now.get("error") or not now.get("rows"):
            why = first_line(now.get("error") or "") or "no records"
            out.append(f"{name} table: {was['rows']:,} records before, now {now.get('rows') or 0:,} ({why})")
    return out


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")
            if p.is_file() and p.relative_to(folder).parts[0] not in SKIPPED_FOLDERS}


def _inputs(folder: Path) -> dict[str, dict]:
    """The inputs a period folder's manifest records (none when it cannot be read)."""
    try:
        return (manifest.read(folder / registry.MANIFEST) or {}).get("inputs") or {}
    except (OSError, ValueError):
        return {}


def _read(kind: type[D], folder: Path) -> D | None:
    """A result of a period folder; one an older kit wrote, lacking a key, counts as none (nothing to lose)."""
    try:
        return kind.read(folder)
    except (KitError, OSError):
        return None

