//! A webhook URL's host, read as `fetch` reads it, and whether it is on the public Internet.
//!
//! `fetch` parses a URL by the URL Standard (WHATWG), whose host parser reads more than dotted
//! quads as IPv4: `127.1`, `0x7f.0.0.1`, `0177.0.0.1` and `2130706433` all name 127.0.0.1.
//! [`read`] follows that parser (<https://url.spec.whatwg.org/#concept-host-parser>) for the
//! hosts `url_problem` lets through (ASCII letters, digits, `.`, `-`, `_`), so the address judged
//! is the address requests go to; [`Host::is_public`] then admits only the public Internet, by
//! the tables below (IANA's IPv4 and IPv6 special-purpose address registries).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A host as the URL Standard reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Host {
    /// An IPv4 address (however it was spelled) or an IPv6 address.
    Ip(IpAddr),
    /// A domain name, lower-case, without its final dot.
    Name(String),
}

/// Read a host of ASCII letters, digits, `.`, `-` and `_` (not a bracketed IPv6 address) as the
/// URL Standard's host parser does: lower-cased, and, when it "ends in a number", through the
/// URL Standard's IPv4 parser. `None` when that parser fails (fetch would refuse the URL), and
/// for a name with an empty label (`a..b`, `.a`, `a..`), which DNS cannot resolve.
pub(super) fn read(text: &str) -> Option<Host> {
    let host = text.to_ascii_lowercase();
    if ends_in_a_number(&host) {
        return ipv4(&host).map(|v4| Host::Ip(IpAddr::V4(v4)));
    }
    let name = host.strip_suffix('.').unwrap_or(&host);
    if !host.is_empty() && name.split('.').any(str::is_empty) {
        return None;
    }
    Some(Host::Name(name.to_owned()))
}

/// The URL Standard's "ends in a number" checker: whether the host's last label (a final dot
/// aside) is all digits or `0x` and hex digits, so that the host is read as IPv4.
fn ends_in_a_number(host: &str) -> bool {
    // A final dot is dropped, unless the host is nothing but that empty label. (Searched by
    // byte: a reverse `char` search would add its own code to the browser module.)
    let host = match host.strip_suffix('.') {
        Some(init) => init,
        None if host.is_empty() => return false,
        None => host,
    };
    let last = host.bytes().rposition(|b| b == b'.').map_or(Some(host), |dot| host.get(dot + 1..)).unwrap_or_default();
    // However large the number: a number too large is a failed IPv4 address, not a name.
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())) || ipv4_digits(last).is_some()
}

/// The URL Standard's IPv4 parser: one to four numbers separated by dots (a final dot aside);
/// each but the last one byte, the last the remaining bytes (`127.1` is 127.0.0.1, `10.1.257`
/// is 10.1.1.1, `2130706433` is 127.0.0.1).
fn ipv4(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let mut numbers = [0u64; 4];
    let mut count = 0usize;
    for part in host.split('.') {
        *numbers.get_mut(count)? = ipv4_number(part)?;
        count += 1;
    }
    let (last, init) = numbers.get(..count)?.split_last()?;
    // 256^(5 - count): four parts leave the last one byte, one part all four.
    let limit = 1u64 << (8 * (5 - count));
    if init.iter().any(|&n| n > 255) || *last >= limit {
        return None;
    }
    let address = init.iter().zip([24u32, 16, 8]).fold(*last, |a, (&n, shift)| a | (n << shift));
    u32::try_from(address).ok().map(Ipv4Addr::from)
}

/// The URL Standard's IPv4 number parser: `0x…` hexadecimal (a bare `0x` is 0), `0…` octal,
/// otherwise decimal. A number too large for 64 bits is `None`: the IPv4 parser refuses any
/// number from 2^32 on anyway.
fn ipv4_number(part: &str) -> Option<u64> {
    let (digits, radix) = ipv4_digits(part)?;
    digits.chars().try_fold(0u64, |n, c| n.checked_mul(u64::from(radix))?.checked_add(u64::from(c.to_digit(radix)?)))
}

/// Whether the IPv4 number parser takes `part` (whatever its value): its digits and their radix.
fn ipv4_digits(part: &str) -> Option<(&str, u32)> {
    let (digits, radix) = if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
        (hex, 16)
    } else if let Some(octal) = part.strip_prefix('0').filter(|rest| !rest.is_empty()) {
        (octal, 8)
    } else if part.is_empty() {
        return None;
    } else {
        (part, 10)
    };
    digits.chars().all(|c| c.is_digit(radix)).then_some((digits, radix))
}

/// IPv4 blocks that are not the public Internet: every block of IANA's IPv4 Special-Purpose
/// Address Registry that is not globally reachable, the whole of 192.0.0.0/24 and 192.88.99.0/24,
/// multicast and the reserved 240.0.0.0/4. Everything else is public.
const V4_NOT_PUBLIC: [(Ipv4Addr, u8); 15] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network" (RFC 791), 0.0.0.0 included
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private (RFC 1918)
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // shared address space, carrier-grade NAT (RFC 6598)
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local (cloud metadata services live here)
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private (RFC 1918)
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments (RFC 6890)
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation, TEST-NET-1 (RFC 5737)
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // 6to4 relay anycast, deprecated (RFC 7526)
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private (RFC 1918)
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking (RFC 2544)
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation, TEST-NET-2 (RFC 5737)
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation, TEST-NET-3 (RFC 5737)
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast (RFC 5771)
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved (RFC 1112), 255.255.255.255 broadcast included
];

/// The only IPv6 block of the public Internet: global unicast, 2000::/3 (RFC 4291).
const V6_PUBLIC: (Ipv6Addr, u8) = (Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

/// Blocks inside 2000::/3 that are not public (6to4, also inside, is judged by its IPv4 address).
const V6_NOT_PUBLIC: [(Ipv6Addr, u8); 3] = [
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23), // IETF protocol assignments, Teredo 2001::/32 among them
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation (RFC 3849)
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation (RFC 9637)
];

/// IPv6 blocks whose addresses carry an IPv4 address that requests reach: (block, prefix length,
/// the bit where the IPv4 address starts). Such an address is public when its IPv4 address is.
/// Every other IPv6 block outside 2000::/3 is not public: ::/96 (IPv4-compatible, deprecated)
/// and ::1 and ::, 64:ff9b:1::/48 (NAT64 local use), 100::/64 (discard), fc00::/7 (unique
/// local), fec0::/10 (site-local, deprecated), fe80::/10 (link-local), ff00::/8 (multicast), ….
const V6_CARRYING_V4: [(Ipv6Addr, u8, u8); 3] = [
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96, 96), // IPv4-mapped (RFC 4291)
    (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96, 96), // NAT64 well-known prefix (RFC 6052)
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16, 16), // 6to4 (RFC 3056)
];

/// Names that only ever resolve privately: a dotless name, or one under these suffixes.
const LOCAL_SUFFIXES: [&str; 6] = ["localhost", "local", "internal", "home.arpa", "lan", "intranet"];

impl Host {
    /// Whether requests to this host go to the public Internet. A name is judged by its text
    /// (see `url_problem` for why that is enough); an address by the tables above.
    pub(super) fn is_public(&self) -> bool {
        match self {
            Self::Ip(ip) => is_public_ip(*ip),
            Self::Name(name) => {
                name.contains('.')
                    && !LOCAL_SUFFIXES
                        .iter()
                        .any(|s| name.strip_suffix(s).is_some_and(|rest| rest.is_empty() || rest.ends_with('.')))
            }
        }
    }
}

/// Whether `ip` is an address of the public Internet.
pub(super) fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u128::from(u32::from(v4));
            !V4_NOT_PUBLIC.iter().any(|&(block, len)| within(bits, u32::from(block).into(), len, 32))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            if let Some(&(_, _, at)) =
                V6_CARRYING_V4.iter().find(|&&(block, len, _)| within(bits, block.into(), len, 128))
            {
                let v4 = bits.checked_shr(96u32.saturating_sub(at.into())).unwrap_or_default() & 0xffff_ffff;
                return u32::try_from(v4).is_ok_and(|v4| is_public_ip(IpAddr::V4(v4.into())));
            }
            let (public, len) = V6_PUBLIC;
            within(bits, public.into(), len, 128)
                && !V6_NOT_PUBLIC.iter().any(|&(block, len)| within(bits, block.into(), len, 128))
        }
    }
}

/// Whether `address` is in the block of `len` leading bits of `block`, both `width` bits wide.
fn within(address: u128, block: u128, len: u8, width: u32) -> bool {
    let host_bits = width.saturating_sub(len.into());
    address.checked_shr(host_bits).unwrap_or_default() == block.checked_shr(host_bits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v4(text: &str) -> Option<Ipv4Addr> {
        match read(text)? {
            Host::Ip(IpAddr::V4(ip)) => Some(ip),
            _ => None,
        }
    }

    /// Hosts and what the URL Standard reads them as (checked against its IPv4 parser, step by
    /// step, and against workerd's `new URL` by tests/e2e/webhook-hosts.test.mjs).
    #[test]
    fn reads_ipv4_the_way_the_url_standard_does() {
        for (text, ip) in [
            ("127.1", [127, 0, 0, 1]),
            ("0x7f.0.0.1", [127, 0, 0, 1]),
            ("0X7F.1", [127, 0, 0, 1]),
            ("0177.0.0.1", [127, 0, 0, 1]),
            ("2130706433", [127, 0, 0, 1]),
            ("0x7f000001", [127, 0, 0, 1]),
            ("017700000001", [127, 0, 0, 1]),
            ("10.1", [10, 0, 0, 1]),
            ("192.168.257", [192, 168, 1, 1]),
            ("0x8.0x8.0x8.0x8", [8, 8, 8, 8]),
            ("0x", [0, 0, 0, 0]),
            ("0x.0X.00.0", [0, 0, 0, 0]),
            ("0", [0, 0, 0, 0]),
            ("00000000000000000000000000000000000010.1", [8, 0, 0, 1]),
            ("0x000000000000000000000000000000000000ff.1", [255, 0, 0, 1]),
            ("127.0.0.1.", [127, 0, 0, 1]),
            ("1.2.3.0xff", [1, 2, 3, 255]),
            ("1.2.0xffff", [1, 2, 255, 255]),
            ("1.0xffffff", [1, 255, 255, 255]),
            ("4294967295", [255, 255, 255, 255]),
            ("0xFFFFFFFF", [255, 255, 255, 255]),
            ("037777777777", [255, 255, 255, 255]),
        ] {
            assert_eq!(v4(text), Some(Ipv4Addr::from(ip)), "{text}");
        }
        for refused in [
            "1.2.3.0x100",          // the last of four parts is one byte
            "1.2.65536",            // the last of three parts is two bytes
            "1.16777216",           // the last of two parts is three bytes
            "4294967296",           // one part is at most 2^32 - 1
            "0x100000000",          //
            "256.1.1.1",            // every part but the last is one byte
            "1.256.1",              //
            "99999999999999999999", // far past 2^64 too: refused, no overflow
            "0x10000000000000000000000000000",
            "foo.0x10000000000000000000000000000", // still a number, too large for any parser
            "foo.0xffffffffffffffffffffffffffffffff",
            "foo.99999999999999999999",
            "1.2.3.4.5", // at most four parts
            "1.2.3.4..", // not a number (two final dots): a name, with an empty label
            "1..2",      // an empty part
            ".1",        //
            "08",        // not octal
            "0.09",      //
            "0xg.1",     // not hex
            "foo.0x",    // ends in a number (0x is 0), so IPv4, and foo is no number
            "foo.1",     //
            "a-b.0x1f",  //
            "1e3.1",     //
        ] {
            assert_eq!(read(refused), None, "{refused}");
        }
        // Ends in a number only when the last label is: a name otherwise, lower-cased, one dot off.
        assert_eq!(read("Example.COM."), Some(Host::Name("example.com".into())));
        assert_eq!(read("1.2.3.4a"), Some(Host::Name("1.2.3.4a".into())));
        assert_eq!(read("0x1.example"), Some(Host::Name("0x1.example".into())));
        assert_eq!(read("1.0xg"), Some(Host::Name("1.0xg".into())));
        assert_eq!(read(""), Some(Host::Name(String::new())));
        for empty_label in [".", "..", "a..b", ".example.com", "example.com..", "127.0.0.1.."] {
            assert_eq!(read(empty_label), None, "{empty_label}");
        }
    }

    /// Each block of the tables, and the addresses just outside it.
    #[test]
    fn public_addresses_and_the_blocks_around_them() {
        let public = |s: &str| is_public_ip(s.parse().unwrap());
        for ip in [
            "0.255.255.255",
            "10.0.0.0",
            "100.64.0.0",
            "100.127.255.255",
            "127.255.255.255",
            "169.254.0.0",
            "172.16.0.0",
            "172.31.255.255",
            "192.0.0.0",
            "192.0.0.255",
            "192.0.2.0",
            "192.88.99.1",
            "192.168.255.255",
            "198.18.0.0",
            "198.19.255.255",
            "198.51.100.255",
            "203.0.113.0",
            "224.0.0.0",
            "239.255.255.255",
            "240.0.0.0",
            "255.255.255.255",
            "::",
            "::1",
            "::7f00:1",
            "::808:808",
            "::ffff:127.0.0.1",
            "::ffff:0:808:808",
            "64:ff9b::a00:1",
            "64:ff9b:1::808:808",
            "100::1",
            "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "2001::1",
            "2001:1ff:ffff:ffff::",
            "2001:db8::1",
            "2002:7f00:1::",
            "2002:a00:1::",
            "2002:c0a8:101::1",
            "3fff::1",
            "3fff:fff:ffff::",
            "4000::1",
            "5f00::1",
            "fc00::1",
            "fdff::1",
            "fe80::1",
            "fec0::1",
            "feff::1",
            "ff02::1",
        ] {
            assert!(!public(ip), "{ip} is not public");
        }
        for ip in [
            "1.0.0.0",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.0.3.0",
            "192.88.98.255",
            "192.88.100.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "198.51.99.255",
            "198.51.101.0",
            "203.0.112.255",
            "203.0.114.0",
            "223.255.255.255",
            "8.8.8.8",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2000::",
            "2001:200::",
            "2001:db7:ffff::",
            "2001:db9::",
            "2002:808:808::",
            "2606:4700::1111",
            "3ffe::1",
            "3fff:1000::",
            "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ] {
            assert!(public(ip), "{ip} is public");
        }
    }

    /// How the URL Standard's IPv4 parser spells one number: decimal, octal (a leading 0) or
    /// hexadecimal (0x or 0X), with extra leading zeros where the form allows them.
    fn spell(n: u32, form: u8, zeros: usize) -> String {
        let pad = "0".repeat(zeros);
        match form {
            0 => n.to_string(),
            1 => format!("0{pad}{n:o}"),
            2 => format!("0x{pad}{n:x}"),
            3 => format!("0X{pad}{n:X}"),
            _ if n == 0 => "0x".into(),
            _ => format!("0x{pad}{n:X}"),
        }
    }

    /// An IPv6 address as one of its spellings: groups with or without leading zeros, upper or
    /// lower case, one run of zero groups compressed to `::` or none, the last 32 bits dotted.
    fn spell_v6(ip: Ipv6Addr, compress: Option<(usize, usize)>, dotted: bool, upper: bool, padded: bool) -> String {
        let groups = ip.segments();
        let (head, tail) = if dotted { groups.split_at(6) } else { (&groups[..], &[][..]) };
        let group = |g: &u16| match (upper, padded) {
            (false, false) => format!("{g:x}"),
            (false, true) => format!("{g:04x}"),
            (true, false) => format!("{g:X}"),
            (true, true) => format!("{g:04X}"),
        };
        let text = |gs: &[u16]| gs.iter().map(group).collect::<Vec<_>>().join(":");
        let mut out = match compress {
            // Only a run of zero groups may be left out.
            Some((at, len)) if at + len <= head.len() && head[at..at + len].iter().all(|&g| g == 0) && len > 0 => {
                format!("{}::{}", text(&head[..at]), text(&head[at + len..]))
            }
            _ => text(head),
        };
        if dotted {
            let v4 = Ipv4Addr::new((tail[0] >> 8) as u8, tail[0] as u8, (tail[1] >> 8) as u8, tail[1] as u8);
            if !out.ends_with(':') {
                out.push(':');
            }
            out.push_str(&v4.to_string());
        }
        out
    }

    /// An IPv6 address from a block worth trying (each embedding block, the public one, and the
    /// blocks around them), the rest of its bits random, some of them zeros.
    fn v6_address() -> impl Strategy<Value = Ipv6Addr> {
        let blocks: [(u128, u8); 12] = [
            (0, 96),
            (0xffff_0000_0000, 96),
            (0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96),
            (0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48),
            (0x2002_0000_0000_0000_0000_0000_0000_0000, 16),
            (0x2000_0000_0000_0000_0000_0000_0000_0000, 3),
            (0x2001_0000_0000_0000_0000_0000_0000_0000, 16),
            (0x3fff_0000_0000_0000_0000_0000_0000_0000, 16),
            (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10),
            (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7),
            (0, 0),
            (0, 120),
        ];
        (0..blocks.len(), any::<u128>(), any::<u8>()).prop_map(move |(i, rest, zeros)| {
            let (block, len) = blocks[i];
            let mut bits = block | (rest & u128::MAX.checked_shr(u32::from(len)).unwrap_or(0));
            // Zero some groups, so that `::` has runs to compress.
            for g in 0..8 {
                if zeros & (1 << g) != 0 && g >= usize::from(len).div_ceil(16) {
                    bits &= !(0xffff_u128 << (16 * (7 - g)));
                }
            }
            Ipv6Addr::from(bits)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Any IPv4 address, spelled in any of the URL Standard's forms (one to four numbers,
        /// each decimal, octal or hexadecimal, a final dot or none), reads as that address, and
        /// is judged as its dotted quad is.
        #[test]
        fn every_ipv4_spelling_reads_as_its_address(
            ip in any::<u32>(),
            count in 1usize..=4,
            forms in [0u8..5, 0u8..5, 0u8..5, 0u8..5],
            zeros in [0usize..3, 0usize..3, 0usize..3, 0usize..3],
            dot in any::<bool>(),
            upper in any::<bool>(),
        ) {
            let bytes = ip.to_be_bytes();
            // count - 1 leading bytes, then the rest of the address as one number.
            let mut numbers: Vec<u32> = bytes[..count - 1].iter().map(|&b| u32::from(b)).collect();
            numbers.push(ip & u32::MAX.checked_shr(8 * (count as u32 - 1)).unwrap_or(0));
            let parts: Vec<String> = numbers.iter().zip(forms).zip(zeros).map(|((&n, f), z)| spell(n, f, z)).collect();
            let mut text = parts.join(".");
            if dot {
                text.push('.');
            }
            if upper {
                text = text.to_uppercase();
            }
            let address = Ipv4Addr::from(ip);
            prop_assert_eq!(read(&text), Some(Host::Ip(IpAddr::V4(address))), "{}", text);
            prop_assert_eq!(
                super::super::url_problem(&format!("https://{text}/"), false),
                super::super::url_problem(&format!("https://{address}/"), false),
                "{}", text
            );
        }

        /// Any IPv6 address, spelled compressed or not, with its last 32 bits dotted or not,
        /// reads as that address; one that carries an IPv4 address is judged as that address.
        #[test]
        fn every_ipv6_spelling_reads_as_its_address(
            ip in v6_address(),
            compress in proptest::option::of((0usize..8, 1usize..=8)),
            dotted in any::<bool>(),
            upper in any::<bool>(),
            padded in any::<bool>(),
        ) {
            let text = spell_v6(ip, compress, dotted, upper, padded);
            let url = format!("https://[{text}]:8443/x");
            prop_assert_eq!(super::super::url_problem(&url, true), None, "{}", url);
            prop_assert_eq!(
                super::super::url_problem(&url, false),
                super::super::url_problem(&format!("https://[{ip}]/"), false),
                "{}", url
            );
            prop_assert_eq!(text.to_ascii_lowercase().parse::<Ipv6Addr>(), Ok(ip), "{}", text);
            let bits = u128::from(ip);
            let carried = match bits >> 96 {
                0 if bits >> 32 == 0xffff => Some(bits as u32),
                0x0064_ff9b if (bits >> 32) & 0xffff_ffff_ffff_ffff == 0 => Some(bits as u32),
                _ if bits >> 112 == 0x2002 => Some((bits >> 80) as u32),
                _ => None,
            };
            if let Some(v4) = carried {
                prop_assert_eq!(is_public_ip(IpAddr::V6(ip)), is_public_ip(IpAddr::V4(v4.into())), "{}", ip);
            } else if bits >> 125 != 1 {
                prop_assert!(!is_public_ip(IpAddr::V6(ip)), "outside 2000::/3: {}", ip);
            }
        }
    }
}
