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

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.errors import first_line

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
    lost = [f"{name} (file)" for name in sorted(_files(old) - _files(new))]
    a, b = _json(old, "backtest.json"), _json(new, "backtest.json")
    if a.get("available") and not b.get("available"):
        lost.append(f"the back-test (now not available: {b.get('reason') or 'no reason given'})")
    elif a.get("available"):
        gone = sorted(set(a.get("configs") or {}) - set(b.get("configs") or {}))
        lost += [f"the back-test's {name!r} configuration ({(b.get('not_available') or {}).get(name, 'now missing')})" for name in gone]
    a, b = _json(old, "weights.json"), _json(new, "weights.json")
    if a.get("status") == "ok" and b and b.get("status") != "ok":
        lost.append(f"the weighting evidence (now {b.get('status')}: {b.get('reason') or 'no reason given'})")
    before = {c["name"]: c for c in _json(old, "maintenance.json").get("checks") or []}
    for c in _json(new, "maintenance.json").get("checks") or []:
        was = before.get(c["name"])
        if was and was.get("status") != "not checked" and c.get("status") == "not checked":
            lost.append(f"the maintenance check {c.get('title', c['name'])!r} (was {was['status']}, now not checked: {c.get('detail', '')})")
    a, b = _json(old, "audit.json"), _json(new, "audit.json")
    if b:
        lost += [f"the audit of the {name} table" for name in sorted(set(a.get("tables") or {}) - set(b.get("tables") or {}))]
    return lost


def inputs_lost(old: Path, new: Path) -> list[str]:
    """Inputs read with records for the current folder and empty, unusable or gone for the new run."""
    a = (_json(old, "manifest.json").get("inputs") or {})
    b = (_json(new, "manifest.json").get("inputs") or {})
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


def _json(folder: Path, name: str) -> dict[str, Any]:
    try:
        doc = json.loads((folder / name).read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}

