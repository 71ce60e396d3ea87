//! What to ask the version subgraph for: the union of the usage fields a request selected,
//! rendered as the selection sets of one `_entities` query.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Every field of the subgraph's `UsagePing`, as the gateway's `UsagePing` mirrors it.
pub const PING_FIELDS: [&str; 21] = [
    "recordedAt",
    "receivedAt",
    "uuid",
    "verification",
    "hostname",
    "version",
    "edition",
    "installationType",
    "activeUserCount",
    "historicalMaxUsers",
    "licenseId",
    "verifiedLicenseId",
    "licenseMd5",
    "licenseSha256",
    "licenseUserCount",
    "licensePlan",
    "licenseTrial",
    "licenseStartsAt",
    "licenseExpiresAt",
    "licenseSubscriptionId",
    "counts",
];

/// Ping fields always fetched: the gateway's `UsagePing` declares them non-null.
const ALWAYS: [&str; 4] = ["recordedAt", "receivedAt", "uuid", "hostname"];

/// A set of `UsagePing` fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PingFields(BTreeSet<&'static str>);

impl PingFields {
    /// Adds a field by name; names that are not ping fields (`__typename`) are ignored.
    pub fn add(&mut self, name: &str) {
        if let Some(known) = PING_FIELDS.iter().find(|f| **f == name) {
            self.0.insert(known);
        }
    }

    /// Adds every field of `other`.
    pub fn merge(&mut self, other: &PingFields) {
        self.0.extend(other.0.iter().copied());
    }

    fn render(&self, out: &mut String) {
        out.push_str(" {");
        for field in ALWAYS
            .iter()
            .chain(self.0.iter().filter(|f| !ALWAYS.contains(f)))
        {
            out.push(' ');
            out.push_str(field);
        }
        out.push_str(" }");
    }
}

/// The usage fields wanted of `Hostname` entities.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostnameSelection {
    /// `lastUsagePingAt`.
    pub last_usage_ping_at: bool,
    /// `latestUsagePing { ... }`.
    pub latest: Option<PingFields>,
    /// `usagePings(last: N) { ... }`, by N; fetched under the alias `usagePings_N`.
    pub history: BTreeMap<u32, PingFields>,
    /// `installations { ... latestUsagePing { ... } }`.
    pub installations: Option<PingFields>,
}

/// The usage fields wanted of `License` entities.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LicenseSelection {
    /// `reportingHosts { hostname firstUsagePingAt lastUsagePingAt current latestUsagePing { ... } }`.
    pub reporting_hosts: Option<PingFields>,
}

/// Everything one request wants of the version subgraph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageSelection {
    pub hostname: HostnameSelection,
    pub license: LicenseSelection,
    /// `InstallationUuid { hosts { ... } }`: the hosts whose pings carried a uuid (a lookup),
    /// each with the `Hostname` fields above. Only asked for when a lookup wants it, so a
    /// version service that predates the type still answers every other call.
    pub installation_hosts: bool,
}

/// The alias under which `usagePings(last: n)` is fetched.
pub fn history_alias(last: u32) -> String {
    format!("usagePings_{last}")
}

fn merge_option(into: &mut Option<PingFields>, other: &Option<PingFields>) {
    if let Some(other) = other {
        into.get_or_insert_with(PingFields::default).merge(other);
    }
}

impl UsageSelection {
    /// Adds what `other` wants.
    pub fn merge(&mut self, other: &UsageSelection) {
        self.hostname.last_usage_ping_at |= other.hostname.last_usage_ping_at;
        merge_option(&mut self.hostname.latest, &other.hostname.latest);
        merge_option(
            &mut self.hostname.installations,
            &other.hostname.installations,
        );
        for (last, fields) in &other.hostname.history {
            self.hostname
                .history
                .entry(*last)
                .or_default()
                .merge(fields);
        }
        merge_option(
            &mut self.license.reporting_hosts,
            &other.license.reporting_hosts,
        );
        self.installation_hosts |= other.installation_hosts;
    }

    /// Whether any `Hostname` usage field is wanted.
    pub fn wants_hostnames(&self) -> bool {
        self.hostname != HostnameSelection::default()
    }

    /// Whether any `License` usage field is wanted.
    pub fn wants_licenses(&self) -> bool {
        self.license != LicenseSelection::default()
    }

    /// The `_entities` query for this selection.
    pub fn render_query(&self) -> String {
        let mut hostname = String::from(" name");
        if self.hostname.last_usage_ping_at {
            hostname.push_str(" lastUsagePingAt");
        }
        if let Some(fields) = &self.hostname.latest {
            hostname.push_str(" latestUsagePing");
            fields.render(&mut hostname);
        }
        for (last, fields) in &self.hostname.history {
            let _ = write!(
                hostname,
                " {}: usagePings(last: {last})",
                history_alias(*last)
            );
            fields.render(&mut hostname);
        }
        if let Some(fields) = &self.hostname.installations {
            hostname.push_str(
                " installations { uuid holdsName verified firstUsagePingAt lastUsagePingAt \
                 latestUsagePing",
            );
            fields.render(&mut hostname);
            hostname.push_str(" }");
        }
        let mut license = String::from(" id");
        if let Some(fields) = &self.license.reporting_hosts {
            license.push_str(
                " reportingHosts { hostname firstUsagePingAt lastUsagePingAt current latestUsagePing",
            );
            fields.render(&mut license);
            license.push_str(" }");
        }
        let installation = if self.installation_hosts {
            format!(" ... on InstallationUuid {{ uuid hosts {{{hostname} }} }}")
        } else {
            String::new()
        };
        format!(
            "query($representations: [_Any!]!) {{ _entities(representations: $representations) {{ \
             __typename ... on Hostname {{{hostname} }} ... on License {{{license} }}{installation} }} }}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_union_with_aliases_for_each_history_length() {
        let mut a = UsageSelection::default();
        a.hostname.last_usage_ping_at = true;
        let mut latest = PingFields::default();
        latest.add("version");
        latest.add("__typename");
        a.hostname.latest = Some(latest);
        let mut b = UsageSelection::default();
        b.hostname.history.insert(5, PingFields::default());
        b.license.reporting_hosts = Some(PingFields::default());
        a.merge(&b);
        let query = a.render_query();
        assert!(
            query.contains(
                "lastUsagePingAt latestUsagePing { recordedAt receivedAt uuid hostname version }"
            ),
            "{query}"
        );
        assert!(
            query.contains("usagePings_5: usagePings(last: 5)"),
            "{query}"
        );
        assert!(
            query.contains(
                "reportingHosts { hostname firstUsagePingAt lastUsagePingAt current latestUsagePing"
            ),
            "{query}"
        );
        assert!(!query.contains("__typename }"), "{query}");
        assert!(!query.contains("InstallationUuid"), "{query}");
        a.merge(&UsageSelection {
            installation_hosts: true,
            ..UsageSelection::default()
        });
        let query = a.render_query();
        assert!(
            query.contains(
                "... on InstallationUuid { uuid hosts { name lastUsagePingAt latestUsagePing"
            ),
            "{query}"
        );
    }
}
