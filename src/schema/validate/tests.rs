//! Tests of `validate`: exact problem lists for specs shaped like the real ones, the wording
//! rules (no Rust, quoting hints, one message per cause), and odd schemas that must not panic.

use super::*;
use crate::schema::test_specs::{web_app_schema, WebAppSpec};
use serde_json::json;

/// The problems as `(path, message)` pairs, for exact comparison.
fn problems(doc: &Value) -> Vec<(String, String)> {
    validate(&web_app_schema(), doc)
        .into_iter()
        .map(|p| (p.path, p.message))
        .collect()
}

/// The problems of `value` against `schema` as `path: message` lines.
fn messages(schema: &Value, value: Value) -> Vec<String> {
    validate(schema, &value)
        .into_iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect()
}

/// A valid `WebApp` with every field set, as YAML would give it.
fn good() -> Value {
    json!({
        "apiVersion": "nixernetes.io/v1alpha1",
        "kind": "WebApp",
        "metadata": {
            "name": "shop",
            "namespace": "web",
            "labels": {"app.kubernetes.io/name": "shop"},
            "uid": "not ours, but metadata stays open",
        },
        "spec": {
            "image": "nginx:1.27",
            "replicas": 3,
            "ports": [{"name": "http", "port": 8080}, {"port": 9090, "protocol": "UDP"}],
            "probes": {
                "readiness": {"path": "/healthz", "port": "http"},
                "liveness": {"path": "/live", "port": 8080, "periodSeconds": 5},
                "startup": null,
            },
            "enforcement": "audit",
            "env": {"A": "1"},
            "hosts": ["shop.example.com"],
            "kubernetesVersion": "1.35",
            "scaling": {"minReplicas": 2, "maxReplicas": 5, "targetCpuPercent": 70},
            "expose": true,
            "labels": {"team": "web"},
            "annotations": {"owner": "web@example.com"},
        },
    })
}

#[test]
fn a_valid_document_has_no_problems_and_serde_agrees() {
    assert_eq!(problems(&good()), pairs(&[]));
    let mut spec = good()["spec"].clone();
    let map = spec.as_object_mut().unwrap();
    map.remove("labels");
    map.remove("annotations");
    let spec: WebAppSpec = serde_json::from_value(spec).unwrap();
    assert_eq!(spec.replicas, 3);
}

#[test]
fn the_smallest_valid_document() {
    let doc = json!({
        "apiVersion": "nixernetes.io/v1alpha1",
        "kind": "WebApp",
        "metadata": {"name": "shop"},
        "spec": {"image": "nginx"},
    });
    assert_eq!(problems(&doc), pairs(&[]));
}

#[test]
fn every_problem_is_reported_once_in_yaml_terms() {
    let doc = json!({
        "apiVersion": "nixernetes.io/v1",
        "kind": "WebApp",
        "metadata": {"name": "shop", "labels": {"app.kubernetes.io/name": 3}},
        "spec": {
            "imgae": "nginx",
            "replica": 3,
            "ports": [
                {"port": 8080, "protocol": "tcp"},
                {"port": 70000, "name": 80},
            ],
            "probes": {
                "readiness": {"path": "/healthz", "port": 1.5},
                "liveness": ["/live"],
                "startup": {"port": 8080},
            },
            "enforcement": "strict",
            "env": {"A": 1},
            "hosts": "shop.example.com",
            "kubernetesVersion": 1.35,
            "scaling": {"minReplicas": -1, "maxReplicas": 5, "targetCpuPercent": 0},
            "expose": "yes",
            "labels": {"app.kubernetes.io/name": true},
            "annotations": {"note": false},
        },
    });
    assert_eq!(
        problems(&doc),
        pairs(&[
            ("apiVersion", "expected `nixernetes.io/v1alpha1`, found `nixernetes.io/v1`"),
            (
                "metadata.labels.app.kubernetes.io/name",
                "expected a string (quote it: `\"3\"`), found `3`"
            ),
            ("spec.imgae", "unknown field `imgae`: did you mean `image`?"),
            ("spec.replica", "unknown field `replica`: did you mean `replicas`?"),
            (
                "spec.ports[0].protocol",
                "expected one of `TCP`, `UDP`, found `tcp`: did you mean `TCP`?"
            ),
            (
                "spec.ports[1].port",
                "expected an integer from 0 to 65535, found `70000`"
            ),
            (
                "spec.ports[1].name",
                "expected a string (quote it: `\"80\"`), found `80`"
            ),
            (
                "spec.probes.readiness.port",
                "expected an integer or a string (quote it: `\"1.5\"`), found `1.5`"
            ),
            (
                "spec.probes.liveness",
                "expected a mapping with the fields path, port, periodSeconds, found a list"
            ),
            ("spec.probes.startup.path", "required field is missing"),
            (
                "spec.enforcement",
                "expected one of `enforce`, `audit`, `\"off\"`, found `strict`"
            ),
            ("spec.env.A", "expected a string (quote it: `\"1\"`), found `1`"),
            (
                "spec.hosts",
                "expected a list of strings, found `shop.example.com`"
            ),
            (
                "spec.kubernetesVersion",
                "expected a string (quote it: `\"1.35\"`), found `1.35`"
            ),
            (
                "spec.scaling.minReplicas",
                "expected an integer from 0 to 4294967295, found `-1`"
            ),
            (
                "spec.scaling.targetCpuPercent",
                "expected an integer from 1 to 100, found `0`"
            ),
            ("spec.expose", "expected true or false, found `\"yes\"`"),
            (
                "spec.labels.app.kubernetes.io/name",
                "expected a string (quote it: YAML reads unquoted yes, on, y and true as true), found `true`"
            ),
            (
                "spec.annotations.note",
                "expected a string (quote it: YAML reads unquoted no, off, n and false as false), found `false`"
            ),
        ])
    );
}

#[test]
fn a_wrong_typed_mapping_does_not_also_report_its_fields() {
    let mut doc = good();
    doc["spec"]["probes"] = json!(["readiness"]);
    doc["spec"]["scaling"] = json!("auto");
    assert_eq!(
        problems(&doc),
        pairs(&[
            (
                "spec.probes",
                "expected a mapping with the fields readiness, liveness, startup, found a list"
            ),
            (
                "spec.scaling",
                "expected a mapping with the fields minReplicas, maxReplicas, targetCpuPercent, found `auto`"
            ),
        ])
    );
}

#[test]
fn the_document_itself_and_its_envelope() {
    assert_eq!(
        problems(&json!(["a"])),
        pairs(&[(
            "",
            "expected a mapping with the fields apiVersion, kind, metadata, spec, found a list"
        )])
    );
    let doc = json!({"apiVersion": "nixernetes.io/v1alpha1", "kind": "WebAp", "specs": {}});
    assert_eq!(
        problems(&doc),
        pairs(&[
            ("kind", "expected `WebApp`, found `WebAp`"),
            ("specs", "unknown field `specs`: did you mean `spec`?"),
            ("metadata", "required field is missing"),
        ])
    );
    let doc = json!({
        "apiVersion": "nixernetes.io/v1alpha1",
        "kind": "WebApp",
        "metadata": {"namespace": 7},
        "spec": {"image": "nginx", "foo": 1},
        "status": {},
    });
    assert_eq!(
        problems(&doc),
        pairs(&[
            (
                "metadata.namespace",
                "expected a string (quote it: `\"7\"`), found `7`"
            ),
            ("metadata.name", "required field is missing"),
            (
                "spec.foo",
                "unknown field `foo`: expected one of `image`, `replicas`, `ports`, `probes`, \
                 `enforcement`, `env`, `hosts`, `kubernetesVersion`, `scaling`, `expose`, \
                 `labels`, `annotations`"
            ),
            (
                "status",
                "unknown field `status`: expected one of `apiVersion`, `kind`, `metadata`, `spec`"
            ),
        ])
    );
}

#[test]
fn empty_values_and_wrong_scalars() {
    let mut doc = good();
    doc["spec"]["replicas"] = Value::Null;
    doc["spec"]["ports"] = Value::Null;
    doc["spec"]["image"] = json!({});
    doc["spec"]["hosts"] = json!([1, "b", null]);
    doc["spec"]["probes"]["readiness"]["port"] = json!(true);
    doc["spec"]["probes"]["liveness"]["periodSeconds"] = json!(2.5);
    doc["spec"]["probes"]["liveness"]["port"] = json!(3_000_000_000u64);
    assert_eq!(
        problems(&doc),
        pairs(&[
            ("spec.image", "expected a string, found an empty mapping"),
            ("spec.replicas", "expected an integer, found an empty value"),
            ("spec.ports", "expected a list of mappings, found an empty value"),
            (
                "spec.probes.readiness.port",
                "expected an integer or a string (quote it: YAML reads unquoted yes, on, y and true as true), found `true`"
            ),
            (
                "spec.probes.liveness.port",
                "expected an integer from -2147483648 to 2147483647, found `3000000000`"
            ),
            (
                "spec.probes.liveness.periodSeconds",
                "expected an integer, found `2.5`"
            ),
            (
                "spec.hosts[0]",
                "expected a string (quote it: `\"1\"`), found `1`"
            ),
            ("spec.hosts[2]", "expected a string, found an empty value"),
        ])
    );
}

#[test]
fn enums_quote_what_yaml_would_misread() {
    let schema = json!({
        "type": "object",
        "properties": {
            "version": {"type": "string", "enum": ["1.31", "1.32"]},
            "mode": {"anyOf": [{"$ref": "#/$defs/Mode"}, {"type": "null"}]},
        },
        "$defs": {"Mode": {"type": "string", "enum": ["on", "off", ""]}},
    });
    let got = |v: Value| messages(&schema, v);
    assert_eq!(
        got(json!({"version": 1.32})),
        ["version: expected one of `\"1.31\"`, `\"1.32\"` (quote it: `\"1.32\"`), found `1.32`"]
    );
    assert_eq!(
        got(json!({"version": "1.33"})),
        ["version: expected one of `\"1.31\"`, `\"1.32\"`, found `\"1.33\"`"]
    );
    assert_eq!(
        got(json!({"mode": true})),
        ["mode: expected one of `\"on\"`, `\"off\"`, `\"\"` (quote it: `\"on\"`), found `true`"]
    );
    assert_eq!(got(json!({"mode": null})), Vec::<String>::new());
    assert_eq!(got(json!({"mode": "of"})), ["mode: expected one of `\"on\"`, `\"off\"`, `\"\"`, found `of`: did you mean `\"on\"` or `\"off\"`?"]);
}

#[test]
fn paths_can_start_below_the_document() {
    let spec =
        crate::schema::spec_schema(<WebAppSpec as schemars::JsonSchema>::json_schema).to_value();
    let got = validate_at(
        &spec,
        &json!({"image": "x", "ports": [{"port": 0.5}]}),
        "spec",
    );
    assert_eq!(
        got,
        [Problem {
            path: "spec.ports[0].port".into(),
            message: "expected an integer, found `0.5`".into(),
        }]
    );
}

#[test]
fn ranges_lengths_and_counts() {
    let schema = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "step": {"type": "integer", "multipleOf": 5},
            "tiny": {"type": "integer", "format": "int8"},
            "big": {"type": "integer", "format": "uint64"},
            "name": {"type": "string", "minLength": 2, "maxLength": 3},
            "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "minItems": 2, "maxItems": 2},
            "some": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 1},
            "old": {"type": "number", "minimum": 0, "exclusiveMinimum": true},
        },
    });
    let got = |v: Value| messages(&schema, v);
    assert_eq!(
        got(json!({
            "ratio": 0, "step": 7, "tiny": 200, "big": -1, "name": "abcd",
            "pair": ["a", "b", "c"], "some": [], "tags": {"a": "x", "b": "y"}, "old": 0,
        })),
        [
            "ratio: expected a number greater than 0 and at most 1, found `0`",
            "step: expected a multiple of 5, found `7`",
            "tiny: expected an integer from -128 to 127, found `200`",
            "big: expected an integer from 0 to 18446744073709551615, found `-1`",
            "name: expected a string of at most 3 characters, found 4 characters",
            "pair[1]: expected an integer, found `b`",
            "pair: expected a list of at most 2 items, found 3 items",
            "some: expected a list of at least 1 item, found an empty list",
            "tags: expected a mapping of at most 1 entry, found 2 entries",
            "old: expected a number greater than 0, found `0`",
        ]
    );
    assert_eq!(
        got(
            json!({"ratio": 1, "step": 10, "tiny": -128, "big": 18446744073709551615u64, "name": "ab", "pair": ["a", 1], "some": [1], "old": 0.1})
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        got(json!({"name": ""})),
        ["name: expected a string of at least 2 characters, found an empty string"]
    );
}

#[test]
fn untagged_struct_alternatives_report_the_closest_one() {
    let schema = json!({
        "type": "object",
        "properties": {
            "source": {"anyOf": [
                {"type": "object", "additionalProperties": false, "properties": {"configMap": {"type": "string"}}, "required": ["configMap"]},
                {"type": "object", "additionalProperties": false, "properties": {"secret": {"type": "string"}, "key": {"type": "string"}}, "required": ["secret", "key"]},
                {"type": "string"},
            ]},
        },
    });
    let got = |v: Value| messages(&schema, v);
    assert_eq!(
        got(json!({"source": {"secret": "db"}})),
        ["source.key: required field is missing"]
    );
    assert_eq!(
        got(json!({"source": {"configmap": "app"}})),
        ["source.configmap: unknown field `configmap`: did you mean `configMap`?"]
    );
    assert_eq!(
        got(json!({"source": 5})),
        ["source: expected a mapping with the fields configMap, a mapping with the fields secret, key or a string (quote it: `\"5\"`), found `5`"]
    );
    assert_eq!(got(json!({"source": "inline"})), Vec::<String>::new());
}

#[test]
fn messages_carry_no_rust() {
    let doc = json!({
        "apiVersion": 1,
        "kind": [],
        "metadata": "x",
        "spec": {"image": 1, "replicas": "x", "ports": {}, "probes": 1, "enforcement": 1,
                 "env": [], "hosts": {}, "kubernetesVersion": [], "scaling": 1, "expose": 1.5},
    });
    let all = validate(&web_app_schema(), &doc);
    assert_eq!(all.len(), 13, "{all:#?}");
    for p in &all {
        for word in [
            "i32",
            "u32",
            "u16",
            "u8",
            "i64",
            "struct",
            "sequence",
            "map ",
            "floating",
            "IntOrString",
            "Option",
            "Vec",
            "uint",
            "int32",
        ] {
            assert!(!p.message.contains(word), "{p:?} mentions {word}");
        }
    }
}

#[test]
fn odd_schemas_never_panic() {
    let values = [
        json!(null),
        json!(true),
        json!(1),
        json!(-1.5),
        json!("s"),
        json!([1, [2, [3]]]),
        json!({"a": {"b": {"c": []}}}),
        json!(u64::MAX),
        json!(i64::MIN),
    ];
    let schemas = [
        json!(true),
        json!(false),
        json!(3),
        json!("type"),
        json!(null),
        json!([]),
        json!({}),
        json!({"$ref": "#/nowhere"}),
        json!({"$ref": 5}),
        json!({"$ref": "no-fragment"}),
        json!({"$ref": "#"}),
        json!({"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"}),
        json!({"type": "object", "additionalProperties": {"$ref": "#"}}),
        json!({"items": {"$ref": "#"}}),
        json!({"anyOf": [{"$ref": "#"}]}),
        json!({"anyOf": []}),
        json!({"oneOf": [true, false]}),
        json!({"anyOf": [{"type": "null"}]}),
        json!({"anyOf": "x", "allOf": 3, "oneOf": {}}),
        json!({"type": 5, "properties": [], "required": "a", "enum": "x"}),
        json!({"type": ["integer", 7], "minimum": "0", "maximum": [], "format": 7}),
        json!({"type": "integer", "format": "int32", "minimum": 1e300, "exclusiveMaximum": -1e300}),
        json!({"type": "number", "multipleOf": 0}),
        json!({"type": "object", "additionalProperties": false, "required": ["a", "a"]}),
        json!({"type": "array", "prefixItems": [false], "items": false, "additionalItems": false}),
        json!({"enum": []}),
        json!({"const": null}),
        json!({"type": "string", "minLength": -1, "maxLength": 1e10}),
        json!({"type": "strange"}),
    ];
    for schema in &schemas {
        for value in &values {
            let _ = validate(schema, value);
        }
    }
    // A value nested deeper than any schema walk goes.
    let mut deep = json!(1);
    for _ in 0..400 {
        deep = json!({"a": deep});
    }
    let _ = validate(
        &json!({"additionalProperties": {"$ref": "#"}, "type": "object"}),
        &deep,
    );
}
