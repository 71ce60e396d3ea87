//! Limits on what one request may ask for, and the schema extension that enforces the
//! document limits and gives every error raised before execution a stable `extensions.code`.
//!
//! Everything here runs before any resolver, so a refused query costs no database work.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
    NextValidation,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Request, ServerError, ServerResult, ValidationResult, Variables};
use serde::Deserialize;

use crate::persisted::{PersistedQueries, PersistedQueriesConfig};

/// Stable codes of errors raised before execution. A response carrying one of them was not
/// executed: it has no `data`, and gets 400 under `application/graphql-response+json`.
pub mod codes {
    pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const OPERATION_RESOLUTION: &str = "OPERATION_RESOLUTION_FAILURE";
    pub const TOO_DEEP: &str = "QUERY_TOO_DEEP";
    pub const TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    pub const TOO_MANY_ALIASES: &str = "TOO_MANY_ALIASES";
    pub const TOO_MANY_ROOT_FIELDS: &str = "TOO_MANY_ROOT_FIELDS";
    pub const TOO_LARGE: &str = "REQUEST_TOO_LARGE";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const PQ_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    pub const PQ_NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";
    pub const PQ_HASH_MISMATCH: &str = "PERSISTED_QUERY_HASH_MISMATCH";
    pub const PQ_NOT_IN_LIST: &str = "PERSISTED_QUERY_NOT_IN_LIST";
    pub const NOT_IN_SAFELIST: &str = "QUERY_NOT_IN_SAFELIST";

    /// Codes that mean "refused before execution".
    pub const BEFORE_EXECUTION: &[&str] = &[
        PARSE_FAILED,
        VALIDATION_FAILED,
        OPERATION_RESOLUTION,
        TOO_DEEP,
        TOO_COMPLEX,
        TOO_MANY_ALIASES,
        TOO_MANY_ROOT_FIELDS,
        TOO_LARGE,
        BAD_REQUEST,
        METHOD_NOT_ALLOWED,
        PQ_NOT_FOUND,
        PQ_NOT_SUPPORTED,
        PQ_HASH_MISMATCH,
        PQ_NOT_IN_LIST,
        NOT_IN_SAFELIST,
    ];
}

/// `[gateway.limits]`. Every limit has a default that lets the dashboard and the explorer
/// (introspection included) through and stops the careless or hostile query.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest request body, in bytes (413 `REQUEST_TOO_LARGE` beyond).
    pub max_body_bytes: usize,
    /// Deepest selection nesting (`QUERY_TOO_DEEP`).
    pub max_depth: usize,
    /// Largest estimated cost (`QUERY_TOO_COMPLEX`): each field costs 1 plus its children,
    /// connections multiply their children by `first`/`last` (default page size when absent)
    /// and unpaginated lists by an estimated 10.
    pub max_complexity: usize,
    /// Most aliases in one document (`TOO_MANY_ALIASES`).
    pub max_aliases: usize,
    /// Most fields at the root of an operation (`TOO_MANY_ROOT_FIELDS`).
    pub max_root_fields: usize,
    /// Most operations in one batched (JSON array) request; 0 refuses batches.
    pub max_batch_size: usize,
    /// How long one request may take, body included, in milliseconds.
    pub request_timeout_ms: u64,
    /// Requests executed at once; more are refused at once with 503 and `Retry-After`.
    pub max_concurrent_requests: usize,
    /// The `Retry-After` given with a 503, in seconds.
    pub retry_after_secs: u64,
    /// After a shutdown signal, how long in-flight requests may still run, in milliseconds.
    pub shutdown_timeout_ms: u64,
    /// `[gateway.limits.persisted_queries]`: APQ and the safelist.
    pub persisted_queries: PersistedQueriesConfig,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            max_depth: 15,
            max_complexity: 20_000,
            max_aliases: 30,
            max_root_fields: 10,
            max_batch_size: 10,
            request_timeout_ms: 30_000,
            max_concurrent_requests: 256,
            retry_after_secs: 1,
            shutdown_timeout_ms: 30_000,
            persisted_queries: PersistedQueriesConfig::default(),
        }
    }
}

impl LimitsConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("max_body_bytes", self.max_body_bytes),
            ("max_depth", self.max_depth),
            ("max_complexity", self.max_complexity),
            ("max_root_fields", self.max_root_fields),
            ("max_concurrent_requests", self.max_concurrent_requests),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(format!("[gateway.limits] {name} must be at least 1"));
            }
        }
        if self.request_timeout_ms == 0 {
            return Err("[gateway.limits] request_timeout_ms must be at least 1".to_owned());
        }
        self.persisted_queries.validate()
    }
}

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
}

impl RequestFacts {
    /// The selected operation's name, for metrics and logs.
    pub fn operation(&self) -> Option<String> {
        self.selected
            .lock()
            .ok()
            .and_then(|s| s.as_ref().and_then(|(_, name)| name.clone()))
            .or_else(|| self.operation_name.clone())
    }
}

/// Picks the operation `operation_name` names, or the only one.
fn select_operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Result<(OperationType, Option<String>, &'a SelectionSet), ServerError> {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some((op, None)),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name).map(|op| (op, Some(name.to_owned())))
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops
            .iter()
            .next()
            .map(|(name, op)| (op, Some(name.to_string()))),
        (DocumentOperations::Multiple(_), None) => {
            return Err(coded(
                "the document has several operations: operationName must name one",
                codes::OPERATION_RESOLUTION,
            ));
        }
    };
    let Some((op, name)) = operation else {
        return Err(coded(
            format!(
                "unknown operation named `{}`",
                operation_name.unwrap_or_default()
            ),
            codes::OPERATION_RESOLUTION,
        ));
    };
    Ok((op.node.ty, name, &op.node.selection_set.node))
}

/// Fields at the root of `set`, fragments expanded (each fragment once, so a fragment cycle,
/// refused later by validation, cannot loop here).
fn root_fields<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    seen: &mut HashSet<&'a str>,
) -> usize {
    let mut count = 0;
    for selection in &set.items {
        count += match &selection.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(f) => root_fields(document, &f.node.selection_set.node, seen),
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                match document.fragments.get(&s.node.fragment_name.node) {
                    Some(f) if seen.insert(name) => {
                        root_fields(document, &f.node.selection_set.node, seen)
                    }
                    _ => 0,
                }
            }
        };
    }
    count
}

/// Aliases written anywhere in the document (operations and fragments).
fn aliases(document: &ExecutableDocument) -> usize {
    fn walk(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|selection| match &selection.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some()) + walk(&f.node.selection_set.node)
                }
                Selection::InlineFragment(f) => walk(&f.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    document
        .operations
        .iter()
        .map(|(_, op)| walk(&op.node.selection_set.node))
        .chain(
            document
                .fragments
                .values()
                .map(|f| walk(&f.node.selection_set.node)),
        )
        .sum()
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
                with_code(error, codes::PARSE_FAILED)
            }
        })?;
        let facts = ctx.data_opt::<Arc<RequestFacts>>();
        let (ty, name, root) =
            select_operation(&document, facts.and_then(|f| f.operation_name.as_deref()))?;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).unwrap()
    }

    #[test]
    fn counts_aliases_everywhere_and_root_fields_through_fragments() {
        let doc = parse(
            "query { a: customers { totalCount } b: customers { totalCount } ...F }
             fragment F on Query { c: license(id: 1) { id } hostname(name: \"x\") { name } }",
        );
        assert_eq!(aliases(&doc), 3);
        let (_, _, root) = select_operation(&doc, None).unwrap();
        assert_eq!(root_fields(&doc, root, &mut HashSet::new()), 4);
    }

    #[test]
    fn several_operations_need_a_name() {
        let doc = parse("query A { __typename } mutation B { x }");
        let error = select_operation(&doc, None).unwrap_err();
        assert_eq!(
            code_of(&error).as_deref(),
            Some(codes::OPERATION_RESOLUTION)
        );
        let (ty, name, _) = select_operation(&doc, Some("B")).unwrap();
        assert_eq!((ty, name.as_deref()), (OperationType::Mutation, Some("B")));
        assert!(select_operation(&doc, Some("C")).is_err());
    }

    #[test]
    fn default_limits_are_valid() {
        LimitsConfig::default().validate().unwrap();
    }
}
