//! Apple schema validation.
