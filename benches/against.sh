#!/usr/bin/env bash
# `cimon compute` without the sensitivity analysis on the national panel, this checkout against
# an earlier commit, alternating in one run (this machine's speed drifts; only same-run ratios
# hold). With 02c8f53, the binary issue 31 measured beside COINr (2.8 s against 7.7 s), it gives
# the calibrated ratio to COINr. Figures go into BENCHMARKS.md.
#   bash benches/against.sh [COMMIT] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:-02c8f53}"
runs="${2:-7}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/cimon/target}"
work="$(mktemp -d)"
trap 'git worktree remove --force "$work/old" 2>/dev/null || true; rm -rf "$work"' EXIT

# Both build in the one target directory (polars is built once); each binary is copied out, and
# the touch makes cargo rebuild this checkout's crate and its version stamp (build.rs) after the
# earlier commit's.
git worktree add -q --detach "$work/old" "$rev"
(cd "$work/old" && cargo build --release --quiet)
cp "$CARGO_TARGET_DIR/release/cimon" "$work/cimon-old"
touch build.rs pipeline/lib.rs
cargo build --release --quiet
cp "$CARGO_TARGET_DIR/release/cimon" "$work/cimon-new"
old="$work/cimon-old" new="$work/cimon-new"
"$old" --version && "$new" --version

"$new" synth --kind national --counties 2844 --from 2010 --to 2024 --out "$work/nat" >/dev/null
"$new" ingest "$work/nat/inputs" --regions "$work/nat/regions.csv" --out "$work/out" -q
printf '[sensitivity]\nenabled = false\n' > "$work/nosens.toml"
for i in $(seq "$runs"); do
  for which in old new; do
    bin="$old"; [ "$which" = new ] && bin="$new"
    /usr/bin/time -f "$which %e %M" -a -o "$work/times" "$bin" compute --config "$work/nosens.toml" \
      --regions "$work/nat/regions.csv" --out "$work/out" -q
  done
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
o=$(awk '$1 == "old" {print $2}' "$work/times" | median)
n=$(awk '$1 == "new" {print $2}' "$work/times" | median)
om=$(awk '$1 == "old" {print $3}' "$work/times" | sort -n | tail -1)
nm=$(awk '$1 == "new" {print $3}' "$work/times" | sort -n | tail -1)
echo "$rev: median $o s, max RSS $((om / 1024)) MB; this checkout: median $n s, max RSS $((nm / 1024)) MB ($runs runs each)"
awk -v o="$o" -v n="$n" -v r="$rev" 'BEGIN {
  printf "this checkout / %s: %.2f× time\n", r, n / o
  if (r == "02c8f53") printf "calibrated against COINr (02c8f53 took 2.8 s beside its 7.7 s): %.2f×; target 0.15×\n", n / o * 2.8 / 7.7
}'
