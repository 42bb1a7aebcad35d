//! What rules report: a hit of one rule on one object (weighed into a finding by the policy
//! checker), the rule's finding id, and the load-time findings every kind of rule shares.

use crate::finding::{Finding, Severity};
use crate::resource::Resource;
use std::collections::{BTreeSet, HashMap};

/// What one rule found on one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The rule's position in the set (findings are ordered by it).
    pub rule: usize,
    /// `rule.<name>`.
    pub id: &'static str,
    pub severity: Severity,
    /// Dotted field path (the validation's `fieldPath`), empty for the object.
    pub field: String,
    pub message: String,
}

/// The finding id of rule `name`: `rule.<name>`, interned (a run has a handful of rules, and
/// findings carry ids as `&'static str`).
pub fn id_of(name: &str) -> &'static str {
    static IDS: std::sync::Mutex<BTreeSet<&'static str>> = std::sync::Mutex::new(BTreeSet::new());
    let id = format!("rule.{name}");
    let mut ids = IDS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = ids.get(id.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(id.into_boxed_str());
    ids.insert(leaked);
    leaked
}

/// Records that rule `id` is defined by `res`; an error when another resource defined it.
pub(super) fn claim<'r>(
    names: &mut HashMap<&'static str, &'r Resource>,
    id: &'static str,
    res: &'r Resource,
    findings: &mut Vec<Finding>,
) -> bool {
    if let Some(first) = names.get(id) {
        findings.push(
            Finding::error(format!(
                "a rule named {:?} is already defined at {} ({}/{}); rule names must be unique",
                &id["rule.".len()..],
                first.origin,
                first.kind(),
                first.name()
            ))
            .about(res)
            .field("metadata.name"),
        );
        false
    } else {
        names.insert(id, res);
        true
    }
}

/// Skips a rule that reads `authorizer`, with a warning: there is no authorizer offline.
pub(super) fn authorizer_warning(res: &Resource, findings: &mut Vec<Finding>) {
    findings.push(
        Finding::warning(
            "reads `authorizer`, which only the API server can answer: the rule is not evaluated here (admission still enforces it)",
        )
        .about(res),
    );
}
