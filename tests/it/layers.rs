//! The layering of `src/`: a top-level module imports only from layers below it, so the tree has
//! no import cycles and kinds cannot reach the engine, the renderers or the CLI. Test code
//! (after the first `#[cfg(test)]` of a file, or a whole file that starts `#![cfg(test)]`) may
//! reach anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top-level modules of `src/`, lowest layer first. A module may use `crate::X` only for an `X`
/// of a lower layer.
const LAYERS: &[&[&str]] = &[
    &["validate", "resource"],
    &["yaml"],
    &["types", "finding"],
    &["settings", "schema"],
    &["source", "kind", "rules"],
    &["userkinds"],
    &["policy"],
    &["modules"],
    &["engine"],
    &["report", "cluster", "docs"],
    &["diff"],
    &["apply"],
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `crate::X` names used in `text` before its first `#[cfg(test)]` (none in a test-only
/// file, one with an inner `#![cfg(test)]`).
fn imports(text: &str) -> Vec<String> {
    if text.contains("\n#![cfg(test)]") || text.starts_with("#![cfg(test)]") {
        return Vec::new();
    }
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        out.push(name);
    }
    out
}

#[test]
fn modules_import_only_from_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = BTreeMap::new();
    let mut checked = 0;
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_string())
            .unwrap_or_default();
        if matches!(top.as_str(), "lib" | "main") {
            continue;
        }
        let own =
            layer_of(&top).unwrap_or_else(|| panic!("src/{top} is in no layer: add it to LAYERS"));
        checked += 1;
        let text = std::fs::read_to_string(file).expect("readable");
        for dep in imports(&text) {
            if dep == top || dep == "VERSION" {
                continue;
            }
            let Some(theirs) = layer_of(&dep) else {
                continue;
            };
            if theirs >= own {
                violations
                    .entry(format!("{} uses crate::{dep}", rel.display()))
                    .or_insert(());
            }
        }
    }
    assert!(checked > 50, "only {checked} files checked");
    assert!(
        violations.is_empty(),
        "imports from a layer that is not lower:\n{}",
        violations.keys().cloned().collect::<Vec<_>>().join("\n")
    );
}
