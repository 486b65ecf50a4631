"""Candidate health signals, built time-honestly at any set of (account, as-of date) points.

Every signal at a point (account, as_of) is computed ONLY from records dated strictly before
`as_of` (a record dated on the as-of day itself is not yet known). The windows are counted back
from the as-of date: "last 30 days" is [as_of - 30 days, as_of), i.e. the 30 calendar days
before it. Which signals exist, their names and definitions: kit.catalog.

How each table's records are dated (what "strictly before as_of" is applied to):

* usage: the usage day; a day "with a record" of a column is a day on which it is above zero;
* tickets: the creation day; a CSAT rating and a resolution time are dated by the day the ticket
  was solved (a rating does not exist before the ticket is solved);
* invoices: the issue day (nothing is known of an invoice before it is issued); an invoice is
  "late" at the as-of date when it was paid after its due date, or is still unpaid past its due
  date at the as-of date (that is known on the as-of date even when the payment came later);
  a late payment is dated by the payment day;
* surveys: the response day;
* contacts: the table is a snapshot without creation dates, so a contact counts only through
  its latest activity: a contact whose latest activity is dated before the as-of date is known
  to exist then; a contact whose latest activity is later is ignored (we cannot tell whether it
  existed). This keeps the relationship signals time-honest but biases them against long-lived
  accounts (their contacts' latest activity tends to be recent), so read them with care;
* accounts: created_at for tenure; ARR at the as-of date is the ARR after the latest renewal
  before it (renewals table), else the CRM's current ARR (a snapshot: the best available).

Usage means are per day from the account's first usage record: days without a record count as
zero from then on, and before it nothing is known (null). An export covers its table from its
first record on. A total over a window that begins before that day (tickets in the 90 days, late
invoices in the 365 days, open urgent tickets) would count only the part the export holds: too
low, and lowest for the earliest renewals, which then look healthy to every fit. So such a total
is null (unknown) unless the account was created on or after the export's first record (then the
export holds its whole life).

Implementation: per measure, daily running totals per account (of the value, of the days with a
record, of the records), looked up at the window edges with binary searches on one sorted int64
key per (account, day) (no Python loop per point), so every window and aggregation of a column
costs two lookups, and a whole family of signals little more than one. Highest and lowest values
over a window are reduced over the records between the same two edges. Usage is read lazily.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl

from kit import catalog
from kit.catalog import Measure, Signal
from kit.errors import KitError
from kit import contract
from kit.io.load import ClientData

NPS_MAX_AGE = 365  # days: latest NPS older than this is ignored
RECENCY_CAP = 365  # days: "days since the last record" counts up to this
HIGH_PRIORITIES = ("high", "urgent")
OPEN_WINDOW = 90  # days: open urgent tickets are unknown while the ticket export is younger than this
NPS_RANGE = (0.0, 10.0)
EVENT_TABLES = ("usage", "tickets", "invoices", "surveys")  # dated activity: their exports begin the measurable history
COUNTED = ("tickets", "invoices", "surveys", "usage")  # tables whose windowed totals and extremes need the export to cover the window
_USAGE_CANONICAL = set(contract.TABLES["usage"].column_names) | set(contract.USAGE_EVENTS.column_names) | {"_row"}


# ---------------------------------------------------------------------------- what can be built


def _columns(data: ClientData, table: str) -> set[str]:
    return set(data.lazy(table).collect_schema().names()) if data.has(table) else set()


def usage_features(data: ClientData) -> list[str]:
    """Extra numeric usage columns (each becomes a measure named feature_<column>)."""
    if not data.has("usage"):
        return []
    sch = data.lazy("usage").collect_schema()
    return [c for c, t in sch.items() if c not in _USAGE_CANONICAL and t.is_numeric()]


# columns each measure (and each named signal) needs, beyond its table
_NEEDS: dict[str, tuple[str, ...]] = {
    "active_users": ("active_users",), "logins": ("logins",), "tickets": (), "high_priority_tickets": ("priority",),
    "csat": ("csat", "resolved_at"), "resolution_days": ("resolved_at",), "late_invoices": ("due_at", "paid_at"),
    "days_late": ("due_at", "paid_at"), "nps": (), "contact_activity": ("last_activity_at",),
    "open_high_priority_tickets": ("priority",), "nps_change": (), "contacts": ("last_activity_at",),
    "champion_present": ("last_activity_at", "role"), "tenure_days": ("created_at",),
}


class _Tables:
    """What the client's tables hold (read once): their columns and the usage features."""

    def __init__(self, data: ClientData):
        self.columns = {t: _columns(data, t) for t in contract.TABLES}
        self.features = usage_features(data)

    def has(self, table: str) -> bool:
        return bool(self.columns.get(table))


def why_not(data: ClientData, name: str, tables: _Tables | None = None) -> str | None:
    """None when the signal can be built from the tables present, else why not."""
    t = tables or _Tables(data)
    s = catalog.signal(name, t.features)
    if s is None:
        return "unknown signal" + (" (no such usage column)" if name.startswith(catalog.FEATURE_PREFIX) else "")
    if s.name == "arr":
        return None if ("arr" in t.columns["accounts"] or t.has("renewals")) else "accounts has no arr column and no renewals table"
    if not t.has(s.table):
        return f"table {s.table} not available"
    spec = resolve(name, t.features)
    if spec.aggregation == "per_seat" and "seats" not in t.columns["accounts"]:
        return "accounts has no seats column"
    needs = [*_NEEDS.get(spec.measure or name, ()), *(["active_users"] if spec.aggregation == "per_user" else [])]
    missing = [c for c in dict.fromkeys(needs) if c not in t.columns[s.table]]
    return f"{s.table} has no {', '.join(missing)} column" if missing else None


def requirements(data: ClientData, names: list[str] | None = None) -> dict[str, str | None]:
    """Each signal (default: the named catalogue and the usage features) -> None when it can be built, else why not."""
    t = _Tables(data)
    names = names if names is not None else [*catalog.SIGNALS, *(catalog.FEATURE_PREFIX + f for f in t.features)]
    return {n: why_not(data, n, t) for n in names}


def available(data: ClientData) -> list[str]:
    """The named catalogue's signals buildable from the tables present (catalog order, then usage features)."""
    return [name for name, why in requirements(data).items() if why is None]


def measures(data: ClientData) -> list[Measure]:
    """The measures a client's tables hold: the columns the signal search generates a family for."""
    t = _Tables(data)
    have = [m for m in catalog.MEASURES.values() if t.has(m.table) and all(c in t.columns[m.table] for c in _NEEDS[m.name])]
    return have + [catalog.feature(f) for f in t.features]


def family(data: ClientData, windows: tuple[int, ...] = catalog.WINDOWS) -> list[str]:
    """Every generated signal buildable from the client's tables (kit.catalog.family)."""
    return [n for n, why in requirements(data, catalog.family(measures(data), windows)).items() if why is None]


def resolve(name: str, features=None) -> Signal:
    """The grammar's signal behind a name (aliases resolved), or the named special signal itself."""
    canonical = catalog.ALIASES.get(name, name)
    return catalog.parse(canonical, features) or catalog.SIGNALS[name]


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
    Any signal of kit.catalog may be asked for (default: the named catalogue).
    """
    if signals is None:
        signals = available(data)
    reasons = requirements(data, list(signals))
    bad = [s for s in signals if reasons[s] is not None]
    if bad:
        detail = "; ".join(f"{s}: {reasons[s]}" for s in bad)
        raise KitError(
            f"cannot build signal(s) {detail}", where="signals",
            fix=f"choose among the buildable signals: {', '.join(available(data))} (and kit.catalog's grammar)",
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

    features = usage_features(data)
    specs = {s: resolve(s, features) for s in dict.fromkeys(signals) if s != "arr"}
    by_table: dict[str, dict[str, Signal]] = {}
    for name, spec in specs.items():
        by_table.setdefault(spec.table, {})[name] = spec
    builders = {"usage": _usage, "tickets": _tickets, "invoices": _invoices, "surveys": _surveys, "contacts": _contacts}
    columns: dict[str, np.ndarray | pl.Series] = {}
    for table, wanted in by_table.items():
        if table in builders:
            columns.update(builders[table](data, base, codes, wanted))
    columns.update(_account_signals(data, base, codes))

    out = base.select("account_id", "as_of", "segment", "created_at", "_exists")
    out = out.with_columns(pl.Series(n, v, dtype=pl.Float64, nan_to_null=True) if isinstance(v, np.ndarray) else v.alias(n)
                           for n, v in columns.items())
    # nothing is known of an account before it exists, nor a total the export does not cover
    starts = {t: first_record(data, t) for t in COUNTED if any(_counted(sp) for sp in by_table.get(t, {}).values())}
    sig_exprs = [
        pl.when(pl.col("_exists") & _covered(specs[s], starts)).then(pl.col(s).cast(pl.Float64)).otherwise(None).alias(s)
        for s in specs
    ]
    arr = pl.when(pl.col("_exists")).then(pl.col("arr").cast(pl.Float64)).otherwise(None).alias("arr")
    return out.select("account_id", "as_of", "segment", arr, *sig_exprs)


def first_record(data: ClientData, table: str) -> date | None:
    """The day of a table's first record by its dating column (schema): where its export begins.
    None when the table is not available or has no dated record."""
    column = contract.TABLES[table].date_column
    if not data.has(table) or not column or column not in data.lazy(table).collect_schema().names():
        return None
    first = data.lazy(table).select(pl.col(column).min()).collect().item()
    return first.date() if isinstance(first, datetime) else first


def exports_begin(data: ClientData) -> date | None:
    """The first day every event export present holds (the latest of their first records): a point before
    it cannot be measured from all of them."""
    starts = [d for d in (first_record(data, t) for t in EVENT_TABLES) if d is not None]
    return max(starts) if starts else None


def counted_days(name: str) -> int | None:
    """The days before the as-of date an export must hold for the signal to be known (None: no such rule)."""
    return _counted(resolve(name))


def _counted(spec: Signal) -> int | None:
    """The days a signal reaches back when the export must cover them: totals (and their change) and the
    highest or lowest value over a window of an event export would come out too low (too high) where the
    export begins inside the window. Usage means are per covered day (nothing to undercount)."""
    if spec.name == "open_high_priority_tickets":
        return OPEN_WINDOW
    agg, w = spec.aggregation, spec.window
    if spec.table not in COUNTED or w is None:
        return None
    if spec.table == "usage":
        return w if agg == "sum" else None
    m = catalog.MEASURES.get(spec.measure)
    if agg == "change":
        return 2 * w if m is not None and m.kind == "count" else None
    return w if agg in ("sum", "max", "min") else None


def unknown(data: ClientData, points: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """One boolean column per signal, one row per point (same order): True where the signal's value cannot be
    known because the export does not hold its whole window (it begins inside the window and the account is
    older than the export). build() leaves those values null, as it leaves a value null that has no record:
    a fit tells the two apart with these flags."""
    features = usage_features(data)
    specs = {s: resolve(s, features) for s in dict.fromkeys(names) if s != "arr"}
    starts = {t: first_record(data, t) for t in COUNTED if any(_counted(sp) and sp.table == t for sp in specs.values())}
    base = points.select(pl.col("account_id").cast(pl.String), pl.col("as_of").cast(pl.Date)).join(
        _accounts(data).select("account_id", "created_at"), on="account_id", how="left", maintain_order="left")
    flags = {s: ~_covered(specs[s], starts) if s in specs else pl.lit(False) for s in dict.fromkeys(names)}
    return base.with_columns(e.alias(s) for s, e in flags.items()).select(list(flags))  # with_columns: literals fill every row


def _covered(spec: Signal, starts: dict[str, date | None]) -> pl.Expr:
    """True where the export holds the signal's whole window: it begins on or after the export's first
    record, or the account was created on or after it."""
    days = _counted(spec)
    if days is None or starts.get(spec.table) is None:
        return pl.lit(True)
    since = pl.lit(starts[spec.table], pl.Date)
    return ((pl.col("as_of") - pl.duration(days=days)) >= since) | (pl.col("created_at") >= since).fill_null(False)


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


# ---------------------------------------------------------------------------- sorted daily records

_SHIFT = 2**32  # sort key = account code * 2^32 + (day number + 2^31): one int64, sorts by account then day
_DAY0 = 2**31
_CHUNK = 4_000_000  # records gathered at once for a highest/lowest value


def _key(code: pl.Expr, day: pl.Expr) -> pl.Expr:
    return code.cast(pl.Int64) * _SHIFT + (day.cast(pl.Int32).cast(pl.Int64) + _DAY0)


class _Sorted:
    """Records of one kind, one row per (account, day), sorted by the int64 key; values per column."""

    def __init__(self, frame: pl.DataFrame, cols: list[str]):
        self.keys = frame["_k"].to_numpy()
        self.values = {c: frame[c].to_numpy() for c in cols}

    def edge(self, base: pl.DataFrame, lag_days: int) -> np.ndarray:
        """Per point: the index of the first record dated on or after as_of - lag_days (records before it
        are dated strictly before that day)."""
        q = base.select(_key(pl.col("_code"), pl.col("as_of").cast(pl.Int32) - lag_days).alias("q"))["q"].to_numpy()
        return np.searchsorted(self.keys, q, side="left")

    def find(self, base: pl.DataFrame, lag_days: int) -> tuple[np.ndarray, np.ndarray]:
        """Per point: index of the latest record dated strictly before as_of - lag_days, and whether there is one."""
        q = base.select(_key(pl.col("_code"), pl.col("as_of").cast(pl.Int32) - lag_days).alias("q"))["q"].to_numpy()
        idx = np.searchsorted(self.keys, q, side="left") - 1
        safe = np.clip(idx, 0, max(len(self.keys) - 1, 0))
        ok = (idx >= 0) & (len(self.keys) > 0)
        if len(self.keys):
            ok &= (self.keys[safe] // _SHIFT) == (q // _SHIFT)
        return safe, ok

    def day(self, idx: np.ndarray, ok: np.ndarray) -> np.ndarray:
        """The day number (days since 1970) of records at idx, NaN where not ok."""
        days = (self.keys[idx] % _SHIFT - _DAY0).astype(np.float64) if len(self.keys) else np.zeros(len(idx))
        return np.where(ok, days, np.nan)

    def first_day(self, base: pl.DataFrame) -> np.ndarray:
        """Per point: the day number of its account's first record (whenever it is dated), NaN when none."""
        q = base.select(_key(pl.col("_code"), pl.lit(-_DAY0, pl.Int32)).alias("q"))["q"].to_numpy()
        idx = np.searchsorted(self.keys, q, side="left")
        safe = np.clip(idx, 0, max(len(self.keys) - 1, 0))
        if not len(self.keys):
            return np.full(len(q), np.nan)
        ok = (idx < len(self.keys)) & ((self.keys[safe] // _SHIFT) == (q // _SHIFT))
        return self.day(safe, ok)

    def extreme(self, base: pl.DataFrame, col: str, window: int, how: str) -> np.ndarray:
        """Per point: the highest ("max") or lowest ("min") value of `col` among the records dated in
        [as_of - window, as_of); NaN when there is none."""
        hi, lo = self.edge(base, 0), self.edge(base, window)
        out = np.full(len(hi), np.nan)
        n = hi - lo
        v = self.values[col]
        reduce = np.maximum if how == "max" else np.minimum
        have = np.flatnonzero(n > 0)
        start = 0
        while start < len(have):  # a bounded number of records at a time
            stop = start + max(1, int(np.searchsorted(np.cumsum(n[have[start:]]), _CHUNK)))
            part = have[start:stop]
            lens = n[part]
            offsets = np.r_[0, np.cumsum(lens)[:-1]]
            idx = np.arange(int(lens.sum())) - np.repeat(offsets - lo[part], lens)
            out[part] = reduce.reduceat(v[idx], offsets)
            start = stop
        return out


def _sorted(frame: pl.LazyFrame, cols: list[str], how: str) -> _Sorted:
    """frame (_code, _d, cols...) -> _Sorted; several records on one day are summed ("sum"), the last
    one kept ("last"), the highest or lowest kept ("max", "min"); "cum" sums them and then makes running
    totals per account."""
    df = frame.select(_key(pl.col("_code"), pl.col("_d")).alias("_k"), *cols).collect(engine="streaming")
    if not df["_k"].is_sorted():
        df = df.sort("_k", maintain_order=True)
    k = df["_k"].to_numpy()
    if len(k) > 1 and bool((k[1:] == k[:-1]).any()):
        agg = {"sum": "sum", "cum": "sum", "last": "last", "max": "max", "min": "min"}[how]
        df = df.group_by("_k", maintain_order=True).agg(getattr(pl.col(c), agg)() for c in cols)
        k = df["_k"].to_numpy()
    if how == "cum":
        return _running(_Sorted(df, cols), cols)
    return _Sorted(df, cols)


def _cumulate(events: pl.LazyFrame, cols: list[str]) -> _Sorted:
    """events (_code, _d, cols...) -> running totals of cols per account, by day."""
    return _sorted(events.with_columns([pl.col(c).cast(pl.Float64).fill_null(0.0) for c in cols]), cols, "cum")


def _at(base: pl.DataFrame, cum: _Sorted, lag_days: int, col: str) -> np.ndarray:
    """Running total of col at the latest record dated strictly before as_of - lag_days (0 when none)."""
    idx, ok = cum.find(base, lag_days)
    return np.where(ok, cum.values[col][idx], 0.0) if len(cum.keys) else np.zeros(len(idx))


def _sum(base: pl.DataFrame, cum: _Sorted, col: str, window: int, lag: int = 0) -> np.ndarray:
    """Total of col over [as_of - lag - window, as_of - lag) per point."""
    return _at(base, cum, lag, col) - _at(base, cum, lag + window, col)


def _latest(base: pl.DataFrame, rec: _Sorted, cols: list[str]) -> dict[str, np.ndarray]:
    """Values of the latest record dated strictly before as_of (NaN when none), per point."""
    idx, ok = rec.find(base, 0)
    return {c: np.where(ok, rec.values[c][idx].astype(np.float64), np.nan) if len(rec.keys) else np.full(len(idx), np.nan)
            for c in cols}


def _with_codes(lf: pl.LazyFrame, codes: pl.DataFrame) -> pl.LazyFrame:
    return lf.join(codes.lazy(), on="account_id", how="inner")


def _div(a: np.ndarray, b: np.ndarray, ok: np.ndarray | None = None) -> np.ndarray:
    """a / b where b > 0 (and ok), else NaN."""
    good = (b > 0) if ok is None else (b > 0) & ok
    return np.divide(a, b, out=np.full(np.shape(a), np.nan), where=good)


def _since(base: pl.DataFrame, records: _Sorted, export_start: date | None) -> np.ndarray:
    """Days from the latest record before as_of to as_of, counted up to RECENCY_CAP: without a record in
    the CAP days before as_of, CAP when the export holds those days, or the days since the account was
    created when it was created after the export began (no record since it began); unknown otherwise, so
    the value reads the same early and late in an export's history."""
    t = _as_of(base)
    idx, ok = records.find(base, 0)
    since = np.minimum(t - records.day(idx, ok), RECENCY_CAP)
    start = np.nan if export_start is None else float((export_start - date(1970, 1, 1)).days)
    created = base["created_at"].cast(pl.Int32).to_numpy().astype(np.float64)
    created = np.where(np.isnan(created), -np.inf, created)
    held = np.minimum(t - np.maximum(start, created), RECENCY_CAP)  # days the export holds of this account
    none = np.where((t - start >= RECENCY_CAP) | (created >= start), np.maximum(held, 0), np.nan)
    return np.where(np.isnan(since), none, since)


def _as_of(base: pl.DataFrame) -> np.ndarray:
    return base["as_of"].cast(pl.Int32).to_numpy().astype(np.float64)


# ---------------------------------------------------------------------------- usage


def _usage(data: ClientData, base: pl.DataFrame, codes: pl.DataFrame, wanted: dict[str, Signal]) -> dict[str, np.ndarray]:
    cols = list(dict.fromkeys(_column_of(s.measure) for s in wanted.values()))
    if any(s.aggregation == "per_user" for s in wanted.values()) and "active_users" not in cols:
        cols.append("active_users")
    # days with a record (above zero) of the columns whose aggregations count them
    days_of = list(dict.fromkeys(_column_of(s.measure) for s in wanted.values()
                                 if s.aggregation in ("mean_active", "mean_active_or_zero", "share_active", "days_since")))
    u = _with_codes(data.lazy("usage").select("account_id", "date", *cols), codes).filter(pl.col("date").is_not_null())
    daily = _sorted(
        u.select("_code", pl.col("date").alias("_d"),
                 *[pl.col(c).cast(pl.Float64).fill_null(0).alias(c) for c in cols],
                 *[(pl.col(c).cast(pl.Float64).fill_null(0) > 0).cast(pl.Float64).alias("_a_" + c) for c in days_of]),
        [*cols, *("_a_" + c for c in days_of)], "sum",
    )
    cum = _running(daily, [*cols, *("_a_" + c for c in days_of)])
    t = _as_of(base)
    first = daily.first_day(base)  # the account's first usage record, whenever dated
    seats = base["seats"].to_numpy().astype(np.float64)

    def covered(window: int, lag: int = 0) -> np.ndarray:
        """Days of [as_of - lag - window, as_of - lag) on or after the account's first record (NaN before it)."""
        end = t - lag
        return np.where(first < end, np.clip(end - np.maximum(first, end - window), 0, window), np.nan)

    out = {}
    for name, s in wanted.items():
        c, w = _column_of(s.measure), s.window
        if s.aggregation == "days_since":
            out[name] = _since(base, _Sorted(pl.DataFrame({"_k": daily.keys[daily.values["_a_" + c] > 0]}), []),
                               first_record(data, "usage"))
            continue
        d = covered(w)
        total = np.where(np.isnan(d), np.nan, _sum(base, cum, c, w))
        mean = _div(total, d)
        if s.aggregation == "sum":
            out[name] = total
        elif s.aggregation == "mean":
            out[name] = mean
        elif s.aggregation == "mean_active":
            out[name] = _div(total, _sum(base, cum, "_a_" + c, w))
        elif s.aggregation == "mean_active_or_zero":  # sparse records: a window without one reads 0, not unknown
            active = _sum(base, cum, "_a_" + c, w)
            out[name] = np.where(np.isnan(d), np.nan, np.where(active > 0, _div(total, active), 0.0))
        elif s.aggregation == "share_active":
            out[name] = _div(_sum(base, cum, "_a_" + c, w), d)
        elif s.aggregation == "max":
            top = daily.extreme(base, c, w, "max")
            out[name] = np.where(np.isnan(d), np.nan, np.nan_to_num(top, nan=0.0))  # days without a record count as zero
        elif s.aggregation == "per_seat":
            out[name] = _div(mean, seats)
        elif s.aggregation == "per_user":
            out[name] = _div(total, _sum(base, cum, "active_users", w), d > 0)
        elif s.aggregation == "change":
            d_prev = covered(w, w)
            prev = _div(_sum(base, cum, c, w, w), d_prev)
            out[name] = _div(mean, prev) - 1
        else:
            raise ValueError(name)
    return out


def _column_of(measure: str) -> str:
    return measure.removeprefix(catalog.FEATURE_PREFIX)


def _running(daily: _Sorted, cols: list[str]) -> _Sorted:
    """Running totals per account of daily records."""
    k = daily.keys
    out = {"_k": k}
    if len(k):
        account = k // _SHIFT
        starts = np.flatnonzero(np.r_[True, account[1:] != account[:-1]])
        lengths = np.diff(np.r_[starts, len(k)])
        for c in cols:
            v = daily.values[c].astype(np.float64)
            if np.all(v == np.round(v)) and float(np.abs(v).sum()) < 2**52:
                # whole numbers: one running total over all accounts, minus each account's start (exact)
                cs = np.cumsum(v.astype(np.int64))
                before = np.r_[0, cs[starts[1:] - 1]]
                out[c] = (cs - np.repeat(before, lengths)).astype(np.float64)
            else:  # fractions: a running total per account, so no account's values depend on another's
                out[c] = pl.DataFrame({"a": account, "v": v}).select(pl.col("v").cum_sum().over("a"))["v"].to_numpy()
    else:
        out.update({c: np.zeros(0) for c in cols})
    return _Sorted(pl.DataFrame(out), cols)


# ---------------------------------------------------------------------------- tickets


def _tickets(data: ClientData, base: pl.DataFrame, codes: pl.DataFrame, wanted: dict[str, Signal]) -> dict[str, np.ndarray]:
    cols = _columns(data, "tickets")
    t = _with_codes(data.lazy("tickets"), codes).filter(pl.col("created_at").is_not_null())
    created = pl.col("created_at").dt.date()
    high = pl.col("priority").is_in(list(HIGH_PRIORITIES)).fill_null(False) if "priority" in cols else pl.lit(False)
    opened = _sorted(t.select("_code", created.alias("_d"), pl.lit(1.0).alias("n"), high.cast(pl.Float64).alias("hp")), ["n", "hp"], "sum")
    c_open = _running(opened, ["n", "hp"])
    measures = {s.measure for s in wanted.values()}
    solved = None
    if "resolved_at" in cols and measures & {"csat", "resolution_days"}:
        # solved tickets are dated by their solution day (never before creation)
        solved_d = pl.max_horizontal(pl.col("resolved_at"), pl.col("created_at")).dt.date()
        days = (pl.col("resolved_at") - pl.col("created_at")).dt.total_seconds() / 86400
        rated = pl.col("csat").is_not_null() if "csat" in cols else pl.lit(False)
        if "csat" in cols:
            lo, hi = data.params.audit.csat_scale
            rated = rated & pl.col("csat").is_between(lo, hi)
        r = t.filter(pl.col("resolved_at").is_not_null()).select(
            "_code", solved_d.alias("_d"),
            pl.when(days >= 0).then(1.0).otherwise(0.0).alias("r_n"),
            pl.when(days >= 0).then(days).otherwise(0.0).alias("r_days"),
            pl.when(days >= 0).then(days).otherwise(None).alias("r_max"),
            pl.when(rated).then(1.0).otherwise(0.0).alias("c_n"),
            (pl.when(rated).then(pl.col("csat")).otherwise(0.0) if "csat" in cols else pl.lit(0.0)).alias("c_sum"),
            (pl.when(rated).then(pl.col("csat")).otherwise(None) if "csat" in cols else pl.lit(None, pl.Float64)).alias("c_min"),
        )
        solved = _running(_sorted(r.select("_code", "_d", "r_n", "r_days", "c_n", "c_sum"), ["r_n", "r_days", "c_n", "c_sum"], "sum"),
                          ["r_n", "r_days", "c_n", "c_sum"])
        worst = {"r_max": _sorted(r.filter(pl.col("r_max").is_not_null()).select("_code", "_d", "r_max"), ["r_max"], "max"),
                 "c_min": _sorted(r.filter(pl.col("c_min").is_not_null()).select("_code", "_d", "c_min"), ["c_min"], "min")}
    out = {}
    for name, s in wanted.items():
        w, agg = s.window, s.aggregation
        if name == "open_high_priority_tickets":
            out[name] = _open_high_priority(data, base, t, cols, created)
        elif s.measure in ("tickets", "high_priority_tickets"):
            c = "n" if s.measure == "tickets" else "hp"
            if agg == "sum":
                out[name] = _sum(base, c_open, c, w)
            elif agg == "change":
                out[name] = _sum(base, c_open, c, w) - _sum(base, c_open, c, w, w)
            else:  # days_since
                out[name] = _since(base, opened, first_record(data, "tickets"))
        else:
            n, total, extreme = ("c_n", "c_sum", "c_min") if s.measure == "csat" else ("r_n", "r_days", "r_max")
            if agg == "mean":
                out[name] = _div(_sum(base, solved, total, w), _sum(base, solved, n, w))
            elif agg in ("min", "max"):
                out[name] = worst[extreme].extreme(base, extreme, w, agg)
            else:  # change of the mean
                out[name] = (_div(_sum(base, solved, total, w), _sum(base, solved, n, w))
                             - _div(_sum(base, solved, total, w, w), _sum(base, solved, n, w, w)))
    return out


def _open_high_priority(data, base, t: pl.LazyFrame, cols, created) -> np.ndarray:
    """High or urgent tickets created before as_of and not solved before it."""
    high = t.filter(pl.col("priority").is_in(list(HIGH_PRIORITIES)))
    opened = _cumulate(high.select("_code", created.alias("_d"), pl.lit(1.0).alias("o")), ["o"])
    n_open = _at(base, opened, 0, "o")
    if "resolved_at" not in cols:
        return n_open
    closed_d = pl.max_horizontal(pl.col("resolved_at"), pl.col("created_at")).dt.date()
    closed = _cumulate(high.filter(pl.col("resolved_at").is_not_null()).select("_code", closed_d.alias("_d"), pl.lit(1.0).alias("s")), ["s"])
    return n_open - _at(base, closed, 0, "s")


# ---------------------------------------------------------------------------- invoices


def _invoices(data: ClientData, base: pl.DataFrame, codes: pl.DataFrame, wanted: dict[str, Signal]) -> dict[str, np.ndarray]:
    inv = _with_codes(data.lazy("invoices"), codes).filter(pl.col("issued_at").is_not_null() & pl.col("due_at").is_not_null())
    due_days = pl.col("due_at").cast(pl.Int32).cast(pl.Float64)  # days since 1970
    # any invoice issued before as_of: billing data exists
    issued = _cumulate(inv.select("_code", pl.col("issued_at").alias("_d"), pl.lit(1.0).alias("i")), ["i"])
    has = _at(base, issued, 0, "i") > 0
    # paid invoices, dated by payment day (never before issue): lateness known at payment
    paid_d = pl.max_horizontal(pl.col("paid_at"), pl.col("issued_at"))
    late_days = (pl.col("paid_at") - pl.col("due_at")).dt.total_days().cast(pl.Float64).clip(0, None)
    paid = _cumulate(
        inv.filter(pl.col("paid_at").is_not_null()).select(
            "_code", paid_d.alias("_d"), pl.lit(1.0).alias("p_n"), (late_days > 0).cast(pl.Float64).alias("p_late"), late_days.alias("p_days")
        ),
        ["p_n", "p_late", "p_days"],
    )
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
    overdue_n = _at(base, dues, 0, "d_n") - _at(base, both, 0, "b_n")
    overdue_days = overdue_n * _as_of(base) - (_at(base, dues, 0, "d_sum") - _at(base, both, 0, "b_sum"))
    out = {}
    for name, s in wanted.items():
        w = s.window
        if s.measure == "late_invoices":
            out[name] = np.where(has, _sum(base, paid, "p_late", w) + overdue_n, np.nan)
        else:  # days_late mean
            n_all = _sum(base, paid, "p_n", w) + overdue_n
            out[name] = _div(_sum(base, paid, "p_days", w) + overdue_days, n_all, has)
    return out


# ---------------------------------------------------------------------------- surveys


def _surveys(data: ClientData, base: pl.DataFrame, codes: pl.DataFrame, wanted: dict[str, Signal]) -> dict[str, np.ndarray]:
    lo, hi = NPS_RANGE
    s = _with_codes(data.lazy("surveys"), codes).filter(pl.col("responded_at").is_not_null() & pl.col("nps").is_between(lo, hi))
    out = {}
    t = _as_of(base)
    if any(sp.aggregation == "latest" or name == "nps_change" for name, sp in wanted.items()):
        days = (s.group_by("_code", "responded_at").agg(pl.col("nps").mean())  # several responses on one day: their mean
                .sort("_code", "responded_at").with_columns(pl.col("nps").shift(1).over("_code").alias("_prev"))
                .rename({"responded_at": "_d"}).collect())
        rec = _sorted(days.lazy().select("_code", "_d", "nps", "_prev", pl.col("_d").cast(pl.Int32).cast(pl.Float64).alias("_when")),
                      ["nps", "_prev", "_when"], "last")
        j = _latest(base, rec, ["nps", "_prev", "_when"])
    windowed = [sp for sp in wanted.values() if sp.window is not None]
    if windowed:
        per = s.select("_code", pl.col("responded_at").alias("_d"), pl.col("nps").cast(pl.Float64), pl.lit(1.0).alias("n"))
        cum = _cumulate(per, ["nps", "n"])
        low = _sorted(per.select("_code", "_d", pl.col("nps").alias("low")), ["low"], "min")
    for name, sp in wanted.items():
        if name == "nps_change":
            out[name] = j["nps"] - j["_prev"]
        elif sp.aggregation == "latest":
            out[name] = np.where(t - j["_when"] <= NPS_MAX_AGE, j["nps"], np.nan)
        elif sp.aggregation == "mean":
            out[name] = _div(_sum(base, cum, "nps", sp.window), _sum(base, cum, "n", sp.window))
        else:  # min
            out[name] = low.extreme(base, "low", sp.window, "min")
    return out


# ---------------------------------------------------------------------------- contacts


def _contacts(data: ClientData, base: pl.DataFrame, codes: pl.DataFrame, wanted: dict[str, Signal]) -> dict[str, np.ndarray]:
    cols = _columns(data, "contacts")
    role = pl.col("role").str.to_lowercase().str.contains("champion").fill_null(False) if "role" in cols else pl.lit(False)
    c = _with_codes(data.lazy("contacts"), codes).filter(pl.col("last_activity_at").is_not_null()).select(
        "_code", pl.col("last_activity_at").dt.date().alias("_d"), pl.lit(1.0).alias("k"), role.cast(pl.Float64).alias("ch")
    )
    cum = _cumulate(c, ["k", "ch"])
    idx, ok = cum.find(base, 0)
    known = {"contacts": _at(base, cum, 0, "k"), "champion_present": (_at(base, cum, 0, "ch") > 0).astype(np.float64)}
    out = {}
    for name, s in wanted.items():
        if name in known:
            out[name] = known[name]
        elif s.aggregation == "days_since":
            out[name] = _as_of(base) - cum.day(idx, ok)
        else:  # contacts whose latest activity falls in the window
            out[name] = _sum(base, cum, "k", s.window)
    return out


# ---------------------------------------------------------------------------- accounts


def _account_signals(data: ClientData, base: pl.DataFrame, codes: pl.DataFrame) -> dict[str, pl.Series]:
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
        after = pl.Series("arr_after", _latest(base, _sorted(r, ["arr_after"], "last"), ["arr_after"])["arr_after"], nan_to_null=True)
        out = out.with_columns(pl.coalesce(after, pl.col("crm_arr")).alias("arr"))
    else:
        out = out.with_columns(pl.col("crm_arr").alias("arr"))
    return {"arr": out["arr"], "tenure_days": out["tenure_days"]}
