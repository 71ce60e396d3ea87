//! The version database: one `hosts` row per server and its weekly usage pings.
//!
//! Each ping carries the license the server was running when it was recorded (the most recently
//! started of the licenses installed on it), so pings and licenses always agree. A server whose
//! licenses have not started yet reports the free edition without license fields, like a real
//! one does.

use chrono::{DateTime, Duration, Utc};
use entity::{Plan, usage_ping};
use rand::Rng;
use rand::seq::IndexedRandom;
use sea_orm::ActiveEnum;
use serde_json::json;

use crate::license_data::HostPlan;
use crate::license_file::{Ctx, midnight};
use crate::names;
use crate::rows::{HostRow, Ids, LicenseRow, VersionBatch, next};

/// Versions in release order; servers upgrade now and then between pings.
const VERSIONS: &[&str] = &[
    "16.8.1-ee",
    "16.9.2-ee",
    "16.10.6-ee",
    "16.11.5-ee",
    "17.0.2-ee",
    "17.1.1-ee",
    "17.2.4-ee",
    "17.3.2-ee",
    "17.4.1-ee",
    "17.5.0-ee",
];

const INSTALLATION_TYPES: &[&str] = &[
    "omnibus-gitlab",
    "omnibus-gitlab",
    "omnibus-gitlab",
    "omnibus-gitlab",
    "omnibus-gitlab",
    "gitlab-helm-chart",
    "gitlab-helm-chart",
    "gitlab-operator",
    "source",
];

/// The edition a licensed server reports for its plan.
pub fn edition(plan: Plan) -> &'static str {
    match plan {
        Plan::Starter => "EES",
        Plan::Premium => "EEP",
        Plan::Ultimate => "EEU",
    }
}

/// A name for a server that reports a customer's license without being attached to it. Its
/// forms never collide with the attached ones (gitlab.<base>.<tld>), and `base` is unique.
pub fn unknown_hostname<R: Rng>(rng: &mut R, base: &str) -> String {
    match rng.random_range(0..4) {
        0 => format!("{base}.ninja"),
        1 => format!("gitlab.{base}.dev"),
        2 => format!("{base}-gitlab.cloud"),
        _ => format!("scm.{base}.internal"),
    }
}

/// The license a server ran on `at`: the latest one that had started by then.
fn running<'a>(
    plan: &HostPlan,
    licenses: &'a [LicenseRow],
    at: DateTime<Utc>,
) -> Option<&'a LicenseRow> {
    let day = at.date_naive();
    plan.licenses
        .iter()
        .filter_map(|&i| licenses.get(i))
        .filter(|l| l.starts_at <= day)
        .max_by_key(|l| (l.starts_at, l.id))
}

/// When the server sent its last ping: recently if its license is current, otherwise some
/// weeks after its last license expired (the customer churned and switched it off).
fn last_ping<R: Rng>(
    rng: &mut R,
    ctx: &Ctx,
    plan: &HostPlan,
    licenses: &[LicenseRow],
) -> DateTime<Utc> {
    let recent = ctx.now - Duration::minutes(rng.random_range(60..7 * 24 * 60));
    match running(plan, licenses, ctx.now) {
        Some(LicenseRow {
            expires_at: Some(expires),
            ..
        }) if *expires < ctx.today - Duration::days(30) => {
            (midnight(*expires) + Duration::hours(rng.random_range(0..60 * 24))).min(recent)
        }
        _ => recent,
    }
}

/// Appends the `hosts` row of a server and `count` weekly pings ending at its last ping.
pub fn host_pings<R: Rng>(
    rng: &mut R,
    ids: &mut Ids,
    ctx: &Ctx,
    plan: &HostPlan,
    licenses: &[LicenseRow],
    count: u32,
    out: &mut VersionBatch,
) {
    let host_id = next(&mut ids.host);
    let uuid = names::uuid(rng);
    let installation_type = INSTALLATION_TYPES
        .choose(rng)
        .copied()
        .unwrap_or("omnibus-gitlab");
    let mut version = rng.random_range(0..VERSIONS.len());
    // Most servers use part of their seats; some are over-licensed (more users than seats).
    let usage = if rng.random_bool(0.08) {
        rng.random_range(1.0..1.12)
    } else {
        rng.random_range(0.3..1.0)
    };
    let end = last_ping(rng, ctx, plan, licenses);
    let mut projects: i64 = rng.random_range(3..3000);
    let mut merge_requests: i64 = projects * rng.random_range(2..40);
    let mut pipelines: i64 = merge_requests * rng.random_range(3..25);
    let mut historical_max: i64 = 0;
    let mut first_seen = None;
    let mut last_seen = end;
    for week in (0..i64::from(count)).rev() {
        let recorded_at =
            end - Duration::days(7 * week) - Duration::seconds(rng.random_range(0..600));
        let received_at = recorded_at + Duration::seconds(rng.random_range(2..180));
        if rng.random_bool(0.12) && version + 1 < VERSIONS.len() {
            version += 1;
        }
        let license = running(plan, licenses, recorded_at);
        // Customers grow into their seats: from 70% of the host's level at its first ping to
        // all of it at its last, so a usage chart shows a trend (no extra draw from `rng`).
        let progress = 1.0 - week as f64 / f64::from(count.saturating_sub(1).max(1));
        let growth = 0.7 + 0.3 * progress;
        let active = match license {
            Some(l) => {
                let jitter = rng.random_range(0.97..1.03);
                ((f64::from(l.users_count) * usage * growth * jitter).round() as i64).max(1)
            }
            None => rng.random_range(1..30),
        };
        historical_max = historical_max.max(active + rng.random_range(0..=active / 12));
        projects += rng.random_range(0..5);
        merge_requests += rng.random_range(0..200);
        pipelines += rng.random_range(0..2000);
        let counts = json!({
            "projects": projects,
            "merge_requests": merge_requests,
            "ci_pipelines": pipelines,
            "users_created": historical_max + rng.random_range(0..20),
        });
        let edition = license.map_or("EE Free", |l| edition(l.plan));
        let payload = payload(
            &uuid,
            &plan.hostname,
            recorded_at,
            VERSIONS[version],
            edition,
            installation_type,
            active,
            historical_max,
            license,
            &counts,
        );
        first_seen.get_or_insert(received_at);
        last_seen = received_at;
        out.pings.push(usage_ping::Model {
            id: next(&mut ids.ping),
            host_id,
            // The seed's pings carry their licenses' real digests: what the version service
            // would decide when it looks them up.
            verification: if license.is_some() {
                usage_ping::Verification::Verified
            } else {
                usage_ping::Verification::NoLicense
            },
            verified_license_id: license.map(|l| l.id),
            uuid: uuid.clone(),
            hostname: plan.hostname.clone(),
            recorded_at,
            received_at,
            version: Some(VERSIONS[version].to_owned()),
            edition: Some(edition.to_owned()),
            installation_type: Some(installation_type.to_owned()),
            active_user_count: Some(active),
            historical_max_users: Some(historical_max),
            license_id: license.map(|l| l.id),
            license_md5: license.map(|l| l.license_md5.clone()),
            license_sha256: license.map(|l| l.license_sha256.clone()),
            license_user_count: license.map(|l| i64::from(l.users_count)),
            license_plan: license.map(|l| l.plan.to_value()),
            license_trial: license.map(|l| l.trial),
            license_starts_at: license.map(|l| l.starts_at),
            license_expires_at: license.and_then(|l| l.expires_at),
            license_subscription_id: license.and_then(|l| l.zuora_subscription_id.clone()),
            payload,
        });
    }
    out.hosts.push(HostRow {
        id: host_id,
        hostname: plan.hostname.clone(),
        uuid,
        // The version service records a host when its first ping arrives.
        first_seen_at: first_seen.unwrap_or(end),
        last_ping_at: last_seen,
    });
}

/// The ping as the server sent it, trimmed to a few hundred bytes (real ones are far larger,
/// but a bulk data set only needs the fields the services read).
#[allow(clippy::too_many_arguments)]
fn payload(
    uuid: &str,
    hostname: &str,
    recorded_at: DateTime<Utc>,
    version: &str,
    edition: &str,
    installation_type: &str,
    active: i64,
    historical_max: i64,
    license: Option<&LicenseRow>,
    counts: &serde_json::Value,
) -> String {
    let mut ping = json!({
        "recorded_at": recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "uuid": uuid,
        "hostname": hostname,
        "version": version,
        "installation_type": installation_type,
        "active_user_count": active,
        "edition": edition,
        "historical_max_users": historical_max,
        "counts": counts,
    });
    if let (Some(l), Some(map)) = (license, ping.as_object_mut()) {
        map.insert("license_id".into(), json!(l.id));
        map.insert("license_md5".into(), json!(l.license_md5));
        map.insert("license_sha256".into(), json!(l.license_sha256));
        map.insert(
            "licensee".into(),
            json!({"Name": l.licensee_name, "Email": l.licensee_email, "Company": l.licensee_company}),
        );
        map.insert("license_user_count".into(), json!(l.users_count));
        map.insert("license_starts_at".into(), json!(l.starts_at.to_string()));
        map.insert(
            "license_expires_at".into(),
            json!(l.expires_at.map(|d| d.to_string())),
        );
        map.insert("license_plan".into(), json!(l.plan.to_value()));
        map.insert("license_trial".into(), json!(l.trial));
        map.insert(
            "license_subscription_id".into(),
            json!(l.zuora_subscription_id),
        );
    }
    ping.to_string()
}
