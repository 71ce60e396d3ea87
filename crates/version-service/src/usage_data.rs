//! `POST /usage_data`, open to any server on the internet: the cheap refusals first (media
//! type, the sender's address rate), then the body (size-limited, its memory reserved as it
//! arrives), the address's byte budget, the concurrency cap, validation and cleaning, the
//! installation's rate and byte budget, and only then the database.

use std::net::{IpAddr, SocketAddr};

use axum::{
    Json,
    body::{Body, Bytes, HttpBody as _},
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use futures::StreamExt;
use tokio::sync::OwnedSemaphorePermit;

use crate::{
    AppState, Error,
    ingest::{Stripped, parse_ping},
    limits::Refusal,
    store::IngestOutcome,
};

/// Validate, store, answer 201 (new) or 200 (already stored), naming what was stripped from
/// the stored copy; see docs/operations.md for every refusal.
pub async fn usage_data(State(state): State<AppState>, request: Request) -> Response {
    let result = ingest(&state, request).await;
    match &result {
        Ok((outcome, _)) => state
            .metrics
            .ping_ingested(*outcome == IngestOutcome::Created),
        Err(err) => state.metrics.ping_refused(err),
    }
    match result {
        Ok((outcome, stripped)) => {
            let (status, word) = match outcome {
                IngestOutcome::Created => (StatusCode::CREATED, "created"),
                IngestOutcome::Duplicate => (StatusCode::OK, "duplicate"),
            };
            let body = serde_json::json!({
                "status": word,
                "stripped": stripped.paths,
                "stripped_count": stripped.total,
            });
            (status, Json(body)).into_response()
        }
        Err(err) => err.into_response(),
    }
}

async fn ingest(state: &AppState, request: Request) -> Result<(IngestOutcome, Stripped), Error> {
    require_json(request.headers())?;
    // Absent only when the app is driven without a socket (tower's oneshot in unit tests).
    let peer: Option<IpAddr> = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    if let Some(peer) = peer {
        state.limits.check_address(peer).await.map_err(refusal)?;
    }
    // Held until the ping is stored: the bytes of this body in memory.
    let (body, _memory) = read_body(state, request.into_body()).await?;
    if let Some(peer) = peer {
        state
            .limits
            .spend_address_bytes(peer, body.len())
            .await
            .map_err(refusal)?;
    }
    // Taken only now that the body is in, and held until the ping is stored: it bounds the
    // parsing and the database writers, and a sender trickling its body never holds it.
    let _permit = state.limits.acquire().map_err(refusal)?;
    let now = Utc::now();
    let parsed = parse_ping(&body, &state.rules, now)?;
    state
        .limits
        .check_installation(&parsed.ping.uuid, peer)
        .await
        .map_err(refusal)?;
    state
        .limits
        .spend_installation_bytes(&parsed.ping.uuid, peer, body.len())
        .await
        .map_err(refusal)?;
    let outcome = crate::verify::store_ping(state, parsed.ping, now).await?;
    Ok((outcome, parsed.stripped))
}

/// Reads the whole body, at most `max_payload_bytes` (413 past it), reserving its memory from
/// the ingestion limits as each chunk arrives (503 when the bodies in memory are at their
/// bound). Returns the body and the reservation, to hold until the answer.
async fn read_body(
    state: &AppState,
    body: Body,
) -> Result<(Bytes, Option<OwnedSemaphorePermit>), Error> {
    let limit = state.config.max_payload_bytes;
    let too_large = || Error::Body {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("payload larger than the limit of {limit} bytes"),
    };
    // A declared length over the limit is refused before a byte is read.
    if usize::try_from(body.size_hint().lower()).is_ok_and(|lower| lower > limit) {
        return Err(too_large());
    }
    let mut held: Option<OwnedSemaphorePermit> = None;
    let mut buffer: Vec<u8> = Vec::new();
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        // A read that failed: the edge answers 408 in its place when the deadline passed.
        let chunk = chunk.map_err(|err| Error::Body {
            status: StatusCode::BAD_REQUEST,
            message: format!("the request body could not be read: {err}"),
        })?;
        if buffer.len().saturating_add(chunk.len()) > limit {
            return Err(too_large());
        }
        if let Some(permit) = state.limits.reserve_body(chunk.len()).map_err(refusal)? {
            match &mut held {
                Some(held) => held.merge(permit),
                None => held = Some(permit),
            }
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok((Bytes::from(buffer), held))
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
        Refusal::OverBudget {
            scope,
            budget_bytes,
            retry_after_secs,
        } => Error::OverBudget {
            scope,
            budget_bytes,
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
