//! Unit tests of the Redis kind.
#![cfg(test)]

use super::redis::{self, Redis, RedisSpec};
use crate::engine::Output;
use crate::finding::Severity;
use crate::kind::spec::Generate;
use crate::kind::{Context, ModuleResource, OutputValue};
use crate::modules::shared::testing::render;
use crate::policy::netpol::Policies;
use crate::resource::Resource;
use serde_json::Value;

fn redis(spec: &str) -> String {
    format!(
            "apiVersion: nixernetes.io/v1alpha1\nkind: Redis\nmetadata: {{name: cache, namespace: shop}}\nspec: {spec}\n"
        )
}

fn kind<'a>(out: &'a Output, kind: &str) -> Vec<&'a Resource> {
    out.objects.iter().filter(|o| o.kind() == kind).collect()
}

fn spec_of<'a>(out: &'a Output, k: &str) -> &'a Value {
    let objects = kind(out, k);
    assert_eq!(objects.len(), 1, "one {k}: {:?}", out.findings);
    objects[0].object.get("spec").unwrap()
}

fn conf(out: &Output) -> String {
    let cm = kind(out, "ConfigMap");
    cm[0].object["data"][redis::CONFIG_KEY]
        .as_str()
        .unwrap()
        .to_string()
}

fn errors(out: &Output) -> Vec<String> {
    out.findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.field.clone().unwrap_or_default())
        .collect()
}

fn outputs(yaml: &str) -> Vec<(&'static str, OutputValue)> {
    let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
    let m = ModuleResource {
        resource: &inputs[0],
        name: inputs[0].name(),
        namespace: "shop".into(),
    };
    let spec: RedisSpec =
        serde_json::from_value(inputs[0].object.get("spec").cloned().unwrap()).unwrap();
    Redis::outputs(&spec, &m, &Context::default())
}

#[test]
fn defaults_are_a_replicated_redis_with_snapshots_eviction_and_metrics() {
    let out = render(&redis("{}"));
    assert!(errors(&out).is_empty(), "{:?}", out.findings);
    let s = spec_of(&out, "RedisReplication");
    assert_eq!(s["clusterSize"], 3);
    assert_eq!(
        s["kubernetesConfig"]["image"],
        "quay.io/opstree/redis:v7.0.15"
    );
    assert_eq!(
        s["storage"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"],
        "8Gi"
    );
    assert_eq!(s["redisConfig"]["additionalRedisConfig"], "cache-config");
    assert_eq!(s["redisExporter"]["port"], 9121);
    assert!(s["kubernetesConfig"].get("redisSecret").is_none());
    assert_eq!(s["podSecurityContext"]["runAsNonRoot"], true);
    assert_eq!(s["securityContext"]["capabilities"]["drop"][0], "ALL");
    // 75% of the platform's default 512Mi limit.
    let c = conf(&out);
    assert!(c.contains("maxmemory 402653184\n"), "{c}");
    assert!(c.contains("maxmemory-policy allkeys-lru\n"), "{c}");
    assert!(
        c.contains("save \"\"\nsave 3600 1 300 100 60 10000\nappendonly no\n"),
        "{c}"
    );
    assert!(kind(&out, "RedisSentinel").is_empty());
    let pm = spec_of(&out, "PodMonitor");
    assert_eq!(pm["selector"]["matchLabels"]["role"], "replication");
    assert_eq!(pm["podMetricsEndpoints"][0]["port"], "redis-exporter");
}

#[test]
fn standalone_is_one_redis_without_cluster_size_or_budget() {
    let out = render(&redis(
        "{mode: standalone, persistence: aof, exporter: false}",
    ));
    assert!(errors(&out).is_empty(), "{:?}", out.findings);
    let s = spec_of(&out, "Redis");
    assert!(s.get("clusterSize").is_none());
    assert!(s.get("pdb").is_none());
    assert!(s.get("redisExporter").is_none());
    assert!(kind(&out, "PodMonitor").is_empty());
    let c = conf(&out);
    assert!(
        c.contains("save \"\"\nappendonly yes\nappendfsync everysec\n"),
        "{c}"
    );
    assert_eq!(
        outputs(&redis("{mode: standalone}"))[0],
        ("host", OutputValue::Value("cache.shop.svc".into()))
    );
}

#[test]
fn cluster_has_leaders_followers_and_a_persistent_node_conf() {
    let out = render(&redis(
            "{mode: cluster, replicas: 3, cluster: {followers: 6}, storage: {size: 4Gi, storageClass: fast}}",
        ));
    assert!(errors(&out).is_empty(), "{:?}", out.findings);
    let s = spec_of(&out, "RedisCluster");
    assert_eq!(s["clusterSize"], 3);
    assert_eq!(s["clusterVersion"], "v7");
    assert_eq!(s["persistenceEnabled"], true);
    assert_eq!(s["redisLeader"]["replicas"], 3);
    assert_eq!(s["redisFollower"]["replicas"], 6);
    assert_eq!(
        s["redisFollower"]["redisConfig"]["additionalRedisConfig"],
        "cache-config"
    );
    assert!(s.get("securityContext").is_none(), "per role in a cluster");
    assert_eq!(s["storage"]["nodeConfVolume"], true);
    assert_eq!(
        s["storage"]["nodeConfVolumeClaimTemplate"]["spec"]["storageClassName"],
        "fast"
    );
    assert_eq!(
        outputs(&redis("{mode: cluster}"))[0],
        ("host", OutputValue::Value("cache-leader.shop.svc".into()))
    );
}

#[test]
fn persistence_none_has_no_volume_and_no_snapshots() {
    let out = render(&redis("{mode: cluster, persistence: none}"));
    assert!(errors(&out).is_empty(), "{:?}", out.findings);
    let s = spec_of(&out, "RedisCluster");
    assert_eq!(s["persistenceEnabled"], false);
    assert!(s.get("storage").is_none());
    assert!(conf(&out).ends_with("save \"\"\nappendonly no\n"));
    let out = render(&redis("{persistence: none, storage: {size: 1Gi}}"));
    assert_eq!(errors(&out), ["spec.storage"]);
}

#[test]
fn valkey_uses_the_valkey_image_and_warns_about_the_feature_gate() {
    let out = render(&redis("{mode: sentinel, image: valkey}"));
    assert!(errors(&out).is_empty(), "{:?}", out.findings);
    for k in ["RedisReplication", "RedisSentinel"] {
        assert_eq!(
            spec_of(&out, k)["kubernetesConfig"]["image"],
            "docker.io/valkey/valkey:8.1.4"
        );
    }
    assert!(out.findings.iter().any(|f| f.severity == Severity::Warning
        && f.field.as_deref() == Some("spec.image")
        && f.message.contains("GenerateConfigInInitContainer=true")));
}

#[test]
fn sentinel_mode_publishes_the_master_the_sentinels_and_the_password_reference() {
    let yaml = redis("{mode: sentinel, auth: {secretRef: {name: cache-pass}}}");
    let out = render(&yaml);
    let s = spec_of(&out, "RedisSentinel");
    assert_eq!(s["clusterSize"], 3);
    assert_eq!(s["redisSentinelConfig"]["redisReplicationName"], "cache");
    assert_eq!(s["redisSentinelConfig"]["quorum"], "2");
    assert_eq!(
        s["redisSentinelConfig"]["redisReplicationPassword"]["secretKeyRef"]["key"],
        "password"
    );
    assert_eq!(
        spec_of(&out, "RedisReplication")["kubernetesConfig"]["redisSecret"]["name"],
        "cache-pass"
    );
    let v = |s: &str| OutputValue::Value(s.into());
    assert_eq!(
        outputs(&yaml),
        vec![
            ("host", v("cache-master.shop.svc")),
            ("port", v("6379")),
            (
                "password",
                OutputValue::Secret {
                    name: "cache-pass".into(),
                    key: "password".into()
                }
            ),
            ("sentinelHost", v("cache-sentinel.shop.svc")),
            ("sentinelPort", v("26379")),
            ("masterName", v("myMaster")),
        ]
    );
    // Without auth there is no password to publish, and only sentinel mode has Sentinels.
    let names: Vec<_> = outputs(&redis("{}")).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["host", "port"]);
}

#[test]
fn replicas_and_mode_blocks_are_checked_per_mode() {
    for (spec, field) in [
        ("{mode: standalone, replicas: 2}", "spec.replicas"),
        ("{mode: cluster, replicas: 2}", "spec.replicas"),
        ("{mode: sentinel, replicas: 1}", "spec.replicas"),
        ("{mode: replication, sentinel: {}}", "spec.sentinel"),
        ("{mode: sentinel, cluster: {}}", "spec.cluster"),
        (
            "{mode: sentinel, sentinel: {replicas: 5, quorum: 6}}",
            "spec.sentinel.quorum",
        ),
    ] {
        assert_eq!(errors(&render(&redis(spec))), [field], "{spec}");
    }
    assert!(errors(&render(&redis("{mode: replication, replicas: 1}"))).is_empty());
}

const APP: &str = "---
apiVersion: nixernetes.io/v1alpha1
kind: WebApp
metadata: {name: shop-api, namespace: shop}
spec: {image: ghcr.io/acme/api:1.0.0, dependsOn: [cache]}
---
apiVersion: nixernetes.io/v1alpha1
kind: WebApp
metadata: {name: other, namespace: shop}
spec: {image: ghcr.io/acme/other:1.0.0}
";

#[test]
fn network_lets_dependents_reach_redis_and_the_sentinels_and_the_pods_replicate() {
    let out = render(&(redis("{mode: sentinel}") + APP));
    assert!(errors(&out).is_empty(), "{:?}", out.findings);
    let p = Policies::new(&out.objects);
    let deployment = |n: &str| {
        out.objects
            .iter()
            .find(|o| o.kind() == "Deployment" && o.name() == n)
            .unwrap()
    };
    let app = p.pod_of(deployment("shop-api")).unwrap();
    let other = p.pod_of(deployment("other")).unwrap();
    let server = p.pod(
        "shop",
        &[
            ("app", "cache"),
            ("redis_setup_type", "replication"),
            ("role", "replication"),
        ],
    );
    let sentinel = p.pod(
        "shop",
        &[
            ("app.kubernetes.io/name", "cache"),
            ("app", "cache-sentinel"),
            ("redis_setup_type", "sentinel"),
            ("role", "sentinel"),
        ],
    );
    let operator = p.pod(redis::OPERATOR_NAMESPACE, &[("name", "redis-operator")]);
    for (from, to, port, what) in [
        (&app, &server, 6379, "app → redis"),
        (&app, &sentinel, 26379, "app → sentinel"),
        (&server, &server, 6379, "replication"),
        (&sentinel, &server, 6379, "sentinel → redis"),
        (&sentinel, &sentinel, 26379, "sentinel ↔ sentinel"),
        (&operator, &server, 6379, "operator → redis"),
        (&operator, &sentinel, 26379, "operator → sentinel"),
    ] {
        let verdict = p.allows(from, to, port, "TCP");
        assert!(verdict.allowed(), "{what} on {port}: {verdict:?}");
    }
    for (from, to, port, what) in [
        (&other, &server, 6379, "unrelated → redis"),
        (&other, &sentinel, 26379, "unrelated → sentinel"),
        (&app, &server, 16379, "app → redis on another port"),
        (&server, &app, 8080, "redis → app"),
    ] {
        assert!(
            !p.allows(from, to, port, "TCP").allowed(),
            "{what} on {port} is allowed"
        );
    }
}

#[test]
fn cluster_pods_reach_each_other_on_the_bus_port() {
    let out = render(&(redis("{mode: cluster}") + APP));
    let p = Policies::new(&out.objects);
    let leader = p.pod(
        "shop",
        &[
            ("app", "cache-leader"),
            ("role", "leader"),
            ("cluster", "cache"),
            ("redis_setup_type", "cluster"),
        ],
    );
    let follower = p.pod(
        "shop",
        &[
            ("app", "cache-follower"),
            ("role", "follower"),
            ("cluster", "cache"),
            ("redis_setup_type", "cluster"),
        ],
    );
    for port in [6379, 16379] {
        assert!(
            p.allows(&leader, &follower, port, "TCP").allowed(),
            "{port}"
        );
        assert!(
            p.allows(&follower, &leader, port, "TCP").allowed(),
            "{port}"
        );
    }
    let operator = p.pod(redis::OPERATOR_NAMESPACE, &[]);
    assert!(p.allows(&operator, &leader, 6379, "TCP").allowed());
    assert!(!p.allows(&operator, &leader, 16379, "TCP").allowed());
}
