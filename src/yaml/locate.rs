//! Where a field is written: the line of a dotted field path (`spec.ports[1].port`) in the text
//! of one YAML or JSON document.
//!
//! The document is read by the event parser serde-saphyr itself is built on (`granit-parser`),
//! so block and flow style, JSON, quoted and multi-line keys, comments, anchors and aliases and
//! document markers are read as YAML, never guessed from indentation. The result is an
//! [`Outline`]: every mapping key and sequence item with the line it starts on, and the text of
//! scalars; nothing else is kept. Paths are matched against the keys that are there, longest
//! key first, so map keys holding dots or slashes (`metadata.labels.app.kubernetes.io/name`)
//! need no escaping; a key whose value is a scalar can only end a path. [`Documents`] cuts the
//! documents out of a stream at the lines [`super::parse_stream`] gives them.
//! This module must not know about Kubernetes objects, build values, report errors or panic:
//! text it cannot read has no outline, and a path that leaves the text stops at the deepest key
//! or item it reached.

use granit_parser::{Event, Parser, ScalarStyle};
use std::borrow::Cow;

/// Where a field path was found in a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    /// 1-based line, relative to the document text, of the deepest key or item of the path that
    /// the text holds (the document's first node when not even the first key is there).
    pub line: usize,
    /// Whether the whole path was found (else `line` is that of its nearest enclosing node).
    pub found: bool,
}

/// The keys, items and scalars of one document, with the lines they start on.
#[derive(Debug)]
pub struct Outline<'a> {
    /// Every node.
    nodes: Vec<Node<'a>>,
    /// The root's id (the event parser adds it first, the fast reader last).
    root: usize,
}

#[derive(Debug)]
pub(super) struct Node<'a> {
    /// 1-based line the node starts on.
    pub(super) line: usize,
    pub(super) shape: Shape<'a>,
}

#[derive(Debug)]
pub(super) enum Shape<'a> {
    /// A scalar other than null, with its text.
    Scalar(Cow<'a, str>),
    /// A null (`key:`, `~`, `null`) or an alias: a node that may stand for the mapping a path
    /// goes on into, though the text has nothing more to point at.
    Empty,
    /// Item node ids, in order.
    Seq(Vec<usize>),
    Map(Vec<Entry<'a>>),
}

#[derive(Debug)]
pub(super) struct Entry<'a> {
    /// The key's text; `None` for keys that are not scalars (`? [a, b]`, aliases).
    pub(super) key: Option<Cow<'a, str>>,
    /// 1-based line the key starts on.
    pub(super) line: usize,
    /// Node id of the value.
    pub(super) value: usize,
}

/// A collection being read, and for a mapping the key read before its value.
struct Open<'a> {
    node: usize,
    key: Option<(Option<Cow<'a, str>>, usize)>,
}

impl<'a> Outline<'a> {
    /// Reads the first document of `text`; `None` if it holds no node or is not valid YAML.
    pub fn parse(text: &'a str) -> Option<Outline<'a>> {
        Self::read(text, &[])
    }

    /// Reads as much of the first document of `text` as `paths` need: reading stops after a
    /// top-level entry once the rest of the text cannot change where any of them is (so an
    /// error in that rest goes unseen). Only `paths`, and the paths they go through, are
    /// answered as [`Self::parse`] would answer them; with no paths, all of it is read.
    pub fn parse_for(text: &'a str, paths: &[&str]) -> Option<Outline<'a>> {
        Self::read(text, paths)
    }

    /// Reads the first document of `text` with the fast reader ([`super::fast`]), which reads
    /// the plain subset manifests are written in at a fraction of the event parser's cost;
    /// `None` when it declines (then [`Self::parse`] reads it). Where both read a document,
    /// their outlines answer every path alike (a test compares them over every sample).
    /// Always `None` with `NIXERNETES_YAML_FAST=0` ([`super::fast_reader`]).
    pub fn from_fast(text: &'a str) -> Option<Outline<'a>> {
        if !super::fast_on() {
            return None;
        }
        let (nodes, root, line) = super::fast::outline(text)?;
        Some(Self::from_nodes(nodes, root, line))
    }

    /// The outline of nodes the fast reader built, its root starting on `line`.
    pub(super) fn from_nodes(nodes: Vec<Node<'a>>, root: usize, line: usize) -> Outline<'a> {
        let mut outline = Outline { nodes, root };
        // The fast reader gives the lines of block keys and items; the rest are on the line of
        // the key or item they are the value of (flow collections are on one line).
        let mut todo = vec![(root, line)];
        while let Some((id, line)) = todo.pop() {
            let node = &mut outline.nodes[id];
            if node.line == 0 {
                node.line = line;
            }
            let line = node.line;
            match &mut node.shape {
                Shape::Map(entries) => {
                    for e in entries.iter_mut() {
                        if e.line == 0 {
                            e.line = line;
                        }
                        todo.push((e.value, e.line));
                    }
                }
                Shape::Seq(items) => todo.extend(items.iter().map(|&i| (i, line))),
                Shape::Scalar(_) | Shape::Empty => {}
            }
        }
        outline
    }

    /// Reads the document; with `paths`, only until all of them are [`Self::settled`].
    fn read(text: &'a str, paths: &[&str]) -> Option<Outline<'a>> {
        let mut outline = Outline {
            nodes: Vec::new(),
            root: 0,
        };
        let nodes = &mut outline.nodes;
        let mut open: Vec<Open<'a>> = Vec::new();
        // Top-level entries when the paths were last found unsettled.
        let mut checked = 0;
        for event in Parser::new_from_str_with_options(text, crate::yaml::event_options()) {
            let (event, span) = event.ok()?;
            let line = span.start.line();
            let between_entries = matches!(&open[..], [top] if top.key.is_none());
            if between_entries && !paths.is_empty() {
                if let Some(Shape::Map(entries)) = nodes.first().map(|n| &n.shape) {
                    if entries.len() > checked {
                        checked = entries.len();
                        let rest = span.start.byte_offset().and_then(|at| text.get(at..));
                        if rest.is_some_and(|rest| paths.iter().all(|p| settled(nodes, p, rest))) {
                            break;
                        }
                    }
                }
            }
            let shape = match event {
                Event::Scalar(text, style, ..) => {
                    // A scalar key is kept in its entry; it needs no node of its own.
                    if let Some(top) = open.last_mut() {
                        if top.key.is_none() && matches!(nodes[top.node].shape, Shape::Map(_)) {
                            top.key = Some((Some(text), line));
                            continue;
                        }
                    }
                    let null = style == ScalarStyle::Plain
                        && matches!(&*text, "" | "~" | "null" | "Null" | "NULL");
                    if null {
                        Shape::Empty
                    } else {
                        Shape::Scalar(text)
                    }
                }
                Event::Alias(_) | Event::UnresolvedAlias(_) => Shape::Empty,
                Event::SequenceStart(..) => Shape::Seq(Vec::new()),
                Event::MappingStart(..) => Shape::Map(Vec::new()),
                Event::SequenceEnd | Event::MappingEnd => {
                    open.pop();
                    continue;
                }
                Event::DocumentEnd if !nodes.is_empty() => break,
                _ => continue,
            };
            let collection = matches!(shape, Shape::Seq(_) | Shape::Map(_));
            let id = nodes.len();
            nodes.push(Node { line, shape });
            if let Some(top) = open.last_mut() {
                match (&mut nodes[top.node].shape, top.key.take()) {
                    (Shape::Seq(items), _) => items.push(id),
                    (Shape::Map(entries), Some((key, line))) => entries.push(Entry {
                        key,
                        line,
                        value: id,
                    }),
                    // A key that is not a scalar: it cannot be named in a path.
                    (Shape::Map(_), None) => top.key = Some((None, line)),
                    (Shape::Scalar(_) | Shape::Empty, _) => {}
                }
            } else if id > 0 {
                // A second root: not part of this document.
                break;
            }
            if collection {
                open.push(Open {
                    node: id,
                    key: None,
                });
            }
        }
        (!outline.nodes.is_empty()).then_some(outline)
    }

    /// The line of `path` (dotted keys, `[i]` items), or of its deepest part the text holds.
    pub fn locate(&self, path: &str) -> Located {
        let (_, line, found) = self.walk(path);
        Located { line, found }
    }

    /// The text of the scalar at `path`, when the whole path is there and ends at a scalar.
    pub fn scalar(&self, path: &str) -> Option<&str> {
        match self.walk(path) {
            (id, _, true) => match &self.nodes.get(id)?.shape {
                Shape::Scalar(text) => Some(text),
                _ => None,
            },
            _ => None,
        }
    }

    /// How many items the sequence at `path` has, when the whole path is there and ends at one.
    pub fn sequence_len(&self, path: &str) -> Option<usize> {
        match self.walk(path) {
            (id, _, true) => match &self.nodes.get(id)?.shape {
                Shape::Seq(items) => Some(items.len()),
                _ => None,
            },
            _ => None,
        }
    }

    /// Follows `path` from the root: (deepest node reached, line of its key or item, whether
    /// the whole path was followed).
    fn walk(&self, path: &str) -> (usize, usize, bool) {
        let (mut id, mut line) = (self.root, self.nodes[self.root].line);
        let mut rest = path;
        while !rest.is_empty() {
            let step = match &self.nodes[id].shape {
                Shape::Seq(items) => item(rest).and_then(|(i, tail)| {
                    let child = *items.get(i)?;
                    Some((child, self.nodes[child].line, tail))
                }),
                Shape::Map(entries) => {
                    key(&self.nodes, entries, rest).map(|(e, tail)| (e.value, e.line, tail))
                }
                Shape::Scalar(_) | Shape::Empty => None,
            };
            let Some((child, at, tail)) = step else {
                return (id, line, false);
            };
            (id, line) = (child, at);
            rest = tail.strip_prefix('.').unwrap_or(tail);
        }
        (id, line, true)
    }
}
/// The longest key that `rest` starts with as a whole path segment, and what follows it.
/// A key whose value is a scalar only matches the whole rest: in
/// `labels.app.kubernetes.io/name`, a label `app: web` is not the start of the path.
fn key<'e, 'a, 'p>(
    nodes: &[Node<'a>],
    entries: &'e [Entry<'a>],
    rest: &'p str,
) -> Option<(&'e Entry<'a>, &'p str)> {
    entries
        .iter()
        .filter_map(|e| {
            let tail = rest.strip_prefix(e.key.as_deref()?)?;
            let leaf = matches!(nodes[e.value].shape, Shape::Scalar(_));
            let whole = tail.is_empty() || (!leaf && tail.starts_with(['.', '[']));
            whole.then_some((e, tail))
        })
        .max_by_key(|(e, tail)| (rest.len() - tail.len(), std::cmp::Reverse(e.line)))
}

/// Whether the answer for `path` is final though only the text before `rest` was read (at
/// the top level, between entries): the top-level entry the path goes into is complete,
/// and no key in `rest` can be a longer match. Keys are written as they read unless they
/// are escaped, quoted or folded; candidates that may be are never settled.
fn settled(nodes: &[Node<'_>], path: &str, rest: &str) -> bool {
    let Shape::Map(entries) = &nodes[0].shape else {
        return false;
    };
    let Some((_, tail)) = key(nodes, entries, path) else {
        return false;
    };
    let matched = path.len() - tail.len();
    let mut longer = path
        .match_indices(['.', '['])
        .map(|(i, _)| &path[..i])
        .chain([path])
        .filter(|k| k.len() > matched);
    !rest.contains('\\') && longer.all(|k| !k.contains(['\'', '"', ' ', '\t']) && !rest.contains(k))
}

/// `[i]` at the start of `rest`: the index and what follows it.
pub(super) fn item(rest: &str) -> Option<(usize, &str)> {
    let (index, tail) = rest.strip_prefix('[')?.split_once(']')?;
    Some((index.parse().ok()?, tail))
}

/// The line of `path` in the document `doc_text`; `None` when the text is not valid YAML or holds
/// no node. Parsing once with [`Outline::parse`] is cheaper for several paths.
pub fn locate(doc_text: &str, path: &str) -> Option<Located> {
    Outline::parse(doc_text).map(|o| o.locate(path))
}

/// The text of the document of `stream` whose first content line is `line` (1-based, as
/// [`super::Document::line`] counts it), up to the next document marker; `None` past the end.
/// For several documents of one stream, [`Documents`] reads the stream once.
pub fn document_at(stream: &str, line: usize) -> Option<&str> {
    Documents::new(stream).at(line)
}

/// Cuts documents out of a stream in the order of their lines, reading the stream once.
pub struct Documents<'a> {
    /// The stream from the start of line `line` on.
    rest: &'a str,
    /// 1-based line number of the first line of `rest`.
    line: usize,
}

impl<'a> Documents<'a> {
    /// Starts at the first line of `stream` (after a byte order mark).
    pub fn new(stream: &'a str) -> Self {
        Documents {
            rest: stream.strip_prefix('\u{feff}').unwrap_or(stream),
            line: 1,
        }
    }

    /// The document whose first content line is `line`, as [`document_at`] cuts it. Lines must
    /// be asked for in increasing order: a line before the previous document's end is `None`.
    pub fn at(&mut self, line: usize) -> Option<&'a str> {
        while self.line < line && !self.rest.is_empty() {
            self.rest =
                memchr::memchr(b'\n', self.rest.as_bytes()).map_or("", |i| &self.rest[i + 1..]);
            self.line += 1;
        }
        if self.line != line || self.rest.is_empty() {
            return None;
        }
        // The document ends where a line after its first is a marker.
        let mut end =
            memchr::memchr(b'\n', self.rest.as_bytes()).map_or(self.rest.len(), |i| i + 1);
        let mut lines = 1;
        while end < self.rest.len() {
            let next = &self.rest[end..];
            if super::marker(next, "---") || super::marker(next, "...") {
                break;
            }
            end += memchr::memchr(b'\n', next.as_bytes()).map_or(next.len(), |i| i + 1);
            lines += 1;
        }
        let (doc, rest) = self.rest.split_at(end);
        (self.rest, self.line) = (rest, self.line + lines);
        Some(doc)
    }
}

/// Where the fast reader's outline of `text` answers a path differently from the event
/// parser's: every key and item path of the document, with the scalars that identify objects.
/// Empty when the fast reader declines `text` (or the event parser cannot read it).
#[cfg(test)]
pub(crate) fn fast_disagreements(text: &str) -> Vec<String> {
    let Some(full) = Outline::parse(text) else {
        return Vec::new();
    };
    let fast = Outline::from_fast(text);
    fn paths(o: &Outline<'_>, id: usize, prefix: String, out: &mut Vec<String>) {
        let children: Vec<(String, usize)> = match &o.nodes[id].shape {
            Shape::Map(entries) => entries
                .iter()
                .filter_map(|e| {
                    let k = e.key.as_deref()?;
                    let p = if prefix.is_empty() {
                        k.to_string()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    Some((p, e.value))
                })
                .collect(),
            Shape::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(i, &v)| (format!("{prefix}[{i}]"), v))
                .collect(),
            _ => Vec::new(),
        };
        for (p, v) in children {
            out.push(p.clone());
            paths(o, v, p, out);
        }
    }
    let mut all = vec![String::new(), "missing.path".to_string()];
    paths(&full, 0, String::new(), &mut all);
    let mut wrong = Vec::new();
    let skim = super::skim::Skim::new(text);
    for path in all {
        let b = full.locate(&path);
        if let Some(fast) = fast.as_ref() {
            let a = fast.locate(&path);
            if a != b {
                wrong.push(format!("{path:?}: fast {a:?}, parser {b:?}"));
            }
            let identity = ["kind", "apiVersion", "name", "namespace"]
                .iter()
                .any(|k| path.ends_with(k));
            if identity && fast.scalar(&path) != full.scalar(&path) {
                wrong.push(format!(
                    "{path:?}: fast {:?}, parser {:?}",
                    fast.scalar(&path),
                    full.scalar(&path)
                ));
            }
            if fast.sequence_len(&path) != full.sequence_len(&path) {
                wrong.push(format!("{path:?}: sequence lengths differ"));
            }
        }
        if let Some(s) = skim.as_ref() {
            let at = s.locate(&path);
            if at.is_some_and(|at| at != b) {
                wrong.push(format!("{path:?}: skim {at:?}, parser {b:?}"));
            }
            let identity = ["kind", "apiVersion", "name", "namespace"]
                .iter()
                .any(|k| path.ends_with(k));
            if let Some(text) = s.scalar(&path).filter(|_| identity) {
                if text.as_deref() != full.scalar(&path) {
                    wrong.push(format!(
                        "{path:?}: skim {text:?}, parser {:?}",
                        full.scalar(&path)
                    ));
                }
            }
        }
    }
    wrong
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
    app.kubernetes.io/name: web
  annotations:
    nixernetes.io/depends-on: db
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: nginx
          ports:
            - containerPort: 80
        - name: sidecar
          image: envoy
";

    const FLOW: &str = "\
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  ports: [{port: 80, name: http},
          {port: 70000,
           name: http}]
";

    const JSON: &str = r#"{
  "apiVersion": "v1",
  "kind": "Service",
  "metadata": {
    "name": "web"
  },
  "spec": {
    "ports": [
      {
        "port": 80
      },
      {
        "port": 70000,
        "name": "x"
      }
    ]
  }
}
"#;

    const LIST: &str = "\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: a}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: b}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: c}
  - apiVersion: v1
    kind: Secret
    metadata:
      name: d
    data:
      key: dmFsdWU=
";

    const TRICKY: &str = "\
--- # leading comment
# another comment
\"quoted key\": 1
'single': {inner: 2}
multi: >
  folded
  text
after: &anchor
  a: 1
  b:
    - x
alias: *anchor
? complex
: 3
? [a, b]
: 4
\"spec\":
  \"app.kubernetes.io\": short
  \"app.kubernetes.io/name\": long
  app: shortest
  list:
  - a
  -   - nested
      - deeper
...
ignored: 1
";

    const NULLS: &str = "top:\n  c: x\n  a:\n  b: ~\n  d: 'null'\n";

    #[test]
    fn paths_land_on_their_lines() {
        let cases: &[(&str, &str, usize, bool)] = &[
            // Block style.
            (DEPLOYMENT, "", 1, true),
            (DEPLOYMENT, "kind", 2, true),
            (DEPLOYMENT, "metadata.name", 4, true),
            (DEPLOYMENT, "metadata.labels.app", 6, true),
            (
                DEPLOYMENT,
                "metadata.labels.app.kubernetes.io/name",
                7,
                true,
            ),
            (
                DEPLOYMENT,
                "metadata.annotations.nixernetes.io/depends-on",
                9,
                true,
            ),
            (DEPLOYMENT, "spec.replicas", 11, true),
            (DEPLOYMENT, "spec.template.spec.containers[0]", 15, true),
            (
                DEPLOYMENT,
                "spec.template.spec.containers[0].image",
                16,
                true,
            ),
            (
                DEPLOYMENT,
                "spec.template.spec.containers[1].image",
                20,
                true,
            ),
            (
                DEPLOYMENT,
                "spec.template.spec.containers[0].ports[0].containerPort",
                18,
                true,
            ),
            // Missing leaves: the nearest enclosing key or item.
            (
                DEPLOYMENT,
                "spec.template.spec.containers[1].securityContext.runAsNonRoot",
                19,
                false,
            ),
            (
                DEPLOYMENT,
                "spec.template.spec.containers[2].image",
                14,
                false,
            ),
            (DEPLOYMENT, "metadata.namespace", 3, false),
            (
                DEPLOYMENT,
                "metadata.labels.app.kubernetes.io/part-of",
                5,
                false,
            ),
            (DEPLOYMENT, "status.replicas", 1, false),
            (DEPLOYMENT, "<document>", 1, false),
            // Descending into a scalar, or indexing a mapping: stops there.
            (DEPLOYMENT, "spec.replicas.value", 10, false),
            (DEPLOYMENT, "spec[0]", 10, false),
            (DEPLOYMENT, "spec.template.spec.containers.x", 14, false),
            (DEPLOYMENT, "spec.template.spec.containers[x]", 14, false),
            // Flow style, across lines.
            (FLOW, "metadata.name", 3, true),
            (FLOW, "metadata.labels.app", 3, true),
            (FLOW, "spec.ports[0].port", 5, true),
            (FLOW, "spec.ports[1].port", 6, true),
            (FLOW, "spec.ports[1].name", 7, true),
            (FLOW, "spec.ports[1].protocol", 6, false),
            // JSON.
            (JSON, "metadata.name", 5, true),
            (JSON, "spec.ports[1]", 12, true),
            (JSON, "spec.ports[1].port", 13, true),
            (JSON, "spec.ports[1].name", 14, true),
            (JSON, "spec.ports[0].name", 9, false),
            // A v1 List's items.
            (LIST, "items[0].metadata.name", 6, true),
            (LIST, "items[3]", 13, true),
            (LIST, "items[3].metadata.name", 16, true),
            (LIST, "items[3].data.key", 18, true),
            (LIST, "items[3].metadata.namespace", 15, false),
            (LIST, "items[4].metadata.name", 3, false),
            // Markers, comments, quoting, multi-line scalars, anchors, complex keys.
            (TRICKY, "quoted key", 3, true),
            (TRICKY, "single.inner", 4, true),
            (TRICKY, "multi", 5, true),
            (TRICKY, "after", 8, true),
            (TRICKY, "after.b[0]", 11, true),
            (TRICKY, "alias", 12, true),
            (TRICKY, "alias.a", 12, false),
            (TRICKY, "complex", 13, true),
            (TRICKY, "[a, b]", 3, false),
            (TRICKY, "spec.app", 20, true),
            (TRICKY, "spec.app.kubernetes.io", 18, true),
            (TRICKY, "spec.app.kubernetes.io/name", 19, true),
            (TRICKY, "spec.app.kubernetes.io/version", 17, false),
            (TRICKY, "spec.list[1][1]", 24, true),
            (TRICKY, "spec.list[1][0]", 23, true),
            (TRICKY, "spec.list[1][0].x", 23, false),
            (TRICKY, "ignored", 3, false),
            // Nulls and aliases may stand for the mapping a path goes on into; scalars do not.
            (NULLS, "top.c.x", 1, false),
            (NULLS, "top.a.x", 3, false),
            (NULLS, "top.b.x", 4, false),
            (NULLS, "top.d.x", 1, false),
        ];
        let mut wrong = Vec::new();
        for (i, &(doc, path, line, found)) in cases.iter().enumerate() {
            let got = locate(doc, path);
            if got != Some(Located { line, found }) {
                wrong.push(format!(
                    "case {i} {path:?}: expected line {line} found {found}, got {got:?}"
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn scalars_and_sequences_are_read() {
        let o = Outline::parse(LIST).unwrap();
        assert_eq!(o.scalar("kind"), Some("List"));
        assert_eq!(o.scalar("items[3].metadata.name"), Some("d"));
        assert_eq!(o.scalar("items[1].metadata.name"), Some("b"));
        assert_eq!(o.scalar("items"), None);
        assert_eq!(o.scalar("items[9].kind"), None);
        assert_eq!(o.sequence_len("items"), Some(4));
        assert_eq!(o.sequence_len("kind"), None);
        let o = Outline::parse(TRICKY).unwrap();
        assert_eq!(o.scalar("multi"), Some("folded text\n"));
        assert_eq!(o.scalar("quoted key"), Some("1"));
    }

    #[test]
    fn documents_are_cut_at_their_markers() {
        let stream = "\u{feff}# c\na: 1\n---\n\n---\n# x\nb: 2\n...\nc: 3\n--- {d: 4}\n";
        assert_eq!(document_at(stream, 2), Some("a: 1\n"));
        assert_eq!(document_at(stream, 7), Some("b: 2\n"));
        assert_eq!(document_at(stream, 9), Some("c: 3\n"));
        assert_eq!(document_at(stream, 10), Some("--- {d: 4}\n"));
        assert_eq!(document_at(stream, 11), None);
        assert_eq!(document_at(stream, 0), None);
        let mut docs = Documents::new(stream);
        assert_eq!(docs.at(2), Some("a: 1\n"));
        assert_eq!(docs.at(2), None, "lines are asked for in increasing order");
        assert_eq!(docs.at(7), Some("b: 2\n"));
        assert_eq!(docs.at(10), Some("--- {d: 4}\n"));
        assert_eq!(docs.at(11), None);
        assert_eq!(
            locate("--- {d: 4}\n", "d"),
            Some(Located {
                line: 1,
                found: true
            })
        );
        let crlf = "a: 1\r\n---\r\nb:\r\n  c: 2\r\n";
        let doc = document_at(crlf, 3).unwrap();
        assert_eq!(
            locate(doc, "b.c"),
            Some(Located {
                line: 2,
                found: true
            })
        );
    }

    #[test]
    fn lines_agree_with_the_stream_reader() {
        // Every document the stream reader finds is cut out whole at the line it reports.
        let stream = "%YAML 1.2\n---\na: 1\n--- |\n  text\n---\n# only a comment\n---\nb:\n  - c\n";
        for doc in super::super::parse_stream(stream).unwrap() {
            let text = document_at(stream, doc.line).unwrap();
            assert_eq!(
                super::super::parse_one(text).unwrap(),
                doc.value,
                "{text:?}"
            );
        }
    }

    #[test]
    fn bad_input_has_no_outline_and_never_panics() {
        for text in [
            "",
            "# only a comment\n",
            "a: [1, 2\n",
            "a: 1\n a: 2\n: :\n",
            "{",
            "]",
            "a: *nothing\n",
            "- &a [*a]\n",
            "\u{0}\u{1}\u{ffff}",
            "a:\n\t- b\n",
            "? ? ? ?\n",
            "--- !!map\n--- !<tag:x> [\n",
            "\"unterminated\n",
            "key: |\n  text\n    more\n less\n",
        ] {
            for path in [
                "",
                "a",
                "a[0]",
                "a[99999999999999999999]",
                "[",
                "]",
                "..",
                "a.[",
                "a][",
            ] {
                let _ = locate(text, path);
            }
        }
        assert_eq!(locate("", "a"), None);
        assert_eq!(locate("a: [1, 2\n", "a"), None);
        let deep = "[".repeat(100_000);
        assert_eq!(locate(&deep, "a"), None);
        let deep_block: String = (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        let _ = locate(&deep_block, "k.k.k");
    }

    #[test]
    fn reading_stops_once_the_paths_are_settled() {
        // What follows the entries the paths need is not read (here: not even parsed).
        let text = "kind: Service\nmetadata:\n  name: a\nspec:\n  x: [unclosed\n";
        let paths = ["kind", "metadata.name", "metadata.namespace"];
        assert!(Outline::parse(text).is_none());
        let o = Outline::parse_for(text, &paths).unwrap();
        assert_eq!(
            o.locate("metadata.namespace"),
            Located {
                line: 2,
                found: false
            }
        );
        assert_eq!(o.scalar("kind"), Some("Service"));
        // A path into a later entry, a key not seen yet, or no paths: all of it is read.
        assert!(Outline::parse_for(text, &["spec.x"]).is_none());
        assert!(Outline::parse_for(text, &["status"]).is_none());
        assert!(Outline::parse_for(text, &[]).is_none());
        // A longer key may follow: read on to it.
        let longer = "a:\n  b: 1\nx: 1\na.c: 2\n";
        let o = Outline::parse_for(longer, &["a.c"]).unwrap();
        assert_eq!(
            o.locate("a.c"),
            Located {
                line: 4,
                found: true
            }
        );
        assert_eq!(
            o.locate("a.c"),
            Outline::parse(longer).unwrap().locate("a.c")
        );
        // Escapes could spell any key: read on.
        let escaped = "a:\n  b: 1\n\"x\\u0041\": [unclosed\n";
        assert!(Outline::parse_for(escaped, &["a.b"]).is_none());
        assert!(Outline::parse_for("a:\n  b: 1\nc: [unclosed\n", &["a.b"]).is_some());
    }

    #[test]
    fn mangled_documents_never_panic() {
        // Deterministic mutations (cut, insert, swap bytes) of every test document.
        let inserts = [
            "\n", ":", "- ", "[", "]", "{", "}", "\"", "'", "&a", "*a", "? ", "---", "#", "|",
            "\t", "é",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for doc in [DEPLOYMENT, FLOW, JSON, LIST, TRICKY, NULLS] {
            for _ in 0..300 {
                let mut text = doc.to_string();
                for _ in 0..1 + next(3) {
                    let mut at = next(text.len() + 1);
                    while !text.is_char_boundary(at) {
                        at -= 1;
                    }
                    match next(3) {
                        0 => {
                            let end = (at + next(8)).min(text.len());
                            if text.is_char_boundary(end) {
                                text.replace_range(at..end, "");
                            }
                        }
                        _ => text.insert_str(at, inserts[next(inserts.len())]),
                    }
                }
                for path in [
                    "spec.template.spec.containers[1].image",
                    "metadata.labels.app.kubernetes.io/name",
                    "items[3].data.key",
                    "spec.ports[1].name",
                    "a",
                ] {
                    if let Some(at) = locate(&text, path) {
                        assert!(
                            at.line >= 1 && at.line <= text.lines().count().max(1),
                            "{text:?} {path}: {at:?}"
                        );
                    }
                    let _ = Outline::parse_for(&text, &[path, "kind"]).map(|o| o.locate(path));
                }
                let wrong = fast_disagreements(&text);
                assert!(wrong.is_empty(), "{text:?}:\n{}", wrong.join("\n"));
            }
        }
    }

    #[test]
    fn the_fast_outline_answers_as_the_parser_does() {
        let cases = [
            DEPLOYMENT,
            NULLS,
            "---\na: 1\n",
            "# c\n\na:\n  # c\n  b: 1\n",
            "a:\n- 1\n- 2\n- x: 1\n  y:\n    - z\n",
            "a:\n  -\n    b: 1\n  - - c\n    - d\n  - |\n    text\n  - >-\n    folded\n  - 'q'\n",
            "a: |\n  one\n\n  two\nb: [1, {c: d}]\nc: {x: [1, 2]}\n",
            "items:\n- kind: A\n  metadata: {name: a}\n- kind: B\n  metadata:\n    name: b\n",
            "\"quoted key\": 1\n'single': 2\nk: \"v\"\nn: 31\nt: true\nf: 1.5\n",
            "- a\n- b\n",
            "a:\n  b:\n  c: ~\n  d:\n    - null\n",
        ];
        let mut declined = Vec::new();
        for text in cases {
            if Outline::from_fast(text).is_none() {
                declined.push(text);
            }
            let wrong = fast_disagreements(text);
            assert!(wrong.is_empty(), "{text:?}:\n{}", wrong.join("\n"));
        }
        // The fast reader declines these two whole (as it does for values); the rest it reads.
        assert_eq!(declined, [cases[4], cases[8]]);
        // An item with no value is left to the parser.
        assert!(Outline::from_fast("a:\n-\n- b\n").is_none());
        assert!(Outline::from_fast("a: &x 1\n").is_none());
        assert!(
            Outline::from_fast(FLOW).is_none(),
            "flow collections over lines"
        );
    }

    /// Text goyaml.v2 reads otherwise than YAML 1.2 (refused when the document is parsed): the
    /// fast outline declines it, leaving it to the parser's outline.
    #[test]
    fn the_fast_outline_declines_what_go_readers_read_otherwise() {
        for text in [
            "a:\n  addresses: [1.2.3.4, 001:db8::]\n",
            "a:\n  s: {address: 2001:db8::, port: 53}\n",
            "a: [x, b?c]\n",
            "a:\n  on: 1\n",
            "a:\n  0755: 1\n",
            "a:\n  b: 0X1f\n",
            "a:\n- 1__0\n",
            "a: tRue\n",
        ] {
            assert!(Outline::from_fast(text).is_none(), "{text}");
            let wrong = fast_disagreements(text);
            assert!(wrong.is_empty(), "{text:?}:\n{}", wrong.join("\n"));
        }
    }

    #[test]
    fn a_scalar_document_is_its_own_line() {
        assert_eq!(
            locate("\n\nhello\n", "a"),
            Some(Located {
                line: 3,
                found: false
            })
        );
        assert_eq!(
            locate("- a\n- b\n", "[1]"),
            Some(Located {
                line: 2,
                found: true
            })
        );
    }
}
