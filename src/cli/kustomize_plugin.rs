//! Legacy Kustomize exec plugin (the only extension `kubectl kustomize --enable-alpha-plugins`
//! runs) and `kustomize-plugins install`, which lays out the plugin tree.
//!
//! Protocol: argv[1] is a file holding the plugin's config object; stdin is empty for a
//! generator and a YAML stream for a transformer; stdout is a YAML stream. Results are invisible
//! to kustomize here, so errors go to stderr with a non-zero exit and nothing on stdout.

use super::{print_findings, EXIT_INVALID};
use crate::engine::{self, Options};
use crate::finding::{has_errors, Finding, Severity};
use crate::kind::Role;
use crate::modules;
use crate::resource::Resource;
use crate::settings::Overrides;
use crate::source::{self, decode, parse_text};
use serde_json::Value;
use std::path::{Path, PathBuf};

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
    let config = config.remove(0);
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
    // A configuration kind applies to the stream; a module kind adds its children to it.
    match modules::registry().lookup(config.kind()).map(|d| &d.role) {
        Some(Role::Configure { .. }) => items.insert(0, config),
        _ => items.push(config),
    }
    let overrides = Overrides {
        no_namespace_fallback: true,
        ..Default::default()
    };
    let mut out = engine::run(
        items,
        &Options {
            overrides,
            ..Options::new(crate::modules::registry())
        },
    );
    source::locate::field_lines(&mut out.findings, Some(&text), Severity::Warning);
    super::print_diagnostics(&out.findings, false);
    if has_errors(&out.findings) {
        return EXIT_INVALID;
    }
    super::emit_stream(out.objects.into_iter().map(|r| Value::Object(r.object)))
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
