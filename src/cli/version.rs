//! `kubectl nixernetes version`: the tool's version, the git commit it was built from (when
//! built from a git work tree, see `build.rs`), and the Kubernetes minors it supports (those of
//! the served-API table, `schema::served`), as text or `-o json`.

use crate::schema::served;
use crate::types::KubernetesVersion;
use clap::ValueEnum;
use serde_json::json;

/// The git commit of the build, if known.
pub const GIT_COMMIT: Option<&str> = option_env!("NIXERNETES_GIT_COMMIT");

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum VersionFormat {
    /// Three lines: version, commit, Kubernetes minors.
    #[default]
    Text,
    /// One JSON object: version, gitCommit (null when unknown), kubernetesVersions,
    /// defaultKubernetesVersion.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct VersionArgs {
    /// Output format.
    ///
    /// Example: kubectl nixernetes version -o json
    #[arg(short = 'o', long, value_enum, default_value_t = VersionFormat::Text)]
    pub output: VersionFormat,
}

pub fn run(args: &VersionArgs) -> i32 {
    super::emit(render(args.output, GIT_COMMIT).as_bytes())
}

/// The output for `format` with `commit`.
fn render(format: VersionFormat, commit: Option<&str>) -> String {
    let minors: Vec<String> = served::minors().map(|m| m.to_string()).collect();
    match format {
        VersionFormat::Text => format!(
            "kubectl-nixernetes {}\ngit commit: {}\nKubernetes: {} (default {})\n",
            crate::VERSION,
            commit.unwrap_or("unknown (not built from a git work tree)"),
            match (minors.first(), minors.last()) {
                (Some(first), Some(last)) => format!("{first} to {last}"),
                _ => "none".to_string(),
            },
            KubernetesVersion::DEFAULT,
        ),
        VersionFormat::Json => {
            let v = json!({
                "version": crate::VERSION,
                "gitCommit": commit,
                "kubernetesVersions": minors,
                "defaultKubernetesVersion": KubernetesVersion::DEFAULT.to_string(),
            });
            let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
            s.push('\n');
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_names_version_commit_and_the_minors_of_the_table() {
        let t = render(VersionFormat::Text, Some("abc1234"));
        assert_eq!(
            t,
            format!(
                "kubectl-nixernetes {}\ngit commit: abc1234\nKubernetes: 1.31 to 1.37 (default 1.31)\n",
                crate::VERSION
            )
        );
        assert!(render(VersionFormat::Text, None).contains("git commit: unknown"));
    }

    #[test]
    fn json_lists_every_minor() {
        let v: serde_json::Value =
            serde_json::from_str(&render(VersionFormat::Json, None)).unwrap();
        assert_eq!(v["version"], crate::VERSION);
        assert!(v["gitCommit"].is_null());
        let minors: Vec<String> = KubernetesVersion::ALL
            .iter()
            .map(|m| m.to_string())
            .collect();
        assert_eq!(v["kubernetesVersions"], json!(minors));
        assert_eq!(v["defaultKubernetesVersion"], "1.31");
    }
}
