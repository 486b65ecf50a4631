"""Client data read straight from a database, checked against a real, throw-away PostgreSQL.

The demo client's exports are copied as they are (client column names and raw values) into
tables of a local cluster (tests/support/pg.py); a parameters file whose sources are `uri` + `query`
must then give the same canonical tables, the same manifest row counts and the same notebook
artefacts as the file sources, without the password reaching any file of the run folder.
Without PostgreSQL server binaries the server tests skip with the reason (see
scripts/ensure_postgres.sh); the unit tests at the top need no server.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kit.periods import Period
from kit.run import months
from kit.io import cache, database
from kit import params
from kit.errors import SourceError
from kit.io.load import ClientData, load_table
from tests.support import pg
from tests.conftest import DEMO_PERIOD

# ---------------------------------------------------------------------------- no server needed


def test_mask_uri_hides_the_password_only():
    assert database.mask_uri("postgresql://u:p%40ss@h:5432/db?x=1") == "postgresql://u:***@h:5432/db?x=1"
    assert database.mask_uri("postgresql://${U}:${P}@h/db") == "postgresql://${U}:***@h/db"
    assert database.mask_uri("postgresql://u@h/db") == "postgresql://u@h/db"
    assert database.mask_uri("see mysql://a:b@c/d and postgresql://e:f@g/h") == "see mysql://a:***@c/d and postgresql://e:***@g/h"


def test_expand_env_percent_encodes_credentials_only(monkeypatch):
    monkeypatch.setenv("T_USER", "ana")
    monkeypatch.setenv("T_PW", "p@ss:w/rd")
    monkeypatch.setenv("T_DB", "sales/eu")
    uri = database.expand_env("postgresql://${T_USER}:${T_PW}@db.example.com:5432/${T_DB}", "sources.x")
    assert uri == "postgresql://ana:p%40ss%3Aw%2Frd@db.example.com:5432/sales/eu"


def test_shown_uri_masks_a_password_with_reserved_characters(monkeypatch):
    monkeypatch.setenv("T_PW", "s3cr@t:x/y")
    monkeypatch.setenv("T_HOST", "db.example.com")
    assert database.shown_uri("postgresql://ana:${T_PW}@${T_HOST}:5432/crm") == "postgresql://ana:***@db.example.com:5432/crm"
    assert database.shown_uri("postgresql://ana:${T_MISSING}@h/crm") == "postgresql://ana:***@h/crm"


def test_a_password_written_in_the_parameters_is_refused():
    from kit.errors import ParametersError

    for uri in ("postgresql://ana:hunter22@db.example.com/crm", "postgresql://ana:pre${T_PW}@db.example.com/crm"):
        raw = {"client": "x", "name": "X", "sources": {"accounts": {"uri": uri, "query": "SELECT 1"}}}
        with pytest.raises(ParametersError, match="contains a password") as e:
            params.from_dict(raw)  # validation refuses it, so `validate` catches it before any run
        assert "hunter22" not in str(e.value) and "${CLIENT_DB_PASSWORD}" in str(e.value)
        # and the reader refuses it too, should a Source be built without validation
        src = params.Source.model_construct(uri=uri, query="SELECT 1", timeout_seconds=600)
        with pytest.raises(SourceError, match="contains a password") as e:
            database.read("accounts", src)
        assert "hunter22" not in str(e.value)
    assert not database.literal_password("postgresql://${T_USER}:${T_PW}@db.example.com/crm")
    assert not database.literal_password("postgresql://ana@db.example.com/crm")  # password from ~/.pgpass


def test_missing_variable_names_it_the_source_and_the_host(monkeypatch):
    monkeypatch.setenv("T_HOST", "db.example.com")
    monkeypatch.setenv("T_PW", "hunter22")
    monkeypatch.delenv("T_USER", raising=False)
    src = params.Source(uri="postgresql://${T_USER}:${T_PW}@${T_HOST}/crm", query="SELECT 1")
    with pytest.raises(SourceError) as e:
        database.read("accounts", src)
    text = str(e.value)
    assert e.value.code == "missing_env" and e.value.where == "sources.accounts"
    assert "T_USER" in text and "db.example.com" in text and "export T_USER=" in text
    assert "hunter22" not in text


def test_timeouts_are_added_to_postgres_uris_without_overriding_the_client():
    uri = database.with_timeouts("postgresql://u:p@h/db", 90)
    assert "connect_timeout=30" in uri and "statement_timeout%3D90000" in uri and "TimeZone%3DUTC" in uri
    own = database.with_timeouts("postgresql://u:p@h/db?connect_timeout=5&options=-c%20statement_timeout%3D1000", 90)
    assert "connect_timeout=5" in own and "statement_timeout%3D1000" in own and "90000" not in own
    assert database.with_timeouts("mysql://u:p@h/db", 90) == "mysql://u:p@h/db"
    assert database.engine_for("postgres://h/db") == "adbc" and database.engine_for("mssql://h/db") == "connectorx"


def test_aggregate_events_is_validated():
    ok = {"uri": "postgresql://h/db", "query": "SELECT * FROM events", "aggregate_events": {"acct": "account_id", "ts": "timestamp"}}
    params.Source(**ok)
    for bad in (
        {**ok, "aggregate_events": {"acct": "account_id"}},  # no timestamp
        {**ok, "aggregate_events": {"acct": "account_id", "ts": "timestamp", "x": "when"}},  # unknown role
        {**ok, "kind": "events"},
        {**ok, "columns": {"ts": "timestamp"}},
    ):
        with pytest.raises(ValueError, match="aggregate_events"):
            params.Source(**bad)
    raw = {"client": "t", "name": "T", "sources": {"accounts": {**ok, "aggregate_events": {"a": "account_id", "t": "timestamp"}}}}
    p = params.from_dict(raw)
    with pytest.raises(SourceError, match="only for the usage table"):
        database.query_for("accounts", p.sources["accounts"])


def test_start_skips_with_a_reason_without_server_binaries(monkeypatch):
    monkeypatch.setattr(pg, "find_bin", lambda: None)
    with pytest.raises(pg.Unavailable, match="ensure_postgres.sh"):
        pg.start()


def test_ensure_postgres_script_exits_0_and_says_what_it_does(tmp_path):
    script = Path(__file__).resolve().parent.parent / "scripts" / "ensure_postgres.sh"
    env = {**os.environ, "PG_SEARCH": str(tmp_path / "none"), "ENSURE_PG_DRY_RUN": "1"}
    r = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    assert "would run: apt-get install -y postgresql" in r.stdout or "PostgreSQL tests (tests/test_postgres.py) will skip" in r.stderr
    fake = tmp_path / "bin"
    fake.mkdir()
    for name in ("initdb", "pg_ctl", "postgres"):
        (fake / name).write_text("#!/bin/sh\n")
        (fake / name).chmod(0o755)
    r = subprocess.run(["sh", str(script)], env={**env, "PG_BIN": str(fake)}, capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


# ---------------------------------------------------------------------------- a real server


@pytest.fixture(scope="module")
def cluster():
    try:
        c = pg.start()
    except pg.Unavailable as e:
        pytest.skip(f"PostgreSQL tests skipped: {e}")
    yield c
    c.stop()


@pytest.fixture(scope="module")
def db_env(cluster):
    """The connection settings as environment variables, for the whole module (notebook kernels inherit them)."""
    saved = {k: os.environ.get(k) for k in cluster.env()}
    os.environ.update(cluster.env())
    yield cluster.env()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def sql_params_file(cluster, db_env, demo_params, demo_params_file, tmp_path_factory) -> Path:
    pg.load_demo(cluster, demo_params)
    folder = tmp_path_factory.mktemp("sql-parameters")
    path = folder / "demo_sql.yml"
    path.write_text(pg.sql_params_text(demo_params_file.read_text()))
    return path


@pytest.fixture(scope="module")
def sql_params(sql_params_file) -> params.Parameters:
    return params.load(sql_params_file)


def test_parameters_file_holds_no_credentials(sql_params_file, cluster):
    text = sql_params_file.read_text()
    assert cluster.password not in text and "${DEMO_DB_PASSWORD}" in text


def test_every_canonical_table_from_sql_equals_the_file_one(sql_params, demo_data):
    sql = ClientData(sql_params)
    assert sql.unavailable == demo_data.unavailable and not sql.errors
    for table in pg.DEMO_TABLES:
        expected, got = demo_data.table(table), sql.table(table)
        assert_frame_equal(got, expected, check_dtypes=True)
        assert [c.dtype for c in got.iter_columns()] == [c.dtype for c in expected.iter_columns()]
        assert sql.loads[table].mapping == demo_data.loads[table].mapping
        file_problems = [(p.column, p.code, p.count, p.examples) for p in demo_data.loads[table].problems]
        sql_problems = [(p.column, p.code, p.count, p.examples) for p in sql.loads[table].problems]
        assert sql_problems == file_problems, table
    # the planted defects survive the trip (e.g. unparseable ticket dates are still reported)
    assert any(p.code == "unparseable_datetime" and p.count == 3 for p in sql.loads["tickets"].problems)


def test_manifest_records_masked_uri_query_hash_and_rows(sql_params, demo_data, cluster):
    inputs = ClientData(sql_params).inputs
    files = demo_data.inputs
    for table, entry in inputs.items():
        src = sql_params.sources[table]
        assert entry["kind"] == "sql", entry
        assert entry["location"] == f"postgresql://{cluster.user}:***@{cluster.host}:{cluster.port}/{cluster.database}"
        assert entry["query_sha256"] == hashlib.sha256(src.query.encode()).hexdigest()
        assert entry["rows"] == files[table]["rows"]
    text = json.dumps({"inputs": inputs, "parameters": sql_params.public_dict()})
    assert cluster.password not in text and quote(cluster.password, safe="") not in text


# ---- errors: each names the source, the host with the password masked, and the fix


def _source(cluster, **over) -> params.Source:
    base = {"uri": pg.SQL_URI, "query": "SELECT * FROM crm_accounts", "columns": {"Account ID": "account_id"}}
    return params.Source(**{**base, **over})


def _error(src: params.Source, table: str = "accounts") -> SourceError:
    with pytest.raises(SourceError) as e:
        database.read(table, src)
    return e.value


def _check(err: SourceError, cluster, code: str, *words: str) -> str:
    text = str(err)
    assert err.code == code, text
    assert err.where.startswith("sources.accounts") and err.fix, text
    assert f"{cluster.host}:{cluster.port}" in text or cluster.host in text, text
    assert cluster.password not in text and quote(cluster.password, safe="") not in text, text
    for w in words:
        assert w in text, (w, text)
    return text


def test_wrong_password(cluster, db_env, monkeypatch):
    monkeypatch.setenv("DEMO_DB_PASSWORD", cluster.password + "x")
    _check(_error(_source(cluster)), cluster, "sql_connect", "password authentication failed", "***", "password environment variables")


def test_connection_refused(cluster, db_env, monkeypatch):
    monkeypatch.setenv("DEMO_DB_PORT", str(pg._free_port()))
    err = _error(_source(cluster))
    assert err.code == "sql_connect" and "refused" in str(err).lower() and "host and port" in err.fix
    assert cluster.password not in str(err)


def test_query_error(cluster, db_env):
    text = _check(_error(_source(cluster, query="SELECT * FROM crm_acounts")), cluster, "sql_query", 'relation "crm_acounts" does not exist')
    assert "SQL client" in text


def test_timeout(cluster, db_env):
    src = _source(cluster, query="SELECT 1 AS x FROM pg_sleep(5)", timeout_seconds=1)
    _check(_error(src), cluster, "sql_timeout", "cancelled after 1 s", "timeout_seconds")


def test_missing_variable_against_the_server(cluster, db_env, monkeypatch):
    monkeypatch.delenv("DEMO_DB_PASSWORD")
    _check(_error(_source(cluster)), cluster, "missing_env", "DEMO_DB_PASSWORD", "export DEMO_DB_PASSWORD=")


def test_types_polars_cannot_import_arrive_as_text(cluster, db_env):
    src = _source(cluster, query="SELECT '1 day'::interval AS gap, 1.25::numeric AS n, 'x'::text AS t")
    frame = database.read("accounts", src)[0]
    assert frame.schema == {"gap": pl.String, "n": pl.String, "t": pl.String}
    assert frame.row(0) == (frame["gap"][0], "1.25", "x") and "1" in frame["gap"][0]


def test_numeric_columns_arrive_as_numbers(cluster, db_env, tmp_path):
    cluster.psql("DROP TABLE IF EXISTS typed_accounts; CREATE TABLE typed_accounts (id text, arr numeric(12,2), renews date, created timestamptz);"
                 "INSERT INTO typed_accounts VALUES ('A1', 1234.50, '2027-01-31', '2024-03-01 23:30:00-05'), ('A2', NULL, NULL, NULL)")
    p = params.from_dict({"client": "t", "name": "T", "sources": {"accounts": {
        "uri": pg.SQL_URI, "query": "SELECT * FROM typed_accounts ORDER BY id",
        "columns": {"id": "account_id", "arr": "arr", "renews": "renewal_date", "created": "created_at"}}}})
    t = load_table(p, "accounts", strict=True)
    got = t.frame.collect()
    assert got["arr"].to_list() == [1234.5, None]
    assert got["renewal_date"].to_list()[0].isoformat() == "2027-01-31"
    assert got["created_at"].to_list()[0] == date(2024, 3, 2)  # 23:30 at UTC-5 is the 2nd in UTC


# ---- aggregation in the database


def _events() -> pl.DataFrame:
    """Raw events: several users and event names per account and day, some without account or time."""
    start = datetime(2026, 9, 28, 22, 0)
    rows = []
    for i in range(3000):
        rows.append({
            "acct": None if i % 997 == 0 else f"A{i % 7}",
            "event_time": None if i % 1009 == 0 else start + timedelta(minutes=7 * i),
            "user_email": f"u{(i * 13) % 11}@x.com",
            "event_name": ("login", "view", "export", "Login")[i % 4],
        })
    return pl.DataFrame(rows, schema={"acct": pl.String, "event_time": pl.Datetime("us"), "user_email": pl.String, "event_name": pl.String})


def test_aggregate_events_in_the_database_equals_the_kit_aggregation(cluster, db_env, tmp_path):
    events = _events()
    cluster.load_frame("product_events", events)
    events.write_parquet(tmp_path / "events.parquet")
    mapping = {"acct": "account_id", "event_time": "timestamp", "user_email": "user_id", "event_name": "event"}
    accounts = {"path": "accounts.csv"}
    (tmp_path / "accounts.csv").write_text("account_id\nA1\n")
    from_file = params.from_dict({"client": "t", "name": "T", "sources": {
        "accounts": accounts, "usage": {"path": "events.parquet", "columns": mapping, "login_events": ["login", "Login"]}}}, base_dir=tmp_path)
    in_db = params.from_dict({"client": "t", "name": "T", "sources": {
        "accounts": accounts, "usage": {
            "uri": pg.SQL_URI, "query": "SELECT * FROM product_events", "aggregate_events": mapping,
            "login_events": ["login", "Login"], "columns": {"events": "events"}}}}, base_dir=tmp_path)
    kit_side = load_table(from_file, "usage").frame.collect()
    db_load = load_table(in_db, "usage")
    db_side = db_load.frame.collect()
    assert db_load.kind == "daily" and db_load.raw.frame.collect().height == db_side.height
    cols = ["account_id", "date", "active_users", "logins", "events"]
    expected = kit_side.select(cols).sort("account_id", "date")
    assert db_side.height < events.height / 10  # only daily rows left the database
    assert_frame_equal(db_side.select(cols).sort("account_id", "date"), expected.with_columns(pl.col("events").cast(pl.Float64)))
    # independent check of one cell: account A1 on its first day, counted in Python
    day = expected.filter(pl.col("account_id") == "A1")["date"][0]
    rows = [r for r in events.iter_rows(named=True) if r["acct"] == "A1" and r["event_time"] and r["event_time"].date() == day]
    got = db_side.filter((pl.col("account_id") == "A1") & (pl.col("date") == day)).row(0, named=True)
    assert got["active_users"] == len({r["user_email"] for r in rows})
    assert got["logins"] == sum(r["event_name"] in ("login", "Login") for r in rows)


# ---------------------------------------------------------------------------- the batch, end to end

# The notebooks compared: the audit, plus the maintenance check (both exist and are quick).
NOTEBOOKS = ["audit", "maintenance"]


@pytest.fixture(scope="module")
def statement_log(cluster):
    """From now on the server logs every statement it executes (log_statement = all); returns the log file."""
    cluster.psql("ALTER SYSTEM SET log_statement = 'all'")
    cluster.psql("SELECT pg_reload_conf()")
    for _ in range(100):  # the reload is asynchronous; new connections see it once it is done
        if "all" in cluster.psql("SHOW log_statement"):
            break
        time.sleep(0.05)
    return cluster.root / "server.log"


@pytest.fixture(scope="module")
def runs(sql_params_file, demo_params_file, db_env, statement_log, tmp_path_factory):
    """September and October from files; the same two months from SQL (`run_all`, one range per client)
    next to a client whose database is unreachable; and the lines the server logged during the SQL batch.
    Each client's last month's result is kept."""
    out = tmp_path_factory.mktemp("runs")
    plan = months.plan([Period.parse(DEMO_PERIOD).previous(), Period.parse(DEMO_PERIOD)], NOTEBOOKS)
    file_run = months.run_months(demo_params_file, plan, out=out / "files")[-1]
    folder = sql_params_file.parent
    broken = pg.sql_params_text(demo_params_file.read_text(), uri=pg.SQL_URI.replace("${DEMO_DB_PORT}", str(pg._free_port())))
    (folder / "broken.yml").write_text(broken.replace("client: demo", "client: broken", 1))
    logged = statement_log.stat().st_size
    results = months.run_all(folder, plan, out=out / "sql")
    with statement_log.open(errors="replace") as f:
        f.seek(logged)
        statements = f.read().splitlines()
    assert [r.period for r in results if r.client == "demo"] == [p.period.label for p in plan]
    return file_run, {r.client: r for r in results}, statements


def test_each_sql_source_is_queried_once_per_range_run(runs, sql_params):
    """The runner reads each source once for the whole range of months (kit.io.cache, kit.run.months):
    not again for each month, the manifest, the period check or each notebook."""
    _, sql, statements = runs
    assert sql["demo"].status == "ok", sql["demo"].failure
    counts = {table: sum(src.query in line for line in statements) for table, src in sql_params.sources.items()}
    assert counts == dict.fromkeys(sql_params.sources, 1)


def test_the_run_cache_holds_no_secret(sql_params, cluster, tmp_path):
    cache.write(ClientData(sql_params), tmp_path)
    files = sorted((tmp_path / cache.FOLDER).iterdir())
    assert len(files) > 2 * len(sql_params.sources)  # the index, and every table as read and as typed
    for p in files:
        data = p.read_bytes()
        for s in (cluster.password, quote(cluster.password, safe="")):
            assert s.encode() not in data, f"{p.name} contains the database password"
    index = json.loads((tmp_path / cache.FOLDER / cache.INDEX).read_text())
    assert all(t["location"].startswith(f"postgresql://{cluster.user}:***@") for t in index["tables"].values())
    assert not any(src.query in json.dumps(index) for src in sql_params.sources.values())  # queries are hashed, not kept


def test_batch_goes_on_after_an_unreachable_database(runs, cluster):
    _, sql, _ = runs
    assert sql["broken"].status == "failed"
    msg = sql["broken"].error
    assert "sources.accounts" in msg and f"{cluster.host}:" in msg and "***" in msg and "fix:" in msg
    assert cluster.password not in msg
    assert sql["demo"].status == "ok", sql["demo"].failure


def _normalise(obj, locations: set[str]):
    if isinstance(obj, dict):
        return {k: _normalise(v, locations) for k, v in obj.items() if k not in ("created_at", "seconds")}
    if isinstance(obj, list):
        return [_normalise(v, locations) for v in obj]
    if isinstance(obj, str):
        for loc in locations:
            obj = obj.replace(loc, "<source>")
    return obj


def test_artefacts_equal_between_file_and_sql_runs(runs, demo_params, sql_params):
    file_run, sql, _ = runs
    assert file_run.status == "ok", file_run.failure
    a, b = Path(file_run.folder), Path(sql["demo"].folder)
    names = sorted(p.name for p in a.glob("*.json") if p.name != "manifest.json")
    assert "audit.json" in names, names
    assert names == sorted(p.name for p in b.glob("*.json") if p.name != "manifest.json")
    locations = {str(demo_params.resolve(s.path)) for s in demo_params.sources.values()}
    locations |= {database.shown_uri(s.uri) for s in sql_params.sources.values()}
    for name in names:
        assert _normalise(json.loads((b / name).read_text()), locations) == _normalise(json.loads((a / name).read_text()), locations), name
    for csv in sorted(a.glob("*.csv")):
        assert_frame_equal(pl.read_csv(b / csv.name, infer_schema=False), pl.read_csv(csv, infer_schema=False))


def test_no_secret_in_any_file_of_the_run_folder(runs, cluster):
    _, sql, _ = runs
    folder = Path(sql["demo"].folder)
    secrets = {cluster.password, quote(cluster.password, safe="")}
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert any(p.suffix == ".ipynb" for p in files) and any(p.suffix == ".html" for p in files)
    assert any(p.name == "manifest.json" for p in files) and any(p.suffix == ".log" for p in files)
    for p in files:
        data = p.read_bytes()
        for s in secrets:
            assert s.encode() not in data, f"{p} contains the database password"
    m = json.loads((folder / "manifest.json").read_text())
    assert m["inputs"]["usage"]["kind"] == "sql" and "***" in m["inputs"]["usage"]["location"]
    # papermill parameters carry only the parameters file, the period and the run folder
    nb = json.loads((folder / "01_audit.ipynb").read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    assert injected and set(_assigned("".join(injected[0]["source"]))) == {"params_path", "period", "run_dir"}


def _assigned(source: str) -> list[str]:
    return [line.split("=", 1)[0].strip() for line in source.splitlines() if "=" in line and not line.startswith("#")]
