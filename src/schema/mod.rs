//! What the Kubernetes API offers, as data: the built-in APIs each supported minor serves.

pub mod served;
