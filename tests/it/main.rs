//! Native integration tests: the whole lifecycle through `service` on `MemoryStore`.
//! One binary (modules below) so it links once.

mod support;

mod auth_matrix;
mod deployment;
mod failures;
mod in_time;
mod layering;
mod leaks;
mod least_authority;
mod lifecycle;
mod mutants_audit;
mod mutants_preconditions;
mod mutants_projection;
mod mutants_service;
mod mutants_tokens;
mod mutants_validation;
mod mutants_wake;
mod mutants_webhooks;
mod props;
