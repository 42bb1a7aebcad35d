//! Serde default functions shared by the specs, so each default is declared once, in the field's
//! own attribute (`#[serde(default = "defaults::int::<2>")]`), and printed by the schema.

/// `true`.
pub fn yes() -> bool {
    true
}

/// The integer `N`.
pub fn int<const N: i32>() -> i32 {
    N
}

/// The path `/`.
pub fn root_path() -> String {
    "/".into()
}
