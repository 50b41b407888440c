//! The browser module's exports under node: the suite of `tests/web.rs`, outside a browser.
#![cfg(all(target_arch = "wasm32", feature = "browser"))]

#[path = "web_suite/mod.rs"]
mod suite;
