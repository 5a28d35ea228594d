//! Minimal DER helpers for the few small SCEP structures OpenSSL has no
//! public type for (IssuerAndSubject, IssuerAndSerialNumber).

use crate::ScepError;

/// Universal tag of SEQUENCE (constructed).
pub(crate) const SEQUENCE: u8 = 0x30;
/// Universal tag of INTEGER.
pub(crate) const INTEGER: u8 = 0x02;

/// One decoded TLV.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    /// The identifier octet (single-byte tags only).
    pub tag: u8,
    /// The content octets.
    pub content: &'a [u8],
    /// The whole encoding (header and content).
    pub raw: &'a [u8],
}

/// Reads one definite-length TLV from the start of `input`; returns it and
/// the rest.
pub(crate) fn read_tlv(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), ScepError> {
    let bad = |why: &str| ScepError::Malformed(format!("DER: {why}"));
    let (&tag, rest) = input.split_first().ok_or_else(|| bad("unexpected end"))?;
    if tag & 0x1f == 0x1f {
        return Err(bad("multi-byte tags are not supported"));
    }
    let (&first, mut rest) = rest.split_first().ok_or_else(|| bad("unexpected end"))?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 {
            return Err(bad("indefinite length is not supported here"));
        }
        if n > 4 || rest.len() < n {
            return Err(bad("bad length"));
        }
        let (bytes, r) = rest.split_at(n);
        rest = r;
        bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    if rest.len() < len {
        return Err(bad("length exceeds input"));
    }
    let header = input.len() - rest.len();
    let (content, rest) = rest.split_at(len);
    let raw = &input[..header + len];
    Ok((Tlv { tag, content, raw }, rest))
}

/// Encodes one TLV with a definite length.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// Encodes a non-negative big-endian magnitude as a DER INTEGER.
pub(crate) fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = {
        let skip = magnitude.iter().take_while(|&&b| b == 0).count();
        &magnitude[skip..]
    };
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv(INTEGER, &content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_round_trip_short_and_long() {
        for n in [0usize, 1, 127, 128, 255, 256, 70000] {
            let content = vec![7u8; n];
            let enc = tlv(SEQUENCE, &content);
            let (t, rest) = read_tlv(&enc).unwrap();
            assert!(rest.is_empty());
            assert_eq!(t.tag, SEQUENCE);
            assert_eq!(t.content.len(), n);
            assert_eq!(t.raw, &enc[..]);
        }
    }

    #[test]
    fn read_tlv_rejects_truncation_and_indefinite() {
        let enc = tlv(SEQUENCE, &[1, 2, 3]);
        for i in 0..enc.len() {
            assert!(read_tlv(&enc[..i]).is_err(), "prefix {i}");
        }
        assert!(read_tlv(&[0x30, 0x80, 0, 0]).is_err());
        assert!(read_tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_err());
    }

    #[test]
    fn integers() {
        assert_eq!(unsigned_integer(&[]), vec![2, 1, 0]);
        assert_eq!(unsigned_integer(&[0, 0, 5]), vec![2, 1, 5]);
        assert_eq!(unsigned_integer(&[0x80]), vec![2, 2, 0, 0x80]);
    }
}
