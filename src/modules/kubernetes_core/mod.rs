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
