//! The OpenID provider, through the `openidconnect` crate: discovery from the issuer URL, the
//! Authorization Code flow with PKCE, `state` and `nonce`, the ID token's validation (signature
//! from the provider's JWKS, issuer, audience, expiry, nonce) and RP-initiated logout.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, Client, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IssuerUrl, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, Scope, SignatureVerificationError,
    StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::config::SsoConfig;
use super::http::ProviderHttp;
use super::roles::{MappingError, RoleMapping};
use auth::Viewer;

/// The ID token's claims beyond the standard ones (the groups claim is among them).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    pub claims: Map<String, Value>,
}

impl AdditionalClaims for ExtraClaims {}

type IdTokenFields = openidconnect::IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// An ID token of this provider, with its extra claims.
pub type IdToken = openidconnect::IdToken<
    ExtraClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<IdTokenFields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The provider, discovered at start. Its keys are read again (discovery and JWKS) when an ID
/// token names a key we do not know, at most once per [`REDISCOVER_EVERY`]: providers rotate
/// their signing keys, and a flood of forged tokens must not become a flood of fetches.
pub struct Provider {
    issuer: String,
    config: SsoConfig,
    redirect: String,
    discovered: RwLock<Arc<Discovered>>,
    last_discovery: Mutex<Instant>,
    http: ProviderHttp,
    scopes: Vec<Scope>,
    client_id: ClientId,
    mapping: RoleMapping,
}

/// Least time between two discoveries caused by unknown keys.
const REDISCOVER_EVERY: Duration = Duration::from_secs(60);

/// What discovery yields: the client (with the provider's keys) and its sign-out endpoint.
struct Discovered {
    client: OidcClient,
    end_session: Option<EndSessionUrl>,
}

/// A sign-in on its way to the provider: where to send the browser, and the secrets the
/// callback must match (kept server-side, never in the browser).
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// A person the provider signed in, as licensedot sees them.
pub struct SignedIn {
    pub viewer: Viewer,
    /// The raw ID token, kept for `id_token_hint` at sign-out.
    pub id_token: String,
}

/// Why a callback does not sign anyone in. Each says what happened in words a person can act
/// on; none carries a token or a code.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error(
        "the identity provider refused to exchange the sign-in code ({0}); it may have been used already or have expired"
    )]
    Exchange(String),
    #[error("the identity provider answered without an ID token")]
    NoIdToken,
    #[error("the identity provider's ID token is not valid: {0}")]
    InvalidIdToken(String),
    #[error("the identity provider's ID token is signed with a key it does not publish")]
    UnknownKey,
    #[error("none of your groups at the identity provider gives access to licensedot")]
    NoMappedRole,
    #[error("the identity provider's groups claim is not a list of names")]
    MalformedGroups,
}

impl Provider {
    /// Reads the provider's discovery document and keys (failing fast, as the JWKS of the
    /// bearer tokens does).
    pub async fn discover(config: &SsoConfig, public_url: &str) -> Result<Self, String> {
        let issuer = config.issuer_url.clone().unwrap_or_default();
        let http = ProviderHttp::new(
            Duration::from_secs(config.timeout_secs),
            config.max_response_bytes,
        )?;
        let redirect = format!("{}/auth/callback", public_url.trim_end_matches('/'));
        let client_id = ClientId::new(config.client_id.clone());
        let discovered = discover(config, &issuer, &redirect, &http).await?;
        Ok(Self {
            issuer,
            config: config.clone(),
            redirect,
            discovered: RwLock::new(Arc::new(discovered)),
            last_discovery: Mutex::new(Instant::now()),
            http,
            scopes: config.scopes.iter().cloned().map(Scope::new).collect(),
            client_id,
            mapping: RoleMapping::new(config)?,
        })
    }

    fn discovered(&self) -> Arc<Discovered> {
        Arc::clone(&self.discovered.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Reads the discovery document and keys again, unless that was done less than
    /// [`REDISCOVER_EVERY`] ago. Returns whether it did.
    async fn rediscover(&self) -> bool {
        {
            let mut last = self
                .last_discovery
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if last.elapsed() < REDISCOVER_EVERY {
                return false;
            }
            *last = Instant::now();
        }
        match discover(&self.config, &self.issuer, &self.redirect, &self.http).await {
            Ok(discovered) => {
                *self.discovered.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(discovered);
                tracing::info!("identity provider keys read again (unknown key in an ID token)");
                true
            }
            Err(error) => {
                tracing::warn!(%error, "identity provider keys could not be read again");
                false
            }
        }
    }

    /// The issuer, as configured (and as the discovery document confirmed).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// A new authorization request: PKCE (S256), a random `state` and `nonce`.
    pub fn authorize(&self) -> Authorization {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let discovered = self.discovered();
        let mut request = discovered.client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.scopes {
            request = request.add_scope(scope.clone());
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        }
    }

    /// Exchanges the code (with the PKCE verifier) and validates the ID token against `nonce`.
    pub async fn finish(
        &self,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<SignedIn, SignInError> {
        let response = self
            .discovered()
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| SignInError::Exchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| SignInError::Exchange(chain(&e)))?;
        let id_token = response.id_token().ok_or(SignInError::NoIdToken)?;
        match self.validate(id_token, nonce) {
            // Signed with a key published after our last look: read the keys again, once.
            Err(SignInError::UnknownKey) if self.rediscover().await => {
                self.validate(id_token, nonce)
            }
            other => other,
        }
    }

    /// Validates an ID token (signature, issuer, audience, expiry, nonce) and maps it to a
    /// viewer.
    pub fn validate(&self, id_token: &IdToken, nonce: &str) -> Result<SignedIn, SignInError> {
        let discovered = self.discovered();
        let claims = id_token
            .claims(
                &discovered.client.id_token_verifier(),
                &Nonce::new(nonce.to_owned()),
            )
            .map_err(|e| match e {
                ClaimsVerificationError::SignatureVerification(
                    SignatureVerificationError::NoMatchingKey,
                ) => SignInError::UnknownKey,
                other => SignInError::InvalidIdToken(other.to_string()),
            })?;
        // An address the provider has not verified could be anyone's: the person is then known
        // by their subject alone, in the session and in the audit trail.
        let email = claims
            .email()
            .filter(|_| claims.email_verified() == Some(true))
            .map(|e| e.as_str().to_owned());
        let viewer = self
            .mapping
            .viewer(
                claims.subject().as_str(),
                email,
                &claims.additional_claims().claims,
            )
            .map_err(|e| match e {
                MappingError::NoMappedGroup => SignInError::NoMappedRole,
                MappingError::MalformedClaim => SignInError::MalformedGroups,
            })?;
        Ok(SignedIn {
            viewer,
            id_token: id_token.to_string(),
        })
    }

    /// The provider's logout URL (RP-initiated logout) when its discovery document has an
    /// `end_session_endpoint`, sending the browser back to `post_logout` afterwards.
    pub fn logout_url(&self, id_token: Option<&str>, post_logout: &str) -> Option<String> {
        let endpoint = self.discovered().end_session.clone()?;
        let mut request = LogoutRequest::from(endpoint).set_client_id(self.client_id.clone());
        if let Some(token) = id_token.and_then(|t| t.parse::<IdToken>().ok()) {
            request = request.set_id_token_hint(&token);
        }
        if let Ok(url) = PostLogoutRedirectUrl::new(post_logout.to_owned()) {
            request = request.set_post_logout_redirect_uri(url);
        }
        Some(request.http_get_url().to_string())
    }
}

/// Reads the discovery document (and, through it, the keys) and builds the client.
async fn discover(
    config: &SsoConfig,
    issuer: &str,
    redirect: &str,
    http: &ProviderHttp,
) -> Result<Discovered, String> {
    let issuer_url =
        IssuerUrl::new(issuer.to_owned()).map_err(|e| format!("issuer_url `{issuer}`: {e}"))?;
    let metadata = ProviderMetadataWithLogout::discover_async(issuer_url, http)
        .await
        .map_err(|e| format!("OpenID discovery at `{issuer}` failed: {}", chain(&e)))?;
    let end_session = metadata.additional_metadata().end_session_endpoint.clone();
    let client = OidcClient::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.clone()),
        config.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(
        RedirectUrl::new(redirect.to_owned()).map_err(|e| format!("redirect `{redirect}`: {e}"))?,
    );
    Ok(Discovered {
        client,
        end_session,
    })
}

/// An error with its sources, for messages that say what actually failed.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
