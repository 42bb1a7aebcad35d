#!/usr/bin/env bash
# Render benchmark for kubectl-nixernetes (not a timed test; run by hand).
#
#   benches/run.sh                 # default: kustomize comparison at 500 objects only
#   BENCH_FULL=1 benches/run.sh    # also kustomize at 5,000 objects (~220 CPU-s)
#   BENCH_REPEATS=3 benches/run.sh # median of 3 runs per measured case (default 1)
#   BENCH_BIN=/path/to/kubectl-nixernetes benches/run.sh
#                                  # measure that binary instead of building target/release
#   BENCH_BASELINE=/path/to/old/kubectl-nixernetes benches/run.sh
#                                  # also run every case with an earlier build, in the same
#                                  # run, and report ours/baseline ratios
#
# The pass-through render and check also run with NIXERNETES_YAML_FAST=0 (the fast YAML reader
# off; the output must be the same bytes), and the report gives the fast path's end-to-end gain.
#
# Needs bash, python3 and kubectl (for `kubectl kustomize`). Everything is written
# to a temporary directory that is removed on exit. Exits non-zero if any command fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
measure=(python3 "$here/measure.py")
bin="${BENCH_BIN:-$root/target/release/kubectl-nixernetes}"
baseline="${BENCH_BASELINE:-}"
if [[ -n "$baseline" && ! -x "$baseline" ]]; then
  echo "run.sh: BENCH_BASELINE=$baseline is not an executable" >&2
  exit 1
fi

# measure CASE CMD...: time CMD with our binary, and with the baseline binary when given.
measure_both() {
  local case="$1"
  shift
  "${measure[@]}" run "$results" "$case" ours /dev/null -- "$@"
  if [[ -n "$baseline" ]]; then
    local args=("$@")
    args[0]="$baseline"
    "${measure[@]}" run "$results" "$case" baseline /dev/null -- "${args[@]}"
  fi
}

for tool in python3 kubectl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
results="$tmp/results.tsv"
counts="$results.counts"
: >"$results"
: >"$counts"

# 1. Build the release binary once (unless BENCH_BIN names one).
if [[ -z "${BENCH_BIN:-}" ]]; then
  echo "== building release binary" >&2
  if [[ -f "$root/Cargo.lock" ]]; then
    (cd "$root" && cargo build --release --locked)
  else
    (cd "$root" && cargo build --release)
  fi
fi
[[ -x "$bin" ]] || { echo "run.sh: $bin not built" >&2; exit 1; }

# count_objects CASE FILE [NOTE]: render output already in FILE; record object count.
count_objects() {
  local n
  n="$("${measure[@]}" count "$2")"
  printf '%s\t%s\t%s\n' "$1" "$n" "${3:-}" >>"$counts"
  echo "$n"
}

# 2. Render throughput for N WebApps.
echo "== WebApp render throughput" >&2
for n in 100 1000 10000; do
  case="webapp N=$n"
  in="$tmp/webapps-$n.yaml"
  "${measure[@]}" gen-webapps "$n" "$in"
  # untimed run to a file, for the object count
  "$bin" render "$in" >"$tmp/out.yaml"
  objs="$(count_objects "$case" "$tmp/out.yaml")"
  echo "  $case: $objs objects emitted" >&2
  measure_both "$case" "$bin" render "$in"
done

# 2b. Render throughput for N three-tier MultiTierApps (ours only: older builds lack the kind).
if "$bin" kinds | grep -q '^MultiTierApp '; then
  echo "== MultiTierApp render throughput" >&2
  for n in 100 1000; do
    case="multitier N=$n"
    in="$tmp/multitier-$n.yaml"
    "${measure[@]}" gen-multitier "$n" "$in"
    "$bin" render "$in" >"$tmp/out.yaml"
    objs="$(count_objects "$case" "$tmp/out.yaml")"
    echo "  $case: $objs objects emitted" >&2
    "${measure[@]}" run "$results" "$case" ours /dev/null -- "$bin" render "$in"
  done
fi

# 3. Pass-through of plain manifests, same job as the generated kustomization.
echo "== pass-through (vs kubectl kustomize)" >&2
kust_note=""
for apps in 100 1000 10000; do
  dir="$tmp/gen-$apps"
  "${measure[@]}" gen-apps "$apps" "$dir"
  mapfile -t flags < <("${measure[@]}" kustomize-flags "$dir")
  [[ ${#flags[@]} -gt 0 ]] || { echo "run.sh: no flags from $dir/kustomization.yaml" >&2; exit 1; }
  case="passthrough A=$apps"
  cmd=("$bin" render "$dir/apps" "${flags[@]}")
  [[ $apps == 100 ]] && echo "  our command: ${cmd[*]/#$tmp/\$TMP}" >&2

  note=""
  run_kust=0
  if [[ $apps -le 100 ]]; then
    run_kust=1
  elif [[ $apps -le 1000 ]]; then
    if [[ "${BENCH_FULL:-}" == 1 ]]; then run_kust=1; else note="needs BENCH_FULL=1"; fi
  else
    note="not run"   # never run kustomize on 50,000 objects
  fi

  "${cmd[@]}" >"$tmp/out.yaml"
  objs="$(count_objects "$case" "$tmp/out.yaml" "$note")"
  echo "  $case: $objs objects emitted by us (expected $((apps * 5)))" >&2
  measure_both "$case" "${cmd[@]}"
  # The same render with the fast YAML reader off: same bytes, and what the fast path gains.
  NIXERNETES_YAML_FAST=0 "${cmd[@]}" >"$tmp/out-slow.yaml"
  cmp -s "$tmp/out.yaml" "$tmp/out-slow.yaml" || {
    echo "run.sh: $case: the output differs with NIXERNETES_YAML_FAST=0" >&2
    exit 1
  }
  rm -f "$tmp/out-slow.yaml"
  "${measure[@]}" run "$results" "$case" nofast /dev/null -- env NIXERNETES_YAML_FAST=0 "${cmd[@]}"

  # The linter on the same input: every check, JSON report.
  ccase="check A=$apps"
  count_objects "$ccase" "$tmp/out.yaml" "" >/dev/null
  measure_both "$ccase" "$bin" check -o json "$dir/apps"
  "${measure[@]}" run "$results" "$ccase" nofast /dev/null -- \
    env NIXERNETES_YAML_FAST=0 "$bin" check -o json "$dir/apps"

  if [[ $run_kust == 1 ]]; then
    "${measure[@]}" run "$results" "$case" kustomize "$tmp/kust.yaml" -- kubectl kustomize "$dir"
    kobjs="$("${measure[@]}" count "$tmp/kust.yaml")"
    echo "  $case: $kobjs objects emitted by kubectl kustomize" >&2
  elif [[ $apps -le 1000 ]]; then
    kust_note="kustomize comparison at $((apps * 5)) objects skipped: set BENCH_FULL=1 to run it (~220 CPU-s)"
  fi
  rm -rf "$dir"
done

# 4. Start-up + one-object render.
echo "== start-up" >&2
"${measure[@]}" gen-webapps 1 "$tmp/one.yaml"
startup_ms="$("${measure[@]}" startup 50 /dev/null -- "$bin" render "$tmp/one.yaml")"
if [[ -n "$baseline" ]]; then
  baseline_ms="$("${measure[@]}" startup 50 /dev/null -- "$baseline" render "$tmp/one.yaml")"
fi

# 5. Report.
echo
echo "nixernetes render benchmark ($(nproc) cores, $("$bin" --version))"
echo
"${measure[@]}" report "$results"
echo
echo "start-up + one-WebApp render: median wall $startup_ms ms over 50 runs"
if [[ -n "$baseline" ]]; then
  echo "  baseline ($("$baseline" --version)): $baseline_ms ms"
fi
if [[ -n "$kust_note" ]]; then
  echo "note: $kust_note"
fi
echo "note: kubectl kustomize is never run on the 50,000-object case"
