#!/usr/bin/env bash
# Installs the npm packages of the noVNC browser test (package.json and
# package-lock.json beside this script: @novnc/novnc and playwright-core)
# into DEST/node_modules with `npm ci`, from the npm registry.  No browser is
# downloaded: the test drives Debian's /usr/bin/chromium.
#   setup-node.sh DEST
# Does nothing when DEST already holds the packages of this very lock file.
# Exit status: 0 installed (or up to date), 77 node or npm missing, else npm's.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:?usage: setup-node.sh DEST}"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "setup-node.sh: $tool is not installed (Debian packages nodejs and npm; .ci/deps.sh)" >&2
    exit 77
  fi
done

mkdir -p "$dest"
want="$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)"
stamp="$dest/.qvnc-npm-stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$dest/node_modules/@novnc/novnc/core" ] \
   && [ -d "$dest/node_modules/playwright-core" ]; then
  exit 0
fi

# One installer at a time per DEST (tests may start in parallel).
exec 9>"$dest/.qvnc-npm-lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
rm -f "$stamp"
cp "$here/package.json" "$here/package-lock.json" "$dest/"
cd "$dest"
# PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: belt and braces, playwright-core has no
# install script that downloads browsers anyway.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
echo "$want" > "$stamp"
