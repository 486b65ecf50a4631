"""The import graph of kit/: no circle, and every import points down the layers of kit/__init__.py.

Every import counts, at module level or inside a function (a function-level import must not hide a
circle or an upward arrow). The checker itself is checked: a planted upward import and a planted
circle must be reported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kit

KIT = Path(kit.__file__).resolve().parent

# layer of each module: the shared leaves, then the packages in the order of kit/__init__.py's docstring
LEAVES = {"kit", "kit.errors", "kit.periods", "kit.catalog", "kit.checks", "kit.contract", "kit.uris", "kit.registry",
          "kit.params", "kit.present", "kit.charts", "kit.artefacts", "kit.status"}
PACKAGES = {"kit.io": 1, "kit.analyses": 2, "kit.publish": 3, "kit.run": 4}
ENTRY = {"kit.notebook", "kit.cli", "kit.demo", "kit.__main__"}
TOP = 5


def modules(root: Path = KIT) -> dict[str, Path]:
    out = {}
    for p in root.rglob("*.py"):
        parts = list(p.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def layer(module: str) -> int:
    if module in LEAVES:
        return 0
    if module in ENTRY:
        return TOP
    for pkg, n in PACKAGES.items():
        if module == pkg or module.startswith(pkg + "."):
            return n
    raise AssertionError(f"{module} has no layer: add it to tests/test_layers.py and to kit/__init__.py's picture")


def imports(source: str, known: set[str]) -> set[str]:
    """The kit modules a source imports, anywhere in it (a name imported from a package that is a module counts as it)."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] == "kit":
            subs = {f"{node.module}.{a.name}" for a in node.names} & known
            out |= subs or ({node.module} & known)
            if subs and node.module in known and any(f"{node.module}.{a.name}" not in known for a in node.names):
                out.add(node.module)
    return out


def graph(sources: dict[str, str]) -> dict[str, set[str]]:
    known = set(sources)
    return {m: imports(src, known) - {m} for m, src in sources.items()}


def problems(g: dict[str, set[str]]) -> list[str]:
    out = [f"{m} (layer {layer(m)}) imports {d} (layer {layer(d)}): against the layer order"
           for m, deps in sorted(g.items()) for d in sorted(deps)
           if layer(d) > layer(m) and not (m == "kit" and d.startswith("kit."))]
    # circles: depth-first search for a back edge
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for d in sorted(g.get(m, ())):
            if state.get(d) == 1:
                out.append("import circle: " + " -> ".join(path[path.index(d):] + [d]))
            elif d not in state:
                visit(d)
        path.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)
    return out


def test_imports_point_down_the_layers_without_circles():
    sources = {m: p.read_text() for m, p in modules().items()}
    assert problems(graph(sources)) == []


def test_every_module_has_a_layer():
    for m in modules():
        layer(m)


def test_the_checker_finds_a_planted_upward_import_and_a_planted_circle():
    sources = {m: p.read_text() for m, p in modules().items()}
    planted = dict(sources)
    planted["kit.analyses.health_score"] += "\n\ndef _planted():\n    from kit.run import batch  # upward, hidden in a function\n"
    found = problems(graph(planted))
    assert any("kit.analyses.health_score (layer 2) imports kit.run.batch (layer 4)" in p for p in found), found
    circle = dict(sources)
    circle["kit.catalog"] += "\nfrom kit import params\n"  # params imports catalog: a circle among the leaves
    assert any(p.startswith("import circle:") and "kit.catalog" in p and "kit.params" in p for p in problems(graph(circle)))
