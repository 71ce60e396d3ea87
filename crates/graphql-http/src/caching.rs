//! Cache hints of every `/graphql` answer, refusals included (RFC 9111).
//!
//! An answer is the caller's own: it carries the data the caller's credentials let them see
//! (people's names, usage), so it is `private, no-store`, and says it varies with `Accept`
//! (the media type is negotiated) and with the headers that carry credentials. The one answer
//! the same for every caller is one that asks nothing but the schema (`__schema`, `__type`,
//! `__typename` at its root) and succeeded: when the service publishes its schema (a public
//! introspection), it is `public, max-age=<n>` and varies with `Accept` only. The compression
//! layer adds `Accept-Encoding` to `Vary` when it may compress.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// How a service's answers may be cached.
#[derive(Clone, Debug)]
pub struct Caching {
    /// The request headers that carry the caller's credentials (`Authorization`; the gateway's
    /// session also `Cookie`): a private answer varies with them.
    pub credentials: Vec<HeaderName>,
    /// How long a shared cache may keep an answer that asks only for the schema; `None` when
    /// the schema is not public (it then is as private as any answer).
    pub public_schema: Option<Duration>,
}

impl Default for Caching {
    fn default() -> Self {
        Self {
            credentials: vec![header::AUTHORIZATION],
            public_schema: None,
        }
    }
}

/// The headers of each kind of answer, made once.
#[derive(Clone, Debug)]
pub(crate) struct CacheHeaders {
    private_vary: HeaderValue,
    public: Option<HeaderValue>,
}

/// `Cache-Control` of an answer nobody else may be given.
fn private() -> HeaderValue {
    HeaderValue::from_static("private, no-store")
}

impl CacheHeaders {
    pub fn new(caching: &Caching) -> Self {
        let vary = std::iter::once(header::ACCEPT.as_str())
            .chain(caching.credentials.iter().map(HeaderName::as_str))
            .collect::<Vec<_>>()
            .join(", ");
        Self {
            // Header names are valid header values.
            private_vary: HeaderValue::from_str(&vary)
                .unwrap_or(HeaderValue::from_static("accept, authorization")),
            public: caching.public_schema.map(|max_age| {
                HeaderValue::from_str(&format!("public, max-age={}", max_age.as_secs()))
                    .unwrap_or_else(|_| private())
            }),
        }
    }

    /// Sets the hints of an answer; `same_for_everyone`: it asks only for the schema and
    /// succeeded.
    pub fn apply(&self, headers: &mut HeaderMap, same_for_everyone: bool) {
        match (&self.public, same_for_everyone) {
            (Some(public), true) => {
                headers.insert(header::CACHE_CONTROL, public.clone());
                headers.append(header::VARY, HeaderValue::from_static("accept"));
            }
            _ => {
                headers.insert(header::CACHE_CONTROL, private());
                headers.append(header::VARY, self.private_vary.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn hints(caching: &Caching, same_for_everyone: bool) -> (String, String) {
        let mut headers = HeaderMap::new();
        CacheHeaders::new(caching).apply(&mut headers, same_for_everyone);
        let get = |name| headers[name].to_str().unwrap().to_owned();
        (get(header::CACHE_CONTROL), get(header::VARY))
    }

    #[test]
    fn answers_are_private_unless_the_schema_is_public_and_asked_for_alone() {
        let private = Caching {
            credentials: vec![header::AUTHORIZATION, header::COOKIE],
            public_schema: None,
        };
        let private_hints = (
            "private, no-store".to_owned(),
            "accept, authorization, cookie".to_owned(),
        );
        assert_eq!(hints(&private, false), private_hints);
        assert_eq!(hints(&private, true), private_hints);
        let public = Caching {
            public_schema: Some(Duration::from_secs(300)),
            ..private
        };
        assert_eq!(hints(&public, false), private_hints);
        assert_eq!(
            hints(&public, true),
            ("public, max-age=300".to_owned(), "accept".to_owned())
        );
    }
}
