#!/usr/bin/env bash
# Build the wheels deploy/Dockerfile installs (so the image build needs no network inside the container):
#   deploy/wheels/deps/  every dependency of the services: the very files requirements/runtime.lock names, each
#                        checked against the lock's hashes (the image checks them again when it installs)
#   deploy/wheels/app/   berdaya itself
# With the host's python3, which must be 3.11 like the image's (pip picks the wheels that fit the host: build on a
# machine no newer than the base image's Debian); berdaya's wheel from a clean copy of
# pyproject.toml, shared/, services/ and berdaya/ (no .venv, egg-info or build/ of this checkout).
# deploy/wheels/ is never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
LOCK=requirements/runtime.lock

"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null \
    || { echo "build-wheels: $PYTHON must be Python 3.11 (the image's), is $("$PYTHON" --version 2>&1)" >&2; exit 1; }
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
cp -r pyproject.toml shared services berdaya "$src"/
find "$src" -name __pycache__ -prune -exec rm -rf {} +
rm -rf deploy/wheels
mkdir -p deploy/wheels/deps deploy/wheels/app
"$PYTHON" -m pip download --quiet --disable-pip-version-check --require-hashes --no-deps --only-binary :all: \
    -d deploy/wheels/deps -r "$LOCK" 2>&1 | grep -v 'is ignored' >&2 || true
[ "$(ls deploy/wheels/deps | wc -l)" -eq "$(grep -c '^[A-Za-z0-9]' "$LOCK")" ] \
    || { echo "build-wheels: pip download did not fetch every package of $LOCK" >&2; exit 1; }
"$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps -w deploy/wheels/app "$src" 2>&1 \
    | grep -v 'is ignored' >&2 || true
ls deploy/wheels/app/berdaya-*.whl >/dev/null 2>&1 \
    || { echo "build-wheels: pip wheel did not build the berdaya wheel" >&2; exit 1; }
echo "build-wheels: $(ls deploy/wheels/deps | wc -l) dependency wheels from $LOCK, $(ls deploy/wheels/app)"
