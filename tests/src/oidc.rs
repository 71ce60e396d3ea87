//! A real OpenID provider for the sign-in tests: panva's `oidc-provider` (pinned in
//! `tests/oidc/package-lock.json`) run by Node with `tests/oidc/provider.mjs`, on a free port.
//! It ends with the value, also when a test panics: dropping it closes the provider's stdin
//! (the script exits on that) and kills the process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The client the gateway is registered as.
pub const CLIENT_ID: &str = "licensedot";
/// Its secret (TEST-ONLY).
pub const CLIENT_SECRET: &str = "oidc-test-only-client-secret";

/// The kid of the signing key given with [`OidcProvider::start_with_key`].
pub const SIGNING_KEY_ID: &str = "test-signing-key";

/// A running provider.
pub struct OidcProvider {
    /// Its issuer URL, `http://127.0.0.1:<port>`.
    pub issuer: String,
    _process: tokio::process::Child,
}

impl OidcProvider {
    /// Starts the provider for a gateway at `gateway_url` (its redirect and post-logout URIs),
    /// with `accounts`: `{"<login>": {"groups": [...]}}`.
    pub async fn start(gateway_url: &str, accounts: Value) -> OidcProvider {
        Self::start_with_key(gateway_url, accounts, None).await
    }

    /// [`OidcProvider::start`], signing with the RSA key `signing_key_pem` (PEM), published
    /// with kid [`SIGNING_KEY_ID`], so that the test can sign tokens as the provider does.
    pub async fn start_with_key(
        gateway_url: &str,
        accounts: Value,
        signing_key_pem: Option<&str>,
    ) -> OidcProvider {
        let dir = crate::npm_tool("oidc", "oidc-provider");
        let settings = json!({
            "signing_key_pem": signing_key_pem,
            "client": {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [format!("{gateway_url}/auth/callback")],
                "post_logout_redirect_uris": [format!("{gateway_url}/")],
            },
            "accounts": accounts,
        });
        let mut process = tokio::process::Command::new("node")
            .arg("provider.mjs")
            .arg(settings.to_string())
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("node (20.19+) is needed for the OpenID provider: {e}"));
        let stdout = process.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the OpenID provider started in time")
            .unwrap()
            .expect("the OpenID provider printed its issuer");
        // The rest of its output is read (and dropped) until it exits: a closed pipe would
        // end the provider at its next write.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let issuer = serde_json::from_str::<Value>(&line).unwrap()["issuer"]
            .as_str()
            .unwrap()
            .to_owned();
        OidcProvider {
            issuer,
            _process: process,
        }
    }

    /// Configures `config` to sign in with this provider, `okta-sales` → `sales` and
    /// `acme-partners` → `customer:1` (the demo story's Acme Inc).
    pub fn configure(&self, config: &mut gateway::Config, gateway_url: &str) {
        config.public_url = Some(gateway_url.to_owned());
        config.sso.issuer_url = Some(self.issuer.clone());
        config.sso.client_id = CLIENT_ID.to_owned();
        config.sso.client_secret = Some(CLIENT_SECRET.to_owned());
        config.sso.scopes = vec!["email".to_owned(), "groups".to_owned()];
        config.sso.role_mapping = [("okta-sales", "sales"), ("acme-partners", "customer:1")]
            .into_iter()
            .map(|(group, role)| (group.to_owned(), role.to_owned()))
            .collect();
    }
}
