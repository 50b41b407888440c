//! Network allowlists: IPv4 and IPv6 CIDR blocks a token may be used from.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Most blocks one token may carry.
pub const MAX_CIDRS: usize = 20;

/// One CIDR block, its address already masked to the network (`10.1.2.3/24` is `10.1.2.0/24`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// Why a string is not a CIDR block (a message for people).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadCidr(pub &'static str);

fn mask_v4(a: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    let bits = u32::from(a);
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    Ipv4Addr::from(bits & mask)
}

fn mask_v6(a: Ipv6Addr, prefix: u8) -> Ipv6Addr {
    let bits = u128::from(a);
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    Ipv6Addr::from(bits & mask)
}

/// An address as IPv4 when it is an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`), so that a
/// dual-stack listener's view of an IPv4 client matches IPv4 blocks.
#[must_use]
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

impl Cidr {
    /// Parse `address/prefix` (a bare address is a single host: `/32` or `/128`).
    ///
    /// # Errors
    /// [`BadCidr`] when the address or the prefix length is not valid.
    ///
    /// # Example
    /// ```
    /// use keyward::domain::cidr::Cidr;
    /// let c = Cidr::parse("192.0.2.77/24").unwrap();
    /// assert_eq!(c.to_string(), "192.0.2.0/24");
    /// assert!(c.contains("192.0.2.1".parse().unwrap()));
    /// assert!(c.contains("::ffff:192.0.2.9".parse().unwrap()));
    /// assert!(!c.contains("198.51.100.1".parse().unwrap()));
    /// ```
    pub fn parse(s: &str) -> Result<Self, BadCidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let ip = super::ip::parse(addr).ok_or(BadCidr("is not an IPv4 or IPv6 address"))?;
        let ip = canonical(ip);
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                // At most three digits: read by hand (no integer parser in the browser module).
                let n = p.bytes().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
                u8::try_from(n).ok().filter(|n| *n <= max).ok_or(BadCidr("has a prefix length out of range"))?
            }
            Some(_) => return Err(BadCidr("has a prefix length that is not a number")),
        };
        let network = match ip {
            IpAddr::V4(a) => IpAddr::V4(mask_v4(a, prefix)),
            IpAddr::V6(a) => IpAddr::V6(mask_v6(a, prefix)),
        };
        Ok(Self { network, prefix })
    }

    /// Whether `ip` is inside this block (IPv4-mapped IPv6 addresses count as IPv4).
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(a)) => mask_v4(a, self.prefix) == net,
            (IpAddr::V6(net), IpAddr::V6(a)) => mask_v6(a, self.prefix) == net,
            _ => false,
        }
    }

    /// The block as it is stored and shown: its network as `core::net`'s `Display` writes it,
    /// then `/` and the prefix length (`10.0.0.0/8`, `2001:db8::/32`).
    ///
    /// Written by hand rather than with that `Display` (1.6 KiB of `Ipv6Addr` formatting with
    /// width and padding support in the browser module): RFC 5952's form, which `core::net`
    /// writes, for the only inputs there are (a test holds the two to the same text for every
    /// pattern of zero groups, every group value and every IPv4 octet). Reading is by hand too,
    /// in [`super::ip`] (docs/DECISIONS.md, "Browser module size").
    #[must_use]
    pub fn normalized(&self) -> String {
        let mut out = String::new();
        match self.network {
            IpAddr::V4(v4) => push_v4(&mut out, v4),
            IpAddr::V6(v6) => push_v6(&mut out, v6),
        }
        out.push('/');
        push_number(&mut out, self.prefix.into(), 10);
        out
    }
}

/// `v4` as `core::net` writes it: four decimal octets.
fn push_v4(out: &mut String, v4: Ipv4Addr) {
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_number(out, octet.into(), 10);
    }
}

/// `v6` as `core::net` writes it: `::ffff:` and the IPv4 address for an IPv4-mapped address;
/// otherwise the groups in lower-case hex without leading zeros, the first of the longest runs
/// of two or more zero groups written `::`.
fn push_v6(out: &mut String, v6: Ipv6Addr) {
    if let Some(v4) = v6.to_ipv4_mapped() {
        out.push_str("::ffff:");
        push_v4(out, v4);
        return;
    }
    let groups = v6.segments();
    // The longest run of zero groups (the first of equal ones): (start, length).
    let (mut best, mut run) = ((0, 0), (0, 0));
    for (i, &g) in groups.iter().enumerate() {
        run = if g != 0 {
            (0, 0)
        } else if run.1 == 0 {
            (i, 1)
        } else {
            (run.0, run.1 + 1)
        };
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
        push_number(out, g.into(), 16);
    }
}

/// `n` in `radix` (10 or 16, hex digits in lower case), without leading zeros.
fn push_number(out: &mut String, n: u32, radix: u32) {
    if n >= radix {
        push_number(out, n / radix, radix);
    }
    out.extend(char::from_digit(n % radix, radix));
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized())
    }
}

/// Whether a token with the allowlist `cidrs` (as stored: valid blocks) may be used from
/// `client`. An empty list allows everyone; a list refuses a caller whose address is unknown.
#[must_use]
pub fn allows<S: AsRef<str>>(cidrs: &[S], client: Option<IpAddr>) -> bool {
    if cidrs.is_empty() {
        return true;
    }
    let Some(ip) = client else { return false };
    cidrs.iter().filter_map(|c| Cidr::parse(c.as_ref()).ok()).any(|c| c.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_blocks() {
        let c = Cidr::parse("10.1.2.3/24").unwrap();
        assert_eq!(c.to_string(), "10.1.2.0/24");
        assert!(c.contains(ip("10.1.2.255")));
        assert!(!c.contains(ip("10.1.3.0")));
        let host = Cidr::parse("203.0.113.5/32").unwrap();
        assert!(host.contains(ip("203.0.113.5")));
        assert!(!host.contains(ip("203.0.113.6")));
        assert_eq!(Cidr::parse("203.0.113.5").unwrap(), host, "a bare address is a single host");
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(ip("255.255.255.255")) && all.contains(ip("0.0.0.0")));
        assert!(!all.contains(ip("2001:db8::1")), "IPv4 blocks never match IPv6 addresses");
    }

    #[test]
    fn ipv6_blocks() {
        let c = Cidr::parse("2001:db8:abcd::1/48").unwrap();
        assert_eq!(c.to_string(), "2001:db8:abcd::/48");
        assert!(c.contains(ip("2001:db8:abcd:ffff::1")));
        assert!(!c.contains(ip("2001:db8:abce::1")));
        let host = Cidr::parse("2001:db8::7/128").unwrap();
        assert!(host.contains(ip("2001:db8::7")) && !host.contains(ip("2001:db8::8")));
        let all = Cidr::parse("::/0").unwrap();
        assert!(all.contains(ip("2001:db8::1")));
        assert!(!all.contains(ip("192.0.2.1")), "IPv6 blocks never match IPv4 addresses");
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        let c = Cidr::parse("192.0.2.0/24").unwrap();
        assert!(c.contains(ip("::ffff:192.0.2.10")));
        let mapped = Cidr::parse("::ffff:192.0.2.0/120").unwrap_err();
        assert_eq!(mapped, BadCidr("has a prefix length out of range"), "mapped blocks are IPv4: /120 is too long");
        assert_eq!(Cidr::parse("::ffff:192.0.2.0/24").unwrap().to_string(), "192.0.2.0/24");
        // Prefix lengths past a byte (read by hand) are out of range too; leading zeros are read.
        for long in ["10.0.0.0/256", "10.0.0.0/999", "2001:db8::/300"] {
            assert_eq!(Cidr::parse(long).unwrap_err(), BadCidr("has a prefix length out of range"), "{long}");
        }
        assert_eq!(Cidr::parse("10.1.2.3/008").unwrap().to_string(), "10.0.0.0/8");
    }

    /// `normalized` writes the network as `core::net`'s `Display` does: for every pattern of zero
    /// and non-zero groups (which decides where `::` goes), every group value in every place,
    /// IPv4-mapped addresses and every octet.
    #[test]
    fn written_as_core_net_writes() {
        let text = |network: IpAddr, prefix: u8| Cidr { network, prefix }.normalized();
        for pattern in 0u32..256 {
            for fill in [1u16, 0xa, 0xff, 0x1000, 0xabcd, 0xffff] {
                let mut groups = [0u16; 8];
                for (i, g) in groups.iter_mut().enumerate() {
                    if pattern & (1 << i) != 0 {
                        *g = fill.wrapping_add(u16::try_from(i).unwrap());
                    }
                }
                let ip = IpAddr::V6(Ipv6Addr::from(groups));
                assert_eq!(text(ip, 128), format!("{ip}/128"));
            }
        }
        for g in 0..=u16::MAX {
            for at in 0..8 {
                let mut groups = [0x20u16, 0, 0, 7, 0, 0, 0, 1];
                groups[at] = g;
                let ip = IpAddr::V6(Ipv6Addr::from(groups));
                assert_eq!(text(ip, 64), format!("{ip}/64"));
            }
        }
        for o in 0..=u8::MAX {
            for ip in [Ipv4Addr::new(o, 0, 9, 10), Ipv4Addr::new(99, o, 100, o), Ipv4Addr::new(255, 1, o, 0)] {
                assert_eq!(text(IpAddr::V4(ip), o % 33), format!("{ip}/{}", o % 33));
                let mapped = IpAddr::V6(ip.to_ipv6_mapped());
                assert_eq!(text(mapped, o), format!("{mapped}/{o}"));
            }
        }
        assert_eq!(Cidr::parse("2001:db8::1/32").unwrap().normalized(), "2001:db8::/32");
        assert_eq!(Cidr::parse("10.0.0.1/8").unwrap().to_string(), "10.0.0.0/8");
    }

    #[test]
    fn malformed() {
        for bad in [
            "",
            "/24",
            "10.0.0.0/",
            "10.0.0.0/33",
            "10.0.0/24",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/ 8",
            "2001:db8::/129",
            "2001:db8::/0x10",
            "example.com/24",
            "10.0.0.0/24/8",
            "10.0.0.0/0008",
            "::1%eth0",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn allowlists() {
        let list = ["10.0.0.0/8", "2001:db8::/32"];
        assert!(allows::<&str>(&[], None), "no list: anyone, even unknown");
        assert!(!allows(&list, None), "a list refuses an unknown address");
        assert!(allows(&list, Some(ip("10.200.1.1"))));
        assert!(allows(&list, Some(ip("2001:db8:1::1"))));
        assert!(!allows(&list, Some(ip("11.0.0.1"))));
    }
}
