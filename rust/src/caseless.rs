//! Names and emails compared ignoring case, by Unicode's default lowercase mapping (a transition
//! or group named by an admin, an event's login hint or the ticket's person against the
//! verification's email).
//!
//! In the wasm modules the engine's `String.prototype.toLowerCase` maps the text: the same
//! Unicode mapping as `str::to_lowercase`, whose tables would be about 18 KB of the webhook's
//! module (bench/README.md). Natively (the tests, the model check) it is `str::to_lowercase`.

/// Whether `a` and `b` are the same text ignoring case.
pub fn eq(a: &str, b: &str) -> bool {
    // Only when both are ASCII is ASCII's case all there is: "K" (the Kelvin sign) is "k".
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    lowercase_eq(a, b)
}

#[cfg(target_arch = "wasm32")]
fn lowercase_eq(a: &str, b: &str) -> bool {
    let lower = |text: &str| js_sys::JsString::from(text).to_lower_case();
    lower(a) == lower(b)
}

#[cfg(not(target_arch = "wasm32"))]
fn lowercase_eq(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::eq;

    #[test]
    fn ignores_case_by_unicode_mapping() {
        assert!(eq("Verified", "VERIFIED"));
        assert!(eq("Jörg.Müller@Example.com", "JÖRG.MÜLLER@example.COM"));
        assert!(eq("\u{212A}elvin", "kelvin"));
        assert!(eq("ΣΊΣΥΦΟΣ", "σίσυφος"));
        assert!(!eq("Verified", "Verified "));
        assert!(!eq("jorg@example.com", "jörg@example.com"));
        assert!(!eq("", "a"));
    }
}
