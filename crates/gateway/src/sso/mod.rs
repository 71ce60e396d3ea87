//! Browser sign-in: sessions (a cookie naming server-side state), OpenID Connect sign-in with
//! the company's provider, one-time sign-in links (the demo's), and the check that keeps other
//! sites from using a session (CSRF). A session yields exactly the `Viewer` a bearer token
//! does, so everything after `authn` is unchanged.
//!
//! - `config`: `[gateway.sessions]` and `[gateway.sso]`.
//! - `provider` (over `http`): discovery, authorization, code exchange, ID-token validation,
//!   RP-initiated logout, through the `openidconnect` crate.
//! - `roles`: the provider's groups to licensedot roles.
//! - `pending`: a sign-in on its way to the provider, sealed in the browser's login cookie.
//! - `sessions` (over `store`): what sessions and links hold and how long.
//! - `seal`: authenticated encryption of the login cookie and of a session's ID token.
//! - `cookie`, `csrf`: the cookies, and the same-site check of cookie-authenticated requests.
//! - `throttle`: the per-address limit of every `/auth/...` route.
//! - `handlers`, `page`: the `/auth/...` routes and the refusal page; `audit`: sign-ins and
//!   sign-outs in the audit trail.

mod audit;
pub mod config;
mod cookie;
mod csrf;
mod handlers;
mod http;
mod page;
mod pending;
pub mod provider;
mod roles;
mod seal;
mod sessions;
mod store;
mod throttle;

use std::sync::Arc;

use auth::{AuthError, Viewer};
use axum::http::HeaderMap;
use sea_orm::DatabaseConnection;

pub use config::{SessionsConfig, SessionsConfigError, SsoConfig, SsoConfigError, StoreKind};
pub(crate) use handlers::routes;

use cookie::Cookies;
use provider::Provider;
use seal::{Purpose, SealingKey};
use sessions::{SessionData, Sessions};
use throttle::AuthLimits;

use crate::client_address::TrustedProxies;

/// Why sign-in could not start.
#[derive(Debug, thiserror::Error)]
pub enum SsoStartError {
    #[error(transparent)]
    Sessions(#[from] config::SessionsConfigError),
    #[error(transparent)]
    Sso(#[from] config::SsoConfigError),
    /// The session store or the provider's discovery could not be reached.
    #[error("sign-in is not usable: {0}")]
    Unavailable(String),
}

/// Sign-in state shared by every request. Cheap to clone.
#[derive(Clone)]
pub struct Sso {
    inner: Arc<Inner>,
}

struct Inner {
    /// The license database, for the audit trail's sign-ins and sign-outs.
    db: DatabaseConnection,
    sessions: Sessions,
    provider: Option<Provider>,
    /// Seals the login cookie (used only when a provider is configured).
    login_key: SealingKey,
    cookies: Cookies,
    public_url: Option<String>,
    limits: AuthLimits,
}

impl Sso {
    /// Opens the session store and, when `[gateway.sso]` names a provider, reads its discovery
    /// document (failing fast when it cannot be reached).
    pub async fn start(
        config: &crate::Config,
        db: &DatabaseConnection,
    ) -> Result<Self, SsoStartError> {
        let public_url = config
            .public_url
            .as_deref()
            .map(|url| url.trim_end_matches('/').to_owned());
        config.sessions.validate()?;
        config.sso.validate(public_url.as_deref())?;
        let store = store::Store::open(&config.sessions, db)
            .await
            .map_err(SsoStartError::Unavailable)?;
        let provider = match (&config.sso.issuer_url, &public_url) {
            (Some(_), Some(public_url)) => Some(
                Provider::discover(&config.sso, public_url)
                    .await
                    .map_err(SsoStartError::Unavailable)?,
            ),
            _ => None,
        };
        let proxies = TrustedProxies::parse(&config.trusted_proxies).map_err(|entry| {
            SsoStartError::Unavailable(format!("trusted_proxies: `{entry}` is not an address"))
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                db: db.clone(),
                sessions: Sessions::new(store, config.sessions.clone()),
                provider,
                login_key: SealingKey::derive(
                    config.sso.login_cookie_secret(),
                    Purpose::LoginCookie,
                ),
                cookies: Cookies::for_public_url(public_url.as_deref()),
                public_url,
                limits: AuthLimits::start(&config.sessions, proxies)
                    .await
                    .map_err(SsoStartError::Unavailable)?,
            }),
        })
    }

    /// The viewer of a request without an `Authorization` header: `Ok(None)` without a session
    /// cookie; the session's viewer when the cookie names a live session and the request comes
    /// from this site; else why not.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Viewer>, AuthError> {
        let Some(secret) = cookie::read(headers, self.inner.cookies.session()) else {
            return Ok(None);
        };
        if !csrf::from_this_site(headers, self.inner.public_url.as_deref()) {
            return Err(AuthError::CrossSite);
        }
        let data = self.inner.sessions.get(&secret).await.map_err(|error| {
            tracing::error!(%error, "session lookup failed");
            AuthError::SessionStoreUnavailable
        })?;
        data.as_ref()
            .and_then(SessionData::viewer)
            .map(Some)
            .ok_or(AuthError::SessionEnded)
    }

    /// A one-time sign-in link (a path on this gateway) that opens a session as `viewer`; it
    /// expires after `[gateway.sessions] login_timeout_secs`.
    pub async fn sign_in_link(&self, viewer: &Viewer) -> Result<String, String> {
        let secret = self
            .inner
            .sessions
            .create_link(viewer)
            .await
            .map_err(|e| e.to_string())?;
        Ok(format!("/auth/link/{secret}"))
    }

    /// Whether sign-in with a provider is configured.
    pub fn provider_configured(&self) -> bool {
        self.inner.provider.is_some()
    }

    /// The provider, for tests that validate tokens it signed.
    pub fn provider(&self) -> Option<&Provider> {
        self.inner.provider.as_ref()
    }

    /// The per-address limit of the `/auth/...` routes.
    fn limits(&self) -> &AuthLimits {
        &self.inner.limits
    }
}
