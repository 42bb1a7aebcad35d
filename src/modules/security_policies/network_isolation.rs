//! `NetworkIsolation`: NetworkPolicies by hand for its namespace. `default-deny` and `allow-dns`
//! (built by `kind::network`, so they are the very objects the generation pass writes for module
//! workloads; that pass then leaves those names alone) and one `<name>-<rule>` per rule.
//! Namespace peers are selected by `kubernetes.io/metadata.name`, the label Kubernetes sets, not
//! the original's `name`.

use crate::kind::network;
use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::defaults;
use crate::types::{IntOrString, Protocol};
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub struct NetworkIsolation;

/// NetworkPolicies for a namespace: default-deny, DNS egress, and allow rules between pods,
/// namespaces and CIDRs.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkIsolationSpec {
    /// `default-deny`: isolate every pod of the namespace, ingress and egress.
    #[serde(default = "defaults::yes")]
    pub default_deny: bool,
    /// `allow-dns`: let every pod of the namespace reach kube-system on UDP and TCP 53.
    #[serde(default = "defaults::yes")]
    pub allow_dns: bool,
    /// Allow rules, each a NetworkPolicy `<name>-<rule>`.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

/// One allow rule: traffic of the selected pods from and to the peers, on the ports.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleSpec {
    /// Rule name (a DNS-1123 label); the policy is named `<name>-<rule>`.
    pub name: String,
    /// Labels of the pods the rule is about (required, not empty).
    pub pod_selector: BTreeMap<String, String>,
    /// Peers the pods accept traffic from.
    #[serde(default)]
    pub ingress_from: Vec<PeerSpec>,
    /// Peers the pods may open connections to.
    #[serde(default)]
    pub egress_to: Vec<PeerSpec>,
    /// Ports the rule allows, in both directions; every port when empty.
    #[serde(default)]
    pub ports: Vec<RulePortSpec>,
}

/// The other side of a rule: exactly one of `podSelector` (pods of this namespace; `{}` is all of
/// them), `namespace` (every pod of that namespace) or `cidr` (with optional `except`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PeerSpec {
    /// Labels of pods in this namespace; `{}` is all of them.
    pub pod_selector: Option<BTreeMap<String, String>>,
    /// Every pod of this namespace.
    pub namespace: Option<String>,
    /// An IP block, e.g. `10.0.0.0/8`, `0.0.0.0/0` for anywhere.
    pub cidr: Option<String>,
    /// Blocks inside `cidr` to leave out.
    pub except: Option<Vec<String>>,
}

/// A port a rule allows.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RulePortSpec {
    /// Port number or name.
    pub port: IntOrString,
    /// Transport protocol.
    #[serde(default)]
    pub protocol: Protocol,
}

impl PeerSpec {
    fn check(&self, ch: &mut Problems<'_>, field: &str) {
        let given = [
            self.pod_selector.is_some(),
            self.namespace.is_some(),
            self.cidr.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            ch.fail(
                field,
                "set exactly one of podSelector, namespace or cidr (`0.0.0.0/0` and `::/0` for anywhere)",
            );
        }
        if let Some(sel) = &self.pod_selector {
            check_labels(sel, ch, &format!("{field}.podSelector"));
        }
        if let Some(ns) = &self.namespace {
            ch.check(format!("{field}.namespace"), validate::dns1123_label(ns));
        }
        if self.except.is_some() && self.cidr.is_none() {
            ch.fail(
                format!("{field}.except"),
                "except needs a cidr to carve from",
            );
        }
        let Some(cidr) = &self.cidr else { return };
        let outer = match validate::cidr::parse(cidr) {
            Ok(c) => Some(c),
            Err(why) => {
                ch.fail(format!("{field}.cidr"), why);
                None
            }
        };
        for (i, e) in self.except.iter().flatten().enumerate() {
            let f = format!("{field}.except[{i}]");
            match (validate::cidr::parse(e), outer) {
                (Err(why), _) => ch.fail(f, why),
                (Ok(inner), Some(outer)) if !outer.strictly_contains(&inner) => ch.fail(
                    f,
                    format!("{e} is not a strict subset of the cidr {outer}: except blocks must lie inside it and be smaller"),
                ),
                _ => {}
            }
        }
    }

    fn to_value(&self) -> Value {
        if let Some(sel) = &self.pod_selector {
            return json!({"podSelector": selector(sel)});
        }
        if let Some(ns) = &self.namespace {
            return network::namespace(ns);
        }
        let mut block = Map::new();
        block.insert("cidr".into(), json!(self.cidr));
        if let Some(except) = self.except.as_ref().filter(|e| !e.is_empty()) {
            block.insert("except".into(), json!(except));
        }
        json!({ "ipBlock": block })
    }
}

/// A LabelSelector of `labels`; `{}` (everything) when there are none.
fn selector(labels: &BTreeMap<String, String>) -> Value {
    if labels.is_empty() {
        return json!({});
    }
    let map: Map<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    network::match_labels(&map)
}

fn check_labels(labels: &BTreeMap<String, String>, ch: &mut Problems<'_>, field: &str) {
    for (k, v) in labels {
        ch.check(format!("{field}.{k}"), validate::label_key(k));
        ch.check(format!("{field}.{k}"), validate::label_value(v));
    }
}

impl RuleSpec {
    fn check(&self, ch: &mut Problems<'_>, field: &str) {
        ch.check(format!("{field}.name"), validate::dns1123_label(&self.name));
        if self.pod_selector.is_empty() {
            ch.fail(
                format!("{field}.podSelector"),
                "podSelector must name at least one label: the rule is about these pods (default-deny covers the whole namespace)",
            );
        }
        check_labels(&self.pod_selector, ch, &format!("{field}.podSelector"));
        if self.ingress_from.is_empty() && self.egress_to.is_empty() {
            ch.fail(
                field,
                "a rule needs ingressFrom or egressTo (use cidr `0.0.0.0/0` and `::/0` for anywhere)",
            );
        }
        for (dir, peers) in [
            ("ingressFrom", &self.ingress_from),
            ("egressTo", &self.egress_to),
        ] {
            for (i, p) in peers.iter().enumerate() {
                p.check(ch, &format!("{field}.{dir}[{i}]"));
            }
        }
        for (i, p) in self.ports.iter().enumerate() {
            let f = format!("{field}.ports[{i}]");
            ch.check(format!("{f}.port"), p.port.check_port());
            if self.ports[..i]
                .iter()
                .any(|q| q.port == p.port && q.protocol == p.protocol)
            {
                ch.fail(
                    format!("{f}.port"),
                    format!(
                        "duplicate port {}/{}",
                        port_text(&p.port),
                        p.protocol.as_str()
                    ),
                );
            }
        }
    }

    /// The rule's NetworkPolicy, `<module>-<rule>`.
    fn policy(&self, m: &ModuleResource<'_>) -> Value {
        let ports: Vec<Value> = self
            .ports
            .iter()
            .map(|p| {
                let port = match &p.port {
                    IntOrString::Int(i) => json!(i),
                    IntOrString::String(s) => json!(s),
                };
                json!({"protocol": p.protocol.as_str(), "port": port})
            })
            .collect();
        let directions = [
            ("Ingress", "ingress", "from", &self.ingress_from),
            ("Egress", "egress", "to", &self.egress_to),
        ];
        let directions = directions.iter().filter(|d| !d.3.is_empty());
        // policyTypes first, as policy_generation writes them.
        let mut spec = Map::new();
        let types: Vec<&str> = directions.clone().map(|d| d.0).collect();
        spec.insert("policyTypes".into(), json!(types));
        for (_, field, peers_key, peers) in directions {
            let mut rule = Map::new();
            rule.insert(
                (*peers_key).into(),
                peers.iter().map(PeerSpec::to_value).collect(),
            );
            if !ports.is_empty() {
                rule.insert("ports".into(), Value::Array(ports.clone()));
            }
            spec.insert((*field).into(), json!([rule]));
        }
        network::policy(
            &self.full_name(m),
            &m.namespace,
            selector(&self.pod_selector),
            spec,
        )
    }

    fn full_name(&self, m: &ModuleResource<'_>) -> String {
        format!("{}-{}", m.name, self.name)
    }
}

fn port_text(p: &IntOrString) -> String {
    match p {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

impl Kind for NetworkIsolation {
    const KIND: &'static str = "NetworkIsolation";
    const SUMMARY: &'static str = "NetworkPolicies for a namespace: default-deny, DNS egress, and allow rules between pods, namespaces and CIDRs";
    const EXAMPLE: Example = crate::example!("examples/security-policies/network-isolation.yaml");
    type Spec = NetworkIsolationSpec;

    fn validate(spec: &NetworkIsolationSpec, ch: &mut Problems<'_>) {
        for (i, r) in spec.rules.iter().enumerate() {
            let field = format!("spec.rules[{i}]");
            r.check(ch, &field);
            if spec.rules[..i].iter().any(|o| o.name == r.name) {
                ch.fail(
                    format!("{field}.name"),
                    format!("duplicate rule name {:?}", r.name),
                );
            }
            let full = r.full_name(ch.module());
            if (full == "default-deny" && spec.default_deny)
                || (full == "allow-dns" && spec.allow_dns)
            {
                ch.fail(
                    format!("{field}.name"),
                    format!("the rule's policy would be named {full:?}, like the namespace-wide one: rename the rule"),
                );
            }
        }
        if spec.allow_dns && !spec.default_deny {
            ch.warn(
                "spec.allowDns",
                "allow-dns selects every pod for egress, so without defaultDeny it still isolates their egress: only DNS and the rules' egress stay allowed",
            );
        }
        if !spec.default_deny && !spec.allow_dns && spec.rules.is_empty() {
            ch.warn(
                "spec",
                "nothing to emit: defaultDeny and allowDns are off and there are no rules",
            );
        }
    }
}

impl Generate for NetworkIsolation {
    const EMITS: &'static [Gvk] = &[Gvk::new("networking.k8s.io/v1", "NetworkPolicy")];

    fn expand(spec: NetworkIsolationSpec, m: &ModuleResource<'_>, _ctx: &Context) -> Expansion {
        let mut objects = Vec::new();
        if spec.default_deny {
            objects.push(network::default_deny(&m.namespace));
        }
        if spec.allow_dns {
            objects.push(network::allow_dns(&m.namespace));
        }
        objects.extend(spec.rules.iter().map(|r| r.policy(m)));
        Expansion {
            objects,
            ..Default::default()
        }
    }
}
