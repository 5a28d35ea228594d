//! The SAML 2.0 XML the device-trust factor reads and writes: AuthnRequests (HTTP-Redirect
//! and HTTP-POST bindings) read with a bounded, DTD-free parser; Responses with an assertion
//! signed by XML-DSig (enveloped, exclusive canonicalization, RSA-SHA256); IdP metadata.
//!
//! Why the signature is written here rather than with a crate: the Rust crates that sign SAML
//! bind libxml2/xmlsec (a second XML stack and C library in the process) or do not implement
//! exclusive canonicalization. This module never canonicalizes arbitrary XML: it writes the
//! assertion and SignedInfo already in their exclusive-c14n form (attributes in order, every
//! namespace declared where it is first used, no empty-element tags, c14n escaping), so the
//! bytes it digests and signs are exactly what a verifier's canonicalizer produces. The tests
//! check the result with xmlsec1, an independent implementation.

use std::io::Read;

use base64::Engine;
use chrono::NaiveDateTime;
use openssl::pkey::{PKeyRef, Private};

/// SAML assertion namespace.
pub const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML protocol namespace.
pub const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// SAML metadata namespace.
pub const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// HTTP-Redirect binding.
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// HTTP-POST binding.
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// NameID format: e-mail address.
pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// NameID format: unspecified.
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

/// Largest SAMLRequest accepted, encoded.
pub const MAX_REQUEST: usize = 16 * 1024;
/// Largest AuthnRequest accepted, inflated.
const MAX_INFLATED: u64 = 64 * 1024;

/// Text content escaped as canonical XML writes it.
pub fn text(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\r' => o.push_str("&#xD;"),
            c => o.push(c),
        }
    }
    o
}

/// An attribute value escaped as canonical XML writes it.
pub fn attr(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '"' => o.push_str("&quot;"),
            '\t' => o.push_str("&#x9;"),
            '\n' => o.push_str("&#xA;"),
            '\r' => o.push_str("&#xD;"),
            c => o.push(c),
        }
    }
    o
}

/// A time as SAML writes it (UTC, seconds).
pub fn instant(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A fresh XML ID (`_` and 32 hex digits).
pub fn new_id() -> String {
    let mut raw = [0u8; 16];
    let _ = openssl::rand::rand_bytes(&mut raw);
    format!("_{}", hex::encode(raw))
}

/// What an AuthnRequest asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    /// Its ID (answered in InResponseTo).
    pub id: String,
    /// The service provider's entity ID.
    pub issuer: String,
    /// Where it wants the answer, if it says.
    pub acs_url: Option<String>,
}

/// Decodes a SAMLRequest of the HTTP-Redirect binding (base64 of raw DEFLATE).
pub fn decode_redirect(v: &str) -> Result<String, String> {
    let raw = decode_b64(v)?;
    let mut out = String::new();
    flate2::read::DeflateDecoder::new(raw.as_slice())
        .take(MAX_INFLATED)
        .read_to_string(&mut out)
        .map_err(|e| format!("SAMLRequest does not inflate to UTF-8 text: {e}"))?;
    Ok(out)
}

/// Decodes a SAMLRequest of the HTTP-POST binding (base64).
pub fn decode_post(v: &str) -> Result<String, String> {
    String::from_utf8(decode_b64(v)?).map_err(|_| "SAMLRequest is not UTF-8".into())
}

fn decode_b64(v: &str) -> Result<Vec<u8>, String> {
    if v.len() > MAX_REQUEST {
        return Err(format!("SAMLRequest is longer than {MAX_REQUEST} bytes"));
    }
    let clean: String = v.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(clean).map_err(|_| "SAMLRequest is not base64".to_string())
}

/// Reads an AuthnRequest: its ID, Issuer and AssertionConsumerServiceURL. A document type
/// declaration, an entity other than XML's five, or any other root is refused.
pub fn parse_authn_request(xml: &str) -> Result<AuthnRequest, String> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let (mut id, mut acs, mut issuer) = (None, None, None);
    let mut depth = 0usize;
    let mut in_issuer = false;
    let mut issuer_text = String::new();
    loop {
        let ev = r.read_event().map_err(|e| format!("AuthnRequest is not well-formed XML: {e}"))?;
        match ev {
            Event::DocType(_) => return Err("AuthnRequest: a document type declaration is not accepted".into()),
            Event::Start(e) | Event::Empty(e) if depth == 0 => {
                if e.local_name().as_ref() != "AuthnRequest" {
                    return Err("not an AuthnRequest".into());
                }
                for a in e.attributes() {
                    let a = a.map_err(|e| format!("AuthnRequest attribute: {e}"))?;
                    let v = a.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(|e| format!("AuthnRequest attribute: {e}"))?.to_string();
                    match a.key.local_name().as_ref() {
                        "ID" => id = Some(v),
                        "AssertionConsumerServiceURL" => acs = Some(v),
                        _ => {}
                    }
                }
                depth = 1;
            }
            Event::Start(e) => {
                depth += 1;
                if depth == 2 && e.local_name().as_ref() == "Issuer" {
                    in_issuer = true;
                }
                if depth > 32 {
                    return Err("AuthnRequest is nested too deeply".into());
                }
            }
            Event::End(_) => {
                if in_issuer && depth == 2 {
                    issuer = Some(issuer_text.trim().to_string());
                    in_issuer = false;
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            Event::Text(t) if in_issuer => issuer_text.push_str(&t.into_inner()),
            Event::GeneralRef(g) if in_issuer => {
                let c = match g.into_inner().as_ref() {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    other => return Err(format!("AuthnRequest: entity &{other}; is not accepted")),
                };
                issuer_text.push(c);
            }
            Event::GeneralRef(_) => return Err("AuthnRequest: entities are not accepted".into()),
            Event::Eof => return Err("AuthnRequest ends early".into()),
            _ => {}
        }
    }
    let id = id.filter(|i| !i.is_empty() && i.len() <= 256).ok_or("AuthnRequest has no ID")?;
    let issuer = issuer.filter(|i| !i.is_empty() && i.len() <= 1024).ok_or("AuthnRequest has no Issuer")?;
    Ok(AuthnRequest { id, issuer, acs_url: acs })
}

/// What the assertion says.
#[derive(Debug, Clone)]
pub struct AssertionFields {
    /// The IdP's entity ID.
    pub issuer: String,
    /// The SP's entity ID (the audience).
    pub audience: String,
    /// Where the answer goes.
    pub acs_url: String,
    /// The AuthnRequest's ID.
    pub in_response_to: String,
    /// NameID and its format.
    pub name_id: (String, &'static str),
    /// Attributes (name, value).
    pub attributes: Vec<(String, String)>,
    /// Now.
    pub now: NaiveDateTime,
    /// How long the assertion is good for.
    pub lifetime: chrono::Duration,
}

/// The assertion in canonical form, without a signature, and its ID.
fn assertion(f: &AssertionFields) -> (String, String) {
    let id = new_id();
    let now = instant(&f.now);
    let exp = instant(&(f.now + f.lifetime));
    let nb = instant(&(f.now - chrono::Duration::minutes(1)));
    let attrs: String = f
        .attributes
        .iter()
        .map(|(n, v)| {
            format!(
                "<saml:Attribute Name=\"{}\" NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:basic\"><saml:AttributeValue>{}</saml:AttributeValue></saml:Attribute>",
                attr(n),
                text(v)
            )
        })
        .collect();
    let xml = format!(
        concat!(
            "<saml:Assertion xmlns:saml=\"{ns}\" ID=\"{id}\" IssueInstant=\"{now}\" Version=\"2.0\">",
            "<saml:Issuer>{issuer}</saml:Issuer>",
            "<saml:Subject><saml:NameID Format=\"{fmt}\">{name}</saml:NameID>",
            "<saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">",
            "<saml:SubjectConfirmationData InResponseTo=\"{irt}\" NotOnOrAfter=\"{exp}\" Recipient=\"{acs}\"></saml:SubjectConfirmationData>",
            "</saml:SubjectConfirmation></saml:Subject>",
            "<saml:Conditions NotBefore=\"{nb}\" NotOnOrAfter=\"{exp}\"><saml:AudienceRestriction><saml:Audience>{aud}</saml:Audience></saml:AudienceRestriction></saml:Conditions>",
            "<saml:AuthnStatement AuthnInstant=\"{now}\" SessionIndex=\"{id}\"><saml:AuthnContext>",
            "<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:X509</saml:AuthnContextClassRef>",
            "</saml:AuthnContext></saml:AuthnStatement>",
            "<saml:AttributeStatement>{attrs}</saml:AttributeStatement>",
            "</saml:Assertion>"
        ),
        ns = NS_ASSERTION,
        id = id,
        now = now,
        issuer = text(&f.issuer),
        fmt = f.name_id.1,
        name = text(&f.name_id.0),
        irt = attr(&f.in_response_to),
        exp = exp,
        acs = attr(&f.acs_url),
        nb = nb,
        aud = text(&f.audience),
        attrs = attrs,
    );
    (xml, id)
}

/// SignedInfo for a reference to `#id` with `digest`; `declare` adds the `ds` namespace (the
/// canonical form, which is what is signed).
fn signed_info(id: &str, digest: &str, declare: bool) -> String {
    let ns = if declare { format!(" xmlns:ds=\"{NS_DSIG}\"") } else { String::new() };
    format!(
        concat!(
            "<ds:SignedInfo{ns}><ds:CanonicalizationMethod Algorithm=\"{c14n}\"></ds:CanonicalizationMethod>",
            "<ds:SignatureMethod Algorithm=\"{rsa}\"></ds:SignatureMethod>",
            "<ds:Reference URI=\"#{id}\"><ds:Transforms><ds:Transform Algorithm=\"{env}\"></ds:Transform>",
            "<ds:Transform Algorithm=\"{c14n}\"></ds:Transform></ds:Transforms>",
            "<ds:DigestMethod Algorithm=\"{sha}\"></ds:DigestMethod><ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>"
        ),
        ns = ns,
        c14n = EXC_C14N,
        rsa = RSA_SHA256,
        id = id,
        env = ENVELOPED,
        sha = SHA256,
        digest = digest,
    )
}

/// Signs an assertion (enveloped signature after its Issuer) with `key`; `cert_der` goes in
/// KeyInfo.
fn sign(assertion: &str, id: &str, key: &PKeyRef<Private>, cert_der: &[u8]) -> Result<String, String> {
    let b64 = &base64::engine::general_purpose::STANDARD;
    let digest = b64.encode(openssl::sha::sha256(assertion.as_bytes()));
    let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), key).map_err(|e| e.to_string())?;
    signer.update(signed_info(id, &digest, true).as_bytes()).map_err(|e| e.to_string())?;
    let value = b64.encode(signer.sign_to_vec().map_err(|e| e.to_string())?);
    let signature = format!(
        "<ds:Signature xmlns:ds=\"{NS_DSIG}\">{}<ds:SignatureValue>{value}</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>",
        signed_info(id, &digest, false),
        b64.encode(cert_der)
    );
    let at = assertion.find("</saml:Issuer>").ok_or("assertion without Issuer")? + "</saml:Issuer>".len();
    Ok(format!("{}{signature}{}", &assertion[..at], &assertion[at..]))
}

/// A Response carrying the signed assertion.
pub fn signed_response(f: &AssertionFields, key: &PKeyRef<Private>, cert_der: &[u8]) -> Result<String, String> {
    let (a, id) = assertion(f);
    let signed = sign(&a, &id, key, cert_der)?;
    Ok(format!(
        "<samlp:Response xmlns:samlp=\"{NS_PROTOCOL}\" xmlns:saml=\"{NS_ASSERTION}\" Destination=\"{}\" ID=\"{}\" InResponseTo=\"{}\" IssueInstant=\"{}\" Version=\"2.0\"><saml:Issuer>{}</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"></samlp:StatusCode></samlp:Status>{signed}</samlp:Response>",
        attr(&f.acs_url),
        new_id(),
        attr(&f.in_response_to),
        instant(&f.now),
        text(&f.issuer),
    ))
}

/// The IdP metadata: entity ID, the SSO endpoint in both bindings, every published signing
/// certificate (a new one is listed before it signs, so SPs roll over without an outage).
pub fn metadata(entity_id: &str, sso_url: &str, certs_der: &[Vec<u8>]) -> String {
    let b64 = &base64::engine::general_purpose::STANDARD;
    let keys: String = certs_der
        .iter()
        .map(|c| format!("<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>", b64.encode(c)))
        .collect();
    format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<md:EntityDescriptor xmlns:md=\"{md}\" xmlns:ds=\"{ds}\" entityID=\"{eid}\">",
            "<md:IDPSSODescriptor WantAuthnRequestsSigned=\"false\" protocolSupportEnumeration=\"{proto}\">{keys}",
            "<md:NameIDFormat>{email}</md:NameIDFormat><md:NameIDFormat>{unspec}</md:NameIDFormat>",
            "<md:SingleSignOnService Binding=\"{redirect}\" Location=\"{sso}\"/>",
            "<md:SingleSignOnService Binding=\"{post}\" Location=\"{sso}\"/>",
            "</md:IDPSSODescriptor></md:EntityDescriptor>"
        ),
        md = NS_METADATA,
        ds = NS_DSIG,
        eid = attr(entity_id),
        proto = NS_PROTOCOL,
        keys = keys,
        email = NAMEID_EMAIL,
        unspec = NAMEID_UNSPECIFIED,
        redirect = BINDING_REDIRECT,
        post = BINDING_POST,
        sso = attr(sso_url),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deflate(s: &str) -> String {
        use std::io::Write;
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(s.as_bytes()).unwrap();
        base64::engine::general_purpose::STANDARD.encode(e.finish().unwrap())
    }

    #[test]
    fn reads_authn_requests_of_both_bindings() {
        let xml = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="id-123" Version="2.0" AssertionConsumerServiceURL="https://sp.example/acs"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://sp.example/meta?a=1&amp;b=2</saml:Issuer></samlp:AuthnRequest>"#;
        let want = AuthnRequest { id: "id-123".into(), issuer: "https://sp.example/meta?a=1&b=2".into(), acs_url: Some("https://sp.example/acs".into()) };
        assert_eq!(parse_authn_request(&decode_redirect(&deflate(xml)).unwrap()).unwrap(), want);
        let b64 = base64::engine::general_purpose::STANDARD.encode(xml);
        assert_eq!(parse_authn_request(&decode_post(&b64).unwrap()).unwrap(), want);
        for (bad, why) in [
            ("<!DOCTYPE x [<!ENTITY e \"x\">]><samlp:AuthnRequest ID=\"a\"/>", "document type"),
            ("<samlp:LogoutRequest ID=\"a\"/>", "not an AuthnRequest"),
            ("<samlp:AuthnRequest ID=\"a\"><saml:Issuer>&e;</saml:Issuer></samlp:AuthnRequest>", "entity"),
            ("<samlp:AuthnRequest><saml:Issuer>x</saml:Issuer></samlp:AuthnRequest>", "no ID"),
            ("<samlp:AuthnRequest ID=\"a\">", "ends early"),
        ] {
            let e = parse_authn_request(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(decode_redirect("!!!").is_err());
        assert!(decode_post(&"A".repeat(MAX_REQUEST + 4)).unwrap_err().contains("longer"));
    }

    #[test]
    fn canonical_escaping() {
        assert_eq!(text("a<b>&c\r"), "a&lt;b&gt;&amp;c&#xD;");
        assert_eq!(attr("\"a\"\t\n<&"), "&quot;a&quot;&#x9;&#xA;&lt;&amp;");
    }
}
