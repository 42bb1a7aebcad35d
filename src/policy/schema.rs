//! `schema`: every object fits the schema of its kind, as kubeconform checks it, with no
//! download. Built-in kinds are validated against the strict OpenAPI schema of the run's target
//! Kubernetes minor (embedded, `schema::resources`); custom resources against the
//! CustomResourceDefinitions in the input or given with `--crd`. Unknown fields, wrong types,
//! missing required fields, values outside an enum, pattern and format violations are each a
//! hit at their field, every one in the object. An object with no schema is a note (an error
//! with `--fail-on-unknown-schema`); one whose apiVersion the minor does not serve is left to
//! `stable-api-version`, which names the API to use.

use super::{CheckDef, Fix, HitSink, Scope};
use crate::finding::Severity;
use crate::resource::Resource;
use crate::schema::resources::Outcome;
use crate::schema::served::{self, Verdict};

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
            let generated = r
                .annotations()
                .is_some_and(|a| a.contains_key(GENERATED_BY));
            if generated && !schemas.fail_on_unknown {
                return;
            }
            let message = format!(
                "no schema for {kind} {api_version} in Kubernetes {minor}: not validated; give its CustomResourceDefinition in the input or with --crd"
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
            hits[0].2.starts_with("no schema for Widget example.com/v1"),
            "{hits:?}"
        );
    }
}
