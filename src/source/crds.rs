//! `--crd DIR|FILE`: the custom resource schemas a run validates against, read from
//! CustomResourceDefinition manifests (YAML or JSON) or from JSON Schema files laid out as the
//! CRDs catalog lays them out, `<group>/<kind>_<version>.json` (kubeconform's
//! `{fullgroup}/{kind}_{version}.json`). A directory is read recursively, in sorted order, as
//! manifest directories are read; other files (a LICENSE, a README) are skipped, objects that
//! are not CRDs too.

use crate::finding::Finding;
use crate::schema::resources::SchemaSource;
use serde_json::Value;
use std::path::Path;

/// The schema sources of `paths`, or every error found reading them.
pub fn read(paths: &[String]) -> Result<Vec<SchemaSource>, Vec<Finding>> {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for input in paths {
        if input == "-" {
            errors.push(Finding::error(
                "--crd reads files and directories, not stdin (-): give the CRDs' path",
            ));
            continue;
        }
        let path = Path::new(input);
        let before = sources.len();
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                let mut files = Vec::new();
                if let Err(e) = super::files::walk(path, &mut files) {
                    errors.push(Finding::error(format!("--crd {input}: {e}")));
                }
                for f in files {
                    read_file(&f, &mut sources, &mut errors);
                }
            }
            Ok(_) => read_file(path, &mut sources, &mut errors),
            Err(e) => errors.push(Finding::error(format!("--crd {input}: {e}"))),
        }
        if sources.len() == before && errors.is_empty() {
            errors.push(Finding::error(format!(
                "--crd {input}: no CustomResourceDefinition and no JSON Schema file (<group>/<kind>_<version>.json) found there"
            )));
        }
    }
    if errors.is_empty() {
        Ok(sources)
    } else {
        Err(errors)
    }
}

fn extension(path: &Path) -> &str {
    path.extension().and_then(|e| e.to_str()).unwrap_or("")
}

fn read_file(path: &Path, sources: &mut Vec<SchemaSource>, errors: &mut Vec<Finding>) {
    let name = path.to_string_lossy().into_owned();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            errors.push(Finding::error(format!("--crd {name}: {e}")));
            return;
        }
    };
    if extension(path) == "json" {
        match serde_json::from_str::<Value>(&text) {
            Ok(v) if v.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition") => {
                sources.push(SchemaSource::Crd(v));
            }
            Ok(schema) => match catalog_name(path) {
                Some((api_version, kind)) => sources.push(SchemaSource::JsonFile {
                    api_version,
                    kind,
                    schema,
                }),
                None => errors.push(Finding::error(format!(
                    "--crd {name}: a JSON Schema file must be named <group>/<kind>_<version>.json (as in the CRDs catalog), so that its kind and version are known"
                ))),
            },
            Err(e) => errors.push(Finding::error(format!("--crd {name}: invalid JSON: {e}"))),
        }
        return;
    }
    match super::parse_text(&text, &name) {
        Ok(resources) => sources.extend(
            resources
                .into_iter()
                .filter(|r| r.kind() == "CustomResourceDefinition")
                .map(|r| SchemaSource::Crd(Value::Object(r.object))),
        ),
        Err(mut e) => errors.append(&mut e),
    }
}

/// `(apiVersion, lowercase kind)` of a catalog file `<group>/<kind>_<version>.json`.
fn catalog_name(path: &Path) -> Option<(String, String)> {
    let stem = path.file_stem()?.to_str()?;
    let group = path.parent()?.file_name()?.to_str()?;
    let (kind, version) = stem.rsplit_once('_')?;
    if kind.is_empty() || version.is_empty() || !group.contains('.') {
        return None;
    }
    Some((format!("{group}/{version}"), kind.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_names_give_kind_and_version() {
        assert_eq!(
            catalog_name(Path::new("crds/kafka.strimzi.io/kafka_v1beta2.json")),
            Some(("kafka.strimzi.io/v1beta2".into(), "kafka".into()))
        );
        assert_eq!(catalog_name(Path::new("x/kafka.json")), None);
        assert_eq!(catalog_name(Path::new("schemas/kafka_v1.json")), None);
    }

    #[test]
    fn reads_crd_yaml_and_catalog_files() {
        let dir = tempfile::tempdir().unwrap();
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema: {openAPIV3Schema: {type: object}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n";
        std::fs::write(dir.path().join("widget.yaml"), crd).unwrap();
        std::fs::create_dir(dir.path().join("other.io")).unwrap();
        std::fs::write(
            dir.path().join("other.io/gadget_v1.json"),
            "{\"type\": \"object\"}",
        )
        .unwrap();
        std::fs::write(dir.path().join("LICENSE"), "MIT").unwrap();
        let got = read(&[dir.path().to_string_lossy().into_owned()]).unwrap();
        assert_eq!(got.len(), 2);
        let empty = tempfile::tempdir().unwrap();
        let err = read(&[empty.path().to_string_lossy().into_owned()]).unwrap_err();
        assert!(
            err[0].message.contains("no CustomResourceDefinition"),
            "{err:?}"
        );
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{\"type\": \"object\"}").unwrap();
        let err = read(&[bad.to_string_lossy().into_owned()]).unwrap_err();
        assert!(
            err[0].message.contains("<group>/<kind>_<version>.json"),
            "{err:?}"
        );
    }
}
