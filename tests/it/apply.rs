//! `kubectl nixernetes apply` against the API-server double: outcomes and exit codes, the order
//! of the writes (Namespaces and CRDs first, a CRD established before its objects), failures
//! that never stop the others, ApplySet parent and labels, `--prune` (and `diff --prune` finding
//! the same candidates), the interoperation with the real `kubectl apply --prune --applyset`,
//! and `--wait` for a Deployment that rolls out and one that never does.

use crate::common;
use crate::diff::code;
use api_double::Options;
use common::cluster::Cluster;
use common::kubectl_available;
use nixernetes::cluster::applyset;
use serde_json::json;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-nixernetes");

fn run(c: &Cluster, sub: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg(sub)
        .arg("--kubeconfig")
        .arg(c.kubeconfig())
        .args(args)
        .env("HOME", c.dir.path())
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run kubectl-nixernetes")
}

fn out(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n";

fn cm(name: &str, ns: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {ns}}}\ndata: {{x: \"1\"}}\n")
}

/// A namespace, a CRD and an object of its kind, and two ConfigMaps, written in an order that
/// puts the custom object first.
fn platform(extra: &str) -> String {
    format!(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w1, namespace: shop}}\nspec: {{size: 3}}\n---\n{}---\n{CRD}---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: shop}}\n---\n{}{extra}",
        cm("a", "shop"),
        cm("b", "shop")
    )
}

fn parent_id(name: &str, ns: &str) -> String {
    applyset::Parent {
        kind: applyset::ParentKind::Secret,
        name: name.into(),
        namespace: ns.into(),
    }
    .id()
}

#[test]
fn applies_in_order_and_reports_each_object() {
    let c = Cluster::new();
    let src = c.file("in.yaml", &platform(""));
    let s = src.to_str().unwrap();
    let o = run(&c, "apply", &[s, "--inventory", "app", "-n", "shop"]);
    let (stdout, stderr) = out(&o);
    assert_eq!(code(&o), 0, "{stderr}");
    assert_eq!(
        stdout,
        "v1 Namespace shop created\napiextensions.k8s.io/v1 CustomResourceDefinition widgets.example.com created\nv1 ConfigMap shop/a created\nv1 ConfigMap shop/b created\nexample.com/v1 Widget shop/w1 created\n"
    );
    assert_eq!(stderr, "5 created, 0 unchanged\n");
    // Writes: namespace and CRD, then the parent, then the rest; every write under our manager.
    let writes: Vec<String> = c
        .double
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| {
            assert_eq!(r.query_param("fieldManager").as_deref(), Some("nixernetes"));
            r.path
        })
        .collect();
    let at = |p: &str| writes.iter().position(|w| w.ends_with(p)).unwrap();
    assert!(at("/namespaces/shop") < at("/secrets/app"));
    assert!(at("customresourcedefinitions/widgets.example.com") < at("/secrets/app"));
    assert!(at("/secrets/app") < at("/widgets/w1") && at("/secrets/app") < at("/configmaps/a"));
    // Members carry the applyset label; the parent is kubectl's.
    let id = parent_id("app", "shop");
    let a = c.double.get("v1", "ConfigMap", Some("shop"), "a").unwrap();
    assert_eq!(a["metadata"]["labels"][applyset::PART_OF], id.as_str());
    let p = c.double.get("v1", "Secret", Some("shop"), "app").unwrap();
    assert_eq!(p["metadata"]["labels"][applyset::ID], id.as_str());
    assert_eq!(
        p["metadata"]["annotations"][applyset::GROUP_KINDS],
        "ConfigMap,CustomResourceDefinition.apiextensions.k8s.io,Namespace,Widget.example.com"
    );
    assert_eq!(
        p["metadata"]["annotations"][applyset::TOOLING],
        format!("nixernetes/v{}", nixernetes::VERSION).as_str()
    );
    // Again: nothing changes, no diff either.
    let o = run(&c, "apply", &[s, "--inventory", "app", "-n", "shop"]);
    assert_eq!(code(&o), 0);
    assert_eq!(out(&o).1, "5 unchanged\n");
    let o = run(
        &c,
        "diff",
        &[s, "--inventory", "app", "-n", "shop", "--prune"],
    );
    assert_eq!(code(&o), 0, "{}", out(&o).1);
    // A change is "configured".
    let changed = platform("").replace("size: 3", "size: 4");
    let src2 = c.file("in2.yaml", &changed);
    let o = run(
        &c,
        "apply",
        &[src2.to_str().unwrap(), "--inventory", "app", "-n", "shop"],
    );
    assert!(out(&o)
        .0
        .contains("example.com/v1 Widget shop/w1 configured\n"));
    assert_eq!(out(&o).1, "1 configured, 4 unchanged\n");
}

#[test]
fn failures_never_stop_the_others() {
    let c = Cluster::new();
    // Another manager owns data.x of b; c is in a namespace nobody creates.
    crate::diff::seed(
        &c,
        "kubectl",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: shop}\ndata: {x: \"2\"}\n",
    );
    let input = format!(
        "{}---\n{}---\n{}",
        cm("a", "shop"),
        cm("b", "shop"),
        cm("c", "nowhere")
    );
    let src = c.file("in.yaml", &input);
    let s = src.to_str().unwrap();
    let o = run(&c, "apply", &[s]);
    let (stdout, stderr) = out(&o);
    assert_eq!(code(&o), 2, "{stderr}");
    assert_eq!(stdout, "v1 ConfigMap shop/a created\n");
    assert!(
        stderr.contains("v1 ConfigMap shop/b: conflict: .data.x owned by \"kubectl\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("v1 ConfigMap nowhere/c: error: server-side apply: NotFound (404)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("namespace nowhere does not exist and the input does not create it"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("1 created, 0 unchanged, 1 conflict, 1 error\n"),
        "{stderr}"
    );
    // --force-conflicts takes the field over.
    let o = run(&c, "apply", &[s, "--force-conflicts", "-l", "x!=y"]);
    assert!(
        out(&o).0.contains("v1 ConfigMap shop/b configured"),
        "{}",
        out(&o).1
    );
    // A dry run writes nothing.
    let before = c.double.with_store(|s| s.resource_version());
    let o = run(&c, "apply", &["missing.yaml"]);
    assert_eq!(code(&o), 2);
    let d = c.file("d.yaml", &cm("d", "shop"));
    for mode in ["server", "client"] {
        let o = run(
            &c,
            "apply",
            &[d.to_str().unwrap(), &format!("--dry-run={mode}")],
        );
        assert_eq!(code(&o), 0, "{}", out(&o).1);
        assert_eq!(
            out(&o).0,
            format!("v1 ConfigMap shop/d created ({mode} dry run)\n")
        );
    }
    assert_eq!(c.double.with_store(|s| s.resource_version()), before);
}

#[test]
fn prune_deletes_what_left_the_set_and_diff_shows_the_same() {
    let c = Cluster::new();
    // Owned by another object, of another applyset, and a legacy member (old label only).
    let id = parent_id("app", "shop");
    let src = c.file(
        "in.yaml",
        &platform("---\napiVersion: v1\nkind: Namespace\nmetadata: {name: old}\n"),
    );
    let o = run(
        &c,
        "apply",
        &[src.to_str().unwrap(), "--inventory", "app", "-n", "shop"],
    );
    assert_eq!(code(&o), 0, "{}", out(&o).1);
    crate::diff::seed(
        &c,
        "someone",
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: owned\n  namespace: shop\n  labels: {{{}: {id}}}\n  ownerReferences: [{{apiVersion: v1, kind: ConfigMap, name: a, uid: u1}}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: theirs\n  namespace: shop\n  labels: {{{}: applyset-other-v1, nixernetes.io/inventory: app}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: legacy\n  namespace: shop\n  labels: {{nixernetes.io/inventory: app}}\n", applyset::PART_OF, applyset::PART_OF),
    );
    // b and the Namespace old leave the input.
    let now = platform("").replace(&cm("b", "shop"), "");
    let now = c.file("now.yaml", &now);
    let n = now.to_str().unwrap();
    let args = [n, "--inventory", "app", "-n", "shop", "--prune"];
    let o = run(&c, "diff", &[&args[..], &["-o", "summary"]].concat());
    assert_eq!(code(&o), 1, "{}", out(&o).1);
    let (summary, _) = out(&o);
    assert!(
        summary.contains("ConfigMap  b ") && summary.contains("ConfigMap  legacy"),
        "{summary}"
    );
    assert!(
        !summary.contains("owned") && !summary.contains("theirs") && !summary.contains("old"),
        "{summary}"
    );
    let o = run(&c, "apply", &args);
    let (stdout, stderr) = out(&o);
    assert_eq!(code(&o), 0, "{stderr}");
    assert!(
        stdout.ends_with("v1 ConfigMap shop/b pruned\nv1 ConfigMap shop/legacy pruned\n"),
        "{stdout}"
    );
    for gone in ["b", "legacy"] {
        assert!(c
            .double
            .get("v1", "ConfigMap", Some("shop"), gone)
            .is_none());
    }
    for kept in ["owned", "theirs"] {
        assert!(c
            .double
            .get("v1", "ConfigMap", Some("shop"), kept)
            .is_some());
    }
    assert!(c.double.get("v1", "Namespace", None, "old").is_some());
    // --prune-namespaces: the namespace goes too, with a note.
    let o = run(&c, "apply", &[&args[..], &["--prune-namespaces"]].concat());
    assert!(
        out(&o)
            .0
            .contains("v1 Namespace old pruned (deleting a Namespace deletes every object in it)"),
        "{}",
        out(&o).0
    );
    assert!(c.double.get("v1", "Namespace", None, "old").is_none());
    // The parent records the new set only.
    let p = c.double.get("v1", "Secret", Some("shop"), "app").unwrap();
    assert_eq!(
        p["metadata"]["annotations"][applyset::GROUP_KINDS],
        "ConfigMap,CustomResourceDefinition.apiextensions.k8s.io,Namespace,Widget.example.com"
    );
}

/// The real kubectl and we keep ApplySets the same way: the same id for the same parent, our
/// prune deletes what kubectl applied into its set once we adopt it, and kubectl refuses to
/// change a set we manage (as the KEP says a tool must), naming us.
#[test]
fn interoperates_with_kubectl_applysets() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    crate::diff::seed(
        &c,
        "kubectl",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
    );
    let k = c.file(
        "k.yaml",
        &format!("{}---\n{}", cm("a", "shop"), cm("k-only", "shop")),
    );
    let first = kubectl_applyset(&c, k.to_str().unwrap());
    assert!(first.status.success(), "{}", out(&first).1);
    let p = c.get_json(&["secret", "app", "-n", "shop"]);
    let id = parent_id("app", "shop");
    assert_eq!(
        p["metadata"]["labels"][applyset::ID],
        id.as_str(),
        "kubectl's id is ours"
    );
    assert!(p["metadata"]["annotations"][applyset::TOOLING]
        .as_str()
        .unwrap()
        .starts_with("kubectl/"));
    let member = c.get_json(&["configmap", "k-only", "-n", "shop"]);
    assert_eq!(member["metadata"]["labels"][applyset::PART_OF], id.as_str());
    // Ours: refused (kubectl's set), then adopted, pruning kubectl's member.
    let ours = c.file("ours.yaml", &cm("a", "shop"));
    let o_args = [
        ours.to_str().unwrap(),
        "--inventory",
        "app",
        "-n",
        "shop",
        "--prune",
    ];
    let o = run(&c, "apply", &o_args);
    assert_eq!(code(&o), 2);
    assert!(
        out(&o).1.contains("is managed by \"kubectl/"),
        "{}",
        out(&o).1
    );
    assert!(c
        .double
        .get("v1", "ConfigMap", Some("shop"), "k-only")
        .is_some());
    let o = run(&c, "diff", &[&o_args[..], &["-o", "summary"]].concat());
    assert!(
        out(&o).0.contains("k-only"),
        "diff --prune sees kubectl's member: {}",
        out(&o).0
    );
    let o = run(&c, "apply", &[&o_args[..], &["--adopt-applyset"]].concat());
    assert_eq!(code(&o), 0, "{}", out(&o).1);
    assert!(
        out(&o).0.contains("v1 ConfigMap shop/k-only pruned"),
        "{}",
        out(&o).0
    );
    let listed = c.ok(&[
        "get",
        "configmaps",
        "-n",
        "shop",
        "-l",
        &format!("{}={id}", applyset::PART_OF),
        "-o",
        "name",
    ]);
    assert_eq!(
        listed, "configmap/a\n",
        "kubectl sees our members by the label"
    );
    // kubectl now refuses the set: we manage it.
    let again = kubectl_applyset(&c, k.to_str().unwrap());
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("managed by tooling \"nixernetes\" instead of \"kubectl\""),
        "{err}"
    );
    // kubectl's server dry-run delete leaves the object (the double reads DeleteOptions).
    c.ok(&["delete", "configmap", "a", "-n", "shop", "--dry-run=server"]);
    assert!(c.double.get("v1", "ConfigMap", Some("shop"), "a").is_some());
}

/// `kubectl apply --server-side --prune --applyset=app -n shop -f FILE` (ApplySets are alpha
/// in kubectl 1.32: `KUBECTL_APPLYSET=true` turns the flag on).
fn kubectl_applyset(c: &Cluster, file: &str) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(c.kubeconfig())
        .arg("--cache-dir")
        .arg(c.dir.path().join("cache"))
        .args([
            "apply",
            "--server-side",
            "-n",
            "shop",
            "--prune",
            "--applyset=app",
            "-f",
            file,
        ])
        .env("HOME", c.dir.path())
        .env("KUBECTL_APPLYSET", "true")
        .stdin(Stdio::null())
        .output()
        .expect("run kubectl")
}

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: NAME, namespace: default}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: NAME}}\n  template:\n    metadata: {labels: {app: NAME}}\n    spec: {containers: [{name: c, image: nginx:1.27}]}\n";

#[test]
fn wait_for_rollouts() {
    let c = Cluster::start(Options::default());
    let src = c.file("d.yaml", &DEPLOY.replace("NAME", "web"));
    let s = src.to_str().unwrap();
    // Status arrives after a while, as from a controller.
    let double = &c.double;
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(1500));
            double
                .with_store(|st| set_status(st, "web"))
                .expect("status");
        });
        let o = run(&c, "apply", &[s, "--wait=20s"]);
        assert_eq!(code(&o), 0, "{}", out(&o).1);
        assert!(out(&o).1.ends_with("1 of 1 rolled out\n"), "{}", out(&o).1);
    });
    // One that never rolls out: exit 1 after the timeout, saying what it waited for.
    let never = c.file("n.yaml", &DEPLOY.replace("NAME", "never"));
    let start = std::time::Instant::now();
    let o = run(&c, "apply", &[never.to_str().unwrap(), "--wait=1s"]);
    assert_eq!(code(&o), 1, "{}", out(&o).1);
    assert!(start.elapsed() < Duration::from_secs(15));
    let err = out(&o).1;
    assert!(
        err.contains("apps/v1 Deployment default/never: not rolled out after 1s: waiting for deployment spec update to be observed"),
        "{err}"
    );
    assert!(err.ends_with("0 of 1 rolled out\n"), "{err}");
    // A wait with a bad duration is a usage error.
    let o = run(&c, "apply", &[s, "--wait=soon"]);
    assert_eq!(code(&o), 2);
}

fn set_status(st: &mut api_double::Store, name: &str) -> Result<(), String> {
    let body = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
        "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}});
    let rt = st
        .registry
        .by_kind("apps/v1", "Deployment")
        .expect("deployments")
        .clone();
    st.patch(
        &rt,
        Some("default"),
        name,
        api_double::PatchType::Merge,
        body.to_string().as_bytes(),
        Some("status"),
        &api_double::WriteOptions {
            field_manager: Some("kube-controller-manager".into()),
            ..Default::default()
        },
    )
    .map(|_| ())
    .map_err(|e| format!("{e:?}"))
}

/// What a request to the double was, by its path: discovery, the GET of one object, a LIST of
/// a collection, or a write.
fn request_kind(r: &api_double::RecordedRequest) -> &'static str {
    let segments: Vec<&str> = r.path.trim_matches('/').split('/').collect();
    let rest = match segments.as_slice() {
        ["api", _, rest @ ..] => rest,
        ["apis", _, _, rest @ ..] => rest,
        _ => return "discovery",
    };
    match (r.method.as_str(), rest.len()) {
        ("GET", 0) => "discovery",
        ("GET", 1 | 3) => "list",
        ("GET", _) => "get",
        ("PATCH", _) => "patch",
        _ => "other",
    }
}

/// Requests since the last clear, by [`request_kind`] (discovery left out).
fn counted(c: &Cluster) -> std::collections::BTreeMap<&'static str, usize> {
    let mut n = std::collections::BTreeMap::new();
    for r in c.double.requests() {
        let k = request_kind(&r);
        if k != "discovery" {
            *n.entry(k).or_default() += 1;
        }
    }
    c.double.clear_requests();
    n
}

/// 100 apps of five objects each (a ConfigMap, Secret, ServiceAccount, Service and Role) in
/// `demo`, as the apply benchmark renders them.
fn five_hundred(size: &str) -> String {
    let mut s = String::new();
    for i in 0..100 {
        s.push_str(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app-{i}, namespace: demo}}\ndata: {{size: \"{size}\"}}\n---\n\
             apiVersion: v1\nkind: Secret\nmetadata: {{name: app-{i}, namespace: demo}}\nstringData: {{token: t{i}}}\n---\n\
             apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: app-{i}, namespace: demo}}\n---\n\
             apiVersion: v1\nkind: Service\nmetadata: {{name: app-{i}, namespace: demo}}\nspec: {{selector: {{app: app-{i}}}, ports: [{{port: 80}}]}}\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: app-{i}, namespace: demo}}\nrules: [{{apiGroups: [\"\"], resources: [configmaps], verbs: [get]}}]\n---\n"
        ));
    }
    s
}

type Counts = std::collections::BTreeMap<&'static str, usize>;

fn counts(pairs: &[(&'static str, usize)]) -> Counts {
    pairs.iter().copied().collect()
}

/// 500 objects are read with one LIST per kind (the ConfigMaps in two pages, since 600 more
/// live there), not one GET each; a forbidden or failing LIST falls back to GETs with the
/// same outcomes; and the real kubectl pages through the double's lists.
#[test]
fn the_live_state_is_listed_not_read_object_by_object() {
    let c = Cluster::new();
    crate::diff::seed(
        &c,
        "kubectl",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n",
    );
    for i in 0..600 {
        let other = json!({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": format!("other-{i}"), "namespace": "demo"}});
        c.double.apply(&other, "someone", true).unwrap();
    }
    let src = c.file("apps.yaml", &five_hundred("1"));
    let s = src.to_str().unwrap();
    c.double.clear_requests();
    let o = run(&c, "apply", &[s]);
    assert_eq!(code(&o), 0, "{}", out(&o).1);
    assert!(
        out(&o).1.ends_with("500 created, 0 unchanged\n"),
        "{}",
        out(&o).1
    );
    let first = counted(&c);
    eprintln!("500 objects, first apply: {first:?}");
    // Five kinds, the ConfigMaps in two pages of 500; no GET of any object.
    assert_eq!(first, counts(&[("list", 6), ("patch", 500)]));
    let o = run(&c, "apply", &[s]);
    assert!(out(&o).1.ends_with("500 unchanged\n"), "{}", out(&o).1);
    let again = counted(&c);
    eprintln!("500 objects, unchanged: {again:?}");
    assert_eq!(again, counts(&[("list", 6), ("patch", 500)]));

    // The object the server returns is compared with the listed one: changes are seen.
    let changed = c.file(
        "changed.yaml",
        &five_hundred("1").replacen("size: \"1\"", "size: \"2\"", 1),
    );
    let o = run(&c, "apply", &[changed.to_str().unwrap()]);
    assert!(
        out(&o).1.ends_with("1 configured, 499 unchanged\n"),
        "{}",
        out(&o).1
    );
    assert!(out(&o).0.contains("v1 ConfigMap demo/app-0 configured\n"));
    counted(&c);

    // May get but not list Secrets; listing ServiceAccounts fails: those are read by a GET
    // each, with the same outcomes.
    c.double.fail(api_double::FailureRule::list(
        "/namespaces/demo/secrets",
        403,
        1,
    ));
    c.double.fail(api_double::FailureRule::list(
        "/namespaces/demo/serviceaccounts",
        500,
        1,
    ));
    let o = run(&c, "apply", &[s]);
    assert_eq!(code(&o), 0, "{}", out(&o).1);
    assert!(
        out(&o).1.ends_with("1 configured, 499 unchanged\n"),
        "{}",
        out(&o).1
    );
    assert_eq!(
        counted(&c),
        counts(&[("get", 200), ("list", 6), ("patch", 500)])
    );

    // Our pages are the ones kubectl asks for: `limit` and then `continue` until no token.
    if kubectl_available() {
        let names = c.ok(&[
            "get",
            "configmaps",
            "-n",
            "demo",
            "--chunk-size=250",
            "-o",
            "name",
        ]);
        assert_eq!(names.lines().count(), 700);
        let lists: Vec<_> = c
            .double
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/namespaces/demo/configmaps"))
            .collect();
        assert_eq!(lists.len(), 3, "700 in pages of 250");
        assert!(lists
            .iter()
            .all(|r| r.query_param("limit").as_deref() == Some("250")));
        assert!(lists[0].query_param("continue").is_none());
        assert!(lists[1..]
            .iter()
            .all(|r| r.query_param("continue").is_some()));
    }
}

/// The parent lives where the rendered objects default to: `-n`, else `PlatformDefaults
/// spec.namespace`, else the kubeconfig context's (`default` here).
#[test]
fn the_parent_follows_the_namespace_of_the_objects() {
    let c = Cluster::new();
    crate::diff::seed(
        &c,
        "kubectl",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n",
    );
    let defaults = |spec: &str| {
        format!("apiVersion: nixernetes.io/v1alpha1\nkind: PlatformDefaults\nmetadata: {{name: p}}\nspec: {{inventory: app{spec}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\ndata: {{x: \"1\"}}\n")
    };
    let with_ns = c.file("ns.yaml", &defaults(", namespace: shop"));
    let o = run(&c, "apply", &[with_ns.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", out(&o).1);
    assert_eq!(out(&o).0, "v1 ConfigMap shop/a created\n");
    let p = c
        .double
        .get("v1", "Secret", Some("shop"), "app")
        .expect("parent in shop");
    assert_eq!(
        p["metadata"]["labels"][applyset::ID],
        parent_id("app", "shop").as_str()
    );
    assert!(c
        .double
        .get("v1", "Secret", Some("default"), "app")
        .is_none());
    let a = c.double.get("v1", "ConfigMap", Some("shop"), "a").unwrap();
    assert_eq!(
        a["metadata"]["labels"][applyset::PART_OF],
        parent_id("app", "shop").as_str()
    );
    // diff finds the same parent: nothing to change.
    let o = run(&c, "diff", &[with_ns.to_str().unwrap(), "--prune"]);
    assert_eq!(code(&o), 0, "{}", out(&o).1);
    // -n wins over PlatformDefaults.
    let o = run(&c, "apply", &[with_ns.to_str().unwrap(), "-n", "other"]);
    assert_eq!(code(&o), 0, "{}", out(&o).1);
    assert_eq!(out(&o).0, "v1 ConfigMap other/a created\n");
    assert!(c.double.get("v1", "Secret", Some("other"), "app").is_some());
    // Neither: the kubeconfig context's namespace.
    let plain = c.file("plain.yaml", &defaults(""));
    let o = run(&c, "apply", &[plain.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", out(&o).1);
    assert_eq!(out(&o).0, "v1 ConfigMap default/a created\n");
    assert!(c
        .double
        .get("v1", "Secret", Some("default"), "app")
        .is_some());
}

/// `diff` shows the ApplySet parent as `apply` writes it: new on the first run, unchanged once
/// applied, its group-kinds widened without `--prune` and shrunk with it, and refused when
/// another tool keeps it (unless `--adopt-applyset`).
#[test]
fn diff_shows_the_parent_as_apply_writes_it() {
    let c = Cluster::new();
    let gks = applyset::GROUP_KINDS;
    let parent_of = |report: &serde_json::Value| {
        report["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == "Secret" && o["name"] == "app")
            .cloned()
            .unwrap_or_else(|| panic!("no parent in {report}"))
    };
    let diff = |args: &[&str]| {
        let o = run(
            &c,
            "diff",
            &[args, &["--inventory", "app", "-n", "shop", "-o", "json"]].concat(),
        );
        let report: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", out(&o).1));
        (code(&o), report)
    };
    // First: the namespace is created by the input, so the parent is shown as written.
    let all = c.file("all.yaml", &platform(""));
    let (status, report) = diff(&[all.to_str().unwrap()]);
    assert_eq!(status, 1);
    let p = parent_of(&report);
    assert_eq!(p["op"], "create");
    assert_eq!(
        p["merged"]["metadata"]["annotations"][gks],
        "ConfigMap,CustomResourceDefinition.apiextensions.k8s.io,Namespace,Widget.example.com"
    );
    assert_eq!(p["namespace"], "shop");
    assert!(p["notes"][0]
        .as_str()
        .unwrap()
        .contains("ApplySet parent of inventory app"));
    let o = run(
        &c,
        "apply",
        &[all.to_str().unwrap(), "--inventory", "app", "-n", "shop"],
    );
    assert_eq!(code(&o), 0, "{}", out(&o).1);
    let (status, report) = diff(&[all.to_str().unwrap(), "--prune"]);
    assert_eq!(status, 0, "{report}");
    assert_eq!(parent_of(&report)["op"], "unchanged");

    // Only the ConfigMaps now: without --prune the parent keeps what it records (as apply
    // leaves it); with --prune it records the ConfigMaps alone, as apply --prune writes it.
    let fewer = c.file(
        "fewer.yaml",
        &format!("{}---\n{}", cm("a", "shop"), cm("b", "shop")),
    );
    let (_, report) = diff(&[fewer.to_str().unwrap()]);
    assert_eq!(parent_of(&report)["op"], "unchanged");
    let (status, report) = diff(&[fewer.to_str().unwrap(), "--prune"]);
    assert_eq!(status, 1);
    let p = parent_of(&report);
    assert_eq!(p["op"], "update");
    assert_eq!(p["merged"]["metadata"]["annotations"][gks], "ConfigMap");
    assert!(p["changes"].as_array().unwrap().iter().any(
        |ch| ch["path"] == "/metadata/annotations/applyset.kubernetes.io~1contains-group-kinds"
    ));
    let o = run(
        &c,
        "apply",
        &[
            fewer.to_str().unwrap(),
            "--inventory",
            "app",
            "-n",
            "shop",
            "--prune",
        ],
    );
    assert_eq!(code(&o), 0, "{}", out(&o).1);
    let live = c.double.get("v1", "Secret", Some("shop"), "app").unwrap();
    assert_eq!(
        live["metadata"]["annotations"][gks], "ConfigMap",
        "what diff showed"
    );
    let (status, report) = diff(&[fewer.to_str().unwrap(), "--prune"]);
    assert_eq!(
        (status, parent_of(&report)["op"].as_str()),
        (0, Some("unchanged"))
    );

    // Another tool's parent: apply refuses it, so diff says so; --adopt-applyset shows the
    // takeover.
    let mut kubectls = live.clone();
    kubectls["metadata"]["annotations"][applyset::TOOLING] = json!("kubectl/v1.32.0");
    kubectls["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    c.double.apply(&kubectls, "kubectl", true).unwrap();
    let (status, report) = diff(&[fewer.to_str().unwrap()]);
    assert_eq!(status, 2);
    let p = parent_of(&report);
    assert_eq!(p["op"], "error");
    assert!(
        p["message"].as_str().unwrap().contains("--adopt-applyset"),
        "{p}"
    );
    let (status, report) = diff(&[fewer.to_str().unwrap(), "--adopt-applyset"]);
    assert_eq!(status, 1);
    let p = parent_of(&report);
    assert_eq!(p["op"], "update");
    assert_eq!(
        p["merged"]["metadata"]["annotations"][applyset::TOOLING],
        format!("nixernetes/v{}", nixernetes::VERSION).as_str()
    );
}

/// Validates an `apply -o json` report against src/apply/report.schema.json, which refers to
/// the diff report's schema for the shapes they share.
fn assert_apply_report_schema(report: &serde_json::Value) {
    let read = |p: &str| -> serde_json::Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p);
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("schema json")
    };
    let diff = read("src/diff/report.schema.json");
    let registry = jsonschema::Registry::new()
        .add(diff["$id"].as_str().unwrap(), diff.clone())
        .expect("diff schema")
        .prepare()
        .expect("registry");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .with_registry(&registry)
        .build(&read("src/apply/report.schema.json"))
        .expect("compile the apply report schema");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report schema errors:\n{}\n{report}",
        errors.join("\n")
    );
}

/// `apply -o json` (golden: tests/apply/report.json; `UPDATE_GOLDEN=1` rewrites it) reports a
/// created, a conflicting, a failing and a pruned object with the process's exit code; `-o yaml`
/// is the same report; with `--wait` it carries the rollout.
#[test]
fn apply_reports_as_json_and_yaml() {
    let c = Cluster::new();
    crate::diff::seed(
        &c,
        "kubectl",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: shop}\ndata: {x: \"2\"}\n",
    );
    let set = ["--inventory", "app", "-n", "shop"];
    let old = c.file("old.yaml", &cm("old", "shop"));
    let o = run(&c, "apply", &[&[old.to_str().unwrap()][..], &set].concat());
    assert_eq!(code(&o), 0, "{}", out(&o).1);
    let now = c.file(
        "now.yaml",
        &format!(
            "{}---\n{}---\n{}",
            cm("a", "shop"),
            cm("b", "shop"),
            cm("c", "nowhere")
        ),
    );
    let args = [
        &[now.to_str().unwrap()][..],
        &set,
        &["--prune", "--dry-run=server"],
    ]
    .concat();
    let o = run(&c, "apply", &[&args[..], &["-o", "json"]].concat());
    assert_eq!(code(&o), 2, "{}", out(&o).1);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_apply_report_schema(&report);
    assert_eq!(report["exitCode"], 2);
    let ops: Vec<String> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                o["op"].as_str().unwrap(),
                o["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(ops, ["error c", "create a", "conflict b", "delete old"]);
    assert!(!out(&o).0.contains(" created"), "no lines with -o json");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apply/report.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &o.stdout).unwrap();
    } else {
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 creates it)", path.display()));
        assert_eq!(out(&o).0, want, "differs from {}", path.display());
    }
    let o = run(&c, "apply", &[&args[..], &["-o", "yaml"]].concat());
    assert_eq!(code(&o), 2);
    let yaml = nixernetes::yaml::parse_one(&out(&o).0).expect("yaml");
    assert_eq!(yaml, report);

    // Applied for real with --wait: ConfigMaps have nothing to wait for.
    let fine = c.file("fine.yaml", &cm("a", "shop"));
    let o = run(
        &c,
        "apply",
        &[
            &[fine.to_str().unwrap()][..],
            &set,
            &["--wait=5s", "-o", "json"],
        ]
        .concat(),
    );
    assert_eq!(code(&o), 0, "{}", out(&o).1);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_apply_report_schema(&report);
    assert_eq!(report["dryRun"], "none");
    assert_eq!(report["exitCode"], 0);
    assert_eq!(
        report["rollout"],
        json!({"total": 1, "ready": 1, "notReady": []})
    );
    assert_eq!(report["summary"]["create"], 1);
}
