//! `kubectl nixernetes render`: files, directories or stdin → YAML stream or JSON List, in apply
//! order. With `--argocd`, settings also come from the Argo CD plugin environment.

use super::selector::{Left, Selector, SelectorFlag};
use super::{print_findings, Format, RenderFlags, EXIT_INVALID};
use crate::engine::{self, order, Options};
use crate::finding::{has_errors, Finding, Severity};
use crate::resource::Resource;
use crate::settings::{self, Overrides};
use crate::source;
use serde_json::Value;

/// Which findings [`render_each`] prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diagnostics {
    /// Errors and warnings, info with `-v` (else counted).
    All,
    /// Errors; the rest only with `-v` (else counted).
    Errors,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 success; 1 the input has errors (all reported on stderr, nothing on stdout:\n\
never partial output), also input without a single object (\"no objects in the input\");\n\
2 usage errors."
)]
pub struct RenderArgs {
    /// Files or directories to render; `-` reads stdin.
    ///
    /// Example: kubectl nixernetes render examples/kubernetes-core/web-app.yaml
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// File or directory to render (like kubectl's -f); repeatable.
    ///
    /// Example: -f base/ -f overlays/prod.yaml
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub filenames: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Yaml)]
    pub output: Format,
    /// Run as an Argo CD config-management plugin: read ARGOCD_APP_NAME (inventory),
    /// ARGOCD_APP_NAMESPACE (namespace), ARGOCD_ENV_* and ARGOCD_APP_PARAMETERS (the flags of
    /// this command win over them); PATH defaults to `.`.
    ///
    /// Example: kubectl-nixernetes render --argocd .
    #[arg(long)]
    pub argocd: bool,
    #[command(flatten)]
    pub select: SelectorFlag,
    #[command(flatten)]
    pub flags: RenderFlags,
}

pub fn run(args: &RenderArgs) -> i32 {
    let mut inputs: Vec<String> = args.paths.iter().chain(&args.filenames).cloned().collect();
    if inputs.is_empty() {
        if args.argocd {
            inputs.push(".".into());
        } else {
            eprintln!("error: nothing to render: give a PATH, -f FILE, or - for stdin");
            return super::EXIT_USAGE;
        }
    }
    let selector = args.select.selector.as_ref();
    if args.argocd && selector.is_some() {
        eprintln!("error: -l/--selector cannot be used with --argocd: Argo CD would prune every object the selector leaves out. To add labels, use --label KEY=VALUE");
        return super::EXIT_USAGE;
    }
    let mut texts = Texts::new(args.output);
    if let Err(code) = render_each(
        &inputs,
        &args.flags,
        args.argocd,
        selector,
        Diagnostics::All,
        &mut |obj, selected| {
            if selected {
                texts.add(obj)
            }
        },
    ) {
        return code;
    }
    texts.emit()
}

/// The output text of each rendered object with its place in apply order. An object's text is
/// a fraction of the memory of its tree, so a large render keeps texts, not trees; and it keeps
/// them packed: each object's sort key and text one after the other in blocks of a MiB, and a
/// small entry saying where (not three strings, a text and a tuple per object).
struct Texts {
    format: Format,
    blocks: Vec<String>,
    list: Vec<Entry>,
    /// Where each text is written before it is packed.
    scratch: String,
}

/// Where one object's sort key (`order::key`: rank, namespace, kind, name) and text are: the
/// namespace, kind, name and text, of these lengths, one after the other from `start` in block
/// `block`.
struct Entry {
    rank: u8,
    block: u32,
    start: usize,
    namespace: usize,
    kind: usize,
    name: usize,
    text: usize,
}

/// Size of a block of texts; a larger text has a block of its own.
const BLOCK: usize = 1 << 20;

impl Texts {
    fn new(format: Format) -> Texts {
        Texts {
            format,
            blocks: Vec::new(),
            list: Vec::new(),
            scratch: String::new(),
        }
    }

    fn add(&mut self, mut obj: Resource) {
        let rank = order::rank_of(&obj);
        let value = Value::Object(std::mem::take(&mut obj.object));
        let text = &mut self.scratch;
        text.clear();
        match self.format {
            Format::Yaml => crate::yaml::write_document(&value, text),
            Format::Json => {
                // As an item of the List: pretty-printed two levels in.
                let item = serde_json::to_string_pretty(&value).unwrap_or_default();
                text.push_str("    ");
                text.push_str(&item.replace('\n', "\n    "));
            }
        }
        if let Value::Object(object) = value {
            obj.object = object;
        }
        let (namespace, kind, name) = (obj.namespace().unwrap_or(""), obj.kind(), obj.name());
        let len = namespace.len() + kind.len() + name.len() + text.len();
        let fits = self
            .blocks
            .last()
            .is_some_and(|b| b.capacity() - b.len() >= len);
        if !fits {
            self.blocks.push(String::with_capacity(len.max(BLOCK)));
        }
        let block = self.blocks.len() - 1;
        let b = &mut self.blocks[block];
        let start = b.len();
        for part in [namespace, kind, name, text.as_str()] {
            b.push_str(part);
        }
        self.list.push(Entry {
            rank,
            block: u32::try_from(block).expect("fewer than 2^32 blocks of a MiB"),
            start,
            namespace: namespace.len(),
            kind: kind.len(),
            name: name.len(),
            text: text.len(),
        });
    }

    /// The sort key of `e`: rank, namespace, kind, name (as `order::key`).
    fn key<'a>(&'a self, e: &Entry) -> (u8, &'a str, &'a str, &'a str) {
        let b = &self.blocks[e.block as usize][e.start..];
        let (namespace, b) = b.split_at(e.namespace);
        let (kind, b) = b.split_at(e.kind);
        (e.rank, namespace, kind, &b[..e.name])
    }

    fn text<'a>(&'a self, e: &Entry) -> &'a [u8] {
        let at = e.start + e.namespace + e.kind + e.name;
        &self.blocks[e.block as usize].as_bytes()[at..at + e.text]
    }

    /// Writes the texts in apply order to stdout.
    fn emit(self) -> i32 {
        super::emit_with(|out| self.write_to(out))
    }

    /// Writes the texts in apply order: a YAML stream, or a `v1 List` as `serde_json` prints it.
    fn write_to(mut self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        // Stable: equal keys keep input order.
        let mut list = std::mem::take(&mut self.list);
        list.sort_by(|a, b| self.key(a).cmp(&self.key(b)));
        let texts = || list.iter().map(|e| self.text(e));
        match self.format {
            Format::Yaml => write_joined(out, texts(), crate::yaml::DOCUMENT_SEPARATOR),
            Format::Json if list.is_empty() => {
                out.write_all(LIST_HEAD)?;
                out.write_all(b"]\n}\n")
            }
            Format::Json => {
                out.write_all(LIST_HEAD)?;
                out.write_all(b"\n")?;
                write_joined(out, texts(), b",\n")?;
                out.write_all(b"\n  ]\n}\n")
            }
        }
    }
}

/// The head of a `v1 List` as `serde_json` pretty-prints it, up to the items.
const LIST_HEAD: &[u8] =
    b"{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"metadata\": {},\n  \"items\": [";

/// Writes `texts` with `separator` between them.
fn write_joined<'a>(
    out: &mut dyn std::io::Write,
    texts: impl Iterator<Item = &'a [u8]>,
    separator: &[u8],
) -> std::io::Result<()> {
    for (i, text) in texts.enumerate() {
        if i > 0 {
            out.write_all(separator)?;
        }
        out.write_all(text)?;
    }
    Ok(())
}

/// The rendered input as `diff` and `apply` take it.
pub struct Rendered {
    /// Every object, in apply order.
    pub objects: Vec<Value>,
    /// The namespace of objects that name none, when `-n` or `PlatformDefaults spec.namespace`
    /// sets one (else the kubeconfig context's applies).
    pub namespace: Option<String>,
}

/// Renders `inputs` into the objects to apply, in apply order, for callers that need the
/// objects themselves (`diff`, `apply`). Every object is returned, whether `selector` selects
/// it or not (what a prune leaves alone is the whole input); only the findings are the
/// selected objects'. See [`render_each`].
pub fn rendered(
    inputs: &[String],
    flags: &RenderFlags,
    selector: Option<&Selector>,
    diagnostics: Diagnostics,
) -> Result<Rendered, i32> {
    let mut objects = Vec::new();
    let namespace = render_each(
        inputs,
        flags,
        false,
        selector,
        diagnostics,
        &mut |obj, _| objects.push(obj),
    )?;
    order::sort(&mut objects);
    Ok(Rendered {
        objects: objects
            .into_iter()
            .map(|r| Value::Object(r.object))
            .collect(),
        namespace,
    })
}

/// Renders `inputs` with `flags` (and, with `argocd`, the Argo CD environment), handing each
/// object to apply to `keep` once it is final, in pipeline order, with whether `selector`
/// selects it (by its final labels); diagnostics go to stderr. `Ok` carries the namespace of
/// objects that name none when the settings give one; `Err` carries the exit code, and then
/// what `keep` got must not be output.
///
/// The whole input is rendered and checked whatever the selector (it is one platform: the
/// NetworkPolicy, PDB and Service checks compare objects with each other), but the policy-check
/// findings about the objects it leaves out are dropped: those objects are not acted on. Errors
/// in the input itself always count.
///
/// `diagnostics` says which findings are printed: all of them (`render`), or only errors with
/// a count of the rest (`diff`, whose subject is the cluster, not the policy checks).
fn render_each(
    inputs: &[String],
    flags: &RenderFlags,
    argocd: bool,
    selector: Option<&Selector>,
    diagnostics: Diagnostics,
    keep: &mut dyn FnMut(Resource, bool),
) -> Result<Option<String>, i32> {
    let mut findings = Vec::new();
    // The Argo CD environment, then the flags over it: every setting through one table
    // (`settings::SETTINGS`), so no source can drop another's.
    let mut overrides = Overrides::default();
    if argocd {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let (argo, mut f) = source::argocd::overrides(&env);
        overrides = argo;
        findings.append(&mut f);
    }
    if let Err(e) = settings::apply_environment(&mut overrides) {
        findings.push(Finding::error(e));
    }
    if let Err(mut e) = flags.apply(&mut overrides) {
        findings.append(&mut e);
        print_findings(&findings);
        return Err(EXIT_INVALID);
    }
    let rules = match flags.policy.read_rules(argocd) {
        Ok(r) => r,
        Err(mut e) => {
            findings.append(&mut e);
            source::locate::field_lines(&mut findings, None, Severity::Info);
            print_findings(&findings);
            return Err(EXIT_INVALID);
        }
    };
    let schemas = match flags.policy.read_schemas() {
        Ok(s) => s,
        Err(mut e) => {
            findings.append(&mut e);
            print_findings(&findings);
            return Err(EXIT_INVALID);
        }
    };
    let mut stdin = source::locate::Kept::new(std::io::stdin().lock());
    let resources = match source::files::read_all(inputs, &mut stdin) {
        Ok(r) if r.is_empty() => {
            // kubectl's `no objects passed to apply`: an empty render is a wrong path or a
            // failed command upstream, and applied or synced it would remove everything.
            findings.push(Finding::error(format!(
                "no objects in the input ({}: only empty documents or comments); give files that hold Kubernetes objects or module resources",
                inputs
                    .iter()
                    .map(|i| if i == "-" { "stdin" } else { i })
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
            print_findings(&findings);
            return Err(EXIT_INVALID);
        }
        Ok(r) => r,
        Err(mut e) => {
            findings.append(&mut e);
            source::locate::field_lines(&mut findings, stdin.text(), Severity::Info);
            print_findings(&findings);
            return Err(EXIT_INVALID);
        }
    };
    // Objects marked local-config are for client tools, never for the cluster (as in kustomize).
    let mut left = Left::default();
    let out = engine::run_with(
        resources,
        &Options {
            overrides,
            rules,
            schemas,
            ..Options::new(crate::modules::registry())
        },
        &mut |obj| {
            if obj.is_local_config() {
                return;
            }
            left.rendered += 1;
            let selected = selector.is_none_or(|s| s.matches(obj.labels()));
            if !selected {
                left.out.insert(obj.object_ref());
            }
            keep(obj, selected)
        },
    );
    crate::finding::append(&mut findings, out.findings);
    left.drop_findings(&mut findings);
    let shown = match diagnostics {
        _ if flags.verbose => Severity::Info,
        Diagnostics::All => Severity::Warning,
        Diagnostics::Errors => Severity::Error,
    };
    let unplaced = source::locate::field_lines(&mut findings, stdin.text(), shown);
    // Most such findings are about generated objects, which name their module resource's line
    // anyway: the note is for those who asked for detail.
    if let Some(note) = source::locate::budget_note(unplaced).filter(|_| flags.verbose) {
        eprintln!("{note}");
    }
    match diagnostics {
        Diagnostics::All => super::print_diagnostics(&findings, flags.verbose),
        Diagnostics::Errors if flags.verbose => super::print_diagnostics(&findings, true),
        Diagnostics::Errors => {
            let errors: Vec<Finding> = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .cloned()
                .collect();
            super::print_findings(&errors);
            let rest = findings.len() - errors.len();
            if rest > 0 {
                eprintln!("note: {rest} warning and info findings of the policy checks not shown; run `kubectl nixernetes check` or add -v");
            }
        }
    }
    if has_errors(&findings) {
        return Err(EXIT_INVALID);
    }
    if let Some(s) = selector {
        left.note_if_none(s);
    }
    Ok(out.namespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Objects of every rank, with ties (same key: input order decides) and a text longer than a
    /// block.
    fn objects() -> Vec<Resource> {
        let mut text = String::new();
        let kinds = [
            ("v1", "ConfigMap"),
            ("apps/v1", "Deployment"),
            ("v1", "Namespace"),
            ("example.com/v1", "Widget"),
            ("v1", "Service"),
            ("rbac.authorization.k8s.io/v1", "Role"),
        ];
        for i in 0..300 {
            let (api, kind) = kinds[i * 7 % kinds.len()];
            let ns = ["a", "b", ""][i % 3];
            let name = format!("n{}", i % 17);
            text.push_str(&format!(
                "---\napiVersion: {api}\nkind: {kind}\nmetadata: {{name: {name}, namespace: '{ns}', labels: {{i: '{i}'}}}}\n"
            ));
        }
        let big = "x".repeat(BLOCK + 10);
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: n3, namespace: a}}\ndata: {{big: {big}}}\n"
        ));
        crate::source::parse_text(&text, "t.yaml").expect("reads")
    }

    /// The packed texts come out in `order::sort`'s order, each as `to_string` writes it.
    #[test]
    fn packed_texts_come_out_in_apply_order() {
        for format in [Format::Yaml, Format::Json] {
            let objects = objects();
            let mut texts = Texts::new(format);
            objects.iter().cloned().for_each(|o| texts.add(o));
            assert!(texts.blocks.len() >= 2, "a text longer than a block");
            let mut got = Vec::new();
            texts.write_to(&mut got).expect("writes");
            let mut sorted = objects;
            order::sort(&mut sorted);
            let values: Vec<Value> = sorted
                .into_iter()
                .map(|r| Value::Object(r.object))
                .collect();
            let want = match format {
                Format::Yaml => {
                    let mut out = Vec::new();
                    crate::yaml::write_stream(&mut out, &values).expect("writes");
                    out
                }
                Format::Json => {
                    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": values});
                    let mut out = serde_json::to_vec_pretty(&list).expect("writes");
                    out.push(b'\n');
                    out
                }
            };
            assert!(got == want, "{format:?} differs");
        }
    }
}
