"""The draft as a parameters file a consultant reads line by line.

Every mapping line carries its evidence and confidence as a comment; a field the draft could not
decide is a commented-out line with `TODO` and the candidates; exports it could not place are
listed at the top with the reason. Values are quoted by YAML itself (`yaml.safe_dump` of each
scalar), so any header an export writes is a valid key.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import yaml

from kit.io.draft.infer import Draft, Placed

COMMENT_AT = 44  # column where a line's comment starts


def scalar(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip().removesuffix("\n...").strip()


def line(indent: int, text: str, comment: str = "") -> str:
    s = " " * indent + text
    return f"{s.ljust(COMMENT_AT)}  # {comment}" if comment else s


def render(d: Draft, *, client: str, name: str, out: Path, command: str) -> str:
    base = out.resolve().parent
    todo = sum(len(p.todos) for p in d.placed.values())
    head = [
        f"# Parameters for {name}, drafted by `{command}` on {dt.date.today():%Y-%m-%d}",
        f"# from {d.exports} export(s) in {_path(d.folder, base)}. Read every line: each mapping says why it was chosen.",
        "# A line starting with `# TODO` is a field the draft could not decide: uncomment it with the right",
        "# column, or delete it. Then: python -m kit validate " + _path(out, Path.cwd()) + ", and run.",
        f"# {len(d.placed)} table(s) placed, {sum(len(p.columns) for p in d.placed.values())} column(s) mapped, {todo} to decide.",
    ]
    if d.unplaced:
        head.append("#")
        head.append("# Exports not placed:")
        head += [f"#   - {f}: {why}" for f, why in d.unplaced]
    missing = [t for t in ("accounts", "renewals", "usage") if t not in d.placed]
    if missing:
        head.append("#")
        head.append(f"# TODO: no export was placed as {', '.join(missing)}: add the path by hand (see parameters/demo.yml).")
    body = [f"client: {scalar(client)}", f"name: {scalar(name)}", "", "sources:"]
    for table, p in d.placed.items():
        body += _source(table, p, base)
        body.append("")
    return "\n".join(head + [""] + body).rstrip() + "\n"


def _path(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(Path(path).resolve(), base)).as_posix()
    except ValueError:
        return Path(path).resolve().as_posix()


def _source(table: str, p: Placed, base: Path) -> list[str]:
    e = p.export
    rows = f"{e.sample.height:,}{'' if e.complete else '+'} rows"
    out = [line(2, f"{table}:", f"{e.name}: {rows}; {p.evidence}")]
    out.append(line(4, f"path: {scalar(_path(e.path, base))}"))
    for key in ("sheet", "kind", "encoding", "date_format", "decimal_comma"):
        if key in p.settings:
            out.append(line(4, f"{key}: {scalar(p.settings[key])}", p.setting_notes.get(key, "")))
    out.append(line(4, "columns:"))
    for m in p.columns:
        out.append(line(6, f"{scalar(m.header)}: {scalar(m.column)}", f"{m.evidence} (confidence: high)"))
    for m in p.todos:
        out.append(line(6, f"# TODO {scalar(m.header)}: {scalar(m.column)}", f"{m.evidence} (confidence: low)"))
    if p.values:
        out.append(line(4, "values:"))
        for column, labels in p.values.items():
            out.append(line(6, f"{column}:"))
            for label, canon in labels.items():
                out.append(line(8, f"{scalar(label)}: {scalar(canon)}", "label placed by its words"))
        for column, left in p.unplaced_labels.items():
            shown = ", ".join(left[:8]) + (", ..." if len(left) > 8 else "")
            out.append(line(4, f"# TODO values of {column}: labels not placed (their rows will not load): {shown}"))
    return out
