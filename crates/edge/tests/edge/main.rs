//! The edge's tests, one binary: `edge::serve` with `edge::layers` around a small router, on
//! port 0, driven by real clients (hyper's HTTP/2 client with prior knowledge, raw sockets).
// Helpers and tests alike: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod compression;
mod http2;
mod slow_readers;
