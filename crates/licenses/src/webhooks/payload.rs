//! The `data` each event type carries: what a receiver needs to act without calling back (the
//! license, its customer, who it is sent to, the figures), in the graph's field names. Ids are
//! strings, as the graph's `ID`s are; dates are `YYYY-MM-DD`, instants RFC 3339 in UTC.
//!
//! Payloads carry people's names and e-mail addresses unmasked: endpoints are set up by admins
//! for the company's own tools (CRM, ticketing, chat), which need them.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use entity::{audit_event, contact, customer, license};
use sea_orm::ActiveEnum;
use serde_json::{Value, json};

use crate::status;

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A license as every license event shows it.
pub fn license(license: &license::Model) -> Value {
    json!({
        "id": license.id.to_string(),
        "plan": license.plan.to_value(),
        "trial": license.trial,
        "usersCount": license.users_count,
        "startsAt": license.starts_at.to_string(),
        "expiresAt": license.expires_at.map(|d| d.to_string()),
        "licenseeCompany": license.licensee_company,
        "version": license.version,
    })
}

/// A customer: its id and name.
pub fn customer(customer: &customer::Model) -> Value {
    json!({ "id": customer.id.to_string(), "name": customer.name })
}

/// A contact: its id, name and e-mail address.
pub fn contact(contact: &contact::Model) -> Value {
    json!({ "id": contact.id.to_string(), "name": contact.name, "email": contact.email })
}

/// `license.expiring`: the license, its customer and contact, the days left on `today`, and
/// which threshold (90, 30, 7 by default) this event is for.
pub fn expiring(
    l: &license::Model,
    c: &customer::Model,
    who: Option<&contact::Model>,
    today: NaiveDate,
    threshold_days: u32,
) -> Value {
    json!({
        "license": license(l),
        "customer": customer(c),
        "contact": who.map(contact),
        "daysUntilExpiry": status::days_until_expiry(l.expires_at, today),
        "thresholdDays": threshold_days,
    })
}

/// `license.expired`: the license, its customer and contact, and the day it expired.
pub fn expired(
    l: &license::Model,
    c: &customer::Model,
    who: Option<&contact::Model>,
    today: NaiveDate,
) -> Value {
    json!({
        "license": license(l),
        "customer": customer(c),
        "contact": who.map(contact),
        "expiredOn": l.expires_at.map(|d| d.to_string()),
        "daysSinceExpiry": status::days_until_expiry(l.expires_at, today).map(|d| -d),
    })
}

/// `license.contact_changed`: the audit event as the staff trail shows it (who, when, why, the
/// contacts before and after as they were then), with the license after the change and its
/// customer.
pub fn contact_changed(
    l: &license::Model,
    c: &customer::Model,
    event: &audit_event::Model,
) -> Value {
    json!({
        "license": license(l),
        "customer": customer(c),
        "auditEventId": event.id.to_string(),
        "changedAt": instant(event.occurred_at),
        "actor": {
            "subject": event.actor_subject,
            "email": event.actor_email,
            "role": event.actor_role,
        },
        "requestId": event.request_id,
        "oldContact": {
            "id": event.old_contact_id.map(|id| id.to_string()),
            "name": event.old_contact_name,
            "email": event.old_contact_email,
        },
        "newContact": {
            "id": event.new_contact_id.map(|id| id.to_string()),
            "name": event.new_contact_name,
            "email": event.new_contact_email,
        },
        "reason": event.reason,
    })
}
