"""Candidate health signals, built time-honestly at any set of (account, as-of date) points.

Every signal at a point (account, as_of) is computed ONLY from records dated strictly before
`as_of` (a record dated on the as-of day itself is not yet known). The windows are counted back
from the as-of date: "last 30 days" is [as_of - 30 days, as_of), i.e. the 30 calendar days
before it.

How each table's records are dated (what "strictly before as_of" is applied to):

* usage: the usage day;
* tickets: the creation day; a CSAT rating and a resolution time are dated by the day the ticket
  was solved (a rating does not exist before the ticket is solved);
* invoices: the issue day (nothing is known of an invoice before it is issued); an invoice is
  "late" at the as-of date when it was paid after its due date, or is still unpaid past its due
  date at the as-of date (that is known on the as-of date even when the payment came later);
* surveys: the response day;
* contacts: the table is a snapshot without creation dates, so a contact counts only through
  its latest activity: a contact whose latest activity is dated before the as-of date is known
  to exist then; a contact whose latest activity is later is ignored (we cannot tell whether it
  existed). This keeps the relationship signals time-honest but biases them against long-lived
  accounts (their contacts' latest activity tends to be recent), so read them with care;
* accounts: created_at for tenure; ARR at the as-of date is the ARR after the latest renewal
  before it (renewals table), else the CRM's current ARR (a snapshot: the best available).

An export covers its table from its first record on. A count over a window that begins before
that day (tickets in the 90 days, late invoices in the 365 days, open urgent tickets) would count
only the part the export holds: too low, and lowest for the earliest renewals, which then look
healthy to every fit. So such a count is null (unknown) unless the account was created on or after
the export's first record (then the export holds its whole life). See `COUNTED_SINCE_EXPORT`.

Implementation: per table, daily cumulative sums per account, looked up at the window edges with
backward as-of joins (no Python loop per point), so 200,000 points over 2 years of daily usage
for thousands of accounts take seconds. Usage is read lazily.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl

from kit.analyses import catalog
from kit.io import schema
from kit.errors import KitError
from kit.io.load import ClientData

USAGE_WINDOW = 30  # days: usage level, logins per active user, features
TICKET_WINDOW = 90  # days: ticket count, CSAT, days to resolve
BILLING_WINDOW = 365  # days: late invoices, days late
NPS_MAX_AGE = 365  # days: latest NPS older than this is ignored
HIGH_PRIORITIES = ("high", "urgent")
# counts that an export starting inside their window would understate: signal -> (table, window days)
COUNTED_SINCE_EXPORT = {
    "tickets_90d": ("tickets", TICKET_WINDOW),
    # open urgent tickets: null in the export's first 90 days; one opened before the export and still open is
    # not in it (most are solved within 90 days), so this count can still be short for the oldest accounts
    "open_high_priority_tickets": ("tickets", TICKET_WINDOW),
    "late_invoices_365d": ("invoices", BILLING_WINDOW),
}
NOT_COVERED = "null when the window begins before the export's first {what}, unless the account was created after it"
NPS_RANGE = (0.0, 10.0)

DEFINITIONS: dict[str, str] = {
    "active_users_per_seat": "mean daily active users over the 30 days before the as-of date, per licensed seat "
    "(days with no usage record count as zero once the account has any usage; null before its first usage record "
    "or without a seat count)",
    "logins_per_active_user": "logins / active-user days over the 30 days before the as-of date (null when no active users)",
    "active_users_change_30d": "relative change in mean daily active users: the 30 days before the as-of date vs the "
    "30 days before those ((last - previous) / previous; null when the previous window has no active users)",
    "tickets_90d": "support tickets created in the 90 days before the as-of date (0 when none; "
    + NOT_COVERED.format(what="ticket") + ")",
    "open_high_priority_tickets": "high or urgent tickets created before the as-of date and not solved before it ("
    + NOT_COVERED.format(what="ticket").replace("the window begins", "the 90 days before the as-of date begin") + ")",
    "mean_csat_90d": "mean CSAT of tickets solved in the 90 days before the as-of date (null when none was rated)",
    "days_to_resolve_90d": "mean days from creation to resolution of tickets solved in the 90 days before the as-of date",
    "late_invoices_365d": "invoices paid late in the 365 days before the as-of date, plus invoices overdue and unpaid "
    "at the as-of date (null without any invoice issued before it; " + NOT_COVERED.format(what="invoice") + ")",
    "mean_days_late_365d": "mean days late over the invoices paid in the 365 days before the as-of date (0 when on "
    "time) and the invoices overdue at the as-of date (days overdue so far)",
    "latest_nps": "the latest NPS response (0-10) in the 365 days before the as-of date; values outside 0-10 are ignored",
    "nps_change": "the latest NPS response minus the one before it (both before the as-of date)",
    "contacts": "contacts whose latest activity is dated before the as-of date (the snapshot has no creation dates)",
    "champion_present": "1 when one of those contacts has a role containing 'champion', else 0",
    "days_since_contact_activity": "days from the latest contact activity before the as-of date to the as-of date",
    "tenure_days": "days from the account's creation to the as-of date",
    "arr": "ARR at the as-of date: ARR after the latest renewal before it, else the CRM's current ARR",
}
FEATURE_DEFINITION = "mean daily {col} over the 30 days before the as-of date (days without a record count as zero)"

_USAGE_CANONICAL = set(schema.TABLES["usage"].column_names) | set(schema.USAGE_EVENTS.column_names) | {"_row"}


# ---------------------------------------------------------------------------- what can be built


def _columns(data: ClientData, table: str) -> set[str]:
    return set(data.lazy(table).collect_schema().names()) if data.has(table) else set()


def usage_features(data: ClientData) -> list[str]:
    """Extra numeric usage columns (each becomes a signal named feature_<column>)."""
    if not data.has("usage"):
        return []
    sch = data.lazy("usage").collect_schema()
    return [c for c, t in sch.items() if c not in _USAGE_CANONICAL and t.is_numeric()]


def requirements(data: ClientData) -> dict[str, str | None]:
    """Every candidate signal -> None when it can be built, else why not (for the report)."""
    acc, use, tic = _columns(data, "accounts"), _columns(data, "usage"), _columns(data, "tickets")
    inv, sur, con = _columns(data, "invoices"), _columns(data, "surveys"), _columns(data, "contacts")

    def need(table: str, cols: set[str], required: tuple[str, ...]) -> str | None:
        if not data.has(table):
            return f"table {table} not available"
        missing = [c for c in required if c not in cols]
        return f"{table} has no {', '.join(missing)} column" if missing else None

    out: dict[str, str | None] = {
        "active_users_per_seat": need("usage", use, ("active_users",)) or need("accounts", acc, ("seats",)),
        "logins_per_active_user": need("usage", use, ("active_users", "logins")),
        "active_users_change_30d": need("usage", use, ("active_users",)),
        "tickets_90d": need("tickets", tic, ()),
        "open_high_priority_tickets": need("tickets", tic, ("priority",)),
        "mean_csat_90d": need("tickets", tic, ("csat", "resolved_at")),
        "days_to_resolve_90d": need("tickets", tic, ("resolved_at",)),
        "late_invoices_365d": need("invoices", inv, ("due_at", "paid_at")),
        "mean_days_late_365d": need("invoices", inv, ("due_at", "paid_at")),
        "latest_nps": need("surveys", sur, ()),
        "nps_change": need("surveys", sur, ()),
        "contacts": need("contacts", con, ("last_activity_at",)),
        "champion_present": need("contacts", con, ("last_activity_at", "role")),
        "days_since_contact_activity": need("contacts", con, ("last_activity_at",)),
        "tenure_days": need("accounts", acc, ("created_at",)),
        "arr": None if ("arr" in acc or data.has("renewals")) else "accounts has no arr column and no renewals table",
    }
    for f in usage_features(data):
        out[catalog.FEATURE_PREFIX + f] = None
    return out


def available(data: ClientData) -> list[str]:
    """Candidate signal names buildable from the tables present (catalog order, then usage features)."""
    return [name for name, why in requirements(data).items() if why is None]


def component_of(name: str) -> str:
    """Default component of a signal (usage features belong to usage)."""
    if name in catalog.SIGNALS:
        return catalog.SIGNALS[name].component
    return "usage" if name.startswith(catalog.FEATURE_PREFIX) else "account"


def direction_of(name: str) -> int:
    """+1 when higher is healthier, -1 when higher is riskier (usage features: +1, more use is healthier)."""
    return catalog.SIGNALS[name].direction if name in catalog.SIGNALS else +1


def definition_of(name: str) -> str:
    if name.startswith(catalog.FEATURE_PREFIX):
        return FEATURE_DEFINITION.format(col=name.removeprefix(catalog.FEATURE_PREFIX).replace("_", " "))
    return DEFINITIONS.get(name, catalog.SIGNALS[name].description if name in catalog.SIGNALS else "")


# ---------------------------------------------------------------------------- renewal points


def renewal_points(data: ClientData, lead_time_days: int, contraction_as_churn: float = 0.0, until: date | None = None) -> pl.DataFrame:
    """One row per renewal (renewal_date <= until): the point `lead_time_days` before it and its outcome.

    churned is 1 for churned, `contraction_as_churn` for contracted, 0 for renewed or expanded.
    Duplicate (account, renewal date) rows are counted once; rows without a date or outcome are dropped.
    """
    cols = ["account_id", "renewal_date", "as_of", "outcome", "churned", "arr_before"]
    if not data.has("renewals"):
        raise KitError(
            f"the renewals table is not available: {data.unavailable.get('renewals', '')}",
            where="sources.renewals", code="unavailable",
            fix="add sources.renewals (renewal outcomes: renewed, churned, expanded, contracted) to the parameters",
        )
    r = data.lazy("renewals")
    names = r.collect_schema().names()
    arr_before = pl.col("arr_before").cast(pl.Float64) if "arr_before" in names else pl.lit(None, pl.Float64)
    r = r.filter(pl.col("account_id").is_not_null() & pl.col("renewal_date").is_not_null() & pl.col("outcome").is_not_null())
    if until is not None:
        r = r.filter(pl.col("renewal_date") <= pl.lit(until, pl.Date))
    churned = (
        pl.when(pl.col("outcome") == "churned").then(1.0)
        .when(pl.col("outcome") == "contracted").then(float(contraction_as_churn))
        .otherwise(0.0)
    )
    return (
        r.select(
            pl.col("account_id"),
            pl.col("renewal_date"),
            (pl.col("renewal_date") - pl.duration(days=lead_time_days)).alias("as_of"),
            pl.col("outcome"),
            churned.cast(pl.Float64).alias("churned"),
            arr_before.alias("arr_before"),
        )
        .unique(["account_id", "renewal_date"], keep="first", maintain_order=True)
        .sort("renewal_date", "account_id")
        .collect()
        .select(cols)
    )


# ---------------------------------------------------------------------------- building


def build(data: ClientData, points: pl.DataFrame, signals: list[str] | None = None) -> pl.DataFrame:
    """One row per point (same order): account_id, as_of, segment, arr, then one Float64 column per signal.

    Only records dated strictly before each point's as_of are used; a signal is null when there is
    no data for it (e.g. no usage yet, no rated ticket in the window, account created after as_of).
    """
    reasons = requirements(data)
    if signals is None:
        signals = [s for s, why in reasons.items() if why is None]
    bad = [s for s in signals if s not in reasons or reasons[s] is not None]
    if bad:
        detail = "; ".join(f"{s}: {reasons.get(s) or 'unknown signal'}" for s in bad)
        raise KitError(
            f"cannot build signal(s) {detail}", where="signals",
            fix=f"choose among the buildable signals: {', '.join(available(data))}",
        )
    missing_cols = [c for c in ("account_id", "as_of") if c not in points.columns]
    if missing_cols:
        raise KitError(f"points lack column(s) {missing_cols}", where="signals.build", fix="pass a frame with account_id and as_of")
    pts = points.select(pl.col("account_id").cast(pl.String), pl.col("as_of").cast(pl.Date)).with_row_index("_pid")
    # integer account codes keep the large joins light
    codes = pts.select("account_id").unique().sort("account_id").with_row_index("_code")
    pts = pts.join(codes, on="account_id", how="left", nulls_equal=True).sort("_pid")

    acc = _accounts(data)
    base = pts.join(acc, on="account_id", how="left").sort("_pid")
    exists = pl.col("created_at").is_null() | (pl.col("created_at") < pl.col("as_of"))
    base = base.with_columns(exists.alias("_exists"))

    wanted = set(signals) | {"arr"}
    parts: list[pl.DataFrame] = []
    if wanted & {"active_users_per_seat", "logins_per_active_user", "active_users_change_30d"} or any(
        s.startswith(catalog.FEATURE_PREFIX) for s in wanted
    ):
        parts.append(_usage_signals(data, base, codes, wanted))
    if wanted & {"tickets_90d", "open_high_priority_tickets", "mean_csat_90d", "days_to_resolve_90d"}:
        parts.append(_ticket_signals(data, base, codes, wanted))
    if wanted & {"late_invoices_365d", "mean_days_late_365d"}:
        parts.append(_invoice_signals(data, base, codes))
    if wanted & {"latest_nps", "nps_change"}:
        parts.append(_survey_signals(data, base, codes))
    if wanted & {"contacts", "champion_present", "days_since_contact_activity"}:
        parts.append(_contact_signals(data, base, codes, wanted))
    parts.append(_account_signals(data, base, codes))

    out = base.select("_pid", "account_id", "as_of", "segment", "created_at", "_exists")
    for p in parts:
        out = out.join(p, on="_pid", how="left")
    out = out.sort("_pid")
    # nothing is known of an account before it exists, nor a count the export does not cover
    starts = export_starts(data, [s for s in signals if s in COUNTED_SINCE_EXPORT])
    sig_exprs = [
        pl.when(pl.col("_exists") & _covered(s, starts)).then(pl.col(s).cast(pl.Float64)).otherwise(None).alias(s)
        for s in signals if s != "arr"
    ]
    arr = pl.when(pl.col("_exists")).then(pl.col("arr").cast(pl.Float64)).otherwise(None).alias("arr")
    return out.select("account_id", "as_of", "segment", arr, *sig_exprs)


def first_record(data: ClientData, table: str) -> date | None:
    """The day of a table's first record by its dating column (schema): where its export begins.
    None when the table is not available or has no dated record."""
    column = schema.TABLES[table].date_column
    if not data.has(table) or not column or column not in data.lazy(table).collect_schema().names():
        return None
    first = data.lazy(table).select(pl.col(column).min()).collect().item()
    return first.date() if isinstance(first, datetime) else first


def export_starts(data: ClientData, signals: list[str]) -> dict[str, date | None]:
    """Where the export of each table behind `signals` (COUNTED_SINCE_EXPORT) begins."""
    return {table: first_record(data, table) for table in dict.fromkeys(COUNTED_SINCE_EXPORT[s][0] for s in signals)}


def _covered(signal: str, starts: dict[str, date | None]) -> pl.Expr:
    """True where the export holds the signal's whole window: it begins on or after the export's first
    record, or the account was created on or after it."""
    if signal not in COUNTED_SINCE_EXPORT or starts.get(COUNTED_SINCE_EXPORT[signal][0]) is None:
        return pl.lit(True)
    table, window = COUNTED_SINCE_EXPORT[signal]
    since = pl.lit(starts[table], pl.Date)
    return ((pl.col("as_of") - pl.duration(days=window)) >= since) | (pl.col("created_at") >= since).fill_null(False)


def _accounts(data: ClientData) -> pl.DataFrame:
    a = data.lazy("accounts")
    names = a.collect_schema().names()

    def col(c: str, dtype) -> pl.Expr:
        return pl.col(c).cast(dtype) if c in names else pl.lit(None, dtype).alias(c)

    return (
        a.filter(pl.col("account_id").is_not_null())
        .select(
            "account_id",
            col("segment", pl.String),
            col("seats", pl.Float64),
            col("created_at", pl.Date),
            col("arr", pl.Float64).alias("crm_arr"),
        )
        .unique("account_id", keep="first", maintain_order=True)  # duplicate ids: the first record counts
        .collect()
    )


_SHIFT = 2**32  # sort key = account code * 2^32 + (day number + 2^31): one int64, sorts by account then day
_DAY0 = 2**31


def _key(code: pl.Expr, day: pl.Expr) -> pl.Expr:
    return code.cast(pl.Int64) * _SHIFT + (day.cast(pl.Int32).cast(pl.Int64) + _DAY0)


class _Sorted:
    """Records of one kind, one row per (account, day), sorted by the int64 key; values per column."""

    def __init__(self, frame: pl.DataFrame, cols: list[str]):
        self.keys = frame["_k"].to_numpy()
        self.values = {c: frame[c].to_numpy() for c in cols}

    def find(self, base: pl.DataFrame, lag_days: int) -> tuple[np.ndarray, np.ndarray]:
        """Per point: index of the latest record dated strictly before as_of - lag_days, and whether there is one."""
        q = base.select(_key(pl.col("_code"), pl.col("as_of").cast(pl.Int32) - lag_days).alias("q"))["q"].to_numpy()
        idx = np.searchsorted(self.keys, q, side="left") - 1
        safe = np.clip(idx, 0, max(len(self.keys) - 1, 0))
        ok = (idx >= 0) & (len(self.keys) > 0)
        if len(self.keys):
            ok &= (self.keys[safe] // _SHIFT) == (q // _SHIFT)
        return safe, ok

    def first_day(self, base: pl.DataFrame) -> pl.Series:
        """Per point: the day of its account's first record (whenever it is dated), null when none."""
        q = base.select(_key(pl.col("_code"), pl.lit(-_DAY0, pl.Int32)).alias("q"))["q"].to_numpy()
        idx = np.searchsorted(self.keys, q, side="left")
        safe = np.clip(idx, 0, max(len(self.keys) - 1, 0))
        if not len(self.keys):
            return pl.Series("_first", [None] * len(q), pl.Date)
        ok = (idx < len(self.keys)) & ((self.keys[safe] // _SHIFT) == (q // _SHIFT))
        days = np.where(ok, self.keys[safe] % _SHIFT - _DAY0, 0).astype(np.int32)
        return pl.Series("_first", days).cast(pl.Date).set(pl.Series(~ok), None)


def _sorted(frame: pl.LazyFrame, cols: list[str], how: str) -> _Sorted:
    """frame (_code, _d, cols...) -> _Sorted; several records on one day are summed ("sum") or the
    last one kept ("last"); "cum" sums them and then makes running totals per account."""
    df = frame.select(_key(pl.col("_code"), pl.col("_d")).alias("_k"), *cols).collect(engine="streaming")
    if not df["_k"].is_sorted():
        df = df.sort("_k", maintain_order=True)
    k = df["_k"].to_numpy()
    if len(k) > 1 and bool((k[1:] == k[:-1]).any()):
        agg = [pl.col(c).sum() for c in cols] if how in ("sum", "cum") else [pl.col(c).last() for c in cols]
        df = df.group_by("_k", maintain_order=True).agg(agg)
        k = df["_k"].to_numpy()
    if how == "cum" and len(k):
        account = k // _SHIFT
        starts = np.flatnonzero(np.r_[True, account[1:] != account[:-1]])
        lengths = np.diff(np.r_[starts, len(k)])
        out = {"_k": df["_k"]}
        for c in cols:
            v = df[c].to_numpy()
            if np.all(v == np.round(v)) and float(np.abs(v).sum()) < 2**52:
                # whole numbers: one running total over all accounts, minus each account's start (exact)
                cs = np.cumsum(v.astype(np.int64))
                before = np.r_[0, cs[starts[1:] - 1]]
                out[c] = (cs - np.repeat(before, lengths)).astype(np.float64)
            else:  # fractions: a running total per account, so no account's values depend on another's
                out[c] = df.select(pl.col(c).cum_sum().over(pl.col("_k") // _SHIFT))[c]
        df = pl.DataFrame(out)
    return _Sorted(df, cols)


def _cumulate(events: pl.LazyFrame, cols: list[str]) -> _Sorted:
    """events (_code, _d, cols...) -> running totals of cols per account, by day."""
    return _sorted(events.with_columns([pl.col(c).cast(pl.Float64).fill_null(0.0) for c in cols]), cols, "cum")


def _lookup(base: pl.DataFrame, cum: _Sorted, lag_days: int, cols: list[str], suffix: str) -> pl.DataFrame:
    """Running totals at the latest record dated strictly before as_of - lag_days (0 when none); rows align with base."""
    idx, ok = cum.find(base, lag_days)
    return pl.DataFrame(
        {"_pid": base["_pid"], **{c + suffix: np.where(ok, cum.values[c][idx], 0.0) if len(idx) else np.zeros(0) for c in cols}}
    )


def _latest(base: pl.DataFrame, rec: _Sorted, cols: list[str]) -> pl.DataFrame:
    """Values of the latest record dated strictly before as_of (null when none); rows align with base."""
    idx, ok = rec.find(base, 0)
    out: dict[str, object] = {"_pid": base["_pid"]}
    for c in cols:
        v = rec.values[c][idx].astype(np.float64) if len(rec.keys) else np.full(len(idx), np.nan)
        out[c] = pl.Series(c, np.where(ok, v, np.nan)).fill_nan(None)
    return pl.DataFrame(out)


def _window(base, cum: _Sorted, cols, window: int) -> pl.DataFrame:
    """Sums of cols over [as_of - window, as_of) per point: _pid + <col>_w."""
    now = _lookup(base, cum, 0, cols, "_now")
    then = _lookup(base, cum, window, cols, "_then")
    return now.select("_pid", *[(pl.col(c + "_now") - then[c + "_then"]).alias(c + "_w") for c in cols])


def _with_codes(lf: pl.LazyFrame, codes: pl.DataFrame) -> pl.LazyFrame:
    return lf.join(codes.lazy(), on="account_id", how="inner")


# -- usage


def _usage_signals(data: ClientData, base: pl.DataFrame, codes: pl.DataFrame, wanted: set[str]) -> pl.DataFrame:
    cols_present = _columns(data, "usage")
    feats = [f for f in usage_features(data) if catalog.FEATURE_PREFIX + f in wanted]
    value_cols = [c for c in ("active_users", "logins") if c in cols_present] + feats
    w = USAGE_WINDOW
    u = _with_codes(
        data.lazy("usage").select("account_id", "date", *value_cols), codes
    ).filter(pl.col("date").is_not_null())
    cum = _cumulate(
        u.select("_code", pl.col("date").alias("_d"), *[pl.col(c).cast(pl.Float64).fill_null(0) for c in value_cols]),
        value_cols,
    )
    at0 = _lookup(base, cum, 0, value_cols, "_0")
    at1 = _lookup(base, cum, w, value_cols, "_1")
    last = at0.select("_pid", *[(pl.col(c + "_0") - at1[c + "_1"]).alias(c + "_w") for c in value_cols])
    prev_cols = [c for c in ("active_users",) if c in value_cols]
    out = base.select("_pid", "as_of", "seats").with_columns(cum.first_day(base)).join(last, on="_pid", how="left")
    t = pl.col("as_of")
    f = pl.col("_first")
    # days in each window on or after the first usage record (only when that record is before as_of)
    days_last = pl.when(f < t).then(((t - pl.max_horizontal(f, t - pl.duration(days=w))).dt.total_days()).clip(0, w))
    t0 = t - pl.duration(days=w)
    days_prev = pl.when(f < t0).then(((t0 - pl.max_horizontal(f, t0 - pl.duration(days=w))).dt.total_days()).clip(0, w))
    out = out.with_columns(days_last.cast(pl.Float64).alias("_dl"), days_prev.cast(pl.Float64).alias("_dp"))
    if prev_cols:
        # previous window = sums over [as_of - 2w, as_of - w)
        at2 = _lookup(base, cum, 2 * w, prev_cols, "_2")
        out = out.join(
            at1.select("_pid", (pl.col("active_users_1") - at2["active_users_2"]).alias("active_users_p")), on="_pid", how="left"
        )
    exprs = []
    if "active_users" in value_cols:
        mean_last = pl.col("active_users_w") / pl.col("_dl")
        exprs.append(
            pl.when((pl.col("_dl") > 0) & (pl.col("seats") > 0)).then(mean_last / pl.col("seats")).alias("active_users_per_seat")
        )
        mean_prev = pl.col("active_users_p") / pl.col("_dp")
        exprs.append(
            pl.when((pl.col("_dl") > 0) & (pl.col("_dp") > 0) & (pl.col("active_users_p") > 0))
            .then(mean_last / mean_prev - 1).alias("active_users_change_30d")
        )
        if "logins" in value_cols:
            exprs.append(
                pl.when((pl.col("_dl") > 0) & (pl.col("active_users_w") > 0))
                .then(pl.col("logins_w") / pl.col("active_users_w")).alias("logins_per_active_user")
            )
    for c in feats:
        exprs.append(pl.when(pl.col("_dl") > 0).then(pl.col(c + "_w") / pl.col("_dl")).alias(catalog.FEATURE_PREFIX + c))
    return out.select("_pid", *exprs)


# -- tickets


def _ticket_signals(data: ClientData, base: pl.DataFrame, codes: pl.DataFrame, wanted: set[str]) -> pl.DataFrame:
    cols = _columns(data, "tickets")
    t = _with_codes(data.lazy("tickets"), codes).filter(pl.col("created_at").is_not_null())
    created = pl.col("created_at").dt.date()
    out = base.select("_pid")
    w = TICKET_WINDOW
    # tickets created in the window
    c_cum = _cumulate(t.select("_code", created.alias("_d"), pl.lit(1.0).alias("n")), ["n"])
    out = out.join(_window(base, c_cum, ["n"], w).rename({"n_w": "tickets_90d"}), on="_pid", how="left")
    if "resolved_at" in cols:
        # solved tickets are dated by their solution day (never before creation)
        solved = pl.max_horizontal(pl.col("resolved_at"), pl.col("created_at"))
        days = (pl.col("resolved_at") - pl.col("created_at")).dt.total_seconds() / 86400
        csat_ok = pl.col("csat").is_not_null() if "csat" in cols else pl.lit(False)
        if "csat" in cols:
            lo, hi = data.params.audit.csat_scale
            csat_ok = csat_ok & pl.col("csat").is_between(lo, hi)
        r = t.filter(pl.col("resolved_at").is_not_null()).select(
            "_code",
            solved.dt.date().alias("_d"),
            pl.when(days >= 0).then(1.0).otherwise(0.0).alias("r_n"),
            pl.when(days >= 0).then(days).otherwise(0.0).alias("r_days"),
            pl.when(csat_ok).then(1.0).otherwise(0.0).alias("c_n"),
            (pl.when(csat_ok).then(pl.col("csat")).otherwise(0.0) if "csat" in cols else pl.lit(0.0)).alias("c_sum"),
        )
        r_cum = _cumulate(r, ["r_n", "r_days", "c_n", "c_sum"])
        rw = _window(base, r_cum, ["r_n", "r_days", "c_n", "c_sum"], w)
        out = out.join(
            rw.select(
                "_pid",
                pl.when(pl.col("r_n_w") > 0).then(pl.col("r_days_w") / pl.col("r_n_w")).alias("days_to_resolve_90d"),
                pl.when(pl.col("c_n_w") > 0).then(pl.col("c_sum_w") / pl.col("c_n_w")).alias("mean_csat_90d"),
            ),
            on="_pid", how="left",
        )
    if "priority" in cols:
        high = t.filter(pl.col("priority").is_in(list(HIGH_PRIORITIES)))
        opened = _cumulate(high.select("_code", created.alias("_d"), pl.lit(1.0).alias("o")), ["o"])
        n_open = _lookup(base, opened, 0, ["o"], "")
        if "resolved_at" in cols:
            closed_d = pl.max_horizontal(pl.col("resolved_at"), pl.col("created_at")).dt.date()
            closed = _cumulate(
                high.filter(pl.col("resolved_at").is_not_null()).select("_code", closed_d.alias("_d"), pl.lit(1.0).alias("s")), ["s"]
            )
            n_closed = _lookup(base, closed, 0, ["s"], "")
        else:
            n_closed = base.select("_pid", pl.lit(0.0).alias("s"))
        out = out.join(
            n_open.join(n_closed, on="_pid").select("_pid", (pl.col("o") - pl.col("s")).alias("open_high_priority_tickets")),
            on="_pid", how="left",
        )
    return out


# -- invoices


def _invoice_signals(data: ClientData, base: pl.DataFrame, codes: pl.DataFrame) -> pl.DataFrame:
    inv = _with_codes(data.lazy("invoices"), codes).filter(pl.col("issued_at").is_not_null() & pl.col("due_at").is_not_null())
    w = BILLING_WINDOW
    due_days = pl.col("due_at").cast(pl.Int32).cast(pl.Float64)  # days since 1970
    # any invoice issued before as_of: billing data exists
    issued = _cumulate(inv.select("_code", pl.col("issued_at").alias("_d"), pl.lit(1.0).alias("i")), ["i"])
    n_issued = _lookup(base, issued, 0, ["i"], "")
    # paid invoices, dated by payment day (never before issue): lateness known at payment
    paid_d = pl.max_horizontal(pl.col("paid_at"), pl.col("issued_at"))
    late_days = (pl.col("paid_at") - pl.col("due_at")).dt.total_days().cast(pl.Float64).clip(0, None)
    paid = _cumulate(
        inv.filter(pl.col("paid_at").is_not_null()).select(
            "_code", paid_d.alias("_d"), pl.lit(1.0).alias("p_n"), (late_days > 0).cast(pl.Float64).alias("p_late"), late_days.alias("p_days")
        ),
        ["p_n", "p_late", "p_days"],
    )
    pw = _window(base, paid, ["p_n", "p_late", "p_days"], w)
    # overdue at as_of: due before as_of and not paid before as_of
    #   = (invoices due before as_of) - (invoices with due and payment both before as_of)
    # (due is never before issue for this count: an invoice not yet issued is unknown)
    due_d = pl.max_horizontal(pl.col("due_at"), pl.col("issued_at"))
    dues = _cumulate(inv.select("_code", due_d.alias("_d"), pl.lit(1.0).alias("d_n"), due_days.alias("d_sum")), ["d_n", "d_sum"])
    both_d = pl.max_horizontal(pl.col("due_at"), pl.col("paid_at"), pl.col("issued_at"))
    both = _cumulate(
        inv.filter(pl.col("paid_at").is_not_null()).select("_code", both_d.alias("_d"), pl.lit(1.0).alias("b_n"), due_days.alias("b_sum")),
        ["b_n", "b_sum"],
    )
    dn = _lookup(base, dues, 0, ["d_n", "d_sum"], "")
    bn = _lookup(base, both, 0, ["b_n", "b_sum"], "")
    t_days = base.select("_pid", pl.col("as_of").cast(pl.Int32).cast(pl.Float64).alias("_t"))
    j = t_days.join(n_issued, on="_pid").join(pw, on="_pid").join(dn, on="_pid").join(bn, on="_pid")
    overdue_n = pl.col("d_n") - pl.col("b_n")
    overdue_days = overdue_n * pl.col("_t") - (pl.col("d_sum") - pl.col("b_sum"))
    has = pl.col("i") > 0
    n_all = pl.col("p_n_w") + overdue_n
    return j.select(
        "_pid",
        pl.when(has).then(pl.col("p_late_w") + overdue_n).alias("late_invoices_365d"),
        pl.when(has & (n_all > 0)).then((pl.col("p_days_w") + overdue_days) / n_all).alias("mean_days_late_365d"),
    )


# -- surveys


def _survey_signals(data: ClientData, base: pl.DataFrame, codes: pl.DataFrame) -> pl.DataFrame:
    lo, hi = NPS_RANGE
    s = (
        _with_codes(data.lazy("surveys"), codes)
        .filter(pl.col("responded_at").is_not_null() & pl.col("nps").is_between(lo, hi))
        .group_by("_code", "responded_at")
        .agg(pl.col("nps").mean())  # several responses on one day: their mean
        .sort("_code", "responded_at")
        .with_columns(pl.col("nps").shift(1).over("_code").alias("_prev"))
        .rename({"responded_at": "_d"})
        .collect()
    )
    rec = _sorted(s.lazy().select("_code", "_d", "nps", "_prev", pl.col("_d").cast(pl.Int32).cast(pl.Float64).alias("_when")),
                  ["nps", "_prev", "_when"], "last")
    j = _latest(base, rec, ["nps", "_prev", "_when"]).with_columns(base["as_of"].cast(pl.Int32).cast(pl.Float64).alias("_t"))
    fresh = (pl.col("_t") - pl.col("_when")) <= NPS_MAX_AGE
    return j.select(
        "_pid",
        pl.when(fresh).then(pl.col("nps")).alias("latest_nps"),
        (pl.col("nps") - pl.col("_prev")).alias("nps_change"),
    )


# -- contacts


def _contact_signals(data: ClientData, base: pl.DataFrame, codes: pl.DataFrame, wanted: set[str]) -> pl.DataFrame:
    cols = _columns(data, "contacts")
    role = pl.col("role").str.to_lowercase().str.contains("champion").fill_null(False) if "role" in cols else pl.lit(False)
    c = _with_codes(data.lazy("contacts"), codes).filter(pl.col("last_activity_at").is_not_null()).select(
        "_code", pl.col("last_activity_at").dt.date().alias("_d"), pl.lit(1.0).alias("k"), role.cast(pl.Float64).alias("ch")
    )
    cum = _cumulate(c, ["k", "ch"])
    j = _latest(base, cum, ["k", "ch"])
    # the day of the latest activity before as_of, from the record's key
    idx, ok = cum.find(base, 0)
    last_day = (cum.keys[idx] % _SHIFT - _DAY0).astype(np.float64) if len(cum.keys) else np.zeros(len(idx))
    j = j.with_columns(
        pl.Series("_when", np.where(ok, last_day, np.nan)).fill_nan(None),
        base["as_of"].cast(pl.Int32).cast(pl.Float64).alias("_t"),
    )
    return j.select(
        "_pid",
        pl.col("k").fill_null(0).alias("contacts"),
        (pl.col("ch").fill_null(0) > 0).cast(pl.Float64).alias("champion_present"),
        (pl.col("_t") - pl.col("_when")).alias("days_since_contact_activity"),
    )


# -- accounts


def _account_signals(data: ClientData, base: pl.DataFrame, codes: pl.DataFrame) -> pl.DataFrame:
    out = base.select(
        "_pid", "_code", "crm_arr",
        pl.when(pl.col("created_at").is_not_null())
        .then((pl.col("as_of") - pl.col("created_at")).dt.total_days())
        .cast(pl.Float64)
        .alias("tenure_days"),
    )
    if data.has("renewals") and "arr_after" in _columns(data, "renewals"):
        r = (
            _with_codes(data.lazy("renewals"), codes)
            .filter(pl.col("renewal_date").is_not_null() & pl.col("arr_after").is_not_null())
            .select("_code", pl.col("renewal_date").alias("_d"), pl.col("arr_after").cast(pl.Float64))
        )
        j = _latest(base, _sorted(r, ["arr_after"], "last"), ["arr_after"])
        out = out.join(j, on="_pid", how="left").with_columns(pl.coalesce("arr_after", "crm_arr").alias("arr"))
    else:
        out = out.with_columns(pl.col("crm_arr").alias("arr"))
    return out.select("_pid", "arr", "tenure_days")
