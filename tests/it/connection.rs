//! kubectl's connection flags of `diff`, each observed on the API-server double: the bearer token
//! and impersonation headers in its request log, the client certificate it was shown, and which
//! server certificate checks pass (a certificate for `double.test` only, served on 127.0.0.1).

use crate::common::cluster::Cluster;
use api_double::RecordedRequest;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-nixernetes");
const CM: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: default}\ndata: {a: b}\n";

/// `diff -o summary SRC ARGS` with HOME in the scratch directory and no KUBECONFIG.
fn diff(c: &Cluster, src: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["diff", "-o", "summary", "--request-timeout", "10s"])
        .arg(src)
        .args(args)
        .env("HOME", c.dir.path())
        .env_remove("KUBECONFIG")
        .env_remove("KUBECTL_EXTERNAL_DIFF")
        .stdin(Stdio::null())
        .output()
        .expect("run kubectl-nixernetes")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every header `name` of every API request (not the double's own endpoints).
fn headers(requests: &[RecordedRequest], name: &str) -> Vec<Vec<String>> {
    requests
        .iter()
        .map(|r| {
            r.headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .collect()
        })
        .collect()
}

/// `--server` with no kubeconfig at all, `--token`, `--as` and repeated `--as-group`: every
/// request carries them.
#[test]
fn server_token_and_impersonation_without_a_kubeconfig() {
    let c = Cluster::new();
    let src = c.file("cm.yaml", CM);
    let url = c.double.url();
    let out = diff(
        &c,
        &src,
        &[
            "--server",
            url,
            "--token",
            "flag-token",
            "--as",
            "jane",
            "--as-group",
            "dev",
            "--as-group",
            "ops",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("1 to create, 0 unchanged\n"));
    let requests = c.double.requests();
    assert!(!requests.is_empty());
    for h in headers(&requests, "authorization") {
        assert_eq!(h, ["Bearer flag-token"]);
    }
    for h in headers(&requests, "impersonate-user") {
        assert_eq!(h, ["jane"]);
    }
    for h in headers(&requests, "impersonate-group") {
        assert_eq!(h, ["dev", "ops"]);
    }
    // --as-group alone is refused before any request, as kubectl does.
    c.double.clear_requests();
    let out = diff(&c, &src, &["--server", url, "--as-group", "dev"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("add --as USER"), "{}", stderr(&out));
    assert!(c.double.requests().is_empty());
    // No kubeconfig and no --server: where it looked and what to do.
    let out = diff(&c, &src, &[]);
    assert_eq!(out.status.code(), Some(2));
    let home = c.dir.path().join(".kube/config");
    assert!(
        stderr(&out).contains(&format!(
            "no kubeconfig: {} does not exist; give --kubeconfig FILE",
            home.display()
        )),
        "{}",
        stderr(&out)
    );
}

/// `--cluster`, `--user`, `--context` and `--token` over a kubeconfig whose current context is
/// dead; `--server` over the kubeconfig's server.
#[test]
fn cluster_user_and_server_flags_win_over_the_kubeconfig() {
    let c = Cluster::new();
    let src = c.file("cm.yaml", CM);
    let config = c.file(
        "multi.kubeconfig",
        &format!(
            r#"apiVersion: v1
kind: Config
clusters:
- {{name: good, cluster: {{server: "{url}"}}}}
- {{name: dead, cluster: {{server: "http://127.0.0.1:1"}}}}
users:
- {{name: alice, user: {{token: alice-token}}}}
- {{name: bob, user: {{token: bob-token, as: bob-as-admin}}}}
contexts:
- {{name: broken, context: {{cluster: dead, user: alice}}}}
- {{name: bobs, context: {{cluster: dead, user: bob}}}}
current-context: broken
"#,
            url = c.double.url()
        ),
    );
    let config = config.to_str().unwrap();
    let run = |args: &[&str]| {
        c.double.clear_requests();
        let mut all = vec!["--kubeconfig", config];
        all.extend_from_slice(args);
        let out = diff(&c, &src, &all);
        (out, c.double.requests())
    };
    // The current context's server is dead.
    let (out, _) = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("127.0.0.1:1"), "{}", stderr(&out));
    // --cluster: the context's user (alice) on another cluster.
    let (out, requests) = run(&["--cluster", "good"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(headers(&requests, "authorization")
        .iter()
        .all(|h| h == &["Bearer alice-token"]));
    // --user: bob's token and his kubeconfig impersonation.
    let (out, requests) = run(&["--cluster", "good", "--user", "bob"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(headers(&requests, "authorization")
        .iter()
        .all(|h| h == &["Bearer bob-token"]));
    assert!(headers(&requests, "impersonate-user")
        .iter()
        .all(|h| h == &["bob-as-admin"]));
    // --server over the context's cluster, --token over the user's, --as over the user's `as`.
    let (out, requests) = run(&[
        "--context",
        "bobs",
        "--server",
        c.double.url(),
        "--token",
        "t2",
        "--as",
        "carol",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!requests.is_empty());
    assert!(headers(&requests, "authorization")
        .iter()
        .all(|h| h == &["Bearer t2"]));
    assert!(headers(&requests, "impersonate-user")
        .iter()
        .all(|h| h == &["carol"]));
    // Names that do not exist.
    for (args, wanted) in [
        (
            vec!["--user", "nobody"],
            "user \"nobody\" (--user) does not exist in the kubeconfig",
        ),
        (
            vec!["--cluster", "nowhere"],
            "cluster \"nowhere\" (--cluster) does not exist in the kubeconfig",
        ),
        (
            vec!["--context", "nope"],
            "context \"nope\" does not exist in the kubeconfig (it has: broken, bobs)",
        ),
    ] {
        let (out, requests) = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(wanted), "{args:?}: {}", stderr(&out));
        assert!(requests.is_empty());
    }
    // A kubeconfig that is not there: the path once, unquoted.
    let out = diff(&c, &src, &["--kubeconfig", "/no/such/kubeconfig"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("error: reading kubeconfig /no/such/kubeconfig: No such file or directory"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("'\""), "{}", stderr(&out));
}

/// The TLS flags against a double whose certificate names `double.test` only and which asks
/// for client certificates of its CA.
#[test]
fn tls_flags_certificate_authority_client_certificates_server_name_and_insecure() {
    use crate::common::cluster::TlsCluster;
    let TlsCluster {
        cluster: c,
        authority,
        client,
        client_key,
    } = TlsCluster::start("double.test");
    let src = c.file("cm.yaml", CM);
    let ca: PathBuf = c.file("ca.pem", &authority.pem());
    let cert = c.file("client.pem", &client.pem());
    let key = c.file("client-key.pem", &client_key.serialize_pem());
    let url = c.double.url();
    let (ca, cert, key) = (
        ca.to_str().unwrap(),
        cert.to_str().unwrap(),
        key.to_str().unwrap(),
    );
    let with_client = ["--client-certificate", cert, "--client-key", key];
    let run = |args: &[&str]| {
        c.double.clear_requests();
        let mut all = vec!["--server", url];
        all.extend_from_slice(args);
        (diff(&c, &src, &all), c.double.requests())
    };
    // The CA, the name the certificate carries, and the client certificate: it works, and the
    // double saw the certificate on every request.
    let mut good = vec![
        "--certificate-authority",
        ca,
        "--tls-server-name",
        "double.test",
    ];
    good.extend_from_slice(&with_client);
    let (out, requests) = run(&good);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!requests.is_empty());
    assert!(requests
        .iter()
        .all(|r| r.client_certificate.as_deref() == Some(client.der().as_ref())));
    // Without --tls-server-name, 127.0.0.1 is not the certificate's name.
    let mut no_name = vec!["--certificate-authority", ca];
    no_name.extend_from_slice(&with_client);
    let (out, requests) = run(&no_name);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).to_lowercase().contains("certificate"),
        "{}",
        stderr(&out)
    );
    assert!(requests.is_empty());
    // Without the CA the server is not trusted; --insecure-skip-tls-verify skips the check.
    let (out, _) = run(&with_client);
    assert_eq!(out.status.code(), Some(2));
    let mut insecure = vec!["--insecure-skip-tls-verify"];
    insecure.extend_from_slice(&with_client);
    let (out, requests) = run(&insecure);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!requests.is_empty());
    // Without the client certificate the handshake fails.
    let (out, requests) = run(&[
        "--certificate-authority",
        ca,
        "--tls-server-name",
        "double.test",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(requests.is_empty());
    // The flags win over a kubeconfig that trusts another CA and shows no certificate.
    let kubeconfig = c.file(
        "other.kubeconfig",
        &format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- {{name: c, cluster: {{server: \"https://127.0.0.1:1\", certificate-authority-data: {}, tls-server-name: wrong.test}}}}\nusers:\n- {{name: u, user: {{token: t}}}}\ncontexts:\n- {{name: x, context: {{cluster: c, user: u}}}}\ncurrent-context: x\n",
            base64_pem("not a CA")
        ),
    );
    let mut over = vec!["--kubeconfig", kubeconfig.to_str().unwrap()];
    over.extend_from_slice(&good);
    let (out, requests) = run(&over);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(requests
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer t")));
    // kubectl refuses a CA together with skipping verification; so do we (a usage error).
    let (out, _) = run(&["--certificate-authority", ca, "--insecure-skip-tls-verify"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
    // A certificate without its key.
    let (out, _) = run(&["--insecure-skip-tls-verify", "--client-certificate", cert]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("add --client-key FILE"),
        "{}",
        stderr(&out)
    );
    // A file that is not there is named once, unquoted.
    let (out, _) = run(&["--certificate-authority", "/no/ca.pem"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("reading certificate authority /no/ca.pem: No such file"),
        "{}",
        stderr(&out)
    );
}

fn base64_pem(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
