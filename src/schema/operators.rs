//! The custom resource kinds the built-in kinds emit, with the apiVersion each is written in by
//! default and the operator that serves it. `PlatformDefaults.spec.apiVersions` overrides a
//! default per `Kind.group` (for an operator release that serves another version); kinds never
//! write an operator apiVersion literally, they ask the context for one of these.

/// A custom resource kind of an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorKind {
    pub kind: &'static str,
    pub group: &'static str,
    /// The version written unless `PlatformDefaults.spec.apiVersions` says otherwise.
    pub version: &'static str,
    /// Who serves it, and from which release the default version is right.
    pub operator: &'static str,
}

impl OperatorKind {
    /// `Kind.group`, the key of `PlatformDefaults.spec.apiVersions`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.kind, self.group)
    }

    /// The default apiVersion, `group/version`.
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    /// The resource name the operator's CRD gives the kind (`kafkas`, `redis`).
    pub fn plural(&self) -> String {
        match self.kind {
            // The MongoDB operator's CRD is `mongodbcommunity.mongodbcommunity.mongodb.com`.
            "MongoDBCommunity" => "mongodbcommunity".to_string(),
            kind => super::crd::plural(kind),
        }
    }

    /// Whether objects of the kind live in a namespace (as the engine writes them).
    pub fn namespaced(&self) -> bool {
        !crate::resource::is_cluster_scoped(&self.api_version(), self.kind)
    }

    /// A CustomResourceDefinition that serves the kind in its default version, with an open
    /// schema (`x-kubernetes-preserve-unknown-fields`): what a cluster needs to accept the
    /// objects, for the API-server double (`api-double --operator-crds`). The operator's own
    /// CRD, with its schema, is what a real cluster should install.
    pub fn crd(&self) -> serde_json::Value {
        let plural = self.plural();
        serde_json::json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {
                "name": format!("{plural}.{}", self.group),
                "annotations": {"nixernetes.io/stands-in-for": self.operator},
            },
            "spec": {
                "group": self.group,
                "names": {
                    "kind": self.kind,
                    "listKind": format!("{}List", self.kind),
                    "plural": plural,
                    "singular": self.kind.to_ascii_lowercase(),
                },
                "scope": if self.namespaced() { "Namespaced" } else { "Cluster" },
                "versions": [{
                    "name": self.version,
                    "served": true,
                    "storage": true,
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": true,
                    }},
                }],
            },
        })
    }
}

const fn kind(
    kind: &'static str,
    group: &'static str,
    version: &'static str,
    operator: &'static str,
) -> OperatorKind {
    OperatorKind {
        kind,
        group,
        version,
        operator,
    }
}

const CNPG: &str = "CloudNativePG >= 1.26";
/// Per-rule `validate.failureAction` (spec-level `validationFailureAction` is deprecated).
const KYVERNO: &str = "Kyverno >= 1.13";

pub const HTTP_ROUTE: OperatorKind = kind(
    "HTTPRoute",
    "gateway.networking.k8s.io",
    "v1",
    "Gateway API >= 1.0 (standard channel)",
);
pub const CNPG_CLUSTER: OperatorKind = kind("Cluster", "postgresql.cnpg.io", "v1", CNPG);
pub const CNPG_SCHEDULED_BACKUP: OperatorKind =
    kind("ScheduledBackup", "postgresql.cnpg.io", "v1", CNPG);
pub const CNPG_POOLER: OperatorKind = kind("Pooler", "postgresql.cnpg.io", "v1", CNPG);
pub const BARMAN_OBJECT_STORE: OperatorKind = kind(
    "ObjectStore",
    "barmancloud.cnpg.io",
    "v1",
    "Barman Cloud CNPG-I plugin >= 0.4",
);
/// The Opstree (OT-Container-Kit) redis-operator: the fields emitted exist in its v1beta2 CRDs
/// from 0.22 (`kubernetesConfig.persistentVolumeClaimRetentionPolicy` era) on.
const REDIS_OPERATOR: &str = "OT-Container-Kit redis-operator >= 0.22";

pub const REDIS: OperatorKind = kind(
    "Redis",
    "redis.redis.opstreelabs.in",
    "v1beta2",
    REDIS_OPERATOR,
);
pub const REDIS_REPLICATION: OperatorKind = kind(
    "RedisReplication",
    "redis.redis.opstreelabs.in",
    "v1beta2",
    REDIS_OPERATOR,
);
pub const REDIS_SENTINEL: OperatorKind = kind(
    "RedisSentinel",
    "redis.redis.opstreelabs.in",
    "v1beta2",
    REDIS_OPERATOR,
);
pub const REDIS_CLUSTER: OperatorKind = kind(
    "RedisCluster",
    "redis.redis.opstreelabs.in",
    "v1beta2",
    REDIS_OPERATOR,
);
/// `kafka.strimzi.io/v1` arrived in 0.49; 1.0 serves nothing older. KRaft and node pools only.
const STRIMZI: &str = "Strimzi >= 0.49 (kafka.strimzi.io/v1)";

pub const STRIMZI_KAFKA: OperatorKind = kind("Kafka", "kafka.strimzi.io", "v1", STRIMZI);
pub const STRIMZI_NODE_POOL: OperatorKind =
    kind("KafkaNodePool", "kafka.strimzi.io", "v1", STRIMZI);
pub const STRIMZI_TOPIC: OperatorKind = kind("KafkaTopic", "kafka.strimzi.io", "v1", STRIMZI);
pub const STRIMZI_USER: OperatorKind = kind("KafkaUser", "kafka.strimzi.io", "v1", STRIMZI);
pub const POD_MONITOR: OperatorKind = kind(
    "PodMonitor",
    "monitoring.coreos.com",
    "v1",
    "Prometheus Operator >= 0.50",
);
pub const SERVICE_MONITOR: OperatorKind = kind(
    "ServiceMonitor",
    "monitoring.coreos.com",
    "v1",
    "Prometheus Operator >= 0.50",
);
pub const MYSQL_INNODB_CLUSTER: OperatorKind = kind(
    "InnoDBCluster",
    "mysql.oracle.com",
    "v2",
    "MySQL Operator for Kubernetes >= 8.4.0-2.1.3 (8.4 LTS track; or 9.x)",
);
pub const MONGODB_COMMUNITY: OperatorKind = kind(
    "MongoDBCommunity",
    "mongodbcommunity.mongodb.com",
    "v1",
    "MongoDB Community Operator >= 0.9, or MongoDB Controllers for Kubernetes >= 1.0",
);
pub const VPA: OperatorKind = kind(
    "VerticalPodAutoscaler",
    "autoscaling.k8s.io",
    "v1",
    "Kubernetes Vertical Pod Autoscaler >= 1.0",
);
pub const KYVERNO_CLUSTER_POLICY: OperatorKind = kind("ClusterPolicy", "kyverno.io", "v1", KYVERNO);
pub const KYVERNO_POLICY: OperatorKind = kind("Policy", "kyverno.io", "v1", KYVERNO);
pub const KYVERNO_VALIDATING_POLICY: OperatorKind = kind(
    "ValidatingPolicy",
    "policies.kyverno.io",
    "v1",
    "Kyverno >= 1.17 (CEL policy types stable)",
);
pub const VELERO_SCHEDULE: OperatorKind = kind("Schedule", "velero.io", "v1", "Velero >= 1.10");
pub const CAPSULE_TENANT: OperatorKind = kind(
    "Tenant",
    "capsule.clastix.io",
    "v1beta2",
    "Capsule >= 0.10 (namespaceOptions.additionalMetadataList)",
);

const ESO: &str = "External Secrets Operator >= 0.16 (v1beta1 unserved since 0.17)";

pub const EXTERNAL_SECRET: OperatorKind = kind("ExternalSecret", "external-secrets.io", "v1", ESO);
pub const SECRET_STORE: OperatorKind = kind("SecretStore", "external-secrets.io", "v1", ESO);
pub const CLUSTER_SECRET_STORE: OperatorKind =
    kind("ClusterSecretStore", "external-secrets.io", "v1", ESO);
pub const SEALED_SECRET: OperatorKind = kind(
    "SealedSecret",
    "bitnami.com",
    "v1alpha1",
    "Sealed Secrets controller >= 0.20",
);

/// `override.statefulSet` and the default-user Secret's `connection_string`; from 2.17 the
/// operator also sets a Pod Security `restricted` security context itself.
const RABBITMQ_CLUSTER_OPERATOR: &str = "RabbitMQ Cluster Operator >= 2.0";
/// `Permission.userReference`, `User.importCredentialsSecret` and `Queue.deletionPolicy`.
const RABBITMQ_TOPOLOGY_OPERATOR: &str = "RabbitMQ Messaging Topology Operator >= 1.17";

pub const RABBITMQ_CLUSTER: OperatorKind = kind(
    "RabbitmqCluster",
    "rabbitmq.com",
    "v1beta1",
    RABBITMQ_CLUSTER_OPERATOR,
);
pub const RABBITMQ_QUEUE: OperatorKind = kind(
    "Queue",
    "rabbitmq.com",
    "v1beta1",
    RABBITMQ_TOPOLOGY_OPERATOR,
);
pub const RABBITMQ_EXCHANGE: OperatorKind = kind(
    "Exchange",
    "rabbitmq.com",
    "v1beta1",
    RABBITMQ_TOPOLOGY_OPERATOR,
);
pub const RABBITMQ_BINDING: OperatorKind = kind(
    "Binding",
    "rabbitmq.com",
    "v1beta1",
    RABBITMQ_TOPOLOGY_OPERATOR,
);
pub const RABBITMQ_USER: OperatorKind = kind(
    "User",
    "rabbitmq.com",
    "v1beta1",
    RABBITMQ_TOPOLOGY_OPERATOR,
);
pub const RABBITMQ_PERMISSION: OperatorKind = kind(
    "Permission",
    "rabbitmq.com",
    "v1beta1",
    RABBITMQ_TOPOLOGY_OPERATOR,
);
const NACK: &str = "NACK (NATS JetStream controller) >= 0.14 (per-resource `servers`)";
const KEDA: &str = "KEDA >= 2.12";

pub const NACK_STREAM: OperatorKind = kind("Stream", "jetstream.nats.io", "v1beta2", NACK);
pub const NACK_CONSUMER: OperatorKind = kind("Consumer", "jetstream.nats.io", "v1beta2", NACK);
pub const KEDA_SCALED_OBJECT: OperatorKind = kind("ScaledObject", "keda.sh", "v1alpha1", KEDA);
pub const KEDA_TRIGGER_AUTHENTICATION: OperatorKind =
    kind("TriggerAuthentication", "keda.sh", "v1alpha1", KEDA);

/// Every operator kind, for validation of `PlatformDefaults.spec.apiVersions` and the docs.
pub static ALL: &[OperatorKind] = &[
    HTTP_ROUTE,
    CNPG_CLUSTER,
    CNPG_SCHEDULED_BACKUP,
    CNPG_POOLER,
    BARMAN_OBJECT_STORE,
    REDIS,
    REDIS_REPLICATION,
    REDIS_SENTINEL,
    REDIS_CLUSTER,
    STRIMZI_KAFKA,
    STRIMZI_NODE_POOL,
    STRIMZI_TOPIC,
    STRIMZI_USER,
    POD_MONITOR,
    SERVICE_MONITOR,
    MYSQL_INNODB_CLUSTER,
    MONGODB_COMMUNITY,
    VPA,
    KYVERNO_CLUSTER_POLICY,
    KYVERNO_POLICY,
    KYVERNO_VALIDATING_POLICY,
    VELERO_SCHEDULE,
    CAPSULE_TENANT,
    EXTERNAL_SECRET,
    SECRET_STORE,
    CLUSTER_SECRET_STORE,
    SEALED_SECRET,
    RABBITMQ_CLUSTER,
    RABBITMQ_QUEUE,
    RABBITMQ_EXCHANGE,
    RABBITMQ_BINDING,
    RABBITMQ_USER,
    RABBITMQ_PERMISSION,
    NACK_STREAM,
    NACK_CONSUMER,
    KEDA_SCALED_OBJECT,
    KEDA_TRIGGER_AUTHENTICATION,
];

/// The operator kind of `Kind.group` `key`, if it is one.
pub fn lookup(key: &str) -> Option<&'static OperatorKind> {
    ALL.iter().find(|k| k.key() == key)
}

/// The operator kind of `api_version`'s group and `kind`, if it is one.
pub fn of(api_version: &str, kind: &str) -> Option<&'static OperatorKind> {
    let group = api_version.rsplit_once('/').map(|(g, _)| g)?;
    ALL.iter().find(|k| k.kind == kind && k.group == group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_crd_of_its_group_and_version() {
        let mut names: Vec<String> = ALL
            .iter()
            .map(|o| {
                let crd = o.crd();
                assert_eq!(crd["spec"]["group"], o.group);
                assert_eq!(crd["spec"]["names"]["kind"], o.kind);
                assert_eq!(crd["spec"]["versions"][0]["name"], o.version);
                crd["metadata"]["name"].as_str().expect("name").to_string()
            })
            .collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "CRD names are unique");
        assert!(names.contains(&"httproutes.gateway.networking.k8s.io".to_string()));
        assert!(names.contains(&"redis.redis.redis.opstreelabs.in".to_string()));
        assert!(names.contains(&"mongodbcommunity.mongodbcommunity.mongodb.com".to_string()));
        assert_eq!(KYVERNO_CLUSTER_POLICY.crd()["spec"]["scope"], "Cluster");
        assert_eq!(HTTP_ROUTE.crd()["spec"]["scope"], "Namespaced");
    }
}
