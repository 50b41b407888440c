//! The `POST /v1/verify` body parser: never a panic; only bad requests are refused.
#![no_main]
use keyward::service::{verify_body, Error};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = verify_body(data) {
        assert!(matches!(e, Error::BadRequest(_)));
    }
});
