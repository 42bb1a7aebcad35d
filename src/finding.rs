//! `Finding`: the one diagnostic type of the tool (validation errors, policy hits, fixes,
//! report verdicts), with its severity. Renderers live in `report/`; this file only holds the
//! data model, so every layer can produce findings without depending on how they are printed.

use crate::resource::{ObjectRef, Origin};
use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Advice: never fails a run.
    Info,
    /// Reported; fails only `check --fail-on warning`.
    Warning,
    /// Fails the run under `enforce` (a warning under `audit`).
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses a written value (`error`, `warning`, `info`).
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// One diagnostic about the input or the output.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    /// What is wrong and, where it helps, what was expected.
    pub message: String,
    /// The object the finding is about.
    /// Shared: a run of 50,000 objects may hold 150,000 findings about them.
    pub object: Option<std::sync::Arc<ObjectRef>>,
    /// Dotted field path inside the object, e.g. `spec.ports[0].port`.
    pub field: Option<String>,
    /// Where the object (or the broken text) came from.
    pub origin: Option<Origin>,
    /// The policy check that produced it (`None` for input validation).
    pub check: Option<&'static str>,
    /// Why the finding is exempted (an `ignore-check.nixernetes.io/<id>` reason), if it is.
    pub exempted: Option<String>,
    /// Why the run's check configuration (`PlatformDefaults.spec.checks`, `--enable-check`)
    /// set this finding's severity, if it did.
    pub configured: Option<String>,
    /// The value a fix set (or proposes) at `field`.
    pub proposed: Option<Box<serde_json::Value>>,
    /// Other places the finding is about: for an error in what a user kind's template made,
    /// the template node, at its line (SARIF `relatedLocations`). Boxed: most findings have
    /// none.
    pub related: Option<Box<Vec<Related>>>,
}

/// A place a finding is also about, and what it has to do with the finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    pub origin: Origin,
    /// E.g. `produced by KindDefinition/… spec.resources[0].template.spec.ports[0].port (id web)`.
    pub message: String,
}

impl Finding {
    pub fn error(message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Error,
            message: message.into(),
            object: None,
            field: None,
            origin: None,
            check: None,
            exempted: None,
            configured: None,
            proposed: None,
            related: None,
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(message)
        }
    }

    pub fn info(message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Info,
            ..Finding::error(message)
        }
    }

    /// Attaches the object and origin of `resource`.
    pub fn about(mut self, resource: &impl crate::resource::Identity) -> Self {
        self.object = Some(std::sync::Arc::new(resource.object_ref()));
        self.origin = Some(resource.origin());
        self
    }

    /// Attaches an object reference already shared with other findings.
    pub fn object(mut self, object: std::sync::Arc<ObjectRef>) -> Self {
        self.object = Some(object);
        self
    }

    pub fn at(mut self, origin: Origin) -> Self {
        self.origin = Some(origin);
        self
    }

    /// Adds a related place (after those it has).
    pub fn relate(&mut self, related: Related) {
        self.related
            .get_or_insert_with(Default::default)
            .push(related);
    }

    /// The related places, in the order they were added.
    pub fn related(&self) -> &[Related] {
        self.related.as_deref().map_or(&[], Vec::as_slice)
    }

    /// Sets the field path (replacing any prefix-less one).
    pub fn field(mut self, path: impl Into<String>) -> Self {
        self.field = Some(path.into());
        self
    }
}

/// Appends `more` to `to`. A large run holds one big list of check findings: when `to` is
/// still empty, it takes `more`'s buffer instead of copying it (two copies at once would raise
/// the run's peak memory by the size of the list).
pub fn append(to: &mut Vec<Finding>, mut more: Vec<Finding>) {
    if to.is_empty() {
        *to = more;
    } else {
        to.append(&mut more);
    }
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}
