//! The one integration-test binary (as ripgrep keeps it): every test that runs the real binary,
//! kubectl or the API-server double. One binary links once, instead of once per file.
//!
//! Run one part with a filter, e.g. `cargo test --test it golden` or `cargo test --test it
//! kinds::`; `UPDATE_GOLDEN=1` rewrites the generated expected files.

mod common;

mod api_double;
mod apply;
mod check_config;
mod cli;
mod completion;
mod config_hash;
mod connection;
mod determinism;
mod diff;
mod docs;
mod fast_switch;
mod fidelity;
mod generated;
mod golden;
mod judges;
mod kinds;
mod krew;
mod krm_exec;
mod kubectl;
mod layers;
mod manifests;
mod monitors;
mod network;
mod policy;
mod readme;
mod robustness;
mod rules;
mod rules_export;
mod rules_parity;
mod schema_parity;
mod schemas;
mod secrets;
mod selector;
mod userkinds;
mod uses;

/// Test files belong to this binary: a `tests/*.rs` file would be a test binary that Cargo no
/// longer builds (`autotests = false`), so its tests would silently never run.
#[test]
fn no_test_file_outside_this_binary() {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for entry in std::fs::read_dir(&tests).expect("tests/") {
        let path = entry.expect("entry").path();
        assert!(
            path.extension().is_none_or(|e| e != "rs"),
            "{} is not part of tests/it: move it there and add it to tests/it/main.rs",
            path.display()
        );
    }
}
