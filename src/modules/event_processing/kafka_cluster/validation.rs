//! The checks of a `KafkaCluster` spec beyond its types: versions, node counts, listeners
//! (names, ports, TLS and authentication), authorization, and the `config` keys Strimzi
//! manages or whose values contradict the cluster's size.

use super::*;

pub(super) fn validate(spec: &KafkaClusterSpec, p: &mut Problems<'_>) {
    // `<name>-entity-operator` is the longest name Strimzi derives.
    meta::check_name_room("-entity-operator", p);
    if let Some(v) = &spec.version {
        let ok = v.split('.').count() == 3 && v.split('.').all(|n| n.parse::<u32>().is_ok());
        if !ok {
            p.fail(
                "spec.version",
                format!("{v:?}: expected a Kafka release, e.g. 4.1.0"),
            );
        } else if v
            .split('.')
            .next()
            .is_some_and(|m| m.parse::<u32>().unwrap_or(0) < 4)
        {
            p.warn(
                "spec.version",
                format!("Kafka {v}: Strimzi 0.49 and later support only Kafka 4.x"),
            );
        }
    }
    if !(1..=100).contains(&spec.brokers) {
        p.fail(
            "spec.brokers",
            format!("brokers {} must be between 1 and 100", spec.brokers),
        );
    }
    match (spec.combined, spec.controllers) {
        (true, Some(_)) => p.fail(
            "spec.controllers",
            "with combined: true the brokers are the controllers: leave controllers out",
        ),
        (false, Some(c)) if !(1..=9).contains(&c) => p.fail(
            "spec.controllers",
            format!("controllers {c} must be between 1 and 9"),
        ),
        (false, Some(c)) if c % 2 == 0 => p.warn(
            "spec.controllers",
            format!(
                "{c} controllers tolerate no more failures than {}: use an odd number",
                c - 1
            ),
        ),
        _ => {}
    }
    if spec.combined && spec.controller_storage.is_some() {
        p.fail(
            "spec.controllerStorage",
            "with combined: true there are no dedicated controllers: leave controllerStorage out",
        );
    }
    for (field, s) in [
        ("spec.storage", Some(&spec.storage)),
        ("spec.controllerStorage", spec.controller_storage.as_ref()),
    ] {
        let Some(s) = s else { continue };
        p.check(format!("{field}.size"), validate::quantity(&s.size.text()));
        if let Some(c) = &s.class {
            p.check(format!("{field}.class"), validate::dns1123_subdomain(c));
        }
    }
    if spec.listeners.is_empty() {
        p.fail(
            "spec.listeners",
            "a Kafka cluster needs at least one listener",
        );
    }
    for (i, l) in spec.listeners.iter().enumerate() {
        let f = format!("spec.listeners[{i}]");
        let name_ok = !l.name.is_empty()
            && l.name.len() <= 11
            && l.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !name_ok {
            p.fail(
                format!("{f}.name"),
                format!(
                    "{:?}: expected at most 11 lowercase letters and digits",
                    l.name
                ),
            );
        }
        if l.port < 9092 || l.port > 65535 || RESERVED_PORTS.contains(&l.port) {
            p.fail(
                format!("{f}.port"),
                format!(
                    "port {} must be 9092-65535 and not one Strimzi keeps (9090, 9091, 9404, 8443, 9999)",
                    l.port
                ),
            );
        }
        let earlier = &spec.listeners[..i];
        if earlier.iter().any(|o| o.name == l.name) {
            p.fail(
                format!("{f}.name"),
                format!("listener {:?} is declared twice", l.name),
            );
        }
        if earlier.iter().any(|o| o.port == l.port) {
            p.fail(
                format!("{f}.port"),
                format!("port {} is used by another listener", l.port),
            );
        }
        if matches!(l.type_, ListenerType::Ingress | ListenerType::Route) && !l.tls {
            p.fail(
                format!("{f}.tls"),
                format!("a listener of type {} needs tls: true", l.type_.as_str()),
            );
        }
        if spec.auth_of(l) == Authentication::Tls && !l.tls {
            let at = if l.authentication.is_some() {
                format!("{f}.authentication")
            } else {
                "spec.authentication".to_string()
            };
            p.fail(
                at,
                format!(
                    "listener {:?} has no TLS, so its clients cannot authenticate with certificates: set tls: true on it, or give it authentication: scram-sha-512",
                    l.name
                ),
            );
        }
        if l.type_.external() && spec.auth_of(l) == Authentication::None {
            p.warn(
                format!("{f}.authentication"),
                format!(
                    "listener {:?} is reachable from outside the cluster without authentication",
                    l.name
                ),
            );
        }
    }
    if spec.authorization == Some(Authorization::Simple)
        && spec
            .listeners
            .iter()
            .all(|l| spec.auth_of(l) == Authentication::None)
    {
        p.fail(
            "spec.authorization",
            "ACLs need authenticated clients: with no listener authenticating, every client is ANONYMOUS and is refused",
        );
    }
    strimzi::check_config_keys(&spec.config, "spec.config", p);
    for k in spec.config.keys() {
        if MANAGED_KEYS.iter().any(|m| {
            k == m || (m.ends_with('.') && k.starts_with(m)) || (*m == "log.dir" && k == "log.dirs")
        }) {
            p.fail(
                format!("spec.config.{k}"),
                format!("{k} is set by Strimzi from the listeners, node pools and authorization; it cannot be configured"),
            );
        }
    }
    for key in [
        "default.replication.factor",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
    ] {
        if let Some(rf) = strimzi::check_int(&spec.config, key, 1, "spec.config", p) {
            if rf > i64::from(spec.brokers) {
                p.fail(
                    format!("spec.config.{key}"),
                    format!("{key} {rf} is more than the {} brokers", spec.brokers),
                );
            }
        }
    }
    let config = spec.effective_config();
    for (isr_key, rf_key) in [
        ("min.insync.replicas", "default.replication.factor"),
        (
            "transaction.state.log.min.isr",
            "transaction.state.log.replication.factor",
        ),
    ] {
        let isr = strimzi::check_int(&spec.config, isr_key, 1, "spec.config", p);
        let rf = config.get(rf_key).and_then(ConfigValue::int);
        if let (Some(isr), Some(rf)) = (isr, rf) {
            if isr > rf {
                p.fail(
                    format!("spec.config.{isr_key}"),
                    format!("{isr_key} {isr} is more than {rf_key} {rf}: no write could succeed"),
                );
            }
        }
    }
    if let Some(r) = &spec.resources {
        r.check(p, "spec.resources");
    }
}
