//! A webhook receiver for the tests: a real HTTP server on loopback that records every request
//! (its `webhook-*` headers and body) and answers as the test planned: 200 by default, or a
//! status, or after a delay. It can be stopped (its port refuses connections) and started again
//! on the same port.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;

/// What the receiver answers to one request.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// This status at once.
    Status(u16),
    /// 200 after this long (longer than the gateway's attempt timeout: a timeout).
    After(Duration),
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    /// What it was answered (200 also for a request the gateway gave up waiting for).
    pub answered: u16,
    pub at: Instant,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// The event's `type`.
    pub fn event_type(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_owned()
    }
}

#[derive(Default)]
struct Log {
    plan: VecDeque<Answer>,
    received: Vec<Received>,
}

/// A running (or stopped) receiver.
pub struct Receiver {
    pub address: SocketAddr,
    log: Arc<Mutex<Log>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

async fn receive(
    State(log): State<Arc<Mutex<Log>>>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let answer = log
        .lock()
        .unwrap()
        .plan
        .pop_front()
        .unwrap_or(Answer::Status(200));
    let status = match answer {
        Answer::Status(status) => status,
        Answer::After(_) => 200,
    };
    log.lock().unwrap().received.push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
        answered: status,
        at: Instant::now(),
    });
    if let Answer::After(delay) = answer {
        tokio::time::sleep(delay).await;
    }
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    /// A receiver on a free loopback port, answering 200.
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut receiver = Receiver {
            address: listener.local_addr().unwrap(),
            log: Arc::default(),
            stop: None,
        };
        receiver.serve(listener);
        receiver
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(self.log.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // Graceful: the port closes at once, idle keep-alive connections too, so the gateway
        // finds the receiver down rather than a pooled connection still answering.
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        self.stop = Some(stop);
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    /// Answers the next requests as planned, then 200 again.
    pub fn plan(&self, answers: &[Answer]) {
        self.log
            .lock()
            .unwrap()
            .plan
            .extend(answers.iter().copied());
    }

    /// Stops listening: connections to its port are refused.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // The accept loop ends once the task sees the signal.
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(self.address).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the receiver still accepts connections");
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.address).await.unwrap();
        self.serve(listener);
    }

    /// Every request so far, in the order they came.
    pub fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().received.clone()
    }

    /// Waits until `done` holds for the requests so far (at most `within`), then returns them.
    pub async fn wait_for(
        &self,
        within: Duration,
        what: &str,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver did not get {what} within {within:?}: {:#?}",
                received
                    .iter()
                    .map(|r| (r.id.clone(), r.event_type(), r.answered))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
