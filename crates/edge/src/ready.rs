//! `GET /ready`, one contract for both services: 200 and a flat report
//! (`{"status": "ready", "<dependency>": "up", ...}`) while every dependency the service
//! cannot serve without answers; otherwise 503 and the one error body (`NOT_READY`, naming
//! what is down and the request id). A dependency that only degrades answers (the gateway's
//! version service) is reported, never makes the service unready. Every probe is bounded by
//! [`PROBE_TIMEOUT`], so a frozen database or an exhausted pool cannot hang the check.

use std::future::Future;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use error_catalogue::{Code, Refusal};
use serde_json::{Map, Value};

use crate::layers::request_id;

/// How long `/ready` waits for each dependency.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether `probe` succeeded within [`PROBE_TIMEOUT`]; a failure is logged with `what`.
pub async fn probe<E: std::fmt::Display>(
    what: &str,
    probe: impl Future<Output = Result<(), E>>,
) -> bool {
    match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check: {what} unreachable");
            false
        }
        Err(_) => {
            tracing::warn!("readiness check: {what} did not answer in time");
            false
        }
    }
}

/// One `/ready` answer, built dependency by dependency.
#[derive(Debug, Default)]
pub struct Readiness {
    report: Map<String, Value>,
    /// The first required dependency that is down, as the message names it.
    down: Option<&'static str>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    /// A dependency the service cannot serve without: `key` in the report (`up`/`down`),
    /// `name` in the refusal ("license database").
    pub fn required(mut self, key: &str, name: &'static str, up: bool) -> Self {
        self.report.insert(key.to_owned(), state(up));
        if !up && self.down.is_none() {
            self.down = Some(name);
        }
        self
    }

    /// A dependency that is only reported (`up`/`down`).
    pub fn optional(self, key: &str, up: bool) -> Self {
        self.reported(key, state(up))
    }

    /// Anything else worth reporting, such as a circuit breaker's state.
    pub fn reported(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.report.insert(key.to_owned(), value.into());
        self
    }

    /// The answer to the request whose `headers` these are.
    pub fn respond(self, headers: &HeaderMap) -> Response {
        match self.down {
            None => {
                let mut body = Map::new();
                body.insert("status".to_owned(), Value::from("ready"));
                body.extend(self.report);
                (StatusCode::OK, Json(Value::Object(body))).into_response()
            }
            Some(name) => {
                let id = request_id(headers);
                Refusal::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Code::NotReady,
                    format!("{name} not ready (request id {id})"),
                )
                .with_request_id(id)
                .into_response()
            }
        }
    }
}

fn state(up: bool) -> Value {
    Value::from(if up { "up" } else { "down" })
}
