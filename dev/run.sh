#!/usr/bin/env bash
# Runs the app locally: installs what is missing, builds the core, the functions and the Custom
# UI, starts the local Forge host (Jira site + Incode sandbox) and prints the URL to open. Each
# build is skipped while its sources are unchanged, so a second start takes seconds.
#   PORT=8080 dev/run.sh                     choose the port (default 8080)
#   dev/run.sh --log-format json             the functions' logs as JSON lines (or --log-file FILE)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"

dev/setup.sh
dev/build-core.sh
if [ -f static/package.json ]; then
  # `npm run build` without npm's own start-up second.
  (cd static && node scripts/build.mjs)
fi
exec node dev/host/main.mjs --port "${PORT:-8080}" --data dev/.data --brief "$@"
