"""How an export writes its values, decided from the whole column (or source), never row by row.

Text exports leave things open that a row cannot settle: `03/04/2024` is March or April,
`1.234` is one or a thousand, `100001.0` is an id a spreadsheet turned into a number, `45306`
is an Excel day number. Deciding per value gives a column of mixed readings (every date with a
day <= 12 read month-first, the rest day-first), which no report would ever show. So the loader
first `survey`s the whole column in one streaming pass, counting the values that can only be
read one way, then reads the whole column the same way:

* date order: day-first or month-first from the values whose first or second number is above
  12; with no such value the column is ambiguous (read month-first, a warning says so);
  `date_format` overrides. Excel day numbers and Unix epochs are read when the column has them.
  Time zones: one offset throughout (`Z` included) is dropped, times taken as written; several
  offsets are converted to UTC, so the times of one column compare.
* decimal separator: decided for the whole source from the values only one convention reads
  (`1.234,50`, `12,5` vs `1,234.50`, `12.5`); `decimal_comma` overrides. Then each value must be
  well formed in that convention (`30.400,00` under decimal point is unparseable, not 30.4).
  Currency symbols and codes are dropped when a column holds one currency; values in another
  currency than the column's main one are unparseable. `85%` reads as 85.
* identifiers: `100001.0` reads as `100001`; `1.00001E+11` (a spreadsheet's rounding) is unparseable.

Every decision is a `Note` (kit.notes): `validate` prints it, the audit reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from kit.notes import Note

DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%m/%d/%y", "%d/%m/%y",
    "%d-%b-%Y", "%d %b %Y", "%b %d, %Y", "%d-%m-%Y",
)
MONTH_FIRST = ("%m/%d/%Y", "%m/%d/%y")
DAY_FIRST = ("%d/%m/%Y", "%d/%m/%y")
TIME_SUFFIXES = (" %H:%M:%S%.f", " %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p", "")
_TZ = r"(Z|[+-]\d{2}:?\d{2})$"
_SLASH = r"^\d{1,2}/\d{1,2}/\d{2,4}\b"
EXCEL_SERIAL = r"^\d{5}(\.\d+)?$"  # days since 1899-12-30: 10000..99999 is 1927..2173
EXCEL_EPOCH = datetime(1899, 12, 30)
UNIX_SECONDS = r"^1\d{9}$"  # 2001..2286
UNIX_MILLISECONDS = r"^1\d{12}$"

SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
_CURRENCY = r"[$€£¥₹]|\b[A-Z]{3}\b"
# Well-formed numbers once currency, spaces and % are gone, in each convention.
POINT_NUMBER = r"^-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$|^-?\.\d+$|^-?\d+(\.\d+)?[eE][+-]?\d+$"
COMMA_NUMBER = r"^-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$|^-?,\d+$"
# Values only one convention reads.
ONLY_COMMA = r"^-?(\d{1,3}(\.\d{3})+,\d+|\d+,(\d{1,2}|\d{4,})|\d{1,3}(\.\d{3}){2,})$"
ONLY_POINT = r"^-?(\d{1,3}(,\d{3})+\.\d+|\d+\.(\d{1,2}|\d{4,})|\d{1,3}(,\d{3}){2,})$"
EITHER = r"^-?\d{1,3}[.,]\d{3}$"  # 1,234 or 1.234: a thousand, or one and a bit

FLOAT_ID = r"^(\d+)\.0+$"
SCIENTIFIC_ID = r"^\d(\.\d+)?[eE]\+\d+$"


# ---------------------------------------------------------------------------- the survey


@dataclass
class Survey:
    """Evidence from one pass over a table's text columns: per column, counts and a few lists."""

    stats: dict[str, dict] = field(default_factory=dict)

    def __getitem__(self, column: str) -> dict:
        return self.stats.get(column, {})


def text(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.strip_chars()


def clean_number(s: pl.Expr) -> pl.Expr:
    """A number as written minus what is not the number: currency, spaces, apostrophes (1'234), %,
    accounting brackets and a trailing minus (both negatives)."""
    s = s.str.replace_all(r"[\s'’%$€£¥₹]|\b[A-Z]{3}\b", "")
    return s.str.replace(r"^\((.*)\)$|^(.*\d)-$", "-$1$2")


def currency(s: pl.Expr) -> pl.Expr:
    """The value's currency code (symbols as their usual code), or null."""
    tok = s.str.extract(f"({_CURRENCY})", 1)
    return tok.replace(SYMBOLS)


def survey(frame: pl.LazyFrame, dates: list[str], numbers: list[str], ids: list[str]) -> Survey:
    """Count, in one streaming pass, what decides how each column is read.

    Regular expressions are the cost here, so each value is cleaned once (`base` columns), its
    tests computed once (`flags`), then everything is counted (`aggs`)."""
    base: list[pl.Expr] = []
    flags: list[pl.Expr] = []
    aggs: list[pl.Expr] = []
    for i, c in enumerate(dates):
        s, d, off, day, month = (f"_{x}{i}" for x in ("ds", "dd", "do", "dday", "dmonth"))
        base += [
            text(c).alias(s),
            text(c).str.extract(_SLASH, 0).str.replace(r"/(\d{2})$", "/20$1").alias(d),  # 2-digit years: only day and month matter
            text(c).str.extract(_TZ, 1).str.replace(":", "").str.replace("^Z$", "+0000").alias(off),
        ]
        flags += [pl.col(d).str.to_date("%d/%m/%Y", strict=False).is_not_null().alias(day),
                  pl.col(d).str.to_date("%m/%d/%Y", strict=False).is_not_null().alias(month)]
        day_ok, month_ok = pl.col(day), pl.col(month)
        aggs += [
            (day_ok & month_ok).sum().alias(f"{c}|slash"),
            (day_ok & ~month_ok).sum().alias(f"{c}|day_first"),
            (month_ok & ~day_ok).sum().alias(f"{c}|month_first"),
            pl.col(s).filter(day_ok ^ month_ok).head(1).implode().alias(f"{c}|order_example"),
            pl.col(off).is_not_null().sum().alias(f"{c}|zoned"),
            (pl.col(s).str.contains(r"\d:\d\d") & pl.col(off).is_null()).sum().alias(f"{c}|naive_times"),
            pl.col(off).drop_nulls().unique().sort().head(6).implode().alias(f"{c}|offsets"),
            pl.col(s).str.contains(EXCEL_SERIAL).sum().alias(f"{c}|excel"),
            pl.col(s).str.contains(UNIX_SECONDS).sum().alias(f"{c}|unix_s"),
            pl.col(s).str.contains(UNIX_MILLISECONDS).sum().alias(f"{c}|unix_ms"),
        ]
    for i, c in enumerate(numbers):
        s, n, cur, comma, point, either = (f"_{x}{i}" for x in ("ns", "nn", "ncur", "ncomma", "npoint", "neither"))
        base += [text(c).alias(s), clean_number(text(c)).alias(n), currency(text(c)).alias(cur)]
        flags += [pl.col(n).str.contains(ONLY_COMMA).alias(comma), pl.col(n).str.contains(ONLY_POINT).alias(point),
                  pl.col(n).str.contains(EITHER).alias(either)]
        aggs += [
            pl.col(comma).sum().alias(f"{c}|comma"),
            pl.col(point).sum().alias(f"{c}|point"),
            pl.col(either).sum().alias(f"{c}|either"),
            pl.col(s).filter(pl.col(comma)).head(1).implode().alias(f"{c}|comma_example"),
            pl.col(s).filter(pl.col(point)).head(1).implode().alias(f"{c}|point_example"),
            pl.col(s).filter(pl.col(either)).head(1).implode().alias(f"{c}|either_example"),
            pl.col(s).str.ends_with("%").sum().alias(f"{c}|percent"),
            pl.col(cur).drop_nulls().unique(maintain_order=True).implode().alias(f"{c}|currencies"),
            pl.col(cur).drop_nulls().unique_counts().implode().alias(f"{c}|currency_counts"),
        ]
    for i, c in enumerate(ids):
        s, f = f"_is{i}", f"_if{i}"
        base += [text(c).alias(s)]
        flags += [pl.col(s).str.contains(FLOAT_ID).alias(f)]
        aggs += [pl.col(f).sum().alias(f"{c}|float_ids"), pl.col(s).filter(pl.col(f)).head(1).implode().alias(f"{c}|float_example")]
    if not aggs:
        return Survey()
    row = frame.select(base).with_columns(flags).select(aggs).collect(engine="streaming").row(0, named=True)
    out: dict[str, dict] = {}
    for key, value in row.items():
        col, stat = key.split("|", 1)
        out.setdefault(col, {})[stat] = value if not isinstance(value, list) else list(value)
    return Survey(out)


def _example(values) -> str:
    return f" (e.g. {values[0]!r})" if values else ""


# ---------------------------------------------------------------------------- dates


@dataclass
class DateReading:
    """How a text date column is read: the formats tried, and the decisions taken."""

    candidates: list[str]
    utc: bool = False  # several time zones: convert to UTC
    excel: bool = False
    unix: str | None = None  # "s" or "ms"
    notes: list[Note] = field(default_factory=list)


def date_reading(table: str, column: str, stats: dict, date_format: str | None, where: str) -> DateReading:
    """Decide a date column's reading from its survey (see the module docstring). `where` is the file."""
    notes: list[Note] = []
    param = f"sources.{table}.date_format"

    def note(code, text, fix, ambiguous=False):
        notes.append(Note(table, column, code, text, fix, ambiguous, where))

    candidates = _candidates(date_format)
    if not date_format:
        day, month, slash = stats.get("day_first", 0) or 0, stats.get("month_first", 0) or 0, stats.get("slash", 0) or 0
        example = _example(stats.get("order_example"))
        if day and month:
            first = "day" if day >= month else "month"
            note("date_order", f"mixes day-first dates ({day:,} with a day above 12 first) and month-first dates ({month:,}); "
                 f"read {first}-first, and the {min(day, month):,} others are reported as unparseable{example}",
                 f"correct the minority at the source, or set {param}", ambiguous=True)
        elif day:
            first = "day"
            note("date_order", f"read day-first (DD/MM/YYYY): {day:,} values can only be day-first{example}, none month-first",
                 f"set {param} to override")
        elif month:
            first = "month"
            note("date_order", f"read month-first (MM/DD/YYYY): {month:,} values can only be month-first{example}, none day-first",
                 f"set {param} to override")
        else:
            first = "month"
            if slash:
                note("date_order", f"ambiguous: none of the {slash:,} dates written like 03/04/2024 has a day above 12, "
                     "so they could be month-first or day-first; read month-first (MM/DD/YYYY)",
                     f"set {param}: '%d/%m/%Y' if they are day-first (or '%m/%d/%Y' to confirm)", ambiguous=True)
        drop = DAY_FIRST if first == "month" else MONTH_FIRST
        candidates = [f for f in candidates if not f.startswith(drop)]
    offsets = stats.get("offsets") or []
    utc = len(offsets) > 1
    if utc:
        note("time_zones", f"times written in {len(offsets)} time zones ({', '.join(offsets)}); converted to UTC"
             + (f", and the {stats['naive_times']:,} times without a zone taken as UTC" if stats.get("naive_times") else ""),
             "export the times in one time zone if they should be read as written")
    elif offsets and offsets != ["+0000"]:
        note("time_zones", f"every zoned time carries {offsets[0]}: times taken as written (local time), the offset dropped",
             "convert the export to UTC if other sources are in UTC")
    excel = bool(stats.get("excel"))
    if excel:
        note("excel_dates", f"{stats['excel']:,} values are Excel day numbers (e.g. 45306 = 2024-01-15), read as dates",
             "format the column as a date in the spreadsheet before exporting")
    unix = "ms" if stats.get("unix_ms") else "s" if stats.get("unix_s") else None
    if unix:
        n = stats.get("unix_ms") if unix == "ms" else stats.get("unix_s")
        note("epoch_times", f"{n:,} values are Unix times in {'milliseconds' if unix == 'ms' else 'seconds'}, read as UTC times", "")
    return DateReading(candidates, utc, excel, unix, notes)


def _candidates(date_format: str | None) -> list[str]:
    if date_format and any(x in date_format for x in ("%H", "%I", "%M", "%S")):
        return [date_format]
    dates = [date_format] if date_format else list(DATE_FORMATS)
    return [d + t for d in dates for t in TIME_SUFFIXES]


def _normalise_timestamp(s: pl.Expr) -> pl.Expr:
    """Drop a trailing time zone and the ISO 'T' separator."""
    return s.str.replace(_TZ, "").str.replace(r"^(\d{4}-\d{2}-\d{2})T", "$1 ")


def infer_formats(frame: pl.LazyFrame, column: str, candidates: list[str], sample: int = 500) -> list[str]:
    """The fewest formats (at most 3) that parse a sample of the column's distinct values.

    Greedy cover: the format parsing most values first (earlier candidates win ties), then
    formats that parse what is left. The date order is already decided (`date_reading`), so
    the cover only chooses among spellings of one order; values no chosen format reads are
    reported, never dropped. Parsing with one or two formats keeps large files fast.
    """
    values = (
        frame.select(text(column))
        .filter(pl.col(column).is_not_null() & (pl.col(column) != ""))
        .head(20_000)
        .unique()
        .head(sample)
        .collect()
        .to_series()
    )
    if values.is_empty():
        return candidates[:1]
    v = _normalise_timestamp(pl.col("v"))
    ok = values.to_frame("v").select(
        [v.str.to_datetime(f, strict=False, time_unit="us").is_not_null().alias(str(i)) for i, f in enumerate(candidates)]
    )
    left = pl.Series([True] * len(values))
    chosen: list[str] = []
    while len(chosen) < 3 and left.any():
        gains = [int((ok[str(i)] & left).sum()) for i in range(len(candidates))]
        best = max(range(len(candidates)), key=lambda i: (gains[i], -i))
        if gains[best] == 0:
            break
        chosen.append(candidates[best])
        left = left & ~ok[str(best)]
    return chosen or candidates[:1]


def parse_datetime(s: pl.Expr, formats: list[str], reading: DateReading | None = None) -> pl.Expr:
    """Text -> naive datetime (us) by the decided reading."""
    clean = _normalise_timestamp(s)
    parsed = [clean.str.to_datetime(f, strict=False, time_unit="us") for f in formats]
    out = parsed[0] if len(parsed) == 1 else pl.coalesce(parsed)
    if reading is None:
        return out
    if reading.utc:
        off = s.str.extract(_TZ, 1).str.replace(":", "").str.replace("^Z$", "+0000")
        minutes = off.str.slice(1, 2).cast(pl.Int64, strict=False) * 60 + off.str.slice(3, 2).cast(pl.Int64, strict=False)
        signed = pl.when(off.str.starts_with("-")).then(-minutes).otherwise(minutes).fill_null(0)
        out = out - pl.duration(minutes=signed)
    extra = []
    if reading.excel:
        days = pl.when(s.str.contains(EXCEL_SERIAL)).then(s.cast(pl.Float64, strict=False))
        extra.append(pl.lit(EXCEL_EPOCH).cast(pl.Datetime("us")) + pl.duration(milliseconds=(days * 86_400_000).round(0).cast(pl.Int64)))
    if reading.unix:
        pattern = UNIX_MILLISECONDS if reading.unix == "ms" else UNIX_SECONDS
        extra.append(pl.from_epoch(pl.when(s.str.contains(pattern)).then(s.cast(pl.Int64, strict=False)), time_unit=reading.unix).cast(pl.Datetime("us")))
    return pl.coalesce([out, *extra]) if extra else out


# ---------------------------------------------------------------------------- numbers


@dataclass
class NumberReading:
    comma: bool
    currencies: dict[str, str] = field(default_factory=dict)  # column -> its currency, where it has one
    notes: list[Note] = field(default_factory=list)


def number_reading(table: str, survey_: Survey, columns: list[str], decimal_comma: bool | None, where: str) -> NumberReading:
    """Decide the decimal separator for a whole source, and each column's currency. `where` is the file."""
    notes: list[Note] = []
    param = f"sources.{table}.decimal_comma"
    comma_cols = {c: survey_[c].get("comma", 0) or 0 for c in columns}
    point_cols = {c: survey_[c].get("point", 0) or 0 for c in columns}
    comma_n, point_n = sum(comma_cols.values()), sum(point_cols.values())
    if decimal_comma is not None:
        comma = decimal_comma
    elif comma_n and point_n:
        comma = comma_n > point_n
    elif comma_n:
        comma = True
    else:
        comma = False
    for c in columns:
        st = survey_[c]
        k, p, e = comma_cols[c], point_cols[c], st.get("either", 0) or 0
        if decimal_comma is None and k and p:
            notes.append(Note(table, c, "decimal_separator",
                              f"mixes decimal commas ({k:,}{_example(st.get('comma_example'))}) and decimal points "
                              f"({p:,}{_example(st.get('point_example'))}); read with a decimal {'comma' if comma else 'point'}, "
                              f"the {min(k, p) if k != p else p:,} others are reported as unparseable",
                              f"correct the minority at the source, or set {param}", True, where))
        elif decimal_comma is None and k and comma:
            notes.append(Note(table, c, "decimal_separator",
                              f"read with a decimal comma: {k:,} values can only be read that way{_example(st.get('comma_example'))}",
                              f"set {param}: false to override", False, where))
        elif decimal_comma is None and e and not k and not p:
            reading = "the comma as decimal separator" if comma else "the comma/point as thousands separator"
            notes.append(Note(table, c, "decimal_separator",
                              f"ambiguous: {e:,} values like {st.get('either_example', ['1,234'])[0]!r} could be a thousand or one and a bit, "
                              f"and no value in the file settles it; read with {reading}",
                              f"set {param}: {'false' if comma else 'true'} if that is wrong (or {'true' if comma else 'false'} to confirm)", True, where))
        if st.get("percent"):
            notes.append(Note(table, c, "percent", f"{st['percent']:,} values end in % (read as the number before it: 85% -> 85)", "", False, where))
    out = NumberReading(comma, notes=notes)
    for c in columns:
        names, counts = survey_[c].get("currencies") or [], survey_[c].get("currency_counts") or []
        if not names:
            continue
        main = max(zip(names, counts), key=lambda x: x[1])[0]
        out.currencies[c] = main
        if len(names) > 1:
            seen = ", ".join(f"{n} {k:,}" for n, k in sorted(zip(names, counts), key=lambda x: -x[1]))
            notes.append(Note(table, c, "currencies", f"amounts in several currencies ({seen}); those not in {main} are "
                              "reported as unparseable, since amounts in different currencies cannot be added up",
                              "convert the amounts to one currency in the export (or map a converted column)", True, where))
    return out


def parse_number(s: pl.Expr, comma: bool, currency_code: str | None = None) -> pl.Expr:
    """Text -> Float64 in the decided convention; malformed, infinite, NaN or foreign-currency values -> null."""
    n = clean_number(s)
    ok = n.str.contains(COMMA_NUMBER if comma else POINT_NUMBER)
    plain = n.str.replace_all(r"\.", "").str.replace(",", ".") if comma else n.str.replace_all(",", "")
    num = pl.when(ok).then(plain).cast(pl.Float64, strict=False)
    if currency_code:
        cur = currency(s)
        num = pl.when(cur.is_null() | (cur == currency_code)).then(num)
    return finite(num)


def finite(num: pl.Expr) -> pl.Expr:
    """Infinity and NaN are not values: null, so they are reported."""
    return pl.when(num.is_finite()).then(num)


# ---------------------------------------------------------------------------- identifiers


def id_notes(table: str, column: str, stats: dict, where: str) -> list[Note]:
    n = stats.get("float_ids") or 0
    if not n:
        return []
    return [Note(table, column, "float_ids", f"{n:,} ids written as decimal numbers{_example(stats.get('float_example'))} "
                 "read without the '.0', so they match the same ids elsewhere", "export id columns as text", False, where)]


def parse_id(s: pl.Expr) -> pl.Expr:
    """`100001.0` -> `100001`; an id in scientific notation (digits lost) -> null, reported."""
    return pl.when(~s.str.contains(SCIENTIFIC_ID)).then(s.str.replace(FLOAT_ID, "$1"))
