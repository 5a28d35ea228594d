//! Device Traffic Rules.
