//! Config content hashes: a pod template that loads a ConfigMap or Secret of the rendered set
//! (through `envFrom`, `env[].valueFrom.configMapKeyRef`/`secretKeyRef`, a `configMap` or
//! `secret` volume, or a `projected` volume's sources) gets annotation
//! `nixernetes.io/config-hash`: a SHA-256 of exactly what it reads, so that changing that data
//! changes the template and rolls the pods, while changing a key it does not read, or another
//! ConfigMap, does not. This is what kustomize's generator name hash and Helm's
//! `checksum/config` annotation do, without renaming anything.
//!
//! Like the other auto-fixes (`policy::mutate`), it is applied to the modules' objects always and
//! to pass-through objects with `--fix`, is reported as an `info` finding per template, and never
//! replaces a value someone wrote: a template that already carries the annotation keeps it (`off`
//! says "no hash here": a workload that reloads its configuration itself).
//! `PlatformDefaults.spec.configHash: false` turns it off for a run.
//!
//! Only objects of the set are read; a reference to anything else is not hashed (the
//! `dangling-env-ref` check judges it). Secret data is hashed (decoded, so `data` and
//! `stringData` spelling the same bytes hash the same) and never printed: the findings name the
//! Secret and its keys, not their values.

use super::collisions::emitted_namespace;
use crate::engine::inject::Provenance;
use crate::finding::Finding;
use crate::kind::Context;
use crate::resource::{Field, Identity, Item, Resource};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::kind::{CONFIG_HASH as ANNOTATION, CONFIG_HASH_OFF as OFF};

/// What a template reads of one ConfigMap or Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Read {
    /// Every key (`envFrom`, a volume without `items`).
    Whole,
    /// These keys only.
    Keys(BTreeSet<String>),
}

impl Read {
    fn add(&mut self, other: Read) {
        match (&mut *self, other) {
            (Read::Whole, _) => {}
            (_, Read::Whole) => *self = Read::Whole,
            (Read::Keys(mine), Read::Keys(theirs)) => mine.extend(theirs),
        }
    }
}

/// `(kind, name)` of a ConfigMap or Secret → what is read of it.
type Reads = BTreeMap<(&'static str, String), Read>;

/// The field path of the pod template of a workload, for the kinds that roll their pods when
/// it changes. Not a Pod (changing it is refused, not rolled), nor a Job: its template is
/// immutable, so a hash that changed would make every later apply of the Job fail.
fn template_path(obj: &Resource) -> Option<&'static str> {
    let group = obj.api_version().split_once('/').map(|(g, _)| g);
    match (group, obj.kind()) {
        (Some("apps"), "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            Some("spec.template")
        }
        (Some("batch"), "CronJob") => Some("spec.jobTemplate.spec.template"),
        _ => None,
    }
}

fn at<'a>(obj: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = obj.field(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.field(p)?;
    }
    Some(cur)
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The keys of a volume source's `items`, or the whole object when it lists none.
fn items(source: &Value) -> Read {
    match source.get("items").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => Read::Keys(
            list.iter()
                .filter_map(|i| text(i, "key"))
                .map(str::to_string)
                .collect(),
        ),
        _ => Read::Whole,
    }
}

/// What the pod spec `spec` reads of ConfigMaps and Secrets.
fn reads(spec: &Value) -> Reads {
    let mut out = Reads::new();
    let mut add = |kind: &'static str, name: &str, read: Read| {
        out.entry((kind, name.to_string()))
            .and_modify(|r| r.add(read.clone()))
            .or_insert(read);
    };
    for field in ["initContainers", "containers"] {
        for c in spec
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for e in c
                .get("envFrom")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(n) = e.get("configMapRef").and_then(|r| text(r, "name")) {
                    add("ConfigMap", n, Read::Whole);
                }
                if let Some(n) = e.get("secretRef").and_then(|r| text(r, "name")) {
                    add("Secret", n, Read::Whole);
                }
            }
            for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
                let Some(from) = e.get("valueFrom") else {
                    continue;
                };
                for (kind, field) in [("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")]
                {
                    let Some(r) = from.get(field) else { continue };
                    if let (Some(n), Some(k)) = (text(r, "name"), text(r, "key")) {
                        add(kind, n, Read::Keys(BTreeSet::from([k.to_string()])));
                    }
                }
            }
        }
    }
    for v in spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(cm) = v.get("configMap") {
            if let Some(n) = text(cm, "name") {
                add("ConfigMap", n, items(cm));
            }
        }
        if let Some(s) = v.get("secret") {
            if let Some(n) = text(s, "secretName") {
                add("Secret", n, items(s));
            }
        }
        let sources = v.get("projected").and_then(|p| p.get("sources"));
        for s in sources.and_then(Value::as_array).into_iter().flatten() {
            for (kind, field) in [("ConfigMap", "configMap"), ("Secret", "secret")] {
                if let Some(src) = s.get(field) {
                    if let Some(n) = text(src, "name") {
                        add(kind, n, items(src));
                    }
                }
            }
        }
    }
    out
}

/// The bytes of `key` in a ConfigMap or Secret, as the pods see them: a ConfigMap's `data` or
/// decoded `binaryData`; a Secret's `stringData` (which the API server writes over `data`) or
/// decoded `data`. `None` when it has no such key.
fn value(obj: &Resource, key: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let decode = |v: &Value| match v {
        Value::String(s) => base64::engine::general_purpose::STANDARD
            .decode(s)
            .unwrap_or_else(|_| s.as_bytes().to_vec()),
        other => other.to_string().into_bytes(),
    };
    let plain = |v: &Value| match v {
        Value::String(s) => s.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    };
    let get = |field: &str| obj.object.get(field).and_then(|d| d.get(key));
    if obj.kind() == "Secret" {
        get("stringData")
            .map(plain)
            .or_else(|| get("data").map(decode))
    } else {
        get("data")
            .map(plain)
            .or_else(|| get("binaryData").map(decode))
    }
}

/// Every key of a ConfigMap or Secret, sorted.
fn keys(obj: &Resource) -> BTreeSet<String> {
    let fields: &[&str] = if obj.kind() == "Secret" {
        &["data", "stringData"]
    } else {
        &["data", "binaryData"]
    };
    fields
        .iter()
        .filter_map(|f| obj.object.get(*f).and_then(Value::as_object))
        .flat_map(|m| m.keys().cloned())
        .collect()
}

/// The hash of what `reads` reads of `configs`, and the `Kind/name` of each object read (with
/// the keys, when not all): `None` when it reads none of them.
fn hash(
    reads: &Reads,
    configs: &HashMap<(&str, &str), &Resource>,
) -> Option<(String, Vec<String>)> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut read = Vec::new();
    // Length-prefixed fields, so that no two different inputs give the same bytes.
    let mut put = |bytes: &[u8]| {
        ctx.update(&(bytes.len() as u64).to_be_bytes());
        ctx.update(bytes);
    };
    for ((kind, name), what) in reads {
        let Some(obj) = configs.get(&(*kind, name.as_str())) else {
            continue;
        };
        put(kind.as_bytes());
        put(name.as_bytes());
        let keys = match what {
            Read::Whole => {
                read.push(format!("{kind} {name}"));
                keys(obj)
            }
            Read::Keys(k) => {
                let listed: Vec<&str> = k.iter().map(String::as_str).collect();
                read.push(format!("{kind} {name} (keys {})", listed.join(", ")));
                k.clone()
            }
        };
        for key in keys {
            put(key.as_bytes());
            match value(obj, &key) {
                Some(v) => {
                    put(b"=");
                    put(&v);
                }
                None => put(b"absent"),
            }
        }
    }
    if read.is_empty() {
        return None;
    }
    let digest = ctx.finish();
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    Some((hex, read))
}

/// Adds the hash annotation to every pod template of `objects` that reads a ConfigMap or Secret
/// of the set: the modules' always, pass-through objects' with `--fix`.
pub fn add_config_hashes(
    objects: &mut [Item],
    produced: &[Option<Arc<Provenance>>],
    ctx: &Context,
    findings: &mut Vec<Finding>,
) {
    if !ctx.config_hash {
        return;
    }
    // Workloads are never frozen (`engine::freeze`).
    let wanted = |i: usize, obj: &Item| {
        (produced[i].is_some() || ctx.policy.fix_pass_through)
            && obj.tree().is_some_and(|obj| {
                !(obj.is_local_config() && produced[i].is_none()) && template_path(obj).is_some()
            })
    };
    if !objects.iter().enumerate().any(|(i, o)| wanted(i, o)) {
        return;
    }
    let is_config =
        |o: &Item| o.api_version() == "v1" && matches!(o.kind(), "ConfigMap" | "Secret");
    // What the templates read is thawed; other ConfigMaps and Secrets may stay frozen.
    let mut read: HashSet<(String, String, String)> = HashSet::new();
    for (i, obj) in objects.iter().enumerate() {
        let Some(spec) = obj
            .tree()
            .filter(|_| wanted(i, obj))
            .and_then(|r| at(&r.object, template_path(r)?))
            .and_then(|t| t.get("spec"))
        else {
            continue;
        };
        let ns = emitted_namespace(obj, produced[i].as_deref(), ctx).unwrap_or("");
        read.extend(
            reads(spec)
                .into_keys()
                .map(|(kind, name)| (ns.to_string(), kind.to_string(), name)),
        );
    }
    for (i, o) in objects.iter_mut().enumerate() {
        if o.is_frozen() && is_config(o) {
            let ns = emitted_namespace(o, produced[i].as_deref(), ctx).unwrap_or("");
            let key = (ns.to_string(), o.kind().to_string(), o.name().to_string());
            if read.contains(&key) {
                o.thaw();
            }
        }
    }
    let mut configs: HashMap<(&str, &str), HashMap<&str, &Resource>> = HashMap::new();
    for (i, o) in objects.iter().enumerate() {
        if let Some(r) = o.tree().filter(|_| is_config(o)) {
            let ns = emitted_namespace(r, produced[i].as_deref(), ctx).unwrap_or("");
            configs
                .entry((ns, r.kind()))
                .or_default()
                .insert(r.name(), r);
        }
    }
    let mut changes: Vec<(usize, &'static str, String, Vec<String>)> = Vec::new();
    for (i, item) in objects.iter().enumerate() {
        if !wanted(i, item) {
            continue;
        }
        let Some(obj) = item.tree() else {
            continue;
        };
        let Some(path) = template_path(obj) else {
            continue;
        };
        let Some(spec) = at(&obj.object, path).and_then(|t| t.get("spec")) else {
            continue;
        };
        let ns = emitted_namespace(obj, produced[i].as_deref(), ctx).unwrap_or("");
        let mut here: HashMap<(&str, &str), &Resource> = HashMap::new();
        for kind in ["ConfigMap", "Secret"] {
            for (name, r) in configs.get(&(ns, kind)).into_iter().flatten() {
                here.insert((kind, name), r);
            }
        }
        if let Some((h, read)) = hash(&reads(spec), &here) {
            changes.push((i, path, h, read));
        }
    }
    for (i, path, h, read) in changes {
        let obj = objects[i].thaw();
        let field = format!("{path}.metadata.annotations.{ANNOTATION}");
        let Some(Value::Object(template)) =
            crate::policy::mutate::pointer_mut(&mut obj.object, path)
        else {
            continue;
        };
        let meta = crate::resource::child_map(template, "metadata");
        let annotations = crate::resource::child_map(meta, "annotations");
        let what = read.join(", ");
        let message = match annotations.get(ANNOTATION) {
            Some(v) if v.as_str() == Some(h.as_str()) => continue,
            Some(v) if v.as_str() == Some(OFF) => continue,
            Some(v) => format!(
                "not fixed: the pods read {what}, but {ANNOTATION} is already set (to {v}) and is kept: remove it to get the content hash, or write {OFF:?} to say there is none on purpose"
            ),
            None => {
                annotations.insert(ANNOTATION.into(), Value::String(h.clone()));
                format!(
                    "fixed: set to {h:?}, a SHA-256 of what the pods read of {what}: changing that rolls the pods (PlatformDefaults spec.configHash: false turns this off)"
                )
            }
        };
        let fixed = message.starts_with("fixed");
        let mut f = Finding::info(message).about(obj).field(field);
        if fixed {
            f.proposed = Some(Box::new(Value::String(h)));
        }
        findings.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The objects of `yaml` as render reads them: ConfigMaps and Secrets frozen.
    fn parse(yaml: &str) -> Vec<Item> {
        let items = crate::source::parse_text_as(yaml, "t.yaml", &crate::engine::freeze).unwrap();
        assert!(items
            .iter()
            .all(|i| i.is_frozen() == matches!(i.kind(), "ConfigMap" | "Secret")));
        items
    }

    fn trees(items: &[Item]) -> Vec<Resource> {
        items.iter().cloned().map(Item::into_resource).collect()
    }

    /// Runs the pass over `yaml` as pass-through objects with `--fix`.
    fn run(yaml: &str) -> (Vec<Resource>, Vec<Finding>) {
        let mut objects = parse(yaml);
        let produced = vec![None; objects.len()];
        let mut ctx = Context::default();
        ctx.policy.fix_pass_through = true;
        let mut findings = Vec::new();
        add_config_hashes(&mut objects, &produced, &ctx, &mut findings);
        (trees(&objects), findings)
    }

    fn hash_of<'a>(objects: &'a [Resource], name: &str) -> Option<&'a str> {
        let o = objects
            .iter()
            .find(|o| o.name() == name && template_path(o).is_some())
            .unwrap();
        let path = template_path(o).unwrap();
        at(&o.object, path)?
            .get("metadata")?
            .get("annotations")?
            .get(ANNOTATION)?
            .as_str()
    }

    const CONFIG: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: a}\ndata: {LOG: info, COLOR: blue}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: a}\ndata: {X: '1'}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: a}\ndata: {password: aHVudGVyMg==}\n";

    fn deployment(name: &str, pod: &str) -> String {
        format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: a}}\nspec:\n  template:\n    spec:\n{pod}")
    }

    #[test]
    fn every_kind_of_reference_is_hashed_and_only_what_it_reads() {
        let pods = [
            ("env-from", "      containers: [{name: c, image: x, envFrom: [{configMapRef: {name: web}}]}]\n"),
            ("key-ref", "      containers: [{name: c, image: x, env: [{name: L, valueFrom: {configMapKeyRef: {name: web, key: LOG}}}]}]\n"),
            ("secret-ref", "      containers: [{name: c, image: x, env: [{name: P, valueFrom: {secretKeyRef: {name: creds, key: password}}}]}]\n"),
            ("volume", "      containers: [{name: c, image: x}]\n      volumes: [{name: v, configMap: {name: web}}]\n"),
            ("secret-volume", "      containers: [{name: c, image: x}]\n      volumes: [{name: v, secret: {secretName: creds}}]\n"),
            ("projected", "      containers: [{name: c, image: x}]\n      volumes: [{name: v, projected: {sources: [{configMap: {name: web, items: [{key: COLOR, path: c}]}}]}}]\n"),
            ("elsewhere", "      containers: [{name: c, image: x, envFrom: [{configMapRef: {name: not-in-the-set}}]}]\n"),
            ("nothing", "      containers: [{name: c, image: x}]\n"),
        ];
        let input = |config: &str| {
            let mut s = config.to_string();
            for (name, pod) in pods {
                s.push_str(&deployment(name, pod));
            }
            s
        };
        let (before, findings) = run(&input(CONFIG));
        for (name, _) in &pods[..6] {
            let h = hash_of(&before, name).unwrap_or_else(|| panic!("{name} has no hash"));
            assert_eq!(h.len(), 64, "{name}: {h}");
        }
        assert_eq!(
            hash_of(&before, "elsewhere"),
            None,
            "nothing of the set is read"
        );
        assert_eq!(hash_of(&before, "nothing"), None);
        assert_eq!(findings.len(), 6, "{findings:?}");
        assert!(findings
            .iter()
            .all(|f| f.message.starts_with("fixed: set to")));
        let secret = findings
            .iter()
            .find(|f| f.object.as_ref().unwrap().name == "secret-ref")
            .unwrap();
        assert!(
            secret.message.contains("Secret creds (keys password)"),
            "{}",
            secret.message
        );
        assert!(!findings
            .iter()
            .any(|f| f.message.contains("hunter2") || f.message.contains("aHVudGVyMg")));
        assert_eq!(
            secret.field.as_deref(),
            Some("spec.template.metadata.annotations.nixernetes.io/config-hash")
        );

        // Changing LOG changes what reads LOG or all of `web`, and nothing else.
        let (after, _) = run(&input(&CONFIG.replace("LOG: info", "LOG: debug")));
        let changed: Vec<&str> = pods
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| hash_of(&before, n) != hash_of(&after, n))
            .collect();
        assert_eq!(changed, ["env-from", "key-ref", "volume"]);
        // Changing another ConfigMap changes nothing; the Secret, only its readers.
        let (after, _) = run(&input(&CONFIG.replace("X: '1'", "X: '2'")));
        assert!(pods
            .iter()
            .all(|(n, _)| hash_of(&before, n) == hash_of(&after, n)));
        let (after, _) = run(&input(&CONFIG.replace("aHVudGVyMg==", "aHVudGVyMw==")));
        let changed: Vec<&str> = pods
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| hash_of(&before, n) != hash_of(&after, n))
            .collect();
        assert_eq!(changed, ["secret-ref", "secret-volume"]);
        // The same bytes as stringData hash the same; the same run twice, the same hashes.
        let (again, _) = run(&input(&CONFIG.replace(
            "data: {password: aHVudGVyMg==}",
            "stringData: {password: hunter2}",
        )));
        assert_eq!(
            hash_of(&before, "secret-ref"),
            hash_of(&again, "secret-ref")
        );
        let (twice, _) = run(&input(CONFIG));
        assert!(pods
            .iter()
            .all(|(n, _)| hash_of(&before, n) == hash_of(&twice, n)));
    }

    #[test]
    fn a_config_of_another_namespace_is_not_read() {
        let other_ns = CONFIG.replace("namespace: a", "namespace: b");
        let (objects, findings) = run(&format!(
            "{other_ns}{}",
            deployment(
                "web",
                "      containers: [{name: c, image: x, envFrom: [{configMapRef: {name: web}}]}]\n"
            )
        ));
        assert_eq!(hash_of(&objects, "web"), None);
        assert!(findings.is_empty());
    }

    #[test]
    fn cron_jobs_and_stateful_sets_get_it_and_jobs_and_pods_do_not() {
        let pod = "{containers: [{name: c, image: x, envFrom: [{configMapRef: {name: web}}]}]}";
        let (objects, findings) = run(&format!(
            "{CONFIG}---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: cron, namespace: a}}\nspec:\n  schedule: '@daily'\n  jobTemplate: {{spec: {{template: {{spec: {pod}}}}}}}\n---\napiVersion: batch/v1\nkind: Job\nmetadata: {{name: job, namespace: a}}\nspec: {{template: {{spec: {pod}}}}}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: sts, namespace: a}}\nspec: {{template: {{spec: {pod}}}}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: pod, namespace: a}}\nspec: {pod}\n"
        ));
        for name in ["cron", "sts"] {
            assert!(hash_of(&objects, name).is_some(), "{name}");
        }
        let job = objects.iter().find(|o| o.kind() == "Job").unwrap();
        assert!(
            !serde_json::to_string(&job.object)
                .unwrap()
                .contains(ANNOTATION),
            "a Job's template is immutable: {:?}",
            job.object
        );
        assert_eq!(findings.len(), 2, "{findings:?}");
        let cron = findings
            .iter()
            .find(|f| f.object.as_ref().unwrap().name == "cron")
            .unwrap();
        assert_eq!(
            cron.field.as_deref(),
            Some("spec.jobTemplate.spec.template.metadata.annotations.nixernetes.io/config-hash")
        );
        let pod = objects.iter().find(|o| o.kind() == "Pod").unwrap();
        assert!(pod
            .annotations()
            .is_none_or(|a| !a.contains_key(ANNOTATION)));
    }

    #[test]
    fn a_written_value_is_kept_and_pass_through_needs_fix() {
        let pod = |ann: &str| {
            format!("{CONFIG}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: a}}\nspec:\n  template:\n    metadata: {{annotations: {{{ann}}}}}\n    spec: {{containers: [{{name: c, image: x, envFrom: [{{configMapRef: {{name: web}}}}]}}]}}\n")
        };
        let (objects, findings) = run(&pod("nixernetes.io/config-hash: 'off'"));
        assert_eq!(hash_of(&objects, "web"), Some("off"));
        assert!(findings.is_empty(), "{findings:?}");
        let (objects, findings) = run(&pod("nixernetes.io/config-hash: mine"));
        assert_eq!(hash_of(&objects, "web"), Some("mine"));
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].message.starts_with("not fixed:"),
            "{}",
            findings[0].message
        );
        assert!(findings[0].proposed.is_none());

        // Without --fix, or with the pass turned off, a pass-through object is left alone.
        let mut objects = parse(&pod(""));
        let produced = vec![None; objects.len()];
        let mut findings = Vec::new();
        add_config_hashes(&mut objects, &produced, &Context::default(), &mut findings);
        assert_eq!(hash_of(&trees(&objects), "web"), None);
        let mut ctx = Context::default();
        ctx.policy.fix_pass_through = true;
        ctx.config_hash = false;
        add_config_hashes(&mut objects, &produced, &ctx, &mut findings);
        assert_eq!(hash_of(&trees(&objects), "web"), None);
        assert!(findings.is_empty());
    }
}
