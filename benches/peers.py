#!/usr/bin/env python3
"""Recall of our checks on the peers' own test fixtures (kube-linter, Polaris, kube-score, checkov).

    benches/peers.py [--bin BIN] [--map TSV] [--json FILE] [--misses] PEERS_DIR
    PEERS_DIR=/tmp/peers BENCH_BIN=target/debug/kubectl-nixernetes benches/peers.py

PEERS_DIR holds one checkout (or `git archive` extract) per peer, in subdirectories named
kube-linter, polaris, kube-score and checkov; docs/checks.md ("Measured against the peers") gives
the commits and how to fetch them. Nothing of theirs is copied into this project.

For every peer check that benches/peers-map.tsv maps to one or more of our check ids, each of the
peer's fixtures is run through `BIN check -o json FILE` (one file per run, so that checks spanning
objects see what the peer's test saw) and "ours fires" means a finding of one of the mapped ids, at
any severity, not exempted, on the fixture's object (or anywhere in the file where the peer's
verdict is per file). Reported per check and per peer: should-fail fixtures where ours fires /
total (recall), should-pass fixtures where ours fires, and every miss (file, object).

Where each peer keeps its verdicts, and how they are read (parsed, not hand-listed):

- Polaris: test/checks/<check>/failure*.yaml should fail, success*.yaml should pass (per file:
  Polaris' own test asserts the check's result on the file).
- kube-linter: tests/checks/*.yml, with the expected reports in e2etests/bats-tests.sh (`lint
  --include <check> --do-not-auto-add-defaults`; tests with `--config` use a custom check and are
  skipped). Each expected report gives the object's kind (and name, where the test prints it); an
  object of that kind whose name marks it as passing (starts dont-fire, should-pass, good-, valid-) is
  not one. Objects named that way are should-pass fixtures.
- kube-score: score/testdata/*.yaml, with testExpectedScore(t, file, check, grade) in
  score/*_test.go (per file: Critical or Warning should fail, AllOK should pass; calls with a
  custom configuration, testExpectedScoreWithConfig, are skipped).
- checkov: tests/kubernetes/checks/example_<Dir>/ used by test_<Check>.py. Where the test lists
  passing_resources/failing_resources (Kind.namespace.name) those are the verdicts per object;
  otherwise the verdict is per file from its name (FAILED or PASSED in it, case-insensitive; a
  file named both ways or UNKNOWN is not counted). Several checks share a directory, so the
  file name is not always the verdict of every check that reads it: where the counts this gives
  differ from the test's assertEqual(summary['failed'|'passed'], N) the check is flagged.

Misses and should-pass fires that docs/checks.md lists as design differences from the peers (the
table under "Design differences from the peers", generated from src/policy/peers.md) are counted
apart: "net" recall leaves them out, and `--misses` gives each its reason. A row that matches no
fixture any more is warned about.

Exit status: 0, or 1 if BIN fails on a fixture (a crash or an internal error, not findings), or 2
on bad arguments.
"""

import argparse
import collections
import concurrent.futures
import fnmatch
import json
import os
import re
import subprocess
import sys

PEERS = ("kube-linter", "polaris", "kube-score", "checkov")
PASS_MARKERS = ("dont-fire", "should-pass", "good-", "valid-")


class Fixture:
    """One verdict of a peer: its check, the file, the object (None: the whole file), fail/pass."""

    def __init__(self, peer, check, path, obj, fail):
        self.peer, self.check, self.path, self.obj, self.fail = peer, check, path, obj, fail


def yaml_objects(path):
    """(kind, name, namespace) of each top-level object, read without a YAML library: enough for
    the peers' fixtures (block style, `kind:` and `metadata.name` at their usual indentation)."""
    try:
        text = open(path, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError):
        return []
    if path.endswith(".json"):
        try:
            doc = json.loads(text)
        except ValueError:
            return []
        docs = doc.get("items", [doc]) if isinstance(doc, dict) else []
        return [
            (d.get("kind"), (d.get("metadata") or {}).get("name"), (d.get("metadata") or {}).get("namespace"))
            for d in docs
            if isinstance(d, dict)
        ]
    out = []
    for doc in re.split(r"(?m)^---.*$", text):
        kind = re.search(r"(?m)^kind:\s*['\"]?([A-Za-z0-9]+)", doc)
        meta = re.search(r"(?ms)^metadata:\s*\n((?:[ \t]+.*\n?|\s*\n)*)", doc)
        name = ns = None
        if meta:
            block = meta.group(1)
            indent = re.match(r"[ \t]*", block).group(0)
            n = re.search(r"(?m)^" + indent + r"name:\s*['\"]?([^'\"\s#]+)", block)
            s = re.search(r"(?m)^" + indent + r"namespace:\s*['\"]?([^'\"\s#]+)", block)
            name, ns = (n.group(1) if n else None), (s.group(1) if s else None)
        if kind:
            out.append((kind.group(1), name, ns))
    return out


def role_refs(path):
    """(binding kind, name) -> (role kind, name) of the RoleBindings and ClusterRoleBindings in
    a file: a peer reports a role's grant on its binding, ours on the role."""
    try:
        text = open(path, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError):
        return {}
    refs = {}
    for doc in re.split(r"(?m)^---.*$", text):
        kind = re.search(r"(?m)^kind:\s*(RoleBinding|ClusterRoleBinding)\s*$", doc)
        name = re.search(r"(?m)^metadata:\s*\n(?:[ \t]+.*\n)*?[ \t]+name:\s*['\"]?([^'\"\s#]+)", doc)
        ref = re.search(r"(?ms)^roleRef:\s*\n((?:[ \t]+.*\n?)*)", doc)
        if kind and name and ref:
            rk = re.search(r"(?m)^\s+kind:\s*(\w+)", ref.group(1))
            rn = re.search(r"(?m)^\s+name:\s*['\"]?([^'\"\s#]+)", ref.group(1))
            if rk and rn:
                refs[(kind.group(1), name.group(1))] = (rk.group(1), rn.group(1))
    return refs


def passing_name(name):
    return name is not None and name.startswith(PASS_MARKERS)


# --- the peers' verdicts ------------------------------------------------------------------------


def polaris(root):
    base = os.path.join(root, "test", "checks")
    for check in sorted(os.listdir(base)):
        d = os.path.join(base, check)
        for f in sorted(os.listdir(d)):
            if f.startswith("failure"):
                yield Fixture("polaris", check, os.path.join(d, f), None, True)
            elif f.startswith("success"):
                yield Fixture("polaris", check, os.path.join(d, f), None, False)


def kube_linter(root):
    bats = open(os.path.join(root, "e2etests", "bats-tests.sh"), encoding="utf-8").read()
    seen = set()
    for block in re.split(r"(?m)^@test ", bats)[1:]:
        tmp = re.search(r'tmp="([^"]+)"', block)
        cmd = re.search(r'cmd="([^"]+)"', block)
        if not tmp or not cmd or "--config" in cmd.group(1):
            continue
        inc = re.search(r"--include\s+(\S+)", cmd.group(1))
        if not inc or (inc.group(1), tmp.group(1)) in seen:
            continue
        check = inc.group(1)
        seen.add((check, tmp.group(1)))
        path = os.path.join(root, tmp.group(1))
        with_name = "K8sObject.Name" in block
        # [[ "${message1}" == "Deployment: container ..." ]] or, with the name, "Deployment app1: ..."
        expected = []
        # the head of the message, up to its first colon (the rest may hold unescaped quotes)
        objects = yaml_objects(path)
        for m in re.finditer(r'\[\[ "\$\{(?:message\d+|actual_messages\[\d+\])\}" (?:==|=~) "([^:"]*):(.*)$', block, re.M):
            head = m.group(1).split()
            if not head:
                continue
            name = head[1] if with_name and len(head) > 1 else None
            if name is None:
                # a message that quotes the name of one object of its kind is about that one
                quoted = set(re.findall(r'\\"([^"\\]+)\\"', m.group(2)))
                named = {n for k, n, _ in objects if k == head[0] and n in quoted}
                name = named.pop() if len(named) == 1 else None
            expected.append((head[0], name))
        fail = set()
        per_kind = collections.Counter(k for k, n in expected if n is None)
        for kind, name in expected:
            if name is not None:
                fail.add((kind, name))
        groups = []
        for kind, count in per_kind.items():
            candidates = [(k, n) for k, n, _ in objects if k == kind and not passing_name(n)]
            if len(candidates) <= count:
                fail.update(candidates)
            else:
                # More candidates than reports (one fixture passes without saying so in its
                # name): `count` of them fail, and ours hits as many as it fires on.
                fail.update(candidates)
                groups.append((candidates, count))
        grouped = {c for cands, _ in groups for c in cands}
        for obj in sorted(fail - grouped, key=str):
            yield Fixture("kube-linter", check, path, obj, True)
        for cands, count in groups:
            for rank in range(count):
                yield Fixture("kube-linter", check, path, ("any of", tuple(cands), rank), True)
        for k, n, _ in objects:
            if passing_name(n) and (k, n) not in fail:
                yield Fixture("kube-linter", check, path, (k, n), False)


def kube_score(root):
    base = os.path.join(root, "score")
    call = re.compile(r'testExpectedScore\(\s*t,\s*"([^"]+)",\s*"([^"]+)",\s*scorecard\.Grade(\w+)\s*\)')
    seen = set()
    for f in sorted(os.listdir(base)):
        if not f.endswith("_test.go"):
            continue
        for m in call.finditer(open(os.path.join(base, f), encoding="utf-8").read()):
            file, check, grade = m.groups()
            if (file, check) in seen:
                continue
            seen.add((file, check))
            path = os.path.join(base, "testdata", file)
            yield Fixture("kube-score", check, path, None, grade in ("Critical", "Warning"))


def checkov(root, flags):
    base = os.path.join(root, "tests", "kubernetes", "checks")
    for f in sorted(os.listdir(base)):
        m = re.match(r"test_(\w+)\.py$", f)
        if not m:
            continue
        text = open(os.path.join(base, f), encoding="utf-8").read()
        d = re.search(r'"/?(example_\w+)"', text)
        if not d or not os.path.isdir(os.path.join(base, d.group(1))):
            continue
        check, d = m.group(1), os.path.join(base, d.group(1))

        def resources(*names):
            for var in names:
                r = re.search(r"\b" + var + r"\s*=\s*[\[{]([^\]}]*)[\]}]", text)
                if r:
                    return set(re.findall(r"['\"]([^'\"]+)['\"]", r.group(1)))
            return None

        failing = resources("failing_resources", "expected_failed_resources")
        passing = resources("passing_resources", "expected_passed_resources")
        fixtures = []
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if not re.search(r"\.(ya?ml|json)$", name):
                continue
            if failing is not None or passing is not None:
                for kind, oname, ns in yaml_objects(path):
                    key = "%s.%s.%s" % (kind, ns or "default", oname)
                    if failing and key in failing:
                        fixtures.append(Fixture("checkov", check, path, (kind, oname), True))
                    elif passing and key in passing:
                        fixtures.append(Fixture("checkov", check, path, (kind, oname), False))
                continue
            low = name.lower()
            failed, passed = "fail" in low, "pass" in low
            if failed != passed:
                fixtures.append(Fixture("checkov", check, path, None, failed))
        want = {}
        for key in ("failed", "passed"):
            n = re.search(r"summary\[['\"]%s['\"]\],\s*(\d+)" % key, text)
            if n:
                want[key] = int(n.group(1))
        got = {"failed": sum(x.fail for x in fixtures), "passed": sum(not x.fail for x in fixtures)}
        if any(want.get(k, got[k]) != got[k] for k in got):
            flags[("checkov", check)] = "test counts failed=%s passed=%s, file names give failed=%d passed=%d" % (
                want.get("failed", "?"),
                want.get("passed", "?"),
                got["failed"],
                got["passed"],
            )
        yield from fixtures


# --- documented design differences ------------------------------------------------------------

DIFFERENCES_HEADING = "### Design differences from the peers"


def differences(path):
    """The rows of the table under DIFFERENCES_HEADING in docs/checks.md:
    | peer | peer check | fixtures | verdict | reason |, the fixtures as `glob`s (relative to the
    peer's directory, with ` Kind/name` for one object), verdict `miss` (ours stays silent on a
    should-fail fixture) or `pass` (ours fires on a should-pass one)."""
    rows = []
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        return rows
    inside = False
    for line in lines:
        if line.startswith("#"):
            inside = line.strip() == DIFFERENCES_HEADING
            continue
        if not inside or not line.startswith("|") or line.startswith("|---"):
            continue
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cols) != 5 or cols[0] == "peer":
            continue
        peer, checks, globs, verdict, reason = cols
        rows.append({
            "peer": peer,
            "checks": set(re.findall(r"`([^`]+)`", checks)),
            "globs": re.findall(r"`([^`]+)`", globs),
            "verdict": verdict,
            "reason": reason,
        })
    return rows


def documented(rows, x, key):
    for r in rows:
        if r["peer"] == x.peer and x.check in r["checks"] and r["verdict"] == ("miss" if x.fail else "pass"):
            if any(fnmatch.fnmatchcase(key, g) for g in r["globs"]):
                return r
    return None


# --- running ours ---------------------------------------------------------------------------------


def run_ours(binary, path, extra):
    p = subprocess.run([binary, "check", "-o", "json", *extra, path], capture_output=True, text=True)
    try:
        report = json.loads(p.stdout)
    except ValueError:
        return None, (p.stderr.strip().splitlines() or ["exit %d, no JSON" % p.returncode])[-1]
    fired = set()
    for f in report.get("findings", []):
        if f.get("exempted"):
            continue
        o = f.get("object") or {}
        fired.add((f.get("check"), o.get("kind"), o.get("name") or ""))
    return fired, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("peers_dir", nargs="?", default=os.environ.get("PEERS_DIR"))
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--bin", default=os.environ.get("BENCH_BIN"))
    ap.add_argument("--map", default=os.path.join(here, "peers-map.tsv"))
    ap.add_argument("--json", help="also write the figures and misses as JSON to this file")
    ap.add_argument("--misses", action="store_true", help="list every miss and should-pass fire")
    ap.add_argument("--docs", default=os.path.join(os.path.dirname(here), "docs", "checks.md"),
                    help="where the documented design differences are (default docs/checks.md)")
    ap.add_argument("--arg", action="append", default=[], help="extra argument to `check` (repeatable)")
    args = ap.parse_args()
    if not args.peers_dir or not os.path.isdir(args.peers_dir):
        ap.error("give PEERS_DIR (argument or environment): a directory with kube-linter/ polaris/ ...")
    if not args.bin:
        root = os.path.dirname(here)
        for c in ("target/release/kubectl-nixernetes", "target/debug/kubectl-nixernetes"):
            if os.access(os.path.join(root, c), os.X_OK):
                args.bin = os.path.join(root, c)
                break
    if not args.bin or not os.access(args.bin, os.X_OK):
        ap.error("no binary: set BENCH_BIN or build target/debug/kubectl-nixernetes")

    mapping = {}
    for line in open(args.map, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        cols = line.rstrip("\n").split("\t")
        if len(cols) < 3:
            ap.error("%s: expected peer<TAB>check<TAB>ours[<TAB>note]: %r" % (args.map, line))
        mapping[(cols[0], cols[1])] = set(cols[2].split(","))

    flags = {}
    readers = {"polaris": polaris, "kube-linter": kube_linter, "kube-score": kube_score}
    fixtures = []
    for peer in PEERS:
        root = os.path.join(args.peers_dir, peer)
        if not os.path.isdir(root):
            print("%s: not in %s, skipped" % (peer, args.peers_dir), file=sys.stderr)
            continue
        found = list(checkov(root, flags) if peer == "checkov" else readers[peer](root))
        fixtures += [x for x in found if (peer, x.check) in mapping]
        unmapped = sorted({x.check for x in found if (peer, x.check) not in mapping})
        print("%s: %d checks with fixtures, %d mapped to ours" % (peer, len(unmapped) + len({x.check for x in found if (peer, x.check) in mapping}), len({x.check for x in found if (peer, x.check) in mapping})))
    present = [p for p in PEERS if os.path.isdir(os.path.join(args.peers_dir, p))]
    if not present:
        ap.error("%s holds none of %s: see docs/checks.md for how to fetch them" % (args.peers_dir, ", ".join(PEERS)))
    for (peer, check) in sorted(mapping):
        if peer in present and not any(x.peer == peer and x.check == check for x in fixtures):
            print("warning: %s %s is mapped but has no fixture verdicts" % (peer, check), file=sys.stderr)

    paths = sorted({x.path for x in fixtures})
    results, errors = {}, {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for path, (fired, err) in zip(paths, pool.map(lambda p: run_ours(args.bin, p, args.arg), paths)):
            results[path] = fired or set()
            if err:
                errors[path] = err

    refs = {}

    def fires(x):
        ours = mapping[(x.peer, x.check)]
        hit = {(k, n) for c, k, n in results[x.path] if c in ours}
        # a binding is hit when ours fires on the role it binds, in the same file
        hit |= {b for b, role in refs.setdefault(x.path, role_refs(x.path)).items() if role in hit}
        if x.obj is None:
            return bool(hit)
        if x.obj[0] == "any of":
            # the rank-th of the candidates kube-linter reports: hit if ours fires on more
            return len(hit & {(k, n or "") for k, n in x.obj[1]}) > x.obj[2]
        return (x.obj[0], x.obj[1] or "") in hit

    rel = lambda p: os.path.relpath(p, args.peers_dir)
    rows = differences(args.docs)
    # per check: should-fail fixtures, hits, documented misses; should-pass fixtures, fires on
    # them, documented fires; and the undocumented ones listed
    per_check = collections.OrderedDict()
    used = set()
    for x in fixtures:
        s = per_check.setdefault((x.peer, x.check), {
            "fail": 0, "hit": 0, "excused": 0, "pass": 0, "false": 0, "explained": 0,
            "misses": [], "fp": [], "documented": []})
        if x.obj is None:
            obj = ""
        elif x.obj[0] == "any of":
            obj = " %d of %s" % (x.obj[2] + 1, " ".join("%s/%s" % c for c in x.obj[1]))
        else:
            obj = " %s/%s" % (x.obj[0], x.obj[1] or "(no name)")
        where = rel(x.path) + obj
        key = os.path.relpath(x.path, os.path.join(args.peers_dir, x.peer)) + obj
        hit = fires(x)
        s["fail" if x.fail else "pass"] += 1
        if x.fail and hit:
            s["hit"] += 1
        elif hit or x.fail:
            row = documented(rows, x, key)
            if row:
                used.add(id(row))
                s["excused" if x.fail else "explained"] += 1
                s["documented"].append(("miss " if x.fail else "pass ") + where + "  [" + row["reason"] + "]")
            if not x.fail:
                s["false"] += 1
            if not row:
                s["misses" if x.fail else "fp"].append(where)

    print("\n%-12s %-42s %-44s %9s %6s %8s %6s" % ("peer", "check", "ours", "recall", "design", "pass-hit", "listed"))
    totals = collections.OrderedDict((p, collections.Counter()) for p in PEERS)
    for (peer, check), s in sorted(per_check.items()):
        totals[peer].update({k: v for k, v in s.items() if isinstance(v, int)})
        print("%-12s %-42s %-44s %4d/%-4d %6d %3d/%-4d %6d%s" % (
            peer, check[:42], ",".join(sorted(mapping[(peer, check)]))[:44], s["hit"], s["fail"],
            s["excused"], s["false"], s["pass"], s["explained"],
            "  (!) " + flags[(peer, check)] if (peer, check) in flags else ""))
    print("\nrecall: should-fail fixtures where ours fires; net: not counting the documented design")
    print("differences (docs/checks.md); should-pass: fixtures where ours fires, and how many of those")
    print("have their reason listed there.\n")
    overall = collections.Counter()

    def line(name, t):
        net = t["fail"] - t["excused"]
        print("%-12s recall %4d/%-4d = %5.1f%%   net %4d/%-4d = %5.1f%%   fires on should-pass %d/%d (%d listed)" % (
            name, t["hit"], t["fail"], 100.0 * t["hit"] / max(t["fail"], 1), t["hit"], net,
            100.0 * t["hit"] / max(net, 1), t["false"], t["pass"], t["explained"]))

    for peer, t in totals.items():
        if t["fail"] or t["pass"]:
            line(peer, t)
            overall.update(t)
    line("overall", overall)
    if args.misses:
        print()
        for (peer, check), s in sorted(per_check.items()):
            for m in s["misses"]:
                print("miss  %-12s %-40s %s" % (peer, check, m))
            for m in s["fp"]:
                print("pass  %-12s %-40s %s" % (peer, check, m))
        for (peer, check), s in sorted(per_check.items()):
            for m in s["documented"]:
                print("doc   %-12s %-40s %s" % (peer, check, m))
    for r in rows:
        if id(r) not in used and r["peer"] in present:
            print("warning: %s: a design difference matches no fixture: %s %s %s" % (
                args.docs, r["peer"], sorted(r["checks"]), r["globs"]), file=sys.stderr)
    for path, err in sorted(errors.items()):
        print("error: %s: %s" % (rel(path), err), file=sys.stderr)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({
                "checks": [dict(peer=p, check=c, ours=sorted(mapping[(p, c)]), **s) for (p, c), s in sorted(per_check.items())],
                "peers": {p: dict(t) for p, t in totals.items()},
                "overall": dict(overall),
                "flags": {"%s %s" % k: v for k, v in flags.items()},
            }, out, indent=1, sort_keys=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
