//! Policy checks: the built-in check set, profile and level gating, exemptions.
//!
//! Each check family is one file and contributes `CheckDef`s to `CHECKS`; a check only reports
//! what it sees (field path and message). This module decides what a hit means: its severity
//! under the active Pod Security profile and compliance level, and whether an
//! `ignore-check.nixernetes.io/<id>` annotation exempts it. Checks never change objects.

pub mod mutate;
pub mod pod;
pub mod pod_security;
// (modules: one line per check family file)
pub mod availability;
pub mod containers;
pub mod credentials;
pub mod exposure;
pub mod images;
pub mod metadata;
pub mod netpol;
pub mod network;
pub mod probes;
pub mod quota;
pub mod rbac;
pub mod references;
pub mod resources;
pub mod root_images;
pub mod routing;
pub mod schema;
pub mod service_accounts;
pub mod skeleton;
pub mod validity;
pub mod workloads;

use crate::finding::{Finding, Severity};
use crate::resource::Resource;
use crate::rules::RuleSet;
use crate::schema::resources::Schemas;
use crate::settings::PolicySettings;
use crate::types::{Enforcement, KubernetesVersion, Level, Profile};
use pod::PodView;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// Annotation prefix exempting an object from one check: `ignore-check.nixernetes.io/<id>: <reason>`.
pub const IGNORE_PREFIX: &str = "ignore-check.nixernetes.io/";
/// Annotation exempting an object from every check: `nixernetes.io/ignore-all: <reason>`.
pub const IGNORE_ALL: &str = "nixernetes.io/ignore-all";

/// Pod Security Standards level a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pss {
    Baseline,
    Restricted,
}

impl Pss {
    /// The level's name, as `check --list` and the docs write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Pss::Baseline => "baseline",
            Pss::Restricted => "restricted",
        }
    }
}

/// Whether the tool may repair what a check finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// A safe default mutation exists.
    Yes,
    /// A mutation exists but may change runtime behaviour: opt-in only.
    Opt,
    /// Fixed by generating a companion object.
    Gen,
    /// Report only.
    No,
}

struct Hit {
    object: usize,
    field: String,
    message: String,
    weight: Weight,
}

/// How a hit's severity relates to its check's.
#[derive(Clone, Copy, PartialEq)]
enum Weight {
    /// The check's severity under the settings.
    Check,
    /// The hit violates only the restricted level of a baseline+restricted check.
    Restricted,
    /// An error whatever the check's default severity (a private key among
    /// `secret-in-configmap`'s warnings).
    Error,
    /// Valid Kubernetes that is likely a mistake: at most a warning, whatever the check's
    /// severity (an undeclared numeric port, a selector with no workload to look at).
    Doubtful,
    /// A note, never more than `info` (an object with no schema to validate it against).
    Info,
}

impl Hit {
    fn new(
        object: usize,
        field: impl Into<String>,
        message: impl Into<String>,
        weight: Weight,
    ) -> Hit {
        Hit {
            object,
            field: field.into(),
            message: message.into(),
            weight,
        }
    }
}

/// Where a check reports what it finds on one object.
pub struct HitSink<'s> {
    object: usize,
    list: Vec<Hit>,
    kubernetes_version: KubernetesVersion,
    schemas: &'s Schemas,
}

/// The schemas of a run given none of its own: the built-in kinds only.
static BUILTIN_SCHEMAS: std::sync::LazyLock<Schemas> = std::sync::LazyLock::new(Schemas::new);

impl<'s> HitSink<'s> {
    fn at(object: usize, settings: &PolicySettings, schemas: &'s Schemas) -> HitSink<'s> {
        HitSink {
            object,
            list: Vec::new(),
            kubernetes_version: settings.kubernetes_version,
            schemas,
        }
    }

    /// The Kubernetes minor the run targets (`PolicySettings::kubernetes_version`).
    pub fn kubernetes_version(&self) -> KubernetesVersion {
        self.kubernetes_version
    }

    /// The schemas objects are validated against (`schema`).
    pub fn schemas(&self) -> &'s Schemas {
        self.schemas
    }

    /// Reports a note: `info` at most.
    pub fn push_info(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.list
            .push(Hit::new(self.object, field, message, Weight::Info));
    }

    /// Reports a violation at `field`.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.list
            .push(Hit::new(self.object, field, message, Weight::Check));
    }

    /// Reports what is valid Kubernetes but likely a mistake: at most a warning.
    pub fn push_doubtful(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.list
            .push(Hit::new(self.object, field, message, Weight::Doubtful));
    }

    /// Reports a violation that is an error whatever the check's default severity.
    pub fn push_error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.list
            .push(Hit::new(self.object, field, message, Weight::Error));
    }

    /// Reports a violation of the restricted level only (for checks that span both levels).
    pub fn push_restricted(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.list
            .push(Hit::new(self.object, field, message, Weight::Restricted));
    }
}

/// What a whole-set check reads: the objects (or their skeletons), but for the core ConfigMaps
/// and Secrets, which only `dangling-env-ref` reads, and only their names and keys
/// (`references::Sources`): a large set is mostly ConfigMaps and Secrets, and so would be what a
/// render holds to its end. Hits name `objects[i]`.
pub struct SetInput<'a> {
    pub objects: &'a [&'a Resource],
    pub sources: &'a references::Sources,
}

/// `objects` split the way the whole-set checks read them: the objects but the core ConfigMaps
/// and Secrets, the position in `objects` of each, and the ConfigMaps and Secrets as sources.
#[cfg(test)]
pub(crate) fn split_set<'a>(
    objects: &[&'a Resource],
) -> (Vec<&'a Resource>, Vec<usize>, references::Sources) {
    let mut sources = references::Sources::default();
    let mut kept = Vec::new();
    let mut at = Vec::new();
    for (i, r) in objects.iter().enumerate() {
        if !sources.add(r) {
            kept.push(*r);
            at.push(i);
        }
    }
    (kept, at, sources)
}

/// Hits of a whole-set check, which name the object they are about.
#[derive(Default)]
pub struct SetHits {
    list: Vec<Hit>,
}

impl SetHits {
    /// Reports a violation on `objects[object]` at `field`.
    pub fn push(&mut self, object: usize, field: impl Into<String>, message: impl Into<String>) {
        self.list
            .push(Hit::new(object, field, message, Weight::Check));
    }

    /// Reports, on `objects[object]`, what is valid Kubernetes but likely a mistake: at most a
    /// warning.
    pub fn push_doubtful(
        &mut self,
        object: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.list
            .push(Hit::new(object, field, message, Weight::Doubtful));
    }
}

impl Fix {
    /// How `check --list` and the docs write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Fix::Yes => "yes",
            Fix::Opt => "opt",
            Fix::Gen => "gen",
            Fix::No => "no",
        }
    }
}

/// What a check looks at.
pub enum Scope {
    /// Every pod spec (Pod, workload templates, CronJob job templates).
    Pod(fn(&PodView<'_>, &mut HitSink)),
    /// Every object.
    Object(fn(&Resource, &mut HitSink)),
    /// The whole rendered set at once (cross-object checks).
    Set(fn(&SetInput<'_>, &mut SetHits)),
}

/// A built-in check.
pub struct CheckDef {
    /// Stable kebab-case id: result tags, SARIF rule ids and exemption keys use it.
    pub id: &'static str,
    /// One line: what is required.
    pub summary: &'static str,
    pub pss: Option<Pss>,
    /// Severity when no profile or level changes it.
    pub severity: Severity,
    pub fix: Fix,
    pub scope: Scope,
}

/// Every built-in check, in the order of the check table (family by family).
static ALL: std::sync::LazyLock<Vec<&'static CheckDef>> = std::sync::LazyLock::new(|| {
    let families: &[&[&'static CheckDef]] = &[
        pod_security::CHECKS,
        // (families: one line per check family file)
        containers::CHECKS,
        resources::CHECKS,
        images::CHECKS,
        probes::CHECKS,
        service_accounts::CHECKS,
        network::CHECKS,
        schema::CHECKS,
        metadata::CHECKS,
        availability::CHECKS,
        rbac::CHECKS,
        quota::CHECKS,
        credentials::CHECKS,
        exposure::CHECKS,
        routing::CHECKS,
        references::CHECKS,
        workloads::CHECKS,
        validity::CHECKS,
    ];
    families.concat()
});

/// The severity of `check`'s hits under `settings`, before exemptions and enforcement; `None`
/// when the check does not run. Hits that are doubtful (at most a warning) or always errors
/// depart from it, as the check's own documentation says.
pub fn severity_under(check: &CheckDef, settings: &PolicySettings) -> Option<Severity> {
    settings.severity(check, false)
}

/// Every built-in check, in report order.
pub fn checks() -> &'static [&'static CheckDef] {
    &ALL
}

/// The check with this id.
pub fn lookup(id: &str) -> Option<&'static CheckDef> {
    checks().iter().copied().find(|c| c.id == id)
}

/// Why `id` cannot be configured, when it names no built-in check: the message for
/// `PlatformDefaults.spec.checks` and `--disable-check`/`--enable-check`, with the ids close to
/// it. `None` for a known id.
pub fn unknown_check(id: &str) -> Option<String> {
    if lookup(id).is_some() {
        return None;
    }
    let hint = crate::validate::suggest::did_you_mean(id, checks().iter().map(|c| c.id))
        .unwrap_or_else(|| "`check --list` lists every check".into());
    let rule = if id.starts_with("rule.") {
        " (a ValidationRule's severity is set in the rule itself)"
    } else {
        ""
    };
    Some(format!("unknown check {id:?}{rule}: {hint}"))
}

impl PolicySettings {
    /// Severity of a hit of `check` under these settings; `None` when the check does not apply.
    /// The run's check configuration (`checks`) comes first: off, a severity of its own, or on
    /// where the profile and level would not run the check.
    fn severity(&self, check: &CheckDef, restricted_hit: bool) -> Option<Severity> {
        let Some(configured) = self.checks.get(check.id) else {
            return self.gated_severity(check, restricted_hit);
        };
        match (configured.enabled, configured.severity) {
            (Some(false), _) => None,
            (_, Some(s)) => Some(s),
            (Some(true), None) => Some(
                self.gated_severity(check, restricted_hit)
                    .unwrap_or(check.severity),
            ),
            (None, None) => self.gated_severity(check, restricted_hit),
        }
    }

    /// Severity of a hit of `check` under the profile and level alone.
    fn gated_severity(&self, check: &CheckDef, restricted_hit: bool) -> Option<Severity> {
        let pss = if restricted_hit {
            Some(Pss::Restricted)
        } else {
            check.pss
        };
        let medium_or_above = self.level.is_some_and(|l| l >= Level::Medium);
        Some(match (pss, self.profile()) {
            (Some(Pss::Baseline), Profile::Baseline | Profile::Restricted) => Severity::Error,
            (Some(Pss::Restricted), Profile::Restricted) => Severity::Error,
            // Below the profile in force: still reported, never fatal.
            (Some(_), _) => Severity::Warning,
            (None, _) => match check.id {
                "compliance-labels" if self.level.is_none() && self.framework.is_none() => {
                    return None
                }
                "compliance-labels" | "network-policy-coverage" if medium_or_above => {
                    Severity::Error
                }
                "image-digest" if self.level == Some(Level::Restricted) => Severity::Error,
                "min-replicas" | "hpa-min-replicas" if medium_or_above => Severity::Warning,
                _ => check.severity,
            },
        })
    }
}

/// Runs every check over `objects` (local-config objects are skipped). Findings come in object
/// order, then check order; exempted findings are `info` and say why.
pub fn run(objects: &[&Resource], settings: &PolicySettings) -> Vec<Finding> {
    run_with_rules(objects, settings, &RuleSet::default(), &BUILTIN_SCHEMAS)
}

/// [`run`], with the validation rules of `rules` beside the built-in checks, and `schemas`
/// (the custom resources' too) for the `schema` check.
pub fn run_with_rules(
    objects: &[&Resource],
    settings: &PolicySettings,
    rules: &RuleSet,
    schemas: &Schemas,
) -> Vec<Finding> {
    let mut checker = Checker::new(settings)
        .with_rules(rules)
        .with_schemas(schemas);
    for obj in objects {
        // The caller holds the objects: the whole-set checks read them rather than skeletons.
        if let Some(at) = checker.check_alone(obj) {
            if !checker.sources.add(obj) {
                checker.set.push((at, Cow::Borrowed(*obj)));
            }
        }
    }
    checker.finish()
}

/// The checks of one run, fed one object at a time, so that a caller can let each object go
/// once it is checked: per-object checks run at once, whole-set checks at [`Checker::finish`]
/// over the objects' skeletons (`skeleton`), or over the objects themselves in [`run`], whose
/// caller holds them. Either way the findings are the same.
pub struct Checker<'a> {
    settings: &'a PolicySettings,
    /// Whether any whole-set check is in force (else no skeletons are kept).
    set_checks: bool,
    /// Position of the next object.
    next: usize,
    /// `(position, skeleton or object)` of each checked object, for the whole-set checks, but
    /// for the core ConfigMaps and Secrets,
    set: Vec<(usize, Cow<'a, Resource>)>,
    /// which are kept as their names and keys.
    sources: references::Sources,
    /// `(position, check number, finding)`.
    found: Vec<(usize, usize, Finding)>,
    /// Exemption annotations without a reason, by `(position, annotation key)`.
    invalid_exemptions: BTreeMap<(usize, String), Finding>,
    /// The validation rules that run beside the checks, and a buffer for their hits.
    rules: Option<&'a RuleSet>,
    rule_hits: Vec<crate::rules::Hit>,
    /// What the `schema` check validates against.
    schemas: &'a Schemas,
}

impl<'a> Checker<'a> {
    pub fn new(settings: &'a PolicySettings) -> Self {
        Checker {
            settings,
            set_checks: checks()
                .iter()
                .any(|c| matches!(c.scope, Scope::Set(_)) && settings.severity(c, false).is_some()),
            next: 0,
            set: Vec::new(),
            sources: references::Sources::default(),
            found: Vec::new(),
            invalid_exemptions: BTreeMap::new(),
            rules: None,
            rule_hits: Vec::new(),
            schemas: &BUILTIN_SCHEMAS,
        }
    }

    /// Validates objects against `schemas` (the run's custom resources too) in the `schema`
    /// check, instead of the built-in kinds only.
    pub fn with_schemas(mut self, schemas: &'a Schemas) -> Self {
        self.schemas = schemas;
        self
    }

    /// Runs `rules` on every object too; their findings are `rule.<name>`, ordered after the
    /// built-in checks' and exempted the same way.
    pub fn with_rules(mut self, rules: &'a RuleSet) -> Self {
        self.rules = (!rules.is_empty()).then_some(rules);
        self
    }

    /// Makes room for what the whole-set checks keep of `objects`, which are to come (a list
    /// grown by doubling is up to half empty, and it is kept to the end of the run).
    pub fn reserve_for<T: crate::resource::Identity>(&mut self, objects: &[T]) {
        if self.set_checks {
            let sources = objects.iter().filter(references::Sources::takes).count();
            let modules = objects.iter().filter(|r| r.is_module()).count();
            self.set
                .reserve_exact(objects.len().saturating_sub(sources + modules));
            self.sources.reserve(sources);
        }
    }

    /// Runs the per-object checks on the next object and keeps its skeleton for the rest.
    pub fn check(&mut self, obj: &Resource) {
        if let Some(at) = self.check_alone(obj) {
            if !self.sources.add(obj) {
                self.set.push((at, Cow::Owned(skeleton::skeleton(obj))));
            }
        }
    }

    /// Runs the per-object checks on the next object; returns its position when the whole-set
    /// checks are to see it.
    fn check_alone(&mut self, obj: &Resource) -> Option<usize> {
        let at = self.next;
        self.next += 1;
        if self.settings.enforcement == Enforcement::Off || obj.is_local_config() {
            return None;
        }
        // Found once per object, not once per check: locating the pod is most of a check's cost.
        let pod = pod::pod_of(obj);
        let mut identity = None;
        for (ci, check) in checks().iter().enumerate() {
            if self.settings.severity(check, false).is_none() {
                continue;
            }
            let mut sink = HitSink::at(at, self.settings, self.schemas);
            match (&check.scope, &pod) {
                (Scope::Pod(f), Some(pod)) => f(pod, &mut sink),
                (Scope::Object(f), _) => f(obj, &mut sink),
                _ => continue,
            }
            for hit in sink.list {
                let identity = identity.get_or_insert_with(|| Identity::of(obj));
                self.record(ci, obj, identity, hit);
            }
        }
        if let Some(rules) = self.rules {
            let mut hits = std::mem::take(&mut self.rule_hits);
            rules.evaluate(obj, &mut hits);
            for hit in hits.drain(..) {
                let identity = identity.get_or_insert_with(|| Identity::of(obj));
                let ci = checks().len() + hit.rule;
                let as_hit = Hit::new(at, hit.field, hit.message, Weight::Check);
                self.note(ci, hit.id, hit.severity, obj, identity, as_hit);
            }
            self.rule_hits = hits;
        }
        self.set_checks.then_some(at)
    }

    /// Runs the whole-set checks and returns every finding, in object order, then check order.
    pub fn finish(mut self) -> Vec<Finding> {
        let set = std::mem::take(&mut self.set);
        let refs: Vec<&Resource> = set.iter().map(|(_, r)| r.as_ref()).collect();
        let sources = std::mem::take(&mut self.sources);
        let input = SetInput {
            objects: &refs,
            sources: &sources,
        };
        let mut idents: HashMap<usize, Identity> = HashMap::new();
        for (ci, check) in checks().iter().enumerate() {
            let Scope::Set(f) = check.scope else { continue };
            if self.settings.severity(check, false).is_none() {
                continue;
            }
            let mut hits = SetHits::default();
            f(&input, &mut hits);
            for hit in hits.list {
                let (at, obj) = &set[hit.object];
                let identity = idents.entry(*at).or_insert_with(|| Identity::of(obj));
                self.record(ci, obj, identity, Hit { object: *at, ..hit });
            }
        }
        let mut found = self.found;
        found.extend(
            self.invalid_exemptions
                .into_iter()
                .map(|((at, _), f)| (at, usize::MAX, f)),
        );
        found.sort_by_key(|(o, c, _)| (*o, *c));
        found.into_iter().map(|(_, _, f)| f).collect()
    }

    /// Turns a hit of check number `ci` on `obj` into a finding, under the settings and the
    /// object's exemptions.
    fn record(&mut self, ci: usize, obj: &Resource, identity: &Identity, hit: Hit) {
        let check = checks()[ci];
        let restricted = hit.weight == Weight::Restricted;
        let Some(mut severity) = self.settings.severity(check, restricted) else {
            return;
        };
        match hit.weight {
            Weight::Doubtful => severity = severity.min(Severity::Warning),
            Weight::Info => severity = Severity::Info,
            Weight::Error => severity = Severity::Error,
            Weight::Check | Weight::Restricted => {}
        }
        // A severity the run configures is every hit's, whatever its weight: the user said so.
        let configured = self
            .settings
            .checks
            .get(check.id)
            .and_then(|c| c.severity.map(|s| (s, c)));
        if let Some((s, _)) = configured {
            severity = s;
        }
        self.note(ci, check.id, severity, obj, identity, hit);
        if let Some((s, c)) = configured {
            if let Some((_, _, f)) = self.found.last_mut() {
                f.message = format!(
                    "{} (severity {} for this run, {}: {})",
                    f.message,
                    s.as_str(),
                    c.source,
                    c.reason()
                );
                f.configured = Some(c.reason().to_string());
            }
        }
    }

    /// Records a hit of check (or rule) number `ci`, id `id`, at `severity`, unless the
    /// object's annotations exempt it.
    fn note(
        &mut self,
        ci: usize,
        id: &'static str,
        severity: Severity,
        obj: &Resource,
        identity: &Identity,
        hit: Hit,
    ) {
        // A rule's hit without a fieldPath is about the whole object.
        let mut finding = if hit.field.is_empty() && ci >= checks().len() {
            Finding::error(exact(hit.message))
        } else {
            Finding::error(exact(hit.message)).field(exact(hit.field))
        };
        finding.object = Some(identity.object.clone());
        finding.origin = Some(obj.origin.clone());
        finding.severity = severity;
        finding.check = Some(id);
        if let Some((key, reason)) = identity.exemption(id) {
            if reason.trim().is_empty() {
                self.invalid_exemptions
                    .entry((hit.object, key.clone()))
                    .or_insert_with(|| {
                        Finding::error(format!(
                            "exemption {key} needs a reason: say why the check does not apply"
                        ))
                        .about(obj)
                        .field(format!("metadata.annotations.{key}"))
                    });
            } else {
                finding.severity = Severity::Info;
                finding.message = format!("exempted ({reason}): {}", finding.message);
                finding.exempted = Some(reason.to_string());
            }
        }
        self.found.push((hit.object, ci, finding));
    }
}

/// `s` in an allocation of its own length: `format!` reserves room to grow, and a large run
/// holds 100,000s of messages (an allocator keeps a block that shrinks by less than half).
fn exact(s: String) -> String {
    if s.capacity() > s.len() {
        String::from(s.as_str())
    } else {
        s
    }
}

/// What findings need to know about an object with hits, looked up once per object rather than
/// once per finding: its identity and its exemption annotations.
struct Identity {
    object: std::sync::Arc<crate::resource::ObjectRef>,
    /// `(annotation key, check id or "" for ignore-all, reason)`.
    exemptions: Vec<(String, String, String)>,
}

impl Identity {
    fn of(obj: &Resource) -> Identity {
        let exemptions = obj
            .annotations()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| {
                let check = match k.strip_prefix(IGNORE_PREFIX) {
                    Some(id) => id,
                    None if k == IGNORE_ALL => "",
                    None => return None,
                };
                Some((
                    k.clone(),
                    check.to_string(),
                    v.as_str().unwrap_or("").to_string(),
                ))
            })
            .collect();
        Identity {
            object: obj.object_ref().into(),
            exemptions,
        }
    }

    /// The exemption annotation that covers `check`, with its reason (a per-check one first).
    fn exemption(&self, check: &str) -> Option<(String, &str)> {
        let find = |id: &str| self.exemptions.iter().find(|(_, c, _)| c == id);
        find(check)
            .or_else(|| find(""))
            .map(|(k, _, r)| (k.clone(), r.as_str()))
    }
}

/// Under `audit`, check errors become warnings (input validation errors stay errors).
pub fn apply_enforcement(findings: &mut [Finding], enforcement: Enforcement) {
    if enforcement == Enforcement::Audit {
        for f in findings
            .iter_mut()
            .filter(|f| f.check.is_some() && f.severity == Severity::Error)
        {
            f.severity = Severity::Warning;
            f.message = format!("{} (audit: enforce to fail)", f.message);
        }
    }
}

/// Test support: the findings of check `id` when a YAML stream goes through the [`Checker`]
/// with default settings, as a render reports them (severities, exemptions and all).
#[cfg(test)]
pub(crate) fn findings_of(id: &str, yaml: &str) -> Vec<crate::finding::Finding> {
    let objects = crate::source::parse_text(yaml, "t.yaml").unwrap();
    let settings = crate::settings::PolicySettings::default();
    let mut checker = Checker::new(&settings);
    for o in &objects {
        checker.check(o);
    }
    checker
        .finish()
        .into_iter()
        .filter(|f| f.check == Some(id))
        .collect()
}

/// Test support: runs one check over the objects of a YAML stream and returns its hits as
/// `(object name, field path, message)`, ignoring profile gating and exemptions.
#[cfg(test)]
pub(crate) fn hits_of(check: &CheckDef, yaml: &str) -> Vec<(String, String, String)> {
    hits_at(check, yaml, KubernetesVersion::DEFAULT)
}

/// Test support: [`hits_of`] for a run that targets Kubernetes `target`.
#[cfg(test)]
pub(crate) fn hits_at(
    check: &CheckDef,
    yaml: &str,
    target: KubernetesVersion,
) -> Vec<(String, String, String)> {
    let settings = PolicySettings {
        kubernetes_version: target,
        ..PolicySettings::default()
    };
    let resources = crate::source::parse_text(yaml, "test.yaml").expect("test YAML parses");
    let refs: Vec<&Resource> = resources.iter().collect();
    let mut hits = Vec::new();
    match check.scope {
        Scope::Pod(f) => {
            for (i, r) in refs.iter().enumerate() {
                if let Some(p) = pod::pod_of(r) {
                    let mut sink = HitSink::at(i, &settings, &BUILTIN_SCHEMAS);
                    f(&p, &mut sink);
                    hits.extend(sink.list);
                }
            }
        }
        Scope::Object(f) => {
            for (i, r) in refs.iter().enumerate() {
                let mut sink = HitSink::at(i, &settings, &BUILTIN_SCHEMAS);
                f(r, &mut sink);
                hits.extend(sink.list);
            }
        }
        Scope::Set(f) => {
            let (kept, at, sources) = split_set(&refs);
            let mut sh = SetHits::default();
            f(
                &SetInput {
                    objects: &kept,
                    sources: &sources,
                },
                &mut sh,
            );
            let skeletons: Vec<Resource> = kept.iter().map(|r| skeleton::skeleton(r)).collect();
            let mut on_skeletons = SetHits::default();
            f(
                &SetInput {
                    objects: &skeletons.iter().collect::<Vec<_>>(),
                    sources: &sources,
                },
                &mut on_skeletons,
            );
            // Hits name the objects of the split set: point them back at `refs`.
            for h in sh.list.iter_mut().chain(on_skeletons.list.iter_mut()) {
                h.object = at[h.object];
            }
            let key = |h: &Hit| (h.object, h.field.clone(), h.message.clone());
            assert_eq!(
                sh.list.iter().map(key).collect::<Vec<_>>(),
                on_skeletons.list.iter().map(key).collect::<Vec<_>>(),
                "{}: the skeletons of the objects must give the hits of the objects",
                check.id
            );
            hits.extend(sh.list);
        }
    }
    hits.into_iter()
        .map(|h| (refs[h.object].name().to_string(), h.field, h.message))
        .collect()
}

/// Test support: asserts the hits of `check` on `yaml` as (object name, field path, message
/// substring), in order.
#[cfg(test)]
pub(crate) fn expect_hits(check: &CheckDef, yaml: &str, want: &[(&str, &str, &str)]) {
    let hits = hits_of(check, yaml);
    assert_eq!(hits.len(), want.len(), "{}: {hits:#?}", check.id);
    for (hit, (name, field, msg)) in hits.iter().zip(want) {
        assert_eq!((hit.0.as_str(), hit.1.as_str()), (*name, *field));
        assert!(hit.2.contains(msg), "{:?} lacks {msg:?}", hit.2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A streamed run keeps no skeleton of a core ConfigMap or Secret, only its entry among the
    /// sources, and finds what a run over the whole objects finds: a key a pod needs that the
    /// ConfigMap lacks, and none of the Secret's values anywhere.
    #[test]
    fn configmaps_and_secrets_are_kept_as_sources() {
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: a}\ndata: {A: one}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\nstringData: {token: hunter2}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers:\n  - name: c\n    image: c:1\n    env:\n    - {name: B, valueFrom: {configMapKeyRef: {name: cfg, key: B}}}\n    - {name: T, valueFrom: {secretKeyRef: {name: s, key: token}}}\n";
        let objects = crate::source::parse_text(yaml, "t.yaml").expect("reads");
        let settings = PolicySettings::default();
        let mut checker = Checker::new(&settings);
        checker.reserve_for(&objects);
        for o in &objects {
            checker.check(o);
        }
        let kinds: Vec<&str> = checker.set.iter().map(|(_, r)| r.kind()).collect();
        assert_eq!(kinds, ["Pod"]);
        assert_eq!(checker.sources.len(), 2);
        assert!(!checker.sources.text().contains("hunter2"));
        let streamed = checker.finish();
        let refs: Vec<&Resource> = objects.iter().collect();
        assert_eq!(streamed, run(&refs, &settings));
        let dangling: Vec<&Finding> = streamed
            .iter()
            .filter(|f| f.check == Some("dangling-env-ref"))
            .collect();
        assert_eq!(dangling.len(), 1, "{streamed:#?}");
        assert!(dangling[0]
            .message
            .contains("has no key \"B\" (its keys: A)"));
    }

    /// The exported admission policies exempt by the same annotations.
    #[test]
    fn rule_export_uses_the_exemption_annotations() {
        assert_eq!(crate::rules::export::IGNORE_PREFIX, IGNORE_PREFIX);
        assert_eq!(crate::rules::export::IGNORE_ALL, IGNORE_ALL);
    }

    const BAD: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bad}\nspec:\n  template:\n    spec:\n      hostNetwork: true\n      containers:\n      - name: c\n        image: x\n        securityContext: {privileged: true, capabilities: {add: [SYS_ADMIN]}}\n";

    #[test]
    fn pods_of_removed_api_versions_are_checked() {
        for (check, yaml, field) in [
            (
                &pod_security::HOST_PORT,
                "apiVersion: extensions/v1beta1\nkind: DaemonSet\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: x, ports: [{containerPort: 9100, hostPort: 9100}]}]\n",
                "spec.template.spec.containers[0].ports[0].hostPort",
            ),
            (
                &pod_security::HOST_NAMESPACES,
                "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          hostIPC: true\n          restartPolicy: OnFailure\n          containers: [{name: c, image: x}]\n",
                "spec.jobTemplate.spec.template.spec.hostIPC",
            ),
            // OpenShift 3's legacy ungrouped DeploymentConfig.
            (
                &pod_security::PRIVILEGED_CONTAINER,
                "apiVersion: v1\nkind: DeploymentConfig\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: x, securityContext: {privileged: true}}]\n",
                "spec.template.spec.containers[0].securityContext.privileged",
            ),
        ] {
            let hits = hits_of(check, yaml);
            assert_eq!(hits.len(), 1, "{yaml}");
            assert_eq!(hits[0].1, field);
        }
        // A kind no version of which has a pod template is still not read as one.
        let unknown = "apiVersion: extensions/v1beta1\nkind: Widget\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n      hostIPC: true\n      containers: [{name: c, image: x}]\n";
        assert_eq!(hits_of(&pod_security::HOST_NAMESPACES, unknown), vec![]);
    }

    #[test]
    fn operator_pod_templates_are_checked() {
        let rollout = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  template:\n    spec:\n      hostPID: true\n      containers: [{name: c, image: x}]\n";
        let hits = hits_of(&pod_security::HOST_NAMESPACES, rollout);
        assert_eq!(hits[0].1, "spec.template.spec.hostPID");
        let scaled = "apiVersion: keda.sh/v1alpha1\nkind: ScaledJob\nmetadata: {name: s}\nspec:\n  jobTargetRef:\n    template:\n      spec:\n        containers: [{name: c, image: x, securityContext: {privileged: true}}]\n";
        let hits = hits_of(&pod_security::PRIVILEGED_CONTAINER, scaled);
        assert_eq!(
            hits[0].1,
            "spec.jobTargetRef.template.spec.containers[0].securityContext.privileged"
        );
        let config = "apiVersion: apps.openshift.io/v1\nkind: DeploymentConfig\nmetadata: {name: d}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers: [{name: c, image: x, securityContext: {privileged: true}}]\n";
        let hits = hits_of(&pod_security::PRIVILEGED_CONTAINER, config);
        assert_eq!(
            hits[0].1,
            "spec.template.spec.containers[0].securityContext.privileged"
        );
    }

    #[test]
    fn pss_checks_find_their_fields() {
        let hits = hits_of(&pod_security::HOST_NAMESPACES, BAD);
        assert_eq!(
            hits,
            vec![(
                "bad".into(),
                "spec.template.spec.hostNetwork".into(),
                "hostNetwork: true shares the node's namespace with the pod".into()
            )]
        );
        let hits = hits_of(&pod_security::CAPABILITIES_BASELINE, BAD);
        assert_eq!(
            hits[0].1,
            "spec.template.spec.containers[0].securityContext.capabilities.add[0]"
        );
        assert_eq!(hits_of(&pod_security::PRIVILEGED_CONTAINER, BAD).len(), 1);
    }

    #[test]
    fn unquoted_off_is_enforcement_off() {
        let e: Enforcement = serde_json::from_value(serde_json::json!(false)).unwrap();
        assert_eq!(e, Enforcement::Off);
        let e: Enforcement = serde_json::from_value(serde_json::json!("enforce")).unwrap();
        assert_eq!(e, Enforcement::Enforce);
        assert!(serde_json::from_value::<Enforcement>(serde_json::json!("strict")).is_err());
    }

    #[test]
    fn gating_follows_profile_and_level() {
        let s = PolicySettings::default();
        assert_eq!(s.profile(), Profile::Baseline);
        assert_eq!(
            s.severity(&pod_security::HOST_NAMESPACES, false),
            Some(Severity::Error)
        );
        assert_eq!(
            s.severity(&pod_security::RUN_AS_NON_ROOT, false),
            Some(Severity::Warning)
        );
        assert_eq!(
            s.severity(&pod_security::SECCOMP_PROFILE, true),
            Some(Severity::Warning)
        );
        let s = PolicySettings {
            level: Some(Level::High),
            ..PolicySettings::default()
        };
        assert_eq!(
            s.severity(&pod_security::RUN_AS_NON_ROOT, false),
            Some(Severity::Error)
        );
        let s = PolicySettings {
            profile: Some(Profile::Privileged),
            ..PolicySettings::default()
        };
        assert_eq!(
            s.severity(&pod_security::HOST_NAMESPACES, false),
            Some(Severity::Warning)
        );
    }

    #[test]
    fn the_run_configures_checks() {
        use crate::settings::CheckSetting;
        let setting = |enabled, severity| CheckSetting {
            enabled,
            severity,
            reason: Some("why".into()),
            source: "test".into(),
        };
        let mut s = PolicySettings::default();
        // compliance-labels does not run without a level or framework, until enabled.
        assert_eq!(s.severity(&metadata::COMPLIANCE_LABELS, false), None);
        s.checks
            .insert("compliance-labels".into(), setting(Some(true), None));
        s.checks
            .insert("host-namespaces".into(), setting(Some(false), None));
        s.checks.insert(
            "privileged-container".into(),
            setting(None, Some(Severity::Info)),
        );
        assert_eq!(
            s.severity(&metadata::COMPLIANCE_LABELS, false),
            Some(Severity::Warning)
        );
        assert_eq!(s.severity(&pod_security::HOST_NAMESPACES, false), None);
        let res = crate::source::parse_text(BAD, "t.yaml").unwrap();
        let refs: Vec<&Resource> = res.iter().collect();
        let findings = run(&refs, &s);
        assert!(!findings.iter().any(|f| f.check == Some("host-namespaces")));
        let privileged = findings
            .iter()
            .find(|f| f.check == Some("privileged-container"))
            .unwrap();
        assert_eq!(privileged.severity, Severity::Info);
        assert_eq!(privileged.configured.as_deref(), Some("why"));
        assert!(
            privileged
                .message
                .ends_with("(severity info for this run, test: why)"),
            "{}",
            privileged.message
        );
        let why = unknown_check("privileged-containers").unwrap();
        assert!(
            why.contains("did you mean `privileged-container`?"),
            "{why}"
        );
        assert!(unknown_check("rule.x").unwrap().contains("set in the rule"));
        assert_eq!(unknown_check("min-replicas"), None);
    }

    #[test]
    fn exemptions_need_a_reason() {
        let yaml = BAD.replace(
            "metadata: {name: bad}",
            "metadata: {name: bad, annotations: {ignore-check.nixernetes.io/host-namespaces: \"CNI agent\", ignore-check.nixernetes.io/privileged-container: \"\"}}",
        );
        let res = crate::source::parse_text(&yaml, "t.yaml").unwrap();
        let refs: Vec<&Resource> = res.iter().collect();
        let findings = run(&refs, &PolicySettings::default());
        let host = findings
            .iter()
            .find(|f| f.check == Some("host-namespaces"))
            .unwrap();
        assert_eq!(host.severity, Severity::Info);
        assert!(
            host.message.starts_with("exempted (CNI agent)"),
            "{}",
            host.message
        );
        assert!(findings
            .iter()
            .any(|f| f.check.is_none() && f.message.contains("needs a reason")));
    }
}
