//! One span per GraphQL operation, as OpenTelemetry's semantic conventions for GraphQL servers
//! have it: named after the operation type (`query`, `mutation`; `GraphQL Operation` when the
//! request was refused before its type was known), kind `server`, with
//! `graphql.operation.type`, `graphql.operation.name` and `graphql.document`, and the status
//! `error` with `error.type` (the first error's code) when the answer has errors.
//!
//! The `otel.*` fields are how `tracing-opentelemetry` takes a span's name, kind and status;
//! a batch of operations in one HTTP request gives one span each, under the `request` span.
//!
//! The document is [`sanitize`](crate::sanitize)d: no literal value reaches a trace, and it
//! is cut at 2 KiB. The name is the one the document gives the operation (a GraphQL name),
//! cut at [`MAX_NAME_BYTES`]; it is an attribute, never the span's name (it comes from the
//! client, so its values are not bounded).

use async_graphql::parser::types::OperationType;
use error_catalogue::Code;
use tracing::Span;
use tracing::field::Empty;

use crate::documents::Parsed;
use crate::sanitize::sanitized;

/// The longest operation name a span carries.
pub const MAX_NAME_BYTES: usize = 128;

/// The span of one operation, before anything of it is known.
pub(crate) fn operation_span() -> Span {
    tracing::info_span!(
        "graphql",
        otel.name = "GraphQL Operation",
        otel.kind = "server",
        otel.status_code = Empty,
        // Quoted: `type` is a keyword, which the macro's dotted names cannot hold.
        "graphql.operation.type" = Empty,
        graphql.operation.name = Empty,
        graphql.document = Empty,
        "error.type" = Empty,
    )
}

/// Records what preparing the operation learnt of it: its type, name and document (printed
/// once per document the cache keeps).
pub(crate) fn record_operation(
    span: &Span,
    ty: OperationType,
    name: Option<&str>,
    parsed: &Parsed,
) {
    if span.is_disabled() {
        return;
    }
    let ty = operation_type(ty);
    span.record("otel.name", ty);
    span.record("graphql.operation.type", ty);
    if let Some(name) = name {
        span.record("graphql.operation.name", bounded(name));
    }
    let document = parsed
        .traced
        .get_or_init(|| sanitized(&parsed.document).into_boxed_str());
    span.record("graphql.document", &**document);
}

/// Marks the span failed when the answer has errors: status `error`, `error.type` the first
/// error's code.
pub(crate) fn record_outcome(span: &Span, codes: &[Code]) {
    if let Some(code) = codes.first() {
        span.record("otel.status_code", "error");
        span.record("error.type", code.as_str());
    }
}

/// The conventions' value of `graphql.operation.type`.
pub(crate) fn operation_type(ty: OperationType) -> &'static str {
    match ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

/// `name` cut at [`MAX_NAME_BYTES`] (a GraphQL name is ASCII, so at any byte).
fn bounded(name: &str) -> &str {
    let mut end = name.len().min(MAX_NAME_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}
