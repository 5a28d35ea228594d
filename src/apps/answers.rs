//! What devices say about apps: answers to the app commands, and app lists (whoever asked for
//! them), which are stored and compared with what should be installed.

use futures::future::BoxFuture;

use super::commands::{CONFIG_PREFIX, INSTALL_PREFIX, LIST_PREFIX, REMOVE_PREFIX};
use super::sync::status;
use super::{AppError, AppService};
use crate::protocol::report::{error_text, Status};
use crate::service::hooks::{Answered, DeviceHooks};
use crate::store::apps::{DeviceApp, InventoryRow};
use crate::store::now;

/// An app a report lists.
#[derive(Debug, PartialEq)]
struct Listed {
    bundle_id: String,
    name: Option<String>,
    version: Option<String>,
    managed_status: Option<String>,
}

/// The apps a report lists, and whether the list is the full InstalledApplicationList (else a
/// ManagedApplicationList).
fn listed(report: &plist::Dictionary) -> Option<(Vec<Listed>, bool)> {
    let s = |d: &plist::Dictionary, k: &str| d.get(k).and_then(|v| v.as_string()).map(str::to_string);
    if let Some(list) = report.get("InstalledApplicationList").and_then(|v| v.as_array()) {
        let apps = list
            .iter()
            .filter_map(|a| a.as_dictionary())
            .filter_map(|a| {
                Some(Listed {
                    bundle_id: s(a, "Identifier")?,
                    name: s(a, "Name"),
                    version: s(a, "ShortVersion").or_else(|| s(a, "Version")),
                    managed_status: None,
                })
            })
            .collect();
        return Some((apps, true));
    }
    let managed = report.get("ManagedApplicationList").and_then(|v| v.as_dictionary())?;
    let apps = managed
        .iter()
        .map(|(id, v)| Listed {
            bundle_id: id.clone(),
            name: None,
            version: v.as_dictionary().and_then(|d| d.get("ExternalVersionIdentifier")).and_then(|x| x.as_signed_integer()).map(|x| x.to_string()),
            managed_status: v.as_dictionary().and_then(|d| s(d, "Status")),
        })
        .collect();
    Some((apps, false))
}

/// ManagedApplicationList statuses of an app that is not on the device although iOS still lists
/// it (the person deleted it, or refused it).
const GONE: [&str; 3] = ["ManagedButUninstalled", "UserRejected", "ManagementRejected"];

/// InstallApplication `State`s that mean the install will not happen.
const REFUSED: [&str; 5] = ["UserRejected", "ManagementRejected", "Failed", "UpdateRejected", "NeedsRedemption"];

/// The first entry of a Settings answer's per-item results (an array on devices; Apple's
/// schema describes one dictionary), as `Some(error text)` when it failed.
fn settings_item_error(report: &plist::Dictionary) -> Option<String> {
    let item = match report.get("Settings") {
        Some(plist::Value::Array(a)) => a.first().and_then(|v| v.as_dictionary()),
        Some(plist::Value::Dictionary(d)) => Some(d),
        _ => None,
    }?;
    (item.get("Status").and_then(|v| v.as_string()) == Some("Error")).then(|| error_text(item))
}

impl AppService {
    /// The identifiers a list command asked about (`None`: every app) and whether it was
    /// limited to managed apps.
    async fn list_scope(&self, command_uuid: &str) -> Result<(Option<Vec<String>>, bool), AppError> {
        let Some(cmd) = self.queue.listing().command(command_uuid.to_string()).await? else { return Ok((None, false)) };
        let body = crate::protocol::parse_dict(&cmd.body).ok();
        let c = body.as_ref().and_then(|d| d.get("Command")).and_then(|v| v.as_dictionary());
        let ids = c.and_then(|c| c.get("Identifiers")).and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|x| x.as_string().map(str::to_string)).collect());
        let managed_only = c.and_then(|c| c.get("ManagedAppsOnly")).and_then(|v| v.as_boolean()).unwrap_or(false);
        Ok((ids, managed_only))
    }

    /// Handles a result: updates the state of the app command it answers, records app lists,
    /// and re-installs required apps a list shows missing.
    pub async fn on_answer(&self, enrollment_id: &str, command_uuid: &str, st: Status, report: &plist::Dictionary) -> Result<(), AppError> {
        if [INSTALL_PREFIX, REMOVE_PREFIX, CONFIG_PREFIX].iter().any(|p| command_uuid.starts_with(p)) {
            self.command_answered(enrollment_id, command_uuid, st, report).await?;
        }
        if st != Status::Acknowledged {
            return Ok(());
        }
        let Some((apps, full)) = listed(report) else { return Ok(()) };
        // A list limited to some apps only speaks for those.
        let (scope, managed_only) = self.list_scope(command_uuid).await?;
        let full = full && scope.is_none() && !managed_only;
        let at = now();
        let rows = apps
            .iter()
            .map(|a| InventoryRow {
                enrollment_id: enrollment_id.to_string(),
                bundle_id: a.bundle_id.clone(),
                name: a.name.clone(),
                version: a.version.clone(),
                managed_status: a.managed_status.clone(),
                reported_at: at,
            })
            .collect();
        self.apps.record_inventory(enrollment_id.to_string(), rows, full).await?;
        // Desired state: a required app the device had accepted but no longer lists.
        let states = self.apps.device_apps(enrollment_id.to_string()).await?;
        let present = |id: &str| apps.iter().any(|a| a.bundle_id == id && !a.managed_status.as_deref().is_some_and(|st| GONE.contains(&st)));
        let asked = |id: &str| scope.as_ref().is_none_or(|ids| ids.iter().any(|i| i == id));
        let missing: Vec<DeviceApp> = states.into_iter().filter(|s| s.status == status::INSTALLED && asked(&s.bundle_id) && !present(&s.bundle_id)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let Some(ctx) = self.library.device_contexts(vec![enrollment_id.to_string()]).await?.into_iter().next() else { return Ok(()) };
        for s in missing {
            let Some(app) = self.apps.app(s.app_id.clone()).await? else { continue };
            if !app.required {
                continue;
            }
            let list = if report.contains_key("InstalledApplicationList") { "InstalledApplicationList" } else { "ManagedApplicationList" };
            let how = apps
                .iter()
                .find(|a| a.bundle_id == app.bundle_id)
                .and_then(|a| a.managed_status.clone())
                .map(|st| format!("is {st}"))
                .unwrap_or_else(|| "is not listed".into());
            tracing::warn!(enrollment = %enrollment_id, bundle_id = %app.bundle_id, "required app missing from the device; installing it again");
            self.reinstall(&ctx, &app, &s, format!("{} {how} in the device's {list}", app.bundle_id)).await?;
        }
        Ok(())
    }

    async fn command_answered(&self, enrollment_id: &str, command_uuid: &str, st: Status, report: &plist::Dictionary) -> Result<(), AppError> {
        let states = self.apps.device_apps(enrollment_id.to_string()).await?;
        let Some(mut s) = states.into_iter().find(|s| s.command_uuid.as_deref() == Some(command_uuid)) else {
            return Ok(()); // superseded by a newer command
        };
        let ok = st == Status::Acknowledged;
        let (kind, detail) = if command_uuid.starts_with(INSTALL_PREFIX) {
            let state = report.get("State").and_then(|v| v.as_string());
            let refused = state.filter(|st| REFUSED.contains(st));
            if let (true, Some(st)) = (ok, refused) {
                let reason = report.get("RejectionReason").and_then(|v| v.as_string()).map(|r| format!(" ({r})")).unwrap_or_default();
                s.status = status::FAILED.into();
                s.detail = Some(format!("the device answered State {st}{reason}"));
                ("failed", s.detail.clone())
            } else if ok {
                s.status = status::INSTALLED.into();
                s.detail = state.map(|st| format!("accepted; device state {st}"));
                ("installed", s.detail.clone())
            } else {
                s.status = status::FAILED.into();
                s.detail = Some(error_text(report));
                ("failed", s.detail.clone())
            }
        } else if command_uuid.starts_with(REMOVE_PREFIX) {
            if ok {
                s.status = "gone".into();
                ("removed", None)
            } else {
                s.status = status::FAILED.into();
                s.detail = Some(format!("removal failed: {}", error_text(report)));
                ("failed", s.detail.clone())
            }
        } else {
            let why = if ok { settings_item_error(report) } else { Some(error_text(report)) };
            match why {
                None => {
                    s.detail = Some(format!("configuration {} applied", s.config_version));
                    ("configured", s.detail.clone())
                }
                Some(why) => {
                    s.status = status::FAILED.into();
                    s.detail = Some(format!("configuration refused: {why}"));
                    ("failed", s.detail.clone())
                }
            }
        };
        s.command_uuid = None;
        s.updated_at = now();
        let event = (s.enrollment_id.clone(), s.app_id.clone(), kind.to_string(), detail);
        self.apps.put_device_apps(vec![s], vec![event]).await?;
        Ok(())
    }
}

impl DeviceHooks for AppService {
    fn wants_result(&self, command_uuid: &str, report: &plist::Dictionary) -> bool {
        [INSTALL_PREFIX, REMOVE_PREFIX, CONFIG_PREFIX, LIST_PREFIX].iter().any(|p| command_uuid.starts_with(p))
            || report.contains_key("InstalledApplicationList")
            || report.contains_key("ManagedApplicationList")
    }

    fn answered(&self, a: Answered) -> BoxFuture<'static, ()> {
        let svc = self.clone();
        Box::pin(async move {
            if let Err(e) = svc.on_answer(&a.enrollment_id, &a.command_uuid, a.status, &a.report).await {
                tracing::error!(enrollment = %a.enrollment_id, command_uuid = %a.command_uuid, error = %e, "app state not updated");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_both_lists() {
        let installed = plist::Value::from_reader_xml(
            &br#"<plist version="1.0"><dict><key>InstalledApplicationList</key><array><dict><key>Identifier</key><string>com.a</string><key>Name</key><string>A</string><key>ShortVersion</key><string>1.2</string></dict></array></dict></plist>"#[..],
        )
        .unwrap();
        let (apps, full) = super::listed(installed.as_dictionary().unwrap()).unwrap();
        assert!(full);
        assert_eq!(apps, [super::Listed { bundle_id: "com.a".into(), name: Some("A".into()), version: Some("1.2".into()), managed_status: None }]);
        let managed = plist::Value::from_reader_xml(
            &br#"<plist version="1.0"><dict><key>ManagedApplicationList</key><dict><key>com.b</key><dict><key>Status</key><string>Managed</string></dict></dict></dict></plist>"#[..],
        )
        .unwrap();
        let (apps, full) = super::listed(managed.as_dictionary().unwrap()).unwrap();
        assert!(!full);
        assert_eq!(apps[0].bundle_id, "com.b");
        assert_eq!(apps[0].managed_status.as_deref(), Some("Managed"));
        assert!(super::listed(&plist::Dictionary::new()).is_none());
    }
}
