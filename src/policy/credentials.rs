//! Credentials where they do not belong: `secret-in-configmap`, and the shapes of a credential
//! that `secret-in-env` shares (names that mark a secret, PEM private keys).
//!
//! A ConfigMap is not a secret: anyone who may read the namespace's ConfigMaps, the rendered
//! manifests, a GitOps repository or `kubectl describe` output sees its data. `secret-in-configmap`
//! reads every `data` value and reports, by key name only (a finding never repeats the value):
//! - a PEM private key under any header (`-----BEGIN PRIVATE KEY-----`, `RSA`, `EC`, `DSA`,
//!   `OPENSSH`, `ENCRYPTED`, `PGP PRIVATE KEY BLOCK`...): an error whatever the check's severity;
//! - a well-known token shape anywhere in a value: AWS access key ids (`AKIA`/`ASIA` and 16
//!   more), GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), Slack tokens
//!   (`xoxb-`, `xoxp-`, ...), Google API keys (`AIza`), Stripe live secret keys and JWTs
//!   (`eyJ...` header and payload);
//! - a key named like a secret (`password`, `passwd`, `secret`, `token`, `api_key`...: the names
//!   `secret-in-env` uses) with a literal value, and the same for `name = value` or `name: value`
//!   lines inside a value (a config file kept in the ConfigMap).
//!
//! Values that hold nothing are not reported: empty, a reference (`${VAR}`, `$(VAR)`, `{{ .x }}`,
//! `<password>`), a placeholder (`changeme`, `xxxx`, `***`, `REPLACE_ME`, AWS's documented
//! `...EXAMPLE` key), a boolean, a number or a path. `binaryData` is not read.

use super::{CheckDef, Fix, HitSink, Scope};
use crate::finding::Severity;
use crate::resource::Field;
use crate::resource::Resource;
use serde_json::Value;

pub const SECRET_IN_CONFIGMAP: CheckDef = CheckDef {
    id: "secret-in-configmap",
    summary: "ConfigMap data holds no private keys, tokens or passwords (they belong in a Secret)",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::No,
    scope: Scope::Object(secret_in_configmap),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[&SECRET_IN_CONFIGMAP];

/// Parts of a name (upper-cased, `-` and `.` read as `_`) that mark a secret.
const SECRET_WORDS: [&str; 16] = [
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
    // Keys of cloud accounts and of signing or encryption (Azure's AZURE_STORAGE_KEY and
    // AZURE_BATCH_KEY, OCI's OCI_CLI_KEY_CONTENT, JWT_SIGNING_KEY, ...).
    "ACCOUNT_KEY",
    "STORAGE_KEY",
    "BATCH_KEY",
    "KEY_CONTENT",
    "SIGNING_KEY",
    "ENCRYPTION_KEY",
    "MASTER_KEY",
];

/// Name endings that say where a secret is, not what it is.
const REFERENCE_SUFFIXES: [&str; 4] = ["_FILE", "_PATH", "_DIR", "_NAME"];

/// Whether a variable or key called `name` presumably holds a secret.
pub(super) fn secret_name(name: &str) -> bool {
    let norm = name.to_ascii_uppercase().replace(['-', '.'], "_");
    SECRET_WORDS.iter().any(|w| norm.contains(w))
        && !REFERENCE_SUFFIXES.iter().any(|s| norm.ends_with(s))
}

/// The header label of the first PEM private key in `text` (`RSA PRIVATE KEY`, `PRIVATE KEY`,
/// `OPENSSH PRIVATE KEY`, `PGP PRIVATE KEY BLOCK`...), if it holds one. Certificates and public
/// keys are not private keys.
pub(super) fn pem_private_key(text: &str) -> Option<&str> {
    // The header is read with three dashes or more on either side: a key pasted with its
    // dashes cut (`---BEGIN OPENSSH PRIVATE KEY---`) is still a key, written where it leaks.
    let mut rest = text;
    while let Some(at) = rest.find("---BEGIN ") {
        let after = &rest[at + "---BEGIN ".len()..];
        let label = after.split("---").next().unwrap_or("");
        if after.len() > label.len() && !label.contains('\n') && label.contains("PRIVATE KEY") {
            return Some(label.trim_end_matches('-'));
        }
        rest = after;
    }
    None
}

/// What a well-known token shape `word` is, if it is one.
fn token_shape(word: &str) -> Option<&'static str> {
    // Documentation's sample keys (AWS's `AKIAIOSFODNN7EXAMPLE`) are not credentials.
    if word.ends_with("EXAMPLE") {
        return None;
    }
    let upper_digits = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    let alnum = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
    let url_safe = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if word.len() == 20
        && (word.starts_with("AKIA") || word.starts_with("ASIA"))
        && upper_digits(word)
    {
        return Some("an AWS access key id");
    }
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        if let Some(rest) = word.strip_prefix(prefix) {
            if rest.len() >= 36 && alnum(rest) {
                return Some("a GitHub token");
            }
        }
    }
    if word
        .strip_prefix("github_pat_")
        .is_some_and(|rest| rest.len() >= 70 && url_safe(rest))
    {
        return Some("a GitHub token");
    }
    for prefix in ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-"] {
        if let Some(rest) = word.strip_prefix(prefix) {
            if rest.len() >= 10 && url_safe(rest) && rest.bytes().any(|b| b.is_ascii_digit()) {
                return Some("a Slack token");
            }
        }
    }
    if word
        .strip_prefix("AIza")
        .is_some_and(|rest| rest.len() == 35 && url_safe(rest))
    {
        return Some("a Google API key");
    }
    for prefix in ["sk_live_", "rk_live_"] {
        if word
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.len() >= 20 && alnum(rest))
        {
            return Some("a Stripe live secret key");
        }
    }
    let parts: Vec<&str> = word.split('.').collect();
    if parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[1].starts_with("eyJ")
        && parts.iter().all(|p| p.len() >= 10 && url_safe(p))
    {
        return Some("a JSON Web Token");
    }
    None
}

/// The first well-known token shape in `text`: its words are the runs of characters a token
/// is made of.
fn token_in(text: &str) -> Option<&'static str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .map(|w| w.trim_matches(|c| c == '.' || c == '-'))
        .find_map(token_shape)
}

/// Whether a value written for a secret-looking name holds nothing secret itself.
fn holds_nothing(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    let wrapped = |open: &str, close: &str| v.starts_with(open) && v.ends_with(close);
    v.is_empty()
        || wrapped("${", "}")
        || wrapped("$(", ")")
        || wrapped("{{", "}}")
        || wrapped("<", ">")
        || wrapped("%(", ")s")
        || (v.starts_with('$')
            && v[1..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        || v.starts_with('/')
        || v.starts_with("file://")
        || v.parse::<f64>().is_ok()
        || v.bytes()
            .all(|b| matches!(b, b'x' | b'X' | b'*' | b'.' | b'-' | b'_'))
        || matches!(
            lower.as_str(),
            "true"
                | "false"
                | "yes"
                | "no"
                | "on"
                | "off"
                | "null"
                | "none"
                | "nil"
                | "~"
                | "changeme"
                | "change-me"
                | "change_me"
                | "replace_me"
                | "replace-me"
                | "replaceme"
                | "placeholder"
                | "todo"
                | "tbd"
                | "dummy"
                | "example"
                | "redacted"
                | "secret"
                | "password"
                | "token"
        )
        || lower.ends_with("example")
}

/// The `(name, value)` of a `name = value`, `name=value` or `name: value` line, quotes and a
/// trailing comma removed (properties, env files, YAML, JSON and TOML lines).
fn assignment(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    let line = line.strip_prefix("export ").unwrap_or(line);
    if line.starts_with('#') || line.starts_with("//") || line.starts_with(';') {
        return None;
    }
    let at = line.find(['=', ':'])?;
    fn unquote(s: &str) -> &str {
        let s = s.trim().trim_end_matches(',').trim();
        s.trim_matches(|c| c == '"' || c == '\'')
    }
    let name = unquote(&line[..at]);
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    Some((name, unquote(&line[at + 1..])))
}

fn secret_in_configmap(r: &Resource, out: &mut HitSink) {
    if r.group() != "" || r.kind() != "ConfigMap" {
        return;
    }
    let Some(Value::Object(data)) = r.object.field("data") else {
        return;
    };
    const MOVE: &str = "ConfigMaps are readable by anyone who reads the namespace's configuration; keep it in a Secret and mount that";
    // A key next to its certificate: a TLS Secret holds both.
    let tls = if data.values().any(|v| {
        v.as_str()
            .is_some_and(|v| v.contains("-----BEGIN CERTIFICATE-----"))
    }) {
        " (a Secret of type kubernetes.io/tls holds a certificate and its key)"
    } else {
        ""
    };
    for (key, value) in data {
        let Some(value) = value.as_str() else {
            continue;
        };
        let field = format!("data.{key}");
        if let Some(label) = pem_private_key(value) {
            out.push_error(
                field,
                format!("data key {key:?} holds a PEM private key (-----BEGIN {label}-----): {MOVE}{tls}"),
            );
            continue;
        }
        if let Some(what) = token_in(value) {
            out.push(
                field,
                format!("data key {key:?} holds what looks like {what}: {MOVE}"),
            );
            continue;
        }
        if secret_name(key) && !value.contains('\n') && !holds_nothing(value) {
            out.push(
                field,
                format!(
                    "data key {key:?} is named like a secret and holds a literal value: {MOVE}"
                ),
            );
            continue;
        }
        let lines = value.lines().enumerate().filter_map(|(n, l)| {
            assignment(l)
                .filter(|(name, v)| secret_name(name) && !holds_nothing(v))
                .map(|(name, _)| (n + 1, name))
        });
        let found: Vec<String> = lines
            .map(|(n, name)| format!("{name:?} (line {n})"))
            .collect();
        if !found.is_empty() && value.contains('\n') {
            out.push(
                field,
                format!(
                    "data key {key:?} sets {} to a literal value: {MOVE}, or have the file read it from one",
                    found.join(", ")
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{expect_hits as expect, hits_of};

    fn config_map(data: &str) -> String {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app, namespace: shop}}\ndata:\n{data}")
    }

    #[test]
    fn private_keys_of_every_header_form_are_found() {
        for label in [
            "PRIVATE KEY",
            "RSA PRIVATE KEY",
            "EC PRIVATE KEY",
            "DSA PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "PGP PRIVATE KEY BLOCK",
        ] {
            let text =
                format!("intro\n-----BEGIN {label}-----\nMIIEvQIBADANBg\n-----END {label}-----\n");
            assert_eq!(pem_private_key(&text), Some(label), "{label}");
        }
        let certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n";
        assert_eq!(pem_private_key(certificate), None);
        // A chain with the key after the certificate.
        let chain = format!(
            "{certificate}-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n"
        );
        assert_eq!(pem_private_key(&chain), Some("EC PRIVATE KEY"));
        // Prose that names a header is not a key.
        assert_eq!(pem_private_key("-----BEGIN PRIVATE KEY"), None);
        // A key pasted with its dashes cut short is still one.
        assert_eq!(
            pem_private_key(
                "---BEGIN OPENSSH PRIVATE KEY---\nb3Blbn\n---END OPENSSH PRIVATE KEY---"
            ),
            Some("OPENSSH PRIVATE KEY")
        );
        assert_eq!(pem_private_key("--BEGIN PRIVATE KEY--\nMIIB"), None);
    }

    #[test]
    fn cloud_account_and_signing_keys_are_secret_names() {
        for name in [
            "AZURE_BATCH_KEY",
            "AZURE_STORAGE_ACCOUNT_KEY",
            "OCI_CLI_KEY_CONTENT",
            "jwt-signing-key",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            assert!(secret_name(name), "{name}");
        }
        for name in [
            "SORT_KEY",
            "CACHE_KEY",
            "KEYCLOAK_URL",
            "AZURE_STORAGE_KEY_FILE",
        ] {
            assert!(!secret_name(name), "{name}");
        }
    }

    #[test]
    fn token_shapes_are_recognised_inside_values() {
        let ghp = format!("ghp_{}", "a1B2".repeat(9));
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        for (text, what) in [
            ("aws_access_key_id = AKIAZ5GMHYJKLMNOPQRS", "an AWS access key id"),
            (ghp.as_str(), "a GitHub token"),
            ("url: https://hooks.slack.com?t=xoxb-123456789012-abcdefABCDEF.", "a Slack token"),
            ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "a JSON Web Token"),
            (jwt, "a JSON Web Token"),
            ("key=AIzaSyA1234567890abcdefghijklmnopqrstuv", "a Google API key"),
        ] {
            assert_eq!(token_in(text), Some(what), "{text}");
        }
        for text in [
            "AKIAIOSFODNN7EXAMP",
            "akiaz5gmhyjklmnopqrs",
            "ghp_short",
            "xoxb-",
            "eyJhbGciOiJIUzI1NiJ9",
            "image: ghcr.io/acme/api:1.4.2",
            "a.b.c",
        ] {
            assert_eq!(token_in(text), None, "{text}");
        }
    }

    #[test]
    fn secret_in_configmap_reports_by_key_and_never_the_value() {
        let yaml = config_map(
            "  tls.key: |\n    -----BEGIN OPENSSH PRIVATE KEY-----\n    b3BlbnNzaC1rZXk\n    -----END OPENSSH PRIVATE KEY-----\n  DB_PASSWORD: hunter2-very-secret\n  api-key: s3cr3tv4lue\n  aws: AKIAZ5GMHYJKLMNOPQRS\n  app.properties: |\n    server.port=8080\n    spring.datasource.password=hunter2\n    client_secret: \"abc123def\"\n",
        );
        expect(
            &SECRET_IN_CONFIGMAP,
            &yaml,
            &[
                ("app", "data.tls.key", "holds a PEM private key (-----BEGIN OPENSSH PRIVATE KEY-----)"),
                ("app", "data.DB_PASSWORD", "data key \"DB_PASSWORD\" is named like a secret and holds a literal value"),
                ("app", "data.api-key", "named like a secret"),
                ("app", "data.aws", "looks like an AWS access key id"),
                ("app", "data.app.properties", "sets \"spring.datasource.password\" (line 2), \"client_secret\" (line 3) to a literal value"),
            ],
        );
        for (_, _, message) in hits_of(&SECRET_IN_CONFIGMAP, &yaml) {
            for value in ["hunter2", "s3cr3t", "AKIAZ5", "abc123", "b3BlbnNzaC1rZXk"] {
                assert!(!message.contains(value), "{message} shows {value}");
            }
        }
    }

    #[test]
    fn private_keys_are_errors_and_the_rest_warnings() {
        let yaml = config_map(
            "  key.pem: \"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n\"\n  token: abcdefgh12345\n",
        );
        let res = crate::source::parse_text(&yaml, "t.yaml").unwrap();
        let refs: Vec<&Resource> = res.iter().collect();
        let findings = crate::policy::run(&refs, &crate::settings::PolicySettings::default());
        let severities: Vec<(&str, Severity)> = findings
            .iter()
            .filter(|f| f.check == Some("secret-in-configmap"))
            .map(|f| (f.field.as_deref().unwrap_or(""), f.severity))
            .collect();
        assert_eq!(
            severities,
            vec![
                ("data.key.pem", Severity::Error),
                ("data.token", Severity::Warning)
            ]
        );
    }

    #[test]
    fn secret_in_configmap_passes_references_placeholders_and_plain_settings() {
        let yaml = config_map(
            "  DB_PASSWORD: \"\"\n  API_TOKEN: ${API_TOKEN}\n  SECRET_NAME: db-credentials\n  password_file: /run/secrets/db\n  token: changeme\n  client-secret: <client-secret>\n  auth_token: '{{ .Values.token }}'\n  aws_access_key_id: AKIAIOSFODNN7EXAMPLE\n  TOKEN_TTL_SECONDS: \"3600\"\n  USE_TOKEN: \"true\"\n  LOG_LEVEL: info\n  ca.crt: |\n    -----BEGIN CERTIFICATE-----\n    MIIB\n    -----END CERTIFICATE-----\n  app.yaml: |\n    database:\n      password: ${DB_PASSWORD}\n      host: db\n    # token: not here\n",
        );
        expect(&SECRET_IN_CONFIGMAP, &yaml, &[]);
        // Only ConfigMaps: a Secret holds secrets.
        let secret = yaml
            .replace("kind: ConfigMap", "kind: Secret")
            .replace("data:", "stringData:");
        expect(&SECRET_IN_CONFIGMAP, &secret, &[]);
    }
}
