#!/bin/sh
# Make sure the PostgreSQL server binaries (initdb, pg_ctl, postgres) are there for the database
# tests (tests/test_postgres.py starts a throw-away cluster with them). Called by `make test`.
#
# Found: says nothing. Missing, running as root with apt-get: installs Debian's `postgresql`
# package quietly (without creating or starting the default cluster). Otherwise: prints why the
# PostgreSQL tests will skip. Always exits 0: the rest of the test suite runs either way.
#
#   PG_BIN=/path/to/bin       use these binaries (also read by tests/pg.py)
#   PG_SEARCH='/usr/lib/postgresql/*/bin'   where to look (default)
#   ENSURE_PG_DRY_RUN=1       say what would be installed, install nothing

found() {
    for d in ${PG_BIN:-} ${PG_SEARCH:-/usr/lib/postgresql/*/bin}; do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
            return 0
        fi
    done
    [ -z "${PG_SEARCH:-}" ] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1
}

skip() {
    echo "ensure_postgres: $1; the PostgreSQL tests (tests/test_postgres.py) will skip." >&2
    exit 0
}

found && exit 0

command -v apt-get >/dev/null 2>&1 || skip "PostgreSQL server binaries not found and apt-get is not available (install PostgreSQL 13+ and set PG_BIN to its bin folder)"
[ "$(id -u)" = 0 ] || skip "PostgreSQL server binaries not found and installing them needs root (run: sudo apt-get install postgresql)"

if [ -n "${ENSURE_PG_DRY_RUN:-}" ]; then
    echo "ensure_postgres: would run: apt-get install -y postgresql"
    exit 0
fi

echo "ensure_postgres: installing Debian's postgresql package for the database tests ..." >&2
# No default cluster: the tests start their own on a free port.
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
fi
log=$(mktemp)
install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confold postgresql >>"$log" 2>&1
}
if ! install; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$log" 2>&1
    install || { tail -n 5 "$log" >&2; rm -f "$log"; skip "apt-get install postgresql failed (see the lines above)"; }
fi
rm -f "$log"
found || skip "postgresql was installed but initdb/pg_ctl/postgres are still not found (set PG_BIN)"
echo "ensure_postgres: PostgreSQL server installed." >&2
exit 0
