# Shared by the ensure_*.sh scripts (sourced, not run): install a Debian package for a group of
# tests when it is missing, or say why those tests will skip. Set NAME (the script's name, for
# messages) and TESTS (which tests skip) before sourcing.

skip() {
    echo "$NAME: $1; $TESTS will skip." >&2
    exit 0
}

# apt_install PACKAGE WHAT: install PACKAGE quietly (running apt-get update once if needed) or skip.
apt_install() {
    command -v apt-get >/dev/null 2>&1 || skip "$2 not found and apt-get is not available"
    [ "$(id -u)" = 0 ] || skip "$2 not found and installing it needs root (run: sudo apt-get install $1)"
    if [ -n "${ENSURE_DRY_RUN:-}" ]; then
        echo "$NAME: would run: apt-get install -y $1"
        exit 0
    fi
    echo "$NAME: installing Debian's $1 package for $TESTS ..." >&2
    log=$(mktemp)
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -o Dpkg::Options::=--force-confold "$1" >>"$log" 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$log" 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -o Dpkg::Options::=--force-confold "$1" >>"$log" 2>&1 \
            || { tail -n 5 "$log" >&2; rm -f "$log"; skip "apt-get install $1 failed (see the lines above)"; }
    fi
    rm -f "$log"
}
