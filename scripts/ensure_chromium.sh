#!/bin/sh
# Make sure a Chromium browser is there for the browser test (tests/test_browser.py opens every
# page of a rendered client site in headless Chromium, driven by Playwright for Python through
# `executable_path`: no browser download). Called by `make test`.
#
# Found: says nothing. Missing, running as root with apt-get: installs Debian's `chromium` package
# quietly. Otherwise: prints why the browser test will skip. Always exits 0.
#
#   CHROMIUM=/path/to/chromium   use this browser (also read by the test)
#   ENSURE_DRY_RUN=1             say what would be installed, install nothing

NAME=ensure_chromium
TESTS="the browser test (tests/test_browser.py)"
. "$(dirname "$0")/apt.sh"

found() {
    [ -n "${CHROMIUM:-}" ] && [ -x "$CHROMIUM" ] && return 0
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}

found && exit 0
apt_install chromium "Chromium (or set CHROMIUM to a Chromium binary)"
found || skip "chromium was installed but is still not on PATH (set CHROMIUM)"
echo "ensure_chromium: Chromium installed." >&2
exit 0
