#!/bin/sh
# Make sure poppler's pdftotext, pdftoppm and pdfimages are there for the document tests
# (tests/test_documents.py reads each rendered PDF's text and renders its pages to images).
# Called by `make test`.
#
# Found: says nothing. Missing, running as root with apt-get: installs Debian's `poppler-utils`
# quietly. Otherwise: prints why the document tests will skip. Always exits 0.
#
#   ENSURE_DRY_RUN=1             say what would be installed, install nothing

NAME=ensure_poppler
TESTS="the document tests (tests/test_documents.py)"
. "$(dirname "$0")/apt.sh"

found() {
    command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && command -v pdfimages >/dev/null 2>&1
}

found && exit 0
apt_install poppler-utils "poppler-utils (pdftotext, pdftoppm, pdfimages)"
found || skip "poppler-utils was installed but pdftotext is still not on PATH"
echo "ensure_poppler: poppler-utils installed." >&2
exit 0
