//! Checks plist values against shapes: types, required keys, `rangelist`, `range`, array
//! `repetition`, and keys Apple does not document.

use plist::Value;

use super::spec::{item_spec, lookup, Bounds, KeySpec, ShapeRef, Ty};
use crate::issue::{index_path, key_path, Issue};
use crate::value::kind;

/// The message of a missing required key.
pub(crate) const MISSING: &str = "required key missing";

/// How deeply values are checked; deeper ones are reported once and skipped.
const MAX_DEPTH: usize = 100;

/// Walks values and collects findings.
pub(crate) struct Checker<'c> {
    /// What the keys belong to, for messages (`com.apple.wifi.managed`, `the profile's top level`).
    context: &'c str,
    out: Vec<Issue>,
}

impl<'c> Checker<'c> {
    /// A checker whose unknown-key warnings name `context`.
    pub fn new(context: &'c str) -> Checker<'c> {
        Checker { context, out: Vec::new() }
    }

    /// The findings.
    pub fn finish(self) -> Vec<Issue> {
        self.out
    }

    /// Checks dictionary `d` at `path` against `shapes` read as one. With `open`, keys none of
    /// them documents are allowed without a warning.
    pub fn dict(&mut self, d: &plist::Dictionary, shapes: &[ShapeRef<'_>], path: &str, open: bool, depth: usize) {
        for (k, v) in d {
            let at = key_path(path, k);
            match lookup(shapes, k) {
                Some((shape, spec)) => self.value(v, shape, spec, &at, depth + 1),
                None if open => {}
                None => self.out.push(Issue::warning(at, format!("key not documented by Apple for {}; the device may ignore it", self.context))),
            }
        }
        for spec in shapes.iter().flat_map(|s| s.keys()).filter(|k| k.required) {
            if !d.contains_key(&spec.name) {
                self.out.push(Issue::error(key_path(path, &spec.name), MISSING));
            }
        }
    }

    /// Checks one value against its key spec (`shape` is where the spec lives).
    fn value(&mut self, v: &Value, shape: ShapeRef<'_>, spec: &KeySpec, path: &str, depth: usize) {
        if depth > MAX_DEPTH {
            self.out.push(Issue::error(path, format!("nested more than {MAX_DEPTH} levels deep; not checked further")));
            return;
        }
        if !spec.accepts(v) {
            self.out.push(Issue::error(path, format!("expected {}, found {}", spec.describe(), kind(v))));
            return;
        }
        if !spec.rangelist.is_empty() && !in_rangelist(&spec.rangelist, v) {
            self.out.push(Issue::error(path, format!("must be one of {} (found {})", spec.rangelist.join(", "), show(v))));
        }
        if let Some(msg) = range_problem(spec.range, v) {
            self.out.push(Issue::error(path, msg));
        }
        match v {
            Value::Array(items) if spec.string_or_array => self.strings(items, shape, spec, path, depth),
            Value::Array(items) if spec.ty != Ty::Any => self.array(items, shape.sub(spec), path, depth),
            Value::Dictionary(d) if spec.ty != Ty::Any => {
                if let Some(sub) = shape.sub(spec) {
                    self.dict(d, &[sub], path, false, depth);
                }
            }
            _ => {}
        }
    }

    /// Checks the array given for a `<string>` that may be an array of strings: each item is a
    /// string checked as the single string would be.
    fn strings(&mut self, items: &[Value], shape: ShapeRef<'_>, spec: &KeySpec, path: &str, depth: usize) {
        for (i, item) in items.iter().enumerate() {
            let at = index_path(path, i);
            if spec.ty.accepts(item) {
                self.value(item, shape, spec, &at, depth + 1);
            } else {
                self.out.push(Issue::error(at, format!("expected {}, found {}", spec.ty.describe(), kind(item))));
            }
        }
    }

    /// Checks an array's length and items against its item spec.
    fn array(&mut self, items: &[Value], item_shape: Option<ShapeRef<'_>>, path: &str, depth: usize) {
        let Some(item_shape) = item_shape else { return };
        if let Some(first) = item_shape.keys().first() {
            if let Some(msg) = count_problem(first.repetition, items.len()) {
                self.out.push(Issue::error(path, msg));
            }
        }
        for (i, item) in items.iter().enumerate() {
            if let Some(spec) = item_spec(item_shape, item) {
                self.value(item, item_shape, spec, &index_path(path, i), depth + 1);
            }
        }
    }
}

/// Whether `v` is one of the allowed values (compared as text, integer or number by its kind).
fn in_rangelist(list: &[String], v: &Value) -> bool {
    let number = |n: f64| list.iter().any(|e| e.trim().parse::<f64>().is_ok_and(|x| x == n));
    match v {
        Value::String(s) => list.iter().any(|e| e == s),
        Value::Integer(i) => match i.as_signed() {
            Some(n) => list.iter().any(|e| e.trim().parse::<i64>() == Ok(n)) || number(n as f64),
            None => i.as_unsigned().is_some_and(|n| list.iter().any(|e| e.trim().parse::<u64>() == Ok(n))),
        },
        Value::Real(r) => number(*r),
        Value::Boolean(b) => list.iter().any(|e| e.trim().eq_ignore_ascii_case(if *b { "true" } else { "false" })),
        _ => true,
    }
}

/// A number's value, for `range`.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => i.as_signed().map(|n| n as f64).or_else(|| i.as_unsigned().map(|n| n as f64)),
        Value::Real(r) => Some(*r),
        _ => None,
    }
}

/// What is wrong with a number outside `range`.
fn range_problem(range: Bounds<f64>, v: &Value) -> Option<String> {
    if range.is_empty() {
        return None;
    }
    let n = number(v)?;
    let below = range.min.is_some_and(|min| n < min);
    let above = range.max.is_some_and(|max| n > max);
    if !below && !above {
        return None;
    }
    let want = match (range.min, range.max) {
        (Some(min), Some(max)) => format!("between {min} and {max}"),
        (Some(min), None) => format!("at least {min}"),
        (None, Some(max)) => format!("at most {max}"),
        (None, None) => return None,
    };
    Some(format!("must be {want} (found {})", show(v)))
}

/// What is wrong with an array of `n` items outside `repetition`.
fn count_problem(rep: Bounds<usize>, n: usize) -> Option<String> {
    let below = rep.min.is_some_and(|min| n < min);
    let above = rep.max.is_some_and(|max| n > max);
    if !below && !above {
        return None;
    }
    let want = match (rep.min, rep.max) {
        (Some(min), Some(max)) if min == max => format!("exactly {min}"),
        (Some(min), Some(max)) => format!("between {min} and {max}"),
        (Some(min), None) => format!("at least {min}"),
        (None, Some(max)) => format!("at most {max}"),
        (None, None) => return None,
    };
    Some(format!("must have {want} items (found {n})"))
}

/// A scalar as an admin would write it.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Boolean(b) => b.to_string(),
        other => kind(other).to_string(),
    }
}
