#!/usr/bin/env bash
# Installs what the project needs and is missing; reuses what is there. Safe to run repeatedly.
#   dev/setup.sh            toolchains, npm packages
#   dev/setup.sh --browser  also Debian's Chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

# Rust with the wasm target, and the standard library's source (dev/build-core.sh builds it).
if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || { echo "cargo is missing: install Rust with rustup first" >&2; exit 1; }
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
for component in clippy rustfmt rust-src; do
  rustup component list --installed | grep -q "^$component" || rustup component add "$component"
done

# The wasm-bindgen CLI must match the crate pinned in Cargo.toml exactly.
bindgen_version=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  say "installing wasm-bindgen-cli $bindgen_version (a few minutes, once)"
  # NOTE: --locked can name a dependency version the registry no longer serves; fall back to a
  # fresh resolution of the same CLI version in that case.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --locked \
    || cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

# npm packages: the app, the local host and the tests (root) and the Custom UI (static/).
npm_install() {
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "installing npm packages in $dir"
    # NOTE: --ignore-scripts: nothing here needs an install script, and keytar (pulled in by the
    # Forge CLI libraries) fails its native build on these machines.
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  fi
}
npm_install .
[ -f static/package.json ] && npm_install static

if [ "$want_browser" = 1 ] && { [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-color-emoji >/dev/null 2>&1; }; then
  say "installing Debian's chromium for the browser tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
fi
exit 0
