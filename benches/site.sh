#!/usr/bin/env bash
# The web explorer at national scale: 2,844 synthetic counties × 15 years, ingested and computed
# (with the sensitivity analysis, so every county has its rank interval), then `cimon site`
# timed with its peak memory (both languages, every county page, the downloads; no PDFs, as
# the reports are not rendered here). Target (issue 30): under 15 s and 500 MB.
#   bash benches/site.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/cimon/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/cimon"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin" synth --kind national --counties 2844 --from 2010 --to 2024 --out "$work/nat" >/dev/null
"$bin" ingest "$work/nat/inputs" --regions "$work/nat/regions.csv" --out "$work/out" -q 2>/dev/null
"$bin" compute --regions "$work/nat/regions.csv" --out "$work/out" -q

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for i in $(seq "$runs"); do
  /usr/bin/time -f "%e %M" -o "$work/t" "$bin" site --regions "$work/nat/regions.csv" --out "$work/out" -q
  cat "$work/t"
done > "$work/site.txt"
echo "site (wall s, peak KB): median $(cut -d' ' -f1 "$work/site.txt" | median) s, max RSS $(cut -d' ' -f2 "$work/site.txt" | sort -n | tail -1) KB (runs: $(cut -d' ' -f1 "$work/site.txt" | tr '\n' ' '))"
echo "pages: $(find "$work/out/site" -name '*.html' | wc -l), size $(du -sh "$work/out/site" | cut -f1)"
echo "largest county page: $(find "$work/out/site/county" -name '*.html' -printf '%s\n' | sort -n | tail -1) bytes; overview $(stat -c %s "$work/out/site/index.html") bytes, comparison $(stat -c %s "$work/out/site/compare.html") bytes"
