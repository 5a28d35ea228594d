//! The admin API's error type and its one mapping to HTTP responses.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

/// An admin API failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing or wrong admin key.
    #[error("admin authentication required")]
    Unauthorized,
    /// The token's role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many failed authentications from this client: wait this long.
    #[error("too many failed authentications from this address; try again in {} s", .0.as_secs().max(1))]
    TooManyAttempts(std::time::Duration),
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Conflicts with stored state.
    #[error("{0}")]
    Conflict(String),
    /// What was asked for is gone for good (an event feed cursor below what retention kept).
    #[error("{0}")]
    Gone(String),
    /// A server-side problem.
    #[error("internal error: {0}")]
    Internal(String),
    /// The database is unavailable.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Well-formed but invalid content: every finding with its path (422).
    #[error("{message}")]
    Invalid {
        /// Summary.
        message: String,
        /// Findings (errors and warnings).
        issues: Vec<mdm_profiles::Issue>,
    },
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Pool(p) => ApiError::Unavailable(p.to_string()),
            StoreError::Unavailable(why) => ApiError::Unavailable(why),
            StoreError::DuplicateCommand(u) => ApiError::Conflict(format!("command {u} already exists")),
            StoreError::UnknownEnrollment(id) => ApiError::NotFound(format!("unknown enrollment {id}")),
            e @ StoreError::TopicChange { .. } => ApiError::Conflict(e.to_string()),
            StoreError::Challenge(why) => ApiError::BadRequest(why),
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::Conflict(what) => ApiError::Conflict(what),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "admin API request failed");
        }
        let request_id = crate::http::request_id::current();
        let body = match &self {
            ApiError::Invalid { issues, .. } => serde_json::json!({ "error": self.to_string(), "issues": issues }),
            // What failed inside stays in the log (database text can name tables, hosts, values).
            ApiError::Internal(_) => serde_json::json!({ "error": crate::http::request_id::server_error_message(), "request_id": request_id }),
            ApiError::Unavailable(_) => serde_json::json!({ "error": crate::http::request_id::unavailable_message(), "request_id": request_id }),
            _ => serde_json::json!({ "error": self.to_string() }),
        }
        .to_string();
        let mut resp = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        if let ApiError::TooManyAttempts(wait) = &self {
            crate::http::request_id::retry_after(&mut resp, wait.as_secs());
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            crate::http::request_id::retry_after(&mut resp, crate::http::request_id::RETRY_AFTER_SECS);
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Basic realm=\"mdm\""));
        }
        resp
    }
}

impl From<crate::profiles::input::InputError> for ApiError {
    fn from(e: crate::profiles::input::InputError) -> Self {
        let message = e.to_string();
        match e {
            crate::profiles::input::InputError::Unreadable(_) => ApiError::BadRequest(message),
            crate::profiles::input::InputError::Invalid(issues) => ApiError::Invalid { message, issues },
        }
    }
}

impl From<crate::profiles::LibraryError> for ApiError {
    fn from(e: crate::profiles::LibraryError) -> Self {
        match e {
            crate::profiles::LibraryError::Store(s) => s.into(),
            crate::profiles::LibraryError::Conflict(why) => ApiError::Conflict(why),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::enroll::EnrollError> for ApiError {
    fn from(e: crate::enroll::EnrollError) -> Self {
        use crate::enroll::EnrollError as E;
        match e {
            E::BadRequest(m) | E::Refused(m) => ApiError::BadRequest(m),
            E::NotFound(m) => ApiError::NotFound(m),
            E::Conflict(m) => ApiError::Conflict(m),
            E::Unavailable(m) => ApiError::Unavailable(m),
            E::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl From<crate::apps::AppError> for ApiError {
    fn from(e: crate::apps::AppError) -> Self {
        use crate::apps::AppError as E;
        match e {
            E::Invalid { message, issues } => ApiError::Invalid { message, issues },
            E::BadRequest(m) => ApiError::BadRequest(m),
            E::NotFound(m) => ApiError::NotFound(m),
            E::Conflict(m) => ApiError::Conflict(m),
            E::Unavailable(m) => ApiError::Unavailable(m),
            E::Internal(m) => ApiError::Internal(m),
        }
    }
}
