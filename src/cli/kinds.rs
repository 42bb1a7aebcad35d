//! `kubectl nixernetes kinds`: every kind the binary knows, with its seed module, role and one
//! line, in the manner of `kubectl api-resources`.

use crate::kind::KindDef;
use crate::modules;
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
}

pub fn run(args: &KindsArgs) -> i32 {
    let kinds: Vec<&KindDef> = modules::registry().iter().collect();
    let text = match args.format {
        KindsFormat::Json => {
            let list: Vec<_> = kinds
                .iter()
                .map(|d| {
                    json!({
                        "kind": d.kind,
                        "apiVersion": crate::resource::API_VERSION,
                        "seedModule": d.module.name,
                        "category": d.module.category.as_str(),
                        "role": d.role.name(),
                        "summary": d.summary,
                    })
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&list).expect("JSON of strings");
            s.push('\n');
            s
        }
        KindsFormat::Text => {
            let rows: Vec<[&str; 4]> = kinds
                .iter()
                .map(|d| [d.kind, d.module.name, d.role.name(), d.summary])
                .collect();
            table(["KIND", "SEED MODULE", "ROLE", "SUMMARY"], &rows)
        }
    };
    super::emit(text.as_bytes())
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
