//! The kustomization that runs the legacy plugin, read by the plugin itself.
//!
//! Kustomize runs one plugin process per generator config and tells it nothing about the
//! others: argv[1] is a temporary copy of the config (`kust-plugin-config-…`), and the
//! environment holds `KUSTOMIZE_PLUGIN_CONFIG_ROOT`, the directory of the kustomization (also
//! the working directory). To give what `render` of the same files gives (the namespace-wide
//! NetworkPolicies once per namespace, policies between modules of different configs, errors at
//! the user's file and line), each run reads the kustomization's `generators:` itself and
//! renders the whole set. This module only reads; it never interprets module kinds.

use crate::finding::Finding;
use crate::resource::{Origin, Resource};
use crate::source;
use crate::yaml;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file names kustomize recognises, in its order.
const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The parts of a kustomization the plugin needs.
#[derive(Debug)]
pub struct Kustomization {
    /// The kustomization file.
    pub file: PathBuf,
    /// Its `namespace:`, which kustomize sets on every namespaced object after the generators.
    pub namespace: Option<String>,
    generators: Vec<String>,
    transformers: Vec<String>,
}

/// One of the plugin lists of a kustomization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Generators,
    Transformers,
}

impl List {
    fn key(self) -> &'static str {
        match self {
            List::Generators => "generators",
            List::Transformers => "transformers",
        }
    }
}

/// Why the configs of a list could not all be read: the plugin then runs on its own config
/// alone, as it did before it read kustomizations.
#[derive(Debug, PartialEq)]
pub struct Unreadable(pub String);

/// The kustomization in `root`, if there is one and it can be read.
pub fn find(root: &Path) -> Result<Option<Kustomization>, Unreadable> {
    let Some(file) = FILE_NAMES
        .iter()
        .map(|n| root.join(n))
        .find(|p| p.is_file())
    else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Unreadable(format!("reading {}: {e}", file.display())))?;
    let value = yaml::parse_one(&text)
        .map_err(|e| Unreadable(format!("{}: {}", file.display(), e.message)))?;
    let strings = |key: &str| -> Result<Vec<String>, Unreadable> {
        match value.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str().map(str::to_string).ok_or_else(|| {
                        Unreadable(format!("{}: {key}: not a list of strings", file.display()))
                    })
                })
                .collect(),
            Some(_) => Err(Unreadable(format!("{}: {key}: not a list", file.display()))),
        }
    };
    Ok(Some(Kustomization {
        namespace: value
            .get("namespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        generators: strings("generators")?,
        transformers: strings("transformers")?,
        file,
    }))
}

impl Kustomization {
    fn root(&self) -> &Path {
        self.file.parent().unwrap_or(Path::new("."))
    }

    /// The `nixernetes.io` configs of `list`, in the order kustomize runs them: inline entries
    /// first, then the files, each file's documents in order (kustomize's
    /// `configureExternalGenerators`). Each config's origin is the user's file and line. `Err`
    /// holds the findings of a file that does not parse; `Ok(Err)` says why the list cannot be
    /// known in full (an entry that is a directory, a URL, or missing).
    pub fn configs(&self, list: List) -> Result<Result<Vec<Resource>, Unreadable>, Vec<Finding>> {
        let entries = match list {
            List::Generators => &self.generators,
            List::Transformers => &self.transformers,
        };
        let mut inline = Vec::new();
        let mut files = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            // As kustomize decides: an entry that parses as objects is an inline config.
            let name = format!("{} {}[{i}]", self.file.display(), list.key());
            match source::parse_text(entry, &name) {
                Ok(objects) if !objects.is_empty() => inline.extend(objects),
                _ => files.push(entry),
            }
        }
        let mut out = inline;
        for entry in files {
            let path = self.root().join(entry);
            match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => {}
                Ok(_) => {
                    return Ok(Err(Unreadable(format!(
                        "{} entry {entry} is a directory (a kustomization of its own)",
                        list.key()
                    ))))
                }
                Err(_) => {
                    return Ok(Err(Unreadable(format!(
                        "{} entry {entry} is not a file here",
                        list.key()
                    ))))
                }
            }
            let name = path.display().to_string();
            let text = std::fs::read(&path)
                .map_err(|e| vec![Finding::error(format!("reading {name}: {e}"))])
                .and_then(|b| source::decode(b, &name).map_err(|f| vec![f]))?;
            out.extend(source::parse_text(&text, &name)?);
        }
        out.retain(Resource::is_module);
        distinct_origins(&mut out);
        Ok(Ok(out))
    }
}

/// Items of one `v1 List` document share the document's origin; the plugin tells its config's
/// children from the others by origin, so each item gets a place of its own.
fn distinct_origins(configs: &mut [Resource]) {
    for i in 1..configs.len() {
        let shared = configs[..i].iter().any(|c| same_place(c, &configs[i]));
        if shared {
            let o = &configs[i].origin;
            configs[i].origin = Origin {
                file: Arc::from(format!("{} (List item {i})", o.file)),
                ..o.clone()
            };
        }
    }
}

/// Whether two resources come from the same document.
pub fn same_place(a: &Resource, b: &Resource) -> bool {
    a.origin.file == b.origin.file && a.origin.index == b.origin.index
}

/// Where `config` (the object kustomize passed) is in `configs`: the same apiVersion, kind,
/// namespace and name, which kustomize keeps unique among a list's configs.
pub fn position(configs: &[Resource], config: &Resource) -> Option<usize> {
    configs.iter().position(|c| {
        c.api_version() == config.api_version()
            && c.kind() == config.kind()
            && c.name() == config.name()
            && c.namespace() == config.namespace()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).expect("write");
    }

    const WEB: &str = "apiVersion: nixernetes.io/v1alpha1\nkind: WebApp\nmetadata: {name: web, namespace: shop}\nspec: {image: \"nginx:1.27\"}\n";

    #[test]
    fn configs_come_inline_first_then_files_in_order_with_the_users_lines() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        write(
            dir,
            "a.yaml",
            &format!("{WEB}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: other-plugin}}\n---\napiVersion: nixernetes.io/v1alpha1\nkind: Worker\nmetadata: {{name: jobs}}\nspec: {{image: \"busybox:1\"}}\n"),
        );
        write(
            dir,
            "kustomization.yaml",
            "namespace: store\ngenerators:\n- a.yaml\n- |\n  apiVersion: nixernetes.io/v1alpha1\n  kind: Redis\n  metadata: {name: cache}\n",
        );
        let k = find(dir).expect("readable").expect("found");
        assert_eq!(k.namespace.as_deref(), Some("store"));
        let configs = k.configs(List::Generators).expect("parses").expect("known");
        let kinds: Vec<&str> = configs.iter().map(|c| c.kind()).collect();
        assert_eq!(kinds, ["Redis", "WebApp", "Worker"]);
        assert!(configs[1].origin.file.ends_with("/a.yaml"));
        assert_eq!((configs[1].origin.line, configs[2].origin.line), (1, 10));
        assert!(configs[0]
            .origin
            .file
            .ends_with("kustomization.yaml generators[1]"));
        assert!(k
            .configs(List::Transformers)
            .expect("ok")
            .expect("ok")
            .is_empty());
    }

    #[test]
    fn a_directory_entry_makes_the_list_unknown() {
        let tmp = tempfile::tempdir().expect("tmp");
        std::fs::create_dir(tmp.path().join("sub")).expect("mkdir");
        write(tmp.path(), "Kustomization", "generators: [sub]\n");
        let k = find(tmp.path()).expect("readable").expect("found");
        let why = k.configs(List::Generators).expect("no parse error");
        assert_eq!(
            why.unwrap_err(),
            Unreadable("generators entry sub is a directory (a kustomization of its own)".into())
        );
    }

    #[test]
    fn no_kustomization_is_none_and_a_bad_one_says_why() {
        let tmp = tempfile::tempdir().expect("tmp");
        assert!(find(tmp.path()).expect("ok").is_none());
        write(tmp.path(), "kustomization.yml", "generators: a.yaml\n");
        let why = find(tmp.path()).unwrap_err();
        assert!(
            why.0.ends_with("kustomization.yml: generators: not a list"),
            "{why:?}"
        );
    }

    #[test]
    fn list_items_get_places_of_their_own() {
        let tmp = tempfile::tempdir().expect("tmp");
        write(
            tmp.path(),
            "list.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: nixernetes.io/v1alpha1, kind: Redis, metadata: {name: a}}\n- {apiVersion: nixernetes.io/v1alpha1, kind: Redis, metadata: {name: b}}\n",
        );
        write(
            tmp.path(),
            "kustomization.yaml",
            "generators: [list.yaml]\n",
        );
        let k = find(tmp.path()).expect("ok").expect("found");
        let configs = k.configs(List::Generators).expect("ok").expect("ok");
        assert_eq!(configs.len(), 2);
        assert!(!same_place(&configs[0], &configs[1]));
        assert_eq!(position(&configs, &configs[1]), Some(1));
    }
}
