//! Reading and verifying X.509 certificates with OpenSSL: digests that identify them, names as
//! one line, chain verification, times.

use openssl::x509::X509;

/// Hex SHA-256 of `data`: how certificates (DER) are identified in bindings and issuance
/// records, and how one-time secrets are stored.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(sha256(data))
}

/// SHA-256 of `data`. `ring`, not OpenSSL: OpenSSL 3's one-shot `SHA256()` looks the digest up
/// among its providers on every call, which costs more than hashing a certificate.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

/// Formats an X.509 name as `K=V, K=V` in certificate order; an attribute without a short
/// name shows its OID, an unreadable value `?`.
pub fn name_line(name: &openssl::x509::X509NameRef) -> String {
    name.entries()
        .map(|e| {
            let key = e.object().nid().short_name().map(str::to_owned).unwrap_or_else(|_| e.object().to_string());
            let val = e.data().to_string().map(|v| v.to_string()).unwrap_or_else(|_| "?".into());
            format!("{key}={val}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Verifies that `leaf` chains to a root in `store` (with `chain` as intermediates) and is
/// valid now; `Err` carries OpenSSL's reason.
pub fn verify_chain(store: &openssl::x509::store::X509StoreRef, leaf: &openssl::x509::X509Ref, chain: &[X509]) -> Result<(), String> {
    verify_chain_until(store, leaf, chain).map(|_| ())
}

/// [`verify_chain`], also returning until when the answer holds: the earliest notAfter of the
/// verified chain (leaf, intermediates and the trusted root). The store's roots do not change
/// while it lives, so the same chain verifies the same way until then.
pub fn verify_chain_until(
    store: &openssl::x509::store::X509StoreRef,
    leaf: &openssl::x509::X509Ref,
    chain: &[X509],
) -> Result<Option<chrono::NaiveDateTime>, String> {
    let mut stack = openssl::stack::Stack::new().map_err(|e| e.to_string())?;
    for c in chain {
        stack.push(c.clone()).map_err(|e| e.to_string())?;
    }
    let mut ctx = openssl::x509::X509StoreContext::new().map_err(|e| e.to_string())?;
    let mut reason = String::new();
    let mut until = None;
    let ok = ctx
        .init(store, leaf, &stack, |c| {
            let ok = c.verify_cert()?;
            if ok {
                until = c.chain().and_then(|verified| verified.iter().map(|x| asn1_to_naive(x.not_after())).min().flatten());
            } else {
                reason = c.error().error_string().to_string();
            }
            Ok(ok)
        })
        .map_err(|e| e.to_string())?;
    if ok {
        Ok(until)
    } else {
        Err(reason)
    }
}

/// Converts an ASN.1 time to a naive UTC timestamp.
pub fn asn1_to_naive(t: &openssl::asn1::Asn1TimeRef) -> Option<chrono::NaiveDateTime> {
    let epoch = openssl::asn1::Asn1Time::from_unix(0).ok()?;
    let diff = epoch.diff(t).ok()?;
    let secs = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    chrono::DateTime::from_timestamp(secs, 0).map(|d| d.naive_utc())
}
