//! CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`) as NetworkPolicy `ipBlock` takes them: a network
//! address without host bits, a prefix length within the family's width, and `except` blocks that
//! lie strictly inside their `cidr`.

use std::net::IpAddr;

/// A parsed CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// Address bits (left-aligned in a u128) and the family's width.
    fn bits(addr: IpAddr) -> (u128, u8) {
        match addr {
            IpAddr::V4(a) => (u128::from(u32::from(a)) << 96, 32),
            IpAddr::V6(a) => (u128::from(a), 128),
        }
    }

    fn mask(prefix: u8) -> u128 {
        match prefix {
            0 => 0,
            p => u128::MAX << (128 - u32::from(p)),
        }
    }

    /// Whether `inner` is a smaller block inside this one, as `ipBlock.except` requires.
    pub fn strictly_contains(&self, inner: &Cidr) -> bool {
        let (outer_bits, outer_width) = Cidr::bits(self.addr);
        let (inner_bits, inner_width) = Cidr::bits(inner.addr);
        outer_width == inner_width
            && inner.prefix > self.prefix
            && inner_bits & Cidr::mask(self.prefix) == outer_bits
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Parses `address/prefix`; the address must be the block's network address.
pub fn parse(s: &str) -> Result<Cidr, String> {
    let expected = "expected a CIDR block such as `10.0.0.0/8` or `2001:db8::/32`";
    let Some((addr, prefix)) = s.split_once('/') else {
        return Err(format!("invalid CIDR {s:?}: no /prefix: {expected}"));
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("invalid CIDR {s:?}: {addr:?} is not an IP address: {expected}"))?;
    let (bits, width) = Cidr::bits(addr);
    // Digits only, no leading zero (as Go's netip, which the API server uses, requires).
    let digits = !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_digit())
        && (prefix == "0" || !prefix.starts_with('0'));
    let prefix = digits
        .then(|| prefix.parse::<u8>().ok())
        .flatten()
        .filter(|p| *p <= width)
        .ok_or_else(|| {
            format!("invalid CIDR {s:?}: prefix length {prefix:?} must be a number 0-{width}")
        })?;
    let cidr = Cidr { addr, prefix };
    let network_bits = bits & Cidr::mask(prefix);
    if network_bits != bits {
        let network = match addr {
            IpAddr::V4(_) => IpAddr::V4(((network_bits >> 96) as u32).into()),
            IpAddr::V6(_) => IpAddr::V6(network_bits.into()),
        };
        return Err(format!(
            "invalid CIDR {s:?}: host bits are set: expected the network address, `{network}/{prefix}`"
        ));
    }
    Ok(cidr)
}

/// Checks a CIDR block.
pub fn cidr(s: &str) -> Result<(), String> {
    parse(s).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_network_addresses_of_both_families() {
        for ok in [
            "10.0.0.0/8",
            "0.0.0.0/0",
            "192.168.1.7/32",
            "2001:db8::/32",
            "::/0",
        ] {
            assert!(cidr(ok).is_ok(), "{ok}: {:?}", cidr(ok));
        }
    }

    #[test]
    fn rejects_what_the_api_server_rejects() {
        for (bad, why) in [
            ("10.0.0.0", "no /prefix"),
            ("10.0.0/8", "not an IP address"),
            ("010.0.0.0/8", "not an IP address"),
            ("10.0.0.0/33", "must be a number 0-32"),
            ("10.0.0.0/08", "must be a number 0-32"),
            ("10.0.0.0/+8", "must be a number 0-32"),
            ("2001:db8::/129", "must be a number 0-128"),
            ("10.1.2.3/8", "expected the network address, `10.0.0.0/8`"),
            (
                "2001:db8::1/32",
                "expected the network address, `2001:db8::/32`",
            ),
        ] {
            let e = cidr(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn except_blocks_must_lie_strictly_inside() {
        let outer = parse("10.0.0.0/8").unwrap();
        assert!(outer.strictly_contains(&parse("10.1.0.0/16").unwrap()));
        assert!(!outer.strictly_contains(&parse("10.0.0.0/8").unwrap()));
        assert!(!outer.strictly_contains(&parse("11.0.0.0/16").unwrap()));
        assert!(!outer.strictly_contains(&parse("::/64").unwrap()));
        assert!(parse("::/0")
            .unwrap()
            .strictly_contains(&parse("fd00::/8").unwrap()));
    }
}
