"""A second scorer: what a CS platform computes from the exported tables, written from the platforms' rules, not
from the kit's code. Tests check that it gives the kit's scores, segment by segment.

* Gainsight (`scorecard_gainsight.csv`): the Scorecard Resolver picks the scorecard whose criterion (`applies_to`,
  "segment = X") matches the account, else the default; each measure's rule whose range holds the value (a range
  such as "> 1.8 and <= 2.3", or "no value") sets its score; the overall score is the weighted average (weights in
  percent adding up to 100).
* ChurnZero (`scorecard_churnzero.csv`): the ChurnScore of the account's segment (else the default); each factor's
  point allocation grid row whose range holds the value (bottom exclusive, top inclusive) earns its points; the
  score is the sum of the points.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path


def read(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _card(rows: list[dict], segment: str | None) -> list[dict]:
    """The rows of the card the resolver gives an account of `segment`."""
    own = [r for r in rows if r["applies_to"] == f"segment = {segment}"]
    return own or [r for r in rows if not r["applies_to"].startswith("segment = ")]


def gainsight_score(rows: list[dict], values: dict, segment: str | None = None) -> float:
    """The overall score of an account with these measure values, from the Gainsight table."""
    card = _card(rows, segment)
    total = 0.0
    for measure in dict.fromkeys(r["measure"] for r in card):
        mine = [r for r in card if r["measure"] == measure]
        v = values[measure]
        if _blank(v):
            hit = [r for r in mine if r["no_value"] == "true"]
        else:
            hit = [r for r in mine if r["no_value"] != "true" and all(
                {"<=": v <= float(num), ">": v > float(num)}[op] for op, num in (part.split(" ") for part in r["range"].split(" and ")))]
        assert len(hit) == 1, (measure, v, hit)
        total += int(mine[0]["weight_percent"]) / 100 * float(hit[0]["score"])
    return total


def churnzero_score(rows: list[dict], values: dict, segment: str | None = None) -> float:
    """The ChurnScore of an account with these factor values, from the ChurnZero grid."""
    card = _card(rows, segment)
    total = 0.0
    for factor in dict.fromkeys(r["factor"] for r in card):
        v = values[factor]
        earned = []
        for r in (r for r in card if r["factor"] == factor):
            if r["no_value"] == "true":
                if _blank(v):
                    earned.append(float(r["points"]))
                continue
            if _blank(v):
                continue
            lo = float(r["range_from_exclusive"]) if r["range_from_exclusive"] else -math.inf
            hi = float(r["range_to_inclusive"]) if r["range_to_inclusive"] else math.inf
            if lo < v <= hi:
                earned.append(float(r["points"]))
        assert len(earned) == 1, (factor, v, earned)
        total += earned[0]
    return total


def measures(rows: list[dict]) -> list[str]:
    """Every measure of every card of a Gainsight table."""
    return list(dict.fromkeys(r["measure"] for r in rows))
