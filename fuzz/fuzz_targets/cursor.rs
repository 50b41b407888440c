//! Cursor decoding: never a panic; a cursor is only ever accepted by the listing that issued it.
#![no_main]
use keyward::store::cursor;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Some(raw) = cursor::decode("o:org_x:t:", &s) {
        assert_eq!(cursor::encode("o:org_x:t:", &raw), s);
        assert_eq!(cursor::decode("o:org_y:t:", &s), None);
    }
});
