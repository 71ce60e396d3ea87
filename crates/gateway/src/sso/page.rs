//! The page a browser gets when a sign-in is refused: what happened, in words, and where to go
//! next. Same policy as the dashboard: nothing but this origin's stylesheet.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::pages::{DASHBOARD_CSP, escape};

/// A refusal page with `status`, a `title` and the `reason`; `retry` offers a new sign-in.
pub fn refusal(status: StatusCode, title: &str, reason: &str, retry: bool) -> Response {
    tracing::info!(status = status.as_u16(), reason, "sign-in refused");
    let retry = if retry {
        "<a class=\"primary\" href=\"/auth/login\">Sign in again</a> · "
    } else {
        ""
    };
    let body = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · licensedot</title>
<link rel="stylesheet" href="/assets/dashboard.css">
</head>
<body>
<main id="sign-in-refused" class="card refusal">
<h1>{title}</h1>
<p id="refusal-reason">{reason}</p>
<p>{retry}<a href="/">Back to the dashboard</a></p>
</main>
</body>
</html>
"#,
        title = escape(title),
        reason = escape(reason),
    );
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DASHBOARD_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
