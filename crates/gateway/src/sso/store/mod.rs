//! Where sign-in state is kept, server-side: sessions and sign-in links, each keyed by the SHA-256 of a random secret that only the browser (or the link) holds. The
//! license database by default (`database.rs`), Redis when configured (`redis.rs`) so that
//! replicas share sessions.

mod database;
mod redis;

use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};

use super::config::{SessionsConfig, StoreKind};

/// What a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A signed-in browser.
    Session,
    /// A sign-in link (one-time).
    Link,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Session => "session",
            Kind::Link => "link",
        }
    }
}

/// Lifetimes of a record, in Unix seconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Expiry {
    /// The absolute end.
    at: i64,
    /// The end unless used again before it; never later than `at` (see [`Expiry::new`]).
    idle_at: i64,
}

impl Expiry {
    /// Ends at `at` at the latest, at `idle_at` unless used again before it.
    pub(crate) fn new(at: i64, idle_at: i64) -> Self {
        Self {
            at,
            idle_at: idle_at.min(at),
        }
    }

    /// Ends at `at`, used or not (one-time records).
    pub(crate) fn once(at: i64) -> Self {
        Self::new(at, at)
    }
}

/// The store did not answer; the message is for the log (it names no secret).
#[derive(Debug, thiserror::Error)]
#[error("session store: {0}")]
pub(crate) struct StoreError(pub String);

/// A new random secret (256 bits, hex) and the key it is stored under.
pub(crate) fn new_secret() -> (String, String) {
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let key = key_of(&secret);
    (secret, key)
}

/// The current time in Unix seconds, the unit of every expiry.
pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A session is written back (its idle end pushed) at most this often (seconds): reading a
/// session on every request must not mean a write on every request.
const TOUCH_EVERY_SECS: i64 = 60;

/// Both lifetimes, for every store: a session used at `now` lives `idle_secs` more, never past
/// its absolute end `expires_at`. The new idle end, when it moved far enough from the stored
/// `idle_expires_at` to be written back.
fn idle_end_to_write(
    now: i64,
    idle_secs: i64,
    expires_at: i64,
    idle_expires_at: i64,
) -> Option<i64> {
    let pushed = (now + idle_secs).min(expires_at);
    (pushed - idle_expires_at >= TOUCH_EVERY_SECS).then_some(pushed)
}

/// The key a secret is stored under: its SHA-256, so that the store never holds the secret.
pub(crate) fn key_of(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The configured store.
#[derive(Clone)]
pub(crate) enum Store {
    Database(database::DatabaseStore),
    Redis(redis::RedisStore),
}

impl Store {
    /// The store `config` names; Redis is connected (and checked) now.
    pub(crate) async fn open(
        config: &SessionsConfig,
        db: &DatabaseConnection,
    ) -> Result<Self, String> {
        match config.store {
            StoreKind::Database => Ok(Store::Database(database::DatabaseStore::new(db.clone()))),
            StoreKind::Redis => {
                let url = config.redis_url.as_deref().unwrap_or_default();
                Ok(Store::Redis(redis::RedisStore::connect(url).await?))
            }
        }
    }

    /// Stores a record under `key`.
    pub(crate) async fn put(
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
    pub(crate) async fn take(
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
    /// end). The push is a conditional write that never recreates a session [`Store::take`]
    /// removed meanwhile: a request racing a sign-out cannot bring the session back.
    pub(crate) async fn use_session(
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
}

#[cfg(test)]
mod tests {
    use super::{Expiry, idle_end_to_write};

    #[test]
    fn an_idle_end_never_outlives_the_absolute_end() {
        let expiry = Expiry::new(1_000, 5_000);
        assert_eq!((expiry.at, expiry.idle_at), (1_000, 1_000));
        let expiry = Expiry::new(1_000, 400);
        assert_eq!((expiry.at, expiry.idle_at), (1_000, 400));
        let once = Expiry::once(700);
        assert_eq!((once.at, once.idle_at), (700, 700));
    }

    #[test]
    fn a_used_session_lives_its_idle_time_more_but_never_past_its_absolute_end() {
        // Stored: absolute end 10,000, idle end 1,000; idle timeout 600.
        assert_eq!(idle_end_to_write(900, 600, 10_000, 1_000), Some(1_500));
        // Near the absolute end the idle end stops there.
        assert_eq!(idle_end_to_write(9_700, 600, 10_000, 9_000), Some(10_000));
        // Moved by less than a minute: not written back.
        assert_eq!(idle_end_to_write(430, 600, 10_000, 1_000), None);
        assert_eq!(idle_end_to_write(459, 600, 10_000, 1_000), None);
        assert_eq!(idle_end_to_write(460, 600, 10_000, 1_000), Some(1_060));
    }
}
