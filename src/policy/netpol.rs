//! What a set of NetworkPolicies allows, evaluated the way a conforming network plugin enforces
//! them (the `networking.k8s.io/v1` semantics): a connection from one endpoint to another on a
//! port is allowed when the source's egress and the destination's ingress both allow it. A pod
//! no policy selects for a direction is open in that direction; once one selects it, only what
//! some selecting policy's rules allow gets through.
//!
//! Tests use it to say "web may reach api on 3000, and nothing may reach cache but api" of a
//! rendered set; it reads NetworkPolicy and Namespace objects and the pod templates of workloads.

use super::network::selects;
use super::pod::{get_str, obj, pod_of};
use crate::resource::Field;
use crate::resource::{field, Resource};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::net::IpAddr;

/// One end of a connection.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// A pod: its namespace and labels, its namespace's labels, and its named container ports.
    Pod {
        namespace: String,
        labels: Map<String, Value>,
        namespace_labels: Map<String, Value>,
        /// `(name, port, protocol)` of each named container port.
        ports: Vec<(String, u16, String)>,
    },
    /// An address outside the cluster's pods (matched by `ipBlock` only).
    External(IpAddr),
}

/// The verdict on one connection, with the reason when it is denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// The source's egress policies (named) select it and none of their rules allow this.
    DeniedEgress(Vec<String>),
    /// The destination's ingress policies (named) select it and none of their rules allow this.
    DeniedIngress(Vec<String>),
}

impl Verdict {
    pub fn allowed(&self) -> bool {
        *self == Verdict::Allowed
    }
}

/// The NetworkPolicies and Namespaces of a rendered set.
pub struct Policies<'a> {
    policies: Vec<&'a Resource>,
    namespace_labels: HashMap<String, Map<String, Value>>,
}

impl<'a> Policies<'a> {
    /// Reads the NetworkPolicies and the Namespace labels of `objects`.
    pub fn new(objects: impl IntoIterator<Item = &'a Resource>) -> Policies<'a> {
        let mut policies = Vec::new();
        let mut namespace_labels = HashMap::new();
        for o in objects {
            match (o.api_version(), o.kind()) {
                ("networking.k8s.io/v1", "NetworkPolicy") => policies.push(o),
                ("v1", "Namespace") => {
                    namespace_labels
                        .insert(o.name().to_owned(), o.labels().cloned().unwrap_or_default());
                }
                _ => {}
            }
        }
        Policies {
            policies,
            namespace_labels,
        }
    }

    /// The labels of namespace `name`: those of its Namespace object in the set, plus the
    /// `kubernetes.io/metadata.name` label the API server sets on every namespace.
    pub fn namespace_labels(&self, name: &str) -> Map<String, Value> {
        let mut labels = self.namespace_labels.get(name).cloned().unwrap_or_default();
        labels.insert("kubernetes.io/metadata.name".into(), name.into());
        labels
    }

    /// A pod with `labels` in namespace `namespace` (e.g. an ingress controller's), without
    /// named ports.
    pub fn pod(&self, namespace: &str, labels: &[(&str, &str)]) -> Endpoint {
        Endpoint::Pod {
            namespace: namespace.to_owned(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
                .collect(),
            namespace_labels: self.namespace_labels(namespace),
            ports: Vec::new(),
        }
    }

    /// The pods of a workload object (its pod template, or a Pod), with their named ports; `None`
    /// when `object` carries no pod.
    pub fn pod_of(&self, object: &Resource) -> Option<Endpoint> {
        let pod = pod_of(object)?;
        let namespace = object.namespace().unwrap_or("default").to_owned();
        let mut ports = Vec::new();
        for c in pod.containers() {
            let Some(Value::Array(list)) = field(c.spec, "ports") else {
                continue;
            };
            for p in list.iter().filter_map(Value::as_object) {
                let (Some(name), Some(port)) =
                    (get_str(p, "name"), port_number(p.field("containerPort")))
                else {
                    continue;
                };
                let protocol = get_str(p, "protocol").unwrap_or("TCP");
                ports.push((name.to_owned(), port, protocol.to_owned()));
            }
        }
        Some(Endpoint::Pod {
            namespace_labels: self.namespace_labels(&namespace),
            namespace,
            labels: pod.labels().cloned().unwrap_or_default(),
            ports,
        })
    }

    /// Whether `from` may open a connection to `to` on `port`/`protocol` (`TCP`, `UDP`, `SCTP`).
    pub fn allows(&self, from: &Endpoint, to: &Endpoint, port: u16, protocol: &str) -> Verdict {
        if let Endpoint::Pod { .. } = from {
            let selecting = self.selecting(from, Direction::Egress);
            if !selecting.is_empty()
                && !selecting
                    .iter()
                    .any(|p| self.rule_allows(p, Direction::Egress, to, to, port, protocol))
            {
                return Verdict::DeniedEgress(names(&selecting));
            }
        }
        if let Endpoint::Pod { .. } = to {
            let selecting = self.selecting(to, Direction::Ingress);
            if !selecting.is_empty()
                && !selecting
                    .iter()
                    .any(|p| self.rule_allows(p, Direction::Ingress, from, to, port, protocol))
            {
                return Verdict::DeniedIngress(names(&selecting));
            }
        }
        Verdict::Allowed
    }

    /// The policies that select pod `pod` for `direction`.
    fn selecting(&self, pod: &Endpoint, direction: Direction) -> Vec<&'a Resource> {
        let Endpoint::Pod {
            namespace, labels, ..
        } = pod
        else {
            return Vec::new();
        };
        self.policies
            .iter()
            .copied()
            .filter(|p| p.namespace().unwrap_or("default") == namespace)
            .filter(|p| {
                let spec = obj(field(&p.object, "spec"));
                let selector = spec.and_then(|s| obj(field(s, "podSelector")));
                selector.is_none_or(|s| selects(s, Some(labels)))
                    && spec.is_some_and(|s| has_type(s, direction))
            })
            .collect()
    }

    /// Whether one of `policy`'s rules for `direction` admits `peer` (the other end) on `port`,
    /// named ports resolving against `destination`'s container ports.
    fn rule_allows(
        &self,
        policy: &Resource,
        direction: Direction,
        peer: &Endpoint,
        destination: &Endpoint,
        port: u16,
        protocol: &str,
    ) -> bool {
        let (rules_key, peers_key) = match direction {
            Direction::Ingress => ("ingress", "from"),
            Direction::Egress => ("egress", "to"),
        };
        let Some(Value::Array(rules)) =
            obj(field(&policy.object, "spec")).and_then(|s| field(s, rules_key))
        else {
            return false;
        };
        let namespace = policy.namespace().unwrap_or("default");
        rules.iter().filter_map(Value::as_object).any(|rule| {
            let peers_ok = match field(rule, peers_key) {
                Some(Value::Array(peers)) if !peers.is_empty() => peers
                    .iter()
                    .filter_map(Value::as_object)
                    .any(|p| peer_matches(p, namespace, peer)),
                _ => true,
            };
            let ports_ok = match field(rule, "ports") {
                Some(Value::Array(ports)) if !ports.is_empty() => ports
                    .iter()
                    .filter_map(Value::as_object)
                    .any(|p| port_matches(p, destination, port, protocol)),
                _ => true,
            };
            peers_ok && ports_ok
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Ingress,
    Egress,
}

/// Whether a policy spec restricts `direction`: `policyTypes` when given, else Ingress always
/// and Egress when the policy has egress rules.
fn has_type(spec: &Map<String, Value>, direction: Direction) -> bool {
    let name = match direction {
        Direction::Ingress => "Ingress",
        Direction::Egress => "Egress",
    };
    match field(spec, "policyTypes") {
        Some(Value::Array(types)) => types.iter().any(|t| t.as_str() == Some(name)),
        _ => direction == Direction::Ingress || field(spec, "egress").is_some(),
    }
}

/// Whether one `from`/`to` peer of a policy in `namespace` matches `peer`.
fn peer_matches(rule: &Map<String, Value>, namespace: &str, peer: &Endpoint) -> bool {
    if let Some(block) = obj(field(rule, "ipBlock")) {
        return match peer {
            Endpoint::External(ip) => ip_block_contains(block, *ip),
            // Pod addresses are not known here: an ipBlock is taken to mean outside the pods.
            Endpoint::Pod { .. } => false,
        };
    }
    let Endpoint::Pod {
        namespace: peer_ns,
        labels,
        namespace_labels,
        ..
    } = peer
    else {
        return false;
    };
    let pods = obj(field(rule, "podSelector"));
    let namespaces = obj(field(rule, "namespaceSelector"));
    let ns_ok = match namespaces {
        Some(s) => selects(s, Some(namespace_labels)),
        None => peer_ns == namespace,
    };
    ns_ok && pods.is_none_or(|s| selects(s, Some(labels)))
}

/// Whether a `ports` entry admits `port`/`protocol`; a named port resolves against the
/// destination pod's container ports.
fn port_matches(
    entry: &Map<String, Value>,
    destination: &Endpoint,
    port: u16,
    protocol: &str,
) -> bool {
    let wanted = get_str(entry, "protocol").unwrap_or("TCP");
    if wanted != protocol {
        return false;
    }
    match entry.field("port") {
        None | Some(Value::Null) => true,
        Some(Value::String(name)) if name.parse::<u16>().is_err() => match destination {
            Endpoint::Pod { ports, .. } => ports
                .iter()
                .any(|(n, p, proto)| n == name && *p == port && proto == protocol),
            Endpoint::External(_) => false,
        },
        v => {
            let Some(first) = port_number(v) else {
                return false;
            };
            let last = port_number(entry.field("endPort")).unwrap_or(first);
            (first..=last).contains(&port)
        }
    }
}

fn port_number(v: Option<&Value>) -> Option<u16> {
    match v? {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Whether `ip` is in the block's `cidr` and in none of its `except` ranges.
fn ip_block_contains(block: &Map<String, Value>, ip: IpAddr) -> bool {
    let within = |cidr: &str| cidr_contains(cidr, ip);
    get_str(block, "cidr").is_some_and(within)
        && !matches!(field(block, "except"), Some(Value::Array(ex))
            if ex.iter().filter_map(Value::as_str).any(within))
}

fn cidr_contains(cidr: &str, ip: IpAddr) -> bool {
    let Some((net, bits)) = cidr.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    let (net, addr, width) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => (u128::from(u32::from(n)), u128::from(u32::from(a)), 32),
        (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
        _ => return false,
    };
    if bits > width {
        return false;
    }
    let shift = width - bits;
    shift == width || (net >> shift) == (addr >> shift)
}

fn names(policies: &[&Resource]) -> Vec<String> {
    policies.iter().map(|p| p.name().to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Origin;

    fn objects(yaml: &str) -> Vec<Resource> {
        yaml.split("\n---\n")
            .map(|doc| {
                let value: Value = serde_saphyr::from_str(doc).expect("yaml");
                Resource::new(value.as_object().expect("map").clone(), Origin::default())
            })
            .collect()
    }

    const SET: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: api, ports: [{name: http, containerPort: 3000}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: http}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-egress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {app: api}}}]
      ports: [{port: 3000}]
    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]
      ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
    - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
      ports: [{port: 443}]
"#;

    #[test]
    fn allows_what_both_ends_allow_and_nothing_else() {
        let set = objects(SET);
        let p = Policies::new(&set);
        let api = p.pod_of(&set[1]).expect("pod");
        let web = p.pod("shop", &[("app", "web")]);
        let dns = p.pod("kube-system", &[("k8s-app", "kube-dns")]);
        assert!(p.allows(&web, &api, 3000, "TCP").allowed());
        // The named ingress port is api's 3000 only; UDP is another port.
        assert_eq!(
            p.allows(&web, &api, 8080, "TCP"),
            Verdict::DeniedEgress(vec!["default-deny".into(), "web-egress".into()])
        );
        assert!(!p.allows(&web, &api, 3000, "UDP").allowed());
        // api may not call web: api's egress is default-deny.
        assert!(matches!(
            p.allows(&api, &web, 3000, "TCP"),
            Verdict::DeniedEgress(_)
        ));
        assert!(p.allows(&web, &dns, 53, "UDP").allowed());
        assert!(p.allows(&web, &dns, 53, "TCP").allowed());
        assert!(!p.allows(&web, &dns, 54, "TCP").allowed());
        // Another namespace's pod is not `app: web` of shop.
        let stranger = p.pod("other", &[("app", "web")]);
        assert_eq!(
            p.allows(&stranger, &api, 3000, "TCP"),
            Verdict::DeniedIngress(vec!["default-deny".into(), "api-from-web".into()])
        );
        let public: IpAddr = "1.2.3.4".parse().unwrap();
        let private: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(p
            .allows(&web, &Endpoint::External(public), 443, "TCP")
            .allowed());
        assert!(!p
            .allows(&web, &Endpoint::External(private), 443, "TCP")
            .allowed());
        // Outside callers reach api only through ingress rules, which name web pods only.
        assert!(!p
            .allows(&Endpoint::External(public), &api, 3000, "TCP")
            .allowed());
    }

    #[test]
    fn unselected_pods_are_open_and_policy_types_default_from_the_rules() {
        let set = objects(
            r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: data}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {team: shop}}, podSelector: {matchLabels: {app: api}}}]
      ports: [{port: 5432, endPort: 5433}]
"#,
        );
        let mut p = Policies::new(&set);
        p.namespace_labels.insert(
            "shop".into(),
            [("team".to_owned(), Value::from("shop"))]
                .into_iter()
                .collect(),
        );
        let db = p.pod("data", &[("app", "db")]);
        let api = p.pod("shop", &[("app", "api")]);
        let web = p.pod("shop", &[("app", "web")]);
        let cache = p.pod("data", &[("app", "cache")]);
        assert!(p.allows(&api, &db, 5433, "TCP").allowed());
        assert!(!p.allows(&api, &db, 5434, "TCP").allowed());
        // Both selectors in one peer: the pod must match both.
        assert!(!p.allows(&web, &db, 5432, "TCP").allowed());
        // No egress rules, no policyTypes: db's egress stays open; cache is selected by nothing.
        assert!(p.allows(&db, &cache, 1, "TCP").allowed());
        assert!(p.allows(&web, &cache, 1, "TCP").allowed());
    }

    #[test]
    fn cidrs() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(cidr_contains("10.0.0.0/8", ip("10.255.0.1")));
        assert!(!cidr_contains("10.0.0.0/8", ip("11.0.0.1")));
        assert!(cidr_contains("0.0.0.0/0", ip("8.8.8.8")));
        assert!(cidr_contains("192.168.1.7/32", ip("192.168.1.7")));
        assert!(cidr_contains("fd00::/8", ip("fd12::1")));
        assert!(!cidr_contains("fd00::/8", ip("10.0.0.1")));
        assert!(!cidr_contains("10.0.0.0/33", ip("10.0.0.1")));
        assert!(!cidr_contains("nonsense", ip("10.0.0.1")));
    }
}
