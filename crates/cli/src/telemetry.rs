//! Logging and trace export, set up in one place.
//!
//! Logs go to stderr (text or JSON). When an OTLP endpoint is configured, spans (the gateway's
//! `request` span with its `request_id`, and everything under it) are also exported as
//! OpenTelemetry traces over OTLP/HTTP with protobuf bodies. Off by default: without an
//! endpoint no exporter, thread or client is created.

use std::time::Duration;

use anyhow::Context;
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::{Deserialize, Serialize};
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// `[log]`: level filter, format and optional OTLP trace export.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter such as `info` or `gateway=debug,info` (`RUST_LOG` wins when set).
    pub level: String,
    /// `text` for people, `json` for log collectors.
    pub format: String,
    /// Base URL of an OTLP/HTTP collector, e.g. `http://127.0.0.1:4318`; traces are posted to
    /// `<endpoint>/v1/traces`. Unset (the default): no trace export, unless the standard
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set.
    pub otlp_endpoint: Option<String>,
    /// The exported `service.name`; by default `OTEL_SERVICE_NAME`, else one per command
    /// (`licensedot-gateway`, `licensedot-version-service`, `licensedot-demo`).
    pub otlp_service_name: Option<String>,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".to_owned(),
            format: "text".to_owned(),
            otlp_endpoint: None,
            otlp_service_name: None,
        }
    }
}

/// How long shutdown waits for the last batch of spans to reach the collector.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// What `init` set up that needs an orderly end: the tracer provider, when exporting. Dropping
/// it (or calling [`Telemetry::shutdown`]) flushes the spans not yet exported.
#[must_use = "dropping the guard at once stops trace export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Builds the exporter and the tracer provider when an endpoint is configured.
    fn new(config: &LogConfig, default_service_name: &str) -> anyhow::Result<Self> {
        let Some(endpoint) = otlp_endpoint(config) else {
            return Ok(Self { provider: None });
        };
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary);
        // `None`: the standard variables are set, and the exporter resolves them itself.
        if let Some(url) = &endpoint {
            exporter = exporter.with_endpoint(url);
        }
        let exporter = exporter
            .build()
            .context("invalid [log] otlp_endpoint (expected e.g. http://127.0.0.1:4318)")?;
        let service_name = config
            .otlp_service_name
            .clone()
            .or_else(|| non_empty_env("OTEL_SERVICE_NAME"))
            .unwrap_or_else(|| default_service_name.to_owned());
        let resource = Resource::builder()
            .with_service_name(service_name)
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        Ok(Self {
            provider: Some(provider),
        })
    }

    /// Whether spans are exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// The tracing layer that turns spans into OpenTelemetry spans, when exporting. The
    /// exporter's own HTTP client and the SDK log through tracing too: their events are kept
    /// out of the traces so that an export never traces itself.
    fn layer<S>(&self) -> Option<impl Layer<S> + Send + Sync + 'static>
    where
        S: Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
    {
        let tracer = self.provider.as_ref()?.tracer("licensedot");
        Some(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(filter_fn(|metadata| {
                    let target = metadata.target();
                    !["opentelemetry", "hyper", "reqwest", "h2", "tonic"]
                        .iter()
                        .any(|internal| target.starts_with(internal))
                })),
        )
    }

    /// Exports the spans still buffered and stops the exporter: call it last, after the server
    /// has finished its in-flight requests. Waits for the collector's answer (at most a few
    /// seconds), on a blocking thread.
    pub async fn shutdown(mut self) {
        let provider = self.provider.take();
        let _ = tokio::task::spawn_blocking(move || stop(provider)).await;
    }
}

impl Drop for Telemetry {
    /// The early-return paths (a start error after `init`) flush here, blocking.
    fn drop(&mut self) {
        stop(self.provider.take());
    }
}

fn stop(provider: Option<SdkTracerProvider>) {
    if let Some(provider) = provider
        && let Err(error) = provider.shutdown_with_timeout(FLUSH_TIMEOUT)
    {
        // The subscriber may be gone by now: stderr is the one sure place.
        eprintln!("licensedot: flushing OpenTelemetry traces failed: {error}");
    }
}

/// `Some(Some(url))`: export to the configured collector; `Some(None)`: export where the
/// standard `OTEL_EXPORTER_OTLP_*` variables say; `None`: no export.
fn otlp_endpoint(config: &LogConfig) -> Option<Option<String>> {
    if let Some(base) = config
        .otlp_endpoint
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        return Some(Some(traces_url(base)));
    }
    (non_empty_env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
        || non_empty_env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some())
    .then_some(None)
}

/// `http://host:4318` → `http://host:4318/v1/traces`, the OTLP/HTTP path for traces.
fn traces_url(base: &str) -> String {
    format!("{}/v1/traces", base.trim().trim_end_matches('/'))
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// The subscriber: an `EnvFilter`, the stderr log layer in the configured format and, when
/// exporting, the OpenTelemetry layer. Built apart from `init` so that tests can use it with
/// `tracing::subscriber::with_default`.
fn subscriber(config: &LogConfig, telemetry: &Telemetry) -> impl Subscriber + Send + Sync {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.level));
    let json = config.format == "json";
    let text = (!json).then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
    // In JSON, each line carries the current span's fields (`span.request_id` for every line
    // written while serving a request, see `gateway::ops::layers`) but not the whole span list.
    let json = json.then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(text)
        .with(json)
        .with(telemetry.layer())
}

/// Installs the global subscriber, with OTLP export when configured (`default_service_name`
/// names this command's traces unless the configuration does). Keep the returned guard until
/// the end of the command: dropping it flushes the traces. Calling `init` twice is harmless
/// (the second subscriber is not installed, and its exporter is shut down at once).
pub fn init(config: &LogConfig, default_service_name: &str) -> anyhow::Result<Telemetry> {
    let mut telemetry = Telemetry::new(config, default_service_name)?;
    if subscriber(config, &telemetry).try_init().is_err() {
        stop(telemetry.provider.take());
    }
    if telemetry.exporting() {
        tracing::info!("exporting traces over OTLP/HTTP (protobuf)");
    }
    Ok(telemetry)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::routing::post;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use prost::Message as _;

    use super::*;

    /// One `POST /v1/traces`: its content type and body.
    type Export = (Option<String>, Bytes);

    /// What the collector received.
    #[derive(Clone, Default)]
    struct Received(Arc<Mutex<Vec<Export>>>);

    async fn collect(
        State(received): State<Received>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        received.0.lock().unwrap().push((content_type, body));
        StatusCode::OK
    }

    /// A tiny OTLP/HTTP collector on a free port; returns its base URL.
    async fn collector(received: Received) -> String {
        let app = Router::new()
            .route("/v1/traces", post(collect))
            .with_state(received);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}/")
    }

    fn string_attribute(
        attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue],
        key: &str,
    ) -> Option<String> {
        attributes.iter().find(|kv| kv.key == key).and_then(|kv| {
            match kv.value.as_ref()?.value.as_ref()? {
                Value::StringValue(value) => Some(value.clone()),
                _ => None,
            }
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spans_are_exported_over_otlp_http_protobuf_and_flushed_on_shutdown() {
        let received = Received::default();
        let config = LogConfig {
            // A trailing slash on the base URL must not give `//v1/traces`.
            otlp_endpoint: Some(collector(received.clone()).await),
            ..LogConfig::default()
        };
        let telemetry = Telemetry::new(&config, "licensedot-test").unwrap();
        assert!(telemetry.exporting());

        tracing::subscriber::with_default(subscriber(&config, &telemetry), || {
            let span = tracing::info_span!("request", request_id = "req-otlp-1", method = "POST");
            let _entered = span.enter();
            tracing::info_span!("child").in_scope(|| tracing::info!("inside the request"));
        });
        // The batch exporter would wait for its timer (5 s); shutdown must send at once.
        telemetry.shutdown().await;

        // Shorter than the batch timer: what arrives came from the flush.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while received.0.lock().unwrap().is_empty() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the collector received nothing within 2 s of the shutdown"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let requests = received.0.lock().unwrap().clone();
        let mut spans = Vec::new();
        for (content_type, body) in &requests {
            assert_eq!(content_type.as_deref(), Some("application/x-protobuf"));
            assert!(!body.is_empty());
            let export = ExportTraceServiceRequest::decode(body.as_ref()).unwrap();
            for resource_spans in export.resource_spans {
                let resource = resource_spans.resource.unwrap();
                assert_eq!(
                    string_attribute(&resource.attributes, "service.name").as_deref(),
                    Some("licensedot-test")
                );
                for scope in resource_spans.scope_spans {
                    spans.extend(scope.spans);
                }
            }
        }
        let request = spans
            .iter()
            .find(|span| span.name == "request")
            .expect("the request span is exported");
        assert_eq!(
            string_attribute(&request.attributes, "request_id").as_deref(),
            Some("req-otlp-1")
        );
        let child = spans
            .iter()
            .find(|span| span.name == "child")
            .expect("the child span is exported");
        assert_eq!(child.trace_id, request.trace_id);
        assert_eq!(child.parent_span_id, request.span_id);
    }

    #[test]
    fn no_endpoint_no_exporter() {
        // The standard variables would turn export on; they are not set where tests run.
        if non_empty_env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
            || non_empty_env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
        {
            return;
        }
        let telemetry = Telemetry::new(&LogConfig::default(), "licensedot-test").unwrap();
        assert!(!telemetry.exporting());
        assert!(telemetry.layer::<tracing_subscriber::Registry>().is_none());
    }

    #[test]
    fn endpoint_is_the_base_url() {
        assert_eq!(
            traces_url("http://127.0.0.1:4318"),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://otel:4318/ "),
            "http://otel:4318/v1/traces"
        );
    }

    #[test]
    fn a_bad_endpoint_is_a_clear_start_error() {
        let config = LogConfig {
            otlp_endpoint: Some("not a url".to_owned()),
            ..LogConfig::default()
        };
        let error = Telemetry::new(&config, "licensedot-test").err().unwrap();
        assert!(format!("{error:#}").contains("otlp_endpoint"), "{error:#}");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's own Jail signature
    fn the_environment_layer_sets_the_endpoint() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("LICENSEDOT_LOG__OTLP_ENDPOINT", "http://127.0.0.1:4318");
            jail.set_env("LICENSEDOT_LOG__OTLP_SERVICE_NAME", "gateway-eu");
            let figment = crate::settings::figment(None).unwrap();
            let config: LogConfig = crate::settings::section(&figment, "log").unwrap();
            assert_eq!(
                config.otlp_endpoint.as_deref(),
                Some("http://127.0.0.1:4318")
            );
            assert_eq!(config.otlp_service_name.as_deref(), Some("gateway-eu"));
            assert_eq!(config.level, "info");
            Ok(())
        });
    }

    #[test]
    fn export_is_off_by_default_in_the_configuration() {
        let figment = figment::Figment::new();
        let config: LogConfig = crate::settings::section(&figment, "log").unwrap();
        assert_eq!(config.otlp_endpoint, None);
    }
}
