//! Field lines: moves a finding's origin from the line its document starts on to the line of the
//! field it names (or of the nearest enclosing key the text holds).
//!
//! Only the files that have such findings are read again, each once, and only their documents
//! with findings are parsed ([`crate::yaml::locate`]), each once for all of its fields (by the
//! fast reader, or by the event parser only as far as they need); a clean run reads nothing. Stdin cannot be read twice: its caller keeps the text ([`Kept`]).
//! A finding is moved only when its path is about the text of its document: it names no object,
//! or the document (or exactly one item of a list document) is that object. Findings about
//! objects a module resource generated carry the module resource's origin, but their paths are
//! in the generated object: they keep the document's line. This pass must not change anything
//! but `origin.line`, is not run on KRM ResourceLists (their lines are not the user's), and
//! when in doubt (a file that changed, an unreadable document) leaves the line as it is.

use crate::finding::{Finding, Severity};
use crate::resource::ObjectRef;
use crate::yaml::locate::{Documents, Outline};
use crate::yaml::skim::Skim;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

/// A reader that keeps a copy of what is read through it, so that stdin's text can be handed
/// to [`field_lines`] after the sources have consumed it.
pub struct Kept<R> {
    inner: R,
    bytes: Vec<u8>,
}

impl<R: Read> Kept<R> {
    /// Wraps `inner`; nothing is kept until something is read.
    pub fn new(inner: R) -> Self {
        Kept {
            inner,
            bytes: Vec::new(),
        }
    }

    /// What was read, if it was UTF-8 text (the sources refuse anything else).
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }
}

impl<R: Read> Read for Kept<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Most documents re-read to place policy-check findings. Input errors (a spec, a document)
/// are always placed: they are what a person fixes by hand, and there are few. Check findings
/// on more documents than this keep their document's line, so that a large set that fails a
/// check everywhere costs one parse, not two.
pub const CHECK_DOCUMENTS_BUDGET: usize = 1000;

/// The note to print when `unplaced` check findings kept their document's line.
pub fn budget_note(unplaced: usize) -> Option<String> {
    (unplaced > 0).then(|| {
        format!(
            "note: {unplaced} check findings name their document's first line: they are on more than {CHECK_DOCUMENTS_BUDGET} documents, and placing them would read every one twice"
        )
    })
}

/// Moves the origin line of every finding at or above `min` that has a field path onto that
/// field's line (check findings only within [`CHECK_DOCUMENTS_BUDGET`]). Files are read from
/// disk by the name their origins carry; `-` is `stdin` (left alone when `None`). Returns how
/// many check findings kept their document's line because of the budget.
pub fn field_lines(findings: &mut [Finding], stdin: Option<&str>, min: Severity) -> usize {
    let mut wanted: Vec<(Arc<str>, usize, usize)> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.severity >= min && f.field.as_deref().is_some_and(|p| !p.is_empty()))
        .filter_map(|(i, f)| {
            let o = f
                .origin
                .as_ref()
                .filter(|o| o.line > 0 && !o.file.is_empty())?;
            Some((o.file.clone(), o.line, i))
        })
        .collect();
    if wanted.is_empty() {
        return 0;
    }
    wanted.sort();
    let checked_documents = wanted
        .iter()
        .filter(|w| findings[w.2].check.is_some())
        .map(|w| (&w.0, w.1))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let mut unplaced = 0;
    if checked_documents > CHECK_DOCUMENTS_BUDGET {
        let before = wanted.len();
        wanted.retain(|w| findings[w.2].check.is_none());
        unplaced = before - wanted.len();
    }
    for file in wanted.chunk_by(|a, b| a.0 == b.0) {
        let name = &*file[0].0;
        let read;
        let text = if name == "-" {
            match stdin {
                Some(t) => t,
                None => continue,
            }
        } else {
            match std::fs::read_to_string(name) {
                Ok(t) => {
                    read = t;
                    &read
                }
                Err(_) => continue,
            }
        };
        let mut documents = Documents::new(text);
        for doc in file.chunk_by(|a, b| a.1 == b.1) {
            let line = doc[0].1;
            let Some(text) = documents.at(line) else {
                continue;
            };
            let moved = lines(text, doc.iter().map(|&(_, _, i)| &findings[i]));
            for (&(_, _, i), at) in doc.iter().zip(moved) {
                if let (Some(o), Some(at)) = (findings[i].origin.as_mut(), at) {
                    o.line = line + at - 1;
                }
            }
        }
    }
    unplaced
}

/// What identifies a document as the object of a finding.
const IDENTITY: [&str; 3] = ["apiVersion", "kind", "metadata.name"];

/// The line in `text` (one document) of each finding's field, `None` to keep its line.
fn lines<'f>(
    text: &str,
    findings: impl Iterator<Item = &'f Finding> + Clone,
) -> Vec<Option<usize>> {
    // Most manifests are skimmed: only the lines on the paths are read.
    if let Some(lines) = Skim::new(text).and_then(|skim| skimmed(&skim, findings.clone())) {
        return lines;
    }
    // Else the fast reader reads it whole at a fraction of the event parser's cost; the
    // parser reads the rest, as far as the paths need.
    let outline = Outline::from_fast(text).or_else(|| {
        let mut paths = IDENTITY.to_vec();
        paths.push("items");
        paths.extend(findings.clone().filter_map(|f| f.field.as_deref()));
        // A list's items are found by their own kind and name: they need all of it.
        match Outline::parse_for(text, &paths) {
            Some(o) if is_list(&o) => Outline::parse(text),
            o => o,
        }
    });
    let Some(outline) = outline else {
        return findings.map(|_| None).collect();
    };
    let mut document = Document::new(&outline);
    findings
        .map(|f| {
            let field = f.field.as_deref()?;
            let prefix = document.prefix(f.object.as_deref())?;
            let at = if prefix.is_empty() {
                outline.locate(field)
            } else {
                outline.locate(&format!("{prefix}{field}"))
            };
            Some(at.line)
        })
        .collect()
}

/// [`lines`] by a skim of the document; `None` when the skim declines (or for a list,
/// whose items are found by their own kind and name in the whole of it).
fn skimmed<'f>(
    skim: &Skim<'_>,
    findings: impl Iterator<Item = &'f Finding>,
) -> Option<Vec<Option<usize>>> {
    if skim.locate("items")?.found {
        return None;
    }
    let kind = skim.scalar("kind")?;
    let name = skim.scalar("metadata.name")?;
    findings
        .map(|f| {
            let Some(field) = f.field.as_deref() else {
                return Some(None);
            };
            let here = f.object.as_deref().is_none_or(|o| {
                kind.as_deref() == Some(o.kind.as_str()) && name.as_deref() == Some(o.name.as_str())
            });
            if !here {
                return Some(None);
            }
            Some(Some(skim.locate(field)?.line))
        })
        .collect()
}

/// Whether the document is a list (an object with `items`, whose items `source::flatten`
/// reads as objects, whatever the list's kind).
fn is_list(outline: &Outline<'_>) -> bool {
    outline.sequence_len("items").is_some()
}

/// The items of a list by kind and name: their index and written namespace.
type Items<'o> = HashMap<(&'o str, &'o str), Vec<(usize, Option<&'o str>)>>;

/// One document and, when it is a list, its items (read when first needed).
struct Document<'o, 'a> {
    outline: &'o Outline<'a>,
    kind: Option<&'o str>,
    name: Option<&'o str>,
    items: Option<Items<'o>>,
}

impl<'o, 'a> Document<'o, 'a> {
    fn new(outline: &'o Outline<'a>) -> Self {
        Document {
            outline,
            kind: outline.scalar("kind"),
            name: outline.scalar("metadata.name"),
            items: None,
        }
    }

    /// What goes before a finding's path to make it a path in this document: `""` for the
    /// document itself (or a finding about no object), `items[i].` for an item of a List;
    /// `None` when the object is not in this text (a module resource's child).
    fn prefix(&mut self, object: Option<&ObjectRef>) -> Option<String> {
        let Some(object) = object else {
            return Some(String::new());
        };
        if self.kind == Some(&object.kind) && self.name == Some(&object.name) {
            return Some(String::new());
        }
        if !is_list(self.outline) {
            return None;
        }
        let outline = self.outline;
        let items = self.items.get_or_insert_with(|| {
            let mut items = Items::new();
            for i in 0..outline.sequence_len("items").unwrap_or(0) {
                let at = |field: &str| outline.scalar(&format!("items[{i}].{field}"));
                if let (Some(kind), Some(name)) = (at("kind"), at("metadata.name")) {
                    items
                        .entry((kind, name))
                        .or_default()
                        .push((i, at("metadata.namespace")));
                }
            }
            items
        });
        let same = items.get(&(object.kind.as_str(), object.name.as_str()))?;
        // Objects of one kind and name differ by namespace (written, or given later by flags).
        let mut candidates = same
            .iter()
            .filter(|(_, ns)| same.len() == 1 || *ns == object.namespace.as_deref());
        let (index, _) = candidates.next()?;
        if candidates.next().is_some() {
            return None;
        }
        Some(format!("items[{index}]."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Origin;

    fn finding(line: usize, object: Option<(&str, &str)>, field: &str) -> Finding {
        let mut f = Finding::error("x")
            .at(Origin {
                file: Arc::from("-"),
                index: 0,
                line,
            })
            .field(field);
        f.object = object.map(|(kind, name)| {
            Arc::new(ObjectRef {
                api_version: "v1".into(),
                kind: kind.into(),
                name: name.into(),
                namespace: None,
            })
        });
        f
    }

    const STREAM: &str = "\
# a stream
apiVersion: nixernetes.io/v1alpha1
kind: WebApp
metadata:
  name: shop
spec:
  ports:
    - name: http
      port: 70000
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: a
    data:
      k: v
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: b
      labels: {app: b}
  - apiVersion: v1
    kind: Service
    metadata: {name: b}
";

    #[test]
    fn findings_move_to_their_fields() {
        let mut findings = vec![
            finding(2, Some(("WebApp", "shop")), "spec.ports[0].port"),
            finding(2, None, "spec.ports[0].name"),
            // A child of the WebApp: its path is in the Deployment, not in this text.
            finding(2, Some(("Deployment", "shop")), "spec.replicas"),
            // Items of a List, found by kind and name.
            finding(11, Some(("ConfigMap", "b")), "metadata.labels.app"),
            finding(11, Some(("Service", "b")), "metadata.name"),
            finding(11, Some(("ConfigMap", "a")), "metadata.namespace"),
            finding(11, None, "items[0].data.k"),
            finding(11, Some(("Secret", "a")), "data"),
            // No field, no line, or below the wanted severity: untouched.
            finding(2, Some(("WebApp", "shop")), ""),
            finding(0, None, "spec"),
            Finding::info("x")
                .at(finding(2, None, "spec").origin.unwrap())
                .field("spec"),
        ];
        field_lines(&mut findings, Some(STREAM), Severity::Warning);
        let lines: Vec<usize> = findings
            .iter()
            .map(|f| f.origin.as_ref().unwrap().line)
            .collect();
        assert_eq!(lines, [9, 8, 2, 24, 27, 16, 19, 11, 2, 0, 2]);
        let mut again = findings.clone();
        field_lines(&mut again, None, Severity::Info);
        assert_eq!(again, findings, "without stdin's text nothing moves");
    }

    /// Check findings on more documents than the budget keep their lines (and are counted);
    /// input errors are placed whatever their number.
    #[test]
    fn check_findings_past_the_budget_keep_their_document_line() {
        let docs = CHECK_DOCUMENTS_BUDGET + 1;
        let text: String = (0..docs)
            .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n"))
            .collect();
        let mut findings: Vec<Finding> = (0..docs)
            .map(|i| {
                let mut f = finding(
                    5 * i + 2,
                    Some(("ConfigMap", &format!("c{i}"))),
                    "metadata.name",
                );
                f.check = Some("some-check");
                f
            })
            .collect();
        findings.push(finding(2, Some(("ConfigMap", "c0")), "metadata.name"));
        assert_eq!(
            field_lines(&mut findings, Some(&text), Severity::Info),
            docs
        );
        let lines: Vec<usize> = findings
            .iter()
            .map(|f| f.origin.as_ref().unwrap().line)
            .collect();
        assert_eq!(
            lines[..3],
            [2, 7, 12],
            "check findings keep their document lines"
        );
        assert_eq!(lines[docs], 5, "the input error moves to its field");
        // Within the budget, check findings move too.
        let mut few: Vec<Finding> = findings[..3].to_vec();
        assert_eq!(field_lines(&mut few, Some(&text), Severity::Info), 0);
        let lines: Vec<usize> = few
            .iter()
            .map(|f| f.origin.as_ref().unwrap().line)
            .collect();
        assert_eq!(lines, [5, 10, 15]);
    }

    #[test]
    fn changed_or_unreadable_text_keeps_the_line() {
        let mut findings = vec![
            finding(5, Some(("WebApp", "shop")), "spec.ports"),
            finding(40, None, "spec"),
        ];
        field_lines(&mut findings, Some("a: [unclosed\n"), Severity::Info);
        field_lines(&mut findings, Some("short: 1\n"), Severity::Info);
        let mut file = finding(3, None, "spec");
        file.origin.as_mut().unwrap().file = Arc::from("/nonexistent/nixernetes/x.yaml");
        findings.push(file);
        field_lines(&mut findings, None, Severity::Info);
        let lines: Vec<usize> = findings
            .iter()
            .map(|f| f.origin.as_ref().unwrap().line)
            .collect();
        assert_eq!(lines, [5, 40, 3]);
    }

    #[test]
    fn list_items_of_one_name_are_told_apart_by_namespace() {
        let text = "\
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: x}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: y}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
";
        let mut y = finding(1, Some(("ConfigMap", "a")), "metadata.name");
        Arc::make_mut(y.object.as_mut().unwrap()).namespace = Some("y".into());
        let mut z = y.clone();
        Arc::make_mut(z.object.as_mut().unwrap()).namespace = Some("z".into());
        let mut findings = vec![y, z, finding(1, Some(("ConfigMap", "c")), "metadata.name")];
        field_lines(&mut findings, Some(text), Severity::Info);
        let lines: Vec<usize> = findings
            .iter()
            .map(|f| f.origin.as_ref().unwrap().line)
            .collect();
        assert_eq!(lines, [5, 1, 1]);
    }

    /// Every path of every value the project's manifests hold, written out the way findings
    /// name fields.
    fn paths(value: &serde_json::Value, prefix: &str, out: &mut Vec<(String, Option<String>)>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    out.push((path.clone(), Some(k.clone())));
                    paths(v, &path, out);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let path = format!("{prefix}[{i}]");
                    out.push((path.clone(), None));
                    paths(v, &path, out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_field_of_the_sample_manifests_is_found_on_its_own_line() {
        let (mut fast, mut skimmed, mut documents) = (0, 0, 0);
        let mut checked = 0;
        let mut wrong = Vec::new();
        for file in crate::source::files::sample_files() {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let Ok(docs) = crate::yaml::parse_stream(&text) else {
                continue;
            };
            let lines: Vec<&str> = text.lines().collect();
            for doc in docs {
                let outline =
                    crate::yaml::locate::document_at(&text, doc.line).and_then(Outline::parse);
                let Some(outline) = outline else {
                    wrong.push(format!("{}:{}: no outline", file.display(), doc.line));
                    continue;
                };
                let text_of_doc = crate::yaml::locate::document_at(&text, doc.line).unwrap();
                fast += usize::from(Outline::from_fast(text_of_doc).is_some());
                skimmed += usize::from(Skim::new(text_of_doc).is_some());
                documents += 1;
                for w in crate::yaml::locate::fast_disagreements(text_of_doc) {
                    wrong.push(format!("{}:{}: {w}", file.display(), doc.line));
                }
                let mut all = Vec::new();
                paths(&doc.value, "", &mut all);
                for (n, (path, key)) in all.into_iter().enumerate() {
                    let at = outline.locate(&path);
                    // Reading only what a path needs answers it as reading all of it does.
                    if n % 5 == 0 {
                        let text = crate::yaml::locate::document_at(&text, doc.line).unwrap();
                        let short =
                            Outline::parse_for(text, &[&path, "kind"]).map(|o| o.locate(&path));
                        if short != Some(at) {
                            wrong.push(format!(
                                "{}:{}: {path}: {short:?} != {at:?}",
                                file.display(),
                                doc.line
                            ));
                        }
                    }
                    let line = doc.line + at.line - 1;
                    let written = lines.get(line - 1).copied().unwrap_or("");
                    // A key is on its line as written (plain or quoted).
                    let shown = key.as_deref().is_none_or(|k| written.contains(k));
                    if !at.found || !shown {
                        wrong.push(format!(
                            "{}:{line}: {path} ({at:?}): {written}",
                            file.display()
                        ));
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000, "only {checked} fields checked");
        // The fast outline (compared with the parser's above) reads almost every document.
        assert!(
            fast * 10 > documents * 9,
            "fast outline read {fast} of {documents}"
        );
        assert!(
            skimmed * 10 > documents * 8,
            "skimmed {skimmed} of {documents}"
        );
        eprintln!("{documents} documents: {fast} read by the fast outline, {skimmed} skimmed");
        assert!(
            wrong.is_empty(),
            "{} of {checked}:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }
}
