"""The presentation layer (kit/present.py): labels, numbers by kind, tables, badges, Markdown.

Expected strings are written out by hand (or computed here with plain arithmetic), not produced by
the formatters under test. The end-to-end tests read the demo's executed notebooks: no output that
makes Quarto load scripts from a CDN, the nbconvert reports styled like the site, and every piece
of Markdown read the same by pandoc (Quarto) and mistune (nbconvert).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import polars as pl
import pytest

from kit.publish import site
from kit import present


# ---------------------------------------------------------------------------- numbers by kind


@pytest.mark.parametrize("value, kind, shown", [
    (0.1432, "percent", "14%"),
    (0.1432, "percent1", "14.3%"),
    (0.05, "change", "+5%"),
    (0.71327, "auc", "0.71"),
    (-0.3099, "ratio", "−0.31"),
    (1234567.4, "money", "1,234,567"),
    (12345, "count", "12,345"),
    (176, "days", "176"),
    (78.4, "hours", "78 h"),
    (1, "months", "1 month"),
    (2, "months", "2 months"),
    (0.05, "points", "5 points"),
    (82.46, "score", "82.5"),
    (True, "bool", "yes"),
    (None, "percent", "–"),
    (float("nan"), "auc", "–"),
    ("accuracy_audit", "label", "Health score accuracy audit"),
])
def test_numbers_and_names_by_kind(value, kind, shown):
    assert present.fmt(value, kind) == shown


@pytest.mark.parametrize("p", [0.000888, 1.5093938697861787e-39, 0.2])
def test_p_values_in_scientific_notation(p):
    exponent = math.floor(math.log10(p))
    mantissa = f"{p / 10 ** exponent:.1f}"
    shown = present.fmt(p, "pvalue")
    assert re.sub(r"<[^>]+>", "", shown) == f"{mantissa} × 10−{abs(exponent)}"
    assert "<sup" in shown


def test_labels_come_from_one_table_and_unknown_keys_read_as_words():
    assert present.label("red_precision") == "Red precision"
    assert present.label("csm_active_share") == "Platform usage (CSM daily active)"
    assert present.label("feature_api_calls") == "Api calls per day (30 days)"  # a generated signal of the catalogue's grammar
    assert present.label("some_new_metric") == "Some new metric"
    from kit.analyses.maintenance import CHECKS

    assert all(k in present.LABELS for k in CHECKS)  # every check has its title in the table


def test_thresholds_and_messages_in_words():
    assert present.threshold_text({"amber": 0.15, "red": 0.2, "worse": "higher"}, "percent") == "red &gt; 20%, amber &gt; 15%"
    assert present.threshold_text({"amber": 0.7, "red": 0.7, "worse": "lower"}, "percent") == "red &lt; 70%"
    assert present.threshold_text(None, "percent") == "–"
    out = present.prose("missing for 64% of renewals (more than weighting.max_missing_share = 50%), p = 0.0909")
    assert "<code>weighting.max&#95;missing&#95;share</code>" in out and "9.1 × 10<sup" in out


# ---------------------------------------------------------------------------- tables


def cells(html: str, tag: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c) for c in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", html)]


def test_a_table_has_labels_formatted_cells_badges_and_no_index():
    frame = pl.DataFrame({"check": ["accuracy_audit", "false_rate"], "status": ["green", "red"],
                          "red_precision": [0.1654, None], "arr": [1234567.0, 25.0], "note": ["a *b* _c_ <d> $e$", ""]})
    t = present.table(frame)
    assert cells(t.html, "th") == ["Check", "Status", "Red precision", "ARR", "Note"]  # no index column
    rows = [cells(r, "td") for r in re.findall(r"<tr>(.*?)</tr>", t.html)]
    assert rows[0] == ["Health score accuracy audit", "green", "17%", "1,234,567", "a &#42;b&#42; &#95;c&#95; &lt;d&gt; &#36;e&#36;"]
    assert rows[1][:4] == ["False positives / negatives", "red", "–", "25"]
    assert '<span class="kit-badge kit-badge-red">red</span>' in t.html
    assert "\n" not in t.html and "<style" not in t.html  # one line: one HTML block for pandoc and CommonMark
    bundle = t._repr_mimebundle_()
    assert set(bundle) == {"text/markdown", "text/plain"}  # no text/html: Quarto's CDN trigger
    assert "Health score accuracy audit | green | 17%" in bundle["text/plain"]


def test_transposed_and_truncated_tables():
    frame = pl.DataFrame({"configuration": ["current", "proposed"], "auc": [0.713, 0.754], "renewals": [2853, 2853]})
    t = present.table(frame, transpose="configuration")
    assert cells(t.html, "th") == ["", "Current weights", "Proposed weights"]
    assert [cells(r, "td") for r in re.findall(r"<tr>(.*?)</tr>", t.html)] == [["AUC", "0.71", "0.75"], ["Renewals", "2,853", "2,853"]]
    long = present.table(pl.DataFrame({"n": list(range(30))}), max_rows=25)
    assert len(re.findall(r"<tr>", long.html)) == 25 and "First 25 of 30 rows." in long.html


def test_markdown_gets_the_blank_lines_pandoc_needs():
    assert present.md("**Verdict**\n- one\n- two\nmore") == "**Verdict**\n\n- one\n- two\nmore"
    assert present.md("Text\n> quote\n## Head") == "Text\n\n> quote\n\n## Head"
    assert present.md("a\n\n- x\n- y") == "a\n\n- x\n- y"  # already right
    assert present.md("```\ncode\n- not a list\n```") == "```\ncode\n- not a list\n```"


# ---------------------------------------------------------------------------- the demo's reports


def outputs(nb: dict):
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            yield cell, out


def test_executed_notebooks_hold_nothing_that_makes_quarto_load_scripts(demo_run):
    for path in sorted(Path(demo_run.folder).glob("*.ipynb")):
        nb = json.loads(path.read_text())
        for _, out in outputs(nb):
            mimes = set(out.get("data", {}))
            assert not mimes & {"text/html", "application/javascript"}, (path.name, mimes)
            assert not any(m.startswith("application/vnd.jupyter.widget") for m in mimes), (path.name, mimes)
        assert "widgets" not in nb["metadata"]


def test_nbconvert_reports_have_the_site_formatting(demo_run):
    html = (Path(demo_run.folder) / "04_maintenance.html").read_text()
    assert ".kit-badge-red" in html and '<span class="kit-badge kit-badge-red">red</span>' in html
    assert 'class="gt_table kit"' in html and 'class="dataframe"' not in html  # no pandas tables
    assert "accuracy_audit" not in re.sub(r"<code>.*?</code>", "", html.split("</style>")[-1])


def markdown_pieces(folder: Path) -> list[str]:
    pieces = []
    for path in sorted(folder.glob("*.ipynb")):
        nb = json.loads(path.read_text())
        pieces += ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
        for _, out in outputs(nb):
            md = out.get("data", {}).get("text/markdown")
            if md:
                pieces.append("".join(md) if isinstance(md, list) else md)
    return pieces


def structure(html: str) -> list[str]:
    """The document's shape: its block and emphasis elements in order (attributes and text aside)."""
    tags = re.findall(r"<(p|ul|ol|li|strong|em|code|table|tr|th|td|h[1-6]|blockquote|pre|sup|span class=\"kit-badge[^\"]*\")[\s>]", html)
    return [t for t in tags if t != "pre"]


@pytest.mark.skipif(site.find_quarto() is None, reason="Quarto is not installed (its pandoc reads the Markdown as the site does)")
def test_markdown_reads_the_same_under_nbconvert_and_quarto(demo_run):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    pieces = markdown_pieces(Path(demo_run.folder))
    assert len(pieces) > 50
    sep = "\n\n<div class=\"kit-sep\"></div>\n\n"
    proc = subprocess.run([site.find_quarto(), "pandoc", "-f", "markdown", "-t", "html"], input=sep.join(pieces),
                          capture_output=True, text=True, check=True)
    quarto = re.split(r"<div class=\"kit-sep\">\s*</div>", proc.stdout)
    assert len(quarto) == len(pieces)
    differ = [(p[:80], structure(markdown2html_mistune(p)), structure(q)) for p, q in zip(pieces, quarto)
              if structure(markdown2html_mistune(p)) != structure(q)]
    assert differ == []


def test_a_transposed_table_lets_its_text_rows_wrap():
    """Candidates side by side: a row of words (which renewals a candidate was fitted on) may wrap in the
    right-aligned columns, numbers stay on one line; each metric is formatted once, by its kind."""
    frame = pl.DataFrame({"candidate": ["current", "scorecard"], "fitted_on": ["not fitted (set by hand)", "renewals before 2026-04-09"],
                          "auc_out_of_time": [0.7512, 0.7403]})
    html = present.table(frame, transpose="candidate").html
    assert html.count('<span class="kit-wrap">') == 2
    assert '<span class="kit-wrap">not fitted (set by hand)</span>' in html
    assert "0.75" in html and "0.74" in html and "kit-wrap\">0.7" not in html


def test_chart_gradient_ids_do_not_depend_on_the_charts_drawn_before():
    """Vega numbers gradients with a process-wide counter; a kernel kept for the next month
    (kit.run.engine) would otherwise draw the same chart with another id."""
    from kit import charts

    a = charts.alt()
    heat = a.Chart(pl.DataFrame({"x": ["a", "b"], "y": ["a", "b"], "r": [0.2, 0.9]}).to_pandas()).mark_rect().encode(x="x:N", y="y:N", color="r:Q")
    first, second = (heat._repr_mimebundle_()["image/svg+xml"] for _ in range(2))
    assert first == second and "gradient_" in first
    other = a.Chart(pl.DataFrame({"x": ["a"], "y": ["b"], "r": [0.5]}).to_pandas()).mark_rect().encode(x="x:N", y="y:N", color="r:Q")
    assert re.findall(r'id="(gradient_[^"]+)"', first) != re.findall(r'id="(gradient_[^"]+)"', other._repr_mimebundle_()["image/svg+xml"])
    assert charts.stable_ids('<linearGradient id="gradient_7"/><path fill="url(#gradient_7)"/>') == charts.stable_ids(
        '<linearGradient id="gradient_0"/><path fill="url(#gradient_0)"/>')
