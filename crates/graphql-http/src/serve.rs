//! The runtime: one schema served over HTTP as graphql.github.io/graphql-over-http has it.
//!
//! - `POST` takes `application/json` only (415 otherwise: no "simple" cross-site request, so
//!   also the CSRF protection); a JSON array is a batch of at most `max_batch_size` operations.
//! - `GET` runs queries only: a mutation gets 405 with `Allow: POST`. Mutations therefore only
//!   ever run from a JSON `POST`.
//! - `Accept: application/graphql-response+json` gets that type and 400 for a request refused
//!   before execution (parse, validation, limits, persisted queries); `application/json`, `*/*`
//!   or no `Accept` get `application/json` and 200 for every well-formed request.
//! - Malformed JSON or a body that is not a GraphQL request: 400. Too large: 413. Over the
//!   concurrency limit: 503 with `Retry-After`. Over the time limit: 504.
//!
//! Every error carries `extensions.code` (`error_catalogue::Code`); errors without one are
//! internal: logged in full under the request id and answered with a generic message. A
//! refusal is an `error_catalogue::Refusal`, answered in the negotiated media type.
//!
//! Written here rather than taken from `async-graphql-axum`, whose handler cannot do the above:
//! it answers `application/graphql-response+json` with 200 whatever went wrong before
//! execution, and its GET parsing (`parse_query_string`) drops `operationName`.

use std::sync::Arc;

use async_graphql::{ObjectType, Schema, SchemaBuilder, SubscriptionType};
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use error_catalogue::graphql::RequestErrorCodes;
use error_catalogue::{Code, Media, Refusal, negotiate};

use crate::admission::Admission;
use crate::answer::{oversized, shape};
use crate::caching::{CacheHeaders, Caching};
use crate::checks::Checks;
use crate::config::{ConfigError, LimitsConfig, SafelistError};
use crate::execute::Executor;
use crate::field_errors::FieldErrors;
use crate::model::{ModelError, SchemaModel};
use crate::observer::Observer;
use crate::persisted::PersistedQueries;
use crate::prepare::{MAX_NESTING, Preparer};
use crate::read::read_operations;

/// Why a runtime could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Safelist(#[from] SafelistError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// What a service says about the caller of one HTTP request, once the runtime has negotiated
/// the answer's media type: how to give each of its GraphQL requests the service's request
/// data, or the refusal (401, say) to answer instead.
pub type Admit<'a> = Box<dyn FnOnce(&Parts) -> Result<Decorate, Refusal> + Send + 'a>;

/// Adds a service's request data to one GraphQL request (called once per operation of a
/// batch, so each gets its own loaders).
pub type Decorate = Box<dyn Fn(async_graphql::Request) -> async_graphql::Request + Send + Sync>;

/// One service's schema over HTTP, with its limits, persisted queries and permits.
pub struct Runtime<Q, M, S> {
    schema: Schema<Q, M, S>,
    preparer: Preparer,
    observer: Arc<dyn Observer>,
    /// Names the service in messages ("the gateway log has the details").
    service: &'static str,
    limits: LimitsConfig,
    admission: Admission,
    cache_headers: CacheHeaders,
}

impl<Q, M, S> Runtime<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    /// The runtime for the schema `builder` builds (the runtime adds its extensions: field
    /// errors and selection order, request-error codes, the depth and cost limits),
    /// serving as `service` ("gateway", "version service") within `limits`; `section` names
    /// the limits' config section in errors. Its answers are private (see [`Caching`];
    /// [`Runtime::with_caching`] says otherwise).
    pub fn new(
        builder: SchemaBuilder<Q, M, S>,
        limits: LimitsConfig,
        section: &'static str,
        service: &'static str,
        observer: Arc<dyn Observer>,
    ) -> Result<Self, StartError> {
        limits.validate(section)?;
        let persisted = PersistedQueries::load(&limits.persisted_queries)?;
        let schema = builder
            .limit_recursive_depth(MAX_NESTING)
            // Every execution: failed fields answer `null` per the spec, maps keep the
            // selection order; parse and validation errors have their codes; the limits.
            .extension(FieldErrors)
            .extension(RequestErrorCodes)
            .extension(Checks {
                max_depth: limits.max_depth,
                max_complexity: limits.max_complexity,
            })
            .finish();
        // The weights of the cost limit are the schema's own `@cost`/`@listSize`.
        let model = SchemaModel::from_sdl(&schema.sdl())?;
        observer.schema_fields(model.fields());
        Ok(Self {
            schema,
            preparer: Preparer::new(limits.clone(), persisted, Arc::new(model)),
            observer,
            service,
            admission: Admission::new(&limits, service),
            limits,
            cache_headers: CacheHeaders::new(&Caching::default()),
        })
    }

    /// The same runtime with `caching`'s hints on its answers.
    #[must_use]
    pub fn with_caching(mut self, caching: &Caching) -> Self {
        self.cache_headers = CacheHeaders::new(caching);
        self
    }

    /// The schema served.
    pub fn schema(&self) -> &Schema<Q, M, S> {
        &self.schema
    }

    /// Marks `headers` of an answer the runtime did not give (a service's own refusal in front
    /// of it, say a 401) as private, unless it already says how it may be cached.
    pub fn private_hints(&self, headers: &mut axum::http::HeaderMap) {
        if !headers.contains_key(axum::http::header::CACHE_CONTROL) {
            self.cache_headers.apply(headers, false);
        }
    }

    /// The permits and deadline of this service's requests, for routes that share them.
    pub fn admission(&self) -> &Admission {
        &self.admission
    }

    /// Answers one HTTP request: negotiate, ask `admit` who calls, read the GraphQL
    /// request(s), then take a concurrency permit, execute them, shape the answer. Any step
    /// may refuse instead.
    pub async fn serve(&self, request: Request, admit: Admit<'_>) -> Response {
        let (mut response, same_for_everyone) = self.serve_inner(request, admit).await;
        let same_for_everyone = same_for_everyone && response.status() == StatusCode::OK;
        self.cache_headers
            .apply(response.headers_mut(), same_for_everyone);
        self.observer.answered(response.status().as_u16());
        response
    }

    /// The answer, and whether it is the same for every caller.
    async fn serve_inner(&self, request: Request, admit: Admit<'_>) -> (Response, bool) {
        let deadline = self.admission.deadline();
        let (parts, body) = request.into_parts();
        let Some(media) = negotiate(&parts.headers) else {
            return (self.refuse(not_acceptable(), Media::Json), false);
        };
        let decorate = match admit(&parts) {
            Ok(decorate) => decorate,
            Err(refusal) => return (self.refuse(refusal, media), false),
        };
        let answered = async {
            // Read first, then queue: a slow client holds its connection, never a permit
            // (the body's size and time are bounded by `max_body_bytes` and the edge's body
            // deadline).
            let operations = read_operations(&parts, body, &self.limits, deadline).await?;
            let _permit = self
                .admission
                .admit()
                .inspect_err(|_| self.observer.shed())?;
            let request_id = edge::request_id(&parts.headers);
            let is_get = parts.method == Method::GET;
            let outcomes = self
                .admission
                .within(
                    deadline,
                    "the request",
                    self.executor().execute_all(
                        operations.requests,
                        is_get,
                        request_id,
                        &*decorate,
                    ),
                )
                .await?;
            let same_for_everyone = outcomes.iter().all(|o| o.same_for_everyone);
            let response = shape(outcomes, operations.is_batch, media)?;
            match oversized(&response, media, self.limits.max_response_bytes) {
                Some(replacement) => {
                    self.observer.refused(Code::ResponseTooLarge);
                    Ok((replacement, false))
                }
                None => Ok((response, same_for_everyone)),
            }
        };
        answered
            .await
            .unwrap_or_else(|refusal: Refusal| (self.refuse(refusal, media), false))
    }

    fn executor(&self) -> Executor<'_, Q, M, S> {
        Executor {
            schema: &self.schema,
            preparer: &self.preparer,
            observer: &*self.observer,
            service: self.service,
        }
    }

    /// Counts the refusal's code and answers it in `media`.
    fn refuse(&self, refusal: Refusal, media: Media) -> Response {
        self.observer.refused(refusal.code());
        refusal.in_media(media).into_response()
    }
}

/// 406: no media type we can answer in, so the refusal itself is plain `application/json`.
fn not_acceptable() -> Refusal {
    Refusal::new(
        StatusCode::NOT_ACCEPTABLE,
        Code::NotAcceptable,
        "Accept must allow application/graphql-response+json or application/json",
    )
}
