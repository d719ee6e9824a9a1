#!/usr/bin/env bash
# Issue 31's comparison, measured in one run: `cimon compute` without the sensitivity analysis
# (everything written) against COINr 1.1.14 on the same national panel, alternating, with peak
# memory; then checks that both computed the same index for every county and year.
# COINr runs twice: the pooled min-max index alone (the issue's reference) and with COINr's
# default outlier treatment per year first (what cimon's default method also does).
# Needs R with COINr 1.1.14 (Debian: r-base-core r-cran-openxlsx r-cran-rlang r-cran-ggplot2
# r-cran-readxl; COINr from its source, `R CMD INSTALL`) and Python with polars.
#   bash benches/coinr.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
py="${PYTHON:-python3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/cimon/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/cimon"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
Rscript -e 'cat("COINr", as.character(packageVersion("COINr")), "in", R.version.string, "\n")'
"$bin" --version

"$bin" synth --kind national --counties 2844 --from 2010 --to 2024 --out "$work/nat" >/dev/null
"$bin" ingest "$work/nat/inputs" --regions "$work/nat/regions.csv" --out "$work/out" -q
"$py" benches/coinr_prep.py "$work/out/store" schemas/indicators.toml "$work/nat/regions.csv" "$work"
printf '[sensitivity]\nenabled = false\n' > "$work/nosens.toml"

for i in $(seq "$runs"); do
  /usr/bin/time -f "%e %M" -o "$work/t" "$bin" compute --config "$work/nosens.toml" \
    --regions "$work/nat/regions.csv" --out "$work/out" -q
  echo "cimon $(cat "$work/t")"
  for treat in none coinr; do
    /usr/bin/time -f "%e %M" -o "$work/t" Rscript benches/coinr_national.R "$work/iData.csv" "$work/iMeta.csv" \
      "$work/coinr_$treat.csv" "$treat" >/dev/null 2>&1
    echo "$treat $(cat "$work/t")"
  done
done > "$work/runs.txt"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
t() { grep "^$1 " "$work/runs.txt" | cut -d' ' -f2 | median; }
m() { echo $(( $(grep "^$1 " "$work/runs.txt" | cut -d' ' -f3 | sort -n | tail -1) / 1024 )); }
echo "cimon compute, no sensitivity, everything written: median $(t cimon) s, max RSS $(m cimon) MB"
echo "COINr pooled min-max index:                        median $(t none) s, max RSS $(m none) MB"
echo "COINr outlier treatment + pooled min-max index:    median $(t coinr) s, max RSS $(m coinr) MB"
awk -v c="$(t cimon)" -v a="$(t none)" -v b="$(t coinr)" -v cm="$(m cimon)" -v am="$(m none)" -v bm="$(m coinr)" \
  'BEGIN {printf "cimon against the min-max index: time %.2f×, memory %.2f× (targets 0.15×, 1.00×); against the treated index: time %.2f×, memory %.2f×\n", c / a, cm / am, c / b, cm / bm}'

# The same numbers: cimon with its default method (COINr's outlier treatment) against COINr's
# treated index, and cimon without treatment against COINr's min-max index.
"$py" benches/coinr_compare.py "$work/out/results/index.parquet" "$work/coinr_coinr.csv"
printf '[sensitivity]\nenabled = false\n[compute]\noutliers = "none"\n' > "$work/plain.toml"
"$bin" compute --config "$work/plain.toml" --regions "$work/nat/regions.csv" --out "$work/out" -q
"$py" benches/coinr_compare.py "$work/out/results/index.parquet" "$work/coinr_none.csv"
