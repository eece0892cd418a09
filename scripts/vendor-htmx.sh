#!/usr/bin/env bash
# Vendors htmx and its SSE extension into static/vendor from the npm registry.
# Versions are pinned here and recorded in the README; the files are committed.
set -euo pipefail
HTMX_VERSION=${HTMX_VERSION:-2.0.11}
SSE_VERSION=${SSE_VERSION:-2.2.4}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "htmx.org@${HTMX_VERSION}" "htmx-ext-sse@${SSE_VERSION}" >/dev/null
mkdir htmx sse
tar xzf "htmx.org-${HTMX_VERSION}.tgz" -C htmx
tar xzf "htmx-ext-sse-${SSE_VERSION}.tgz" -C sse
cp htmx/package/dist/htmx.min.js "$root/static/vendor/htmx.min.js"
cp sse/package/dist/sse.min.js "$root/static/vendor/htmx-ext-sse.min.js"
cp htmx/package/LICENSE "$root/static/vendor/LICENSE.htmx"
printf 'htmx.org@%s\nhtmx-ext-sse@%s\n' "$HTMX_VERSION" "$SSE_VERSION" > "$root/static/vendor/VERSIONS"
echo "vendored htmx.org@${HTMX_VERSION} and htmx-ext-sse@${SSE_VERSION} into static/vendor"
