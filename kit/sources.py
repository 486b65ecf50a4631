"""Reading a source as the client exported it: files (CSV, Parquet, Excel) or a database query.

This layer knows nothing of canonical names; it returns the client's columns, a fingerprint of
the input and notes about how it was read. `kit.load` maps and parses.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from kit import database
from kit.database import expand_env, mask_uri  # noqa: F401  (re-exported: params and manifest use them)
from kit.errors import SourceError

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
# Files up to this size are checked for UTF-8 in full; larger ones are streamed and must be UTF-8.
IN_MEMORY_LIMIT = 256 * 1024 * 1024


@dataclass
class RawSource:
    table: str
    location: str  # file path, or the database URI with its password masked
    frame: pl.LazyFrame  # the client's columns as read
    sha256: str  # of the file bytes, or of the query text
    kind: str  # "file" or "sql"
    query: str | None = None
    notes: list[str] = field(default_factory=list)  # how it was read, e.g. an encoding fallback


def read(table: str, src, params) -> RawSource:
    """Read the source configured for `table` (a `kit.params.Source`)."""
    if src.path:
        return _read_file(table, params.resolve(src.path), src)
    return _read_sql(table, src)


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
    notes: list[str] = []
    try:
        if suffix in CSV_SUFFIXES:
            frame = _scan_csv(table, path, src, notes)
        elif suffix in PARQUET_SUFFIXES:
            frame = pl.scan_parquet(path)
        elif suffix in EXCEL_SUFFIXES:
            frame = _read_excel(path, src)
        else:
            raise SourceError(
                f"unsupported file type {suffix!r}", where=where, code="file_type",
                fix="export as CSV, Parquet or Excel (.xlsx)",
            )
        frame = _clean_headers(frame)
        frame.collect_schema()  # surfaces unreadable files now, with the file named
    except SourceError:
        raise
    except Exception as e:  # polars / fastexcel raise many types; name the file and the cause
        raise SourceError(
            f"cannot be read: {_first_line(e)}", where=where, code="unreadable",
            fix="check the export opens in a spreadsheet; for CSV check the delimiter and encoding",
        ) from None
    return RawSource(table, where, frame, file_sha256(path), "file", notes=notes)


def _scan_csv(table: str, path: Path, src, notes: list[str]) -> pl.LazyFrame:
    separator = "\t" if path.suffix.lower() == ".tsv" else _sniff_separator(path)
    options = dict(separator=separator, infer_schema=False, truncate_ragged_lines=False)
    encoding = (src.encoding or "utf-8").lower().replace("_", "-")
    size = path.stat().st_size
    if encoding in ("utf-8", "utf8") and size > IN_MEMORY_LIMIT:
        return pl.scan_csv(path, **options)
    data = path.read_bytes()
    if encoding in ("utf-8", "utf8"):
        try:
            data.decode("utf-8")
            return pl.scan_csv(path, **options)
        except UnicodeDecodeError as e:
            text = data.decode("cp1252", errors="replace") if _is_cp1252(data) else data.decode("latin-1")
            notes.append(
                f"not UTF-8 (first bad byte at offset {e.start}); read as latin-1/cp1252. "
                f"set `encoding: latin-1` in sources.{table} to confirm, or re-export as UTF-8"
            )
    else:
        try:
            text = data.decode(encoding)
        except LookupError:
            raise SourceError(f"unknown encoding {src.encoding!r}", where=str(path), code="encoding", fix="use e.g. utf-8, latin-1 or cp1252") from None
        except UnicodeDecodeError as e:
            raise SourceError(
                f"cannot be decoded as {src.encoding}: byte {e.start}", where=str(path), code="encoding",
                fix="set the file's real encoding in `encoding:`",
            ) from None
    return pl.read_csv(io.BytesIO(text.encode("utf-8")), **options).lazy()


def _is_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def _sniff_separator(path: Path) -> str:
    with path.open("rb") as f:
        head = f.readline(65536).decode("utf-8", errors="replace")
    counts = {sep: head.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _read_excel(path: Path, src) -> pl.LazyFrame:
    kwargs: dict = {"engine": "calamine", "infer_schema_length": 0}
    if isinstance(src.sheet, int):
        kwargs["sheet_id"] = src.sheet + 1  # polars counts sheets from 1; parameters count from 0
    elif src.sheet:
        kwargs["sheet_name"] = src.sheet
    return pl.read_excel(path, **kwargs).lazy()


def _clean_headers(frame: pl.LazyFrame) -> pl.LazyFrame:
    names = frame.collect_schema().names()
    clean = [n.lstrip("\ufeff").strip() for n in names]
    if clean != names:
        frame = frame.rename(dict(zip(names, clean)))
    return frame


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


# ---------------------------------------------------------------------------- databases
# The logic (engine choice, ${VAR} expansion, timeouts, error messages) is in kit.database.


def _read_sql(table: str, src) -> RawSource:
    frame, masked, sha, query = database.read(table, src)
    return RawSource(table, masked, _clean_headers(frame.lazy()), sha, "sql", query=query)
