//! `kubectl nixernetes api-double`: starts the in-memory API-server double by hand, prints a
//! kubeconfig for it on stdout and serves until interrupted (Ctrl-C), so that kubectl (or our
//! own `diff`) can be tried against a cluster that is not there.
//!
//! Exit codes: 1 when the seed cannot be read or the server cannot start; otherwise the
//! process runs until it is killed.
//!
//! The subcommand exists with the default-on `api-double` feature (the double is the
//! `crates/api-double` crate); `parse_duration`, which `diff` shares, is always here.

use std::time::Duration;
#[cfg(feature = "api-double")]
use {
    super::{print_findings, EXIT_INVALID},
    crate::cluster::client::error_chain,
    api_double::{Double, Options, TlsOptions},
    std::{io::Write, net::SocketAddr, path::PathBuf},
};

#[cfg(feature = "api-double")]
#[derive(Debug, clap::Args)]
pub struct ApiDoubleArgs {
    /// Address to listen on; port 0 picks a free port (the kubeconfig names the real one).
    ///
    /// Example: --listen 127.0.0.1:8001
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// File or directory of objects the cluster starts with, applied server-side by the seed
    /// manager (Namespaces and CRDs first); repeatable.
    ///
    /// Example: --seed live.yaml  (a cluster already running the example, after
    /// `kubectl nixernetes render examples/platform > live.yaml`; add --operator-crds)
    #[arg(long, value_name = "PATH")]
    pub seed: Vec<String>,
    /// Start with a CustomResourceDefinition for every operator kind the tool can emit
    /// (Gateway API HTTPRoute, CloudNativePG Cluster, Strimzi Kafka and the rest), in its
    /// default version and with an open schema, as if the operators were installed.
    ///
    /// Example: kubectl nixernetes api-double --operator-crds --write-kubeconfig /tmp/kc
    #[arg(long)]
    pub operator_crds: bool,
    /// Field manager that owns the seed objects.
    ///
    /// Example: --seed-manager kubectl-client-side-apply
    #[arg(long, value_name = "NAME", default_value = "nixernetes-seed")]
    pub seed_manager: String,
    /// Delay added to every API request, in ms, s or m.
    ///
    /// Example: --latency 20ms
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "0s")]
    pub latency: Duration,
    /// Answer only legacy discovery (no aggregated apidiscovery.k8s.io/v2), so clients fetch
    /// every group-version's resource list.
    #[arg(long)]
    pub legacy_discovery: bool,
    /// Do not serve /openapi/v3 (kubectl apply then needs --validate=false).
    #[arg(long)]
    pub no_openapi: bool,
    /// gitVersion that /version reports (kubectl's dispatcher picks its client by the minor).
    ///
    /// Example: --server-version v1.33.0
    #[arg(long, value_name = "VERSION", default_value = "v1.35.0")]
    pub server_version: String,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key); the printed kubeconfig
    /// skips server verification (add client-certificate-data to it with --client-ca).
    ///
    /// Example: --tls-cert server.crt --tls-key server.key
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates whose client certificates are required (mutual TLS).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
    /// Also write the kubeconfig to this file, once the double is serving (whole, by a
    /// rename: a script can wait with `until [ -s FILE ]; do sleep 0.1; done`).
    ///
    /// Example: --write-kubeconfig /tmp/double.kubeconfig
    #[arg(long, value_name = "FILE")]
    pub write_kubeconfig: Option<PathBuf>,
}

/// A duration such as `20ms`, `1.5s` or `2m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("{s:?}: give a unit: ms, s or m"))?;
    let (number, unit) = s.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{s:?}: not a number followed by ms, s or m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?}; use ms, s or m")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

#[cfg(feature = "api-double")]
pub fn run(args: &ApiDoubleArgs) -> i32 {
    let mut seed: Vec<serde_json::Value> = if args.operator_crds {
        crate::schema::operators::ALL
            .iter()
            .map(|o| o.crd())
            .collect()
    } else {
        Vec::new()
    };
    if !args.seed.is_empty() {
        match crate::source::files::read_all(&args.seed, &mut std::io::empty()) {
            Ok(resources) => seed.extend(
                resources
                    .into_iter()
                    .map(|r| serde_json::Value::Object(r.object)),
            ),
            Err(findings) => {
                print_findings(&findings);
                return EXIT_INVALID;
            }
        }
    }
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p).map_err(|e| format!("reading {}: {e}", p.display()))
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let client_ca = args.client_ca.as_ref().map(read).transpose();
            match (read(cert), read(key), client_ca) {
                (Ok(cert_pem), Ok(key_pem), Ok(client_ca_pem)) => Some(TlsOptions {
                    cert_pem,
                    key_pem,
                    client_ca_pem,
                }),
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                    eprintln!("error: {e}");
                    return EXIT_INVALID;
                }
            }
        }
        _ => None,
    };
    let options = Options {
        listen: args.listen,
        latency: args.latency,
        seed,
        seed_manager: args.seed_manager.clone(),
        aggregated_discovery: !args.legacy_discovery,
        openapi_v3: !args.no_openapi,
        server_version: args.server_version.clone(),
        fixed_time: None,
        tls,
    };
    let double = match Double::start(options) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            return EXIT_INVALID;
        }
    };
    let config = double.kubeconfig();
    if let Some(path) = &args.write_kubeconfig {
        if let Err(e) = write_whole(path, &config) {
            eprintln!("error: writing {}: {e}", path.display());
            return EXIT_INVALID;
        }
    }
    let mut out = std::io::stdout().lock();
    // A closed stdout only loses the kubeconfig copy; the server keeps going.
    let _ = out.write_all(config.as_bytes()).and_then(|_| out.flush());
    drop(out);
    eprintln!(
        "API-server double serving on {} (requests: {}/__double/requests); Ctrl-C stops it",
        double.url(),
        double.url()
    );
    loop {
        std::thread::park();
    }
}

/// Writes `text` to `path` whole or not at all (a sibling file renamed over it), so that a
/// script waiting for the file (`until [ -s FILE ]`) never reads half a kubeconfig; the double
/// is already serving when it is written.
#[cfg(feature = "api-double")]
fn write_whole(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    std::fs::write(&part, text)?;
    std::fs::rename(&part, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&part);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("20ms").unwrap(), Duration::from_millis(20));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("20").is_err());
        assert!(parse_duration("1h").is_err());
    }
}
