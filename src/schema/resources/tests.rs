use super::*;
use serde_json::json;

fn minor(m: u8) -> KubernetesVersion {
    KubernetesVersion::from_minor(m).unwrap()
}

#[test]
fn every_minor_has_the_core_kinds() {
    for m in KubernetesVersion::ALL {
        let b = builtin(m);
        let kinds = b.kinds();
        assert!(kinds.len() > 80, "{m}: {}", kinds.len());
        for k in [
            ("apps/v1", "Deployment"),
            ("v1", "Service"),
            ("batch/v1", "CronJob"),
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ] {
            assert!(kinds.contains(&k), "{m} lacks {k:?}");
        }
    }
    assert!(builtin(minor(37))
        .root("certificates.k8s.io/v1", "ClusterTrustBundle")
        .is_some());
    assert!(builtin(minor(31))
        .root("certificates.k8s.io/v1", "ClusterTrustBundle")
        .is_none());
}

#[test]
fn a_broken_deployment_gets_every_violation() {
    let s = Schemas::new();
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "Web_App"},
        "spec": {"replicas": "two", "selector": {"matchLabels": {"app": "w"}}, "template": {"metadata": {"labels": {"app": "w"}},
        "spec": {"contianers": [{"name": "c", "image": "x"}]}}}});
    let Outcome::Checked(v) = s.validate(d.as_object().unwrap(), minor(35)) else {
        panic!("no schema")
    };
    let got: Vec<(&str, &str)> = v
        .iter()
        .map(|v| (v.path.as_str(), v.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "spec.replicas",
                "expected an integer, found the string \"two\""
            ),
            (
                "spec.template.spec.contianers",
                "unknown field `contianers`: did you mean `containers`?"
            ),
            (
                "spec.template.spec.containers",
                "required field `containers` is missing"
            ),
        ]
    );
    let good = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "w"}}, "template": {"metadata": {"labels": {"app": "w"}},
        "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80}], "resources": {"limits": {"memory": "1Gi", "cpu": 1}}}]}}}});
    assert_eq!(
        s.validate(good.as_object().unwrap(), minor(35)),
        Outcome::Checked(vec![])
    );
}

#[test]
fn custom_resources_need_their_crd() {
    let mut s = Schemas::new();
    let cr = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": "big", "colour": "red"}});
    assert_eq!(
        s.validate(cr.as_object().unwrap(), minor(35)),
        Outcome::NoSchema
    );
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"}, "scope": "Namespaced",
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object", "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]}});
    assert_eq!(s.add(&SchemaSource::Crd(crd)), 1);
    let Outcome::Checked(v) = s.validate(cr.as_object().unwrap(), minor(35)) else {
        panic!("no schema")
    };
    let paths: Vec<&str> = v.iter().map(|v| v.path.as_str()).collect();
    assert_eq!(paths, ["spec.size", "spec.colour"]);
    s.add(&SchemaSource::JsonFile { api_version: "other.io/v1".into(), kind: "gadget".into(),
        schema: json!({"type": "object", "properties": {"spec": {"type": "object", "additionalProperties": false}}}) });
    let g = json!({"apiVersion": "other.io/v1", "kind": "Gadget", "spec": {"x": 1}});
    let Outcome::Checked(v) = s.validate(g.as_object().unwrap(), minor(35)) else {
        panic!("no schema")
    };
    assert_eq!(v[0].path, "spec.x");
}

/// Every line of the embedded data reads: the seven minors, sorted names (binary search
/// depends on it), every minor's line, every schema, and every schema number in range.
#[test]
fn the_embedded_data_reads() {
    let data = data().expect("the data splits into its lines");
    let labels: Vec<String> = (31..=37).map(|m| format!("1.{m}")).collect();
    assert_eq!(data.minors, labels);
    assert!(
        data.names.windows(2).all(|w| w[0] < w[1]),
        "names are sorted"
    );
    for (label, line) in data.minors.iter().zip(&data.minor_lines) {
        let m: Minor = serde_json::from_str(line).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(m.defs.len(), data.names.len(), "{label}");
        assert!(m
            .defs
            .iter()
            .all(|&d| d >= -1 && d < data.schemas.len() as i64));
        assert!(m.kinds.iter().all(|&(_, at)| at < data.schemas.len()));
        assert!(m.kinds.len() > 50, "{label}: {} kinds", m.kinds.len());
    }
    for at in 0..data.schemas.len() {
        assert!(schema_at(at).is_some_and(Value::is_object), "schema {at}");
    }
    // A definition resolves by name, and a kind by apiVersion and kind.
    let b = builtin(minor(37));
    assert!(b.definition("io.k8s.api.core.v1.PodSpec").is_some());
    assert!(b.definition("io.k8s.api.core.v1.NoSuchThing").is_none());
    assert!(b.schema_of("apps/v1", "Deployment").is_some());
    assert!(b.schema_of("apps/v1", "Nonesuch").is_none());
}
