//! The cookies of sign-in: the session cookie and the short-lived login cookie that binds a
//! sign-in to the browser that started it (so that nobody can finish their own sign-in in
//! someone else's browser).
//!
//! Both are `HttpOnly`, `SameSite=Lax` (sent when the provider redirects the browser back, never
//! with another site's requests) and `Path=/`. Over HTTPS they are `Secure` and carry the
//! `__Host-` prefix, which makes the browser refuse them from a subdomain or over plain HTTP.
//! Browsers accept that prefix only on `Secure` cookies, so over plain HTTP (the demo, local
//! development) the names drop it: `licensedot_session`, `licensedot_login`.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

/// The cookie names and attributes for this gateway's public URL.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cookies {
    secure: bool,
}

impl Cookies {
    /// `Secure` and `__Host-` when browsers reach the gateway over HTTPS.
    pub(crate) fn for_public_url(public_url: Option<&str>) -> Self {
        Self {
            secure: public_url.is_some_and(|url| url.starts_with("https://")),
        }
    }

    /// The session cookie's name.
    pub(crate) fn session(&self) -> &'static str {
        if self.secure {
            "__Host-licensedot_session"
        } else {
            "licensedot_session"
        }
    }

    /// The login cookie's name.
    pub(crate) fn login(&self) -> &'static str {
        if self.secure {
            "__Host-licensedot_login"
        } else {
            "licensedot_login"
        }
    }

    /// A `Set-Cookie` value setting `name` to `value` for `max_age_secs`.
    pub(crate) fn set(
        &self,
        name: &'static str,
        value: &str,
        max_age_secs: u64,
    ) -> Option<HeaderValue> {
        let age = i64::try_from(max_age_secs).unwrap_or(i64::MAX / 4);
        self.header(
            Cookie::build((name, value.to_owned())).max_age(cookie::time::Duration::seconds(age)),
        )
    }

    /// A `Set-Cookie` value removing `name`.
    pub(crate) fn clear(&self, name: &'static str) -> Option<HeaderValue> {
        self.header(Cookie::build((name, "")).max_age(cookie::time::Duration::ZERO))
    }

    fn header(&self, cookie: cookie::CookieBuilder<'static>) -> Option<HeaderValue> {
        let cookie = cookie
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .build();
        HeaderValue::from_str(&cookie.to_string()).ok()
    }
}

/// The value of the cookie `name` in the request's `Cookie` headers.
pub(crate) fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_cookies_are_host_prefixed_and_secure() {
        let cookies = Cookies::for_public_url(Some("https://licensedot.example"));
        let set = cookies
            .set(cookies.session(), "abc", 60)
            .unwrap_or_else(|| panic!("a valid header"));
        let set = set.to_str().unwrap_or_default();
        assert!(set.starts_with("__Host-licensedot_session=abc"), "{set}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure", "Max-Age=60"] {
            assert!(set.contains(attribute), "{attribute} missing in {set}");
        }
    }

    #[test]
    fn plain_http_cookies_drop_the_prefix_and_secure() {
        let cookies = Cookies::for_public_url(Some("http://127.0.0.1:4000"));
        let cleared = cookies
            .clear(cookies.session())
            .unwrap_or_else(|| panic!("a valid header"));
        let cleared = cleared.to_str().unwrap_or_default();
        assert!(cleared.starts_with("licensedot_session="), "{cleared}");
        assert!(
            cleared.contains("Max-Age=0") && !cleared.contains("Secure"),
            "{cleared}"
        );
    }

    #[test]
    fn the_named_cookie_is_read_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; licensedot_session=s3; b=2"),
        );
        assert_eq!(read(&headers, "licensedot_session").as_deref(), Some("s3"));
        assert_eq!(read(&headers, "licensedot_login"), None);
    }
}
