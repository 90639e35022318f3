#!/usr/bin/env bash
# Install DFINITY's agent-js (npm @icp-sdk/core: agent, candid, identity, principal) into .tools/agent-js and print
# the directory that holds its node_modules.
#
# Used by tests/e2e/agent_js: a Node.js client calls canisters on the local IC's HTTP front with it.
# Idempotent: an existing install of the pinned version is reused.
# Usage: scripts/install-agent-js.sh [VERSION]   (default 6.1.0; env AGENT_JS_VERSION also works)
set -euo pipefail

version="${1:-${AGENT_JS_VERSION:-6.1.0}}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.tools/agent-js/$version"

if [[ -f "$dest/node_modules/@icp-sdk/core/package.json" ]]; then
    echo "$dest"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "install-agent-js: npm is not installed" >&2
    exit 2
fi

mkdir -p "$dest"
(cd "$dest" && npm install --silent --no-audit --no-fund --prefix . "@icp-sdk/core@$version" >/dev/null)
echo "$dest"
