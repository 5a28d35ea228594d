//! Admin API tokens (hashed) and the audit log of admin changes.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{api_tokens, audit_log};
use super::{Store, StoreError, StoreResult};

/// An API token as stored: never its value, only the value's SHA-256.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    /// Id.
    pub id: String,
    /// Unique name (who uses it: "helpdesk-laptop-3", "okta-posture").
    pub name: String,
    /// `admin`, `helpdesk`, `read-only`, `posture` or `kiosk`.
    pub role: String,
    /// For `kiosk`: the one device it may act for.
    pub device_id: Option<String>,
    /// SHA-256 of the value, hex (never serialized).
    #[serde(skip)]
    pub token_hash: String,
    /// Who made it (a token's name, `bootstrap key`, or `cli`).
    pub created_by: String,
    /// Created.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// Not valid after this.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub expires_at: Option<NaiveDateTime>,
    /// Revoked at.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub revoked_at: Option<NaiveDateTime>,
    /// Last used (updated at most once a minute).
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub last_used_at: Option<NaiveDateTime>,
}

/// One audit log entry as stored.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    /// Id (grows).
    pub id: i64,
    /// The entry.
    #[diesel(embed)]
    #[serde(flatten)]
    pub entry: NewAudit,
}

/// An audit entry: who, what, when, from where, and the outcome.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = audit_log)]
pub struct NewAudit {
    /// When.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub at: NaiveDateTime,
    /// Who: the token's name, or `bootstrap key`.
    pub actor: String,
    /// The token's id.
    pub token_id: Option<String>,
    /// The role it acted with.
    pub role: String,
    /// From where: the client's address.
    pub client: String,
    /// What: the HTTP method…
    pub method: String,
    /// … and path (query strings left out: they can carry tokens).
    pub path: String,
    /// The outcome: the HTTP status answered.
    pub status: i32,
    /// More about it, when there is more.
    pub detail: Option<String>,
}

/// API tokens and the audit log (reached through [`Store::tokens`]).
#[derive(Debug, Clone)]
pub struct TokenStore(pub(super) Store);

impl TokenStore {
    /// Stores a new token (its name must be unused).
    pub async fn create_api_token(&self, row: ApiTokenRow) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                let taken: i64 = api_tokens::table.filter(api_tokens::name.eq(&row.name)).count().get_result(conn)?;
                if taken > 0 {
                    return Err(StoreError::Conflict(format!("an API token named {} exists", row.name)));
                }
                diesel::insert_into(api_tokens::table).values(&row).execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Every token, newest first.
    pub async fn api_tokens(&self) -> StoreResult<Vec<ApiTokenRow>> {
        self.0.run(|conn| Ok(api_tokens::table.order(api_tokens::created_at.desc()).select(ApiTokenRow::as_select()).load(conn)?)).await
    }

    /// The token with this hash.
    pub async fn api_token_by_hash(&self, hash: String) -> StoreResult<Option<ApiTokenRow>> {
        self.0.run(move |conn| Ok(api_tokens::table.filter(api_tokens::token_hash.eq(hash)).select(ApiTokenRow::as_select()).first(conn).optional()?)).await
    }

    /// Revokes a token by id or name; false when there is none (or it was revoked already).
    pub async fn revoke_api_token(&self, id_or_name: String, at: NaiveDateTime) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                let n = diesel::update(
                    api_tokens::table.filter(api_tokens::id.eq(&id_or_name).or(api_tokens::name.eq(&id_or_name))).filter(api_tokens::revoked_at.is_null()),
                )
                .set(api_tokens::revoked_at.eq(Some(at)))
                .execute(conn)?;
                Ok(n > 0)
            })
            .await
    }

    /// Notes a token's use.
    pub async fn touch_api_token(&self, id: String, at: NaiveDateTime) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                diesel::update(api_tokens::table.find(&id)).set(api_tokens::last_used_at.eq(Some(at))).execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Appends to the audit log.
    pub async fn audit(&self, entry: NewAudit) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                super::write_tx(conn, |conn| {
                    diesel::insert_into(audit_log::table).values(&entry).execute(conn)?;
                    let data = serde_json::json!({
                        "actor": entry.actor, "role": entry.role, "client": entry.client, "method": entry.method,
                        "path": entry.path, "status": entry.status, "detail": entry.detail,
                    });
                    super::events::emit_one(conn, entry.at, super::events::NewEvent::new(super::events::topic::ADMIN_CHANGE, data))
                })
            })
            .await
    }

    /// Audit entries newest first: at most `limit`, older than id `before` when given.
    pub async fn audit_log(&self, limit: i64, before: Option<i64>) -> StoreResult<Vec<AuditRow>> {
        self.0
            .run(move |conn| {
                let mut q = audit_log::table.order(audit_log::id.desc()).limit(limit).select(AuditRow::as_select()).into_boxed();
                if let Some(b) = before {
                    q = q.filter(audit_log::id.lt(b));
                }
                Ok(q.load(conn)?)
            })
            .await
    }
}
