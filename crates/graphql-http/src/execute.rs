//! Running the GraphQL requests of one HTTP request against the schema, side by side: each is
//! prepared (`prepare`), given the service's request data, executed in its own span
//! (`telemetry`), its errors made sure to carry a code, and reported to the observer.

use std::sync::Arc;
use std::time::Instant;

use async_graphql::{ObjectType, Request, Schema, ServerError, SubscriptionType};
use error_catalogue::Code;
use error_catalogue::graphql::{code_of, coded};

use tracing::Instrument;

use crate::answer::{GraphqlBody, Outcome};
use crate::checks::Execution;
use crate::observer::{Executed, Observer};
use crate::prepare::{Preparer, Refused};
use crate::telemetry;

/// What executes the operations of one service's requests.
pub(crate) struct Executor<'a, Q, M, S> {
    pub schema: &'a Schema<Q, M, S>,
    pub preparer: &'a Preparer,
    pub observer: &'a dyn Observer,
    /// Names the service in messages ("the gateway log has the details").
    pub service: &'a str,
}

impl<Q, M, S> Executor<'_, Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    /// Executes `requests` side by side, one [`Outcome`] each in order; `decorate` adds the
    /// service's request data to each.
    pub async fn execute_all(
        &self,
        requests: Vec<Request>,
        is_get: bool,
        request_id: &str,
        decorate: &(dyn Fn(Request) -> Request + Send + Sync),
    ) -> Vec<Outcome> {
        let runs = requests
            .into_iter()
            .map(|request| self.execute(request, is_get, request_id, decorate));
        futures::future::join_all(runs).await
    }

    async fn execute(
        &self,
        request: Request,
        is_get: bool,
        request_id: &str,
        decorate: &(dyn Fn(Request) -> Request + Send + Sync),
    ) -> Outcome {
        let span = telemetry::operation_span();
        self.run(request, is_get, request_id, decorate, &span)
            .instrument(span.clone())
            .await
    }

    async fn run(
        &self,
        request: Request,
        is_get: bool,
        request_id: &str,
        decorate: &(dyn Fn(Request) -> Request + Send + Sync),
        span: &tracing::Span,
    ) -> Outcome {
        let started = Instant::now();
        let mut ran = Ran::default();
        let (mut response, operation, before_execution) =
            match self.preparer.prepare(request, is_get) {
                Err(refused) => {
                    let Refused { error, operation } = *refused;
                    (
                        async_graphql::Response::from_errors(vec![error]),
                        operation,
                        true,
                    )
                }
                Ok(prepared) => {
                    telemetry::record_operation(
                        span,
                        prepared.ty,
                        prepared.operation.as_deref(),
                        &prepared.parsed,
                    );
                    self.observer.operation(&prepared.request);
                    let execution = Arc::new(Execution::default());
                    let request = decorate(prepared.request).data(execution.clone());
                    let response = self.schema.execute(request).await;
                    // Refused by validation: execution never started.
                    let before_execution = !execution.started();
                    ran = Ran {
                        registered: prepared.registered,
                        introspection_only: prepared.introspection_only,
                        fields: if before_execution {
                            Vec::new()
                        } else {
                            prepared.analysis.fields
                        },
                    };
                    (response, prepared.operation, before_execution)
                }
            };
        for error in &mut response.errors {
            ensure_code(error, request_id, self.service);
        }
        let codes: Vec<Code> = response.errors.iter().filter_map(code_of).collect();
        telemetry::record_outcome(span, &codes);
        self.observer.executed(&Executed {
            name: operation.as_deref(),
            registered: ran.registered,
            elapsed: started.elapsed(),
            codes: &codes,
            fields: &ran.fields,
        });
        Outcome {
            method_not_allowed: codes.contains(&Code::MethodNotAllowed),
            same_for_everyone: ran.introspection_only && !before_execution && codes.is_empty(),
            body: GraphqlBody {
                response,
                before_execution,
            },
        }
    }
}

/// What the runtime learnt of an operation that got as far as the schema.
#[derive(Default)]
struct Ran {
    registered: bool,
    introspection_only: bool,
    fields: Vec<usize>,
}

/// An error without a code is ours (every error raised for the caller's request carries its
/// code where it is raised): logged in full and answered generically, naming the request id.
/// A coded internal error names the request id too, so an operator finds the logged cause
/// from what the caller reports.
fn ensure_code(error: &mut ServerError, request_id: &str, service: &str) {
    if let Some(code) = code_of(error) {
        if code == Code::InternalServerError && !error.message.contains(request_id) {
            error.message = format!("{} (request id {request_id})", error.message);
        }
        return;
    }
    tracing::error!(
        message = %error.message,
        path = ?error.path,
        source = ?error.source,
        "internal error in a GraphQL response"
    );
    let generic = coded(
        format!("internal error; the {service} log has the details under request id {request_id}"),
        Code::InternalServerError,
    );
    error.message = generic.message;
    error.extensions = generic.extensions;
    error.source = None;
}
