//! The pages a browser gets: the dashboard at `GET /` (with its assets under `/assets/`,
//! embedded in the binary) and the GraphiQL explorer at `GET /graphql`.
//!
//! The dashboard loads nothing from other hosts, which its Content-Security-Policy enforces.
//! The explorer loads GraphiQL and React from `[gateway.explorer] asset_base_url`, pinned by
//! version and Subresource Integrity hash. By default that is the gateway itself: the npm files
//! are embedded under `/assets/explorer/` (`assets/explorer/`), so the explorer works without
//! internet; its Content-Security-Policy allows scripts from this origin (and the configured
//! asset host) only.
//!
//! Every embedded file is served precompressed (`edge::Asset`): its gzip and brotli variants
//! are made once, the first time a client asks for them, never per request.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use edge::Asset;
use error_catalogue::Refusal;
use serde::Deserialize;

const DASHBOARD_HTML: &str = include_str!("../assets/dashboard.html");
const DASHBOARD_CSS: &str = include_str!("../assets/dashboard.css");
const DASHBOARD_JS: &str = include_str!("../assets/dashboard.js");
const DOM_JS: &str = include_str!("../assets/dom.js");
const CHARTS_JS: &str = include_str!("../assets/charts.js");
const WEBHOOKS_JS: &str = include_str!("../assets/webhooks.js");
const EXPLORER_JS: &str = include_str!("../assets/explorer.js");
const EXPLORER_CSS: &str = include_str!("../assets/explorer.css");

/// The dashboard's files. Embedded in the binary: a new release may change them, so revalidate.
static DASHBOARD_CSS_FILE: Asset = dashboard_file(DASHBOARD_CSS, "text/css; charset=utf-8");
static DASHBOARD_JS_FILE: Asset = dashboard_file(DASHBOARD_JS, "text/javascript; charset=utf-8");
static DOM_JS_FILE: Asset = dashboard_file(DOM_JS, "text/javascript; charset=utf-8");
static CHARTS_JS_FILE: Asset = dashboard_file(CHARTS_JS, "text/javascript; charset=utf-8");
static WEBHOOKS_JS_FILE: Asset = dashboard_file(WEBHOOKS_JS, "text/javascript; charset=utf-8");
static EXPLORER_JS_FILE: Asset = dashboard_file(EXPLORER_JS, "text/javascript; charset=utf-8");
static EXPLORER_CSS_FILE: Asset = dashboard_file(EXPLORER_CSS, "text/css; charset=utf-8");

const fn dashboard_file(text: &'static str, content_type: &'static str) -> Asset {
    Asset::new(text.as_bytes(), content_type, "no-cache")
}

/// The explorer's npm files, embedded under their `package@version/file` paths (the layout of
/// [`GRAPHIQL_CSS`] and [`EXPLORER_SCRIPTS`]), served at `/assets/explorer/`.
static EMBEDDED_EXPLORER_ASSETS: [(&str, Asset); 4] = [
    (
        "graphiql@3.8.3/graphiql.min.css",
        explorer_file(
            include_bytes!("../assets/explorer/graphiql@3.8.3/graphiql.min.css"),
            "text/css",
        ),
    ),
    (
        "react@18.3.1/umd/react.production.min.js",
        explorer_file(
            include_bytes!("../assets/explorer/react@18.3.1/umd/react.production.min.js"),
            "text/javascript",
        ),
    ),
    (
        "react-dom@18.3.1/umd/react-dom.production.min.js",
        explorer_file(
            include_bytes!("../assets/explorer/react-dom@18.3.1/umd/react-dom.production.min.js"),
            "text/javascript",
        ),
    ),
    (
        "graphiql@3.8.3/graphiql.min.js",
        explorer_file(
            include_bytes!("../assets/explorer/graphiql@3.8.3/graphiql.min.js"),
            "text/javascript",
        ),
    ),
];

/// An explorer file: the path names the exact version, so it never changes.
const fn explorer_file(bytes: &'static [u8], content_type: &'static str) -> Asset {
    Asset::new(bytes, content_type, "public, max-age=31536000, immutable")
}

/// Only our own origin, for scripts, styles, images and requests alike.
pub(crate) const DASHBOARD_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Where the explorer's assets come from unless configured otherwise: the copies embedded in
/// the gateway.
pub(crate) const DEFAULT_ASSET_BASE_URL: &str = "/assets/explorer";

/// A file the explorer loads, as a path under the asset base URL (unpkg's `package@version/file`
/// layout) and the SRI hash of its exact bytes as published on npm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ExplorerAsset {
    /// The path under `asset_base_url`.
    pub path: &'static str,
    /// `sha384-...`, checked by the browser before it runs or applies the file.
    pub integrity: &'static str,
}

/// GraphiQL 3.8.3's stylesheet.
pub(crate) const GRAPHIQL_CSS: ExplorerAsset = ExplorerAsset {
    path: "graphiql@3.8.3/graphiql.min.css",
    integrity: "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
};

/// The scripts, in load order: React and ReactDOM 18.3.1 (UMD builds), then GraphiQL 3.8.3.
pub(crate) const EXPLORER_SCRIPTS: [ExplorerAsset; 3] = [
    ExplorerAsset {
        path: "react@18.3.1/umd/react.production.min.js",
        integrity: "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
    },
    ExplorerAsset {
        path: "react-dom@18.3.1/umd/react-dom.production.min.js",
        integrity: "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
    },
    ExplorerAsset {
        path: "graphiql@3.8.3/graphiql.min.js",
        integrity: "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    },
];

/// `[gateway.explorer]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExplorerConfig {
    /// Where GraphiQL and React are loaded from: the gateway's embedded copies
    /// (`/assets/explorer`) by default, or a mirror with the same `package@version/file`
    /// layout (e.g. `https://unpkg.com` or `https://intranet.example/graphiql`). The files must be byte-identical to
    /// the npm releases: the page pins their integrity hashes.
    pub asset_base_url: String,
}

impl Default for ExplorerConfig {
    fn default() -> Self {
        Self {
            asset_base_url: DEFAULT_ASSET_BASE_URL.to_owned(),
        }
    }
}

impl ExplorerConfig {
    /// The base URL without a trailing slash.
    fn base(&self) -> &str {
        self.asset_base_url.trim_end_matches('/')
    }
}

/// The dashboard's routes: the page and its embedded assets.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(dashboard))
        .route("/assets/dashboard.css", file(&DASHBOARD_CSS_FILE))
        .route("/assets/dashboard.js", file(&DASHBOARD_JS_FILE))
        .route("/assets/dom.js", file(&DOM_JS_FILE))
        .route("/assets/charts.js", file(&CHARTS_JS_FILE))
        .route("/assets/webhooks.js", file(&WEBHOOKS_JS_FILE))
        .route("/assets/explorer.js", file(&EXPLORER_JS_FILE))
        .route("/assets/explorer.css", file(&EXPLORER_CSS_FILE))
        .route("/assets/explorer/{*file}", get(explorer_asset))
}

/// `GET` of one embedded file, in the coding the client prefers.
fn file<S: Clone + Send + Sync + 'static>(asset: &'static Asset) -> MethodRouter<S> {
    get(move |headers: HeaderMap| async move { asset.respond(&headers).await })
}

/// `GET /assets/explorer/{package@version/file}`: an embedded npm file of the explorer.
async fn explorer_asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some((_, asset)) = EMBEDDED_EXPLORER_ASSETS
        .iter()
        .find(|(path, _)| *path == file)
    else {
        return Refusal::not_found().await.into_response();
    };
    asset.respond(&headers).await
}

/// `GET /`: the dashboard.
pub(crate) async fn dashboard() -> Response {
    html_page(
        StatusCode::OK,
        DASHBOARD_HTML.to_owned(),
        HeaderValue::from_static(DASHBOARD_CSP),
        "no-cache",
        "same-origin",
    )
}

/// Every HTML page the gateway serves, with its Content-Security-Policy (each page's own, all
/// with `frame-ancestors 'none'`), caching and referrer policy: the one place those headers
/// are set.
pub(crate) fn html_page(
    status: StatusCode,
    html: String,
    csp: HeaderValue,
    cache_control: &'static str,
    referrer_policy: &'static str,
) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static(referrer_policy),
    );
    response
}

/// The GraphiQL explorer page with its Content-Security-Policy: scripts and styles from this
/// origin and the asset host only, requests to this origin only, no inline script.
pub(crate) fn explorer(config: &ExplorerConfig) -> Response {
    // An asset origin that cannot stand in a header (configuration checks it is a URL) gets
    // the policy without it: the page then loads nothing from there, rather than anything.
    let csp = HeaderValue::from_str(&explorer_csp(config))
        .unwrap_or_else(|_| HeaderValue::from_static(EXPLORER_CSP_SELF_ONLY));
    html_page(
        StatusCode::OK,
        explorer_page(config).0,
        csp,
        "no-cache",
        "same-origin",
    )
}

const EXPLORER_CSP_SELF_ONLY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The explorer's policy. GraphiQL sets `style` attributes as it lays out its panes (hence
/// `'unsafe-inline'` for styles only); its fonts and icons are `data:` URLs in its stylesheet.
fn explorer_csp(config: &ExplorerConfig) -> String {
    let host = asset_origin(config.base())
        .map(|origin| format!(" {origin}"))
        .unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'{host}; style-src 'self'{host} 'unsafe-inline'; \
         font-src 'self'{host} data:; img-src 'self' data:; connect-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// `scheme://host[:port]` of an absolute asset base URL; `None` for a path on this origin (or
/// anything that could not be a CSP source, which then simply does not load).
fn asset_origin(base: &str) -> Option<String> {
    let (scheme, rest) = base.split_once("://")?;
    let authority = rest.split('/').next()?;
    let valid = matches!(scheme, "http" | "https")
        && !authority.is_empty()
        && authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    valid.then(|| format!("{scheme}://{authority}"))
}

/// The explorer page itself, pointed at this gateway's endpoint, its assets loaded from
/// `config.asset_base_url` with pinned integrity hashes.
fn explorer_page(config: &ExplorerConfig) -> Html<String> {
    let base = escape(config.base());
    let mut tags = format!(
        "<link rel=\"stylesheet\" href=\"{base}/{}\" integrity=\"{}\" crossorigin=\"anonymous\">\n",
        GRAPHIQL_CSS.path, GRAPHIQL_CSS.integrity
    );
    for script in EXPLORER_SCRIPTS {
        tags.push_str(&format!(
            "<script src=\"{base}/{}\" integrity=\"{}\" crossorigin=\"anonymous\" defer></script>\n",
            script.path, script.integrity
        ));
    }
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>licensedot explorer</title>
<link rel="stylesheet" href="/assets/explorer.css">
{tags}<script src="/assets/explorer.js" defer></script>
</head>
<body>
<div id="graphiql" data-endpoint="/graphql" data-asset-base="{base}">Loading the GraphQL explorer…</div>
</body>
</html>
"#
    ))
}

/// Escapes text for HTML text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explorer_pins_every_asset_under_the_configured_base() {
        let config = ExplorerConfig {
            asset_base_url: "https://intranet.example/static/".to_owned(),
        };
        let page = explorer_page(&config).0;
        for asset in EXPLORER_SCRIPTS.iter().chain([&GRAPHIQL_CSS]) {
            let tag = format!(
                "https://intranet.example/static/{}\" integrity=\"{}\" crossorigin=\"anonymous\"",
                asset.path, asset.integrity
            );
            assert!(page.contains(&tag), "missing {tag} in {page}");
            assert!(asset.integrity.starts_with("sha384-"));
        }
        assert!(!page.contains("unpkg.com"));
    }

    #[test]
    fn the_asset_base_url_cannot_break_out_of_the_attribute() {
        let config = ExplorerConfig {
            asset_base_url: "/x\"><script>alert(1)</script>".to_owned(),
        };
        let page = explorer_page(&config).0;
        assert!(!page.contains("<script>alert"));
    }

    #[test]
    fn the_embedded_explorer_assets_are_the_pinned_ones() {
        use sha2::{Digest, Sha384};
        for asset in EXPLORER_SCRIPTS.iter().chain([&GRAPHIQL_CSS]) {
            let (_, file) = EMBEDDED_EXPLORER_ASSETS
                .iter()
                .find(|(path, _)| *path == asset.path)
                .unwrap_or_else(|| panic!("{} is not embedded", asset.path));
            let digest = base64_encode(&Sha384::digest(file.bytes()));
            assert_eq!(
                format!("sha384-{digest}"),
                asset.integrity,
                "{}",
                asset.path
            );
        }
    }

    /// Standard base64 (the SRI encoding), without a dependency for one test.
    fn base64_encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn the_explorer_policy_allows_this_origin_and_the_asset_host_only() {
        let embedded = explorer_csp(&ExplorerConfig::default());
        assert!(embedded.contains("script-src 'self';"), "{embedded}");
        assert!(!embedded.contains("unsafe-eval"));
        let mirror = explorer_csp(&ExplorerConfig {
            asset_base_url: "https://intranet.example:8443/static/".to_owned(),
        });
        assert!(
            mirror.contains("script-src 'self' https://intranet.example:8443;"),
            "{mirror}"
        );
        let hostile = explorer_csp(&ExplorerConfig {
            asset_base_url: "https://x; script-src *".to_owned(),
        });
        assert!(hostile.contains("script-src 'self';"), "{hostile}");
    }

    #[test]
    fn the_dashboard_loads_only_its_own_assets() {
        for text in [
            DASHBOARD_HTML,
            DASHBOARD_CSS,
            DASHBOARD_JS,
            DOM_JS,
            CHARTS_JS,
            WEBHOOKS_JS,
        ] {
            // The SVG namespace is a name in `createElementNS`, never fetched; the webhook
            // form's placeholder names an example host (RFC 2606), never fetched either.
            let text = text
                .replace("\"http://www.w3.org/2000/svg\"", "")
                .replace("placeholder=\"https://hooks.example.com/licensedot\"", "");
            assert!(
                !text.contains("http://"),
                "absolute URL in a dashboard asset"
            );
            assert!(
                !text.contains("https://"),
                "absolute URL in a dashboard asset"
            );
        }
    }
}
