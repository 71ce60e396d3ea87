//! Persisted queries: automatic persisted queries (the Apollo APQ protocol, query texts in an
//! LRU cache of `apq_cache_size` entries) and the safelist mode, where only the operations of
//! a manifest file run. Every refusal is raised here with its code.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::Mutex;

use async_graphql::{Request, ServerError};
use error_catalogue::Code;
use error_catalogue::graphql::coded;
use lru::LruCache;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::{PersistedQueriesConfig, SafelistError};

#[derive(Deserialize)]
#[serde(untagged)]
enum Manifest {
    Apollo { operations: Vec<ManifestOperation> },
    Map(HashMap<String, String>),
}

#[derive(Deserialize)]
struct ManifestOperation {
    id: String,
    body: String,
}

#[derive(Deserialize)]
struct PersistedQueryExtension {
    version: i32,
    #[serde(rename = "sha256Hash")]
    sha256_hash: String,
}

/// The hash of `extensions.persistedQuery` (version 1 only).
fn persisted_hash(value: async_graphql::Value) -> Result<String, ServerError> {
    let malformed = || {
        coded(
            "extensions.persistedQuery must be {\"version\": 1, \"sha256Hash\": \"...\"}",
            Code::BadRequest,
        )
    };
    let extension =
        async_graphql::from_value::<PersistedQueryExtension>(value).map_err(|_| malformed())?;
    if extension.version != 1 {
        return Err(malformed());
    }
    Ok(extension.sha256_hash)
}

fn sha256(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// The persisted-query rules of one gateway.
#[derive(Debug, Default)]
pub struct PersistedQueries {
    /// APQ: registered query texts by their SHA-256, least recently used dropped; `None` when
    /// APQ is off.
    apq: Option<Mutex<LruCache<String, String>>>,
    /// Safelist mode: the allowed documents by id, and by the SHA-256 of their text.
    safelist: Option<HashMap<String, String>>,
}

impl PersistedQueries {
    /// Loads the safelist manifest, when one is configured. The settings were validated
    /// (`PersistedQueriesConfig::validate`); an APQ cache of 0 entries keeps one.
    pub fn load(config: &PersistedQueriesConfig) -> Result<Self, SafelistError> {
        let Some(path) = &config.safelist else {
            let apq = config
                .apq
                .then(|| NonZeroUsize::new(config.apq_cache_size).unwrap_or(NonZeroUsize::MIN));
            return Ok(Self {
                apq: apq.map(|size| Mutex::new(LruCache::new(size))),
                safelist: None,
            });
        };
        let text = std::fs::read_to_string(path).map_err(|source| SafelistError::Unreadable {
            path: path.clone(),
            source,
        })?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|source| SafelistError::Malformed {
                path: path.clone(),
                source,
            })?;
        let entries: Vec<(String, String)> = match manifest {
            Manifest::Apollo { operations } => {
                operations.into_iter().map(|op| (op.id, op.body)).collect()
            }
            Manifest::Map(map) => map.into_iter().collect(),
        };
        let mut allowed = HashMap::new();
        for (id, body) in entries {
            allowed.insert(sha256(&body), body.clone());
            allowed.insert(id, body);
        }
        tracing::info!(
            path = %path.display(),
            entries = allowed.len(),
            "safelist mode: only registered operations run"
        );
        Ok(Self {
            apq: None,
            safelist: Some(allowed),
        })
    }

    /// Applies the safelist or APQ to `request`: the query text it runs and whether it is a
    /// registered operation (safelist mode, or sent by or with its APQ hash), or the refusal.
    pub fn resolve(&self, mut request: Request) -> Result<(Request, bool), ServerError> {
        let persisted = request
            .extensions
            .remove("persistedQuery")
            .map(persisted_hash)
            .transpose()?;
        if let Some(allowed) = &self.safelist {
            return match persisted {
                Some(id) if request.query.is_empty() => match allowed.get(&id) {
                    Some(body) => {
                        request.query = body.clone();
                        Ok((request, true))
                    }
                    None => Err(coded(
                        "this gateway runs registered operations only, and none has this id",
                        Code::PersistedQueryNotInList,
                    )),
                },
                _ if allowed.contains_key(&sha256(&request.query)) => Ok((request, true)),
                _ => Err(coded(
                    "this gateway runs registered operations only: send the id of a registered \
                     operation in extensions.persistedQuery.sha256Hash",
                    Code::QueryNotInSafelist,
                )),
            };
        }
        let Some(hash) = persisted else {
            return Ok((request, false));
        };
        let Some(cache) = &self.apq else {
            // The message is the one Apollo clients look for to stop sending hashes.
            return Err(coded(
                "PersistedQueryNotSupported",
                Code::PersistedQueryNotSupported,
            ));
        };
        let mut cache = cache.lock().map_err(|_| {
            coded(
                "the persisted-query cache is unusable",
                Code::InternalServerError,
            )
        })?;
        if request.query.is_empty() {
            // The message is the one Apollo clients look for to send the query with its hash.
            let query = cache
                .get(&hash)
                .ok_or_else(|| coded("PersistedQueryNotFound", Code::PersistedQueryNotFound))?;
            request.query = query.clone();
        } else if sha256(&request.query) != hash {
            return Err(coded(
                "provided sha does not match query",
                Code::PersistedQueryHashMismatch,
            ));
        } else {
            cache.put(hash, request.query.clone());
        }
        Ok((request, true))
    }
}
