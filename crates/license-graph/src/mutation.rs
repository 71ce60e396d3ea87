//! The mutation root: the one change licensedot makes to licenses, a license's contact,
//! audited (here), and the admins' webhook endpoints (`crate::webhooks`).
//!
//! Reaches this code only by `POST` with a JSON body (the endpoint refuses mutations over GET
//! with 405 and other bodies with 415), from a caller whose token carries `support` or
//! `admin`. The rules and the transaction live in `licenses::contact_change`; this file maps
//! GraphQL input and errors to them, and records each refused change in the audit trail.

use async_graphql::{
    Context, ErrorExtensions, ID, InputObject, MergedObject, Object, Result, SimpleObject,
};
use entity::audit_event::Action;
use error_catalogue::Code;
use licenses::View;
use licenses::audit_record::{Details, NewEvent};
use licenses::contact_change::{
    ChangeError, Conflict, ContactChange, MAX_REASON_CHARS, NewContact, change_contact,
};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::directives::authenticated;
use crate::errors::{ApiError, parse_id, to_field_error};
use crate::request::{Caller, graph, request};
use crate::types::License;
use crate::types::audit::AuditEvent;
use crate::webhooks::WebhookMutation;

/// Changes licensedot makes: a license's contact (audited), and the admins' webhook
/// endpoints.
#[derive(MergedObject, Default)]
pub struct Mutation(LicenseMutation, WebhookMutation);

/// A person to send a license to: the customer's contact with this e-mail address when there
/// is one, else a new contact of the customer.
#[derive(InputObject, Clone, Debug)]
pub struct ContactInput {
    /// The person's name (1 to 200 characters).
    pub name: String,
    /// The person's e-mail address (at most 254 characters).
    pub email: String,
}

/// Who a license should be sent to from now on, and why.
#[derive(InputObject, Clone, Debug)]
pub struct ChangeLicenseContactInput {
    /// The license to change.
    pub license_id: ID,
    /// The new contact as a person; give this or `contactId`, not both.
    pub contact: Option<ContactInput>,
    /// The new contact as an existing contact of the license's customer; give this or
    /// `contact`, not both.
    pub contact_id: Option<ID>,
    /// Why the license changes hands (1 to 1,000 characters), kept in the audit trail.
    pub reason: String,
    /// The license's `version` as the caller last read it: the change is refused with
    /// `CONFLICT` when the license has changed since.
    pub expected_version: i64,
    /// Makes retries safe when the `Idempotency-Key` header cannot be sent: a retry with the
    /// same id and input returns the first result (the header wins when both are given).
    pub client_mutation_id: Option<String>,
}

/// The result of `changeLicenseContact`.
#[derive(SimpleObject, Clone)]
#[graphql(directive = authenticated::apply())]
pub struct ChangeLicenseContactPayload {
    /// The license after the change (on a replayed retry: as it is now).
    pub license: License,
    /// The audit event the change wrote (on a replayed retry: the first request's).
    pub audit_event: AuditEvent,
    /// Whether this answers a retry with the first request's result, without a second change.
    pub replayed: bool,
    /// The `clientMutationId` of the input, returned as given.
    pub client_mutation_id: Option<String>,
}

/// The change to a license: its contact, audited.
#[derive(Default)]
pub struct LicenseMutation;

/// The change to a license: its contact, audited.
#[Object]
impl LicenseMutation {
    /// Sends a license to another contact of its customer (an existing one, or a new one
    /// given by name and e-mail), and records who did it, when and why in the audit trail, in
    /// one transaction. For the `support` and `admin` roles only (others: `FORBIDDEN`).
    /// `expectedVersion` must be the license's current `version` (else `CONFLICT`, with the
    /// current version and contact in `extensions.current`). An `Idempotency-Key` header (or
    /// `clientMutationId`) makes a retry return the first result instead of changing again.
    #[graphql(
        directive = authenticated::apply(),
        requires_scopes = "support",
        requires_scopes = "admin"
    )]
    async fn change_license_contact(
        &self,
        ctx: &Context<'_>,
        input: ChangeLicenseContactInput,
    ) -> Result<ChangeLicenseContactPayload> {
        let caller = &graph(ctx)?.caller;
        let db = &graph(ctx)?.db;
        let outcome = change(ctx, caller, db, input.clone()).await;
        if let Err(error) = &outcome {
            record_refusal(db, caller, &input, error).await;
        }
        outcome
    }
}

/// The change itself: refused (with its coded error) or made.
async fn change(
    ctx: &Context<'_>,
    caller: &Caller,
    db: &DatabaseConnection,
    input: ChangeLicenseContactInput,
) -> Result<ChangeLicenseContactPayload> {
    let Some(role) = caller.viewer.license_changing_role() else {
        return Err(ApiError::Forbidden(
            "only the support and admin roles may change a license's contact".to_owned(),
        )
        .extend());
    };
    let change = checked_change(caller, &input)?;
    let actor = caller.actor(role);
    let (request, _) = request(ctx)?;
    match change_contact(db, &request.scope, &actor, &change).await {
        Ok(changed) => {
            tracing::info!(
                license_id = changed.license.id,
                audit_event_id = changed.event.id,
                replayed = changed.replayed,
                "license contact changed"
            );
            // Its webhook event was written with it: deliver it now, not at the next poll.
            if let Some(webhooks) = &graph(ctx)?.webhooks {
                webhooks.wake();
            }
            Ok(ChangeLicenseContactPayload {
                license: License(changed.license),
                audit_event: AuditEvent(changed.event),
                replayed: changed.replayed,
                client_mutation_id: input.client_mutation_id,
            })
        }
        Err(ChangeError::Invalid(error)) => Err(to_field_error(error)),
        Err(ChangeError::Conflict(conflict)) => Err(conflict_error(request, &conflict)),
    }
}

/// The codes of a refused change (the caller's doing); anything else (a database failure) is
/// ours and not a refusal.
const REFUSALS: [Code; 3] = [Code::Forbidden, Code::BadUserInput, Code::Conflict];

/// Records a refused change in the audit trail: who, which license, the refusal's code and
/// message, the reason given. A trail that cannot be written is logged; the caller still gets
/// the refusal.
async fn record_refusal(
    db: &DatabaseConnection,
    caller: &Caller,
    input: &ChangeLicenseContactInput,
    error: &async_graphql::Error,
) {
    let code = match error.extensions.as_ref().and_then(|e| e.get("code")) {
        Some(async_graphql::Value::String(code)) => code.clone(),
        _ => return,
    };
    if !REFUSALS.iter().any(|refusal| refusal.as_str() == code) {
        return;
    }
    let role = caller
        .viewer
        .license_changing_role()
        .unwrap_or(caller.viewer.role);
    let event = NewEvent {
        action: Action::ContactChangeRefused,
        actor: caller.actor(role),
        license_id: parse_id(&input.license_id, "license").ok(),
        customer_id: None,
        reason: Some(input.reason.trim().chars().take(MAX_REASON_CHARS).collect()),
        details: Details {
            code: Some(code.clone()),
            message: Some(error.message.clone()),
            ..Details::default()
        },
    };
    match licenses::audit_record::record(db, event).await {
        Ok(event) => {
            tracing::info!(audit_event_id = event.id, %code, "license contact change refused")
        }
        Err(error) => {
            tracing::error!(%error, %code, "a refused change could not be recorded in the audit trail")
        }
    }
}

/// The input in the licenses crate's terms, checked there.
fn checked_change(caller: &Caller, input: &ChangeLicenseContactInput) -> Result<ContactChange> {
    let license_id = parse_id(&input.license_id, "license")?;
    let contact = match (&input.contact, &input.contact_id) {
        (Some(person), None) => NewContact::Person {
            name: person.name.clone(),
            email: person.email.clone(),
        },
        (None, Some(id)) => NewContact::Existing(parse_id(id, "contact")?),
        _ => {
            return Err(ApiError::BadUserInput(
                "give exactly one of `contact` (a person) and `contactId`".to_owned(),
            )
            .extend());
        }
    };
    let key = caller
        .idempotency_key
        .as_deref()
        .or(input.client_mutation_id.as_deref());
    ContactChange::new(
        license_id,
        contact,
        &input.reason,
        input.expected_version,
        key,
    )
    .map_err(to_field_error)
}

/// `CONFLICT`, with the license's current version and contact (as the caller may see them) in
/// `extensions.current`, so a client can show what changed and retry.
fn conflict_error(request: &View, conflict: &Conflict) -> async_graphql::Error {
    let license = &conflict.license;
    let contact = conflict.contact.as_ref().map(|c| {
        json!({
            "id": c.id.to_string(),
            "name": request.name(&c.name),
            "email": request.email(&c.email),
        })
    });
    let current = json!({
        "licenseId": license.id.to_string(),
        "version": license.version,
        "updatedAt": license.updated_at.to_rfc3339(),
        "contact": contact,
    });
    ApiError::Conflict {
        message: format!(
            "license {} changed since version {}: it is at version {} now; reload it and retry",
            license.id, conflict.expected_version, license.version
        ),
        current: async_graphql::Value::from_json(current).unwrap_or_default(),
    }
    .extend()
}
