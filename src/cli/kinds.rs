//! `kubectl nixernetes kinds`: every kind the binary knows, with its seed module, role and one
//! line, in the manner of `kubectl api-resources`: the built-in kinds, `KindDefinition` and
//! `ValidationRule` (which configure, with no seed module), then the user kinds of the
//! definitions given (`--kinds`, `NIXERNETES_KINDS`, `-f`), whose seed module is `user-kinds`,
//! the `nixernetes.io/framework` of what they emit. In JSON a user kind also has `definition`
//! and `source` (its KindDefinition, and where that is).

use super::explain::{DefinitionArgs, Known};
use crate::modules;
use crate::userkinds::describe::EXTENSION_KINDS;
use clap::ValueEnum;
use serde_json::json;

/// Output formats of `kinds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum KindsFormat {
    /// An aligned table.
    #[default]
    Text,
    /// A JSON array of `{kind, apiVersion, seedModule, category, role, summary}`.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct KindsArgs {
    /// Output format.
    ///
    /// Example: -o json
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub format: KindsFormat,
    #[command(flatten)]
    pub definitions: DefinitionArgs,
}

pub fn run(args: &KindsArgs) -> i32 {
    let known = match Known::load(&args.definitions) {
        Ok(k) => k,
        Err(code) => return code,
    };
    let builtin = modules::registry().iter().map(|d| Row {
        kind: d.kind,
        api_version: crate::resource::API_VERSION,
        seed_module: Some(d.module.name),
        category: Some(d.module.category.as_str()),
        role: d.role.name(),
        summary: d.summary.to_string(),
        definition: None,
    });
    let extension = EXTENSION_KINDS.iter().map(|e| Row {
        kind: e.kind,
        api_version: crate::resource::API_VERSION,
        seed_module: None,
        category: None,
        role: "configures",
        summary: e.summary.to_string(),
        definition: None,
    });
    let user = known.user.iter().map(|k| Row {
        kind: &k.kind,
        api_version: &k.api_version,
        seed_module: Some(crate::userkinds::FRAMEWORK),
        category: Some(k.category),
        role: "generates",
        summary: k.summary(),
        definition: Some((k.title(), k.origin.to_string())),
    });
    let rows: Vec<Row> = builtin.chain(extension).chain(user).collect();
    let text = match args.format {
        KindsFormat::Json => {
            let list: Vec<_> = rows
                .iter()
                .map(|r| {
                    let mut row = json!({
                        "kind": r.kind,
                        "apiVersion": r.api_version,
                        "seedModule": r.seed_module,
                        "category": r.category,
                        "role": r.role,
                        "summary": r.summary,
                    });
                    if let Some((definition, source)) = &r.definition {
                        row["definition"] = json!(definition);
                        row["source"] = json!(source);
                    }
                    row
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&list).expect("JSON of strings");
            s.push('\n');
            s
        }
        KindsFormat::Text => {
            let cells: Vec<[&str; 4]> = rows
                .iter()
                .map(|r| [r.kind, r.seed_module.unwrap_or("-"), r.role, &r.summary])
                .collect();
            table(["KIND", "SEED MODULE", "ROLE", "SUMMARY"], &cells)
        }
    };
    super::emit(text.as_bytes())
}

/// One kind of the list.
struct Row<'a> {
    kind: &'a str,
    api_version: &'a str,
    seed_module: Option<&'a str>,
    category: Option<&'a str>,
    role: &'a str,
    summary: String,
    /// For a user kind: its definition, and where that is.
    definition: Option<(String, String)>,
}

/// Columns aligned with three spaces, as kubectl prints them; the last column is not padded.
fn table<const N: usize>(head: [&str; N], rows: &[[&str; N]]) -> String {
    let mut widths = head.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&head).chain(rows) {
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == N {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}   ", width = widths[i]));
            }
        }
        out.push('\n');
    }
    out
}
