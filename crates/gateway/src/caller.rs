//! What a caller sees today: the one place a request's [`View`] is made from its viewer, for
//! `/graphql` and the exports alike (so "today" is fixed once per request, and scope and
//! masking come from the same rule everywhere: `licenses::View`).

use auth::Viewer;
use chrono::Utc;
use licenses::View;

/// The view of `viewer` for a request starting now.
pub(crate) fn view(viewer: &Viewer) -> View {
    View::for_viewer(viewer, Utc::now().date_naive())
}
