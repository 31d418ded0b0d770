#!/usr/bin/env bash
# Runs every test of the project: installs what is missing, checks the Rust core (format, lint,
# native tests), builds the wasm package and the Custom UI, then runs the Node tests (core vectors
# against the bundled wasm, the local Forge host, the app end to end, the browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

dev/setup.sh --browser

say "rust: format, lint, tests"
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
# The wasm binding, in each of the two modules it builds (rust/src/binding.rs).
cargo clippy --target wasm32-unknown-unknown --lib --quiet -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib --features console --quiet -- -D warnings
cargo test --quiet 2>&1
# The exhaustive check of the planners' protocols (rust/tests/model_check.rs): optimised, since
# it explores a few hundred thousand states.
cargo test --release --quiet --test model_check -- --nocapture 2>&1 | grep -v '^$'

say "javascript: lint, format"
npm run --silent lint
npm run --silent format:check

say "build: wasm core, Custom UI"
dev/build-core.sh
if [ -f static/package.json ]; then
  (cd static && npm run --silent build && npx vitest run)
fi

say "node: core vectors, local host, app, browser"
mapfile -t files < <(find tests -name '*.test.mjs' -not -path '*/node_modules/*' | sort)
node --test --test-concurrency=1 "${files[@]}"
