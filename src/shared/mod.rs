//! x
pub mod action;
