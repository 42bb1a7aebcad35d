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
use texts::Texts;

mod texts;

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
    // Frozen as read: a large render of plain objects never holds all their trees.
    let resources = match source::files::read_all_as(inputs, &mut stdin, &engine::freeze) {
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
