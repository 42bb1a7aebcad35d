//! `schema`: every object fits the schema of its kind, as kubeconform checks it, with no
//! download. Built-in kinds are validated against the strict OpenAPI schema of the run's target
//! Kubernetes minor (embedded, `schema::resources`); custom resources against the
//! CustomResourceDefinitions in the input or given with `--crd`. Unknown fields, wrong types,
//! missing required fields, values outside an enum, pattern and format violations are each a
//! hit at their field, every one in the object. An object with no schema is a note (an error
//! with `--fail-on-unknown-schema`); one whose apiVersion the minor does not serve is left to
//! `stable-api-version`, which names the API to use; and one in a group without a dot (`v1`,
//! `apps`…) that Kubernetes does not serve is an error, since no custom resource can be there.

use super::{CheckDef, Fix, HitSink, Scope};
use crate::finding::Severity;
use crate::resource::Resource;
use crate::schema::resources::Outcome;
use crate::schema::served::{self, Verdict};
use crate::validate::code;

/// The annotation of objects a module resource generated (`engine::inject::SOURCE`; the
/// engine layer is above this one).
const GENERATED_BY: &str = "nixernetes.io/source";

pub const SCHEMA: CheckDef = CheckDef {
    id: "schema",
    summary: "the object fits the schema of its kind in the target Kubernetes version (built-in kinds) or its CRD (custom resources)",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Object(schema),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[&SCHEMA];

fn schema(r: &Resource, out: &mut HitSink) {
    let minor = out.kubernetes_version();
    let schemas = out.schemas();
    match schemas.validate(&r.object, minor) {
        Outcome::Checked(violations) => {
            for v in violations {
                out.push(v.path, v.message);
            }
        }
        Outcome::NoSchema => {
            let (api_version, kind) = (r.api_version(), r.kind());
            // A built-in API the minor does not serve: `stable-api-version` says what to use.
            if matches!(
                served::verdict(api_version, kind, minor),
                Verdict::Removed { .. } | Verdict::NotYet { .. }
            ) {
                return;
            }
            // What a module generated (it carries the module resource's traceability
            // annotation): the operator resources the modules emit are validated against their
            // CRDs' schemas by the project's tests, so a note on each would only be noise;
            // `--fail-on-unknown-schema` still holds them to it.
            if let Some(why) = not_a_custom_resource(api_version, kind, minor) {
                out.push("apiVersion", why);
                return;
            }
            let generated = r
                .annotations()
                .is_some_and(|a| a.contains_key(GENERATED_BY));
            if generated && !schemas.fail_on_unknown {
                return;
            }
            let message = format!(
                "no schema for {} {} in Kubernetes {minor}: not validated; give its CustomResourceDefinition in the input or with --crd",
                code(kind),
                code(api_version)
            );
            if schemas.fail_on_unknown {
                out.push_error(
                    "apiVersion",
                    format!("{message} (--fail-on-unknown-schema)"),
                );
            } else {
                out.push_info("apiVersion", message);
            }
        }
    }
}

/// Why an object with no schema cannot be a custom resource: its group has no dot (the core
/// group `v1`, `apps`, `batch`…), and a CustomResourceDefinition's group must have one, so the
/// API server refuses the object. Says which apiVersion serves the kind, or which kind of the
/// group was meant.
fn not_a_custom_resource(
    api_version: &str,
    kind: &str,
    minor: crate::types::KubernetesVersion,
) -> Option<String> {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    if group.contains('.') {
        return None;
    }
    let kinds = crate::schema::resources::builtin(minor).kinds();
    let all: Vec<&str> = kinds
        .iter()
        .filter(|(_, k)| *k == kind)
        .map(|(a, _)| *a)
        .collect();
    let current: Vec<&str> = all
        .iter()
        .copied()
        .filter(|a| {
            !matches!(
                served::verdict(a, kind, minor),
                Verdict::Deprecated { .. } | Verdict::Removed { .. } | Verdict::NotYet { .. }
            )
        })
        .collect();
    let serving = if current.is_empty() { all } else { current };
    let shown = |list: &[&str]| {
        list.iter()
            .map(|a| code(a))
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let what = if group.is_empty() {
        "the core group (`v1`)".to_string()
    } else {
        format!("the group {}", code(group))
    };
    let hint = if !serving.is_empty() {
        format!("{kind} is served as {}", shown(&serving))
    } else {
        let same_version = kinds
            .iter()
            .filter(|(a, _)| *a == api_version)
            .map(|(_, k)| *k);
        match crate::validate::suggest::did_you_mean(kind, same_version) {
            Some(mean) => mean,
            None => "`kubectl api-resources` lists the kinds a cluster serves".to_string(),
        }
    };
    Some(format!(
        "Kubernetes {minor} serves no kind {} in {}, and a custom resource cannot be in {what} (a CustomResourceDefinition's group has a dot): {hint}",
        code(kind),
        code(api_version)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{expect_hits, hits_at};
    use crate::types::KubernetesVersion;

    #[test]
    fn a_broken_deployment_is_reported_field_by_field() {
        let yaml = "apiVersion: apps/v1
kind: Deployment
metadata: {name: Web_App}
spec:
  replicas: two
  selector: {matchLabels: {app: w}}
  template:
    metadata: {labels: {app: w}}
    spec:
      contianers: [{name: c, image: x}]
";
        expect_hits(
            &SCHEMA,
            yaml,
            &[
                (
                    "Web_App",
                    "spec.replicas",
                    "expected an integer, found the string \"two\"",
                ),
                (
                    "Web_App",
                    "spec.template.spec.contianers",
                    "did you mean `containers`?",
                ),
                (
                    "Web_App",
                    "spec.template.spec.containers",
                    "required field `containers` is missing",
                ),
            ],
        );
    }

    #[test]
    fn valid_objects_and_removed_apis_have_no_hits() {
        let yaml = "apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  ports: [{port: 80, targetPort: http}]
---
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: p}
spec: {}
";
        assert_eq!(hits_at(&SCHEMA, yaml, KubernetesVersion::NEWEST), vec![]);
    }

    #[test]
    fn the_target_minor_decides() {
        let yaml = "apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostnameOverride: web-0
  containers: [{name: c, image: x}]
";
        // Pod spec.hostnameOverride is in the schema of 1.35, not of 1.31.
        let old = hits_at(&SCHEMA, yaml, KubernetesVersion::from_minor(31).unwrap());
        let new = hits_at(&SCHEMA, yaml, KubernetesVersion::from_minor(35).unwrap());
        assert_eq!(old.len(), 1, "{old:?}");
        assert_eq!(old[0].1, "spec.hostnameOverride");
        assert_eq!(new, vec![]);
    }

    #[test]
    fn custom_resources_without_a_schema_are_noted() {
        let yaml = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {}\n";
        let hits = hits_at(&SCHEMA, yaml, KubernetesVersion::NEWEST);
        assert_eq!(hits.len(), 1);
        assert!(
            hits[0]
                .2
                .starts_with("no schema for `Widget` `example.com/v1`"),
            "{hits:?}"
        );
    }

    /// A kind in a group without a dot cannot be a custom resource: an error that names the
    /// apiVersion serving the kind, or the kind of that group that was meant.
    #[test]
    fn a_built_in_group_without_the_kind_is_an_error() {
        let at = |yaml: &str| hits_at(&SCHEMA, yaml, KubernetesVersion::NEWEST);
        let hits = at("apiVersion: v1\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n");
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].1, "apiVersion");
        assert!(
            hits[0].2.contains("serves no kind `Deployment` in `v1`")
                && hits[0].2.ends_with("Deployment is served as `apps/v1`"),
            "{hits:?}"
        );
        let hits = at("apiVersion: v1\nkind: Configmap\nmetadata: {name: c}\n");
        assert!(hits[0].2.ends_with("did you mean `ConfigMap`?"), "{hits:?}");
        let hits = at("apiVersion: apps/v1\nkind: Widget\nmetadata: {name: w}\n");
        assert!(hits[0].2.contains("the group `apps`"), "{hits:?}");
        // A dotted group may be a custom resource: a note, as before.
        let hits =
            at("apiVersion: widgets.example.com/v1\nkind: Deployment\nmetadata: {name: w}\n");
        assert!(hits[0].2.starts_with("no schema for"), "{hits:?}");
    }
}
