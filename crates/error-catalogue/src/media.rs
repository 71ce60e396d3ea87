//! The one reading of `Accept`: which media type a response is written in (GraphQL over HTTP),
//! and whether a browser asks for a page.

use axum::http::{HeaderMap, HeaderValue, header};

/// `application/graphql-response+json`.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The media type a response is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: a request that fails before execution gets a 4xx.
    GraphQLResponse,
    /// `application/json`: 200 for every well-formed GraphQL request (the spec's legacy type).
    Json,
}

impl Media {
    /// The `Content-Type` of a response in this media type.
    pub fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Media::GraphQLResponse => GRAPHQL_RESPONSE_JSON,
            Media::Json => "application/json",
        })
    }
}

/// The media ranges of every `Accept` header with their quality (`q`, 1 when absent); ranges
/// that are not media types are skipped.
fn ranges(headers: &HeaderMap) -> Vec<(mime::Mime, f32)> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|range| range.trim().parse::<mime::Mime>().ok())
        .map(|range| {
            let quality = range
                .get_param("q")
                .and_then(|q| q.as_str().parse::<f32>().ok())
                .unwrap_or(1.0);
            (range, quality)
        })
        .collect()
}

/// Picks the response's media type from `Accept`, by quality; `None` when neither type is
/// acceptable. No `Accept` means `application/json`; on equal quality the GraphQL type wins,
/// as the spec recommends.
pub fn negotiate(headers: &HeaderMap) -> Option<Media> {
    if headers.get(header::ACCEPT).is_none() {
        return Some(Media::Json);
    }
    let mut best: Option<(f32, Media)> = None;
    for (range, quality) in ranges(headers) {
        let media = match range.essence_str() {
            GRAPHQL_RESPONSE_JSON => Media::GraphQLResponse,
            "application/json" | "application/*" | "*/*" => Media::Json,
            _ => continue,
        };
        if quality <= 0.0 {
            continue;
        }
        let better = match best {
            None => true,
            Some((q, m)) => quality > q || (quality == q && m == Media::Json && media != m),
        };
        if better {
            best = Some((quality, media));
        }
    }
    best.map(|(_, media)| media)
}

/// Whether `Accept` names `text/html` with a quality above 0: a browser asking for a page.
pub fn accepts_html(headers: &HeaderMap) -> bool {
    ranges(headers)
        .iter()
        .any(|(range, quality)| range.essence_str() == "text/html" && *quality > 0.0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(accept).unwrap());
        headers
    }

    fn accept(value: &str) -> Option<Media> {
        negotiate(&headers(value))
    }

    #[test]
    fn accept_negotiation_follows_the_spec() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Media::Json));
        assert_eq!(accept("*/*"), Some(Media::Json));
        assert_eq!(accept("application/json"), Some(Media::Json));
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Some(Media::GraphQLResponse)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.5, application/json"),
            Some(Media::Json)
        );
        assert_eq!(
            accept("application/json, application/graphql-response+json"),
            Some(Media::GraphQLResponse)
        );
        // Refused at quality 0: one answer, not the type merely named.
        assert_eq!(
            accept("application/graphql-response+json;q=0, application/json"),
            Some(Media::Json)
        );
        assert_eq!(accept("application/graphql-response+json;q=0"), None);
        assert_eq!(accept("text/plain"), None);
        assert_eq!(accept("application/json;q=0"), None);
        assert_eq!(accept("not a media type"), None);
    }

    #[test]
    fn a_page_is_for_whoever_accepts_html() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(accepts_html(&headers(browser)));
        assert!(!accepts_html(&headers("application/json")));
        assert!(!accepts_html(&headers("text/html;q=0, application/json")));
        assert!(!accepts_html(&HeaderMap::new()));
    }
}
