#!/usr/bin/env bash
# cimon as installed, with no source tree in reach: from an empty directory, `cimon init`, the
# synthetic sample's files as inputs, `cimon doctor`, the batch, its PDFs and the web explorer;
# and a project of the second built-in catalog (双创), from its own synthetic sample.
#   bash packaging/test-installed.sh /path/to/installed/cimon
set -euo pipefail
bin="$(realpath "$1")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$bin" --version
"$bin" init project
"$bin" synth --out synth >/dev/null
cp -r synth/inputs/. project/inputs/
cd project
"$bin" doctor >doctor.txt || { cat doctor.txt; exit 1; }
"$bin" run -q
test "$(ls out/reports/*.pdf | wc -l)" -eq 26
test -f out/reports/overview.pdf
test -f out/results/index.parquet
test -f out/results/data-dictionary.toml
again="$("$bin" run 2>&1)"
grep -q "nothing to do" <<<"$again"
# The web explorer from the built-in site templates: every county's page, both languages.
"$bin" site -q
test "$(ls out/site/county/*.html | wc -l)" -eq 25
test -f out/site/en/index.html && test -f out/site/assets/site.js && test -f out/site/pdf/overview.pdf
grep -q "示例数据" out/site/index.html
cd "$work"
"$bin" init sc --with-catalog shuangchuang
"$bin" synth --kind catalog --catalog sc/schemas/shuangchuang.toml --from 2018 --to 2024 --out sc >/dev/null
(cd sc && "$bin" run -q)
test "$(ls sc/out/reports/*.pdf | wc -l)" -eq 26
echo "installed $bin: ok (26 PDFs from a project of its own, its web explorer, a 双创 project)"
