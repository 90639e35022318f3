#!/usr/bin/env bash
# Install DFINITY's icp-cli (npm @icp-sdk/icp-cli-linux-x64) into .tools/icp-cli and print the binary's path.
#
# Used by tests/e2e/icp_cli: they run icp-cli against the embedded IC's HTTP front.
# Idempotent: an existing install of the pinned version is reused.
# Usage: scripts/install-icp-cli.sh [VERSION]   (default 1.5.0; env ICP_CLI_VERSION also works)
set -euo pipefail

version="${1:-${ICP_CLI_VERSION:-1.5.0}}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.tools/icp-cli/$version"
binary="$dest/package/bin/icp"

if [[ -x "$binary" ]]; then
    echo "$binary"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "install-icp-cli: npm is not installed" >&2
    exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@icp-sdk/icp-cli-linux-x64@$version" >/dev/null)
mkdir -p "$dest"
tar xzf "$tmp"/icp-sdk-icp-cli-linux-x64-*.tgz -C "$dest"
chmod +x "$binary"
"$binary" --version >&2
echo "$binary"
