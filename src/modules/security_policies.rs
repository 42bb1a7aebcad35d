//! Seed module `security-policies` (category `security`): `NetworkIsolation` and
//! `PodSecurityProfile`, the zero-trust defaults of the original's policies.nix and
//! policy-generation.nix, with its defects fixed.
//!
//! `NetworkIsolation` emits networking.k8s.io/v1 NetworkPolicies in its namespace: `default-deny`
//! and `allow-dns` (built by `policy_generation`, so they are the very objects it generates for
//! module workloads; it then leaves those names alone) and one `<name>-<rule>` per rule. Namespace
//! peers are selected by `kubernetes.io/metadata.name`, the label Kubernetes sets, not the
//! original's `name`.
//!
//! `PodSecurityProfile` replaces the removed PodSecurityPolicy with Pod Security Admission: one v1
//! Namespace per namespace, labelled `pod-security.kubernetes.io/{enforce,audit,warn}` and their
//! `-version`s. A Namespace of the same name written in the input would be a second copy of the
//! object; the engine reports that collision, since only it sees the whole set.

use super::common::{IntOrString, Protocol};
use super::policy_generation::{self as netpol, NAMESPACE_NAME};
use super::{Checks, Expansion, KindDef, Module, Role};
use crate::engine::context::Context;
use crate::policy::Profile;
use crate::report::Finding;
use crate::validate;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const FRAMEWORK: &str = "security-policies";
const CATEGORY: &str = "security";

pub const NETWORK_ISOLATION: KindDef = KindDef {
    kind: "NetworkIsolation",
    framework: FRAMEWORK,
    category: CATEGORY,
    summary: "NetworkPolicies for a namespace: default-deny, DNS egress, and allow rules between pods, namespaces and CIDRs",
    role: Role::Generate(network_isolation),
};
pub const POD_SECURITY_PROFILE: KindDef = KindDef {
    kind: "PodSecurityProfile",
    framework: FRAMEWORK,
    category: CATEGORY,
    summary: "Pod Security Admission: Namespaces labelled with enforce, audit and warn levels",
    role: Role::Generate(pod_security_profile),
};

fn yes() -> bool {
    true
}

/// The spec of `NetworkIsolation`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkIsolationSpec {
    /// `default-deny`: isolate every pod of the namespace, ingress and egress.
    #[serde(default = "yes")]
    pub default_deny: bool,
    /// `allow-dns`: let every pod of the namespace reach kube-system on UDP and TCP 53.
    #[serde(default = "yes")]
    pub allow_dns: bool,
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

/// One allow rule: traffic of the selected pods from and to the peers, on the ports.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleSpec {
    pub name: String,
    /// Labels of the pods the rule is about (required, not empty).
    pub pod_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub ingress_from: Vec<PeerSpec>,
    #[serde(default)]
    pub egress_to: Vec<PeerSpec>,
    /// Ports the rule allows, in both directions; every port when empty.
    #[serde(default)]
    pub ports: Vec<RulePortSpec>,
}

/// The other side of a rule: exactly one of `podSelector` (pods of this namespace; `{}` is all of
/// them), `namespace` (every pod of that namespace) or `cidr` (with optional `except`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PeerSpec {
    pub pod_selector: Option<BTreeMap<String, String>>,
    pub namespace: Option<String>,
    pub cidr: Option<String>,
    pub except: Option<Vec<String>>,
}

/// `{port: 8080 | http, protocol: TCP}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePortSpec {
    pub port: IntOrString,
    #[serde(default)]
    pub protocol: Protocol,
}

impl PeerSpec {
    fn check(&self, ch: &mut Checks<'_>, field: &str) {
        let given = [
            self.pod_selector.is_some(),
            self.namespace.is_some(),
            self.cidr.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            ch.fail(
                field,
                "set exactly one of podSelector, namespace or cidr (0.0.0.0/0 and ::/0 for anywhere)",
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
            return json!({"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: ns}}});
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
    netpol::match_labels(&map)
}

fn check_labels(labels: &BTreeMap<String, String>, ch: &mut Checks<'_>, field: &str) {
    for (k, v) in labels {
        ch.check(format!("{field}.{k}"), validate::label_key(k));
        ch.check(format!("{field}.{k}"), validate::label_value(v));
    }
}

impl RuleSpec {
    fn check(&self, ch: &mut Checks<'_>, field: &str) {
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
                "a rule needs ingressFrom or egressTo (use cidr 0.0.0.0/0 and ::/0 for anywhere)",
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
            ch.check(format!("{f}.port"), validate::int_or_string_port(&p.port));
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
    fn policy(&self, m: &Module<'_>) -> Value {
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
        netpol::policy(
            &self.full_name(m),
            &m.namespace,
            selector(&self.pod_selector),
            spec,
        )
    }

    fn full_name(&self, m: &Module<'_>) -> String {
        format!("{}-{}", m.name, self.name)
    }
}

fn port_text(p: &IntOrString) -> String {
    match p {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

fn network_isolation(m: &Module<'_>, _ctx: &Context) -> Result<Expansion, Vec<Finding>> {
    let spec: NetworkIsolationSpec = m.spec()?;
    let mut ch = Checks::new(m);
    for (i, r) in spec.rules.iter().enumerate() {
        let field = format!("spec.rules[{i}]");
        r.check(&mut ch, &field);
        if spec.rules[..i].iter().any(|o| o.name == r.name) {
            ch.fail(
                format!("{field}.name"),
                format!("duplicate rule name {:?}", r.name),
            );
        }
        let full = r.full_name(m);
        if (full == "default-deny" && spec.default_deny) || (full == "allow-dns" && spec.allow_dns)
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
    let findings = ch.finish()?;

    let mut objects = Vec::new();
    if spec.default_deny {
        objects.push(netpol::default_deny(&m.namespace));
    }
    if spec.allow_dns {
        objects.push(netpol::allow_dns(&m.namespace));
    }
    objects.extend(spec.rules.iter().map(|r| r.policy(m)));
    Ok(Expansion {
        objects,
        findings,
        ..Default::default()
    })
}

fn restricted() -> Profile {
    Profile::Restricted
}

/// The spec of `PodSecurityProfile`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSecurityProfileSpec {
    /// The level pods must meet to be admitted (`enforce`).
    #[serde(default = "restricted")]
    pub level: Profile,
    /// The level whose violations are recorded in the audit log; `level` when not given.
    pub audit: Option<Profile>,
    /// The level whose violations are returned as warnings; `level` when not given.
    pub warn: Option<Profile>,
    /// Pod Security Standards version: `latest` (default) or `v1.NN`.
    pub version: Option<String>,
    /// Namespaces to label; the module resource's namespace when not given.
    pub namespaces: Option<Vec<String>>,
}

/// Label prefix of Pod Security Admission.
const PSA: &str = "pod-security.kubernetes.io/";

fn check_version(v: &str) -> Result<(), String> {
    let minor = v.strip_prefix("v1.");
    let ok = v == "latest"
        || minor.is_some_and(|n| {
            !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && (n == "0" || !n.starts_with('0'))
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid version {v:?}: expected latest or a Kubernetes minor such as v1.35"
        ))
    }
}

fn pod_security_profile(m: &Module<'_>, _ctx: &Context) -> Result<Expansion, Vec<Finding>> {
    let spec: PodSecurityProfileSpec = m.spec()?;
    let mut ch = Checks::new(m);
    let version = spec.version.as_deref().unwrap_or("latest");
    ch.check("spec.version", check_version(version));
    let namespaces = match &spec.namespaces {
        Some(list) => {
            if list.is_empty() {
                ch.fail(
                    "spec.namespaces",
                    "namespaces must not be empty: leave it out to label the module's namespace",
                );
            }
            list.clone()
        }
        None if m.namespace.is_empty() => {
            ch.fail(
                "spec.namespaces",
                "no namespace to label: set spec.namespaces or metadata.namespace",
            );
            Vec::new()
        }
        None => vec![m.namespace.clone()],
    };
    for (i, ns) in namespaces.iter().enumerate() {
        let field = format!("spec.namespaces[{i}]");
        ch.check(&field, validate::dns1123_label(ns));
        if namespaces[..i].contains(ns) {
            ch.fail(&field, format!("duplicate namespace {ns:?}"));
        }
        if ns.starts_with("kube-") && spec.level != Profile::Privileged {
            ch.warn(
                &field,
                format!("{ns} runs the cluster's own pods, which often need privileges: enforcing {} there may keep them from starting", spec.level.as_str()),
            );
        }
    }
    let audit = spec.audit.unwrap_or(spec.level);
    let warn = spec.warn.unwrap_or(spec.level);
    for (field, mode, level) in [("spec.audit", "audit", audit), ("spec.warn", "warn", warn)] {
        if level < spec.level {
            ch.warn(
                field,
                format!("{mode} {} is below the enforced level {}: pods it would flag are rejected anyway", level.as_str(), spec.level.as_str()),
            );
        }
    }
    let findings = ch.finish()?;

    let mut labels = BTreeMap::new();
    for (mode, level) in [("enforce", spec.level), ("audit", audit), ("warn", warn)] {
        labels.insert(format!("{PSA}{mode}"), level.as_str().to_string());
        labels.insert(format!("{PSA}{mode}-version"), version.to_string());
    }
    let objects = namespaces
        .iter()
        .map(|ns| {
            super::common::to_value(&core::Namespace {
                metadata: ObjectMeta {
                    name: Some(ns.clone()),
                    labels: Some(labels.clone()),
                    ..Default::default()
                },
                ..Default::default()
            })
        })
        .collect();
    Ok(Expansion {
        objects,
        findings,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use crate::engine::{run, Options, Output};
    use crate::report::Severity;
    use crate::resource::Resource;
    use serde_json::json;

    fn render(yaml: &str) -> Output {
        let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
        run(
            inputs,
            &Options {
                skip_checks: true,
                ..Default::default()
            },
        )
    }

    fn names(out: &Output, kind: &str) -> Vec<String> {
        out.objects
            .iter()
            .filter(|o| o.kind() == kind)
            .map(|o| format!("{}/{}", o.namespace().unwrap_or("-"), o.name()))
            .collect()
    }

    fn find<'a>(out: &'a Output, name: &str) -> &'a Resource {
        out.objects.iter().find(|o| o.name() == name).unwrap()
    }

    fn errors(out: &Output) -> Vec<(String, String)> {
        out.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| (f.field.clone().unwrap_or_default(), f.message.clone()))
            .collect()
    }

    const ISOLATION: &str = "apiVersion: nixernetes.io/v1alpha1
kind: NetworkIsolation
metadata: {name: shop, namespace: shop}
spec:
  rules:
  - name: web
    podSelector: {app: web}
    ingressFrom: [{namespace: ingress-nginx}]
    ports: [{port: 8080}]
  - name: api
    podSelector: {app: api}
    ingressFrom: [{podSelector: {app: web}}]
    egressTo: [{cidr: 10.0.0.0/8, except: [10.96.0.0/12]}, {podSelector: {}}]
    ports: [{port: http}, {port: 5353, protocol: UDP}]
";

    #[test]
    fn network_isolation_emits_default_policies_and_one_per_rule() {
        let out = render(ISOLATION);
        assert!(!out.failed(), "{:?}", out.findings);
        assert_eq!(
            names(&out, "NetworkPolicy"),
            [
                "shop/default-deny",
                "shop/allow-dns",
                "shop/shop-web",
                "shop/shop-api"
            ]
        );
        let web = &find(&out, "shop-web").object["spec"];
        assert_eq!(
            *web,
            json!({
                "podSelector": {"matchLabels": {"app": "web"}},
                "policyTypes": ["Ingress"],
                "ingress": [{
                    "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}],
                    "ports": [{"protocol": "TCP", "port": 8080}],
                }],
            })
        );
        let api = &find(&out, "shop-api").object["spec"];
        assert_eq!(api["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(
            api["egress"][0]["to"],
            json!([{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.96.0.0/12"]}}, {"podSelector": {}}])
        );
        assert_eq!(
            api["ingress"][0]["ports"],
            json!([{"protocol": "TCP", "port": "http"}, {"protocol": "UDP", "port": 5353}])
        );
        let src = find(&out, "default-deny").annotation("nixernetes.io/source");
        assert_eq!(src, Some("NetworkIsolation/shop/shop"));
    }

    #[test]
    fn default_policies_are_those_policy_generation_writes_and_are_not_doubled() {
        let with_app = format!(
            "{ISOLATION}---
apiVersion: nixernetes.io/v1alpha1
kind: Worker
metadata: {{name: jobs, namespace: shop}}
spec: {{image: ghcr.io/acme/jobs:1.0.0}}
"
        );
        let out = render(&with_app);
        assert!(!out.failed(), "{:?}", out.findings);
        let policies = names(&out, "NetworkPolicy");
        assert_eq!(
            policies
                .iter()
                .filter(|n| *n == "shop/default-deny")
                .count(),
            1
        );
        assert_eq!(
            policies.iter().filter(|n| *n == "shop/allow-dns").count(),
            1
        );
        let generated = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: Worker
metadata: {name: jobs, namespace: shop}
spec: {image: ghcr.io/acme/jobs:1.0.0}
",
        );
        for name in ["default-deny", "allow-dns"] {
            assert_eq!(
                find(&out, name).object["spec"],
                find(&generated, name).object["spec"]
            );
        }
    }

    #[test]
    fn a_users_own_policy_wins_over_the_generated_one() {
        let out = render(
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: nixernetes.io/v1alpha1
kind: Worker
metadata: {name: jobs, namespace: shop}
spec: {image: ghcr.io/acme/jobs:1.0.0}
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        let denies: Vec<&Resource> = out
            .objects
            .iter()
            .filter(|o| o.name() == "default-deny")
            .collect();
        assert_eq!(denies.len(), 1);
        assert_eq!(denies[0].object["spec"]["policyTypes"], json!(["Ingress"]));
    }

    #[test]
    fn two_isolations_of_one_namespace_collide() {
        let second =
            ISOLATION.replace("name: shop, namespace: shop", "name: more, namespace: shop");
        let out = render(&format!("{ISOLATION}---\n{second}"));
        let errs = errors(&out);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(
            errs[0].1.starts_with("NetworkPolicy \"default-deny\" in namespace \"shop\" is emitted twice: by NetworkIsolation/shop/shop (t.yaml:1) and by NetworkIsolation/shop/more"),
            "{}",
            errs[0].1
        );
    }

    #[test]
    fn network_isolation_errors_are_collected() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: NetworkIsolation
metadata: {name: default, namespace: shop}
spec:
  rules:
  - name: deny
    podSelector: {}
    ingressFrom:
    - {namespace: a, cidr: 10.0.0.0/8}
    - {cidr: 10.0.0.1/8}
    - {cidr: 10.0.0.0/8, except: [11.0.0.0/16, 10.0.0.0/8]}
    - {podSelector: {app: x}, except: [10.0.0.0/8]}
    ports: [{port: 0}, {port: 80}, {port: 80}]
  - name: deny
    podSelector: {app: x}
",
        );
        let fields: Vec<String> = errors(&out).into_iter().map(|e| e.0).collect();
        assert_eq!(
            fields,
            [
                "spec.rules[0].podSelector",
                "spec.rules[0].ingressFrom[0]",
                "spec.rules[0].ingressFrom[1].cidr",
                "spec.rules[0].ingressFrom[2].except[0]",
                "spec.rules[0].ingressFrom[2].except[1]",
                "spec.rules[0].ingressFrom[3].except",
                "spec.rules[0].ports[0].port",
                "spec.rules[0].ports[2].port",
                "spec.rules[0].name",
                "spec.rules[1]",
                "spec.rules[1].name",
                "spec.rules[1].name",
            ]
        );
        assert!(out.objects.is_empty());
    }

    #[test]
    fn pod_security_profile_labels_namespaces() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: PodSecurityProfile
metadata: {name: pss, namespace: shop}
spec: {level: baseline, audit: restricted, version: v1.35}
---
apiVersion: nixernetes.io/v1alpha1
kind: PodSecurityProfile
metadata: {name: teams}
spec: {namespaces: [team-a, team-b]}
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        assert_eq!(names(&out, "Namespace"), ["-/shop", "-/team-a", "-/team-b"]);
        let shop = find(&out, "shop").labels().unwrap();
        for (k, v) in [
            ("enforce", "baseline"),
            ("enforce-version", "v1.35"),
            ("audit", "restricted"),
            ("audit-version", "v1.35"),
            ("warn", "baseline"),
            ("warn-version", "v1.35"),
        ] {
            assert_eq!(shop[&format!("pod-security.kubernetes.io/{k}")], v);
        }
        let team = find(&out, "team-a").labels().unwrap();
        assert_eq!(team["pod-security.kubernetes.io/warn"], "restricted");
        assert_eq!(team["pod-security.kubernetes.io/enforce-version"], "latest");
        assert_eq!(team["app.kubernetes.io/managed-by"], "nixernetes");
    }

    #[test]
    fn pod_security_profile_errors_and_warnings() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: PodSecurityProfile
metadata: {name: pss}
spec: {level: strict, version: '1.35'}
",
        );
        assert_eq!(errors(&out)[0].0, "spec.level");
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: PodSecurityProfile
metadata: {name: pss}
spec: {version: v1.035, namespaces: [ok, Bad, ok]}
",
        );
        let fields: Vec<String> = errors(&out).into_iter().map(|e| e.0).collect();
        assert_eq!(
            fields,
            ["spec.version", "spec.namespaces[1]", "spec.namespaces[2]"]
        );
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: PodSecurityProfile
metadata: {name: pss}
spec: {warn: baseline, namespaces: [kube-system]}
",
        );
        assert!(!out.failed());
        let warned: Vec<&str> = out
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .filter_map(|f| f.field.as_deref())
            .collect();
        assert_eq!(warned, ["spec.namespaces[0]", "spec.warn"]);
    }

    #[test]
    fn a_namespace_written_in_the_input_collides() {
        let out = render(
            "apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: nixernetes.io/v1alpha1
kind: PodSecurityProfile
metadata: {name: pss, namespace: shop}
",
        );
        let errs = errors(&out);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0]
                .1
                .contains("pod-security.kubernetes.io/enforce=restricted")
                && errs[0].1.contains("t.yaml:1"),
            "{}",
            errs[0].1
        );
    }
}
