//! Policies through the API: checked, their profile, app and connector references resolved to
//! ids, stored, and the fleet judged again after every change.

use serde_json::{json, Value};

use super::eval::Policy;
use super::policy::{self, Action, Check, PolicySpec};
use super::{ComplianceError, ComplianceService};
use crate::store::compliance::PolicyRow;
use crate::store::now;

/// A stored policy parsed.
pub fn parse_row(r: &PolicyRow) -> Result<Policy, ComplianceError> {
    let bad = |what: &str, e: serde_json::Error| ComplianceError::Internal(format!("policy {}: stored {what} unreadable: {e}", r.name));
    Ok(Policy {
        id: r.id.clone(),
        spec: PolicySpec {
            name: r.name.clone(),
            description: r.description.clone(),
            enabled: r.enabled,
            scope: serde_json::from_str(&r.scope).map_err(|e| bad("scope", e))?,
            rules: serde_json::from_str(&r.rules).map_err(|e| bad("rules", e))?,
            actions: serde_json::from_str(&r.actions).map_err(|e| bad("actions", e))?,
        },
    })
}

/// A policy as the API shows it.
pub fn view(p: &Policy, r: &PolicyRow) -> Value {
    let mut v = serde_json::to_value(&p.spec).unwrap_or_default();
    v["id"] = p.id.clone().into();
    v["created_at"] = crate::timefmt::text(&r.created_at).into();
    v["updated_at"] = crate::timefmt::text(&r.updated_at).into();
    v
}

impl ComplianceService {
    /// Resolves what the policy names (profiles by id or PayloadIdentifier, connectors by id or
    /// name, groups and pools) to stored ids; unknown ones are refused.
    async fn resolve(&self, mut p: PolicySpec) -> Result<PolicySpec, ComplianceError> {
        policy::validate(&p)?;
        for g in &p.scope.groups {
            if self.store.library().group(g.clone()).await?.is_none() {
                return Err(ComplianceError::NotFound(format!("scope.groups: no group {g}")));
            }
        }
        for pool in &p.scope.pools {
            if self.store.shared().pool(pool.clone()).await?.is_none() {
                return Err(ComplianceError::NotFound(format!("scope.pools: no pool {pool}")));
            }
        }
        for r in &mut p.rules {
            if let Check::ProfilesVerified { profiles } = &mut r.check {
                for x in profiles.iter_mut() {
                    *x = self.profile_id(x, "rules.profiles").await?;
                }
            }
        }
        for a in &mut p.actions {
            match a {
                Action::RemoveProfile { profile } | Action::InstallProfile { profile } => *profile = self.profile_id(profile, "actions.profile").await?,
                Action::Connector { connector, .. } => match self.store.connectors().get(connector.clone()).await? {
                    Some(c) => *connector = c.id,
                    None => return Err(ComplianceError::NotFound(format!("actions.connector: no connector {connector}"))),
                },
                _ => {}
            }
        }
        // Checked again on ids: a removal of a required profile named two ways.
        policy::validate(&p)?;
        Ok(p)
    }

    async fn profile_id(&self, key: &str, what: &str) -> Result<String, ComplianceError> {
        if let Some(p) = self.store.library().profile(key.to_string()).await? {
            return Ok(p.id);
        }
        match self.store.library().profile_by_identifier(key.to_string()).await? {
            Some(p) => Ok(p.id),
            None => Err(ComplianceError::NotFound(format!("{what}: no profile {key}"))),
        }
    }

    /// Creates (`key` `None`) or replaces a policy, then asks for a fleet-wide evaluation.
    pub async fn put_policy(&self, key: Option<&str>, spec: PolicySpec) -> Result<Value, ComplianceError> {
        let spec = self.resolve(spec).await?;
        let at = now();
        let old = match key {
            Some(k) => Some(self.store.compliance().policy(k.to_string()).await?.ok_or_else(|| ComplianceError::NotFound(format!("no policy {k}")))?),
            None => None,
        };
        let json_of = |v: serde_json::Result<String>| v.map_err(|e| ComplianceError::Internal(e.to_string()));
        let row = PolicyRow {
            id: old.as_ref().map(|o| o.id.clone()).unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            name: policy::check_text("name", &spec.name)?,
            description: spec.description.clone(),
            enabled: spec.enabled,
            scope: json_of(serde_json::to_string(&spec.scope))?,
            rules: json_of(serde_json::to_string(&spec.rules))?,
            actions: json_of(serde_json::to_string(&spec.actions))?,
            created_at: old.as_ref().map(|o| o.created_at).unwrap_or(at),
            updated_at: at,
        };
        let row = self.store.compliance().put_policy(row, old.is_none()).await?;
        self.changed(&format!("policy {} {}", row.name, if old.is_none() { "created" } else { "changed" })).await?;
        tracing::info!(policy = %row.name, "compliance policy stored");
        Ok(view(&parse_row(&row)?, &row))
    }

    /// Deletes a policy (what its actions did is undone by the evaluation that follows).
    pub async fn delete_policy(&self, key: &str) -> Result<bool, ComplianceError> {
        let Some(row) = self.store.compliance().policy(key.to_string()).await? else { return Ok(false) };
        let gone = self.store.compliance().delete_policy(row.id.clone()).await?;
        self.changed(&format!("policy {} deleted", row.name)).await?;
        Ok(gone)
    }

    /// Every policy as the API shows it.
    pub async fn policies(&self) -> Result<Vec<Value>, ComplianceError> {
        let rows = self.store.compliance().policies().await?;
        rows.iter().map(|r| Ok(view(&parse_row(r)?, r))).collect()
    }

    /// One policy.
    pub async fn policy(&self, key: &str) -> Result<Value, ComplianceError> {
        let r = self.store.compliance().policy(key.to_string()).await?.ok_or_else(|| ComplianceError::NotFound(format!("no policy {key}")))?;
        Ok(view(&parse_row(&r)?, &r))
    }

    async fn changed(&self, why: &str) -> Result<(), ComplianceError> {
        self.forget_policies();
        self.store.compliance().request_sweep(why.to_string()).await?;
        self.wake();
        Ok(())
    }

    /// A device's compliance as the API shows it: status, reasons, pending rules, history and
    /// actions.
    pub async fn device(&self, device_id: &str) -> Result<Value, ComplianceError> {
        let c = self.store.compliance();
        let j = c.judgement(device_id.to_string()).await?;
        let history = c.history(device_id.to_string(), 50).await?;
        let actions = c.actions(device_id.to_string(), 100).await?;
        let inventory = c.inventory(device_id.to_string()).await?;
        let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
        Ok(json!({
            "device": device_id,
            "status": j.as_ref().map(|j| j.status.clone()).unwrap_or_else(|| super::eval::status::UNKNOWN.into()),
            "since": j.as_ref().map(|j| crate::timefmt::text(&j.since)),
            "evaluated_at": j.as_ref().map(|j| crate::timefmt::text(&j.evaluated_at)),
            "reasons": j.as_ref().map(|j| parse(&j.reasons)).unwrap_or(json!([])),
            "pending": j.as_ref().map(|j| parse(&j.pending)).unwrap_or(json!([])),
            "history": history.iter().map(|h| json!({"status": h.status, "previous": h.previous, "at": crate::timefmt::text(&h.at), "reasons": parse(&h.reasons)})).collect::<Vec<_>>(),
            "actions": actions,
            "inventory_reported": inventory.map(|i| json!({
                "device_information": i.device_info_at.map(|t| crate::timefmt::text(&t)),
                "security_info": i.security_info_at.map(|t| crate::timefmt::text(&t)),
                "certificates": i.certificates_at.map(|t| crate::timefmt::text(&t)),
                "profiles": i.profiles_at.map(|t| crate::timefmt::text(&t)),
                "apps": i.apps_at.map(|t| crate::timefmt::text(&t)),
            })),
        }))
    }
}
