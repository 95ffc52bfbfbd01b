#!/usr/bin/env bash
# Vendor the front-end libraries from the npm registry into the static tree.
# No CDN is ever used: the files are copied into metropole/core/static/vendor/
# and served by Django (whitenoise / collectstatic) like our own files.
#
# Usage:  scripts/vendor_frontend.sh
# To upgrade, change the pinned versions below, run the script, review the
# diff of metropole/core/static/vendor/ and commit it.
set -euo pipefail

LEAFLET_VERSION="1.9.4"
HTMX_VERSION="2.0.11"   # latest 2.x (`npm view htmx.org versions`)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/metropole/core/static/vendor"

command -v npm >/dev/null 2>&1 || { echo "npm is required" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cd "$TMP"
npm init -y >/dev/null 2>&1
npm install --no-audit --no-fund --ignore-scripts --save-exact \
    "leaflet@$LEAFLET_VERSION" "htmx.org@$HTMX_VERSION" >/dev/null
NM="$TMP/node_modules"

# Check what npm installed is what we pinned.
check_version() {
    local pkg="$1" want="$2" got
    got="$(node -p "require('$NM/$pkg/package.json').version")"
    if [ "$got" != "$want" ]; then
        echo "$pkg: expected $want, got $got" >&2
        exit 1
    fi
}
check_version leaflet "$LEAFLET_VERSION"
check_version htmx.org "$HTMX_VERSION"

# --- Leaflet: JS, CSS, the images referenced by the CSS, licence ---
rm -rf "$VENDOR/leaflet"
mkdir -p "$VENDOR/leaflet/images"
# The source map is not vendored, so its reference goes too (collectstatic's manifest
# storage refuses a reference to a missing file).
grep -v '^//# sourceMappingURL=' "$NM/leaflet/dist/leaflet.js" > "$VENDOR/leaflet/leaflet.js"
cp "$NM/leaflet/dist/leaflet.css" "$VENDOR/leaflet/leaflet.css"
# Only the images that leaflet.css actually references (layers, markers).
grep -o 'images/[A-Za-z0-9._-]*' "$NM/leaflet/dist/leaflet.css" | sort -u |
while read -r img; do
    cp "$NM/leaflet/dist/$img" "$VENDOR/leaflet/$img"
done
# Default marker icons are resolved by Leaflet from the CSS path at run time.
for img in marker-icon.png marker-icon-2x.png marker-shadow.png; do
    [ -f "$NM/leaflet/dist/images/$img" ] && cp "$NM/leaflet/dist/images/$img" "$VENDOR/leaflet/images/$img"
done
cp "$NM/leaflet/LICENSE" "$VENDOR/leaflet/LICENSE"

# --- htmx: minified build + licence ---
rm -rf "$VENDOR/htmx"
mkdir -p "$VENDOR/htmx"
cp "$NM/htmx.org/dist/htmx.min.js" "$VENDOR/htmx/htmx.min.js"
cp "$NM/htmx.org/LICENSE" "$VENDOR/htmx/LICENSE"

LEAFLET_LICENSE="$(node -p "require('$NM/leaflet/package.json').license")"
HTMX_LICENSE="$(node -p "require('$NM/htmx.org/package.json').license")"

cat > "$VENDOR/README.md" <<README
# Vendored front-end libraries

These files come from the npm registry and are served as ordinary static files.
No CDN is used. Do not edit them by hand: regenerate them with the script.

| Library | Version | Licence | Files |
| --- | --- | --- | --- |
| [Leaflet](https://leafletjs.com/) (npm \`leaflet\`) | $LEAFLET_VERSION | $LEAFLET_LICENSE (\`leaflet/LICENSE\`) | \`leaflet/leaflet.js\`, \`leaflet/leaflet.css\`, \`leaflet/images/\` |
| [htmx](https://htmx.org/) (npm \`htmx.org\`) | $HTMX_VERSION | $HTMX_LICENSE (\`htmx/LICENSE\`) | \`htmx/htmx.min.js\` |

## How to refresh

1. Edit the pinned versions at the top of \`scripts/vendor_frontend.sh\`
   (\`npm view htmx.org versions\` lists the published versions; we stay on 2.x).
2. Run \`scripts/vendor_frontend.sh\` from the repository root (needs \`npm\`).
3. Review the diff of \`metropole/core/static/vendor/\`, test the map and the
   htmx interactions, and commit.
README

echo "Vendored leaflet $LEAFLET_VERSION and htmx.org $HTMX_VERSION into $VENDOR"
