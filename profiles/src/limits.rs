//! Limits for every document read from outside: plists (XML or binary) and JSON. They are checked
//! while the tree is built, before anything deeper than the limit exists, so no input can
//! overflow the stack (dropping or cloning a `plist::Value` recurses) or make the parser allocate
//! without bound (a binary plist can reference one object from many places).
//!
//! The `plist` crate builds its tree without recursion but offers no limits, and its event stream
//! is not public; this module drives its serde deserializer with a visitor that counts depth,
//! elements and bytes as it goes. JSON is scanned once for depth and element count before
//! `serde_json` sees it (its own recursion limit, 128, would otherwise give a message that
//! names no limit).

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::cell::Cell;
use std::fmt;

/// The limits a document must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most nested arrays/dictionaries (the top level counts as 1).
    pub max_depth: usize,
    /// Most values in all (every key, value and collection counts).
    pub max_elements: usize,
    /// Longest single string or data value, in bytes.
    pub max_string_bytes: usize,
    /// Most string and data bytes in all (a binary plist may repeat one by reference).
    pub max_total_bytes: usize,
}

impl Limits {
    /// The limits used for every device message, admin upload and stored document. Apple's
    /// devices nest their reports less than 15 deep and send far fewer than 250,000 values
    /// (a ProfileList of a heavily managed device has a few thousand).
    pub const DEFAULT: Limits = Limits { max_depth: 64, max_elements: 250_000, max_string_bytes: 16 << 20, max_total_bytes: 64 << 20 };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// Nested deeper than `max_depth`.
    #[error("nested deeper than {0} levels (limit max_depth)")]
    Depth(usize),
    /// More than `max_elements` values.
    #[error("more than {0} values (limit max_elements)")]
    Elements(usize),
    /// A string or data value longer than `max_string_bytes`.
    #[error("a string or data value is longer than {0} bytes (limit max_string_bytes)")]
    StringLength(usize),
    /// More than `max_total_bytes` of strings and data.
    #[error("more than {0} bytes of strings and data (limit max_total_bytes)")]
    TotalBytes(usize),
    /// A string with a NUL character (no Apple document has one; PostgreSQL cannot store it).
    #[error("a string contains a NUL character")]
    Nul,
    /// Not a well-formed document.
    #[error("{0}")]
    Malformed(String),
}

/// Parses a plist (XML or binary) within `Limits::DEFAULT`.
pub fn parse_plist(bytes: &[u8]) -> Result<plist::Value, LimitError> {
    parse_plist_with(bytes, &Limits::DEFAULT)
}

/// Parses a plist (XML or binary) within `limits`.
pub fn parse_plist_with(bytes: &[u8], limits: &Limits) -> Result<plist::Value, LimitError> {
    // `plist::from_reader` wants a `DeserializeOwned` type, which cannot carry arguments: the
    // limits go in, and the limit that stopped the parse comes out, through this thread's slots
    // (the deserializer runs synchronously on the calling thread).
    let previous = LIMITS.with(|l| l.replace(*limits));
    EXCEEDED.with(|e| e.set(None));
    let result = plist::from_reader::<_, Limited>(std::io::Cursor::new(bytes));
    LIMITS.with(|l| l.set(previous));
    match (result, EXCEEDED.with(|e| e.take())) {
        (_, Some(limit)) => Err(limit),
        (Ok(Limited(v)), None) => Ok(v),
        (Err(e), None) => Err(LimitError::Malformed(e.to_string())),
    }
}

thread_local! {
    static LIMITS: Cell<Limits> = const { Cell::new(Limits::DEFAULT) };
    static EXCEEDED: Cell<Option<LimitError>> = const { Cell::new(None) };
}

/// The name under which `plist`'s deserializer hands dates and UIDs over as enum variants, the
/// way it does for `plist::Value` (part of its serde representation).
const VALUE_NEWTYPE: &str = "PLIST-VALUE";
const DATE_VARIANT: &str = "PLIST-DATE";
const UID_VARIANT: &str = "PLIST-UID";

/// A `plist::Value` read within the limits.
struct Limited(plist::Value);

struct Budget {
    limits: Limits,
    elements: Cell<usize>,
    bytes: Cell<usize>,
}

impl Budget {
    fn fail<E: de::Error>(&self, limit: LimitError) -> E {
        let message = limit.to_string();
        EXCEEDED.with(|e| e.set(Some(limit)));
        E::custom(message)
    }

    fn element<E: de::Error>(&self) -> Result<(), E> {
        let n = self.elements.get() + 1;
        self.elements.set(n);
        if n > self.limits.max_elements {
            return Err(self.fail(LimitError::Elements(self.limits.max_elements)));
        }
        Ok(())
    }

    fn string<E: de::Error>(&self, s: &str) -> Result<(), E> {
        self.element()?;
        self.bytes(s.len())?;
        if s.contains('\0') {
            return Err(self.fail(LimitError::Nul));
        }
        Ok(())
    }

    fn bytes<E: de::Error>(&self, len: usize) -> Result<(), E> {
        if len > self.limits.max_string_bytes {
            return Err(self.fail(LimitError::StringLength(self.limits.max_string_bytes)));
        }
        let total = self.bytes.get().saturating_add(len);
        self.bytes.set(total);
        if total > self.limits.max_total_bytes {
            return Err(self.fail(LimitError::TotalBytes(self.limits.max_total_bytes)));
        }
        Ok(())
    }
}

impl<'de> de::Deserialize<'de> for Limited {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let budget = Budget { limits: LIMITS.with(|l| l.get()), elements: Cell::new(0), bytes: Cell::new(0) };
        deserializer.deserialize_newtype_struct(VALUE_NEWTYPE, Node { budget: &budget, depth: 0 }).map(Limited)
    }
}

/// One value at `depth` (0 = the top level, which is not a collection yet).
#[derive(Clone, Copy)]
struct Node<'b> {
    budget: &'b Budget,
    depth: usize,
}

impl Node<'_> {
    fn child<E: de::Error>(self) -> Result<Self, E> {
        let depth = self.depth + 1;
        if depth > self.budget.limits.max_depth {
            return Err(self.budget.fail(LimitError::Depth(self.budget.limits.max_depth)));
        }
        Ok(Node { budget: self.budget, depth })
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = plist::Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<plist::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = plist::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a plist value")
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<plist::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<plist::Value, E> {
        self.budget.element()?;
        Ok(plist::Value::Boolean(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<plist::Value, E> {
        self.budget.element()?;
        Ok(plist::Value::Integer(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<plist::Value, E> {
        self.budget.element()?;
        Ok(plist::Value::Integer(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<plist::Value, E> {
        self.budget.element()?;
        Ok(plist::Value::Real(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<plist::Value, E> {
        self.budget.string(v)?;
        Ok(plist::Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<plist::Value, E> {
        self.budget.string(&v)?;
        Ok(plist::Value::String(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<plist::Value, E> {
        self.budget.element()?;
        self.budget.bytes(v.len())?;
        Ok(plist::Value::Data(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<plist::Value, E> {
        self.budget.element()?;
        self.budget.bytes(v.len())?;
        Ok(plist::Value::Data(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<plist::Value, A::Error> {
        self.budget.element()?;
        let child = self.child()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(child)? {
            out.push(v);
        }
        Ok(plist::Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<plist::Value, A::Error> {
        self.budget.element()?;
        let child = self.child()?;
        let mut out = plist::Dictionary::new();
        while let Some(key) = map.next_key_seed(Key(self.budget))? {
            let value = map.next_value_seed(child)?;
            out.insert(key, value);
        }
        Ok(plist::Value::Dictionary(out))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<plist::Value, A::Error> {
        use de::VariantAccess;
        self.budget.element()?;
        let (name, variant) = data.variant::<String>()?;
        match name.as_str() {
            DATE_VARIANT => Ok(plist::Value::Date(variant.newtype_variant()?)),
            UID_VARIANT => Ok(plist::Value::Uid(variant.newtype_variant()?)),
            _ => Err(de::Error::unknown_variant(&name, &[DATE_VARIANT, UID_VARIANT])),
        }
    }
}

/// A dictionary key: a string that counts against the budget.
struct Key<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        let s = String::deserialize(deserializer)?;
        self.0.string(&s)?;
        Ok(s)
    }
}

/// Checks a JSON document against `Limits::DEFAULT` without building it: depth and element
/// count (string lengths are bounded by the body size). Syntax is left to the JSON parser.
pub fn check_json(bytes: &[u8]) -> Result<(), LimitError> {
    check_json_with(bytes, &Limits::DEFAULT)
}

/// [`check_json`] with other limits.
pub fn check_json_with(bytes: &[u8], limits: &Limits) -> Result<(), LimitError> {
    let mut depth = 0usize;
    let mut elements = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    // A value starts at each of these outside strings: an opening bracket, a quote, or the first
    // byte of a number/literal after a separator. Counting openings, strings and separators
    // bounds the count from above closely enough.
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, b'u') if bytes.get(i + 1..i + 5) == Some(b"0000") => return Err(LimitError::Nul),
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'[' | b'{' => {
                depth += 1;
                elements += 1;
                if depth > limits.max_depth {
                    return Err(LimitError::Depth(limits.max_depth));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' => {
                in_string = true;
                elements += 1;
            }
            b',' => elements += 1,
            _ => continue,
        }
        if elements > limits.max_elements {
            return Err(LimitError::Elements(limits.max_elements));
        }
    }
    Ok(())
}

/// Serialises a dictionary as an XML plist (what devices are sent and send).
pub fn to_xml(dict: &plist::Dictionary) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail for a well-formed in-memory dictionary.
    if plist::Value::Dictionary(dict.clone()).to_writer_xml(&mut out).is_err() {
        out.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_xml(depth: usize) -> Vec<u8> {
        let mut s = String::from("<?xml version=\"1.0\"?><plist version=\"1.0\">");
        s.push_str(&"<array>".repeat(depth));
        s.push_str(&"</array>".repeat(depth));
        s.push_str("</plist>");
        s.into_bytes()
    }

    /// A binary plist of `depth` nested one-element arrays, written by hand (the `plist` crate's
    /// writer recurses, so it cannot make one deep enough).
    fn nested_binary(depth: usize) -> Vec<u8> {
        let mut out = b"bplist00".to_vec();
        let mut offsets = Vec::with_capacity(depth);
        for i in 0..depth {
            offsets.push(out.len() as u32);
            if i + 1 == depth {
                out.push(0xA0); // empty array
            } else {
                out.push(0xA1); // array of one
                out.extend_from_slice(&((i + 1) as u32).to_be_bytes());
            }
        }
        let table = out.len() as u64;
        for o in &offsets {
            out.extend_from_slice(&o.to_be_bytes());
        }
        out.extend_from_slice(&[0; 6]);
        out.push(4); // offset size
        out.push(4); // object ref size
        out.extend_from_slice(&(depth as u64).to_be_bytes());
        out.extend_from_slice(&0u64.to_be_bytes());
        out.extend_from_slice(&table.to_be_bytes());
        out
    }

    #[test]
    fn reads_every_plist_type_as_the_crate_does() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>s</key><string>x</string><key>i</key><integer>-3</integer><key>u</key><integer>18446744073709551615</integer>
<key>r</key><real>1.5</real><key>b</key><true/><key>d</key><data>AAEC</data>
<key>t</key><date>2026-12-07T03:27:47Z</date><key>a</key><array><dict/><array/></array>
</dict></plist>"#;
        let ours = parse_plist(xml).unwrap();
        let theirs = plist::Value::from_reader(std::io::Cursor::new(&xml[..])).unwrap();
        assert_eq!(ours, theirs);
        let mut bin = Vec::new();
        theirs.to_writer_binary(&mut bin).unwrap();
        assert_eq!(parse_plist(&bin).unwrap(), theirs);
    }

    #[test]
    fn deep_nesting_is_refused_before_it_is_built() {
        assert!(parse_plist(&nested_xml(64)).is_ok());
        assert_eq!(parse_plist(&nested_xml(65)), Err(LimitError::Depth(64)));
        // The finding: 32,000 levels overflowed the stack when the tree was dropped.
        assert_eq!(parse_plist(&nested_xml(32_000)), Err(LimitError::Depth(64)));
        assert!(parse_plist(&nested_binary(64)).is_ok());
        assert_eq!(parse_plist(&nested_binary(100_000)), Err(LimitError::Depth(64)));
    }

    #[test]
    fn element_and_byte_budgets_hold_against_shared_references() {
        // A binary plist whose array references one 1 MiB string 100 times: 100 MiB decoded.
        let mut out = b"bplist00".to_vec();
        let string_at = out.len() as u32;
        out.push(0x4F); // data, length follows
        out.push(0x12); // int, 4 bytes
        out.extend_from_slice(&(1u32 << 20).to_be_bytes());
        out.extend(std::iter::repeat_n(7u8, 1 << 20));
        let array_at = out.len() as u32;
        out.push(0xAF);
        out.push(0x10);
        out.push(100);
        out.extend(std::iter::repeat_n(0u8, 100)); // ref 0 (1-byte refs)
        let table = out.len() as u64;
        out.extend_from_slice(&string_at.to_be_bytes());
        out.extend_from_slice(&array_at.to_be_bytes());
        out.extend_from_slice(&[0; 6]);
        out.push(4);
        out.push(1);
        out.extend_from_slice(&2u64.to_be_bytes());
        out.extend_from_slice(&1u64.to_be_bytes());
        out.extend_from_slice(&table.to_be_bytes());
        assert_eq!(parse_plist(&out), Err(LimitError::TotalBytes(64 << 20)));
        let small = Limits { max_elements: 10, ..Limits::DEFAULT };
        assert_eq!(parse_plist_with(&out, &small), Err(LimitError::Elements(10)));
        let short = Limits { max_string_bytes: 1000, ..Limits::DEFAULT };
        assert_eq!(parse_plist_with(&out, &short), Err(LimitError::StringLength(1000)));
    }

    #[test]
    fn nul_in_a_string_is_refused() {
        let mut bin = Vec::new();
        plist::Value::Array(vec![plist::Value::String("a\0b".into())]).to_writer_binary(&mut bin).unwrap();
        assert_eq!(parse_plist(&bin), Err(LimitError::Nul));
    }

    #[test]
    fn malformed_is_not_a_limit() {
        let e = parse_plist(b"<plist><dict><key>a").unwrap_err();
        assert!(matches!(e, LimitError::Malformed(_)), "{e}");
        // A limit hit in one call does not leak into the next.
        assert!(parse_plist(&nested_xml(100)).is_err());
        assert!(parse_plist(&nested_xml(3)).is_ok());
    }

    #[test]
    fn json_depth_and_elements() {
        assert!(check_json(b"{\"a\": [1, 2, {\"b\": \"[[[[\"}]}").is_ok());
        let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert_eq!(check_json(deep.as_bytes()), Err(LimitError::Depth(64)));
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(check_json(ok.as_bytes()).is_ok());
        let many = format!("[{}0]", "0,".repeat(10));
        assert_eq!(check_json_with(many.as_bytes(), &Limits { max_elements: 5, ..Limits::DEFAULT }), Err(LimitError::Elements(5)));
        // Escaped quotes do not end a string.
        assert!(check_json(br#"["\"[[[[[[", 1]"#).is_ok());
        // NUL is refused; an escaped backslash before "u0000" is just text.
        assert_eq!(check_json(br#"{"a": "x\u0000"}"#), Err(LimitError::Nul));
        assert!(check_json(br#"{"a": "x\\u0000"}"#).is_ok());
    }
}
