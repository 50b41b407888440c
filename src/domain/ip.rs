//! IP addresses read and written as the standard library's `FromStr` and `Display` do, byte for
//! byte (property tests hold the two to the same answers), in a fraction of the code:
//! `core::net`'s parser and its `Display`, with width and precision support nothing here uses,
//! cost the browser module 2 KiB gzip (docs/DECISIONS.md).
//!
//! What is read: IPv4 as four decimal numbers of at most three digits, none with a leading
//! zero, each at most 255; IPv6 as RFC 4291's text (groups of one to four hex digits, one `::`
//! standing for at least one zero group, an IPv4 address in the last 32 bits), no zone, no
//! brackets. What is written: RFC 5952 (lower case, the longest run of two or more zero groups
//! as `::`, the first of equal runs), `::ffff:a.b.c.d` for IPv4-mapped addresses.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address `s` is, as `s.parse::<IpAddr>()` reads it.
///
/// # Example
/// ```
/// use keyward::domain::ip::parse;
/// assert_eq!(parse("192.0.2.1"), "192.0.2.1".parse().ok());
/// assert_eq!(parse("2001:db8::1.2.3.4"), "2001:db8::1.2.3.4".parse().ok());
/// assert_eq!(parse("01.2.3.4"), None);
/// ```
#[must_use]
pub fn parse(s: &str) -> Option<IpAddr> {
    let mut p = Reader(s.as_bytes());
    let ip = match p.ipv4() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(p.ipv6()?),
    };
    p.0.is_empty().then_some(ip)
}

/// The IPv6 address `s` is, as `s.parse::<Ipv6Addr>()` reads it.
#[must_use]
pub fn parse_v6(s: &str) -> Option<Ipv6Addr> {
    let mut p = Reader(s.as_bytes());
    let ip = p.ipv6()?;
    p.0.is_empty().then_some(ip)
}

/// What is left to read. Every step either succeeds and moves on, or fails and leaves the
/// reader where it was (the standard library's `read_atomically`).
#[derive(Clone, Copy)]
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    /// `step` on a copy of the reader, kept only when it succeeds.
    fn atomically<T>(&mut self, step: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let mut copy = *self;
        let out = step(&mut copy)?;
        *self = copy;
        Some(out)
    }

    fn char(&mut self, c: u8) -> Option<()> {
        self.atomically(|p| {
            let (&first, rest) = p.0.split_first()?;
            p.0 = rest;
            (first == c).then_some(())
        })
    }

    /// `step`, after `sep` unless it is the first item (`index` 0).
    fn separated<T>(&mut self, sep: u8, index: usize, step: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        self.atomically(|p| {
            if index > 0 {
                p.char(sep)?;
            }
            step(p)
        })
    }

    /// A number of at most `max_digits` digits in `radix` (a longer run fails), at most `max`;
    /// with a leading zero only when `zero_prefix` or it is `0` itself.
    fn number(&mut self, radix: u32, max_digits: usize, zero_prefix: bool, max: u32) -> Option<u32> {
        self.atomically(|p| {
            let leading_zero = p.0.first() == Some(&b'0');
            let (mut value, mut digits) = (0u32, 0usize);
            while let Some(d) = p.0.first().and_then(|&b| char::from(b).to_digit(radix)) {
                p.0 = p.0.get(1..).unwrap_or_default();
                value = value * radix + d;
                digits += 1;
                if digits > max_digits {
                    return None;
                }
            }
            let zero_ok = zero_prefix || !leading_zero || digits == 1;
            (digits > 0 && zero_ok && value <= max).then_some(value)
        })
    }

    fn ipv4(&mut self) -> Option<Ipv4Addr> {
        self.atomically(|p| {
            let mut octets = [0u8; 4];
            for (i, slot) in octets.iter_mut().enumerate() {
                let n = p.separated(b'.', i, |p| p.number(10, 3, false, 255))?;
                *slot = u8::try_from(n).ok()?;
            }
            Some(Ipv4Addr::from(octets))
        })
    }

    /// Colon-separated groups into `groups`, the last two possibly an IPv4 address: how many
    /// were read, and whether they ended with one.
    fn groups(&mut self, groups: &mut [u16]) -> (usize, bool) {
        let limit = groups.len();
        for i in 0..limit {
            if i + 1 < limit {
                if let Some(v4) = self.separated(b':', i, Self::ipv4) {
                    let [a, b, c, d] = v4.octets();
                    if let Some(pair) = groups.get_mut(i..i + 2) {
                        pair.copy_from_slice(&[u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])]);
                    }
                    return (i + 2, true);
                }
            }
            match self.separated(b':', i, |p| p.number(16, 4, true, 0xffff)) {
                Some(g) => {
                    if let (Some(slot), Ok(g)) = (groups.get_mut(i), u16::try_from(g)) {
                        *slot = g;
                    }
                }
                None => return (i, false),
            }
        }
        (limit, false)
    }

    fn ipv6(&mut self) -> Option<Ipv6Addr> {
        self.atomically(|p| {
            let mut head = [0u16; 8];
            let (head_len, head_v4) = p.groups(&mut head);
            if head_len == 8 {
                return Some(Ipv6Addr::from(head));
            }
            if head_v4 {
                return None;
            }
            p.char(b':')?;
            p.char(b':')?;
            // `::` stands for at least one zero group.
            let mut tail = [0u16; 7];
            let (tail_len, _) = p.groups(tail.get_mut(..7 - head_len)?);
            let mut all = [0u16; 8];
            all.get_mut(..head_len)?.copy_from_slice(head.get(..head_len)?);
            all.get_mut(8 - tail_len..)?.copy_from_slice(tail.get(..tail_len)?);
            Some(Ipv6Addr::from(all))
        })
    }
}

/// `ip` as `ip.to_string()` writes it, appended to `out`.
///
/// # Example
/// ```
/// use keyward::domain::ip::write;
/// let mut s = String::new();
/// write(&mut s, "2001:db8:0:0:1:0:0:1".parse().unwrap());
/// assert_eq!(s, "2001:db8::1:0:0:1");
/// ```
pub fn write(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => write_v4(out, v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                out.push_str("::ffff:");
                write_v4(out, v4);
                return;
            }
            let groups = v6.segments();
            // The longest run of zero groups (the first of equal ones), as (start, length).
            let (mut best, mut run) = ((0, 0), (0, 0));
            for (i, &g) in groups.iter().enumerate() {
                run = if g == 0 { (if run.1 == 0 { i } else { run.0 }, run.1 + 1) } else { (0, 0) };
                if run.1 > best.1 {
                    best = run;
                }
            }
            let (start, end) = if best.1 > 1 { (best.0, best.0 + best.1) } else { (8, 8) };
            for (i, &g) in groups.iter().enumerate() {
                if i == start {
                    out.push_str("::");
                }
                if (start..end).contains(&i) {
                    continue;
                }
                if i > 0 && i != end {
                    out.push(':');
                }
                push_number(out, u32::from(g), 16);
            }
        }
    }
}

fn write_v4(out: &mut String, v4: Ipv4Addr) {
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_number(out, u32::from(octet), 10);
    }
}

/// `n` in `radix` (10 or 16, lower case), without leading zeros.
fn push_number(out: &mut String, n: u32, radix: u32) {
    if n >= radix {
        push_number(out, n / radix, radix);
    }
    out.extend(char::from_digit(n % radix, radix));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn display(ip: IpAddr) -> String {
        let mut s = String::new();
        write(&mut s, ip);
        s
    }

    #[test]
    fn known_cases() {
        for text in [
            "0.0.0.0",
            "255.255.255.255",
            "::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8",
            "1:0:0:4:0:0:0:8",
            "1:0:0:4:0:0:7:8",
            "0:0:1::",
            "::ffff:1.2.3.4",
            "::1.2.3.4",
            "64:ff9b::192.0.2.1",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1:2:3:4:5:6:7:8::",
            "1.2.3.4::",
            "::1.2.3.4:5",
            "0001:02:3::",
            "00001::",
            "1::2::3",
            ":::",
            ":1::",
            "1:",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "0.0.0.00",
            "256.0.0.0",
            "1.2.3.4 ",
            "FFFF::ABCD",
            "::ffff:0:0",
            "",
        ] {
            assert_eq!(parse(text), text.parse::<IpAddr>().ok(), "{text:?}");
            assert_eq!(parse_v6(text), text.parse::<Ipv6Addr>().ok(), "{text:?}");
            if let Ok(ip) = text.parse::<IpAddr>() {
                assert_eq!(display(ip), ip.to_string(), "{text:?}");
            }
        }
    }

    /// Addresses with runs of zero groups, and IPv4-mapped and -compatible ones, more often than
    /// chance gives them.
    fn address() -> impl Strategy<Value = IpAddr> {
        let group = prop_oneof![3 => Just(0u16), 1 => Just(0xffff), 2 => any::<u16>()];
        prop_oneof![
            any::<[u8; 4]>().prop_map(|o| IpAddr::V4(o.into())),
            prop::array::uniform8(group).prop_map(|g| IpAddr::V6(g.into())),
            any::<[u8; 4]>().prop_map(|o| IpAddr::V6(Ipv4Addr::from(o).to_ipv6_mapped())),
            any::<u128>().prop_map(|n| IpAddr::V6(n.into())),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        #[test]
        fn written_as_the_standard_library_writes(ip in address()) {
            prop_assert_eq!(display(ip), ip.to_string());
        }

        #[test]
        fn read_as_the_standard_library_reads(ip in address(), upper in any::<bool>(), text in "[0-9a-fA-F:.]{0,42}") {
            for s in [ip.to_string(), if upper { ip.to_string().to_uppercase() } else { text.clone() }, text] {
                prop_assert_eq!(parse(&s), s.parse::<IpAddr>().ok(), "{:?}", s);
                prop_assert_eq!(parse_v6(&s), s.parse::<Ipv6Addr>().ok(), "{:?}", s);
            }
        }

        #[test]
        fn read_as_the_standard_library_reads_near_misses(ip in address(), at in any::<prop::sample::Index>(), c in "[0-9a-fA-F:.x ]") {
            // One character of a valid address replaced, inserted or removed.
            let s = ip.to_string();
            let i = at.index(s.len() + 1);
            for t in [
                format!("{}{c}{}", &s[..i], &s[i..]),
                format!("{}{c}{}", &s[..i.min(s.len() - 1)], &s[(i + 1).min(s.len())..]),
                format!("{}{}", &s[..i.min(s.len() - 1)], &s[(i + 1).min(s.len())..]),
            ] {
                prop_assert_eq!(parse(&t), t.parse::<IpAddr>().ok(), "{:?}", t);
                prop_assert_eq!(parse_v6(&t), t.parse::<Ipv6Addr>().ok(), "{:?}", t);
            }
        }
    }
}
