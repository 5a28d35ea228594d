//! The embedded schema files, built once on first use, and the choice among several files that
//! document the same payload type.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::spec::{ShapeRef, Spec};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/schema_files.rs"));
}

pub(crate) use embedded::FILES;

/// `payloadtype` of the file describing a profile's top level.
pub(crate) const TOP_LEVEL: &str = "TopLevel";
/// `payloadtype` of the file describing the keys every payload has.
pub(crate) const COMMON: &str = "CommonPayloadKeys";

/// Payload types documented by several files whose file is chosen by one key's value: a file
/// whose `rangelist` for that key holds the payload's value applies, otherwise the files without
/// a `rangelist` for it. (`com.apple.extensiblesso(kerberos).yaml` applies when
/// `ExtensionIdentifier` is `com.apple.AppSSOKerberos.KerberosExtension`.)
const SELECTORS: &[(&str, &str)] = &[("com.apple.extensiblesso", "ExtensionIdentifier")];

/// Every schema file, built.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    /// Payload type → its files, in file-name order (`TopLevel` and `CommonPayloadKeys` too).
    specs: BTreeMap<String, Vec<Spec>>,
    /// Payload type (guessed from the file name) → why its file could not be read.
    failed: BTreeMap<String, String>,
}

/// The registry of the embedded files, built on first use.
pub(crate) fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::load(FILES))
}

impl Registry {
    /// Builds every `(file name, YAML)`; a file that does not build is remembered as failed.
    pub fn load(files: &[(&str, &str)]) -> Registry {
        let mut reg = Registry::default();
        for (file, text) in files {
            match Spec::build(file, text) {
                Ok(spec) => reg.specs.entry(spec.payload_type.clone()).or_default().push(spec),
                Err(e) => {
                    reg.failed.insert(type_from_file_name(file), format!("{file}: {e}"));
                }
            }
        }
        reg.inherit();
        reg
    }

    /// Gives each file whose payload "has the same fields as" another ([`Spec::same_as`]) that
    /// payload's keys too, its own definitions first. The other payload is the one file whose
    /// `title` (or payload type) is the name given; when none or several are, nothing is added.
    /// Only one level: what a base inherits itself is not passed on.
    fn inherit(&mut self) {
        let mut merges = Vec::new();
        for (payload_type, specs) in &self.specs {
            for (i, spec) in specs.iter().enumerate() {
                let Some(name) = &spec.same_as else { continue };
                let bases: Vec<&Spec> = self
                    .specs
                    .values()
                    .flatten()
                    .filter(|b| b.file != spec.file)
                    .filter(|b| b.title.eq_ignore_ascii_case(name) || b.payload_type.eq_ignore_ascii_case(name))
                    .collect();
                if let [base] = bases.as_slice() {
                    merges.push((payload_type.clone(), i, (*base).clone()));
                }
            }
        }
        for (payload_type, i, base) in merges {
            if let Some(spec) = self.specs.get_mut(&payload_type).and_then(|v| v.get_mut(i)) {
                spec.inherit(&base);
            }
        }
    }

    /// The files documenting `payload_type` (empty when none was read).
    pub fn variants(&self, payload_type: &str) -> &[Spec] {
        self.specs.get(payload_type).map_or(&[], Vec::as_slice)
    }

    /// The files documenting payload type `payload_type` (none for `TopLevel` and
    /// `CommonPayloadKeys`, which are no payload types).
    pub fn payload_variants(&self, payload_type: &str) -> &[Spec] {
        if payload_type == TOP_LEVEL || payload_type == COMMON {
            return &[];
        }
        self.variants(payload_type)
    }

    /// The one file of `TopLevel` / `CommonPayloadKeys`.
    pub fn single(&self, payload_type: &str) -> Option<&Spec> {
        self.variants(payload_type).first()
    }

    /// Why the file of `payload_type` could not be read, when it could not.
    pub fn failure(&self, payload_type: &str) -> Option<&str> {
        self.failed.get(payload_type).map(String::as_str)
    }

    /// Whether Apple documents `payload_type` as a payload.
    pub fn is_payload_type(&self, payload_type: &str) -> bool {
        payload_type != TOP_LEVEL && payload_type != COMMON && (self.specs.contains_key(payload_type) || self.failed.contains_key(payload_type))
    }

    /// How many files were built.
    #[cfg(test)]
    pub fn spec_count(&self) -> usize {
        self.specs.values().map(Vec::len).sum()
    }

    /// Every built file.
    #[cfg(test)]
    pub fn all(&self) -> impl Iterator<Item = &Spec> {
        self.specs.values().flatten()
    }
}

/// The files that may describe `payload`, among the files of its type (see [`SELECTORS`]).
pub(crate) fn candidates<'a>(variants: &'a [Spec], payload: &plist::Dictionary) -> Vec<&'a Spec> {
    let all = || variants.iter().collect();
    let Some(first) = variants.first() else { return Vec::new() };
    let Some((_, key)) = SELECTORS.iter().find(|(t, _)| *t == first.payload_type) else { return all() };
    let value = payload.get(key).and_then(plist::Value::as_string);
    let choices = |s: &&Spec| -> Vec<String> {
        let root = ShapeRef::root(s);
        root.keys().iter().find(|k| k.name == *key).map(|k| k.rangelist.clone()).unwrap_or_default()
    };
    let specific: Vec<&Spec> = variants.iter().filter(|s| value.is_some_and(|v| choices(s).iter().any(|c| c == v))).collect();
    if !specific.is_empty() {
        return specific;
    }
    let generic: Vec<&Spec> = variants.iter().filter(|s| choices(s).is_empty()).collect();
    if generic.is_empty() {
        all()
    } else {
        generic
    }
}

/// `com.apple.MCX(WiFi).yaml` → `com.apple.MCX`: the payload type a file probably documents.
fn type_from_file_name(file: &str) -> String {
    let stem = file.strip_suffix(".yaml").unwrap_or(file);
    stem.split('(').next().unwrap_or(stem).to_string()
}
