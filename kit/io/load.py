"""Loading a client's data onto the canonical tables: column mapping, value mapping, parsing.

Two modes, so that the audit can report what the batch must refuse:

* strict: the first unparseable value or unknown label raises an error naming the file, the
  column and an example;
* lenient (default): such values become null and are recorded as `Problem`s with counts and
  examples; `TableLoad.failing_rows` lists every affected record for the client's fix list.

Structural problems (file missing or unreadable, a mapped column absent) always raise for the
required `accounts` table; for optional tables lenient loading records them in
`ClientData.unavailable` so the report can say why a check did not run.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property
from typing import Callable

import polars as pl

from kit.io import conventions, sources
from kit import contract, present, uris
from kit.errors import KitError, KitErrors, ParseError, SourceError
from kit.io.layout import normalise_name
from kit.io.notes import Note, column_label
from kit.params import Parameters

ROW = sources.RECORD  # 1-based record number within the source (1 = the first row after the header)


@dataclass
class Problem:
    """Values in one column that could not be taken as they are (lenient loading)."""

    table: str
    column: str | None
    code: str  # unparseable_date | unparseable_datetime | unparseable_number | unparseable_integer | unparseable_bool | unparseable_id | unknown_label
    count: int
    examples: list[str]
    where: str
    fix: str
    source_column: str | None = None  # the export's own name for `column`

    WHAT = {
        "unparseable_date": "values are not dates",
        "unparseable_datetime": "values are not dates/times",
        "unparseable_number": "values are not numbers",
        "unparseable_integer": "values are not whole numbers",
        "unparseable_bool": "values are not true/false",
        "unparseable_id": "ids are in scientific notation (a spreadsheet rounded them; digits are lost)",
        "unknown_label": "values are not known labels",
    }
    WHAT_ONE = {  # the same, said of a single value
        "unparseable_date": "value is not a date",
        "unparseable_datetime": "value is not a date/time",
        "unparseable_number": "value is not a number",
        "unparseable_integer": "value is not a whole number",
        "unparseable_bool": "value is not true/false",
        "unparseable_id": "id is in scientific notation (a spreadsheet rounded it; digits are lost)",
        "unknown_label": "value is not a known label",
    }

    @property
    def text(self) -> str:
        """What is wrong, without where: `3 values are not dates (e.g. 'x', 'y')`."""
        ex = f" (e.g. {', '.join(repr(x) for x in self.examples[:3])})" if self.examples else ""
        what = self.WHAT.get(self.code, self.code.replace("_", " "))
        if self.count == 1:  # "1 value is not a date", not "1 values are not dates"
            what = self.WHAT_ONE.get(self.code, what)
        return f"{self.count:,} {what}{ex}"

    @property
    def message(self) -> str:
        return f"{self.where}:{column_label(self.column, self.source_column)} {self.text}"

    def error(self) -> ParseError:
        return ParseError(f"{column_label(self.column, self.source_column).strip()} {self.text}".strip(), where=self.where, fix=self.fix, code=self.code)


@dataclass
class TableLoad:
    """One canonical table, loaded: typed lazy frame plus what loading noticed."""

    name: str
    raw: sources.RawSource
    frame: pl.LazyFrame  # canonical, typed columns + ROW
    text: pl.LazyFrame  # the same records before parsing (client values, canonical names) + ROW
    mapping: dict[str, str] = field(default_factory=dict)  # canonical -> client column
    kind: str = "table"  # "daily" / "events" for usage
    notes: list[Note] = field(default_factory=list)  # how the source was read and its values decided
    _failed: dict[str, pl.Expr] = field(default_factory=dict, repr=False)
    _info: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    typing: Callable[[pl.LazyFrame], pl.LazyFrame] | None = field(default=None, repr=False)  # text -> frame (kit.io.cache re-types a copy)

    @cached_property
    def problems(self) -> list[Problem]:
        """Unparseable values and unknown labels (one pass over the source, on first use)."""
        found = _collect_problems(self.name, self.text, self._failed, self._info, self.location)
        return [replace(p, source_column=self.mapping.get(p.column)) for p in found]

    @property
    def location(self) -> str:
        return self.raw.location

    @property
    def exported_at(self) -> datetime | None:
        """When the export was taken (the file's modification time, or the query's)."""
        return self.raw.exported_at

    @cached_property
    def rows(self) -> int:
        if self.raw.rows is not None and self.kind != "events":
            return self.raw.rows
        return int(self.text.select(pl.len()).collect().item())

    def failing_rows(self, column: str) -> pl.DataFrame:
        """Every record whose `column` value failed to parse: ROW, key columns, the client's value."""
        if column not in self._failed:
            return pl.DataFrame()
        keys = [k for k in contract.TABLES[self.name].key if k in self.mapping and k != column]
        return (
            self.text.filter(self._failed[column])
            .select([ROW, *keys, pl.col(column).alias("value")])
            .collect()
        )


class ClientData:
    """All of a client's tables, each loaded on first use and cached.

    Loading is per table, so a notebook that reads three tables does not pay for twelve;
    `loads`, `unavailable`, `errors` and `problems` load every configured table.
    """

    def __init__(self, params: Parameters, *, strict: bool = False):
        self.params = params
        self.strict = strict
        self._loads: dict[str, TableLoad] = {}
        self._failed: dict[str, KitError] = {}
        self._raws: dict[str, sources.RawSource] = {}  # every source read, loaded or not (for `inputs`)
        self._inputs: dict[str, dict] | None = None  # set when the tables come from a run's cache (kit.io.cache)
        self._frames: dict[str, pl.DataFrame] = {}
        for name in contract.REQUIRED_TABLES:
            self._load(name)  # a broken required table stops here, with its message
        if strict:
            self.load_all()

    @classmethod
    def loaded(cls, params: Parameters, loads: dict[str, TableLoad], failed: dict[str, KitError], *,
               raws: dict[str, sources.RawSource] | None = None, inputs: dict[str, dict] | None = None) -> "ClientData":
        """Tables loaded already (kit.io.cache reads them back from a run's cache): nothing is read from the sources."""
        self = cls.__new__(cls)
        self.params, self.strict = params, False
        self._loads, self._failed, self._raws, self._inputs, self._frames = dict(loads), dict(failed), dict(raws or {}), inputs, {}
        return self

    @classmethod
    def deferred(cls, params: Parameters) -> "ClientData":
        """Nothing read yet, not even the accounts table (kit.io.cache.write reads what its store lacks)."""
        return cls.loaded(params, {}, {})

    def _load(self, name: str) -> TableLoad | None:
        if name in self._loads or name in self._failed or name not in self.params.sources:
            return self._loads.get(name)
        try:
            self._raws[name] = sources.read(name, self.params.sources[name], self.params)
            self._loads[name] = load_table(self.params, name, strict=self.strict, raw=self._raws[name])
        except KitError as e:
            if self.strict or name in contract.REQUIRED_TABLES:
                raise
            self._failed[name] = e
        return self._loads.get(name)

    def load_all(self) -> "ClientData":
        for name in self.params.sources:
            self._load(name)
        return self

    @property
    def loads(self) -> dict[str, TableLoad]:
        self.load_all()
        return {n: self._loads[n] for n in contract.TABLES if n in self._loads}

    @property
    def errors(self) -> list[KitError]:
        """Structural errors of optional tables (lenient mode)."""
        self.load_all()
        return list(self._failed.values())

    @property
    def unavailable(self) -> dict[str, str]:
        """Table -> why it cannot be used (not configured, or its source is unusable)."""
        self.load_all()
        out = {}
        for name in contract.TABLES:
            if name not in self.params.sources:
                out[name] = f"not configured: the parameters file has no source for {present.label(name)}"
            elif name in self._failed:
                out[name] = str(self._failed[name])
        return out

    @property
    def inputs(self) -> dict[str, dict]:
        """For the manifest, from the read that loaded the tables: every configured source's location, kind,
        row count and SHA-256 (of the file, or of the query), or the error that made it unreadable."""
        if self._inputs is not None:
            return self._inputs
        self.load_all()
        out = {}
        for name, src in self.params.sources.items():
            raw = self._raws.get(name)
            if raw is None:
                out[name] = {"location": src.path or uris.mask_uri(src.uri or ""), "error": str(self._failed[name])}
            else:
                rows = self._loads[name].rows if name in self._loads else raw.rows
                out[name] = input_entry(raw, rows if rows is not None else int(raw.frame.select(pl.len()).collect().item()))
        return out

    def failure(self, name: str) -> KitError | None:
        """Why a configured table could not be loaded (None if it loaded or is not configured)."""
        self._load(name)
        return self._failed.get(name)

    def has(self, name: str) -> bool:
        return self._load(name) is not None

    def lazy(self, name: str) -> pl.LazyFrame:
        return self._require(name).frame

    def table(self, name: str) -> pl.DataFrame:
        """The collected table (cached). For very large usage logs prefer `lazy`."""
        t = self._require(name)
        if name not in self._frames:
            self._frames[name] = t.frame.collect(engine="streaming")
        return self._frames[name]

    @property
    def problems(self) -> list[Problem]:
        return [p for t in self.loads.values() for p in t.problems]

    @property
    def notes(self) -> list[Note]:
        """What loading decided about every loaded table (kit.io.notes)."""
        return [n for t in self.loads.values() for n in t.notes]

    def _require(self, name: str) -> TableLoad:
        t = self._load(name)
        if t is None:
            reason = self.unavailable.get(name, f"unknown table (tables: {', '.join(contract.TABLES)})")
            raise SourceError(f"table {name!r} is not available: {reason}", where=f"sources.{name}", code="unavailable")
        return t


def load_client(params: Parameters, *, strict: bool = False) -> ClientData:
    return ClientData(params, strict=strict)


def input_entry(raw: sources.RawSource, rows: int) -> dict:
    """A source as the manifest records it: where, what kind, how many records, and its fingerprint."""
    entry = {"location": raw.location, "kind": raw.kind, "rows": rows, "sha256" if raw.kind == "file" else "query_sha256": raw.sha256}
    if raw.notes:
        entry["notes"] = [n.text for n in raw.notes]
    return entry


# ---------------------------------------------------------------------------- one table


def load_table(params: Parameters, name: str, *, strict: bool = False, raw: sources.RawSource | None = None) -> TableLoad:
    src = params.sources[name]
    raw = raw or sources.read(name, src, params)
    table, kind = _table_for(name, src)
    mapping, notes = _resolve_mapping(raw, table, src)
    if raw.rows == 0 or (raw.rows is None and raw.records.head(1).collect().is_empty()):
        raise SourceError(
            "has a header but no records", where=raw.location, code="empty_table",
            fix=f"export {name} again with its records (check the export's filters and date range)",
        )
    columns = [pl.col(client).alias(canon) for canon, client in mapping.items()]
    text = raw.records.select(ROW, *columns)
    exprs, failed, info, decided = _parsers(text, table, src, mapping, raw)

    def typing(text: pl.LazyFrame) -> pl.LazyFrame:
        if kind == "events":
            return aggregate_events(text.drop(ROW), src.login_events, parse=exprs)
        return text.select(ROW, *exprs)

    decided = [replace(n, source_column=mapping.get(n.column)) for n in decided]
    loaded = TableLoad(name, raw, typing(text), text, mapping, kind, [*raw.notes, *notes, *decided], failed, info, typing)
    if strict and loaded.problems:
        problems = loaded.problems
        raise KitErrors([p.error() for p in problems]) if len(problems) > 1 else problems[0].error()
    return loaded


def _table_for(name: str, src) -> tuple[contract.Table, str]:
    if name != "usage":
        return contract.TABLES[name], "table"
    targets = set(src.columns.values())
    kind = src.kind or ("events" if "timestamp" in targets or "user_id" in targets else "daily")
    return (contract.USAGE_EVENTS if kind == "events" else contract.TABLES["usage"]), kind


def _resolve_mapping(raw: sources.RawSource, table: contract.Table, src) -> tuple[dict[str, str], list[Note]]:
    """canonical -> client column; mapped names are matched exactly, then ignoring case and spacing.
    A header name written twice is an error when the table uses it (which one holds the data?)."""
    columns = raw.columns
    shown = [c for c in columns if not any(c.startswith(f"{d}_duplicated_") for d in raw.duplicates)]
    by_norm = {}
    for c in shown:
        by_norm.setdefault(normalise_name(c), c)
    mapping: dict[str, str] = {}
    missing = []
    for client, canon in src.columns.items():
        found = client if client in shown else by_norm.get(normalise_name(client))
        if found is None:
            missing.append(f"{client!r} (mapped to {canon})")
        else:
            mapping[canon] = found
    if missing:
        raise SourceError(
            f"mapped column(s) {', '.join(missing)} not in the file", where=raw.location, code="missing_column",
            fix=f"correct sources.{raw.table}.columns; the file has: {', '.join(shown)}",
        )
    # canonical names present as they are need no mapping
    taken = set(mapping.values())
    for col in table.column_names:
        if col not in mapping and normalise_name(col) in by_norm and by_norm[normalise_name(col)] not in taken:
            mapping[col] = by_norm[normalise_name(col)]
    absent = [c for c in table.required if c not in mapping]
    if absent:
        raise SourceError(
            f"required column(s) {', '.join(absent)} of {table.name} are not mapped", where=raw.location,
            code="missing_column",
            fix=f"add `sources.{raw.table}.columns: {{<client column>: {absent[0]}}}`; the file has: {', '.join(shown)}",
        )
    used = {client: canon for canon, client in mapping.items()}
    twice = {name: n for name, n in raw.duplicates.items() if name in used}
    if twice:
        listed = ", ".join(f"{name!r} ({n} times, mapped to {used[name]})" for name, n in twice.items())
        raise SourceError(
            f"the header repeats column name(s) {listed}: which one holds the data is unknown", where=raw.location,
            code="duplicate_column", fix="rename or delete the repeated column in the export so each name appears once",
        )
    notes = [Note(raw.table, None, "duplicate_header", f"the header repeats {name!r} ({n} times); not used, so ignored", "", False, raw.location)
             for name, n in raw.duplicates.items()]
    return mapping, notes


# ---------------------------------------------------------------------------- parsing


def _blank(col: str, dtype: pl.DataType) -> pl.Expr:
    if dtype != pl.String:
        return pl.col(col).is_null()
    return pl.col(col).is_null() | (pl.col(col).str.strip_chars() == "")


def _parsers(text: pl.LazyFrame, table: contract.Table, src, mapping: dict[str, str], raw: sources.RawSource):
    """Per mapped column: the expression that parses it, and for columns that can fail to parse,
    the expression marking a failure and its (problem code, fix); and the notes of what was decided
    from the whole column (kit.io.conventions)."""
    schema_in = text.collect_schema()
    where = f"sources.{raw.table}"
    cols = {canon: table.column(canon) or contract.Column(canon, contract.FLOAT) for canon in mapping}  # extra usage features are numeric
    textual = [c for c in cols if schema_in[c] == pl.String]
    dates = [c for c in textual if cols[c].type in (contract.DATE, contract.DATETIME)]
    numbers = [c for c in textual if cols[c].type in (contract.FLOAT, contract.INT)]
    ids = [c for c in cols if cols[c].identifier and (schema_in[c] == pl.String or schema_in[c].is_float())]  # whole numbers need no look
    survey = conventions.Survey(text, dates, numbers, ids)
    numbers_read = conventions.number_reading(raw.table, survey, numbers, src.decimal_comma, raw.location)
    notes: list[Note] = list(numbers_read.notes)
    exprs: list[pl.Expr] = []
    failed: dict[str, pl.Expr] = {}
    info: dict[str, tuple[str, str]] = {}  # column -> (problem code, fix)
    for canon, column in cols.items():
        dtype = schema_in[canon]
        floats, scientific, said = conventions.id_reading(raw.table, canon, survey, raw.location) if canon in ids else (False, False, [])
        reading = conventions.date_reading(raw.table, canon, survey, src.date_format, raw.location) if canon in dates else None
        notes += said + (reading.notes if reading else [])
        parsed, code, fix = _parser(column, dtype, src, text, where, numbers_read, reading, (floats, scientific))
        exprs.append(parsed.alias(canon))
        if code:
            failed[canon] = ~_blank(canon, dtype) & parsed.is_null()
            info[canon] = (code, fix)
    return exprs, failed, info, notes


def _parser(column: contract.Column, dtype: pl.DataType, src, text: pl.LazyFrame, where: str,
            numbers: conventions.NumberReading, reading: conventions.DateReading | None,
            ids: tuple[bool, bool]) -> tuple[pl.Expr, str | None, str]:
    c = column.name
    s = pl.col(c).cast(pl.String).str.strip_chars()
    t = column.type
    if t == contract.STR:
        out = pl.when(s != "").then(s) if dtype == pl.String else pl.col(c).cast(pl.String)
        if any(ids):
            fails = "unparseable_id" if ids[1] else None
            return conventions.parse_id(out, *ids), fails, f"export {c} as text (in a spreadsheet: format the column as Text before saving)"
        return out, None, ""
    if t in (contract.FLOAT, contract.INT):
        if dtype.is_numeric():
            num = conventions.finite(pl.col(c).cast(pl.Float64))
        else:
            num = conventions.parse_number(s, numbers.comma, numbers.currencies.get(c))
        other = "false if they use 1,234.50" if numbers.comma else "true if they use 1.234,50"
        if t == contract.INT:
            whole = pl.when(num == num.round(0)).then(num).cast(pl.Int64)
            return whole, "unparseable_integer", f"fix the values at the source, or map the column elsewhere in {where}.columns"
        return num, "unparseable_number", f"fix the values at the source, or set {where}.decimal_comma: {other}"
    if t in (contract.DATE, contract.DATETIME):
        if dtype == pl.Date:
            out = pl.col(c) if t == contract.DATE else pl.col(c).cast(pl.Datetime("us"))
            return out, None, ""
        if isinstance(dtype, pl.Datetime):
            naive = pl.col(c).dt.convert_time_zone("UTC").dt.replace_time_zone(None) if dtype.time_zone else pl.col(c)
            return (naive.dt.date() if t == contract.DATE else naive.cast(pl.Datetime("us"))), None, ""
        formats = conventions.infer_formats(text, c, reading.candidates)
        parsed = conventions.parse_datetime(s, formats, reading)
        code = "unparseable_date" if t == contract.DATE else "unparseable_datetime"
        fix = (f"set {where}.date_format to the dates' format (e.g. %m/%d/%Y); read as {' or '.join(formats[:2])}" if not src.date_format
               else f"check {where}.date_format ({src.date_format}) against these values")
        return (parsed.dt.date() if t == contract.DATE else parsed), code, fix
    if t == contract.BOOL:
        if dtype == pl.Boolean:
            return pl.col(c), None, ""
        low = s.str.to_lowercase()
        out = pl.when(low.is_in(list(contract.TRUE_LABELS))).then(True).when(low.is_in(list(contract.FALSE_LABELS))).then(False)
        return out.cast(pl.Boolean), "unparseable_bool", "use yes/no or true/false values"
    if t == contract.CATEGORY:
        mapping = src.values.get(c, {})
        exact = {k: v for k, v in mapping.items()}
        folded = {k.strip().casefold(): v for k, v in mapping.items()}
        folded.update({lab: lab for lab in column.labels})
        low = s.str.to_lowercase()
        out = s.replace_strict(exact, default=None, return_dtype=pl.String)
        out = pl.coalesce(out, low.replace_strict(folded, default=None, return_dtype=pl.String))
        fix = f"map them in {where}.values.{c}: {{<label>: one of {', '.join(column.labels)}}}"
        return out, "unknown_label", fix
    raise AssertionError(f"unknown column type {t}")


def _collect_problems(name, text, failed, info, where) -> list[Problem]:
    """One streaming pass counts the failures of every column (flat memory on any size); the
    examples of a column that has failures come from a query of their own over its failing rows."""
    if not failed:
        return []
    counts = text.select([expr.sum().alias(col) for col, expr in failed.items()]).collect(engine="streaming").row(0, named=True)
    problems = []
    for col, expr in failed.items():
        n = int(counts[col] or 0)
        if not n:
            continue
        code, fix = info[col]
        bad = text.filter(expr).select(pl.col(col).cast(pl.String))
        if code == "unknown_label":
            seen = bad.unique().sort(col).head(20).collect(engine="streaming").to_series().to_list()
            examples, fix = seen, f"{fix} (labels seen: {', '.join(map(str, seen))})"
        else:
            examples = bad.head(1000).unique(maintain_order=True).head(5).collect().to_series().to_list()
        problems.append(Problem(name, col, code, n, [str(x) for x in examples], where, fix))
    return problems


# ---------------------------------------------------------------------------- events


def aggregate_events(
    events: pl.LazyFrame, login_events: list[str], partitions: int = 4, parse: list[pl.Expr] | None = None
) -> pl.LazyFrame:
    """Raw product events -> daily usage: distinct active users, logins and all events per account and day.

    Lazy and streamed: the event log is never held in memory whole. Counting distinct users
    needs a set per account-day; to bound that memory the accounts are split into `partitions`
    groups (by a hash of the account id) aggregated one after the other, and user ids are hashed
    to 64-bit integers before counting (a collision within one account-day is vanishingly rare).
    `parse`, the loader's column parsers, is applied after a group is selected, so each event is
    parsed once. On 51 million events this cut peak memory from 5.8 GiB to about 1.5 GiB.
    """
    account = next((e for e in parse or [] if e.meta.output_name() == "account_id"), pl.col("account_id"))
    event = pl.col("event") if "event" in events.collect_schema().names() else pl.lit(None, pl.String)

    def group(i: int) -> pl.LazyFrame:
        part = events.filter(account.hash() % partitions == i)
        if parse is not None:
            part = part.select(parse)
        return (
            part.filter(pl.col("timestamp").is_not_null() & pl.col("account_id").is_not_null())
            .group_by("account_id", pl.col("timestamp").dt.date().alias("date"))
            .agg(
                pl.col("user_id").hash().n_unique().cast(pl.Int64).alias("active_users"),
                event.is_in(login_events).sum().cast(pl.Int64).alias("logins"),
                pl.len().cast(pl.Int64).alias("events"),
            )
        )

    return pl.concat([group(i) for i in range(partitions)], parallel=False).with_row_index(ROW, offset=1)


def earliest(data: ClientData) -> dict[str, date]:
    """The earliest record date of every loaded table that has one (its date column), for the period check."""
    out = {}
    for name, t in data.loads.items():
        c = (contract.USAGE_EVENTS if t.kind == "events" else contract.TABLES[name]).date_column
        if c is None or c not in t.mapping:
            continue
        first = t.frame.select(pl.col("date" if t.kind == "events" else c).min()).collect(engine="streaming").item()
        if first is not None:
            out[name] = first if isinstance(first, date) and not isinstance(first, datetime) else first.date()
    return out


def summary(data: ClientData) -> pl.DataFrame:
    """One row per canonical table: where it comes from, rows, and what loading decided or found, or why it is unavailable."""
    rows = []
    for name in contract.TABLES:
        if name in data.loads:
            t = data.loads[name]
            said = [f"{n.column + ': ' if n.column else ''}{n.text}" for n in t.notes]
            said += [f"{p.column or ''}: {p.count} {p.code}" for p in t.problems]
            rows.append({"table": name, "source": t.location, "rows": t.rows, "status": "loaded", "notes": "; ".join(said)})
        else:
            rows.append({"table": name, "source": "", "rows": None, "status": "unavailable", "notes": data.unavailable[name]})
    return pl.DataFrame(rows, schema={"table": pl.String, "source": pl.String, "rows": pl.Int64, "status": pl.String, "notes": pl.String})
