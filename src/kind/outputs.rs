//! Connection outputs: what a data or event kind publishes so that an app rendered with it can
//! bind to it by name (`uses` in the workload kinds): a host, a port, a database or topic name,
//! and the Secret keys holding credentials. A kind declares the outputs it has once
//! (`Generate::OUTPUTS`, which `explain` and the docs list) and computes their values per
//! resource (`Generate::outputs`); the engine reads the values of every resource before it
//! expands any, so an app sees them whatever the input order. Secret values are never copied:
//! an output held in a Secret is a reference to its key, which an app gets as a `secretKeyRef`.

/// One output a kind publishes, for its docs and for "did you mean" in `uses`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputDef {
    /// The output's name, as `uses[].env` values name it: `host`, `port`, `uri`, `bootstrap`.
    pub name: &'static str,
    /// What it holds, in one line.
    pub description: &'static str,
    /// Whether its value lives in a Secret (a credential or a URI holding one).
    pub secret: bool,
}

/// The value of one output for one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputValue {
    /// A plain value, e.g. the Service host `orders-db-rw.shop.svc` or the port `5432`.
    Value(String),
    /// The key `key` of the Secret `name` in the resource's namespace (e.g. CloudNativePG's
    /// `orders-db-app` Secret and its `uri` key).
    Secret { name: String, key: String },
}

/// The output values of one resource, in the order of the kind's [`OutputDef`]s.
pub type OutputValues = Vec<(&'static str, OutputValue)>;
