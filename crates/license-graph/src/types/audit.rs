//! AuditEvent: one event of the audit trail (a contact change, a refused change, a sign-in, a
//! sign-out, an export of personal data), with its people shown as the caller may see them.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::audit_event::{self, Action};
use licenses::View;
use licenses::audit_record::{Details, ExportKind, SignInMethod};

use crate::directives::{authenticated, cost, list_size};
use crate::errors::{parse_id, to_field_error};
use crate::request::request;
use crate::types::License;
use crate::weights;

/// What an audit event records: its kind.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AuditAction {
    /// The contact a license is sent to (its owner) was changed.
    LicenseContactChanged,
    /// A change of a license's contact was refused; `refusal` says why.
    ContactChangeRefused,
    /// Someone signed in; `signInMethod` says how.
    SignedIn,
    /// Someone signed out.
    SignedOut,
    /// A CSV export with people's names or e-mail addresses was downloaded; `export` says
    /// which, for what and how many rows.
    PersonalDataExported,
}

impl From<Action> for AuditAction {
    fn from(action: Action) -> Self {
        match action {
            Action::LicenseContactChanged => AuditAction::LicenseContactChanged,
            Action::ContactChangeRefused => AuditAction::ContactChangeRefused,
            Action::SignedIn => AuditAction::SignedIn,
            Action::SignedOut => AuditAction::SignedOut,
            Action::PersonalDataExported => AuditAction::PersonalDataExported,
        }
    }
}

impl From<AuditAction> for Action {
    fn from(action: AuditAction) -> Self {
        match action {
            AuditAction::LicenseContactChanged => Action::LicenseContactChanged,
            AuditAction::ContactChangeRefused => Action::ContactChangeRefused,
            AuditAction::SignedIn => Action::SignedIn,
            AuditAction::SignedOut => Action::SignedOut,
            AuditAction::PersonalDataExported => Action::PersonalDataExported,
        }
    }
}

/// How someone signed in.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AuditSignInMethod {
    /// Through the company's OpenID provider.
    Sso,
    /// With a one-time sign-in link.
    Link,
}

/// Which CSV export was downloaded.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AuditExportKind {
    /// A customer's licenses with their contacts and licensees
    /// (`/export/customers/{id}/licenses.csv`).
    CustomerLicenses,
    /// The trials behind the trials report, with their licensees' e-mails
    /// (`/export/trials.csv`).
    Trials,
    /// The audit trail (`/export/audit-events.csv`).
    AuditEvents,
}

/// Why a change was refused.
#[derive(SimpleObject, Clone)]
#[graphql(directive = authenticated::apply())]
pub struct AuditRefusal {
    /// The refusal's `extensions.code`: `FORBIDDEN`, `BAD_USER_INPUT` or `CONFLICT`.
    pub code: String,
    /// The refusal's message as the caller got it; null for callers who see personal data
    /// masked (it may quote what was typed).
    pub message: Option<String>,
}

/// What an export held.
#[derive(SimpleObject, Clone)]
#[graphql(directive = authenticated::apply())]
pub struct AuditExport {
    /// Which export.
    pub kind: AuditExportKind,
    /// What it was asked for (the customer, the period, the trail's filter), as the gateway
    /// wrote it down; null for callers who see personal data masked.
    pub filter: Option<String>,
    /// How many rows it held.
    pub rows: i64,
    /// Whether it showed people's names and e-mail addresses masked.
    pub masked: bool,
    /// The customers a customer-scoped exporter could see; null when it could see all.
    #[graphql(
        directive = cost::apply(weights::LEAF_WEIGHT),
        directive = list_size::apply(
            weights::ESTIMATE.assumed_size(),
            weights::ESTIMATE.slicing_arguments(),
            weights::ESTIMATE.sized_fields(),
            weights::ESTIMATE.require_one_slicing_argument()
        )
    )]
    pub customer_ids: Option<Vec<ID>>,
}

/// Who acted, as their token or session said.
#[derive(SimpleObject, Clone)]
#[graphql(directive = authenticated::apply())]
pub struct AuditActor {
    /// The subject (`sub`); null for callers who see personal data masked and for
    /// customer-scoped callers.
    pub subject: Option<String>,
    /// The e-mail address, when a verified one was known (masked for callers who may not see
    /// personal data; null for customer-scoped callers).
    pub email: Option<String>,
    /// The role that allowed a change (`support` or `admin`), else the actor's role.
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
    /// The contact of an event, when it has one.
    fn new(
        request: &View,
        id: Option<i64>,
        name: Option<&str>,
        email: Option<&str>,
    ) -> Option<Self> {
        Some(Self {
            id: ID(id?.to_string()),
            name: request.name(name?),
            email: request.email(email?),
        })
    }
}

/// One event of the audit trail: who, when, under which request, and what (a contact change,
/// a refused change, a sign-in, a sign-out, an export of personal data). A contact change is
/// written with the change, in the same transaction; no event is ever altered.
#[derive(Clone)]
pub struct AuditEvent(pub audit_event::Model);

impl AuditEvent {
    fn details(&self) -> Details {
        Details::of(&self.0)
    }
}

/// Whether the caller is customer-scoped (sees no staff detail: actors, reasons, request ids).
fn customer_scoped(request: &View) -> bool {
    request.scope != licenses::Scope::All
}

/// One event of the audit trail: who, when, under which request, and what (a contact change,
/// a refused change, a sign-in, a sign-out, an export of personal data). A contact change is
/// written with the change, in the same transaction; no event is ever altered.
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

    /// What happened.
    async fn action(&self) -> AuditAction {
        self.0.action.into()
    }

    /// Who acted.
    async fn actor(&self, ctx: &Context<'_>) -> Result<AuditActor> {
        let (request, _) = request(ctx)?;
        let customer_scoped = customer_scoped(request);
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

    /// The gateway's own id of the HTTP request (the `x-request-id` of its answer, never the
    /// caller's), to find it in the gateway's log. Null for customer-scoped callers.
    async fn request_id(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let (request, _) = request(ctx)?;
        Ok((!customer_scoped(request)).then_some(self.0.request_id.as_str()))
    }

    /// The `x-request-id` the caller sent, as sent: the caller's word, not checked (the
    /// gateway's log has it as `caller_request_id`). Null when none was sent, and for
    /// customer-scoped callers.
    async fn caller_request_id(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let (request, _) = request(ctx)?;
        Ok(self
            .0
            .caller_request_id
            .as_deref()
            .filter(|_| !customer_scoped(request)))
    }

    /// The id of the license concerned; null for events that concern none (sign-ins,
    /// sign-outs, most exports).
    async fn license_id(&self) -> Option<ID> {
        self.0.license_id.map(|id| ID(id.to_string()))
    }

    /// The license concerned as it is now; null when there is none, it is gone, or it is not
    /// yours to see.
    async fn license(&self, ctx: &Context<'_>) -> Result<Option<License>> {
        let Some(id) = self.0.license_id else {
            return Ok(None);
        };
        let (_, loaders) = request(ctx)?;
        Ok(loaders
            .license
            .load_one(id)
            .await
            .map_err(to_field_error)?
            .map(License))
    }

    /// The id of the customer concerned (the license's at the time, or the exported
    /// customer's); null when none.
    async fn customer_id(&self) -> Option<ID> {
        self.0.customer_id.map(|id| ID(id.to_string()))
    }

    /// The license's version right after a contact change; null for other events.
    async fn license_version(&self) -> Option<i64> {
        self.0.license_version
    }

    /// The contact the license was sent to before a change, as it was then; null for other
    /// events.
    async fn old_contact(&self, ctx: &Context<'_>) -> Result<Option<AuditContact>> {
        let (request, _) = request(ctx)?;
        let event = &self.0;
        Ok(AuditContact::new(
            request,
            event.old_contact_id,
            event.old_contact_name.as_deref(),
            event.old_contact_email.as_deref(),
        ))
    }

    /// The contact the license is sent to since a change, as it was then; null for other
    /// events.
    async fn new_contact(&self, ctx: &Context<'_>) -> Result<Option<AuditContact>> {
        let (request, _) = request(ctx)?;
        let event = &self.0;
        Ok(AuditContact::new(
            request,
            event.new_contact_id,
            event.new_contact_name.as_deref(),
            event.new_contact_email.as_deref(),
        ))
    }

    /// Why a change was made (or asked for, when refused), as the person wrote it. Null for
    /// callers who see personal data masked (free text may name people) and for
    /// customer-scoped callers (it is staff's note).
    async fn reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let (request, _) = request(ctx)?;
        Ok(self
            .0
            .reason
            .as_deref()
            .filter(|_| request.personal_data_visible && !customer_scoped(request)))
    }

    /// Why a change was refused; null for other events.
    async fn refusal(&self, ctx: &Context<'_>) -> Result<Option<AuditRefusal>> {
        let (request, _) = request(ctx)?;
        let details = self.details();
        Ok(details.code.map(|code| AuditRefusal {
            code,
            message: details.message.filter(|_| request.personal_data_visible),
        }))
    }

    /// How someone signed in; null for other events.
    async fn sign_in_method(&self) -> Option<AuditSignInMethod> {
        self.details().sign_in.map(|method| match method {
            SignInMethod::Sso => AuditSignInMethod::Sso,
            SignInMethod::Link => AuditSignInMethod::Link,
        })
    }

    /// What an export held; null for other events.
    async fn export(&self, ctx: &Context<'_>) -> Result<Option<AuditExport>> {
        let (request, _) = request(ctx)?;
        let details = self.details();
        Ok(details.export.map(|kind| AuditExport {
            kind: match kind {
                ExportKind::CustomerLicenses => AuditExportKind::CustomerLicenses,
                ExportKind::Trials => AuditExportKind::Trials,
                ExportKind::AuditEvents => AuditExportKind::AuditEvents,
            },
            filter: details.filter.filter(|_| request.personal_data_visible),
            rows: i64::try_from(details.rows.unwrap_or_default()).unwrap_or(i64::MAX),
            masked: details.masked.unwrap_or_default(),
            customer_ids: details
                .scope
                .map(|ids| ids.iter().map(|id| ID(id.to_string())).collect()),
        }))
    }
}

/// Narrows the audit trail; set fields all apply.
#[derive(InputObject, Clone, Debug, Default)]
pub struct AuditEventFilter {
    /// Only events of this license.
    pub license_id: Option<ID>,
    /// Only events of this customer's licenses.
    pub customer_id: Option<ID>,
    /// Only events of this subject (a token's or session's `sub`).
    pub actor_subject: Option<String>,
    /// Only events of these kinds (all kinds when absent or empty).
    pub actions: Option<Vec<AuditAction>>,
    /// Only events at or after this instant.
    pub occurred_from: Option<DateTime<Utc>>,
    /// Only events before this instant.
    pub occurred_before: Option<DateTime<Utc>>,
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
            actions: self
                .actions
                .iter()
                .flatten()
                .map(|action| (*action).into())
                .collect(),
            occurred_from: self.occurred_from,
            occurred_before: self.occurred_before,
        })
    }
}
