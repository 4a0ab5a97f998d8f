#!/usr/bin/env bash
# Make sure the libraries WeasyPrint renders printouts with are there (the gateway prints PDFs: docs/documents.md):
# pango (text layout, with harfbuzz) and a font with Indonesian's Latin letters. Installs Debian's packages with
# apt-get when missing and run as root; otherwise says what to install.
set -euo pipefail
PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
say() { echo "printing: $*"; }
have_libraries() {
    ldconfig -p | grep -q 'libpango-1.0.so.0' && ldconfig -p | grep -q 'libpangoft2-1.0.so.0' \
        && ldconfig -p | grep -q 'libharfbuzz-subset.so.0' && fc-list 2>/dev/null | grep -qi 'dejavu'
}
if have_libraries; then
    say "pango, harfbuzz and DejaVu fonts ok"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "printing: ERROR: pango, harfbuzz or the DejaVu fonts are missing. Install them" \
         "(sudo apt-get install ${PACKAGES[*]}), then rerun." >&2
    exit 1
fi
say "apt-get install ${PACKAGES[*]}"
DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${PACKAGES[@]}" </dev/null >/dev/null
have_libraries || { echo "printing: ERROR: apt-get installed ${PACKAGES[*]} but they are not found" >&2; exit 1; }
say "installed"
