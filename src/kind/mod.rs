//! The contract between the engine and the kinds: what a kind is (`KindDef`), how it is written
//! (the `Kind` trait and its three roles in `spec`), what it is given (`ModuleResource`,
//! `Context`) and what it returns (`Expansion`, with the network access its pods need), and the
//! `Registry` the engine receives as a value.
//!
//! This layer knows no particular kind and no policy check: kinds live in `modules/`, which
//! registers them; the engine looks them up only through a `Registry` it is handed.

pub mod admission;
pub mod context;
pub mod expansion;
pub mod network;
pub mod outputs;
pub mod resource;
pub mod spec;

pub use admission::Admission;
pub use context::{Context, NamespacesRequest, Publisher};
pub use expansion::{Expansion, Nested, CONFIG_HASH, CONFIG_HASH_OFF};
pub use network::{NetworkTarget, Policies};
pub use outputs::{OutputDef, OutputValue, OutputValues};
pub use resource::{ModuleResource, Problems};
pub use spec::{Configure, Generate, Kind, Report};

use crate::finding::Finding;
use crate::resource::Resource;

/// A seed module of the original framework: the folder its kinds live in, stamped on what they
/// emit as `nixernetes.io/framework`, with its category as `nixernetes.io/module`.
#[derive(Debug)]
pub struct SeedModule {
    /// The seed module's name, e.g. `kubernetes-core`.
    pub name: &'static str,
    pub category: Category,
    /// What the seed module is for, in one line.
    pub summary: &'static str,
}

/// The category of a seed module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Foundation,
    Core,
    Security,
    Observability,
    Data,
    Workloads,
    Operations,
}

impl Category {
    /// The category as it is stamped.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Foundation => "foundation",
            Category::Core => "core",
            Category::Security => "security",
            Category::Observability => "observability",
            Category::Data => "data",
            Category::Workloads => "workloads",
            Category::Operations => "operations",
        }
    }
}

/// An object kind a module kind can emit: `apiVersion` (the default one, for operator kinds)
/// and `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gvk {
    pub api_version: &'static str,
    pub kind: &'static str,
}

impl Gvk {
    pub const fn new(api_version: &'static str, kind: &'static str) -> Gvk {
        Gvk { api_version, kind }
    }
}

/// A kind's example: a complete, valid input, and where it lives in the repository.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// Path relative to the crate root, e.g. `examples/kubernetes-core/web-app.yaml`.
    pub path: &'static str,
    /// Its text (compiled into the binary).
    pub text: &'static str,
}

/// The [`Example`] at `path` (relative to the crate root), compiled in.
#[macro_export]
macro_rules! example {
    ($path:literal) => {
        $crate::kind::Example {
            path: $path,
            text: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path)),
        }
    };
}

/// A generating kind's connection outputs for one resource (or every error of its spec).
pub type OutputsFn = fn(&ModuleResource<'_>, &Context) -> Result<OutputValues, Vec<Finding>>;
/// A generating kind's function: the resource's children (or every error of its spec).
pub type GenerateFn = fn(&ModuleResource<'_>, &Context) -> Result<Expansion, Vec<Finding>>;
/// A configuration kind's function: changes the context, emits nothing.
pub type ConfigureFn = fn(&ModuleResource<'_>, &mut Context) -> Result<Vec<Finding>, Vec<Finding>>;
/// A report kind's function: findings about the rendered set (or its spec errors).
pub type ReportFn =
    fn(&ModuleResource<'_>, &[&Resource], &Context) -> Result<Vec<Finding>, Vec<Finding>>;

/// What a kind does with its resource.
pub enum Role {
    /// Expands the resource into child objects.
    Generate(GenerateFn),
    /// Changes the render context; emits nothing. Configuration kinds are applied in ascending
    /// `precedence`, so a higher one wins a setting both make, whatever the input order.
    /// A `single` kind may appear once per render; the others (e.g. `SchedulingProfile`, each
    /// about its own workloads) as often as the input has them.
    Configure {
        precedence: u8,
        single: bool,
        run: ConfigureFn,
    },
    /// Looks at the rendered set once it is complete and adds findings (KRM `results`); emits
    /// nothing, so it never reaches a cluster.
    Report(ReportFn),
}

impl Role {
    /// What the kind does, as one word: `generates`, `configures` or `reports`.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Generate(_) => "generates",
            Role::Configure { .. } => "configures",
            Role::Report(_) => "reports",
        }
    }
}

/// A registered kind.
pub struct KindDef {
    pub kind: &'static str,
    /// The seed module it belongs to.
    pub module: &'static SeedModule,
    /// One line for `kinds`, `--help`, the docs and errors.
    pub summary: &'static str,
    pub role: Role,
    /// The JSON Schema of its `spec` (from the spec type, `///` docs included).
    pub spec_schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
    /// The objects it can emit (empty for configuration and report kinds).
    pub emits: &'static [Gvk],
    /// The connection outputs apps can bind to with `uses` (empty for most kinds).
    pub outputs: &'static [OutputDef],
    /// Their values for one resource; `None` when the kind publishes none.
    pub output_values: Option<OutputsFn>,
    /// A complete, valid example input, for `explain`, the docs and the tests.
    pub example: Example,
}

impl KindDef {
    /// Whether the kind emits objects (rather than configuring or reporting).
    pub fn generates(&self) -> bool {
        matches!(self.role, Role::Generate(_))
    }

    /// The published JSON Schema (draft 2020-12) of the kind's documents: the envelope around
    /// its spec schema, with the summary as description. `explain`, `schema`, `docs/kinds` and
    /// `schemas/` all read this one.
    pub fn schema(&self) -> serde_json::Value {
        crate::schema::kind_schema(
            self.kind,
            self.summary,
            crate::schema::spec_schema(self.spec_schema),
        )
    }
}

/// The kinds a run knows: the built-in ones, and in time the user's own. Built once and handed
/// to the engine as a value.
pub struct Registry {
    kinds: Vec<KindDef>,
}

impl Registry {
    /// A registry of `kinds`, in documentation order.
    pub fn new(kinds: Vec<KindDef>) -> Registry {
        Registry { kinds }
    }

    /// The kind registered under `kind`, if any.
    pub fn lookup(&self, kind: &str) -> Option<&KindDef> {
        self.kinds.iter().find(|k| k.kind == kind)
    }

    /// Every kind, in documentation order.
    pub fn iter(&self) -> impl Iterator<Item = &KindDef> {
        self.kinds.iter()
    }

    /// Why `kind` (of group nixernetes.io) is refused: the closest known kinds, and where the
    /// whole list is.
    pub fn unknown(&self, kind: &str) -> String {
        let hint = crate::validate::suggest::did_you_mean(kind, self.kinds.iter().map(|k| k.kind))
            .map(|d| format!("{d} "))
            .unwrap_or_default();
        format!(
            "unknown kind {kind:?} in group nixernetes.io: {hint}(`kubectl nixernetes kinds` lists every kind)"
        )
    }
}
