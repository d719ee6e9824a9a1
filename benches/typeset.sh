#!/usr/bin/env bash
# Typesetting cost of one county report against a trivial one-page CJK document with the same
# fonts (issue 17): median compile times of each with the fonts as installed (four Noto CJK
# collections) and as cimon gives them to Typst (the collections cut to the faces the templates
# use), one typst process at a time. Figures go into BENCHMARKS.md.
#   bash benches/typeset.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-15}"
fonts=/usr/share/fonts/opentype/noto
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/cimon/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/cimon"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A county report as a national run makes it (no targets), and the sample's richest one (东宝区,
# 28 targets with milestone charts).
"$bin" synth --kind national --counties 40 --from 2010 --to 2024 --out "$work/nat" >/dev/null
reg=(--regions "$work/nat/regions.csv")
"$bin" ingest "$work/nat/inputs" "${reg[@]}" --out "$work/out" -q
"$bin" compute "${reg[@]}" --out "$work/out" -q
"$bin" report "${reg[@]}" --out "$work/out" -q --keep-sources
"$bin" run --config sample-data/cimon.toml --out "$work/sample" -q --keep-sources
cp "$work/out/reports/110101-东城区.typ" "$work/national.typ"
cp "$work/sample/reports/420802-东宝区.typ" "$work/dongbao.typ"
# The trivial document uses the same four faces the reports use: serif and sans, regular and bold.
cat > "$work/trivial.typ" <<'TYP'
#set text(font: "Noto Serif CJK SC", lang: "zh", region: "cn")
= 县域创新能力监测报告
东宝区 2024 年县域创新能力指数为 *62.3*，全省排名第 3。#text(font: "Noto Sans CJK SC")[表 1 *粗体*]
TYP
prepared="$(ls -d "${TMPDIR:-/tmp}/cimon-$(id -u)"/fonts-* | head -1)"
echo "typst: $(typst --version); $runs runs each, median"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_of() { # FILE FONTDIR
  for _ in $(seq "$runs"); do
    s=$(date +%s.%N)
    typst compile --root "$work" --ignore-system-fonts --font-path "$2" --jobs 1 "$1" "$work/x.pdf"
    awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN {printf "%.4f\n", e - s}'
  done | median
}
for dir in "$fonts" "$prepared"; do
  t=$(time_of "$work/trivial.typ" "$dir")
  n=$(time_of "$work/national.typ" "$dir")
  d=$(time_of "$work/dongbao.typ" "$dir")
  awk -v f="$dir" -v t="$t" -v n="$n" -v d="$d" 'BEGIN {printf "fonts %s: trivial %.3f s, county (national) %.3f s = %.2f×, 东宝区 (28 targets) %.3f s = %.2f×\n", f, t, n, n / t, d, d / t}'
done
