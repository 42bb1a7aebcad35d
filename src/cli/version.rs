//! `kubectl nixernetes version`.

#[derive(Debug, clap::Args)]
pub struct VersionArgs {}

pub fn run(_: &VersionArgs) -> i32 {
    super::emit(format!("kubectl-nixernetes {}\n", crate::VERSION).as_bytes())
}
