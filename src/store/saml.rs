//! The device-trust factor as stored: signing keys (sealed) and service providers.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{saml_keys, saml_providers};
use super::{write_tx, Store, StoreError, StoreResult};

/// A signing key.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = saml_keys)]
pub struct SamlKeyRow {
    /// Id.
    pub id: String,
    /// The certificate (published in the metadata).
    pub cert_pem: String,
    /// The private key, sealed.
    #[serde(skip)]
    pub key_sealed: Vec<u8>,
    /// Whether it signs.
    pub active: bool,
    /// Made.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// When it started signing.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub activated_at: Option<NaiveDateTime>,
}

/// A service provider (an identity provider using this server as a factor).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = saml_providers)]
pub struct ProviderRow {
    /// Id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Its entity ID (the assertion's audience).
    pub entity_id: String,
    /// Where assertions go.
    pub acs_url: String,
    /// `email`, `username` or `udid`.
    pub name_id: String,
    /// Made.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// Changed.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: NaiveDateTime,
}

/// SAML keys and providers (reached through [`Store::saml`]).
#[derive(Debug, Clone)]
pub struct SamlStore(pub(super) Store);

impl SamlStore {
    /// Every key, oldest first.
    pub async fn keys(&self) -> StoreResult<Vec<SamlKeyRow>> {
        self.0.run(|conn| Ok(saml_keys::table.order(saml_keys::created_at).select(SamlKeyRow::as_select()).load(conn)?)).await
    }

    /// Stores a key; it signs when `active` (the others stop) or when no key signs yet.
    pub async fn add_key(&self, mut row: SamlKeyRow) -> StoreResult<SamlKeyRow> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let signing: i64 = saml_keys::table.filter(saml_keys::active.eq(true)).count().get_result(conn)?;
                    if signing == 0 {
                        row.active = true;
                    }
                    if row.active {
                        row.activated_at = Some(row.created_at);
                        diesel::update(saml_keys::table).set(saml_keys::active.eq(false)).execute(conn)?;
                    }
                    diesel::insert_into(saml_keys::table).values(&row).execute(conn)?;
                    Ok(row)
                })
            })
            .await
    }

    /// Makes `id` the signing key.
    pub async fn activate(&self, id: String) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let known: i64 = saml_keys::table.find(&id).count().get_result(conn)?;
                    if known == 0 {
                        return Ok(false);
                    }
                    diesel::update(saml_keys::table).set(saml_keys::active.eq(false)).execute(conn)?;
                    diesel::update(saml_keys::table.find(&id))
                        .set((saml_keys::active.eq(true), saml_keys::activated_at.eq(Some(super::now()))))
                        .execute(conn)?;
                    Ok(true)
                })
            })
            .await
    }

    /// Retires a key that does not sign (it leaves the metadata).
    pub async fn delete_key(&self, id: String) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                let active: Option<bool> = saml_keys::table.find(&id).select(saml_keys::active).first(conn).optional()?;
                match active {
                    None => Ok(false),
                    Some(true) => Err(StoreError::Conflict("the signing key cannot be retired: activate another first".into())),
                    Some(false) => Ok(diesel::delete(saml_keys::table.find(&id)).execute(conn)? > 0),
                }
            })
            .await
    }

    /// Every provider, by name.
    pub async fn providers(&self) -> StoreResult<Vec<ProviderRow>> {
        self.0.run(|conn| Ok(saml_providers::table.order(saml_providers::name).select(ProviderRow::as_select()).load(conn)?)).await
    }

    /// A provider by id, name or entity ID.
    pub async fn provider(&self, key: String) -> StoreResult<Option<ProviderRow>> {
        self.0
            .run(move |conn| {
                Ok(saml_providers::table
                    .filter(saml_providers::id.eq(&key).or(saml_providers::name.eq(&key)).or(saml_providers::entity_id.eq(&key)))
                    .select(ProviderRow::as_select())
                    .first(conn)
                    .optional()?)
            })
            .await
    }

    /// Creates or replaces (by id) a provider; names and entity IDs are unique.
    pub async fn put_provider(&self, row: ProviderRow, create: bool) -> StoreResult<ProviderRow> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let taken: i64 = saml_providers::table
                        .filter(saml_providers::name.eq(&row.name).or(saml_providers::entity_id.eq(&row.entity_id)))
                        .filter(saml_providers::id.ne(&row.id))
                        .count()
                        .get_result(conn)?;
                    if taken > 0 {
                        return Err(StoreError::Conflict(format!("a provider with the name {} or the entity ID {} exists", row.name, row.entity_id)));
                    }
                    if create {
                        diesel::insert_into(saml_providers::table).values(&row).execute(conn)?;
                    } else if diesel::update(saml_providers::table.find(&row.id)).set(&row).execute(conn)? == 0 {
                        return Err(StoreError::NotFound(format!("no provider {}", row.id)));
                    }
                    Ok(row)
                })
            })
            .await
    }

    /// Deletes a provider.
    pub async fn delete_provider(&self, id: String) -> StoreResult<bool> {
        self.0.run(move |conn| Ok(diesel::delete(saml_providers::table.find(id)).execute(conn)? > 0)).await
    }
}
