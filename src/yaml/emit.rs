//! The YAML writer: serde-saphyr's output, byte for byte, several times quicker.
//!
//! [`emit`] lays out a `serde_json::Value` the way `serde_saphyr::to_string` does with its
//! default options (two-space indent, sequences under a key at the key's column, `{}`/`[]` for
//! empty collections, YAML 1.1 quoting). It decides the common scalars itself: integers,
//! booleans, null, and strings of at most 80 printable ASCII bytes, which are plain unless a
//! goyaml.v2 reader would take them for something else (the rules below follow serde-saphyr's
//! `ser/quoting.rs`). Every other scalar (floats, longer or non-ASCII strings, multi-line
//! strings, keys outside the simple subset) is written by serde-saphyr on its own and placed:
//! serde-saphyr's choice of style for a scalar does not depend on where it stands, and a block
//! scalar's body only moves right with its parent's column. A key longer than 1,024 bytes, which
//! serde-saphyr writes in the explicit `? key` form, makes [`emit`] decline the whole document.
//! A test compares the two writers over every YAML file of the repository and over generated
//! and mangled values.

use serde_json::{Map, Value};

/// Where a node starts, which decides its indentation and what precedes it.
#[derive(Clone, Copy)]
enum Pos {
    /// The document's root, at column 0.
    Root,
    /// The value of a mapping key written at `col` (the cursor is right after `key:`).
    Value(usize),
    /// An item of a sequence whose dash is at `col` (the cursor is right after `- `).
    Item(usize),
}

/// serde-saphyr writes keys longer than this in the explicit `? key` form.
const SIMPLE_KEY_MAX_BYTES: usize = 1024;

/// Longest string decided here: serde-saphyr may fold longer ones (`>-`).
const SHORT_STRING_MAX_BYTES: usize = 80;

/// Appends the YAML document for `value` to `out` (ending in a newline, no `---`), exactly as
/// `serde_saphyr::to_string` writes it; `None` (with `out` as it was) when the document needs a
/// form this writer does not produce, for the caller to hand to serde-saphyr.
pub(super) fn emit(value: &Value, out: &mut String) -> Option<()> {
    let start = out.len();
    let mut to = Out {
        text: std::mem::take(out),
        sink: None,
    };
    let done = node(value, Pos::Root, &mut to);
    *out = to.text;
    if done.is_none() {
        out.truncate(start);
    }
    done
}

/// How [`emit_streamed`] ended.
pub(super) enum Streamed {
    /// The whole document was written.
    Done,
    /// The writer declined the document after this many bytes went to the sink (each of them
    /// serde-saphyr's, as every node is): the caller writes the rest of serde-saphyr's text.
    Declined(usize),
    /// The sink failed.
    Failed(std::io::Error),
}

/// [`emit`], handing the text to `sink` in pieces of about `chunk` bytes (each cut after a
/// whole mapping entry or sequence item) instead of holding it: a document of 200,000 items
/// is never one string.
pub(super) fn emit_streamed(
    value: &Value,
    chunk: usize,
    sink: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
) -> Streamed {
    let mut to = Out {
        text: String::with_capacity(chunk.min(1 << 20) + 1024),
        sink: Some(Sink {
            write: sink,
            chunk,
            written: 0,
            error: None,
        }),
    };
    let done = node(value, Pos::Root, &mut to).and_then(|()| to.hand_over());
    let Some(sink) = to.sink else {
        unreachable!("the sink was set above")
    };
    match (done, sink.error) {
        (_, Some(e)) => Streamed::Failed(e),
        (Some(()), None) => Streamed::Done,
        (None, None) => Streamed::Declined(sink.written),
    }
}

/// The text being written, and for [`emit_streamed`] where it goes.
struct Out<'a> {
    text: String,
    sink: Option<Sink<'a>>,
}

struct Sink<'a> {
    write: &'a mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    /// Hand the text over once it is this long.
    chunk: usize,
    /// Bytes handed over so far.
    written: usize,
    error: Option<std::io::Error>,
}

impl Out<'_> {
    /// After a whole node: hands the text over when it is long enough. `None` (stop writing)
    /// when the sink failed.
    fn boundary(&mut self) -> Option<()> {
        match &self.sink {
            Some(s) if self.text.len() >= s.chunk => self.hand_over(),
            _ => Some(()),
        }
    }

    /// Hands whatever text there is to the sink.
    fn hand_over(&mut self) -> Option<()> {
        let Some(sink) = self.sink.as_mut() else {
            return Some(());
        };
        if self.text.is_empty() {
            return Some(());
        }
        match (sink.write)(self.text.as_bytes()) {
            Ok(()) => {
                sink.written += self.text.len();
                self.text.clear();
                Some(())
            }
            Err(e) => {
                sink.error = Some(e);
                None
            }
        }
    }
}

impl std::ops::Deref for Out<'_> {
    type Target = String;
    fn deref(&self) -> &String {
        &self.text
    }
}

impl std::ops::DerefMut for Out<'_> {
    fn deref_mut(&mut self) -> &mut String {
        &mut self.text
    }
}

fn node(value: &Value, pos: Pos, out: &mut Out<'_>) -> Option<()> {
    match value {
        Value::Object(map) => mapping(map, pos, out),
        Value::Array(items) => sequence(items, pos, out),
        Value::String(s) => string(s, pos, out),
        Value::Null => scalar("null", pos, out),
        Value::Bool(b) => scalar(if *b { "true" } else { "false" }, pos, out),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                scalar_prefix(pos, out);
                push_u64(u, out);
                out.push('\n');
            } else if let Some(i) = n.as_i64() {
                scalar_prefix(pos, out);
                out.push('-');
                push_u64(i.unsigned_abs(), out);
                out.push('\n');
            } else {
                let f = n.as_f64()?;
                return placed(&serde_saphyr::to_string(&f).ok()?, pos, out);
            }
            Some(())
        }
    }
}

fn mapping(map: &Map<String, Value>, pos: Pos, out: &mut Out<'_>) -> Option<()> {
    if map.is_empty() {
        return scalar("{}", pos, out);
    }
    let col = match pos {
        Pos::Root => 0,
        Pos::Value(col) => {
            out.push('\n');
            col + 2
        }
        Pos::Item(col) => col + 2,
    };
    for (i, (k, v)) in map.iter().enumerate() {
        // The first key of a mapping that is a sequence item goes right after its dash.
        if i > 0 || !matches!(pos, Pos::Item(_)) {
            indent(col, out);
        }
        key(k, out)?;
        out.push(':');
        node(v, Pos::Value(col), out)?;
        out.boundary()?;
    }
    Some(())
}

fn sequence(items: &[Value], pos: Pos, out: &mut Out<'_>) -> Option<()> {
    if items.is_empty() {
        return scalar("[]", pos, out);
    }
    let col = match pos {
        Pos::Root => 0,
        // A sequence under a key has its dashes at the key's column.
        Pos::Value(col) => {
            out.push('\n');
            col
        }
        Pos::Item(col) => col + 2,
    };
    for (i, item) in items.iter().enumerate() {
        // The first item of a sequence that is itself an item goes right after the outer dash.
        if i > 0 || !matches!(pos, Pos::Item(_)) {
            indent(col, out);
        }
        out.push_str("- ");
        node(item, Pos::Item(col), out)?;
        out.boundary()?;
    }
    Some(())
}

/// What goes between the position and a scalar: a space after `key:`.
fn scalar_prefix(pos: Pos, out: &mut String) {
    if let Pos::Value(_) = pos {
        out.push(' ');
    }
}

fn scalar(text: &str, pos: Pos, out: &mut String) -> Option<()> {
    scalar_prefix(pos, out);
    out.push_str(text);
    out.push('\n');
    Some(())
}

fn string(s: &str, pos: Pos, out: &mut String) -> Option<()> {
    let b = s.as_bytes();
    if b.len() > SHORT_STRING_MAX_BYTES || !b.iter().all(|&c| (b' '..=b'~').contains(&c)) {
        return placed(&serde_saphyr::to_string(&s).ok()?, pos, out);
    }
    scalar_prefix(pos, out);
    if let [c @ (b'.' | b'#' | b'-')] = b {
        // serde-saphyr's special case for these one-character strings.
        out.push('\'');
        out.push(char::from(*c));
        out.push('\'');
    } else if simple_word(b) || plain_value(s) {
        out.push_str(s);
    } else {
        double_quoted(s, out);
    }
    out.push('\n');
    Some(())
}

/// Places a scalar as serde-saphyr writes it at the root (`text`, ending in a newline) at
/// `pos`: a one-line scalar is the same everywhere; a block scalar (`|`, `>`) keeps its header
/// and its body moves right by the column of its key or dash (serde-saphyr indents the body one
/// step past that column, and writes empty body lines without indentation).
fn placed(text: &str, pos: Pos, out: &mut String) -> Option<()> {
    let (first, body) = text.split_once('\n')?;
    scalar_prefix(pos, out);
    out.push_str(first);
    out.push('\n');
    if first.starts_with(['|', '>']) {
        let shift = match pos {
            Pos::Root => 0,
            Pos::Value(col) | Pos::Item(col) => col,
        };
        for line in body.split_inclusive('\n') {
            if line != "\n" {
                indent(shift, out);
            }
            out.push_str(line);
        }
    } else if !body.is_empty() {
        return None;
    }
    Some(())
}

fn key(k: &str, out: &mut String) -> Option<()> {
    let b = k.as_bytes();
    if b.len() > SIMPLE_KEY_MAX_BYTES {
        return None;
    }
    if !b.iter().all(|&c| (b' '..=b'~').contains(&c)) {
        // serde-saphyr's key text, cut from a one-entry mapping.
        let one: std::collections::BTreeMap<&str, ()> = [(k, ())].into();
        let text = serde_saphyr::to_string(&one).ok()?;
        let text = text.strip_suffix(": null\n")?;
        if text.contains('\n') || text.starts_with("? ") {
            return None;
        }
        out.push_str(text);
    } else if simple_word(b) || plain_key(k) {
        out.push_str(k);
    } else {
        double_quoted(k, out);
    }
    Some(())
}

/// A double-quoted scalar of printable ASCII: only `\` and `"` are escaped.
fn double_quoted(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.bytes().enumerate() {
        if c == b'\\' || c == b'"' {
            out.push_str(&s[start..i]);
            out.push('\\');
            start = i;
        }
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn indent(n: usize, out: &mut String) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

fn push_u64(mut v: u64, out: &mut String) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

// Quoting, for printable ASCII text only (the callers check), as serde-saphyr's `quoting.rs`
// decides it with default options (YAML 1.1 rules; keys also exclude what is structural in
// flow style).

/// Whether `b` is a word that is plain as a key and as a value by the rules below, decided in
/// one pass: a letter, then letters, digits, `-`, `_`, `.` and `/`, and not one of the short
/// words a reader resolves to something else (`null`, `true`, `y`, `off`, `nan`, `inf`...).
/// Most keys and many values are such words; the full rules need several passes.
fn simple_word(b: &[u8]) -> bool {
    matches!(b.first(), Some(c) if c.is_ascii_alphabetic())
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/'))
        && (b.len() > 5 || !is_ambiguous(std::str::from_utf8(b).unwrap_or(""), false))
}

/// Whether a value string is written plain (serde-saphyr's `is_plain_value_safe`, block style).
fn plain_value(s: &str) -> bool {
    let b = s.as_bytes();
    if is_ambiguous(s, false) || starts_with_document_marker(s) || !plain_edges(b) {
        return false;
    }
    // `: ` would end a key, a trailing `:` too, ` #` starts a comment.
    !b.ends_with(b":") && !b.windows(2).any(|w| w == b": " || w == b" #")
}

/// Whether a key is written plain (serde-saphyr's `is_plain_safe` and `is_plain_value_safe` in
/// flow style).
fn plain_key(s: &str) -> bool {
    let b = s.as_bytes();
    if is_ambiguous(s, true)
        || is_ambiguous(s, false)
        || s == "<<"
        || starts_with_document_marker(s)
        || !plain_edges(b)
    {
        return false;
    }
    !b.iter()
        .any(|&c| matches!(c, b':' | b',' | b'[' | b']' | b'{' | b'}'))
        && !b.windows(2).any(|w| w == b" #")
}

/// No space at either end, no indicator first (`-`/`?` only alone or before a space).
fn plain_edges(b: &[u8]) -> bool {
    !matches!(
        b,
        [] | [b' ', ..]
            | [.., b' ']
            | [b'-' | b'?']
            | [b'-' | b'?', b' ', ..]
            | [
                b',' | b':'
                    | b'['
                    | b']'
                    | b'{'
                    | b'}'
                    | b'#'
                    | b'&'
                    | b'*'
                    | b'!'
                    | b'|'
                    | b'>'
                    | b'\''
                    | b'"'
                    | b'%'
                    | b'@'
                    | b'`',
                ..,
            ]
    )
}

fn starts_with_document_marker(s: &str) -> bool {
    match s.strip_prefix("---").or_else(|| s.strip_prefix("...")) {
        Some(rest) => rest.is_empty() || rest.as_bytes()[0].is_ascii_whitespace(),
        None => false,
    }
}

/// Whether a reader could resolve `s`, written plain, to something other than this string.
fn is_ambiguous(s: &str, yaml_12: bool) -> bool {
    let b = s.as_bytes();
    match b.first() {
        None => true,
        Some(b'0'..=b'9' | b'+' | b'-' | b'.' | b'_') if is_numeric(s, yaml_12) => true,
        Some(b'0'..=b'9') if !yaml_12 && is_yaml11_timestamp(s) => true,
        _ if b.len() <= 5 => {
            const WORDS_12: [&str; 8] =
                ["~", "null", "true", "false", "nan", "inf", "+inf", "-inf"];
            const WORDS_11: [&str; 8] = ["y", "yes", "on", "n", "no", "off", "<<", "="];
            WORDS_12.iter().any(|w| s.eq_ignore_ascii_case(w))
                || (!yaml_12 && WORDS_11.iter().any(|w| s.eq_ignore_ascii_case(w)))
        }
        _ => false,
    }
}

/// Numeric syntax (serde-saphyr's `is_numeric`), without constructing a value.
fn is_numeric(s: &str, yaml_12: bool) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if unsigned.eq_ignore_ascii_case(".inf") || unsigned.eq_ignore_ascii_case(".nan") {
        return true;
    }
    if !yaml_12 {
        if is_yaml11_sexagesimal(s) {
            return true;
        }
        if let Some((radix, digits)) = radix_digits(unsigned) {
            if is_digit_run(digits, radix, false) {
                return true;
            }
        }
    }
    // Go YAML drops underscores before resolving numbers.
    let normalized;
    let s = if !yaml_12 && s.contains('_') {
        normalized = s.replace('_', "");
        normalized.as_str()
    } else {
        s
    };
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if let Some((radix, digits)) = radix_digits(unsigned) {
        let digits = if !yaml_12 && (s.starts_with("0b") || s.starts_with("0o")) {
            digits.strip_prefix(['+', '-']).unwrap_or(digits)
        } else {
            digits
        };
        return is_digit_run(digits, radix, true);
    }
    let mantissa = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => {
            let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if !is_digit_run(exponent, 10, true) {
                return false;
            }
            mantissa
        }
        None => unsigned,
    };
    match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            if !whole.is_empty() && !is_digit_run(whole, 10, true) {
                return false;
            }
            if !yaml_12 {
                fraction.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            } else if fraction.is_empty() {
                !whole.is_empty()
            } else {
                is_digit_run(fraction, 10, true)
            }
        }
        None => is_digit_run(mantissa, 10, true),
    }
}

fn radix_digits(s: &str) -> Option<(u32, &str)> {
    match s.as_bytes() {
        [b'0', b'b' | b'B', ..] => Some((2, &s[2..])),
        [b'0', b'o' | b'O', ..] => Some((8, &s[2..])),
        [b'0', b'x' | b'X', ..] => Some((16, &s[2..])),
        _ => None,
    }
}

/// Digits of `radix`, with underscores anywhere or (`strict`) only between two digits.
fn is_digit_run(s: &str, radix: u32, strict: bool) -> bool {
    let is_digit = |b: u8| char::from(b).is_digit(radix);
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter().enumerate().all(|(i, &c)| {
            is_digit(c)
                || (c == b'_'
                    && (!strict
                        || (i > 0
                            && is_digit(b[i - 1])
                            && b.get(i + 1).is_some_and(|&n| is_digit(n)))))
        })
}

/// YAML 1.1 base-60 numbers (`1:30`, `-1:30:00.5`).
fn is_yaml11_sexagesimal(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (unsigned, None),
    };
    let Some((first, rest)) = integer.split_once(':') else {
        return false;
    };
    let Some(&first_digit) = first.as_bytes().first() else {
        return false;
    };
    if !first_digit.is_ascii_digit()
        || (fraction.is_none() && first_digit == b'0')
        || !first.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return false;
    }
    rest.split(':').all(|part| match part.as_bytes() {
        [d] => d.is_ascii_digit(),
        [t, u] => matches!(t, b'0'..=b'5') && u.is_ascii_digit(),
        _ => false,
    }) && fraction.is_none_or(|f| f.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
}

/// YAML 1.1 timestamp syntax (`2024-01-01`, `2024-1-1 10:00:00 +2`), without checking the
/// calendar.
fn is_yaml11_timestamp(mut s: &str) -> bool {
    fn digits(s: &mut &str, min: usize, max: usize) -> bool {
        let len = s.bytes().take_while(u8::is_ascii_digit).count();
        if !(min..=max).contains(&len) {
            return false;
        }
        *s = &s[len..];
        true
    }
    fn prefix(s: &mut &str, c: char) -> bool {
        match s.strip_prefix(c) {
            Some(rest) => {
                *s = rest;
                true
            }
            None => false,
        }
    }
    if !digits(&mut s, 4, 4)
        || !prefix(&mut s, '-')
        || !digits(&mut s, 1, 2)
        || !prefix(&mut s, '-')
        || !digits(&mut s, 1, 2)
    {
        return false;
    }
    if s.is_empty() {
        return true;
    }
    if let Some(rest) = s.strip_prefix(['T', 't']) {
        s = rest;
    } else {
        let rest = s.trim_start_matches([' ', '\t']);
        if rest.len() == s.len() {
            return false;
        }
        s = rest;
    }
    if !digits(&mut s, 1, 2)
        || !prefix(&mut s, ':')
        || !digits(&mut s, 1, 2)
        || !prefix(&mut s, ':')
        || !digits(&mut s, 1, 2)
    {
        return false;
    }
    if prefix(&mut s, '.') || prefix(&mut s, ',') {
        digits(&mut s, 0, usize::MAX);
    }
    s = s.trim_start_matches([' ', '\t']);
    if s.is_empty() || s == "Z" {
        return true;
    }
    if !(prefix(&mut s, '+') || prefix(&mut s, '-')) || !digits(&mut s, 1, 2) {
        return false;
    }
    if prefix(&mut s, ':') && !digits(&mut s, 2, 2) {
        return false;
    }
    s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// serde-saphyr's text for `value`, and ours (`None` when declined).
    fn both(value: &Value) -> (String, Option<String>) {
        let reference = serde_saphyr::to_string(value).unwrap();
        let mut ours = String::from("kept");
        let done = emit(value, &mut ours);
        let ours = match done {
            Some(()) => Some(ours.strip_prefix("kept").unwrap().to_string()),
            None => {
                assert_eq!(
                    ours, "kept",
                    "a declined document leaves the buffer as it was"
                );
                None
            }
        };
        (reference, ours)
    }

    fn has_long_key(value: &Value) -> bool {
        match value {
            Value::Object(map) => map
                .iter()
                .any(|(k, v)| k.len() > SIMPLE_KEY_MAX_BYTES || has_long_key(v)),
            Value::Array(items) => items.iter().any(has_long_key),
            _ => false,
        }
    }

    /// Same bytes as serde-saphyr, and declined only for a key too long for `key:`; streamed in
    /// pieces as small as they come, too.
    #[track_caller]
    fn check(value: &Value) {
        let (reference, ours) = both(value);
        match ours {
            Some(ours) => assert_eq!(ours, reference, "value: {value}"),
            None => assert!(has_long_key(value), "declined: {value}"),
        }
        assert_eq!(streamed(value, 1), reference, "streamed: {value}");
    }

    /// The text [`emit_streamed`] hands over in pieces of `chunk` bytes, with serde-saphyr's
    /// rest when it declines (as `yaml::write_document_to` does).
    fn streamed(value: &Value, chunk: usize) -> String {
        let mut got = Vec::new();
        let end = emit_streamed(value, chunk, &mut |text| {
            got.extend_from_slice(text);
            Ok(())
        });
        match end {
            Streamed::Done => {}
            Streamed::Declined(written) => {
                assert_eq!(written, got.len());
                let reference = serde_saphyr::to_string(value).unwrap();
                got.extend_from_slice(&reference.as_bytes()[written..]);
            }
            Streamed::Failed(e) => panic!("{e}"),
        }
        String::from_utf8(got).unwrap()
    }

    /// A list of `n` items whose item `long` has a key serde-saphyr writes as `? key`.
    fn list_with_long_key(n: usize, long: usize) -> Value {
        let items: Vec<Value> = (0..n)
            .map(|i| {
                let mut item = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{i}")}});
                if i == long {
                    item["data"] = json!({ "k".repeat(SIMPLE_KEY_MAX_BYTES + 1): "v" });
                }
                item
            })
            .collect();
        json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items})
    }

    #[test]
    fn a_streamed_document_is_handed_over_in_pieces_and_reads_as_a_whole() {
        let v = list_with_long_key(2_000, usize::MAX);
        let reference = serde_saphyr::to_string(&v).unwrap();
        let mut pieces = Vec::new();
        let end = emit_streamed(&v, 4096, &mut |text| {
            pieces.push(text.len());
            Ok(())
        });
        assert!(matches!(end, Streamed::Done));
        assert!(pieces.len() > 10, "{} pieces", pieces.len());
        // Each piece ends after a whole item: at most one item past the chunk size.
        assert!(pieces.iter().all(|&n| n < 4096 + 200), "{pieces:?}");
        assert_eq!(pieces.iter().sum::<usize>(), reference.len());
        assert_eq!(streamed(&v, 4096), reference);
    }

    #[test]
    fn a_document_declined_part_way_goes_on_with_serde_saphyrs_text() {
        // Declined at item 1,500, after most of the list went out.
        let v = list_with_long_key(2_000, 1_500);
        let mut written = 0;
        let end = emit_streamed(&v, 4096, &mut |text| {
            written += text.len();
            Ok(())
        });
        assert!(matches!(end, Streamed::Declined(n) if n == written && n > 0));
        assert_eq!(streamed(&v, 4096), serde_saphyr::to_string(&v).unwrap());
    }

    #[test]
    fn a_failing_sink_stops_the_writer() {
        let v = list_with_long_key(2_000, usize::MAX);
        let mut calls = 0;
        let end = emit_streamed(&v, 4096, &mut |_| {
            calls += 1;
            Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "closed",
            ))
        });
        assert!(matches!(end, Streamed::Failed(e) if e.kind() == std::io::ErrorKind::BrokenPipe));
        assert_eq!(calls, 1, "nothing more is written after a failed write");
    }

    /// Every node of `value`, the root first.
    fn nodes(value: &Value) -> Vec<&Value> {
        let mut all = vec![value];
        let mut i = 0;
        while i < all.len() {
            match all[i] {
                Value::Object(map) => all.extend(map.values()),
                Value::Array(items) => all.extend(items),
                _ => {}
            }
            i += 1;
        }
        all
    }

    /// A small deterministic generator (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len())]
        }
    }

    /// Strings a Go YAML 1.1 reader (or a YAML reader at all) would not read back as the same
    /// plain string, and neighbours that are plain.
    const ATOMS: &[&str] = &[
        "",
        " ",
        "  ",
        "~",
        "null",
        "Null",
        "NULL",
        "nULL",
        "true",
        "True",
        "TRUE",
        "false",
        "yes",
        "Yes",
        "YES",
        "no",
        "No",
        "NO",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
        "y",
        "Y",
        "n",
        "N",
        "yes!",
        "noo",
        "onn",
        "nan",
        "NaN",
        ".nan",
        ".NaN",
        "inf",
        "+inf",
        "-inf",
        ".inf",
        "-.inf",
        "+.inf",
        ".Inf",
        "1e3",
        "1E3",
        "1e+3",
        "1e",
        "e3",
        "1.5e-3",
        "0x1f",
        "0X1F",
        "0x",
        "0xg",
        "0o17",
        "0o",
        "0O17",
        "0b101",
        "0b",
        "0b12",
        "0755",
        "0999",
        "08",
        "1_000",
        "1__000",
        "_1000",
        "1000_",
        "1_",
        "0x_1f",
        "0b_1",
        "+0b1",
        "0b+1",
        "0o-7",
        "-0x-1",
        "12e0_3",
        "1._0",
        "1.0.0",
        "1.2.3",
        "1.",
        ".5",
        "+.5",
        "-.5",
        "._5",
        "+",
        "-",
        ".",
        "_",
        "0",
        "-0",
        "+0",
        "00",
        "-19",
        "+12",
        "1:30",
        "1:30:59",
        "1:60",
        "0:30",
        "0:30.5",
        "-1:30",
        "1:30.5",
        "1_0:30",
        "190:20:30",
        "1:2:3:4",
        "12:",
        ":12",
        "2024-01-01",
        "2024-1-1",
        "2024-01-01T10:00:00Z",
        "2024-01-01t10:00:00",
        "2024-01-01 10:00:00",
        "2024-01-01  10:00:00.5 +2",
        "2024-01-01 10:00:00 -05:00",
        "2024-01-01 10:00:00,5",
        "2024-01-01X",
        "202-01-01",
        "2024-001-01",
        "2024-01-01 1:2:3",
        "2024-01-01 10:00:00 +2:3",
        "2024-01-01T10:00:00.123456789+01:00",
        "<<",
        "=",
        "==",
        "<",
        "-",
        "--",
        "---",
        "--- x",
        "---x",
        "...",
        "... x",
        "...x",
        "- x",
        "-x",
        "?",
        "? x",
        "?x",
        ":",
        ": x",
        "x:",
        "x: y",
        "x:y",
        "a:b:c",
        "http://x",
        "#",
        "#x",
        "x#y",
        "x #y",
        "x# y",
        "&a",
        "*a",
        "!a",
        "!!str",
        "|",
        "|x",
        ">",
        ">x",
        "'",
        "'x'",
        "\"",
        "\"x\"",
        "%x",
        "@x",
        "`x`",
        ",x",
        "x,y",
        "[x]",
        "x[0]",
        "{x}",
        "x{y}",
        "]",
        "}",
        "x ",
        " x",
        "x y",
        "a\\b",
        "a\"b",
        "a'b",
        "\\",
        "a\tb",
        "\t",
        "a\nb",
        "a\n",
        "\n",
        "\n\n",
        "a\n\n",
        "\na",
        " a\nb",
        "a\r\nb",
        "a\rb",
        "\0",
        "a\u{7}b",
        "\u{1b}[0m",
        "\u{7f}",
        "\u{85}",
        "\u{a0}",
        "a\u{a0}",
        "\u{a0}#x",
        "x\u{3000}#y",
        "é",
        "字",
        "日本語: x",
        "\u{2028}",
        "\u{2029}",
        "\u{feff}",
        "\u{feff}x",
        "\u{fffe}",
        "\u{ffff}",
        "\u{10ffff}",
        "😀",
        "registry.example.com/team/app:1.2.3",
        "app.kubernetes.io/name",
        "--port=8080",
        "25%",
        "100m",
        "512Mi",
        "4711",
        "0.5",
        "1e-7",
        "/ready",
        "RollingUpdate",
        "ALL",
    ];

    const CHARS: &[&str] = &[
        "a", "b", "Z", "0", "1", "9", " ", " ", ":", "#", "-", "?", ".", "_", "/", "'", "\"", "\\",
        ",", "[", "]", "{", "}", "&", "*", "!", "|", ">", "%", "@", "`", "=", "+", "~", "\n", "\t",
        "\r", "é", "字", "\u{2028}", "\u{85}", "\u{feff}", "\0", "\u{7f}", "😀",
    ];

    fn gen_string(rng: &mut Rng) -> String {
        match rng.below(10) {
            0..=3 => rng.pick(ATOMS).to_string(),
            4 => format!("{}{}", rng.pick(ATOMS), rng.pick(ATOMS)),
            5 => {
                // Long enough to be folded or kept on one line (around 80 characters).
                let words = ["lorem", "ipsum", "dolor", "sit", "amet", "x:", "#y", "a\nb"];
                let n = 10 + rng.below(12);
                let sep = *rng.pick(&[" ", "  ", " ", "-", "\n", "\n\n"]);
                let mut s = (0..n)
                    .map(|_| *rng.pick(&words))
                    .collect::<Vec<_>>()
                    .join(sep);
                if rng.below(3) == 0 {
                    let tails = ["\n", "\n\n", " ", "  \n", ":"];
                    s.push_str(tails[rng.below(tails.len())]);
                }
                if rng.below(4) == 0 {
                    let heads = [" ", "  ", "\n", "-", "# "];
                    s.insert_str(0, heads[rng.below(heads.len())]);
                }
                s
            }
            _ => {
                let n = rng.below(12);
                (0..n).map(|_| *rng.pick(CHARS)).collect()
            }
        }
    }

    fn gen_scalar(rng: &mut Rng) -> Value {
        match rng.below(12) {
            0 => Value::Null,
            1 => Value::Bool(rng.below(2) == 0),
            2 => json!(*rng.pick(&[0i64, 1, -1, i64::MIN, i64::MAX, 8080, -42, 10001])),
            3 => json!(*rng.pick(&[u64::MAX, 0, 1 << 53, 493])),
            4 => {
                let f = *rng.pick(&[
                    0.0,
                    -0.0,
                    1.5,
                    -2.25,
                    100.0,
                    1e300,
                    -1e-300,
                    1e-7,
                    0.1,
                    f64::MAX,
                    f64::MIN_POSITIVE,
                    123456789.125,
                    1e16,
                ]);
                json!(f)
            }
            _ => Value::String(gen_string(rng)),
        }
    }

    fn gen_key(rng: &mut Rng) -> String {
        match rng.below(40) {
            0 => "k".repeat(1020 + rng.below(8)),
            1 => "é".repeat(510 + rng.below(8)),
            2..=20 => rng
                .pick(&[
                    "name",
                    "metadata",
                    "app.kubernetes.io/name",
                    "a-b",
                    "x_y",
                    "A1",
                ])
                .to_string(),
            _ => gen_string(rng),
        }
    }

    fn gen_value(rng: &mut Rng, depth: usize) -> Value {
        if depth == 0 {
            return gen_scalar(rng);
        }
        match rng.below(5) {
            0 => {
                let n = *rng.pick(&[0, 1, 2, 3, 5]);
                Value::Object(
                    (0..n)
                        .map(|_| (gen_key(rng), gen_value(rng, depth - 1)))
                        .collect(),
                )
            }
            1 => {
                let n = *rng.pick(&[0, 1, 2, 3]);
                Value::Array((0..n).map(|_| gen_value(rng, depth - 1)).collect())
            }
            _ => gen_scalar(rng),
        }
    }

    /// Replaces a few nodes of `value` with generated ones.
    fn mangle(value: &mut Value, rng: &mut Rng) {
        let n = nodes(value).len();
        for _ in 0..3 {
            let target = rng.below(n);
            let mut seen = 0;
            replace_nth(value, target, &mut seen, rng);
        }
    }

    fn replace_nth(value: &mut Value, target: usize, seen: &mut usize, rng: &mut Rng) -> bool {
        if *seen == target {
            *value = match rng.below(4) {
                0 => gen_value(rng, 3),
                1 => json!([value.take(), gen_scalar(rng)]),
                2 => json!({ gen_key(rng): value.take() }),
                _ => gen_scalar(rng),
            };
            return true;
        }
        *seen += 1;
        match value {
            Value::Object(map) => map.values_mut().any(|v| replace_nth(v, target, seen, rng)),
            Value::Array(items) => items.iter_mut().any(|v| replace_nth(v, target, seen, rng)),
            _ => false,
        }
    }

    /// Every document of every YAML and JSON file under the repository's example, test and
    /// KRM folders (files that do not parse are skipped, and alias bombs).
    fn repository_documents() -> Vec<Value> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs: Vec<_> = ["examples", "tests", "krm", "docs"]
            .iter()
            .map(|d| root.join(d))
            .collect();
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.to_string_lossy().contains("bomb") {
                    // Billions of replayed aliases: takes serde-saphyr's budget, not ours.
                } else if path
                    .extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
                {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .filter_map(|text| crate::yaml::parse_stream(&text).ok())
            .flatten()
            .map(|d| d.value)
            .collect()
    }

    #[test]
    fn layout_of_collections() {
        let v = json!({
            "a": {"b": {"c": 1}, "e": {}, "l": []},
            "s": [1, [2, [3, {}], []], {"k": [{"x": 1, "p": [true]}], "m": {"q": null}}, {}],
            "t": "x\ny\n",
        });
        check(&v);
        assert_eq!(
            both(&v).1.unwrap(),
            "a:\n  b:\n    c: 1\n  e: {}\n  l: []\ns:\n- 1\n- - 2\n  - - 3\n    - {}\n  - []\n- k:\n  - x: 1\n    p:\n    - true\n  m:\n    q: null\n- {}\nt: |\n  x\n  y\n"
        );
        for root in [
            json!({}),
            json!([]),
            json!(null),
            json!("x"),
            json!(-3),
            json!([[]]),
        ] {
            check(&root);
        }
    }

    #[test]
    fn every_atom_in_every_position() {
        for atom in ATOMS {
            let s = json!(atom);
            for v in [
                s.clone(),
                json!({ *atom: 1 }),
                json!({ "k": s.clone() }),
                json!([s.clone()]),
                json!([[s.clone(), s.clone()]]),
                json!([{ "k": s.clone(), *atom: [s.clone()] }]),
                json!({ "k": { "j": [{ "i": s.clone() }] } }),
            ] {
                check(&v);
            }
        }
    }

    #[test]
    fn repository_documents_and_their_parts() {
        let docs = repository_documents();
        assert!(docs.len() > 200, "only {} documents found", docs.len());
        let mut checked = 0;
        for doc in &docs {
            // Each part at the root too: the root's children, and every scalar.
            let children: Vec<&Value> = match doc {
                Value::Object(map) => map.values().collect(),
                Value::Array(items) => items.iter().collect(),
                _ => Vec::new(),
            };
            let scalars = nodes(doc)
                .into_iter()
                .filter(|v| !v.is_object() && !v.is_array());
            for node in std::iter::once(doc).chain(children).chain(scalars) {
                check(node);
                checked += 1;
            }
            // Whole documents of the repository are all written here, not by serde-saphyr.
            assert!(both(doc).1.is_some(), "declined: {doc}");
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for doc in &docs {
            for _ in 0..2 {
                let mut mangled = doc.clone();
                mangle(&mut mangled, &mut rng);
                check(&mangled);
            }
        }
        assert!(checked > 10_000, "only {checked} nodes checked");
    }

    #[test]
    fn generated_values() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let v = gen_value(&mut rng, 4);
            check(&v);
        }
    }
}
