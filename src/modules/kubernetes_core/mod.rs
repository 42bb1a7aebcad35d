//! Seed module `kubernetes-core` (category `core`): the workloads and configuration of an
//! application. Every pod is hardened by default (restricted Pod Security), runs under its own
//! ServiceAccount without a mounted token, and gets the platform's default resources unless the
//! spec sets them.

mod app_config;
mod node_agent;
mod stateful_service;
mod web_app;
mod worker;

use crate::kind::spec::generator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "kubernetes-core",
    category: Category::Core,
    summary: "the workloads and configuration of an application",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![
        generator::<web_app::WebApp>(&MODULE),
        generator::<worker::Worker>(&MODULE),
        generator::<stateful_service::StatefulService>(&MODULE),
        generator::<node_agent::NodeAgent>(&MODULE),
        generator::<app_config::AppConfig>(&MODULE),
    ]
}

/// `uses` in the workload kinds: what it adds to the pods, whatever the kind and the input
/// order, and where its errors point when the workload is a `MultiTierApp` tier.
#[cfg(test)]
mod tests_uses {
    use crate::engine::{run, Options};
    use crate::finding::{has_errors, Finding};
    use crate::resource::Resource;
    use serde_json::{json, Value};

    const DB: &str = "apiVersion: nixernetes.io/v1alpha1\nkind: PostgreSQL\nmetadata: {name: chat-db, namespace: chat}\nspec: {instances: 1}\n";

    fn render(yaml: &str) -> (Vec<Resource>, Vec<Finding>) {
        let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
        let out = run(inputs, &Options::new(crate::modules::registry()));
        (out.objects, out.findings)
    }

    fn pod_spec<'a>(objects: &'a [Resource], kind: &str, name: &str) -> &'a Value {
        let o = objects
            .iter()
            .find(|o| o.kind() == kind && o.name() == name)
            .unwrap_or_else(|| panic!("no {kind}/{name}"));
        &o.object["spec"]["template"]["spec"]
    }

    #[test]
    fn mount_path_mounts_the_secret_of_the_outputs() {
        let (objects, findings) = render(&format!(
            "apiVersion: nixernetes.io/v1alpha1\nkind: Worker\nmetadata: {{name: jobs, namespace: chat}}\nspec:\n  image: ghcr.io/acme/jobs:1.0.0\n  uses: [{{name: chat-db, mountPath: /etc/db, env: {{PGHOST: host}}}}]\n---\n{DB}"
        ));
        assert!(!has_errors(&findings), "{findings:?}");
        let pod = pod_spec(&objects, "Deployment", "jobs");
        assert!(pod["volumes"].as_array().unwrap().contains(
            &json!({"name": "secret-chat-db-app", "secret": {"secretName": "chat-db-app"}})
        ));
        assert!(pod["containers"][0]["volumeMounts"]
            .as_array()
            .unwrap()
            .contains(
                &json!({"name": "secret-chat-db-app", "mountPath": "/etc/db", "readOnly": true})
            ));
        assert_eq!(
            pod["containers"][0]["env"],
            json!([{"name": "PGHOST", "value": "chat-db-rw.chat.svc"}])
        );
    }

    #[test]
    fn a_stateful_service_binds_too_and_a_secret_mounted_twice_is_refused() {
        let (objects, findings) = render(&format!(
            "{DB}---\napiVersion: nixernetes.io/v1alpha1\nkind: StatefulService\nmetadata: {{name: cache, namespace: chat}}\nspec:\n  image: valkey/valkey:8.0\n  uses: [{{name: chat-db, env: {{PGPASSWORD: password}}}}]\n"
        ));
        assert!(!has_errors(&findings), "{findings:?}");
        assert_eq!(
            pod_spec(&objects, "StatefulSet", "cache")["containers"][0]["env"],
            json!([{"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {"name": "chat-db-app", "key": "password"}}}])
        );
        let (_, findings) = render(&format!(
            "{DB}---\napiVersion: nixernetes.io/v1alpha1\nkind: Worker\nmetadata: {{name: jobs, namespace: chat}}\nspec:\n  image: ghcr.io/acme/jobs:1.0.0\n  secretMounts: [{{secret: chat-db-app, mountPath: /etc/a}}]\n  uses: [{{name: chat-db, mountPath: /etc/db}}]\n"
        ));
        let e: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == crate::finding::Severity::Error)
            .collect();
        assert_eq!(e.len(), 1, "{findings:?}");
        assert_eq!(e[0].field.as_deref(), Some("spec.uses[0].mountPath"));
    }

    /// At compliance level medium and above a bound credential is a file, never an
    /// environment variable; `credentials: env` keeps the variable.
    #[test]
    fn at_level_medium_credentials_are_files() {
        let app = |uses: &str, level: &str, extra: &str| {
            format!(
                "apiVersion: nixernetes.io/v1alpha1\nkind: PlatformDefaults\nmetadata: {{name: p}}\nspec: {{complianceLevel: {level}}}\n---\n{DB}---\napiVersion: nixernetes.io/v1alpha1\nkind: Worker\nmetadata: {{name: jobs, namespace: chat}}\nspec:\n  image: ghcr.io/acme/jobs:1.0.0\n  probes: none\n{extra}  uses: [{uses}]\n"
            )
        };
        let uses = "{name: chat-db, env: {DATABASE_URL: uri, PGPASSWORD: password, PGHOST: host}}";
        let (objects, findings) = render(&app(uses, "medium", ""));
        assert!(!has_errors(&findings), "{findings:?}");
        let pod = pod_spec(&objects, "Deployment", "jobs");
        assert_eq!(
            pod["containers"][0]["env"],
            json!([
                {"name": "DATABASE_URL_FILE", "value": "/var/run/secrets/chat-db-app/uri"},
                {"name": "PGHOST", "value": "chat-db-rw.chat.svc"},
                {"name": "PGPASSWORD_FILE", "value": "/var/run/secrets/chat-db-app/password"},
            ])
        );
        assert_eq!(
            pod["volumes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|v| v["secret"]["secretName"] == "chat-db-app")
                .count(),
            1,
            "the Secret is mounted once: {pod}"
        );
        assert!(pod["containers"][0]["volumeMounts"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "secret-chat-db-app", "mountPath": "/var/run/secrets/chat-db-app", "readOnly": true})));
        // Below medium, and with `credentials: env` at any level: a secretKeyRef.
        let secret_ref = json!({"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "chat-db-app", "key": "uri"}}});
        for (uses, level) in [
            ("{name: chat-db, env: {DATABASE_URL: uri}}", "low"),
            (
                "{name: chat-db, env: {DATABASE_URL: uri}, credentials: env}",
                "high",
            ),
        ] {
            let (objects, findings) = render(&app(uses, level, ""));
            assert!(!has_errors(&findings), "{findings:?}");
            let pod = pod_spec(&objects, "Deployment", "jobs");
            assert_eq!(
                pod["containers"][0]["env"],
                json!([secret_ref]),
                "{uses} at {level}"
            );
            assert!(pod
                .get("volumes")
                .is_none_or(|v| !v.to_string().contains("chat-db-app")));
        }
        // A mountPath or a secretMounts entry of the same Secret is where the files are.
        let (objects, findings) = render(&app(
            "{name: chat-db, env: {DATABASE_URL: uri}, mountPath: /etc/db}",
            "medium",
            "",
        ));
        assert!(!has_errors(&findings), "{findings:?}");
        assert_eq!(
            pod_spec(&objects, "Deployment", "jobs")["containers"][0]["env"],
            json!([{"name": "DATABASE_URL_FILE", "value": "/etc/db/uri"}])
        );
        let (objects, findings) = render(&app(
            "{name: chat-db, env: {DATABASE_URL: uri}}",
            "medium",
            "  secretMounts: [{secret: chat-db-app, mountPath: /etc/a}]\n",
        ));
        assert!(!has_errors(&findings), "{findings:?}");
        let pod = pod_spec(&objects, "Deployment", "jobs");
        assert_eq!(
            pod["containers"][0]["env"],
            json!([{"name": "DATABASE_URL_FILE", "value": "/etc/a/uri"}])
        );
        assert_eq!(
            pod["volumes"]
                .to_string()
                .matches("\"secretName\":\"chat-db-app\"")
                .count(),
            1,
            "{pod}"
        );
        // The file's variable may not shadow one the spec sets.
        let (_, findings) = render(&app(
            "{name: chat-db, env: {DATABASE_URL: uri}}",
            "medium",
            "  env: {DATABASE_URL_FILE: /x}\n",
        ));
        let e: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == crate::finding::Severity::Error)
            .collect();
        assert_eq!(e.len(), 1, "{findings:?}");
        assert_eq!(e[0].field.as_deref(), Some("spec.uses[0].env.DATABASE_URL"));
        assert!(
            e[0].message.contains("DATABASE_URL_FILE")
                && e[0].message.contains("spec.env")
                && e[0].message.contains("credentials: env"),
            "{}",
            e[0].message
        );
    }

    #[test]
    fn a_tier_binds_and_its_errors_point_into_the_app() {
        let app = |output: &str| {
            format!(
                "apiVersion: nixernetes.io/v1alpha1\nkind: MultiTierApp\nmetadata: {{name: chat, namespace: chat}}\nspec:\n  tiers:\n    - name: api\n      kind: WebApp\n      spec:\n        image: ghcr.io/acme/api:1.0.0\n        uses: [{{name: chat-db, env: {{DATABASE_URL: {output}}}}}]\n---\n{DB}"
            )
        };
        let (objects, findings) = render(&app("uri"));
        assert!(!has_errors(&findings), "{findings:?}");
        assert_eq!(
            pod_spec(&objects, "Deployment", "chat-api")["containers"][0]["env"][0]["valueFrom"]
                ["secretKeyRef"]["name"],
            "chat-db-app"
        );
        // The tier reaches the database, through the policy of the database.
        let p = crate::policy::netpol::Policies::new(&objects);
        let api = p
            .pod_of(objects.iter().find(|o| o.kind() == "Deployment").unwrap())
            .unwrap();
        let db = p.pod("chat", &[("cnpg.io/cluster", "chat-db")]);
        assert!(p.allows(&api, &db, 5432, "TCP").allowed());
        let (_, findings) = render(&app("url"));
        let e: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == crate::finding::Severity::Error)
            .collect();
        assert_eq!(e.len(), 1, "{findings:?}");
        assert_eq!(
            e[0].field.as_deref(),
            Some("spec.tiers[0].spec.uses[0].env.DATABASE_URL")
        );
        assert!(
            e[0].message.contains("did you mean `uri`"),
            "{}",
            e[0].message
        );
    }
}

#[cfg(test)]
mod tests_probes {
    use crate::engine::{run, Options};
    use crate::finding::{Finding, Severity};
    use crate::resource::Resource;
    use crate::types::Level;
    use serde_json::{json, Value};

    fn render(yaml: &str, level: Option<Level>) -> (Vec<Resource>, Vec<Finding>) {
        let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
        let mut options = Options::new(crate::modules::registry());
        options.overrides.level = level;
        let out = run(inputs, &options);
        (out.objects, out.findings)
    }

    fn container<'a>(objects: &'a [Resource], kind: &str) -> &'a Value {
        let o = objects.iter().find(|o| o.kind() == kind).unwrap();
        &o.object["spec"]["template"]["spec"]["containers"][0]
    }

    const WEB: &str = "apiVersion: nixernetes.io/v1alpha1\nkind: WebApp\nmetadata: {name: web, namespace: shop}\nspec:\n  image: registry.example.com/web:1\n  ports: [{name: http, port: 8080}]\n";

    #[test]
    fn a_web_app_without_probes_gets_tcp_probes_on_its_first_port() {
        let (objects, findings) = render(WEB, None);
        let c = container(&objects, "Deployment");
        assert_eq!(
            c["readinessProbe"],
            json!({"failureThreshold": 3, "periodSeconds": 5, "tcpSocket": {"port": "http"}})
        );
        assert_eq!(
            c["livenessProbe"],
            json!({"failureThreshold": 6, "periodSeconds": 10, "tcpSocket": {"port": "http"}})
        );
        let fixes: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.field.as_deref() == Some("spec.probes"))
            .collect();
        assert_eq!(fixes.len(), 2, "{findings:#?}");
        assert!(fixes
            .iter()
            .all(|f| f.severity == Severity::Info
                && f.message.starts_with("fixed: no probes declared")));
        assert_eq!(fixes[0].proposed.as_deref(), Some(&c["readinessProbe"]));
        // `probes: none`: none at all; declared probes are kept as written.
        let (objects, findings) = render(&format!("{WEB}  probes: none\n"), None);
        let c = container(&objects, "Deployment");
        assert!(c.get("readinessProbe").is_none() && c.get("livenessProbe").is_none());
        assert!(!findings
            .iter()
            .any(|f| f.field.as_deref() == Some("spec.probes")));
        let (objects, _) = render(
            &format!("{WEB}  probes: {{readiness: {{path: /ready}}}}\n"),
            None,
        );
        let c = container(&objects, "Deployment");
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/ready");
        assert!(c.get("livenessProbe").is_none());
    }

    #[test]
    fn a_worker_without_probes_is_an_error_at_level_medium() {
        let worker = "apiVersion: nixernetes.io/v1alpha1\nkind: Worker\nmetadata: {name: jobs, namespace: shop}\nspec:\n  image: registry.example.com/jobs:1\n";
        let (_, findings) = render(worker, Some(Level::Low));
        assert!(!findings.iter().any(|f| f.severity == Severity::Error));
        let (_, findings) = render(worker, Some(Level::Medium));
        let e = findings
            .iter()
            .find(|f| f.severity == Severity::Error)
            .expect("an error");
        assert_eq!(e.field.as_deref(), Some("spec.probes"));
        assert!(
            e.message
                .contains("probes: {liveness: {command: [cat, /tmp/healthy]}}"),
            "{}",
            e.message
        );
        let (_, findings) = render(
            &format!("{worker}  probes: {{liveness: {{command: [cat, /tmp/healthy]}}}}\n"),
            Some(Level::High),
        );
        assert!(
            !findings.iter().any(|f| f.severity == Severity::Error),
            "{findings:#?}"
        );
    }
}
