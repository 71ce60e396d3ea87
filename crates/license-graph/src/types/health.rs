//! Server health: what is wrong with the servers a license is attached to or reported by, as
//! flags computed from the usage data the license's own fields already load.

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use crate::directives::{authenticated, cost, list_size};
use crate::weights;

/// Days without a usage ping after which a server is `STALE` (pings are weekly).
pub const STALE_AFTER_DAYS: i64 = 30;

/// Minor versions in a GitLab major (x.0 to x.11), to count minors across majors.
const MINORS_PER_MAJOR: u64 = 12;

/// One thing wrong with a server of a license.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerHealth {
    /// No usage ping for more than 30 days, or never one from a server attached to the license.
    Stale,
    /// An attached server whose newest ping proves (by digest) another license than this one.
    ReportsOtherLicense,
    /// Its version is more minor versions behind the newest version among this license's
    /// servers than the gateway allows (`version_lag_minor`, default 3; 12 minors a major).
    VersionBehind,
    /// The license runs on more servers (their newest verified ping carries it) than it is
    /// attached to; set on each of those servers.
    OverReported,
}

/// A server attached to or reporting a license, with what is wrong with it.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(directive = authenticated::apply())]
pub struct ServerHealthEntry {
    /// The server's name (normalised).
    pub name: String,
    /// Whether the server is attached to the license in the license database.
    pub attached: bool,
    /// What is wrong with the server, in the order of the enum; empty when nothing is.
    #[graphql(
        directive = cost::apply(weights::LEAF_WEIGHT),
        directive = list_size::apply(
            weights::ESTIMATE.assumed_size(),
            weights::ESTIMATE.slicing_arguments(),
            weights::ESTIMATE.sized_fields(),
            weights::ESTIMATE.require_one_slicing_argument()
        )
    )]
    pub health: Vec<ServerHealth>,
}

/// What the health of one server is computed from.
#[derive(Clone, Debug, Default)]
pub struct ServerFacts {
    pub name: String,
    pub attached: bool,
    /// Its newest usage ping (for a server only reporting: its newest carrying the license).
    pub last_ping_at: Option<DateTime<Utc>>,
    /// The version its newest ping reports.
    pub version: Option<String>,
    /// The license its newest ping proves, when verified.
    pub verified_license_id: Option<i64>,
    /// Whether its newest verified ping carries this license.
    pub runs_license: bool,
}

/// A GitLab version (`17.3.2-ee`) as a count of minor versions (`17 * 12 + 3`); `None` when it
/// does not start with `major.minor`.
fn minor_index(version: &str) -> Option<u64> {
    let mut parts = version.split('.');
    let major: u64 = parts.next()?.trim().parse().ok()?;
    let minor: u64 = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    major.checked_mul(MINORS_PER_MAJOR)?.checked_add(minor)
}

/// The health of each server of license `license_id`, in the order given.
pub fn assess(
    license_id: i64,
    servers: &[ServerFacts],
    today: NaiveDate,
    version_lag_minor: u32,
) -> Vec<ServerHealthEntry> {
    let newest = servers
        .iter()
        .filter_map(|s| s.version.as_deref().and_then(minor_index))
        .max();
    let attached = servers.iter().filter(|s| s.attached).count();
    let running = servers.iter().filter(|s| s.runs_license).count();
    let over_reported = running > attached;
    servers
        .iter()
        .map(|server| {
            let mut health = Vec::new();
            let stale = match server.last_ping_at {
                Some(at) => (today - at.date_naive()).num_days() > STALE_AFTER_DAYS,
                None => server.attached,
            };
            if stale {
                health.push(ServerHealth::Stale);
            }
            if server.attached
                && server
                    .verified_license_id
                    .is_some_and(|id| id != license_id)
            {
                health.push(ServerHealth::ReportsOtherLicense);
            }
            let behind = server
                .version
                .as_deref()
                .and_then(minor_index)
                .zip(newest)
                .is_some_and(|(own, newest)| newest - own > u64::from(version_lag_minor));
            if behind {
                health.push(ServerHealth::VersionBehind);
            }
            if over_reported && server.runs_license {
                health.push(ServerHealth::OverReported);
            }
            ServerHealthEntry {
                name: server.name.clone(),
                attached: server.attached,
                health,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_minor_versions_across_majors() {
        assert_eq!(minor_index("17.3.2-ee"), Some(17 * 12 + 3));
        assert_eq!(minor_index("16.11.0"), Some(16 * 12 + 11));
        assert_eq!(minor_index("17"), None);
        assert_eq!(minor_index("x.1"), None);
    }

    #[test]
    fn flags_each_condition_and_nothing_else() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default();
        let recent = today.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        let old = recent - chrono::Duration::days(31);
        let servers = [
            ServerFacts {
                name: "fine".into(),
                attached: true,
                last_ping_at: Some(recent),
                version: Some("17.4.0".into()),
                verified_license_id: Some(1),
                runs_license: true,
            },
            ServerFacts {
                name: "never".into(),
                attached: true,
                ..ServerFacts::default()
            },
            ServerFacts {
                name: "old".into(),
                attached: true,
                last_ping_at: Some(old),
                version: Some("16.11.0".into()),
                verified_license_id: Some(2),
                runs_license: false,
            },
            ServerFacts {
                name: "extra".into(),
                attached: false,
                last_ping_at: Some(recent),
                version: Some("17.1.0".into()),
                verified_license_id: Some(1),
                runs_license: true,
            },
        ];
        let health: Vec<_> = assess(1, &servers, today, 3)
            .into_iter()
            .map(|e| e.health)
            .collect();
        use ServerHealth::*;
        assert_eq!(
            health,
            vec![
                vec![],
                vec![Stale],
                vec![Stale, ReportsOtherLicense, VersionBehind],
                vec![],
            ]
        );
        // Three attached, two running it: not over-reported; one running it unattached is.
        let health: Vec<_> = assess(1, &servers[3..], today, 3)
            .into_iter()
            .map(|e| e.health)
            .collect();
        assert_eq!(health, vec![vec![OverReported]]);
    }
}
