#!/usr/bin/env python3
"""Measurement helper for benches/run.sh (standard library only).

Subcommands:
  gen-webapps N FILE          write a YAML stream of N WebApp documents
  gen-multitier N FILE        write a YAML stream of N three-tier MultiTierApp documents
  gen-apps N DIR [--namespace NS] [--single-file]
                              write N plain apps (Deployment, Service, ConfigMap, HPA,
                              NetworkPolicy: five objects each) as DIR/apps/app-NNNNN.yaml
                              (or one DIR/apps.yaml), and DIR/kustomization.yaml listing them
                              with a namespace, two labels and two annotations: the job that
                              `kubectl kustomize DIR` and `render DIR/apps` both do
  kustomize-flags DIR         print the render flags equivalent to DIR/kustomization.yaml
                              (one argument per line: -n NS --label k=v ... --annotation k=v ...)
  run RESULTS CASE KIND OUT_FILE -- CMD...
                              run CMD (stdout to OUT_FILE) REPEATS times (env BENCH_REPEATS,
                              default 1), record the median wall/CPU and max peak RSS of that
                              child (os.wait4 rusage) as one TSV row in RESULTS; KIND is ours,
                              baseline (BENCH_BASELINE), kustomize, or nofast (ours with
                              NIXERNETES_YAML_FAST=0)
  count FILE                  print the number of objects in a YAML stream (separators + 1)
  startup N OUT -- CMD...     run CMD N times, print the median wall time in ms
  report RESULTS              print the results table and the linearity figure
  gen-bound CASE FILE         write the input of one bounded-resources case (benches/bounds.sh):
                              big-input, million-objects, big-scalar, deep-nesting, alias-bomb,
                              resource-list; sizes times env BOUNDS_SCALE (default 1)
  bound RESULTS CASE INPUT [--stdin] -- CMD...
                              run CMD once (stdin from INPUT with --stdin), stdout discarded,
                              killed past BOUNDS_KILL_MIB of RSS (default 4096) or
                              BOUNDS_TIMEOUT seconds (default 600); judge the outcome against
                              the goal (peak RSS <= 4x INPUT + 50 MiB, or a clear error within
                              10 s) and record it as one TSV row in RESULTS
  bounds-report RESULTS       print the bounded-resources table; exit 1 if a case missed
  gen-shops N FILE            write N instances of examples/extending/kinds/shop.yaml's
                              ShopService kind, in ten namespaces (benches/extending.sh)
  gen-rules FILE              write the ten ValidationRules of benches/extending.sh
  extending-report RESULTS OBJECTS
                              print benches/extending.sh's table and whether it met the targets
"""
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def die(msg):
    print(f"measure.py: {msg}", file=sys.stderr)
    sys.exit(1)


def gen_webapps(n, path):
    with open(path, "w") as f:
        for i in range(1, n + 1):
            name = f"app-{i:05d}"
            f.write(
                "---\n"
                "apiVersion: nixernetes.io/v1alpha1\n"
                "kind: WebApp\n"
                "metadata:\n"
                f"  name: {name}\n"
                "  namespace: bench\n"
                "spec:\n"
                f'  image: "registry.example.com/team/{name}:1.2.3"\n'
                "  replicas: 2\n"
                "  ports: [{name: http, port: 8080}]\n"
                "  autoscaling: {min: 2, max: 5}\n"
            )


def gen_multitier(n, path):
    with open(path, "w") as f:
        for i in range(1, n + 1):
            name = f"shop-{i:05d}"
            f.write(
                "---\n"
                "apiVersion: nixernetes.io/v1alpha1\n"
                "kind: MultiTierApp\n"
                "metadata:\n"
                f"  name: {name}\n"
                "  namespace: bench\n"
                "spec:\n"
                f"  exposure: {{tier: web, host: {name}.example.com}}\n"
                "  tiers:\n"
                "    - {name: web, kind: WebApp, dependsOn: [api],\n"
                "       spec: {image: nginxinc/nginx-unprivileged:1.27, replicas: 2}}\n"
                f"    - {{name: api, kind: WebApp, dependsOn: [cache],\n"
                f"       spec: {{image: registry.example.com/shop/api:2.{i % 10}.0,\n"
                "              ports: [{name: http, port: 3000}]}}\n"
                "    - {name: cache, kind: StatefulService,\n"
                "       spec: {image: valkey/valkey:8.0, ports: [{name: redis, port: 6379}]}}\n"
            )


TEAMS = ["payments", "search", "identity", "catalog", "checkout", "platform"]


def plain_app(i):
    """Five documents of app i; every varying value is derived from i (no randomness)."""
    name = f"app-{i:05d}"
    team = TEAMS[i % len(TEAMS)]
    port = 8000 + (i * 37) % 1000
    replicas = 2 + i % 4
    cpu = 50 * (1 + i % 8)
    mem = 64 * (1 + (i * 3) % 8)
    version = f"1.{i % 30}.{i % 10}"
    peer = f"app-{(i + 1) % 100000:05d}"
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: {team}
    app.kubernetes.io/version: "{version}"
spec:
  replicas: {replicas}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxSurge: 25%, maxUnavailable: 0}}
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
        app.kubernetes.io/part-of: {team}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "{port}"
    spec:
      serviceAccountName: {name}
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
        seccompProfile: {{type: RuntimeDefault}}
      containers:
        - name: {name}
          image: registry.example.com/{team}/{name}:{version}
          args: ["--port={port}", "--log-format=json"]
          ports:
            - {{name: http, containerPort: {port}, protocol: TCP}}
          env:
            - {{name: APP_NAME, value: {name}}}
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef: {{fieldPath: metadata.namespace}}
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: {{name: {name}-db, key: password}}
          envFrom:
            - configMapRef: {{name: {name}-config}}
          resources:
            requests: {{cpu: {cpu}m, memory: {mem}Mi}}
            limits: {{cpu: {cpu * 4}m, memory: {mem * 2}Mi}}
          readinessProbe:
            httpGet: {{path: /ready, port: http}}
            periodSeconds: 10
          livenessProbe:
            httpGet: {{path: /live, port: http}}
            initialDelaySeconds: 15
            periodSeconds: 20
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {{drop: [ALL]}}
          volumeMounts:
            - {{name: tmp, mountPath: /tmp}}
      volumes:
        - {{name: tmp, emptyDir: {{}}}}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  selector:
    app.kubernetes.io/name: {name}
  ports:
    - {{name: http, port: 80, targetPort: http, protocol: TCP}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
  labels:
    app.kubernetes.io/name: {name}
data:
  LOG_LEVEL: info
  UPSTREAM_URL: http://{peer}:80
  CACHE_TTL_SECONDS: "{30 + (i * 7) % 600}"
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}
  minReplicas: {replicas}
  maxReplicas: {replicas * 5}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {{type: Utilization, averageUtilization: {60 + i % 30}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {name}
  policyTypes: [Ingress, Egress]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/part-of: {team}
      ports:
        - {{port: {port}, protocol: TCP}}
  egress:
    - to:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: {peer}
      ports:
        - {{port: 80, protocol: TCP}}
"""


def gen_apps(argv):
    if len(argv) < 2:
        die("gen-apps N DIR [--namespace NS] [--single-file]")
    n, out = int(argv[0]), argv[1]
    ns, single = "bench", False
    rest = argv[2:]
    while rest:
        flag = rest.pop(0)
        if flag == "--namespace" and rest:
            ns = rest.pop(0)
        elif flag == "--single-file":
            single = True
        else:
            die(f"gen-apps: unknown argument {flag}")
    os.makedirs(out, exist_ok=True)
    docs = [plain_app(i) for i in range(1, n + 1)]
    if single:
        files = ["apps.yaml"]
        with open(os.path.join(out, "apps.yaml"), "w") as f:
            f.write("---\n".join(docs))
    else:
        os.makedirs(os.path.join(out, "apps"), exist_ok=True)
        files = []
        for i, doc in enumerate(docs, 1):
            rel = f"apps/app-{i:05d}.yaml"
            with open(os.path.join(out, rel), "w") as f:
                f.write(doc)
            files.append(rel)
    with open(os.path.join(out, "kustomization.yaml"), "w") as f:
        f.write("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
        f.write(f"namespace: {ns}\n")
        f.write("labels:\n  - pairs:\n      env: bench\n      team: platform\n")
        f.write("    includeSelectors: false\n    includeTemplates: true\n")
        f.write("commonAnnotations:\n  owner: platform-team\n  cost-center: \"4711\"\n")
        f.write("resources:\n")
        for rel in files:
            f.write(f"  - {rel}\n")


def unquote(s):
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        return s[1:-1]
    return s


def kustomize_flags(d):
    """Tiny line-based reader for the generator's kustomization.yaml:
    top-level `namespace:`, `labels: - pairs: {k: v}` and `commonAnnotations: {k: v}`."""
    path = os.path.join(d, "kustomization.yaml")
    ns, labels, annotations = None, [], []
    section, pairs_indent = None, None
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            indent = len(line) - len(line.lstrip())
            text = line.strip()
            if indent == 0 and not text.startswith("-"):
                key, _, val = text.partition(":")
                section = key
                if key == "namespace":
                    ns = unquote(val)
                continue
            if section == "labels":
                if text.startswith("- pairs:"):
                    section, pairs_indent = "labels.pairs", None
                continue
            if section == "labels.pairs":
                # pairs sit deeper than the sibling keys of "- pairs:" (includeSelectors, ...)
                if pairs_indent is None and not text.startswith("-"):
                    pairs_indent = indent
                if indent == pairs_indent and not text.startswith("-"):
                    k, _, v = text.partition(":")
                    labels.append((unquote(k), unquote(v)))
                    continue
                section = "labels"
                if text.startswith("- pairs:"):  # another labels entry
                    section, pairs_indent = "labels.pairs", None
                continue
            if section == "commonAnnotations":
                k, _, v = text.partition(":")
                annotations.append((unquote(k), unquote(v)))
    if not ns:
        die(f"{path}: no namespace found")
    if not labels or not annotations:
        die(f"{path}: expected labels and commonAnnotations, got {labels} / {annotations}")
    args = ["-n", ns]
    for k, v in labels:
        args += ["--label", f"{k}={v}"]
    for k, v in annotations:
        args += ["--annotation", f"{k}={v}"]
    print("\n".join(args))


def run_once(cmd, out_path):
    """Spawn cmd with stdout -> out_path; return (wall_s, cpu_s, maxrss_kib) of that child."""
    actions = [(os.POSIX_SPAWN_OPEN, 1, out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)]
    t0 = time.perf_counter()
    try:
        pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=actions)
    except OSError as e:
        die(f"cannot start {cmd[0]}: {e}")
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        die(f"command failed (exit {code}): {' '.join(cmd)}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def split_cmd(argv):
    if "--" not in argv:
        die("missing -- before the command")
    i = argv.index("--")
    return argv[:i], argv[i + 1:]


def run(argv):
    head, cmd = split_cmd(argv)
    results, case, kind, out = head
    reps = max(1, int(os.environ.get("BENCH_REPEATS", "1")))
    samples = [run_once(cmd, out) for _ in range(reps)]
    wall = statistics.median(s[0] for s in samples)
    cpu = statistics.median(s[1] for s in samples)
    rss = max(s[2] for s in samples)
    with open(results, "a") as f:
        f.write(f"{case}\t{kind}\t{wall:.6f}\t{cpu:.6f}\t{rss}\n")
    print(f"  {kind:<10} {case:<22} wall {wall:8.3f} s  cpu {cpu:8.3f} s  "
          f"rss {rss / 1024:7.1f} MiB  (median of {reps})", file=sys.stderr)


def count(path):
    with open(path, "rb") as f:
        data = f.read()
    if not data.strip():
        return 0
    # a leading "---\n" is a document start, not a separator
    if data.startswith(b"---\n"):
        data = data[4:]
    return data.count(b"\n---\n") + 1


def startup(argv):
    head, cmd = split_cmd(argv)
    n, out = int(head[0]), head[1]
    walls = [run_once(cmd, out)[0] for _ in range(n)]
    print(f"{statistics.median(walls) * 1000:.2f}")


def print_table(hdr, table):
    """Print rows under a header, the first column left-aligned and the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [hdr] + table) for i in range(len(hdr))]
    fmt = "  ".join("{:<%d}" % w if i == 0 else "{:>%d}" % w for i, w in enumerate(widths))
    print(fmt.format(*hdr))
    print(fmt.format(*("-" * w for w in widths)))
    for r in table:
        print(fmt.format(*r))


def print_comparison(rows, other, hdr, ratio):
    """Print, per case measured both ways, OTHER's and our CPU, ratio(ours, other), and both
    peak RSS figures (nothing when no case has OTHER)."""
    pairs = [(case, kinds["ours"], kinds[other]) for case, kinds in rows.items()
             if "ours" in kinds and other in kinds]
    if not pairs:
        return
    table = [(case, f"{x[1]:.3f}", f"{o[1]:.3f}", ratio(o[1], x[1]),
              f"{x[2] / 1024:.1f}", f"{o[2] / 1024:.1f}") for case, o, x in pairs]
    print()
    print_table(hdr, table)


def report(results):
    rows = {}
    with open(results) as f:
        for line in f:
            case, kind, wall, cpu, rss = line.rstrip("\n").split("\t")
            rows.setdefault(case, {})[kind] = (float(wall), float(cpu), int(rss))
    counts = {}
    cpath = results + ".counts"
    with open(cpath) as f:
        for line in f:
            case, objs, note = (line.rstrip("\n").split("\t") + [""])[:3]
            counts[case] = (int(objs), note)

    hdr = ("case", "objects", "wall s", "CPU s", "obj/CPU-s", "peak RSS MiB",
           "kustomize CPU s", "kust/ours CPU")
    table = []
    for case, kinds in rows.items():
        if "ours" not in kinds:
            continue
        wall, cpu, rss = kinds["ours"]
        objs, note = counts[case]
        ops = f"{objs / cpu:,.0f}" if cpu > 0 else "inf"
        if "kustomize" in kinds:
            kcpu = kinds["kustomize"][1]
            kc, ratio = f"{kcpu:.3f}", (f"{kcpu / cpu:.1f}x" if cpu > 0 else "inf")
        else:
            kc, ratio = (note or "-"), "-"
        table.append((case, f"{objs:,}", f"{wall:.3f}", f"{cpu:.3f}", ops,
                      f"{rss / 1024:.1f}", kc, ratio))
    print_table(hdr, table)

    def ratio(a, b):
        return f"{a / b:.2f}x" if b > 0 else "inf"

    # the same cases with an earlier build, measured in the same run (BENCH_BASELINE)
    print_comparison(rows, "baseline",
                     ("case", "baseline CPU s", "ours CPU s", "ours/baseline CPU",
                      "baseline RSS MiB", "ours RSS MiB"),
                     ratio)
    # the same cases with the fast YAML reader off (NIXERNETES_YAML_FAST=0): its end-to-end gain
    print_comparison(rows, "nofast",
                     ("case", "fast reader off CPU s", "on CPU s", "gain (off/on CPU)",
                      "off RSS MiB", "on RSS MiB"),
                     lambda ours, other: ratio(other, ours))

    # linearity: CPU-s per 1000 objects, smallest vs largest pass-through case
    pt = [(counts[c][0], rows[c]["ours"][1]) for c in rows
          if c.startswith("passthrough") and "ours" in rows[c]]
    if len(pt) >= 2:
        pt.sort()
        (n_lo, c_lo), (n_hi, c_hi) = pt[0], pt[-1]
        lo, hi = c_lo / n_lo * 1000, c_hi / n_hi * 1000
        print()
        print(f"linearity (pass-through): {lo:.4f} CPU-s/1000 objects at {n_lo:,} objects, "
              f"{hi:.4f} CPU-s/1000 objects at {n_hi:,} objects "
              f"(ratio {hi / lo:.2f}; 1.00 = perfectly linear)")


# ---- bounded resources (benches/bounds.sh) -------------------------------------------------

def scaled(n):
    """n times BOUNDS_SCALE (at least 1)."""
    return max(1, int(n * float(os.environ.get("BOUNDS_SCALE", "1"))))


def gen_bound(case, path):
    with open(path, "w") as f:
        if case == "big-input":
            # 100 MB of ConfigMaps, about 1 KiB each.
            value = "v" * 900
            target = scaled(100 * 1000 * 1000)
            written, i = 0, 0
            while written < target:
                doc = (f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:07d}\n"
                       f"  namespace: bench\ndata:\n  value: {value}\n")
                f.write(doc)
                written += len(doc)
                i += 1
        elif case == "million-objects":
            for i in range(scaled(1_000_000)):
                f.write(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: b}}\n")
        elif case == "big-scalar":
            # One 10 MB plain scalar.
            f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  namespace: b\ndata:\n  blob: ")
            f.write("x" * scaled(10 * 1000 * 1000))
            f.write("\n")
        elif case == "deep-nesting":
            # 10,000 levels of flow sequences (not scaled: it is small whatever the depth).
            depth = 10_000
            f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\n  namespace: b\ndata:\n  deep: ")
            f.write("[" * depth + "]" * depth + "\n")
        elif case == "alias-bomb":
            # "Billion laughs": 10 levels of ten aliases each, 10^10 nodes once expanded.
            f.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb, namespace: b}\ndata:\n")
            f.write("  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
            for i in range(1, 10):
                refs = ", ".join([f"*a{i - 1}"] * 10)
                f.write(f"  a{i}: &a{i} [{refs}]\n")
        elif case == "resource-list":
            f.write("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n")
            for i in range(scaled(200_000)):
                f.write(f"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c{i}\n"
                        f"    namespace: b\n    annotations:\n"
                        f"      internal.config.kubernetes.io/path: cm-{i}.yaml\n"
                        f"      internal.config.kubernetes.io/index: '0'\n"
                        f"  data: {{k: v}}\n")
        else:
            die(f"unknown bounded-resources case {case}")


def rss_kib(pid):
    """Current resident set of pid in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# A message that is clear to a user: an error line, no panic, no Rust debug value.
RUST_DEBUG = re.compile(r"\b[A-Z][A-Za-z]+ \{ [a-z_]+: |\bSome\(|\bOk\(|\bErr\(|panicked")


def bound(argv):
    head, cmd = split_cmd(argv)
    stdin = "--stdin" in head
    head = [h for h in head if h != "--stdin"]
    results, case, inp = head
    kill_kib = int(os.environ.get("BOUNDS_KILL_MIB", "4096")) * 1024
    timeout = float(os.environ.get("BOUNDS_TIMEOUT", "600"))
    size = os.path.getsize(inp)
    killed = ""
    # The KRM function (stdin) reports its errors in the ResourceList it prints: keep stdout.
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as kept, \
            open(os.devnull, "wb") as null, open(inp if stdin else os.devnull, "rb") as fin:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=fin, stdout=kept if stdin else null, stderr=err)
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if rss_kib(proc.pid) > kill_kib:
                killed = f"killed above {kill_kib // 1024} MiB RSS"
            elif time.perf_counter() - t0 > timeout:
                killed = f"killed after {timeout:.0f} s"
            if killed:
                proc.send_signal(signal.SIGKILL)
                _, status, ru = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - t0
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        messages = [l for l in stderr.splitlines() if l.startswith("error")]
        if stdin and code == 1:
            kept.seek(0)
            text = kept.read().decode("utf-8", "replace")
            tail = text[text.find("\nresults:"):] if "\nresults:" in text else ""
            messages += [l.strip()[2:] for l in tail.splitlines()
                         if l.strip().startswith("- message:")]
            stderr += tail
    peak = ru.ru_maxrss  # KiB
    limit = 4 * size / 1024 + 50 * 1024
    first = (messages[0] if messages else (stderr.strip().splitlines() or [""])[0])[:160]
    if killed:
        outcome, met = killed, False
    elif code < 0:
        outcome, met = f"crash (signal {-code})", False
    elif code == 0:
        outcome, met = "ok", peak <= limit
    elif code == 1 and messages and not RUST_DEBUG.search(stderr):
        outcome, met = "clear error", wall <= 10
    else:
        outcome, met = f"unclear error (exit {code})", False
    command = " ".join([os.path.basename(cmd[0])] + cmd[1:2])
    with open(results, "a") as f:
        f.write("\t".join([case, command, str(size), outcome, f"{wall:.3f}", str(peak),
                           f"{limit:.0f}", "yes" if met else "NO",
                           first.replace("\t", " ")]) + "\n")
    print(f"  {case:<16} {outcome:<14} wall {wall:8.3f} s  rss {peak / 1024:8.1f} MiB  "
          f"goal {limit / 1024:8.1f} MiB  {'met' if met else 'MISSED'}", file=sys.stderr)


def bounds_report(results):
    hdr = ("case", "command", "input MiB", "outcome", "wall s", "peak RSS MiB",
           "4x input + 50 MiB", "goal met")
    table, messages, missed = [], [], 0
    with open(results) as f:
        for line in f:
            case, cmd, size, outcome, wall, peak, limit, met, first = \
                line.rstrip("\n").split("\t")
            missed += met != "yes"
            table.append((case, cmd, f"{int(size) / 2**20:.1f}", outcome, wall,
                          f"{int(peak) / 1024:.1f}", f"{float(limit) / 1024:.1f}", met))
            if first:
                messages.append(f"  {case}: {first}")
    print_table(hdr, table)
    print()
    print("goal: peak RSS <= 4x input size + 50 MiB when it succeeds, or a clear error "
          "(exit 1, an error line or KRM result, no panic or Rust value) within 10 s")
    if messages:
        print("messages (first error of each case):")
        print("\n".join(messages))
    if missed:
        print(f"{missed} case(s) missed the goal")
        sys.exit(1)

# ---- user kinds and rules (benches/extending.sh) -------------------------------------------

def gen_shops(n, path):
    """N ShopService instances (each a WebApp and a PostgreSQL), in ten namespaces."""
    with open(path, "w") as f:
        for i in range(n):
            name = f"shop-{i:05d}"
            f.write(f"""---
apiVersion: platform.acme.io/v1
kind: ShopService
metadata: {{name: {name}, namespace: shops-{i % 10}}}
spec:
  image: ghcr.io/acme/{name}:1.{i % 20}.0
  replicas: {2 + i % 3}
  host: {name}.shops.example.com
  database: {{instances: {1 + i % 3}, size: {10 + i % 40}Gi}}
""")


# Ten rules a platform team writes: they read workloads, Services, ConfigMaps, autoscalers,
# NetworkPolicies and every object, and they pass on the generated apps (a rule's cost is its
# evaluation, not the findings it prints), except `acme-registry`, which holds the ShopServices'
# workloads (in the shops-* namespaces) to ghcr.io/acme and so runs on them only.
RULES = [
    ("max-replicas", ["apps"], ["deployments", "statefulsets"], None,
     "!has(object.spec.replicas) || object.spec.replicas <= 10", "spec.replicas"),
    ("acme-registry", ["apps"], ["deployments", "statefulsets"],
     "object.metadata.namespace.startsWith('shops-')",
     "object.spec.template.spec.containers.all(c, c.image.startsWith('ghcr.io/acme/'))",
     "spec.template.spec.containers"),
    ("pinned-images", ["apps"], ["deployments", "statefulsets", "daemonsets"], None,
     "object.spec.template.spec.containers.all(c, c.image.contains(':') && !c.image.endsWith(':latest'))",
     "spec.template.spec.containers"),
    ("memory-limits", ["apps"], ["deployments", "statefulsets", "daemonsets"], None,
     "object.spec.template.spec.containers.all(c, has(c.resources) && has(c.resources.limits) && has(c.resources.limits.memory))",
     "spec.template.spec.containers"),
    ("no-host-network", ["apps"], ["deployments", "statefulsets", "daemonsets"], None,
     "!has(object.spec.template.spec.hostNetwork) || !object.spec.template.spec.hostNetwork",
     "spec.template.spec.hostNetwork"),
    ("service-selector", [""], ["services"], None,
     "has(object.spec.selector) || (has(object.spec.type) && object.spec.type == 'ExternalName')",
     "spec.selector"),
    ("small-configmaps", [""], ["configmaps"], None,
     "!has(object.data) || size(object.data) <= 100", "data"),
    ("hpa-ceiling", ["autoscaling"], ["horizontalpodautoscalers"], None,
     "object.spec.maxReplicas <= 50", "spec.maxReplicas"),
    ("policy-types", ["networking.k8s.io"], ["networkpolicies"], None,
     "has(object.spec.policyTypes) && size(object.spec.policyTypes) > 0", "spec.policyTypes"),
    ("not-in-default", ["*"], ["*"], None,
     "!has(object.metadata.namespace) || object.metadata.namespace != 'default'",
     "metadata.namespace"),
]


def gen_rules(path):
    with open(path, "w") as f:
        for name, groups, resources, condition, expression, field in RULES:
            f.write(f"""---
apiVersion: nixernetes.io/v1alpha1
kind: ValidationRule
metadata: {{name: {name}}}
spec:
  severity: error
  match:
    resourceRules:
      - apiGroups: {groups}
        apiVersions: ["*"]
        resources: {resources}
        operations: [CREATE, UPDATE]
""".replace("'", '"'))
            if condition:
                f.write(f"  matchConditions:\n    - name: scope\n      expression: \"{condition}\"\n")
            f.write(f"  validations:\n    - expression: \"{expression}\"\n"
                    f"      message: {name} failed\n      fieldPath: {field}\n")


def extending_report(results, objects):
    rows = {}
    with open(results) as f:
        for line in f:
            case, kind, wall, cpu, rss = line.rstrip("\n").split("\t")
            rows[kind] = (float(wall), float(cpu), int(rss))
    table = [(kind, f"{rows[kind][0]:.3f}", f"{rows[kind][1]:.3f}",
              f"{rows[kind][2] / 1024:.1f}") for kind in ("plain", "without", "with")]
    print_table(("run", "wall s", "CPU s", "peak RSS MiB"), table)
    rate = objects / rows["with"][1]
    rss_ratio = rows["with"][2] / rows["without"][2]
    print()
    print(f"with rules: {objects:,} objects in {rows['with'][1]:.3f} CPU-s = {rate:,.0f} objects "
          f"per CPU-second (target 10,000: {'met' if rate >= 10_000 else 'NOT met'})")
    print(f"peak RSS with rules / without: {rss_ratio:.3f} (target <= 1.15: "
          f"{'met' if rss_ratio <= 1.15 else 'NOT met'})")
    print(f"CPU with rules / without: {rows['with'][1] / rows['without'][1]:.3f}; "
          f"without / no user kinds: {rows['without'][1] / rows['plain'][1]:.3f}")


def main():
    if len(sys.argv) < 2:
        die(__doc__)
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "gen-webapps":
        gen_webapps(int(argv[0]), argv[1])
    elif cmd == "gen-multitier":
        gen_multitier(int(argv[0]), argv[1])
    elif cmd == "gen-apps":
        gen_apps(argv)
    elif cmd == "kustomize-flags":
        kustomize_flags(argv[0])
    elif cmd == "run":
        run(argv)
    elif cmd == "count":
        print(count(argv[0]))
    elif cmd == "startup":
        startup(argv)
    elif cmd == "report":
        report(argv[0])
    elif cmd == "gen-bound":
        gen_bound(argv[0], argv[1])
    elif cmd == "bound":
        bound(argv)
    elif cmd == "bounds-report":
        bounds_report(argv[0])
    elif cmd == "gen-shops":
        gen_shops(int(argv[0]), argv[1])
    elif cmd == "gen-rules":
        gen_rules(argv[0])
    elif cmd == "extending-report":
        extending_report(argv[0], int(argv[1]))
    else:
        die(f"unknown subcommand {cmd}")


if __name__ == "__main__":
    main()
