#!/usr/bin/env bash
# Make sure the official AsyncAPI parser is installed in scripts/asyncapi/node_modules (project-local), at the
# version pinned in scripts/asyncapi/package.json and package-lock.json (`npm ci`: exactly the lock, integrity
# checked, no install scripts). tests/unit/test_published_contracts.py runs it on docs/asyncapi.json.
# Installs Debian's nodejs and npm with apt-get when missing and run as root; otherwise says how.
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)/asyncapi"
say() { echo "asyncapi: $*"; }
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "asyncapi: ERROR: node and npm are needed (sudo apt-get install nodejs npm), then rerun." >&2
        exit 1
    fi
    say "apt-get install nodejs npm"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm </dev/null >/dev/null
fi
stamp="$DIR/node_modules/.package-lock.json"
if [ -f "$stamp" ] && [ "$stamp" -nt "$DIR/package-lock.json" ]; then
    say "parser $(node -p "require('$DIR/node_modules/@asyncapi/parser/package.json').version") ok"
    exit 0
fi
say "npm ci in $DIR"
npm ci --prefix "$DIR" --ignore-scripts --no-audit --no-fund --loglevel=error
say "parser $(node -p "require('$DIR/node_modules/@asyncapi/parser/package.json').version") installed"
