//! Codes on async-graphql's errors: attached where an error is raised, read back by whoever
//! counts or answers them; [`RequestErrorCodes`] codes the request errors async-graphql itself
//! raises.

use std::str::FromStr;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    ErrorExtensions, FieldError, ServerError, ServerResult, ValidationResult, Variables,
};

use crate::Code;

/// A request error ([`ServerError`]) carrying `code`.
pub fn coded(message: impl Into<String>, code: Code) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
    error
}

/// A field error carrying `code`.
pub fn code_error(message: impl Into<String>, code: Code) -> FieldError {
    FieldError::new(message).extend_with(|_, extensions| extensions.set("code", code.as_str()))
}

/// The `extensions.code` of an error; `None` when it has none (or one not in the catalogue).
pub fn code_of(error: &ServerError) -> Option<Code> {
    match error.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Code::from_str(code).ok(),
        _ => None,
    }
}

/// Gives a code to the request errors async-graphql raises without one: a failure of its
/// parsing step is `GRAPHQL_PARSE_FAILED`, of its validation step
/// `GRAPHQL_VALIDATION_FAILED`. Known by the step that failed, never by the message; an
/// error already coded (by an extension inside this one) keeps its code.
pub struct RequestErrorCodes;

impl ExtensionFactory for RequestErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestErrorCodes)
    }
}

fn with_code(mut error: ServerError, code: Code) -> ServerError {
    if code_of(&error).is_none() {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code.as_str());
    }
    error
}

#[async_trait::async_trait]
impl Extension for RequestErrorCodes {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(|error| with_code(error, Code::GraphqlParseFailed))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| with_code(error, Code::GraphqlValidationFailed))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_attached_reads_back() {
        assert_eq!(
            code_of(&coded("deep", Code::QueryTooDeep)),
            Some(Code::QueryTooDeep)
        );
        let field = code_error("gone", Code::UpstreamUnavailable)
            .into_server_error(async_graphql::Pos::default());
        assert_eq!(code_of(&field), Some(Code::UpstreamUnavailable));
        assert_eq!(code_of(&ServerError::new("uncoded", None)), None);
    }

    struct Query;

    #[async_graphql::Object]
    impl Query {
        async fn value(&self) -> i32 {
            1
        }
    }

    #[tokio::test]
    async fn parse_and_validation_errors_get_their_codes() {
        let schema = async_graphql::Schema::build(
            Query,
            async_graphql::EmptyMutation,
            async_graphql::EmptySubscription,
        )
        .extension(RequestErrorCodes)
        .finish();
        for (query, code) in [
            ("{ value", Code::GraphqlParseFailed),
            ("{ nope }", Code::GraphqlValidationFailed),
        ] {
            let response = schema.execute(query).await;
            let codes: Vec<_> = response.errors.iter().map(code_of).collect();
            assert_eq!(codes, [Some(code)], "{query}");
        }
        assert!(schema.execute("{ value }").await.errors.is_empty());
    }
}
