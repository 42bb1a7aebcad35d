//! Legacy Kustomize exec plugin (the only extension `kubectl kustomize --enable-alpha-plugins`
//! runs) and `kustomize-plugins install`, which lays out the plugin tree.
//!
//! Protocol: argv[1] is a file holding the plugin's config object; stdin is empty for a
//! generator and a YAML stream for a transformer; stdout is a YAML stream. Results are invisible
//! to kustomize here, so errors go to stderr with a non-zero exit and nothing on stdout.

use super::{print_findings, EXIT_INVALID};
use crate::engine::inject::SOURCE;
use crate::engine::{self, Options};
use crate::finding::{has_errors, Finding, Severity};
use crate::kind::Role;
use crate::modules;
use crate::resource::{Origin, Resource};
use crate::settings::Overrides;
use crate::source::{self, decode, parse_text};
use kustomization::{Kustomization, List, Unreadable};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

mod kustomization;

#[derive(Debug, clap::Args)]
pub struct PluginArgs {
    /// The plugin config file kustomize wrote (a nixernetes.io object).
    ///
    /// Example: kubectl nixernetes kustomize-plugin webapp.yaml < /dev/null
    pub config: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct PluginsArgs {
    #[command(subcommand)]
    pub command: PluginsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PluginsCommand {
    /// Create `<dir>/nixernetes.io/v1alpha1/<kind>/<Kind>` symlinks to this binary for every kind.
    Install {
        /// Plugin home (default: $KUSTOMIZE_PLUGIN_HOME, else $XDG_CONFIG_HOME/kustomize/plugin,
        /// else ~/.config/kustomize/plugin).
        ///
        /// Example: --dir ./plugins
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// Runs as the plugin whose config is in `config_path`.
pub fn run_plugin(config_path: &Path) -> i32 {
    let name = config_path.to_string_lossy();
    let read = std::fs::read(config_path)
        .map_err(|e| vec![Finding::error(format!("reading plugin config {name}: {e}"))])
        .and_then(|b| decode(b, &name).map_err(|f| vec![f]))
        .and_then(|t| parse_text(&t, &name));
    let mut config = match read {
        Ok(r) => r,
        Err(mut f) => {
            source::locate::field_lines(&mut f, None, Severity::Info);
            print_findings(&f);
            return EXIT_INVALID;
        }
    };
    if config.len() != 1 {
        print_findings(&[Finding::error(format!(
            "{name}: expected exactly one plugin config object, found {}",
            config.len()
        ))]);
        return EXIT_INVALID;
    }
    let mut config = config.remove(0);
    if !config.is_module() || modules::registry().lookup(config.kind()).is_none() {
        let why = if config.is_module() {
            modules::registry().unknown(config.kind())
        } else {
            format!(
                "{} ({}) is not a nixernetes.io kind",
                config.kind(),
                config.api_version()
            )
        };
        print_findings(&[Finding::error(format!("plugin config: {why}")).about(&config)]);
        return EXIT_INVALID;
    }
    let stdin = match super::read_stdin() {
        Ok(b) => b,
        Err(e) => {
            print_findings(&[Finding::error(format!("reading stdin: {e}"))]);
            return EXIT_INVALID;
        }
    };
    let text = match decode(stdin, "-") {
        Ok(t) => t,
        Err(f) => {
            print_findings(&[f]);
            return EXIT_INVALID;
        }
    };
    let mut items: Vec<Resource> = match parse_text(&text, "-") {
        Ok(r) => r,
        Err(mut f) => {
            source::locate::field_lines(&mut f, Some(&text), Severity::Info);
            print_findings(&f);
            return EXIT_INVALID;
        }
    };
    let kustomization = kustomization_of_this_run();
    if items.is_empty() {
        // A generator: render every config of the kustomization's `generators:` together.
        match generator_set(kustomization.as_ref(), &config) {
            Ok(Ok(Some(set))) => {
                let namespace = kustomization.and_then(|k| k.namespace);
                return run_generator_set(set, namespace);
            }
            Ok(Ok(None)) => {}
            Ok(Err(Unreadable(why))) => {
                let _ = writeln!(
                    kustomize_stderr(),
                    "note: {}: {why}, so this config is rendered on its own; several configs of one namespace then each emit their own default-deny and allow-dns NetworkPolicies, which kustomize refuses",
                    config.object_ref()
                );
            }
            Err(f) => {
                print_findings(&f);
                return EXIT_INVALID;
            }
        }
    }
    // On its own (a transformer, or a generator whose list cannot be read): errors still name
    // the user's file when the config is found in one of the lists.
    if let Some(origin) = kustomization.as_ref().and_then(|k| user_origin(k, &config)) {
        config.origin = origin;
    }
    // Objects a run of ours has rendered (and checked, and warned about) already.
    let rendered: Vec<usize> = items
        .iter()
        .filter(|r| r.annotation(SOURCE).is_some())
        .map(|r| r.origin.index)
        .collect();
    // A configuration kind applies to the stream; a module kind adds its children to it.
    match modules::registry().lookup(config.kind()).map(|d| &d.role) {
        Some(Role::Configure { .. }) => items.insert(0, config),
        _ => items.push(config),
    }
    let overrides = Overrides {
        no_namespace_fallback: true,
        ..Default::default()
    };
    let mut out = render(items, overrides, Some(&text));
    if has_errors(&out.findings) {
        super::print_diagnostics(&out.findings, false);
        return EXIT_INVALID;
    }
    // Their warnings were printed by the run that rendered them; `render` prints them once.
    out.findings.retain(|f| {
        !f.origin
            .as_ref()
            .is_some_and(|o| &*o.file == "-" && rendered.contains(&o.index))
    });
    super::write_diagnostics(&mut kustomize_stderr(), &out.findings, false);
    super::emit_stream(out.objects.into_iter().map(|r| Value::Object(r.object)))
}

/// The kustomization kustomize is building, from the directory it names in
/// `KUSTOMIZE_PLUGIN_CONFIG_ROOT` (also the working directory it gives the plugin). `None`
/// when not run by kustomize or when it cannot be read.
fn kustomization_of_this_run() -> Option<Kustomization> {
    let root = std::env::var_os("KUSTOMIZE_PLUGIN_CONFIG_ROOT").filter(|v| !v.is_empty())?;
    kustomization::find(Path::new(&root)).ok().flatten()
}

/// What a generator run renders: every `nixernetes.io` config of the kustomization's
/// `generators:`, then the configuration kinds (`PlatformDefaults` …) of its `transformers:`,
/// which `render` of the same files would apply to the generators' children too.
struct GeneratorSet {
    configs: Vec<Resource>,
    /// The place of the plugin's config among the generators.
    at: usize,
}

/// The [`GeneratorSet`] of `config`; `Ok(None)` when there is no kustomization or its
/// `generators:` does not hold `config`, `Err` why the lists cannot be known in full.
fn generator_set(
    k: Option<&Kustomization>,
    config: &Resource,
) -> Result<Result<Option<GeneratorSet>, Unreadable>, Vec<Finding>> {
    let Some(k) = k else { return Ok(Ok(None)) };
    let mut configs = match k.configs(List::Generators)? {
        Ok(c) => c,
        Err(why) => return Ok(Err(why)),
    };
    let Some(at) = kustomization::position(&configs, config) else {
        return Ok(Ok(None));
    };
    let settings = match k.configs(List::Transformers)? {
        Ok(c) => c,
        Err(why) => return Ok(Err(why)),
    };
    let registry = modules::registry();
    configs.extend(settings.into_iter().filter(|c| {
        matches!(
            registry.lookup(c.kind()).map(|d| &d.role),
            Some(Role::Configure { .. })
        )
    }));
    Ok(Ok(Some(GeneratorSet { configs, at })))
}

/// Where the user wrote `config`: its document in one of the kustomization's lists.
fn user_origin(k: &Kustomization, config: &Resource) -> Option<Origin> {
    [List::Transformers, List::Generators]
        .into_iter()
        .find_map(|list| {
            let set = k.configs(list).ok()?.ok()?;
            let at = kustomization::position(&set, config)?;
            Some(set[at].origin.clone())
        })
}

/// Renders the whole generator set, as `render` of its files would, and prints the objects of
/// the config at `set.at`: the children of that config, plus the objects shared by several
/// configs (a namespace's `default-deny` and `allow-dns`) when it is the first config of their
/// namespace. Kustomize runs every generator config, so every object is printed exactly once;
/// what a configuration kind of `transformers:` emits is left to its own (transformer) run.
/// Findings are the whole set's: on failure every run prints them all (kustomize shows the
/// first run that fails); warnings are printed by the first run only.
fn run_generator_set(set: GeneratorSet, namespace: Option<String>) -> i32 {
    let GeneratorSet { configs, at } = set;
    let mine = configs[at].origin.clone();
    let known: Vec<_> = configs.iter().map(|c| c.origin.clone()).collect();
    // Kustomize sets its `namespace:` on every object after the generators; named here, it is
    // also the namespace of children whose module resource names none, so their
    // `nixernetes.io/source` and the namespace-wide policies say it too.
    let overrides = Overrides {
        no_namespace_fallback: namespace.is_none(),
        namespace,
        ..Default::default()
    };
    let out = render(configs, overrides, None);
    if has_errors(&out.findings) {
        super::print_diagnostics(&out.findings, false);
        return EXIT_INVALID;
    }
    if at == 0 {
        super::write_diagnostics(&mut kustomize_stderr(), &out.findings, false);
    }
    let same = |a: &Origin, b: &Origin| a.file == b.file && a.index == b.index;
    let ours = |o: &Origin| same(&mine, o) || (at == 0 && !known.iter().any(|k| same(k, o)));
    super::emit_stream(
        out.objects
            .into_iter()
            .filter(|r| ours(&r.origin))
            .map(|r| Value::Object(r.object)),
    )
}

/// Runs the engine over `items` with `overrides`, its findings placed at their lines (in the
/// user's files, or in `stdin`, the stream kustomize passed).
fn render(items: Vec<Resource>, mut overrides: Overrides, stdin: Option<&str>) -> engine::Output {
    let environment = crate::settings::apply_environment(&mut overrides).err();
    let mut out = engine::run(
        items,
        &Options {
            overrides,
            ..Options::new(modules::registry())
        },
    );
    out.findings
        .extend(environment.map(crate::finding::Finding::error));
    source::locate::field_lines(&mut out.findings, stdin, Severity::Warning);
    out
}

/// Where a warning reaches the person running kustomize. Kustomize keeps a plugin's stderr and
/// shows it only when the plugin fails, so after a successful run it would be lost: when
/// kustomize runs us (`KUSTOMIZE_PLUGIN_CONFIG_ROOT` set) on Linux, warnings go to kustomize's
/// own stderr (ours is a pipe to it; its own is `/proc/<parent>/fd/2`), else to ours. A regular
/// file is written only when kustomize's stderr appends to it (`2>>`): opened anew, it has an
/// offset of its own, and kustomize's later writes at its offset would overwrite ours.
fn kustomize_stderr() -> Box<dyn Write> {
    #[cfg(target_os = "linux")]
    if std::env::var_os("KUSTOMIZE_PLUGIN_CONFIG_ROOT").is_some() {
        let parent = std::os::unix::process::parent_id();
        let path = format!("/proc/{parent}/fd/2");
        let usable = std::fs::metadata(&path).is_ok_and(|m| !m.is_file())
            || appends(&format!("/proc/{parent}/fdinfo/2"));
        if usable {
            if let Ok(f) = std::fs::OpenOptions::new().append(true).open(path) {
                return Box::new(f);
            }
        }
    }
    Box::new(std::io::stderr())
}

/// Whether the descriptor described by the `fdinfo` file at `path` was opened with `O_APPEND`.
#[cfg(target_os = "linux")]
fn appends(path: &str) -> bool {
    const O_APPEND: u32 = 0o2000;
    std::fs::read_to_string(path).is_ok_and(|info| {
        info.lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
            .is_some_and(|flags| flags & O_APPEND != 0)
    })
}

/// The default plugin home, as kustomize looks it up.
fn plugin_home() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("KUSTOMIZE_PLUGIN_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(h));
    }
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("kustomize/plugin"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/kustomize/plugin"))
}

pub fn run_plugins(args: &PluginsArgs) -> i32 {
    let PluginsCommand::Install { dir } = &args.command;
    let Some(home) = dir.clone().or_else(plugin_home) else {
        eprintln!("error: no plugin directory: pass --dir or set HOME");
        return super::EXIT_USAGE;
    };
    let exe = match std::env::current_exe().and_then(|p| p.canonicalize()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: locating this binary: {e}");
            return EXIT_INVALID;
        }
    };
    match install(&home, &exe) {
        Ok(n) => {
            println!(
                "installed {n} plugin links under {}",
                home.join("nixernetes.io/v1alpha1").display()
            );
            println!("use: kubectl kustomize --enable-alpha-plugins DIR  (with KUSTOMIZE_PLUGIN_HOME={} if not the default)", home.display());
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_INVALID
        }
    }
}

/// Creates (or repoints) one symlink per kind; returns how many.
pub fn install(home: &Path, exe: &Path) -> Result<usize, String> {
    for def in modules::registry().iter() {
        let dir = home
            .join("nixernetes.io/v1alpha1")
            .join(def.kind.to_lowercase());
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let link = dir.join(def.kind);
        if std::fs::symlink_metadata(&link).is_ok() {
            std::fs::remove_file(&link)
                .map_err(|e| format!("replacing {}: {e}", link.display()))?;
        }
        symlink(exe, &link).map_err(|e| format!("linking {}: {e}", link.display()))?;
    }
    Ok(modules::registry().iter().count())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::fs::copy(target, link).map(|_| ())
}
