//! `Tenant`: a team's share of a cluster. The original returned records nothing rendered, and its
//! RBAC granted tenant admins `*/*/*` through a custom role under the API group `"v1"`; this
//! renders what a platform engineer would apply by hand, from the Kubernetes built-ins:
//!
//! - per namespace: a Namespace with Pod Security Admission labels (enforce, audit, warn), a
//!   ResourceQuota and LimitRange (the `NamespaceQuota` blocks), NetworkPolicies (default-deny,
//!   DNS to kube-system on UDP and TCP 53, traffic between the tenant's own namespaces, and the
//!   namespaces and CIDRs allowed), and RoleBindings of the members to the built-in `admin`,
//!   `edit` and `view` ClusterRoles;
//! - a Kyverno ClusterPolicy allowing images only from `allowedRegistries`, and a Velero
//!   Schedule backing the namespaces up, when asked for.
//!
//! Tenant namespaces are selected by `kubernetes.io/metadata.name`, which the API server sets
//! and nobody can forge, not by a label a namespace owner could copy. With `backend: capsule`
//! it emits one Capsule Tenant instead, whose owners create the namespaces themselves.

use super::namespace_quota::{self, LimitsSpec, QuotaSpec};
use crate::kind::network::{self, NAMESPACE_NAME};
use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::meta;
use crate::modules::shared::rbac as shared;
use crate::schema::operators;
use crate::types::Profile;
use crate::validate;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::rbac::v1 as rbac;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub struct Tenant;

/// Label naming the tenant a namespace belongs to (for people and cost tools; policies select
/// namespaces by name).
pub const TENANT_LABEL: &str = "nixernetes.io/tenant";
/// Label carrying the tenant's cost center.
pub const COST_CENTER_LABEL: &str = "nixernetes.io/cost-center";
/// Label Capsule sets on the namespaces of its tenants.
const CAPSULE_TENANT_LABEL: &str = "capsule.clastix.io/tenant";

fn restricted() -> Profile {
    Profile::Restricted
}
fn yes() -> bool {
    true
}
fn nightly() -> String {
    "0 2 * * *".into()
}
fn thirty_days() -> String {
    "720h".into()
}
fn velero() -> String {
    "velero".into()
}

/// Network isolation of the tenant's namespaces.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkSpec {
    /// Isolate the namespaces: deny all traffic but DNS, traffic between the tenant's own
    /// namespaces, and what is allowed below.
    #[serde(default = "yes")]
    pub isolation: bool,
    /// Namespaces whose pods may reach the tenant's pods, e.g. the ingress controller's or
    /// monitoring's.
    #[serde(default)]
    pub allow_from_namespaces: Vec<String>,
    /// Address blocks outside the tenant its pods may reach, e.g. `10.20.0.0/16` for a
    /// database outside the cluster, `0.0.0.0/0` for anywhere.
    #[serde(default, rename = "allowEgressCIDRs")]
    pub allow_egress_cidrs: Vec<String>,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            isolation: true,
            allow_from_namespaces: Vec::new(),
            allow_egress_cidrs: Vec::new(),
        }
    }
}

/// Who works in the tenant, as `user:<name>`, `group:<name>` or
/// `serviceaccount:<namespace>:<name>`.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersSpec {
    /// Bound to the built-in `admin` ClusterRole: everything in the namespaces, RBAC within
    /// them included, but not the quota, limits or the namespaces themselves.
    #[serde(default)]
    pub admins: Vec<String>,
    /// Bound to `edit`: workloads, services, configs and Secrets; no RBAC.
    #[serde(default)]
    pub developers: Vec<String>,
    /// Bound to `view`: read everything but Secrets.
    #[serde(default)]
    pub viewers: Vec<String>,
}

/// Scheduled Velero backups of the tenant's namespaces.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackupSpec {
    /// When backups run, as a five-field cron schedule (UTC).
    #[serde(default = "nightly")]
    pub schedule: String,
    /// How long each backup is kept, as a duration such as `720h` (30 days) or `168h`.
    #[serde(default = "thirty_days")]
    pub ttl: String,
    /// Velero BackupStorageLocation; Velero's default location when not given.
    pub storage_location: Option<String>,
    /// Namespace Velero runs in, where the Schedule must be.
    #[serde(default = "velero")]
    pub velero_namespace: String,
}

/// What renders the tenant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Kubernetes objects only: Namespaces, quotas, limits, NetworkPolicies, RoleBindings.
    #[default]
    Native,
    /// One Capsule `Tenant` (capsule.clastix.io/v1beta2): Capsule creates the RoleBindings,
    /// quotas, limits and NetworkPolicies in every namespace the owners (the admins) create.
    Capsule,
}

/// A team's share of the cluster: isolated namespaces with Pod Security, a quota, container
/// limits, member access, and optionally an image registry allowlist and backups.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TenantSpec {
    /// The tenant's namespaces; one named after the tenant when not given (not with the
    /// capsule backend, whose owners create them).
    pub namespaces: Option<Vec<String>>,
    /// The budget of each namespace.
    #[serde(default)]
    pub quota: QuotaSpec,
    /// Per-container defaults and maximum in each namespace.
    #[serde(default)]
    pub limits: LimitsSpec,
    /// Pod Security Standard the namespaces enforce, audit and warn at.
    #[serde(default = "restricted")]
    pub pod_security: Profile,
    /// Network isolation.
    #[serde(default)]
    pub network: NetworkSpec,
    /// Who works in the tenant.
    #[serde(default)]
    pub members: MembersSpec,
    /// Registries (or repository prefixes) the tenant's images must come from, e.g.
    /// `ghcr.io/acme/`: a Kyverno ClusterPolicy enforces it on the tenant's pods.
    #[serde(default)]
    pub allowed_registries: Vec<String>,
    /// Scheduled backups of the namespaces with Velero (native backend).
    pub backup: Option<BackupSpec>,
    /// Cost center, as label `nixernetes.io/cost-center` on the namespaces, for cost tools
    /// that allocate by namespace label.
    pub cost_center: Option<String>,
    /// What renders the tenant.
    #[serde(default)]
    pub backend: Backend,
    /// Most namespaces the owners may create (capsule backend only; unlimited when not given).
    pub max_namespaces: Option<u32>,
}

impl TenantSpec {
    fn namespaces(&self, m: &ModuleResource<'_>) -> Vec<String> {
        match (&self.namespaces, self.backend) {
            (Some(list), _) => list.clone(),
            (None, Backend::Native) => vec![m.name.to_string()],
            (None, Backend::Capsule) => Vec::new(),
        }
    }

    /// `(binding suffix, built-in ClusterRole, members)`.
    fn roles(&self) -> [(&'static str, &'static str, &Vec<String>); 3] {
        [
            ("admins", "admin", &self.members.admins),
            ("developers", "edit", &self.members.developers),
            ("viewers", "view", &self.members.viewers),
        ]
    }
}

/// The Kyverno image pattern of an allowed registry or prefix: always ending in `/*`, so
/// `ghcr.io/acme` does not also allow `ghcr.io/acme-evil/…`.
fn registry_pattern(registry: &str) -> String {
    format!("{}/*", registry.trim_end_matches('/'))
}

fn check_registry(r: &str) -> Result<(), String> {
    let bare = r.trim_end_matches('/');
    let host = bare.split('/').next().unwrap_or("");
    if bare.is_empty()
        || r.contains("://")
        || r.contains(['*', '|', ' ', '@', '?'])
        || bare.contains("//")
        || !(host.contains('.') || host.contains(':') || host == "localhost")
    {
        return Err(format!(
            "{r:?}: expected a registry host with an optional repository prefix, e.g. ghcr.io/acme/ or registry.k8s.io (no scheme, no wildcards; Docker Hub is docker.io/<org>/)"
        ));
    }
    Ok(())
}

/// Checks a Go duration as Velero reads it: numbers with units h, m, s, e.g. `720h`, `1h30m`.
fn check_duration(d: &str) -> Result<(), String> {
    let mut rest = d;
    let mut any = false;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let unit = rest[digits..]
            .bytes()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        if digits == 0 || !matches!(&rest[digits..digits + unit], "h" | "m" | "s") {
            return Err(format!(
                "{d:?}: expected a duration in hours, minutes and seconds, e.g. 720h (30 days), 168h, 1h30m"
            ));
        }
        any = true;
        rest = &rest[digits + unit..];
    }
    if any {
        Ok(())
    } else {
        Err("ttl must not be empty".into())
    }
}

fn validate_spec(spec: &TenantSpec, p: &mut Problems<'_>) {
    let capsule = spec.backend == Backend::Capsule;
    let namespaces = spec.namespaces(p.module());
    if let Some(list) = &spec.namespaces {
        if capsule {
            p.fail(
                "spec.namespaces",
                "with backend capsule the tenant's owners create its namespaces: leave namespaces out (maxNamespaces limits how many)",
            );
        } else if list.is_empty() {
            p.fail(
                "spec.namespaces",
                "a tenant needs at least one namespace: leave namespaces out for one named after it",
            );
        }
    }
    for (i, ns) in spec.namespaces.iter().flatten().enumerate() {
        let field = format!("spec.namespaces[{i}]");
        p.check(&field, validate::dns1123_label(ns));
        if namespaces[..i].contains(ns) {
            p.fail(&field, format!("duplicate namespace {ns:?}"));
        }
        if ns.starts_with("kube-") || ns == "default" {
            p.fail(
                &field,
                format!("{ns} is a namespace of the cluster itself, not one to hand to a tenant"),
            );
        }
    }
    if spec.max_namespaces.is_some() && !capsule {
        p.fail(
            "spec.maxNamespaces",
            "maxNamespaces limits the namespaces Capsule lets owners create: it needs backend capsule (the native backend creates exactly spec.namespaces)",
        );
    }
    spec.quota.check(p, "spec.quota");
    spec.limits.check(p, "spec.limits");
    let net = &spec.network;
    for (i, ns) in net.allow_from_namespaces.iter().enumerate() {
        let field = format!("spec.network.allowFromNamespaces[{i}]");
        p.check(&field, validate::dns1123_label(ns));
        if namespaces.contains(ns) {
            p.warn(
                &field,
                format!(
                    "{ns} is one of the tenant's own namespaces, which reach each other anyway"
                ),
            );
        }
    }
    for (i, c) in net.allow_egress_cidrs.iter().enumerate() {
        p.check(
            format!("spec.network.allowEgressCIDRs[{i}]"),
            validate::cidr::parse(c).map(|_| ()),
        );
    }
    if !net.isolation
        && (!net.allow_from_namespaces.is_empty() || !net.allow_egress_cidrs.is_empty())
    {
        p.fail(
            "spec.network.isolation",
            "allowFromNamespaces and allowEgressCIDRs open an isolated tenant: without isolation everything is open already",
        );
    }
    for (field, _, members) in spec.roles() {
        shared::check_subjects(members, None, p, &format!("spec.members.{field}"));
    }
    if capsule && spec.members.admins.is_empty() {
        p.fail(
            "spec.members.admins",
            "a Capsule tenant needs owners: list its admins",
        );
    }
    for (i, r) in spec.allowed_registries.iter().enumerate() {
        p.check(format!("spec.allowedRegistries[{i}]"), check_registry(r));
    }
    if let Some(b) = &spec.backup {
        if capsule {
            p.fail(
                "spec.backup",
                "Velero Schedules name the namespaces they back up, and a Capsule tenant's namespaces are not known when rendering: back it up with a Schedule of your own",
            );
        }
        p.check(
            "spec.backup.schedule",
            validate::cron::schedule(&b.schedule),
        );
        p.check("spec.backup.ttl", check_duration(&b.ttl));
        if let Some(l) = &b.storage_location {
            p.check(
                "spec.backup.storageLocation",
                validate::dns1123_subdomain(l),
            );
        }
        p.check(
            "spec.backup.veleroNamespace",
            validate::dns1123_label(&b.velero_namespace),
        );
    }
    if let Some(c) = &spec.cost_center {
        p.check("spec.costCenter", validate::label_value(c));
    }
    if spec.pod_security == Profile::Privileged {
        p.warn(
            "spec.podSecurity",
            "privileged lets the tenant's pods take over their nodes, and with them other tenants' pods",
        );
    }
    if spec.roles().iter().all(|(_, _, m)| m.is_empty()) {
        p.warn(
            "spec.members",
            "no members: nobody but cluster administrators can work in the tenant",
        );
    }
}

/// Pod Security Admission labels for `level`, every mode at it.
fn pod_security_labels(level: Profile) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    for mode in ["enforce", "audit", "warn"] {
        let key = format!("pod-security.kubernetes.io/{mode}");
        labels.insert(key.clone(), level.as_str().to_string());
        labels.insert(format!("{key}-version"), "latest".to_string());
    }
    labels
}

/// A NetworkPolicy peer: the namespaces named `names`.
fn namespaces_peer(names: &[String]) -> Value {
    json!({"namespaceSelector": {"matchExpressions": [
        {"key": NAMESPACE_NAME, "operator": "In", "values": names}
    ]}})
}

/// The NetworkPolicies of one namespace of the tenant (after default-deny and allow-dns):
/// `same-tenant`, then `allow-from-namespaces` and `allow-egress-cidrs` when given. The peers of
/// the tenant's own namespaces are `own`.
fn tenant_policies(ns: &str, own: Value, net: &NetworkSpec) -> Vec<Value> {
    let spec = |types: &[&str], pairs: Vec<(&str, Value)>| -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("policyTypes".into(), json!(types));
        m.extend(pairs.into_iter().map(|(k, v)| (k.to_string(), v)));
        m
    };
    let mut out = vec![network::policy(
        "same-tenant",
        ns,
        json!({}),
        spec(
            &["Ingress", "Egress"],
            vec![
                ("ingress", json!([{"from": [own.clone()]}])),
                ("egress", json!([{"to": [own]}])),
            ],
        ),
    )];
    if !net.allow_from_namespaces.is_empty() {
        out.push(network::policy(
            "allow-from-namespaces",
            ns,
            json!({}),
            spec(
                &["Ingress"],
                vec![(
                    "ingress",
                    json!([{"from": [namespaces_peer(&net.allow_from_namespaces)]}]),
                )],
            ),
        ));
    }
    if !net.allow_egress_cidrs.is_empty() {
        let to: Vec<Value> = net
            .allow_egress_cidrs
            .iter()
            .map(|c| json!({"ipBlock": {"cidr": c}}))
            .collect();
        out.push(network::policy(
            "allow-egress-cidrs",
            ns,
            json!({}),
            spec(&["Egress"], vec![("egress", json!([{ "to": to }]))]),
        ));
    }
    out
}

/// The Kyverno ClusterPolicy `<tenant>-allowed-registries`: Pods (and, by Kyverno's autogen,
/// their controllers) of the tenant's namespaces use images of the allowed registries only.
fn registry_policy(
    spec: &TenantSpec,
    m: &ModuleResource<'_>,
    ctx: &Context,
    namespaces: &[String],
) -> Value {
    let pattern = spec
        .allowed_registries
        .iter()
        .map(|r| registry_pattern(r))
        .collect::<Vec<_>>()
        .join(" | ");
    let resources = match spec.backend {
        Backend::Native => json!({"kinds": ["Pod"], "namespaces": namespaces}),
        Backend::Capsule => json!({
            "kinds": ["Pod"],
            "namespaceSelector": {"matchLabels": {CAPSULE_TENANT_LABEL: m.name}},
        }),
    };
    let list = spec.allowed_registries.join(", ");
    json!({
        "apiVersion": ctx.api_version(&operators::KYVERNO_CLUSTER_POLICY),
        "kind": "ClusterPolicy",
        "metadata": {
            "name": format!("{}-allowed-registries", m.name),
            "labels": meta::selector_labels(m.name),
            "annotations": {
                "policies.kyverno.io/title": format!("Allowed registries of tenant {}", m.name),
                "policies.kyverno.io/subject": "Pod",
            },
        },
        "spec": {
            "background": true,
            "rules": [{
                "name": "allowed-registries",
                "match": {"any": [{"resources": resources}]},
                "validate": {
                    "failureAction": "Enforce",
                    "message": format!("images of tenant {} must come from: {list}", m.name),
                    "pattern": {"spec": {
                        "=(ephemeralContainers)": [{"image": pattern}],
                        "=(initContainers)": [{"image": pattern}],
                        "containers": [{"image": pattern}],
                    }},
                },
            }],
        },
    })
}

fn velero_schedule(
    b: &BackupSpec,
    m: &ModuleResource<'_>,
    ctx: &Context,
    namespaces: &[String],
) -> Value {
    let mut template = Map::new();
    template.insert("includedNamespaces".into(), json!(namespaces));
    template.insert("ttl".into(), json!(b.ttl));
    if let Some(l) = &b.storage_location {
        template.insert("storageLocation".into(), json!(l));
    }
    json!({
        "apiVersion": ctx.api_version(&operators::VELERO_SCHEDULE),
        "kind": "Schedule",
        "metadata": {
            "name": m.name,
            "namespace": b.velero_namespace,
            "labels": meta::selector_labels(m.name),
        },
        "spec": {
            "schedule": b.schedule,
            "useOwnerReferencesInBackup": false,
            "template": template,
        },
    })
}

/// The native objects: per namespace, then the cluster-wide ones.
fn native(spec: &TenantSpec, m: &ModuleResource<'_>, ctx: &Context) -> Vec<Value> {
    let namespaces = spec.namespaces(m);
    let mut labels = pod_security_labels(spec.pod_security);
    labels.insert(TENANT_LABEL.into(), m.name.into());
    if let Some(c) = &spec.cost_center {
        labels.insert(COST_CENTER_LABEL.into(), c.clone());
    }
    let mut objects = Vec::new();
    for ns in &namespaces {
        objects.push(meta::to_value(&core::Namespace {
            metadata: ObjectMeta {
                name: Some(ns.clone()),
                labels: Some(labels.clone()),
                ..Default::default()
            },
            ..Default::default()
        }));
        objects.extend(namespace_quota::objects(
            m.name,
            ns,
            &spec.quota,
            &spec.limits,
            ctx,
        ));
        if spec.network.isolation {
            objects.push(network::default_deny(ns));
            objects.push(network::allow_dns(ns));
            objects.extend(tenant_policies(
                ns,
                namespaces_peer(&namespaces),
                &spec.network,
            ));
        }
        for (suffix, role, members) in spec.roles() {
            if members.is_empty() {
                continue;
            }
            objects.push(meta::to_value(&rbac::RoleBinding {
                metadata: meta::meta(&format!("{}-{suffix}", m.name), ns, m.name, None),
                role_ref: shared::role_ref("ClusterRole", role),
                subjects: Some(shared::subjects(members, None)),
            }));
        }
    }
    if !spec.allowed_registries.is_empty() {
        objects.push(registry_policy(spec, m, ctx, &namespaces));
    }
    if let Some(b) = &spec.backup {
        objects.push(velero_schedule(b, m, ctx, &namespaces));
    }
    objects
}

/// A Capsule subject: `{kind, name}` (with the namespace folded into a ServiceAccount's name,
/// as Capsule's owners spell it).
fn capsule_owner(s: &rbac::Subject) -> Value {
    let name = match &s.namespace {
        Some(ns) => format!("system:serviceaccount:{ns}:{}", s.name),
        None => s.name.clone(),
    };
    json!({"kind": s.kind, "name": name})
}

/// The Capsule Tenant (and the registry policy, for repository prefixes Capsule cannot match).
fn capsule(spec: &TenantSpec, m: &ModuleResource<'_>, ctx: &Context) -> Vec<Value> {
    let mut s = Map::new();
    let owners: Vec<Value> = shared::subjects(&spec.members.admins, None)
        .iter()
        .map(capsule_owner)
        .collect();
    s.insert("owners".into(), json!(owners));
    let bindings: Vec<Value> = spec
        .roles()
        .iter()
        .skip(1)
        .filter(|(_, _, members)| !members.is_empty())
        .map(|(_, role, members)| {
            json!({
                "clusterRoleName": role,
                "subjects": meta::to_value(&shared::subjects(members, None)),
            })
        })
        .collect();
    if !bindings.is_empty() {
        s.insert("additionalRoleBindings".into(), json!(bindings));
    }
    let mut ns_options = Map::new();
    if let Some(n) = spec.max_namespaces {
        ns_options.insert("quota".into(), json!(n));
    }
    let mut labels = pod_security_labels(spec.pod_security);
    labels.insert(TENANT_LABEL.into(), m.name.into());
    if let Some(c) = &spec.cost_center {
        labels.insert(COST_CENTER_LABEL.into(), c.clone());
    }
    ns_options.insert("additionalMetadataList".into(), json!([{"labels": labels}]));
    s.insert("namespaceOptions".into(), Value::Object(ns_options));
    s.insert(
        "resourceQuotas".into(),
        json!({"scope": "Namespace", "items": [{"hard": spec.quota.hard()}]}),
    );
    s.insert(
        "limitRanges".into(),
        json!({"items": [{"limits": [meta::to_value(&spec.limits.item(ctx))]}]}),
    );
    if spec.network.isolation {
        let own = json!({"namespaceSelector": {"matchLabels": {CAPSULE_TENANT_LABEL: m.name}}});
        let mut policies: Vec<Value> = vec![network::default_deny(""), network::allow_dns("")];
        policies.extend(tenant_policies("", own, &spec.network));
        let items: Vec<Value> = policies.into_iter().map(|p| p["spec"].clone()).collect();
        s.insert("networkPolicies".into(), json!({"items": items}));
    }
    let mut objects = vec![json!({
        "apiVersion": ctx.api_version(&operators::CAPSULE_TENANT),
        "kind": "Tenant",
        "metadata": {"name": m.name, "labels": meta::selector_labels(m.name)},
        "spec": s,
    })];
    if !spec.allowed_registries.is_empty() {
        objects.push(registry_policy(spec, m, ctx, &[]));
    }
    objects
}

impl Kind for Tenant {
    const KIND: &'static str = "Tenant";
    const SUMMARY: &'static str = "a team's share of the cluster: Namespaces with Pod Security, quota, limits, isolating NetworkPolicies and member RoleBindings (or a Capsule Tenant)";
    const EXAMPLE: Example = crate::example!("examples/multi-tenancy/tenant.yaml");
    type Spec = TenantSpec;

    fn validate(spec: &TenantSpec, p: &mut Problems<'_>) {
        validate_spec(spec, p);
    }
}

impl Generate for Tenant {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("v1", "Namespace"),
        Gvk::new("v1", "ResourceQuota"),
        Gvk::new("v1", "LimitRange"),
        Gvk::new("networking.k8s.io/v1", "NetworkPolicy"),
        Gvk::new("rbac.authorization.k8s.io/v1", "RoleBinding"),
        Gvk::new("kyverno.io/v1", "ClusterPolicy"),
        Gvk::new("velero.io/v1", "Schedule"),
        Gvk::new("capsule.clastix.io/v1beta2", "Tenant"),
    ];

    fn expand(spec: TenantSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let objects = match spec.backend {
            Backend::Native => native(&spec, m, ctx),
            Backend::Capsule => capsule(&spec, m, ctx),
        };
        Expansion {
            objects,
            ..Default::default()
        }
    }
}
