//! Support shared by the integration tests (each test binary uses a part of it).
#![allow(dead_code)]

pub mod cluster;

use std::process::{Command, Stdio};

/// Whether kubectl is usable. Without it the caller's test says so and passes, unless
/// `NIXERNETES_REQUIRE_KUBECTL=1` (CI), which makes it a failure.
pub fn kubectl_available() -> bool {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("NIXERNETES_REQUIRE_KUBECTL").as_deref() == Ok("1") {
            panic!("kubectl is required (NIXERNETES_REQUIRE_KUBECTL=1) but was not found on PATH");
        }
        eprintln!("SKIPPED: kubectl not found on PATH; set NIXERNETES_REQUIRE_KUBECTL=1 to make this a failure");
    }
    ok
}
