//! Seed module `kubernetes-core` (category `core`): the workloads and configuration of an
//! application. Every pod is hardened by default (restricted Pod Security), runs under its own
//! ServiceAccount without a mounted token, and gets the platform's default resources unless the
//! spec sets them.

mod app_config;
mod node_agent;
mod stateful_service;
mod web_app;
mod worker;

use crate::kind::spec::generator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "kubernetes-core",
    category: Category::Core,
    summary: "the workloads and configuration of an application",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![
        generator::<web_app::WebApp>(&MODULE),
        generator::<worker::Worker>(&MODULE),
        generator::<stateful_service::StatefulService>(&MODULE),
        generator::<node_agent::NodeAgent>(&MODULE),
        generator::<app_config::AppConfig>(&MODULE),
    ]
}

#[cfg(test)]
mod tests_uses;
