//! Unit tests of `RabbitMQCluster` and `RabbitMQQueue`: defaults, what depends on TLS and
//! plugins, the permissions a queue user gets, connection outputs, and the flows the generated
//! NetworkPolicies allow.
#![cfg(test)]

use crate::finding::{Finding, Severity};
use crate::kind::{Context, ModuleResource, OutputValue};
use crate::modules::shared::testing::render;
use crate::policy::netpol::Policies;
use crate::resource::Resource;
use serde_json::{Map, Value};

/// The one object of `kind` among `objects`.
fn one<'a>(objects: &'a [Resource], kind: &str) -> &'a Map<String, Value> {
    let found: Vec<&Resource> = objects.iter().filter(|o| o.kind() == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} in {:?}", kinds(objects));
    &found[0].object
}

/// The kinds rendered, sorted.
fn kinds(objects: &[Resource]) -> Vec<String> {
    let mut k: Vec<String> = objects.iter().map(|o| o.kind().to_string()).collect();
    k.sort();
    k
}

/// `(field, message)` of the findings of `severity`.
fn messages(findings: &[Finding], severity: Severity) -> Vec<(String, String)> {
    findings
        .iter()
        .filter(|f| f.severity == severity)
        .map(|f| (f.field.clone().unwrap_or_default(), f.message.clone()))
        .collect()
}

fn cluster(spec: &str) -> String {
    format!(
        "apiVersion: nixernetes.io/v1alpha1\nkind: RabbitMQCluster\nmetadata: {{name: mq, namespace: ns}}\nspec: {spec}\n"
    )
}

fn queue(spec: &str) -> String {
    format!(
        "apiVersion: nixernetes.io/v1alpha1\nkind: RabbitMQQueue\nmetadata: {{name: jobs, namespace: ns}}\nspec: {spec}\n"
    )
}

/// The connection outputs of the single resource in `yaml`.
fn outputs(yaml: &str) -> Vec<(&'static str, OutputValue)> {
    let r = crate::source::parse_text(yaml, "t.yaml").unwrap().remove(0);
    let def = crate::modules::registry().lookup(r.kind()).unwrap();
    let m = ModuleResource {
        resource: &r,
        name: r.name(),
        namespace: "ns".into(),
    };
    (def.output_values.expect("publishes outputs"))(&m, &Context::default()).unwrap()
}

fn value(v: &str) -> OutputValue {
    OutputValue::Value(v.into())
}

fn secret(name: &str, key: &str) -> OutputValue {
    OutputValue::Secret {
        name: name.into(),
        key: key.into(),
    }
}

#[test]
fn a_bare_cluster_gets_three_nodes_10gi_and_the_operator_resources() {
    let out = render(&cluster("{}"));
    assert!(!out.failed(), "{:?}", out.findings);
    let c = one(&out.objects, "RabbitmqCluster");
    assert_eq!(c["apiVersion"], "rabbitmq.com/v1beta1");
    assert_eq!(c["spec"]["replicas"], 3);
    assert_eq!(c["spec"]["persistence"]["storage"], "10Gi");
    // No resources given: none written, so the operator's CRD default applies in full.
    assert!(c["spec"].get("resources").is_none());
    assert!(c["spec"].get("image").is_none());
    assert!(c["spec"].get("tls").is_none());
    let pm = one(&out.objects, "PodMonitor");
    assert_eq!(
        pm["spec"]["podMetricsEndpoints"][0]["port"], "prometheus",
        "the operator's container port name for 15692"
    );
    assert_eq!(
        pm["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"],
        "rabbitmq"
    );
}

#[test]
fn partial_resources_keep_the_operator_defaults_for_the_rest() {
    let out = render(&cluster(
        "{resources: {requests: {memory: 4Gi}, limits: {memory: 4Gi}}}",
    ));
    assert!(!out.failed(), "{:?}", out.findings);
    let r = &one(&out.objects, "RabbitmqCluster")["spec"]["resources"];
    assert_eq!(r["requests"]["memory"], "4Gi");
    assert_eq!(r["requests"]["cpu"], "1000m");
    assert_eq!(r["limits"]["memory"], "4Gi");
    assert_eq!(r["limits"]["cpu"], "2000m");
    assert!(messages(&out.findings, Severity::Warning).is_empty());
    // A request below the limit is allowed, with the operator's advice.
    let out = render(&cluster("{resources: {requests: {memory: 1Gi}}}"));
    assert!(!out.failed());
    let w = messages(&out.findings, Severity::Warning);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].1.contains("below the limit 2Gi"), "{w:?}");
}

#[test]
fn pods_get_the_restricted_security_context_override() {
    let out = render(&cluster("{}"));
    let pod = &one(&out.objects, "RabbitmqCluster")["spec"]["override"]["statefulSet"]["spec"]
        ["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    for (list, name) in [
        ("containers", "rabbitmq"),
        ("initContainers", "setup-container"),
    ] {
        let c = &pod[list][0];
        assert_eq!(c["name"], name, "the operator's container name");
        assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
        assert_eq!(
            c["securityContext"]["capabilities"]["drop"],
            serde_json::json!(["ALL"])
        );
    }
}

#[test]
fn even_clusters_warn_and_out_of_range_ones_fail() {
    let out = render(&cluster("{replicas: 2}"));
    assert!(!out.failed());
    assert_eq!(
        messages(&out.findings, Severity::Warning)[0].0,
        "spec.replicas"
    );
    for bad in ["0", "10"] {
        let out = render(&cluster(&format!("{{replicas: {bad}}}")));
        assert!(out.failed() && out.objects.is_empty());
    }
    assert!(!render(&cluster("{replicas: 1}")).failed());
}

#[test]
fn tls_only_moves_metrics_and_clients_to_the_tls_ports() {
    let out = render(&cluster(
        "{tls: {secretName: mq-tls, disableNonTLSListeners: true}}",
    ));
    assert!(!out.failed(), "{:?}", out.findings);
    let c = one(&out.objects, "RabbitmqCluster");
    assert_eq!(c["spec"]["tls"]["disableNonTLSListeners"], true);
    let e = &one(&out.objects, "PodMonitor")["spec"]["podMetricsEndpoints"][0];
    assert_eq!(e["port"], "prometheus-tls");
    assert_eq!(e["scheme"], "https");
    // No CA Secret: the server Secret's ca.crt (cert-manager writes one) verifies.
    assert_eq!(e["tlsConfig"]["ca"]["secret"]["name"], "mq-tls");
    assert_eq!(e["tlsConfig"]["serverName"], "mq.ns.svc");
    assert_eq!(
        outputs(&cluster("{tls: {secretName: mq-tls}}"))[1],
        ("port", value("5671"))
    );
}

#[test]
fn monitoring_off_emits_no_pod_monitor() {
    let out = render(&cluster("{monitoring: false}"));
    assert_eq!(
        kinds(&out.objects)
            .iter()
            .filter(|k| *k == "PodMonitor")
            .count(),
        0
    );
}

#[test]
fn cluster_outputs_are_the_service_and_the_default_user_secret() {
    assert_eq!(
        outputs(&cluster("{}")),
        vec![
            ("host", value("mq.ns.svc")),
            ("port", value("5672")),
            ("username", secret("mq-default-user", "username")),
            ("password", secret("mq-default-user", "password")),
            (
                "connection_string",
                secret("mq-default-user", "connection_string")
            ),
        ]
    );
}

#[test]
fn a_bare_queue_is_a_durable_quorum_queue_on_the_root_vhost_alone() {
    let out = render(&queue("{cluster: mq}"));
    assert!(!out.failed(), "{:?}", out.findings);
    assert_eq!(
        kinds(&out.objects),
        ["Queue"],
        "no exchange, binding or user"
    );
    let q = &one(&out.objects, "Queue")["spec"];
    assert_eq!(q["name"], "jobs");
    assert_eq!(q["type"], "quorum");
    assert_eq!(q["durable"], true);
    assert_eq!(q["vhost"], "/");
    assert_eq!(q["rabbitmqClusterReference"]["name"], "mq");
    assert_eq!(
        outputs(&queue("{cluster: mq}")),
        vec![
            ("queue", value("jobs")),
            ("vhost", value("/")),
            ("exchange", value("")),
            ("routingKey", value("jobs")),
        ],
        "the default exchange routes by queue name; no user, no credentials"
    );
}

#[test]
fn the_binding_key_defaults_to_the_queue_name_except_for_fanout_and_headers() {
    let out = render(&queue("{cluster: mq, exchange: {name: work}}"));
    let b = &one(&out.objects, "Binding")["spec"];
    assert_eq!(b["source"], "work");
    assert_eq!(b["destination"], "jobs");
    assert_eq!(b["destinationType"], "queue");
    assert_eq!(b["routingKey"], "jobs");
    assert_eq!(one(&out.objects, "Exchange")["spec"]["type"], "direct");
    let out = render(&queue("{cluster: mq, exchange: {name: fan, type: fanout}}"));
    assert!(one(&out.objects, "Binding")["spec"]
        .get("routingKey")
        .is_none());
    assert_eq!(
        outputs(&queue("{cluster: mq, exchange: {name: fan, type: fanout}}"))[3],
        ("routingKey", value(""))
    );
}

#[test]
fn an_exchange_declared_elsewhere_is_only_bound_to() {
    let out = render(&queue(
        "{cluster: mq, exchange: {name: amq.topic, type: topic, declare: false, routingKey: 'jobs.#'}}",
    ));
    assert!(!out.failed(), "{:?}", out.findings);
    assert_eq!(kinds(&out.objects), ["Binding", "Queue"]);
}

#[test]
fn a_generated_user_is_scoped_to_the_queue_and_its_exchange() {
    let yaml = queue("{cluster: mq, name: jobs.high, exchange: {name: work}, user: {}}");
    let out = render(&yaml);
    assert!(!out.failed(), "{:?}", out.findings);
    let u = &one(&out.objects, "User")["spec"];
    assert!(u.get("importCredentialsSecret").is_none());
    assert!(u.get("tags").is_none());
    let p = &one(&out.objects, "Permission")["spec"];
    assert_eq!(
        p["userReference"]["name"], "jobs",
        "the User object, not a username"
    );
    assert_eq!(p["vhost"], "/");
    assert_eq!(p["permissions"]["configure"], r"^jobs\.high$");
    assert_eq!(p["permissions"]["read"], r"^jobs\.high$");
    assert_eq!(p["permissions"]["write"], "^work$");
    let o = outputs(&yaml);
    assert_eq!(
        o[4],
        ("username", secret("jobs-user-credentials", "username"))
    );
    assert_eq!(
        o[5],
        ("password", secret("jobs-user-credentials", "password"))
    );
}

#[test]
fn without_exchange_the_user_writes_to_the_default_exchange_and_the_dead_letter_one() {
    let out = render(&queue(
        "{cluster: mq, arguments: {x-dead-letter-exchange: jobs.dlx}, user: {}}",
    ));
    let p = &one(&out.objects, "Permission")["spec"]["permissions"];
    assert_eq!(p["write"], r"^(amq\.default|jobs\.dlx)$");
    let out = render(&queue("{cluster: mq, user: {}}"));
    assert_eq!(
        one(&out.objects, "Permission")["spec"]["permissions"]["write"],
        r"^amq\.default$"
    );
}

#[test]
fn given_permissions_and_imported_credentials_win() {
    let yaml = queue(
        "{cluster: mq, user: {importCredentialsSecret: jobs-creds, permissions: {configure: '^$', read: '^jobs.*'}}}",
    );
    let out = render(&yaml);
    assert!(!out.failed(), "{:?}", out.findings);
    assert_eq!(
        one(&out.objects, "User")["spec"]["importCredentialsSecret"]["name"],
        "jobs-creds"
    );
    let p = &one(&out.objects, "Permission")["spec"]["permissions"];
    assert_eq!(p["configure"], "^$");
    assert_eq!(p["read"], "^jobs.*");
    assert_eq!(p["write"], r"^amq\.default$", "not given: the default");
    assert_eq!(
        outputs(&yaml)[4],
        ("username", secret("jobs-creds", "username"))
    );
}

#[test]
fn classic_queues_may_be_transient_quorum_and_streams_may_not() {
    assert!(!render(&queue("{cluster: mq, type: classic, durable: false}")).failed());
    for t in ["quorum", "stream"] {
        let out = render(&queue(&format!(
            "{{cluster: mq, type: {t}, durable: false}}"
        )));
        let errors = messages(&out.findings, Severity::Error);
        assert_eq!(errors[0].0, "spec.durable", "{t}: {errors:?}");
    }
}

/// The rendered RabbitMQ cluster, an app that depends on it, and one that does not.
const APP_AND_CLUSTER: &str = "apiVersion: nixernetes.io/v1alpha1
kind: RabbitMQCluster
metadata: {name: mq, namespace: shop}
spec: {}
---
apiVersion: nixernetes.io/v1alpha1
kind: WebApp
metadata: {name: orders, namespace: shop}
spec: {image: ghcr.io/acme/orders:1.0, dependsOn: [mq]}
---
apiVersion: nixernetes.io/v1alpha1
kind: WebApp
metadata: {name: web, namespace: shop}
spec: {image: ghcr.io/acme/web:1.0}
";

#[test]
fn dependents_reach_amqp_and_the_nodes_and_operators_reach_what_they_need() {
    let out = render(APP_AND_CLUSTER);
    assert!(!out.failed(), "{:?}", out.findings);
    let p = Policies::new(&out.objects);
    let deployment = |name: &str| {
        let d = out
            .objects
            .iter()
            .find(|o| o.kind() == "Deployment" && o.name() == name)
            .unwrap();
        p.pod_of(d).unwrap()
    };
    let (orders, web) = (deployment("orders"), deployment("web"));
    // The labels the operator puts on the cluster's pods.
    let node = p.pod(
        "shop",
        &[
            ("app.kubernetes.io/name", "mq"),
            ("app.kubernetes.io/component", "rabbitmq"),
            ("app.kubernetes.io/part-of", "rabbitmq"),
        ],
    );
    let operator = p.pod(
        "rabbitmq-system",
        &[("app.kubernetes.io/name", "rabbitmq-cluster-operator")],
    );
    let topology = p.pod(
        "rabbitmq-system",
        &[("app.kubernetes.io/name", "messaging-topology-operator")],
    );
    for (from, to, port, what) in [
        (&orders, &node, 5672, "a dependent → AMQP"),
        (&node, &node, 4369, "epmd"),
        (&node, &node, 25672, "Erlang distribution"),
        (&node, &node, 35675, "CLI tools"),
        (
            &operator,
            &node,
            15672,
            "the cluster operator → management API",
        ),
        (
            &topology,
            &node,
            15672,
            "the topology operator → management API",
        ),
    ] {
        let v = p.allows(from, to, port, "TCP");
        assert!(v.allowed(), "{what} on {port}: {v:?}");
    }
    let api = crate::policy::netpol::Endpoint::External("10.96.0.1".parse().unwrap());
    assert!(
        p.allows(&node, &api, 443, "TCP").allowed(),
        "peer discovery → the Kubernetes API"
    );
    for (from, to, port, what) in [
        (&web, &node, 5672, "an unrelated app → AMQP"),
        (&orders, &node, 15672, "a dependent → management API"),
        (&orders, &node, 25672, "a dependent → distribution"),
        (&orders, &node, 5552, "a dependent → streams (not enabled)"),
        (&operator, &node, 5672, "the operator → AMQP"),
        (&node, &node, 6000, "stream replication (not enabled)"),
    ] {
        let v = p.allows(from, to, port, "TCP");
        assert!(!v.allowed(), "{what} on {port} is allowed");
    }
}

#[test]
fn tls_and_plugins_change_the_ports_dependents_reach() {
    let yaml = APP_AND_CLUSTER.replace(
        "spec: {}",
        "spec: {tls: {secretName: mq-tls, disableNonTLSListeners: true}, rabbitmq: {additionalPlugins: [rabbitmq_stream, rabbitmq_mqtt]}}",
    );
    let out = render(&yaml);
    assert!(!out.failed(), "{:?}", out.findings);
    let p = Policies::new(&out.objects);
    let d = out
        .objects
        .iter()
        .find(|o| o.kind() == "Deployment" && o.name() == "orders")
        .unwrap();
    let orders = p.pod_of(d).unwrap();
    let node = p.pod(
        "shop",
        &[
            ("app.kubernetes.io/name", "mq"),
            ("app.kubernetes.io/component", "rabbitmq"),
        ],
    );
    let operator = p.pod("rabbitmq-system", &[]);
    for port in [5671, 5551, 8883] {
        assert!(p.allows(&orders, &node, port, "TCP").allowed(), "{port}");
    }
    for port in [5672, 5552, 1883] {
        assert!(!p.allows(&orders, &node, port, "TCP").allowed(), "{port}");
    }
    assert!(p.allows(&operator, &node, 15671, "TCP").allowed());
    assert!(!p.allows(&operator, &node, 15672, "TCP").allowed());
    assert!(
        p.allows(&node, &node, 6100, "TCP").allowed(),
        "stream replication"
    );
}
