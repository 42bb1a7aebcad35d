//! Cron schedules and time zones.
//!
//! [`schedule`] is the numeric five-field form the module kinds accept, read by [`standard`]'s
//! rules (they turn it into the six-field form of CloudNativePG with [`with_seconds`]). [`standard`] is what the API server
//! accepts in a CronJob's `spec.schedule`: robfig/cron v3's `ParseStandard`, with month and
//! weekday names, `?`, and the `@every <duration>` descriptor. [`time_zone`] is what it accepts
//! in `spec.timeZone`: a name of the IANA tz database (the names of release 2025b are embedded,
//! `timezones.txt`).

const MACROS: [&str; 7] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// Checks a schedule of the module kinds: a five-field schedule or a macro such as `@daily`,
/// by the rules of [`standard`] (robfig/cron, which the operators they render for read too),
/// with numbers only and without `@every`, so that [`with_seconds`] can turn it into the
/// six-field form CloudNativePG wants.
pub fn schedule(s: &str) -> Result<(), String> {
    if s.starts_with("@every") {
        return Err(format!(
            "invalid schedule {s:?}: @every is not supported here: give five fields (minute hour day-of-month month day-of-week) or a macro such as @daily"
        ));
    }
    standard(s)?;
    if let Some(name) = s
        .split_whitespace()
        .find(|f| !s.starts_with('@') && f.bytes().any(|b| b.is_ascii_alphabetic()))
    {
        return Err(format!(
            "invalid schedule {s:?}: {name:?}: names are not supported here: use numbers (months 1-12, days of the week 0-6 from Sunday)"
        ));
    }
    Ok(())
}

/// A field of robfig/cron's standard parser: name, bounds, names (lowercase, value).
struct Bounds {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [(&'static str, u32)],
}

const MONTHS: &[(&str, u32)] = &[
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("may", 5),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];

const WEEKDAYS: &[(&str, u32)] = &[
    ("sun", 0),
    ("mon", 1),
    ("tue", 2),
    ("wed", 3),
    ("thu", 4),
    ("fri", 5),
    ("sat", 6),
];

const STANDARD: [Bounds; 5] = [
    Bounds {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
    },
    Bounds {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
    },
    Bounds {
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
    },
    Bounds {
        name: "month",
        min: 1,
        max: 12,
        names: MONTHS,
    },
    // robfig/cron counts Sunday as 0 only: 7 is refused.
    Bounds {
        name: "day of week",
        min: 0,
        max: 6,
        names: WEEKDAYS,
    },
];

/// Checks a CronJob schedule as the API server does when it creates one (robfig/cron v3
/// `ParseStandard`, and no `TZ=`/`CRON_TZ=` prefix: the API server wants `spec.timeZone`).
pub fn standard(s: &str) -> Result<(), String> {
    if s.contains("TZ") {
        return Err(format!(
            "invalid schedule {s:?}: TZ or CRON_TZ in a schedule is refused: set spec.timeZone instead"
        ));
    }
    if let Some(descriptor) = s.strip_prefix('@') {
        if MACROS.contains(&s) {
            return Ok(());
        }
        return match descriptor.strip_prefix("every ") {
            // robfig/cron takes any Go duration, a negative one too (it runs every second).
            Some(d) => super::go_duration(d.strip_prefix('-').unwrap_or(d))
                .map_err(|why| format!("invalid schedule {s:?}: @every takes a duration: {why}")),
            None => Err(format!(
                "invalid schedule {s:?}: unknown descriptor: expected one of {}, or @every <duration>",
                MACROS.join(", ")
            )),
        };
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "invalid schedule {s:?}: expected 5 fields (minute hour day-of-month month day-of-week), found {}",
            fields.len()
        ));
    }
    for (text, bounds) in fields.iter().zip(&STANDARD) {
        standard_field(text, bounds).map_err(|why| {
            format!(
                "invalid schedule {s:?}: {} field {text:?}: {why}",
                bounds.name
            )
        })?;
    }
    Ok(())
}

/// One field of [`standard`], as robfig/cron's `getRange` reads each comma-separated part.
fn standard_field(text: &str, b: &Bounds) -> Result<(), String> {
    let number = |t: &str| -> Result<u32, String> {
        if let Some((_, n)) = b
            .names
            .iter()
            .find(|(name, _)| t.eq_ignore_ascii_case(name))
        {
            return Ok(*n);
        }
        // Go's strconv.Atoi: an optional sign, then decimal digits.
        let digits = t.strip_prefix('+').unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
            let names = if b.names.is_empty() {
                String::new()
            } else {
                format!(" or a name such as {}", b.names[0].0.to_uppercase())
            };
            return Err(format!("{t:?} is not a number{names}"));
        }
        digits.parse().map_err(|_| format!("{t:?} is too large"))
    };
    for part in text.split(',') {
        let mut range_step = part.split('/');
        let range = range_step.next().unwrap_or("");
        let step = range_step.next();
        if range_step.next().is_some() {
            return Err(format!("{part:?} has more than one '/'"));
        }
        let mut low_high = range.split('-');
        let low = low_high.next().unwrap_or("");
        let (start, mut end) = if low == "*" || low == "?" {
            // robfig/cron reads a star as the whole range and ignores what follows it.
            (b.min, b.max)
        } else {
            let start = number(low)?;
            let end = match (low_high.next(), low_high.next()) {
                (None, _) => start,
                (Some(high), None) => number(high)?,
                (Some(_), Some(_)) => return Err(format!("{range:?} has more than one '-'")),
            };
            (start, end)
        };
        if let Some(step) = step {
            if number_of(step).is_none_or(|n| n == 0) {
                return Err(format!("step {step:?} must be a positive number"));
            }
            // `N/step` means N to the maximum.
            if !range.contains('-') {
                end = b.max;
            }
        }
        let (min, max) = (b.min, b.max);
        if start < min {
            return Err(format!("{start} is below the minimum {min}"));
        }
        if end > max {
            return Err(format!("{end} is above the maximum {max}"));
        }
        if start > end {
            return Err(format!("range {range:?} is backwards"));
        }
    }
    Ok(())
}

/// A step's number (Go's `strconv.Atoi` without a minus sign).
fn number_of(t: &str) -> Option<u32> {
    let digits = t.strip_prefix('+').unwrap_or(t);
    (!digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The IANA time zone names this binary knows (release 2025b, zones and links).
fn zone_names() -> impl Iterator<Item = &'static str> {
    include_str!("timezones.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Checks a CronJob `spec.timeZone` as the API server does: an explicit IANA name (not
/// `Local`), each `/`-separated part at most 14 letters, digits, '.', '-', '_' or '+', and a
/// zone of the tz database. `Err` says what is wrong and, for a misspelt name, what was meant.
pub fn time_zone(tz: &str) -> Result<(), String> {
    if tz.is_empty() {
        return Err(
            "an empty timeZone is refused: remove it (UTC) or name a zone such as Europe/Berlin"
                .into(),
        );
    }
    let part_ok = |p: &str| {
        p != "."
            && p != ".."
            && !p.starts_with('-')
            && (1..=14).contains(&p.len())
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'))
    };
    if !tz.split('/').all(part_ok) {
        return Err(format!(
            "unknown time zone {tz:?}: expected an IANA name such as Europe/Berlin or America/New_York"
        ));
    }
    if tz.eq_ignore_ascii_case("Local") {
        return Err(
            "timeZone Local is refused: name the zone explicitly, e.g. Europe/Berlin".into(),
        );
    }
    if zone_names().any(|z| z == tz) {
        return Ok(());
    }
    // suggest() folds case, so `europe/berlin` finds `Europe/Berlin` too.
    let hint = super::did_you_mean(tz, zone_names())
        .map(|h| format!(": {h}"))
        .unwrap_or_default();
    Err(format!(
        "unknown time zone {tz:?}: not a name of the IANA tz database{hint}"
    ))
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
        // The operators read robfig/cron: Sunday is 0, and 7 is refused.
        assert!(schedule("0 2 * * 7").is_err());
        assert!(schedule("@every 1h").is_err());
        assert_eq!(with_seconds("0 2 * * *"), "0 0 2 * * *");
        assert_eq!(with_seconds("@daily"), "0 0 0 * * *");
    }

    #[test]
    fn standard_schedules_follow_robfig_cron() {
        for ok in [
            "0 2 * * *",
            "*/15 0-6 1,15 * 1-5",
            "0 9 * JAN-mar MON-FRI",
            "0 0 ? * sun",
            "5/10 * * * *",
            "0 0 1 */2 *",
            "@hourly",
            "@every 1h30m",
            "+5 * * * *",
        ] {
            assert!(standard(ok).is_ok(), "{ok}: {:?}", standard(ok));
        }
        for (bad, why) in [
            (
                "0 25 * * *",
                "hour field \"25\": 25 is above the maximum 23",
            ),
            ("0 2 * * 7", "7 is above the maximum 6"),
            ("0 2 * *", "expected 5 fields"),
            ("0 0 2 * * *", "found 6"),
            ("0 0 0 * *", "0 is below the minimum 1"),
            ("*/0 * * * *", "must be a positive number"),
            ("0 2 * * MONDAY", "not a number or a name such as SUN"),
            ("0 12-2 * * *", "backwards"),
            ("1-2-3 * * * *", "more than one '-'"),
            ("@fortnightly", "unknown descriptor"),
            ("@every", "unknown descriptor"),
            ("@every 1d", "@every takes a duration"),
            ("CRON_TZ=UTC 0 2 * * *", "set spec.timeZone"),
            ("0 2 * JANUARY *", "not a number"),
        ] {
            let err = standard(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn time_zones_are_iana_names() {
        for ok in [
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "UTC",
            "Etc/GMT+5",
            "US/Eastern",
        ] {
            assert!(time_zone(ok).is_ok(), "{ok}");
        }
        let err = time_zone("Europe/Berln").unwrap_err();
        assert!(err.contains("did you mean `Europe/Berlin`"), "{err}");
        let err = time_zone("europe/berlin").unwrap_err();
        assert!(err.contains("Europe/Berlin"), "{err}");
        assert!(time_zone("Local").unwrap_err().contains("explicitly"));
        assert!(time_zone("").unwrap_err().contains("empty"));
        assert!(time_zone("Europe/Some_Very_Long_City")
            .unwrap_err()
            .contains("IANA name"));
        assert!(time_zone("../etc/passwd").is_err());
        assert!(time_zone("Mars/Olympus")
            .unwrap_err()
            .contains("not a name"));
    }
}
