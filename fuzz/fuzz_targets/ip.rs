//! IP addresses: keyward's reader gives `core::net`'s answer for every string, IPv4 or IPv6
//! (`parse`) and IPv6 alone (`parse_v6`).
#![no_main]
use core::net::{IpAddr, Ipv6Addr};
use keyward::domain::ip;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    assert_eq!(ip::parse(&s), s.parse::<IpAddr>().ok(), "{s:?}");
    assert_eq!(ip::parse_v6(&s), s.parse::<Ipv6Addr>().ok(), "{s:?}");
});
