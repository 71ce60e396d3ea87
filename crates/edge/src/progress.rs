//! How a connection's requests are getting on, shared by the connection's task and its
//! response bodies: how many requests are being served (a connection serving none is idle), and
//! since when each response has been waiting for the client to take more of it (a response that
//! waits longer than the write timeout closes the connection).
//!
//! A response body is handed to hyper in pieces of at most [`PIECE`] bytes. hyper asks for the
//! next piece only once the previous ones have left, or nearly (HTTP/1.1: its write buffer has
//! room again; HTTP/2: the client's flow-control window took them), so "asked for a piece and
//! not yet asked for the next" is exactly "waiting for the client". A client that reads slowly
//! but steadily keeps asking; one that stopped reading, or keeps its HTTP/2 window shut, does
//! not. Splitting copies nothing (`Bytes::split_to`), and the bytes on the wire are the same.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use tokio::sync::watch;
use tokio::time::Instant;

/// Largest piece of a response body handed to hyper at once: HTTP/2's default frame size, and
/// the granularity at which a slow reader's progress is seen.
pub(crate) const PIECE: usize = 16 * 1024;

/// One connection's requests in flight and the responses waiting for the client.
#[derive(Debug)]
pub(crate) struct Progress {
    busy: watch::Sender<usize>,
    /// Responses waiting for the client, by body id, with the time they started waiting.
    waiting: Mutex<HashMap<u64, Instant>>,
    next_id: AtomicU64,
}

impl Progress {
    /// A connection's tracker, and the receiver that sees its busy count change.
    pub(crate) fn new() -> (Arc<Self>, watch::Receiver<usize>) {
        let (busy, activity) = watch::channel(0);
        let progress = Arc::new(Self {
            busy,
            waiting: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
        });
        (progress, activity)
    }

    /// Counts a request as being served until the returned guard is dropped.
    pub(crate) fn enter(self: &Arc<Self>) -> Busy {
        self.busy.send_modify(|n| *n += 1);
        Busy {
            progress: self.clone(),
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            waiting: false,
        }
    }

    /// Since when the longest-waiting response has waited for the client, if any does.
    pub(crate) fn oldest_wait(&self) -> Option<Instant> {
        self.waits().values().min().copied()
    }

    fn waits(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Instant>> {
        // A panic while holding the lock cannot leave the map half-written.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A request being served; its response, while hyper writes it, says whether it waits for
/// the client.
#[derive(Debug)]
pub(crate) struct Busy {
    progress: Arc<Progress>,
    id: u64,
    waiting: bool,
}

impl Busy {
    fn wait_for_client(&mut self) {
        self.progress.waits().insert(self.id, Instant::now());
        self.waiting = true;
    }

    fn stop_waiting(&mut self) {
        if self.waiting {
            self.progress.waits().remove(&self.id);
            self.waiting = false;
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.stop_waiting();
        self.progress.busy.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// A response body that keeps its request counted as busy until hyper is done with it, hands
/// its data over in pieces, and says while it waits for the client.
pub(crate) struct Guarded {
    body: Body,
    /// The rest of a frame larger than a piece.
    rest: Bytes,
    /// Whether a frame has been handed over: from then on the end is reported only when
    /// hyper asks for more, so that it comes back after the last piece has left.
    started: bool,
    busy: Busy,
}

impl Guarded {
    pub(crate) fn new(body: Body, busy: Busy) -> Self {
        Self {
            body,
            rest: Bytes::new(),
            started: false,
            busy,
        }
    }

    fn hand_over(&mut self, mut data: Bytes) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if data.len() > PIECE {
            self.rest = data.split_off(PIECE);
        }
        self.started = true;
        self.busy.wait_for_client();
        Poll::Ready(Some(Ok(Frame::data(data))))
    }
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        // hyper is back for more: whatever it took has left.
        this.busy.stop_waiting();
        if !this.rest.is_empty() {
            let rest = std::mem::take(&mut this.rest);
            return this.hand_over(rest);
        }
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) => this.hand_over(data),
                Err(trailers) => {
                    this.started = true;
                    Poll::Ready(Some(Ok(trailers)))
                }
            },
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        // Only a body that was empty from the start ends before hyper asks (so an empty
        // answer is still sent without a body, as before).
        !self.started && self.rest.is_empty() && self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let inner = self.body.size_hint();
        let rest = self.rest.len() as u64;
        let mut hint = SizeHint::new();
        hint.set_lower(inner.lower() + rest);
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper + rest);
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn a_large_frame_is_handed_over_in_pieces_and_waits_while_held() {
        let (progress, activity) = Progress::new();
        let data = Bytes::from(vec![7u8; 2 * PIECE + 5]);
        let mut body = Guarded::new(Body::from(data.clone()), progress.enter());
        assert_eq!(*activity.borrow(), 1);
        assert_eq!(
            http_body::Body::size_hint(&body).exact(),
            Some(data.len() as u64)
        );
        let mut lengths = Vec::new();
        let mut joined = Vec::new();
        while let Some(frame) = body.frame().await {
            let piece = frame.unwrap().into_data().unwrap();
            assert!(
                progress.oldest_wait().is_some(),
                "a piece handed over waits"
            );
            lengths.push(piece.len());
            joined.extend_from_slice(&piece);
        }
        assert_eq!(lengths, [PIECE, PIECE, 5]);
        assert_eq!(joined, data);
        assert!(
            progress.oldest_wait().is_none(),
            "asked again: no longer waiting"
        );
        drop(body);
        assert_eq!(*activity.borrow(), 0);
    }

    #[test]
    fn only_a_body_empty_from_the_start_ends_at_once() {
        let (progress, _activity) = Progress::new();
        assert!(http_body::Body::is_end_stream(&Guarded::new(
            Body::empty(),
            progress.enter()
        )));
        assert!(!http_body::Body::is_end_stream(&Guarded::new(
            Body::from("x"),
            progress.enter()
        )));
    }
}
