"""A client platform running an adopted scorecard with one range typed wrong for some accounts.

`platform(p, data, doc, month, folder)` writes `folder/reports/2026-09/scorecard.json` (the adopted card, `doc`),
a platform export whose latest score of the month is the card's for every account but `accounts` of them (every
third active account), scored with the first cut of `signal` typed at ten times its value, and a parameters file
naming 2026-09 as adopted that reads that export. What the parity check must list is derived here independently:
the misconfigured accounts the wrong range scores differently by more than one point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import polars as pl

from kit import params as params_mod
from kit.analyses import accounts, health_score, scorecard, signals
from kit.artefacts import write_json
from kit.params import Parameters, Score
from kit.periods import Period

ADOPTED = "2026-09"


@dataclass
class Planted:
    params: Parameters  # the client's parameters, naming ADOPTED as the adopted card and reading the planted export
    right: Score  # the adopted card
    signal: str  # the measure whose range was typed wrong
    expected: set[str]  # the accounts the parity check must list
    scored: int  # platform scores of the month in the export


def platform(p: Parameters, data, doc: dict, month: Period, folder: Path, write_params, *, signal: str | None = None,
             accounts_n: int = 60) -> Planted:
    m = next(x for x in doc["measures"] if x["cuts"] and (signal is None or x["signal"] == signal))
    wrong = [dict(x) for x in doc["measures"]]
    w = next(x for x in wrong if x["signal"] == m["signal"] and x["component"] == m["component"])
    cuts = [w["cuts"][0] * 10 if w["cuts"][0] > 0 else w["cuts"][0] + 10 * (abs(w["cuts"][-1]) + 1)]
    for c in w["cuts"][1:]:  # as many cuts as before, still rising
        cuts.append(max(c, cuts[-1] + 1e-9))
    w["cuts"] = cuts
    (folder / "reports" / ADOPTED).mkdir(parents=True)
    write_json(folder / "reports" / ADOPTED / "scorecard.json", doc)
    right_card, wrong_card = scorecard.to_score(doc), scorecard.to_score({**doc, "measures": wrong})
    day = month.end - timedelta(days=1)
    acc = accounts.active_accounts(data, month.end).sort("account_id")
    sig = signals.build(data, acc.select("account_id", pl.lit(day).alias("as_of")), accounts.measures_of(right_card))
    right = health_score.resolved(sig, right_card)["score"]
    typed = health_score.resolved(sig, wrong_card)["score"]
    misconfigured = set(acc["account_id"].to_list()[::3][:accounts_n])
    export = pl.DataFrame({"Company ID": acc["account_id"], "Snapshot Date": [day] * acc.height,
                           "Overall Score": [t if a in misconfigured else r for a, r, t in zip(acc["account_id"], right, typed)]})
    export = export.filter(pl.col("Overall Score").is_not_null())
    export.write_csv(folder / "health.csv")
    pfile = write_params(folder / "p", Path(str(p.sources["accounts"].path)).parent.parent,
                         extra=f"\nmaintenance:\n  adopted_scorecard: '{ADOPTED}'\n")
    pfile.write_text(pfile.read_text().replace(str(Path(str(p.sources["health_scores"].path))), str(folder / "health.csv")))
    expected = {a for a, x, y in zip(acc["account_id"], right, typed) if a in misconfigured and x is not None and y is not None
                and abs(x - y) > 1}
    return Planted(params_mod.load(pfile), right_card, m["signal"], expected, export.height)
