"""Every account this month: its score by the card in force, what each measure adds, what moved it, and what is
at stake across the portfolio.

Definitions (shown in the report):

* **Active account**: created on or before the period's last day, and not churned at its latest renewal on or
  before that day (per the renewals table, when there is one).
* **Renewal date**: the account's next renewal after the period's last day: the first one the renewals table
  records after that day, else the accounts table's renewal date (an export holds today's next renewal, which for
  an earlier month would skip the renewals that month still had ahead, and would keep a churned account's last one).
* **The card**: the scorecard the latest back-test of an earlier period recommended (a segment's own card where
  one was adopted); where no back-test recommended one, the score in the parameters (`score`). The report names
  which.
* **Score**: as at the period's last day, from the records dated before it, as the back-test scores. **Points**:
  what each measure adds to the score; a score is a weighted mean of its measures' range points, so a measure adds
  its share of the weight of the measures that have a value times its range's points, and the points add up to
  the score exactly.
* **Change**: the score now minus the score 30 days earlier; also the score 90 days earlier. **What moved it**:
  the two measures whose points changed most over those 30 days (the change is exactly the sum of every measure's
  change in points), with their values then and now.
* **At risk**: below red in each of the last `score.at_risk_weeks` weekly scores (the seeds' rule: red for two
  weeks or more).
* **Platform**: the client platform's latest score on or before the period's last day, banded by
  `backtest.platform_bands` (default `score.bands`); *disagrees* when its band is not the card's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from kit import registry, status
from kit.analyses import health_score, signals
from kit.artefacts import Document
from kit.errors import KitError
from kit.io.load import ClientData
from kit.params import Parameters, Score
from kit.periods import Period

EARLIER = (30, 90)  # days before the period's last day the score is also shown for
REASONS = 2  # measures named as what moved each score
RENEWAL_WINDOWS = (30, 90, 120)  # days ahead: the renewal playbook starts 90 to 120 days before the contract ends
NO_SEGMENT = "(no segment)"
TOP = 25  # at-risk accounts and drops listed in portfolio.json (accounts.csv holds every account)


@dataclass
class Card:
    score: Score
    source: str  # "the scorecard of 2026-09" or "the parameters' score"
    cut: date | None = None  # the back-test's cut the card was fitted before: the population its stability is judged against
    rates: dict | None = None  # per band, the renewals after the cut and how many churned (the back-test's, out of time)
    rates_from: str = ""  # the period of that back-test
    auc: float | None = None  # the card's AUC after that back-test's cut: what its discrimination is judged against


def card_in_force(params: Parameters, client_root: Path, period: Period) -> Card:
    """The latest scorecard a back-test of an earlier committed period recommended; else the parameters' score."""
    from kit.analyses import scorecard
    from kit.analyses.backtest import CURRENT, SCORECARD, BacktestDocument

    earlier = sorted((p for p in client_root.glob("20[0-9][0-9]-[0-1][0-9]") if p.name < period.label), reverse=True)
    current_rates = None
    for folder in earlier:
        try:
            bt = BacktestDocument.read(folder)
            if bt is None or not bt.available:
                continue
            if current_rates is None:
                current_rates = (_rates(bt.configs.get(CURRENT)), folder.name, (bt.configs.get(CURRENT) or {}).get("auc_out_of_time"))
            if bt.get("best") != SCORECARD or not (folder / registry.SCORECARD_JSON).exists():
                continue
            doc = scorecard.read(folder)
            return Card(scorecard.to_score(doc, params.score.at_risk_weeks), f"the scorecard of {folder.name}",
                        date.fromisoformat(doc["cut"]) if doc.get("cut") else None, _rates(bt.configs[SCORECARD]), folder.name,
                        bt.configs[SCORECARD].get("auc_out_of_time"))
        except (KitError, ValueError, OSError, KeyError):
            continue
    rates, when, auc = current_rates or (None, "", None)
    return Card(params.score, "the parameters' score", rates=rates, rates_from=when, auc=auc)


def _rates(config: dict | None) -> dict | None:
    """Per band, renewals and churned after the back-test's cut (its out-of-time figures)."""
    bands = ((config or {}).get("out_of_time") or {}).get("bands") or {}
    return {b: {"renewals": int(v["accounts"]), "churned": int(v["churned"])} for b, v in bands.items() if v.get("accounts")} or None


def active_accounts(data: ClientData, as_of: date) -> pl.DataFrame:
    acc = data.table("accounts").unique("account_id", keep="first").filter(pl.col("account_id").is_not_null())
    if "created_at" in acc.columns:
        acc = acc.filter(pl.col("created_at").is_null() | (pl.col("created_at") <= as_of))
    if data.has("renewals"):
        last = (data.table("renewals").filter(pl.col("renewal_date") <= as_of).sort("renewal_date")
                .group_by("account_id").agg(pl.col("outcome").last()))
        gone = last.filter(pl.col("outcome") == "churned")["account_id"].implode()
        acc = acc.filter(~pl.col("account_id").is_in(gone))
    return acc


def next_renewal(data: ClientData, acc: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """`acc` with `renewal_date` the next renewal after `as_of` (see the module's definitions)."""
    if not data.has("renewals"):
        return acc
    after = (data.table("renewals").filter(pl.col("renewal_date") > as_of).group_by("account_id")
             .agg(pl.col("renewal_date").min().alias("_next")))
    known = pl.col("renewal_date") if "renewal_date" in acc.columns else pl.lit(None, pl.Date)
    return acc.join(after, on="account_id", how="left").with_columns(pl.coalesce("_next", known).alias("renewal_date")).drop("_next")


def measures_of(score: Score) -> list[str]:
    """Every measure (signal) of a score's cards, in card order, each once."""
    out: list[str] = []
    for cfg in (score, *score.segments.values()):
        for comp in cfg.components.values():
            out += [s for s in comp.signals if s not in out]
    return out


class Measured:
    """A card's measures at many points, built in one pass over the event tables: signals.build costs mostly the
    tables' sorting, the same for ten points as for a hundred thousand, so the month's scores, the reference
    population's and the recent renewals' are built together (`run_for`). `at` returns the rows of the points
    asked for, building any that were not built up front."""

    def __init__(self, data: ClientData, score: Score, *points: pl.DataFrame):
        self.data = data
        reasons = signals.requirements(data, measures_of(score))
        self.measures = [m for m in measures_of(score) if reasons[m] is None]  # a measure without its data: no value
        union = pl.concat([_keys(p) for p in points]).unique(maintain_order=True) if points else None
        self.built = self._build(union).with_columns(pl.lit(True).alias(_BUILT)) if union is not None and union.height else None

    def _build(self, points: pl.DataFrame) -> pl.DataFrame:
        return signals.build(self.data, points, self.measures)

    def at(self, points: pl.DataFrame) -> pl.DataFrame:
        """signals.build's frame for `points` (account_id, as_of), in their order."""
        keys = _keys(points)
        if self.built is not None:
            found = keys.join(self.built, on=["account_id", "as_of"], how="left", maintain_order="left")
            if found[_BUILT].null_count() == 0:
                return found.drop(_BUILT)
        return self._build(keys)


_BUILT = "_built"  # marks Measured's rows: a point the left join found


def _keys(points: pl.DataFrame) -> pl.DataFrame:
    return points.select(pl.col("account_id").cast(pl.String), pl.col("as_of").cast(pl.Date))


def _scored(data: ClientData, acc: pl.DataFrame, score: Score, dates: list[date], *, weighted: bool = True,
            measured: Measured | None = None) -> pl.DataFrame:
    """Score, band and each measure's points (`weighted=False`: its own 0-100 points) of every account at each date."""
    pts = pl.DataFrame({"account_id": acc["account_id"]}).join(pl.DataFrame({"as_of": dates}), how="cross")
    sig = (measured or Measured(data, score)).at(pts)
    scored = health_score.resolved(sig, score)
    points = health_score.points(sig, score, weighted=weighted)
    return scored.select("account_id", "as_of", "score", "band", *(["red"] if "red" in scored.columns else [])).hstack(
        points.drop("account_id", "as_of").rename(lambda c: f"points_{c}")).hstack(sig.select(c for c in measures_of(score) if c in sig.columns).rename(lambda c: f"value_{c}"))


def _weeks(end: date, score: Score) -> list[date]:
    """The weekly scores before the period's last day that the at-risk rule also reads."""
    return [end - timedelta(days=7 * k) for k in range(1, max(1, score.at_risk_weeks))]


def month_dates(period: Period, score: Score) -> list[date]:
    """The days every account is scored on for its month: the last day, 30 and 90 days before, the at-risk weeks."""
    end = period.end
    return sorted({end, *_weeks(end, score), *(end - timedelta(days=d) for d in EARLIER)})


def of_month(data: ClientData, params: Parameters, period: Period, card: Card, measured: Measured | None = None) -> pl.DataFrame:
    """One row per active account at the period's last day (see the module's definitions)."""
    end = period.end
    acc = next_renewal(data, active_accounts(data, end), end)
    score = card.score
    weeks = _weeks(end, score)
    month_before = end - timedelta(days=EARLIER[0])  # the change and what moved it are measured over the same 30 days
    s = _scored(data, acc, score, month_dates(period, score), measured=measured)
    measures = [c.removeprefix("points_") for c in s.columns if c.startswith("points_")]  # signals; a percentile component whole
    now, then = s.filter(pl.col("as_of") == end), s.filter(pl.col("as_of") == month_before)
    red = pl.col("red") if "red" in s.columns else pl.lit(float(score.bands.red))
    flags = (s.filter(pl.col("as_of").is_in([end, *weeks])).group_by("account_id")
             .agg(((pl.col("score") < red).fill_null(False)).all().alias("at_risk")))
    earlier = [s.filter(pl.col("as_of") == end - timedelta(days=d)).select("account_id", pl.col("score").alias(f"score_{d}d_ago"))
               for d in EARLIER]
    cols = [c for c in ("account_id", "account_name", "segment", "csm_owner", "arr", "renewal_date") if c in acc.columns]
    out = acc.select(cols).join(now.drop("as_of"), on="account_id", how="left")
    for e in earlier:
        out = out.join(e, on="account_id", how="left")
    out = out.join(flags, on="account_id", how="left").with_columns(
        (pl.col("score") - pl.col(f"score_{EARLIER[0]}d_ago")).alias(f"change_{EARLIER[0]}d"))
    out = out.join(_reasons(now, then, measures), on="account_id", how="left")
    out = out.join(_platform(data, params, end), on="account_id", how="left").with_columns(
        (pl.col("platform_band").is_not_null() & pl.col("band").is_not_null() & (pl.col("platform_band") != pl.col("band")))
        .alias("disagrees"))
    keep = [*cols, "score", "band", *(f"points_{m}" for m in measures), *(f"score_{d}d_ago" for d in EARLIER),
            f"change_{EARLIER[0]}d", "at_risk",
            *(f"reason_{i}{x}" for i in range(1, REASONS + 1) for x in ("", "_points", "_then", "_now")),
            "platform_score", "platform_band", "disagrees"]
    return out.with_columns(pl.col("at_risk").fill_null(False)).select([c for c in keep if c in out.columns]).sort("account_id")


def _reasons(now: pl.DataFrame, then: pl.DataFrame, measures: list[str]) -> pl.DataFrame:
    """Per account, the REASONS measures whose points changed most since the month before (largest change first)."""
    j = now.join(then, on="account_id", how="left", suffix="_then")
    long = pl.concat([
        j.select("account_id", pl.lit(m).alias("measure"),
                 (pl.col(f"points_{m}").fill_null(0.0) - pl.col(f"points_{m}_then").fill_null(0.0)).alias("points"),
                 *((pl.col(f"value_{m}_then").alias("then"), pl.col(f"value_{m}").alias("now")) if f"value_{m}" in j.columns
                   else (pl.lit(None, pl.Float64).alias("then"), pl.lit(None, pl.Float64).alias("now"))))
        for m in measures
    ])
    top = (long.filter(pl.col("points").abs() > 1e-9).sort(["account_id", pl.col("points").abs(), "measure"], descending=[False, True, False])
           .group_by("account_id", maintain_order=True).head(REASONS).with_columns(pl.int_range(1, pl.len() + 1).over("account_id").alias("rank")))
    out = pl.DataFrame({"account_id": now["account_id"]})
    for i in range(1, REASONS + 1):
        r = top.filter(pl.col("rank") == i).select("account_id", pl.col("measure").alias(f"reason_{i}"),
                                                    pl.col("points").alias(f"reason_{i}_points"),
                                                    pl.col("then").alias(f"reason_{i}_then"), pl.col("now").alias(f"reason_{i}_now"))
        out = out.join(r, on="account_id", how="left")
    return out


def _platform(data: ClientData, params: Parameters, end: date) -> pl.DataFrame:
    schema = {"account_id": pl.String, "platform_score": pl.Float64, "platform_band": pl.String}
    if not data.has("health_scores"):
        return pl.DataFrame(schema=schema)
    b = params.platform_bands
    latest = (data.table("health_scores").filter(pl.col("date") <= end, pl.col("score").is_not_null()).sort("date")
              .group_by("account_id").agg(pl.col("score").last().alias("platform_score")))
    return latest.with_columns(status.band(pl.col("platform_score"), b.red, b.green).alias("platform_band")).cast(schema)


# ---------------------------------------------------------------------------- is the score still the score?

STABLE, SHIFTED = 0.10, 0.25  # PSI: below 0.10 stable, 0.10 to 0.25 investigate, above 0.25 shifted (credit scoring's rule)
REFERENCE_DAYS = 365  # without a back-test's cut, the population a year earlier is the reference


def reference_date(card: Card, period: Period) -> date:
    """The day of the population this month's scores are judged against: the card's cut, else a year earlier."""
    return card.cut or period.end - timedelta(days=REFERENCE_DAYS)


def stability(data: ClientData, card: Card, period: Period, accounts: pl.DataFrame, measured: Measured | None = None) -> dict[str, Any]:
    """The PSI of this month's scores against the scores of the accounts active at the card's cut (a year earlier
    without one), with each bin's counts and shares; and each measure's PSI on its points, the one that moved most
    named. Too few accounts to judge: said, with no colour."""
    from kit.analyses import stats

    reference = reference_date(card, period)
    ref = _scored(data, active_accounts(data, reference), card.score, [reference], weighted=False, measured=measured)
    now = _scored(data, accounts.select("account_id"), card.score, [period.end], weighted=False, measured=measured)
    score = stats.psi(ref["score"].to_numpy(), accounts["score"].to_numpy())
    measures = {}
    for m in measures_of(card.score):
        # a measure in ranges: its range points; a signal ranked as a percentile: its values (percentiles are
        # uniform by construction, and a tie's percentile moves when its size does)
        col = f"points_{m}" if f"points_{m}" in ref.columns else f"value_{m}"
        if col not in ref.columns:
            continue
        r = ref[col].drop_nulls().to_numpy()
        measures[m] = stats.psi(r, now[col].drop_nulls().to_numpy(), stats.psi_cuts(r)) if len(r) else None
    judged = {m: v for m, v in measures.items() if v and v["judged"] and v["psi"] is not None}
    moved = max(judged, key=lambda m: judged[m]["psi"]) if judged else None
    return {"reference_date": reference.isoformat(), "reference": "the back-test's cut" if card.cut else "a year earlier",
            "score": {**score, "status": _psi_status(score)},
            "measures": {m: {"psi": v["psi"], "judged": v["judged"], "status": _psi_status(v)} for m, v in measures.items() if v},
            "moved_most": moved}


DISCRIMINATION_MONTHS = 6  # the renewals of the last six months judge the card's ranking


def _recent_since(period: Period) -> date:
    return period.previous(DISCRIMINATION_MONTHS - 1).start


def recent_renewals(data: ClientData, params: Parameters, period: Period) -> pl.DataFrame | None:
    """The renewals of the last DISCRIMINATION_MONTHS months, each with the point lead_time_days before it (None
    without a renewals table)."""
    if not data.has("renewals"):
        return None
    since = _recent_since(period)
    pts = signals.renewal_points(data, params.lead_time_days, params.weighting.contraction_as_churn, until=period.end)
    return pts.filter(pl.col("renewal_date") >= since)


def discrimination(data: ClientData, params: Parameters, card: Card, period: Period, measured: Measured | None = None) -> dict[str, Any]:
    """The card's AUC on the renewals of the last DISCRIMINATION_MONTHS months (each scored lead_time_days before it,
    as the back-test scores) against its AUC after the back-test's cut, with a 95% DeLong interval."""
    from kit.analyses import stats

    since = _recent_since(period)
    out: dict[str, Any] = {"from": since.isoformat(), "to": period.end.isoformat(), "backtest_auc": card.auc, "backtest": card.rates_from}
    pts = recent_renewals(data, params, period)
    if pts is None:
        return {**out, "auc": None, "reason": "no renewals table"}
    if pts.height:
        sig = (measured or Measured(data, card.score)).at(pts)
        pts = pts.with_columns(health_score.resolved(sig, card.score)["score"].alias("score")).drop_nulls("score")
    event = (pts["churned"] >= stats.EVENT_CUT).to_numpy() if pts.height else np.array([], bool)
    out.update(renewals=int(len(event)), churned=int(event.sum()))
    if event.sum() < 2 or (~event).sum() < 2:
        return {**out, "auc": None, "reason": f"{int(event.sum())} churned of {len(event)} scored renewals: too few to judge"}
    auc, se = stats.auc_se(-pts["score"].to_numpy(), event)
    return {**out, "auc": auc, "se": se, "interval": [auc - Z * se, auc + Z * se], "reason": ""}


def _psi_status(r: dict | None) -> str:
    if not r or r["psi"] is None or not r["judged"]:
        return status.NOT_CHECKED
    return status.GREEN if r["psi"] < STABLE else status.AMBER if r["psi"] <= SHIFTED else status.RED


# ---------------------------------------------------------------------------- a forecast that is checked

HORIZON = 90  # days: the forecast is of the renewals in the next quarter
Z = 1.959964  # 95% interval


def forecast(accounts: pl.DataFrame, card: Card, period: Period) -> dict[str, Any]:
    """Expected churned accounts and ARR among the renewals of the next HORIZON days: each renewal churns at its
    band's churn rate after the back-test's cut. The 95% interval adds the rates' own uncertainty (binomial, from the
    back-test's renewals in the band) to the renewals' (each a Bernoulli draw). Keeps the renewals it counted, so a
    later month can set it against what happened."""
    start, end = period.end + timedelta(days=1), period.end + timedelta(days=HORIZON)
    base = {"from": start.isoformat(), "to": end.isoformat()}
    if not card.rates:
        return {**base, "available": False, "reason": "no back-test of an earlier period has band churn rates after its cut yet"}
    if "renewal_date" not in accounts.columns:
        return {**base, "available": False, "reason": "the accounts table has no renewal date"}
    rate = {b: v["churned"] / v["renewals"] for b, v in card.rates.items()}
    due = (accounts.filter(pl.col("renewal_date").is_between(start, end), pl.col("band").is_in(list(rate)))
           .select("account_id", "renewal_date", "band", pl.col("arr").fill_null(0.0) if "arr" in accounts.columns else pl.lit(0.0).alias("arr"))
           .with_columns(pl.col("band").replace_strict(rate, return_dtype=pl.Float64).alias("p")).sort("renewal_date", "account_id"))
    p, arr = due["p"].to_numpy(), due["arr"].to_numpy()
    var_n, var_arr = float((p * (1 - p)).sum()), float((arr ** 2 * p * (1 - p)).sum())
    for b, v in card.rates.items():  # the rates are estimates too
        part = due.filter(pl.col("band") == b)
        q = rate[b] * (1 - rate[b]) / v["renewals"]
        var_n += part.height ** 2 * q
        var_arr += float(part["arr"].sum()) ** 2 * q
    n, a = float(p.sum()), float((p * arr).sum())
    return {**base, "available": True, "rates_from": card.rates_from, "rates": {b: {**v, "churn_rate": rate[b]} for b, v in card.rates.items()},
            "renewals": due.height, "arr": float(arr.sum()),
            "expected_accounts": n, "accounts_interval": [max(0.0, n - Z * var_n ** 0.5), n + Z * var_n ** 0.5],
            "expected_arr": a, "arr_interval": [max(0.0, a - Z * var_arr ** 0.5), a + Z * var_arr ** 0.5],
            "due": due.with_columns(pl.col("renewal_date").cast(pl.String)).to_dicts()}


def checked_forecasts(data: ClientData, client_root: Path, period: Period) -> list[dict[str, Any]]:
    """Every earlier month's forecast whose renewals have all happened by this period's end, set against what
    happened: churned accounts and ARR among the very renewals it counted (per the renewals table)."""
    if not data.has("renewals"):
        return []
    outcomes = data.table("renewals").select("account_id", "renewal_date", "outcome")
    out = []
    for folder in sorted(p for p in client_root.glob("20[0-9][0-9]-[0-1][0-9]") if p.name < period.label):
        try:
            doc = PortfolioDocument.read(folder)
        except (KitError, OSError):
            continue
        f = (doc.get("forecast") or {}) if doc else {}
        if not f.get("available") or date.fromisoformat(f["to"]) > period.end:
            continue
        due = pl.DataFrame(f["due"], schema={"account_id": pl.String, "renewal_date": pl.String, "band": pl.String,
                                             "arr": pl.Float64, "p": pl.Float64}).with_columns(pl.col("renewal_date").str.to_date())
        happened = due.join(outcomes, on=["account_id", "renewal_date"], how="left")
        churned = happened.filter(pl.col("outcome") == "churned")
        out.append({"period": folder.name, "from": f["from"], "to": f["to"], "renewals": due.height,
                    "expected_accounts": f["expected_accounts"], "accounts_interval": f["accounts_interval"],
                    "actual_accounts": churned.height, "expected_arr": f["expected_arr"], "arr_interval": f["arr_interval"],
                    "actual_arr": float(churned["arr"].sum()), "unknown": int(happened["outcome"].null_count())})
    return out


# ---------------------------------------------------------------------------- the portfolio


def _sums(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    return frame.group_by(by).agg(pl.len().alias("accounts"), pl.col("arr").fill_null(0.0).sum().alias("arr")).sort(by)


def portfolio(accounts: pl.DataFrame, period: Period, card: Card) -> dict[str, Any]:
    """portfolio.json: accounts and ARR by band and segment, renewals ahead by band, the at-risk accounts by ARR,
    the month's biggest drops."""
    end = period.end
    a = accounts.with_columns(pl.col("band").fill_null("no score"), *([] if "arr" in accounts.columns else [pl.lit(0.0).alias("arr")]),
                              *([] if "segment" in accounts.columns else [pl.lit(None, pl.String).alias("segment")]))

    def by_band(f: pl.DataFrame) -> dict:
        return {r["band"]: {"accounts": r["accounts"], "arr": r["arr"]} for r in _sums(f, ["band"]).to_dicts()}

    renewals = {}
    if "renewal_date" in a.columns:
        for d in RENEWAL_WINDOWS:
            renewals[str(d)] = by_band(a.filter(pl.col("renewal_date").is_between(end + timedelta(days=1), end + timedelta(days=d))))
    listed = [c for c in ("account_id", "account_name", "segment", "csm_owner", "arr", "renewal_date", "score", "band",
                          f"change_{EARLIER[0]}d", *(f"reason_{i}{x}" for i in range(1, REASONS + 1) for x in ("", "_points", "_then", "_now")))
              if c in a.columns]
    change = f"change_{EARLIER[0]}d"
    return {
        "period": period.label, "as_of": end.isoformat(), "card": card.source, "at_risk_weeks": card.score.at_risk_weeks,
        "accounts": a.height, "arr": float(a["arr"].fill_null(0.0).sum()),
        "by_band": by_band(a),
        "by_segment": {seg: by_band(part) for (seg,), part in
                       sorted(a.with_columns(pl.col("segment").fill_null(NO_SEGMENT)).group_by("segment"), key=lambda g: g[0])},
        "renewals": renewals,
        "at_risk": a.filter(pl.col("at_risk")).sort(["arr", "account_id"], descending=[True, False]).head(TOP).select(listed).to_dicts(),
        "at_risk_accounts": int(a["at_risk"].sum()),
        "at_risk_arr": float(a.filter(pl.col("at_risk"))["arr"].fill_null(0.0).sum()),
        "biggest_drops": a.filter(pl.col(change) < 0).sort([change, "account_id"]).head(TOP).select(listed).to_dicts(),
        "dropped_accounts": int((a[change] < 0).sum()),
    }


class PortfolioDocument(Document):
    """portfolio.json (`portfolio`): read by the site and the documents."""

    FILE = registry.PORTFOLIO_JSON
    REQUIRED = ("period", "card", "at_risk_weeks", "accounts", "arr", "by_band", "by_segment", "renewals", "at_risk", "biggest_drops",
                "dropped_accounts")


def _measured(data: ClientData, params: Parameters, period: Period, card: Card) -> Measured:
    """Every point the month's figures score, built at once: the active accounts on the month's days, the accounts
    active at the reference day, the recent renewals."""
    def cross(ids: pl.DataFrame, dates: list[date]) -> pl.DataFrame:
        return ids.select("account_id").join(pl.DataFrame({"as_of": dates}), how="cross")

    reference = reference_date(card, period)
    renewals = recent_renewals(data, params, period)
    return Measured(data, card.score, cross(active_accounts(data, period.end), month_dates(period, card.score)),
                    cross(active_accounts(data, reference), [reference]), *([] if renewals is None else [renewals]))


@dataclass
class Result:
    card: Card
    accounts: pl.DataFrame
    portfolio: dict[str, Any]


def run_for(ctx) -> Result:
    """The maintenance notebook's accounts section: every active account scored by the card in force, the portfolio,
    the score's stability, the next quarter's forecast and the earlier forecasts set against what happened; writes
    accounts.parquet, accounts.csv (for a CSM's spreadsheet or a CTA import) and portfolio.json."""
    from kit.io import history

    root = history.client_root(ctx.run_dir)
    card = card_in_force(ctx.params, root, ctx.period)
    measured = _measured(ctx.data, ctx.params, ctx.period, card)
    accounts = of_month(ctx.data, ctx.params, ctx.period, card, measured)
    accounts.write_parquet(ctx.path(registry.ACCOUNTS_PARQUET))
    accounts.write_csv(ctx.path(registry.ACCOUNTS_CSV))
    from kit.analyses import parity

    adopted = parity.adopted(ctx.params, root)
    doc = {**portfolio(accounts, ctx.period, card), "stability": stability(ctx.data, card, ctx.period, accounts, measured),
           "discrimination": discrimination(ctx.data, ctx.params, card, ctx.period, measured),
           "forecast": forecast(accounts, card, ctx.period), "forecasts_checked": checked_forecasts(ctx.data, root, ctx.period),
           "parity": ({"adopted": adopted[1], **parity.check(ctx.data, adopted[0], ctx.period, ctx.params.maintenance.score_tolerance)}
                      if adopted else None)}
    PortfolioDocument(doc).write(ctx.run_dir)
    return Result(card, accounts, doc)
