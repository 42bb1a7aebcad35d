//! `-l/--selector`: kubectl's label selector text (`app=web,tier in (front,back),!legacy`), read
//! into a Kubernetes `LabelSelector` and matched by the one selector matcher of the tool
//! ([`crate::policy::network::selects`], the one the NetworkPolicy and PDB checks use).
//!
//! The grammar and its checks are those of `k8s.io/apimachinery/pkg/labels` (`labels.Parse`):
//! requirements separated by commas, all of which must hold; `key=value`, `key==value`,
//! `key!=value` (also true when the key is absent), `key in (a,b)`, `key notin (a,b)` (also true
//! when the key is absent), `key` (exists), `!key` (does not exist). Keys and values are checked as
//! label keys and values; `key=` asks for the empty value. The empty selector selects everything.
//! kubectl's `>` and `<` (integer comparisons, which a `LabelSelector` cannot hold) are refused.

use crate::finding::Finding;
use crate::resource::ObjectRef;
use crate::validate::names::{label_key, label_value};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// A parsed `-l/--selector`.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    /// As given, for messages.
    text: String,
    /// The same as a `LabelSelector` (`matchExpressions` only).
    label_selector: Map<String, Value>,
}

/// The clap flag: `-l/--selector` for `render`, `check` and `diff`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SelectorFlag {
    /// Act only on the objects whose labels match this label selector, as kubectl's -l.
    ///
    /// Operators: `=`, `==`, `!=`, `in (a,b)`, `notin (a,b)`, `key` (exists), `!key` (does not
    /// exist); requirements separated by commas must all hold. Labels are matched as rendered
    /// (injected ones included). The whole input is still rendered and checked as one platform;
    /// the policy findings of what is left out are not reported. To add labels, use --label.
    ///
    /// Example: -l 'app.kubernetes.io/name=web,tier notin (db)'
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR", value_parser = Selector::parse)]
    pub selector: Option<Selector>,
}

impl Selector {
    /// Reads kubectl's selector text; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let tokens = lex(text);
        let mut p = Parser { tokens, at: 0 };
        let mut requirements = Vec::new();
        if !p.peek().is_end() {
            loop {
                requirements.push(p.requirement()?);
                match p.next() {
                    Token::End => break,
                    Token::Comma => continue,
                    other => return Err(format!("expected ',' or the end, found {other}")),
                }
            }
        }
        Ok(Selector {
            text: text.trim().to_string(),
            label_selector: if requirements.is_empty() {
                Map::new()
            } else {
                let mut m = Map::new();
                m.insert("matchExpressions".into(), Value::Array(requirements));
                m
            },
        })
    }

    /// The selector as the user wrote it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The same selector as a Kubernetes `LabelSelector`.
    pub fn label_selector(&self) -> &Map<String, Value> {
        &self.label_selector
    }

    /// Whether an object with `labels` is selected.
    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        crate::policy::network::selects(&self.label_selector, labels)
    }

    /// Whether the object `object` (a whole Kubernetes object) is selected.
    pub fn matches_object(&self, object: &Value) -> bool {
        self.matches(object["metadata"]["labels"].as_object())
    }
}

/// The objects a selector left out of a run, and what that does to the run's findings.
#[derive(Debug, Default)]
pub struct Left {
    /// The objects rendered in all.
    pub rendered: usize,
    /// The objects left out.
    pub out: BTreeSet<ObjectRef>,
}

impl Left {
    /// Drops the policy-check findings about objects that were left out: they are not acted
    /// on, so those neither print nor fail the run. What is wrong with the input itself (a file,
    /// a module resource, an invalid field of any object: findings of no check) stays.
    pub fn drop_findings(&self, findings: &mut Vec<Finding>) {
        if self.out.is_empty() {
            return;
        }
        findings.retain(|f| {
            f.check.is_none() || f.object.as_ref().is_none_or(|o| !self.out.contains(o))
        });
    }

    /// A note on stderr when the selector selects nothing (kubectl says "No resources found").
    pub fn note_if_none(&self, selector: &Selector) {
        if self.rendered > 0 && self.out.len() == self.rendered {
            eprintln!("{}", self.none_note(selector));
        }
    }

    fn none_note(&self, selector: &Selector) -> String {
        format!(
            "note: no object matches the selector {:?} ({} rendered); -l/--selector filters the output, --label KEY=VALUE adds labels",
            selector.text(),
            self.rendered
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A key or value (any run of characters that is not blank nor one of `!=(),<>`).
    Word(String),
    Not,
    Equals,
    DoubleEquals,
    NotEquals,
    Open,
    Close,
    Comma,
    /// `>` or `<`.
    Compare(char),
    End,
}

impl Token {
    fn is_end(&self) -> bool {
        *self == Token::End
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Word(w) => write!(f, "'{w}'"),
            Token::Not => f.write_str("'!'"),
            Token::Equals => f.write_str("'='"),
            Token::DoubleEquals => f.write_str("'=='"),
            Token::NotEquals => f.write_str("'!='"),
            Token::Open => f.write_str("'('"),
            Token::Close => f.write_str("')'"),
            Token::Comma => f.write_str("','"),
            Token::Compare(c) => write!(f, "'{c}'"),
            Token::End => f.write_str("the end"),
        }
    }
}

fn lex(text: &str) -> Vec<Token> {
    let special = |c: char| c.is_whitespace() || "!=(),<>".contains(c);
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '!' if chars.peek().is_some_and(|(_, n)| *n == '=') => {
                chars.next();
                Token::NotEquals
            }
            '!' => Token::Not,
            '=' if chars.peek().is_some_and(|(_, n)| *n == '=') => {
                chars.next();
                Token::DoubleEquals
            }
            '=' => Token::Equals,
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '<' | '>' => Token::Compare(c),
            _ => {
                let mut end = text.len();
                while let Some((j, n)) = chars.peek() {
                    if special(*n) {
                        end = *j;
                        break;
                    }
                    chars.next();
                }
                Token::Word(text[i..end].to_string())
            }
        };
        tokens.push(token);
    }
    tokens.push(Token::End);
    tokens
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        self.at += 1;
        t
    }

    /// One requirement, as a `matchExpressions` entry.
    fn requirement(&mut self) -> Result<Value, String> {
        if *self.peek() == Token::Not {
            self.next();
            let key = self.key()?;
            return match self.peek() {
                Token::End | Token::Comma => Ok(expression(&key, "DoesNotExist", &[])),
                other => Err(format!(
                    "'!{key}' takes no operator or value, found {other}"
                )),
            };
        }
        let key = self.key()?;
        match self.next() {
            Token::End | Token::Comma => {
                self.at -= 1;
                Ok(expression(&key, "Exists", &[]))
            }
            Token::Equals | Token::DoubleEquals => {
                Ok(expression(&key, "In", &[self.exact_value(&key)?]))
            }
            Token::NotEquals => Ok(expression(&key, "NotIn", &[self.exact_value(&key)?])),
            Token::Word(w) if w == "in" => Ok(expression(&key, "In", &self.set(&key, "in")?)),
            Token::Word(w) if w == "notin" => {
                Ok(expression(&key, "NotIn", &self.set(&key, "notin")?))
            }
            Token::Compare(c) => Err(format!(
                "'{key} {c} …': the integer comparisons '>' and '<' are not supported; use =, ==, !=, in, notin, a key or !key"
            )),
            other => Err(format!(
                "after the key '{key}', expected one of =, ==, !=, in, notin, ',' or the end, found {other}"
            )),
        }
    }

    fn key(&mut self) -> Result<String, String> {
        match self.next() {
            Token::Word(w) if w == "in" || w == "notin" => {
                Err(format!("expected a label key, found the operator '{w}'"))
            }
            Token::Word(w) => {
                label_key(&w)?;
                Ok(w)
            }
            other => Err(format!("expected a label key, found {other}")),
        }
    }

    /// The value after `=`, `==` or `!=`: a word, or nothing (the empty value).
    fn exact_value(&mut self, key: &str) -> Result<String, String> {
        match self.peek().clone() {
            Token::End | Token::Comma => Ok(String::new()),
            Token::Word(w) => {
                self.next();
                label_value(&w)?;
                Ok(w)
            }
            other => Err(format!("expected a value for '{key}', found {other}")),
        }
    }

    /// The parenthesised values after `in` or `notin`; an empty item is the empty value.
    fn set(&mut self, key: &str, op: &str) -> Result<Vec<String>, String> {
        match self.next() {
            Token::Open => {}
            other => {
                return Err(format!(
                    "'{key} {op}' takes a parenthesised list of values, as in '{key} {op} (a,b)': expected '(', found {other}"
                ))
            }
        }
        let mut values = Vec::new();
        if *self.peek() == Token::Close {
            self.next();
            return Err(format!(
                "'{key} {op} ()': the list of values is empty; give at least one"
            ));
        }
        loop {
            let value = match self.peek().clone() {
                Token::Comma | Token::Close => String::new(),
                Token::Word(w) => {
                    self.next();
                    label_value(&w)?;
                    w
                }
                other => {
                    return Err(format!(
                        "expected a value in the list of '{key} {op}', found {other}"
                    ))
                }
            };
            values.push(value);
            match self.next() {
                Token::Comma => continue,
                Token::Close => break,
                Token::End => {
                    return Err(format!(
                        "the list of values of '{key} {op}' is not closed: expected ')'"
                    ))
                }
                other => {
                    return Err(format!(
                        "expected ',' or ')' in the list of '{key} {op}', found {other}"
                    ))
                }
            }
        }
        Ok(values)
    }
}

fn expression(key: &str, operator: &str, values: &[String]) -> Value {
    let mut e = json!({"key": key, "operator": operator});
    if !values.is_empty() {
        e["values"] = json!(values);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn selects(selector: &str, l: &Map<String, Value>) -> bool {
        Selector::parse(selector)
            .unwrap_or_else(|e| panic!("{selector}: {e}"))
            .matches(Some(l))
    }

    #[test]
    fn every_operator() {
        let l = labels(json!({"app": "web", "tier": "front", "empty": ""}));
        for (sel, want) in [
            ("", true),
            ("   ", true),
            ("app=web", true),
            ("app==web", true),
            ("app = web", true),
            ("app=db", false),
            ("app!=web", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("tier in (front,back)", true),
            ("tier in (back)", false),
            ("missing in (a)", false),
            ("tier notin (front)", false),
            ("tier notin (back, db)", true),
            ("missing notin (a)", true),
            ("app", true),
            ("missing", false),
            ("!app", false),
            ("!missing", true),
            ("empty=", true),
            ("app=", false),
            ("empty in (a,)", true),
            ("app=web,tier=front", true),
            ("app=web,tier=back", false),
            ("!missing,app=web, tier in (front)", true),
            ("app=in", false),
        ] {
            assert_eq!(selects(sel, &l), want, "{sel}");
        }
    }

    #[test]
    fn the_label_selector_it_becomes() {
        let s = Selector::parse("a=1,b!=2,c in (x,y),d notin (z),e,!f").unwrap();
        assert_eq!(
            Value::Object(s.label_selector().clone()),
            json!({"matchExpressions": [
                {"key": "a", "operator": "In", "values": ["1"]},
                {"key": "b", "operator": "NotIn", "values": ["2"]},
                {"key": "c", "operator": "In", "values": ["x", "y"]},
                {"key": "d", "operator": "NotIn", "values": ["z"]},
                {"key": "e", "operator": "Exists"},
                {"key": "f", "operator": "DoesNotExist"},
            ]})
        );
        assert!(Selector::parse("").unwrap().label_selector().is_empty());
        // A selector of nothing matches objects without labels too.
        assert!(Selector::parse("").unwrap().matches(None));
        assert!(Selector::parse("!a").unwrap().matches(None));
        assert!(!Selector::parse("a").unwrap().matches(None));
        // Prefixed keys.
        let l = labels(json!({"app.kubernetes.io/name": "web"}));
        assert!(selects("app.kubernetes.io/name=web", &l));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        for (sel, want) in [
            ("tier in web", "expected '(', found 'web'"),
            ("tier in (a,b", "not closed: expected ')'"),
            ("tier in ()", "the list of values is empty"),
            ("tier notin", "expected '(', found the end"),
            ("a=b=c", "expected ',' or the end, found '='"),
            ("a b", "after the key 'a', expected one of"),
            (",a", "expected a label key, found ','"),
            ("a,", "expected a label key, found the end"),
            ("a,,b", "expected a label key, found ','"),
            ("=a", "expected a label key, found '='"),
            ("!a=b", "'!a' takes no operator or value, found '='"),
            ("!", "expected a label key, found the end"),
            ("a>1", "'>' and '<' are not supported"),
            ("in=a", "found the operator 'in'"),
            ("a=-x", "invalid label value \"-x\""),
            ("-a=x", "invalid key \"-a\""),
            (
                "a in (x y)",
                "expected ',' or ')' in the list of 'a in', found 'y'",
            ),
            ("a=(x)", "expected a value for 'a', found '('"),
        ] {
            let e = Selector::parse(sel).expect_err(sel);
            assert!(e.contains(want), "{sel}: {e}");
        }
    }

    #[test]
    fn left_out_findings_are_dropped() {
        let web = ObjectRef {
            api_version: "v1".into(),
            kind: "Service".into(),
            name: "web".into(),
            namespace: Some("shop".into()),
        };
        let db = ObjectRef {
            name: "db".into(),
            ..web.clone()
        };
        let left = Left {
            rendered: 2,
            out: [db.clone()].into(),
        };
        let checked = |f: Finding| Finding {
            check: Some("some-check"),
            ..f
        };
        let mut findings = vec![
            checked(Finding::warning("check about web").object(web.into())),
            checked(Finding::error("check about db").object(db.clone().into())),
            Finding::error("invalid field of db").object(db.into()),
            Finding::error("about the input"),
        ];
        left.drop_findings(&mut findings);
        let kept: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            kept,
            ["check about web", "invalid field of db", "about the input"]
        );
        let s = Selector::parse("team=x").unwrap();
        let none = Left {
            rendered: 2,
            out: [ObjectRef::default(), left.out.first().cloned().unwrap()].into(),
        };
        assert!(none.none_note(&s).contains("--label KEY=VALUE adds labels"));
    }
}
