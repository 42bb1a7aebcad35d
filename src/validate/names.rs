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
    if is_dns1123_subdomain(s) {
        Ok(())
    } else {
        Err(format!(
            "invalid name {s:?}: expected a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)"
        ))
    }
}

/// [`dns1123_subdomain`] without the message, in one pass over the bytes: every label and
/// annotation key with a prefix is checked with it, on every object.
fn is_dns1123_subdomain(s: &str) -> bool {
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    // The byte before: a part may not start or end with '-', nor be empty.
    let mut prev = b'.';
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'0'..=b'9' => {}
            b'-' if prev != b'.' => {}
            b'.' if prev != b'.' && prev != b'-' => {}
            _ => return false,
        }
        prev = b;
    }
    prev != b'-' && prev != b'.'
}

/// The name part of a qualified name: at most 63 alphanumerics, '-', '_' or '.', starting and
/// ending alphanumeric.
fn qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            b.len() <= 63
                && first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// A label or annotation key: `[prefix/]name`, prefix a DNS-1123 subdomain.
pub fn label_key(s: &str) -> Result<(), String> {
    let ok = match s.split_once('/') {
        Some((prefix, name)) => is_dns1123_subdomain(prefix) && qualified_name_part(name),
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

/// An inventory (apply set) name, stamped as label `nixernetes.io/inventory`: a label value
/// that is not empty.
pub fn inventory_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("empty: name the inventory (the apply set), or leave it out".into());
    }
    label_value(s)
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

    /// The one-pass checks against their definitions (dot-separated parts; first, last and
    /// every byte), over every string of up to five bytes from the bytes that matter.
    #[test]
    fn one_pass_checks_agree_with_their_definitions() {
        let part_ok = |p: &str| {
            !p.is_empty() && is_label_chars(p) && !p.starts_with('-') && !p.ends_with('-')
        };
        let subdomain = |s: &str| !s.is_empty() && s.len() <= 253 && s.split('.').all(part_ok);
        let qualified = |s: &str| {
            !s.is_empty()
                && s.len() <= 63
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && s.starts_with(|c: char| c.is_ascii_alphanumeric())
                && s.ends_with(|c: char| c.is_ascii_alphanumeric())
        };
        let mut strings = vec![String::new()];
        let mut last = strings.clone();
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|s| ["a", "0", "-", ".", "A", "_", "é"].map(|b| format!("{s}{b}")))
                .collect();
            strings.extend(last.iter().cloned());
        }
        strings.extend([
            "a".repeat(253),
            "a".repeat(254),
            "a".repeat(63),
            "a".repeat(64),
        ]);
        for s in &strings {
            assert_eq!(is_dns1123_subdomain(s), subdomain(s), "{s:?}");
            assert_eq!(qualified_name_part(s), qualified(s), "{s:?}");
        }
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
