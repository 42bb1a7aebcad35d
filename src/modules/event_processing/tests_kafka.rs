//! Unit tests of the Kafka kinds (KafkaCluster, KafkaTopic, KafkaUser, SchemaRegistry).
