"""Executed notebook -> standalone HTML for the client: inputs hidden, charts inline (SVG), no CDN,
tables and badges styled by kit/present.css (inlined, as the Quarto site links it)."""

from __future__ import annotations

from pathlib import Path


def to_html(notebook: Path, html: Path) -> Path:
    import nbformat

    from kit import present
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook, as_version=4)
    if _fixed_ids(nb):
        nbformat.write(nb, notebook)
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    # pages must work offline: no MathJax or require.js from a CDN (charts are inline SVG)
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    title = nb.metadata.get("title") or notebook.stem
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = _strip_cdn_scripts(body)
    body = body.replace("</head>", f"<style>\n{present.css()}</style>\n</head>", 1)
    html.write_text(body, encoding="utf-8")
    return html


INJECTED = "injected-parameters"  # papermill's tag on the cell it adds with the run's parameters


def _fixed_ids(nb) -> bool:
    """Give papermill's parameters cell a fixed id (papermill draws a random one), so the page of a
    period run twice, or in a range, comes out the same. True when an id changed."""
    changed = False
    for cell in nb.cells:
        if INJECTED in cell.get("metadata", {}).get("tags", []) and cell.get("id") != INJECTED:
            cell["id"] = INJECTED
            changed = True
    return changed


def _strip_cdn_scripts(body: str) -> str:
    import re

    return re.sub(r'<script[^>]+src="https?://[^"]+"[^>]*>\s*</script>', "", body)
