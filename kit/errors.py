"""Errors that reach a consultant. Each carries a reason code, what it concerns and the fix.

Layering follows pandera: a `KitError` is raised for one problem; several are collected in a
`KitErrors` when validation should report everything at once.
"""

from __future__ import annotations


class KitError(Exception):
    """A problem a consultant can fix: says where (file, key or column), what, and how to fix it."""

    code = "kit_error"

    def __init__(self, message: str, *, where: str = "", fix: str = "", code: str | None = None):
        self.message = message
        self.where = where
        self.fix = fix
        if code:
            self.code = code
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class ParametersError(KitError):
    code = "parameters"


class SourceError(KitError):
    """A data source cannot be read, or lacks a mapped column."""

    code = "source"


class ParseError(SourceError):
    """Values in a column cannot be parsed as its type (raised only in strict loading)."""

    code = "parse"


class KitErrors(KitError):
    """Several problems found together."""

    def __init__(self, errors: list[KitError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors), code="several")

    def __str__(self) -> str:
        n = len(self.errors)
        head = f"{n} problem{'s' if n != 1 else ''}:"
        return "\n".join([head] + [f"- {e}".replace("\n", "\n  ") for e in self.errors])
