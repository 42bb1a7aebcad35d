use super::load::valid_version;
use super::*;
use serde_json::json;

#[test]
fn versions_follow_kro() {
    for ok in ["v1", "v2", "v1alpha1", "v10beta3"] {
        assert!(valid_version(ok), "{ok}");
    }
    for bad in ["1", "v", "v0", "v1gamma1", "v1alpha", "V1", "v1.2"] {
        assert!(!valid_version(bad), "{bad}");
    }
}

#[test]
fn the_published_schema_is_json_schema_with_the_definitions_docs() {
    let s = json!({
        "type": "object",
        "description": "d",
        "properties": {
            "port": {"x-kubernetes-int-or-string": true, "default": 80},
            "note": {"type": "string", "nullable": true, "enum": ["a"], "example": "a"},
            "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "n": {"type": "integer", "minimum": 1, "x-kubernetes-validations": [{"rule": "self < 3"}]},
        },
    });
    assert_eq!(
        schema::published(&s),
        json!({
            "type": "object",
            "description": "d",
            "properties": {
                "port": {"anyOf": [{"type": "integer"}, {"type": "string"}], "default": 80},
                "note": {"type": ["string", "null"], "enum": ["a", null], "examples": ["a"]},
                "extra": {"type": "object"},
                "n": {"type": "integer", "minimum": 1},
            },
            "additionalProperties": false,
        })
    );
}

/// The objects of a YAML stream.
fn objects(yaml: &str) -> Vec<Resource> {
    crate::yaml::parse_stream(yaml)
        .expect("YAML")
        .into_iter()
        .map(|d| match d.value {
            Value::Object(m) => Resource::new(m, Origin::default()),
            other => panic!("{other}"),
        })
        .collect()
}

fn definitions(yaml: &str) -> (UserKinds, Vec<Finding>) {
    let inputs = objects(yaml);
    let mut findings = Vec::new();
    let kinds = load(
        inputs,
        &[],
        &crate::kind::Registry::new(Vec::new()),
        &mut findings,
    );
    (kinds, findings)
}

const SITE: &str = "apiVersion: nixernetes.io/v1alpha1
kind: KindDefinition
metadata: {name: websites.platform.acme.io}
spec:
  group: platform.acme.io
  version: v1alpha1
  kind: Site
  schema:
    openAPIV3Schema:
      type: object
      properties:
        spec:
          type: object
          default: {}
          properties:
            names: {type: array, items: {type: string}, default: [a]}
  resources:
    - id: page
      forEach: [{name: '${self.spec.names}'}]
      template: {apiVersion: v1, kind: ConfigMap, metadata: {name: '${name}'}}
    - id: other
      template: {apiVersion: '${\"v\" + \"1\"}', kind: ConfigMap, metadata: {name: x}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-a-definition}
";

#[test]
fn load_compiles_every_definition_and_ignores_other_input() {
    let (kinds, findings) = definitions(SITE);
    assert!(!has_errors(&findings), "{findings:?}");
    let site = kinds
        .find("sites")
        .or_else(|| kinds.find("site"))
        .expect("Site");
    // The plural of the definition's name, as a CRD is named.
    assert_eq!(site.plural(), "websites");
    assert!(kinds.find("websites").is_some());
    assert_eq!(
        site.emits(),
        [
            "ConfigMap (v1): id page, one per name in ${self.spec.names}",
            "an object computed by spec.resources[1].template: id other",
        ]
    );
    assert_eq!(
        site.summary(),
        "a kind of KindDefinition/websites.platform.acme.io"
    );
    let crd = site.crd();
    assert_eq!(crd["metadata"]["name"], "websites.platform.acme.io");
    assert_eq!(crd["spec"]["versions"][0]["name"], "v1alpha1");
    let doc = site.schema();
    assert_eq!(
        doc["properties"]["apiVersion"]["const"],
        "platform.acme.io/v1alpha1"
    );
    assert_eq!(doc["required"], json!(["apiVersion", "kind", "metadata"]));
}

/// Found by the fuzz target kind_specs: a definition whose kind the input does not use was not
/// compiled, and its schema not checked either, so `openAPIV3Schema: null` (or a schema that is
/// not an object's) passed without a word. Every definition's schema is checked when read;
/// only its expressions wait for an instance.
#[test]
fn unused_definitions_have_their_schema_checked() {
    for (schema, field) in [
        ("openAPIV3Schema: null", "spec.schema.openAPIV3Schema"),
        (
            "openAPIV3Schema: {type: string}",
            "spec.schema.openAPIV3Schema.type",
        ),
        (
            "openAPIV3Schema: {type: object, properties: {spec: {type: sting}}}",
            "spec.schema.openAPIV3Schema.properties.spec.type",
        ),
    ] {
        let text = SITE.replace(
            "openAPIV3Schema:\n      type: object\n      properties:\n        spec:\n          type: object\n          default: {}\n          properties:\n            names: {type: array, items: {type: string}, default: [a]}",
            schema,
        );
        assert!(text.contains(schema), "the replacement applies");
        let mut findings = Vec::new();
        let (rest, kinds) = take(
            objects(&text),
            &[],
            &crate::kind::Registry::new(Vec::new()),
            &mut findings,
        );
        assert!(
            rest.len() == 1 && kinds.kinds.is_empty(),
            "only the ConfigMap is left"
        );
        let errors: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == crate::finding::Severity::Error)
            .map(|f| f.field.as_deref().unwrap_or_default())
            .collect();
        assert_eq!(errors, [field], "{schema}: {findings:#?}");
    }
}
