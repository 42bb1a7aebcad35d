//! The NetworkPolicies the examples render let their pods do what they exist for, and no more:
//! flows evaluated with `nixernetes::policy::netpol` on the rendered objects.

use crate::common;
use nixernetes::policy::netpol::{Endpoint, Policies};
use nixernetes::resource::Resource;

/// The objects `render` prints for `path`.
pub fn rendered(path: &str) -> Vec<Resource> {
    let out = common::run_binary(&["render", path]);
    assert_eq!(out.status, 0, "render {path}: {}", out.stderr);
    nixernetes::source::parse_text(&out.stdout, path).expect("render output parses")
}

/// The pods of the workload `kind`/`name` in `objects`.
pub fn pods(p: &Policies<'_>, objects: &[Resource], kind: &str, name: &str) -> Endpoint {
    let object = objects
        .iter()
        .find(|o| o.kind() == kind && o.name() == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} rendered"));
    p.pod_of(object).expect("a workload")
}

/// The flows of the platform example's `uses` and `dependsOn` graph, and no other: web → api,
/// api → chat-db, sessions and the Kafka brokers, notifier → the Kafka brokers; plus what the
/// operators, the scrapers, DNS and the ingress controller need.
#[test]
fn the_platform_example_allows_exactly_its_graph() {
    let objects = rendered("examples/platform");
    let p = Policies::new(&objects);
    let web = pods(&p, &objects, "Deployment", "web");
    let api = pods(&p, &objects, "Deployment", "api");
    let notifier = pods(&p, &objects, "Deployment", "notifier");
    // The operators' pods: CloudNativePG's instances, the redis-operator's replication pods,
    // Strimzi's brokers; and the operators, scrapers, DNS and the ingress controller.
    let db = p.pod("chat", &[("cnpg.io/cluster", "chat-db")]);
    let sessions = p.pod(
        "chat",
        &[
            ("app", "sessions"),
            ("redis_setup_type", "replication"),
            ("role", "replication"),
        ],
    );
    let brokers = p.pod(
        "chat",
        &[
            ("strimzi.io/cluster", "events"),
            ("strimzi.io/kind", "Kafka"),
            ("strimzi.io/name", "events-kafka"),
        ],
    );
    let cnpg = p.pod(
        "cnpg-system",
        &[("app.kubernetes.io/name", "cloudnative-pg")],
    );
    let prometheus = p.pod("monitoring", &[("app.kubernetes.io/name", "prometheus")]);
    let dns = p.pod("kube-system", &[("k8s-app", "kube-dns")]);
    let controller = p.pod(
        "ingress-nginx",
        &[("app.kubernetes.io/name", "ingress-nginx")],
    );

    for (from, to, port, what) in [
        (&controller, &web, 8080, "the ingress controller → web"),
        (&web, &api, 3000, "web → api"),
        (&api, &db, 5432, "api → chat-db"),
        (&api, &sessions, 6379, "api → sessions"),
        (&api, &brokers, 9092, "api → Kafka"),
        (&notifier, &brokers, 9092, "notifier → Kafka"),
        (&db, &db, 5432, "chat-db replication"),
        (&sessions, &sessions, 6379, "sessions replication"),
        (&brokers, &brokers, 9091, "Kafka replication"),
        (&cnpg, &db, 8000, "the CNPG operator → chat-db status"),
        (
            &prometheus,
            &sessions,
            9121,
            "monitoring → the Redis exporter",
        ),
        (
            &prometheus,
            &brokers,
            9404,
            "monitoring → the Kafka exporter",
        ),
        (&web, &dns, 53, "web → DNS"),
    ] {
        let verdict = p.allows(from, to, port, "TCP");
        assert!(verdict.allowed(), "{what} on {port}: {verdict:?}");
    }
    assert!(
        p.allows(&notifier, &dns, 53, "UDP").allowed(),
        "notifier → DNS (UDP)"
    );
    for (from, to, port, what) in [
        (&web, &db, 5432, "web → chat-db"),
        (&web, &sessions, 6379, "web → sessions"),
        (&web, &brokers, 9092, "web → Kafka"),
        (&notifier, &db, 5432, "notifier → chat-db"),
        (&notifier, &sessions, 6379, "notifier → sessions"),
        (&notifier, &api, 3000, "notifier → api"),
        (&api, &web, 8080, "api → web"),
        (&api, &brokers, 9091, "api → Kafka's replication port"),
        (&controller, &api, 3000, "the ingress controller → api"),
        (
            &prometheus,
            &db,
            5432,
            "monitoring → chat-db's clients' port",
        ),
        (&web, &api, 3001, "web → api on another port"),
        (&api, &dns, 8053, "api → kube-system on another port"),
    ] {
        assert!(
            !p.allows(from, to, port, "TCP").allowed(),
            "{what} on {port} is allowed"
        );
    }
    let internet = Endpoint::External("93.184.216.34".parse().unwrap());
    assert!(
        !p.allows(&web, &internet, 443, "TCP").allowed(),
        "web → the internet"
    );
    // chat-db reaches object storage for its backups over HTTPS.
    assert!(
        p.allows(&db, &internet, 443, "TCP").allowed(),
        "chat-db → object storage"
    );
}

/// The platform example renders with no error and no warning at compliance level high.
#[test]
fn the_platform_example_is_clean_at_level_high() {
    let out = common::run_binary(&["render", "--level", "high", "examples/platform"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let noisy: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error") || l.starts_with("warning"))
        .collect();
    assert!(noisy.is_empty(), "{}", noisy.join("\n"));
}

/// A Tenant's namespaces reach each other and are reached from the namespaces it names; other
/// tenants, and the internet outside its CIDRs, are not.
#[test]
fn a_tenant_is_isolated_from_other_tenants_but_not_from_itself() {
    let objects = rendered("examples/multi-tenancy/tenant.yaml");
    let p = Policies::new(&objects);
    let app = p.pod("payments", &[("app.kubernetes.io/name", "api")]);
    let staging = p.pod("payments-staging", &[("app.kubernetes.io/name", "api")]);
    let other = p.pod("team-search", &[("app.kubernetes.io/name", "api")]);
    let controller = p.pod(
        "ingress-nginx",
        &[("app.kubernetes.io/name", "ingress-nginx")],
    );
    let prometheus = p.pod("monitoring", &[("app.kubernetes.io/name", "prometheus")]);
    let dns = p.pod("kube-system", &[("k8s-app", "kube-dns")]);
    for (from, to, what) in [
        (&app, &staging, "payments → payments-staging"),
        (&staging, &app, "payments-staging → payments"),
        (&controller, &app, "the ingress controller → payments"),
        (&prometheus, &staging, "monitoring → payments-staging"),
    ] {
        let verdict = p.allows(from, to, 8080, "TCP");
        assert!(verdict.allowed(), "{what}: {verdict:?}");
    }
    assert!(p.allows(&app, &dns, 53, "UDP").allowed(), "payments → DNS");
    let inside: std::net::IpAddr = "10.20.1.2".parse().unwrap();
    let outside: std::net::IpAddr = "10.21.1.2".parse().unwrap();
    assert!(
        p.allows(&app, &Endpoint::External(inside), 5432, "TCP")
            .allowed(),
        "→ 10.20.0.0/16"
    );
    for (from, to, what) in [
        (&other, &app, "another tenant → payments"),
        (&app, &other, "payments → another tenant"),
    ] {
        assert!(
            !p.allows(from, to, 8080, "TCP").allowed(),
            "{what} is allowed"
        );
    }
    assert!(
        !p.allows(&app, &Endpoint::External(outside), 5432, "TCP")
            .allowed(),
        "payments → an address outside its CIDRs"
    );
}
