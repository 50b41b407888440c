//! Reading IP addresses: the text `core::net`'s `FromStr` accepts, read to the same address.
//!
//! Written by hand rather than with `str::parse` for the browser module's sake: `core::net`'s
//! parser is a general one (any radix, rollback at every step, generic over the integer type)
//! and was about 3 KiB of its code. The grammar is small: an IPv4 address is four decimal
//! octets without leading zeros; an IPv6 address is eight groups of one to four hex digits,
//! where one `::` may stand for one or more zero groups and the last two groups may be written
//! as an IPv4 address. Tests hold both parsers to the same answer for every string up to eight
//! characters over the grammar's own alphabet, and for random spellings of random addresses,
//! valid and broken (docs/DECISIONS.md, "Browser module size").

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `text` as an IPv4 or IPv6 address, as `text.parse::<IpAddr>().ok()` reads it.
#[must_use]
pub fn parse(text: &str) -> Option<IpAddr> {
    v4(text.as_bytes()).map(IpAddr::V4).or_else(|| v6(text.as_bytes()).map(IpAddr::V6))
}

/// `text` as an IPv6 address, as `text.parse::<Ipv6Addr>().ok()` reads it.
#[must_use]
pub fn parse_v6(text: &str) -> Option<Ipv6Addr> {
    v6(text.as_bytes())
}

/// Four decimal octets separated by dots.
fn v4(text: &[u8]) -> Option<Ipv4Addr> {
    let mut parts = text.split(|&b| b == b'.');
    let mut octets = [0u8; 4];
    for octet in &mut octets {
        *octet = decimal_octet(parts.next()?)?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// One to three decimal digits worth at most 255, without a leading zero (`0` itself aside).
fn decimal_octet(digits: &[u8]) -> Option<u8> {
    let leading_zero = digits.len() > 1 && digits.first() == Some(&b'0');
    if digits.is_empty() || digits.len() > 3 || leading_zero || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    u8::try_from(digits.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'))).ok()
}

/// Eight groups, or fewer around one `::` that stands for at least one zero group.
fn v6(text: &[u8]) -> Option<Ipv6Addr> {
    let mut head = [0u16; 8];
    let Some(gap) = text.windows(2).position(|pair| pair == b"::") else {
        return (groups(text, &mut head)? == 8).then_some(Ipv6Addr::from(head));
    };
    let (before, after) = (text.get(..gap)?, text.get(gap + 2..)?);
    let mut tail = [0u16; 8];
    let (n_head, n_tail) = (groups(before, &mut head)?, groups(after, &mut tail)?);
    // An IPv4 address only ends the whole address, never the part before `::`.
    if n_head + n_tail > 7 || before.contains(&b'.') {
        return None;
    }
    head.get_mut(8 - n_tail..)?.copy_from_slice(tail.get(..n_tail)?);
    Some(Ipv6Addr::from(head))
}

/// Colon-separated groups of one to four hex digits, the last of which may be an IPv4 address
/// (two groups), written into `out` from its start: how many groups, `None` when `text` is not
/// that or holds more than eight. Empty text is no group.
fn groups(text: &[u8], out: &mut [u16; 8]) -> Option<usize> {
    if text.is_empty() {
        return Some(0);
    }
    let mut n = 0;
    let mut parts = text.split(|&b| b == b':').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() && part.contains(&b'.') {
            let [a, b, c, d] = v4(part)?.octets();
            out.get_mut(n..n + 2)?.copy_from_slice(&[u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])]);
            return Some(n + 2);
        }
        if part.is_empty() || part.len() > 4 {
            return None;
        }
        *out.get_mut(n)? = part.iter().try_fold(0u16, |g, &h| Some(g << 4 | hex_digit(h)?))?;
        n += 1;
    }
    Some(n)
}

fn hex_digit(b: u8) -> Option<u16> {
    (b as char).to_digit(16).and_then(|d| u16::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn core_parse(text: &str) -> Option<IpAddr> {
        text.parse().ok()
    }

    #[test]
    fn reads_what_core_net_reads() {
        for text in [
            "0.0.0.0",
            "255.255.255.255",
            "192.0.2.1",
            "::",
            "::1",
            "1::",
            "2001:db8::7",
            "2001:DB8:0:0:0:0:0:7",
            "0000:0000:0000:0000:0000:0000:0000:0001",
            "::ffff:192.0.2.1",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1:2:3:4:5::1.2.3.4",
        ] {
            assert_eq!(parse(text), core_parse(text), "{text}");
            assert!(parse(text).is_some(), "{text}");
        }
    }

    #[test]
    fn refuses_what_core_net_refuses() {
        for text in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "256.0.0.1",
            "1.2.3.04",
            "1..2.3",
            " 1.2.3.4",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            ":::",
            "1:::2",
            "1::2::3",
            ":1::",
            "1::2:",
            "12345::",
            "1.2.3.4::",
            "::1.2.3",
            "::1.2.3.4.5",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1:2:3:4:5:6:7::8",
            "::1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8::",
            "1.2.3.4:1::",
            "g::",
            "١.٢.٣.٤",
        ] {
            assert_eq!(parse(text), core_parse(text), "{text}");
            assert!(parse(text).is_none(), "{text}");
        }
    }

    /// Every string of up to eight characters over an alphabet that spells every part of the
    /// grammar: digits (with a leading zero and a hex letter), colons and dots.
    #[test]
    fn agrees_with_core_net_on_every_short_string() {
        const ALPHABET: [u8; 5] = *b"01f:.";
        let mut text = Vec::new();
        for len in 0..=8u32 {
            for mut code in 0..5usize.pow(len) {
                text.clear();
                for _ in 0..len {
                    text.push(ALPHABET[code % 5]);
                    code /= 5;
                }
                let text = std::str::from_utf8(&text).unwrap();
                assert_eq!(parse(text), core_parse(text), "{text:?}");
            }
        }
    }

    /// Every dotted quad of octets spelt at the edges of the rules: leading zeros, 255 and 256,
    /// too many digits, none, and a sign.
    #[test]
    fn agrees_with_core_net_on_every_quad_of_edge_octets() {
        const OCTETS: [&str; 16] =
            ["0", "00", "01", "1", "9", "10", "99", "100", "199", "249", "250", "255", "256", "999", "0255", "+1"];
        for a in OCTETS {
            for b in OCTETS {
                for c in OCTETS {
                    for d in OCTETS {
                        let text = format!("{a}.{b}.{c}.{d}");
                        assert_eq!(parse(&text), core_parse(&text), "{text}");
                        let mapped = format!("::ffff:{text}");
                        assert_eq!(parse(&mapped), core_parse(&mapped), "{mapped}");
                    }
                }
            }
        }
    }

    /// An IPv6 address spelt the ways RFC 4291 allows: any run of zero groups compressed, the
    /// last 32 bits maybe as IPv4, upper or lower case, groups maybe zero-padded.
    fn v6_spelling() -> impl Strategy<Value = String> {
        let groups = prop::array::uniform8(prop_oneof![Just(0u16), Just(0xffff), any::<u16>(), 0u16..0x100]);
        (groups, any::<(u8, u8, bool, bool, bool)>()).prop_map(|(g, (from, len, dotted, upper, padded))| {
            let kept = if dotted { 6 } else { 8 };
            let start = usize::from(from) % (kept + 1);
            let end = (start + usize::from(len) % (kept + 1 - start + 1)).min(kept);
            let hex = |x: u16| if padded { format!("{x:04x}") } else { format!("{x:x}") };
            let part = |range: std::ops::Range<usize>| g[range].iter().map(|&x| hex(x)).collect::<Vec<_>>().join(":");
            let mut text = if end > start { format!("{}::{}", part(0..start), part(end..kept)) } else { part(0..kept) };
            if dotted {
                // After a `::` that ends the groups, the IPv4 address follows it directly.
                let sep = if end > start && end == kept { "" } else { ":" };
                let [a, b] = g[6].to_be_bytes();
                let [c, d] = g[7].to_be_bytes();
                text = format!("{text}{sep}{a}.{b}.{c}.{d}");
            }
            if upper {
                text.make_ascii_uppercase();
            }
            text
        })
    }

    /// A character of the grammar or one near it.
    fn grammar_char() -> impl Strategy<Value = char> {
        prop::sample::select(vec!['0', '1', '9', 'a', 'F', 'g', ':', '.', ' ', '/', '%', '١'])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn agrees_with_core_net_on_spellings_of_addresses(text in v6_spelling()) {
            prop_assert_eq!(parse(&text), core_parse(&text), "{}", text);
            prop_assert!(parse(&text).is_some(), "{}", text);
        }

        #[test]
        fn agrees_with_core_net_on_broken_spellings(
            text in prop_oneof![v6_spelling(), any::<[u8; 4]>().prop_map(|o| Ipv4Addr::from(o).to_string())],
            at in any::<prop::sample::Index>(),
            edit in 0u8..3,
            c in grammar_char(),
        ) {
            let mut chars: Vec<char> = text.chars().collect();
            let i = at.index(chars.len() + 1);
            match edit {
                0 => chars.insert(i, c),
                1 if i < chars.len() => { chars.remove(i); }
                _ if i < chars.len() => chars[i] = c,
                _ => chars.push(c),
            }
            let text: String = chars.into_iter().collect();
            prop_assert_eq!(parse(&text), core_parse(&text), "{}", text);
            prop_assert_eq!(parse_v6(&text), text.parse::<Ipv6Addr>().ok(), "{}", text);
        }
    }
}
