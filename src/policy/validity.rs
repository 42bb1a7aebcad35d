//! Values the API server refuses on plain objects, found at their line before `kubectl apply`
//! fails: `object-name` (names per kind), `label-syntax` (label and annotation keys, label
//! values, selector labels), `resource-quantity` (every field that holds a quantity) and
//! `cron-schedule` (a CronJob's `schedule` and `timeZone`).
//!
//! The module kinds validate the same values in their own specs (`crate::validate`); these
//! checks hold plain objects to the rules of the Kubernetes validation code
//! (`pkg/apis/core/validation`, `pkg/apis/batch/validation`, apimachinery's
//! `validation.IsQualifiedName`), and report nothing the API server accepts. A value of the
//! wrong type (a number where a string goes) is left to the schema: these checks only read the
//! values whose type is right. Names are only judged for the built-in kinds whose rule is
//! known; a custom resource's name is left alone.

use super::pod::{get, obj, pod_of};
use super::{CheckDef, Fix, HitSink, Scope};
use crate::finding::Severity;
use crate::resource::{Field, Resource};
use crate::validate;
use serde_json::{Map, Value};

pub const OBJECT_NAME: CheckDef = CheckDef {
    id: "object-name",
    summary: "object names follow their kind's rule (DNS-1123 subdomain; DNS-1123 label for Namespaces, DNS-1035 label for Services; at most 52 characters for CronJobs), namespaces are DNS-1123 labels",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Object(object_name),
};

pub const LABEL_SYNTAX: CheckDef = CheckDef {
    id: "label-syntax",
    summary: "label keys and values, annotation keys and selector labels have the syntax the API server accepts",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Object(label_syntax),
};

pub const RESOURCE_QUANTITY: CheckDef = CheckDef {
    id: "resource-quantity",
    summary: "resource quantities (requests, limits, storage, quotas, limit ranges, emptyDir sizes) are valid and not negative: 1Gi or 1G, not 1GB",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Object(resource_quantity),
};

pub const CRON_SCHEDULE: CheckDef = CheckDef {
    id: "cron-schedule",
    summary: "CronJob schedules are valid cron expressions (5 fields in range, names, @hourly-style macros) and timeZone names IANA time zones",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Object(cron_schedule),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[
    &OBJECT_NAME,
    &LABEL_SYNTAX,
    &RESOURCE_QUANTITY,
    &CRON_SCHEDULE,
];

/// A validator of one name: `Err` says what is expected.
type NameRule = fn(&str) -> Result<(), String>;

/// The rule the API server holds a kind's names to, for the built-in kinds whose rule is known.
fn name_rule(group: &str, kind: &str) -> Option<NameRule> {
    let subdomain: NameRule = validate::dns1123_subdomain;
    Some(match (group, kind) {
        ("", "Namespace") => validate::dns1123_label,
        ("", "Service") => validate::dns1035_label,
        ("batch", "CronJob") => cronjob_name,
        (
            "rbac.authorization.k8s.io",
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding",
        ) => path_segment,
        (
            "",
            "Pod"
            | "ConfigMap"
            | "Secret"
            | "ServiceAccount"
            | "PersistentVolumeClaim"
            | "PersistentVolume"
            | "Endpoints"
            | "LimitRange"
            | "ResourceQuota"
            | "ReplicationController"
            | "PodTemplate",
        )
        | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job")
        | ("networking.k8s.io", "Ingress" | "IngressClass" | "NetworkPolicy")
        | ("policy", "PodDisruptionBudget")
        | ("autoscaling", "HorizontalPodAutoscaler")
        | ("scheduling.k8s.io", "PriorityClass")
        | ("storage.k8s.io", "StorageClass")
        | ("discovery.k8s.io", "EndpointSlice")
        | ("node.k8s.io", "RuntimeClass") => subdomain,
        _ => return None,
    })
}

/// A CronJob's name: a DNS-1123 subdomain of at most 52 characters (its Jobs append an
/// 11-character `-<timestamp>` and must fit a 63-character label).
fn cronjob_name(name: &str) -> Result<(), String> {
    validate::dns1123_subdomain(name)?;
    if name.len() > 52 {
        return Err(format!(
            "name {name:?} has {} characters: a CronJob's name is at most 52 (its Jobs add an 11-character suffix)",
            name.len()
        ));
    }
    Ok(())
}

/// The name of an RBAC object: anything that can be a URL path segment (`system:monitoring` is
/// fine), so not `.` or `..` and without '/' or '%'.
fn path_segment(name: &str) -> Result<(), String> {
    if name == "." || name == ".." || name.contains(['/', '%']) {
        Err(format!(
            "invalid name {name:?}: an RBAC object's name may not be \".\" or \"..\" nor contain '/' or '%'"
        ))
    } else {
        Ok(())
    }
}

fn object_name(r: &Resource, out: &mut HitSink) {
    let Some(meta) = obj(r.object.field("metadata")) else {
        return;
    };
    if let Some(rule) = name_rule(r.group(), r.kind()) {
        // An empty or missing name is the schema's to report (or generateName's to fill).
        if let Some(name) = meta.field("name").and_then(Value::as_str) {
            if !name.is_empty() {
                if let Err(e) = rule(name) {
                    out.push(
                        "metadata.name",
                        format!("{e}: the API server refuses this {} name", r.kind()),
                    );
                }
            }
        }
    }
    if let Some(ns) = meta.field("namespace").and_then(Value::as_str) {
        if !ns.is_empty() {
            if let Err(e) = validate::dns1123_label(ns) {
                out.push(
                    "metadata.namespace",
                    format!("namespace {e}: the API server refuses it"),
                );
            }
        }
    }
}

fn label_syntax(r: &Resource, out: &mut HitSink) {
    if let Some(meta) = obj(r.object.field("metadata")) {
        metadata_labels(meta, "metadata", out);
    }
    if let Some(pod) = pod_of(r) {
        // A Pod's own metadata was read above.
        if let (Some(meta), Some(parent)) = (pod.metadata, pod.path.strip_suffix(".spec")) {
            metadata_labels(meta, &format!("{parent}.metadata"), out);
        }
    }
    if r.kind() == "CronJob" {
        if let Some(meta) = obj(get(&r.object, "spec.jobTemplate.metadata")) {
            metadata_labels(meta, "spec.jobTemplate.metadata", out);
        }
    }
    let Some(spec) = obj(r.object.field("spec")) else {
        return;
    };
    if (r.group(), r.kind()) == ("", "Service") {
        if let Some(selector) = obj(spec.field("selector")) {
            label_map(selector, "spec", ".selector", "selector", out);
        }
        return;
    }
    for (key, path) in [
        ("selector", "spec.selector"),
        ("podSelector", "spec.podSelector"),
        ("namespaceSelector", "spec.namespaceSelector"),
    ] {
        if let Some(selector) = obj(spec.field(key)) {
            label_selector(selector, path, out);
        }
    }
}

/// The labels and annotation keys of the metadata at `path`. Paths are built only for what is
/// refused: this runs on every object, and nearly every key is fine.
fn metadata_labels(meta: &Map<String, Value>, path: &str, out: &mut HitSink) {
    if let Some(labels) = obj(meta.field("labels")) {
        label_map(labels, path, ".labels", "label", out);
    }
    if let Some(annotations) = obj(meta.field("annotations")) {
        for key in annotations.keys() {
            // apimachinery lowercases annotation keys before it checks them.
            let lower = if key.bytes().any(|b| b.is_ascii_uppercase()) {
                std::borrow::Cow::Owned(key.to_ascii_lowercase())
            } else {
                std::borrow::Cow::Borrowed(key.as_str())
            };
            if validate::label_key(&lower).is_err() {
                out.push(
                    format!("{path}.annotations.{key}"),
                    format!("annotation key {key:?} is refused by the API server: expected an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"),
                );
            }
        }
    }
}

/// A map of label keys to values (labels, `matchLabels`, a Service selector) at `path` +
/// `suffix`.
fn label_map(map: &Map<String, Value>, path: &str, suffix: &str, what: &str, out: &mut HitSink) {
    for (key, value) in map {
        let at = || format!("{path}{suffix}.{key}");
        if let Err(e) = validate::label_key(key) {
            out.push(at(), format!("{what} {e}"));
        } else if let Some(Err(e)) = value.as_str().map(validate::label_value) {
            out.push(at(), format!("{what} {key:?}: {e}"));
        }
    }
}

/// A label selector (`matchLabels`, `matchExpressions[].key`) at `path`.
fn label_selector(selector: &Map<String, Value>, path: &str, out: &mut HitSink) {
    if let Some(labels) = obj(selector.field("matchLabels")) {
        label_map(labels, path, ".matchLabels", "selector", out);
    }
    if let Some(Value::Array(exprs)) = selector.field("matchExpressions") {
        for (i, e) in exprs.iter().enumerate() {
            if let Some(Err(e)) = e
                .field("key")
                .and_then(Value::as_str)
                .map(validate::label_key)
            {
                out.push(
                    format!("{path}.matchExpressions[{i}].key"),
                    format!("selector {e}"),
                );
            }
        }
    }
}

fn resource_quantity(r: &Resource, out: &mut HitSink) {
    if let Some(pod) = pod_of(r) {
        // The pod-level budget (Kubernetes 1.32+), then each container's.
        if let Some(resources) = obj(pod.spec.field("resources")) {
            quantities_at(
                resources,
                &|| pod.at("resources"),
                &["requests", "limits"],
                out,
            );
        }
        for c in pod.containers() {
            if let Some(resources) = obj(c.spec.field("resources")) {
                quantities_at(
                    resources,
                    &|| c.at("resources"),
                    &["requests", "limits"],
                    out,
                );
            }
        }
        if let Some(Value::Array(volumes)) = pod.spec.field("volumes") {
            for (i, v) in volumes.iter().enumerate() {
                if let Some(size) = get_value(v, "emptyDir.sizeLimit") {
                    quantity(
                        size,
                        &|| pod.at(&format!("volumes[{i}].emptyDir.sizeLimit")),
                        out,
                    );
                }
                if let Some(claim) = obj(get_value(v, "ephemeral.volumeClaimTemplate.spec")) {
                    let at = pod.at(&format!(
                        "volumes[{i}].ephemeral.volumeClaimTemplate.spec.resources"
                    ));
                    claim_quantities(claim, &at, out);
                }
            }
        }
    }
    let Some(spec) = obj(r.object.field("spec")) else {
        return;
    };
    match (r.group(), r.kind()) {
        ("", "PersistentVolumeClaim") => claim_quantities(spec, "spec.resources", out),
        ("", "PersistentVolume") => {
            if let Some(capacity) = obj(spec.field("capacity")) {
                quantity_map(capacity, &|| "spec.capacity".into(), out);
            }
        }
        ("", "ResourceQuota") => {
            if let Some(hard) = obj(spec.field("hard")) {
                quantity_map(hard, &|| "spec.hard".into(), out);
            }
        }
        ("", "LimitRange") => {
            if let Some(Value::Array(limits)) = spec.field("limits") {
                for (i, l) in limits.iter().enumerate() {
                    if let Some(l) = l.as_object() {
                        let parts = [
                            "max",
                            "min",
                            "default",
                            "defaultRequest",
                            "maxLimitRequestRatio",
                        ];
                        quantities_at(l, &|| format!("spec.limits[{i}]"), &parts, out);
                    }
                }
            }
        }
        ("apps", "StatefulSet") => {
            if let Some(Value::Array(claims)) = spec.field("volumeClaimTemplates") {
                for (i, c) in claims.iter().enumerate() {
                    if let Some(claim) = obj(c.field("spec")) {
                        let at = format!("spec.volumeClaimTemplates[{i}].spec.resources");
                        claim_quantities(claim, &at, out);
                    }
                }
            }
        }
        _ => {}
    }
}

fn get_value<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    v.as_object().and_then(|m| get(m, path))
}

/// The `requests` and `limits` of a claim spec's `resources`, at `path` (`….resources`).
fn claim_quantities(claim: &Map<String, Value>, path: &str, out: &mut HitSink) {
    if let Some(resources) = obj(claim.field("resources")) {
        quantities_at(
            resources,
            &|| path.to_string(),
            &["requests", "limits"],
            out,
        );
    }
}

/// A field path, built only for a quantity that is refused: these checks read every quantity
/// of every object, and nearly all are fine.
type Path<'a> = &'a dyn Fn() -> String;

/// The quantity maps `parts` (`requests`, `limits`, …) of `block`, at `path`.
fn quantities_at(block: &Map<String, Value>, path: Path<'_>, parts: &[&str], out: &mut HitSink) {
    for part in parts {
        if let Some(values) = obj(block.field(part)) {
            quantity_map(values, &|| format!("{}.{part}", path()), out);
        }
    }
}

/// Every value of a map of resource names to quantities.
fn quantity_map(map: &Map<String, Value>, path: Path<'_>, out: &mut HitSink) {
    for (name, value) in map {
        quantity(value, &|| format!("{}.{name}", path()), out);
    }
}

/// One quantity: a string of the quantity syntax or a number, not negative.
fn quantity(value: &Value, at: Path<'_>, out: &mut HitSink) {
    let negative = match value {
        Value::String(s) => match validate::quantity(s) {
            Err(e) => {
                out.push(
                    at(),
                    format!("{e}{}: the API server refuses it", byte_hint(s)),
                );
                return;
            }
            Ok(()) => validate::quantity::parse(s).is_some_and(|v| v < 0.0),
        },
        Value::Number(n) => n.as_f64().is_some_and(|v| v < 0.0),
        _ => return,
    };
    if negative {
        out.push(
            at(),
            format!("quantity {value} is negative: the API server refuses it"),
        );
    }
}

/// For `1GB`, `512mb`, `10KB`: the quantities that were probably meant.
fn byte_hint(s: &str) -> String {
    let Some(stem) = s.strip_suffix(['B', 'b']) else {
        return String::new();
    };
    let (number, unit) = stem.split_at(stem.trim_end_matches(char::is_alphabetic).len());
    let decimal = match unit {
        "k" | "K" => "k",
        "m" | "M" => "M",
        "g" | "G" => "G",
        "t" | "T" => "T",
        "p" | "P" => "P",
        "e" | "E" => "E",
        _ => return String::new(),
    };
    if validate::quantity(number).is_err() {
        return String::new();
    }
    let binary = if decimal == "k" { "K" } else { decimal };
    format!(" (Kubernetes writes bytes without a B: {number}{decimal} for powers of 1000, {number}{binary}i for powers of 1024)")
}

fn cron_schedule(r: &Resource, out: &mut HitSink) {
    if (r.group(), r.kind()) != ("batch", "CronJob") {
        return;
    }
    let Some(spec) = obj(r.object.field("spec")) else {
        return;
    };
    if let Some(Err(e)) = spec
        .field("schedule")
        .and_then(Value::as_str)
        .map(validate::cron::standard)
    {
        out.push("spec.schedule", format!("{e}: the API server refuses it"));
    }
    if let Some(Err(e)) = spec
        .field("timeZone")
        .and_then(Value::as_str)
        .map(validate::cron::time_zone)
    {
        out.push("spec.timeZone", e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{expect_hits as expect, hits_of};

    #[test]
    fn object_names_follow_their_kind() {
        let yaml = "apiVersion: apps/v1
kind: Deployment
metadata: {name: Web_App, namespace: Shop}
---
apiVersion: v1
kind: Service
metadata: {name: 1web}
---
apiVersion: v1
kind: Namespace
metadata: {name: team.a}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: a-cronjob-name-that-is-longer-than-fifty-two-characters}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: a/b}
";
        expect(
            &OBJECT_NAME,
            yaml,
            &[
                (
                    "Web_App",
                    "metadata.name",
                    "invalid name \"Web_App\": expected a DNS-1123 subdomain",
                ),
                (
                    "Web_App",
                    "metadata.namespace",
                    "namespace invalid name \"Shop\"",
                ),
                ("1web", "metadata.name", "DNS-1035 label"),
                ("team.a", "metadata.name", "DNS-1123 label"),
                (
                    "a-cronjob-name-that-is-longer-than-fifty-two-characters",
                    "metadata.name",
                    "at most 52",
                ),
                ("a/b", "metadata.name", "may not"),
            ],
        );
    }

    #[test]
    fn valid_names_pass() {
        let yaml = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web.v2, namespace: shop}
---
apiVersion: v1
kind: Service
metadata: {name: web}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: \"system:monitoring:Reader\"}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: Any_Name}
---
apiVersion: v1
kind: Pod
metadata: {generateName: web-}
";
        assert_eq!(hits_of(&OBJECT_NAME, yaml), vec![]);
    }

    #[test]
    fn labels_annotations_and_selectors_are_checked() {
        let yaml = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, bad key: x, version: -v1}
  annotations: {Example.com/Note: fine, a/b/c: nope}
spec:
  selector:
    matchLabels: {app: web}
    matchExpressions: [{key: \"tier!\", operator: Exists}]
  template:
    metadata:
      labels: {app: web, track: \"a very long value that is certainly longer than sixty-three chars\"}
    spec:
      containers: [{name: app, image: app:1}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web_}
";
        expect(
            &LABEL_SYNTAX,
            yaml,
            &[
                (
                    "web",
                    "metadata.labels.bad key",
                    "label invalid key \"bad key\"",
                ),
                (
                    "web",
                    "metadata.labels.version",
                    "label \"version\": invalid label value \"-v1\"",
                ),
                (
                    "web",
                    "metadata.annotations.a/b/c",
                    "annotation key \"a/b/c\"",
                ),
                (
                    "web",
                    "spec.template.metadata.labels.track",
                    "invalid label value",
                ),
                (
                    "web",
                    "spec.selector.matchExpressions[0].key",
                    "selector invalid key",
                ),
                (
                    "web",
                    "spec.selector.app",
                    "selector \"app\": invalid label value \"web_\"",
                ),
            ],
        );
        let good = "apiVersion: v1
kind: Pod
metadata:
  name: p
  labels: {app.kubernetes.io/name: web, Tier: Front.End_1, empty: \"\"}
  annotations: {Example.COM/Note: x}
spec:
  containers: [{name: app, image: app:1}]
";
        assert_eq!(hits_of(&LABEL_SYNTAX, good), vec![]);
    }

    #[test]
    fn quantities_are_checked_wherever_they_go() {
        let yaml = "apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  template:
    spec:
      containers:
      - name: db
        image: db:1
        resources:
          requests: {cpu: 500m, memory: 1GB}
          limits: {cpu: -1, memory: 2Gi}
      volumes:
      - name: scratch
        emptyDir: {sizeLimit: 1 Gi}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      resources: {requests: {storage: 10gb}}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: q}
spec:
  hard: {requests.cpu: \"4\", count/deployments.apps: 10, limits.memory: 8GiB}
---
apiVersion: v1
kind: LimitRange
metadata: {name: l}
spec:
  limits:
  - type: Container
    default: {memory: 512MB}
    max: {cpu: \"2\"}
";
        expect(
            &RESOURCE_QUANTITY,
            yaml,
            &[
                (
                    "db",
                    "spec.template.spec.containers[0].resources.requests.memory",
                    "invalid quantity \"1GB\": expected a number with an optional suffix, e.g. 500m, 2, 128Mi, 1.5Gi, 1e3 (Kubernetes writes bytes without a B: 1G for powers of 1000, 1Gi for powers of 1024)",
                ),
                (
                    "db",
                    "spec.template.spec.containers[0].resources.limits.cpu",
                    "quantity -1 is negative",
                ),
                ("db", "spec.template.spec.volumes[0].emptyDir.sizeLimit", "\"1 Gi\""),
                (
                    "db",
                    "spec.volumeClaimTemplates[0].spec.resources.requests.storage",
                    "10G for powers of 1000, 10Gi",
                ),
                ("q", "spec.hard.limits.memory", "invalid quantity \"8GiB\""),
                ("l", "spec.limits[0].default.memory", "512M for powers of 1000, 512Mi"),
            ],
        );
        let good = "apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  resources: {limits: {memory: 1Gi}}
  containers:
  - name: app
    image: app:1
    resources: {requests: {cpu: 0.5, memory: 1G, nvidia.com/gpu: 1}, limits: {memory: 1e9}}
  volumes: [{name: v, emptyDir: {sizeLimit: 500Mi}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: c}
spec: {resources: {requests: {storage: 10Gi}}}
";
        assert_eq!(hits_of(&RESOURCE_QUANTITY, good), vec![]);
    }

    #[test]
    fn cron_schedules_and_time_zones() {
        let cron = |name: &str, rest: &str| {
            format!("apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: {name}}}\nspec:\n{rest}  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers: [{{name: c, image: c:1}}]\n---\n")
        };
        let yaml = [
            cron("hour", "  schedule: \"0 25 * * *\"\n"),
            cron(
                "zone",
                "  schedule: \"@hourly\"\n  timeZone: Europe/Berln\n",
            ),
            cron("tz", "  schedule: \"CRON_TZ=UTC 0 2 * * *\"\n"),
            cron(
                "good",
                "  schedule: \"*/5 9-17 * JAN-JUN MON-FRI\"\n  timeZone: America/New_York\n",
            ),
        ]
        .concat();
        expect(
            &CRON_SCHEDULE,
            &yaml,
            &[
                (
                    "hour",
                    "spec.schedule",
                    "hour field \"25\": 25 is above the maximum 23",
                ),
                ("zone", "spec.timeZone", "did you mean `Europe/Berlin`"),
                ("tz", "spec.schedule", "set spec.timeZone"),
            ],
        );
    }
}
