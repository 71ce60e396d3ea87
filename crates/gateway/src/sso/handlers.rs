//! The `/auth/...` routes:
//!
//! - `GET /auth/login?return_to=/path`: starts an OpenID Connect sign-in (to the provider).
//! - `GET /auth/callback`: the provider's answer; opens a session or shows why not.
//! - `POST /auth/logout`: ends the session; answers where the provider's sign-out is.
//! - `GET /auth/link/{secret}`: redeems a one-time sign-in link.
//! - `GET /auth/session`: who the session cookie signs in, for the pages.

use std::collections::HashMap;

use auth::AuthError;
use axum::Json;
use axum::Router;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use error_catalogue::{Code, Refusal};
use serde_json::json;

use super::page::refusal;
use super::provider::SignInError;
use super::sessions::{PendingLogin, SessionData, StartLoginError};
use super::{Inner, Sso, csrf};
use crate::authn;

/// The longest `return_to` kept; anything longer returns to `/`.
const MAX_RETURN_PATH: usize = 2048;

/// The longest secret looked up (ours are 64 characters).
const MAX_SECRET: usize = 128;

/// The routes, for any router state the sign-in state is taken from.
pub(crate) fn routes<S>() -> Router<S>
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

/// Opens a session holding `data` and sends the browser to `location` with its cookie.
async fn open_session(
    sso: &Inner,
    data: &SessionData,
    location: &str,
    also: Option<HeaderValue>,
) -> Response {
    match sso.sessions.create(data).await {
        Ok(secret) => {
            tracing::info!(subject = %data.subject, "session opened");
            let max_age = sso.sessions.config().absolute_timeout_secs;
            let cookie = sso.cookies.set(sso.cookies.session(), &secret, max_age);
            redirect(location, &[cookie, also])
        }
        Err(error) => store_down(&error),
    }
}

async fn login(State(sso): State<Sso>, Query(params): Query<HashMap<String, String>>) -> Response {
    let sso = &sso.inner;
    let Some(provider) = &sso.provider else {
        return not_configured();
    };
    let authorization = provider.authorize();
    let pending = PendingLogin {
        nonce: authorization.nonce,
        pkce_verifier: authorization.pkce_verifier,
        return_to: return_path(params.get("return_to")),
    };
    match sso
        .sessions
        .start_login(&authorization.state, &pending)
        .await
    {
        Ok(()) => {
            let max_age = sso.sessions.config().login_timeout_secs;
            let cookie = sso
                .cookies
                .set(sso.cookies.login(), &authorization.state, max_age);
            redirect(&authorization.url, &[cookie])
        }
        Err(StartLoginError::Busy) => refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many sign-ins in progress",
            "The gateway is handling as many sign-ins as it allows at once. Try again in a few \
             minutes.",
            true,
        ),
        Err(StartLoginError::Store(error)) => store_down(&error),
    }
}

async fn callback(
    State(sso): State<Sso>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let sso = &sso.inner;
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
    // The state must be the one this browser was given when it started (login CSRF).
    if super::cookie::read(&headers, sso.cookies.login()).as_deref() != Some(returned_state) {
        return refusal(
            StatusCode::BAD_REQUEST,
            "This sign-in was not started in this browser",
            "The answer's state does not match the sign-in this browser started: it was \
             altered, started elsewhere, or expired. Start again.",
            true,
        );
    }
    let pending = match sso.sessions.finish_login(returned_state).await {
        Ok(Some(pending)) => pending,
        Ok(None) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "This sign-in has already been used or has expired",
                "Each sign-in answer works once, within a few minutes. Start again.",
                true,
            );
        }
        Err(error) => return store_down(&error),
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
            let data = SessionData::new(&signed_in.viewer, Some(signed_in.id_token));
            open_session(sso, &data, &pending.return_to, clear_login).await
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

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

async fn logout(State(sso): State<Sso>, headers: HeaderMap) -> Response {
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
    // The provider's own session ends too (RP-initiated logout), when it offers that.
    let provider_logout = match (&sso.provider, &ended, &sso.public_url) {
        (Some(provider), Some(data), Some(public_url)) => {
            provider.logout_url(data.id_token.as_deref(), &format!("{public_url}/"))
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

async fn link(State(sso): State<Sso>, Path(secret): Path<String>) -> Response {
    let sso = &sso.inner;
    let redeemed = if secret.len() <= MAX_SECRET {
        sso.sessions.redeem_link(&secret).await
    } else {
        Ok(None)
    };
    match redeemed {
        Ok(Some(data)) => open_session(sso, &data, "/", None).await,
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
