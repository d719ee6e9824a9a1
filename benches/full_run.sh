#!/usr/bin/env bash
# The whole yearly batch at national scale: `cimon run` on 2,844 synthetic counties × 15 years —
# ingest, compute, 2,845 PDF reports, publishing — then an unchanged re-run. Prints total time,
# time per stage (from the run manifest) and peak memory, and the typesetting floor measured in
# the same run (issue 31): a trivial one-page CJK document with the same faces (cimon's prepared
# fonts) compiled once per report, on every core, and the run's ratio to it. Figures go into
# BENCHMARKS.md.
#   bash benches/full_run.sh [COUNTIES]
set -euo pipefail
cd "$(dirname "$0")/.."
counties="${1:-2844}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/cimon/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/cimon"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin" synth --kind national --counties "$counties" --from 2010 --to 2024 --out "$work/nat" >/dev/null
cat > "$work/cimon.toml" <<TOML
[input]
dir = "nat/inputs"
[schemas]
catalog = "$PWD/schemas/indicators.toml"
regions = "nat/regions.csv"
[output]
dir = "out"
TOML
echo "typst: $(typst --version); $(nproc) cores; $counties counties"
/usr/bin/time -f "%e %M" -o "$work/t" "$bin" run --config "$work/cimon.toml" -q
read -r wall rss < "$work/t"
python3 - "$work/out/manifest.json" "$wall" "$rss" "$work/out/runs" <<'PY'
import json, os, sys
m = json.load(open(sys.argv[1]))
t = m["timings"]
record = json.load(open(os.path.join(sys.argv[4], m["run_id"] + ".json")))
# time's figure is the largest of cimon and the typst processes it waited for (the overview's).
print(f"full run: {float(sys.argv[2]):.1f} s wall, peak RSS {int(sys.argv[3]) // 1024} MB (largest process), "
      f"cimon's own {record.get('peak_rss_mb')} MB")
print("stages: " + ", ".join(f"{k} {t[k]:.1f} s" for k in ["check", "ingest", "compute", "report"]))
print(f"reports: {m['rows']['reports']} ({m['reports_rendered']} rendered), observations {m['rows']['observations']}")
PY
/usr/bin/time -f "%e" -o "$work/t2" "$bin" run --config "$work/cimon.toml" -q
echo "unchanged re-run: $(cat "$work/t2") s"
# The floor: as many compiles of a trivial page as the run made reports, on every core.
fonts="$(ls -td "${TMPDIR:-/tmp}/cimon-$(id -u)"/fonts-* | head -1)"
cat > "$work/trivial.typ" <<'TYP'
#set text(font: "Noto Serif CJK SC", lang: "zh", region: "cn")
= 县域创新能力监测报告
东宝区 2024 年县域创新能力指数为 *62.3*，全省排名第 3。#text(font: "Noto Sans CJK SC")[表 1 *粗体*]
TYP
reports=$(ls "$work/out/reports/"*.pdf | wc -l)
s=$(date +%s.%N)
seq "$reports" | xargs -P "$(nproc)" -I{} typst compile --root "$work" --ignore-system-fonts --font-path "$fonts" --jobs 1 "$work/trivial.typ" "$work/floor-{}.pdf"
floor=$(awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}')
rm -f "$work"/floor-*.pdf
echo "floor: $reports trivial compiles on $(nproc) cores in $floor s; the run took $wall s = $(awk -v a="$wall" -v b="$floor" 'BEGIN {printf "%.2f", a / b}')× the floor"
echo "outputs: $(du -sh "$work/out/reports" | cut -f1) of reports, overview $(du -h "$work/out/reports/overview.pdf" | cut -f1), $(pdfinfo "$work/out/reports/overview.pdf" 2>/dev/null | grep Pages)"
