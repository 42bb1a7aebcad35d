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

#[test]
fn the_platform_example_allows_its_tiers_and_nothing_else() {
    let objects = rendered("examples/platform");
    let p = Policies::new(&objects);
    let web = pods(&p, &objects, "Deployment", "web");
    let api = pods(&p, &objects, "Deployment", "api");
    let cache = pods(&p, &objects, "StatefulSet", "cache");
    // CloudNativePG's instance pods, and its operator.
    let db = p.pod("chat", &[("cnpg.io/cluster", "chat-db")]);
    let operator = p.pod(
        "cnpg-system",
        &[("app.kubernetes.io/name", "cloudnative-pg")],
    );
    let dns = p.pod("kube-system", &[("k8s-app", "kube-dns")]);
    let controller = p.pod(
        "ingress-nginx",
        &[("app.kubernetes.io/name", "ingress-nginx")],
    );

    for (from, to, port, what) in [
        (&controller, &web, 8080, "the ingress controller → web"),
        (&web, &api, 3000, "web → api"),
        (&api, &cache, 6379, "api → cache"),
        (&api, &db, 5432, "api → chat-db"),
        (&db, &db, 5432, "chat-db replication"),
        (&operator, &db, 8000, "the CNPG operator → chat-db status"),
        (&web, &dns, 53, "web → DNS"),
    ] {
        let verdict = p.allows(from, to, port, "TCP");
        assert!(verdict.allowed(), "{what} on {port}: {verdict:?}");
    }
    assert!(
        p.allows(&cache, &dns, 53, "UDP").allowed(),
        "cache → DNS (UDP)"
    );
    for (from, to, port, what) in [
        (&web, &cache, 6379, "web → cache"),
        (&web, &db, 5432, "web → chat-db"),
        (&api, &web, 8080, "api → web"),
        (&cache, &api, 3000, "cache → api"),
        (&controller, &api, 3000, "the ingress controller → api"),
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
