//! Fresh migrated databases and the rows the tests need.

use chrono::{DateTime, NaiveDate, Utc};
use entity::webhook_event::EventType;
use entity::{contact, customer, license, webhook_endpoint};
use licenses::webhooks::endpoints::{self, NewEndpoint};
use licenses::webhooks::outbox::{self, NewEvent, Recorded};
use migration::MigratorTrait;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use test_support::{Backend, TestDb};

/// A migrated, empty license database.
pub struct Db {
    pub db: DatabaseConnection,
    _test_db: TestDb,
}

impl Db {
    pub async fn fresh(backend: Backend, label: &str) -> Db {
        let test_db = TestDb::fresh(backend, label).await;
        let (db, _) = licenses::db::connect(&test_db.url).await.unwrap();
        migration::LicenseMigrator::up(&db, None).await.unwrap();
        Db {
            db,
            _test_db: test_db,
        }
    }
}

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

pub fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// A license of a new customer (with one contact) expiring on `expires_at`.
pub async fn license(db: &DatabaseConnection, expires_at: Option<NaiveDate>) -> license::Model {
    let now = at("2027-01-01T00:00:00Z");
    let customer = customer::ActiveModel {
        name: Set("Acme Inc".into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let contact = contact::ActiveModel {
        customer_id: Set(customer.id),
        name: Set("Jane Doe".into()),
        email: Set(format!("jane{}@acme.example", customer.id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    license::ActiveModel {
        customer_id: Set(customer.id),
        contact_id: Set(contact.id),
        licensee_name: Set("Jane Doe".into()),
        licensee_email: Set(contact.email.clone()),
        licensee_company: Set("Acme Inc".into()),
        plan: Set(entity::Plan::Premium),
        users_count: Set(50),
        previous_users_count: Set(None),
        trueup_quantity: Set(0),
        trial: Set(false),
        issued_at: Set(now),
        starts_at: Set(day("2026-01-01")),
        expires_at: Set(expires_at),
        license_type: Set(entity::LicenseType::OnlineCloud),
        zuora_subscription_id: Set(None),
        zuora_subscription_name: Set(None),
        license_md5: Set(format!("md5-{}", customer.id)),
        license_sha256: Set(format!("sha256-{}", customer.id)),
        notes: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
}

/// An active endpoint subscribed to `events` (its secret is opaque here).
pub async fn endpoint(db: &DatabaseConnection, events: &[EventType]) -> webhook_endpoint::Model {
    endpoints::create(
        db,
        NewEndpoint {
            url: "https://hooks.example.com/in".into(),
            events: EventType::join_list(events),
            description: String::new(),
            secret: "v1.opaque".into(),
            created_by: "test-admin".into(),
        },
        100,
        at("2027-01-01T00:00:00Z"),
    )
    .await
    .unwrap()
}

/// Writes a `license.contact_changed` event keyed `key` at `now`.
pub async fn event(db: &DatabaseConnection, key: &str, now: DateTime<Utc>) -> Recorded {
    let event = NewEvent {
        event_type: EventType::LicenseContactChanged,
        occurred_at: now,
        dedupe_key: key.to_owned(),
        data: serde_json::json!({"key": key}),
    };
    outbox::record(db, &event, now).await.unwrap()
}
