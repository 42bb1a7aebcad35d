//! Schemas and API tables: the operator kinds the built-in kinds emit.

pub mod operators;
