//! Findings as text. `render` prints one line per finding on stderr
//! (`severity[check]: file:line: Kind/ns/name: field: message`); `check` groups them by object
//! under the document's place, each finding with its own line.

use crate::finding::{Finding, Severity};
use std::fmt::Write;

/// One line per finding, in the order given, written as they come (a large run has 100,000s of
/// findings: their text need not be held at once).
pub fn render<'a>(
    out: &mut dyn std::io::Write,
    findings: impl IntoIterator<Item = &'a Finding>,
) -> std::io::Result<()> {
    for f in findings {
        write!(out, "{}", f.severity.as_str())?;
        if let Some(c) = f.check {
            write!(out, "[{c}]")?;
        }
        out.write_all(b": ")?;
        if let Some(o) = &f.origin {
            write!(out, "{o}: ")?;
        }
        if let Some(obj) = &f.object {
            write!(out, "{obj}: ")?;
        }
        if let Some(field) = &f.field {
            write!(out, "{field}: ")?;
        }
        writeln!(out, "{}", f.message)?;
    }
    Ok(())
}

/// Findings grouped by object (in the order objects first appear) under the place of the
/// object's document (`documents[i]` for `findings[i]`), each with its own line when it has one,
/// then a summary line.
pub fn grouped(
    findings: &[Finding],
    documents: &[Option<String>],
    objects_checked: usize,
) -> String {
    let mut out = String::new();
    let mut groups: Vec<(Option<String>, Vec<&Finding>)> = Vec::new();
    let mut index: std::collections::HashMap<Option<String>, usize> =
        std::collections::HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        let document = documents.get(i).cloned().flatten();
        // A finding about no object (a file that cannot be read) is grouped under its file.
        let key = match (&f.object, &document) {
            (Some(o), Some(origin)) => Some(format!("{o}  ({origin})")),
            (Some(o), None) => Some(o.to_string()),
            (None, _) => f.origin.as_ref().map(|o| o.file.to_string()),
        };
        match index.get(&key) {
            Some(&at) => groups[at].1.push(f),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push((key, vec![f]));
            }
        }
    }
    for (key, list) in &groups {
        let _ = writeln!(out, "{}", key.as_deref().unwrap_or("(input)"));
        for f in list {
            let line = f
                .origin
                .as_ref()
                .filter(|o| o.line > 0)
                .map(|o| o.line.to_string())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:>4}  {:<8}{:<28}{}{}",
                line,
                f.severity.as_str(),
                f.check.unwrap_or("-"),
                f.field
                    .as_deref()
                    .map(|p| format!("{p}: "))
                    .unwrap_or_default(),
                f.message
            );
        }
        out.push('\n');
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        out,
        "{objects_checked} objects checked: {} errors, {} warnings, {} info",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
    out
}
