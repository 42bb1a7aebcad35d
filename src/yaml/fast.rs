//! A fast reader for the plain subset of YAML that Kubernetes manifests are written in.
//!
//! It turns one document's text straight into a `serde_json::Value`, skipping the event stream
//! and serde glue that dominate a large render. It accepts only what it can read exactly as the
//! serde-saphyr path does with our options (same values, key order and number types): block
//! mappings and sequences (compact `- key: value` forms included), plain scalars, quoted scalars
//! on one line, `|`/`>` block scalars without indentation indicators, comments, and flow
//! collections on one line. Anything else (anchors, aliases, tags, merge or explicit keys,
//! directives, tabs or carriage returns outside scalar text, duplicate or non-string keys,
//! multi-line plain or quoted scalars, non-finite floats, deep nesting) makes it return `None`,
//! and the caller parses the document with serde-saphyr, which also owns every error message.
//! This module must never report an error nor guess: declining is always correct.

use serde_json::{Map, Value};
use std::borrow::Cow;

/// Deepest nesting built here, well under `MAX_DEPTH` whatever way the budget counts levels.
const MAX_FAST_DEPTH: usize = super::MAX_DEPTH / 2;

/// Longest implicit key accepted here (YAML caps implicit keys at 1024 characters).
const MAX_KEY_BYTES: usize = 256;

/// Parses one document, or returns `None` if it is outside the subset (or not valid YAML).
pub(super) fn parse(text: &str) -> Option<Value> {
    parse_within(text, super::MAX_DOCUMENT_SCALAR_BYTES)
}

/// [`parse`], declining text longer than `scalar_bytes` (serde-saphyr then applies that budget
/// and says so).
pub(super) fn parse_within(text: &str, scalar_bytes: usize) -> Option<Value> {
    // Scalar bytes never exceed the text they come from, so this keeps within the budget.
    if text.len() > scalar_bytes || !plain_chars(text.as_bytes()) {
        return None;
    }
    Parser::new(text, Values).document()
}

/// Reads one document as [`parse`] does (declining the same documents, and block sequence
/// items with no value) into the nodes of a [`super::locate::Outline`], without building its
/// value: the nodes, the root's id and the 1-based line the root starts on.
pub(super) fn outline(text: &str) -> Option<(Vec<OutlineNode<'_>>, usize, usize)> {
    if text.len() > super::MAX_DOCUMENT_SCALAR_BYTES || !plain_chars(text.as_bytes()) {
        return None;
    }
    let mut parser = Parser::new(text, Outlines(Vec::new()));
    parser.rows = Some(Rows::default());
    let root = parser.document()?;
    let line = parser.rows.as_ref().map(|r| r.root)?;
    Some((parser.build.0, root, line))
}

/// What a line of block content holds at a column, read as [`parse`] reads it there: for
/// [`super::skim`], which reads only the lines a path goes through.
pub(super) enum Inline<'a> {
    /// Nothing (the value, if any, is on the following lines).
    Empty,
    /// A plain null (`~`, `null`).
    Null,
    /// A plain scalar as written, up to a comment.
    Plain(&'a str),
    /// A quoted scalar that closes on the line, unquoted.
    Quoted(String),
    /// A flow collection that closes on the line, as outline nodes and the root's id.
    Flow(Vec<OutlineNode<'a>>, usize),
    /// The header of a `|` or `>` block scalar.
    BlockScalar,
    /// A `key:` entry (a block mapping starts here).
    Entry,
    /// A `- ` item (a block sequence starts here).
    Item,
}

/// The key of the `key:` entry that `line` (no line break) holds at byte `at`, as written
/// (plain) or unquoted, and where its value starts: `Some(None)` when the content there is
/// not an entry, `None` to decline.
pub(super) fn line_entry(line: &str, at: usize) -> Option<Option<(Cow<'_, str>, usize)>> {
    let mut p = Parser::for_line(line, Values);
    p.pos = at;
    match p.start()? {
        Start::Entry {
            style: KeyStyle::Plain,
            start,
            end,
            value,
        } => {
            // A key goyaml.v2 turns into another (`on:` is "true" to kubectl): the document
            // is refused when read whole, so the skim must not answer for it.
            let key = &line[start..end];
            super::go::key_agrees(key).then_some(Some((Cow::Borrowed(key), value)))
        }
        Start::Entry {
            style,
            start,
            end,
            value,
        } => Some(Some((Cow::Owned(p.key(style, start, end)?), value))),
        Start::Other => Some(None),
    }
}

/// What `line` holds from byte `at` to its end; `None` to decline (anchors, tags, aliases,
/// scalars or flow collections that go on past the line, anything [`parse`] declines).
pub(super) fn line_value(line: &str, at: usize) -> Option<Inline<'_>> {
    let mut p = Parser::for_line(line, Outlines(Vec::new()));
    p.pos = at;
    let b = p.b;
    let mut i = at;
    while i < p.end && b[i] == b' ' {
        i += 1;
    }
    if i == p.end || (b[i] == b'#' && i > at) {
        return Some(Inline::Empty);
    }
    p.pos = i;
    let inline = match b[i] {
        b'-' if p.at_seq_entry() => Inline::Item,
        b'|' | b'>' => Inline::BlockScalar,
        b'[' | b'{' => {
            let root = p.flow_node()?;
            p.end_of_line()?;
            Inline::Flow(p.build.0, root)
        }
        b'"' | b'\'' => {
            let s = p.quoted()?;
            p.end_of_line()?;
            Inline::Quoted(s)
        }
        _ => match p.start()? {
            Start::Entry { .. } => Inline::Entry,
            Start::Other => {
                let s = p.block_plain()?;
                p.end_of_line()?;
                match go_resolve(s)? {
                    Value::Null => Inline::Null,
                    _ => Inline::Plain(s),
                }
            }
        },
    };
    Some(inline)
}

/// A node of an outline, as [`super::locate`] defines it.
pub(super) type OutlineNode<'a> = super::locate::Node<'a>;

/// What the parser builds from what it reads. Entries and items come with the line their
/// key or item starts on (0 when lines are not recorded, or in flow collections).
pub(super) trait Build<'a> {
    type Node;
    fn null(&mut self) -> Self::Node;
    /// A quoted or block scalar's text.
    fn string(&mut self, s: String) -> Self::Node;
    /// A plain scalar as written; `None` declines it.
    fn plain(&mut self, s: &'a str) -> Option<Self::Node>;
    /// A mapping; `None` declines it (a duplicate key).
    fn map(
        &mut self,
        entries: std::vec::Drain<'_, (String, usize, Self::Node)>,
    ) -> Option<Self::Node>;
    fn seq(&mut self, items: std::vec::Drain<'_, (usize, Self::Node)>) -> Self::Node;
}

/// Builds the `serde_json::Value` of the document.
struct Values;

impl<'a> Build<'a> for Values {
    type Node = Value;
    fn null(&mut self) -> Value {
        Value::Null
    }
    fn string(&mut self, s: String) -> Value {
        Value::String(s)
    }
    fn plain(&mut self, s: &'a str) -> Option<Value> {
        go_resolve(s)
    }
    /// The map at its exact size; `None` on a duplicate key (serde-saphyr then reports it
    /// with its location).
    fn map(&mut self, entries: std::vec::Drain<'_, (String, usize, Value)>) -> Option<Value> {
        let mut map = Map::with_capacity(entries.len());
        for (k, _, v) in entries {
            if map.insert(k, v).is_some() {
                return None;
            }
        }
        Some(Value::Object(map))
    }
    fn seq(&mut self, items: std::vec::Drain<'_, (usize, Value)>) -> Value {
        Value::Array(items.map(|(_, v)| v).collect())
    }
}

/// Builds the outline nodes of the document (ids into the vector); plain scalars keep their
/// text as written, as the event parser's outline does.
struct Outlines<'a>(Vec<OutlineNode<'a>>);

impl<'a> Build<'a> for Outlines<'a> {
    type Node = usize;
    fn null(&mut self) -> usize {
        self.push(super::locate::Shape::Empty)
    }
    fn string(&mut self, s: String) -> usize {
        self.push(super::locate::Shape::Scalar(s.into()))
    }
    fn plain(&mut self, s: &'a str) -> Option<usize> {
        let shape = match go_resolve(s)? {
            Value::Null => super::locate::Shape::Empty,
            _ => super::locate::Shape::Scalar(s.into()),
        };
        Some(self.push(shape))
    }
    fn map(&mut self, entries: std::vec::Drain<'_, (String, usize, usize)>) -> Option<usize> {
        let entries = entries
            .map(|(k, line, value)| super::locate::Entry {
                key: Some(k.into()),
                line,
                value,
            })
            .collect();
        Some(self.push(super::locate::Shape::Map(entries)))
    }
    fn seq(&mut self, items: std::vec::Drain<'_, (usize, usize)>) -> usize {
        let ids = items
            .map(|(line, id)| {
                self.0[id].line = line;
                id
            })
            .collect();
        self.push(super::locate::Shape::Seq(ids))
    }
}

impl<'a> Outlines<'a> {
    fn push(&mut self, shape: super::locate::Shape<'a>) -> usize {
        self.0.push(super::locate::Node { line: 0, shape });
        self.0.len() - 1
    }
}

/// 1-based line numbers of byte offsets, counted on from the last offset asked for.
#[derive(Debug, Default)]
struct Rows {
    at: usize,
    row: usize,
    /// Line of the document's first node.
    root: usize,
    /// Line of the value `value` last read (where its content starts); 0 for none.
    value: usize,
}

impl Rows {
    fn of(&mut self, b: &[u8], offset: usize) -> usize {
        if offset >= self.at {
            self.row += b[self.at..offset].iter().filter(|&&c| c == b'\n').count();
        } else {
            self.row -= b[offset..self.at].iter().filter(|&&c| c == b'\n').count();
        }
        self.at = offset;
        self.row + 1
    }
}

/// Whether the text holds only characters this reader treats like every YAML reader does:
/// no control characters other than line feed and tab, no carriage return, no byte order mark,
/// none that parsers disagree on as white space or line breaks (NEL, no-break space, line and
/// paragraph separators) and none YAML forbids (C1 controls, U+FFFE, U+FFFF).
pub(super) fn plain_chars(b: &[u8]) -> bool {
    let simple = |c: u8| (0x20..0x7f).contains(&c) || c == b'\n' || c == b'\t';
    let mut i = 0;
    while i < b.len() {
        // Manifests are almost all printable ASCII: 16 bytes at a time (the fold vectorizes).
        if let Some(chunk) = b.get(i..i + 16) {
            if chunk.iter().fold(true, |all, &c| all & simple(c)) {
                i += 16;
                continue;
            }
        }
        let c = b[i];
        if simple(c) {
            i += 1;
            continue;
        }
        let next = |k: usize| b.get(i + k).copied().unwrap_or(0);
        let bad = match c {
            0x00..=0x7f => true,
            0xc2 => (0x80..=0xa0).contains(&next(1)),
            0xe2 => next(1) == 0x80 && matches!(next(2), 0xa8 | 0xa9),
            0xef => {
                (next(1) == 0xbb && next(2) == 0xbf)
                    || (next(1) == 0xbf && matches!(next(2), 0xbe | 0xbf))
            }
            _ => false,
        };
        if bad {
            return false;
        }
        i += 1;
    }
    true
}

/// How a line's content starts, as far as block structure is concerned.
enum Start {
    /// A `key:` entry; the key is `src[start..end]` in the given style, its value starts at
    /// `value` (just after the colon).
    Entry {
        style: KeyStyle,
        start: usize,
        end: usize,
        value: usize,
    },
    /// Anything else (a scalar, a flow collection, a block scalar header...).
    Other,
}

#[derive(Clone, Copy, PartialEq)]
enum KeyStyle {
    Plain,
    /// Whole quoted scalar, quotes included.
    Quoted,
}

#[derive(Clone, Copy)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

struct Parser<'a, B: Build<'a>> {
    build: B,
    src: &'a str,
    b: &'a [u8],
    /// Start of the current physical line.
    line: usize,
    /// End of the current physical line (its `\n`, or the end of the text).
    end: usize,
    /// Where unread content of the current line starts.
    pos: usize,
    depth: usize,
    /// Entries of the mappings being built, innermost last (one buffer for all levels), with
    /// their keys' lines.
    entries: Vec<(String, usize, B::Node)>,
    /// Items of the sequences being built, innermost last, with their lines.
    items: Vec<(usize, B::Node)>,
    /// Line bookkeeping, only when [`outline`] asked for it.
    rows: Option<Rows>,
}

impl<'a, B: Build<'a>> Parser<'a, B> {
    fn new(src: &'a str, build: B) -> Self {
        let b = src.as_bytes();
        let end = line_end(src, 0);
        Parser {
            build,
            src,
            b,
            line: 0,
            end,
            pos: 0,
            depth: 0,
            entries: Vec::new(),
            items: Vec::new(),
            rows: None,
        }
    }

    /// A parser of one line holding no line break.
    fn for_line(line: &'a str, build: B) -> Self {
        let mut p = Self::new("", build);
        (p.src, p.b, p.end) = (line, line.as_bytes(), line.len());
        p
    }

    /// The line of byte `offset`, when lines are recorded (else 0).
    fn row(&mut self, offset: usize) -> usize {
        match self.rows.as_mut() {
            Some(rows) => rows.of(self.b, offset),
            None => 0,
        }
    }

    /// With lines recorded: the value being read starts at byte `at`.
    fn value_line(&mut self, at: usize) {
        if self.rows.is_some() {
            let line = self.row(at);
            if let Some(rows) = self.rows.as_mut() {
                rows.value = line;
            }
        }
    }

    /// The line of the value last read (0 when not recorded or none).
    fn value_row(&self) -> usize {
        self.rows.as_ref().map_or(0, |r| r.value)
    }

    /// Sets the line of the value last read (after reading a collection, which reads others).
    fn set_value_row(&mut self, line: usize) {
        if let Some(rows) = self.rows.as_mut() {
            rows.value = line;
        }
    }

    fn document(&mut self) -> Option<B::Node> {
        // `split` leaves a document's `---` marker, if any, at the very start of its text.
        if self.src.starts_with("---") {
            if self.end > 3 && self.b[3] != b' ' {
                return None;
            }
            self.pos = 3;
            self.end_of_line()?;
        }
        let col = self.peek()??;
        if self.rows.is_some() {
            let root = self.row(self.pos);
            if let Some(rows) = self.rows.as_mut() {
                rows.root = root;
            }
        }
        let v = self.block_node(col)?;
        match self.peek()? {
            None => Some(v),
            Some(_) => None,
        }
    }

    /// Moves to the next physical line; false at the end of the text.
    fn next_line(&mut self) -> bool {
        if self.end >= self.b.len() {
            self.pos = self.end;
            return false;
        }
        self.line = self.end + 1;
        self.end = line_end(self.src, self.line);
        self.pos = self.line;
        true
    }

    /// Positions `pos` on the next content (skipping blanks, comments and blank lines) and
    /// returns its column; `Some(None)` at the end of the document, `None` to decline.
    fn peek(&mut self) -> Option<Option<usize>> {
        loop {
            let mut i = self.pos;
            while i < self.end && self.b[i] == b' ' {
                i += 1;
            }
            if i < self.end {
                match self.b[i] {
                    b'\t' => return None,
                    b'#' if i == self.line || self.b[i - 1] == b' ' => {}
                    b'#' => return None,
                    _ => {
                        if i == self.line
                            && (self.src[i..].starts_with("---")
                                || self.src[i..].starts_with("..."))
                        {
                            // Document markers are the caller's business, not content.
                            return None;
                        }
                        self.pos = i;
                        return Some(Some(i - self.line));
                    }
                }
            }
            if !self.next_line() {
                return Some(None);
            }
        }
    }

    /// Checks that the rest of the line is blank or a comment and moves past it.
    fn end_of_line(&mut self) -> Option<()> {
        let mut i = self.pos;
        while i < self.end && self.b[i] == b' ' {
            i += 1;
        }
        if i < self.end && !(self.b[i] == b'#' && i > self.pos) {
            return None;
        }
        self.pos = self.end;
        Some(())
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_FAST_DEPTH).then_some(())
    }

    /// Whether the content at `pos` is a block sequence entry (`-` then space or line end).
    fn at_seq_entry(&self) -> bool {
        self.b[self.pos] == b'-' && (self.pos + 1 == self.end || self.b[self.pos + 1] == b' ')
    }

    /// Reads a block mapping, sequence or (outside of maps) nothing else, at column `col`.
    fn block_node(&mut self, col: usize) -> Option<B::Node> {
        if self.at_seq_entry() {
            return self.block_seq(col);
        }
        match self.start()? {
            Start::Entry { .. } => self.block_map(col),
            Start::Other => None,
        }
    }

    fn block_map(&mut self, col: usize) -> Option<B::Node> {
        self.enter()?;
        let base = self.entries.len();
        let line = self.value_row();
        while let Some(c) = self.peek()? {
            if c < col {
                break;
            }
            if c > col {
                return None;
            }
            if self.at_seq_entry() {
                break;
            }
            let Start::Entry {
                style,
                start,
                end,
                value,
            } = self.start()?
            else {
                return None;
            };
            let key = self.key(style, start, end)?;
            self.pos = value;
            let key_line = self.row(start);
            let v = self.value(col, true)?;
            self.entries.push((key, key_line, v));
        }
        self.depth -= 1;
        self.set_value_row(line);
        self.build.map(self.entries.drain(base..))
    }

    fn block_seq(&mut self, col: usize) -> Option<B::Node> {
        self.enter()?;
        let base = self.items.len();
        let line = self.value_row();
        while let Some(c) = self.peek()? {
            if c < col {
                break;
            }
            if c > col {
                return None;
            }
            if !self.at_seq_entry() {
                break;
            }
            self.pos += 1;
            if let Some(rows) = self.rows.as_mut() {
                rows.value = 0;
            }
            let v = self.value(col, false)?;
            let item_line = self.value_row();
            // An item with no value starts where other readers say it does; leave it to them.
            if self.rows.is_some() && item_line == 0 {
                return None;
            }
            self.items.push((item_line, v));
        }
        self.depth -= 1;
        self.set_value_row(line);
        Some(self.build.seq(self.items.drain(base..)))
    }

    /// Reads the value after a mapping key's `:` or a sequence entry's `-` (at `pos`), where
    /// `parent` is the column of the mapping or sequence holding it.
    fn value(&mut self, parent: usize, in_map: bool) -> Option<B::Node> {
        let mut i = self.pos;
        while i < self.end && self.b[i] == b' ' {
            i += 1;
        }
        if i < self.end && self.b[i] == b'\t' {
            return None;
        }
        if i == self.end || self.b[i] == b'#' {
            // The value, if any, is on the following lines.
            self.pos = self.end;
            return match self.peek()? {
                Some(c) if c > parent => {
                    self.value_line(self.pos);
                    self.block_node(c)
                }
                Some(c) if c == parent && in_map && self.at_seq_entry() => {
                    self.value_line(self.pos);
                    self.block_seq(c)
                }
                _ => Some(self.build.null()),
            };
        }
        self.value_line(i);
        self.pos = i;
        let col = i - self.line;
        match self.b[i] {
            b'-' if self.at_seq_entry() => {
                if in_map {
                    None
                } else {
                    self.block_seq(col)
                }
            }
            b'|' | b'>' => self.block_scalar(parent),
            b'[' | b'{' => {
                let v = self.flow_node()?;
                self.end_of_line()?;
                Some(v)
            }
            _ => match self.start()? {
                Start::Entry { .. } if in_map => None,
                Start::Entry { .. } => self.block_map(col),
                Start::Other => {
                    let v = if matches!(self.b[i], b'"' | b'\'') {
                        let s = self.quoted()?;
                        self.build.string(s)
                    } else {
                        let s = self.block_plain()?;
                        self.build.plain(s)?
                    };
                    self.end_of_line()?;
                    Some(v)
                }
            },
        }
    }

    /// Classifies the content at `pos`: a `key:` entry or something else. `None` declines.
    fn start(&self) -> Option<Start> {
        let (b, i, end) = (self.b, self.pos, self.end);
        let (style, key_end, mut j) = match b[i] {
            b'"' | b'\'' => {
                let Some(close) = quoted_end(b, i, end) else {
                    return Some(Start::Other);
                };
                let mut j = close;
                while j < end && b[j] == b' ' {
                    j += 1;
                }
                (KeyStyle::Quoted, close, j)
            }
            c if !plain_first(c, b.get(i + 1).copied()) => return Some(Start::Other),
            _ => {
                let mut j = i;
                let mut inner_colon = false;
                loop {
                    // Only a tab, a colon or a hash can end the key: jump to the next one.
                    match memchr::memchr3(b'\t', b':', b'#', &b[j..end]) {
                        Some(k) => j += k,
                        None => return Some(Start::Other),
                    }
                    match b[j] {
                        b'\t' => return None,
                        b':' if j + 1 == end || b[j + 1] == b' ' => break,
                        b':' => inner_colon = true,
                        b'#' if b[j - 1] == b' ' => return Some(Start::Other),
                        _ => {}
                    }
                    j += 1;
                }
                if inner_colon {
                    return None;
                }
                let mut k = j;
                while k > i && b[k - 1] == b' ' {
                    k -= 1;
                }
                (KeyStyle::Plain, k, j)
            }
        };
        if j < end && b[j] == b':' && (j + 1 == end || b[j + 1] == b' ') {
            j += 1;
            if key_end - i > MAX_KEY_BYTES {
                return None;
            }
            Some(Start::Entry {
                style,
                start: i,
                end: key_end,
                value: j,
            })
        } else {
            Some(Start::Other)
        }
    }

    /// The text of a mapping key, declining keys that are not plain strings to every reader.
    fn key(&mut self, style: KeyStyle, start: usize, end: usize) -> Option<String> {
        let key = if style == KeyStyle::Quoted {
            let saved = self.pos;
            self.pos = start;
            let k = self.quoted()?;
            debug_assert_eq!(self.pos, end);
            self.pos = saved;
            k
        } else {
            plain_key(&self.src[start..end])?
        };
        (key != "<<").then_some(key)
    }

    /// Reads a quoted scalar that closes on this line; `pos` moves past the closing quote.
    fn quoted(&mut self) -> Option<String> {
        let (b, end) = (self.b, self.end);
        let mut out = String::new();
        let mut i = self.pos + 1;
        if b[self.pos] == b'\'' {
            loop {
                let q = i + b[i..end].iter().position(|&c| c == b'\'')?;
                out.push_str(&self.src[i..q]);
                if q + 1 < end && b[q + 1] == b'\'' {
                    out.push('\'');
                    i = q + 2;
                } else {
                    self.pos = q + 1;
                    break;
                }
            }
        } else {
            loop {
                let q = i + b[i..end].iter().position(|&c| c == b'"' || c == b'\\')?;
                out.push_str(&self.src[i..q]);
                if b[q] == b'"' {
                    self.pos = q + 1;
                    break;
                }
                let (c, len) = escape(&self.src[q + 1..end])?;
                out.push(c);
                i = q + 1 + len;
            }
        }
        out.shrink_to_fit();
        Some(out)
    }

    /// Reads a plain scalar that is the rest of a block line (up to a comment).
    fn block_plain(&mut self) -> Option<&'a str> {
        let (b, start, end) = (self.b, self.pos, self.end);
        if !plain_first(b[start], b.get(start + 1).copied()) {
            return None;
        }
        let mut j = start;
        while j < end {
            match b[j] {
                b'\t' => return None,
                b':' if j + 1 == end || b[j + 1] == b' ' => return None,
                b'#' if b[j - 1] == b' ' => break,
                _ => {}
            }
            j += 1;
        }
        let k = trim_spaces(b, start, j);
        self.pos = k;
        Some(&self.src[start..k])
    }

    /// Reads a `|` or `>` block scalar whose header is at `pos`; `parent` is the column of the
    /// collection holding it (its text must be indented further).
    fn block_scalar(&mut self, parent: usize) -> Option<B::Node> {
        let b = self.b;
        let folded = b[self.pos] == b'>';
        let mut i = self.pos + 1;
        let chomp = match b.get(i) {
            Some(b'-') => Chomp::Strip,
            Some(b'+') => Chomp::Keep,
            _ => Chomp::Clip,
        };
        if !matches!(chomp, Chomp::Clip) {
            i += 1;
        }
        if i < self.end && b[i] != b' ' {
            return None; // indentation indicator or junk
        }
        self.pos = i;
        self.end_of_line()?;
        if self.end >= b.len() {
            return None;
        }

        let mut out = String::new();
        let mut indent: Option<usize> = None;
        let mut leading = 0usize; // blank lines before the first text line
        let mut leading_width = 0usize;
        let mut pending = 0usize; // blank lines since the last text line
        let mut have_text = false;
        let mut at = self.end + 1;
        while at < b.len() {
            let end = line_end(self.src, at);
            let mut sp = at;
            while sp < end && b[sp] == b' ' {
                sp += 1;
            }
            let width = sp - at;
            if sp == end {
                if end == b.len() {
                    // A last blank line without a line break adds nothing but is ambiguous;
                    // spaces beyond the indentation are text to serde-saphyr (found by the
                    // fuzz target yaml_fast_vs_saphyr).
                    if matches!(chomp, Chomp::Keep) || indent.is_some_and(|n| width > n) {
                        return None;
                    }
                    at = end;
                    break;
                }
                match indent {
                    None => {
                        leading += 1;
                        leading_width = leading_width.max(width);
                    }
                    Some(n) if width > n => return None,
                    Some(_) => pending += 1,
                }
                at = end + 1;
                continue;
            }
            let n = match indent {
                Some(n) => n,
                None => {
                    if width <= parent || leading_width > width {
                        return None;
                    }
                    indent = Some(width);
                    width
                }
            };
            if width < n {
                if b[sp] == b'\t' {
                    return None;
                }
                break;
            }
            if end == b.len() {
                return None; // no line break after the last text line
            }
            let text = &self.src[at + n..end];
            if text.bytes().all(|c| c == b' ' || c == b'\t') {
                return None; // whitespace-only lines are read differently by different parsers
            }
            if folded && text.starts_with([' ', '\t']) {
                return None; // more-indented lines fold differently
            }
            if !have_text {
                // Other readers place a block scalar at its first line of text.
                self.value_line(at);
                push_newlines(&mut out, leading);
            } else if folded && pending == 0 {
                out.push(' ');
            } else if folded {
                push_newlines(&mut out, pending);
            } else {
                push_newlines(&mut out, pending + 1);
            }
            out.push_str(text);
            pending = 0;
            have_text = true;
            at = end + 1;
        }
        if !have_text {
            return None;
        }
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => out.push('\n'),
            Chomp::Keep => push_newlines(&mut out, pending + 1),
        }
        // Resume at the line that ended the scalar.
        if at >= b.len() {
            self.line = b.len();
            self.end = b.len();
            self.pos = b.len();
        } else {
            self.line = at;
            self.end = line_end(self.src, at);
            self.pos = at;
        }
        out.shrink_to_fit();
        Some(self.build.string(out))
    }

    /// Skips spaces inside a flow collection; declines at the end of the line or on a tab.
    /// After a flow item: `,` (then more must follow: a trailing comma is outside the subset)
    /// or the closing bracket `close`, which this returns `true` for (not consumed).
    fn flow_separator(&mut self, close: u8) -> Option<bool> {
        self.flow_space()?;
        match self.b[self.pos] {
            b',' => {
                self.pos += 1;
                self.flow_space()?;
                (self.b[self.pos] != close).then_some(false)
            }
            c if c == close => Some(true),
            _ => None,
        }
    }

    fn flow_space(&mut self) -> Option<()> {
        while self.pos < self.end && self.b[self.pos] == b' ' {
            self.pos += 1;
        }
        (self.pos < self.end && self.b[self.pos] != b'\t').then_some(())
    }

    /// Reads a flow collection or scalar that ends on this line.
    fn flow_node(&mut self) -> Option<B::Node> {
        match self.b[self.pos] {
            b'[' => {
                self.enter()?;
                self.pos += 1;
                let base = self.items.len();
                self.flow_space()?;
                if self.b[self.pos] != b']' {
                    loop {
                        let v = self.flow_node()?;
                        self.items.push((0, v));
                        if self.flow_separator(b']')? {
                            break;
                        }
                    }
                }
                self.pos += 1;
                self.depth -= 1;
                Some(self.build.seq(self.items.drain(base..)))
            }
            b'{' => {
                self.enter()?;
                self.pos += 1;
                let base = self.entries.len();
                self.flow_space()?;
                if self.b[self.pos] != b'}' {
                    loop {
                        let key_start = self.pos;
                        let key = match self.b[self.pos] {
                            b'"' | b'\'' => self.quoted()?,
                            _ => plain_key(self.flow_plain(true)?)?,
                        };
                        if key == "<<" || self.pos - key_start > MAX_KEY_BYTES {
                            return None;
                        }
                        self.flow_space()?;
                        if self.b[self.pos] != b':' || self.b.get(self.pos + 1) != Some(&b' ') {
                            return None;
                        }
                        self.pos += 1;
                        self.flow_space()?;
                        if matches!(self.b[self.pos], b',' | b'}') {
                            return None; // empty value
                        }
                        let v = self.flow_node()?;
                        self.entries.push((key, 0, v));
                        if self.flow_separator(b'}')? {
                            break;
                        }
                    }
                }
                self.pos += 1;
                self.depth -= 1;
                self.build.map(self.entries.drain(base..))
            }
            b'"' | b'\'' => {
                let s = self.quoted()?;
                Some(self.build.string(s))
            }
            _ => {
                let s = self.flow_plain(false)?;
                self.build.plain(s)
            }
        }
    }

    /// Reads a plain scalar inside a flow collection; with `key`, it may end at `": "`.
    fn flow_plain(&mut self, key: bool) -> Option<&'a str> {
        let (b, start, end) = (self.b, self.pos, self.end);
        let next = b.get(start + 1).copied();
        if !plain_first(b[start], next)
            || (b[start] == b'-' && matches!(next, Some(b',' | b']' | b'}')))
        {
            return None;
        }
        let mut j = start;
        loop {
            if j == end {
                return None;
            }
            match b[j] {
                b',' | b']' | b'}' => break,
                b':' if key && b.get(j + 1) == Some(&b' ') => break,
                // A colon not followed by a space or flow indicator is text (`2001:db8::/32`).
                b':' if j + 1 < end
                    && !matches!(b[j + 1], b' ' | b',' | b']' | b'}' | b'[' | b'{') => {}
                b'#' if b[j - 1] != b' ' => {}
                // goyaml.v2 ends a plain scalar at `?` in a flow collection, YAML 1.2 does not.
                b':' | b'[' | b'{' | b'#' | b'\t' | b'?' => return None,
                _ => {}
            }
            j += 1;
        }
        self.pos = j;
        Some(&self.src[start..trim_spaces(b, start, j)])
    }
}

/// `end` moved back over the spaces that end `b[start..end]` (a plain scalar's text starts with
/// a non-space at `start`, so it never moves past it).
fn trim_spaces(b: &[u8], start: usize, end: usize) -> usize {
    let mut k = end;
    while k > start && b[k - 1] == b' ' {
        k -= 1;
    }
    k
}

/// End of the line starting at `from`: the index of its `\n`, or the end of the text.
fn line_end(src: &str, from: usize) -> usize {
    // A byte search: a line feed never occurs inside a multi-byte character.
    memchr::memchr(b'\n', &src.as_bytes()[from.min(src.len())..]).map_or(src.len(), |p| from + p)
}

fn push_newlines(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n('\n', n));
}

/// Whether a plain scalar may start with byte `c` (followed by `next`). Indicators decline;
/// `-` may start a scalar when a non-space follows (`-5`, `--flag`).
fn plain_first(c: u8, next: Option<u8>) -> bool {
    match c {
        b'-' => next.is_some_and(|n| n != b' ' && n != b'\t' && n != b'\n'),
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' | b'\t' => false,
        _ => true,
    }
}

/// Index just past the closing quote of the quoted scalar at `i`, if it closes before `end`.
fn quoted_end(b: &[u8], i: usize, end: usize) -> Option<usize> {
    let quote = b[i];
    let mut j = i + 1;
    while j < end {
        match b[j] {
            b'\\' if quote == b'"' => j += 2,
            b'\'' if quote == b'\'' && j + 1 < end && b[j + 1] == b'\'' => j += 2,
            c if c == quote => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// The string a plain key stands for, declining keys that read as anything but a string
/// (null, booleans, numbers) or that serde-saphyr compares as integers (`0X1F`).
fn plain_key(s: &str) -> Option<String> {
    if !super::go::key_agrees(s) {
        return None;
    }
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if matches!(unsigned.as_bytes(), [b'0', b'X' | b'O' | b'B', ..]) {
        return None;
    }
    match resolve(s)? {
        Value::String(k) => Some(k),
        _ => None,
    }
}

/// Decodes the escape after a backslash in a double-quoted scalar: (character, bytes used).
fn escape(s: &str) -> Option<(char, usize)> {
    let hex = |n: usize| -> Option<(char, usize)> {
        let digits = s.get(1..1 + n)?;
        if !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let code = u32::from_str_radix(digits, 16).ok()?;
        Some((char::from_u32(code)?, 1 + n))
    };
    let c = match s.as_bytes().first()? {
        b'0' => '\0',
        b'a' => '\u{07}',
        b'b' => '\u{08}',
        b't' | b'\t' => '\t',
        b'n' => '\n',
        b'v' => '\u{0b}',
        b'f' => '\u{0c}',
        b'r' => '\r',
        b'e' => '\u{1b}',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        b'x' => return hex(2),
        b'u' => return hex(4),
        b'U' => return hex(8),
        _ => return None,
    };
    Some((c, 1))
}

/// [`resolve`], declining the scalars goyaml.v2 reads otherwise (the caller then refuses them,
/// located, whichever reader is on: [`super::go::check`]).
fn go_resolve(s: &str) -> Option<Value> {
    let v = resolve(s)?;
    super::go::agrees(s, Some(&v)).then_some(v)
}

/// Resolves a plain scalar as serde-saphyr does for an untyped value with our options (YAML
/// 1.1 booleans, legacy octal): null, bool, integer (i64 if negative, else u64), finite float,
/// or string. `None` for the spellings it rejects (non-finite floats).
pub(super) fn resolve(s: &str) -> Option<Value> {
    if matches!(s, "" | "~" | "null" | "Null" | "NULL") {
        return Some(Value::Null);
    }
    if let Some(v) = yaml11_bool(s) {
        return Some(Value::Bool(v));
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        // Not a number: Rust's float parser would take `inf`/`nan`, serde-saphyr does not.
        return Some(Value::String(s.to_owned()));
    }
    let negative = first == b'-';
    let unsigned = if matches!(first, b'+' | b'-') {
        &s[1..]
    } else {
        s
    };
    if matches!(unsigned.as_bytes(), [b'0', b'X' | b'O' | b'B', ..])
        || (unsigned != s && matches!(unsigned, ".nan" | ".NaN" | ".NAN"))
    {
        return Some(Value::String(s.to_owned()));
    }
    if let Some(magnitude) = parse_int(unsigned) {
        if negative {
            if let Some(v) = i64::try_from(magnitude)
                .ok()
                .map(|m: i64| -m)
                .or((magnitude == 1u128 << 63).then_some(i64::MIN))
            {
                return Some(Value::from(v));
            }
        } else if let Ok(v) = u64::try_from(magnitude) {
            return Some(Value::from(v));
        }
    }
    if unsigned.starts_with('.')
        && matches!(unsigned.to_ascii_lowercase().as_str(), ".inf" | ".nan")
    {
        return None;
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(Value::from(v)),
        // serde-saphyr rejects an overflowing numeral (`1e999`) but keeps `-inf` a string.
        Ok(_) if unsigned.starts_with(|c: char| c.is_ascii_digit()) => None,
        Ok(_) | Err(_) => Some(Value::String(s.to_owned())),
    }
}

fn yaml11_bool(s: &str) -> Option<bool> {
    if s.len() > 5 {
        return None;
    }
    let t = |w: &str| s.eq_ignore_ascii_case(w);
    if t("true") || t("yes") || t("y") || t("on") {
        Some(true)
    } else if t("false") || t("no") || t("n") || t("off") {
        Some(false)
    } else {
        None
    }
}

/// An unsigned integer in YAML 1.1 spelling with legacy octal: `0x`/`0o`/`0b` prefixes, a
/// leading `0` for octal, `_` between digits (and right after a prefix).
fn parse_int(s: &str) -> Option<u128> {
    let (radix, digits) = if let Some(r) = s.strip_prefix("0x") {
        (16, r)
    } else if let Some(r) = s.strip_prefix("0o") {
        (8, r)
    } else if let Some(r) = s.strip_prefix("0b") {
        (2, r)
    } else if s == "0" {
        return Some(0);
    } else if let Some(r) = s.strip_prefix('0') {
        (8, r)
    } else {
        (10, s)
    };
    let digits = if radix == 10 {
        digits
    } else {
        digits.strip_prefix('_').unwrap_or(digits)
    };
    let bytes = digits.as_bytes();
    let mut value: u128 = 0;
    let mut seen = false;
    for (i, &c) in bytes.iter().enumerate() {
        if c == b'_' {
            if i == 0 || i + 1 == bytes.len() || bytes[i - 1] == b'_' || bytes[i + 1] == b'_' {
                return None;
            }
            continue;
        }
        let d = (c as char).to_digit(radix)?;
        value = value
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(d))?;
        seen = true;
    }
    seen.then_some(value)
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::yaml::{content_line, parse_with_saphyr, split};

    /// Parses `text` both ways. If the fast path accepts it, its value must be serde-saphyr's,
    /// key order and number types included (`Value`'s `==` ignores key order, the serialized
    /// text does not). Returns whether the fast path accepted it.
    fn differential(text: &str) -> bool {
        let Some(fast) = parse(text) else {
            return false;
        };
        let slow = parse_with_saphyr(text).unwrap_or_else(|e| {
            panic!("fast path accepted a document serde-saphyr rejects ({e:?}):\n{text}")
        });
        assert_eq!(
            serde_json::to_string(&fast).unwrap(),
            serde_json::to_string(&slow).unwrap(),
            "fast path differs on:\n{text}"
        );
        assert_eq!(fast, slow, "{text}");
        true
    }

    #[track_caller]
    fn accepted(text: &str) {
        assert!(differential(text), "fast path declined:\n{text}");
    }

    #[track_caller]
    fn declined(text: &str) {
        assert!(parse(text).is_none(), "fast path accepted:\n{text}");
        differential(text);
    }

    /// Plain scalars in every position they take: mapping value, sequence item, flow item and
    /// flow mapping value. Ones serde-saphyr rejects or the fast path declines are compared
    /// too (declining is fine; a different value is not).
    const PLAIN: &[&str] = &[
        "~",
        "null",
        "Null",
        "NULL",
        "nUll",
        "y",
        "Y",
        "yes",
        "Yes",
        "YES",
        "yEs",
        "n",
        "N",
        "no",
        "No",
        "NO",
        "true",
        "True",
        "TRUE",
        "tRue",
        "false",
        "False",
        "FALSE",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
        "0",
        "-0",
        "+0",
        "1",
        "+1",
        "-1",
        "42",
        "0755",
        "-0755",
        "+0755",
        "0_755",
        "08",
        "09",
        "0o17",
        "0O17",
        "-0o17",
        "0x1F",
        "0X1F",
        "0xff",
        "-0x10",
        "+0x10",
        "0b101",
        "0B101",
        "0b",
        "0x",
        "0x_1F",
        "0o_7",
        "1_000",
        "1__0",
        "_1",
        "1_",
        "0_",
        "00",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "-0x8000000000000000",
        "340282366920938463463374607431768211456",
        "1.5",
        "-1.5",
        "+1.5",
        "1.",
        ".5",
        "-.5",
        "1e3",
        "1E3",
        "1e+3",
        "1e-3",
        "1.5e10",
        "0.0",
        "-0.0",
        "0e5",
        "0.5",
        "1_000.5",
        "1e999",
        "-1e999",
        ".inf",
        "-.inf",
        "+.inf",
        ".Inf",
        ".INF",
        ".nan",
        ".NaN",
        ".NAN",
        "+.nan",
        "-.nan",
        ".iNf",
        "inf",
        "nan",
        "NaN",
        "Infinity",
        "-inf",
        "+",
        "-x",
        ".",
        "..",
        "1.2.3",
        "2024-01-01",
        "2001-12-14t21:59:43.10-05:00",
        "12:30",
        "1:30:00",
        "=",
        "<<",
        "a",
        "hello world",
        "a  b",
        "a#b",
        "a:b",
        "http://example.com:8080/x?y=z#frag",
        "25%",
        "100m",
        "64Mi",
        "--port=8080",
        "-foo",
        "café",
        "日本語",
        "😀",
        "a'b",
        "a\"b",
        "a[0]",
        "a{b}",
        "a,b",
        "key=value",
        "/healthz",
        "a*b",
        "a&b",
        "a!b",
        "a|b",
        "a>b",
        "a%b",
        "a@b",
        "a\u{3000}",
        "\u{3000}a",
        "a\u{2003}b",
        "a\u{a0}",
        "a\u{85}b",
        "a\u{2028}b",
        "a\u{feff}b",
        "a\u{200b}",
    ];

    /// Quoted scalars (as written in YAML).
    const QUOTED: &[&str] = &[
        "'yes'",
        "\"yes\"",
        "'0755'",
        "\"0755\"",
        "'~'",
        "'null'",
        "\"a: b\"",
        "'a: b'",
        "'it''s'",
        "''''",
        "\"\\u00e9\\n\"",
        "''",
        "\"\"",
        "' a '",
        "\"\\t\\\"\\\\\\/\"",
        "\"\\x41\\x7f\\xe9\"",
        "\"\\U0001F600\"",
        "\"\\N\\_\\L\\P\"",
        "\"\\0\\a\\b\\v\\f\\e\\r\"",
        "\"\\ \"",
        "\"tab\there\"",
        "'tab\there'",
        "'#not a comment'",
        "\"a # b\"",
        "'a\\n'",
        "\"\\ud83d\\ude00\"",
        "\"\\q\"",
        "\"\\u12\"",
        "\"\\x4\"",
        "'日本'",
        "\"\\\\\"",
        "\"a'b\"",
        "'a\"b'",
        "\"1.5\"",
        "'-1'",
    ];

    #[test]
    fn plain_scalars_read_as_serde_saphyr_reads_them() {
        let mut fell_back = Vec::new();
        for s in PLAIN {
            for text in [
                format!("a: {s}\n"),
                format!("- {s}\n"),
                format!("a: {s} # c\n"),
                format!("a: [{s}]\n"),
                format!("a: {{k: {s}}}\n"),
                format!("- [x, {s}, y]\n"),
            ] {
                if !differential(&text) {
                    fell_back.push(text);
                }
            }
        }
        // Everything an ordinary manifest holds must stay on the fast path.
        for s in [
            "~",
            "null",
            "yes",
            "No",
            "ON",
            "0",
            "-1",
            "0755",
            "0x1F",
            "0o17",
            "0b101",
            "1_000",
            "1.5",
            "-1.5",
            ".5",
            "1e3",
            "08",
            "2024-01-01",
            "1.2.3",
            "hello world",
            "a#b",
            "http://example.com:8080/x?y=z#frag",
            "25%",
            "100m",
            "--port=8080",
            "café",
            "18446744073709551616",
            "inf",
            "12:30",
            "<<",
        ] {
            accepted(&format!("a: {s}\n"));
            accepted(&format!("- {s}\n"));
        }
        // goyaml.v2 reads these otherwise (`0X1F` is 31, `.nan` not-a-number, `tRue` text):
        // declined, and refused by `go::check` whichever reader is on.
        for s in [
            ".inf", "-.inf", ".nan", "1e999", "0X1F", "tRue", "1__0", "08_",
        ] {
            declined(&format!("a: {s}\n"));
        }
        eprintln!("declined {} plain-scalar documents", fell_back.len());
    }

    /// The Go check refuses exactly the plain scalars whose serde-saphyr reading is not
    /// goyaml.v2's: every scalar the fast reader takes passes it, and every document it passes
    /// reads (through serde-saphyr) as goyaml.v2 reads it.
    #[test]
    fn plain_scalars_pass_the_go_check_exactly_when_readers_agree() {
        use crate::yaml::go;
        for s in PLAIN {
            for (text, key) in [
                (format!("a: {s}\n"), false),
                (format!("- [x, {s}]\n"), false),
                (format!("{s}: x\n"), true),
            ] {
                let check = go::check(&text);
                if parse(&text).is_some() {
                    assert_eq!(
                        check,
                        Ok(()),
                        "fast path took what the Go check refuses: {text}"
                    );
                }
                let Ok(()) = check else { continue };
                let Ok(value) = parse_with_saphyr(&text) else {
                    continue;
                };
                if key {
                    let Some(map) = value.as_object() else {
                        continue;
                    };
                    let k = map.keys().next().map(String::as_str);
                    assert!(go::key_agrees(s) || *s == "<<", "{text}: {k:?}");
                    if *s != "<<" {
                        assert_eq!(k, Some(*s), "{text}");
                    }
                } else {
                    let v = match value.get(0).and_then(|v| v.as_array()) {
                        Some(items) if items.len() == 2 => items.get(1),
                        Some(_) => continue, // the scalar holds a `,`
                        None => value.get("a"),
                    };
                    assert!(go::agrees(s, v), "{text}: {v:?}");
                }
            }
        }
    }

    #[test]
    fn quoted_scalars_read_as_serde_saphyr_reads_them() {
        for q in QUOTED {
            for text in [
                format!("a: {q}\n"),
                format!("- {q}\n"),
                format!("a: {q} # c\n"),
                format!("a: [{q}, x]\n"),
                format!("a: {{k: {q}}}\n"),
                format!("{q}: v\n"),
                format!("- {q}: v\n  b: 1\n"),
                format!("a: {{{q}: v}}\n"),
            ] {
                differential(&text);
            }
        }
        for q in [
            "'yes'",
            "\"yes\"",
            "'0755'",
            "\"a: b\"",
            "'it''s'",
            "\"\\u00e9\\n\"",
            "''",
            "\"\"",
            "\"\\t\\\"\\\\\\/\"",
            "\"\\U0001F600\"",
            "\"tab\there\"",
            "'#not a comment'",
        ] {
            accepted(&format!("a: {q}\n"));
            accepted(&format!("{q}: v\n"));
            accepted(&format!("a: [{q}, x]\n"));
        }
        // Escapes that pair surrogates or are malformed are serde-saphyr's to judge.
        declined("a: \"\\ud83d\\ude00\"\n");
        declined("a: \"\\q\"\n");
        declined("a: \"multi\n  line\"\n");
        declined("a: 'multi\n  line'\n");
        declined("a: \"continued \\\n  line\"\n");
        declined("a: 'x' y\n");
        declined("a: \"x\"#c\n");
    }

    #[test]
    fn block_structure() {
        for text in [
            "a: 1\nb: 2\n",
            "a:\n  b:\n    c: d\n  e: f\n",
            "items:\n- a\n- b\nnext: 1\n",
            "items:\n  - a\n  - b\n",
            "- name: x\n  value: 1\n- name: y\n  valueFrom:\n    fieldRef:\n      fieldPath: f\n",
            "- - a\n  - b\n- - c\n",
            "-   a: 1\n    b: 2\n",
            "- a:\n  - x\n  b: 1\n",
            "- a:\n- x\n",
            "a:\n-\n- x\n-\n",
            "a:\nb:\n",
            "a:   \nb: ~\n",
            "a: []\nb: {}\nc: [ ]\nd: { }\n",
            "a: [1, two, 'three', \"four\", 5.0, yes]\n",
            "ports: [{name: http, port: 8080}, {name: https, port: 8443}]\n",
            "a: {b: [1, 2], c: {d: e}}\n",
            "a: [[1, 2], [], {}]\n",
            "a: [1, [2, [3]]]\n",
            "a: {b: {c: [d]}}\n",
            "app.kubernetes.io/name: x\nexample.com/a_b-c: y\n",
            "k e y: v\n",
            "key : v\n",
            "\"quoted key\": 1\n'single': 2\n",
            "# head\n\na: 1 # trailing\n  # indented comment\n\nb: # on key\n  c: 1\n# end\n",
            "---\na: 1\n",
            "--- # comment\na: 1\n",
            "  a: 1\n  b:\n    - x\n",
            "a: b\n\n\n",
            "- # c\n  a: 1\n",
            "a: # c\n- x\n",
            "a: b",
            "- a\n- b",
            "ключ: значение\n日本: 語\n",
            "a: -\n",
            "a: b: c\n",
            "a:\n  b: 1\n c: 2\n",
            "- a\nb: 1\n",
            "a: 1\n  b: 2\n",
            "a:\n  - x\n  b: 1\n",
            "- a\n  - b\n",
            "- a: 1\n  - b\n",
            "a: [1, 2\n",
            "a: [1, 2,]\n",
            "a: [1,, 2]\n",
            "a: {b}\n",
            "a: {b: }\n",
            "a: [b: c]\n",
            "a: {b:c}\n",
            "a: [a]b\n",
            "[a, b]\n",
            "{a: b}\n",
            "plain\n",
            "a: 1\n...\n",
        ] {
            differential(text);
        }
        for text in [
            "a: 1\nb: 2\n",
            "a:\n  b:\n    c: d\n  e: f\n",
            "items:\n- a\n- b\nnext: 1\n",
            "- name: x\n  value: 1\n- name: y\n  valueFrom:\n    fieldRef:\n      fieldPath: f\n",
            "- - a\n  - b\n- - c\n",
            "- a:\n  - x\n  b: 1\n",
            "a:\n-\n- x\n-\n",
            "a:\nb:\n",
            "a: []\nb: {}\nc: [ ]\nd: { }\n",
            "ports: [{name: http, port: 8080}, {name: https, port: 8443}]\n",
            "a: {b: [1, 2], c: {d: e}}\n",
            "app.kubernetes.io/name: x\nexample.com/a_b-c: y\n",
            "# head\n\na: 1 # trailing\n  # indented comment\n\nb: # on key\n  c: 1\n# end\n",
            "---\na: 1\n",
            "--- # comment\na: 1\n",
            "a: b",
            "ключ: значение\n日本: 語\n",
        ] {
            accepted(text);
        }
    }

    /// Found by the fuzz target `yaml_fast_vs_saphyr`: a last line of only spaces, more than
    /// the block's indentation and without a line break, is text (`"x\n   \n"`); the fast
    /// reader dropped it.
    #[test]
    fn a_last_line_of_spaces_beyond_the_indentation_is_declined() {
        declined("a: |\n  x\n     ");
        declined("a: |-\n  x\n   ");
        declined("a: >\n  x\n     ");
        declined("a:\n  b: |\n    x\n       ");
        // Up to the indentation it is an empty line, which adds nothing.
        differential("a: |\n  x\n  ");
        differential("a: |\n  x\n ");
    }

    #[test]
    fn block_scalars() {
        let headers = ["|", "|-", "|+", ">", ">-", ">+", "| # c", ">- # c"];
        let bodies = [
            "  line\n",
            "  one\n  two\n",
            "  one\n\n  two\n",
            "  one\n\n\n  two\n",
            "  trailing blanks\n\n\n",
            "  trailing blank with spaces\n  \n \n",
            "\n  leading blank\n",
            "  \n  leading spaces line\n",
            "  # not a comment\n  x\n",
            "  a\n    more indented\n  b\n",
            "    deeper first\n  shallower\n",
            "  text  \n  with trailing spaces  \n",
            "  tab\tinside\n",
            "  \ttab first\n",
            "  x\n# comment\n",
            "  x\n\n# comment\n\n",
            "  x\n  \t\n",
            "  unicode é 😀\n",
            " one space\n",
            "  no newline at end",
            "",
            "  x\n   \n",
        ];
        for header in headers {
            for body in bodies {
                for text in [
                    format!("a: {header}\n{body}"),
                    format!("a: {header}\n{body}b: 1\n"),
                    format!("- {header}\n{body}- x\n"),
                    format!("k:\n- {header}\n{body}"),
                    format!("- k: {header}\n  {body}"),
                    format!(
                        "x:\n  a: {header}\n  {}\n  b: 1\n",
                        body.replace('\n', "\n  ")
                    ),
                ] {
                    differential(&text);
                }
            }
        }
        for text in [
            "a: |\n  one\n  two\n",
            "a: |-\n  one\n  two\n\n\nb: 1\n",
            "a: |+\n  one\n  two\n\n\nb: 1\n",
            "a: >\n  one\n  two\n\n  three\n",
            "a: >-\n  folded\n  text\n",
            "a: |\n  x\n\n\n",
            "a: |\n  \n  x\n",
            "- |\n  script\n  # shell comment\n- x\n",
            "k:\n- |\n  x\n",
            "data:\n  nginx.conf: |\n    server {\n      listen 80;\n    }\n  other: 1\n",
            "a: |\n  x\n# comment\nb: 1\n",
        ] {
            accepted(text);
        }
        for text in [
            "a: |2\n   x\n",
            "a: |\n  x",
            "a: |\nb: 1\n",
            "a: >\n  a\n    more\n  b\n",
            "a: |\n    \n  x\n",
            "a:  |\n  x\n   \n",
        ] {
            declined(text);
        }
    }

    #[test]
    fn unusual_characters_are_found_at_any_offset() {
        // The 16-byte fast path of `plain_chars` must not skip what the byte loop would see.
        let bad = [
            "\r", "\0", "\u{7f}", "\u{85}", "\u{a0}", "\u{2028}", "\u{feff}", "\u{fffe}",
        ];
        let good = ["\u{e9}", "\u{4e2d}", "\u{1f600}", "\t", "\n"];
        for at in 0..40 {
            let text = |c: &str| format!("{}{c}{}", "a".repeat(at), "b".repeat(40 - at));
            for c in bad {
                assert!(!super::plain_chars(text(c).as_bytes()), "{c:?} at {at}");
            }
            for c in good {
                assert!(super::plain_chars(text(c).as_bytes()), "{c:?} at {at}");
            }
        }
    }

    #[test]
    fn outside_the_subset_is_declined() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: *x\n",
            "&x a: 1\n",
            "a: !!str 1\n",
            "!tag\na: 1\n",
            "a: !foo bar\n",
            "base: &b {x: 1}\nd:\n  <<: *b\n",
            "<<: {x: 1}\n",
            "? a\n: b\n",
            "%YAML 1.1\n---\na: 1\n",
            "a:\n\tb: 1\n",
            "a:\t1\n",
            "a: 1\t\n",
            "a: 1\na: 2\n",
            "a: 1\n\"a\": 2\n",
            "a: {x: 1, x: 2}\n",
            "1: a\n",
            "yes: a\n",
            "null: a\n",
            "~: a\n",
            "1.5: a\n",
            "0X1F: a\n",
            "a: {1: x}\n",
            "a: {true: x}\n",
            "a: multi\n  line\n",
            "- multi\n  line\n",
            "a: 1\r\nb: 2\r\n",
            "a: \"x\u{0}\"\n",
            "\u{feff}a: 1\n",
            "a: b\u{85}c\n",
            "a: |1\n x\n",
            "a: >+2\n   x\n",
            "scalar\n",
            "[1, 2]\n",
            "a: `x`\n",
            "a: @x\n",
            "a: %x\n",
            "a:b: c\n",
            "a: 'x'  : y\n",
            "a: [x]: y\n",
            "--- a: 1\n",
            "---\n--- a\n",
        ] {
            declined(text);
        }
    }

    #[test]
    fn nesting_beyond_the_fast_depth_is_declined() {
        let mut deep = String::new();
        for i in 0..60 {
            deep.push_str(&" ".repeat(i));
            deep.push_str("k:\n");
        }
        deep.push_str(&" ".repeat(60));
        deep.push_str("k: v\n");
        declined(&deep);
        let shallow: String = (0..20)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .chain([format!("{}k: v\n", " ".repeat(20))])
            .collect();
        accepted(&shallow);
        let flow = format!("a: {}1{}\n", "[".repeat(60), "]".repeat(60));
        declined(&flow);
    }

    #[test]
    fn long_keys_and_values() {
        let long = "x".repeat(5000);
        accepted(&format!("a: {long}\n"));
        accepted(&format!("- {long}\n"));
        accepted(&format!("a: '{long}'\n"));
        accepted(&format!("a: [{long}, b]\n"));
        declined(&format!("{long}: v\n"));
        differential(&format!("a: {{{long}: v}}\n"));
    }

    /// Random documents built from YAML's structural pieces: whatever the fast path accepts
    /// must be read exactly as serde-saphyr reads it (most of these are invalid or odd YAML).
    #[test]
    fn random_documents() {
        const PIECES: &[&str] = &[
            "- ",
            "-",
            "a: ",
            "b:",
            "a:",
            "c: ",
            "\"k\": ",
            "'k': ",
            "\"x\"",
            "'y'",
            "'it''s'",
            "\"\\n\"",
            "[",
            "]",
            "{",
            "}",
            ", ",
            ",",
            "# c",
            " #c",
            "#",
            "|",
            "|-",
            "|+",
            ">",
            ">-",
            "1",
            "-1",
            "0755",
            "1.5",
            "yes",
            "~",
            "null",
            "k: v",
            "x y",
            ":",
            "? ",
            "&a ",
            "*a",
            "!t ",
            "\t",
            "0x1F",
            ".5",
            "é",
            " ",
            "  ",
            "---",
            "...",
            "<<: ",
            "1: ",
            "http://h:1/p",
            "a#b",
            "\"",
            "'",
            "{a: 1}",
            "[1, 2]",
            "[]",
            "{}",
            "text",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let (mut accepted, total) = (0usize, 30_000);
        for _ in 0..total {
            let mut text = String::new();
            for _ in 0..1 + next(8) {
                text.push_str(&" ".repeat(next(4) * 2));
                for _ in 0..1 + next(4) {
                    text.push_str(PIECES[next(PIECES.len())]);
                }
                text.push('\n');
            }
            if differential(&text) {
                accepted += 1;
            }
        }
        eprintln!("fast path accepted {accepted} of {total} random documents");
    }

    /// A tiny deterministic generator (xorshift), so the random tests need no dependency.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
            from[self.below(from.len())]
        }
    }

    const SCALARS: &[&str] = &[
        "x",
        "hello world",
        "1",
        "-2",
        "0755",
        "1.5",
        "1e3",
        "yes",
        "off",
        "~",
        "null",
        "'q'",
        "\"d\\tq\"",
        "'it''s'",
        "\"yes\"",
        "25%",
        "a#b",
        "http://h:80/p",
        "0x1F",
        "2024-01-01",
        "café",
        "--flag=1",
        "\"\"",
        "''",
        "[]",
        "{}",
        "[a, 1]",
        "{k: v, n: 2}",
    ];
    const KEYS: &[&str] = &[
        "a",
        "b",
        "name",
        "app.kubernetes.io/name",
        "\"quoted\"",
        "'single'",
        "k e y",
        "x-y_z",
    ];

    /// Writes a random node as the value of a `key:` or `-` at column `indent`.
    fn node(rng: &mut Rng, out: &mut String, indent: usize, depth: usize, in_map: bool) {
        let step = 1 + rng.below(4);
        let choice = if depth > 4 { 0 } else { rng.below(6) };
        let pad = |n: usize| " ".repeat(n);
        match choice {
            1 | 2 => {
                // Block mapping on the next lines.
                out.push_str(rng.pick(&["", " # c", "  "]));
                out.push('\n');
                let mut keys: Vec<&str> = Vec::new();
                for _ in 0..1 + rng.below(3) {
                    let key = rng.pick(KEYS);
                    if keys.contains(&key) {
                        continue;
                    }
                    keys.push(key);
                    if rng.below(8) == 0 {
                        out.push_str(&format!("{}# note\n\n", pad(rng.below(6))));
                    }
                    out.push_str(&format!("{}{key}:", pad(indent + step)));
                    node(rng, out, indent + step, depth + 1, true);
                }
            }
            3 => {
                // Block sequence, at the key's column (compact) or indented.
                out.push('\n');
                let col = if in_map && rng.below(2) == 0 {
                    indent
                } else {
                    indent + step
                };
                for _ in 0..1 + rng.below(3) {
                    out.push_str(&format!("{}-", pad(col)));
                    if rng.below(3) == 0 {
                        // Compact mapping in the item.
                        let gap = 1 + rng.below(2);
                        out.push_str(&format!("{}{}:", pad(gap), rng.pick(&["a", "name"])));
                        node(rng, out, col + 1 + gap, depth + 1, true);
                        if rng.below(2) == 0 {
                            out.push_str(&format!("{}b:", pad(col + 1 + gap)));
                            node(rng, out, col + 1 + gap, depth + 1, true);
                        }
                    } else {
                        node(rng, out, col, depth + 1, false);
                    }
                }
            }
            4 => {
                // Block scalar.
                out.push(' ');
                out.push_str(rng.pick(&["|", "|-", "|+", ">", ">-", ">+", "| # c"]));
                out.push('\n');
                let body = indent + step;
                for _ in 0..1 + rng.below(4) {
                    match rng.below(5) {
                        0 => out.push('\n'),
                        1 => out.push_str(&format!("{}  more\n", pad(body))),
                        _ => out.push_str(&format!("{}{}\n", pad(body), rng.pick(SCALARS))),
                    }
                }
            }
            _ => {
                if rng.below(10) > 0 {
                    out.push(' ');
                    out.push_str(rng.pick(SCALARS));
                }
                out.push_str(rng.pick(&["", "", " # c", " "]));
                out.push('\n');
            }
        }
    }

    /// Random manifests of the kind the fast path is for, some then damaged by one edit:
    /// whatever the fast path accepts must be read exactly as serde-saphyr reads it.
    #[test]
    fn random_manifests() {
        // NIXERNETES_RANDOM_SEED and NIXERNETES_RANDOM_CASES widen the search by hand.
        let env = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let mut rng = Rng(env("NIXERNETES_RANDOM_SEED", 0x2545_f491_4f6c_dd1d).max(1));
        let (mut accepted, total) = (0usize, env("NIXERNETES_RANDOM_CASES", 20_000) as usize);
        for i in 0..total {
            let mut text = String::new();
            if rng.below(4) == 0 {
                text.push_str("---\n");
            }
            text.push_str("root:");
            node(&mut rng, &mut text, 0, 0, true);
            text.push_str("last: 1\n");
            if i % 2 == 1 && !text.is_empty() {
                // One random edit: delete a byte, or insert a space, dash, colon or tab.
                let mut at = rng.below(text.len());
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                match rng.below(5) {
                    0 => {
                        text.remove(at);
                    }
                    k => text.insert(at, [' ', '-', ':', '\t'][k - 1]),
                }
            }
            if differential(&text) {
                accepted += 1;
            }
        }
        eprintln!("fast path accepted {accepted} of {total} random manifests");
        assert!(
            accepted > total / 3,
            "fast path accepted only {accepted} of {total}"
        );
    }

    /// Every document of every YAML file in the repository: the fast path either declines it
    /// or reads it exactly as serde-saphyr does.
    #[test]
    fn repository_yaml_files() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["examples", "tests", "krm"] {
            collect_yaml(&root.join(dir), &mut files);
        }
        assert!(
            !files.is_empty(),
            "no YAML files found under {}",
            root.display()
        );
        let (mut accepted, mut total) = (0usize, 0usize);
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue; // not UTF-8: not ours to judge here
            };
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            for chunk in split(text) {
                if content_line(chunk.text).is_none() {
                    continue;
                }
                total += 1;
                if differential(chunk.text) {
                    accepted += 1;
                } else {
                    eprintln!("declined: {} line {}", file.display(), chunk.first_line + 1);
                }
            }
        }
        eprintln!(
            "fast path accepted {accepted} of {total} documents in {} files",
            files.len()
        );
        assert!(
            accepted > total / 2,
            "fast path accepted only {accepted} of {total}"
        );
    }

    fn collect_yaml(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect_yaml(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }

    /// The benchmark's plain manifests (`benches/measure.py gen-apps`) must all take the fast
    /// path. Set `NIXERNETES_FAST_PATH_APPS` for a larger run (e.g. 1000); skipped, loudly,
    /// when python3 is missing.
    #[test]
    fn generated_manifests_take_the_fast_path() {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/measure.py");
        let apps = std::env::var("NIXERNETES_FAST_PATH_APPS").unwrap_or_else(|_| "10".into());
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("python3")
            .args([script, "gen-apps", &apps])
            .arg(dir.path())
            .arg("--single-file")
            .status();
        let Ok(status) = status else {
            eprintln!("SKIPPED: python3 not found");
            return;
        };
        assert!(status.success(), "{script} failed");
        let mut total = 0;
        for name in ["apps.yaml", "kustomization.yaml"] {
            let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
            for chunk in split(&text) {
                total += 1;
                assert!(
                    differential(chunk.text),
                    "fast path declined a generated document:\n{}",
                    chunk.text
                );
            }
        }
        let apps: usize = apps.parse().unwrap();
        assert_eq!(total, apps * 5 + 1);

        // Both readers over the same documents, for the record (meaningful with --release).
        let text = std::fs::read_to_string(dir.path().join("apps.yaml")).unwrap();
        let chunks: Vec<&str> = split(&text).iter().map(|c| c.text).collect();
        let time = |read: &dyn Fn(&str) -> bool| {
            let start = std::time::Instant::now();
            assert!(chunks.iter().all(|c| read(c)));
            start.elapsed()
        };
        let fast = time(&|c| parse(c).is_some());
        let slow = time(&|c| parse_with_saphyr(c).is_ok());
        eprintln!(
            "{} documents: fast path {fast:.2?}, serde-saphyr {slow:.2?} ({:.1}x)",
            chunks.len(),
            slow.as_secs_f64() / fast.as_secs_f64()
        );
    }
}
