//! The only place that reads or writes YAML.
//!
//! Reading follows what Go readers of Kubernetes YAML (kubectl, kustomize, Argo CD: all built on
//! YAML 1.1 `goyaml.v2`) make of the same text: `yes`/`on`/`y` are booleans, `0755` is octal,
//! `1_000` is 1000, timestamps stay strings. Where goyaml.v2 and serde-saphyr (YAML 1.2) read a
//! plain scalar differently (`0X1f`, `1__0`, mixed-case booleans, the keys `on:` and `0755:`,
//! which kubectl makes `"true"` and `"493"`, a flow scalar such as `001:db8::` that a `:` and a
//! flow indicator end, `.inf`), the document is refused at that scalar with the reason and the
//! fix (`go`), whichever reader is on; never read as one reader reads it. So are carriage
//! returns without a line feed, which kubectl does not split documents at. Writing quotes every
//! string such a reader would take for something else. Each document is parsed on its own so that errors carry the line of the
//! file, not of the document, and so that one document's budget cannot starve another's.
//! Documents in the plain subset manifests are written in are read by `fast`, several times
//! quicker; it yields exactly serde-saphyr's value or declines, and serde-saphyr reads (and
//! reports errors for) everything it declines. `NIXERNETES_YAML_FAST=0` turns the fast reader
//! off ([`fast_reader`]): every document then goes to serde-saphyr, with the same result.
//! This module knows nothing about Kubernetes objects; it deals in `serde_json::Value`.

mod emit;
mod fast;
mod go;
pub mod list;
pub mod locate;
pub mod skim;

use serde_json::Value;

/// Most scalar text one document may hold. The API server refuses objects over about 1.5 MiB,
/// so anything near this limit is a mistake or an attack, not a manifest.
pub const MAX_DOCUMENT_SCALAR_BYTES: usize = 8 * 1024 * 1024;

/// Deepest nesting accepted in one document (Kubernetes objects, CRDs included, stay far below).
pub const MAX_DEPTH: usize = 100;

/// One document of a YAML stream, as parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The parsed value (never `null`: empty documents are left out).
    pub value: Value,
    /// Position among the non-empty documents of the stream, from 0.
    pub index: usize,
    /// 1-based line of the document's first content line.
    pub line: usize,
}

/// A YAML syntax or budget error, located in the stream.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    /// 1-based line in the whole stream.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// Position of the document among the non-empty documents of the stream.
    pub index: usize,
    /// What went wrong, without location.
    pub message: String,
}

/// Most values a document's aliases may replay (serde-saphyr's default is ten times more). No
/// Kubernetes object expands anchors to anything near it, and an alias bomb is refused when it
/// reaches it: each replayed value costs, and a million of them took half a second (fuzz target
/// yaml_stream, whose instrumented build took 12 s).
pub const MAX_ALIAS_REPLAY: usize = 100_000;
const _: () = assert!(MAX_ALIAS_REPLAY == 100_000, "`describe` writes it out");

fn options(scalar_bytes: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    // One document of a large render (a `List` of thousands of objects) needs far more than the
    // defaults; scalar bytes and depth stay tight, since no valid manifest needs more.
    budget.max_events = 50_000_000;
    budget.max_nodes = 20_000_000;
    budget.max_total_scalar_bytes = scalar_bytes;
    budget.max_depth = MAX_DEPTH;
    budget.max_reader_input_bytes = None;
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget);
    opts.legacy_octal_numbers = true;
    opts.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    opts.alias_limits.max_total_replayed_events = MAX_ALIAS_REPLAY;
    opts.with_snippet = false;
    // Values never carry comments: with comment events on, the parser buffers the comments it
    // passes while looking ahead for a key's `:` and refuses valid YAML past 96 of them ("too
    // many buffered comments while looking ahead": a commented-out block between a key and its
    // value, found by the fuzz target yaml_fast_vs_saphyr).
    opts.emit_comments = false;
    opts
}

/// The event parser's options for the readers that walk events themselves (the Go-reader
/// check, field lines): no comment events, for the reason [`options`] gives.
pub(crate) fn event_options() -> granit_parser::Options {
    let mut o = granit_parser::Options::default();
    o.set_emit_comments(false);
    o
}

/// The environment variable that turns the fast reader off (`0`) or keeps it on (`1`, the
/// default).
pub const FAST_SWITCH: &str = "NIXERNETES_YAML_FAST";

/// Whether documents may be read by the fast reader (`fast`) and by the field-line readers that
/// follow its rules ([`skim::Skim`], [`locate::Outline::from_fast`]): yes unless
/// `NIXERNETES_YAML_FAST=0`. Read once per process. With it off, every document is read by
/// serde-saphyr and every field line by the event parser, which gives the same output more
/// slowly (a test compares both over every sample file): it rules the fast reader out when a
/// reading looks wrong, and measures what the fast reader gains. A value other than `0`, `1` or
/// empty is an error the CLI reports before doing anything; the library then keeps the reader on.
pub fn fast_reader() -> Result<bool, String> {
    static SWITCH: std::sync::OnceLock<Result<bool, String>> = std::sync::OnceLock::new();
    SWITCH
        .get_or_init(|| fast_switch(std::env::var_os(FAST_SWITCH).as_deref()))
        .clone()
}

/// Whether the fast reader is on, an invalid switch counting as on (the default).
pub(crate) fn fast_on() -> bool {
    fast_reader().unwrap_or(true)
}

/// Reads the switch's value (`None` when unset).
fn fast_switch(value: Option<&std::ffi::OsStr>) -> Result<bool, String> {
    match value.map(|v| v.to_str()) {
        None | Some(Some("" | "1")) => Ok(true),
        Some(Some("0")) => Ok(false),
        Some(v) => Err(format!(
            "{FAST_SWITCH} is {}: set it to 0 to read YAML without the fast reader, or to 1 (the default) to use it",
            match v {
                Some(v) => format!("{v:?}"),
                None => "not UTF-8".to_string(),
            }
        )),
    }
}

/// A document chunk of the stream: its text and the 0-based line it starts on.
struct Chunk<'a> {
    text: &'a str,
    first_line: usize,
}

/// Whether `line` is a document marker (`---` or `...` at column 0, then blank or end).
fn marker(line: &str, m: &str) -> bool {
    line.strip_prefix(m)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Splits a stream at document markers. YAML forbids `---`/`...` at column 0 inside any node,
/// so a line scan finds exactly the boundaries a parser would.
fn split(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut start_line = 0usize;
    let mut offset = 0usize;
    for (line_no, line) in lines_inclusive(text).enumerate() {
        if marker(line, "---") && offset > start {
            chunks.push(Chunk {
                text: &text[start..offset],
                first_line: start_line,
            });
            start = offset;
            start_line = line_no;
        } else if marker(line, "...") {
            chunks.push(Chunk {
                text: &text[start..offset],
                first_line: start_line,
            });
            start = offset + line.len();
            start_line = line_no + 1;
        }
        offset += line.len();
    }
    if start < text.len() {
        chunks.push(Chunk {
            text: &text[start..],
            first_line: start_line,
        });
    }
    chunks
}

/// The lines of `text`, each with its line feed (as `split_inclusive('\n')`, by a byte search:
/// a line feed never occurs inside a multi-byte character).
fn lines_inclusive(text: &str) -> impl Iterator<Item = &str> {
    let mut feeds = memchr::memchr_iter(b'\n', text.as_bytes());
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let end = feeds.next().map_or(text.len(), |i| i + 1);
        let line = &text[start..end];
        start = end;
        Some(line)
    })
}

/// 0-based line (within the chunk) of the first line that carries content.
fn content_line(chunk: &str) -> Option<usize> {
    chunk.lines().enumerate().find_map(|(i, l)| {
        let t = l.trim_start_matches('\u{feff}').trim();
        let bare_marker = t == "---" || t.starts_with("--- #");
        (!t.is_empty() && !t.starts_with('#') && !t.starts_with('%') && !bare_marker).then_some(i)
    })
}

/// Parses a multi-document YAML (or JSON) stream. Empty and `null` documents are skipped.
pub fn parse_stream(text: &str) -> Result<Vec<Document>, YamlError> {
    parse_stream_within(text, MAX_DOCUMENT_SCALAR_BYTES)
}

/// [`parse_stream`] with a scalar budget of `scalar_bytes` per document.
fn parse_stream_within(text: &str, scalar_bytes: usize) -> Result<Vec<Document>, YamlError> {
    documents_within(text, scalar_bytes)?.collect()
}

/// The documents of a stream as [`parse_stream`] reads them, one at a time, so that a caller
/// that makes something else of each (objects) never holds them all as a list beside what it
/// makes. Its `size_hint` bounds how many are left (the chunks between markers), for the caller
/// to size its own list. After an error it yields nothing more.
pub fn documents(text: &str) -> Result<Documents<'_>, YamlError> {
    documents_within(text, MAX_DOCUMENT_SCALAR_BYTES)
}

fn documents_within(text: &str, scalar_bytes: usize) -> Result<Documents<'_>, YamlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    bare_carriage_return(text)?;
    Ok(Documents {
        chunks: split(text).into_iter(),
        scalar_bytes,
        index: 0,
    })
}

/// The iterator of [`documents`].
pub struct Documents<'a> {
    chunks: std::vec::IntoIter<Chunk<'a>>,
    scalar_bytes: usize,
    /// Of the next document (empty ones are not counted).
    index: usize,
}

impl Iterator for Documents<'_> {
    type Item = Result<Document, YamlError>;

    fn next(&mut self) -> Option<Self::Item> {
        for chunk in self.chunks.by_ref() {
            let Some(rel) = content_line(chunk.text) else {
                continue;
            };
            let index = self.index;
            let value = match parse_chunk_within(chunk.text, self.scalar_bytes) {
                Ok(value) => value,
                Err((line, column, message)) => {
                    self.chunks = Vec::new().into_iter();
                    return Some(Err(YamlError {
                        line: chunk.first_line + line.max(1),
                        column,
                        index,
                        message,
                    }));
                }
            };
            if value.is_null() {
                continue;
            }
            self.index += 1;
            return Some(Ok(Document {
                value,
                index,
                line: chunk.first_line + rel + 1,
            }));
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.chunks.len()))
    }
}

/// Refuses a carriage return that no line feed follows (classic Mac line endings): YAML reads it
/// as a line break, but kubectl splits documents at line feeds only and so reads just the
/// first document of such a file, and the lines we report would not be the editor's.
fn bare_carriage_return(text: &str) -> Result<(), YamlError> {
    let b = text.as_bytes();
    let Some(at) = memchr::memchr_iter(b'\r', b).find(|&i| b.get(i + 1) != Some(&b'\n')) else {
        return Ok(());
    };
    let line = 1 + memchr::memchr_iter(b'\n', &b[..at]).count();
    let line_start = memchr::memrchr(b'\n', &b[..at]).map_or(0, |i| i + 1);
    Err(YamlError {
        line,
        column: text[line_start..at].chars().count() + 1,
        index: 0,
        message: "a carriage return without a line feed (old Mac line endings): kubectl reads only the first document of such a file; convert the line endings to \\n (or \\r\\n), e.g. with `sed -i 's/\\r/\\n/g'`".into(),
    })
}

/// Parses one document; on error returns (1-based line in the chunk, column, message).
///
/// Plain manifests take the fast path (`fast`), several times quicker than serde-saphyr and
/// built at their final size; everything else, errors included, is serde-saphyr's (all of it
/// with `NIXERNETES_YAML_FAST=0`).
/// `scalar_bytes` is the document's scalar budget ([`MAX_DOCUMENT_SCALAR_BYTES`] but for a
/// ResourceList, [`parse_list`]).
fn parse_chunk_within(text: &str, scalar_bytes: usize) -> Result<Value, (usize, usize, String)> {
    if fast_on() {
        if let Some(value) = fast::parse_within(text, scalar_bytes) {
            return Ok(value);
        }
    }
    go::check(text)?;
    let mut value = parse_with_saphyr_within(text, scalar_bytes)?;
    crate::resource::compact(&mut value);
    Ok(value)
}

/// Parses one document with serde-saphyr: the reference reading of every document.
fn parse_with_saphyr(text: &str) -> Result<Value, (usize, usize, String)> {
    parse_with_saphyr_within(text, MAX_DOCUMENT_SCALAR_BYTES)
}

/// [`parse_with_saphyr`] with a scalar budget of `scalar_bytes`.
fn parse_with_saphyr_within(
    text: &str,
    scalar_bytes: usize,
) -> Result<Value, (usize, usize, String)> {
    let mut values: Vec<Value> =
        serde_saphyr::from_str_multiple_with_options(text, options(scalar_bytes)).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line() as usize, l.column() as usize))
                .unwrap_or((1, 0));
            let message = describe(&e);
            let (line, column) = if message.contains("tab") {
                tab_at(text, line).unwrap_or((line, column))
            } else {
                (line, column)
            };
            (line, column, message)
        })?;
    Ok(match values.len() {
        0 => Value::Null,
        1 => values.pop().unwrap_or(Value::Null),
        _ => return Err((1, 0, "more than one document in a chunk".into())),
    })
}

/// The line and column of the first tab in indentation at or after `line` (the parser reports
/// a tab error at the start of the token before it, often the line above).
fn tab_at(text: &str, line: usize) -> Option<(usize, usize)> {
    text.lines()
        .enumerate()
        .skip(line.saturating_sub(1))
        .find_map(|(i, l)| {
            let blank = l.len() - l.trim_start_matches([' ', '\t']).len();
            l[..blank].find('\t').map(|c| (i + 1, c + 1))
        })
}

/// A budget breach in plain words: which limit, and what to do.
fn describe_budget(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    let mib = MAX_DOCUMENT_SCALAR_BYTES / (1024 * 1024);
    let split = "split it into several documents (`---`) or files";
    match breach {
        B::ScalarBytes { .. } => format!(
            "the document holds more than {mib} MiB of text (the API server refuses objects over about 1.5 MiB): {split}, or keep large data out of the manifest"
        ),
        B::Depth { .. } => format!(
            "the document nests more than {MAX_DEPTH} levels deep (no Kubernetes object does): check its indentation and brackets"
        ),
        B::Events { .. } | B::Nodes { .. } => format!(
            "the document holds too many values for one document: {split}"
        ),
        B::Aliases { .. }
        | B::Anchors { .. }
        | B::AliasAnchorRatio { .. }
        | B::MergeKeys { .. }
        | B::RecordedAnchorEvents { .. }
        | B::RecordedAnchorBytes { .. } => "the document uses too many anchors, aliases (`*name`) or merge keys (`<<`), the shape of an alias bomb: write the values out instead".into(),
        _ => format!("the document is too large to read: {split}"),
    }
}

/// The parser's message without its own location suffix (we print locations ourselves).
fn describe(e: &serde_saphyr::Error) -> String {
    let mut inner = e;
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = inner
    {
        inner = error;
    }
    if let serde_saphyr::Error::Budget { breach, .. } = inner {
        return describe_budget(breach);
    }
    if let serde_saphyr::Error::AliasReplayLimitExceeded { .. } = inner {
        return "the document's aliases (`*name`) expand to too many values, the shape of an alias bomb: write the values out instead".into();
    }
    let text = e.without_snippet().to_string();
    let text = match text.find(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let first = text.lines().next().unwrap_or("invalid YAML").trim();
    // Advice addressed to programs using the parser, not to people writing YAML.
    let first = first
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or(first);
    let lower = first.to_ascii_lowercase();
    if lower.contains("recursion limit") {
        return describe_budget(&serde_saphyr::budget::BudgetBreach::Depth { depth: 0 });
    }
    if let Some(key) = first.strip_prefix("duplicate mapping key: ") {
        // Quoted: the key is the user's text, whatever it holds (`a::b`, spaces).
        format!(
            "duplicate mapping key {key:?} (kubectl would silently keep the last one and drop the others; refused here so that nothing you wrote is lost: keep one)"
        )
    } else if lower.starts_with("duplicate mapping key") {
        format!(
            "{first} (kubectl would silently keep the last one and drop the others; refused here so that nothing you wrote is lost: keep one)"
        )
    } else if lower.contains("cannot deserialize null into string") {
        "a null key (`~`, `null` or nothing before the `:`): kubectl refuses it; quote it ('~') if you mean the text".into()
    } else if lower.contains("budget") || lower.contains("limit") || lower.contains("exceeded") {
        format!(
            "{first} (a document may hold at most {} MiB of text, {MAX_DEPTH} levels of nesting and 100,000 values replayed from aliases)",
            MAX_DOCUMENT_SCALAR_BYTES / (1024 * 1024)
        )
    } else {
        first.to_string()
    }
}

/// Entry points for the fuzz targets under `fuzz/` (README "Fuzzing"), not an API: they expose
/// the two readers of one document chunk so that a target can compare them.
#[doc(hidden)]
pub mod fuzzing {
    use serde_json::Value;

    /// The document chunks [`super::parse_stream`] reads one at a time (after its BOM and
    /// carriage-return checks).
    pub fn chunks(text: &str) -> Vec<&str> {
        super::split(text).into_iter().map(|c| c.text).collect()
    }

    /// The fast reader's value of one chunk; `None` when it declines.
    pub fn fast(chunk: &str) -> Option<Value> {
        super::fast::parse(chunk)
    }

    /// One chunk as read with the fast reader off (`NIXERNETES_YAML_FAST=0`): the Go-reader
    /// check, then serde-saphyr. The error is its line, column and message.
    pub fn reference(chunk: &str) -> Result<Value, (usize, usize, String)> {
        super::go::check(chunk)?;
        let mut value = super::parse_with_saphyr(chunk)?;
        crate::resource::compact(&mut value);
        Ok(value)
    }
}

/// Parses exactly one YAML value (e.g. a plugin config file); `null` when empty.
pub fn parse_one(text: &str) -> Result<Value, YamlError> {
    one(parse_stream(text)?)
}

/// Parses exactly one YAML value that holds many objects, a KRM `ResourceList`: the scalar budget
/// is the whole text (which is already in memory), not [`MAX_DOCUMENT_SCALAR_BYTES`], since every
/// object of the run is in this one document. The caller holds each object to that budget
/// ([`over_budget`]).
pub fn parse_list(text: &str) -> Result<Value, YamlError> {
    one(parse_stream_within(
        text,
        text.len().max(MAX_DOCUMENT_SCALAR_BYTES),
    )?)
}

/// Whether an object holds more scalar text (keys and strings) than one document may
/// ([`MAX_DOCUMENT_SCALAR_BYTES`]); stops counting as soon as it does.
pub fn over_budget(object: &serde_json::Map<String, Value>) -> bool {
    /// Takes `n` bytes from what is left; `true` once there is not enough.
    fn take(left: &mut usize, n: usize) -> bool {
        match left.checked_sub(n) {
            Some(l) => {
                *left = l;
                false
            }
            None => true,
        }
    }
    fn over(v: &Value, left: &mut usize) -> bool {
        match v {
            Value::String(s) => take(left, s.len()),
            Value::Array(a) => a.iter().any(|v| over(v, left)),
            Value::Object(m) => m.iter().any(|(k, v)| take(left, k.len()) || over(v, left)),
            // Numbers, booleans and nulls are short; each counts as a byte.
            _ => take(left, 1),
        }
    }
    let mut left = MAX_DOCUMENT_SCALAR_BYTES;
    object
        .iter()
        .any(|(k, v)| take(&mut left, k.len()) || over(v, &mut left))
}

/// The one document of `docs`, `null` for none.
fn one(mut docs: Vec<Document>) -> Result<Value, YamlError> {
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.remove(0).value),
        _ => Err(YamlError {
            line: docs[1].line,
            column: 0,
            index: 1,
            message: "expected one document, found several".into(),
        }),
    }
}

/// Writes one value as a YAML document (no `---`), ending in a newline.
///
/// The text is serde-saphyr's (`serde_saphyr::to_string`), byte for byte: `emit` writes the
/// documents it can, several times quicker, and hands every other one to serde-saphyr (all of
/// them with `NIXERNETES_YAML_FAST=0`, [`fast_reader`]).
pub fn to_string(value: &Value) -> String {
    thread_local! {
        static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    BUFFER.with(|buffer| match buffer.try_borrow_mut() {
        Ok(mut buffer) => {
            buffer.clear();
            write_document(value, &mut buffer);
            // Exactly as long as the text: callers keep it (`into_boxed_slice` does not copy).
            buffer.as_str().to_owned()
        }
        Err(_) => {
            let mut text = String::new();
            write_document(value, &mut text);
            text
        }
    })
}

/// Appends one value as a YAML document (no `---`, ending in a newline) to `out`: the text
/// [`to_string`] gives.
pub fn write_document(value: &Value, out: &mut String) {
    if !fast_on() || emit::emit(value, out).is_none() {
        // Serializing a `serde_json::Value` cannot fail: keys are strings and floats are finite.
        match serde_saphyr::to_string(value) {
            Ok(text) => out.push_str(&text),
            Err(e) => out.push_str(&format!("# unserializable value: {e}\n")),
        }
    }
}

/// Bytes of text [`write_document_to`] holds before handing them to its writer.
const STREAM_CHUNK: usize = 64 * 1024;

/// Writes one value as a YAML document to `out`, the bytes [`to_string`] gives, a piece at a
/// time: the text of a large document (a ResourceList of 200,000 items) is never held whole.
/// When the quick writer declines the document part way, serde-saphyr writes it and only the
/// part not yet written goes out (what was written is serde-saphyr's text already).
pub fn write_document_to<W: std::io::Write + ?Sized>(
    out: &mut W,
    value: &Value,
) -> std::io::Result<()> {
    write_document_chunked(out, value, STREAM_CHUNK)
}

fn write_document_chunked<W: std::io::Write + ?Sized>(
    out: &mut W,
    value: &Value,
    chunk: usize,
) -> std::io::Result<()> {
    let written = if fast_on() {
        match emit::emit_streamed(value, chunk, &mut |text| out.write_all(text)) {
            emit::Streamed::Done => return Ok(()),
            emit::Streamed::Failed(e) => return Err(e),
            emit::Streamed::Declined(written) => written,
        }
    } else {
        0
    };
    let mut text = String::new();
    write_document(value, &mut text);
    out.write_all(text.as_bytes().get(written..).unwrap_or_default())
}

/// What goes between two documents of a stream written here.
pub const DOCUMENT_SEPARATOR: &[u8] = b"---\n";

/// Writes values as a multi-document stream separated by `---` lines, one at a time (owned
/// values are dropped as soon as they are written), through one reused buffer.
pub fn write_stream<W: std::io::Write + ?Sized, V: std::borrow::Borrow<Value>>(
    out: &mut W,
    values: impl IntoIterator<Item = V>,
) -> std::io::Result<()> {
    let mut text = String::new();
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            out.write_all(DOCUMENT_SEPARATOR)?;
        }
        text.clear();
        write_document(v.borrow(), &mut text);
        out.write_all(text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_fast_switch_is_0_or_1() {
        use std::ffi::OsStr;
        assert_eq!(fast_switch(None), Ok(true));
        assert_eq!(fast_switch(Some(OsStr::new(""))), Ok(true));
        assert_eq!(fast_switch(Some(OsStr::new("1"))), Ok(true));
        assert_eq!(fast_switch(Some(OsStr::new("0"))), Ok(false));
        for wrong in ["false", "off", "no", " 0", "00", "2"] {
            let e = fast_switch(Some(OsStr::new(wrong))).unwrap_err();
            assert!(
                e.starts_with(&format!("NIXERNETES_YAML_FAST is {wrong:?}: set it to 0")),
                "{e}"
            );
        }
    }

    #[test]
    fn documents_keep_their_lines_and_indices() {
        let docs = parse_stream("# c\na: 1\n---\n\n---\n# x\nb: 2\n...\nc: 3\n").unwrap();
        let got: Vec<_> = docs
            .iter()
            .map(|d| (d.index, d.line, d.value.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, 2, json!({"a": 1})),
                (1, 7, json!({"b": 2})),
                (2, 9, json!({"c": 3}))
            ]
        );
    }

    #[test]
    fn go_yaml_v1_1_scalars() {
        let v = parse_one("a: yes\nb: 0755\nc: 1_000\nd: 2024-01-01\ne: y\nf: ~\n").unwrap();
        assert_eq!(
            v,
            json!({"a": true, "b": 493, "c": 1000, "d": "2024-01-01", "e": true, "f": null})
        );
    }

    #[test]
    fn errors_are_located_in_the_stream() {
        let e = parse_stream("a: 1\n---\nb: 2\nb: 3\n").unwrap_err();
        assert_eq!((e.line, e.index), (4, 1), "{e}");
        assert!(e.message.to_lowercase().contains("duplicate"), "{e}");
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        let v = json!({"a": "yes", "b": "0755", "c": "1_000", "d": "~", "e": "on"});
        let text = to_string(&v);
        assert_eq!(parse_one(&text).unwrap(), v, "{text}");
    }

    /// Every reader, fast or not, gives the same result (value or error).
    fn both_ways(text: &str) -> Result<Value, (usize, usize, String)> {
        let fast = fast::parse(text).map(Ok);
        let slow = go::check(text).and_then(|()| {
            let mut v = parse_with_saphyr(text)?;
            crate::resource::compact(&mut v);
            Ok(v)
        });
        if let Some(fast) = fast {
            assert_eq!(fast, slow, "{text}");
        }
        slow
    }

    #[test]
    fn a_tab_error_names_the_tab_line() {
        for (text, line) in [
            ("a:\n  b: 1\n\t c: 2\n", 3),
            ("a:\n\tb: 1\n", 2),
            ("a: 1\nb:\n  - x\n \t- y\n", 4),
        ] {
            let e = parse_stream(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.message.contains("tab"), "{e}");
        }
    }

    #[test]
    fn budget_errors_are_plain_english() {
        let big = "x".repeat(MAX_DOCUMENT_SCALAR_BYTES / 4 + 1);
        let text = format!("a: {big}\nb: {big}\nc: {big}\nd: {big}\n");
        let e = parse_stream(&text).unwrap_err();
        assert!(
            e.message
                .starts_with("the document holds more than 8 MiB of text"),
            "{e}"
        );
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 5), "]".repeat(MAX_DEPTH + 5));
        // The parser recurses: more stack than a test thread's default, as the main thread has.
        let e = std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn(move || parse_stream(&deep))
            .expect("thread")
            .join()
            .expect("no panic")
            .unwrap_err();
        assert!(e.message.contains("levels deep"), "{e}");
        let deeper = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let e = std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn(move || parse_stream(&deeper))
            .expect("thread")
            .join()
            .expect("no panic")
            .unwrap_err();
        assert!(e.message.contains("levels deep"), "{e}");
        assert!(!e.message.contains('{'), "{e}");
    }

    /// Aliases replay at most [`MAX_ALIAS_REPLAY`] values: a document just under it reads, the
    /// same shape just over it is refused as an alias bomb (whose shape, ten aliases of ten
    /// aliases, no anchor ratio limit catches before it expands).
    #[test]
    fn aliases_replay_a_bounded_number_of_values() {
        // `a` holds `n` scalars; `b` aliases it `k` times: k * (n + 2) replayed events.
        let doc = |n: usize, k: usize| {
            let items = vec!["x"; n].join(", ");
            let aliases = vec!["*a"; k].join(", ");
            format!("a: &a [{items}]\nb: [{aliases}]\n")
        };
        let read = parse_one(&doc(9_000, 10)).expect("90,020 replayed values read");
        assert_eq!(read["b"].as_array().map(Vec::len), Some(10));
        assert_eq!(read["b"][9].as_array().map(Vec::len), Some(9_000));
        let e = parse_one(&doc(10_000, 10)).unwrap_err();
        assert!(e.message.contains("alias bomb"), "{e}");
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn carriage_returns_alone_are_refused_at_their_line() {
        let e = parse_stream("a: 1\rb: 2\r").unwrap_err();
        assert_eq!((e.line, e.column), (1, 5), "{e}");
        assert!(e.message.contains("old Mac line endings"), "{e}");
        let e = parse_stream("a: 1\r\nb: 2\rc: 3\r\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 5), "{e}");
        assert_eq!(
            parse_one("a: 1\r\nb: 2\r\n").unwrap(),
            json!({"a": 1, "b": 2})
        );
    }

    #[test]
    fn duplicate_keys_say_what_kubectl_would_do() {
        let e = parse_stream("a: 1\na: 2\n").unwrap_err();
        assert!(
            e.message.contains("kubectl would silently keep the last"),
            "{e}"
        );
        // The key is quoted, whatever it holds (found by the fuzz target yaml_stream).
        let e = parse_stream("a::b { c: 1\na::b { c: 2\n").unwrap_err();
        assert!(
            e.message
                .starts_with("duplicate mapping key \"a::b { c\" (kubectl"),
            "{e}"
        );
    }

    /// Found by the fuzz target `yaml_fast_vs_saphyr`: with comment events on, the event parser
    /// buffered the comments it passed while looking ahead for a key's `:`, and refused valid
    /// YAML past 96 of them; the fast reader read it, so the two readers disagreed, and with the
    /// fast reader off (or on a document it declines) a commented-out block was an error.
    #[test]
    fn long_comment_blocks_read_alike_everywhere() {
        let block: String = (0..300).map(|i| format!("# line {i}\n")).collect();
        let cases = [
            // Between entries, between a key and its value, after `- `, before the first key.
            (
                format!("a: 1\n{block}b: 2\n"),
                json!({"a": 1, "b": 2}),
                "b",
                302,
            ),
            (
                format!("a:\n{block}  b: 2\n"),
                json!({"a": {"b": 2}}),
                "a.b",
                302,
            ),
            (format!("a:\n{block}  x\n"), json!({"a": "x"}), "a", 1),
            (
                format!("a:\n- {}\n  b: 2\n", block.trim_end().replace('\n', "\n  ")),
                json!({"a": [{"b": 2}]}),
                "a[0].b",
                302,
            ),
            (
                format!("{block}a:\n  b: 2\n"),
                json!({"a": {"b": 2}}),
                "a.b",
                302,
            ),
            // An anchor: the fast reader declines, the event parser reads it.
            (
                format!("a: &x\n{block}  b: 2\nc: *x\n"),
                json!({"a": {"b": 2}, "c": {"b": 2}}),
                "c",
                303,
            ),
        ];
        for (text, want, path, line) in cases {
            assert_eq!(both_ways(&text), Ok(want.clone()), "{text}");
            assert_eq!(parse_one(&text).map_err(|e| e.to_string()), Ok(want));
            // Field lines come from the event parser too (the fast outline when it reads it).
            let located = locate::Outline::parse(&text).map(|o| o.locate(path));
            assert_eq!(
                located,
                Some(locate::Located { line, found: true }),
                "{text}"
            );
        }
        // The Go-reader check still sees what follows the block.
        let (l, _, why) = both_ways(&format!("a:\n{block}  on: x\n")).unwrap_err();
        assert_eq!(l, 302, "{why}");
    }

    #[test]
    fn go_readings_are_followed_or_refused_by_both_readers() {
        // Read alike by goyaml.v2 and by us.
        assert_eq!(
            both_ways("a: [1.2.3.4, '001:db8::']\nb: {c: 2001:db8::1}\n80: x\ntrue: z\n"),
            Ok(
                json!({"a": ["1.2.3.4", "001:db8::"], "b": {"c": "2001:db8::1"}, "80": "x", "true": "z"})
            )
        );
        // Read otherwise by goyaml.v2: refused, located, whichever reader.
        for (text, line) in [
            ("addresses: [1.2.3.4, 001:db8::]\n", 1),
            ("a:\n  s: {address: 2001:db8::, port: 53}\n", 2),
            ("a: 1\non: x\n", 2),
            ("yes: x\n", 1),
            ("y: x\n", 1),
            ("0755: x\n", 1),
            ("a: 0X1f\n", 1),
            ("a: 0B101\n", 1),
            ("a:\n- 1__0\n", 2),
            ("a: [x, b?c]\n", 1),
        ] {
            let (l, _, why) = both_ways(text).unwrap_err();
            assert_eq!(l, line, "{text}: {why}");
            assert!(why.contains("goyaml.v2"), "{why}");
            let e = parse_stream(text).unwrap_err();
            assert_eq!(e.line, line);
        }
    }

    #[test]
    fn lines_inclusive_is_split_inclusive() {
        for text in [
            "",
            "a",
            "a\n",
            "a\nb",
            "\n\n",
            "é\nü\r\nx",
            "---\na: 1\n...\n",
        ] {
            let want: Vec<&str> = text.split_inclusive('\n').collect();
            assert_eq!(lines_inclusive(text).collect::<Vec<_>>(), want, "{text:?}");
        }
    }

    #[test]
    fn marker_inside_text_is_not_a_boundary() {
        let docs = parse_stream("a: |\n  ---\n  x\nb: '--- y'\n").unwrap();
        assert_eq!(docs.len(), 1);
    }
}
