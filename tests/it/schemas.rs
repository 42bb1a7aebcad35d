//! Every object that `render -o json --kubernetes-version 1.3x` emits for `examples/**/*.yaml`
//! (and for the pass-through fixture `tests/fixtures/passthrough.yaml`) must validate against the
//! JSON Schemas in `../shared/schemas` (see its README.md), for every supported minor 1.3x from
//! 1.31 to 1.37:
//!
//! * core kinds against the strict Kubernetes schemas of that minor,
//! * every other group against `crds/<group>/<kind>_<version>.json`.
//!
//! Each schema file is compiled once. A second test checks the served-API table
//! (`src/schema/served.rs`) against the same core schemas.
//!
//! The schema lookup mirrors `validate.py` exactly: `<kind>-<v>.json` for the core group,
//! `<kind>-<short>-<v>.json` for named groups (`<short>` = first label of the group, except
//! `internal.apiserver.k8s.io` -> `apiserverinternal`), used only if the file's `apiVersion` enum
//! lists the object's apiVersion; otherwise the CRD file. `_definitions.json` is registered under
//! its `$id` (`https://kubernetes.io/api/_definitions.json`); everything is draft 2020-12 (the CRD
//! files declare no `$schema`, so the draft is forced) and `format` is not checked.
//!
//! Objects without a schema are listed. They fail the test only if their group is a built-in
//! Kubernetes group; CRD groups missing from the schema folder are reported and skipped.
//!
//! Schema folder: `$NIXERNETES_SCHEMAS`, default `../shared/schemas` relative to the crate. If it is
//! missing the test is skipped with a notice on stderr, unless `CI=true`, where it fails.

use jsonschema::{Draft, Registry, Validator};
use nixernetes::schema::served::{self, Verdict};
use nixernetes::types::KubernetesVersion;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Group -> `<short>` exceptions to the "first label of the group" rule (as in validate.py).
const GROUP_SHORT: [(&str, &str); 1] = [("internal.apiserver.k8s.io", "apiserverinternal")];
/// Error messages longer than this are shortened (as in validate.py).
const MAX_MSG: usize = 300;

/// Written straight to the process's stderr, so that it shows even when the test passes
/// (libtest only captures the `print!`/`eprint!` macros).
fn loud(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

fn schemas_dir() -> PathBuf {
    match std::env::var_os("NIXERNETES_SCHEMAS").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas"),
    }
}

/// The schema folder; `None` once it has said loudly that `test` is skipped because the folder
/// is missing (under `CI=true` it fails instead).
fn schemas_or_skip(test: &str) -> Option<PathBuf> {
    let root = schemas_dir();
    if root.join("kubernetes").is_dir() {
        return Some(root);
    }
    let msg = format!(
        "SKIPPED {test}: schemas not found at {}; set NIXERNETES_SCHEMAS",
        root.display()
    );
    assert!(!is_ci(), "{msg} (CI=true: failing instead of skipping)");
    loud(&format!("\n!!!!!!!!!!\n!!! {msg}\n!!!!!!!!!!\n"));
    None
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// `group/version` -> (group, version); the core group has no slash and is `""`
/// (Python's `rpartition("/")`).
fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// The strings listed in `properties.apiVersion.enum` of a core kind file.
fn api_version_enum(schema: &Value) -> Vec<String> {
    enum_of(schema, "apiVersion")
}

/// The strings listed in `properties.<field>.enum` of a core kind file.
fn enum_of(schema: &Value, field: &str) -> Vec<String> {
    schema
        .pointer(&format!("/properties/{field}/enum"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn shorten(msg: &str) -> String {
    let msg = msg.split_whitespace().collect::<Vec<_>>().join(" ");
    if msg.chars().count() <= MAX_MSG {
        msg
    } else {
        let head: String = msg.chars().take(MAX_MSG - 3).collect();
        format!("{head}...")
    }
}

/// The core schema file name of (apiVersion, kind), by the README's rule: `<kind>-<v>.json` for
/// the core group, `<kind>-<short>-<v>.json` for named groups.
fn core_file_name(api_version: &str, kind: &str) -> String {
    let (group, version) = split_api_version(api_version);
    let kind = kind.to_lowercase();
    if group.is_empty() {
        format!("{kind}-{version}.json")
    } else {
        let short = GROUP_SHORT
            .iter()
            .find(|(g, _)| *g == group)
            .map_or_else(|| group.split('.').next().unwrap_or(group), |(_, s)| *s);
        format!("{kind}-{short}-{version}.json")
    }
}

/// A compiled core kind file together with the apiVersions its `apiVersion` enum allows.
struct CoreEntry {
    validator: Validator,
    api_versions: Vec<String>,
}

/// One Kubernetes version's core schemas: the `_definitions.json` registry and the compiled kind
/// files (compiled lazily, once; `None` = file does not exist).
struct KubeSchemas {
    version: KubernetesVersion,
    dir: PathBuf,
    registry: Registry<'static>,
    cache: HashMap<PathBuf, Option<CoreEntry>>,
}

impl KubeSchemas {
    fn new(root: &Path, version: KubernetesVersion) -> Self {
        let dir = root.join("kubernetes").join(format!("v{version}"));
        let defs_path = dir.join("_definitions.json");
        assert!(
            defs_path.is_file(),
            "no core schemas for Kubernetes {version}: {}",
            defs_path.display()
        );
        let defs = read_json(&defs_path);
        let id = defs
            .get("$id")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{} has no $id", defs_path.display()))
            .to_owned();
        // Registered under its "$id" (https://kubernetes.io/api/_definitions.json), which is where
        // the kind files' "$ref": "/api/_definitions.json#/$defs/..." resolve against their own $id.
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(&id, defs)
            .and_then(|b| b.prepare())
            .unwrap_or_else(|e| panic!("cannot register {} as {id}: {e}", defs_path.display()));
        KubeSchemas {
            version,
            dir,
            registry,
            cache: HashMap::new(),
        }
    }

    /// The core schema for (apiVersion, kind), if the file named by the rule exists and its
    /// apiVersion enum lists the object's apiVersion.
    fn lookup(&mut self, api_version: &str, kind: &str) -> Option<&Validator> {
        let path = self.dir.join(core_file_name(api_version, kind));
        let registry = &self.registry;
        let entry = self.cache.entry(path).or_insert_with_key(|path| {
            if !path.is_file() {
                return None;
            }
            let schema = read_json(path);
            let validator = jsonschema::options()
                .with_draft(Draft::Draft202012)
                .with_registry(registry)
                .should_validate_formats(false)
                .offline()
                .build(&schema)
                .unwrap_or_else(|e| panic!("cannot compile {}: {e}", path.display()));
            Some(CoreEntry {
                validator,
                api_versions: api_version_enum(&schema),
            })
        });
        match entry {
            Some(e) if e.api_versions.iter().any(|v| v == api_version) => Some(&e.validator),
            _ => None,
        }
    }
}

/// All schemas, compiled lazily and cached per file.
struct Schemas {
    root: PathBuf,
    kube: Vec<KubeSchemas>,
    crds: HashMap<PathBuf, Option<Validator>>,
    /// Built-in API groups: `""`, every group named in a core kind file's apiVersion enum.
    core_groups: BTreeSet<String>,
}

impl Schemas {
    fn new(root: &Path) -> Self {
        let kube: Vec<KubeSchemas> = KubernetesVersion::ALL
            .iter()
            .map(|v| KubeSchemas::new(root, *v))
            .collect();
        let mut core_groups = BTreeSet::from([String::new()]);
        for k in &kube {
            let entries = std::fs::read_dir(&k.dir)
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", k.dir.display()));
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if !name.ends_with(".json") || name == "_definitions.json" {
                    continue;
                }
                for v in api_version_enum(&read_json(&path)) {
                    core_groups.insert(split_api_version(&v).0.to_owned());
                }
            }
        }
        Schemas {
            root: root.to_owned(),
            kube,
            crds: HashMap::new(),
            core_groups,
        }
    }

    /// A built-in Kubernetes group: one the core schemas know, or one without a dot (a CRD's
    /// group must contain a dot, so `apps`, `batch`, `policy`... can only be built-in).
    fn is_core_group(&self, group: &str) -> bool {
        self.core_groups.contains(group) || !group.contains('.')
    }

    /// `crds/<group>/<lowercase kind>_<version>.json`, compiled once.
    fn crd(&mut self, api_version: &str, kind: &str) -> Option<&Validator> {
        let (group, version) = split_api_version(api_version);
        if group.is_empty() {
            return None;
        }
        let path = self
            .root
            .join("crds")
            .join(group)
            .join(format!("{}_{version}.json", kind.to_lowercase()));
        self.crds
            .entry(path)
            .or_insert_with_key(|path| {
                if !path.is_file() {
                    return None;
                }
                // A CRD may constrain only `metadata.name` and `generateName`; the API server
                // keeps every other ObjectMeta field. The catalog closes a few such `metadata`
                // schemas (InnoDBCluster) with `additionalProperties: false`: reopen them.
                let mut schema = read_json(path);
                if let Some(meta) = schema
                    .pointer_mut("/properties/metadata")
                    .and_then(|m| m.as_object_mut())
                {
                    meta.remove("additionalProperties");
                }
                // The CRD files declare no $schema: force 2020-12, as validate.py does.
                let validator = jsonschema::options()
                    .with_draft(Draft::Draft202012)
                    .should_validate_formats(false)
                    .offline()
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("cannot compile {}: {e}", path.display()));
                Some(validator)
            })
            .as_ref()
    }
}

/// One schema violation. The same error under several minors is reported once.
struct Violation {
    file: String,
    object: String,
    pointer: String,
    message: String,
    schemas: Vec<String>,
}

#[derive(Default)]
struct Report {
    files: usize,
    objects: usize,
    violations: Vec<Violation>,
    /// Render failures, unreadable output, objects without apiVersion/kind.
    failures: Vec<String>,
    /// "no schema: Kind apiVersion" lines (deduplicated); `true` = built-in group (fails).
    unknown: BTreeSet<(bool, String)>,
}

impl Report {
    fn violation(
        &mut self,
        file: &str,
        object: &str,
        pointer: &str,
        message: String,
        schema: &str,
    ) {
        if let Some(v) = self.violations.iter_mut().find(|v| {
            v.file == file && v.object == object && v.pointer == pointer && v.message == message
        }) {
            if !v.schemas.iter().any(|s| s == schema) {
                v.schemas.push(schema.to_owned());
            }
            return;
        }
        self.violations.push(Violation {
            file: file.to_owned(),
            object: object.to_owned(),
            pointer: pointer.to_owned(),
            message,
            schemas: vec![schema.to_owned()],
        });
    }
}

/// `*.yaml` files under `dir` (recursive, sorted) accepted by `keep`; files below a directory
/// named `invalid` are skipped.
fn yaml_files(dir: &Path, keep: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    fn walk(dir: &Path, keep: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            // `metadata` follows symlinks.
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                if name != "invalid" {
                    walk(&path, keep, out);
                }
            } else if meta.is_file() && name.ends_with(".yaml") && keep(&name) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, keep, &mut out);
    out.sort();
    out
}

/// Run `kubectl-nixernetes render -o json --kubernetes-version MINOR FILE` and return the List's
/// items (nested Lists expanded, as validate.py does).
fn render(file: &Path, minor: KubernetesVersion, extra: &[&str]) -> Result<Vec<Value>, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-nixernetes"))
        .args([
            "render",
            "-o",
            "json",
            "--kubernetes-version",
            &minor.to_string(),
        ])
        .args(extra)
        .arg(file)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // A clean environment (as tests/golden.rs uses): no SOURCE_DATE_EPOCH, no
        // KUSTOMIZE_PLUGIN_CONFIG_STRING (legacy plugin mode) from the caller.
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .map_err(|e| format!("cannot run kubectl-nixernetes: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "render exited with {}; stderr:\n{}",
            out.status,
            stderr.trim_end()
        ));
    }
    let list: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "render output is not JSON: {e}; stderr:\n{}",
            stderr.trim_end()
        )
    })?;
    if list.get("apiVersion").and_then(Value::as_str) != Some("v1")
        || list.get("kind").and_then(Value::as_str) != Some("List")
    {
        return Err("render output is not a `v1 List`".into());
    }
    let Some(items) = list.get("items").and_then(Value::as_array) else {
        return Err("render output has no `items` array".into());
    };
    fn expand(v: &Value, out: &mut Vec<Value>) {
        match v.get("items").and_then(Value::as_array) {
            Some(items) if v.get("kind").and_then(Value::as_str) == Some("List") => {
                items.iter().for_each(|i| expand(i, out))
            }
            _ => out.push(v.clone()),
        }
    }
    let mut objects = Vec::new();
    items.iter().for_each(|i| expand(i, &mut objects));
    Ok(objects)
}

/// Checks `obj`, rendered for the minor of `schemas.kube[k]`, against that minor's core schema,
/// else its CRD file.
fn check_object(schemas: &mut Schemas, k: usize, report: &mut Report, file: &str, obj: &Value) {
    report.objects += 1;
    let str_at = |p: &str| {
        obj.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (kind, api_version) = (str_at("/kind"), str_at("/apiVersion"));
    let label = format!(
        "{}/{}",
        kind.unwrap_or("<no kind>"),
        str_at("/metadata/name").unwrap_or("<no name>")
    );
    let (Some(kind), Some(api_version)) = (kind, api_version) else {
        report
            .failures
            .push(format!("{file}: {label}: missing apiVersion or kind"));
        return;
    };
    let (group, _) = split_api_version(api_version);
    let core = schemas.is_core_group(group);
    let version = schemas.kube[k].version;
    if let Some(validator) = schemas.kube[k].lookup(api_version, kind) {
        for err in validator.iter_errors(obj) {
            let msg = shorten(&err.to_string());
            let ptr = err.instance_path().to_string();
            report.violation(file, &label, &ptr, msg, &format!("kubernetes v{version}"));
        }
        return;
    }
    // No core schema in this minor: the CRD file (validate.py's fallback for any named group).
    let schema = format!("crds/{group}");
    if let Some(validator) = schemas.crd(api_version, kind) {
        for err in validator.iter_errors(obj) {
            let msg = shorten(&err.to_string());
            let ptr = err.instance_path().to_string();
            report.violation(file, &label, &ptr, msg, &schema);
        }
        return;
    }
    if core {
        report.unknown.insert((
            true,
            format!("no schema in kubernetes v{version}: {kind} {api_version} ({file}: {label})"),
        ));
    } else {
        report
            .unknown
            .insert((false, format!("no schema: {kind} {api_version}")));
    }
}

/// Renders `path` for every supported minor and checks each object against that minor.
fn check_file(schemas: &mut Schemas, report: &mut Report, path: &Path) {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = path
        .strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string();
    report.files += 1;
    // A file with exported rules is rendered with their admission policies too.
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let extra: &[&str] = if text.contains("export: true") && text.contains("kind: ValidationRule") {
        &["--admission-policies=include"]
    } else {
        &[]
    };
    for k in 0..schemas.kube.len() {
        let minor = schemas.kube[k].version;
        match render(path, minor, extra) {
            Ok(objects) => objects
                .iter()
                .for_each(|o| check_object(schemas, k, report, &file, o)),
            Err(e) => report
                .failures
                .push(format!("{file} (--kubernetes-version {minor}): {e}")),
        }
    }
}

#[test]
fn rendered_objects_match_schemas() {
    let Some(root) = schemas_or_skip("rendered_objects_match_schemas") else {
        return;
    };
    let started = std::time::Instant::now();
    let mut schemas = Schemas::new(&root);
    let mut report = Report::default();
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));

    let examples = yaml_files(&base.join("examples"), &|_| true);
    assert!(!examples.is_empty(), "no examples/**/*.yaml found");
    for path in &examples {
        check_file(&mut schemas, &mut report, path);
    }
    // Plain objects the golden tests pass through (with injected metadata) must stay valid too.
    check_file(
        &mut schemas,
        &mut report,
        &base.join("tests/fixtures/passthrough.yaml"),
    );

    let mut summary = format!(
        "schemas: {} files rendered for each of {} minors, {} objects checked against {} in {:.1?}",
        report.files,
        schemas.kube.len(),
        report.objects,
        root.display(),
        started.elapsed()
    );
    if !report.unknown.is_empty() {
        summary.push_str("\nobjects without a schema:");
        for (core, line) in &report.unknown {
            summary.push_str(&format!(
                "\n  {}{line}",
                if *core { "ERROR (built-in group) " } else { "" }
            ));
        }
    }
    loud(&summary);

    let mut problems = Vec::new();
    problems.extend(report.failures.iter().map(|f| format!("FAIL {f}")));
    problems.extend(
        report
            .unknown
            .iter()
            .filter(|(core, _)| *core)
            .map(|(_, l)| format!("FAIL {l}")),
    );
    problems.extend(report.violations.iter().map(|v| {
        let pointer = if v.pointer.is_empty() {
            "/"
        } else {
            &v.pointer
        };
        format!(
            "FAIL {}: {}: {pointer}: {} [{}]",
            v.file,
            v.object,
            v.message,
            v.schemas.join(", ")
        )
    }));
    assert!(
        problems.is_empty(),
        "{} schema problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The checker itself must catch errors: a strict-core violation that is only reachable through
/// a `$ref` into `_definitions.json`, a CRD violation, an apiVersion that the core file's enum
/// does not list, and the two kinds of missing schema.
#[test]
fn checker_detects_violations_and_missing_schemas() {
    let Some(root) = schemas_or_skip("checker_detects_violations_and_missing_schemas") else {
        return;
    };
    let mut schemas = Schemas::new(&root);
    let mut report = Report::default();
    let objects = serde_json::json!([
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bad"},
         "spec": {"selector": {"matchLabels": {"a": "b"}}, "replica": 3,
                  "template": {"metadata": {"labels": {"a": "b"}},
                               "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolicyy": "Always"}]}}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "good"}, "data": {"k": "v"}},
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "bad-route"},
         "spec": {"parentRefs": [{"name": "gw", "bogus": 1}]}},
        {"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler", "metadata": {"name": "vpa"},
         "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "x"}}},
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
        {"apiVersion": "v1", "kind": "Gadget", "metadata": {"name": "g"}},
        {"apiVersion": "apps/v1beta9", "kind": "Deployment", "metadata": {"name": "old"}},
    ]);
    for k in 0..schemas.kube.len() {
        for obj in objects.as_array().unwrap() {
            check_object(&mut schemas, k, &mut report, "selfcheck", obj);
        }
    }
    for v in &report.violations {
        println!(
            "{}: {}: {} [{}]",
            v.object,
            v.pointer,
            v.message,
            v.schemas.join(", ")
        );
    }
    let found: Vec<(String, String, Vec<String>)> = report
        .violations
        .iter()
        .map(|v| (v.object.clone(), v.pointer.clone(), v.schemas.clone()))
        .collect();
    let every: Vec<String> = KubernetesVersion::ALL
        .iter()
        .map(|v| format!("kubernetes v{v}"))
        .collect();
    let expect = |object: &str, pointer: &str, schemas: &[String]| {
        assert!(
            found
                .iter()
                .any(|(o, p, s)| o == object && p == pointer && s == schemas),
            "expected a violation {object} {pointer} {schemas:?}; got {found:?}"
        );
    };
    expect("Deployment/bad", "/spec", &every);
    expect("Deployment/bad", "/spec/template/spec/containers/0", &every);
    expect(
        "HTTPRoute/bad-route",
        "/spec/parentRefs/0",
        &["crds/gateway.networking.k8s.io".to_owned()],
    );
    assert!(
        found
            .iter()
            .all(|(o, _, _)| o == "Deployment/bad" || o == "HTTPRoute/bad-route"),
        "unexpected violations: {found:?}"
    );
    let unknown: Vec<_> = report.unknown.iter().cloned().collect();
    assert!(
        unknown.contains(&(false, "no schema: Widget example.com/v1".to_owned())),
        "{unknown:?}"
    );
    for v in KubernetesVersion::ALL {
        for (kind, av, name) in [("Gadget", "v1", "g"), ("Deployment", "apps/v1beta9", "old")] {
            let line =
                format!("no schema in kubernetes v{v}: {kind} {av} (selfcheck: {kind}/{name})");
            assert!(unknown.contains(&(true, line)), "{unknown:?}");
        }
    }
    assert_eq!(
        unknown.len(),
        1 + 2 * KubernetesVersion::ALL.len(),
        "{unknown:?}"
    );
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}

/// The served-API table (`src/schema/served.rs`) against the strict core schemas of each minor:
/// every (apiVersion, kind) the table says a minor serves has a schema file for that minor, and
/// every GA or beta kind with a schema file in a minor is served by it in the table (neither
/// marked removed nor not served yet, nor missing).
#[test]
fn served_table_matches_the_schemas() {
    let Some(root) = schemas_or_skip("served_table_matches_the_schemas") else {
        return;
    };
    let mut problems = Vec::new();
    let mut checked = 0;
    for minor in KubernetesVersion::ALL {
        let dir = root.join("kubernetes").join(format!("v{minor}"));
        for (api, _) in served::served(minor) {
            checked += 1;
            let path = dir.join(core_file_name(api.api_version, api.kind));
            if !path.is_file() {
                problems.push(format!(
                    "{minor}: the table says {} {} is served, but {} does not exist",
                    api.kind,
                    api.api_version,
                    path.display()
                ));
                continue;
            }
            let schema = read_json(&path);
            if !enum_of(&schema, "apiVersion")
                .iter()
                .any(|v| v == api.api_version)
                || !enum_of(&schema, "kind").iter().any(|k| k == api.kind)
            {
                problems.push(format!(
                    "{minor}: {} is not the schema of {} {}",
                    path.display(),
                    api.kind,
                    api.api_version
                ));
            }
        }
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // The shared definitions and the meta/v1 wire types are not kinds one applies.
            if !name.ends_with(".json") || name == "_definitions.json" || name.contains("-meta-") {
                continue;
            }
            let schema = read_json(&entry.path());
            let (api_versions, kinds) = (enum_of(&schema, "apiVersion"), enum_of(&schema, "kind"));
            let (Some(api_version), Some(kind)) = (api_versions.first(), kinds.first()) else {
                problems.push(format!("{minor}: {name} names no apiVersion or kind"));
                continue;
            };
            let version = split_api_version(api_version).1;
            if version.contains("alpha") {
                continue;
            }
            checked += 1;
            match served::verdict(api_version, kind, minor) {
                Verdict::Current | Verdict::Deprecated { .. } => {}
                other => problems.push(format!(
                    "{minor}: {name} is the schema of {kind} {api_version}, which the table makes {other:?}"
                )),
            }
        }
    }
    loud(&format!(
        "served table: {checked} (minor, apiVersion, kind) pairs checked against {}",
        root.display()
    ));
    assert!(
        problems.is_empty(),
        "{} served-table problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The admission policies exported from `examples/extending/rules/` (and from a rule with
/// parameters, a producedBy and an inventory) are valid objects of every supported minor.
#[test]
fn exported_admission_policies_match_schemas() {
    let Some(root) = schemas_or_skip("exported_admission_policies_match_schemas") else {
        return;
    };
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("temp dir");
    let params = dir.path().join("params.yaml");
    std::fs::write(
        &params,
        "apiVersion: nixernetes.io/v1alpha1\nkind: ValidationRule\nmetadata: {name: team-limit}\nspec:\n  severity: warning\n  match:\n    resourceRules: [{apiGroups: [apps], apiVersions: [v1], resources: [deployments], operations: [CREATE, UPDATE]}]\n    objectSelector: {matchLabels: {tier: web}}\n    producedBy: [{kind: WebApp}]\n  params: {apiVersion: v1, kind: ConfigMap, name: limits, namespace: platform}\n  validations:\n    - expression: \"object.spec.replicas <= int(params.data.max)\"\n      fieldPath: spec.replicas\n  auditAnnotations:\n    - {key: replicas, valueExpression: \"string(object.spec.replicas)\"}\n  admission: {export: true, scope: managed}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits, namespace: platform}\ndata: {max: \"5\"}\n",
    )
    .unwrap();
    let mut schemas = Schemas::new(&root);
    let mut report = Report::default();
    let files = [
        (base.join("examples/extending/rules/workloads.yaml"), 4),
        (params.clone(), 3),
    ];
    for k in 0..schemas.kube.len() {
        let minor = schemas.kube[k].version;
        for (file, want) in &files {
            let objects = render(
                file,
                minor,
                &["--admission-policies=only", "--inventory", "shop-prod"],
            )
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert_eq!(objects.len(), *want, "{}: {objects:#?}", file.display());
            for o in &objects {
                let kind = o["kind"].as_str().unwrap_or_default();
                if kind != "ConfigMap" {
                    assert!(
                        schemas.kube[k]
                            .lookup("admissionregistration.k8s.io/v1", kind)
                            .is_some(),
                        "no schema for {kind} in {minor}"
                    );
                }
                check_object(&mut schemas, k, &mut report, &file.display().to_string(), o);
            }
        }
    }
    assert!(report.unknown.is_empty(), "{:?}", report.unknown);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(
        report.violations.is_empty(),
        "{}",
        report
            .violations
            .iter()
            .map(|v| format!("{}: {}: {}: {}", v.file, v.object, v.pointer, v.message))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
