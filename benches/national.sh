#!/usr/bin/env bash
# National-scale benchmark: 2,844 synthetic counties × 15 years × 27 series (21 scored).
# Times `cimon ingest` and `cimon compute` (release build), with peak memory, and prints the
# time to the computed results, before any table is written (CIMON_TIMINGS). Figures go into BENCHMARKS.md.
#   bash benches/national.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/cimon/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/cimon"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin" synth --kind national --counties 2844 --from 2010 --to 2024 --out "$work/nat"
echo "inputs: $(ls "$work/nat/inputs" | wc -l) CSV files, $(du -sh "$work/nat/inputs" | cut -f1)"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for i in $(seq "$runs"); do
  /usr/bin/time -f "%e %M" -o "$work/t" "$bin" ingest "$work/nat/inputs" --regions "$work/nat/regions.csv" --out "$work/out" -q 2>/dev/null
  cat "$work/t"
done > "$work/ingest.txt"
for i in $(seq "$runs"); do
  CIMON_TIMINGS=1 /usr/bin/time -f "%e %M" -o "$work/t" "$bin" compute --regions "$work/nat/regions.csv" --out "$work/out" -q 2> "$work/timings"
  mem=$(grep -oP 'timing: computed \K[0-9.]+' "$work/timings")
  echo "$(cat "$work/t") $mem"
done > "$work/compute.txt"

echo "ingest  (wall s, peak KB): median $(cut -d' ' -f1 "$work/ingest.txt" | median) s, max RSS $(cut -d' ' -f2 "$work/ingest.txt" | sort -n | tail -1) KB"
echo "compute (wall s, peak KB): median $(cut -d' ' -f1 "$work/compute.txt" | median) s, max RSS $(cut -d' ' -f2 "$work/compute.txt" | sort -n | tail -1) KB"
echo "compute, results computed (before writing): median $(cut -d' ' -f3 "$work/compute.txt" | median) s (runs: $(cut -d' ' -f3 "$work/compute.txt" | tr '\n' ' '))"
echo "rows: observations $(( 2844 * 15 * 27 )), index $(( 2844 * 15 ))"

# Issue 31's comparison, against the issue's figures for COINr 1.1.14's pooled min-max index of the
# same panel (7.7 s, 295 MB); `benches/coinr.sh` measures COINr itself in the same run.
printf '[sensitivity]\nenabled = false\n' > "$work/nosens.toml"
for i in $(seq "$runs"); do
  CIMON_TIMINGS=1 /usr/bin/time -f "%e %M" -o "$work/t" "$bin" compute --config "$work/nosens.toml" \
    --regions "$work/nat/regions.csv" --out "$work/out" -q 2> "$work/timings"
  echo "$(cat "$work/t") $(grep -oP 'timing: computed \K[0-9.]+' "$work/timings")"
done > "$work/nosens.txt"
t=$(cut -d' ' -f1 "$work/nosens.txt" | median)
m=$(( $(cut -d' ' -f2 "$work/nosens.txt" | sort -n | tail -1) / 1024 ))
c=$(cut -d' ' -f3 "$work/nosens.txt" | median)
echo "compute without sensitivity: median $t s (results in memory at $c s), max RSS $m MB"
awk -v t="$t" -v c="$c" -v m="$m" 'BEGIN {printf "against the issue'"'"'s COINr figures (7.7 s, 295 MB): time %.2f× (in memory %.2f×), memory %.2f×; targets 0.15× and 1.00×\n", t / 7.7, c / 7.7, m / 295}'
