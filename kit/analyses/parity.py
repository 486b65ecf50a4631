"""Is the platform running the card that was designed?

When the parameters name the period whose scorecard the client adopted (`maintenance.adopted_scorecard`), every
account's latest platform score of the month (health_scores) is recomputed from the exports by that card, as at the
score's date, and the two are compared. An account off by more than `maintenance.score_tolerance` points is listed,
with the measure that explains the gap: the one whose points, taken from another of its ranges (or its no-value
points), give the platform's score within the tolerance. That is the classic admin error: a range typed wrong, or a
measure that stopped syncing (its no-value points).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from kit.analyses import health_score, signals
from kit.errors import KitError
from kit.io.load import ClientData
from kit.params import Parameters, Score
from kit.periods import Period


ROWS = {"account_id": pl.String, "as_of": pl.Date, "platform_score": pl.Float64, "card_score": pl.Float64, "gap": pl.Float64,
        "measure": pl.String, "value": pl.Float64}  # an account listed: its columns (check()["accounts"])


def frame(rows: list[dict]) -> pl.DataFrame:
    """The listed accounts as a frame (explicit types: the first rows may explain nothing)."""
    return pl.DataFrame(rows, schema=ROWS) if rows else pl.DataFrame(schema=ROWS)


def adopted(params: Parameters, client_root: Path) -> tuple[Score, str] | None:
    """The card of the adopted scorecard (None when the parameters name none). A named period without a scorecard
    is an error naming the folder and the fix."""
    from kit.analyses import scorecard

    label = params.maintenance.adopted_scorecard
    if not label:
        return None
    folder = client_root / label
    try:
        doc = scorecard.read(folder)
    except (OSError, ValueError):
        raise KitError(f"the adopted scorecard of {label} cannot be read", where=str(folder / scorecard.FILE),
                       fix="run the back-test of that period, or set maintenance.adopted_scorecard to the period the "
                       "client's platform scorecard came from") from None
    return scorecard.to_score(doc, params.score.at_risk_weeks), label


def _probes(card: Score, segment: str | None) -> list[tuple[str, float | None]]:
    """For each measure of a segment's card: one value in each of its ranges, and no value when that has points."""
    cfg = health_score.card(card, segment)
    out = []
    for comp in cfg.components.values():
        for s in comp.signals:
            t = comp.tiers[s]
            out += [(s, c) for c in t.cuts] + [(s, t.cuts[-1] + max(1.0, abs(t.cuts[-1])))]
            if t.missing is not None:
                out.append((s, None))
    return out


def check(data: ClientData, card: Score, period: Period, tolerance: float) -> dict[str, Any]:
    """The platform's latest score of each account in the period against the card's score as at the same date."""
    if not data.has("health_scores"):
        return {"available": False, "reason": "no platform scores (health_scores) to compare with"}
    plat = (data.table("health_scores").filter(pl.col("date").is_between(period.start, period.end), pl.col("score").is_not_null())
            .sort("date").group_by("account_id").agg(pl.col("date").last().alias("as_of"), pl.col("score").last().alias("platform_score")))
    measures = list(dict.fromkeys(s for cfg in (card, *card.segments.values()) for c in cfg.components.values() for s in c.signals))
    sig = signals.build(data, plat.select("account_id", "as_of"), measures)
    scored = health_score.resolved(sig, card)
    j = plat.with_columns(scored["score"].alias("card_score"), sig["segment"].alias("segment")).with_columns(
        (pl.col("platform_score") - pl.col("card_score")).alias("gap"))
    off = j.filter(pl.col("gap").abs() > tolerance)
    rows = []
    if off.height:
        base = sig.join(off.select("account_id"), on="account_id", how="semi")
        probes = []
        for r in base.iter_rows(named=True):
            for m, v in _probes(card, r["segment"]):
                probes.append({**r, m: v, "_measure": m, "_value": r[m]})
        tried = pl.DataFrame(probes, schema=sig.schema | {"_measure": pl.String, "_value": pl.Float64})
        tried = tried.with_columns(health_score.resolved(tried.drop("_measure", "_value"), card)["score"].alias("_score"))
        hits = (tried.join(off.select("account_id", "platform_score"), on="account_id")
                .filter((pl.col("_score") - pl.col("platform_score")).abs() <= tolerance)
                .group_by("account_id", maintain_order=True).agg(pl.col("_measure").first().alias("measure"),
                                                                 pl.col("_value").first().alias("value")))
        listed = off.join(hits, on="account_id", how="left").sort(pl.col("gap").abs(), "account_id", descending=[True, False])
        rows = listed.select("account_id", "as_of", "platform_score", "card_score", "gap", "measure", "value").to_dicts()
    return {"available": True, "tolerance": tolerance, "compared": j.height, "off": len(rows), "accounts": rows,
            "unscored_by_card": int(j["card_score"].null_count())}
