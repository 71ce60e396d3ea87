//! What every resolver of one request may read: one typed item of request data,
//! [`GraphRequest`], put in by the service for each operation ([`crate::Graph::request`]).

use async_graphql::{Context, Result};
use licenses::View;
use sea_orm::DatabaseConnection;

use crate::loaders::Loaders;

/// One operation's request data: who sees what, who asks, and fresh loaders (so caches never
/// outlive the operation and never mix two callers' scopes).
pub struct GraphRequest {
    /// What the caller may see, and which day "today" is.
    pub view: View,
    /// Who sent the request: what a change records and checks.
    pub caller: Caller,
    /// The operation's DataLoaders.
    pub loaders: Loaders,
    /// The license database, for the statements that are not loads (pages, counts, the
    /// change).
    pub db: DatabaseConnection,
    /// The webhooks, when the gateway runs them.
    pub webhooks: Option<webhooks::Webhooks>,
}

/// Who sent the request, under which HTTP request. Read queries never need more than the
/// [`View`].
#[derive(Clone, Debug)]
pub struct Caller {
    /// The authenticated caller.
    pub viewer: auth::Viewer,
    /// The request's id: the gateway's own (`x-request-id` of the answer).
    pub request_id: String,
    /// The `x-request-id` the caller sent, as sent (`edge::CallerRequestId`).
    pub caller_request_id: Option<String>,
    /// The `Idempotency-Key` header, when sent; unchecked (the mutation checks it, so a bad
    /// key is a field error like any bad input).
    pub idempotency_key: Option<String>,
}

impl Caller {
    /// The caller as the audit trail records an actor, with `role` (the role that allowed the
    /// act, or the caller's own).
    pub fn actor(&self, role: auth::Role) -> licenses::audit_record::Actor {
        licenses::audit_record::Actor {
            subject: self.viewer.subject.clone(),
            email: self.viewer.email.clone(),
            role: role.as_str().to_owned(),
            request_id: self.request_id.clone(),
            caller_request_id: self.caller_request_id.clone(),
        }
    }
}

/// The operation's request data.
pub(crate) fn graph<'a>(ctx: &Context<'a>) -> Result<&'a GraphRequest> {
    ctx.data::<GraphRequest>()
}

/// The view and the loaders, what most resolvers need.
pub(crate) fn request<'a>(ctx: &Context<'a>) -> Result<(&'a View, &'a Loaders)> {
    let request = graph(ctx)?;
    Ok((&request.view, &request.loaders))
}
