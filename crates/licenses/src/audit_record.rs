//! Writing the audit trail's events other than a contact change (which `contact_change` writes
//! in its own transaction): a refused change, a sign-in, a sign-out, a CSV export of personal
//! data. Each names its actor as the trail records every actor, under the gateway's own request
//! id with the caller's kept apart, and carries its [`Details`], bounded.

use chrono::Utc;
use entity::{audit_event, license};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use serde::{Deserialize, Serialize};

use crate::Error;

/// Longest refusal message or export filter kept, in characters: `details` holds at most
/// [`MAX_DETAILS_CHARS`], and these are the only free texts in it.
pub const MAX_DETAIL_TEXT_CHARS: usize = 500;

/// Longest `details`, in characters (the column's bound: migration `audit_trail`).
pub const MAX_DETAILS_CHARS: usize = 2_000;

/// Most customer ids an export's scope lists.
const MAX_SCOPE_IDS: usize = 25;

/// Who acted, as the trail records them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The token's or session's subject.
    pub subject: String,
    /// Its e-mail address, when it had a verified one.
    pub email: Option<String>,
    /// The role that allowed the act (for a change: `support` or `admin`), else the caller's.
    pub role: String,
    /// The gateway's own id of the HTTP request.
    pub request_id: String,
    /// The `x-request-id` the caller sent, as sent.
    pub caller_request_id: Option<String>,
}

/// How someone signed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// Through the OpenID provider.
    Sso,
    /// With a one-time sign-in link.
    Link,
}

/// What a CSV export held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    /// A customer's licenses, contacts and licensees.
    CustomerLicenses,
    /// The trials behind the trials report, with their licensees' e-mails.
    Trials,
    /// The audit trail itself.
    AuditEvents,
}

impl ExportKind {
    /// Its name in `details` and in the trail's CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::CustomerLicenses => "customer_licenses",
            ExportKind::Trials => "trials",
            ExportKind::AuditEvents => "audit_events",
        }
    }
}

/// What an event's kind needs besides the common columns; stored as JSON in `details`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    /// A sign-in's method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_in: Option<SignInMethod>,
    /// A refusal's code (`extensions.code` of the answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A refusal's message, as the caller got it (at most [`MAX_DETAIL_TEXT_CHARS`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What an export held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<ExportKind>,
    /// An export's scope as asked (its filter or period), at most [`MAX_DETAIL_TEXT_CHARS`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// An export's rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// Whether an export showed people's names and e-mails masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked: Option<bool>,
    /// The customers a customer-scoped exporter could see (none: all customers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<i64>>,
}

impl Details {
    /// The JSON for `details`, at most [`MAX_DETAILS_CHARS`]: the free texts cut to
    /// [`MAX_DETAIL_TEXT_CHARS`], and shorter still when escaping made them longer.
    fn to_json(&self) -> Option<String> {
        if *self == Details::default() {
            return None;
        }
        let mut scope = self.scope.clone();
        if let Some(ids) = &mut scope {
            ids.truncate(MAX_SCOPE_IDS);
        }
        for chars in [MAX_DETAIL_TEXT_CHARS, 100, 0] {
            let cut = |text: &Option<String>| {
                text.as_ref()
                    .map(|t| t.chars().take(chars).collect::<String>())
            };
            let bounded = Details {
                message: cut(&self.message),
                filter: cut(&self.filter),
                scope: scope.clone(),
                ..self.clone()
            };
            let json = serde_json::to_string(&bounded).unwrap_or_default();
            if json.chars().count() <= MAX_DETAILS_CHARS {
                return Some(json);
            }
        }
        None
    }

    /// The details an event holds (empty when it holds none, or none that parse).
    pub fn of(event: &audit_event::Model) -> Details {
        event
            .details
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default()
    }
}

/// An event to write.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub action: audit_event::Action,
    pub actor: Actor,
    pub license_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// A refused change's reason, as given.
    pub reason: Option<String>,
    pub details: Details,
}

/// Writes `event`, now. A license named without its customer gets the license's customer (so
/// the trail filtered by customer finds it), whoever may see that customer.
pub async fn record(db: &DatabaseConnection, event: NewEvent) -> Result<audit_event::Model, Error> {
    let customer_id = match (event.customer_id, event.license_id) {
        (Some(customer), _) => Some(customer),
        (None, Some(license)) => license::Entity::find_by_id(license)
            .one(db)
            .await?
            .map(|l| l.customer_id),
        (None, None) => None,
    };
    let actor = event.actor;
    Ok(audit_event::ActiveModel {
        license_id: Set(event.license_id),
        customer_id: Set(customer_id),
        occurred_at: Set(Utc::now()),
        action: Set(event.action),
        actor_subject: Set(actor.subject),
        actor_email: Set(actor.email),
        actor_role: Set(actor.role),
        request_id: Set(actor.request_id),
        caller_request_id: Set(actor.caller_request_id),
        reason: Set(event.reason),
        details: Set(event.details.to_json()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_bounded_and_empty_ones_are_none() {
        assert_eq!(Details::default().to_json(), None);
        let long = Details {
            code: Some("BAD_USER_INPUT".into()),
            message: Some("x".repeat(5_000)),
            filter: Some("y".repeat(5_000)),
            scope: Some(vec![i64::MAX; 1_000]),
            ..Details::default()
        };
        let json = long.to_json().unwrap_or_default();
        assert!(json.chars().count() <= MAX_DETAILS_CHARS, "{}", json.len());
        let back: Details = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back.message.map(|m| m.len()), Some(MAX_DETAIL_TEXT_CHARS));
        assert_eq!(back.code.as_deref(), Some("BAD_USER_INPUT"));
        assert_eq!(back.scope.map(|s| s.len()), Some(MAX_SCOPE_IDS));
        // Texts that escaping lengthens six-fold are cut further, never past the bound.
        let escaped = Details {
            message: Some("\u{1}".repeat(600)),
            filter: Some("\"".repeat(600)),
            ..Details::default()
        };
        let json = escaped.to_json().unwrap_or_default();
        assert!(json.chars().count() <= MAX_DETAILS_CHARS, "{}", json.len());
        assert!(json.contains("message"), "{json}");
    }
}
