#!/usr/bin/env bash
# Build the wheels deploy/Dockerfile installs (so the image build needs no network inside the container):
#   deploy/wheels/deps/  every dependency of the project, pinned as pyproject.toml says
#   deploy/wheels/app/   berdaya itself
# From a clean copy of pyproject.toml, shared/ and services/ (no .venv, egg-info or build/ of this checkout),
# with the host's python3, which must be 3.11 like the image's. deploy/wheels/ is never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null \
    || { echo "build-wheels: $PYTHON must be Python 3.11 (the image's), is $("$PYTHON" --version 2>&1)" >&2; exit 1; }
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
cp -r pyproject.toml shared services berdaya "$src"/
find "$src" -name __pycache__ -prune -exec rm -rf {} +
rm -rf deploy/wheels
mkdir -p deploy/wheels/deps deploy/wheels/app
"$PYTHON" -m pip wheel --quiet --disable-pip-version-check -w deploy/wheels/deps "$src" 2>&1 \
    | grep -v 'is ignored' >&2 || true
mv deploy/wheels/deps/berdaya-*.whl deploy/wheels/app/ 2>/dev/null \
    || { echo "build-wheels: pip wheel did not build the berdaya wheel" >&2; exit 1; }
echo "build-wheels: $(ls deploy/wheels/deps | wc -l) dependency wheels, $(ls deploy/wheels/app)"
