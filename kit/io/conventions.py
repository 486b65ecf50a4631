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

Every decision is a `Note` (kit.io.notes): `validate` prints it, the audit reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from kit.io.notes import Note

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


class Survey:
    """What decides how each column is read, counted over the whole table in one streaming pass.

    Each value is cleaned once and tested once (a lazy `derived` frame of flags); the pass only
    sums the flags, so memory stays flat on a 50-million-row log. An example value, or the tally
    of a column's time zones or currencies, is fetched afterwards by a query of its own, and only
    when a decision needs it (a filtered query stopped at the first match)."""

    def __init__(self, frame: pl.LazyFrame, dates: list[str], numbers: list[str], ids: list[str]):
        base: list[pl.Expr] = []
        flags: list[pl.Expr] = []
        self.names: dict[str, dict[str, str]] = {}
        for i, c in enumerate(dates):
            n = self.names[c] = {k: f"_d{i}_{k}" for k in ("text", "slash", "offset", "day", "month", "either", "day_first",
                                                           "month_first", "zoned", "naive", "excel", "unix_s", "unix_ms")}
            base += [
                text(c).alias(n["text"]),
                text(c).str.extract(_SLASH, 0).str.replace(r"/(\d{2})$", "/20$1").alias(n["slash"]),  # 2-digit years: day and month matter
                text(c).str.extract(_TZ, 1).str.replace(":", "").str.replace("^Z$", "+0000").alias(n["offset"]),
            ]
            t, off = pl.col(n["text"]), pl.col(n["offset"])
            day_ok = pl.col(n["slash"]).str.to_date("%d/%m/%Y", strict=False).is_not_null()
            month_ok = pl.col(n["slash"]).str.to_date("%m/%d/%Y", strict=False).is_not_null()
            flags += [
                (day_ok & month_ok).alias(n["either"]), (day_ok & ~month_ok).alias(n["day_first"]),
                (month_ok & ~day_ok).alias(n["month_first"]), off.is_not_null().alias(n["zoned"]),
                (t.str.contains(r"\d:\d\d") & off.is_null()).alias(n["naive"]), t.str.contains(EXCEL_SERIAL).alias(n["excel"]),
                t.str.contains(UNIX_SECONDS).alias(n["unix_s"]), t.str.contains(UNIX_MILLISECONDS).alias(n["unix_ms"]),
            ]
        for i, c in enumerate(numbers):
            n = self.names[c] = {k: f"_n{i}_{k}" for k in ("text", "clean", "currency", "comma", "point", "either", "percent", "priced")}
            base += [text(c).alias(n["text"]), clean_number(text(c)).alias(n["clean"]), currency(text(c)).alias(n["currency"])]
            v = pl.col(n["clean"])
            flags += [v.str.contains(ONLY_COMMA).alias(n["comma"]), v.str.contains(ONLY_POINT).alias(n["point"]),
                      v.str.contains(EITHER).alias(n["either"]), pl.col(n["text"]).str.ends_with("%").alias(n["percent"]),
                      pl.col(n["currency"]).is_not_null().alias(n["priced"])]
        for i, c in enumerate(ids):
            n = self.names[c] = {k: f"_i{i}_{k}" for k in ("text", "numeric")}
            base += [pl.col(c).cast(pl.String).alias(n["text"])]  # not stripped: on a 50-million-row log that alone costs a second
            flags += [pl.col(n["text"]).str.contains(r"\.|[eE]\+").alias(n["numeric"])]  # cheap: the exact tests run only if any
        self.derived = frame.select(base).with_columns(flags) if base else None
        self.counts: dict[str, dict[str, int]] = {}
        if flags:
            sums = [pl.col(f.meta.output_name()).sum() for f in flags]
            row = self.derived.select(sums).collect(engine="streaming").row(0, named=True)
            for c, n in self.names.items():
                self.counts[c] = {k: int(row[v] or 0) for k, v in n.items() if v in row}

    def count(self, column: str, flag: str) -> int:
        return self.counts.get(column, {}).get(flag, 0)

    def matching(self, column: str, flag: str, pattern: str) -> tuple[int, str | None]:
        """Among the values with `flag`, how many match `pattern` (whole value, spaces around allowed), and the first."""
        if not self.count(column, flag):
            return 0, None
        n = self.names[column]
        hit = pl.col(n["text"]).str.contains(r"^\s*" + pattern.strip("^$") + r"\s*$")
        found = self.derived.filter(pl.col(n[flag]) & hit).select(pl.col(n["text"]))
        count = found.select(pl.len()).collect(engine="streaming").item()
        return count, (found.head(1).collect().item() if count else None)

    def example(self, column: str, flag: str) -> str | None:
        """The first value for which `flag` holds (None if none does)."""
        if not self.count(column, flag):
            return None
        n = self.names[column]
        got = self.derived.filter(pl.col(n[flag])).select(n["text"]).head(1).collect()
        return got.item() if got.height else None

    def eg(self, column: str, flag: str) -> str:
        """` (e.g. '25/03/2024')`, or '' when no value has the flag."""
        value = self.example(column, flag)
        return f" (e.g. {value!r})" if value is not None else ""

    def tally(self, column: str, role: str) -> list[tuple[str, int]]:
        """The distinct values of a derived column (time zone offsets, currencies) with their counts, most frequent first."""
        n = self.names[column][role]
        df = self.derived.select(n).drop_nulls().group_by(n).len().collect(engine="streaming")
        return sorted(zip(df[n].to_list(), df["len"].to_list()), key=lambda x: (-x[1], x[0]))


# ---------------------------------------------------------------------------- dates


@dataclass
class DateReading:
    """How a text date column is read: the formats tried, and the decisions taken."""

    candidates: list[str]
    utc: bool = False  # several time zones: convert to UTC
    excel: bool = False
    unix: str | None = None  # "s" or "ms"
    notes: list[Note] = field(default_factory=list)


def date_reading(table: str, column: str, survey: Survey, date_format: str | None, where: str) -> DateReading:
    """Decide a date column's reading from its survey (see the module docstring). `where` is the file."""
    notes: list[Note] = []
    param = f"sources.{table}.date_format"

    def note(code, text, fix, ambiguous=False):
        notes.append(Note(table, column, code, text, fix, ambiguous, where))

    candidates = _candidates(date_format)
    if not date_format:
        day, month, slash = (survey.count(column, f) for f in ("day_first", "month_first", "either"))
        example = survey.eg(column, "day_first" if day >= month else "month_first")
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
    offsets = sorted(o for o, _ in survey.tally(column, "offset")) if survey.count(column, "zoned") else []
    utc = len(offsets) > 1
    naive = survey.count(column, "naive")
    if utc:
        note("time_zones", f"times written in {len(offsets)} time zones ({', '.join(offsets)}); converted to UTC"
             + (f", and the {naive:,} times without a zone taken as UTC" if naive else ""),
             "export the times in one time zone if they should be read as written")
    elif offsets and offsets != ["+0000"]:
        note("time_zones", f"every zoned time carries {offsets[0]}: times taken as written (local time), the offset dropped",
             "convert the export to UTC if other sources are in UTC")
    excel = bool(survey.count(column, "excel"))
    if excel:
        note("excel_dates", f"{survey.count(column, 'excel'):,} values are Excel day numbers (e.g. 45306 = 2024-01-15), read as dates",
             "format the column as a date in the spreadsheet before exporting")
    unix = "ms" if survey.count(column, "unix_ms") else "s" if survey.count(column, "unix_s") else None
    if unix:
        n = survey.count(column, f"unix_{unix}")
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


def number_reading(table: str, survey: Survey, columns: list[str], decimal_comma: bool | None, where: str) -> NumberReading:
    """Decide the decimal separator for a whole source, and each column's currency. `where` is the file."""
    notes: list[Note] = []
    param = f"sources.{table}.decimal_comma"

    def note(c, code, text, fix="", ambiguous=False):
        notes.append(Note(table, c, code, text, fix, ambiguous, where))

    comma_n = sum(survey.count(c, "comma") for c in columns)
    point_n = sum(survey.count(c, "point") for c in columns)
    comma = decimal_comma if decimal_comma is not None else comma_n > point_n
    for c in columns:
        k, p, e = (survey.count(c, f) for f in ("comma", "point", "either"))
        if decimal_comma is None and k and p:
            note(c, "decimal_separator", f"mixes decimal commas ({k:,}{survey.eg(c, 'comma')}) and decimal points "
                 f"({p:,}{survey.eg(c, 'point')}); read with a decimal {'comma' if comma else 'point'}, "
                 f"the {(p if comma else k):,} others are reported as unparseable", f"correct the minority at the source, or set {param}", True)
        elif decimal_comma is None and k and comma:
            note(c, "decimal_separator", f"read with a decimal comma: {k:,} values can only be read that way{survey.eg(c, 'comma')}",
                 f"set {param}: false to override")
        elif decimal_comma is None and e and not k and not p:
            reading = "the comma as decimal separator" if comma else "the comma/point as thousands separator"
            note(c, "decimal_separator", f"ambiguous: {e:,} values like {survey.example(c, 'either')!r} "
                 f"could be a thousand or one and a bit, and no value in the file settles it; read with {reading}",
                 f"set {param}: {'false' if comma else 'true'} if that is wrong (or {'true' if comma else 'false'} to confirm)", True)
        if survey.count(c, "percent"):
            note(c, "percent", f"{survey.count(c, 'percent'):,} values end in % (read as the number before it: 85% -> 85)")
    out = NumberReading(comma, notes=notes)
    for c in columns:
        seen = survey.tally(c, "currency") if survey.count(c, "priced") else []
        if not seen:
            continue
        main = seen[0][0]
        out.currencies[c] = main
        if len(seen) > 1:
            listed = ", ".join(f"{n} {k:,}" for n, k in seen)
            note(c, "currencies", f"amounts in several currencies ({listed}); those not in {main} are reported as unparseable, "
                 "since amounts in different currencies cannot be added up",
                 "convert the amounts to one currency in the export (or map a converted column)", True)
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


def id_reading(table: str, column: str, survey: Survey, where: str) -> tuple[bool, bool, list[Note]]:
    """Whether ids written as decimals are read without the '.0', whether ids in scientific notation
    are present (reported as unparseable), and the note saying so."""
    floats, example = survey.matching(column, "numeric", FLOAT_ID)
    scientific, _ = survey.matching(column, "numeric", SCIENTIFIC_ID)
    notes = [Note(table, column, "float_ids", f"{floats:,} ids written as decimal numbers (e.g. {example!r}) "
                  "read without the '.0', so they match the same ids elsewhere", "export id columns as text", False, where)] if floats else []
    return bool(floats), bool(scientific), notes


def parse_id(s: pl.Expr, floats: bool, scientific: bool) -> pl.Expr:
    """`100001.0` -> `100001` (when the column has such ids); an id in scientific notation (digits lost) -> null, reported."""
    if floats:
        s = s.str.replace(FLOAT_ID, "$1")
    return pl.when(~s.str.contains(SCIENTIFIC_ID)).then(s) if scientific else s
