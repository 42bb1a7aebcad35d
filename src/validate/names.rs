//! Kubernetes names and label syntax (apimachinery `validation.IsDNS1123Label` and friends).

fn is_label_chars(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// RFC 1123 label: at most 63 lowercase alphanumerics or '-', starting and ending alphanumeric.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && is_label_chars(s)
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid name {s:?}: expected a DNS-1123 label (at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit)"
        ))
    }
}

/// RFC 1035 label (Service names): a DNS-1123 label that starts with a letter.
pub fn dns1035_label(s: &str) -> Result<(), String> {
    let ok = dns1123_label(s).is_ok() && s.starts_with(|c: char| c.is_ascii_lowercase());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid name {s:?}: expected a DNS-1035 label (at most 63 lowercase letters, digits or '-', starting with a letter, ending with a letter or digit)"
        ))
    }
}

/// RFC 1123 subdomain as Kubernetes checks it: dot-separated parts of lowercase
/// alphanumerics and '-', each starting and ending alphanumeric, at most 253 characters in all
/// (apimachinery puts no 63-character bound on a part: a Secret may be named by 100 letters).
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    let part_ok = |part: &str| {
        !part.is_empty() && is_label_chars(part) && !part.starts_with('-') && !part.ends_with('-')
    };
    let ok = !s.is_empty() && s.len() <= 253 && s.split('.').all(part_ok);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid name {s:?}: expected a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)"
        ))
    }
}

/// The name part of a qualified name: at most 63 alphanumerics, '-', '_' or '.', starting and
/// ending alphanumeric.
fn qualified_name_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A label or annotation key: `[prefix/]name`, prefix a DNS-1123 subdomain.
pub fn label_key(s: &str) -> Result<(), String> {
    let ok = match s.split_once('/') {
        Some((prefix, name)) => dns1123_subdomain(prefix).is_ok() && qualified_name_part(name),
        None => qualified_name_part(s),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid key {s:?}: expected an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ))
    }
}

/// A label value: empty, or at most 63 alphanumerics, '-', '_' or '.', starting and ending
/// alphanumeric.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() || qualified_name_part(s) {
        Ok(())
    } else {
        Err(format!(
            "invalid label value {s:?}: expected at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(dns1123_label("web-1").is_ok());
        assert!(dns1123_label("1web").is_ok());
        assert!(dns1035_label("1web").is_err());
        assert!(dns1123_label("Web").is_err());
        assert!(dns1123_label("web-").is_err());
        assert!(dns1123_label(&"a".repeat(64)).is_err());
        assert!(dns1123_subdomain("a.b-c.d").is_ok());
        assert!(dns1123_subdomain("a..b").is_err());
        // Kubernetes bounds only the whole name, not a part.
        assert!(dns1123_subdomain(&"a".repeat(100)).is_ok());
        assert!(dns1123_subdomain(&"a".repeat(254)).is_err());
        assert!(dns1123_subdomain("a.-b").is_err());
    }

    #[test]
    fn labels() {
        assert!(label_key("app.kubernetes.io/name").is_ok());
        assert!(label_key("team").is_ok());
        assert!(label_key("Bad Key").is_err());
        assert!(label_key("/x").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("v1.2_3").is_ok());
        assert!(label_value("-x").is_err());
        assert!(label_value(&"a".repeat(64)).is_err());
    }
}
