"""Errors that reach a consultant. Each carries a reason code, what it concerns and the fix.

Layering follows pandera: a `KitError` is raised for one problem; several are collected in a
`KitErrors` when validation should report everything at once. Every error carries a `Reason`
(pandera's `SchemaErrorReason`): a stable code that tests, logs and scripts can match on, printed
after the message as `[code]`.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why something could not be used. The value is the code printed in messages."""

    # parameters and command line
    KIT_ERROR = "kit_error"  # generic
    PARAMETERS = "parameters"  # generic parameters problem
    INVALID = "invalid"  # settings fail validation (wrong type, unknown key, out of range, ...)
    PARAMETERS_NOT_FOUND = "parameters_not_found"
    PARAMETERS_NOT_A_FILE = "parameters_not_a_file"  # a folder, or not readable
    YAML_SYNTAX = "yaml_syntax"
    DUPLICATE_KEY = "duplicate_key"  # the same key twice in one YAML mapping
    BAD_PERIOD = "bad_period"
    # sources: structure
    SOURCE = "source"  # generic source problem
    FILE_NOT_FOUND = "file_not_found"
    EMPTY_FILE = "empty_file"  # 0 bytes
    EMPTY_TABLE = "empty_table"  # a header and no records
    FILE_TYPE = "file_type"
    UNREADABLE = "unreadable"
    ENCODING = "encoding"
    MALFORMED_CSV = "malformed_csv"  # rows with more fields than the header, broken quoting
    DUPLICATE_COLUMN = "duplicate_column"  # a mapped column name appears twice in the header
    MISSING_COLUMN = "missing_column"
    UNAVAILABLE = "unavailable"
    PERIOD_NEEDED = "period_needed"  # the path names the month ({period}) and no month was given
    # sources: databases
    MISSING_ENV = "missing_env"
    LITERAL_PASSWORD = "literal_password"
    SQL_TIMEOUT = "sql_timeout"
    SQL_CONNECT = "sql_connect"
    SQL_TYPE = "sql_type"
    SQL_QUERY = "sql_query"
    # values (strict loading raises these; lenient loading reports them as problems)
    PARSE = "parse"
    UNPARSEABLE_DATE = "unparseable_date"
    UNPARSEABLE_DATETIME = "unparseable_datetime"
    UNPARSEABLE_NUMBER = "unparseable_number"
    UNPARSEABLE_INTEGER = "unparseable_integer"
    UNPARSEABLE_BOOL = "unparseable_bool"
    UNPARSEABLE_ID = "unparseable_id"  # ids in scientific notation: a spreadsheet rounded them
    UNKNOWN_LABEL = "unknown_label"
    # runs
    PERIOD_BEFORE_DATA = "period_before_data"
    REPORTS_NOT_WRITABLE = "reports_not_writable"
    PERIOD_PROTECTED = "period_protected"  # the period folder is read-only: it is kept as it is
    WOULD_LOSE_RESULTS = "would_lose_results"  # a rerun would replace a period folder with one that has less
    INTERRUPTED = "interrupted"
    ARTEFACT_OUTDATED = "artefact_outdated"  # a result file lacks a key its readers rely on (an older kit wrote it)
    # runs on a Dask cluster (kit.run.cluster)
    CLUSTER_UNREACHABLE = "cluster_unreachable"  # no scheduler at the address, no worker, or Dask not installed
    WORKER_LOST = "worker_lost"  # the workers running a client were lost mid-run twice
    WORKER_ERROR = "worker_error"  # a client's task failed on its worker (the kit not installed there, a bug)
    # publishing
    QUARTO_MISSING = "quarto_missing"
    PERSONAL_DATA_UNREADABLE = "personal_data_unreadable"
    # several problems at once
    SEVERAL = "several"


class KitError(Exception):
    """A problem a consultant can fix: says where (file, key or column), what, and how to fix it."""

    code: str = Reason.KIT_ERROR

    def __init__(self, message: str, *, where: str = "", fix: str = "", code: str | None = None):
        self.message = message
        self.where = where
        self.fix = fix
        if code:
            self.code = Reason(code)  # an unknown reason code is a bug, caught here
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        text += f" [{self.code}]"
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class ParametersError(KitError):
    code = Reason.PARAMETERS


class SourceError(KitError):
    """A data source cannot be read, or lacks a mapped column."""

    code = Reason.SOURCE


class ParseError(SourceError):
    """Values in a column cannot be parsed as its type (raised only in strict loading)."""

    code = Reason.PARSE


class RunError(KitError):
    """A run cannot start or finish for a reason outside the data (folders, period, signals)."""

    code = Reason.KIT_ERROR


class KitErrors(KitError):
    """Several problems found together."""

    def __init__(self, errors: list[KitError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors), code=Reason.SEVERAL)

    def __str__(self) -> str:
        n = len(self.errors)
        head = f"{n} problem{'s' if n != 1 else ''}:"
        return "\n".join([head] + [f"- {e}".replace("\n", "\n  ") for e in self.errors])


class Stopped(KeyboardInterrupt):
    """SIGTERM (a scheduler stopping the batch), handled like Ctrl-C: clean up, then stop."""


def first_line(what: object, limit: int = 300) -> str:
    """The first non-blank line of a message or an exception, at most `limit` characters; an exception with no
    message gives its type's name. What a summary, a manifest or a log line says of a failure."""
    line = next((x.strip() for x in str(what).splitlines() if x.strip()), "")
    return line[:limit] if line else (type(what).__name__ if isinstance(what, BaseException) else "")
