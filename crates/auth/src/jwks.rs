//! The public keys of the SSO issuers: loading a JWKS (file or URL), holding an immutable
//! snapshot, and refreshing it.
//!
//! Requests read the snapshot through an `Arc` cloned under a short-lived `RwLock` read guard,
//! never held across an `.await`, so verification never waits for a refresh. Refreshes
//! (background or on an unknown `kid`) are serialised by an async mutex: at most one fetch at a
//! time, and fetches triggered by unknown key ids are rate-limited.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

/// Where the key set comes from.
#[derive(Debug, Clone)]
pub(crate) enum JwksSource {
    File(PathBuf),
    Url {
        url: String,
        client: reqwest::Client,
    },
}

impl JwksSource {
    /// A name for messages and logs (a path or URL from our own config, never a secret).
    pub(crate) fn name(&self) -> String {
        match self {
            JwksSource::File(path) => path.display().to_string(),
            JwksSource::Url { url, .. } => url.clone(),
        }
    }

    async fn fetch(&self) -> Result<KeySet, String> {
        let bytes = match self {
            JwksSource::File(path) => tokio::fs::read(path).await.map_err(|e| e.to_string())?,
            JwksSource::Url { url, client } => {
                let response = client
                    .get(url)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .send()
                    .await
                    .map_err(|e| e.without_url().to_string())?;
                if !response.status().is_success() {
                    return Err(format!("HTTP status {}", response.status()));
                }
                response
                    .bytes()
                    .await
                    .map_err(|e| e.without_url().to_string())?
                    .to_vec()
            }
        };
        KeySet::parse(&bytes)
    }
}

/// One usable verification key.
pub(crate) struct KeyEntry {
    pub kid: Option<String>,
    /// The JWK's `alg`, when it pins one: a key published for RS256 is not used for PS256.
    pub alg: Option<Algorithm>,
    pub family: AlgorithmFamily,
    pub key: DecodingKey,
}

impl KeyEntry {
    /// Whether this key may verify a token signed with `alg`: same family, and the key's own
    /// `alg` if it names one. This is what stops a token from choosing how a key is used.
    pub(crate) fn fits(&self, alg: Algorithm) -> bool {
        self.family == alg.family() && self.alg.is_none_or(|pinned| pinned == alg)
    }
}

/// An immutable snapshot of the key set.
#[derive(Default)]
pub(crate) struct KeySet {
    pub keys: Vec<KeyEntry>,
}

impl KeySet {
    /// Parses a JWKS with jsonwebtoken's own types. Keys we cannot or must not use are skipped
    /// (with a warning) instead of failing the whole set: a provider may publish encryption
    /// keys or new key types next to the signing keys we need.
    pub(crate) fn parse(bytes: &[u8]) -> Result<KeySet, String> {
        let set: JwkSet =
            serde_json::from_slice(bytes).map_err(|e| format!("not a JWKS document: {e}"))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let kid = jwk.common.key_id.clone();
            if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
                continue;
            }
            let family = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => AlgorithmFamily::Rsa,
                AlgorithmParameters::EllipticCurve(_) => AlgorithmFamily::Ec,
                AlgorithmParameters::OctetKeyPair(_) => AlgorithmFamily::Ed,
                // Symmetric keys have no place in a public key set; accepting one would let
                // whoever serves the JWKS mint HMAC tokens. Unknown key types: nothing to do.
                _ => {
                    tracing::warn!(kid = ?kid, "skipping a JWKS key of an unsupported type");
                    continue;
                }
            };
            let alg = match jwk.common.key_algorithm {
                None => None,
                Some(key_alg) => match key_alg.to_string().parse::<Algorithm>() {
                    Ok(alg) if alg.family() == family => Some(alg),
                    _ => {
                        tracing::warn!(kid = ?kid, "skipping a JWKS key whose alg does not fit its type");
                        continue;
                    }
                },
            };
            match DecodingKey::from_jwk(jwk) {
                Ok(key) => keys.push(KeyEntry {
                    kid,
                    alg,
                    family,
                    key,
                }),
                Err(e) => tracing::warn!(kid = ?kid, error = %e, "skipping an invalid JWKS key"),
            }
        }
        Ok(KeySet { keys })
    }

    /// Keys for a token: by `kid` when the token names one; otherwise the only key that fits
    /// the algorithm (ambiguity is refused rather than guessed).
    pub(crate) fn find(&self, kid: Option<&str>, alg: Algorithm) -> Lookup<'_> {
        match kid {
            Some(kid) => {
                // Providers may publish an RSA and an EC key under one kid during a migration.
                let mut named = self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid));
                let mut seen = false;
                for entry in named.by_ref() {
                    if entry.fits(alg) {
                        return Lookup::Found(entry);
                    }
                    seen = true;
                }
                if seen {
                    Lookup::WrongType
                } else {
                    Lookup::Unknown
                }
            }
            None => {
                let mut fitting = self.keys.iter().filter(|k| k.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(entry), None) => Lookup::Found(entry),
                    _ => Lookup::Unknown,
                }
            }
        }
    }
}

pub(crate) enum Lookup<'a> {
    Found(&'a KeyEntry),
    /// The `kid` exists but is a key of another type or pinned to another algorithm.
    WrongType,
    Unknown,
}

/// What a refresh triggered by an unknown `kid` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshOutcome {
    /// A new snapshot is in place (ours, or one another request fetched while we waited).
    Refreshed,
    /// Too soon after the previous fetch: nothing fetched.
    RateLimited,
    /// The fetch failed; the old snapshot stays.
    Failed,
}

struct RefreshState {
    /// The last fetch triggered by an unknown `kid`. Scheduled fetches do not count: a key
    /// rotated in just after a periodic refresh must still be picked up on first use.
    last_on_demand: Option<Instant>,
}

/// The live key set of one source.
pub(crate) struct JwksStore {
    source: JwksSource,
    current: RwLock<(u64, Arc<KeySet>)>,
    refresh: tokio::sync::Mutex<RefreshState>,
    min_interval: Duration,
}

impl JwksStore {
    pub(crate) fn new(source: JwksSource, initial: KeySet, min_interval: Duration) -> Self {
        JwksStore {
            source,
            current: RwLock::new((0, Arc::new(initial))),
            refresh: tokio::sync::Mutex::new(RefreshState {
                last_on_demand: None,
            }),
            min_interval,
        }
    }

    pub(crate) fn source(&self) -> &JwksSource {
        &self.source
    }

    /// The current snapshot and its generation (bumped on every successful refresh).
    pub(crate) fn snapshot(&self) -> (u64, Arc<KeySet>) {
        // A poisoned lock only means a writer panicked between two plain assignments; the
        // value inside is still a complete snapshot.
        let guard = self.current.read().unwrap_or_else(|e| e.into_inner());
        (guard.0, Arc::clone(&guard.1))
    }

    fn install(&self, keys: KeySet) {
        let mut guard = self.current.write().unwrap_or_else(|e| e.into_inner());
        let generation = guard.0.wrapping_add(1);
        *guard = (generation, Arc::new(keys));
    }

    /// Fetches now, whatever the rate limit (start-up and the periodic task).
    pub(crate) async fn refresh_now(&self) -> Result<(), String> {
        let _one_at_a_time = self.refresh.lock().await;
        let keys = self.source.fetch().await?;
        self.install(keys);
        Ok(())
    }

    /// Refresh for a token whose key was not in snapshot `seen_generation`. Waits for a refresh
    /// already running instead of starting a second one, and fetches at most once per
    /// `min_interval`.
    pub(crate) async fn refresh_for_unknown_kid(&self, seen_generation: u64) -> RefreshOutcome {
        let mut state = self.refresh.lock().await;
        if self.snapshot().0 != seen_generation {
            return RefreshOutcome::Refreshed;
        }
        if state
            .last_on_demand
            .is_some_and(|at| at.elapsed() < self.min_interval)
        {
            return RefreshOutcome::RateLimited;
        }
        state.last_on_demand = Some(Instant::now());
        match self.source.fetch().await {
            Ok(keys) => {
                self.install(keys);
                RefreshOutcome::Refreshed
            }
            Err(reason) => {
                tracing::warn!(source = %self.source.name(), %reason, "JWKS refresh failed");
                RefreshOutcome::Failed
            }
        }
    }
}

/// Periodic refresh. Holds only a `Weak` reference so that it ends by itself once the
/// authenticator is dropped (it is also aborted then, see `AbortOnDrop`).
pub(crate) fn spawn_refresh_task(
    store: &Arc<JwksStore>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    let weak = Arc::downgrade(store);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let Some(store) = weak.upgrade() else { break };
            if let Err(reason) = store.refresh_now().await {
                // Keep serving with the previous keys: a provider hiccup must not log out
                // everybody; tokens with new keys will retry through the unknown-kid path.
                tracing::warn!(source = %store.source().name(), %reason, "periodic JWKS refresh failed; keeping the previous keys");
            }
        }
    })
}
