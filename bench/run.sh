#!/usr/bin/env bash
# The speed benchmark. Prepares two corpora, which are fetched, never committed:
#   1. Rust: the full dependency tree of popular crates (bench/corpus-manifest.toml: tokio,
#      actix-web, axum, tonic, sqlx, reqwest, moka, sled, dashmap, rayon, ...), as the sources
#      `cargo fetch` puts in the registry: about 480 packages and 240 MB of Rust.
#   2. Go: the standard library of the installed Go (Debian's golang-src).
# Then prints, for each, measured in the same run on the same files and threads: parse-only
# time, full deferlint time, their ratio, files/s, MB/s, the same on 25 % and 50 % of the corpus
# (growth), on one thread (scaling), and the peak resident memory of the `deferlint` binary.
# Last, what an editor user waits for: `cargo clippy` on tokio after touching one file against
# `cargo deferlint` on the same workspace.
#
#   bench/run.sh            everything (about 15 minutes on 2 cores)
#   bench/run.sh direct     only the direct dependencies (52 crates), quicker
#   DEFERLINT_BENCH_QUICK=1 bench/run.sh   no growth, scaling or clippy measurements
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
corpus="$here/corpus"
scope="${1:-all}"
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
' "$scope" > "$corpus/rust-packages.txt"
echo "$(wc -l < "$corpus/rust-packages.txt") Rust packages" >&2
: > "$corpus/go-packages.txt"
if command -v go >/dev/null 2>&1; then
    echo "$(go env GOROOT)/src" > "$corpus/go-packages.txt"
fi
cat "$corpus/rust-packages.txt" "$corpus/go-packages.txt" > "$corpus/packages.txt"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo), $(uname -sr)"
DEFERLINT_BENCH_LIST="$corpus/packages.txt" cargo bench --quiet -p deferlint --bench pipeline

# Peak memory of the real binary over each corpus (the benchmark process above holds both).
(cd "$repo" && cargo build --quiet --release)
deferlint="$repo/target/release/deferlint"
for language in rust go; do
    list="$corpus/$language-packages.txt"
    [ -s "$list" ] || continue
    /usr/bin/time -o "$corpus/time.txt" -f '%M %e' \
        "$deferlint" --quiet --message-format short $(cat "$list") >/dev/null 2>&1 || true
    report=$(tail -1 "$corpus/time.txt")
    echo "$language: deferlint peak resident memory $(( ${report%% *} / 1024 )) MB, wall ${report##* } s"
done

[ -n "${DEFERLINT_BENCH_QUICK:-}" ] && exit 0

# An editor user's wait: tokio as its own workspace, clippy warm (built once), one file
# touched, clippy again; then cargo deferlint on the same workspace.
tokio_src=$(grep -E '/tokio-1\.[0-9.]+$' "$corpus/rust-packages.txt" | head -1)
work="$corpus/editor/$(basename "$tokio_src")"
# Kept between runs: the first clippy build of tokio and its dependencies takes minutes.
if [ ! -d "$work" ]; then
    mkdir -p "$(dirname "$work")"
    cp -r "$tokio_src" "$work"
    printf '\n[workspace]\n' >> "$work/Cargo.toml"
fi
cd "$work"
cargo clippy --quiet --all-features >/dev/null 2>&1 || cargo clippy --quiet >/dev/null 2>&1 || true
touch src/lib.rs
now() { python3 -c 'import time; print(time.monotonic())'; }
start=$(now)
cargo clippy --quiet --all-features >/dev/null 2>&1 || cargo clippy --quiet >/dev/null 2>&1 || true
clippy_end=$(now)
export PATH="$repo/target/release:$PATH"
cargo deferlint --quiet >/dev/null 2>&1 || true
deferlint_end=$(now)
python3 -c "
clippy = $clippy_end - $start
deferlint = $deferlint_end - $clippy_end
print(f'editor wait on tokio after touching src/lib.rs: cargo clippy {clippy:.2f} s, cargo deferlint {deferlint:.2f} s, ratio {clippy / deferlint:.1f}x')
"
