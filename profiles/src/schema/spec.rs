//! The spec tree one schema file describes, built from its YAML [`Doc`]: per file an arena of
//! shapes (lists of key specs); a key's `subkeys` point at a shape, so an aliased list (`*id001`)
//! is one shared shape and a list that contains an alias to itself becomes a recursive shape.
//!
//! A few things Apple says only in prose (`content`, `payload.content`) are read from that prose
//! and built into the tree, so the checker needs no knowledge of single keys; see [`wording`].

use std::collections::HashMap;

use super::yaml::{Doc, Kind, Node};

/// A value type named in the schema (`<string>`, `<integer>`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    String,
    Integer,
    Real,
    Boolean,
    Data,
    Date,
    Array,
    Dictionary,
    /// `<any>`, or a spelling this validator does not know: any value is accepted.
    Any,
}

impl Ty {
    /// Reads a type name, tolerating case, missing angle brackets and common synonyms.
    pub fn parse(name: &str) -> Ty {
        let name = name.trim().trim_start_matches('<').trim_end_matches('>').trim().to_ascii_lowercase();
        match name.as_str() {
            "string" => Ty::String,
            "integer" | "int" => Ty::Integer,
            "real" | "float" | "double" | "number" => Ty::Real,
            "boolean" | "bool" => Ty::Boolean,
            "data" => Ty::Data,
            "date" => Ty::Date,
            "array" => Ty::Array,
            "dictionary" | "dict" => Ty::Dictionary,
            _ => Ty::Any,
        }
    }

    /// How an admin reads the expected type.
    pub fn describe(self) -> &'static str {
        match self {
            Ty::String => "<string>",
            Ty::Integer => "<integer>",
            Ty::Real => "<real> (or <integer>)",
            Ty::Boolean => "<boolean>",
            Ty::Data => "<data>",
            Ty::Date => "<date>",
            Ty::Array => "<array>",
            Ty::Dictionary => "<dictionary>",
            Ty::Any => "<any>",
        }
    }

    /// Whether `v` has this type. `<real>` accepts integers too.
    pub fn accepts(self, v: &plist::Value) -> bool {
        use plist::Value as V;
        matches!(
            (self, v),
            (Ty::Any, _)
                | (Ty::String, V::String(_))
                | (Ty::Integer, V::Integer(_))
                | (Ty::Real, V::Real(_) | V::Integer(_))
                | (Ty::Boolean, V::Boolean(_))
                | (Ty::Data, V::Data(_))
                | (Ty::Date, V::Date(_))
                | (Ty::Array, V::Array(_))
                | (Ty::Dictionary, V::Dictionary(_))
        )
    }
}

/// Optional lower and upper bounds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Bounds<T> {
    pub min: Option<T>,
    pub max: Option<T>,
}

impl<T> Bounds<T> {
    /// True when neither bound is set.
    pub fn is_empty(&self) -> bool {
        self.min.is_none() && self.max.is_none()
    }
}

/// Index of a shape in its [`Spec`].
pub(crate) type ShapeId = usize;

/// The key name that stands for any key of a dictionary.
pub(crate) const ANY_KEY: &str = "ANY";

/// One entry of a `payloadkeys` / `subkeys` list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KeySpec {
    /// `key`: the dictionary key (for an array's item spec, just a label).
    pub name: String,
    /// `type`.
    pub ty: Ty,
    /// `presence: required` (never for an entry standing for any key).
    pub required: bool,
    /// `rangelist`: the allowed values, as written.
    pub rangelist: Vec<String>,
    /// `range`: numeric bounds.
    pub range: Bounds<f64>,
    /// `repetition` on an array's item spec: how many items the array holds.
    pub repetition: Bounds<usize>,
    /// `subkeys`: a dictionary's keys, or an array's item spec.
    pub subkeys: Option<ShapeId>,
    /// This entry stands for any key of its dictionary: Apple's `ANY`, or a placeholder such
    /// as the Kerberos `domainRealmMapping` → `Realm` (see [`wording::PLACEHOLDER`]).
    pub any_key: bool,
    /// A `<string>` Apple says may also be an array of strings (see
    /// [`wording::STRING_OR_ARRAY`]); each item is then checked as the string would be.
    pub string_or_array: bool,
    /// Its `content` says its name stands for the key ([`wording::PLACEHOLDER`]); acted on
    /// only when it is its dictionary's only subkey (then [`KeySpec::any_key`] is set).
    pub names_its_key: bool,
}

impl KeySpec {
    /// Whether `v` has this key's type (for [`KeySpec::string_or_array`], an array too; its
    /// items are checked separately).
    pub fn accepts(&self, v: &plist::Value) -> bool {
        self.ty.accepts(v) || (self.string_or_array && matches!(v, plist::Value::Array(_)))
    }

    /// How an admin reads the expected type.
    pub fn describe(&self) -> &'static str {
        if self.string_or_array {
            "<string> (or an array of strings)"
        } else {
            self.ty.describe()
        }
    }

    /// The `ANY` entry an open dictionary gets.
    fn any() -> KeySpec {
        KeySpec {
            name: ANY_KEY.to_string(),
            ty: Ty::Any,
            required: false,
            rangelist: Vec::new(),
            range: Bounds::default(),
            repetition: Bounds::default(),
            subkeys: None,
            any_key: true,
            string_or_array: false,
            names_its_key: false,
        }
    }
}

/// Apple's prose that the spec builder acts on, matched case-insensitively with whitespace
/// collapsed. Each rule is written so that it matches only what it is meant for; the tests list
/// every key each one affects across the vendored files.
pub(crate) mod wording {
    /// In a dictionary's `content`: the dictionary is the vendor's own, so keys Apple does not
    /// list are allowed (with any value); the listed ones are examples and stay checked. Apple
    /// writes an `ANY` subkey for most such dictionaries, but not for `VendorConfig` of
    /// `com.apple.vpn.managed` ("The vendor-specific configuration dictionary, ...").
    pub const OPEN_DICTIONARY: &[&str] = &["vendor-specific"];

    /// In the `content` of a dictionary's only subkey: the subkey's name is a placeholder for
    /// the dictionary's keys, e.g. `domainRealmMapping` → `Realm`: "The key should be the name
    /// of the realm, and the value is an array of DNS suffixes ...". (Apple writes the same for
    /// some `ANY` entries: "The key is an access right value, ...".) The other form of
    /// placeholder is a dictionary whose `content` names its only subkey in the plural:
    /// `UserPrinterList` ("The printers available to a user.") → `Printer`.
    pub const PLACEHOLDER: &[&str] = &["the key should be ", "the key is "];

    /// In the `content` of a `<string>` key, or with "for each key" of the dictionary holding
    /// it: the value may also be an array of strings. `SubjectAltName` of
    /// `com.apple.security.scep`: "You can specify a single string or an array of strings for
    /// each key."
    pub const STRING_OR_ARRAY: &str = "string or an array of strings";

    /// Added to [`STRING_OR_ARRAY`] in a dictionary's `content` to cover all its subkeys.
    pub const FOR_EACH_KEY: &str = "for each key";

    /// In `payload.content`: the payload has the fields of another payload, named by its
    /// `title`, besides its own. `com.apple.vpn.managed.applayer`: "The fields in this payload
    /// are the same as the VPN payload, with the addition of the fields shown below."
    pub const SAME_AS: (&str, &str) = ("fields in this payload are the same as the ", " payload");

    /// `text` lowercased with runs of whitespace made single spaces.
    pub fn normalise(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
    }

    /// The title of the payload whose fields a payload's `content` says it shares.
    pub fn same_as(content: &str) -> Option<String> {
        let text = normalise(content);
        let (start, end) = SAME_AS;
        let rest = &text[text.find(start)? + start.len()..];
        let name = rest[..rest.find(end)?].trim();
        (!name.is_empty()).then(|| name.to_string())
    }

    /// Whether `content` names `key` in the plural as a word ("The printers available ..."
    /// for `Printer`).
    pub fn names_plural(content: &str, key: &str) -> bool {
        let plural = format!("{}s", key.to_lowercase());
        normalise(content).split(|c: char| !c.is_alphanumeric()).any(|w| w == plural)
    }
}

/// A list of key specs.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Shape {
    pub keys: Vec<KeySpec>,
}

/// One schema file, built.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    /// The file it came from.
    pub file: String,
    /// `payload.payloadtype`.
    pub payload_type: String,
    /// `title`.
    pub title: String,
    /// The title (lowercased) of the payload whose fields this one shares, when
    /// `payload.content` says so ([`wording::SAME_AS`]); the registry merges that payload's
    /// keys in.
    pub same_as: Option<String>,
    shapes: Vec<Shape>,
    /// The shape of `payloadkeys`.
    pub root: ShapeId,
}

impl Spec {
    /// Parses and builds one schema file.
    pub fn build(file: &str, text: &str) -> Result<Spec, String> {
        let doc = Doc::parse(text)?;
        let payload = doc.root.get("payload").and_then(|p| doc.resolve(p));
        let payload_text = |name: &str| payload.and_then(|p| p.get(name)).and_then(|t| doc.resolve(t)).and_then(Node::text);
        let payload_type = payload_text("payloadtype").ok_or("no payload.payloadtype")?.to_string();
        let same_as = payload_text("content").and_then(wording::same_as);
        let title = doc.root.get("title").and_then(|t| doc.resolve(t)).and_then(Node::text).unwrap_or_default();
        let mut builder = Builder { doc: &doc, shapes: Vec::new(), by_anchor: HashMap::new(), depth: 0 };
        let root = match doc.root.get("payloadkeys") {
            Some(keys) => builder.shape(keys)?,
            None => builder.empty_shape(),
        };
        let (file, title) = (file.to_string(), title.to_string());
        Ok(Spec { file, payload_type, title, same_as, shapes: builder.shapes, root })
    }

    /// Adds `base`'s top-level keys (with everything below them) to this file's, except those
    /// this file defines itself: for a payload whose fields are "the same as" `base`'s plus its
    /// own.
    pub fn inherit(&mut self, base: &Spec) {
        let offset = self.shapes.len();
        self.shapes.extend(
            base.shapes
                .iter()
                .map(|shape| Shape { keys: shape.keys.iter().map(|k| KeySpec { subkeys: k.subkeys.map(|id| id + offset), ..k.clone() }).collect() }),
        );
        let Some(inherited) = self.shapes.get(base.root + offset).map(|s| s.keys.clone()) else { return };
        if let Some(root) = self.shapes.get_mut(self.root) {
            let own: Vec<String> = root.keys.iter().map(|k| k.name.clone()).collect();
            root.keys.extend(inherited.into_iter().filter(|k| !own.contains(&k.name)));
        }
    }

    /// How messages name this file: the payload type, or for one of several files of a type
    /// the file's name (`com.apple.extensiblesso(kerberos)`).
    pub fn label(&self) -> &str {
        let stem = self.file.strip_suffix(".yaml").unwrap_or(&self.file);
        match stem.strip_prefix(self.payload_type.as_str()) {
            Some(rest) if rest.starts_with('(') => stem,
            _ => &self.payload_type,
        }
    }

    /// The key specs of a shape (none for an unknown id).
    pub fn keys(&self, id: ShapeId) -> &[KeySpec] {
        self.shapes.get(id).map_or(&[], |s| s.keys.as_slice())
    }

    /// How many shapes the file has.
    #[cfg(test)]
    pub fn shape_count(&self) -> usize {
        self.shapes.len()
    }
}

/// How deeply `subkeys` may nest before a file is refused.
const MAX_DEPTH: usize = 64;

/// Turns the nodes of one document into shapes.
struct Builder<'a> {
    doc: &'a Doc,
    shapes: Vec<Shape>,
    /// Anchor id of a `subkeys` list → the shape built (or being built) from it.
    by_anchor: HashMap<usize, ShapeId>,
    depth: usize,
}

impl<'a> Builder<'a> {
    fn empty_shape(&mut self) -> ShapeId {
        self.shapes.push(Shape::default());
        self.shapes.len() - 1
    }

    /// The shape of a `subkeys` / `payloadkeys` list, shared when the list is anchored.
    fn shape(&mut self, node: &'a Node) -> Result<ShapeId, String> {
        let node = match node.kind {
            Kind::Alias(id) => match self.by_anchor.get(&id) {
                Some(&shape) => return Ok(shape),
                None => self.doc.anchored(id).ok_or("an alias refers to an unknown anchor")?,
            },
            _ => node,
        };
        if let Some(&shape) = self.by_anchor.get(&node.anchor).filter(|_| node.anchor > 0) {
            return Ok(shape);
        }
        let items = match &node.kind {
            Kind::Seq(items) => items.as_slice(),
            Kind::Scalar(s) if s.is_empty() || s == "~" || s == "null" => &[],
            _ => return Err("a subkeys list is not a list".into()),
        };
        let id = self.empty_shape();
        if node.anchor > 0 {
            self.by_anchor.insert(node.anchor, id);
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("subkeys nest more than {MAX_DEPTH} levels deep"));
        }
        let keys = items.iter().map(|item| self.key_spec(item)).collect::<Result<Vec<_>, _>>();
        self.depth -= 1;
        if let Some(shape) = self.shapes.get_mut(id) {
            shape.keys = keys?;
        }
        Ok(id)
    }

    /// One key spec of a list.
    fn key_spec(&mut self, node: &'a Node) -> Result<KeySpec, String> {
        let doc = self.doc;
        let node = doc.resolve(node).ok_or("an alias refers to an unknown anchor")?;
        let field = |name: &str| node.get(name).and_then(|n| doc.resolve(n));
        let text = |name: &str| field(name).and_then(Node::text);
        let name = text("key").ok_or("a key entry has no `key`")?.to_string();
        let ty = text("type").map_or(Ty::Any, Ty::parse);
        let content = wording::normalise(text("content").unwrap_or_default());
        let subkeys = match node.get("subkeys") {
            Some(sub) => Some(self.shape(sub)?),
            None => None,
        };
        let subkeys = subkeys.map(|s| self.unwrap_item(&name, ty, s));
        let subkeys = match (ty, subkeys) {
            (Ty::Dictionary, Some(s)) => Some(self.dictionary_wording(s, &content)),
            (_, s) => s,
        };
        Ok(KeySpec {
            required: text("presence") == Some("required") && name != ANY_KEY,
            rangelist: field("rangelist").map(|n| self.scalars(n)).unwrap_or_default(),
            range: field("range").map(|n| self.bounds(n)).unwrap_or_default(),
            repetition: field("repetition").map(|n| self.bounds(n)).unwrap_or_default(),
            subkeys,
            any_key: name == ANY_KEY,
            string_or_array: ty == Ty::String && content.contains(wording::STRING_OR_ARRAY),
            names_its_key: wording::PLACEHOLDER.iter().any(|w| content.contains(w)),
            name,
            ty,
        })
    }

    /// Applies what a dictionary's `content` (normalised) and its subkeys' `content` say about
    /// its keys (see [`wording`]): an open dictionary gets an `ANY` entry, a lone placeholder
    /// subkey stands for any key, "a single string or an array of strings for each key" makes
    /// every `<string>` subkey take an array too. Changes go into a copy of the shape (which may
    /// be shared with other keys); the shape is returned as it is when nothing applies.
    fn dictionary_wording(&mut self, shape: ShapeId, content: &str) -> ShapeId {
        let Some(mut keys) = self.shapes.get(shape).map(|s| s.keys.clone()) else { return shape };
        let before = keys.clone();
        if wording::OPEN_DICTIONARY.iter().any(|w| content.contains(w)) && !keys.iter().any(|k| k.any_key) {
            keys.push(KeySpec::any());
        }
        if let [only] = keys.as_mut_slice() {
            if !only.any_key && (only.names_its_key || wording::names_plural(content, &only.name)) {
                only.any_key = true;
                only.required = false;
            }
        }
        if content.contains(wording::STRING_OR_ARRAY) && content.contains(wording::FOR_EACH_KEY) {
            keys.iter_mut().filter(|k| k.ty == Ty::String).for_each(|k| k.string_or_array = true);
        }
        if keys == before {
            return shape;
        }
        self.shapes.push(Shape { keys });
        self.shapes.len() - 1
    }

    /// The texts of a list of scalars (a single scalar counts as a one-entry list).
    fn scalars(&self, node: &Node) -> Vec<String> {
        match &node.kind {
            Kind::Seq(items) => items.iter().filter_map(|i| self.doc.resolve(i)).filter_map(Node::text).map(str::to_string).collect(),
            Kind::Scalar(s) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// `{min, max}`, each parsed as a number when it is one.
    fn bounds<T: std::str::FromStr>(&self, node: &Node) -> Bounds<T> {
        let get = |k: &str| node.get(k).and_then(|n| self.doc.resolve(n)).and_then(Node::text).and_then(|t| t.trim().parse().ok());
        Bounds { min: get("min"), max: get("max") }
    }

    /// Apple sometimes describes a dictionary `X` by a single dictionary subkey named `XItem`
    /// (the way array items are named), e.g. `ConsentText` → `ConsentTextItem` → `ANY`. Such a
    /// wrapper describes `X` itself, so `X`'s keys are the wrapper's subkeys.
    fn unwrap_item(&self, name: &str, ty: Ty, shape: ShapeId) -> ShapeId {
        if ty != Ty::Dictionary {
            return shape;
        }
        match self.shapes.get(shape).map(|s| s.keys.as_slice()) {
            Some([only]) if only.ty == Ty::Dictionary && only.name == format!("{name}Item") => only.subkeys.unwrap_or(shape),
            _ => shape,
        }
    }
}

/// A shape together with the file it belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShapeRef<'a> {
    pub spec: &'a Spec,
    pub id: ShapeId,
}

impl<'a> ShapeRef<'a> {
    /// The root shape (`payloadkeys`) of a file.
    pub fn root(spec: &'a Spec) -> ShapeRef<'a> {
        ShapeRef { spec, id: spec.root }
    }

    /// The key specs of this shape.
    pub fn keys(self) -> &'a [KeySpec] {
        self.spec.keys(self.id)
    }

    /// The shape a key's `subkeys` name, in the same file.
    pub fn sub(self, key: &KeySpec) -> Option<ShapeRef<'a>> {
        key.subkeys.map(|id| ShapeRef { spec: self.spec, id })
    }
}

/// The spec of dictionary key `key` among several shapes read as one dictionary (a payload's
/// common keys plus its type's keys): an exact name first, then an entry standing for any key
/// (`ANY` or a placeholder).
pub(crate) fn lookup<'a>(shapes: &[ShapeRef<'a>], key: &str) -> Option<(ShapeRef<'a>, &'a KeySpec)> {
    let find = |hit: &dyn Fn(&KeySpec) -> bool| shapes.iter().find_map(|s| s.keys().iter().find(|k| hit(k)).map(|k| (*s, k)));
    find(&|k| k.name == key).or_else(|| find(&|k| k.any_key))
}

/// The item spec of an array for `item`: the first entry whose type fits it, else the first.
pub(crate) fn item_spec<'a>(items: ShapeRef<'a>, item: &plist::Value) -> Option<&'a KeySpec> {
    let keys = items.keys();
    keys.iter().find(|k| k.ty.accepts(item)).or_else(|| keys.first())
}
