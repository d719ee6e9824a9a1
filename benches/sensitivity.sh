#!/usr/bin/env bash
# Sensitivity analysis cost: 1,001 replications (samples = 143, 5 uncertain choices) on the sample
# province (25 counties × 10 years), and the cost per replication on the national panel
# (2,844 counties × 15 years). Times are CIMON_TIMINGS laps of `cimon compute` (release).
#   bash benches/sensitivity.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/cimon/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/cimon"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

lap() { # seconds between the attainment and sensitivity laps of one compute
  awk '/timing: attainment/ {a=$3} /timing: sensitivity/ {s=$5; n=$3} END {gsub("s","",a); gsub("s","",s); gsub("[(]","",n); printf "%.3f %d\n", s - a, n}' "$1"
}
"$bin" ingest sample-data --out "$work/sample" -q
printf '[sensitivity]\nsamples = 143\n' > "$work/s.toml"
for i in $(seq "$runs"); do
  CIMON_TIMINGS=1 "$bin" compute --out "$work/sample" --config "$work/s.toml" --catalog schemas/indicators.toml --regions schemas/regions.csv -q 2> "$work/t"
  echo "sample: $(lap "$work/t" | awk '{printf "%s replications in %.3f s", $2, $1}')"
done

"$bin" synth --kind national --counties 2844 --from 2010 --to 2024 --out "$work/nat" >/dev/null
"$bin" ingest "$work/nat/inputs" --regions "$work/nat/regions.csv" --out "$work/nat/out" -q
printf '[sensitivity]\nsamples = 20\n' > "$work/n.toml"
for i in $(seq "$runs"); do
  CIMON_TIMINGS=1 /usr/bin/time -f "%M" -o "$work/m" "$bin" compute --out "$work/nat/out" --config "$work/n.toml" \
    --catalog schemas/indicators.toml --regions "$work/nat/regions.csv" -q 2> "$work/t"
  echo "national: $(lap "$work/t" | awk '{printf "%s replications in %.2f s, %.1f ms per replication", $2, $1, $1 / $2 * 1000}'), peak $(( $(cat "$work/m") / 1024 )) MB"
done
