//! `POST /usage_data`, open to any server on the internet: the cheap refusals first (media
//! type, the sender's address rate, the concurrency cap), then the body (size-limited), its
//! validation, the installation's rate, and only then the database.

use std::net::SocketAddr;

use axum::{
    Json,
    body::Bytes,
    extract::{ConnectInfo, FromRequest, Request, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;

use crate::{AppState, Error, ingest::parse_ping, limits::Refusal, store::IngestOutcome};

/// Validate, store, answer 201 (new) or 200 (already stored); see docs/operations.md for every
/// refusal.
pub async fn usage_data(State(state): State<AppState>, request: Request) -> Response {
    let result = ingest(&state, request).await;
    match &result {
        Ok(outcome) => state
            .metrics
            .ping_ingested(*outcome == IngestOutcome::Created),
        Err(err) => state.metrics.ping_refused(err),
    }
    match result {
        Ok(IngestOutcome::Created) => (
            StatusCode::CREATED,
            Json(serde_json::json!({ "status": "created" })),
        )
            .into_response(),
        Ok(IngestOutcome::Duplicate) => (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "duplicate" })),
        )
            .into_response(),
        Err(err) => err.into_response(),
    }
}

async fn ingest(state: &AppState, request: Request) -> Result<IngestOutcome, Error> {
    require_json(request.headers())?;
    // Absent only when the app is driven without a socket (tower's oneshot in unit tests).
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        state
            .limits
            .check_address(peer.ip())
            .await
            .map_err(refusal)?;
    }
    // Held until the ping is stored: it bounds the bodies in memory and the database writers.
    let _permit = state.limits.acquire().map_err(refusal)?;
    let body = Bytes::from_request(request, state)
        .await
        .map_err(|rejection| Error::Body {
            status: rejection.status(),
            message: if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                format!(
                    "payload larger than the limit of {} bytes",
                    state.config.max_payload_bytes
                )
            } else {
                rejection.body_text()
            },
        })?;
    let now = Utc::now();
    let ping = parse_ping(&body, &state.rules, now)?;
    state
        .limits
        .check_installation(&ping.uuid)
        .await
        .map_err(refusal)?;
    crate::verify::store_ping(state, ping, now).await
}

/// Only `application/json` (parameters such as `charset` allowed). A form or `text/plain` is
/// what a web page can post cross-site without a preflight, so refusing them keeps browsers out.
fn require_json(headers: &HeaderMap) -> Result<(), Error> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let is_json = given.as_deref().is_some_and(|value| {
        value
            .split(';')
            .next()
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
    });
    if is_json {
        return Ok(());
    }
    Err(Error::UnsupportedMediaType(match given {
        Some(value) => format!("header `Content-Type` must be application/json, got {value:?}"),
        None => "header `Content-Type` must be application/json, got none".to_owned(),
    }))
}

fn refusal(refusal: Refusal) -> Error {
    match refusal {
        Refusal::Busy { retry_after_secs } => Error::Busy { retry_after_secs },
        Refusal::RateLimited {
            scope,
            retry_after_secs,
        } => Error::RateLimited {
            scope,
            retry_after_secs,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(content_type: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = content_type {
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn only_json_is_accepted() {
        assert!(require_json(&with(Some("application/json"))).is_ok());
        assert!(require_json(&with(Some("Application/JSON; charset=utf-8"))).is_ok());
        for refused in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/jsonp"),
            None,
        ] {
            let err = require_json(&with(refused)).unwrap_err();
            assert_eq!(err.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
            assert!(err.to_string().contains("`Content-Type`"), "{err}");
        }
    }
}
