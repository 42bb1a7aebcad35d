#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for SECONDS each, one after the other, and prints
# executions, executions per second and crashes per target. Usage:
#
#   benches/fuzz.sh SECONDS [TARGET...]
#
# Built on the stable toolchain: libFuzzer comes from the libfuzzer-sys crate (its C++ is
# compiled by `cc`, so a C++ compiler is needed), and the coverage instrumentation is the set of
# flags cargo-fuzz passes with `--sanitizer none` (no sanitizer needs nightly). The build goes
# to fuzz/target (gitignored). New corpus entries go to fuzz/target/corpus/TARGET; the committed
# seeds in fuzz/corpus/TARGET are read, never written. A crash stops its target and is saved
# under fuzz/artifacts/TARGET/; reproduce it with `fuzz/target/<host>/release/TARGET FILE`.
# Exit status 1 when any target crashed.
set -euo pipefail

seconds=${1:?usage: benches/fuzz.sh SECONDS [TARGET...]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/fuzz"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(yaml_fast_vs_saphyr yaml_stream resource_list kind_specs)
fi
host=$(rustc -vV | sed -n 's/^host: //p')

# `--target` keeps these flags off build scripts and proc macros (as cargo-fuzz does).
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
export CARGO_TARGET_DIR="$fuzz/target"
cargo build --quiet --manifest-path "$fuzz/Cargo.toml" --release --target "$host" --bins

crashed=0
printf '%-22s %14s %10s %8s  %s\n' target executions exec/s crashes artifact
for t in "${targets[@]}"; do
  bin="$fuzz/target/$host/release/$t"
  scratch="$fuzz/target/corpus/$t"
  artifacts="$fuzz/artifacts/$t"
  mkdir -p "$scratch" "$artifacts" "$fuzz/corpus/$t"
  dict=()
  case $t in yaml_*|resource_list) dict=(-dict="$fuzz/yaml.dict") ;; esac
  log="$fuzz/target/$t.log"
  before=$(ls "$artifacts" | wc -l)
  start=$(date +%s)
  status=0
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" \
    "$scratch" "$fuzz/corpus/$t" >"$log" 2>&1 || status=$?
  elapsed=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=${execs:-$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')}
  execs=${execs:-0}
  after=$(ls "$artifacts" | wc -l)
  crashes=$(( after - before ))
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
  newest=""
  if [ "$crashes" -gt 0 ]; then
    crashed=1
    newest=$(ls -t "$artifacts" | head -1)
    newest=${newest:+fuzz/artifacts/$t/$newest}
    [ -n "$newest" ] || newest="see $log"
  fi
  printf '%-22s %14s %10s %8s  %s\n' "$t" "$execs" "$(( execs / (elapsed > 0 ? elapsed : 1) ))" \
    "$crashes" "$newest"
done
exit $crashed
