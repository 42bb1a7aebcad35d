//! Go durations (`time.ParseDuration`), as operators written in Go read them: `1h`, `15m`,
//! `1h30m`, `0.5s`, `300ms`. Used where a custom resource field is a `metav1.Duration`.

/// Units Go accepts, longest first so `ms` is not read as `m` then `s`.
const UNITS: [&str; 8] = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"];

/// A non-negative Go duration: one or more `<number><unit>` terms (units ns, us, ms, s, m, h),
/// or `0`.
pub fn go_duration(s: &str) -> Result<(), String> {
    let expected = || {
        format!("{s:?} is not a duration: expected a number and a unit (ns, us, ms, s, m, h), e.g. 1h, 15m, 1h30m")
    };
    if s == "0" {
        return Ok(());
    }
    if s.starts_with('-') {
        return Err(format!("{s:?}: a duration here must not be negative"));
    }
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest.is_empty() {
        return Err(expected());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        let valid_number = number.bytes().filter(|b| *b == b'.').count() <= 1
            && number.bytes().any(|b| b.is_ascii_digit());
        if !valid_number {
            return Err(expected());
        }
        rest = &rest[digits..];
        let Some(unit) = UNITS.iter().find(|u| rest.starts_with(**u)) else {
            return Err(expected());
        };
        rest = &rest[unit.len()..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::go_duration;

    #[test]
    fn go_durations() {
        for ok in [
            "0", "1h", "15m", "1h30m", "0.5s", "300ms", "1h0m0s", "2us", "+5m",
        ] {
            assert!(go_duration(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "1", "1d", "h", "1hh", "-1h", "1.2.3s", "one hour", "1 h", ".s",
        ] {
            assert!(go_duration(bad).is_err(), "{bad}");
        }
    }
}
