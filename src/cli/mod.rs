//! Command line: one clap struct per subcommand, dispatch, and the protocol auto-detection that
//! lets the same binary be a legacy Kustomize plugin or a KRM function without arguments.
//!
//! Exit codes (all modes): 0 success; 1 the input has errors (located on stderr or in `results`);
//! 2 usage error (bad flags). A closed stdout (broken pipe) ends quietly with 0.

pub mod api_double;
pub mod apply;
pub mod check;
pub mod complete;
pub mod completion;
pub mod connection;
pub mod diff;
pub mod explain;
pub mod function;
pub mod kinds;
pub mod kustomize_plugin;
pub mod man;
pub mod render;
pub mod schema;
pub mod selector;
pub mod version;

use crate::finding::Finding;
use crate::report::text;
use crate::settings::{self, Overrides, Setting};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;
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
    max_term_width = 100,
    after_help = "Environment:\n  NIXERNETES_YAML_FAST=0  read YAML without the fast reader: the same output, more slowly\n                          \
                  (rules the fast reader out when a reading looks wrong; see docs/yaml.md)"
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
    /// Server-side apply the rendered input, with ApplySet pruning and a wait for rollouts.
    Apply(apply::ApplyArgs),
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
    // The help of these two is on their argument structs.
    Completion(completion::CompletionArgs),
    Man(man::ManArgs),
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

/// Settings every rendering mode accepts (flags over `PlatformDefaults`). Each is a row of
/// `settings::SETTINGS`, read through its parser.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RenderFlags {
    /// Namespace for objects that name none (module resources default to "default").
    ///
    /// Example: -n shop
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Label for every emitted object, KEY=VALUE; repeatable. (There is no short form: -l is
    /// --selector, as in kubectl.)
    ///
    /// Example: --label team=payments --label env=prod
    #[arg(long = "label", value_name = "KEY=VALUE")]
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
    /// Namespace of the metrics scrapers (Prometheus): the generated NetworkPolicies let it
    /// reach the metrics ports of what the modules run (default monitoring).
    ///
    /// Example: --monitoring-namespace observability
    #[arg(long, value_name = "NAMESPACE")]
    pub monitoring_namespace: Option<String>,
    /// Stamp annotation nixernetes.io/created-at (from SOURCE_DATE_EPOCH when set, else now).
    #[arg(long)]
    pub timestamp: bool,
    /// Emit each ValidationRule with spec.admission.export: true as a
    /// ValidatingAdmissionPolicy and binding: none (default), include (beside the output) or
    /// only (just the policies and their parameter objects). See docs/rules.md.
    ///
    /// Example: --admission-policies=only
    #[arg(long, value_name = "WHICH", value_enum)]
    pub admission_policies: Option<crate::types::AdmissionPolicies>,
    #[command(flatten)]
    pub policy: PolicyFlags,
    /// Also print info findings (fixes applied, exemptions, advice) on stderr.
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// Policy settings on the command line (over `PlatformDefaults`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PolicyFlags {
    /// Target Kubernetes minor, 1.31 to 1.37 (default 1.31, served by every supported cluster):
    /// the APIs the output uses and what stable-api-version judges against.
    ///
    /// Example: --kubernetes-version 1.35
    #[arg(long, value_name = "MINOR", value_enum)]
    pub kubernetes_version: Option<crate::types::KubernetesVersion>,
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
    /// Turn a check off for the whole run (not only for one object, as an
    /// ignore-check.nixernetes.io/ID annotation does), optionally with a reason after a colon;
    /// repeatable. Reports show it once, with the reason.
    ///
    /// Example: --disable-check "min-replicas: one replica in the dev cluster"
    #[arg(long = "disable-check", value_name = "ID[: REASON]")]
    pub disable_checks: Vec<String>,
    /// Turn a check on for the whole run, even where the profile or level would not run it,
    /// optionally at a severity of its own (error, warning or info) and with a reason;
    /// repeatable. Replaces a PlatformDefaults spec.checks entry of the same check.
    ///
    /// Example: --enable-check "image-digest=error: production pins every image"
    #[arg(long = "enable-check", value_name = "ID[=SEVERITY][: REASON]")]
    pub enable_checks: Vec<String>,
    /// ValidationRules to check every object against (and ValidatingAdmissionPolicies with
    /// their bindings, evaluated the same way): a file or a directory; repeatable. Rules in the
    /// input itself are read too.
    ///
    /// Example: --rules rules/
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<String>,
    /// KindDefinitions (your own kinds, which instances in the input expand through): a file
    /// or a directory; repeatable. Also read from NIXERNETES_KINDS (paths separated by commas)
    /// and from the input itself.
    ///
    /// Example: --kinds kinds/
    #[arg(long = "kinds", value_name = "PATH")]
    pub kinds: Vec<String>,
    /// CustomResourceDefinitions to validate custom resources against (the `schema` check): a
    /// CRD manifest, a JSON Schema file `<group>/<kind>_<version>.json`, or a directory of
    /// either (read recursively); repeatable. CRDs in the input itself are read too.
    ///
    /// Example: --crd crds/
    #[arg(long = "crd", value_name = "DIR|FILE")]
    pub crds: Vec<String>,
    /// Make an object with no schema (a custom resource whose CRD was not given) a `schema`
    /// error instead of a note.
    #[arg(long)]
    pub fail_on_unknown_schema: bool,
}

/// A setting given on the command line: its row, the flag that gave it, its value.
type Given = (&'static Setting, &'static str, Value);

impl PolicyFlags {
    /// The settings these flags give, as the table reads them.
    fn given(&self) -> Vec<Given> {
        let mut given: Vec<Given> = Vec::new();
        let mut give = |setting, flag, value: &str| given.push((setting, flag, text(value)));
        if let Some(v) = self.kubernetes_version {
            give(
                &settings::KUBERNETES_VERSION,
                "--kubernetes-version",
                &v.to_string(),
            );
        }
        if let Some(p) = self.profile {
            give(&settings::PROFILE, "--profile", p.as_str());
        }
        if let Some(l) = self.level {
            give(&settings::LEVEL, "--level", l.as_str());
        }
        if self.enforce {
            give(&settings::ENFORCEMENT, "--enforce", "enforce");
        } else if let Some(e) = self.enforcement {
            give(&settings::ENFORCEMENT, "--enforcement", e.as_str());
        }
        if self.fix {
            give(&settings::FIX, "--fix", "true");
        }
        if self.fail_on_unknown_schema {
            give(
                &settings::FAIL_ON_UNKNOWN_SCHEMA,
                "--fail-on-unknown-schema",
                "true",
            );
        }
        if !self.kinds.is_empty() {
            let paths = self.kinds.iter().map(|p| text(p)).collect();
            given.push((&settings::KINDS, "--kinds", Value::Array(paths)));
        }
        // A list, one entry per flag: a reason may hold a comma.
        for (setting, flag, list) in [
            (
                &settings::DISABLE_CHECK,
                "--disable-check",
                &self.disable_checks,
            ),
            (
                &settings::ENABLE_CHECK,
                "--enable-check",
                &self.enable_checks,
            ),
        ] {
            if !list.is_empty() {
                given.push((
                    setting,
                    flag,
                    Value::Array(list.iter().map(|e| text(e)).collect()),
                ));
            }
        }
        given
    }

    /// The rule objects of the `--rules` paths, then of `NIXERNETES_RULES` (with `argocd`, also
    /// `ARGOCD_ENV_NIXERNETES_RULES`), read from disk, never from stdin.
    pub fn read_rules(&self, argocd: bool) -> Result<Vec<crate::resource::Resource>, Vec<Finding>> {
        if self.rules.iter().any(|p| p == "-") {
            return Err(vec![Finding::error(
                "--rules reads files and directories, not stdin (-): give the rules' path",
            )]);
        }
        let mut paths = self.rules.clone();
        let mut errors = Vec::new();
        let mut vars = vec![settings::PATH_VARIABLES[0].to_string()];
        if argocd {
            vars.push(format!("ARGOCD_ENV_{}", settings::PATH_VARIABLES[0]));
        }
        for var in vars {
            let Some(list) = std::env::var_os(&var).filter(|v| !v.is_empty()) else {
                continue;
            };
            for path in std::env::split_paths(&list) {
                let shown = path.display().to_string();
                if shown.is_empty() {
                    continue;
                }
                if !path.exists() {
                    errors.push(
                        Finding::error(format!(
                            "{shown}: no such file or directory (a list of rule files and directories, separated by `:`, like --rules)"
                        ))
                        .field(var.clone()),
                    );
                } else {
                    paths.push(shown);
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        crate::source::files::read_all(&paths, &mut std::io::empty())
    }

    /// The custom resource schemas of the `--crd` paths (read from disk, never from stdin).
    pub fn read_schemas(
        &self,
    ) -> Result<Vec<crate::schema::resources::SchemaSource>, Vec<Finding>> {
        crate::source::crds::read(&self.crds)
    }

    /// Lays the Kubernetes version, profile and level over `o`: what `check` reads (it reports
    /// whatever the enforcement, and checks objects as written).
    pub fn apply_judging(&self, o: &mut Overrides) -> Result<(), Vec<Finding>> {
        let judging = [
            settings::KUBERNETES_VERSION.name,
            settings::PROFILE.name,
            settings::LEVEL.name,
            settings::KINDS.name,
            settings::FAIL_ON_UNKNOWN_SCHEMA.name,
            settings::DISABLE_CHECK.name,
            settings::ENABLE_CHECK.name,
        ];
        let given = self
            .given()
            .into_iter()
            .filter(|(s, _, _)| judging.contains(&s.name));
        apply_given(o, given)
    }
}

impl RenderFlags {
    /// Lays these flags over `o`, the settings of the sources below them.
    pub fn apply(&self, o: &mut Overrides) -> Result<(), Vec<Finding>> {
        let mut given: Vec<Given> = Vec::new();
        if let Some(ns) = &self.namespace {
            given.push((&settings::NAMESPACE, "--namespace", text(ns)));
        }
        if let Some(i) = &self.inventory {
            given.push((&settings::INVENTORY, "--inventory", text(i)));
        }
        if let Some(ns) = &self.monitoring_namespace {
            given.push((
                &settings::MONITORING_NAMESPACE,
                "--monitoring-namespace",
                text(ns),
            ));
        }
        // A list, one pair per flag: a value may hold a comma.
        let list = |l: &[String]| Value::Array(l.iter().map(|p| text(p)).collect());
        if !self.labels.is_empty() {
            given.push((&settings::LABELS, "--label", list(&self.labels)));
        }
        if !self.annotations.is_empty() {
            given.push((
                &settings::ANNOTATIONS,
                "--annotation",
                list(&self.annotations),
            ));
        }
        // SOURCE_DATE_EPOCH asks for the stamp too (reproducible builds set it).
        if self.timestamp {
            given.push((&settings::TIMESTAMP, "--timestamp", text("true")));
        } else if std::env::var_os("SOURCE_DATE_EPOCH").is_some() {
            given.push((&settings::TIMESTAMP, "SOURCE_DATE_EPOCH", text("true")));
        }
        if let Some(a) = self.admission_policies {
            given.push((
                &settings::ADMISSION_POLICIES,
                "--admission-policies",
                text(a.as_str()),
            ));
        }
        given.extend(self.policy.given());
        apply_given(o, given)
    }
}

/// A flag's value as the settings table reads text.
fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

/// Applies settings given on the command line; every error names its flag.
fn apply_given(
    o: &mut Overrides,
    given: impl IntoIterator<Item = Given>,
) -> Result<(), Vec<Finding>> {
    let errors: Vec<Finding> = given
        .into_iter()
        .filter_map(|(setting, flag, value)| {
            let before = o.checks.len();
            let applied = setting.apply(o, &value);
            // Reports say which flag configured a check.
            for (_, c) in &mut o.checks[before..] {
                c.source = flag.to_string();
            }
            applied
                .err()
                .map(|e| Finding::error(e).field(flag.to_string()))
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Runs the tool with `args` (argv, program name first) on the process's stdio.
pub fn run(args: Vec<OsString>) -> i32 {
    // A misspelt switch would silently leave the fast YAML reader on: refuse it in every mode.
    if let Err(e) = crate::yaml::fast_reader() {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
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
    // kubectl's plugin completion (kubectl_complete-nixernetes): not a clap subcommand, so that
    // the words completed are never parsed as flags, and the scripts and pages never show it.
    if args.get(1).is_some_and(|a| a == complete::SUBCOMMAND) {
        return complete::run(&args[2..]);
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
        Command::Apply(a) => apply::run(&a),
        Command::Function(_) => function::run_from_stdin(false),
        Command::KustomizePlugin(a) => kustomize_plugin::run_plugin(&a.config),
        Command::KustomizePlugins(a) => kustomize_plugin::run_plugins(&a),
        Command::Kinds(a) => kinds::run(&a),
        Command::Explain(a) => explain::run(&a),
        Command::Schema(a) => schema::run(&a),
        Command::Version(a) => version::run(&a),
        #[cfg(feature = "api-double")]
        Command::ApiDouble(a) => api_double::run(&a),
        Command::Completion(a) => completion::run(&a),
        Command::Man(a) => man::run(&a),
    }
}

/// Reads all of stdin.
pub fn read_stdin() -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin().lock().read_to_end(&mut buf)?;
    // The text is kept while it is read (and a KRM function's for its items as given): not the
    // up to twice its size the buffer grew to.
    buf.shrink_to_fit();
    Ok(buf)
}

/// Prints errors and warnings on stderr; `info` findings (fixes, exemptions, advice) only when
/// `verbose`, else a one-line count of them.
pub fn print_diagnostics(findings: &[Finding], verbose: bool) {
    let mut err = std::io::BufWriter::with_capacity(1 << 16, std::io::stderr().lock());
    write_diagnostics(&mut err, findings, verbose);
}

/// [`print_diagnostics`] to `out` (a write error is ignored: diagnostics have nowhere else to go).
pub fn write_diagnostics(out: &mut dyn Write, findings: &[Finding], verbose: bool) {
    let shown = |f: &&Finding| verbose || f.severity > crate::finding::Severity::Info;
    let _ = text::render(out, findings.iter().filter(shown));
    let hidden = findings.len() - findings.iter().filter(shown).count();
    if hidden > 0 {
        let _ = writeln!(out, "note: {hidden} info findings (fixes, exemptions, advice) not shown; run with -v to see them");
    }
    let _ = out.flush();
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn render_flags(args: &[&str]) -> RenderFlags {
        let argv = ["kubectl-nixernetes", "render"]
            .iter()
            .chain(args)
            .chain(&["x.yaml"]);
        match Cli::try_parse_from(argv).expect("flags parse").command {
            Command::Render(r) => r.flags,
            other => panic!("{other:?}"),
        }
    }

    /// Every flag of `render` that is a setting is in the settings table, and every setting's
    /// flag exists: a new setting flag cannot bypass the table.
    #[test]
    fn render_flags_are_the_table() {
        let cmd = Cli::command();
        let render = cmd.find_subcommand("render").expect("render");
        let table: Vec<&str> = settings::SETTINGS
            .iter()
            .flat_map(|s| s.flag.split(", "))
            .filter_map(|f| f.strip_prefix("--"))
            .collect();
        // `--rules` and `--crd` are input (paths, like -f), not settings.
        let not_settings = [
            "filename", "output", "argocd", "selector", "verbose", "help", "rules", "crd",
        ];
        for arg in render.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            assert!(
                table.contains(&long) || not_settings.contains(&long),
                "--{long} is a render flag but not in settings::SETTINGS"
            );
        }
        for long in table {
            assert!(
                render.get_arguments().any(|a| a.get_long() == Some(long)),
                "settings::SETTINGS names --{long}, which render lacks"
            );
        }
    }

    #[test]
    fn flags_go_through_the_table() {
        let mut o = Overrides::default();
        render_flags(&[
            "--profile",
            "restricted",
            "--level",
            "high",
            "--enforce",
            "--fix",
            "--kubernetes-version",
            "1.33",
            "-n",
            "shop",
            "--annotation",
            "note=a, b",
        ])
        .apply(&mut o)
        .unwrap();
        assert_eq!(o.profile, Some(crate::types::Profile::Restricted));
        assert_eq!(o.level, Some(crate::types::Level::High));
        assert_eq!(o.enforcement, Some(crate::types::Enforcement::Enforce));
        assert!(o.fix);
        assert_eq!(o.kubernetes_version.map(|v| v.minor()), Some(33));
        assert_eq!(o.namespace.as_deref(), Some("shop"));
        // One pair per flag: the comma stays in the value.
        assert_eq!(
            o.annotations.get("note").and_then(Value::as_str),
            Some("a, b")
        );
    }

    #[test]
    fn flags_win_over_the_sources_below_and_keep_the_rest() {
        let mut o = Overrides::default();
        settings::NAMESPACE
            .apply(&mut o, &Value::String("from-argo".into()))
            .unwrap();
        settings::LEVEL
            .apply(&mut o, &Value::String("low".into()))
            .unwrap();
        settings::INVENTORY
            .apply(&mut o, &Value::String("app".into()))
            .unwrap();
        render_flags(&["--level", "high", "-n", "shop"])
            .apply(&mut o)
            .unwrap();
        assert_eq!(o.level, Some(crate::types::Level::High));
        assert_eq!(o.namespace.as_deref(), Some("shop"));
        assert_eq!(o.inventory.as_deref(), Some("app"));
    }

    /// `-l` is kubectl's `--selector`, never `--label`.
    #[test]
    fn l_is_the_selector_not_a_label() {
        for sub in ["render", "check", "diff", "apply"] {
            let cli = Cli::try_parse_from(["kubectl-nixernetes", sub, "-l", "tier=web", "x"])
                .unwrap_or_else(|e| panic!("{sub}: {e}"));
            let (select, labels) = match cli.command {
                Command::Render(a) => (a.select, a.flags.labels),
                Command::Check(a) => (a.select, Vec::new()),
                Command::Diff(a) => (a.select, a.flags.labels),
                Command::Apply(a) => (a.select, a.flags.labels),
                other => panic!("{other:?}"),
            };
            assert_eq!(
                select.selector.map(|s| s.text().to_string()).as_deref(),
                Some("tier=web"),
                "{sub}"
            );
            assert!(labels.is_empty(), "{sub}: -l added {labels:?}");
        }
        let mut o = Overrides::default();
        render_flags(&["--label", "tier=web"])
            .apply(&mut o)
            .unwrap();
        assert_eq!(o.labels.get("tier"), Some(&Value::String("web".into())));
    }

    #[test]
    fn bad_flag_values_name_the_flag() {
        let mut o = Overrides::default();
        let e = render_flags(&["--label", "nokey"])
            .apply(&mut o)
            .unwrap_err();
        assert_eq!(e[0].field.as_deref(), Some("--label"));
        assert!(Cli::try_parse_from([
            "kubectl-nixernetes",
            "render",
            "--kubernetes-version",
            "1.30",
            "x"
        ])
        .is_err());
    }
}
