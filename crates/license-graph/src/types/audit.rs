//! AuditEvent: one audited change to a license, with its people shown as the caller may see
//! them.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::audit_event;
use licenses::View;

use crate::directives::authenticated;
use crate::errors::{parse_id, to_field_error};
use crate::request::request;
use crate::types::License;

/// What an audit event records.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AuditAction {
    /// The contact a license is sent to (its owner) was changed.
    LicenseContactChanged,
}

impl From<audit_event::Action> for AuditAction {
    fn from(action: audit_event::Action) -> Self {
        match action {
            audit_event::Action::LicenseContactChanged => AuditAction::LicenseContactChanged,
        }
    }
}

/// Who made a change, as their token said.
#[derive(SimpleObject, Clone)]
#[graphql(directive = authenticated::apply())]
pub struct AuditActor {
    /// The token's subject (`sub`); null for callers who see personal data masked and for
    /// customer-scoped callers.
    pub subject: Option<String>,
    /// The token's e-mail address, when it had one (masked for callers who may not see
    /// personal data; null for customer-scoped callers).
    pub email: Option<String>,
    /// The role that allowed the change: `support` or `admin`.
    pub role: String,
}

/// A contact as it was at the time of a change.
#[derive(SimpleObject, Clone)]
#[graphql(directive = authenticated::apply())]
pub struct AuditContact {
    /// The contact's id.
    pub id: ID,
    /// The person's name then (masked for callers who may not see personal data).
    pub name: String,
    /// The person's e-mail address then (masked for callers who may not see personal data).
    pub email: String,
}

impl AuditContact {
    fn new(request: &View, id: i64, name: &str, email: &str) -> Self {
        Self {
            id: ID(id.to_string()),
            name: request.name(name),
            email: request.email(email),
        }
    }
}

/// One audited change to a license: who made it, when, under which request, what changed and
/// why. Events are written with the change, in the same transaction, and never altered.
#[derive(Clone)]
pub struct AuditEvent(pub audit_event::Model);

/// One audited change to a license: who made it, when, under which request, what changed and
/// why. Events are written with the change, in the same transaction, and never altered.
#[Object(directive = authenticated::apply())]
impl AuditEvent {
    /// The event's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// When the change was made.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// What changed.
    async fn action(&self) -> AuditAction {
        self.0.action.into()
    }

    /// Who made the change.
    async fn actor(&self, ctx: &Context<'_>) -> Result<AuditActor> {
        let (request, _) = request(ctx)?;
        let customer_scoped = request.scope != licenses::Scope::All;
        let email = self.0.actor_email.as_deref();
        Ok(AuditActor {
            subject: (request.personal_data_visible && !customer_scoped)
                .then(|| self.0.actor_subject.clone()),
            email: email
                .filter(|_| !customer_scoped)
                .map(|email| request.email(email)),
            role: self.0.actor_role.clone(),
        })
    }

    /// The id of the HTTP request that made the change (`x-request-id`), to find it in the
    /// gateway's log.
    async fn request_id(&self) -> &str {
        &self.0.request_id
    }

    /// The id of the changed license.
    async fn license_id(&self) -> ID {
        ID(self.0.license_id.to_string())
    }

    /// The changed license as it is now; null when it is gone (or not yours to see).
    async fn license(&self, ctx: &Context<'_>) -> Result<Option<License>> {
        let (_, loaders) = request(ctx)?;
        Ok(loaders
            .license
            .load_one(self.0.license_id)
            .await
            .map_err(to_field_error)?
            .map(License))
    }

    /// The license's version right after the change.
    async fn license_version(&self) -> i64 {
        self.0.license_version
    }

    /// The contact the license was sent to before the change, as it was then.
    async fn old_contact(&self, ctx: &Context<'_>) -> Result<AuditContact> {
        let (request, _) = request(ctx)?;
        let event = &self.0;
        Ok(AuditContact::new(
            request,
            event.old_contact_id,
            &event.old_contact_name,
            &event.old_contact_email,
        ))
    }

    /// The contact the license is sent to since the change, as it was then.
    async fn new_contact(&self, ctx: &Context<'_>) -> Result<AuditContact> {
        let (request, _) = request(ctx)?;
        let event = &self.0;
        Ok(AuditContact::new(
            request,
            event.new_contact_id,
            &event.new_contact_name,
            &event.new_contact_email,
        ))
    }

    /// Why the change was made, as the person who made it wrote it. Null for callers who see
    /// personal data masked: free text may name people.
    async fn reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let (request, _) = request(ctx)?;
        Ok(request
            .personal_data_visible
            .then_some(self.0.reason.as_str()))
    }
}

/// Narrows the audit trail; set fields all apply.
#[derive(InputObject, Clone, Debug, Default)]
pub struct AuditEventFilter {
    /// Only events of this license.
    pub license_id: Option<ID>,
    /// Only events of this customer's licenses.
    pub customer_id: Option<ID>,
    /// Only changes made by this subject (a token's `sub`).
    pub actor_subject: Option<String>,
}

impl AuditEventFilter {
    /// The filter in the terms of the licenses crate.
    pub fn to_service(&self) -> Result<licenses::audit::AuditFilter> {
        Ok(licenses::audit::AuditFilter {
            license_id: self
                .license_id
                .as_ref()
                .map(|id| parse_id(id, "license"))
                .transpose()?,
            customer_id: self
                .customer_id
                .as_ref()
                .map(|id| parse_id(id, "customer"))
                .transpose()?,
            actor_subject: self.actor_subject.clone(),
        })
    }
}
