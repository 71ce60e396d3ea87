//! A browser without a screen for the sign-in tests: its own cookie jar, redirects followed by
//! hand so that a test sees (and may alter) each step between the gateway and the OpenID
//! provider.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use serde_json::{Value, json};

use crate::Gateway;

/// One browser.
pub struct Agent {
    pub http: reqwest::Client,
    jar: Arc<Jar>,
}

impl Default for Agent {
    fn default() -> Self {
        Self::new()
    }
}

impl Agent {
    /// A browser with an empty cookie jar.
    pub fn new() -> Agent {
        Self::build(None)
    }

    /// A browser behind a proxy that names it `address` in `X-Forwarded-For` (the gateway
    /// believes it when configured to trust the proxy, here the loopback peer).
    pub fn from_address(address: &str) -> Agent {
        Self::build(Some(address))
    }

    fn build(forwarded_for: Option<&str>) -> Agent {
        let jar = Arc::new(Jar::default());
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(address) = forwarded_for {
            headers.insert("x-forwarded-for", address.parse().unwrap());
        }
        Agent {
            http: reqwest::Client::builder()
                .cookie_provider(Arc::clone(&jar))
                .default_headers(headers)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar,
        }
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    /// The value of the cookie `name` this browser would send to `gateway`.
    pub fn cookie(&self, gateway: &Gateway, name: &str) -> Option<String> {
        let url = reqwest::Url::parse(&gateway.url("/")).unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// Follows redirects from `url` until one leads to `stop` (returned unvisited) or a page
    /// answers (returned with its URL).
    pub async fn follow(&self, mut url: String, stop: &str) -> (String, Option<reqwest::Response>) {
        for _ in 0..10 {
            if url.starts_with(stop) {
                return (url, None);
            }
            let response = self.get(&url).await;
            if !response.status().is_redirection() {
                return (url, Some(response));
            }
            let location = response.headers()["location"].to_str().unwrap();
            url = response.url().join(location).unwrap().to_string();
        }
        panic!("too many redirects");
    }

    /// Starts a sign-in at `gateway`, signs in at the provider as `login` (unless the provider
    /// remembers this agent), and returns the provider's answer: the callback URL with its code
    /// and state, not yet visited.
    pub async fn sign_in_at_provider(&self, gateway: &Gateway, login: &str) -> String {
        self.sign_in_at_provider_with(gateway, login, |url| url)
            .await
    }

    /// [`Agent::sign_in_at_provider`], with the authorization request the gateway sends the
    /// browser to altered by `tamper` on its way to the provider.
    pub async fn sign_in_at_provider_with(
        &self,
        gateway: &Gateway,
        login: &str,
        tamper: impl FnOnce(reqwest::Url) -> reqwest::Url,
    ) -> String {
        let callback = gateway.url("/auth/callback");
        let started = self.get(&gateway.url("/auth/login")).await;
        assert_eq!(started.status(), 303, "{}", started.text().await.unwrap());
        let authorization =
            reqwest::Url::parse(started.headers()["location"].to_str().unwrap()).unwrap();
        let (form_url, page) = self
            .follow(tamper(authorization).to_string(), &callback)
            .await;
        // Signed in at the provider already: it answers at once.
        let Some(page) = page else {
            return form_url;
        };
        let html = page.text().await.unwrap();
        let action = html
            .split("action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no form in {html}"));
        let action = reqwest::Url::parse(&form_url)
            .unwrap()
            .join(action)
            .unwrap();
        let submitted = self
            .http
            .post(action)
            .form(&[("prompt", "login"), ("login", login), ("password", "any")])
            .send()
            .await
            .unwrap();
        assert!(
            submitted.status().is_redirection(),
            "{}",
            submitted.status()
        );
        let next = submitted.headers()["location"].to_str().unwrap();
        let next = submitted.url().join(next).unwrap().to_string();
        let (answer, page) = self.follow(next, &callback).await;
        assert!(
            page.is_none(),
            "the provider answered with a page: {answer}"
        );
        answer
    }

    /// Signs in at `gateway` through the provider as `login`, all the way: the callback must
    /// open a session (303).
    pub async fn sign_in(&self, gateway: &Gateway, login: &str) {
        let answer = self.sign_in_at_provider(gateway, login).await;
        let opened = self.get(&answer).await;
        let status = opened.status();
        assert_eq!(status, 303, "{}", opened.text().await.unwrap());
    }

    /// POSTs a GraphQL query with this browser's session; the JSON body.
    pub async fn query(&self, gateway: &Gateway, query: &str) -> Value {
        self.http
            .post(gateway.url("/graphql"))
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Signs out at `gateway` (`POST /auth/logout`); its JSON answer.
    pub async fn sign_out(&self, gateway: &Gateway) -> Value {
        self.http
            .post(gateway.url("/auth/logout"))
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}
