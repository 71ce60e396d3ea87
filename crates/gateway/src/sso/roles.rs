//! The provider's groups to licensedot roles: `[gateway.sso] role_mapping`. The result is the
//! same `Viewer` a bearer token yields, so masking and customer scoping are unchanged.

use auth::{Role, Viewer};
use serde_json::{Map, Value};

use super::config::{MappedRole, SsoConfig};

/// Group names to roles, parsed once at start.
#[derive(Clone, Debug)]
pub(crate) struct RoleMapping {
    claim: String,
    /// Whether a single string lists groups separated by spaces (else it is one group).
    space_separated: bool,
    /// Lower-cased group name → role (group names compare case-insensitively, as roles do in
    /// tokens).
    groups: Vec<(String, MappedRole)>,
}

/// Why a signed-in person gets no viewer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum MappingError {
    /// None of the person's groups maps to a role.
    NoMappedGroup,
    /// The groups claim is neither a string nor an array of strings.
    MalformedClaim,
}

impl RoleMapping {
    /// The mapping of a validated configuration (invalid entries were refused at start).
    pub(crate) fn new(config: &SsoConfig) -> Result<Self, String> {
        let groups = config
            .role_mapping
            .iter()
            .map(|(group, role)| Ok((group.to_lowercase(), MappedRole::parse(role)?)))
            .collect::<Result<_, String>>()?;
        Ok(Self {
            claim: config.groups_claim.clone(),
            space_separated: config.groups_space_separated,
            groups,
        })
    }

    /// The viewer of a verified ID token: `subject` and `email` from it, roles from its groups.
    pub(crate) fn viewer(
        &self,
        subject: &str,
        email: Option<String>,
        claims: &Map<String, Value>,
    ) -> Result<Viewer, MappingError> {
        let names: Vec<String> = match auth::find_claim(claims, &self.claim) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) if self.space_separated => {
                s.split_whitespace().map(str::to_lowercase).collect()
            }
            // One group, named as it is: "Marketing Admins" is not the group "admins".
            Some(Value::String(s)) => vec![s.trim().to_lowercase()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_lowercase))
                .collect::<Option<_>>()
                .ok_or(MappingError::MalformedClaim)?,
            Some(_) => return Err(MappingError::MalformedClaim),
        };
        let mut roles = Vec::new();
        let mut customer_ids = Vec::new();
        for (_, mapped) in self.groups.iter().filter(|(g, _)| names.contains(g)) {
            let role = match *mapped {
                MappedRole::Staff(role) => role,
                MappedRole::Customer(id) => {
                    customer_ids.push(id);
                    Role::Customer
                }
            };
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        customer_ids.sort_unstable();
        customer_ids.dedup();
        let role = Role::most_permissive(&roles).ok_or(MappingError::NoMappedGroup)?;
        Ok(Viewer {
            subject: subject.to_owned(),
            email,
            role,
            roles,
            customer_ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn mapping(claim: &str, pairs: &[(&str, &str)]) -> RoleMapping {
        mapping_with(claim, pairs, false)
    }

    fn mapping_with(claim: &str, pairs: &[(&str, &str)], space_separated: bool) -> RoleMapping {
        let config = SsoConfig {
            groups_claim: claim.to_owned(),
            groups_space_separated: space_separated,
            role_mapping: pairs
                .iter()
                .map(|(g, r)| ((*g).to_owned(), (*r).to_owned()))
                .collect(),
            ..SsoConfig::default()
        };
        RoleMapping::new(&config).unwrap_or_else(|e| panic!("{e}"))
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_most_permissive_mapped_group_wins_and_others_are_ignored() {
        let m = mapping(
            "groups",
            &[("okta-sales", "sales"), ("okta-view", "viewer")],
        );
        let viewer = m
            .viewer(
                "u1",
                None,
                &claims(json!({"groups": ["Everyone", "OKTA-VIEW", "okta-sales"]})),
            )
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(viewer.role, Role::Sales);
        assert_eq!(viewer.roles, vec![Role::Sales, Role::Viewer]);
        assert_eq!(viewer.customer_scope(), None);
    }

    #[test]
    fn customer_groups_scope_the_viewer_to_their_customers() {
        let m = mapping_with(
            "realm_access.roles",
            &[("acme", "customer:1"), ("globex", "customer:7")],
            true,
        );
        let viewer = m
            .viewer(
                "u2",
                Some("p@acme.example".to_owned()),
                &claims(json!({"realm_access": {"roles": "globex acme"}})),
            )
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(viewer.role, Role::Customer);
        assert_eq!(viewer.customer_scope(), Some(&[1, 7][..]));
    }

    #[test]
    fn a_single_string_is_one_group_unless_configured_as_a_list() {
        let m = mapping(
            "groups",
            &[("admins", "admin"), ("marketing admins", "viewer")],
        );
        let viewer = m
            .viewer("u4", None, &claims(json!({"groups": "Marketing Admins"})))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(viewer.roles, vec![Role::Viewer]);
        let only_admins = mapping("groups", &[("admins", "admin")]);
        assert_eq!(
            only_admins.viewer("u4", None, &claims(json!({"groups": "Marketing Admins"}))),
            Err(MappingError::NoMappedGroup)
        );
        let listed = mapping_with("groups", &[("admins", "admin")], true);
        let viewer = listed
            .viewer("u4", None, &claims(json!({"groups": "Marketing Admins"})))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(viewer.role, Role::Admin);
    }

    #[test]
    fn no_mapped_group_or_a_malformed_claim_is_refused() {
        let m = mapping("groups", &[("okta-sales", "sales")]);
        assert_eq!(
            m.viewer("u3", None, &claims(json!({"groups": ["marketing"]}))),
            Err(MappingError::NoMappedGroup)
        );
        assert_eq!(
            m.viewer("u3", None, &claims(json!({}))),
            Err(MappingError::NoMappedGroup)
        );
        assert_eq!(
            m.viewer("u3", None, &claims(json!({"groups": [1, 2]}))),
            Err(MappingError::MalformedClaim)
        );
    }
}
