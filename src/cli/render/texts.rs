//! What `render` holds until the end: the output text of each rendered object and its place in
//! apply order. Nothing is written before the whole input rendered without an error (never
//! partial output), so a large render holds every text at once; it holds texts, not trees (a
//! text is a fraction of its tree's memory), packed: the sort keys (namespace, kind, name) one
//! after the other in blocks of a MiB, the texts one after the other, and a small entry per
//! object saying where. Past [`SPOOL_AT`] bytes of text, the texts go to a temporary file
//! (`tempfile`, in `TMPDIR`), and only the keys and entries stay in memory: a million small
//! objects then hold 60 bytes each instead of 300. Where the file cannot be made or written, the
//! texts stay in memory: the output is the same either way.

use crate::cli::Format;
use crate::engine::order;
use crate::resource::Resource;
use serde_json::Value;
use std::fs::File;
use std::io::Write;

/// Size of a block of sort keys; a longer key has a block of its own.
const BLOCK: usize = 1 << 20;

/// Bytes of text held in memory before they go to the temporary file.
const SPOOL_AT: usize = 32 << 20;

pub(super) struct Texts {
    format: Format,
    /// Sort keys, packed.
    keys: Vec<String>,
    list: Vec<Entry>,
    /// The texts from byte `spooled` on (those before it are in `spool`).
    pending: Vec<u8>,
    spooled: u64,
    /// The temporary file of the texts, made when first needed.
    spool: Option<File>,
    /// The file could not be made or written: the texts from `spooled` on stay in memory.
    spool_failed: bool,
    /// Pending bytes past which they are spooled.
    spool_at: usize,
    /// Where each text is written before it is packed.
    scratch: String,
}

/// Where one object's sort key (`order::key`: rank, namespace, kind, name) and text are: the
/// namespace, kind and name, of these lengths, one after the other from `start` in key block
/// `block`; the text, `text` bytes from byte `at` of all texts.
struct Entry {
    rank: u8,
    block: u32,
    start: u32,
    namespace: u32,
    kind: u32,
    name: u32,
    text: u32,
    at: u64,
}

/// An object's key or text as an entry holds its length. Every object is within the reader's
/// budgets (8 MiB of text per document, 1,000,000 nodes), far under 4 GiB.
fn len32(n: usize) -> u32 {
    u32::try_from(n).expect("an object's text is under 4 GiB")
}

impl Texts {
    pub(super) fn new(format: Format) -> Texts {
        Texts::spooling_at(format, SPOOL_AT)
    }

    fn spooling_at(format: Format, spool_at: usize) -> Texts {
        Texts {
            format,
            keys: Vec::new(),
            list: Vec::new(),
            pending: Vec::new(),
            spooled: 0,
            spool: None,
            spool_failed: false,
            spool_at,
            scratch: String::new(),
        }
    }

    pub(super) fn add(&mut self, mut obj: Resource) {
        let rank = order::rank_of(&obj);
        let value = Value::Object(std::mem::take(&mut obj.object));
        // Taken for the call (and given back), so that spilling can borrow the rest.
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        match self.format {
            Format::Yaml => crate::yaml::write_document(&value, &mut text),
            Format::Json => {
                // As an item of the List: pretty-printed two levels in.
                let item = serde_json::to_string_pretty(&value).unwrap_or_default();
                text.push_str("    ");
                text.push_str(&item.replace('\n', "\n    "));
            }
        }
        if let Value::Object(object) = value {
            obj.object = object;
        }
        let (namespace, kind, name) = (obj.namespace().unwrap_or(""), obj.kind(), obj.name());
        let len = namespace.len() + kind.len() + name.len();
        let fits = self
            .keys
            .last()
            .is_some_and(|b| b.capacity() - b.len() >= len);
        if !fits {
            self.keys.push(String::with_capacity(len.max(BLOCK)));
        }
        let block = self.keys.len() - 1;
        let b = &mut self.keys[block];
        let start = b.len();
        for part in [namespace, kind, name] {
            b.push_str(part);
        }
        // The pending texts' room is taken once, whole: grown by doubling, each step would hold
        // the old copy beside the new.
        if self.pending.capacity() == 0 {
            self.pending
                .reserve_exact(self.spool_at.min(SPOOL_AT).saturating_add(BLOCK));
        }
        if self.pending.len() + text.len() > self.pending.capacity() && !self.pending.is_empty() {
            self.spill();
        }
        let at = self.spooled + self.pending.len() as u64;
        self.pending.extend_from_slice(text.as_bytes());
        self.list.push(Entry {
            rank,
            block: u32::try_from(block).expect("fewer than 2^32 blocks of a MiB"),
            start: len32(start),
            namespace: len32(namespace.len()),
            kind: len32(kind.len()),
            name: len32(name.len()),
            text: len32(text.len()),
            at,
        });
        self.scratch = text;
        if self.pending.len() >= self.spool_at {
            self.spill();
        }
    }

    /// Moves the pending texts to the temporary file (made now if need be); where that fails,
    /// they stay, and so do all texts after them.
    fn spill(&mut self) {
        if self.spool_failed {
            return;
        }
        if self.spool.is_none() {
            self.spool = tempfile::tempfile().ok();
        }
        // A failed write may have written part: the file is written no more, and only the
        // texts before `spooled` are read from it.
        let written = match &mut self.spool {
            Some(file) => file.write_all(&self.pending).is_ok(),
            None => false,
        };
        if written {
            self.spooled += self.pending.len() as u64;
            self.pending.clear();
        } else {
            self.spool_failed = true;
        }
    }

    /// The sort key of `e`: rank, namespace, kind, name (as `order::key`).
    fn key<'a>(&'a self, e: &Entry) -> (u8, &'a str, &'a str, &'a str) {
        let b = &self.keys[e.block as usize][e.start as usize..];
        let (namespace, b) = b.split_at(e.namespace as usize);
        let (kind, b) = b.split_at(e.kind as usize);
        (e.rank, namespace, kind, &b[..e.name as usize])
    }

    /// The text of `e`, from memory or read from the temporary file into `buf`.
    fn text<'a>(&'a self, e: &Entry, buf: &'a mut Vec<u8>) -> std::io::Result<&'a [u8]> {
        let len = e.text as usize;
        if let Some(at) = e.at.checked_sub(self.spooled) {
            let at = at as usize;
            return Ok(&self.pending[at..at + len]);
        }
        let file = self.spool.as_ref().ok_or_else(|| {
            std::io::Error::other("the temporary file of the output texts is gone")
        })?;
        buf.resize(len, 0);
        read_at(file, buf, e.at)?;
        Ok(buf)
    }

    /// Writes the texts in apply order to stdout.
    pub(super) fn emit(self) -> i32 {
        crate::cli::emit_with(|out| self.write_to(out))
    }

    /// Writes the texts in apply order: a YAML stream, or a `v1 List` as `serde_json` prints it.
    fn write_to(mut self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        // Stable: equal keys keep input order.
        let mut list = std::mem::take(&mut self.list);
        list.sort_by(|a, b| self.key(a).cmp(&self.key(b)));
        let (separator, tail): (&[u8], &[u8]) = match self.format {
            Format::Yaml => (crate::yaml::DOCUMENT_SEPARATOR, b""),
            Format::Json if list.is_empty() => (b"", b"]\n}\n"),
            Format::Json => (b",\n", b"\n  ]\n}\n"),
        };
        if self.format == Format::Json {
            out.write_all(LIST_HEAD)?;
            if !list.is_empty() {
                out.write_all(b"\n")?;
            }
        }
        let mut buf = Vec::new();
        for (i, e) in list.iter().enumerate() {
            if i > 0 {
                out.write_all(separator)?;
            }
            out.write_all(self.text(e, &mut buf)?)?;
        }
        out.write_all(tail)
    }
}

/// The head of a `v1 List` as `serde_json` pretty-prints it, up to the items.
const LIST_HEAD: &[u8] =
    b"{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"metadata\": {},\n  \"items\": [";

/// Reads `buf.len()` bytes of `file` from byte `at`.
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

/// Reads `buf.len()` bytes of `file` from byte `at`.
#[cfg(not(unix))]
fn read_at(mut file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(at))?;
    file.read_exact(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Objects of every rank, with ties (same key: input order decides) and a text longer than a
    /// block.
    fn objects() -> Vec<Resource> {
        let mut text = String::new();
        let kinds = [
            ("v1", "ConfigMap"),
            ("apps/v1", "Deployment"),
            ("v1", "Namespace"),
            ("example.com/v1", "Widget"),
            ("v1", "Service"),
            ("rbac.authorization.k8s.io/v1", "Role"),
        ];
        // Large ones first, so that some of the small ones' texts stay in memory when spooled
        // every 10 KiB.
        let big = "x".repeat(BLOCK + 10);
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: n3, namespace: a}}\ndata: {{big: {big}}}\n"
        ));
        // A key longer than a block of keys.
        let long = "n".repeat(BLOCK + 3);
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {long}, namespace: a}}\n"
        ));
        for i in 0..300 {
            let (api, kind) = kinds[i * 7 % kinds.len()];
            let ns = ["a", "b", ""][i % 3];
            let name = format!("n{}", i % 17);
            text.push_str(&format!(
                "---\napiVersion: {api}\nkind: {kind}\nmetadata: {{name: {name}, namespace: '{ns}', labels: {{i: '{i}'}}}}\n"
            ));
        }
        crate::source::parse_text(&text, "t.yaml").expect("reads")
    }

    /// The packed texts come out in `order::sort`'s order, each as `to_string` writes it, whether
    /// they stay in memory, all go to the temporary file, or only some (spooled every 10 KiB, or
    /// past the last text).
    #[test]
    fn packed_texts_come_out_in_apply_order() {
        for format in [Format::Yaml, Format::Json] {
            let objects = objects();
            let mut sorted = objects.clone();
            order::sort(&mut sorted);
            let values: Vec<Value> = sorted
                .into_iter()
                .map(|r| Value::Object(r.object))
                .collect();
            let want = match format {
                Format::Yaml => {
                    let mut out = Vec::new();
                    crate::yaml::write_stream(&mut out, &values).expect("writes");
                    out
                }
                Format::Json => {
                    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": values});
                    let mut out = serde_json::to_vec_pretty(&list).expect("writes");
                    out.push(b'\n');
                    out
                }
            };
            for spool_at in [usize::MAX, 0, 10 << 10] {
                let mut texts = Texts::spooling_at(format, spool_at);
                objects.iter().cloned().for_each(|o| texts.add(o));
                assert!(texts.keys.len() >= 2, "a key longer than a block");
                let spooled = texts.spooled;
                match spool_at {
                    usize::MAX => assert_eq!(spooled, 0),
                    0 => assert!(texts.pending.is_empty()),
                    _ => assert!(spooled > 0 && !texts.pending.is_empty()),
                }
                let mut got = Vec::new();
                texts.write_to(&mut got).expect("writes");
                assert!(got == want, "{format:?} spooled at {spool_at} differs");
            }
        }
    }

    /// No objects: an empty stream, or a List with no items.
    #[test]
    fn no_objects_write_an_empty_stream_or_list() {
        let mut got = Vec::new();
        Texts::new(Format::Yaml).write_to(&mut got).expect("writes");
        assert!(got.is_empty());
        let mut got = Vec::new();
        Texts::new(Format::Json).write_to(&mut got).expect("writes");
        let want =
            serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": []});
        let mut out = serde_json::to_vec_pretty(&want).expect("writes");
        out.push(b'\n');
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&out));
    }
}
