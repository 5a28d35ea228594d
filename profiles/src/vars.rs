//! Per-device variables.
