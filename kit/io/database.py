"""Reading a source from a client database: a URI (credentials from the environment) and a query.

Engine choice, by measurement (`tests/support/pg.py --bench`: PostgreSQL 15 on this 2-core machine,
polars 2.1, connectorx 0.4.6, adbc-driver-postgresql 1.13, the demo client; median of 5-7 runs,
three sessions on a shared, busy machine, so read the ranges, not the digits):

    table                       connectorx        ADBC (polars)     ADBC as read here
    usage, 1,191,233 rows       2.40-3.54 s       1.44-2.30 s       1.74-2.51 s
    accounts, 2,004 rows        0.03-0.07 s       0.08-0.18 s       0.07-0.14 s

ADBC is faster on the table that matters (large usage logs, where it saves about a second per read;
the small-table difference is under a tenth of a second) and it fails the way a consultant needs: a wrong password, a refused
connection or an unknown host fail at once with libpq's own message, whereas connectorx's
connection pool retries for 30 s and then reports "timed out waiting for connection". ADBC also
goes through libpq, so `connect_timeout` and `options=-c statement_timeout=...` in the URI work
as documented for PostgreSQL, and it reads `void` columns that make connectorx panic (types
polars cannot import, `numeric` and `interval`, are turned into text below). So
PostgreSQL URIs (postgresql://, postgres://) are read with ADBC; other databases (MySQL, SQL
Server, Redshift, Oracle, ...) with connectorx, which supports them.

Security: the URI in the parameters file holds `${VAR}` references, expanded here at load time;
every message and every manifest entry shows the URI with its password masked, and the expanded
password itself is scrubbed from driver messages.
"""

from __future__ import annotations

import hashlib
import math
import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import polars as pl

from kit.errors import SourceError
from kit.uris import expand_env, host_of, literal_password, mask_uri, scheme_of, scrub, shown_uri

DEFAULT_TIMEOUT_SECONDS = 600.0  # a query running longer than this is cancelled by the server
MAX_CONNECT_SECONDS = 30  # connecting gives up after min(timeout, this)
POSTGRES_SCHEMES = ("postgresql", "postgres")

# The roles of a raw-events query's columns for `aggregate_events` (see daily_usage_query).
EVENT_ROLES = ("account_id", "timestamp", "user_id", "event")


def engine_for(uri: str) -> str:
    return "adbc" if scheme_of(uri) in POSTGRES_SCHEMES else "connectorx"


def with_timeouts(uri: str, timeout_seconds: float) -> str:
    """PostgreSQL: add connect_timeout, statement_timeout and TimeZone=UTC unless the URI sets them.

    TimeZone=UTC makes `CAST(timestamptz AS date)` in the database agree with the loader, which
    converts zoned timestamps to UTC.
    """
    if scheme_of(uri) not in POSTGRES_SCHEMES:
        return uri
    parts = urlsplit(uri)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.setdefault("connect_timeout", str(max(2, min(MAX_CONNECT_SECONDS, math.ceil(timeout_seconds)))))
    options = query.get("options", "")
    extra = []
    if "statement_timeout" not in options:
        extra.append(f"-c statement_timeout={int(timeout_seconds * 1000)}")
    if "timezone" not in options.lower():
        extra.append("-c TimeZone=UTC")
    query["options"] = " ".join([options, *extra]).strip()
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


# ---------------------------------------------------------------------------- aggregation in the database


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def daily_usage_query(query: str, columns: dict[str, str], login_events: list[str]) -> str:
    """Wrap a raw-events query in a GROUP BY account and day, computed by the database.

    `columns` maps the query's columns onto EVENT_ROLES (client column -> role). The result has
    the canonical daily usage columns and matches `kit.io.load.aggregate_events` on the same events:
    distinct active users, login events and all events per account and calendar day (UTC), rows
    without account or timestamp left out. Standard SQL (tested on PostgreSQL).
    """
    role = {v: k for k, v in columns.items()}
    account, ts = _ident(role["account_id"]), _ident(role["timestamp"])
    users = f"COUNT(DISTINCT e.{_ident(role['user_id'])})" if "user_id" in role else "CAST(NULL AS BIGINT)"
    if "event" in role and login_events:
        logins = f"SUM(CASE WHEN e.{_ident(role['event'])} IN ({', '.join(_literal(x) for x in login_events)}) THEN 1 ELSE 0 END)"
    else:
        logins = "0"
    body = query.strip().rstrip(";")
    return (
        f"SELECT CAST(e.{account} AS VARCHAR(255)) AS account_id, CAST(e.{ts} AS DATE) AS date, "
        f"{users} AS active_users, CAST({logins} AS BIGINT) AS logins, COUNT(*) AS events\n"
        f"FROM (\n{body}\n) AS e\n"
        f"WHERE e.{account} IS NOT NULL AND e.{ts} IS NOT NULL\n"
        f"GROUP BY CAST(e.{account} AS VARCHAR(255)), CAST(e.{ts} AS DATE)\n"
        f"ORDER BY 1, 2"
    )


# ---------------------------------------------------------------------------- reading


def query_for(table: str, src) -> str:
    """The SQL actually sent: the consultant's query, wrapped when `aggregate_events` asks for it."""
    if not getattr(src, "aggregate_events", None):
        return src.query
    if table != "usage":
        raise SourceError(
            "`aggregate_events` is only for the usage table", where=f"sources.{table}", code="invalid",
            fix=f"remove sources.{table}.aggregate_events",
        )
    return daily_usage_query(src.query, src.aggregate_events, src.login_events)


def read(table: str, src) -> tuple[pl.DataFrame, str, str, str]:
    """Run the source's query. Returns (frame, masked URI, SHA-256 of the query, query sent)."""
    where = f"sources.{table}"
    shown = shown_uri(src.uri)
    if literal_password(src.uri):
        raise SourceError(
            f"the uri ({shown}) contains a password; credentials never go in the parameters file", where=f"{where}.uri",
            code="literal_password",
            fix="reference environment variables, e.g. postgresql://${CLIENT_DB_USER}:${CLIENT_DB_PASSWORD}@host/db, and export them before running",
        )
    uri = expand_env(src.uri, where, shown=shown)
    masked = mask_uri(uri)
    query = query_for(table, src)
    sha = hashlib.sha256(query.encode("utf-8")).hexdigest()
    timeout = float(getattr(src, "timeout_seconds", None) or DEFAULT_TIMEOUT_SECONDS)
    engine = engine_for(uri)
    try:
        if engine == "adbc":
            frame = _read_adbc(query, with_timeouts(uri, timeout))
        else:
            frame = pl.read_database_uri(query, uri, engine="connectorx")
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # drivers raise many types, and Rust panics are BaseExceptions
        raise explain(e, table, uri, timeout, engine) from None
    return frame, masked, sha, query


def _read_adbc(query: str, uri: str) -> pl.DataFrame:
    """Run the query through ADBC (libpq) and hand the Arrow result to polars.

    Arrow types polars cannot import (PostgreSQL `numeric` arrives as an opaque extension type,
    `interval` as month_day_nano_interval) are turned into text first, instead of the Rust panic
    polars would raise; the loader then parses them like any exported value.
    """
    import adbc_driver_postgresql.dbapi as dbapi

    with dbapi.connect(uri) as conn, conn.cursor() as cur:
        cur.execute(query)
        table = cur.fetch_arrow_table()
    return pl.from_arrow(_importable(table), rechunk=False)


def _importable(table):
    import pyarrow as pa

    if not any(isinstance(f.type, pa.BaseExtensionType) or pa.types.is_interval(f.type) for f in table.schema):
        return table
    columns = []
    for field, col in zip(table.schema, table.columns):
        t = field.type
        if isinstance(t, pa.BaseExtensionType):
            col, t = pa.chunked_array([c.storage for c in col.chunks], t.storage_type), t.storage_type
        if pa.types.is_interval(t) or not (pa.types.is_string(t) or pa.types.is_large_string(t)) and isinstance(field.type, pa.BaseExtensionType):
            col = pa.array([None if v is None else str(v) for v in col.to_pylist()], pa.string())
        columns.append(col)
    return pa.table(columns, names=table.column_names)


def explain(e: BaseException, table: str, uri: str, timeout: float, engine: str) -> SourceError:
    """A driver exception as a message naming the source, the host (password masked) and the fix."""
    where = f"sources.{table}"
    masked = mask_uri(uri)
    host = host_of(uri)
    text = scrub(" ".join(str(e).split()), uri) or type(e).__name__
    low = text.lower()
    if "statement timeout" in low or "canceling statement" in low:
        return SourceError(
            f"query on {masked} cancelled after {timeout:g} s (timeout)", where=where, code="sql_timeout",
            fix=f"raise {where}.timeout_seconds, or let the database aggregate (a daily query, or "
            f"{where}.aggregate_events for raw events) so fewer rows travel",
        )
    connect_markers = (
        "failed to connect", "could not connect", "connection refused", "could not translate host",
        "name or service not known", "password authentication failed", "no pg_hba.conf entry",
        "timeout expired", "timed out waiting for connection", "error connecting to server",
        "does not exist" if "database \"" in low and "fatal" in low else "\0",
        "ssl", "role \"", "network is unreachable", "no route to host",
    )
    if any(m in low for m in connect_markers) and ("fatal" in low or "connect" in low or "ssl" in low):
        if "password authentication failed" in low or "role \"" in low:
            fix = f"check the user and password environment variables referenced in {where}.uri"
        elif "database \"" in low:
            fix = f"check the database name at the end of {where}.uri"
        else:
            fix = f"check the host and port in {where}.uri, and that this machine can reach {host} (VPN, firewall)"
        return SourceError(f"cannot connect to {host} ({masked}): {_reason(text)}", where=where, code="sql_connect", fix=fix)
    if "appears more than once" in low or "duplicate column" in low:
        return SourceError(
            f"query on {masked} returns two columns with one name: {_reason(text)}", where=where, code="duplicate_column",
            fix=f"give each column of {where}.query its own name (SELECT a.id AS account_id, b.id AS parent_id ...)",
        )
    if "panic" in type(e).__name__.lower() or "not implemented" in low or "could not import" in low:
        return SourceError(
            f"query on {masked} returned a column type the {engine} reader cannot convert: {_reason(text)}",
            where=where, code="sql_type", fix=f"cast that column in {where}.query, e.g. CAST(col AS text)",
        )
    return SourceError(
        f"query failed on {masked}: {_reason(text)}", where=where, code="sql_query",
        fix=f"run {where}.query in a SQL client against the same database; check table and column names",
    )


def _reason(text: str) -> str:
    """The useful part of a driver message (ADBC prefixes it with status and libpq noise)."""
    for marker in ("FATAL:", "ERROR:"):
        if marker in text:
            text = marker + text.split(marker, 1)[1]
            break
    text = re.sub(r"^(IO|INVALID_ARGUMENT|NOT_FOUND|INTERNAL|UNKNOWN): ", "", text)
    text = re.sub(r"\[libpq\] ", "", text)
    text = text.split(" Query was:")[0].split(" LINE 1:")[0]
    return text.strip()[:300]
