//! The browser module's exports in headless Chromium (`run_in_browser`).
//! The same suite runs under node from `tests/web_node.rs`.
#![cfg(all(target_arch = "wasm32", feature = "browser"))]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[path = "web_suite/mod.rs"]
mod suite;
