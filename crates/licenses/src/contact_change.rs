//! Changing the contact a license is sent to (its owner): checked, atomic, audited, and
//! idempotent under retries.
//!
//! One transaction does everything or nothing:
//!
//! 1. forgets expired idempotency keys, then returns the first result if this caller already
//!    used this key (with the same input; another input is refused);
//! 2. claims the license's version: `UPDATE licenses SET version = version + 1 WHERE id = ? AND
//!    version = ?`. Exactly one of any number of concurrent changes made against the same
//!    version updates a row (PostgreSQL re-checks the condition after waiting for the row's
//!    lock; SQLite runs one writer at a time); the others change nothing and get a conflict;
//! 3. resolves the new contact (an existing contact of the license's customer, or a new one,
//!    found by e-mail first), sets it, and writes the audit event and the idempotency key;
//! 4. writes the `license.contact_changed` webhook event to the outbox, with a delivery for
//!    each endpoint subscribed to it (nothing when none is): a change is never made without
//!    its event, nor an event sent for a change that rolled back.
//!
//! On SQLite the first statement is a write (step 1's delete), so the transaction holds the
//! write lock from its start and waits for another writer (busy timeout) instead of failing
//! with "database is locked" when it would upgrade a read snapshot.

use chrono::{DateTime, Duration, Utc};
use entity::{audit_event, contact, customer, idempotency_key, license};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set, TransactionTrait,
};
use sha2::{Digest, Sha256};

use crate::webhooks::outbox::{self, NewEvent};
use crate::webhooks::{EventType, payload};
use crate::{Error, Scope};

/// Longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 1_000;
/// Longest contact name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest e-mail address (RFC 5321's path limit less the angle brackets).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest idempotency key, in characters (printable ASCII only).
pub const MAX_KEY_CHARS: usize = 255;
/// How long an idempotency key is remembered.
pub const KEY_LIFETIME: Duration = Duration::hours(24);

/// Who the license should be sent to from now on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewContact {
    /// An existing contact of the license's customer.
    Existing(i64),
    /// A person given by name and e-mail: the customer's contact with that e-mail (compared
    /// without regard to case) when there is one, else a new contact of the customer.
    Person { name: String, email: String },
}

/// Who asks for a change, as the audit trail records it.
pub use crate::audit_record::Actor;

/// A requested change, checked by [`ContactChange::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactChange {
    license_id: i64,
    contact: NewContact,
    reason: String,
    expected_version: i64,
    key: Option<String>,
}

impl ContactChange {
    /// Checks and normalises the input: names and reasons trimmed and non-empty, an e-mail
    /// address that is one, a printable key; every limit above.
    pub fn new(
        license_id: i64,
        contact: NewContact,
        reason: &str,
        expected_version: i64,
        key: Option<&str>,
    ) -> Result<Self, Error> {
        let invalid = |message: String| Err(Error::InvalidArgument(message));
        let reason = reason.trim();
        if reason.is_empty() {
            return invalid("`reason` is required: say why the license changes hands".into());
        }
        if reason.chars().count() > MAX_REASON_CHARS {
            return invalid(format!(
                "`reason` may be at most {MAX_REASON_CHARS} characters"
            ));
        }
        let contact = match contact {
            NewContact::Existing(id) => NewContact::Existing(id),
            NewContact::Person { name, email } => NewContact::Person {
                name: checked_name(&name)?,
                email: checked_email(&email)?,
            },
        };
        let key = match key {
            None => None,
            Some(key) if key.is_empty() || key.len() > MAX_KEY_CHARS => {
                return invalid(format!(
                    "an idempotency key takes 1 to {MAX_KEY_CHARS} characters"
                ));
            }
            Some(key) if !key.bytes().all(|b| b.is_ascii_graphic() || b == b' ') => {
                return invalid("an idempotency key takes printable ASCII characters only".into());
            }
            Some(key) => Some(key.to_owned()),
        };
        Ok(Self {
            license_id,
            contact,
            reason: reason.to_owned(),
            expected_version,
            key,
        })
    }

    /// A digest of everything the change asks for, so a key reused for another change is
    /// recognised. Fields are length-prefixed: no two inputs share an encoding.
    fn fingerprint(&self) -> String {
        let contact = match &self.contact {
            NewContact::Existing(id) => format!("existing {id}"),
            NewContact::Person { name, email } => {
                format!("person {}:{name}{}:{email}", name.len(), email.len())
            }
        };
        let text = format!(
            "{}\n{}:{contact}\n{}:{}\n{}",
            self.license_id,
            contact.len(),
            self.reason.len(),
            self.reason,
            self.expected_version
        );
        format!("{:x}", Sha256::digest(text.as_bytes()))
    }
}

fn checked_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::InvalidArgument(format!(
            "a contact's name takes 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_owned())
}

/// The one rule for a contact's e-mail address: an RFC 5322 address without display name or
/// domain literal, with a dotted domain, at most [`MAX_EMAIL_CHARS`] long.
pub fn checked_email(email: &str) -> Result<String, Error> {
    let email = email.trim();
    let options = email_address::Options::default()
        .with_required_tld()
        .without_domain_literal()
        .without_display_text();
    if email.len() > MAX_EMAIL_CHARS {
        return Err(Error::InvalidArgument(format!(
            "an e-mail address may be at most {MAX_EMAIL_CHARS} characters"
        )));
    }
    email_address::EmailAddress::parse_with_options(email, options)
        .map(|_| email.to_owned())
        .map_err(|error| {
            Error::InvalidArgument(format!(
                "`{}` is not an e-mail address: {error}",
                email.chars().take(64).collect::<String>()
            ))
        })
}

/// A change refused because the license is no longer at the version the caller saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The version the caller expected.
    pub expected_version: i64,
    /// The license as it is now.
    pub license: license::Model,
    /// Its contact now.
    pub contact: Option<contact::Model>,
}

/// What a change did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed {
    /// The license after the change (for a replay: as it is now).
    pub license: license::Model,
    /// The audit event of the change (for a replay: the first request's).
    pub event: audit_event::Model,
    /// Whether this answers a retry with the first request's result.
    pub replayed: bool,
}

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The input or the contact is not acceptable; nothing was written.
    #[error(transparent)]
    Invalid(#[from] Error),
    /// The license changed since the caller read it; nothing was written.
    #[error("the license changed since version {}: it is at version {} now", .0.expected_version, .0.license.version)]
    Conflict(Box<Conflict>),
}

impl From<sea_orm::DbErr> for ChangeError {
    fn from(error: sea_orm::DbErr) -> Self {
        ChangeError::Invalid(Error::Database(error))
    }
}

/// Makes `change` for `actor`, within `scope`. See the module's documentation.
pub async fn change_contact(
    db: &DatabaseConnection,
    scope: &Scope,
    actor: &Actor,
    change: &ContactChange,
) -> Result<Changed, ChangeError> {
    let now = Utc::now();
    let txn = db.begin().await?;
    match apply(&txn, scope, actor, change, now).await {
        Ok(changed) => {
            txn.commit().await?;
            Ok(changed)
        }
        Err(refused) => {
            txn.rollback().await?;
            match refused {
                Refusal::Error(error) => Err(error),
                Refusal::VersionMoved => {
                    // A concurrent retry with this key may have won: it has committed by now
                    // (our claim waited for it), so its result is the answer.
                    if let Some(replay) = replay(db, scope, actor, change, now).await? {
                        return Ok(replay);
                    }
                    Err(conflict(db, scope, change).await?)
                }
            }
        }
    }
}

/// Why [`apply`] rolled back.
enum Refusal {
    /// The version claim updated no row.
    VersionMoved,
    Error(ChangeError),
}

impl From<ChangeError> for Refusal {
    fn from(error: ChangeError) -> Self {
        Refusal::Error(error)
    }
}

impl From<sea_orm::DbErr> for Refusal {
    fn from(error: sea_orm::DbErr) -> Self {
        Refusal::Error(error.into())
    }
}

async fn apply(
    txn: &DatabaseTransaction,
    scope: &Scope,
    actor: &Actor,
    change: &ContactChange,
    now: DateTime<Utc>,
) -> Result<Changed, Refusal> {
    // First, and a write: see the module's note on SQLite.
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ExpiresAt.lte(now))
        .exec(txn)
        .await?;
    if let Some(replay) = replay(txn, scope, actor, change, now).await? {
        return Ok(replay);
    }

    let claimed = license::Entity::update_many()
        .col_expr(
            license::Column::Version,
            Expr::col(license::Column::Version).add(1),
        )
        .col_expr(license::Column::UpdatedAt, Expr::value(now))
        .filter(license::Column::Id.eq(change.license_id))
        .filter(license::Column::Version.eq(change.expected_version))
        .filter(scope.condition(license::Column::CustomerId))
        .exec(txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(Refusal::VersionMoved);
    }
    let Some(license) = license::Entity::find_by_id(change.license_id)
        .one(txn)
        .await?
    else {
        return Err(Refusal::VersionMoved);
    };
    let old = contact::Entity::find_by_id(license.contact_id)
        .one(txn)
        .await?
        .ok_or_else(|| invalid("the license's current contact no longer exists"))?;
    let new = resolve_contact(txn, &license, &change.contact, now).await?;
    if new.id == old.id {
        return Err(invalid(&format!(
            "the license is already sent to contact {}: nothing to change",
            old.id
        ))
        .into());
    }
    license::Entity::update_many()
        .col_expr(license::Column::ContactId, Expr::value(new.id))
        .filter(license::Column::Id.eq(license.id))
        .exec(txn)
        .await?;
    let license = license::Model {
        contact_id: new.id,
        ..license
    };

    let event = audit_event::ActiveModel {
        license_id: Set(Some(license.id)),
        customer_id: Set(Some(license.customer_id)),
        occurred_at: Set(now),
        action: Set(audit_event::Action::LicenseContactChanged),
        actor_subject: Set(actor.subject.clone()),
        actor_email: Set(actor.email.clone()),
        actor_role: Set(actor.role.clone()),
        request_id: Set(actor.request_id.clone()),
        caller_request_id: Set(actor.caller_request_id.clone()),
        old_contact_id: Set(Some(old.id)),
        old_contact_name: Set(Some(old.name)),
        old_contact_email: Set(Some(old.email)),
        new_contact_id: Set(Some(new.id)),
        new_contact_name: Set(Some(new.name)),
        new_contact_email: Set(Some(new.email)),
        reason: Set(Some(change.reason.clone())),
        license_version: Set(Some(license.version)),
        ..Default::default()
    }
    .insert(txn)
    .await?;

    if let Some(key) = &change.key {
        idempotency_key::Entity::insert(idempotency_key::ActiveModel {
            subject: Set(actor.subject.clone()),
            key: Set(key.clone()),
            fingerprint: Set(change.fingerprint()),
            audit_event_id: Set(event.id),
            created_at: Set(now),
            expires_at: Set(now + KEY_LIFETIME),
        })
        .exec_without_returning(txn)
        .await?;
    }
    contact_changed_event(txn, &license, &event, now).await?;
    Ok(Changed {
        license,
        event,
        replayed: false,
    })
}

/// Step 4: the change's webhook event, for the endpoints subscribed to it now.
async fn contact_changed_event(
    txn: &DatabaseTransaction,
    license: &license::Model,
    event: &audit_event::Model,
    now: DateTime<Utc>,
) -> Result<(), ChangeError> {
    let subscribers = outbox::subscribers(txn, EventType::LicenseContactChanged).await?;
    if subscribers.is_empty() {
        return Ok(());
    }
    let customer = customer::Entity::find_by_id(license.customer_id)
        .one(txn)
        .await?
        .ok_or_else(|| invalid("the license's customer no longer exists"))?;
    let webhook = NewEvent {
        event_type: EventType::LicenseContactChanged,
        occurred_at: event.occurred_at,
        dedupe_key: format!("license.contact_changed:{}", event.id),
        data: payload::contact_changed(license, &customer, event),
    };
    outbox::write(txn, &webhook, &subscribers, now).await?;
    Ok(())
}

fn invalid(message: &str) -> ChangeError {
    ChangeError::Invalid(Error::InvalidArgument(message.to_owned()))
}

/// The first result of a change made earlier with this caller's key, if any: refused when the
/// key was used for another change.
async fn replay(
    db: &impl sea_orm::ConnectionTrait,
    scope: &Scope,
    actor: &Actor,
    change: &ContactChange,
    now: DateTime<Utc>,
) -> Result<Option<Changed>, ChangeError> {
    let Some(key) = &change.key else {
        return Ok(None);
    };
    let Some(used) = idempotency_key::Entity::find_by_id((actor.subject.clone(), key.clone()))
        .filter(idempotency_key::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if used.fingerprint != change.fingerprint() {
        return Err(invalid(
            "this idempotency key was already used for a different change; use a new key for a new change",
        ));
    }
    let event = audit_event::Entity::find_by_id(used.audit_event_id)
        .filter(scope.condition(audit_event::Column::CustomerId))
        .one(db)
        .await?;
    let license = license::Entity::find_by_id(change.license_id)
        .filter(scope.condition(license::Column::CustomerId))
        .one(db)
        .await?;
    match (event, license) {
        (Some(event), Some(license)) => Ok(Some(Changed {
            license,
            event,
            replayed: true,
        })),
        _ => Err(invalid("the change this idempotency key made is gone")),
    }
}

/// The new contact: an existing one of the license's customer, or the customer's contact with
/// that e-mail, or a new one.
async fn resolve_contact(
    txn: &DatabaseTransaction,
    license: &license::Model,
    wanted: &NewContact,
    now: DateTime<Utc>,
) -> Result<contact::Model, ChangeError> {
    match wanted {
        NewContact::Existing(id) => contact::Entity::find_by_id(*id)
            .filter(contact::Column::CustomerId.eq(license.customer_id))
            .one(txn)
            .await?
            .ok_or_else(|| {
                invalid(&format!(
                    "contact {id} is not a contact of the license's customer"
                ))
            }),
        NewContact::Person { name, email } => {
            let same_email =
                Expr::expr(Func::lower(Expr::col(contact::Column::Email))).eq(email.to_lowercase());
            let known = contact::Entity::find()
                .filter(contact::Column::CustomerId.eq(license.customer_id))
                .filter(same_email)
                .one(txn)
                .await?;
            if let Some(known) = known {
                return Ok(known);
            }
            Ok(contact::ActiveModel {
                customer_id: Set(license.customer_id),
                name: Set(name.clone()),
                email: Set(email.clone()),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?)
        }
    }
}

/// The conflict to answer when the claim updated nothing: the license as it is now, or "no
/// such license" when it does not exist (or is not the caller's to see).
async fn conflict(
    db: &DatabaseConnection,
    scope: &Scope,
    change: &ContactChange,
) -> Result<ChangeError, ChangeError> {
    let license = license::Entity::find_by_id(change.license_id)
        .filter(scope.condition(license::Column::CustomerId))
        .one(db)
        .await?;
    let Some(license) = license else {
        return Ok(invalid(&format!(
            "there is no license {}",
            change.license_id
        )));
    };
    let contact = contact::Entity::find_by_id(license.contact_id)
        .one(db)
        .await?;
    Ok(ChangeError::Conflict(Box::new(Conflict {
        expected_version: change.expected_version,
        license,
        contact,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str, email: &str) -> NewContact {
        NewContact::Person {
            name: name.into(),
            email: email.into(),
        }
    }

    #[test]
    fn input_is_trimmed_and_checked() {
        let change = match ContactChange::new(
            1,
            person(" Jane ", " jane@acme.example "),
            " moved ",
            3,
            None,
        ) {
            Ok(change) => change,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(change.contact, person("Jane", "jane@acme.example"));
        assert_eq!(change.reason, "moved");
        for (contact, reason, key, why) in [
            (person("Jane", "jane@acme.example"), "  ", None, "reason"),
            (person("", "jane@acme.example"), "r", None, "name"),
            (person("Jane", "jane"), "r", None, "not an e-mail"),
            (person("Jane", "jane@localhost"), "r", None, "not an e-mail"),
            (
                person("Jane", "Jane <j@acme.example>"),
                "r",
                None,
                "not an e-mail",
            ),
            (NewContact::Existing(1), "r", Some(""), "idempotency key"),
            (NewContact::Existing(1), "r", Some("é"), "printable"),
        ] {
            let error = ContactChange::new(1, contact, reason, 1, key)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains(why), "{why}: {error}");
        }
        let long = "x".repeat(MAX_REASON_CHARS + 1);
        assert!(ContactChange::new(1, NewContact::Existing(1), &long, 1, None).is_err());
    }

    #[test]
    fn fingerprints_tell_changes_apart() {
        let make = |reason: &str, version| {
            ContactChange::new(1, NewContact::Existing(2), reason, version, Some("k"))
                .map(|c| c.fingerprint())
                .unwrap_or_default()
        };
        assert_eq!(make("moved", 1), make("moved", 1));
        assert_ne!(make("moved", 1), make("moved", 2));
        assert_ne!(make("moved", 1), make("left", 1));
    }
}
