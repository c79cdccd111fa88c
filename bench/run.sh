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
# `cargo deferlint` on the same workspace, without and with `--cache-dir`; then both after a
# real edit of that file.
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
export PATH="$repo/target/release:$PATH"
cache="$corpus/editor-cache"
rm -rf "$cache"
cargo deferlint --quiet --cache-dir "$cache" >/dev/null 2>&1 || true
# Seconds taken by a command, its output dropped (bash's clock: no process started to read it).
timed() {
    local start end
    start=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    end=$EPOCHREALTIME
    python3 -c "print(f'{$end - $start:.3f}')"
}
clippy() { cargo clippy --quiet --all-features || cargo clippy --quiet; }
touch src/lib.rs
clippy_touch=$(timed clippy)
deferlint_plain=$(timed cargo deferlint --quiet)
deferlint_touch=$(timed cargo deferlint --quiet --cache-dir "$cache")
# A real edit: the file's bytes change, so the unit is analysed again.
cp src/lib.rs "$corpus/lib.rs.orig"
echo "// edited by the benchmark" >> src/lib.rs
clippy_edit=$(timed clippy)
deferlint_edit=$(timed cargo deferlint --quiet --cache-dir "$cache")
cp "$corpus/lib.rs.orig" src/lib.rs
python3 -c "
clippy_touch, clippy_edit = $clippy_touch, $clippy_edit
plain, touch, edit = $deferlint_plain, $deferlint_touch, $deferlint_edit
print(f'editor wait on tokio, src/lib.rs touched: cargo clippy {clippy_touch:.2f} s; cargo deferlint {plain:.2f} s ({clippy_touch / plain:.1f}x), with --cache-dir {touch:.3f} s ({clippy_touch / touch:.0f}x)')
print(f'editor wait on tokio, src/lib.rs edited:  cargo clippy {clippy_edit:.2f} s; cargo deferlint --cache-dir {edit:.2f} s ({clippy_edit / edit:.1f}x)')
"
