//! `Authenticator`: the one entry point: an `Authorization` header in, a `Viewer` or an
//! `AuthError` out. It ties the config, the keys, the verifier and the claim mapping together.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

use crate::config::AuthConfig;
use crate::error::{AuthError, ConfigError};
use crate::jwks::{self, JwksSource, JwksStore, KeySet, Lookup, RefreshOutcome};
use crate::verify::{self, ClaimRules};
use crate::viewer::{ClaimNames, Viewer, viewer_from_claims};

/// Checks bearer tokens. Cheap to clone (shared state behind an `Arc`); share one per process.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    required: bool,
    algorithms: Vec<Algorithm>,
    hmac_key: Option<DecodingKey>,
    jwks: Option<Arc<JwksStore>>,
    rules: ClaimRules,
    roles_claim: String,
    customer_ids_claim: String,
    email_claim: String,
    /// The sign-in client id: tokens for that audience are ID tokens.
    sign_in_client_id: Option<String>,
    refresh_every: Duration,
    /// The periodic refresh task, stopped with the last clone of the authenticator.
    refresh_task: std::sync::Mutex<Option<AbortOnDrop>>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::fmt::Debug for Authenticator {
    // No keys or secrets in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("required", &self.inner.required)
            .field("algorithms", &self.inner.algorithms)
            .field("jwks", &self.inner.jwks.as_ref().map(|s| s.source().name()))
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Validates `config` and builds the authenticator without network I/O: a JWKS file is
    /// read now; a JWKS URL is fetched lazily, on the first token with an unknown key. Starts
    /// no background task; use [`Authenticator::start`] in a server.
    pub fn new(config: AuthConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let algorithms = config.effective_algorithms()?;
        let min_interval = Duration::from_secs(config.jwks_min_refresh_secs);
        let jwks_error = |source_name: String, reason: String| ConfigError::Jwks {
            source_name,
            reason,
        };
        let jwks = if let Some(path) = &config.jwks_file {
            let bytes = std::fs::read(path)
                .map_err(|e| jwks_error(path.display().to_string(), e.to_string()))?;
            let keys =
                KeySet::parse(&bytes).map_err(|r| jwks_error(path.display().to_string(), r))?;
            let source = JwksSource::File(path.clone());
            Some(Arc::new(JwksStore::new(source, keys, min_interval)))
        } else if let Some(url) = &config.jwks_url {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(config.jwks_timeout_secs))
                .connect_timeout(Duration::from_secs(config.jwks_timeout_secs))
                .build()
                .map_err(|e| jwks_error(url.clone(), e.to_string()))?;
            let source = JwksSource::Url {
                url: url.clone(),
                client,
            };
            Some(Arc::new(JwksStore::new(
                source,
                KeySet::default(),
                min_interval,
            )))
        } else {
            None
        };
        let hmac_key = config
            .hs256_secret
            .as_deref()
            .map(|s| DecodingKey::from_secret(s.as_bytes()));
        Ok(Authenticator {
            inner: Arc::new(Inner {
                required: config.required,
                algorithms,
                hmac_key,
                jwks,
                rules: ClaimRules {
                    issuer: config.issuer,
                    audience: config.audience,
                    leeway_secs: config.leeway_secs,
                },
                roles_claim: config.roles_claim,
                customer_ids_claim: config.customer_ids_claim,
                email_claim: config.email_claim,
                sign_in_client_id: config.sign_in_client_id,
                refresh_every: Duration::from_secs(config.jwks_refresh_secs),
                refresh_task: std::sync::Mutex::new(None),
            }),
        })
    }

    /// [`Authenticator::new`], then fetches the JWKS URL (failing fast if the provider cannot
    /// be reached at start) and spawns the periodic refresh (needs a tokio runtime).
    pub async fn start(config: AuthConfig) -> Result<Self, ConfigError> {
        let auth = Self::new(config)?;
        if let Some(store) = &auth.inner.jwks {
            if matches!(store.source(), JwksSource::Url { .. }) {
                store
                    .refresh_now()
                    .await
                    .map_err(|reason| ConfigError::Jwks {
                        source_name: store.source().name(),
                        reason,
                    })?;
            }
            let task = jwks::spawn_refresh_task(store, auth.inner.refresh_every);
            let mut slot = auth
                .inner
                .refresh_task
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            *slot = Some(AbortOnDrop(task));
        }
        Ok(auth)
    }

    /// The algorithms this authenticator accepts.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.inner.algorithms
    }

    /// Turns the value of the `Authorization` header (if any) into a viewer.
    ///
    /// Without a header: the anonymous viewer when auth is optional, `Missing` otherwise.
    pub async fn authenticate(
        &self,
        authorization_header: Option<&str>,
    ) -> Result<Viewer, AuthError> {
        let inner = &self.inner;
        let Some(header) = authorization_header else {
            return if inner.required {
                Err(AuthError::Missing)
            } else {
                Ok(Viewer::anonymous())
            };
        };
        let token = verify::bearer_token(header)?;
        let head = verify::read_header(token, &inner.algorithms)?;
        let claims = match head.alg.family() {
            AlgorithmFamily::Hmac => {
                let key = inner
                    .hmac_key
                    .as_ref()
                    .ok_or(AuthError::DisallowedAlgorithm)?;
                inner.rules.verify(token, head.alg, key)?
            }
            _ => {
                self.verify_with_jwks(token, head.alg, head.kid.as_deref())
                    .await?
            }
        };
        if verify::is_id_token(&claims, inner.sign_in_client_id.as_deref()) {
            return Err(AuthError::IdToken);
        }
        let names = ClaimNames {
            roles: &inner.roles_claim,
            customer_ids: &inner.customer_ids_claim,
            email: &inner.email_claim,
        };
        viewer_from_claims(&claims, &names)
    }

    async fn verify_with_jwks(
        &self,
        token: &str,
        alg: Algorithm,
        kid: Option<&str>,
    ) -> Result<serde_json::Map<String, serde_json::Value>, AuthError> {
        let store = self
            .inner
            .jwks
            .as_ref()
            .ok_or(AuthError::DisallowedAlgorithm)?;
        let (generation, keys) = store.snapshot();
        match keys.find(kid, alg) {
            Lookup::Found(entry) => return self.inner.rules.verify(token, alg, &entry.key),
            Lookup::WrongType => return Err(AuthError::DisallowedAlgorithm),
            Lookup::Unknown => {}
        }
        // Key rotation: the provider may have published a key after our last fetch.
        match store.refresh_for_unknown_kid(generation).await {
            RefreshOutcome::Refreshed => {}
            RefreshOutcome::RateLimited => return Err(AuthError::UnknownKey),
            RefreshOutcome::Failed => return Err(AuthError::JwksUnavailable),
        }
        let (_, keys) = store.snapshot();
        match keys.find(kid, alg) {
            Lookup::Found(entry) => self.inner.rules.verify(token, alg, &entry.key),
            Lookup::WrongType => Err(AuthError::DisallowedAlgorithm),
            Lookup::Unknown => Err(AuthError::UnknownKey),
        }
    }
}
