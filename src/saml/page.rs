//! The pages the device's browser sees: the form that carries the assertion to the service
//! provider (submitted by script, or by a button without it), and the refusal page.

/// HTML-escapes text for an element or a quoted attribute.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The Content-Security-Policy of the form page: its one fixed inline script (allowed by its
/// hash), posting forms over https (or to this machine, for tests) and nothing else.
pub const POST_CSP: &str = "default-src 'none'; script-src 'sha256-8lDeP0UDwCO6/RhblgeH/ctdBzjVpJxrXizsnIk3cEQ='; form-action https: http://127.0.0.1:* http://localhost:*; style-src 'unsafe-inline'";

/// The fixed script that submits the form.
pub const SUBMIT_SCRIPT: &str = "document.forms[0].submit();";

/// The page that posts `saml_response` to `acs_url`.
pub fn post_form(acs_url: &str, saml_response: &str, relay_state: Option<&str>) -> String {
    let relay = relay_state.map(|r| format!("<input type=\"hidden\" name=\"RelayState\" value=\"{}\">", esc(r))).unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signing in</title></head><body>\
         <form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"SAMLResponse\" value=\"{}\">{relay}\
         <noscript><p>Device verified.</p><button type=\"submit\">Continue</button></noscript></form>\
         <script>{SUBMIT_SCRIPT}</script></body></html>",
        esc(acs_url),
        esc(saml_response)
    )
}

/// The page that says why the device was refused and what to do.
pub fn refused(why: &str, what_to_do: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Device not allowed</title><style>body{{font-family:-apple-system,sans-serif;max-width:34em;margin:2em auto;padding:0 1em;color:#111}}\
         h1{{font-size:1.4em}}</style></head><body><main><h1>This device cannot be used to sign in</h1>\
         <p id=\"why\">{}</p><h2>What to do</h2><p id=\"what\">{}</p></main></body></html>",
        esc(why),
        esc(what_to_do)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_csp_hash_is_the_scripts() {
        use base64::Engine;
        let h = base64::engine::general_purpose::STANDARD.encode(openssl::sha::sha256(super::SUBMIT_SCRIPT.as_bytes()));
        assert!(super::POST_CSP.contains(&format!("'sha256-{h}'")), "{h}");
        assert_eq!(super::esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
