//! The subgraph's types: the usage fields of the gateway's `Hostname` and `License`.

use async_graphql::{
    ComplexObject, Context, Enum, ErrorExtensions, ID, Json, Name, Object, ScalarType, SimpleObject,
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::usage_ping;
use error_catalogue::Code;
use error_catalogue::graphql::code_error;

use super::entity_paths;
use super::loaders::{LoadError, Loaders, PingsKey};
use crate::store::{CountsRow, LicenseKey, MAX_INSTALLATIONS_PER_HOST, Report, host, installation};

pub struct Hostname {
    pub(crate) name: String,
    pub(crate) host: host::Model,
}

/// A server, known by its normalised hostname, as seen through the usage pings it sends.
#[Object]
impl Hostname {
    /// The hostname: lower case, without a trailing dot.
    async fn name(&self) -> &str {
        &self.name
    }

    /// When the newest usage ping of this host was recorded (of the installation that holds the
    /// name, when one does); null when it never pinged.
    #[graphql(shareable)]
    async fn last_usage_ping_at(&self) -> Option<DateTime<Utc>> {
        Some(self.host.last_ping_at)
    }

    /// The newest usage ping of this host (by the time it was recorded); when an installation
    /// holds the name, the newest ping of that installation.
    #[graphql(shareable)]
    async fn latest_usage_ping(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<UsagePing>> {
        ping_by_id(ctx, self.host.latest_ping_id).await
    }

    /// The installations that send usage pings under this name: the one holding it first,
    /// then the others by their newest ping, at most 20.
    #[graphql(shareable)]
    async fn installations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Installation>> {
        let rows = loaders(ctx)?
            .installations
            .load_one(self.host.id)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        let holder = self.host.holder_installation_id;
        Ok(rows
            .into_iter()
            .take(MAX_INSTALLATIONS_PER_HOST as usize)
            .map(|row| Installation {
                holds_name: Some(row.id) == holder,
                row,
            })
            .collect())
    }

    /// The `last` newest usage pings of this host, newest first (1 to 100, default 10).
    #[graphql(shareable)]
    async fn usage_pings(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "usage_ping::history::DEFAULT as i32",
            desc = "How many pings, newest first: 1 to 100."
        )]
        last: i32,
    ) -> async_graphql::Result<Vec<UsagePing>> {
        let last = usage_ping::history::length(Some(last))
            .map_err(|message| code_error(message, Code::BadUserInput))?;
        let key = PingsKey {
            host_id: self.host.id,
            last,
        };
        let pings = loaders(ctx)?
            .recent_pings
            .load_one(key)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        Ok(pings.into_iter().map(UsagePing).collect())
    }
}

/// An installation uuid, as usage pings carry it: how a support ticket names a server.
pub struct InstallationUuid {
    pub(crate) uuid: String,
}

/// An installation uuid, as usage pings carry it, and the hosts whose pings carried it: how
/// the gateway finds a server by the uuid a support ticket holds. Anyone can send pings under
/// any uuid, so this says which hostnames used it, not which servers own it.
#[Object]
impl InstallationUuid {
    /// The uuid, as asked for.
    async fn uuid(&self) -> &str {
        &self.uuid
    }

    /// The hosts whose usage pings carried this uuid, by hostname: at most 20 (the first in
    /// name order); empty when no ping carried it.
    async fn hosts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Hostname>> {
        let hosts = loaders(ctx)?
            .hosts_of_uuid
            .load_one(self.uuid.clone())
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        Ok(hosts
            .into_iter()
            .map(|host| Hostname {
                name: host.hostname.clone(),
                host,
            })
            .collect())
    }
}

/// An installation (a server's `uuid`) that sends usage pings under a hostname. Several may
/// claim one name; one at a time holds it: the first that sent a verified ping, until one
/// verifying the same license (a reinstall) or any verified one after the holder's long
/// silence takes over. The name's `latestUsagePing` is its holder's.
// Shareable: the license subgraph (the gateway) serves the same type, filled from here.
pub struct Installation {
    row: installation::Model,
    holds_name: bool,
}

/// An installation (a server's `uuid`) that sends usage pings under a hostname. Several may
/// claim one name; one at a time holds it: the first that sent a verified ping, until one
/// verifying the same license (a reinstall) or any verified one after the holder's long
/// silence takes over. The name's `latestUsagePing` is its holder's.
#[Object(shareable)]
impl Installation {
    /// The installation's UUID, as its pings send it.
    async fn uuid(&self) -> Option<&str> {
        Some(&self.row.uuid)
    }
    /// Whether it holds the hostname: its pings are the name's `latestUsagePing`.
    async fn holds_name(&self) -> bool {
        self.holds_name
    }
    /// Whether it ever sent a verified ping (one whose license digest the license database
    /// knows).
    async fn verified(&self) -> bool {
        self.row.latest_verified_ping_id.is_some()
    }
    /// When its first usage ping was recorded.
    async fn first_usage_ping_at(&self) -> DateTime<Utc> {
        self.row.first_ping_at
    }
    /// When its newest usage ping was recorded.
    async fn last_usage_ping_at(&self) -> DateTime<Utc> {
        self.row.last_ping_at
    }
    /// Its newest usage ping.
    async fn latest_usage_ping(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<UsagePing>> {
        ping_by_id(ctx, Some(self.row.latest_ping_id)).await
    }
}

/// A license, known by its id; the license database owns its other fields.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct License {
    /// The license's id in the license database.
    pub id: ID,
    /// MD5 of the license file, provided by the license subgraph (non-null there, so
    /// non-null here: an `@external` field must have the owner's type to compose).
    #[graphql(external)]
    pub license_md5: String,
    /// SHA-256 of the license file, provided by the license subgraph.
    #[graphql(external)]
    pub license_sha256: String,
}

#[ComplexObject]
impl License {
    /// The hosts whose usage pings carry this license, by hostname, each described by those
    /// pings only. A ping carries a license only by its digest (sha256, else md5) and the id it
    /// names, if any; a ping naming the license by id alone never shows here.
    #[graphql(requires = "licenseMd5 licenseSha256", shareable)]
    async fn reporting_hosts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ReportingHost>> {
        let key = LicenseKey::new(
            self.id.parse().ok(),
            Some(&self.license_md5),
            Some(&self.license_sha256),
        );
        let hosts = loaders(ctx)?
            .reporting_hosts
            .load_one(key)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        Ok(hosts.into_iter().map(ReportingHost).collect())
    }
}

/// A host whose usage pings carry the license (matched by the license file's digest).
pub struct ReportingHost(Report);

/// A host whose usage pings carry the license (matched by the license file's digest). Every
/// field describes the pings that carry this license only: a ping naming another license (or
/// sent by anyone else under this host's name) never shows here.
// Shareable: the license subgraph (the gateway) serves the same type, filled from here.
#[Object(shareable)]
impl ReportingHost {
    /// The host's normalised hostname.
    async fn hostname(&self) -> &str {
        &self.0.hostname
    }

    /// When the first usage ping of this host that carries the license was recorded.
    async fn first_usage_ping_at(&self) -> DateTime<Utc> {
        self.0.first_seen_at
    }

    /// When the newest usage ping of this host that carries the license was recorded.
    async fn last_usage_ping_at(&self) -> DateTime<Utc> {
        self.0.last_seen_at
    }

    /// Whether the host's newest ping carries this license: it runs the license now, rather
    /// than having moved on to another one.
    async fn current(&self) -> bool {
        self.0.current
    }

    /// The newest usage ping of this host that carries the license.
    async fn latest_usage_ping(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<UsagePing>> {
        ping_by_id(ctx, Some(self.0.latest_ping_id)).await
    }
}

/// One usage ping: what a self-managed server reported about itself at one time.
pub struct UsagePing(usage_ping::Summary);

/// Whether a usage ping proves the license it carries: its license file's digest was looked up
/// in the license database when it arrived. Only a `VERIFIED` ping counts toward a license.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "PingVerification")]
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
    /// Not checked yet (no license database was configured, or it did not answer); checked
    /// again in the background.
    Unchecked,
}

impl From<usage_ping::Verification> for PingVerification {
    fn from(stored: usage_ping::Verification) -> Self {
        use usage_ping::Verification as V;
        match stored {
            V::Verified => Self::Verified,
            V::DigestMismatch => Self::DigestMismatch,
            V::IdOnly => Self::IdOnly,
            V::NoLicense => Self::NoLicense,
            V::Unchecked => Self::Unchecked,
        }
    }
}

/// One usage ping: what a self-managed server reported about itself at one time.
// Shareable: the license subgraph (the gateway) serves the same type, filled from here.
#[Object(shareable)]
impl UsagePing {
    /// When the server recorded the ping.
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
    /// When the version service received it.
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.received_at
    }
    /// The server's instance UUID.
    async fn uuid(&self) -> &str {
        &self.0.uuid
    }
    /// Whether the ping proves the license it carries (its digest checked against the license
    /// database); an unverified ping is shown, never counted toward a license.
    async fn verification(&self) -> PingVerification {
        self.0.verification.into()
    }
    /// The server's normalised hostname.
    async fn hostname(&self) -> &str {
        &self.0.hostname
    }
    /// The version it runs, e.g. `17.3.2-ee`.
    async fn version(&self) -> Option<&str> {
        self.0.version.as_deref()
    }
    /// Its edition: CE, EE Free, EE, EES, EEP or EEU.
    async fn edition(&self) -> Option<&str> {
        self.0.edition.as_deref()
    }
    /// How it is installed, e.g. `omnibus-gitlab`.
    async fn installation_type(&self) -> Option<&str> {
        self.0.installation_type.as_deref()
    }
    /// Active users when the ping was recorded.
    async fn active_user_count(&self) -> Option<i64> {
        self.0.active_user_count
    }
    /// Highest number of active users seen by the server.
    async fn historical_max_users(&self) -> Option<i64> {
        self.0.historical_max_users
    }
    /// Id of the license the server runs, as it says; null on the free edition. Proves
    /// nothing: see `verifiedLicenseId`.
    async fn license_id(&self) -> Option<ID> {
        self.0.license_id.map(ID::from)
    }
    /// Id of the license whose digest the ping carries, when it is `VERIFIED`.
    async fn verified_license_id(&self) -> Option<ID> {
        self.0.verified_license_id.map(ID::from)
    }
    /// MD5 of the license file the server runs.
    async fn license_md5(&self) -> Option<&str> {
        self.0.license_md5.as_deref()
    }
    /// SHA-256 of the license file the server runs.
    async fn license_sha256(&self) -> Option<&str> {
        self.0.license_sha256.as_deref()
    }
    /// Users the license allows.
    async fn license_user_count(&self) -> Option<i64> {
        self.0.license_user_count
    }
    /// The license's plan: starter, premium or ultimate.
    async fn license_plan(&self) -> Option<&str> {
        self.0.license_plan.as_deref()
    }
    /// Whether the license is a trial.
    async fn license_trial(&self) -> Option<bool> {
        self.0.license_trial
    }
    /// First day of the license.
    async fn license_starts_at(&self) -> Option<NaiveDate> {
        self.0.license_starts_at
    }
    /// Day the license expires.
    async fn license_expires_at(&self) -> Option<NaiveDate> {
        self.0.license_expires_at
    }
    /// The license's subscription id in the billing system.
    async fn license_subscription_id(&self) -> Option<&str> {
        self.0.license_subscription_id.as_deref()
    }
    /// The usage counters the server reported (projects, issues, ...), as sent. Read from the
    /// stored payload only when selected; one answer carries a bounded number of bytes of
    /// counters (`max_counts_bytes`), and counters past that bound are null with an
    /// `ANSWER_TOO_LARGE` error.
    async fn counts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Json<serde_json::Value>>> {
        let loaders = loaders(ctx)?;
        match loaders
            .counts
            .load_one(self.0.id)
            .await
            .map_err(load_error)?
        {
            Some(CountsRow::Read(counts)) => Ok(counts.map(Json)),
            None => Ok(None),
            Some(CountsRow::OverBudget) => Err(code_error(
                format!(
                    "counts left out: this answer already carries the most usage counters one \
                     answer may ({} bytes); ask for fewer pings",
                    loaders.counts_limit
                ),
                Code::AnswerTooLarge,
            )
            // Names the ping, so that the error finds its entity (`entity_paths`).
            .extend_with(|_, extensions| {
                extensions.set(entity_paths::PING_EXTENSION, self.identity())
            })),
        }
    }
}

impl UsagePing {
    /// The ping's identity (`entity_paths::PING_IDENTITY`), valued as its fields answer.
    fn identity(&self) -> async_graphql::Value {
        let mut fields = async_graphql::indexmap::IndexMap::new();
        fields.insert(Name::new("uuid"), self.0.uuid.clone().into());
        fields.insert(Name::new("hostname"), self.0.hostname.clone().into());
        fields.insert(
            Name::new("recordedAt"),
            ScalarType::to_value(&self.0.recorded_at),
        );
        async_graphql::Value::Object(fields)
    }
}

async fn ping_by_id(
    ctx: &Context<'_>,
    ping_id: Option<i64>,
) -> async_graphql::Result<Option<UsagePing>> {
    let Some(ping_id) = ping_id else {
        return Ok(None);
    };
    Ok(loaders(ctx)?
        .pings
        .load_one(ping_id)
        .await
        .map_err(load_error)?
        .map(UsagePing))
}

pub(crate) fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Loaders> {
    ctx.data::<Loaders>()
}

/// A database failure, shown to clients without its SQL but with a stable code.
pub(crate) fn load_error(err: LoadError) -> async_graphql::Error {
    tracing::error!(error = %err, "loading usage data failed");
    code_error(
        "the version database could not answer",
        Code::InternalServerError,
    )
}
