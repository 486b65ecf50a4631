"""One home each: an artefact's file name is written only in kit.registry, the band rule only in kit.status.

Both checks read kit/ with `ast` (string constants, not comments or prose), and both are checked against a
planted copy: a module that names an artefact by a literal, and a second band rule.
"""

from __future__ import annotations

import ast

from kit import registry

from .test_layers import modules

BAND_WORD = "yellow"  # the one word only the band rule yields (red and green are check statuses and colours too)


def file_names() -> set[str]:
    """Every file name the registry declares: its constants and each notebook's files."""
    names = {v for k, v in vars(registry).items() if k.isupper() and isinstance(v, str) and "." in v}
    for nb in registry.NOTEBOOKS.values():
        names |= {nb.file, nb.artefact, *nb.writes}
    return names


def literal_file_names(sources: dict[str, str]) -> list[str]:
    """`module: 'name'` for each string constant outside kit.registry that is an artefact's file name."""
    names = file_names()
    return sorted({f"{m}: {node.value!r}" for m, src in sources.items() if m != "kit.registry"
                   for node in ast.walk(ast.parse(src))
                   if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names})


def _is_band_word(n: ast.AST) -> bool:
    return ((isinstance(n, ast.Constant) and n.value == BAND_WORD) or (isinstance(n, ast.Name) and n.id == "YELLOW")
            or (isinstance(n, ast.Attribute) and n.attr == "YELLOW"))


def _yielded(fn: ast.AST) -> list[ast.AST]:
    """What a function hands out as a value: its returns, both branches of a conditional, and pl.lit(...)'s argument
    (not a colour looked up by the word, nor a badge drawn for it)."""
    out = []
    for n in ast.walk(fn):
        if isinstance(n, ast.Return) and n.value is not None:
            out.append(n.value)
        elif isinstance(n, ast.IfExp):
            out += [n.body, n.orelse]
        elif isinstance(n, ast.Call) and getattr(n.func, "attr", getattr(n.func, "id", None)) == "lit":
            out += n.args
    return out


def band_rules(sources: dict[str, str]) -> list[str]:
    """`module.function` for each function outside kit.status that compares values and yields the band word."""
    found = []
    for m, src in sources.items():
        if m == "kit.status":
            continue
        for fn in (n for n in ast.walk(ast.parse(src)) if isinstance(n, (ast.FunctionDef, ast.Lambda))):
            compares = any(isinstance(n, ast.Compare) and any(isinstance(o, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) for o in n.ops)
                           for n in ast.walk(fn))
            if compares and any(_is_band_word(n) for n in _yielded(fn)):
                found.append(f"{m}.{getattr(fn, 'name', '<lambda>')}")
    return sorted(found)


def sources() -> dict[str, str]:
    return {m: p.read_text() for m, p in modules().items()}


def test_artefact_file_names_are_written_only_in_the_registry():
    assert {"weights.json", "maintenance.json", "manifest.json", "history.parquet", "scores.parquet"} <= file_names()
    assert literal_file_names(sources()) == []


def test_the_band_rule_is_defined_only_in_kit_status():
    assert band_rules(sources()) == []


def test_both_checks_find_a_planted_copy():
    planted = sources()
    planted["kit.run.losses"] += '\n\ndef _planted(folder):\n    return folder / "weights.json"\n'
    planted["kit.analyses.scorecard"] += ('\n\ndef _colour(score, bands):\n    return "red" if score < bands["red"] else '
                                          '"green" if score >= bands["green"] else "yellow"\n')
    planted["kit.analyses.maintenance"] += ('\n\ndef _band(score, red, green):\n    import polars as pl\n'
                                            '    return pl.when(score < red).then(pl.lit("red")).otherwise(pl.lit(YELLOW))\n')
    assert literal_file_names(planted) == ["kit.run.losses: 'weights.json'"]
    assert band_rules(planted) == ["kit.analyses.maintenance._band", "kit.analyses.scorecard._colour"]


def test_the_band_rule_reads_as_the_methodology_says():
    """Red below the red threshold, green at or above green, yellow between, no score no band; 101 means no green."""
    import polars as pl

    from kit import status

    scores = pl.Series([None, 10.0, 59.999, 60.0, 74.9, 75.0, 100.0])
    got = pl.select(status.band(pl.lit(scores), 60, 75)).to_series().to_list()
    assert got == [None, "red", "red", "yellow", "yellow", "green", "green"]
    assert [status.band_of(s, 60, 101) for s in (59, 60, 100)] == ["red", "yellow", "yellow"]


def _documents():
    from kit.analyses.audit import AuditDocument
    from kit.analyses.backtest import BacktestDocument
    from kit.analyses.maintenance import MaintenanceDocument
    from kit.analyses.weights import WeightsDocument

    return (AuditDocument, WeightsDocument, BacktestDocument, MaintenanceDocument)


def test_each_result_reads_back_what_it_wrote_and_names_a_missing_key(tmp_path):
    import json

    import pytest

    from kit.errors import KitError

    for kind in _documents():
        assert kind.FILE == registry.NOTEBOOKS[{"audit": "audit", "weights": "weights", "backtest": "backtest",
                                                 "maintenance": "maintenance"}[kind.FILE.split(".")[0]]].artefact
        folder = tmp_path / kind.__name__
        folder.mkdir()
        assert kind.read(folder) is None  # nothing written yet
        doc = {k: [] if k in kind.RECORDS else f"value of {k}" for k in kind.REQUIRED}
        kind(doc).write(folder)
        assert kind.read(folder).doc == doc
        older = {k: v for k, v in doc.items() if k != kind.REQUIRED[-1]}  # as an older kit wrote it
        (folder / kind.FILE).write_text(json.dumps(older))
        with pytest.raises(KitError) as e:
            kind.read(folder)
        message = str(e.value)
        assert str(folder / kind.FILE) in message and repr(kind.REQUIRED[-1]) in message, message
        assert e.value.code == "artefact_outdated" and "rerun this period" in message


def test_a_record_without_its_key_is_named_with_its_place(tmp_path):
    import pytest

    from kit.analyses.maintenance import MaintenanceDocument
    from kit.errors import KitError

    MaintenanceDocument({"period": "2026-10", "checks": [{"name": "a", "status": "red"}, {"name": "b"}]}).write(tmp_path)
    with pytest.raises(KitError, match=r"maintenance.json has no 'status' in checks\[1\]"):
        MaintenanceDocument.read(tmp_path)
