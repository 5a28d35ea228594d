//! The closed sets and value lists of some restrictions keys: `ratingRegion`, `safariAcceptCookies`, the content rating values.

use super::*;

/// `ratingRegion`: the region whose rating scheme tools display (not read by devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RatingRegion {
    /// `us`: United States.
    #[serde(rename = "us")]
    Us,
    /// `au`: Australia.
    #[serde(rename = "au")]
    Au,
    /// `ca`: Canada.
    #[serde(rename = "ca")]
    Ca,
    /// `de`: Germany.
    #[serde(rename = "de")]
    De,
    /// `fr`: France.
    #[serde(rename = "fr")]
    Fr,
    /// `ie`: Ireland.
    #[serde(rename = "ie")]
    Ie,
    /// `jp`: Japan.
    #[serde(rename = "jp")]
    Jp,
    /// `nz`: New Zealand.
    #[serde(rename = "nz")]
    Nz,
    /// `gb`: United Kingdom.
    #[serde(rename = "gb")]
    Gb,
}

/// `safariAcceptCookies`: a `<real>` Apple restricts to 0, 1, 1.5 and 2; other values are
/// refused when read. Integers (`<integer>2</integer>`) are read too; the real is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub enum CookiePolicy {
    /// 0: Prevent Cross-Site Tracking and Block All Cookies, both forced on.
    BlockAll,
    /// 1: Prevent Cross-Site Tracking forced on; the user may block all cookies.
    PreventCrossSiteTracking,
    /// 1.5: same effect as 1 on current systems.
    PreventCrossSiteTrackingLegacy,
    /// 2 (the default): Prevent Cross-Site Tracking on; the user may change both settings.
    Default,
}

impl CookiePolicy {
    /// The number Apple reads.
    pub const fn value(self) -> f64 {
        match self {
            CookiePolicy::BlockAll => 0.0,
            CookiePolicy::PreventCrossSiteTracking => 1.0,
            CookiePolicy::PreventCrossSiteTrackingLegacy => 1.5,
            CookiePolicy::Default => 2.0,
        }
    }
}

impl TryFrom<f64> for CookiePolicy {
    type Error = String;
    fn try_from(v: f64) -> Result<CookiePolicy, String> {
        [CookiePolicy::BlockAll, CookiePolicy::PreventCrossSiteTracking, CookiePolicy::PreventCrossSiteTrackingLegacy, CookiePolicy::Default]
            .into_iter()
            .find(|p| p.value() == v)
            .ok_or_else(|| format!("safariAcceptCookies {v} is not one of 0, 1, 1.5, 2"))
    }
}

impl From<CookiePolicy> for f64 {
    fn from(p: CookiePolicy) -> f64 {
        p.value()
    }
}

/// The values Apple lists for `ratingApps` (All, 17+, 12+, 9+, 4+, None).
pub const RATING_APPS_VALUES: [i64; 6] = [1000, 600, 300, 200, 100, 0];
/// The values Apple lists for `ratingMovies` (All, NC-17, R, PG-13, PG, G, None; US names).
pub const RATING_MOVIES_VALUES: [i64; 7] = [1000, 500, 400, 300, 200, 100, 0];
/// The values Apple lists for `ratingTVShows` (All, TV-MA, TV-14, TV-PG, TV-G, TV-Y7, TV-Y, None).
pub const RATING_TV_SHOWS_VALUES: [i64; 8] = [1000, 600, 500, 400, 300, 200, 100, 0];
