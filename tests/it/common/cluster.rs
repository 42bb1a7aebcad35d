//! A running API-server double with a private kubeconfig, kubectl discovery cache and scratch
//! directory, for tests that point kubectl (or our own diff) at it.

use api_double::{Double, Options};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A double plus a private kubeconfig, discovery cache and scratch directory.
pub struct Cluster {
    pub double: Double,
    pub dir: tempfile::TempDir,
}

impl Cluster {
    pub fn start(options: Options) -> Cluster {
        let double = Double::start(options).expect("start the double");
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("kubeconfig"), double.kubeconfig()).expect("kubeconfig");
        Cluster { double, dir }
    }

    pub fn new() -> Cluster {
        Cluster::start(Options::default())
    }

    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write manifest");
        p
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(self.dir.path().join("kubeconfig"))
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args)
            .env("HOME", self.dir.path())
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .stdin(Stdio::null())
            .output()
            .expect("run kubectl")
    }

    /// Runs kubectl and insists on success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// `kubectl get … -o json`, parsed.
    pub fn get_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json", "--show-managed-fields"]);
        serde_json::from_str(&self.ok(&all)).expect("kubectl -o json")
    }
}

impl Cluster {
    /// The kubeconfig file.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }
}
