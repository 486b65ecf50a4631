"""The data audit's checks: each one counts failing records out of a total, with the records.

`Auditor(data, as_of, settings).run()` returns a list of `AuditCheck`s, passing ones included (they
count in the score). Tables are read lazily where they can be large (usage): counts are
aggregated in streaming passes and failing records are fetched only for checks that fail, at
most `MAX_RECORDS` per check. Scoring and outputs live in `kit.analyses.audit`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import polars as pl

from kit import contract
from kit.io.load import ROW, ClientData, TableLoad

SEVERITIES = ("critical", "error", "warning")
MAX_RECORDS = 100_000  # failing records listed per check (the count is always exact)
RECORD_COLUMNS = {"record_id": pl.String, "account_id": pl.String, "row": pl.Int64, "value": pl.String}

# Columns that are blank by nature (an open ticket has no resolution date): not completeness failures.
EXPECTED_BLANK = {
    ("accounts", "parent_account_id"), ("contacts", "last_activity_at"), ("tickets", "resolved_at"),
    ("tickets", "csat"), ("invoices", "paid_at"), ("ctas", "closed_at"), ("sync_log", "finished_at"),
    ("sync_log", "error"),
}
# Date columns that legitimately lie after the period end.
FUTURE_OK = {("accounts", "renewal_date"), ("accounts", "contract_start"), ("invoices", "due_at"), ("ctas", "due_at")}
# Tables whose rows are repeated by nature (one row per login): no exact-duplicate check.
REPEATS_OK = {"platform_logins"}
# Snapshot tables: their dates describe the record, not when the export was taken (no freshness).
SNAPSHOTS = {"accounts", "contacts", "team"}
# (table, earlier column, later column, check name): the later date must not come first.
DATE_ORDER = (
    ("tickets", "created_at", "resolved_at", "resolved_before_created"),
    ("accounts", "contract_start", "renewal_date", "renewal_before_contract_start"),
    ("invoices", "issued_at", "due_at", "due_before_issued"),
    ("invoices", "issued_at", "paid_at", "paid_before_issued"),
    ("ctas", "created_at", "closed_at", "closed_before_created"),
    ("sync_log", "started_at", "finished_at", "finished_before_started"),
)
# (table, column, lowest, highest) for numbers; None = unbounded. CSAT comes from the settings.
NON_NEGATIVE = (
    ("accounts", "arr"), ("accounts", "seats"), ("invoices", "amount"), ("renewals", "arr_before"),
    ("renewals", "arr_after"), ("sync_log", "records"),
)
RANGES = (("surveys", "nps", 0.0, 10.0), ("health_scores", "score", 0.0, 100.0))
# Money: above audit.max_amount a value is implausible.
MONEY = {("accounts", "arr"), ("invoices", "amount"), ("renewals", "arr_before"), ("renewals", "arr_after")}
# A source's usual rhythm (daily, business days, weekly, quarterly) is read from its last
# FRESHNESS_DATES distinct record dates within FRESHNESS_LOOKBACK_DAYS of its latest record.
FRESHNESS_LOOKBACK_DAYS = 400
FRESHNESS_DATES = 20
FRESHNESS_COLUMNS = {  # typed: a source with no record before the period end has nulls, not a column of unknown type
    "table": pl.String, "column": pl.String, "system": pl.String, "latest": pl.String, "age_hours": pl.Float64,
    "usual_gap_days": pl.Int64, "allowed_hours": pl.Float64, "stale": pl.Boolean,
}
LAZY_TABLES = {"usage"}  # never collected whole: can hold hundreds of millions of rows


@dataclass
class AuditCheck:
    """One check on one table (and column): failing out of total records, with the failing records."""

    check: str
    dimension: str
    table: str
    column: str | None
    severity: str
    failing: int
    total: int
    message: str = ""  # plain language: what is wrong
    fix: str = ""  # plain language: what the client's admin should do
    records: pl.DataFrame | None = field(default=None, repr=False)  # RECORD_COLUMNS
    examples: list[str] = field(default_factory=list)
    scored: bool = True

    @property
    def pass_fraction(self) -> float:
        return 1.0 - self.failing / self.total if self.total else 1.0

    @property
    def failed(self) -> bool:
        return self.failing > 0


def is_blank(col: str, dtype: pl.DataType) -> pl.Expr:
    """Missing: null, or (text columns) empty after trimming spaces."""
    if dtype != pl.String:
        return pl.col(col).is_null()
    return pl.col(col).is_null() | (pl.col(col).str.strip_chars() == "")


def _text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Values as the report shows them: dates as YYYY-MM-DD, times without microseconds."""
    if isinstance(dtype, pl.Datetime):
        return expr.dt.strftime("%Y-%m-%d %H:%M:%S")
    if dtype.is_float():
        whole = expr.is_finite() & (expr == expr.round(0)) & (expr.abs() < 1e15)
        return pl.when(whole).then(expr.cast(pl.Int64, strict=False).cast(pl.String)).otherwise(expr.round(4).cast(pl.String))
    return expr.cast(pl.String)


class Auditor:
    """Runs every check that the client's tables allow; `notes` says what could not be checked."""

    def __init__(self, data: ClientData, as_of: date, settings, previous: dict | None = None):
        self.data = data
        self.as_of = as_of
        self.s = settings
        self.previous = previous
        self.checks: list[AuditCheck] = []
        self.notes: list[str] = []  # checks that could not run, and why
        self.details: dict[str, pl.DataFrame] = {}  # per-dimension tables for the report
        acc = data.table("accounts").lazy().filter(pl.col("account_id").is_not_null())
        self.accounts = acc.collect().unique("account_id", keep="first", maintain_order=True)
        self.ids = self.accounts["account_id"]
        self.active = self._active_accounts()

    # ------------------------------------------------------------------ helpers

    def loaded(self) -> list[tuple[str, TableLoad]]:
        return [(n, t) for n, t in self.data.loads.items() if n in contract.TABLES]

    def lazy(self, table: str) -> pl.LazyFrame:
        """A table to check: large tables (usage) stay lazy and are streamed; small ones are collected once."""
        if table in LAZY_TABLES:
            return self.data.lazy(table)
        return self.data.table(table).lazy()

    def has(self, table: str, *columns: str) -> bool:
        return self.data.has(table) and all(c in self.lazy(table).collect_schema() for c in columns)

    def _id_columns(self, table: str, names: list[str]) -> list[str]:
        t = contract.TABLES[table]
        cols = [k for k in t.key if k in names]
        if len(cols) == len(t.key) and cols:
            return cols
        guess = [c for c in ("account_id", "source", "user", t.date_column) if c and c in names]
        return list(dict.fromkeys(guess))

    def ident(self, table: str, frame_schema: pl.Schema) -> list[pl.Expr]:
        """Expressions for record_id, account_id and row of a table's records."""
        names = list(frame_schema.names())
        cols = self._id_columns(table, names)
        if cols:
            rid = pl.concat_str([_text(pl.col(c), frame_schema[c]).fill_null("(blank)") for c in cols], separator=" / ")
        else:
            rid = pl.lit("row ") + pl.col(ROW).cast(pl.String)
        acc = pl.col("account_id").cast(pl.String) if "account_id" in names else pl.lit(None, pl.String)
        return [rid.alias("record_id"), acc.alias("account_id"), pl.col(ROW).cast(pl.Int64).alias("row")]

    def records(self, table: str, lf: pl.LazyFrame, condition: pl.Expr, value: pl.Expr) -> pl.DataFrame:
        sch = lf.collect_schema()
        out = lf.filter(condition).select([*self.ident(table, sch), value.cast(pl.String).alias("value")])
        return out.head(MAX_RECORDS).collect(engine="streaming")

    def add(self, check: str, dimension: str, table: str, column: str | None, severity: str, failing: int, total: int,
            message: str = "", fix: str = "", records: pl.DataFrame | None = None, scored: bool = True) -> AuditCheck:
        if records is not None:
            records = records.select([pl.col(c).cast(t) if c in records.columns else pl.lit(None, t).alias(c) for c, t in RECORD_COLUMNS.items()])
            examples = records["record_id"].unique(maintain_order=True).head(5).to_list()
        else:
            examples = []
        c = AuditCheck(check, dimension, table, column, severity, int(failing), int(total), message, fix, records, examples, scored)
        self.checks.append(c)
        return c

    def table_row(self, table: str, column: str | None, value: str) -> pl.DataFrame:
        """The single 'record' of a table-level finding (freshness, volume, unavailable table)."""
        return pl.DataFrame({"record_id": [f"(table {table})"], "account_id": [None], "row": [None], "value": [value]},
                            schema=RECORD_COLUMNS)

    def guarded(self, what: str, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as e:  # a check that cannot run is reported, never a traceback in the report
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            self.notes.append(f"{what}: could not be checked ({first})")

    def _active_accounts(self) -> pl.Series:
        """Accounts a health score covers at as_of: created by then and not churned (per the renewals table)."""
        acc = self.accounts
        if "created_at" in acc.columns:
            acc = acc.filter(pl.col("created_at").is_null() | (pl.col("created_at") <= self.as_of))
        if self.has("renewals", "outcome", "renewal_date"):
            last = (
                self.lazy("renewals")
                .filter(pl.col("renewal_date") <= self.as_of)
                .sort("renewal_date")
                .group_by("account_id")
                .agg(pl.col("outcome").last())
                .filter(pl.col("outcome") == "churned")
                .collect()
            )
            acc = acc.filter(~pl.col("account_id").is_in(last["account_id"].implode()))
        return acc["account_id"]

    # ------------------------------------------------------------------ run

    def run(self) -> list[AuditCheck]:
        self.structure()
        for name, t in self.loaded():
            self.guarded(f"{name}: completeness", self.completeness, name, t)
            self.guarded(f"{name}: uniqueness", self.uniqueness, name, t)
            self.guarded(f"{name}: validity", self.validity, name, t)
        self.guarded("integrity", self.integrity)
        self.guarded("ARR vs billing", self.arr_vs_billing)
        self.guarded("renewal dates", self.renewal_dates)
        self.guarded("coverage", self.coverage)
        self.guarded("freshness", self.freshness)
        self.guarded("volume", self.volume)
        return self.checks

    # ------------------------------------------------------------------ schema and parsing

    def structure(self) -> None:
        configured = self.data.params.sources
        for name, reason in self.data.unavailable.items():
            if name in configured:
                err = self.data.failure(name)
                check = "empty_table" if err is not None and err.code == "empty_table" else "table_unavailable"
                self.add(check, "completeness", name, None, "error", 1, 1,
                         f"{name} could not be read: {reason.splitlines()[0]}",
                         reason.split("fix: ", 1)[-1] if "fix: " in reason else "re-export the table and check sources." + name,
                         self.table_row(name, None, reason.splitlines()[0]))
        critical = set(self.s.critical_columns)
        for name, t in self.loaded():
            rows = t.rows
            self.add("empty_table", "completeness", name, None, "critical" if name == "accounts" else "error",
                     int(rows == 0), 1, f"{name} has no records ({t.location})", "export the table again with its records",
                     self.table_row(name, None, "0 rows") if rows == 0 else None)
            for n in t.notes:
                if n.ambiguous:  # a guess the parameters should confirm; clear decisions are listed in `tables`
                    self.add(n.code, "validity", name, n.column, "warning", 1, 1, f"{name}: {n.text}", n.fix,
                             self.table_row(name, n.column, n.text))
            for p in t.problems:
                severity = "critical" if name == "accounts" and p.column in critical else "error"
                rec = t.failing_rows(p.column)
                if rec.height:
                    keys = [c for c in rec.columns if c not in (ROW, "value")]
                    sch = rec.schema
                    rid = pl.concat_str([_text(pl.col(k), sch[k]).fill_null("(blank)") for k in keys], separator=" / ") if keys else pl.lit("row ") + pl.col(ROW).cast(pl.String)
                    acc = pl.col("account_id") if "account_id" in keys else pl.lit(None, pl.String)
                    rec = rec.select(rid.alias("record_id"), acc.alias("account_id"), pl.col(ROW).alias("row"), pl.col("value"))
                self.add(p.code, "validity", name, p.column, severity, p.count, rows, p.text,
                         f"correct these values in the source system; if the whole column uses another format, {p.fix}", rec.head(MAX_RECORDS))

    # ------------------------------------------------------------------ completeness

    def completeness(self, name: str, t: TableLoad) -> None:
        table = contract.USAGE_EVENTS if t.kind == "events" else contract.TABLES[name]
        sch = t.text.collect_schema()
        cols = [c for c in sch.names() if c != ROW]
        if not cols:
            return
        blank_of = {c: is_blank(c, sch[c]) for c in cols}
        counts = t.text.select([blank_of[c].sum().alias(c) for c in cols]).collect(engine="streaming").row(0, named=True)
        rows = t.rows
        critical = set(self.s.critical_columns) if name == "accounts" else set()
        detail = []
        for c in cols:
            blank = int(counts[c] or 0)
            if c in critical:
                level = "critical"
            elif c in table.required:
                level = "required"
            elif (name, c) in EXPECTED_BLANK:
                level = "often blank"
            else:
                level = "optional"
            detail.append({"table": name, "column": c, "blank": blank, "total": rows, "rate": blank / rows if rows else 0.0, "expectation": level})
            if level == "often blank":
                continue
            severity = {"critical": "critical", "required": "error"}.get(level, "warning")
            rec = self.records(name, t.text, blank_of[c], pl.lit("")) if blank else None
            self.add("missing_values", "completeness", name, c, severity, blank, rows,
                     f"{blank:,} of {rows:,} {name} records have no {c}",
                     f"fill in {c} for these records in the source system", rec)
        self._detail("completeness", pl.DataFrame(detail, schema={"table": pl.String, "column": pl.String, "blank": pl.Int64, "total": pl.Int64, "rate": pl.Float64, "expectation": pl.String}))

    def _detail(self, key: str, frame: pl.DataFrame) -> None:
        self.details[key] = pl.concat([self.details[key], frame], how="diagonal_relaxed") if key in self.details else frame

    # ------------------------------------------------------------------ uniqueness

    def uniqueness(self, name: str, t: TableLoad) -> None:
        table = contract.TABLES[name]
        if t.kind == "events":
            return  # raw events repeat by nature; the daily aggregate is unique by construction
        lf = self.lazy(name)
        sch = lf.collect_schema()
        cols = [c for c in sch.names() if c != ROW]
        key = [k for k in table.key if k in cols]
        has_key = bool(key) and len(key) == len(table.key)
        check_rows = name not in REPEATS_OK
        if not has_key and not check_rows:
            return
        by = key if has_key else cols
        h = pl.struct(by).hash(42).alias("_h")
        dup_hashes = lf.select(h).group_by("_h").len().filter(pl.col("len") > 1).select("_h").collect(engine="streaming")["_h"]
        sub = lf.with_columns(h).filter(pl.col("_h").is_in(dup_hashes.implode())).drop("_h").collect() if dup_hashes.len() else lf.head(0).collect()
        rows = t.rows
        if has_key:
            keyed = sub.filter(pl.all_horizontal([pl.col(k).is_not_null() for k in key]))
            dup = keyed.filter(pl.struct(key).is_duplicated())
            n_keys = dup.select(key).unique().height
            distinct = lf.select(key).filter(pl.all_horizontal([pl.col(k).is_not_null() for k in key])).select(pl.struct(key).n_unique()).collect(engine="streaming").item() if n_keys else rows
            label = " + ".join(key)
            rec = dup.select([*self.ident(name, dup.schema), pl.concat_str([_text(pl.col(k), dup.schema[k]) for k in key], separator=" / ").alias("value")]).sort("record_id", "row") if n_keys else None
            self.add("duplicate_key", "uniqueness", name, label, "critical" if name == "accounts" else "error", n_keys, distinct,
                     f"{n_keys:,} {label} value(s) appear on more than one {name} row ({dup.height:,} rows)",
                     f"merge or delete the duplicate {name} records so each {label} appears once", rec)
        if check_rows:
            same = sub.filter(pl.struct(cols).is_duplicated() & ~pl.struct(cols).is_first_distinct()) if sub.height else sub
            rec = same.select([*self.ident(name, same.schema), pl.lit("exact copy of an earlier row").alias("value")]) if same.height else None
            self.add("duplicate_rows", "uniqueness", name, None, "error", same.height, rows,
                     f"{same.height:,} {name} row(s) are exact copies of another row",
                     "delete the repeated rows (the CSV lists the copies; the first occurrence stays)", rec)

    # ------------------------------------------------------------------ referential integrity

    def integrity(self) -> None:
        ids = self.ids.implode()
        for name in contract.CHILD_TABLES:
            if not self.has(name, "account_id"):
                continue
            lf = self.lazy(name)
            known = pl.col("account_id").is_in(ids)
            n = lf.select(pl.col("account_id").is_not_null().sum().alias("total"), (pl.col("account_id").is_not_null() & ~known).sum().alias("bad")).collect(engine="streaming").row(0, named=True)
            rec = self.records(name, lf, pl.col("account_id").is_not_null() & ~known, pl.col("account_id")) if n["bad"] else None
            self.add("orphans", "integrity", name, "account_id", "error", n["bad"], n["total"],
                     f"{n['bad']:,} {name} record(s) point at an account that is not in the accounts export",
                     salesforce_id_hint(self.ids, rec["value"] if rec is not None else None, name)
                     or "correct the account id on these records, or add the missing accounts to the CRM export", rec)
        acc = self.accounts
        if "parent_account_id" not in acc.columns:
            return
        with_parent = acc.filter(pl.col("parent_account_id").is_not_null())
        unknown = with_parent.filter(~pl.col("parent_account_id").is_in(self.ids.implode()))
        rec = unknown.select([*self.ident("accounts", unknown.schema), pl.col("parent_account_id").alias("value")])
        self.add("unknown_parent", "integrity", "accounts", "parent_account_id", "error", unknown.height, with_parent.height,
                 f"{unknown.height:,} account(s) name a parent account that does not exist",
                 "correct or clear the parent account on these accounts", rec if unknown.height else None)
        cycle = hierarchy_cycles(dict(zip(with_parent["account_id"].to_list(), with_parent["parent_account_id"].to_list())))
        bad = acc.filter(pl.col("account_id").is_in(sorted(cycle)))
        rec = bad.select([*self.ident("accounts", bad.schema), pl.col("parent_account_id").alias("value")])
        self.add("hierarchy_cycle", "integrity", "accounts", "parent_account_id", "error", bad.height, with_parent.height,
                 f"{bad.height:,} account(s) are their own ancestor (the parent links go round in a circle)",
                 "break the loop: give the top account of each group no parent", rec if bad.height else None)

    # ------------------------------------------------------------------ validity

    def validity(self, name: str, t: TableLoad) -> None:
        lf = self.lazy(name)
        sch = lf.collect_schema()
        critical = set(self.s.critical_columns) if name == "accounts" else set()
        rules: list[tuple[str, str, str, pl.Expr, pl.Expr, pl.Expr, str, str]] = []  # check, column, severity, total, fail, value, message, fix
        numeric = [c for c, dt in sch.items() if c != ROW and dt.is_numeric()]
        lows = {c: 0.0 for tb, c in NON_NEGATIVE if tb == name}
        if name == "usage":
            lows.update({c: 0.0 for c in numeric})
        for c in numeric:
            if c in lows:
                sev = "critical" if c in critical else "error"
                rules.append(("negative_value", c, sev, pl.col(c).is_not_null(), pl.col(c) < 0, _text(pl.col(c), sch[c]),
                              f"{name}.{c} is below zero", f"correct the negative {c} values (a refund or credit belongs in its own record)"))
        top = self.s.max_amount
        for c in numeric:
            if (name, c) in MONEY:
                sev = "critical" if c in critical else "error"
                rules.append(("implausible_value", c, sev, pl.col(c).is_not_null(), pl.col(c) > top, _text(pl.col(c), sch[c]),
                              f"{name}.{c} above {top:,.0f}", f"check these {c} values: a unit, scale or parsing error? "
                              "(audit.max_amount sets the limit)"))
        ranges = [r for r in RANGES if r[0] == name]
        if name == "tickets":
            ranges.append(("tickets", "csat", *map(float, self.s.csat_scale)))
        for _, c, lo, hi in ranges:
            if c in sch:
                rules.append(("out_of_range", c, "error", pl.col(c).is_not_null(), (pl.col(c) < lo) | (pl.col(c) > hi), _text(pl.col(c), sch[c]),
                              f"{name}.{c} outside {lo:g}-{hi:g}", f"correct these {c} values; valid values run from {lo:g} to {hi:g}"))
        line = self.future_line(t)
        for c, dt in sch.items():
            if c == ROW or (name, c) in FUTURE_OK or not (dt == pl.Date or isinstance(dt, pl.Datetime)):
                continue
            after = pl.col(c) > line.date() if dt == pl.Date else pl.col(c) > line
            rules.append(("future_date", c, "warning", pl.col(c).is_not_null(), after, _text(pl.col(c), dt),
                          f"{name}.{c} is after the export was taken ({line:%Y-%m-%d %H:%M})",
                          f"check these {c} values: no record can be dated after the export that holds it "
                          "(records after the period end but before the export are not defects; the analyses leave them out)"))
        for tb, first, later, check in DATE_ORDER:
            if tb == name and first in sch and later in sch:
                a, b = pl.col(first).cast(pl.Datetime("us")), pl.col(later).cast(pl.Datetime("us"))
                value = pl.concat_str([pl.lit(f"{later} "), _text(pl.col(later), sch[later]), pl.lit(f" < {first} "), _text(pl.col(first), sch[first])])
                rules.append((check, later, "error", a.is_not_null() & b.is_not_null(), b < a, value,
                              f"{name}.{later} is before {first}", f"correct {first} or {later} on these records"))
        if rules:
            aggs = []
            for i, r in enumerate(rules):
                aggs += [r[3].sum().alias(f"t{i}"), (r[3] & r[4]).sum().alias(f"f{i}")]
            n = lf.select(aggs).collect(engine="streaming").row(0, named=True)
            for i, (check, col, sev, tot, fail, value, what, fix) in enumerate(rules):
                bad = int(n[f"f{i}"] or 0)
                rec = self.records(name, lf, tot & fail, value) if bad else None
                self.add(check, "validity", name, col, sev, bad, int(n[f"t{i}"] or 0), f"{bad:,} record(s): {what}", fix, rec)
        self.before_created(name, lf, sch)

    def future_line(self, t: TableLoad) -> datetime:
        """The line after which a record is dated in the future: when the export was taken (its file's
        modification time, or the query's), and never before the end of the period's last day."""
        end = datetime.combine(self.as_of, datetime.max.time())
        return max(end, t.exported_at) if t.exported_at else end

    def before_created(self, name: str, lf: pl.LazyFrame, sch: pl.Schema) -> None:
        table = contract.TABLES[name]
        c = table.date_column
        if name == "accounts" or not c or c not in sch or "account_id" not in sch or "created_at" not in self.accounts.columns:
            return
        created = self.accounts.select("account_id", pl.col("created_at").alias("_created")).filter(pl.col("_created").is_not_null()).lazy()
        joined = lf.join(created, on="account_id", how="inner")
        day = pl.col(c).cast(pl.Date) if sch[c] != pl.Date else pl.col(c)
        tot, fail = pl.col(c).is_not_null(), day < pl.col("_created")
        n = joined.select(tot.sum().alias("t"), (tot & fail).sum().alias("f")).collect(engine="streaming").row(0, named=True)
        value = pl.concat_str([_text(pl.col(c), sch[c]), pl.lit(" (account created "), pl.col("_created").cast(pl.String), pl.lit(")")])
        rec = self.records(name, joined, tot & fail, value) if n["f"] else None
        self.add("before_account_created", "validity", name, c, "warning", int(n["f"] or 0), int(n["t"] or 0),
                 f"{int(n['f'] or 0):,} {name} record(s) are dated before their account was created",
                 "check the account's created date in the CRM, or the record's date", rec)

    # ------------------------------------------------------------------ consistency

    def arr_vs_billing(self) -> None:
        if not (self.has("invoices", "amount", "issued_at") and "arr" in self.accounts.columns):
            return
        inv = (
            self.lazy("invoices")
            .filter(pl.col("account_id").is_in(self.ids.implode()) & pl.col("issued_at").is_not_null() & pl.col("amount").is_not_null() & (pl.col("issued_at") <= self.as_of))
            .group_by("account_id", "issued_at").agg(pl.col("amount").sum())
            .sort("account_id", "issued_at")
            .collect()
        )
        billed = billing_arr(inv, self.as_of, self.s.arr_billing)
        acc = self.accounts.filter(pl.col("arr").is_not_null() & (pl.col("arr") > 0)).select("account_id", "_row", "arr")
        cmp = acc.join(billed, on="account_id", how="inner").with_columns(
            ((pl.col("arr") - pl.col("billed_arr")) / pl.col("billed_arr")).alias("gap")
        )
        tol = self.s.arr_tolerance
        bad_expr = (pl.col("billed_arr") <= 0) | (pl.col("gap").abs() > tol + 1e-9)
        self._detail("arr", cmp)
        bad = cmp.filter(bad_expr)
        rec = bad.select(
            *self.ident("accounts", bad.schema),
            pl.format("CRM ARR {} vs billing {} ({}%)", pl.col("arr").round(2), pl.col("billed_arr").round(2), (pl.col("gap") * 100).round(1)).alias("value"),
        )
        how = "the latest invoice x invoices per year" if self.s.arr_billing == "run_rate" else "the last 12 months of invoices"
        self.add("arr_billing_mismatch", "consistency", "accounts", "arr", "error", bad.height, cmp.height,
                 f"{bad.height:,} account(s): CRM ARR differs from billing ({how}) by more than {tol:.0%}",
                 "reconcile ARR in the CRM with the billing system (contract amendments, upsells not booked)", rec if bad.height else None)

    def renewal_dates(self) -> None:
        if not (self.has("renewals", "renewal_date") and "renewal_date" in self.accounts.columns):
            return
        ren = self.lazy("renewals").filter(pl.col("renewal_date").is_not_null()).select("account_id", "renewal_date").collect()
        if ren.is_empty():
            return
        first = ren["renewal_date"].min()
        slack = timedelta(days=31)
        acc = self.accounts.filter(pl.col("renewal_date").is_not_null()).select("account_id", "_row", "renewal_date")
        # A renewal date that has passed (inside the renewals history) should have its outcome recorded.
        due = acc.filter((pl.col("renewal_date") <= self.as_of) & (pl.col("renewal_date") >= first))
        near = due.join(ren.rename({"renewal_date": "r"}), on="account_id", how="inner").filter(
            (pl.col("r") - pl.col("renewal_date")).abs() <= slack)
        missing = due.filter(~pl.col("account_id").is_in(near["account_id"].implode()))
        rec = missing.select(*self.ident("accounts", missing.schema), pl.col("renewal_date").cast(pl.String).alias("value"))
        self.add("renewal_outcome_missing", "consistency", "accounts", "renewal_date", "warning", missing.height, due.height,
                 f"{missing.height:,} account(s) have a renewal date that has passed but no renewal outcome within 31 days of it",
                 "record the renewal outcome (renewed, churned, expanded, contracted), or correct the renewal date", rec if missing.height else None)
        # An outcome recorded after the CRM's renewal date means that date was not rolled forward.
        latest = ren.group_by("account_id").agg(pl.col("renewal_date").max().alias("last_outcome"))
        both = acc.join(latest, on="account_id", how="inner")
        late = both.filter(pl.col("last_outcome") > pl.col("renewal_date") + slack)
        rec = late.select(*self.ident("accounts", late.schema),
                          pl.format("CRM renewal {} < outcome recorded {}", pl.col("renewal_date"), pl.col("last_outcome")).alias("value"))
        self.add("renewal_date_behind", "consistency", "accounts", "renewal_date", "warning", late.height, both.height,
                 f"{late.height:,} account(s) have a renewal outcome recorded after the CRM's renewal date",
                 "roll the renewal date in the CRM forward to the next term", rec if late.height else None)

    def volume(self) -> None:
        prev = (self.previous or {}).get("tables") or {}
        rows = []
        for name, t in self.loaded():
            before = (prev.get(name) or {}).get("rows")
            if not before:
                continue
            now = t.rows
            change = (now - before) / before
            bad = abs(change) > self.s.volume_change
            rows.append({"table": name, "previous": before, "rows": now, "change": change, "flagged": bad})
            self.add("volume_change", "consistency", name, None, "warning", int(bad), 1,
                     f"{name} has {now:,} rows against {before:,} last period ({change:+.0%})",
                     "check the export is complete (a filter or a failed sync can drop rows; a double load adds them)",
                     self.table_row(name, None, f"{before} -> {now} rows ({change:+.0%})") if bad else None)
        if rows:
            self.details["volume"] = pl.DataFrame(rows)

    # ------------------------------------------------------------------ coverage

    def coverage(self) -> None:
        active = self.active
        n = active.len()
        windows = self.s.coverage_days
        rows = []
        for source, days in windows.items():
            if source not in contract.TABLES or not self.has(source, "account_id"):
                continue
            lf = self.lazy(source)
            c = contract.TABLES[source].date_column
            if days is not None and c and c in lf.collect_schema():
                start = self.as_of - timedelta(days=int(days) - 1)
                day = pl.col(c).cast(pl.Date)
                lf = lf.filter((day >= start) & (day <= self.as_of))
            seen = lf.select(pl.col("account_id").unique()).collect(engine="streaming")["account_id"]
            missing = active.filter(~active.is_in(seen.implode()))
            scored = source in self.s.coverage_expected
            window = f"in the last {days} days" if days else "at all"
            rows.append({"source": source, "covered": n - missing.len(), "accounts": n, "share": (n - missing.len()) / n if n else 1.0,
                         "window": window, "expected": scored})
            if scored:
                sub = self.accounts.filter(pl.col("account_id").is_in(missing.implode()))
                rec = sub.select(*self.ident("accounts", sub.schema), pl.lit(f"no {source} {window}").alias("value"))
                self.add("coverage", "coverage", source, "account_id", "error", missing.len(), n,
                         f"{missing.len():,} of {n:,} active accounts have no {source} records {window}",
                         f"check the {source} export includes every customer and that its account ids match the CRM", rec if missing.len() else None)
        if rows:
            self.details["coverage"] = pl.DataFrame(rows)
        if "csm_owner" in self.accounts.columns:
            act = self.accounts.filter(pl.col("account_id").is_in(active.implode()))
            none = act.filter(pl.col("csm_owner").is_null())
            rec = none.select(*self.ident("accounts", none.schema), pl.lit("no CSM owner").alias("value"))
            self.add("no_owner", "coverage", "accounts", "csm_owner", "error", none.height, act.height,
                     f"{none.height:,} active account(s) have no CSM owner",
                     "assign a CSM owner to every active account", rec if none.height else None)

    # ------------------------------------------------------------------ freshness

    def freshness(self) -> None:
        rows = []
        end = datetime.combine(self.as_of + timedelta(days=1), datetime.min.time())
        for name, t in self.loaded():
            table = contract.TABLES[name]
            c = table.date_column
            lf = self.lazy(name)
            if name in SNAPSHOTS or not c or c not in lf.collect_schema() or t.rows == 0:
                continue  # an empty table is already a completeness finding
            is_date = lf.collect_schema()[c] == pl.Date
            upto = lf.filter(pl.col(c) <= self.as_of) if is_date else lf.filter(pl.col(c) < end)
            latest = upto.select(pl.col(c).max()).collect(engine="streaming").item()
            limit = float(self.s.freshness_hours[table.system])
            if latest is None:
                age, gap = math.inf, 1
            else:
                last_day = latest if is_date else latest.date()
                age = (self.as_of - last_day).days * 24.0 if is_date else (end - latest).total_seconds() / 3600
                since = last_day - timedelta(days=FRESHNESS_LOOKBACK_DAYS)
                days = (
                    upto.select(pl.col(c).cast(pl.Date).alias("d")).filter(pl.col("d") >= since)
                    .unique().sort("d").tail(FRESHNESS_DATES).collect(engine="streaming")["d"]
                )
                gap = usual_gap_days(days)
            allowed = limit + 24.0 * (gap - 1)
            stale = age > allowed
            shown = "no dated records" if latest is None else f"latest {latest} ({age:.0f} h before period end; allowed {allowed:.0f} h)"
            rows.append({"table": name, "column": c, "system": table.system, "latest": str(latest) if latest is not None else None,
                         "age_hours": age if math.isfinite(age) else None, "usual_gap_days": gap, "allowed_hours": allowed, "stale": stale})
            self.add("stale_source", "freshness", name, c, "error", int(stale), 1,
                     f"{name}: {shown}",
                     f"refresh the {name} export (or its sync) so it reaches the period end", self.table_row(name, c, shown) if stale else None)
        if rows:
            self.details["freshness"] = pl.DataFrame(rows, schema=FRESHNESS_COLUMNS)


# ---------------------------------------------------------------------------- pure helpers


def hierarchy_cycles(parent: dict[str, str]) -> set[str]:
    """Accounts that are their own ancestor (on a cycle of parent links; self-parents included)."""
    on_cycle: set[str] = set()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in parent:
        path, node = [], start
        while node in parent and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = parent[node]
        if state.get(node) == 1:  # walked back into the current path: the tail from `node` is a cycle
            on_cycle.update(path[path.index(node):])
        for p in path:
            state[p] = 2
    return on_cycle


def salesforce_id_hint(known: pl.Series, orphans: pl.Series | None, table: str) -> str:
    """Salesforce writes the same record id in 15 case-sensitive characters (reports) or 18 (the API,
    Data Loader, CASESAFEID): exports of both kinds never match. The fix when most orphans are that."""
    if orphans is None or orphans.is_empty() or known.is_empty():
        return ""
    lengths = {int(x) for x in known.str.len_chars().unique().to_list() if x is not None}
    if lengths == {15}:
        same = orphans.str.len_chars().eq(18) & orphans.str.slice(0, 15).is_in(known.implode())
        other, ours = 18, 15
    elif lengths == {18}:
        same = orphans.str.len_chars().eq(15) & orphans.is_in(known.str.slice(0, 15).implode())
        other, ours = 15, 18
    else:
        return ""
    if same.sum() * 2 < orphans.len():
        return ""
    return (f"the accounts export holds {ours}-character Salesforce ids and {table} {other}-character ones for the same "
            "accounts: export both with the same kind of id (18 characters: the CASESAFEID() formula, Data Loader or the API)")


def usual_gap_days(days: pl.Series) -> int:
    """The source's usual rhythm: the 90th percentile gap between consecutive record dates (1 = daily)."""
    if days.len() < 2:
        return 1
    gaps = days.sort().diff().dt.total_days().drop_nulls()
    return max(1, int(gaps.quantile(0.9, interpolation="higher")))


def billing_arr(inv: pl.DataFrame, as_of: date, method: str = "run_rate") -> pl.DataFrame:
    """Annualised billing per account from invoices (account_id, issued_at, amount; sorted).

    run_rate: the latest invoice x invoices per year, read from that account's median spacing
    between invoices (quarterly -> 4), or the client's overall median for a single invoice.
    last_12_months: invoices issued in the 365 days to as_of, for accounts billed for a full year.
    """
    if inv.is_empty():
        return pl.DataFrame(schema={"account_id": pl.String, "billed_arr": pl.Float64, "per_year": pl.Float64})
    if method == "last_12_months":
        start = as_of - timedelta(days=364)
        return (
            inv.group_by("account_id")
            .agg(pl.col("amount").filter(pl.col("issued_at") >= start).sum().alias("billed_arr"), pl.col("issued_at").min().alias("first"))
            .filter(pl.col("first") <= start)
            .select("account_id", "billed_arr", pl.lit(None, pl.Float64).alias("per_year"))
        )
    gaps = inv.with_columns(pl.col("issued_at").diff().over("account_id").dt.total_days().alias("gap"))
    overall = gaps["gap"].drop_nulls().median()
    per = gaps.group_by("account_id", maintain_order=True).agg(
        pl.col("amount").last().alias("latest"), pl.col("gap").drop_nulls().median().alias("gap")
    )
    per = per.with_columns(pl.col("gap").fill_null(overall if overall else 365.25))
    per = per.with_columns((365.25 / pl.col("gap").clip(lower_bound=1)).round(0).clip(1, 365).alias("per_year"))
    return per.select("account_id", (pl.col("latest") * pl.col("per_year")).alias("billed_arr"), "per_year")
