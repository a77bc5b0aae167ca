//! IPv4 and IPv6 CIDR blocks, kept in canonical form (host bits cleared).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::ParseError as Error;

/// A network: address with host bits cleared, and prefix length. Equality and hashing work
/// on the canonical form, so `10.1.2.3/8` equals `10.0.0.0/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix_len: u8,
}

impl Cidr {
    /// `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a single host: `/32`, `/128`).
    pub fn parse(text: &str) -> Result<Cidr, Error> {
        let invalid = |why: String| Error::new(format!("`{text}` is not a CIDR: {why}"));
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| invalid(format!("`{addr}` is not an IP address")))?;
        let prefix_len = match prefix {
            None => max_prefix(addr),
            // Digits only: `u8::from_str` would also accept a leading `+`.
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse()
                .map_err(|_| invalid(format!("bad prefix `{p}`")))?,
            Some(p) => return Err(invalid(format!("bad prefix `{p}`"))),
        };
        Cidr::new(addr, prefix_len).map_err(|e| invalid(e.message().to_string()))
    }

    pub fn new(addr: IpAddr, prefix_len: u8) -> Result<Cidr, Error> {
        if prefix_len > max_prefix(addr) {
            return Err(Error::new(format!(
                "prefix /{prefix_len} is longer than /{}",
                max_prefix(addr)
            )));
        }
        Ok(Cidr {
            network: mask(addr, prefix_len),
            prefix_len,
        })
    }

    pub fn network(&self) -> IpAddr {
        self.network
    }

    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    pub fn is_ipv4(&self) -> bool {
        self.network.is_ipv4()
    }

    pub fn is_ipv6(&self) -> bool {
        self.network.is_ipv6()
    }

    /// The whole internet of its family: `0.0.0.0/0` or `::/0`.
    pub fn is_open(&self) -> bool {
        self.prefix_len == 0
    }

    /// True when every address of `other` is in `self` (same family only).
    pub fn contains(&self, other: &Cidr) -> bool {
        self.is_ipv4() == other.is_ipv4()
            && other.prefix_len >= self.prefix_len
            && mask(other.network, self.prefix_len) == self.network
    }

    pub fn contains_addr(&self, addr: IpAddr) -> bool {
        self.is_ipv4() == addr.is_ipv4() && mask(addr, self.prefix_len) == self.network
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// Clear the host bits; `prefix_len` must not exceed the family's width.
fn mask(addr: IpAddr, prefix_len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            // `checked_shl` because shifting a u32 by 32 overflows for /0.
            let m = u32::MAX
                .checked_shl(32 - u32::from(prefix_len))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(prefix_len))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

impl FromStr for Cidr {
    type Err = Error;

    fn from_str(text: &str) -> Result<Cidr, Error> {
        Cidr::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(text: &str) -> Cidr {
        Cidr::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn canonical_form() {
        assert_eq!(cidr("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(cidr("10.1.2.3").to_string(), "10.1.2.3/32");
        assert_eq!(cidr("2001:DB8:0:0::1/32").to_string(), "2001:db8::/32");
        assert_eq!(cidr("::1").to_string(), "::1/128");
        assert_eq!(cidr("192.168.1.255/24"), cidr("192.168.1.0/24"));
        assert_eq!(cidr("172.16.0.0/12").prefix_len(), 12);
    }

    #[test]
    fn open() {
        assert!(cidr("0.0.0.0/0").is_open());
        assert!(cidr("::/0").is_open());
        assert!(cidr("1.2.3.4/0").is_open());
        assert_eq!(cidr("1.2.3.4/0").to_string(), "0.0.0.0/0");
        assert!(!cidr("0.0.0.0/1").is_open());
        assert!(!cidr("10.0.0.0/8").is_open());
        assert!(cidr("::/0").is_ipv6() && cidr("0.0.0.0/0").is_ipv4());
    }

    #[test]
    fn containment() {
        assert!(cidr("10.0.0.0/8").contains(&cidr("10.9.1.0/24")));
        assert!(cidr("10.0.0.0/8").contains(&cidr("10.0.0.0/8")));
        assert!(!cidr("10.9.1.0/24").contains(&cidr("10.0.0.0/8")));
        assert!(!cidr("10.0.0.0/8").contains(&cidr("11.0.0.0/24")));
        assert!(cidr("0.0.0.0/0").contains(&cidr("8.8.8.8")));
        assert!(!cidr("0.0.0.0/0").contains(&cidr("::/0")));
        assert!(cidr("2001:db8::/32").contains(&cidr("2001:db8:1::/48")));
        assert!(cidr("2001:db8::/32").contains_addr("2001:db8::42".parse().expect("addr")));
        assert!(!cidr("2001:db8::/32").contains_addr("10.0.0.1".parse().expect("addr")));
    }

    #[test]
    fn malformed() {
        for bad in [
            "",
            "/8",
            "10.0.0/8",
            "10.0.0.0/",
            "10.0.0.0/33",
            "10.0.0.0/+8",
            "10.0.0.0/-1",
            "10.0.0.0/8/8",
            "10.0.0.0 /8",
            "::/129",
            "::/1000",
            "not-an-ip/8",
            "10.0.0.256/8",
            "1.2.3.4/x",
        ] {
            let e = Cidr::parse(bad).expect_err(bad);
            assert!(e.message().contains("is not a CIDR"), "{bad}: {e}");
        }
    }
}
