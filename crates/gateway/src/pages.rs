//! The pages a browser gets: the dashboard at `GET /` (with its assets under `/assets/`,
//! embedded in the binary) and the GraphiQL explorer at `GET /graphql`.
//!
//! The dashboard loads nothing from other hosts, which its Content-Security-Policy enforces.
//! The explorer loads GraphiQL and React from `[gateway.explorer] asset_base_url`, pinned by
//! version and Subresource Integrity hash, so a site without internet can host the same files
//! itself (docs/dashboard.md).

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::state::AppState;

const DASHBOARD_HTML: &str = include_str!("../assets/dashboard.html");
const DASHBOARD_CSS: &str = include_str!("../assets/dashboard.css");
const DASHBOARD_JS: &str = include_str!("../assets/dashboard.js");
const EXPLORER_JS: &str = include_str!("../assets/explorer.js");

/// Only our own origin, for scripts, styles, images and requests alike.
const DASHBOARD_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The public CDN the explorer's assets come from unless configured otherwise.
pub const DEFAULT_ASSET_BASE_URL: &str = "https://unpkg.com";

/// A file the explorer loads, as a path under the asset base URL (unpkg's `package@version/file`
/// layout) and the SRI hash of its exact bytes as published on npm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExplorerAsset {
    /// The path under `asset_base_url`.
    pub path: &'static str,
    /// `sha384-...`, checked by the browser before it runs or applies the file.
    pub integrity: &'static str,
}

/// GraphiQL 3.8.3's stylesheet.
pub const GRAPHIQL_CSS: ExplorerAsset = ExplorerAsset {
    path: "graphiql@3.8.3/graphiql.min.css",
    integrity: "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
};

/// The scripts, in load order: React and ReactDOM 18.3.1 (UMD builds), then GraphiQL 3.8.3.
pub const EXPLORER_SCRIPTS: [ExplorerAsset; 3] = [
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
    /// Where GraphiQL and React are loaded from: `https://unpkg.com` by default, or a mirror /
    /// a path on this network with the same `package@version/file` layout (e.g.
    /// `https://intranet.example/graphiql` or `/static`). The files must be byte-identical to
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
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard))
        .route(
            "/assets/dashboard.css",
            get(|| asset("text/css", DASHBOARD_CSS)),
        )
        .route(
            "/assets/dashboard.js",
            get(|| asset("text/javascript", DASHBOARD_JS)),
        )
        .route(
            "/assets/explorer.js",
            get(|| asset("text/javascript", EXPLORER_JS)),
        )
}

/// `GET /`: the dashboard.
pub async fn dashboard() -> Response {
    let mut response = Html(DASHBOARD_HTML).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DASHBOARD_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_str(&format!("{content_type}; charset=utf-8"))
                    .unwrap_or(HeaderValue::from_static("text/plain")),
            ),
            // Embedded in the binary: a new release may change them, so revalidate.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

/// The GraphiQL explorer, pointed at this gateway's endpoint, its assets loaded from
/// `config.asset_base_url` with pinned integrity hashes.
pub fn explorer(config: &ExplorerConfig) -> Html<String> {
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
<style>
  html, body {{ height: 100%; margin: 0; }}
  #graphiql {{ height: 100vh; }}
  #explorer-missing {{ max-width: 40rem; margin: 3rem auto; padding: 0 1rem;
    font: 15px/1.5 system-ui, sans-serif; color: #1d2330; }}
</style>
{tags}<script src="/assets/explorer.js" defer></script>
</head>
<body>
<div id="graphiql" data-endpoint="/graphql" data-asset-base="{base}">Loading the GraphQL explorer…</div>
</body>
</html>
"#
    ))
}

/// Escapes text for an HTML attribute value.
fn escape(text: &str) -> String {
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
        let page = explorer(&config).0;
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
        let page = explorer(&config).0;
        assert!(!page.contains("<script>alert"));
    }

    #[test]
    fn the_dashboard_loads_only_its_own_assets() {
        for text in [DASHBOARD_HTML, DASHBOARD_CSS, DASHBOARD_JS] {
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
