//! `SecretStore`, rendered for the External Secrets Operator as an `external-secrets.io/v1`
//! `SecretStore` (scope `Namespace`) or `ClusterSecretStore` (scope `Cluster`): how ESO reaches
//! one secret provider (Vault, AWS, GCP or Azure) and authenticates to it.
//!
//! Unlike the original (`external-secrets.io/v1beta1`, unserved since ESO 0.17), this writes the
//! v1 provider keys ESO reads (`gcpsm`, `azurekv`), and refuses what ESO's webhook or provider
//! would refuse later: no provider or several, a plain-HTTP Vault, a ServiceAccount or Secret
//! of another namespace in a namespaced store, Azure service-principal auth without its Secret.

use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::schema::operators;
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub struct SecretStore;

/// Who may use the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Scope {
    /// A `SecretStore`: ExternalSecrets of its own namespace only.
    #[default]
    Namespace,
    /// A `ClusterSecretStore`: ExternalSecrets of every namespace.
    Cluster,
}

/// A ServiceAccount whose token ESO presents to the provider.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountRef {
    /// The ServiceAccount's name.
    pub name: String,
    /// Its namespace: only with scope `Cluster` (a namespaced store uses its own namespace).
    /// Without it, a `ClusterSecretStore` uses the namespace of each ExternalSecret that reads
    /// from it.
    pub namespace: Option<String>,
    /// Audiences of the token, when the provider expects others than the API server's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
}

/// A key of a Secret holding a credential.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyRef {
    /// The Secret's name.
    pub name: String,
    /// The key in the Secret.
    pub key: String,
    /// The Secret's namespace: only with scope `Cluster`.
    pub namespace: Option<String>,
}

/// KV secrets engine version of a Vault mount.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum VaultVersion {
    /// KV version 1.
    #[serde(rename = "v1")]
    V1,
    /// KV version 2 (versioned secrets).
    #[default]
    #[serde(rename = "v2")]
    V2,
}

/// Vault's Kubernetes auth method: ESO logs in with a ServiceAccount token.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VaultKubernetesAuth {
    /// The Vault role bound to the ServiceAccount.
    pub role: String,
    /// Where the Kubernetes auth method is mounted in Vault.
    #[serde(default = "kubernetes")]
    pub mount_path: String,
    /// The ServiceAccount whose token ESO presents; ESO's own when not given.
    pub service_account_ref: Option<ServiceAccountRef>,
}

fn kubernetes() -> String {
    "kubernetes".into()
}

/// How ESO authenticates to Vault.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VaultAuth {
    /// Kubernetes auth: no static token anywhere.
    pub kubernetes: VaultKubernetesAuth,
}

/// HashiCorp Vault (or OpenBao) KV secrets.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VaultProvider {
    /// Vault's address, an `https://` URL, e.g. `https://vault.example.com:8200`.
    pub server: String,
    /// Mount path of the KV secrets engine.
    #[serde(default = "secret")]
    pub path: String,
    /// KV secrets engine version of that mount.
    #[serde(default)]
    pub version: VaultVersion,
    /// Vault Enterprise namespace, e.g. `admin/team-a`.
    pub namespace: Option<String>,
    /// How ESO logs in.
    pub auth: VaultAuth,
}

fn secret() -> String {
    "secret".into()
}

/// Which AWS service holds the secrets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum AwsService {
    /// AWS Secrets Manager.
    #[default]
    SecretsManager,
    /// SSM Parameter Store.
    ParameterStore,
}

/// A ServiceAccount annotated for IAM Roles for Service Accounts (IRSA).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AwsJwtAuth {
    /// The ServiceAccount carrying `eks.amazonaws.com/role-arn`.
    pub service_account_ref: ServiceAccountRef,
}

/// Static access keys held in a Secret.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsSecretAuth {
    /// The access key id.
    #[serde(rename = "accessKeyIDSecretRef")]
    pub access_key_id_secret_ref: SecretKeyRef,
    /// The secret access key.
    #[serde(rename = "secretAccessKeySecretRef")]
    pub secret_access_key_secret_ref: SecretKeyRef,
}

/// How ESO authenticates to AWS: give `jwt` or `secretRef`; with neither, ESO uses its own
/// pod's credentials (its IRSA role or the node's).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AwsAuth {
    /// A ServiceAccount token exchanged for an IAM role (IRSA): no static key.
    pub jwt: Option<AwsJwtAuth>,
    /// Static access keys in a Secret.
    pub secret_ref: Option<AwsSecretAuth>,
}

/// AWS Secrets Manager or SSM Parameter Store.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsProvider {
    /// Which service holds the secrets.
    #[serde(default)]
    pub service: AwsService,
    /// AWS region, e.g. `eu-west-1`.
    pub region: String,
    /// IAM role ARN to assume after authenticating.
    pub role: Option<String>,
    /// How ESO authenticates.
    pub auth: Option<AwsAuth>,
}

/// GKE Workload Identity: a Kubernetes ServiceAccount bound to a Google service account.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GcpWorkloadIdentity {
    /// The ServiceAccount carrying `iam.gke.io/gcp-service-account`.
    pub service_account_ref: ServiceAccountRef,
    /// The GKE cluster's location; read from the metadata server when not given.
    pub cluster_location: Option<String>,
    /// The GKE cluster's name; read from the metadata server when not given.
    pub cluster_name: Option<String>,
    /// The GKE cluster's project; read from the metadata server when not given.
    #[serde(rename = "clusterProjectID")]
    pub cluster_project_id: Option<String>,
}

/// How ESO authenticates to GCP; with nothing, ESO uses its own pod's identity.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GcpAuth {
    /// GKE Workload Identity: no key file.
    pub workload_identity: GcpWorkloadIdentity,
}

/// Google Cloud Secret Manager.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GcpProvider {
    /// The project holding the secrets, e.g. `acme-prod`.
    #[serde(rename = "projectID")]
    pub project_id: String,
    /// A region, for regional secrets; global secrets when not given.
    pub location: Option<String>,
    /// How ESO authenticates.
    pub auth: Option<GcpAuth>,
}

/// How ESO authenticates to Azure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum AzureAuthType {
    /// Azure Workload Identity: a federated ServiceAccount token, no secret.
    #[default]
    WorkloadIdentity,
    /// The managed identity of the node or pod.
    ManagedIdentity,
    /// An app registration's client id and secret, held in a Secret (`authSecretRef`).
    ServicePrincipal,
}

impl AzureAuthType {
    fn as_str(self) -> &'static str {
        match self {
            AzureAuthType::WorkloadIdentity => "WorkloadIdentity",
            AzureAuthType::ManagedIdentity => "ManagedIdentity",
            AzureAuthType::ServicePrincipal => "ServicePrincipal",
        }
    }
}

/// The service principal's credentials.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AzureSecretAuth {
    /// The application (client) id.
    pub client_id: SecretKeyRef,
    /// The client secret.
    pub client_secret: SecretKeyRef,
}

/// Azure Key Vault.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AzureProvider {
    /// The vault's URL, e.g. `https://acme-prod.vault.azure.net`.
    pub vault_url: String,
    /// How ESO authenticates (written out: ESO's own default is `ServicePrincipal`).
    #[serde(default)]
    pub auth_type: AzureAuthType,
    /// The Entra ID tenant; needed with `ServicePrincipal`.
    pub tenant_id: Option<String>,
    /// Client id of a user-assigned managed identity (`ManagedIdentity`).
    pub identity_id: Option<String>,
    /// The federated ServiceAccount (`WorkloadIdentity`); ESO's own when not given.
    pub service_account_ref: Option<ServiceAccountRef>,
    /// The client id and secret (`ServicePrincipal` only).
    pub auth_secret_ref: Option<AzureSecretAuth>,
}

/// The one provider of the store.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// HashiCorp Vault KV.
    pub vault: Option<VaultProvider>,
    /// AWS Secrets Manager or Parameter Store.
    pub aws: Option<AwsProvider>,
    /// Google Cloud Secret Manager.
    pub gcp: Option<GcpProvider>,
    /// Azure Key Vault.
    pub azure: Option<AzureProvider>,
}

/// How the External Secrets Operator reaches one secret provider: a `SecretStore` for one
/// namespace or a `ClusterSecretStore` for all, with exactly one of Vault, AWS, GCP or Azure,
/// authenticating without static credentials where the provider allows it.
///
/// The operator needs: ESO ≥ 0.16 installed (`external-secrets.io/v1`); egress from the ESO
/// controller's pods (in its own namespace, usually `external-secrets`) to the provider's
/// endpoint and to the Kubernetes API (token reviews and requests for ServiceAccount tokens);
/// on the provider's side, a role bound to the ServiceAccount used (a Vault Kubernetes-auth
/// role, an IAM role for IRSA, a Google service account binding, an Azure federated
/// credential). Those pods are the operator's: this kind emits no NetworkPolicy.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretStoreSpec {
    /// `Namespace` (a `SecretStore`) or `Cluster` (a `ClusterSecretStore`).
    #[serde(default)]
    pub scope: Scope,
    /// The provider: exactly one of `vault`, `aws`, `gcp`, `azure`.
    pub provider: Provider,
}

/// A URL that must be `https://` with a host.
fn https_url(url: &str, what: &str) -> Result<(), String> {
    let host = url
        .strip_prefix("https://")
        .map(|rest| rest.split(['/', ':', '?', '#']).next().unwrap_or(""));
    match host {
        Some(h) if !h.is_empty() && !url.contains(char::is_whitespace) => Ok(()),
        _ if url.starts_with("http://") => Err(format!(
            "{url:?}: {what} must be reached over https, or tokens and secrets cross the network in clear"
        )),
        _ => Err(format!(
            "{url:?}: expected an https:// URL of {what}, e.g. https://vault.example.com:8200"
        )),
    }
}

/// Checks a reference's namespace against the store's scope.
fn check_namespace(
    namespace: Option<&str>,
    scope: Scope,
    field: &str,
    what: &str,
    p: &mut Problems<'_>,
) {
    match (scope, namespace) {
        (_, Some(ns)) if validate::dns1123_label(ns).is_err() => {
            p.check(format!("{field}.namespace"), validate::dns1123_label(ns));
        }
        (Scope::Namespace, Some(ns)) if ns != p.module().namespace => p.fail(
            format!("{field}.namespace"),
            format!(
                "a namespaced SecretStore can only use a {what} of its own namespace ({:?}): leave namespace out, or use scope Cluster",
                p.module().namespace
            ),
        ),
        _ => {}
    }
}

fn check_sa(r: &ServiceAccountRef, scope: Scope, field: &str, p: &mut Problems<'_>) {
    p.check(
        format!("{field}.name"),
        validate::dns1123_subdomain(&r.name),
    );
    check_namespace(r.namespace.as_deref(), scope, field, "ServiceAccount", p);
}

fn check_secret(r: &SecretKeyRef, scope: Scope, field: &str, p: &mut Problems<'_>) {
    p.check(
        format!("{field}.name"),
        validate::dns1123_subdomain(&r.name),
    );
    if r.key.is_empty() {
        p.fail(format!("{field}.key"), "key must not be empty");
    }
    check_namespace(r.namespace.as_deref(), scope, field, "Secret", p);
}

/// An AWS region such as `eu-west-1`, `us-gov-west-1`, `cn-north-1`.
fn aws_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

/// A Google Cloud project id: 6-30 lowercase letters, digits and '-', starting with a letter,
/// not ending with '-'.
fn gcp_project(id: &str) -> bool {
    (6..=30).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn validate(spec: &SecretStoreSpec, p: &mut Problems<'_>) {
    let scope = spec.scope;
    let pr = &spec.provider;
    let given = [
        pr.vault.is_some(),
        pr.aws.is_some(),
        pr.gcp.is_some(),
        pr.azure.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given != 1 {
        p.fail(
            "spec.provider",
            format!("set exactly one of vault, aws, gcp or azure ({given} given): a store has one provider"),
        );
    }
    if let Some(v) = &pr.vault {
        p.check("spec.provider.vault.server", https_url(&v.server, "Vault"));
        if v.path.trim().is_empty() {
            p.fail(
                "spec.provider.vault.path",
                "path must not be empty: the mount path of the KV engine, e.g. secret",
            );
        }
        let k = &v.auth.kubernetes;
        if k.role.trim().is_empty() {
            p.fail(
                "spec.provider.vault.auth.kubernetes.role",
                "role must not be empty",
            );
        }
        if k.mount_path.trim().is_empty() {
            p.fail(
                "spec.provider.vault.auth.kubernetes.mountPath",
                "mountPath must not be empty",
            );
        }
        if let Some(sa) = &k.service_account_ref {
            check_sa(
                sa,
                scope,
                "spec.provider.vault.auth.kubernetes.serviceAccountRef",
                p,
            );
        }
    }
    if let Some(a) = &pr.aws {
        if !aws_region(&a.region) {
            p.fail(
                "spec.provider.aws.region",
                format!("{:?}: expected an AWS region, e.g. eu-west-1", a.region),
            );
        }
        if let Some(role) = &a.role {
            let ok =
                role.starts_with("arn:aws") && role.contains(":iam::") && role.contains(":role/");
            if !ok {
                p.fail(
                    "spec.provider.aws.role",
                    format!("{role:?}: expected an IAM role ARN, e.g. arn:aws:iam::123456789012:role/eso"),
                );
            }
        }
        if let Some(auth) = &a.auth {
            match (&auth.jwt, &auth.secret_ref) {
                (Some(j), None) => check_sa(
                    &j.service_account_ref,
                    scope,
                    "spec.provider.aws.auth.jwt.serviceAccountRef",
                    p,
                ),
                (None, Some(s)) => {
                    let f = "spec.provider.aws.auth.secretRef";
                    check_secret(&s.access_key_id_secret_ref, scope, &format!("{f}.accessKeyIDSecretRef"), p);
                    check_secret(&s.secret_access_key_secret_ref, scope, &format!("{f}.secretAccessKeySecretRef"), p);
                }
                _ => p.fail(
                    "spec.provider.aws.auth",
                    "set exactly one of jwt or secretRef (or leave auth out to use ESO's own credentials)",
                ),
            }
        }
    }
    if let Some(g) = &pr.gcp {
        if !gcp_project(&g.project_id) {
            p.fail(
                "spec.provider.gcp.projectID",
                format!("{:?}: expected a Google Cloud project id (6-30 lowercase letters, digits and '-', starting with a letter)", g.project_id),
            );
        }
        if let Some(auth) = &g.auth {
            check_sa(
                &auth.workload_identity.service_account_ref,
                scope,
                "spec.provider.gcp.auth.workloadIdentity.serviceAccountRef",
                p,
            );
        }
    }
    if let Some(az) = &pr.azure {
        let f = "spec.provider.azure";
        p.check(
            format!("{f}.vaultUrl"),
            https_url(&az.vault_url, "the key vault"),
        );
        match az.auth_type {
            AzureAuthType::ServicePrincipal => {
                match &az.auth_secret_ref {
                    Some(s) => {
                        check_secret(&s.client_id, scope, &format!("{f}.authSecretRef.clientId"), p);
                        check_secret(&s.client_secret, scope, &format!("{f}.authSecretRef.clientSecret"), p);
                    }
                    None => p.fail(
                        format!("{f}.authSecretRef"),
                        "authType ServicePrincipal needs authSecretRef (clientId and clientSecret); prefer WorkloadIdentity, which needs no secret",
                    ),
                }
                if az.tenant_id.is_none() {
                    p.fail(
                        format!("{f}.tenantId"),
                        "authType ServicePrincipal needs tenantId",
                    );
                }
            }
            other => {
                if az.auth_secret_ref.is_some() {
                    p.fail(
                        format!("{f}.authSecretRef"),
                        format!(
                            "authSecretRef is for authType ServicePrincipal, not {}",
                            other.as_str()
                        ),
                    );
                }
            }
        }
        if az.identity_id.is_some() && az.auth_type != AzureAuthType::ManagedIdentity {
            p.fail(
                format!("{f}.identityId"),
                "identityId is for authType ManagedIdentity",
            );
        }
        match (&az.service_account_ref, az.auth_type) {
            (Some(sa), AzureAuthType::WorkloadIdentity) => {
                check_sa(sa, scope, &format!("{f}.serviceAccountRef"), p)
            }
            (Some(_), other) => p.fail(
                format!("{f}.serviceAccountRef"),
                format!(
                    "serviceAccountRef is for authType WorkloadIdentity, not {}",
                    other.as_str()
                ),
            ),
            (None, _) => {}
        }
    }
}

impl Kind for SecretStore {
    const KIND: &'static str = "SecretStore";
    const SUMMARY: &'static str =
        "how the External Secrets Operator reaches Vault, AWS, GCP or Azure: SecretStore or ClusterSecretStore";
    const EXAMPLE: Example = crate::example!("examples/secrets-management/secret-store.yaml");
    type Spec = SecretStoreSpec;

    fn validate(spec: &SecretStoreSpec, p: &mut Problems<'_>) {
        validate(spec, p);
    }
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("spec fragments serialize")
}

fn vault(v: &VaultProvider) -> Value {
    let mut m = Map::new();
    m.insert("server".into(), json!(v.server));
    m.insert("path".into(), json!(v.path));
    m.insert("version".into(), to_value(&v.version));
    if let Some(ns) = &v.namespace {
        m.insert("namespace".into(), json!(ns));
    }
    m.insert(
        "auth".into(),
        json!({"kubernetes": to_value(&v.auth.kubernetes)}),
    );
    Value::Object(m)
}

/// The provider as ESO's v1 API names it: its key and its fields.
fn provider(p: &Provider) -> Option<(&'static str, Value)> {
    if let Some(v) = &p.vault {
        return Some(("vault", vault(v)));
    }
    if let Some(a) = &p.aws {
        return Some(("aws", to_value(a)));
    }
    if let Some(g) = &p.gcp {
        return Some(("gcpsm", to_value(g)));
    }
    p.azure.as_ref().map(|a| ("azurekv", to_value(a)))
}

/// `v` without its `null` members, at every depth (optional fields left out).
fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

impl Generate for SecretStore {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("external-secrets.io/v1", "SecretStore"),
        Gvk::new("external-secrets.io/v1", "ClusterSecretStore"),
    ];

    fn expand(spec: SecretStoreSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let name = m.name;
        let (kind, metadata) = match spec.scope {
            Scope::Namespace => (
                &operators::SECRET_STORE,
                json!({"name": name, "namespace": m.namespace, "labels": {"app.kubernetes.io/name": name}}),
            ),
            Scope::Cluster => (
                &operators::CLUSTER_SECRET_STORE,
                json!({"name": name, "labels": {"app.kubernetes.io/name": name}}),
            ),
        };
        let mut providers = Map::new();
        if let Some((key, value)) = provider(&spec.provider) {
            providers.insert(key.into(), strip_nulls(value));
        }
        Expansion {
            objects: vec![json!({
                "apiVersion": ctx.api_version(kind),
                "kind": kind.kind,
                "metadata": metadata,
                "spec": {"provider": providers},
            })],
            ..Default::default()
        }
    }
}
