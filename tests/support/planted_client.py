"""A second synthetic client, Lakeside Learning, with churn effects the fixed signal catalogue cannot see.

`build(folder, end)` writes the exports of an education-software vendor into `folder/exports/`
(HubSpot companies, deals and contacts, a Mixpanel-style daily usage Parquet, Freshdesk tickets,
Chargebee invoices with day-first dates, Delighted NPS responses), `folder/exports/truth.json`
(the planted effects) and `folder/lakeside.yml` (its parameters file). It is generated from
scratch by its own code, not from `kit.demo`. Same seed and end date, same bytes.

The world: three years of history (1,095 days up to `end`); schools, colleges and universities
with annual contracts renewed every 365 days from their contract start; an account that churns
at a renewal stops everything the day before it. A latent health per account and contract year
(persistent from year to year) drives churn at each renewal through a sum of log-odds terms,
`TRUE_LOG_ODDS`:

* **Adoption (dominant, continuous).** Weekday daily active users per seat are
  sigmoid(-1.1 + 0.75 * adoption + account style), where `adoption` drifts smoothly from the
  previous contract year's level to this year's over the first 270 days of the year and then holds.
  Churn log-odds falls linearly in this year's level: no thresholds, so a score that cuts active
  users per seat into three ranges loses resolution.
* **Grades (sparse).** Assessments are submitted on a few weekdays a month (a Poisson rate of one
  submission day per 2-4 weeks per account, independent of health). On such a day the usage row
  has `assessments` (a count >= 1) and `avg_grade` (0-100, the day's mean grade); on other days
  both are null, not zero. The account's grade level for the contract year lowers churn: the mean
  grade over the submission days of the last 60-90 days predicts it, a 30-day mean counting days
  without submissions as zero mostly measures how many submissions happened.
* **Going dark (recency).** With a probability rising with latent risk, an account stops all
  product activity (no usage rows) 30-150 days before a renewal; such accounts churn at a high
  rate. Days since the last usage record shows it.
* **Weaker effects** of the same latent health: NPS (two surveys a contract year, about half
  answered), support (tickets per 90 days rise and CSAT falls with risk), billing (quarterly
  invoices paid late more often).
* **Noise**: `videos_watched` (per-account rate independent of health; counted on active days),
  contacts (roles and last-activity dates drawn without regard to health; a churned account keeps
  those dated before its last day).

Base churn is about 11% a renewal; about 10% of renewals follow a dark spell and about half of
those churn. By design the audit reports the dark active accounts (no usage in the last 30 days)
and the blank `assessments`/`avg_grade` on days without a submission.

truth.json records the seed, end, accounts, the true coefficients and the models behind them, the
renewals and churn achieved (base rate, outcomes, dark share and churn rates), the active accounts
dark at `end`, and a plain-words description of each effect.

Outcomes at a renewal not churned are "Closed won" (renewed), "Closed won - upsell" (expanded:
add-on modules, ARR x 1.1-1.4) or "Closed won - downgrade" (contracted: ARR x 0.7-0.9); seats
stay fixed, so active users per seat stay comparable across years.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import yaml

CLIENT = "lakeside"
NAME = "Lakeside Learning (synthetic)"
HISTORY_DAYS = 1095

# The churn log-odds at a renewal: intercept + sum of coefficient x driver (drivers are standard normal,
# oriented so that a higher value is healthier, except `dark` (0/1), `support_risk` and `billing_risk`).
TRUE_LOG_ODDS = {
    "intercept": -3.7,  # about 11% churn a renewal
    "adoption": -1.2,  # per SD of the adoption level (log-odds of weekday active users per seat: 0.75 per SD)
    "grade": -0.75,  # per SD of the grade level (9 grade points per SD)
    "dark": 3.0,  # the account went dark before the renewal
    "nps": -0.35,
    "support_risk": 0.35,
    "billing_risk": 0.30,
}
# How strongly each driver follows the latent health (its correlation with it).
LOADINGS = {"adoption": 0.55, "grade": 0.45, "nps": 0.5, "support_risk": -0.5, "billing_risk": -0.4}
YEAR_TO_YEAR = {"health": 0.6, "own": 0.7}  # AR(1) persistence of the latent health and of each driver's own part
DARK = {"intercept": -2.6, "per_risk_sd": 1.1, "days_before_renewal": (30, 150)}  # P(dark) = sigmoid(a - b * health)

ADOPTION = {"intercept": -1.1, "per_sd": 0.75, "style_sd": 0.55, "daily_sd": 0.15, "weekend": 0.2, "ramp_days": 270}
GRADE = {"mean": 71.0, "per_sd": 9.0, "day_sd": 5.0, "per_assessment_sd": 12.0, "gap_days": (14, 28)}

SEGMENTS = ("Schools", "Colleges", "Universities")
SEGMENT_SHARE = (0.55, 0.30, 0.15)
SEATS_MEDIAN = {"Schools": 35, "Colleges": 220, "Universities": 1100}
PRICE_PER_SEAT = {"Schools": 120, "Colleges": 100, "Universities": 85}
STAGES = {"churned": "Closed lost", "renewed": "Closed won", "expanded": "Closed won - upsell", "contracted": "Closed won - downgrade"}
PRIORITIES = {"Low": "low", "Medium": "normal", "High": "high", "Urgent": "urgent"}
OWNERS = ("Ava Brooks", "Ben Carter", "Chloe Dunn", "Daniel Evans", "Ella Fox", "Finn Grant",
          "Grace Hall", "Harry Irwin", "Isla Jones", "Jack Kemp", "Lily Moss", "Noah Price")
PERSONAS = ("Champion", "Teacher", "IT Admin", "Principal", "Billing contact")
PLACES = ("Lakeview", "Maple", "Riverside", "Oakwood", "Hillcrest", "Westbrook", "Kingsley", "Ashford",
          "Elmstead", "Fairhaven", "Brookfield", "Stonebridge", "Willow", "Northgate", "Harbour", "Cedar")
KINDS = {"Schools": ("Primary School", "Academy", "High School"), "Colleges": ("College", "Sixth Form College"),
         "Universities": ("University",)}

FILES = {
    "accounts": "hubspot_companies.csv",
    "renewals": "hubspot_deals_renewals.csv",
    "contacts": "hubspot_contacts.csv",
    "usage": "mixpanel_daily_usage.parquet",
    "tickets": "freshdesk_tickets.csv",
    "invoices": "chargebee_invoices.csv",
    "surveys": "delighted_nps.csv",
}

DESCRIPTIONS = {
    "adoption": "Dominant, continuous: weekday daily active users per seat follow sigmoid(-1.1 + 0.75 x adoption), "
    "adoption drifting over each contract year; churn log-odds falls linearly in the year's adoption level.",
    "grade": "Sparse: assessments on one weekday per 2-4 weeks (null on other days); the account's grade level "
    "lowers churn. Visible in the mean avg_grade over submission days of the last 60-90 days, not in a 30-day "
    "zero-filled mean.",
    "dark": "Recency: with probability rising with latent risk an account stops all usage 30-150 days before a "
    "renewal (no usage rows); it churns at a high rate. Visible as days since the last usage record.",
    "nps": "Weak: NPS (0-10) twice a contract year, about half answered, lower with risk.",
    "support_risk": "Weak: more tickets per 90 days and lower CSAT (1-5) with risk.",
    "billing_risk": "Weak: quarterly invoices paid late more often, and later, with risk.",
    "noise": "videos_watched (usage column) and contacts carry no churn information by construction.",
}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def build(folder: Path, end: date, *, seed: int = 7, n_accounts: int = 3000) -> Path:
    """Write the exports under folder/exports/ and folder/lakeside.yml (the parameters file); return the yml path."""
    folder = Path(folder)
    exports = folder / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    world = _World(np.random.default_rng(seed), end, n_accounts)
    frames = world.frames()
    for table, name in FILES.items():
        frame = frames[table]
        if name.endswith(".parquet"):
            frame.write_parquet(exports / name, statistics=False)
        else:
            frame.write_csv(exports / name)
    truth = {"seed": seed, "end": end.isoformat(), "accounts": n_accounts, **world.truth()}
    (exports / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    path = folder / f"{CLIENT}.yml"
    path.write_text(yaml.safe_dump(parameters(), sort_keys=False, allow_unicode=True))
    return path


def parameters() -> dict:
    """The parameters file: paths relative to it, the client's column names and labels mapped onto the canonical ones."""
    src = lambda table, columns, **kw: {"path": f"exports/{FILES[table]}", **kw, "columns": columns}  # noqa: E731
    return {
        "client": CLIENT,
        "name": NAME,
        "sources": {
            "accounts": src("accounts", {
                "Record ID": "account_id", "Company name": "account_name", "Parent Company": "parent_account_id",
                "Segment": "segment", "Company owner": "csm_owner", "Annual recurring revenue": "arr", "Seats": "seats",
                "Create Date": "created_at", "Contract start": "contract_start", "Renewal date": "renewal_date",
            }, date_format="%Y-%m-%d"),
            "contacts": src("contacts", {
                "Record ID": "contact_id", "Associated Company ID": "account_id", "Email": "email",
                "Persona": "role", "Last Activity Date": "last_activity_at",
            }),
            "renewals": {**src("renewals", {
                "Associated Company ID": "account_id", "Close Date": "renewal_date", "Deal Stage": "outcome",
                "Amount before": "arr_before", "Amount after": "arr_after",
            }, date_format="%Y-%m-%d"), "values": {"outcome": {label: outcome for outcome, label in STAGES.items()}}},
            "usage": src("usage", {
                "company_id": "account_id", "event_date": "date", "active_users": "active_users", "sessions": "logins",
                "assessments": "assessments", "avg_grade": "avg_grade", "videos_watched": "videos_watched",
            }),
            "tickets": {**src("tickets", {
                "Ticket ID": "ticket_id", "Company ID": "account_id", "Created time": "created_at",
                "Resolved time": "resolved_at", "Priority": "priority", "Satisfaction rating": "csat",
            }), "values": {"priority": dict(PRIORITIES)}},
            "invoices": src("invoices", {
                "Invoice Number": "invoice_id", "Customer Id": "account_id", "Invoice Date": "issued_at",
                "Due Date": "due_at", "Paid On": "paid_at", "Amount": "amount",
            }, date_format="%d/%m/%Y"),
            "surveys": src("surveys", {"Company ID": "account_id", "Response Date": "responded_at", "Score": "nps"}),
        },
    }


# ---------------------------------------------------------------------------- the world


class _World:
    """Accounts, contract years, latent drivers and outcomes; then each export drawn from them (vectorised over
    accounts x days; the only Python loops run over contract years)."""

    def __init__(self, rng: np.random.Generator, end: date, n: int):
        self.rng, self.n = rng, n
        self.end = np.datetime64(end, "D")
        self.start = self.end - np.timedelta64(HISTORY_DAYS - 1, "D")
        self.days = np.arange(self.start, self.end + 1)
        self._accounts_and_contracts()
        self._drivers()
        self._outcomes()

    # -- accounts, contract years
    def _accounts_and_contracts(self) -> None:
        rng, n = self.rng, self.n
        self.ids = np.array([f"LL-{i:05d}" for i in range(1, n + 1)])
        self.segment = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARE)
        seg = np.array(SEGMENTS)[self.segment]
        self.seats = np.maximum(8, np.round(np.array([SEATS_MEDIAN[s] for s in seg]) * rng.lognormal(0, 0.4, n))).astype(int)
        price = np.array([PRICE_PER_SEAT[s] for s in seg]) * rng.uniform(0.9, 1.1, n)
        self.arr0 = np.round(self.seats * price / 10) * 10
        existing = rng.random(n) < 0.85  # most exist before the history starts (up to 3 years before it)
        offset = np.where(existing, -rng.integers(1, 3 * 365, n), rng.integers(0, HISTORY_DAYS - 120, n))
        self.created = self.start + offset.astype("timedelta64[D]")
        self.contract_start = self.created + rng.integers(0, 31, n).astype("timedelta64[D]")
        self.first_day = np.maximum(self.contract_start, self.start)  # first day with product activity in the history
        self.K = int((self.end - self.contract_start.min()).astype(int) // 365) + 2  # contract years covered

    # -- latent health and the drivers, per account and contract year
    def _drivers(self) -> None:
        rng, n, K = self.rng, self.n, self.K

        def ar1(rho: float, k: int) -> np.ndarray:
            x = np.empty((n, k))
            x[:, 0] = rng.normal(size=n)
            for c in range(1, k):
                x[:, c] = rho * x[:, c - 1] + np.sqrt(1 - rho * rho) * rng.normal(size=n)
            return x

        # per account and contract year, with one extra year in front (column 0): the level the first
        # contract year's adoption drifts from
        health = ar1(YEAR_TO_YEAR["health"], K + 1)
        self.yearly = {k: r * health + np.sqrt(1 - r * r) * ar1(YEAR_TO_YEAR["own"], K + 1) for k, r in LOADINGS.items()}
        self.yearly["dark"] = rng.random((n, K + 1)) < sigmoid(DARK["intercept"] - DARK["per_risk_sd"] * health)
        lo, hi = DARK["days_before_renewal"]
        self.yearly["dark_days"] = rng.integers(lo, hi + 1, (n, K + 1))
        self.style = rng.normal(0, ADOPTION["style_sd"], n)  # how an account uses the product: no churn information

    def _year(self, name: str) -> np.ndarray:
        """A driver (or dark, dark_days) per account and contract year c = 0..K-1."""
        return self.yearly[name][:, 1:]

    # -- renewals: churn at each renewal in the history from the planted log-odds
    def _outcomes(self) -> None:
        rng, n, K = self.rng, self.n, self.K
        t = TRUE_LOG_ODDS
        dark = self._year("dark")
        logit = (t["intercept"] + t["adoption"] * self._year("adoption") + t["grade"] * self._year("grade")
                 + t["dark"] * dark + t["nps"] * self._year("nps") + t["support_risk"] * self._year("support_risk")
                 + t["billing_risk"] * self._year("billing_risk"))
        churn_draw, kind_draw, size_draw = rng.random((n, K)), rng.random((n, K)), rng.random((n, K))
        self.churn_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        self.arr_year = np.zeros((n, K))
        arr = self.arr0.astype(float)
        rows = []
        for c in range(K):
            self.arr_year[:, c] = arr
            renewal = self.contract_start + np.timedelta64(365 * (c + 1), "D")
            due = np.isnat(self.churn_date) & (renewal > self.start) & (renewal <= self.end)
            churned = due & (churn_draw[:, c] < sigmoid(logit[:, c]))
            adopt = self._year("adoption")[:, c]
            expanded = due & ~churned & (kind_draw[:, c] < sigmoid(-1.6 + 0.5 * adopt))
            contracted = due & ~churned & ~expanded & (kind_draw[:, c] > 1 - sigmoid(-2.3 - 0.4 * adopt))
            factor = np.where(expanded, 1.1 + 0.3 * size_draw[:, c], np.where(contracted, 0.7 + 0.2 * size_draw[:, c], 1.0))
            after = np.where(churned, 0.0, np.round(arr * factor / 10) * 10)
            outcome = np.where(churned, "churned", np.where(expanded, "expanded", np.where(contracted, "contracted", "renewed")))
            idx = np.nonzero(due)[0]
            rows.append(pl.DataFrame({
                "i": idx, "renewal_date": renewal[idx], "outcome": outcome[idx],
                "before": arr[idx], "after": after[idx], "dark": dark[idx, c],
            }))
            self.churn_date[churned] = renewal[churned]
            arr = np.where(due, np.where(churned, arr, after), arr)
        self.renewals = pl.concat(rows).sort("renewal_date", "i")
        self.arr_now = arr
        self.last_day = np.where(np.isnat(self.churn_date), self.end, self.churn_date - np.timedelta64(1, "D"))

    # -- calendar helpers (accounts x days)
    def _cycle(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Contract year (0..K-1) and day within it, per account (rows) and day (columns)."""
        since = (days[None, :] - self.contract_start[:, None]).astype(int)
        return np.clip(since // 365, 0, self.K - 1), np.mod(np.maximum(since, 0), 365)

    def _alive(self, days: np.ndarray) -> np.ndarray:
        return (days[None, :] >= self.first_day[:, None]) & (days[None, :] <= self.last_day[:, None])

    def _per_year(self, name: str, cyc: np.ndarray) -> np.ndarray:
        return np.take_along_axis(self._year(name), cyc, axis=1)

    # -- the exports
    def frames(self) -> dict[str, pl.DataFrame]:
        return {
            "accounts": self._accounts(),
            "renewals": self._deals(),
            "contacts": self._contacts(),
            "usage": self._usage(),
            "tickets": self._tickets(),
            "invoices": self._invoices(),
            "surveys": self._surveys(),
        }

    def _accounts(self) -> pl.DataFrame:
        rng, n = self.rng, self.n
        seg = np.array(SEGMENTS)[self.segment]
        years_in = (self.end - self.contract_start).astype(int) // 365 + 1
        renewal = np.where(np.isnat(self.churn_date), self.contract_start + (365 * years_in).astype("timedelta64[D]"), self.churn_date)
        parent = np.full(n, None, dtype=object)
        unis = np.nonzero(self.segment == 2)[0]
        child = np.nonzero((self.segment == 1) & (rng.random(n) < 0.08))[0]
        if len(unis):
            parent[child] = self.ids[rng.choice(unis, len(child))]
        place = np.array(PLACES)[rng.integers(0, len(PLACES), n)]
        kind_pick = rng.integers(0, 3, n)
        names = [f"{p} {KINDS[s][k % len(KINDS[s])]}" for p, s, k in zip(place, seg, kind_pick)]
        return pl.DataFrame({
            "Record ID": self.ids,
            "Company name": names,
            "Parent Company": pl.Series(parent.tolist(), dtype=pl.String),
            "Segment": seg,
            "Company owner": np.array(OWNERS)[rng.integers(0, len(OWNERS), n)],
            "Annual recurring revenue": self.arr_now,
            "Seats": self.seats,
            "Create Date": self.created,
            "Contract start": self.contract_start,
            "Renewal date": renewal,
        })

    def _deals(self) -> pl.DataFrame:
        r = self.renewals
        return pl.DataFrame({
            "Deal ID": [f"DL-{k:06d}" for k in range(1, r.height + 1)],
            "Deal Name": [f"{a} renewal {d.year}" for a, d in zip(self.ids[r["i"].to_numpy()], r["renewal_date"])],
            "Associated Company ID": self.ids[r["i"].to_numpy()],
            "Close Date": r["renewal_date"],
            "Deal Stage": r["outcome"].replace_strict(STAGES),
            "Amount before": r["before"],
            "Amount after": r["after"],
        })

    def _contacts(self) -> pl.DataFrame:
        """Contacts, without churn information: each one's latest activity is drawn uniformly from the account's
        creation to `end`, whatever its health; a churned account keeps only the contacts dated before its last day
        (no later records). So the contacts known at any as-of date before churn are the same in number and dates
        whether or not the account churns (a cut at the last day, not a clip, which would pile dates up there)."""
        rng = self.rng
        k = np.minimum(1 + rng.poisson(1 + self.seats / 150), 15)
        ai = np.repeat(np.arange(self.n), k)
        span = (self.end - self.created[ai]).astype(int) + 1
        last = self.created[ai] + (rng.random(len(ai)) * span).astype(int).astype("timedelta64[D]")
        role = np.array(PERSONAS)[rng.choice(len(PERSONAS), len(ai), p=[0.15, 0.45, 0.15, 0.1, 0.15])]
        keep = last <= self.last_day[ai]
        ai, last, role = ai[keep], last[keep], role[keep]
        return pl.DataFrame({
            "Record ID": [f"CT-{j:06d}" for j in range(1, len(ai) + 1)],
            "Associated Company ID": self.ids[ai],
            "Email": [f"contact{j}@{a.lower()}.school.example" for j, a in enumerate(self.ids[ai], 1)],
            "Persona": role,
            "Last Activity Date": last,
        })

    def _usage(self) -> pl.DataFrame:
        rng, A = self.rng, ADOPTION
        days = self.days
        cyc, pos = self._cycle(days)
        # adoption drifts from the previous contract year's level to this year's, then holds
        prev = np.take_along_axis(self.yearly["adoption"][:, :-1], cyc, axis=1)
        this = np.take_along_axis(self.yearly["adoption"][:, 1:], cyc, axis=1)
        level = prev + (this - prev) * np.minimum(pos / A["ramp_days"], 1.0)
        weekday = (days.astype("int64") + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
        weekend = weekday >= 5
        logit = A["intercept"] + A["per_sd"] * level + self.style[:, None] + rng.normal(0, A["daily_sd"], level.shape)
        p = sigmoid(logit) * np.where(weekend, A["weekend"], 1.0)[None, :]
        # going dark: no activity from dark_days before the renewal that ends this contract year
        dark = self._per_year("dark", cyc) & (365 - pos <= self._per_year("dark_days", cyc))
        on = self._alive(days) & ~dark
        active = rng.binomial(np.broadcast_to(self.seats[:, None], p.shape), p) * on
        # assessments: submission days at a per-account rate, weekdays only, independent of health
        gap = rng.uniform(*GRADE["gap_days"], self.n)
        submit = on & ~weekend[None, :] & (rng.random(p.shape) < (7 / 5) / gap[:, None])
        count = np.where(submit, 1 + rng.poisson(0.02 * self.seats[:, None], p.shape), 0)
        active = np.where(submit, np.maximum(active, 1), active)
        sessions = rng.poisson(active * 1.7)
        # videos: a per-account rate per seat, independent of health and of adoption (counted on days with a row)
        videos = rng.poisson((self.seats * rng.lognormal(np.log(0.1), 0.6, self.n))[:, None] * np.where(weekend, 0.3, 1.0)[None, :], p.shape)
        ai, di = np.nonzero(active > 0)  # a row only on a day with activity (submission days have active >= 1)
        cnt = count[ai, di]
        level = GRADE["mean"] + GRADE["per_sd"] * self._per_year("grade", cyc)[ai, di]
        noise = rng.normal(0, GRADE["day_sd"], len(ai)) + rng.normal(0, GRADE["per_assessment_sd"], len(ai)) / np.sqrt(np.maximum(cnt, 1))
        has = pl.col("assessments") > 0
        return pl.DataFrame({
            "company_id": self.ids[ai],
            "event_date": days[di],
            "active_users": active[ai, di].astype(np.int32),
            "sessions": sessions[ai, di].astype(np.int32),
            "assessments": cnt.astype(np.int32),
            "avg_grade": np.round(np.clip(level + noise, 0, 100), 1),
            "videos_watched": videos[ai, di].astype(np.int32),
        }).with_columns(  # days without a submission: null, not zero
            pl.when(has).then(pl.col("avg_grade")).alias("avg_grade"),
            pl.when(has).then(pl.col("assessments")).alias("assessments"),
        )

    def _tickets(self) -> pl.DataFrame:
        rng = self.rng
        cyc, _ = self._cycle(self.days)
        s = self._per_year("support_risk", cyc)
        lam = (0.004 + 0.00006 * self.seats[:, None]) * np.exp(0.45 * s) * self._alive(self.days)
        n_day = rng.poisson(lam)
        ai, di = np.nonzero(n_day)
        reps = n_day[ai, di]
        ai, di = np.repeat(ai, reps), np.repeat(di, reps)
        m = len(ai)
        sv = s[ai, di]
        created = self.days[di].astype("datetime64[s]") + rng.integers(7 * 3600, 18 * 3600, m).astype("timedelta64[s]")
        high = rng.random(m) < sigmoid(-1.7 + 0.5 * sv)
        priority = np.where(high, np.where(rng.random(m) < 0.25, "Urgent", "High"), np.where(rng.random(m) < 0.3, "Low", "Medium"))
        resolved = created + (rng.exponential(1.2 * np.exp(0.3 * sv)) * 86400 + 600).astype("timedelta64[s]")
        open_ = (resolved >= (self.end + 1).astype("datetime64[s]")) | (rng.random(m) < 0.01)
        csat = np.clip(np.round(4.1 - 0.45 * sv + rng.normal(0, 0.9, m)), 1, 5)
        rated = ~open_ & (rng.random(m) < 0.5)
        resolved = np.where(open_, np.datetime64("NaT"), resolved)
        order = np.lexsort((ai, created))  # ticket numbers in creation order
        text = lambda a: pl.Series(a[order].astype("datetime64[ms]")).dt.strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
        return pl.DataFrame({
            "Ticket ID": np.arange(10001, 10001 + m),
            "Company ID": self.ids[ai][order],
            "Created time": text(created),
            "Resolved time": text(resolved),
            "Priority": priority[order],
            "Status": np.where(open_, "Open", "Closed")[order],
            "Satisfaction rating": pl.Series(np.where(rated, csat, np.nan)[order]).fill_nan(None),
        })

    def _invoices(self) -> pl.DataFrame:
        rng = self.rng
        q = np.arange(self.K * 4)
        issued = self.contract_start[:, None] + np.round(q * 91.25).astype(int).astype("timedelta64[D]")[None, :]
        year = np.minimum(q // 4, self.K - 1)
        valid = (issued >= self.start) & (issued <= self.last_day[:, None])
        b = self._year("billing_risk")[:, year]
        late = rng.random(valid.shape) < sigmoid(-2.0 + 0.8 * b)
        days_late = 1 + np.floor(rng.exponential(10 * np.exp(0.3 * b))).astype(int)
        early = rng.integers(0, 25, valid.shape)
        ai, qi = np.nonzero(valid)
        iss = issued[ai, qi]
        due = iss + np.timedelta64(30, "D")
        paid = np.where(late[ai, qi], due + days_late[ai, qi].astype("timedelta64[D]"),
                        np.maximum(iss, due - early[ai, qi].astype("timedelta64[D]")))
        paid = np.where(paid > self.end, np.datetime64("NaT"), paid)
        order = np.lexsort((ai, iss))
        dmy = lambda a: pl.Series(a[order]).dt.strftime("%d/%m/%Y")  # noqa: E731
        return pl.DataFrame({
            "Invoice Number": [f"INV-{k:06d}" for k in range(1, len(ai) + 1)],
            "Customer Id": self.ids[ai][order],
            "Invoice Date": dmy(iss),
            "Due Date": dmy(due),
            "Paid On": dmy(paid),
            "Amount": np.round(self.arr_year[ai, year[qi]] / 4, 2)[order],
            "Status": np.where(np.isnat(paid), "payment_due", "paid")[order],
        })

    def _surveys(self) -> pl.DataFrame:
        rng = self.rng
        c = np.arange(self.K)
        offset = np.stack([rng.integers(60, 150, (self.n, self.K)), rng.integers(240, 330, (self.n, self.K))], axis=2)
        when = self.contract_start[:, None, None] + (365 * c[None, :, None] + offset).astype("timedelta64[D]")
        answered = (when >= self.first_day[:, None, None]) & (when <= self.last_day[:, None, None]) & (rng.random(when.shape) < 0.5)
        ai, ci, oi = np.nonzero(answered)
        nps = np.clip(np.round(7.8 + 1.5 * self._year("nps")[ai, ci] + rng.normal(0, 1.6, len(ai))), 0, 10).astype(int)
        w = when[ai, ci, oi]
        order = np.lexsort((ai, w))
        return pl.DataFrame({
            "Response ID": np.arange(500001, 500001 + len(ai)),
            "Company ID": self.ids[ai][order],
            "Response Date": w[order],
            "Score": nps[order],
        })

    # -- truth.json
    def _dark_at_end(self) -> list[str]:
        cyc, pos = self._cycle(np.array([self.end]))
        dark = self._per_year("dark", cyc) & (365 - pos <= self._per_year("dark_days", cyc))
        return self.ids[dark[:, 0] & np.isnat(self.churn_date) & (self.first_day <= self.end)].tolist()

    def truth(self) -> dict:
        r = self.renewals
        churned = r["outcome"] == "churned"
        dark = r["dark"]
        return {
            "history": {"start": str(self.start), "end": str(self.end), "days": HISTORY_DAYS},
            "true_log_odds": TRUE_LOG_ODDS,
            "driver_loadings_on_health": LOADINGS,
            "year_to_year_persistence": YEAR_TO_YEAR,
            "dark_model": {**DARK, "days_before_renewal": list(DARK["days_before_renewal"])},
            "adoption_model": ADOPTION,
            "grade_model": {**GRADE, "gap_days": list(GRADE["gap_days"])},
            "renewals": r.height,
            "churned": int(churned.sum()),
            "base_rate": round(float(churned.mean()), 4),
            "outcomes": dict(sorted(r["outcome"].value_counts().iter_rows())),
            "dark_share_of_renewals": round(float(dark.mean()), 4),
            "churn_rate_dark": round(float(churned.filter(dark).mean() or 0), 4),
            "churn_rate_not_dark": round(float(churned.filter(~dark).mean() or 0), 4),
            # active accounts dark on the last day (those dark for 30+ days fail the audit's 30-day usage coverage)
            "active_accounts_dark_at_end": self._dark_at_end(),
            "effects": DESCRIPTIONS,
            "noise": {"usage_columns": ["videos_watched"], "tables": ["contacts"]},
        }
