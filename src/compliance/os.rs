//! OS versions: parsing and ordering dotted versions, and the release dates of iOS/iPadOS
//! versions the `max_os_age` rule needs (built in for the public releases, extended or
//! corrected by `compliance.os_releases`).

use std::collections::BTreeMap;

use chrono::NaiveDate;

/// A version as numbers (`18.4.1` → `[18, 4, 1]`); trailing zeros do not matter when compared.
pub type Version = Vec<u32>;

/// Parses `17`, `17.5` or `17.5.1` (at most four parts); `None` for anything else.
pub fn parse_version(v: &str) -> Option<Version> {
    let parts: Vec<&str> = v.trim().split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    parts.iter().map(|p| if p.is_empty() || p.len() > 6 { None } else { p.parse::<u32>().ok() }).collect()
}

/// Compares two versions, missing parts counting as zero.
pub fn compare(a: &[u32], b: &[u32]) -> std::cmp::Ordering {
    let n = a.len().max(b.len());
    (0..n).map(|i| a.get(i).unwrap_or(&0).cmp(b.get(i).unwrap_or(&0))).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
}

/// Release dates of iOS and iPadOS versions (Apple's release notes), `major.minor` and the
/// point releases that mattered for security. A version not listed takes the date of the
/// nearest listed release below it within the same `major.minor`.
const BUILT_IN: &[(&str, &str)] = &[
    ("16.0", "2022-09-12"),
    ("16.1", "2022-10-24"),
    ("16.2", "2022-12-13"),
    ("16.3", "2023-01-23"),
    ("16.4", "2023-03-27"),
    ("16.5", "2023-05-18"),
    ("16.6", "2023-07-24"),
    ("16.7", "2023-09-21"),
    ("17.0", "2023-09-18"),
    ("17.1", "2023-10-25"),
    ("17.2", "2023-12-11"),
    ("17.3", "2024-01-22"),
    ("17.4", "2024-03-05"),
    ("17.5", "2024-05-13"),
    ("17.6", "2024-07-29"),
    ("17.7", "2024-09-16"),
    ("18.0", "2024-09-16"),
    ("18.1", "2024-10-28"),
    ("18.2", "2024-12-11"),
    ("18.3", "2025-01-27"),
    ("18.4", "2025-03-31"),
    ("18.5", "2025-05-12"),
    ("18.6", "2025-07-29"),
    ("26.0", "2025-09-15"),
];

/// Known release dates.
#[derive(Debug, Clone)]
pub struct Releases(Vec<(Version, NaiveDate)>);

impl Releases {
    /// The built-in dates with `extra` (version → `YYYY-MM-DD`) added or overriding them;
    /// an entry that does not parse is an error naming it.
    pub fn new(extra: &BTreeMap<String, String>) -> Result<Releases, String> {
        let mut all: BTreeMap<Version, NaiveDate> = BTreeMap::new();
        let built_in = BUILT_IN.iter().map(|(v, d)| (v.to_string(), d.to_string()));
        for (v, d) in built_in.chain(extra.iter().map(|(v, d)| (v.clone(), d.clone()))) {
            let ver = parse_version(&v).ok_or_else(|| format!("compliance.os_releases: {v:?} is not a version"))?;
            let date = NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| format!("compliance.os_releases.{v}: {d:?} is not a YYYY-MM-DD date"))?;
            all.insert(trim(ver), date);
        }
        Ok(Releases(all.into_iter().collect()))
    }

    /// When `version` was released, if known: its own date, else that of the nearest listed
    /// release below it with the same major and minor number.
    pub fn released(&self, version: &str) -> Option<NaiveDate> {
        let v = trim(parse_version(version)?);
        let family = |x: &Version| x.first() == v.first() && x.get(1).unwrap_or(&0) == v.get(1).unwrap_or(&0);
        self.0.iter().rev().find(|(x, _)| family(x) && compare(x, &v).is_le()).map(|(_, d)| *d)
    }
}

fn trim(mut v: Version) -> Version {
    while v.len() > 1 && v.last() == Some(&0) {
        v.pop();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        let v = |s| parse_version(s).unwrap();
        assert!(compare(&v("17.10"), &v("17.9")).is_gt());
        assert!(compare(&v("18"), &v("18.0.0")).is_eq());
        assert!(compare(&v("17.5.1"), &v("17.5")).is_gt());
        for bad in ["", "17.", "a.b", "1.2.3.4.5", "-1", "17.5 beta"] {
            assert!(parse_version(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn release_dates_fall_back_within_the_minor_release() {
        let mut extra = BTreeMap::new();
        extra.insert("18.4.1".to_string(), "2025-04-16".to_string());
        let r = Releases::new(&extra).unwrap();
        assert_eq!(r.released("18.4").unwrap().to_string(), "2025-03-31");
        assert_eq!(r.released("18.4.1").unwrap().to_string(), "2025-04-16");
        assert_eq!(r.released("18.4.2").unwrap().to_string(), "2025-04-16");
        assert_eq!(r.released("17.5.1").unwrap().to_string(), "2024-05-13");
        assert!(r.released("12.0").is_none());
        extra.insert("x".into(), "2025-01-01".into());
        assert!(Releases::new(&extra).unwrap_err().contains("not a version"));
    }
}
