//! The per-address limit of the `/auth/...` routes: open to anyone, so one client address may
//! make at most `[gateway.sessions] auth_per_address_per_minute` requests a minute (GCRA, in
//! bursts of as many), counted in Redis when the sessions are (every replica shares the
//! count), else in this process. The client address is `client_address`'s.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use error_catalogue::{Code, Media, Refusal, accepts_html, negotiate};
use rate_limit::{Limiter, Rate, address_key, retry_after_secs};

use super::Sso;
use super::config::{SessionsConfig, StoreKind};
use super::page::refusal;
use crate::client_address::TrustedProxies;

/// Where the counts live in Redis (the limiter adds its name and rate).
const REDIS_PREFIX: &str = "licensedot:gateway:ratelimit:";

/// The limit, and how a request's client address is found.
pub(crate) struct AuthLimits {
    limiter: Option<Limiter>,
    proxies: TrustedProxies,
}

impl AuthLimits {
    /// The limit `sessions` configures, over the client address `proxies` find; checks Redis
    /// now when it counts there.
    pub(crate) async fn start(
        sessions: &SessionsConfig,
        proxies: TrustedProxies,
    ) -> Result<Self, String> {
        let rate = Rate::new(
            sessions.auth_per_address_per_minute,
            Duration::from_secs(60),
        );
        let limiter = match (rate, sessions.store, sessions.redis_url.as_deref()) {
            (None, _, _) => None,
            (Some(rate), StoreKind::Redis, Some(url)) => {
                let limiter = Limiter::redis(
                    &rate_limit::connect(url),
                    REDIS_PREFIX,
                    "auth-address",
                    rate,
                );
                limiter
                    .check_backend()
                    .await
                    .map_err(|e| format!("Redis (sign-in limits) is not reachable: {e}"))?;
                Some(limiter)
            }
            (Some(rate), _, _) => Some(Limiter::memory("auth-address", rate)),
        };
        Ok(Self { limiter, proxies })
    }

    /// Counts one request from the client behind `peer`; `Err(wait)` when it is over its rate.
    async fn check(&self, peer: IpAddr, headers: &HeaderMap) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        let client = self.proxies.client_address(peer, headers);
        limiter.check(&address_key(client)).await
    }
}

/// The middleware in front of every `/auth/...` route.
pub(crate) async fn per_address(State(sso): State<Sso>, request: Request, next: Next) -> Response {
    // Absent only when the router is driven without a socket (tower's oneshot in tests).
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    if let Some(peer) = peer
        && let Err(wait) = sso.limits().check(peer, request.headers()).await
    {
        return too_many(&request, retry_after_secs(wait));
    }
    next.run(request).await
}

/// 429 with `Retry-After`: a page for a browser's navigation, else the coded error body.
fn too_many(request: &Request, retry_after: u64) -> Response {
    tracing::info!(
        retry_after,
        "sign-in route refused: too many requests from one address"
    );
    let seconds = HeaderValue::from(retry_after);
    if accepts_html(request.headers()) {
        let mut page = refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in requests",
            &format!(
                "This address has made too many sign-in requests in a short time. Try again in \
                 {retry_after} seconds."
            ),
            false,
        );
        page.headers_mut().insert(header::RETRY_AFTER, seconds);
        return page;
    }
    Refusal::new(
        StatusCode::TOO_MANY_REQUESTS,
        Code::RateLimited,
        format!("too many sign-in requests from this address; retry after {retry_after} s"),
    )
    .in_media(negotiate(request.headers()).unwrap_or(Media::Json))
    .with_header(header::RETRY_AFTER, seconds)
    .into_response()
}
