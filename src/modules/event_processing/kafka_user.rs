//! `KafkaUser`: a client identity of a `KafkaCluster`, reconciled by Strimzi's user operator,
//! which writes its credentials to the Secret `<name>`: a SCRAM-SHA-512 password or a client
//! certificate. Its ACLs replace the original's inert consumer-group ConfigMap: a group is an
//! ACL resource here. The spec never takes a password.

use super::strimzi;
use crate::kind::spec::{Generate, Kind};
use crate::kind::{
    Context, Example, Expansion, Gvk, ModuleResource, OutputDef, OutputValue, OutputValues,
    Problems,
};
use crate::schema::operators;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub struct KafkaUser;

/// How the user authenticates; the listener it connects to must accept it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UserAuthentication {
    /// A generated password (Secret keys `password` and `sasl.jaas.config`).
    #[default]
    #[serde(rename = "scram-sha-512")]
    ScramSha512,
    /// A client certificate signed by the clients CA (Secret keys `ca.crt`, `user.crt`,
    /// `user.key`, `user.p12`, `user.password`).
    Tls,
}

/// What an ACL is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AclResource {
    Topic,
    /// A consumer group.
    Group,
    /// The cluster itself (no `name`).
    Cluster,
    /// A transactional producer id.
    TransactionalId,
}

/// How an ACL's `name` matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PatternType {
    /// Exactly `name` (`*` for every one).
    #[default]
    Literal,
    /// Every name starting with `name`.
    Prefix,
}

/// Whether an ACL allows or denies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AclType {
    #[default]
    Allow,
    /// Denies, over any allow.
    Deny,
}

/// A Kafka operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Operation {
    Read,
    Write,
    Create,
    Delete,
    Alter,
    Describe,
    ClusterAction,
    AlterConfigs,
    DescribeConfigs,
    IdempotentWrite,
    All,
}

impl AclResource {
    /// The operations Kafka applies to this resource type.
    fn operations(self) -> &'static [Operation] {
        use Operation::*;
        match self {
            AclResource::Topic => &[
                Read,
                Write,
                Create,
                Delete,
                Alter,
                Describe,
                AlterConfigs,
                DescribeConfigs,
                All,
            ],
            AclResource::Group => &[Read, Delete, Describe, All],
            AclResource::Cluster => &[
                Create,
                Alter,
                Describe,
                ClusterAction,
                AlterConfigs,
                DescribeConfigs,
                IdempotentWrite,
                All,
            ],
            AclResource::TransactionalId => &[Write, Describe, All],
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            AclResource::Topic => "topic",
            AclResource::Group => "group",
            AclResource::Cluster => "cluster",
            AclResource::TransactionalId => "transactionalId",
        }
    }
}

/// One ACL rule of the user.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AclSpec {
    /// The resource type.
    pub resource: AclResource,
    /// The resource's name (a topic, a group, a transactional id; `*` for all); not for
    /// `cluster`.
    pub name: Option<String>,
    /// How `name` matches.
    #[serde(default)]
    pub pattern_type: PatternType,
    /// The operations allowed (or denied).
    pub operations: Vec<Operation>,
    /// The client host it applies to; every host when not given.
    pub host: Option<String>,
    /// Allow or deny.
    #[serde(default, rename = "type")]
    pub type_: AclType,
}

/// Per-broker limits on what the user's clients may use.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QuotasSpec {
    /// Bytes per second its producers may publish to each broker.
    #[schemars(range(min = 0))]
    pub producer_byte_rate: Option<i64>,
    /// Bytes per second its consumers may fetch from each broker.
    #[schemars(range(min = 0))]
    pub consumer_byte_rate: Option<i64>,
    /// Share of each broker's network and I/O threads it may use, in percent.
    #[schemars(range(min = 0))]
    pub request_percentage: Option<i64>,
    /// Partitions per second it may create or delete.
    #[schemars(range(min = 0))]
    pub controller_mutation_rate: Option<f64>,
}

/// A Kafka user managed by Strimzi's user operator: its authentication, ACLs and quotas. Its
/// credentials are in the Secret `<name>`, which the user operator creates.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaUserSpec {
    /// Name of the `KafkaCluster` (Strimzi `Kafka`) in the same namespace the user belongs to.
    pub cluster: String,
    /// How the user authenticates.
    #[serde(default)]
    pub authentication: UserAuthentication,
    /// ACL rules (the cluster needs `authorization: simple`, its default with authentication).
    #[serde(default)]
    pub acls: Vec<AclSpec>,
    /// Quotas.
    pub quotas: Option<QuotasSpec>,
}

fn validate(spec: &KafkaUserSpec, p: &mut Problems<'_>) {
    strimzi::check_cluster(&spec.cluster, p);
    // Kafka principals: a SCRAM user name is at most 64 characters in Strimzi.
    if p.module().name.len() > 64 {
        p.fail(
            "metadata.name",
            "a Kafka user name is at most 64 characters",
        );
    }
    for (i, a) in spec.acls.iter().enumerate() {
        let f = format!("spec.acls[{i}]");
        match (&a.name, a.resource) {
            (Some(_), AclResource::Cluster) => p.fail(
                format!("{f}.name"),
                "an ACL on the cluster has no name: leave it out",
            ),
            (None, r) if r != AclResource::Cluster => p.fail(
                format!("{f}.name"),
                format!(
                    "an ACL on a {} needs its name (or * for every one)",
                    r.as_str()
                ),
            ),
            (Some(n), _) if n.is_empty() => p.fail(format!("{f}.name"), "name must not be empty"),
            (Some(n), _) if n == "*" && a.pattern_type == PatternType::Prefix => p.fail(
                format!("{f}.patternType"),
                "* already matches every name: use patternType literal",
            ),
            _ => {}
        }
        if a.operations.is_empty() {
            p.fail(format!("{f}.operations"), "list at least one operation");
        }
        let allowed = a.resource.operations();
        for (j, op) in a.operations.iter().enumerate() {
            if !allowed.contains(op) {
                let names: Vec<String> = allowed.iter().map(|o| format!("{o:?}")).collect();
                p.fail(
                    format!("{f}.operations[{j}]"),
                    format!(
                        "{op:?} does not apply to a {}: expected one of {}",
                        a.resource.as_str(),
                        names.join(", ")
                    ),
                );
            }
            if a.operations[..j].contains(op) {
                p.fail(
                    format!("{f}.operations[{j}]"),
                    format!("{op:?} is listed twice"),
                );
            }
        }
    }
    if let Some(q) = &spec.quotas {
        // The schema's `minimum: 0`, which the types do not hold (found by kind_specs).
        for (field, negative) in [
            (
                "producerByteRate",
                q.producer_byte_rate.is_some_and(|r| r < 0),
            ),
            (
                "consumerByteRate",
                q.consumer_byte_rate.is_some_and(|r| r < 0),
            ),
            (
                "requestPercentage",
                q.request_percentage.is_some_and(|r| r < 0),
            ),
            (
                "controllerMutationRate",
                q.controller_mutation_rate.is_some_and(|r| r < 0.0),
            ),
        ] {
            if negative {
                p.fail(format!("spec.quotas.{field}"), "a quota is 0 or more");
            }
        }
        if q.request_percentage.is_some_and(|r| r > 100) {
            p.fail(
                "spec.quotas.requestPercentage",
                "requestPercentage is a percentage: 0-100",
            );
        }
        if q.producer_byte_rate.is_none()
            && q.consumer_byte_rate.is_none()
            && q.request_percentage.is_none()
            && q.controller_mutation_rate.is_none()
        {
            p.fail("spec.quotas", "set at least one quota, or leave quotas out");
        }
    }
}

impl Kind for KafkaUser {
    const KIND: &'static str = "KafkaUser";
    const SUMMARY: &'static str =
        "Kafka user on Strimzi's user operator: KafkaUser (credentials Secret, ACLs, quotas)";
    const EXAMPLE: Example = crate::example!("examples/event-processing/kafka-user.yaml");
    type Spec = KafkaUserSpec;

    fn validate(spec: &KafkaUserSpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

impl Generate for KafkaUser {
    const EMITS: &'static [Gvk] = &[Gvk::new("kafka.strimzi.io/v1", "KafkaUser")];

    const OUTPUTS: &'static [OutputDef] = &[
        OutputDef {
            name: "username",
            description: "the user's name (its SASL user name; CN=<name> with TLS)",
            secret: false,
        },
        OutputDef {
            name: "secret",
            description: "name of the Secret the user operator writes the credentials to",
            secret: false,
        },
        OutputDef {
            name: "password",
            description: "the SCRAM-SHA-512 password (scram-sha-512)",
            secret: true,
        },
        OutputDef {
            name: "sasl.jaas.config",
            description: "a ready JAAS configuration for Kafka clients (scram-sha-512)",
            secret: true,
        },
        OutputDef {
            name: "user.crt",
            description: "the client certificate, PEM (tls)",
            secret: true,
        },
        OutputDef {
            name: "user.key",
            description: "the client's private key, PEM (tls)",
            secret: true,
        },
        OutputDef {
            name: "user.p12",
            description: "certificate and key as a PKCS #12 keystore (tls)",
            secret: true,
        },
        OutputDef {
            name: "user.password",
            description: "the PKCS #12 keystore's password (tls)",
            secret: true,
        },
    ];

    fn outputs(spec: &KafkaUserSpec, m: &ModuleResource<'_>, _ctx: &Context) -> OutputValues {
        let secret = |key: &str| OutputValue::Secret {
            name: m.name.to_string(),
            key: key.to_string(),
        };
        let mut out = vec![
            ("username", OutputValue::Value(m.name.to_string())),
            ("secret", OutputValue::Value(m.name.to_string())),
        ];
        let keys: &[&'static str] = match spec.authentication {
            UserAuthentication::ScramSha512 => &["password", "sasl.jaas.config"],
            UserAuthentication::Tls => &["user.crt", "user.key", "user.p12", "user.password"],
        };
        out.extend(keys.iter().map(|k| (*k, secret(k))));
        out
    }

    fn expand(spec: KafkaUserSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let mut s = Map::new();
        let auth = match spec.authentication {
            UserAuthentication::ScramSha512 => "scram-sha-512",
            UserAuthentication::Tls => "tls",
        };
        s.insert("authentication".into(), json!({"type": auth}));
        if !spec.acls.is_empty() {
            let acls: Vec<Value> = spec
                .acls
                .iter()
                .map(|a| {
                    let mut resource = Map::new();
                    resource.insert("type".into(), json!(a.resource.as_str()));
                    if let Some(n) = &a.name {
                        resource.insert("name".into(), json!(n));
                        let pt = match a.pattern_type {
                            PatternType::Literal => "literal",
                            PatternType::Prefix => "prefix",
                        };
                        resource.insert("patternType".into(), json!(pt));
                    }
                    let mut acl = Map::new();
                    acl.insert("resource".into(), Value::Object(resource));
                    acl.insert("operations".into(), json!(a.operations));
                    if let Some(h) = &a.host {
                        acl.insert("host".into(), json!(h));
                    }
                    if a.type_ == AclType::Deny {
                        acl.insert("type".into(), json!("deny"));
                    }
                    Value::Object(acl)
                })
                .collect();
            s.insert(
                "authorization".into(),
                json!({"type": "simple", "acls": acls}),
            );
        }
        if let Some(q) = &spec.quotas {
            let mut quotas = Map::new();
            for (k, v) in [
                ("producerByteRate", q.producer_byte_rate),
                ("consumerByteRate", q.consumer_byte_rate),
                ("requestPercentage", q.request_percentage),
            ] {
                if let Some(v) = v {
                    quotas.insert(k.into(), json!(v));
                }
            }
            if let Some(r) = q.controller_mutation_rate {
                quotas.insert("controllerMutationRate".into(), json!(r));
            }
            s.insert("quotas".into(), Value::Object(quotas));
        }
        Expansion {
            objects: vec![json!({
                "apiVersion": ctx.api_version(&operators::STRIMZI_USER),
                "kind": "KafkaUser",
                "metadata": strimzi::metadata(m.name, &m.namespace, m.name, Some(&spec.cluster)),
                "spec": s,
            })],
            ..Default::default()
        }
    }
}
