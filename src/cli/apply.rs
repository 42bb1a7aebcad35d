//! `kubectl nixernetes apply`: renders the input and server-side applies it (field manager
//! `nixernetes`), Namespaces and CRDs first, with ApplySet pruning (`--prune`) and an optional
//! wait for the rollouts (`--wait`).
//!
//! Exit codes: 0 everything applied (and, with `--wait`, rolled out); 1 everything applied, but
//! `--wait` saw an object not roll out in time or fail to; 2 any object not applied or pruned
//! (error, conflict, required replacement), a failure of the ApplySet, bad flags, unreadable,
//! invalid or empty input, an unreachable cluster. One failing object never stops the others;
//! every outcome is printed, then a summary line on stderr.

use super::RenderFlags;
use crate::apply::{self, rollout, DryRun, Report, Set, Settings};
use crate::cluster::applyset::{Parent, ParentKind};
use crate::cluster::client::{Cluster, ConnectOptions};
use crate::diff::Op;
use crate::engine::inject::INVENTORY;
use clap::ValueEnum;
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// Exit code for errors (as `diff`).
pub const EXIT_ERROR: i32 = 2;
/// Exit code for `--wait` seeing an object not roll out.
pub const EXIT_NOT_READY: i32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRunFlag {
    /// Apply for real.
    None,
    /// Send every write with dryRun=All: the server admits and validates, nothing persists.
    Server,
    /// Send no writes: only read what is live (created when absent, else applied unverified).
    Client,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// The ApplyReport as JSON (README; JSON Schema in src/apply/report.schema.json).
    Json,
    /// The same report as YAML.
    Yaml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ParentKindFlag {
    Secret,
    #[value(name = "configmap")]
    ConfigMap,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 applied; 1 applied, but --wait saw an object not roll out; \
                        2 any object not applied or pruned, or any other error."
)]
pub struct ApplyArgs {
    /// Files or directories to render and apply; `-` reads stdin.
    ///
    /// Example: kubectl nixernetes apply examples/kubernetes-core/web-app.yaml
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// File or directory to apply (like kubectl's -f); repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub filenames: Vec<String>,
    /// Requests in flight at once (the live state is read with one LIST per kind and
    /// namespace, then each object is applied).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// How long one request may wait for its answer (0: forever), in ms, s or m.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = super::diff::parse_timeout)]
    pub request_timeout: Duration,
    /// Accepted for kubectl compatibility: apply is always server-side.
    #[arg(long)]
    pub server_side: bool,
    /// Field manager of the server-side apply.
    #[arg(long, value_name = "NAME", default_value = "nixernetes")]
    pub field_manager: String,
    /// Take over fields other managers own instead of failing with a conflict.
    #[arg(long)]
    pub force_conflicts: bool,
    /// none: apply; server: every write with dryRun=All; client: no writes at all.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = DryRunFlag::None)]
    pub dry_run: DryRunFlag,
    /// Delete the members of the inventory's ApplySet that the input no longer renders (not
    /// objects owned by others, of other ApplySets, or Namespaces without --prune-namespaces).
    #[arg(long)]
    pub prune: bool,
    /// With --prune, also delete Namespaces that left the set (and so everything in them).
    #[arg(long, requires = "prune")]
    pub prune_namespaces: bool,
    /// Kind of the ApplySet parent: a Secret or a ConfigMap named after the inventory, in the
    /// namespace of -n (else PlatformDefaults spec.namespace, else the kubeconfig context's).
    #[arg(long, value_enum, value_name = "KIND", default_value_t = ParentKindFlag::Secret)]
    pub applyset_kind: ParentKindFlag,
    /// Take over an ApplySet another tool (e.g. kubectl) manages; that tool then refuses it.
    #[arg(long)]
    pub adopt_applyset: bool,
    /// Wait for the rollouts as `kubectl rollout status` judges them (Deployments,
    /// StatefulSets, DaemonSets; Jobs complete; objects with a Ready condition), at most this
    /// long (default 5m).
    ///
    /// Example: --wait=2m
    #[arg(long, value_name = "TIMEOUT", num_args = 0..=1, require_equals = true,
          default_missing_value = "5m", value_parser = super::api_double::parse_duration)]
    pub wait: Option<Duration>,
    /// Print one report of every object's outcome (and of --wait) on stdout instead of the
    /// lines, in the shapes of `diff -o json`; exit codes are the same.
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<Output>,
    #[command(flatten)]
    pub select: super::selector::SelectorFlag,
    #[command(flatten)]
    pub flags: RenderFlags,
    #[command(flatten)]
    pub connection: Box<super::connection::ConnectionFlags>,
}

/// The inventory of the rendered `objects` (label nixernetes.io/inventory): at most one, a
/// valid object name; `prune` needs one.
pub fn inventory(objects: &[serde_json::Value], prune: bool) -> Result<Option<String>, String> {
    let inventories: BTreeSet<String> = objects
        .iter()
        .filter_map(|o| o["metadata"]["labels"][INVENTORY].as_str())
        .map(str::to_string)
        .collect();
    if inventories.len() > 1 {
        let names: Vec<&str> = inventories.iter().map(String::as_str).collect();
        return Err(format!("the input's objects belong to several inventories ({}): one inventory (one ApplySet) at a time", names.join(", ")));
    }
    let inventory = inventories.into_iter().next();
    match &inventory {
        None if prune => Err(format!("--prune needs an inventory: set --inventory NAME or PlatformDefaults spec.inventory, so that rendered objects carry the label {INVENTORY} (the ApplySet is named after it)")),
        Some(inv) => crate::validate::names::dns1123_subdomain(inv)
            .map(|_| inventory.clone())
            .map_err(|e| format!("inventory {inv:?} cannot name the ApplySet parent: {e}")),
        None => Ok(None),
    }
}

/// The ApplySet parent of `inventory`: in the namespace the rendered objects default to
/// (`namespace`: -n, else `PlatformDefaults spec.namespace`), else the kubeconfig context's.
pub fn parent(
    cluster: &Cluster,
    namespace: Option<&str>,
    kind: ParentKindFlag,
    inventory: &str,
) -> Parent {
    Parent {
        kind: match kind {
            ParentKindFlag::Secret => ParentKind::Secret,
            ParentKindFlag::ConfigMap => ParentKind::ConfigMap,
        },
        name: inventory.to_string(),
        namespace: namespace
            .unwrap_or_else(|| cluster.default_namespace())
            .to_string(),
    }
}

pub fn run(args: &ApplyArgs) -> i32 {
    let inputs: Vec<String> = args.paths.iter().chain(&args.filenames).cloned().collect();
    if inputs.is_empty() {
        eprintln!("error: nothing to apply: give a PATH, -f FILE, or - for stdin");
        return EXIT_ERROR;
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
    let inventory = match inventory(&objects, args.prune) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let connect = ConnectOptions {
        kubeconfig: args.connection.kubeconfig.clone(),
        overrides: args.connection.overrides(),
        namespace: args.flags.namespace.clone(),
        max_requests: usize::from(args.concurrency),
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
    let dry_run = match args.dry_run {
        DryRunFlag::None => DryRun::None,
        DryRunFlag::Server => DryRun::Server,
        DryRunFlag::Client => DryRun::Client,
    };
    let result = runtime.block_on(async {
        let cluster = Cluster::connect(&connect).await?;
        let set = inventory.map(|inv| Set {
            parent: parent(&cluster, namespace.as_deref(), args.applyset_kind, &inv),
            inventory: inv,
            adopt: args.adopt_applyset,
        });
        let settings = Settings {
            manager: args.field_manager.clone(),
            force_conflicts: args.force_conflicts,
            dry_run,
            concurrency: usize::from(args.concurrency),
            selector: selector.map(|s| s.label_selector().clone()),
            set,
            prune: args.prune,
            prune_namespaces: args.prune_namespaces,
            crd_timeout: Duration::from_secs(60),
        };
        let report = apply::run(&cluster, objects, &settings).await;
        let clean = report.errors.is_empty() && !report.objects.iter().any(|o| o.op.is_failure());
        let lines = args.output.is_none();
        if lines {
            print(&report, dry_run);
        }
        let mut not_ready = Vec::new();
        let mut waited = false;
        if let (Some(timeout), true, DryRun::None) = (args.wait, clean, dry_run) {
            waited = true;
            let tty = std::io::stderr().is_terminal();
            let mut progress = |ready: usize, total: usize, first: &str| {
                if tty {
                    let mut line = format!("waiting: {ready}/{total} rolled out");
                    if !first.is_empty() {
                        line.push_str(&format!("; {first}"));
                    }
                    line.truncate(200);
                    let mut err = std::io::stderr().lock();
                    let _ = write!(err, "\r\x1b[2K{line}");
                    let _ = err.flush();
                }
            };
            not_ready = rollout::wait(
                &cluster,
                &report.applied,
                timeout,
                usize::from(args.concurrency),
                &mut progress,
            )
            .await;
            if tty {
                eprint!("\r\x1b[2K");
            }
            let total = report.applied.len();
            for w in not_ready.iter().filter(|_| lines) {
                match &w.state {
                    rollout::State::Failed(why) => eprintln!("{}: not rolled out: {why}", w.id),
                    rollout::State::Waiting(why) => {
                        eprintln!("{}: not rolled out after {}: {why}", w.id, human(timeout))
                    }
                    rollout::State::Ready => {}
                }
            }
            if lines {
                eprintln!("{} of {total} rolled out", total - not_ready.len());
            }
        }
        let code = match (clean, not_ready.is_empty()) {
            (false, _) => EXIT_ERROR,
            (true, false) => EXIT_NOT_READY,
            (true, true) => 0,
        };
        if let Some(format) = args.output {
            let rollout = waited.then(|| apply::json::Rollout {
                total: report.applied.len(),
                not_ready: &not_ready,
            });
            let value = apply::json::report(&report, dry_run, code, rollout);
            let written = match format {
                Output::Json => {
                    let mut s = serde_json::to_vec_pretty(&value).unwrap_or_default();
                    s.push(b'\n');
                    super::emit(&s)
                }
                Output::Yaml => super::emit(crate::yaml::to_string(&value).as_bytes()),
            };
            if written != 0 {
                return Ok(EXIT_ERROR);
            }
        }
        Ok::<i32, String>(code)
    });
    match result {
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_ERROR
        }
        Ok(code) => code,
    }
}

fn human(d: Duration) -> String {
    if !d.as_millis().is_multiple_of(1000) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs())
    }
}

/// The word for an outcome (kubectl's, where it has one).
fn word(op: Op) -> &'static str {
    match op {
        Op::Create => "created",
        Op::Update => "configured",
        Op::Unchanged => "unchanged",
        Op::Delete => "pruned",
        other => other.as_str(),
    }
}

/// Outcomes on stdout (failures on stderr), in input order, then the summary on stderr.
fn print(report: &Report, dry_run: DryRun) {
    let suffix = match dry_run {
        DryRun::None => "",
        DryRun::Server => " (server dry run)",
        DryRun::Client => " (client dry run)",
    };
    let mut out = String::new();
    for o in &report.objects {
        if o.op.is_failure() {
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
                line.push_str(" (--force-conflicts takes them over)");
            }
            eprintln!("{line}");
        } else {
            out.push_str(&format!("{} {}{suffix}", o.id, word(o.op)));
            for n in &o.notes {
                out.push_str(&format!(" ({n})"));
            }
            out.push('\n');
        }
    }
    let _ = super::emit(out.as_bytes());
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    let counts = crate::diff::counts(&report.objects);
    let parts: Vec<String> = counts
        .into_iter()
        .filter(|&(op, n)| n > 0 || op == Op::Unchanged)
        .map(|(op, n)| format!("{n} {}", word(op)))
        .collect();
    eprintln!("{}{suffix}", parts.join(", "));
}
