#!/usr/bin/env bash
# Walks the main journeys in a real browser (headless Chromium): a resident registers,
# confirms, applies with three files; an officer claims and approves; the resident opens
# the card and its verification link; a commissioner opens the dashboard, audit log and
# groups; at the police station's desk an officer takes an application on a 390 px screen,
# prints the receipt, a second officer approves, the card prints, the notice is marked told,
# and the resident claims the account with the code. The desk and claim pages are checked
# with axe-core and for horizontal overflow at 390 px. Screenshots go to $SHOTS (default /tmp/vecinal-shots). Installs Chromium (Debian)
# and playwright-core (npm) when missing. Exits non-zero on any failed step or console error.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SHOTS="${SHOTS:-/tmp/vecinal-shots}"
WORK="$(mktemp -d /tmp/vecinal-e2e.XXXXXX)"
PORT="${PORT:-8091}"
trap 'kill "${SERVER_PID:-0}" 2>/dev/null || true' EXIT

command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
[ -d "$WORK/node_modules/playwright-core" ] || (cd "$WORK" && npm init -y >/dev/null && npm install --silent playwright-core axe-core >/dev/null)

cargo build --quiet
BIN="${CARGO_TARGET_DIR:-target}/debug/vecinal"
mkdir -p "$SHOTS" "$WORK/data"
creds="$(VECINAL_DATA_DIR="$WORK/data" "$BIN" seed-demo)"
cpass="$(awk '$1 == "commissioner" {print $3}' <<<"$creds")"
opass="$(awk '$1 == "officer" {print $3}' <<<"$creds")"
VECINAL_DATA_DIR="$WORK/data" VECINAL_BIND="127.0.0.1:$PORT" "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

python3 scripts/e2e/files.py "$WORK"
cp scripts/e2e/walk.js "$WORK/walk.js"
(cd "$WORK" && E2E_BASE="http://127.0.0.1:$PORT" E2E_DIR="$WORK" E2E_SHOTS="$SHOTS" node walk.js "$cpass" "$opass")
echo "screenshots in $SHOTS"
