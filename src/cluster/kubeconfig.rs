//! kubectl's connection flags over the kubeconfig, with client-go's precedence
//! (`clientcmd.DirectClientConfig`): the context is `--context` or the current context; its
//! cluster and user are replaced by `--cluster` and `--user` (which must exist); then each flag
//! replaces the one field it names. Three rules of client-go are kept on purpose:
//!
//! - `--certificate-authority` or `--insecure-skip-tls-verify` replaces the kubeconfig's whole
//!   trust setting (CA file, CA data and the skip flag), so a kubeconfig CA never fights the flag;
//! - `--server` without `--tls-server-name` drops the kubeconfig's `tls-server-name` (it named the
//!   old server);
//! - `--client-certificate` / `--client-key` replace the kubeconfig's `-data` forms.
//!
//! One deliberate difference: `--token` replaces every other credential of the user (token file,
//! exec plugin, auth provider, basic auth), where client-go would still let a token file win.
//! The result is a kubeconfig of one context, which kube-rs loads as it loads any.

use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};
use std::path::PathBuf;

/// kubectl's connection flags; `None`/empty: the kubeconfig's value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--context`.
    pub context: Option<String>,
    /// `--cluster`: a cluster of the kubeconfig instead of the context's.
    pub cluster: Option<String>,
    /// `--user`: a user of the kubeconfig instead of the context's.
    pub user: Option<String>,
    /// `--server` (`-s`).
    pub server: Option<String>,
    /// `--token`.
    pub token: Option<String>,
    /// `--as`.
    pub impersonate: Option<String>,
    /// `--as-group`, repeatable.
    pub impersonate_groups: Vec<String>,
    /// `--certificate-authority`.
    pub certificate_authority: Option<PathBuf>,
    /// `--client-certificate`.
    pub client_certificate: Option<PathBuf>,
    /// `--client-key`.
    pub client_key: Option<PathBuf>,
    /// `--insecure-skip-tls-verify`.
    pub insecure_skip_tls_verify: bool,
    /// `--tls-server-name`.
    pub tls_server_name: Option<String>,
}

/// A path as the kubeconfig holds it (absolute, as kube-rs makes the kubeconfig's own paths).
fn path_text(p: &std::path::Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

/// The kubeconfig of one context (`nixernetes`) that the flags `o` make of `config`.
pub fn resolve(config: &Kubeconfig, o: &Overrides) -> Result<Kubeconfig, String> {
    let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    let context = match nonempty(&o.context).or_else(|| nonempty(&config.current_context)) {
        Some(name) => config
            .contexts
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.context.clone().unwrap_or_default())
            .ok_or_else(|| {
                let contexts: Vec<&str> = config.contexts.iter().map(|c| c.name.as_str()).collect();
                format!(
                    "context {name:?} does not exist in the kubeconfig (it has: {})",
                    if contexts.is_empty() {
                        "none".to_string()
                    } else {
                        contexts.join(", ")
                    }
                )
            })?,
        None => Context::default(),
    };
    let cluster_name = nonempty(&o.cluster).unwrap_or_else(|| context.cluster.clone());
    let mut cluster = match config.clusters.iter().find(|c| c.name == cluster_name) {
        Some(c) => c.cluster.clone().unwrap_or_default(),
        None if o.cluster.is_some() => {
            return Err(format!("cluster {cluster_name:?} (--cluster) does not exist in the kubeconfig"))
        }
        None if o.server.is_none() && !cluster_name.is_empty() => {
            return Err(format!(
                "cluster {cluster_name:?} of the context does not exist in the kubeconfig; give --cluster or --server"
            ))
        }
        None => Cluster::default(),
    };
    let user_name = nonempty(&o.user).or_else(|| context.user.clone());
    let mut user = match user_name
        .as_ref()
        .and_then(|n| config.auth_infos.iter().find(|u| &u.name == n))
    {
        Some(u) => u.auth_info.clone().unwrap_or_default(),
        None if o.user.is_some() => {
            return Err(format!(
                "user {:?} (--user) does not exist in the kubeconfig",
                o.user.as_deref().unwrap_or_default()
            ))
        }
        // client-go (and kube-rs) connect without credentials when the context's user is missing.
        None => AuthInfo::default(),
    };

    if let Some(server) = &o.server {
        cluster.server = Some(server.clone());
    }
    if o.insecure_skip_tls_verify || o.certificate_authority.is_some() {
        cluster.insecure_skip_tls_verify = Some(o.insecure_skip_tls_verify);
        cluster.certificate_authority = o.certificate_authority.as_deref().map(path_text);
        cluster.certificate_authority_data = None;
    }
    if o.tls_server_name.is_some() || o.server.is_some() {
        cluster.tls_server_name = o.tls_server_name.clone();
    }
    if cluster.server.as_deref().is_none_or(str::is_empty) {
        return Err(
            "no server to talk to: the kubeconfig has no current context with a cluster server; give --server, --context or --kubeconfig"
                .to_string(),
        );
    }

    // client-go's default scheme for a server without one: https when TLS is configured.
    if let Some(server) = cluster.server.clone().filter(|s| !s.contains("://")) {
        let tls = cluster.certificate_authority.is_some()
            || cluster.certificate_authority_data.is_some()
            || cluster.insecure_skip_tls_verify == Some(true)
            || o.client_certificate.is_some()
            || user.client_certificate.is_some()
            || user.client_certificate_data.is_some();
        let scheme = if tls { "https" } else { "http" };
        cluster.server = Some(format!("{scheme}://{server}"));
    }

    if let Some(token) = &o.token {
        user.token = Some(token.clone().into());
        user.token_file = None;
        user.exec = None;
        user.auth_provider = None;
        user.username = None;
        user.password = None;
    }
    if let Some(cert) = &o.client_certificate {
        user.client_certificate = Some(path_text(cert));
        user.client_certificate_data = None;
    }
    if let Some(key) = &o.client_key {
        user.client_key = Some(path_text(key));
        user.client_key_data = None;
    }
    if let Some(name) = &o.impersonate {
        user.impersonate = Some(name.clone());
    }
    if !o.impersonate_groups.is_empty() {
        user.impersonate_groups = Some(o.impersonate_groups.clone());
    }
    let groups = user
        .impersonate_groups
        .as_ref()
        .is_some_and(|g| !g.is_empty());
    if groups && user.impersonate.as_deref().is_none_or(str::is_empty) {
        return Err("impersonating groups needs a user to impersonate: add --as USER".to_string());
    }
    let has_cert = user.client_certificate.is_some() || user.client_certificate_data.is_some();
    let has_key = user.client_key.is_some() || user.client_key_data.is_some();
    if has_cert != has_key {
        return Err(if has_cert {
            "a client certificate needs its key: add --client-key FILE (or client-key in the kubeconfig)"
        } else {
            "a client key needs its certificate: add --client-certificate FILE (or client-certificate in the kubeconfig)"
        }
        .to_string());
    }

    const NAME: &str = "nixernetes";
    Ok(Kubeconfig {
        clusters: vec![NamedCluster {
            name: NAME.into(),
            cluster: Some(cluster),
            ..Default::default()
        }],
        auth_infos: vec![NamedAuthInfo {
            name: NAME.into(),
            auth_info: Some(user),
            ..Default::default()
        }],
        contexts: vec![NamedContext {
            name: NAME.into(),
            context: Some(Context {
                cluster: NAME.into(),
                user: Some(NAME.into()),
                ..context
            }),
            ..Default::default()
        }],
        current_context: Some(NAME.into()),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://prod:6443", certificate-authority-data: Q0E=, tls-server-name: prod.internal}
- name: staging
  cluster: {server: "https://staging:6443", insecure-skip-tls-verify: true}
users:
- name: admin
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ, token-file: /tok}
- name: dev
  user: {token: dev-token, as: someone}
contexts:
- name: prod
  context: {cluster: prod, user: admin, namespace: shop}
- name: staging
  context: {cluster: staging, user: dev}
current-context: prod
"#;

    fn config() -> Kubeconfig {
        Kubeconfig::from_yaml(CONFIG).unwrap()
    }

    fn parts(k: &Kubeconfig) -> (Cluster, AuthInfo, Context) {
        (
            k.clusters[0].cluster.clone().unwrap(),
            k.auth_infos[0].auth_info.clone().unwrap(),
            k.contexts[0].context.clone().unwrap(),
        )
    }

    #[test]
    fn no_flags_keep_the_current_context() {
        let (cluster, user, context) = parts(&resolve(&config(), &Overrides::default()).unwrap());
        assert_eq!(cluster.server.as_deref(), Some("https://prod:6443"));
        assert_eq!(cluster.tls_server_name.as_deref(), Some("prod.internal"));
        assert!(user.client_key_data.is_some());
        assert_eq!(context.namespace.as_deref(), Some("shop"));
    }

    #[test]
    fn cluster_and_user_replace_the_contexts() {
        let o = Overrides {
            cluster: Some("staging".into()),
            user: Some("dev".into()),
            ..Default::default()
        };
        let (cluster, user, context) = parts(&resolve(&config(), &o).unwrap());
        assert_eq!(cluster.server.as_deref(), Some("https://staging:6443"));
        assert_eq!(user.impersonate.as_deref(), Some("someone"));
        // The context's namespace stays.
        assert_eq!(context.namespace.as_deref(), Some("shop"));
        for (o, wanted) in [
            (
                Overrides {
                    cluster: Some("nope".into()),
                    ..Default::default()
                },
                "cluster \"nope\" (--cluster)",
            ),
            (
                Overrides {
                    user: Some("nope".into()),
                    ..Default::default()
                },
                "user \"nope\" (--user)",
            ),
            (
                Overrides {
                    context: Some("nope".into()),
                    ..Default::default()
                },
                "context \"nope\" does not exist in the kubeconfig (it has: prod, staging)",
            ),
        ] {
            let e = resolve(&config(), &o).unwrap_err();
            assert!(e.contains(wanted), "{e}");
        }
    }

    #[test]
    fn server_drops_the_tls_server_name_unless_given() {
        let o = Overrides {
            server: Some("https://10.0.0.1:6443".into()),
            ..Default::default()
        };
        let (cluster, ..) = parts(&resolve(&config(), &o).unwrap());
        assert_eq!(cluster.server.as_deref(), Some("https://10.0.0.1:6443"));
        assert_eq!(cluster.tls_server_name, None);
        // The CA stays: only the name changes.
        assert!(cluster.certificate_authority_data.is_some());
        let o = Overrides {
            tls_server_name: Some("api.example".into()),
            ..o
        };
        let (cluster, ..) = parts(&resolve(&config(), &o).unwrap());
        assert_eq!(cluster.tls_server_name.as_deref(), Some("api.example"));
    }

    #[test]
    fn trust_flags_replace_the_kubeconfigs_trust() {
        let o = Overrides {
            certificate_authority: Some("/etc/ca.pem".into()),
            ..Default::default()
        };
        let (cluster, ..) = parts(&resolve(&config(), &o).unwrap());
        assert_eq!(
            cluster.certificate_authority.as_deref(),
            Some("/etc/ca.pem")
        );
        assert_eq!(cluster.certificate_authority_data, None);
        assert_eq!(cluster.insecure_skip_tls_verify, Some(false));
        let o = Overrides {
            insecure_skip_tls_verify: true,
            ..Default::default()
        };
        let (cluster, ..) = parts(&resolve(&config(), &o).unwrap());
        assert_eq!(cluster.certificate_authority_data, None);
        assert_eq!(cluster.insecure_skip_tls_verify, Some(true));
        // staging skips verification; a CA flag turns verification back on.
        let o = Overrides {
            context: Some("staging".into()),
            certificate_authority: Some("/etc/ca.pem".into()),
            ..Default::default()
        };
        let (cluster, ..) = parts(&resolve(&config(), &o).unwrap());
        assert_eq!(cluster.insecure_skip_tls_verify, Some(false));
    }

    #[test]
    fn credentials_flags_win() {
        let o = Overrides {
            token: Some("flag-token".into()),
            client_certificate: Some("/c.pem".into()),
            client_key: Some("/k.pem".into()),
            impersonate: Some("jane".into()),
            impersonate_groups: vec!["dev".into(), "ops".into()],
            ..Default::default()
        };
        let (_, user, _) = parts(&resolve(&config(), &o).unwrap());
        use secrecy::ExposeSecret;
        assert_eq!(
            user.token
                .as_ref()
                .map(|t| t.expose_secret().to_string())
                .as_deref(),
            Some("flag-token")
        );
        assert_eq!(user.token_file, None);
        assert_eq!(user.client_certificate.as_deref(), Some("/c.pem"));
        assert_eq!(user.client_certificate_data, None);
        assert_eq!(user.client_key.as_deref(), Some("/k.pem"));
        assert!(user.client_key_data.is_none());
        assert_eq!(user.impersonate.as_deref(), Some("jane"));
        assert_eq!(
            user.impersonate_groups,
            Some(vec!["dev".into(), "ops".into()])
        );
    }

    #[test]
    fn impossible_combinations_are_errors() {
        let o = Overrides {
            impersonate_groups: vec!["dev".into()],
            ..Default::default()
        };
        assert!(resolve(&config(), &o)
            .unwrap_err()
            .contains("add --as USER"));
        // The kubeconfig's `as` is enough.
        let o = Overrides {
            context: Some("staging".into()),
            ..o
        };
        assert!(resolve(&config(), &o).is_ok());
        let o = Overrides {
            context: Some("staging".into()),
            client_certificate: Some("/c.pem".into()),
            ..Default::default()
        };
        assert!(resolve(&config(), &o).unwrap_err().contains("--client-key"));
    }

    #[test]
    fn a_server_without_scheme_gets_client_gos() {
        let o = Overrides {
            server: Some("127.0.0.1:6443".into()),
            ..Default::default()
        };
        let (cluster, ..) = parts(&resolve(&Kubeconfig::default(), &o).unwrap());
        assert_eq!(cluster.server.as_deref(), Some("http://127.0.0.1:6443"));
        let o = Overrides {
            insecure_skip_tls_verify: true,
            ..o
        };
        let (cluster, ..) = parts(&resolve(&Kubeconfig::default(), &o).unwrap());
        assert_eq!(cluster.server.as_deref(), Some("https://127.0.0.1:6443"));
        // The prod cluster has a CA.
        let o = Overrides {
            server: Some("10.0.0.1:6443".into()),
            ..Default::default()
        };
        let (cluster, ..) = parts(&resolve(&config(), &o).unwrap());
        assert_eq!(cluster.server.as_deref(), Some("https://10.0.0.1:6443"));
    }

    #[test]
    fn server_alone_needs_no_kubeconfig() {
        let o = Overrides {
            server: Some("http://127.0.0.1:8080".into()),
            ..Default::default()
        };
        let (cluster, user, context) = parts(&resolve(&Kubeconfig::default(), &o).unwrap());
        assert_eq!(cluster.server.as_deref(), Some("http://127.0.0.1:8080"));
        assert!(user.token.is_none() && user.exec.is_none() && user.client_key_data.is_none());
        assert_eq!(context.namespace, None);
        let e = resolve(&Kubeconfig::default(), &Overrides::default()).unwrap_err();
        assert!(e.contains("give --server"), "{e}");
    }
}
