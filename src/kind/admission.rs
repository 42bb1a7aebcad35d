//! Admission rules a kind puts in force, declared in its `Expansion`, so that the findings of
//! the built-in checks that mean the same rule can say what admission will do with the object
//! (a team sees at render time what the cluster will refuse). The engine collects the
//! declarations of the rendered set and [`cite`]s them on the check findings; no check and no
//! pass needs to know any policy engine.

use crate::finding::Finding;

/// A rule of an admission policy in the rendered set that refuses what a built-in check finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// The id of the built-in check (`policy::checks`) that finds what the rule refuses.
    pub check: &'static str,
    /// The policy and rule, as a person finds them in the cluster, e.g.
    /// `ClusterPolicy/baseline-disallow-privileged-containers rule privileged-containers`.
    pub rule: String,
    /// Whether admission denies the request (else it only audits or warns).
    pub denies: bool,
}

/// Adds to every check finding that an admission rule of `rules` also refuses what admission
/// will do, e.g. `… (admission: ClusterPolicy/x rule y will deny this)`. Findings exempted by
/// an annotation are cited too: admission does not read the tool's exemptions.
pub fn cite(findings: &mut [Finding], rules: &[Admission]) {
    if rules.is_empty() {
        return;
    }
    for f in findings.iter_mut() {
        let Some(check) = f.check else { continue };
        let mut said = Vec::new();
        for r in rules.iter().filter(|r| r.check == check) {
            let what = if r.denies {
                format!("{} will deny this", r.rule)
            } else {
                format!("{} will report this (audit)", r.rule)
            };
            if !said.contains(&what) {
                said.push(what);
            }
        }
        if !said.is_empty() {
            f.message = format!("{} (admission: {})", f.message, said.join("; "));
        }
    }
}
