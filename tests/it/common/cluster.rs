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

/// A double serving TLS with a certificate for `server_name` from a fresh CA, asking for
/// client certificates of that CA; with the CA and a client certificate it issued.
pub struct TlsCluster {
    pub cluster: Cluster,
    pub authority: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    pub client: rcgen::Certificate,
    pub client_key: rcgen::KeyPair,
}

/// A self-signed CA named `name`.
pub fn certificate_authority(name: &str) -> rcgen::CertifiedIssuer<'static, rcgen::KeyPair> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

impl TlsCluster {
    pub fn start(server_name: &str) -> TlsCluster {
        use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair};
        let authority = certificate_authority("double-ca");
        let server_key = KeyPair::generate().unwrap();
        let mut server = CertificateParams::new(vec![server_name.to_string()]).unwrap();
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = server.signed_by(&server_key, &authority).unwrap();
        let client_key = KeyPair::generate().unwrap();
        let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
        client
            .distinguished_name
            .push(DnType::CommonName, "platform-admin");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = client.signed_by(&client_key, &authority).unwrap();
        let cluster = Cluster::start(Options {
            tls: Some(api_double::TlsOptions {
                cert_pem: server.pem(),
                key_pem: server_key.serialize_pem(),
                client_ca_pem: Some(authority.pem()),
            }),
            ..Options::default()
        });
        TlsCluster {
            cluster,
            authority,
            client,
            client_key,
        }
    }
}
