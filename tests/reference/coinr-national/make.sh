#!/usr/bin/env bash
# Regenerates this folder's COINr outputs from a 400-county synthetic national panel. Needs R with
# COINr 1.1.14 and Python with polars (as benches/coinr.sh does); CIMON is the binary to ingest with.
#   bash tests/reference/coinr-national/make.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$here/../../.."
bin="${CIMON:-${CARGO_TARGET_DIR:-$repo/target}/release/cimon}"
py="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" synth --kind national --counties 400 --from 2010 --to 2024 --out "$work/nat" >/dev/null
"$bin" ingest "$work/nat/inputs" --regions "$work/nat/regions.csv" --out "$work/out" -q
"$py" "$repo/benches/coinr_prep.py" "$work/out/store" "$repo/schemas/indicators.toml" "$work/nat/regions.csv" "$work"
for treat in none coinr; do
  Rscript "$repo/benches/coinr_national.R" "$work/iData.csv" "$work/iMeta.csv" "$here/index_$treat.csv" "$treat" 2>/dev/null
done
