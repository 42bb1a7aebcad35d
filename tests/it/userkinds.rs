//! User kinds (`KindDefinition`) through the real binary: the acceptance tests of the
//! extensibility design that concern them (1–6 and 12). Fixtures: `examples/extending/kinds/`,
//! `examples/extending/apps/`, `tests/userkinds/`.

use super::common::{golden, run_binary, run_binary_with};

const KINDS: &str = "examples/extending/kinds/";
const CART: &str = "examples/extending/apps/checkout.yaml";
const TEST_KINDS: &str = "tests/userkinds/kinds.yaml";

fn objects(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .split("\n---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_saphyr::from_str::<serde_json::Value>(d).expect("YAML document"))
        .collect()
}

fn of_kind<'a>(objs: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    objs.iter().filter(|o| o["kind"] == kind).collect()
}

/// Test 1: the §2.5 ShopService composes WebApp and PostgreSQL, with the schema's defaults.
#[test]
fn shop_service_composes_the_built_in_kinds() {
    let out = run_binary(&["render", "--kinds", KINDS, CART]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let mut failures = Vec::new();
    golden(
        std::path::Path::new("tests/userkinds/checkout.expected.yaml"),
        &out.stdout,
        &mut failures,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let objs = objects(&out.stdout);
    let hpa = of_kind(&objs, "HorizontalPodAutoscaler");
    assert_eq!(hpa[0]["spec"]["minReplicas"], 4);
    assert_eq!(hpa[0]["spec"]["maxReplicas"], 10);
    let route = of_kind(&objs, "HTTPRoute");
    assert_eq!(
        route[0]["spec"]["hostnames"][0],
        "checkout.shop.example.com"
    );
    // The NetworkPolicy pass covers the composed kinds: the app reaches its database.
    let policies: Vec<&str> = of_kind(&objs, "NetworkPolicy")
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    for p in ["default-deny", "allow-dns", "checkout-db-cnpg"] {
        assert!(policies.contains(&p), "{policies:?}");
    }
    let cluster = of_kind(&objs, "Cluster");
    assert_eq!(cluster[0]["spec"]["instances"], 2, "the database default");
    assert_eq!(cluster[0]["spec"]["storage"]["size"], "10Gi");
    // Everything the instance's kinds emit is the instance's (the namespace-wide policies are
    // the NetworkPolicy pass's).
    for o in &objs {
        // Every label value is one the API server takes (63 characters of [A-Za-z0-9._-],
        // alphanumeric at both ends): `user:<definition>` was not.
        for (k, v) in o["metadata"]["labels"].as_object().into_iter().flatten() {
            let v = v.as_str().unwrap_or_default();
            let b = v.as_bytes();
            assert!(
                v.is_empty()
                    || (b.len() <= 63
                        && b[0].is_ascii_alphanumeric()
                        && b[b.len() - 1].is_ascii_alphanumeric()
                        && b.iter()
                            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))),
                "label {k}: {v:?} is not a valid label value"
            );
        }
        let source = &o["metadata"]["annotations"]["nixernetes.io/source"];
        if source == "policy-generation/shop" {
            continue;
        }
        assert_eq!(source, "ShopService/shop/checkout", "{o}");
        if o["metadata"]["labels"]["nixernetes.io/framework"] != "policy-generation" {
            assert_eq!(
                o["metadata"]["labels"]["nixernetes.io/module"], "acme-shop",
                "{o}"
            );
            assert_eq!(
                o["metadata"]["labels"]["nixernetes.io/framework"],
                "user-kinds"
            );
        }
    }
    assert!(
        !out.stdout.contains("KindDefinition"),
        "a definition was emitted"
    );
    assert!(
        !out.stdout.contains("kind: ShopService"),
        "the instance was emitted"
    );
    let again = run_binary(&["render", "--kinds", KINDS, CART]);
    assert_eq!(again.stdout, out.stdout, "two runs differ");
}

/// Test 2: every instance error in one run, at its line, with the rules' messages.
#[test]
fn every_instance_error_is_reported_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: platform.acme.io/v1\nkind: ShopService\nmetadata: {name: cart, namespace: shop}\nspec:\n  colour: blue\n  host: 5\n  replicas: 11\n  database:\n    size: 1Ti\n",
    )
    .unwrap();
    let bad = bad.to_str().unwrap();
    let out = run_binary(&["render", "--kinds", KINDS, bad]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "partial output: {}", out.stdout);
    for want in [
        format!("error: {bad}:5: ShopService/shop/cart: spec.colour: unknown field `colour`"),
        format!("error: {bad}:6: ShopService/shop/cart: spec.host: expected a string"),
        format!("error: {bad}:4: ShopService/shop/cart: spec.image: required field is missing"),
        format!("error: {bad}:7: ShopService/shop/cart: spec.replicas: a ShopService runs at most 10 replicas"),
        format!("error: {bad}:9: ShopService/shop/cart: spec.database.size: database.size must be a quantity of at most 500Gi"),
    ] {
        assert!(out.stderr.contains(&want), "missing {want:?} in\n{}", out.stderr);
    }
    // The image rule's message.
    let out = run_binary_with(
        &["render", "--kinds", KINDS, "-"],
        &[],
        Some("apiVersion: platform.acme.io/v1\nkind: ShopService\nmetadata: {name: cart, namespace: shop}\nspec:\n  image: docker.io/nginx\n"),
    );
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("error: -:5: ShopService/shop/cart: spec.image: image must come from ghcr.io/acme and carry a tag or digest"),
        "{}",
        out.stderr
    );
    // KRM: the same as results with field paths.
    let krm = run_binary_with(
        &["fn"],
        &[],
        Some(&resource_list(&[
            &std::fs::read_to_string("examples/extending/kinds/shop.yaml").unwrap(),
            "apiVersion: platform.acme.io/v1\nkind: ShopService\nmetadata: {name: cart, namespace: shop}\nspec: {image: ghcr.io/acme/x:1, replicas: 11}\n",
        ])),
    );
    assert_eq!(krm.status, 1, "{}", krm.stdout);
    let rl: serde_json::Value = serde_saphyr::from_str(&krm.stdout).unwrap();
    let results = rl["results"].as_array().cloned().unwrap_or_default();
    assert!(
        results.iter().any(|r| r["field"]["path"] == "spec.replicas"
            && r["message"] == "a ShopService runs at most 10 replicas"),
        "{}",
        krm.stdout
    );
}

/// A ResourceList of the documents in `docs` (each a YAML stream).
fn resource_list(docs: &[&str]) -> String {
    let mut items = Vec::new();
    for d in docs {
        for doc in d.split("\n---\n") {
            let v: serde_json::Value = serde_saphyr::from_str(doc).expect("YAML");
            if !v.is_null() {
                items.push(v);
            }
        }
    }
    serde_json::to_string(&serde_json::json!({
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": items,
    }))
    .unwrap()
}

/// Test 3: definition errors at load time, at the definition's lines, before any instance.
#[test]
fn definition_errors_are_found_when_it_loads() {
    let out = run_binary(&[
        "render",
        "--kinds",
        "tests/userkinds/broken.yaml",
        "tests/userkinds/broken-instance.yaml",
    ]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    let at = "tests/userkinds/broken.yaml";
    for want in [
        format!("error: {at}:27: KindDefinition/brokens.platform.acme.io: spec.resources[0].template.metadata.name: CEL does not compile: col 22: Syntax error"),
        format!("error: {at}:29: KindDefinition/brokens.platform.acme.io: spec.resources[0].template.data.count: `noSuchFn(self.spec.replicas)`: unknown function noSuchFn()"),
        format!("error: {at}:30: KindDefinition/brokens.platform.acme.io: spec.resources[0].template.data.other: `string(self.spec.replica)`: no field \"replica\" in the Broken schema (did you mean \"replicas\"?)"),
        format!("error: {at}:35: KindDefinition/brokens.platform.acme.io: spec.resources[1].template.metadata.name: `a.status.name`: a.status is what a cluster reports"),
        format!("error: {at}:39: KindDefinition/brokens.platform.acme.io: spec.resources[2].template.kind: kinds emit each other in a cycle (Broken → Other → Broken)"),
    ] {
        assert!(out.stderr.contains(&want), "missing {want:?} in\n{}", out.stderr);
    }
    // Nothing about the instance: it is never expanded.
    assert!(!out.stderr.contains("Broken/one"), "{}", out.stderr);
    // An includeWhen that is not a boolean, found by rendering a synthesized instance.
    let out = run_binary(&[
        "render",
        "--kinds",
        "tests/userkinds/not-boolean.yaml",
        "tests/userkinds/broken-instance.yaml",
    ]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("tests/userkinds/not-boolean.yaml:18: KindDefinition/counts.platform.acme.io: spec.resources[0].includeWhen[0]: (id a) a minimal instance (spec null) does not render: `${self.spec.replicas}` must be true or false, found 1"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("Broken/one"), "{}", out.stderr);
}

/// Test 4: includeWhen, omit(), forEach, and the child limit.
#[test]
fn conditional_output_and_fan_out() {
    let out = run_binary(&[
        "render",
        "--kinds",
        KINDS,
        "--kinds",
        TEST_KINDS,
        "tests/userkinds/instances.yaml",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let objs = objects(&out.stdout);
    let lean: Vec<_> = objs
        .iter()
        .filter(|o| o["metadata"]["annotations"]["nixernetes.io/source"] == "ShopService/shop/lean")
        .collect();
    assert!(!lean.is_empty());
    assert!(
        lean.iter().all(|o| o["kind"] != "Cluster"),
        "no database when it is disabled"
    );
    let deploy = lean.iter().find(|o| o["kind"] == "Deployment").unwrap();
    assert!(
        !deploy.to_string().contains("DATABASE_URL"),
        "no secretEnv: {deploy}"
    );
    assert!(
        lean.iter().all(|o| o["kind"] != "HorizontalPodAutoscaler"),
        "autoscaling omitted"
    );
    assert!(
        lean.iter().all(|o| o["kind"] != "HTTPRoute"),
        "route omitted without a host"
    );
    let maps: Vec<_> = of_kind(&objs, "ConfigMap")
        .into_iter()
        .filter(|o| o["metadata"]["annotations"]["nixernetes.io/source"] == "FanOut/shop/three")
        .collect();
    let names: Vec<&str> = maps
        .iter()
        .map(|m| m["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    for n in ["three-a", "three-b", "three-c", "three-all"] {
        assert!(names.contains(&n), "{names:?}");
    }
    let all = maps
        .iter()
        .find(|m| m["metadata"]["name"] == "three-all")
        .unwrap();
    assert_eq!(
        all["data"]["count"], "3",
        "a sibling's forEach output is a list"
    );
    // Over the limit.
    let many: Vec<String> = (0..1001).map(|i| format!("n{i}")).collect();
    let instance = format!(
        "apiVersion: platform.acme.io/v1\nkind: FanOut\nmetadata: {{name: big, namespace: shop}}\nspec:\n  names: [{}]\n",
        many.join(", ")
    );
    let out = run_binary_with(
        &["render", "--kinds", TEST_KINDS, "-"],
        &[],
        Some(&instance),
    );
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr
            .contains("an instance may have at most 1000 children"),
        "{}",
        out.stderr
    );
}

/// Test 5: an error in a child names the instance and the template node that made it.
#[test]
fn errors_in_children_point_back_at_the_template() {
    let out = run_binary(&[
        "render",
        "--kinds",
        TEST_KINDS,
        "tests/userkinds/site-bad.yaml",
    ]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "error: tests/userkinds/site-bad.yaml:1: Site/web/broken: WebApp/web/broken spec.ports[0].port: port 0 is out of range: expected 1-65535 (produced by KindDefinition/sites.platform.acme.io spec.resources[0].template.spec.ports[0].port (id web) at tests/userkinds/kinds.yaml:71)\n"
    );
    // The JSON report gives the template node as a related place (SARIF: tests/it/policy.rs).
    let json = run_binary(&[
        "check",
        "-o",
        "json",
        "--kinds",
        TEST_KINDS,
        "tests/userkinds/site-bad.yaml",
    ]);
    assert_eq!(json.status, 2, "{}", json.stderr);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON report");
    let finding = &report["findings"][0];
    assert_eq!(finding["file"], "tests/userkinds/site-bad.yaml");
    assert_eq!(finding["line"], 1);
    assert_eq!(
        finding["related"],
        serde_json::json!([{
            "file": "tests/userkinds/kinds.yaml",
            "line": 71,
            "message": "produced by KindDefinition/sites.platform.acme.io spec.resources[0].template.spec.ports[0].port (id web)",
        }])
    );
    // Text mode is unchanged: the errors on stderr, nothing on stdout.
    let text = run_binary(&[
        "check",
        "--kinds",
        TEST_KINDS,
        "tests/userkinds/site-bad.yaml",
    ]);
    assert_eq!(text.status, 2);
    assert!(
        text.stdout.is_empty()
            && text
                .stderr
                .contains("(produced by KindDefinition/sites.platform.acme.io")
    );
}

/// Test 6: the built-in checks judge what a user kind emits, and exemptions on the instance
/// are inherited.
#[test]
fn built_in_policy_applies_to_what_user_kinds_emit() {
    let out = run_binary(&[
        "render",
        "-v",
        "--kinds",
        TEST_KINDS,
        "tests/userkinds/privileged.yaml",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning[privileged-container]: tests/userkinds/privileged.yaml:1: Deployment/ops/raw: spec.template.spec.containers[0].securityContext.privileged: container \"main\" is privileged"),
        "{}",
        out.stderr
    );
    let enforced = run_binary(&[
        "render",
        "--enforce",
        "--kinds",
        TEST_KINDS,
        "tests/userkinds/privileged.yaml",
    ]);
    assert_eq!(enforced.status, 1, "{}", enforced.stderr);
    assert!(
        enforced.stderr.contains("error[privileged-container]"),
        "{}",
        enforced.stderr
    );
    // The generated NetworkPolicies cover the emitted Deployment; labels are injected.
    let objs = objects(&out.stdout);
    let deploy = of_kind(&objs, "Deployment")[0];
    assert_eq!(
        deploy["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "nixernetes"
    );
    assert_eq!(
        deploy["metadata"]["annotations"]["ignore-check.nixernetes.io/image-tag"],
        "pinned by the platform team"
    );
}

/// Test 12: reserved names, duplicates, and the same output from every source of definitions.
#[test]
fn safety_and_precedence() {
    let out = run_binary(&["render", "--kinds", "tests/userkinds/refused.yaml", CART]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stderr.contains("tests/userkinds/refused.yaml:6: KindDefinition/webapps.nixernetes.io: spec.group: group nixernetes.io is reserved for the built-in kinds"), "{}", out.stderr);
    assert!(out.stderr.contains("tests/userkinds/refused.yaml:17: KindDefinition/webapps.acme.io: spec.kind: WebApp is a built-in kind"), "{}", out.stderr);
    let twice = run_binary(&[
        "render",
        "--kinds",
        KINDS,
        "--kinds",
        "tests/userkinds/duplicate.yaml",
        CART,
    ]);
    assert_eq!(twice.status, 1, "{}", twice.stderr);
    assert!(
        twice.stderr.contains("tests/userkinds/duplicate.yaml:") && twice.stderr.contains("kind ShopService of group platform.acme.io is already defined at examples/extending/kinds/shop.yaml:3"),
        "{}",
        twice.stderr
    );
    let cli = run_binary(&["render", "--kinds", KINDS, CART]);
    assert_eq!(cli.status, 0, "{}", cli.stderr);
    // Definitions in the input.
    let input = run_binary(&["render", "examples/extending/kinds/shop.yaml", CART]);
    assert_eq!(input.stdout, cli.stdout);
    // From the environment, and under Argo CD.
    let env = run_binary_with(&["render", CART], &[("NIXERNETES_KINDS", KINDS)], None);
    assert_eq!(env.stdout, cli.stdout, "{}", env.stderr);
    let argo = run_binary_with(
        &["render", "--argocd", CART],
        &[("ARGOCD_ENV_NIXERNETES_KINDS", KINDS)],
        None,
    );
    assert_eq!(argo.status, 0, "{}", argo.stderr);
    assert_eq!(argo.stdout, cli.stdout, "{}", argo.stderr);
    // As KRM items.
    let krm = run_binary_with(
        &["fn"],
        &[],
        Some(&resource_list(&[
            &std::fs::read_to_string("examples/extending/kinds/shop.yaml").unwrap(),
            &std::fs::read_to_string(CART).unwrap(),
        ])),
    );
    assert_eq!(krm.status, 0, "{}", krm.stdout);
    assert!(!krm.stdout.contains("KindDefinition"), "{}", krm.stdout);
    let rl: serde_json::Value = serde_saphyr::from_str(&krm.stdout).unwrap();
    let kinds: Vec<&str> = rl["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    let cli_kinds: Vec<String> = objects(&cli.stdout)
        .iter()
        .map(|o| o["kind"].as_str().unwrap().to_string())
        .collect();
    // The same objects (the CLI writes them in apply order, a function keeps pipeline order).
    let (mut kinds, mut cli_kinds) = (kinds, cli_kinds);
    kinds.sort();
    cli_kinds.sort();
    assert_eq!(kinds, cli_kinds);
}

/// No definition: nothing changes, and a stray instance stays a plain object.
#[test]
fn an_instance_without_its_definition_passes_through() {
    let out = run_binary(&["render", CART]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.contains("kind: ShopService"), "{}", out.stdout);
}

/// Test of issue 14 item 4: `kinds` lists the user kinds of the definitions given (from
/// `--kinds`, `NIXERNETES_KINDS` or `-f` input) after the built-in kinds and the two
/// extension kinds; without the definitions the kind is unknown.
#[test]
fn kinds_lists_user_kinds_from_every_source() {
    let row = "ShopService          user-kinds               generates    A storefront service with its own PostgreSQL database";
    for (args, env) in [
        (vec!["kinds", "--kinds", KINDS], vec![]),
        (vec!["kinds", "-f", "examples/extending/"], vec![]),
        (vec!["kinds"], vec![("NIXERNETES_KINDS", KINDS)]),
    ] {
        let out = run_binary_with(&args, &env, None);
        assert_eq!(out.status, 0, "{args:?}: {}", out.stderr);
        assert_eq!(out.stdout.lines().last(), Some(row), "{args:?}");
        let rule = out
            .stdout
            .lines()
            .find(|l| l.starts_with("ValidationRule "));
        assert!(rule.is_some_and(|l| l.contains(" -   ") && l.contains("configures")));
    }
    let out = run_binary(&["kinds", "--kinds", KINDS, "-o", "json"]);
    let list: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let last = list.as_array().and_then(|l| l.last()).expect("a kind");
    assert_eq!(
        last,
        &serde_json::json!({
            "kind": "ShopService",
            "apiVersion": "platform.acme.io/v1",
            "seedModule": "user-kinds",
            "category": "acme-shop",
            "role": "generates",
            "summary": "A storefront service with its own PostgreSQL database",
            "definition": "KindDefinition/shopservices.platform.acme.io",
            "source": "examples/extending/kinds/shop.yaml:3",
        })
    );
    let without = run_binary(&["explain", "shopservice"]);
    assert_eq!(without.status, 2, "{}", without.stderr);
    // Every kind, user kinds last, when none is named.
    let all = run_binary(&["schema", "--kinds", KINDS]);
    let all: serde_json::Value = serde_json::from_str(&all.stdout).expect("JSON");
    let titles: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["title"].as_str())
        .collect();
    assert_eq!(titles.last(), Some(&"ShopService"));
    assert!(!titles.contains(&"KindDefinition"), "{titles:?}");
    // A --kinds path of other objects is refused as render refuses it.
    let wrong = run_binary(&["explain", "webapp", "--kinds", "examples/extending/apps/"]);
    assert_eq!(wrong.status, 1, "{}", wrong.stderr);
    assert!(wrong.stderr.contains("ShopService is not a KindDefinition"));
    assert!(wrong.stdout.is_empty());
}

fn draft_2020_12(schema: &serde_json::Value) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(schema)
        .expect("a valid JSON Schema")
}

fn documents(path: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).expect(path);
    nixernetes::yaml::parse_stream(&text)
        .expect(path)
        .into_iter()
        .map(|d| d.value)
        .collect()
}

/// The published JSON Schema of a user kind takes what `render` takes and refuses the
/// mistakes render refuses structurally (unknown field, wrong type, out of range, no image).
#[test]
fn a_user_kinds_json_schema_accepts_instances_and_refuses_mistakes() {
    let out = run_binary(&["schema", "shopservice", "--kinds", KINDS]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let schema: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let v = draft_2020_12(&schema);
    for doc in documents(CART) {
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
    let good = documents(CART).remove(0);
    for (pointer, value) in [
        ("/spec/replica", serde_json::json!(4)),
        ("/spec/image", serde_json::json!(3)),
        ("/spec/database", serde_json::json!({"instances": 9})),
        ("/spec/host", serde_json::json!(null)),
        ("/apiVersion", serde_json::json!("platform.acme.io/v2")),
    ] {
        let mut bad = good.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        bad.pointer_mut(if parent.is_empty() { "" } else { parent })
            .and_then(|p| p.as_object_mut())
            .unwrap()
            .insert(key.into(), value);
        assert!(!v.is_valid(&bad), "{pointer} accepted");
    }
    let mut no_image = good;
    no_image["spec"].as_object_mut().unwrap().remove("image");
    assert!(!v.is_valid(&no_image));
    // Defaults and descriptions are the definition's.
    let spec = &schema["properties"]["spec"]["properties"];
    assert_eq!(spec["replicas"]["default"], 2);
    assert_eq!(spec["database"]["properties"]["size"]["default"], "10Gi");
    assert!(spec["image"]["description"]
        .as_str()
        .is_some_and(|d| d.contains("ghcr.io/acme")));
}

/// `schema --crd` of a user kind is a CRD the schema check (src/schema/objects.rs) takes, that
/// holds instances to the definition's schema, and that kubectl (client-side dry run, then a
/// server-side dry run and apply against the API-server double) accepts and then serves.
#[test]
fn a_user_kinds_crd_is_accepted_by_the_schema_check_and_kubectl() {
    let out = run_binary(&[
        "schema",
        "--crd",
        "shopservice",
        "--kinds",
        KINDS,
        "-o",
        "yaml",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let crd = &documents_of(&out.stdout)[0];
    assert_eq!(crd["metadata"]["name"], "shopservices.platform.acme.io");
    let open_api = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    assert_eq!(
        open_api["x-kubernetes-validations"][0]["rule"],
        "self.spec.replicas <= 10"
    );
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("crd.yaml");
    std::fs::write(&file, &out.stdout).unwrap();
    let file = file.to_str().unwrap();
    let checked = run_binary(&["check", file, CART]);
    assert_eq!(checked.status, 0, "{}{}", checked.stdout, checked.stderr);
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: platform.acme.io/v1\nkind: ShopService\nmetadata: {name: bad, namespace: shop}\nspec:\n  image: 3\n  replica: 4\n",
    )
    .unwrap();
    let refused = run_binary(&["check", file, bad.to_str().unwrap()]);
    assert_eq!(refused.status, 1, "{}", refused.stdout);
    for line in [
        "5  error   schema                      spec.image: expected a string, found the integer 3",
        "6  error   schema                      spec.replica: unknown field `replica`: did you mean `replicas`?",
    ] {
        assert!(refused.stdout.contains(line), "{line} not in\n{}", refused.stdout);
    }
    if !super::common::kubectl_available() {
        return;
    }
    let cluster = super::common::cluster::Cluster::new();
    let client = cluster.ok(&["apply", "--dry-run=client", "-f", file]);
    assert!(
        client.contains("shopservices.platform.acme.io created (dry run)"),
        "{client}"
    );
    cluster.ok(&["apply", "--server-side", "--dry-run=server", "-f", file]);
    cluster.ok(&["apply", "--server-side", "-f", file]);
    let mut instance = documents(CART).remove(0);
    instance["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("namespace");
    let instance = cluster.file("checkout.yaml", &nixernetes::yaml::to_string(&instance));
    let applied = cluster.ok(&[
        "apply",
        "--server-side",
        "--dry-run=server",
        "-n",
        "default",
        "-f",
        instance.to_str().unwrap(),
    ]);
    assert!(
        applied.starts_with("shopservice.platform.acme.io/checkout"),
        "{applied}"
    );
}

fn documents_of(text: &str) -> Vec<serde_json::Value> {
    nixernetes::yaml::parse_stream(text)
        .expect("YAML")
        .into_iter()
        .map(|d| d.value)
        .collect()
}

/// KindDefinition and ValidationRule have schemas generated from their types (committed as
/// `schemas/<Kind>.json`, what `schema KIND` prints): they take the examples' definitions and
/// rules, and refuse a misspelt field.
#[test]
fn the_extension_kinds_have_schemas_for_editors() {
    for (kind, file) in [
        ("KindDefinition", "examples/extending/kinds/shop.yaml"),
        ("ValidationRule", "examples/extending/rules/workloads.yaml"),
    ] {
        let out = run_binary(&["schema", kind]);
        assert_eq!(out.status, 0, "{}", out.stderr);
        let committed = std::fs::read_to_string(format!("schemas/{kind}.json")).unwrap();
        assert_eq!(out.stdout, committed, "schemas/{kind}.json");
        let v = draft_2020_12(&serde_json::from_str(&out.stdout).unwrap());
        let docs = documents(file);
        assert!(!docs.is_empty());
        for doc in &docs {
            let errors: Vec<String> = v.iter_errors(doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{kind}: {errors:?}");
        }
        let mut bad = docs[0].clone();
        bad["spec"]
            .as_object_mut()
            .unwrap()
            .insert("severty".into(), serde_json::json!("error"));
        assert!(!v.is_valid(&bad), "{kind}: a misspelt field accepted");
    }
}

/// `docs/extending.md` (issue 14 item 5) shows real output: each `$ kubectl nixernetes …` line of
/// its console blocks runs (under bash, in the crate root, with a clean environment, the binary
/// standing in for the plugin) and prints exactly the lines pasted below it. `UPDATE_GOLDEN=1`
/// rewrites them.
#[test]
fn the_walkthrough_shows_real_output() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = root.join("docs/extending.md");
    let text = std::fs::read_to_string(&page).expect("docs/extending.md");
    let bin = env!("CARGO_BIN_EXE_kubectl-nixernetes");
    let mut out = String::new();
    let mut failures = Vec::new();
    let mut lines = text.lines().peekable();
    let mut commands = 0;
    while let Some(line) = lines.next() {
        out.push_str(line);
        out.push('\n');
        if line != "```console" {
            continue;
        }
        // One block: commands, each followed by what it prints, up to the closing fence.
        while let Some(line) = lines.next() {
            if line == "```" {
                out.push_str("```\n");
                break;
            }
            let Some(command) = line.strip_prefix("$ ") else {
                continue;
            };
            commands += 1;
            let mut expected = String::new();
            while let Some(next) = lines.peek() {
                if next.starts_with("$ ") || *next == "```" {
                    break;
                }
                expected.push_str(lines.next().unwrap());
                expected.push('\n');
            }
            let script = command.replace("kubectl nixernetes", bin);
            let run = std::process::Command::new("bash")
                .args(["-c", &script])
                .current_dir(root)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .output()
                .expect("bash runs");
            let actual = String::from_utf8_lossy(&run.stdout);
            if actual != expected {
                failures.push(format!(
                    "$ {command}\nexpected:\n{expected}actual:\n{actual}"
                ));
            }
            out.push_str(line);
            out.push('\n');
            out.push_str(&actual);
        }
    }
    assert!(
        commands >= 10,
        "the walkthrough runs its commands ({commands})"
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&page, out).expect("write docs/extending.md");
        return;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
