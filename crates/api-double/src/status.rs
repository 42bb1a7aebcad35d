//! Errors as the API server reports them: `metav1.Status` objects with the code, reason,
//! message and details real clients (kubectl, client-go, kube-rs) parse.
//!
//! Messages follow the upstream wording (`apimachinery/pkg/api/errors`) so that what kubectl
//! prints against the double is what it prints against a cluster.

use serde_json::{json, Map, Value};

/// One cause of an `Invalid` or `Conflict` status (`metav1.StatusCause`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    /// Machine-readable cause, e.g. `FieldValueInvalid` or `FieldManagerConflict`.
    pub reason: String,
    /// Human-readable description of this cause.
    pub message: String,
    /// The field the cause is about, e.g. `spec.clusterIP` or `.spec.replicas`.
    pub field: String,
}

/// A failed request: what the double answers instead of an object.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason} ({code}): {message}")]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `metav1.StatusReason`, e.g. `NotFound`.
    pub reason: String,
    /// The message kubectl prints after `Error from server (<reason>):`.
    pub message: String,
    /// `details`, when the status names an object or carries causes.
    pub details: Option<Value>,
}

/// The group-qualified resource name upstream messages use: `configmaps`, `deployments.apps`.
pub fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

fn details(group: &str, kind: &str, name: &str) -> Map<String, Value> {
    let mut d = Map::new();
    if !name.is_empty() {
        d.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        d.insert("group".into(), json!(group));
    }
    d.insert("kind".into(), json!(kind));
    d
}

impl ApiError {
    fn new(code: u16, reason: &str, message: impl Into<String>, details: Option<Value>) -> Self {
        ApiError {
            code,
            reason: reason.into(),
            message: message.into(),
            details,
        }
    }

    /// 404 for an object: `deployments.apps "web" not found`.
    pub fn not_found(group: &str, plural: &str, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", qualified(group, plural)),
            Some(Value::Object(details(group, plural, name))),
        )
    }

    /// 404 for a path the double does not serve.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
            Some(json!({})),
        )
    }

    /// 409 `AlreadyExists` on create.
    pub fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", qualified(group, plural)),
            Some(Value::Object(details(group, plural, name))),
        )
    }

    /// 409 `Conflict` for a stale `resourceVersion` (optimistic concurrency).
    pub fn stale(group: &str, plural: &str, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                qualified(group, plural)
            ),
            Some(Value::Object(details(group, plural, name))),
        )
    }

    /// 409 `Conflict` from server-side apply, with `FieldManagerConflict` causes.
    pub fn apply_conflict(message: String, causes: &[Cause]) -> Self {
        Self::new(
            409,
            "Conflict",
            message,
            Some(json!({ "causes": causes_json(causes) })),
        )
    }

    /// 422 `Invalid`: `Service "web" is invalid: spec.clusterIP: Invalid value: …`.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: &[Cause]) -> Self {
        let what = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let list: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let joined = if list.len() == 1 {
            list[0].clone()
        } else {
            format!("[{}]", list.join(", "))
        };
        let mut d = details(group, kind, name);
        d.insert("causes".into(), causes_json(causes));
        Self::new(
            422,
            "Invalid",
            format!("{what} \"{name}\" is invalid: {joined}"),
            Some(Value::Object(d)),
        )
    }

    /// 404 from the NamespaceLifecycle admission plugin: `namespaces "x" not found`.
    pub fn namespace_not_found(namespace: &str) -> Self {
        Self::not_found("", "namespaces", namespace)
    }

    /// 400 `BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message, None)
    }

    /// 405 `MethodNotAllowed`.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            Some(json!({})),
        )
    }

    /// 415 `UnsupportedMediaType` for a patch type the resource does not accept.
    pub fn unsupported_media_type(content_type: &str, accepted: &[&str]) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                if accepted.is_empty() {
                    content_type.to_string()
                } else {
                    accepted.join(", ")
                }
            ),
            Some(json!({})),
        )
    }

    /// An error with the reason upstream pairs with `code` (used by the failure injector).
    pub fn from_code(code: u16, message: impl Into<String>) -> Self {
        let reason = match code {
            400 => "BadRequest",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            405 => "MethodNotAllowed",
            406 => "NotAcceptable",
            409 => "Conflict",
            410 => "Expired",
            413 => "RequestEntityTooLarge",
            415 => "UnsupportedMediaType",
            422 => "Invalid",
            429 => "TooManyRequests",
            500 => "InternalError",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "Unknown",
        };
        Self::new(code, reason, message, None)
    }

    /// The `metav1.Status` body.
    pub fn to_status(&self) -> Value {
        let mut s = Map::new();
        s.insert("kind".into(), json!("Status"));
        s.insert("apiVersion".into(), json!("v1"));
        s.insert("metadata".into(), json!({}));
        s.insert("status".into(), json!("Failure"));
        s.insert("message".into(), json!(self.message));
        s.insert("reason".into(), json!(self.reason));
        if let Some(d) = &self.details {
            s.insert("details".into(), d.clone());
        }
        s.insert("code".into(), json!(self.code));
        Value::Object(s)
    }
}

fn causes_json(causes: &[Cause]) -> Value {
    Value::Array(
        causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect(),
    )
}

/// A `Success` status (the answer to a DELETE).
pub fn success(group: &str, plural: &str, name: &str, uid: &str) -> Value {
    let mut d = details(group, plural, name);
    d.insert("uid".into(), json!(uid));
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": d,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_the_qualified_resource() {
        let e = ApiError::not_found("apps", "deployments", "web").to_status();
        assert_eq!(e["message"], "deployments.apps \"web\" not found");
        assert_eq!(
            e["details"],
            json!({"name": "web", "group": "apps", "kind": "deployments"})
        );
        assert_eq!(e["code"], 404);
    }

    #[test]
    fn invalid_lists_its_causes() {
        let c = Cause {
            reason: "FieldValueInvalid".into(),
            message: "Invalid value: \"10.0.0.1\": field is immutable".into(),
            field: "spec.clusterIP".into(),
        };
        let e = ApiError::invalid("", "Service", "web", &[c]);
        assert_eq!(
            e.message,
            "Service \"web\" is invalid: spec.clusterIP: Invalid value: \"10.0.0.1\": field is immutable"
        );
        assert_eq!(e.code, 422);
    }
}
