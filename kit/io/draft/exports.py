"""The exports of a folder, each read as a sample of text cells: what `kit init` infers from.

Every CSV, TSV or TXT file (delimiter and encoding found from its first bytes), every sheet of an
Excel workbook and every Parquet file in the folder and its subfolders. A file is never read
whole: a text file's first SAMPLE_BYTES are parsed, a Parquet file's first SAMPLE_ROWS rows are
scanned, so a folder with a 50-million-row event log drafts in seconds and in bounded memory. A
file the sample covers entirely is `complete` (its distinct values are all its values: what the
account key and the value maps need).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from kit.io import layout, sources

SAMPLE_BYTES = 8 * 1024 * 1024
SAMPLE_ROWS = 50_000
DELIMITERS = (",", ";", "\t", "|")


@dataclass
class Export:
    path: Path
    sheet: str | None  # an Excel sheet's name
    sample: pl.DataFrame  # every column as text, blank cells null
    complete: bool  # the sample holds every row of the file
    encoding: str | None = None  # when not UTF-8
    separator: str | None = None  # text files
    skipped_rows: int = 0  # title rows above the header
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name + (f"#{self.sheet}" if self.sheet else "")

    @property
    def columns(self) -> list[str]:
        return list(self.sample.columns)


@dataclass
class Unreadable:
    path: Path
    reason: str


def find(folder: Path) -> list[Path]:
    """Export files under `folder`, sorted; hidden files and folders left out."""
    suffixes = sources.CSV_SUFFIXES + sources.PARQUET_SUFFIXES + sources.EXCEL_SUFFIXES
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in suffixes
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def read(path: Path, expected: set[str]) -> list[Export] | Unreadable:
    """One file's exports (a sheet each for a workbook); `expected`: normalised names that help find a
    header below title rows."""
    suffix = path.suffix.lower()
    try:
        if path.stat().st_size == 0:
            return Unreadable(path, "the file is empty (0 bytes)")
        if suffix in sources.PARQUET_SUFFIXES:
            return [_parquet(path)]
        if suffix in sources.EXCEL_SUFFIXES:
            return _excel(path, expected)
        return [_text(path, expected)]
    except Exception as e:  # a broken file is listed with its reason, the draft goes on
        return Unreadable(path, f"cannot be read: {str(e).splitlines()[0][:200] if str(e) else type(e).__name__}")


def _parquet(path: Path) -> Export:
    frame = pl.scan_parquet(path)
    rows = frame.select(pl.len()).collect().item()
    sample = frame.head(SAMPLE_ROWS).collect()
    return Export(path, None, _as_text(sample), complete=rows <= SAMPLE_ROWS)


def _excel(path: Path, expected: set[str]) -> list[Export]:
    sheets = pl.read_excel(path, sheet_id=0, engine="calamine", infer_schema_length=0, has_header=False, drop_empty_rows=True)
    out = []
    for name, sheet in sheets.items():
        rows = [[None if c is None else str(c) for c in r] for r in sheet.head(layout.HEAD_ROWS).iter_rows()]
        if not rows:
            continue
        top = layout.header_row(rows, expected)
        body = sheet.slice(top + 1, SAMPLE_ROWS)
        body.columns = _unique([str(h).strip() if h is not None and str(h).strip() else f"column {i + 1}" for i, h in enumerate(rows[top])])
        out.append(Export(path, name, _blank_as_null(body), complete=sheet.height - top - 1 <= SAMPLE_ROWS, skipped_rows=top))
    return out


def _text(path: Path, expected: set[str]) -> Export:
    size = path.stat().st_size
    with path.open("rb") as f:
        data = f.read(SAMPLE_BYTES)
    complete = size <= SAMPLE_BYTES
    if not complete:
        data = data[: data.rfind(b"\n") + 1]  # whole lines only
    try:
        text, encoding = data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        text, encoding = data.decode("cp1252", errors="replace"), "cp1252"
    lines = text.splitlines(keepends=True)[: layout.HEAD_ROWS]
    separator = "\t" if path.suffix.lower() == ".tsv" else _separator(lines)
    rows = [next(csv.reader([line], delimiter=separator), []) for line in lines]
    top = layout.header_row(rows, expected)
    body = "".join(text.splitlines(keepends=True)[top:])
    frame = pl.read_csv(io.StringIO(body), separator=separator, infer_schema=False, truncate_ragged_lines=True,
                        n_rows=SAMPLE_ROWS)
    if frame.height >= SAMPLE_ROWS:
        complete = False
    frame.columns = _unique([c.lstrip("\ufeff").strip() or f"column {i + 1}" for i, c in enumerate(frame.columns)])
    return Export(path, None, _blank_as_null(frame), complete=complete, encoding=encoding, separator=separator, skipped_rows=top)


def _separator(lines: list[str]) -> str:
    """The delimiter that splits the first lines into the same number (above one) of cells most often."""
    best, score = ",", (0, 0)
    for sep in DELIMITERS:
        widths = [len(next(csv.reader([line], delimiter=sep), [])) for line in lines if line.strip()]
        if not widths:
            continue
        top = max(set(widths), key=widths.count)
        s = (widths.count(top) if top > 1 else 0, top)
        if s > score:
            best, score = sep, s
    return best


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text, as an export would write it (dates ISO)."""
    return _blank_as_null(frame.select(pl.col(c).cast(pl.String) for c in frame.columns))


def _blank_as_null(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.col(c).cast(pl.String).str.strip_chars() == "").then(None).otherwise(pl.col(c).cast(pl.String).str.strip_chars()).alias(c)
        for c in frame.columns
    )


_unique = sources._unique  # repeated header names become `<name>_duplicated_<n>`, as the loader reads them
