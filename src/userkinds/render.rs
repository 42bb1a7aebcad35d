//! Turning one instance into its children: defaults, structural validation, CEL rules, then
//! the templates; and where a child's field came from (the template node, at its line).

use super::*;
use crate::finding::Related;

/// What an instance expanded into.
pub struct Produced {
    /// The children, in template order.
    pub objects: Vec<Value>,
    /// For each child, the index of the template that made it.
    pub from: Vec<usize>,
}

impl UserKind {
    /// `<group>/<version>` `<Kind>`, as messages name the kind.
    pub fn title(&self) -> String {
        format!("KindDefinition/{}", self.name)
    }

    /// Validates `res` (an instance) and renders its children; every error of the instance in
    /// one go. `namespace` is its resolved namespace.
    pub fn expand(
        &self,
        kinds: &UserKinds,
        res: &Resource,
        namespace: &str,
        ctx: &Context,
    ) -> Result<Produced, Vec<Finding>> {
        let mut defaulted = Value::Object(res.object.clone());
        schema::defaulted(&self.schema, &mut defaulted);
        let mut errors: Vec<Finding> = Vec::new();
        let mut bad: Vec<String> = Vec::new();
        for p in crate::schema::validate_at(&self.structural, &defaulted, "") {
            if p.path.is_empty()
                || p.path == "metadata"
                || p.path.starts_with("metadata.")
                || p.path == "apiVersion"
                || p.path == "kind"
            {
                // The envelope is the engine's to check.
                if p.path.is_empty() {
                    errors.push(Finding::error(p.message).about(res));
                }
                continue;
            }
            bad.push(p.path.clone());
            errors.push(Finding::error(p.message).about(res).field(p.path));
        }
        let mut pattern_problems = Vec::new();
        schema::patterns(&self.schema, &defaulted, "", &mut pattern_problems);
        for (path, message) in pattern_problems {
            if !bad.iter().any(|b| under(&path, b)) {
                bad.push(path.clone());
                errors.push(Finding::error(message).about(res).field(path));
            }
        }
        let validator = kinds.validator.get_or_init(kube_cel::Validator::new);
        if let Err(failed) = validator.validate_compiled(&self.rules, &defaulted, None) {
            for e in failed.into_vec() {
                let path = e.field_path.trim_start_matches('.').to_string();
                // A rule over a field that is already wrong says nothing new.
                if bad
                    .iter()
                    .any(|b| under(&path, b) || !path.is_empty() && under(b, &path))
                {
                    continue;
                }
                let f = Finding::error(e.message).about(res);
                errors.push(if path.is_empty() { f } else { f.field(path) });
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut bound = defaulted;
        if !namespace.is_empty() {
            if let Some(meta) = bound.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.entry("namespace")
                    .or_insert_with(|| Value::String(namespace.to_string()));
            }
        }
        self.render(kinds, &bound, namespace, ctx)
            .map_err(|(i, p)| {
                vec![Finding::error(format!(
                    "{} {} (id {}) at {}: {}",
                    self.title(),
                    p.path,
                    self.templates[i].id,
                    self.line_of(&p.path),
                    p.message
                ))
                .about(res)]
            })
    }

    /// The file:line of `field` of the definition.
    fn line_of(&self, field: &str) -> crate::resource::Origin {
        let mut located = [Finding::error("")
            .at(self.origin.clone())
            .field(field.to_string())];
        crate::source::locate::field_lines(&mut located, None, crate::finding::Severity::Info);
        located[0].origin.clone().unwrap_or_default()
    }

    /// Renders the templates for `instance` (defaulted): the children, or the template and
    /// problem that stopped it.
    fn render(
        &self,
        kinds: &UserKinds,
        instance: &Value,
        namespace: &str,
        ctx: &Context,
    ) -> Result<Produced, (usize, Problem)> {
        let engine = kinds.engine.get_or_init(engine);
        let mut scope = engine.new_inner_scope();
        let me = cel::value(instance);
        scope.add_variable_from_value("self", me.clone());
        scope.add_variable_from_value("schema", me);
        let labels: Vec<(&str, CelValue)> = ctx
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), cel::value(v)))
            .collect();
        scope.add_variable_from_value(
            "platform",
            cel::map_of(vec![
                ("namespace", cel::string(namespace)),
                (
                    "kubernetesVersion",
                    cel::string(&ctx.kubernetes_version.to_string()),
                ),
                (
                    "inventory",
                    ctx.inventory
                        .as_deref()
                        .map(cel::string)
                        .unwrap_or(CelValue::Null),
                ),
                ("labels", cel::map_of(labels)),
            ]),
        );
        let mut out = Produced {
            objects: Vec::new(),
            from: Vec::new(),
        };
        for (i, t) in self.templates.iter().enumerate() {
            let at = format!("spec.resources[{i}]");
            let fail = |path: String, message: String| (i, Problem { path, message });
            let mut included = true;
            for (field, cond) in &t.include_when {
                match cel::eval(cond, &scope) {
                    Ok(CelValue::Bool(b)) => included &= b,
                    Ok(other) => {
                        return Err(fail(
                            field.clone(),
                            format!(
                                "`${{{}}}` must be true or false, found {}",
                                cond.text,
                                cel::describe(&other)
                            ),
                        ))
                    }
                    Err(e) => {
                        return Err(fail(field.clone(), format!("`${{{}}}`: {e}", cond.text)))
                    }
                }
            }
            if !included {
                continue;
            }
            // The iterator combinations (one empty one without forEach).
            let mut combos: Vec<Vec<(String, CelValue)>> = vec![Vec::new()];
            for (j, (name, source)) in t.for_each.iter().enumerate() {
                let field = format!("{at}.forEach[{j}].{name}");
                let items = match cel::eval(source, &scope) {
                    Ok(CelValue::List(items)) => items,
                    Ok(other) => {
                        return Err(fail(
                            field,
                            format!(
                                "`${{{}}}` must be a list, found {}",
                                source.text,
                                cel::describe(&other)
                            ),
                        ))
                    }
                    Err(e) => return Err(fail(field, format!("`${{{}}}`: {e}", source.text))),
                };
                let mut next = Vec::with_capacity(combos.len() * items.len());
                for c in &combos {
                    for item in items.iter() {
                        let mut c = c.clone();
                        c.push((name.clone(), item.clone()));
                        next.push(c);
                    }
                }
                combos = next;
                if combos.len() > MAX_CHILDREN {
                    break;
                }
            }
            if out.objects.len() + combos.len() > MAX_CHILDREN {
                return Err(fail(format!("{at}.forEach"), format!("an instance may have at most {MAX_CHILDREN} children, and this one would have {} or more: check the forEach lists", out.objects.len() + combos.len())));
            }
            let mut made = Vec::with_capacity(combos.len());
            for combo in combos {
                let mut inner = scope.new_inner_scope();
                for (name, v) in combo {
                    inner.add_variable_from_value(name, v);
                }
                let rendered = t.node.render(&inner).map_err(|p| {
                    let path = field_of(&at, &p.path);
                    fail(path, p.message)
                })?;
                let Some(child) = rendered else {
                    continue;
                };
                check_child(&child).map_err(|m| fail(format!("{at}.template"), m))?;
                made.push(child);
            }
            // Later templates read this one's output.
            let sibling = if t.for_each.is_empty() {
                made.first().map(cel::value).unwrap_or(CelValue::Null)
            } else {
                CelValue::List(Arc::new(made.iter().map(cel::value).collect()))
            };
            scope.add_variable_from_value(t.id.clone(), sibling);
            for child in made {
                out.objects.push(child);
                out.from.push(i);
            }
        }
        Ok(out)
    }

    /// Renders one synthesized minimal instance, so that template errors show before any user
    /// instance meets them.
    pub(super) fn self_test(&self, kinds: &UserKinds, findings: &mut Vec<Finding>) {
        let mut sample = schema::minimal(&self.schema);
        if let Some(m) = sample.as_object_mut() {
            m.insert("apiVersion".into(), Value::String(self.api_version.clone()));
            m.insert("kind".into(), Value::String(self.kind.clone()));
            m.insert(
                "metadata".into(),
                serde_json::json!({"name": "sample", "namespace": "default"}),
            );
        }
        let mut defaulted = sample.clone();
        schema::defaulted(&self.schema, &mut defaulted);
        if let Err((i, p)) = self.render(kinds, &defaulted, "default", &Context::default()) {
            findings.push(
                Finding::error(format!(
                    "(id {}) a minimal instance (spec {}) does not render: {}",
                    self.templates[i].id,
                    serde_json::to_string(sample.get("spec").unwrap_or(&Value::Null))
                        .unwrap_or_default(),
                    p.message
                ))
                .at(self.origin.clone())
                .object(Arc::new(crate::resource::ObjectRef {
                    api_version: API_VERSION.into(),
                    kind: KIND_DEFINITION.into(),
                    name: self.name.clone(),
                    namespace: None,
                }))
                .field(p.path),
            );
        }
    }

    /// Where a child's `field` came from: the deepest node of template `index` that holds it,
    /// as the definition's field (`produced by KindDefinition/… <field> (id <id>)`), and that
    /// field's file:line.
    pub fn produced_by(&self, index: usize, field: &str) -> Related {
        let t = &self.templates[index];
        let mut node = &t.raw;
        let mut path = String::new();
        for part in split_path(field) {
            let next = match part {
                PathPart::Key(k) => node.get(k),
                PathPart::Index(i) => node.get(i),
            };
            match next {
                Some(n) => {
                    node = n;
                    match part {
                        PathPart::Key(k) => path = template::join(&path, k),
                        PathPart::Index(i) => path = format!("{path}[{i}]"),
                    }
                }
                None => break,
            }
        }
        let field = field_of(&format!("spec.resources[{index}]"), &path);
        Related {
            message: format!("produced by {} {field} (id {})", self.title(), t.id),
            origin: self.line_of(&field),
        }
    }
}

/// Whether field `path` is `prefix` or below it.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

enum PathPart<'a> {
    Key(&'a str),
    Index(usize),
}

/// `spec.ports[0].port` as its parts.
fn split_path(field: &str) -> Vec<PathPart<'_>> {
    let mut out = Vec::new();
    for seg in field.split('.') {
        let (key, rest) = seg.split_once('[').map_or((seg, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(PathPart::Key(key));
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(PathPart::Index(i));
            }
        }
    }
    out
}

/// A child must be an object with an apiVersion, a kind and a name.
pub(super) fn check_child(child: &Value) -> Result<(), String> {
    let Some(map) = child.as_object() else {
        return Err("a template must give an object".into());
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    for key in ["apiVersion", "kind"] {
        if !text(map.get(key)) {
            return Err(format!(
                "the object has no {key}: every template gives apiVersion, kind and metadata.name"
            ));
        }
    }
    let name = map.get("metadata").and_then(|m| m.get("name"));
    if !text(name) {
        return Err("the object has no metadata.name".into());
    }
    Ok(())
}
