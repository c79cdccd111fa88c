#!/bin/sh
# Seeds the fuzzing corpora from the fixtures: `fuzz/corpus/<target>/`, which git ignores.
# The pipeline target reads its first byte as the language (even: Rust, odd: Go), so its seeds
# start with `r` (0x72) or `g` (0x67).
set -eu
fuzz_dir=$(cd "$(dirname "$0")" && pwd)
fixtures="$fuzz_dir/../fixtures"
mkdir -p "$fuzz_dir/corpus/rust_frontend" "$fuzz_dir/corpus/go_frontend" "$fuzz_dir/corpus/pipeline"
find "$fixtures" -type f \( -name '*.rs' -o -name '*.go' \) | while read -r file; do
    name=$(basename "$(dirname "$file")")-$(basename "$file")
    case "$file" in
        *.rs)
            cp "$file" "$fuzz_dir/corpus/rust_frontend/$name"
            { printf r; cat "$file"; } > "$fuzz_dir/corpus/pipeline/$name"
            ;;
        *.go)
            cp "$file" "$fuzz_dir/corpus/go_frontend/$name"
            { printf g; cat "$file"; } > "$fuzz_dir/corpus/pipeline/$name"
            ;;
    esac
done
for target in rust_frontend go_frontend pipeline; do
    echo "$target: $(ls "$fuzz_dir/corpus/$target" | wc -l) seeds"
done
