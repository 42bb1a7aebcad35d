#!/usr/bin/env bash
# User kinds and validation rules at scale (issue 14's target; acceptance test 11 of the
# extensibility design). Not a timed test; run by hand.
#
#   benches/extending.sh                       # 10,000 plain apps (50,000 objects) + 1,000 ShopServices
#   BENCH_APPS=1000 BENCH_SHOPS=100 benches/extending.sh
#   BENCH_BIN=/path/to/kubectl-nixernetes benches/extending.sh   # that binary (no build)
#   BENCH_REPEATS=3 benches/extending.sh       # median of 3 runs per case (default 1)
#
# One render of the pass-through apps plus the ShopService instances of
# examples/extending/kinds/shop.yaml (each composes a WebApp and a PostgreSQL), once with the ten
# validation rules below and once without, in the same run. Reports objects per CPU-second of
# the run with rules (target: at least 10,000) and its peak RSS against the run without rules
# (target: within 15%). Also the same render with no user kinds at all, for what they cost.
# Needs bash and python3.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
measure=(python3 "$here/measure.py")
bin="${BENCH_BIN:-$root/target/release/kubectl-nixernetes}"
apps="${BENCH_APPS:-10000}"
shops="${BENCH_SHOPS:-1000}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
results="$tmp/results.tsv"
: >"$results"

if [[ -z "${BENCH_BIN:-}" ]]; then
  echo "== building release binary" >&2
  (cd "$root" && cargo build --release --locked)
fi
[[ -x "$bin" ]] || { echo "extending.sh: $bin not built" >&2; exit 1; }

"${measure[@]}" gen-apps "$apps" "$tmp/gen"
"${measure[@]}" gen-shops "$shops" "$tmp/shops.yaml"
"${measure[@]}" gen-rules "$tmp/rules.yaml"
mapfile -t flags < <("${measure[@]}" kustomize-flags "$tmp/gen")

kinds=(--kinds "$root/examples/extending/kinds/shop.yaml")
plain=("$bin" render "$tmp/gen/apps" "${flags[@]}")
without=("$bin" render "$tmp/gen/apps" "$tmp/shops.yaml" "${kinds[@]}" "${flags[@]}")
with=("${without[@]}" --rules "$tmp/rules.yaml")

# Untimed runs: the object counts, and the findings the rules make.
"${plain[@]}" >"$tmp/plain.yaml" 2>/dev/null
"${without[@]}" >"$tmp/without.yaml" 2>/dev/null
"${with[@]}" >"$tmp/with.yaml" 2>"$tmp/with.err"
objects="$("${measure[@]}" count "$tmp/with.yaml")"
rule_findings="$(grep -c 'rule\.' "$tmp/with.err" || true)"
echo "  $objects objects emitted with rules, $("${measure[@]}" count "$tmp/without.yaml") without, $("${measure[@]}" count "$tmp/plain.yaml") with no user kinds; $rule_findings rule findings" >&2

"${measure[@]}" run "$results" "extending" plain /dev/null -- "${plain[@]}"
"${measure[@]}" run "$results" "extending" without /dev/null -- "${without[@]}"
"${measure[@]}" run "$results" "extending" with /dev/null -- "${with[@]}"

echo
echo "user kinds and rules ($(nproc) cores, $("$bin" --version)): $apps plain apps, $shops ShopServices, 10 rules"
"${measure[@]}" extending-report "$results" "$objects"
