"""Altair set-up shared by every notebook: static SVG output so pages work offline.

Altair's default HTML output loads Vega from a CDN when the page is opened; SVG rendered by
vl-convert needs nothing at view time and keeps pages small. Import is lazy: altair is slow to
import, and only notebooks that draw pay for it.
"""

from __future__ import annotations

import sys

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
        altair.data_transformers.disable_max_rows()
        _READY = True
    return altair


def status_scale():
    a = alt()
    return a.Scale(domain=["green", "yellow", "amber", "red", "not checked"],
                   range=[PALETTE["green"], PALETTE["yellow"], PALETTE["amber"], PALETTE["red"], PALETTE["grey"]])


def whole_axis(largest: float):
    """An axis of whole numbers (records, renewals) up to `largest`: Vega's own ticks for a small
    range are 0.5 apart, and formatting them as whole numbers would print one twice."""
    a = alt()
    top = int(largest) if largest == largest else 0  # NaN: no data
    if top <= 10:
        return a.Axis(values=list(range(0, max(top, 1) + 1)), format=",d")
    return a.Axis(format=",d")  # beyond 10 the nice steps are whole already
