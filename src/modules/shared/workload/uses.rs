//! What `uses` binds: a workload names module resources of the render (`PostgreSQL/chat-db`)
//! and gets their published outputs as environment variables or, for credentials at compliance
//! level medium and above, as files of the mounted Secret.

use super::*;

/// A module resource of the render a workload binds to, and what of it the pods get.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UseSpec {
    /// The resource's name, e.g. `chat-db` for `PostgreSQL/chat-db` (same namespace).
    pub name: String,
    /// Environment variables, name → output of the resource, e.g. `DATABASE_URL: uri`,
    /// `DB_HOST: host`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Mount the Secret holding the resource's credential outputs as read-only files here,
    /// one file per key (e.g. a Kafka user's certificate and key).
    pub mount_path: Option<String>,
    /// How the pods get the credentials `env` binds (the outputs held in a Secret): `files`
    /// mounts the Secret read-only (at `mountPath`, else `/var/run/secrets/<secret>`) and sets
    /// `<NAME>_FILE` to the file of the key (a name already ending in `_FILE` is kept); `env`
    /// sets `<NAME>` from a `secretKeyRef`.
    /// Default: `files` at compliance level medium and above (secrets in environment
    /// variables leak into crash dumps, `/proc` and child processes), `env` below.
    pub credentials: Option<Credentials>,
}

/// How a workload gets the credentials it binds with `uses`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Credentials {
    /// The Secret mounted as files; `<NAME>_FILE` names the file of each bound key.
    Files,
    /// `<NAME>` set from a `secretKeyRef` to the Secret's key.
    Env,
}

/// Where a Secret bound with `uses` is mounted when nothing else says.
pub fn credentials_dir(secret: &str) -> String {
    format!("/var/run/secrets/{secret}")
}

/// What the `uses` of a workload resolve to, for its pod template.
#[derive(Default)]
pub(super) struct Bound {
    pub(super) env: Vec<core::EnvVar>,
    /// (Secret, mount path).
    pub(super) mounts: Vec<(String, String)>,
    pub(super) findings: Vec<crate::finding::Finding>,
}

impl Workload<'_> {
    /// What `uses` must be whatever the render holds; what it names is checked at expansion
    /// ([`Workload::uses_findings`]), against the render's published outputs.
    pub(super) fn validate_uses(&self, ch: &mut Problems<'_>) {
        let mut seen: BTreeMap<&str, String> = BTreeMap::new();
        for k in self.env.keys() {
            seen.insert(k, "spec.env".into());
        }
        for k in self.secret_env.keys() {
            seen.insert(k, "spec.secretEnv".into());
        }
        for (i, u) in self.uses.iter().enumerate() {
            let f = format!("spec.uses[{i}]");
            ch.check(format!("{f}.name"), validate::dns1123_label(&u.name));
            if self.uses[..i].iter().any(|o| o.name == u.name) {
                ch.fail(
                    format!("{f}.name"),
                    format!("{:?} is used twice: merge the two entries", u.name),
                );
            }
            container::check_env(&u.env, ch, &format!("{f}.env"));
            for k in u.env.keys() {
                if let Some(other) = seen.get(k.as_str()) {
                    ch.fail(
                        format!("{f}.env.{k}"),
                        format!("{k} is also set in {other}"),
                    );
                } else {
                    seen.insert(k, format!("spec.uses[{i}].env"));
                }
            }
            if let Some(p) = &u.mount_path {
                if !p.starts_with('/') {
                    ch.fail(
                        format!("{f}.mountPath"),
                        format!("mountPath {p:?} must be absolute"),
                    );
                }
            }
            if u.env.is_empty() && u.mount_path.is_none() {
                ch.fail(
                    f,
                    format!(
                        "give env or mountPath (to only reach {:?}, list it in dependsOn)",
                        u.name
                    ),
                );
            }
        }
    }

    /// The errors of `uses` against what the render publishes: a name nothing in the render
    /// has, an output its kind does not publish, a Secret to mount that it does not have.
    pub fn uses_findings(
        &self,
        m: &ModuleResource<'_>,
        ctx: &Context,
    ) -> Vec<crate::finding::Finding> {
        self.bind(m, ctx).findings
    }

    /// Resolves `uses` against the outputs the render publishes.
    pub(super) fn bind(&self, m: &ModuleResource<'_>, ctx: &Context) -> Bound {
        use crate::kind::OutputValue;
        use crate::validate::suggest::did_you_mean;
        let mut b = Bound::default();
        let level = self.compliance.map(|c| c.level).max(ctx.policy.level);
        let default_credentials = match level {
            Some(l) if l >= crate::types::Level::Medium => Credentials::Files,
            _ => Credentials::Env,
        };
        for (i, u) in self.uses.iter().enumerate() {
            let f = format!("spec.uses[{i}]");
            let credentials = u.credentials.unwrap_or(default_credentials);
            let key = (m.namespace.clone(), u.name.clone());
            let Some(found) = ctx.outputs.get(&key) else {
                let here: Vec<(&str, &str)> = ctx
                    .outputs
                    .range((m.namespace.clone(), String::new())..)
                    .take_while(|((ns, _), _)| *ns == m.namespace)
                    .filter(|((_, n), _)| n != m.name)
                    .flat_map(|((_, n), ps)| ps.iter().map(move |p| (n.as_str(), p.kind)))
                    .collect();
                // What can be bound to comes first.
                let mut names: Vec<&str> = here.iter().map(|(n, _)| *n).collect();
                names.dedup();
                let hint = did_you_mean(&u.name, names.iter().copied())
                    .map(|d| format!("; {d}"))
                    .unwrap_or_default();
                let listed = if here.is_empty() {
                    "nothing else is".to_string()
                } else {
                    let all: Vec<String> = here.iter().map(|(n, k)| format!("{n} ({k})")).collect();
                    format!("rendered there: {}", all.join(", "))
                };
                b.findings.push(m.error(
                    format!("{f}.name"),
                    format!(
                        "uses {:?}: nothing of that name is rendered in namespace {}{hint} ({listed})",
                        u.name, m.namespace
                    ),
                ));
                continue;
            };
            // A name two resources share: the one that publishes outputs.
            let p = found
                .iter()
                .find(|p| !p.defs.is_empty())
                .unwrap_or(&found[0]);
            // Its spec has errors, reported where it is expanded.
            let Some(values) = &p.values else { continue };
            let value = |out: &str| values.iter().find(|(n, _)| *n == out).map(|(_, v)| v);
            for (var, out) in &u.env {
                let field = format!("{f}.env.{var}");
                if p.defs.is_empty() {
                    b.findings.push(m.error(
                        field,
                        format!(
                            "{} is a {}, which publishes no connection outputs (to only reach it, list it in dependsOn)",
                            u.name, p.kind
                        ),
                    ));
                    continue;
                }
                let Some(def) = p.defs.iter().find(|d| d.name == out.as_str()) else {
                    let names = p.defs.iter().map(|d| d.name);
                    let hint = did_you_mean(out, names.clone())
                        .map(|d| format!("{d} "))
                        .unwrap_or_default();
                    let all: Vec<&str> = names.collect();
                    b.findings.push(m.error(
                        field,
                        format!(
                            "{} {} publishes no output {out:?}: {hint}(it publishes {})",
                            p.kind,
                            u.name,
                            all.join(", ")
                        ),
                    ));
                    continue;
                };
                match value(def.name) {
                    Some(OutputValue::Value(v)) => b.env.push(core::EnvVar {
                        name: var.clone(),
                        value: Some(v.clone()),
                        ..Default::default()
                    }),
                    Some(OutputValue::Secret { name, key })
                        if credentials == Credentials::Files =>
                    {
                        // A name that already says it is a file's is kept as it is.
                        let var = if var.ends_with("_FILE") {
                            var.clone()
                        } else {
                            format!("{var}_FILE")
                        };
                        if let Some(other) = self.env_name_taken(&var, i) {
                            b.findings.push(m.error(
                                field,
                                format!(
                                    "{var} (the file of this credential, which level {} hands over as a file) is also set in {other}: rename one, or write `credentials: env` in spec.uses[{i}]",
                                    level.map(|l| l.as_str()).unwrap_or("medium")
                                ),
                            ));
                            continue;
                        }
                        let dir = self.credentials_mount(u, name);
                        if !self.secret_mounts.iter().any(|s| s.secret == *name)
                            && !b.mounts.iter().any(|(s, _)| s == name)
                        {
                            b.mounts.push((name.clone(), dir.clone()));
                        }
                        b.env.push(core::EnvVar {
                            name: var,
                            value: Some(format!("{}/{key}", dir.trim_end_matches('/'))),
                            ..Default::default()
                        })
                    }
                    Some(OutputValue::Secret { name, key }) => b.env.push(core::EnvVar {
                        name: var.clone(),
                        value_from: Some(core::EnvVarSource {
                            secret_key_ref: Some(core::SecretKeySelector {
                                name: name.clone(),
                                key: key.clone(),
                                optional: None,
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    None => b.findings.push(m.error(
                        field,
                        format!(
                            "{} {} has no value for {out:?} as it is written ({out}: {})",
                            p.kind, u.name, def.description
                        ),
                    )),
                }
            }
            if let Some(path) = &u.mount_path {
                let mut secrets: Vec<&str> = values
                    .iter()
                    .filter_map(|(_, v)| match v {
                        OutputValue::Secret { name, .. } => Some(name.as_str()),
                        OutputValue::Value(_) => None,
                    })
                    .collect();
                secrets.sort_unstable();
                secrets.dedup();
                let field = format!("{f}.mountPath");
                match secrets.as_slice() {
                    [one] if self.secret_mounts.iter().any(|s| s.secret == *one) => {
                        b.findings.push(m.error(
                            field,
                            format!("Secret {one:?} is also mounted by spec.secretMounts"),
                        ))
                    }
                    [one] if b.mounts.iter().any(|(s, _)| s == one) => {}
                    [one] => b.mounts.push((one.to_string(), path.clone())),
                    [] => b.findings.push(m.error(
                        field,
                        format!("{} {} publishes no Secret to mount", p.kind, u.name),
                    )),
                    many => b.findings.push(m.error(
                        field,
                        format!(
                            "{} {} publishes several Secrets ({}): bind their keys with env instead",
                            p.kind,
                            u.name,
                            many.join(", ")
                        ),
                    )),
                }
            }
        }
        b
    }

    /// The directory a Secret bound by `u` is mounted at: where `secretMounts` already mounts
    /// it, else `u.mountPath` (which mounts the resource's only Secret), else
    /// [`credentials_dir`].
    pub(super) fn credentials_mount(&self, u: &UseSpec, secret: &str) -> String {
        if let Some(s) = self.secret_mounts.iter().find(|s| s.secret == secret) {
            return s.mount_path.clone();
        }
        u.mount_path
            .clone()
            .unwrap_or_else(|| credentials_dir(secret))
    }

    /// Where else the environment variable `var` is set: `spec.env`, `spec.secretEnv`, or
    /// the `env` of another entry of `uses` than the `index`th.
    pub(super) fn env_name_taken(&self, var: &str, index: usize) -> Option<String> {
        if self.env.contains_key(var) {
            return Some("spec.env".into());
        }
        if self.secret_env.contains_key(var) {
            return Some("spec.secretEnv".into());
        }
        self.uses.iter().enumerate().find_map(|(i, u)| {
            (u.env.contains_key(var) && i != index).then(|| format!("spec.uses[{i}].env"))
        })
    }
}
