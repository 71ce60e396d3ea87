//! What every resolver of one request needs to know about the request.

use async_graphql::{Context, Result};
use chrono::NaiveDate;
use licenses::Scope;

use super::loaders::Loaders;

/// The per-request facts resolvers share: who may see what, and which day "today" is, fixed
/// once per request so every status in one response agrees.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The customers the caller may see.
    pub scope: Scope,
    /// Whether names and e-mail addresses are shown as they are (else masked).
    pub personal_data_visible: bool,
    /// The date statuses are computed against.
    pub today: NaiveDate,
}

impl RequestContext {
    /// Full access, for staff and for tests.
    pub fn unrestricted(today: NaiveDate) -> Self {
        Self {
            scope: Scope::All,
            personal_data_visible: true,
            today,
        }
    }

    /// What an authenticated caller may see: a customer-scoped token only its customers, a
    /// `viewer` everything with names and e-mail addresses masked.
    pub fn for_viewer(viewer: &auth::Viewer, today: NaiveDate) -> Self {
        let scope = match viewer.customer_scope() {
            None => Scope::All,
            Some(ids) => Scope::Customers(ids.into()),
        };
        Self {
            scope,
            personal_data_visible: viewer.can_see_personal_data(),
            today,
        }
    }
}

/// Who sent the request, under which HTTP request: what a change records and checks. Read
/// queries never need more than [`RequestContext`].
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

/// The request's context and loaders, as put in by the routes.
pub fn request<'a>(ctx: &Context<'a>) -> Result<(&'a RequestContext, &'a Loaders)> {
    Ok((ctx.data::<RequestContext>()?, ctx.data::<Loaders>()?))
}
