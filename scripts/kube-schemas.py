#!/usr/bin/env python3
"""Generate src/schema/builtin/kubernetes.jsonl: the schema data the built-in `schema` check
validates Kubernetes objects of built-in kinds against, for every minor from 1.31 to 1.37.

Source: the `v1.3x.0-local-strict` JSON Schemas bundled in the PyPI package kubernetes-validate
(Copyright (C) 2018 Will Thames, Apache-2.0), generated from the Kubernetes OpenAPI spec
(Apache-2.0, The Kubernetes Authors).

    pip download --no-deps kubernetes-validate==1.37.0 -d /tmp/kv
    python3 scripts/kube-schemas.py /tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl

What is kept: only what validation reads (type, properties, required, additionalProperties,
items, enum, format, pattern, oneOf/anyOf/allOf/not, numeric and length bounds, const, and the
x-kubernetes-int-or-string / preserve-unknown-fields / embedded-resource extensions);
descriptions, defaults, list and patch metadata are dropped. Definitions are deduplicated across
minors: the file holds each distinct definition once, and each minor maps definition names (and
`apiVersion kind` of its top-level kinds) to them. A `$ref` keeps only the definition name; it
resolves in the minor that reads it.

The layout is JSON Lines, so that the binary finds what it needs by splitting lines and parses
only that (a one-object render must not read 600 KB of JSON):
  line 1          {"about", "license", "minors": ["1.31", ...]}
  line 2          every definition name, sorted (found by binary search)
  next 7 lines    one per minor, in that order: {"defs": [schema number of each name, -1 when
                  the minor lacks it], "kinds": [["apiVersion kind", schema number], ...]}
  every other     one schema per line, numbered from 0

The top-level kinds of a minor are the files whose `properties` give `apiVersion` and `kind` an
`enum` (as ../shared/schemas does); `*list-*` kinds are left out.
"""
import json
import re
import sys
import zipfile

MINORS = list(range(31, 38))
KEEP = {
    "type", "properties", "required", "additionalProperties", "items", "enum", "format",
    "pattern", "oneOf", "anyOf", "allOf", "not", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems", "minProperties",
    "maxProperties", "uniqueItems", "multipleOf", "const", "$ref",
    "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
}
REF = re.compile(r"^(?:/api/_definitions\.json)?#/\$defs/(.+)$")
OUT = "src/schema/builtin/kubernetes.jsonl"


def strip(node):
    if isinstance(node, list):
        return [strip(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k not in KEEP:
            continue
        if k == "properties":
            out[k] = {p: strip(s) for p, s in v.items()}
        elif k == "$ref":
            m = REF.match(v)
            if not m:
                raise SystemExit(f"unexpected $ref {v!r}")
            out[k] = m.group(1)
        elif k in ("enum", "required", "const", "type"):
            out[k] = v
        else:
            out[k] = strip(v)
    return out


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    z = zipfile.ZipFile(sys.argv[1])
    version = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    version = version.split("/")[0].removesuffix(".dist-info")
    defs, index = [], {}

    def intern(schema):
        key = json.dumps(schema, sort_keys=True, separators=(",", ":"))
        if key not in index:
            index[key] = len(defs)
            defs.append(schema)
        return index[key]

    names, name_at = [], {}
    minors = {}
    for m in MINORS:
        base = f"kubernetes_validate/kubernetes-json-schema/v1.{m}.0-local-strict/"
        all_defs = json.loads(z.read(base + "_definitions.json"))["$defs"]
        by_name = {}
        for name in sorted(all_defs):
            if name not in name_at:
                name_at[name] = len(names)
                names.append(name)
            by_name[name_at[name]] = intern(strip(all_defs[name]))
        kinds = {}
        for path in sorted(z.namelist()):
            if not path.startswith(base) or not path.endswith(".json"):
                continue
            fname = path[len(base):]
            if fname in ("_definitions.json", "all.json") or "list-" in fname:
                continue
            schema = json.loads(z.read(path))
            props = schema.get("properties", {})
            av, kd = props.get("apiVersion", {}).get("enum"), props.get("kind", {}).get("enum")
            if not av or not kd:
                continue
            root = intern(strip(schema))
            for a in av:
                for k in kd:
                    kinds[f"{a} {k}"] = root
        minors[f"1.{m}"] = {
            "defs": [by_name.get(i, -1) for i in range(len(names))],
            "kinds": dict(sorted(kinds.items())),
        }
    # Pad every minor's definition list to the final name count.
    for v in minors.values():
        v["defs"] += [-1] * (len(names) - len(v["defs"]))
    doc = {
        "about": (
            f"Generated by scripts/kube-schemas.py from the v1.31-v1.37 local-strict JSON Schemas "
            f"of the PyPI package {version} (Copyright (C) 2018 Will Thames, Apache-2.0), "
            "generated from the Kubernetes OpenAPI spec (Apache-2.0, The Kubernetes Authors). "
            "Do not edit: regenerate."
        ),
        "license": "Apache-2.0",
        "names": names,
        "schemas": defs,
        "minors": minors,
    }
    # Names sorted, so that the binary finds one by binary search; each minor's defs follow.
    order = sorted(range(len(names)), key=lambda i: names[i])
    dump = lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=True)
    with open(OUT, "w", encoding="utf-8") as f:
        header = {k: doc[k] for k in ("about", "license")}
        header["minors"] = list(minors)
        f.write(dump(header) + "\n")
        f.write(dump([names[i] for i in order]) + "\n")
        for v in minors.values():
            f.write(dump({
                "defs": [v["defs"][i] for i in order],
                "kinds": [[k, at] for k, at in v["kinds"].items()],
            }) + "\n")
        for schema in defs:
            f.write(dump(schema) + "\n")
    print(f"{OUT}: {len(defs)} schemas, {len(names)} names, {len(minors)} minors")


if __name__ == "__main__":
    main()
