//! The license graph's schema: its SDL as committed, its descriptions, the directives it
//! carries for composing gateways (checked against the roles and the resolvers' rules) and the
//! costs they give.
// Helpers and tests alike: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod costs;
mod directives;
mod sdl;

/// Runs `future` to completion on a runtime of its own.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}
