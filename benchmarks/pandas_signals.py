"""The naive baseline for signal building: straightforward pandas, one groupby/merge per window.

For each distinct as-of date, filter each table to the window before it, aggregate per account
with groupby, and merge onto that date's points. Same definitions as kit.analyses.signals (records dated
strictly before as_of; windows [as_of - w, as_of)), so the two can be compared value by value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SIGNALS = [
    "active_users_per_seat", "logins_per_active_user", "active_users_change_30d",
    "feature_api_calls", "feature_reports_exported", "tickets_90d", "mean_csat_90d", "latest_nps",
]
USAGE_W, TICKET_W, NPS_MAX_AGE = 30, 90, 365


def inputs(data) -> dict[str, pd.DataFrame]:
    u = data.table("usage").select("account_id", "date", "active_users", "logins", "api_calls", "reports_exported")
    return {
        "usage": u.to_pandas(),
        "accounts": data.table("accounts").select("account_id", "seats").unique("account_id", keep="first").to_pandas(),
        "tickets": data.table("tickets").select("account_id", "created_at", "resolved_at", "csat").to_pandas(),
        "surveys": data.table("surveys").select("account_id", "responded_at", "nps").to_pandas(),
    }


def build(t: dict[str, pd.DataFrame], points: pd.DataFrame, csat_scale=(1, 5)) -> pd.DataFrame:
    usage = t["usage"].dropna(subset=["account_id", "date"]).copy()
    usage["date"] = pd.to_datetime(usage["date"])
    first = usage.groupby("account_id")["date"].min().rename("first")
    seats = t["accounts"].set_index("account_id")["seats"]
    tk = t["tickets"].dropna(subset=["account_id", "created_at"]).copy()
    tk["created"] = pd.to_datetime(tk["created_at"]).dt.normalize()
    solved = pd.to_datetime(tk["resolved_at"])
    tk["solved"] = solved.where(solved >= pd.to_datetime(tk["created_at"]), pd.to_datetime(tk["created_at"])).dt.normalize()
    lo, hi = csat_scale
    rated = tk[tk["resolved_at"].notna() & tk["csat"].between(lo, hi)]
    sv = t["surveys"].dropna(subset=["account_id", "responded_at"])
    sv = sv[sv["nps"].between(0, 10)].copy()
    sv["day"] = pd.to_datetime(sv["responded_at"])
    sv = sv.groupby(["account_id", "day"], as_index=False)["nps"].mean().sort_values("day")

    vals = ["active_users", "logins", "api_calls", "reports_exported"]
    out = []
    for as_of, pts in points.assign(as_of=pd.to_datetime(points["as_of"])).groupby("as_of", sort=False):
        p = pts[["account_id"]].copy()
        p["as_of"] = as_of
        w0, w1 = as_of - pd.Timedelta(days=USAGE_W), as_of - pd.Timedelta(days=2 * USAGE_W)
        last = usage[(usage["date"] >= w0) & (usage["date"] < as_of)].groupby("account_id")[vals].sum()
        prev = usage[(usage["date"] >= w1) & (usage["date"] < w0)].groupby("account_id")["active_users"].sum().rename("prev")
        p = p.merge(last, on="account_id", how="left").merge(prev, on="account_id", how="left")
        p = p.merge(first, on="account_id", how="left").merge(seats, on="account_id", how="left")
        p[vals + ["prev"]] = p[vals + ["prev"]].fillna(0.0)
        dl = ((as_of - p["first"].clip(lower=w0)).dt.days).clip(0, USAGE_W).where(p["first"] < as_of)
        dp = ((w0 - p["first"].clip(lower=w1)).dt.days).clip(0, USAGE_W).where(p["first"] < w0)
        mean_last = p["active_users"] / dl
        p["active_users_per_seat"] = (mean_last / p["seats"]).where((dl > 0) & (p["seats"] > 0))
        p["active_users_change_30d"] = (mean_last / (p["prev"] / dp) - 1).where((dl > 0) & (dp > 0) & (p["prev"] > 0))
        p["logins_per_active_user"] = (p["logins"] / p["active_users"]).where((dl > 0) & (p["active_users"] > 0))
        p["feature_api_calls"] = (p["api_calls"] / dl).where(dl > 0)
        p["feature_reports_exported"] = (p["reports_exported"] / dl).where(dl > 0)
        tw = as_of - pd.Timedelta(days=TICKET_W)
        n = tk[(tk["created"] >= tw) & (tk["created"] < as_of)].groupby("account_id").size().rename("tickets_90d")
        cs = rated[(rated["solved"] >= tw) & (rated["solved"] < as_of)].groupby("account_id")["csat"].mean().rename("mean_csat_90d")
        p = p.merge(n, on="account_id", how="left").merge(cs, on="account_id", how="left")
        p["tickets_90d"] = p["tickets_90d"].fillna(0.0)
        recent = sv[(sv["day"] < as_of) & (sv["day"] >= as_of - pd.Timedelta(days=NPS_MAX_AGE))]
        nps = recent.groupby("account_id")["nps"].last().rename("latest_nps")
        p = p.merge(nps, on="account_id", how="left")
        out.append(p[["account_id", "as_of", *SIGNALS]])
    res = pd.concat(out, ignore_index=True)
    res[SIGNALS] = res[SIGNALS].astype(np.float64)
    return res
