//! Unit tests of the PostgreSQL kind.
#![cfg(test)]

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

/// Found by the fuzz target kind_specs: a retention ending in a character of more than one byte
/// (`3ⴴ`) was cut inside it and panicked. Each such value is an error at its field; the units
/// are still read.
#[test]
fn a_retention_ending_in_any_character_is_an_error_not_a_panic() {
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/database-management/postgresql.yaml"
    ))
    .expect("the example reads");
    let errors = |retention: &str| {
        let text = example.replace("retention: 30d", &format!("retention: {retention:?}"));
        assert_ne!(text, example, "the example sets retention: 30d");
        let inputs = crate::source::parse_text(&text, "pg.yaml").expect("reads");
        let out = crate::engine::run(inputs, &crate::engine::Options::new(registry()));
        out.findings
            .into_iter()
            .filter(|f| f.severity == crate::finding::Severity::Error)
            .map(|f| f.field.unwrap_or_default())
            .collect::<Vec<_>>()
    };
    for bad in ["3ⴴ", "ⴴ", "é", "30", "d", "0d", "-1w"] {
        assert_eq!(errors(bad), ["spec.backup.retention"], "{bad:?}");
    }
    for good in ["30d", "4w", "6m"] {
        assert_eq!(errors(good), Vec::<String>::new(), "{good:?}");
    }
}
