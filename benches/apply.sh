#!/usr/bin/env bash
# Apply benchmark: `kubectl-nixernetes apply` against `kubectl apply --server-side`, side by side
# in one run, on the same API-server double (with latency injected per request) and the same
# rendered objects. Not a timed test; run by hand. Target (issue 10): at least 8x faster wall time
# for 500 objects at 20 ms per request.
#
#   benches/apply.sh                          # 100 apps = 500 objects, 20 ms per request, 3 repeats
#   BENCH_APPLY_APPS=20 BENCH_LATENCY=5ms benches/apply.sh
#   BENCH_PROFILE=debug benches/apply.sh      # the debug binary (no release build; slower CPU)
#   BENCH_BIN=/path/to/kubectl-nixernetes benches/apply.sh
#                                             # measure that binary (no build)
#
# Every run starts a fresh double holding only the namespace, so each tool creates all objects.
# Both tools apply as the field manager nixernetes and start with an empty discovery cache; ours
# at its default concurrency (16), kubectl at its only one (1). Prints wall-clock medians and
# their ratio. Needs bash, python3 and kubectl.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
profile="${BENCH_PROFILE:-release}"
bin="${BENCH_BIN:-$root/target/$profile/kubectl-nixernetes}"
apps="${BENCH_APPLY_APPS:-100}"
latency="${BENCH_LATENCY:-20ms}"
repeats="${BENCH_REPEATS:-3}"

for tool in python3 kubectl; do
  command -v "$tool" >/dev/null || { echo "apply.sh: $tool not found" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [[ -z "${BENCH_BIN:-}" && "$profile" == release ]]; then
  echo "== building release binary" >&2
  (cd "$root" && cargo build --release --locked)
fi

python3 "$here/measure.py" gen-apps "$apps" "$tmp/all" --namespace demo --single-file
all="$(find "$tmp/all" -name '*.yaml' ! -name kustomization.yaml)"
"$bin" render $all >"$tmp/rendered.yaml" 2>/dev/null
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n' >"$tmp/namespace.yaml"
objects="$(grep -c '^kind:' "$tmp/rendered.yaml")"

echo "== $objects objects, $latency per request, median of $repeats" >&2
python3 - "$repeats" "$tmp" "$bin" "$latency" <<'PY'
import os, statistics, subprocess, sys, time
repeats, tmp, binary, latency = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rendered = f"{tmp}/rendered.yaml"
env = dict(os.environ, HOME=tmp)

def double(i):
    """A fresh double with only the namespace; its kubeconfig path and process."""
    kc = f"{tmp}/kubeconfig-{i}"
    p = subprocess.Popen([binary, "api-double", "--latency", latency, "--seed", f"{tmp}/namespace.yaml",
                          "--write-kubeconfig", kc], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(kc) and os.path.getsize(kc) > 0:
            return kc, p
        time.sleep(0.05)
    p.kill()
    sys.exit("apply.sh: the double did not start")

def timed(cmd, i):
    kc, p = double(i)
    try:
        t = time.perf_counter()
        r = subprocess.run(cmd(kc, i), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - t
    finally:
        p.kill()
        p.wait()
    if r.returncode != 0:
        sys.exit(f"apply.sh: {cmd(kc, i)[0]} exited {r.returncode}: {r.stderr.decode()[-2000:]}")
    return wall

kubectl = lambda kc, i: ["kubectl", "--kubeconfig", kc, "--cache-dir", f"{tmp}/cache-{i}",
                         "apply", "--server-side", "--field-manager", "nixernetes", "-f", rendered]
ours = lambda kc, i: [binary, "apply", "--kubeconfig", kc, rendered]
rows = []
n = 0
for name, cmd in [("kubectl apply --server-side", kubectl), ("kubectl-nixernetes apply", ours)]:
    walls = []
    for _ in range(repeats):
        walls.append(timed(cmd, n))
        n += 1
    rows.append((name, statistics.median(walls)))
base = rows[0][1]
print(f"{'tool':<30} {'wall s (median)':>16} {'speed-up':>9}")
for name, wall in rows:
    print(f"{name:<30} {wall:>16.2f} {base / wall:>8.1f}x")
PY
