//! The HTTP client the OpenID Connect library talks to the provider with, bounded: a timeout
//! on every call, redirects never followed (a redirect could point the gateway at any host:
//! SSRF), and answers read only up to `max_response_bytes`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// Why a call to the provider failed (the library wraps it in its own error).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProviderHttpError {
    #[error("the provider could not be reached: {0}")]
    Request(#[from] reqwest::Error),
    #[error("the provider's answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the request to the provider is malformed: {0}")]
    Malformed(String),
}

/// A reqwest client with the bounds above.
#[derive(Clone, Debug)]
pub(crate) struct ProviderHttp {
    client: reqwest::Client,
    max_response_bytes: usize,
}

impl ProviderHttp {
    /// A client whose calls each end within `timeout`.
    pub(crate) fn new(timeout: Duration, max_response_bytes: usize) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the provider's HTTP client: {e}"))?;
        Ok(Self {
            client,
            max_response_bytes,
        })
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, ProviderHttpError> {
        let (parts, body) = request.into_parts();
        let url = reqwest::Url::parse(&parts.uri.to_string())
            .map_err(|e| ProviderHttpError::Malformed(e.to_string()))?;
        let mut response = self
            .client
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await?;
        let mut builder = axum::http::Response::builder().status(response.status());
        if let Some(headers) = builder.headers_mut() {
            headers.extend(response.headers().clone());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if bytes.len() + chunk.len() > self.max_response_bytes {
                return Err(ProviderHttpError::TooLarge(self.max_response_bytes));
            }
            bytes.extend_from_slice(&chunk);
        }
        builder
            .body(bytes)
            .map_err(|e| ProviderHttpError::Malformed(e.to_string()))
    }
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = ProviderHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
