//! How a kind is written: one type implementing [`Kind`] (its typed, documented spec and the
//! validation types cannot express) and one of the three roles ([`Generate`], [`Configure`],
//! [`Report`]). The generic adapters here do what every kind would otherwise repeat:
//! deserialize the spec, validate it (every error, then stop), then run the role.
//!
//! ```ignore
//! pub struct WebApp;
//! impl Kind for WebApp {
//!     const KIND: &'static str = "WebApp";
//!     const SUMMARY: &'static str = "HTTP service: Deployment, Service, …";
//!     const EXAMPLE: Example = crate::example!("examples/kubernetes-core/web-app.yaml");
//!     type Spec = WebAppSpec;
//!     fn validate(spec: &WebAppSpec, p: &mut Problems) { … }
//! }
//! impl Generate for WebApp {
//!     const EMITS: &'static [Gvk] = &[…];
//!     fn expand(spec: WebAppSpec, m: &ModuleResource, ctx: &Context) -> Expansion { … }
//! }
//! // in the seed module's mod.rs:  generator::<WebApp>(&MODULE),
//! ```

use super::{
    Context, Example, Expansion, Gvk, KindDef, ModuleResource, OutputDef, OutputValues, Problems,
    Role, SeedModule,
};
use crate::finding::Finding;
use crate::resource::Resource;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

/// A module kind: its name, its typed spec and the checks of the spec that its type cannot
/// express. The `///` docs on the spec type and its fields become `explain`, `docs/kinds` and
/// the JSON Schema.
pub trait Kind: 'static {
    const KIND: &'static str;
    /// One line for `kinds`, the docs and errors.
    const SUMMARY: &'static str;
    /// A complete, valid example (`crate::example!("examples/…")`).
    const EXAMPLE: Example;
    type Spec: DeserializeOwned + JsonSchema;

    /// Rules types cannot express (min <= max, ingress xor route); record every problem, never
    /// stop at the first.
    fn validate(_spec: &Self::Spec, _p: &mut Problems<'_>) {}
}

/// A kind that expands into child objects.
pub trait Generate: Kind {
    /// The objects it can emit.
    const EMITS: &'static [Gvk];
    /// The children of a valid spec.
    fn expand(spec: Self::Spec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion;
    /// The connection outputs apps can bind to with `uses` (see `kind::outputs`); most kinds
    /// publish none.
    const OUTPUTS: &'static [OutputDef] = &[];
    /// The values of [`Generate::OUTPUTS`] for a valid spec, one per output, in that order.
    /// Computed before any resource is expanded.
    fn outputs(_spec: &Self::Spec, _m: &ModuleResource<'_>, _ctx: &Context) -> OutputValues {
        Vec::new()
    }
}

/// A kind that changes the render context and emits nothing.
pub trait Configure: Kind {
    /// Configuration kinds are applied in ascending precedence: a higher one wins a setting
    /// both make.
    const PRECEDENCE: u8;
    /// Whether the kind may appear only once per render (the platform-wide settings); a kind
    /// whose resources each configure their own part says `false`.
    const SINGLE: bool = true;
    fn configure(spec: Self::Spec, m: &ModuleResource<'_>, ctx: &mut Context);
}

/// A kind that reads the rendered set and adds findings; it emits nothing.
pub trait Report: Kind {
    fn report(
        spec: Self::Spec,
        m: &ModuleResource<'_>,
        objects: &[&Resource],
        ctx: &Context,
    ) -> Vec<Finding>;
}

/// Deserializes and validates the spec of `m`: the spec, and the warnings of its validation;
/// or every error.
fn checked_spec<K: Kind>(m: &ModuleResource<'_>) -> Result<(K::Spec, Vec<Finding>), Vec<Finding>> {
    let spec: K::Spec = m.spec(schema_of::<K>)?;
    let mut p = Problems::new(m);
    K::validate(&spec, &mut p);
    let warnings = p.finish()?;
    Ok((spec, warnings))
}

fn run_generate<K: Generate>(
    m: &ModuleResource<'_>,
    ctx: &Context,
) -> Result<Expansion, Vec<Finding>> {
    let (spec, warnings) = checked_spec::<K>(m)?;
    let mut e = K::expand(spec, m, ctx);
    e.findings.splice(0..0, warnings);
    Ok(e)
}

fn run_outputs<K: Generate>(
    m: &ModuleResource<'_>,
    ctx: &Context,
) -> Result<OutputValues, Vec<Finding>> {
    let spec: K::Spec = m.spec(schema_of::<K>)?;
    Ok(K::outputs(&spec, m, ctx))
}

fn run_configure<K: Configure>(
    m: &ModuleResource<'_>,
    ctx: &mut Context,
) -> Result<Vec<Finding>, Vec<Finding>> {
    let (spec, warnings) = checked_spec::<K>(m)?;
    K::configure(spec, m, ctx);
    Ok(warnings)
}

fn run_report<K: Report>(
    m: &ModuleResource<'_>,
    objects: &[&Resource],
    ctx: &Context,
) -> Result<Vec<Finding>, Vec<Finding>> {
    let (spec, mut findings) = checked_spec::<K>(m)?;
    findings.extend(K::report(spec, m, objects, ctx));
    Ok(findings)
}

fn schema_of<K: Kind>(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    <K::Spec as JsonSchema>::json_schema(generator)
}

/// The registry entry of a generating kind of `module`.
pub fn generator<K: Generate>(module: &'static SeedModule) -> KindDef {
    KindDef {
        kind: K::KIND,
        module,
        summary: K::SUMMARY,
        role: Role::Generate(run_generate::<K>),
        spec_schema: schema_of::<K>,
        emits: K::EMITS,
        outputs: K::OUTPUTS,
        output_values: (!K::OUTPUTS.is_empty()).then_some(run_outputs::<K> as _),
        example: K::EXAMPLE,
    }
}

/// The registry entry of a configuration kind of `module`.
pub fn configurator<K: Configure>(module: &'static SeedModule) -> KindDef {
    KindDef {
        kind: K::KIND,
        module,
        summary: K::SUMMARY,
        role: Role::Configure {
            precedence: K::PRECEDENCE,
            single: K::SINGLE,
            run: run_configure::<K>,
        },
        spec_schema: schema_of::<K>,
        emits: &[],
        outputs: &[],
        output_values: None,
        example: K::EXAMPLE,
    }
}

/// The registry entry of a report kind of `module`.
pub fn reporter<K: Report>(module: &'static SeedModule) -> KindDef {
    KindDef {
        kind: K::KIND,
        module,
        summary: K::SUMMARY,
        role: Role::Report(run_report::<K>),
        spec_schema: schema_of::<K>,
        emits: &[],
        outputs: &[],
        output_values: None,
        example: K::EXAMPLE,
    }
}
