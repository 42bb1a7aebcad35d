//! What Go readers of Kubernetes YAML make of plain scalars, and where that differs from our
//! reading.
//!
//! kubectl, kustomize and Argo CD read YAML with goyaml.v2 (through `sigs.k8s.io/yaml`, which
//! turns the result into JSON). Its scalar rules are YAML 1.1's as `resolve.go` implements them,
//! and its scanner (`yaml_parser_scan_plain_scalar` in `scannerc.go`) ends a plain scalar inside
//! a flow collection at `,?[]{}` and at a `:` followed by a blank only. serde-saphyr, which reads
//! every document the fast reader declines, follows YAML 1.2 in both respects, and the fast
//! reader follows serde-saphyr. Where the two readings differ we refuse the document, located,
//! with what each reader makes of the text and how to write it so that all agree ([`check`]):
//! passing on a value kubectl would read differently is the one thing never to do. The fast
//! reader declines the same scalars ([`agrees`], [`key_agrees`]), so the refusal comes from
//! here whichever reader is on.
//!
//! What goyaml.v2 reads (checked against its `resolve.go`, and against kubectl 1.32 itself):
//! - null: `~`, `null`, `Null`, `NULL` and the empty scalar; booleans: `y`, `Y`, `yes`, `Yes`,
//!   `YES`, `on`, `On`, `ON`, `true`, `True`, `TRUE` and their false counterparts (`n`, `no`,
//!   `off`, `false`...), exactly these spellings;
//! - integers: Go's `strconv.ParseInt(s, 0, 64)` after removing every `_`: sign, `0x`/`0X`,
//!   `0o`/`0O`, `0b`/`0B` prefixes, a leading `0` for octal (`0755` is 493, `1__0` is 10,
//!   `0X1f` is 31), then unsigned 64-bit;
//! - floats: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` after removing `_` (`08` is
//!   8), `.inf`, `.nan` and their case variants (which JSON, and so kubectl, cannot hold), and
//!   anything starting with `.` that Go's `ParseFloat` takes; an overflowing numeral (`1e999`)
//!   stays a string;
//! - timestamps stay strings, and there are no base-60 numbers (`12:30` is a string);
//! - a key that is not a string is turned into one by `sigs.k8s.io/yaml`: `on:` and `yes:`
//!   become the key `"true"`, `0755:` the key `"493"`, `1e3:` the key `"1000"`; a null key or
//!   an integer key beyond 64-bit signed makes kubectl refuse the document.

use crate::validate::code;
use serde_json::Value;

/// What goyaml.v2 resolves a plain scalar to.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Go {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str,
}

/// goyaml.v2's `resolve("", s)` for a plain, untagged scalar.
pub(super) fn resolve(s: &str) -> Go {
    let Some(&first) = s.as_bytes().first() else {
        return Go::Null;
    };
    match first {
        b'+'
        | b'-'
        | b'0'..=b'9'
        | b'.'
        | b'y'
        | b'Y'
        | b'n'
        | b'N'
        | b't'
        | b'T'
        | b'f'
        | b'F'
        | b'o'
        | b'O'
        | b'~' => {}
        _ => return Go::Str,
    }
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Go::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Go::Bool(false)
        }
        "~" | "null" | "Null" | "NULL" => return Go::Null,
        ".nan" | ".NaN" | ".NAN" => return Go::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Go::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Go::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match first {
        b'.' => {
            // strconv.ParseFloat: underscores only between digits.
            if s.contains('_') && !underscore_ok(s) {
                return Go::Str;
            }
            let plain = without_underscores(s);
            match go_float(&plain) {
                Some(f) if f.is_finite() => Go::Float(f),
                _ => Go::Str,
            }
        }
        b'+' | b'-' | b'0'..=b'9' => {
            // Timestamps (`2024-01-01`) resolve to strings for an untyped target; nothing that
            // parses as one parses as a number, so they need no case of their own.
            let plain = without_underscores(s);
            if let Some(v) = parse_int(&plain) {
                return v;
            }
            if go_float(&plain).is_some() {
                if let Ok(f) = plain.parse::<f64>() {
                    if f.is_finite() {
                        return Go::Float(f);
                    }
                }
            }
            Go::Str
        }
        _ => Go::Str,
    }
}

/// `s` without its underscores (goyaml.v2 removes them all before reading a number).
fn without_underscores(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('_') {
        s.replace('_', "").into()
    } else {
        s.into()
    }
}

/// Whether `s` matches `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` (goyaml.v2's
/// `yamlStyleFloat`): then its value.
fn go_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if b.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return None;
        }
        i += 1 + n;
    } else {
        let n = digits(i);
        if n == 0 {
            return None;
        }
        i += n;
        if b.get(i) == Some(&b'.') {
            i += 1 + digits(i + 1);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let n = digits(j);
        if n == 0 {
            return None;
        }
        i = j + n;
    }
    if i != b.len() {
        return None;
    }
    // Rust reads every string of this grammar as Go does (overflow gives infinity).
    s.parse::<f64>().ok()
}

/// Go's `underscoreOK`: every `_` stands between digits (or after a base prefix).
fn underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1].eq_ignore_ascii_case(&b'x');
    }
    while i < s.len() {
        let c = s[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// `strconv.ParseInt(s, 0, 64)`, then `strconv.ParseUint(s, 0, 64)` (`s` holds no `_`).
fn parse_int(s: &str) -> Option<Go> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_uint(unsigned)?;
    if negative {
        if magnitude <= 1u64 << 63 {
            return Some(Go::Int((magnitude as i128).wrapping_neg() as i64));
        }
        return None;
    }
    if let Ok(v) = i64::try_from(magnitude) {
        return Some(Go::Int(v));
    }
    // ParseUint takes no sign.
    (unsigned.len() == s.len()).then_some(Go::Uint(magnitude))
}

/// `strconv.ParseUint(s, 0, 64)` without underscores.
fn parse_uint(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let (radix, digits) = if b[0] == b'0' {
        match b.get(1).map(u8::to_ascii_lowercase) {
            Some(b'b') if b.len() >= 3 => (2, &s[2..]),
            Some(b'o') if b.len() >= 3 => (8, &s[2..]),
            Some(b'x') if b.len() >= 3 => (16, &s[2..]),
            _ => (8, &s[1..]),
        }
    } else {
        (10, s)
    };
    let mut n: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        n = n.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// The key `sigs.k8s.io/yaml` makes of a plain key that goyaml.v2 resolved to `go`; `None` for
/// the keys it refuses (null, unsigned 64-bit).
fn key_string(go: &Go, s: &str) -> Option<String> {
    Some(match go {
        Go::Str => s.to_string(),
        Go::Null | Go::Uint(_) => return None,
        Go::Bool(b) => b.to_string(),
        Go::Int(i) => i.to_string(),
        Go::Float(f) => format_g32(*f),
    })
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)` with goyaml's names for the non-finite values.
fn format_g32(f: f64) -> String {
    let x = f as f32;
    if x.is_nan() {
        return ".nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    // Shortest digits that read back as the same f32, and the decimal exponent.
    let e = format!("{:e}", x.abs());
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0");
    }
    if !(-4..6).contains(&exp) {
        let (head, tail) = digits.split_at(1);
        let dot = if tail.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{head}{dot}{tail}e{esign}{:02}", exp.abs())
    } else if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        format!("{sign}0.{zeros}{digits}")
    } else {
        let point = (exp + 1) as usize;
        if digits.len() <= point {
            format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
        } else {
            format!("{sign}{}.{}", &digits[..point], &digits[point..])
        }
    }
}

/// Whether our reading of a plain value (`ours`: serde-saphyr's, which the fast reader's
/// `resolve` mirrors; `None` where it refuses the scalar) is what kubectl reads.
pub(super) fn agrees(s: &str, ours: Option<&Value>) -> bool {
    same(&resolve(s), s, ours)
}

fn same(go: &Go, s: &str, ours: Option<&Value>) -> bool {
    let Some(ours) = ours else {
        return false;
    };
    match (go, ours) {
        (Go::Null, Value::Null) => true,
        (Go::Bool(a), Value::Bool(b)) => a == b,
        (Go::Str, Value::String(t)) => t == s,
        (Go::Int(i), Value::Number(n)) => {
            n.as_i64() == Some(*i) || (n.is_f64() && n.as_f64() == Some(*i as f64))
        }
        (Go::Uint(u), Value::Number(n)) => {
            n.as_u64() == Some(*u) || (n.is_f64() && n.as_f64() == Some(*u as f64))
        }
        // kubectl reads integral floats and integers alike (as JSON numbers).
        (Go::Float(f), Value::Number(n)) => f.is_finite() && n.as_f64() == Some(*f),
        _ => false,
    }
}

/// Whether kubectl reads the plain key `s` as the key `s` (the text as written, which is what
/// serde-saphyr and the fast reader make of a plain key).
pub(super) fn key_agrees(s: &str) -> bool {
    match resolve(s) {
        // Most keys: no string to make.
        Go::Str => true,
        go => key_string(&go, s).is_some_and(|k| k == s),
    }
}

/// What goyaml.v2's value is, in words.
fn describe(go: &Go, s: &str) -> String {
    match go {
        Go::Null => "null".into(),
        Go::Bool(b) => format!("the boolean {b}"),
        Go::Int(i) => format!("the number {i}"),
        Go::Uint(u) => format!("the number {u}"),
        Go::Float(f) if f.is_nan() => "not-a-number".into(),
        Go::Float(f) if f.is_infinite() => "infinity".into(),
        Go::Float(f) => format!("the number {f}"),
        Go::Str => format!("the text {s:?}"),
    }
}

/// How to write `go` so that every reader reads it alike.
fn spelled(go: &Go) -> Option<String> {
    match go {
        Go::Null => Some("null".into()),
        Go::Bool(b) => Some(b.to_string()),
        Go::Int(i) => Some(i.to_string()),
        Go::Uint(u) => Some(u.to_string()),
        Go::Float(f) if f.is_finite() => Some(format!("{f:?}")),
        Go::Float(_) | Go::Str => None,
    }
}

/// `s` in single quotes, as YAML writes it.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Why kubectl's reading of the plain value `s` differs from ours, or `None` when it does not.
fn value_problem(s: &str, ours: Option<&Value>) -> Option<String> {
    let go = resolve(s);
    if same(&go, s, ours) {
        return None;
    }
    let text = quoted(s);
    let c = code(s);
    if matches!(go, Go::Float(f) if !f.is_finite()) {
        return Some(format!(
            "the plain value {c} is {} to kubectl, kustomize and Argo CD (goyaml.v2), which JSON cannot hold, so kubectl refuses the document: write {text} for the text",
            describe(&go, s)
        ));
    }
    let ours = match ours {
        None => "out of range".to_string(),
        Some(Value::Null) => "null".into(),
        Some(Value::Bool(b)) => format!("the boolean {b}"),
        Some(Value::Number(n)) => format!("the number {n}"),
        Some(Value::String(t)) => format!("the text {t:?}"),
        Some(_) => "a collection".into(),
    };
    let fix = match spelled(&go) {
        Some(v) => format!(
            "write {v} if you mean {}, or {text} for the text",
            describe(&go, s)
        ),
        None => format!("write {text} for the text"),
    };
    Some(format!(
        "the plain value {c} is {} to kubectl, kustomize and Argo CD (goyaml.v2) but {ours} to YAML 1.2 readers: {fix}",
        describe(&go, s)
    ))
}

/// Why kubectl's reading of the plain key `s` differs from the key `s`, or `None`.
fn key_problem(s: &str) -> Option<String> {
    let go = resolve(s);
    let c = code(s);
    match key_string(&go, s) {
        Some(k) if k == s => None,
        Some(k) => Some(format!(
            "the plain key {c} is {} to kubectl, kustomize and Argo CD (goyaml.v2), which make it the key {k:?}: write {} for the key {s:?}, or {k} if you mean {k:?}",
            describe(&go, s),
            quoted(s)
        )),
        None => Some(format!(
            "the plain key {c} is {} to kubectl, kustomize and Argo CD (goyaml.v2), which refuse it as a key: write {} for the key {s:?}",
            if s.is_empty() { "an empty key, null".to_string() } else { describe(&go, s) },
            quoted(s)
        )),
    }
}

/// A disagreement found by [`check`]: 1-based line and column within the text, and why.
pub(super) type Problem = (usize, usize, String);

/// Reads the document's events and returns the first plain scalar that goyaml.v2 reads
/// differently from serde-saphyr: a key or value resolved otherwise ([`agrees`], [`key_agrees`]),
/// or a scalar in a flow collection that goyaml.v2's scanner ends elsewhere (at `?`, or not at a
/// `:` that a flow indicator follows: `[1.2.3.4, 2001:db8::]`). `Ok` when there is none or the
/// text is not valid YAML (serde-saphyr then reports the error).
pub(super) fn check(text: &str) -> Result<(), Problem> {
    use granit_parser::{Event, Parser, ScalarStyle, StructureStyle};
    struct Open {
        map: bool,
        flow: bool,
        nodes: usize,
    }
    let mut open: Vec<Open> = Vec::new();
    for event in Parser::new_from_str_with_options(text, crate::yaml::event_options()) {
        let Ok((event, span)) = event else {
            return Ok(());
        };
        let (key, flow) = match open.last_mut() {
            Some(top) => {
                let key = top.map && top.nodes % 2 == 0;
                (key, top.flow)
            }
            None => (false, false),
        };
        let node = match &event {
            Event::Scalar(s, style, _, tag) => {
                if *style == ScalarStyle::Plain && tag.is_none() {
                    let at = (span.start.line(), span.start.col() + 1);
                    let start = span.start.byte_offset();
                    let end = span.end.byte_offset();
                    if flow {
                        if let Some(why) = flow_problem(text, s, start, end) {
                            return Err((at.0, at.1, why));
                        }
                    }
                    let why = if key {
                        // `<<` is a merge key to both readers.
                        if s.as_ref() == "<<" {
                            None
                        } else {
                            key_problem(s)
                        }
                    } else {
                        value_problem(s, super::fast::resolve(s).as_ref())
                    };
                    if let Some(why) = why {
                        return Err((at.0, at.1, why));
                    }
                }
                true
            }
            Event::Alias(_) | Event::UnresolvedAlias(_) => true,
            Event::SequenceStart(style, ..) | Event::MappingStart(style, ..) => {
                let map = matches!(event, Event::MappingStart(..));
                if let Some(top) = open.last_mut() {
                    top.nodes += 1;
                }
                open.push(Open {
                    map,
                    flow: matches!(style, StructureStyle::Flow),
                    nodes: 0,
                });
                false
            }
            Event::SequenceEnd | Event::MappingEnd => {
                open.pop();
                false
            }
            Event::DocumentEnd => break,
            _ => false,
        };
        if node {
            if let Some(top) = open.last_mut() {
                top.nodes += 1;
            }
        }
    }
    Ok(())
}

/// Where goyaml.v2's scanner reads a plain scalar in a flow collection otherwise than YAML 1.2:
/// `s` is serde-saphyr's text, written at `text[start..end]`.
fn flow_problem(text: &str, s: &str, start: Option<usize>, end: Option<usize>) -> Option<String> {
    let go_text = |from: usize| -> &str {
        // goyaml.v2 ends it at a blank, at `,?[]{}` or at a `:` followed by a blank.
        let b = text.as_bytes();
        let mut j = from;
        while j < b.len() {
            match b[j] {
                b' ' | b'\t' | b'\r' | b'\n' | b',' | b'?' | b'[' | b']' | b'{' | b'}' => break,
                b':' if matches!(b.get(j + 1), None | Some(b' ' | b'\t' | b'\r' | b'\n')) => break,
                _ => j += 1,
            }
        }
        &text[from..j]
    };
    let c = code(s);
    if s.starts_with([':', '?']) {
        return Some(format!(
            "{c} in a flow collection: kubectl and other Go readers (goyaml.v2) read its `{}` as YAML syntax, not as text: write {} for the text",
            &s[..1],
            quoted(s)
        ));
    }
    if s.contains('?') {
        return Some(format!(
            "{c} in a flow collection: kubectl and other Go readers (goyaml.v2) end the text at `?` and cannot read the rest: write {}",
            quoted(s)
        ));
    }
    let (start, end) = (start?, end?);
    let rest = text.get(end..)?;
    let b = rest.as_bytes();
    if b.first() == Some(&b':') && matches!(b.get(1), Some(b',' | b'[' | b']' | b'{' | b'}')) {
        let go = go_text(start);
        let c = code(go);
        return Some(format!(
            "{c} in a flow collection is the text {go:?} to kubectl, kustomize and Argo CD (goyaml.v2), but a key {s:?} to YAML 1.2 readers: write {} for the text",
            quoted(go)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the fuzz target yaml_stream: text holding a backtick closed the backticks
    /// around it, and the rest read as the message's own words.
    #[test]
    fn texts_with_backticks_are_shown_in_double_quotes() {
        let (line, _, why) = check("a: [x`y?z]\n").unwrap_err();
        assert_eq!(line, 1);
        assert!(why.starts_with("\"x`y?z\" in a flow collection"), "{why}");
        let (_, _, why) = check("a: [xy?z]\n").unwrap_err();
        assert!(why.starts_with("`xy?z` in a flow collection"), "{why}");
    }

    #[test]
    fn scalars_resolve_as_goyaml_v2_resolves_them() {
        // Each was read by kubectl 1.32 (`kubectl label --local -o json`).
        for (s, want) in [
            ("0X1f", Go::Int(31)),
            ("0B101", Go::Int(5)),
            ("1__0", Go::Int(10)),
            ("1_", Go::Int(1)),
            ("08", Go::Float(8.0)),
            ("0x_1F", Go::Int(31)),
            ("+0x10", Go::Int(16)),
            ("-0b101", Go::Int(-5)),
            ("-0x8000000000000000", Go::Int(i64::MIN)),
            ("9223372036854775808", Go::Uint(1 << 63)),
            ("18446744073709551616", Go::Float(18446744073709551616.0)),
            ("1.", Go::Float(1.0)),
            (".5", Go::Float(0.5)),
            (".5_0", Go::Float(0.5)),
            ("._5", Go::Str),
            ("1_0.5", Go::Float(10.5)),
            ("1e3_0", Go::Float(1e30)),
            ("0.0_1", Go::Float(0.01)),
            ("1e999", Go::Str),
            ("0x1.8p1", Go::Str),
            ("0o17", Go::Int(15)),
            ("0O17", Go::Int(15)),
            ("00", Go::Int(0)),
            ("0_", Go::Int(0)),
            ("-0", Go::Int(0)),
            ("+12", Go::Int(12)),
            ("-0x", Go::Str),
            ("0b", Go::Str),
            ("0b2", Go::Str),
            ("0755", Go::Int(493)),
            ("2024-01-01", Go::Str),
            ("2024-1-2", Go::Str),
            ("12:30", Go::Str),
            ("=", Go::Str),
            ("<<", Go::Str),
            ("yes", Go::Bool(true)),
            ("yEs", Go::Str),
            ("tRue", Go::Str),
            ("On", Go::Bool(true)),
            ("n", Go::Bool(false)),
            ("~", Go::Null),
            ("", Go::Null),
            ("nUll", Go::Str),
            ("inf", Go::Str),
            (".iNf", Go::Str),
            ("-.Inf", Go::Float(f64::NEG_INFINITY)),
            ("1.2.3", Go::Str),
        ] {
            let got = resolve(s);
            let ok = match (&got, &want) {
                (Go::Float(a), Go::Float(b)) => a == b,
                _ => got == want,
            };
            assert!(ok, "{s}: {got:?}, want {want:?}");
        }
        assert!(matches!(resolve(".nan"), Go::Float(f) if f.is_nan()));
    }

    #[test]
    fn keys_become_what_sigs_k8s_io_yaml_makes_of_them() {
        // kubectl read `1.5: 4` as "1.5", `1e3: 5` as "1000", `0755: 3` as "493".
        for (s, want) in [
            ("on", Some("true")),
            ("True", Some("true")),
            ("y", Some("true")),
            ("n", Some("false")),
            ("0755", Some("493")),
            ("0x1F", Some("31")),
            ("80", Some("80")),
            ("1.5", Some("1.5")),
            ("1e3", Some("1000")),
            ("1e6", Some("1e+06")),
            ("0.00001", Some("1e-05")),
            ("3.14159265", Some("3.1415927")),
            ("-2.5", Some("-2.5")),
            (".inf", Some(".inf")),
            ("~", None),
            ("9223372036854775808", None),
            ("name", Some("name")),
        ] {
            assert_eq!(key_string(&resolve(s), s).as_deref(), want, "{s}");
        }
        assert!(key_agrees("80") && key_agrees("1.5") && key_agrees("name"));
        assert!(!key_agrees("on") && !key_agrees("0755") && !key_agrees("~"));
    }

    #[test]
    fn disagreements_are_found_and_located() {
        let cases = [
            ("a: [1.2.3.4, 001:db8::]\n", 1, 14, "`001:db8::`"),
            (
                "a: {address: 2001:db8::, port: 53}\n",
                1,
                14,
                "`2001:db8::`",
            ),
            ("a:\n  b: 0X1f\n", 2, 6, "the number 31"),
            ("a:\n  on: 1\n", 2, 3, "the key \"true\""),
            ("a:\n  ~: 1\n", 2, 3, "refuse it as a key"),
            ("a: [x, a?b]\n", 1, 8, "end the text at `?`"),
            ("a: tRue\n", 1, 4, "the text \"tRue\""),
            ("a: 1e999\n", 1, 4, "out of range"),
            ("a: .inf\n", 1, 4, "infinity"),
            ("a: [.nan]\n", 1, 5, "not-a-number"),
        ];
        for (text, line, column, says) in cases {
            let (l, c, why) = check(text).expect_err(text);
            assert_eq!((l, c), (line, column), "{text}: {why}");
            assert!(why.contains(says), "{text}: {why}");
        }
        for fine in [
            "a: [1.2.3.4, '001:db8::']\n",
            "a: {x: 2001:db8::1, z: a:b}\n",
            "a: 0755\nb: yes\nc: 1_000\nd: 2024-01-01\n80: x\n1.5: y\ntrue: z\n",
            "a: 'on'\n'on': 1\n\"0755\": 2\n",
            "a: !!str 0X1f\n",
            "a: [1, 2]\nb: {c: d}\n",
            "<<: {a: 1}\n",
            "a: [\n",
        ] {
            assert_eq!(check(fine), Ok(()), "{fine}");
        }
    }
}
