#!/usr/bin/env bash
# Bounded resources (issue 15, item 6): each hostile or huge input either succeeds within the
# memory goal (peak RSS <= 4x the input size + 50 MiB) or fails with a clear error within 10 s,
# and never exhausts memory. Not a timed test; run by hand on the release binary.
#
#   benches/bounds.sh                      # target/release/kubectl-nixernetes (build it first)
#   BENCH_BIN=/path/to/kubectl-nixernetes benches/bounds.sh
#   BOUNDS_SCALE=0.01 BENCH_BIN=target/debug/kubectl-nixernetes benches/bounds.sh
#                                          # inputs at 1% size: tries the script, not the goal
#   BOUNDS_KILL_MIB=4096 BOUNDS_TIMEOUT=600 # a run is killed past this RSS or time (defaults)
#   BOUNDS_CASES="big-scalar alias-bomb"   # only these cases
#
# Cases: a 100 MB input (ConfigMaps of 1 KiB), 1,000,000 small objects, a 10 MB single scalar,
# 10,000 levels of nesting, an alias bomb (10^10 nodes expanded), a ResourceList of 200,000
# items (through `fn`). Inputs go to a temporary directory removed on exit. Prints one row per
# case and exits 1 if any case missed the goal. Needs bash and python3.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
measure=(python3 "$here/measure.py")
bin="${BENCH_BIN:-$root/target/release/kubectl-nixernetes}"
[[ -x "$bin" ]] || {
  echo "bounds.sh: $bin is not built (cargo build --release, or set BENCH_BIN)" >&2
  exit 1
}
cases="${BOUNDS_CASES:-big-input million-objects big-scalar deep-nesting alias-bomb resource-list}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
results="$tmp/bounds.tsv"
: >"$results"

echo "== bounded resources: $bin (scale ${BOUNDS_SCALE:-1})" >&2
for case in $cases; do
  in="$tmp/$case.yaml"
  "${measure[@]}" gen-bound "$case" "$in"
  if [[ "$case" == resource-list ]]; then
    "${measure[@]}" bound "$results" "$case" "$in" --stdin -- "$bin" fn
  else
    "${measure[@]}" bound "$results" "$case" "$in" -- "$bin" render "$in"
  fi
  rm -f "$in"
done
echo
"${measure[@]}" bounds-report "$results"
