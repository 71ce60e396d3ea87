//! How both services' pools check their connections.

use std::time::Duration;

use sea_orm::ConnectOptions;

/// A pooled connection idle at least this long is pinged before it is handed out.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

/// Pings a pooled connection before use only when it sat idle for [`PING_AFTER_IDLE`], long
/// enough for the server, a proxy or a firewall to have dropped it. SQLx's default pings on
/// every acquire: one more round trip, and one more wake-up of the database's backend process,
/// for every statement (measured on the license database: see BENCHMARKS.md, "Gateway CPU per
/// request"). A connection that breaks while in use still fails its statement and is replaced.
pub fn ping_only_after_idle(options: &mut ConnectOptions) -> &mut ConnectOptions {
    options.test_before_acquire_if_idle_for(PING_AFTER_IDLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_connections_are_not_pinged() {
        let mut options = ConnectOptions::new("postgres://localhost/x");
        ping_only_after_idle(&mut options);
        assert!(!options.get_test_before_acquire());
        assert_eq!(
            options.get_test_before_acquire_if_idle_for(),
            Some(PING_AFTER_IDLE)
        );
    }
}
