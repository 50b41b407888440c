//! keyward: API-token management at the edge.
//!
//! One crate, compiled to WebAssembly twice: the Cloudflare Worker (`--features server`, the
//! default) and the browser module for the admin page (`--no-default-features --features
//! browser`). See `README.md` and `docs/` for the architecture.
//!
//! - [`domain`]: the pure core (format, hashing, masking, validation, policy, verdict).
//! - [`service`]: the use cases, written once against [`store::Store`] (the org authority's
//!   records) and [`store::Kv`] (the verify projection): load → decide → commit.
//! - [`store`]: the two storage traits with in-memory implementations (and, in the Worker, the
//!   Durable Object's SQLite storage and Workers KV).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
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
