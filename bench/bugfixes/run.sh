#!/usr/bin/env bash
# Recall of deferlint on real upstream bug fixes (cases in manifest.toml, see README.md).
#
#   bench/bugfixes/run.sh MIRRORS_DIR [--only ID,ID] [--window N]
#
# MIRRORS_DIR holds one bare git mirror per repository of the manifest, as
#   MIRRORS_DIR/owner+name.git, MIRRORS_DIR/owner/name.git or MIRRORS_DIR/owner+name/repo
# (e.g. `git clone --mirror https://github.com/etcd-io/etcd MIRRORS_DIR/etcd-io+etcd.git`).
# The before/after source trees are extracted under $BUGFIX_WORK (default
# /tmp/deferlint-bugfixes, never inside this repository) and deferlint, which only reads
# them, runs on each with every rule enabled. Nothing is built or executed from the mirrors.
#
# deferlint: $DEFERLINT, else target/release/deferlint of this repository (build it first
# with `cargo build --release`; this script does not build anything).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [[ $# -lt 1 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
fi
mirrors="$1"
shift
deferlint="${DEFERLINT:-$root/target/release/deferlint}"
if [[ ! -x "$deferlint" ]]; then
  echo "run.sh: no deferlint binary at $deferlint (cargo build --release, or set DEFERLINT)" >&2
  exit 2
fi
work="${BUGFIX_WORK:-/tmp/deferlint-bugfixes}"
echo "deferlint: $deferlint ($("$deferlint" --version 2>/dev/null || echo unknown version)," \
  "repository at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))"
exec python3 "$here/measure.py" --mirrors "$mirrors" --deferlint "$deferlint" --work "$work" "$@"
