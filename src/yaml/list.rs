//! A KRM `ResourceList` read item by item. The list is one YAML document, so read whole its
//! items are all trees at once (a 200,000-item list, 41 MiB of text, made 420 MiB of them). When
//! its text is laid out as orchestrators write it (kustomize, kpt: `items:` at the left margin,
//! each item a block sequence entry), [`split`] cuts it into its envelope (every line but the
//! items') and its items, and each item is read as a document of its own by the fast reader,
//! its lines moved left by its indentation, which YAML's rules are relative to.
//!
//! Only what is certain to read the same is cut: a line the cut would change the meaning of
//! (one less indented than its item, a document marker or directive once moved), carriage
//! returns, a second `items:` line, and anything the fast reader declines (anchors and aliases,
//! which may cross items, tags…) make the caller read the list whole instead. The envelope
//! keeps one placeholder item where the items were ([`Split::envelope`]): unless it reads back
//! as the list's only item, the `items:` line was not the list's key (it was inside a quoted
//! scalar that spans lines, or inside a flow collection), and the list is read whole. A test
//! and the fuzz target `resource_list` compare both readings.

use serde_json::{Map, Value};

/// A ResourceList's text cut into envelope and items.
pub struct Split<'a> {
    /// The text with one item, `placeholder`, in place of the items' lines.
    envelope: String,
    /// A plain scalar that `text` does not hold.
    placeholder: String,
    text: &'a str,
    /// Byte ranges of each item's lines in `text`.
    items: Vec<(usize, usize)>,
    /// Column of the items' `-`.
    dash: usize,
}

/// The lines of `text` with their byte offsets (each with its `\n`, the last maybe without).
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n').map(move |line| {
        let start = at;
        at += line.len();
        (start, line)
    })
}

/// `line` without its line feed.
fn body(line: &str) -> &str {
    line.strip_suffix('\n').unwrap_or(line)
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn blank(line: &str) -> bool {
    body(line).bytes().all(|b| b == b' ')
}

/// Whether `line`, once at the left margin, would start a document, end one or be a directive.
fn marker(line: &str) -> bool {
    let b = body(line).as_bytes();
    let three = |c: u8| b.len() >= 3 && b[..3] == [c; 3] && matches!(b.get(3), None | Some(b' '));
    three(b'-') || three(b'.') || b.first() == Some(&b'%')
}

/// Whether `line` starts a sequence entry at column `dash`.
fn entry(line: &str, dash: usize) -> bool {
    let b = body(line).as_bytes();
    indent(line) == dash
        && b.get(dash) == Some(&b'-')
        && matches!(b.get(dash + 1), None | Some(b' '))
}

/// `text` cut into envelope and items, or `None` when it must be read whole (see the module's
/// comment). Also `None` when the fast reader is off (`NIXERNETES_YAML_FAST=0`) and when there
/// are no items.
pub fn split(text: &str) -> Option<Split<'_>> {
    if !super::fast_on() || text.contains('\r') || text.starts_with('\u{feff}') {
        return None;
    }
    let mut keys = lines(text).filter(|(_, l)| body(l).trim_end_matches(' ') == "items:");
    let (key_at, key_line) = keys.next()?;
    if keys.next().is_some() {
        return None;
    }
    let region = key_at + key_line.len();
    let mut rest = lines(&text[region..]).map(|(at, l)| (at + region, l));
    let (first_at, first) = rest.by_ref().find(|(_, l)| !blank(l))?;
    let dash = indent(first);
    if !entry(first, dash) {
        return None;
    }
    let mut items = vec![(first_at, first_at + first.len())];
    let mut end = text.len();
    for (at, line) in rest {
        if blank(line) {
            // A blank line ends a block scalar's content or belongs to it (`|+`): either way
            // it is the item's.
        } else if entry(line, dash) {
            items.push((at, at + line.len()));
            continue;
        } else if indent(line) == 0 && !line.starts_with('#') && !marker(line) {
            // The next key of the envelope.
            end = at;
            break;
        } else if indent(line) < dash + 2 || marker(&line[dash + 2..]) {
            return None;
        }
        if let Some(item) = items.last_mut() {
            item.1 = at + line.len();
        }
    }
    if items
        .iter()
        .any(|&(start, _)| marker(&text[start + (dash + 2).min(text.len() - start)..]))
    {
        return None;
    }
    // The name followed by more dashes than any occurrence of it in `text` has.
    let name = "nixernetes-items-placeholder";
    let dashes = text
        .match_indices(name)
        .map(|(at, _)| {
            1 + text[at + name.len()..]
                .bytes()
                .take_while(|&b| b == b'-')
                .count()
        })
        .max()
        .unwrap_or(0);
    let placeholder = format!("{name}{:-<dashes$}", "");
    let envelope = format!(
        "{}{:dash$}- {placeholder}\n{}",
        &text[..region],
        "",
        &text[end..]
    );
    Some(Split {
        envelope,
        placeholder,
        text,
        items,
        dash,
    })
}

impl Split<'_> {
    /// The list without its items, read as [`super::parse_list`] reads it; `None` when it
    /// cannot be read, is not a mapping, or its `items` is not the placeholder alone: then the
    /// `items:` line the cut was made at is not the list's key, and the list is to be read whole.
    pub fn envelope(&self) -> Option<Map<String, Value>> {
        let Value::Object(mut envelope) = super::parse_list(&self.envelope).ok()? else {
            return None;
        };
        match envelope.remove("items") {
            Some(Value::Array(items)) if matches!(&items[..], [Value::String(s)] if *s == self.placeholder) => {
                Some(envelope)
            }
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The text of item `i` as a document of its own: each line moved left past its entry's
    /// `- ` (a line of spaces only, to the margin).
    pub fn item_text(&self, i: usize) -> String {
        let (start, end) = self.items[i];
        let cut = self.dash + 2;
        let mut out = String::with_capacity(end - start);
        for (_, line) in lines(&self.text[start..end]) {
            if body(line).len() <= cut {
                // `-` alone, or spaces: nothing of the line stays but its end.
                if line.ends_with('\n') {
                    out.push('\n');
                }
            } else {
                out.push_str(&line[cut..]);
            }
        }
        out
    }

    /// Item `i` as the fast reader reads it, within the scalar budget the whole list would
    /// have (`yaml::parse_list`); `None` when it declines, and the list is to be read whole.
    pub fn item(&self, i: usize) -> Option<Value> {
        let text = self.item_text(i);
        let budget = self.text.len().max(super::MAX_DOCUMENT_SCALAR_BYTES);
        // An item that is only a comment or nothing is `null` in the whole list; the fast
        // reader has no document to read there.
        if text.lines().all(|l| {
            let l = l.trim_start_matches(' ');
            l.is_empty() || l.starts_with('#')
        }) {
            return Some(Value::Null);
        }
        super::fast::parse_within(&text, budget)
    }
}

#[cfg(test)]
mod tests {
    use super::split;
    use serde_json::Value;

    /// What the items read as, cut, or `None` when the text is read whole.
    fn cut(text: &str) -> Option<Vec<Value>> {
        let s = split(text)?;
        (0..s.len()).map(|i| s.item(i)).collect()
    }

    /// The items as the whole list reads them.
    fn whole(text: &str) -> Vec<Value> {
        match crate::yaml::parse_list(text).expect("reads") {
            Value::Object(mut m) => match m.remove("items") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// Layouts orchestrators write are cut, and read as the whole list reads them; the
    /// envelope keeps everything else.
    #[test]
    fn an_orchestrators_list_is_cut_into_its_items() {
        let cases = [
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n  data:\n    s: |\n      x\n\n       y\n\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: b}\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n",
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    data:\n      k: |+\n        kept\n\n  -\n    apiVersion: v1\n    kind: ConfigMap\n  - - nested\n  - # only a comment\n",
            "kind: ResourceList\napiVersion: config.kubernetes.io/v1\nitems:\n- a: 'x\n    y'\n  b: \"multi\n    line\"\n  c: plain\n    continued\n- {flow: [1, 2]}\n- scalar\n",
        ];
        for (i, text) in cases.into_iter().enumerate() {
            let s = split(text).unwrap_or_else(|| panic!("not cut:\n{text}"));
            assert!(
                !s.envelope.contains("ConfigMap\n  metadata"),
                "{}",
                s.envelope
            );
            let envelope = s.envelope().unwrap_or_else(|| panic!("{}", s.envelope));
            let mut whole_envelope = match crate::yaml::parse_list(text) {
                Ok(Value::Object(m)) => m,
                other => panic!("{other:?}"),
            };
            whole_envelope.remove("items");
            assert_eq!(envelope, whole_envelope, "{text}");
            match cut(text) {
                Some(items) => assert_eq!(items, whole(text), "{text}"),
                // Multi-line scalars and scalar items: the fast reader may decline them, and
                // then the list is read whole.
                None => assert_eq!(i, 2, "declined:\n{text}"),
            }
        }
    }

    /// What the cut could read otherwise is read whole.
    #[test]
    fn what_could_read_otherwise_is_read_whole() {
        let head = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n";
        for items in [
            // A comment at the margin between items, a line less indented than its item.
            "items:\n- a: 1\n# c\n- b: 2\n",
            "items:\n  - a: |\n     x\n   y: 1\n",
            // Markers once moved left, a second items key, carriage returns.
            "items:\n- a: |\n    x\n  --- b\n",
            "items:\n- a: 1\nitems:\n- b: 2\n",
            "items:\r\n- a: 1\r\n",
            // Not a block sequence.
            "items: [a, b]\n",
            "items:\n  a: 1\n",
            "items:\n",
        ] {
            let text = format!("{head}{items}");
            assert!(split(&text).is_none(), "cut:\n{text}");
        }
        // Anchors and aliases may cross items: the fast reader declines them.
        let text = format!("{head}items:\n- &a {{x: 1}}\n- *a\n");
        assert_eq!(cut(&text), None);
    }

    /// An `items:` line at the margin that is not the list's key (found by the fuzz target
    /// `resource_list`: inside a quoted scalar that spans lines, the list has no items and the
    /// cut read one) is read whole: the envelope's placeholder does not read as its items.
    #[test]
    fn an_items_line_that_is_not_the_key_is_read_whole() {
        let head = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n";
        let body = "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n";
        for (before, after) in [
            // Inside quoted scalars that span lines, at the top and deeper.
            ("note: \"open\n", "close\"\n"),
            ("note: 'open\n", "close'\n"),
            (
                "functionConfig:\n  metadata:\n    annotations:\n      a: \"open\n",
                "x\"\n",
            ),
            // The same with an `items` key of the envelope's own, even one holding the
            // placeholder's name.
            ("'items': []\nnote: \"open\n", "close\"\n"),
            (
                "'items': [nixernetes-items-placeholder]\nnote: \"\n",
                "close\"\n",
            ),
            // Inside flow collections, which a block sequence cannot be in.
            ("x: [\n", "]\n"),
            ("x: {\n", "}\n"),
        ] {
            let text = format!("{head}{before}{body}{after}");
            let s = split(&text).unwrap_or_else(|| panic!("not even cut:\n{text}"));
            assert_eq!(s.envelope(), None, "{}", s.envelope);
            // Where the whole list reads, the cut would have read other items.
            if crate::yaml::parse_list(&text).is_ok() {
                assert_ne!(cut(&text), Some(whole(&text)), "{text}");
            }
        }
        let text =
            format!("{{apiVersion: config.kubernetes.io/v1, kind: ResourceList,\n{body}}}\n");
        assert_eq!(split(&text).and_then(|s| s.envelope()), None);
        // A list that holds the placeholder's name is still cut, with a longer placeholder.
        let text = format!("{head}{body}- name: nixernetes-items-placeholder--\n");
        let s = split(&text).expect("cut");
        assert!(s.envelope().is_some(), "{}", s.envelope);
        assert_eq!(cut(&text), Some(whole(&text)));
    }
}
