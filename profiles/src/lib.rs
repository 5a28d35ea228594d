//! Typed Apple configuration profiles. Grows in the profiles work; empty for now.
