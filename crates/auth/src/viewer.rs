//! Who is asking: the `Viewer` built from verified claims, its role, and what it may see.
//!
//! The rules of visibility live here, next to the roles, so that resolvers ask the viewer
//! (`can_see_personal_data`, `customer_scope`) instead of matching on roles themselves.

use serde_json::{Map, Value};

use crate::error::AuthError;

/// A licensedot role. Order of permissiveness: Admin > Sales > Support > Viewer > Customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything.
    Admin,
    /// Reads everything, personal data included.
    Sales,
    /// Reads everything, personal data included.
    Support,
    /// Reads everything with personal data (names, e-mails) masked.
    Viewer,
    /// Reads only the customers named in the token's customer ids.
    Customer,
}

impl Role {
    /// Every role, most permissive first.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Sales,
        Role::Support,
        Role::Viewer,
        Role::Customer,
    ];

    /// The name used in tokens and configuration (and, as a scope, in the subgraph SDL's
    /// `@requiresScopes`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Sales => "sales",
            Role::Support => "support",
            Role::Viewer => "viewer",
            Role::Customer => "customer",
        }
    }

    /// Parses a role name, case-insensitively; unknown names give `None` (they are ignored,
    /// since SSO groups carry many roles that are not ours).
    pub fn parse(name: &str) -> Option<Role> {
        match name.trim().to_ascii_lowercase().as_str() {
            "admin" => Some(Role::Admin),
            "sales" => Some(Role::Sales),
            "support" => Some(Role::Support),
            "viewer" => Some(Role::Viewer),
            "customer" => Some(Role::Customer),
            _ => None,
        }
    }

    /// Higher is more permissive.
    fn rank(self) -> u8 {
        match self {
            Role::Admin => 4,
            Role::Sales => 3,
            Role::Support => 2,
            Role::Viewer => 1,
            Role::Customer => 0,
        }
    }

    /// The effective role of a token with several roles: the most permissive one, where any
    /// non-customer role beats `customer` (a staff member who is also scoped to a customer
    /// keeps the staff view). `None` when the list holds no role.
    pub fn most_permissive(roles: &[Role]) -> Option<Role> {
        roles.iter().copied().max_by_key(|r| r.rank())
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authenticated (or, when auth is optional, anonymous) caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The token's `sub`; `"anonymous"` for the anonymous viewer.
    pub subject: String,
    pub email: Option<String>,
    /// The effective role (see [`Role::most_permissive`]).
    pub role: Role,
    /// Every known role the token carried, in token order, without duplicates.
    pub roles: Vec<Role>,
    /// Customer ids from the token; they only scope access when `role` is `Customer`.
    pub customer_ids: Vec<i64>,
}

impl Viewer {
    /// The caller without a token when authentication is optional: least privilege that can
    /// still read, i.e. `viewer` with personal data masked.
    pub fn anonymous() -> Viewer {
        Viewer {
            subject: "anonymous".into(),
            email: None,
            role: Role::Viewer,
            roles: vec![Role::Viewer],
            customer_ids: Vec::new(),
        }
    }

    /// Whether names and e-mails may be shown unmasked. A customer sees its own contacts
    /// (its scope is already limited to its own customers).
    pub fn can_see_personal_data(&self) -> bool {
        !matches!(self.role, Role::Viewer)
    }

    /// `None`: all customers. `Some(ids)`: only these (an empty slice sees nothing).
    pub fn customer_scope(&self) -> Option<&[i64]> {
        match self.role {
            Role::Customer => Some(&self.customer_ids),
            _ => None,
        }
    }

    /// Whether the viewer may see the customer with this id.
    pub fn can_see_customer(&self, customer_id: i64) -> bool {
        self.customer_scope()
            .is_none_or(|ids| ids.contains(&customer_id))
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The role that lets this viewer change a license's contact (`admin`, else `support`), or
    /// `None`: nobody else may, not even `sales`, whatever else the token carries.
    pub fn license_changing_role(&self) -> Option<Role> {
        [Role::Admin, Role::Support]
            .into_iter()
            .find(|role| self.has_role(*role))
    }

    /// Whether the viewer may manage webhooks (endpoints, their secrets and deliveries): `admin`
    /// only. Endpoints decide where licensedot sends data, and their deliveries carry it.
    pub fn can_manage_webhooks(&self) -> bool {
        self.has_role(Role::Admin)
    }

    /// Whether the viewer may read the whole audit trail (`auditEvents`): staff, not
    /// customer-scoped callers (who see their own licenses' events on the licenses).
    pub fn can_read_audit_trail(&self) -> bool {
        self.customer_scope().is_none()
    }
}

/// The claim names the mapping reads; a view of the config, so this module needs no config type.
pub(crate) struct ClaimNames<'a> {
    pub roles: &'a str,
    pub customer_ids: &'a str,
    pub email: &'a str,
}

/// Builds a viewer from verified claims. Rejects a token without `sub` or without any known
/// role; an ill-shaped roles or customer-ids claim is an error rather than silently narrowed,
/// so that a misconfigured issuer shows up as a precise error and not as an empty dashboard.
pub(crate) fn viewer_from_claims(
    claims: &Map<String, Value>,
    names: &ClaimNames<'_>,
) -> Result<Viewer, AuthError> {
    let subject = match claims.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => return Err(AuthError::InvalidClaim("sub".into())),
        None => return Err(AuthError::MissingClaim("sub".into())),
    };
    // An address the issuer says it has not verified could be anyone's: the caller is then
    // known by its subject alone. (Access tokens rarely say; an absent claim keeps the address.)
    let unverified = claims
        .get("email_verified")
        .is_some_and(|verified| verified != &Value::Bool(true));
    let email = match find_claim(claims, names.email) {
        Some(Value::String(s)) if !s.is_empty() && !unverified => Some(s.clone()),
        _ => None,
    };
    let roles = parse_roles(find_claim(claims, names.roles), names.roles)?;
    let role = Role::most_permissive(&roles).ok_or(AuthError::NoRole)?;
    let customer_ids =
        parse_customer_ids(find_claim(claims, names.customer_ids), names.customer_ids)?;
    Ok(Viewer {
        subject,
        email,
        role,
        roles,
        customer_ids,
    })
}

/// A claim by exact name first (Auth0-style names such as `https://x.example/roles` contain
/// dots), then as a dotted path into nested objects (Keycloak's `realm_access.roles`).
pub fn find_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let mut current = claims.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

fn parse_roles(value: Option<&Value>, claim: &str) -> Result<Vec<Role>, AuthError> {
    let names: Vec<&str> = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split_whitespace().collect(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(_) => return Err(AuthError::InvalidClaim(claim.into())),
    };
    let mut roles = Vec::new();
    for role in names.into_iter().filter_map(Role::parse) {
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(roles)
}

fn parse_customer_ids(value: Option<&Value>, claim: &str) -> Result<Vec<i64>, AuthError> {
    let one = |v: &Value| -> Result<i64, AuthError> {
        match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| AuthError::InvalidClaim(claim.into()))
    };
    let mut ids = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(one).collect::<Result<Vec<_>, _>>()?,
        Some(scalar) => vec![one(scalar)?],
    };
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Masks an e-mail address for viewers without access to personal data:
/// `jane.doe@acmeinc.com` becomes `j***@acmeinc.com`. The domain stays, since it tells which
/// company a contact belongs to, which the `viewer` role may know.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{domain}", mask_word(local)),
        None => mask_word(email),
    }
}

/// Masks a person's name word by word: `Jane Doe` becomes `J*** D***`.
pub fn mask_name(name: &str) -> String {
    name.split_whitespace()
        .map(mask_word)
        .collect::<Vec<_>>()
        .join(" ")
}

/// First character, then a fixed `***` so that the mask does not reveal the length.
fn mask_word(word: &str) -> String {
    match word.chars().next() {
        Some(first) => format!("{first}***"),
        None => "***".into(),
    }
}
