#!/usr/bin/env bash
# Vendors axe-core (the accessibility rules the browser tests check pages
# with) into internal/browsertest/axe from the npm registry. The version is
# pinned here and recorded beside the file; the files are committed.
set -euo pipefail
AXE_VERSION=${AXE_VERSION:-4.14.1}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "axe-core@${AXE_VERSION}" >/dev/null
mkdir axe
tar xzf "axe-core-${AXE_VERSION}.tgz" -C axe
cp axe/package/axe.min.js "$root/internal/browsertest/axe/axe.min.js"
cp axe/package/LICENSE "$root/internal/browsertest/axe/LICENSE"
printf 'axe-core@%s\n' "$AXE_VERSION" > "$root/internal/browsertest/axe/VERSION"
echo "vendored axe-core@${AXE_VERSION} into internal/browsertest/axe"
