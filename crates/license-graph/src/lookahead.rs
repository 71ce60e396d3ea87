//! The fields the prefetch and the usage plan look ahead for, each named once with the type
//! it is selected on. A look-ahead for a name the schema does not have finds nothing and fails
//! silently (the loads it should start never happen), so every name lives here and a test
//! checks each against the schema.

use async_graphql::Lookahead;

/// A field of a schema type, as a look-ahead asks for it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field {
    /// The object type the field is selected on.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "read by the schema check below")
    )]
    pub on: &'static str,
    /// The field's name in the schema.
    pub name: &'static str,
}

impl Field {
    /// The look-ahead of this field under `selection` (a selection of `self.on` objects).
    pub fn under<'a>(self, selection: &Lookahead<'a>) -> Lookahead<'a> {
        selection.field(self.name)
    }
}

macro_rules! looked_ahead {
    ($($(#[$doc:meta])* $constant:ident = $on:literal . $name:literal;)*) => {
        $($(#[$doc])* pub(crate) const $constant: Field = Field { on: $on, name: $name };)*
        /// Every field looked ahead for.
        #[cfg(test)]
        pub(crate) const ALL: &[Field] = &[$($constant),*];
    };
}

looked_ahead! {
    CUSTOMER_CONNECTION_NODES = "CustomerConnection"."nodes";
    CUSTOMER_CONNECTION_EDGES = "CustomerConnection"."edges";
    CUSTOMER_EDGE_NODE = "CustomerEdge"."node";
    LICENSE_CONNECTION_NODES = "LicenseConnection"."nodes";
    LICENSE_CONNECTION_EDGES = "LicenseConnection"."edges";
    LICENSE_EDGE_NODE = "LicenseEdge"."node";
    CUSTOMER_CONTACTS = "Customer"."contacts";
    CUSTOMER_LICENSES = "Customer"."licenses";
    CUSTOMER_ACTIVE_LICENSE = "Customer"."activeLicense";
    LICENSE_CONTACT = "License"."contact";
    LICENSE_CUSTOMER = "License"."customer";
    LICENSE_AUDIT_EVENTS = "License"."auditEvents";
    LICENSE_HOSTNAMES = "License"."hostnames";
    LICENSE_REPORTING_HOSTS = "License"."reportingHosts";
    LICENSE_UTILIZATION = "License"."utilization";
    LICENSE_SERVER_HEALTH = "License"."serverHealth";
    HOSTNAME_LICENSES = "Hostname"."licenses";
    HOSTNAME_LATEST_USAGE_PING = "Hostname"."latestUsagePing";
    HOSTNAME_REPORTED_LICENSE = "Hostname"."reportedLicense";
    HOSTNAME_LAST_USAGE_PING_AT = "Hostname"."lastUsagePingAt";
    HOSTNAME_USAGE_PINGS = "Hostname"."usagePings";
    HOSTNAME_INSTALLATIONS = "Hostname"."installations";
    INSTALLATION_LATEST_USAGE_PING = "Installation"."latestUsagePing";
    REPORTING_HOST_LATEST_USAGE_PING = "ReportingHost"."latestUsagePing";
    TRIAL_CONVERSION_LICENSE = "TrialConversion"."license";
    TRIAL_CONVERSION_CONVERTED_TO = "TrialConversion"."convertedTo";
    LOOKUP_MATCHES = "Lookup"."matches";
    LOOKUP_MATCH_LICENSE = "LookupMatch"."license";
    LOOKUP_MATCH_SERVER = "LookupMatch"."server";
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::ALL;

    /// Every field looked ahead for exists on its type in the served schema.
    #[tokio::test]
    async fn every_looked_ahead_field_is_in_the_schema() {
        let schema = crate::schema_builder(&crate::FederationConfig::default()).finish();
        let mut missing = Vec::new();
        for field in ALL {
            let query = format!(
                r#"{{ __type(name: "{}") {{ fields {{ name }} }} }}"#,
                field.on
            );
            let answer = schema.execute(query).await.data.into_json().unwrap();
            let found = answer["__type"]["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|f| f["name"] == field.name);
            if !found {
                missing.push(format!("{}.{}", field.on, field.name));
            }
        }
        assert!(
            missing.is_empty(),
            "looked ahead for, not in the schema: {missing:?}"
        );
    }
}
