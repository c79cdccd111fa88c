#!/usr/bin/env bash
# Prepares a corpus of popular crates (their sources, fetched by cargo, not committed) plus the
# Go standard library when Go is installed, and runs the speed benchmark on it: full analysis
# time over read-and-parse time, same files, same run, per language.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
corpus="$here/corpus"
mkdir -p "$corpus/src"
cp "$here/corpus-manifest.toml" "$corpus/Cargo.toml"
echo 'fn main() {}' > "$corpus/src/main.rs"
(cd "$corpus" && cargo fetch --quiet)
(cd "$corpus" && cargo metadata --format-version 1 --quiet) | python3 -c '
import json, os, sys
metadata = json.load(sys.stdin)
scope = sys.argv[1]
root = next(p for p in metadata["packages"] if p["name"] == "deferlint-bench-corpus")
direct = {d["name"] for d in root["dependencies"]}
for package in sorted(metadata["packages"], key=lambda p: p["manifest_path"]):
    if package["name"] == "deferlint-bench-corpus":
        continue
    if scope == "all" or package["name"] in direct:
        print(os.path.dirname(package["manifest_path"]))
' "${1:-direct}" > "$corpus/packages.txt"
echo "$(wc -l < "$corpus/packages.txt") packages" >&2
# The Go side: the standard library of the installed Go, when there is one.
if command -v go >/dev/null 2>&1; then
    echo "$(go env GOROOT)/src" >> "$corpus/packages.txt"
fi
DEFERLINT_BENCH_LIST="$corpus/packages.txt" cargo bench --quiet -p deferlint --bench pipeline
