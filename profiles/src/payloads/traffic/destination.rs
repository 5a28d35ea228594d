//! Where a traffic rule applies: domain patterns, IP networks (CIDR) and host names, parsed and checked.

use super::*;

/// How a [`DomainPattern`] matches host names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DomainScope {
    /// `example.org`: that host only.
    Exact,
    /// `*example.org`: the domain and all its subdomains.
    WithSubdomains,
    /// `*.example.org`: subdomains only.
    SubdomainsOnly,
}

/// A host name with an optional leading wildcard.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainPattern {
    name: String,
    scope: DomainScope,
}

impl DomainPattern {
    /// The domain without the wildcard, lower case.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How it matches.
    pub fn scope(&self) -> DomainScope {
        self.scope
    }

    /// Whether `host` (any case, optional trailing dot) falls under the pattern.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let sub = host.len() > self.name.len() && host.ends_with(&self.name) && host.as_bytes().get(host.len() - self.name.len() - 1) == Some(&b'.');
        match self.scope {
            DomainScope::Exact => host == self.name,
            DomainScope::WithSubdomains => host == self.name || sub,
            DomainScope::SubdomainsOnly => sub,
        }
    }
}

/// An IP network: address and prefix length, host bits zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpCidr {
    addr: IpAddr,
    prefix: u8,
}

impl IpCidr {
    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` lies in the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => mask_bits(u128::from(u32::from(a)), 32, self.prefix) == u128::from(u32::from(n)),
            (IpAddr::V6(n), IpAddr::V6(a)) => mask_bits(u128::from(a), 128, self.prefix) == u128::from(n),
            _ => false,
        }
    }
}

/// `v` (a `width`-bit number) with all but the first `prefix` bits cleared.
fn mask_bits(v: u128, width: u32, prefix: u8) -> u128 {
    let host_bits = width.saturating_sub(u32::from(prefix));
    if host_bits >= 128 {
        0
    } else {
        (v >> host_bits) << host_bits
    }
}

/// Where traffic goes: see the module documentation for the text forms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Destination {
    /// `*`: anything.
    Any,
    /// A host name, optionally with a leading wildcard.
    Domain(DomainPattern),
    /// One address.
    Ip(IpAddr),
    /// An address block.
    Cidr(IpCidr),
}

impl Destination {
    /// Parses and validates a destination (surrounding whitespace ignored).
    pub fn parse(input: &str) -> Result<Destination, DestinationError> {
        let err = |reason: &str| DestinationError { input: input.to_string(), reason: reason.to_string() };
        let s = input.trim();
        if s.is_empty() {
            return Err(err("it is empty"));
        }
        if s == "*" {
            return Ok(Destination::Any);
        }
        if let Ok(ip) = IpAddr::from_str(s) {
            return Ok(Destination::Ip(ip));
        }
        if let Some((a, p)) = s.split_once('/') {
            let addr = IpAddr::from_str(a).map_err(|_| err("the part before / must be an IPv4 or IPv6 address"))?;
            let width = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = match p.parse::<u8>() {
                Ok(n) if u32::from(n) <= width && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(err(&format!("the prefix length must be a number from 0 to {width}"))),
            };
            let cidr = IpCidr { addr, prefix };
            let network = match addr {
                IpAddr::V4(v) => IpAddr::V4(std::net::Ipv4Addr::from(u32::try_from(mask_bits(u128::from(u32::from(v)), 32, prefix)).unwrap_or(0))),
                IpAddr::V6(v) => IpAddr::V6(std::net::Ipv6Addr::from(mask_bits(u128::from(v), 128, prefix))),
            };
            if network != addr {
                return Err(err(&format!("host bits are set; the network is {network}/{prefix}")));
            }
            return Ok(Destination::Cidr(cidr));
        }
        let (scope, name) = if let Some(rest) = s.strip_prefix("*.") {
            (DomainScope::SubdomainsOnly, rest)
        } else if let Some(rest) = s.strip_prefix('*') {
            (DomainScope::WithSubdomains, rest)
        } else {
            (DomainScope::Exact, s)
        };
        check_host_name(name).map_err(|r| err(&r))?;
        Ok(Destination::Domain(DomainPattern { name: name.to_ascii_lowercase(), scope }))
    }

    /// Whether this is `*`.
    pub fn is_any(&self) -> bool {
        matches!(self, Destination::Any)
    }

    /// Whether a connection to `target` (a host name or an IP address) falls under this
    /// destination. Host names match domain patterns only; addresses match addresses and blocks.
    pub fn matches(&self, target: &str) -> bool {
        let target = target.trim();
        match (self, IpAddr::from_str(target)) {
            (Destination::Any, _) => true,
            (Destination::Ip(ip), Ok(t)) => *ip == t,
            (Destination::Cidr(c), Ok(t)) => c.contains(t),
            (Destination::Domain(d), Err(_)) => d.matches(target),
            _ => false,
        }
    }
}

/// Checks a host name (no wildcard): letters, digits and inner hyphens in labels of 1 to 63
/// characters, at most 253 characters, not ending in an all-numeric label.
pub(super) fn check_host_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a wildcard needs a domain after it".into());
    }
    if name.contains('*') {
        return Err("a wildcard is only allowed at the start".into());
    }
    if name.ends_with('.') {
        return Err("drop the trailing dot".into());
    }
    if name.len() > 253 {
        return Err("a host name is at most 253 characters".into());
    }
    if name.contains(':') || name.contains('/') {
        return Err("give a host name, IP address or CIDR block, without scheme, port or path".into());
    }
    let labels: Vec<&str> = name.split('.').collect();
    for l in &labels {
        if l.is_empty() {
            return Err("empty label (two dots in a row, or a leading dot)".into());
        }
        if l.len() > 63 {
            return Err(format!("the label {l:?} is longer than 63 characters"));
        }
        if !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(format!("the label {l:?} may only hold letters, digits and hyphens"));
        }
        if l.starts_with('-') || l.ends_with('-') {
            return Err(format!("the label {l:?} starts or ends with a hyphen"));
        }
    }
    if labels.last().is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit())) {
        return Err("this looks like an IP address but is not a valid one".into());
    }
    Ok(())
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Any => f.write_str("*"),
            Destination::Domain(d) => match d.scope {
                DomainScope::Exact => f.write_str(&d.name),
                DomainScope::WithSubdomains => write!(f, "*{}", d.name),
                DomainScope::SubdomainsOnly => write!(f, "*.{}", d.name),
            },
            Destination::Ip(ip) => write!(f, "{ip}"),
            Destination::Cidr(c) => write!(f, "{}/{}", c.addr, c.prefix),
        }
    }
}

impl FromStr for Destination {
    type Err = DestinationError;

    fn from_str(s: &str) -> Result<Destination, DestinationError> {
        Destination::parse(s)
    }
}

impl Serialize for Destination {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Destination {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Destination::parse(&s).map_err(de::Error::custom)
    }
}
