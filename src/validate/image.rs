//! Container image references (the grammar of `distribution/reference`), as the kubelet pulls them.

/// The pieces of an image reference `[registry[:port]/]path[:tag][@digest]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts<'a> {
    /// Registry and path.
    pub name: &'a str,
    pub tag: Option<&'a str>,
    /// `algorithm:hex`.
    pub digest: Option<&'a str>,
}

/// Splits an image reference; the tag is after the last ':' that follows the last '/'.
pub fn parts(s: &str) -> Parts<'_> {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    Parts { name, tag, digest }
}

/// Checks `[registry[:port]/]path[:tag][@digest]`. Tags are at most 128 characters; paths are
/// lowercase; digests are `algorithm:hex`.
pub fn image_reference(s: &str) -> Result<(), String> {
    let fail = |why: &str| Err(format!("invalid image reference {s:?}: {why}"));
    if s.is_empty() {
        return fail("empty");
    }
    if s.len() > 255 + 128 + 80 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail("contains whitespace or is too long");
    }
    let Parts { name, tag, digest } = parts(s);
    if let Some(d) = digest {
        let Some((alg, hex)) = d.split_once(':') else {
            return fail("digest must be algorithm:hex");
        };
        let alg_ok = !alg.is_empty()
            && alg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+.-_".contains(&b));
        if !alg_ok || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return fail("digest must be algorithm:hex with at least 32 hex digits");
        }
    }
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            && !t.starts_with(['.', '-']);
        if !ok {
            return fail(
                "tag must be 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
            );
        }
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // The first component is a registry when it has a '.', a ':' or is "localhost".
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        let registry = parts.remove(0);
        let (host, port) = match registry.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (registry, None),
        };
        let host_ok = !host.is_empty()
            && host.split('.').all(|l| {
                !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !host_ok || port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return fail("registry must be a host name with an optional numeric port");
        }
    }
    for p in &parts {
        let ok = !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && p.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && p.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !ok {
            return fail("repository path components must be lowercase letters, digits and separators ('.', '_', '-')");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        for ok in [
            "nginx",
            "nginx:1.27-alpine",
            "ghcr.io/acme/frontend:1.4.2",
            "localhost:5000/x/y:z",
            "quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z",
            "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(image_reference(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Nginx",
            "nginx:",
            "nginx:-x",
            "a b",
            "ghcr.io/Acme/x",
            "x@sha256:zz",
            "host:port/x",
        ] {
            assert!(image_reference(bad).is_err(), "{bad}");
        }
    }
}
