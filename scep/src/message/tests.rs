use super::*;
use openssl::rsa::Rsa;
use openssl::x509::X509Name;

fn key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
}

/// A request-like message with arbitrary attributes, signed by a fresh
/// self-signed certificate and carrying a real envelope for `recipient`.
fn custom(attrs: &[(c_int, AttrKind, &[u8])], detached: bool) -> Vec<u8> {
    let k = key();
    let mut n = X509Name::builder().unwrap();
    n.append_entry_by_text("CN", "x").unwrap();
    let n = n.build();
    let cert = crate::self_signed_for(&k, &n).unwrap();
    let env = encrypt_to(&cert, b"content", Cipher::aes_128_cbc()).unwrap();
    let content = if detached { None } else { Some(&env[..]) };
    ffi::sign_with_attributes(&cert, &k, MessageDigest::sha256(), content, attrs).unwrap().to_der().unwrap()
}

#[test]
fn unknown_and_missing_attributes() {
    let n = ffi::scep_nids().unwrap();
    let nonce = [1u8; 16];
    let ok = custom(
        &[(n.message_type, AttrKind::Printable, b"19"), (n.transaction_id, AttrKind::Printable, b"tx"), (n.sender_nonce, AttrKind::Octets, &nonce)],
        false,
    );
    let m = PkiMessage::parse(&ok).unwrap();
    assert_eq!(m.message_type, MessageType::PkcsReq);
    assert_eq!(m.transaction_id, "tx");
    assert_eq!(m.sender_nonce, nonce);

    let unknown = custom(
        &[(n.message_type, AttrKind::Printable, b"99"), (n.transaction_id, AttrKind::Printable, b"tx"), (n.sender_nonce, AttrKind::Octets, &nonce)],
        false,
    );
    match PkiMessage::parse(&unknown) {
        Err(ScepError::UnknownMessageType(s)) => assert_eq!(s, "99"),
        other => panic!("unexpected {other:?}"),
    }
    let not_a_number = custom(
        &[(n.message_type, AttrKind::Printable, b"PKCSReq"), (n.transaction_id, AttrKind::Printable, b"tx"), (n.sender_nonce, AttrKind::Octets, &nonce)],
        false,
    );
    assert!(matches!(PkiMessage::parse(&not_a_number), Err(ScepError::UnknownMessageType(_))));
    let no_type = custom(&[(n.transaction_id, AttrKind::Printable, b"tx"), (n.sender_nonce, AttrKind::Octets, &nonce)], false);
    assert!(matches!(PkiMessage::parse(&no_type), Err(ScepError::MissingAttribute("messageType"))));
    let no_tx = custom(&[(n.message_type, AttrKind::Printable, b"19"), (n.sender_nonce, AttrKind::Octets, &nonce)], false);
    assert!(matches!(PkiMessage::parse(&no_tx), Err(ScepError::MissingAttribute("transactionID"))));
    let no_nonce = custom(&[(n.message_type, AttrKind::Printable, b"19"), (n.transaction_id, AttrKind::Printable, b"tx")], false);
    assert!(matches!(PkiMessage::parse(&no_nonce), Err(ScepError::MissingAttribute("senderNonce"))));
    // Wrong ASN.1 types.
    let nonce_as_text = custom(
        &[(n.message_type, AttrKind::Printable, b"19"), (n.transaction_id, AttrKind::Printable, b"tx"), (n.sender_nonce, AttrKind::Printable, b"abc")],
        false,
    );
    assert!(matches!(PkiMessage::parse(&nonce_as_text), Err(ScepError::InvalidAttribute { name: "senderNonce", .. })));
    let type_as_octets =
        custom(&[(n.message_type, AttrKind::Octets, b"19"), (n.transaction_id, AttrKind::Printable, b"tx"), (n.sender_nonce, AttrKind::Octets, &nonce)], false);
    assert!(matches!(PkiMessage::parse(&type_as_octets), Err(ScepError::InvalidAttribute { name: "messageType", .. })));
    // Detached (no content): parses, but there is nothing to decrypt.
    let detached = custom(
        &[(n.message_type, AttrKind::Printable, b"20"), (n.transaction_id, AttrKind::Printable, b"tx"), (n.sender_nonce, AttrKind::Octets, &nonce)],
        true,
    );
    let m = PkiMessage::parse(&detached).unwrap();
    assert!(m.encrypted_content.is_empty());
}

#[test]
fn cert_rep_with_unknown_status_or_fail_info() {
    let n = ffi::scep_nids().unwrap();
    let k = key();
    let mut name = X509Name::builder().unwrap();
    name.append_entry_by_text("CN", "ca").unwrap();
    let name = name.build();
    let ca = crate::self_signed_for(&k, &name).unwrap();
    let nonce = [2u8; 16];
    let rep = |status: &'static [u8], fail: Option<&'static [u8]>| {
        let mut attrs: Vec<(c_int, AttrKind, &[u8])> = vec![
            (n.message_type, AttrKind::Printable, b"3"),
            (n.transaction_id, AttrKind::Printable, b"tx"),
            (n.pki_status, AttrKind::Printable, status),
            (n.recipient_nonce, AttrKind::Octets, &nonce),
        ];
        if let Some(f) = fail {
            attrs.push((n.fail_info, AttrKind::Printable, f));
        }
        ffi::sign_with_attributes(&ca, &k, MessageDigest::sha1(), None, &attrs).unwrap().to_der().unwrap()
    };
    let trusted = [ca.clone()];
    let r = parse_cert_rep(&rep(b"2", Some(b"4")), &trusted, &ca, &k).unwrap();
    assert_eq!((r.status, r.fail_info), (PkiStatus::Failure, Some(FailInfo::BadCertId)));
    let r = parse_cert_rep(&rep(b"2", None), &trusted, &ca, &k).unwrap();
    assert_eq!((r.status, r.fail_info), (PkiStatus::Failure, None));
    assert!(matches!(parse_cert_rep(&rep(b"1", None), &trusted, &ca, &k), Err(ScepError::InvalidAttribute { name: "pkiStatus", .. })));
    assert!(matches!(parse_cert_rep(&rep(b"2", Some(b"9")), &trusted, &ca, &k), Err(ScepError::InvalidAttribute { name: "failInfo", .. })));
    // SUCCESS without content cannot be decrypted.
    assert!(matches!(parse_cert_rep(&rep(b"0", None), &trusted, &ca, &k), Err(ScepError::InvalidContent(_))));
}

#[test]
fn issuer_and_subject_rejects_trailing_and_wrong_shapes() {
    let mut a = X509Name::builder().unwrap();
    a.append_entry_by_text("CN", "a").unwrap();
    let a = a.build();
    let good = encode_issuer_and_subject(&a, &a).unwrap();
    assert!(issuer_and_subject(&good).is_ok());
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(issuer_and_subject(&trailing).is_err());
    let one = der::tlv(der::SEQUENCE, &a.to_der().unwrap());
    assert!(issuer_and_subject(&one).is_err());
    for n in 0..good.len() {
        assert!(issuer_and_subject(&good[..n]).is_err());
    }
}
