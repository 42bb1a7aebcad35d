//! Seed module `event-processing` (category `data`): event streaming and messaging on their
//! operators (Strimzi Kafka, RabbitMQ, NATS JetStream), schema registries, and event-driven
//! autoscaling (KEDA).

mod event_scaler;
mod nats_cluster;
mod nats_stream;

#[cfg(test)]
mod tests_keda;
#[cfg(test)]
mod tests_nats;

use crate::kind::spec::generator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "event-processing",
    category: Category::Data,
    summary: "event streaming and messaging on their operators, schema registries, event-driven autoscaling",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![
        generator::<nats_cluster::NATSCluster>(&MODULE),
        generator::<nats_stream::NATSStream>(&MODULE),
        generator::<event_scaler::EventScaler>(&MODULE),
    ]
}
