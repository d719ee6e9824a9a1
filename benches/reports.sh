#!/usr/bin/env bash
# Report benchmark: N synthetic counties (default 300), `cimon report` against bare `typst compile`
# of the very same .typ files with the same parallelism (one typst process per report, `--jobs`
# processes at once). The difference is cimon's overhead: reading the tables, building the
# contexts, rendering the templates, publishing. Figures go into BENCHMARKS.md.
#   bash benches/reports.sh [COUNTIES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
counties="${1:-300}"
runs="${2:-3}"
jobs="$(nproc)"
fonts=/usr/share/fonts/opentype/noto
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/cimon/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/cimon"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin" synth --kind national --counties "$counties" --from 2015 --to 2024 --out "$work/nat" >/dev/null
reg=(--regions "$work/nat/regions.csv")
"$bin" ingest "$work/nat/inputs" "${reg[@]}" --out "$work/out" -q
"$bin" compute "${reg[@]}" --out "$work/out" -q
echo "typst: $(typst --version); $counties counties + overview; $jobs at once"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for i in $(seq "$runs"); do
  # cimon: everything, from the Parquet tables to published PDFs (sources kept for the bare run).
  /usr/bin/time -f "%e %M" -o "$work/t" "$bin" report "${reg[@]}" --out "$work/out" -q --keep-sources --jobs "$jobs"
  c="$(cat "$work/t")"
  # Bare typst: the same sources, the same flags cimon passes, the same parallelism.
  rm -rf "$work/bare" && mkdir "$work/bare"
  ts=$(date +%s)
  start=$(date +%s.%N)
  ls "$work/out/reports"/*.typ | xargs -P "$jobs" -I{} sh -c \
    'typst compile --root "$0" --ignore-system-fonts --font-path "$1" --creation-timestamp "$2" --diagnostic-format short --jobs 1 "$3" "$4/$(basename "$3" .typ).pdf"' \
    "$work/out/reports" "$fonts" "$ts" {} "$work/bare"
  b=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f", e - s}')
  echo "$c $b"
done > "$work/runs.txt"
awk '{printf "run: cimon %.2f s (peak %d MB), bare typst %.2f s, overhead %+.1f%%\n", $1, $2/1024, $3, ($1/$3-1)*100}' "$work/runs.txt"
cm=$(cut -d' ' -f1 "$work/runs.txt" | median)
bm=$(cut -d' ' -f3 "$work/runs.txt" | median)
awk -v c="$cm" -v b="$bm" 'BEGIN {printf "median: cimon %.2f s, bare typst %.2f s, overhead %+.1f%%\n", c, b, (c/b - 1)*100}'
echo "pdfs: $(ls "$work/out/reports"/*.pdf | wc -l), $(du -sh "$work/out/reports" | cut -f1) with sources"
