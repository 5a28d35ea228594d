//! Connections the server makes to URLs an admin gave it (webhooks now, connectors later).
//!
//! A URL given by an admin must not become a way into the network the server sits in (a
//! webhook pointed at `http://169.254.169.254/` or an internal admin page): every host is
//! resolved, every address it resolves to must be public unless `outbound.allow_private` lists
//! its range, and the connection goes to exactly the addresses that were checked (the client
//! is pinned to them, so a second DNS answer cannot swap in another). No redirects are followed,
//! every exchange has a deadline, and only the first bytes of an answer are read.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ipnet::IpNet;

/// How much of an answer is read (and kept in a delivery log).
pub const ANSWER_BYTES: usize = 512;

/// How long a pinned client (its resolved addresses) is reused before the host is resolved again.
const PIN_TTL: Duration = Duration::from_secs(60);

/// Why an outbound URL or exchange was refused or failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OutboundError {
    /// Not an http(s) URL with a host, or with credentials in it.
    #[error("{0}")]
    BadUrl(String),
    /// The host resolves to an address outside the allowed ranges.
    #[error("{host} resolves to {addr}, a private or reserved address; list its range in outbound.allow_private to allow it")]
    Private {
        /// The URL's host.
        host: String,
        /// The refused address.
        addr: IpAddr,
    },
    /// The host could not be resolved.
    #[error("cannot resolve {host}: {reason}")]
    Resolve {
        /// The URL's host.
        host: String,
        /// Why.
        reason: String,
    },
    /// Connecting, sending or reading failed (or ran past the deadline).
    #[error("{0}")]
    Transport(String),
}

/// An answer: status, how long the exchange took, the first bytes of the body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Time from sending to the end of what was read.
    pub latency: Duration,
    /// The first bytes of the body (as many as the request asked to read), lossily as UTF-8.
    pub first_bytes: String,
}

/// A client pinned to the addresses checked at a time.
type Pinned = (Instant, reqwest::Client);

/// The outbound policy and its clients. One per process; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Outbound {
    allow: Vec<IpNet>,
    roots: Vec<reqwest::Certificate>,
    timeout: Duration,
    /// A client per (host, port), pinned to the addresses checked at `Instant`.
    pinned: Mutex<HashMap<(String, u16), Pinned>>,
}

/// The `allow_private` ranges, parsed; a bare address is its own one-address range.
pub fn parse_ranges(list: &[String]) -> Result<Vec<IpNet>, String> {
    list.iter()
        .map(|s| {
            let s = s.trim();
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("outbound.allow_private: {s:?} is not an address range (CIDR)"))
        })
        .collect()
}

/// Whether `ip` is a public unicast address (not loopback, private, link-local, shared (CGNAT),
/// documentation, benchmarking, multicast, broadcast, unspecified or otherwise reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x0064 && s[1] == 0xff9b)
                || s[0] == 0x0100
                || (s[0] == 0x2002))
        }
    }
}

/// An http(s) URL's host and port, refusing anything else and credentials in the URL.
pub fn check_url(raw: &str) -> Result<url::Url, OutboundError> {
    let u = url::Url::parse(raw).map_err(|e| OutboundError::BadUrl(format!("not a URL ({e})")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(OutboundError::BadUrl(format!("the URL must be http or https, not {}", u.scheme())));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(OutboundError::BadUrl("the URL has no host".into()));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(OutboundError::BadUrl("credentials in the URL are refused (they would be shown wherever the URL is); use the webhook secret".into()));
    }
    if u.fragment().is_some() {
        return Err(OutboundError::BadUrl("the URL has a fragment".into()));
    }
    Ok(u)
}

impl Outbound {
    /// The policy from `[outbound]` and `[events].timeout`.
    pub fn new(cfg: &crate::config::OutboundConfig, timeout: Duration) -> Result<Outbound, String> {
        let allow = parse_ranges(&cfg.allow_private)?;
        let mut roots = Vec::new();
        for c in rustls_native_certs::load_native_certs().certs {
            if let Ok(c) = reqwest::Certificate::from_der(c.as_ref()) {
                roots.push(c);
            }
        }
        for path in &cfg.ca_certs {
            let pem = std::fs::read(path).map_err(|e| format!("outbound.ca_certs: cannot read {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| format!("outbound.ca_certs: {}: {e}", path.display()))?;
            roots.extend(certs);
        }
        Ok(Outbound { allow, roots, timeout, pinned: Mutex::new(HashMap::new()) })
    }

    /// Whether `ip` may be connected to: public, or inside an allowed range.
    pub fn allowed(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        is_public(ip) || self.allow.iter().any(|n| n.contains(&ip))
    }

    /// Resolves the URL's host and checks every address it resolves to.
    pub async fn resolve(&self, u: &url::Url) -> Result<Vec<SocketAddr>, OutboundError> {
        let host = u.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
        let port = u.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::time::timeout(self.timeout, tokio::net::lookup_host((host.as_str(), port)))
                .await
                .map_err(|_| OutboundError::Resolve { host: host.clone(), reason: "timed out".into() })?
                .map_err(|e| OutboundError::Resolve { host: host.clone(), reason: e.to_string() })?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(OutboundError::Resolve { host, reason: "no addresses".into() });
        }
        if let Some(bad) = addrs.iter().find(|a| !self.allowed(a.ip())) {
            return Err(OutboundError::Private { host, addr: bad.ip() });
        }
        Ok(addrs)
    }

    /// Checks a URL as an admin gives it: its form and where it resolves to.
    pub async fn check(&self, raw: &str) -> Result<(), OutboundError> {
        let u = check_url(raw)?;
        self.resolve(&u).await.map(|_| ())
    }

    /// A client pinned to the checked addresses of the URL's host (re-resolved after a minute).
    async fn client(&self, u: &url::Url) -> Result<reqwest::Client, OutboundError> {
        let host = u.host_str().unwrap_or_default().to_string();
        let port = u.port_or_known_default().unwrap_or(443);
        let key = (host.clone(), port);
        if let Some((at, c)) = self.pinned.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            if at.elapsed() < PIN_TTL {
                return Ok(c.clone());
            }
        }
        let addrs = self.resolve(u).await?;
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.timeout.min(Duration::from_secs(5)))
            .timeout(self.timeout)
            .pool_idle_timeout(Duration::from_secs(50))
            .tls_built_in_root_certs(false)
            .user_agent(concat!("mdm/", env!("CARGO_PKG_VERSION")));
        for r in &self.roots {
            b = b.add_root_certificate(r.clone());
        }
        if host.parse::<IpAddr>().is_err() {
            b = b.resolve_to_addrs(&host, &addrs);
        }
        let c = b.build().map_err(|e| OutboundError::Transport(format!("cannot build a client: {e}")))?;
        self.pinned.lock().unwrap_or_else(|p| p.into_inner()).insert(key, (Instant::now(), c.clone()));
        Ok(c)
    }

    /// POSTs a JSON `body` with `headers` to `url` under the policy; reads at most
    /// [`ANSWER_BYTES`] of the answer.
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Result<Answer, OutboundError> {
        self.request(Request {
            method: reqwest::Method::POST,
            url,
            headers,
            body,
            content_type: Some("application/json; charset=utf-8"),
            timeout: None,
            read: ANSWER_BYTES,
        })
        .await
    }

    /// Sends `r` under the policy (its timeout, else the policy's); reads at most
    /// [`ANSWER_BYTES`] of the answer.
    pub async fn request(&self, r: Request<'_>) -> Result<Answer, OutboundError> {
        let u = check_url(r.url)?;
        let client = self.client(&u).await?;
        let timeout = r.timeout.unwrap_or(self.timeout);
        let started = Instant::now();
        let mut req = client.request(r.method, u).timeout(timeout);
        if let Some(ct) = r.content_type {
            req = req.header(reqwest::header::CONTENT_TYPE, ct);
        }
        if !r.body.is_empty() {
            req = req.body(r.body);
        }
        for (k, v) in r.headers {
            req = req.header(*k, v);
        }
        let exchange = async {
            let mut resp = req.send().await.map_err(|e| OutboundError::Transport(transport_text(&e)))?;
            let status = resp.status().as_u16();
            let mut first = Vec::new();
            let limit = r.read.clamp(1, MAX_READ);
            while first.len() < limit {
                match resp.chunk().await {
                    Ok(Some(c)) => first.extend_from_slice(&c[..c.len().min(limit - first.len())]),
                    Ok(None) | Err(_) => break,
                }
            }
            Ok(Answer { status, latency: started.elapsed(), first_bytes: String::from_utf8_lossy(&first).into_owned() })
        };
        tokio::time::timeout(timeout, exchange).await.map_err(|_| OutboundError::Transport(format!("no answer within {timeout:?}")))?
    }
}

/// One outbound request.
#[derive(Debug)]
pub struct Request<'a> {
    /// Method.
    pub method: reqwest::Method,
    /// URL (checked against the policy).
    pub url: &'a str,
    /// Extra headers.
    pub headers: &'a [(&'a str, String)],
    /// Body (none when empty).
    pub body: Vec<u8>,
    /// `Content-Type` of the body.
    pub content_type: Option<&'a str>,
    /// The whole exchange's deadline; `None`: the policy's.
    pub timeout: Option<Duration>,
    /// How much of the answer to read ([`ANSWER_BYTES`] for what is only shown; more for an
    /// answer that is parsed, such as a token endpoint's), at most [`MAX_READ`].
    pub read: usize,
}

/// The most of an answer [`Outbound::request`] reads.
pub const MAX_READ: usize = 64 * 1024;

/// A transport error as one line, with its cause (reqwest's own text omits it).
fn transport_text(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass_by_default() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "255.255.255.255",
            "224.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["1.1.1.1", "17.253.144.10", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn allowed_ranges_open_private_space() {
        let cfg = crate::config::OutboundConfig { allow_private: vec!["127.0.0.0/8".into(), "10.20.30.40".into()], ca_certs: vec![] };
        let o = Outbound::new(&cfg, Duration::from_secs(1)).unwrap();
        assert!(o.allowed("127.0.0.1".parse().unwrap()));
        assert!(o.allowed("::ffff:127.0.0.1".parse().unwrap()));
        assert!(o.allowed("10.20.30.40".parse().unwrap()));
        assert!(!o.allowed("10.20.30.41".parse().unwrap()));
        assert!(parse_ranges(&["not a range".into()]).is_err());
    }

    #[test]
    fn urls_are_checked_for_form() {
        assert!(check_url("https://hooks.example.com/mdm").is_ok());
        for bad in ["ftp://x/", "https://user:pw@x/", "not a url", "http://:80/", "http://x/#frag"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_private_url_is_refused_unless_allowed() {
        let o = Outbound::new(&Default::default(), Duration::from_secs(1)).unwrap();
        let e = o.check("http://127.0.0.1:9/hook").await.unwrap_err();
        assert!(matches!(e, OutboundError::Private { .. }), "{e}");
        assert!(e.to_string().contains("outbound.allow_private"));
        let e = o.check("http://[::1]:9/hook").await.unwrap_err();
        assert!(matches!(e, OutboundError::Private { .. }), "{e}");
    }
}
