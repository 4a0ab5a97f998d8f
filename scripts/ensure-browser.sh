#!/usr/bin/env bash
# Make sure Debian's Chromium is there for the browser tests (tests/browser: Playwright drives it; nothing is ever
# downloaded from a browser CDN). Installs it with apt-get when missing and run as root; otherwise says how.
set -euo pipefail
CHROMIUM=${BERDAYA_CHROMIUM:-/usr/bin/chromium}
say() { echo "browser: $*"; }
if [ -x "$CHROMIUM" ]; then
    say "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM") ok"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "browser: ERROR: no Chromium at $CHROMIUM. Install Debian's (sudo apt-get install chromium) or set" \
         "BERDAYA_CHROMIUM to a Chromium binary, then rerun." >&2
    exit 1
fi
say "apt-get install chromium"
DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium </dev/null >/dev/null
[ -x "$CHROMIUM" ] || { echo "browser: ERROR: apt-get installed chromium but $CHROMIUM is missing" >&2; exit 1; }
say "$("$CHROMIUM" --version) installed"
