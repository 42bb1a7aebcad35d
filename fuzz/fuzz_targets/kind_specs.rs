//! Structure-aware module resources: every built-in kind's example, and user kinds (a
//! `KindDefinition`, its CEL expressions and an instance) from examples/ and tests/, changed by
//! `arbitrary` edits built from the words of the kinds' schemas and examples. The engine either
//! refuses them with located errors, or accepts them, and then every module resource validates
//! against its kind's JSON Schema and every KindDefinition's spec against the schema of that
//! spec (what editors are given never refuses what the engine accepts).
#![no_main]

use nixernetes_fuzz::readable;
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use nixernetes::engine::{self, Options};
use nixernetes::finding::Severity;
use nixernetes::modules::registry;
use nixernetes::resource::{Origin, Resource};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

const API: &str = nixernetes::schema::API_VERSION;
const KIND_DEFINITION: &str = nixernetes::userkinds::KIND_DEFINITION;

/// Deepest node an edit writes (values read from YAML stay far shallower than this anyway).
const MAX_NODE_DEPTH: usize = 6;

#[derive(Arbitrary, Debug)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Word(u16),
    Text(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

#[derive(Arbitrary, Debug)]
enum Key {
    Word(u16),
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Op {
    /// Replace the node at the path.
    Set(Node),
    /// Remove it from its parent.
    Remove,
    /// Add a key (or an item) to it.
    Insert(Key, Node),
}

#[derive(Arbitrary, Debug)]
struct Edit {
    doc: u8,
    path: Vec<u16>,
    op: Op,
}

#[derive(Arbitrary, Debug)]
struct Input {
    base: u8,
    edits: Vec<Edit>,
}

/// The documents an input starts from: one set per built-in kind, and the user kinds.
static BASES: LazyLock<Vec<Vec<Value>>> = LazyLock::new(|| {
    let read = |text: &str| -> Vec<Value> {
        nixernetes::yaml::parse_stream(text)
            .expect("a committed example reads")
            .into_iter()
            .map(|d| d.value)
            .filter(|v| v["apiVersion"] == API)
            .collect()
    };
    let mut bases: Vec<Vec<Value>> = registry()
        .iter()
        .map(|def| {
            read(def.example.text)
                .into_iter()
                .filter(|v| v["kind"] == def.kind)
                .take(1)
                .collect()
        })
        .filter(|docs: &Vec<Value>| !docs.is_empty())
        .collect();
    bases.push(
        [
            read(include_str!("../../examples/extending/kinds/shop.yaml")),
            read(include_str!("../../examples/extending/apps/checkout.yaml")),
        ]
        .concat(),
    );
    bases.push(
        [
            read(include_str!("../../tests/userkinds/kinds.yaml")),
            read(include_str!("../../tests/userkinds/instances.yaml")),
        ]
        .concat(),
    );
    bases
});

/// Keys and words of the bases and of the kinds' schemas (property names, enum values).
static WORDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    fn collect(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::String(s) if s.len() <= 64 => {
                out.insert(s.clone());
            }
            Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
            Value::Object(m) => m.iter().for_each(|(k, x)| {
                out.insert(k.clone());
                collect(x, out)
            }),
            _ => {}
        }
    }
    let mut words = BTreeSet::new();
    BASES.iter().flatten().for_each(|d| collect(d, &mut words));
    for def in registry().iter() {
        collect(&def.schema(), &mut words);
    }
    collect(&nixernetes::userkinds::spec_schema(), &mut words);
    words.into_iter().collect()
});

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(schema)
        .expect("the schema compiles")
}

static VALIDATORS: LazyLock<BTreeMap<&'static str, jsonschema::Validator>> = LazyLock::new(|| {
    let mut v: BTreeMap<&str, _> = registry()
        .iter()
        .map(|def| (def.kind, validator(&def.schema())))
        .collect();
    v.insert(
        KIND_DEFINITION,
        validator(&nixernetes::userkinds::spec_schema()),
    );
    v
});

fn word(i: u16) -> String {
    WORDS[i as usize % WORDS.len()].clone()
}

fn key(k: &Key) -> String {
    match k {
        Key::Word(i) => word(*i),
        Key::Text(s) => s.clone(),
    }
}

fn value(n: &Node, depth: usize) -> Value {
    if depth >= MAX_NODE_DEPTH {
        return Value::Null;
    }
    match n {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Int(i) => Value::from(*i),
        Node::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Node::Word(i) => Value::String(word(*i)),
        Node::Text(s) => Value::String(s.clone()),
        Node::Seq(items) => Value::Array(items.iter().map(|x| value(x, depth + 1)).collect()),
        Node::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, x)| (key(k), value(x, depth + 1)))
                .collect::<Map<_, _>>(),
        ),
    }
}

/// The `i`-th child (modulo their number) of a non-empty map or list.
fn child(node: &mut Value, i: usize) -> Option<&mut Value> {
    match node {
        Value::Object(m) if !m.is_empty() => {
            let len = m.len();
            m.values_mut().nth(i % len)
        }
        Value::Array(a) if !a.is_empty() => {
            let len = a.len();
            a.get_mut(i % len)
        }
        _ => None,
    }
}

/// Follows `steps` down from `node` as far as there are children.
fn descend<'a>(node: &'a mut Value, steps: &[u16]) -> &'a mut Value {
    match steps.split_first() {
        Some((&i, rest)) if child(node, i as usize).is_some() => {
            descend(child(node, i as usize).expect("checked"), rest)
        }
        _ => node,
    }
}

/// Applies one edit under the document's `spec` (or at the document when it has none).
fn apply(doc: &mut Value, edit: &Edit) {
    let mut node = if doc.get("spec").is_some() {
        &mut doc["spec"]
    } else {
        doc
    };
    let (last, steps) = match edit.path.split_last() {
        Some((last, steps)) => (Some(*last as usize), steps),
        None => (None, &[][..]),
    };
    node = descend(node, steps);
    match (&edit.op, last) {
        (Op::Set(n), None) => *node = value(n, 0),
        (Op::Set(n), Some(i)) => match node {
            Value::Object(m) if !m.is_empty() => {
                let len = m.len();
                *m.values_mut().nth(i % len).expect("in range") = value(n, 0);
            }
            Value::Array(a) if !a.is_empty() => {
                let len = a.len();
                a[i % len] = value(n, 0);
            }
            other => *other = value(n, 0),
        },
        (Op::Remove, Some(i)) => match node {
            Value::Object(m) if !m.is_empty() => {
                let k = m.keys().nth(i % m.len()).expect("in range").clone();
                m.shift_remove(&k);
            }
            Value::Array(a) if !a.is_empty() => {
                let len = a.len();
                a.remove(i % len);
            }
            _ => {}
        },
        (Op::Remove, None) => *node = Value::Null,
        (Op::Insert(k, n), _) => match node {
            Value::Object(m) => {
                m.insert(key(k), value(n, 0));
            }
            Value::Array(a) => a.push(value(n, 0)),
            _ => {}
        },
    }
}

/// `v` without its null members (at every level; items of lists stay).
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), without_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fuzz_target!(|input: Input| {
    let mut docs = BASES[input.base as usize % BASES.len()].clone();
    for edit in input.edits.iter().take(16) {
        let n = docs.len();
        apply(&mut docs[edit.doc as usize % n], edit);
    }
    let inputs: Vec<Resource> = docs
        .iter()
        .enumerate()
        .filter_map(|(index, d)| {
            let origin = Origin {
                file: "fuzz.yaml".into(),
                index,
                line: index + 1,
            };
            d.as_object().map(|m| Resource::new(m.clone(), origin))
        })
        .collect();
    let out = engine::run(inputs, &Options::new(registry()));
    let mut failed = false;
    for f in &out.findings {
        if f.severity != Severity::Error {
            continue;
        }
        failed = true;
        assert!(
            f.object.is_some() || f.origin.is_some(),
            "an error without a location: {}",
            f.message
        );
        assert!(readable(&f.message), "unreadable message: {:?}", f.message);
    }
    if failed {
        return;
    }
    for d in &docs {
        // The engine reads a `null` field as absent, as the API server prunes null fields of
        // custom resources before validating them; the schemas (for editors) do not allow null.
        let d = &without_nulls(d);
        let kind = d["kind"].as_str().unwrap_or_default();
        let (Some(v), instance) = (VALIDATORS.get(kind), d) else {
            continue;
        };
        let instance = if kind == KIND_DEFINITION {
            &instance["spec"]
        } else {
            instance
        };
        let problems: Vec<String> = v
            .iter_errors(instance)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(
            problems.is_empty(),
            "the engine accepts a {kind} its schema refuses: {problems:?}\n{d}"
        );
    }
});
