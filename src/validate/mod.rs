//! Validators for values that types cannot constrain: names, labels, quantities, images, ports,
//! cron schedules, CIDR blocks, Go durations. Each returns `Err(reason)` with what was expected; callers attach the field path.

pub mod cidr;
pub mod cron;
pub mod duration;
pub mod image;
pub mod names;
pub mod quantity;
pub mod suggest;

pub use cidr::cidr;
pub use duration::go_duration;
pub use image::image_reference;
pub use names::{
    dns1035_label, dns1123_label, dns1123_subdomain, inventory_name, label_key, label_value,
};
pub use quantity::quantity;
pub use suggest::{code, did_you_mean, suggest};

/// A TCP/UDP port number: 1-65535.
pub fn port(p: i64) -> Result<(), String> {
    if (1..=65535).contains(&p) {
        Ok(())
    } else {
        Err(format!("port {p} is out of range: expected 1-65535"))
    }
}

/// An IANA service name as Kubernetes accepts for named ports: at most 15 characters,
/// lowercase letters, digits and '-', at least one letter, no leading/trailing/double '-'.
pub fn port_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid port name {name:?}: expected at most 15 lowercase letters, digits and '-', with at least one letter"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert!(port(80).is_ok());
        assert!(port(0).is_err());
        assert!(port(65536).is_err());
        assert!(port_name("http").is_ok());
        assert!(port_name("web-8080").is_ok());
        assert!(port_name("8080").is_err());
        assert!(port_name("Http").is_err());
        assert!(port_name("a-very-long-port-name").is_err());
    }
}
