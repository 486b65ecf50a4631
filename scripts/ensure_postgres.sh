#!/bin/sh
# Make sure the PostgreSQL server binaries (initdb, pg_ctl, postgres) are there for the database
# tests (tests/test_postgres.py starts a throw-away cluster with them). Called by `make test`.
#
# Found: says nothing. Missing, running as root with apt-get: installs Debian's `postgresql`
# package quietly (without creating or starting the default cluster). Otherwise: prints why the
# PostgreSQL tests will skip. Always exits 0: the rest of the test suite runs either way.
#
#   PG_BIN=/path/to/bin       use these binaries (also read by tests/support/pg.py)
#   PG_SEARCH='/usr/lib/postgresql/*/bin'   where to look (default)
#   ENSURE_PG_DRY_RUN=1       say what would be installed, install nothing

NAME=ensure_postgres
TESTS="the PostgreSQL tests (tests/test_postgres.py)"
ENSURE_DRY_RUN=${ENSURE_PG_DRY_RUN:-}
. "$(dirname "$0")/apt.sh"

found() {
    for d in ${PG_BIN:-} ${PG_SEARCH:-/usr/lib/postgresql/*/bin}; do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
            return 0
        fi
    done
    [ -z "${PG_SEARCH:-}" ] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1
}

found && exit 0
# No default cluster: the tests start their own on a free port.
if [ -z "$ENSURE_DRY_RUN" ] && [ "$(id -u)" = 0 ] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
fi
apt_install postgresql "PostgreSQL server binaries (install PostgreSQL 13+ and set PG_BIN to its bin folder)"
found || skip "postgresql was installed but initdb/pg_ctl/postgres are still not found (set PG_BIN)"
echo "ensure_postgres: PostgreSQL server installed." >&2
exit 0
