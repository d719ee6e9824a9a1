#!/usr/bin/env bash
# Builds the Debian package: the release binary, its man pages and shell completions (made by the
# binary from its one CLI definition), the systemd units and an example config, with cargo-deb
# (installed when missing). The package lands in $CARGO_TARGET_DIR/debian/.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/cimon/target}"
export PATH="$HOME/.cargo/bin:$PATH"
if ! cargo deb --version >/dev/null 2>&1; then
  echo "deb: installing cargo-deb" >&2
  cargo install cargo-deb --locked --quiet
fi
cargo build --release --locked --quiet
bin="$CARGO_TARGET_DIR/release/cimon"
assets=packaging/build
rm -rf "$assets" && mkdir -p "$assets/completions"
"$bin" man "$assets/man" >/dev/null
gzip -9n "$assets"/man/*.1
"$bin" completions bash >"$assets/completions/cimon"
"$bin" completions zsh >"$assets/completions/_cimon"
"$bin" completions fish >"$assets/completions/cimon.fish"
cargo deb --no-build --quiet
ls "$CARGO_TARGET_DIR"/debian/cimon_*.deb
