//! Native integration tests: the whole lifecycle through `service` on `MemoryStore`.
//! One binary (modules below) so it links once.

mod support;

mod alarm_wakes;
mod answers_and_records;
mod audit_chain;
mod audit_pages;
mod audit_sink;
mod auth_matrix;
mod deployment;
mod exports;
mod failures;
mod form_rules;
mod imports;
mod in_time;
mod layering;
mod leaks;
mod least_authority;
mod lifecycle;
mod members_without_token;
mod metadata;
mod metering;
mod operator;
mod preconditions;
mod projection_drain;
mod props;
mod suspension;
mod token_edges;
mod token_vectors;
mod webhook_setup;
