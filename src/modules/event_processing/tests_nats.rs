//! NATSCluster and NATSStream: defaults, nats.conf, outputs, subject rules and network flows.
#![cfg(test)]

use super::nats_stream::{overlap, within};
use crate::kind::{Context, ModuleResource, OutputValue};
use crate::modules::shared::testing::{find, render};
use crate::policy::netpol::Policies;
use serde_json::Value;

fn outputs(yaml: &str, kind: &str) -> Vec<(&'static str, OutputValue)> {
    let r = &crate::source::parse_text(yaml, "t.yaml").unwrap()[0];
    let m = ModuleResource {
        resource: r,
        name: r.name(),
        namespace: r.namespace().unwrap_or("default").to_string(),
    };
    let def = crate::modules::registry().lookup(kind).unwrap();
    (def.output_values.unwrap())(&m, &Context::default()).unwrap()
}

const MINIMAL: &str = "apiVersion: nixernetes.io/v1alpha1\nkind: NATSCluster\nmetadata: {name: events, namespace: messaging}\nspec: {}\n";

#[test]
fn defaults_are_three_servers_with_jetstream_as_the_chart() {
    let out = render(MINIMAL);
    assert!(!out.failed(), "{:?}", out.findings);
    let sts = &find(&out, "StatefulSet", "events").object;
    assert_eq!(sts["spec"]["replicas"], 3);
    assert_eq!(sts["spec"]["serviceName"], "events-headless");
    let claim = &sts["spec"]["volumeClaimTemplates"][0];
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "10Gi");
    let pod = &sts["spec"]["template"]["spec"];
    let names: Vec<&str> = pod["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    // No reloader by default: a config change rolls the pods through the config hash.
    assert_eq!(names, ["nats"]);
    assert!(pod.get("shareProcessNamespace").is_none());
    let hash = &sts["spec"]["template"]["metadata"]["annotations"]["nixernetes.io/config-hash"];
    assert!(hash.as_str().is_some_and(|h| h.len() == 64), "{hash}");
    let nats = &pod["containers"][0];
    assert_eq!(
        nats["livenessProbe"]["httpGet"]["path"],
        "/healthz?js-enabled-only=true"
    );
    assert_eq!(nats["livenessProbe"]["httpGet"]["port"], "monitor");
    assert_eq!(nats["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let conf = find(&out, "ConfigMap", "events-config").object["data"]["nats.conf"]
        .as_str()
        .unwrap()
        .to_string();
    for want in [
        "nats://events-0.events-headless:6222",
        "nats://events-2.events-headless:6222",
        "max_file_store: 10Gi",
        "max_memory_store: 1Gi",
        "store_dir: /data",
        "http_port: 8222",
    ] {
        assert!(conf.contains(want), "{want} missing in\n{conf}");
    }
    assert!(!conf.contains("events-3"));
    assert!(!conf.contains("include"), "no auth, no include");
    // The chart's budget: one server at a time.
    let pdb = &find(&out, "PodDisruptionBudget", "events").object;
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
    // The platform's 512Mi default limit is not above the 1Gi memory store.
    assert!(out
        .findings
        .iter()
        .any(|f| f.field.as_deref() == Some("spec.jetstream.memory")));
}

#[test]
fn a_single_server_has_no_routes_nor_budget() {
    let out = render(&MINIMAL.replace("spec: {}", "spec: {replicas: 1, reloader: false}"));
    assert!(!out.failed(), "{:?}", out.findings);
    let conf = find(&out, "ConfigMap", "events-config").object["data"]["nats.conf"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!conf.contains("cluster {"), "{conf}");
    assert!(!out
        .objects
        .iter()
        .any(|o| o.kind() == "PodDisruptionBudget"));
    let pod = &find(&out, "StatefulSet", "events").object["spec"]["template"]["spec"];
    assert_eq!(pod["containers"].as_array().unwrap().len(), 1);
    assert_eq!(pod.get("shareProcessNamespace"), None);
}

#[test]
fn auth_and_tls_are_mounted_and_included_never_copied() {
    let out = render(&MINIMAL.replace(
        "spec: {}",
        "spec: {auth: {secretRef: nats-auth}, tls: {secretName: nats-tls}, reloader: true}",
    ));
    assert!(!out.failed(), "{:?}", out.findings);
    let conf = find(&out, "ConfigMap", "events-config").object["data"]["nats.conf"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(conf.contains("include ../nats-auth/auth.conf;"), "{conf}");
    assert!(conf.contains("cert_file: \"/etc/nats-certs/nats/tls.crt\""));
    let pod = &find(&out, "StatefulSet", "events").object["spec"]["template"]["spec"];
    let secrets: Vec<&Value> = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.get("secret"))
        .collect();
    assert_eq!(secrets.len(), 2);
    let reloader = pod["containers"][1]["args"].as_array().unwrap();
    assert!(reloader.iter().any(|a| a == "/etc/nats-auth/auth.conf"));
    // The reloader applies a changed nats.conf in place: no hash rolls the pods.
    assert_eq!(
        find(&out, "StatefulSet", "events").object["spec"]["template"]["metadata"]["annotations"]
            ["nixernetes.io/config-hash"],
        "off"
    );
    let svc = &find(&out, "Service", "events").object;
    assert_eq!(svc["spec"]["ports"][0]["appProtocol"], "tls");
}

#[test]
fn cluster_outputs() {
    let v = outputs(MINIMAL, "NATSCluster");
    let get = |n: &str| v.iter().find(|(k, _)| *k == n).unwrap().1.clone();
    assert_eq!(
        get("url"),
        OutputValue::Value("nats://events.messaging.svc:4222".into())
    );
    assert_eq!(
        get("host"),
        OutputValue::Value("events.messaging.svc".into())
    );
    assert_eq!(get("port"), OutputValue::Value("4222".into()));
    assert_eq!(
        get("monitoringEndpoint"),
        OutputValue::Value("events-headless.messaging.svc:8222".into())
    );
    let tls = outputs(
        &MINIMAL.replace("spec: {}", "spec: {tls: {secretName: t}}"),
        "NATSCluster",
    );
    assert_eq!(
        tls[0].1,
        OutputValue::Value("tls://events.messaging.svc:4222".into())
    );
}

#[test]
fn stream_outputs_and_servers() {
    let yaml = "apiVersion: nixernetes.io/v1alpha1\nkind: NATSStream\nmetadata: {name: orders, namespace: messaging}\nspec: {cluster: events, subjects: [orders.>, refunds.*]}\n";
    let v = outputs(yaml, "NATSStream");
    assert_eq!(v[0], ("stream", OutputValue::Value("orders".into())));
    assert_eq!(
        v[1],
        ("subjects", OutputValue::Value("orders.>,refunds.*".into()))
    );
    let out = render(yaml);
    assert!(!out.failed(), "{:?}", out.findings);
    let s = &find(&out, "Stream", "orders").object["spec"];
    assert_eq!(s["servers"][0], "nats://events.messaging.svc:4222");
    // Defaults: file storage, 3 replicas, limits retention, a week.
    assert_eq!(s["storage"], "file");
    assert_eq!(s["replicas"], 3);
    assert_eq!(s["retention"], "limits");
    assert_eq!(s["maxAge"], "168h");
}

#[test]
fn consumer_defaults_ack_explicitly() {
    let yaml = "apiVersion: nixernetes.io/v1alpha1\nkind: NATSStream\nmetadata: {name: orders, namespace: messaging}\nspec: {cluster: events, subjects: [orders.>], consumers: [{durableName: shipping, filterSubject: orders.shipped}]}\n";
    let out = render(yaml);
    assert!(!out.failed(), "{:?}", out.findings);
    let c = &find(&out, "Consumer", "orders-shipping").object["spec"];
    assert_eq!(c["streamName"], "orders");
    assert_eq!(c["ackPolicy"], "explicit");
    assert_eq!(c["deliverPolicy"], "all");
    assert_eq!(c.get("maxDeliver"), None);
}

#[test]
fn subject_matching() {
    assert!(within("orders.created", "orders.>"));
    assert!(within("orders.*.eu", "orders.>"));
    assert!(within("orders.created", "orders.*"));
    assert!(!within("orders.created.eu", "orders.*"));
    assert!(!within("orders.>", "orders.*"));
    assert!(!within("orders", "orders.>"));
    assert!(within("orders.>", "orders.>"));
    assert!(!within("payments.x", "orders.>"));
    assert!(overlap("orders.*", "orders.paid"));
    assert!(overlap("orders.>", "orders.a.b"));
    assert!(!overlap("orders.created", "orders.paid"));
    assert!(!overlap("orders.*", "orders.a.b"));
}

#[test]
fn network_clients_routes_and_controllers() {
    let yaml = format!(
        "{MINIMAL}---\napiVersion: nixernetes.io/v1alpha1\nkind: Worker\nmetadata: {{name: fulfilment, namespace: messaging}}\nspec: {{image: ghcr.io/acme/f:1.0.0, dependsOn: [events]}}\n---\napiVersion: nixernetes.io/v1alpha1\nkind: Worker\nmetadata: {{name: other, namespace: messaging}}\nspec: {{image: ghcr.io/acme/o:1.0.0}}\n"
    );
    let out = render(&yaml);
    assert!(!out.failed(), "{:?}", out.findings);
    let p = Policies::new(&out.objects);
    let nats = p.pod_of(find(&out, "StatefulSet", "events")).unwrap();
    let app = p.pod_of(find(&out, "Deployment", "fulfilment")).unwrap();
    let other = p.pod_of(find(&out, "Deployment", "other")).unwrap();
    let nack = p.pod("nack", &[("app", "nack")]);
    let keda = p.pod("keda", &[("app", "keda-operator")]);
    for (from, to, port, what) in [
        (&app, &nats, 4222, "a dependent → the client port"),
        (&nats, &nats, 6222, "routes between the servers"),
        (&nack, &nats, 4222, "NACK → the client port"),
        (&keda, &nats, 8222, "KEDA → the monitoring port"),
    ] {
        let v = p.allows(from, to, port, "TCP");
        assert!(v.allowed(), "{what}: {v:?}");
    }
    for (from, to, port, what) in [
        (&other, &nats, 4222, "an unrelated pod → the client port"),
        (&app, &nats, 6222, "a dependent → the route port"),
        (&keda, &nats, 4222, "KEDA → the client port"),
        (&nack, &nats, 6222, "NACK → the route port"),
    ] {
        assert!(!p.allows(from, to, port, "TCP").allowed(), "{what} allowed");
    }
}
