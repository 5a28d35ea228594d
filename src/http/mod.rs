//! HTTP edge for devices and people: the TLS/plain listeners (which put the mTLS peer
//! certificate into each request), the thin handlers for the check-in and command endpoints, and
//! the enrollment page and profile service.

pub(crate) mod body_limit;
pub(crate) mod device;
pub(crate) mod enroll;
pub mod listener;
pub(crate) mod request_id;
pub(crate) mod saml;
pub(crate) mod uri_guard;

/// The client's address: the last entry of the configured header (what the proxy in front
/// appended; earlier entries come from the client and can be anything), else the connection's
/// peer.
pub fn client_address(header: Option<&axum::http::HeaderName>, peer: Option<std::net::SocketAddr>, headers: &axum::http::HeaderMap) -> std::net::IpAddr {
    let forwarded = header
        .and_then(|h| headers.get_all(h).iter().next_back())
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse().ok());
    forwarded.or_else(|| peer.map(|p| p.ip())).unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]))
}
