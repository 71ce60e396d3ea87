//! The one schema extension of the runtime's own: the depth limit, read from validation's
//! result (so no error is recognised by its wording), the cost limit on the estimate
//! `prepare` made (`analysis`: the cost the schema's `@cost`/`@listSize` give, which a
//! composing gateway computes alike), applied once validation has passed, and the mark that
//! execution started.
//!
//! Validation is the last step that can refuse a request inside the schema. An answer whose
//! execution never started is a request error (no `data`, 400 under
//! `application/graphql-response+json`), so the runtime puts an [`Execution`] in each
//! request's data and this extension marks it when async-graphql begins to execute; nothing
//! else reads or writes it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextValidation,
};
use async_graphql::{Response, ServerError, ValidationResult};
use error_catalogue::Code;
use error_catalogue::graphql::coded;

/// One request's estimated cost (`analysis`), request data for the limit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Estimate(pub u64);

/// Whether one request's execution started.
#[derive(Debug, Default)]
pub(crate) struct Execution(AtomicBool);

impl Execution {
    pub fn started(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The extension's factory, with the limits it enforces.
pub(crate) struct Checks {
    pub max_depth: usize,
    pub max_complexity: usize,
}

impl ExtensionFactory for Checks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ChecksExtension {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
        })
    }
}

struct ChecksExtension {
    max_depth: usize,
    max_complexity: usize,
}

#[async_trait::async_trait]
impl Extension for ChecksExtension {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        // Validation errors are coded by `RequestErrorCodes`; the limits are checked here.
        let result = next.run(ctx).await?;
        if result.depth > self.max_depth {
            return Err(vec![coded(
                format!(
                    "the query is nested too deep: at most {} levels are allowed",
                    self.max_depth
                ),
                Code::QueryTooDeep,
            )]);
        }
        let cost = ctx.data_opt::<Estimate>().map_or(0, |estimate| estimate.0);
        if cost > self.max_complexity as u64 {
            return Err(vec![coded(
                format!(
                    "the query is too complex: its estimated cost is {cost}, above {} \
                     (lists count `first`/`last` items each; the schema's @cost and @listSize \
                     give the weights)",
                    self.max_complexity
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
        if let Some(execution) = ctx.data_opt::<Arc<Execution>>() {
            execution.0.store(true, Ordering::Release);
        }
        next.run(ctx, operation_name).await
    }
}
