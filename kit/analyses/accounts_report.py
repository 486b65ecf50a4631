"""The accounts section of the monthly report, and the site's Accounts page and the monthly document: the portfolio
by band, renewals ahead, the at-risk accounts and the month's biggest drops, in words and tables. Each reads the
period's portfolio (`portfolio.json`, which kit.analyses.accounts computes), so the notebook, the site and the
documents say the same."""

from __future__ import annotations

import polars as pl

from kit import present, registry, status
from kit.analyses import accounts
from kit.analyses.accounts import EARLIER, NO_SEGMENT, RENEWAL_WINDOWS, TOP

CHANGE = f"change_{EARLIER[0]}d"
LISTED = ("account_name", "csm_owner", "arr", "renewal_date", "score", "band", CHANGE, "moved")
KINDS = {"arr": "money", "score": "score", "band": "status", CHANGE: "score", "renewal_date": "date", "accounts": "count",
         "moved": "html"}
LABELS = {"account_name": "Account", "csm_owner": "Owner", "arr": "ARR", "renewal_date": "Renewal", CHANGE: "Change in 30 days",
          "moved": "What moved it (points; value then → now)", "accounts": "Accounts"}


def summary_text(p: dict, csv: str = registry.ACCOUNTS_CSV) -> str:
    red = p["by_band"].get(status.RED, {"accounts": 0, "arr": 0.0})
    return (f"{present.fmt(p['accounts'], 'count')} active accounts ({present.fmt(p['arr'], 'money')} ARR), scored by "
            f"{p['card']}. {present.fmt(red['accounts'], 'count')} are red ({present.fmt(red['arr'], 'money')} ARR); "
            f"{present.fmt(p['at_risk_accounts'], 'count')} are at risk, red for {p['at_risk_weeks']} weeks or more "
            f"({present.fmt(p['at_risk_arr'], 'money')} ARR). Every account, with each measure's points and what moved "
            f"its score, is in {csv}.")


def band_table(p: dict) -> present.Table:
    """Accounts and ARR by band, overall and per segment."""
    rows = []
    for seg, bands in [("All accounts", p["by_band"]), *p["by_segment"].items()]:
        for band in (*status.BANDS, "no score"):
            if band in bands:
                rows.append({"segment": seg if seg != NO_SEGMENT else "No segment", "band": band, **bands[band]})
    return present.table(pl.DataFrame(rows), kinds=KINDS, labels=LABELS)


def renewals_table(p: dict) -> present.Table:
    rows = [{"within": f"{d} days", "band": band, **v} for d in RENEWAL_WINDOWS
            for band, v in p["renewals"].get(str(d), {}).items()]
    return present.table(pl.DataFrame(rows) if rows else pl.DataFrame(schema={"within": pl.String}), kinds=KINDS,
                         labels={**LABELS, "within": "Renewing within"})


def moved_text(row: dict) -> str:
    """What moved an account's score over the last 30 days, in words: each of its (at most REASONS) measures with its
    change in points, and its value then and now where the measure has one ("Active users per seat −7.3 (0.42 → 0.21)")."""
    parts = []
    for i in range(1, accounts.REASONS + 1):
        measure, points = row.get(f"reason_{i}"), row.get(f"reason_{i}_points")
        if not measure or points is None:
            continue
        then, now = row.get(f"reason_{i}_then"), row.get(f"reason_{i}_now")
        values = "" if then is None and now is None else f" ({present.fmt(then, 'number')} → {present.fmt(now, 'number')})"
        parts.append(f"{present.text(present.label(measure))} {'+' if points > 0 else ''}{present.fmt(points, 'score')}{values}")
    return "; ".join(parts)


def accounts_table(rows: list[dict], rows_shown: int = TOP, of: int | None = None, csv: str = registry.ACCOUNTS_CSV) -> present.Table:
    """Listed accounts (the at-risk ones, the biggest drops), with what moved each score; `of`: how many there are
    in all, when the list holds the first TOP only (the rest are in the CSV)."""
    rows = [{**r, "moved": moved_text(r)} for r in rows[:rows_shown]]
    frame = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame(schema={"account_name": pl.String})
    note = (f"The first {present.fmt(len(rows), 'count')} of {present.fmt(of, 'count')}; every account is in {csv}."
            if of is not None and of > len(rows) else None)
    return present.table(frame, kinds=KINDS, labels=LABELS, columns=[c for c in LISTED if c in frame.columns], note=note,
                         wide=["moved"])


def stability_text(p: dict) -> str:
    s = p["stability"]
    sc = s["score"]
    where = f"the accounts' scores at {s['reference']} ({s['reference_date']}, {present.fmt(sc['reference'], 'count')} accounts)"
    if sc["status"] == status.NOT_CHECKED:
        return (f"Score stability is **not judged**: {present.fmt(sc['current'], 'count')} accounts this month against {where} "
                "are too few for a population stability index to mean anything.")
    moved = s["moved_most"]
    measure = (f" The measure whose population moved most is {present.label(moved).lower()} "
               f"(PSI {present.fmt(s['measures'][moved]['psi'], 'ratio')}).") if moved else ""
    return (f"{present.badge(sc['status'])} Population stability index of this month's scores against {where}: "
            f"**{present.fmt(sc['psi'], 'ratio')}** (below {accounts.STABLE:g} stable, {accounts.STABLE:g} to {accounts.SHIFTED:g} "
            f"investigate, above {accounts.SHIFTED:g} shifted).{measure}")


def stability_table(p: dict) -> present.Table:
    bins = p["stability"]["score"]["bins"]
    rows = [{"scores": (f"below {b['below']:g}" if b["from"] is None else f"{b['from']:g} or more" if b["below"] is None
                        else f"{b['from']:g} to below {b['below']:g}"),
             "reference_share": b["reference_share"], "current_share": b["current_share"], "part": b["part"]} for b in bins]
    return present.table(pl.DataFrame(rows), kinds={"reference_share": "percent", "current_share": "percent", "part": "ratio"},
                         labels={"scores": "Score", "reference_share": "Then", "current_share": "This month", "part": "Adds to the PSI"})


def forecast_text(p: dict) -> str:
    f = p["forecast"]
    if not f["available"]:
        return f"No forecast of the next quarter's churn: {f['reason']}."
    lo, hi = f["accounts_interval"]
    alo, ahi = f["arr_interval"]
    return (f"Of the {present.fmt(f['renewals'], 'count')} renewals due from {f['from']} to {f['to']} "
            f"({present.fmt(f['arr'], 'money')} ARR), **{present.fmt(f['expected_accounts'], 'score')} accounts** are expected "
            f"to churn (95% interval {present.fmt(lo, 'score')} to {present.fmt(hi, 'score')}), "
            f"**{present.fmt(f['expected_arr'], 'money')} ARR** ({present.fmt(alo, 'money')} to {present.fmt(ahi, 'money')}): "
            f"each renewal at its band's churn rate after the cut in the back-test of {f['rates_from']}.")


def checked_table(p: dict) -> present.Table | str:
    rows = p["forecasts_checked"]
    if not rows:
        return "No earlier forecast has all its renewals behind it yet: the comparison appears once one has."
    frame = pl.DataFrame([{"forecast_of": c["period"], "renewals": c["renewals"], "expected_accounts": c["expected_accounts"],
                           "actual_accounts": c["actual_accounts"], "expected_arr": c["expected_arr"], "actual_arr": c["actual_arr"]}
                          for c in rows])
    return present.table(frame, kinds={"renewals": "count", "expected_accounts": "score", "actual_accounts": "count",
                                       "expected_arr": "money", "actual_arr": "money"},
                         labels={"forecast_of": "Forecast made in", "renewals": "Renewals", "expected_accounts": "Churn expected",
                                 "actual_accounts": "Churned", "expected_arr": "ARR expected to churn", "actual_arr": "ARR churned"})


def parity_text(portfolio: dict) -> str:
    p = portfolio.get("parity")
    if not p:
        return ("No adopted scorecard is named (`maintenance.adopted_scorecard`): once the client's platform runs one, "
                "this section checks every month that its scores are the card's.")
    if not p["available"]:
        return f"The platform's scores could not be checked against the scorecard of {p['adopted']}: {p['reason']}."
    head = (f"{present.fmt(p['compared'], 'count')} accounts' latest platform scores of the month recomputed by the scorecard of "
            f"{p['adopted']}: ")
    if not p["off"]:
        return head + f"{present.badge(status.GREEN)} every one within {_points(p['tolerance'])}."
    return head + (f"{present.badge(status.RED)} **{present.fmt(p['off'], 'count')}** differ by more than {_points(p['tolerance'])}. "
                   "Where one measure explains the gap (another of its ranges gives the platform's score), it is named: "
                   "check that measure's ranges in the platform, and that its data still syncs.")


def parity_table(portfolio: dict) -> present.Table | str:
    p = portfolio.get("parity") or {}
    if not p.get("accounts"):
        return ""
    from kit.analyses import parity

    return present.table(parity.frame(p["accounts"]), kinds={"platform_score": "score", "card_score": "score", "gap": "score",
                                                             "measure": "label", "value": "number", "as_of": "date"},
                         labels={"account_id": "Account", "as_of": "Scored on", "platform_score": "Platform", "card_score": "Card",
                                 "gap": "Gap", "measure": "Explained by", "value": "Its value"}, max_rows=25)


def _points(x: float) -> str:
    return f"{x:g} point" + ("" if x == 1 else "s")
