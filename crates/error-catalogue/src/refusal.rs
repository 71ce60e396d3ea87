//! The one error body, and the refusal that answers with it.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::{Code, Media};

/// The GraphQL-shaped body of one error, keys in the spec's order:
/// `{"errors": [{"message": ..., "extensions": {"code": ..., "requestId": ...}}]}` (the
/// request id when given).
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    errors: [OneError<'a>; 1],
}

#[derive(Debug, Serialize)]
struct OneError<'a> {
    message: &'a str,
    extensions: Extensions<'a>,
}

#[derive(Debug, Serialize)]
struct Extensions<'a> {
    code: Code,
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

/// The body of one error with `code` and `message` (see [`ErrorBody`]).
pub fn error_body<'a>(code: Code, message: &'a str, request_id: Option<&'a str>) -> ErrorBody<'a> {
    ErrorBody {
        errors: [OneError {
            message,
            extensions: Extensions { code, request_id },
        }],
    }
}

/// A request refused before a GraphQL answer could be given: its status, its code and a
/// message for the caller, answered as an [`error_body`] in the negotiated media type, with
/// any headers the refusal needs (`Retry-After`, `WWW-Authenticate`, `Allow`).
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    code: Code,
    message: String,
    media: Media,
    request_id: Option<String>,
    /// Few and rare, so a list (a `HeaderMap` would make every `Result<_, Refusal>` large).
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Refusal {
    /// A refusal answered in `application/json` unless [`Refusal::in_media`] says otherwise.
    pub fn new(status: StatusCode, code: Code, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            media: Media::Json,
            request_id: None,
            headers: Vec::new(),
        }
    }

    /// Answers in `media` (the caller's negotiated type).
    pub fn in_media(mut self, media: Media) -> Self {
        self.media = media;
        self
    }

    /// Adds a header to the answer.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Names the request in `extensions.requestId`.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// 404 `NOT_FOUND`, the fallback handler of both services' routers.
    pub async fn not_found() -> Refusal {
        Refusal::new(StatusCode::NOT_FOUND, Code::NotFound, "no such path")
    }

    /// 405 `METHOD_NOT_ALLOWED`, for a path that takes other methods (the router adds
    /// `Allow`).
    pub async fn method_not_allowed() -> Refusal {
        Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            Code::MethodNotAllowed,
            "this path does not take this method; see the Allow header",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = error_body(self.code, &self.message, self.request_id.as_deref());
        let mut response = respond(self.status, self.media, &body);
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// A response `body` written as JSON in `media`. A body that cannot be serialised (a bug:
/// every key is a string) is logged and answered as a coded 500, never as an empty 200.
pub fn respond(status: StatusCode, media: Media, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => written(status, media, bytes),
        Err(error) => {
            tracing::error!(%error, "a response body could not be serialised");
            // Fixed text: this answer cannot fail to be written.
            let body = r#"{"errors":[{"message":"internal error: the answer could not be written; see the log","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}"#;
            written(
                StatusCode::INTERNAL_SERVER_ERROR,
                media,
                body.as_bytes().to_vec(),
            )
        }
    }
}

fn written(status: StatusCode, media: Media, bytes: Vec<u8>) -> Response {
    let mut response = (status, Body::from(bytes)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media.content_type());
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use super::*;

    async fn text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_refusal_is_a_coded_graphql_body_in_the_negotiated_type() {
        let response = Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::ServiceOverloaded,
            "busy",
        )
        .in_media(Media::GraphQLResponse)
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
        .with_request_id("req-1")
        .into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/graphql-response+json"
        );
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            text(response).await,
            r#"{"errors":[{"message":"busy","extensions":{"code":"SERVICE_OVERLOADED","requestId":"req-1"}}]}"#
        );
    }

    /// Serialises as an error: a map whose keys are not strings.
    struct Unwritable;

    impl Serialize for Unwritable {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            BTreeMap::from([((1, 2), 3)]).serialize(serializer)
        }
    }

    #[tokio::test]
    async fn a_body_that_cannot_be_written_is_a_coded_500_not_an_empty_200() {
        let response = respond(StatusCode::OK, Media::Json, &Unwritable);
        assert_eq!(response.status(), 500);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "INTERNAL_SERVER_ERROR"
        );
    }
}
