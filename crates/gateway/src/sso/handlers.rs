//! The `/auth/...` routes:
//!
//! - `GET /auth/login?return_to=/path`: starts an OpenID Connect sign-in (to the provider).
//! - `GET /auth/callback`: the provider's answer; opens a session or shows why not.
//! - `POST /auth/logout`: ends the session; answers where the provider's sign-out is.
//! - `GET /auth/link/{secret}`: redeems a one-time sign-in link.
//! - `GET /auth/session`: who the session cookie signs in, for the pages.

use std::collections::HashMap;

use auth::AuthError;
use axum::Extension;
use axum::Json;
use axum::Router;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use error_catalogue::{Code, Refusal};
use serde_json::json;

use super::audit::{self, RequestIds};
use super::page::refusal;
use super::pending::{Opened, PendingLogin};
use super::provider::SignInError;
use super::sessions::SessionData;
use super::store::now;
use super::{Sso, csrf, throttle};
use crate::authn;
use edge::CallerRequestId;
use licenses::audit_record::SignInMethod;

/// The longest `return_to` kept; anything longer returns to `/`.
const MAX_RETURN_PATH: usize = 2048;

/// The longest secret looked up (ours are 64 characters).
const MAX_SECRET: usize = 128;

/// The routes, each behind the per-address limit (`throttle`), for any router state the
/// sign-in state is taken from.
pub(crate) fn routes<S>(sso: Sso) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Sso: FromRef<S>,
{
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/logout", post(logout))
        .route("/auth/link/{secret}", get(link))
        .route("/auth/session", get(session))
        .route_layer(from_fn_with_state(sso, throttle::per_address))
}

fn not_configured() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "Single sign-on is not configured",
        "This gateway has no identity provider ([gateway.sso] in its configuration). Sign in \
         with an access token instead.",
        false,
    )
}

fn store_down(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "session store failed during sign-in");
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in is unavailable",
        "The gateway could not reach its session store. Try again in a minute.",
        true,
    )
}

/// A path on this site to return to after sign-in; anything else (another host, `//host`,
/// backslashes, control characters) returns to `/`.
fn return_path(requested: Option<&String>) -> String {
    match requested {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.len() <= MAX_RETURN_PATH
                && !path.chars().any(char::is_control) =>
        {
            path.clone()
        }
        _ => "/".to_owned(),
    }
}

/// A 303 to `location` with `cookies` set.
fn redirect(location: &str, cookies: &[Option<HeaderValue>]) -> Response {
    let Ok(location) = HeaderValue::from_str(location) else {
        // Our own locations are paths checked by `return_path`: this is a bug.
        tracing::error!(location, "a redirect location is not a header value");
        return Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Code::InternalServerError,
            "internal error: the sign-in could not redirect; see the gateway log",
        )
        .into_response();
    };
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for cookie in cookies.iter().flatten() {
        headers.append(header::SET_COOKIE, cookie.clone());
    }
    response
}

/// A sign-in that passed: who, how, and where the browser goes next.
struct SignIn<'a> {
    data: SessionData,
    id_token: Option<&'a str>,
    method: SignInMethod,
    location: &'a str,
}

/// Opens a session holding `sign_in.data` (and the ID token, sealed), records the sign-in in
/// the audit trail and sends the browser on with its cookie. A sign-in the trail cannot record
/// is undone: nobody is signed in without a record of it.
async fn open_session(
    sso: &Sso,
    sign_in: SignIn<'_>,
    ids: &RequestIds,
    also: Option<HeaderValue>,
) -> Response {
    let db = &sso.inner.db;
    let sso = &sso.inner;
    let secret = match sso.sessions.create(&sign_in.data, sign_in.id_token).await {
        Ok(secret) => secret,
        Err(error) => return store_down(&error),
    };
    if let Err(error) = audit::signed_in(db, &sign_in.data, sign_in.method, ids).await {
        tracing::error!(%error, "a sign-in could not be recorded in the audit trail: undone");
        if let Err(error) = sso.sessions.end(&secret).await {
            tracing::error!(%error, "a session without its audit record could not be ended");
        }
        return refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is unavailable",
            "The gateway could not record the sign-in in its audit trail. Try again in a \
             minute.",
            true,
        );
    }
    tracing::info!(subject = %sign_in.data.subject, "session opened");
    let max_age = sso.sessions.config().absolute_timeout_secs;
    let cookie = sso.cookies.set(sso.cookies.session(), &secret, max_age);
    redirect(sign_in.location, &[cookie, also])
}

async fn login(State(sso): State<Sso>, Query(params): Query<HashMap<String, String>>) -> Response {
    let sso = &sso.inner;
    let Some(provider) = &sso.provider else {
        return not_configured();
    };
    // Nothing is stored: the sign-in travels sealed in the browser's login cookie (`pending`).
    let authorization = provider.authorize();
    let timeout = sso.sessions.config().login_timeout_secs;
    let pending = PendingLogin {
        state: authorization.state,
        nonce: authorization.nonce,
        pkce_verifier: authorization.pkce_verifier,
        return_to: return_path(params.get("return_to")),
        expires_at: now().saturating_add(i64::try_from(timeout).unwrap_or(i64::MAX)),
    };
    let cookie = sso
        .cookies
        .set(sso.cookies.login(), &pending.seal(&sso.login_key), timeout);
    redirect(&authorization.url, &[cookie])
}

async fn callback(
    State(state): State<Sso>,
    headers: HeaderMap,
    caller_id: Option<Extension<CallerRequestId>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let sso = &state.inner;
    let Some(provider) = &sso.provider else {
        return not_configured();
    };
    if let Some(error) = params.get("error") {
        let detail = params
            .get("error_description")
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return refusal(
            StatusCode::FORBIDDEN,
            "The identity provider did not sign you in",
            &format!("It answered `{error}`{detail}."),
            true,
        );
    }
    let (Some(code), Some(returned_state)) = (params.get("code"), params.get("state")) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "This is not a sign-in answer",
            "The address lacks the identity provider's code or state.",
            true,
        );
    };
    // The callback clears the login cookie, so an answer used once finds none the second time.
    let Some(cookie) = super::cookie::read(&headers, sso.cookies.login()) else {
        return used_or_expired();
    };
    let pending = match PendingLogin::open(&sso.login_key, &cookie, now()) {
        // The state must be the one this browser was given when it started (login CSRF).
        Opened::Pending(pending) if pending.state == *returned_state => pending,
        Opened::Pending(_) | Opened::NotOurs => return not_started_here(),
        Opened::Expired => return used_or_expired(),
    };
    let clear_login = sso.cookies.clear(sso.cookies.login());
    if params
        .get("iss")
        .is_some_and(|issuer| issuer != provider.issuer())
    {
        return refusal(
            StatusCode::BAD_REQUEST,
            "The answer came from another identity provider",
            "Its `iss` is not the configured issuer. Start again.",
            true,
        );
    }
    match provider
        .finish(code, &pending.nonce, &pending.pkce_verifier)
        .await
    {
        Ok(signed_in) => {
            let sign_in = SignIn {
                data: SessionData::new(&signed_in.viewer),
                id_token: Some(&signed_in.id_token),
                method: SignInMethod::Sso,
                location: &pending.return_to,
            };
            let ids = RequestIds::of(&headers, caller_id.as_deref());
            open_session(&state, sign_in, &ids, clear_login).await
        }
        Err(error @ SignInError::NoMappedRole) => refusal(
            StatusCode::FORBIDDEN,
            "You have no access to licensedot",
            &format!(
                "You signed in, but {error}. Ask an administrator to add you to a group that \
                 is mapped to a licensedot role."
            ),
            false,
        ),
        Err(error) => refusal(
            StatusCode::UNAUTHORIZED,
            "Sign-in failed",
            &format!("{}.", capitalized(&error.to_string())),
            true,
        ),
    }
}

fn not_started_here() -> Response {
    refusal(
        StatusCode::BAD_REQUEST,
        "This sign-in was not started in this browser",
        "The answer's state does not match the sign-in this browser started: it was \
         altered, started elsewhere, or expired. Start again.",
        true,
    )
}

fn used_or_expired() -> Response {
    refusal(
        StatusCode::BAD_REQUEST,
        "This sign-in has already been used or has expired",
        "Each sign-in answer works once, within a few minutes, in the browser that started \
         it. Start again.",
        true,
    )
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

async fn logout(
    State(sso): State<Sso>,
    headers: HeaderMap,
    caller_id: Option<Extension<CallerRequestId>>,
) -> Response {
    let sso = &sso.inner;
    if !csrf::from_this_site(&headers, sso.public_url.as_deref()) {
        return authn::refuse(&headers, &AuthError::CrossSite);
    }
    let ended = match super::cookie::read(&headers, sso.cookies.session()) {
        Some(secret) => match sso.sessions.end(&secret).await {
            Ok(ended) => ended,
            Err(error) => {
                tracing::error!(%error, "session store failed at sign-out");
                return authn::refuse(&headers, &AuthError::SessionStoreUnavailable);
            }
        },
        None => None,
    };
    // A sign-out is never refused for the trail's sake: one it cannot record is logged.
    if let Some(ended) = &ended {
        let ids = RequestIds::of(&headers, caller_id.as_deref());
        if let Err(error) = audit::signed_out(&sso.db, &ended.data, &ids).await {
            tracing::error!(%error, subject = %ended.data.subject, "a sign-out could not be recorded in the audit trail");
        }
    }
    // The provider's own session ends too (RP-initiated logout), when it offers that.
    let provider_logout = match (&sso.provider, &ended, &sso.public_url) {
        (Some(provider), Some(ended), Some(public_url)) => {
            provider.logout_url(ended.id_token.as_deref(), &format!("{public_url}/"))
        }
        _ => None,
    };
    let mut response = Json(json!({
        "signedOut": ended.is_some(),
        "providerLogout": provider_logout,
    }))
    .into_response();
    if let Some(clear) = sso.cookies.clear(sso.cookies.session()) {
        response.headers_mut().append(header::SET_COOKIE, clear);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn link(
    State(state): State<Sso>,
    headers: HeaderMap,
    caller_id: Option<Extension<CallerRequestId>>,
    Path(secret): Path<String>,
) -> Response {
    let sso = &state.inner;
    let redeemed = if secret.len() <= MAX_SECRET {
        sso.sessions.redeem_link(&secret).await
    } else {
        Ok(None)
    };
    match redeemed {
        Ok(Some(data)) => {
            let sign_in = SignIn {
                data,
                id_token: None,
                method: SignInMethod::Link,
                location: "/",
            };
            let ids = RequestIds::of(&headers, caller_id.as_deref());
            open_session(&state, sign_in, &ids, None).await
        }
        Ok(None) => refusal(
            StatusCode::BAD_REQUEST,
            "This sign-in link has been used or has expired",
            "A sign-in link works once, for a few minutes. Ask for a new one (`licensedot demo` \
             prints one each time it starts).",
            false,
        ),
        Err(error) => store_down(&error),
    }
}

async fn session(State(sso): State<Sso>, headers: HeaderMap) -> Response {
    let sso_configured = sso.provider_configured();
    let body = match sso.authenticate(&headers).await {
        Ok(Some(viewer)) => json!({
            "signedIn": true,
            "subject": viewer.subject,
            "email": viewer.email,
            "role": viewer.role.as_str(),
            "sso": sso_configured,
        }),
        _ => json!({"signedIn": false, "sso": sso_configured}),
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_returned_to() {
        let path = |p: &str| return_path(Some(&p.to_owned()));
        assert_eq!(path("/#/customer/1"), "/#/customer/1");
        assert_eq!(path("/graphql"), "/graphql");
        assert_eq!(path("//evil.example/"), "/");
        assert_eq!(path("/\\evil.example"), "/");
        assert_eq!(path("https://evil.example/"), "/");
        assert_eq!(path("/a\nb"), "/");
        assert_eq!(return_path(None), "/");
    }
}
