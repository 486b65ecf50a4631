"""`kit init --interactive`: each field the draft could not decide, asked in the terminal.

A `rich` prompt shows the export, the column, its first distinct values and the candidates; the
answer maps it (a candidate's number, or a canonical column typed), or leaves it out (Enter). A
mapping answered here is written as a confident line whose comment says the consultant chose it.
"""

from __future__ import annotations

from rich.console import Console
from rich.prompt import Prompt

from kit import contract
from kit.io.draft.infer import Draft, Mapping


def ask(d: Draft, console: Console | None = None, prompt=Prompt.ask) -> int:
    """Ask about every TODO of the draft; returns how many were answered."""
    console = console or Console()
    answered = 0
    for table, p in d.placed.items():
        for m in list(p.todos):
            values = p.export.sample[m.header].drop_nulls().unique(maintain_order=True).head(6).to_list()
            options = [m.column, *m.candidates] if m.column not in m.candidates else m.candidates
            options = [o for o in dict.fromkeys(options) if o]
            console.print(f"\n[bold]{p.export.name}[/bold] ({table}): column [cyan]{m.header}[/cyan]")
            console.print(f"  values: {', '.join(map(str, values))}")
            console.print(f"  why unsure: {m.evidence}")
            for i, o in enumerate(options, 1):
                console.print(f"  {i}. {o}")
            allowed = set(contract.TABLES[table].column_names) | {"skip", ""}
            answer = prompt("  map it to (number or column name, Enter to leave it out)", default="").strip()
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                answer = options[int(answer) - 1]
            if answer in ("", "skip") or answer not in allowed:
                continue
            p.todos.remove(m)
            p.columns = [c for c in p.columns if c.column != answer]
            p.columns.append(Mapping(m.header, answer, True, f"chosen in `init --interactive` ({m.evidence})"))
            answered += 1
    return answered
