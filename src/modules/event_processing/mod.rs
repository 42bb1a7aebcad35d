//! Seed module `event-processing` (category `data`): event streaming and messaging on their
//! operators (Strimzi Kafka, RabbitMQ, NATS JetStream), schema registries, and event-driven
//! autoscaling (KEDA).

mod kafka_cluster;
mod kafka_topic;
mod kafka_user;
mod schema_registry;
mod strimzi;

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
        generator::<kafka_cluster::KafkaCluster>(&MODULE),
        generator::<kafka_topic::KafkaTopic>(&MODULE),
        generator::<kafka_user::KafkaUser>(&MODULE),
        generator::<schema_registry::SchemaRegistry>(&MODULE),
    ]
}

#[cfg(test)]
mod tests_kafka;
