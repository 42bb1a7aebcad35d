//! Schema validation of Kubernetes objects: a JSON Schema (the built-in kinds' OpenAPI schemas,
//! a CRD's `openAPIV3Schema`, or a JSON Schema file of a custom resource) compiled once into a
//! tree of [`Node`]s, then walked over each object's `serde_json::Value`.
//!
//! The walk is built for many objects: compiling resolves every `$ref`, sorts property names
//! and compiles patterns once; checking an object that fits allocates nothing (the field path
//! is a stack of borrowed keys), and paths and messages are only built for a violation. Every
//! violation of an object is reported, not the first. A lazy compiler (the built-in kinds')
//! compiles a `$ref`'s definition only when an object first reaches it, so that a small run
//! does not compile the hundreds of definitions a Deployment's schema names.
//!
//! Keywords understood: `type` (a name or a list), `properties`, `required`,
//! `additionalProperties` (a boolean or a schema), `items`, `enum`, `const`, `pattern`, the
//! `format`s `int32`, `int64` and `byte`, `minimum`/`maximum` (exclusive too, in both the
//! draft-4 boolean and the 2020-12 number form), `multipleOf`, `minLength`/`maxLength`,
//! `minItems`/`maxItems`/`uniqueItems`, `minProperties`/`maxProperties`,
//! `anyOf`/`oneOf`/`allOf`/`not`, `$ref` (to a named definition of the same document), and the
//! Kubernetes extensions `nullable`, `x-kubernetes-int-or-string`,
//! `x-kubernetes-preserve-unknown-fields` and `x-kubernetes-embedded-resource`. Other keywords
//! (`patternProperties`, `dependencies`, string formats such as `date-time`) constrain nothing.
//! A pattern the `regex` crate cannot compile is not checked. No schema panics.

use crate::validate::code;
use crate::validate::suggest::{did_you_mean_with, suggest};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Index of a node in its [`Compiled`] arena.
pub type NodeId = u32;

/// Deepest nesting followed in one object (YAML input stops at 100 levels).
const MAX_DEPTH: usize = 128;
/// Field path steps reserved per walk: deeper than most objects go, so that the stack is
/// allocated once per object.
const PATH_CAPACITY: usize = 24;
/// Longest string quoted in a message, in characters.
const MAX_QUOTED: usize = 60;

/// How a schema's keywords are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// As JSON Schema reads them (the built-in kinds' strict schemas, JSON Schema files of
    /// custom resources): an object without `additionalProperties` takes any field, and
    /// `nullable` is no keyword.
    JsonSchema,
    /// As the API server reads a CRD's structural `openAPIV3Schema`: an object that lists
    /// `properties` takes no other field unless it says `x-kubernetes-preserve-unknown-fields`
    /// (the server would drop it, and rejects it under strict field validation), `nullable`
    /// admits `null`, and an embedded resource may carry `apiVersion`, `kind` and `metadata`.
    Crd,
}

const T_NULL: u8 = 1;
const T_BOOL: u8 = 2;
const T_INT: u8 = 4;
const T_NUM: u8 = 8;
const T_STR: u8 = 16;
const T_ARR: u8 = 32;
const T_OBJ: u8 = 64;

/// What a mapping's fields beyond `properties` may be.
#[derive(Debug, Clone, Copy, Default)]
enum Extra {
    #[default]
    Open,
    Closed,
    Schema(NodeId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Format {
    #[default]
    None,
    Int32,
    Int64,
    Byte,
}

/// Bounds a node sets; kept apart since most nodes have none.
#[derive(Debug, Default)]
struct Bounds {
    min: Option<(f64, bool)>,
    max: Option<(f64, bool)>,
    multiple_of: Option<f64>,
    min_len: Option<u64>,
    max_len: Option<u64>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    unique: bool,
    min_props: Option<u64>,
    max_props: Option<u64>,
}

/// One compiled schema node.
#[derive(Debug, Default)]
struct Node {
    /// Admitted types (`T_*` bits); 0 admits every type.
    types: u8,
    /// `properties`, sorted by name.
    props: Box<[(Box<str>, NodeId)]>,
    required: Box<[Box<str>]>,
    extra: Extra,
    items: Option<NodeId>,
    enumv: Option<Box<[Value]>>,
    konst: Option<Box<Value>>,
    pattern: Option<Box<(String, regex::Regex)>>,
    format: Format,
    bounds: Option<Box<Bounds>>,
    any_of: Box<[NodeId]>,
    one_of: Box<[NodeId]>,
    all_of: Box<[NodeId]>,
    not: Option<NodeId>,
    /// Envelope fields (`apiVersion`, `kind`, `metadata`) taken though not listed.
    envelope: bool,
    /// A named definition not compiled yet (a lazy compiler's): a walk that reaches it takes
    /// the value as fitting and reports the node, to be compiled and the walk run again.
    pending: bool,
}

/// Compiled schemas sharing one arena; a schema is a root [`NodeId`] in it.
#[derive(Debug, Default)]
pub struct Compiled {
    nodes: Vec<Node>,
    /// The definition name of each pending node.
    pending: HashMap<NodeId, String>,
}

/// One violation: the dotted field path (`spec.template.spec.containers[0].image`; map keys
/// appended after a dot as written) and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

/// Compiles schemas into a [`Compiled`] arena. Named definitions (`$ref` targets) are looked up
/// through `lookup` and compiled once each.
pub struct Compiler<'s, F: FnMut(&str) -> Option<&'s Value>> {
    pub compiled: Compiled,
    dialect: Dialect,
    lookup: F,
    named: HashMap<String, NodeId>,
    /// A node that admits everything (unresolvable references land here).
    any: NodeId,
    depth: usize,
    /// Whether a definition met inside another is left pending until a walk reaches it.
    lazy: bool,
}

impl<'s, F: FnMut(&str) -> Option<&'s Value>> Compiler<'s, F> {
    /// A compiler reading `dialect`; `lookup` gives the definition a `$ref` names (the
    /// reference as written, `#/$defs/` or `/api/_definitions.json#/$defs/` prefix removed).
    pub fn new(dialect: Dialect, lookup: F) -> Self {
        Self::with_arena(Compiled::default(), dialect, lookup)
    }

    /// As [`Compiler::new`], adding to the nodes of `compiled` (whose roots stay valid).
    pub fn with_arena(mut compiled: Compiled, dialect: Dialect, lookup: F) -> Self {
        if compiled.nodes.is_empty() {
            compiled.nodes.push(Node::default());
        }
        Compiler {
            compiled,
            dialect,
            lookup,
            named: HashMap::new(),
            any: 0,
            depth: 0,
            lazy: false,
        }
    }

    /// Leaves a definition that a schema being compiled refers to pending until a walk reaches
    /// it (see [`Compiler::validate_object`]): an object schema such as a Deployment's names
    /// hundreds of definitions, of which an object reaches a few dozen.
    pub fn lazy(mut self) -> Self {
        self.lazy = true;
        self
    }

    /// As [`Compiler::with_arena`], also knowing the definitions an earlier compiler compiled
    /// into `compiled` (from [`Compiler::into_parts`]): they are not compiled again.
    pub fn resume(
        compiled: Compiled,
        named: HashMap<String, NodeId>,
        dialect: Dialect,
        lookup: F,
    ) -> Self {
        let mut c = Self::with_arena(compiled, dialect, lookup);
        c.named = named;
        c
    }

    /// The arena and the definitions compiled into it, for [`Compiler::resume`].
    pub fn into_parts(self) -> (Compiled, HashMap<String, NodeId>) {
        (self.compiled, self.named)
    }

    /// Compiles the definition `name` (once) and returns its node.
    pub fn named(&mut self, name: &str) -> NodeId {
        if let Some(&id) = self.named.get(name) {
            return id;
        }
        let Some(schema) = (self.lookup)(name) else {
            return self.any;
        };
        let id = self.reserve();
        self.named.insert(name.to_string(), id);
        if self.lazy && self.depth > 0 {
            self.compiled.nodes[id as usize].pending = true;
            self.compiled.pending.insert(id, name.to_string());
            return id;
        }
        let node = self.node_nested(schema);
        self.compiled.nodes[id as usize] = node;
        id
    }

    /// Compiles the pending definitions `ids` (those a walk reached).
    fn resolve(&mut self, ids: &[NodeId]) {
        for &id in ids {
            let Some(name) = self.compiled.pending.remove(&id) else {
                continue;
            };
            let node = match (self.lookup)(&name) {
                Some(schema) => self.node_nested(schema),
                None => Node::default(),
            };
            self.compiled.nodes[id as usize] = node;
        }
    }

    /// [`Compiled::validate_object`], compiling the pending definitions the object reaches
    /// (then walking it again) until it reaches none.
    pub fn validate_object(
        &mut self,
        root: NodeId,
        object: &Map<String, Value>,
        out: &mut Vec<Violation>,
    ) -> bool {
        let mark = out.len();
        loop {
            match self.compiled.try_validate_object(root, object, out) {
                Ok(fits) => return fits,
                Err(pending) => {
                    out.truncate(mark);
                    self.resolve(&pending);
                }
            }
        }
    }

    /// The node of `schema`, compiled as a part of another (its definitions left pending
    /// when lazy).
    fn node_nested(&mut self, schema: &'s Value) -> Node {
        self.depth += 1;
        let node = self.node(schema);
        self.depth -= 1;
        node
    }

    /// Compiles `schema` (of the dialect's document) and returns its node.
    pub fn schema(&mut self, schema: &'s Value) -> NodeId {
        if let Some(name) = ref_name(schema) {
            return self.named(name);
        }
        if self.depth > MAX_DEPTH {
            return self.any;
        }
        let node = self.node_nested(schema);
        let id = self.reserve();
        self.compiled.nodes[id as usize] = node;
        id
    }

    /// Compiles a custom resource's root schema: as [`Compiler::schema`], and the envelope
    /// fields are always taken (CRD schemas often leave them out).
    /// The top-level `metadata` is always open: a CRD may constrain only `metadata.name` and
    /// `generateName`, and the API server keeps every other ObjectMeta field (the CRDs catalog
    /// closes a few such `metadata` schemas, InnoDBCluster's among them).
    pub fn resource_root(&mut self, schema: &'s Value) -> NodeId {
        let id = self.schema(schema);
        if id != self.any {
            let root = &mut self.compiled.nodes[id as usize];
            root.envelope = true;
            let metadata = root
                .props
                .iter()
                .find(|(k, _)| k.as_ref() == "metadata")
                .map(|(_, m)| *m);
            if let Some(m) = metadata.filter(|m| *m != self.any) {
                self.compiled.nodes[m as usize].extra = Extra::Open;
            }
        }
        id
    }

    fn reserve(&mut self) -> NodeId {
        self.compiled.nodes.push(Node::default());
        (self.compiled.nodes.len() - 1) as NodeId
    }

    fn list(&mut self, v: Option<&'s Value>) -> Box<[NodeId]> {
        match v {
            Some(Value::Array(xs)) => xs.iter().map(|x| self.schema(x)).collect(),
            _ => Box::new([]),
        }
    }

    fn node(&mut self, schema: &'s Value) -> Node {
        let Value::Object(m) = schema else {
            // `false` admits nothing: `not` of everything.
            return match schema {
                Value::Bool(false) => Node {
                    not: Some(self.any),
                    ..Node::default()
                },
                _ => Node::default(),
            };
        };
        let crd = self.dialect == Dialect::Crd;
        // One pass over the keywords (a schema node holds a handful), not a hashed lookup per
        // keyword the compiler knows: compiling is most of a small run's start-up.
        let mut kw = Keywords::default();
        for (k, v) in m {
            kw.take(k, v);
        }
        let m = &kw;
        let flag = |k: usize| m.get(k) == Some(&Value::Bool(true));
        let mut node = Node::default();
        let int_or_string = flag(K_XK_INT_OR_STRING);
        node.types = match m.get(K_TYPE) {
            Some(Value::String(t)) => type_bit(t),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .map(type_bit)
                .fold(0, |a, b| a | b),
            _ => 0,
        };
        if int_or_string {
            node.types = T_INT | T_STR;
        }
        if crd && flag(K_NULLABLE) && node.types != 0 {
            node.types |= T_NULL;
        }
        if node.types & T_NUM != 0 {
            node.types |= T_INT;
        }
        if let Some(Value::Object(props)) = m.get(K_PROPERTIES) {
            let mut list: Vec<(Box<str>, NodeId)> = props
                .iter()
                .map(|(k, s)| (Box::from(k.as_str()), self.schema(s)))
                .collect();
            list.sort_by(|a, b| a.0.cmp(&b.0));
            node.props = list.into_boxed_slice();
        }
        if let Some(Value::Array(req)) = m.get(K_REQUIRED) {
            node.required = req
                .iter()
                .filter_map(Value::as_str)
                .map(Box::from)
                .collect();
        }
        let preserve = flag(K_XK_PRESERVE_UNKNOWN_FIELDS);
        node.extra = match m.get(K_ADDITIONAL_PROPERTIES) {
            Some(Value::Bool(false)) => Extra::Closed,
            Some(s @ Value::Object(_)) => Extra::Schema(self.schema(s)),
            Some(_) => Extra::Open,
            None if crd && !preserve && m.get(K_PROPERTIES).is_some() => Extra::Closed,
            None => Extra::Open,
        };
        node.envelope = crd && flag(K_XK_EMBEDDED_RESOURCE);
        node.items = match m.get(K_ITEMS) {
            Some(s @ Value::Object(_)) | Some(s @ Value::Bool(_)) => Some(self.schema(s)),
            _ => None,
        };
        if let Some(Value::Array(e)) = m.get(K_ENUM) {
            node.enumv = Some(e.clone().into_boxed_slice());
        }
        node.konst = m.get(K_CONST).map(|c| Box::new(c.clone()));
        if let Some(Value::String(p)) = m.get(K_PATTERN) {
            if let Ok(rx) = regex::Regex::new(p) {
                node.pattern = Some(Box::new((p.clone(), rx)));
            }
        }
        node.format = match m.get(K_FORMAT).and_then(Value::as_str) {
            Some("int32") => Format::Int32,
            Some("int64") => Format::Int64,
            Some("byte") => Format::Byte,
            _ => Format::None,
        };
        let num = |k: usize| m.get(k).and_then(Value::as_f64);
        let count = |k: usize| m.get(k).and_then(Value::as_u64);
        let bound = |k: usize, ex: usize| {
            let b = num(k)?;
            Some((b, flag(ex)))
        };
        // 2020-12 writes an exclusive bound as a number of its own.
        let min = bound(K_MINIMUM, K_EXCLUSIVE_MINIMUM)
            .or_else(|| num(K_EXCLUSIVE_MINIMUM).map(|b| (b, true)));
        let max = bound(K_MAXIMUM, K_EXCLUSIVE_MAXIMUM)
            .or_else(|| num(K_EXCLUSIVE_MAXIMUM).map(|b| (b, true)));
        let bounds = Bounds {
            min,
            max,
            multiple_of: num(K_MULTIPLE_OF).filter(|d| *d > 0.0),
            min_len: count(K_MIN_LENGTH),
            max_len: count(K_MAX_LENGTH),
            min_items: count(K_MIN_ITEMS),
            max_items: count(K_MAX_ITEMS),
            unique: flag(K_UNIQUE_ITEMS),
            min_props: count(K_MIN_PROPERTIES),
            max_props: count(K_MAX_PROPERTIES),
        };
        if bounds.min.is_some()
            || bounds.max.is_some()
            || bounds.multiple_of.is_some()
            || bounds.min_len.is_some()
            || bounds.max_len.is_some()
            || bounds.min_items.is_some()
            || bounds.max_items.is_some()
            || bounds.unique
            || bounds.min_props.is_some()
            || bounds.max_props.is_some()
        {
            node.bounds = Some(Box::new(bounds));
        }
        node.any_of = self.list(m.get(K_ANY_OF));
        node.one_of = self.list(m.get(K_ONE_OF));
        node.all_of = self.list(m.get(K_ALL_OF));
        node.not = m.get(K_NOT).map(|n| self.schema(n));
        node
    }
}

/// The keywords of one schema node the compiler reads, found in one pass over its keys.
#[derive(Default)]
struct Keywords<'s> {
    /// The value of each keyword, by its `K_*` number.
    found: [Option<&'s Value>; KEYWORDS],
}

/// How many keywords [`Compiler::node`] reads; each has a `K_*` number.
const KEYWORDS: usize = 29;
const K_TYPE: usize = 0;
const K_PROPERTIES: usize = 1;
const K_REQUIRED: usize = 2;
const K_ADDITIONAL_PROPERTIES: usize = 3;
const K_ITEMS: usize = 4;
const K_ENUM: usize = 5;
const K_CONST: usize = 6;
const K_PATTERN: usize = 7;
const K_FORMAT: usize = 8;
const K_MINIMUM: usize = 9;
const K_MAXIMUM: usize = 10;
const K_EXCLUSIVE_MINIMUM: usize = 11;
const K_EXCLUSIVE_MAXIMUM: usize = 12;
const K_MULTIPLE_OF: usize = 13;
const K_MIN_LENGTH: usize = 14;
const K_MAX_LENGTH: usize = 15;
const K_MIN_ITEMS: usize = 16;
const K_MAX_ITEMS: usize = 17;
const K_UNIQUE_ITEMS: usize = 18;
const K_MIN_PROPERTIES: usize = 19;
const K_MAX_PROPERTIES: usize = 20;
const K_ANY_OF: usize = 21;
const K_ONE_OF: usize = 22;
const K_ALL_OF: usize = 23;
const K_NOT: usize = 24;
const K_NULLABLE: usize = 25;
const K_XK_INT_OR_STRING: usize = 26;
const K_XK_PRESERVE_UNKNOWN_FIELDS: usize = 27;
const K_XK_EMBEDDED_RESOURCE: usize = 28;

impl<'s> Keywords<'s> {
    fn take(&mut self, key: &str, value: &'s Value) {
        let at = match key {
            "type" => K_TYPE,
            "properties" => K_PROPERTIES,
            "required" => K_REQUIRED,
            "additionalProperties" => K_ADDITIONAL_PROPERTIES,
            "items" => K_ITEMS,
            "enum" => K_ENUM,
            "const" => K_CONST,
            "pattern" => K_PATTERN,
            "format" => K_FORMAT,
            "minimum" => K_MINIMUM,
            "maximum" => K_MAXIMUM,
            "exclusiveMinimum" => K_EXCLUSIVE_MINIMUM,
            "exclusiveMaximum" => K_EXCLUSIVE_MAXIMUM,
            "multipleOf" => K_MULTIPLE_OF,
            "minLength" => K_MIN_LENGTH,
            "maxLength" => K_MAX_LENGTH,
            "minItems" => K_MIN_ITEMS,
            "maxItems" => K_MAX_ITEMS,
            "uniqueItems" => K_UNIQUE_ITEMS,
            "minProperties" => K_MIN_PROPERTIES,
            "maxProperties" => K_MAX_PROPERTIES,
            "anyOf" => K_ANY_OF,
            "oneOf" => K_ONE_OF,
            "allOf" => K_ALL_OF,
            "not" => K_NOT,
            "nullable" => K_NULLABLE,
            "x-kubernetes-int-or-string" => K_XK_INT_OR_STRING,
            "x-kubernetes-preserve-unknown-fields" => K_XK_PRESERVE_UNKNOWN_FIELDS,
            "x-kubernetes-embedded-resource" => K_XK_EMBEDDED_RESOURCE,
            _ => return,
        };
        self.found[at] = Some(value);
    }

    /// The value of keyword number `at` (a `K_*`).
    fn get(&self, at: usize) -> Option<&'s Value> {
        self.found[at]
    }
}

/// The definition name a `{"$ref": …}` schema names.
fn ref_name(schema: &Value) -> Option<&str> {
    let r = schema.get("$ref")?.as_str()?;
    Some(
        r.rsplit_once("#/$defs/")
            .or_else(|| r.rsplit_once("#/definitions/"))
            .map_or(r, |(_, name)| name),
    )
}

fn type_bit(t: &str) -> u8 {
    match t {
        "null" => T_NULL,
        "boolean" => T_BOOL,
        "integer" => T_INT,
        "number" => T_NUM,
        "string" => T_STR,
        "array" => T_ARR,
        "object" => T_OBJ,
        _ => T_NULL | T_BOOL | T_INT | T_NUM | T_STR | T_ARR | T_OBJ,
    }
}

fn bit_of(v: &Value) -> u8 {
    match v {
        Value::Null => T_NULL,
        Value::Bool(_) => T_BOOL,
        Value::Number(n) if n.is_i64() || n.is_u64() => T_INT | T_NUM,
        // JSON Schema counts `2.0` as an integer.
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => T_INT | T_NUM,
        Value::Number(_) => T_NUM,
        Value::String(_) => T_STR,
        Value::Array(_) => T_ARR,
        Value::Object(_) => T_OBJ,
    }
}

/// One step of a field path: borrowed from the object, formatted only for a violation.
#[derive(Clone, Copy)]
enum Seg<'v> {
    Key(&'v str),
    Index(usize),
}

/// One walk over one object.
struct Walk<'c, 'v> {
    nodes: &'c [Node],
    path: Vec<Seg<'v>>,
    base: &'c str,
    /// `None` while only asking whether a value fits (inside `anyOf`, `oneOf`, `not`).
    out: Option<&'c mut Vec<Violation>>,
    depth: usize,
    /// The pending nodes reached.
    pending: Vec<NodeId>,
}

impl Compiled {
    /// Every violation of `value` against the schema at `root`, appended to `out` with paths
    /// below `base` (empty for the object itself). Returns whether `value` fits.
    pub fn validate(
        &self,
        root: NodeId,
        value: &Value,
        base: &str,
        out: &mut Vec<Violation>,
    ) -> bool {
        let mut walk = Walk::new(&self.nodes, base, Some(out));
        walk.check(root, value)
    }

    /// [`Compiled::validate`] for an object held as its map (a `Resource`'s), without copying
    /// it unless the root schema combines alternatives (`anyOf`, `oneOf`, `allOf`, `not`).
    /// Pending definitions (a lazy compiler's) are taken as fitting: validate through
    /// [`Compiler::validate_object`] to have them compiled.
    pub fn validate_object(
        &self,
        root: NodeId,
        object: &Map<String, Value>,
        out: &mut Vec<Violation>,
    ) -> bool {
        self.try_validate_object(root, object, out).unwrap_or(true)
    }

    /// [`Compiled::validate_object`], or the pending nodes the walk reached (its violations
    /// are then incomplete).
    pub fn try_validate_object(
        &self,
        root: NodeId,
        object: &Map<String, Value>,
        out: &mut Vec<Violation>,
    ) -> Result<bool, Vec<NodeId>> {
        let node = &self.nodes[root as usize];
        let whole = !node.all_of.is_empty()
            || !node.any_of.is_empty()
            || !node.one_of.is_empty()
            || node.not.is_some()
            || node.enumv.is_some()
            || node.konst.is_some();
        if whole {
            let value = Value::Object(object.clone());
            let mut walk = Walk::new(&self.nodes, "", Some(out));
            let fits = walk.check(root, &value);
            return walk.done(fits);
        }
        let mut walk = Walk::new(&self.nodes, "", Some(out));
        if node.types != 0 && node.types & T_OBJ == 0 {
            let types = node.types;
            return Ok(walk.fail(None, || {
                format!("expected {}, found a mapping", expected(types))
            }));
        }
        let fits = walk.object(node, object);
        walk.done(fits)
    }

    /// Whether `value` fits the schema at `root`.
    pub fn fits(&self, root: NodeId, value: &Value) -> bool {
        let mut walk = Walk::new(&self.nodes, "", None);
        walk.check(root, value)
    }
}

impl<'c, 'v> Walk<'c, 'v> {
    /// A walk over `nodes`, paths below `base`, violations into `out` (`None`: only asking).
    fn new(nodes: &'c [Node], base: &'c str, out: Option<&'c mut Vec<Violation>>) -> Self {
        Walk {
            nodes,
            path: Vec::with_capacity(PATH_CAPACITY),
            base,
            out,
            depth: 0,
            pending: Vec::new(),
        }
    }

    /// The walk's verdict, or the pending nodes it reached.
    fn done(self, fits: bool) -> Result<bool, Vec<NodeId>> {
        if self.pending.is_empty() {
            Ok(fits)
        } else {
            Err(self.pending)
        }
    }

    fn collecting(&self) -> bool {
        self.out.is_some()
    }

    fn path_string(&self, extra: Option<&str>) -> String {
        let mut s = String::from(self.base);
        let push_key = |s: &mut String, k: &str| {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(k);
        };
        for seg in &self.path {
            match seg {
                Seg::Key(k) => push_key(&mut s, k),
                Seg::Index(i) => {
                    s.push('[');
                    s.push_str(&i.to_string());
                    s.push(']');
                }
            }
        }
        if let Some(k) = extra {
            push_key(&mut s, k);
        }
        s
    }

    /// Records a violation (when collecting) and returns `false`.
    fn fail(&mut self, extra: Option<&str>, message: impl FnOnce() -> String) -> bool {
        if self.out.is_some() {
            let path = self.path_string(extra);
            let message = message();
            if let Some(out) = self.out.as_mut() {
                out.push(Violation { path, message });
            }
        }
        false
    }

    /// Whether `value` fits `id`, without recording anything.
    fn probe(&mut self, id: NodeId, value: &'v Value) -> bool {
        let saved = self.out.take();
        let ok = self.check(id, value);
        self.out = saved;
        ok
    }

    fn check(&mut self, id: NodeId, value: &'v Value) -> bool {
        if self.depth >= MAX_DEPTH {
            return true;
        }
        let nodes = self.nodes;
        let node = &nodes[id as usize];
        if node.pending {
            if !self.pending.contains(&id) {
                self.pending.push(id);
            }
            return true;
        }
        if node.types != 0 && node.types & bit_of(value) == 0 {
            let types = node.types;
            return self.fail(None, || {
                format!("expected {}, found {}", expected(types), found(value))
            });
        }
        self.depth += 1;
        let mut ok = true;
        if let Some(values) = &node.enumv {
            if !values.iter().any(|e| same(e, value)) {
                ok = self.fail(None, || {
                    format!("{} is not one of {}", found(value), one_of_list(values))
                });
            }
        }
        if let Some(c) = &node.konst {
            if !same(c, value) {
                ok = self.fail(None, || {
                    format!("expected {}, found {}", quote(c), found(value))
                });
            }
        }
        match value {
            Value::Object(map) => ok &= self.object(node, map),
            Value::Array(items) => ok &= self.array(node, items),
            Value::String(s) => ok &= self.string(node, s),
            Value::Number(_) => ok &= self.number(node, value),
            _ => {}
        }
        if (ok || self.collecting()) && !node.all_of.is_empty() {
            for &b in node.all_of.iter() {
                ok &= self.check(b, value);
                if !ok && !self.collecting() {
                    break;
                }
            }
        }
        if (ok || self.collecting()) && !node.any_of.is_empty() {
            ok &= self.alternatives(&node.any_of, value, false);
        }
        if (ok || self.collecting()) && !node.one_of.is_empty() {
            ok &= self.alternatives(&node.one_of, value, true);
        }
        if let Some(n) = node.not {
            if (ok || self.collecting()) && self.probe(n, value) {
                ok = self.fail(None, || "this value is not allowed here".to_string());
            }
        }
        self.depth -= 1;
        ok
    }

    /// `anyOf` (at least one branch fits) or `oneOf` (exactly one does).
    fn alternatives(&mut self, branches: &[NodeId], value: &'v Value, exactly_one: bool) -> bool {
        let mut fitting = 0;
        for &b in branches {
            if self.probe(b, value) {
                fitting += 1;
                if !exactly_one {
                    return true;
                }
            }
        }
        if fitting == 1 || (!exactly_one && fitting > 0) {
            return true;
        }
        if fitting > 1 {
            return self.fail(None, || {
                "the value fits more than one of the allowed forms, and must fit exactly one"
                    .to_string()
            });
        }
        if !self.collecting() {
            return false;
        }
        // The branches that take the value's type: when exactly one does, its own violations
        // say what is wrong (deep inside, with their paths); else name the types allowed.
        let nodes = self.nodes;
        let bit = bit_of(value);
        let typed: Vec<NodeId> = branches
            .iter()
            .copied()
            .filter(|&b| {
                let t = nodes[b as usize].types;
                t == 0 || t & bit != 0
            })
            .collect();
        if let [only] = typed.as_slice() {
            return self.check(*only, value);
        }
        let all: u8 = branches
            .iter()
            .map(|&b| nodes[b as usize].types)
            .fold(0, |a, b| a | b);
        if typed.is_empty() && all != 0 {
            return self.fail(None, || {
                format!("expected {}, found {}", expected(all), found(value))
            });
        }
        self.fail(None, || {
            format!("{} does not fit any of the allowed forms", found(value))
        })
    }

    fn object(&mut self, node: &'c Node, map: &'v Map<String, Value>) -> bool {
        let mut ok = true;
        for (key, v) in map {
            let known = node
                .props
                .binary_search_by(|(k, _)| k.as_ref().cmp(key.as_str()))
                .ok()
                .map(|i| node.props[i].1);
            let target = match (known, node.extra) {
                (Some(id), _) => Some(id),
                (None, Extra::Schema(id)) => Some(id),
                (None, Extra::Open) => None,
                (None, Extra::Closed) => {
                    if node.envelope && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                        None
                    } else {
                        let names: Vec<&str> = node.props.iter().map(|(k, _)| k.as_ref()).collect();
                        ok = self.fail(Some(key), || unknown_field(key, &names));
                        if !self.collecting() {
                            return false;
                        }
                        None
                    }
                }
            };
            if let Some(id) = target {
                self.path.push(Seg::Key(key));
                ok &= self.check(id, v);
                self.path.pop();
                if !ok && !self.collecting() {
                    return false;
                }
            }
        }
        for req in node.required.iter() {
            if !map.contains_key(req.as_ref()) {
                ok = self.fail(Some(req), || {
                    format!("required field {} is missing", code(req))
                });
                if !self.collecting() {
                    return false;
                }
            }
        }
        if let Some(b) = &node.bounds {
            let n = map.len() as u64;
            if let Some(min) = b.min_props.filter(|m| n < *m) {
                ok = self.fail(None, || {
                    format!("expected at least {min} fields, found {n}")
                });
            }
            if let Some(max) = b.max_props.filter(|m| n > *m) {
                ok = self.fail(None, || format!("expected at most {max} fields, found {n}"));
            }
        }
        ok
    }

    fn array(&mut self, node: &'c Node, items: &'v [Value]) -> bool {
        let mut ok = true;
        if let Some(id) = node.items {
            for (i, v) in items.iter().enumerate() {
                self.path.push(Seg::Index(i));
                ok &= self.check(id, v);
                self.path.pop();
                if !ok && !self.collecting() {
                    return false;
                }
            }
        }
        if let Some(b) = &node.bounds {
            let n = items.len() as u64;
            if let Some(min) = b.min_items.filter(|m| n < *m) {
                ok = self.fail(None, || format!("expected at least {min} items, found {n}"));
            }
            if let Some(max) = b.max_items.filter(|m| n > *m) {
                ok = self.fail(None, || format!("expected at most {max} items, found {n}"));
            }
            if b.unique {
                if let Some(j) =
                    (1..items.len()).find(|&j| items[..j].iter().any(|x| same(x, &items[j])))
                {
                    ok = self.fail(None, || {
                        format!("item {j} repeats an earlier item: items must be unique")
                    });
                }
            }
        }
        ok
    }

    fn string(&mut self, node: &'c Node, s: &'v str) -> bool {
        let mut ok = true;
        if let Some(b) = &node.bounds {
            if b.min_len.is_some() || b.max_len.is_some() {
                let n = s.chars().count() as u64;
                if let Some(min) = b.min_len.filter(|m| n < *m) {
                    ok = self.fail(None, || {
                        format!("expected at least {min} characters, found {n}")
                    });
                }
                if let Some(max) = b.max_len.filter(|m| n > *m) {
                    ok = self.fail(None, || {
                        format!("expected at most {max} characters, found {n}")
                    });
                }
            }
        }
        if let Some(p) = &node.pattern {
            if !p.1.is_match(s) {
                ok = self.fail(None, || {
                    format!("{} does not match the pattern `{}`", quote_str(s), p.0)
                });
            }
        }
        if node.format == Format::Byte && !is_base64(s) {
            ok = self.fail(None, || {
                format!("{} is not base64-encoded data", quote_str(s))
            });
        }
        ok
    }

    fn number(&mut self, node: &'c Node, v: &'v Value) -> bool {
        let mut ok = true;
        let int = v
            .as_i64()
            .map(i128::from)
            .or_else(|| v.as_u64().map(i128::from));
        match (node.format, int) {
            (Format::Int32, Some(i)) if i32::try_from(i).is_err() => {
                ok = self.fail(None, || {
                    format!("{v} is out of range: expected a 32-bit integer (-2147483648 to 2147483647)")
                });
            }
            (Format::Int64, Some(i)) if i64::try_from(i).is_err() => {
                ok = self.fail(None, || {
                    format!("{v} is out of range: expected a 64-bit integer")
                });
            }
            _ => {}
        }
        let Some(b) = &node.bounds else { return ok };
        let Some(x) = v.as_f64() else { return ok };
        if let Some((min, ex)) = b.min {
            if x < min || (ex && x == min) {
                let rel = if ex { "greater than" } else { "at least" };
                ok = self.fail(None, || {
                    format!("{v} is too small: expected {rel} {}", num(min))
                });
            }
        }
        if let Some((max, ex)) = b.max {
            if x > max || (ex && x == max) {
                let rel = if ex { "less than" } else { "at most" };
                ok = self.fail(None, || {
                    format!("{v} is too large: expected {rel} {}", num(max))
                });
            }
        }
        if let Some(d) = b.multiple_of {
            let q = x / d;
            if (q - q.round()).abs() > 1e-9 {
                ok = self.fail(None, || format!("{v} is not a multiple of {}", num(d)));
            }
        }
        ok
    }
}

/// JSON Schema equality: numbers compare by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                i == j
            } else if let (Some(i), Some(j)) = (x.as_u64(), y.as_u64()) {
                i == j
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Standard base64 with padding, as Go's `encoding/base64.StdEncoding` decodes `[]byte` fields.
fn is_base64(s: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).is_ok()
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

fn expected(types: u8) -> String {
    let mut names: Vec<&str> = Vec::new();
    if types & T_OBJ != 0 {
        names.push("a mapping");
    }
    if types & T_ARR != 0 {
        names.push("a list");
    }
    if types & T_STR != 0 {
        names.push("a string");
    }
    if types & T_NUM != 0 {
        names.push("a number");
    } else if types & T_INT != 0 {
        names.push("an integer");
    }
    if types & T_BOOL != 0 {
        names.push("true or false");
    }
    if types & T_NULL != 0 && names.is_empty() {
        names.push("null");
    }
    match names.as_slice() {
        [] => "nothing".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn found(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_f64() => format!("the number {n}"),
        Value::Number(n) => format!("the integer {n}"),
        Value::String(s) => format!("the string {}", quote_str(s)),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
    }
}

fn quote(v: &Value) -> String {
    match v {
        Value::String(s) => quote_str(s),
        other => other.to_string(),
    }
}

fn quote_str(s: &str) -> String {
    if s.chars().count() > MAX_QUOTED {
        let cut: String = s.chars().take(MAX_QUOTED).collect();
        format!("\"{cut}…\"")
    } else {
        format!("{s:?}")
    }
}

fn one_of_list(values: &[Value]) -> String {
    let shown: Vec<String> = values.iter().filter(|v| !v.is_null()).map(quote).collect();
    match shown.as_slice() {
        [] => "the allowed values (none)".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn unknown_field(key: &str, known: &[&str]) -> String {
    let mut msg = format!("unknown field {}", code(key));
    if let Some(hint) = did_you_mean_with(&suggest(key, known.iter().copied()), code) {
        msg.push_str(": ");
        msg.push_str(&hint);
    } else if known.is_empty() {
        msg.push_str(": no fields are allowed here");
    } else if known.len() <= 12 {
        msg.push_str(&format!(
            ": expected one of {}",
            known.iter().map(|k| code(k)).collect::<Vec<_>>().join(", ")
        ));
    }
    msg
}

#[cfg(test)]
#[path = "objects/tests.rs"]
mod tests;
