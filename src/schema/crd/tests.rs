//! Tests of `crd`: the definition, the structural rules checked node by node, the strict
//! Kubernetes 1.35 CustomResourceDefinition schema, and specs kube-core finds hard.

use super::*;
use crate::schema::test_specs::web_app_schema;
use crate::schema::{kind_schema, spec_schema, validate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn web_app_crd() -> Value {
    crd("WebApp", "webapps", &web_app_schema()).expect("crd")
}

fn open_api(crd: &Value) -> &Value {
    &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
}

#[test]
fn the_definition_around_the_schema() {
    let crd = web_app_crd();
    let mut shell = crd.clone();
    shell["spec"]["versions"][0]["schema"] = json!({});
    assert_eq!(
        shell,
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "webapps.nixernetes.io"},
            "spec": {
                "group": "nixernetes.io",
                "names": {"kind": "WebApp", "listKind": "WebAppList", "plural": "webapps", "singular": "webapp"},
                "scope": "Namespaced",
                "versions": [{"name": "v1alpha1", "served": true, "storage": true, "schema": {}}],
            },
        })
    );
}

#[test]
fn the_schema_is_inlined_nullable_and_int_or_string() {
    let crd = web_app_crd();
    let root = open_api(&crd);
    assert_eq!(root["description"], "Runs a stateless web application.");
    assert_eq!(root["required"], json!(["spec"]));
    assert_eq!(root["properties"]["metadata"], json!({"type": "object"}));
    assert_eq!(root["properties"]["kind"]["type"], "string");
    assert!(root["properties"]["kind"].get("enum").is_none());
    let spec = &root["properties"]["spec"];
    assert_eq!(spec["required"], json!(["image"]));
    let probes = &spec["properties"]["probes"];
    assert_eq!(probes["type"], "object");
    assert_eq!(probes["nullable"], true);
    assert_eq!(probes["description"], "Health checks of the container.");
    let readiness = &probes["properties"]["readiness"];
    assert_eq!(
        readiness["description"],
        "Whether the pod is ready to receive traffic."
    );
    assert_eq!(readiness["required"], json!(["path", "port"]));
    assert_eq!(
        readiness["properties"]["port"],
        json!({"description": "Port number or name to request.", "x-kubernetes-int-or-string": true})
    );
    assert_eq!(
        spec["properties"]["ports"]["items"]["properties"]["protocol"],
        json!({"description": "Protocol of the port.", "default": "TCP", "type": "string", "enum": ["TCP", "UDP"]})
    );
    assert_eq!(
        spec["properties"]["enforcement"]["enum"],
        json!(["enforce", "audit", "off"])
    );
    assert_eq!(spec["properties"]["kubernetesVersion"]["nullable"], true);
    assert_eq!(
        spec["properties"]["labels"]["additionalProperties"],
        json!({"type": "string"})
    );
    assert_eq!(
        spec["properties"]["scaling"]["properties"]["targetCpuPercent"]["maximum"],
        100
    );
}

/// Kubernetes' structural-schema rules, checked node by node (also run over every registered
/// kind, in `modules`).
pub(crate) fn structural_problems(
    node: &Value,
    path: &str,
    in_junctor: bool,
    out: &mut Vec<String>,
) {
    let Some(map) = node.as_object() else {
        out.push(format!("{path}: not a schema object"));
        return;
    };
    for key in [
        "$ref",
        "$schema",
        "$defs",
        "definitions",
        "const",
        "prefixItems",
        "unevaluatedProperties",
    ] {
        if map.contains_key(key) {
            out.push(format!("{path}: has {key}"));
        }
    }
    if map.get("additionalProperties") == Some(&Value::Bool(false)) {
        out.push(format!("{path}: additionalProperties: false"));
    }
    if map.contains_key("properties") && map.contains_key("additionalProperties") {
        out.push(format!(
            "{path}: properties and additionalProperties together"
        ));
    }
    if in_junctor {
        for key in [
            "type",
            "description",
            "default",
            "nullable",
            "additionalProperties",
            "x-kubernetes-preserve-unknown-fields",
        ] {
            if map.contains_key(key) {
                out.push(format!("{path}: {key} inside anyOf/oneOf/allOf/not"));
            }
        }
    } else if !map.contains_key("type")
        && map.get("x-kubernetes-int-or-string") != Some(&Value::Bool(true))
        && map.get("x-kubernetes-preserve-unknown-fields") != Some(&Value::Bool(true))
    {
        out.push(format!("{path}: no type"));
    }
    // Types inside alternatives only as the int-or-string pattern.
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = map.get(key) {
            let typed = branches.iter().any(|b| b.get("type").is_some());
            if typed && map.get("x-kubernetes-int-or-string") != Some(&Value::Bool(true)) {
                out.push(format!("{path}: {key} with types"));
            }
        }
    }
    if let Some(Value::Object(properties)) = map.get("properties") {
        for (name, p) in properties {
            structural_problems(p, &format!("{path}.{name}"), in_junctor, out);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(s @ Value::Object(_)) = map.get(key) {
            structural_problems(s, &format!("{path}.{key}"), in_junctor, out);
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = map.get(key) {
            for (i, b) in branches.iter().enumerate() {
                structural_problems(b, &format!("{path}.{key}[{i}]"), true, out);
            }
        }
    }
    if let Some(not) = map.get("not") {
        structural_problems(not, &format!("{path}.not"), true, out);
    }
    // A default must be valid where it stands (the API server checks this too).
    if let Some(default) = map.get("default") {
        let problems = validate(node, default);
        if !problems.is_empty() {
            out.push(format!(
                "{path}: default {default} is invalid: {problems:?}"
            ));
        }
    }
}

#[test]
fn the_schema_follows_the_structural_rules() {
    let crd = web_app_crd();
    let root = open_api(&crd);
    let mut problems = Vec::new();
    structural_problems(root, "openAPIV3Schema", false, &mut problems);
    assert_eq!(problems, Vec::<String>::new());
    // The check has teeth: the kind schema itself breaks these rules.
    let mut raw = Vec::new();
    structural_problems(&web_app_schema(), "kind schema", false, &mut raw);
    for expected in [
        "kind schema: has $schema",
        "kind schema: has $defs",
        "kind schema: additionalProperties: false",
        "kind schema.apiVersion: has const",
        "kind schema.spec.ports.items: has $ref",
        "kind schema.spec.probes: no type",
        "kind schema.spec.probes.anyOf[1]: type inside anyOf/oneOf/allOf/not",
    ] {
        assert!(
            raw.iter().any(|p| p == expected),
            "{expected} not in {raw:#?}"
        );
    }
    // At the root only apiVersion, kind, metadata and spec, and metadata left to the server.
    let keys: Vec<&String> = root["properties"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec"]);
}

fn schemas_dir() -> PathBuf {
    match std::env::var_os("NIXERNETES_SCHEMAS").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas"),
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The strict Kubernetes 1.35 schema of CustomResourceDefinition (every unknown field of
/// JSONSchemaProps fails there); `None`, with a notice, when the shared schemas are absent
/// (a failure when CI=true).
pub(crate) fn kubernetes_crd_validator() -> Option<jsonschema::Validator> {
    let dir = schemas_dir().join("kubernetes/v1.35");
    let crd_schema = dir.join("customresourcedefinition-apiextensions-v1.json");
    if !crd_schema.is_file() {
        let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
        let message = format!(
            "SKIPPED: {} not found; set NIXERNETES_SCHEMAS to the shared schemas folder",
            crd_schema.display()
        );
        assert!(!ci, "{message} (required when CI=true)");
        let _ = writeln!(std::io::stderr(), "{message}");
        return None;
    }
    let defs = read_json(&dir.join("_definitions.json"));
    let id = defs["$id"].as_str().expect("$id").to_owned();
    let registry = jsonschema::Registry::new()
        .draft(jsonschema::Draft::Draft202012)
        .add(&id, defs)
        .and_then(|b| b.prepare())
        .expect("register _definitions.json");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .with_registry(&registry)
        .should_validate_formats(false)
        .offline()
        .build(&read_json(&crd_schema))
        .expect("compile the CRD schema");
    Some(validator)
}

/// The CRD validates against the strict Kubernetes 1.35 schema of CustomResourceDefinition.
#[test]
fn the_definition_validates_against_the_kubernetes_schema() {
    let Some(validator) = kubernetes_crd_validator() else {
        return;
    };
    let crd = web_app_crd();
    let errors: Vec<String> = validator
        .iter_errors(&crd)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    // The check has teeth: a JSON Schema keyword Kubernetes does not know fails.
    let mut bad = crd.clone();
    bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["const"] =
        json!(1);
    assert!(!validator.is_valid(&bad));
}

/// A spec with what real specs may also hold: a recursive type, free-form JSON, untagged
/// struct variants.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OddSpec {
    /// A tree of routes.
    route: Option<Route>,
    /// Passed through as written.
    #[serde(default)]
    values: serde_json::Value,
    /// Where the password comes from.
    password: Source,
}

/// A route and the routes below it.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Route {
    /// Path prefix.
    path: String,
    /// Routes below this one.
    #[serde(default)]
    children: Vec<Route>,
}

/// A secret reference or an inline value.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
enum Source {
    Secret {
        /// Name of the Secret.
        secret: String,
        /// Key in the Secret.
        key: String,
    },
    Inline(String),
}

#[test]
fn recursion_free_json_and_untagged_variants_stay_structural() {
    let schema = kind_schema("Odd", "Odd things.", spec_schema(OddSpec::json_schema));
    let crd = crd("Odd", "odds", &schema).expect("crd");
    let root = open_api(&crd);
    let mut problems = Vec::new();
    structural_problems(root, "openAPIV3Schema", false, &mut problems);
    assert_eq!(problems, Vec::<String>::new());
    let spec = &root["properties"]["spec"]["properties"];
    // One level of the recursion is spelt out; below it, unknown fields are kept.
    assert_eq!(spec["route"]["properties"]["path"]["type"], "string");
    assert_eq!(
        spec["route"]["properties"]["children"]["items"],
        json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
    );
    assert_eq!(
        spec["values"],
        json!({"description": "Passed through as written.", "type": "object", "x-kubernetes-preserve-unknown-fields": true})
    );
    // kube-core hoists the variants' fields into one object.
    let password = &spec["password"];
    assert_eq!(password["type"], "object");
    assert!(
        password["properties"]["secret"].is_object() && password["properties"]["key"].is_object()
    );
}

#[test]
fn schemas_kube_core_refuses_are_errors_not_panics() {
    // Two variants declaring `name` with different types: no structural form exists.
    let schema = json!({
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"x": {"oneOf": [
            {"type": "object", "properties": {"name": {"type": "string"}}},
            {"type": "object", "properties": {"name": {"type": "integer"}}},
        ]}}}},
    });
    let err = crd("X", "xs", &schema).unwrap_err();
    let CrdError::NotStructural { reason } = &err;
    assert!(reason.contains("name"), "{reason}");
    assert!(err
        .to_string()
        .starts_with("the schema has no structural form: "));
}

#[test]
fn odd_schemas_never_panic() {
    for schema in [
        json!(true),
        json!(false),
        json!(null),
        json!(3),
        json!({}),
        json!({"$ref": "#"}),
        json!({"$ref": "#/$defs/missing"}),
        json!({"properties": {"a": {"$ref": "#"}}}),
        json!({"properties": 3, "anyOf": 4, "items": [1], "required": "x"}),
        json!({"anyOf": [{"type": "integer"}, {"type": "string"}]}),
        json!({"properties": {"a": {"anyOf": [{"$ref": "#/properties/a"}, {"type": "null"}]}}}),
    ] {
        let _ = crd("K", "ks", &schema);
    }
    assert_eq!(
        crd("K", "ks", &json!(true)).unwrap_err().to_string(),
        "the schema has no structural form: the kind schema is not a JSON Schema object"
    );
}

/// A string enum that also takes `false` (YAML 1.1's unquoted `off`) keeps both values, the
/// types moved out of the alternatives as structural schemas require.
#[test]
fn alternatives_of_different_types_take_any_type_and_keep_their_values() {
    let schema = json!({
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"enforcement": {
            "description": "What failing checks do.",
            "anyOf": [
                {"anyOf": [{"type": "string", "enum": ["enforce", "off"]}, {"const": false}]},
                {"type": "null"},
            ],
        }}}},
    });
    let crd = crd("Odd", "odds", &schema).expect("crd");
    let root = open_api(&crd);
    let mut problems = Vec::new();
    structural_problems(root, "openAPIV3Schema", false, &mut problems);
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(
        root["properties"]["spec"]["properties"]["enforcement"],
        json!({
            "description": "What failing checks do.",
            "anyOf": [{"enum": ["enforce", "off"]}, {"enum": [false]}],
            "nullable": true,
            "x-kubernetes-preserve-unknown-fields": true,
        })
    );
}
