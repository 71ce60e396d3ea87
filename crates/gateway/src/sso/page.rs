//! The page a browser gets when a sign-in is refused: what happened, in words, and where to go
//! next. Same policy as the dashboard: nothing but this origin's stylesheet.

use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use crate::pages::{DASHBOARD_CSP, escape, html_page};

/// A refusal page with `status`, a `title` and the `reason`; `retry` offers a new sign-in.
pub(crate) fn refusal(status: StatusCode, title: &str, reason: &str, retry: bool) -> Response {
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
    html_page(
        status,
        body,
        HeaderValue::from_static(DASHBOARD_CSP),
        "no-store",
        "no-referrer",
    )
}
