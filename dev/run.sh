#!/usr/bin/env bash
# Runs the app locally: installs what is missing, builds the core, the functions and the Custom
# UI, starts the local Forge host (Jira site + Incode sandbox) and prints the URL to open.
#   PORT=8080 dev/run.sh        choose the port (default 8080)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"

dev/setup.sh
dev/build-core.sh
if [ -f static/package.json ]; then
  (cd static && npm run --silent build)
fi
exec node dev/host/main.mjs --port "${PORT:-8080}" --data dev/.data --brief "$@"
