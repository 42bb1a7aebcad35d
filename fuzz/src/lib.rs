//! What the fuzz targets share.

/// Messages are for people: no Rust type names or debug values outside the quoted user text.
pub fn readable(message: &str) -> bool {
    let mut bare = String::new();
    let mut quote = None;
    let mut escaped = false;
    for c in message.chars() {
        match quote {
            // A double-quoted text is Rust's quoting ({:?}): `\"` does not end it.
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '`' | '"' | '\'') => quote = Some(c),
            None => bare.push(c),
        }
    }
    !message.trim().is_empty() && !bare.contains("::") && !bare.contains(" { ")
}
