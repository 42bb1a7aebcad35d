//! The non-apply patch types: JSON merge patch (RFC 7386), strategic merge patch (maps merge,
//! associative lists merge by their keys, `$patch`/`$setElementOrder`/`$retainKeys`/
//! `$deleteFromPrimitiveList` directives) and JSON patch (RFC 6902). Pure functions on values;
//! the store decides which type a resource accepts.

use super::fields::{self, Cursor};
use serde_json::{Map, Value};

/// Applies a JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else {
        return;
    };
    for (k, v) in p {
        if v.is_null() {
            t.shift_remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// Applies a strategic merge patch.
pub fn strategic_merge_patch(
    target: &mut Value,
    patch: &Value,
    cursor: Cursor<'_>,
) -> Result<(), String> {
    let Value::Object(p) = patch else {
        return Err("strategic merge patch must be a JSON object".into());
    };
    smp_map(target, p, cursor)
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

fn smp_map(
    target: &mut Value,
    patch: &Map<String, Value>,
    cursor: Cursor<'_>,
) -> Result<(), String> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            *target = strip_directives(&Value::Object(patch.clone()));
            return Ok(());
        }
        Some("delete") => {
            *target = Value::Object(Map::new());
            return Ok(());
        }
        Some("merge") | None => {}
        Some(other) => return Err(format!("unknown patch directive {other:?}")),
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            let drop = v.as_array().cloned().unwrap_or_default();
            if let Some(Value::Array(items)) = target.get_mut(field) {
                items.retain(|i| !drop.contains(i));
            }
            continue;
        }
        if k.starts_with('$') {
            continue;
        }
        let t = target.as_object_mut().expect("made an object above");
        match v {
            Value::Null => {
                t.shift_remove(k);
            }
            Value::Object(pm) => {
                let slot = t.entry(k.clone()).or_insert(Value::Null);
                if pm.get("$patch").and_then(Value::as_str) == Some("delete") {
                    t.shift_remove(k);
                } else {
                    smp_map(slot, pm, cursor.field(k))?;
                }
            }
            Value::Array(pa) => {
                let existing = t
                    .get(k)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let order = patch
                    .get(&format!("$setElementOrder/{k}"))
                    .and_then(Value::as_array);
                let merged = smp_list(&existing, pa, order, cursor.field(k), k)?;
                t.insert(k.clone(), Value::Array(merged));
            }
            scalar => {
                t.insert(k.clone(), scalar.clone());
            }
        }
    }
    if let Some(Value::Array(keep)) = patch.get("$retainKeys") {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        if let Value::Object(t) = target {
            t.retain(|k, _| keep.contains(&k.as_str()));
        }
    }
    Ok(())
}

fn smp_list(
    existing: &[Value],
    patch: &[Value],
    order: Option<&Vec<Value>>,
    cursor: Cursor<'_>,
    name: &str,
) -> Result<Vec<Value>, String> {
    if patch
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        return Ok(patch
            .iter()
            .filter(|i| i.get("$patch").is_none())
            .map(strip_directives)
            .collect());
    }
    let plain: Vec<Value> = patch.iter().map(strip_directives).collect();
    let Some(keys) = fields::keyed_list(cursor, Some(name), &[existing, &plain]) else {
        return Ok(plain);
    };
    let mut out = existing.to_vec();
    for item in patch {
        let Some(pe) = fields::key_element(&strip_directives(item), &keys) else {
            continue;
        };
        let pos = out
            .iter()
            .position(|o| fields::key_element(o, &keys).as_ref() == Some(&pe));
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                out.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => {
                if let Value::Object(m) = item {
                    smp_map(&mut out[i], m, cursor.item())?;
                }
            }
            (None, false) => out.push(strip_directives(item)),
        }
    }
    if let Some(order) = order {
        let rank = |v: &Value| {
            let pe = fields::key_element(v, &keys);
            order
                .iter()
                .position(|o| fields::key_element(o, &keys) == pe)
                .unwrap_or(usize::MAX)
        };
        out.sort_by_key(rank);
    }
    Ok(out)
}

/// Applies a JSON patch (RFC 6902).
pub fn json_patch(target: &mut Value, ops: &Value) -> Result<(), String> {
    let Value::Array(ops) = ops else {
        return Err("json patch must be an array of operations".into());
    };
    for (i, op) in ops.iter().enumerate() {
        let name = op["op"].as_str().unwrap_or_default();
        let path = op["path"]
            .as_str()
            .ok_or_else(|| format!("operation {i}: missing path"))?;
        let fail = |msg: &str| format!("operation {i} ({name} {path}): {msg}");
        match name {
            "add" => add(
                target,
                path,
                op.get("value")
                    .cloned()
                    .ok_or_else(|| fail("missing value"))?,
            )
            .map_err(|e| fail(&e))?,
            "remove" => {
                take(target, path).map_err(|e| fail(&e))?;
            }
            "replace" => {
                let value = op
                    .get("value")
                    .cloned()
                    .ok_or_else(|| fail("missing value"))?;
                let slot = target
                    .pointer_mut(path)
                    .ok_or_else(|| fail("no such path"))?;
                *slot = value;
            }
            "move" | "copy" => {
                let from = op["from"].as_str().ok_or_else(|| fail("missing from"))?;
                let value = if name == "move" {
                    take(target, from).map_err(|e| fail(&e))?
                } else {
                    target
                        .pointer(from)
                        .cloned()
                        .ok_or_else(|| fail("no such from path"))?
                };
                add(target, path, value).map_err(|e| fail(&e))?;
            }
            "test" => {
                if target.pointer(path) != op.get("value") {
                    return Err(fail("test failed"));
                }
            }
            _ => return Err(fail("unknown operation")),
        }
    }
    Ok(())
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(path: &str) -> Result<(&str, String), String> {
    if path.is_empty() {
        return Err("the root cannot be added to or removed".into());
    }
    let (parent, last) = path.rsplit_once('/').ok_or("a path starts with /")?;
    Ok((parent, unescape(last)))
}

fn add(target: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *target = value;
        return Ok(());
    }
    let (parent, last) = split_pointer(path)?;
    match target.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.insert(last, value);
            Ok(())
        }
        Some(Value::Array(a)) => {
            let i = if last == "-" {
                a.len()
            } else {
                last.parse::<usize>().map_err(|_| "bad array index")?
            };
            if i > a.len() {
                return Err("array index out of bounds".into());
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err("parent does not exist".into()),
    }
}

fn take(target: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split_pointer(path)?;
    match target.pointer_mut(parent) {
        Some(Value::Object(m)) => m.shift_remove(&last).ok_or_else(|| "no such path".into()),
        Some(Value::Array(a)) => {
            let i = last.parse::<usize>().map_err(|_| "bad array index")?;
            if i >= a.len() {
                return Err("array index out of bounds".into());
            }
            Ok(a.remove(i))
        }
        _ => Err("no such path".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_sets_and_deletes() {
        let mut t = json!({"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2]});
        merge_patch(&mut t, &json!({"a": null, "b": {"c": 5}, "l": [3]}));
        assert_eq!(t, json!({"b": {"c": 5, "d": 3}, "l": [3]}));
    }

    #[test]
    fn strategic_merge_patch_merges_containers_by_name() {
        let mut t = json!({"spec": {"containers": [
            {"name": "a", "image": "1", "env": [{"name": "X", "value": "1"}]},
            {"name": "b", "image": "2"}
        ], "tolerations": [{"key": "k"}]}});
        let p = json!({"spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}, {"name": "c"}],
            "containers": [
                {"name": "a", "env": [{"name": "Y", "value": "2"}]},
                {"name": "c", "image": "3"},
                {"name": "b", "$patch": "delete"}
            ],
            "tolerations": [{"key": "j"}]
        }});
        strategic_merge_patch(&mut t, &p, Cursor::BuiltIn).unwrap();
        assert_eq!(
            t,
            json!({"spec": {"containers": [
                {"name": "a", "image": "1", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]},
                {"name": "c", "image": "3"}
            ], "tolerations": [{"key": "j"}]}})
        );
    }

    #[test]
    fn strategic_merge_patch_directives() {
        let mut t = json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
        let p = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]},
            "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
        strategic_merge_patch(&mut t, &p, Cursor::BuiltIn).unwrap();
        assert_eq!(
            t,
            json!({"metadata": {"finalizers": ["b"]}, "spec": {"strategy": {"type": "Recreate"}}})
        );
    }

    #[test]
    fn json_patch_operations() {
        let mut t = json!({"a": {"b": [1, 2]}, "c": "x"});
        json_patch(
            &mut t,
            &json!([
                {"op": "add", "path": "/a/b/-", "value": 3},
                {"op": "replace", "path": "/c", "value": "y"},
                {"op": "copy", "from": "/c", "path": "/d"},
                {"op": "move", "from": "/d", "path": "/e"},
                {"op": "remove", "path": "/a/b/0"},
                {"op": "test", "path": "/e", "value": "y"}
            ]),
        )
        .unwrap();
        assert_eq!(t, json!({"a": {"b": [2, 3]}, "c": "y", "e": "y"}));
        let err =
            json_patch(&mut t, &json!([{"op": "test", "path": "/e", "value": "z"}])).unwrap_err();
        assert!(err.contains("test failed"), "{err}");
    }
}
