//! One attempt: a signed `POST` of the event's body to the endpoint, bounded in time (the
//! whole attempt, DNS to last byte), in what is read of the answer, and in where it may go
//! (the address policy; no redirects, no proxy from the environment).

use std::sync::Arc;
use std::time::Duration;

use crate::address::{AddressPolicy, CheckedResolver, Refused};
use crate::signature::Signed;

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer: delivered.
    Delivered { status: u16 },
    /// Another answer (3xx included: redirects are not followed).
    Refused { status: u16, excerpt: String },
    /// No answer in time.
    TimedOut,
    /// No answer: the connection failed (refused, reset, TLS, DNS).
    Unreachable(String),
    /// The URL or an address of its host is not allowed any more.
    AddressRefused(String),
    /// Not sent: the endpoint's secret cannot be read with the configured key.
    SecretUnusable(String),
}

impl Outcome {
    /// A fixed word for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Delivered { .. } => "delivered",
            Outcome::Refused { .. } => "http_error",
            Outcome::TimedOut => "timeout",
            Outcome::Unreachable(_) => "unreachable",
            Outcome::AddressRefused(_) => "address_refused",
            Outcome::SecretUnusable(_) => "secret_unusable",
        }
    }

    /// The HTTP status, when an answer came.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Delivered { status } | Outcome::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// What went wrong, as `webhookDeliveries` shows it; `None` when delivered.
    pub fn error(&self, timeout: Duration) -> Option<String> {
        match self {
            Outcome::Delivered { .. } => None,
            Outcome::Refused { status, excerpt } if excerpt.is_empty() => {
                Some(format!("the endpoint answered HTTP {status}"))
            }
            Outcome::Refused { status, excerpt } => {
                Some(format!("the endpoint answered HTTP {status}: {excerpt}"))
            }
            Outcome::TimedOut => Some(format!("no answer within {} ms", timeout.as_millis())),
            Outcome::Unreachable(error) => Some(format!("could not reach the endpoint: {error}")),
            Outcome::AddressRefused(error) => Some(format!("refused: {error}")),
            Outcome::SecretUnusable(error) => Some(error.clone()),
        }
    }
}

/// Characters of a refusing answer's body kept for `lastError`.
const EXCERPT_CHARS: usize = 200;

/// Sends attempts. One per gateway: its connections and TLS sessions are reused.
#[derive(Clone, Debug)]
pub struct Sender {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    timeout: Duration,
    max_response_bytes: usize,
}

impl Sender {
    /// A sender bounded by `timeout` and `max_response_bytes`, going only where `policy`
    /// allows.
    pub fn new(
        policy: AddressPolicy,
        timeout: Duration,
        max_response_bytes: usize,
    ) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .user_agent(concat!("licensedot-webhooks/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would resolve the host itself, past the checks.
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver::new(policy.clone())))
            .timeout(timeout)
            .build()?;
        Ok(Self {
            client,
            policy,
            timeout,
            max_response_bytes,
        })
    }

    /// The attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// POSTs `body` to `url` with the signed headers.
    pub async fn send(&self, url: &str, signed: &Signed, body: &str) -> Outcome {
        let url = match self.policy.check_url(url) {
            Ok(url) => url,
            Err(Refused(reason)) => return Outcome::AddressRefused(reason),
        };
        let request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &signed.id)
            .header("webhook-timestamp", signed.timestamp.to_string())
            .header("webhook-signature", &signed.signature)
            .body(body.to_owned());
        let work = async {
            let mut response = request.send().await?;
            let status = response.status().as_u16();
            let mut read = Vec::new();
            while read.len() < self.max_response_bytes {
                match response.chunk().await? {
                    Some(chunk) => read.extend_from_slice(&chunk),
                    None => break,
                }
            }
            read.truncate(self.max_response_bytes);
            Ok::<_, reqwest::Error>((status, read))
        };
        // The client's timeout covers the whole attempt; this one makes sure a body that
        // keeps trickling in is abandoned at the same moment.
        match tokio::time::timeout(self.timeout, work).await {
            Err(_) => Outcome::TimedOut,
            Ok(Err(error)) => classify(&error),
            Ok(Ok((status, _))) if (200..300).contains(&status) => Outcome::Delivered { status },
            Ok(Ok((status, body))) => Outcome::Refused {
                status,
                excerpt: excerpt(&body),
            },
        }
    }
}

/// The start of a body, as printable text on one line.
fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EXCERPT_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A failed request's outcome: a refusal of our own resolver, a timeout, or unreachable,
/// described by its innermost cause (`Connection refused`, a TLS error). Never reqwest's own
/// message, which names the URL: a URL may carry a receiver's token.
fn classify(error: &reqwest::Error) -> Outcome {
    if error.is_timeout() {
        return Outcome::TimedOut;
    }
    let mut innermost = None;
    let mut source = std::error::Error::source(error);
    while let Some(current) = source {
        if let Some(refused) = current.downcast_ref::<Refused>() {
            return Outcome::AddressRefused(refused.0.clone());
        }
        innermost = Some(current.to_string());
        source = current.source();
    }
    let what = if error.is_connect() {
        "the connection failed"
    } else if error.is_body() || error.is_decode() {
        "the answer could not be read"
    } else {
        "the request failed"
    };
    Outcome::Unreachable(
        innermost.map_or_else(|| what.to_owned(), |cause| format!("{what}: {cause}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_single_lines() {
        assert_eq!(excerpt(b"  oops\r\nbroken \x07 "), "oops  broken");
        assert_eq!(excerpt(&[b'x'; 1000]).len(), EXCERPT_CHARS);
    }

    #[tokio::test]
    async fn a_url_the_policy_refuses_is_never_requested() {
        let policy = AddressPolicy::new(&[], false).unwrap_or_else(|h| panic!("{h}"));
        let sender =
            Sender::new(policy, Duration::from_secs(1), 1024).unwrap_or_else(|e| panic!("{e}"));
        let signed = crate::signature::sign("msg_1", 1, "{}", &[]);
        let outcome = sender.send("http://127.0.0.1:9/in", &signed, "{}").await;
        assert!(matches!(outcome, Outcome::AddressRefused(_)), "{outcome:?}");
        // A name that resolves to loopback is refused by the resolver, before connecting.
        let outcome = sender.send("https://localhost:9/in", &signed, "{}").await;
        assert!(matches!(outcome, Outcome::AddressRefused(_)), "{outcome:?}");
    }

    #[tokio::test]
    async fn a_failed_connection_is_described_without_the_url() {
        let policy = AddressPolicy::new(&[], true).unwrap_or_else(|h| panic!("{h}"));
        let sender =
            Sender::new(policy, Duration::from_secs(2), 1024).unwrap_or_else(|e| panic!("{e}"));
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("{e}"));
        let url = format!("http://127.0.0.1:{port}/in?token=s3cret");
        let signed = crate::signature::sign("msg_1", 1, "{}", &[]);
        let outcome = sender.send(&url, &signed, "{}").await;
        let Outcome::Unreachable(error) = &outcome else {
            panic!("{outcome:?}");
        };
        assert!(error.starts_with("the connection failed"), "{error}");
        assert!(
            !error.contains("s3cret") && !error.contains("/in"),
            "{error}"
        );
    }
}
