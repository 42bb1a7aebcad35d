//! kubectl's connection flags, shared by every subcommand that talks to a cluster (`diff`).
//! Their precedence over the kubeconfig is client-go's (see `cluster::kubeconfig`).

use crate::cluster::kubeconfig::Overrides;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, clap::Args)]
#[command(
    next_help_heading = "Cluster connection (kubectl's flags; each wins over the kubeconfig)"
)]
pub struct ConnectionFlags {
    /// Kubeconfig file (default: the files of KUBECONFIG that exist, merged, else
    /// ~/.kube/config; none is needed with --server).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Kubeconfig cluster to use instead of the context's.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// Kubeconfig user to use instead of the context's.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Address of the API server; drops the kubeconfig's tls-server-name. Without a scheme:
    /// https when TLS is configured (a CA, a client certificate, or skipping verification),
    /// else http.
    ///
    /// Example: --server https://127.0.0.1:6443
    #[arg(short = 's', long, value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token; replaces the user's other credentials (token file, exec plugin, auth
    /// provider, basic auth).
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// User to impersonate (Impersonate-User).
    ///
    /// Example: --as jane@example.com
    #[arg(long = "as", value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate (Impersonate-Group); repeatable; needs --as (or `as` in the
    /// kubeconfig).
    ///
    /// Example: --as jane --as-group dev --as-group ops
    #[arg(long = "as-group", value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// PEM file of the CA that signs the server's certificate; replaces the kubeconfig's CA
    /// and insecure-skip-tls-verify.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure_skip_tls_verify")]
    pub certificate_authority: Option<PathBuf>,
    /// PEM client certificate for TLS (with --client-key, or the kubeconfig's key).
    #[arg(long, value_name = "FILE")]
    pub client_certificate: Option<PathBuf>,
    /// PEM private key of the client certificate.
    #[arg(long, value_name = "FILE")]
    pub client_key: Option<PathBuf>,
    /// Do not verify the server's certificate (insecure); replaces the kubeconfig's CA.
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// Name to verify the server's certificate against (and send as SNI) instead of the host
    /// of the server URL.
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,
}

impl ConnectionFlags {
    /// The flags as overrides of the kubeconfig.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            context: self.context.clone(),
            cluster: self.cluster.clone(),
            user: self.user.clone(),
            server: self.server.clone(),
            token: self.token.clone(),
            impersonate: self.as_user.clone(),
            impersonate_groups: self.as_group.clone(),
            certificate_authority: self.certificate_authority.clone(),
            client_certificate: self.client_certificate.clone(),
            client_key: self.client_key.clone(),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            tls_server_name: self.tls_server_name.clone(),
        }
    }
}
