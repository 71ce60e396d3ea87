//! Where sign-in state is kept, server-side: sessions, pending logins and sign-in links, each
//! keyed by the SHA-256 of a random secret that only the browser (or the link) holds. The
//! license database by default (`database.rs`), Redis when configured (`redis.rs`) so that
//! replicas share sessions.

mod database;
mod redis;

use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};

use super::config::{SessionsConfig, StoreKind};

/// What a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A signed-in browser.
    Session,
    /// A sign-in on its way to the provider and back (one-time).
    Login,
    /// A sign-in link (one-time).
    Link,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Session => "session",
            Kind::Login => "login",
            Kind::Link => "link",
        }
    }
}

/// Lifetimes of a record, in Unix seconds.
#[derive(Clone, Copy, Debug)]
pub struct Expiry {
    /// The absolute end.
    pub at: i64,
    /// The end unless used again before it (never later than `at`).
    pub idle_at: i64,
}

/// The store did not answer; the message is for the log (it names no secret).
#[derive(Debug, thiserror::Error)]
#[error("session store: {0}")]
pub struct StoreError(pub String);

/// A new random secret (256 bits, hex) and the key it is stored under.
pub fn new_secret() -> (String, String) {
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let key = key_of(&secret);
    (secret, key)
}

/// The current time in Unix seconds, the unit of every expiry.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The key a secret is stored under: its SHA-256, so that the store never holds the secret.
pub fn key_of(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The configured store.
#[derive(Clone)]
pub enum Store {
    Database(database::DatabaseStore),
    Redis(redis::RedisStore),
}

impl Store {
    /// The store `config` names; Redis is connected (and checked) now.
    pub async fn open(config: &SessionsConfig, db: &DatabaseConnection) -> Result<Self, String> {
        match config.store {
            StoreKind::Database => Ok(Store::Database(database::DatabaseStore::new(db.clone()))),
            StoreKind::Redis => {
                let url = config.redis_url.as_deref().unwrap_or_default();
                Ok(Store::Redis(redis::RedisStore::connect(url).await?))
            }
        }
    }

    /// Stores a record under `key`.
    pub async fn put(
        &self,
        kind: Kind,
        key: &str,
        data: &str,
        expiry: Expiry,
    ) -> Result<(), StoreError> {
        match self {
            Store::Database(store) => store.put(kind, key, data, expiry).await,
            Store::Redis(store) => store.put(kind, key, data, expiry).await,
        }
    }

    /// Removes the record and returns it if it had not expired: atomic, so a record is taken
    /// at most once however many requests race for it.
    pub async fn take(
        &self,
        kind: Kind,
        key: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        match self {
            Store::Database(store) => store.take(kind, key, now).await,
            Store::Redis(store) => store.take(kind, key, now).await,
        }
    }

    /// A live session's data; pushes its idle end to `now + idle_secs` (never past its absolute
    /// end).
    pub async fn use_session(
        &self,
        key: &str,
        now: i64,
        idle_secs: i64,
    ) -> Result<Option<String>, StoreError> {
        match self {
            Store::Database(store) => store.use_session(key, now, idle_secs).await,
            Store::Redis(store) => store.use_session(key, now, idle_secs).await,
        }
    }

    /// Sign-ins in progress (unexpired pending logins), counted up to `limit`.
    pub async fn pending_logins(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        match self {
            Store::Database(store) => store.pending_logins(now, limit).await,
            Store::Redis(store) => store.pending_logins(now, limit).await,
        }
    }
}
