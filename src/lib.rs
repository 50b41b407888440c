//! keyward: API-token management at the edge.
//!
//! One crate, compiled to WebAssembly twice: the Cloudflare Worker (`--features server`, the
//! default) and the browser module for the admin page (`--no-default-features --features
//! browser`).
//!
//! The architecture (layers, token format, model, verdict, authority, storage, the org
//! authority's alarm) is in `docs/ARCHITECTURE.md`; why it is so, in `docs/DECISIONS.md`; the
//! HTTP contract in `openapi/openapi.json` and the README.
//!
//! - [`domain`]: the pure core (format, hashing, masking, validation, policy, the verdict,
//!   reminders, webhook signatures, email text). No I/O, no clock, no RNG of its own.
//! - [`service`]: the use cases, written once against [`store::Store`] (the org authority's
//!   records) and [`store::Kv`] (the verify projection): load → decide → commit. No HTTP.
//! - [`store`]: the two storage traits with in-memory implementations (and, in the Worker, the
//!   Durable Object's SQLite storage and Workers KV); the key layout (`store::keys`).
//! - [`routes`]: the route table, checked against the OpenAPI document.
//! - `server` (feature `server`): the Worker and the org authority, thin.
//! - `browser` (feature `browser`): the page's wasm-bindgen exports, thin.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Every public function that can fail says how, in an `# Errors` section.
#![warn(clippy::missing_errors_doc)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod domain;
pub mod routes;
pub mod service;
pub mod store;

#[cfg(feature = "server")]
mod server;

#[cfg(feature = "browser")]
pub mod browser;
