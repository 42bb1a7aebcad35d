//! `kubectl nixernetes diff`: renders the input and shows what applying it would change in a
//! live cluster (server-side apply dry run per object), as a unified diff, a summary table, a
//! JSON report, or LIVE/MERGED directories for `KUBECTL_EXTERNAL_DIFF` programs.
//!
//! Exit codes: 0 no changes; 1 changes; 2 any error, conflict or required replacement (also for
//! bad flags, unreadable, invalid or empty input, and an unreachable cluster). The connection
//! flags are kubectl's (`cli::connection`). Everything is printed
//! before exiting; one failing object never stops the others.

use super::RenderFlags;
use crate::cluster::client::{Cluster, ConnectOptions};
use crate::diff::normalize::{IgnoreRule, Normalizer};
use crate::diff::plan::{self, Plan, Settings};
use crate::diff::{self as d, dirs, json, summary, unified};
use clap::ValueEnum;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Exit code for errors, conflicts and replacements (kubectl's convention).
pub const EXIT_ERROR: i32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Unified diff; on a terminal followed by the summary table.
    Unified,
    /// The summary table only.
    Summary,
    /// The JSON report (README; JSON Schema in src/diff/report.schema.json).
    Json,
    /// LIVE/ and MERGED/ directories in kubectl's layout (path printed on stdout).
    Dirs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// Colour when stdout is a terminal and NO_COLOR is unset.
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// Files or directories to render and diff; `-` reads stdin.
    ///
    /// Example: kubectl nixernetes diff examples/kubernetes-core/web-app.yaml
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// File or directory to diff (like kubectl's -f); repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub filenames: Vec<String>,
    /// Objects diffed at once, as kubectl's flag; each sends its GET and its dry run
    /// together, so at most twice as many requests are in flight.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// How long one request may wait for its answer (0: forever), in ms, s or m.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_timeout)]
    pub request_timeout: std::time::Duration,
    /// Accepted for kubectl compatibility: the diff is always a server-side apply dry run.
    #[arg(long)]
    pub server_side: bool,
    /// Field manager of the server-side apply dry run.
    #[arg(long, value_name = "NAME", default_value = "nixernetes")]
    pub field_manager: String,
    /// Take over fields other managers own instead of reporting conflicts.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Print Secret values (masked by default in every output).
    #[arg(long)]
    pub show_secrets: bool,
    /// Keep server-owned fields (resourceVersion, generation, uid, creationTimestamp, status,
    /// last-applied annotation); managedFields are always dropped.
    #[arg(long)]
    pub show_server_fields: bool,
    /// Ignore a field: a JSON pointer, optionally for some objects only
    /// (KIND/NAME= or KIND/NAMESPACE/NAME=, globs allowed, KIND may be Kind.group); repeatable.
    ///
    /// Example: --ignore /spec/replicas --ignore 'Deployment.apps/shop/web-*=/metadata/annotations'
    #[arg(long, value_name = "RULE")]
    pub ignore: Vec<String>,
    /// Also list the members of the inventory's ApplySet that the input no longer renders, as
    /// deletions: what `apply --prune` would delete (with -l, only those the selector selects).
    #[arg(long)]
    pub prune: bool,
    /// With --prune, also list Namespaces that left the set.
    #[arg(long, requires = "prune")]
    pub prune_namespaces: bool,
    /// Show the ApplySet parent as `apply --adopt-applyset` would take it over from another tool
    /// (without it, another tool's parent is an error, as for apply).
    #[arg(long)]
    pub adopt_applyset: bool,
    /// Kind of the ApplySet parent (as for apply).
    #[arg(long, value_enum, value_name = "KIND", default_value_t = super::apply::ParentKindFlag::Secret)]
    pub applyset_kind: super::apply::ParentKindFlag,
    /// Output format (default: unified; KUBECTL_EXTERNAL_DIFF set: that program over LIVE/MERGED).
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<Output>,
    /// Directory for -o dirs (default: a new temporary directory).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Context lines in the unified diff.
    #[arg(short = 'U', long = "unified", value_name = "N", default_value_t = 3)]
    pub unified: usize,
    /// Colour the unified diff and the summary.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    #[command(flatten)]
    pub select: super::selector::SelectorFlag,
    #[command(flatten)]
    pub flags: RenderFlags,
    #[command(flatten)]
    pub connection: Box<super::connection::ConnectionFlags>,
}

/// `--request-timeout`: a duration, or `0` for none (as kubectl's flag).
pub fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    if s.trim() == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    super::api_double::parse_duration(s)
}

pub fn run(args: &DiffArgs) -> i32 {
    let inputs: Vec<String> = args.paths.iter().chain(&args.filenames).cloned().collect();
    if inputs.is_empty() {
        eprintln!("error: nothing to diff: give a PATH, -f FILE, or - for stdin");
        return EXIT_ERROR;
    }
    let mut ignore = Vec::new();
    for rule in &args.ignore {
        match IgnoreRule::parse(rule) {
            Ok(r) => ignore.push(r),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
        }
    }
    let selector = args.select.selector.as_ref();
    let super::render::Rendered { objects, namespace } = match super::render::rendered(
        &inputs,
        &args.flags,
        selector,
        super::render::Diagnostics::Errors,
    ) {
        Ok(r) => r,
        Err(_) => return EXIT_ERROR,
    };
    let inventory = match super::apply::inventory(&objects, args.prune) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let mut settings = Settings {
        manager: args.field_manager.clone(),
        force_conflicts: args.force_conflicts,
        normalizer: Normalizer {
            show_server_fields: args.show_server_fields,
            ignore,
        },
        show_secrets: args.show_secrets,
        set: None,
        adopt_applyset: args.adopt_applyset,
        prune: args.prune,
        prune_namespaces: args.prune_namespaces,
        concurrency: usize::from(args.concurrency),
        selector: selector.map(|s| s.label_selector().clone()),
    };
    let connect = ConnectOptions {
        kubeconfig: args.connection.kubeconfig.clone(),
        overrides: args.connection.overrides(),
        namespace: args.flags.namespace.clone(),
        max_requests: 2 * usize::from(args.concurrency),
        request_timeout: (!args.request_timeout.is_zero()).then_some(args.request_timeout),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return EXIT_ERROR;
        }
    };
    let plan = runtime.block_on(async {
        let cluster = Cluster::connect(&connect).await?;
        settings.set = inventory.map(|inv| {
            let parent =
                super::apply::parent(&cluster, namespace.as_deref(), args.applyset_kind, &inv);
            (parent, inv)
        });
        Ok::<Plan, String>(plan::run(&cluster, objects, &settings).await)
    });
    let plan = match plan {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    // A failure to write the output is an error, never "changes".
    if print(&plan, args) != 0 {
        return EXIT_ERROR;
    }
    if plan.errors.is_empty() {
        d::exit_code(&plan.objects)
    } else {
        EXIT_ERROR
    }
}

/// Prints `plan` as asked; a non-zero result is an output failure.
fn print(plan: &Plan, args: &DiffArgs) -> i32 {
    let tty = std::io::stdout().is_terminal();
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let external = std::env::var("KUBECTL_EXTERNAL_DIFF")
        .ok()
        .filter(|s| !s.trim().is_empty());
    match (args.output, external) {
        (Some(Output::Json), _) => {
            let mut s = serde_json::to_vec_pretty(&json::report(plan)).unwrap_or_default();
            s.push(b'\n');
            super::emit(&s)
        }
        (Some(Output::Summary), _) => super::emit(summary::render(plan, color).as_bytes()),
        (Some(Output::Dirs), _) => {
            failures_to_stderr(plan);
            let dir = match &args.output_dir {
                Some(d) => d.clone(),
                None => match tempfile::Builder::new()
                    .prefix("nixernetes-diff-")
                    .tempdir()
                {
                    Ok(t) => t.keep(),
                    Err(e) => {
                        eprintln!("error: cannot create a temporary directory: {e}");
                        return EXIT_ERROR;
                    }
                },
            };
            match dirs::write(plan, &dir) {
                Ok(_) => super::emit(format!("{}\n", dir.display()).as_bytes()),
                Err(e) => {
                    eprintln!("error: writing {}: {e}", dir.display());
                    EXIT_ERROR
                }
            }
        }
        (None, Some(program)) => {
            failures_to_stderr(plan);
            run_external(plan, &program)
        }
        (Some(Output::Unified) | None, _) => {
            failures_to_stderr(plan);
            let style = unified::Style {
                context: args.unified,
                color,
            };
            let mut text = unified::render(plan, style);
            if tty {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&summary::render(plan, color));
            } else {
                eprintln!("{}", d::summary_line(&plan.objects));
            }
            super::emit(text.as_bytes())
        }
    }
}

/// Objects that could not be diffed and run-level errors, on stderr.
fn failures_to_stderr(plan: &Plan) {
    for o in plan.objects.iter().filter(|o| o.op.is_failure()) {
        let mut line = format!("{}: {}: ", o.id, o.op.as_str());
        if o.conflicts.is_empty() {
            line.push_str(o.message.as_deref().unwrap_or_default());
        } else {
            let owners: Vec<String> = o
                .conflicts
                .iter()
                .map(|c| format!("{} owned by {:?}", c.field, c.manager))
                .collect();
            line.push_str(&owners.join(", "));
            line.push_str(&conflict_hint(&o.conflicts));
        }
        eprintln!("{line}");
    }
    for e in &plan.errors {
        eprintln!("error: {e}");
    }
}

/// What resolves conflicts with these owners. kubectl's own managers mean the objects were
/// applied by hand under kubectl's default field manager (`kubectl apply --server-side`) or
/// client-side (`kubectl apply`): one forced server-side apply under ours moves the fields over.
fn conflict_hint(conflicts: &[d::Conflict]) -> String {
    let by = |m: &str| conflicts.iter().any(|c| c.manager == m);
    let once = "kubectl apply --server-side --field-manager nixernetes --force-conflicts";
    if by("kubectl-client-side-apply") {
        format!(" (applied with client-side `kubectl apply`: `{once}` takes its fields over once; apply with `--field-manager nixernetes` from then on)")
    } else if by("kubectl") {
        format!(" (applied with `kubectl apply --server-side` under kubectl's default field manager: `{once}` moves the fields to nixernetes once; apply with `--field-manager nixernetes` from then on)")
    } else {
        " (--force-conflicts takes them over)".to_string()
    }
}

/// Writes LIVE/MERGED to a temporary directory and runs the `KUBECTL_EXTERNAL_DIFF` program
/// over it (its exit status 0 or 1 only says whether it saw differences).
fn run_external(plan: &Plan, spec: &str) -> i32 {
    let tmp = match tempfile::Builder::new()
        .prefix("nixernetes-diff-")
        .tempdir()
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot create a temporary directory: {e}");
            return EXIT_ERROR;
        }
    };
    let (live, merged) = match dirs::write(plan, tmp.path()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: writing {}: {e}", tmp.path().display());
            return EXIT_ERROR;
        }
    };
    let Some((program, argv)) = dirs::external_command(spec, &live, &merged) else {
        return 0;
    };
    match std::process::Command::new(&program).args(&argv).status() {
        Ok(s) if s.code().is_some_and(|c| c <= 1) => 0,
        Ok(s) => {
            eprintln!("error: KUBECTL_EXTERNAL_DIFF program {program:?} failed: {s}");
            EXIT_ERROR
        }
        Err(e) => {
            eprintln!("error: cannot run KUBECTL_EXTERNAL_DIFF program {program:?}: {e}");
            EXIT_ERROR
        }
    }
}
