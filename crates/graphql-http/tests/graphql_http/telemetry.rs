//! Each operation's span as OpenTelemetry's GraphQL conventions have it (the names and
//! attributes `tracing-opentelemetry` exports), the schema fields the observer hears of, and
//! the cache hints of the answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
use axum::body::Body;
use axum::http::{Request, header};
use graphql_http::{Caching, Executed, FieldCoordinate, LimitsConfig, Observer, Runtime};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

struct Query;

#[Object]
impl Query {
    /// Greets `name`.
    async fn greeting(&self, name: String) -> String {
        format!("hello {name}")
    }

    /// A number.
    async fn answer(&self) -> i32 {
        42
    }
}

/// The fields of each span named `graphql`, as recorded by the end, with the thread that
/// opened it.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<(ThreadId, SpanFields)>>>);

/// A span's fields by name.
type SpanFields = HashMap<String, String>;

/// The recording layer, installed once as the process's global subscriber and before any test
/// of this binary makes a request. A subscriber set per test (`set_default`) is not enough:
/// tracing caches each call site's interest process-wide, and a test running at the same time
/// without a subscriber can leave the `graphql` span switched off for everyone.
fn recorder() -> &'static Spans {
    static RECORDER: OnceLock<Spans> = OnceLock::new();
    RECORDER.get_or_init(|| {
        let spans = Spans::default();
        let subscriber = tracing_subscriber::registry().with(spans.clone());
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in this test binary");
        spans
    })
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

/// Where a span's fields are kept while it lives.
struct Kept(usize);

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Spans {
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attributes.metadata().name() != "graphql" {
            return;
        }
        let mut fields = HashMap::new();
        attributes.record(&mut Fields(&mut fields));
        let mut spans = self.0.lock().unwrap();
        spans.push((std::thread::current().id(), fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Kept(spans.len() - 1));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let Some(Kept(index)) = span.extensions().get::<Kept>().map(|k| Kept(k.0)) else {
            return;
        };
        values.record(&mut Fields(&mut self.0.lock().unwrap()[index].1));
    }
}

/// One operation as the observer heard of it: its name, whether it is registered, and the
/// fields it selected (`Type.field`).
type HeardOperation = (Option<String>, bool, Vec<String>);

/// What the observer heard.
#[derive(Default)]
struct Heard {
    schema: Mutex<Vec<FieldCoordinate>>,
    operations: Mutex<Vec<HeardOperation>>,
}

impl Observer for Heard {
    fn schema_fields(&self, fields: &[FieldCoordinate]) {
        *self.schema.lock().unwrap() = fields.to_vec();
    }

    fn executed(&self, operation: &Executed<'_>) {
        let schema = self.schema.lock().unwrap();
        let fields = operation
            .fields
            .iter()
            .map(|id| format!("{}.{}", schema[*id].type_name, schema[*id].field))
            .collect();
        self.operations.lock().unwrap().push((
            operation.name.map(str::to_owned),
            operation.registered,
            fields,
        ));
    }
}

type TestRuntime = Runtime<Query, EmptyMutation, EmptySubscription>;

fn runtime(heard: Arc<Heard>, caching: &Caching) -> TestRuntime {
    recorder();
    Runtime::new(
        Schema::build(Query, EmptyMutation, EmptySubscription),
        LimitsConfig::default(),
        "test.limits",
        "test service",
        heard,
    )
    .unwrap()
    .with_caching(caching)
}

async fn post(runtime: &TestRuntime, body: serde_json::Value) -> axum::response::Response {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    runtime
        .serve(
            request,
            Box::new(|_| Ok(Box::new(|request: async_graphql::Request| request))),
        )
        .await
}

/// Runs `requests` against a fresh runtime on this thread (a current-thread runtime keeps
/// every span on it); returns this thread's spans and what the observer heard.
async fn traced(bodies: Vec<serde_json::Value>) -> (Vec<HashMap<String, String>>, Arc<Heard>) {
    let heard = Arc::new(Heard::default());
    let runtime = runtime(heard.clone(), &Caching::default());
    for body in bodies {
        post(&runtime, body).await;
    }
    let this_thread = std::thread::current().id();
    let recorded = recorder()
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(thread, _)| *thread == this_thread)
        .map(|(_, fields)| fields.clone())
        .collect();
    (recorded, heard)
}

#[tokio::test(flavor = "current_thread")]
async fn each_operation_has_a_span_named_and_described_by_the_conventions() {
    let (spans, heard) = traced(vec![
        serde_json::json!({
            "query": "query Greet($n: String!) { greeting(name: $n) a: greeting(name: \"jane.doe@example.com\") }",
            "variables": {"n": "Riley"}
        }),
        serde_json::json!({"query": "{ answer nope }"}),
        serde_json::json!({"query": "{ answer"}),
    ])
    .await;
    assert_eq!(spans.len(), 3, "{spans:?}");

    let ok = &spans[0];
    assert_eq!(ok["otel.name"], "query");
    assert_eq!(ok["otel.kind"], "server");
    assert_eq!(ok["graphql.operation.type"], "query");
    assert_eq!(ok["graphql.operation.name"], "Greet");
    assert_eq!(
        ok["graphql.document"],
        "query Greet($n: String!) { greeting(name: $n) a: greeting(name: ?) }"
    );
    assert!(!ok.contains_key("otel.status_code"), "{ok:?}");

    // Refused by validation: typed and named, and failed with its code.
    let invalid = &spans[1];
    assert_eq!(invalid["otel.name"], "query");
    assert_eq!(invalid["otel.status_code"], "error");
    assert_eq!(invalid["error.type"], "GRAPHQL_VALIDATION_FAILED");

    // Refused before its type was known.
    let unparsed = &spans[2];
    assert_eq!(unparsed["otel.name"], "GraphQL Operation");
    assert!(!unparsed.contains_key("graphql.operation.type"));
    assert_eq!(unparsed["error.type"], "GRAPHQL_PARSE_FAILED");

    // The fields it selected, each once, only for the operation that ran.
    let operations = heard.operations.lock().unwrap();
    assert_eq!(operations[0].0.as_deref(), Some("Greet"));
    assert_eq!(operations[0].2, ["Query.greeting"]);
    assert!(operations[1].2.is_empty() && operations[2].2.is_empty());
}

#[tokio::test]
async fn only_persisted_operations_are_registered() {
    let heard = Arc::new(Heard::default());
    let runtime = runtime(heard.clone(), &Caching::default());
    let query = "query Answer { answer }";
    let hash = {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(query))
    };
    let persisted = serde_json::json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    post(&runtime, serde_json::json!({ "query": query })).await;
    post(
        &runtime,
        serde_json::json!({ "query": query, "extensions": persisted }),
    )
    .await;
    post(&runtime, serde_json::json!({ "extensions": persisted })).await;
    let registered: Vec<bool> = heard
        .operations
        .lock()
        .unwrap()
        .iter()
        .map(|(_, registered, _)| *registered)
        .collect();
    assert_eq!(registered, [false, true, true]);
}

#[tokio::test]
async fn answers_are_private_and_only_a_public_schema_is_shared() {
    let hints = |response: &axum::response::Response| {
        let headers = response.headers();
        (
            headers[header::CACHE_CONTROL].to_str().unwrap().to_owned(),
            headers
                .get_all(header::VARY)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
    let schema_only =
        serde_json::json!({"query": "{ __schema { queryType { name } } __typename }"});
    let data = serde_json::json!({"query": "{ answer }"});
    let private = runtime(Arc::new(Heard::default()), &Caching::default());
    for body in [&schema_only, &data] {
        let response = post(&private, body.clone()).await;
        assert_eq!(
            hints(&response),
            ("private, no-store".into(), "accept, authorization".into())
        );
    }
    let public = runtime(
        Arc::new(Heard::default()),
        &Caching {
            credentials: vec![header::AUTHORIZATION, header::COOKIE],
            public_schema: Some(std::time::Duration::from_secs(60)),
        },
    );
    let response = post(&public, schema_only.clone()).await;
    assert_eq!(
        hints(&response),
        ("public, max-age=60".into(), "accept".into())
    );
    let response = post(&public, data).await;
    assert_eq!(
        hints(&response),
        (
            "private, no-store".into(),
            "accept, authorization, cookie".into()
        )
    );
    // A refusal is private too (here 415).
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("{ __typename }"))
        .unwrap();
    let response = public
        .serve(
            request,
            Box::new(|_| Ok(Box::new(|request: async_graphql::Request| request))),
        )
        .await;
    assert_eq!(response.status(), 415);
    assert_eq!(hints(&response).0, "private, no-store");
}
