//! A license as a file and as a row: the license text, its md5/sha256 fingerprints, the row
//! that records it, and the links to the servers it is installed on. Shared by the random
//! customers and the demo story.

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use entity::{LicenseType, Plan};
use md5::{Digest as _, Md5};
use rand::Rng;
use rand::seq::IndexedRandom;
use sea_orm::ActiveEnum;
use sha2::Sha256;

use crate::rows::{Ids, LicenseBatch, LicenseHostnameRow, LicenseRow, next};

/// The add-ons a license may carry: (code, display name).
pub const ADD_ONS: &[(&str, &str)] = &[
    ("GitLab_FileLocks", "File Locks"),
    ("GitLab_Geo", "Geo"),
    ("GitLab_DuoPro", "Duo Pro"),
    ("GitLab_DuoEnterprise", "Duo Enterprise"),
    ("GitLab_AuditorUser", "Auditor User"),
    (
        "GitLab_EnterpriseAgilePlanning",
        "Enterprise Agile Planning",
    ),
];

pub const NOTES: &[&str] = &[
    "Renewal processed by sales",
    "Customer requested offline activation",
    "Reissued after hostname change",
    "Multi-year deal, billed annually",
    "Trueup invoiced separately",
    "Upgrade requested by the customer's admin",
    "PO received late; issued on good faith",
];

/// The fixed inputs of a run: the seed (part of every license text, so two seeds never share a
/// hash) and "today", passed in so the data does not depend on the clock.
pub struct Ctx {
    pub seed: u64,
    pub today: NaiveDate,
    /// Midnight UTC at the start of `today`: nothing generated happens after it.
    pub now: DateTime<Utc>,
}

impl Ctx {
    pub fn new(seed: u64, today: NaiveDate) -> Self {
        Self {
            seed,
            today,
            now: midnight(today),
        }
    }
}

pub fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

pub fn add_months(date: NaiveDate, months: i64) -> NaiveDate {
    let shifted = if months >= 0 {
        date.checked_add_months(Months::new(months.unsigned_abs() as u32))
    } else {
        date.checked_sub_months(Months::new(months.unsigned_abs() as u32))
    };
    shifted.unwrap_or(date)
}

/// Everything about a license except its id, hashes and bookkeeping timestamps.
pub struct LicenseSpec {
    pub customer_id: i64,
    pub contact: usize,
    pub plan: Plan,
    pub users_count: i32,
    pub previous_users_count: Option<i32>,
    pub trueup_quantity: i32,
    pub trial: bool,
    pub issued_at: DateTime<Utc>,
    pub starts_at: NaiveDate,
    pub expires_at: Option<NaiveDate>,
    pub license_type: LicenseType,
    pub subscription: Option<(String, String)>,
    pub notes: Option<String>,
}

/// Appends a license, deriving the license file's text and its md5/sha256 from the row so the
/// hashes are stable and unique (the text contains the id and the seed).
pub fn push_license(
    batch: &mut LicenseBatch,
    ids: &mut Ids,
    ctx: &Ctx,
    contacts: &[(i64, String, String)],
    company: &str,
    spec: LicenseSpec,
) -> usize {
    let id = next(&mut ids.license);
    let (contact_id, name, email) = contacts
        .get(spec.contact)
        .or_else(|| contacts.first())
        .cloned()
        .unwrap_or_default();
    let expires = spec.expires_at.map(|d| d.to_string()).unwrap_or_default();
    let text = format!(
        "id={id}\nseed={}\nlicensee={name} <{email}> {company}\nplan={}\nusers={}\ntrial={}\nstarts={}\nexpires={expires}\nissued={}\n",
        ctx.seed,
        spec.plan.to_value(),
        spec.users_count,
        spec.trial,
        spec.starts_at,
        spec.issued_at.to_rfc3339()
    );
    let md5 = hex::encode(Md5::digest(text.as_bytes()));
    let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
    let (sub_id, sub_name) = spec.subscription.unzip();
    batch.licenses.push(LicenseRow {
        id,
        customer_id: spec.customer_id,
        contact_id,
        licensee_name: name,
        licensee_email: email,
        licensee_company: company.to_string(),
        plan: spec.plan,
        users_count: spec.users_count,
        previous_users_count: spec.previous_users_count,
        trueup_quantity: spec.trueup_quantity,
        trial: spec.trial,
        issued_at: spec.issued_at,
        starts_at: spec.starts_at,
        expires_at: spec.expires_at,
        license_type: spec.license_type,
        zuora_subscription_id: sub_id,
        zuora_subscription_name: sub_name,
        license_md5: md5,
        license_sha256: sha256,
        notes: spec.notes,
        created_at: spec.issued_at,
        updated_at: spec.issued_at,
        // Every generated license is as issued: no change made through licensedot yet.
        version: 1,
    });
    batch.licenses.len() - 1
}

/// Links a license to a hostname, first seen shortly after the license was issued (never after
/// `ctx.now`).
pub fn link<R: Rng>(
    rng: &mut R,
    batch: &mut LicenseBatch,
    ctx: &Ctx,
    license: usize,
    hostname_id: i64,
) {
    let Some(row) = batch.licenses.get(license) else {
        return;
    };
    let seen = row.issued_at + Duration::minutes(rng.random_range(5..5 * 24 * 60));
    batch.license_hostnames.push(LicenseHostnameRow {
        license_id: row.id,
        hostname_id,
        first_seen_at: seen.min(ctx.now - Duration::minutes(1)),
    });
}

/// Seat count of a first purchase: 5 to 5,000, heavily skewed to small teams.
pub fn seats<R: Rng>(rng: &mut R) -> i32 {
    let x: f64 = rng.random();
    (5.0 * 1000f64.powf(x * x * x)).round() as i32
}

pub fn license_type<R: Rng>(rng: &mut R, starts: NaiveDate) -> LicenseType {
    use chrono::Datelike;
    if starts.year() < 2022 {
        return LicenseType::LegacyLicense;
    }
    [
        LicenseType::OnlineCloud,
        LicenseType::OnlineCloud,
        LicenseType::OnlineCloud,
        LicenseType::OfflineCloud,
        LicenseType::LegacyLicense,
    ]
    .choose(rng)
    .copied()
    .unwrap_or(LicenseType::OnlineCloud)
}

pub fn issued_before<R: Rng>(rng: &mut R, ctx: &Ctx, starts: NaiveDate) -> DateTime<Utc> {
    let issued = midnight(starts) - Duration::minutes(rng.random_range(60..20 * 24 * 60));
    if issued < ctx.now {
        issued
    } else {
        ctx.now - Duration::minutes(rng.random_range(60..3 * 24 * 60))
    }
}
