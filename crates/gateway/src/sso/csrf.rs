//! Cross-site request forgery: a request that the session cookie authenticates must come from
//! this site. Browsers say where a request comes from in `Sec-Fetch-Site` (all current ones)
//! and `Origin` (on every cross-origin request and every POST); either one naming another site
//! refuses the request. A request with neither is not a browser's cross-site request (browsers
//! without `Sec-Fetch-Site` still send `Origin` on cross-site POSTs, and a cross-site GET is a
//! navigation whose answer the other site cannot read). Bearer-token requests are not checked:
//! another site cannot make a browser send our token.

use axum::http::{HeaderMap, header};

/// Whether the request comes from this site. `public_url` is `[gateway] public_url`; without
/// it, `Origin` is compared with the request's own `Host`.
pub(crate) fn from_this_site(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    match text(header::HeaderName::from_static("sec-fetch-site")) {
        // `none`: the person typed or bookmarked the URL.
        Some("same-origin" | "none") => {}
        Some(_) => return false,
        None => {}
    }
    let Some(origin) = text(header::ORIGIN) else {
        return true;
    };
    match public_url {
        Some(public) => origin.eq_ignore_ascii_case(origin_of(public)),
        // The authority of `Origin` (after the scheme) against the Host this browser sent.
        None => match (origin.split_once("://"), text(header::HOST)) {
            (Some((_, authority)), Some(host)) => authority.eq_ignore_ascii_case(host),
            _ => false,
        },
    }
}

/// `scheme://authority` of a URL (its path dropped).
fn origin_of(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    match url[start..].find('/') {
        Some(slash) => &url[..start + slash],
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn same_origin_requests_pass() {
        let public = Some("https://licensedot.example/");
        assert!(from_this_site(
            &headers(&[
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://licensedot.example")
            ]),
            public
        ));
        assert!(from_this_site(&headers(&[]), public));
        assert!(from_this_site(
            &headers(&[
                ("origin", "http://127.0.0.1:4000"),
                ("host", "127.0.0.1:4000")
            ]),
            None
        ));
    }

    #[test]
    fn other_sites_are_refused() {
        let public = Some("https://licensedot.example");
        assert!(!from_this_site(
            &headers(&[("sec-fetch-site", "cross-site")]),
            public
        ));
        assert!(!from_this_site(
            &headers(&[("sec-fetch-site", "same-site")]),
            public
        ));
        assert!(!from_this_site(
            &headers(&[("origin", "https://evil.example")]),
            public
        ));
        assert!(!from_this_site(
            &headers(&[
                ("origin", "http://evil.example"),
                ("host", "127.0.0.1:4000")
            ]),
            None
        ));
        assert!(!from_this_site(
            &headers(&[("origin", "null"), ("host", "127.0.0.1:4000")]),
            None
        ));
    }
}
