//! What admins manage around enrollment: local users, enrollment tokens (with their link and QR
//! code) and blueprints. Everything named (groups, users, blueprints) must exist when saved.

use serde::Deserialize;

use super::blueprint::{Blueprint, DEFAULT_NAME};
use super::{password, qr, random_secret, EnrollError, EnrollService};
use crate::identity::cert::sha256_hex;
use crate::store::enroll::{BlueprintRow, TokenRow, UserRow};
use crate::store::now;

/// A user to create.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// Password (at least 8 characters; stored as an Argon2id hash).
    pub password: String,
    /// Display name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Group their devices join.
    #[serde(default)]
    pub group: Option<String>,
    /// Blueprint their enrollments run.
    #[serde(default)]
    pub blueprint: Option<String>,
}

/// Changes to a user; absent fields stay, an empty string clears an optional one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChanges {
    /// New password.
    #[serde(default)]
    pub password: Option<String>,
    /// Display name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Group.
    #[serde(default)]
    pub group: Option<String>,
    /// Blueprint.
    #[serde(default)]
    pub blueprint: Option<String>,
    /// Disable or enable logins.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// A token to create.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Admin's note (where it is used).
    #[serde(default)]
    pub note: Option<String>,
    /// How many devices may enroll with it; default 1. Ignored with `unlimited`.
    #[serde(default)]
    pub max_uses: Option<i32>,
    /// Any number of devices until it expires or is revoked.
    #[serde(default)]
    pub unlimited: bool,
    /// Lifetime, e.g. `7d`, `12h` (default 7 days).
    #[serde(default, with = "humantime_serde")]
    pub expires_in: Option<std::time::Duration>,
    /// The user enrollments are made for.
    #[serde(default)]
    pub user: Option<String>,
    /// The group enrolled devices join.
    #[serde(default)]
    pub group: Option<String>,
    /// The blueprint enrolled devices run.
    #[serde(default)]
    pub blueprint: Option<String>,
}

/// A created token: the only time its value is shown.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    /// The stored record.
    pub row: TokenRow,
    /// The secret value.
    pub value: String,
    /// The enrollment page link with the token.
    pub url: String,
    /// The direct enrollment profile link (`/mdm/enroll?token=`).
    pub direct_url: String,
    /// A QR code of `url`, PNG.
    pub qr_png: Vec<u8>,
}

fn cleared(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn check_username(name: &str) -> Result<(), EnrollError> {
    let ok = !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(EnrollError::BadRequest(format!("username {name:?}: 1 to 64 characters among letters, digits and . _ - @")))
    }
}

async fn hash_password(pw: String) -> Result<String, EnrollError> {
    tokio::task::spawn_blocking(move || password::hash(&pw)).await.map_err(|e| EnrollError::Internal(e.to_string()))?.map_err(|e| match e {
        password::PasswordError::TooShort => EnrollError::BadRequest(e.to_string()),
        other => EnrollError::Internal(other.to_string()),
    })
}

impl EnrollService {
    /// Refuses names of groups, users or blueprints that do not exist.
    async fn check_refs(&self, user: Option<&str>, group: Option<&str>, blueprint: Option<&str>) -> Result<(), EnrollError> {
        let store = &self.inner;
        if let Some(u) = user {
            if store.enroll.user(u.to_string()).await?.is_none() {
                return Err(EnrollError::NotFound(format!("no user {u}")));
            }
        }
        if let Some(g) = group {
            if store.library.group(g.to_string()).await?.is_none() {
                return Err(EnrollError::NotFound(format!("no group {g}; create it first (POST /v1/groups)")));
            }
        }
        if let Some(b) = blueprint {
            if self.blueprint_named(b).await?.is_none() {
                return Err(EnrollError::NotFound(format!("no blueprint {b}")));
            }
        }
        Ok(())
    }

    /// Creates a user.
    pub async fn create_user(&self, u: NewUser) -> Result<UserRow, EnrollError> {
        let username = u.username.trim().to_string();
        check_username(&username)?;
        let (group, blueprint) = (cleared(u.group), cleared(u.blueprint));
        self.check_refs(None, group.as_deref(), blueprint.as_deref()).await?;
        let at = now();
        let row = UserRow {
            username,
            password_hash: hash_password(u.password).await?,
            full_name: cleared(u.full_name),
            email: cleared(u.email),
            group_name: group,
            blueprint,
            disabled: false,
            created_at: at,
            updated_at: at,
        };
        self.inner.enroll.create_user(row.clone()).await?;
        tracing::info!(username = %row.username, "user created");
        Ok(row)
    }

    /// Changes a user.
    pub async fn update_user(&self, username: &str, c: UserChanges) -> Result<UserRow, EnrollError> {
        let store = &self.inner;
        let mut row = store.enroll.user(username.to_string()).await?.ok_or_else(|| EnrollError::NotFound(format!("no user {username}")))?;
        if let Some(pw) = c.password {
            row.password_hash = hash_password(pw).await?;
        }
        if c.full_name.is_some() {
            row.full_name = cleared(c.full_name);
        }
        if c.email.is_some() {
            row.email = cleared(c.email);
        }
        if c.group.is_some() {
            row.group_name = cleared(c.group);
        }
        if c.blueprint.is_some() {
            row.blueprint = cleared(c.blueprint);
        }
        if let Some(d) = c.disabled {
            row.disabled = d;
        }
        self.check_refs(None, row.group_name.as_deref(), row.blueprint.as_deref()).await?;
        row.updated_at = now();
        store.enroll.update_user(row.clone()).await?;
        Ok(row)
    }

    /// Creates an enrollment token.
    pub async fn create_token(&self, t: NewToken) -> Result<CreatedToken, EnrollError> {
        let (user, group, blueprint) = (cleared(t.user), cleared(t.group), cleared(t.blueprint));
        self.check_refs(user.as_deref(), group.as_deref(), blueprint.as_deref()).await?;
        let max_uses = if t.unlimited { None } else { Some(t.max_uses.unwrap_or(1)) };
        if max_uses.is_some_and(|m| m < 1) {
            return Err(EnrollError::BadRequest("max_uses must be at least 1 (or set unlimited)".into()));
        }
        let ttl = t.expires_in.unwrap_or(std::time::Duration::from_secs(7 * 86_400));
        let at = now();
        let expires_at = crate::lifetime::expiry("expires_in", at, ttl, crate::lifetime::MAX_TOKEN).map_err(|e| EnrollError::BadRequest(e.to_string()))?;
        let value = random_secret(24)?;
        let row = TokenRow {
            id: uuid::Uuid::new_v4().to_string(),
            token_hash: sha256_hex(value.as_bytes()),
            note: cleared(t.note),
            max_uses,
            uses: 0,
            username: user,
            group_name: group,
            blueprint,
            expires_at: Some(expires_at),
            revoked_at: None,
            created_at: at,
        };
        self.inner.enroll.create_token(row.clone()).await?;
        let url = format!("{}?token={value}", self.page_url());
        let direct_url = format!("{}/mdm/enroll?token={value}", self.inner.urls.base);
        let qr_png = qr::png(&url).map_err(|e| EnrollError::Internal(e.to_string()))?;
        tracing::info!(token = %row.id, max_uses = ?row.max_uses, "enrollment token created");
        Ok(CreatedToken { row, value, url, direct_url, qr_png })
    }

    /// Creates or replaces a blueprint after checking it; true when it was new.
    pub async fn put_blueprint(&self, name: &str, b: &Blueprint) -> Result<bool, EnrollError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 64 || name.contains('/') {
            return Err(EnrollError::BadRequest("a blueprint name has 1 to 64 characters and no /".into()));
        }
        let problems = b.check();
        if !problems.is_empty() {
            return Err(EnrollError::BadRequest(format!("invalid blueprint: {}", problems.join("; "))));
        }
        let body = serde_json::to_string(b).map_err(|e| EnrollError::Internal(e.to_string()))?;
        Ok(self.inner.enroll.put_blueprint(name.to_string(), body).await?)
    }

    /// Every blueprint: the stored ones, and the built-in default unless replaced.
    pub async fn blueprints(&self) -> Result<Vec<(String, Blueprint, bool)>, EnrollError> {
        let rows: Vec<BlueprintRow> = self.inner.enroll.blueprints().await?;
        let mut out = Vec::new();
        for r in rows {
            let b = serde_json::from_str(&r.body).map_err(|e| EnrollError::Internal(format!("stored blueprint {} is unreadable: {e}", r.name)))?;
            out.push((r.name, b, true));
        }
        if !out.iter().any(|(n, ..)| n == DEFAULT_NAME) {
            out.push((DEFAULT_NAME.to_string(), Blueprint::default(), false));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn usernames() {
        assert!(super::check_username("nurse.jane@ward3").is_ok());
        assert!(super::check_username("").is_err());
        assert!(super::check_username("a b").is_err());
        assert!(super::check_username(&"x".repeat(65)).is_err());
    }
}
