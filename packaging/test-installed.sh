#!/usr/bin/env bash
# cimon as installed, with no source tree in reach: from an empty directory, `cimon init`, the
# synthetic sample's files as inputs, `cimon doctor`, the batch, and its PDFs.
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
echo "installed $bin: ok (26 PDFs from a project of its own)"
