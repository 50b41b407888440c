//! Leak-report bodies, DER signatures and PEM keys: never a panic.
#![no_main]
use keyward::domain::leak;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = leak::parse_report(data);
    if let Some(raw) = leak::ecdsa_der_to_raw(data) {
        assert_eq!(raw.len(), 64);
    }
    let _ = leak::pem_to_der(&String::from_utf8_lossy(data));
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = leak::parse_revocation(&v);
    }
});
