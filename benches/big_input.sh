#!/usr/bin/env bash
# Memory on big and bad input: one long CSV of the national panel (2,844 synthetic counties of
# the real registry × 27 series × 35 years, about 2.7 million rows and 165 MB, with Chinese
# names and units as bureaus write them), ingested; and a CSV of the same size whose rows are
# each there twice (a million duplicates), refused with the error list summarised. Wall time
# and peak RSS of each; the target is under 1 GB for either.
#   bash benches/big_input.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/cimon/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/cimon"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin" synth --kind national --counties 2844 --from 1990 --to 2024 --out "$work/nat"
mkdir -p "$work/good" "$work/bad"
python3 - "$work/nat" "$work/good/全国_长表.csv" "$work/bad/全国_重复.csv" <<'PY'
import csv, glob, re, sys, tomllib
src, good, bad = sys.argv[1:4]
catalog = {i["code"]: (i["name_zh"], i["unit"]) for i in tomllib.load(open("schemas/indicators.toml", "rb"))["indicators"]}
county = {r["code"]: r["name"] for r in csv.DictReader(open(f"{src}/regions.csv", encoding="utf-8"))}
rows = []
for path in sorted(glob.glob(f"{src}/inputs/*.csv")):
    year = re.search(r"(\d{4})", path.rsplit("/", 1)[1]).group(1)
    lines = open(path, encoding="utf-8").read().splitlines()
    reader = csv.reader(lines[1:])  # the first line is the 示例数据 title
    header = next(reader)
    series = [catalog[h] for h in header[1:]]
    for rec in reader:
        for (name, unit), value in zip(series, rec[1:]):
            rows.append(f"{rec[0]},{county[rec[0]]},{year},{name},{unit},{value}\n")
head = "示例数据（合成数据）\n区划代码,县(市、区),年份,指标名称,计量单位,数值\n"
with open(good, "w", encoding="utf-8") as f:
    f.write(head)
    f.writelines(rows)
half = rows[: len(rows) // 2]
with open(bad, "w", encoding="utf-8") as f:
    f.write(head)
    for r in half:
        f.write(r)
        f.write(r)
print(f"good: {len(rows)} rows; bad: {2 * len(half)} rows, each twice")
PY
ls -la "$work/good" "$work/bad" | grep csv
for kind in good bad; do
  verb=$([ "$kind" = good ] && echo ingest || echo validate)
  /usr/bin/time -f "%e %M" -o "$work/t" "$bin" "$verb" "$work/$kind" --regions "$work/nat/regions.csv" \
    --out "$work/out" --lang en >"$work/$kind.out" 2>"$work/$kind.err" || true
  read -r secs kb < <(tail -n 1 "$work/t")
  echo "$kind ($verb): $secs s, peak $((kb / 1024)) MB"
  tail -n 4 "$work/$kind.err"
done
