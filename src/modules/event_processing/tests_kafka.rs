//! Unit tests of the Kafka kinds (KafkaCluster, KafkaTopic, KafkaUser, SchemaRegistry): what
//! the goldens do not make obvious (defaults scaled to small clusters, combined pools, outputs,
//! flows allowed and denied by the NetworkPolicies).

use crate::kind::OutputValue;
use crate::policy::netpol::Policies;
use crate::resource::Resource;
use serde_json::Value;

fn render(yaml: &str) -> Vec<Resource> {
    let out = crate::modules::shared::testing::render(yaml);
    assert!(!out.failed(), "{:?}", out.findings);
    out.objects
}

fn find(objects: &[Resource], kind: &str, name: &str) -> Value {
    Value::Object(find_res(objects, kind, name).object.clone())
}

fn outputs(yaml: &str) -> Vec<(&'static str, OutputValue)> {
    let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
    let r = &inputs[0];
    let reg = crate::modules::registry();
    let def = reg.lookup(r.kind()).unwrap();
    let m = crate::kind::ModuleResource {
        resource: r,
        name: r.name(),
        namespace: "kafka".into(),
    };
    (def.output_values.unwrap())(&m, &Default::default()).unwrap()
}

const SMALL: &str = "apiVersion: nixernetes.io/v1alpha1\nkind: KafkaCluster\nmetadata: {name: dev, namespace: kafka}\nspec: {brokers: 1, combined: true, authentication: none, metrics: false}\n";

#[test]
fn a_combined_single_broker_gets_one_dual_role_pool_and_replication_defaults_of_one() {
    let objects = render(SMALL);
    let pools: Vec<&Resource> = objects
        .iter()
        .filter(|o| o.kind() == "KafkaNodePool")
        .collect();
    assert_eq!(pools.len(), 1);
    let pool = find(&objects, "KafkaNodePool", "dual-role");
    assert_eq!(
        pool["spec"]["roles"],
        serde_json::json!(["controller", "broker"])
    );
    assert_eq!(pool["spec"]["replicas"], 1);
    assert_eq!(pool["metadata"]["labels"]["strimzi.io/cluster"], "dev");
    let kafka = find(&objects, "Kafka", "dev");
    let config = &kafka["spec"]["kafka"]["config"];
    assert_eq!(config["default.replication.factor"], 1);
    assert_eq!(config["min.insync.replicas"], 1);
    assert_eq!(config["transaction.state.log.min.isr"], 1);
    // No authentication anywhere: no authorization, no metrics objects.
    assert!(kafka["spec"]["kafka"].get("authorization").is_none());
    assert!(kafka["spec"]["kafka"].get("metricsConfig").is_none());
    assert!(!objects
        .iter()
        .any(|o| o.kind() == "PodMonitor" || o.kind() == "ConfigMap"));
    assert!(kafka["metadata"]
        .get("annotations")
        .and_then(|a| a.get("strimzi.io/kraft"))
        .is_none());
}

#[test]
fn dotted_config_keys_stay_flat() {
    let objects = render("apiVersion: nixernetes.io/v1alpha1\nkind: KafkaCluster\nmetadata: {name: events, namespace: kafka}\nspec:\n  config: {log.retention.bytes: 1073741824}\n");
    let config = &find(&objects, "Kafka", "events")["spec"]["kafka"]["config"];
    assert_eq!(config["log.retention.bytes"], 1073741824);
    assert!(config.get("log").is_none());
    let kafka = find(&objects, "Kafka", "events");
    assert_eq!(kafka["spec"]["kafka"]["authorization"]["type"], "simple");
    assert_eq!(
        kafka["spec"]["kafka"]["listeners"][0]["authentication"]["type"],
        "scram-sha-512"
    );
    assert_eq!(
        find(&objects, "KafkaNodePool", "controller")["spec"]["roles"],
        serde_json::json!(["controller"])
    );
    assert_eq!(
        find(&objects, "KafkaNodePool", "broker")["spec"]["roles"],
        serde_json::json!(["broker"])
    );
}

#[test]
fn kafka_cluster_outputs_name_the_bootstrap_service_and_ca_secret() {
    let out = outputs("apiVersion: nixernetes.io/v1alpha1\nkind: KafkaCluster\nmetadata: {name: events, namespace: kafka}\n");
    let get = |n: &str| out.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone());
    let v = |s: &str| Some(OutputValue::Value(s.into()));
    assert_eq!(get("bootstrap"), v("events-kafka-bootstrap.kafka.svc:9092"));
    assert_eq!(
        get("bootstrap-tls"),
        v("events-kafka-bootstrap.kafka.svc:9093")
    );
    assert_eq!(get("port"), v("9092"));
    assert_eq!(get("ca-secret"), v("events-cluster-ca-cert"));
}

#[test]
fn kafka_user_outputs_follow_its_authentication() {
    let scram = outputs("apiVersion: nixernetes.io/v1alpha1\nkind: KafkaUser\nmetadata: {name: app}\nspec: {cluster: events}\n");
    let keys: Vec<&str> = scram.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, ["username", "secret", "password", "sasl.jaas.config"]);
    assert_eq!(
        scram[2].1,
        OutputValue::Secret {
            name: "app".into(),
            key: "password".into()
        }
    );
    let tls = outputs("apiVersion: nixernetes.io/v1alpha1\nkind: KafkaUser\nmetadata: {name: app}\nspec: {cluster: events, authentication: tls}\n");
    let keys: Vec<&str> = tls.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        keys,
        [
            "username",
            "secret",
            "user.crt",
            "user.key",
            "user.p12",
            "user.password"
        ]
    );
}

#[test]
fn a_dlq_topic_keeps_the_topic_name_and_the_cluster_label() {
    let yaml = "apiVersion: nixernetes.io/v1alpha1\nkind: KafkaTopic\nmetadata: {name: orders, namespace: kafka}\nspec: {cluster: events, topicName: Orders_v1, dlq: {enabled: true}}\n";
    let objects = render(yaml);
    let dlq = find(&objects, "KafkaTopic", "orders.dlq");
    assert_eq!(dlq["spec"]["topicName"], "Orders_v1.dlq");
    assert_eq!(dlq["metadata"]["labels"]["strimzi.io/cluster"], "events");
    let out = outputs(yaml);
    assert_eq!(out[0].1, OutputValue::Value("Orders_v1".into()));
    assert_eq!(out[1].1, OutputValue::Value("Orders_v1.dlq".into()));
}

#[test]
fn the_registry_reaches_its_kafka_and_strangers_do_not() {
    let yaml = "apiVersion: nixernetes.io/v1alpha1\nkind: KafkaCluster\nmetadata: {name: events, namespace: kafka}\n---\napiVersion: nixernetes.io/v1alpha1\nkind: SchemaRegistry\nmetadata: {name: schemas, namespace: kafka}\nspec: {kafkaBootstrap: events}\n---\napiVersion: nixernetes.io/v1alpha1\nkind: Worker\nmetadata: {name: stranger, namespace: kafka}\nspec: {image: ghcr.io/acme/w:1.0.0}\n";
    let objects = render(yaml);
    let p = Policies::new(&objects);
    let nodes = [
        ("strimzi.io/cluster", "events"),
        ("strimzi.io/kind", "Kafka"),
        ("strimzi.io/name", "events-kafka"),
        ("strimzi.io/pool-name", "broker"),
    ];
    let broker = p.pod("kafka", &nodes);
    let controller = p.pod(
        "kafka",
        &[
            ("strimzi.io/cluster", "events"),
            ("strimzi.io/kind", "Kafka"),
            ("strimzi.io/name", "events-kafka"),
            ("strimzi.io/pool-name", "controller"),
        ],
    );
    let eo = p.pod(
        "kafka",
        &[
            ("strimzi.io/cluster", "events"),
            ("strimzi.io/kind", "Kafka"),
            ("strimzi.io/name", "events-entity-operator"),
        ],
    );
    let operator = p.pod("strimzi", &[("strimzi.io/kind", "cluster-operator")]);
    let registry = p
        .pod_of(find_res(&objects, "Deployment", "schemas"))
        .unwrap();
    let stranger = p
        .pod_of(find_res(&objects, "Deployment", "stranger"))
        .unwrap();
    for (from, to, port, what) in [
        (&registry, &broker, 9092, "registry → brokers"),
        (&broker, &controller, 9090, "broker → controller (KRaft)"),
        (&broker, &broker, 9091, "replication"),
        (&operator, &broker, 9091, "cluster operator → brokers"),
        (&operator, &broker, 8443, "cluster operator → Kafka agent"),
        (&eo, &broker, 9091, "entity operator → brokers"),
    ] {
        let v = p.allows(from, to, port, "TCP");
        assert!(v.allowed(), "{what} on {port}: {v:?}");
    }
    for (from, to, port, what) in [
        (&stranger, &broker, 9092, "an unrelated pod → brokers"),
        (&registry, &broker, 9091, "registry → replication port"),
        (&stranger, &registry, 8080, "an unrelated pod → registry"),
    ] {
        assert!(
            !p.allows(from, to, port, "TCP").allowed(),
            "{what} on {port} is allowed"
        );
    }
}

fn find_res<'a>(objects: &'a [Resource], kind: &str, name: &str) -> &'a Resource {
    objects
        .iter()
        .find(|o| o.kind() == kind && o.name() == name)
        .unwrap_or_else(|| panic!("no {kind}/{name}"))
}
