//! The documentation generated from the registry (STYLE.md 11, KINDS.md §2 (b)): a page per
//! kind (`docs/kinds/<Kind>.md`), their index (`docs/kinds/README.md`), the JSON Schema of every
//! kind (`schemas/<Kind>.json`), a catalog of those for editors (`schemas/catalog.json`) and the
//! kinds table of the top-level README; and the table of the built-in checks with their severity
//! under each profile and level (`docs/checks.md`).
//!
//! Owns the text of those files and nothing else: pure functions from a [`Registry`] (and the
//! README as it stands) to file contents. Writing and comparing them is the caller's; the test
//! `tests/it/generated.rs` compares them with the committed copies, and writes them under
//! `UPDATE_GOLDEN=1`, as ruff's `generate-all` does. The shipped binary uses only
//! [`schema_text`] (what `schema -o json` prints), so the markdown code is never linked into it.
//! Everything shown of a field comes from [`explain::fields`]: the docs show the types, defaults
//! and values that `explain` does.

use crate::kind::{KindDef, Registry, Role};
use crate::schema::explain::{self, Field};
use crate::schema::API_VERSION;
use crate::userkinds::describe::EXTENSION_KINDS;

/// The command that rewrites every generated file.
pub const REGENERATE: &str = "UPDATE_GOLDEN=1 cargo test --test it generated";

/// First line of the README's generated kinds table.
pub const README_BEGIN: &str = "<!-- BEGIN generated kinds table: edit the kinds, then run `UPDATE_GOLDEN=1 cargo test --test it generated` -->";
/// Line after the README's generated kinds table.
pub const README_END: &str = "<!-- END generated kinds table -->";

/// Why the generated files cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocsError {
    /// The README lacks the marker lines (or has them out of order) between which the kinds
    /// table goes.
    #[error("README.md needs the line {README_BEGIN:?} and, below it, the line {README_END:?}")]
    NoReadmeMarkers,
}

/// A generated file: where it goes (relative to the crate root) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Path relative to the crate root, `/`-separated.
    pub path: String,
    /// The whole file.
    pub text: String,
}

/// Every generated file for `registry`; `readme` is the top-level README as it stands, whose
/// kinds table is replaced.
pub fn artifacts(registry: &Registry, readme: &str) -> Result<Vec<Artifact>, DocsError> {
    let mut out = vec![Artifact {
        path: "README.md".into(),
        text: splice_readme(readme, &readme_table(registry))?,
    }];
    out.push(Artifact {
        path: "docs/kinds/README.md".into(),
        text: index_page(registry),
    });
    for def in registry.iter() {
        out.push(Artifact {
            path: format!("docs/kinds/{}.md", def.kind),
            text: kind_page(def),
        });
        out.push(Artifact {
            path: format!("schemas/{}.json", def.kind),
            text: schema_text(def),
        });
    }
    for e in &EXTENSION_KINDS {
        out.push(Artifact {
            path: format!("schemas/{}.json", e.kind),
            text: json_text(&e.schema()),
        });
    }
    out.push(Artifact {
        path: "schemas/catalog.json".into(),
        text: catalog(registry),
    });
    out.push(Artifact {
        path: "docs/checks.md".into(),
        text: checks_page(),
    });
    Ok(out)
}

/// `docs/checks.md`: every built-in check with its severity by default and under each Pod
/// Security profile and compliance level, computed by the same function the checks use
/// ([`crate::policy::severity_under`]), so the table cannot drift from what runs.
pub fn checks_page() -> String {
    use crate::policy::{self, severity_under};
    use crate::settings::PolicySettings;
    use crate::types::{Level, Profile};
    let columns: [(&str, PolicySettings); 6] = [
        ("no flags", PolicySettings::default()),
        (
            "`--profile restricted`",
            PolicySettings {
                profile: Some(Profile::Restricted),
                ..PolicySettings::default()
            },
        ),
        ("`--level low`", level(Level::Low)),
        ("`--level medium`", level(Level::Medium)),
        ("`--level high`", level(Level::High)),
        ("`--level restricted`", level(Level::Restricted)),
    ];
    fn level(l: Level) -> PolicySettings {
        PolicySettings {
            level: Some(l),
            ..PolicySettings::default()
        }
    }
    let mut out = generated_note("the check table in src/policy");
    out.push_str(
        "# Checks

Every check `render`, `check` and the KRM function run, with the severity of its findings with no
flags and under each Pod Security profile (`--profile`, `PlatformDefaults.spec.podSecurity`) and
compliance level (`--level`, `PlatformDefaults.spec.complianceLevel`, a `ComplianceProfile`). A
level sets the profile when none is given: `unrestricted` and `low` mean `baseline`, `medium` and
above mean `restricted`. `—` means the check does not run.

What the severities mean for a run:

- **error** fails `check` (exit 1, `--fail-on error`, the default) and, under
  `enforcement: enforce`, `render`, `fn` and the plugins; under `audit` (the default of those) it
  is reported as a warning and the output is still written.
- **warning** is reported and fails only `check --fail-on warning`.
- **info** is advice: `check` lists it, `render` counts it and shows it with `-v`.

Some findings depart from their check's row, and say so in their message: valid Kubernetes that
is likely a mistake is a warning at most (a port number a container does not declare, a selector
in a namespace where nothing is rendered); what the API server would refuse is an error whatever
the row says (a private key in a ConfigMap, a rollout that can never progress, an anti-affinity
term without `topologyKey`); and checks that span both Pod Security levels report their
restricted-only findings at the restricted level's severity. Exempted findings are `info`, and
so is `schema`'s note on an object it has no schema for (a custom resource whose
CustomResourceDefinition is neither in the input nor given with `--crd`), unless
`--fail-on-unknown-schema` makes it an error. `schema` validates built-in kinds against the
strict OpenAPI schema of the target Kubernetes minor, embedded in the binary (the README's
section on schema validation says how).

The **PSS** column is the Pod Security Standards level a check belongs to; **fix** says whether
`render` repairs what it finds (`yes`: a safe default, applied to generated objects and, with
`--fix`, to yours; `opt`: only when asked, since it may change behaviour; `gen`: by generating a
companion object; `no`: report only). Exempt an object from one check with the annotation
`ignore-check.nixernetes.io/<id>: \"<reason>\"`.

Configure a check for a whole run in `PlatformDefaults.spec.checks` (`<id>: {enabled: false,
reason: …}`, or `{severity: error|warning|info, reason: …}`, or `{enabled: true, reason: …}` to
run it where the profile or level would not), or with `--disable-check ID[: REASON]` and
`--enable-check ID[=SEVERITY][: REASON]` (also the `disableCheck` and `enableCheck` settings of the
KRM function's ConfigMap and of Argo CD). A flag replaces the `PlatformDefaults` entry of its check
whole; a configured severity is every finding's, whatever this table or the paragraph above say
(under `audit` errors are still reported as warnings). Each configured check is reported once per
run as an `info` finding with its reason, and every finding whose severity it set says so in its
message (JSON: `configured`; SARIF: `properties.configured`; KRM: `tags.configured`). An unknown
id is an error that names the closest ids. Exemptions still apply on top.

",
    );
    out.push_str("| check | PSS |");
    for (name, _) in &columns {
        out.push_str(&format!(" {name} |"));
    }
    out.push_str(" fix | requires |\n|---|---|");
    out.push_str(&"---|".repeat(columns.len()));
    out.push_str("---|---|\n");
    for c in policy::checks() {
        out.push_str(&format!(
            "| `{}` | {} |",
            c.id,
            c.pss.map_or("—", policy::Pss::as_str)
        ));
        for (_, settings) in &columns {
            let severity = severity_under(c, settings).map_or("—", |s| s.as_str());
            out.push_str(&format!(" {severity} |"));
        }
        out.push_str(&format!(" {} | {} |\n", c.fix.as_str(), cell(c.summary)));
    }
    // How the checks compare with kube-linter's, Polaris', kube-score's and checkov's, and where
    // they differ by design (benches/peers.py reads that table from here).
    out.push_str(include_str!("policy/peers.md"));
    out
}

/// The JSON Schema of `def`'s documents as a file: pretty JSON and a final newline (what
/// `kubectl nixernetes schema KIND -o json` prints).
pub fn schema_text(def: &KindDef) -> String {
    json_text(&def.schema())
}

/// `value` as pretty JSON with a final newline, as every JSON file here is written.
pub fn json_text(value: &serde_json::Value) -> String {
    // Serializing a `Value` cannot fail: its keys are strings.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// What `def` emits, one `kind (apiVersion)` a line; for a kind that emits nothing, why.
pub fn emits(def: &KindDef) -> Vec<String> {
    match def.role {
        Role::Generate(_) => def
            .emits
            .iter()
            .map(|g| format!("{} ({})", g.kind, g.api_version))
            .collect(),
        Role::Configure { .. } => vec![
            "nothing: a configuration kind, it sets how everything rendered with it is rendered"
                .into(),
        ],
        Role::Report(_) => vec![
            "nothing: a report kind, it adds findings about the rendered set (KRM results)".into(),
        ],
    }
}

/// The connection outputs `def` publishes for `uses`, one `name (value|Secret key): what` a
/// line; empty for a kind that publishes none.
pub fn outputs(def: &KindDef) -> Vec<String> {
    def.outputs
        .iter()
        .map(|o| {
            let held = if o.secret { "Secret key" } else { "value" };
            format!("{} ({held}): {}", o.name, o.description)
        })
        .collect()
}

/// `def`'s seed module in one line: `name (category category): summary`.
pub fn seed_module(def: &KindDef) -> String {
    format!(
        "{} (category {}): {}",
        def.module.name,
        def.module.category.as_str(),
        def.module.summary
    )
}

/// The comment that opens every generated markdown file.
fn generated_note(source: &str) -> String {
    format!("<!-- Generated from {source} by `{REGENERATE}`: do not edit. -->\n\n")
}

/// `docs/kinds/<Kind>.md`: what the kind is, what it emits, the outputs it publishes, every
/// field, and its example.
pub fn kind_page(def: &KindDef) -> String {
    let schema = def.schema();
    let mut out = generated_note("the kind's code (src/modules)");
    out.push_str(&format!(
        "# {}\n\n{}.\n\n",
        def.kind,
        capitalized(def.summary)
    ));
    out.push_str(&format!("- **apiVersion:** `{API_VERSION}`\n"));
    out.push_str(&format!(
        "- **seed module:** [`{}`](README.md#{}) (category `{}`): {}\n",
        def.module.name,
        def.module.name,
        def.module.category.as_str(),
        def.module.summary
    ));
    out.push_str(&format!("- **role:** {}\n", def.role.name()));
    out.push_str(&format!(
        "- **JSON Schema:** [`schemas/{k}.json`](../../schemas/{k}.json)\n",
        k = def.kind
    ));
    out.push_str(&format!(
        "- **example:** [`{p}`](../../{p})\n\n",
        p = def.example.path
    ));
    out.push_str(&format!(
        "In a terminal: `kubectl nixernetes explain {lower}` (and `explain {lower}.spec.FIELD`, \
         `--recursive`) shows the same, `kubectl nixernetes schema {k}` prints the JSON Schema and \
         `kubectl nixernetes schema --crd {k}` the CustomResourceDefinition.\n\n",
        lower = def.kind.to_ascii_lowercase(),
        k = def.kind
    ));
    if let Some(spec) = schema
        .pointer("/properties/spec/description")
        .and_then(|d| d.as_str())
    {
        out.push_str(&format!("{}\n\n", prose(spec)));
    }

    out.push_str("## Emits\n\n");
    match def.role {
        Role::Generate(_) => {
            out.push_str("| kind | apiVersion |\n|---|---|\n");
            for g in def.emits {
                out.push_str(&format!("| `{}` | `{}` |\n", g.kind, g.api_version));
            }
            out.push('\n');
        }
        _ => {
            for line in emits(def) {
                out.push_str(&format!("{}.\n\n", capitalized(&line)));
            }
        }
    }

    if !def.outputs.is_empty() {
        out.push_str("## Outputs\n\n");
        out.push_str(
            "What a workload rendered with it can bind to with `uses` (`env: {VARIABLE: output}`): \
             a value becomes the variable's value, a Secret key a `secretKeyRef`.\n\n",
        );
        out.push_str("| output | held in | description |\n|---|---|---|\n");
        for o in def.outputs {
            let held = if o.secret { "Secret" } else { "value" };
            out.push_str(&format!(
                "| `{}` | {held} | {} |\n",
                o.name,
                o.description.replace('|', "\\|")
            ));
        }
        out.push('\n');
    }

    out.push_str("## Fields\n\n");
    out.push_str(
        "Paths are those `explain` takes: a list's items and a map's values add no element \
         (`spec.ports.name` is the `name` of each port).\n\n",
    );
    out.push_str("| field | type | required | default | description |\n|---|---|---|---|---|\n");
    for field in explain::fields(&schema) {
        // The envelope's own three rows are Kubernetes' boilerplate; the bullets above say it.
        if field.path.len() == 1 && field.path[0] != "spec" {
            continue;
        }
        out.push_str(&field_row(&field));
    }
    out.push('\n');

    out.push_str("## Example\n\n");
    out.push_str(&format!(
        "[`{p}`](../../{p}), rendered by `kubectl nixernetes render {p}`:\n\n```yaml\n",
        p = def.example.path
    ));
    out.push_str(def.example.text.trim_end_matches('\n'));
    out.push_str("\n```\n");
    out
}

/// One row of a kind page's field table.
fn field_row(field: &Field) -> String {
    let mut description = field.description.as_deref().map(prose).unwrap_or_default();
    if !field.enum_values.is_empty() {
        let values: Vec<String> = field.enum_values.iter().map(|v| code(v)).collect();
        if !description.is_empty() {
            description.push_str("<br>");
        }
        description.push_str(&format!("One of {}.", values.join(", ")));
    }
    format!(
        "| {} | {} | {} | {} | {} |\n",
        code(&field.path.join(".")),
        code(&field.type_name),
        if field.required { "yes" } else { "" },
        field.default.as_deref().map(code).unwrap_or_default(),
        cell(&description),
    )
}

/// `docs/kinds/README.md`: the kinds by seed module, in registry order.
pub fn index_page(registry: &Registry) -> String {
    let mut out = generated_note("the kind registry (src/modules)");
    out.push_str("# Kinds\n\n");
    out.push_str(&format!(
        "Every module kind of `{API_VERSION}`, by seed module: one page each, with every field \
         of its spec and an example. In a terminal, `kubectl nixernetes kinds` lists them and \
         `kubectl nixernetes explain KIND[.field]` documents one; their JSON Schemas are in \
         [`schemas/`](../../schemas/) (`kubectl nixernetes schema`).\n"
    ));
    let mut modules: Vec<&str> = Vec::new();
    for def in registry.iter() {
        if !modules.contains(&def.module.name) {
            modules.push(def.module.name);
        }
    }
    for name in modules {
        let kinds: Vec<&KindDef> = registry.iter().filter(|d| d.module.name == name).collect();
        let module = kinds[0].module;
        out.push_str(&format!(
            "\n## {name}\n\nCategory `{}`: {}.\n\n| kind | role | summary |\n|---|---|---|\n",
            module.category.as_str(),
            module.summary
        ));
        for def in kinds {
            out.push_str(&format!(
                "| [`{k}`]({k}.md) | {} | {} |\n",
                def.role.name(),
                cell(&prose(def.summary)),
                k = def.kind
            ));
        }
    }
    out
}

/// The README's kinds table (without the marker lines), links into `docs/kinds/`.
pub fn readme_table(registry: &Registry) -> String {
    let mut out = String::from("| kind | seed module | role | what it does |\n|---|---|---|---|\n");
    for def in registry.iter() {
        out.push_str(&format!(
            "| [`{k}`](docs/kinds/{k}.md) | {} | {} | {} |\n",
            def.module.name,
            def.role.name(),
            cell(&prose(def.summary)),
            k = def.kind
        ));
    }
    out
}

/// `readme` with the lines between [`README_BEGIN`] and [`README_END`] replaced by `table`.
pub fn splice_readme(readme: &str, table: &str) -> Result<String, DocsError> {
    let begin = readme
        .find(&format!("{README_BEGIN}\n"))
        .ok_or(DocsError::NoReadmeMarkers)?;
    let body = begin + README_BEGIN.len() + 1;
    let end = readme[body..]
        .find(&format!("{README_END}\n"))
        .ok_or(DocsError::NoReadmeMarkers)?
        + body;
    Ok(format!("{}{table}{}", &readme[..body], &readme[end..]))
}

/// `schemas/catalog.json`: a SchemaStore-style catalog (`name`, `description`, `url` per kind)
/// whose `url`s are the schema files' names, relative to the catalog. SchemaStore's own
/// catalog schema wants absolute `https://` URLs, which a clone does not have, so the catalog
/// does not name that schema; whoever publishes the folder prefixes its URL.
pub fn catalog(registry: &Registry) -> String {
    let extension = EXTENSION_KINDS.iter().map(|e| (e.kind, e.summary));
    let schemas: Vec<serde_json::Value> = registry
        .iter()
        .map(|def| (def.kind, def.summary))
        .chain(extension)
        .map(|(kind, summary)| {
            serde_json::json!({
                "name": format!("{kind} ({API_VERSION})"),
                "description": capitalized(summary),
                "url": format!("{kind}.json"),
            })
        })
        .collect();
    json_text(&serde_json::json!({"version": 1, "schemas": schemas}))
}

/// `text` with its first letter in upper case.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Doc-comment text as markdown prose: outside code spans, `<` becomes `&lt;` (GitHub would
/// read `<name>` as a tag).
fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 0 {
            out.push_str(&part.replace('<', "&lt;"));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Markdown text as one table cell: paragraphs joined by `<br><br>`, lines by spaces, `|`
/// escaped (GitHub splits cells at `|` even inside code spans).
fn cell(text: &str) -> String {
    text.trim()
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("<br><br>")
        .replace('|', "\\|")
}

/// `text` as a code span in a table cell (a longer fence when it holds backticks).
fn code(text: &str) -> String {
    let text = text.replace('|', "\\|");
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_table_goes_between_the_markers() {
        let readme = format!("# T\n\n{README_BEGIN}\nold\ntable\n{README_END}\nrest\n");
        assert_eq!(
            splice_readme(&readme, "| new |\n").unwrap(),
            format!("# T\n\n{README_BEGIN}\n| new |\n{README_END}\nrest\n")
        );
        assert_eq!(
            splice_readme("no markers\n", "x"),
            Err(DocsError::NoReadmeMarkers)
        );
        let reversed = format!("{README_END}\n{README_BEGIN}\n");
        assert_eq!(
            splice_readme(&reversed, "x"),
            Err(DocsError::NoReadmeMarkers)
        );
    }

    #[test]
    fn text_is_escaped_for_tables() {
        assert_eq!(
            prose("a <name> and `<name>-tls`"),
            "a &lt;name> and `<name>-tls`"
        );
        assert_eq!(
            cell("one\nline | two\n\nnext"),
            "one line \\| two<br><br>next"
        );
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x`y"), "`` x`y ``");
        assert_eq!(capitalized("http service"), "Http service");
    }
}
