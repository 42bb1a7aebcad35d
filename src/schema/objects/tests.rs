use super::*;
use serde_json::json;

fn run(dialect: Dialect, schema: Value, value: Value) -> Vec<(String, String)> {
    let mut c = Compiler::new(dialect, |_: &str| None);
    let root = c.resource_root(&schema);
    let mut out = Vec::new();
    let ok = c.compiled.validate(root, &value, "", &mut out);
    assert_eq!(ok, out.is_empty(), "{out:?}");
    assert_eq!(ok, c.compiled.fits(root, &value));
    out.into_iter().map(|v| (v.path, v.message)).collect()
}

#[test]
fn reports_every_violation_with_its_path() {
    let schema = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "spec": {"type": "object", "additionalProperties": false, "required": ["containers"],
                "properties": {
                    "replicas": {"type": "integer", "format": "int32"},
                    "containers": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
                    "policy": {"type": "string", "enum": ["Always", "Never"]},
                    "name": {"type": "string", "pattern": "^[a-z]+$"}
                }}
        }
    });
    let value = json!({"spec": {"replicas": "two", "contianers": [], "policy": "Sometimes", "name": "Web_App"}});
    let got = run(Dialect::JsonSchema, schema, value);
    assert_eq!(
        got,
        vec![
            (
                "spec.replicas".into(),
                "expected an integer, found the string \"two\"".into()
            ),
            (
                "spec.contianers".into(),
                "unknown field `contianers`: did you mean `containers`?".into()
            ),
            (
                "spec.policy".into(),
                "the string \"Sometimes\" is not one of \"Always\" or \"Never\"".into()
            ),
            (
                "spec.name".into(),
                "\"Web_App\" does not match the pattern `^[a-z]+$`".into()
            ),
            (
                "spec.containers".into(),
                "required field `containers` is missing".into()
            ),
        ]
    );
}

#[test]
fn int_or_string_and_formats() {
    let schema = json!({"type": "object", "properties": {
        "port": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "n": {"type": "integer", "format": "int32"},
        "data": {"type": "string", "format": "byte"},
        "f": {"type": "integer"}
    }});
    assert!(run(
        Dialect::JsonSchema,
        schema.clone(),
        json!({"port": 80, "n": 5, "data": "aGk=", "f": 2.0})
    )
    .is_empty());
    let got = run(
        Dialect::JsonSchema,
        schema,
        json!({"port": [1], "n": 3000000000u64, "data": "not base64!"}),
    );
    assert_eq!(
        got[0],
        (
            "port".into(),
            "expected a string or an integer, found a list".into()
        )
    );
    assert!(got[1].1.contains("out of range"), "{got:?}");
    assert!(got[2].1.contains("not base64"), "{got:?}");
}

#[test]
fn crd_dialect_is_strict_where_properties_are_listed() {
    let schema = json!({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "size": {"type": "integer", "minimum": 1, "nullable": true},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"a": {"type": "string"}}},
            "template": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object"}}},
            "port": {"x-kubernetes-int-or-string": true}
        }}
    }});
    let ok = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a"},
        "spec": {"size": null, "free": {"b": 1}, "template": {"apiVersion": "v1", "kind": "Pod", "spec": {}}, "port": "http"}});
    assert!(run(Dialect::Crd, schema.clone(), ok).is_empty());
    let bad = json!({"specs": {}, "spec": {"size": 0, "port": true, "sise": 1}});
    let got = run(Dialect::Crd, schema, bad);
    let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["specs", "spec.size", "spec.port", "spec.sise"],
        "{got:?}"
    );
    assert!(got[1].1.contains("expected at least 1"), "{got:?}");
}

#[test]
fn odd_schemas_do_not_panic() {
    for schema in [
        json!(true),
        json!(false),
        json!({"type": 3}),
        json!({"pattern": "("}),
        json!({"items": [1]}),
        json!({"$ref": "#/$defs/missing"}),
        json!({"anyOf": "x"}),
        json!({"minimum": "a"}),
    ] {
        let mut c = Compiler::new(Dialect::JsonSchema, |_: &str| None);
        let root = c.schema(&schema);
        let mut out = Vec::new();
        c.compiled
            .validate(root, &json!({"a": [1, "x", null]}), "", &mut out);
    }
}

#[test]
fn recursive_definitions_compile_once() {
    let defs = json!({"Props": {"type": "object", "properties": {"items": {"$ref": "#/$defs/Props"}, "type": {"type": "string"}}, "additionalProperties": false}});
    let mut c = Compiler::new(Dialect::JsonSchema, |n: &str| defs.get(n));
    let root = c.named("Props");
    let mut out = Vec::new();
    c.compiled.validate(
        root,
        &json!({"items": {"items": {"typo": 1}}}),
        "spec",
        &mut out,
    );
    assert_eq!(
        out,
        vec![Violation {
            path: "spec.items.items.typo".into(),
            message: "unknown field `typo`: did you mean `type`?".into()
        }]
    );
}

#[test]
fn a_resource_roots_metadata_stays_open() {
    let schema = json!({"type": "object", "properties": {"metadata": {"type": "object", "additionalProperties": false, "properties": {"name": {"type": "string", "maxLength": 40}}}}});
    let ok = json!({"metadata": {"name": "a", "namespace": "b", "labels": {"x": "y"}}});
    assert!(run(Dialect::JsonSchema, schema.clone(), ok).is_empty());
    let long = json!({"metadata": {"name": "a".repeat(41)}});
    assert_eq!(run(Dialect::JsonSchema, schema, long)[0].0, "metadata.name");
}

/// A lazy compiler compiles a definition when an object first reaches it, and reports what an
/// eager one does, inside alternatives too.
#[test]
fn lazy_definitions_compile_when_reached() {
    let defs = json!({
        "Spec": {"type": "object", "additionalProperties": false, "required": ["size"],
            "properties": {"size": {"$ref": "#/$defs/Size"}, "volume": {"$ref": "#/$defs/Volume"},
                "mode": {"anyOf": [{"$ref": "#/$defs/Size"}, {"$ref": "#/$defs/Name"}]}}},
        "Size": {"type": "integer", "minimum": 1},
        "Name": {"type": "string", "pattern": "^[a-z]+$"},
        "Volume": {"type": "object", "additionalProperties": false,
            "properties": {"host": {"$ref": "#/$defs/Name"}}}
    });
    let schema = json!({"type": "object", "properties": {"spec": {"$ref": "#/$defs/Spec"}}});
    let objects = [
        json!({"spec": {"size": 0, "typo": 1}}),
        json!({"spec": {"size": 2, "volume": {"host": "A"}}}),
        json!({"spec": {"size": 2, "mode": "Bad"}}),
        json!({"spec": {"size": 2, "mode": "ok"}}),
        json!({"spec": {"mode": 3.5}}),
    ];
    let mut eager = Compiler::new(Dialect::JsonSchema, |n: &str| defs.get(n));
    let eager_root = eager.schema(&schema);
    let mut lazy = Compiler::new(Dialect::JsonSchema, |n: &str| defs.get(n)).lazy();
    let lazy_root = lazy.schema(&schema);
    assert_eq!(
        lazy.compiled.pending.len(),
        1,
        "only Spec is named at the root"
    );
    for object in &objects {
        let map = object.as_object().unwrap();
        let mut want = Vec::new();
        let want_fits = eager.compiled.validate_object(eager_root, map, &mut want);
        let mut got = Vec::new();
        let got_fits = lazy.validate_object(lazy_root, map, &mut got);
        assert_eq!((got_fits, &got), (want_fits, &want), "{object}");
        assert!(
            !want.is_empty() || object["spec"]["mode"] == "ok",
            "{object}: {want:?}"
        );
    }
    assert!(lazy.compiled.pending.is_empty());
    // An object that reaches no definition compiles none.
    let mut fresh = Compiler::new(Dialect::JsonSchema, |n: &str| defs.get(n)).lazy();
    let root = fresh.schema(&schema);
    assert!(fresh.validate_object(
        root,
        json!({"other": 1}).as_object().unwrap(),
        &mut Vec::new()
    ));
    assert_eq!(fresh.compiled.pending.len(), 1);
}
