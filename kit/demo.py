"""The demo client: a realistic, seeded, synthetic customer base with known truths.

`generate(out_dir, end)` writes exports the way a client's systems would (CRM CSV with US dates
and "$1,234.00" amounts, product usage Parquet, Zendesk-style tickets, billing in Excel, platform
exports), with client-style column names that `parameters/demo.yml` maps onto the canonical
tables. Same seed and end date, same bytes.

Known truths, so tests can check the analyses:

* Churn is driven by four latent drivers per account and contract year: usage decline, support
  trouble, late payment and low sentiment, with true log-odds weights `TRUE_DRIVERS`. Each
  driver shows up in its table months before the renewal (the signals in `DRIVER_SIGNALS`).
* `NOISE_SIGNALS` carry no churn information by construction.
* `DEFECTS` are planted data defects, each with its exact count, for the audit to find.
* `PLANTED_MAINTENANCE` are planted operational problems in the period's last month (false positives:
  its last two months).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from kit.periods import Period

SEED = 20240601
N_ACCOUNTS = 2000
HISTORY_DAYS = 730
ALPHA = -2.9  # base log-odds of churn at a renewal (about 12% a year)
TRUE_DRIVERS = {"usage": 1.2, "support": 0.9, "billing": 0.7, "sentiment": 0.6}
DRIVER_SIGNALS = {
    "usage": ["active_users_per_seat", "active_users_change_30d", "logins_per_active_user"],
    "support": ["tickets_90d", "open_high_priority_tickets", "mean_csat_90d", "days_to_resolve_90d"],
    "billing": ["late_invoices_365d", "mean_days_late_365d"],
    "sentiment": ["latest_nps", "nps_change"],
}
NOISE_SIGNALS = [
    "feature_api_calls",
    "feature_reports_exported",
    "contacts",
    "champion_present",
    "days_since_contact_activity",
]

# Planted defects: name -> exact count the audit must report.
DEFECTS = {
    "duplicate_account_ids": 4,  # account ids that appear on two rows of the accounts export
    "unknown_parent": 2,  # accounts whose parent id is no account
    "hierarchy_cycle": 2,  # two accounts that are each other's parent (one cycle of 2)
    "missing_renewal_date": 12,  # active accounts with a blank renewal date
    "missing_owner": 6,  # accounts with no CSM owner
    "negative_arr": 2,  # accounts with ARR below zero
    "arr_billing_mismatch": 9,  # CRM ARR 50% above the billed run-rate (latest invoice x 4)
    "orphan_contacts": 5,  # contacts of unknown accounts
    "orphan_tickets": 7,  # tickets of unknown accounts
    "orphan_invoices": 3,  # invoices of unknown accounts
    "duplicate_ticket_rows": 3,  # ticket rows repeated exactly (so 3 duplicate ticket ids)
    "unparseable_ticket_dates": 3,  # ticket creation dates that are not dates
    "resolved_before_created": 4,  # tickets resolved before they were created
    "nps_out_of_range": 2,  # NPS responses above 10
    "stale_usage_days": 3,  # the usage export ends this many days before the period end
}
PLANTED_MAINTENANCE = {
    "sync_failures": {"source": "Zendesk", "failures": 3},  # in the last month
    "stale_sync_source": {"source": "Amplitude", "days": 3},  # no successful sync in the last 3 days
    "csm_login_drop": {"active_share_before": 0.88, "active_share_last_month": 0.5},
    "unscored_active_accounts": 5,  # active accounts with no platform score in the last month
    # The CS platform's usage sync broke for a while: a share of the accounts read as red in the weeks
    # the maintenance check scores the last two months' renewals by (90 days before them), so false
    # positives cross the 25% line in both months and the refinement trigger fires on them.
    "false_positive_months": {"months": 2, "accounts_share": 0.3, "score_below": 58},
    # Usage cut to a fifth in the last month for the 20 busiest long-standing active accounts (active users per
    # seat over the month before): among the month's biggest drops, with usage as what moved them.
    "usage_drop": {"accounts": 20, "kept": 0.2},
}
FALSE_POSITIVE_SEED = 2026  # its own random stream: the other planted values stay as they were

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
SEGMENT_SHARE = (0.55, 0.30, 0.15)
SEATS_MEDIAN = {"SMB": 15, "Mid-Market": 60, "Enterprise": 300}
PRICE_PER_SEAT = {"SMB": 800, "Mid-Market": 900, "Enterprise": 1000}
INDUSTRIES = ("Software", "Healthcare", "Finance", "Retail", "Manufacturing", "Education", "Logistics")
SYNC_SOURCES = ("Salesforce", "Zendesk", "Amplitude", "Stripe")
FIRST = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Drew", "Robin")
LAST = ("Lee", "Patel", "Garcia", "Smith", "Chen", "Müller", "Okafor", "Silva", "Kowalski", "Nguyen", "Dubois", "Rossi")


@dataclass(frozen=True)
class Demo:
    out_dir: Path
    end: date
    files: dict[str, Path]


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def generate(out_dir: str | Path, end: date, *, seed: int = SEED, n_accounts: int = N_ACCOUNTS) -> Demo:
    """Write the demo client's exports into `out_dir`, with history up to `end` (inclusive)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    g = _Generator(np.random.default_rng(seed), end, n_accounts)
    frames = g.build()
    files = _write(out, frames)
    (out / "truth.json").write_text(
        json.dumps(
            {
                "seed": seed,
                "end": end.isoformat(),
                "accounts": n_accounts,
                "defects": DEFECTS,
                "planted_maintenance": PLANTED_MAINTENANCE,
                "true_drivers": TRUE_DRIVERS,
                "driver_signals": DRIVER_SIGNALS,
                "noise_signals": NOISE_SIGNALS,
                "defect_ids": g.defect_ids,
            },
            indent=2,
            default=str,
        )
    )
    return Demo(out, end, files)


# ---------------------------------------------------------------------------- the generator


class _Generator:
    def __init__(self, rng: np.random.Generator, end: date, n: int):
        self.rng = rng
        self.end = end
        self.start = end - timedelta(days=HISTORY_DAYS)
        self.n = n
        self.days = np.arange(np.datetime64(self.start), np.datetime64(end) + 1)  # datetime64[D]
        self.defect_ids: dict[str, list[str]] = {}

    # -- accounts and contract years
    def build(self) -> dict[str, pl.DataFrame]:
        rng, n = self.rng, self.n
        start64 = np.datetime64(self.start)
        end64 = np.datetime64(self.end)
        self.ids = np.array([f"0015g{i:07d}" for i in range(1, n + 1)])
        self.segment = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARE)
        seg_names = np.array(SEGMENTS)[self.segment]
        median = np.array([SEATS_MEDIAN[s] for s in seg_names])
        self.seats = np.maximum(3, np.round(median * rng.lognormal(0, 0.45, n))).astype(int)
        price = np.array([PRICE_PER_SEAT[s] for s in seg_names])
        arr0 = np.round(self.seats * price * rng.uniform(0.85, 1.15, n) / 100) * 100
        existing = rng.random(n) < 0.8
        created_off = np.where(
            existing, -rng.integers(1, 3 * 365, n), rng.integers(0, HISTORY_DAYS - 60, n)
        )
        self.created = start64 + created_off.astype("timedelta64[D]")
        self.contract_start = self.created + rng.integers(0, 21, n).astype("timedelta64[D]")
        max_cycles = int((end64 - self.contract_start.min()).astype(int) // 365) + 2
        self.K = max_cycles
        # latent drivers per account and contract year (cycle c ends at renewal c+1)
        self.drivers = {k: rng.normal(size=(n, max_cycles)) for k in TRUE_DRIVERS}
        z = sum(w * self.drivers[k] for k, w in TRUE_DRIVERS.items())
        self.risk = z
        churn_draw = rng.random((n, max_cycles))
        outcome_draw = rng.random((n, max_cycles))
        change_draw = rng.uniform(0, 1, (n, max_cycles))

        renewals = []
        self.churn_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        self.arr_cycle = np.zeros((n, max_cycles))
        arr = arr0.copy()
        for c in range(max_cycles):
            self.arr_cycle[:, c] = arr
            renewal = self.contract_start + np.timedelta64(365 * (c + 1), "D")
            alive = np.isnat(self.churn_date)
            in_hist = alive & (renewal > start64) & (renewal <= end64)
            p = sigmoid(ALPHA + z[:, c])
            churned = in_hist & (churn_draw[:, c] < p)
            expanded = in_hist & ~churned & (outcome_draw[:, c] < 0.22)
            contracted = in_hist & ~churned & ~expanded & (outcome_draw[:, c] < 0.30)
            factor = np.where(
                expanded, 1.1 + 0.3 * change_draw[:, c],
                np.where(contracted, 0.7 + 0.2 * change_draw[:, c], 1.0 + 0.05 * change_draw[:, c]),
            )
            new_arr = np.where(churned, 0.0, np.round(arr * factor / 100) * 100)
            for i in np.nonzero(in_hist)[0]:
                outcome = "churned" if churned[i] else "expanded" if expanded[i] else "contracted" if contracted[i] else "renewed"
                renewals.append((self.ids[i], renewal[i], outcome, arr[i], new_arr[i]))
            self.churn_date[churned] = renewal[churned]
            arr = np.where(in_hist & ~churned, new_arr, arr)  # ARR changes only at renewals in the history
        self.renewals = renewals
        self.last_day = np.where(np.isnat(self.churn_date), end64, self.churn_date - np.timedelta64(1, "D"))
        self.first_day = np.maximum(self.created, start64)
        self.arr_now = arr

        frames = {
            "usage": self._usage(),
            "tickets": self._tickets(),
            "invoices": self._invoices(),
            "surveys": self._surveys(),
            "contacts": self._contacts(),
            "renewals": self._renewals_frame(),
        }
        team, owners = self._team()
        frames["team"] = team
        frames["accounts"] = self._accounts(owners)
        frames["health_scores"] = self._health_scores()
        frames["ctas"] = self._ctas(frames["health_scores"], owners)
        frames["platform_logins"] = self._logins(team)
        frames["sync_log"] = self._sync_log()
        self._plant_defects(frames)
        frames["usage"] = self._plant_usage_drop(frames["usage"])
        return frames

    def _cycle_of(self, day: np.ndarray) -> np.ndarray:
        """Contract-year index for each account (rows) and day (columns)."""
        since = (day[None, :] - self.contract_start[:, None]).astype(int)
        return np.clip(since // 365, 0, self.K - 1), np.mod(np.maximum(since, 0), 365)

    def _alive(self, day: np.ndarray) -> np.ndarray:
        return (day[None, :] >= self.first_day[:, None]) & (day[None, :] <= self.last_day[:, None])

    # -- product usage (daily)
    def _usage(self) -> pl.DataFrame:
        rng = self.rng
        days = self.days
        cyc, pos = self._cycle_of(days)
        u = np.take_along_axis(self.drivers["usage"], cyc, axis=1)
        drift = np.where(pos >= 65, -0.25 * u / 210.0, 0.0)
        level = np.cumsum(drift, axis=1)
        adoption = rng.beta(6, 4, self.n)
        weekday = ((days.astype("datetime64[D]").view("int64") - 4) % 7)  # 0 = Monday
        wfactor = np.where(weekday >= 5, 0.35, 1.0)
        p = np.clip(adoption[:, None] * np.exp(level) * wfactor[None, :], 0.005, 0.98)
        alive = self._alive(days)
        stale_cut = days <= np.datetime64(self.end) - np.timedelta64(DEFECTS["stale_usage_days"], "D")
        keep = alive & stale_cut[None, :]
        active = rng.binomial(np.broadcast_to(self.seats[:, None], p.shape), p)
        logins = rng.poisson(active * 2.2 * np.exp(-0.15 * u))
        api_rate = rng.lognormal(np.log(5), 0.6, self.n)
        api_calls = rng.poisson(self.seats[:, None] * api_rate[:, None] * wfactor[None, :])
        reports = rng.poisson(np.broadcast_to(rng.lognormal(0, 0.5, self.n)[:, None], p.shape))
        ai, di = np.nonzero(keep)
        return pl.DataFrame(
            {
                "acct_id": self.ids[ai],
                "day": days[di],
                "dau": active[ai, di].astype(np.int32),
                "sessions": logins[ai, di].astype(np.int32),
                "api_calls": api_calls[ai, di].astype(np.int32),
                "reports_exported": reports[ai, di].astype(np.int32),
            }
        )

    # -- support tickets
    def _tickets(self) -> pl.DataFrame:
        rng = self.rng
        days = self.days
        cyc, _ = self._cycle_of(days)
        s = np.take_along_axis(self.drivers["support"], cyc, axis=1)
        lam = (0.004 + 0.00015 * self.seats[:, None]) * np.exp(0.6 * s) * self._alive(days)
        counts = rng.poisson(lam)
        ai, di = np.nonzero(counts)
        reps = counts[ai, di]
        ai, di = np.repeat(ai, reps), np.repeat(di, reps)
        sv = s[ai, di]
        m = len(ai)
        created = days[di].astype("datetime64[s]") + rng.integers(8 * 3600, 19 * 3600, m).astype("timedelta64[s]")
        high = rng.random(m) < sigmoid(-1.8 + 0.9 * sv)
        urgent = high & (rng.random(m) < 0.3)
        low = ~high & (rng.random(m) < 0.3)
        priority = np.where(urgent, "P1 - Urgent", np.where(high, "P2 - High", np.where(low, "P4 - Low", "P3 - Normal")))
        res_days = rng.exponential(1.5 * np.exp(0.5 * sv) * np.where(high, 2.0, 1.0))
        resolved = created + (res_days * 86400).astype("timedelta64[s]")
        never = rng.random(m) < 0.02 + 0.03 * sigmoid(sv)
        end_s = np.datetime64(self.end) + np.timedelta64(1, "D")
        open_ = never | (resolved >= end_s)
        csat = np.clip(np.round(4.3 - 0.5 * sv + rng.normal(0, 0.8, m)), 1, 5)
        has_csat = ~open_ & (rng.random(m) < 0.55)
        fmt = lambda a: np.datetime_as_string(a, unit="s").astype(object) + "Z"  # noqa: E731
        return pl.DataFrame(
            {
                "Ticket ID": [f"ZD-{100001 + i}" for i in range(m)],
                "Organization External ID": self.ids[ai],
                "Created at": fmt(created),
                "Solved at": pl.Series(np.where(open_, None, fmt(resolved)).tolist(), dtype=pl.String),
                "Priority": priority,
                "Satisfaction Score": np.where(has_csat, csat, np.nan),
            },
            strict=False,
        ).with_columns(pl.col("Satisfaction Score").fill_nan(None))

    # -- invoices (quarterly, billed at the contract year's ARR)
    def _invoices(self) -> pl.DataFrame:
        rng = self.rng
        start64, end64 = np.datetime64(self.start) - np.timedelta64(365, "D"), np.datetime64(self.end)
        n_q = self.K * 4
        q = np.arange(n_q)
        issued = self.contract_start[:, None] + np.round(q * 91.25).astype(int).astype("timedelta64[D]")[None, :]
        cyc = np.minimum(q // 4, self.K - 1)
        valid = (issued >= np.maximum(self.contract_start, start64)[:, None]) & (issued <= self.last_day[:, None]) & (issued <= end64)
        b = self.drivers["billing"][:, cyc]
        late = rng.random(valid.shape) < sigmoid(-2.2 + 1.1 * b)
        days_late = np.ceil(rng.exponential(12 * np.exp(0.3 * b))) + 1
        early = rng.integers(0, 26, valid.shape)
        ai, qi = np.nonzero(valid)
        iss = issued[ai, qi]
        due = iss + np.timedelta64(30, "D")
        paid = np.where(late[ai, qi], due + days_late[ai, qi].astype(int).astype("timedelta64[D]"), np.maximum(iss, due - early[ai, qi].astype("timedelta64[D]")))
        paid = np.where(paid > end64, np.datetime64("NaT"), paid)
        amount = self.arr_cycle[ai, cyc[qi]] / 4
        return pl.DataFrame(
            {
                "Invoice Number": [f"INV-{i:06d}" for i in range(1, len(ai) + 1)],
                "Customer ID": self.ids[ai],
                "Invoice Date": iss.astype("datetime64[D]"),
                "Due Date": due.astype("datetime64[D]"),
                "Paid Date": paid.astype("datetime64[D]"),
                "Amount Due": amount,
            }
        ).sort("Invoice Date")

    # -- NPS surveys (twice per contract year)
    def _surveys(self) -> pl.DataFrame:
        rng = self.rng
        offsets = np.array([90, 270])
        c = np.arange(self.K)
        when = self.contract_start[:, None, None] + (365 * c[None, :, None] + offsets[None, None, :]).astype("timedelta64[D]")
        sv = np.broadcast_to(self.drivers["sentiment"][:, :, None], when.shape)
        ok = (when >= self.first_day[:, None, None]) & (when <= self.last_day[:, None, None]) & (rng.random(when.shape) < 0.5)
        ai, ci, oi = np.nonzero(ok)
        nps = np.clip(np.round(8.2 - 1.4 * sv[ai, ci, oi] + rng.normal(0, 1.5, len(ai))), 0, 10).astype(int)
        return pl.DataFrame(
            {"Account": self.ids[ai], "Survey Date": when[ai, ci, oi], "Score": nps}
        ).sort("Survey Date")

    # -- contacts (relationship: no churn information by construction)
    def _contacts(self) -> pl.DataFrame:
        rng = self.rng
        k = np.minimum(1 + rng.poisson(1 + self.seats / 40), 25)
        ai = np.repeat(np.arange(self.n), k)
        m = len(ai)
        roles = rng.choice(["Champion", "Admin", "User", "Executive Sponsor", "Billing"], m, p=[0.15, 0.2, 0.45, 0.1, 0.1])
        span = (self.last_day - self.created).astype(int)
        last = self.created[ai] + (rng.random(m) * np.maximum(span[ai], 1)).astype(int).astype("timedelta64[D]")
        first = np.array(FIRST)[rng.integers(0, len(FIRST), m)]
        lastn = np.array(LAST)[rng.integers(0, len(LAST), m)]
        emails = [f"{f.lower()}.{l.lower().replace('ü', 'u')}{i}@customer{a}.example" for i, (f, l, a) in enumerate(zip(first, lastn, ai))]
        return pl.DataFrame(
            {
                "Contact ID": [f"0035g{i:07d}" for i in range(1, m + 1)],
                "Account ID": self.ids[ai],
                "Email": emails,
                "Title/Role": roles,
                "Last Activity": last.astype("datetime64[D]"),
            }
        )

    def _renewals_frame(self) -> pl.DataFrame:
        labels = {"renewed": "Closed Won - Renewal", "expanded": "Closed Won - Expansion", "contracted": "Closed Won - Downsell", "churned": "Closed Lost"}
        ids, dates, outcomes, before, after = zip(*self.renewals) if self.renewals else ([], [], [], [], [])
        return pl.DataFrame(
            {
                "Account ID": list(ids),
                "Close Date": np.array(dates, dtype="datetime64[D]"),
                "Stage": [labels[o] for o in outcomes],
                "Prior ARR": np.array(before, dtype=float),
                "New ARR": np.array(after, dtype=float),
            }
        ).sort("Close Date")

    # -- the CS team and the CS platform's exports
    def _team(self):
        rng = self.rng
        people = []
        for i in range(24):
            people.append((f"{FIRST[i % 12]} {LAST[(i * 5 + i // 12) % 12]}", "CSM", i != 23))  # 24 distinct names
        people += [("Robin Ops", "CS Ops", True), ("Drew Admin", "Admin", True), ("Casey Lead", "CS Manager", True)]
        names = [p[0] for p in people]
        emails = [f"{n.lower().replace(' ', '.').replace('ü', 'u')}@vendor.example" for n in names]
        team = pl.DataFrame(
            {"User Email": emails, "Role": [p[1] for p in people], "Is Active": ["Yes" if p[2] else "No" for p in people]}
        )
        csm_idx = np.array([i for i, p in enumerate(people) if p[1] == "CSM" and p[2]])
        owner_idx = csm_idx[rng.integers(0, len(csm_idx), self.n)]
        owners = np.array(names)[owner_idx]
        self.team_people = list(zip(names, emails, [p[1] for p in people], [p[2] for p in people]))
        self.owner_email = np.array(emails)[owner_idx]
        return team, owners

    def _accounts(self, owners) -> pl.DataFrame:
        rng = self.rng
        end64 = np.datetime64(self.end)
        renewal = np.full(self.n, np.datetime64("NaT"), dtype="datetime64[D]")
        for i in range(self.n):
            if not np.isnat(self.churn_date[i]):
                renewal[i] = self.churn_date[i]
            else:
                k = int((end64 - self.contract_start[i]).astype(int) // 365) + 1
                renewal[i] = self.contract_start[i] + np.timedelta64(365 * k, "D")
        parent = np.full(self.n, None, dtype=object)
        ent = np.nonzero(self.segment == 2)[0]
        child = np.nonzero((self.segment != 2) & (rng.random(self.n) < 0.06))[0]
        parent[child] = self.ids[rng.choice(ent, len(child))]
        names = [f"{w1} {w2} {suffix}" for w1, w2, suffix in zip(
            rng.choice(["Blue", "North", "Bright", "Silver", "Rapid", "Summit", "Clear", "Prime", "Urban", "Green"], self.n),
            rng.choice(["River", "Peak", "Harbor", "Field", "Stone", "Wave", "Bridge", "Forge", "Grove", "Point"], self.n),
            rng.choice(["Inc", "LLC", "GmbH", "Ltd", "Group", "Co"], self.n),
        )]
        self.account_names = np.array(names)
        self.renewal_now = renewal
        self.parent = parent
        return pl.DataFrame(
            {
                "Account ID": self.ids,
                "Account Name": names,
                "Parent Account ID": parent,
                "Segment": np.array(SEGMENTS)[self.segment],
                "Account Owner": owners,
                "ARR": self.arr_now,
                "Seats": self.seats,
                "Created Date": self.created,
                "Contract Start Date": self.contract_start,
                "Renewal Date": renewal,
                "Industry": rng.choice(INDUSTRIES, self.n),
            },
            strict=False,
        )

    def _health_scores(self) -> pl.DataFrame:
        rng = self.rng
        end64 = np.datetime64(self.end)
        # weekly Monday snapshots over the last year
        first_monday = end64 - np.timedelta64(364, "D")
        first_monday += np.timedelta64(int((0 - ((first_monday.astype("int64") - 4) % 7)) % 7), "D")
        weeks = np.arange(first_monday, end64 + 1, np.timedelta64(7, "D"))
        cyc, _ = self._cycle_of(weeks)
        z = np.take_along_axis(self.risk, cyc, axis=1) / np.sqrt(sum(w * w for w in TRUE_DRIVERS.values()))
        score = np.clip(np.round(72 - 9 * z + rng.normal(0, 9, z.shape)), 0, 100)
        alive = self._alive(weeks)
        # planted: active accounts with no score in the last month
        active_now = np.nonzero(np.isnat(self.churn_date) & (self.created < end64 - np.timedelta64(90, "D")))[0]
        unscored = rng.choice(active_now, PLANTED_MAINTENANCE["unscored_active_accounts"], replace=False)
        self.defect_ids["unscored_active_accounts"] = sorted(self.ids[unscored].tolist())
        month_start = np.datetime64(self.end.replace(day=1))
        alive[np.ix_(unscored, np.nonzero(weeks >= month_start)[0])] = False
        score = self._plant_false_positives(score, weeks, month_start)
        ai, wi = np.nonzero(alive)
        return pl.DataFrame({"Company ID": self.ids[ai], "Snapshot Date": weeks[wi], "Overall Score": score[ai, wi]})

    def _plant_false_positives(self, score: np.ndarray, weeks: np.ndarray, month_start: np.datetime64) -> np.ndarray:
        """A share of the accounts scored red in the snapshots the last months' renewals are judged by."""
        plant = PLANTED_MAINTENANCE["false_positive_months"]
        lead = np.timedelta64(90, "D")  # parameters/demo.yml lead_time_days
        first = np.datetime64(month_start, "M") - (plant["months"] - 1)  # the first planted month
        start = np.datetime64(first, "D") - lead - np.timedelta64(6, "D")  # weekly snapshots: the one its first renewal reads
        end = np.datetime64(self.end) - lead
        rng = np.random.default_rng(FALSE_POSITIVE_SEED)
        hit = rng.random(self.n) < plant["accounts_share"]
        in_window = (weeks >= start) & (weeks <= end)
        low = rng.uniform(35, plant["score_below"], score.shape)
        mask = hit[:, None] & in_window[None, :]
        self.planted_false_positive_window = (str(start), str(end))
        return np.where(mask, np.minimum(score, np.round(low)), score)

    def _ctas(self, scores: pl.DataFrame, owners) -> pl.DataFrame:
        rng = self.rng
        risky = (
            scores.filter(pl.col("Overall Score") < 60)
            .sort("Company ID", "Snapshot Date")
            .with_columns(pl.col("Snapshot Date").dt.truncate("1mo").alias("m"))
            .unique(["Company ID", "m"], keep="first", maintain_order=True)
        )
        m = risky.height
        created = risky["Snapshot Date"].to_numpy()
        due = created + np.timedelta64(14, "D")
        r = rng.random(m)
        close_days = np.where(r < 0.80, rng.integers(1, 14, m), np.where(r < 0.92, rng.integers(15, 40, m), 10_000))
        closed = created + close_days.astype("timedelta64[D]")
        end64 = np.datetime64(self.end)
        is_open = closed > end64
        owner_by_id = dict(zip(self.ids, self.owner_email))
        return pl.DataFrame(
            {
                "CTA ID": [f"CTA-{i:06d}" for i in range(1, m + 1)],
                "Company ID": risky["Company ID"],
                "Owner": [owner_by_id[a] for a in risky["Company ID"]],
                "Type": "Risk",
                "Created Date": created,
                "Due Date": due,
                "Closed Date": np.where(is_open, np.datetime64("NaT"), closed),
                "Status": np.where(is_open, "Open", np.where(rng.random(m) < 0.85, "Closed - Success", "Closed - No Response")),
            }
        )

    def _logins(self, team: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng
        end64 = np.datetime64(self.end)
        days = np.arange(end64 - np.timedelta64(364, "D"), end64 + 1)
        business = ((days.astype("int64") - 4) % 7) < 5
        days = days[business]
        month_start = np.datetime64(self.end.replace(day=1))
        rows_u, rows_d = [], []
        for name, email, role, active in self.team_people:
            if not active:
                continue
            p = np.where(days >= month_start, PLANTED_MAINTENANCE["csm_login_drop"]["active_share_last_month"], PLANTED_MAINTENANCE["csm_login_drop"]["active_share_before"])
            on = rng.random(len(days)) < p
            times = rng.integers(1, 4, on.sum())
            rows_u += [email] * int(times.sum())
            rows_d += list(np.repeat(days[on], times))
        return pl.DataFrame({"User Email": rows_u, "Login Date": np.array(rows_d, dtype="datetime64[D]")}).sort("Login Date")

    def _sync_log(self) -> pl.DataFrame:
        rng = self.rng
        end64 = np.datetime64(self.end).astype("datetime64[s]")
        starts = np.arange(end64 - np.timedelta64(119, "D"), end64 + np.timedelta64(1, "D"), np.timedelta64(6, "h"))
        month_start = np.datetime64(self.end.replace(day=1)).astype("datetime64[s]")
        frames = []
        stale = PLANTED_MAINTENANCE["stale_sync_source"]
        failing = PLANTED_MAINTENANCE["sync_failures"]
        for src in SYNC_SOURCES:
            t = starts
            if src == stale["source"]:
                t = t[t < end64 + np.timedelta64(1, "D") - np.timedelta64(stale["days"], "D")]
            fail = rng.random(len(t)) < 0.001
            fail &= t < month_start  # random failures only before the period's month: the plant is exact
            if src == failing["source"]:
                in_month = np.nonzero(t >= month_start + np.timedelta64(10, "D"))[0][: failing["failures"] * 4 : 4]
                fail[in_month] = True
            dur = rng.integers(30, 600, len(t)).astype("timedelta64[s]")
            frames.append(
                pl.DataFrame(
                    {
                        "Connector": src,
                        "Started": t.astype("datetime64[ms]"),
                        "Finished": (t + dur).astype("datetime64[ms]"),
                        "Result": np.where(fail, "Error", "OK"),
                        "Records": np.where(fail, 0, rng.integers(10, 5000, len(t))),
                        "Message": pl.Series(["401 Unauthorized: OAuth token expired" if x else None for x in fail], dtype=pl.String),
                    },
                    strict=False,
                )
            )
        return pl.concat(frames).sort("Started")

    # -- planted data defects (exact counts in DEFECTS)
    def _plant_usage_drop(self, usage: pl.DataFrame) -> pl.DataFrame:
        """Usage cut to `kept` of itself from the last month's first day for the busiest accounts that were active all
        year and carry no planted defect; chosen without a random draw, so every other planted value stays as it was."""
        plant = PLANTED_MAINTENANCE["usage_drop"]
        month_start = self.end.replace(day=1)
        defective = {a for ids in self.defect_ids.values() for a in ids}
        steady = set(self.ids[np.isnat(self.churn_date) & (self.created < np.datetime64(self.end) - np.timedelta64(365, "D"))])
        seats = pl.DataFrame({"acct_id": self.ids, "seats": self.seats})
        busiest = (usage.filter(pl.col("day").is_between(month_start - timedelta(days=30), month_start, closed="left"))
                   .group_by("acct_id").agg(pl.col("dau").mean()).join(seats, on="acct_id")
                   .filter(pl.col("acct_id").is_in(list(steady - defective)))
                   .sort([pl.col("dau") / pl.col("seats"), "acct_id"], descending=[True, False]).head(plant["accounts"]))
        chosen = sorted(busiest["acct_id"].to_list())
        self.defect_ids["usage_drop"] = chosen
        cut = pl.col("acct_id").is_in(chosen) & (pl.col("day") >= month_start)
        return usage.with_columns(pl.when(cut).then((pl.col(c) * plant["kept"]).round().cast(pl.Int32)).otherwise(pl.col(c)).alias(c)
                                  for c in ("dau", "sessions", "api_calls", "reports_exported"))

    def _plant_defects(self, f: dict[str, pl.DataFrame]) -> None:
        rng = self.rng
        acc = f["accounts"]
        alive = np.isnat(self.churn_date)
        has_child = np.isin(self.ids, [p for p in self.parent if p])
        clean = np.nonzero(alive & ~has_child & np.array([p is None for p in self.parent]))[0]
        picks = rng.permutation(clean)
        take = iter(np.split(picks, np.cumsum([DEFECTS[k] for k in (
            "duplicate_account_ids", "unknown_parent", "hierarchy_cycle", "missing_renewal_date",
            "missing_owner", "negative_arr", "arr_billing_mismatch")]))[:-1])
        sets = dict(zip(("duplicate_account_ids", "unknown_parent", "hierarchy_cycle", "missing_renewal_date",
                         "missing_owner", "negative_arr", "arr_billing_mismatch"), take))
        ids = lambda k: self.ids[sets[k]].tolist()  # noqa: E731
        for k in sets:
            self.defect_ids[k] = sorted(ids(k))
        parent = acc["Parent Account ID"].to_list()
        arr = acc["ARR"].to_numpy().copy()
        renewal = acc["Renewal Date"].to_list()
        owner = acc["Account Owner"].to_list()
        for j, i in enumerate(sets["unknown_parent"]):
            parent[i] = f"0015gX{j:06d}"
        a, b = sets["hierarchy_cycle"]
        parent[a], parent[b] = self.ids[b], self.ids[a]
        for i in sets["missing_renewal_date"]:
            renewal[i] = None
        for i in sets["missing_owner"]:
            owner[i] = None
        for i in sets["negative_arr"]:
            arr[i] = -arr[i]
        for i in sets["arr_billing_mismatch"]:
            arr[i] = arr[i] * 1.5
        acc = acc.with_columns(
            pl.Series("Parent Account ID", parent, dtype=pl.String),
            pl.Series("ARR", arr),
            pl.Series("Renewal Date", renewal, dtype=pl.Date),
            pl.Series("Account Owner", owner, dtype=pl.String),
        )
        dup = acc.filter(pl.col("Account ID").is_in(ids("duplicate_account_ids"))).with_columns(
            (pl.col("Account Name") + " (old)").alias("Account Name")
        )
        f["accounts"] = pl.concat([acc, dup])

        def orphans(frame: pl.DataFrame, col: str, k: str, id_col: str) -> pl.DataFrame:
            rows = frame.sample(DEFECTS[k], seed=int(rng.integers(1 << 31)))
            new_ids = [f"0015gZ{j:06d}" for j in range(DEFECTS[k])]
            rows = rows.with_columns(pl.Series(col, new_ids), (pl.col(id_col) + "-X").alias(id_col))
            self.defect_ids[k] = rows[id_col].to_list()
            return pl.concat([frame, rows])

        f["contacts"] = orphans(f["contacts"], "Account ID", "orphan_contacts", "Contact ID")
        f["invoices"] = orphans(f["invoices"], "Customer ID", "orphan_invoices", "Invoice Number")
        t = orphans(f["tickets"], "Organization External ID", "orphan_tickets", "Ticket ID")
        # tickets of known accounts only for the remaining plants
        known = t.filter(~pl.col("Ticket ID").str.ends_with("-X"))
        resolved = known.filter(pl.col("Solved at").is_not_null()).sample(
            DEFECTS["resolved_before_created"] + DEFECTS["unparseable_ticket_dates"] + DEFECTS["duplicate_ticket_rows"],
            seed=int(rng.integers(1 << 31)),
        )["Ticket ID"].to_list()
        rbc = resolved[: DEFECTS["resolved_before_created"]]
        bad = resolved[DEFECTS["resolved_before_created"] : DEFECTS["resolved_before_created"] + DEFECTS["unparseable_ticket_dates"]]
        dups = resolved[-DEFECTS["duplicate_ticket_rows"] :]
        self.defect_ids["resolved_before_created"] = sorted(rbc)
        self.defect_ids["unparseable_ticket_dates"] = sorted(bad)
        self.defect_ids["duplicate_ticket_rows"] = sorted(dups)
        t = t.with_columns(
            pl.when(pl.col("Ticket ID").is_in(rbc))
            .then(
                (pl.col("Created at").str.strptime(pl.Datetime, "%Y-%m-%dT%H:%M:%SZ") - pl.duration(days=2))
                .dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            )
            .otherwise(pl.col("Solved at"))
            .alias("Solved at"),
            pl.when(pl.col("Ticket ID").is_in(bad)).then(pl.lit("31/02/2025 9am")).otherwise(pl.col("Created at")).alias("Created at"),
        )
        t = pl.concat([t, t.filter(pl.col("Ticket ID").is_in(dups))])
        f["tickets"] = t
        s = f["surveys"]
        idx = rng.choice(s.height, DEFECTS["nps_out_of_range"], replace=False)
        score = s["Score"].to_numpy().copy()
        score[idx] = 11 + np.arange(len(idx))
        self.defect_ids["nps_out_of_range"] = sorted(s["Account"].gather(idx).to_list())
        f["surveys"] = s.with_columns(pl.Series("Score", score))


# ---------------------------------------------------------------------------- writing

FILES = {
    "accounts": "crm/accounts.csv",
    "contacts": "crm/contacts.csv",
    "renewals": "crm/renewal_opportunities.csv",
    "usage": "product/daily_usage.parquet",
    "tickets": "support/zendesk_tickets.csv",
    "invoices": "billing/invoices.xlsx",
    "surveys": "surveys/nps_responses.csv",
    "health_scores": "platform/health_score_history.csv",
    "ctas": "platform/ctas.csv",
    "sync_log": "platform/sync_log.csv",
    "platform_logins": "platform/user_logins.csv",
    "team": "platform/team.csv",
}


def _write(out: Path, frames: dict[str, pl.DataFrame]) -> dict[str, Path]:
    written = {}
    for name, rel in FILES.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        df = frames[name]
        if name == "accounts":  # CRM export: US dates, currency strings
            df = df.with_columns(
                *[pl.col(c).dt.strftime("%m/%d/%Y") for c in ("Created Date", "Contract Start Date", "Renewal Date")],
                pl.col("ARR").map_elements(lambda v: f"-${-v:,.2f}" if v < 0 else f"${v:,.2f}", return_dtype=pl.String),
            )
        if path.suffix == ".csv":
            df.write_csv(path)
        elif path.suffix == ".parquet":
            df.write_parquet(path)
        elif path.suffix == ".xlsx":
            df.write_excel(path, worksheet="Invoices", autofit=False)
        written[name] = path
    return written


if __name__ == "__main__":  # pragma: no cover
    import sys

    d = generate(sys.argv[1] if len(sys.argv) > 1 else "data/demo", date.fromisoformat(sys.argv[2]) if len(sys.argv) > 2 else date(2026, 10, 31))
    print(d)


# ---------------------------------------------------------------------------- what `python -m kit demo` runs

BACKFILL = 5  # months of maintenance checks before the demo's latest month


def engagement(latest: Period, only=None) -> list:
    """What `demo` runs (kit.run.months.Month each): the maintenance check for the BACKFILL months before `latest`
    (with the weights in a month that closes a quarter, so its recalibration check has its input), then `latest`
    in full (or `only`): every trend has six points and the refinement trigger can fire. The first month also runs
    the back-test, the go-live design: its card scores the accounts of the months after it, whose forecasts the
    latest month sets against what happened."""
    from kit.run.months import Month

    months = latest.previous(BACKFILL).until(latest.previous())

    def runs(p: Period) -> tuple[str, ...]:
        if p == months[0]:
            return ("weights", "backtest", "maintenance")  # the go-live design
        return ("weights", "maintenance") if p.closes_quarter else ("maintenance",)

    before = [Month(p, runs(p)) for p in months]
    return [*before, Month(latest, tuple(only) if only else None)]


def data_dir(p) -> Path:
    """The folder that holds every demo source file (their common parent)."""
    import os

    paths = [str(p.resolve(s.path)) for s in p.sources.values() if s.path]
    return Path(os.path.commonpath(paths))
