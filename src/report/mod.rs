//! Renderings of findings (`crate::finding::Finding`): text for people, JSON, SARIF for code
//! scanning, KRM `results`. Renderers only format; they never decide what a finding means.

pub mod json;
pub mod krm;
pub mod sarif;
pub mod text;
