//! Findings as the stable JSON report of `check -o json`.
//!
//! Schema (version 1; fields are only ever added):
//!
//! ```text
//! { "version": 1,
//!   "tool": {"name": "nixernetes", "version": "<semver>"},
//!   "settings": {"profile": "baseline|restricted|privileged", "level": null|"<level>",
//!                "checks": {"<id>": {"enabled": null|bool, "severity": null|"<severity>",
//!                                    "reason": null|"<reason>", "source": "<where it was set>"}}},
//!   "summary": {"objects": N, "error": N, "warning": N, "info": N},
//!   "findings": [ { "severity": "error|warning|info", "check": null|"<id>",
//!                   "message": "...", "object": null|{apiVersion, kind, name, namespace?},
//!                   "field": null|"spec...", "file": null|"<path>", "line": N, "index": N,
//!                   "exempted": null|"<reason>", "configured"?: "<reason the run's check
//!                   configuration set this severity>", "proposedValue"?: <value set by a fix>,
//!                   "related"?: [ {"file": "<path>", "line": N, "message": "produced by …"} ] } ] }
//! ```
//!
//! `related` (only when there are some): other places the finding is about, such as the
//! template node of a KindDefinition that made the value of a user kind's child.

use crate::finding::{Finding, Severity};
use serde::Serialize;
use serde_json::Value;
use std::io::Write;

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    tool: Tool,
    settings: SettingsOut,
    summary: Summary,
    findings: FindingsOut<'a>,
}

/// The findings, serialized one at a time as they are written.
struct FindingsOut<'a>(&'a [Finding]);

impl Serialize for FindingsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(FindingOut::of))
    }
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct SettingsOut {
    profile: String,
    level: Option<String>,
    /// The run's check configuration (`PlatformDefaults.spec.checks`, `--disable-check`,
    /// `--enable-check`), by check id.
    checks: std::collections::BTreeMap<String, CheckOut>,
}

#[derive(Serialize)]
struct CheckOut {
    enabled: Option<bool>,
    severity: Option<&'static str>,
    reason: Option<String>,
    source: String,
}

#[derive(Serialize)]
struct Summary {
    objects: usize,
    error: usize,
    warning: usize,
    info: usize,
}

#[derive(Serialize)]
struct FindingOut<'a> {
    severity: &'static str,
    check: Option<&'static str>,
    message: &'a str,
    object: Option<ObjectOut<'a>>,
    field: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<usize>,
    index: Option<usize>,
    exempted: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    configured: Option<&'a str>,
    #[serde(rename = "proposedValue", skip_serializing_if = "Option::is_none")]
    proposed: Option<&'a Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    related: Vec<RelatedOut<'a>>,
}

#[derive(Serialize)]
struct RelatedOut<'a> {
    file: &'a str,
    line: usize,
    message: &'a str,
}

impl<'a> FindingOut<'a> {
    fn of(f: &'a Finding) -> Self {
        FindingOut {
            severity: f.severity.as_str(),
            check: f.check,
            message: &f.message,
            object: f.object.as_ref().map(|o| ObjectOut {
                api_version: &o.api_version,
                kind: &o.kind,
                name: &o.name,
                namespace: o.namespace.as_deref(),
            }),
            field: f.field.as_deref(),
            file: f.origin.as_ref().map(|o| &*o.file),
            line: f.origin.as_ref().map(|o| o.line),
            index: f.origin.as_ref().map(|o| o.index),
            exempted: f.exempted.as_deref(),
            configured: f.configured.as_deref(),
            proposed: f.proposed.as_deref(),
            related: f
                .related()
                .iter()
                .map(|r| RelatedOut {
                    file: &r.origin.file,
                    line: r.origin.line,
                    message: &r.message,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct ObjectOut<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
}

/// Writes the report for `findings` over `objects` checked objects, pretty-printed, streaming
/// (a report of 150,000 findings is never held as one JSON value).
pub fn write<W: Write + ?Sized>(
    out: &mut W,
    findings: &[Finding],
    objects: usize,
    settings: &crate::settings::PolicySettings,
) -> std::io::Result<()> {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let report = Report {
        version: 1,
        tool: Tool {
            name: "nixernetes",
            version: crate::VERSION,
        },
        settings: SettingsOut {
            profile: format!("{:?}", settings.profile()).to_lowercase(),
            level: settings.level.map(|l| format!("{l:?}").to_lowercase()),
            checks: settings
                .checks
                .iter()
                .map(|(id, c)| {
                    let out = CheckOut {
                        enabled: c.enabled,
                        severity: c.severity.map(Severity::as_str),
                        reason: c.reason.clone(),
                        source: c.source.clone(),
                    };
                    (id.clone(), out)
                })
                .collect(),
        },
        summary: Summary {
            objects,
            error: count(Severity::Error),
            warning: count(Severity::Warning),
            info: count(Severity::Info),
        },
        findings: FindingsOut(findings),
    };
    // serde_json writes token by token: a buffer of a known type takes them without a dynamic
    // call each, and hands `out` large blocks.
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut *out);
    serde_json::to_writer_pretty(&mut buffered, &report).map_err(std::io::Error::other)?;
    buffered.write_all(b"\n")?;
    buffered.flush()
}
