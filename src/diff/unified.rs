//! Unified diff of every object that would change, in the layout of `diff -u -N LIVE MERGED`
//! (the LIVE and MERGED file names are kubectl's), with `-U N` context lines and optional
//! ANSI colour. Unchanged objects print nothing; failed objects are reported on stderr.

use super::ansi::{BOLD, CYAN, GREEN, RED, RESET};
use super::plan::Plan;
use super::{to_yaml, ObjectDiff};
use similar::{ChangeTag, TextDiff};
use std::fmt::Write;

/// How the diff looks.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Context lines around each change.
    pub context: usize,
    /// ANSI colours.
    pub color: bool,
}

/// The unified diff of every changed object of `plan`.
pub fn render(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    for d in plan.objects.iter().filter(|d| d.op.is_change()) {
        object(&mut out, d, style);
    }
    out
}

/// Appends `text`, coloured line by line (the reset goes before each newline).
fn paint(out: &mut String, color: bool, code: &str, text: &str) {
    if !color {
        out.push_str(text);
        return;
    }
    for line in text.split_inclusive('\n') {
        match line.strip_suffix('\n') {
            Some(l) => {
                let _ = writeln!(out, "{code}{l}{RESET}");
            }
            None => {
                let _ = write!(out, "{code}{line}{RESET}");
            }
        }
    }
}

fn object(out: &mut String, d: &ObjectDiff, style: Style) {
    let live = to_yaml(d.live.as_ref());
    let merged = to_yaml(d.merged.as_ref());
    let file = d.id.file_name();
    let (a, b) = (format!("LIVE/{file}"), format!("MERGED/{file}"));
    paint(out, style.color, BOLD, &format!("diff -u -N {a} {b}\n"));
    for note in &d.notes {
        let _ = writeln!(out, "# note: {note}");
    }
    paint(out, style.color, BOLD, &format!("--- {a}\n+++ {b}\n"));
    let diff = TextDiff::from_lines(&live, &merged);
    let mut udiff = diff.unified_diff();
    udiff.context_radius(style.context);
    for hunk in udiff.iter_hunks() {
        paint(out, style.color, CYAN, &format!("{}\n", hunk.header()));
        for change in hunk.iter_changes() {
            let (sign, color) = match change.tag() {
                ChangeTag::Delete => ('-', RED),
                ChangeTag::Insert => ('+', GREEN),
                ChangeTag::Equal => (' ', ""),
            };
            let mut line = format!("{sign}{}", change.value());
            if !line.ends_with('\n') {
                line.push_str("\n\\ No newline at end of file\n");
            }
            if color.is_empty() {
                out.push_str(&line);
            } else {
                paint(out, style.color, color, &line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ObjectId, Op};
    use super::*;
    use serde_json::json;

    #[test]
    fn changed_lines_with_context() {
        let id = ObjectId::of(
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d"}}),
        );
        let plan = Plan {
            objects: vec![ObjectDiff {
                op: Op::Update,
                live: Some(json!({"data": {"a": "1", "b": "2", "c": "3"}})),
                merged: Some(json!({"data": {"a": "1", "b": "two", "c": "3"}})),
                ..ObjectDiff::failed(id, Op::Update, String::new())
            }],
            errors: vec![],
        };
        let text = render(
            &plan,
            Style {
                context: 0,
                color: false,
            },
        );
        assert_eq!(
            text,
            "diff -u -N LIVE/v1.ConfigMap.d.c MERGED/v1.ConfigMap.d.c\n--- LIVE/v1.ConfigMap.d.c\n+++ MERGED/v1.ConfigMap.d.c\n@@ -3 +3 @@\n-  b: \"2\"\n+  b: two\n"
        );
        let colored = render(
            &plan,
            Style {
                context: 3,
                color: true,
            },
        );
        assert!(colored.contains("\x1b[31m-  b: \"2\"\x1b[0m\n"));
    }
}
