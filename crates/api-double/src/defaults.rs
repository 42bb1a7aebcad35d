//! Defaulting: a handful of the API server's real defaulters (`pkg/apis/*/v1/defaults.go`),
//! enough to reproduce the "defaulted field" noise a client-side diff shows and a server-side
//! diff hides. Only unset fields are filled. Values the server allocates (Service cluster IPs
//! and node ports, Job selectors) are the store's business, not this module's.

use serde_json::{json, Map, Value};

/// Fills the defaults of an object of `group`/`kind`.
pub fn apply(group: &str, kind: &str, obj: &mut Value) {
    match (group, kind) {
        ("apps", "Deployment") => deployment(obj),
        ("apps", "StatefulSet") => stateful_set(obj),
        ("apps", "DaemonSet") => daemon_set(obj),
        ("apps", "ReplicaSet") => {
            set(&mut obj["spec"], "replicas", json!(1));
            pod_template(obj, "/spec/template");
        }
        ("batch", "Job") => job(obj),
        ("batch", "CronJob") => cron_job(obj),
        ("", "Pod") => {
            pod_spec(&mut obj["spec"]);
            let spec = &mut obj["spec"];
            set(spec, "enableServiceLinks", json!(true));
            set(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
            set(spec, "priority", json!(0));
        }
        ("", "Service") => service(obj),
        ("", "Secret") => secret(obj),
        ("", "Namespace") => namespace(obj),
        ("networking.k8s.io", "NetworkPolicy") => network_policy(obj),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(obj),
        _ => {}
    }
}

/// Sets `key` on an object value when it is unset (creating the object when `v` is null).
fn set(v: &mut Value, key: &str, value: Value) {
    if v.is_null() {
        *v = Value::Object(Map::new());
    }
    if let Value::Object(m) = v {
        m.entry(key.to_string()).or_insert(value);
    }
}

fn deployment(obj: &mut Value) {
    let spec = &mut obj["spec"];
    set(spec, "replicas", json!(1));
    let strategy = &mut spec["strategy"];
    set(strategy, "type", json!("RollingUpdate"));
    if strategy["type"] == "RollingUpdate" {
        let ru = &mut strategy["rollingUpdate"];
        set(ru, "maxUnavailable", json!("25%"));
        set(ru, "maxSurge", json!("25%"));
    }
    set(spec, "revisionHistoryLimit", json!(10));
    set(spec, "progressDeadlineSeconds", json!(600));
    pod_template(obj, "/spec/template");
}

fn stateful_set(obj: &mut Value) {
    let spec = &mut obj["spec"];
    set(spec, "replicas", json!(1));
    set(spec, "podManagementPolicy", json!("OrderedReady"));
    let strategy = &mut spec["updateStrategy"];
    set(strategy, "type", json!("RollingUpdate"));
    if strategy["type"] == "RollingUpdate" {
        set(&mut strategy["rollingUpdate"], "partition", json!(0));
    }
    set(spec, "revisionHistoryLimit", json!(10));
    set(
        spec,
        "persistentVolumeClaimRetentionPolicy",
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
    );
    pod_template(obj, "/spec/template");
}

fn daemon_set(obj: &mut Value) {
    let spec = &mut obj["spec"];
    let strategy = &mut spec["updateStrategy"];
    set(strategy, "type", json!("RollingUpdate"));
    if strategy["type"] == "RollingUpdate" {
        let ru = &mut strategy["rollingUpdate"];
        set(ru, "maxUnavailable", json!(1));
        set(ru, "maxSurge", json!(0));
    }
    set(spec, "revisionHistoryLimit", json!(10));
    pod_template(obj, "/spec/template");
}

fn job(obj: &mut Value) {
    let spec = &mut obj["spec"];
    if spec.get("completions").is_none() && spec.get("parallelism").is_none() {
        set(spec, "completions", json!(1));
    }
    set(spec, "parallelism", json!(1));
    set(spec, "backoffLimit", json!(6));
    set(spec, "completionMode", json!("NonIndexed"));
    set(spec, "suspend", json!(false));
    set(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
    pod_template(obj, "/spec/template");
}

fn cron_job(obj: &mut Value) {
    let spec = &mut obj["spec"];
    set(spec, "concurrencyPolicy", json!("Allow"));
    set(spec, "suspend", json!(false));
    set(spec, "successfulJobsHistoryLimit", json!(3));
    set(spec, "failedJobsHistoryLimit", json!(1));
    pod_template(obj, "/spec/jobTemplate/spec/template");
}

/// Defaults the pod template at JSON pointer `at`, when there is one.
fn pod_template(obj: &mut Value, at: &str) {
    if let Some(spec) = obj
        .pointer_mut(at)
        .and_then(|t| t.get_mut("spec"))
        .filter(|s| s.is_object())
    {
        pod_spec(spec);
    }
}

fn pod_spec(spec: &mut Value) {
    set(spec, "restartPolicy", json!("Always"));
    set(spec, "dnsPolicy", json!("ClusterFirst"));
    set(spec, "terminationGracePeriodSeconds", json!(30));
    set(spec, "schedulerName", json!("default-scheduler"));
    set(spec, "securityContext", json!({}));
    for list in ["containers", "initContainers"] {
        if let Some(Value::Array(cs)) = spec.get_mut(list) {
            cs.iter_mut().for_each(container);
        }
    }
    if let Some(Value::Array(vols)) = spec.get_mut("volumes") {
        for v in vols {
            for source in ["configMap", "secret"] {
                if v[source].is_object() {
                    set(&mut v[source], "defaultMode", json!(420));
                }
            }
        }
    }
}

/// `Always` for `:latest` or untagged images, else `IfNotPresent` (upstream
/// `SetDefaults_Container`).
pub fn pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn container(c: &mut Value) {
    let image = c["image"].as_str().unwrap_or_default().to_string();
    set(c, "imagePullPolicy", json!(pull_policy(&image)));
    set(c, "terminationMessagePath", json!("/dev/termination-log"));
    set(c, "terminationMessagePolicy", json!("File"));
    set(c, "resources", json!({}));
    if let Some(Value::Array(ports)) = c.get_mut("ports") {
        for p in ports {
            set(p, "protocol", json!("TCP"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let Some(p) = c.get_mut(probe).filter(|p| p.is_object()) else {
            continue;
        };
        set(p, "timeoutSeconds", json!(1));
        set(p, "periodSeconds", json!(10));
        set(p, "successThreshold", json!(1));
        set(p, "failureThreshold", json!(3));
        if p["httpGet"].is_object() {
            set(&mut p["httpGet"], "scheme", json!("HTTP"));
        }
    }
}

fn service(obj: &mut Value) {
    let spec = &mut obj["spec"];
    set(spec, "type", json!("ClusterIP"));
    set(spec, "sessionAffinity", json!("None"));
    let external_name = spec["type"] == "ExternalName";
    if !external_name {
        set(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if matches!(spec["type"].as_str(), Some("NodePort" | "LoadBalancer")) {
        set(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if spec["type"] == "LoadBalancer" {
        set(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if let Some(Value::Array(ports)) = spec.get_mut("ports") {
        for p in ports {
            set(p, "protocol", json!("TCP"));
            if let Some(port) = p.get("port").cloned() {
                set(p, "targetPort", port);
            }
        }
    }
    set(obj, "status", json!({"loadBalancer": {}}));
}

fn secret(obj: &mut Value) {
    set(obj, "type", json!("Opaque"));
    let Some(Value::Object(string_data)) = obj.as_object_mut().and_then(|m| m.remove("stringData"))
    else {
        return;
    };
    let data = &mut obj["data"];
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    for (k, v) in string_data {
        let text = v
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| v.to_string());
        data[k.as_str()] = json!(base64(text.as_bytes()));
    }
}

fn namespace(obj: &mut Value) {
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    set(
        &mut obj["metadata"]["labels"],
        "kubernetes.io/metadata.name",
        json!(name),
    );
    set(obj, "spec", json!({}));
    set(&mut obj["spec"], "finalizers", json!(["kubernetes"]));
    set(obj, "status", json!({}));
    set(&mut obj["status"], "phase", json!("Active"));
}

fn network_policy(obj: &mut Value) {
    let spec = &mut obj["spec"];
    if spec.get("policyTypes").is_none() {
        let mut types = vec![json!("Ingress")];
        if spec.get("egress").is_some() {
            types.push(json!("Egress"));
        }
        set(spec, "policyTypes", Value::Array(types));
    }
    for dir in ["ingress", "egress"] {
        if let Some(Value::Array(rules)) = spec.get_mut(dir) {
            for rule in rules {
                if let Some(Value::Array(ports)) = rule.get_mut("ports") {
                    for p in ports {
                        set(p, "protocol", json!("TCP"));
                    }
                }
            }
        }
    }
}

fn crd(obj: &mut Value) {
    let spec = &mut obj["spec"];
    set(spec, "conversion", json!({"strategy": "None"}));
    let kind = spec["names"]["kind"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    set(
        &mut spec["names"],
        "singular",
        json!(kind.to_ascii_lowercase()),
    );
    set(&mut spec["names"], "listKind", json!(format!("{kind}List")));
}

/// Standard base64 with padding (Secret `data`).
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_and_pod_template_defaults() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "nginx", "ports": [{"containerPort": 80}]},
            {"name": "b", "image": "registry:5000/app:1.2"}
        ]}}}});
        apply("apps", "Deployment", &mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(
            d["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["terminationGracePeriodSeconds"], 30);
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(pod["containers"][1]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(pod["containers"][0]["ports"][0]["protocol"], "TCP");
        assert_eq!(
            pod["containers"][0]["terminationMessagePath"],
            "/dev/termination-log"
        );
    }

    #[test]
    fn user_values_win_over_defaults() {
        let mut d = json!({"spec": {"replicas": 3, "strategy": {"type": "Recreate"}}});
        apply("apps", "Deployment", &mut d);
        assert_eq!(d["spec"]["replicas"], 3);
        assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn service_ports_and_secret_string_data() {
        let mut s = json!({"spec": {"ports": [{"port": 80}, {"port": 53, "protocol": "UDP", "targetPort": "dns"}]}});
        apply("", "Service", &mut s);
        assert_eq!(s["spec"]["type"], "ClusterIP");
        assert_eq!(s["spec"]["sessionAffinity"], "None");
        assert_eq!(
            s["spec"]["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 80})
        );
        assert_eq!(s["spec"]["ports"][1]["targetPort"], "dns");

        let mut sec = json!({"data": {"a": "eA=="}, "stringData": {"b": "hello", "c": "hi!"}});
        apply("", "Secret", &mut sec);
        assert_eq!(
            sec,
            json!({"data": {"a": "eA==", "b": "aGVsbG8=", "c": "aGkh"}, "type": "Opaque"})
        );
    }

    #[test]
    fn base64_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }
}
