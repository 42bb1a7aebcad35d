//! `kubectl nixernetes render`: files, directories or stdin → YAML stream or JSON List, in apply
//! order. With `--argocd`, settings also come from the Argo CD plugin environment.

use super::{emit, print_findings, Format, RenderFlags, EXIT_INVALID};
use crate::engine::{self, order, Options};
use crate::report::{has_errors, Finding, Severity};
use crate::source;
use serde_json::{json, Value};

/// Which findings [`rendered`] prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diagnostics {
    /// Errors and warnings, info with `-v` (else counted).
    All,
    /// Errors; the rest only with `-v` (else counted).
    Errors,
}

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// Files or directories to render; `-` reads stdin.
    ///
    /// Example: kubectl nixernetes render examples/webapp.yaml
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
    /// ARGOCD_APP_NAMESPACE (namespace), ARGOCD_ENV_* and ARGOCD_APP_PARAMETERS; PATH defaults to `.`.
    ///
    /// Example: kubectl-nixernetes render --argocd .
    #[arg(long)]
    pub argocd: bool,
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
    let objects = match rendered(&inputs, &args.flags, args.argocd, Diagnostics::All) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let values = objects.into_iter();
    match args.output {
        Format::Yaml => super::emit_stream(values),
        Format::Json => {
            let list = json!({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": values.collect::<Vec<_>>()});
            let mut s = serde_json::to_vec_pretty(&list).unwrap_or_default();
            s.push(b'\n');
            emit(&s)
        }
    }
}

/// Renders `inputs` with `flags` (and, with `argocd`, the Argo CD environment) into the objects
/// to apply, in apply order; diagnostics go to stderr. `Err` carries the exit code.
///
/// `diagnostics` says which findings are printed: all of them (`render`), or only errors with
/// a count of the rest (`diff`, whose subject is the cluster, not the policy checks).
pub fn rendered(
    inputs: &[String],
    flags: &RenderFlags,
    argocd: bool,
    diagnostics: Diagnostics,
) -> Result<Vec<Value>, i32> {
    let mut findings = Vec::new();
    let mut overrides = match flags.overrides() {
        Ok(o) => o,
        Err(e) => {
            print_findings(&e);
            return Err(EXIT_INVALID);
        }
    };
    if argocd {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let (argo, mut f) = source::argocd::overrides(&env);
        findings.append(&mut f);
        // Explicit flags win over the Argo CD environment.
        let flags = overrides;
        overrides = argo;
        overrides.namespace = flags.namespace.or(overrides.namespace);
        overrides.inventory = flags.inventory.or(overrides.inventory);
        overrides.kubernetes_version = flags.kubernetes_version.or(overrides.kubernetes_version);
        overrides.labels.extend(flags.labels);
        overrides.annotations.extend(flags.annotations);
        overrides.timestamp = flags.timestamp;
    }
    let resources = match source::files::read_all(inputs, &mut std::io::stdin().lock()) {
        Ok(r) => r,
        Err(mut e) => {
            findings.append(&mut e);
            print_findings(&findings);
            return Err(EXIT_INVALID);
        }
    };
    let out = engine::run(
        resources,
        &Options {
            overrides,
            mode: engine::Mode::Render,
            skip_checks: false,
        },
    );
    crate::report::append(&mut findings, out.findings);
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
    // Objects marked local-config are for client tools, never for the cluster (as in kustomize).
    let mut objects: Vec<_> = out
        .objects
        .into_iter()
        .filter(|r| !r.is_local_config())
        .collect();
    order::sort(&mut objects);
    Ok(objects
        .into_iter()
        .map(|r| Value::Object(r.object))
        .collect())
}
