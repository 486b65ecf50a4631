"""Reading a source as the client exported it: files (CSV, Parquet, Excel) or a database query.

This layer knows nothing of canonical names; it returns the client's columns, a fingerprint of
the input and notes about how it was read. `kit.io.load` maps and parses.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from kit.io import database, layout
from kit.errors import SourceError, first_line
from kit.io.layout import normalise_name
from kit.io.notes import Note

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
# Files up to this size are checked for UTF-8 in full; larger ones are streamed and must be UTF-8.
IN_MEMORY_LIMIT = 256 * 1024 * 1024
# A CSV that polars cannot parse is read by Python's csv module (to locate the bad line, or to read
# quotes inside unquoted fields as text) up to this many records; larger ones must be fixed.
TOLERANT_MAX_ROWS = 2_000_000


RECORD = "_row"  # 1-based record number in the export (1 = the first row after the header)
_DUPLICATED = re.compile(r"^(?P<base>.*)_duplicated_(?P<n>\d+)$")  # how polars renames a repeated header


@dataclass
class RawSource:
    table: str
    location: str  # file path, or the database URI with its password masked
    records: pl.LazyFrame  # the client's columns as read, blank rows left out, plus RECORD
    sha256: str  # of the file bytes, or of the query text
    kind: str  # "file" or "sql"
    query: str | None = None
    notes: list[Note] = field(default_factory=list)  # how it was read: encoding, title and footer rows, blank rows
    rows: int | None = None  # records, when counted while reading
    duplicates: dict[str, int] = field(default_factory=dict)  # header names written more than once -> times
    exported_at: datetime | None = None  # when the export was taken: the file's modification time, or the query's

    @property
    def frame(self) -> pl.LazyFrame:
        """The client's columns as read (blank rows left out)."""
        return self.records.drop(RECORD)

    @property
    def columns(self) -> list[str]:
        return [c for c in self.records.collect_schema().names() if c != RECORD]


def read(table: str, src, params) -> RawSource:
    """Read the source configured for `table` (a `kit.params.Source`)."""
    if src.monthly:
        raise SourceError(
            "the path names the month ({period}) but no month was given", where=f"sources.{table}.path", code="period_needed",
            fix="run it for a period (python -m kit run PARAMS --period YYYY-MM; validate --period YYYY-MM)",
        )
    if src.path:
        return _read_file(table, params.resolve(src.path), src)
    return _read_sql(table, src)


def expected_names(table: str, src) -> set[str]:
    """Normalised column names a header of this table should carry: mapped client names and canonical ones."""
    from kit import contract

    names = set(src.columns) | set(contract.TABLES[table].column_names)
    if table == "usage":
        names |= set(contract.USAGE_EVENTS.column_names)
    return {normalise_name(n) for n in names}


# ---------------------------------------------------------------------------- files


def _read_file(table: str, path: Path, src) -> RawSource:
    where = str(path)
    if not path.exists():
        raise SourceError(
            "file not found", where=where, code="file_not_found",
            fix=f"check sources.{table}.path (relative paths start at the parameters file's folder)",
        )
    if path.is_dir():
        raise SourceError("is a folder, not a file", where=where, code="file_not_found", fix=f"point sources.{table}.path at the export file")
    if path.stat().st_size == 0:
        raise SourceError("file is empty (0 bytes)", where=where, code="empty_file", fix="export the table again; the file has no header and no rows")
    suffix = path.suffix.lower()
    read = _Reading(table, where)
    try:
        if suffix in CSV_SUFFIXES:
            frame = _csv(read, path, src)
        elif suffix in PARQUET_SUFFIXES:
            frame = pl.scan_parquet(path)
        elif suffix in EXCEL_SUFFIXES:
            frame = _excel(read, path, src)
        else:
            raise SourceError(
                f"unsupported file type {suffix!r}", where=where, code="file_type",
                fix="export as CSV, Parquet or Excel (.xlsx)",
            )
        frame = _clean_headers(frame)
        frame.collect_schema()  # surfaces unreadable files now, with the file named
        records = _records(read, frame)
    except SourceError:
        raise
    except OSError as e:
        raise SourceError(
            f"cannot be read ({e.strerror or type(e).__name__})", where=where, code="unreadable",
            fix="check the file's permissions (the user running the batch must be able to read it)",
        ) from None
    except Exception as e:  # polars / fastexcel raise many types; name the file and the cause
        raise unreadable(where, e) from None
    exported = datetime.fromtimestamp(path.stat().st_mtime)
    return RawSource(table, where, records, file_sha256(path), "file", notes=read.notes, rows=read.rows,
                     duplicates=_duplicates(frame), exported_at=exported)


def unreadable(where: str, e: Exception) -> SourceError:
    """An export that polars or fastexcel could not read: the file, the cause and the fix."""
    return SourceError(
        f"cannot be read: {first_line(e)}", where=where, code="unreadable",
        fix="check the export opens in a spreadsheet; for CSV check the delimiter and encoding",
    )


@dataclass
class _Reading:
    """What reading one file noticed, gathered as it goes."""

    table: str
    where: str
    notes: list[Note] = field(default_factory=list)
    rows: int | None = None
    blank: int = 0

    def note(self, code: str, text: str, fix: str = "", ambiguous: bool = False) -> None:
        self.notes.append(Note(self.table, None, code, text, fix, ambiguous, self.where))

    def malformed(self, text: str, fix: str) -> SourceError:
        return SourceError(text, where=self.where, code="malformed_csv", fix=fix)


def _blank_row(names: list[str]) -> pl.Expr:
    """Every cell empty: a blank line, or a row of delimiters only."""
    return pl.all_horizontal([pl.col(c).is_null() | (pl.col(c).cast(pl.String).str.strip_chars() == "") for c in names])


def _records(read: _Reading, frame: pl.LazyFrame) -> pl.LazyFrame:
    """Number the records; leave out the blank rows reading counted (and says so)."""
    numbered = frame.with_row_index(RECORD, offset=1)
    if not read.blank:
        return numbered
    read.note("blank_rows", f"{read.blank:,} blank row(s) left out (every cell empty)")
    return numbered.filter(~_blank_row(frame.collect_schema().names()))


# ---------------------------------------------------------------------------- CSV


def _csv(read: _Reading, path: Path, src) -> pl.LazyFrame:
    """A CSV export: decoded, its header found below any title rows, any footer cut off, its structure
    checked in one streaming pass (rows with too many fields and broken quoting are errors naming the line)."""
    size = path.stat().st_size
    encoding = (src.encoding or "utf-8").lower().replace("_", "-")
    utf8 = encoding in ("utf-8", "utf8")
    if utf8 and size > IN_MEMORY_LIMIT:
        text, transcoded = None, False  # streamed from disk; only its two ends are read here, as UTF-8
        with path.open("rb") as f:
            head = f.read(layout.TAIL_BYTES).decode("utf-8", errors="replace")
            f.seek(max(0, size - layout.TAIL_BYTES))
            tail = f.read().decode("utf-8", errors="replace")
    else:
        text, transcoded = _decode(read, path, src, encoding)
        head, tail = text[: layout.TAIL_BYTES], text[-layout.TAIL_BYTES:]
    expected = expected_names(read.table, src)
    separator = "\t" if path.suffix.lower() == ".tsv" else _separator(head, expected)
    head_lines = head.splitlines(keepends=True)[: layout.HEAD_ROWS]
    top = layout.header_row(_cells(head_lines, separator), expected)
    start = sum(len(line) for line in head_lines[:top])
    if top:
        read.note("title_rows", f"{top} row(s) above the header skipped (report title, filters): {layout.describe(_cells(head_lines[:top], separator))}")
    width = len(_cells(head_lines[top:top + 1], separator)[0]) if len(head_lines) > top else 0
    tail_lines = tail.splitlines(keepends=True)
    if len(tail) < (len(text) if text is not None else size) and tail_lines:
        tail_lines = tail_lines[1:]  # the first line of the chunk is cut
    bottom = layout.footer_rows(_cells(tail_lines, separator), width)
    cut = sum(len(line) for line in tail_lines[len(tail_lines) - bottom:]) if bottom else 0
    if bottom:
        read.note("footer_rows", f"{bottom} row(s) after the data left out (totals, report footer): "
                  f"{layout.describe(_cells(tail_lines[len(tail_lines) - bottom:], separator))}")
    options = dict(separator=separator, infer_schema=False, truncate_ragged_lines=False)
    if text is None:
        if bottom:
            raise SourceError(
                "the export ends with totals or a report footer, and is too large to cut them off here", where=read.where,
                code="malformed_csv", fix="export the table without totals and footer (e.g. Salesforce: 'Details Only' CSV)",
            )
        body, frame = None, pl.scan_csv(path, skip_rows=top, **options)
    elif not top and not bottom and not transcoded:
        body, frame = text, pl.scan_csv(path, **options)
    else:
        body = text[start: len(text) - cut]
        frame = pl.scan_csv(io.BytesIO(body.encode("utf-8")), **options)
    return _checked(read, frame, body, separator, top)


def _decode(read: _Reading, path: Path, src, encoding: str) -> tuple[str, bool]:
    """The file's text, and whether it was not UTF-8 (polars then reads the text re-encoded)."""
    data = path.read_bytes()
    if encoding in ("utf-8", "utf8"):
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError as e:
            read.note(
                "encoding", f"not UTF-8 (first bad byte at offset {e.start}); read as latin-1/cp1252",
                f"set `encoding: latin-1` in sources.{read.table} to confirm, or re-export as UTF-8", ambiguous=True,
            )
            return (data.decode("cp1252", errors="replace") if _is_cp1252(data) else data.decode("latin-1")), True
    try:
        return data.decode(encoding), True
    except LookupError:
        raise SourceError(f"unknown encoding {src.encoding!r}", where=read.where, code="encoding", fix="use e.g. utf-8, latin-1 or cp1252") from None
    except UnicodeDecodeError as e:
        raise SourceError(
            f"cannot be decoded as {src.encoding}: byte {e.start}", where=read.where, code="encoding",
            fix="set the file's real encoding in `encoding:`",
        ) from None


def _cells(lines: list[str], separator: str) -> list[list[str]]:
    out = []
    for line in lines:
        try:
            out.append(next(csv.reader([line], delimiter=separator), []))
        except csv.Error:
            out.append([line])
    return out


def _separator(head: str, expected: set[str]) -> str:
    """The delimiter whose reading of the first lines names the most expected columns; else the
    character most frequent in the first line."""
    lines = head.splitlines(keepends=True)[: layout.HEAD_ROWS]
    best, score = None, 0
    for sep in (",", ";", "\t", "|"):
        rows = _cells(lines, sep)
        i = layout.header_row(rows, expected)
        hits = len({normalise_name(c) for c in rows[i] if c} & expected) if rows else 0
        if hits > score:
            best, score = sep, hits
    if best:
        return best
    first = lines[0] if lines else ""
    counts = {sep: first.count(sep) for sep in (",", ";", "\t", "|")}
    top = max(counts, key=counts.get)
    return top if counts[top] > 0 else ","


def _checked(read: _Reading, frame: pl.LazyFrame, body: str | None, separator: str, top: int) -> pl.LazyFrame:
    """One streaming pass over every cell: counts records and blank rows, and fails on rows with
    more fields than the header or broken quoting, which are then located with Python's csv module."""
    names = frame.collect_schema().names()
    try:
        n, b = frame.select(pl.len(), _blank_row(names).sum()).collect(engine="streaming").row(0)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as e:
        if body is None:
            raise read.malformed(f"cannot be parsed as CSV: {first_line(e)}", "check the delimiter and the quoting of fields") from None
        return _tolerant(read, body, separator, top, names)
    read.rows, read.blank = int(n) - int(b or 0), int(b or 0)
    return frame


def _tolerant(read: _Reading, body: str, separator: str, top: int, names: list[str]) -> pl.LazyFrame:
    """polars refused the file: find the bad line with Python's csv module (strict quoting). If every
    record is well formed there (quotes inside unquoted fields, as in `12" monitor`, are text),
    read it that way."""
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(body), delimiter=separator, strict=True)
    line = lambda: top + reader.line_num  # noqa: E731 - the file's line number
    fix = ("re-export the file with every field that holds the delimiter, a quote or a line break in double quotes, "
           'and quotes inside fields doubled ("")')
    try:
        header = next(reader)
        for row in reader:
            if len(row) > len(header):
                raise read.malformed(
                    f"line {line()} has {len(row)} fields where the header has {len(header)} (an unquoted "
                    f"{'comma' if separator == ',' else 'delimiter'} inside a value?): {separator.join(row)[:80]!r}", fix)
            rows.append(row + [None] * (len(header) - len(row)))
            if len(rows) > TOLERANT_MAX_ROWS:
                raise read.malformed(f"polars cannot parse the file near line {line()} and it is too large to read slowly", fix)
    except csv.Error as e:
        raise read.malformed(f"line {line()}: broken quoting ({e}): a quote inside a quoted field is not doubled, or a quote is never closed", fix) from None
    frame = pl.DataFrame([list(col) for col in zip(*rows)] if rows else [[] for _ in names], schema={n: pl.String for n in names}, orient="col")
    read.rows = sum(1 for r in rows if not layout.is_blank(r))
    read.blank = len(rows) - read.rows
    read.note("quotes_as_text", "quotes inside unquoted fields read as text (e.g. 12\" monitor); the file was read by the slower, tolerant reader")
    return frame.lazy()


def _is_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


# ---------------------------------------------------------------------------- Excel


def _excel(read: _Reading, path: Path, src) -> pl.LazyFrame:
    """A sheet, every cell as text, its header found below any title rows, any totals row cut off."""
    kwargs: dict = {"engine": "calamine", "infer_schema_length": 0, "has_header": False, "drop_empty_rows": False}
    if isinstance(src.sheet, int):
        kwargs["sheet_id"] = src.sheet + 1  # polars counts sheets from 1; parameters count from 0
    elif src.sheet:
        kwargs["sheet_name"] = src.sheet
    sheet = pl.read_excel(path, **kwargs)
    rows = [list(r) for r in sheet.head(layout.HEAD_ROWS).iter_rows()]
    top = layout.header_row(rows, expected_names(read.table, src))
    if top:
        read.note("title_rows", f"{top} row(s) above the header skipped (report title, filters): {layout.describe(rows[:top])}")
    header = [str(c) if c is not None else "" for c in (rows[top] if rows else [])]
    tail = [list(r) for r in sheet.tail(layout.HEAD_ROWS).iter_rows()]
    bottom = min(layout.footer_rows(tail, len(header)), max(0, sheet.height - top - 1))
    if bottom:
        read.note("footer_rows", f"{bottom} row(s) after the data left out (totals, report footer): {layout.describe(tail[len(tail) - bottom:])}")
    body = sheet.slice(top + 1, sheet.height - top - 1 - bottom)
    body.columns = _unique([h.strip() or f"column {i + 1}" for i, h in enumerate(header)])
    read.blank = int(body.select(_blank_row(body.columns).sum()).item() or 0)
    read.rows = body.height - read.blank
    return body.lazy()


def _unique(names: list[str]) -> list[str]:
    """Header names made unique the way polars does for CSV (a repeat becomes `<name>_duplicated_<n>`)."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            out.append(f"{n}_duplicated_{seen[n]}")
            seen[n] += 1
        else:
            seen[n] = 0
            out.append(n)
    return out


# ---------------------------------------------------------------------------- headers


def _clean_headers(frame: pl.LazyFrame) -> pl.LazyFrame:
    names = frame.collect_schema().names()
    clean = [n.lstrip("\ufeff").strip() for n in names]
    if clean != names:
        frame = frame.rename(dict(zip(names, clean)))
    return frame


def _duplicates(frame: pl.LazyFrame) -> dict[str, int]:
    """Header names the export repeats, with how often they appear."""
    names = frame.collect_schema().names()
    out: dict[str, int] = {}
    for n in names:
        m = _DUPLICATED.match(n)
        if m and m.group("base") in names:
            out[m.group("base")] = out.get(m.group("base"), 1) + 1
    return out


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------- databases
# The logic (engine choice, ${VAR} expansion, timeouts, error messages) is in kit.io.database.


def _read_sql(table: str, src) -> RawSource:
    frame, masked, sha, query = database.read(table, src)
    records = _clean_headers(frame.lazy()).with_row_index(RECORD, offset=1)
    return RawSource(table, masked, records, sha, "sql", query=query, rows=frame.height, exported_at=datetime.now())
