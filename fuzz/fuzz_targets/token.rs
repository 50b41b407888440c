//! The token parser and masking: never a panic; what parses has the documented shape.
#![no_main]
use keyward::domain::token::{mask, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if parse(&s).is_ok() {
        assert!(s.len() >= 3 + 30 + 6 && s.is_ascii());
    }
    let _ = mask(&s);
});
