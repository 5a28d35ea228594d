//! Converts what JSON cannot express into the plist types the schema asks for: base64 strings
//! where `<data>` is expected, RFC 3339 strings where `<date>` is, integers where `<real>` is.
//! Values that do not convert stay as they are, for validation to report.

use plist::Value;

use super::spec::{item_spec, lookup, KeySpec, ShapeRef, Ty};
use crate::value::{decode_base64, Date};

/// Nesting beyond this is left alone.
const MAX_DEPTH: usize = 100;

/// Converts the values of `d` that `shapes` (read as one dictionary) type differently.
pub(crate) fn dict(d: &mut plist::Dictionary, shapes: &[ShapeRef<'_>], depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for (k, v) in d.iter_mut() {
        if let Some((shape, spec)) = lookup(shapes, k) {
            value(v, shape, spec, depth + 1);
        }
    }
}

/// Converts one value, and what it holds, according to its key spec.
fn value(v: &mut Value, shape: ShapeRef<'_>, spec: &KeySpec, depth: usize) {
    if let Some(converted) = scalar(v, spec.ty) {
        *v = converted;
        return;
    }
    match v {
        Value::Array(items) if spec.ty == Ty::Array => {
            let Some(item_shape) = shape.sub(spec) else { return };
            for item in items.iter_mut().filter(|_| depth <= MAX_DEPTH) {
                if let Some(item_spec) = item_spec(item_shape, item) {
                    value(item, item_shape, item_spec, depth + 1);
                }
            }
        }
        Value::Dictionary(d) if spec.ty == Ty::Dictionary => {
            if let Some(sub) = shape.sub(spec) {
                dict(d, &[sub], depth + 1);
            }
        }
        _ => {}
    }
}

/// The converted value of a scalar that JSON could not type, when it converts.
fn scalar(v: &Value, ty: Ty) -> Option<Value> {
    match (ty, v) {
        (Ty::Data, Value::String(s)) => decode_base64(s).ok().map(Value::Data),
        (Ty::Date, Value::String(s)) => Date::parse(s).ok().map(|d| Value::Date(plist::Date::from(d.0))),
        (Ty::Real, Value::Integer(i)) => i.as_signed().map(|n| n as f64).or_else(|| i.as_unsigned().map(|n| n as f64)).map(Value::Real),
        _ => None,
    }
}
