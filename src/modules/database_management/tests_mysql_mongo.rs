//! Unit tests of the MySQL and MongoDB kinds.
#![cfg(test)]

use super::{mongodb, mysql};
use crate::engine::Output;
use crate::finding::Severity;
use crate::kind::outputs::OutputValue;
use crate::kind::spec::Generate;
use crate::kind::{Context, ModuleResource};
use crate::modules::shared::testing::render;
use crate::policy::netpol::Policies;
use crate::resource::Resource;
use serde_json::Value;

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
