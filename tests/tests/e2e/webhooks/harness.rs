//! Gateways with webhooks on over one test database, a clock the test moves, a receiver, and
//! the checks every test shares (GraphQL calls, the reference verifier).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Days, Utc};
use e2e_tests::{Backend, TEST_JWT_SECRET, TestDb, mint};
use entity::{contact, customer, license};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde_json::{Value, json};

use super::receiver::{Received, Receiver};

/// The key that encrypts the secrets at rest (TEST-ONLY; 32 bytes in base64).
pub const KEY: &str = "dGVzdC1vbmx5LXdlYmhvb2sta2V5LTMyLWJ5dGVzISE=";

/// The webhooks' clock: the system's, moved forward by whole days when the test says so.
#[derive(Default)]
pub struct ShiftedClock(AtomicI64);

impl ShiftedClock {
    /// From now on the clock reads `days` after the system's.
    pub fn shift_days(&self, days: i64) {
        self.0.store(days * 86_400, Ordering::SeqCst);
    }
}

impl webhooks::Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.0.load(Ordering::SeqCst))
    }
}

/// A gateway configuration over `url` with webhooks on, quick for tests: polls every 50 ms,
/// ticks every second, retries after 100 to 400 ms, gives an attempt 1 s; loopback allowed.
pub fn config(url: &str) -> gateway::Config {
    let mut config = gateway::Config {
        database_url: url.to_owned(),
        ..gateway::Config::default()
    };
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.auth.hs256_secret = Some(TEST_JWT_SECRET.to_owned());
    let webhooks = &mut config.webhooks;
    webhooks.enabled = true;
    webhooks.secret_key = Some(KEY.to_owned());
    webhooks.development_allow_loopback = true;
    webhooks.poll_interval_ms = 50;
    webhooks.schedule_interval_secs = 1;
    webhooks.retry_initial_ms = 100;
    webhooks.retry_max_ms = 400;
    webhooks.attempt_timeout_ms = 1_000;
    config
}

/// One gateway process (a replica).
pub struct Node {
    pub address: SocketAddr,
    pub state: gateway::AppState,
    client: reqwest::Client,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Held while the node serves: dropping it starts a graceful shutdown.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Node {
    /// Starts a gateway with `config`, its webhooks going by `clock`.
    pub async fn start(config: gateway::Config, clock: Arc<ShiftedClock>) -> Node {
        let state = gateway::AppState::start_with_clock(config, clock)
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(gateway::serve(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        Node {
            address,
            state,
            client: reqwest::Client::new(),
            task,
            _stop: stop,
        }
    }

    /// A token for `role` (customer-scoped to customer 1 for `customer`).
    pub fn token(&self, role: &str) -> String {
        let customers: &[i64] = if role == "customer" { &[1] } else { &[] };
        mint(&self.state.config.auth, &[role], customers)
    }

    /// POSTs a GraphQL operation with `token`; the JSON answer.
    pub async fn graphql(&self, token: &str, query: &str, variables: Value) -> Value {
        self.client
            .post(format!("http://{}/graphql", self.address))
            .bearer_auth(token)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// As an admin, expecting no error; the `data`.
    pub async fn admin(&self, query: &str, variables: Value) -> Value {
        let answer = self.graphql(&self.token("admin"), query, variables).await;
        assert!(answer["errors"].is_null(), "{answer:#}");
        answer["data"].clone()
    }

    /// `GET /metrics`.
    pub async fn metrics(&self) -> String {
        self.client
            .get(format!("http://{}/metrics", self.address))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The process dies: the server and the webhooks' tasks are dropped mid-flight.
    pub fn crash(self) {
        self.task.abort();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A database, a clock, a receiver and one gateway over them.
pub struct Site {
    pub db: TestDb,
    pub clock: Arc<ShiftedClock>,
    pub receiver: Receiver,
    pub node: Node,
}

impl Site {
    /// A fresh database on `backend` and a gateway with [`config`] as `adjust` changes it.
    pub async fn start(backend: Backend, adjust: impl FnOnce(&mut gateway::Config)) -> Site {
        let db = TestDb::fresh(backend, "webhooks").await;
        let clock = Arc::new(ShiftedClock::default());
        let mut config = config(&db.url);
        adjust(&mut config);
        let node = Node::start(config, clock.clone()).await;
        Site {
            db,
            clock,
            receiver: Receiver::start().await,
            node,
        }
    }

    /// The license database.
    pub fn database(&self) -> &DatabaseConnection {
        &self.node.state.db
    }

    /// Subscribes the receiver to `events` (GraphQL enum names); its id and secret.
    pub async fn subscribe(&self, events: &[&str]) -> (String, String) {
        self.subscribe_url(&self.receiver.url(), events).await
    }

    /// Subscribes `url` to `events`; its id and secret.
    pub async fn subscribe_url(&self, url: &str, events: &[&str]) -> (String, String) {
        let input = json!({"input": {"url": url, "events": events, "description": "e2e"}});
        let data = self.node.admin(CREATE, input).await;
        let created = &data["createWebhookEndpoint"];
        (
            created["endpoint"]["id"].as_str().unwrap().to_owned(),
            created["secret"].as_str().unwrap().to_owned(),
        )
    }

    /// The endpoint's deliveries, oldest first.
    pub async fn deliveries(&self, endpoint: &str) -> Vec<Value> {
        let data = self.node.admin(DELIVERIES, json!({"id": endpoint})).await;
        let mut nodes = data["webhookDeliveries"]["nodes"]
            .as_array()
            .unwrap()
            .clone();
        nodes.reverse();
        nodes
    }
}

pub const CREATE: &str = r#"mutation Create($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    secret
    endpoint { id url events description status disabledReason createdBy }
  }
}"#;

pub const DELIVERIES: &str = r#"query Deliveries($id: ID!) {
  webhookDeliveries(endpointId: $id, first: 100) {
    totalCount
    nodes { id eventId eventType status attempts lastStatusCode lastError nextAttemptAt completedAt payload }
  }
}"#;

pub const CHANGE: &str = r#"mutation Change($input: ChangeLicenseContactInput!) {
  changeLicenseContact(input: $input) { license { id version } auditEvent { id } }
}"#;

/// A license of a new customer expiring `days` after today (by the system clock); its id.
pub async fn license_expiring_in(db: &DatabaseConnection, days: u64) -> i64 {
    let now = Utc::now();
    let customer = customer::ActiveModel {
        name: Set("Initech".into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let contact = contact::ActiveModel {
        customer_id: Set(customer.id),
        name: Set("Peter Gibbons".into()),
        email: Set(format!("peter{}@initech.example", customer.id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let today = now.date_naive();
    license::ActiveModel {
        customer_id: Set(customer.id),
        contact_id: Set(contact.id),
        licensee_name: Set(contact.name.clone()),
        licensee_email: Set(contact.email.clone()),
        licensee_company: Set("Initech".into()),
        plan: Set(entity::Plan::Ultimate),
        users_count: Set(120),
        previous_users_count: Set(None),
        trueup_quantity: Set(0),
        trial: Set(false),
        issued_at: Set(now),
        starts_at: Set(today),
        expires_at: Set(today.checked_add_days(Days::new(days))),
        license_type: Set(entity::LicenseType::OnlineCloud),
        zuora_subscription_id: Set(None),
        zuora_subscription_name: Set(None),
        license_md5: Set(format!("md5-{}", customer.id)),
        license_sha256: Set(format!("sha256-{}", customer.id)),
        notes: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

/// Sends license `id` (at `version`) to a new contact numbered `n`, as `support`.
pub async fn change_contact(node: &Node, id: i64, version: i64, n: usize) -> Value {
    let input = json!({"input": {
        "licenseId": id.to_string(),
        "contact": {"name": format!("Contact {n}"), "email": format!("contact{n}@initech.example")},
        "reason": format!("handover {n}"),
        "expectedVersion": version,
    }});
    let answer = node.graphql(&node.token("support"), CHANGE, input).await;
    assert!(answer["errors"].is_null(), "{answer:#}");
    answer
}

/// Verifies each (secret, request) with the `standardwebhooks` npm package; one result each:
/// `{"ok": true, "type": ...}` or `{"ok": false, "error": ...}`.
pub fn verify(deliveries: &[(&str, &Received)]) -> Vec<Value> {
    let dir = e2e_tests::npm_tool("webhooks", "standardwebhooks");
    let input: Vec<Value> = deliveries
        .iter()
        .map(|(secret, r)| {
            json!({"secret": secret, "id": r.id, "timestamp": r.timestamp, "signature": r.signature, "body": r.body})
        })
        .collect();
    let mut child = std::process::Command::new("node")
        .arg(dir.join("verify.mjs"))
        .current_dir(&dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("node (Node.js 20+) is needed to verify signatures: {e}"));
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        serde_json::to_string(&input).unwrap().as_bytes(),
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "verify.mjs failed");
    serde_json::from_slice::<Vec<Value>>(&output.stdout).unwrap()
}

/// Asserts every request verifies with `secret` (and that a tampered body does not: the
/// verifier is not a formality).
pub fn assert_signed(secret: &str, received: &[Received]) {
    let pairs: Vec<(&str, &Received)> = received.iter().map(|r| (secret, r)).collect();
    for (result, request) in verify(&pairs).iter().zip(received) {
        assert_eq!(result["ok"], true, "{result} for {}", request.body);
        assert_eq!(result["type"], request.event_type());
    }
    if let Some(first) = received.first() {
        let mut tampered = first.clone();
        tampered.body = tampered.body.replacen('{', "{ ", 1);
        assert_eq!(verify(&[(secret, &tampered)])[0]["ok"], false);
    }
}

/// Waits `duration` (long enough for the scheduler to tick and the worker to poll, when the
/// test checks that nothing happens).
pub async fn idle(duration: Duration) {
    tokio::time::sleep(duration).await;
}
