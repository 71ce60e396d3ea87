//! Plain rows of both databases, as generated, plus the id allocator.
//!
//! The generator fills these buffers a chunk of customers at a time and `insert` writes them
//! with multi-row statements; nothing else is kept, so memory stays flat however many customers
//! are generated.

use chrono::{DateTime, NaiveDate, Utc};

pub struct CustomerRow {
    pub id: i64,
    pub name: String,
    pub salesforce_account_id: Option<String>,
    pub zuora_account_id: Option<String>,
    pub country: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub struct ContactRow {
    pub id: i64,
    pub customer_id: i64,
    pub name: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

pub struct LicenseRow {
    pub id: i64,
    pub customer_id: i64,
    pub contact_id: i64,
    pub licensee_name: String,
    pub licensee_email: String,
    pub licensee_company: String,
    pub plan: &'static str,
    pub users_count: i32,
    pub previous_users_count: Option<i32>,
    pub trueup_quantity: i32,
    pub trial: bool,
    pub issued_at: DateTime<Utc>,
    pub starts_at: NaiveDate,
    pub expires_at: Option<NaiveDate>,
    pub license_type: &'static str,
    pub zuora_subscription_id: Option<String>,
    pub zuora_subscription_name: Option<String>,
    pub license_md5: String,
    pub license_sha256: String,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct HostnameRow {
    pub id: i64,
    pub name: String,
}

pub struct LicenseHostnameRow {
    pub license_id: i64,
    pub hostname_id: i64,
    pub first_seen_at: DateTime<Utc>,
}

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

/// The license fields a ping carries; absent for a server without a license (free edition).
pub struct PingLicense {
    pub id: i64,
    pub md5: String,
    pub sha256: String,
    pub user_count: i64,
    pub plan: &'static str,
    pub trial: bool,
    pub starts_at: NaiveDate,
    pub expires_at: Option<NaiveDate>,
    pub subscription_id: Option<String>,
}

pub struct PingRow {
    pub id: i64,
    pub host_id: i64,
    pub uuid: String,
    pub hostname: String,
    pub recorded_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub version: &'static str,
    pub edition: &'static str,
    pub installation_type: &'static str,
    pub active_user_count: i64,
    pub historical_max_users: i64,
    pub license: Option<PingLicense>,
    /// The body as a server would send it; its counters stay in it.
    pub payload: String,
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
