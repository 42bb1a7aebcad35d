//! Files, directories and stdin as sources (`render PATH... -f FILE... -`).

use super::{decode, parse_text_as};
use crate::finding::Finding;
use crate::resource::{Identity, Origin, Resource};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Reads every input, as one set in the order of their paths (see [`read_each`]). Directories
/// are walked recursively in sorted order, taking
/// `*.yaml`, `*.yml` and `*.json` and skipping Kustomize's own files and hidden entries.
/// All errors of all inputs are collected; any error fails the whole read (see [`read_each`]
/// for a reader that keeps what it could read).
pub fn read_all(inputs: &[String], stdin: &mut dyn Read) -> Result<Vec<Resource>, Vec<Finding>> {
    let (resources, errors) = read_each(inputs, stdin);
    if errors.is_empty() {
        Ok(resources)
    } else {
        Err(errors)
    }
}

/// Reads every input as [`read_all`] does, but keeps the resources of every file that could be
/// read beside the errors of those that could not (a file with any error contributes none of
/// its objects): what a linter needs to check the rest.
pub fn read_each(inputs: &[String], stdin: &mut dyn Read) -> (Vec<Resource>, Vec<Finding>) {
    read_each_as(inputs, stdin, &|r| r)
}

/// [`read_all`], each object turned into a `T` by `convert` as soon as it is read (e.g.
/// frozen, `engine::freeze`).
pub fn read_all_as<T: Identity>(
    inputs: &[String],
    stdin: &mut dyn Read,
    convert: &dyn Fn(Resource) -> T,
) -> Result<Vec<T>, Vec<Finding>> {
    let (resources, errors) = read_each_as(inputs, stdin, convert);
    if errors.is_empty() {
        Ok(resources)
    } else {
        Err(errors)
    }
}

/// [`read_each`], each object turned into a `T` by `convert` as soon as it is read.
fn read_each_as<T: Identity>(
    inputs: &[String],
    stdin: &mut dyn Read,
    convert: &dyn Fn(Resource) -> T,
) -> (Vec<T>, Vec<Finding>) {
    let mut resources = Vec::new();
    let mut errors = Vec::new();
    let mut stdin_used = false;
    for input in inputs {
        if input == "-" {
            if stdin_used {
                errors.push(Finding::error("stdin (-) given more than once"));
                continue;
            }
            stdin_used = true;
            let mut buf = Vec::new();
            match stdin.read_to_end(&mut buf) {
                Ok(_) => read_bytes(buf, "-", convert, &mut resources, &mut errors),
                Err(e) => errors.push(Finding::error(format!("reading stdin: {e}"))),
            }
            continue;
        }
        let path = Path::new(input);
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                let mut files = Vec::new();
                if let Err(e) = walk(path, &mut files) {
                    errors.push(Finding::error(format!("reading directory {input}: {e}")));
                }
                if files.is_empty() {
                    errors.push(Finding::error(format!(
                        "{input}: no *.yaml, *.yml or *.json files in this directory"
                    )));
                }
                for f in files {
                    read_file(&f, convert, &mut resources, &mut errors);
                }
            }
            Ok(_) => read_file(path, convert, &mut resources, &mut errors),
            Err(e) => errors.push(Finding::error(format!("{input}: {e}"))),
        }
    }
    // One set, whatever the order of the inputs: in the order of their paths as a directory
    // scan sorts them, each file's documents in their order (the sorts are stable). So the same
    // files give the same bytes, findings and reports included, in any order on the command line.
    // (Already in order, as one file or files given in order are, it is not sorted: a sort
    // needs room for half the list.)
    let order = |a: &T, b: &T| Path::new(a.file()).cmp(Path::new(b.file()));
    if !resources.is_sorted_by(|a, b| order(a, b).is_le()) {
        resources.sort_by(order);
    }
    errors.sort_by(|a, b| by_path(a.origin.as_ref()).cmp(&by_path(b.origin.as_ref())));
    (resources, errors)
}

/// The path of an origin, compared as a directory scan compares paths (component by component).
fn by_path(origin: Option<&Origin>) -> Option<&Path> {
    origin.map(|o| Path::new(&*o.file))
}

fn read_file<T>(
    path: &Path,
    convert: &dyn Fn(Resource) -> T,
    resources: &mut Vec<T>,
    errors: &mut Vec<Finding>,
) {
    let name = path.to_string_lossy();
    match std::fs::read(path) {
        Ok(bytes) => read_bytes(bytes, &name, convert, resources, errors),
        Err(e) => errors.push(Finding::error(format!("reading {name}: {e}")).at(Origin {
            file: Arc::from(&*name),
            index: 0,
            line: 0,
        })),
    }
}

fn read_bytes<T>(
    bytes: Vec<u8>,
    name: &str,
    convert: &dyn Fn(Resource) -> T,
    resources: &mut Vec<T>,
    errors: &mut Vec<Finding>,
) {
    match decode(bytes, name) {
        Ok(text) => match parse_text_as(&text, name, convert) {
            // The first file's list becomes the list (a copy would hold both at once).
            Ok(r) if resources.is_empty() => *resources = r,
            Ok(mut r) => resources.append(&mut r),
            Err(mut e) => errors.append(&mut e),
        },
        Err(e) => errors.push(e),
    }
}

/// Whether a directory entry is read as manifests.
fn is_manifest(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let kustomize = matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    );
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    !kustomize && matches!(ext, "yaml" | "yml" | "json")
}

/// The manifest files under `dir` (`*.yaml`, `*.yml`, `*.json`, no kustomization, no hidden
/// entries), recursively, in sorted order.
pub(super) fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if is_manifest(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Test support: the manifests of the project's examples, policy test cases, well-formed
/// fixtures and Kustomize examples, in sorted order.
#[cfg(test)]
pub(crate) fn sample_files() -> Vec<PathBuf> {
    let mut files = crate_manifests(&["examples", "tests/policy", "tests/fixtures", "krm"]);
    // Malformed input (alias bombs, a 20 MB scalar) renders nothing.
    files.retain(|f| !f.parent().is_some_and(|p| p.ends_with("fixtures/bad")));
    files
}

/// Test support, for the integration tests too: every file a directory scan reads as manifests
/// under `dirs` (relative to the crate's source root), malformed ones included, in sorted order.
#[doc(hidden)]
pub fn crate_manifests(dirs: &[&str]) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in dirs {
        walk(&root.join(dir), &mut files).expect("sample directory is readable");
    }
    files.sort();
    files
}
