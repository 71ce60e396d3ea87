//! The version service's read-only connection to the license database
//! (`[version_service] license_database_url`): one indexed lookup per digest, bounded in time.

use std::time::Duration;

use database::redact_url;
use licenses::{
    Scope,
    digests::{DigestKind, license_with_digest},
};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::{Error, store::Digest};

/// A few connections: each lookup is one index probe, and ingestion is already bounded by its
/// own permits.
const MAX_CONNECTIONS: u32 = 4;

/// The license database, as the version service reads it.
#[derive(Clone, Debug)]
pub struct LicenseDirectory {
    db: DatabaseConnection,
    timeout: Duration,
}

impl LicenseDirectory {
    /// A lazy pool on `url`: the service starts (and stores pings `Unchecked`) while the license
    /// database is down. Read-only on the connection (SQLite's `query_only`, PostgreSQL's
    /// `default_transaction_read_only`; give it a role that may only read `licenses` too);
    /// each lookup gives up after `timeout`.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self, Error> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .connect_lazy(true)
            .max_connections(MAX_CONNECTIONS)
            .min_connections(0)
            .connect_timeout(timeout)
            .acquire_timeout(timeout);
        database::ping_only_after_idle(&mut options);
        if url.starts_with("sqlite:") {
            // `query_only` rather than a read-only open: the file may be in WAL mode and
            // written by the gateway, which a read-only open handles poorly.
            options.map_sqlx_sqlite_opts(|opts| {
                opts.create_if_missing(false).pragma("query_only", "ON")
            });
        } else {
            let statement_timeout = timeout.as_millis().to_string();
            options.map_sqlx_postgres_opts(move |opts| {
                opts.options([
                    ("default_transaction_read_only", "on"),
                    ("statement_timeout", statement_timeout.as_str()),
                ])
            });
        }
        let db = Database::connect(options)
            .await
            .map_err(|source| Error::Connect {
                url: redact_url(url),
                source,
            })?;
        Ok(Self { db, timeout })
    }

    /// The license whose file has `digest` (`Some(None)`: none has), or `None` when the
    /// license database did not answer in time (logged without the digest).
    pub async fn license_with(&self, digest: Digest<'_>) -> Option<Option<i64>> {
        let (kind, hex) = match digest {
            Digest::Sha256(hex) => (DigestKind::Sha256, hex),
            Digest::Md5(hex) => (DigestKind::Md5, hex),
        };
        let lookup = license_with_digest(&self.db, &Scope::All, kind, hex);
        match tokio::time::timeout(self.timeout, lookup).await {
            Ok(Ok(found)) => Some(found),
            Ok(Err(error)) => {
                tracing::warn!(%error, "the license database could not verify a usage ping");
                None
            }
            Err(_) => {
                tracing::warn!(
                    timeout_ms = self.timeout.as_millis() as u64,
                    "the license database did not answer a usage ping's verification in time"
                );
                None
            }
        }
    }
}
