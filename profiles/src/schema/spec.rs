//! The spec tree one schema file describes, built from its YAML [`Doc`]: per file an arena of
//! shapes (lists of key specs); a key's `subkeys` point at a shape, so an aliased list (`*id001`)
//! is one shared shape and a list that contains an alias to itself becomes a recursive shape.

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
    /// `presence: required` (never for `ANY`).
    pub required: bool,
    /// `rangelist`: the allowed values, as written.
    pub rangelist: Vec<String>,
    /// `range`: numeric bounds.
    pub range: Bounds<f64>,
    /// `repetition` on an array's item spec: how many items the array holds.
    pub repetition: Bounds<usize>,
    /// `subkeys`: a dictionary's keys, or an array's item spec.
    pub subkeys: Option<ShapeId>,
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
    shapes: Vec<Shape>,
    /// The shape of `payloadkeys`.
    pub root: ShapeId,
}

impl Spec {
    /// Parses and builds one schema file.
    pub fn build(file: &str, text: &str) -> Result<Spec, String> {
        let doc = Doc::parse(text)?;
        let payload_type = doc
            .root
            .get("payload")
            .and_then(|p| doc.resolve(p))
            .and_then(|p| p.get("payloadtype"))
            .and_then(|t| doc.resolve(t))
            .and_then(Node::text)
            .ok_or("no payload.payloadtype")?
            .to_string();
        let mut builder = Builder { doc: &doc, shapes: Vec::new(), by_anchor: HashMap::new(), depth: 0 };
        let root = match doc.root.get("payloadkeys") {
            Some(keys) => builder.shape(keys)?,
            None => builder.empty_shape(),
        };
        Ok(Spec { file: file.to_string(), payload_type, shapes: builder.shapes, root })
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
        let subkeys = match node.get("subkeys") {
            Some(sub) => Some(self.shape(sub)?),
            None => None,
        };
        Ok(KeySpec {
            required: text("presence") == Some("required") && name != ANY_KEY,
            rangelist: field("rangelist").map(|n| self.scalars(n)).unwrap_or_default(),
            range: field("range").map(|n| self.bounds(n)).unwrap_or_default(),
            repetition: field("repetition").map(|n| self.bounds(n)).unwrap_or_default(),
            subkeys: subkeys.map(|s| self.unwrap_item(&name, ty, s)),
            name,
            ty,
        })
    }

    /// The texts of a list of scalars (a single scalar counts as a one-entry list).
    fn scalars(&self, node: &Node) -> Vec<String> {
        match &node.kind {
            Kind::Seq(items) => {
                items.iter().filter_map(|i| self.doc.resolve(i)).filter_map(Node::text).map(str::to_string).collect()
            }
            Kind::Scalar(s) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// `{min, max}`, each parsed as a number when it is one.
    fn bounds<T: std::str::FromStr>(&self, node: &Node) -> Bounds<T> {
        let get = |k: &str| {
            node.get(k).and_then(|n| self.doc.resolve(n)).and_then(Node::text).and_then(|t| t.trim().parse().ok())
        };
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
            Some([only]) if only.ty == Ty::Dictionary && only.name == format!("{name}Item") => {
                only.subkeys.unwrap_or(shape)
            }
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
/// common keys plus its type's keys): an exact name first, then an `ANY` entry.
pub(crate) fn lookup<'a>(shapes: &[ShapeRef<'a>], key: &str) -> Option<(ShapeRef<'a>, &'a KeySpec)> {
    let find = |name: &str| shapes.iter().find_map(|s| s.keys().iter().find(|k| k.name == name).map(|k| (*s, k)));
    find(key).or_else(|| find(ANY_KEY))
}

/// The item spec of an array for `item`: the first entry whose type fits it, else the first.
pub(crate) fn item_spec<'a>(items: ShapeRef<'a>, item: &plist::Value) -> Option<&'a KeySpec> {
    let keys = items.keys();
    keys.iter().find(|k| k.ty.accepts(item)).or_else(|| keys.first())
}
