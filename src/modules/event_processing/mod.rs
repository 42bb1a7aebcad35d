//! Seed module `event-processing` (category `data`): event streaming and messaging on their
//! operators (Strimzi Kafka, RabbitMQ, NATS JetStream), schema registries, and event-driven
//! autoscaling (KEDA).

mod rabbitmq_cluster;
mod rabbitmq_queue;

#[cfg(test)]
mod tests_rabbitmq;

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
        generator::<rabbitmq_cluster::RabbitMQCluster>(&MODULE),
        generator::<rabbitmq_queue::RabbitMQQueue>(&MODULE),
    ]
}
