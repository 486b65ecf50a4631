"""The status words and the band rule, defined once.

A score's band: red below the card's red threshold, green at or above its green threshold, yellow between
(`band`; a card whose green threshold is 101 has no green). A monthly check's status: green, amber or red
against its limits, or not checked when its data are missing. Pages, charts, documents and the analyses
take these words from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

RED, AMBER, YELLOW, GREEN, NOT_CHECKED = "red", "amber", "yellow", "green", "not checked"

BANDS = (RED, YELLOW, GREEN)  # a score's bands, riskiest first
CHECK_STATUSES = (NOT_CHECKED, GREEN, AMBER, RED)  # a check's statuses, in rank order (worst last)
WORDS = (RED, AMBER, YELLOW, GREEN, NOT_CHECKED)  # every status a badge or a chart colours, worst first


def band(score: "pl.Expr", red: "float | pl.Expr", green: "float | pl.Expr") -> "pl.Expr":
    """The band of each score (null for no score): red below `red`, green at or above `green`, yellow between."""
    import polars as pl

    return (
        pl.when(score.is_null()).then(None)
        .when(score < red).then(pl.lit(RED))
        .when(score >= green).then(pl.lit(GREEN))
        .otherwise(pl.lit(YELLOW))
    )


def band_of(score: float, red: float, green: float) -> str:
    """The band of one score, by the same rule."""
    import polars as pl

    return pl.select(band(pl.lit(score), red, green)).item()
