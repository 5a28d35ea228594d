//! `com.apple.webClip.managed`: a Home Screen icon that opens a web page (an intranet portal, a
//! patient-record web app).

use serde::{Deserialize, Serialize};

use super::PayloadKind;
use crate::issue::{key_path, Issue};
use crate::value::Data;

/// `com.apple.webClip.managed` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebClip {
    /// `URL`: the page the clip opens.
    #[serde(rename = "URL")]
    pub url: String,
    /// `Label`: the name shown under the icon.
    #[serde(rename = "Label")]
    pub label: String,
    /// `Icon`: the image shown on the Home Screen (PNG preferred, at most 400×400 pixels).
    #[serde(rename = "Icon", default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<Data>,
    /// `IsRemovable` (default true): whether the user can remove the clip.
    #[serde(rename = "IsRemovable", default, skip_serializing_if = "Option::is_none")]
    pub is_removable: Option<bool>,
    /// `FullScreen` (default false): open as a full-screen web app.
    #[serde(rename = "FullScreen", default, skip_serializing_if = "Option::is_none")]
    pub full_screen: Option<bool>,
    /// `Precomposed` (default false): no shine added to the icon.
    #[serde(rename = "Precomposed", default, skip_serializing_if = "Option::is_none")]
    pub precomposed: Option<bool>,
    /// `IgnoreManifestScope` (iOS 14+, default false): a full-screen clip may navigate to other
    /// sites without Safari UI. No effect unless `FullScreen` is true.
    #[serde(rename = "IgnoreManifestScope", default, skip_serializing_if = "Option::is_none")]
    pub ignore_manifest_scope: Option<bool>,
    /// `TargetApplicationBundleIdentifier` (iOS 14+, MDM only): the app that opens the URL.
    #[serde(rename = "TargetApplicationBundleIdentifier", default, skip_serializing_if = "Option::is_none")]
    pub target_application_bundle_identifier: Option<String>,
}

impl WebClip {
    /// A clip labelled `label` opening `url`, with every optional key left at Apple's default.
    pub fn new(label: impl Into<String>, url: impl Into<String>) -> WebClip {
        WebClip {
            url: url.into(),
            label: label.into(),
            icon: None,
            is_removable: None,
            full_screen: None,
            precomposed: None,
            ignore_manifest_scope: None,
            target_application_bundle_identifier: None,
        }
    }
}

impl PayloadKind for WebClip {
    const TYPE: &'static str = "com.apple.webClip.managed";

    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        if let Err(e) = check_url(&self.url, &["http", "https"]) {
            out.push(Issue::error(key_path(path, "URL"), e));
        }
        if self.label.trim().is_empty() {
            out.push(Issue::error(key_path(path, "Label"), "the label is empty; the Home Screen would show no name"));
        }
        if let Some(icon) = &self.icon {
            if icon.0.is_empty() {
                out.push(Issue::error(key_path(path, "Icon"), "the icon is empty; leave Icon out to get the default"));
            }
        }
        if self.ignore_manifest_scope == Some(true) && self.full_screen != Some(true) {
            out.push(Issue::warning(key_path(path, "IgnoreManifestScope"), "has no effect unless FullScreen is true"));
        }
        if let Some(id) = &self.target_application_bundle_identifier {
            if let Err(e) = check_bundle_id(id) {
                out.push(Issue::error(key_path(path, "TargetApplicationBundleIdentifier"), e));
            }
        }
    }
}

/// Checks that `s` is an absolute URL whose scheme is one of `schemes` (lower case) and that has
/// a host, an optional numeric port and no whitespace. Only what a device needs to reach the
/// server is checked; paths and queries (which may hold `$VARIABLES`) are not.
pub(crate) fn check_url(s: &str, schemes: &[&str]) -> Result<(), String> {
    let wanted = schemes.join(" or ");
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(format!("{s:?} is not an absolute URL; expected {wanted}://host/..."));
    };
    if !schemes.iter().any(|w| scheme.eq_ignore_ascii_case(w)) {
        return Err(format!("{s:?} uses the scheme {scheme:?}; expected {wanted}"));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{s:?} contains whitespace or control characters"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, tail)) => (h, tail.strip_prefix(':')),
            None => return Err(format!("{s:?}: unterminated IPv6 address")),
        }
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err(format!("{s:?} has no host"));
    }
    if !host.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | ':' | '%')) {
        return Err(format!("{s:?}: {host:?} is not a valid host name"));
    }
    if let Some(p) = port {
        if p.parse::<u16>().map_or(true, |n| n == 0) {
            return Err(format!("{s:?}: {p:?} is not a port number (1-65535)"));
        }
    }
    Ok(())
}

/// Checks that `id` looks like a bundle identifier (`com.example.app`): non-empty, no
/// whitespace, only letters, digits, `-` and `.`.
pub(crate) fn check_bundle_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("the bundle identifier is empty".into());
    }
    if !id.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.') {
        return Err(format!("{id:?} is not a bundle identifier (letters, digits, '-' and '.', e.g. com.example.app)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let web = ["http", "https"];
        for ok in ["https://intranet.example.org", "http://10.0.0.1:8080/ehr?x=$SERIALNUMBER", "HTTPS://[fe80::1]:443/", "https://user@host.example/p#frag"] {
            assert_eq!(check_url(ok, &web), Ok(()), "{ok}");
        }
        for bad in ["intranet.example.org", "ftp://x", "https://", "https:///path", "https://a b", "https://h:0/", "https://h:99999", "https://h:x"] {
            assert!(check_url(bad, &web).is_err(), "{bad}");
        }
        assert!(check_url("http://mdm.example.org", &["https"]).is_err());
    }

    #[test]
    fn check_reports_paths() {
        let mut clip = WebClip::new("Portal", "portal.example.org");
        clip.ignore_manifest_scope = Some(true);
        clip.target_application_bundle_identifier = Some("com.example app".into());
        let mut out = Vec::new();
        clip.check("PayloadContent[3]", &mut out);
        let paths: Vec<_> = out.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["PayloadContent[3].URL", "PayloadContent[3].IgnoreManifestScope", "PayloadContent[3].TargetApplicationBundleIdentifier"]);
        let mut out = Vec::new();
        WebClip::new("Portal", "https://portal.example.org").check("P", &mut out);
        assert!(out.is_empty(), "{out:?}");
    }
}
