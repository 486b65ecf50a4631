"""Three small planted clients for the scorecard: where one driver dominates, where segments churn for different
reasons, and where they churn for the same ones.

`build(folder, world, end)` writes a client's exports into `folder/exports/` (a CRM's accounts and renewal
opportunities, daily product usage on days with activity, support tickets, monthly invoices, NPS responses),
`folder/exports/truth.json` and `folder/<client>.yml`. Generated from scratch (not from `kit.demo` or the
Lakeside client), vectorised over accounts and days: same world, seed and end date, same bytes.

Each world: three years of history up to `end`; accounts in segments, annual contracts renewed every 365 days
from their start; an account that churns at a renewal stops everything the day before it. Four drivers per
account and contract year, independent standard normals persistent from year to year (AR(1), `PERSISTENCE`):

* **adoption**: weekday active users per seat are sigmoid(-1.0 + 0.9 x adoption + the account's style);
* **support**: tickets opened at a rate rising with exp(0.9 x support), CSAT falling with it;
* **billing**: monthly invoices paid late with probability sigmoid(-0.9 + 1.4 x billing), and later;
* **sentiment**: NPS twice a contract year (60% answered), 7.4 + 1.7 x sentiment.

A renewal churns with probability sigmoid(intercept + sum of coefficient x driver) of its contract year, the
coefficients of the account's segment (`WORLDS`): the truth the tests check the scorecard against.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import yaml

HISTORY_DAYS = 1095
PERSISTENCE = 0.7  # year-to-year correlation of each driver
DRIVERS = ("adoption", "support", "billing", "sentiment")


@dataclass(frozen=True)
class World:
    client: str
    name: str
    accounts: int
    seed: int
    segments: dict[str, float]  # segment -> share of accounts
    log_odds: dict[str, dict[str, float]]  # segment -> {"intercept": ..., driver: coefficient (per SD; + is riskier)}
    story: str


def _same(coef: dict[str, float], segments) -> dict[str, dict[str, float]]:
    return {s: dict(coef) for s in segments}


THREE = {"Enterprise": 0.3, "Mid-Market": 0.35, "SMB": 0.35}
WORLDS = {
    "dominant": World(
        "summit", "Summit Analytics (planted: one dominant driver)", 1500, 21, {"Standard": 0.6, "Premium": 0.4},
        _same({"intercept": -2.3, "adoption": -1.6, "support": 0.35, "billing": 0.3, "sentiment": -0.3}, ("Standard", "Premium")),
        "Adoption (active users per seat) dominates churn smoothly, without thresholds; support, billing and NPS add a little."),
    "segments_differ": World(
        "trident", "Trident Systems (planted: segments churn for different reasons)", 2400, 1022, THREE,
        {"Enterprise": {"intercept": -2.2, "support": 2.0}, "Mid-Market": {"intercept": -2.2, "billing": 2.0},
         "SMB": {"intercept": -2.2, "adoption": -2.0}},
        "Enterprise churns on support trouble only, Mid-Market on late payment only, SMB on low adoption only."),
    "segments_alike": World(
        "harbor", "Harbor Health (planted: segments churn for the same reasons)", 2400, 23, THREE,
        _same({"intercept": -2.3, "adoption": -1.0, "support": 0.9, "billing": 0.9}, THREE),
        "Every segment churns on the same mix of low adoption, support trouble and late payment."),
}

SEATS = {"Enterprise": 200, "Mid-Market": 45, "SMB": 12, "Standard": 25, "Premium": 80}
PRICE_PER_SEAT = 900
STAGES = {"churned": "Closed Lost", "renewed": "Closed Won", "expanded": "Closed Won - Upsell"}
FILES = {"accounts": "crm_accounts.csv", "renewals": "crm_renewals.csv", "usage": "product_daily.parquet",
         "tickets": "support_tickets.csv", "invoices": "billing_invoices.csv", "surveys": "nps_responses.csv"}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def build(folder: Path, world: str, end: date) -> Path:
    """Write the world's exports, truth.json and parameters file under `folder`; return the parameters file."""
    w = WORLDS[world]
    folder = Path(folder)
    exports = folder / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    gen = _Generator(w, end)
    for table, name in FILES.items():
        frame = getattr(gen, table)()
        frame.write_parquet(exports / name) if name.endswith(".parquet") else frame.write_csv(exports / name)
    (exports / "truth.json").write_text(json.dumps(gen.truth(), indent=2) + "\n")
    path = folder / f"{w.client}.yml"
    path.write_text(yaml.safe_dump(parameters(w), sort_keys=False))
    return path


def parameters(w: World) -> dict:
    src = lambda table, columns, **kw: {"path": f"exports/{FILES[table]}", "columns": columns, **kw}  # noqa: E731
    return {
        "client": w.client, "name": w.name,
        "sources": {
            "accounts": src("accounts", {"Account ID": "account_id", "Account Name": "account_name", "Segment": "segment",
                                         "Owner": "csm_owner", "ARR": "arr", "Seats": "seats", "Created": "created_at",
                                         "Contract Start": "contract_start", "Next Renewal": "renewal_date"}),
            "renewals": src("renewals", {"Account ID": "account_id", "Close Date": "renewal_date", "Stage": "outcome",
                                         "ARR Before": "arr_before", "ARR After": "arr_after"},
                            values={"outcome": {v: k for k, v in STAGES.items()}}),
            "usage": src("usage", {"account": "account_id", "day": "date", "active_users": "active_users", "logins": "logins"}),
            "tickets": src("tickets", {"Ticket": "ticket_id", "Account": "account_id", "Opened": "created_at",
                                       "Solved": "resolved_at", "CSAT": "csat"}),
            "invoices": src("invoices", {"Invoice": "invoice_id", "Account": "account_id", "Issued": "issued_at",
                                         "Due": "due_at", "Paid": "paid_at", "Amount": "amount"}),
            "surveys": src("surveys", {"Account": "account_id", "Date": "responded_at", "Score": "nps"}),
        },
    }


class _Generator:
    def __init__(self, w: World, end: date):
        self.w, self.rng = w, np.random.default_rng(w.seed)
        rng, n = self.rng, w.accounts
        self.end = np.datetime64(end, "D")
        self.start = self.end - np.timedelta64(HISTORY_DAYS - 1, "D")
        self.days = np.arange(self.start, self.end + 1)
        names = list(w.segments)
        self.segment = np.array(names)[rng.choice(len(names), n, p=list(w.segments.values()))]
        self.ids = np.array([f"{w.client[:3].upper()}-{i:05d}" for i in range(1, n + 1)])
        self.seats = np.maximum(3, np.round(np.array([SEATS[s] for s in self.segment]) * rng.lognormal(0, 0.35, n))).astype(int)
        existing = rng.random(n) < 0.55  # the rest join during the history, about as fast as others churn
        offset = np.where(existing, -rng.integers(1, 2 * 365, n), rng.integers(0, HISTORY_DAYS - 200, n))
        self.created = self.start + offset.astype("timedelta64[D]")
        self.contract_start = self.created + rng.integers(0, 21, n).astype("timedelta64[D]")
        self.first_day = np.maximum(self.contract_start, self.start)
        self.K = int((self.end - self.contract_start.min()).astype(int) // 365) + 2
        self.driver = {d: self._ar1() for d in DRIVERS}
        self.style = rng.normal(0, 0.3, n)
        self._outcomes()

    def _ar1(self) -> np.ndarray:
        x = np.empty((self.w.accounts, self.K))
        x[:, 0] = self.rng.normal(size=self.w.accounts)
        for c in range(1, self.K):
            x[:, c] = PERSISTENCE * x[:, c - 1] + np.sqrt(1 - PERSISTENCE**2) * self.rng.normal(size=self.w.accounts)
        return x

    def _outcomes(self) -> None:
        rng, n, K = self.rng, self.w.accounts, self.K
        logit = np.zeros((n, K))
        for seg, coef in self.w.log_odds.items():
            m = self.segment == seg
            logit[m] = coef["intercept"] + sum(coef.get(d, 0.0) * self.driver[d][m] for d in DRIVERS)
        draw, grow = rng.random((n, K)), rng.random((n, K))
        self.churn_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        arr = np.round(self.seats * PRICE_PER_SEAT * rng.uniform(0.8, 1.2, n), -2)
        self.arr_year = np.zeros((n, K))
        rows = []
        for c in range(K):
            self.arr_year[:, c] = arr
            renewal = self.contract_start + np.timedelta64(365 * (c + 1), "D")
            due = np.isnat(self.churn_date) & (renewal > self.start) & (renewal <= self.end)
            churned = due & (draw[:, c] < sigmoid(logit[:, c]))
            expanded = due & ~churned & (grow[:, c] < 0.2)
            after = np.where(churned, 0.0, np.where(expanded, np.round(arr * 1.2, -2), arr))
            idx = np.nonzero(due)[0]
            rows.append(pl.DataFrame({"i": idx, "renewal_date": renewal[idx], "before": arr[idx], "after": after[idx],
                                      "outcome": np.where(churned, "churned", np.where(expanded, "expanded", "renewed"))[idx]}))
            self.churn_date[churned] = renewal[churned]
            arr = np.where(due & ~churned, after, arr)
        self.renewal_rows = pl.concat(rows).sort("renewal_date", "i")
        self.arr_now = arr
        self.last_day = np.where(np.isnat(self.churn_date), self.end, self.churn_date - np.timedelta64(1, "D"))

    def _per_day(self, driver: str) -> np.ndarray:
        """A driver's level on each day (accounts x days): the value of the contract year the day falls in."""
        since = (self.days[None, :] - self.contract_start[:, None]).astype(int)
        return np.take_along_axis(self.driver[driver], np.clip(since // 365, 0, self.K - 1), axis=1)

    def _alive(self) -> np.ndarray:
        return (self.days[None, :] >= self.first_day[:, None]) & (self.days[None, :] <= self.last_day[:, None])

    # -- exports
    def accounts(self) -> pl.DataFrame:
        years = (self.end - self.contract_start).astype(int) // 365 + 1
        nxt = np.where(np.isnat(self.churn_date), self.contract_start + (365 * years).astype("timedelta64[D]"), self.churn_date)
        return pl.DataFrame({
            "Account ID": self.ids, "Account Name": [f"{self.w.client.title()} client {i}" for i in range(1, len(self.ids) + 1)],
            "Segment": self.segment, "Owner": [f"csm{k}@{self.w.client}.example" for k in self.rng.integers(1, 9, len(self.ids))],
            "ARR": self.arr_now, "Seats": self.seats, "Created": self.created, "Contract Start": self.contract_start,
            "Next Renewal": nxt,
        })

    def renewals(self) -> pl.DataFrame:
        r = self.renewal_rows
        return pl.DataFrame({"Account ID": self.ids[r["i"].to_numpy()], "Close Date": r["renewal_date"],
                             "Stage": r["outcome"].replace_strict(STAGES), "ARR Before": r["before"], "ARR After": r["after"]})

    def usage(self) -> pl.DataFrame:
        rng = self.rng
        weekend = ((self.days.astype("int64") + 3) % 7 >= 5)[None, :]
        p = sigmoid(-1.0 + 0.9 * self._per_day("adoption") + self.style[:, None]) * np.where(weekend, 0.15, 1.0)
        active = rng.binomial(np.broadcast_to(self.seats[:, None], p.shape), p) * self._alive()
        ai, di = np.nonzero(active > 0)  # a row on each day with activity only
        users = active[ai, di]
        return pl.DataFrame({"account": self.ids[ai], "day": self.days[di], "active_users": users.astype(np.int32),
                             "logins": rng.poisson(1.6 * users).astype(np.int32)})

    def tickets(self) -> pl.DataFrame:
        rng = self.rng
        s = self._per_day("support")
        lam = 0.012 * np.sqrt(self.seats)[:, None] * np.exp(0.9 * s) * self._alive()
        count = rng.poisson(lam)
        ai, di = np.nonzero(count)
        ai, di = np.repeat(ai, count[ai, di]), np.repeat(di, count[ai, di])
        m, sv = len(ai), s[ai, di]
        opened = self.days[di].astype("datetime64[s]") + rng.integers(8 * 3600, 18 * 3600, m).astype("timedelta64[s]")
        solved = opened + (rng.exponential(1.5 * np.exp(0.4 * sv)) * 86400 + 900).astype("timedelta64[s]")
        solved = np.where(solved >= (self.end + 1).astype("datetime64[s]"), np.datetime64("NaT"), solved)
        csat = np.clip(np.round(4.2 - 0.7 * sv + rng.normal(0, 0.7, m)), 1, 5)
        rated = ~np.isnat(solved) & (rng.random(m) < 0.6)
        order = np.lexsort((ai, opened))
        stamp = lambda a: pl.Series(a[order].astype("datetime64[ms]")).dt.strftime("%Y-%m-%d %H:%M")  # noqa: E731
        return pl.DataFrame({"Ticket": np.arange(1, m + 1), "Account": self.ids[ai][order], "Opened": stamp(opened),
                             "Solved": stamp(solved), "CSAT": pl.Series(np.where(rated, csat, np.nan)[order]).fill_nan(None)})

    def invoices(self) -> pl.DataFrame:
        rng = self.rng
        month = np.arange(12 * self.K)
        issued = self.contract_start[:, None] + np.round(month * 30.42).astype(int).astype("timedelta64[D]")[None, :]
        year = np.minimum(month // 12, self.K - 1)
        ai, mi = np.nonzero((issued >= self.start) & (issued <= self.last_day[:, None]))
        b = self.driver["billing"][ai, year[mi]]
        iss = issued[ai, mi]
        due = iss + np.timedelta64(30, "D")
        late = rng.random(len(ai)) < sigmoid(-0.9 + 1.4 * b)
        days_late = 1 + np.floor(rng.exponential(8 * np.exp(0.5 * b))).astype(int)
        paid = np.where(late, due + days_late.astype("timedelta64[D]"), due - rng.integers(0, 20, len(ai)).astype("timedelta64[D]"))
        paid = np.where(paid > self.end, np.datetime64("NaT"), np.maximum(paid, iss))
        order = np.lexsort((ai, iss))
        return pl.DataFrame({"Invoice": [f"IN-{k:06d}" for k in range(1, len(ai) + 1)], "Account": self.ids[ai][order],
                             "Issued": iss[order], "Due": due[order], "Paid": paid[order],
                             "Amount": np.round(self.arr_year[ai, year[mi]] / 12, 2)[order]})

    def surveys(self) -> pl.DataFrame:
        rng = self.rng
        offset = np.stack([rng.integers(40, 160, (self.w.accounts, self.K)), rng.integers(200, 320, (self.w.accounts, self.K))], 2)
        when = self.contract_start[:, None, None] + (365 * np.arange(self.K)[None, :, None] + offset).astype("timedelta64[D]")
        ok = (when >= self.first_day[:, None, None]) & (when <= self.last_day[:, None, None]) & (rng.random(when.shape) < 0.6)
        ai, ci, oi = np.nonzero(ok)
        nps = np.clip(np.round(7.4 + 1.7 * self.driver["sentiment"][ai, ci] + rng.normal(0, 1.2, len(ai))), 0, 10).astype(int)
        w = when[ai, ci, oi]
        order = np.lexsort((ai, w))
        return pl.DataFrame({"Account": self.ids[ai][order], "Date": w[order], "Score": nps[order]})

    def truth(self) -> dict:
        r = self.renewal_rows.with_columns(pl.Series("segment", self.segment[self.renewal_rows["i"].to_numpy()]))
        per = {s: {"renewals": g.height, "churned": int((g["outcome"] == "churned").sum())}
               for (s,), g in r.group_by("segment", maintain_order=True)}
        return {"world": self.w.client, "story": self.w.story, "seed": self.w.seed, "end": str(self.end),
                "accounts": self.w.accounts, "segments": self.w.segments, "log_odds": self.w.log_odds,
                "renewals": r.height, "churned": int((r["outcome"] == "churned").sum()), "by_segment": dict(sorted(per.items()))}
