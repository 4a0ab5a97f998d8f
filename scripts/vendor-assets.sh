#!/usr/bin/env bash
# Vendor the console's front-end assets from the npm registry at pinned versions into the repository, so that
# nothing is fetched at run time (no CDN). Run it only to change a version; the files it writes are committed.
#   scripts/vendor-assets.sh
# Each package tarball is checked against the integrity pinned here (npm's sha512), and every file written is
# listed with its SHA-256 in static/vendor/vendor.json, which tests/unit/test_console_assets.py re-checks.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=services/gateway/console/static/vendor
# package@version | sha512 integrity of the tarball | file in the tarball → name in $DEST
ASSETS=(
  "htmx.org@2.0.11|sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==|package/dist/htmx.min.js=htmx.min.js|package/LICENSE=htmx.LICENSE"
  "@picocss/pico@2.1.1|sha512-kIDugA7Ps4U+2BHxiNHmvgPIQDWPDU4IeU6TNRdvXQM1uZX+FibqDQT2xUOnnO2yq/LUHcwnGlu1hvf4KfXnMg==|package/css/pico.min.css=pico.min.css|package/LICENSE.md=pico.LICENSE.md"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$DEST"
manifest="$work/manifest.jsonl"
for entry in "${ASSETS[@]}"; do
  IFS='|' read -r spec integrity rest <<<"$entry"
  IFS='|' read -r -a mappings <<<"$rest"
  tarball=$(cd "$work" && npm pack "$spec" --silent)
  actual="sha512-$(openssl dgst -sha512 -binary "$work/$tarball" | base64 -w0)"
  [ "$actual" = "$integrity" ] || { echo "vendor: $spec: integrity $actual, expected $integrity" >&2; exit 1; }
  mkdir -p "$work/x" && tar xzf "$work/$tarball" -C "$work/x"
  for mapping in "${mappings[@]}"; do
    from=${mapping%%=*} to=${mapping#*=}
    cp "$work/x/$from" "$DEST/$to"
    printf '{"file": "%s", "package": "%s", "from": "%s", "sha256": "%s"}\n' \
      "$to" "$spec" "$from" "$(sha256sum "$DEST/$to" | cut -d' ' -f1)" >>"$manifest"
  done
  rm -rf "$work/x"
done
python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])], indent=2))' \
  "$manifest" >"$DEST/vendor.json"
echo "vendor: wrote $(wc -l <"$manifest") files to $DEST"
