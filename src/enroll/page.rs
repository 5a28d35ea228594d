//! The enrollment page people open in Safari: a login form, or a token link's install button,
//! and the messages when something is wrong. Plain HTML, no scripts; every dynamic value is
//! escaped.

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(organization: &str, body: &str) -> String {
    let org = escape(organization);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{org} device enrollment</title>\
<style>body{{font-family:-apple-system,system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}}\
h1{{font-size:1.5rem}}label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.6rem;font-size:1rem;box-sizing:border-box}}\
button,.button{{display:block;width:100%;margin-top:1.2rem;padding:.8rem;font-size:1rem;background:#0071e3;color:#fff;border:0;border-radius:.5rem;text-align:center;text-decoration:none}}\
.error{{background:#fde8e8;color:#9b1c1c;padding:.7rem;border-radius:.4rem}}small{{color:#6e6e73}}</style>\
</head><body><h1>{org} device enrollment</h1>\n{body}\n</body></html>\n"
    )
}

fn message(error: Option<&str>) -> String {
    error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default()
}

/// The login form, with an optional error message.
pub fn login(organization: &str, error: Option<&str>) -> String {
    let body = format!(
        "{}<form method=\"post\" action=\"/enroll\">\
<label for=\"username\">Username</label><input id=\"username\" name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" required>\
<label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
<button type=\"submit\">Enroll this device</button></form>\
<p><small>After signing in, allow the download, then open Settings → Profile Downloaded and install it.</small></p>",
        message(error)
    );
    layout(organization, &body)
}

/// A token link's page: a button that downloads the profile-service profile.
pub fn token(organization: &str, token: &str, user: Option<&str>) -> String {
    let who = user.map(|u| format!("<p>This device will be enrolled for <strong>{}</strong>.</p>", escape(u))).unwrap_or_default();
    let body = format!(
        "{who}<a class=\"button\" href=\"/enroll/profile?token={}\">Install enrollment profile</a>\
<p><small>Allow the download, then open Settings → Profile Downloaded and install it.</small></p>",
        escape(&percent_encoding::utf8_percent_encode(token, percent_encoding::NON_ALPHANUMERIC).to_string())
    );
    layout(organization, &body)
}

/// A page that only explains a problem (a token that cannot be used, the service not set up).
pub fn problem(organization: &str, error: &str) -> String {
    layout(organization, &message(Some(error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_dynamic() {
        let p = login("<Clinic>", Some("bad \"x\" & <script>"));
        assert!(p.contains("&lt;Clinic&gt;"));
        assert!(p.contains("bad &quot;x&quot; &amp; &lt;script&gt;"));
        assert!(!p.contains("<script>"));
        let t = token("C", "ab\"c", Some("<u>"));
        assert!(t.contains("href=\"/enroll/profile?token=ab%22c\""));
        assert!(t.contains("&lt;u&gt;"));
    }
}
