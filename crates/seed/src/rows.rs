//! Plain rows of both databases, as generated, plus the id allocator.
//!
//! Where the generator's row is the entity's, it is the entity's `Model`; the others say how they
//! become one (`to_model`), so `insert` writes every table through its entity's columns. The
//! generator fills these buffers a chunk of customers at a time and `insert` writes them
//! with multi-row statements; nothing else is kept, so memory stays flat however many customers
//! are generated.

use chrono::{DateTime, Utc};
use entity::{
    contact, customer, host, hostname, license, license_add_on, license_hostname, usage_ping,
};
use sea_orm::DbErr;

// Rows the generator builds exactly as the entity has them.
pub type CustomerRow = customer::Model;
pub type ContactRow = contact::Model;
pub type HostnameRow = hostname::Model;
pub type LicenseHostnameRow = license_hostname::Model;
pub type LicenseRow = license::Model;
/// A ping as generated is the stored row; its payload carries the counters.
pub type PingRow = usage_ping::Model;

pub struct LicenseAddOnRow {
    pub license_id: i64,
    pub add_on_code: &'static str,
    pub quantity: i32,
}

pub struct HostRow {
    pub id: i64,
    pub hostname: String,
    pub uuid: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_ping_at: DateTime<Utc>,
}

impl LicenseAddOnRow {
    pub fn to_model(&self) -> Result<license_add_on::Model, DbErr> {
        Ok(license_add_on::Model {
            license_id: self.license_id,
            add_on_code: self.add_on_code.to_owned(),
            quantity: self.quantity,
        })
    }
}

impl HostRow {
    /// Its newest ping is left unset: the read models are rebuilt after the pings are written.
    pub fn to_model(&self) -> Result<host::Model, DbErr> {
        Ok(host::Model {
            id: self.id,
            hostname: self.hostname.clone(),
            uuid: self.uuid.clone(),
            first_seen_at: self.first_seen_at,
            last_ping_at: self.last_ping_at,
            latest_ping_id: None,
            holder_installation_id: None,
        })
    }
}

/// Rows of the license database generated since the last flush.
#[derive(Default)]
pub struct LicenseBatch {
    pub customers: Vec<CustomerRow>,
    pub contacts: Vec<ContactRow>,
    pub licenses: Vec<LicenseRow>,
    pub hostnames: Vec<HostnameRow>,
    pub license_hostnames: Vec<LicenseHostnameRow>,
    pub license_add_ons: Vec<LicenseAddOnRow>,
}

impl LicenseBatch {
    pub fn clear(&mut self) {
        self.customers.clear();
        self.contacts.clear();
        self.licenses.clear();
        self.hostnames.clear();
        self.license_hostnames.clear();
        self.license_add_ons.clear();
    }
}

/// Rows of the version database generated since the last flush.
#[derive(Default)]
pub struct VersionBatch {
    pub hosts: Vec<HostRow>,
    pub pings: Vec<PingRow>,
}

impl VersionBatch {
    pub fn clear(&mut self) {
        self.hosts.clear();
        self.pings.clear();
    }
}

/// Next id of every table. Ids are assigned here, not by the database, so the same seed gives
/// the same ids and rows can reference each other before anything is written.
#[derive(Clone, Debug)]
pub struct Ids {
    pub customer: i64,
    pub contact: i64,
    pub license: i64,
    pub hostname: i64,
    pub host: i64,
    pub ping: i64,
}

impl Default for Ids {
    fn default() -> Self {
        Self {
            customer: 1,
            contact: 1,
            license: 1,
            hostname: 1,
            host: 1,
            ping: 1,
        }
    }
}

/// Hands out the next id of a counter.
pub fn next(counter: &mut i64) -> i64 {
    let id = *counter;
    *counter += 1;
    id
}
