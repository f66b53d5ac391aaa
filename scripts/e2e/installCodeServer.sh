#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3, the last release on Node 20) into .e2e-cache/,
# offline apart from the npm registry, following shared notes "real-vscode-offline.md".
# Idempotent: a stamp file marks a finished install; a half-finished one is redone from scratch.
# Prints the path of code-server's entry.js on the last line of stdout.
set -euo pipefail

VERSION=4.100.3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${MODEL_LENS_E2E_CACHE:-$ROOT/.e2e-cache}"
DIR="$CACHE/code-server-$VERSION"
STAMP="$DIR/.installed"
ENTRY="$DIR/node_modules/code-server/out/node/entry.js"

if [[ -f "$STAMP" && -f "$ENTRY" ]]; then
  echo "code-server $VERSION already installed in $DIR" >&2
  echo "$ENTRY"
  exit 0
fi

for tool in node npm make g++ python3 pkg-config rg; do
  command -v "$tool" >/dev/null || { echo "installCodeServer: '$tool' is missing (see .ci/run for the apt packages)" >&2; exit 1; }
done

start=$(date +%s)
rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
# A private project root so npm installs here and not into the repository.
printf '{ "name": "model-lens-e2e-code-server", "private": true }\n' > package.json

# node-gyp compiles against the nodejs .deb headers instead of downloading them.
export npm_config_nodedir=/usr
# npm >= 11.16 blocks dependency install scripts unless allowScripts approves them. Every script
# below is run explicitly and deliberately (a pinned code-server in a throwaway cache folder), so
# the policy is bypassed only for these commands; the repository's own `npm ci` keeps the default.
export npm_config_dangerously_allow_all_scripts=true
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

step() { echo "[installCodeServer] $(( $(date +%s) - start ))s: $*" >&2; }

# Its postinstall.sh refuses root and downloads ripgrep: run its steps by hand below.
step "npm install code-server@$VERSION --ignore-scripts"
npm install --no-save --ignore-scripts "code-server@$VERSION" >&2

step "npm rebuild argon2 (no prebuilt download offline: builds from source)"
npm rebuild argon2 >&2

VS="$DIR/node_modules/code-server/lib/vscode"
cd "$VS"
step "lib/vscode: npm install --omit=dev --ignore-scripts"
npm install --omit=dev --ignore-scripts >&2
# @vscode/ripgrep's postinstall downloads rg unless bin/ already exists.
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
step "lib/vscode: npm rebuild (kerberos, spdlog, node-pty, ...)"
# yes=true: node-pty's postinstall calls npx.
npm_config_yes=true npm rebuild --foreground-scripts >&2
# The symlinks code-server's postinstall.sh would make.
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
step "lib/vscode/extensions: npm install --omit=dev"
(cd extensions && npm install --omit=dev >&2)

# Smoke check: the native modules the server loads at startup.
node -e "require('$VS/node_modules/node-pty'); require('$VS/node_modules/@vscode/spdlog'); require('$DIR/node_modules/argon2')" >&2

date -u +%FT%TZ > "$STAMP"
step "done: $(du -sh "$DIR" | cut -f1)"
echo "$ENTRY"
