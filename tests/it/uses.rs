//! `uses`: a workload bound to a data kind of the same render gets its connection outputs as
//! environment (plain values as `value`, credentials as `secretKeyRef` or, at compliance level
//! medium and above, as files named by `<NAME>_FILE`; never the secret) and
//! the network access of `dependsOn`; the metrics ports of what it uses are open to the
//! monitoring namespace only.

use crate::network::{pods, rendered};
use nixernetes::policy::netpol::Policies;
use nixernetes::resource::Resource;
use serde_json::{json, Value};

/// The env of the first container of Deployment `name`.
fn env(objects: &[Resource], name: &str) -> Vec<Value> {
    let d = objects
        .iter()
        .find(|o| o.kind() == "Deployment" && o.name() == name)
        .unwrap_or_else(|| panic!("no Deployment/{name}"));
    d.object["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn uses_hands_the_outputs_over_as_env() {
    let objects = rendered("tests/fixtures/uses.yaml");
    let env = env(&objects, "chat");
    let var = |n: &str| {
        env.iter()
            .find(|e| e["name"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("{n} in {env:?}"))
    };
    assert_eq!(
        var("DATABASE_URL"),
        json!({"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "chat-db-app", "key": "uri"}}})
    );
    assert_eq!(
        var("DB_HOST"),
        json!({"name": "DB_HOST", "value": "chat-db-rw.chat.svc"})
    );
    assert_eq!(var("DB_PORT"), json!({"name": "DB_PORT", "value": "5432"}));
    assert_eq!(var("DB_NAME"), json!({"name": "DB_NAME", "value": "chat"}));
    let deployment = objects
        .iter()
        .find(|o| o.kind() == "Deployment" && o.name() == "chat")
        .unwrap();
    assert_eq!(
        deployment.object["metadata"]["annotations"]["nixernetes.io/depends-on"],
        "chat-db"
    );
}

/// `render INPUT --level medium`: its output, objects, and the env of Deployment `chat`,
/// checked to hold `DATABASE_URL_FILE` as the path of the mounted credential.
fn at_medium(input: &str) -> (String, Vec<Resource>, Vec<Value>) {
    let out = crate::common::run_binary(&["render", input, "--level", "medium"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let objects = nixernetes::source::parse_text(&out.stdout, "out").unwrap();
    let env = env(&objects, "chat");
    assert!(
        env.contains(
            &json!({"name": "DATABASE_URL_FILE", "value": "/var/run/secrets/chat-db-app/uri"})
        ),
        "{env:?}"
    );
    (out.stdout, objects, env)
}

/// At level medium the credential is a mounted file named by `DATABASE_URL_FILE`: no
/// environment variable of the rendered set reads a Secret.
#[test]
fn at_level_medium_uses_hands_credentials_over_as_files() {
    let (stdout, objects, env) = at_medium("tests/fixtures/uses.yaml");
    assert!(!stdout.contains("secretKeyRef"), "{stdout}");
    assert!(env.contains(&json!({"name": "DB_HOST", "value": "chat-db-rw.chat.svc"})));
    assert!(!env.iter().any(|e| e["name"] == "DATABASE_URL"), "{env:?}");
    let pod = &objects
        .iter()
        .find(|o| o.kind() == "Deployment" && o.name() == "chat")
        .unwrap()
        .object["spec"]["template"]["spec"];
    assert!(pod["volumes"]
        .as_array()
        .unwrap()
        .contains(&json!({"name": "secret-chat-db-app", "secret": {"secretName": "chat-db-app"}})));
    assert!(pod["containers"][0]["volumeMounts"]
        .as_array()
        .unwrap()
        .contains(&json!({"name": "secret-chat-db-app", "mountPath": "/var/run/secrets/chat-db-app", "readOnly": true})));
}

/// A variable the user already names as a file's (`…_FILE`) keeps its name at level medium,
/// and holds the file's path; below medium it is the secret itself, as written.
#[test]
fn a_file_variable_keeps_its_name() {
    let text = std::fs::read_to_string("tests/fixtures/uses.yaml")
        .unwrap()
        .replace("DATABASE_URL: uri", "DATABASE_URL_FILE: uri");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("uses.yaml");
    std::fs::write(&input, text).unwrap();
    let (_, _, env) = at_medium(input.to_str().unwrap());
    assert!(
        !env.iter().any(|e| e["name"] == "DATABASE_URL_FILE_FILE"),
        "{env:?}"
    );
}

#[test]
fn uses_allows_the_app_and_metrics_scrapers_only() {
    let objects = rendered("tests/fixtures/uses.yaml");
    let p = Policies::new(&objects);
    let chat = pods(&p, &objects, "Deployment", "chat");
    let other = pods(&p, &objects, "Deployment", "other");
    let db = p.pod("chat", &[("cnpg.io/cluster", "chat-db")]);
    let prometheus = p.pod("monitoring", &[("app.kubernetes.io/name", "prometheus")]);
    let elsewhere = p.pod("tools", &[("app.kubernetes.io/name", "prometheus")]);
    for (from, to, port, what) in [
        (&chat, &db, 5432, "chat → chat-db"),
        (&prometheus, &db, 9187, "prometheus → chat-db metrics"),
    ] {
        let verdict = p.allows(from, to, port, "TCP");
        assert!(verdict.allowed(), "{what} on {port}: {verdict:?}");
    }
    for (from, to, port, what) in [
        (&other, &db, 5432, "other → chat-db"),
        (&chat, &db, 9187, "chat → chat-db metrics"),
        (
            &prometheus,
            &db,
            5432,
            "prometheus → chat-db's PostgreSQL port",
        ),
        (&elsewhere, &db, 9187, "another namespace → chat-db metrics"),
        (&elsewhere, &db, 5432, "another namespace → chat-db"),
        (
            &prometheus,
            &chat,
            8080,
            "prometheus → chat (declares no metrics)",
        ),
    ] {
        assert!(
            !p.allows(from, to, port, "TCP").allowed(),
            "{what} on {port} is allowed"
        );
    }
}

#[test]
fn the_monitoring_namespace_is_a_setting() {
    let render = |extra: &[&str]| {
        let mut args = vec!["render", "tests/fixtures/uses.yaml"];
        args.extend(extra);
        let out = crate::common::run_binary(&args);
        assert_eq!(out.status, 0, "{}", out.stderr);
        nixernetes::source::parse_text(&out.stdout, "out").unwrap()
    };
    let objects = render(&["--monitoring-namespace", "observability"]);
    let p = Policies::new(&objects);
    let db = p.pod("chat", &[("cnpg.io/cluster", "chat-db")]);
    let scraper = |ns| p.pod(ns, &[("app.kubernetes.io/name", "prometheus")]);
    assert!(p
        .allows(&scraper("observability"), &db, 9187, "TCP")
        .allowed());
    assert!(!p.allows(&scraper("monitoring"), &db, 9187, "TCP").allowed());
}
