//! Seed module `database-management` (category `data`): databases run by their operators, with
//! backups, pooling and monitoring.

mod mongodb;
mod mysql;
mod postgresql;
mod redis;

use crate::kind::spec::generator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "database-management",
    category: Category::Data,
    summary: "databases run by their operators, with backups, pooling and monitoring",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![
        generator::<postgresql::PostgreSQL>(&MODULE),
        generator::<mysql::MySQL>(&MODULE),
        generator::<mongodb::MongoDB>(&MODULE),
        generator::<redis::Redis>(&MODULE),
    ]
}

#[cfg(test)]
mod mysql_mongo_tests {
    use super::{mongodb, mysql};
    use crate::engine::{run, Options, Output};
    use crate::finding::Severity;
    use crate::kind::outputs::OutputValue;
    use crate::kind::spec::Generate;
    use crate::kind::{Context, ModuleResource};
    use crate::policy::netpol::Policies;
    use crate::resource::Resource;
    use serde_json::Value;

    fn render(yaml: &str) -> Output {
        let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
        run(
            inputs,
            &Options {
                skip_checks: true,
                ..Options::new(crate::modules::registry())
            },
        )
    }

    fn one(out: &Output, kind: &str) -> Value {
        assert!(!out.failed(), "{:?}", out.findings);
        let found: Vec<&Resource> = out.objects.iter().filter(|o| o.kind() == kind).collect();
        assert_eq!(found.len(), 1, "one {kind}");
        Value::Object(found[0].object.clone())
    }

    /// `(field, message)` of every error.
    fn errors(yaml: &str) -> Vec<(String, String)> {
        render(yaml)
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| (f.field.clone().unwrap_or_default(), f.message.clone()))
            .collect()
    }

    const MYSQL: &str = "apiVersion: nixernetes.io/v1alpha1
kind: MySQL
metadata: {name: shop-db, namespace: shop}
spec:
  secretName: shop-db-root
";

    const MONGO: &str = "apiVersion: nixernetes.io/v1alpha1
kind: MongoDB
metadata: {name: cat, namespace: shop}
spec:
  version: 8.0.12
  users:
    - {name: app_user, passwordSecretRef: {name: app-pw}, roles: [{name: readWrite, db: cat}]}
";

    /// An app in `shop` that depends on `dep`.
    fn app(dep: &str) -> String {
        format!(
            "---\napiVersion: nixernetes.io/v1alpha1\nkind: WebApp\nmetadata: {{name: api, namespace: shop}}\nspec: {{image: ghcr.io/acme/api:1.0, dependsOn: [{dep}]}}\n---\napiVersion: nixernetes.io/v1alpha1\nkind: WebApp\nmetadata: {{name: other, namespace: shop}}\nspec: {{image: ghcr.io/acme/other:1.0}}\n"
        )
    }

    #[test]
    fn mysql_defaults_are_three_members_one_router_the_lts_and_self_signed_tls() {
        let c = one(&render(MYSQL), "InnoDBCluster");
        let s = &c["spec"];
        assert_eq!(c["apiVersion"], "mysql.oracle.com/v2");
        assert_eq!(s["instances"], 3);
        assert_eq!(s["version"], "8.4.9");
        assert_eq!(s["secretName"], "shop-db-root");
        assert_eq!(s["router"]["instances"], 1);
        assert_eq!(s["tlsUseSelfSigned"], true);
        assert_eq!(
            s["datadirVolumeClaimTemplate"]["resources"]["requests"]["storage"],
            "20Gi"
        );
        for absent in [
            "backupProfiles",
            "backupSchedules",
            "metrics",
            "tlsSecretName",
        ] {
            assert!(s.get(absent).is_none(), "{absent}");
        }
    }

    #[test]
    fn mysql_tls_certificates_turn_self_signed_off_and_exclude_it() {
        let yaml = format!("{MYSQL}  tls: {{secretName: t, caSecretName: ca}}\n");
        let s = one(&render(&yaml), "InnoDBCluster")["spec"].clone();
        assert_eq!(s["tlsUseSelfSigned"], false);
        assert_eq!(s["tlsSecretName"], "t");
        assert_eq!(s["tlsCASecretName"], "ca");
        let yaml = format!("{yaml}  tlsUseSelfSigned: true\n");
        assert_eq!(
            errors(&yaml),
            [(
                "spec.tlsUseSelfSigned".into(),
                "tlsUseSelfSigned and tls are mutually exclusive: drop one".into()
            )]
        );
    }

    #[test]
    fn mysql_backup_to_a_pvc_is_one_profile_and_one_schedule_that_names_it() {
        let yaml = format!("{MYSQL}  backup: {{pvc: {{claimName: dumps}}}}\n");
        let s = one(&render(&yaml), "InnoDBCluster")["spec"].clone();
        let profile = &s["backupProfiles"][0];
        assert_eq!(
            profile["dumpInstance"]["storage"],
            serde_json::json!({"persistentVolumeClaim": {"claimName": "dumps"}})
        );
        let schedule = &s["backupSchedules"][0];
        assert_eq!(schedule["backupProfileName"], profile["name"]);
        // Five fields, as a Kubernetes CronJob reads it (not CNPG's six).
        assert_eq!(schedule["schedule"], "0 2 * * *");
        assert!(schedule.get("timeZone").is_none());
    }

    #[test]
    fn mysql_outputs_name_the_router_service_and_the_credentials_secret_keys() {
        let r = &crate::source::parse_text(MYSQL, "t.yaml").unwrap()[0];
        let m = ModuleResource {
            resource: r,
            name: "shop-db",
            namespace: "shop".into(),
        };
        let spec = serde_json::from_value(r.object["spec"].clone()).unwrap();
        let out = mysql::MySQL::outputs(&spec, &m, &Context::default());
        let names: Vec<&str> = out.iter().map(|(n, _)| *n).collect();
        let declared: Vec<&str> = mysql::MySQL::OUTPUTS.iter().map(|o| o.name).collect();
        assert_eq!(names, declared);
        let get = |n: &str| out.iter().find(|(k, _)| *k == n).unwrap().1.clone();
        assert_eq!(get("host"), OutputValue::Value("shop-db.shop.svc".into()));
        assert_eq!(get("port"), OutputValue::Value("3306".into()));
        assert_eq!(
            get("password"),
            OutputValue::Secret {
                name: "shop-db-root".into(),
                key: "rootPassword".into()
            }
        );
        for d in mysql::MySQL::OUTPUTS {
            assert_eq!(
                d.secret,
                matches!(get(d.name), OutputValue::Secret { .. }),
                "{}",
                d.name
            );
        }
    }

    #[test]
    fn mysql_flows_clients_reach_the_router_members_replicate_the_operator_configures() {
        let yaml = format!(
            "{MYSQL}  backup: {{s3: {{bucketName: b, config: s3}}}}\n{}",
            app("shop-db")
        );
        let out = render(&yaml);
        assert!(!out.failed(), "{:?}", out.findings);
        let p = Policies::new(&out.objects);
        let find = |name: &str| {
            out.objects
                .iter()
                .find(|o| o.kind() == "Deployment" && o.name() == name)
                .unwrap()
        };
        let api = p.pod_of(find("api")).unwrap();
        let other = p.pod_of(find("other")).unwrap();
        let router = p.pod(
            "shop",
            &[
                (mysql::CLUSTER_LABEL, "shop-db"),
                ("component", "mysqlrouter"),
            ],
        );
        let member = p.pod(
            "shop",
            &[(mysql::CLUSTER_LABEL, "shop-db"), ("component", "mysqld")],
        );
        let backup = p.pod(
            "shop",
            &[
                (mysql::CLUSTER_LABEL, "shop-db"),
                ("app.kubernetes.io/component", "backup"),
            ],
        );
        let operator = p.pod("mysql-operator", &[("name", "mysql-operator")]);
        for (from, to, port, what) in [
            (&api, &router, 6446, "the app → the router (read-write)"),
            (&api, &router, 6447, "the app → the router (read-only)"),
            (&router, &member, 3306, "the router → a member"),
            (&member, &member, 33061, "group replication"),
            (&member, &member, 3306, "distributed recovery"),
            (&operator, &member, 3306, "the operator → a member"),
            (&backup, &member, 3306, "a dump → a member"),
        ] {
            let v = p.allows(from, to, port, "TCP");
            assert!(v.allowed(), "{what} on {port}: {v:?}");
        }
        for (from, to, port, what) in [
            (&other, &router, 6446, "an unrelated app → the router"),
            (
                &api,
                &member,
                3306,
                "the app → a member, bypassing the router",
            ),
            (&other, &member, 3306, "an unrelated app → a member"),
            (&router, &member, 33061, "the router → group replication"),
        ] {
            assert!(
                !p.allows(from, to, port, "TCP").allowed(),
                "{what} on {port} is allowed"
            );
        }
    }

    #[test]
    fn mongodb_is_a_replica_set_with_scram_users_by_reference() {
        let c = one(&render(MONGO), "MongoDBCommunity");
        let s = &c["spec"];
        assert_eq!(s["type"], "ReplicaSet");
        assert_eq!(s["members"], 3);
        assert_eq!(
            s["security"]["authentication"]["modes"],
            serde_json::json!(["SCRAM"])
        );
        assert!(s["security"].get("tls").is_none());
        let u = &s["users"][0];
        assert_eq!(u["db"], "admin");
        assert_eq!(
            u["passwordSecretRef"],
            serde_json::json!({"name": "app-pw", "key": "password"})
        );
        // Derived, RFC 1123 (the user name has an underscore).
        assert_eq!(u["scramCredentialsSecretName"], "cat-app-user");
        assert_eq!(
            s["statefulSet"]["spec"]["volumeClaimTemplates"][0]["metadata"]["name"],
            "data-volume"
        );
        assert!(s.get("prometheus").is_none());
        assert!(!render(MONGO)
            .objects
            .iter()
            .any(|o| o.kind() == "ServiceMonitor"));
    }

    #[test]
    fn mongodb_outputs_use_the_operators_connection_string_secret() {
        let r = &crate::source::parse_text(MONGO, "t.yaml").unwrap()[0];
        let m = ModuleResource {
            resource: r,
            name: "cat",
            namespace: "shop".into(),
        };
        let spec = serde_json::from_value(r.object["spec"].clone()).unwrap();
        let out = mongodb::MongoDB::outputs(&spec, &m, &Context::default());
        let declared: Vec<&str> = mongodb::MongoDB::OUTPUTS.iter().map(|o| o.name).collect();
        assert_eq!(out.iter().map(|(n, _)| *n).collect::<Vec<_>>(), declared);
        let get = |n: &str| out.iter().find(|(k, _)| *k == n).unwrap().1.clone();
        assert_eq!(get("host"), OutputValue::Value("cat-svc.shop.svc".into()));
        assert_eq!(get("port"), OutputValue::Value("27017".into()));
        // The operator's `<name>-<db>-<user>`, normalized as its normalizeName does.
        assert_eq!(
            get("uriSrv"),
            OutputValue::Secret {
                name: "cat-admin-app-user".into(),
                key: "connectionString.standardSrv".into()
            }
        );
        assert_eq!(
            mongodb::normalize("Cat-admin-My__User"),
            "cat-admin-my-user"
        );
    }

    #[test]
    fn mongodb_flows_members_replicate_clients_reach_27017_and_nothing_else() {
        let yaml = format!("{MONGO}{}", app("cat"));
        let out = render(&yaml);
        assert!(!out.failed(), "{:?}", out.findings);
        let p = Policies::new(&out.objects);
        let find = |name: &str| {
            out.objects
                .iter()
                .find(|o| o.kind() == "Deployment" && o.name() == name)
                .unwrap()
        };
        let api = p.pod_of(find("api")).unwrap();
        let other = p.pod_of(find("other")).unwrap();
        let member = p.pod("shop", &[("app", "cat-svc")]);
        assert!(
            p.allows(&api, &member, 27017, "TCP").allowed(),
            "the app → mongod"
        );
        assert!(
            p.allows(&member, &member, 27017, "TCP").allowed(),
            "replication"
        );
        assert!(
            !p.allows(&other, &member, 27017, "TCP").allowed(),
            "an unrelated app → mongod"
        );
        assert!(
            !p.allows(&api, &member, 9216, "TCP").allowed(),
            "the app → the metrics port"
        );
    }

    #[test]
    fn mongodb_metrics_are_the_agents_endpoint_and_a_service_monitor_with_basic_auth() {
        let yaml = format!("{MONGO}  metrics: {{secretName: m, username: prom}}\n");
        let out = render(&yaml);
        let s = one(&out, "MongoDBCommunity")["spec"].clone();
        assert_eq!(s["prometheus"]["username"], "prom");
        assert_eq!(s["prometheus"]["passwordSecretRef"]["name"], "m");
        let sm = one(&out, "ServiceMonitor");
        assert_eq!(sm["spec"]["selector"]["matchLabels"]["app"], "cat-svc");
        assert_eq!(sm["spec"]["endpoints"][0]["port"], "prometheus");
        assert_eq!(
            sm["spec"]["endpoints"][0]["basicAuth"]["username"]["key"],
            "username"
        );
    }
}

#[cfg(test)]
mod redis_tests {
    use super::redis::{self, Redis, RedisSpec};
    use crate::engine::{run, Options, Output};
    use crate::finding::Severity;
    use crate::kind::spec::Generate;
    use crate::kind::{Context, ModuleResource, OutputValue};
    use crate::policy::netpol::Policies;
    use crate::resource::Resource;
    use serde_json::Value;

    fn render(yaml: &str) -> Output {
        let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
        run(
            inputs,
            &Options {
                skip_checks: true,
                ..Options::new(crate::modules::registry())
            },
        )
    }

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
}

#[cfg(test)]
mod postgresql_tests {
    use crate::kind::{OutputValue, Publisher};
    use crate::modules::registry;

    /// What the engine's pre-pass publishes for `yaml`'s resource `ns/name`.
    fn published(yaml: &str, ns: &str, name: &str) -> Publisher {
        let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
        let def = registry().lookup("PostgreSQL").unwrap();
        let outputs = def.output_values.expect("PostgreSQL publishes outputs");
        let ctx = crate::kind::Context::default();
        let m = crate::kind::ModuleResource {
            resource: &inputs[0],
            name,
            namespace: ns.to_string(),
        };
        Publisher {
            kind: def.kind,
            defs: def.outputs,
            values: outputs(&m, &ctx).ok(),
        }
    }

    fn value<'a>(p: &'a Publisher, output: &str) -> Option<&'a OutputValue> {
        p.values
            .as_ref()
            .unwrap()
            .iter()
            .find(|(n, _)| *n == output)
            .map(|(_, v)| v)
    }

    #[test]
    fn postgresql_publishes_its_services_and_the_app_secret_keys() {
        let p = published(
            "apiVersion: nixernetes.io/v1alpha1\nkind: PostgreSQL\nmetadata: {name: orders-db}\nspec: {database: orders, owner: shop}\n",
            "shop",
            "orders-db",
        );
        let plain = |v: &str| Some(OutputValue::Value(v.into()));
        assert_eq!(value(&p, "host").cloned(), plain("orders-db-rw.shop.svc"));
        assert_eq!(
            value(&p, "host-ro").cloned(),
            plain("orders-db-ro.shop.svc")
        );
        assert_eq!(value(&p, "port").cloned(), plain("5432"));
        assert_eq!(value(&p, "database").cloned(), plain("orders"));
        assert_eq!(value(&p, "user").cloned(), plain("shop"));
        // No pooler, no pooler host.
        assert_eq!(value(&p, "pooler-host"), None);
        // CloudNativePG's `<name>-app` Secret, as its pkg/specs/secrets.go writes it.
        for key in [
            "username",
            "password",
            "uri",
            "jdbc-uri",
            "fqdn-uri",
            "fqdn-jdbc-uri",
            "pgpass",
        ] {
            assert_eq!(
                value(&p, key).cloned(),
                Some(OutputValue::Secret {
                    name: "orders-db-app".into(),
                    key: key.into()
                }),
                "{key}"
            );
            assert!(p.defs.iter().any(|d| d.name == key && d.secret), "{key}");
        }
        // Every value is declared, and every declared output but the pooler's has a value.
        let values = p.values.as_ref().unwrap();
        assert!(values
            .iter()
            .all(|(n, _)| p.defs.iter().any(|d| d.name == *n)));
        assert_eq!(values.len(), p.defs.len() - 1);
        assert!(p
            .defs
            .iter()
            .filter(|d| !d.secret)
            .all(|d| !d.description.is_empty()));
    }

    #[test]
    fn postgresql_publishes_the_pooler_host_with_a_pooler() {
        let p = published(
            "apiVersion: nixernetes.io/v1alpha1\nkind: PostgreSQL\nmetadata: {name: db}\nspec: {pooler: {}}\n",
            "",
            "db",
        );
        // Without a namespace (left to Kustomize), the bare Service names.
        assert_eq!(
            value(&p, "pooler-host").cloned(),
            Some(OutputValue::Value("db-pooler".into()))
        );
        assert_eq!(
            value(&p, "host").cloned(),
            Some(OutputValue::Value("db-rw".into()))
        );
    }

    #[test]
    fn platform_defaults_moves_the_metrics_scrapers() {
        let yaml = "apiVersion: nixernetes.io/v1alpha1\nkind: PlatformDefaults\nmetadata: {name: p}\nspec: {monitoring: {namespace: observability}}\n---\napiVersion: nixernetes.io/v1alpha1\nkind: PostgreSQL\nmetadata: {name: db, namespace: shop}\nspec: {}\n";
        let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
        let out = crate::engine::run(inputs, &crate::engine::Options::new(registry()));
        assert!(!out.failed(), "{:?}", out.findings);
        let p = crate::policy::netpol::Policies::new(&out.objects);
        let db = p.pod("shop", &[("cnpg.io/cluster", "db")]);
        let from = |ns| p.pod(ns, &[("app.kubernetes.io/name", "prometheus")]);
        assert!(p.allows(&from("observability"), &db, 9187, "TCP").allowed());
        assert!(!p.allows(&from("monitoring"), &db, 9187, "TCP").allowed());
        assert!(!p.allows(&from("observability"), &db, 5432, "TCP").allowed());
    }

    #[test]
    fn no_metrics_port_without_monitoring() {
        let yaml = "apiVersion: nixernetes.io/v1alpha1\nkind: PostgreSQL\nmetadata: {name: db, namespace: shop}\nspec: {monitoring: false}\n";
        let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
        let out = crate::engine::run(inputs, &crate::engine::Options::new(registry()));
        let p = crate::policy::netpol::Policies::new(&out.objects);
        let db = p.pod("shop", &[("cnpg.io/cluster", "db")]);
        let prometheus = p.pod("monitoring", &[]);
        assert!(!p.allows(&prometheus, &db, 9187, "TCP").allowed());
    }
}
