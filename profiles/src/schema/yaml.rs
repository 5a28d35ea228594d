//! A YAML document as a plain tree that keeps anchors and aliases, so the spec builder can share
//! (and let recurse) aliased `subkeys` instead of losing them. Scalars stay as their text; the
//! spec builder reads them according to the declared type of the key they describe.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, EventReceiver, Parser};

/// One YAML node. `anchor` is the parser's anchor id (`&name`), 0 when there is none.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub anchor: usize,
    pub kind: Kind,
}

/// What a node holds.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// A scalar's text, whatever its YAML type (`1`, `true` and `abc` alike).
    Scalar(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping with scalar keys, in document order.
    Map(Vec<(String, Node)>),
    /// `*name`: the anchor id it refers to.
    Alias(usize),
}

/// A parsed document: its root and every anchored node by anchor id.
#[derive(Debug)]
pub(crate) struct Doc {
    pub root: Node,
    anchors: HashMap<usize, Node>,
}

/// How many aliases in a row [`Doc::resolve`] follows before giving up.
const MAX_ALIAS_HOPS: usize = 16;

impl Doc {
    /// Parses the first document of `text`.
    pub fn parse(text: &str) -> Result<Doc, String> {
        let mut builder = Builder::default();
        Parser::new_from_str(text).load(&mut builder, false).map_err(|e| e.to_string())?;
        builder.finish()
    }

    /// The node an alias points at (the node itself when it is no alias); `None` for an alias
    /// to an unknown anchor.
    pub fn resolve<'a>(&'a self, mut node: &'a Node) -> Option<&'a Node> {
        for _ in 0..MAX_ALIAS_HOPS {
            match node.kind {
                Kind::Alias(id) => node = self.anchors.get(&id)?,
                _ => return Some(node),
            }
        }
        None
    }

    /// The anchored node with id `id`.
    pub fn anchored(&self, id: usize) -> Option<&Node> {
        self.anchors.get(&id)
    }
}

impl Node {
    /// `Some(value)` for `key` when this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a scalar.
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }
}

/// A container being filled: the node, and for a mapping the key waiting for its value.
#[derive(Debug)]
struct Open {
    node: Node,
    pending_key: Option<String>,
}

/// Receives the parser's events and assembles the tree.
#[derive(Debug, Default)]
struct Builder {
    stack: Vec<Open>,
    root: Option<Node>,
    anchors: HashMap<usize, Node>,
    error: Option<String>,
}

impl EventReceiver for Builder {
    fn on_event(&mut self, ev: Event) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::Scalar(text, _, anchor, _) => self.complete(Node { anchor, kind: Kind::Scalar(text) }),
            Event::Alias(id) => self.complete(Node { anchor: 0, kind: Kind::Alias(id) }),
            Event::SequenceStart(anchor, _) => self.open(Node { anchor, kind: Kind::Seq(Vec::new()) }),
            Event::MappingStart(anchor, _) => self.open(Node { anchor, kind: Kind::Map(Vec::new()) }),
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            _ => {}
        }
    }
}

impl Builder {
    fn open(&mut self, node: Node) {
        self.stack.push(Open { node, pending_key: None });
    }

    fn close(&mut self) {
        match self.stack.pop() {
            Some(open) if open.pending_key.is_none() => self.complete(open.node),
            Some(_) => self.error = Some("a mapping key has no value".into()),
            None => self.error = Some("unbalanced YAML structure".into()),
        }
    }

    /// Adds a finished node to the container being filled (or makes it the root).
    fn complete(&mut self, node: Node) {
        if node.anchor > 0 {
            self.anchors.insert(node.anchor, node.clone());
        }
        let Some(open) = self.stack.last_mut() else {
            if self.root.is_none() {
                self.root = Some(node);
            }
            return;
        };
        match (&mut open.node.kind, open.pending_key.take()) {
            (Kind::Seq(items), _) => items.push(node),
            (Kind::Map(entries), Some(key)) => entries.push((key, node)),
            (Kind::Map(_), None) => match node.kind {
                Kind::Scalar(key) => open.pending_key = Some(key),
                _ => self.error = Some("a mapping key is not a scalar".into()),
            },
            _ => self.error = Some("unexpected YAML structure".into()),
        }
    }

    fn finish(self) -> Result<Doc, String> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if !self.stack.is_empty() {
            return Err("the YAML document ends inside a collection".into());
        }
        let root = self.root.ok_or("the YAML document is empty")?;
        Ok(Doc { root, anchors: self.anchors })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_anchors_and_recursive_aliases() {
        let doc = Doc::parse("a: &x\n- k: 1\n  sub: *x\nb: *x\n").unwrap();
        let a = doc.root.get("a").unwrap();
        assert!(a.anchor > 0);
        let Kind::Seq(items) = &a.kind else { unreachable!() };
        let sub = items[0].get("sub").unwrap();
        assert!(matches!(sub.kind, Kind::Alias(id) if id == a.anchor));
        let b = doc.resolve(doc.root.get("b").unwrap()).unwrap();
        assert!(matches!(b.kind, Kind::Seq(_)));
        assert_eq!(items[0].get("k").unwrap().text(), Some("1"));
    }

    #[test]
    fn bad_yaml_is_an_error() {
        assert!(Doc::parse("a: [1, 2").is_err());
        assert!(Doc::parse("").is_err());
        assert!(Doc::parse("a: *nowhere").is_err());
    }
}
