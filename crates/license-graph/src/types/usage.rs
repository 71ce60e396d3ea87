//! Usage data as the version subgraph reports it: pings, the servers reporting a license, and a
//! license's utilization.

use std::sync::Arc;

use std::str::FromStr;

use async_graphql::{ComplexObject, Enum, ID, Json, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use error_catalogue::Code;
use serde::Deserialize;
use serde_json::Value;

use crate::directives::authenticated;
use crate::errors::code_error;
use crate::upstream::UpstreamError;
use crate::upstream::field_errors::FieldError;

/// One usage ping: what a server reported about itself at one moment (sent weekly).
// Shareable: the version subgraph serves the same type (this one is filled from it), so a
// supergraph may plan either.
#[derive(SimpleObject, Deserialize, Clone, Debug)]
#[graphql(shareable, complex, directive = authenticated::apply())]
#[serde(rename_all = "camelCase")]
pub struct UsagePing {
    /// When the server recorded the ping.
    pub recorded_at: DateTime<Utc>,
    /// When the version service received it.
    pub received_at: DateTime<Utc>,
    /// The installation's UUID.
    pub uuid: String,
    /// Whether the ping proves the license it carries (its license file's digest, checked
    /// against the license database); an unverified ping is shown, never counted toward a
    /// license.
    // Fetched whenever selected; the default only fills the field when it was not asked for.
    #[serde(default)]
    pub verification: PingVerification,
    /// The server's name as it reported it (normalised).
    pub hostname: String,
    /// The GitLab version, such as `17.3.2-ee`.
    #[serde(default)]
    pub version: Option<String>,
    /// The edition: CE, EE Free, EE, EES, EEP or EEU.
    #[serde(default)]
    pub edition: Option<String>,
    /// How it is installed: omnibus-gitlab, gitlab-helm-chart, gitlab-operator or source.
    #[serde(default)]
    pub installation_type: Option<String>,
    /// Users active at the time of the ping.
    #[serde(default)]
    pub active_user_count: Option<i64>,
    /// The most users the server ever had.
    #[serde(default)]
    pub historical_max_users: Option<i64>,
    /// The id of the license the server runs, as it says (null on the free edition). Proves
    /// nothing: see `verifiedLicenseId`.
    #[serde(default)]
    pub license_id: Option<ID>,
    /// The id of the license whose digest the ping carries, when it is `VERIFIED`.
    #[serde(default)]
    pub verified_license_id: Option<ID>,
    /// The MD5 digest of the license the server runs.
    #[serde(default)]
    pub license_md5: Option<String>,
    /// The SHA-256 digest of the license the server runs.
    #[serde(default)]
    pub license_sha256: Option<String>,
    /// The number of users in the license the server runs.
    #[serde(default)]
    pub license_user_count: Option<i64>,
    /// The plan of the license the server runs.
    #[serde(default)]
    pub license_plan: Option<String>,
    /// Whether the license the server runs is a trial.
    #[serde(default)]
    pub license_trial: Option<bool>,
    /// The start date of the license the server runs.
    #[serde(default)]
    pub license_starts_at: Option<NaiveDate>,
    /// The expiry date of the license the server runs.
    #[serde(default)]
    pub license_expires_at: Option<NaiveDate>,
    /// The Zuora subscription of the license the server runs.
    #[serde(default)]
    pub license_subscription_id: Option<String>,
    /// Usage counters; answered by [`UsagePing::counts`], with their error when the version
    /// service left them out.
    #[serde(default)]
    #[graphql(skip)]
    pub counts: Option<Json<Value>>,
    /// The version service's errors on this ping's fields (see `upstream::field_errors`).
    #[serde(default, rename = "__fieldErrors")]
    #[graphql(skip)]
    pub field_errors: Option<FieldErrors>,
}

/// The errors of a ping's fields that the version service reported in place.
#[derive(Deserialize, Clone, Debug, Default)]
pub struct FieldErrors {
    /// Why `counts` is missing.
    #[serde(default)]
    pub counts: Option<FieldError>,
}

#[ComplexObject]
impl UsagePing {
    /// Usage counters (projects, issues, merge requests, pipelines, ...).
    async fn counts(&self) -> async_graphql::Result<Option<&Json<Value>>> {
        match self.field_errors.as_ref().and_then(|e| e.counts.as_ref()) {
            Some(error) => Err(remote_field_error(error)),
            None => Ok(self.counts.as_ref()),
        }
    }
}

/// A field's error as the version service reported it: its message, and its code when the
/// catalogue knows it (`ANSWER_TOO_LARGE`), else `UPSTREAM_ERROR`.
fn remote_field_error(error: &FieldError) -> async_graphql::Error {
    let code = error
        .code
        .as_deref()
        .and_then(|code| Code::from_str(code).ok())
        .unwrap_or(Code::UpstreamError);
    code_error(error.message.clone(), code)
}

/// Whether a usage ping proves the license it carries: the digest of its license file, looked
/// up in the license database. Only a `VERIFIED` ping counts toward a license (its
/// `reportingHosts`, `utilization`) or decides which installation holds a server's name.
#[derive(Enum, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PingVerification {
    /// Its digest (sha256, else md5) is a license's, and the license id it names, if any, is
    /// that license's.
    Verified,
    /// It sends a digest that no license has, or names another license's id than its digest's.
    DigestMismatch,
    /// It names a license only by id: no proof; it counts toward no license.
    IdOnly,
    /// It carries no license (the free edition).
    NoLicense,
    /// Not checked yet (the license database was not configured or did not answer); checked
    /// again in the background.
    #[default]
    Unchecked,
}

/// An installation sending usage pings under a hostname, as the version service sees it.
#[derive(Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct InstallationData {
    #[serde(default)]
    pub uuid: Option<String>,
    pub holds_name: bool,
    pub verified: bool,
    pub first_usage_ping_at: DateTime<Utc>,
    pub last_usage_ping_at: DateTime<Utc>,
    #[serde(default)]
    pub latest_usage_ping: Option<UsagePing>,
}

/// An installation (a server's `uuid`) that sends usage pings under a hostname. Several may
/// claim one name (anyone can send a ping under any name); one at a time holds it: the first
/// that sent a verified ping, until one verifying the same license (a reinstall) or any
/// verified one after the holder's long silence takes over. The name's `latestUsagePing` is its
/// holder's. A customer's own token sees the other installations' uuid and pings as null.
// Shareable, like `UsagePing`.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(shareable, directive = authenticated::apply())]
pub struct Installation {
    /// The installation's UUID, as its pings send it; null for a customer's token unless it
    /// holds the name.
    pub uuid: Option<String>,
    /// Whether it holds the hostname: its pings are the name's `latestUsagePing`.
    pub holds_name: bool,
    /// Whether it ever sent a verified ping (one whose license digest the license database
    /// knows).
    pub verified: bool,
    /// When its first usage ping was recorded.
    pub first_usage_ping_at: DateTime<Utc>,
    /// When its newest usage ping was recorded.
    pub last_usage_ping_at: DateTime<Utc>,
    /// Its newest usage ping; null for a customer's token unless it holds the name.
    pub latest_usage_ping: Option<UsagePing>,
}

impl Installation {
    /// What `view` sees of an installation (`View::sees_other_installations`): a customer
    /// sees only that another installation exists, never what it sends.
    pub fn seen(data: InstallationData, view: &licenses::View) -> Self {
        let hidden = !view.sees_other_installations() && !data.holds_name;
        Self {
            uuid: data.uuid.filter(|_| !hidden),
            holds_name: data.holds_name,
            verified: data.verified,
            first_usage_ping_at: data.first_usage_ping_at,
            last_usage_ping_at: data.last_usage_ping_at,
            latest_usage_ping: data.latest_usage_ping.filter(|_| !hidden),
        }
    }
}

/// A server whose usage pings carry a license, as the version service sees it.
#[derive(Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ReportingHostData {
    pub hostname: String,
    pub first_usage_ping_at: DateTime<Utc>,
    pub last_usage_ping_at: DateTime<Utc>,
    pub current: bool,
    #[serde(default)]
    pub latest_usage_ping: Option<UsagePing>,
}

/// A server whose usage pings carry this license, whether or not anyone attached it to the
/// license (the case of a customer's server nobody knew the name of). Everything here comes
/// from the pings that carry this license only: a ping that names another license, even one
/// sent under the same server name, never shows here.
// Shareable, like `UsagePing`.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(shareable, directive = authenticated::apply())]
pub struct ReportingHost {
    /// The server's name as it reports it (normalised).
    pub name: String,
    /// Whether the server is attached to this license in the license database; false flags a
    /// server that reports the license though nobody recorded it.
    pub attached: bool,
    /// Whether the server's newest usage ping carries this license, i.e. it runs this license
    /// now rather than having moved on to another one.
    pub current: bool,
    /// When the server first sent a usage ping that carries this license.
    pub first_usage_ping_at: DateTime<Utc>,
    /// When the server last sent a usage ping that carries this license.
    pub last_usage_ping_at: DateTime<Utc>,
    /// The server's newest usage ping that carries this license.
    pub latest_usage_ping: Option<UsagePing>,
}

/// Licensed users against the users the license's servers report.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(directive = authenticated::apply())]
pub struct Utilization {
    /// The users the license is for.
    pub licensed_users: i32,
    /// The highest active-user count that the servers currently running this license report
    /// in their newest pings; null when none reports it.
    pub max_active_users: Option<i64>,
    /// `maxActiveUsers / licensedUsers`; null when unknown or the license has no users.
    pub ratio: Option<f64>,
    /// True when servers report more active users than the license is for.
    pub over_licensed: bool,
    /// How many servers run this license now (their newest ping carries it).
    pub reporting_servers: i32,
}

impl Utilization {
    /// Computes utilization from the newest pings of the servers that run the license now.
    pub fn from_pings<'a>(licensed_users: i32, pings: impl Iterator<Item = &'a UsagePing>) -> Self {
        let mut reporting_servers = 0;
        let mut max_active_users: Option<i64> = None;
        for ping in pings {
            reporting_servers += 1;
            if let Some(active) = ping.active_user_count {
                max_active_users = Some(max_active_users.map_or(active, |m| m.max(active)));
            }
        }
        let ratio = max_active_users
            .filter(|_| licensed_users > 0)
            .map(|active| active as f64 / f64::from(licensed_users));
        Self {
            licensed_users,
            max_active_users,
            ratio,
            over_licensed: max_active_users
                .is_some_and(|active| active > i64::from(licensed_users)),
            reporting_servers,
        }
    }
}

/// The GraphQL error for a usage field the version service could not answer.
pub fn usage_error(error: &UpstreamError) -> async_graphql::Error {
    code_error(error.to_string(), error.code())
}

/// Reads field `name` of an entity the subgraph returned.
pub fn entity_field<T: for<'de> Deserialize<'de>>(
    entity: &Arc<Value>,
    name: &str,
) -> async_graphql::Result<Option<T>> {
    match entity.get(name) {
        None | Some(Value::Null) => Ok(None),
        // Read in place: the entity is shared by every field that reads it.
        Some(value) => T::deserialize(value).map(Some).map_err(|e| {
            usage_error(&UpstreamError::BadResponse(format!(
                "`{name}` has an unexpected shape: {e}"
            )))
        }),
    }
}
