//! Which licenses are due a time-based event on a given day, as outbox events ready to write.
//!
//! - `license.expiring` for threshold `d` (90, 30, 7 by default): the license expires in more
//!   than the next smaller threshold and at most `d` days (7 days: in 1 to 7 days). A license
//!   found late (a gateway down for weeks, or webhooks just switched on) gets the event of the
//!   window it is in now, not those it missed.
//! - `license.expired`: the expiry date is today or passed, at most [`EXPIRED_WINDOW_DAYS`]
//!   ago (licenses that expired long before webhooks were switched on stay quiet).
//!
//! Each event's dedupe key names the license, the threshold and the expiry date, so it is
//! written once however often and by however many replicas it is computed, and a license
//! whose expiry moves gets the events of its new date. Candidates are read as (id, expiry)
//! pairs through the `licenses_expires_idx` index; only the new ones are loaded in full.

use std::collections::HashSet;

use chrono::{DateTime, Days, NaiveDate, Utc};
use entity::{contact, customer, license, webhook_event};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::outbox::NewEvent;
use super::{EventType, payload};
use crate::Error;

/// How long after its expiry date a license still gets `license.expired`.
pub const EXPIRED_WINDOW_DAYS: u64 = 7;

/// Dedupe keys are checked this many at a time.
const KEY_CHUNK: usize = 500;

/// The `license.expiring` events due on `today` for `thresholds` (days, any order) that were
/// not written yet, at most `limit`, most urgent first.
pub async fn expiring(
    db: &impl ConnectionTrait,
    today: NaiveDate,
    thresholds: &[u32],
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<NewEvent>, Error> {
    let mut thresholds = thresholds.to_vec();
    thresholds.sort_unstable();
    thresholds.dedup();
    let mut due = Vec::new();
    let mut lower = 0;
    for threshold in thresholds {
        let window = candidates(db, day(today, lower), day(today, threshold)).await?;
        for (id, expires_at) in window {
            let key = format!("license.expiring:{id}:{threshold}d:{expires_at}");
            due.push((key, id, Some(threshold)));
        }
        lower = threshold;
    }
    events(db, due, EventType::LicenseExpiring, today, now, limit).await
}

/// The `license.expired` events due on `today` that were not written yet, at most `limit`,
/// most recently expired last.
pub async fn expired(
    db: &impl ConnectionTrait,
    today: NaiveDate,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<NewEvent>, Error> {
    let from = today
        .checked_sub_days(Days::new(EXPIRED_WINDOW_DAYS + 1))
        .unwrap_or(today);
    let due = candidates(db, from, today)
        .await?
        .into_iter()
        .map(|(id, expires_at)| (format!("license.expired:{id}:{expires_at}"), id, None))
        .collect();
    events(db, due, EventType::LicenseExpired, today, now, limit).await
}

fn day(today: NaiveDate, days: u32) -> NaiveDate {
    today
        .checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

/// (id, expiry) of the licenses expiring after `after` and on or before `until`.
async fn candidates(
    db: &impl ConnectionTrait,
    after: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<(i64, NaiveDate)>, Error> {
    Ok(license::Entity::find()
        .select_only()
        .column(license::Column::Id)
        .column(license::Column::ExpiresAt)
        .filter(license::Column::ExpiresAt.gt(after))
        .filter(license::Column::ExpiresAt.lte(until))
        .order_by_asc(license::Column::ExpiresAt)
        .order_by_asc(license::Column::Id)
        .into_tuple::<(i64, NaiveDate)>()
        .all(db)
        .await?)
}

/// The events of `due` (dedupe key, license id, threshold) whose key was not written yet, at
/// most `limit`, loaded and built.
async fn events(
    db: &impl ConnectionTrait,
    due: Vec<(String, i64, Option<u32>)>,
    event_type: EventType,
    today: NaiveDate,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<NewEvent>, Error> {
    let mut new = Vec::new();
    for chunk in due.chunks(KEY_CHUNK) {
        let keys: Vec<&str> = chunk.iter().map(|(key, ..)| key.as_str()).collect();
        let written: HashSet<String> = webhook_event::Entity::find()
            .select_only()
            .column(webhook_event::Column::DedupeKey)
            .filter(webhook_event::Column::DedupeKey.is_in(keys))
            .into_tuple::<String>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        new.extend(
            chunk
                .iter()
                .filter(|(key, ..)| !written.contains(key))
                .cloned(),
        );
        if new.len() >= limit {
            new.truncate(limit);
            break;
        }
    }
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = new.iter().map(|(_, id, _)| *id).collect();
    let licenses = license::Entity::find()
        .filter(license::Column::Id.is_in(ids))
        .all(db)
        .await?;
    let customers = customer::Entity::find()
        .filter(customer::Column::Id.is_in(licenses.iter().map(|l| l.customer_id)))
        .all(db)
        .await?;
    let contacts = contact::Entity::find()
        .filter(contact::Column::Id.is_in(licenses.iter().map(|l| l.contact_id)))
        .all(db)
        .await?;
    Ok(new
        .into_iter()
        .filter_map(|(dedupe_key, id, threshold)| {
            let license = licenses.iter().find(|l| l.id == id)?;
            let customer = customers.iter().find(|c| c.id == license.customer_id)?;
            let contact = contacts.iter().find(|c| c.id == license.contact_id);
            let data = match threshold {
                Some(days) => payload::expiring(license, customer, contact, today, days),
                None => payload::expired(license, customer, contact, today),
            };
            Some(NewEvent {
                event_type,
                occurred_at: now,
                dedupe_key,
                data,
            })
        })
        .collect())
}
