"""In-memory client data for unit tests of the signals and the search."""

from __future__ import annotations

import polars as pl


class FrameData:
    """A stand-in for ClientData over in-memory canonical tables (what signals reads of it)."""

    def __init__(self, tables: dict[str, pl.DataFrame], params):
        self.tables = tables
        self.params = params
        self.unavailable = {}

    def has(self, name):
        return name in self.tables

    def lazy(self, name):
        return self.tables[name].lazy()

    def table(self, name):
        return self.tables[name]
