#!/usr/bin/env bash
# Ingest of national yearly workbooks: 2,854 synthetic counties (whole prefectures of the real
# registry) × 15 years × 27 series as 15 XLSX files. `cimon ingest` (full validation, provenance,
# the store) against the bare python-polars + calamine conversion of benches/ingest_baseline.py,
# measured alternately in one run; wall time and peak RSS of each. Figures go into BENCHMARKS.md.
#   bash benches/ingest_xlsx.sh [RUNS]      (needs: pip install polars fastexcel)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/cimon/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/cimon"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin" synth --kind national --counties 2844 --from 2010 --to 2024 --xlsx --out "$work/nat"
echo "inputs: $(ls "$work/nat/inputs" | wc -l) XLSX files, $(du -sh "$work/nat/inputs" | cut -f1)"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for i in $(seq "$runs"); do
  rm -rf "$work/out"
  /usr/bin/time -f "%e %M" -o "$work/t" "$bin" ingest "$work/nat/inputs" --regions "$work/nat/regions.csv" --out "$work/out" -q
  echo "cimon $(cat "$work/t")" | tee -a "$work/all.txt"
  /usr/bin/time -f "%e %M" -o "$work/t" python3 benches/ingest_baseline.py "$work/nat/inputs" "$work/baseline.parquet"
  echo "python $(cat "$work/t")" | tee -a "$work/all.txt"
done
for who in cimon python; do
  t=$(grep "^$who " "$work/all.txt" | cut -d' ' -f2 | median)
  m=$(grep "^$who " "$work/all.txt" | cut -d' ' -f3 | sort -n | tail -1)
  echo "$who: median $t s, max RSS $((m / 1024)) MB"
done
python3 - "$work/all.txt" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
c = st.median(float(r[1]) for r in rows if r[0] == "cimon")
p = st.median(float(r[1]) for r in rows if r[0] == "python")
cm = max(int(r[2]) for r in rows if r[0] == "cimon")
pm = max(int(r[2]) for r in rows if r[0] == "python")
print(f"ratio cimon/python: time {c / p:.2f}×, memory {cm / pm:.2f}×")
PY
