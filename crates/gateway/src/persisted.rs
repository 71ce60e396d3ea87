//! Persisted queries: automatic persisted queries (the Apollo APQ protocol, through
//! async-graphql's LRU-cached extension) and the safelist mode, where only the operations of a
//! manifest file run.

use std::collections::HashMap;
use std::path::PathBuf;

use async_graphql::Request;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::limits::{coded, codes};

/// `[gateway.limits.persisted_queries]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PersistedQueriesConfig {
    /// Accept Apollo automatic persisted queries (`extensions.persistedQuery.sha256Hash`).
    pub apq: bool,
    /// How many APQ documents are kept (least recently used are dropped).
    pub apq_cache_size: usize,
    /// A manifest of the only operations allowed to run (safelist mode); APQ registration is
    /// off in that mode. Either a JSON object `{"<id>": "<query>", ...}` or an Apollo
    /// persisted-query manifest (`{"operations": [{"id": ..., "body": ...}]}`).
    pub safelist: Option<PathBuf>,
}

impl Default for PersistedQueriesConfig {
    fn default() -> Self {
        Self {
            apq: true,
            apq_cache_size: 1000,
            safelist: None,
        }
    }
}

impl PersistedQueriesConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.apq && self.apq_cache_size == 0 {
            return Err(
                "[gateway.limits.persisted_queries] apq_cache_size must be at least 1 (or set apq = false)"
                    .to_owned(),
            );
        }
        Ok(())
    }

    /// Whether async-graphql's APQ extension is installed.
    pub fn apq_enabled(&self) -> bool {
        self.apq && self.safelist.is_none()
    }
}

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
    #[serde(rename = "sha256Hash")]
    sha256_hash: String,
}

fn sha256(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// The persisted-query rules of one gateway.
#[derive(Debug, Default)]
pub struct PersistedQueries {
    apq: bool,
    /// Safelist mode: the allowed documents by id, and by the SHA-256 of their text.
    safelist: Option<HashMap<String, String>>,
}

impl PersistedQueries {
    /// Loads the safelist manifest, when one is configured.
    pub fn load(config: &PersistedQueriesConfig) -> Result<Self, String> {
        let Some(path) = &config.safelist else {
            return Ok(Self {
                apq: config.apq,
                safelist: None,
            });
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "cannot read the persisted-query safelist {}: {e}",
                path.display()
            )
        })?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
            format!(
                "the persisted-query safelist {} is not a manifest (an object of id to query, \
                 or {{\"operations\": [{{\"id\", \"body\"}}]}}): {e}",
                path.display()
            )
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
            apq: false,
            safelist: Some(allowed),
        })
    }

    /// Whether only registered operations run.
    pub fn safelist_mode(&self) -> bool {
        self.safelist.is_some()
    }

    /// Applies the safelist to `request`, or leaves it to the APQ extension.
    pub fn resolve(&self, mut request: Request) -> Result<Request, async_graphql::ServerError> {
        let Some(allowed) = &self.safelist else {
            if !self.apq && request.extensions.contains_key("persistedQuery") {
                return Err(coded("PersistedQueryNotSupported", codes::PQ_NOT_SUPPORTED));
            }
            return Ok(request);
        };
        let persisted = match request.extensions.remove("persistedQuery") {
            Some(value) => Some(
                async_graphql::from_value::<PersistedQueryExtension>(value)
                    .map_err(|_| {
                        coded(
                            "extensions.persistedQuery must be {\"version\": 1, \"sha256Hash\": \"...\"}",
                            codes::BAD_REQUEST,
                        )
                    })?
                    .sha256_hash,
            ),
            None => None,
        };
        match persisted {
            Some(id) if request.query.is_empty() => match allowed.get(&id) {
                Some(body) => {
                    request.query = body.clone();
                    Ok(request)
                }
                None => Err(coded(
                    "this gateway runs registered operations only, and none has this id",
                    codes::PQ_NOT_IN_LIST,
                )),
            },
            _ if allowed.contains_key(&sha256(&request.query)) => Ok(request),
            _ => Err(coded(
                "this gateway runs registered operations only: send the id of a registered \
                 operation in extensions.persistedQuery.sha256Hash",
                codes::NOT_IN_SAFELIST,
            )),
        }
    }
}
