#!/usr/bin/env python3
"""Pass-through fidelity on manifests of your choosing (issue 15, items 3 and 7), measured by
kubectl itself: for every YAML or JSON file under the given paths, what
`kubectl label --local -o json` reads from the output of `render FILE` and of `fn` (the file's
documents as the items of a ResourceList) equals what it reads from the file, but for the
labels and annotations the tool injects. tests/it/fidelity.rs does the same on a small corpus
of our own; this script is for public manifests, which are not committed:

    git clone --depth 1 https://github.com/argoproj/argo-cd /tmp/m/argo-cd
    benches/fidelity.py /tmp/m/argo-cd/manifests/install.yaml /tmp/m/kube-prometheus/manifests

Per file it prints one line when something is not equal: a difference (the object and the
first differing path), an object missing from the output, or a file we refuse that kubectl
reads (with our first error line; these are for a person to judge: a Go-reader difference we
refuse on purpose, or a bug). A file kubectl refuses counts as unreadable; we must refuse it
too. A summary follows; exit 1 when any difference or missing object was found. Needs kubectl
on PATH and the release binary (or BENCH_BIN). Files holding `{{` (Helm or Go templates) are
left out.
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BENCH_BIN", os.path.join(ROOT, "target/release/kubectl-nixernetes"))
# src/engine/inject.rs: the keys the tool adds to labels and annotations.
INJECTED = {
    "app.kubernetes.io/managed-by", "nixernetes.io/version", "nixernetes.io/framework",
    "nixernetes.io/module", "nixernetes.io/inventory", "nixernetes.io/created-by",
    "nixernetes.io/created-at", "nixernetes.io/source",
}


def kubectl_reads(path):
    """Each object kubectl reads from path (Lists flattened), or kubectl's error text."""
    out = subprocess.run(["kubectl", "label", "--local", "-o", "json", "fidelity-check-", "-f",
                          path], capture_output=True, text=True)
    if out.returncode != 0:
        return None, out.stderr.strip().splitlines()[-1:] or ["(no message)"]
    objects, decoder, text, at = [], json.JSONDecoder(), out.stdout, 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            break
        v, at = decoder.raw_decode(text, at)
        if isinstance(v.get("items"), list) and str(v.get("kind", "")).endswith("List"):
            objects.extend(v["items"])
        else:
            objects.append(v)
    return objects, None


def identity(v):
    m = v.get("metadata") or {}
    return (v.get("apiVersion"), v.get("kind"), m.get("namespace"), m.get("name"))


def strip_injected(out, inp):
    """Removes from out what the tool injected where inp (the same place) has nothing."""
    if isinstance(out, dict):
        for k in list(out):
            i = inp.get(k) if isinstance(inp, dict) else None
            child = out[k]
            if k in ("labels", "annotations") and isinstance(child, dict):
                for ik in list(child):
                    if ik in INJECTED and not (isinstance(i, dict) and ik in i):
                        del child[ik]
            strip_injected(child, i)
            if out[k] == {} and i is None:
                del out[k]
    elif isinstance(out, list):
        for n, item in enumerate(out):
            strip_injected(item, inp[n] if isinstance(inp, list) and n < len(inp) else None)


def without_null_metadata(v, metadata=False):
    """v without `labels: null` and `annotations: null` in object metadata (Helm writes
    `annotations:` with nothing under it): the API server reads them as none, and the tool
    writes its own there."""
    if isinstance(v, dict):
        return {k: without_null_metadata(x, k == "metadata") for k, x in v.items()
                if not (metadata and k in ("labels", "annotations") and x is None)}
    if isinstance(v, list):
        return [without_null_metadata(x) for x in v]
    return v


def first_difference(a, b, path=""):
    if type(a) is not type(b):
        return path or "/"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}/{k}"
            d = first_difference(a[k], b[k], f"{path}/{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path} (length)"
        for n, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}/{n}")
            if d:
                return d
        return None
    return None if a == b else (path or "/")


def resource_list(text):
    """The documents of a file as the items of a ResourceList, their text kept as written (each
    document's lines indented under `- `; leading comments, blank lines and `---` dropped)."""
    out = ["apiVersion: config.kubernetes.io/v1", "kind: ResourceList", "items:"]
    docs, doc = [], []
    for line in text.split("\n"):
        if line == "---" or line.startswith(("--- ", "---\t")):
            docs.append(doc)
            doc = []
        elif line.rstrip() == "...":
            # The end of a document: what follows up to `---` is not part of it.
            docs.append(doc)
            doc = []
        else:
            doc.append(line)
    docs.append(doc)
    for body in (item for doc in docs for item in list_items(doc)):
        while body and (not body[0].strip() or body[0].lstrip().startswith("#")):
            body.pop(0)
        while body and not body[-1].strip():
            body.pop()
        if not body:
            continue
        out.append("- " + body[0])
        out.extend(("  " + l) if l else l for l in body[1:])
    return "\n".join(out) + "\n"


def list_items(body):
    """A List document (`kind: ...List` and `items:` at column 0) as the text of its items, as
    kustomize flattens Lists before it runs a function (one body per item); any other
    document as it is."""
    if not any(l.startswith("kind: ") and l.rstrip().endswith("List") for l in body):
        return [body]
    if "items:" not in [l.rstrip() for l in body]:
        return [body]
    at = [l.rstrip() for l in body].index("items:") + 1
    items = []
    for l in body[at:]:
        if l and not l.startswith((" ", "-", "#")):
            break
        items.append(l)
    indent = min((len(l) - len(l.lstrip()) for l in items if l.lstrip().startswith("- ")),
                 default=0)
    out = []
    for l in items:
        if l.lstrip().startswith("- ") and len(l) - len(l.lstrip()) == indent:
            out.append([])
        if out:
            out[-1].append(l[indent + 2:])
    return out


def run(cmd, stdin=None):
    return subprocess.run(cmd, input=stdin, capture_output=True)


def compare(name, mode, before, after, report):
    """Differences between kubectl's two readings; returns the number of objects compared."""
    bad = 0
    if len(after) != len(before):
        report.append(f"{name} ({mode}): kubectl reads {len(before)} objects from the input, "
                      f"{len(after)} from the output")
        bad += 1
    by_id = {}
    for a in after:
        by_id.setdefault(identity(a), a)
    compared = 0
    for b in before:
        a = by_id.get(identity(b))
        if a is None:
            report.append(f"{name} ({mode}): {'/'.join(map(str, identity(b)))} is missing")
            bad += 1
            continue
        a, b = without_null_metadata(a), without_null_metadata(b)
        strip_injected(a, b)
        compared += 1
        d = first_difference(b, a)
        if d:
            report.append(f"{name} ({mode}): {'/'.join(map(str, identity(b)))} differs at {d}")
            bad += 1
    return compared, bad


def read_back(path, mode, output, before, tmp, totals, report):
    """Compares kubectl's reading of output (made by mode from path) with before."""
    out = os.path.join(tmp, f"{mode}.yaml")
    with open(out, "wb") as f:
        f.write(output)
    after, err = kubectl_reads(out)
    if after is None:
        report.append(f"{path} ({mode}): kubectl cannot read the output: {err[0]}")
        totals["differences"] += 1
        return
    n, bad = compare(path, mode, before, after, report)
    totals[mode] += n
    totals["differences"] += bad


def files(paths):
    for p in paths:
        if os.path.isfile(p):
            yield p
            continue
        for d, dirs, names in os.walk(p):
            dirs.sort()
            for n in sorted(names):
                if n.endswith((".yaml", ".yml", ".json")):
                    yield os.path.join(d, n)


def main(paths):
    if not paths:
        sys.exit(__doc__)
    totals = dict(files=0, templates=0, objects=0, render=0, fn=0, differences=0,
                  unreadable=0, unreadable_passed=0, refused=0, empty=0)
    report = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in files(paths):
            text = open(path, encoding="utf-8", errors="replace").read()
            if "{{" in text:
                totals["templates"] += 1
                continue
            totals["files"] += 1
            before, err = kubectl_reads(path)
            ours = run([BIN, "render", path])
            if before is None:
                totals["unreadable"] += 1
                if ours.returncode == 0:
                    totals["unreadable_passed"] += 1
                    report.append(f"{path}: kubectl refuses it ({err[0]}), render passes it")
                continue
            if not before:
                totals["empty"] += 1
                continue
            totals["objects"] += len(before)
            if ours.returncode != 0:
                totals["refused"] += 1
                first = next((l for l in ours.stderr.decode(errors="replace").splitlines()
                              if l.startswith("error")), "(no error line)")
                report.append(f"{path}: render refuses what kubectl reads: {first[:200]}")
                continue
            read_back(path, "render", ours.stdout, before, tmp, totals, report)

            fn = run([BIN, "fn"], resource_list(text).encode())
            if fn.returncode != 0:
                report.append(f"{path} (fn): exit {fn.returncode} where render passed")
                totals["differences"] += 1
                continue
            # As a v1 List, which kubectl reads as its items.
            listed = fn.stdout.replace(b"apiVersion: config.kubernetes.io/v1\n",
                                       b"apiVersion: v1\n", 1)
            listed = listed.replace(b"kind: ResourceList\n", b"kind: List\n", 1)
            read_back(path, "fn", listed, before, tmp, totals, report)
    for line in report:
        print(line)
    print(f"\n{totals['files']} files ({totals['templates']} templates left out, "
          f"{totals['empty']} without objects), {totals['objects']} objects as kubectl reads "
          f"them; compared through render {totals['render']}, through fn {totals['fn']}; "
          f"{totals['differences']} differences or missing objects; render refuses "
          f"{totals['refused']} files kubectl reads; kubectl refuses {totals['unreadable']} "
          f"files, of which render passes {totals['unreadable_passed']}")
    sys.exit(1 if totals["differences"] or totals["unreadable_passed"] else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
