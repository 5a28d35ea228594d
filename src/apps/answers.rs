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
            .filter_map(|a| Some(Listed { bundle_id: s(a, "Identifier")?, name: s(a, "Name"), version: s(a, "ShortVersion").or_else(|| s(a, "Version")), managed_status: None }))
            .collect();
        return Some((apps, true));
    }
    let managed = report.get("ManagedApplicationList").and_then(|v| v.as_dictionary())?;
    let apps = managed
        .iter()
        .map(|(id, v)| Listed {
            bundle_id: id.clone(),
            name: None,
            version: v.as_dictionary().and_then(|d| s(d, "ExternalVersionIdentifier")),
            managed_status: v.as_dictionary().and_then(|d| s(d, "Status")),
        })
        .collect();
    Some((apps, false))
}

impl AppService {
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
        self.store.record_inventory(enrollment_id.to_string(), rows, full).await?;
        // Desired state: a required app the device had accepted but no longer lists.
        let states = self.store.device_apps(enrollment_id.to_string()).await?;
        let missing: Vec<DeviceApp> = states.into_iter().filter(|s| s.status == status::INSTALLED && !apps.iter().any(|a| a.bundle_id == s.bundle_id)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let Some(ctx) = self.store.device_contexts(vec![enrollment_id.to_string()]).await?.into_iter().next() else { return Ok(()) };
        for s in missing {
            let Some(app) = self.store.app(s.app_id.clone()).await? else { continue };
            if !app.required {
                continue;
            }
            let list = if full { "InstalledApplicationList" } else { "ManagedApplicationList" };
            tracing::warn!(enrollment = %enrollment_id, bundle_id = %app.bundle_id, "required app missing from the device; installing it again");
            self.reinstall(&ctx, &app, &s, format!("{} is not in the device's {list}", app.bundle_id)).await?;
        }
        Ok(())
    }

    async fn command_answered(&self, enrollment_id: &str, command_uuid: &str, st: Status, report: &plist::Dictionary) -> Result<(), AppError> {
        let states = self.store.device_apps(enrollment_id.to_string()).await?;
        let Some(mut s) = states.into_iter().find(|s| s.command_uuid.as_deref() == Some(command_uuid)) else {
            return Ok(()); // superseded by a newer command
        };
        let ok = st == Status::Acknowledged;
        let (kind, detail) = if command_uuid.starts_with(INSTALL_PREFIX) {
            if ok {
                s.status = status::INSTALLED.into();
                s.detail = None;
                ("installed", None)
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
        } else if ok {
            s.detail = Some(format!("configuration {} applied", s.config_version));
            ("configured", s.detail.clone())
        } else {
            s.status = status::FAILED.into();
            s.detail = Some(format!("configuration refused: {}", error_text(report)));
            ("failed", s.detail.clone())
        };
        s.command_uuid = None;
        s.updated_at = now();
        let event = (s.enrollment_id.clone(), s.app_id.clone(), kind.to_string(), detail);
        self.store.put_device_apps(vec![s], vec![event]).await?;
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
