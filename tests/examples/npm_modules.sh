#!/usr/bin/env bash
# npm ci of tests/peers (the one lockfile of the suite's npm packages) into <dir>, once:
# again only when the lockfile changed. The ctest fixture `examples.npm` runs it.
#   npm_modules.sh <dir>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lock_source="$here/../peers"
dir=${1:?usage: npm_modules.sh <dir>}
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if ! cmp -s "$lock_source/package-lock.json" "$dir/package-lock.json" ||
   [[ ! -f "$dir/node_modules/kubernetes-models/package.json" || ! -f "$dir/node_modules/yaml/package.json" ]]; then
  cp "$lock_source/package.json" "$lock_source/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>"$dir/npm.log") || {
    echo "npm_modules.sh: npm ci failed:" >&2; cat "$dir/npm.log" >&2; exit 1; }
fi
echo "npm modules: $dir/node_modules"
