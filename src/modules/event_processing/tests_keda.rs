//! EventScaler: the ScaledObject and TriggerAuthentication KEDA reads, and the HPA pair check.
#![cfg(test)]

use crate::finding::Severity;
use crate::modules::shared::testing::{find, render};

const SCALER: &str = "apiVersion: nixernetes.io/v1alpha1\nkind: EventScaler\nmetadata: {name: worker, namespace: shop}\nspec:\n  targetRef: {name: worker}\n  triggers:\n    - rabbitmq: {queueName: orders, value: 20, host: {name: rabbit-url, key: url}}\n";

#[test]
fn defaults_scale_a_deployment_from_zero_to_ten() {
    let out = render(SCALER);
    assert!(!out.failed(), "{:?}", out.findings);
    let so = &find(&out, "ScaledObject", "worker").object["spec"];
    assert_eq!(so["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(so["minReplicaCount"], 0);
    assert_eq!(so["maxReplicaCount"], 10);
    let t = &so["triggers"][0];
    assert_eq!(t["type"], "rabbitmq");
    assert_eq!(t["metadata"]["mode"], "QueueLength");
    // KEDA reads metadata values as strings.
    assert_eq!(t["metadata"]["value"], "20");
    assert_eq!(t["metadata"].get("host"), None, "the host is a secret");
    assert_eq!(t["authenticationRef"]["name"], "worker-rabbitmq");
    let ta = &find(&out, "TriggerAuthentication", "worker-rabbitmq").object["spec"];
    assert_eq!(ta["secretTargetRef"][0]["parameter"], "host");
    assert_eq!(ta["secretTargetRef"][0]["name"], "rabbit-url");
    assert_eq!(ta["secretTargetRef"][0]["key"], "url");
}

#[test]
fn kafka_lag_threshold_defaults_to_fifty_and_cron_needs_no_auth() {
    let yaml = SCALER.replace(
        "    - rabbitmq: {queueName: orders, value: 20, host: {name: rabbit-url, key: url}}\n",
        "    - kafka: {bootstrapServers: 'k:9092', consumerGroup: g, topic: t}\n    - cron: {timezone: UTC, start: '0 8 * * *', end: '0 18 * * *', desiredReplicas: 2}\n",
    );
    let out = render(&yaml);
    assert!(!out.failed(), "{:?}", out.findings);
    let so = &find(&out, "ScaledObject", "worker").object["spec"];
    assert_eq!(so["triggers"][0]["metadata"]["lagThreshold"], "50");
    assert_eq!(so["triggers"][0].get("authenticationRef"), None);
    assert_eq!(so["triggers"][1]["metadata"]["desiredReplicas"], "2");
    assert!(!out
        .objects
        .iter()
        .any(|o| o.kind() == "TriggerAuthentication"));
}

#[test]
fn a_scaled_object_and_the_workloads_own_hpa_are_two_hpas() {
    let worker = "apiVersion: nixernetes.io/v1alpha1\nkind: Worker\nmetadata: {name: worker, namespace: shop}\nspec: {image: ghcr.io/acme/w:1.0.0, replicas: 2, autoscaling: {max: 5}}\n---\n";
    let out = render(&format!("{worker}{SCALER}"));
    let clash: Vec<_> = out
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error && f.message.contains("KEDA makes an HPA"))
        .collect();
    assert_eq!(clash.len(), 1, "{:?}", out.findings);
    // Without `autoscaling` the ScaledObject is the workload's only HPA.
    let out = render(&format!(
        "{}{SCALER}",
        worker.replace(", autoscaling: {max: 5}", "")
    ));
    assert!(!out.failed(), "{:?}", out.findings);
    // A StatefulSet target of the same name is another workload.
    let out = render(&format!(
        "{worker}{}",
        SCALER.replace("{name: worker}", "{kind: StatefulSet, name: worker}")
    ));
    assert!(!out.failed(), "{:?}", out.findings);
}
