//! Reading definitions: from the input, `--kinds` paths and `NIXERNETES_KINDS`; the header of
//! each checked at its field; duplicates and kind cycles found before anything compiles.

use super::*;

/// Keys of kro's resources that only a controller can honour.
const CONTROLLER_ONLY: &[&str] = &["readyWhen", "externalRef"];

/// Takes the definitions out of a run's input (they are configuration, never output) and
/// compiles those whose kinds the input uses; `extra` are definitions from `--kinds` paths and
/// `NIXERNETES_KINDS`. Problems are errors in `findings`, each at its field. With no definition
/// anywhere this only looks at each input's kind.
pub fn take(
    inputs: Vec<Resource>,
    extra: &[Resource],
    registry: &Registry,
    findings: &mut Vec<Finding>,
) -> (Vec<Resource>, UserKinds) {
    if extra.is_empty() && !inputs.iter().any(is_definition) {
        return (inputs, UserKinds::default());
    }
    let (sources, inputs) = sources(inputs, extra, findings);
    let parsed = parse(sources, registry, findings);
    // Compile only what the input uses, and what that emits.
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut todo: Vec<usize> = parsed
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            inputs
                .iter()
                .any(|r| r.kind() == p.spec.kind && r.api_version() == p.api_version)
        })
        .map(|(i, _)| i)
        .collect();
    while let Some(i) = todo.pop() {
        if !used.insert(i) {
            continue;
        }
        for (api, kind) in emitted(&parsed[i].spec) {
            if let Some(j) = parsed
                .iter()
                .position(|p| p.api_version == api && p.spec.kind == kind)
            {
                todo.push(j);
            }
        }
    }
    (inputs, build(&parsed, used, findings))
}

/// Every definition of `inputs` (other objects there are ignored) and `extra` (`--kinds`
/// paths, where anything else is an error), each read, checked and compiled as [`take`] does
/// for the kinds an input uses: what `kinds`, `explain` and `schema` describe.
pub fn load(
    inputs: Vec<Resource>,
    extra: &[Resource],
    registry: &Registry,
    findings: &mut Vec<Finding>,
) -> UserKinds {
    let (sources, _) = sources(inputs, extra, findings);
    let parsed = parse(sources, registry, findings);
    build(&parsed, (0..parsed.len()).collect(), findings)
}

/// The definitions of `inputs` and `extra`, and the other inputs; anything but a definition in
/// `extra` is an error.
fn sources(
    inputs: Vec<Resource>,
    extra: &[Resource],
    findings: &mut Vec<Finding>,
) -> (Vec<Resource>, Vec<Resource>) {
    let (mut sources, inputs): (Vec<Resource>, Vec<Resource>) =
        inputs.into_iter().partition(is_definition);
    for r in extra {
        if is_definition(r) {
            sources.push(r.clone());
        } else {
            findings.push(
                Finding::error(format!(
                    "{} is not a KindDefinition: --kinds and NIXERNETES_KINDS read KindDefinition ({API_VERSION}) objects; put other objects in the input",
                    r.kind()
                ))
                .about(r),
            );
        }
    }
    (sources, inputs)
}

/// Each definition read, its header checked; a second definition of a kind, and kind cycles,
/// reported.
fn parse(sources: Vec<Resource>, registry: &Registry, findings: &mut Vec<Finding>) -> Vec<Parsed> {
    let mut parsed: Vec<Parsed> = Vec::new();
    for res in sources {
        let Some(spec) = read(&res, registry, findings) else {
            continue;
        };
        let api_version = format!("{}/{}", spec.group, spec.version);
        if let Some(first) = parsed
            .iter()
            .find(|p| p.spec.group == spec.group && p.spec.kind == spec.kind)
        {
            findings.push(
                Finding::error(format!(
                    "kind {} of group {} is already defined at {} (KindDefinition/{}); a kind has one definition",
                    spec.kind,
                    spec.group,
                    first.res.origin,
                    first.res.name()
                ))
                .about(&res)
                .field("spec.kind"),
            );
            continue;
        }
        parsed.push(Parsed {
            res,
            spec,
            api_version,
        });
    }
    cycles(&parsed, findings);
    parsed
}

/// The definitions `used` of `parsed`, compiled; then, when nothing failed, each kind's
/// self-test (one synthesized minimal instance renders), which drops the kinds that fail it.
fn build(parsed: &[Parsed], used: BTreeSet<usize>, findings: &mut Vec<Finding>) -> UserKinds {
    let mut set = UserKinds::default();
    let engine = set.engine.get_or_init(engine);
    let mut compiled = Vec::new();
    for i in used {
        if let Some(k) = compile::compile(&parsed[i], engine, findings) {
            compiled.push(k);
        }
    }
    set.kinds = compiled;
    if !has_errors(findings) {
        let mut passed = Vec::with_capacity(set.kinds.len());
        for k in std::mem::take(&mut set.kinds) {
            let before = findings.len();
            k.self_test(&set, findings);
            if !has_errors(&findings[before..]) {
                passed.push(k);
            }
        }
        set.kinds = passed;
    }
    set
}

/// The (apiVersion, kind) pairs a definition's templates emit, where written literally.
pub(super) fn emitted(spec: &DefinitionSpec) -> Vec<(String, String)> {
    spec.resources
        .iter()
        .filter_map(|r| {
            let api = r.template.get("apiVersion")?.as_str()?;
            let kind = r.template.get("kind")?.as_str()?;
            (!api.contains("${") && !kind.contains("${"))
                .then(|| (api.to_string(), kind.to_string()))
        })
        .collect()
}

/// Reports every cycle of kinds emitting each other (A → B → A) at the definition that starts
/// it, once per cycle.
fn cycles(parsed: &[Parsed], findings: &mut Vec<Finding>) {
    let edges: Vec<Vec<(usize, usize)>> = parsed
        .iter()
        .map(|p| {
            p.spec
                .resources
                .iter()
                .enumerate()
                .filter_map(|(ri, r)| {
                    let api = r.template.get("apiVersion")?.as_str()?;
                    let kind = r.template.get("kind")?.as_str()?;
                    let j = parsed
                        .iter()
                        .position(|q| q.api_version == api && q.spec.kind == kind)?;
                    Some((ri, j))
                })
                .collect()
        })
        .collect();
    let mut reported: BTreeSet<Vec<usize>> = BTreeSet::new();
    for start in 0..parsed.len() {
        // Depth-first, paths of (definition, resource index).
        let mut stack: Vec<(usize, Vec<(usize, usize)>)> = vec![(start, Vec::new())];
        while let Some((at, path)) = stack.pop() {
            for &(ri, next) in &edges[at] {
                let mut path = path.clone();
                path.push((at, ri));
                if next == start {
                    let mut members: Vec<usize> = path.iter().map(|(d, _)| *d).collect();
                    members.sort();
                    if reported.insert(members) {
                        let chain: Vec<&str> = path
                            .iter()
                            .map(|(d, _)| parsed[*d].spec.kind.as_str())
                            .chain([parsed[start].spec.kind.as_str()])
                            .collect();
                        let (_, first_ri) = path[0];
                        findings.push(
                            Finding::error(format!(
                                "kinds emit each other in a cycle ({}): an instance would never finish expanding",
                                chain.join(" → ")
                            ))
                            .about(&parsed[start].res)
                            .field(format!("spec.resources[{first_ri}].template.kind")),
                        );
                    }
                } else if !path.iter().any(|(d, _)| *d == next) && path.len() < 16 {
                    stack.push((next, path));
                }
            }
        }
    }
}

/// The spec of a definition, its header checked; every problem reported at its field.
fn read(
    res: &Resource,
    registry: &Registry,
    findings: &mut Vec<Finding>,
) -> Option<DefinitionSpec> {
    let before = findings.len();
    let err = |field: &str, msg: String| Finding::error(msg).about(res).field(field.to_string());
    for key in res.object.keys() {
        if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata" | "spec") {
            let hint = crate::validate::suggest::did_you_mean(
                key,
                ["apiVersion", "kind", "metadata", "spec"],
            )
            .unwrap_or_else(|| "expected apiVersion, kind, metadata, spec".into());
            findings.push(err(key, format!("unknown field {key:?}: {hint}")));
        }
    }
    let name = res.name();
    if name.is_empty() {
        findings.push(err(
            "metadata.name",
            "required: name the definition `<plural>.<group>`, as a CRD is named (e.g. `shopservices.platform.acme.io`)".into(),
        ));
    } else if let Err(why) = crate::validate::dns1123_subdomain(name) {
        findings.push(err("metadata.name", why));
    }
    let mut spec = match res.object.get("spec") {
        Some(Value::Object(s)) => s.clone(),
        _ => {
            findings.push(err(
                "spec",
                "required: the definition's spec (group, version, kind, schema, resources)".into(),
            ));
            return None;
        }
    };
    // kro keys a controller needs: refused with the reason rather than as unknown.
    if let Some(Value::Array(resources)) = spec.get_mut("resources") {
        for (i, r) in resources.iter_mut().enumerate() {
            if let Value::Object(r) = r {
                for key in CONTROLLER_ONLY {
                    if r.remove(*key).is_some() {
                        findings.push(err(
                            &format!("spec.resources[{i}].{key}"),
                            format!("{key} is not applicable to offline rendering: nothing here waits for a cluster; remove it"),
                        ));
                    }
                }
            }
        }
    }
    let spec_value = Value::Object(spec);
    let spec: DefinitionSpec = match crate::schema::strict::deserialize(&spec_value) {
        Ok(s) => s,
        Err(e) => {
            let schema = spec_schema();
            let problems = crate::schema::validate_at(&schema, &spec_value, "spec");
            if problems.is_empty() {
                findings.push(err(
                    &format!("spec.{}", e.path()),
                    e.into_inner().to_string(),
                ));
            }
            for p in problems {
                findings.push(err(
                    if p.path.is_empty() { "spec" } else { &p.path },
                    p.message,
                ));
            }
            return None;
        }
    };
    if spec.group.is_empty() {
        findings.push(err(
            "spec.group",
            "required: your own API group, e.g. platform.acme.io".into(),
        ));
    } else if spec.group == GROUP || spec.group.ends_with(".nixernetes.io") {
        findings.push(err(
            "spec.group",
            format!(
                "group {} is reserved for the built-in kinds: use your own, e.g. platform.acme.io",
                spec.group
            ),
        ));
    } else if let Err(why) = crate::validate::dns1123_subdomain(&spec.group) {
        findings.push(err("spec.group", why));
    }
    if !valid_version(&spec.version) {
        findings.push(err(
            "spec.version",
            format!(
                "{:?} is not a Kubernetes version: expected v1, v2beta1, v1alpha3 and the like",
                spec.version
            ),
        ));
    }
    let pascal = spec
        .kind
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase())
        && spec.kind.chars().all(|c| c.is_ascii_alphanumeric());
    if !pascal {
        findings.push(err(
            "spec.kind",
            format!(
                "{:?} is not a kind name: PascalCase letters and digits, e.g. ShopService",
                spec.kind
            ),
        ));
    } else if registry.lookup(&spec.kind).is_some()
        || spec.kind == KIND_DEFINITION
        || spec.kind == crate::rules::VALIDATION_RULE
    {
        findings.push(err(
            "spec.kind",
            format!("{} is a built-in kind: a user kind takes a name of its own, so that the two never mix up in output, docs or errors", spec.kind),
        ));
    }
    if let Some(c) = &spec.category {
        if let Err(why) = crate::validate::label_value(c).and(if c.is_empty() {
            Err("empty".into())
        } else {
            Ok(())
        }) {
            findings.push(err(
                "spec.category",
                format!("the category is stamped as label nixernetes.io/module: {why}"),
            ));
        }
    }
    // The instance schema, of every definition (used by the input or not: a broken one is
    // reported even before its first instance; only compiling the expressions waits for one).
    let root = &spec.schema.open_api_v3_schema;
    let mut problems = Vec::new();
    if root.is_null() {
        // Read as absent, as every null field is (fuzz target kind_specs).
        problems.push((
            "spec.schema.openAPIV3Schema".to_string(),
            "required field is missing".to_string(),
        ));
    } else {
        super::schema::check(root, "spec.schema.openAPIV3Schema", &mut problems);
    }
    if root.get("type").and_then(Value::as_str) != Some("object") && problems.is_empty() {
        problems.push((
            "spec.schema.openAPIV3Schema.type".into(),
            "the root of the schema is the whole instance: type object".into(),
        ));
    }
    for (field, msg) in problems {
        findings.push(err(&field, msg));
    }
    let mut ids = BTreeSet::new();
    for (i, r) in spec.resources.iter().enumerate() {
        let identifier = r.id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && r.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier {
            findings.push(err(&format!("spec.resources[{i}].id"), format!("{:?} is not a CEL identifier (letters, digits and _, starting with a letter): later templates read it as a variable", r.id)));
        } else if ["self", "schema", "platform"].contains(&r.id.as_str()) {
            findings.push(err(
                &format!("spec.resources[{i}].id"),
                format!("{:?} is a variable templates already have", r.id),
            ));
        } else if !ids.insert(r.id.as_str()) {
            findings.push(err(
                &format!("spec.resources[{i}].id"),
                format!("id {:?} is used twice", r.id),
            ));
        }
        if !r.template.is_object() {
            findings.push(err(
                &format!("spec.resources[{i}].template"),
                "a template is an object (apiVersion, kind, metadata, …)".into(),
            ));
        }
    }
    (findings.len() == before).then_some(spec)
}

/// kro's version rule: `v1`, `v1beta2`, `v2alpha1`.
pub(super) fn valid_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || rest.starts_with('0') {
        return false;
    }
    let tail = &rest[digits..];
    if tail.is_empty() {
        return true;
    }
    let Some(n) = tail
        .strip_prefix("alpha")
        .or_else(|| tail.strip_prefix("beta"))
    else {
        return false;
    };
    !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())
}
