//! CIDR blocks: never a panic; an accepted block prints as a block that parses to itself and
//! contains its own network address.
#![no_main]
use keyward::domain::cidr::Cidr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Ok(c) = Cidr::parse(&s) {
        let printed = c.to_string();
        assert_eq!(Cidr::parse(&printed), Ok(c));
        let network = printed.split('/').next().and_then(|a| a.parse().ok());
        assert!(network.is_some_and(|ip| c.contains(ip)));
    }
});
