//! Five-field cron schedules (Kubernetes CronJob syntax) and their six-field form (CloudNativePG).

const FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
];

const MACROS: [&str; 7] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// Checks a five-field schedule (or a macro such as `@daily`).
pub fn schedule(s: &str) -> Result<(), String> {
    if MACROS.contains(&s) {
        return Ok(());
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "invalid schedule {s:?}: expected 5 fields (minute hour day-of-month month day-of-week), found {}",
            fields.len()
        ));
    }
    for (text, (name, lo, hi)) in fields.iter().zip(FIELDS) {
        field(text, lo, hi)
            .map_err(|why| format!("invalid schedule {s:?}: {name} field {text:?}: {why}"))?;
    }
    Ok(())
}

fn field(text: &str, lo: u32, hi: u32) -> Result<(), String> {
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if let Some(step) = step {
            match step.parse::<u32>() {
                Ok(n) if n > 0 => {}
                _ => return Err(format!("step {step:?} must be a positive number")),
            }
        }
        if range == "*" || range == "?" {
            continue;
        }
        let (a, b) = range.split_once('-').unwrap_or((range, range));
        let num = |t: &str| -> Result<u32, String> {
            let n: u32 = t
                .parse()
                .map_err(|_| format!("{t:?} is not a number (names are not supported)"))?;
            if (lo..=hi).contains(&n) {
                Ok(n)
            } else {
                Err(format!("{n} is outside {lo}-{hi}"))
            }
        };
        if num(a)? > num(b)? {
            return Err(format!("range {range:?} is backwards"));
        }
    }
    Ok(())
}

/// The six-field form (seconds first) of a valid five-field schedule.
pub fn with_seconds(s: &str) -> String {
    let five = match s {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        other => other,
    };
    format!(
        "0 {}",
        five.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        assert!(schedule("0 2 * * *").is_ok());
        assert!(schedule("*/15 0-6 1,15 * 1-5").is_ok());
        assert!(schedule("@daily").is_ok());
        assert!(schedule("0 2 * *").is_err());
        assert!(schedule("60 2 * * *").is_err());
        assert!(schedule("0 2 * * MON").is_err());
        assert!(schedule("*/0 * * * *").is_err());
        assert_eq!(with_seconds("0 2 * * *"), "0 0 2 * * *");
        assert_eq!(with_seconds("@daily"), "0 0 0 * * *");
    }
}
