//! The render pipeline: configure → expand → generate companions → inject and fix → check →
//! reports. Ordering for the CLI is in `order`.
//!
//! One pipeline serves every mode, through two doors: `run` collects the objects (check, KRM
//! function, legacy plugin), `run_with` hands each object over as soon as it is final (render,
//! Argo CD, diff), so that a large render never holds every object tree at once.
//! It never writes anything: it returns objects and findings, and the caller decides what a
//! finding means for its protocol. Module resources are consumed here and never returned.

pub mod inject;
pub mod order;
pub mod passes;

use crate::finding::{has_errors, Finding};
use crate::kind::{Admission, Context, ModuleResource, Nested, Publisher, Registry, Role};
use crate::resource::Field;
use crate::resource::{shrinking, type_name, Identity, Item, ObjectRef, Resource, API_VERSION};
use crate::settings::{self, Overrides};
use crate::types::AdmissionPolicies;
use crate::validate;
use inject::Provenance;
use passes::network_policies::{Declared, For};
use serde_json::{Map, Value};
use std::sync::Arc;

/// How deep module resources may expand into further module resources.
const MAX_EXPANSION_DEPTH: usize = 8;

/// What the caller wants done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Expand modules and inject metadata.
    #[default]
    Render,
    /// Check everything, change nothing: the output is the input.
    Validate,
}

/// Engine options.
#[derive(Clone)]
pub struct Options {
    /// The kinds the run knows.
    pub registry: &'static Registry,
    pub overrides: Overrides,
    pub mode: Mode,
    /// Leave out the policy checks (the caller runs them itself, e.g. `check`).
    pub skip_checks: bool,
    /// Rules from outside the input (`--rules` paths): ValidationRules, policies, bindings.
    pub rules: Vec<Resource>,
    /// KindDefinitions from outside the input (`--kinds` paths, `NIXERNETES_KINDS`).
    pub kinds: Vec<Resource>,
    /// Custom resource schemas from outside the input (`--crd` paths); the input's
    /// CustomResourceDefinitions are added to them (and win for the same kind and version).
    pub schemas: Vec<crate::schema::resources::SchemaSource>,
}

impl Options {
    /// Default options with the kinds of `registry`.
    pub fn new(registry: &'static Registry) -> Options {
        Options {
            registry,
            overrides: Overrides::default(),
            mode: Mode::default(),
            skip_checks: false,
            rules: Vec::new(),
            kinds: Vec::new(),
            schemas: Vec::new(),
        }
    }
}

/// The result of a run. When `findings` hold an error, `objects` must not be used as output.
#[derive(Debug, Default)]
pub struct Output {
    pub objects: Vec<Resource>,
    pub findings: Vec<Finding>,
    /// The policy settings that were in force.
    pub policy: crate::settings::PolicySettings,
    /// The namespace of objects that name none, when the flags or `PlatformDefaults` set one
    /// (else the cluster's default namespace applies).
    pub namespace: Option<String>,
    /// The admission rules the rendered set puts in force; the check findings cite them
    /// (`kind::admission::cite`), and so must a caller that runs the checks itself.
    pub admission: Vec<Admission>,
    /// The validation rules of the run (`rules::take`), for a caller that runs the checks
    /// itself.
    pub rules: crate::rules::RuleSet,
    /// The schemas of the run (`--crd` and the input's CRDs), for a caller that runs the
    /// checks itself.
    pub schemas: crate::schema::resources::Schemas,
}

impl Output {
    pub fn failed(&self) -> bool {
        has_errors(&self.findings)
    }
}

/// Runs the pipeline over `inputs`, in order. Children take their module resource's place.
pub fn run(inputs: Vec<Resource>, options: &Options) -> Output {
    pipeline(inputs.into_iter().map(Item::from).collect(), options, None)
}

/// `res` as the pipeline keeps it until its turn: frozen (`Item::freeze`) unless something
/// reads it before then. Kept as trees are module resources, CustomResourceDefinitions (the
/// schemas), Namespaces (their labels, for `collisions`), the workloads and what acts on them
/// (`controllers`, `config_hash`), and the admission objects (`rules::take`). A reader that
/// freezes with this (`source::files::read_all_as`) keeps a large render of plain objects
/// at a fraction of their trees' memory. With rules or user kinds in a run, which may read any
/// object, everything is thawed first.
pub fn freeze(res: Resource) -> Item {
    // A frozen object is read back by serde_json, which refuses more than 128 levels of
    // nesting: the YAML readers refuse documents deeper than `yaml::MAX_DEPTH`, and JSON input
    // is read by serde_json itself.
    const _: () = assert!(crate::yaml::MAX_DEPTH < 128);
    let keep = res.is_module()
        || match (res.group(), res.kind()) {
            ("", kind) => matches!(
                kind,
                "Namespace" | "Pod" | "PodTemplate" | "ReplicationController"
            ),
            (group, _) => matches!(
                group,
                "apps"
                    | "batch"
                    | "autoscaling"
                    | "autoscaling.k8s.io"
                    | "keda.sh"
                    | "policy"
                    | "apiextensions.k8s.io"
                    | "admissionregistration.k8s.io"
            ),
        };
    if keep {
        Item::from(res)
    } else {
        Item::freeze(res)
    }
}

/// [`run`], handing each object to `keep` as soon as it is final (injected, fixed and checked
/// on its own), in pipeline order, instead of collecting them: a caller that turns each object
/// into output text never holds the whole rendered set. Only the whole-set checks need all
/// objects, and they get skeletons (`policy::skeleton`). With a report kind in the input, the
/// objects are kept until the report has read them. `Output::objects` is empty.
///
/// `inputs` may be frozen ([`freeze`]).
pub fn run_with(inputs: Vec<Item>, options: &Options, keep: &mut dyn FnMut(Resource)) -> Output {
    pipeline(inputs, options, Some(keep))
}

/// The pipeline; objects go to `keep` once final, or with `None` into `Output::objects`.
fn pipeline(
    inputs: Vec<Item>,
    options: &Options,
    mut keep: Option<&mut dyn FnMut(Resource)>,
) -> Output {
    let mut findings = Vec::new();
    let reg = options.registry;
    let (inputs, rules, user) = take_configuration(inputs, options, &mut findings);
    let kinds = Kinds { reg, user: &user };
    let schemas = schemas_of(&inputs, options);
    let mut ctx = build_context(reg, &inputs, &options.overrides, &mut findings);
    publish_outputs(reg, &inputs, &mut ctx);
    let ctx = ctx;
    let validate = options.mode == Mode::Validate;
    let reports: Vec<Resource> = inputs
        .iter()
        .filter_map(Item::tree)
        .filter(|r| is_report(reg, r))
        .cloned()
        .collect();
    let expanded = expand_all(&kinds, inputs, &ctx, validate, &mut findings);
    let (mut objects, mut produced) = (expanded.objects, expanded.produced);
    let admission = expanded.facts.admission;
    // The exported rules' admission policies join the output as objects of the user's: labels
    // are injected into them and the checks see them. With `only`, nothing else is emitted
    // (but everything is still rendered and checked).
    let export = options
        .overrides
        .admission_policies
        .filter(|a| *a != AdmissionPolicies::None && !validate);
    let exported = match export {
        Some(_) if !has_errors(&findings) => {
            let target = crate::rules::export::Target {
                minor: u32::from(ctx.kubernetes_version.minor()),
                enforcement: ctx.policy.enforcement,
                inventory: ctx.inventory.as_deref(),
                only: export == Some(AdmissionPolicies::Only),
            };
            let mut e = rules.export(&target, &mut findings);
            produced.extend(e.objects.iter().map(|_| None));
            let policies: Vec<ObjectRef> = e.objects.iter().map(Resource::object_ref).collect();
            objects.extend(std::mem::take(&mut e.objects).into_iter().map(Item::from));
            Some((policies, e))
        }
        _ => None,
    };
    let emitted = |obj: &Resource| match (&exported, export) {
        (Some((policies, e)), Some(AdmissionPolicies::Only)) => {
            e.is_param(obj) || policies.contains(&obj.object_ref())
        }
        _ => true,
    };
    if !validate {
        if ctx.network_policies && !has_errors(&findings) {
            add_network_policies(
                &expanded.facts.network,
                &mut objects,
                &mut produced,
                &ctx,
                &mut findings,
            );
        }
        passes::namespaces::add_namespaces(reg, &mut objects, &mut produced, &ctx);
        passes::collisions::check_collisions(&objects, &produced, &ctx, &mut findings);
        passes::controllers::check_controllers(&objects, &produced, &ctx, &mut findings);
        passes::config_hash::add_config_hashes(&mut objects, &produced, &ctx, &mut findings);
    }
    // The declarations share their modules' provenance: dropped now, each module's provenance
    // goes with its last streamed child instead of staying to the end of a large render.
    drop(expanded.facts.network);
    // Objects are held to the end when the caller wants them all, or a report reads them all.
    let hold = keep.is_none() || !reports.is_empty();
    let mut held = Vec::with_capacity(if hold { objects.len() } else { 0 });
    // Check what would be applied: the rendered set, or the input as given when validating.
    let checks = !options.skip_checks;
    // An `Option`, so that it can be let go of (with its borrow of `schemas`) before the end.
    let mut streamed = Some(
        crate::policy::Checker::new(&ctx.policy)
            .with_rules(&rules)
            .with_schemas(&schemas),
    );
    if let Some(streamed) = streamed.as_mut().filter(|_| checks && !hold) {
        streamed.reserve_for(&objects);
    }
    for (item, prov) in shrinking(objects).zip(shrinking(produced)) {
        let mut obj = item.into_resource();
        // Validation changes nothing; a local-config object of the user's is for client tools.
        let as_written = validate || (obj.is_local_config() && prov.is_none());
        if !as_written {
            inject::inject(&mut obj, &ctx, prov.as_deref());
            if prov.is_some() || ctx.policy.fix_pass_through {
                findings.append(&mut crate::policy::mutate::fix(
                    &mut obj,
                    &ctx.default_resources,
                ));
            }
        }
        match keep.as_mut() {
            Some(keep) if !hold => {
                if let Some(streamed) = streamed.as_mut().filter(|_| checks && !obj.is_module()) {
                    streamed.check(&obj);
                }
                if emitted(&obj) {
                    keep(obj);
                }
            }
            _ => {
                // Objects built here grew their maps entry by entry, parsed ones only where
                // metadata was injected: give the slack back, since the whole set is held.
                // (A streamed object becomes its output text at once: nothing to give back.)
                if !as_written {
                    if prov.is_some() {
                        crate::resource::compact_map(&mut obj.object);
                    } else {
                        crate::resource::compact_map(obj.metadata_mut());
                    }
                }
                held.push(obj);
            }
        }
    }
    // The checks' findings only count when the objects themselves are sound.
    if !has_errors(&findings) {
        let refs: Vec<&Resource> = held.iter().filter(|r| !r.is_module()).collect();
        if checks {
            let mut checked = if hold {
                crate::policy::run_with_rules(&refs, &ctx.policy, &rules, &schemas)
            } else {
                streamed.take().map(|s| s.finish()).unwrap_or_default()
            };
            crate::policy::apply_enforcement(&mut checked, ctx.policy.enforcement);
            crate::kind::admission::cite(&mut checked, &admission);
            crate::finding::append(&mut findings, checked);
        }
        for report in &reports {
            run_report(reg, report, &refs, &ctx, &mut findings);
        }
    }
    held.retain(|obj| emitted(obj));
    if let Some(keep) = keep {
        held.drain(..).for_each(keep);
    }
    drop(streamed);
    Output {
        objects: held,
        findings,
        policy: ctx.policy,
        namespace: ctx.namespace,
        admission,
        rules,
        schemas,
    }
}

/// Takes the configuration out of a run's input: ValidationRules (before anything else sees
/// the input) and KindDefinitions, the kinds the input uses compiled and checked. These may
/// read any object (a rule's parameters, a user kind's instances): with any of them in the
/// run, every frozen object is thawed first.
fn take_configuration(
    inputs: Vec<Item>,
    options: &Options,
    findings: &mut Vec<Finding>,
) -> (
    Vec<Item>,
    crate::rules::RuleSet,
    crate::userkinds::UserKinds,
) {
    let configured = !options.rules.is_empty()
        || !options.kinds.is_empty()
        || !options.overrides.kinds.is_empty()
        || inputs
            .iter()
            .any(|i| crate::rules::is_rule_source(i) || crate::userkinds::is_definition(i));
    if !configured {
        return (inputs, Default::default(), Default::default());
    }
    let inputs: Vec<Resource> = inputs.into_iter().map(Item::into_resource).collect();
    let (inputs, rules) = crate::rules::take(inputs, &options.rules, findings);
    let mut definitions = std::borrow::Cow::Borrowed(&options.kinds);
    if !options.overrides.kinds.is_empty() {
        match crate::source::files::read_all(&options.overrides.kinds, &mut std::io::empty()) {
            Ok(mut read) => definitions.to_mut().append(&mut read),
            Err(mut e) => findings.append(&mut e),
        }
    }
    let (inputs, user) = crate::userkinds::take(inputs, &definitions, options.registry, findings);
    (inputs.into_iter().map(Item::from).collect(), rules, user)
}

/// The custom resource schemas of a run: the `--crd` sources, then the input's
/// CustomResourceDefinitions (module resources' generated CRDs are not read).
fn schemas_of(inputs: &[Item], options: &Options) -> crate::schema::resources::Schemas {
    let mut schemas = crate::schema::resources::Schemas::new();
    schemas.fail_on_unknown = options.overrides.fail_on_unknown_schema;
    for source in &options.schemas {
        schemas.add(source);
    }
    for r in inputs
        .iter()
        .filter_map(Item::tree)
        .filter(|r| r.kind() == "CustomResourceDefinition")
    {
        schemas.add_crd(&r.object);
    }
    schemas
}

/// Whether `res` is a report kind (looks at the rendered set, emits nothing).
fn is_report(reg: &Registry, res: &Resource) -> bool {
    res.is_module()
        && reg
            .lookup(res.kind())
            .is_some_and(|d| matches!(d.role, Role::Report(_)))
}

/// Runs one report kind over the rendered set.
fn run_report(
    reg: &Registry,
    res: &Resource,
    objects: &[&Resource],
    ctx: &Context,
    findings: &mut Vec<Finding>,
) {
    let Some(Role::Report(report)) = reg.lookup(res.kind()).map(|d| &d.role) else {
        return;
    };
    let (name, namespace, ok) = module_identity(res, None, findings);
    if !ok {
        return;
    }
    let m = ModuleResource {
        resource: res,
        name: &name,
        namespace,
    };
    match report(&m, objects, ctx) {
        Ok(mut f) | Err(mut f) => findings.append(&mut f),
    }
}

/// The expanded set: objects, the provenance of each (`None` for pass-through objects), and
/// what the module resources declared about them.
struct Expanded {
    objects: Vec<Item>,
    produced: Vec<Option<Arc<Provenance>>>,
    facts: Facts,
}

/// What the module resources declared about their objects (`Expansion::network` and
/// `Expansion::admission`), gathered for the passes that read it.
#[derive(Default)]
struct Facts {
    network: Vec<Declared>,
    admission: Vec<Admission>,
}

/// The kinds of a run: the built-in ones and the user's.
struct Kinds<'a> {
    reg: &'a Registry,
    user: &'a crate::userkinds::UserKinds,
}

/// Expands every module resource (and instance of a user kind) in input order; pass-through
/// objects stay where they are.
fn expand_all(
    kinds: &Kinds<'_>,
    inputs: Vec<Item>,
    ctx: &Context,
    validate: bool,
    findings: &mut Vec<Finding>,
) -> Expanded {
    // A frozen object is neither (module resources are never frozen, and with user kinds
    // nothing is).
    let passes_through = |item: &Item| {
        item.tree()
            .is_none_or(|res| !res.is_module() && kinds.user.lookup(res).is_none())
    };
    // Nothing to expand: the list is the input's own (a large render never holds two).
    if inputs.iter().all(passes_through) {
        return Expanded {
            produced: vec![None; inputs.len()],
            objects: inputs,
            facts: Facts::default(),
        };
    }
    let mut out = Expanded {
        objects: Vec::with_capacity(inputs.len()),
        // Shared by every child of a module resource; `None` (one word) for pass-through objects.
        produced: Vec::with_capacity(inputs.len()),
        facts: Facts::default(),
    };
    for item in shrinking(inputs) {
        if passes_through(&item) {
            out.objects.push(item);
            out.produced.push(None);
            continue;
        }
        let res = item.into_resource();
        let children = expand(kinds, &res, ctx, None, 0, &mut out.facts, findings);
        if validate {
            // Validation changes nothing: the module resource stays, its children are dropped.
            out.objects.push(Item::from(res));
            out.produced.push(None);
        } else {
            for (child, prov) in children.into_iter().flatten() {
                out.objects.push(Item::from(child));
                out.produced.push(Some(prov));
            }
        }
    }
    out
}

/// Adds the NetworkPolicies of seed module policy-generation for the declared targets.
fn add_network_policies(
    declared: &[Declared],
    objects: &mut Vec<Item>,
    produced: &mut Vec<Option<Arc<Provenance>>>,
    ctx: &Context,
    findings: &mut Vec<Finding>,
) {
    let (generated, mut warnings) =
        passes::network_policies::generate(declared, &ctx.monitoring_namespace);
    findings.append(&mut warnings);
    // A policy of that name already in the set (the user's, a NetworkIsolation's) wins.
    let taken: std::collections::HashSet<(String, String)> = objects
        .iter()
        .zip(produced.iter())
        .filter(|(o, _)| o.kind() == "NetworkPolicy")
        .map(|(o, p)| {
            let ns =
                passes::collisions::emitted_namespace(o, p.as_deref(), ctx).unwrap_or_default();
            (ns.to_string(), o.name().to_string())
        })
        .collect();
    for (value, serves) in generated {
        let Value::Object(map) = value else { continue };
        let ns = map["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let name = map["metadata"]["name"].as_str().unwrap_or_default();
        if taken.contains(&(ns.clone(), name.to_string())) {
            continue;
        }
        let (prov, origin) = match serves {
            For::Target(i) => (
                Provenance::generated(&ns, Some(&declared[i].provenance)),
                declared[i].origin.clone(),
            ),
            For::Namespace(members) => {
                let provs: Vec<&Provenance> =
                    members.iter().map(|&i| &*declared[i].provenance).collect();
                let origin = members
                    .first()
                    .map(|&i| declared[i].origin.clone())
                    .unwrap_or_default();
                (Provenance::shared(&ns, &provs), origin)
            }
        };
        produced.push(Some(Arc::new(prov)));
        objects.push(Item::from(Resource::new(map, origin)));
    }
}

/// Builds the context from built-in defaults, configuration kinds in the input and overrides.
fn build_context(
    reg: &Registry,
    inputs: &[Item],
    overrides: &Overrides,
    findings: &mut Vec<Finding>,
) -> Context {
    let mut ctx = Context::default();
    let mut seen: Vec<&Resource> = Vec::new();
    // Declared precedence, not input order: which kind wins a setting does not depend on file
    // order.
    let mut configuring: Vec<(u8, bool, &Resource, _)> = inputs
        .iter()
        .filter_map(Item::tree)
        .filter(|r| r.is_module())
        .filter_map(|res| match reg.lookup(res.kind())?.role {
            Role::Configure {
                precedence,
                single,
                run,
            } => Some((precedence, single, res, run)),
            Role::Generate(_) | Role::Report(_) => None,
        })
        .collect();
    configuring.sort_by_key(|(precedence, _, _, _)| *precedence);
    for (_, single, res, configure) in configuring {
        if let Some(first) = seen.iter().find(|r| single && r.kind() == res.kind()) {
            findings.push(
                Finding::error(format!(
                    "only one {kind} may be given per render, since everything given to one run \
                     is one platform; another one is at {}: keep one {kind}, or render the files \
                     of each platform on their own",
                    first.origin,
                    kind = res.kind(),
                ))
                .about(res),
            );
            continue;
        }
        seen.push(res);
        let (name, namespace, _) = module_identity(res, None, findings);
        let m = ModuleResource {
            resource: res,
            name: &name,
            namespace,
        };
        match configure(&m, &mut ctx) {
            Ok(mut f) | Err(mut f) => findings.append(&mut f),
        }
    }
    ctx.apply(overrides);
    // The context is final: the checks judge against its target minor.
    ctx.policy.kubernetes_version = ctx.kubernetes_version;
    check_context(&ctx, overrides, findings);
    ctx
}

/// Records in the context what every module resource of a generating kind in `inputs` is, and
/// the connection outputs it publishes (`Generate::outputs`), before any is expanded: an app's
/// `uses` sees them whatever the input order. A resource whose spec has errors is recorded
/// without values; its errors are reported once, when it is expanded.
fn publish_outputs(reg: &Registry, inputs: &[Item], ctx: &mut Context) {
    for res in inputs
        .iter()
        .filter_map(Item::tree)
        .filter(|r| r.is_module())
    {
        let Some(def) = reg.lookup(res.kind()).filter(|d| d.generates()) else {
            continue;
        };
        let name = res.name();
        if name.is_empty() {
            continue;
        }
        let namespace = res
            .namespace()
            .unwrap_or_else(|| ctx.module_namespace())
            .to_string();
        let values = match def.output_values {
            Some(outputs) => {
                let m = ModuleResource {
                    resource: res,
                    name,
                    namespace: namespace.clone(),
                };
                outputs(&m, ctx).ok()
            }
            None => Some(Vec::new()),
        };
        ctx.outputs
            .entry((namespace, name.to_string()))
            .or_default()
            .push(Publisher {
                kind: def.kind,
                defs: def.outputs,
                values,
            });
    }
}

/// Validates the settings that came from flags or the environment (`overrides`), where no
/// object exists. A configuration kind's own are validated at their lines, by the kind and
/// with its envelope (`module_identity`): an error here would repeat them without a place
/// (found by the fuzz target kind_specs).
fn check_context(ctx: &Context, overrides: &Overrides, findings: &mut Vec<Finding>) {
    let mut fail =
        |field: &str, why: String| findings.push(Finding::error(why).field(field.to_string()));
    if let Some(ns) = &overrides.namespace {
        if let Err(why) = validate::dns1123_label(ns) {
            fail("namespace", why);
        }
    }
    if let Some(ns) = &overrides.monitoring_namespace {
        if let Err(why) = validate::dns1123_label(ns) {
            fail("monitoringNamespace", why);
        }
    }
    if let Some(inv) = &overrides.inventory {
        if let Err(why) = validate::inventory_name(inv) {
            fail("inventory", format!("inventory name: {why}"));
        }
    }
    for (k, v) in &overrides.labels {
        let r = validate::label_key(k).and_then(|_| match v {
            Value::String(s) => validate::label_value(s),
            other => Err(format!(
                "label values must be strings, found {}",
                type_name(other)
            )),
        });
        if let Err(why) = r {
            fail(&format!("labels.{k}"), why);
        }
    }
    for (k, v) in &overrides.annotations {
        let r = validate::label_key(k).and_then(|_| match v {
            Value::String(_) => Ok(()),
            other => Err(format!(
                "annotation values must be strings, found {}",
                type_name(other)
            )),
        });
        if let Err(why) = r {
            fail(&format!("annotations.{k}"), why);
        }
    }
    // Each check the run configures, once: what it does and why (an unknown id, which only the
    // flags, the ConfigMap and Argo CD can give, as `PlatformDefaults` is validated, is an error).
    let mut configured = Vec::new();
    for (id, c) in &ctx.policy.checks {
        match crate::policy::lookup(id) {
            None => {
                let why = crate::policy::unknown_check(id).unwrap_or_default();
                let given = settings::lookup(&c.source).map_or(String::new(), |s| {
                    format!(" ({} or setting {})", s.flag, s.name)
                });
                fail(&c.source, format!("{why}{given}"));
            }
            Some(check) => {
                let mut f = Finding::info(format!(
                    "check {id} is {} for this run ({}): {}",
                    c.effect(),
                    c.source,
                    c.reason()
                ));
                f.check = Some(check.id);
                f.configured = Some(c.reason().to_string());
                configured.push(f);
            }
        }
    }
    findings.extend(configured);
}

/// Resolves and checks a module resource's name and namespace and its top-level shape.
/// Returns the name, the namespace and whether both (and the shape) are valid; the caller goes
/// on validating the spec either way, so one run reports every error.
fn module_identity(
    res: &Resource,
    parent_ns: Option<&str>,
    findings: &mut Vec<Finding>,
) -> (String, String, bool) {
    let before = findings.len();
    if res.is_module() && res.api_version() != API_VERSION {
        findings.push(
            Finding::error(format!(
                "unsupported apiVersion {:?}: expected {API_VERSION}",
                res.api_version()
            ))
            .about(res)
            .field("apiVersion"),
        );
    }
    // A user kind's schema says which top-level fields it has.
    for key in res.object.keys().filter(|_| res.is_module()) {
        if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata" | "spec") {
            let fields = ["apiVersion", "kind", "metadata", "spec"];
            let hint = crate::validate::suggest::did_you_mean(key, fields)
                .unwrap_or_else(|| "expected apiVersion, kind, metadata, spec".into());
            findings.push(
                Finding::error(format!("unknown field {key:?}: {hint}"))
                    .about(res)
                    .field(key.clone()),
            );
        }
    }
    let name = res.name().to_string();
    let raw_name = res.object.field("metadata").and_then(|m| m.field("name"));
    if let Some(v) = raw_name.filter(|v| !v.is_string()) {
        findings.push(
            Finding::error(format!(
                "metadata.name must be a string, found {}; quote it",
                type_name(v)
            ))
            .about(res)
            .field("metadata.name"),
        );
    } else if name.is_empty() {
        findings.push(
            Finding::error("required: name the resource (a DNS-1123 label such as `web`)")
                .about(res)
                .field("metadata.name"),
        );
    } else if let Err(why) = validate::dns1123_label(&name) {
        findings.push(Finding::error(why).about(res).field("metadata.name"));
    }
    let namespace = res.namespace().or(parent_ns).unwrap_or("").to_string();
    if !namespace.is_empty() {
        if let Err(why) = validate::dns1123_label(&namespace) {
            findings.push(Finding::error(why).about(res).field("metadata.namespace"));
        }
    }
    // The envelope every kind shares: metadata, and the labels and annotations `spec` copies to
    // every child.
    for (part, field) in [
        ("metadata", "labels"),
        ("metadata", "annotations"),
        ("spec", "labels"),
        ("spec", "annotations"),
    ]
    .into_iter()
    // A user kind's spec is its own: no envelope.
    .filter(|(part, _)| *part == "metadata" || res.is_module())
    {
        let Some(map) = res.object.get(part).and_then(|m| m.get(field)) else {
            continue;
        };
        let Some(map) = map.as_object() else {
            findings.push(
                Finding::error(format!("expected a mapping, found {}", type_name(map)))
                    .about(res)
                    .field(format!("{part}.{field}")),
            );
            continue;
        };
        for (k, v) in map {
            let r = validate::label_key(k).and_then(|_| match v {
                Value::String(s) if field == "labels" => validate::label_value(s),
                Value::String(_) => Ok(()),
                other => Err(format!(
                    "values must be strings, found {}; quote it",
                    type_name(other)
                )),
            });
            if let Err(why) = r {
                findings.push(
                    Finding::error(why)
                        .about(res)
                        .field(format!("{part}.{field}.{k}")),
                );
            }
        }
    }
    let ok = findings.len() == before;
    (name, namespace, ok)
}

/// Expands one module resource (recursively), adding its declarations to `facts`.
/// Returns `None` when it failed or is a configuration kind (nothing to emit).
fn expand(
    kinds: &Kinds<'_>,
    res: &Resource,
    ctx: &Context,
    parent: Option<&Provenance>,
    depth: usize,
    facts: &mut Facts,
    findings: &mut Vec<Finding>,
) -> Option<Vec<(Resource, Arc<Provenance>)>> {
    if depth >= MAX_EXPANSION_DEPTH {
        findings.push(
            Finding::error(format!(
                "module resources nest deeper than {MAX_EXPANSION_DEPTH} levels"
            ))
            .about(res),
        );
        return None;
    }
    if let Some(user) = kinds.user.lookup(res) {
        return expand_user(kinds, user, res, ctx, parent, depth, facts, findings);
    }
    let reg = kinds.reg;
    let Some(def) = reg.lookup(res.kind()) else {
        findings.push(
            Finding::error(reg.unknown(res.kind()))
                .about(res)
                .field("kind"),
        );
        return None;
    };
    let generate = match def.role {
        Role::Configure { .. } | Role::Report(_) => return None,
        Role::Generate(g) => g,
    };
    let parent_ns = parent.map(|p| p.namespace.as_str());
    let (name, namespace, identity_ok) = module_identity(res, parent_ns, findings);
    let namespace = if namespace.is_empty() {
        ctx.module_namespace().to_string()
    } else {
        namespace
    };
    let module = ModuleResource {
        resource: res,
        name: &name,
        namespace,
    };
    let expansion = match generate(&module, ctx) {
        Ok(e) if identity_ok => e,
        Ok(_) => return None,
        Err(mut e) => {
            findings.append(&mut e);
            return None;
        }
    };
    findings.extend(expansion.findings);
    facts.admission.extend(expansion.admission);
    let prov = Arc::new(Provenance::of(
        res,
        def,
        &module.namespace,
        expansion.labels,
        parent,
    ));
    if !expansion.network.is_empty() {
        let about = Arc::new(res.object_ref());
        for target in expansion.network {
            facts.network.push(Declared {
                target,
                provenance: Arc::clone(&prov),
                about: Arc::clone(&about),
                origin: res.origin.clone(),
            });
        }
    }
    let mut out = Vec::with_capacity(expansion.objects.len());
    let mut ok = true;
    let nested = expansion.nested;
    let parent_ref = (!nested.is_empty()).then(|| Arc::new(res.object_ref()));
    for (index, child) in expansion.objects.into_iter().enumerate() {
        let Value::Object(map) = child else { continue };
        let child = Resource::new(map, res.origin.clone());
        if child.is_module() || kinds.user.lookup(&child).is_some() {
            let mut child = child;
            prov.pass_down(&mut child);
            let (found, declared) = (findings.len(), facts.network.len());
            let grand = expand(kinds, &child, ctx, Some(&*prov), depth + 1, facts, findings);
            if let (Some(at), Some(parent_ref)) =
                (nested.iter().find(|n| n.index == index), &parent_ref)
            {
                relocate(&child, at, parent_ref, &mut findings[found..]);
                if at.network_policies {
                    relocate_network(&child, at, parent_ref, &mut facts.network[declared..]);
                } else {
                    facts.network.truncate(declared);
                }
            }
            match grand {
                Some(mut grand) => out.append(&mut grand),
                None => ok = false,
            }
        } else {
            out.push((child, Arc::clone(&prov)));
        }
    }
    ok.then_some(out)
}

/// Expands an instance of a user kind: validates it, renders its templates, and expands the
/// module resources (built-in or user kinds) among its children as [`expand`] does. A finding
/// about a child names the instance and the template node that made the child.
#[allow(clippy::too_many_arguments)]
fn expand_user(
    kinds: &Kinds<'_>,
    user: &crate::userkinds::UserKind,
    res: &Resource,
    ctx: &Context,
    parent: Option<&Provenance>,
    depth: usize,
    facts: &mut Facts,
    findings: &mut Vec<Finding>,
) -> Option<Vec<(Resource, Arc<Provenance>)>> {
    let parent_ns = parent.map(|p| p.namespace.as_str());
    let (_, namespace, identity_ok) = module_identity(res, parent_ns, findings);
    let namespace = if namespace.is_empty() {
        ctx.module_namespace().to_string()
    } else {
        namespace
    };
    let produced = match user.expand(kinds.user, res, &namespace, ctx) {
        Ok(p) if identity_ok => p,
        Ok(_) => return None,
        Err(mut e) => {
            findings.append(&mut e);
            return None;
        }
    };
    let prov = Arc::new(Provenance::of_user(res, user.category, &namespace, parent));
    let instance = Arc::new(res.object_ref());
    let mut out = Vec::with_capacity(produced.objects.len());
    let mut ok = true;
    for (child, from) in produced.objects.into_iter().zip(produced.from) {
        let Value::Object(map) = child else { continue };
        let mut child = Resource::new(map, res.origin.clone());
        let nested = child.is_module() || kinds.user.lookup(&child).is_some();
        if !nested {
            out.push((child, Arc::clone(&prov)));
            continue;
        }
        prov.pass_down(&mut child);
        let found = findings.len();
        let grand = expand(kinds, &child, ctx, Some(&*prov), depth + 1, facts, findings);
        let child_ref = child.object_ref();
        for f in &mut findings[found..] {
            if f.object.as_deref() != Some(&child_ref) {
                continue;
            }
            let field = f.field.take().unwrap_or_default();
            let what = if field.is_empty() {
                child_ref.to_string()
            } else {
                format!("{child_ref} {field}")
            };
            let by = user.produced_by(from, &field);
            f.message = format!("{what}: {} ({} at {})", f.message, by.message, by.origin);
            f.object = Some(Arc::clone(&instance));
            f.relate(by);
        }
        match grand {
            Some(mut grand) => out.append(&mut grand),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// Points what was found about `child`, a module resource its parent wrote from part of its own
/// spec, at that part of the parent (the user's text), so the finding names the line the user
/// wrote.
fn relocate(child: &Resource, at: &Nested, parent: &Arc<ObjectRef>, findings: &mut [Finding]) {
    let child = child.object_ref();
    for f in findings {
        at.relocate(f, &child, parent);
    }
}

/// [`relocate`] for the network declarations of `child`: the NetworkPolicy pass's findings
/// about its `dependsOn` point into the parent.
fn relocate_network(
    child: &Resource,
    at: &Nested,
    parent: &Arc<ObjectRef>,
    declared: &mut [Declared],
) {
    let child = child.object_ref();
    for d in declared.iter_mut().filter(|d| *d.about == child) {
        d.about = Arc::clone(parent);
        for (_, field) in &mut d.target.depends_on {
            *field = at.field(field);
        }
    }
}

/// Copies user labels and annotations of a module resource's metadata, leaving out the
/// orchestrator's bookkeeping (ids, paths, local-config, function declarations).
pub fn inheritable(map: Option<&Map<String, Value>>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in map.into_iter().flatten() {
        let bookkeeping = k.starts_with("internal.config.kubernetes.io/")
            || k.starts_with("config.kubernetes.io/")
            || k.starts_with("config.k8s.io/")
            || k.starts_with("kustomize.config.k8s.io/")
            || k == "kubectl.kubernetes.io/last-applied-configuration";
        if !bookkeeping {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Streaming (render, diff) and collecting (fn, kustomize plugin) give the same objects and
    /// findings, over every example and policy test case; so does streaming with the objects
    /// frozen as render reads them (`freeze`), byte for byte.
    #[test]
    fn streaming_gives_what_collecting_gives() {
        let mut compared = 0;
        let mut frozen_objects = 0;
        let bytes = |objects: &[Resource]| {
            objects
                .iter()
                .map(|o| serde_json::to_string(&o.object).expect("serializes"))
                .collect::<Vec<_>>()
        };
        for file in crate::source::files::sample_files() {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let Ok(inputs) = crate::source::parse_text(&text, &file.to_string_lossy()) else {
                continue;
            };
            let options = Options::new(crate::modules::registry());
            let collected = run(inputs.clone(), &options);
            let frozen: Vec<Item> = inputs.iter().cloned().map(freeze).collect();
            frozen_objects += frozen.iter().filter(|i| i.is_frozen()).count();
            for items in [inputs.into_iter().map(Item::from).collect(), frozen] {
                let mut streamed = Vec::new();
                let out = run_with(items, &options, &mut |obj| streamed.push(obj));
                assert!(out.objects.is_empty());
                assert_eq!(collected.objects, streamed, "{}", file.display());
                assert_eq!(
                    bytes(&collected.objects),
                    bytes(&streamed),
                    "{}",
                    file.display()
                );
                assert_eq!(collected.findings, out.findings, "{}", file.display());
            }
            compared += usize::from(!collected.findings.is_empty());
        }
        assert!(
            frozen_objects >= 200,
            "only {frozen_objects} objects frozen"
        );
        assert!(
            compared >= 40,
            "only {compared} files with findings compared"
        );
    }

    /// Found by the fuzz target kind_specs: a PlatformDefaults label or annotation that is not a
    /// string was reported at its line, and again without a place by the settings check, and an
    /// empty inventory only without a place. Each is reported once, at its line; a flag's bad
    /// label is still reported, with no object.
    #[test]
    fn configured_labels_are_reported_once_at_their_line() {
        let text = "apiVersion: nixernetes.io/v1alpha1\nkind: PlatformDefaults\nmetadata:\n  name: p\nspec:\n  labels:\n    \"bad key!\": x\n  annotations:\n    a: null\n";
        // Each on its own: a spec error stops the kind before it configures anything.
        let empty_inventory = "apiVersion: nixernetes.io/v1alpha1\nkind: PlatformDefaults\nmetadata:\n  name: p\nspec:\n  inventory: ''\n";
        let inputs = crate::source::parse_text(empty_inventory, "p.yaml").expect("reads");
        let out = run(inputs, &Options::new(crate::modules::registry()));
        let errors: Vec<&Finding> = out
            .findings
            .iter()
            .filter(|f| f.severity == crate::finding::Severity::Error)
            .collect();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].field.as_deref(), Some("spec.inventory"));
        assert!(errors[0].object.is_some());
        let inputs = crate::source::parse_text(text, "p.yaml").expect("reads");
        let out = run(inputs.clone(), &Options::new(crate::modules::registry()));
        let errors: Vec<&Finding> = out
            .findings
            .iter()
            .filter(|f| f.severity == crate::finding::Severity::Error)
            .collect();
        let fields: Vec<Option<&str>> = errors.iter().map(|f| f.field.as_deref()).collect();
        assert_eq!(
            fields,
            [Some("spec.labels.bad key!"), Some("spec.annotations.a")],
            "{errors:#?}"
        );
        assert!(errors.iter().all(|f| f.object.is_some()), "{errors:#?}");

        let mut options = Options::new(crate::modules::registry());
        options
            .overrides
            .labels
            .insert("team".into(), Value::from(5));
        let out = run(Vec::new(), &options);
        let flagged: Vec<&Finding> = out
            .findings
            .iter()
            .filter(|f| f.field.as_deref() == Some("labels.team"))
            .collect();
        assert_eq!(flagged.len(), 1, "{:#?}", out.findings);
        assert!(flagged[0].object.is_none());
    }

    /// Found by the fuzz target kind_specs: a list where a spec (or a part of it) is a mapping
    /// was read field by field in order, or as all defaults when empty, without a word.
    #[test]
    fn a_list_where_a_mapping_goes_is_refused_at_its_field() {
        let text = "apiVersion: nixernetes.io/v1alpha1\nkind: NetworkIsolation\nmetadata: {name: shop, namespace: shop}\nspec: []\n---\napiVersion: nixernetes.io/v1alpha1\nkind: PlatformDefaults\nmetadata: {name: p}\nspec:\n  defaultResources: [{cpu: 1}, {memory: 1Gi}]\n";
        let (errors, emitted) = errors_of(text);
        let errors: Vec<(Option<&str>, &str)> = errors
            .iter()
            .map(|(f, m)| (f.as_deref(), m.as_str()))
            .collect();
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors.contains(&(
            Some("spec.defaultResources"),
            "expected a mapping with the fields requests, limits, found a list"
        )));
        assert!(errors
            .iter()
            .any(|(f, m)| *f == Some("spec") && m.ends_with("found an empty list")));
        assert_eq!(emitted, 0);
    }

    /// Found by the fuzz target kind_specs: an unknown field whose name holds a backtick was
    /// shown between backticks, so the message's quoting ended inside the name and the rest of
    /// it (`::::`) read as the message's own words. Such text is shown in double quotes.
    #[test]
    fn an_unknown_field_with_a_backtick_is_quoted_whole() {
        let text = "apiVersion: nixernetes.io/v1alpha1\nkind: NetworkIsolation\nmetadata: {name: shop, namespace: shop}\nspec:\n  \"`-\\0::::\": 1\n";
        let inputs = crate::source::parse_text(text, "s.yaml").expect("reads");
        let out = run(inputs, &Options::new(crate::modules::registry()));
        let messages: Vec<&str> = out.findings.iter().map(|f| f.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("unknown field \"`-\\0::::\": ")),
            "{messages:#?}"
        );
        assert!(out.objects.is_empty());
    }

    /// Found by the fuzz target kind_specs: an enum value written as a mapping of its name
    /// (`storage: {kafkasql: null}`) was read as the name, which the kind's schema refuses.
    #[test]
    fn a_unit_variant_written_as_a_mapping_is_refused_at_its_field() {
        let text = "apiVersion: nixernetes.io/v1alpha1\nkind: SchemaRegistry\nmetadata: {name: schemas, namespace: kafka}\nspec:\n  kafkaBootstrap: events-kafka-bootstrap.kafka.svc:9092\n  storage: {kafkasql: null}\n";
        let (errors, emitted) = errors_of(text);
        assert_eq!(
            errors,
            [(
                Some("spec.storage".to_string()),
                "expected `kafkasql`, found a mapping".to_string()
            )]
        );
        assert_eq!(emitted, 0);
    }

    /// The errors of a run over `text`, as (field, message), and how many objects it emitted.
    fn errors_of(text: &str) -> (Vec<(Option<String>, String)>, usize) {
        let inputs = crate::source::parse_text(text, "s.yaml").expect("reads");
        let out = run(inputs, &Options::new(crate::modules::registry()));
        let errors = out
            .findings
            .into_iter()
            .filter(|f| f.severity == crate::finding::Severity::Error)
            .map(|f| (f.field, f.message))
            .collect();
        (errors, out.objects.len())
    }
}
