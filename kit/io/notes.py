"""What the kit decided about a source while reading it, said out loud.

Exports leave things open: a file that is not UTF-8, title rows above the header, a "Grand
Totals" row, dates that could be day-first or month-first, a decimal comma. The reader and the
loader decide each from the whole file or column (never row by row) and record a `Note`:
`validate` prints every note and the audit reports them. A note is `ambiguous` when the data
could not settle the question (every date has day and month <= 12): the parameters should
confirm it, so it is a warning; otherwise it states what the data showed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Note:
    table: str
    column: str | None  # canonical column, or None for the whole source
    code: str  # encoding | title_rows | footer_rows | blank_rows | quotes_as_text | duplicate_header | date_order | decimal_separator | ...
    text: str  # what was decided and the evidence
    fix: str = ""  # the parameter that confirms or overrides it
    ambiguous: bool = False
    where: str = ""  # the file, or the masked database URI
    source_column: str | None = None  # the export's own name for `column`

    @property
    def message(self) -> str:
        return f"{self.where}:{column_label(self.column, self.source_column)} {self.text}"


def column_label(column: str | None, source_column: str | None) -> str:
    """` column 'ARR' (arr):` naming the export's column and the canonical one, or '' for a whole source."""
    if not column:
        return ""
    if source_column and source_column != column:
        return f" column {source_column!r} ({column}):"
    return f" column {column!r}:"
