//! Webhooks in the graph, for admins only: their endpoints (`webhookEndpoints`, create, rotate
//! the secret, disable, enable, delete) and each endpoint's deliveries (`webhookDeliveries`).
//! Every other role gets `FORBIDDEN` before anything is read or written; a gateway that does
//! not run webhooks answers `WEBHOOKS_DISABLED`. The `webhooks` crate checks and does the work.

mod mutation;
mod query;
pub(crate) mod types;

pub use mutation::WebhookMutation;
pub use query::WebhookQuery;

use async_graphql::{Context, ErrorExtensions, FieldError, Result};
use error_catalogue::Code;
use webhooks::{AdminError, Webhooks};

use crate::errors::{ApiError, code_error, to_field_error};
use crate::request::graph;

/// The webhooks, for an admin: `FORBIDDEN` for anyone else, `WEBHOOKS_DISABLED` when the
/// gateway does not run them.
pub(crate) fn for_admin<'a>(ctx: &Context<'a>) -> Result<&'a Webhooks> {
    let request = graph(ctx)?;
    if !request.caller.viewer.can_manage_webhooks() {
        return Err(
            ApiError::Forbidden("webhooks are managed by the admin role only".to_owned()).extend(),
        );
    }
    request.webhooks.as_ref().ok_or_else(|| {
        code_error(
            "webhooks are off in this gateway ([gateway.webhooks] enabled = false)",
            Code::WebhooksDisabled,
        )
    })
}

/// An admin operation's error as the caller sees it.
pub(crate) fn admin_error(error: AdminError) -> FieldError {
    match error {
        AdminError::Invalid(message) => ApiError::BadUserInput(message).extend(),
        AdminError::Licenses(error) => to_field_error(error),
        AdminError::Randomness => {
            tracing::error!("no secure randomness for a webhook secret");
            ApiError::internal().extend()
        }
    }
}

/// `BAD_USER_INPUT` for an endpoint id that names none.
pub(crate) fn no_such_endpoint(id: i64) -> FieldError {
    ApiError::BadUserInput(format!("there is no webhook endpoint {id}")).extend()
}
