//! Seed module `event-processing` (category `data`): event streaming and messaging on their
//! operators (Strimzi Kafka, RabbitMQ, NATS JetStream), schema registries, and event-driven
//! autoscaling (KEDA).

mod event_scaler;
mod kafka_cluster;
mod kafka_topic;
mod kafka_user;
mod nats_cluster;
mod nats_stream;
mod rabbitmq_cluster;
mod rabbitmq_queue;
mod schema_registry;
mod strimzi;

#[cfg(test)]
mod tests_kafka;
#[cfg(test)]
mod tests_keda;
#[cfg(test)]
mod tests_nats;
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
        generator::<kafka_cluster::KafkaCluster>(&MODULE),
        generator::<kafka_topic::KafkaTopic>(&MODULE),
        generator::<kafka_user::KafkaUser>(&MODULE),
        generator::<schema_registry::SchemaRegistry>(&MODULE),
        generator::<rabbitmq_cluster::RabbitMQCluster>(&MODULE),
        generator::<rabbitmq_queue::RabbitMQQueue>(&MODULE),
        generator::<nats_cluster::NATSCluster>(&MODULE),
        generator::<nats_stream::NATSStream>(&MODULE),
        generator::<event_scaler::EventScaler>(&MODULE),
    ]
}
