//! Where a field is written, found by reading only the lines a path goes through.
//!
//! [`super::locate::Outline`] reads a whole document to answer a path; placing a few findings
//! in each of many documents that way costs about half of reading them in the first place.
//! In block style, the entries of a mapping (and the items of a sequence) are the lines at its
//! column: everything more indented belongs to the entry above, blank and comment-only lines
//! belong to nothing. So a path is followed by looking at the lines at each level it goes
//! through and skipping the others by their indentation. What is read at those levels is read
//! by the fast reader's own rules ([`super::fast::line_entry`], [`super::fast::line_value`]).
//!
//! Indentation delimits everything but quoted scalars and flow collections, which YAML readers
//! let go on over lines at any indentation: [`Skim::new`] first checks, line by line, that each
//! one closes on the line it opens on. It declines tabs, anchors, tags, aliases, explicit keys,
//! document markers inside the text and values the fast reader declines. Declining is always
//! correct: the caller reads the document whole instead. Where [`Skim`] answers, it answers as
//! the event parser's outline does (a test compares them over every sample, mangled variants
//! of them and generated documents). This module must not report errors or panic.

use super::fast::{self, Inline};
use super::locate::{Located, Outline};

/// The lines of one document, ready to be skimmed.
pub struct Skim<'a> {
    text: &'a str,
    lines: Vec<Line>,
    /// Index of the first content line.
    first: usize,
    keys: Keys<'a>,
}

#[derive(Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
    /// Column of the first character that is not a space.
    indent: usize,
    /// Whether the line holds content: not blank, not only a comment.
    content: bool,
    /// The next content line indented no further than this one (`usize::MAX` for none): the
    /// next entry or item of the collection a line at its indentation belongs to, or the end.
    next: usize,
}

/// A key of a mapping, the line (index) it is on and the byte its value starts at.
type Key<'a> = (std::borrow::Cow<'a, str>, usize, usize);

/// The keys read of each mapping, by its first line and column (`None`: declined).
type Keys<'a> = std::cell::RefCell<Vec<((usize, usize), Option<std::rc::Rc<[Key<'a>]>>)>>;

/// A node a path reached.
enum Node<'a> {
    /// A block mapping whose first entry is on line `line` (an index) at column `col`; later
    /// entries are the lines at that column. `Seq` likewise for a block sequence's items.
    Map {
        line: usize,
        col: usize,
    },
    Seq {
        line: usize,
        col: usize,
    },
    /// A flow collection on one line.
    Flow(Outline<'a>),
    /// A scalar: its text when it is all on its line (`None` for block and multi-line ones).
    Scalar(Option<String>),
    Null,
}

impl<'a> Skim<'a> {
    /// `None` when the text is not one the skim can read (then read it whole), and always with
    /// `NIXERNETES_YAML_FAST=0`, since the skim reads by the fast reader's rules
    /// ([`super::fast_reader`]).
    pub fn new(text: &'a str) -> Option<Skim<'a>> {
        if !super::fast_on() {
            return None;
        }
        let b = text.as_bytes();
        if text.len() > super::MAX_DOCUMENT_SCALAR_BYTES || !fast::plain_chars(b) {
            return None;
        }
        if memchr::memchr(b'\t', b).is_some() {
            return None;
        }
        let mut lines: Vec<Line> = Vec::with_capacity(b.len() / 16);
        let mut start = 0;
        while start < b.len() {
            let end = memchr::memchr(b'\n', &b[start..]).map_or(b.len(), |i| start + i);
            let line = &b[start..end];
            let indent = line.iter().take_while(|&&c| c == b' ').count();
            let mut content = indent < line.len() && line[indent] != b'#';
            if indent == 0 && (line.starts_with(b"---") || line.starts_with(b"...")) {
                // A `---` may only open the text, with nothing after it.
                let rest = text[start + 3..end].trim_start_matches(' ');
                let opens = lines.is_empty() && line[0] == b'-';
                if !opens || !(rest.is_empty() || rest.starts_with('#')) {
                    return None;
                }
                content = false;
            }
            lines.push(Line {
                start,
                end,
                indent,
                content,
                next: usize::MAX,
            });
            start = end + 1;
        }
        // Each content line's next one at its indentation or less: a stack of the lines still
        // waiting, their indentations increasing.
        let mut waiting: Vec<usize> = Vec::new();
        for j in 0..lines.len() {
            if !lines[j].content {
                continue;
            }
            while let Some(&k) = waiting.last() {
                if lines[k].indent < lines[j].indent {
                    break;
                }
                lines[k].next = j;
                waiting.pop();
            }
            waiting.push(j);
        }
        let first = lines.iter().position(|l| l.content)?;
        let skim = Skim {
            text,
            lines,
            first,
            keys: Keys::default(),
        };
        skim.closed_on_their_lines().then_some(skim)
    }

    fn text_of(&self, i: usize) -> &'a str {
        let l = self.lines[i];
        &self.text[l.start..l.end]
    }

    /// The next content line after line `i`.
    fn next_content(&self, i: usize) -> Option<usize> {
        (i + 1..self.lines.len()).find(|&j| self.lines[j].content)
    }

    /// The next content line after line `i` indented no further than `col`, where line `i`
    /// holds content at `col` (its own indentation, or further on for `- key: v`).
    fn next_at(&self, i: usize, col: usize) -> Option<usize> {
        let mut j = self.lines[i].next;
        // From a line indented less than `col`, the jump may pass lines between.
        if self.lines[i].indent < col {
            j = self.next_content(i)?;
            while self.lines[j].indent > col {
                j = self.lines[j].next;
                if j == usize::MAX {
                    return None;
                }
            }
        }
        (j != usize::MAX).then_some(j)
    }

    /// Whether line `i` holds a `- ` item at column `col`.
    fn item_at(&self, i: usize, col: usize) -> bool {
        let b = self.text_of(i).as_bytes();
        b.get(col) == Some(&b'-') && matches!(b.get(col + 1), None | Some(b' '))
    }

    /// The line of `path` (as [`Outline::locate`] answers it); `None` to decline.
    pub fn locate(&self, path: &str) -> Option<Located> {
        let (line, found, _) = self.walk(path)?;
        Some(Located { line, found })
    }

    /// The text of the scalar at `path` (as [`Outline::scalar`] answers it): `Some(None)` when
    /// the path is not there or does not end at a scalar, `None` to decline.
    pub fn scalar(&self, path: &str) -> Option<Option<String>> {
        match self.walk(path)? {
            (_, true, Node::Scalar(text)) => text.map(Some),
            _ => Some(None),
        }
    }

    /// Follows `path`: (1-based line of the deepest key or item reached, whether the whole
    /// path was followed, the node reached).
    fn walk(&self, path: &str) -> Option<(usize, bool, Node<'a>)> {
        let root = self.first;
        let col = self.lines[root].indent;
        let mut node = match fast::line_value(self.text_of(root), col)? {
            Inline::Item => Node::Seq { line: root, col },
            Inline::Entry => Node::Map { line: root, col },
            _ => return None,
        };
        let mut line = root + 1;
        let mut rest = path;
        while !rest.is_empty() {
            let step = match &node {
                Node::Map { line, col } => self.entry(*line, *col, rest)?,
                Node::Seq { line, col } => match super::locate::item(rest) {
                    Some((i, tail)) => self.item(*line, *col, i)?.map(|(l, n)| (l, n, tail)),
                    None => None,
                },
                Node::Flow(o) => {
                    // Inside one line: the line stays; only whether the path is there changes.
                    let at = o.locate(rest);
                    let scalar = o.scalar(rest).map(str::to_string);
                    return Some((line, at.found, Node::Scalar(scalar)));
                }
                Node::Scalar(_) | Node::Null => None,
            };
            let Some((at, child, tail)) = step else {
                return Some((line, false, node));
            };
            (line, node) = (at, child);
            rest = tail.strip_prefix('.').unwrap_or(tail);
        }
        Some((line, true, node))
    }

    /// The entry of the mapping at (`first`, `col`) that `rest` goes into: the longest key
    /// `rest` starts with as whole segments (a key of a scalar only as all of it), the first
    /// written of equals. Its 1-based line, its value and what follows it in `rest`.
    fn entry<'p>(
        &self,
        first: usize,
        col: usize,
        rest: &'p str,
    ) -> Option<Option<(usize, Node<'a>, &'p str)>> {
        let mut best: Option<(usize, Node<'a>, &'p str)> = None;
        let keys = self.keys(first, col)?;
        for &(ref key, i, at) in keys.iter() {
            let Some(tail) = rest.strip_prefix(&**key) else {
                continue;
            };
            let inline = fast::line_value(self.text_of(i), at)?;
            let (_, node) = self.value(i, inline, at, col, true)?;
            let scalar = matches!(node, Node::Scalar(_));
            let whole = tail.is_empty() || (!scalar && tail.starts_with(['.', '[']));
            let longer = best.as_ref().is_none_or(|b| tail.len() < b.2.len());
            if whole && longer {
                best = Some((i + 1, node, tail));
            }
        }
        Some(best)
    }

    /// The keys of the mapping at (`first`, `col`) with their lines and where their values
    /// start; `None` to decline. Read once per mapping: the paths of one document go through
    /// the same ones.
    fn keys(&self, first: usize, col: usize) -> Option<std::rc::Rc<[Key<'a>]>> {
        if let Some((_, keys)) = self
            .keys
            .borrow()
            .iter()
            .find(|(at, _)| *at == (first, col))
        {
            return keys.clone();
        }
        let keys = self.read_keys(first, col).map(std::rc::Rc::from);
        self.keys.borrow_mut().push(((first, col), keys.clone()));
        keys
    }

    fn read_keys(&self, first: usize, col: usize) -> Option<Vec<Key<'a>>> {
        let mut keys = Vec::new();
        let mut empty_above = false;
        let mut i = first;
        loop {
            if self.item_at(i, col) && i != first {
                // Items at the mapping's column are the value of the entry above them.
                if !empty_above {
                    return None;
                }
            } else {
                let text = self.text_of(i);
                let (key, at) = fast::line_entry(text, col)??;
                let after = text[at..].trim_start_matches(' ');
                empty_above = after.is_empty() || after.starts_with('#');
                keys.push((key, i, at));
            }
            // The next line at the mapping's column; less indented ones end it.
            match self.next_at(i, col) {
                Some(j) if self.lines[j].indent == col => i = j,
                _ => break,
            }
        }
        Some(keys)
    }

    /// Item `index` of the sequence at (`first`, `col`): its 1-based line and node.
    fn item(&self, first: usize, col: usize, index: usize) -> Option<Option<(usize, Node<'a>)>> {
        let mut i = first;
        for _ in 0..index {
            match self.next_at(i, col) {
                Some(j) if self.lines[j].indent == col && self.item_at(j, col) => i = j,
                _ => return Some(None),
            }
        }
        let inline = fast::line_value(self.text_of(i), col + 1)?;
        self.value(i, inline, col + 1, col, false).map(Some)
    }

    /// The value written after a key or `- ` on line `i` (read there as `inline`, from byte
    /// `at`), in the collection at column `col`: the 1-based line it starts on, and the node.
    fn value(
        &self,
        i: usize,
        inline: Inline<'a>,
        at: usize,
        col: usize,
        in_map: bool,
    ) -> Option<(usize, Node<'a>)> {
        // A plain scalar goes on over the lines indented past its collection.
        let alone = || {
            self.next_content(i)
                .is_none_or(|j| self.lines[j].indent <= col)
        };
        let node = match inline {
            Inline::Empty => {
                let next = self.next_content(i).map(|j| (j, self.lines[j].indent));
                return match next {
                    Some((j, indent)) if indent > col => {
                        // A scalar alone on the next lines is left to others.
                        let node = match fast::line_value(self.text_of(j), indent)? {
                            Inline::Item => Node::Seq {
                                line: j,
                                col: indent,
                            },
                            Inline::Entry => Node::Map {
                                line: j,
                                col: indent,
                            },
                            _ => return None,
                        };
                        Some((j + 1, node))
                    }
                    Some((j, indent)) if in_map && indent == col && self.item_at(j, col) => {
                        Some((j + 1, Node::Seq { line: j, col }))
                    }
                    // Nothing follows: null. An item with no value is left to others.
                    _ if in_map => Some((i + 1, Node::Null)),
                    _ => None,
                };
            }
            Inline::Null => Node::Null,
            Inline::Plain(s) => Node::Scalar(alone().then(|| s.to_string())),
            Inline::Quoted(s) => Node::Scalar(alone().then_some(s)),
            Inline::Flow(nodes, root) => Node::Flow(Outline::from_nodes(nodes, root, i + 1)),
            Inline::BlockScalar => {
                // Other readers place a block scalar at its first line of text.
                let j = (i + 1..self.lines.len()).find(|&j| {
                    let l = self.lines[j];
                    l.indent < l.end - l.start
                })?;
                return (self.lines[j].indent > col).then_some((j + 1, Node::Scalar(None)));
            }
            // `- - a`, `- key: v`: a collection that starts on this line.
            Inline::Item | Inline::Entry if !in_map => {
                let b = self.text_of(i).as_bytes();
                let col = at + b[at..].iter().take_while(|&&c| c == b' ').count();
                if matches!(inline, Inline::Item) {
                    Node::Seq { line: i, col }
                } else {
                    Node::Map { line: i, col }
                }
            }
            Inline::Item | Inline::Entry => return None,
        };
        Some((i + 1, node))
    }

    /// Whether every quoted scalar and flow collection of the text closes on the line it opens
    /// on, and no node starts with an anchor, tag, alias or explicit key. The text of block
    /// scalars (the lines indented past the key or item holding one) is not looked at.
    fn closed_on_their_lines(&self) -> bool {
        let mut block_scalar: Option<usize> = None;
        for (i, line) in self.lines.iter().enumerate() {
            if let Some(parent) = block_scalar {
                if line.indent == line.end - line.start || line.indent > parent {
                    continue;
                }
                block_scalar = None;
            }
            if !line.content {
                continue;
            }
            match node_starts(self.text_of(i).as_bytes(), line.indent) {
                Some(Some(parent)) => block_scalar = Some(parent),
                Some(None) => {}
                None => return false,
            }
        }
        true
    }
}

/// Reads the node starts of one line from column `p`: items, keys and the value after them.
/// `None` when a quoted scalar or flow collection does not close on the line or a node starts
/// with an indicator that is not read here; `Some(Some(col))` when the line opens a block
/// scalar held by the key or item at `col`.
fn node_starts(b: &[u8], mut p: usize) -> Option<Option<usize>> {
    let spaces = |mut p: usize| {
        while p < b.len() && b[p] == b' ' {
            p += 1;
        }
        p
    };
    // The column of the key or item whose value is being read, and whether it is a key.
    let mut holder = p;
    let mut after_key = false;
    loop {
        if p >= b.len() || b[p] == b'#' {
            return Some(None);
        }
        let after_node = match b[p] {
            b'-' if matches!(b.get(p + 1), None | Some(b' ')) && !after_key => {
                holder = p;
                p = spaces(p + 1);
                continue;
            }
            b'"' | b'\'' => quoted_end(b, p)?,
            b'[' | b'{' => flow_end(b, p)?,
            b'|' | b'>' => return Some(Some(holder)),
            b'&' | b'*' | b'!' | b'?' | b':' | b'%' | b'@' | b'`' | b',' | b']' | b'}' => {
                return None
            }
            // A plain value: whatever follows is its text.
            _ if after_key => return Some(None),
            _ => {
                // A plain key ends at `: `; a plain scalar at the end of the line.
                let start = p;
                let mut j = p;
                loop {
                    if j >= b.len() || (b[j] == b'#' && b[j - 1] == b' ') {
                        return Some(None);
                    }
                    if b[j] == b':' && matches!(b.get(j + 1), None | Some(b' ')) {
                        break;
                    }
                    j += 1;
                }
                holder = start;
                after_key = true;
                p = spaces(j + 1);
                continue;
            }
        };
        // After a quoted scalar or flow collection: the end of the line, or `: ` after a key.
        let q = spaces(after_node);
        if q >= b.len() || b[q] == b'#' {
            return Some(None);
        }
        let quoted_key = !after_key && matches!(b[p], b'"' | b'\'');
        if quoted_key && b[q] == b':' && matches!(b.get(q + 1), None | Some(b' ')) {
            holder = p;
            after_key = true;
            p = spaces(q + 1);
            continue;
        }
        return None;
    }
}

/// Just past the quoted scalar that opens at `p`, if it closes on the line.
fn quoted_end(b: &[u8], p: usize) -> Option<usize> {
    let quote = b[p];
    let mut j = p + 1;
    while j < b.len() {
        match b[j] {
            b'\\' if quote == b'"' => j += 2,
            c if c == quote => {
                if quote == b'\'' && b.get(j + 1) == Some(&b'\'') {
                    j += 2;
                } else {
                    return Some(j + 1);
                }
            }
            _ => j += 1,
        }
    }
    None
}

/// Just past the flow collection that opens at `p`, if it closes on the line (before any
/// comment). Quotes open scalars only where a node starts (after `[`, `{`, `,`, `:` and
/// spaces); elsewhere they are text.
fn flow_end(b: &[u8], p: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = p;
    let mut node_start = true;
    while j < b.len() {
        match b[j] {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            b'"' | b'\'' if node_start => {
                j = quoted_end(b, j)?;
                node_start = false;
                continue;
            }
            b'#' if b[j - 1] == b' ' => return None,
            _ => {}
        }
        node_start =
            matches!(b[j], b'[' | b'{' | b',' | b':' | b' ') && (b[j] != b' ' || node_start);
        j += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random block documents with everything that can go on over lines, at every indentation
    /// (well or badly indented), comments and blank lines anywhere, compact forms and nulls.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
            from[self.next(from.len())]
        }

        fn pad(n: usize) -> String {
            " ".repeat(n)
        }

        /// Lines that belong to nothing, at any indentation.
        fn noise(&mut self, out: &mut String) {
            match self.next(8) {
                0 => out.push('\n'),
                1 => {
                    let pad = Self::pad(self.next(6));
                    out.push_str(&format!("{pad}# c: \"x [y\n"));
                }
                _ => {}
            }
        }

        /// A value after `key:` or `- ` at the collection's column `col`.
        fn value(&mut self, out: &mut String, col: usize, depth: usize) {
            let under = |g: &mut Gen| Self::pad(g.next(col + 4));
            match self.next(if depth > 3 { 9 } else { 13 }) {
                0 => out.push_str(&format!(
                    " {}\n",
                    self.pick(&[
                        "x",
                        "1",
                        "true",
                        "y",
                        "a b",
                        "http://h:1/p",
                        "it's",
                        "~",
                        "null",
                        "x # c",
                        "-1",
                        "a:b",
                        "0X1f",
                        "1__0",
                        "[1.2.3.4, 001:db8::]",
                        "{address: 2001:db8::, port: 53}",
                        "[a?b]"
                    ])
                )),
                1 => out.push_str(&format!(
                    " {}\n",
                    self.pick(&[
                        "\"q\"",
                        "'s'",
                        "\"a\\\"b\"",
                        "'it''s'",
                        "\"\"",
                        "\"x: y\"",
                        "\"[\""
                    ])
                )),
                2 => {
                    let pad = under(self);
                    out.push_str(&format!(" \"multi\n{pad}line: \"\n"));
                }
                3 => {
                    let pad = under(self);
                    out.push_str(&format!(" 'multi\n{pad}b: 1'\n"));
                }
                4 => out.push_str(&format!(
                    " {}\n",
                    self.pick(&[
                        "[a, b]",
                        "{k: v, n: 1}",
                        "[]",
                        "{}",
                        "[{name: a}, {name: b}]",
                        "{a: [1, 2]}",
                        "[\"x]\", 'y']",
                        "[a, b] # ]"
                    ])
                )),
                5 => {
                    let pad = under(self);
                    let close = self.pick(&["]", "b]", "c: 1]", "- d]"]);
                    out.push_str(&format!(" [a,\n{pad}{close}\n"));
                }
                6 => {
                    let pad = Self::pad(col + 1 + self.next(4));
                    let low = Self::pad(self.next(col + 3));
                    let header = self.pick(&["|", ">", "|-", ">+", "|2"]);
                    let last = self.pick(&["", "text", "# not a comment", "k: v", "\"open"]);
                    out.push_str(&format!(" {header}\n{pad}line\n\n{low}{last}\n"));
                }
                7 => {
                    let pad = Self::pad(col + 1 + self.next(3));
                    out.push_str(&format!(" plain\n{pad}continued\n"));
                }
                8 => out.push('\n'),
                9 | 10 => {
                    out.push('\n');
                    let inner = col + 1 + self.next(3);
                    self.map(out, inner, depth + 1);
                }
                _ => {
                    out.push('\n');
                    let inner = if self.next(2) == 0 { col } else { col + 2 };
                    self.seq(out, inner, depth + 1);
                }
            }
        }

        fn key(&mut self) -> String {
            self.pick(&[
                "a", "b", "c", "a.b", "\"q k\"", "'s'", "name", "kind", "spec", "items", "b",
                "x-y", "? e", "&x a", "a", "on", "0755", "y",
            ])
            .to_string()
        }

        fn map(&mut self, out: &mut String, col: usize, depth: usize) {
            for _ in 0..1 + self.next(4) {
                self.noise(out);
                let key = self.key();
                out.push_str(&format!("{}{key}:", Self::pad(col)));
                self.value(out, col, depth);
            }
        }

        fn seq(&mut self, out: &mut String, col: usize, depth: usize) {
            for _ in 0..1 + self.next(3) {
                self.noise(out);
                out.push_str(&format!("{}-", Self::pad(col)));
                match self.next(5) {
                    0 if depth < 4 => {
                        // `- key: v` with more entries under it.
                        let key = self.key();
                        out.push_str(&format!(" {key}:"));
                        self.value(out, col + 2, depth + 1);
                        if self.next(2) == 0 {
                            self.map(out, col + 2, depth + 1);
                        }
                    }
                    1 if depth < 4 => {
                        out.push_str(" -");
                        self.value(out, col + 2, depth + 1);
                    }
                    _ => self.value(out, col, depth),
                }
            }
        }
    }

    #[test]
    fn skims_answer_as_the_parser_does_on_generated_documents() {
        let mut g = Gen(0x2545_f491_4f6c_dd1d);
        let (mut parsed, mut skimmed) = (0, 0);
        for n in 0..4000 {
            let mut text = String::new();
            if n % 7 == 0 {
                text.push_str("---\n");
            }
            if n % 5 == 0 {
                g.seq(&mut text, 0, 0);
            } else {
                g.map(&mut text, 0, 0);
            }
            if Outline::parse(&text).is_none() {
                continue;
            }
            parsed += 1;
            skimmed += usize::from(Skim::new(&text).is_some());
            let wrong = super::super::locate::fast_disagreements(&text);
            assert!(wrong.is_empty(), "{text}\n{}", wrong.join("\n"));
        }
        eprintln!("{parsed} generated documents read by the parser, {skimmed} skimmed");
        assert!(
            parsed > 1000 && skimmed > 300,
            "{parsed} parsed, {skimmed} skimmed"
        );
    }
}
