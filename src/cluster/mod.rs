//! Talking to Kubernetes clusters.
//!
//! No real cluster exists where the tests run: everything that speaks to an API server is
//! checked against the in-memory API-server double (`crates/api-double`), whose own fidelity is
//! checked by pointing the real kubectl at it. The double is test and development tooling;
//! nothing in the rendering path may depend on it.

pub mod applyset;
pub mod client;
pub mod kubeconfig;
pub mod prune;
