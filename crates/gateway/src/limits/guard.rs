//! The schema extension that enforces the document limits and gives every error raised
//! before execution a stable `extensions.code`, and the request facts it shares with the
//! endpoint.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
    NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Request, Response, ServerError, ServerResult, ValidationResult, Variables};

use super::document::{aliases, root_fields, select_operation};
use super::variables::check_variables;
use super::{LimitsConfig, codes};
use crate::persisted::PersistedQueries;

/// A [`ServerError`] carrying `extensions.code`.
pub fn coded(message: impl Into<String>, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

/// The `extensions.code` of an error, if it has one.
pub fn code_of(error: &ServerError) -> Option<String> {
    match error.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Some(code.clone()),
        _ => None,
    }
}

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    if code_of(&error).is_none() {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
    error
}

/// A parse error's message on one line. The parser answers with pest's multi-line diagnostic
/// (an arrow, the source line, a caret, then `= expected ...`); where it points is already in
/// `locations`, so only what was expected is kept.
fn one_line(message: &str) -> String {
    let expected = message
        .lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix("= "));
    match expected {
        Some(expected) => format!("Syntax error: {expected}"),
        None => message
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .map_or_else(
                || "Syntax error".to_owned(),
                |line| format!("Syntax error: {line}"),
            ),
    }
}

/// What the endpoint and the extension tell each other about one request, put in as request
/// data by the endpoint.
#[derive(Debug, Default)]
pub struct RequestFacts {
    /// The request came as `GET`: only queries may run.
    pub is_get: bool,
    /// The `operationName` the caller sent.
    pub operation_name: Option<String>,
    /// The operation that was selected from the document, once parsed.
    pub selected: Mutex<Option<(OperationType, Option<String>)>>,
    /// Execution started: the request passed parsing, validation, the limits and the
    /// variables. Errors of a request that never got here are request errors (no `data`).
    pub executed: AtomicBool,
}

impl RequestFacts {
    /// Whether execution started (see [`RequestFacts::executed`]).
    pub fn was_executed(&self) -> bool {
        self.executed.load(Ordering::Acquire)
    }

    /// The selected operation's name, for metrics and logs.
    pub fn operation(&self) -> Option<String> {
        self.selected
            .lock()
            .ok()
            .and_then(|s| s.as_ref().and_then(|(_, name)| name.clone()))
            .or_else(|| self.operation_name.clone())
    }
}

/// The schema extension: persisted queries, the document limits, GET-only-queries and the
/// codes of parse and validation errors.
pub struct Guard {
    limits: LimitsConfig,
    persisted: Arc<PersistedQueries>,
}

impl Guard {
    /// The extension for `limits`, resolving persisted queries through `persisted`.
    pub fn new(limits: LimitsConfig, persisted: Arc<PersistedQueries>) -> Self {
        Self { limits, persisted }
    }
}

impl ExtensionFactory for Guard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardExtension {
            limits: self.limits.clone(),
            persisted: self.persisted.clone(),
        })
    }
}

struct GuardExtension {
    limits: LimitsConfig,
    persisted: Arc<PersistedQueries>,
}

#[async_trait::async_trait]
impl Extension for GuardExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let request = self.persisted.resolve(request)?;
        // The APQ extension (registered after this one) answers in messages only.
        next.run(ctx, request).await.map_err(|error| {
            let code = match error.message.as_str() {
                "PersistedQueryNotFound" => codes::PQ_NOT_FOUND,
                "provided sha does not match query" => codes::PQ_HASH_MISMATCH,
                _ => codes::BAD_REQUEST,
            };
            with_code(error, code)
        })
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await.map_err(|error| {
            if error.message.contains("recursion depth") {
                coded(
                    format!("the query is nested too deep: {}", error.message),
                    codes::TOO_DEEP,
                )
            } else {
                let message = one_line(&error.message);
                with_code(ServerError { message, ..error }, codes::PARSE_FAILED)
            }
        })?;
        let facts = ctx.data_opt::<Arc<RequestFacts>>();
        let (ty, name, operation) =
            select_operation(&document, facts.and_then(|f| f.operation_name.as_deref()))?;
        let root = &operation.selection_set.node;
        // Before anything runs: a missing required variable is the caller's request error,
        // not a field error (GraphQL over HTTP).
        check_variables(operation, variables)?;
        if let Some(facts) = facts {
            if facts.is_get && ty != OperationType::Query {
                return Err(coded(
                    format!("a {ty} cannot be sent with GET: use POST"),
                    codes::METHOD_NOT_ALLOWED,
                ));
            }
            if let Ok(mut selected) = facts.selected.lock() {
                *selected = Some((ty, name));
            }
        }
        let max_roots = self.limits.max_root_fields;
        let roots = root_fields(&document, root, &mut HashSet::new());
        if roots > max_roots {
            return Err(coded(
                format!("the operation has {roots} root fields; at most {max_roots} are allowed"),
                codes::TOO_MANY_ROOT_FIELDS,
            ));
        }
        let max_aliases = self.limits.max_aliases;
        let count = aliases(&document);
        if count > max_aliases {
            return Err(coded(
                format!("the document has {count} aliases; at most {max_aliases} are allowed"),
                codes::TOO_MANY_ALIASES,
            ));
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| match error.message.as_str() {
                    "Query is too complex." => coded(
                        format!(
                            "the query is too complex: its estimated cost is above {} \
                             (lists count `first`/`last` items each)",
                            self.limits.max_complexity
                        ),
                        codes::TOO_COMPLEX,
                    ),
                    "Query is nested too deep." => coded(
                        format!(
                            "the query is nested too deep: at most {} levels are allowed",
                            self.limits.max_depth
                        ),
                        codes::TOO_DEEP,
                    ),
                    _ => with_code(error, codes::VALIDATION_FAILED),
                })
                .collect()
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        // async-graphql calls this only once the request is ready to run.
        if let Some(facts) = ctx.data_opt::<Arc<RequestFacts>>() {
            facts.executed.store(true, Ordering::Release);
        }
        next.run(ctx, operation_name).await
    }
}
