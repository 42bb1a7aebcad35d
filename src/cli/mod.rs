//! Command line: one clap struct per subcommand, dispatch, and the protocol auto-detection that
//! lets the same binary be a legacy Kustomize plugin or a KRM function without arguments.
//!
//! Exit codes (all modes): 0 success; 1 the input has errors (located on stderr or in `results`);
//! 2 usage error (bad flags). A closed stdout (broken pipe) ends quietly with 0.

pub mod api_double;
pub mod check;
pub mod diff;
pub mod explain;
pub mod function;
pub mod kinds;
pub mod kustomize_plugin;
pub mod render;
pub mod schema;
pub mod version;

use crate::finding::Finding;
use crate::report::text;
use crate::settings::{parse_pairs, Overrides};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Map, Value};
use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};

/// Exit code for input errors.
pub const EXIT_INVALID: i32 = 1;
/// Exit code for usage errors.
pub const EXIT_USAGE: i32 = 2;

/// Render declarative platform modules into validated, labelled Kubernetes manifests.
///
/// Module resources (apiVersion nixernetes.io/v1alpha1, e.g. kind: WebApp) expand into
/// Kubernetes objects; other objects pass through with the platform's labels added.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-nixernetes",
    bin_name = "kubectl nixernetes",
    version,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render files, directories or stdin to a YAML stream (or a JSON List).
    Render(render::RenderArgs),
    /// Check any Kubernetes YAML against the built-in policy checks.
    Check(check::CheckArgs),
    /// Show what applying the rendered input would change in a live cluster.
    Diff(diff::DiffArgs),
    /// Run as a KRM function: ResourceList on stdin, ResourceList on stdout.
    #[command(name = "fn")]
    Function(function::FnArgs),
    /// Run as a legacy Kustomize exec plugin (`kubectl kustomize --enable-alpha-plugins`).
    KustomizePlugin(kustomize_plugin::PluginArgs),
    /// Manage the legacy Kustomize plugin tree.
    KustomizePlugins(kustomize_plugin::PluginsArgs),
    /// List every kind, with its seed module, role and one line.
    Kinds(kinds::KindsArgs),
    // The help of these two is on their argument structs.
    Explain(explain::ExplainArgs),
    Schema(schema::SchemaArgs),
    /// Print the version.
    Version(version::VersionArgs),
    /// Serve an in-memory Kubernetes API server (for trying kubectl or diff without a cluster).
    #[cfg(feature = "api-double")]
    ApiDouble(api_double::ApiDoubleArgs),
}

/// Output formats of `render`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// A multi-document YAML stream.
    #[default]
    Yaml,
    /// One `v1 List` JSON document.
    Json,
}

/// Settings every rendering mode accepts (flags over `PlatformDefaults`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RenderFlags {
    /// Namespace for objects that name none (module resources default to "default").
    ///
    /// Example: -n shop
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Label for every emitted object, KEY=VALUE; repeatable.
    ///
    /// Example: --label team=payments --label env=prod
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Annotation for every emitted object, KEY=VALUE; repeatable.
    ///
    /// Example: --annotation owner=platform@example.com
    #[arg(long = "annotation", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// Inventory (apply set) name, stamped as label nixernetes.io/inventory.
    ///
    /// Example: --inventory shop-prod
    #[arg(long)]
    pub inventory: Option<String>,
    /// Target Kubernetes minor version (1.35, 1.36 or 1.37).
    ///
    /// Example: --kubernetes-version 1.36
    #[arg(long, value_name = "MINOR")]
    pub kubernetes_version: Option<String>,
    /// Stamp annotation nixernetes.io/created-at (from SOURCE_DATE_EPOCH when set, else now).
    #[arg(long)]
    pub timestamp: bool,
    #[command(flatten)]
    pub policy: PolicyFlags,
    /// Also print info findings (fixes applied, exemptions, advice) on stderr.
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// Policy settings on the command line (over `PlatformDefaults`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PolicyFlags {
    /// Pod Security profile pods are held to (default: from the level, else baseline).
    ///
    /// Example: --profile restricted
    #[arg(long, value_enum)]
    pub profile: Option<crate::types::Profile>,
    /// Compliance level; medium and above make restricted Pod Security, network policy coverage
    /// and compliance labels errors.
    ///
    /// Example: --level high
    #[arg(long, value_enum)]
    pub level: Option<crate::types::Level>,
    /// Fail the run on check errors (the default is audit: report them as warnings).
    #[arg(long, conflicts_with = "enforcement")]
    pub enforce: bool,
    /// What failing checks do: enforce, audit (default) or off.
    ///
    /// Example: --enforcement off
    #[arg(long, value_enum)]
    pub enforcement: Option<crate::types::Enforcement>,
    /// Also apply the safe auto-fixes (seccomp, no privilege escalation, non-root, drop ALL,
    /// default resources, pull policy, no token automount) to pass-through objects; objects the
    /// modules emit always get them. Only unset fields are filled; each fix is reported.
    #[arg(long)]
    pub fix: bool,
}

impl PolicyFlags {
    pub fn enforcement(&self) -> Option<crate::types::Enforcement> {
        if self.enforce {
            Some(crate::types::Enforcement::Enforce)
        } else {
            self.enforcement
        }
    }
}

impl RenderFlags {
    /// The overrides these flags ask for.
    pub fn overrides(&self) -> Result<Overrides, Vec<Finding>> {
        let mut errors = Vec::new();
        let mut pairs = |list: &[String], flag: &str| {
            parse_pairs(list.iter().map(String::as_str)).unwrap_or_else(|e| {
                errors.push(Finding::error(e).field(flag.to_string()));
                Map::new()
            })
        };
        let labels = pairs(&self.labels, "--label");
        let annotations = pairs(&self.annotations, "--annotation");
        let timestamp = timestamp(self.timestamp).unwrap_or_else(|e| {
            errors.push(Finding::error(e).field("SOURCE_DATE_EPOCH"));
            None
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Overrides {
            namespace: self.namespace.clone(),
            kubernetes_version: self.kubernetes_version.clone(),
            inventory: self.inventory.clone(),
            labels,
            annotations,
            timestamp,
            no_namespace_fallback: false,
            profile: self.policy.profile,
            level: self.policy.level,
            enforcement: self.policy.enforcement(),
            fix: self.policy.fix,
        })
    }
}

/// `nixernetes.io/created-at`: `SOURCE_DATE_EPOCH` wins (reproducible builds), else the clock,
/// and only when asked for (the flag, or `SOURCE_DATE_EPOCH` being set).
fn timestamp(flag: bool) -> Result<Option<String>, String> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) => {
            let secs: i64 = s
                .trim()
                .parse()
                .map_err(|_| format!("SOURCE_DATE_EPOCH {s:?} is not a number of seconds"))?;
            Ok(Some(crate::types::time::rfc3339(secs)))
        }
        Err(_) if flag => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            Ok(Some(crate::types::time::rfc3339(now)))
        }
        Err(_) => Ok(None),
    }
}

/// Runs the tool with `args` (argv, program name first) on the process's stdio.
pub fn run(args: Vec<OsString>) -> i32 {
    // Legacy Kustomize exec plugin: kustomize runs the plugin with the config file as argv[1]
    // and the config in KUSTOMIZE_PLUGIN_CONFIG_STRING.
    if std::env::var_os("KUSTOMIZE_PLUGIN_CONFIG_STRING").is_some() && args.len() >= 2 {
        let first = std::path::Path::new(&args[1]);
        if first.is_file() {
            return kustomize_plugin::run_plugin(first);
        }
    }
    // No arguments and a piped stdin: a KRM function run by an orchestrator.
    if args.len() == 1 && !std::io::stdin().is_terminal() {
        return function::run_from_stdin(true);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { 0 };
        }
    };
    match cli.command {
        Command::Render(a) => render::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Diff(a) => diff::run(&a),
        Command::Function(_) => function::run_from_stdin(false),
        Command::KustomizePlugin(a) => kustomize_plugin::run_plugin(&a.config),
        Command::KustomizePlugins(a) => kustomize_plugin::run_plugins(&a),
        Command::Kinds(a) => kinds::run(&a),
        Command::Explain(a) => explain::run(&a),
        Command::Schema(a) => schema::run(&a),
        Command::Version(a) => version::run(&a),
        #[cfg(feature = "api-double")]
        Command::ApiDouble(a) => api_double::run(&a),
    }
}

/// Reads all of stdin.
pub fn read_stdin() -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin().lock().read_to_end(&mut buf)?;
    Ok(buf)
}

/// Prints errors and warnings on stderr; `info` findings (fixes, exemptions, advice) only when
/// `verbose`, else a one-line count of them.
pub fn print_diagnostics(findings: &[Finding], verbose: bool) {
    if verbose {
        return print_findings(findings);
    }
    let shown = |f: &&Finding| f.severity > crate::finding::Severity::Info;
    write_findings(findings.iter().filter(shown));
    let hidden = findings.len() - findings.iter().filter(shown).count();
    if hidden > 0 {
        eprintln!("note: {hidden} info findings (fixes, exemptions, advice) not shown; run with -v to see them");
    }
}

/// Prints findings on stderr.
pub fn print_findings(findings: &[Finding]) {
    write_findings(findings);
}

/// Writes findings to a buffered stderr, one line each, as they come.
fn write_findings<'a>(findings: impl IntoIterator<Item = &'a Finding>) {
    let mut err = std::io::BufWriter::with_capacity(1 << 16, std::io::stderr().lock());
    let _ = text::render(&mut err, findings).and_then(|_| err.flush());
}

/// Streams YAML documents to stdout (only called once the whole output is known to be valid);
/// a closed pipe is not an error.
pub fn emit_stream(values: impl IntoIterator<Item = Value>) -> i32 {
    emit_with(|out| crate::yaml::write_stream(out, values))
}

/// Writes output to a buffered stdout with `write`; a closed pipe is not an error.
pub fn emit_with(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> i32 {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match write(&mut out).and_then(|_| out.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: writing output: {e}");
            EXIT_INVALID
        }
    }
}

/// Writes the whole output to stdout at once; a closed pipe is not an error.
pub fn emit(bytes: &[u8]) -> i32 {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: writing output: {e}");
            EXIT_INVALID
        }
    }
}
