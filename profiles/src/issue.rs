//! What validation reports: each finding has a path into the profile
//! (`PayloadContent[1].EAPClientConfiguration.AcceptEAPTypes[0]`), a severity and a message.

use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Apple does not document it (an unknown key in a raw payload); the device may ignore it.
    Warning,
    /// The device would refuse or misread the profile.
    Error,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    /// Where: keys joined by `.`, array items as `[i]`; empty for the profile itself.
    pub path: String,
    /// How bad.
    pub severity: Severity,
    /// What is wrong, in words an admin can act on.
    pub message: String,
}

impl Issue {
    /// Whether this is the typed model's refusal of a payload (see
    /// [`crate::profile::TYPED_MODEL`]) that one of `others` already reports more precisely,
    /// at a key inside the same payload.
    pub fn repeats(&self, others: &[Issue]) -> bool {
        self.severity == Severity::Error
            && self.message.starts_with(crate::profile::TYPED_MODEL)
            && others.iter().any(|o| o.severity == Severity::Error && o.path.strip_prefix(self.path.as_str()).is_some_and(|rest| rest.starts_with('.')))
    }

    /// An error at `path`.
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Issue {
        Issue { path: path.into(), severity: Severity::Error, message: message.into() }
    }

    /// A warning at `path`.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Issue {
        Issue { path: path.into(), severity: Severity::Warning, message: message.into() }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        if self.path.is_empty() {
            write!(f, "{sev}: {}", self.message)
        } else {
            write!(f, "{sev}: {}: {}", self.path, self.message)
        }
    }
}

/// Joins a dictionary key onto a path.
pub fn key_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Joins an array index onto a path.
pub fn index_path(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// True when any finding is an error.
pub fn has_errors(issues: &[Issue]) -> bool {
    issues.iter().any(|i| i.severity == Severity::Error)
}
