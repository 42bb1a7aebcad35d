//! `kubectl-nixernetes`: parse the command line and hand over to the library.

fn main() {
    std::process::exit(nixernetes::cli::run(std::env::args_os().collect()));
}
