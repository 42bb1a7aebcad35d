//! Kubernetes resource quantities (`apimachinery/pkg/api/resource`): a signed decimal number with
//! an optional binary (Ki..Ei), decimal (n, u, m, k, M..E) or exponent (e3, E-2) suffix.

/// Checks the quantity syntax Kubernetes accepts.
pub fn quantity(s: &str) -> Result<(), String> {
    if parse(s).is_some() {
        Ok(())
    } else {
        Err(format!(
            "invalid quantity {s:?}: expected a number with an optional suffix, e.g. 500m, 2, 128Mi, 1.5Gi, 1e3"
        ))
    }
}

/// Parses a quantity into its value (as f64, enough for comparisons).
pub fn parse(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let digits_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, suffix) = body.split_at(digits_end);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return None;
    }
    let base: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exp => {
            let e = exp.strip_prefix(['e', 'E'])?;
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            10f64.powi(e.parse::<i32>().ok()?)
        }
    };
    let sign = if s.starts_with('-') { -1.0 } else { 1.0 };
    Some(sign * base * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_kubernetes_forms() {
        for q in [
            "1", "0.5", "500m", "128Mi", "1.5Gi", "2k", "1e3", "1E-2", "+1", ".5", "10Ei",
        ] {
            assert!(quantity(q).is_ok(), "{q}");
        }
        assert_eq!(parse("128Mi"), Some(134217728.0));
        assert_eq!(parse("500m"), Some(0.5));
    }

    #[test]
    fn rejects_garbage() {
        for q in [
            "", "abc", "1.2.3", "12MB", "1 Gi", "Mi", "1e", "1ee3", "--1", "1mi",
        ] {
            assert!(quantity(q).is_err(), "{q}");
        }
    }
}
