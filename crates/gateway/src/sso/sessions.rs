//! Sessions, pending logins and sign-in links over the store: what each record holds, how
//! long it lives, and that the one-time ones are taken at most once.

use auth::{Role, Viewer};
use serde::{Deserialize, Serialize};

use super::config::SessionsConfig;
use super::store::{Expiry, Kind, Store, StoreError, key_of, new_secret, now};

/// What a session remembers: the viewer it yields, and the ID token for the provider's
/// sign-out (`id_token_hint`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SessionData {
    pub subject: String,
    pub email: Option<String>,
    pub roles: Vec<String>,
    pub customer_ids: Vec<i64>,
    pub id_token: Option<String>,
}

impl SessionData {
    pub(crate) fn new(viewer: &Viewer, id_token: Option<String>) -> Self {
        Self {
            subject: viewer.subject.clone(),
            email: viewer.email.clone(),
            roles: viewer.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            customer_ids: viewer.customer_ids.clone(),
            id_token,
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

/// A sign-in on its way to the provider: what the callback needs besides the code.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PendingLogin {
    pub nonce: String,
    pub pkce_verifier: String,
    /// Where the browser goes once signed in (a path on this site).
    pub return_to: String,
}

/// Why a sign-in cannot start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StartLoginError {
    #[error("too many sign-ins are in progress")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
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

    /// A new session for `data`; returns the secret for the cookie.
    pub(crate) async fn create(&self, data: &SessionData) -> Result<String, StoreError> {
        let (secret, key) = new_secret();
        let now = now();
        let expiry = Expiry::new(
            now + secs(self.config.absolute_timeout_secs),
            now + secs(self.config.idle_timeout_secs),
        );
        self.store
            .put(Kind::Session, &key, &encode(data)?, expiry)
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

    /// Ends the session; returns what it held (for the provider's sign-out).
    pub(crate) async fn end(&self, secret: &str) -> Result<Option<SessionData>, StoreError> {
        let data = self
            .store
            .take(Kind::Session, &key_of(secret), now())
            .await?;
        Ok(decode(data))
    }

    fn one_time_expiry(&self) -> Expiry {
        Expiry::once(now() + secs(self.config.login_timeout_secs))
    }

    /// Remembers a sign-in under its `state`, unless too many are in progress.
    pub(crate) async fn start_login(
        &self,
        state: &str,
        login: &PendingLogin,
    ) -> Result<(), StartLoginError> {
        let limit = self.config.max_pending_logins;
        if self.store.pending_logins(now(), limit).await? >= limit {
            return Err(StartLoginError::Busy);
        }
        let expiry = self.one_time_expiry();
        self.store
            .put(Kind::Login, &key_of(state), &encode(login)?, expiry)
            .await?;
        Ok(())
    }

    /// Takes the sign-in started with `state` (once: a second callback finds nothing).
    pub(crate) async fn finish_login(
        &self,
        state: &str,
    ) -> Result<Option<PendingLogin>, StoreError> {
        let data = self.store.take(Kind::Login, &key_of(state), now()).await?;
        Ok(decode(data))
    }

    /// A one-time sign-in link's secret, for a session as `viewer`.
    pub(crate) async fn create_link(&self, viewer: &Viewer) -> Result<String, StoreError> {
        let (secret, key) = new_secret();
        let data = encode(&SessionData::new(viewer, None))?;
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
