//! `Item`: an object of a run, as a tree or frozen as its JSON text.
//!
//! A tree of a small object costs seven to ten times its text (a map's table and entries, an
//! allocation per string), and a large render of plain objects is mostly objects that nothing
//! reads before they are written out. Those are frozen when read: their compact JSON text
//! with their identity in front of it (an eighth of the tree), thawed one at a time when their
//! turn comes. A pass that reads an object's content before then asks for its tree; what the
//! engine keeps as trees from the start is its decision (`engine::freeze`), not this module's.
//!
//! Freezing loses nothing: serde_json writes every string, number and key order of a
//! `serde_json::Value` and reads it back the same (`preserve_order`; numbers are `i64`, `u64`
//! or finite `f64`, written shortest-exact).

use super::{group_of, ObjectRef, Origin, Resource};
use serde_json::{Map, Value};

/// An object of a run: a tree, or frozen ([`Item::freeze`]). Eight words: a large run holds
/// one per object.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Tree(Box<Resource>),
    Frozen(Frozen),
}

/// An object as its identity and compact JSON text, and its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Frozen {
    /// apiVersion, kind, name and namespace (as `Resource`'s accessors give them), then the
    /// object's JSON text; `ends` are where the first four end.
    text: Box<str>,
    ends: [u32; 4],
    /// `Origin`, its numbers in half the room.
    file: std::sync::Arc<str>,
    index: u32,
    line: u32,
}

/// What the readers and passes ask of an object, tree or frozen: its identity and origin.
pub trait Identity {
    fn api_version(&self) -> &str;
    fn kind(&self) -> &str;
    fn name(&self) -> &str;
    /// `metadata.namespace`, `None` when missing or empty.
    fn namespace(&self) -> Option<&str>;
    fn origin(&self) -> Origin;
    /// `origin().file`.
    fn file(&self) -> &str;

    /// API group: the part of apiVersion before `/`, empty for the core group.
    fn group(&self) -> &str {
        group_of(self.api_version())
    }

    /// Whether this is a module resource (group `nixernetes.io`).
    fn is_module(&self) -> bool {
        self.group() == super::GROUP
    }

    fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version().to_string(),
            kind: self.kind().to_string(),
            name: self.name().to_string(),
            namespace: self.namespace().map(str::to_string),
        }
    }
}

impl Identity for Resource {
    fn api_version(&self) -> &str {
        Resource::api_version(self)
    }
    fn kind(&self) -> &str {
        Resource::kind(self)
    }
    fn name(&self) -> &str {
        Resource::name(self)
    }
    fn namespace(&self) -> Option<&str> {
        Resource::namespace(self)
    }
    fn origin(&self) -> Origin {
        self.origin.clone()
    }
    fn file(&self) -> &str {
        &self.origin.file
    }
}

impl<T: Identity + ?Sized> Identity for &T {
    fn api_version(&self) -> &str {
        (**self).api_version()
    }
    fn kind(&self) -> &str {
        (**self).kind()
    }
    fn name(&self) -> &str {
        (**self).name()
    }
    fn namespace(&self) -> Option<&str> {
        (**self).namespace()
    }
    fn origin(&self) -> Origin {
        (**self).origin()
    }
    fn file(&self) -> &str {
        (**self).file()
    }
}

impl Frozen {
    fn part(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    fn json(&self) -> &str {
        &self.text[self.ends[3] as usize..]
    }

    fn origin(&self) -> Origin {
        Origin {
            file: self.file.clone(),
            index: self.index as usize,
            line: self.line as usize,
        }
    }
}

impl Identity for Frozen {
    fn api_version(&self) -> &str {
        self.part(0)
    }
    fn kind(&self) -> &str {
        self.part(1)
    }
    fn name(&self) -> &str {
        self.part(2)
    }
    fn namespace(&self) -> Option<&str> {
        Some(self.part(3)).filter(|s| !s.is_empty())
    }
    fn origin(&self) -> Origin {
        Frozen::origin(self)
    }
    fn file(&self) -> &str {
        &self.file
    }
}

impl Identity for Item {
    fn api_version(&self) -> &str {
        match self {
            Item::Tree(r) => r.api_version(),
            Item::Frozen(f) => f.api_version(),
        }
    }
    fn kind(&self) -> &str {
        match self {
            Item::Tree(r) => r.kind(),
            Item::Frozen(f) => f.kind(),
        }
    }
    fn name(&self) -> &str {
        match self {
            Item::Tree(r) => r.name(),
            Item::Frozen(f) => f.name(),
        }
    }
    fn namespace(&self) -> Option<&str> {
        match self {
            Item::Tree(r) => r.namespace(),
            Item::Frozen(f) => f.namespace(),
        }
    }
    fn origin(&self) -> Origin {
        match self {
            Item::Tree(r) => r.origin.clone(),
            Item::Frozen(f) => f.origin(),
        }
    }
    fn file(&self) -> &str {
        match self {
            Item::Tree(r) => &r.origin.file,
            Item::Frozen(f) => &f.file,
        }
    }
}

impl From<Resource> for Item {
    fn from(r: Resource) -> Item {
        Item::Tree(Box::new(r))
    }
}

impl Item {
    /// `res` frozen.
    pub fn freeze(res: Resource) -> Item {
        let (Ok(index), Ok(line)) = (
            u32::try_from(res.origin.index),
            u32::try_from(res.origin.line),
        ) else {
            return Item::from(res);
        };
        let mut text = String::new();
        let mut ends = [0u32; 4];
        for (i, part) in [
            res.api_version(),
            res.kind(),
            res.name(),
            res.namespace().unwrap_or(""),
        ]
        .into_iter()
        .enumerate()
        {
            text.push_str(part);
            ends[i] = text.len() as u32;
        }
        let mut bytes = text.into_bytes();
        // Writing a map of strings, numbers and nested maps into memory cannot fail; the
        // frozen text would not fit in `ends`' offsets past 4 GiB: both keep the tree.
        if serde_json::to_writer(&mut bytes, &res.object).is_err()
            || bytes.len() > u32::MAX as usize
        {
            return Item::from(res);
        }
        // serde_json writes UTF-8 after the identity, which is UTF-8.
        let text = String::from_utf8(bytes).unwrap_or_default();
        Item::Frozen(Frozen {
            text: text.into_boxed_str(),
            ends,
            file: res.origin.file,
            index,
            line,
        })
    }

    /// The tree, when the object is not frozen.
    pub fn tree(&self) -> Option<&Resource> {
        match self {
            Item::Tree(r) => Some(r),
            Item::Frozen(_) => None,
        }
    }

    pub fn is_frozen(&self) -> bool {
        matches!(self, Item::Frozen(_))
    }

    /// The tree, thawed in place when frozen.
    pub fn thaw(&mut self) -> &mut Resource {
        if let Item::Frozen(f) = self {
            *self = Item::from(Resource::new(thawed(f), f.origin()));
        }
        match self {
            Item::Tree(r) => r,
            Item::Frozen(_) => unreachable!("thawed just above"),
        }
    }

    /// The object as a tree.
    pub fn into_resource(self) -> Resource {
        match self {
            Item::Tree(r) => *r,
            Item::Frozen(f) => Resource::new(thawed(&f), f.origin()),
        }
    }
}

/// The object of `f`. Its text is what serde_json wrote for a map, which serde_json reads back:
/// the readers refuse objects deeper than serde_json's limit (`engine::freeze`).
fn thawed(f: &Frozen) -> Map<String, Value> {
    serde_json::from_str(f.json()).expect("a frozen object is JSON that serde_json wrote")
}

#[cfg(test)]
mod tests {
    /// One per object of a large run: kept at eight words.
    #[test]
    fn an_item_is_eight_words() {
        assert!(std::mem::size_of::<super::Item>() <= 64);
    }

    use super::{Identity, Item};
    use crate::resource::{Origin, Resource};
    use serde_json::{json, Value};

    fn resource(v: Value) -> Resource {
        let Value::Object(map) = v else { panic!() };
        Resource::new(
            map,
            Origin {
                file: "a.yaml".into(),
                index: 3,
                line: 7,
            },
        )
    }

    /// The deepest object the readers let through thaws.
    #[test]
    fn the_deepest_object_read_thaws() {
        let mut deep = json!("leaf");
        for i in 0..crate::yaml::MAX_DEPTH {
            deep = if i % 2 == 0 {
                json!([deep])
            } else {
                json!({"k": deep})
            };
        }
        let tree = resource(json!({"apiVersion": "example.com/v1", "kind": "Deep",
                                   "metadata": {"name": "d"}, "spec": deep}));
        assert_eq!(Item::freeze(tree.clone()).into_resource(), tree);
    }

    /// Freezing and thawing gives back every key in its order, every string and number, and
    /// the identity the tree's accessors give.
    #[test]
    fn a_frozen_object_thaws_to_what_was_frozen_with_its_identity() {
        let cases = [
            json!({"kind": "ConfigMap", "apiVersion": "v1",
                   "metadata": {"namespace": "b", "name": "c\u{0}ü\"\n", "labels": {"z": "1", "a": "2"}},
                   "data": {"n": 1, "big": u64::MAX, "neg": i64::MIN, "f": 1.5e300, "tiny": 5e-324,
                            "zero": -0.0, "s": "\u{1F600}\\", "null": null, "t": true, "list": [[], {}]}}),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": 5, "namespace": ""}}),
            json!({"apiVersion": 3, "metadata": "x"}),
            json!({}),
        ];
        for case in cases {
            let tree = resource(case);
            let frozen = Item::freeze(tree.clone());
            assert!(frozen.is_frozen());
            assert_eq!(frozen.api_version(), tree.api_version());
            assert_eq!(frozen.kind(), tree.kind());
            assert_eq!(frozen.name(), tree.name());
            assert_eq!(frozen.namespace(), tree.namespace());
            assert_eq!(frozen.origin(), tree.origin);
            assert_eq!(frozen.object_ref(), Identity::object_ref(&tree));
            let mut thawed = frozen.clone();
            assert_eq!(thawed.thaw(), &tree);
            let back = frozen.into_resource();
            assert_eq!(back, tree);
            // Key order too (`==` on maps ignores it).
            assert_eq!(
                serde_json::to_string(&back.object).unwrap(),
                serde_json::to_string(&tree.object).unwrap()
            );
        }
    }
}
