"""A throw-away PostgreSQL cluster for the tests: initdb + pg_ctl under a temp dir, 127.0.0.1 only.

    cluster = pg.start()            # raises pg.Unavailable(reason) when it cannot
    cluster.load_frame("crm_accounts", frame)
    cluster.uri()                   # postgresql://kit:<password>@127.0.0.1:<port>/kit
    cluster.stop()

The cluster uses password authentication (scram-sha-256) so that tests can check the password
never leaks into a run folder. initdb refuses to run as root, so as root the server runs as the
`postgres` OS user (via runuser) with the temp dir handed over to it.

Measuring the SQL engines (see kit/io/database.py for the outcome):

    .venv/bin/python tests/support/pg.py --bench [data/demo]
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

VERSIONS = ("17", "16", "15", "14", "13")
USER = "kit"
DATABASE = "kit"


class Unavailable(Exception):
    """The server cannot be started here; the message is the skip reason."""


def find_bin() -> Path | None:
    """The folder holding initdb/pg_ctl/postgres: $PG_BIN, Debian's /usr/lib/postgresql/<v>/bin, or PATH."""
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    candidates += [Path(f"/usr/lib/postgresql/{v}/bin") for v in VERSIONS]
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).parent)
    for c in candidates:
        if all((c / b).exists() for b in ("initdb", "pg_ctl", "postgres")):
            return c
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    bin: Path
    root: Path  # temp dir: data/, socket, log, password file
    port: int
    password: str
    run_as: list[str]  # prefix to run server commands as an unprivileged user ([] if not root)
    host: str = "127.0.0.1"
    user: str = USER
    database: str = DATABASE

    @property
    def data(self) -> Path:
        return self.root / "data"

    def uri(self, *, password: str | None = None) -> str:
        from urllib.parse import quote

        pw = quote(self.password if password is None else password, safe="*")
        return f"postgresql://{self.user}:{pw}@{self.host}:{self.port}/{self.database}"

    def env(self) -> dict[str, str]:
        """Variables for parameters files written as postgresql://${DEMO_DB_USER}:${DEMO_DB_PASSWORD}@...

        Not PGUSER/PGPASSWORD: libpq reads those by itself, which would hide a URI that lost its
        credentials on the way.
        """
        return {
            "DEMO_DB_USER": self.user, "DEMO_DB_PASSWORD": self.password, "DEMO_DB_HOST": self.host,
            "DEMO_DB_PORT": str(self.port), "DEMO_DB_NAME": self.database,
        }

    def psql(self, sql: str, *, stdin: str | bytes | None = None) -> str:
        psql = self.bin / "psql" if (self.bin / "psql").exists() else shutil.which("psql")
        if not psql:
            raise Unavailable("psql not found")
        cmd = [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.host, "-p", str(self.port), "-U", self.user, "-d", self.database, "-c", sql]
        data = stdin.encode() if isinstance(stdin, str) else stdin
        env = {**os.environ, "PGPASSWORD": self.password}
        out = subprocess.run(cmd, input=data, capture_output=True, env=env, timeout=300)
        if out.returncode:
            raise RuntimeError(f"psql failed: {out.stderr.decode(errors='replace')}")
        return out.stdout.decode()

    def load_frame(self, table: str, frame: pl.DataFrame, *, line_column: str | None = "_line") -> None:
        """CREATE TABLE with columns typed after the frame's dtypes, then COPY the rows in.

        `line_column` adds the record number (1-based) so queries can keep the export's order.
        """
        if line_column:
            frame = frame.with_row_index(line_column, offset=1)
        cols = ", ".join(f"{_ident(c)} {_pg_type(t)}" for c, t in frame.schema.items())
        self.psql(f"DROP TABLE IF EXISTS {_ident(table)}; CREATE TABLE {_ident(table)} ({cols})")
        buf = io.BytesIO()
        frame.write_csv(buf, null_value="", quote_style="non_numeric", date_format="%Y-%m-%d", datetime_format="%Y-%m-%d %H:%M:%S%.f")
        self.psql(f"COPY {_ident(table)} FROM STDIN WITH (FORMAT csv, HEADER true)", stdin=buf.getvalue())

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pg_type(dtype: pl.DataType) -> str:
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "timestamptz" if dtype.time_zone else "timestamp"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype in (pl.Int8, pl.Int16, pl.Int32, pl.UInt8, pl.UInt16):
        return "integer"
    if dtype.is_integer():
        return "bigint"
    if dtype.is_float():
        return "double precision"
    return "text"


def start() -> Cluster:
    """Start a new cluster; raise Unavailable with the reason when that is impossible here."""
    bin_dir = find_bin()
    if bin_dir is None:
        raise Unavailable("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; run scripts/ensure_postgres.sh or set PG_BIN")
    run_as: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="kit-pg-"))
    if os.geteuid() == 0:
        user = os.environ.get("PG_OS_USER", "postgres")
        try:
            import pwd

            pw = pwd.getpwnam(user)
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise Unavailable(f"running as root and there is no {user!r} OS user to run the server as (initdb refuses root)") from None
        runuser = shutil.which("runuser")
        run_as = [runuser, "-u", user, "--"] if runuser else ["su", user, "-s", "/bin/sh", "-c"]
        if not runuser:
            shutil.rmtree(root, ignore_errors=True)
            raise Unavailable("running as root without runuser; cannot start the server as an unprivileged user")
        os.chown(root, pw.pw_uid, pw.pw_gid)
    root.chmod(0o700)
    password = f"s3cr@t:{secrets.token_hex(10)}/pw"  # URI-reserved characters: the kit must percent-encode them
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if run_as:
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    cluster = Cluster(bin_dir, root, _free_port(), password, run_as)
    init = [*run_as, str(bin_dir / "initdb"), "-D", str(cluster.data), "-U", USER, f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"]
    out = subprocess.run(init, capture_output=True, timeout=120)
    pwfile.unlink()
    if out.returncode:
        shutil.rmtree(root, ignore_errors=True)
        raise Unavailable(f"initdb failed: {out.stderr.decode(errors='replace').strip()[-300:]}")
    opts = f"-c listen_addresses=127.0.0.1 -c port={cluster.port} -c unix_socket_directories={root} -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    start_cmd = [*run_as, str(bin_dir / "pg_ctl"), "-D", str(cluster.data), "-l", str(root / "server.log"), "-o", opts, "-w", "-t", "60", "start"]
    out = subprocess.run(start_cmd, capture_output=True, timeout=90)
    if out.returncode:
        log = (root / "server.log").read_text(errors="replace")[-500:] if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise Unavailable(f"pg_ctl start failed: {out.stderr.decode(errors='replace').strip()[-300:]} {log}")
    _create_database(cluster)
    return cluster


def _create_database(cluster: Cluster) -> None:
    env = {**os.environ, "PGPASSWORD": cluster.password}
    psql = cluster.bin / "psql" if (cluster.bin / "psql").exists() else shutil.which("psql")
    cmd = [str(psql), "-X", "-q", "-h", cluster.host, "-p", str(cluster.port), "-U", cluster.user, "-d", "postgres", "-c", f"CREATE DATABASE {DATABASE}"]
    out = subprocess.run(cmd, capture_output=True, env=env, timeout=60)
    if out.returncode:
        cluster.stop()
        raise Unavailable(f"cannot create the test database: {out.stderr.decode(errors='replace').strip()}")


# ---------------------------------------------------------------------------- the demo client in SQL

SQL_URI = "postgresql://${DEMO_DB_USER}:${DEMO_DB_PASSWORD}@${DEMO_DB_HOST}:${DEMO_DB_PORT}/${DEMO_DB_NAME}"

# canonical table -> database table holding the client's raw export
DEMO_TABLES = {
    "accounts": "crm_accounts",
    "contacts": "crm_contacts",
    "renewals": "crm_renewal_opportunities",
    "usage": "product_daily_usage",
    "tickets": "zendesk_tickets",
    "invoices": "billing_invoices",
    "surveys": "nps_responses",
    "health_scores": "platform_health_scores",
    "ctas": "platform_ctas",
    "sync_log": "platform_sync_log",
    "platform_logins": "platform_user_logins",
    "team": "platform_team",
}


def load_demo(cluster: Cluster, params) -> None:
    """Copy each of the demo client's exports, as the kit reads it (client columns and values), into a table."""
    from kit.io import sources

    for table, db_table in DEMO_TABLES.items():
        src = params.sources[table]
        raw = sources.read(table, src, params)
        cluster.load_frame(db_table, raw.frame.collect())


def sql_params_text(file_params_text: str, *, uri: str = SQL_URI, extra: dict[str, str] | None = None) -> str:
    """The demo parameters with every `path:` (and `sheet:`) replaced by uri + query on DEMO_TABLES."""
    import yaml

    raw = yaml.safe_load(file_params_text)
    for table, src in raw["sources"].items():
        src.pop("path", None)
        src.pop("sheet", None)
        src["uri"] = uri
        src["query"] = f"SELECT * FROM {DEMO_TABLES[table]} ORDER BY _line"
        src.update((extra or {}).get(table, {}))
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)


# ---------------------------------------------------------------------------- engine benchmark


def bench(data_dir: str = "data/demo", runs: int = 7) -> dict:
    """Median seconds to read the usage table (~1.2M rows) and the accounts table with each engine."""
    import statistics
    import sys

    from kit import params as params_mod

    repo = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(repo / "tests"))
    from conftest import write_params

    tmp = Path(tempfile.mkdtemp())
    p = params_mod.load(write_params(tmp, Path(data_dir).resolve()))
    cluster = start()
    try:
        from kit.io import sources

        for table in ("usage", "accounts"):
            cluster.load_frame(DEMO_TABLES[table], sources.read(table, p.sources[table], p).frame.collect())
        results = {}
        for table in ("usage", "accounts"):
            query = f"SELECT * FROM {DEMO_TABLES[table]}"
            for engine in ("connectorx", "adbc", "kit"):
                times = []
                for _ in range(runs):
                    t = time.perf_counter()
                    if engine == "kit":  # what kit.io.database does: ADBC cursor -> Arrow -> polars
                        from kit.io import database

                        df = database._read_adbc(query, cluster.uri())
                    else:
                        df = pl.read_database_uri(query, cluster.uri(), engine=engine)
                    times.append(time.perf_counter() - t)
                results[(table, engine)] = (statistics.median(times), df.height, dict(df.schema))
        for (table, engine), (secs, rows, schema) in results.items():
            print(f"{table:9s} {engine:11s} rows={rows:>9,d} median={secs:.3f}s  {schema}")
        return results
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover
    import sys

    if "--bench" in sys.argv:
        args = [a for a in sys.argv[1:] if not a.startswith("--")]
        bench(*(args[:1] or ["data/demo"]))
    else:
        c = start()
        print(c.uri(password="***"), "started; stopping")
        c.stop()
