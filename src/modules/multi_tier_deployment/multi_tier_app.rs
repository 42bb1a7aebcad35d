//! `MultiTierApp`: one application of several tiers (a web front, an API, a cache, workers),
//! each a `WebApp`, `Worker` or `StatefulService` of its own, wired by a dependency graph.
//!
//! It owns the graph, not the tiers: every tier becomes the child module resource
//! `<app>-<tier>` of its kind, which the engine expands like any other (so the tier's spec is
//! that kind's spec, validated by that kind, and its errors point at
//! `spec.tiers[i].spec.<field>`). What it adds is what crosses tiers: each tier's `dependsOn`
//! becomes its child's `dependsOn` (so the engine's NetworkPolicy pass allows exactly the edges
//! of the graph), the `exposure` becomes the exposed tier's Ingress, the app's `compliance`
//! goes to every tier, and the labels `app.kubernetes.io/part-of: <app>` and
//! `app.kubernetes.io/component: <tier>` go on everything a tier emits. It writes no
//! NetworkPolicy itself.

use crate::finding::has_errors;
use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Nested, Problems, Role};
use crate::modules::shared::compliance::ComplianceSpec;
use crate::modules::shared::meta;
use crate::resource::{Resource, API_VERSION};
use crate::validate;
use crate::validate::suggest::did_you_mean;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub struct MultiTierApp;

/// An application of several tiers, each a `WebApp`, `Worker` or `StatefulService` named
/// `<app>-<tier>`, connected by `dependsOn`: the generated NetworkPolicies allow exactly the
/// connections of that graph (and DNS), and the exposed tier gets an Ingress.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MultiTierAppSpec {
    /// The tiers (at least one), in the order their objects are emitted.
    #[schemars(length(min = 1))]
    pub tiers: Vec<TierSpec>,
    /// The tier reached from outside the cluster, through an Ingress for `host` (a `WebApp`
    /// tier; none when not given).
    pub exposure: Option<ExposureSpec>,
    /// `derive` (default): NetworkPolicies from the tier graph (default-deny, DNS, each
    /// `dependsOn` edge on the dependency's ports, ingress to the exposed tier); `none`: the
    /// tiers get none, and their network policy is left to you (other module workloads in the
    /// namespace still bring its default-deny).
    #[serde(default)]
    pub network_policy: NetworkPolicyMode,
    /// Compliance every tier is held to (labels on everything the app emits); a tier's own
    /// `spec.compliance` wins.
    pub compliance: Option<ComplianceSpec>,
}

/// One tier of the application.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TierSpec {
    /// Tier name (a DNS-1123 label, e.g. `api`): its workload is named `<app>-<name>` and
    /// labelled `app.kubernetes.io/component: <name>`.
    pub name: String,
    /// The kind that runs the tier.
    pub kind: TierKind,
    /// The tier's spec: the spec of its `kind` (`kubectl nixernetes explain <kind>`), without
    /// `dependsOn` on other tiers (give those in the tier's own `dependsOn`).
    #[serde(default)]
    pub spec: Map<String, Value>,
    /// Names of the tiers this one connects to: allowed by the generated NetworkPolicies on
    /// their ports. The graph must have no cycle.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// The kind that runs a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TierKind {
    /// An HTTP service behind a Service (the only kind that can be exposed).
    WebApp,
    /// A background worker: no Service, nothing connects to it.
    Worker,
    /// A stateful service (a StatefulSet, e.g. a cache or a queue).
    StatefulService,
}

impl TierKind {
    /// The longest suffix the kind appends to its resource's name.
    fn longest_suffix(self) -> &'static str {
        match self {
            TierKind::WebApp | TierKind::Worker => "-config",
            TierKind::StatefulService => "-headless",
        }
    }

    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            TierKind::WebApp => "WebApp",
            TierKind::Worker => "Worker",
            TierKind::StatefulService => "StatefulService",
        }
    }
}

/// The tier reached from outside the cluster, through a networking.k8s.io/v1 Ingress.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExposureSpec {
    /// The exposed tier (a `WebApp` tier).
    pub tier: String,
    /// Host name, e.g. `chat.example.com` (a leading `*.` for a wildcard).
    pub host: String,
    /// Path prefix routed to the tier's Service.
    #[serde(default = "crate::modules::shared::defaults::root_path")]
    pub path: String,
    /// IngressClass to use; the cluster's default when not given.
    pub class_name: Option<String>,
    /// TLS for `host`; `{}` uses the Secret `<app>-<tier>-tls`.
    pub tls: Option<TlsSpec>,
}

/// TLS of the exposure's Ingress.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsSpec {
    /// Secret holding the certificate; `<app>-<tier>-tls` when not given.
    pub secret_name: Option<String>,
}

/// Whether the tiers get NetworkPolicies derived from the tier graph.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NetworkPolicyMode {
    /// From the tier graph: each `dependsOn` edge, DNS and the exposure; nothing else.
    #[default]
    Derive,
    /// None for the tiers: network policy is left to you.
    None,
}

impl Kind for MultiTierApp {
    const KIND: &'static str = "MultiTierApp";
    const SUMMARY: &'static str =
        "an application of WebApp, Worker and StatefulService tiers, with NetworkPolicies from its dependency graph";
    const EXAMPLE: Example = crate::example!("examples/multi-tier-deployment/multi-tier-app.yaml");
    type Spec = MultiTierAppSpec;

    fn validate(spec: &MultiTierAppSpec, p: &mut Problems<'_>) {
        // The schema's `minItems: 1`: an app of no tiers would render nothing, exit 0.
        if spec.tiers.is_empty() {
            p.fail(
                "spec.tiers",
                "list at least one tier (a WebApp, Worker or StatefulService)",
            );
        }
        // The longest name a tier derives from the app's (`<app>-<tier>-config`, …).
        if let Some(longest) = spec
            .tiers
            .iter()
            .map(|t| format!("-{}{}", t.name, t.kind.longest_suffix()))
            .max_by_key(String::len)
        {
            meta::check_name_room(&longest, p);
        }
        check_graph(spec, p);
        check_exposure(spec, p);
        if let Some(c) = &spec.compliance {
            c.check(p, "spec.compliance");
        }
        // The tiers are validated by their own kinds when they expand. When the app itself is
        // refused they never do: check them now, so that one run reports every error.
        if has_errors(&p.findings) {
            check_tiers(spec, p);
        }
    }
}

impl Generate for MultiTierApp {
    /// What its tiers' kinds emit (the NetworkPolicies are the engine's).
    const EMITS: &'static [Gvk] = &[
        Gvk::new("v1", "ServiceAccount"),
        Gvk::new("v1", "ConfigMap"),
        Gvk::new("apps/v1", "Deployment"),
        Gvk::new("apps/v1", "StatefulSet"),
        Gvk::new("v1", "Service"),
        Gvk::new("policy/v1", "PodDisruptionBudget"),
        Gvk::new("autoscaling/v2", "HorizontalPodAutoscaler"),
        Gvk::new("networking.k8s.io/v1", "Ingress"),
        Gvk::new("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ];

    fn expand(spec: MultiTierAppSpec, m: &ModuleResource<'_>, _ctx: &Context) -> Expansion {
        let mut e = Expansion::default();
        for (i, tier) in spec.tiers.iter().enumerate() {
            e.objects.push(child(&spec, tier, m, true));
            e.nested.push(nested(i, spec.network_policy));
        }
        e
    }
}

/// Where tier `i` is written, for the engine's findings about its child.
fn nested(i: usize, mode: NetworkPolicyMode) -> Nested {
    Nested {
        index: i,
        entry: format!("spec.tiers[{i}]"),
        spec: format!("spec.tiers[{i}].spec"),
        network_policies: mode == NetworkPolicyMode::Derive,
    }
}

/// The name of the child of `tier` in app `app`.
fn child_name(app: &str, tier: &str) -> String {
    format!("{app}-{tier}")
}

/// The child module resource of `tier`: its kind's spec, plus (when `wired`) the edges,
/// exposure and compliance of the app.
fn child(spec: &MultiTierAppSpec, tier: &TierSpec, m: &ModuleResource<'_>, wired: bool) -> Value {
    let mut s = tier.spec.clone();
    if wired {
        wire(spec, tier, m, &mut s);
    }
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(child_name(m.name, &tier.name)));
    if !m.namespace.is_empty() {
        metadata.insert("namespace".into(), json!(m.namespace));
    }
    metadata.insert(
        "labels".into(),
        json!({
            "app.kubernetes.io/part-of": m.name,
            "app.kubernetes.io/component": tier.name,
        }),
    );
    json!({
        "apiVersion": API_VERSION,
        "kind": tier.kind.as_str(),
        "metadata": metadata,
        "spec": s,
    })
}

/// Adds to the spec `s` of `tier` what the app gives it: its edges, the exposure and the
/// compliance.
fn wire(
    spec: &MultiTierAppSpec,
    tier: &TierSpec,
    m: &ModuleResource<'_>,
    s: &mut Map<String, Value>,
) {
    if !tier.depends_on.is_empty() {
        // After the tier's own `dependsOn` (on workloads outside the app), so their indexes,
        // and the lines findings about them name, stay as written.
        if let Value::Array(deps) = s.entry("dependsOn").or_insert_with(|| json!([])) {
            deps.extend(
                tier.depends_on
                    .iter()
                    .map(|d| Value::String(child_name(m.name, d))),
            );
        }
    }
    if let Some(c) = &spec.compliance {
        s.entry("compliance")
            .or_insert_with(|| serde_json::to_value(c).expect("a spec serializes"));
    }
    if let Some(x) = spec.exposure.as_ref().filter(|x| x.tier == tier.name) {
        let mut ingress = Map::new();
        ingress.insert("host".into(), json!(x.host));
        ingress.insert("path".into(), json!(x.path));
        if let Some(c) = &x.class_name {
            ingress.insert("className".into(), json!(c));
        }
        if let Some(t) = &x.tls {
            ingress.insert("tls".into(), serde_json::to_value(t).expect("serializes"));
        }
        s.insert("ingress".into(), Value::Object(ingress));
    }
}

/// Tier names (valid, distinct) and the dependency graph (known tiers, no self-dependency, no
/// cycle; no tier named in a tier spec's own `dependsOn`).
fn check_graph(spec: &MultiTierAppSpec, p: &mut Problems<'_>) {
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, t) in spec.tiers.iter().enumerate() {
        let field = format!("spec.tiers[{i}].name");
        if let Err(why) = validate::dns1123_label(&t.name) {
            p.fail(field, why);
        } else if let Some(first) = index.get(t.name.as_str()) {
            p.fail(
                field,
                format!(
                    "duplicate tier name {:?}: spec.tiers[{first}] has it too",
                    t.name
                ),
            );
        } else {
            index.insert(&t.name, i);
        }
    }
    let names = || spec.tiers.iter().map(|t| t.name.as_str());
    // Edges by tier index; unknown names and self-edges are reported and left out.
    let mut edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); spec.tiers.len()];
    for (i, t) in spec.tiers.iter().enumerate() {
        for (k, d) in t.depends_on.iter().enumerate() {
            let field = format!("spec.tiers[{i}].dependsOn[{k}]");
            if t.depends_on[..k].contains(d) {
                p.fail(field, format!("tier {d:?} is listed twice"));
            } else if *d == t.name {
                p.fail(field, format!("tier {d:?} depends on itself"));
            } else {
                match index.get(d.as_str()) {
                    Some(&j) => edges[i].push((j, k)),
                    None => {
                        let hint = did_you_mean(d, names())
                            .map(|h| format!(": {h}"))
                            .unwrap_or_else(|| {
                                let mut known: Vec<&str> = index.keys().copied().collect();
                                known.sort_unstable();
                                format!("; the tiers are {}", known.join(", "))
                            });
                        p.fail(field, format!("no tier is named {d:?}{hint}"));
                    }
                }
            }
        }
        // The spec's own `dependsOn` names workloads outside the app; a tier there would be
        // looked for under its bare name and never found.
        if let Some(Value::Array(own)) = t.spec.get("dependsOn") {
            for (k, d) in own.iter().enumerate() {
                if let Some(d) = d.as_str().filter(|d| index.contains_key(d)) {
                    p.fail(
                        format!("spec.tiers[{i}].spec.dependsOn[{k}]"),
                        format!(
                            "{d:?} is a tier of this app: list it in spec.tiers[{i}].dependsOn (spec.dependsOn is for workloads outside the app)"
                        ),
                    );
                }
            }
        }
    }
    for (field, cycle) in cycles(&edges) {
        let path: Vec<&str> = cycle.iter().map(|&i| spec.tiers[i].name.as_str()).collect();
        p.fail(field, format!("dependency cycle: {}", path.join(" → ")));
    }
}

/// Every cycle of the graph (`edges[i]`: the tiers `i` depends on, with the index of the
/// `dependsOn` entry), once each: the field of the entry that closes it, and its tiers from
/// the first back to itself (`a → b → a`).
fn cycles(edges: &[Vec<(usize, usize)>]) -> Vec<(String, Vec<usize>)> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        OnPath,
        Done,
    }
    let mut state = vec![State::New; edges.len()];
    let mut found = Vec::new();
    for start in 0..edges.len() {
        if state[start] != State::New {
            continue;
        }
        // Depth-first, iteratively: (tier, next edge to follow).
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = State::OnPath;
        while let Some(&mut (at, ref mut next)) = path.last_mut() {
            let Some(&(to, k)) = edges[at].get(*next) else {
                state[at] = State::Done;
                path.pop();
                continue;
            };
            *next += 1;
            match state[to] {
                State::New => {
                    state[to] = State::OnPath;
                    path.push((to, 0));
                }
                State::OnPath => {
                    let from = path.iter().position(|&(t, _)| t == to).unwrap_or(0);
                    let mut cycle: Vec<usize> = path[from..].iter().map(|&(t, _)| t).collect();
                    cycle.push(to);
                    found.push((format!("spec.tiers[{at}].dependsOn[{k}]"), cycle));
                }
                State::Done => {}
            }
        }
    }
    found
}

/// The exposure names a `WebApp` tier that does not expose itself already.
fn check_exposure(spec: &MultiTierAppSpec, p: &mut Problems<'_>) {
    let Some(x) = &spec.exposure else { return };
    match spec.tiers.iter().position(|t| t.name == x.tier) {
        None => {
            let hint = did_you_mean(&x.tier, spec.tiers.iter().map(|t| t.name.as_str()))
                .map(|h| format!(": {h}"))
                .unwrap_or_default();
            p.fail(
                "spec.exposure.tier",
                format!("no tier is named {:?}{hint}", x.tier),
            );
        }
        Some(i) => {
            let tier = &spec.tiers[i];
            match tier.kind {
                TierKind::WebApp => {}
                TierKind::Worker => p.fail(
                    "spec.exposure.tier",
                    format!(
                        "tier {:?} is a Worker, which serves no port: expose a WebApp tier",
                        x.tier
                    ),
                ),
                TierKind::StatefulService => p.fail(
                    "spec.exposure.tier",
                    format!(
                        "tier {:?} is a StatefulService, which gets no Ingress: expose a WebApp tier in front of it",
                        x.tier
                    ),
                ),
            }
            for own in ["ingress", "route"] {
                if tier.spec.contains_key(own) {
                    p.fail(
                        format!("spec.tiers[{i}].spec.{own}"),
                        format!(
                            "tier {:?} is exposed by spec.exposure: remove its own {own}",
                            x.tier
                        ),
                    );
                }
            }
        }
    }
    p.check(
        "spec.exposure.host",
        validate::dns1123_subdomain(x.host.trim_start_matches("*.")),
    );
    if !x.path.starts_with('/') {
        p.fail("spec.exposure.path", "path must start with '/'");
    }
    if let Some(c) = &x.class_name {
        p.check("spec.exposure.className", validate::dns1123_subdomain(c));
    }
    if let Some(s) = x.tls.as_ref().and_then(|t| t.secret_name.as_ref()) {
        p.check(
            "spec.exposure.tls.secretName",
            validate::dns1123_subdomain(s),
        );
    }
}

/// Runs each tier's own kind over its child (only when the app is refused, so its tiers never
/// expand) and adds their errors at the tiers' fields.
fn check_tiers(spec: &MultiTierAppSpec, p: &mut Problems<'_>) {
    let m = p.module();
    let parent = Arc::new(m.resource.object_ref());
    let ctx = Context::default();
    let mut found = Vec::new();
    for (i, tier) in spec.tiers.iter().enumerate() {
        let Some(Role::Generate(generate)) = crate::modules::registry()
            .lookup(tier.kind.as_str())
            .map(|d| &d.role)
        else {
            continue;
        };
        // The tier as written: what the app adds to it, the app checks itself.
        let Value::Object(map) = child(spec, tier, m, false) else {
            continue;
        };
        let res = Resource::new(map, m.resource.origin.clone());
        let name = res.name().to_string();
        let child = ModuleResource {
            resource: &res,
            name: &name,
            namespace: m.namespace.clone(),
        };
        if let Err(findings) = generate(&child, &ctx) {
            let at = nested(i, spec.network_policy);
            let child = res.object_ref();
            // Findings about the child's identity (its name) are the app's, already made.
            found.extend(
                findings
                    .into_iter()
                    .map(|mut f| {
                        at.relocate(&mut f, &child, &parent);
                        f
                    })
                    .filter(|f| f.field.as_deref() != Some(at.entry.as_str())),
            );
        }
    }
    p.findings.extend(found);
}
