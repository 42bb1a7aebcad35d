//! Findings as lines of text for stderr: `severity: file:line: Kind/ns/name: field: message`.

use super::Finding;
use std::fmt::Write;

/// One line per finding, in the order given.
pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let _ = write!(out, "{}: ", f.severity.as_str());
        if let Some(o) = &f.origin {
            let _ = write!(out, "{o}: ");
        }
        if let Some(obj) = &f.object {
            let _ = write!(out, "{obj}: ");
        }
        if let Some(field) = &f.field {
            let _ = write!(out, "{field}: ");
        }
        let _ = writeln!(out, "{}", f.message);
    }
    out
}
