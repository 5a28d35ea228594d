//! The status of one queue row: what the device's report did to it, typed from the report to
//! the SQL. The stored spelling is [`QueueStatus::as_sql`]; the PostgreSQL statements in
//! `postgres.rs` spell the active ones literally and a test checks they agree.

use serde::{Serialize, Serializer};

use crate::protocol::report::Status;

/// Where a command stands for one enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueStatus {
    /// Waiting to be handed out.
    Queued,
    /// The device answered NotNow: handed out again at its next connection.
    NotNow,
    /// The device ran it.
    Acknowledged,
    /// The device failed it.
    Error,
    /// The device found it malformed.
    CommandFormatError,
    /// Taken off the queue by the server (the device checked out or was re-enrolled).
    Cancelled,
}

impl QueueStatus {
    /// Every status, for parsing and tests.
    pub const ALL: [QueueStatus; 6] =
        [QueueStatus::Queued, QueueStatus::NotNow, QueueStatus::Acknowledged, QueueStatus::Error, QueueStatus::CommandFormatError, QueueStatus::Cancelled];

    /// The statuses of a command still to be delivered, as stored (for SQL filters).
    pub const ACTIVE_SQL: [&'static str; 2] = [QueueStatus::Queued.as_sql(), QueueStatus::NotNow.as_sql()];

    /// The status a device's report leads to; `None` for `Idle`, which reports no command.
    pub fn after(report: Status) -> Option<QueueStatus> {
        match report {
            Status::Idle => None,
            Status::Acknowledged => Some(QueueStatus::Acknowledged),
            Status::Error => Some(QueueStatus::Error),
            Status::CommandFormatError => Some(QueueStatus::CommandFormatError),
            Status::NotNow => Some(QueueStatus::NotNow),
        }
    }

    /// The stored spelling.
    pub const fn as_sql(self) -> &'static str {
        match self {
            QueueStatus::Queued => "queued",
            QueueStatus::NotNow => "not_now",
            QueueStatus::Acknowledged => "acknowledged",
            QueueStatus::Error => "error",
            QueueStatus::CommandFormatError => "command_format_error",
            QueueStatus::Cancelled => "cancelled",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(s: &str) -> Option<QueueStatus> {
        QueueStatus::ALL.into_iter().find(|q| q.as_sql() == s)
    }

    /// Still to be delivered.
    pub fn is_active(self) -> bool {
        matches!(self, QueueStatus::Queued | QueueStatus::NotNow)
    }
}

impl Serialize for QueueStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_sql())
    }
}

impl std::fmt::Display for QueueStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_sql())
    }
}

/// A stored status this version does not know (a database written by a newer one).
#[derive(Debug, thiserror::Error)]
#[error("unknown queue status {0:?}")]
pub struct UnknownQueueStatus(String);

impl TryFrom<String> for QueueStatus {
    type Error = UnknownQueueStatus;
    fn try_from(s: String) -> Result<QueueStatus, UnknownQueueStatus> {
        QueueStatus::parse(&s).ok_or(UnknownQueueStatus(s))
    }
}

impl From<QueueStatus> for String {
    fn from(q: QueueStatus) -> String {
        q.as_sql().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip_and_reports_map() {
        for q in QueueStatus::ALL {
            assert_eq!(QueueStatus::parse(q.as_sql()), Some(q));
        }
        assert_eq!(QueueStatus::after(Status::Idle), None);
        assert_eq!(QueueStatus::after(Status::NotNow), Some(QueueStatus::NotNow));
        assert!(QueueStatus::after(Status::NotNow).is_some_and(QueueStatus::is_active));
        assert!(!QueueStatus::Acknowledged.is_active());
    }
}
