//! `/graphql`: GraphQL over HTTP (graphql.github.io/graphql-over-http).
//!
//! - `POST` takes `application/json` only (415 otherwise: no "simple" cross-site request, so
//!   also the CSRF protection); a JSON array is a batch of at most `max_batch_size` operations.
//! - `GET` runs queries only: a mutation gets 405 with `Allow: POST`. Mutations therefore only
//!   ever run from a JSON `POST`; an `Idempotency-Key` header reaches them as `Caller`.
//! - `Accept: application/graphql-response+json` gets that type and 400 for a request refused
//!   before execution (parse, validation, limits, persisted queries); `application/json`, `*/*`
//!   or no `Accept` get `application/json` and 200 for every well-formed request.
//! - Malformed JSON or a body that is not a GraphQL request: 400. Too large: 413. Over the
//!   concurrency limit: 503 with `Retry-After`. Over the time limit: 504.
//!
//! Every error carries `extensions.code` (`error_catalogue::Code`); errors without one are
//! internal: logged in full under the request id and answered with a generic message. A
//! refusal is an `error_catalogue::Refusal`, answered in the negotiated media type.
//!
//! Written here rather than taken from `async-graphql-axum`, whose handler cannot do the above:
//! it answers `application/graphql-response+json` with 200 whatever went wrong before
//! execution, and its GET parsing (`parse_query_string`) drops `operationName`.

mod execute;
mod get_request;
mod read;

use std::time::{Duration, Instant};

use auth::Viewer;
use axum::Extension;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use error_catalogue::{Code, Media, Refusal, negotiate, respond};
use tokio::time::Instant as Deadline;

use self::execute::{GraphqlBody, Outcome, execute_all};
use self::read::read_operations;
use crate::state::AppState;
use crate::{authn, pages};

pub use self::execute::IDEMPOTENCY_KEY;

/// `POST /graphql`. The caller's [`Viewer`] was put in by `authn::require`.
pub async fn post(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    request: Request,
) -> Response {
    handle(state, viewer.map(|Extension(v)| v), request).await
}

/// `GET /graphql`: a browser (asking for HTML) gets the explorer; anything else is a GraphQL
/// GET request (queries only).
pub async fn get(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    request: Request,
) -> Response {
    if authn::wants_html(&request) {
        return pages::explorer(&state.config.explorer).into_response();
    }
    handle(state, viewer.map(|Extension(v)| v), request).await
}

async fn handle(state: AppState, viewer: Option<Viewer>, request: Request) -> Response {
    let response = handle_inner(&state, viewer, request).await;
    state.metrics.record_response(response.status().as_u16());
    response
}

/// The flow of one request (the `authn` layer in front has already turned the token into a
/// viewer): negotiate, refuse when there is no viewer, read the GraphQL request(s), then take a
/// concurrency permit, execute them, shape the answer. Any step may refuse instead.
async fn handle_inner(state: &AppState, viewer: Option<Viewer>, request: Request) -> Response {
    let started = Instant::now();
    let limits = &state.config.limits;
    let deadline = Deadline::now() + Duration::from_millis(limits.request_timeout_ms);
    let (parts, body) = request.into_parts();
    let Some(media) = negotiate(&parts.headers) else {
        return answer_refusal(state, not_acceptable(), Media::Json);
    };
    let Some(viewer) = viewer else {
        return authn::refuse(&parts.headers, &auth::AuthError::Missing);
    };

    let answered = async {
        // Read first, then queue: a slow client holds its connection, never a permit (the
        // body's size and time are bounded by `max_body_bytes` and the edge's body deadline).
        let operations = read_operations(&parts, body, limits, deadline).await?;
        // Shed load instead of queueing without bound; the permit lives until the response
        // is built.
        let Ok(_permit) = state.limiter.clone().try_acquire_owned() else {
            state.metrics.record_shed();
            return Err(overloaded(state));
        };
        let outcomes = execute_all(
            state,
            operations.requests,
            &viewer,
            &parts,
            started,
            deadline,
        )
        .await?;
        let response = shape_response(outcomes, operations.is_batch, media)?;
        Ok(capped(state, response, media))
    };
    answered
        .await
        .unwrap_or_else(|refusal| answer_refusal(state, refusal, media))
}

/// Counts the refusal's code in the metrics and answers it in `media`.
fn answer_refusal(state: &AppState, refusal: Refusal, media: Media) -> Response {
    state.metrics.record_errors(&[refusal.code()]);
    refusal.in_media(media).into_response()
}

/// 406: no media type we can answer in, so the refusal itself is plain `application/json`.
fn not_acceptable() -> Refusal {
    Refusal::new(
        StatusCode::NOT_ACCEPTABLE,
        Code::NotAcceptable,
        "Accept must allow application/graphql-response+json or application/json",
    )
}

/// The response, or a `RESPONSE_TOO_LARGE` error in its place when its body is larger than
/// `max_response_bytes`: a client never gets an answer of unbounded size (a huge usage answer
/// is already refused per call by the upstream client; this bounds everything else).
fn capped(state: &AppState, response: Response, media: Media) -> Response {
    let limit = state.config.limits.max_response_bytes;
    let size = axum::body::HttpBody::size_hint(response.body()).exact();
    match size {
        Some(size) if size > limit as u64 => {
            tracing::warn!(
                size,
                limit,
                "response larger than max_response_bytes: refused"
            );
            state.metrics.record_errors(&[Code::ResponseTooLarge]);
            let body = GraphqlBody::failed(
                format!("the answer is larger than {limit} bytes; ask for fewer items or fields"),
                Code::ResponseTooLarge,
            );
            respond(StatusCode::OK, media, &body)
        }
        _ => response,
    }
}

/// 503 with `Retry-After`: the gateway is at `max_concurrent_requests` (also the exports').
pub(crate) fn overloaded(state: &AppState) -> Refusal {
    Refusal::new(
        StatusCode::SERVICE_UNAVAILABLE,
        Code::ServiceOverloaded,
        "the gateway is at its concurrency limit; retry shortly",
    )
    .with_header(
        header::RETRY_AFTER,
        HeaderValue::from(state.config.limits.retry_after_secs),
    )
}

/// A batch answers 200 with an array; a single operation answers 405 for a mutation by GET,
/// 400 under `application/graphql-response+json` when refused before execution, else 200.
fn shape_response(
    outcomes: Vec<Outcome>,
    is_batch: bool,
    media: Media,
) -> Result<Response, Refusal> {
    if is_batch {
        let bodies: Vec<_> = outcomes.into_iter().map(|o| o.body).collect();
        return Ok(respond(StatusCode::OK, media, &bodies));
    }
    let Some(outcome) = outcomes.into_iter().next() else {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            Code::BadRequest,
            "empty request",
        ));
    };
    if outcome.method_not_allowed {
        let mut response = respond(StatusCode::METHOD_NOT_ALLOWED, media, &outcome.body);
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Ok(response);
    }
    let status = if outcome.before_execution && media == Media::GraphQLResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(respond(status, media, &outcome.body))
}
