#!/usr/bin/env bash
# Name lookup at national scale: one long-layout year of every county (2,850-odd × 27 series),
# validated with a code column only, and with a code and a name column. The second must take
# about as long as the first: names resolve through the registry's index, not a scan.
#   bash benches/names.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/cimon/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/cimon"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin" synth --kind national --from 2024 --to 2024 --out "$work/nat" >/dev/null
python3 - "$work" <<'PY'
import csv, sys, os
work = sys.argv[1]
names = {r["code"]: r["name"] for r in csv.DictReader(open(f"{work}/nat/regions.csv", encoding="utf-8"))}
rows = list(csv.reader(open(f"{work}/nat/inputs/2024.csv", encoding="utf-8")))
title, header, data = rows[0], rows[1], rows[2:]
for kind in ("code", "code_name"):
    os.makedirs(f"{work}/{kind}", exist_ok=True)
    with open(f"{work}/{kind}/2024年_长表.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(title)
        w.writerow(["区划代码"] + (["县(市、区)"] if kind == "code_name" else []) + ["年份", "指标", "数值"])
        for r in data:
            for ind, v in zip(header[1:], r[1:]):
                w.writerow([r[0]] + ([names[r[0]]] if kind == "code_name" else []) + ["2024", ind, v])
print(f"{len(data)} counties, {len(data) * (len(header) - 1)} rows per file")
PY
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for kind in code code_name; do
  for i in $(seq "$runs"); do
    /usr/bin/time -f "%e" -o "$work/t" "$bin" validate "$work/$kind" --regions "$work/nat/regions.csv" -q 2>"$work/err" \
      || { head -5 "$work/err" >&2; exit 1; }
    cat "$work/t"
  done > "$work/$kind.txt"
  echo "$kind: median $(median < "$work/$kind.txt") s (runs: $(tr '\n' ' ' < "$work/$kind.txt"))"
done
