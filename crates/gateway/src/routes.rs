//! The gateway's routes, assembled in one place: each handler lives in the module of its
//! concern (`endpoint`, `export`, `ops`, `pages`, `sso`).

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use error_catalogue::Refusal;

use crate::state::AppState;
use crate::{authn, endpoint, export, ops, pages, sso};

/// The gateway's router: the seam tests drive, in process or on port 0.
pub fn app(state: AppState) -> Router {
    let cors = state.config.cors.clone();
    let server = state.config.limits.server.clone();
    let router = Router::new()
        .route(
            "/graphql",
            get(endpoint::get)
                .post(endpoint::post)
                .layer(from_fn_with_state(state.clone(), authn::require))
                .layer(from_fn_with_state(
                    state.clone(),
                    endpoint::private_unless_said,
                )),
        )
        .merge(
            Router::new()
                .route("/health", get(ops::health))
                .route("/ready", get(ops::ready))
                .route("/metrics", get(ops::metrics))
                .layer(axum::middleware::from_fn(ops::no_store)),
        )
        .merge(pages::routes())
        .merge(export::routes())
        .merge(sso::routes(state.sso.clone()))
        .fallback(Refusal::not_found)
        .method_not_allowed_fallback(Refusal::method_not_allowed)
        .with_state(state);
    ops::layers(router, &cors, &server)
}
