//! The schema extension that enforces the document limits and raises every error before
//! execution with its code, and the request facts it shares with the endpoint.
//!
//! It parses the document itself (`prepare_request`), so a parse error is known by its type,
//! and reads depth and complexity from validation's result, so no error is recognised by
//! async-graphql's wording. A text parsed before comes from the [`DocumentCache`].

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
    NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Request, Response, ServerError, ServerResult, ValidationResult, Variables};
use error_catalogue::Code;

use super::LimitsConfig;
use super::document::{aliases, root_fields, select_operation};
use super::documents::{DocumentCache, ParsedDocument};
use super::variables::check_variables;
use crate::graphql::errors::coded;
use crate::persisted::PersistedQueries;

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

/// Parses `query`, each failure with its code: the parser's own nesting limit is
/// `QUERY_TOO_DEEP`, anything else `GRAPHQL_PARSE_FAILED` (one line, the place in
/// `locations`).
fn parse(query: &str) -> Result<ExecutableDocument, ServerError> {
    async_graphql::parser::parse_query(query).map_err(|error| {
        let mut refused = match &error {
            async_graphql::parser::Error::RecursionLimitExceeded => coded(
                "the query is nested too deep to be parsed",
                Code::QueryTooDeep,
            ),
            _ => coded(one_line(&error.to_string()), Code::GraphqlParseFailed),
        };
        refused.locations = error.positions().collect();
        refused
    })
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

/// How deep selection sets may nest (fragments included) before async-graphql refuses the
/// document; above `max_depth`'s reach, it bounds the work of walking a hostile document.
pub const MAX_NESTING: usize = 32;

/// The schema extension: persisted queries, parsing (with its codes), the document limits
/// and GET-only-queries.
pub struct Guard {
    limits: Arc<LimitsConfig>,
    persisted: Arc<PersistedQueries>,
    documents: Arc<DocumentCache>,
}

impl Guard {
    /// The extension for `limits`, resolving persisted queries through `persisted`.
    pub fn new(limits: LimitsConfig, persisted: Arc<PersistedQueries>) -> Self {
        Self {
            limits: Arc::new(limits),
            persisted,
            documents: Arc::default(),
        }
    }
}

impl ExtensionFactory for Guard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardExtension {
            limits: self.limits.clone(),
            persisted: self.persisted.clone(),
            documents: self.documents.clone(),
        })
    }
}

struct GuardExtension {
    limits: Arc<LimitsConfig>,
    persisted: Arc<PersistedQueries>,
    documents: Arc<DocumentCache>,
}

#[async_trait::async_trait]
impl Extension for GuardExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let mut request = self.persisted.resolve(request)?;
        let document = self.documents.get_or_parse(&request.query, parse)?;
        // async-graphql takes its own copy (it edits it: skipped fields, the chosen
        // operation); extensions that read the document after execution share the kept one.
        request.set_parsed_query(ExecutableDocument::clone(&document));
        request.data.insert(ParsedDocument(document));
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // The document was parsed in `prepare_request`; what async-graphql still checks here
        // is how deep its selection sets nest (`limit_recursive_depth`), so that is the one
        // way this can fail.
        let document = next
            .run(ctx, query, variables)
            .await
            .map_err(|error| ServerError {
                locations: error.locations,
                ..coded(
                    format!("the query's selection sets nest deeper than {MAX_NESTING} levels"),
                    Code::QueryTooDeep,
                )
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
                    Code::MethodNotAllowed,
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
                Code::TooManyRootFields,
            ));
        }
        let max_aliases = self.limits.max_aliases;
        let count = aliases(&document);
        if count > max_aliases {
            return Err(coded(
                format!("the document has {count} aliases; at most {max_aliases} are allowed"),
                Code::TooManyAliases,
            ));
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        // Validation errors are coded by `RequestErrorCodes`; the limits are checked here.
        let result = next.run(ctx).await?;
        if result.depth > self.limits.max_depth {
            return Err(vec![coded(
                format!(
                    "the query is nested too deep: at most {} levels are allowed",
                    self.limits.max_depth
                ),
                Code::QueryTooDeep,
            )]);
        }
        if result.complexity > self.limits.max_complexity {
            return Err(vec![coded(
                format!(
                    "the query is too complex: its estimated cost is above {} \
                     (lists count `first`/`last` items each)",
                    self.limits.max_complexity
                ),
                Code::QueryTooComplex,
            )]);
        }
        Ok(result)
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
