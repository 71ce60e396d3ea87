//! Sessions and sign-in links over the store: what each record holds, how long it lives, and
//! that a link is taken at most once. (A sign-in on its way to the provider is kept in the
//! browser, not here: see `pending`.)

use auth::{Role, Viewer};
use serde::{Deserialize, Serialize};

use super::config::SessionsConfig;
use super::seal::{Purpose, SealingKey};
use super::store::{Expiry, Kind, Store, StoreError, key_of, new_secret, now};

/// What a session remembers: the viewer it yields, and the ID token for the provider's
/// sign-out (`id_token_hint`), sealed with a key derived from the session's secret: the store
/// never holds an ID token anyone could read or send as a bearer token, and only the browser
/// whose cookie holds the secret can have it opened (at its sign-out).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SessionData {
    pub subject: String,
    pub email: Option<String>,
    pub roles: Vec<String>,
    pub customer_ids: Vec<i64>,
    #[serde(default)]
    pub sealed_id_token: Option<String>,
}

/// A session that was ended: what it held, and its ID token opened for the provider's sign-out.
#[derive(Clone, Debug)]
pub(crate) struct EndedSession {
    pub data: SessionData,
    pub id_token: Option<String>,
}

impl SessionData {
    /// What a session of `viewer` holds (its ID token is added by [`Sessions::create`]).
    pub(crate) fn new(viewer: &Viewer) -> Self {
        Self {
            subject: viewer.subject.clone(),
            email: viewer.email.clone(),
            roles: viewer.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            customer_ids: viewer.customer_ids.clone(),
            sealed_id_token: None,
        }
    }

    /// The same viewer the session was created for; `None` if it holds no role any more.
    pub(crate) fn viewer(&self) -> Option<Viewer> {
        let roles: Vec<Role> = self.roles.iter().filter_map(|r| Role::parse(r)).collect();
        Some(Viewer {
            subject: self.subject.clone(),
            email: self.email.clone(),
            role: Role::most_permissive(&roles)?,
            roles,
            customer_ids: self.customer_ids.clone(),
        })
    }
}

/// The session operations, with the configured lifetimes.
#[derive(Clone)]
pub(crate) struct Sessions {
    store: Store,
    config: SessionsConfig,
}

fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX / 4)
}

fn encode<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError(e.to_string()))
}

fn decode<T: for<'de> Deserialize<'de>>(text: Option<String>) -> Option<T> {
    // A record that no longer parses (written by another release) is as good as absent.
    text.and_then(|t| serde_json::from_str(&t).ok())
}

impl Sessions {
    pub(crate) fn new(store: Store, config: SessionsConfig) -> Self {
        Self { store, config }
    }

    /// The configuration (cookie lifetimes follow it).
    pub(crate) fn config(&self) -> &SessionsConfig {
        &self.config
    }

    /// A new session for `data`, keeping `id_token` sealed; returns the secret for the cookie.
    pub(crate) async fn create(
        &self,
        data: &SessionData,
        id_token: Option<&str>,
    ) -> Result<String, StoreError> {
        let (secret, key) = new_secret();
        let data = SessionData {
            sealed_id_token: id_token.map(|token| id_token_key(&secret).seal(token.as_bytes())),
            ..data.clone()
        };
        let now = now();
        let expiry = Expiry::new(
            now + secs(self.config.absolute_timeout_secs),
            now + secs(self.config.idle_timeout_secs),
        );
        self.store
            .put(Kind::Session, &key, &encode(&data)?, expiry)
            .await?;
        Ok(secret)
    }

    /// The live session the cookie's secret names (its idle end pushed on).
    pub(crate) async fn get(&self, secret: &str) -> Result<Option<SessionData>, StoreError> {
        let data = self
            .store
            .use_session(&key_of(secret), now(), secs(self.config.idle_timeout_secs))
            .await?;
        Ok(decode(data))
    }

    /// Ends the session; returns what it held, its ID token opened (for the provider's
    /// sign-out).
    pub(crate) async fn end(&self, secret: &str) -> Result<Option<EndedSession>, StoreError> {
        let data = self
            .store
            .take(Kind::Session, &key_of(secret), now())
            .await?;
        Ok(decode::<SessionData>(data).map(|data| {
            let id_token = data
                .sealed_id_token
                .as_deref()
                .and_then(|sealed| id_token_key(secret).open(sealed))
                .and_then(|bytes| String::from_utf8(bytes).ok());
            EndedSession { data, id_token }
        }))
    }

    fn one_time_expiry(&self) -> Expiry {
        Expiry::once(now() + secs(self.config.login_timeout_secs))
    }

    /// A one-time sign-in link's secret, for a session as `viewer`.
    pub(crate) async fn create_link(&self, viewer: &Viewer) -> Result<String, StoreError> {
        let (secret, key) = new_secret();
        let data = encode(&SessionData::new(viewer))?;
        self.store
            .put(Kind::Link, &key, &data, self.one_time_expiry())
            .await?;
        Ok(secret)
    }

    /// Redeems a sign-in link (once): what its session will hold.
    pub(crate) async fn redeem_link(
        &self,
        secret: &str,
    ) -> Result<Option<SessionData>, StoreError> {
        let data = self.store.take(Kind::Link, &key_of(secret), now()).await?;
        Ok(decode(data))
    }
}

/// The key a session's ID token is sealed with: derived from the session's secret, which the
/// store never holds.
fn id_token_key(secret: &str) -> SealingKey {
    SealingKey::derive(secret.as_bytes(), Purpose::IdToken)
}
