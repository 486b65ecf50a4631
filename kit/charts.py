"""Altair set-up shared by every notebook: static SVG output so pages work offline.

Altair's default HTML output loads Vega from a CDN when the page is opened; SVG rendered by
vl-convert needs nothing at view time and keeps pages small. Import is lazy: altair is slow to
import, and only notebooks that draw pay for it.
"""

from __future__ import annotations

import hashlib
import re
import sys

from kit import status

_READY = False

PALETTE = {"red": "#d62728", "amber": "#ff9f1c", "yellow": "#f2c14e", "green": "#2ca02c", "grey": "#9e9e9e", "blue": "#1f77b4"}


def skip_iri_grammar() -> None:
    """Before importing jsonschema (altair, nbformat's validator): skip its optional IRI grammar.

    jsonschema builds a grammar with rfc3987_syntax at import time when that package is present:
    most of a 2 s `import altair`, for an "iri" format check the kit never uses."""
    sys.modules.setdefault("rfc3987_syntax", None)


def alt():
    """The altair module, configured for static SVG output."""
    global _READY
    skip_iri_grammar()  # altair imports jsonschema
    import altair

    if not _READY:
        altair.renderers.enable("svg")
        svg = altair.renderers.get()

        def stable_svg(spec, **how):
            bundle = svg(spec, **how)
            return {**bundle, "image/svg+xml": stable_ids(bundle["image/svg+xml"])}

        altair.renderers.register("kit-svg", stable_svg)
        altair.renderers.enable("kit-svg")
        altair.data_transformers.disable_max_rows()
        _READY = True
    return altair


_GRADIENT = re.compile(r"\bgradient_\d+\b")


def stable_ids(svg: str) -> str:
    """The SVG with its gradient ids named after its content: Vega numbers gradients with a counter
    that lives as long as the process, so the same chart would otherwise come out with another id
    depending on the charts drawn before it (in a kernel kept for the next month, kit.run.engine).
    Named after the content, ids stay unique between different charts on one page."""
    names = list(dict.fromkeys(_GRADIENT.findall(svg)))
    if not names:
        return svg
    digest = hashlib.sha256(_GRADIENT.sub("gradient", svg).encode()).hexdigest()[:10]
    return _GRADIENT.sub(lambda m: f"gradient_{digest}_{names.index(m.group(0))}", svg)


def start_renderer() -> None:
    """Start the SVG converter ahead (kit.run.engine warms kernels with it): its first chart pays about
    half a second to start the converter's JavaScript engine, later ones a few milliseconds."""
    import vl_convert

    vl_convert.vegalite_to_svg({"mark": "point", "data": {"values": [{"x": 0}]}, "encoding": {"x": {"field": "x", "type": "quantitative"}}})


MONTH_LABEL = ("['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec'][toNumber(slice(datum.value, 5, 7)) - 1]"
               " + ' ' + slice(datum.value, 2, 4)")  # a period YYYY-MM as "Jun 26": twelve of them fit a small chart


def period_axis(**how):
    """An axis of periods (YYYY-MM) labelled by month and year, level."""
    return alt().Axis(labelAngle=0, labelExpr=MONTH_LABEL, **how)


def status_scale():
    a = alt()
    words = [status.GREEN, status.YELLOW, status.AMBER, status.RED, status.NOT_CHECKED]
    return a.Scale(domain=words, range=[PALETTE[w] if w != status.NOT_CHECKED else PALETTE["grey"] for w in words])


def whole_axis(largest: float):
    """An axis of whole numbers (records, renewals) up to `largest`: Vega's own ticks for a small
    range are 0.5 apart, and formatting them as whole numbers would print one twice."""
    a = alt()
    top = int(largest) if largest == largest else 0  # NaN: no data
    if top <= 10:
        return a.Axis(values=list(range(0, max(top, 1) + 1)), format=",d")
    return a.Axis(format=",d")  # beyond 10 the nice steps are whole already
