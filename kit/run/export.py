"""Executed notebook -> standalone HTML for the client: inputs hidden, charts inline (SVG), no CDN,
tables and badges styled by kit/present.css (inlined, as the Quarto site links it)."""

from __future__ import annotations

from pathlib import Path


def to_html(notebook: Path, html: Path) -> Path:
    import nbformat

    from kit import present
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook, as_version=4)
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


def _strip_cdn_scripts(body: str) -> str:
    import re

    return re.sub(r'<script[^>]+src="https?://[^"]+"[^>]*>\s*</script>', "", body)
