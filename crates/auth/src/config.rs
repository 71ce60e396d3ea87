//! `AuthConfig`: what the operator sets, and the check that it makes sense before we start.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde::Deserialize;

use crate::error::ConfigError;

/// The environment variable holding the development HS256 secret.
pub const JWT_SECRET_ENV: &str = "LICENSEDOT_JWT_SECRET";

/// HS256 keys shorter than the hash output are brute-forceable; RFC 7518 section 3.2.
pub const MIN_HS256_SECRET_BYTES: usize = 32;

/// Authentication settings. Every field has a default, so a config file names only what differs.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// When false, a request without an `Authorization` header gets the anonymous viewer
    /// (role `viewer`: personal data masked). A header that is present is always checked.
    pub required: bool,
    /// Development HS256 secret (at least 32 bytes). Usually from `LICENSEDOT_JWT_SECRET`.
    pub hs256_secret: Option<String>,
    /// A JWKS file with the public keys of RS256/ES256 issuers; re-read on refresh.
    pub jwks_file: Option<PathBuf>,
    /// A JWKS URL (an SSO provider's `jwks_uri`); fetched at start and refreshed.
    pub jwks_url: Option<String>,
    /// Seconds between background refreshes of the key set.
    pub jwks_refresh_secs: u64,
    /// Minimum seconds between two refreshes triggered by an unknown `kid`, so that a flood of
    /// tokens with made-up key ids cannot turn us into a load generator against the provider.
    pub jwks_min_refresh_secs: u64,
    /// Timeout of one JWKS fetch, in seconds.
    pub jwks_timeout_secs: u64,
    /// Expected `iss`; when set, tokens must carry it.
    pub issuer: Option<String>,
    /// Expected `aud`; when set, tokens must carry it. When unset, tokens with an `aud` are
    /// accepted (RFC 7519 would reject them; an unset audience means "not checked" here).
    pub audience: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
    /// Accepted algorithms. Those whose key source is not configured are dropped silently, so
    /// the default works for every setup. `none` is never accepted.
    pub algorithms: Vec<String>,
    /// The claim holding roles: a string array or a space-separated string. A claim name is
    /// looked up as is first, then as a dotted path (`realm_access.roles`).
    pub roles_claim: String,
    /// The claim holding customer ids of a customer-scoped token (numbers or numeric strings).
    pub customer_ids_claim: String,
    /// The claim holding the e-mail address.
    pub email_claim: String,
    /// Whether introspection (`__schema`, `__type`) needs a valid token. The authenticator
    /// itself ignores it; the gateway applies it to requests without a token.
    pub introspection_requires_token: bool,
    /// The client id browsers sign in with (`[gateway.sso] client_id`), set by the gateway, not
    /// read from the file: a token whose `aud` names it is an ID token of that sign-in, and is
    /// refused as a bearer token.
    #[serde(skip)]
    pub sign_in_client_id: Option<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            required: true,
            hs256_secret: None,
            jwks_file: None,
            jwks_url: None,
            jwks_refresh_secs: 300,
            jwks_min_refresh_secs: 10,
            jwks_timeout_secs: 5,
            issuer: None,
            audience: None,
            leeway_secs: 30,
            algorithms: vec!["HS256".into(), "RS256".into(), "ES256".into()],
            roles_claim: "roles".into(),
            customer_ids_claim: "customer_ids".into(),
            email_claim: "email".into(),
            introspection_requires_token: true,
            sign_in_client_id: None,
        }
    }
}

// Hand-written so that the secret never reaches a log line through `{:?}`.
impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("required", &self.required)
            .field(
                "hs256_secret",
                &self.hs256_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("jwks_file", &self.jwks_file)
            .field("jwks_url", &self.jwks_url)
            .field("jwks_refresh_secs", &self.jwks_refresh_secs)
            .field("jwks_min_refresh_secs", &self.jwks_min_refresh_secs)
            .field("jwks_timeout_secs", &self.jwks_timeout_secs)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway_secs", &self.leeway_secs)
            .field("algorithms", &self.algorithms)
            .field("roles_claim", &self.roles_claim)
            .field("customer_ids_claim", &self.customer_ids_claim)
            .field("email_claim", &self.email_claim)
            .field(
                "introspection_requires_token",
                &self.introspection_requires_token,
            )
            .field("sign_in_client_id", &self.sign_in_client_id)
            .finish()
    }
}

impl AuthConfig {
    /// Takes the HS256 secret from `LICENSEDOT_JWT_SECRET` when that variable is set and
    /// non-empty (the environment beats the config file).
    pub fn with_env_secret(self) -> Self {
        self.with_secret_from(|name| std::env::var(name).ok())
    }

    /// [`Self::with_env_secret`] with an injectable lookup, for tests and layered config.
    pub fn with_secret_from(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        if let Some(secret) = lookup(JWT_SECRET_ENV).filter(|s| !s.is_empty()) {
            self.hs256_secret = Some(secret);
        }
        self
    }

    fn has_jwks_source(&self) -> bool {
        self.jwks_file.is_some() || self.jwks_url.is_some()
    }

    /// The algorithms actually accepted: the configured ones that have a key source.
    pub fn effective_algorithms(&self) -> Result<Vec<Algorithm>, ConfigError> {
        let mut out: Vec<Algorithm> = Vec::new();
        for name in &self.algorithms {
            let alg = Algorithm::from_str(name.trim()).map_err(|_| {
                ConfigError::Invalid(format!(
                    "unknown JWT algorithm {name:?} in `algorithms` (expected e.g. HS256, RS256, ES256)"
                ))
            })?;
            let usable = match alg.family() {
                AlgorithmFamily::Hmac => self.hs256_secret.is_some(),
                _ => self.has_jwks_source(),
            };
            if usable && !out.contains(&alg) {
                out.push(alg);
            }
        }
        Ok(out)
    }

    /// Rejects configurations that cannot work, with a message naming the setting to fix.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |msg: String| Err(ConfigError::Invalid(msg));
        if let Some(secret) = &self.hs256_secret
            && secret.len() < MIN_HS256_SECRET_BYTES
        {
            return bad(format!(
                "the HS256 secret (`hs256_secret` / {JWT_SECRET_ENV}) is {} bytes; it needs at least {MIN_HS256_SECRET_BYTES}",
                secret.len()
            ));
        }
        if self.jwks_file.is_some() && self.jwks_url.is_some() {
            return bad("set either `jwks_file` or `jwks_url`, not both".into());
        }
        if let Some(url) = &self.jwks_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return bad(format!("`jwks_url` must be an http(s) URL, got {url:?}"));
        }
        for (name, value) in [
            ("roles_claim", &self.roles_claim),
            ("customer_ids_claim", &self.customer_ids_claim),
            ("email_claim", &self.email_claim),
        ] {
            if value.trim().is_empty() {
                return bad(format!("`{name}` must name a claim"));
            }
        }
        if let (Some(audience), Some(client)) = (&self.audience, &self.sign_in_client_id)
            && audience == client
        {
            return bad(format!(
                "`audience` {audience:?} is the sign-in client id ([gateway.sso] client_id): the \
                 provider's ID tokens for the sign-in would pass as access tokens. Give the API \
                 its own audience (e.g. a separate API registration at the provider)"
            ));
        }
        if self.jwks_refresh_secs == 0 {
            return bad("`jwks_refresh_secs` must be at least 1".into());
        }
        if self.jwks_timeout_secs == 0 {
            return bad("`jwks_timeout_secs` must be at least 1".into());
        }
        let algorithms = self.effective_algorithms()?;
        if self.required && algorithms.is_empty() {
            if !self.has_jwks_source() && self.hs256_secret.is_none() {
                return bad(format!(
                    "authentication is required but no key is configured: set {JWT_SECRET_ENV} (HS256, development) or `jwks_file` / `jwks_url`, or set `required = false`"
                ));
            }
            return bad(format!(
                "none of `algorithms` {:?} fits the configured keys (HS* needs `hs256_secret`, RS*/PS*/ES*/EdDSA need `jwks_file` or `jwks_url`)",
                self.algorithms
            ));
        }
        Ok(())
    }
}
