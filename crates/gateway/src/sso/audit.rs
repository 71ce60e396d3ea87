//! Sign-ins and sign-outs in the audit trail (`licenses::audit_record`): who, how, under which
//! request (the gateway's own id, the caller's kept apart).

use auth::Role;
use axum::http::HeaderMap;
use edge::CallerRequestId;
use entity::audit_event::Action;
use licenses::audit_record::{Actor, Details, NewEvent, SignInMethod, record};
use sea_orm::DatabaseConnection;

use super::sessions::SessionData;

/// The ids of the request that signs someone in or out.
pub(crate) struct RequestIds {
    request_id: String,
    caller_request_id: Option<String>,
}

impl RequestIds {
    /// The gateway's id (set by the edge) and the caller's, if it sent one.
    pub(crate) fn of(headers: &HeaderMap, caller: Option<&CallerRequestId>) -> Self {
        Self {
            request_id: edge::request_id(headers).to_owned(),
            caller_request_id: caller.map(|CallerRequestId(id)| id.clone()),
        }
    }
}

fn actor(data: &SessionData, ids: &RequestIds) -> Actor {
    let roles: Vec<Role> = data.roles.iter().filter_map(|r| Role::parse(r)).collect();
    Actor {
        subject: data.subject.clone(),
        email: data.email.clone(),
        role: Role::most_permissive(&roles)
            .map(Role::as_str)
            .unwrap_or_default()
            .to_owned(),
        request_id: ids.request_id.clone(),
        caller_request_id: ids.caller_request_id.clone(),
    }
}

/// Records that the person of `data` signed in by `method`.
pub(crate) async fn signed_in(
    db: &DatabaseConnection,
    data: &SessionData,
    method: SignInMethod,
    ids: &RequestIds,
) -> Result<(), licenses::Error> {
    let details = Details {
        sign_in: Some(method),
        ..Details::default()
    };
    event(db, Action::SignedIn, data, details, ids).await
}

/// Records that the person of `data` signed out.
pub(crate) async fn signed_out(
    db: &DatabaseConnection,
    data: &SessionData,
    ids: &RequestIds,
) -> Result<(), licenses::Error> {
    event(db, Action::SignedOut, data, Details::default(), ids).await
}

async fn event(
    db: &DatabaseConnection,
    action: Action,
    data: &SessionData,
    details: Details,
    ids: &RequestIds,
) -> Result<(), licenses::Error> {
    let event = NewEvent {
        action,
        actor: actor(data, ids),
        license_id: None,
        customer_id: None,
        reason: None,
        details,
    };
    let event = record(db, event).await?;
    tracing::info!(audit_event_id = event.id, subject = %data.subject, ?action, "audited");
    Ok(())
}
