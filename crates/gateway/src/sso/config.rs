//! `[gateway.sessions]` (browser sessions: where they are kept, how long they live) and
//! `[gateway.sso]` (the OpenID provider people sign in with, and how its groups become roles).

use std::collections::BTreeMap;

use auth::Role;
use serde::Deserialize;

/// `[gateway.sessions]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsConfig {
    /// Where sessions, pending logins and sign-in links are kept: `database` (the license
    /// database, table `sessions`) or `redis` (shared by every replica without a database write
    /// per sign-in).
    pub store: StoreKind,
    /// The Redis server when `store = "redis"`, e.g. `redis://127.0.0.1:6379`.
    pub redis_url: Option<String>,
    /// A session unused for this long ends (seconds).
    pub idle_timeout_secs: u64,
    /// A session ends this long after sign-in however much it is used (seconds).
    pub absolute_timeout_secs: u64,
    /// How long a started sign-in (the trip to the provider and back) or a sign-in link may
    /// take before it is refused (seconds).
    pub login_timeout_secs: u64,
    /// Requests to `/auth/...` per minute from one client address (an IPv6 address counts by
    /// its /64), in bursts of as many; 429 beyond. Counted in Redis with `store = "redis"`
    /// (every replica shares the count), else in each process. 0 turns the limit off.
    pub auth_per_address_per_minute: u32,
}

/// Where sessions are kept.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// The license database.
    #[default]
    Database,
    /// Redis (`redis_url`).
    Redis,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            store: StoreKind::Database,
            redis_url: None,
            idle_timeout_secs: 2 * 3600,
            absolute_timeout_secs: 12 * 3600,
            login_timeout_secs: 600,
            auth_per_address_per_minute: 120,
        }
    }
}

impl SessionsConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), SessionsConfigError> {
        if self.store == StoreKind::Redis && self.redis_url.is_none() {
            return Err(SessionsConfigError::RedisUrlMissing);
        }
        if self.idle_timeout_secs == 0 || self.absolute_timeout_secs == 0 {
            return Err(SessionsConfigError::ZeroTimeout);
        }
        if self.login_timeout_secs == 0 {
            return Err(SessionsConfigError::ZeroLoginTimeout);
        }
        Ok(())
    }
}

/// `[gateway.sso]`: sign-in with an OpenID Connect provider. Off while `issuer_url` is unset.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SsoConfig {
    /// The provider's issuer, e.g. `https://acme.okta.com/oauth2/default`; its discovery
    /// document is read from `<issuer_url>/.well-known/openid-configuration` at start.
    pub issuer_url: Option<String>,
    /// The client id registered at the provider.
    pub client_id: String,
    /// The client secret (`LICENSEDOT_GATEWAY__SSO__CLIENT_SECRET`). Never logged.
    pub client_secret: Option<String>,
    /// The secret the login cookie is sealed with (`LICENSEDOT_GATEWAY__SSO__COOKIE_SECRET`, at
    /// least 32 bytes; every replica needs the same). Unset: derived from `client_secret`,
    /// which every replica already shares. Never logged.
    pub cookie_secret: Option<String>,
    /// Scopes asked for besides `openid` (which is always asked for).
    pub scopes: Vec<String>,
    /// The ID-token claim listing the person's groups (or roles): a string array, or a single
    /// string (one group; see `groups_space_separated`), found by exact name, then as a
    /// dotted path.
    pub groups_claim: String,
    /// Whether a groups claim that is a single string lists several groups separated by spaces
    /// (some providers send roles that way). Off by default: the string `"Marketing Admins"` is
    /// one group, never the two groups `marketing` and `admins`.
    pub groups_space_separated: bool,
    /// Group → licensedot role: `admin`, `sales`, `support`, `viewer`, or `customer:<id>` (a
    /// customer-scoped role that sees customer `<id>`; several groups add up).
    pub role_mapping: BTreeMap<String, String>,
    /// Timeout of each call to the provider (discovery, keys, token exchange), in seconds.
    pub timeout_secs: u64,
    /// Largest answer read from the provider, in bytes.
    pub max_response_bytes: usize,
}

impl Default for SsoConfig {
    fn default() -> Self {
        Self {
            issuer_url: None,
            client_id: String::new(),
            client_secret: None,
            cookie_secret: None,
            scopes: vec!["email".to_owned(), "profile".to_owned()],
            groups_claim: "groups".to_owned(),
            groups_space_separated: false,
            role_mapping: BTreeMap::new(),
            timeout_secs: 10,
            max_response_bytes: 1024 * 1024,
        }
    }
}

// Hand-written so that the client secret never reaches a log line through `{:?}`.
impl std::fmt::Debug for SsoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoConfig")
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "cookie_secret",
                &self.cookie_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("scopes", &self.scopes)
            .field("groups_claim", &self.groups_claim)
            .field("groups_space_separated", &self.groups_space_separated)
            .field("role_mapping", &self.role_mapping)
            .field("timeout_secs", &self.timeout_secs)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

/// The shortest `cookie_secret`: a 256-bit key's worth of bytes.
pub const MIN_COOKIE_SECRET_BYTES: usize = 32;

/// A role a group maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MappedRole {
    /// A role that is not customer-scoped.
    Staff(Role),
    /// The `customer` role, scoped to this customer.
    Customer(i64),
}

impl MappedRole {
    /// Parses a `role_mapping` value.
    pub fn parse(value: &str) -> Result<MappedRole, String> {
        if let Some(id) = value.trim().strip_prefix("customer:") {
            return id.trim().parse().map(MappedRole::Customer).map_err(|_| {
                format!("`{value}`: the customer id after `customer:` is not a number")
            });
        }
        match Role::parse(value) {
            Some(Role::Customer) => {
                Err(format!("`{value}`: name the customer, as `customer:<id>`"))
            }
            Some(role) => Ok(MappedRole::Staff(role)),
            None => Err(format!(
                "`{value}` is not admin, sales, support, viewer or customer:<id>"
            )),
        }
    }
}

impl SsoConfig {
    /// Whether sign-in with a provider is configured.
    pub fn enabled(&self) -> bool {
        self.issuer_url.is_some()
    }

    /// The secret the login cookie's key is derived from: `cookie_secret`, else the client
    /// secret (validated: one of them is set when sign-in is enabled).
    pub fn login_cookie_secret(&self) -> &[u8] {
        self.cookie_secret
            .as_deref()
            .or(self.client_secret.as_deref())
            .unwrap_or_default()
            .as_bytes()
    }

    /// Checks what serde cannot; `public_url` is the gateway's (`[gateway] public_url`).
    pub fn validate(&self, public_url: Option<&str>) -> Result<(), SsoConfigError> {
        if !self.enabled() {
            return Ok(());
        }
        if public_url.is_none() {
            return Err(SsoConfigError::PublicUrlMissing);
        }
        if self.client_id.is_empty() {
            return Err(SsoConfigError::ClientIdMissing);
        }
        match (&self.cookie_secret, &self.client_secret) {
            (Some(secret), _) if secret.len() < MIN_COOKIE_SECRET_BYTES => {
                return Err(SsoConfigError::CookieSecretTooShort(secret.len()));
            }
            (None, None) => return Err(SsoConfigError::NoSealingSecret),
            _ => {}
        }
        if self.role_mapping.is_empty() {
            return Err(SsoConfigError::NoRoleMapping);
        }
        for (group, role) in &self.role_mapping {
            MappedRole::parse(role).map_err(|reason| SsoConfigError::Role {
                group: group.clone(),
                reason,
            })?;
        }
        if self.timeout_secs == 0 || self.max_response_bytes == 0 {
            return Err(SsoConfigError::ZeroBound);
        }
        Ok(())
    }
}

/// A `[gateway.sessions]` the gateway cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum SessionsConfigError {
    #[error("[gateway.sessions] store = \"redis\" needs redis_url")]
    RedisUrlMissing,
    #[error("[gateway.sessions] timeouts must be at least 1 second")]
    ZeroTimeout,
    #[error("[gateway.sessions] login_timeout_secs must be positive")]
    ZeroLoginTimeout,
}

/// A `[gateway.sso]` the gateway cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum SsoConfigError {
    #[error(
        "[gateway.sso] needs [gateway] public_url (where browsers reach the gateway; the \
         provider sends them back to <public_url>/auth/callback)"
    )]
    PublicUrlMissing,
    #[error("[gateway.sso] needs client_id")]
    ClientIdMissing,
    #[error(
        "[gateway.sso] cookie_secret is {0} bytes; it needs at least {MIN_COOKIE_SECRET_BYTES}"
    )]
    CookieSecretTooShort(usize),
    #[error(
        "[gateway.sso] needs client_secret or cookie_secret (the login cookie is sealed with a \
         secret every replica shares)"
    )]
    NoSealingSecret,
    #[error("[gateway.sso] role_mapping is empty: nobody could sign in")]
    NoRoleMapping,
    #[error("[gateway.sso] role_mapping for `{group}`: {reason}")]
    Role { group: String, reason: String },
    #[error("[gateway.sso] timeout_secs and max_response_bytes must be positive")]
    ZeroBound,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_roles_name_a_staff_role_or_a_customer() {
        assert_eq!(
            MappedRole::parse("Sales"),
            Ok(MappedRole::Staff(Role::Sales))
        );
        assert_eq!(MappedRole::parse("customer:7"), Ok(MappedRole::Customer(7)));
        assert!(MappedRole::parse("customer").is_err());
        assert!(MappedRole::parse("customer:x").is_err());
        assert!(MappedRole::parse("owner").is_err());
    }

    #[test]
    fn sso_needs_a_public_url_a_client_and_a_valid_mapping() {
        let mut config = SsoConfig {
            issuer_url: Some("https://idp.example".to_owned()),
            client_id: "licensedot".to_owned(),
            client_secret: Some("from the provider".to_owned()),
            ..SsoConfig::default()
        };
        config
            .role_mapping
            .insert("okta-sales".to_owned(), "sales".to_owned());
        let error = config.validate(None).unwrap_err();
        assert!(matches!(error, SsoConfigError::PublicUrlMissing), "{error}");
        assert!(error.to_string().contains("public_url"), "{error}");
        assert!(config.validate(Some("https://x.example")).is_ok());
        config.client_secret = None;
        let error = config.validate(Some("https://x.example")).unwrap_err();
        assert!(error.to_string().contains("cookie_secret"), "{error}");
        config.cookie_secret = Some("too short".to_owned());
        let error = config.validate(Some("https://x.example")).unwrap_err();
        assert!(error.to_string().contains("at least 32"), "{error}");
        config.cookie_secret = Some("x".repeat(32));
        assert!(config.validate(Some("https://x.example")).is_ok());
        config
            .role_mapping
            .insert("partners".to_owned(), "owner".to_owned());
        let error = config.validate(Some("https://x.example")).unwrap_err();
        assert!(error.to_string().contains("partners"), "{error}");
    }
}
