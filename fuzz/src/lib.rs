//! What each fuzz target feeds the server's parsers, one function per target, so a crash found
//! by one is replayed by `cargo test` in this crate and by the regression tests beside the code.

use std::sync::OnceLock;

/// Check-in decoding: limits, plist, MessageType and its keys.
pub fn checkin(data: &[u8]) {
    if let Ok(d) = mdm::protocol::parse_dict(data) {
        let _ = mdm::protocol::checkin::parse(&d);
    }
}

/// Command-report decoding.
pub fn report(data: &[u8]) {
    if let Ok(d) = mdm::protocol::parse_dict(data) {
        let _ = mdm::protocol::report::parse(&d);
        let _ = mdm::protocol::report::error_text(&d);
    }
}

/// `Mdm-Signature`: the first line is the header value, the rest the body it signs.
pub fn mdm_signature(data: &[u8]) {
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let header = String::from_utf8_lossy(&data[..split]);
    let body = data.get(split + 1..).unwrap_or(&[]);
    let _ = mdm::identity::source::from_mdm_signature(&header, body);
}

/// The proxy's client-certificate header (RFC 9440, nginx escaped PEM, base64 DER).
pub fn proxy_header(data: &[u8]) {
    let _ = mdm::identity::source::from_proxy_header(&String::from_utf8_lossy(data));
}

/// A SCEP PKIMessage as the server parses it.
pub fn scep_request(data: &[u8]) {
    let _ = scep::PkiMessage::parse(data);
}

/// The fixed identities of the CertRep target (`fixtures/`, written with the seeds): the
/// responder that signs, the client it answers.
struct Fixtures {
    responder: openssl::x509::X509,
    client: openssl::x509::X509,
    client_key: openssl::pkey::PKey<openssl::pkey::Private>,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| Fixtures {
        responder: openssl::x509::X509::from_pem(include_bytes!("../fixtures/responder.pem")).expect("responder"),
        client: openssl::x509::X509::from_pem(include_bytes!("../fixtures/client.pem")).expect("client"),
        client_key: openssl::pkey::PKey::private_key_from_pem(include_bytes!("../fixtures/client.key")).expect("client key"),
    })
}

/// A CertRep as the SCEP client parses it.
pub fn scep_cert_rep(data: &[u8]) {
    let f = fixtures();
    let _ = scep::parse_cert_rep(data, std::slice::from_ref(&f.responder), &f.client, &f.client_key);
}

/// Signed device attributes as the profile service reads them.
pub fn enroll_attributes(data: &[u8]) {
    let _ = mdm::enroll::attributes::read(data);
}

/// A profile upload: the first byte picks JSON (odd) or `.mobileconfig` (even).
pub fn profile_upload(data: &[u8]) {
    let Some((first, rest)) = data.split_first() else { return };
    let _ = mdm::profiles::input::from_bytes(rest, first % 2 == 1);
}

/// AppConfig (JSON) rendered for a device, and a profile variable template expanded.
pub fn templates(data: &[u8]) {
    let lookup = |name: &str| mdm_profiles::vars::is_builtin(name).then(|| format!("<{name}>"));
    if mdm_profiles::limits::check_json(data).is_ok() {
        if let Ok(cfg) = serde_json::from_slice::<mdm::apps::appconfig::AppConfig>(data) {
            let _ = mdm::apps::appconfig::check(&cfg, &|n| mdm_profiles::vars::is_builtin(n));
            let _ = mdm::apps::appconfig::render(&cfg, &lookup);
        }
    }
    let text = String::from_utf8_lossy(data);
    let _ = mdm_profiles::vars::expand(&text, &lookup);
    let _ = mdm_profiles::vars::names_in(&text);
}

#[cfg(test)]
mod tests {
    /// Every checked-in seed and every crash file runs through its target without a panic.
    #[test]
    fn corpora_replay() {
        let targets: [(&str, fn(&[u8])); 9] = [
            ("checkin", super::checkin),
            ("report", super::report),
            ("mdm_signature", super::mdm_signature),
            ("proxy_header", super::proxy_header),
            ("scep_request", super::scep_request),
            ("scep_cert_rep", super::scep_cert_rep),
            ("enroll_attributes", super::enroll_attributes),
            ("profile_upload", super::profile_upload),
            ("templates", super::templates),
        ];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (name, run) in targets {
            for dir in [root.join("corpus").join(name), root.join("artifacts").join(name)] {
                for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    run(&std::fs::read(entry.path()).expect("read"));
                }
            }
        }
    }
}
