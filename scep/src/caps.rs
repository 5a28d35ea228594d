//! GetCACaps: parsing a server's capability list and the list we advertise.

/// The capabilities a SCEP server advertises in its GetCACaps answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caps {
    /// `POSTPKIOperation`: PKIOperation may be sent as an HTTP POST.
    pub post_pki_operation: bool,
    /// `SHA-256` is supported as the signing digest.
    pub sha256: bool,
    /// `SHA-1` is supported as the signing digest.
    pub sha1: bool,
    /// `AES` content encryption is supported.
    pub aes: bool,
    /// `DES3` (DES-EDE3-CBC) content encryption is supported.
    pub des3: bool,
    /// `Renewal`: RenewalReq is supported.
    pub renewal: bool,
    /// `SCEPStandard`: the server follows RFC 8894 (implies AES, SHA-256 and
    /// POSTPKIOperation).
    pub scep_standard: bool,
    /// Every non-empty line as sent, trimmed.
    pub raw: Vec<String>,
}

impl Caps {
    /// Parses a GetCACaps body: one keyword per line, case-insensitive,
    /// unknown keywords kept only in [`Caps::raw`].
    pub fn parse(text: &str) -> Caps {
        let mut caps = Caps::default();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match line.to_ascii_lowercase().as_str() {
                "postpkioperation" => caps.post_pki_operation = true,
                "sha-256" => caps.sha256 = true,
                "sha-1" => caps.sha1 = true,
                "aes" => caps.aes = true,
                "des3" => caps.des3 = true,
                "renewal" => caps.renewal = true,
                "scepstandard" => caps.scep_standard = true,
                _ => {}
            }
            caps.raw.push(line.to_owned());
        }
        caps
    }

    /// Whether SHA-256 may be used (advertised directly or via SCEPStandard).
    pub fn supports_sha256(&self) -> bool {
        self.sha256 || self.scep_standard
    }

    /// Whether AES may be used (advertised directly or via SCEPStandard).
    pub fn supports_aes(&self) -> bool {
        self.aes || self.scep_standard
    }

    /// The content cipher and signing digest a client should use: AES-256-CBC
    /// when AES is supported, else DES-EDE3-CBC; SHA-256 when supported, else
    /// SHA-1.
    pub fn algorithms(&self) -> (openssl::symm::Cipher, openssl::hash::MessageDigest) {
        let cipher = if self.supports_aes() { openssl::symm::Cipher::aes_256_cbc() } else { openssl::symm::Cipher::des_ede3_cbc() };
        let digest = if self.supports_sha256() { openssl::hash::MessageDigest::sha256() } else { openssl::hash::MessageDigest::sha1() };
        (cipher, digest)
    }

    /// Whether PKIOperation may be POSTed (advertised directly or via
    /// SCEPStandard).
    pub fn supports_post(&self) -> bool {
        self.post_pki_operation || self.scep_standard
    }
}

/// The GetCACaps body a server built on this crate advertises; the
/// `Renewal` line only when `renewal` is enabled.
pub fn server_caps(renewal: bool) -> &'static str {
    if renewal {
        "POSTPKIOperation\nSHA-256\nSHA-1\nAES\nDES3\nRenewal\nSCEPStandard\n"
    } else {
        "POSTPKIOperation\nSHA-256\nSHA-1\nAES\nDES3\nSCEPStandard\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scepserver_caps() {
        let c = Caps::parse("Renewal\nSHA-1\nSHA-256\nAES\nDES3\nSCEPStandard\nPOSTPKIOperation");
        assert!(c.renewal && c.sha1 && c.sha256 && c.aes && c.des3 && c.scep_standard);
        assert!(c.post_pki_operation);
        assert_eq!(c.raw.len(), 7);
    }

    #[test]
    fn parses_case_insensitively_and_crlf() {
        let c = Caps::parse("postpkioperation\r\nsha-256\r\n\r\nGetNextCACert\r\n");
        assert!(c.post_pki_operation && c.sha256);
        assert!(!c.sha1 && !c.aes && !c.des3 && !c.renewal && !c.scep_standard);
        assert_eq!(c.raw, vec!["postpkioperation", "sha-256", "GetNextCACert"]);
    }

    #[test]
    fn scep_standard_implies() {
        let c = Caps::parse("SCEPStandard\n");
        assert!(c.supports_aes() && c.supports_sha256() && c.supports_post());
        let c = Caps::parse("DES3\nSHA-1\n");
        assert!(!c.supports_aes() && !c.supports_sha256() && !c.supports_post());
    }

    #[test]
    fn server_caps_round_trip() {
        let on = Caps::parse(server_caps(true));
        assert!(on.renewal && on.post_pki_operation && on.sha256 && on.sha1);
        assert!(on.aes && on.des3 && on.scep_standard);
        let off = Caps::parse(server_caps(false));
        assert!(!off.renewal && off.post_pki_operation && off.scep_standard);
        assert_eq!(server_caps(true), "POSTPKIOperation\nSHA-256\nSHA-1\nAES\nDES3\nRenewal\nSCEPStandard\n");
    }
}
