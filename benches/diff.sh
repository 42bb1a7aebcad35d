#!/usr/bin/env bash
# Diff benchmark: `kubectl-nixernetes diff` against `kubectl diff --server-side`, side by side in
# one run, on the same API-server double (with latency injected per request) and the same
# rendered objects. Not a timed test; run by hand.
#
#   benches/diff.sh                        # 100 apps = 500 objects, 20 ms per request, 3 repeats
#   BENCH_DIFF_APPS=20 BENCH_LATENCY=5ms benches/diff.sh
#   BENCH_REPEATS=5 benches/diff.sh
#
# Half of the apps are already in the cluster (applied by the same field manager), so the run
# sees creates, updates and unchanged objects. Both tools use --field-manager nixernetes and
# start with an empty discovery cache; ours runs at its default concurrency (8), kubectl at its
# default (1). Prints wall-clock medians and their ratio. Needs bash, python3 and kubectl.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin="$root/target/release/kubectl-nixernetes"
apps="${BENCH_DIFF_APPS:-100}"
latency="${BENCH_LATENCY:-20ms}"
repeats="${BENCH_REPEATS:-3}"

for tool in python3 kubectl; do
  command -v "$tool" >/dev/null || { echo "diff.sh: $tool not found" >&2; exit 1; }
done

tmp="$(mktemp -d)"
double_pid=""
cleanup() {
  [[ -n "$double_pid" ]] && kill "$double_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== building release binary" >&2
(cd "$root" && cargo build --release --locked)

# Input: N apps (5 objects each) in namespace demo; the seed: the namespace and the first half
# of the apps as rendered, with a changed replica count so that some objects are updates.
python3 "$here/measure.py" gen-apps "$apps" "$tmp/all" --namespace demo --single-file
python3 "$here/measure.py" gen-apps $((apps / 2)) "$tmp/half" --namespace demo --single-file
all="$(find "$tmp/all" -name '*.yaml' ! -name kustomization.yaml)"
half="$(find "$tmp/half" -name '*.yaml' ! -name kustomization.yaml)"
mkdir -p "$tmp/seed"
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n' >"$tmp/seed/00-namespace.yaml"
"$bin" render $half 2>/dev/null | sed 's/^  replicas: 2$/  replicas: 7/' >"$tmp/seed/10-apps.yaml"
"$bin" render $all >"$tmp/rendered.yaml" 2>/dev/null
objects="$(grep -c '^kind:' "$tmp/rendered.yaml")"

"$bin" api-double --latency "$latency" --seed "$tmp/seed" --seed-manager nixernetes \
  --write-kubeconfig "$tmp/kubeconfig" >/dev/null 2>"$tmp/double.log" &
double_pid=$!
for _ in $(seq 100); do [[ -s "$tmp/kubeconfig" ]] && break; sleep 0.1; done
[[ -s "$tmp/kubeconfig" ]] || { cat "$tmp/double.log" >&2; exit 1; }

echo "== $objects objects, $latency per request, median of $repeats" >&2
python3 - "$repeats" "$tmp" "$bin" <<'EOF'
import os, statistics, subprocess, sys, time
repeats, tmp, binary = int(sys.argv[1]), sys.argv[2], sys.argv[3]
kc, rendered = f"{tmp}/kubeconfig", f"{tmp}/rendered.yaml"
env = dict(os.environ, HOME=tmp)
env.pop("KUBECTL_EXTERNAL_DIFF", None)

def timed(cmd, i):
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t
    if p.returncode != 1:  # 1 = differences found; anything else is a failure here
        sys.exit(f"diff.sh: {cmd[0]} exited {p.returncode}: {p.stderr.decode()[-2000:]}")
    return wall

kubectl = lambda i: ["kubectl", "--kubeconfig", kc, "--cache-dir", f"{tmp}/cache-{i}",
                     "diff", "--server-side", "--field-manager", "nixernetes", "-f", rendered]
ours = lambda i: [binary, "diff", "--kubeconfig", kc, "-o", "summary", rendered]
rows = []
for name, cmd in [("kubectl diff --server-side", kubectl), ("kubectl-nixernetes diff", ours)]:
    walls = [timed(cmd(i), i) for i in range(repeats)]
    rows.append((name, statistics.median(walls)))
base = rows[0][1]
print(f"{'tool':<30} {'wall s (median)':>16} {'speed-up':>9}")
for name, wall in rows:
    print(f"{name:<30} {wall:>16.2f} {base / wall:>8.1f}x")
EOF
