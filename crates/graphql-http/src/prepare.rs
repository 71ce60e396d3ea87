//! What runs before a request reaches the schema: persisted queries, parsing (with its codes,
//! through the cache of parsed documents), the nesting bound, the operation's selection, the
//! required variables, GET-only-queries, the root-field and alias limits. Each refusal is a
//! request error (no `data`; 400 under `application/graphql-response+json`), raised here with
//! its code, so no error is recognised by async-graphql's wording.
//!
//! It also estimates the operation's cost and finds the schema fields it selects (`analysis`);
//! depth, and the cost limit, are checked inside the schema once validation has passed
//! (`checks`).

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, OperationType};
use async_graphql::{Request, ServerError};
use error_catalogue::Code;
use error_catalogue::graphql::coded;

use crate::analysis::Analysis;
use crate::checks::Estimate;
use crate::config::LimitsConfig;
use crate::document::{aliases, check_nesting, introspection_only, root_fields, select_operation};
use crate::documents::{DocumentCache, Parsed, ParsedDocument};
use crate::model::SchemaModel;
use crate::persisted::PersistedQueries;
use crate::variables::check_variables;

/// How deep selection sets may nest (fragments included) before a document is refused
/// unwalked; above `max_depth`'s reach, it bounds the work of walking a hostile document.
pub const MAX_NESTING: usize = 32;

/// A request ready for the schema: its document parsed (set on the request, and shared as
/// [`ParsedDocument`] request data for the extensions that read it after execution), and what
/// the runtime learnt of its operation.
pub(crate) struct Prepared {
    pub request: Request,
    /// The operation that runs, when it has a name.
    pub operation: Option<String>,
    /// Its type.
    pub ty: OperationType,
    /// Whether it is a registered operation (safelist, or APQ).
    pub registered: bool,
    /// The parsed document (the cache's copy), with its text for traces.
    pub parsed: Parsed,
    /// Its estimated cost and the schema fields it selects.
    pub analysis: Analysis,
    /// It selects nothing but `__schema`, `__type` and `__typename` at its root.
    pub introspection_only: bool,
}

/// A request refused before the schema saw it.
pub(crate) struct Refused {
    pub error: ServerError,
    /// The operation's name as far as it is known (the selected one, else the requested one).
    pub operation: Option<String>,
}

/// The checks of one service, with its persisted queries, its parsed documents and the model
/// of its schema (for the cost estimate).
pub(crate) struct Preparer {
    limits: LimitsConfig,
    persisted: PersistedQueries,
    documents: DocumentCache,
    model: Arc<SchemaModel>,
}

impl Preparer {
    pub fn new(limits: LimitsConfig, persisted: PersistedQueries, model: Arc<SchemaModel>) -> Self {
        Self {
            limits,
            persisted,
            documents: DocumentCache::default(),
            model,
        }
    }

    /// `request` ready to execute, or why not. `is_get`: it came by GET, so only a query may
    /// run.
    pub fn prepare(&self, request: Request, is_get: bool) -> Result<Prepared, Box<Refused>> {
        let requested = request.operation_name.clone();
        let refused = |error, operation: Option<String>| {
            Box::new(Refused {
                error,
                operation: operation.or_else(|| requested.clone()),
            })
        };
        let (mut request, registered) = self
            .persisted
            .resolve(request)
            .map_err(|error| refused(error, None))?;
        let parsed = self
            .documents
            .get_or_parse(&request.query, parse)
            .map_err(|error| refused(error, None))?;
        let document = parsed.document.clone();
        check_nesting(&document, MAX_NESTING).map_err(|error| refused(error, None))?;
        let (ty, operation, definition) =
            select_operation(&document, request.operation_name.as_deref())
                .map_err(|error| refused(error, None))?;
        self.check(&document, definition, ty, &request, is_get)
            .map_err(|error| refused(error, operation.clone()))?;
        // Walked before validation, on the document as it is; the limit is applied once
        // validation has passed (`checks`), so that an invalid document gets its own error.
        let analysis = self
            .model
            .analyze(&document, definition, ty, &request.variables);
        let introspection_only = introspection_only(definition);
        // async-graphql takes its own copy (it edits it: skipped fields, the chosen
        // operation); extensions that read the document after execution share the kept one.
        request.set_parsed_query(ExecutableDocument::clone(&document));
        request.data.insert(ParsedDocument(document.clone()));
        request.data.insert(Estimate(analysis.cost));
        Ok(Prepared {
            request,
            operation,
            ty,
            registered,
            parsed,
            analysis,
            introspection_only,
        })
    }

    /// The checks on the selected operation, in the order the spec's steps come.
    fn check(
        &self,
        document: &ExecutableDocument,
        operation: &OperationDefinition,
        ty: OperationType,
        request: &Request,
        is_get: bool,
    ) -> Result<(), ServerError> {
        // A missing required variable is the caller's request error, not a field error
        // (GraphQL over HTTP).
        check_variables(operation, &request.variables)?;
        if is_get && ty != OperationType::Query {
            return Err(coded(
                format!("a {ty} cannot be sent with GET: use POST"),
                Code::MethodNotAllowed,
            ));
        }
        let max_roots = self.limits.max_root_fields;
        let roots = root_fields(document, &operation.selection_set.node, &mut HashSet::new());
        if roots > max_roots {
            return Err(coded(
                format!("the operation has {roots} root fields; at most {max_roots} are allowed"),
                Code::TooManyRootFields,
            ));
        }
        let max_aliases = self.limits.max_aliases;
        let count = aliases(document);
        if count > max_aliases {
            return Err(coded(
                format!("the document has {count} aliases; at most {max_aliases} are allowed"),
                Code::TooManyAliases,
            ));
        }
        Ok(())
    }
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
