//! Sign-in state in Redis, shared by every gateway replica. Each record is one key,
//! `licensedot:<kind>:<sha256 of the secret>`, holding its data and lifetimes as JSON and
//! expiring with its idle end.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};

use super::{Expiry, Kind, StoreError, idle_end_to_write};

/// How long one connection attempt or one command may wait for Redis: a request that needs
/// its session fails with 503 rather than hang.
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether a write may create the key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    Create,
    Update,
}

#[derive(Clone)]
pub(crate) struct RedisStore {
    connection: ConnectionManager,
}

#[derive(Serialize, Deserialize)]
struct Record {
    data: String,
    expires_at: i64,
    idle_expires_at: i64,
}

fn failed(error: redis::RedisError) -> StoreError {
    StoreError(error.to_string())
}

fn redis_key(kind: Kind, key: &str) -> String {
    format!("licensedot:{}:{key}", kind.as_str())
}

impl RedisStore {
    pub(crate) async fn connect(url: &str) -> Result<Self, String> {
        let client = redis::Client::open(url)
            .map_err(|e| format!("[gateway.sessions] redis_url is not usable: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT));
        // Checked at start, as the license database is; the manager reconnects by itself later.
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| format!("Redis (sessions) is not reachable: {e}"))?;
        Ok(Self { connection })
    }

    /// Writes `record` under `key`, expiring with its idle end: always (`Write::Create`), or
    /// only if the key still exists (`Write::Update`, `SET ... XX`), so that an update never
    /// recreates a record that was taken meanwhile. Returns whether it wrote.
    async fn write(
        &self,
        kind: Kind,
        key: &str,
        record: &Record,
        now: i64,
        write: Write,
    ) -> Result<bool, StoreError> {
        let value = serde_json::to_string(record).map_err(|e| StoreError(e.to_string()))?;
        let ttl = u64::try_from(record.idle_expires_at.min(record.expires_at) - now).unwrap_or(0);
        let mut set = redis::cmd("SET");
        set.arg(redis_key(kind, key))
            .arg(value)
            .arg("EX")
            .arg(ttl.max(1));
        if write == Write::Update {
            set.arg("XX");
        }
        let mut connection = self.connection.clone();
        // "OK", or nil when `XX` found no key (the record was taken: nothing to update).
        let answer: Option<String> = set.query_async(&mut connection).await.map_err(failed)?;
        Ok(answer.is_some())
    }

    pub(crate) async fn put(
        &self,
        kind: Kind,
        key: &str,
        data: &str,
        expiry: Expiry,
    ) -> Result<(), StoreError> {
        let now = super::now();
        let record = Record {
            data: data.to_owned(),
            expires_at: expiry.at,
            idle_expires_at: expiry.idle_at,
        };
        self.write(kind, key, &record, now, Write::Create).await?;
        Ok(())
    }

    pub(crate) async fn take(
        &self,
        kind: Kind,
        key: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let mut connection = self.connection.clone();
        // GETDEL: the record goes to one caller only.
        let value: Option<String> = redis::cmd("GETDEL")
            .arg(redis_key(kind, key))
            .query_async(&mut connection)
            .await
            .map_err(failed)?;
        Ok(value
            .and_then(|v| serde_json::from_str::<Record>(&v).ok())
            .filter(|r| r.expires_at > now && r.idle_expires_at > now)
            .map(|r| r.data))
    }

    pub(crate) async fn use_session(
        &self,
        key: &str,
        now: i64,
        idle_secs: i64,
    ) -> Result<Option<String>, StoreError> {
        let mut connection = self.connection.clone();
        let value: Option<String> = connection
            .get(redis_key(Kind::Session, key))
            .await
            .map_err(failed)?;
        let Some(mut record) = value
            .and_then(|v| serde_json::from_str::<Record>(&v).ok())
            .filter(|r| r.expires_at > now && r.idle_expires_at > now)
        else {
            return Ok(None);
        };
        if let Some(pushed) =
            idle_end_to_write(now, idle_secs, record.expires_at, record.idle_expires_at)
        {
            record.idle_expires_at = pushed;
            let still_there = self
                .write(Kind::Session, key, &record, now, Write::Update)
                .await?;
            if !still_there {
                // Signed out while this request looked at it.
                return Ok(None);
            }
        }
        Ok(Some(record.data))
    }
}
