"""The manual: docs/ rendered with Quarto into build/docs/site/, its reference pages generated from the code.

    .venv/bin/python scripts/manual.py            # what `make docs` runs
    .venv/bin/python scripts/manual.py --source   # write the staged source only (no Quarto needed)

Three steps, in the order of kit/publish/site.py's client sites:

1. **Stages the source**: copies docs/ into a fresh `build/docs/src/` and replaces each marker
   line `<!-- generated: NAME -->` in a page by what the code defines, so the reference cannot
   drift from it:
   - `commands`: every command and flag of the argument parser (`kit.cli._parser()`), with its help
     and default;
   - `parameters`: every field of the parameters file (`kit.params.Parameters` and the models under
     it), with its default, its allowed values and the description written on the field;
   - `contract`: the canonical tables and their columns (`kit.contract.TABLES`);
   - `reasons`: every reason code (`kit.errors.Reason`), with what it means (the comment on it) and
     the fixes the kit's messages give (read from the code that raises it).
   Nothing generated is written into docs/ or anywhere in git.
2. **Renders** the staged project with `quarto render` in a fresh copy and swaps the result into
   `build/docs/site/`. (No folder of the build starts with a dot: Quarto 1.7 renders nothing in a
   project whose folder is hidden, and says nothing.) The site loads nothing from the internet: the same settings as the client
   sites' `_quarto.yml` (no web fonts, no MathJax, search built in).
3. Without a `quarto` binary it stops after step 1 and says how to get Quarto (exit 2).

This script lives outside kit/ because it reads the entry point kit.cli, which sits above every
layer of the package (kit/__init__.py).
"""

from __future__ import annotations

import argparse
import ast
import enum
import os
import re
import shutil
import subprocess
import sys
import types
import typing
import uuid
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the checkout's kit, also when run as `python scripts/manual.py`

from kit import REPO as KIT_REPO, contract, errors, params  # noqa: E402
from kit.cli import _parser  # noqa: E402

DOCS = REPO / "docs"
BUILD = REPO / "build" / "docs"
MARKER = re.compile(r"^<!-- generated: ([a-z]+) -->$", re.M)
# a name to show as code: a path (`exports/{period}/renewals.csv`), a flag (`--all`), snake_case (`lead_time_days`)
# or a dotted key (`score.bands`, `kit.catalog`)
IDENT = re.compile(
    r"(?<![\w./<{`-])("
    r"(?:[\w./-]*<[a-z0-9 ]+>)+[\w./<>-]*"
    r"|[\w.{}*-]+(?:/[\w.{}*-]+)+/?"
    r"|--[a-z][a-z-]*"
    r"|[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?:\.[a-z0-9_*]+)*"
    r"|[a-z][a-z0-9]*(?:\.[a-z][a-z0-9_]*)+"
    r")(?![\w(>}`-])"
)


BRACED = re.compile(r"\{[^{}`]*<[^{}`]*\}")

# ---------------------------------------------------------------------------- Markdown helpers


def text(s: str) -> str:
    """Plain text for a Markdown page: names (snake_case ids, dotted keys) in code, the rest escaped."""
    out = []
    for i, part in enumerate(re.split(r"(`[^`]*`)", s or "")):
        if i % 2:
            out.append(part)
            continue
        if BRACED.search(part):  # {<label>: one of <join>}: a snippet to type, shown as code
            out.append(text(BRACED.sub(lambda m: f"`{m.group(0)}`", part)))
            continue
        for j, piece in enumerate(IDENT.split(part)):
            if j % 2 and piece not in ("e.g", "i.e"):
                end = "." if piece.endswith(".") else ""  # a sentence's full stop is not part of the name
                out.append(f"`{piece.removesuffix('.')}`{end}")
            else:
                out.append(re.sub(r"([\\*_\[\]<>|$@~^#])", r"\\\1", piece))
    return "".join(out)


def sentence(s: str) -> str:
    s = s.strip()
    return (s[:1].upper() + s[1:] + ("" if s.endswith(".") else ".")) if s else ""


def code(s: str) -> str:
    s = str(s)
    fence = "``" if "`" in s else "`"
    return f"{fence}{s}{fence}" if fence == "`" else f"{fence} {s} {fence}"


def cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def pipe_table(header: list[str], rows: list[list[str]], widths: list[int]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("-" * w for w in widths) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def anchor(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


# ---------------------------------------------------------------------------- commands


def relative(value: Any) -> Any:
    """A default naming a folder of the checkout, as a path relative to it (not this machine's)."""
    if isinstance(value, str) and value.startswith(str(KIT_REPO)):
        return Path(value).relative_to(KIT_REPO).as_posix() + "/"
    return value


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices.items())


def command_help(parser: argparse.ArgumentParser) -> dict[str, str]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {c.dest: c.help or "" for c in action._choices_actions}


def visible_actions(sub: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in sub._actions if a.help != argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)]


def argument(a: argparse.Action) -> str:
    if not a.option_strings:
        return code(a.metavar or a.dest.upper())
    names = ", ".join(a.option_strings)
    if a.nargs == 0:
        return code(names)
    metavar = a.metavar or a.dest.upper()
    if a.nargs in ("+", "*"):
        metavar = f"{metavar} ..."
    return code(f"{names} {metavar}")


def commands_section() -> str:
    parser = _parser()
    helps = command_help(parser)
    out = ["Generated from the argument parser, `kit/cli.py` (`_parser()`): `python -m kit COMMAND --help` prints "
           "the same. Each command's section lists its arguments and options with their defaults."]
    os.environ.setdefault("COLUMNS", "100")
    for name, sub in subcommands(parser).items():
        usage = sub.format_usage().replace("usage: ", "").strip()
        usage = re.sub(r"\s+", " ", usage)
        rows = []
        for a in visible_actions(sub):
            default = relative(a.default)
            shown = "" if default in (None, False, argparse.SUPPRESS) else code(default)
            if a.required and a.option_strings:
                shown = "required"
            listed = a.choices and all(str(c) in (a.help or "") for c in a.choices)
            choices = f" One of: {', '.join(code(c) for c in a.choices)}." if a.choices and not listed else ""
            rows.append([argument(a), shown, text(a.help or "") + choices])
        out.append(f"## `{name}` {{#{name}}}\n\n{text(sentence(helps.get(name, '')))}\n\n```\n{usage}\n```\n\n"
                   + pipe_table(["argument", "default", "what it does"], rows, [24, 16, 60]))
    return "\n\n".join(out)


# ---------------------------------------------------------------------------- parameters


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without `| None`, and whether None is allowed."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        return (args[0] if len(args) == 1 else typing.Union[tuple(args)]), optional
    return annotation, False


def type_name(annotation: Any) -> str:
    ann, optional = _unwrap(annotation)
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    simple = {int: "whole number", float: "number", str: "text", bool: "true or false", Path: "path"}
    if ann in simple:
        name = simple[ann]
    elif origin is typing.Literal:
        name = "one of " + ", ".join(code(a) for a in args)
    elif origin in (list, tuple) and origin is list:
        name = f"list of {type_name(args[0])}"
    elif origin is tuple:
        name = "[" + ", ".join(type_name(a) for a in args) + "]"
    elif origin is dict:
        value = type_name(args[1])
        name = "names, each with the settings below" if value == "settings below" else f"mapping: {type_name(args[0])} to {value}"
    elif origin in (typing.Union, types.UnionType):
        name = " or ".join(type_name(a) for a in args)
    elif isinstance(ann, type) and issubclass(ann, BaseModel):
        name = "settings below"
    else:
        name = str(ann)
    return name + (" (or null)" if optional and ann is not Any else "")


def limits(field) -> str:
    signs = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<", "min_length": "at least", "max_length": "at most"}
    out = []
    for m in field.metadata:
        for attr, sign in signs.items():
            v = getattr(m, attr, None)
            if v is not None:
                out.append(f"{sign} {show(v)}" + ((" item" if v == 1 else " items") if "length" in attr else ""))
        if getattr(m, "pattern", None):
            out.append(f"matches {code(m.pattern)}")
    return ", ".join(out)


def show(value: Any) -> str:
    """A default as it is written in the parameters file (YAML)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_defaults=False)
    if isinstance(value, dict) and value and all(isinstance(v, BaseModel) for v in value.values()):
        value = {k: v.model_dump(mode="json", exclude_defaults=True) for k, v in value.items()}
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.4g}"
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None:
        return "null"
    if isinstance(value, tuple):
        value = list(value)
    dumped = yaml.safe_dump(_round(value), default_flow_style=True, width=10_000, sort_keys=False).strip()
    return dumped.removesuffix("\n...").removesuffix("...").strip()


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return int(value) if value.is_integer() else float(f"{value:.4g}")
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_round(v) for v in value]
    return value


def _default(field) -> tuple[bool, Any]:
    if field.is_required():
        return False, None
    if field.default_factory is not None:
        return True, field.default_factory()
    return True, field.default


def _models(annotation: Any) -> tuple[str, type[BaseModel]] | None:
    """The model under a field: directly, `| None`, or the values of a mapping (with its key's placeholder)."""
    ann, _ = _unwrap(annotation)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "", ann
    if typing.get_origin(ann) is dict:
        value = typing.get_args(ann)[1]
        if isinstance(value, type) and issubclass(value, BaseModel):
            return "*", value
    return None


PLACEHOLDER = {"sources": "<table>", "components": "<component>", "segments": "<segment>", "tiers": "<signal>"}


def parameter_rows(model: type[BaseModel], prefix: str, instance: Any, seen: dict, rows: list) -> None:
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        path = f"{prefix}.{name}" if prefix else name
        has_default, default = _default(field)
        if instance is not None and has_default:
            default = getattr(instance, name, default)
        sub = _models(field.annotation)
        desc = field.description or ""
        if sub and sub[1].__doc__ and not desc:
            desc = _doc(sub[1])
        allowed = "; ".join(x for x in (type_name(field.annotation), limits(field)) if x)
        if not has_default:
            shown = "required"
        elif sub and sub[0] == "" and default is not None:
            shown = "see below"
            if sub[1] in seen and sub[1] is not type(instance):
                shown = code(show(default))
        elif isinstance(default, dict) and default and sub:
            shown = code(show(default))
        else:
            shown = code(show(default))
        if sub and sub[1] in seen:
            desc = (desc + " " if desc else "") + f"Its keys are those of `{seen[sub[1]]}`."
        rows.append((path, shown, allowed, desc))
        if sub and sub[1] not in seen:
            kind, child = sub
            child_path = f"{path}.{PLACEHOLDER.get(name, '<name>')}" if kind == "*" else path
            seen[child] = child_path
            child_instance = default if (kind == "" and isinstance(default, BaseModel)) else None
            parameter_rows(child, child_path, child_instance, seen, rows)


def _doc(model: type[BaseModel]) -> str:
    doc = (model.__doc__ or "").strip()
    return re.sub(r"\s+", " ", doc.split("\n\n")[0]) if doc else ""


SECTIONS = {  # top-level key -> the section's title
    "": "The client", "sources": "Sources", "lead_time_days": "The client", "score": "The health score (`score`)",
    "audit": "The data audit (`audit`)", "weighting": "Churn correlation and weights (`weighting`)",
    "backtest": "The back-test (`backtest`)", "scorecard": "The proposed scorecard (`scorecard`)",
    "search": "The signal search (`search`)", "maintenance": "The monthly maintenance check (`maintenance`)",
    "publish": "Sites and documents (`publish`)",
}


def parameters_section() -> str:
    rows: list = []
    parameter_rows(params.Parameters, "", None, {params.Parameters: ""}, rows)
    top_models = {n: _models(f.annotation) for n, f in params.Parameters.model_fields.items()}
    out = [f"Generated from the fields of `kit/params.py` (pydantic models): {len(rows)} settings. Each row gives the "
           "key as it is written in the YAML file (`<table>`, `<component>`, `<segment>` and `<signal>` stand for names "
           "you choose), its default (`required` where there is none), the values it accepts, and the description "
           "written on the field."]
    groups: dict[str, list] = {}
    for row in rows:
        top = row[0].split(".")[0]
        key = top if top_models.get(top) else ""
        groups.setdefault(key, []).append(row)
    for key, group in groups.items():
        title = SECTIONS.get(key, key)
        intro = ""
        if key and top_models.get(key):
            intro = _doc(top_models[key][1])
            model = top_models[key][1]
            full = (model.__doc__ or "").strip().split("\n\n")[1:]
            intro = " ".join([intro] + [re.sub(r"\s+", " ", p) for p in full]).strip()
        table_rows = [[code(p), d, text(a), text(desc)] for p, d, a, desc in group]
        out.append(f"## {title} {{#{anchor(key or 'client')}}}\n\n" + (text(intro) + "\n\n" if intro else "")
                   + pipe_table(["key", "default", "accepts", "meaning"], table_rows, [26, 18, 18, 38]))
    return "\n\n".join(out)


# ---------------------------------------------------------------------------- the data contract


def contract_section() -> str:
    rows = []
    for t in contract.TABLES.values():
        cols = []
        for c in t.columns:
            name = f"**{code(c.name)}**" if c.required else code(c.name)
            extra = f" ({', '.join(c.labels)})" if c.labels else ""
            if c.type == contract.BOOL:
                extra = " (yes/no, true/false)"
            cols.append(name + (f" {c.type}" if c.type != contract.STR else "") + extra)
        if t.extra_numeric:
            cols.append("any extra numeric columns (features, signals `feature_<name>`)")
        required = " (required)" if t.name in contract.REQUIRED_TABLES else ""
        rows.append([code(t.name) + required, text(t.description), ", ".join(cols)])
    events = contract.USAGE_EVENTS
    ev = ", ".join((f"**{code(c.name)}**" if c.required else code(c.name)) + (f" {c.type}" if c.type != contract.STR else "")
                   for c in events.columns)
    return ("Generated from `kit/contract.py` (`TABLES`): required columns in bold, then each column's type where it is "
            "not text, and the labels of a column that takes labels.\n\n"
            + pipe_table(["table", "what it holds", "columns"], [r for r in rows], [18, 30, 52])
            + f"\n\nA usage export can instead hold raw events: {text(events.description)} Its columns: {ev}; "
            "`login_events` names the login events.")


# ---------------------------------------------------------------------------- reason codes


def reason_comments() -> tuple[dict[str, str], dict[str, str]]:
    """From kit/errors.py: each reason's comment, and the group heading (a comment line) it is listed under."""
    comments, groups, group = {}, {}, ""
    for line in Path(errors.__file__).read_text().splitlines():
        m = re.match(r"\s+#\s*(.+)$", line)
        if m:
            group = m.group(1).strip()
            continue
        m = re.match(r"\s+([A-Z_]+)\s*=\s*\"([a-z_]+)\"(?:\s*#\s*(.*))?$", line)
        if m:
            comments[m.group(2)] = (m.group(3) or "").strip()
            groups[m.group(2)] = group
    return comments, groups


def _placeholder(node: ast.AST) -> str:
    """How a value filled in at run time is shown: <period>, <final>, <table>."""
    name = ast.unparse(node).split("(")[0].split("[")[0]
    name = re.sub(r"^(?:str|repr|len)$", "", name) or ast.unparse(node)
    name = name.split(".")[-1].strip("_") or "value"
    return f"<{re.sub(r'[^a-z0-9]+', ' ', name.lower()).strip() or 'value'}>"


class Strings:
    """The texts a string expression of one module can have: f-string fields shown as <name>, names looked up
    in the statements before it in its block, then in its function, then at module level."""

    def __init__(self, module: ast.Module):
        self.module = module
        self.parent: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(module):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node

    def statement(self, node: ast.AST) -> ast.stmt | None:
        while node is not None and not isinstance(node, ast.stmt):
            node = self.parent.get(node)
        return node

    def before(self, node: ast.AST) -> list[list[ast.stmt]]:
        """The blocks to look a name up in, innermost first: each the statements before `node`."""
        out, stmt = [], self.statement(node)
        while stmt is not None:
            holder = self.parent.get(stmt)
            if holder is None:
                break
            for body in ("body", "orelse", "finalbody", "handlers"):
                block = getattr(holder, body, None)
                if isinstance(block, list) and stmt in block:
                    out.append(block[: block.index(stmt)])
            stmt = holder if isinstance(holder, ast.stmt) else None
        out.append(self.module.body)
        return out

    def texts(self, node: ast.AST, top: bool = True) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.JoinedStr):
            return ["".join(str(v.value) if isinstance(v, ast.Constant) else _placeholder(v.value) for v in node.values)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.texts(node.left, False), self.texts(node.right, False)
            return [a + b for a in left for b in right]
        if isinstance(node, ast.IfExp):
            return self.texts(node.body, top) + self.texts(node.orelse, top)
        if isinstance(node, ast.Name):
            for block in self.before(node):
                for stmt in reversed(block):
                    for n in ast.walk(stmt):
                        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in n.targets):
                            found = self.texts(n.value, top)
                            if found:
                                return found
        return [] if top else [_placeholder(node)]


def reason_notes() -> dict[str, dict[str, list[tuple[str, str]]]]:
    """reason code -> {"fix": [(text, file)], "message": [(text, file)]}, read from the code of kit/: every call
    with a reason `code` (or of an error class with its own code) and its `fix`, and every text printed with [code]."""
    known = {r.value for r in errors.Reason}
    kit_dir = Path(errors.__file__).parent
    found: dict[str, dict[str, list[tuple[str, str]]]] = {}
    class_codes = {}
    trees = {p: ast.parse(p.read_text()) for p in sorted(kit_dir.rglob("*.py"))}
    for module in trees.values():
        for cls in [n for n in ast.walk(module) if isinstance(n, ast.ClassDef)]:
            for stmt in cls.body:
                if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) and stmt.value.value in known:
                    class_codes[cls.name] = stmt.value.value

    def add(codes, kind, texts, rel):
        for c in codes:
            entries = found.setdefault(c, {}).setdefault(kind, [])
            for t in texts:
                t = re.sub(r"\s+", " ", t).strip()
                if t and t not in [e[0] for e in entries]:
                    entries.append((t, rel))

    for path, module in trees.items():
        rel = path.relative_to(kit_dir.parent).as_posix()
        strings = Strings(module)
        for node in ast.walk(module):
            if isinstance(node, ast.Call):
                kw = {k.arg: k.value for k in node.keywords if k.arg}
                codes = []
                if "code" in kw:
                    if isinstance(kw["code"], ast.Attribute) and kw["code"].attr.lower() in known:
                        codes = [kw["code"].attr.lower()]
                    else:
                        codes = [c for c in strings.texts(kw["code"]) if c in known]
                elif isinstance(node.func, ast.Name) and node.func.id in class_codes:
                    codes = [class_codes[node.func.id]]
                if codes:
                    if "fix" in kw:
                        add(codes, "fix", strings.texts(kw["fix"]), rel)
                    if node.args:
                        add(codes, "message", strings.texts(node.args[0]), rel)
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):  # return value, "code", fix
                elts = node.value.elts
                for a, b in zip(elts, elts[1:]):
                    for c in [c for c in strings.texts(a) if c in known]:
                        add([c], "fix", strings.texts(b), rel)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):  # "... [interrupted]"
                for c in re.findall(r"\[([a-z_]+)\]$", node.value.strip()):
                    if c in known and isinstance(strings.parent.get(node), ast.JoinedStr):
                        add([c], "message", strings.texts(strings.parent[node]), rel)
    for entry in found.values():  # the printed "[code]" is the message's end, said once per reason
        entry["message"] = [(re.sub(r"\s*\[[a-z_]+\]$", "", t), r) for t, r in entry.get("message", [])]
    return found


GENERIC = {"kit_error", "parameters", "source", "parse", "several"}


def reasons_section() -> str:
    comments, groups = reason_comments()
    notes = reason_notes()
    out = ["Generated from `kit/errors.py` (`Reason`: each code and the comment on it) and from the code of `kit/` that "
           "raises each one: what the message says, and the fix it prints after `fix:`. A name in angle brackets is "
           "filled in when the message is printed (the file, the table, the period, the folder)."]
    group = None
    for reason in errors.Reason:
        c = reason.value
        if groups.get(c) != group:
            group = groups.get(c)
            out.append(f"## {text(sentence(group).rstrip('.'))} {{#{anchor('group ' + group)}}}")
        meaning = comments.get(c, "")
        lines = [f"### `{c}` {{#{c}}}"]
        if c in GENERIC:
            lines.append("A general code: the message itself names the problem and the fix.")
        elif meaning:
            lines.append(text(sentence(meaning)))
        said = notes.get(c, {})
        items = [f"- **message:** {text(m)} ({code(r)})" for m, r in said.get("message", [])[:4]]
        items += [f"- **fix:** {text(f)} ({code(r)})" for f, r in said.get("fix", [])]
        if items:
            lines.append("\n".join(items))
        out.append("\n\n".join(lines))
    return "\n\n".join(out)


GENERATORS = {"commands": commands_section, "parameters": parameters_section, "contract": contract_section,
              "reasons": reasons_section}


# ---------------------------------------------------------------------------- building


def stage(docs: Path = DOCS, build: Path = BUILD) -> Path:
    """Copy docs/ into a fresh build/docs/src/ and fill in the generated parts; returns the staged folder."""
    build.mkdir(parents=True, exist_ok=True)
    new = build / f"src-new-{uuid.uuid4().hex[:8]}"
    shutil.copytree(docs, new, ignore=shutil.ignore_patterns("_site", ".quarto", "*.html"))
    for page in new.rglob("*.qmd"):
        source = page.read_text()
        if MARKER.search(source):
            page.write_text(MARKER.sub(lambda m: GENERATORS[m.group(1)](), source))
    final = build / "src"
    swap(new, final)
    return final


def swap(new: Path, final: Path) -> None:
    old = final.with_name(final.name + f".old-{uuid.uuid4().hex[:8]}")
    if final.exists():
        final.rename(old)
    new.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def find_quarto() -> str | None:
    from kit.publish.site import find_quarto as find

    return find()


def render(source: Path, build: Path = BUILD, quarto: str | None = None) -> Path:
    """Render a fresh copy of the staged source; the site ends in build/docs/site/."""
    quarto = quarto or find_quarto()
    work = build / f"render-{uuid.uuid4().hex[:8]}"
    try:
        shutil.copytree(source, work)
        proc = subprocess.run([quarto, "render", str(work), "--quiet"], capture_output=True, text=True)
        if proc.returncode != 0 or not (work / "_site" / "index.html").is_file():
            tail = "\n".join((proc.stderr or proc.stdout or "").strip().splitlines()[-20:])
            raise SystemExit(f"error: quarto render of the manual failed (exit {proc.returncode}):\n{tail}")
        site = build / "site"
        swap(work / "_site", site)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return site


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/manual.py", description="Build the manual (docs/) into build/docs/site/.")
    ap.add_argument("--source", action="store_true", help="only write the staged source, build/docs/src/")
    ap.add_argument("--build", default=str(BUILD), help="build folder (default: build/docs/)")
    args = ap.parse_args(argv)
    build = Path(args.build).resolve()
    source = stage(DOCS, build)
    print(f"manual source: {source}")
    if args.source:
        return 0
    quarto = find_quarto()
    if quarto is None:
        print("error: Quarto is not installed, so the manual's source is written but not rendered [quarto_missing]\n"
              "  fix: get Quarto with the conda environment (`conda env create -f environment.yml`), "
              "`pip install quarto-cli` into .venv where the internet is reachable, or the installer from quarto.org; "
              "the pages can also be read as they are in docs/", file=sys.stderr)
        return 2
    site = render(source, build, quarto)
    print(f"manual: {site / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
